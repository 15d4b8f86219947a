//! The Discord edge: serenity/poise runtime, commands, event handlers, rendering.
//!
//! Everything here is translation: a Discord event becomes a call into the core (bank, daily,
//! quiz, practice) or the store, and the result is rendered back as embeds, buttons and reactions. The
//! core never sees a serenity type.
//!
//! [`start`] builds the client. REST goes to `discord.api_base` when set (serenity's proxy
//! mode, which needs its rate limiter off); sends that matter go through [`deliver`], which
//! retries what serenity does not. Running it as a service: [`permissions`] knows what the
//! bot needs from Discord (invite permissions, intents, the application id), [`health`]
//! serves `/metrics` and `/healthz`, and [`Bot::shutdown`] stops it within 10 s.

pub mod commands;
pub mod custom_id;
pub mod daily;
pub mod deliver;
pub mod driver;
pub mod errors;
pub mod events;
pub mod gate;
pub mod health;
pub mod pace;
pub mod permissions;
pub mod practice;
pub mod quiz;
pub mod reminders;
pub mod render;
pub mod retention;
pub mod tasks;

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tracing::{error, info, warn};

use crate::bank::{Bank, BankError};
use crate::config::Config;
use crate::shards::Shards;
use crate::store::Store;

pub use errors::{Error, UserError};

pub type Data = Arc<App>;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// Where "now" comes from. The bot uses the system clock; tests shift it to reach "08:59:57 in
/// Berlin" without waiting for it (delays still pass in real time).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    // The one place allowed to read the system clock (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    pub fn system() -> Clock {
        Clock(Arc::new(Timestamp::now))
    }

    /// The system clock shifted by `offset`.
    #[allow(clippy::disallowed_methods)]
    pub fn offset(offset: SignedDuration) -> Clock {
        Clock(Arc::new(move || {
            Timestamp::now()
                .checked_add(offset)
                .unwrap_or_else(|_| Timestamp::now())
        }))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// The bot's shared state: what every command and event handler can reach.
pub struct App {
    pub config: Config,
    bank: RwLock<Arc<Bank>>,
    pub store: Arc<Store>,
    pub deliver: deliver::Deliverer,
    pub clock: Clock,
    pub quiz: quiz::Rounds,
    pub daily: daily::Scheduler,
    pub reminders: reminders::Scheduler,
    /// Connected to the gateway, for `/healthz`.
    pub gateway: health::GatewayState,
    /// The shards this process runs, known once `start` has resolved `discord.shards`.
    shards: OnceLock<Shards>,
    rng: Mutex<StdRng>,
    maintenance: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl App {
    pub fn new(config: Config, bank: Bank, store: Arc<Store>, options: &StartOptions) -> App {
        let token = config
            .discord
            .token
            .clone()
            .unwrap_or_else(|| crate::config::Secret::new(""));
        let base = config
            .discord
            .api_base
            .clone()
            .unwrap_or_else(|| "https://discord.com".into());
        App {
            deliver: deliver::Deliverer::new(&base, &token, options.delivery),
            config,
            bank: RwLock::new(Arc::new(bank)),
            store,
            clock: options.clock.clone(),
            quiz: quiz::Rounds::default(),
            daily: daily::Scheduler::default(),
            reminders: reminders::Scheduler::default(),
            gateway: health::GatewayState::default(),
            shards: OnceLock::new(),
            rng: Mutex::new(match options.seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_os_rng(),
            }),
            maintenance: Mutex::new(None),
        }
    }

    /// The shards this process runs, so the guilds it serves (see [`crate::shards`]). Before
    /// `start` has resolved them (an `App` built by a test alone): one shard, every guild.
    pub fn shards(&self) -> Shards {
        self.shards.get().copied().unwrap_or_default()
    }

    /// Whether this process serves the guild (runs its shard).
    pub fn owns_guild(&self, guild_id: u64) -> bool {
        self.shards().owns_guild(guild_id)
    }

    /// The bank now serving. Cheap: an `Arc` clone.
    pub fn bank(&self) -> Arc<Bank> {
        self.bank.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reloads the configured bank files; on any error the old bank keeps serving.
    pub async fn reload_bank(&self) -> Result<Arc<Bank>, BankError> {
        let paths = self.config.bank.paths.clone();
        let loaded = tokio::task::spawn_blocking(move || Bank::load(&paths))
            .await
            .unwrap_or_else(|e| {
                Err(BankError {
                    diagnostics: vec![crate::bank::Diagnostic {
                        path: "bank".into(),
                        line: 1,
                        col: 1,
                        message: format!("loading panicked: {e}"),
                    }],
                })
            })?;
        let new = Arc::new(loaded);
        *self.bank.write().unwrap_or_else(|p| p.into_inner()) = new.clone();
        Ok(new)
    }

    /// Starts the hourly purge, once (READY comes again after a reconnect).
    pub fn start_maintenance(self: &Arc<Self>) {
        let mut slot = self.maintenance.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(retention::spawn(self.clone()));
        }
    }

    /// Stops every background task: the daily scheduler, practice reminders, quiz drivers,
    /// the purge.
    pub fn stop_background(&self) {
        self.daily.stop();
        self.reminders.stop();
        self.quiz.abort_all();
        if let Some(t) = self
            .maintenance
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            t.abort();
        }
    }

    /// Runs `f` with the bot's RNG (seeded in tests).
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Knobs for [`start`] that are not deployment config: tests set them.
#[derive(Clone, Debug)]
pub struct StartOptions {
    pub clock: Clock,
    pub delivery: deliver::Policy,
    /// Seed for the bot's RNG; `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            clock: Clock::system(),
            delivery: deliver::Policy::default(),
            seed: None,
        }
    }
}

