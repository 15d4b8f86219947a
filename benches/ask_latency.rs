//! `/ask` latency, CPU and memory of the release bot against the fake Discord.
//!
//! `cargo bench --bench ask_latency [-- --calls N --warmup N]` builds the release binary,
//! starts the fake Discord (`tests/support`) in this process and the bot as a child process
//! (its own config in a temp dir: `discord.api_base` = the fake, the shipped question bank, a
//! fresh database). After READY and command registration it reads the bot's RSS, sends
//! `--warmup` (50) and then `--calls` (1000) `/ask` interactions one at a time, and prints:
//!
//! - latency: from just before the fake sends INTERACTION_CREATE to the moment its REST handler
//!   receives the bot's `POST /interactions/{id}/{token}/callback` (p50/p90/p99/max);
//! - the bot's CPU per `/ask`: its utime+stime (`/proc/PID/stat`) over the measured calls,
//!   divided by their number. Each `/ask` also costs the bot a `GET …/@original` and the 💡
//!   reaction `PUT` after the callback; those are included, and call i+1 is only sent once the
//!   reaction of call i has arrived, so the calls never overlap;
//! - the bot's RSS (`VmRSS`) after READY and after the load, split into anonymous memory and
//!   file-backed pages (mostly the executable's own code).
//!
//! `--practice-members N` measures `/practice` instead: before the bot starts, its database is
//! filled with N members' practice cards for every question of the full shipped bank
//! (`questions.toml` and `questions/`; 10,000 × 255 ≈ 2.5 M rows, the 2.4 M), and the
//! calls are `/practice` from those members in turn, timed to their callback. The database's
//! size is printed.
//!
//! The fake runs in this process on one thread, so its work is not counted as the bot's.
//! `PREPBOT_BIN=path` measures another build of the bot (e.g. `target/release/prepbot` from a
//! plain `cargo build --release`). The targets are printed with ✓/✗ for information; a miss
//! never fails the run. Outside `cargo bench` (e.g. `cargo test --benches`, which runs bench
//! targets without `--bench`) it does nothing, so CI only builds it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::bot::{copy_bank, is_registration};
use support::{FakeDiscord, Recorded, CHANNEL_ID, GUILD_ID, MEMBER, TOKEN};

/// How long any one step may take before the bench gives up (a hang, not a slow bot).
const WAIT: Duration = Duration::from_secs(10);
/// Pause after registration before the "after READY" RSS reading, for start-up work to end.
const SETTLE: Duration = Duration::from_secs(1);

const TARGET_P99_MS: f64 = 1.0;
const TARGET_CPU_MS: f64 = 0.3;
const TARGET_RSS_MIB: f64 = 15.0;

struct Args {
    calls: usize,
    warmup: usize,
    /// `cargo bench` passes `--bench`; without it this is a test-mode run and does nothing.
    bench: bool,
    /// `/practice` from this many seeded members instead of `/ask` (0: `/ask`).
    practice_members: u64,
}

fn parse_args() -> Args {
    let mut args = Args {
        calls: 1000,
        warmup: 50,
        bench: false,
        practice_members: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match a.as_str() {
            "--bench" => args.bench = true,
            "--calls" => args.calls = number("--calls").max(1),
            "--warmup" => args.warmup = number("--warmup"),
            "--practice-members" => args.practice_members = number("--practice-members") as u64,
            _ => {} // libtest-style filters and flags: not used here
        }
    }
    args
}

fn main() {
    let args = parse_args();
    if !args.bench {
        println!(
            "ask_latency: skipped outside `cargo bench` (run `cargo bench --bench ask_latency`)"
        );
        return;
    }
    // One thread for the fake and the driver: the bot gets the other core to itself.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(args));
}

