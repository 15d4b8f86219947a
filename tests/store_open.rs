//! The built binary refuses a database it must not run on — damaged, from a newer release, or
//! not writable — with a message naming the file, a non-zero exit, and before any connection
//! to Discord.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prepbot::store::{QuestionMessage, Source, SqliteStore};

/// Runs `prepbot` (run is the default) with a token and `storage.path = db`. Discord's API is
/// a port this test holds open and never answers: the process must exit on its own, and
/// nothing may have connected to that port.
fn run_on(db: &Path) -> Output {
    let dir = db.parent().unwrap();
    let discord = TcpListener::bind("127.0.0.1:0").unwrap();
    discord.set_nonblocking(true).unwrap();
    let bank = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions.toml");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[bank]\npaths = [{bank:?}]\n[storage]\npath = {db:?}\n\
             [discord]\napi_base = \"http://{}\"\n",
            discord.local_addr().unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_prepbot"))
        .arg("--config")
        .arg(&config)
        .current_dir(dir)
        .env("DISCORD_TOKEN", "x")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "prepbot kept running on {}: {}",
                db.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        discord.accept().is_err(),
        "prepbot connected to Discord before refusing the database"
    );
    out
}

/// Asserts a non-zero exit with an error that names `db` and contains `what`.
fn assert_refused(out: &Output, db: &Path, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(line.contains(&db.display().to_string()), "{line}");
    assert!(line.contains(what), "{line}");
}

/// A database written by this build, closed (its WAL checkpointed into the file).
fn written_db(dir: &Path) -> PathBuf {
    let path = dir.join("prepbot.db");
    let store = SqliteStore::open(&path).unwrap();
    for i in 0..400 {
        let msg = QuestionMessage {
            message_id: 1_000 + i,
            channel_id: 2,
            guild_id: Some(1),
            question_id: format!("question-number-{i}"),
        };
        store.record_question_message(&msg, Source::Ask, 0).unwrap();
    }
    drop(store);
    path
}

#[test]
fn a_file_of_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("prepbot.db");
    std::fs::write(&db, vec![0x5Au8; 16 * 1024]).unwrap();
    let out = run_on(&db);
    assert_refused(&out, &db, "is damaged or not a SQLite database");
    assert_refused(&out, &db, "restore the file from a backup");
}

#[test]
fn a_database_with_a_page_overwritten_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = written_db(dir.path());
    let root: u64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'question_messages'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut bytes = std::fs::read(&db).unwrap();
    // The default page size of the bundled SQLite.
    let start = ((root - 1) * 4096) as usize;
    bytes[start..start + 4096].fill(0xA5);
    std::fs::write(&db, &bytes).unwrap();
    assert_refused(&run_on(&db), &db, "is damaged");
}

#[test]
fn a_database_from_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = written_db(dir.path());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "user_version", version + 1)
        .unwrap();
    drop(conn);
    let out = run_on(&db);
    assert_refused(
        &out,
        &db,
        &format!(
            "has schema version {}, but this prepbot knows only up to {version}",
            version + 1
        ),
    );
}

/// Root writes through file modes, so `chmod 444` proves nothing when the tests run as root.
/// A directory where SQLite must create `<db>-shm` fails for everyone, and shows the case a
/// read-only mount shows: the file opens and reads fine, and only the first write fails.
#[test]
fn a_database_that_cannot_be_written_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = written_db(dir.path());
    let mut shm = db.clone().into_os_string();
    shm.push("-shm");
    std::fs::create_dir(&shm).unwrap();
    assert_refused(&run_on(&db), &db, "is read-only");
}

/// Replicas of a deployment start at the same moment on an empty database: every opener
/// must come up, with each migration applied once (a migration run twice fails on its
/// `CREATE TABLE`).
#[test]
fn openers_racing_on_a_new_file_all_migrate_it_once() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.db");
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (db, start) = (db.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    SqliteStore::open(&db).map(|s| s.schema_version().unwrap())
                })
            })
            .collect();
        let versions: Vec<_> = openers.into_iter().map(|t| t.join().unwrap()).collect();
        let first = versions[0].as_ref().map_err(ToString::to_string).cloned();
        for v in &versions {
            let v = v.as_ref().map_err(ToString::to_string).cloned();
            assert!(v.is_ok(), "round {round}: {v:?}");
            assert_eq!(v, first, "round {round}");
        }
        assert!(*first.as_ref().unwrap() > 0);
    }
}
