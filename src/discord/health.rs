//! The ops listener on `metrics.listen`: Prometheus metrics at `/metrics`, and `/healthz`.
//!
//! `/healthz` answers 200 `ok` only while every gateway shard is connected and the store
//! answers a query; otherwise 503 with one reason per line ("gateway: shard 0 is resuming",
//! "store: …"). A container's `HEALTHCHECK` and a load balancer read the status; a person
//! reads the body. `prepbot health` is the same check from the command line (the container
//! image has no curl).
//!
//! The gateway state has two sources, because serenity 0.12.5 shows a lost connection in
//! neither alone:
//! - the stage each shard runner reports to the shard manager (no shard running, identifying,
//!   a restart after a failed resume);
//! - but a connection that drops and is resumed goes from "connected" to "connected" in what
//!   the runner reports: the resume happens inside one step of its loop. serenity says so only
//!   in its log events ("Will attempt to auto-reconnect", "Attempting to resume"), so
//!   [`GatewayWatch`], a tracing layer the binary installs, counts them, and the bot counts
//!   itself connected again at its next READY or RESUMED ([`GatewayState`]).
//!
//! A connection that dies without an error reads as connected until serenity notices (a
//! missed heartbeat acknowledgement, at most one heartbeat interval, ~41 s).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use poise::serenity_prelude as serenity;
use tracing::{info, warn};

use super::App;
use crate::config::Config;

/// How long the store may take to answer before the check calls it unresponsive. A store
/// call waits at most 1 s for another process's lock; longer means it is stuck.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// How often histogram samples are folded in between scrapes, so memory stays flat.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Gateway connections serenity reported lost in this process (see the module docs).
static LOST: AtomicU64 = AtomicU64::new(0);

/// What serenity 0.12.5 logs, under `serenity::gateway`, when a connection is lost and it
/// starts over: an error on the socket, a resume, a reconnect, a shard restart.
const LOST_MESSAGES: [&str; 5] = [
    "Will attempt to auto-reconnect",
    "Attempting to auto-reconnect",
    "Attempting to resume",
    "Attempting to reconnect",
    "Requesting restart",
];

/// A tracing layer that counts the gateway connections serenity loses. Install it with
/// [`gateway_watch`]; `logging::init` does.
pub struct GatewayWatch;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for GatewayWatch {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        if LOST_MESSAGES.iter().any(|l| m.0.contains(l)) {
            LOST.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// [`GatewayWatch`] with its own filter: serenity's gateway events up to DEBUG, whatever
/// `RUST_LOG` lets through to the log lines.
pub fn gateway_watch<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    GatewayWatch.with_filter(
        tracing_subscriber::filter::filter_fn(|m| {
            m.target().starts_with("serenity::gateway") && *m.level() <= tracing::Level::DEBUG
        })
        // Trace-level callsites stay off unless RUST_LOG turns them on for the lines.
        .with_max_level_hint(tracing::level_filters::LevelFilter::DEBUG),
    )
}

/// This bot's view of its gateway connection: connected since its last READY or RESUMED,
/// unless serenity lost a connection since.
#[derive(Debug, Default)]
pub struct GatewayState {
    up: AtomicBool,
    /// [`LOST`] when the bot last connected.
    up_at: AtomicU64,
}

impl GatewayState {
    /// READY or RESUMED arrived.
    pub fn connected(&self) {
        self.up_at
            .store(LOST.load(Ordering::SeqCst), Ordering::SeqCst);
        self.up.store(true, Ordering::SeqCst);
    }

    fn status(&self) -> Result<(), &'static str> {
        if !self.up.load(Ordering::SeqCst) {
            Err("not connected yet")
        } else if LOST.load(Ordering::SeqCst) > self.up_at.load(Ordering::SeqCst) {
            Err("connection lost, resuming")
        } else {
            Ok(())
        }
    }
}

/// Why the bot is not healthy, one reason per line; `Ok` when it is.
pub async fn check(app: &Arc<App>, shards: &serenity::ShardManager) -> Result<(), String> {
    let mut reasons = Vec::new();
    if let Err(why) = gateway(app, shards).await {
        reasons.push(format!("gateway: {why}"));
    }
    let store = app.store.clone();
    let answered = tokio::time::timeout(
        STORE_TIMEOUT,
        // Off the async threads: a SQLite file locked by another process blocks its caller
        // for up to the busy timeout.
        tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(async move { store.ping().await })
        }),
    )
    .await;
    match answered {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => reasons.push(format!("store: {e}")),
        Ok(Err(e)) => reasons.push(format!("store: the check failed: {e}")),
        Err(_) => reasons.push(format!(
            "store: no answer within {} s",
            STORE_TIMEOUT.as_secs()
        )),
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons.join("\n"))
    }
}

