//! `/ask` latency, CPU and memory of the release bot against the fake Discord, side by side
//! with a bare poise bot's `/ping` in the same run.
//!
//! `cargo bench --bench ask_latency [-- --calls N --rounds N --warmup N]` builds the release
//! binary and the bare peer (`examples/bare_ping.rs`, same profile), starts a fake Discord
//! (`tests/support`) for each in this process and both bots as child processes (prepbot with
//! its own config in a temp dir: `discord.api_base` = its fake, the shipped question bank, a
//! fresh database). After READY and command registration it reads both bots' RSS, warms both
//! up (`--warmup`, 50 calls each), then runs `--rounds` (5) rounds of `--calls / --rounds`
//! calls per bot, alternating which bot goes first, one call at a time. Absolute figures on a
//! shared machine move 3–4× from day to day; measured in alternating rounds, the ratios do
//! not. It prints, for prepbot and the peer and their ratio:
//!
//! - latency: from just before the fake sends INTERACTION_CREATE to the moment its REST handler
//!   receives the bot's `POST /interactions/{id}/{token}/callback` (p50/p90/p99/max);
//! - CPU per call: time on CPU of the bot's threads (`/proc/PID/task/*/schedstat`) over the
//!   measured calls, divided by their number. Each `/ask` also costs the bot the 💡 reaction
//!   `PUT` after the callback; that is included, and call i+1 is only sent once the reaction of
//!   call i has arrived, so the calls never overlap;
//! - RSS (`VmRSS`) after READY and after the load, split into anonymous memory and
//!   file-backed pages (mostly the executable's own code).
//!
//! `--practice-members N` measures `/practice` instead: before the bot starts, its database is
//! filled with N members' practice cards for every question of the full shipped bank
//! (`questions.toml` and `questions/`; 10,000 × 255 ≈ 2.5 M rows), and the calls are
//! `/practice` from those members in turn, timed to their callback.
//!
//! The fakes run in this process on one thread, so their work is not counted as the bots'.
//! `PREPBOT_BIN=path` measures another build of the bot, `BARE_BIN=path` another peer. The
//! targets are printed with ✓/✗ for information; a miss never fails the run. Outside
//! `cargo bench` (e.g. `cargo test --benches`) it does nothing, so CI only builds it.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use support::bot::copy_bank;
use support::{FakeDiscord, Recorded, CHANNEL_ID, MEMBER};

/// Pause after registration before the "after READY" RSS reading, for start-up work to end.
const SETTLE: Duration = Duration::from_secs(1);

/// prepbot over the bare peer, for CPU per call and p99 latency (issue 11).
const TARGET_RATIO: f64 = 1.3;
const TARGET_RSS_MIB: f64 = 15.0;

struct Args {
    calls: usize,
    rounds: usize,
    warmup: usize,
    /// `/practice` from this many seeded members instead of `/ask` (0: `/ask`).
    practice_members: u64,
}

fn main() {
    if !is_bench_run() {
        println!(
            "ask_latency: skipped outside `cargo bench` (run `cargo bench --bench ask_latency`)"
        );
        return;
    }
    let args = Args {
        calls: arg("--calls", 1000usize).max(1),
        rounds: arg("--rounds", 5usize).max(1),
        warmup: arg("--warmup", 50usize),
        practice_members: arg("--practice-members", 0u64),
    };
    // One thread for the fakes and the driver: the bot gets the other core to itself.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(args));
}

// The seeded due dates are relative to the real clock, which the bot reads too.
#[allow(clippy::disallowed_methods)]
fn prepare_prepbot_dir(dir: &Path, practice_members: u64) -> &'static str {
    copy_bank(dir);
    if practice_members == 0 {
        return "[\"questions.toml\"]";
    }
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
}

// ---- the calls ----------------------------------------------------------------------------------

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
    callback_latency(fake, cmd).await
}

/// One `/ping` to the bare peer.
async fn ping_once(fake: &FakeDiscord) -> Result<Duration, String> {
    let cmd = fake.slash_command("ping", &[], json!({}), &MEMBER, CHANNEL_ID);
    callback_latency(fake, cmd).await
}

