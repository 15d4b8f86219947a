//! The SQLite backend: the default store, one file next to the bot, zero setup.
//!
//! What is kept: which message shows which question (so a reveal works after a restart),
//! which reveals were done, each scope's shuffle-bag, daily schedules and the daily posts'
//! intents and outcomes (for exactly-once posting), quiz rounds with their scores, each
//! member's practice cards and review log (`practice.rs`), and practice reminders
//! (`reminders.rs`).
//!
//! This backend is synchronous on purpose: every statement here is a few microseconds against
//! a local file in WAL mode, cheaper than a hop to a blocking thread, so the async surface in
//! `store/mod.rs` calls it inline. A connection behind a mutex also makes each method one
//! atomic step for concurrent handlers; across processes, SQLite's file lock and the same
//! unique indexes keep the guarantees.
//!
//! The statements on the `/ask` and reaction paths go through the connection's prepared
//! statement cache (`prepare_cached`): compiling the SQL costs more than running it.

mod integrity;
pub(crate) mod migrations;
mod practice;
mod reminders;
mod retention;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use rusqlite::{params, Connection, OptionalExtension};

use super::error::{Context, Result};
use super::rows::*;
use super::states::{FinishState, PostKind, PostState, RoundStatus, Source};
use crate::bank::BagState;

/// The SQLite store: one connection behind a mutex.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

/// The connection, held for one store call. Every call goes through [`SqliteStore::conn`], so
/// timing this guard (the wait for the mutex included: that is what callers feel) measures
/// every store call in one place.
struct Timed<'a> {
    guard: MutexGuard<'a, Connection>,
    since: Instant,
}

impl Deref for Timed<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.guard
    }
}

impl DerefMut for Timed<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.guard
    }
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        crate::metrics::store_call(self.since.elapsed());
    }
}

