//! Starting the real bot (library entry point, real serenity client) against the fake.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::SignedDuration;
use prepbot::bank::Bank;
use prepbot::config::{Config, RevealMode, Secret};
use prepbot::discord::{self, Bot, Clock, StartOptions};
use serde_json::Value;

use super::{FakeDiscord, Recorded, GUILD_ID, TOKEN};

pub const WAIT: Duration = Duration::from_secs(10);

/// The shipped bank (`questions.toml` and `questions/`), copied into `dir` so a test can edit
/// it; returns the seed file, which most tests serve alone.
pub fn copy_bank(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dst = dir.join("questions.toml");
    std::fs::copy(root.join("questions.toml"), &dst).unwrap();
    // The topic files too, so a config with the default `bank.paths` finds them.
    let topics = dir.join("questions");
    std::fs::create_dir_all(&topics).unwrap();
    for f in std::fs::read_dir(root.join("questions")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, topics.join(f.file_name().unwrap())).unwrap();
    }
    dst
}

/// A config for the fake: its base URL and token, commands in the test guild, the bank and
/// database in `dir`, short quiz timings.
pub fn config(fake: &FakeDiscord, dir: &Path) -> Config {
    let mut c = Config::default();
    c.discord.token = Some(Secret::new(TOKEN));
    c.discord.api_base = Some(fake.api_base());
    c.discord.guild_id = Some(GUILD_ID);
    let bank = dir.join("questions.toml");
    if !bank.exists() {
        copy_bank(dir);
    }
    c.bank.paths = vec![bank];
    c.storage.path = dir.join("prepbot.db");
    c.reveal.mode = RevealMode::Reply;
    c.quiz.min_seconds = 1;
    c.quiz.intermission_seconds = 0;
    c
}

/// Options for tests: fast retries, a seeded RNG, and the clock shifted by `offset`.
pub fn options(offset: SignedDuration) -> StartOptions {
    StartOptions {
        clock: Clock::offset(offset),
        delivery: discord::deliver::Policy {
            attempts: 5,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
        },
        seed: Some(7),
    }
}

/// Starts the bot and waits until it has connected and registered its commands.
pub async fn start(fake: &FakeDiscord, config: Config, opts: StartOptions) -> Bot {
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        use tracing_subscriber::Layer;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "warn,prepbot=info".into());
        // As the binary's `logging::init`: the lines, and the gateway watch behind /healthz.
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(filter),
            )
            .with(prepbot::discord::health::gateway_watch())
            .try_init();
    }
    let bank = Bank::load(&config.bank.paths).expect("test bank loads");
    let registered_before = fake.count(is_registration);
    let bot = discord::start(config, bank, opts)
        .await
        .expect("bot starts");
    fake.wait_ready(WAIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while fake.count(is_registration) <= registered_before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot did not register its commands"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bot
}

pub fn is_registration(r: &Recorded) -> bool {
    r.method == "PUT" && r.path.ends_with("/commands")
}

/// The JSON of an interaction callback's `data`.
pub fn callback_data(r: &Recorded) -> &Value {
    &r.body["data"]
}

/// Whether a callback or message body is ephemeral (flag 64).
pub fn is_ephemeral(data: &Value) -> bool {
    data["flags"].as_u64().unwrap_or(0) & 64 != 0
}

/// The text of every embed of a message or callback body.
pub fn embed_text(data: &Value) -> String {
    let mut s = String::new();
    for e in data["embeds"].as_array().into_iter().flatten() {
        for k in ["title", "description"] {
            if let Some(t) = e[k].as_str() {
                s.push_str(t);
                s.push('\n');
            }
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            s.push_str(f["name"].as_str().unwrap_or_default());
            s.push_str(": ");
            s.push_str(f["value"].as_str().unwrap_or_default());
            s.push('\n');
        }
        if let Some(t) = e["footer"]["text"].as_str() {
            s.push_str(t);
            s.push('\n');
        }
    }
    s
}

