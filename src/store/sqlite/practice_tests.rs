//! The practice tables: cards and their first-seen time, the review log and its one reveal per
//! message, the zone join for streak days, the upgrade from the schema before, and the query
//! plans that keep a member's queue one index read.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;

use super::{ReviewEvent, Reviewed, MIGRATION};
use crate::practice::{scheduling, CardState, Grade, ReviewSource};
use crate::store::{sqlite::migrations, ScheduleRow, SqliteStore};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn event(user_id: u64, question_id: &str, grade: Grade, at: Timestamp) -> ReviewEvent {
    ReviewEvent {
        user_id,
        question_id: question_id.into(),
        grade: Some(grade),
        source: ReviewSource::Practice,
        at,
        guild_id: Some(1),
        message_id: None,
    }
}

fn grade(store: &SqliteStore, e: &ReviewEvent) -> CardState {
    let g = e.grade.unwrap();
    match store
        .review_card(e, |b| Some(scheduling::review(b, g, e.at)))
        .unwrap()
    {
        Reviewed::Done(c) => c,
        other => panic!("refused: {other:?}"),
    }
}

#[test]
fn a_review_creates_then_updates_the_card_and_logs_each_time() {
    let s = SqliteStore::open_in_memory().unwrap();
    let t0 = t("2026-03-10T19:00:00Z");
    assert_eq!(s.practice_card(7, "acid").unwrap(), None);
    let first = grade(&s, &event(7, "acid", Grade::Good, t0));
    assert_eq!(s.practice_card(7, "acid").unwrap(), Some(first.clone()));
    let cards = s.practice_cards(7).unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(
        (cards[0].due, cards[0].first_seen, cards[0].reps),
        (first.due, t0, 1)
    );

    let t1 = first.due + SignedDuration::from_hours(2);
    let second = grade(&s, &event(7, "acid", Grade::Again, t1));
    assert_eq!(second.reps, 2);
    let cards = s.practice_cards(7).unwrap();
    assert_eq!(cards[0].due, second.due);
    assert_eq!(cards[0].first_seen, t0, "first seen stays");
    assert_eq!(cards[0].reps, 2);

    let log = s.practice_activity(7).unwrap();
    let grades: Vec<_> = log.iter().map(|a| (a.grade, a.at, a.source)).collect();
    assert_eq!(
        grades,
        [
            (Some(Grade::Good), t0, ReviewSource::Practice),
            (Some(Grade::Again), t1, ReviewSource::Practice)
        ]
    );
    assert!(s.practice_cards(8).unwrap().is_empty(), "per member");
}

#[test]
fn a_refused_review_writes_nothing() {
    let s = SqliteStore::open_in_memory().unwrap();
    let t0 = t("2026-03-10T19:00:00Z");
    let first = grade(&s, &event(7, "acid", Grade::Good, t0));
    let later = event(7, "acid", Grade::Easy, t0 + SignedDuration::from_hours(1));
    let out = s
        .review_card(&later, |b| {
            assert_eq!(b, Some(&first));
            None
        })
        .unwrap();
    assert_eq!(out, Reviewed::Refused(Some(first.clone())));
    assert_eq!(s.practice_card(7, "acid").unwrap(), Some(first));
    assert_eq!(s.practice_activity(7).unwrap().len(), 1);
}

/// Two clicks on the same stale button at once: the check runs inside the transaction, so
/// exactly one applies.
#[test]
fn two_reviews_of_the_same_state_at_once_apply_once() {
    let s = Arc::new(SqliteStore::open_in_memory().unwrap());
    let at = t("2026-03-10T19:00:00Z");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                let e = event(7, "acid", Grade::Good, at);
                // The button was shown for a card never reviewed (0 reviews).
                s.review_card(&e, |b| {
                    (b.map_or(0, |c| c.reps) == 0).then(|| scheduling::review(b, Grade::Good, at))
                })
                .unwrap()
            })
        })
        .collect();
    let done = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|r| matches!(r, Reviewed::Done(_)))
        .count();
    assert_eq!(done, 1);
    assert_eq!(s.practice_card(7, "acid").unwrap().unwrap().reps, 1);
    assert_eq!(s.practice_activity(7).unwrap().len(), 1);
}

#[test]
fn cards_come_most_overdue_first() {
    let s = SqliteStore::open_in_memory().unwrap();
    let t0 = t("2026-03-01T19:00:00Z");
    // Easy (15 days), Again (1 day), Good (3 days): due order b, c, a.
    grade(&s, &event(7, "a", Grade::Easy, t0));
    grade(&s, &event(7, "b", Grade::Again, t0));
    grade(&s, &event(7, "c", Grade::Good, t0));
    grade(&s, &event(8, "z", Grade::Again, t0));
    let ids: Vec<String> = s
        .practice_cards(7)
        .unwrap()
        .into_iter()
        .map(|c| c.question_id)
        .collect();
    assert_eq!(ids, ["b", "c", "a"]);
}

#[test]
fn a_batch_of_quiz_answers_reviews_every_card() {
    let s = SqliteStore::open_in_memory().unwrap();
    let at = t("2026-03-10T19:00:00Z");
    grade(
        &s,
        &event(7, "acid", Grade::Good, at - SignedDuration::from_hours(72)),
    );
    let batch: Vec<ReviewEvent> = [(7, Grade::Good), (8, Grade::Again)]
        .into_iter()
        .map(|(user, g)| ReviewEvent {
            source: ReviewSource::Quiz,
            ..event(user, "acid", g, at)
        })
        .collect();
    s.review_cards(&batch, |b, e| scheduling::review(b, e.grade.unwrap(), e.at))
        .unwrap();
    assert_eq!(s.practice_card(7, "acid").unwrap().unwrap().reps, 2);
    assert_eq!(s.practice_card(8, "acid").unwrap().unwrap().reps, 1);
    let last = s.practice_activity(8).unwrap();
    assert_eq!(
        (last[0].grade, last[0].source),
        (Some(Grade::Again), ReviewSource::Quiz)
    );
}

