//! Bursts: 1000 concurrent `/ask`, five times in a row, and a quiz question clicked by 500
//! members within one second; prepbot's latency, CPU and RSS next to the bare poise peer's
//! (`examples/bare_ping.rs`, the same number of `/ping`) in the same run.
//!
//! `cargo bench --bench burst [-- --size 1000 --bursts 5 --clicks 500 --recover 60]`
//!
//! Each bot has its own fake Discord (`tests/support`) in this process, on one thread; the bots
//! are child processes (prepbot with the shipped `questions.toml` and a fresh database). Per
//! burst and bot, in alternating order:
//!
//! - all `--size` INTERACTION_CREATE dispatches are sent at once (the quiz burst: `--clicks`
//!   button clicks from distinct members spread evenly over one second, on one open question);
//! - latency is from a dispatch to its callback reaching the fake; every interaction must be
//!   answered within Discord's 3 s (an `/ask` also adds its 💡 reaction, waited for too);
//! - CPU per interaction is the bot's threads' time on CPU (`schedstat`) over the burst
//!   divided by its size;
//! - peak RSS is the kernel's `VmHWM`, reset before each burst (`/proc/PID/clear_refs` = 5),
//!   so it is the exact peak of that burst, not a sample.
//!
//! The quiz clicks are also sent to the bare peer as they are (it answers any click with one
//! ephemeral callback): `vs bare click` compares prepbot with a bot that parses the same
//! payload and does nothing else.
//!
//! After the five `/ask` bursts, and again after the quiz burst, both bots' RSS is sampled
//! every 5 s for `--recover` seconds: the curve shows whether memory comes back towards the
//! READY figure. Figures are informational (✓/✗); a miss never fails the run. Outside
//! `cargo bench` it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use support::bot::{bench_member, copy_bank};
use support::{FakeDiscord, Recorded, TestUser, CHANNEL_ID, MEMBER};

/// Discord's deadline for an interaction's first answer.
const DEADLINE: Duration = Duration::from_secs(3);
const TARGET_RSS_MIB: f64 = 40.0;
const TARGET_CLICK_RATIO: f64 = 1.2;
/// Pause between two bursts of the same bot.
const GAP: Duration = Duration::from_secs(3);

fn main() {
    if !is_bench_run() {
        println!("burst: skipped outside `cargo bench` (run `cargo bench --bench burst`)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

struct Bot {
    process: BotProcess,
    fake: FakeDiscord,
    ready: Sample,
}

/// What one burst of one bot gave.
struct Outcome {
    latencies: Vec<Duration>,
    /// Interactions without a callback within the wait, or answered with an error.
    unanswered: usize,
    cpu_ms: f64,
    peak_kib: u64,
    after_kib: u64,
}

impl Outcome {
    fn p(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            f64::NAN
        } else {
            ms(percentile(&self.latencies, p))
        }
    }

    fn late(&self) -> usize {
        self.unanswered + self.latencies.iter().filter(|l| **l > DEADLINE).count()
    }
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS.
fn reset_peak(pid: u32) {
    if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
        eprintln!("burst: cannot reset the peak RSS of {pid} ({e}); peaks are since start");
    }
}

/// Sends `interactions`, spread evenly over `spread` (all at once for zero), and waits until
/// each has its callback (and, for `/ask`, the 💡 reaction on its message) or 10 s passed.
async fn burst(
    bot: &mut Bot,
    interactions: Vec<Value>,
    spread: Duration,
    reactions: bool,
) -> Outcome {
    let n = interactions.len();
    let pid = bot.process.pid();
    bot.fake.take_requests();
    reset_peak(pid);
    let before = Sample::of(pid);
    let mut sent_at = HashMap::with_capacity(n);
    let start = Instant::now();
    for (i, ix) in interactions.into_iter().enumerate() {
        if !spread.is_zero() {
            let at = start + spread.mul_f64(i as f64 / n as f64);
            tokio::time::sleep_until(at.into()).await;
        }
        let id = ix["id"].as_str().expect("interaction id").to_string();
        sent_at.insert(id, Instant::now());
        bot.fake.dispatch("INTERACTION_CREATE", ix);
    }
    // Poll the log rather than wait per interaction: `wait_for` scans the whole log each time.
    let is_callback = |r: &Recorded| r.method == "POST" && r.path.starts_with("/interactions/");
    let is_reaction = |r: &Recorded| r.method == "PUT" && r.path.contains("/reactions/");
    let deadline = start + WAIT;
    let mut log = Vec::new();
    loop {
        log.extend(bot.fake.take_requests());
        let callbacks = log.iter().filter(|r| is_callback(r)).count();
        let done = log.iter().filter(|r| is_reaction(r)).count();
        if (callbacks >= n && (!reactions || done >= n)) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = Sample::of(pid);
    bot.process.check_alive();
    let mut latencies = Vec::with_capacity(n);
    for r in log.iter().filter(|r| is_callback(r)) {
        let id = r.path.split('/').nth(2).unwrap_or_default();
        let ok = matches!(r.status, 200 | 204) && r.body["type"] == 4;
        if let (true, Some(sent)) = (ok, sent_at.get(id)) {
            latencies.push(r.at.saturating_duration_since(*sent));
        }
    }
    latencies.sort();
    Outcome {
        unanswered: n - latencies.len(),
        latencies,
        // schedstat (ns) rather than 10 ms ticks: 500 clicks cost a few ticks in all.
        cpu_ms: after.cpu_ms_since(&before),
        peak_kib: after.hwm_kib,
        after_kib: after.rss_kib,
    }
}

fn member(i: usize) -> TestUser {
    TestUser::new(bench_member(i as u64), "player")
}

fn asks(fake: &FakeDiscord, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID))
        .collect()
}

fn pings(fake: &FakeDiscord, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| fake.slash_command("ping", &[], json!({}), &member(i), CHANNEL_ID))
        .collect()
}

