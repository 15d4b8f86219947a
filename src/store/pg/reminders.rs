//! Practice reminders in PostgreSQL: who wants one and when, and one row per member and local
//! date (see `sqlite/reminders.rs`). The unique (member, date) index makes the intent
//! exactly-once across processes.

use super::{get, id, uid, Context, PgStore, Result};
use crate::store::rows::{ReminderRow, ReminderSend};
use crate::store::states::ReminderState;
use crate::store::StoreError;

const SEND_SELECT: &str = "SELECT id, user_id, local_date, nonce, state, due, channel_id,
    message_id, attempts, error, created_at, sent_at FROM reminder_sends";

fn send_row(r: &tokio_postgres::Row) -> std::result::Result<ReminderSend, tokio_postgres::Error> {
    Ok(ReminderSend {
        id: r.try_get(0)?,
        user_id: uid(r.try_get(1)?),
        local_date: r.try_get(2)?,
        nonce: r.try_get(3)?,
        state: r.try_get(4)?,
        due: u32::try_from(r.try_get::<_, i64>(5)?.max(0)).unwrap_or(u32::MAX),
        channel_id: r.try_get::<_, Option<i64>>(6)?.map(uid),
        message_id: r.try_get::<_, Option<i64>>(7)?.map(uid),
        attempts: r.try_get(8)?,
        error: r.try_get(9)?,
        created_at: r.try_get(10)?,
        sent_at: r.try_get(11)?,
    })
}

fn setting_row(r: &tokio_postgres::Row) -> std::result::Result<ReminderRow, tokio_postgres::Error> {
    Ok(ReminderRow {
        user_id: uid(r.try_get(0)?),
        time: r.try_get(1)?,
        tz: r.try_get(2)?,
        armed_from: r.try_get(3)?,
    })
}

impl PgStore {
    pub async fn put_reminder(&self, r: &ReminderRow) -> Result<()> {
        self.execute(
            "saving a reminder setting",
            "INSERT INTO reminder_settings (user_id, time, tz, armed_from)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET
                 time = excluded.time, tz = excluded.tz, armed_from = excluded.armed_from",
            &[&id(r.user_id), &r.time, &r.tz, &r.armed_from],
        )
        .await?;
        Ok(())
    }

    pub async fn reminder(&self, user_id: u64) -> Result<Option<ReminderRow>> {
        const CX: &str = "loading a reminder setting";
        let row = self
            .query_opt(
                CX,
                "SELECT user_id, time, tz, armed_from FROM reminder_settings WHERE user_id = $1",
                &[&id(user_id)],
            )
            .await?;
        row.map(|r| setting_row(&r).ctx(CX)).transpose()
    }

    pub async fn reminders(&self) -> Result<Vec<ReminderRow>> {
        const CX: &str = "listing reminder settings";
        let rows = self
            .query(
                CX,
                "SELECT user_id, time, tz, armed_from FROM reminder_settings ORDER BY user_id",
                &[],
            )
            .await?;
        rows.iter().map(|r| setting_row(r).ctx(CX)).collect()
    }

    pub async fn delete_reminder(&self, user_id: u64) -> Result<bool> {
        let n = self
            .execute(
                "turning reminders off",
                "DELETE FROM reminder_settings WHERE user_id = $1",
                &[&id(user_id)],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn last_reminder_date(&self, user_id: u64) -> Result<Option<String>> {
        const CX: &str = "reading the last reminder date";
        let row = self
            .query_opt(
                CX,
                "SELECT MAX(local_date) FROM reminder_sends WHERE user_id = $1 AND state != $2",
                &[&id(user_id), &ReminderState::Pending.as_str()],
            )
            .await?;
        get(&row, 0, CX)
    }

    pub async fn reminder_send(
        &self,
        user_id: u64,
        local_date: &str,
    ) -> Result<Option<ReminderSend>> {
        const CX: &str = "loading a reminder";
        let row = self
            .query_opt(
                CX,
                &format!("{SEND_SELECT} WHERE user_id = $1 AND local_date = $2"),
                &[&id(user_id), &local_date],
            )
            .await?;
        row.map(|r| send_row(&r).ctx(CX)).transpose()
    }

    /// Records the reminder of `(member, local date)`, or returns the one recorded already.
    pub async fn begin_reminder(&self, s: &ReminderSend) -> Result<ReminderSend> {
        const CX: &str = "recording a reminder intent";
        self.execute(
            CX,
            "INSERT INTO reminder_sends
             (user_id, local_date, nonce, state, due, attempts, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6)
             ON CONFLICT DO NOTHING",
            &[
                &id(s.user_id),
                &s.local_date,
                &s.nonce,
                &s.state.as_str(),
                &i64::from(s.due),
                &s.created_at,
            ],
        )
        .await?;
        self.reminder_send(s.user_id, &s.local_date)
            .await?
            .ok_or_else(|| StoreError::Decode {
                context: CX,
                message: "the intent vanished right after it was recorded".into(),
            })
    }

    pub async fn reminder_attempt(&self, send_id: i64, channel_id: u64) -> Result<()> {
        self.execute(
            "counting a reminder attempt",
            "UPDATE reminder_sends SET attempts = attempts + 1, channel_id = $2 WHERE id = $1",
            &[&send_id, &id(channel_id)],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_reminder_sent(
        &self,
        send_id: i64,
        message_id: u64,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "recording a sent reminder",
            "UPDATE reminder_sends SET state = $2, message_id = $3, sent_at = $4, error = NULL
             WHERE id = $1",
            &[
                &send_id,
                &ReminderState::Sent.as_str(),
                &id(message_id),
                &now_ms,
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_reminder_failed(&self, send_id: i64, error: &str) -> Result<()> {
        self.execute(
            "recording a failed reminder",
            "UPDATE reminder_sends SET state = $2, error = $3 WHERE id = $1",
            &[&send_id, &ReminderState::Failed.as_str(), &error],
        )
        .await?;
        Ok(())
    }

    pub async fn note_reminder_error(&self, send_id: i64, error: &str) -> Result<()> {
        self.execute(
            "recording a reminder error",
            "UPDATE reminder_sends SET error = $2 WHERE id = $1",
            &[&send_id, &error],
        )
        .await?;
        Ok(())
    }
}
