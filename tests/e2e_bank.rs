//! End-to-end: the bank's new fields on every surface. Reveals (reaction in reply, edit and
//! DM mode, and the button) show the answer and then its key points; the daily post's thread
//! opens with the follow-ups; a quiz offers the question's `quiz_answer` among its own
//! distractors and explains the answer when the question closes.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::SignedDuration;
use prepbot::bank::Bank;
use prepbot::config::RevealMode;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

const ID: &str = "acid-properties";

/// The shipped seed file, copied into `dir` (where the bot's config will look), loaded.
fn seed_bank(dir: &std::path::Path) -> Bank {
    Bank::load(&[copy_bank(dir)]).unwrap()
}

/// `/ask id:acid-properties` in `mode`, a 💡 from a member, and the text of what was revealed.
async fn reveal_text(mode: RevealMode) -> (String, Bank) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&fake, dir.path());
    cfg.reveal.mode = mode;
    let bank = seed_bank(dir.path());
    let bot = start(&fake, cfg, options(SignedDuration::ZERO)).await;
    let cmd = fake.slash_command("ask", &[], json!({"id": ID}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await;
    fake.wait_for(
        |r| r.method == "PUT" && r.path.contains("/reactions/"),
        WAIT,
    )
    .await;
    let question_id: u64 = fake.messages(CHANNEL_ID).last().unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, question_id, &MEMBER, "💡"),
    );
    let text = match mode {
        RevealMode::Reply => {
            let reply = eventually("the reply", || {
                fake.messages(CHANNEL_ID).into_iter().find(|m| {
                    m["message_reference"]["message_id"] == json!(question_id.to_string())
                })
            })
            .await;
            embed_text(&reply)
        }
        RevealMode::Edit => {
            eventually("the edit", || {
                let m = fake.message(question_id)?;
                let t = embed_text(&m);
                t.contains("Key points").then_some(t)
            })
            .await
        }
        RevealMode::Dm => {
            let r = fake
                .wait_for(
                    |r| {
                        r.method == "POST"
                            && r.path.ends_with("/messages")
                            && r.path != format!("/channels/{CHANNEL_ID}/messages")
                    },
                    WAIT,
                )
                .await;
            embed_text(&r.body)
        }
    };
    fake.assert_no_schema_violations();
    bot.shutdown().await;
    (text, bank)
}

fn assert_answer_then_key_points(text: &str, bank: &Bank) {
    let q = bank.get(ID).unwrap();
    let answer_at = text
        .find(&q.answer[..40])
        .unwrap_or_else(|| panic!("no answer in {text}"));
    let points_at = text
        .find("Key points")
        .unwrap_or_else(|| panic!("no key points in {text}"));
    assert!(answer_at < points_at, "the answer comes first: {text}");
    for p in &q.key_points {
        assert!(
            text.contains(p.as_str()),
            "missing key point {p:?} in {text}"
        );
    }
}

#[tokio::test]
async fn reveals_show_the_answer_then_its_key_points_in_every_mode() {
    for mode in [RevealMode::Reply, RevealMode::Edit, RevealMode::Dm] {
        let (text, bank) = reveal_text(mode).await;
        assert_answer_then_key_points(&text, &bank);
    }
}

#[tokio::test]
async fn the_reveal_button_shows_key_points_too() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bank = seed_bank(dir.path());
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(SignedDuration::ZERO),
    )
    .await;
    let cmd = fake.slash_command("ask", &[], json!({"id": ID}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await;
    let msg = eventually("the question", || {
        fake.messages(CHANNEL_ID).into_iter().last()
    })
    .await;
    let custom_id = msg["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    let click = fake.button_click(&custom_id, &msg, &OWNER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let cb = fake.wait_callback(&click, WAIT).await;
    assert!(is_ephemeral(callback_data(&cb)));
    assert_answer_then_key_points(&embed_text(callback_data(&cb)), &bank);
    bot.shutdown().await;
}

/// The clock offset that makes the bot's "now" the given UTC wall time.
#[allow(clippy::disallowed_methods)]
fn offset_to_utc(at: &str) -> SignedDuration {
    let target: jiff::Timestamp = at.parse().unwrap();
    target.duration_since(jiff::Timestamp::now())
}

#[tokio::test]
async fn the_daily_thread_opens_with_the_follow_ups() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bank = seed_bank(dir.path());
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(offset_to_utc("2026-03-10T08:59:57Z")),
    )
    .await;
    let set = fake.slash_command(
        "daily",
        &["set"],
        json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": "UTC",
               "category": "transactions"}),
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", set.clone());
    fake.wait_callback(&set, WAIT).await;
    let thread = fake
        .wait_for(|r| r.method == "POST" && r.path.ends_with("/threads"), WAIT)
        .await;
    // A thread started from a message has the message's id, on Discord and in the fake.
    let thread_id: u64 = thread.path.split('/').nth(4).unwrap().parse().unwrap();
    let opening = eventually("the thread's opening message", || {
        fake.messages(thread_id).into_iter().next()
    })
    .await;
    let text = opening["content"].as_str().unwrap_or_default().to_string() + &embed_text(&opening);
    let q = bank.get(ID).unwrap();
    assert!(!q.follow_ups.is_empty());
    for f in &q.follow_ups {
        assert!(
            text.contains(f.as_str()),
            "missing follow-up {f:?} in {text}"
        );
    }
    assert_no_unwanted_mentions(&fake, None);
    // Exactly one opening message, even though the scheduler wakes again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.messages(thread_id).len(), 1);
    bot.shutdown().await;
}

fn choices(question: &Value) -> BTreeSet<String> {
    question["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| ["A", "B", "C", "D"].contains(&f["name"].as_str().unwrap_or("")))
        .map(|f| f["value"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_quiz_offers_the_quiz_answer_among_the_questions_own_distractors() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bank = seed_bank(dir.path());
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(SignedDuration::ZERO),
    )
    .await;
    // `transactions` holds one question in the seed file: acid-properties.
    let start_cmd = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": 1, "seconds": 2, "category": "transactions"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", start_cmd.clone());
    fake.wait_callback(&start_cmd, WAIT).await;
    let question = eventually("the question", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Quiz · question 1/"))
        })
    })
    .await;
    let q = bank.get(ID).unwrap();
    let mut expected: BTreeSet<String> = q.distractors.iter().cloned().collect();
    expected.insert(q.quiz_answer.clone().unwrap());
    assert_eq!(q.distractors.len(), 3, "all three fit: the set is exact");
    assert_eq!(choices(&question), expected);
    // When it closes, the answer and the explanation are shown.
    let results = eventually("the results", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Question 1/1: the answer is"))
        })
    })
    .await;
    let text = embed_text(&results);
    assert!(text.contains(q.quiz_answer.as_deref().unwrap()), "{text}");
    assert!(text.contains(q.explanation.as_deref().unwrap()), "{text}");
    bot.shutdown().await;
}