/// Starts a one-question round of 60 s and returns its open question message.
async fn open_quiz_question(fake: &FakeDiscord) -> Value {
    let cmd = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": 1, "seconds": 60}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "/quiz start: {}", cb.body);
    let deadline = Instant::now() + WAIT;
    loop {
        let question = fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Quiz · question 1/"))
        });
        if let Some(q) = question {
            return q;
        }
        assert!(
            Instant::now() < deadline,
            "no quiz question within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One click per member on the question's buttons, members spread over the four choices.
fn clicks(fake: &FakeDiscord, question: &Value, n: usize) -> Vec<Value> {
    let buttons: Vec<String> = question["components"][0]["components"]
        .as_array()
        .expect("quiz buttons")
        .iter()
        .map(|b| b["custom_id"].as_str().expect("custom_id").to_string())
        .collect();
    (0..n)
        .map(|i| {
            fake.button_click(
                &buttons[i % buttons.len()],
                question,
                &member(i),
                CHANNEL_ID,
            )
        })
        .collect()
}

/// Samples both bots' RSS every 5 s for `secs` and prints the curve.
async fn recovery(bots: &[Bot], secs: u64) {
    println!("RSS after the bursts, every 5 s (MiB): t  prepbot  bare");
    let start = Instant::now();
    for t in (0..=secs).step_by(5) {
        tokio::time::sleep_until((start + Duration::from_secs(t)).into()).await;
        let rss: Vec<f64> = bots
            .iter()
            .map(|b| mib(status_kib(b.process.pid(), "VmRSS")))
            .collect();
        println!("  {t:>3} s  {:>6.1}  {:>6.1}", rss[0], rss[1]);
    }
    for b in bots {
        println!(
            "  {}: after READY {:.1} MiB, now {:.1} MiB",
            b.process.name,
            mib(b.ready.rss_kib),
            mib(status_kib(b.process.pid(), "VmRSS"))
        );
    }
}

fn print_burst(label: &str, p: &Outcome, b: &Outcome, n: usize, cpu_target: Option<f64>) {
    let (pc, bc) = (p.cpu_ms / n as f64, b.cpu_ms / n as f64);
    let ratio = pc / bc.max(1e-9);
    println!(
        "{label:<14} p50 {:>7.1} / {:>7.1} ms  p99 {:>7.1} / {:>7.1} ms  max {:>7.1} / {:>7.1} ms  \
         late {}/{}  CPU {:.3} / {:.3} ms ({ratio:.2}×{})  peak {:>5.1} {} / {:>5.1} MiB  after {:>5.1} / {:>5.1} MiB",
        p.p(50.0),
        b.p(50.0),
        p.p(99.0),
        b.p(99.0),
        p.p(100.0),
        b.p(100.0),
        p.late(),
        b.late(),
        pc,
        bc,
        cpu_target.map_or(String::new(), |t| format!(" ≤ {t}× {}", verdict(ratio <= t))),
        mib(p.peak_kib),
        verdict(mib(p.peak_kib) <= TARGET_RSS_MIB),
        mib(b.peak_kib),
        mib(p.after_kib),
        mib(b.after_kib),
    );
}

async fn run() {
    let size = arg("--size", 1000usize).max(1);
    let bursts = arg("--bursts", 5usize).max(1);
    let click_count = arg("--clicks", 500usize).max(1);
    let recover = arg("--recover", 60u64);

    let bare_bin = bare_binary();
    let dir = tempfile::Builder::new()
        .prefix("burst-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let mut bots = Vec::new();
    for name in ["prepbot", "bare"] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).expect("bot dir");
        let fake = FakeDiscord::start().await;
        let mut process = if name == "prepbot" {
            copy_bank(&sub);
            spawn_prepbot(&fake, &sub, "[\"questions.toml\"]")
        } else {
            spawn_bare(&fake, &bare_bin, &sub)
        };
        process.wait_registered(&fake).await;
        bots.push(Bot {
            ready: process.sample(),
            process,
            fake,
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for b in bots.iter_mut() {
        b.ready = b.process.sample();
        b.fake.take_requests();
    }
    println!();
    println!(
        "prepbot vs bare poise bot under bursts: {bursts} × {size} concurrent /ask (bare: /ping), \
         then {click_count} quiz clicks from distinct members within 1 s (bare: /ping)"
    );
    println!(
        "binaries: {} | {}",
        prepbot_binary().display(),
        bare_bin.display()
    );
    println!("host: {}", host_line());
    println!(
        "RSS after READY: prepbot {:.1} MiB, bare {:.1} MiB",
        mib(bots[0].ready.rss_kib),
        mib(bots[1].ready.rss_kib)
    );
    println!("each figure: prepbot / bare; peak = VmHWM during the burst; target peak ≤ {TARGET_RSS_MIB} MiB");
    let host0 = host_ticks();
    for i in 0..bursts {
        let mut out: [Option<Outcome>; 2] = [None, None];
        let order: [usize; 2] = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let bot = &mut bots[k];
            let ixs = if k == 0 {
                asks(&bot.fake, size)
            } else {
                pings(&bot.fake, size)
            };
            out[k] = Some(burst(bot, ixs, Duration::ZERO, k == 0).await);
            tokio::time::sleep(GAP).await;
        }
        let [Some(p), Some(b)] = out else {
            unreachable!()
        };
        print_burst(&format!("/ask burst {}", i + 1), &p, &b, size, None);
    }
    recovery(&bots, recover).await;

    // The quiz night: one question open, every member clicks within a second.
    let question = open_quiz_question(&bots[0].fake).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ixs = clicks(&bots[0].fake, &question, click_count);
    let p = burst(&mut bots[0], ixs, Duration::from_secs(1), false).await;
    let ixs = pings(&bots[1].fake, click_count);
    let b = burst(&mut bots[1], ixs, Duration::from_secs(1), false).await;
    print_burst("quiz clicks", &p, &b, click_count, Some(TARGET_CLICK_RATIO));
    // The same clicks, payload and all, answered by the bare peer: how much of the gap is
    // the payload (a click carries its whole message, a /ping does not) and how much is ours.
    tokio::time::sleep(GAP).await;
    let ixs = clicks(&bots[1].fake, &question, click_count);
    let c = burst(&mut bots[1], ixs, Duration::from_secs(1), false).await;
    print_burst("  vs bare click", &p, &c, click_count, None);
    recovery(&bots, recover).await;
    println!(
        "steal during the run {:.1}% | answered within {DEADLINE:?}: late counts above",
        steal_percent(host0, host_ticks())
    );
    for b in &bots {
        let log = b.process.log();
        println!(
            "{}: log lines (RUST_LOG=warn): {}",
            b.process.name,
            log.lines().count()
        );
        for l in log.lines().take(5) {
            println!("  log: {l}");
        }
    }
    println!("(targets are informational: a miss does not fail the bench)");
}
