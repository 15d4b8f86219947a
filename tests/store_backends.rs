//! One behaviour suite for both store backends: every case runs on SQLite and on PostgreSQL.
//!
//! The guarantees the bot leans on are checked across two handles to one database (two
//! connections to one SQLite file, two pools on one PostgreSQL database), the way two bot
//! processes share it, with the calls racing on a multi-threaded runtime: one daily intent
//! per guild and date, one reveal claim, no lost bag draw, one review per card state, one
//! running round per channel, one reminder per member and date. Then the data paths: posts,
//! rounds and scores, practice, reminders, the purge and forgetting a member, schema
//! versions, concurrent first starts, and `prepbot migrate`'s copy.

mod support;

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use prepbot::config::StorageConfig;
use prepbot::practice::{scheduling, CardState, Grade, ReviewSource};
use prepbot::store::{
    copy_sqlite_to_postgres, FinishState, PostKind, PostRow, PostState, QuestionMessage,
    ReminderSend, ReminderState, Retention, ReviewEvent, Reviewed, RoundStatus, ScheduleRow,
    ScoreRow, Source, SqliteStore, Store,
};
use support::pg;

/// One database, and how to open another handle to it.
struct Db {
    name: &'static str,
    storage: StorageConfig,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    async fn open(&self) -> Store {
        Store::open(&self.storage).await.expect("open the store")
    }
}

/// A fresh SQLite file and a fresh PostgreSQL database (when one is available).
async fn databases() -> Vec<Db> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StorageConfig {
        path: dir.path().join("prepbot.db"),
        ..StorageConfig::default()
    };
    let mut dbs = vec![Db {
        name: "sqlite",
        storage: sqlite,
        _dir: Some(dir),
    }];
    if let Some(url) = pg::fresh_database().await {
        dbs.push(Db {
            name: "postgres",
            storage: StorageConfig {
                url: Some(url),
                ..StorageConfig::default()
            },
            _dir: None,
        });
    }
    dbs
}

fn intent(guild_id: u64, date: &str, nonce: &str) -> PostRow {
    PostRow {
        id: 0,
        guild_id,
        local_date: date.into(),
        number: 1,
        question_id: "q1".into(),
        channel_id: 7,
        nonce: nonce.into(),
        state: PostState::Pending,
        message_id: None,
        thread_id: None,
        attempts: 0,
        error: None,
        created_at: 1_000,
        sent_at: None,
        kind: PostKind::Scheduled,
        thread_wanted: true,
        reaction_done: false,
        opening_done: false,
        finish: FinishState::Pending,
        finish_error: None,
    }
}

