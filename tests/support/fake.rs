//! A fake Discord (REST v10 + gateway v10) on 127.0.0.1 for end-to-end tests of the real
//! serenity client. Tests never touch the internet.
//!
//! One axum server serves both:
//! - the gateway WebSocket at `/gateway` (serenity connects to `<url from GET /gateway>?v=10`):
//!   HELLO → IDENTIFY → READY + GUILD_CREATE, HEARTBEAT → ACK, RESUME → RESUMED, plus faults
//!   (drop the socket, op 7 RECONNECT, op 9 INVALID_SESSION, an outage that holds IDENTIFY
//!   and RESUME, close 4014 for intents);
//! - REST under `/api/v10/…` (serenity sends there when its `Http` is built with
//!   `.proxy(fake.api_base())`): a handful of routes with an in-memory store of messages,
//!   interactions, commands and channels. Every request is recorded, unknown routes answer
//!   404 `Unknown route`, and JSON bodies are checked against Discord's OpenAPI spec.
//!
//! The handle is cheap to clone. State sits behind one std `Mutex` that is never held across an
//! `.await`; a `Notify` wakes `wait_for`/`wait_ready` whenever something is recorded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use super::payloads::{self as p, TestUser, ADMIN, BOT, MEMBER, OWNER};
use super::schema;

/// How long Discord remembers a message nonce for `enforce_nonce`: "a few minutes".
pub const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// One REST request as the fake saw it, and what it answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Percent-decoded path without the `/api/v10` prefix, e.g. `/channels/1/messages`.
    pub path: String,
    /// Raw query string without `?` ("" when none).
    pub query: String,
    /// The JSON body; `Value::Null` when there was none, a string when it was not JSON.
    pub body: Value,
    /// The status the fake answered.
    pub status: u16,
    /// When the fake's handler got the request (before its body was checked or routed), for
    /// latency measurements such as `benches/ask_latency.rs`.
    pub at: Instant,
    /// How long the answer was held back after the request took effect (see
    /// [`FakeDiscord::hold_next`]).
    pub held: Option<Duration>,
    /// Files uploaded with the request (`multipart/form-data`, as Discord takes attachments);
    /// `body` is then the `payload_json` part.
    pub files: Vec<Upload>,
    /// The label of the base URL the request came through (see [`FakeDiscord::api_base_via`]):
    /// which of several bot processes sent it. `None` for [`FakeDiscord::api_base`].
    pub via: Option<String>,
}

/// One file of a multipart request.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The form field, e.g. `files[0]`.
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Recorded {
    /// `r.is("POST", "/channels/")`: method equals and path starts with `path_prefix`.
    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        self.method == method && self.path.starts_with(path_prefix)
    }
}

/// A request body that real Discord would reject.
#[derive(Clone, Debug)]
pub struct Violation {
    pub method: String,
    pub path: String,
    /// The spec's path template (or the fake's own rule set, for the extra message rules).
    pub template: String,
    pub message: String,
}

#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
}

struct Inner {
    port: u16,
    state: Mutex<State>,
    /// Signalled after every recorded request and gateway state change.
    changed: Notify,
    /// While true, IDENTIFY and RESUME wait unanswered (a gateway outage the client notices):
    /// `hold_gateway` / `release_gateway`.
    held: std::sync::atomic::AtomicBool,
}

struct Delay {
    method: String,
    path_part: String,
    delay: Duration,
    remaining: usize,
}

struct Fault {
    method: String,
    path_part: String,
    status: u16,
    retry_after: Option<f64>,
    remaining: usize,
}

/// Discord's global rate limit: at most `per_second` requests in each second (fixed windows
/// from the first request), interaction endpoints exempt.
struct GlobalLimit {
    per_second: u32,
    window_start: Instant,
    used: u32,
}

/// A request that takes effect at once but is answered only after `delay`.
struct Hold {
    method: String,
    path_part: String,
    delay: Duration,
    remaining: usize,
}

/// What the fake remembers about an interaction it dispatched, to answer callbacks/webhooks.
struct Interaction {
    id: u64,
    kind: u8,
    channel_id: u64,
    invoker: Value,
    command_name: String,
    /// For component interactions: the message the component is on (`@original` for 6/7).
    clicked_message: Option<u64>,
    response_type: Option<u8>,
    original: Option<u64>,
}

enum Outgoing {
    Frame(Value),
    /// Close the TCP connection without a WebSocket close handshake.
    Drop,
}

/// An open gateway connection: the sender to its task, and the label of the URL it came in
/// through (see [`FakeDiscord::api_base_via`]).
struct Conn {
    tx: mpsc::UnboundedSender<Outgoing>,
    via: Option<String>,
}

/// A gateway session: one shard the bot identified for.
struct Session {
    shard: u32,
    total: u32,
    session_id: String,
    seq: u64,
    /// The connection it is attached to (`None` after a drop, until a RESUME).
    conn: Option<u64>,
    /// READY or RESUMED was sent on `conn`.
    live: bool,
}

/// Where a dispatch went: the shard session and connection that carried it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub event: String,
    /// The guild of the event (`None`: a DM, sent on shard 0).
    pub guild_id: Option<u64>,
    pub shard: u32,
    pub total: u32,
    /// The label of the connection's URL (which bot process got it).
    pub via: Option<String>,
    /// The `id` of the dispatch's data (an interaction's id).
    pub id: Option<u64>,
}

struct Gateway {
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    /// By shard id: the last IDENTIFY for a shard replaces its session.
    sessions: BTreeMap<u32, Session>,
    intents: u64,
    identifies: Vec<Value>,
    resumes: usize,
    /// Dispatches made while the session of their shard was not live; sent after that
    /// shard's next READY/RESUMED.
    backlog: Vec<(String, Value)>,
    deliveries: Vec<Delivery>,
    /// What `GET /gateway/bot` recommends.
    recommended_shards: u32,
    /// `session_start_limit.max_concurrency` of `GET /gateway/bot`.
    max_concurrency: u32,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            conns: HashMap::new(),
            next_conn: 0,
            sessions: BTreeMap::new(),
            intents: 0,
            identifies: Vec::new(),
            resumes: 0,
            backlog: Vec::new(),
            deliveries: Vec::new(),
            recommended_shards: 1,
            max_concurrency: 1,
        }
    }
}

/// The shard that carries a guild's events: `(guild_id >> 22) % total`, as on Discord; DMs
/// (no guild) go to shard 0.
pub fn shard_of(guild_id: Option<u64>, total: u32) -> u32 {
    guild_id.map_or(0, |g| ((g >> 22) % u64::from(total.max(1))) as u32)
}

/// The guild of a dispatch's data (`guild_id`, or a GUILD_CREATE's own `id`).
fn guild_of(event: &str, data: &Value) -> Option<u64> {
    let g = if event == "GUILD_CREATE" || event == "GUILD_DELETE" {
        &data["id"]
    } else {
        &data["guild_id"]
    };
    g.as_str().and_then(|g| g.parse().ok())
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    violations: Vec<Violation>,
    faults: Vec<Fault>,
    holds: Vec<Hold>,
    delays: Vec<Delay>,
    /// IDENTIFY is answered with close code 4014 (Disallowed intent(s)).
    disallow_intents: bool,
    closed_dms: HashSet<u64>,
    users: BTreeMap<u64, TestUser>,
    /// Guild channels (incl. the category and threads) and DM channels, by id.
    channels: BTreeMap<u64, Value>,
    dm_by_user: HashMap<u64, u64>,
    /// All live messages by id; ids grow with time, so this is creation order.
    messages: BTreeMap<u64, Value>,
    /// Message nonces per channel, with when they were first used: with `enforce_nonce`, a
    /// repeat within [`NONCE_WINDOW`] returns the first message, as Discord does ("a few
    /// minutes"); after it, a repeat creates a new message. `expire_nonces` ends the window.
    nonces: HashMap<(u64, String), (u64, Instant)>,
    /// By token.
    interactions: HashMap<String, Interaction>,
    global_commands: Vec<Value>,
    guild_commands: BTreeMap<u64, Vec<Value>>,
    /// The guilds the bot is in, with their names (the test guild, and `join_guild`'s).
    guilds: BTreeMap<u64, String>,
    /// Discord's global rate limit, when on (`limit_global`).
    global_limit: Option<GlobalLimit>,
    gateway: Gateway,
}

struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: Some(body),
        headers: Vec::new(),
    }
}
fn no_content() -> Reply {
    Reply {
        status: 204,
        body: None,
        headers: Vec::new(),
    }
}
fn err(status: u16, code: u32, message: &str) -> Reply {
    Reply {
        status,
        body: Some(p::error(code, message)),
        headers: Vec::new(),
    }
}

