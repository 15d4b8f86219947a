//! Persistence: everything that must survive a restart, behind one async surface with two
//! backends. All SQL lives under this module.
//!
//! - SQLite (`sqlite/`, the default): one file, zero setup, what `cargo run --release` uses.
//!   Its calls are synchronous and microseconds long, so the surface runs them inline.
//! - PostgreSQL (`pg/`, `storage.url`): several bot processes, each on a range of shards,
//!   sharing one database. Calls are async and pooled.
//!
//! Every guarantee the bot leans on comes from the database, never from a lock in this
//! process, so it holds across processes on either backend: one daily intent per guild and
//! local date and one reminder per member and date (unique indexes), one reveal claim per
//! message and member (a primary key), an atomic shuffle-bag draw (a row lock in PostgreSQL,
//! the write lock in SQLite), one running quiz round per channel (a partial unique index),
//! and a round's scores saved in one transaction.
//!
//! Both backends answer the same behaviour suite (`tests/store_backends.rs`).

mod error;
mod pg;
mod rows;
pub mod sqlite;
mod states;
mod transfer;

use std::path::Path;

pub use error::{Refusal, Result, StoreError};
pub use pg::PgStore;
pub use rows::{
    ActivityRow, Forgotten, LeaderRow, PostRow, Purged, QuestionMessage, ReminderRow, ReminderSend,
    Retention, ReviewEvent, Reviewed, RoundRow, ScheduleRow, ScoreRow,
};
pub use rusqlite::Error as SqlError;
pub use sqlite::SqliteStore;
pub use states::{FinishState, PostKind, PostState, ReminderState, RoundStatus, Source};
pub use transfer::{copy_sqlite_to_postgres, Copied};

use crate::bank::BagState;
use crate::config::StorageConfig as Storage;
use crate::practice::{CardDue, CardState};

/// The store the bot runs on: one of the two backends.
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens the configured store: PostgreSQL when `storage.url` is set, else the SQLite file
    /// at `storage.path`. Either is checked and migrated first; a database the bot must not
    /// run on is refused here, with what to do about it.
    pub async fn open(storage: &Storage) -> Result<Store> {
        match &storage.url {
            Some(url) => Ok(Store::Postgres(
                PgStore::connect(url, storage.password.as_ref(), storage.pool_size).await?,
            )),
            None => Ok(Store::Sqlite(SqliteStore::open(&storage.path)?)),
        }
    }

    /// The SQLite file at `path` (tests and tools that have no config).
    pub fn open_sqlite(path: &Path) -> Result<Store> {
        Ok(Store::Sqlite(SqliteStore::open(path)?))
    }

    /// A private in-memory SQLite database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store::Sqlite(SqliteStore::open_in_memory()?))
    }

    /// Gives a reveal claim back from a place that cannot wait (a drop guard): inline on
    /// SQLite; on PostgreSQL from a spawned task, which logs its own failure.
    pub fn release_reveal_detached(&self, message_id: u64, user_id: u64) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.release_reveal(message_id, user_id),
            Store::Postgres(p) => {
                let p = p.clone();
                tokio::spawn(async move {
                    if let Err(e) = p.release_reveal(message_id, user_id).await {
                        tracing::warn!(error = %e, message_id, "giving back a reveal claim");
                    }
                });
                Ok(())
            }
        }
    }

    /// `sqlite` or `postgres`, for logs and `/healthz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Runs `f` on the bag of `scope` and saves the result, atomically with respect to every
    /// other caller, in this process or another: two `/ask` at once cannot draw the same
    /// question. `now_ms` is when it was last used (idle per-member bags are purged).
    pub async fn update_bag_at<T>(
        &self,
        scope: &str,
        now_ms: i64,
        f: impl FnOnce(&mut BagState) -> T,
    ) -> Result<T> {
        match self {
            Store::Sqlite(s) => s.update_bag_at(scope, now_ms, f),
            Store::Postgres(p) => p.update_bag_at(scope, now_ms, f).await,
        }
    }

    /// Reviews one card atomically: `schedule` sees the card as stored and returns its next
    /// state, or `None` to refuse (a stale button); see [`SqliteStore::review_card`].
    pub async fn review_card(
        &self,
        e: &ReviewEvent,
        schedule: impl FnOnce(Option<&CardState>) -> Option<CardState>,
    ) -> Result<Reviewed> {
        match self {
            Store::Sqlite(s) => s.review_card(e, schedule),
            Store::Postgres(p) => p.review_card(e, schedule).await,
        }
    }

    /// Reviews several cards in one transaction (the answers to one quiz question).
    pub async fn review_cards(
        &self,
        events: &[ReviewEvent],
        schedule: impl Fn(Option<&CardState>, &ReviewEvent) -> CardState,
    ) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.review_cards(events, schedule),
            Store::Postgres(p) => p.review_cards(events, schedule).await,
        }
    }
}

