//! Shards end to end: guilds on both shards of two, served by one process (shards 0-1) or by
//! two processes of the built binary (shard 0 and shard 1) that share one database. The fake
//! routes every guild's events to the session of its shard, `(guild_id >> 22) % total`, and
//! records which process (labelled base URL) carried each request and gateway session.
//!
//! Shown: each guild's daily post exactly once; `/ask` and `/daily set` answered by the
//! process that owns the guild, and by no other; a SIGKILLed process whose guilds wait while
//! the other keeps answering and posting for its own; after the restart, no duplicate and no
//! missed post. The two processes start at the same moment on an empty database, as replicas
//! of a deployment do, so they race through its migrations.
//!
//! The harness is parametrised by the storage ([`Storage`]): each case is a function taking
//! one, and each `#[tokio::test]` picks a backend: PostgreSQL (the multi-process deployment,
//! one process and two), and SQLite (one process, and two processes on one file in WAL mode,
//! which works on one host). The daily post's exactly-once intent rests on the database's
//! unique key in both.
//!
//! The binary reads the real clock, so the two-process case waits for a real minute boundary
//! (15–75 s); the one-process case shifts the library's clock instead.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use prepbot::config::ShardsConfig;
use prepbot::config::StorageConfig;
use prepbot::store::{FinishState, PostState, ScheduleRow, Store};
use serde_json::{json, Value};
use support::bot::{self, callback_data, copy_bank, embed_text, is_registration, WAIT};
use support::*;

/// Guilds of the test world, two on each shard of two (`GUILD_ID` is on shard 0).
const G0: u64 = GUILD_ID;
const G1: u64 = GUILD_ID + (1 << 22);
const G2: u64 = GUILD_ID + (2 << 22);
const G3: u64 = GUILD_ID + (3 << 22);

// ---- the storage the processes share ---------------------------------------------------------

/// Where the bot keeps its state, for every process of a case: what goes into each process's
/// config, and how the test seeds and reads that state. A further backend (PostgreSQL) is a
/// further variant with these four functions, and a `#[tokio::test]` per case that passes it.
#[derive(Clone, Debug)]
enum Storage {
    /// One SQLite file (WAL): one process, or several on one host.
    Sqlite(PathBuf),
    /// One PostgreSQL database (its URL): the multi-process deployment.
    Postgres(String),
}

impl Storage {
    fn sqlite(dir: &Path) -> Storage {
        Storage::Sqlite(dir.join("shared.db"))
    }

    /// A fresh database on the test PostgreSQL; `None` when there is none (see
    /// `support::pg`).
    async fn postgres() -> Option<Storage> {
        support::pg::fresh_database().await.map(Storage::Postgres)
    }

    /// The `[storage]` section of a process's config file.
    fn toml(&self) -> String {
        match self {
            Storage::Sqlite(path) => format!(
                "[storage]\npath = {}\n",
                toml::Value::String(path.display().to_string())
            ),
            Storage::Postgres(url) => {
                format!("[storage]\nurl = {}\n", toml::Value::String(url.clone()))
            }
        }
    }

    fn config(&self) -> StorageConfig {
        match self {
            Storage::Sqlite(path) => StorageConfig {
                path: path.clone(),
                ..StorageConfig::default()
            },
            Storage::Postgres(url) => StorageConfig {
                url: Some(url.clone()),
                ..StorageConfig::default()
            },
        }
    }

    /// The same, for a config built in the test (the library entry point).
    fn configure(&self, config: &mut prepbot::config::Config) {
        config.storage = self.config();
    }

    /// The store, to seed schedules and to read what the bot recorded. Opening it creates the
    /// schema: do it after the processes of a start-on-an-empty-database case are up.
    async fn open(&self) -> Store {
        Store::open(&self.config())
            .await
            .expect("open the shared store")
    }
}

// ---- what the fake saw -------------------------------------------------------------------------

/// Messages in `channel` that are daily posts (their first embed has the post footer).
fn posts(fake: &FakeDiscord, channel: u64) -> Vec<Value> {
    fake.messages(channel)
        .into_iter()
        .filter(|m| {
            m["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("Question of the day #"))
        })
        .collect()
}

/// The labels (processes) of the requests that created daily posts in `channel`.
fn post_creators(fake: &FakeDiscord, channel: u64) -> Vec<Option<String>> {
    fake.requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST"
                && r.path == format!("/channels/{channel}/messages")
                && r.body["embeds"][0]["footer"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Question of the day #"))
        })
        .map(|r| r.via)
        .collect()
}

