//! Delivery of the sends that matter (reveals, daily posts, quiz messages), with retries.
//!
//! serenity 0.12.5 never retries a 5xx, and with `discord.api_base` set (its rate limiter must
//! be off for the proxy URL to be used) it does not retry a 429 either; its error type also
//! drops the `Retry-After` it would need. So these sends go through this small client of our
//! own: the same base URL and token as serenity's, JSON bodies built with serenity's builders,
//! responses parsed into serenity's models, and a bounded retry policy:
//!
//! * 429: wait what Discord says (`Retry-After` header or `retry_after` in the body), if that
//!   is at most [`MAX_RETRY_AFTER`]; longer means give up now and let the caller decide.
//! * 5xx and network errors: exponential backoff from [`Policy::base_delay`].
//! * Other 4xx: permanent; returned at once with Discord's error code.
//!
//! Retrying a create is only safe when it cannot duplicate: message creates carry a `nonce`
//! with `enforce_nonce`, so Discord returns the first message for a repeated nonce.
//!
//! The token is held as serenity's `Http` holds it and never appears in errors or logs:
//! errors carry the method, the route and Discord's message, never headers.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::{debug, warn};

use crate::config::Secret;

/// The longest `Retry-After` we wait inside one delivery.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// Why a delivery failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// What was being sent, e.g. `POST /channels/1/messages`.
    pub what: String,
    /// HTTP status, when Discord answered.
    pub status: Option<u16>,
    /// Discord's JSON error code (e.g. 50001 Missing Access, 50007 DMs closed).
    pub code: Option<i64>,
    pub message: String,
}

impl DeliveryError {
    /// Retrying later will not help: the channel is gone, access or permission is missing, the
    /// request was rejected. (429 and 5xx are transient.)
    pub fn is_permanent(&self) -> bool {
        matches!(self.status, Some(s) if (400..500).contains(&s) && s != 429)
    }

    /// The recipient does not accept DMs from the bot.
    pub fn is_dm_closed(&self) -> bool {
        self.code == Some(50007)
    }

    /// A short text for an admin, e.g. "Missing Permissions (403, code 50013)".
    pub fn summary(&self) -> String {
        match (self.status, self.code) {
            (Some(s), Some(c)) if c != 0 => format!("{} (HTTP {s}, code {c})", self.message),
            (Some(s), _) => format!("{} (HTTP {s})", self.message),
            _ => self.message.clone(),
        }
    }
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.what, self.summary())
    }
}

impl std::error::Error for DeliveryError {}

/// A minimal REST client for Discord's v10 API with retries.
#[derive(Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    base: String,
    auth: Secret,
    policy: Policy,
}

impl Deliverer {
    /// `base` is e.g. `https://discord.com` or the configured `discord.api_base`.
    pub fn new(base: &str, token: &Secret, policy: Policy) -> Deliverer {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "DiscordBot (https://github.com/prepbot/prepbot, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        let t = token.expose().trim();
        let auth = if t.starts_with("Bot ") {
            t.to_string()
        } else {
            format!("Bot {t}")
        };
        Deliverer {
            client,
            base: format!("{}/api/v10", base.trim_end_matches('/')),
            auth: Secret::new(auth),
            policy,
        }
    }

    /// Sends `body` to `path` (e.g. `/channels/1/messages`) and parses the answer as `T`.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, DeliveryError> {
        let bytes = self
            .send_raw(method.clone(), path, body, self.policy.attempts)
            .await?;
        parse(&method, path, &bytes)
    }

    /// Like [`send`](Self::send), one attempt only: for interaction callbacks, which must
    /// answer within Discord's 3 s and which Discord accepts once.
    pub async fn send_once<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, DeliveryError> {
        let bytes = self.send_raw(method.clone(), path, body, 1).await?;
        parse(&method, path, &bytes)
    }

    /// Like [`send`](Self::send) for routes that answer 204 No Content.
    pub async fn send_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(), DeliveryError> {
        self.send_raw(method, path, body, self.policy.attempts)
            .await
            .map(|_| ())
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        attempts: u32,
    ) -> Result<Vec<u8>, DeliveryError> {
        let what = format!("{method} {path}");
        let mut delay = self.policy.base_delay;
        let mut attempt = 1;
        loop {
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .header("Authorization", self.auth.expose());
            if let Some(b) = body {
                req = req.json(b);
            }
            let outcome = req.send().await;
            let wait = match outcome {
                Ok(resp) if resp.status().is_success() => {
                    return resp
                        .bytes()
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| DeliveryError {
                            what: what.clone(),
                            status: None,
                            code: None,
                            message: format!("reading the response failed: {}", e.without_url()),
                        });
                }
                Ok(resp) => {
                    let status = resp.status();
                    let header_wait = retry_after_header(&resp);
                    let json: Value = resp.json().await.unwrap_or(Value::Null);
                    let err = DeliveryError {
                        what: what.clone(),
                        status: Some(status.as_u16()),
                        code: json.get("code").and_then(Value::as_i64),
                        message: json
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error"))
                            .to_string(),
                    };
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let body_wait = json
                            .get("retry_after")
                            .and_then(Value::as_f64)
                            .map(Duration::from_secs_f64);
                        let wait = header_wait.or(body_wait).unwrap_or(delay);
                        if wait > MAX_RETRY_AFTER {
                            warn!(%what, ?wait, "rate limited for longer than we wait; giving up");
                            return Err(err);
                        }
                        (err, wait)
                    } else if status.is_server_error() {
                        (err, delay)
                    } else {
                        return Err(err);
                    }
                }
                Err(e) => (
                    DeliveryError {
                        what: what.clone(),
                        status: None,
                        code: None,
                        // `without_url`: the URL may hold an interaction token.
                        message: format!("could not reach Discord: {}", e.without_url()),
                    },
                    delay,
                ),
            };
            let (err, wait) = wait;
            if attempt >= attempts {
                warn!(%what, attempts = attempt, error = %err.summary(), "giving up");
                return Err(err);
            }
            debug!(%what, attempt, ?wait, error = %err.summary(), "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
            delay = (delay * 2).min(self.policy.max_delay);
        }
    }
}

fn parse<T: DeserializeOwned>(
    method: &Method,
    path: &str,
    bytes: &[u8],
) -> Result<T, DeliveryError> {
    let bytes = if bytes.is_empty() {
        &b"null"[..]
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| DeliveryError {
        what: format!("{method} {path}"),
        status: None,
        code: None,
        message: format!("unexpected response from Discord: {e}"),
    })
}

fn retry_after_header(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}
