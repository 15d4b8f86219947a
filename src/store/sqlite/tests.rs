use super::*;

fn store() -> SqliteStore {
    SqliteStore::open_in_memory().unwrap()
}

#[test]
fn migrations_apply_once_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/prepbot.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrations::count() as i64);
        s.record_question_message(
            &QuestionMessage {
                message_id: 10,
                channel_id: 2,
                guild_id: Some(1),
                question_id: "q".into(),
            },
            Source::Ask,
            0,
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrations::count() as i64);
    assert_eq!(s.question_message(10).unwrap().unwrap().question_id, "q");
    let mode: String = s
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn big_discord_ids_round_trip() {
    let s = store();
    let big = 1_576_264_034_611_757_059u64;
    s.record_question_message(
        &QuestionMessage {
            message_id: big,
            channel_id: big + 1,
            guild_id: None,
            question_id: "x".into(),
        },
        Source::Daily,
        5,
    )
    .unwrap();
    let m = s.question_message(big).unwrap().unwrap();
    assert_eq!(m.channel_id, big + 1);
    assert_eq!(s.question_source(big).unwrap(), Some(Source::Daily));
    assert_eq!(s.question_source(1).unwrap(), None);
    assert_eq!(m.guild_id, None);
    assert!(s.question_message(1).unwrap().is_none());
}

#[test]
fn reveal_claims_are_once_per_message_and_user() {
    let s = store();
    assert!(s.claim_reveal(1, 0, 0).unwrap());
    assert!(!s.claim_reveal(1, 0, 1).unwrap());
    assert!(s.claim_reveal(1, 7, 1).unwrap());
    assert!(s.claim_reveal(2, 0, 1).unwrap());
    s.release_reveal(1, 0).unwrap();
    assert!(
        s.claim_reveal(1, 0, 2).unwrap(),
        "a released claim can be retried"
    );
}

#[test]
fn bags_persist_and_update_atomically() {
    let s = store();
    let drawn = s
        .update_bag_at("channel:1", 0, |b| {
            b.mark_used("a");
            b.used_count()
        })
        .unwrap();
    assert_eq!(drawn, 1);
    let bag = s.bag("channel:1").unwrap();
    assert!(bag.is_used("a") && bag.used_count() == 1);
    assert_eq!(s.bag("channel:2").unwrap().used_count(), 0);
    s.conn()
        .execute(
            "UPDATE bags SET state = 'garbage' WHERE scope = 'channel:1'",
            [],
        )
        .unwrap();
    assert_eq!(s.bag("channel:1").unwrap(), BagState::default());
}

fn schedule(guild: u64) -> ScheduleRow {
    ScheduleRow {
        guild_id: guild,
        channel_id: 5,
        time: "09:00".into(),
        tz: "Europe/Berlin".into(),
        role_id: Some(9),
        filter: "{}".into(),
        thread: true,
        paused: false,
        skip_date: None,
        armed_from: 100,
        last_error: None,
    }
}

#[test]
fn schedules_upsert_list_delete() {
    let s = store();
    s.put_schedule(&schedule(1)).unwrap();
    let mut changed = schedule(1);
    changed.time = "18:30".into();
    changed.paused = true;
    s.put_schedule(&changed).unwrap();
    s.put_schedule(&schedule(2)).unwrap();
    assert_eq!(s.schedule(1).unwrap().unwrap(), changed);
    assert_eq!(s.schedules().unwrap().len(), 2);
    s.set_schedule_error(1, Some("Missing Access")).unwrap();
    assert_eq!(
        s.schedule(1).unwrap().unwrap().last_error.as_deref(),
        Some("Missing Access")
    );
    assert!(s.delete_schedule(1).unwrap());
    assert!(!s.delete_schedule(1).unwrap());
    assert!(s.schedule(1).unwrap().is_none());
}

