//! Deployment configuration: a TOML file (optional) plus environment overrides, validated
//! once at start.
//!
//! Every key has a default, so a host with only `DISCORD_TOKEN` set can run the bot. Unknown
//! keys and bad values are errors that name the key and its `path:line:col`. The token is a
//! [`Secret`]: it has no `Display`, its `Debug` is redacted, and no error message repeats it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

/// The name of the config file looked for in the working directory when `--config` is not
/// given.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// A value that must never be printed: the bot token.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it (building the HTTP client).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub discord: DiscordConfig,
    pub bank: BankConfig,
    pub storage: StorageConfig,
    pub reveal: RevealConfig,
    pub daily: DailyConfig,
    pub quiz: QuizConfig,
    pub practice: PracticeConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// The bot token. `DISCORD_TOKEN` in the environment wins over the file.
    pub token: Option<Secret>,
    /// REST base URL instead of `https://discord.com` (a rate-limit proxy; the tests' fake).
    pub api_base: Option<String>,
    /// Register slash commands in this guild only (instant) instead of globally.
    pub guild_id: Option<u64>,
    /// The gateway shards this process runs (see [`ShardsConfig`]).
    pub shards: ShardsConfig,
}

/// `discord.shards`: `"auto"` (all the shards Discord recommends, in this process) or
/// `{ total = N, range = "A-B" }` (shards A to B of N; `range = "A"` for one), for a bot
/// split across processes. Checked against `total` in `validate`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShardsConfig {
    #[default]
    Auto,
    Range {
        total: u32,
        first: u32,
        last: u32,
    },
}

impl ShardsConfig {
    /// The shards to run, given the count `GET /gateway/bot` recommends (asked for "auto" only).
    pub fn resolve(
        &self,
        recommended: impl FnOnce() -> u32,
    ) -> Result<crate::shards::Shards, crate::shards::ShardsError> {
        match *self {
            ShardsConfig::Auto => Ok(crate::shards::Shards::all(recommended())),
            ShardsConfig::Range { total, first, last } => {
                crate::shards::Shards::new(total, first, last)
            }
        }
    }
}

const SHARDS_HINT: &str =
    "use \"auto\", or { total = N, range = \"A-B\" } for shards A to B of N (range = \"A\" for one)";

