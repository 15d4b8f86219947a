//! The PostgreSQL backend: one database shared by several bot processes (`storage.url`).
//!
//! Calls are async and go through a small pool (`storage.pool_size`, deadpool-postgres) whose
//! connections cache their prepared statements. Every guarantee comes from the database:
//!
//! - the daily intent and the reminder intent: `INSERT … ON CONFLICT DO NOTHING` against a
//!   unique index, then the row as it stands; two processes racing for one date get one row;
//! - the reveal claim: an insert against the primary key; only the inserting call wins;
//! - the bag draw: the bag's row is locked (`FOR UPDATE`) for the read-modify-write, so a draw
//!   in another process waits for this one and sees its result;
//! - a card review: the member's card is locked the same way (an advisory lock covers a card
//!   not yet stored), so two clicks cannot both apply to the same old state;
//! - quiz scores: one transaction per question.
//!
//! SQL mirrors `sqlite/` statement for statement; where the dialects differ (`GLOB`, `INSERT
//! OR IGNORE`, `last_insert_rowid`) the PostgreSQL form is used.

mod practice;
mod reminders;
mod retention;
pub(crate) mod schema;

use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use jiff::Timestamp;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use tokio_postgres_rustls::MakeRustlsConnect;
use tracing::{error, info};

use super::error::{Context, PgRefusal, Result, StoreError};
use super::rows::*;
use super::states::{FinishState, PostKind, PostState, RoundStatus, Source};
use crate::bank::BagState;
use crate::config::Secret;

/// How long a call waits for a pooled connection before answering "busy": the same 1 s the
/// SQLite backend waits for a lock, so an interaction can still be answered within 3 s.
const POOL_WAIT: Duration = Duration::from_secs(1);
/// How long opening a connection may take (start-up refuses an unreachable server with it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The PostgreSQL store: a pool of connections (cheap to clone: the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

/// Times one store call, the wait for a pooled connection included (what callers feel), like
/// the SQLite backend's guard.
struct Timed(Instant);

impl Drop for Timed {
    fn drop(&mut self) {
        crate::metrics::store_call(self.0.elapsed());
    }
}

/// The connection settings from the URL, with the password from the environment.
pub(crate) fn pg_config(url: &str, password: Option<&Secret>) -> Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::PgRefused {
        target: url.to_string(),
        reason: PgRefusal::Connect(e),
    })?;
    if let Some(p) = password {
        config.password(p.expose());
    }
    config
        .application_name("prepbot")
        .connect_timeout(CONNECT_TIMEOUT);
    Ok(config)
}

