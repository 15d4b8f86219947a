//! The store's one error type: a statement that failed, or a database refused at open, on
//! either backend.
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
    /// A PostgreSQL statement failed, or no pooled connection came in time.
    Pg {
        context: &'static str,
        source: PgError,
    },
    /// PostgreSQL refused at open: the bot must not start on it. `target` is the URL, which
    /// never holds the password (the config refuses one).
    PgRefused { target: String, reason: PgRefusal },
    /// A stored value this build cannot read (e.g. a time out of range).
    Decode {
        context: &'static str,
        message: String,
    },
}

/// What failed in a PostgreSQL call.
#[derive(Debug)]
pub enum PgError {
    Query(tokio_postgres::Error),
    Pool(deadpool_postgres::PoolError),
}

/// Why PostgreSQL was refused at open.
#[derive(Debug)]
pub enum PgRefusal {
    /// The server could not be reached or refused the login.
    Connect(tokio_postgres::Error),
    /// Written by a newer release: its schema version is beyond our migrations.
    TooNew { found: i64, known: i64 },
    /// The migrations failed (rolled back; nothing changed).
    Migrate(tokio_postgres::Error),
    /// The pool could not be built.
    Pool(String),
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
        if let StoreError::Pg { source, .. } = self {
            return source.is_busy();
        }
        let source = match self {
            StoreError::Sql { source, .. } => source,
            StoreError::Refused {
                reason: Refusal::Locked(source),
                ..
            } => source,
            StoreError::Refused { .. }
            | StoreError::Pg { .. }
            | StoreError::PgRefused { .. }
            | StoreError::Decode { .. } => return false,
        };
        matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
    }
}

impl PgError {
    /// No pooled connection in time, or PostgreSQL gave up on a lock or a serialisation
    /// conflict: the same call is likely to succeed a moment later.
    pub fn is_busy(&self) -> bool {
        use tokio_postgres::error::SqlState;
        match self {
            PgError::Pool(deadpool_postgres::PoolError::Timeout(_)) => true,
            PgError::Pool(_) => false,
            PgError::Query(e) => e.code().is_some_and(|c| {
                [
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::LOCK_NOT_AVAILABLE,
                    SqlState::QUERY_CANCELED,
                ]
                .contains(c)
            }),
        }
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgError::Query(e) => f.write_str(&describe_pg(e)),
            PgError::Pool(e) => write!(f, "no database connection: {e}"),
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, reason) = match self {
            StoreError::Sql { context, source } => {
                return write!(f, "database error while {context}: {source}")
            }
            StoreError::Pg { context, source } => {
                return write!(f, "PostgreSQL error while {context}: {source}")
            }
            StoreError::Decode { context, message } => {
                return write!(f, "unreadable stored value while {context}: {message}")
            }
            StoreError::PgRefused { target, reason } => return pg_refusal(f, target, reason),
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

fn pg_refusal(
    f: &mut std::fmt::Formatter<'_>,
    target: &str,
    reason: &PgRefusal,
) -> std::fmt::Result {
    match reason {
        PgRefusal::Connect(e) => write!(
            f,
            "cannot connect to PostgreSQL at {target}: {}; check that the server runs and \
             accepts this user, and that the password is in the variable named by \
             storage.password_env",
            describe_pg(e)
        ),
        PgRefusal::TooNew { found, known } => write!(
            f,
            "the PostgreSQL database at {target} has schema version {found}, but this prepbot \
             knows only up to {known}: a newer release wrote it. Run that release (or a later \
             one); this one leaves the database untouched"
        ),
        PgRefusal::Migrate(e) => write!(
            f,
            "cannot apply the schema migrations to PostgreSQL at {target}: {}; nothing was \
             changed (they run in one transaction). Does the user own the database?",
            describe_pg(e)
        ),
        PgRefusal::Pool(e) => write!(f, "cannot set up connections to {target}: {e}"),
    }
}

/// tokio-postgres' own Display says only "db error"; the server's code and message are the
/// useful part.
fn describe_pg(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Sql { source, .. } => Some(source),
            StoreError::Pg {
                source: PgError::Query(e),
                ..
            } => Some(e),
            StoreError::Pg {
                source: PgError::Pool(e),
                ..
            } => Some(e),
            StoreError::PgRefused {
                reason: PgRefusal::Connect(e) | PgRefusal::Migrate(e),
                ..
            } => Some(e),
            StoreError::PgRefused { .. } | StoreError::Decode { .. } => None,
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

impl<T> Context<T> for std::result::Result<T, tokio_postgres::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| StoreError::Pg {
            context,
            source: PgError::Query(e),
        })
    }
}

impl<T> Context<T> for std::result::Result<T, deadpool_postgres::PoolError> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| StoreError::Pg {
            context,
            source: PgError::Pool(e),
        })
    }
}
