//! A big bank: 100,000 generated questions. How long they take to load and validate, how long
//! the bot takes from process start to registered commands, and `/ask` with filters and
//! autocomplete against them, next to the shipped bank and the bare poise peer in one run.
//!
//! `cargo bench --bench big_bank [-- --questions 100000 --files 50 --calls 600 --keys 600]`
//!
//! The bank is generated at run time in a temp dir (`--files` files of 40 categories, 400
//! tags, three difficulties; each question with the fields a real one has: tags, difficulty,
//! a few sentences of answer, key points, a quiz answer and three distractors). Then:
//!
//! - `Bank::load` of it in this process (the bench profile's optimisation), best of three;
//! - start-up: prepbot on the big bank, prepbot on the shipped bank and the bare peer
//!   (`examples/bare_ping.rs`) each timed from spawning the process to its command
//!   registration reaching its fake Discord;
//! - `/ask` with a category and difficulty filter, alternating between the big-bank bot and
//!   the shipped-bank bot in rounds, timed to the callback (p50/p99) with the bot's CPU;
//! - autocomplete (category, tag and question id, for growing prefixes of a word as typed,
//!   and a word found only in question texts), timed to the callback, on both bots.
//!
//! Figures are informational (✓/✗); a miss never fails the run. Outside `cargo bench` it does
//! nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use prepbot::bank::Bank;
use serde_json::{json, Value};
use support::bot::copy_bank;
use support::{FakeDiscord, CHANNEL_ID, MEMBER};

const CATEGORIES: usize = 40;
const TAGS: usize = 400;
const TARGET_LOAD: Duration = Duration::from_secs(1);
const TARGET_STARTUP: Duration = Duration::from_secs(1);
const TARGET_AUTOCOMPLETE_P99_MS: f64 = 5.0;

