//! Personal practice in PostgreSQL: each member's FSRS cards and the log of what they did
//! (see `sqlite/practice.rs` for what the tables hold and why).
//!
//! A review locks the member's card for its read-modify-write. A card not stored yet has no
//! row to lock, so the review first takes a transaction-scoped advisory lock on (member,
//! question): two first grades of one card, from two processes, run one after the other.

use std::time::Instant;

use deadpool_postgres::Transaction;

use super::{id, ts, uid, Context, PgStore, Result, Timed};
use crate::practice::{CardDue, CardState};
use crate::store::rows::{ActivityRow, ReviewEvent, Reviewed};

const CARD_SELECT: &str = "SELECT due, stability, difficulty, elapsed_days, scheduled_days, reps,
    lapses, phase, last_review FROM practice_cards WHERE user_id = $1 AND question_id = $2";

async fn card_in(
    tx: &Transaction<'_>,
    user_id: u64,
    question_id: &str,
) -> Result<Option<CardState>> {
    const CX: &str = "loading a practice card";
    // The key is PostgreSQL's own hash of the question, seeded with the member: the same in
    // every process and release. A collision only makes two unrelated reviews take turns.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($2, $1))",
        &[&id(user_id), &question_id],
    )
    .await
    .ctx(CX)?;
    let st = tx
        .prepare_cached(&format!("{CARD_SELECT} FOR UPDATE"))
        .await
        .ctx(CX)?;
    let row = tx
        .query_opt(&st, &[&id(user_id), &question_id])
        .await
        .ctx(CX)?;
    row.map(|r| card_row(&r, CX)).transpose()
}

fn card_row(r: &tokio_postgres::Row, cx: &'static str) -> Result<CardState> {
    Ok(CardState {
        due: ts(r.try_get(0).ctx(cx)?, cx)?,
        stability: r.try_get(1).ctx(cx)?,
        difficulty: r.try_get(2).ctx(cx)?,
        elapsed_days: r.try_get(3).ctx(cx)?,
        scheduled_days: r.try_get(4).ctx(cx)?,
        reps: count(r.try_get(5).ctx(cx)?),
        lapses: count(r.try_get(6).ctx(cx)?),
        phase: r.try_get(7).ctx(cx)?,
        last_review: ts(r.try_get(8).ctx(cx)?, cx)?,
    })
}

