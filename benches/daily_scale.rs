//! Daily posts at scale: 10,000 guild schedules in one process, against the fake Discord.
//!
//! `cargo bench --bench daily_scale [-- --guilds N --only idle|burst --no-threads]` starts the
//! fake Discord in this process and the bot binary as a child (its own config and database in
//! a temp dir), and measures two things:
//!
//! 1. **idle**: N schedules, two of them due at the next two minute boundaries and the rest
//!    spread over the other hours of the day. The bot's RSS after READY (against the same
//!    binary with no schedule, started in the same run: the ratio is what N schedules cost),
//!    and the daily scheduler's passes over the two minutes, from its debug line ("daily
//!    scheduler pass", with why it woke and how many posts it started). An *idle* pass is one
//!    its timer woke that started nothing: the target is none (the scheduler sleeps until the
//!    next fire time; a pass a finished post wakes re-plans, it is not idle).
//! 2. **burst**: N schedules due at the same minute, the fake enforcing Discord's global limit
//!    of 50 requests/s with its 429s (`global: true`). The time from the fire time to the last
//!    post created (Discord's limit alone makes it N/50 s: 200 s for 10,000; target ≤ 210 s),
//!    to every post finished (💡 reaction, thread, opening message: three more requests per
//!    post under the same limit), duplicates (target 0), and how the finishing steps and the
//!    posts shared the budget.
//!
//! The binary reads the real clock, so each part first waits for a minute boundary. With
//! `PREPBOT_BIN=path` another build is measured (e.g. `target/release/prepbot`). Targets are
//! printed with ✓/✗ for information; a miss never fails the run. Outside `cargo bench` it does
//! nothing, so CI only builds it.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use prepbot::store::{FinishState, PostState, ScheduleRow, SqliteStore};
use support::bot::{copy_bank, is_registration};
use support::{FakeDiscord, Recorded, GUILD_ID, TOKEN};

/// Discord's global limit, requests per second.
const GLOBAL_LIMIT: u32 = 50;
const TARGET_DISPATCH_S: f64 = 210.0;
/// How long the burst may take in all before the bench gives up waiting.
const BURST_GIVE_UP: Duration = Duration::from_secs(1800);

struct Args {
    guilds: u64,
    idle: bool,
    burst: bool,
    threads: bool,
    bench: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        guilds: 10_000,
        idle: true,
        burst: true,
        threads: true,
        bench: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" => args.bench = true,
            "--guilds" => {
                args.guilds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--guilds needs a number")
            }
            "--only" => match it.next().as_deref() {
                Some("idle") => args.burst = false,
                Some("burst") => args.idle = false,
                other => panic!("--only idle|burst, not {other:?}"),
            },
            "--no-threads" => args.threads = false,
            _ => {} // libtest-style filters and flags: not used here
        }
    }
    args
}

fn main() {
    let args = parse_args();
    if !args.bench {
        println!(
            "daily_scale: skipped outside `cargo bench` (run `cargo bench --bench daily_scale`)"
        );
        return;
    }
    // One thread for the fake and the driver: the bot gets the other core to itself.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        if args.idle {
            idle(&args).await;
        }
        if args.burst {
            burst(&args).await;
        }
    });
}

// ---- the bot process ------------------------------------------------------------------------------

/// The bot as a child process; killed when dropped, also on a panic.
struct BotProcess {
    child: Child,
    log: PathBuf,
}

impl BotProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bot_binary() -> PathBuf {
    std::env::var_os("PREPBOT_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_prepbot").into())
}

