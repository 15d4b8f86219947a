//! Retention in PostgreSQL: the hourly purge and forgetting a member, with the same rules as
//! `sqlite/retention.rs` (which documents them), each in one transaction.

use std::time::Instant;

use super::{id, Context, PgStore, Result, Timed};
use crate::store::rows::{cutoff, Forgotten, Purged, Retention};

// Each purge statement takes its cutoff (Unix ms) as $1; rows strictly older go.

const PURGE_REVEALS: &str = "DELETE FROM reveals WHERE message_id IN
    (SELECT message_id FROM question_messages WHERE created_at < $1)";

const PURGE_QUESTION_MESSAGES: &str = "DELETE FROM question_messages WHERE created_at < $1";

/// Per-member scopes contain `:user:`; `practice:` scopes are per-member by design.
const PURGE_MEMBER_BAGS: &str = "DELETE FROM bags WHERE updated_at < $1
    AND (scope LIKE '%:user:%' OR scope LIKE 'practice:%')";

const PURGE_DAILY_POSTS: &str = "DELETE FROM daily_posts AS p
    WHERE p.created_at < $1 AND p.state IN ('sent', 'failed')
    AND EXISTS (SELECT 1 FROM daily_posts AS n
                WHERE n.guild_id = p.guild_id AND n.number > p.number)
    AND (p.kind != 'scheduled'
         OR EXISTS (SELECT 1 FROM daily_posts AS l
                    WHERE l.guild_id = p.guild_id AND l.kind = 'scheduled'
                    AND l.local_date > p.local_date AND l.state IN ('sent', 'failed')))";

/// Row counts fit `usize` (they are rows this process just deleted).
fn n(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}

impl PgStore {
    /// Deletes what is past its retention period at `now_ms`, in one transaction.
    pub async fn purge(&self, now_ms: i64, keep: &Retention) -> Result<Purged> {
        const CX: &str = "purging rows past their retention period";
        let _timed = Timed(Instant::now());
        let messages = cutoff(now_ms, keep.question_messages);
        let bags = cutoff(now_ms, keep.member_bags);
        let posts = cutoff(now_ms, keep.daily_posts);
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        let purged = Purged {
            reveals: n(tx.execute(PURGE_REVEALS, &[&messages]).await.ctx(CX)?),
            question_messages: n(tx
                .execute(PURGE_QUESTION_MESSAGES, &[&messages])
                .await
                .ctx(CX)?),
            member_bags: n(tx.execute(PURGE_MEMBER_BAGS, &[&bags]).await.ctx(CX)?),
            daily_posts: n(tx.execute(PURGE_DAILY_POSTS, &[&posts]).await.ctx(CX)?),
        };
        tx.commit().await.ctx(CX)?;
        purged.log();
        Ok(purged)
    }

    /// Forgets a member (see `SqliteStore::delete_member`). User id 0 is nobody.
    pub async fn delete_member(&self, user_id: u64) -> Result<Forgotten> {
        const CX: &str = "forgetting a member";
        if user_id == 0 {
            return Ok(Forgotten::default());
        }
        let _timed = Timed(Instant::now());
        let u = id(user_id);
        let scope = format!("%:user:{user_id}");
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        let del = |sql: &'static str| {
            let tx = &tx;
            let u = &u;
            async move { tx.execute(sql, &[u]).await.ctx(CX).map(n) }
        };
        let gone = Forgotten {
            reveals: del("DELETE FROM reveals WHERE user_id = $1").await?,
            member_bags: n(tx
                .execute("DELETE FROM bags WHERE scope LIKE $1", &[&scope])
                .await
                .ctx(CX)?),
            quiz_scores: del("DELETE FROM quiz_scores WHERE user_id = $1").await?,
            rounds_started: del("UPDATE quiz_rounds SET starter_id = 0 WHERE starter_id = $1")
                .await?,
            practice_cards: del("DELETE FROM practice_cards WHERE user_id = $1").await?,
            practice_reviews: del("DELETE FROM practice_reviews WHERE user_id = $1").await?,
            reminder_settings: del("DELETE FROM reminder_settings WHERE user_id = $1").await?,
            reminder_sends: del("DELETE FROM reminder_sends WHERE user_id = $1").await?,
        };
        tx.commit().await.ctx(CX)?;
        gone.log();
        Ok(gone)
    }
}