/// `Ok` when the bot is connected, at least one shard runs and every shard is connected.
async fn gateway(app: &App, shards: &serenity::ShardManager) -> Result<(), String> {
    app.gateway.status()?;
    let runners = shards.runners.lock().await;
    if runners.is_empty() {
        return Err("no shard is running (starting, or restarting after an error)".into());
    }
    let mut ids: Vec<_> = runners.keys().copied().collect();
    ids.sort_by_key(|id| id.0);
    let down: Vec<String> = ids
        .iter()
        .filter_map(|id| {
            let stage = runners[id].stage;
            (stage != serenity::ConnectionStage::Connected)
                .then(|| format!("shard {id} is {stage}"))
        })
        .collect();
    if down.is_empty() {
        Ok(())
    } else {
        Err(down.join(", "))
    }
}

/// Serves `/metrics` and `/healthz` on `listener` until the task is aborted.
pub fn spawn(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shards: Arc<serenity::ShardManager>,
    handle: PrometheusHandle,
) -> tokio::task::JoinHandle<()> {
    let upkeep = handle.clone();
    let metrics_app = app.clone();
    let metrics_shards = shards.clone();
    let router = Router::new()
        .route(
            "/metrics",
            get(move || {
                let (app, shards, handle) =
                    (metrics_app.clone(), metrics_shards.clone(), handle.clone());
                async move {
                    // Gauges of state are read when scraped: always current, never drifting.
                    crate::metrics::quiz_rounds_running(app.quiz.running());
                    crate::metrics::gateway_connected(gateway(&app, &shards).await.is_ok());
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        handle.render(),
                    )
                }
            }),
        )
        .route(
            "/healthz",
            get(move || {
                let (app, shards) = (app.clone(), shards.clone());
                async move {
                    match check(&app, &shards).await {
                        Ok(()) => (StatusCode::OK, "ok\n".to_string()).into_response(),
                        Err(why) => {
                            (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response()
                        }
                    }
                }
            }),
        );
    super::tasks::spawn_guarded("serving /metrics and /healthz", async move {
        let upkeep_loop = async {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        };
        tokio::select! {
            served = axum::serve(listener, router) => {
                if let Err(e) = served {
                    warn!("the metrics listener stopped: {e}");
                }
            }
            () = upkeep_loop => {}
        }
    })
}

/// Binds `metrics.listen` when set; `Ok(None)` when the listener is off.
pub async fn bind(config: &Config) -> std::io::Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = config.metrics.listen_addr() else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    if let Ok(local) = listener.local_addr() {
        info!(%local, "serving metrics at http://{local}/metrics and health at http://{local}/healthz");
    }
    Ok(Some(listener))
}

/// Why `prepbot health` could not report healthy.
#[derive(Debug)]
pub enum ProbeError {
    /// `metrics.listen` is not set: there is nothing to ask.
    NotConfigured,
    /// Nothing answered at the address (the bot is not running, or still starting).
    Unreachable(String),
    /// The bot answered 503 (or another status): the body says why.
    Unhealthy(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::NotConfigured => f.write_str(
                "metrics.listen is not set in the config: the health check asks the bot's \
                 /healthz there (e.g. listen = \"127.0.0.1:9184\")",
            ),
            ProbeError::Unreachable(e) => write!(f, "no answer from the bot: {e}"),
            ProbeError::Unhealthy(body) => write!(f, "unhealthy: {}", body.trim_end()),
        }
    }
}

impl std::error::Error for ProbeError {}

/// Where to reach a listener bound to `addr`: an unspecified address (0.0.0.0, ::) is
/// reached on loopback.
pub fn probe_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// Asks the running bot's `/healthz`: the body when it answers 200.
pub async fn probe(config: &Config) -> Result<String, ProbeError> {
    let addr = config
        .metrics
        .listen_addr()
        .ok_or(ProbeError::NotConfigured)?;
    let url = format!("http://{}/healthz", probe_addr(addr));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| ProbeError::Unreachable(e.to_string()))?;
    let resp = client
        .get(&url)
        .send()
        .await
        .map_err(|e| ProbeError::Unreachable(format!("{url}: {e}")))?;
    let ok = resp.status().is_success();
    let body = resp
        .text()
        .await
        .map_err(|e| ProbeError::Unreachable(format!("{url}: {e}")))?;
    if ok {
        Ok(body)
    } else {
        Err(ProbeError::Unhealthy(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_probed_on_loopback() {
        assert_eq!(
            probe_addr("0.0.0.0:9184".parse().unwrap()),
            "127.0.0.1:9184".parse().unwrap()
        );
        assert_eq!(
            probe_addr("[::]:9184".parse().unwrap()),
            "[::1]:9184".parse().unwrap()
        );
        assert_eq!(
            probe_addr("198.51.100.7:1".parse().unwrap()),
            "198.51.100.7:1".parse().unwrap()
        );
    }
}