/// Two handles racing `n` calls each; returns every result.
async fn race<T, F, Fut>(a: &Arc<Store>, b: &Arc<Store>, n: usize, call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<Store>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut tasks = Vec::new();
    for i in 0..n {
        tasks.push(tokio::spawn(call(a.clone(), 2 * i)));
        tasks.push(tokio::spawn(call(b.clone(), 2 * i + 1)));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_daily_intent_per_guild_and_date_across_handles() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        let rows = race(&a, &b, 10, |s, i| async move {
            s.begin_post(&intent(42, "2026-03-10", &format!("nonce-{i}")))
                .await
                .unwrap()
        })
        .await;
        let first = &rows[0];
        assert!(
            rows.iter()
                .all(|r| r.id == first.id && r.nonce == first.nonce),
            "{}: every racer got the one intent",
            db.name
        );
        // Another date or guild is a row of its own.
        let other = a.begin_post(&intent(42, "2026-03-11", "x")).await.unwrap();
        assert_ne!(other.id, first.id, "{}", db.name);
        a.mark_post_sent(first.id, 555, 2_000, true).await.unwrap();
        let read = b.post(42, "2026-03-10").await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.message_id, read.finish),
            (PostState::Sent, Some(555), FinishState::Pending),
            "{}",
            db.name
        );
        assert_eq!(b.unfinished_posts().await.unwrap().len(), 1, "{}", db.name);
        b.mark_post_reaction_done(first.id).await.unwrap();
        b.set_post_finish(first.id, FinishState::Done, None)
            .await
            .unwrap();
        assert!(
            a.unfinished_posts().await.unwrap().is_empty(),
            "{}",
            db.name
        );
        assert_eq!(
            a.last_posted_date(42).await.unwrap().as_deref(),
            Some("2026-03-10"),
            "{}",
            db.name
        );
        assert_eq!(a.next_post_number(42).await.unwrap(), 2, "{}", db.name);
        assert_eq!(a.next_post_number(43).await.unwrap(), 1, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reveal_claim_across_handles() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        let won = race(&a, &b, 8, |s, _| async move {
            s.claim_reveal(99, 5, 1).await.unwrap()
        })
        .await;
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{}", db.name);
        a.release_reveal(99, 5).await.unwrap();
        assert!(b.claim_reveal(99, 5, 2).await.unwrap(), "{}", db.name);
        b.set_reveal_message(99, 5, 1234).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bag_draws_are_never_lost_across_handles() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        // Each draw appends to the bag and returns how many were there: a lost update would
        // show as two draws seeing the same count.
        let mut seen = race(&a, &b, 25, |s, i| async move {
            s.update_bag_at("channel:7", i as i64, |bag| {
                let n = bag.used_count();
                bag.mark_used(&format!("q{n}"));
                n
            })
            .await
            .unwrap()
        })
        .await;
        seen.sort();
        assert_eq!(seen, (0..50).collect::<Vec<_>>(), "{}", db.name);
        assert_eq!(
            a.bag("channel:7").await.unwrap().used_count(),
            50,
            "{}",
            db.name
        );
        assert!(
            a.bag("nothing").await.unwrap().used_count() == 0,
            "{}",
            db.name
        );
    }
}

fn review(user_id: u64, question: &str, at: &str) -> ReviewEvent {
    ReviewEvent {
        user_id,
        question_id: question.into(),
        grade: Some(Grade::Good),
        source: ReviewSource::Practice,
        at: at.parse().unwrap(),
        guild_id: Some(1),
        message_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_review_per_card_state_across_handles() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        // Like a stale button: each click applies only to the card as it saw it (new).
        let outcomes = race(&a, &b, 5, |s, _| async move {
            let e = review(7, "cap-theorem", "2026-03-10T10:00:00Z");
            s.review_card(&e, |before: Option<&CardState>| {
                before
                    .is_none()
                    .then(|| scheduling::review(None, Grade::Good, e.at))
            })
            .await
            .unwrap()
        })
        .await;
        let done = outcomes
            .iter()
            .filter(|o| matches!(o, Reviewed::Done(_)))
            .count();
        assert_eq!(done, 1, "{}: exactly one click applied", db.name);
        let card = a.practice_card(7, "cap-theorem").await.unwrap().unwrap();
        assert_eq!(card.reps, 1, "{}", db.name);
        let cards = b.practice_cards(7).await.unwrap();
        assert_eq!(cards.len(), 1, "{}", db.name);
        assert_eq!(cards[0].question_id, "cap-theorem", "{}", db.name);
        // The quiz path: several cards in one transaction.
        let events = vec![
            review(7, "cap-theorem", "2026-03-14T10:00:00Z"),
            review(8, "cap-theorem", "2026-03-14T10:00:00Z"),
        ];
        a.review_cards(&events, |before, e| {
            scheduling::review(before, Grade::Good, e.at)
        })
        .await
        .unwrap();
        assert_eq!(
            b.practice_card(7, "cap-theorem")
                .await
                .unwrap()
                .unwrap()
                .reps,
            2,
            "{}",
            db.name
        );
        // A reveal of the daily question is logged once per member and message.
        let mut reveal = review(9, "q", "2026-03-14T11:00:00Z");
        reveal.message_id = Some(77);
        assert!(a.record_reveal(&reveal).await.unwrap(), "{}", db.name);
        assert!(!b.record_reveal(&reveal).await.unwrap(), "{}", db.name);
        a.put_schedule(&schedule(1)).await.unwrap();
        let log = b.practice_activity(7).await.unwrap();
        assert_eq!(log.len(), 2, "{}", db.name);
        assert_eq!(log[0].tz.as_deref(), Some("Europe/Berlin"), "{}", db.name);
        assert_eq!(log[0].grade, Some(Grade::Good), "{}", db.name);
    }
}