/// Every body the bot sent that creates or edits a message.
pub fn message_bodies(fake: &FakeDiscord) -> Vec<(Recorded, Value)> {
    fake.requests()
        .into_iter()
        .filter_map(|r| {
            let data = if r.path.ends_with("/callback") {
                let t = r.body["type"].as_u64()?;
                if t == 4 || t == 7 {
                    r.body["data"].clone()
                } else {
                    return None;
                }
            } else if (r.method == "POST" && r.path.ends_with("/messages"))
                || (r.method == "PATCH" && r.path.contains("/messages/"))
                || (r.method == "POST" && r.path.starts_with("/webhooks/"))
            {
                r.body.clone()
            } else {
                return None;
            };
            Some((r, data))
        })
        .collect()
}

/// Asserts that every message the bot sent carries `allowed_mentions` that allow nothing
/// beyond `allowed_role` (when given).
pub fn assert_no_unwanted_mentions(fake: &FakeDiscord, allowed_role: Option<u64>) {
    let bodies = message_bodies(fake);
    assert!(!bodies.is_empty(), "the bot sent no messages");
    for (r, data) in bodies {
        let am = &data["allowed_mentions"];
        assert!(
            am.is_object(),
            "{} {} has no allowed_mentions: {data}",
            r.method,
            r.path
        );
        assert_eq!(
            am["parse"],
            serde_json::json!([]),
            "{} {}: {am}",
            r.method,
            r.path
        );
        assert_eq!(
            am["users"],
            serde_json::json!([]),
            "{} {}: {am}",
            r.method,
            r.path
        );
        let roles = am["roles"].as_array().cloned().unwrap_or_default();
        match allowed_role {
            Some(role) if !roles.is_empty() => {
                assert_eq!(roles, vec![Value::String(role.to_string())], "{am}")
            }
            _ => assert!(roles.is_empty(), "{} {}: {am}", r.method, r.path),
        }
        assert_ne!(am["replied_user"], Value::Bool(true), "{am}");
    }
}

/// Polls `f` until it returns `Some`, or panics after `WAIT` with `what`.
pub async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The index of the correct choice of a question message, from the bank.
pub fn correct_choice(bank: &Bank, q: &Value) -> usize {
    let embed = &q["embeds"][0];
    let prompt = embed["description"].as_str().expect("question text");
    let bq = bank
        .questions()
        .iter()
        .find(|b| b.question == prompt)
        .unwrap_or_else(|| panic!("question not in the bank: {prompt}"));
    // A question written for quizzes shows its quiz answer; any other its model answer.
    let answer = match &bq.quiz_answer {
        Some(qa) if bq.distractors.len() >= 3 => qa.trim(),
        _ => bq.answer.trim(),
    };
    let fields = embed["fields"].as_array().unwrap();
    let right: Vec<usize> = (0..4)
        .filter(|&i| fields[i]["value"].as_str() == Some(answer))
        .collect();
    assert_eq!(right.len(), 1, "the answer is one of the choices: {q}");
    right[0]
}

/// A member id like Discord's (a large snowflake), for benches that seed many members.
pub fn bench_member(i: u64) -> u64 {
    1_100_000_000_000_000_000 + i * 7_919
}

/// Seeds `members` members' practice cards for every question id, due from 30 days overdue
/// to 60 days ahead of `now_ms`, in one transaction through the store's own schema (benches:
/// a store as big as a large server's).
pub fn fill_practice_cards(path: &Path, members: u64, question_ids: &[String], now_ms: i64) {
    use rand::{Rng, SeedableRng};
    drop(prepbot::store::SqliteStore::open(path).expect("create the schema"));
    let mut conn = rusqlite::Connection::open(path).expect("open for the bulk insert");
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO practice_cards (user_id, question_id, due, stability, difficulty,
                 elapsed_days, scheduled_days, reps, lapses, phase, last_review, first_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'review', ?10, ?11)",
            )
            .unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let day = 86_400_000i64;
        for m in 0..members {
            for q in question_ids {
                let due = now_ms + rng.random_range(-30 * day..60 * day);
                let last = due - rng.random_range(day..20 * day);
                insert
                    .execute(rusqlite::params![
                        bench_member(m) as i64,
                        q,
                        due,
                        rng.random_range(1.0..40.0f64),
                        rng.random_range(1.0..10.0f64),
                        3,
                        5,
                        rng.random_range(1..20i64),
                        0,
                        last,
                        last - 30 * day,
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}