fn intent(guild: u64, date: &str, number: i64, nonce: &str) -> PostRow {
    PostRow {
        id: 0,
        guild_id: guild,
        local_date: date.into(),
        number,
        question_id: "q1".into(),
        channel_id: 5,
        nonce: nonce.into(),
        state: PostState::Pending,
        message_id: None,
        thread_id: None,
        attempts: 0,
        error: None,
        created_at: 1,
        sent_at: None,
        kind: PostKind::Scheduled,
        thread_wanted: true,
        reaction_done: false,
        opening_done: false,
        finish: FinishState::Pending,
        finish_error: None,
    }
}

#[test]
fn one_scheduled_post_per_guild_and_date() {
    let s = store();
    let first = s.begin_post(&intent(1, "2026-11-28", 1, "n1")).unwrap();
    assert_eq!(first.state, PostState::Pending);
    // A second intent for the same date (after a crash) returns the first, nonce included.
    let again = s.begin_post(&intent(1, "2026-11-28", 2, "n2")).unwrap();
    assert_eq!(again.nonce, "n1");
    assert_eq!(again.id, first.id);
    assert_eq!(s.next_post_number(1).unwrap(), 2);
    assert_eq!(
        s.last_posted_date(1).unwrap(),
        None,
        "pending is not posted"
    );
    s.post_attempt(first.id).unwrap();
    s.mark_post_sent(first.id, 777, 9, true).unwrap();
    let p = s.post(1, "2026-11-28").unwrap().unwrap();
    assert_eq!(
        (p.state, p.message_id, p.attempts),
        (PostState::Sent, Some(777), 1)
    );
    assert_eq!(
        s.last_posted_date(1).unwrap().as_deref(),
        Some("2026-11-28")
    );
    // Other guilds and dates are independent.
    let other = s.begin_post(&intent(2, "2026-11-28", 1, "n3")).unwrap();
    assert_ne!(other.id, first.id);
    let next_day = s.begin_post(&intent(1, "2026-11-29", 2, "n4")).unwrap();
    s.mark_post_failed(next_day.id, "Missing Permissions")
        .unwrap();
    assert_eq!(
        s.last_posted_date(1).unwrap().as_deref(),
        Some("2026-11-29")
    );
    // A manual post the same day does not collide with the scheduled one.
    let mut manual = intent(1, "2026-11-29", 3, "n5");
    manual.state = PostState::Sent;
    manual.finish = FinishState::Done;
    manual.message_id = Some(1);
    s.record_manual_post(&manual).unwrap();
    assert_eq!(
        s.post(1, "2026-11-29").unwrap().unwrap().state,
        PostState::Failed
    );
    assert_eq!(s.last_post(1).unwrap().unwrap().kind, PostKind::Manual);
    assert_eq!(s.next_post_number(1).unwrap(), 4);
}

#[test]
fn finishing_steps_are_pending_until_settled_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let post_id = {
        let s = SqliteStore::open(&path).unwrap();
        let p = s.begin_post(&intent(1, "2026-11-28", 1, "n1")).unwrap();
        assert!(
            s.unfinished_posts().unwrap().is_empty(),
            "pending is not sent"
        );
        s.mark_post_sent(p.id, 777, 9, true).unwrap();
        s.mark_post_reaction_done(p.id).unwrap();
        p.id
    };
    // A restart: the post is sent, its reaction done, the thread not yet.
    let s = SqliteStore::open(&path).unwrap();
    let unfinished = s.unfinished_posts().unwrap();
    assert_eq!(unfinished.len(), 1);
    let u = &unfinished[0];
    assert!(u.reaction_done && u.thread_wanted && u.thread_id.is_none() && !u.opening_done);
    s.set_post_thread(post_id, 778).unwrap();
    s.mark_post_opening_done(post_id).unwrap();
    s.set_post_finish(post_id, FinishState::Done, None).unwrap();
    assert!(s.unfinished_posts().unwrap().is_empty());
    // A failure is settled too, and keeps its reason.
    let p2 = s.begin_post(&intent(1, "2026-11-29", 2, "n2")).unwrap();
    s.mark_post_sent(p2.id, 779, 10, true).unwrap();
    s.set_post_finish(p2.id, FinishState::Failed, Some("Missing Permissions"))
        .unwrap();
    assert!(s.unfinished_posts().unwrap().is_empty());
    let last = s.last_post(1).unwrap().unwrap();
    assert_eq!(last.finish, FinishState::Failed);
    assert_eq!(last.finish_error.as_deref(), Some("Missing Permissions"));
}

