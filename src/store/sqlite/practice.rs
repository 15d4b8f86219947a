//! Personal practice: each member's FSRS cards and the log of what they did.
//!
//! Practice is per member, across servers: one memory of a question per person, wherever
//! they met it. Each logged event keeps the server it happened in, because streak days are
//! local days in that server's daily-post zone (see [`SqliteStore::practice_activity`]).
//!
//! - `practice_cards`: one row per (member, question) once reviewed, clustered by member
//!   (`WITHOUT ROWID`), with an index on (member, due) that also covers what the queue reads,
//!   so a member's queue is one index range read however many members there are.
//! - `practice_reviews`: every grade (with its source: practice, ask, daily, quiz) and every
//!   reveal of the daily question (no grade; counts for the streak), by member and time.
//!
//! Both are kept until the member asks to be forgotten ([`SqliteStore::delete_member`]): the longest
//! streak and the accuracy per topic are made of the whole log.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction};

use super::{id, uid, SqliteStore};
use crate::practice::{CardDue, CardState};
use crate::store::error::{Context, Result};
use crate::store::rows::{ActivityRow, ReviewEvent, Reviewed};

/// The schema of this module, appended to the list in `migrations.rs`.
pub(super) const MIGRATION: &str = "
    CREATE TABLE practice_cards (
        user_id        INTEGER NOT NULL,
        question_id    TEXT NOT NULL,
        due            INTEGER NOT NULL,
        stability      REAL NOT NULL,
        difficulty     REAL NOT NULL,
        elapsed_days   INTEGER NOT NULL,
        scheduled_days INTEGER NOT NULL,
        reps           INTEGER NOT NULL,
        lapses         INTEGER NOT NULL,
        phase          TEXT NOT NULL,
        last_review    INTEGER NOT NULL,
        first_seen     INTEGER NOT NULL,
        PRIMARY KEY (user_id, question_id)
    ) WITHOUT ROWID;
    -- The queue: a member's cards, most overdue first. With the primary key's columns implied,
    -- the index holds everything the queue reads, so the table itself is not visited.
    CREATE INDEX practice_cards_due ON practice_cards (user_id, due, first_seen, reps);
    CREATE TABLE practice_reviews (
        id          INTEGER PRIMARY KEY,
        user_id     INTEGER NOT NULL,
        question_id TEXT NOT NULL,
        -- NULL: the daily question revealed without a grade (counts for the streak only).
        grade       TEXT,
        source      TEXT NOT NULL,
        at          INTEGER NOT NULL,
        guild_id    INTEGER,
        -- The message revealed or graded under, when there is one.
        message_id  INTEGER
    );
    CREATE INDEX practice_reviews_user_at ON practice_reviews (user_id, at);
    -- A member's reveal of one daily post counts once, however often they press the button.
    CREATE UNIQUE INDEX practice_reviews_one_reveal
        ON practice_reviews (user_id, message_id) WHERE grade IS NULL;
";

fn ts(ms: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(e))
    })
}

const CARD_SELECT: &str = "SELECT due, stability, difficulty, elapsed_days, scheduled_days, reps,
    lapses, phase, last_review FROM practice_cards WHERE user_id = ?1 AND question_id = ?2";

fn card_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CardState> {
    Ok(CardState {
        due: ts(r.get(0)?)?,
        stability: r.get(1)?,
        difficulty: r.get(2)?,
        elapsed_days: r.get(3)?,
        scheduled_days: r.get(4)?,
        reps: r.get(5)?,
        lapses: r.get(6)?,
        phase: r.get(7)?,
        last_review: ts(r.get(8)?)?,
    })
}

fn card_in(tx: &Transaction<'_>, user_id: u64, question_id: &str) -> Result<Option<CardState>> {
    tx.prepare_cached(CARD_SELECT)
        .and_then(|mut s| {
            s.query_row(params![id(user_id), question_id], card_row)
                .optional()
        })
        .ctx("loading a practice card")
}

/// Saves `card` (keeping `first_seen` of an existing row) and logs `e`.
fn write_review(tx: &Transaction<'_>, e: &ReviewEvent, card: &CardState) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO practice_cards
         (user_id, question_id, due, stability, difficulty, elapsed_days, scheduled_days, reps,
          lapses, phase, last_review, first_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(user_id, question_id) DO UPDATE SET
          due = excluded.due, stability = excluded.stability,
          difficulty = excluded.difficulty, elapsed_days = excluded.elapsed_days,
          scheduled_days = excluded.scheduled_days, reps = excluded.reps,
          lapses = excluded.lapses, phase = excluded.phase, last_review = excluded.last_review",
    )
    .and_then(|mut s| {
        s.execute(params![
            id(e.user_id),
            e.question_id,
            card.due.as_millisecond(),
            card.stability,
            card.difficulty,
            card.elapsed_days,
            card.scheduled_days,
            card.reps,
            card.lapses,
            card.phase,
            card.last_review.as_millisecond(),
            e.at.as_millisecond(),
        ])
    })
    .ctx("saving a practice card")?;
    log_in(tx, e)?;
    Ok(())
}

