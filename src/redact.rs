//! Keeping secrets out of text that leaves the process: log lines and error messages.
//!
//! Three kinds of secret can reach a log line:
//! - the bot token (known: it is redacted wherever it appears literally);
//! - interaction and webhook tokens, which sit in REST paths
//!   (`/interactions/{id}/{token}/callback`, `/webhooks/{app}/{token}/…`) and let anyone
//!   holding one post as the bot for 15 minutes;
//! - the same tokens inside debug or JSON dumps of payloads (`token: "…"`, `"token":"…"`),
//!   which serenity's own spans and trace logs print.
//!
//! Redaction is by shape, not by a list of tokens seen, so a token the bot never handled
//! itself (a serenity span, a third-party log line) is caught as well. This module is pure
//! text; `crate::logging` applies it to every log line and `deliver` to every route it names.

use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Path segments after which, past one numeric id, a token follows.
const TOKEN_PATHS: [&str; 2] = ["interactions/", "webhooks/"];

/// Field names whose quoted value is a token, as Debug or JSON prints them.
const TOKEN_FIELDS: [&str; 10] = [
    "token: \"",
    "\"token\":\"",
    "\"token\": \"",
    "token=\"",
    // serde_json's Debug of a Value, which serenity prints for events it cannot parse.
    "\"token\": String(\"",
    // The same five inside a JSON log line (`log.format = "json"`), where the quotes of a
    // message or field are escaped.
    "token: \\\"",
    "\\\"token\\\":\\\"",
    "\\\"token\\\": \\\"",
    "token=\\\"",
    "\\\"token\\\": String(\\\"",
];

/// `text` with every token-shaped secret and every literal in `known` replaced by
/// [`REDACTED`]. Borrowed when there was nothing to redact (the common case for log lines).
pub fn redact<'a>(text: &'a str, known: &[&str]) -> Cow<'a, str> {
    let needs = known.iter().any(|k| !k.is_empty() && text.contains(k))
        || TOKEN_PATHS.iter().any(|p| text.contains(p))
        || TOKEN_FIELDS.iter().any(|f| text.contains(f));
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for k in known.iter().filter(|k| !k.is_empty()) {
        out = out.replace(k, REDACTED);
    }
    for marker in TOKEN_PATHS {
        out = redact_path_tokens(&out, marker);
    }
    for field in TOKEN_FIELDS {
        out = redact_quoted(&out, field);
    }
    Cow::Owned(out)
}

/// A REST route fit for logs and errors: the path with interaction and webhook tokens
/// replaced, e.g. `POST /interactions/1/<redacted>/callback`.
pub fn route(method: &str, path: &str) -> String {
    format!("{method} {}", redact(path, &[]))
}

/// Replaces the segment after `marker` + digits + `/`.
fn redact_path_tokens(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after_marker = at + marker.len();
        out.push_str(&rest[..after_marker]);
        rest = &rest[after_marker..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || rest.as_bytes().get(digits) != Some(&b'/') {
            continue;
        }
        out.push_str(&rest[..=digits]);
        rest = &rest[digits + 1..];
        if let Some(after) = rest.strip_prefix(REDACTED) {
            // Already redacted (a line scrubbed twice).
            out.push_str(REDACTED);
            rest = after;
            continue;
        }
        let token_len = rest.find(is_path_end).unwrap_or(rest.len());
        if token_len > 0 {
            out.push_str(REDACTED);
        }
        rest = &rest[token_len..];
    }
    out.push_str(rest);
    out
}

fn is_path_end(c: char) -> bool {
    // A backslash ends a path inside a JSON string (`…/callback\"`: an escaped quote).
    matches!(
        c,
        '/' | '?' | '#' | '"' | '\'' | ')' | ',' | '>' | '`' | '\\'
    ) || c.is_whitespace()
}

