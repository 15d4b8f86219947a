//! The schema, as an append-only list of migrations. `PRAGMA user_version` records how many
//! were applied; a new release only ever adds entries at the end.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: reveals, shuffle-bags, daily schedules and posts, quiz rounds.
    "
    CREATE TABLE question_messages (
        message_id  INTEGER PRIMARY KEY,
        channel_id  INTEGER NOT NULL,
        guild_id    INTEGER,
        question_id TEXT NOT NULL,
        source      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE reveals (
        message_id        INTEGER NOT NULL,
        user_id           INTEGER NOT NULL,
        revealed_at       INTEGER NOT NULL,
        reveal_message_id INTEGER,
        PRIMARY KEY (message_id, user_id)
    );
    CREATE TABLE bags (
        scope TEXT PRIMARY KEY,
        state TEXT NOT NULL
    );
    CREATE TABLE daily_schedules (
        guild_id   INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL,
        time       TEXT NOT NULL,
        tz         TEXT NOT NULL,
        role_id    INTEGER,
        filter     TEXT NOT NULL DEFAULT '{}',
        thread     INTEGER NOT NULL DEFAULT 1,
        paused     INTEGER NOT NULL DEFAULT 0,
        skip_date  TEXT,
        armed_from INTEGER NOT NULL,
        last_error TEXT
    );
    CREATE TABLE daily_posts (
        id          INTEGER PRIMARY KEY,
        guild_id    INTEGER NOT NULL,
        local_date  TEXT NOT NULL,
        number      INTEGER NOT NULL,
        question_id TEXT NOT NULL,
        channel_id  INTEGER NOT NULL,
        nonce       TEXT NOT NULL,
        state       TEXT NOT NULL,
        message_id  INTEGER,
        thread_id   INTEGER,
        attempts    INTEGER NOT NULL DEFAULT 0,
        error       TEXT,
        created_at  INTEGER NOT NULL,
        sent_at     INTEGER,
        kind        TEXT NOT NULL DEFAULT 'scheduled'
    );
    -- One scheduled post per guild per local date: the heart of exactly-once.
    CREATE UNIQUE INDEX daily_posts_one_per_day
        ON daily_posts (guild_id, local_date) WHERE kind = 'scheduled';
    CREATE TABLE quiz_rounds (
        id               INTEGER PRIMARY KEY,
        guild_id         INTEGER NOT NULL,
        channel_id       INTEGER NOT NULL,
        starter_id       INTEGER NOT NULL,
        status           TEXT NOT NULL,
        questions_total  INTEGER NOT NULL,
        questions_played INTEGER NOT NULL DEFAULT 0,
        started_at       INTEGER NOT NULL,
        ended_at         INTEGER
    );
    -- One running round per channel.
    CREATE UNIQUE INDEX quiz_rounds_one_running
        ON quiz_rounds (channel_id) WHERE status = 'running';
    CREATE TABLE quiz_scores (
        round_id     INTEGER NOT NULL REFERENCES quiz_rounds(id),
        user_id      INTEGER NOT NULL,
        points_milli INTEGER NOT NULL,
        correct      INTEGER NOT NULL,
        answered     INTEGER NOT NULL,
        PRIMARY KEY (round_id, user_id)
    );
    CREATE INDEX quiz_rounds_guild ON quiz_rounds (guild_id, status);
    ",
    // 2: a daily post's finishing steps, so a post whose process died after the create is
    // completed after the restart. Rows from before count as finished (defaults 1/'done').
    "
    ALTER TABLE daily_posts ADD COLUMN thread_wanted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE daily_posts ADD COLUMN reaction_done INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE daily_posts ADD COLUMN opening_done INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE daily_posts ADD COLUMN finish TEXT NOT NULL DEFAULT 'done';
    ALTER TABLE daily_posts ADD COLUMN finish_error TEXT;
    CREATE INDEX daily_posts_unfinished ON daily_posts (finish) WHERE finish = 'pending';
    ",
    // 3: retention: when each bag was last used, indexes for the purge and for forgetting
    // a member.
    super::retention::MIGRATION,
    // 4: personal practice: FSRS cards per member and question, and the review log.
    super::practice::MIGRATION,
    // 5: practice reminders: who wants one and when, one row per member and local date.
    super::reminders::MIGRATION,
];

/// Applies the migrations not yet applied, each in its own transaction.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    apply_until(conn, MIGRATIONS.len())
}

/// Applies the migrations listed before `sql`: a database as the release before it left it.
#[cfg(test)]
pub fn apply_before(conn: &mut Connection, sql: &str) -> rusqlite::Result<()> {
    let n = MIGRATIONS
        .iter()
        .position(|m| *m == sql)
        .expect("a listed migration");
    apply_until(conn, n)
}

fn apply_until(conn: &mut Connection, n: usize) -> rusqlite::Result<()> {
    loop {
        // IMMEDIATE takes the write lock before the version is read: two processes opening a
        // new file at the same moment (replicas of one deployment) apply each migration once;
        // the second waits (busy timeout), then reads the version the first committed.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        let Some(sql) = MIGRATIONS.get(current).filter(|_| current < n) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (current + 1) as i64)?;
        tx.commit()?;
    }
}

/// How many migrations this build knows: a database whose `user_version` is higher was
/// written by a newer release.
pub fn count() -> usize {
    MIGRATIONS.len()
}
