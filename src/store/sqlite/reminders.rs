//! Practice reminders: who wants one and when, and one row per member and local date.
//!
//! - `reminder_settings`: one row per member who opted in (`/practice remind:HH:MM`), with
//!   their time zone and when they turned it on (occurrences before that are never sent,
//!   like a daily schedule's `armed_from`).
//! - `reminder_sends`: the exactly-once record, unique per (member, local date), written
//!   before anything is sent. Its nonce is derived from member and date, so every attempt
//!   for the date carries the same one; the message id is recorded after the send. A date
//!   with nothing due is recorded as `skipped`, so a restart does not look again.

use rusqlite::{params, OptionalExtension};

use super::{id, uid, SqliteStore};
use crate::store::error::{Context, Result};
use crate::store::rows::{ReminderRow, ReminderSend};
use crate::store::states::ReminderState;

/// The schema of this module, appended to the list in `migrations.rs`.
pub(super) const MIGRATION: &str = "
    CREATE TABLE reminder_settings (
        user_id    INTEGER PRIMARY KEY,
        time       TEXT NOT NULL,
        tz         TEXT NOT NULL,
        armed_from INTEGER NOT NULL
    );
    CREATE TABLE reminder_sends (
        id         INTEGER PRIMARY KEY,
        user_id    INTEGER NOT NULL,
        local_date TEXT NOT NULL,
        nonce      TEXT NOT NULL,
        state      TEXT NOT NULL,
        due        INTEGER NOT NULL DEFAULT 0,
        channel_id INTEGER,
        message_id INTEGER,
        attempts   INTEGER NOT NULL DEFAULT 0,
        error      TEXT,
        created_at INTEGER NOT NULL,
        sent_at    INTEGER
    );
    -- One reminder per member per local date: the heart of exactly-once. Also serves
    -- 'the member's last date' and forgetting a member.
    CREATE UNIQUE INDEX reminder_sends_one_per_day ON reminder_sends (user_id, local_date);
";

const SEND_SELECT: &str = "SELECT id, user_id, local_date, nonce, state, due, channel_id,
    message_id, attempts, error, created_at, sent_at FROM reminder_sends";

fn send_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReminderSend> {
    Ok(ReminderSend {
        id: r.get(0)?,
        user_id: uid(r.get(1)?),
        local_date: r.get(2)?,
        nonce: r.get(3)?,
        state: r.get(4)?,
        due: r.get(5)?,
        channel_id: r.get::<_, Option<i64>>(6)?.map(uid),
        message_id: r.get::<_, Option<i64>>(7)?.map(uid),
        attempts: r.get(8)?,
        error: r.get(9)?,
        created_at: r.get(10)?,
        sent_at: r.get(11)?,
    })
}

fn setting_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReminderRow> {
    Ok(ReminderRow {
        user_id: uid(r.get(0)?),
        time: r.get(1)?,
        tz: r.get(2)?,
        armed_from: r.get(3)?,
    })
}

