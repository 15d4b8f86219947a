//! Delivery of the sends that matter (reveals, daily posts, quiz messages), with retries.
//!
//! serenity 0.12.5 never retries a 5xx, and with `discord.api_base` set (its rate limiter must
//! be off for the proxy URL to be used) it does not retry a 429 either; its error type also
//! drops the `Retry-After` it would need. So these sends go through this small client of our
//! own: the same base URL and token as serenity's, JSON bodies built with serenity's builders,
//! responses parsed into serenity's models, and a bounded retry policy:
//!
//! * 429: wait what Discord says (`Retry-After` header or `retry_after` in the body), if that
//!   is at most [`MAX_RETRY_AFTER`]; longer means give up now and let the caller decide. A
//!   global 429 holds every send (see [`super::pace`]).
//! * 5xx and network errors: exponential backoff from [`Policy::base_delay`].
//! * Other 4xx: permanent; returned at once with Discord's error code.
//!
//! Every request but interaction callbacks and webhooks first waits for its turn under
//! Discord's global limit ([`super::pace::Pace`]), so a burst queues instead of meeting 429s.
//!
//! Retrying a create is only safe when it cannot duplicate: message creates carry a `nonce`
//! with `enforce_nonce`, so Discord returns the first message for a repeated nonce.
//!
//! Callers use the typed methods (create a message with a nonce, edit, react, open a thread,
//! answer an interaction …), never raw paths. The bot token is held as serenity's `Http` holds
//! it and never appears in errors or logs; errors carry the method, the route with any
//! interaction or webhook token redacted (see `crate::redact`), and Discord's message.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::{debug, warn};

use poise::serenity_prelude as serenity;
use serde::Serialize;

use crate::config::Secret;
use crate::redact;

/// The longest `Retry-After` we wait inside one delivery.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How long one of our requests may take, answer included. Per request rather than on the
/// client, as serenity's requests share the client and keep serenity's own behaviour.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Idle connections kept per host. A burst of a thousand interactions opens a connection per
/// concurrent request (HTTP/1.1); reqwest's default keeps every one of them, each with its
/// buffers, for 90 s. A few cover the steady state, where requests rarely overlap.
pub const POOL_IDLE_PER_HOST: usize = 4;
/// How long an idle connection is kept before it is closed.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// The bot's one HTTP client, for our deliveries and serenity's `Http` alike, with a bounded
/// pool of idle connections (see [`POOL_IDLE_PER_HOST`]).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!(
            "DiscordBot (https://github.com/prepbot/prepbot, ",
            env!("CARGO_PKG_VERSION"),
            ")"
        ))
        .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// Our requests on the wire at once. A burst of a thousand `/ask` otherwise opens a thousand
