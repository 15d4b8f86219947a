//! `prepbot migrate --to postgres://…`: copies a SQLite database into an empty PostgreSQL one,
//! table by table in one transaction, and verifies the row counts before it commits.
//!
//! Both sides are first brought to the current schema by their own migrations, so they have
//! the same tables and columns; the copy reads PostgreSQL's column list and types and takes
//! the same columns from SQLite. Rows go in with `COPY … FROM STDIN (FORMAT binary)`, which
//! moves millions of practice cards in seconds where row-by-row inserts take minutes. Row ids
//! are kept (so a daily post's id in the log still names it), and the identity sequences are
//! moved past them afterwards.

use std::path::Path;

use futures::pin_mut;
use rusqlite::types::Value;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tracing::error;

use super::error::{Context, Result as StoreResult, StoreError};
use super::pg::{pg_config, schema, tls, PgStore};
use super::SqliteStore;
use crate::config::Secret;

/// Rows per chunk handed from the SQLite reader to the copy.
const CHUNK: usize = 5_000;

/// The tables in an order that satisfies their foreign keys.
const TABLES: &[&str] = &[
    "question_messages",
    "reveals",
    "bags",
    "daily_schedules",
    "daily_posts",
    "quiz_rounds",
    "quiz_scores",
    "practice_cards",
    "practice_reviews",
    "reminder_settings",
    "reminder_sends",
];

/// Rows copied, per table, each verified by counting both sides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

impl Copied {
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Why a copy did not happen. Nothing was committed in any case.
#[derive(Debug)]
pub enum TransferError {
    Store(StoreError),
    /// The target already holds rows: copying would mix two bots' data.
    NotEmpty {
        table: String,
        rows: i64,
    },
    /// The counts differ after the copy (rolled back).
    Mismatch {
        table: String,
        sqlite: i64,
        postgres: i64,
    },
    /// A SQLite value that does not fit its PostgreSQL column.
    Value {
        table: String,
        column: String,
    },
}

impl From<StoreError> for TransferError {
    fn from(e: StoreError) -> Self {
        TransferError::Store(e)
    }
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::Store(e) => write!(f, "{e}"),
            TransferError::NotEmpty { table, rows } => write!(
                f,
                "the PostgreSQL database is not empty ({table} has {rows} rows); copy into a \
                 fresh database, so two bots' data are never mixed"
            ),
            TransferError::Mismatch {
                table,
                sqlite,
                postgres,
            } => write!(
                f,
                "{table}: {sqlite} rows in SQLite but {postgres} in PostgreSQL after the copy; \
                 nothing was committed"
            ),
            TransferError::Value { table, column } => write!(
                f,
                "{table}.{column}: a SQLite value does not fit the PostgreSQL column; nothing \
                 was committed"
            ),
        }
    }
}

impl std::error::Error for TransferError {}

/// Copies the SQLite database at `from` into the PostgreSQL database at `to` (migrating both
/// first). The target must be empty.
pub async fn copy_sqlite_to_postgres(
    from: &Path,
    to: &str,
    password: Option<&Secret>,
) -> Result<Copied, TransferError> {
    // Opening checks the file and brings it to the current schema.
    drop(SqliteStore::open(from)?);
    // Brings the target to the current schema (and refuses a newer one) like a bot start.
    drop(PgStore::connect(to, password, 1).await?);
    let (mut client, connection) = pg_config(to, password)?
        .connect(tls()?)
        .await
        .ctx("connecting for the copy")?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            error!(error = %e, "the PostgreSQL copy connection failed");
        }
    });
    let result = copy_all(from, &mut client).await;
    drop(client);
    if let Err(e) = driver.await {
        error!(error = %e, "the PostgreSQL copy connection task failed");
    }
    result
}

