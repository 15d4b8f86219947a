//! End-to-end: what the hardening issue found, each as a test that failed before its fix.
//! Every interaction gets an answer (unknown buttons, unknown commands, payloads serenity
//! cannot parse, crafted option values); clicks are checked against where they come from; a
//! busy database gets a "try again" inside Discord's deadline.

mod support;

use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

async fn boot() -> (FakeDiscord, tempfile::TempDir, prepbot::discord::Bot) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(SignedDuration::ZERO),
    )
    .await;
    (fake, dir, bot)
}

/// The callback of `interaction`: an ephemeral message, whose text is returned.
async fn ephemeral_answer(fake: &FakeDiscord, interaction: &Value) -> String {
    let cb = fake.wait_callback(interaction, WAIT).await;
    assert!(
        cb.status < 300,
        "callback refused: {} {}",
        cb.status,
        cb.body
    );
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    let data = callback_data(&cb);
    assert!(is_ephemeral(data), "not ephemeral: {data}");
    data["content"].as_str().unwrap_or_default().to_string() + &embed_text(data)
}

#[tokio::test]
async fn every_interaction_gets_an_answer() {
    let (fake, _dir, bot) = boot().await;

    // A button of an older version, or a forged custom id, on a message of ours.
    let ask = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", ask.clone());
    fake.wait_callback(&ask, WAIT).await;
    let msg = eventually("the /ask message", || {
        fake.messages(CHANNEL_ID).into_iter().last()
    })
    .await;
    let click = fake.button_click("poll:7:yes", &msg, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let text = ephemeral_answer(&fake, &click).await;
    assert!(text.contains("no longer in use"), "{text}");

    // A command the bot does not have (registered by an older version).
    let cmd = fake.slash_command("trivia", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let text = ephemeral_answer(&fake, &cmd).await;
    assert!(text.contains("no longer exists"), "{text}");

    // An option with a null value: serenity cannot parse the payload at all.
    let mut null = fake.slash_command("ask", &[], json!({"category": "x"}), &MEMBER, CHANNEL_ID);
    null["data"]["options"][0]["value"] = Value::Null;
    fake.dispatch("INTERACTION_CREATE", null.clone());
    let text = ephemeral_answer(&fake, &null).await;
    assert!(
        text.contains("`category`") && text.contains("without a value"),
        "{text}"
    );

    // Crafted values of the right type but out of range, and of the wrong type.
    let neg = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": -1}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", neg.clone());
    let text = ephemeral_answer(&fake, &neg).await;
    assert!(
        text.contains("`questions` must be between 1 and 50; you gave -1"),
        "{text}"
    );
    let wrong = fake.slash_command(
        "ask",
        &[],
        json!({"private": {"type": 3, "value": "yes"}}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", wrong.clone());
    let text = ephemeral_answer(&fake, &wrong).await;
    assert!(text.contains("`private` must be true or false"), "{text}");
    assert!(
        !text.contains("changed since Discord last saw it"),
        "{text}"
    );
    bot.shutdown().await;
}

/// A quiz click forged from another channel (or another server) is refused and scores
/// nothing; the round's own channel still works.
#[tokio::test]
async fn a_forged_quiz_click_from_elsewhere_is_refused() {
    let (fake, _dir, bot) = boot().await;
    let start = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": 1, "seconds": 5}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", start.clone());
    fake.wait_callback(&start, WAIT).await;
    let question = eventually("the question", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Quiz · question 1/"))
        })
    })
    .await;
    let custom_id = question["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The same custom id, clicked from another channel of the server.
    let outsider = fake.new_user("outsider");
    let forged = fake.button_click(&custom_id, &question, &outsider, OTHER_CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", forged.clone());
    let text = ephemeral_answer(&fake, &forged).await;
    assert!(text.contains("another channel"), "{text}");
    // From the round's channel it counts.
    let real = fake.button_click(&custom_id, &question, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", real.clone());
    let text = ephemeral_answer(&fake, &real).await;
    assert!(text.contains("Locked in"), "{text}");
    // Only the member is in the standings.
    let results = eventually("the results", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Question 1/"))
        })
    })
    .await;
    let text = embed_text(&results);
    assert!(!text.contains(&outsider.id.to_string()), "{text}");
    bot.shutdown().await;
}