#[test]
fn one_running_round_per_channel_and_leaderboard() {
    let s = store();
    let r1 = s.create_round(1, 10, 100, 3, 0).unwrap().unwrap();
    assert_eq!(
        s.create_round(1, 10, 101, 3, 0).unwrap(),
        None,
        "channel busy"
    );
    let r2 = s.create_round(1, 11, 100, 2, 0).unwrap().unwrap();
    s.save_round_scores(
        r1,
        1,
        &[ScoreRow {
            user_id: 7,
            points_milli: 1000,
            correct: 1,
            answered: 1,
        }],
    )
    .unwrap();
    s.save_round_scores(
        r1,
        2,
        &[
            ScoreRow {
                user_id: 7,
                points_milli: 1500,
                correct: 2,
                answered: 2,
            },
            ScoreRow {
                user_id: 8,
                points_milli: 0,
                correct: 0,
                answered: 2,
            },
        ],
    )
    .unwrap();
    assert!(
        s.leaderboard(1, 10).unwrap().is_empty(),
        "running rounds don't count yet"
    );
    assert_eq!(s.running_rounds().unwrap().len(), 2);
    s.end_round(r1, RoundStatus::Finished, 5).unwrap();
    assert!(
        s.create_round(1, 10, 100, 3, 0).unwrap().is_some(),
        "channel free again"
    );
    s.save_round_scores(
        r2,
        1,
        &[ScoreRow {
            user_id: 8,
            points_milli: 1000,
            correct: 1,
            answered: 1,
        }],
    )
    .unwrap();
    s.end_round(r2, RoundStatus::Interrupted, 6).unwrap();
    let lb = s.leaderboard(1, 10).unwrap();
    assert_eq!(
        lb,
        vec![
            LeaderRow {
                user_id: 7,
                points_milli: 1500,
                rounds: 1,
                correct: 2,
                answered: 2
            },
            LeaderRow {
                user_id: 8,
                points_milli: 1000,
                rounds: 2,
                correct: 1,
                answered: 3
            },
        ]
    );
    assert_eq!(s.leaderboard(1, 1).unwrap().len(), 1);
    assert!(s.leaderboard(2, 10).unwrap().is_empty());
    assert_eq!(s.round_scores(r1).unwrap()[0].user_id, 7);
}

/// Another connection holds the write lock for 3 s, Discord's deadline for answering an
/// interaction. A store write must give up before that with an error the edge can recognise,
/// not wait the lock out. (Asserted on the outcome, not on a clock: with a busy timeout at or
/// beyond 3 s the write would succeed.)
#[test]
fn a_write_behind_a_long_lock_fails_as_busy_instead_of_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prepbot.db");
    let s = SqliteStore::open(&path).unwrap();
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn({
        let path = path.clone();
        move || {
            let other = Connection::open(&path).unwrap();
            other.execute_batch("BEGIN EXCLUSIVE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_secs(3));
            other.execute_batch("COMMIT").unwrap();
        }
    });
    locked.recv().unwrap();
    let err = s.claim_reveal(1, 0, 0).unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    assert!(err.to_string().contains("claiming a reveal"), "{err}");
    holder.join().unwrap();
    assert!(s.claim_reveal(1, 0, 0).unwrap(), "free again once released");
}

#[test]
fn only_lock_errors_are_busy() {
    let not_found: Result<()> = Err(rusqlite::Error::QueryReturnedNoRows).ctx("reading");
    assert!(!not_found.unwrap_err().is_busy());
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), vec![7u8; 4096]).unwrap();
    let refused = SqliteStore::open(garbage.path()).err().unwrap();
    assert!(!refused.is_busy(), "{refused:?}");
}
