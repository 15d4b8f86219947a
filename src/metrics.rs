//! The bot's Prometheus metrics: their names, help texts and buckets, and one small function
//! per thing measured, so call sites stay one line and names cannot be misspelt.
//!
//! Recording goes through the `metrics` facade. Until [`install`] runs (only when
//! `metrics.listen` is set) every call is a no-op, so a bot without the listener pays
//! nothing. The exporter is `metrics-exporter-prometheus`; `discord::health` serves its text
//! format at `/metrics`. This module knows nothing of Discord: the core (the store) records
//! here too.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const INTERACTIONS: &str = "prepbot_interactions_total";
pub const INTERACTION_SECONDS: &str = "prepbot_interaction_duration_seconds";
pub const REST_RETRIES: &str = "prepbot_rest_retries_total";
pub const DAILY_POSTS: &str = "prepbot_daily_posts_total";
pub const DAILY_LAG_SECONDS: &str = "prepbot_daily_scheduler_lag_seconds";
pub const QUIZ_ROUNDS_RUNNING: &str = "prepbot_quiz_rounds_running";
pub const STORE_CALL_SECONDS: &str = "prepbot_store_call_duration_seconds";
pub const GATEWAY_CONNECTED: &str = "prepbot_gateway_connected";

/// Upper bounds of the histogram buckets, in seconds. Interactions must be answered within
/// 3 s, so the buckets are finest below that.
const INTERACTION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0,
];
/// A store call is a local SQLite statement: tens of microseconds, up to the 1 s busy timeout.
const STORE_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0,
];
/// From "on time" to the 12 hours a missed post may still go out.
const LAG_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 43_200.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; later calls return the same handle)
/// and describes every metric.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let recorder = [
                (INTERACTION_SECONDS, INTERACTION_BUCKETS),
                (STORE_CALL_SECONDS, STORE_BUCKETS),
                (DAILY_LAG_SECONDS, LAG_BUCKETS),
            ]
            .into_iter()
            .fold(builder, |b, (name, buckets)| {
                // Only fails for empty buckets, which these are not.
                b.set_buckets_for_metric(Matcher::Full(name.into()), buckets)
                    .unwrap_or_else(|_| PrometheusBuilder::new())
            })
            .build_recorder();
            let handle = recorder.handle();
            if let Err(e) = metrics::set_global_recorder(recorder) {
                // Another recorder was installed first (an embedding program): ours then
                // renders nothing, which /metrics shows plainly rather than failing.
                tracing::warn!("metrics recorder not installed: {e}");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_counter!(
        INTERACTIONS,
        "Slash commands and button clicks handled, by command and outcome"
    );
    describe_histogram!(
        INTERACTION_SECONDS,
        metrics::Unit::Seconds,
        "Time from receiving a slash command to finishing it, by command"
    );
    describe_counter!(
        REST_RETRIES,
        "Discord REST requests retried, by the status that caused it (network: no answer)"
    );
    describe_counter!(
        DAILY_POSTS,
        "Question-of-the-day attempts, by outcome: sent, found (an earlier attempt's post), \
         failed (refused for good), retry (transient error), no_question"
    );
    describe_histogram!(
        DAILY_LAG_SECONDS,
        metrics::Unit::Seconds,
        "How long after its due time the scheduler started a daily post"
    );
    describe_gauge!(QUIZ_ROUNDS_RUNNING, "Quiz rounds running in this process");
    describe_histogram!(
        STORE_CALL_SECONDS,
        metrics::Unit::Seconds,
        "Time a store call held (and waited for) the database connection"
    );
    describe_gauge!(
        GATEWAY_CONNECTED,
        "1 while every gateway shard is connected, else 0"
    );
}

/// One finished slash command or click: `outcome` is `ok`, `user_error`, `denied`,
/// `bad_argument`, `error`, `panic`, or `unknown` (a command this bot does not have).
pub fn interaction(command: &str, outcome: &'static str, took: Option<Duration>) {
    counter!(INTERACTIONS, "command" => command.to_string(), "outcome" => outcome).increment(1);
    if let Some(t) = took {
        histogram!(INTERACTION_SECONDS, "command" => command.to_string()).record(t.as_secs_f64());
    }
}

/// A REST request about to be retried after `status` (`None`: no answer at all).
pub fn rest_retry(status: Option<u16>) {
    let status = status.map_or_else(|| "network".to_string(), |s| s.to_string());
    counter!(REST_RETRIES, "status" => status).increment(1);
}

/// How a daily post attempt ended.
pub fn daily_post(outcome: &'static str) {
    counter!(DAILY_POSTS, "outcome" => outcome).increment(1);
}

/// The scheduler started a post `lag` after it was due.
pub fn daily_lag(lag: Duration) {
    histogram!(DAILY_LAG_SECONDS).record(lag.as_secs_f64());
}

pub fn quiz_rounds_running(n: usize) {
    gauge!(QUIZ_ROUNDS_RUNNING).set(n as f64);
}

pub fn gateway_connected(up: bool) {
    gauge!(GATEWAY_CONNECTED).set(if up { 1.0 } else { 0.0 });
}

/// A store call that held the connection for `took`.
pub fn store_call(took: Duration) {
    histogram!(STORE_CALL_SECONDS).record(took.as_secs_f64());
}