fn main() {
    if !is_bench_run() {
        println!("big_bank: skipped outside `cargo bench` (run `cargo bench --bench big_bank`)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run());
}

const WORDS: [&str; 24] = [
    "index",
    "replica",
    "queue",
    "cache",
    "shard",
    "lock",
    "thread",
    "socket",
    "schema",
    "latency",
    "backoff",
    "quorum",
    "ledger",
    "cursor",
    "buffer",
    "token",
    "channel",
    "cluster",
    "deadline",
    "snapshot",
    "journal",
    "partition",
    "consensus",
    "pipeline",
];

/// Writes `questions` generated questions into `files` files under `dir`; returns their
/// total size in bytes. Deterministic: question `i` is always the same.
fn generate(dir: &Path, questions: usize, files: usize) -> u64 {
    std::fs::create_dir_all(dir).expect("bank dir");
    let per_file = questions.div_ceil(files);
    let mut total = 0;
    for f in 0..files {
        let mut s = String::with_capacity(per_file * 900);
        for i in f * per_file..((f + 1) * per_file).min(questions) {
            let w = |k: usize| WORDS[(i / 7 + k * 5) % WORDS.len()];
            let cat = i % CATEGORIES;
            let diff = ["easy", "medium", "hard"][i % 3];
            let (t1, t2) = ((i * 7) % TAGS, (i * 13 + 1) % TAGS);
            let tags = if t1 == t2 {
                format!("\"tag-{t1:03}\"")
            } else {
                format!("\"tag-{t1:03}\", \"tag-{t2:03}\"")
            };
            writeln!(
                s,
                "[[question]]\nid = \"{a}-{b}-q{i}\"\ncategory = \"topic-{cat:02}\"\n\
                 difficulty = \"{diff}\"\ntags = [{tags}]\n\
                 question = \"How would you use a {a} with a {b} in service {i}, and what can go \
                 wrong under load?\"\n\
                 answer = \"\"\"\nA {a} keeps the hot path short for service {i}: reads go to \
                 it first and fall back to the {b}.\nUnder load the {b} becomes the bottleneck, \
                 so bound it, measure it and shed work before it queues.\nThe trade-off is \
                 freshness against cost; state it and pick per endpoint.\n\"\"\"\n\
                 key_points = [\"The {a} serves the hot path\", \"Bound the {b}\", \
                 \"Shed load before queues grow\"]\n\
                 quiz_answer = \"Bound the {b} and shed work before it queues (case {i})\"\n\
                 distractors = [\"Add more {a} replicas until latency drops (case {i})\", \
                 \"Retry every failed call at once (case {i})\", \
                 \"Disable timeouts on the {b} (case {i})\"]\n",
                a = w(0),
                b = w(1),
            )
            .expect("write to a String");
        }
        total += s.len() as u64;
        std::fs::write(dir.join(format!("bank-{f:03}.toml")), s).expect("write bank file");
    }
    total
}

/// Sends `ix` and waits for its callback; the latency, or why it failed.
async fn timed(fake: &FakeDiscord, ix: Value, want_type: u64) -> Result<Duration, String> {
    let sent = Instant::now();
    fake.dispatch("INTERACTION_CREATE", ix.clone());
    let cb = fake.wait_callback(&ix, WAIT).await;
    // An `/ask` must show a question (not an error, which is ephemeral); an autocomplete, a
    // list of choices.
    let data = &cb.body["data"];
    let shape = match want_type {
        4 => {
            data["embeds"][0]["title"].is_string() && data["flags"].as_u64().unwrap_or(0) & 64 == 0
        }
        _ => data["choices"].is_array(),
    };
    if !matches!(cb.status, 200 | 204) || cb.body["type"] != want_type || !shape {
        return Err(format!("callback answered {}: {}", cb.status, cb.body));
    }
    Ok(cb.at.saturating_duration_since(sent))
}

/// Latencies, CPU and failures of one kind of call on one bot.
#[derive(Default)]
struct Series {
    latencies: Vec<Duration>,
    cpu_ms: f64,
    errors: Vec<String>,
}

impl Series {
    fn push(&mut self, r: Result<Duration, String>) {
        match r {
            Ok(l) => self.latencies.push(l),
            Err(e) => self.errors.push(e),
        }
    }

    fn p(&mut self, p: f64) -> f64 {
        self.latencies.sort();
        if self.latencies.is_empty() {
            f64::NAN
        } else {
            ms(percentile(&self.latencies, p))
        }
    }

    fn cpu_per_call(&self) -> f64 {
        self.cpu_ms / (self.latencies.len() + self.errors.len()).max(1) as f64
    }
}

/// What a member types into an option, keystroke by keystroke.
fn keystrokes(word: &str) -> Vec<String> {
    (0..=word.len()).map(|n| word[..n].to_string()).collect()
}

async fn run() {
    let questions = arg("--questions", 100_000usize);
    let files = arg("--files", 50usize).max(1);
    let calls = arg("--calls", 600usize).max(1);
    let keys = arg("--keys", 600usize).max(1);
    let rounds = 3;

    let dir = tempfile::Builder::new()
        .prefix("big_bank-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let big = dir.path().join("big");
    let started = Instant::now();
    let bytes = generate(&big.join("bank"), questions, files);
    let generated = started.elapsed();

    let mut load = Duration::MAX;
    let mut loaded = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let bank = Bank::load(&[big.join("bank")]).expect("the generated bank loads");
        load = load.min(t.elapsed());
        loaded = bank.len();
    }

    let bare_bin = bare_binary();
    let shipped = dir.path().join("shipped");
    let bare_dir = dir.path().join("bare");
    std::fs::create_dir_all(&shipped).expect("dir");
    std::fs::create_dir_all(&bare_dir).expect("dir");
    copy_bank(&shipped);

    // Start-up, one at a time so they do not compete for the CPU.
    let mut bots = Vec::new();
    let mut startups = Vec::new();
    for (name, bank_dir, paths) in [
        ("big", &big, "[\"bank\"]"),
        ("shipped", &shipped, "[\"questions.toml\", \"questions\"]"),
    ] {
        let fake = FakeDiscord::start().await;
        let mut bot = spawn_prepbot(&fake, bank_dir, paths);
        startups.push((name, bot.wait_registered(&fake).await));
        fake.take_requests();
        bots.push((bot, fake));
    }
    let bare_startup = {
        let fake = FakeDiscord::start().await;
        let mut bot = spawn_bare(&fake, &bare_bin, &bare_dir);
        bot.wait_registered(&fake).await
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    // /ask with filters, in alternating rounds.
    let filters = [
        // Difficulty is a choice: Discord sends its index (easy 0, medium 1, hard 2).
        json!({"category": "topic-07", "difficulty": 2}),
        json!({"category": "databases", "difficulty": 1}),
    ];
    let mut asks = [Series::default(), Series::default()];
    for r in 0..rounds {
        let order: [usize; 2] = if r % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let (bot, fake) = &bots[k];
            let before = bot.sample();
            for _ in 0..calls.div_ceil(rounds) {
                let ix = fake.slash_command("ask", &[], filters[k].clone(), &MEMBER, CHANNEL_ID);
                asks[k].push(timed(fake, ix, 4).await);
            }
            asks[k].cpu_ms += bot.sample().cpu_ms_since(&before);
            fake.take_requests();
        }
    }

    // Autocomplete: what a member types, keystroke by keystroke, cycling over the options.
    let typed: Vec<(&str, String)> = ["index", "cluster", "topic-1", "tag-12", "load", "zzz"]
        .iter()
        .flat_map(|w| {
            keystrokes(w)
                .into_iter()
                .flat_map(|k| [("id", k.clone()), ("category", k.clone()), ("tag", k)])
        })
        .collect();
    let mut completes = [Series::default(), Series::default()];
    // The big bank's latencies per option, for where a slow one comes from.
    let mut per_option: Vec<(&str, Series)> = ["id", "category", "tag"]
        .iter()
        .map(|o| (*o, Series::default()))
        .collect();
    for (k, (bot, fake)) in bots.iter().enumerate() {
        let before = bot.sample();
        for i in 0..keys {
            let (option, partial) = &typed[i % typed.len()];
            let mut options = serde_json::Map::new();
            options.insert(option.to_string(), json!(partial));
            let ix = fake.autocomplete(
                "ask",
                &[],
                Value::Object(options),
                option,
                &MEMBER,
                CHANNEL_ID,
            );
            let result = timed(fake, ix, 8).await;
            if let (0, Ok(l)) = (k, &result) {
                if let Some((_, series)) = per_option.iter_mut().find(|(o, _)| o == option) {
                    series.push(Ok(*l));
                }
            }
            completes[k].push(result);
        }
        completes[k].cpu_ms += bot.sample().cpu_ms_since(&before);
        fake.take_requests();
    }
    let rss: Vec<f64> = bots
        .iter()
        .map(|(b, _)| mib(status_kib(b.pid(), "VmRSS")))
        .collect();

    println!();
    println!(
        "prepbot with a generated bank of {questions} questions ({files} files, {:.1} MiB, \
         generated in {:.1} s) vs the shipped bank (255) and the bare poise peer",
        bytes as f64 / (1024.0 * 1024.0),
        generated.as_secs_f64()
    );
    println!(
        "binaries: {} | {}",
        prepbot_binary().display(),
        bare_bin.display()
    );
    println!("host: {}", host_line());
    println!();
    println!(
        "Bank::load + validation of {loaded} questions: {:.0} ms ({:.0} MiB/s)   target < {} ms {}",
        ms(load),
        bytes as f64 / (1024.0 * 1024.0) / load.as_secs_f64(),
        TARGET_LOAD.as_millis(),
        verdict(load < TARGET_LOAD)
    );
    for (name, t) in &startups {
        let target = if *name == "big" {
            format!(
                "  target < {} ms {}",
                TARGET_STARTUP.as_millis(),
                verdict(*t < TARGET_STARTUP)
            )
        } else {
            String::new()
        };
        println!(
            "start-up to commands registered, {name} bank: {:.0} ms ({:.2}× the bare peer's {:.0} ms){target}",
            ms(*t),
            t.as_secs_f64() / bare_startup.as_secs_f64(),
            ms(bare_startup)
        );
    }
    println!();
    println!(
        "{:<40} {:>14} {:>14} {:>7}",
        "", "big bank", "shipped bank", "ratio"
    );
    let [a0, a1] = &mut asks;
    let (p50, q50) = (a0.p(50.0), a1.p(50.0));
    let (p99, q99) = (a0.p(99.0), a1.p(99.0));
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×",
        "/ask category+difficulty p50",
        p50,
        q50,
        p50 / q50
    );
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×  target ≤ 1× {}",
        "/ask category+difficulty p99",
        p99,
        q99,
        p99 / q99,
        // "No worse": within the run-to-run noise of a p99 on this host.
        verdict(p99 <= q99 * 1.1)
    );
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×",
        "/ask bot CPU per call",
        a0.cpu_per_call(),
        a1.cpu_per_call(),
        a0.cpu_per_call() / a1.cpu_per_call()
    );
    let [c0, c1] = &mut completes;
    let (p50, q50) = (c0.p(50.0), c1.p(50.0));
    let (p99, q99) = (c0.p(99.0), c1.p(99.0));
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×",
        "autocomplete p50",
        p50,
        q50,
        p50 / q50
    );
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×  target < {TARGET_AUTOCOMPLETE_P99_MS} ms {}",
        "autocomplete p99",
        p99,
        q99,
        p99 / q99,
        verdict(p99 < TARGET_AUTOCOMPLETE_P99_MS)
    );
    for (option, series) in per_option.iter_mut() {
        println!(
            "{:<40} {:>11.3} ms (p50 {:.3} ms)",
            format!("autocomplete {option} p99, big bank"),
            series.p(99.0),
            series.p(50.0)
        );
    }
    println!(
        "{:<40} {:>11.3} ms {:>11.3} ms {:>6.2}×",
        "autocomplete bot CPU per call",
        c0.cpu_per_call(),
        c1.cpu_per_call(),
        c0.cpu_per_call() / c1.cpu_per_call()
    );
    println!(
        "{:<40} {:>11.1} MB {:>11.1} MB",
        "bot RSS after the calls", rss[0], rss[1]
    );
    for (k, name) in ["big", "shipped"].iter().enumerate() {
        let errors: Vec<&String> = asks[k].errors.iter().chain(&completes[k].errors).collect();
        println!("{name}: {} failures", errors.len());
        for e in errors.iter().take(3) {
            println!("  failure: {e}");
        }
        for l in bots[k].0.log().lines().take(3) {
            println!("  log: {l}");
        }
    }
    println!("(targets are informational: a miss does not fail the bench)");
}