/// How long a statement waits for another process's lock before failing with a busy error
/// ([`StoreError::is_busy`]). An interaction must be answered within 3 s, and the wait holds
/// the store's mutex, so every handler queues behind it: 1 s leaves time to answer "busy, try
/// again". Background work can afford to fail fast: the daily scheduler retries a post whose
/// intent could not be recorded.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// How long opening the file waits for another process's lock (see [`SqliteStore::open`]).
const OPEN_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl SqliteStore {
    /// Opens (creating when missing) the database file, refuses it when it is damaged, from a
    /// newer release or not writable (see `integrity.rs`), and applies pending migrations.
    ///
    /// SQLite answers "busy" at once, without waiting, where waiting could deadlock: openers
    /// racing on a new file each hold a read lock and want to write (WAL mode, migrations).
    /// Starting over releases ours, so a busy open is retried until [`OPEN_BUSY_TIMEOUT`].
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let since = Instant::now();
        loop {
            match Self::init(Self::connect(path)?, path) {
                Err(e) if e.is_busy() && since.elapsed() < OPEN_BUSY_TIMEOUT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                opened => return opened,
            }
        }
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory().ctx("opening an in-memory database")?;
        Self::init(conn, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, path: &Path) -> Result<SqliteStore> {
        // At open, wait longer: replicas started together on a new file take turns through
        // the migrations, and on a loaded host one's turn can outlast the 1 s an interaction
        // can afford. A lock held longer than this is refused as `Locked`.
        conn.busy_timeout(OPEN_BUSY_TIMEOUT)
            .ctx("setting the busy timeout")?;
        Self::check_and_migrate(&mut conn, path)?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .ctx("setting the busy timeout")?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Timed<'_> {
        let since = Instant::now();
        // A panic while holding the lock cannot leave SQLite inconsistent (statements are
        // atomic), so a poisoned lock is safe to keep using.
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Timed { guard, since }
    }

    /// Whether the database answers a trivial query: the store half of `/healthz`.
    pub fn ping(&self) -> Result<()> {
        self.conn()
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .ctx("answering a health check")
            .map(|_| ())
    }

    /// Runs a query and collects every row through `map`.
    fn query_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        context: &'static str,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).ctx(context)?;
        let rows = stmt
            .query_map(params, map)
            .ctx(context)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(context)?;
        Ok(rows)
    }

    /// Every row of `table` (columns `names`), in chunks of `chunk` rows, for `prepbot
    /// migrate`. `each` returns false to stop early.
    pub fn each_chunk(
        &self,
        table: &str,
        names: &[String],
        chunk: usize,
        mut each: impl FnMut(Vec<Vec<rusqlite::types::Value>>) -> bool,
    ) -> Result<()> {
        const CX: &str = "reading a table for the copy";
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("SELECT {} FROM {table}", names.join(", ")))
            .ctx(CX)?;
        let mut rows = stmt.query([]).ctx(CX)?;
        let mut batch = Vec::with_capacity(chunk);
        while let Some(row) = rows.next().ctx(CX)? {
            let values = (0..names.len())
                .map(|i| row.get::<_, rusqlite::types::Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx(CX)?;
            batch.push(values);
            if batch.len() == chunk
                && !each(std::mem::replace(&mut batch, Vec::with_capacity(chunk)))
            {
                return Ok(());
            }
        }
        if !batch.is_empty() {
            each(batch);
        }
        Ok(())
    }

    /// How many rows `table` holds (`prepbot migrate` compares both sides).
    pub fn count(&self, table: &str) -> Result<i64> {
        self.conn()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .ctx("counting rows")
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .ctx("reading the schema version")
    }

    // ---- question messages and reveals ----

    pub fn record_question_message(
        &self,
        msg: &QuestionMessage,
        source: Source,
        now_ms: i64,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO question_messages
                 (message_id, channel_id, guild_id, question_id, source, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id(msg.message_id),
                    id(msg.channel_id),
                    msg.guild_id.map(id),
                    msg.question_id,
                    source,
                    now_ms
                ])
            })
            .ctx("recording a question message")?;
        Ok(())
    }

    pub fn question_message(&self, message_id: u64) -> Result<Option<QuestionMessage>> {
        self.conn()
            .prepare_cached(
                "SELECT message_id, channel_id, guild_id, question_id
                 FROM question_messages WHERE message_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id(message_id)], |r| {
                    Ok(QuestionMessage {
                        message_id: uid(r.get(0)?),
                        channel_id: uid(r.get(1)?),
                        guild_id: r.get::<_, Option<i64>>(2)?.map(uid),
                        question_id: r.get(3)?,
                    })
                })
            })
            .optional()
            .ctx("looking up a question message")
    }

    /// Where a question message came from (`/ask` or the daily post); `None` for a message
    /// that is not a recorded question message (a private `/ask`, or one past retention).
    pub fn question_source(&self, message_id: u64) -> Result<Option<Source>> {
        self.conn()
            .prepare_cached("SELECT source FROM question_messages WHERE message_id = ?1")
            .and_then(|mut s| s.query_row(params![id(message_id)], |r| r.get(0)))
            .optional()
            .ctx("looking up where a question message came from")
    }

    /// Claims the reveal of `message_id` for `user_id` (0 for a reveal shown to everyone).
    /// Returns false when it was already claimed: the caller must not reveal again.
    pub fn claim_reveal(&self, message_id: u64, user_id: u64, now_ms: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO reveals (message_id, user_id, revealed_at)
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![id(message_id), id(user_id), now_ms]))
            .ctx("claiming a reveal")?;
        Ok(n == 1)
    }

    /// Gives a claim back after the reveal could not be delivered, so a later reaction can
    /// try again.
    pub fn release_reveal(&self, message_id: u64, user_id: u64) -> Result<()> {
        self.conn()
            .execute(
                "DELETE FROM reveals WHERE message_id = ?1 AND user_id = ?2",
                params![id(message_id), id(user_id)],
            )
            .ctx("releasing a reveal")?;
        Ok(())
    }

    pub fn set_reveal_message(&self, message_id: u64, user_id: u64, reveal_id: u64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE reveals SET reveal_message_id = ?3 WHERE message_id = ?1 AND user_id = ?2",
                params![id(message_id), id(user_id), id(reveal_id)],
            )
            .ctx("recording a reveal message")?;
        Ok(())
    }

    // ---- shuffle-bags ----

    /// Runs `f` on the bag of `scope` and saves the result, atomically with respect to other
    /// callers (two `/ask` at once in a channel cannot draw the same question). `now_ms` is
    /// when it was last used: per-member bags idle too long are purged.
    pub fn update_bag_at<T>(
        &self,
        scope: &str,
        now_ms: i64,
        f: impl FnOnce(&mut BagState) -> T,
    ) -> Result<T> {
        let mut conn = self.conn();
        // IMMEDIATE: the write lock is taken before the read, so a draw by another process
        // on the same file waits for this one instead of reading the same state.
        let conn = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("locking a shuffle-bag")?;
        let json: Option<String> = conn
            .prepare_cached("SELECT state FROM bags WHERE scope = ?1")
            .and_then(|mut s| s.query_row(params![scope], |r| r.get(0)))
            .optional()
            .ctx("loading a shuffle-bag")?;
        // A corrupt or older-format state only costs the cycle's memory; start afresh.
        let mut bag: BagState = json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        let out = f(&mut bag);
        let json = serde_json::to_string(&bag).unwrap_or_else(|_| "{}".into());
        conn.prepare_cached(
            "INSERT INTO bags (scope, state, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(scope) DO UPDATE SET
              state = excluded.state, updated_at = excluded.updated_at",
        )
        .and_then(|mut s| s.execute(params![scope, json, now_ms]))
        .ctx("saving a shuffle-bag")?;
        conn.commit().ctx("saving a shuffle-bag")?;
        Ok(out)
    }

    pub fn bag(&self, scope: &str) -> Result<BagState> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT state FROM bags WHERE scope = ?1",
                params![scope],
                |r| r.get(0),
            )
            .optional()
            .ctx("loading a shuffle-bag")?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    // ---- daily schedules ----

    pub fn put_schedule(&self, s: &ScheduleRow) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO daily_schedules
                 (guild_id, channel_id, time, tz, role_id, filter, thread, paused, skip_date,
                  armed_from, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT(guild_id) DO UPDATE SET
                  channel_id = excluded.channel_id, time = excluded.time, tz = excluded.tz,
                  role_id = excluded.role_id, filter = excluded.filter, thread = excluded.thread,
                  paused = excluded.paused, skip_date = excluded.skip_date,
                  armed_from = excluded.armed_from, last_error = excluded.last_error",
                params![
                    id(s.guild_id),
                    id(s.channel_id),
                    s.time,
                    s.tz,
                    s.role_id.map(id),
                    s.filter,
                    s.thread,
                    s.paused,
                    s.skip_date,
                    s.armed_from,
                    s.last_error
                ],
            )
            .ctx("saving a daily schedule")?;
        Ok(())
    }

    pub fn schedule(&self, guild_id: u64) -> Result<Option<ScheduleRow>> {
        self.conn()
            .query_row(
                &format!("{SCHEDULE_SELECT} WHERE guild_id = ?1"),
                params![id(guild_id)],
                schedule_row,
            )
            .optional()
            .ctx("loading a daily schedule")
    }

    pub fn schedules(&self) -> Result<Vec<ScheduleRow>> {
        self.query_all(
            &format!("{SCHEDULE_SELECT} ORDER BY guild_id"),
            [],
            "listing daily schedules",
            schedule_row,
        )
    }

    pub fn delete_schedule(&self, guild_id: u64) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM daily_schedules WHERE guild_id = ?1",
                params![id(guild_id)],
            )
            .ctx("deleting a daily schedule")?;
        Ok(n > 0)
    }

    pub fn set_schedule_error(&self, guild_id: u64, error: Option<&str>) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_schedules SET last_error = ?2 WHERE guild_id = ?1",
                params![id(guild_id), error],
            )
            .ctx("recording a daily delivery problem")?;
        Ok(())
    }

    // ---- daily posts ----

    /// Records the intent to post for `(guild, local_date)` before anything is sent. When an
    /// intent for that date exists already (a crash or error interrupted it), returns the
    /// existing row unchanged: its nonce makes a retry safe.
    pub fn begin_post(&self, p: &PostRow) -> Result<PostRow> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO daily_posts
             (guild_id, local_date, number, question_id, channel_id, nonce, state, attempts,
              created_at, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, 'scheduled')",
            params![
                id(p.guild_id),
                p.local_date,
                p.number,
                p.question_id,
                id(p.channel_id),
                p.nonce,
                p.created_at
            ],
        )
        .ctx("recording a daily post intent")?;
        conn.query_row(
            &format!(
                "{POST_SELECT} WHERE guild_id = ?1 AND local_date = ?2 AND kind = 'scheduled'"
            ),
            params![id(p.guild_id), p.local_date],
            post_row,
        )
        .ctx("reading a daily post intent")
    }

    /// The scheduled post of a guild for a local date.
    pub fn post(&self, guild_id: u64, local_date: &str) -> Result<Option<PostRow>> {
        self.conn()
            .query_row(
                &format!(
                    "{POST_SELECT} WHERE guild_id = ?1 AND local_date = ?2 AND kind = 'scheduled'"
                ),
                params![id(guild_id), local_date],
                post_row,
            )
            .optional()
            .ctx("reading a daily post")
    }

    /// The most recent post of a guild (any state or kind).
    pub fn last_post(&self, guild_id: u64) -> Result<Option<PostRow>> {
        self.conn()
            .query_row(
                &format!("{POST_SELECT} WHERE guild_id = ?1 ORDER BY number DESC LIMIT 1"),
                params![id(guild_id)],
                post_row,
            )
            .optional()
            .ctx("reading the last daily post")
    }

    /// The latest local date whose scheduled post is settled: sent, or failed for good (a
    /// missing channel or permission is retried at the next post time, not in a loop).
    pub fn last_posted_date(&self, guild_id: u64) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT MAX(local_date) FROM daily_posts
                 WHERE guild_id = ?1 AND kind = 'scheduled' AND state IN ('sent', 'failed')",
                params![id(guild_id)],
                |r| r.get(0),
            )
            .ctx("reading the last posted date")
    }

    /// The running number for the next post of a guild.
    pub fn next_post_number(&self, guild_id: u64) -> Result<i64> {
        self.conn()
            .query_row(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM daily_posts WHERE guild_id = ?1",
                params![id(guild_id)],
                |r| r.get(0),
            )
            .ctx("numbering a daily post")
    }

    /// Replaces the question of a pending post whose question left the bank.
    pub fn set_post_question(&self, post_id: i64, question_id: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET question_id = ?2 WHERE id = ?1 AND state = 'pending'",
                params![post_id, question_id],
            )
            .ctx("replacing a daily post's question")?;
        Ok(())
    }

    /// Counts an attempt at sending a post (before the request goes out).
    pub fn post_attempt(&self, post_id: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET attempts = attempts + 1 WHERE id = ?1",
                params![post_id],
            )
            .ctx("counting a daily post attempt")?;
        Ok(())
    }

    /// Records that the post's message exists. Its finishing steps (reaction, thread, the
    /// thread's opening message) are pending from here on, so a crash before they are done is
    /// finished after the restart (see [`SqliteStore::unfinished_posts`]).
    pub fn mark_post_sent(
        &self,
        post_id: i64,
        message_id: u64,
        now_ms: i64,
        thread_wanted: bool,
    ) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET state = ?4, message_id = ?2, sent_at = ?3, error = NULL,
                  thread_wanted = ?5, reaction_done = 0, opening_done = 0, finish = ?6,
                  finish_error = NULL
                 WHERE id = ?1",
                params![
                    post_id,
                    id(message_id),
                    now_ms,
                    PostState::Sent,
                    thread_wanted,
                    FinishState::Pending
                ],
            )
            .ctx("recording a sent daily post")?;
        Ok(())
    }

    pub fn set_post_thread(&self, post_id: i64, thread_id: u64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET thread_id = ?2 WHERE id = ?1",
                params![post_id, id(thread_id)],
            )
            .ctx("recording a daily thread")?;
        Ok(())
    }

    pub fn mark_post_reaction_done(&self, post_id: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET reaction_done = 1 WHERE id = ?1",
                params![post_id],
            )
            .ctx("recording a daily post's reaction")?;
        Ok(())
    }

    pub fn mark_post_opening_done(&self, post_id: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET opening_done = 1 WHERE id = ?1",
                params![post_id],
            )
            .ctx("recording a daily thread's opening message")?;
        Ok(())
    }

    /// Settles the finishing steps: `Done`, or `Failed` with the reason for `/daily show`.
    pub fn set_post_finish(
        &self,
        post_id: i64,
        finish: FinishState,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET finish = ?2, finish_error = ?3 WHERE id = ?1",
                params![post_id, finish, error],
            )
            .ctx("recording a daily post's finishing steps")?;
        Ok(())
    }

    /// Sent posts whose finishing steps are not all done (the bot died between the create
    /// and the last step, or a step failed transiently).
    pub fn unfinished_posts(&self) -> Result<Vec<PostRow>> {
        self.query_all(
            &format!("{POST_SELECT} WHERE state = ?1 AND finish = ?2 ORDER BY id"),
            params![PostState::Sent, FinishState::Pending],
            "listing unfinished daily posts",
            post_row,
        )
    }

    /// Records that a post failed in a way retrying today will not fix (missing channel or
    /// permission). The date counts as done; the next date is tried as scheduled.
    pub fn mark_post_failed(&self, post_id: i64, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET state = ?3, error = ?2 WHERE id = ?1",
                params![post_id, error, PostState::Failed],
            )
            .ctx("recording a failed daily post")?;
        Ok(())
    }

    /// Records a transient failure: the intent stays pending so it is retried.
    pub fn note_post_error(&self, post_id: i64, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE daily_posts SET error = ?2 WHERE id = ?1",
                params![post_id, error],
            )
            .ctx("recording a daily post error")?;
        Ok(())
    }

    /// Manual posts (`/daily post`) are numbered and recorded too, but never count as the
    /// day's scheduled post. Returns the new row's id.
    pub fn record_manual_post(&self, p: &PostRow) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO daily_posts
                 (guild_id, local_date, number, question_id, channel_id, nonce, state,
                  message_id, attempts, created_at, sent_at, kind, thread_wanted,
                  reaction_done, opening_done, finish)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                id(p.guild_id),
                p.local_date,
                p.number,
                p.question_id,
                id(p.channel_id),
                p.nonce,
                p.state,
                p.message_id.map(id),
                p.created_at,
                p.sent_at,
                PostKind::Manual,
                p.thread_wanted,
                p.reaction_done,
                p.opening_done,
                p.finish
            ],
        )
        .ctx("recording a manual daily post")?;
        Ok(conn.last_insert_rowid())
    }

    // ---- quiz rounds ----

    /// Creates a running round. Returns `None` when the channel already has one (a unique
    /// index makes this race-free).
    pub fn create_round(
        &self,
        guild_id: u64,
        channel_id: u64,
        starter_id: u64,
        questions_total: usize,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        let conn = self.conn();
        let res = conn.execute(
            "INSERT INTO quiz_rounds
             (guild_id, channel_id, starter_id, status, questions_total, questions_played,
              started_at)
             VALUES (?1, ?2, ?3, 'running', ?4, 0, ?5)",
            params![
                id(guild_id),
                id(channel_id),
                id(starter_id),
                questions_total as i64,
                now_ms
            ],
        );
        match res {
            Ok(_) => Ok(Some(conn.last_insert_rowid())),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(None)
            }
            Err(e) => Err(e).ctx("creating a quiz round"),
        }
    }

    /// Saves the cumulative scores of a round after a question closed, so a restart keeps
    /// them.
    pub fn save_round_scores(
        &self,
        round_id: i64,
        questions_played: usize,
        scores: &[ScoreRow],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("saving quiz scores")?;
        tx.execute(
            "UPDATE quiz_rounds SET questions_played = ?2 WHERE id = ?1",
            params![round_id, questions_played as i64],
        )
        .ctx("saving quiz scores")?;
        for s in scores {
            tx.execute(
                "INSERT INTO quiz_scores (round_id, user_id, points_milli, correct, answered)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(round_id, user_id) DO UPDATE SET
                  points_milli = excluded.points_milli, correct = excluded.correct,
                  answered = excluded.answered",
                params![
                    round_id,
                    id(s.user_id),
                    s.points_milli,
                    s.correct,
                    s.answered
                ],
            )
            .ctx("saving quiz scores")?;
        }
        tx.commit().ctx("saving quiz scores")?;
        Ok(())
    }

    /// Ends a round; its scores join the leaderboard.
    pub fn end_round(&self, round_id: i64, status: RoundStatus, now_ms: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE quiz_rounds SET status = ?2, ended_at = ?3 WHERE id = ?1",
                params![round_id, status, now_ms],
            )
            .ctx("ending a quiz round")?;
        Ok(())
    }

    pub fn running_rounds(&self) -> Result<Vec<RoundRow>> {
        self.query_all(
            "SELECT id, guild_id, channel_id, starter_id, status, questions_total,
                        questions_played
                 FROM quiz_rounds WHERE status = 'running' ORDER BY id",
            [],
            "listing running quiz rounds",
            |r: &rusqlite::Row<'_>| {
                Ok(RoundRow {
                    id: r.get(0)?,
                    guild_id: uid(r.get(1)?),
                    channel_id: uid(r.get(2)?),
                    starter_id: uid(r.get(3)?),
                    status: r.get(4)?,
                    questions_total: r.get(5)?,
                    questions_played: r.get(6)?,
                })
            },
        )
    }

    pub fn round_scores(&self, round_id: i64) -> Result<Vec<ScoreRow>> {
        self.query_all(
            "SELECT user_id, points_milli, correct, answered FROM quiz_scores
                 WHERE round_id = ?1 ORDER BY points_milli DESC, correct DESC, user_id",
            params![round_id],
            "reading quiz scores",
            |r: &rusqlite::Row<'_>| {
                Ok(ScoreRow {
                    user_id: uid(r.get(0)?),
                    points_milli: r.get(1)?,
                    correct: r.get(2)?,
                    answered: r.get(3)?,
                })
            },
        )
    }

    /// A guild's all-time table over ended rounds, best first.
    pub fn leaderboard(&self, guild_id: u64, top: usize) -> Result<Vec<LeaderRow>> {
        self.query_all(
            "SELECT s.user_id, SUM(s.points_milli), COUNT(*), SUM(s.correct), SUM(s.answered)
                 FROM quiz_scores s JOIN quiz_rounds r ON r.id = s.round_id
                 WHERE r.guild_id = ?1 AND r.status != 'running'
                 GROUP BY s.user_id
                 ORDER BY SUM(s.points_milli) DESC, SUM(s.correct) DESC, s.user_id
                 LIMIT ?2",
            params![id(guild_id), top as i64],
            "reading the leaderboard",
            |r: &rusqlite::Row<'_>| {
                Ok(LeaderRow {
                    user_id: uid(r.get(0)?),
                    points_milli: r.get(1)?,
                    rounds: r.get(2)?,
                    correct: r.get(3)?,
                    answered: r.get(4)?,
                })
            },
        )
    }
}