/// Sends `cmd` and times it to its message callback.
async fn callback_latency(fake: &FakeDiscord, cmd: serde_json::Value) -> Result<Duration, String> {
    let sent = Instant::now();
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    if !matches!(cb.status, 200 | 204) || cb.body["type"] != 4 {
        return Err(format!("callback answered {}: {}", cb.status, cb.body));
    }
    Ok(cb.at.saturating_duration_since(sent))
}

/// A bot under test with its fake and what was measured of it.
struct Subject {
    bot: BotProcess,
    fake: FakeDiscord,
    latencies: Vec<Duration>,
    cpu_ms: f64,
    calls: usize,
    errors: Vec<String>,
    ready: Sample,
}

impl Subject {
    async fn call(&mut self, practice_members: u64, i: usize) {
        let result = match (self.bot.name, practice_members) {
            ("bare", _) => ping_once(&self.fake).await,
            (_, 0) => ask_once(&self.fake).await,
            (_, n) => practice_once(&self.fake, i as u64 % n).await,
        };
        match result {
            Ok(l) => self.latencies.push(l),
            Err(e) => self.errors.push(e),
        }
    }

    /// One measured round of `n` calls; call numbers start at `first`.
    async fn round(&mut self, practice_members: u64, first: usize, n: usize) {
        let before = self.bot.sample();
        for i in first..first + n {
            self.call(practice_members, i).await;
        }
        self.cpu_ms += self.bot.sample().cpu_ms_since(&before);
        self.calls += n;
        // The fake's log is scanned from the start by every wait: keep it short.
        self.fake.take_requests();
        self.bot.check_alive();
    }

    fn cpu_per_call(&self) -> f64 {
        self.cpu_ms / self.calls.max(1) as f64
    }

    fn p(&self, p: f64) -> f64 {
        ms(percentile(&self.latencies, p))
    }
}

