//! SqliteStore::open on sound and unfit files: each refusal, its reason and its message.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::store::{sqlite::migrations, QuestionMessage, Refusal, Source, SqliteStore, StoreError};

/// A database written by this build, with enough rows to span several pages, closed again
/// (closing checkpoints the WAL into the file and removes it).
fn written_db(dir: &Path) -> PathBuf {
    let path = dir.join("prepbot.db");
    let store = SqliteStore::open(&path).unwrap();
    for i in 0..400 {
        store
            .record_question_message(
                &QuestionMessage {
                    message_id: 1_000 + i,
                    channel_id: 2,
                    guild_id: Some(1),
                    question_id: format!("question-number-{i}"),
                },
                Source::Ask,
                0,
            )
            .unwrap();
    }
    drop(store);
    assert!(!wal(&path, "-wal").exists(), "the WAL was checkpointed");
    path
}

fn wal(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens `path`, expecting a refusal that names it; returns the reason and the message.
fn refused(path: &Path) -> (Refusal, String) {
    match SqliteStore::open(path) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            match e {
                StoreError::Refused { path: p, reason } => {
                    assert_eq!(p, path);
                    (reason, msg)
                }
                other => panic!("not a refusal: {other:?}"),
            }
        }
    }
}

#[test]
fn a_sound_database_opens_and_the_write_check_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    let store = SqliteStore::open(&path).unwrap();
    // Closing checkpointed and removed the WAL, and no migration was pending: a frame in the
    // WAL now is the write check's commit.
    let wal_len = std::fs::metadata(wal(&path, "-wal")).unwrap().len();
    assert!(wal_len > 0, "nothing was committed at open");
    assert_eq!(store.schema_version().unwrap(), migrations::count() as i64);
    assert!(store.question_message(1_000).unwrap().is_some());
}

#[test]
fn a_missing_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/prepbot.db");
    SqliteStore::open(&path).unwrap();
    assert!(path.exists());
}

#[test]
fn a_directory_that_cannot_be_created_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the directory should be: fails for root too.
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let path = dir.path().join("file/prepbot.db");
    let (reason, msg) = refused(&path);
    assert!(matches!(reason, Refusal::CreateDir(_)), "{reason:?}");
    assert!(msg.contains("storage.path"), "{msg}");
}

/// The read-only check itself, on a connection SQLite opened read-only. A chmod would not do
/// in a test: root (CI containers, this machine) writes through file permissions. `mode=ro`
/// is also the case a plain `BEGIN IMMEDIATE; ROLLBACK` lets through in WAL mode: only a write
/// that is committed finds it.
#[test]
fn a_read_only_connection_is_refused_as_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    let conn = Connection::open_with_flags(
        format!("file:{}?mode=ro", path.display()),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let err = match SqliteStore::init(conn, &path) {
        Ok(_) => panic!("a read-only database was accepted"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::Refused {
                reason: Refusal::ReadOnly(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(msg.contains("is read-only"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

/// Reads work but writes fail: WAL mode needs `<db>-shm`, and a directory in its place makes
/// SQLite fall back to read-only access (root included), which shows only at the first write.
#[test]
fn a_shm_file_that_cannot_be_created_is_refused_as_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    std::fs::create_dir(wal(&path, "-shm")).unwrap();
    let (reason, msg) = refused(&path);
    assert!(matches!(reason, Refusal::ReadOnly(_)), "{reason:?}");
    assert!(msg.contains("-shm next to it"), "{msg}");
}

#[test]
fn a_wal_file_that_cannot_be_created_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    std::fs::create_dir(wal(&path, "-wal")).unwrap();
    let (reason, _) = refused(&path);
    assert!(matches!(reason, Refusal::CannotUse(_)), "{reason:?}");
}

#[test]
fn a_file_of_garbage_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prepbot.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let (reason, msg) = refused(&path);
    assert!(matches!(reason, Refusal::Corrupt(_)), "{reason:?}");
    assert!(msg.contains("restore the file from a backup"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "left untouched");
}

#[test]
fn a_database_with_a_page_overwritten_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    let (page_size, root): (u64, u64) = {
        let c = Connection::open(&path).unwrap();
        let ps = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let root = c
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'question_messages'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (ps, root)
    };
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() as u64 > 4 * page_size, "several pages");
    let start = ((root - 1) * page_size) as usize;
    bytes[start..start + page_size as usize].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();
    let (reason, _) = refused(&path);
    assert!(matches!(reason, Refusal::Corrupt(_)), "{reason:?}");
}

#[test]
fn a_database_from_a_newer_release_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = written_db(dir.path());
    let known = migrations::count() as i64;
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", known + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let (reason, msg) = refused(&path);
    match reason {
        Refusal::TooNew { found, known: k } => assert_eq!((found, k), (known + 1, known)),
        other => panic!("{other:?}"),
    }
    assert!(msg.contains("a newer release wrote it"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "left untouched");
}
