//! Operating the bot, end to end against the fake Discord: `/metrics` and `/healthz` on
//! `metrics.listen`, `/help`, a clean shutdown with a daily post in flight, JSON logs, the
//! start-up errors (a refused token, disallowed intents), `prepbot invite` and
//! `prepbot health` — the last ones through the built binary, as a host runs it.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use prepbot::store::PostState;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

const ZONE: &str = "Europe/Berlin";

/// The clock offset that makes the bot's "now" the given Berlin wall time.
// The shift is measured from the real clock, which the bot itself may not read.
#[allow(clippy::disallowed_methods)]
fn offset_to(local: &str) -> SignedDuration {
    let target = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", local)
        .unwrap()
        .in_tz(ZONE)
        .unwrap()
        .timestamp();
    target.duration_since(Timestamp::now())
}

/// The fake, a temp dir, and the bot with its listener on a free loopback port.
async fn boot(offset: SignedDuration) -> (FakeDiscord, tempfile::TempDir, prepbot::discord::Bot) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&fake, dir.path());
    c.metrics.listen = Some("127.0.0.1:0".into());
    let bot = start(&fake, c, options(offset)).await;
    (fake, dir, bot)
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// One sample of the Prometheus text format: name, labels, value.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn parse_metrics(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                let inner = rest.strip_suffix('}').unwrap();
                let labels = inner
                    .split("\",")
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once("=\"").unwrap();
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                (n.to_string(), labels)
            }
            None => (series.to_string(), BTreeMap::new()),
        };
        out.insert((name, labels), value);
    }
    out
}