/// Logs `e`; returns whether a row was added (a repeated reveal is not).
fn log_in(tx: &Transaction<'_>, e: &ReviewEvent) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO practice_reviews
             (user_id, question_id, grade, source, at, guild_id, message_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                id(e.user_id),
                e.question_id,
                e.grade,
                e.source,
                e.at.as_millisecond(),
                e.guild_id.map(id),
                e.message_id.map(id),
            ])
        })
        .ctx("logging a practice review")?;
    Ok(n == 1)
}

impl SqliteStore {
    /// Every card of a member, most overdue first: what the queue and `/stats` need. One
    /// range read of the (member, due) index.
    pub fn practice_cards(&self, user_id: u64) -> Result<Vec<CardDue>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT question_id, due, first_seen, reps FROM practice_cards
                 WHERE user_id = ?1 ORDER BY due",
            )
            .ctx("loading practice cards")?;
        let rows = stmt
            .query_map(params![id(user_id)], |r| {
                Ok(CardDue {
                    question_id: r.get(0)?,
                    due: ts(r.get(1)?)?,
                    first_seen: ts(r.get(2)?)?,
                    reps: r.get(3)?,
                })
            })
            .ctx("loading practice cards")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("loading practice cards")?;
        Ok(rows)
    }

    /// One card's FSRS state; `None` for a question the member never reviewed.
    pub fn practice_card(&self, user_id: u64, question_id: &str) -> Result<Option<CardState>> {
        self.conn()
            .prepare_cached(CARD_SELECT)
            .and_then(|mut s| {
                s.query_row(params![id(user_id), question_id], card_row)
                    .optional()
            })
            .ctx("loading a practice card")
    }

    /// Reviews one card atomically: `schedule` sees the card as stored (`None` when never
    /// reviewed) and returns its next state, or `None` to refuse (a stale button); the new
    /// state is saved and `e` logged in one transaction, so two clicks at once cannot both
    /// apply to the same old state. `e.grade` must be set.
    pub fn review_card(
        &self,
        e: &ReviewEvent,
        schedule: impl FnOnce(Option<&CardState>) -> Option<CardState>,
    ) -> Result<Reviewed> {
        let mut conn = self.conn();
        // IMMEDIATE: the card is read under the write lock, so another process's review of
        // it waits rather than applying to the same old state.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("reviewing a practice card")?;
        let before = card_in(&tx, e.user_id, &e.question_id)?;
        let Some(after) = schedule(before.as_ref()) else {
            return Ok(Reviewed::Refused(before));
        };
        write_review(&tx, e, &after)?;
        tx.commit().ctx("reviewing a practice card")?;
        Ok(Reviewed::Done(after))
    }

    /// Reviews several cards in one transaction (the answers to one quiz question):
    /// `schedule` gives each card's next state from its stored one and the event.
    pub fn review_cards(
        &self,
        events: &[ReviewEvent],
        schedule: impl Fn(Option<&CardState>, &ReviewEvent) -> CardState,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("reviewing practice cards")?;
        for e in events {
            let before = card_in(&tx, e.user_id, &e.question_id)?;
            write_review(&tx, e, &schedule(before.as_ref(), e))?;
        }
        tx.commit().ctx("reviewing practice cards")?;
        Ok(())
    }

    /// Logs a reveal of the daily question (no grade): it counts for the member's streak.
    /// Once per member and message; returns whether this one was new.
    pub fn record_reveal(&self, e: &ReviewEvent) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("logging a reveal")?;
        let added = log_in(
            &tx,
            &ReviewEvent {
                grade: None,
                ..e.clone()
            },
        )?;
        tx.commit().ctx("logging a reveal")?;
        Ok(added)
    }

    /// Everything a member did, oldest first, each with its server's daily-post time zone
    /// (the current one: a server that changes its zone moves its members' past days too).
    pub fn practice_activity(&self, user_id: u64) -> Result<Vec<ActivityRow>> {
        self.query_all(
            "SELECT r.question_id, r.grade, r.source, r.at, r.guild_id, s.tz
             FROM practice_reviews r LEFT JOIN daily_schedules s ON s.guild_id = r.guild_id
             WHERE r.user_id = ?1 ORDER BY r.at, r.id",
            params![id(user_id)],
            "loading practice activity",
            |r| {
                Ok(ActivityRow {
                    question_id: r.get(0)?,
                    grade: r.get(1)?,
                    source: r.get(2)?,
                    at: ts(r.get(3)?)?,
                    guild_id: r.get::<_, Option<i64>>(4)?.map(uid),
                    tz: r.get(5)?,
                })
            },
        )
    }
}

#[cfg(test)]
#[path = "practice_tests.rs"]
mod tests;