/// TLS for PostgreSQL: rustls with Mozilla's roots (webpki-roots), the certificate and host
/// name always verified. The URL's `sslmode` decides whether it is used: `prefer` (the
/// default, as in libpq) when the server offers it, `require` always, `disable` never.
pub(crate) fn tls() -> Result<MakeRustlsConnect> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Decode {
            context: "setting up TLS for PostgreSQL",
            message: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

impl PgStore {
    /// Connects, applies pending migrations (safe with several processes starting at once)
    /// and builds the pool. A server that cannot be reached, refuses the login, or holds a
    /// newer schema is refused: the bot must not start on it.
    pub async fn connect(url: &str, password: Option<&Secret>, pool_size: usize) -> Result<Self> {
        let config = pg_config(url, password)?;
        let refused = |reason| StoreError::PgRefused {
            target: url.to_string(),
            reason,
        };
        let (mut client, connection) = config
            .connect(tls()?)
            .await
            .map_err(|e| refused(PgRefusal::Connect(e)))?;
        let driver = tokio::spawn(async move {
            if let Err(e) = connection.await {
                error!(error = %e, "the PostgreSQL migration connection failed");
            }
        });
        let migrated = schema::migrate(&mut client)
            .await
            .map_err(|e| refused(PgRefusal::Migrate(e)));
        drop(client);
        // The connection ends with its client; wait for it so no task outlives start-up.
        if let Err(e) = driver.await {
            error!(error = %e, "the PostgreSQL migration connection task failed");
        }
        if let schema::Migrated::TooNew { found } = migrated? {
            return Err(refused(PgRefusal::TooNew {
                found,
                known: schema::MIGRATIONS.len() as i64,
            }));
        }
        let manager = Manager::from_config(
            config,
            tls()?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| refused(PgRefusal::Pool(e.to_string())))?;
        let store = PgStore { pool };
        // One pooled connection now, so a problem shows at start rather than at the first
        // interaction.
        store.ping().await?;
        info!(pool_size, "PostgreSQL store ready");
        Ok(store)
    }

    async fn client(&self, context: &'static str) -> Result<Object> {
        self.pool.get().await.ctx(context)
    }

    async fn query(
        &self,
        context: &'static str,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>> {
        let _timed = Timed(Instant::now());
        let c = self.client(context).await?;
        let st = c.prepare_cached(sql).await.ctx(context)?;
        c.query(&st, params).await.ctx(context)
    }

    async fn query_opt(
        &self,
        context: &'static str,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<Row>> {
        let _timed = Timed(Instant::now());
        let c = self.client(context).await?;
        let st = c.prepare_cached(sql).await.ctx(context)?;
        c.query_opt(&st, params).await.ctx(context)
    }

    async fn execute(&self, context: &'static str, sql: &str, params: Params<'_>) -> Result<u64> {
        let _timed = Timed(Instant::now());
        let c = self.client(context).await?;
        let st = c.prepare_cached(sql).await.ctx(context)?;
        c.execute(&st, params).await.ctx(context)
    }

    /// Whether the database answers a trivial query: the store half of `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        self.query_opt("answering a health check", "SELECT 1", &[])
            .await
            .map(|_| ())
    }

    /// The schema version (number of migrations applied).
    pub async fn schema_version(&self) -> Result<i64> {
        let row = self
            .query_opt(
                "reading the schema version",
                "SELECT version FROM prepbot_schema WHERE id = 1",
                &[],
            )
            .await?;
        get(&row, 0, "reading the schema version").map(|v: Option<i64>| v.unwrap_or(0))
    }

    // ---- question messages and reveals ----

    pub async fn record_question_message(
        &self,
        msg: &QuestionMessage,
        source: Source,
        now_ms: i64,
    ) -> Result<()> {
        self.execute(
            "recording a question message",
            "INSERT INTO question_messages
             (message_id, channel_id, guild_id, question_id, source, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (message_id) DO UPDATE SET
              channel_id = excluded.channel_id, guild_id = excluded.guild_id,
              question_id = excluded.question_id, source = excluded.source,
              created_at = excluded.created_at",
            &[
                &id(msg.message_id),
                &id(msg.channel_id),
                &msg.guild_id.map(id),
                &msg.question_id,
                &source.as_str(),
                &now_ms,
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn question_message(&self, message_id: u64) -> Result<Option<QuestionMessage>> {
        const CX: &str = "looking up a question message";
        let row = self
            .query_opt(
                CX,
                "SELECT message_id, channel_id, guild_id, question_id
                 FROM question_messages WHERE message_id = $1",
                &[&id(message_id)],
            )
            .await?;
        row.map(|r| {
            Ok(QuestionMessage {
                message_id: uid(r.try_get(0).ctx(CX)?),
                channel_id: uid(r.try_get(1).ctx(CX)?),
                guild_id: r.try_get::<_, Option<i64>>(2).ctx(CX)?.map(uid),
                question_id: r.try_get(3).ctx(CX)?,
            })
        })
        .transpose()
    }

    pub async fn question_source(&self, message_id: u64) -> Result<Option<Source>> {
        const CX: &str = "looking up where a question message came from";
        let row = self
            .query_opt(
                CX,
                "SELECT source FROM question_messages WHERE message_id = $1",
                &[&id(message_id)],
            )
            .await?;
        row.map(|r| r.try_get(0).ctx(CX)).transpose()
    }

    pub async fn claim_reveal(&self, message_id: u64, user_id: u64, now_ms: i64) -> Result<bool> {
        let n = self
            .execute(
                "claiming a reveal",
                "INSERT INTO reveals (message_id, user_id, revealed_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&id(message_id), &id(user_id), &now_ms],
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn release_reveal(&self, message_id: u64, user_id: u64) -> Result<()> {
        self.execute(
            "releasing a reveal",
            "DELETE FROM reveals WHERE message_id = $1 AND user_id = $2",
            &[&id(message_id), &id(user_id)],
        )
        .await?;
        Ok(())
    }

    pub async fn set_reveal_message(
        &self,
        message_id: u64,
        user_id: u64,
        reveal_id: u64,
    ) -> Result<()> {
        self.execute(
            "recording a reveal message",
            "UPDATE reveals SET reveal_message_id = $3 WHERE message_id = $1 AND user_id = $2",
            &[&id(message_id), &id(user_id), &id(reveal_id)],
        )
        .await?;
        Ok(())
    }

    // ---- shuffle-bags ----

    /// Runs `f` on the bag of `scope` with the bag's row locked, and saves the result in the
    /// same transaction: a draw in another process waits, then sees this one.
    pub async fn update_bag_at<T>(
        &self,
        scope: &str,
        now_ms: i64,
        f: impl FnOnce(&mut BagState) -> T,
    ) -> Result<T> {
        const CX: &str = "drawing from a shuffle-bag";
        let _timed = Timed(Instant::now());
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        // The row must exist to be locked; a new bag starts empty ('{}' reads as default).
        let insert = tx
            .prepare_cached(
                "INSERT INTO bags (scope, state, updated_at) VALUES ($1, '{}', $2)
                 ON CONFLICT (scope) DO NOTHING",
            )
            .await
            .ctx(CX)?;
        tx.execute(&insert, &[&scope, &now_ms]).await.ctx(CX)?;
        let select = tx
            .prepare_cached("SELECT state FROM bags WHERE scope = $1 FOR UPDATE")
            .await
            .ctx(CX)?;
        let json: String = tx
            .query_one(&select, &[&scope])
            .await
            .ctx(CX)?
            .try_get(0)
            .ctx(CX)?;
        // A corrupt or older-format state only costs the cycle's memory; start afresh.
        let mut bag: BagState = serde_json::from_str(&json).unwrap_or_default();
        let out = f(&mut bag);
        let json = serde_json::to_string(&bag).unwrap_or_else(|_| "{}".into());
        let update = tx
            .prepare_cached("UPDATE bags SET state = $2, updated_at = $3 WHERE scope = $1")
            .await
            .ctx(CX)?;
        tx.execute(&update, &[&scope, &json, &now_ms])
            .await
            .ctx(CX)?;
        tx.commit().await.ctx(CX)?;
        Ok(out)
    }

    pub async fn bag(&self, scope: &str) -> Result<BagState> {
        const CX: &str = "loading a shuffle-bag";
        let row = self
            .query_opt(CX, "SELECT state FROM bags WHERE scope = $1", &[&scope])
            .await?;
        let json: Option<String> = row.map(|r| r.try_get(0).ctx(CX)).transpose()?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    // ---- daily schedules ----

    pub async fn put_schedule(&self, s: &ScheduleRow) -> Result<()> {
        self.execute(
            "saving a daily schedule",
            "INSERT INTO daily_schedules
             (guild_id, channel_id, time, tz, role_id, filter, thread, paused, skip_date,
              armed_from, last_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (guild_id) DO UPDATE SET
              channel_id = excluded.channel_id, time = excluded.time, tz = excluded.tz,
              role_id = excluded.role_id, filter = excluded.filter, thread = excluded.thread,
              paused = excluded.paused, skip_date = excluded.skip_date,
              armed_from = excluded.armed_from, last_error = excluded.last_error",
            &[
                &id(s.guild_id),
                &id(s.channel_id),
                &s.time,
                &s.tz,
                &s.role_id.map(id),
                &s.filter,
                &s.thread,
                &s.paused,
                &s.skip_date,
                &s.armed_from,
                &s.last_error,
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn schedule(&self, guild_id: u64) -> Result<Option<ScheduleRow>> {
        const CX: &str = "loading a daily schedule";
        let row = self
            .query_opt(
                CX,
                &format!("{SCHEDULE_SELECT} WHERE guild_id = $1"),
                &[&id(guild_id)],
            )
            .await?;
        row.map(|r| schedule_row(&r).ctx(CX)).transpose()
    }

    pub async fn schedules(&self) -> Result<Vec<ScheduleRow>> {
        const CX: &str = "listing daily schedules";
        let rows = self
            .query(CX, &format!("{SCHEDULE_SELECT} ORDER BY guild_id"), &[])
            .await?;
        rows.iter().map(|r| schedule_row(r).ctx(CX)).collect()
    }

    pub async fn delete_schedule(&self, guild_id: u64) -> Result<bool> {
        let n = self
            .execute(
                "deleting a daily schedule",
                "DELETE FROM daily_schedules WHERE guild_id = $1",
                &[&id(guild_id)],
            )
            .await?;
        Ok(n > 0)
    }

    pub async fn set_schedule_error(&self, guild_id: u64, error: Option<&str>) -> Result<()> {
        self.execute(
            "recording a daily delivery problem",
            "UPDATE daily_schedules SET last_error = $2 WHERE guild_id = $1",
            &[&id(guild_id), &error],
        )
        .await?;
        Ok(())
    }

    // ---- daily posts ----

    /// Records the intent to post for `(guild, local_date)`, or returns the one recorded
    /// already. Two processes racing here both end with the same row: the unique index lets
    /// one insert through, the other's insert waits for it and then does nothing.
    pub async fn begin_post(&self, p: &PostRow) -> Result<PostRow> {
        const CX: &str = "recording a daily post intent";
        self.execute(
            CX,
            "INSERT INTO daily_posts
             (guild_id, local_date, number, question_id, channel_id, nonce, state, attempts,
              created_at, kind)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, 'scheduled')
             ON CONFLICT DO NOTHING",
            &[
                &id(p.guild_id),
                &p.local_date,
                &p.number,
                &p.question_id,
                &id(p.channel_id),
                &p.nonce,
                &p.created_at,
            ],
        )
        .await?;
        self.post(p.guild_id, &p.local_date)
            .await?
            .ok_or_else(|| StoreError::Decode {
                context: CX,
                message: "the intent vanished right after it was recorded".into(),
            })
    }

    pub async fn post(&self, guild_id: u64, local_date: &str) -> Result<Option<PostRow>> {
        const CX: &str = "reading a daily post";
        let row = self
            .query_opt(
                CX,
                &format!(
                    "{POST_SELECT} WHERE guild_id = $1 AND local_date = $2 AND kind = 'scheduled'"
                ),
                &[&id(guild_id), &local_date],
            )
            .await?;
        row.map(|r| post_row(&r).ctx(CX)).transpose()
    }

    pub async fn last_post(&self, guild_id: u64) -> Result<Option<PostRow>> {
        const CX: &str = "reading the last daily post";
        let row = self
            .query_opt(
                CX,
                &format!("{POST_SELECT} WHERE guild_id = $1 ORDER BY number DESC LIMIT 1"),
                &[&id(guild_id)],
            )
            .await?;
        row.map(|r| post_row(&r).ctx(CX)).transpose()
    }

    pub async fn last_posted_date(&self, guild_id: u64) -> Result<Option<String>> {
        const CX: &str = "reading the last posted date";
        let row = self
            .query_opt(
                CX,
                "SELECT MAX(local_date) FROM daily_posts
                 WHERE guild_id = $1 AND kind = 'scheduled' AND state IN ('sent', 'failed')",
                &[&id(guild_id)],
            )
            .await?;
        get(&row, 0, CX)
    }

    pub async fn next_post_number(&self, guild_id: u64) -> Result<i64> {
        const CX: &str = "numbering a daily post";
        let row = self
            .query_opt(
                CX,
                "SELECT COALESCE(MAX(number), 0) + 1 FROM daily_posts WHERE guild_id = $1",
                &[&id(guild_id)],
            )
            .await?;
        get::<Option<i64>>(&row, 0, CX).map(|n| n.unwrap_or(1))
    }

    pub async fn set_post_question(&self, post_id: i64, question_id: &str) -> Result<()> {
        self.execute(
            "replacing a daily post's question",
            "UPDATE daily_posts SET question_id = $2 WHERE id = $1 AND state = 'pending'",
            &[&post_id, &question_id],
        )
        .await?;
        Ok(())
    }

    pub async fn post_attempt(&self, post_id: i64) -> Result<()> {
        self.execute(
            "counting a daily post attempt",
            "UPDATE daily_posts SET attempts = attempts + 1 WHERE id = $1",
            &[&post_id],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_post_sent(
        &self,
        post_id: i64,
        message_id: u64,
        now_ms: i64,
        thread_wanted: bool,
    ) -> Result<()> {
        self.execute(
            "recording a sent daily post",
            "UPDATE daily_posts SET state = $4, message_id = $2, sent_at = $3, error = NULL,
              thread_wanted = $5, reaction_done = FALSE, opening_done = FALSE, finish = $6,
              finish_error = NULL
             WHERE id = $1",
            &[
                &post_id,
                &id(message_id),
                &now_ms,
                &PostState::Sent.as_str(),
                &thread_wanted,
                &FinishState::Pending.as_str(),
            ],
        )
        .await?;
        Ok(())
    }

    pub async fn set_post_thread(&self, post_id: i64, thread_id: u64) -> Result<()> {
        self.execute(
            "recording a daily thread",
            "UPDATE daily_posts SET thread_id = $2 WHERE id = $1",
            &[&post_id, &id(thread_id)],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_post_reaction_done(&self, post_id: i64) -> Result<()> {
        self.execute(
            "recording a daily post's reaction",
            "UPDATE daily_posts SET reaction_done = TRUE WHERE id = $1",
            &[&post_id],
        )
        .await?;
        Ok(())
    }

    pub async fn mark_post_opening_done(&self, post_id: i64) -> Result<()> {
        self.execute(
            "recording a daily thread's opening message",
            "UPDATE daily_posts SET opening_done = TRUE WHERE id = $1",
            &[&post_id],
        )
        .await?;
        Ok(())
    }

    pub async fn set_post_finish(
        &self,
        post_id: i64,
        finish: FinishState,
        error: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "recording a daily post's finishing steps",
            "UPDATE daily_posts SET finish = $2, finish_error = $3 WHERE id = $1",
            &[&post_id, &finish.as_str(), &error],
        )
        .await?;
        Ok(())
    }

    pub async fn unfinished_posts(&self) -> Result<Vec<PostRow>> {
        const CX: &str = "listing unfinished daily posts";
        let rows = self
            .query(
                CX,
                &format!("{POST_SELECT} WHERE state = $1 AND finish = $2 ORDER BY id"),
                &[&PostState::Sent.as_str(), &FinishState::Pending.as_str()],
            )
            .await?;
        rows.iter().map(|r| post_row(r).ctx(CX)).collect()
    }

    pub async fn mark_post_failed(&self, post_id: i64, error: &str) -> Result<()> {
        self.execute(
            "recording a failed daily post",
            "UPDATE daily_posts SET state = $3, error = $2 WHERE id = $1",
            &[&post_id, &error, &PostState::Failed.as_str()],
        )
        .await?;
        Ok(())
    }

    pub async fn note_post_error(&self, post_id: i64, error: &str) -> Result<()> {
        self.execute(
            "recording a daily post error",
            "UPDATE daily_posts SET error = $2 WHERE id = $1",
            &[&post_id, &error],
        )
        .await?;
        Ok(())
    }

    pub async fn record_manual_post(&self, p: &PostRow) -> Result<i64> {
        const CX: &str = "recording a manual daily post";
        let row = self
            .query_opt(
                CX,
                "INSERT INTO daily_posts
                 (guild_id, local_date, number, question_id, channel_id, nonce, state,
                  message_id, attempts, created_at, sent_at, kind, thread_wanted,
                  reaction_done, opening_done, finish)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $14, $15)
                 RETURNING id",
                &[
                    &id(p.guild_id),
                    &p.local_date,
                    &p.number,
                    &p.question_id,
                    &id(p.channel_id),
                    &p.nonce,
                    &p.state.as_str(),
                    &p.message_id.map(id),
                    &p.created_at,
                    &p.sent_at,
                    &PostKind::Manual.as_str(),
                    &p.thread_wanted,
                    &p.reaction_done,
                    &p.opening_done,
                    &p.finish.as_str(),
                ],
            )
            .await?;
        get(&row, 0, CX)
    }

    // ---- quiz rounds ----

    pub async fn create_round(
        &self,
        guild_id: u64,
        channel_id: u64,
        starter_id: u64,
        questions_total: usize,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        const CX: &str = "creating a quiz round";
        // The partial unique index on running rounds makes a second start in the channel,
        // from any process, return no row.
        let row = self
            .query_opt(
                CX,
                "INSERT INTO quiz_rounds
                 (guild_id, channel_id, starter_id, status, questions_total, questions_played,
                  started_at)
                 VALUES ($1, $2, $3, 'running', $4, 0, $5)
                 ON CONFLICT DO NOTHING RETURNING id",
                &[
                    &id(guild_id),
                    &id(channel_id),
                    &id(starter_id),
                    &(questions_total as i64),
                    &now_ms,
                ],
            )
            .await?;
        row.map(|r| r.try_get(0).ctx(CX)).transpose()
    }

    pub async fn save_round_scores(
        &self,
        round_id: i64,
        questions_played: usize,
        scores: &[ScoreRow],
    ) -> Result<()> {
        const CX: &str = "saving quiz scores";
        let _timed = Timed(Instant::now());
        let mut c = self.client(CX).await?;
        let tx = c.transaction().await.ctx(CX)?;
        tx.execute(
            "UPDATE quiz_rounds SET questions_played = $2 WHERE id = $1",
            &[&round_id, &(questions_played as i64)],
        )
        .await
        .ctx(CX)?;
        let upsert = tx
            .prepare_cached(
                "INSERT INTO quiz_scores (round_id, user_id, points_milli, correct, answered)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (round_id, user_id) DO UPDATE SET
                  points_milli = excluded.points_milli, correct = excluded.correct,
                  answered = excluded.answered",
            )
            .await
            .ctx(CX)?;
        for s in scores {
            tx.execute(
                &upsert,
                &[
                    &round_id,
                    &id(s.user_id),
                    &s.points_milli,
                    &s.correct,
                    &s.answered,
                ],
            )
            .await
            .ctx(CX)?;
        }
        tx.commit().await.ctx(CX)
    }

    pub async fn end_round(&self, round_id: i64, status: RoundStatus, now_ms: i64) -> Result<()> {
        self.execute(
            "ending a quiz round",
            "UPDATE quiz_rounds SET status = $2, ended_at = $3 WHERE id = $1",
            &[&round_id, &status.as_str(), &now_ms],
        )
        .await?;
        Ok(())
    }

    pub async fn running_rounds(&self) -> Result<Vec<RoundRow>> {
        const CX: &str = "listing running quiz rounds";
        let rows = self
            .query(
                CX,
                "SELECT id, guild_id, channel_id, starter_id, status, questions_total,
                        questions_played
                 FROM quiz_rounds WHERE status = 'running' ORDER BY id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RoundRow {
                    id: r.try_get(0)?,
                    guild_id: uid(r.try_get(1)?),
                    channel_id: uid(r.try_get(2)?),
                    starter_id: uid(r.try_get(3)?),
                    status: r.try_get(4)?,
                    questions_total: r.try_get(5)?,
                    questions_played: r.try_get(6)?,
                })
            })
            .map(|r: std::result::Result<_, tokio_postgres::Error>| r.ctx(CX))
            .collect()
    }

    pub async fn round_scores(&self, round_id: i64) -> Result<Vec<ScoreRow>> {
        const CX: &str = "reading quiz scores";
        let rows = self
            .query(
                CX,
                "SELECT user_id, points_milli, correct, answered FROM quiz_scores
                 WHERE round_id = $1 ORDER BY points_milli DESC, correct DESC, user_id",
                &[&round_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ScoreRow {
                    user_id: uid(r.try_get(0)?),
                    points_milli: r.try_get(1)?,
                    correct: r.try_get(2)?,
                    answered: r.try_get(3)?,
                })
            })
            .map(|r: std::result::Result<_, tokio_postgres::Error>| r.ctx(CX))
            .collect()
    }

    pub async fn leaderboard(&self, guild_id: u64, top: usize) -> Result<Vec<LeaderRow>> {
        const CX: &str = "reading the leaderboard";
        // SUM of BIGINT is NUMERIC in PostgreSQL; cast back so the row types match SQLite's.
        let rows = self
            .query(
                CX,
                "SELECT s.user_id, SUM(s.points_milli)::BIGINT, COUNT(*),
                        SUM(s.correct)::BIGINT, SUM(s.answered)::BIGINT
                 FROM quiz_scores s JOIN quiz_rounds r ON r.id = s.round_id
                 WHERE r.guild_id = $1 AND r.status != 'running'
                 GROUP BY s.user_id
                 ORDER BY SUM(s.points_milli) DESC, SUM(s.correct) DESC, s.user_id
                 LIMIT $2",
                &[&id(guild_id), &(top as i64)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(LeaderRow {
                    user_id: uid(r.try_get(0)?),
                    points_milli: r.try_get(1)?,
                    rounds: r.try_get(2)?,
                    correct: r.try_get(3)?,
                    answered: r.try_get(4)?,
                })
            })
            .map(|r: std::result::Result<_, tokio_postgres::Error>| r.ctx(CX))
            .collect()
    }
}

/// Column `i` of a row that a query returns exactly once (an aggregate, `RETURNING`).
fn get<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    row: &Option<Row>,
    i: usize,
    context: &'static str,
) -> Result<T> {
    match row {
        Some(r) => r.try_get(i).ctx(context),
        None => Err(StoreError::Decode {
            context,
            message: "the query returned no row".into(),
        }),
    }
}

/// A stored Unix-millisecond time.
fn ts(ms: i64, context: &'static str) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Decode {
        context,
        message: e.to_string(),
    })
}

const SCHEDULE_SELECT: &str = "SELECT guild_id, channel_id, time, tz, role_id, filter, thread,
    paused, skip_date, armed_from, last_error FROM daily_schedules";

fn schedule_row(r: &Row) -> std::result::Result<ScheduleRow, tokio_postgres::Error> {
    Ok(ScheduleRow {
        guild_id: uid(r.try_get(0)?),
        channel_id: uid(r.try_get(1)?),
        time: r.try_get(2)?,
        tz: r.try_get(3)?,
        role_id: r.try_get::<_, Option<i64>>(4)?.map(uid),
        filter: r.try_get(5)?,
        thread: r.try_get(6)?,
        paused: r.try_get(7)?,
        skip_date: r.try_get(8)?,
        armed_from: r.try_get(9)?,
        last_error: r.try_get(10)?,
    })
}

const POST_SELECT: &str = "SELECT id, guild_id, local_date, number, question_id, channel_id, nonce,
    state, message_id, thread_id, attempts, error, created_at, sent_at, kind, thread_wanted,
    reaction_done, opening_done, finish, finish_error FROM daily_posts";

fn post_row(r: &Row) -> std::result::Result<PostRow, tokio_postgres::Error> {
    Ok(PostRow {
        id: r.try_get(0)?,
        guild_id: uid(r.try_get(1)?),
        local_date: r.try_get(2)?,
        number: r.try_get(3)?,
        question_id: r.try_get(4)?,
        channel_id: uid(r.try_get(5)?),
        nonce: r.try_get(6)?,
        state: r.try_get(7)?,
        message_id: r.try_get::<_, Option<i64>>(8)?.map(uid),
        thread_id: r.try_get::<_, Option<i64>>(9)?.map(uid),
        attempts: r.try_get(10)?,
        error: r.try_get(11)?,
        created_at: r.try_get(12)?,
        sent_at: r.try_get(13)?,
        kind: r.try_get(14)?,
        thread_wanted: r.try_get(15)?,
        reaction_done: r.try_get(16)?,
        opening_done: r.try_get(17)?,
        finish: r.try_get(18)?,
        finish_error: r.try_get(19)?,
    })
}