/// The value of `name` with (at least) `labels`, summed over the other labels; 0 when absent.
fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|((n, l), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(bot: &prepbot::discord::Bot) -> Samples {
    let addr = bot.metrics_addr().expect("metrics.listen is on");
    let (status, text) = get(&format!("http://{addr}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    parse_metrics(&text)
}

fn daily_posts(fake: &FakeDiscord) -> Vec<Value> {
    fake.messages(OTHER_CHANNEL_ID)
        .into_iter()
        .filter(|m| {
            m["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Question of the day #"))
        })
        .collect()
}

/// Schedules the daily question at 09:00 Berlin in the other channel.
async fn set_0900(fake: &FakeDiscord) {
    let opts = json!({"channel": OTHER_CHANNEL_ID, "time": "09:00", "timezone": ZONE});
    let cmd = fake.slash_command("daily", &["set"], opts, &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let data = fake.wait_callback(&cmd, WAIT).await.body["data"].clone();
    assert!(
        embed_text(&data).contains("Daily question scheduled"),
        "{data}"
    );
}

/// The test: after an `/ask` and a daily post, the counters moved. The recorder is
/// process-wide and the tests of this binary run side by side (another one posts a daily
/// question too), so every check is a difference, and an exact one only where no other
/// test adds to it.
#[tokio::test]
async fn metrics_move_after_an_ask_and_a_daily_post() {
    let (fake, _dir, bot) = boot(offset_to("2026-03-10 08:59:57")).await;
    let before = scrape(&bot).await;
    // One failed reaction: the delivery client retries it, which is counted by status.
    fake.fail_next("PUT", "/reactions/", 500, 1);
    let cmd = fake.slash_command(
        "ask",
        &[],
        json!({"id": "acid-properties"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await;
    fake.wait_for(|r| r.is("PUT", "/channels/") && r.status == 204, WAIT)
        .await;
    set_0900(&fake).await;
    eventually("the daily post", || daily_posts(&fake).into_iter().next()).await;
    // The post is counted once it is recorded, right after Discord answers.
    let sent = |s: &Samples| value(s, "prepbot_daily_posts_total", &[("outcome", "sent")]);
    let deadline = Instant::now() + WAIT;
    let after = loop {
        let s = scrape(&bot).await;
        if sent(&s) > sent(&before) {
            break s;
        }
        assert!(Instant::now() < deadline, "the daily post was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    let ask = [("command", "ask"), ("outcome", "ok")];
    assert_eq!(moved("prepbot_interactions_total", &ask), 1.0);
    assert!(
        moved(
            "prepbot_interactions_total",
            &[("command", "daily set"), ("outcome", "ok")]
        ) >= 1.0
    );
    // The latency histogram: one more /ask observed, in real buckets (not a summary).
    assert_eq!(
        moved(
            "prepbot_interaction_duration_seconds_count",
            &[("command", "ask")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "prepbot_interaction_duration_seconds_bucket",
            &[("command", "ask"), ("le", "+Inf")]
        ),
        1.0
    );
    assert!(moved("prepbot_rest_retries_total", &[("status", "500")]) >= 1.0);
    assert!(moved("prepbot_daily_posts_total", &[("outcome", "sent")]) >= 1.0);
    let lags = moved("prepbot_daily_scheduler_lag_seconds_count", &[]);
    assert!(lags >= 1.0);
    // The bot was started 3 s before 09:00: the scheduler woke on time.
    let lag = moved("prepbot_daily_scheduler_lag_seconds_sum", &[]) / lags;
    assert!((0.0..2.0).contains(&lag), "mean lag {lag} s");
    assert!(moved("prepbot_store_call_duration_seconds_count", &[]) >= 5.0);
    assert!(after.contains_key(&("prepbot_quiz_rounds_running".to_string(), BTreeMap::new())));
    // Present; its value is the binary test's (a drop in another test of this process
    // counts here too: serenity reports lost connections per process).
    assert!(after.contains_key(&("prepbot_gateway_connected".to_string(), BTreeMap::new())));
    bot.shutdown().await;
}

/// Polls `/healthz` until it answers `status`, and returns the body.
async fn healthz_until(bot: &prepbot::discord::Bot, status: u16) -> String {
    let url = format!("http://{}/healthz", bot.metrics_addr().unwrap());
    let deadline = Instant::now() + WAIT;
    loop {
        let (got, body) = get(&url).await;
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz stayed {got}: {body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `/healthz`: 503 with the reason while the store does not answer (a store call holds the
/// connection: a bag update whose closure sleeps), then while the gateway is down (the fake
/// drops it and holds the resume until released), 200 again after each. One test, one bot:
/// serenity reports lost connections per process, so a drop would also mark the other bots
/// of this test binary down.
#[tokio::test]
async fn healthz_follows_the_store_and_the_gateway() {
    let (fake, _dir, bot) = boot(SignedDuration::ZERO).await;
    assert_eq!(healthz_until(&bot, 200).await, "ok\n");

    let store = bot.app.store.clone();
    let stuck = std::thread::spawn(move || {
        futures::executor::block_on(
            store.update_bag_at("stuck", 0, |_| std::thread::sleep(Duration::from_secs(3))),
        )
        .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = get(&format!("http://{}/healthz", bot.metrics_addr().unwrap())).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, "store: no answer within 2 s\n");
    stuck.join().unwrap();
    assert_eq!(healthz_until(&bot, 200).await, "ok\n");

    let resumes = fake.resume_count();
    // The outage lasts until released, so the test can look at it however slow the machine.
    fake.hold_gateway();
    fake.drop_gateway();
    let body = healthz_until(&bot, 503).await;
    assert_eq!(body, "gateway: connection lost, resuming\n");
    let metrics = scrape(&bot).await;
    assert_eq!(value(&metrics, "prepbot_gateway_connected", &[]), 0.0);
    fake.release_gateway();
    fake.wait_ready(WAIT).await;
    assert_eq!(healthz_until(&bot, 200).await, "ok\n");
    assert_eq!(
        fake.resume_count(),
        resumes + 1,
        "serenity resumed the session"
    );
    let metrics = scrape(&bot).await;
    assert_eq!(value(&metrics, "prepbot_gateway_connected", &[]), 1.0);
    bot.shutdown().await;
}

#[tokio::test]
async fn help_lists_every_command_from_its_own_description() {
    let (fake, _dir, bot) = boot(SignedDuration::ZERO).await;
    let cmd = fake.slash_command("help", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let data = callback_data(&fake.wait_callback(&cmd, WAIT).await).clone();
    assert!(is_ephemeral(&data), "{data}");
    let text = embed_text(&data);
    // Each line is the command's description as registered with Discord.
    let registered = fake.commands(Some(GUILD_ID));
    let mut seen = 0;
    for c in &registered {
        let subs: Vec<&Value> = c["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["type"] == 1)
            .collect();
        if subs.is_empty() {
            let line = format!("`/{}", c["name"].as_str().unwrap());
            assert!(text.contains(&line), "{line} missing:\n{text}");
            assert!(text.contains(c["description"].as_str().unwrap()), "{text}");
            seen += 1;
        }
        for s in subs {
            let line = format!(
                "`/{} {}",
                c["name"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            );
            let at = text
                .find(&line)
                .unwrap_or_else(|| panic!("{line} missing:\n{text}"));
            let rest = &text[at..text[at..].find('\n').map_or(text.len(), |e| at + e)];
            assert!(rest.contains(s["description"].as_str().unwrap()), "{rest}");
            // Admin commands say which permission they need: the one declared to Discord.
            let admin = !c["default_member_permissions"].is_null();
            assert_eq!(rest.contains("needs **Manage Server**"), admin, "{rest}");
            seen += 1;
        }
    }
    assert!(seen >= 14, "{seen} commands");
    let everyone = text.find("For everyone").unwrap();
    let admins = text.find("For admins").unwrap();
    assert!(everyone < text.find("`/ask").unwrap() && text.find("`/ask").unwrap() < admins);
    assert!(text.find("`/daily set").unwrap() > admins, "{text}");
    bot.shutdown().await;
}

/// SIGTERM's path (`Bot::shutdown`) with a daily post on its way: Discord has the message but
/// has not answered yet. The shutdown waits for the answer and the post is recorded as sent,
/// with its message id, so the next start neither searches for it nor posts it again.
#[tokio::test]
async fn shutdown_records_a_daily_post_in_flight() {
    let (fake, _dir, bot) = boot(offset_to("2026-03-10 08:59:57")).await;
    fake.delay_next(
        "POST",
        &format!("/channels/{OTHER_CHANNEL_ID}/messages"),
        Duration::from_millis(1500),
        1,
    );
    set_0900(&fake).await;
    let post = eventually("the daily post reaching Discord", || {
        daily_posts(&fake).into_iter().next()
    })
    .await;
    let app = bot.app.clone();
    let t0 = Instant::now();
    bot.shutdown().await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let row = app
        .store
        .post(GUILD_ID, "2026-03-10")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, PostState::Sent, "{row:?}");
    assert_eq!(
        row.message_id.map(|m| m.to_string()),
        post["id"].as_str().map(String::from)
    );
    // It waited for the answer, not much longer.
    assert!(took >= Duration::from_millis(500), "{took:?}");
}

// ---- the built binary --------------------------------------------------------------------------

/// Starts `prepbot` in `dir` with `args` and exactly the token variables in `env`, its
/// output captured.
fn spawn_bot(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prepbot"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_TOKEN_FILE")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn write_config(dir: &std::path::Path, fake: &FakeDiscord, extra: &str) {
    copy_bank(dir);
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[discord]\napi_base = \"{}\"\nguild_id = {GUILD_ID}\n{extra}",
            fake.api_base()
        ),
    )
    .unwrap();
}

fn read_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    })
}

async fn wait_exit(child: Child, within: Duration) -> std::process::Output {
    tokio::time::timeout(
        within,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .expect("the bot exits by itself")
    .unwrap()
    .unwrap()
}

fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
}

/// A free loopback port for a config file (`prepbot health` reads the port from there).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `prepbot ARGS` to its end, off the test's runtime (which serves the fake).
async fn run_prepbot(
    dir: &std::path::Path,
    args: &[&str],
    token: Option<&str>,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prepbot"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_TOKEN_FILE");
    if let Some(t) = token {
        cmd.env("DISCORD_TOKEN", t);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn health(dir: &std::path::Path) -> std::process::Output {
    run_prepbot(dir, &["health"], None).await
}

/// The JSON log format through the binary, at trace level with every interaction callback
/// failing: each line is one JSON object, spans carry their fields, and no token gets out.
#[tokio::test]
async fn json_logs_parse_line_by_line_and_hold_no_token() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "[log]\nformat = \"json\"\n");
    let mut child = spawn_bot(
        dir.path(),
        &[],
        &[("DISCORD_TOKEN", TOKEN), ("RUST_LOG", "trace")],
    );
    let log = read_stderr(&mut child);
    fake.wait_ready(WAIT).await;
    fake.wait_for(is_registration, WAIT).await;
    fake.fail_next("POST", "/callback", 500, 10);
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    let token = cmd["token"].as_str().unwrap().to_string();
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigterm(&child);
    let status = wait_exit(child, Duration::from_secs(15)).await.status;
    assert!(status.success(), "{status:?}");
    let log = log.join().unwrap();
    let mut with_spans = 0;
    let mut lines = 0;
    for line in log.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for key in ["timestamp", "level", "target", "fields"] {
            assert!(v.get(key).is_some(), "no {key}: {line}");
        }
        if v["spans"].as_array().is_some_and(|s| !s.is_empty()) {
            with_spans += 1;
        }
        assert!(!line.contains(&token), "interaction token: {line}");
        assert!(!line.contains(TOKEN), "bot token: {line}");
        lines += 1;
    }
    assert!(lines > 100, "trace logging was on: {lines} lines");
    assert!(with_spans > 0, "span fields are in the lines");
    assert!(log.contains("<redacted>"), "a token needed redacting");
    assert!(
        log.contains("\"message\":\"connected to Discord\""),
        "{log}"
    );
}

/// As a host runs it: the token from a file (systemd's credentials, a Docker secret), the
/// metrics listener on, `prepbot health` (the container's HEALTHCHECK) answering 0 while it
/// runs, SIGTERM ending it cleanly within 10 s, and `prepbot health` failing after.
#[tokio::test]
async fn binary_serves_health_reads_a_token_file_and_stops_on_sigterm() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    write_config(
        dir.path(),
        &fake,
        &format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let token_file = dir.path().join("discord-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let mut child = spawn_bot(
        dir.path(),
        &["--log-format", "json"],
        &[("DISCORD_TOKEN_FILE", token_file.to_str().unwrap())],
    );
    let log = read_stderr(&mut child);
    fake.wait_ready(WAIT).await;
    fake.wait_for(is_registration, WAIT).await;
    let deadline = Instant::now() + WAIT;
    let out = loop {
        let out = health(dir.path()).await;
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    let (status, metrics) = get(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("prepbot_gateway_connected 1"), "{metrics}");
    // An interaction, so the README's metrics line has something to show.
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await;
    readme_curl_lines(port).await;

    let t0 = Instant::now();
    sigterm(&child);
    let out = wait_exit(child, Duration::from_secs(15)).await;
    assert!(out.status.success(), "{:?}", out.status);
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    let log = log.join().unwrap();
    assert!(
        !log.contains(TOKEN),
        "the token from the file is redacted too"
    );
    for line in log.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(
        log.contains("shutting down") && log.contains("\"stopped\""),
        "{log}"
    );
    let out = health(dir.path()).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no answer from the bot"));
}

/// The README's `curl` lines (Hosting → Metrics and health), run as written but for the port.
async fn readme_curl_lines(port: u16) {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let lines: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("curl "))
        .map(|l| l.replace("127.0.0.1:9184", &format!("127.0.0.1:{port}")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in lines {
        let out = tokio::task::spawn_blocking({
            let line = line.clone();
            move || Command::new("sh").args(["-c", &line]).output().unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{line}: {out:?}");
        if line.contains("/metrics") {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with("prepbot_interactions_total{")
                        && l.contains("command=\"ask\"")),
                "{line}: {stdout}"
            );
        } else {
            assert!(stdout.starts_with("HTTP/1.1 200 OK"), "{line}: {stdout}");
            assert!(stdout.ends_with("\r\n\r\nok\n"), "{line}: {stdout}");
        }
    }
}

/// A refused token (401 on the first request) ends the start at once, with what to do, and
/// exit status 2: no gateway connection, no retry loop.
#[tokio::test]
async fn an_invalid_token_is_reported_and_not_retried() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "");
    let child = spawn_bot(dir.path(), &[], &[("DISCORD_TOKEN", "MTIz.reset.token")]);
    let out = wait_exit(child, Duration::from_secs(15)).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: Discord refused the bot token (401 Unauthorized)"),
        "{stderr}"
    );
    assert!(stderr.contains("Reset Token"), "{stderr}");
    assert!(!stderr.contains("MTIz.reset.token"), "{stderr}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/oauth2/applications/@me");
    assert_eq!(fake.identify_count(), 0);
}

/// Discord closing the gateway with 4014 (a privileged intent the application lacks) ends
/// the process with exit status 2 and where to turn the intent on.
#[tokio::test]
async fn disallowed_intents_are_reported() {
    let fake = FakeDiscord::start().await;
    fake.disallow_intents();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "");
    let child = spawn_bot(dir.path(), &[], &[("DISCORD_TOKEN", TOKEN)]);
    let out = wait_exit(child, Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the intents"), "{stderr}");
    assert!(stderr.contains("Privileged Gateway Intents"), "{stderr}");
    assert_eq!(fake.identify_count(), 1, "no retry loop");
}

/// `prepbot invite`: the application id from Discord, the permissions from the code's table.
#[tokio::test]
async fn invite_prints_the_url_with_the_tables_permissions() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &fake, "");
    let perms = prepbot::discord::permissions::invite_permissions(false).bits();
    let expected = format!(
        "https://discord.com/oauth2/authorize?client_id={APP_ID}\
         &scope=bot+applications.commands&permissions={perms}\n"
    );
    let out = run_prepbot(dir.path(), &["invite"], Some(TOKEN)).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("Create Public Threads (daily: the discussion thread"),
        "{why}"
    );
    assert!(fake.count(|r| r.path == "/oauth2/applications/@me") >= 1);

    let out = run_prepbot(dir.path(), &["invite", "--role-pings"], Some(TOKEN)).await;
    let with_pings = perms | (1 << 17);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with(&format!("permissions={with_pings}\n")),
        "{stdout}"
    );

    // A refused token is an error, not a link that cannot work.
    let out = run_prepbot(dir.path(), &["invite"], Some("MTIz.wrong.token")).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the bot token"));
}

/// Without Discord (nothing listens at `api_base`), the id comes from the token.
#[test]
fn invite_falls_back_to_the_id_in_the_token() {
    let dir = tempfile::tempdir().unwrap();
    copy_bank(dir.path());
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[discord]\napi_base = \"http://127.0.0.1:{}\"\n",
            free_port()
        ),
    )
    .unwrap();
    // "MTIzNDU2Nzg5MDEyMzQ1Njc4" is base64 of 123456789012345678.
    let out = Command::new(env!("CARGO_BIN_EXE_prepbot"))
        .current_dir(dir.path())
        .arg("invite")
        .env(
            "DISCORD_TOKEN",
            "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-part",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("client_id=123456789012345678&"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("using the id in the token"), "{stderr}");
    assert!(!stderr.contains("secret-part"), "{stderr}");
}
