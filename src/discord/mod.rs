//! The Discord edge: serenity/poise runtime, commands, event handlers, rendering.
//!
//! Everything here is translation: a Discord event becomes a call into the core (bank, daily,
//! quiz, practice) or the store, and the result is rendered back as embeds, buttons and reactions. The
//! core never sees a serenity type.
//!
//! [`start`] builds the client. REST goes to `discord.api_base` when set (serenity's proxy
//! mode, which needs its rate limiter off); sends that matter go through [`deliver`], which
//! retries what serenity does not.

pub mod commands;
pub mod custom_id;
pub mod daily;
pub mod deliver;
pub mod errors;
pub mod events;
pub mod practice;
pub mod quiz;
pub mod reminders;
pub mod render;
pub mod retention;
pub mod tasks;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tracing::{error, info};

use crate::bank::{Bank, BankError};
use crate::config::Config;
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
            rng: Mutex::new(match options.seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_os_rng(),
            }),
            maintenance: Mutex::new(None),
        }
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
    Store(crate::store::StoreError),
    Client(serenity::Error),
    /// The Discord client ended on its own (a fatal gateway error, a panic): a supervisor
    /// should restart the process, so this is an error exit.
    ClientEnded(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::NoToken => f.write_str(
                "no bot token: set DISCORD_TOKEN=… (or discord.token in config.toml); \
                 get one at https://discord.com/developers/applications → your app → Bot",
            ),
            StartError::Store(e) => write!(f, "{e}"),
            StartError::Client(e) => write!(f, "could not start the Discord client: {e}"),
            StartError::ClientEnded(why) => write!(f, "the Discord client stopped: {why}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running bot.
pub struct Bot {
    pub app: Data,
    shard_manager: Arc<serenity::ShardManager>,
    task: tokio::task::JoinHandle<Result<(), serenity::Error>>,
}

impl Bot {
    /// Stops the gateway connection and background tasks, and waits for the client to end.
    pub async fn shutdown(self) {
        self.app.stop_background();
        self.shard_manager.shutdown_all().await;
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => error!("the Discord client ended with an error: {e}"),
            Ok(Err(e)) => error!("the Discord client task failed: {e}"),
            Err(_) => error!("the Discord client did not stop within 10 s"),
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
    let store = Arc::new(Store::open(&config.storage.path).map_err(StartError::Store)?);
    info!(
        questions = bank.len(),
        storage = %config.storage.path.display(),
        "{}",
        config.describe_target()
    );
    let app = Arc::new(App::new(config, bank, store, &options));

    let mut http =
        serenity::HttpBuilder::new(token.expose()).default_allowed_mentions(render::no_mentions());
    if let Some(base) = &app.config.discord.api_base {
        // serenity ignores the proxy while its own rate limiter is on.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();

    let setup_app = app.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |e| Box::pin(errors::on_error(e)),
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
                register_commands(
                    &app,
                    ready.application.id.get(),
                    &framework.options().commands,
                )
                .await;
                quiz::close_interrupted_rounds(&app).await;
                app.daily.spawn(app.clone(), ready.user.id);
                app.reminders.spawn(app.clone(), ready.user.id);
                app.start_maintenance();
                Ok(app)
            })
        })
        .build();

    let mut client = serenity::ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .raw_event_handler(events::RawInteractions { app: app.clone() })
        .await
        .map_err(StartError::Client)?;
    let shard_manager = client.shard_manager.clone();
    let task = tokio::spawn(async move { client.start().await });
    Ok(Bot {
        app,
        shard_manager,
        task,
    })
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

/// Runs the bot until SIGINT/SIGTERM, then shuts down cleanly.
pub async fn run(config: Config, bank: Bank) -> Result<(), StartError> {
    let mut bot = start(config, bank, StartOptions::default()).await?;
    let shard_manager = bot.shard_manager();
    let result = tokio::select! {
        // The client never ends by itself while we want it running: whatever ended it, the
        // process must exit non-zero so a supervisor restarts it.
        why = bot.wait() => Err(why),
        _ = shutdown_signal() => {
            info!("shutting down");
            bot.app.stop_background();
            shard_manager.shutdown_all().await;
            Ok(())
        }
    };
    result
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