fn schedule(guild_id: u64) -> ScheduleRow {
    ScheduleRow {
        guild_id,
        channel_id: 7,
        time: "09:00".into(),
        tz: "Europe/Berlin".into(),
        role_id: Some(3),
        filter: "{}".into(),
        thread: true,
        paused: false,
        skip_date: None,
        armed_from: 5,
        last_error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rounds_scores_and_the_leaderboard() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        let started = race(&a, &b, 3, |s, _| async move {
            s.create_round(1, 7, 5, 10, 0).await.unwrap()
        })
        .await;
        let ids: Vec<i64> = started.into_iter().flatten().collect();
        assert_eq!(ids.len(), 1, "{}: one running round per channel", db.name);
        let round = ids[0];
        let scores = vec![
            ScoreRow {
                user_id: 11,
                points_milli: 1500,
                correct: 1,
                answered: 1,
            },
            ScoreRow {
                user_id: 12,
                points_milli: 0,
                correct: 0,
                answered: 1,
            },
        ];
        a.save_round_scores(round, 1, &scores).await.unwrap();
        assert_eq!(b.round_scores(round).await.unwrap(), scores, "{}", db.name);
        let running = b.running_rounds().await.unwrap();
        assert_eq!(running.len(), 1, "{}", db.name);
        assert_eq!(running[0].questions_played, 1, "{}", db.name);
        // Running rounds are not on the leaderboard yet.
        assert!(
            a.leaderboard(1, 10).await.unwrap().is_empty(),
            "{}",
            db.name
        );
        a.end_round(round, RoundStatus::Finished, 9).await.unwrap();
        let board = b.leaderboard(1, 10).await.unwrap();
        assert_eq!(board.len(), 2, "{}", db.name);
        assert_eq!(
            (board[0].user_id, board[0].points_milli, board[0].rounds),
            (11, 1500, 1),
            "{}",
            db.name
        );
        // The channel is free again.
        assert!(a.create_round(1, 7, 5, 10, 10).await.unwrap().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reminder_per_member_and_date_across_handles() {
    for db in databases().await {
        let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
        let sends = race(&a, &b, 5, |s, i| async move {
            s.begin_reminder(&ReminderSend {
                id: 0,
                user_id: 7,
                local_date: "2026-03-10".into(),
                nonce: format!("n{i}"),
                state: ReminderState::Pending,
                due: 3,
                channel_id: None,
                message_id: None,
                attempts: 0,
                error: None,
                created_at: 1,
                sent_at: None,
            })
            .await
            .unwrap()
        })
        .await;
        assert!(sends.iter().all(|s| s.id == sends[0].id), "{}", db.name);
        a.reminder_attempt(sends[0].id, 99).await.unwrap();
        a.mark_reminder_sent(sends[0].id, 1234, 5).await.unwrap();
        let read = b.reminder_send(7, "2026-03-10").await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.channel_id, read.message_id, read.due),
            (ReminderState::Sent, Some(99), Some(1234), 3),
            "{}",
            db.name
        );
        assert_eq!(
            b.last_reminder_date(7).await.unwrap().as_deref(),
            Some("2026-03-10"),
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_and_forget_a_member() {
    const DAY: i64 = 86_400_000;
    let now = 2_000 * DAY;
    for db in databases().await {
        let s = db.open().await;
        for (message_id, at) in [(1u64, now - 200 * DAY), (2, now - DAY)] {
            s.record_question_message(
                &QuestionMessage {
                    message_id,
                    channel_id: 7,
                    guild_id: Some(1),
                    question_id: "q".into(),
                },
                Source::Ask,
                at,
            )
            .await
            .unwrap();
            s.claim_reveal(message_id, 5, at).await.unwrap();
        }
        s.update_bag_at("ask:1:user:5", now - 100 * DAY, |_| ())
            .await
            .unwrap();
        s.update_bag_at("ask:channel:7", now - 100 * DAY, |_| ())
            .await
            .unwrap();
        let purged = s.purge(now, &Retention::default()).await.unwrap();
        assert_eq!(
            (
                purged.question_messages,
                purged.reveals,
                purged.member_bags,
                purged.daily_posts
            ),
            (1, 1, 1, 0),
            "{}",
            db.name
        );
        assert!(
            s.question_message(1).await.unwrap().is_none(),
            "{}",
            db.name
        );
        assert_eq!(
            s.question_source(2).await.unwrap(),
            Some(Source::Ask),
            "{}",
            db.name
        );
        s.update_bag_at("ask:1:user:5", now, |_| ()).await.unwrap();
        s.review_card(&review(5, "q", "2026-03-10T10:00:00Z"), |b| {
            Some(scheduling::review(b, Grade::Good, Timestamp::UNIX_EPOCH))
        })
        .await
        .unwrap();
        let gone = s.delete_member(5).await.unwrap();
        assert_eq!(
            (
                gone.reveals,
                gone.member_bags,
                gone.practice_cards,
                gone.practice_reviews
            ),
            (1, 1, 1, 1),
            "{}",
            db.name
        );
        assert_eq!(s.delete_member(0).await.unwrap().total(), 0, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schedules_round_trip_and_manual_posts_are_numbered() {
    for db in databases().await {
        let s = db.open().await;
        let mut row = schedule(u64::MAX >> 1);
        s.put_schedule(&row).await.unwrap();
        assert_eq!(
            s.schedule(row.guild_id).await.unwrap(),
            Some(row.clone()),
            "{}: big ids round-trip",
            db.name
        );
        row.paused = true;
        row.skip_date = Some("2026-03-11".into());
        s.put_schedule(&row).await.unwrap();
        s.set_schedule_error(row.guild_id, Some("no permission"))
            .await
            .unwrap();
        let back = s.schedules().await.unwrap();
        assert_eq!(back.len(), 1, "{}", db.name);
        assert!(back[0].paused, "{}", db.name);
        assert_eq!(back[0].last_error.as_deref(), Some("no permission"));
        let mut manual = intent(row.guild_id, "2026-03-10", "m");
        manual.state = PostState::Sent;
        manual.message_id = Some(5);
        let id = s.record_manual_post(&manual).await.unwrap();
        let last = s.last_post(row.guild_id).await.unwrap().unwrap();
        assert_eq!((last.id, last.kind), (id, PostKind::Manual), "{}", db.name);
        // A manual post never counts as the day's scheduled one.
        assert!(s.post(row.guild_id, "2026-03-10").await.unwrap().is_none());
        assert!(s.delete_schedule(row.guild_id).await.unwrap());
        assert!(!s.delete_schedule(row.guild_id).await.unwrap());
        s.ping().await.unwrap();
        assert_eq!(s.schema_version().await.unwrap(), 5, "{}", db.name);
    }
}

/// Replicas start together on an empty database: both must migrate it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_starts_migrate_once() {
    for db in databases().await {
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let storage = db.storage.clone();
                tokio::spawn(async move { Store::open(&storage).await })
            })
            .collect();
        for s in starts {
            let s = s
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: {e}", db.name));
            assert_eq!(s.schema_version().await.unwrap(), 5, "{}", db.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_postgres_schema_is_refused() {
    let Some(url) = pg::fresh_database().await else {
        return;
    };
    let storage = StorageConfig {
        url: Some(url.clone()),
        ..StorageConfig::default()
    };
    drop(Store::open(&storage).await.unwrap());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .execute("UPDATE prepbot_schema SET version = 99", &[])
        .await
        .unwrap();
    let err = Store::open(&storage)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("schema version 99") && err.contains("knows only up to 5"),
        "{err}"
    );
    // An unreachable server is refused at start, naming it.
    let nowhere = StorageConfig {
        url: Some("postgres://prepbot@127.0.0.1:1/prepbot".into()),
        ..StorageConfig::default()
    };
    let err = Store::open(&nowhere)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("cannot connect to PostgreSQL at postgres://prepbot@127.0.0.1:1/prepbot"),
        "{err}"
    );
}

fn fill_sqlite(path: &Path) -> SqliteStore {
    let s = SqliteStore::open(path).unwrap();
    s.put_schedule(&schedule(1)).unwrap();
    let p = s.begin_post(&intent(1, "2026-03-10", "n")).unwrap();
    s.mark_post_sent(p.id, 77, 5, true).unwrap();
    for i in 0..1_200u64 {
        s.record_question_message(
            &QuestionMessage {
                message_id: 10_000 + i,
                channel_id: 7,
                guild_id: Some(1),
                question_id: format!("q{i}"),
            },
            Source::Daily,
            i as i64,
        )
        .unwrap();
    }
    let round = s.create_round(1, 7, 5, 3, 0).unwrap().unwrap();
    s.save_round_scores(
        round,
        1,
        &[ScoreRow {
            user_id: 11,
            points_milli: 900,
            correct: 1,
            answered: 1,
        }],
    )
    .unwrap();
    s.end_round(round, RoundStatus::Finished, 3).unwrap();
    for q in ["a", "b", "c"] {
        s.review_card(&review(11, q, "2026-03-10T10:00:00Z"), |b| {
            Some(scheduling::review(b, Grade::Hard, Timestamp::UNIX_EPOCH))
        })
        .unwrap();
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_sqlite_into_postgres_and_verifies_counts() {
    let Some(url) = pg::fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prepbot.db");
    drop(fill_sqlite(&path));
    let copied = copy_sqlite_to_postgres(&path, &url, None).await.unwrap();
    let count = |t: &str| {
        copied
            .tables
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, n)| *n)
    };
    assert_eq!(count("question_messages"), Some(1_200));
    assert_eq!(count("daily_posts"), Some(1));
    assert_eq!(count("practice_cards"), Some(3));
    assert_eq!(count("practice_reviews"), Some(3));
    assert_eq!(count("quiz_scores"), Some(1));
    // The copy reads like the original, and new rows get fresh ids after the copied ones.
    let pg = Store::open(&StorageConfig {
        url: Some(url.clone()),
        ..StorageConfig::default()
    })
    .await
    .unwrap();
    let post = pg.post(1, "2026-03-10").await.unwrap().unwrap();
    assert_eq!((post.message_id, post.thread_wanted), (Some(77), true));
    assert_eq!(pg.schedule(1).await.unwrap(), Some(schedule(1)));
    assert_eq!(pg.leaderboard(1, 5).await.unwrap()[0].points_milli, 900);
    assert_eq!(pg.practice_cards(11).await.unwrap().len(), 3);
    let next = pg.begin_post(&intent(1, "2026-03-11", "m")).await.unwrap();
    assert!(next.id > post.id);
    // A second copy into the now non-empty database is refused, and changes nothing.
    let err = copy_sqlite_to_postgres(&path, &url, None)
        .await
        .expect_err("refused")
        .to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(pg.practice_cards(11).await.unwrap().len(), 3);
}

/// The command a host runs: `prepbot migrate --to URL`, through the built binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migrate_command_copies_and_refuses_a_password_in_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[storage]\npath = \"state/prepbot.db\"\n").unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    drop(fill_sqlite(&dir.path().join("state/prepbot.db")));
    let prepbot = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_prepbot"));
        c.env_remove("DISCORD_TOKEN")
            .env_remove("PGPASSWORD")
            .arg("--config")
            .arg(&config);
        c
    };
    let out = prepbot()
        .args([
            "migrate",
            "--to",
            "postgres://prepbot:hunter22@127.0.0.1/prepbot",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("password") && !stderr.contains("hunter22"),
        "{stderr}"
    );
    let Some(url) = pg::fresh_database().await else {
        return;
    };
    let out = prepbot().args(["migrate", "--to", &url]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("question_messages        1200 rows (counts match)"),
        "{stdout}"
    );
    assert!(stdout.contains("copied 1210 rows"), "{stdout}");
}

/// TLS: `sslmode=prefer` (the default) falls back to plain text on a server without TLS, as
/// every other test here shows; `sslmode=require` refuses that server at start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_require_refuses_a_server_without_tls() {
    let Some(url) = pg::fresh_database().await else {
        return;
    };
    let storage = StorageConfig {
        url: Some(format!("{url}?sslmode=require")),
        ..StorageConfig::default()
    };
    let err = Store::open(&storage)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("cannot connect to PostgreSQL") && err.contains("TLS"),
        "{err}"
    );
}