/// The bot as a child process; killed when dropped, also on a panic.
struct BotProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl BotProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Exits the bench with the bot's log when the bot has died.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("ask_latency: the bot exited ({status}); its log:\n{log}");
            std::process::exit(1);
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary to measure: `PREPBOT_BIN` when set (e.g. `target/release/prepbot` from a plain
/// `cargo build --release`), else the one cargo built for this bench. The latter is compiled
/// with the dev-dependencies' features unified in (tokio `full` + `test-util`).
fn bot_binary() -> std::path::PathBuf {
    std::env::var_os("PREPBOT_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_prepbot").into())
}

// The seeded due dates are relative to the real clock, which the bot reads too.
#[allow(clippy::disallowed_methods)]
fn spawn_bot(fake: &FakeDiscord, dir: &Path, practice_members: u64) -> BotProcess {
    copy_bank(dir);
    let paths = if practice_members > 0 {
        let bank = prepbot::bank::Bank::load(&[dir.join("questions.toml"), dir.join("questions")])
            .expect("the shipped bank loads");
        let ids: Vec<String> = bank.questions().iter().map(|q| q.id.clone()).collect();
        let started = Instant::now();
        support::bot::fill_practice_cards(
            &dir.join("prepbot.db"),
            practice_members,
            &ids,
            jiff::Timestamp::now().as_millisecond(),
        );
        eprintln!(
            "seeded {} practice cards ({practice_members} members × {} questions) in {:.1} s",
            practice_members as usize * ids.len(),
            ids.len(),
            started.elapsed().as_secs_f64()
        );
        "[\"questions.toml\", \"questions\"]"
    } else {
        "[\"questions.toml\"]"
    };
    let config = dir.join("config.toml");
    // Relative paths are taken relative to the config file's directory.
    std::fs::write(
        &config,
        format!(
            "[discord]\napi_base = \"{}\"\nguild_id = {GUILD_ID}\n\n\
             [bank]\npaths = {paths}\n\n\
             [storage]\npath = \"prepbot.db\"\n",
            fake.api_base()
        ),
    )
    .expect("write config.toml");
    let log = dir.join("bot.log");
    let child = Command::new(bot_binary())
        .arg("--config")
        .arg(&config)
        .arg("run")
        .current_dir(dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).expect("create bot.log"))
        .spawn()
        .expect("spawn the prepbot binary");
    BotProcess { child, log }
}

// ---- /proc readings of the bot's process ------------------------------------------------------

/// A `kB` line of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// utime + stime of the whole process (all threads, live and ended), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name is in parentheses and may contain spaces: fields count after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the man page, so utime (14) and stime (15) are 11 and 12.
    let field = |i: usize| fields[i].parse::<u64>().expect("stat field");
    field(11) + field(12)
}

/// Time on CPU of the live threads, in ns (`/proc/PID/task/*/schedstat`): a precise
/// cross-check of the tick-granular utime+stime. `None` when the kernel does not provide it.
fn cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let s = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    (total > 0).then_some(total)
}

/// The host's (steal, total) CPU ticks over all CPUs, from `/proc/stat`. Time stolen by the
/// hypervisor for other guests shows up as slower calls and, in this VM, as extra CPU time
/// of the bot: the share is printed so a noisy run can be recognised.
fn host_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal (guest is within user)
        .filter_map(|v| v.parse().ok())
        .collect();
    (cpu.get(7).copied().unwrap_or(0), cpu.iter().sum())
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100)
}

// ---- the load -----------------------------------------------------------------------------------

/// One `/ask`: the latency to its callback, once the bot has also added its reaction.
async fn ask_once(fake: &FakeDiscord) -> Result<Duration, String> {
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    let payload = cmd.clone();
    let sent = Instant::now();
    fake.dispatch("INTERACTION_CREATE", payload);
    let cb = fake.wait_callback(&cmd, WAIT).await;
    let latency = cb.at.saturating_duration_since(sent);
    // 200 with `?with_response=true` (the bot's /ask asks for the created message), 204 without.
    if !matches!(cb.status, 200 | 204) || cb.body["type"] != 4 {
        return Err(format!("callback answered {}: {}", cb.status, cb.body));
    }
    // Every earlier call's reaction arrived before `sent`, so this is this call's.
    let is_reaction =
        |r: &Recorded| r.at > sent && r.is("PUT", "/channels/") && r.path.contains("/reactions/");
    let reaction = fake.wait_for(is_reaction, WAIT).await;
    if reaction.status != 204 {
        return Err(format!("reaction PUT answered {}", reaction.status));
    }
    Ok(latency)
}