/// Whether the guild's post of `date` is done in the store: sent, with reaction and thread.
async fn settled(store: &Store, guild: u64, date: &str) -> bool {
    store
        .post(guild, date)
        .await
        .unwrap()
        .is_some_and(|p| p.state == PostState::Sent && p.finish == FinishState::Done)
}

/// The shard session (shard, process label) that carried an interaction, from the fake's
/// record; panics unless exactly one did.
fn carried_by(fake: &FakeDiscord, interaction: &Value) -> (u32, Option<String>) {
    let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
    let went: Vec<Delivery> = fake
        .deliveries()
        .into_iter()
        .filter(|d| d.id == Some(id))
        .collect();
    assert_eq!(went.len(), 1, "delivered once: {went:?}");
    (went[0].shard, went[0].via.clone())
}

/// `/ask` by a member in `channel`; returns the interaction.
fn ask(fake: &FakeDiscord, channel: u64) -> Value {
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, channel);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    cmd
}

/// Every callback recorded for an interaction (an answered one has exactly one).
fn callbacks(fake: &FakeDiscord, interaction: &Value) -> Vec<Recorded> {
    let prefix = format!("/interactions/{}/", interaction["id"].as_str().unwrap());
    fake.requests()
        .into_iter()
        .filter(|r| r.is("POST", &prefix))
        .collect()
}

// ---- a. one process, shards 0-1 of 2 -------------------------------------------------------------