const SCHEDULE_SELECT: &str = "SELECT guild_id, channel_id, time, tz, role_id, filter, thread,
    paused, skip_date, armed_from, last_error FROM daily_schedules";

fn schedule_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduleRow> {
    Ok(ScheduleRow {
        guild_id: uid(r.get(0)?),
        channel_id: uid(r.get(1)?),
        time: r.get(2)?,
        tz: r.get(3)?,
        role_id: r.get::<_, Option<i64>>(4)?.map(uid),
        filter: r.get(5)?,
        thread: r.get(6)?,
        paused: r.get(7)?,
        skip_date: r.get(8)?,
        armed_from: r.get(9)?,
        last_error: r.get(10)?,
    })
}

const POST_SELECT: &str = "SELECT id, guild_id, local_date, number, question_id, channel_id, nonce,
    state, message_id, thread_id, attempts, error, created_at, sent_at, kind, thread_wanted,
    reaction_done, opening_done, finish, finish_error FROM daily_posts";

fn post_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PostRow> {
    Ok(PostRow {
        id: r.get(0)?,
        guild_id: uid(r.get(1)?),
        local_date: r.get(2)?,
        number: r.get(3)?,
        question_id: r.get(4)?,
        channel_id: uid(r.get(5)?),
        nonce: r.get(6)?,
        state: r.get(7)?,
        message_id: r.get::<_, Option<i64>>(8)?.map(uid),
        thread_id: r.get::<_, Option<i64>>(9)?.map(uid),
        attempts: r.get(10)?,
        error: r.get(11)?,
        created_at: r.get(12)?,
        sent_at: r.get(13)?,
        kind: r.get(14)?,
        thread_wanted: r.get(15)?,
        reaction_done: r.get(16)?,
        opening_done: r.get(17)?,
        finish: r.get(18)?,
        finish_error: r.get(19)?,
    })
}

#[cfg(test)]
mod tests;