async fn copy_all(
    path: &Path,
    client: &mut tokio_postgres::Client,
) -> Result<Copied, TransferError> {
    let tx = client.transaction().await.ctx("starting the copy")?;
    for table in TABLES {
        let rows: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .and_then(|r| r.try_get(0))
            .ctx("checking that the target is empty")?;
        if rows > 0 {
            return Err(TransferError::NotEmpty {
                table: table.to_string(),
                rows,
            });
        }
    }
    let mut copied = Copied::default();
    for table in TABLES {
        let columns = columns(&tx, table).await?;
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let types: Vec<Type> = columns.iter().map(|(_, t)| t.clone()).collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                names.join(", ")
            ))
            .await
            .ctx("starting a table copy")?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        pin_mut!(writer);
        // A thread reads SQLite (synchronous) and hands over chunks through a small channel:
        // memory stays a few chunks, however large the table.
        let (tx_rows, mut rx_rows) = tokio::sync::mpsc::channel::<Vec<Vec<Value>>>(4);
        let reader = {
            let (path, table, names) = (
                path.to_path_buf(),
                table.to_string(),
                names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            );
            tokio::task::spawn_blocking(move || -> StoreResult<i64> {
                let source = SqliteStore::open(&path)?;
                source.each_chunk(&table, &names, CHUNK, |chunk| {
                    tx_rows.blocking_send(chunk).is_ok()
                })?;
                source.count(&table)
            })
        };
        while let Some(chunk) = rx_rows.recv().await {
            for row in &chunk {
                let values = row
                    .iter()
                    .zip(&columns)
                    .map(|(v, (column, ty))| {
                        convert(v, ty).ok_or_else(|| TransferError::Value {
                            table: table.to_string(),
                            column: column.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
                writer.as_mut().write(&refs).await.ctx("copying a row")?;
            }
        }
        let sqlite = reader.await.map_err(|e| StoreError::Decode {
            context: "reading SQLite for the copy",
            message: e.to_string(),
        })??;
        let n = writer.finish().await.ctx("finishing a table copy")?;
        let postgres: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
            .and_then(|r| r.try_get(0))
            .ctx("counting copied rows")?;
        if postgres != sqlite || n != sqlite as u64 {
            return Err(TransferError::Mismatch {
                table: table.to_string(),
                sqlite,
                postgres,
            });
        }
        copied.tables.push((table.to_string(), n));
    }
    for table in schema::IDENTITY_TABLES {
        // The next id after the copied ones; `false`: that value itself is not used yet.
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ),
            &[],
        )
        .await
        .ctx("moving an id sequence past the copied rows")?;
    }
    tx.commit().await.ctx("committing the copy")?;
    Ok(copied)
}

/// The target table's columns and their types, in table order.
async fn columns(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
) -> StoreResult<Vec<(String, Type)>> {
    let rows = tx
        .query(
            "SELECT a.attname, a.atttypid::oid FROM pg_attribute a
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&table],
        )
        .await
        .ctx("reading a table's columns")?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get(0).ctx("reading a table's columns")?;
            let oid: u32 = r.try_get(1).ctx("reading a table's columns")?;
            let ty = Type::from_oid(oid).ok_or_else(|| StoreError::Decode {
                context: "reading a table's columns",
                message: format!("column {name} has a type this build does not copy"),
            })?;
            Ok((name, ty))
        })
        .collect()
}

/// One SQLite value as the PostgreSQL column's type; `None` when it does not fit.
fn convert(v: &Value, ty: &Type) -> Option<Box<dyn ToSql + Sync>> {
    Some(match (v, ty) {
        (Value::Null, t) if *t == Type::INT8 => Box::new(None::<i64>),
        (Value::Null, t) if *t == Type::TEXT => Box::new(None::<String>),
        (Value::Null, t) if *t == Type::BOOL => Box::new(None::<bool>),
        (Value::Null, t) if *t == Type::FLOAT8 => Box::new(None::<f64>),
        (Value::Integer(i), t) if *t == Type::INT8 => Box::new(*i),
        (Value::Integer(i), t) if *t == Type::BOOL => Box::new(*i != 0),
        (Value::Integer(i), t) if *t == Type::FLOAT8 => Box::new(*i as f64),
        (Value::Real(f), t) if *t == Type::FLOAT8 => Box::new(*f),
        (Value::Text(s), t) if *t == Type::TEXT => Box::new(s.clone()),
        _ => return None,
    })
}