/// Why the bot could not start, or stopped without being asked to.
#[derive(Debug)]
pub enum StartError {
    NoToken,
    /// Discord answered 401 to the first request: the token was reset or mistyped.
    InvalidToken,
    /// Discord's application object has no usable id (not a bot token?).
    NoApplicationId(String),
    /// Privileged intents the bot asks for that the application does not enable.
    MissingIntents(Vec<&'static str>),
    Store(crate::store::StoreError),
    /// `metrics.listen` could not be bound.
    Listen {
        addr: String,
        error: std::io::Error,
    },
    Client(serenity::Error),
    /// The Discord client ended on its own (a fatal gateway error, a panic): a supervisor
    /// should restart the process, so this is an error exit.
    ClientEnded(String),
}

impl StartError {
    /// A problem a restart does not fix (a missing or refused token, a portal setting, a
    /// listen address): the process exits 2 and the systemd unit does not restart it
    /// (`RestartPreventExitStatus=2`). Everything else exits 1, to be restarted; a refused
    /// database file too, as it always has (a lock or a full disk can pass).
    pub fn is_setup_problem(&self) -> bool {
        use serenity::GatewayError as G;
        match self {
            StartError::NoToken
            | StartError::InvalidToken
            | StartError::NoApplicationId(_)
            | StartError::MissingIntents(_)
            | StartError::Listen { .. } => true,
            StartError::Store(_) => false,
            StartError::Client(serenity::Error::Gateway(
                G::InvalidAuthentication | G::InvalidGatewayIntents | G::DisallowedGatewayIntents,
            )) => true,
            StartError::Client(_) | StartError::ClientEnded(_) => false,
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use serenity::GatewayError as G;
        match self {
            StartError::NoToken => f.write_str(
                "no bot token: set DISCORD_TOKEN=… (or discord.token in config.toml); \
                 get one at https://discord.com/developers/applications → your app → Bot",
            ),
            StartError::InvalidToken => f.write_str(permissions::INVALID_TOKEN),
            StartError::NoApplicationId(why) => f.write_str(why),
            StartError::MissingIntents(names) => write!(
                f,
                "the bot needs privileged intents its application does not enable: {}; turn \
                 them on at https://discord.com/developers/applications → your app → Bot → \
                 Privileged Gateway Intents",
                names.join(", ")
            ),
            StartError::Store(e) => write!(f, "{e}"),
            StartError::Listen { addr, error } => write!(
                f,
                "cannot listen on {addr} (metrics.listen): {error}; pick a free port or remove \
                 the key"
            ),
            StartError::Client(serenity::Error::Gateway(G::InvalidAuthentication)) => write!(
                f,
                "Discord's gateway refused the bot token (close code 4004): {}",
                permissions::INVALID_TOKEN
            ),
            StartError::Client(serenity::Error::Gateway(
                G::DisallowedGatewayIntents | G::InvalidGatewayIntents,
            )) => write!(
                f,
                "Discord's gateway refused the intents the bot asks for (close code 4013/4014): \
                 turn on the privileged ones it needs at \
                 https://discord.com/developers/applications → your app → Bot → Privileged \
                 Gateway Intents (prepbot asks for: {})",
                intent_names()
            ),
            StartError::Client(e) => write!(f, "could not start the Discord client: {e}"),
            StartError::ClientEnded(why) => write!(f, "the Discord client stopped: {why}"),
        }
    }
}

/// The intents the bot asks for, by name, for error messages.
fn intent_names() -> String {
    intents()
        .iter_names()
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl std::error::Error for StartError {}

/// How long a clean shutdown (SIGTERM, Ctrl-C) may take in all: under the 10 s a supervisor
/// waits before it kills (systemd's default `TimeoutStopSec` is 90 s, Docker's stop timeout 10 s).
pub const SHUTDOWN_WITHIN: Duration = Duration::from_secs(9);

/// A running bot.
pub struct Bot {
    pub app: Data,
    shard_manager: Arc<serenity::ShardManager>,
    task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
    /// The `/metrics` and `/healthz` listener, when `metrics.listen` is set.
    ops: Option<tokio::task::JoinHandle<()>>,
    metrics_addr: Option<std::net::SocketAddr>,
}

impl Bot {
    /// Stops cleanly within [`SHUTDOWN_WITHIN`]: no new work (scheduler, quiz drivers, purge),
    /// the gateway closed (no new interactions), then daily posts already on their way are
    /// given the time left to be sent and recorded, so none is left with an unknown outcome.
    pub async fn shutdown(self) {
        let deadline = tokio::time::Instant::now() + SHUTDOWN_WITHIN;
        self.app.stop_background();
        let gateway =
            tokio::time::timeout(Duration::from_secs(3), self.shard_manager.shutdown_all());
        if gateway.await.is_err() {
            warn!("the gateway did not close within 3 s");
        }
        let left = self
            .app
            .daily
            .drain(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await;
        if left > 0 {
            warn!(
                posts = left,
                "daily posts still in flight at shutdown: the next start looks for them in \
                 their channel before posting again"
            );
        }
        match tokio::time::timeout_at(deadline, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => error!("the Discord client ended with an error: {e}"),
            Ok(Err(e)) => error!("the Discord client task failed: {e}"),
            Err(_) => error!("the Discord client did not stop in time"),
        }
        if let Some(ops) = self.ops {
            ops.abort();
        }
    }

    /// Waits until the client ends (on a fatal gateway error, a panic, or after shutdown) and
    /// says why.
    pub async fn wait(&mut self) -> StartError {
        match (&mut self.task).await {
            Ok(Ok(())) => StartError::ClientEnded("its gateway connections closed".into()),
            Ok(Err(e)) => StartError::Client(e),
            Err(e) => StartError::ClientEnded(format!("its task failed: {e}")),
        }
    }

    pub fn shard_manager(&self) -> Arc<serenity::ShardManager> {
        self.shard_manager.clone()
    }

    /// Where `/metrics` and `/healthz` are served (the bound address: a `:0` port resolved).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_addr
    }
}

/// Only what is used: guild events (channels, roles for permission display) and reactions on
/// guild messages. No privileged intent (no message content, no member list).
pub fn intents() -> serenity::GatewayIntents {
    serenity::GatewayIntents::GUILDS | serenity::GatewayIntents::GUILD_MESSAGE_REACTIONS
}

/// Opens the store, builds the client and starts it in a background task.
pub async fn start(config: Config, bank: Bank, options: StartOptions) -> Result<Bot, StartError> {
    let token = config
        .discord
        .token
        .clone()
        .filter(|t| !t.expose().trim().is_empty())
        .ok_or(StartError::NoToken)?;
    let store = Arc::new(
        Store::open(&config.storage)
            .await
            .map_err(StartError::Store)?,
    );
    // Before connecting: a taken port is a setup error to report now, not after READY.
    let listener = health::bind(&config)
        .await
        .map_err(|error| StartError::Listen {
            addr: config.metrics.listen.clone().unwrap_or_default(),
            error,
        })?;
    let metrics = listener.as_ref().map(|_| crate::metrics::install());
    info!(
        questions = bank.len(),
        storage = %config.storage.path.display(),
        "{}",
        config.describe_target()
    );
    let app = Arc::new(App::new(config, bank, store, &options));
    preflight(&app).await?;

    // serenity's own client would keep an idle connection per concurrent request of a burst;
    // it shares ours, whose pool is bounded.
    let mut http = serenity::HttpBuilder::new(token.expose())
        .client(app.deliver.client())
        .default_allowed_mentions(render::no_mentions());
    if let Some(base) = &app.config.discord.api_base {
        // serenity ignores the proxy while its own rate limiter is on.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();
    let shards = resolve_shards(&app.config, &http).await?;
    info!("running {shards}");
    // Set once, before the client starts: every task reads it after READY.
    app.shards.get_or_init(|| shards);

    let setup_app = app.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |e| Box::pin(errors::on_error(e)),
            pre_command: |ctx| Box::pin(errors::started(ctx)),
            post_command: |ctx| Box::pin(errors::finished(ctx)),
            event_handler: |ctx, event| Box::pin(events::handle(ctx, event)),
            allowed_mentions: Some(render::no_mentions()),
            // Owners are not used; skip the extra REST call at start.
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |_ctx, ready, framework| {
            Box::pin(async move {
                let app = setup_app;
                info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                // Work of no guild in particular is done once per bot, by the process that
                // runs shard 0 (see `crate::shards`).
                let coordinator = app.shards().is_coordinator();
                if coordinator {
                    register_commands(
                        &app,
                        ready.application.id.get(),
                        &framework.options().commands,
                    )
                    .await;
                }
                quiz::close_interrupted_rounds(&app).await;
                app.daily.spawn(app.clone(), ready.user.id);
                if coordinator {
                    app.reminders.spawn(app.clone(), ready.user.id);
                    app.start_maintenance();
                }
                Ok(app)
            })
        })
        .build();

    let mut client = serenity::ClientBuilder::new_with_http(http, intents())
        .framework(gate::Gated::new(framework))
        .raw_event_handler(events::RawInteractions { app: app.clone() })
        .await
        .map_err(StartError::Client)?;
    let shard_manager = client.shard_manager.clone();
    let metrics_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
    let ops = listener
        .zip(metrics)
        .map(|(l, handle)| health::spawn(l, app.clone(), shard_manager.clone(), handle));
    let task = tokio::spawn(async move {
        if shards.first() == shards.last() {
            client.start_shard(shards.first(), shards.total()).await
        } else {
            // serenity 0.12 reads the range's end as the last shard to run (inclusive).
            let range = shards.first()..shards.last();
            client.start_shard_range(range, shards.total()).await
        }
    });
    Ok(Bot {
        app,
        shard_manager,
        task,
        ops,
        metrics_addr,
    })
}

/// `discord.shards` made concrete: for `"auto"`, every shard `GET /gateway/bot` recommends.
async fn resolve_shards(config: &Config, http: &serenity::Http) -> Result<Shards, StartError> {
    let recommended = match config.discord.shards {
        crate::config::ShardsConfig::Auto => {
            http.get_bot_gateway()
                .await
                .map_err(StartError::Client)?
                .shards
        }
        crate::config::ShardsConfig::Range { total, .. } => total,
    };
    // `validate` has checked the range against its total.
    config
        .discord
        .shards
        .resolve(|| recommended)
        .map_err(|e| StartError::ClientEnded(format!("discord.shards: {e}")))
}

/// The first request: `GET /oauth2/applications/@me`. A refused token, an application without
/// an id, or privileged intents the application does not enable end the start here with a
/// message saying what to fix, instead of a gateway that retries or closes without one. Any
/// other failure (Discord unreachable, 5xx) is logged and the client tries anyway: it has
/// its own reconnects.
async fn preflight(app: &App) -> Result<(), StartError> {
    match app.deliver.application().await {
        Ok(info) => {
            permissions::application_id_of(&info).map_err(StartError::NoApplicationId)?;
            let flags = info["flags"].as_u64().unwrap_or(0);
            let missing = permissions::missing_privileged_intents(intents(), flags);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(StartError::MissingIntents(missing))
            }
        }
        Err(e) if e.status == Some(401) => Err(StartError::InvalidToken),
        Err(e) => {
            warn!("could not check the token before connecting ({e}); connecting anyway");
            Ok(())
        }
    }
}

/// The command registration body: poise's definitions, with the bounds of `/quiz start
/// seconds` taken from the config (`quiz.min_seconds`) and the quiz core (`SECONDS_MAX`,
/// `SECONDS_DEFAULT`), which poise can only declare as literals.
pub fn registration_body(
    commands: &[poise::Command<Data, Error>],
    config: &Config,
) -> serde_json::Value {
    let mut body: Vec<serde_json::Value> = poise::builtins::create_application_commands(commands)
        .iter()
        .map(deliver::body)
        .collect();
    for cmd in body.iter_mut() {
        // Discord's schema types this as an integer (poise sends the string form).
        if let Some(p) = cmd["default_member_permissions"]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
        {
            cmd["default_member_permissions"] = serde_json::json!(p);
        }
    }
    for cmd in body.iter_mut().filter(|c| c["name"] == "quiz") {
        let subs = cmd["options"].as_array_mut().into_iter().flatten();
        for sub in subs.filter(|s| s["name"] == "start") {
            let opts = sub["options"].as_array_mut().into_iter().flatten();
            for opt in opts.filter(|o| o["name"] == "seconds") {
                let (min, max) = (config.quiz.min_seconds, crate::quiz::SECONDS_MAX);
                let default = crate::quiz::SECONDS_DEFAULT.clamp(min, max);
                opt["min_value"] = serde_json::json!(min);
                opt["max_value"] = serde_json::json!(max);
                opt["description"] = serde_json::json!(format!(
                    "Seconds per question ({min}–{max}, default {default})"
                ));
            }
        }
    }
    serde_json::Value::Array(body)
}

async fn register_commands(
    app: &App,
    application_id: u64,
    commands: &[poise::Command<Data, Error>],
) {
    let body = registration_body(commands, &app.config);
    match app
        .deliver
        .put_commands(application_id, app.config.discord.guild_id, &body)
        .await
    {
        Ok(_) => info!(count = commands.len(), "slash commands registered"),
        Err(e) => error!("could not register slash commands (earlier registrations stay): {e}"),
    }
}

/// Runs the bot until SIGINT/SIGTERM, then shuts down cleanly (see [`Bot::shutdown`]).
pub async fn run(config: Config, bank: Bank) -> Result<(), StartError> {
    let mut bot = start(config, bank, StartOptions::default()).await?;
    let ended = tokio::select! {
        why = bot.wait() => Some(why),
        _ = shutdown_signal() => None,
    };
    match ended {
        // The client never ends by itself while we want it running: whatever ended it, the
        // process must exit non-zero so a supervisor restarts it. Posts on their way still
        // get to record what they sent.
        Some(why) => {
            bot.app.stop_background();
            bot.app.daily.drain(Duration::from_secs(5)).await;
            Err(why)
        }
        None => {
            info!("shutting down");
            bot.shutdown().await;
            info!("stopped");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
