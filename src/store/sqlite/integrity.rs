//! Opening the database file, and refusing one the bot must not run on.
//!
//! A bot that starts on a broken file fails later, one interaction at a time, far from the
//! cause. So [`SqliteStore::open`] checks first, and every problem becomes a
//! [`StoreError::Refused`] that names the file and what to do:
//!
//! 1. SQLite can read the file and `PRAGMA quick_check` answers `ok`: no damaged page, and it
//!    is a database at all. (`quick_check` reads every page but skips the index-against-table
//!    comparison of `integrity_check`: milliseconds for a bot's few megabytes.)
//! 2. Its schema version is not beyond our migrations: a newer release wrote it, and this one
//!    would misread it. Nothing is written before this check.
//! 3. After the pragmas and migrations, one write is committed. SQLite silently opens a file
//!    it may not write read-only, and in WAL mode a read-only file (or a `-shm` file that
//!    cannot be created) reads fine and fails only at the first write; `BEGIN IMMEDIATE`
//!    alone does not find it. A committed write does, and a full disk too.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use super::{migrations, SqliteStore};
use crate::store::error::{Refusal, Result, StoreError};

impl SqliteStore {
    /// Creates the file's directory when missing and opens (or creates) the file.
    pub(super) fn connect(path: &Path) -> Result<Connection> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| refused(path, Refusal::CreateDir(e)))?;
        }
        Connection::open(path).map_err(|e| refuse(path, "opening the database file", e))
    }

    /// Runs the checks above around the pragmas and migrations. `path` is for messages.
    pub(super) fn check_and_migrate(conn: &mut Connection, path: &Path) -> Result<()> {
        let fail = |context| move |e| refuse(path, context, e);
        quick_check(conn, path)?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail("reading the schema version"))?;
        let known = migrations::count() as i64;
        if found > known {
            return Err(refused(path, Refusal::TooNew { found, known }));
        }
        // WAL: readers never block the writer, and a crash mid-write loses nothing committed.
        // NORMAL sync is durable across process crashes (not power loss), which is the
        // trade-off every chat bot makes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail("enabling WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail("setting synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(fail("enabling foreign keys"))?;
        migrations::apply(conn).map_err(fail("applying schema migrations"))?;
        write_check(conn).map_err(fail("checking that the database is writable"))
    }
}

fn quick_check(conn: &Connection, path: &Path) -> Result<()> {
    // At most 10 findings: enough to show what is wrong, short enough for one error line.
    let findings = conn
        .prepare("PRAGMA quick_check(10)")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| refuse(path, "checking the database", e))?;
    if findings.len() == 1 && findings[0] == "ok" {
        Ok(())
    } else {
        Err(refused(path, Refusal::Corrupt(findings.join("; "))))
    }
}

/// Commits a write that changes nothing: the schema version rewritten with its own value.
/// It needs no table of its own, and reading and writing it in one `IMMEDIATE` transaction
/// cannot undo a migration another process committed in between.
fn write_check(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()
}

fn refused(path: &Path, reason: Refusal) -> StoreError {
    StoreError::Refused {
        path: path.to_path_buf(),
        reason,
    }
}

/// Sorts a failure while opening: a problem with the file is a refusal with advice; anything
/// else (a mistake in our SQL) stays a plain statement error.
fn refuse(path: &Path, context: &'static str, e: rusqlite::Error) -> StoreError {
    let reason = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            Refusal::Corrupt(e.to_string())
        }
        Some(ErrorCode::ReadOnly) => Refusal::ReadOnly(e),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Refusal::Locked(e),
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::NoLargeFileSupport
            | ErrorCode::FileLockingProtocolFailed,
        ) => Refusal::CannotUse(e),
        _ => return StoreError::Sql { context, source: e },
    };
    refused(path, reason)
}

#[cfg(test)]
#[path = "integrity_tests.rs"]
mod tests;
