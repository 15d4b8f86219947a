//! The built binary end to end: `prepbot` (run is the default) with a config file, against the
//! fake Discord — and its logs, at every level, never contain the token.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::bot::*;
use support::*;

/// A working directory with the seed bank file and a config pointing at the fake (plus
/// `extra` config lines).
fn workdir(fake: &FakeDiscord, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_bank(dir.path());
    std::fs::write(
        dir.path().join("config.toml"),
        // Only the seed file: the default paths also want a questions/ directory.
        format!(
            "[discord]\napi_base = \"{}\"\n{extra}\n[bank]\npaths = [\"questions.toml\"]\n",
            fake.api_base()
        ),
    )
    .unwrap();
    dir
}

/// Starts the built binary in `dir` with `token` at `RUST_LOG=trace` (everything, including
/// serenity's, reqwest's and tungstenite's own logging); the returned thread yields its
/// stderr once it exits.
fn spawn_bot(
    dir: &std::path::Path,
    token: &str,
) -> (std::process::Child, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prepbot"))
        .current_dir(dir)
        .env("DISCORD_TOKEN", token)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    (child, log)
}

/// SIGTERM, then the exit status.
async fn terminate(child: std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut child = child;
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn binary_serves_ask_and_never_logs_the_token() {
    let fake = FakeDiscord::start().await;
    let dir = workdir(&fake, &format!("guild_id = {GUILD_ID}"));
    let (child, log) = spawn_bot(dir.path(), TOKEN);

    fake.wait_ready(WAIT).await;
    fake.wait_for(is_registration, WAIT).await;
    let cmd = fake.slash_command(
        "ask",
        &[],
        json!({"id": "acid-properties"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert!(embed_text(callback_data(&cb)).contains("ACID"));
    // The database is where the config says (the working directory by default).
    assert!(dir.path().join("prepbot.db").exists());

    // SIGTERM: a clean shutdown.
    let status = terminate(child).await;
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let log = log.join().unwrap();
    assert!(log.contains("connected to Discord"), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("TRACE") && log.contains("serenity"),
        "trace logging was on"
    );
    assert!(!log.contains(TOKEN), "the token appeared in the log");
    // The IDENTIFY payload carried it, so the test could have seen it.
    assert!(fake.identifies()[0]["token"]
        .as_str()
        .unwrap()
        .contains(TOKEN));
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// The hardening issue's leak: with every interaction callback failing, the delivery client
/// and serenity logged `POST /interactions/<id>/<token>/callback`. An interaction token lets
/// anyone post as the bot for 15 minutes. At every level up to trace, no token seen in the
/// run may reach the log.
#[tokio::test]
async fn binary_never_logs_interaction_tokens_even_when_callbacks_fail() {
    let fake = FakeDiscord::start().await;
    let dir = workdir(&fake, &format!("guild_id = {GUILD_ID}"));
    let (child, log) = spawn_bot(dir.path(), TOKEN);
    fake.wait_ready(WAIT).await;
    fake.wait_for(is_registration, WAIT).await;
    fake.fail_next("POST", "/callback", 500, 1000);
    fake.fail_next("POST", "/webhooks/", 500, 1000);
    let mut tokens = Vec::new();
    for opts in [
        json!({}),
        json!({"private": true}),
        json!({"category": "nope"}),
    ] {
        let cmd = fake.slash_command("ask", &[], opts, &MEMBER, CHANNEL_ID);
        tokens.push(cmd["token"].as_str().unwrap().to_string());
        fake.dispatch("INTERACTION_CREATE", cmd.clone());
        fake.wait_callback(&cmd, WAIT).await;
    }
    // A click on a stale button too: its answer fails the same way.
    let msg = json!({"id": "1", "channel_id": CHANNEL_ID.to_string()});
    let click = fake.button_click("reveal:acid-properties", &msg, &MEMBER, CHANNEL_ID);
    tokens.push(click["token"].as_str().unwrap().to_string());
    fake.dispatch("INTERACTION_CREATE", click.clone());
    fake.wait_callback(&click, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    terminate(child).await;
    let log = log.join().unwrap();
    // The failures were logged (so the test looked where the tokens used to leak) ...
    assert!(log.contains("/callback"), "no callback failure was logged");
    assert!(log.contains("<redacted>"), "nothing needed redacting?");
    // ... and no token appears on any line.
    for line in log.lines() {
        for t in &tokens {
            assert!(
                !line.contains(t.as_str()),
                "interaction token in the log: {line}"
            );
        }
        assert!(!line.contains(TOKEN), "bot token in the log: {line}");
    }
}

#[test]
fn run_without_a_token_explains_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    copy_bank(dir.path());
    std::fs::write(
        dir.path().join("config.toml"),
        "[bank]\npaths = [\"questions.toml\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prepbot"))
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no bot token: set DISCORD_TOKEN"),
        "{stderr}"
    );
}

#[test]
fn run_with_a_broken_bank_names_the_place_and_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("questions.toml"), "[[question]]\nid = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prepbot"))
        .current_dir(dir.path())
        .env("DISCORD_TOKEN", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("questions.toml:2:6: `id` of question #1 must be a string"),
        "{stderr}"
    );
}

/// A bot whose Discord client ends by itself (here: the gateway refuses its intents, after
/// the token passed the first REST request) exits non-zero and says why. Which non-zero
/// status (restart or not) is `tests/e2e_ops.rs`'s.
#[tokio::test]
async fn binary_exits_non_zero_when_the_discord_client_ends() {
    let fake = FakeDiscord::start().await;
    // The client starts, then Discord closes the gateway for good (4014, intents not allowed).
    fake.disallow_intents();
    let dir = workdir(&fake, "");
    let (mut child, log) = spawn_bot(dir.path(), TOKEN);
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("the bot exits by itself")
    .unwrap()
    .unwrap();
    assert!(!status.success(), "exit status {status:?}");
    let log = log.join().unwrap();
    assert!(log.contains("error:"), "{log}");
    assert!(!log.contains(TOKEN), "the token was logged");
    assert_eq!(fake.identify_count(), 1, "the client had started");
}
