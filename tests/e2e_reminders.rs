//! End-to-end: practice reminders against the fake Discord. The bot's clock is shifted so it
//! believes it is a few seconds before the reminder time in Berlin; real seconds pass until
//! the DM goes out. Restarts keep the database, so "exactly once per local date" is tested
//! across them.

mod support;

use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use prepbot::discord::Bot;
use prepbot::store::{ReminderState, SqliteStore};
use serde_json::{json, Value};
use support::bot::*;
use support::*;

const ZONE: &str = "Europe/Berlin";

/// The clock offset that makes the bot's "now" the given Berlin wall time.
// The shift is measured from the real clock, which the bot itself may not read.
#[allow(clippy::disallowed_methods)]
fn offset_to(local: &str) -> SignedDuration {
    let target = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", local)
        .unwrap()
        .in_tz(ZONE)
        .unwrap()
        .timestamp();
    target.duration_since(Timestamp::now())
}

/// Starts the bot on `dir` with `new_per_day` new cards a day, believing it is `local`
/// (Berlin).
async fn boot(fake: &FakeDiscord, dir: &Path, new_per_day: u32, local: &str) -> Bot {
    let mut c = config(fake, dir);
    c.practice.new_per_day = new_per_day;
    start(fake, c, options(offset_to(local))).await
}

/// `/practice` with `options` as `user`: the ephemeral answer's text.
async fn practice(fake: &FakeDiscord, user: &TestUser, options: Value) -> String {
    let cmd = fake.slash_command("practice", &[], options, user, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    assert!(is_ephemeral(callback_data(&cb)), "{}", cb.body);
    cb.body["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
        + &embed_text(callback_data(&cb))
}

/// Reminder DMs the bot tried to send to `user`'s DM channel (any answer), with the status.
fn dm_attempts(fake: &FakeDiscord) -> Vec<(u16, Value)> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/messages")
                && r.body["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("**Practice reminder"))
        })
        .map(|r| (r.status, r.body))
        .collect()
}

fn opened_dms(fake: &FakeDiscord) -> usize {
    fake.count(|r| r.method == "POST" && r.path == "/users/@me/channels")
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("prepbot.db")).unwrap()
}

#[tokio::test]
async fn a_reminder_goes_out_once_per_local_date_across_restarts() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, "2026-03-10 08:59:57").await;
    let text = practice(&fake, &MEMBER, json!({"remind": "09:00", "timezone": ZONE})).await;
    assert!(text.contains("reminders are on"), "{text}");
    assert!(text.contains("2026-03-10 09:00 CET"), "{text}");
    assert!(fake.dm_messages(&MEMBER).is_empty(), "not before its time");

    let dm = eventually("the reminder DM", || {
        fake.dm_messages(&MEMBER).into_iter().next()
    })
    .await;
    let content = dm["content"].as_str().unwrap();
    assert!(
        content.contains("Practice reminder · 2026-03-10"),
        "{content}"
    );
    // Never seen a card, 10 new a day: 10 waiting.
    assert!(content.contains("**10** practice cards"), "{content}");
    assert!(content.contains("`/practice`"), "{content}");
    let (_, body) = dm_attempts(&fake).remove(0);
    assert_eq!(body["allowed_mentions"]["parse"], json!([]), "{body}");
    assert_eq!(body["enforce_nonce"], json!(true), "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.dm_messages(&MEMBER).len(), 1, "one DM only");
    bot.shutdown().await;

    // A restart on the same local date, after Discord forgot the nonce: no second DM.
    fake.expire_nonces();
    let bot = boot(&fake, dir.path(), 10, "2026-03-10 09:00:30").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.dm_messages(&MEMBER).len(), 1, "no second DM that day");
    assert_eq!(dm_attempts(&fake).len(), 1);
    bot.shutdown().await;

    // The next local date: one more.
    let bot = boot(&fake, dir.path(), 10, "2026-03-11 08:59:58").await;
    let second = eventually("the next day's reminder", || {
        fake.dm_messages(&MEMBER).into_iter().nth(1)
    })
    .await;
    assert!(
        second["content"]
            .as_str()
            .unwrap()
            .contains("Practice reminder · 2026-03-11"),
        "{second}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.dm_messages(&MEMBER).len(), 2);
    bot.shutdown().await;
    let s = store(dir.path());
    for date in ["2026-03-10", "2026-03-11"] {
        let row = s.reminder_send(MEMBER.id, date).unwrap().unwrap();
        assert_eq!(row.state, ReminderState::Sent, "{date}");
        assert!(row.message_id.is_some());
    }
    fake.assert_no_schema_violations();
}

