//! SqliteStore::purge and SqliteStore::delete_member: exactly which rows go, which stay, and the
//! indexes that find them. Practice rows are never purged by age, only with their member.

use std::time::Duration;

use rusqlite::Connection;

use super::{Purged, Retention, MIGRATION};
use crate::practice::{scheduling, Grade, ReviewSource};
use crate::store::{
    sqlite::migrations, FinishState, PostKind, PostRow, PostState, QuestionMessage, ReviewEvent,
    ScoreRow, Source, SqliteStore,
};

const DAY: i64 = 86_400_000;
/// "Now" in the tests: far enough from the epoch that every period fits before it.
const NOW: i64 = 2_000 * DAY;

fn message(store: &SqliteStore, message_id: u64, created_at: i64) {
    let msg = QuestionMessage {
        message_id,
        channel_id: 5,
        guild_id: Some(1),
        question_id: "q".into(),
    };
    store
        .record_question_message(&msg, Source::Ask, created_at)
        .unwrap();
}

fn touch_bag(store: &SqliteStore, scope: &str, at: i64) {
    store
        .update_bag_at(scope, at, |b| b.mark_used("a"))
        .unwrap();
}

fn scopes(store: &SqliteStore) -> Vec<String> {
    store
        .query_all("SELECT scope FROM bags ORDER BY scope", [], "test", |r| {
            r.get(0)
        })
        .unwrap()
}

fn reveals(store: &SqliteStore) -> Vec<(u64, u64)> {
    store
        .query_all(
            "SELECT message_id, user_id FROM reveals ORDER BY message_id, user_id",
            [],
            "test",
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )
        .unwrap()
}

/// A settled (or pending) post of `guild`, created at `created_at`.
fn post(
    store: &SqliteStore,
    guild: u64,
    date: &str,
    number: i64,
    state: &str,
    kind: &str,
    at: i64,
) {
    let row = PostRow {
        id: 0,
        guild_id: guild,
        local_date: date.into(),
        number,
        question_id: "q".into(),
        channel_id: 5,
        nonce: format!("{guild}-{number}"),
        state: PostState::parse(state).expect("a post state"),
        message_id: Some(number as u64),
        thread_id: None,
        attempts: 1,
        error: None,
        created_at: at,
        sent_at: Some(at),
        kind: PostKind::parse(kind).expect("a post kind"),
        thread_wanted: false,
        reaction_done: true,
        opening_done: true,
        finish: FinishState::Done,
        finish_error: None,
    };
    if kind == "manual" {
        store.record_manual_post(&row).unwrap();
        return;
    }
    let intent = store.begin_post(&row).unwrap();
    match state {
        "sent" => store
            .mark_post_sent(intent.id, number as u64, at, false)
            .unwrap(),
        "failed" => store.mark_post_failed(intent.id, "Missing Access").unwrap(),
        _ => {}
    }
}