/// `"A-B"` or `"A"` as the first and last shard.
fn parse_shard_range(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

impl<'de> Deserialize<'de> for ShardsConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ShardsConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "\"auto\" or a table {{ total, range }}")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<ShardsConfig, E> {
                match v.trim() {
                    "auto" => Ok(ShardsConfig::Auto),
                    other => Err(E::custom(format!(
                        "`{other}` is not a shard setting; {SHARDS_HINT}"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ShardsConfig, A::Error> {
                let (mut total, mut range) = (None::<u32>, None::<String>);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "total" => total = Some(map.next_value()?),
                        "range" => range = Some(map.next_value()?),
                        other => {
                            return Err(A::Error::custom(format!(
                                "unknown field `{other}`; {SHARDS_HINT}"
                            )))
                        }
                    }
                }
                let (Some(total), Some(range)) = (total, range) else {
                    return Err(A::Error::custom(format!(
                        "needs both `total` and `range`; {SHARDS_HINT}"
                    )));
                };
                let Some((first, last)) = parse_shard_range(&range) else {
                    return Err(A::Error::custom(format!(
                        "range `{range}` is not \"A-B\" or \"A\" (shard numbers from 0)"
                    )));
                };
                Ok(ShardsConfig::Range { total, first, last })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BankConfig {
    pub paths: Vec<PathBuf>,
}

impl Default for BankConfig {
    fn default() -> Self {
        BankConfig {
            paths: vec![PathBuf::from("questions.toml"), PathBuf::from("questions")],
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The SQLite file (the default backend).
    pub path: PathBuf,
    /// `postgres://user@host:port/db`: PostgreSQL instead of the SQLite file, for several
    /// processes sharing one database. Never with a password in it (see `password_env`).
    pub url: Option<String>,
    /// The environment variable holding the PostgreSQL password (libpq's own by default).
    pub password_env: String,
    /// The password, read from `password_env` at load; never from the file.
    #[serde(skip)]
    pub password: Option<Secret>,
    /// Pooled PostgreSQL connections per process.
    pub pool_size: usize,
}

/// The most pooled PostgreSQL connections one process may ask for: PostgreSQL's default
/// `max_connections` is 100, shared by every process of a deployment.
pub const POOL_SIZE_MAX: usize = 64;

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: PathBuf::from("prepbot.db"),
            url: None,
            password_env: "PGPASSWORD".into(),
            password: None,
            pool_size: 8,
        }
    }
}

/// Checks a `storage.url`: a PostgreSQL URL without a password. Returns what to do otherwise.
pub fn check_postgres_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err(
            "is not a PostgreSQL URL; use e.g. \"postgres://prepbot@127.0.0.1:5432/prepbot\", \
             or remove the key to use the SQLite file at storage.path"
                .into(),
        );
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if userinfo.contains(':') {
            // Never repeat the URL: it holds the password.
            return Err(
                "has a password in it; remove it from the URL and put it in the \
                        environment variable named by storage.password_env (PGPASSWORD by \
                        default), so it stays out of files and logs"
                    .into(),
            );
        }
    }
    if authority.is_empty() || authority.ends_with('@') {
        return Err("names no host; use e.g. \"postgres://prepbot@127.0.0.1:5432/prepbot\"".into());
    }
    Ok(())
}

/// How a model answer is shown when someone reacts with the reveal emoji.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RevealMode {
    /// One reply to the question message (once per message).
    #[default]
    Reply,
    /// The question message is edited to include the answer.
    Edit,
    /// The reacting member gets the answer in a DM (once per member and message).
    Dm,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RevealConfig {
    pub emoji: String,
    pub mode: RevealMode,
}

impl Default for RevealConfig {
    fn default() -> Self {
        RevealConfig {
            emoji: "💡".into(),
            mode: RevealMode::Reply,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DailyConfig {
    /// How late (hours) a post missed while the bot was down may still go out, same local day.
    pub max_late_hours: u32,
}

impl Default for DailyConfig {
    fn default() -> Self {
        DailyConfig { max_late_hours: 12 }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QuizConfig {
    /// The shortest time per question `/quiz start` accepts.
    pub min_seconds: u32,
    /// Pause between a question's results and the next question, in seconds.
    pub intermission_seconds: u32,
}

impl Default for QuizConfig {
    fn default() -> Self {
        QuizConfig {
            min_seconds: crate::quiz::SECONDS_MIN,
            intermission_seconds: 5,
        }
    }
}

/// The most new cards a day `practice.new_per_day` accepts: a day's reviews grow with every
/// card introduced, so a typo of 1000 would bury a member in reviews a few days later.
pub const NEW_PER_DAY_MAX: u32 = 500;

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PracticeConfig {
    /// How many never-seen questions `/practice` introduces per member and local day.
    pub new_per_day: u32,
}

impl Default for PracticeConfig {
    fn default() -> Self {
        PracticeConfig { new_per_day: 10 }
    }
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event (tracing's default format).
    #[default]
    Text,
    /// One JSON object per line, with the current span's fields and the span list, for log
    /// shippers (journald, Loki, Elasticsearch …).
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is not a log format; use text or json")),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// The Prometheus and health listener. Off unless `listen` is set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `IP:port` serving `/metrics` and `/healthz`, e.g. `127.0.0.1:9184`.
    pub listen: Option<String>,
}

impl MetricsConfig {
    /// The address to listen on, when the listener is on. `validate` has checked it parses.
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.as_deref().and_then(|l| l.trim().parse().ok())
    }
}

/// A configuration problem, at the place in the file when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    pub line: usize,
    pub col: usize,
    /// The dotted key, e.g. `reveal.mode`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}:{}:{}: ", p.display(), self.line, self.col)?,
            None => f.write_str("config: ")?,
        }
        if let Some(k) = &self.key {
            write!(f, "`{k}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads the configuration: `path` when given (it must exist), else `./config.toml` when
    /// present, else the defaults; then applies `DISCORD_TOKEN` (or, without it, the file named
    /// by `DISCORD_TOKEN_FILE`) from `env`. Relative paths in a file are taken relative to that
    /// file's directory.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
        };
        let mut config = match &file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError {
                    path: Some(p.clone()),
                    line: 1,
                    col: 1,
                    key: None,
                    message: format!(
                        "cannot read the config file: {e}; copy config.example.toml to start one"
                    ),
                })?;
                let mut c = Config::from_toml(&text, p)?;
                let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                c.resolve_relative(&dir);
                c
            }
            None => Config::default(),
        };
        if let Some(token) = env("DISCORD_TOKEN").filter(|t| !t.trim().is_empty()) {
            config.discord.token = Some(Secret::new(token.trim()));
        } else if let Some(file) = env("DISCORD_TOKEN_FILE").filter(|f| !f.trim().is_empty()) {
            config.discord.token = Some(read_token_file(Path::new(file.trim()))?);
        }
        if config.storage.url.is_some() {
            config.storage.password = env(&config.storage.password_env)
                .filter(|p| !p.is_empty())
                .map(Secret::new);
        }
        Ok(config)
    }

