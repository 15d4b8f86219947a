//! Retention: what the store forgets, and when.
//!
//! Without a purge, three tables grow with every use for as long as the bot runs: which
//! message showed which question (and its reveals), each member's private shuffle-bag, and the
//! daily posts. [`SqliteStore::purge`] deletes what is past its [`Retention`] period; the edge calls
//! it hourly. Quiz rounds and scores are kept: the all-time leaderboard is made of them.
//! [`SqliteStore::delete_member`] answers a "forget me" request. Practice cards and the review log
//! are not purged by age (a streak and accuracy per topic are made of the whole log); they go
//! with the member.
//!
//! Every purge statement finds its rows through an index (a test reads the query plans), so
//! the hourly purge costs the rows it deletes, not the size of the tables.

use rusqlite::params;

use super::{id, SqliteStore};
use crate::store::error::{Context, Result};
use crate::store::rows::{cutoff, Forgotten, Purged, Retention};

/// The schema this module needs, appended to the list in `migrations.rs` after every
/// migration it depends on (the daily posts' columns included).
pub(super) const MIGRATION: &str = "
    -- When each shuffle-bag was last drawn from: idle per-member bags are purged.
    ALTER TABLE bags ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
    -- Bags saved before this column count as used at the upgrade; 0 would make the first
    -- purge empty every member's bag at once.
    UPDATE bags SET updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
    CREATE INDEX bags_updated_at ON bags (updated_at);
    CREATE INDEX question_messages_created_at ON question_messages (created_at);
    CREATE INDEX daily_posts_created_at ON daily_posts (created_at);
    -- The purge keeps each guild's highest-numbered post (next_post_number reads it too).
    CREATE INDEX daily_posts_guild_number ON daily_posts (guild_id, number);
    -- Forgetting a member: their reveals and scores by user.
    CREATE INDEX reveals_user ON reveals (user_id);
    CREATE INDEX quiz_scores_user ON quiz_scores (user_id);
";

// Each purge statement takes its cutoff (Unix ms) as ?1; rows strictly older go.

/// Reveals go with their question message, however recent the reveal itself.
const PURGE_REVEALS: &str = "DELETE FROM reveals WHERE message_id IN
    (SELECT message_id FROM question_messages WHERE created_at < ?1)";

const PURGE_QUESTION_MESSAGES: &str = "DELETE FROM question_messages WHERE created_at < ?1";

/// Per-member scopes end in `:user:<id>`; `practice:` scopes are per-member by design.
const PURGE_MEMBER_BAGS: &str = "DELETE FROM bags WHERE updated_at < ?1
    AND (scope GLOB '*:user:*' OR scope GLOB 'practice:*')";

/// A settled post goes unless it is its guild's latest settled scheduled post or its
/// highest-numbered one (see [`Retention::daily_posts`]).
const PURGE_DAILY_POSTS: &str = "DELETE FROM daily_posts AS p
    WHERE p.created_at < ?1 AND p.state IN ('sent', 'failed')
    AND EXISTS (SELECT 1 FROM daily_posts AS n
                WHERE n.guild_id = p.guild_id AND n.number > p.number)
    AND (p.kind != 'scheduled'
         OR EXISTS (SELECT 1 FROM daily_posts AS l
                    WHERE l.guild_id = p.guild_id AND l.kind = 'scheduled'
                    AND l.local_date > p.local_date AND l.state IN ('sent', 'failed')))";

#[cfg(test)]
const PURGE: [(&str, &str); 4] = [
    ("reveals", PURGE_REVEALS),
    ("question messages", PURGE_QUESTION_MESSAGES),
    ("member bags", PURGE_MEMBER_BAGS),
    ("daily posts", PURGE_DAILY_POSTS),
];

impl SqliteStore {
    /// Deletes what is past its retention period at `now_ms`, in one transaction, and returns
    /// how many rows went from each table.
    pub fn purge(&self, now_ms: i64, keep: &Retention) -> Result<Purged> {
        let messages = cutoff(now_ms, keep.question_messages);
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("starting a purge")?;
        // The reveals first: they are found through the messages deleted next.
        let reveals = tx
            .execute(PURGE_REVEALS, [messages])
            .ctx("purging old reveals")?;
        let purged = Purged {
            reveals,
            question_messages: tx
                .execute(PURGE_QUESTION_MESSAGES, [messages])
                .ctx("purging old question messages")?,
            member_bags: tx
                .execute(PURGE_MEMBER_BAGS, [cutoff(now_ms, keep.member_bags)])
                .ctx("purging idle member bags")?,
            daily_posts: tx
                .execute(PURGE_DAILY_POSTS, [cutoff(now_ms, keep.daily_posts)])
                .ctx("purging old daily posts")?,
        };
        tx.commit().ctx("committing a purge")?;
        purged.log();
        Ok(purged)
    }

    /// Forgets a member: their reveals, their per-member bags, their quiz scores (the other
    /// players' scores in the same rounds stay), their practice cards and review log, and their
    /// reminder setting and reminders. User id 0 marks a reveal shown to everyone and is
    /// nobody's: it deletes nothing.
    ///
    /// The bags are matched by the end of their scope, which no index serves; a scan of the
    /// bags for a rare request is cheaper than an index every draw would maintain.
    pub fn delete_member(&self, user_id: u64) -> Result<Forgotten> {
        if user_id == 0 {
            return Ok(Forgotten::default());
        }
        let mut conn = self.conn();
        let tx = conn.transaction().ctx("forgetting a member")?;
        let gone = Forgotten {
            reveals: tx
                .execute("DELETE FROM reveals WHERE user_id = ?1", [id(user_id)])
                .ctx("forgetting a member's reveals")?,
            member_bags: tx
                .execute(
                    "DELETE FROM bags WHERE scope GLOB ?1",
                    params![format!("*:user:{user_id}")],
                )
                .ctx("forgetting a member's shuffle-bags")?,
            quiz_scores: tx
                .execute("DELETE FROM quiz_scores WHERE user_id = ?1", [id(user_id)])
                .ctx("forgetting a member's quiz scores")?,
            // 0 is nobody: the round and the other players' scores stay.
            rounds_started: tx
                .execute(
                    "UPDATE quiz_rounds SET starter_id = 0 WHERE starter_id = ?1",
                    [id(user_id)],
                )
                .ctx("forgetting who started quiz rounds")?,
            practice_cards: tx
                .execute(
                    "DELETE FROM practice_cards WHERE user_id = ?1",
                    [id(user_id)],
                )
                .ctx("forgetting a member's practice cards")?,
            practice_reviews: tx
                .execute(
                    "DELETE FROM practice_reviews WHERE user_id = ?1",
                    [id(user_id)],
                )
                .ctx("forgetting a member's practice log")?,
            reminder_settings: tx
                .execute(
                    "DELETE FROM reminder_settings WHERE user_id = ?1",
                    [id(user_id)],
                )
                .ctx("forgetting a member's reminder setting")?,
            reminder_sends: tx
                .execute(
                    "DELETE FROM reminder_sends WHERE user_id = ?1",
                    [id(user_id)],
                )
                .ctx("forgetting a member's reminders")?,
        };
        tx.commit().ctx("forgetting a member")?;
        gone.log();
        Ok(gone)
    }
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