/// Replaces the quoted value after `field` (which ends with the opening quote). The value ends
/// at a quote, or at a backslash: inside a JSON log line the closing quote is escaped (`\"`),
/// and no token contains a backslash.
fn redact_quoted(text: &str, field: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(field) {
        let start = at + field.len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(['"', '\\']).unwrap_or(rest.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const IX: &str = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmZha2U.xyz-_9";

    #[test]
    fn interaction_and_webhook_paths_lose_their_token() {
        let p = format!("POST /interactions/123/{IX}/callback?with_response=true failed");
        let r = redact(&p, &[]);
        assert!(!r.contains(IX), "{r}");
        assert_eq!(
            r,
            "POST /interactions/123/<redacted>/callback?with_response=true failed"
        );
        let w = format!("PATCH https://discord.com/api/v10/webhooks/9/{IX}/messages/@original");
        assert_eq!(
            redact(&w, &[]),
            "PATCH https://discord.com/api/v10/webhooks/9/<redacted>/messages/@original"
        );
        // A token at the very end, and twice in one line.
        let two = format!("/webhooks/1/{IX} and /interactions/2/{IX}");
        assert_eq!(
            redact(&two, &[]),
            "/webhooks/1/<redacted> and /interactions/2/<redacted>"
        );
    }

    #[test]
    fn debug_and_json_dumps_lose_their_token() {
        let d = format!("req=Request {{ route: InteractionResponse {{ interaction_id: InteractionId(1), token: \"{IX}\" }} }}");
        assert!(!redact(&d, &[]).contains(IX));
        let j = format!("{{\"id\":\"1\",\"token\":\"{IX}\",\"type\":2}}");
        assert_eq!(
            redact(&j, &[]),
            "{\"id\":\"1\",\"token\":\"<redacted>\",\"type\":2}"
        );
        let spaced = format!("{{\"token\": \"{IX}\"}}");
        assert!(!redact(&spaced, &[]).contains(IX));
        let value_debug = format!("Object {{\"token\": String(\"{IX}\"), \"type\": Number(2)}}");
        assert_eq!(
            redact(&value_debug, &[]),
            "Object {\"token\": String(\"<redacted>\"), \"type\": Number(2)}"
        );
    }

    /// A JSON log line escapes the quotes of the Debug dumps it carries; the tokens in them go
    /// all the same, and the line stays valid JSON.
    #[test]
    fn json_log_lines_lose_their_tokens_and_stay_json() {
        let dump = format!(
            "req=Request {{ token: \"{IX}\" }} body={{\"token\":\"{IX}\"}} \
             v={{\"token\": String(\"{IX}\")}} path=/interactions/5/{IX}"
        );
        let line =
            serde_json::json!({"fields": {"message": dump, "route": format!("/webhooks/1/{IX}")}})
                .to_string();
        assert!(
            line.contains("\\\"token\\\""),
            "the test line escapes its quotes"
        );
        let r = redact(&line, &[]);
        assert!(!r.contains(IX), "{r}");
        let parsed: serde_json::Value = serde_json::from_str(&r).unwrap();
        let message = parsed["fields"]["message"].as_str().unwrap();
        assert_eq!(
            message,
            "req=Request { token: \"<redacted>\" } body={\"token\":\"<redacted>\"} \
             v={\"token\": String(\"<redacted>\")} path=/interactions/5/<redacted>"
        );
        assert_eq!(parsed["fields"]["route"], "/webhooks/1/<redacted>");
    }

    #[test]
    fn known_secrets_are_replaced_anywhere() {
        let bot = "MTA5.bot.token";
        let r = redact("Authorization: Bot MTA5.bot.token sent", &[bot]);
        assert_eq!(r, "Authorization: Bot <redacted> sent");
    }

    #[test]
    fn ordinary_text_is_borrowed_and_unchanged() {
        for t in [
            "GET /channels/1/messages?limit=50",
            "interactions/ without an id",
            "/interactions/abc/def",
            "",
        ] {
            assert!(matches!(redact(t, &["secret"]), Cow::Borrowed(_)) || redact(t, &[]) == t);
            assert_eq!(redact(t, &[]), t);
        }
        assert_eq!(
            route("GET", "/channels/1/messages"),
            "GET /channels/1/messages"
        );
    }

    #[test]
    fn redaction_is_idempotent_and_never_panics_on_odd_text() {
        let once = redact(&format!("/interactions/1/{IX}/x"), &[]).into_owned();
        assert_eq!(redact(&once, &[]), once);
        for t in [
            "/interactions/1/",
            "/interactions/1",
            "token: \"",
            "\"token\":\"",
            "/webhooks/12/é漢字/x",
        ] {
            let _ = redact(t, &["é"]);
        }
    }
}