fn post_numbers(store: &SqliteStore, guild: u64) -> Vec<i64> {
    store
        .query_all(
            "SELECT number FROM daily_posts WHERE guild_id = ?1 ORDER BY number",
            [guild as i64],
            "test",
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn default_periods_are_the_documented_ones() {
    let r = Retention::default();
    assert_eq!(r.question_messages, Duration::from_secs(180 * 86_400));
    assert_eq!(r.member_bags, Duration::from_secs(90 * 86_400));
    assert_eq!(r.daily_posts, Duration::from_secs(400 * 86_400));
}

#[test]
fn question_messages_and_their_reveals_go_after_their_period() {
    let s = SqliteStore::open_in_memory().unwrap();
    let cutoff = NOW - 180 * DAY;
    message(&s, 1, cutoff - 1); // too old
    message(&s, 2, cutoff); // exactly the period: kept
    message(&s, 3, NOW);
    // The old message's reveals go with it, however recent the reveal.
    assert!(s.claim_reveal(1, 0, cutoff).unwrap());
    assert!(s.claim_reveal(1, 7, NOW - DAY).unwrap());
    assert!(s.claim_reveal(2, 7, cutoff).unwrap());
    assert!(s.claim_reveal(3, 0, NOW).unwrap());

    let purged = s.purge(NOW, &Retention::default()).unwrap();
    assert_eq!(
        purged,
        Purged {
            question_messages: 1,
            reveals: 2,
            ..Purged::default()
        }
    );
    assert!(s.question_message(1).unwrap().is_none());
    assert!(s.question_message(2).unwrap().is_some());
    assert!(s.question_message(3).unwrap().is_some());
    assert_eq!(reveals(&s), vec![(2, 7), (3, 0)]);
    assert_eq!(s.purge(NOW, &Retention::default()).unwrap().total(), 0);
}

#[test]
fn idle_member_bags_go_and_shared_bags_stay() {
    let s = SqliteStore::open_in_memory().unwrap();
    let cutoff = NOW - 90 * DAY;
    touch_bag(&s, "ask:user:1", cutoff - 1); // idle too long
    touch_bag(&s, "ask:user:2", cutoff - 5 * DAY);
    touch_bag(&s, "ask:user:2", cutoff); // drawn from again: its idle time restarts
    touch_bag(&s, "practice:user:3", cutoff - 1);
    touch_bag(&s, "practice:graphs:4", cutoff - 1);
    touch_bag(&s, "practice:user:5", NOW);
    // Channel, quiz and daily bags are shared and bounded by the server's size: kept.
    touch_bag(&s, "ask:channel:1", 0);
    touch_bag(&s, "quiz:channel:1", 0);
    touch_bag(&s, "daily:1", 0);

    let purged = s.purge(NOW, &Retention::default()).unwrap();
    assert_eq!(
        purged,
        Purged {
            member_bags: 3,
            ..Purged::default()
        }
    );
    assert_eq!(
        scopes(&s),
        [
            "ask:channel:1",
            "ask:user:2",
            "daily:1",
            "practice:user:5",
            "quiz:channel:1"
        ]
    );
}

#[test]
fn old_settled_posts_go_but_each_guild_keeps_its_latest_and_its_numbering() {
    let s = SqliteStore::open_in_memory().unwrap();
    let old = NOW - 401 * DAY;
    post(&s, 1, "2024-01-01", 1, "sent", "scheduled", old); // goes
    post(&s, 1, "2024-01-02", 2, "failed", "scheduled", old); // goes
    post(&s, 1, "2024-01-03", 3, "sent", "manual", old); // goes
    post(&s, 1, "2024-01-04", 4, "pending", "scheduled", old); // not settled: kept
    post(&s, 1, "2024-01-05", 5, "sent", "scheduled", old); // the latest settled: kept
    post(&s, 1, "2024-01-05", 6, "sent", "manual", old); // the highest number: kept
    post(&s, 2, "2024-01-01", 1, "sent", "scheduled", old); // goes
    post(&s, 2, "2025-06-01", 2, "sent", "scheduled", NOW - 400 * DAY); // in the period
    post(&s, 3, "2024-01-01", 1, "failed", "scheduled", old); // its guild's only post: kept
    let before: Vec<_> = (1..=3)
        .map(|g| {
            (
                s.last_posted_date(g).unwrap(),
                s.next_post_number(g).unwrap(),
            )
        })
        .collect();

    let purged = s.purge(NOW, &Retention::default()).unwrap();
    assert_eq!(
        purged,
        Purged {
            daily_posts: 4,
            ..Purged::default()
        }
    );
    assert_eq!(post_numbers(&s, 1), [4, 5, 6]);
    assert_eq!(post_numbers(&s, 2), [2]);
    assert_eq!(post_numbers(&s, 3), [1]);
    let after: Vec<_> = (1..=3)
        .map(|g| {
            (
                s.last_posted_date(g).unwrap(),
                s.next_post_number(g).unwrap(),
            )
        })
        .collect();
    assert_eq!(after, before, "last posted date and numbering unchanged");
    assert_eq!(s.last_post(1).unwrap().unwrap().number, 6);
}

#[test]
fn quiz_rounds_and_scores_are_never_purged() {
    let s = SqliteStore::open_in_memory().unwrap();
    let r = s.create_round(1, 10, 100, 1, 0).unwrap().unwrap();
    s.save_round_scores(r, 1, &[score(7, 1000)]).unwrap();
    s.end_round(r, crate::store::RoundStatus::Finished, 1)
        .unwrap();
    assert_eq!(s.purge(NOW, &Retention::default()).unwrap().total(), 0);
    assert_eq!(s.leaderboard(1, 10).unwrap().len(), 1);
}

/// A member's practice is theirs until they ask to be forgotten: years-old cards and log rows
/// survive the purge (the longest streak is made of the whole log).
#[test]
fn practice_rows_are_never_purged_by_age() {
    let s = SqliteStore::open_in_memory().unwrap();
    let old = ReviewEvent {
        at: jiff::Timestamp::UNIX_EPOCH,
        ..review_event(7, "a")
    };
    s.review_card(&old, |b| Some(scheduling::review(b, Grade::Good, old.at)))
        .unwrap();
    assert_eq!(s.purge(NOW, &Retention::default()).unwrap().total(), 0);
    assert_eq!(s.practice_cards(7).unwrap().len(), 1);
    assert_eq!(s.practice_activity(7).unwrap().len(), 1);
}

/// Each purge statement finds its rows through an index: on a database of years the hourly
/// purge must not read every row of a table while holding the store.
#[test]
fn purge_statements_use_indexes() {
    let s = SqliteStore::open_in_memory().unwrap();
    let conn = s.conn();
    for (what, sql) in super::PURGE {
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([0i64], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN")),
            "{what}: {plan:#?}"
        );
    }
}

/// Bags saved before the `updated_at` column count as used at the upgrade, so the first
/// purge does not empty every member's bag.
#[test]
// The migration stamps old bags with SQLite's clock; the test compares with the real one.
#[allow(clippy::disallowed_methods)]
fn bags_from_before_the_migration_count_as_used_at_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prepbot.db");
    let mut conn = Connection::open(&path).unwrap();
    migrations::apply_before(&mut conn, MIGRATION).unwrap();
    conn.execute(
        "INSERT INTO bags (scope, state) VALUES ('ask:user:1', '{}')",
        [],
    )
    .unwrap();
    drop(conn);
    let s = SqliteStore::open(&path).unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let stamped: i64 = s
        .conn()
        .query_row("SELECT updated_at FROM bags", [], |r| r.get(0))
        .unwrap();
    assert!((now - stamped).abs() < DAY, "stamped {stamped}, now {now}");
    let purged = s.purge(now + 89 * DAY, &Retention::default()).unwrap();
    assert_eq!(purged.total(), 0);
}

fn review_event(user_id: u64, question_id: &str) -> ReviewEvent {
    ReviewEvent {
        user_id,
        question_id: question_id.into(),
        grade: Some(Grade::Good),
        source: ReviewSource::Practice,
        at: jiff::Timestamp::from_millisecond(NOW).unwrap(),
        guild_id: Some(1),
        message_id: None,
    }
}

fn practice_review(store: &SqliteStore, user_id: u64, question_id: &str) {
    let e = review_event(user_id, question_id);
    store
        .review_card(&e, |before| {
            Some(scheduling::review(before, Grade::Good, e.at))
        })
        .unwrap();
}

fn score(user_id: u64, points_milli: i64) -> ScoreRow {
    ScoreRow {
        user_id,
        points_milli,
        correct: 1,
        answered: 1,
    }
}

#[test]
fn delete_member_forgets_their_reveals_bags_and_scores_only() {
    let s = SqliteStore::open_in_memory().unwrap();
    message(&s, 1, NOW);
    assert!(s.claim_reveal(1, 0, NOW).unwrap()); // everyone's reveal: not theirs
    assert!(s.claim_reveal(1, 7, NOW).unwrap());
    assert!(s.claim_reveal(1, 8, NOW).unwrap());
    for scope in [
        "ask:user:7",
        "practice:user:7",
        "ask:user:77",
        "ask:user:17",
        "ask:channel:7",
        "quiz:channel:7",
        "daily:7",
    ] {
        touch_bag(&s, scope, NOW);
    }
    // An ended round with both, one with only them, and their running round.
    let shared = s.create_round(1, 10, 7, 1, 0).unwrap().unwrap();
    s.save_round_scores(shared, 1, &[score(7, 900), score(8, 500)])
        .unwrap();
    s.end_round(shared, crate::store::RoundStatus::Finished, 1)
        .unwrap();
    let alone = s.create_round(1, 11, 7, 1, 0).unwrap().unwrap();
    s.save_round_scores(alone, 1, &[score(7, 1000)]).unwrap();
    s.end_round(alone, crate::store::RoundStatus::Finished, 1)
        .unwrap();
    // Practice: two cards and a daily reveal of theirs, one card of the other member.
    for (user, question) in [(7, "a"), (7, "b"), (8, "a")] {
        practice_review(&s, user, question);
    }
    let reveal = ReviewEvent {
        grade: None,
        message_id: Some(1),
        ..review_event(7, "c")
    };
    assert!(s.record_reveal(&reveal).unwrap());
    // Reminders: both members opted in, and each has one day recorded.
    for user in [7, 8] {
        s.put_reminder(&crate::store::ReminderRow {
            user_id: user,
            time: "09:00".into(),
            tz: "UTC".into(),
            armed_from: 0,
        })
        .unwrap();
        s.begin_reminder(&crate::store::ReminderSend {
            id: 0,
            user_id: user,
            local_date: "2026-03-10".into(),
            nonce: format!("r{user}"),
            state: crate::store::ReminderState::Pending,
            due: 1,
            channel_id: None,
            message_id: None,
            attempts: 0,
            error: None,
            created_at: NOW,
            sent_at: None,
        })
        .unwrap();
    }

    let gone = s.delete_member(7).unwrap();
    assert_eq!(
        (gone.reveals, gone.member_bags, gone.quiz_scores),
        (1, 2, 2)
    );
    assert_eq!((gone.practice_cards, gone.practice_reviews), (2, 3));
    assert_eq!((gone.reminder_settings, gone.reminder_sends), (1, 1));
    assert_eq!(s.reminder(7).unwrap(), None);
    assert_eq!(s.reminder_send(7, "2026-03-10").unwrap(), None);
    assert!(
        s.reminder(8).unwrap().is_some(),
        "the other member's setting stays"
    );
    assert!(s.reminder_send(8, "2026-03-10").unwrap().is_some());
    assert!(s.practice_cards(7).unwrap().is_empty());
    assert!(s.practice_activity(7).unwrap().is_empty());
    assert_eq!(
        s.practice_cards(8).unwrap().len(),
        1,
        "the other member's card stays"
    );
    assert_eq!(s.practice_activity(8).unwrap().len(), 1);
    assert_eq!(reveals(&s), vec![(1, 0), (1, 8)]);
    assert_eq!(
        scopes(&s),
        [
            "ask:channel:7",
            "ask:user:17",
            "ask:user:77",
            "daily:7",
            "quiz:channel:7"
        ]
    );
    assert_eq!(s.round_scores(shared).unwrap(), vec![score(8, 500)]);
    assert!(s.round_scores(alone).unwrap().is_empty());
    let board = s.leaderboard(1, 10).unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(board[0].user_id, 8);
    assert_eq!(s.delete_member(7).unwrap().total(), 0, "nothing left");
}

/// User id 0 marks a reveal shown to everyone; it is nobody's to forget.
#[test]
fn delete_member_zero_deletes_nothing() {
    let s = SqliteStore::open_in_memory().unwrap();
    message(&s, 1, NOW);
    assert!(s.claim_reveal(1, 0, NOW).unwrap());
    assert_eq!(s.delete_member(0).unwrap().total(), 0);
    assert_eq!(reveals(&s), vec![(1, 0)]);
}
