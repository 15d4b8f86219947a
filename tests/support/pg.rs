//! A throwaway PostgreSQL for the tests, and a fresh database per test.
//!
//! `.ci/run` installs PostgreSQL when missing, starts a cluster on a local port and exports its
//! URL as `PREPBOT_TEST_PG`. Without that variable (a developer's `cargo test`), the first test
//! that asks starts a cluster of its own in a temp dir, from the installed binaries
//! (`initdb`, `postgres`), as the `postgres` user when the tests run as root (PostgreSQL
//! refuses to run as root). A small shell supervisor holds the server: it reads the test
//! process's pipe and, when that closes at exit, stops the server and deletes its directory,
//! so nothing outlives the test binary.
//!
//! With no PostgreSQL installed the PostgreSQL tests say so and pass vacuously, unless
//! `PREPBOT_REQUIRE_PG` is set (CI sets it): then they fail.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The server URL (database `postgres`), or why there is none.
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
/// The supervisor; its stdin is the pipe whose end stops the server.
static SUPERVISOR: Mutex<Option<Child>> = Mutex::new(None);
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The URL of a new, empty database on the test server; `None` (after saying why) when no
/// PostgreSQL is installed and CI did not require one.
pub async fn fresh_database() -> Option<String> {
    let server = match SERVER.get_or_init(start) {
        Ok(url) => url.clone(),
        Err(why) => {
            assert!(
                std::env::var_os("PREPBOT_REQUIRE_PG").is_none(),
                "PostgreSQL is required (PREPBOT_REQUIRE_PG) but unavailable: {why}"
            );
            eprintln!("skipping a PostgreSQL test: {why}");
            return None;
        }
    };
    let name = format!(
        "prepbot_test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .expect("connect to the test server");
    let driver = tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    drop(client);
    driver.await.unwrap().unwrap();
    let base = server.rsplit_once('/').unwrap().0;
    Some(format!("{base}/{name}"))
}

fn start() -> Result<String, String> {
    if let Ok(url) = std::env::var("PREPBOT_TEST_PG") {
        return Ok(url);
    }
    let bin = bin_dir().ok_or("no initdb found (install the postgresql package)")?;
    let dir = tempfile::Builder::new()
        .prefix("prepbot-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let data = dir.join("data");
    let root = is_root();
    if root {
        run(Command::new("chown").args(["-R", "postgres:"]).arg(&dir))?;
    }
    let as_server = |program: PathBuf| {
        let mut c = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    run(as_server(bin.join("initdb"))
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "-D"])
        .arg(&data))?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    // The supervisor: postgres in the background; when stdin (our pipe) ends, a fast shutdown,
    // then the directory goes.
    let script = r#"
        "$1/postgres" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 \
            -c fsync=off -c max_connections=200 &
        pid=$!
        cat >/dev/null
        kill -INT "$pid"
        wait "$pid"
        rm -rf "$2"
    "#;
    let mut sh = as_server(PathBuf::from("sh"));
    let child = sh
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(&bin)
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    *SUPERVISOR.lock().unwrap() = Some(child);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    // Accepting TCP is not accepting logins ("the database system is starting up").
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        if Instant::now() > deadline {
            return Err("the test PostgreSQL did not start within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(url)
}

fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn run(c: &mut Command) -> Result<(), String> {
    let status = c.status().map_err(|e| format!("{c:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed: {status}"))
    }
}