/// Starts the bot in `dir` (bank and database there) with the scheduler's debug line on, and
/// waits for its command registration.
async fn start_bot(fake: &FakeDiscord, dir: &Path) -> BotProcess {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[discord]\napi_base = \"{}\"\n[bank]\npaths = [\"questions.toml\"]\n\
             [storage]\npath = \"prepbot.db\"\n",
            fake.api_base()
        ),
    )
    .expect("write config.toml");
    let log = dir.join("bot.log");
    let child = Command::new(bot_binary())
        .arg("--config")
        .arg(&config)
        .current_dir(dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "warn,prepbot::discord::daily=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).expect("create bot.log"))
        .spawn()
        .expect("spawn the prepbot binary");
    let bot = BotProcess { child, log };
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.count(|r| is_registration(r) && r.status == 200) == 0 {
        assert!(
            Instant::now() < deadline,
            "the bot did not register its commands; its log:\n{}",
            std::fs::read_to_string(&bot.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bot
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    kib as f64 / 1024.0
}

// ---- time and schedules ------------------------------------------------------------------------------

// The bot reads the real clock; the schedules are set against it.
#[allow(clippy::disallowed_methods)]
fn now() -> Timestamp {
    Timestamp::now()
}

/// The first whole minute at least `lead` from now.
fn next_minute_after(lead: SignedDuration) -> Timestamp {
    let earliest = now().checked_add(lead).unwrap().as_second();
    Timestamp::from_second(earliest + (60 - earliest.rem_euclid(60)) % 60).unwrap()
}

/// The `Instant` of a wall-clock time (for comparing with the fake's request times).
fn instant_of(at: Timestamp) -> Instant {
    let ahead = at.duration_since(now());
    match Duration::try_from(ahead) {
        Ok(d) => Instant::now() + d,
        Err(_) => Instant::now() - Duration::try_from(-ahead).unwrap_or_default(),
    }
}

fn hh_mm(at: Timestamp) -> String {
    jiff::tz::TimeZone::UTC
        .to_datetime(at)
        .strftime("%H:%M")
        .to_string()
}

fn guild(i: u64) -> u64 {
    GUILD_ID + (i << 22)
}

/// Seeds one schedule per `(guild, channel, time)` (UTC, with thread when `thread`), armed from
/// `armed_from` (ms).
fn seed(db: &Path, rows: &[(u64, u64, String)], thread: bool, armed_from: i64) {
    let started = Instant::now();
    let store = SqliteStore::open(db).expect("create the database");
    for (guild_id, channel_id, time) in rows {
        store
            .put_schedule(&ScheduleRow {
                guild_id: *guild_id,
                channel_id: *channel_id,
                time: time.clone(),
                tz: "UTC".into(),
                role_id: None,
                filter: "{}".into(),
                thread,
                paused: false,
                skip_date: None,
                armed_from,
                last_error: None,
            })
            .expect("seed a schedule");
    }
    eprintln!(
        "seeded {} schedules in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
}

fn is_post_create(r: &Recorded) -> bool {
    r.method == "POST"
        && r.body["embeds"][0]["footer"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Question of the day #"))
}

/// One "daily scheduler pass" debug line: (why it woke, posts it started).
fn pass_of(line: &str) -> Option<(String, u64)> {
    if !line.contains("daily scheduler pass") {
        return None;
    }
    let field = |name: &str| {
        let at = line.find(&format!(" {name}="))? + name.len() + 2;
        let rest = &line[at..];
        let end = rest.find(' ').unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_string())
    };
    Some((field("woke")?, field("started")?.parse().ok()?))
}

fn tick(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

// ---- 1. idle: RSS and wake-ups with N schedules -------------------------------------------------

async fn idle(args: &Args) {
    let n = args.guilds.max(2);
    // The same binary with no schedule, in this run: the reference for RSS.
    let bare_rss = {
        let fake = FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        copy_bank(dir.path());
        let bot = start_bot(&fake, dir.path()).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        rss_mib(bot.pid())
    };

    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    copy_bank(dir.path());
    let first = next_minute_after(SignedDuration::from_secs(30));
    let second = first.checked_add(SignedDuration::from_mins(1)).unwrap();
    // The rest from 10 minutes after the second fire time to 23 h after now, one minute
    // apart and wrapping: none falls in the two minutes observed.
    let spread_from = second.checked_add(SignedDuration::from_mins(10)).unwrap();
    let span_min = 23 * 60 - 12;
    let rows: Vec<(u64, u64, String)> = (0..n)
        .map(|i| {
            let g = guild(i);
            let channel = fake.add_text_channel(g, "daily");
            let at = match i {
                0 => first,
                1 => second,
                _ => spread_from
                    .checked_add(SignedDuration::from_mins(((i - 2) % span_min) as i64))
                    .unwrap(),
            };
            (g, channel, hh_mm(at))
        })
        .collect();
    seed(
        &dir.path().join("prepbot.db"),
        &rows,
        args.threads,
        now().as_millisecond(),
    );
    let bot = start_bot(&fake, dir.path()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready_rss = rss_mib(bot.pid());
    let watch_from = now();
    let until = second.checked_add(SignedDuration::from_secs(20)).unwrap();
    tokio::time::sleep(Duration::try_from(until.duration_since(now())).unwrap_or_default()).await;
    let after_rss = rss_mib(bot.pid());
    drop(bot);

    let log = std::fs::read_to_string(dir.path().join("bot.log")).unwrap_or_default();
    let passes: Vec<(String, u64)> = log.lines().filter_map(pass_of).collect();
    let idle = passes
        .iter()
        .filter(|(woke, started)| woke == "timer" && *started == 0)
        .count();
    let timer = passes.iter().filter(|(w, _)| w == "timer").count();
    let notified = passes.iter().filter(|(w, _)| w == "notified").count();
    let posted = [rows[0].1, rows[1].1]
        .iter()
        .filter(|c| !fake.messages(**c).is_empty())
        .count();
    println!(
        "\nidle: {n} schedules in one process, watched {:.0} s over 2 fire times",
        until.duration_since(watch_from).as_secs_f64()
    );
    println!(
        "  RSS after READY   {ready_rss:.1} MiB  (no schedule: {bare_rss:.1} MiB, ratio {:.2})",
        ready_rss / bare_rss
    );
    println!("  RSS after 2 posts {after_rss:.1} MiB");
    println!(
        "  scheduler passes  {} (start 1, timer {timer}, woken {notified}); posts out {posted}/2",
        passes.len()
    );
    println!(
        "  idle wake-ups     {idle} (a timer pass that started nothing)  target 0 {}",
        tick(idle == 0)
    );
}

// ---- 2. burst: N posts due at the same minute under the global limit --------------------------------

async fn burst(args: &Args) {
    let n = args.guilds;
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    copy_bank(dir.path());
    let fire = next_minute_after(SignedDuration::from_secs(40));
    let time = hh_mm(fire);
    let rows: Vec<(u64, u64, String)> = (0..n)
        .map(|i| {
            let g = guild(i);
            (g, fake.add_text_channel(g, "daily"), time.clone())
        })
        .collect();
    let db = dir.path().join("prepbot.db");
    seed(&db, &rows, args.threads, 0);
    fake.limit_global(GLOBAL_LIMIT);
    let bot = start_bot(&fake, dir.path()).await;
    let fire_at = instant_of(fire);
    let date = jiff::tz::TimeZone::UTC.to_datetime(fire).date().to_string();
    tokio::time::sleep(fire_at.saturating_duration_since(Instant::now())).await;
    eprintln!("burst: {n} posts due at {fire}");

    // The store is polled off the runtime's one thread, which also serves the fake.
    let store = std::sync::Arc::new(SqliteStore::open(&db).expect("open the database"));
    let guilds: std::sync::Arc<Vec<u64>> = std::sync::Arc::new(rows.iter().map(|r| r.0).collect());
    let settled =
        |store: std::sync::Arc<SqliteStore>, guilds: std::sync::Arc<Vec<u64>>, date: String| {
            tokio::task::spawn_blocking(move || {
                guilds
                    .iter()
                    .filter(|g| {
                        store.post(**g, &date).ok().flatten().is_some_and(|p| {
                            p.state == PostState::Sent && p.finish == FinishState::Done
                        })
                    })
                    .count() as u64
            })
        };
    let mut last_report = Instant::now();
    let all_done = loop {
        let done = settled(store.clone(), guilds.clone(), date.clone())
            .await
            .expect("polling the store");
        if done == n {
            break Some(Instant::now());
        }
        if fire_at.elapsed() > BURST_GIVE_UP {
            break None;
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            let created = fake.count(|r| is_post_create(r) && r.status == 200);
            eprintln!(
                "  {:.0} s: {created} posts created, {done} finished",
                fire_at.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    // A little longer, so a late duplicate would show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = rss_mib(bot.pid());
    drop(bot);

    let requests = fake.requests();
    let since_fire: Vec<&Recorded> = requests.iter().filter(|r| r.at >= fire_at).collect();
    let created: Vec<&&Recorded> = since_fire
        .iter()
        .filter(|r| is_post_create(r) && r.status == 200)
        .collect();
    let last_post = created.iter().map(|r| r.at).max();
    let first_post = created.iter().map(|r| r.at).min();
    let limited = since_fire.iter().filter(|r| r.status == 429).count();
    let limited_posts = since_fire
        .iter()
        .filter(|r| r.status == 429 && is_post_create(r))
        .count();
    // The finishing steps: the 💡 reaction, the thread, the thread's opening message.
    let is_reaction = |r: &Recorded| r.method == "PUT" && r.path.contains("/reactions/");
    let is_thread = |r: &Recorded| r.method == "POST" && r.path.ends_with("/threads");
    let is_opening = |r: &Recorded| {
        r.method == "POST"
            && r.path.starts_with("/channels/")
            && r.path.ends_with("/messages")
            && !is_post_create(r)
    };
    let finishing: Vec<&&Recorded> = since_fire
        .iter()
        .filter(|r| r.status / 100 == 2 && (is_reaction(r) || is_thread(r) || is_opening(r)))
        .collect();
    let finishing_before_last_post =
        last_post.map_or(0, |last| finishing.iter().filter(|r| r.at < last).count());
    let mut per_channel: HashMap<String, usize> = HashMap::new();
    for m in fake.all_messages() {
        let is_post = m["embeds"][0]["footer"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Question of the day #"));
        if is_post {
            *per_channel
                .entry(m["channel_id"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    let posted = per_channel.len();
    let duplicates: usize = per_channel.values().map(|c| c.saturating_sub(1)).sum();
    let floor = n as f64 / f64::from(GLOBAL_LIMIT);
    let secs = |i: Option<Instant>| i.map(|i| i.saturating_duration_since(fire_at).as_secs_f64());

    println!(
        "\nburst: {n} posts due at the same minute, global limit {GLOBAL_LIMIT}/s, threads {}",
        if args.threads { "on" } else { "off" }
    );
    match secs(last_post) {
        Some(s) => println!(
            "  last post created   {s:.1} s after the fire time (first {:.1} s); Discord's \
             floor {floor:.0} s, ratio {:.2}  target ≤ {TARGET_DISPATCH_S:.0} s {}",
            secs(first_post).unwrap_or(0.0),
            s / floor,
            tick(s <= TARGET_DISPATCH_S)
        ),
        None => println!("  no post was created"),
    }
    match secs(all_done) {
        Some(s) => println!(
            "  all finished        {s:.1} s (post + 💡 + thread + opening: {} requests at \
             {GLOBAL_LIMIT}/s need ≥ {:.0} s)",
            if args.threads { 4 * n } else { 2 * n },
            if args.threads { 4.0 } else { 2.0 } * floor
        ),
        None => println!("  not all finished after {} s", BURST_GIVE_UP.as_secs()),
    }
    println!(
        "  posts {posted}/{n}, duplicates {duplicates}  target 0 {}",
        tick(duplicates == 0)
    );
    println!(
        "  requests since the fire time {} ({} answered 429 global, {limited_posts} of them \
         post creates); finishing steps done before the last post: {finishing_before_last_post} \
         of {}",
        since_fire.len(),
        limited,
        finishing.len()
    );
    println!("  bot RSS at the end {rss:.1} MiB");
}