async fn run(args: Args) {
    let bare_bin = bare_binary();
    let dir = tempfile::Builder::new()
        .prefix("ask_latency-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let (prep_dir, bare_dir) = (dir.path().join("prepbot"), dir.path().join("bare"));
    std::fs::create_dir_all(&prep_dir).expect("prepbot dir");
    std::fs::create_dir_all(&bare_dir).expect("bare dir");
    let paths = prepare_prepbot_dir(&prep_dir, args.practice_members);

    let mut subjects = Vec::new();
    for name in ["prepbot", "bare"] {
        let fake = FakeDiscord::start().await;
        let mut bot = if name == "prepbot" {
            spawn_prepbot(&fake, &prep_dir, paths)
        } else {
            spawn_bare(&fake, &bare_bin, &bare_dir)
        };
        bot.wait_registered(&fake).await;
        fake.take_requests();
        subjects.push(Subject {
            ready: bot.sample(),
            bot,
            fake,
            latencies: Vec::new(),
            cpu_ms: 0.0,
            calls: 0,
            errors: Vec::new(),
        });
    }
    tokio::time::sleep(SETTLE).await;
    for s in subjects.iter_mut() {
        s.ready = s.bot.sample();
        for i in 0..args.warmup {
            s.call(args.practice_members, i).await;
        }
        s.latencies.clear();
        s.fake.take_requests();
    }

    let per_round = args.calls.div_ceil(args.rounds);
    let (host0, started) = (host_ticks(), Instant::now());
    for r in 0..args.rounds {
        // Alternate who goes first, so neither always meets a warmer (or busier) host.
        let order: [usize; 2] = if r % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            // Other members than the warm-up's: their cards are not in SQLite's page cache yet.
            subjects[k]
                .round(
                    args.practice_members,
                    args.warmup + r * per_round,
                    per_round,
                )
                .await;
        }
    }
    let wall = started.elapsed();
    let steal = steal_percent(host0, host_ticks());
    let after: Vec<Sample> = subjects.iter().map(|s| s.bot.sample()).collect();
    for s in subjects.iter_mut() {
        s.latencies.sort();
        if s.latencies.is_empty() {
            eprintln!(
                "ask_latency: no call to {} succeeded; first errors: {:#?}",
                s.bot.name,
                s.errors.iter().take(3).collect::<Vec<_>>()
            );
            std::process::exit(1);
        }
    }
    let (p, b) = (&subjects[0], &subjects[1]);

    let what = if args.practice_members > 0 {
        "/practice"
    } else {
        "/ask"
    };
    println!();
    println!(
        "prepbot {what} vs bare poise /ping: release binaries against fake Discords on loopback, \
         {} rounds of {per_round} sequential calls each, alternating, after {} warm-up",
        args.rounds, args.warmup
    );
    if args.practice_members > 0 {
        let db = std::fs::metadata(prep_dir.join("prepbot.db")).map_or(0, |m| m.len());
        println!(
            "database: {} members' practice cards, {:.0} MiB",
            args.practice_members,
            db as f64 / (1024.0 * 1024.0)
        );
    }
    println!(
        "binaries: {} | {}",
        prepbot_binary().display(),
        bare_bin.display()
    );
    println!(
        "host: {} | load took {:.2} s | steal {steal:.1}%",
        host_line(),
        wall.as_secs_f64()
    );
    if steal > 5.0 {
        println!(
            "warning: the hypervisor took {steal:.0}% of the CPU time during the load; run again \
             when the host is quieter"
        );
    }
    println!();
    println!(
        "{:<30} {:>11} {:>11} {:>7}   target",
        "metric",
        format!("prepbot {what}"),
        "bare /ping",
        "ratio"
    );
    println!("{}", "-".repeat(76));
    let row = |name: &str, pv: f64, bv: f64, unit: &str, target: Option<f64>| {
        let ratio = pv / bv.max(1e-9);
        let t = target.map_or(String::new(), |t| {
            format!("≤ {t}×  {}", verdict(ratio <= t))
        });
        println!("{name:<30} {pv:>8.3} {unit} {bv:>8.3} {unit} {ratio:>6.2}×   {t}");
    };
    row("latency p50", p.p(50.0), b.p(50.0), "ms", None);
    row("latency p90", p.p(90.0), b.p(90.0), "ms", None);
    row(
        "latency p99",
        p.p(99.0),
        b.p(99.0),
        "ms",
        Some(TARGET_RATIO),
    );
    row("latency max", p.p(100.0), b.p(100.0), "ms", None);
    row(
        "CPU per call (schedstat)",
        p.cpu_per_call(),
        b.cpu_per_call(),
        "ms",
        Some(TARGET_RATIO),
    );
    row(
        "RSS after READY (+1 s)",
        mib(p.ready.rss_kib),
        mib(b.ready.rss_kib),
        "MB",
        None,
    );
    row(
        "RSS after the load",
        mib(after[0].rss_kib),
        mib(after[1].rss_kib),
        "MB",
        None,
    );
    row(
        "peak RSS (VmHWM)",
        mib(after[0].hwm_kib),
        mib(after[1].hwm_kib),
        "MB",
        None,
    );
    println!("{}", "-".repeat(76));
    println!(
        "(MB = MiB) prepbot RSS after READY ≤ {TARGET_RSS_MIB} MiB {}; anon + file: after READY \
         {:.1} + {:.1}, after the load {:.1} + {:.1} (bare: {:.1} + {:.1}, {:.1} + {:.1})",
        verdict(mib(p.ready.rss_kib) <= TARGET_RSS_MIB),
        mib(p.ready.anon_kib),
        mib(p.ready.file_kib),
        mib(after[0].anon_kib),
        mib(after[0].file_kib),
        mib(b.ready.anon_kib),
        mib(b.ready.file_kib),
        mib(after[1].anon_kib),
        mib(after[1].file_kib),
    );
    for s in [p, b] {
        let log = s.bot.log();
        println!(
            "{}: {} failures | log lines (RUST_LOG=warn): {}",
            s.bot.name,
            s.errors.len(),
            log.lines().count()
        );
        for e in s.errors.iter().take(5) {
            println!("  failure: {e}");
        }
        for l in log.lines().take(5) {
            println!("  log: {l}");
        }
    }
    println!("(targets are informational: a miss does not fail the bench)");
}