#[test]
fn a_daily_reveal_counts_once_per_member_and_message() {
    let s = SqliteStore::open_in_memory().unwrap();
    let at = t("2026-03-10T07:00:00Z");
    let reveal = |user: u64, message: u64| ReviewEvent {
        grade: None,
        source: ReviewSource::Daily,
        message_id: Some(message),
        ..event(user, "acid", Grade::Good, at)
    };
    assert!(s.record_reveal(&reveal(7, 100)).unwrap());
    assert!(!s.record_reveal(&reveal(7, 100)).unwrap(), "again: ignored");
    assert!(s.record_reveal(&reveal(8, 100)).unwrap(), "another member");
    assert!(s.record_reveal(&reveal(7, 101)).unwrap(), "another post");
    // A grade under the same post is a review, not a second reveal.
    let graded = ReviewEvent {
        message_id: Some(100),
        source: ReviewSource::Daily,
        ..event(7, "acid", Grade::Good, at)
    };
    grade(&s, &graded);
    grade(&s, &graded);
    let log = s.practice_activity(7).unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log.iter().filter(|a| a.grade.is_none()).count(), 2);
    // A reveal is no review: no card.
    assert_eq!(s.practice_cards(8).unwrap(), vec![]);
}

#[test]
fn activity_carries_its_server_daily_zone() {
    let s = SqliteStore::open_in_memory().unwrap();
    s.put_schedule(&ScheduleRow {
        guild_id: 1,
        channel_id: 5,
        time: "09:00".into(),
        tz: "Europe/Berlin".into(),
        role_id: None,
        filter: "{}".into(),
        thread: false,
        paused: false,
        skip_date: None,
        armed_from: 0,
        last_error: None,
    })
    .unwrap();
    let at = t("2026-03-10T19:00:00Z");
    grade(&s, &event(7, "a", Grade::Good, at));
    grade(
        &s,
        &ReviewEvent {
            guild_id: Some(2),
            ..event(7, "b", Grade::Good, at)
        },
    );
    grade(
        &s,
        &ReviewEvent {
            guild_id: None,
            ..event(7, "c", Grade::Good, at)
        },
    );
    let zones: Vec<(Option<u64>, Option<String>)> = s
        .practice_activity(7)
        .unwrap()
        .into_iter()
        .map(|a| (a.guild_id, a.tz))
        .collect();
    assert_eq!(
        zones,
        [
            (Some(1), Some("Europe/Berlin".to_string())),
            (Some(2), None),
            (None, None)
        ]
    );
}

/// A database as the release before practice left it gains the tables on open, and its
/// data is untouched.
#[test]
fn a_database_from_before_gains_the_practice_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prepbot.db");
    let mut conn = Connection::open(&path).unwrap();
    migrations::apply_before(&mut conn, MIGRATION).unwrap();
    let before: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO bags (scope, state, updated_at) VALUES ('ask:user:1', '{}', 5)",
        [],
    )
    .unwrap();
    drop(conn);
    let s = SqliteStore::open(&path).unwrap();
    // Later migrations (reminders) are applied in the same open.
    assert!(s.schema_version().unwrap() > before);
    assert_eq!(s.schema_version().unwrap(), migrations::count() as i64);
    grade(&s, &event(7, "a", Grade::Good, t("2026-03-10T19:00:00Z")));
    assert_eq!(s.practice_cards(7).unwrap().len(), 1);
    assert_eq!(s.bag("ask:user:1").unwrap(), Default::default());
}

fn plan(s: &SqliteStore, sql: &str) -> Vec<String> {
    let conn = s.conn();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let n = stmt.parameter_count();
    let params: Vec<i64> = vec![0; n];
    stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The queue is one range read of the covering (member, due) index: no table visit, no scan,
/// no sort. The other per-member statements use an index too.
#[test]
fn per_member_statements_read_through_indexes() {
    let s = SqliteStore::open_in_memory().unwrap();
    let queue = plan(
        &s,
        "SELECT question_id, due, first_seen, reps FROM practice_cards WHERE user_id = ?1 \
         ORDER BY due",
    );
    assert_eq!(queue.len(), 1, "{queue:#?}");
    assert!(
        queue[0].starts_with("SEARCH practice_cards USING COVERING INDEX practice_cards_due"),
        "{queue:#?}"
    );
    for sql in [
        "SELECT due FROM practice_cards WHERE user_id = ?1 AND question_id = ?2",
        "SELECT r.question_id, r.grade, r.source, r.at, r.guild_id, s.tz
         FROM practice_reviews r LEFT JOIN daily_schedules s ON s.guild_id = r.guild_id
         WHERE r.user_id = ?1 ORDER BY r.at, r.id",
        "DELETE FROM practice_cards WHERE user_id = ?1",
        "DELETE FROM practice_reviews WHERE user_id = ?1",
    ] {
        let p = plan(&s, sql);
        assert!(
            p.iter()
                .all(|step| !step.starts_with("SCAN") && !step.contains("TEMP B-TREE")),
            "{sql}: {p:#?}"
        );
    }
}