/// A database locked by another process: `/ask` answers within Discord's 3 s with a "try
/// again", instead of blocking past the deadline and leaving the interaction unanswered.
#[tokio::test]
async fn a_locked_database_gets_a_try_again_in_time() {
    let (fake, dir, bot) = boot().await;
    let db = dir.path().join("prepbot.db");
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    let sent = std::time::Instant::now();
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let text = ephemeral_answer(&fake, &cmd).await;
    let took = sent.elapsed();
    assert!(text.contains("try again"), "{text}");
    // Not a timing assertion on speed: Discord drops answers after 3 s, so a later one is a
    // failure of the behaviour itself.
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    locker.execute_batch("ROLLBACK").unwrap();
    // Free again: /ask works.
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert!(!is_ephemeral(callback_data(&cb)));
    bot.shutdown().await;
}

/// Retention: rows past their period are purged by the running bot (at start, then hourly),
/// and the daily driver's retry map forgets guilds whose schedule is gone.
#[tokio::test]
async fn old_rows_are_purged_and_the_retry_map_stays_bounded() {
    use prepbot::store::{QuestionMessage, Source, SqliteStore};
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&fake, dir.path());
    {
        let store = SqliteStore::open(&cfg.storage.path).unwrap();
        let old = |id: u64| QuestionMessage {
            message_id: id,
            channel_id: CHANNEL_ID,
            guild_id: Some(GUILD_ID),
            question_id: "acid-properties".into(),
        };
        // Created at the Unix epoch: far past the 180 days a question message is kept.
        store
            .record_question_message(&old(1), Source::Ask, 0)
            .unwrap();
        assert!(store.claim_reveal(1, 0, 0).unwrap());
    }
    // The bot's clock is set 3 s before a full minute, so a post set for that minute is due at
    // once (the test waits seconds, not up to a minute).
    let offset = 57 - (real_now_secs() % 60) as i64;
    let bot = start(
        &fake,
        cfg.clone(),
        options(SignedDuration::from_secs(offset)),
    )
    .await;
    let store = SqliteStore::open(&cfg.storage.path).unwrap();
    eventually("the purge", || {
        store.question_message(1).unwrap().is_none().then_some(())
    })
    .await;
    // Its reveal went with it: the claim can be taken again.
    assert!(store.claim_reveal(1, 0, 1).unwrap());

    // A schedule whose posts fail transiently leaves a retry entry ...
    fake.fail_next(
        "POST",
        &format!("/channels/{OTHER_CHANNEL_ID}/messages"),
        500,
        1000,
    );
    let now = jiff::Timestamp::from_millisecond(bot.app.clock.now_ms()).unwrap();
    let zone = "UTC";
    let at = now.checked_add(SignedDuration::from_secs(10)).unwrap();
    let hhmm = at.strftime("%H:%M").to_string();
    let set = fake.slash_command(
        "daily",
        &["set"],
        json!({"channel": OTHER_CHANNEL_ID, "time": hhmm, "timezone": zone}),
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", set.clone());
    fake.wait_callback(&set, WAIT).await;
    bot.app.daily.rearm();
    // ... once the post is due (seconds away) and fails.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while bot.app.daily.pending_retries() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no retry was recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Turning the schedule off forgets it on the next pass.
    let off = fake.slash_command("daily", &["off"], json!({}), &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", off.clone());
    fake.wait_callback(&off, WAIT).await;
    bot.app.daily.rearm();
    eventually("the retry entry to go", || {
        (bot.app.daily.pending_retries() == 0).then_some(())
    })
    .await;
    bot.shutdown().await;
}

// The test sets the bot's clock relative to real time, which the bot itself may not read.
#[allow(clippy::disallowed_methods)]
fn real_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