impl FakeDiscord {
    /// Binds 127.0.0.1:0 and serves until the test's runtime ends.
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let mut state = State::default();
        for u in [ADMIN, MEMBER, OWNER, BOT] {
            state.users.insert(u.id, u);
        }
        state.guilds.insert(p::GUILD_ID, "Interview Prep".into());
        state.channels.insert(
            p::CATEGORY_ID,
            p::category_channel(p::CATEGORY_ID, "Text Channels"),
        );
        state
            .channels
            .insert(p::CHANNEL_ID, p::text_channel(p::CHANNEL_ID, "general", 0));
        state.channels.insert(
            p::OTHER_CHANNEL_ID,
            p::text_channel(p::OTHER_CHANNEL_ID, "bot-commands", 1),
        );
        state.channels.insert(
            p::VOICE_CHANNEL_ID,
            p::voice_channel(p::VOICE_CHANNEL_ID, "Lounge"),
        );
        state.channels.insert(
            p::FOREIGN_CHANNEL_ID,
            p::foreign_text_channel(p::FOREIGN_CHANNEL_ID, p::FOREIGN_GUILD_ID),
        );
        let fake = FakeDiscord {
            inner: Arc::new(Inner {
                port,
                state: Mutex::new(state),
                changed: Notify::new(),
                held: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        // Parse the spec before the bot's first request, so that request is not slow.
        tokio::task::spawn_blocking(schema::spec).await.unwrap();
        let app = Router::new()
            .route("/gateway", get(gateway_ws))
            .route("/via/{label}/gateway", get(gateway_ws_via))
            .fallback(rest)
            .with_state(fake.clone());
        // As Discord's edge does: without TCP_NODELAY, a gateway frame sent while the bot has
        // not yet acknowledged the previous one waits for the bot's delayed ACK (~40 ms), which
        // benches measured as interaction latency.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                eprintln!("fake discord: cannot set TCP_NODELAY: {e}");
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake discord server")
        });
        fake
    }