/// connections at once, each with its buffers (most of the burst's memory); the rest wait
/// their turn, in order (tokio's semaphore is fair), so the interaction callbacks, sent
/// first, go out first. 128 at Discord's ~100 ms per request is over a thousand callbacks
/// a second, well within the 3 s an interaction has.
pub const MAX_IN_FLIGHT: usize = 128;

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
    /// What was being sent, e.g. `POST /channels/1/messages`; tokens in the route redacted.
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
    /// Discord's global limit, shared by every clone.
    pace: Arc<super::pace::Pace>,
    /// Requests on the wire at once (see [`MAX_IN_FLIGHT`]); shared by the clones.
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Deliverer {
    /// `base` is e.g. `https://discord.com` or the configured `discord.api_base`.
    pub fn new(base: &str, token: &Secret, policy: Policy) -> Deliverer {
        let client = http_client();
        let t = token.expose().trim();
        let auth = if t.starts_with("Bot ") {
            t.to_string()
        } else {
            format!("Bot {t}")
        };
        Deliverer {
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            client,
            base: format!("{}/api/v10", base.trim_end_matches('/')),
            auth: Secret::new(auth),
            policy,
            pace: Arc::new(super::pace::Pace::discord()),
        }
    }

    /// The HTTP client, for serenity's `Http` to share: one bounded connection pool for every
    /// REST call the bot makes.
    pub fn client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// Creates a message. Callers set a `nonce` with `enforce_nonce` whenever the send may be
    /// retried (it is, on 5xx and 429), so Discord returns the first message for a repeat.
    pub async fn create_message(
        &self,
        channel_id: u64,
        msg: &serenity::CreateMessage,
    ) -> Result<serenity::Message, DeliveryError> {
        let path = format!("/channels/{channel_id}/messages");
        self.send(Method::POST, &path, Some(&body(msg))).await
    }

    /// Edits a message with a partial body (only the keys given change).
    pub async fn edit_message(
        &self,
        channel_id: u64,
        message_id: u64,
        edit: &impl Serialize,
    ) -> Result<serenity::Message, DeliveryError> {
        let path = format!("/channels/{channel_id}/messages/{message_id}");
        self.send(Method::PATCH, &path, Some(&body(edit))).await
    }

    pub async fn get_message(
        &self,
        channel_id: u64,
        message_id: u64,
    ) -> Result<serenity::Message, DeliveryError> {
        let path = format!("/channels/{channel_id}/messages/{message_id}");
        self.send(Method::GET, &path, None).await
    }

    /// Up to `limit` (≤ 100) of the messages that follow the snowflake `after`: the oldest
    /// ones after it, so paging forward from the greatest id returned visits every message.
    /// The order within a page is not relied on.
    pub async fn messages_after(
        &self,
        channel_id: u64,
        after: u64,
        limit: u8,
    ) -> Result<Vec<serenity::Message>, DeliveryError> {
        let path = format!(
            "/channels/{channel_id}/messages?after={after}&limit={}",
            limit.clamp(1, 100)
        );
        self.send(Method::GET, &path, None).await
    }

    /// Adds the bot's own reaction (a Unicode emoji or `name:id` of a custom one).
    pub async fn react(
        &self,
        channel_id: u64,
        message_id: u64,
        emoji: &str,
    ) -> Result<(), DeliveryError> {
        let path = format!(
            "/channels/{channel_id}/messages/{message_id}/reactions/{}/@me",
            encode_emoji(emoji)
        );
        self.send_raw(Method::PUT, &path, None, self.policy.attempts)
            .await
            .map(|_| ())
    }

    /// Opens a public thread on a message. Discord refuses a second thread on the same
    /// message (code 160004), which makes a retry after an unknown outcome safe.
    pub async fn start_thread(
        &self,
        channel_id: u64,
        message_id: u64,
        name: &str,
        auto_archive_minutes: u16,
    ) -> Result<serenity::GuildChannel, DeliveryError> {
        let path = format!("/channels/{channel_id}/messages/{message_id}/threads");
        let b = serde_json::json!({ "name": name, "auto_archive_duration": auto_archive_minutes });
        self.send(Method::POST, &path, Some(&b)).await
    }

    /// The DM channel with a user (created when missing; Discord returns the same one).
    pub async fn create_dm(&self, user_id: u64) -> Result<serenity::PrivateChannel, DeliveryError> {
        let b = serde_json::json!({ "recipient_id": user_id.to_string() });
        self.send(Method::POST, "/users/@me/channels", Some(&b))
            .await
    }

    pub async fn get_channel(&self, channel_id: u64) -> Result<serenity::Channel, DeliveryError> {
        self.send(Method::GET, &format!("/channels/{channel_id}"), None)
            .await
    }

    /// Answers an interaction with `?with_response=true`, so Discord returns the message it
    /// created, parsed as `T` (only the fields a caller needs: parsing a whole message costs
    /// more than the rest of the answer). One attempt only: Discord accepts one answer,
    /// within 3 s.
    pub async fn interaction_callback<T: DeserializeOwned>(
        &self,
        interaction_id: u64,
        token: &str,
        response: &serenity::CreateInteractionResponse,
    ) -> Result<T, DeliveryError> {
        let path = format!("/interactions/{interaction_id}/{token}/callback?with_response=true");
        let bytes = self
            .send_raw(Method::POST, &path, Some(&body(response)), 1)
            .await?;
        parse(&Method::POST, &path, &bytes)
    }

    /// The bot's application (`GET /oauth2/applications/@me`): its id and flags. The first
    /// request at start, so a refused token (401) is reported before anything else.
    pub async fn application(&self) -> Result<Value, DeliveryError> {
        self.send(Method::GET, "/oauth2/applications/@me", None)
            .await
    }

    /// Replaces the application's commands (globally, or in one guild).
    pub async fn put_commands(
        &self,
        application_id: u64,
        guild_id: Option<u64>,
        commands: &Value,
    ) -> Result<Value, DeliveryError> {
        let path = match guild_id {
            Some(g) => format!("/applications/{application_id}/guilds/{g}/commands"),
            None => format!("/applications/{application_id}/commands"),
        };
        self.send(Method::PUT, &path, Some(commands)).await
    }

    async fn send<T: DeserializeOwned>(
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

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        attempts: u32,
    ) -> Result<Vec<u8>, DeliveryError> {
        let what = redact::route(method.as_str(), path);
        let mut delay = self.policy.base_delay;
        let mut attempt = 1;
        // Interaction endpoints are not bound by the global limit.
        let paced = !path.starts_with("/interactions/") && !path.starts_with("/webhooks/");
        loop {
            if paced {
                self.pace.turn().await;
            }
            let mut req = self
                .client
                .request(method.clone(), format!("{}{path}", self.base))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", self.auth.expose());
            if let Some(b) = body {
                req = req.json(b);
            }
            // Held until the answer is read (the connection is busy until then), not during a
            // retry's wait. The semaphore is never closed, so acquiring cannot fail.
            let permit = self.in_flight.acquire().await.ok();
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
                    let global_header = resp
                        .headers()
                        .get("x-ratelimit-global")
                        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
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
                        let wait = retry_after(header_wait.as_deref(), &json).unwrap_or(delay);
                        if global_header || json.get("global") == Some(&Value::Bool(true)) {
                            // The whole bot is over its budget: hold every send, not just this.
                            self.pace.hold(wait.min(MAX_RETRY_AFTER));
                        }
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
            drop(permit);
            let (err, wait) = wait;
            if attempt >= attempts {
                warn!(%what, attempts = attempt, error = %err.summary(), "giving up");
                return Err(err);
            }
            crate::metrics::rest_retry(err.status);
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
        what: redact::route(method.as_str(), path),
        status: None,
        code: None,
        message: format!("unexpected response from Discord: {e}"),
    })
}