/// One `/practice` from seeded member `i`: the latency to its (ephemeral) callback.
async fn practice_once(fake: &FakeDiscord, i: u64) -> Result<Duration, String> {
    let user = support::TestUser::new(support::bot::bench_member(i), "learner");
    let cmd = fake.slash_command("practice", &[], json!({}), &user, CHANNEL_ID);
    let payload = cmd.clone();
    let sent = Instant::now();
    fake.dispatch("INTERACTION_CREATE", payload);
    let cb = fake.wait_callback(&cmd, WAIT).await;
    if !matches!(cb.status, 200 | 204) || cb.body["type"] != 4 {
        return Err(format!("callback answered {}: {}", cb.status, cb.body));
    }
    Ok(cb.at.saturating_duration_since(sent))
}

/// One call of the measured kind.
async fn call_once(fake: &FakeDiscord, args: &Args, i: usize) -> Result<Duration, String> {
    if args.practice_members > 0 {
        practice_once(fake, i as u64 % args.practice_members).await
    } else {
        ask_once(fake).await
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

async fn run(args: Args) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::Builder::new()
        .prefix("ask_latency-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let mut bot = spawn_bot(&fake, dir.path(), args.practice_members);
    let pid = bot.pid();

    // READY, then the command registration PUT.
    let deadline = Instant::now() + WAIT;
    while fake.count(is_registration) == 0 {
        bot.check_alive();
        assert!(
            Instant::now() < deadline,
            "the bot did not register its commands within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fake.wait_ready(WAIT).await;
    let ready_at = Instant::now();
    tokio::time::sleep(SETTLE).await;
    bot.check_alive();
    let rss_ready = status_kib(pid, "VmRSS");
    let (anon_ready, file_ready) = (status_kib(pid, "RssAnon"), status_kib(pid, "RssFile"));

    let mut errors = Vec::new();
    for i in 0..args.warmup {
        if let Err(e) = call_once(&fake, &args, i).await {
            errors.push(e);
        }
    }

    let (ticks0, ns0, host0) = (cpu_ticks(pid), cpu_ns(pid), host_ticks());
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(args.calls);
    for i in 0..args.calls {
        // Other members than the warm-up's: their cards are not in SQLite's page cache yet.
        match call_once(&fake, &args, args.warmup + i).await {
            Ok(l) => latencies.push(l),
            Err(e) => errors.push(e),
        }
    }
    let wall = started.elapsed();
    let (ticks1, ns1, host1) = (cpu_ticks(pid), cpu_ns(pid), host_ticks());
    let rss_load = status_kib(pid, "VmRSS");
    let (anon_load, file_load) = (status_kib(pid, "RssAnon"), status_kib(pid, "RssFile"));
    let rss_peak = status_kib(pid, "VmHWM");
    bot.check_alive();
    let log = std::fs::read_to_string(&bot.log).unwrap_or_default();
    drop(bot); // kills the bot

    latencies.sort();
    if latencies.is_empty() {
        let first: Vec<String> = errors
            .iter()
            .take(3)
            .map(|e| e.chars().take(500).collect())
            .collect();
        eprintln!(
            "ask_latency: no /ask succeeded ({} errors), first: {first:#?}",
            errors.len()
        );
        std::process::exit(1);
    }
    let n = args.calls as f64;
    let hz = clock_ticks_per_second();
    let cpu_ms = (ticks1 - ticks0) as f64 * 1000.0 / hz as f64 / n;
    let cpu_ns_ms = ns0.zip(ns1).map(|(a, b)| (b - a) as f64 / 1e6 / n);
    let p99 = ms(percentile(&latencies, 99.0));
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;

    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!();
    let what = if args.practice_members > 0 {
        "/practice"
    } else {
        "/ask"
    };
    println!(
        "prepbot {what} bench: release binary against the fake Discord on loopback, {} \
         sequential {what} after {} warm-up",
        args.calls, args.warmup
    );
    if args.practice_members > 0 {
        let db = std::fs::metadata(dir.path().join("prepbot.db")).map_or(0, |m| m.len());
        println!(
            "database: {} members' practice cards, {:.0} MiB",
            args.practice_members,
            db as f64 / (1024.0 * 1024.0)
        );
    }
    println!("binary: {}", bot_binary().display());
    let steal = (host1.0 - host0.0) as f64 * 100.0 / (host1.1 - host0.1).max(1) as f64;
    println!(
        "host: {cpus} CPUs, load average {} | CLK_TCK {hz} | load took {:.2} s ({:.0} /ask per s) \
         | steal {steal:.1}%",
        load.join(" "),
        wall.as_secs_f64(),
        n / wall.as_secs_f64()
    );
    if steal > 5.0 {
        println!(
            "warning: the hypervisor took {steal:.0}% of the CPU time during the load; latency \
             and CPU figures are inflated, run again when the host is quieter"
        );
    }
    println!();
    println!("{:<38} {:>10}   {:<12}", "metric", "value", "target");
    println!("{}", "-".repeat(66));
    // Labels name the measured command: `/ask`, or `/practice` with --practice-members.
    let row = |name: &str, value: String, target: &str| {
        let name = name.replace("/ask", what);
        println!("{name:<38} {value:>10}   {target}");
    };
    row(
        "/ask → callback latency p50",
        format!("{:.3} ms", ms(percentile(&latencies, 50.0))),
        "",
    );
    row(
        "/ask → callback latency p90",
        format!("{:.3} ms", ms(percentile(&latencies, 90.0))),
        "",
    );
    row(
        "/ask → callback latency p99",
        format!("{p99:.3} ms"),
        &format!("≤ {TARGET_P99_MS} ms    {}", verdict(p99 <= TARGET_P99_MS)),
    );
    row(
        "/ask → callback latency max",
        format!("{:.3} ms", ms(latencies[latencies.len() - 1])),
        "",
    );
    row(
        "/ask → callback latency mean",
        format!("{:.3} ms", ms(mean)),
        "",
    );
    row(
        "bot CPU per /ask (utime+stime)",
        format!("{cpu_ms:.3} ms"),
        &format!("≤ {TARGET_CPU_MS} ms  {}", verdict(cpu_ms <= TARGET_CPU_MS)),
    );
    if let Some(c) = cpu_ns_ms {
        row(
            "bot CPU per /ask (schedstat, precise)",
            format!("{c:.3} ms"),
            "",
        );
    }
    row(
        "bot RSS after READY (+1 s)",
        format!("{:.1} MiB", mib(rss_ready)),
        &format!(
            "≤ {TARGET_RSS_MIB} MiB  {}",
            verdict(mib(rss_ready) <= TARGET_RSS_MIB)
        ),
    );
    row(
        "bot RSS after the load",
        format!("{:.1} MiB", mib(rss_load)),
        "",
    );
    row(
        "bot peak RSS (VmHWM)",
        format!("{:.1} MiB", mib(rss_peak)),
        "",
    );
    println!("{}", "-".repeat(66));
    println!(
        "RSS = anon (heap, stacks) + file (mapped binary and libraries): after READY \
         {:.1} + {:.1} MiB, after the load {:.1} + {:.1} MiB",
        mib(anon_ready),
        mib(file_ready),
        mib(anon_load),
        mib(file_load)
    );
    println!(
        "{what} failures: {} | bot log lines (RUST_LOG=warn): {} | bot up {:.1} s",
        errors.len(),
        log.lines().count(),
        ready_at.elapsed().as_secs_f64()
    );
    for e in errors.iter().take(5) {
        println!("  failure: {e}");
    }
    for l in log.lines().take(5) {
        println!("  bot: {l}");
    }
    println!("(targets are informational: a miss does not fail the bench)");
}
