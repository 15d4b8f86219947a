//! The store's one error type: a statement that failed, or a database file refused at open.
//!
//! Callers mostly print it; the edge also asks [`StoreError::is_busy`] to tell "try again in
//! a moment" from a real failure.

use std::path::PathBuf;

use rusqlite::ErrorCode;

/// A failure of the database.
#[derive(Debug)]
pub enum StoreError {
    /// A statement failed; `context` names what was being done.
    Sql {
        context: &'static str,
        source: rusqlite::Error,
    },
    /// [`super::Store::open`] refused the file: the bot must not start on it. The message
    /// names the file and what to do about it.
    Refused { path: PathBuf, reason: Refusal },
}

/// Why a database file was refused at open.
#[derive(Debug)]
pub enum Refusal {
    /// Its directory could not be created.
    CreateDir(std::io::Error),
    /// SQLite could not open, read or write it (permissions, a WAL file that cannot be
    /// created, a full disk).
    CannotUse(rusqlite::Error),
    /// It can be read but not written.
    ReadOnly(rusqlite::Error),
    /// Not a SQLite database, or damaged; the text is SQLite's finding.
    Corrupt(String),
    /// Written by a newer release: its schema version is beyond our migrations.
    TooNew { found: i64, known: i64 },
    /// Another process kept it locked for longer than the busy timeout.
    Locked(rusqlite::Error),
}

impl StoreError {
    /// True when SQLite gave up waiting for another connection's lock (`SQLITE_BUSY`) or hit
    /// a lock inside this one (`SQLITE_LOCKED`): nothing is wrong with the data, and the same
    /// call is likely to succeed a moment later. The edge answers "busy, try again".
    pub fn is_busy(&self) -> bool {
        let source = match self {
            StoreError::Sql { source, .. } => source,
            StoreError::Refused {
                reason: Refusal::Locked(source),
                ..
            } => source,
            StoreError::Refused { .. } => return false,
        };
        matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, reason) = match self {
            StoreError::Sql { context, source } => {
                return write!(f, "database error while {context}: {source}")
            }
            StoreError::Refused { path, reason } => (path.display(), reason),
        };
        match reason {
            Refusal::CreateDir(e) => write!(
                f,
                "cannot create the directory of the database {path}: {e}; create it, or set \
                 storage.path to a writable place"
            ),
            Refusal::CannotUse(e) => write!(
                f,
                "cannot use the database {path}: {e}; prepbot must read and write the file and \
                 create {path}-wal and {path}-shm next to it: check the permissions of the file \
                 and its directory and the free space, or set storage.path to a writable place"
            ),
            Refusal::ReadOnly(e) => write!(
                f,
                "the database {path} is read-only ({e}); prepbot must write the file and create \
                 {path}-wal and {path}-shm next to it: fix the permissions of the file and its \
                 directory (or the mount), or set storage.path to a writable place"
            ),
            Refusal::Corrupt(finding) => write!(
                f,
                "the database {path} is damaged or not a SQLite database ({finding}); stop \
                 prepbot, then restore the file from a backup, or move it and its -wal and -shm \
                 files aside to start with an empty database (reveals, daily schedules and quiz \
                 scores are then lost)"
            ),
            Refusal::TooNew { found, known } => write!(
                f,
                "the database {path} has schema version {found}, but this prepbot knows only up \
                 to {known}: a newer release wrote it. Run that release (or a later one), or \
                 restore a backup from before the upgrade; this one leaves the file untouched"
            ),
            Refusal::Locked(e) => write!(
                f,
                "the database {path} is locked by another process ({e}); is another prepbot \
                 running on the same file? Stop it, or give this one its own storage.path"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Sql { source, .. } => Some(source),
            StoreError::Refused { reason, .. } => match reason {
                Refusal::CreateDir(e) => Some(e),
                Refusal::CannotUse(e) | Refusal::ReadOnly(e) | Refusal::Locked(e) => Some(e),
                Refusal::Corrupt(_) | Refusal::TooNew { .. } => None,
            },
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Attaches what was being done to a rusqlite error.
pub(super) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Sql { context, source })
    }
}