/// A serenity builder (or any serialisable value) as a JSON body.
pub fn body<T: Serialize + ?Sized>(builder: &T) -> Value {
    serde_json::to_value(builder).unwrap_or(Value::Null)
}

/// Percent-encodes an emoji for a URL path segment.
pub fn encode_emoji(emoji: &str) -> String {
    let mut out = String::new();
    for b in emoji.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The longest wait a 429 can make us consider; anything above is treated as this (and so
/// as longer than [`MAX_RETRY_AFTER`]: give up).
const RETRY_AFTER_CEILING_SECS: f64 = 86_400.0;

/// How long a 429 asks us to wait: the `Retry-After` header, else `retry_after` in the body
/// (seconds, fractional allowed). Values Discord would never send (negative, NaN, infinite,
/// absurdly large) must not panic `Duration`: a non-finite or negative one is ignored (the
/// caller's backoff applies), a huge one is clamped to a day.
pub fn retry_after(header: Option<&str>, body: &Value) -> Option<Duration> {
    let header = header.and_then(|h| h.trim().parse::<f64>().ok());
    let body = body.get("retry_after").and_then(Value::as_f64);
    header
        .into_iter()
        .chain(body)
        .find(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s.min(RETRY_AFTER_CEILING_SECS)).ok())
}

fn retry_after_header(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_never_panics_and_clamps() {
        assert_eq!(
            retry_after(Some("1.5"), &Value::Null),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(None, &json!({"retry_after": 0.25})),
            Some(Duration::from_millis(250))
        );
        // Header first; a bad header falls back to the body.
        assert_eq!(
            retry_after(Some("nope"), &json!({"retry_after": 2})),
            Some(Duration::from_secs(2))
        );
        for bad in ["-1", "NaN", "inf", "-inf", ""] {
            assert_eq!(retry_after(Some(bad), &Value::Null), None, "{bad}");
        }
        assert_eq!(retry_after(None, &json!({"retry_after": -3.0})), None);
        assert_eq!(
            retry_after(Some("1e300"), &Value::Null),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            retry_after(None, &json!({"retry_after": 1e308})),
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn errors_name_the_route_without_tokens() {
        let e = parse::<Value>(
            &Method::POST,
            "/interactions/1/tok3n-value/callback",
            b"{not json",
        )
        .unwrap_err();
        assert!(!e.to_string().contains("tok3n-value"), "{e}");
        assert!(
            e.to_string()
                .contains("/interactions/1/<redacted>/callback"),
            "{e}"
        );
    }

    #[test]
    fn emoji_encoding() {
        assert_eq!(encode_emoji("💡"), "%F0%9F%92%A1");
        assert_eq!(encode_emoji("idea:123"), "idea:123");
    }
}
