//! End-to-end: personal practice against the fake Discord — a `/practice` session with
//! Reveal, grades and Next; the schedule after a restart; a forged owner refused; grades under
//! the answers revealed from `/ask` and from a daily post; a quiz answer as a review; `/stats`;
//! a streak over three days the bot believes are passing (clock offsets).

mod support;

use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use prepbot::bank::Bank;
use prepbot::discord::Bot;
use prepbot::practice::{Grade, ReviewSource};
use serde_json::{json, Value};
use support::bot::*;
use support::*;

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// Starts the bot on `dir` with `new_per_day` new cards a day and its clock shifted by
/// `offset`.
async fn boot(fake: &FakeDiscord, dir: &Path, new_per_day: u32, offset: SignedDuration) -> Bot {
    let mut c = config(fake, dir);
    c.practice.new_per_day = new_per_day;
    start(fake, c, options(offset)).await
}

/// The message an interaction's response created (ephemeral ones included).
fn response_message(fake: &FakeDiscord, interaction: &Value, channel_id: u64) -> Value {
    fake.messages(channel_id)
        .into_iter()
        .find(|m| m["interaction_metadata"]["id"] == interaction["id"])
        .unwrap_or_else(|| panic!("no message for interaction {}", interaction["id"]))
}

/// `/practice` as `user`: the ephemeral card message.
async fn practice(fake: &FakeDiscord, user: &TestUser, options: Value) -> Value {
    let cmd = fake.slash_command("practice", &[], options, user, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    assert!(is_ephemeral(callback_data(&cb)), "{}", cb.body);
    response_message(fake, &cmd, CHANNEL_ID)
}

fn buttons(m: &Value) -> Vec<Value> {
    m["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn labels(m: &Value) -> Vec<String> {
    buttons(m)
        .iter()
        .map(|b| b["label"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn button_id(m: &Value, label: &str) -> String {
    buttons(m)
        .into_iter()
        .find(|b| b["label"] == label)
        .and_then(|b| b["custom_id"].as_str().map(String::from))
        .unwrap_or_else(|| panic!("no {label:?} button on {m}"))
}

fn message_id(m: &Value) -> u64 {
    m["id"].as_str().unwrap().parse().unwrap()
}

fn channel_of(m: &Value) -> u64 {
    m["channel_id"].as_str().unwrap().parse().unwrap()
}

/// Clicks the button labelled `label` on `m` as `user`; returns the callback body.
async fn click(fake: &FakeDiscord, m: &Value, label: &str, user: &TestUser) -> Value {
    click_id(fake, m, &button_id(m, label), user).await
}

async fn click_id(fake: &FakeDiscord, m: &Value, custom_id: &str, user: &TestUser) -> Value {
    let c = fake.button_click(custom_id, m, user, channel_of(m));
    fake.dispatch("INTERACTION_CREATE", c.clone());
    let cb = fake.wait_callback(&c, WAIT).await;
    assert!(
        cb.status < 300,
        "callback refused: {} {}",
        cb.status,
        cb.body
    );
    cb.body
}

/// A click answered by updating the clicked message (type 7): the message as it is now.
async fn click_update(fake: &FakeDiscord, m: &Value, label: &str, user: &TestUser) -> Value {
    let body = click(fake, m, label, user).await;
    assert_eq!(body["type"], json!(7), "{body}");
    fake.message(message_id(m)).expect("the clicked message")
}

/// A click answered with a new ephemeral message: its text.
fn ephemeral_reply(body: &Value) -> String {
    assert_eq!(body["type"], json!(4), "{body}");
    assert!(is_ephemeral(&body["data"]), "{body}");
    body["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
        + &embed_text(&body["data"])
}

fn shown_id(m: &Value) -> String {
    let fields = m["embeds"][0]["fields"].as_array().expect("fields");
    let f = fields.iter().find(|f| f["name"] == "ID").expect("ID field");
    f["value"].as_str().unwrap().trim_matches('`').to_string()
}

fn title(m: &Value) -> &str {
    m["embeds"][0]["title"].as_str().unwrap_or_default()
}

fn footer(m: &Value) -> &str {
    m["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default()
}

/// The instant of the first `<t:…:R>` in a message's embeds.
fn relative_time(m: &Value) -> Timestamp {
    let text = embed_text(m);
    let start = text.find("<t:").expect("a timestamp") + 3;
    let secs: i64 = text[start..].split(':').next().unwrap().parse().unwrap();
    Timestamp::from_second(secs).unwrap()
}

/// The bot's "now".
fn bot_now(bot: &Bot) -> Timestamp {
    bot.app.clock.now()
}

fn assert_about(got: Timestamp, want: Timestamp) {
    let diff = got.duration_since(want).abs();
    assert!(diff < SignedDuration::from_secs(30), "{got} is not {want}");
}

fn finish(fake: &FakeDiscord) {
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(fake, None);
}

#[tokio::test]
async fn a_practice_session_with_reveal_grades_and_next() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 3, SignedDuration::ZERO).await;

    let card = practice(&fake, &MEMBER, json!({})).await;
    assert_eq!(title(&card), "🃏 Practice · new card");
    assert_eq!(footer(&card), "0 due · 3 new today");
    assert_eq!(
        labels(&card),
        ["Reveal", "Next", "Again", "Hard", "Good", "Easy"]
    );
    let first = shown_id(&card);

    // Reveal: the model answer joins the card, Reveal goes, the grades stay.
    let revealed = click_update(&fake, &card, "Reveal", &MEMBER).await;
    let text = embed_text(&revealed);
    assert!(text.contains("💡 Model answer"), "{text}");
    assert_eq!(title(&revealed), "🃏 Practice · new card");
    assert_eq!(labels(&revealed), ["Next", "Again", "Hard", "Good", "Easy"]);

    // Good on a new card: back in 3 days, and the message says when.
    let graded = click_update(&fake, &revealed, "Good", &MEMBER).await;
    let text = embed_text(&graded);
    assert!(text.contains("Graded **Good**"), "{text}");
    let due = relative_time(&graded);
    assert_about(due, bot_now(&bot) + 3 * DAY);
    assert_eq!(labels(&graded), ["Next"]);
    let stored = bot
        .app
        .store
        .practice_card(MEMBER.id, &first)
        .await
        .unwrap();
    assert_eq!(
        stored.map(|c| (c.reps, c.due.as_second())),
        Some((1, due.as_second()))
    );

    // A second click on the Good button of the card as shown before the grade (a double
    // click) is refused, not counted twice.
    let stale = click(&fake, &revealed, "Good", &MEMBER).await;
    let text = ephemeral_reply(&stale);
    assert!(text.contains("already graded"), "{text}");
    assert_eq!(
        bot.app
            .store
            .practice_card(MEMBER.id, &first)
            .await
            .unwrap()
            .unwrap()
            .reps,
        1
    );

    // Next: another new card, one fewer left today. Again without revealing.
    let second = click_update(&fake, &graded, "Next", &MEMBER).await;
    assert_eq!(footer(&second), "0 due · 2 new today");
    let second_id = shown_id(&second);
    assert_ne!(second_id, first);
    let graded = click_update(&fake, &second, "Again", &MEMBER).await;
    assert_about(relative_time(&graded), bot_now(&bot) + DAY);

    // Next without grading passes the card by; with nothing else left it would come back.
    let third = click_update(&fake, &graded, "Next", &MEMBER).await;
    let third_id = shown_id(&third);
    assert!(![&first, &second_id].contains(&&third_id));
    let fourth = click_update(&fake, &third, "Next", &MEMBER).await;
    assert_eq!(
        shown_id(&fourth),
        third_id,
        "the only card left today comes back"
    );
    let graded = click_update(&fake, &fourth, "Easy", &MEMBER).await;
    assert_about(relative_time(&graded), bot_now(&bot) + 15 * DAY);

    // Today's three new cards are done: the queue says when the next review is due.
    let empty = click_update(&fake, &graded, "Next", &MEMBER).await;
    let text = embed_text(&empty);
    assert!(text.contains("Nothing to practise right now"), "{text}");
    assert!(text.contains("today's 3 new cards"), "{text}");
    assert_about(relative_time(&empty), bot_now(&bot) + DAY);
    assert!(buttons(&empty).is_empty());

    let log = bot.app.store.practice_activity(MEMBER.id).await.unwrap();
    let grades: Vec<(Option<Grade>, ReviewSource)> =
        log.iter().map(|a| (a.grade, a.source)).collect();
    assert_eq!(
        grades,
        [
            (Some(Grade::Good), ReviewSource::Practice),
            (Some(Grade::Again), ReviewSource::Practice),
            (Some(Grade::Easy), ReviewSource::Practice),
        ]
    );
    assert!(log.iter().all(|a| a.guild_id == Some(GUILD_ID)));
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn filters_apply_and_next_keeps_them() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;
    let bank = Bank::load(&[dir.path().join("questions.toml")]).unwrap();
    let category_of = |id: &str| bank.get(id).unwrap().category.clone();

    let mut card = practice(&fake, &MEMBER, json!({"category": "behavioral"})).await;
    // The seed file has 4 behavioral questions: all of them, then the empty queue.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let id = shown_id(&card);
        assert_eq!(category_of(&id), "behavioral");
        seen.push(id);
        let graded = click_update(&fake, &card, "Hard", &MEMBER).await;
        card = click_update(&fake, &graded, "Next", &MEMBER).await;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    let text = embed_text(&card);
    assert!(text.contains("category behavioral"), "{text}");
    assert!(text.contains("met every matching question"), "{text}");

    // An unknown category is the member's mistake, explained.
    let cmd = fake.slash_command(
        "practice",
        &[],
        json!({"category": "behavorial"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    let text = cb.body["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("Did you mean `behavioral`"), "{text}");
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn the_schedule_survives_a_restart() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 1, SignedDuration::ZERO).await;
    let card = practice(&fake, &MEMBER, json!({})).await;
    let id = shown_id(&card);
    let graded = click_update(&fake, &card, "Again", &MEMBER).await;
    let due = relative_time(&graded);
    bot.shutdown().await;

    // The same database, a new bot: the card is not due yet, and the empty queue knows when.
    let bot = boot(&fake, dir.path(), 1, SignedDuration::ZERO).await;
    let empty = practice(&fake, &MEMBER, json!({})).await;
    assert!(embed_text(&empty).contains("Nothing to practise"));
    assert_eq!(relative_time(&empty), due);
    bot.shutdown().await;

    // A day and a bit later: the card is due, before any new card.
    let bot = boot(&fake, dir.path(), 1, DAY + SignedDuration::from_hours(2)).await;
    let review = practice(&fake, &MEMBER, json!({})).await;
    assert_eq!(title(&review), "🃏 Practice · review");
    assert_eq!(shown_id(&review), id);
    assert_eq!(footer(&review), "1 due · 1 new today");
    let graded = click_update(&fake, &review, "Good", &MEMBER).await;
    assert!(relative_time(&graded) > bot_now(&bot) + DAY);
    assert_eq!(
        bot.app
            .store
            .practice_card(MEMBER.id, &id)
            .await
            .unwrap()
            .unwrap()
            .reps,
        2
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_forged_owner_is_refused() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;
    let card = practice(&fake, &MEMBER, json!({})).await;
    let outsider = fake.new_user("mallory");
    for label in ["Reveal", "Good", "Next"] {
        let body = click(&fake, &card, label, &outsider).await;
        let text = ephemeral_reply(&body);
        assert!(
            text.contains("another member's practice"),
            "{label}: {text}"
        );
    }
    // The owner's card is untouched and nobody's schedule moved.
    assert_eq!(
        fake.message(message_id(&card)).unwrap()["embeds"],
        card["embeds"]
    );
    assert!(bot
        .app
        .store
        .practice_cards(MEMBER.id)
        .await
        .unwrap()
        .is_empty());
    assert!(bot
        .app
        .store
        .practice_cards(outsider.id)
        .await
        .unwrap()
        .is_empty());
    // A custom id rewritten to name the outsider as owner, clicked by the member: refused too.
    let good = button_id(&card, "Good");
    let owner36 = good.split(':').nth(1).unwrap().to_string();
    let forged = good.replacen(&owner36, &base36(outsider.id), 1);
    let body = click_id(&fake, &card, &forged, &MEMBER).await;
    assert!(ephemeral_reply(&body).contains("another member's practice"));
    assert!(bot
        .app
        .store
        .practice_cards(MEMBER.id)
        .await
        .unwrap()
        .is_empty());
    // The owner's own click works.
    let graded = click_update(&fake, &card, "Good", &MEMBER).await;
    assert!(embed_text(&graded).contains("Graded **Good**"));
    finish(&fake);
    bot.shutdown().await;
}

fn base36(mut v: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while v > 0 {
        out.push(digits[(v % 36) as usize]);
        v /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// The ephemeral answer the "Reveal answer" button of `post` shows `user`.
async fn reveal_with_button(fake: &FakeDiscord, post: &Value, user: &TestUser) -> Value {
    let c = fake.button_click(
        &button_id(post, "Reveal answer"),
        post,
        user,
        channel_of(post),
    );
    fake.dispatch("INTERACTION_CREATE", c.clone());
    let cb = fake.wait_callback(&c, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    assert!(is_ephemeral(&cb.body["data"]));
    response_message(fake, &c, channel_of(post))
}

/// `/daily set` (03:00 Berlin, in the other channel) and `/daily post`: the post.
async fn daily_post(fake: &FakeDiscord) -> Value {
    for (sub, options) in [
        (
            "set",
            json!({"channel": OTHER_CHANNEL_ID, "time": "03:00", "timezone": "Europe/Berlin"}),
        ),
        ("post", json!({})),
    ] {
        let cmd = fake.slash_command("daily", &[sub], options, &ADMIN, CHANNEL_ID);
        fake.dispatch("INTERACTION_CREATE", cmd.clone());
        fake.wait_callback(&cmd, WAIT).await;
    }
    eventually("the daily post", || {
        fake.messages(OTHER_CHANNEL_ID)
            .into_iter()
            .find(|m| footer(m).starts_with("Question of the day #") && !buttons(m).is_empty())
    })
    .await
}

#[tokio::test]
async fn grades_under_answers_revealed_from_ask_and_from_the_daily_post() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;

    // /ask: the Reveal answer button shows the answer with the four grades, for the clicker.
    let ask = fake.slash_command(
        "ask",
        &[],
        json!({"id": "ci-cd-explained"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", ask.clone());
    fake.wait_callback(&ask, WAIT).await;
    let question = response_message(&fake, &ask, CHANNEL_ID);
    let answer = reveal_with_button(&fake, &question, &MEMBER).await;
    assert!(embed_text(&answer).contains("CI/CD is a practice"));
    assert_eq!(labels(&answer), ["Again", "Hard", "Good", "Easy"]);
    let graded = click_update(&fake, &answer, "Good", &MEMBER).await;
    let text = embed_text(&graded);
    assert!(
        text.contains("Graded **Good**") && text.contains("CI/CD is a practice"),
        "{text}"
    );
    assert!(buttons(&graded).is_empty());
    let card = bot
        .app
        .store
        .practice_card(MEMBER.id, "ci-cd-explained")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.reps, 1);
    // Someone else's reveal of the same question gives them their own buttons.
    let carol = fake.new_user("carol");
    let theirs = reveal_with_button(&fake, &question, &carol).await;
    let body = click(&fake, &theirs, "Hard", &MEMBER).await;
    assert!(ephemeral_reply(&body).contains("another member's practice"));

    // The daily post: revealing counts for the streak; a grade is a review from "daily".
    let post = daily_post(&fake).await;
    let daily_id = shown_id(&post);
    let answer = reveal_with_button(&fake, &post, &MEMBER).await;
    // Pressing the button twice is one reveal.
    reveal_with_button(&fake, &post, &MEMBER).await;
    click_update(&fake, &answer, "Hard", &MEMBER).await;
    // A 💡 reaction by carol counts as her reveal.
    let reaction = fake.reaction_add(OTHER_CHANNEL_ID, message_id(&post), &carol, "💡");
    fake.dispatch("MESSAGE_REACTION_ADD", reaction);
    eventually("carol's reveal", || {
        let log = futures::executor::block_on(bot.app.store.practice_activity(carol.id)).unwrap();
        (!log.is_empty()).then_some(log)
    })
    .await;

    let log: Vec<(String, Option<Grade>, ReviewSource)> = bot
        .app
        .store
        .practice_activity(MEMBER.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.question_id, a.grade, a.source))
        .collect();
    assert_eq!(
        log,
        [
            (
                "ci-cd-explained".into(),
                Some(Grade::Good),
                ReviewSource::Ask
            ),
            (daily_id.clone(), None, ReviewSource::Daily),
            (daily_id.clone(), Some(Grade::Hard), ReviewSource::Daily),
        ]
    );
    let carol_log = bot.app.store.practice_activity(carol.id).await.unwrap();
    assert_eq!(carol_log.len(), 1);
    assert_eq!(
        (
            carol_log[0].grade,
            carol_log[0].source,
            carol_log[0].tz.as_deref()
        ),
        (None, ReviewSource::Daily, Some("Europe/Berlin"))
    );
    // A reaction on an /ask message is no daily reveal.
    let reaction = fake.reaction_add(CHANNEL_ID, message_id(&question), &carol, "💡");
    fake.dispatch("MESSAGE_REACTION_ADD", reaction);
    eventually("the reveal reply", || {
        fake.messages(CHANNEL_ID)
            .into_iter()
            .find(|m| m["message_reference"]["message_id"] == question["id"])
    })
    .await;
    assert_eq!(
        bot.app
            .store
            .practice_activity(carol.id)
            .await
            .unwrap()
            .len(),
        1
    );
    finish(&fake);
    bot.shutdown().await;
}

/// A one-question quiz in `CHANNEL_ID`: `right` answers correctly, `wrong` does not. Returns
/// the question's id once its results are out.
async fn quiz_round(
    fake: &FakeDiscord,
    dir: &Path,
    right: &TestUser,
    wrong: &[&TestUser],
) -> String {
    let bank = Bank::load(&[dir.join("questions.toml")]).unwrap();
    let start = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": 1, "seconds": 2}),
        right,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", start.clone());
    fake.wait_callback(&start, WAIT).await;
    let q = eventually("the quiz question", || {
        fake.messages(CHANNEL_ID)
            .into_iter()
            .find(|m| title(m).starts_with("Quiz · question 1/"))
    })
    .await;
    let correct = correct_choice(&bank, &q);
    let ids: Vec<String> = buttons(&q)
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .collect();
    click_id(fake, &q, &ids[correct], right).await;
    for u in wrong {
        click_id(fake, &q, &ids[(correct + 1) % 4], u).await;
    }
    eventually("the results", || {
        fake.messages(CHANNEL_ID)
            .into_iter()
            .find(|m| title(m).starts_with("Question 1/"))
    })
    .await;
    let prompt = q["embeds"][0]["description"].as_str().unwrap();
    bank.questions()
        .iter()
        .find(|b| b.question == prompt)
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn a_quiz_answer_is_a_review() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;
    let carol = fake.new_user("carol");
    let id = quiz_round(&fake, dir.path(), &MEMBER, &[&carol]).await;
    let store = &bot.app.store;
    let (mine, hers) = eventually("both reviews", || {
        Some((
            futures::executor::block_on(store.practice_card(MEMBER.id, &id)).unwrap()?,
            futures::executor::block_on(store.practice_card(carol.id, &id)).unwrap()?,
        ))
    })
    .await;
    // Right is Good (3 days for a new card), wrong is Again (1 day).
    assert_eq!((mine.reps, hers.reps), (1, 1));
    assert_about(mine.due, mine.last_review + 3 * DAY);
    assert_about(hers.due, hers.last_review + DAY);
    let log = store.practice_activity(carol.id).await.unwrap();
    assert_eq!(
        (log[0].grade, log[0].source, log[0].guild_id),
        (Some(Grade::Again), ReviewSource::Quiz, Some(GUILD_ID))
    );
    // The card joins the member's practice: it is due when FSRS says, not before.
    let card = practice(&fake, &carol, json!({})).await;
    assert_ne!(shown_id(&card), id);
    finish(&fake);
    bot.shutdown().await;
}

/// The value of the embed field `name`.
fn field(m: &Value, name: &str) -> String {
    m["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name:?} in {m}"))
        .to_string()
}

async fn stats(fake: &FakeDiscord, user: &TestUser) -> Value {
    let cmd = fake.slash_command("stats", &[], json!({}), user, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    assert!(is_ephemeral(callback_data(&cb)));
    callback_data(&cb).clone()
}

#[tokio::test]
async fn stats_show_the_members_numbers() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;
    let bank = Bank::load(&[dir.path().join("questions.toml")]).unwrap();

    let before = stats(&fake, &MEMBER).await;
    assert_eq!(field(&before, "Cards seen"), "0");
    assert_eq!(field(&before, "Retention (30 days)"), "no grades yet");
    assert!(field(&before, "Accuracy by topic").contains("Nothing answered yet"));

    // Good (3 days), Again (1 day), Easy (15 days).
    let mut card = practice(&fake, &MEMBER, json!({})).await;
    let mut topics = Vec::new();
    for grade in ["Good", "Again", "Easy"] {
        topics.push(bank.get(&shown_id(&card)).unwrap().category.clone());
        let graded = click_update(&fake, &card, grade, &MEMBER).await;
        card = click_update(&fake, &graded, "Next", &MEMBER).await;
    }
    let s = stats(&fake, &MEMBER).await;
    assert_eq!(field(&s, "Cards seen"), "3");
    assert_eq!(field(&s, "Due"), "0 today · 2 this week");
    assert_eq!(field(&s, "Retention (30 days)"), "67% of 3 grades");
    assert_eq!(field(&s, "Streak"), "🔥 1 day · best 1");
    assert_eq!(
        field(&s, "Last 12 weeks"),
        "active on 1 day · reviews and reveals: 3"
    );
    let accuracy = field(&s, "Accuracy by topic");
    let total: u32 = accuracy
        .lines()
        .map(|l| {
            let (_, rest) = l.split_once(" — ").unwrap();
            rest.split('/')
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, 3, "{accuracy}");
    for topic in &topics {
        let shown = prepbot::discord::render::display_name(topic);
        assert!(accuracy.contains(&format!("{shown} — ")), "{accuracy}");
    }
    assert!(footer(&s).contains("UTC"), "no daily schedule: UTC days");
    // Another member's numbers are theirs.
    let other = stats(&fake, &ADMIN).await;
    assert_eq!(field(&other, "Cards seen"), "0");
    finish(&fake);
    bot.shutdown().await;
}

/// The offset that makes the bot's "now" a Berlin wall time.
// The shift is measured from the real clock, which the bot itself may not read.
#[allow(clippy::disallowed_methods)]
fn offset_to_berlin(local: &str) -> SignedDuration {
    let target = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", local)
        .unwrap()
        .in_tz("Europe/Berlin")
        .unwrap()
        .timestamp();
    target.duration_since(Timestamp::now())
}

#[tokio::test]
async fn a_streak_across_three_days() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();

    // Day 1, 20:00 in Berlin: the server's daily zone is set; a practice grade.
    let bot = boot(&fake, dir.path(), 10, offset_to_berlin("2027-03-27 20:00")).await;
    let post = daily_post(&fake).await;
    let card = practice(&fake, &MEMBER, json!({})).await;
    click_update(&fake, &card, "Good", &MEMBER).await;
    bot.shutdown().await;

    // Day 2 (the night of the DST change: 2027-03-28 has 23 hours): revealing the daily
    // question with a 💡 is the day's only activity.
    let bot = boot(&fake, dir.path(), 10, offset_to_berlin("2027-03-28 20:00")).await;
    let reaction = fake.reaction_add(OTHER_CHANNEL_ID, message_id(&post), &MEMBER, "💡");
    fake.dispatch("MESSAGE_REACTION_ADD", reaction);
    eventually("the reveal", || {
        (futures::executor::block_on(bot.app.store.practice_activity(MEMBER.id))
            .unwrap()
            .len()
            == 2)
            .then_some(())
    })
    .await;
    let s = stats(&fake, &MEMBER).await;
    assert_eq!(field(&s, "Streak"), "🔥 2 days · best 2");
    bot.shutdown().await;

    // Day 3, before anything: the streak still stands, with a nudge.
    let bot = boot(&fake, dir.path(), 10, offset_to_berlin("2027-03-29 20:00")).await;
    let s = stats(&fake, &MEMBER).await;
    assert_eq!(
        field(&s, "Streak"),
        "🔥 2 days · best 2\nPractise today to keep it going."
    );
    assert!(footer(&s).contains("Europe/Berlin"), "{}", footer(&s));
    // A quiz answer makes it three.
    quiz_round(&fake, dir.path(), &MEMBER, &[]).await;
    eventually("the quiz review", || {
        (futures::executor::block_on(bot.app.store.practice_activity(MEMBER.id))
            .unwrap()
            .len()
            == 3)
            .then_some(())
    })
    .await;
    let s = stats(&fake, &MEMBER).await;
    assert_eq!(field(&s, "Streak"), "🔥 3 days · best 3");
    let (numbers, _) =
        prepbot::discord::practice::member_stats(&bot.app, MEMBER.id, Some(GUILD_ID))
            .await
            .unwrap();
    let last3: Vec<(String, u32)> = numbers.days[81..]
        .iter()
        .map(|(d, n)| (d.to_string(), *n))
        .collect();
    assert_eq!(
        last3,
        [
            ("2027-03-27".to_string(), 1),
            ("2027-03-28".to_string(), 1),
            ("2027-03-29".to_string(), 1)
        ]
    );
    finish(&fake);
    bot.shutdown().await;
}

/// `/stats` attaches `stats.png`, shown in its embed: a real PNG of the renderer's size whose
/// heatmap has today's square in the busiest colour and an idle day in the empty colour.
#[tokio::test]
async fn stats_attach_a_picture_of_the_members_days() {
    use prepbot::discord::render::stats_png;
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, SignedDuration::ZERO).await;
    let mut card = practice(&fake, &MEMBER, json!({})).await;
    for grade in ["Good", "Hard"] {
        let graded = click_update(&fake, &card, grade, &MEMBER).await;
        card = click_update(&fake, &graded, "Next", &MEMBER).await;
    }
    let cmd = fake.slash_command("stats", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.files.len(), 1, "one attachment: {:?}", cb.files);
    let file = &cb.files[0];
    assert_eq!(file.filename, "stats.png");
    assert_eq!(
        callback_data(&cb)["embeds"][0]["image"]["url"],
        json!("attachment://stats.png")
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(file.bytes.clone()));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(
        (info.width, info.height),
        (stats_png::WIDTH, stats_png::HEIGHT)
    );
    let channels = info.color_type.samples();
    let at = |i: usize| {
        let (x, y) = stats_png::day_cell_centre(i);
        let o = (y as usize * info.width as usize + x as usize) * channels;
        [pixels[o], pixels[o + 1], pixels[o + 2]]
    };
    // Two grades today, nothing before: today is the busiest day.
    assert_eq!(at(83), stats_png::day_colour(2, 2), "today");
    assert_eq!(at(0), stats_png::day_colour(0, 2), "84 days ago");
    bot.shutdown().await;
}