    /// `http://127.0.0.1:PORT`: pass to `HttpBuilder::proxy`.
    pub fn api_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.inner.port)
    }

    /// What `GET /gateway` answers and READY's `resume_gateway_url`.
    pub fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/gateway", self.inner.port)
    }

    /// Like [`api_base`](Self::api_base), with a label: requests through it are recorded with
    /// `via: Some(label)`, and `GET /gateway` through it answers a gateway URL with the same
    /// label, so every request and gateway session of a bot process configured with it says
    /// which process it was. (serenity's proxy mode replaces `https://discord.com` by the
    /// base, so a path prefix passes through.)
    pub fn api_base_via(&self, label: &str) -> String {
        format!("http://127.0.0.1:{}/via/{label}", self.inner.port)
    }

    fn gateway_url_via(&self, via: Option<&str>) -> String {
        match via {
            Some(label) => format!("ws://127.0.0.1:{}/via/{label}/gateway", self.inner.port),
            None => self.gateway_url(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- waiting ----------------------------------------------------------------------------

    /// Waits until `done` holds, re-checking whenever the fake's state changes.
    async fn wait_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut done: impl FnMut(&State) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before checking, so a change in between is not missed.
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(t) = done(&self.state()) {
                return t;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let log: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("  {} {} -> {}", r.method, r.path, r.status))
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {what}; requests so far:\n{}",
                    log.join("\n")
                );
            }
        }
    }

    /// Waits until a gateway session is live: the bot identified and got READY + GUILD_CREATE,
    /// or resumed. After a gateway fault, call it again to wait for the reconnect.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until(timeout, "a live gateway session", |s| {
            s.gateway.sessions.values().any(|x| x.live).then_some(())
        })
        .await
    }

    /// Waits until every shard of `shards` has a live session for `total` shards.
    pub async fn wait_shards_live(&self, shards: &[u32], total: u32, timeout: Duration) {
        let what = format!("live sessions of shards {shards:?} of {total}");
        self.wait_until(timeout, &what, |s| {
            shards
                .iter()
                .all(|id| {
                    s.gateway
                        .sessions
                        .get(id)
                        .is_some_and(|x| x.live && x.total == total)
                })
                .then_some(())
        })
        .await
    }

    /// Waits until none of `shards` has a live session (its process died or disconnected).
    pub async fn wait_until_shards_down(&self, shards: &[u32]) {
        let what = format!("shards {shards:?} to go down");
        self.wait_until(Duration::from_secs(10), &what, |s| {
            shards
                .iter()
                .all(|id| !s.gateway.sessions.get(id).is_some_and(|x| x.live))
                .then_some(())
        })
        .await
    }

    /// The live sessions: `(shard, total, via)` of each.
    pub fn live_shards(&self) -> Vec<(u32, u32, Option<String>)> {
        let st = self.state();
        st.gateway
            .sessions
            .values()
            .filter(|x| x.live)
            .map(|x| (x.shard, x.total, st.conn_via(x.conn)))
            .collect()
    }

    /// Every dispatch sent so far, with the session that carried it.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state().gateway.deliveries.clone()
    }

    /// What `GET /gateway/bot` answers: `shards` recommended, and `max_concurrency` shards
    /// that may identify together (default 1 and 1).
    pub fn set_bot_gateway(&self, shards: u32, max_concurrency: u32) {
        let mut st = self.state();
        st.gateway.recommended_shards = shards;
        st.gateway.max_concurrency = max_concurrency;
    }

    /// Makes the bot a member of another guild, with one text channel (returned). Its
    /// GUILD_CREATE goes out on its shard: now if that shard's session is live, else with the
    /// shard's next READY. Interactions and reactions in its channels carry its id.
    pub fn join_guild(&self, guild_id: u64, name: &str) -> u64 {
        let channel_id = p::snowflake();
        let mut channel = p::foreign_text_channel(channel_id, guild_id);
        channel["name"] = json!("general");
        let live = {
            let mut st = self.state();
            st.guilds.insert(guild_id, name.to_string());
            st.channels.insert(channel_id, channel);
            st.live_session_for(Some(guild_id)).is_some()
        };
        if live {
            let create = self.state().guild_create_of(guild_id);
            self.dispatch("GUILD_CREATE", create);
        }
        channel_id
    }

    /// The first recorded request (from the start of the test) matching `pred`.
    pub async fn wait_for(&self, pred: impl Fn(&Recorded) -> bool, timeout: Duration) -> Recorded {
        self.wait_until(timeout, "a matching request", |s| {
            s.requests.iter().find(|r| pred(r)).cloned()
        })
        .await
    }

    /// Waits for the response callback of an interaction payload built by this fake.
    pub async fn wait_callback(&self, interaction: &Value, timeout: Duration) -> Recorded {
        let prefix = format!(
            "/interactions/{}/",
            interaction["id"].as_str().unwrap_or_default()
        );
        self.wait_for(|r| r.is("POST", &prefix), timeout).await
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// Removes and returns every recorded request: benches that send thousands of
    /// interactions keep the log short, as `wait_for` scans it from the start.
    pub fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.state().requests)
    }

    pub fn count(&self, pred: impl Fn(&Recorded) -> bool) -> usize {
        self.state().requests.iter().filter(|r| pred(r)).count()
    }

    // ---- gateway ------------------------------------------------------------------------------

    pub fn identify_count(&self) -> usize {
        self.state().gateway.identifies.len()
    }

    /// The `d` of every IDENTIFY received (token, intents, shard, properties, …).
    pub fn identifies(&self) -> Vec<Value> {
        self.state().gateway.identifies.clone()
    }

    /// The READY data IDENTIFY is answered with (session id aside).
    pub fn ready_payload(&self) -> Value {
        let guilds: Vec<u64> = self.state().guilds.keys().copied().collect();
        p::ready("fake-session", &self.gateway_url(), &json!([0, 1]), &guilds)
    }

    /// The GUILD_CREATE data sent after READY (current channels and members).
    pub fn guild_create_payload(&self) -> Value {
        self.state().guild_create()
    }

    pub fn resume_count(&self) -> usize {
        self.state().gateway.resumes
    }

    /// Sends a dispatch (op 0) with the next sequence number, on the session of the shard of
    /// its guild (`(guild_id >> 22) % total`; shard 0 for a DM), as Discord does. Without a
    /// live session for that shard it is held back and sent after the shard's next
    /// READY/RESUMED. Events the bot's intents do not cover are dropped (with a note on
    /// stderr), as Discord would never send them.
    /// INTERACTION_CREATE payloads are remembered so their callbacks and webhooks can be answered.
    pub fn dispatch(&self, event: &str, data: Value) {
        let mut st = self.state();
        if event == "INTERACTION_CREATE" {
            st.remember_interaction(&data);
        }
        if let Some(intent) = required_intent(event, &data) {
            if !st.gateway.identifies.is_empty() && st.gateway.intents & intent == 0 {
                eprintln!("fake discord: not sending {event}: the bot's intents lack {intent:#x}");
                return;
            }
        }
        let guild = guild_of(event, &data);
        match st.live_session_for(guild) {
            Some(shard) => {
                let frame = st.next_dispatch(shard, event, data);
                st.send(shard, Outgoing::Frame(frame));
            }
            None => st.gateway.backlog.push((event.to_string(), data)),
        }
    }

    /// Fault: closes the gateway TCP connection without a close frame. The session survives, so
    /// serenity resumes.
    pub fn drop_gateway(&self) {
        let mut st = self.state();
        let shards: Vec<u32> = st.gateway.sessions.keys().copied().collect();
        for shard in shards {
            st.send(shard, Outgoing::Drop);
            st.detach(shard);
        }
    }

    /// Fault: a gateway outage. From now on IDENTIFY and RESUME get no answer (the socket
    /// stays open; keep it shorter than a heartbeat interval) until
    /// [`release_gateway`](Self::release_gateway).
    /// With `drop_gateway` it keeps the bot between "connection lost" and "resumed" for as long
    /// as a test needs to look.
    pub fn hold_gateway(&self) {
        self.inner
            .held
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Ends `hold_gateway`: waiting IDENTIFYs and RESUMEs are answered.
    pub fn release_gateway(&self) {
        self.inner
            .held
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.inner.changed.notify_waiters();
    }

    async fn wait_released(&self) {
        loop {
            // Register interest before checking, so a release in between is not missed.
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.inner.held.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Fault: IDENTIFY is answered by closing with 4014 "Disallowed intent(s)", as Discord
    /// does for a privileged intent the application has not enabled.
    pub fn disallow_intents(&self) {
        self.state().disallow_intents = true;
    }

    /// Fault: op 7 RECONNECT. serenity reconnects and resumes.
    pub fn send_reconnect(&self) {
        self.detach_with(p::frame(7, None, None, Value::Null), true);
    }

    /// Fault: op 9 INVALID_SESSION. With `resumable = false` the session is forgotten and
    /// serenity re-identifies (its shard queuer waits ~5 s between IDENTIFYs).
    pub fn invalidate_session(&self, resumable: bool) {
        self.detach_with(p::frame(9, None, None, json!(resumable)), resumable);
    }

    /// Sends a last frame, then stops routing dispatches to the connection. The socket stays
    /// open for serenity to close: if the fake closed it, serenity 0.12.5 could spin forever in
    /// `checked_shutdown` waiting for a close frame from an already-ended stream.
    fn detach_with(&self, frame: Value, keep_session: bool) {
        let mut st = self.state();
        let shards: Vec<u32> = st.gateway.sessions.keys().copied().collect();
        for shard in shards {
            st.send(shard, Outgoing::Frame(frame.clone()));
            st.detach(shard);
            if !keep_session {
                st.gateway.sessions.remove(&shard);
            }
        }
    }

    async fn run_gateway(self, mut socket: WebSocket, via: Option<String>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let conn_id = {
            let mut st = self.state();
            st.gateway.next_conn += 1;
            let id = st.gateway.next_conn;
            st.gateway.conns.insert(
                id,
                Conn {
                    tx,
                    via: via.clone(),
                },
            );
            id
        };
        let ws_url = self.gateway_url_via(via.as_deref());
        if send_frame(&mut socket, &p::hello()).await.is_err() {
            return;
        }
        let mut routed = true;
        loop {
            tokio::select! {
                incoming = socket.recv() => {
                    let text = match incoming {
                        Some(Ok(WsMessage::Text(t))) => t,
                        // Keep reading after a close frame: the next read sends the close reply
                        // (serenity waits for it) and then ends the stream.
                        Some(Err(_)) | None => break,
                        Some(Ok(_)) => continue,
                    };
                    let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                    if matches!(frame["op"].as_u64(), Some(2 | 6)) {
                        self.wait_released().await;
                    }
                    let (replies, close) = self.state().on_gateway_frame(conn_id, &frame, &ws_url);
                    for reply in &replies {
                        if send_frame(&mut socket, reply).await.is_err() {
                            break;
                        }
                    }
                    self.inner.changed.notify_waiters();
                    if let Some(code) = close {
                        let frame = axum::extract::ws::CloseFrame { code, reason: "fake discord".into() };
                        let _ = socket.send(WsMessage::Close(Some(frame))).await;
                        break;
                    }
                }
                out = rx.recv(), if routed => match out {
                    Some(Outgoing::Frame(frame)) => {
                        if send_frame(&mut socket, &frame).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Drop) => break,
                    // Detached (RECONNECT / INVALID_SESSION): keep answering until serenity closes.
                    None => routed = false,
                },
            }
        }
        let mut st = self.state();
        st.gateway.conns.remove(&conn_id);
        for session in st.gateway.sessions.values_mut() {
            if session.conn == Some(conn_id) {
                session.conn = None;
                session.live = false;
            }
        }
        drop(st);
        self.inner.changed.notify_waiters();
    }

    // ---- fault injection and settings -----------------------------------------------------------

    /// The next `times` requests with this method whose path contains `path_part` get `status`
    /// with a Discord-style error body. `GET /gateway` is never failed: serenity would fall back
    /// to the real `wss://gateway.discord.gg`.
    pub fn fail_next(&self, method: &str, path_part: &str, status: u16, times: usize) {
        self.add_fault(method, path_part, status, None, times);
    }

    /// The next `times` requests with this method whose path contains `path_part` are handled
    /// at once (recorded, their effect applied) but answered only after `delay`: a send that is
    /// on its way when the test acts.
    pub fn delay_next(&self, method: &str, path_part: &str, delay: Duration, times: usize) {
        self.state().delays.push(Delay {
            method: method.to_uppercase(),
            path_part: path_part.to_string(),
            delay,
            remaining: times,
        });
    }

    /// Like `fail_next` with 429 and Discord's rate-limit headers and body.
    pub fn rate_limit_next(
        &self,
        method: &str,
        path_part: &str,
        retry_after_secs: f64,
        times: usize,
    ) {
        self.add_fault(method, path_part, 429, Some(retry_after_secs), times);
    }

    fn add_fault(
        &self,
        method: &str,
        path_part: &str,
        status: u16,
        retry_after: Option<f64>,
        times: usize,
    ) {
        self.state().faults.push(Fault {
            method: method.to_uppercase(),
            path_part: path_part.to_string(),
            status,
            retry_after,
            remaining: times,
        });
    }

    /// Fault: the next `times` requests with this method whose path contains `path_part` take
    /// effect at once (a create stores its message, a thread opens) but are answered only after
    /// `delay`. A client that dies meanwhile never learns that its request succeeded: what a
    /// process killed with a request in flight leaves behind. Holds queue up like `fail_next`.
    pub fn hold_next(&self, method: &str, path_part: &str, delay: Duration, times: usize) {
        self.state().holds.push(Hold {
            method: method.to_uppercase(),
            path_part: path_part.to_string(),
            delay,
            remaining: times,
        });
    }

    /// Drops every hold not used up yet: requests are answered at once again.
    pub fn clear_holds(&self) {
        self.state().holds.clear();
    }

    /// Turns on Discord's global rate limit: at most `per_second` REST requests a second
    /// (Discord's is 50), interaction callbacks and webhooks exempt as on Discord; the rest get
    /// 429 with `"global": true`, `retry_after` (seconds to the next window) and the
    /// `X-RateLimit-Global` header, and take no effect.
    pub fn limit_global(&self, per_second: u32) {
        self.state().global_limit = Some(GlobalLimit {
            per_second,
            window_start: Instant::now(),
            used: 0,
        });
    }

    /// Ends the nonce window for every nonce used so far, as if Discord's few minutes had
    /// passed: a repeated nonce then creates a new message.
    pub fn expire_nonces(&self) {
        self.state().nonces.clear();
    }

    /// Messages to this user's DM channel get 403 50007 "Cannot send messages to this user".
    pub fn close_dms(&self, user: &TestUser) {
        self.state().closed_dms.insert(user.id);
    }

    /// Registers a further guild member with a fresh id and @everyone's permissions.
    pub fn new_user(&self, name: &'static str) -> TestUser {
        let user = TestUser::new(p::snowflake(), name);
        self.add_user(user.clone());
        user
    }

    /// Makes a user known (guild member list, GET member, DM recipients).
    pub fn add_user(&self, user: TestUser) {
        self.state().users.insert(user.id, user);
    }

    /// Adds a text channel of another guild (`guild_id`) with a fresh id, and returns the id.
    /// Tests with many guilds give each its own channel: messages of different guilds must not
    /// share one.
    pub fn add_text_channel(&self, guild_id: u64, name: &str) -> u64 {
        let channel_id = p::snowflake();
        let mut channel = p::foreign_text_channel(channel_id, guild_id);
        channel["name"] = json!(name);
        self.state().channels.insert(channel_id, channel);
        channel_id
    }

    // ---- store -------------------------------------------------------------------------------------

    /// Messages in a channel, oldest first, as last edited; includes ephemeral ones (flags & 64),
    /// which the bot itself cannot list via REST.
    pub fn messages(&self, channel_id: u64) -> Vec<Value> {
        let want = channel_id.to_string();
        self.state()
            .messages
            .values()
            .filter(|m| m["channel_id"] == want.as_str())
            .cloned()
            .collect()
    }

    /// Messages in the DM channel with `user`, oldest first (none before a DM was opened).
    pub fn dm_messages(&self, user: &TestUser) -> Vec<Value> {
        let channel = self.state().dm_by_user.get(&user.id).copied();
        channel.map(|c| self.messages(c)).unwrap_or_default()
    }

    /// Every live message, of every channel, oldest first.
    pub fn all_messages(&self) -> Vec<Value> {
        self.state().messages.values().cloned().collect()
    }

    pub fn message(&self, message_id: u64) -> Option<Value> {
        self.state().messages.get(&message_id).cloned()
    }

    /// The commands the bot registered: global, or for a guild.
    pub fn commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        let st = self.state();
        match guild_id {
            None => st.global_commands.clone(),
            Some(g) => st.guild_commands.get(&g).cloned().unwrap_or_default(),
        }
    }

    pub fn channel(&self, channel_id: u64) -> Option<Value> {
        self.state().channels.get(&channel_id).cloned()
    }

    pub fn schema_violations(&self) -> Vec<Violation> {
        self.state().violations.clone()
    }

    /// Panics listing every request body real Discord would have rejected.
    pub fn assert_no_schema_violations(&self) {
        let violations = self.schema_violations();
        if !violations.is_empty() {
            let list: Vec<String> = violations
                .iter()
                .map(|v| format!("  {} {} ({}): {}", v.method, v.path, v.template, v.message))
                .collect();
            panic!(
                "{} request bodies Discord would reject:\n{}",
                violations.len(),
                list.join("\n")
            );
        }
    }

    // ---- payload builders ----------------------------------------------------------------------------

    /// INTERACTION_CREATE data for a slash command (type 2). `options` maps option name to value.
    /// Option types come from the command the bot registered (if it did), else from the JSON
    /// value (string 3, integer 4, boolean 5, number 10); `{"type": 7, "value": id}` forces a
    /// type. Users (6), channels (7) and roles (8) are added to `resolved`. `subcommand_path`
    /// (`&["group", "sub"]` or `&["sub"]`) nests the options.
    pub fn slash_command(
        &self,
        name: &str,
        subcommand_path: &[&str],
        options: Value,
        user: &TestUser,
        channel_id: u64,
    ) -> Value {
        self.command_interaction(2, name, subcommand_path, options, None, user, channel_id)
    }

    /// INTERACTION_CREATE data for autocomplete (type 4): like `slash_command`, with
    /// `focused: true` (and a string value, as Discord sends what was typed) on `focused`.
    pub fn autocomplete(
        &self,
        name: &str,
        subcommand_path: &[&str],
        options: Value,
        focused: &str,
        user: &TestUser,
        channel_id: u64,
    ) -> Value {
        self.command_interaction(
            4,
            name,
            subcommand_path,
            options,
            Some(focused),
            user,
            channel_id,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn command_interaction(
        &self,
        kind: u8,
        name: &str,
        subcommand_path: &[&str],
        options: Value,
        focused: Option<&str>,
        user: &TestUser,
        channel_id: u64,
    ) -> Value {
        let mut st = self.state();
        st.users.insert(user.id, user.clone());
        let guild = st.channel_or_panic(channel_id)["guild_id"]
            .as_str()
            .and_then(|g| g.parse().ok());
        let command = st.find_command(name, guild);
        let (options, resolved) =
            st.command_options(command.as_ref(), subcommand_path, &options, focused);
        let mut data = json!({
            "id": command.as_ref().map_or_else(|| p::id(p::snowflake()), |c| c["id"].clone()),
            "name": name, "type": 1, "options": options,
        });
        if let Some(g) = command
            .as_ref()
            .map(|c| &c["guild_id"])
            .filter(|g| !g.is_null())
        {
            data["guild_id"] = g.clone();
        }
        if resolved.as_object().is_some_and(|r| !r.is_empty()) {
            data["resolved"] = resolved;
        }
        let channel = st.channel_or_panic(channel_id);
        let id = p::snowflake();
        p::interaction(id, &interaction_token(id), kind, data, user, &channel)
    }

    /// INTERACTION_CREATE data for a button click (type 3, component_type 2) on `message`
    /// (e.g. `fake.message(id).unwrap()`).
    pub fn button_click(
        &self,
        custom_id: &str,
        message: &Value,
        user: &TestUser,
        channel_id: u64,
    ) -> Value {
        let mut st = self.state();
        st.users.insert(user.id, user.clone());
        let channel = st.channel_or_panic(channel_id);
        let id = p::snowflake();
        let data = json!({"custom_id": custom_id, "component_type": 2});
        let mut v = p::interaction(id, &interaction_token(id), 3, data, user, &channel);
        v["message"] = message.clone();
        v
    }

    /// MESSAGE_REACTION_ADD data for `user` reacting with a unicode emoji.
    pub fn reaction_add(
        &self,
        channel_id: u64,
        message_id: u64,
        user: &TestUser,
        emoji_name: &str,
    ) -> Value {
        let mut st = self.state();
        st.users.insert(user.id, user.clone());
        let guild = st.channel_or_panic(channel_id)["guild_id"]
            .as_str()
            .and_then(|g| g.parse().ok());
        let author = st
            .messages
            .get(&message_id)
            .and_then(|m| m["author"]["id"].as_str()?.parse().ok());
        p::reaction_add(channel_id, message_id, user, emoji_name, author, guild)
    }

    // ---- REST ------------------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn handle_rest(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        (body, files): (Value, Vec<Upload>),
        at: Instant,
        via: Option<String>,
    ) -> (Reply, Option<Duration>) {
        let mut st = self.state();
        // Refused by the global limit before anything else is looked at, as on Discord.
        let limited = st.take_global(path, at);
        if limited.is_none() {
            st.check_body(method, path, &body);
        }
        let authorized = headers.get("authorization").and_then(|h| h.to_str().ok())
            == Some(format!("Bot {}", p::TOKEN).as_str());
        // GET /gateway needs no token (as on Discord). It must never fail: serenity would then
        // fall back to the real wss://gateway.discord.gg.
        let reply = if !authorized && path != "/gateway" {
            err(401, 0, "401: Unauthorized")
        } else if let Some(limited) = limited {
            limited
        } else if let Some(fault) = st.take_fault(method, path) {
            fault
        } else {
            st.route(
                method,
                path,
                query,
                &body,
                &self.gateway_url_via(via.as_deref()),
            )
        };
        let held = st.take_hold(method, path);
        st.requests.push(Recorded {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body,
            status: reply.status,
            at,
            held,
            files,
            via,
        });
        drop(st);
        self.inner.changed.notify_waiters();
        (reply, held)
    }
}

/// A `multipart/form-data` body as Discord reads it: the `payload_json` part is the JSON body
/// and every part with a filename is an upload. `None` when the request is not multipart.
fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<(Value, Vec<Upload>)> {
    let ctype = headers.get("content-type")?.to_str().ok()?;
    if !ctype.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = ctype.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut json = Value::Null;
    let mut files = Vec::new();
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let mut at = find(body, &delimiter, 0)? + delimiter.len();
    while let Some(next) = find(body, &delimiter, at) {
        let part = &body[at..next];
        at = next + delimiter.len();
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n", 0) else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let content = part[split + 4..].to_vec();
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let start = head.find(&key)? + key.len();
            Some(head[start..].split('"').next()?.to_string())
        };
        let field = attr("name").unwrap_or_default();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("Content-Type: ")
                    .or_else(|| l.strip_prefix("content-type: "))
            })
            .unwrap_or("application/octet-stream")
            .to_string();
        match attr("filename") {
            Some(filename) => files.push(Upload {
                field,
                filename,
                content_type,
                bytes: content,
            }),
            None if field == "payload_json" => {
                json = serde_json::from_slice(&content).unwrap_or(Value::Null);
            }
            None => {}
        }
    }
    Some((json, files))
}