impl SqliteStore {
    /// Turns a member's reminders on, or changes their time or zone.
    pub fn put_reminder(&self, r: &ReminderRow) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO reminder_settings (user_id, time, tz, armed_from)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE SET
                     time = excluded.time, tz = excluded.tz, armed_from = excluded.armed_from",
                params![id(r.user_id), r.time, r.tz, r.armed_from],
            )
            .ctx("saving a reminder setting")?;
        Ok(())
    }

    pub fn reminder(&self, user_id: u64) -> Result<Option<ReminderRow>> {
        self.conn()
            .query_row(
                "SELECT user_id, time, tz, armed_from FROM reminder_settings WHERE user_id = ?1",
                [id(user_id)],
                setting_row,
            )
            .optional()
            .ctx("loading a reminder setting")
    }

    /// Every member with reminders on.
    pub fn reminders(&self) -> Result<Vec<ReminderRow>> {
        self.query_all(
            "SELECT user_id, time, tz, armed_from FROM reminder_settings ORDER BY user_id",
            [],
            "listing reminder settings",
            setting_row,
        )
    }

    /// Turns a member's reminders off. Returns whether they were on.
    pub fn delete_reminder(&self, user_id: u64) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM reminder_settings WHERE user_id = ?1",
                [id(user_id)],
            )
            .ctx("turning reminders off")?;
        Ok(n > 0)
    }

    /// The local date of the member's latest settled reminder (sent, skipped or failed):
    /// dates up to it are done. A pending one is not: it is retried while its date is due.
    pub fn last_reminder_date(&self, user_id: u64) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT MAX(local_date) FROM reminder_sends WHERE user_id = ?1 AND state != ?2",
                params![id(user_id), ReminderState::Pending],
                |r| r.get(0),
            )
            .ctx("reading the last reminder date")
    }

    /// The member's reminder of a local date, if one was recorded.
    pub fn reminder_send(&self, user_id: u64, local_date: &str) -> Result<Option<ReminderSend>> {
        self.conn()
            .query_row(
                &format!("{SEND_SELECT} WHERE user_id = ?1 AND local_date = ?2"),
                params![id(user_id), local_date],
                send_row,
            )
            .optional()
            .ctx("loading a reminder")
    }

    /// Records the reminder of `(member, local date)` before anything is sent (`Pending`),
    /// or the date as `Skipped` (nothing due). When the date is recorded already, returns
    /// the existing row unchanged.
    pub fn begin_reminder(&self, s: &ReminderSend) -> Result<ReminderSend> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO reminder_sends
             (user_id, local_date, nonce, state, due, attempts, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            params![
                id(s.user_id),
                s.local_date,
                s.nonce,
                s.state,
                s.due,
                s.created_at
            ],
        )
        .ctx("recording a reminder intent")?;
        conn.query_row(
            &format!("{SEND_SELECT} WHERE user_id = ?1 AND local_date = ?2"),
            params![id(s.user_id), s.local_date],
            send_row,
        )
        .ctx("reading a reminder intent")
    }

    /// Counts an attempt and remembers the DM channel it goes to.
    pub fn reminder_attempt(&self, send_id: i64, channel_id: u64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE reminder_sends SET attempts = attempts + 1, channel_id = ?2 WHERE id = ?1",
                params![send_id, id(channel_id)],
            )
            .ctx("counting a reminder attempt")?;
        Ok(())
    }

    pub fn mark_reminder_sent(&self, send_id: i64, message_id: u64, now_ms: i64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE reminder_sends SET state = ?2, message_id = ?3, sent_at = ?4, error = NULL
                 WHERE id = ?1",
                params![send_id, ReminderState::Sent, id(message_id), now_ms],
            )
            .ctx("recording a sent reminder")?;
        Ok(())
    }

    /// Settles a date Discord refused for good (closed DMs, an unknown user).
    pub fn mark_reminder_failed(&self, send_id: i64, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE reminder_sends SET state = ?2, error = ?3 WHERE id = ?1",
                params![send_id, ReminderState::Failed, error],
            )
            .ctx("recording a failed reminder")?;
        Ok(())
    }

    /// A transient failure: the intent stays pending and is retried.
    pub fn note_reminder_error(&self, send_id: i64, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE reminder_sends SET error = ?2 WHERE id = ?1",
                params![send_id, error],
            )
            .ctx("recording a reminder error")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(user_id: u64, date: &str, state: ReminderState) -> ReminderSend {
        ReminderSend {
            id: 0,
            user_id,
            local_date: date.into(),
            nonce: format!("r{date}{user_id}"),
            state,
            due: 3,
            channel_id: None,
            message_id: None,
            attempts: 0,
            error: None,
            created_at: 1,
            sent_at: None,
        }
    }

    #[test]
    fn one_reminder_per_member_and_date() {
        let s = SqliteStore::open_in_memory().unwrap();
        let first = s
            .begin_reminder(&intent(7, "2026-03-10", ReminderState::Pending))
            .unwrap();
        s.reminder_attempt(first.id, 99).unwrap();
        s.mark_reminder_sent(first.id, 1234, 5).unwrap();
        // A second intent for the same date returns the first, settled row.
        let again = s
            .begin_reminder(&intent(7, "2026-03-10", ReminderState::Skipped))
            .unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(again.state, ReminderState::Sent);
        assert_eq!(again.message_id, Some(1234));
        assert_eq!(again.channel_id, Some(99));
        assert_eq!(again.attempts, 1);
        // Another member, or another date, is a row of its own.
        let other = s
            .begin_reminder(&intent(8, "2026-03-10", ReminderState::Skipped))
            .unwrap();
        assert_ne!(other.id, first.id);
        assert_eq!(other.state, ReminderState::Skipped);
        s.begin_reminder(&intent(7, "2026-03-11", ReminderState::Pending))
            .unwrap();
        // The pending date is not done yet: the settled one before it is the last.
        assert_eq!(
            s.last_reminder_date(7).unwrap().as_deref(),
            Some("2026-03-10")
        );
        assert_eq!(s.last_reminder_date(9).unwrap(), None);
    }

    #[test]
    fn settings_are_upserted_and_deleted() {
        let s = SqliteStore::open_in_memory().unwrap();
        let mut r = ReminderRow {
            user_id: 7,
            time: "09:00".into(),
            tz: "Europe/Berlin".into(),
            armed_from: 1,
        };
        s.put_reminder(&r).unwrap();
        r.time = "18:30".into();
        s.put_reminder(&r).unwrap();
        assert_eq!(s.reminders().unwrap(), vec![r.clone()]);
        assert_eq!(s.reminder(7).unwrap(), Some(r));
        assert!(s.delete_reminder(7).unwrap());
        assert!(!s.delete_reminder(7).unwrap());
        assert!(s.reminders().unwrap().is_empty());
    }
}
