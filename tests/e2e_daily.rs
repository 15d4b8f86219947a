//! End-to-end: the question of the day against the fake Discord. The bot's clock is shifted
//! (never the test's waiting): the bot believes it is a few seconds before the post time, and
//! real seconds pass until it posts.

mod support;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use prepbot::config::Config;
use prepbot::store::{FinishState, PostKind, PostRow, PostState, ScheduleRow, SqliteStore};
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

async fn setup() -> (FakeDiscord, tempfile::TempDir) {
    (FakeDiscord::start().await, tempfile::tempdir().unwrap())
}

/// The fake, a temp dir with the shipped bank, and the bot started with its clock shifted by
/// `offset`.
async fn boot_at(
    offset: SignedDuration,
) -> (FakeDiscord, tempfile::TempDir, prepbot::discord::Bot) {
    let (fake, dir) = setup().await;
    let bot = start(&fake, config(&fake, dir.path()), options(offset)).await;
    (fake, dir, bot)
}

fn daily(fake: &FakeDiscord, sub: &str, options: Value, user: &TestUser) -> Value {
    let cmd = fake.slash_command("daily", &[sub], options, user, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    cmd
}

/// Runs `/daily <sub>` as the admin and returns its callback data.
async fn admin_daily(fake: &FakeDiscord, sub: &str, options: Value) -> Value {
    let cmd = daily(fake, sub, options, &ADMIN);
    fake.wait_callback(&cmd, WAIT).await.body["data"].clone()
}

/// Daily posts: messages in the channel with the question-of-the-day footer.
fn posts(fake: &FakeDiscord, channel: u64) -> Vec<Value> {
    fake.messages(channel)
        .into_iter()
        .filter(|m| {
            m["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Question of the day #"))
        })
        .collect()
}

fn post_attempts(fake: &FakeDiscord, channel: u64) -> Vec<u16> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && r.path == format!("/channels/{channel}/messages")
                && r.body["embeds"][0]["footer"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Question of the day"))
        })
        .map(|r| r.status)
        .collect()
}

fn shown_id(post: &Value) -> String {
    let fields = post["embeds"][0]["fields"].as_array().unwrap();
    let f = fields.iter().find(|f| f["name"] == "ID").unwrap();
    f["value"].as_str().unwrap().trim_matches('`').to_string()
}

async fn set_0900(fake: &FakeDiscord, extra: Value) -> Value {
    let mut opts = json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": ZONE});
    for (k, v) in extra.as_object().unwrap() {
        opts[k] = v.clone();
    }
    admin_daily(fake, "set", opts).await
}