/// The body with the ids of `attachments` (a message's, or an interaction response's
/// `data`'s) as strings. A new upload is referred to by its index in the multipart form, and
/// Discord's own "Uploading Files" examples send it as an integer (`"id": 0`), which Discord
/// accepts; the OpenAPI spec types every id as a snowflake string. serenity sends integers.
fn attachment_ids_as_strings(body: &Value) -> Value {
    fn fix(attachments: Option<&mut Value>) {
        for a in attachments
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(n) = a["id"].as_u64() {
                a["id"] = Value::String(n.to_string());
            }
        }
    }
    let mut body = body.clone();
    fix(body.get_mut("attachments"));
    fix(body.get_mut("data").and_then(|d| d.get_mut("attachments")));
    body
}

fn interaction_token(interaction_id: u64) -> String {
    format!("fake-interaction-token-{interaction_id}")
}

/// The intent a dispatch needs, for the few events the fake is likely to send.
fn required_intent(event: &str, data: &Value) -> Option<u64> {
    let in_guild = !data["guild_id"].is_null();
    match event {
        "GUILD_CREATE" | "THREAD_CREATE" | "CHANNEL_CREATE" => Some(1 << 0),
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => {
            Some(if in_guild { 1 << 9 } else { 1 << 12 })
        }
        "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" => {
            Some(if in_guild { 1 << 10 } else { 1 << 13 })
        }
        _ => None,
    }
}