/// One process runs both shards (`shards` resolves to 0-1 of 2) for a guild on each: each
/// guild gets its post once, and `/ask` is answered in each, through its own shard's session.
async fn one_process_serves_both_shards(storage: Storage, shards: ShardsConfig) {
    let fake = FakeDiscord::start().await;
    fake.set_bot_gateway(2, 16);
    let dir = tempfile::tempdir().unwrap();
    let far = fake.join_guild(G1, "Far Away");
    let channels = [(G0, CHANNEL_ID), (G1, far)];
    let store = storage.open().await;
    for (guild, channel) in channels {
        store
            .put_schedule(&ScheduleRow {
                guild_id: guild,
                channel_id: channel,
                time: "09:00".into(),
                tz: "Europe/Berlin".into(),
                role_id: None,
                filter: "{}".into(),
                thread: true,
                paused: false,
                skip_date: None,
                armed_from: 0,
                last_error: None,
            })
            .await
            .unwrap();
    }
    let mut config = bot::config(&fake, dir.path());
    // Commands for every guild: registered globally.
    config.discord.guild_id = None;
    config.discord.shards = shards;
    storage.configure(&mut config);
    // 2026-03-10 08:59:58 in Berlin (UTC+1): the posts fall due two seconds in.
    #[allow(clippy::disallowed_methods)]
    let offset = Timestamp::from_second(1_773_129_598)
        .unwrap()
        .duration_since(Timestamp::now());
    let bot = bot::start(&fake, config, bot::options(offset)).await;
    // serenity's shard queuer starts the second shard 5 s after the first.
    fake.wait_shards_live(&[0, 1], 2, Duration::from_secs(20))
        .await;
    let mut shards_identified: Vec<Value> = fake
        .identifies()
        .iter()
        .map(|i| i["shard"].clone())
        .collect();
    shards_identified.sort_by_key(|s| s[0].as_u64());
    assert_eq!(shards_identified, vec![json!([0, 2]), json!([1, 2])]);

    for (guild, channel) in channels {
        let deadline = Instant::now() + WAIT;
        while !settled(&store, guild, "2026-03-10").await {
            assert!(
                Instant::now() < deadline,
                "guild {guild}: the daily post, finished"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cmd = ask(&fake, channel);
        let cb = fake.wait_callback(&cmd, WAIT).await;
        assert_eq!(
            cb.body["type"], 4,
            "/ask answered with a message: {}",
            cb.body
        );
        let shard = u32::from(guild != G0);
        assert_eq!(carried_by(&fake, &cmd).0, shard, "guild {guild}");
    }
    // Long enough for a second post to show up, were there one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (guild, channel) in channels {
        assert_eq!(posts(&fake, channel).len(), 1, "guild {guild}: one post");
    }
    assert_eq!(fake.count(is_registration), 1);
    fake.assert_no_schema_violations();
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_process_shards_0_1_of_2() {
    let dir = tempfile::tempdir().unwrap();
    let range = ShardsConfig::Range {
        total: 2,
        first: 0,
        last: 1,
    };
    one_process_serves_both_shards(Storage::sqlite(dir.path()), range).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_process_shards_0_1_of_2() {
    let Some(storage) = Storage::postgres().await else {
        return;
    };
    let range = ShardsConfig::Range {
        total: 2,
        first: 0,
        last: 1,
    };
    one_process_serves_both_shards(storage, range).await;
}

/// `"auto"`: as many shards as `GET /gateway/bot` recommends (two here), all in this process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_process_auto_runs_the_recommended_shards() {
    let dir = tempfile::tempdir().unwrap();
    one_process_serves_both_shards(Storage::sqlite(dir.path()), ShardsConfig::Auto).await;
}

// ---- b. two processes, shard 0 and shard 1 of 2 ---------------------------------------------------

/// One bot process (the built binary); SIGKILLed when dropped, so a failing test leaves none.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `prepbot --config <config>` in `dir`, its log appended to `<label>.log`.
    fn start(dir: &Path, label: &str) -> Process {
        let log = dir.join(format!("{label}.log"));
        let file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_prepbot"))
            .current_dir(dir)
            .arg("--config")
            .arg(dir.join(format!("{label}.toml")))
            .env("DISCORD_TOKEN", TOKEN)
            .env("RUST_LOG", "warn,prepbot=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Process { child, log }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and reap.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both processes' logs, for a failure message.
fn logs(processes: &[&Process]) -> String {
    processes
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            format!("--- {}\n{text}", p.log.display())
        })
        .collect()
}

/// The test reads the real clock: so does the binary it starts.
#[allow(clippy::disallowed_methods)]
fn now() -> Timestamp {
    Timestamp::now()
}

/// The first whole minute at least `lead` from now: when the scheduled posts fall due.
fn next_minute_after(lead: SignedDuration) -> Timestamp {
    let earliest = now().checked_add(lead).unwrap().as_second();
    Timestamp::from_second(earliest + (60 - earliest.rem_euclid(60)) % 60).unwrap()
}

async fn sleep_until(at: Timestamp) {
    let left = at.duration_since(now());
    if let Ok(left) = Duration::try_from(left) {
        tokio::time::sleep(left).await;
    }
}

/// Two processes, shard 0 and shard 1 of 2, two guilds each, one shared database.
async fn two_processes_share_the_guilds(storage: Storage, dir: &Path) {
    let began = Instant::now();
    let fake = FakeDiscord::start().await;
    copy_bank(dir);
    let mut channel = std::collections::BTreeMap::new();
    channel.insert(G0, CHANNEL_ID);
    for (guild, name) in [(G1, "One"), (G2, "Two"), (G3, "Three")] {
        channel.insert(guild, fake.join_guild(guild, name));
    }
    let owner = |guild: u64| Some(format!("p{}", (guild >> 22) % 2));
    for (label, range) in [("p0", "0"), ("p1", "1")] {
        std::fs::write(
            dir.join(format!("{label}.toml")),
            format!(
                "[discord]\napi_base = \"{}\"\nshards = {{ total = 2, range = \"{range}\" }}\n\
                 [bank]\npaths = [\"questions.toml\"]\n{}",
                fake.api_base_via(label),
                storage.toml()
            ),
        )
        .unwrap();
    }
    // Both at the same moment, on an empty database: replicas racing through the migrations.
    let mut p0 = Process::start(dir, "p0");
    let p1 = Process::start(dir, "p1");
    // (The fake's own wait panics at 60 s; this one says why first, with the logs.)
    let live = tokio::time::timeout(
        Duration::from_secs(20),
        fake.wait_shards_live(&[0, 1], 2, Duration::from_secs(60)),
    )
    .await;
    assert!(live.is_ok(), "both shards live\n{}", logs(&[&p0, &p1]));
    fake.wait_for(is_registration, WAIT).await;
    let registrars: Vec<Option<String>> = fake
        .requests()
        .into_iter()
        .filter(is_registration)
        .map(|r| r.via)
        .collect();
    assert_eq!(
        registrars,
        vec![owner(G0)],
        "only shard 0's process registers"
    );

    // `/ask` in each guild: carried to, and answered by, its owner only.
    for (&guild, &ch) in &channel {
        let cmd = ask(&fake, ch);
        let cb = fake.wait_callback(&cmd, WAIT).await;
        assert_eq!(cb.via, owner(guild), "/ask in guild {guild}");
        assert_eq!(
            carried_by(&fake, &cmd),
            (((guild >> 22) % 2) as u32, owner(guild))
        );
    }

    // Posts fall due at the first minute boundary 10 s away: time to set the schedules (each
    // answered by the guild's owner), and to kill one process before it.
    let due = next_minute_after(SignedDuration::from_secs(10));
    let local = jiff::tz::TimeZone::UTC.to_datetime(due);
    let time = local.strftime("%H:%M").to_string();
    let date = local.date().to_string();
    for (&guild, &ch) in &channel {
        let set = fake.slash_command(
            "daily",
            &["set"],
            json!({"channel": ch, "time": time, "timezone": "UTC"}),
            &ADMIN,
            ch,
        );
        fake.dispatch("INTERACTION_CREATE", set.clone());
        let cb = fake.wait_callback(&set, WAIT).await;
        assert_eq!(cb.via, owner(guild), "/daily set in guild {guild}");
        let text = embed_text(callback_data(&cb));
        assert!(text.contains("Daily question scheduled"), "{text}");
    }

    // Shard 0's process dies before the posts are due.
    assert!(
        now() < due.checked_sub(SignedDuration::from_secs(2)).unwrap(),
        "the machine was too slow to get here before {due}; run again"
    );
    p0.kill();
    fake.wait_until_shards_down(&[0]).await;
    // The survivor answers in its guilds; nobody answers in the dead process's guilds.
    let survivor_ask = ask(&fake, channel[&G1]);
    let cb = fake.wait_callback(&survivor_ask, WAIT).await;
    assert_eq!(cb.via, owner(G1));
    let orphan_ask = ask(&fake, channel[&G0]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        callbacks(&fake, &orphan_ask).is_empty(),
        "an /ask in a guild of the dead process was answered"
    );

    // The posts fall due: the survivor posts for its guilds, and only for those.
    sleep_until(due).await;
    let store = storage.open().await;
    for guild in [G1, G3] {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !settled(&store, guild, &date).await {
            assert!(
                Instant::now() < deadline,
                "guild {guild}: no post from the survivor\n{}",
                logs(&[&p0, &p1])
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for guild in [G0, G2] {
        assert!(
            posts(&fake, channel[&guild]).is_empty(),
            "guild {guild} of the dead process got a post"
        );
    }

    // The restart: the missed posts go out (late), once.
    let p0 = Process::start(dir, "p0");
    fake.wait_shards_live(&[0, 1], 2, Duration::from_secs(20))
        .await;
    for guild in [G0, G2] {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !settled(&store, guild, &date).await {
            assert!(
                Instant::now() < deadline,
                "guild {guild}: no post after the restart\n{}",
                logs(&[&p0, &p1])
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The /ask that came while shard 0 was down waited for its shard, as the fake holds
    // dispatches for a shard without a session: only its owner answered it.
    let cb = fake.wait_callback(&orphan_ask, WAIT).await;
    assert_eq!(cb.via, owner(G0));
    tokio::time::sleep(Duration::from_millis(1500)).await;

    for (&guild, &ch) in &channel {
        let found = posts(&fake, ch);
        assert_eq!(
            found.len(),
            1,
            "guild {guild}: one post\n{}",
            logs(&[&p0, &p1])
        );
        assert_eq!(
            found[0]["embeds"][0]["footer"]["text"],
            format!("Question of the day #1 · {date}")
        );
        assert_eq!(
            post_creators(&fake, ch),
            vec![owner(guild)],
            "guild {guild}: posted by its owner, once"
        );
        assert_eq!(callbacks(&fake, &orphan_ask).len(), 1);
    }
    fake.assert_no_schema_violations();
    println!(
        "two processes: 4 guilds, 4 posts, wall time {:.1} s",
        began.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_shard_0_and_1_of_2() {
    let dir = tempfile::tempdir().unwrap();
    two_processes_share_the_guilds(Storage::sqlite(dir.path()), dir.path()).await;
}

/// The deployment the issue asks for: two processes, one PostgreSQL, started together on an
/// empty database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_shard_0_and_1_of_2() {
    let dir = tempfile::tempdir().unwrap();
    let Some(storage) = Storage::postgres().await else {
        return;
    };
    two_processes_share_the_guilds(storage, dir.path()).await;
}
