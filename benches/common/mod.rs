//! What the end-to-end benches share: the bots under test as child processes (prepbot and the
//! bare poise peer `examples/bare_ping.rs`, each against its own fake Discord), and readings
//! of their CPU time and memory from `/proc`.
//!
//! Linux only (it reads `/proc`). Each bench includes this with `#[path]`, as it includes
//! `tests/support`.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::bot::is_registration;
use crate::support::{FakeDiscord, GUILD_ID, TOKEN};

/// How long any one step may take before a bench gives up (a hang, not a slow bot).
pub const WAIT: Duration = Duration::from_secs(10);

/// A bot as a child process; killed when dropped, also on a panic.
pub struct BotProcess {
    pub name: &'static str,
    child: Child,
    log: PathBuf,
    /// When the process was spawned, for the start-up time.
    pub spawned: Instant,
}

impl BotProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Exits the bench with the bot's log when the bot has died.
    pub fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("{}: the bot exited ({status}); its log:\n{log}", self.name);
            std::process::exit(1);
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for READY and the command registration; returns the time from spawning the
    /// process to the registration request reaching the fake.
    pub async fn wait_registered(&mut self, fake: &FakeDiscord) -> Duration {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(r) = fake.requests().into_iter().find(is_registration) {
                fake.wait_ready(WAIT).await;
                return r.at.saturating_duration_since(self.spawned);
            }
            self.check_alive();
            assert!(
                Instant::now() < deadline,
                "{}: no command registration within {WAIT:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// CPU time and memory now.
    pub fn sample(&self) -> Sample {
        Sample::of(self.pid())
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The prepbot binary to measure: `PREPBOT_BIN` when set, else the one cargo built for this
/// bench (bench profile, with the dev-dependencies' features unified in).
pub fn prepbot_binary() -> PathBuf {
    std::env::var_os("PREPBOT_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_prepbot").into())
}

/// The bare peer: `BARE_BIN` when set, else `examples/bare_ping.rs` built now with the bench
/// profile (`cargo build --profile bench --example bare_ping`), so it has the same
/// optimisation settings and dependency features as the prepbot binary it is compared with.
pub fn bare_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("BARE_BIN") {
        return bin.into();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--profile", "bench", "--example", "bare_ping"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo to build the bare peer");
    assert!(status.success(), "building examples/bare_ping.rs failed");
    // This bench runs from target/<profile dir>/deps/; the example is in …/examples/.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .join("examples")
        .join("bare_ping")
}

/// Starts prepbot in `dir` with a `config.toml` pointing at `fake`; `bank_paths` is the TOML
/// array of `bank.paths`, relative to `dir`.
pub fn spawn_prepbot(fake: &FakeDiscord, dir: &Path, bank_paths: &str) -> BotProcess {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[discord]\napi_base = \"{}\"\nguild_id = {GUILD_ID}\n\n\
             [bank]\npaths = {bank_paths}\n\n\
             [storage]\npath = \"prepbot.db\"\n\n\
             [quiz]\nmin_seconds = 10\nintermission_seconds = 0\n",
            fake.api_base()
        ),
    )
    .expect("write config.toml");
    let mut cmd = Command::new(prepbot_binary());
    cmd.arg("--config").arg(&config).arg("run");
    spawn("prepbot", cmd, dir)
}

/// Starts the bare peer against `fake`.
pub fn spawn_bare(fake: &FakeDiscord, bin: &Path, dir: &Path) -> BotProcess {
    let mut cmd = Command::new(bin);
    cmd.arg(fake.api_base()).arg(GUILD_ID.to_string());
    spawn("bare", cmd, dir)
}

fn spawn(name: &'static str, mut cmd: Command, dir: &Path) -> BotProcess {
    let log = dir.join(format!("{name}.log"));
    let spawned = Instant::now();
    let child = cmd
        .current_dir(dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).expect("create the bot log"))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    BotProcess {
        name,
        child,
        log,
        spawned,
    }
}

// ---- /proc readings --------------------------------------------------------------------------

/// A process's CPU time and memory at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// utime + stime of all threads, live and ended, in clock ticks.
    pub ticks: u64,
    /// Time on CPU of the live threads in ns (`schedstat`; precise, but ended threads drop out).
    pub ns: Option<u64>,
    pub rss_kib: u64,
    pub anon_kib: u64,
    pub file_kib: u64,
    pub hwm_kib: u64,
}

impl Sample {
    pub fn of(pid: u32) -> Sample {
        Sample {
            ticks: cpu_ticks(pid),
            ns: cpu_ns(pid),
            rss_kib: status_kib(pid, "VmRSS"),
            anon_kib: status_kib(pid, "RssAnon"),
            file_kib: status_kib(pid, "RssFile"),
            hwm_kib: status_kib(pid, "VmHWM"),
        }
    }

    /// CPU ms between two samples: schedstat when both have it (and it did not go backwards
    /// because a thread ended), else ticks.
    pub fn cpu_ms_since(&self, earlier: &Sample) -> f64 {
        match (earlier.ns, self.ns) {
            (Some(a), Some(b)) if b >= a => (b - a) as f64 / 1e6,
            _ => (self.ticks - earlier.ticks) as f64 * 1000.0 / clock_ticks_per_second() as f64,
        }
    }
}

/// A `kB` line of `/proc/PID/status`, in KiB.
pub fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// utime + stime of the whole process (all threads, live and ended), in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name is in parentheses and may contain spaces: fields count after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of the man page, so utime (14) and stime (15) are 11 and 12.
    let field = |i: usize| fields[i].parse::<u64>().expect("stat field");
    field(11) + field(12)
}

/// Time on CPU of the live threads, in ns (`/proc/PID/task/*/schedstat`). `None` when the
/// kernel does not provide it.
pub fn cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let s = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    (total > 0).then_some(total)
}

/// The host's (steal, total) CPU ticks over all CPUs, from `/proc/stat`. Time stolen by the
/// hypervisor shows up as slower calls and extra CPU time of the bot.
pub fn host_ticks() -> (u64, u64) {
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

/// Steal in percent between two `host_ticks` readings.
pub fn steal_percent(a: (u64, u64), b: (u64, u64)) -> f64 {
    (b.0 - a.0) as f64 * 100.0 / (b.1 - a.1).max(1) as f64
}

pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100)
}

/// "2 CPUs, load average 1.2 0.9 0.8".
pub fn host_line() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cpus} CPUs, load average {}", load.join(" "))
}

// ---- statistics -------------------------------------------------------------------------------

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// `cargo bench` passes `--bench`; without it (`cargo test --benches`) a bench does nothing.
pub fn is_bench_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The value after `--name` on the command line, parsed.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .map(|i| {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a value"))
        })
        .unwrap_or(default)
}