async fn send_frame(socket: &mut WebSocket, frame: &Value) -> Result<(), axum::Error> {
    socket.send(WsMessage::Text(frame.to_string().into())).await
}

async fn gateway_ws(Shared(fake): Shared<FakeDiscord>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| fake.run_gateway(socket, None))
}

async fn gateway_ws_via(
    Shared(fake): Shared<FakeDiscord>,
    axum::extract::Path(label): axum::extract::Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| fake.run_gateway(socket, Some(label)))
}

async fn rest(
    Shared(fake): Shared<FakeDiscord>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let path = percent_decode(uri.path());
    // `/via/<label>/api/v10/…`: a labelled base URL (`api_base_via`).
    let (via, path) = match path.strip_prefix("/via/").and_then(|r| r.split_once('/')) {
        Some((label, rest)) => (Some(label.to_string()), format!("/{rest}")),
        None => (None, path),
    };
    let query = uri.query().unwrap_or("").to_string();
    let (body, files) = match multipart(&headers, &body) {
        Some(parsed) => parsed,
        None if body.is_empty() => (Value::Null, Vec::new()),
        None => (
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
            Vec::new(),
        ),
    };
    let (reply, held) = match path.strip_prefix("/api/v10") {
        Some(rest_path) => {
            let out = fake.handle_rest(
                method.as_str(),
                rest_path,
                &query,
                &headers,
                (body, files),
                at,
                via,
            );
            let delay = fake.state().take_delay(method.as_str(), rest_path);
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            out
        }
        None => {
            // Not under /api/v10: still recorded, so a wrong base URL shows up in the log.
            let mut st = fake.state();
            st.requests.push(Recorded {
                method: method.to_string(),
                path,
                query,
                body,
                status: 404,
                at,
                held: None,
                files,
                via,
            });
            drop(st);
            fake.inner.changed.notify_waiters();
            (err(404, 0, "Unknown route"), None)
        }
    };
    // The request has taken effect (and is recorded); only the answer waits.
    if let Some(delay) = held {
        tokio::time::sleep(delay).await;
    }
    let mut response = match reply.body {
        Some(body) => (
            StatusCode::from_u16(reply.status).unwrap(),
            axum::Json(body),
        )
            .into_response(),
        None => StatusCode::from_u16(reply.status).unwrap().into_response(),
    };
    for (name, value) in reply.headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_str(&value).unwrap());
    }
    response
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || {
            std::str::from_utf8(bytes.get(i + 1..i + 3)?)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        match (bytes[i], hex()) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl State {
    /// Sends on the connection of `shard`'s session, if it is attached to one.
    fn send(&self, shard: u32, out: Outgoing) {
        let conn = self.gateway.sessions.get(&shard).and_then(|x| x.conn);
        if let Some(c) = conn.and_then(|c| self.gateway.conns.get(&c)) {
            let _ = c.tx.send(out);
        }
    }

    /// Stops routing to `shard`'s connection (its task keeps answering until the client
    /// closes); the session stays, for a RESUME. Dropping the connection's sender ends the
    /// routing in its task.
    fn detach(&mut self, shard: u32) {
        let Some(session) = self.gateway.sessions.get_mut(&shard) else {
            return;
        };
        session.live = false;
        if let Some(c) = session.conn.take() {
            self.gateway.conns.remove(&c);
        }
    }

    fn conn_via(&self, conn: Option<u64>) -> Option<String> {
        conn.and_then(|c| self.gateway.conns.get(&c))
            .and_then(|c| c.via.clone())
    }

    /// The live session whose shard carries `guild`'s events, by that session's total.
    fn live_session_for(&self, guild: Option<u64>) -> Option<u32> {
        self.gateway
            .sessions
            .values()
            .find(|x| x.live && shard_of(guild, x.total) == x.shard)
            .map(|x| x.shard)
    }

    /// The next dispatch frame on `shard`'s session, recorded as delivered there.
    fn next_dispatch(&mut self, shard: u32, event: &str, data: Value) -> Value {
        let via = {
            let conn = self.gateway.sessions.get(&shard).and_then(|x| x.conn);
            self.conn_via(conn)
        };
        let session = self
            .gateway
            .sessions
            .get_mut(&shard)
            .expect("a dispatch on a session");
        session.seq += 1;
        let (seq, total) = (session.seq, session.total);
        self.gateway.deliveries.push(Delivery {
            event: event.to_string(),
            guild_id: guild_of(event, &data),
            shard,
            total,
            via,
            id: data["id"].as_str().and_then(|i| i.parse().ok()),
        });
        p::frame(0, Some(event), Some(seq), data)
    }

    /// Handles one client frame on connection `conn`; returns frames to send back and maybe a
    /// close code.
    fn on_gateway_frame(
        &mut self,
        conn: u64,
        frame: &Value,
        ws_url: &str,
    ) -> (Vec<Value>, Option<u16>) {
        let d = &frame["d"];
        let token_ok = d["token"].as_str().map(|t| t.trim_start_matches("Bot ")) == Some(p::TOKEN);
        match frame["op"].as_u64() {
            Some(1) => (vec![p::frame(11, None, None, Value::Null)], None),
            Some(2) => {
                self.gateway.identifies.push(d.clone());
                if !token_ok {
                    return (Vec::new(), Some(4004)); // Authentication failed
                }
                if self.disallow_intents {
                    return (Vec::new(), Some(4014)); // Disallowed intent(s)
                }
                let shard = d.get("shard").cloned().unwrap_or(json!([0, 1]));
                let (id, total) = match (shard[0].as_u64(), shard[1].as_u64()) {
                    (Some(id), Some(total)) if id < total && total <= 1 << 16 => {
                        (id as u32, total as u32)
                    }
                    _ => return (Vec::new(), Some(4010)), // Invalid shard
                };
                self.gateway.intents = d["intents"].as_u64().unwrap_or(0);
                let session_id = format!("fake-session-{}", p::snowflake());
                // A session of this shard on another connection is replaced.
                self.detach(id);
                self.gateway.sessions.insert(
                    id,
                    Session {
                        shard: id,
                        total,
                        session_id: session_id.clone(),
                        seq: 0,
                        conn: Some(conn),
                        live: true,
                    },
                );
                // The guilds of this shard only: READY lists them, a GUILD_CREATE each follows.
                let guilds: Vec<u64> = self
                    .guilds
                    .keys()
                    .copied()
                    .filter(|g| shard_of(Some(*g), total) == id)
                    .collect();
                let ready = p::ready(&session_id, ws_url, &shard, &guilds);
                let mut out = vec![self.next_dispatch(id, "READY", ready)];
                for g in guilds {
                    let create = self.guild_create_of(g);
                    out.push(self.next_dispatch(id, "GUILD_CREATE", create));
                }
                out.extend(self.flush_backlog(id));
                (out, None)
            }
            Some(6) => {
                let session = self
                    .gateway
                    .sessions
                    .values()
                    .find(|x| d["session_id"].as_str() == Some(x.session_id.as_str()))
                    .map(|x| x.shard);
                let Some(id) = session.filter(|_| token_ok) else {
                    if let Some(id) = session {
                        self.gateway.sessions.remove(&id);
                    }
                    return (vec![p::frame(9, None, None, json!(false))], None);
                };
                self.detach(id);
                self.gateway.resumes += 1;
                if let Some(x) = self.gateway.sessions.get_mut(&id) {
                    x.conn = Some(conn);
                    x.live = true;
                }
                // Discord would replay what the client missed; the fake only sends its backlog.
                let resumed = json!({"_trace": ["fake"]});
                let mut out = vec![self.next_dispatch(id, "RESUMED", resumed)];
                out.extend(self.flush_backlog(id));
                (out, None)
            }
            _ => (Vec::new(), None),
        }
    }

    /// The held-back dispatches whose guild is on `shard`'s session, to send now.
    fn flush_backlog(&mut self, shard: u32) -> Vec<Value> {
        let total = self.gateway.sessions.get(&shard).map_or(1, |x| x.total);
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.gateway.backlog)
            .into_iter()
            .partition(|(event, data)| shard_of(guild_of(event, data), total) == shard);
        self.gateway.backlog = later;
        now.into_iter()
            .map(|(event, data)| self.next_dispatch(shard, &event, data))
            .collect()
    }

    fn guild_create(&self) -> Value {
        self.guild_create_of(p::GUILD_ID)
    }

    /// GUILD_CREATE of a guild the bot is in: its channels, every known user as a member.
    fn guild_create_of(&self, guild_id: u64) -> Value {
        let channels = self
            .channels
            .values()
            .filter(|c| {
                c["guild_id"] == p::id(guild_id)
                    && (c["type"] == 0 || c["type"] == 4 || c["type"] == 2)
            })
            .cloned()
            .collect();
        let members = self.users.values().map(p::member).collect();
        let name = self.guilds.get(&guild_id).map_or("a guild", String::as_str);
        p::guild_create_of(guild_id, name, channels, members)
    }

    fn channel_or_panic(&self, channel_id: u64) -> Value {
        self.channels
            .get(&channel_id)
            .cloned()
            .unwrap_or_else(|| panic!("fake discord: unknown channel {channel_id}"))
    }

    fn user_json(&self, user_id: u64) -> Value {
        match self.users.get(&user_id) {
            Some(u) => p::user(u),
            None => p::user(&TestUser::new(user_id, "someone")),
        }
    }

    fn remember_interaction(&mut self, data: &Value) {
        let (Some(token), Some(id)) = (
            data["token"].as_str(),
            data["id"].as_str().and_then(|i| i.parse().ok()),
        ) else {
            return;
        };
        let invoker = if data["member"]["user"].is_object() {
            &data["member"]["user"]
        } else {
            &data["user"]
        };
        self.interactions.insert(
            token.to_string(),
            Interaction {
                id,
                kind: data["type"].as_u64().unwrap_or(2) as u8,
                channel_id: data["channel_id"]
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0),
                invoker: invoker.clone(),
                command_name: data["data"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                clicked_message: data["message"]["id"].as_str().and_then(|m| m.parse().ok()),
                response_type: None,
                original: None,
            },
        );
    }

    /// A command as Discord resolves it in `guild` (the test guild's when none): the guild's
    /// own first, then the global ones.
    fn find_command(&self, name: &str, guild: Option<u64>) -> Option<Value> {
        let guild = guild.unwrap_or(p::GUILD_ID);
        let guild = self.guild_commands.get(&guild).into_iter().flatten();
        guild
            .chain(&self.global_commands)
            .find(|c| c["name"] == name)
            .cloned()
    }

    /// Builds the typed (and nested) options and `resolved` of a command interaction.
    fn command_options(
        &self,
        command: Option<&Value>,
        path: &[&str],
        given: &Value,
        focused: Option<&str>,
    ) -> (Value, Value) {
        // The option definitions the bot registered for this (sub)command, if any.
        let mut defs: Vec<Value> = command
            .and_then(|c| c["options"].as_array().cloned())
            .unwrap_or_default();
        for seg in path {
            let sub = defs
                .iter()
                .find(|o| o["name"] == *seg)
                .and_then(|o| o["options"].as_array().cloned());
            defs = sub.unwrap_or_default();
        }
        let given = given.as_object().cloned().unwrap_or_default();
        // Registered order first (Discord keeps it), then anything else given.
        let mut names: Vec<String> = defs
            .iter()
            .filter_map(|d| d["name"].as_str())
            .filter(|n| given.contains_key(*n))
            .map(String::from)
            .collect();
        names.extend(
            given
                .keys()
                .filter(|k| !names.contains(k))
                .cloned()
                .collect::<Vec<_>>(),
        );

        let mut resolved = json!({});
        let mut options = Vec::new();
        for name in names {
            let raw = &given[&name];
            let registered = defs
                .iter()
                .find(|d| d["name"] == name.as_str())
                .and_then(|d| d["type"].as_u64());
            let (kind, mut value) = match raw {
                Value::Object(o) if o.contains_key("type") => {
                    (o["type"].as_u64().unwrap_or(3), o["value"].clone())
                }
                _ => (
                    registered.unwrap_or_else(|| infer_option_type(raw)),
                    raw.clone(),
                ),
            };
            // Ids travel as strings; a focused option carries the raw typed text.
            if matches!(kind, 6..=9 | 11) || focused == Some(name.as_str()) {
                if let Value::Number(n) = &value {
                    value = Value::String(n.to_string());
                }
            }
            let mut option = json!({"name": name, "type": kind, "value": value});
            if focused == Some(name.as_str()) {
                option["focused"] = json!(true);
            } else {
                self.resolve(kind, &value, &mut resolved);
            }
            options.push(option);
        }
        let mut nested = Value::Array(options);
        for (i, seg) in path.iter().enumerate().rev() {
            let kind = if i + 1 == path.len() { 1 } else { 2 };
            nested = json!([{"name": seg, "type": kind, "options": nested}]);
        }
        (nested, resolved)
    }

    fn resolve(&self, kind: u64, value: &Value, resolved: &mut Value) {
        let Some(id) = value.as_str().and_then(|v| v.parse::<u64>().ok()) else {
            return;
        };
        let key = id.to_string();
        match kind {
            6 => {
                resolved["users"][&key] = self.user_json(id);
                if let Some(u) = self.users.get(&id) {
                    let mut m = p::member_bare(u);
                    m["permissions"] = json!(u.permissions.to_string());
                    resolved["members"][&key] = m;
                }
            }
            7 => {
                let channel = self.channel_or_panic(id);
                resolved["channels"][&key] = p::partial_channel(&channel, p::EVERYONE_PERMISSIONS);
            }
            8 => {
                let role = p::guild_roles()
                    .into_iter()
                    .find(|r| r["id"] == key.as_str());
                resolved["roles"][&key] =
                    role.unwrap_or_else(|| panic!("fake discord: unknown role {id}"));
            }
            _ => {}
        }
    }

    // ---- REST internals ------------------------------------------------------------------------------

    /// Records violations: spec schema, plus the message rules the spec lacks.
    fn check_body(&mut self, method: &str, path: &str, body: &Value) {
        if !(body.is_object() || body.is_array()) {
            return;
        }
        let body = &attachment_ids_as_strings(body);
        let (template, mut errors) = schema::spec().validate(method, path, body);
        let template = template.unwrap_or_else(|| "(no such operation in the spec)".into());
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        errors.extend(match (method, segs.as_slice()) {
            ("POST", ["channels", _, "messages"]) => schema::extra_message_rules(body, true, true),
            ("PATCH", ["channels", _, "messages", _]) => {
                schema::extra_message_rules(body, true, false)
            }
            ("POST", ["webhooks", _, _]) => schema::extra_message_rules(body, false, true),
            ("PATCH", ["webhooks", _, _, "messages", _]) => {
                schema::extra_message_rules(body, false, false)
            }
            ("POST", ["interactions", _, _, "callback"]) => match body["type"].as_u64() {
                Some(4) => schema::extra_message_rules(&body["data"], false, true),
                Some(7) => schema::extra_message_rules(&body["data"], false, false),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        });
        for message in errors {
            self.violations.push(Violation {
                method: method.to_string(),
                path: path.to_string(),
                template: template.clone(),
                message,
            });
        }
    }

    fn take_hold(&mut self, method: &str, path: &str) -> Option<Duration> {
        if path == "/gateway" {
            return None;
        }
        let hold = self
            .holds
            .iter_mut()
            .find(|h| h.remaining > 0 && h.method == method && path.contains(&h.path_part))?;
        hold.remaining -= 1;
        Some(hold.delay)
    }

    fn take_delay(&mut self, method: &str, path: &str) -> Option<Duration> {
        let d = self
            .delays
            .iter_mut()
            .find(|d| d.remaining > 0 && d.method == method && path.contains(&d.path_part))?;
        d.remaining -= 1;
        Some(d.delay)
    }

    /// The 429 of the global limit for a request at `at`, or `None` when it may pass (and is
    /// counted).
    fn take_global(&mut self, path: &str, at: Instant) -> Option<Reply> {
        let exempt = path == "/gateway"
            || path.starts_with("/interactions/")
            || path.starts_with("/webhooks/");
        let limit = self.global_limit.as_mut().filter(|_| !exempt)?;
        if at.saturating_duration_since(limit.window_start) >= Duration::from_secs(1) {
            limit.window_start = at;
            limit.used = 0;
        }
        if limit.used < limit.per_second {
            limit.used += 1;
            return None;
        }
        let wait = (Duration::from_secs(1)
            .saturating_sub(at.saturating_duration_since(limit.window_start)))
        .as_secs_f64();
        Some(Reply {
            status: 429,
            body: Some(json!({
                "message": "You are being rate limited.", "retry_after": wait, "global": true,
            })),
            headers: vec![
                ("retry-after", format!("{}", wait.ceil() as u64)),
                ("x-ratelimit-global", "true".into()),
                ("x-ratelimit-scope", "global".into()),
            ],
        })
    }

    fn take_fault(&mut self, method: &str, path: &str) -> Option<Reply> {
        if path == "/gateway" {
            return None;
        }
        let fault = self
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.method == method && path.contains(&f.path_part))?;
        fault.remaining -= 1;
        Some(match fault.retry_after {
            Some(secs) => {
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs_f64()
                    + secs;
                Reply {
                    status: 429,
                    body: Some(
                        json!({"message": "You are being rate limited.", "retry_after": secs, "global": false, "code": 0}),
                    ),
                    headers: vec![
                        ("retry-after", format!("{}", secs.ceil() as u64)),
                        ("x-ratelimit-limit", "5".into()),
                        ("x-ratelimit-remaining", "0".into()),
                        ("x-ratelimit-reset", format!("{reset:.3}")),
                        ("x-ratelimit-reset-after", format!("{secs:.3}")),
                        ("x-ratelimit-bucket", "fake-bucket".into()),
                        ("x-ratelimit-scope", "user".into()),
                    ],
                }
            }
            None => match fault.status {
                403 => err(403, 50013, "Missing Permissions"),
                404 => err(404, 10008, "Unknown Message"),
                s => err(s, 0, &format!("{s}: fake failure")),
            },
        })
    }

    fn route(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: &Value,
        ws_url: &str,
    ) -> Reply {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let num = |s: &str| s.parse::<u64>().ok();
        match (method, segs.as_slice()) {
            ("GET", ["gateway"]) => ok(json!({"url": ws_url})),
            ("GET", ["gateway", "bot"]) => ok(p::bot_gateway(
                ws_url,
                self.gateway.recommended_shards,
                self.gateway.max_concurrency,
            )),
            ("GET", ["oauth2", "applications", "@me"]) => ok(p::application_info()),
            ("GET", ["users", "@me"]) => ok(p::user(&BOT)),
            ("PUT", ["applications", _, "commands"]) => {
                self.global_commands =
                    self.register_commands(body, None, &self.global_commands.clone());
                ok(json!(self.global_commands))
            }
            ("GET", ["applications", _, "commands"]) => ok(json!(self.global_commands)),
            ("PUT", ["applications", _, "guilds", g, "commands"]) => {
                let Some(g) = num(g) else {
                    return err(404, 10004, "Unknown Guild");
                };
                let old = self.guild_commands.get(&g).cloned().unwrap_or_default();
                let new = self.register_commands(body, Some(g), &old);
                self.guild_commands.insert(g, new.clone());
                ok(json!(new))
            }
            ("GET", ["applications", _, "guilds", g, "commands"]) => ok(json!(num(g)
                .and_then(|g| self.guild_commands.get(&g).cloned())
                .unwrap_or_default())),
            ("POST", ["interactions", id, token, "callback"]) => {
                let with_response = query.split('&').any(|q| q == "with_response=true");
                self.interaction_callback(id, token, body, with_response)
            }
            (_, ["webhooks", _, token, "messages", which]) => {
                self.webhook_message(method, token, which, body)
            }
            ("POST", ["webhooks", _, token]) => self.followup(token, body),
            ("POST", ["channels", c, "messages"]) => match num(c) {
                Some(c) => self.channel_message_create(c, body),
                None => err(404, 10003, "Unknown Channel"),
            },
            ("GET", ["channels", c, "messages"]) => {
                self.channel_messages(num(c).unwrap_or(0), query)
            }
            (_, ["channels", c, "messages", m]) => {
                self.channel_message(method, num(c).unwrap_or(0), num(m).unwrap_or(0), body)
            }
            ("PUT" | "DELETE", ["channels", _, "messages", m, "reactions", emoji, "@me"]) => {
                self.own_reaction(method == "PUT", num(m).unwrap_or(0), emoji)
            }
            ("POST", ["channels", c, "messages", m, "threads"]) => {
                self.thread_from_message(num(c).unwrap_or(0), num(m).unwrap_or(0), body)
            }
            ("POST", ["users", "@me", "channels"]) => {
                let recipient = body["recipient_id"]
                    .as_str()
                    .and_then(num)
                    .or_else(|| body["recipient_id"].as_u64());
                match recipient {
                    Some(u) => ok(self.dm_channel(u)),
                    None => err(400, 50035, "Invalid Form Body"),
                }
            }
            ("GET", ["channels", c]) => match num(c).and_then(|c| self.channels.get(&c)) {
                Some(channel) => ok(channel.clone()),
                None => err(404, 10003, "Unknown Channel"),
            },
            ("GET", ["guilds", g, "roles"]) if self.in_guild(num(g)) => {
                ok(json!(p::guild_roles_of(num(g).unwrap_or_default())))
            }
            ("GET", ["guilds", g, "members", u]) if self.in_guild(num(g)) => {
                match num(u).and_then(|u| self.users.get(&u)) {
                    Some(u) => ok(p::member(u)),
                    None => err(404, 10007, "Unknown Member"),
                }
            }
            ("GET", ["guilds", g, "channels"]) if self.in_guild(num(g)) => ok(self
                .channels
                .values()
                .filter(|c| {
                    c["guild_id"] == p::id(num(g).unwrap_or_default())
                        && (c["type"] == 0 || c["type"] == 4 || c["type"] == 2)
                })
                .cloned()
                .collect()),
            (_, ["guilds", g, ..]) if !self.in_guild(num(g)) => err(404, 10004, "Unknown Guild"),
            _ => err(404, 0, "Unknown route"),
        }
    }

    fn in_guild(&self, guild_id: Option<u64>) -> bool {
        guild_id.is_some_and(|g| self.guilds.contains_key(&g))
    }

    /// Bulk overwrite: keeps the id of a command whose name already existed, like Discord.
    fn register_commands(&self, body: &Value, guild_id: Option<u64>, old: &[Value]) -> Vec<Value> {
        let sent = body.as_array().cloned().unwrap_or_default();
        sent.iter()
            .map(|c| {
                let existing = old
                    .iter()
                    .find(|o| o["name"] == c["name"])
                    .and_then(|o| o["id"].as_str()?.parse().ok());
                p::registered_command(c, existing.unwrap_or_else(p::snowflake), guild_id)
            })
            .collect()
    }

    fn store(&mut self, message: Value) -> Value {
        let id = message["id"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .expect("message id");
        self.messages.insert(id, message.clone());
        message
    }

    /// Applies an edit body (content, embeds, components, flags, …) to a stored message.
    fn edit(&mut self, message_id: u64, body: &Value) -> Option<Value> {
        let template = p::message(message_id, 0, 0, body);
        let m = self.messages.get_mut(&message_id)?;
        for key in ["content", "embeds", "components"] {
            if body.get(key).is_some_and(|v| !v.is_null()) {
                m[key] = template[key].clone();
            }
        }
        // An edit fills in a deferred ("thinking…") message: LOADING (128) goes away.
        let mut flags = m["flags"].as_u64().unwrap_or(0) & !128;
        if let Some(f) = body["flags"].as_u64() {
            flags = (flags & 64) | (f & !64);
        }
        m["flags"] = json!(flags);
        m["edited_timestamp"] = json!(p::now_iso());
        Some(m.clone())
    }

    fn interaction_message(&self, token: &str, body: &Value) -> Value {
        let ix = &self.interactions[token];
        let kind = if ix.kind == 2 { 20 } else { 19 };
        let mut m = p::message(p::snowflake(), ix.channel_id, kind, body);
        m["flags"] = json!(body["flags"].as_u64().unwrap_or(0) & (64 | 4 | 4096));
        p::interaction_message_fields(
            &mut m,
            ix.id,
            ix.kind,
            &ix.command_name,
            &ix.invoker,
            ix.clicked_message,
        );
        m
    }

    /// POST /interactions/{id}/{token}/callback. With `?with_response=true` Discord answers 200
    /// with an InteractionCallbackResponse (the interaction and, for messages, the message)
    /// instead of 204.
    fn interaction_callback(
        &mut self,
        id: &str,
        token: &str,
        body: &Value,
        with_response: bool,
    ) -> Reply {
        let Some(ix) = self
            .interactions
            .get(token)
            .filter(|ix| ix.id.to_string() == id)
        else {
            return err(404, 10062, "Unknown interaction");
        };
        if ix.response_type.is_some() {
            return err(400, 40060, "Interaction has already been acknowledged.");
        }
        let kind = body["type"].as_u64().unwrap_or(0) as u8;
        let clicked = ix.clicked_message;
        let original = match kind {
            4 => {
                let m = self.interaction_message(token, &body["data"]);
                Some(self.store(m)["id"].as_str().unwrap().parse().unwrap())
            }
            5 => {
                // The "thinking…" placeholder: empty, LOADING (128), ephemeral if asked.
                let flags = 128 | (body["data"]["flags"].as_u64().unwrap_or(0) & 64);
                let m = self.interaction_message(token, &json!({"flags": flags}));
                let id: u64 = self.store(m)["id"].as_str().unwrap().parse().unwrap();
                self.messages.get_mut(&id).unwrap()["flags"] = json!(flags);
                Some(id)
            }
            6 | 7 if clicked.is_none() => {
                return err(400, 40043, "Interaction is not a component interaction")
            }
            6 => clicked,
            7 => {
                self.edit(clicked.unwrap(), &body["data"]);
                clicked
            }
            1 | 8 | 9 => None,
            _ => return err(400, 50035, "Invalid Form Body"),
        };
        let ix = self.interactions.get_mut(token).unwrap();
        ix.response_type = Some(kind);
        ix.original = original;
        if !with_response {
            return no_content();
        }
        let (ix_id, ix_kind) = (ix.id, ix.kind);
        let message = original.and_then(|m| self.messages.get(&m).cloned());
        let mut resource = json!({"type": kind});
        if let Some(m) = &message {
            resource["message"] = m.clone();
        }
        ok(json!({
            "interaction": {
                "id": p::id(ix_id),
                "type": ix_kind,
                "response_message_id": original.map(p::id),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": message
                    .as_ref()
                    .is_some_and(|m| m["flags"].as_u64().unwrap_or(0) & 64 != 0),
            },
            "resource": resource,
        }))
    }

    /// POST /webhooks/{app}/{token}: an interaction followup. The first one after a deferred
    /// response (type 5) fills in the "thinking…" message instead of creating another, as on
    /// Discord.
    fn followup(&mut self, token: &str, body: &Value) -> Reply {
        let Some(ix) = self.interactions.get(token) else {
            return err(404, 10015, "Unknown Webhook");
        };
        let (response_type, original) = (ix.response_type, ix.original);
        if response_type.is_none() {
            return err(404, 10015, "Unknown Webhook"); // Not acknowledged yet.
        }
        if let Some(original) = original.filter(|_| response_type == Some(5)) {
            if self
                .messages
                .get(&original)
                .is_some_and(|m| m["flags"].as_u64().unwrap_or(0) & 128 != 0)
            {
                return ok(self.edit(original, body).unwrap());
            }
        }
        let mut m = self.interaction_message(token, body);
        if let Some(o) = original {
            m["interaction_metadata"]["original_response_message_id"] = p::id(o);
        }
        ok(self.store(m))
    }

    fn webhook_message(&mut self, method: &str, token: &str, which: &str, body: &Value) -> Reply {
        let Some(ix) = self.interactions.get(token) else {
            return err(404, 10015, "Unknown Webhook");
        };
        let id = if which == "@original" {
            ix.original
        } else {
            which.parse().ok()
        };
        let Some(id) = id.filter(|id| self.messages.contains_key(id)) else {
            return err(404, 10008, "Unknown Message");
        };
        match method {
            "GET" => ok(self.messages[&id].clone()),
            "PATCH" => ok(self.edit(id, body).unwrap()),
            "DELETE" => {
                self.messages.remove(&id);
                no_content()
            }
            _ => err(405, 0, "405: Method Not Allowed"),
        }
    }

    fn channel_message_create(&mut self, channel_id: u64, body: &Value) -> Reply {
        let Some(channel) = self.channels.get(&channel_id) else {
            return err(404, 10003, "Unknown Channel");
        };
        if channel["type"] == 1 {
            let recipient = channel["recipients"][0]["id"]
                .as_str()
                .and_then(|u| u.parse().ok())
                .unwrap_or(0);
            if self.closed_dms.contains(&recipient) {
                return err(403, 50007, "Cannot send messages to this user");
            }
        }
        // With enforce_nonce, a repeated nonce returns the first message instead of a new one.
        let nonce = match &body["nonce"] {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(nonce) = &nonce {
            if body["enforce_nonce"] == true {
                if let Some(first) = self
                    .nonces
                    .get(&(channel_id, nonce.clone()))
                    .filter(|(_, at)| at.elapsed() < NONCE_WINDOW)
                    .and_then(|(id, _)| self.messages.get(id))
                {
                    return ok(first.clone());
                }
            }
        }
        let reference = &body["message_reference"];
        let mut m = p::message(
            p::snowflake(),
            channel_id,
            if reference.is_object() { 19 } else { 0 },
            body,
        );
        m["flags"] = json!(body["flags"].as_u64().unwrap_or(0) & (4 | 4096));
        if let Some(ref_id) = reference["message_id"]
            .as_str()
            .and_then(|r| r.parse::<u64>().ok())
        {
            let Some(referenced) = self.messages.get(&ref_id).cloned() else {
                return err(400, 50035, "Invalid Form Body: Unknown message");
            };
            m["message_reference"] = json!({
                "type": 0, "channel_id": p::id(channel_id), "message_id": p::id(ref_id),
                "guild_id": self.channels[&channel_id]["guild_id"],
            });
            m["referenced_message"] = referenced;
        }
        let m = self.store(m);
        if let Some(nonce) = nonce {
            self.nonces.insert(
                (channel_id, nonce),
                (m["id"].as_str().unwrap().parse().unwrap(), Instant::now()),
            );
        }
        ok(m)
    }

    /// GET /channels/{c}/messages: `limit` (default 50, max 100), `before`, `after`. As on
    /// Discord, a page is newest first, and with `after` alone it holds the `limit` messages
    /// right after that id (the oldest ones), so paging forward from the greatest id returned
    /// visits every message. Ephemeral messages are not listed, as on Discord.
    fn channel_messages(&self, channel_id: u64, query: &str) -> Reply {
        if !self.channels.contains_key(&channel_id) {
            return err(404, 10003, "Unknown Channel");
        }
        let param = |name: &str| {
            query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let limit = param("limit").unwrap_or(50).clamp(1, 100) as usize;
        let (before, after) = (
            param("before").unwrap_or(u64::MAX),
            param("after").unwrap_or(0),
        );
        if after.saturating_add(1) >= before {
            return ok(json!([]));
        }
        let want = channel_id.to_string();
        let listed = |m: &&Value| {
            m["channel_id"] == want.as_str() && m["flags"].as_u64().unwrap_or(0) & 64 == 0
        };
        let range = self.messages.range(after.saturating_add(1)..before);
        let list: Vec<Value> = if param("after").is_some() && param("before").is_none() {
            let mut oldest: Vec<Value> = range
                .map(|(_, m)| m)
                .filter(listed)
                .take(limit)
                .cloned()
                .collect();
            oldest.reverse();
            oldest
        } else {
            range
                .rev()
                .map(|(_, m)| m)
                .filter(listed)
                .take(limit)
                .cloned()
                .collect()
        };
        ok(json!(list))
    }

    fn channel_message(
        &mut self,
        method: &str,
        channel_id: u64,
        message_id: u64,
        body: &Value,
    ) -> Reply {
        let found = self
            .messages
            .get(&message_id)
            .filter(|m| m["channel_id"] == channel_id.to_string().as_str());
        if found.is_none() {
            return err(404, 10008, "Unknown Message");
        }
        match method {
            "GET" => ok(found.unwrap().clone()),
            "PATCH" => ok(self.edit(message_id, body).unwrap()),
            "DELETE" => {
                self.messages.remove(&message_id);
                no_content()
            }
            _ => err(405, 0, "405: Method Not Allowed"),
        }
    }

    /// PUT/DELETE …/reactions/{emoji}/@me: keeps the message's `reactions` list up to date.
    fn own_reaction(&mut self, add: bool, message_id: u64, emoji: &str) -> Reply {
        let Some(m) = self.messages.get_mut(&message_id) else {
            return err(404, 10008, "Unknown Message");
        };
        let mut reactions = m["reactions"].as_array().cloned().unwrap_or_default();
        // Custom emoji arrive as `name:id`.
        let (name, emoji_id) = match emoji.split_once(':') {
            Some((n, i)) => (n, p::id(i.parse().unwrap_or(0))),
            None => (emoji, Value::Null),
        };
        let pos = reactions.iter().position(|r| r["emoji"]["name"] == name);
        match (add, pos) {
            (true, None) => reactions.push(json!({
                "count": 1, "count_details": {"burst": 0, "normal": 1}, "me": true, "me_burst": false,
                "emoji": {"id": emoji_id, "name": name}, "burst_colors": [],
            })),
            (false, Some(i)) => {
                reactions.remove(i);
            }
            _ => {}
        }
        m["reactions"] = json!(reactions);
        no_content()
    }

    fn thread_from_message(&mut self, channel_id: u64, message_id: u64, body: &Value) -> Reply {
        if !self
            .messages
            .get(&message_id)
            .is_some_and(|m| m["channel_id"] == channel_id.to_string().as_str())
        {
            return err(404, 10008, "Unknown Message");
        }
        if self.channels.contains_key(&message_id) {
            return err(
                400,
                160004,
                "A thread has already been created for this message",
            );
        }
        let name = body["name"].as_str().unwrap_or("thread");
        let mut thread = p::thread_channel(
            message_id,
            channel_id,
            name,
            body["auto_archive_duration"].as_u64().unwrap_or(4320),
        );
        // A thread belongs to its parent's guild (tests with many guilds add channels).
        thread["guild_id"] = self.channels[&channel_id]["guild_id"].clone();
        self.channels.insert(message_id, thread.clone());
        ok(thread)
    }

    /// POST /users/@me/channels: one DM channel per recipient.
    fn dm_channel(&mut self, user_id: u64) -> Value {
        if let Some(c) = self.dm_by_user.get(&user_id) {
            return self.channels[c].clone();
        }
        let user = self
            .users
            .get(&user_id)
            .cloned()
            .unwrap_or(TestUser::new(user_id, "someone"));
        let channel_id = p::snowflake();
        let channel = p::dm_channel(channel_id, &user);
        self.channels.insert(channel_id, channel.clone());
        self.dm_by_user.insert(user_id, channel_id);
        channel
    }
}

fn infer_option_type(value: &Value) -> u64 {
    match value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        _ => 3,
    }
}