    /// Parses and validates config text; `path` is used in error messages only.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let at = |offset: usize, key: Option<String>, message: String| {
            let (line, col) = locate(text, offset);
            ConfigError {
                path: Some(path.to_path_buf()),
                line,
                col,
                key,
                message,
            }
        };
        let config: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let key = DeTable::parse(text)
                .ok()
                .and_then(|doc| key_at(doc.get_ref(), offset, ""));
            let mut message = e.message().trim().replace('\n', "; ");
            if key.as_deref() == Some("discord.token") {
                // Never echo what was written there: it may be a real token.
                message = "must be a string: the bot token from the Discord Developer Portal \
                           (or leave it out and set DISCORD_TOKEN)"
                    .into();
            }
            at(offset, key, message)
        })?;
        if let Err((key, message)) = config.validate() {
            let offset = DeTable::parse(text)
                .ok()
                .and_then(|doc| offset_of(doc.get_ref(), &key))
                .unwrap_or(0);
            return Err(at(offset, Some(key), message));
        }
        Ok(config)
    }

    /// Checks values serde cannot: ranges, URL shape, emoji. Returns the key and what to do.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(t) = &self.discord.token {
            if t.expose().trim().is_empty() {
                return Err((
                    "discord.token".into(),
                    "is empty: paste the bot token, or remove the key and set DISCORD_TOKEN".into(),
                ));
            }
        }
        if let Some(base) = &self.discord.api_base {
            let ok = (base.starts_with("http://") || base.starts_with("https://"))
                && base.len() > "https://".len()
                && !base.contains(char::is_whitespace);
            if !ok {
                return Err((
                    "discord.api_base".into(),
                    format!(
                        "`{base}` is not an http(s) base URL; use e.g. \"http://127.0.0.1:3000\" \
                         or remove the key to talk to Discord directly"
                    ),
                ));
            }
        }
        if self.discord.guild_id == Some(0) {
            return Err((
                "discord.guild_id".into(),
                "0 is not a guild id; copy the server id (Developer Mode → right-click the server \
                 → Copy Server ID) or remove the key to register commands globally"
                    .into(),
            ));
        }
        if let Err(e) = self.discord.shards.resolve(|| 1) {
            return Err(("discord.shards".into(), format!("{e}; {SHARDS_HINT}")));
        }
        if self.bank.paths.is_empty() {
            return Err((
                "bank.paths".into(),
                "is empty; list at least one file or directory, e.g. [\"questions.toml\"]".into(),
            ));
        }
        if let Some(url) = &self.storage.url {
            check_postgres_url(url).map_err(|m| ("storage.url".to_string(), m))?;
        }
        if !(1..=POOL_SIZE_MAX).contains(&self.storage.pool_size) {
            return Err((
                "storage.pool_size".into(),
                format!(
                    "{} is out of range; use 1–{POOL_SIZE_MAX} (every process of a deployment \
                     holds this many connections)",
                    self.storage.pool_size
                ),
            ));
        }
        if self.storage.path.as_os_str().is_empty() {
            return Err((
                "storage.path".into(),
                "is empty; name the SQLite file, e.g. \"prepbot.db\"".into(),
            ));
        }
        if !is_valid_emoji(&self.reveal.emoji) {
            return Err((
                "reveal.emoji".into(),
                format!(
                    "`{}` is not an emoji; use one Unicode emoji such as \"💡\", or a custom \
                     emoji of the server written <:name:id>",
                    self.reveal.emoji
                ),
            ));
        }
        if self.daily.max_late_hours > 23 {
            return Err((
                "daily.max_late_hours".into(),
                format!(
                    "{} is more than a day; use 0–23 (a late post only goes out the same local day)",
                    self.daily.max_late_hours
                ),
            ));
        }
        if !(1..=crate::quiz::SECONDS_MAX).contains(&self.quiz.min_seconds) {
            return Err((
                "quiz.min_seconds".into(),
                format!(
                    "{} is out of range; use 1–{}",
                    self.quiz.min_seconds,
                    crate::quiz::SECONDS_MAX
                ),
            ));
        }
        if self.practice.new_per_day > NEW_PER_DAY_MAX {
            return Err((
                "practice.new_per_day".into(),
                format!(
                    "{} is out of range; use 0–{NEW_PER_DAY_MAX} (0: reviews only, no new cards)",
                    self.practice.new_per_day
                ),
            ));
        }
        if let Some(listen) = &self.metrics.listen {
            if listen.trim().parse::<std::net::SocketAddr>().is_err() {
                return Err((
                    "metrics.listen".into(),
                    format!(
                        "`{listen}` is not an IP:port; use e.g. \"127.0.0.1:9184\" (this host \
                         only) or \"0.0.0.0:9184\" (every interface, e.g. in a container), or \
                         remove the key to turn metrics off"
                    ),
                ));
            }
        }
        if self.quiz.intermission_seconds > 60 {
            return Err((
                "quiz.intermission_seconds".into(),
                format!(
                    "{} is out of range; use 0–60",
                    self.quiz.intermission_seconds
                ),
            ));
        }
        Ok(())
    }

    fn resolve_relative(&mut self, dir: &Path) {
        if dir.as_os_str().is_empty() {
            return;
        }
        for p in &mut self.bank.paths {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        if self.storage.path.is_relative() {
            self.storage.path = dir.join(&self.storage.path);
        }
    }

    /// A one-line description of where the bot will connect, for logs (never the token).
    pub fn describe_target(&self) -> String {
        let base = self
            .discord
            .api_base
            .as_deref()
            .unwrap_or("https://discord.com");
        let scope = match self.discord.guild_id {
            Some(g) => format!("commands registered in guild {g}"),
            None => "commands registered globally".into(),
        };
        format!("Discord REST at {base}, {scope}")
    }
}