/// A stored count as the core's `u32` (a negative or huge value cannot be written by us).
fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Saves `card` (keeping `first_seen` of an existing row) and logs `e`.
async fn write_review(tx: &Transaction<'_>, e: &ReviewEvent, card: &CardState) -> Result<()> {
    const CX: &str = "saving a practice card";
    let st = tx
        .prepare_cached(
            "INSERT INTO practice_cards
             (user_id, question_id, due, stability, difficulty, elapsed_days, scheduled_days,
              reps, lapses, phase, last_review, first_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (user_id, question_id) DO UPDATE SET
              due = excluded.due, stability = excluded.stability,
              difficulty = excluded.difficulty, elapsed_days = excluded.elapsed_days,
              scheduled_days = excluded.scheduled_days, reps = excluded.reps,
              lapses = excluded.lapses, phase = excluded.phase,
              last_review = excluded.last_review",
        )
        .await
        .ctx(CX)?;
    tx.execute(
        &st,
        &[
            &id(e.user_id),
            &e.question_id,
            &card.due.as_millisecond(),
            &card.stability,
            &card.difficulty,
            &card.elapsed_days,
            &card.scheduled_days,
            &i64::from(card.reps),
            &i64::from(card.lapses),
            &card.phase.as_str(),
            &card.last_review.as_millisecond(),
            &e.at.as_millisecond(),
        ],
    )
    .await
    .ctx(CX)?;
    log_in(tx, e).await?;
    Ok(())
}

/// Logs `e`; returns whether a row was added (a repeated reveal is not).
async fn log_in(tx: &Transaction<'_>, e: &ReviewEvent) -> Result<bool> {
    const CX: &str = "logging a practice review";
    let st = tx
        .prepare_cached(
            "INSERT INTO practice_reviews
             (user_id, question_id, grade, source, at, guild_id, message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT DO NOTHING",
        )
        .await
        .ctx(CX)?;
    let n = tx
        .execute(
            &st,
            &[
                &id(e.user_id),
                &e.question_id,
                &e.grade.map(|g| g.as_str()),
                &e.source.as_str(),
                &e.at.as_millisecond(),
                &e.guild_id.map(id),
                &e.message_id.map(id),
            ],
        )
        .await
        .ctx(CX)?;
    Ok(n == 1)
}

impl PgStore {
    /// Every card of a member, most overdue first (an index-only range scan).
    pub async fn practice_cards(&self, user_id: u64) -> Result<Vec<CardDue>> {
        const CX: &str = "loading practice cards";
        let rows = self
            .query(
                CX,
                "SELECT question_id, due, first_seen, reps FROM practice_cards
                 WHERE user_id = $1 ORDER BY due",
                &[&id(user_id)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CardDue {
                    question_id: r.try_get(0).ctx(CX)?,
                    due: ts(r.try_get(1).ctx(CX)?, CX)?,
                    first_seen: ts(r.try_get(2).ctx(CX)?, CX)?,
                    reps: count(r.try_get(3).ctx(CX)?),
                })
            })
            .collect()
    }

    pub async fn practice_card(
        &self,
        user_id: u64,
        question_id: &str,
    ) -> Result<Option<CardState>> {
        const CX: &str = "loading a practice card";
        let row = self
            .query_opt(CX, CARD_SELECT, &[&id(user_id), &question_id])
            .await?;
        row.map(|r| card_row(&r, CX)).transpose()
    }

    /// Reviews one card atomically (see the module notes on locking).
    pub async fn review_card(
        &self,
        e: &ReviewEvent,
        schedule: impl FnOnce(Option<&CardState>) -> Option<CardState>,
    ) -> Result<Reviewed> {
        const CX: &str = "reviewing a practice card";
        let _timed = Timed(Instant::now());
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        let before = card_in(&tx, e.user_id, &e.question_id).await?;
        let Some(after) = schedule(before.as_ref()) else {
            // Dropping the transaction rolls it back and frees the locks.
            return Ok(Reviewed::Refused(before));
        };
        write_review(&tx, e, &after).await?;
        tx.commit().await.ctx(CX)?;
        Ok(Reviewed::Done(after))
    }

    /// Reviews several cards in one transaction (the answers to one quiz question).
    pub async fn review_cards(
        &self,
        events: &[ReviewEvent],
        schedule: impl Fn(Option<&CardState>, &ReviewEvent) -> CardState,
    ) -> Result<()> {
        const CX: &str = "reviewing practice cards";
        let _timed = Timed(Instant::now());
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        for e in events {
            let before = card_in(&tx, e.user_id, &e.question_id).await?;
            write_review(&tx, e, &schedule(before.as_ref(), e)).await?;
        }
        tx.commit().await.ctx(CX)
    }

    /// Logs a reveal of the daily question (no grade); once per member and message.
    pub async fn record_reveal(&self, e: &ReviewEvent) -> Result<bool> {
        const CX: &str = "logging a reveal";
        let _timed = Timed(Instant::now());
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        let added = log_in(
            &tx,
            &ReviewEvent {
                grade: None,
                ..e.clone()
            },
        )
        .await?;
        tx.commit().await.ctx(CX)?;
        Ok(added)
    }

    /// Everything a member did, oldest first, each with its server's daily-post time zone.
    pub async fn practice_activity(&self, user_id: u64) -> Result<Vec<ActivityRow>> {
        const CX: &str = "loading practice activity";
        let rows = self
            .query(
                CX,
                "SELECT r.question_id, r.grade, r.source, r.at, r.guild_id, s.tz
                 FROM practice_reviews r LEFT JOIN daily_schedules s ON s.guild_id = r.guild_id
                 WHERE r.user_id = $1 ORDER BY r.at, r.id",
                &[&id(user_id)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ActivityRow {
                    question_id: r.try_get(0).ctx(CX)?,
                    grade: r.try_get(1).ctx(CX)?,
                    source: r.try_get(2).ctx(CX)?,
                    at: ts(r.try_get(3).ctx(CX)?, CX)?,
                    guild_id: r.try_get::<_, Option<i64>>(4).ctx(CX)?.map(uid),
                    tz: r.try_get(5).ctx(CX)?,
                })
            })
            .collect()
    }
}
