//! Log output: the tracing subscriber the binary installs, with every line passed through
//! [`crate::redact`] on its way out.
//!
//! Redacting at the writer, rather than at each call site, is what makes the guarantee hold
//! for lines we do not write ourselves: serenity's `#[instrument]` spans print whole requests
//! (interaction tokens included) at INFO, and its gateway traces print raw payloads. A log
//! line is formatted whole and written with one `write_all`, so a token is never split across
//! two writes. The same holds for JSON lines (`log.format = "json"`): `redact` knows the
//! escaped shapes a token takes inside a JSON string.

use std::io::{self, Write};
use std::sync::RwLock;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Literal secrets to redact besides the token shapes `redact` knows (the bot token).
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a literal secret (e.g. the bot token, with and without its `Bot ` prefix) to what
/// every later log line is scrubbed of.
pub fn register_secret(secret: &str) {
    let s = secret.trim();
    if s.len() < 8 {
        // Too short to be a real token, and replacing it would garble ordinary words.
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|k| k == s) {
        known.push(s.to_string());
    }
}

/// `text` as it may appear in a log line.
pub fn scrub(text: &str) -> String {
    let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    crate::redact::redact(text, &refs).into_owned()
}

/// A [`MakeWriter`] whose writers redact secrets from what passes through them.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

pub struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Installs the process-wide subscriber: `RUST_LOG` (default `info`), lines on stderr in
/// `format`, secrets redacted; and, with its own filter, the watch on serenity's gateway
/// events behind `/healthz` (`discord::health::GatewayWatch`). Returns false when a
/// subscriber was already installed.
pub fn init(format: LogFormat) -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer().with_writer(Redacting(io::stderr));
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        // One object per line: `timestamp`, `level`, `target`, `fields` (the message and the
        // event's fields), `span` (the current span's fields) and `spans` (all open spans,
        // outermost first), so a log shipper can filter on e.g. `span.guild`.
        LogFormat::Json => lines
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(crate::discord::health::gateway_watch())
        .try_init()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_redacts_registered_secrets_and_token_shapes() {
        register_secret("MTIzNDU2.registered.secret");
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter(&mut out);
            w.write_all(b"Bot MTIzNDU2.registered.secret /interactions/5/abcdef/callback\n")
                .unwrap();
        }
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "Bot <redacted> /interactions/5/<redacted>/callback\n");
    }

    #[test]
    fn short_strings_are_not_registered() {
        register_secret("abc");
        assert_eq!(scrub("abc"), "abc");
    }
}