/// The rest of the surface: the same method on either backend. Each backend documents its
/// methods; the SQLite ones (`sqlite/`) carry the longer notes.
macro_rules! surface {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    match self {
                        Store::Sqlite(s) => s.$name($($arg),*),
                        Store::Postgres(p) => p.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

surface! {
    /// Whether the database answers a trivial query: the store half of `/healthz`.
    fn ping(&self) -> ();
    /// How many schema migrations are applied.
    fn schema_version(&self) -> i64;

    fn record_question_message(&self, msg: &QuestionMessage, source: Source, now_ms: i64) -> ();
    fn question_message(&self, message_id: u64) -> Option<QuestionMessage>;
    /// Where a question message came from; `None` for one not recorded.
    fn question_source(&self, message_id: u64) -> Option<Source>;
    /// Claims the reveal of a message for a member (0: for everyone); false when claimed
    /// already, and the caller must not reveal again.
    fn claim_reveal(&self, message_id: u64, user_id: u64, now_ms: i64) -> bool;
    /// Gives a claim back after the reveal could not be delivered.
    fn release_reveal(&self, message_id: u64, user_id: u64) -> ();
    fn set_reveal_message(&self, message_id: u64, user_id: u64, reveal_id: u64) -> ();

    fn bag(&self, scope: &str) -> BagState;

    fn put_schedule(&self, s: &ScheduleRow) -> ();
    fn schedule(&self, guild_id: u64) -> Option<ScheduleRow>;
    fn schedules(&self) -> Vec<ScheduleRow>;
    fn delete_schedule(&self, guild_id: u64) -> bool;
    fn set_schedule_error(&self, guild_id: u64, error: Option<&str>) -> ();

    /// Records the intent to post for `(guild, local date)` before anything is sent, or
    /// returns the intent recorded already (by this process or another).
    fn begin_post(&self, p: &PostRow) -> PostRow;
    fn post(&self, guild_id: u64, local_date: &str) -> Option<PostRow>;
    fn last_post(&self, guild_id: u64) -> Option<PostRow>;
    fn last_posted_date(&self, guild_id: u64) -> Option<String>;
    fn next_post_number(&self, guild_id: u64) -> i64;
    fn set_post_question(&self, post_id: i64, question_id: &str) -> ();
    fn post_attempt(&self, post_id: i64) -> ();
    fn mark_post_sent(&self, post_id: i64, message_id: u64, now_ms: i64, thread_wanted: bool) -> ();
    fn set_post_thread(&self, post_id: i64, thread_id: u64) -> ();
    fn mark_post_reaction_done(&self, post_id: i64) -> ();
    fn mark_post_opening_done(&self, post_id: i64) -> ();
    fn set_post_finish(&self, post_id: i64, finish: FinishState, error: Option<&str>) -> ();
    fn unfinished_posts(&self) -> Vec<PostRow>;
    fn mark_post_failed(&self, post_id: i64, error: &str) -> ();
    fn note_post_error(&self, post_id: i64, error: &str) -> ();
    fn record_manual_post(&self, p: &PostRow) -> i64;

    /// Creates a running round; `None` when the channel has one already.
    fn create_round(
        &self,
        guild_id: u64,
        channel_id: u64,
        starter_id: u64,
        questions_total: usize,
        now_ms: i64,
    ) -> Option<i64>;
    fn save_round_scores(&self, round_id: i64, questions_played: usize, scores: &[ScoreRow]) -> ();
    fn end_round(&self, round_id: i64, status: RoundStatus, now_ms: i64) -> ();
    fn running_rounds(&self) -> Vec<RoundRow>;
    fn round_scores(&self, round_id: i64) -> Vec<ScoreRow>;
    fn leaderboard(&self, guild_id: u64, top: usize) -> Vec<LeaderRow>;

    fn practice_cards(&self, user_id: u64) -> Vec<CardDue>;
    fn practice_card(&self, user_id: u64, question_id: &str) -> Option<CardState>;
    fn record_reveal(&self, e: &ReviewEvent) -> bool;
    fn practice_activity(&self, user_id: u64) -> Vec<ActivityRow>;

    fn put_reminder(&self, r: &ReminderRow) -> ();
    fn reminder(&self, user_id: u64) -> Option<ReminderRow>;
    fn reminders(&self) -> Vec<ReminderRow>;
    fn delete_reminder(&self, user_id: u64) -> bool;
    fn last_reminder_date(&self, user_id: u64) -> Option<String>;
    fn reminder_send(&self, user_id: u64, local_date: &str) -> Option<ReminderSend>;
    fn begin_reminder(&self, s: &ReminderSend) -> ReminderSend;
    fn reminder_attempt(&self, send_id: i64, channel_id: u64) -> ();
    fn mark_reminder_sent(&self, send_id: i64, message_id: u64, now_ms: i64) -> ();
    fn mark_reminder_failed(&self, send_id: i64, error: &str) -> ();
    fn note_reminder_error(&self, send_id: i64, error: &str) -> ();

    /// Deletes what is past its retention period.
    fn purge(&self, now_ms: i64, keep: &Retention) -> Purged;
    /// Forgets a member (a `/forget-me` request).
    fn delete_member(&self, user_id: u64) -> Forgotten;
}