/// The token from a file (`DISCORD_TOKEN_FILE`): a systemd credential (`LoadCredential=`) or a
/// Docker/compose secret, so the token never sits in the environment or in a unit file. The
/// message names the file, never its content.
fn read_token_file(path: &Path) -> Result<Secret, ConfigError> {
    let fail = |message: String| ConfigError {
        path: None,
        line: 1,
        col: 1,
        key: Some("DISCORD_TOKEN_FILE".into()),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(fail(format!(
            "the token file {} is empty; put the bot token in it",
            path.display()
        )));
    }
    Ok(Secret::new(token))
}

fn locate(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The dotted key whose key or value contains `offset`, deepest first.
fn key_at(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
    for (k, v) in table.iter() {
        let name = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let in_key = k.span().contains(&offset);
        let in_value = v.span().contains(&offset);
        if let DeValue::Table(t) = v.get_ref() {
            if let Some(deeper) = key_at(t, offset, &name) {
                return Some(deeper);
            }
        }
        if in_key || in_value {
            return Some(name);
        }
    }
    None
}

/// Where a dotted key's value starts.
fn offset_of(table: &DeTable<'_>, key: &str) -> Option<usize> {
    let (head, rest) = key.split_once('.').unwrap_or((key, ""));
    let (_, v) = table.iter().find(|(k, _)| k.get_ref() == head)?;
    if rest.is_empty() {
        return Some(v.span().start);
    }
    match v.get_ref() {
        DeValue::Table(t) => offset_of(t, rest),
        _ => None,
    }
}

/// The id of a custom emoji written `<:name:id>` (or animated, `<a:name:id>`).
pub fn custom_emoji_id(s: &str) -> Option<u64> {
    let inner = s
        .trim()
        .strip_prefix("<a:")
        .or_else(|| s.trim().strip_prefix("<:"))?
        .strip_suffix('>')?;
    let (name, id) = inner.rsplit_once(':')?;
    let name_ok = (2..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let id = id.parse::<u64>().ok().filter(|&i| i > 0)?;
    name_ok.then_some(id)
}

/// One Unicode emoji (by Unicode's emoji list, through the `emojis` crate, which knows
/// skin tones, flags and ZWJ sequences) or a custom emoji `<:name:id>`.
pub fn is_valid_emoji(s: &str) -> bool {
    let t = s.trim();
    custom_emoji_id(t).is_some()
        || emojis::get(t).is_some()
        || emojis::get(&t.replace('\u{FE0F}', "")).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("config.toml"))
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_when_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        // An explicit path must exist.
        let err = Config::load(Some(&missing), no_env).unwrap_err();
        assert!(err.message.contains("cannot read"), "{err}");
        let c = Config::default();
        assert_eq!(
            c.bank.paths,
            vec![PathBuf::from("questions.toml"), PathBuf::from("questions")]
        );
        assert_eq!(c.storage.path, PathBuf::from("prepbot.db"));
        assert_eq!(c.reveal.emoji, "💡");
        assert_eq!(c.reveal.mode, RevealMode::Reply);
        assert_eq!(c.discord.api_base, None);
        assert_eq!(c.discord.guild_id, None);
        assert_eq!(c.daily.max_late_hours, 12);
        assert_eq!(c.quiz.min_seconds, 10);
        assert_eq!(c.practice.new_per_day, 10);
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn env_token_wins_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[discord]\ntoken = \"from-file\"\n").unwrap();
        let c = Config::load(Some(&p), no_env).unwrap();
        assert_eq!(c.discord.token.unwrap().expose(), "from-file");
        let c = Config::load(Some(&p), |k| {
            (k == "DISCORD_TOKEN").then(|| "from-env".into())
        })
        .unwrap();
        assert_eq!(c.discord.token.unwrap().expose(), "from-env");
        // An empty variable does not erase the file's token.
        let c = Config::load(Some(&p), |_| Some("  ".into())).unwrap();
        assert_eq!(c.discord.token.unwrap().expose(), "from-file");
    }

    #[test]
    fn token_file_is_read_when_the_variable_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("discord-token");
        std::fs::write(&f, "from-file-token\n").unwrap();
        let path = f.display().to_string();
        let env = |k: &str| (k == "DISCORD_TOKEN_FILE").then(|| path.clone());
        let c = Config::load(Some(&dir.path().join("none.toml")), env);
        // An explicit config path must exist; without one the defaults apply.
        assert!(c.is_err());
        let empty = dir.path().join("c.toml");
        std::fs::write(&empty, "").unwrap();
        let c = Config::load(Some(&empty), env).unwrap();
        assert_eq!(c.discord.token.unwrap().expose(), "from-file-token");
        // DISCORD_TOKEN wins over the file.
        let both = |k: &str| match k {
            "DISCORD_TOKEN" => Some("from-env".to_string()),
            "DISCORD_TOKEN_FILE" => Some(path.clone()),
            _ => None,
        };
        let c = Config::load(Some(&empty), both).unwrap();
        assert_eq!(c.discord.token.unwrap().expose(), "from-env");
        // A missing or empty file is an error naming the file, not the token.
        let missing = dir.path().join("nope").display().to_string();
        let err = Config::load(Some(&empty), |k| {
            (k == "DISCORD_TOKEN_FILE").then(|| missing.clone())
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot read the token file"),
            "{err}"
        );
        assert!(err.to_string().contains("DISCORD_TOKEN_FILE"), "{err}");
        std::fs::write(&f, " \n").unwrap();
        let err = Config::load(Some(&empty), env).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }

    #[test]
    fn log_format_and_metrics_listen() {
        let c =
            parse("[log]\nformat = \"json\"\n[metrics]\nlisten = \"127.0.0.1:9184\"\n").unwrap();
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(
            c.metrics.listen_addr(),
            Some("127.0.0.1:9184".parse().unwrap())
        );
        assert_eq!(Config::default().metrics.listen_addr(), None);
        assert_eq!(Config::default().log.format, LogFormat::Text);
        let err = parse("[log]\nformat = \"yaml\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("log.format"), "{err}");
        let err = parse("[metrics]\nlisten = \"localhost:9184\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("metrics.listen"), "{err}");
        assert_eq!((err.line, err.col), (2, 10), "{err}");
        assert!(err.message.contains("127.0.0.1:9184"), "{err}");
        assert_eq!("JSON".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert!("xml".parse::<LogFormat>().is_err());
    }

    #[test]
    fn postgres_url_without_password_and_the_password_from_the_environment() {
        let c = parse("[storage]\nurl = \"postgres://prepbot@db:5432/prepbot\"\n").unwrap();
        assert_eq!(
            c.storage.url.as_deref(),
            Some("postgres://prepbot@db:5432/prepbot")
        );
        assert_eq!(c.storage.pool_size, 8);
        let err =
            parse("[storage]\nurl = \"postgres://prepbot:hunter22@db/prepbot\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("storage.url"), "{err}");
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("password"), "{err}");
        assert!(
            !err.to_string().contains("hunter22"),
            "never repeated: {err}"
        );
        let err = parse("[storage]\nurl = \"mysql://db/prepbot\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("storage.url"), "{err}");
        let err = parse("[storage]\npool_size = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("storage.pool_size"), "{err}");
        // The password comes from the variable `password_env` names, only with a URL.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[storage]\nurl = \"postgres://prepbot@db/prepbot\"\npassword_env = \"PG_PW\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "PG_PW").then(|| "s3cret-pw".to_string());
        let c = Config::load(Some(&p), env).unwrap();
        assert_eq!(c.storage.password, Some(Secret::new("s3cret-pw")));
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        let c = Config::load(None, env).unwrap();
        assert_eq!(c.storage.password, None);
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[bank]\npaths = [\"qs\", \"/abs/x.toml\"]\n").unwrap();
        let c = Config::load(Some(&p), no_env).unwrap();
        assert_eq!(
            c.bank.paths,
            vec![dir.path().join("qs"), PathBuf::from("/abs/x.toml")]
        );
        assert_eq!(c.storage.path, dir.path().join("prepbot.db"));
    }

    #[test]
    fn unknown_key_is_named_with_position() {
        let err = parse("[reveal]\nemoji = \"💡\"\nmod = \"dm\"\n").unwrap_err();
        assert_eq!((err.line, err.col), (3, 1), "{err}");
        assert!(err.message.contains("unknown field `mod`"), "{err}");
        assert!(
            err.to_string().starts_with("config.toml:3:1: `reveal"),
            "{err}"
        );
        let err = parse("[discrod]\ntoken = \"x\"\n").unwrap_err();
        assert!(err.message.contains("unknown field `discrod`"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = parse("[reveal]\nmode = \"shout\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("reveal.mode"), "{err}");
        assert_eq!((err.line, err.col), (2, 8));
        assert!(err.message.contains("shout"), "{err}");

        let err = parse("[discord]\nguild_id = \"abc\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("discord.guild_id"), "{err}");

        let err = parse("[discord]\napi_base = \"127.0.0.1:3000\"\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("discord.api_base"), "{err}");
        assert_eq!((err.line, err.col), (2, 12));

        let err = parse("[quiz]\nmin_seconds = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("quiz.min_seconds"), "{err}");

        let err = parse("[daily]\nmax_late_hours = 30\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("daily.max_late_hours"), "{err}");

        let err = parse("# cards\n[practice]\nnew_per_day = 501\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("practice.new_per_day"), "{err}");
        assert_eq!((err.line, err.col), (3, 15), "{err}");
        assert!(err.to_string().contains("use 0–500"), "{err}");
        let err = parse("[practice]\nnew_per_day = -1\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("practice.new_per_day"), "{err}");
        let err = parse("[practice]\nnew_per_dya = 5\n").unwrap_err();
        assert!(err.message.contains("unknown field `new_per_dya`"), "{err}");

        for bad in [
            "",
            "abc",
            "💡💡",
            ":bulb:",
            "<:idea:>",
            "<:idea:12a>",
            "<idea:12>",
            "1",
        ] {
            let err = parse(&format!("[reveal]\nemoji = \"{bad}\"\n")).unwrap_err();
            assert_eq!(err.key.as_deref(), Some("reveal.emoji"), "{bad}: {err}");
        }
        for good in [
            "💡",
            "💡\u{FE0F}",
            "👍🏽",
            "🇩🇪",
            "❤️",
            "<:idea:123456789>",
            "<a:spin:42>",
        ] {
            let c = parse(&format!("[reveal]\nemoji = \"{good}\"\n"));
            assert!(c.is_ok(), "{good}: {:?}", c.err());
        }

        let err = parse("[bank]\npaths = []\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("bank.paths"), "{err}");

        let err = parse("[discord]\nguild_id = 0\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("discord.guild_id"), "{err}");
    }

    #[test]
    fn good_values_parse() {
        let c = parse(
            "[discord]\napi_base = \"http://127.0.0.1:9\"\nguild_id = 42\n\
             [reveal]\nmode = \"dm\"\nemoji = \"🔍\"\n[quiz]\nmin_seconds = 2\n\
             [practice]\nnew_per_day = 0\n",
        )
        .unwrap();
        assert_eq!(c.discord.api_base.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(c.discord.guild_id, Some(42));
        assert_eq!(c.reveal.mode, RevealMode::Dm);
        assert_eq!(c.quiz.min_seconds, 2);
        assert_eq!(c.practice.new_per_day, 0);
    }

    #[test]
    fn shards_are_auto_or_a_range_of_a_total() {
        assert_eq!(Config::default().discord.shards, ShardsConfig::Auto);
        let c = parse("[discord]\nshards = \"auto\"\n").unwrap();
        assert_eq!(c.discord.shards, ShardsConfig::Auto);
        let c = parse("[discord]\nshards = { total = 4, range = \"2-3\" }\n").unwrap();
        let range = ShardsConfig::Range {
            total: 4,
            first: 2,
            last: 3,
        };
        assert_eq!(c.discord.shards, range);
        let s = c.discord.shards.resolve(|| unreachable!()).unwrap();
        assert_eq!((s.total(), s.first(), s.last()), (4, 2, 3));
        // One shard, and the table form.
        let c = parse("[discord.shards]\ntotal = 2\nrange = \"1\"\n").unwrap();
        let s = c.discord.shards.resolve(|| 9).unwrap();
        assert_eq!((s.total(), s.first(), s.last()), (2, 1, 1));
        // "auto" takes Discord's recommendation.
        let s = ShardsConfig::Auto.resolve(|| 3).unwrap();
        assert_eq!((s.total(), s.first(), s.last()), (3, 0, 2));

        for (text, line, col, says) in [
            (
                "[discord]\nshards = \"many\"\n",
                2,
                10,
                "`many` is not a shard setting",
            ),
            ("[discord]\nshards = 2\n", 2, 10, "\"auto\""),
            ("[discord]\nshards = { total = 2 }\n", 2, 10, "needs both"),
            (
                "[discord]\nshards = { total = 2, range = \"0..1\" }\n",
                2,
                10,
                "is not \"A-B\"",
            ),
            (
                "[discord]\nshards = { total = 2, range = \"1-2\" }\n",
                2,
                10,
                "shard 2 does not exist with total = 2",
            ),
            (
                "[discord]\n\nshards = { total = 0, range = \"0\" }\n",
                3,
                10,
                "at least one shard",
            ),
            (
                "[discord]\nshards = { total = 4, range = \"3-1\" }\n",
                2,
                10,
                "runs backwards",
            ),
            (
                "[discord]\nshards = { total = 4, range = \"1\", count = 2 }\n",
                2,
                10,
                "unknown field `count`",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.key
                    .as_deref()
                    .is_some_and(|k| k.starts_with("discord.shards")),
                "{text}: {err}"
            );
            assert_eq!(err.line, line, "{text}: {err}");
            assert!(err.col >= col, "{text}: {err}");
            assert!(err.message.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn token_is_redacted_in_debug_and_errors() {
        let c = parse("[discord]\ntoken = \"super-secret-token\"\n").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("super-secret-token"), "{dbg}");
        assert!(dbg.contains("redacted"));

        let err = parse("[discord]\ntoken = 1234567890123\n").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("discord.token"));
        assert!(!err.to_string().contains("1234567890123"), "{err}");

        // A later error in the same file does not show the token either.
        let err =
            parse("[discord]\ntoken = \"super-secret-token\"\nguild_id = \"x\"\n").unwrap_err();
        assert!(!err.to_string().contains("super-secret-token"), "{err}");
        assert!(!format!("{err:?}").contains("super-secret-token"));
    }

    #[test]
    fn describe_target_never_shows_token() {
        let mut c = Config::default();
        c.discord.token = Some(Secret::new("abc.def.ghi"));
        let s = c.describe_target();
        assert!(s.contains("https://discord.com"));
        assert!(!s.contains("abc.def"));
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    /// The shipped example must stay loadable and equal to the defaults it documents.
    #[test]
    fn config_example_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let c = Config::from_toml(&text, &path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c, Config::default());
    }
}