#[tokio::test]
async fn nothing_due_means_no_dm_and_the_date_is_recorded_as_skipped() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // No new cards a day and no cards yet: nothing is ever due.
    let bot = boot(&fake, dir.path(), 0, "2026-03-10 08:59:58").await;
    practice(&fake, &MEMBER, json!({"remind": "09:00", "timezone": ZONE})).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    bot.shutdown().await;
    assert_eq!(opened_dms(&fake), 0, "no DM opened");
    assert!(dm_attempts(&fake).is_empty());
    let row = store(dir.path())
        .reminder_send(MEMBER.id, "2026-03-10")
        .unwrap()
        .expect("the date was looked at");
    assert_eq!(row.state, ReminderState::Skipped);
}

#[tokio::test]
async fn closed_dms_switch_reminders_off_after_one_attempt() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    fake.close_dms(&MEMBER);
    let bot = boot(&fake, dir.path(), 10, "2026-03-10 08:59:58").await;
    practice(&fake, &MEMBER, json!({"remind": "09:00", "timezone": ZONE})).await;
    eventually("the refused DM", || dm_attempts(&fake).first().cloned()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts = dm_attempts(&fake);
    assert_eq!(attempts.len(), 1, "one attempt only, no retry loop");
    assert_eq!(attempts[0].0, 403);
    bot.shutdown().await;
    let s = store(dir.path());
    assert_eq!(s.reminder(MEMBER.id).unwrap(), None, "switched off");
    let row = s.reminder_send(MEMBER.id, "2026-03-10").unwrap().unwrap();
    assert_eq!(row.state, ReminderState::Failed);
    drop(s);

    // Off means off: the next day nothing is tried.
    let bot = boot(&fake, dir.path(), 10, "2026-03-11 08:59:58").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    bot.shutdown().await;
    assert_eq!(dm_attempts(&fake).len(), 1);
}

#[tokio::test]
async fn remind_off_stops_them() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, "2026-03-10 08:59:57").await;
    practice(&fake, &MEMBER, json!({"remind": "09:00", "timezone": ZONE})).await;
    let text = practice(&fake, &MEMBER, json!({"remind": "OFF"})).await;
    assert!(text.contains("reminders are off"), "{text}");
    let again = practice(&fake, &MEMBER, json!({"remind": "off"})).await;
    assert!(again.contains("were not on"), "{again}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    bot.shutdown().await;
    assert_eq!(opened_dms(&fake), 0);
    assert!(dm_attempts(&fake).is_empty());
    assert_eq!(store(dir.path()).reminder(MEMBER.id).unwrap(), None);
}

#[tokio::test]
async fn bad_reminder_values_are_explained_and_change_nothing() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bot = boot(&fake, dir.path(), 10, "2026-03-10 12:00:00").await;
    let cases = [
        (
            json!({"remind": "25:00", "timezone": ZONE}),
            "`25:00` is not a time of day",
        ),
        (
            json!({"remind": "9am", "timezone": ZONE}),
            "`9am` is not a time of day",
        ),
        (
            json!({"remind": "09:00", "timezone": "Berlin"}),
            "unknown time zone `Berlin`",
        ),
        (json!({"remind": "09:00"}), "Give `timezone` too"),
        (json!({"timezone": ZONE}), "give the time too"),
    ];
    for (options, expected) in cases {
        let text = practice(&fake, &MEMBER, options.clone()).await;
        assert!(text.contains(expected), "{options}: {text}");
        assert!(
            text.contains("/practice remind:09:00 timezone:Europe/Berlin"),
            "{options}: an example: {text}"
        );
    }
    // A zone alone moves reminders that are on.
    practice(&fake, &MEMBER, json!({"remind": "18:30", "timezone": ZONE})).await;
    let moved = practice(&fake, &MEMBER, json!({"timezone": "America/New_York"})).await;
    assert!(
        moved.contains("18:30") && moved.contains("America/New_York"),
        "{moved}"
    );
    // Without the reminder options, /practice still shows a card.
    let card = practice(&fake, &MEMBER, json!({})).await;
    assert!(card.contains("new today"), "{card}");
    bot.shutdown().await;
    let row = store(dir.path()).reminder(MEMBER.id).unwrap().unwrap();
    assert_eq!(
        (row.time.as_str(), row.tz.as_str()),
        ("18:30", "America/New_York")
    );
}