#[tokio::test]
async fn posts_once_at_the_time_with_thread_reaction_and_role_ping() {
    let (fake, dir) = setup().await;
    let offset = offset_to("2026-03-10 08:59:57");
    let bot = start(&fake, config(&fake, dir.path()), options(offset)).await;
    let data = set_0900(&fake, json!({"role": ROLE_ID})).await;
    let text = embed_text(&data);
    assert!(text.contains("Daily question scheduled"), "{text}");
    assert!(text.contains("2026-03-10 09:00 CET"), "{text}");
    assert!(text.contains("08:00 UTC"), "{text}");
    assert!(text.contains(&format!("<@&{ROLE_ID}>")), "{text}");
    assert!(
        posts(&fake, OTHER_CHANNEL_ID).is_empty(),
        "not before its time"
    );

    let post = eventually("the daily post", || {
        posts(&fake, OTHER_CHANNEL_ID).into_iter().next()
    })
    .await;
    assert_eq!(post["content"], json!(format!("<@&{ROLE_ID}>")));
    let text = embed_text(&post);
    assert!(text.contains("Question of the day · 2026-03-10"), "{text}");
    assert!(
        text.contains("Question of the day #1 · 2026-03-10"),
        "{text}"
    );
    let post_id: u64 = post["id"].as_str().unwrap().parse().unwrap();
    // The role, and nothing else, may be pinged.
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages"))
        .unwrap();
    let am = &sent.body["allowed_mentions"];
    assert_eq!(am["roles"], json!([ROLE_ID.to_string()]));
    assert_eq!(am["parse"], json!([]));
    assert_eq!(am["users"], json!([]));
    assert_eq!(sent.body["enforce_nonce"], json!(true));
    assert!(sent.body["nonce"].as_str().is_some_and(|n| n.len() <= 25));
    // Reaction and thread on the post.
    fake.wait_for(
        |r| {
            r.method == "PUT"
                && r.path
                    == format!("/channels/{OTHER_CHANNEL_ID}/messages/{post_id}/reactions/💡/@me")
        },
        WAIT,
    )
    .await;
    let thread = fake
        .wait_for(
            |r| {
                r.method == "POST"
                    && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages/{post_id}/threads")
            },
            WAIT,
        )
        .await;
    assert!(thread.body["name"]
        .as_str()
        .unwrap()
        .starts_with("2026-03-10 · "));
    // Reveal works on the daily post like on /ask.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(OTHER_CHANNEL_ID, post_id, &MEMBER, "💡"),
    );
    eventually("the reveal under the daily post", || {
        fake.messages(OTHER_CHANNEL_ID)
            .into_iter()
            .find(|m| m["message_reference"]["message_id"] == json!(post_id.to_string()))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(posts(&fake, OTHER_CHANNEL_ID).len(), 1);
    assert_eq!(post_attempts(&fake, OTHER_CHANNEL_ID).len(), 1);

    // /daily show reports the last post and tomorrow's time.
    let text = embed_text(&admin_daily(&fake, "show", json!({})).await);
    assert!(text.contains("#1 · 2026-03-10"), "{text}");
    assert!(text.contains("2026-03-11 09:00 CET"), "{text}");
    assert!(text.contains("34 of 35 left"), "{text}");
    bot.shutdown().await;

    // A restart the same day does not post again.
    let bot = start(&fake, config(&fake, dir.path()), options(offset)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(post_attempts(&fake, OTHER_CHANNEL_ID).len(), 1);
    bot.shutdown().await;

    // The next day brings one new post, with a different question.
    let next_day = offset_to("2026-03-11 08:59:58");
    let bot = start(&fake, config(&fake, dir.path()), options(next_day)).await;
    let second = eventually("the next day's post", || {
        posts(&fake, OTHER_CHANNEL_ID).get(1).cloned()
    })
    .await;
    assert!(embed_text(&second).contains("Question of the day #2 · 2026-03-11"));
    assert_ne!(
        shown_id(&second),
        shown_id(&post),
        "a repeat before the bank is exhausted"
    );
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, Some(ROLE_ID));
    bot.shutdown().await;
}

#[tokio::test]
async fn a_post_missed_while_down_goes_out_late_once() {
    let (fake, dir, bot) = boot_at(offset_to("2026-03-10 07:00:00")).await;
    set_0900(&fake, json!({"thread": false})).await;
    bot.shutdown().await;
    // Down at 09:00; back at 12:00 the same day: one late post.
    let late = offset_to("2026-03-10 12:00:00");
    let bot = start(&fake, config(&fake, dir.path()), options(late)).await;
    let post = eventually("the late post", || {
        posts(&fake, OTHER_CHANNEL_ID).into_iter().next()
    })
    .await;
    assert!(embed_text(&post).contains("2026-03-10"));
    assert_eq!(
        post["content"].as_str().unwrap_or(""),
        "",
        "no role configured, no ping"
    );
    bot.shutdown().await;
    let bot = start(&fake, config(&fake, dir.path()), options(late)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(post_attempts(&fake, OTHER_CHANNEL_ID).len(), 1);
    assert_eq!(
        fake.count(|r| r.path.ends_with("/threads")),
        0,
        "thread:false"
    );
    bot.shutdown().await;

    // Too late (over 12 h): the day is skipped, not posted at night.
    let dir2 = tempfile::tempdir().unwrap();
    let fake2 = FakeDiscord::start().await;
    let bot = start(
        &fake2,
        config(&fake2, dir2.path()),
        options(offset_to("2026-03-10 07:00:00")),
    )
    .await;
    set_0900(&fake2, json!({})).await;
    bot.shutdown().await;
    let mut c: Config = config(&fake2, dir2.path());
    c.daily.max_late_hours = 2;
    let bot = start(&fake2, c, options(offset_to("2026-03-10 11:30:00"))).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(posts(&fake2, OTHER_CHANNEL_ID).is_empty());
    let text = embed_text(&{
        let cmd = fake2.slash_command("daily", &["show"], json!({}), &ADMIN, CHANNEL_ID);
        fake2.dispatch("INTERACTION_CREATE", cmd.clone());
        fake2.wait_callback(&cmd, WAIT).await.body["data"].clone()
    });
    assert!(text.contains("2026-03-11 09:00 CET"), "{text}");
    bot.shutdown().await;
}

#[tokio::test]
async fn a_500_and_a_429_on_the_post_still_make_exactly_one() {
    let (fake, _dir, bot) = boot_at(offset_to("2026-03-10 08:59:58")).await;
    let path = format!("/channels/{OTHER_CHANNEL_ID}/messages");
    fake.fail_next("POST", &path, 500, 1);
    fake.rate_limit_next("POST", &path, 0.3, 1);
    set_0900(&fake, json!({})).await;
    eventually("the post after retries", || {
        posts(&fake, OTHER_CHANNEL_ID).into_iter().next()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // fail_next/rate_limit_next queue up: the first attempt gets the 500, the second the 429.
    assert_eq!(post_attempts(&fake, OTHER_CHANNEL_ID), vec![500, 429, 200]);
    assert_eq!(posts(&fake, OTHER_CHANNEL_ID).len(), 1);
    // The same nonce on every attempt.
    let nonces: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| r.body["nonce"].clone())
        .collect();
    assert!(nonces.windows(2).all(|w| w[0] == w[1]), "{nonces:?}");
    bot.shutdown().await;
}

#[tokio::test]
async fn a_missing_permission_is_recorded_and_shown_not_looped() {
    let (fake, _dir, bot) = boot_at(offset_to("2026-03-10 08:59:58")).await;
    fake.fail_next(
        "POST",
        &format!("/channels/{OTHER_CHANNEL_ID}/messages"),
        403,
        1,
    );
    set_0900(&fake, json!({})).await;
    eventually("the refused attempt", || {
        (post_attempts(&fake, OTHER_CHANNEL_ID) == vec![403]).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        post_attempts(&fake, OTHER_CHANNEL_ID),
        vec![403],
        "no retry loop"
    );
    let text = embed_text(&admin_daily(&fake, "show", json!({})).await);
    assert!(text.contains("Delivery problem"), "{text}");
    assert!(text.contains("HTTP 403"), "{text}");
    assert!(
        text.contains("2026-03-11 09:00 CET"),
        "retried at the next post time: {text}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn pause_resume_skip_post_and_off() {
    let (fake, dir, bot) = boot_at(offset_to("2026-03-10 08:59:57")).await;
    set_0900(&fake, json!({})).await;
    let data = admin_daily(&fake, "pause", json!({})).await;
    assert!(embed_text(&data).contains("paused"), "{data}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        posts(&fake, OTHER_CHANNEL_ID).is_empty(),
        "paused: no post at 09:00"
    );
    // Resuming after the time does not post the missed one.
    let text = embed_text(&admin_daily(&fake, "resume", json!({})).await);
    assert!(text.contains("2026-03-11 09:00 CET"), "{text}");
    // Skip: the next (tomorrow's) post is skipped; the one after is shown.
    let text = embed_text(&admin_daily(&fake, "skip", json!({})).await);
    assert!(text.contains("**2026-03-11**"), "{text}");
    assert!(text.contains("2026-03-12 09:00 CET"), "{text}");
    // /daily post posts one now, numbered, without touching the schedule.
    // It takes a moment (it posts, reacts, opens a thread), so the reply is deferred and the
    // answer comes as a follow-up.
    let cmd = daily(&fake, "post", json!({}), &ADMIN);
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(5));
    let token = cmd["token"].as_str().unwrap().to_string();
    let followup = fake
        .wait_for(
            |r| r.method == "POST" && r.path == format!("/webhooks/{APP_ID}/{token}"),
            WAIT,
        )
        .await;
    assert!(is_ephemeral(&followup.body));
    let text = embed_text(&followup.body);
    assert!(text.contains("Posted question #1"), "{text}");
    let p = posts(&fake, OTHER_CHANNEL_ID);
    assert_eq!(p.len(), 1);
    assert!(embed_text(&p[0]).contains("#1 · 2026-03-10"));
    let text = embed_text(&admin_daily(&fake, "show", json!({})).await);
    assert!(text.contains("2026-03-12 09:00 CET"), "{text}");
    // Off: the schedule is gone.
    let text = embed_text(&admin_daily(&fake, "off", json!({})).await);
    assert!(text.contains("turned off"), "{text}");
    let data = admin_daily(&fake, "show", json!({})).await;
    assert!(
        data["content"]
            .as_str()
            .unwrap()
            .contains("no daily question yet"),
        "{data}"
    );
    bot.shutdown().await;

    // After a restart on the skipped day, nothing is posted.
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(offset_to("2026-03-11 09:00:01")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(posts(&fake, OTHER_CHANNEL_ID).len(), 1);
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn skip_survives_a_restart() {
    let (fake, dir, bot) = boot_at(offset_to("2026-03-10 08:00:00")).await;
    set_0900(&fake, json!({})).await;
    let text = embed_text(&admin_daily(&fake, "skip", json!({})).await);
    assert!(text.contains("**2026-03-10**"), "{text}");
    bot.shutdown().await;
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(offset_to("2026-03-10 09:00:01")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(posts(&fake, OTHER_CHANNEL_ID).is_empty());
    bot.shutdown().await;
}

#[tokio::test]
async fn bad_input_and_members_without_manage_server_are_refused() {
    let (fake, _dir, bot) = boot_at(SignedDuration::ZERO).await;
    let cmd = daily(
        &fake,
        "set",
        json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": ZONE}),
        &MEMBER,
    );
    let data = fake.wait_callback(&cmd, WAIT).await.body["data"].clone();
    assert!(is_ephemeral(&data));
    assert!(
        data["content"].as_str().unwrap().contains("Manage Server"),
        "{data}"
    );
    for sub in ["show", "pause", "resume", "skip", "post", "off"] {
        let cmd = daily(&fake, sub, json!({}), &MEMBER);
        let data = fake.wait_callback(&cmd, WAIT).await.body["data"].clone();
        assert!(
            data["content"].as_str().unwrap().contains("Manage Server"),
            "{sub}: {data}"
        );
    }
    let data = admin_daily(
        &fake,
        "set",
        json!({"channel": OTHER_CHANNEL_ID, "time": "25:00", "timezone": ZONE}),
    )
    .await;
    assert!(is_ephemeral(&data));
    let c = data["content"].as_str().unwrap();
    assert!(c.contains("`25:00`") && c.contains("09:00"), "{c}");
    let data = admin_daily(
        &fake,
        "set",
        json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": "Berlin"}),
    )
    .await;
    let c = data["content"].as_str().unwrap();
    assert!(c.contains("Europe/Berlin"), "an example zone: {c}");
    // Zone autocomplete.
    let ac = fake.autocomplete(
        "daily",
        &["set"],
        json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": "berl"}),
        "timezone",
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", ac.clone());
    let cb = fake.wait_callback(&ac, WAIT).await;
    assert_eq!(
        cb.body["data"]["choices"][0]["value"],
        json!("Europe/Berlin")
    );
    assert!(
        fake.count(|r| r.method == "POST"
            && r.path.contains("/messages")
            && r.path.starts_with("/channels"))
            == 0
    );
    bot.shutdown().await;
}

/// What a bot that crashed mid-send leaves in its database: a schedule and a pending post of
/// 2026-03-10 with one attempt of unknown outcome.
fn seed_pending_post(cfg: &Config, nonce: &str) {
    let store = SqliteStore::open(&cfg.storage.path).unwrap();
    seed_schedule(&store, false);
    let p = store.begin_post(&intent_of_0310(nonce, false)).unwrap();
    store.post_attempt(p.id).unwrap();
}

/// The intent of guild `GUILD_ID`'s post of 2026-03-10, recorded at the Unix epoch.
fn intent_of_0310(nonce: &str, thread_wanted: bool) -> PostRow {
    PostRow {
        id: 0,
        guild_id: GUILD_ID,
        local_date: "2026-03-10".into(),
        number: 1,
        question_id: "acid-properties".into(),
        channel_id: OTHER_CHANNEL_ID,
        nonce: nonce.into(),
        state: PostState::Pending,
        message_id: None,
        thread_id: None,
        attempts: 0,
        error: None,
        created_at: 0,
        sent_at: None,
        kind: PostKind::Scheduled,
        thread_wanted,
        reaction_done: false,
        opening_done: false,
        finish: FinishState::Pending,
        finish_error: None,
    }
}

/// A crash after Discord created the post but before the bot recorded it: the restarted bot
/// finds the post in the channel and does not send a second one.
#[tokio::test]
async fn an_unrecorded_send_is_found_after_a_crash() {
    let (fake, dir) = setup().await;
    let cfg = config(&fake, dir.path());
    let nonce = format!("q20260310{GUILD_ID:x}");
    seed_pending_post(&cfg, &nonce);
    // What the crashed bot had sent: the post, in the channel.
    let id = post_as_crashed_bot(&fake, None).await;
    let bot = start(
        &fake,
        cfg.clone(),
        options(offset_to("2026-03-10 09:05:00")),
    )
    .await;
    // It looks, finds it, and adopts it (reveal works on it) instead of posting again.
    fake.wait_for(
        |r| r.method == "GET" && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages"),
        WAIT,
    )
    .await;
    fake.wait_for(
        |r| r.method == "PUT" && r.path.contains(&format!("/messages/{id}/reactions/")),
        WAIT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The one POST is the test's own, standing in for the crashed bot's.
    assert_eq!(
        post_attempts(&fake, OTHER_CHANNEL_ID).len(),
        1,
        "posted again"
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(OTHER_CHANNEL_ID, id, &MEMBER, "💡"),
    );
    let reply = eventually("the reveal", || {
        fake.messages(OTHER_CHANNEL_ID)
            .into_iter()
            .find(|m| m["message_reference"]["message_id"] == json!(id.to_string()))
    })
    .await;
    assert!(embed_text(&reply).contains("ACID stands for"));
    bot.shutdown().await;

    // Without such a message the retry carries the recorded nonce.
    let (fake, dir) = setup().await;
    let cfg = config(&fake, dir.path());
    seed_pending_post(&cfg, &nonce);
    let bot = start(&fake, cfg, options(offset_to("2026-03-10 09:05:00"))).await;
    let post = eventually("the retried post", || {
        posts(&fake, OTHER_CHANNEL_ID).into_iter().next()
    })
    .await;
    assert_eq!(shown_id(&post), "acid-properties");
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages"))
        .unwrap();
    assert_eq!(sent.body["nonce"], json!(nonce));
    bot.shutdown().await;
}

/// Posts `n` plain messages to `channel` as another user of the channel would.
async fn chatter(fake: &FakeDiscord, channel: u64, n: usize) {
    let client = reqwest::Client::new();
    for i in 0..n {
        let r = client
            .post(format!(
                "{}/api/v10/channels/{channel}/messages",
                fake.api_base()
            ))
            .header("Authorization", format!("Bot {TOKEN}"))
            .json(&json!({"content": format!("chatter {i}"), "allowed_mentions": {"parse": []}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// The hardening issue's duplicate: the create landed, the bot died before recording it, a
/// busy channel moved on (150 messages before the post, 70 after), and the bot came back
/// after Discord's nonce window. The search must page through everything since the intent,
/// not only the last 50 messages, or a second post goes out.
#[tokio::test]
async fn an_earlier_post_is_found_in_a_busy_channel_after_the_nonce_window() {
    let (fake, dir) = setup().await;
    let cfg = config(&fake, dir.path());
    let nonce = format!("q20260310{GUILD_ID:x}");
    seed_pending_post(&cfg, &nonce);
    chatter(&fake, OTHER_CHANNEL_ID, 150).await;
    let id = post_as_crashed_bot(&fake, Some(&nonce)).await;
    chatter(&fake, OTHER_CHANNEL_ID, 70).await;
    fake.expire_nonces();
    let bot = start(&fake, cfg, options(offset_to("2026-03-10 09:05:00"))).await;
    fake.wait_for(
        |r| r.method == "PUT" && r.path.contains(&format!("/messages/{id}/reactions/")),
        WAIT,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        posts(&fake, OTHER_CHANNEL_ID).len(),
        1,
        "a second post went out"
    );
    assert_eq!(post_attempts(&fake, OTHER_CHANNEL_ID).len(), 1);
    // It paged forward with `after=` (more than one page was needed).
    let pages = fake.count(|r| {
        r.method == "GET"
            && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages")
            && r.query.contains("after=")
    });
    assert!(pages >= 2, "read {pages} page(s)");
    bot.shutdown().await;
}

/// What a bot killed between the create and its finishing steps leaves: a post marked sent,
/// with no reaction and no thread yet.
fn seed_sent_unfinished(cfg: &Config, message_id: u64) -> i64 {
    let store = SqliteStore::open(&cfg.storage.path).unwrap();
    seed_schedule(&store, true);
    let mut intent = intent_of_0310(&format!("q20260310{GUILD_ID:x}"), true);
    intent.attempts = 1;
    let p = store.begin_post(&intent).unwrap();
    store.mark_post_sent(p.id, message_id, 1, true).unwrap();
    p.id
}

fn seed_schedule(store: &SqliteStore, thread: bool) {
    store
        .put_schedule(&ScheduleRow {
            guild_id: GUILD_ID,
            channel_id: OTHER_CHANNEL_ID,
            time: "09:00".into(),
            tz: ZONE.into(),
            role_id: None,
            filter: "{}".into(),
            thread,
            paused: false,
            skip_date: None,
            armed_from: 0,
            last_error: None,
        })
        .unwrap();
}

/// A post of the crashed bot, in the channel, as the test's own request (with the post's
/// nonce when given, as the bot sends it).
async fn post_as_crashed_bot(fake: &FakeDiscord, nonce: Option<&str>) -> u64 {
    let mut body = json!({
        "embeds": [{"title": "Question of the day · 2026-03-10", "description": "x",
                    "footer": {"text": "Question of the day #1 · 2026-03-10"}}],
        "allowed_mentions": {"parse": []},
    });
    if let Some(n) = nonce {
        body["nonce"] = json!(n);
        body["enforce_nonce"] = json!(true);
    }
    let sent: Value = reqwest::Client::new()
        .post(format!(
            "{}/api/v10/channels/{OTHER_CHANNEL_ID}/messages",
            fake.api_base()
        ))
        .header("Authorization", format!("Bot {TOKEN}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sent["id"].as_str().unwrap().parse().unwrap()
}

fn threads_on(fake: &FakeDiscord, message_id: u64) -> usize {
    fake.count(|r| {
        r.method == "POST"
            && r.path == format!("/channels/{OTHER_CHANNEL_ID}/messages/{message_id}/threads")
            && r.status < 300
    })
}

/// A kill after the create but before the reaction and thread: the restarted bot finishes the
/// post (reaction, thread) once, and a second restart does nothing more.
#[tokio::test]
async fn a_post_cut_before_its_thread_and_reaction_is_finished_after_a_restart() {
    let (fake, dir) = setup().await;
    let cfg = config(&fake, dir.path());
    let id = post_as_crashed_bot(&fake, None).await;
    let post_id = seed_sent_unfinished(&cfg, id);
    let bot = start(
        &fake,
        cfg.clone(),
        options(offset_to("2026-03-10 09:05:00")),
    )
    .await;
    eventually("the thread", || (threads_on(&fake, id) == 1).then_some(())).await;
    eventually("the reaction", || {
        (fake
            .count(|r| r.method == "PUT" && r.path.contains(&format!("/messages/{id}/reactions/")))
            == 1)
            .then_some(())
    })
    .await;
    let store = SqliteStore::open(&cfg.storage.path).unwrap();
    let done = eventually("the post settled", || {
        let p = store.last_post(GUILD_ID).unwrap().unwrap();
        (p.finish == FinishState::Done).then_some(p)
    })
    .await;
    assert_eq!(done.id, post_id);
    assert!(done.reaction_done && done.thread_id.is_some());
    assert_eq!(posts(&fake, OTHER_CHANNEL_ID).len(), 1, "no second post");
    bot.shutdown().await;

    // Again: nothing is left to do.
    let before = fake.requests().len();
    let bot = start(&fake, cfg, options(offset_to("2026-03-10 09:06:00"))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(threads_on(&fake, id), 1);
    let later: Vec<Recorded> = fake.requests().into_iter().skip(before).collect();
    assert!(
        !later
            .iter()
            .any(|r| r.path.contains(&format!("/messages/{id}/"))),
        "touched the finished post again: {:?}",
        later.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    bot.shutdown().await;
}

/// A thread Discord refuses for good (no permission) settles the post as not finished, and
/// `/daily show` says so instead of nothing.
#[tokio::test]
async fn a_refused_thread_is_shown_in_daily_show() {
    let (fake, dir) = setup().await;
    let cfg = config(&fake, dir.path());
    let id = post_as_crashed_bot(&fake, None).await;
    seed_sent_unfinished(&cfg, id);
    fake.fail_next("POST", "/threads", 403, 10);
    let bot = start(
        &fake,
        cfg.clone(),
        options(offset_to("2026-03-10 09:05:00")),
    )
    .await;
    let store = SqliteStore::open(&cfg.storage.path).unwrap();
    eventually("the post settled as failed", || {
        let p = store.last_post(GUILD_ID).unwrap().unwrap();
        (p.finish == FinishState::Failed).then_some(())
    })
    .await;
    let shown = embed_text(&admin_daily(&fake, "show", json!({})).await);
    assert!(shown.contains("not finished"), "{shown}");
    assert!(shown.contains("discussion thread"), "{shown}");
    // Not retried in a loop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.count(|r| r.method == "POST" && r.path.ends_with("/threads")),
        1
    );
    bot.shutdown().await;
}

/// `/daily set` refuses a voice channel, a category and another server's channel, even when
/// the interaction claims them (a forged one: Discord's own client offers only text ones).
#[tokio::test]
async fn daily_set_refuses_channels_it_cannot_post_in() {
    let (fake, _dir, bot) = boot_at(offset_to("2026-03-10 08:00:00")).await;
    for (channel, why) in [
        (VOICE_CHANNEL_ID, "not a text or announcement channel"),
        (CATEGORY_ID, "not a text or announcement channel"),
        (FOREIGN_CHANNEL_ID, "not in this server"),
    ] {
        let data = admin_daily(
            &fake,
            "set",
            json!({"channel": {"type": 7, "value": channel}, "time": "09:00", "timezone": ZONE}),
        )
        .await;
        let text = data["content"].as_str().unwrap_or_default().to_string() + &embed_text(&data);
        assert!(text.contains(why), "{channel}: {text}");
        assert!(is_ephemeral(&data));
    }
    let store = SqliteStore::open(&bot.app.config.storage.path).unwrap();
    assert!(
        store.schedule(GUILD_ID).unwrap().is_none(),
        "nothing was scheduled"
    );
    bot.shutdown().await;
}
