//! Checks request bodies against Discord's official OpenAPI spec
//! (`tests/data/discord-api-spec/openapi.json`, MIT, from discord/discord-api-spec).
//!
//! Real Discord rejects an over-long embed title or button label with a 400; a fake that accepts
//! everything would let such bugs through. So the fake validates every JSON body against the
//! request-body schema of the matching operation (method + path template such as
//! `/channels/{channel_id}/messages`) and records violations instead of failing the request,
//! which keeps the bot's behaviour observable while the test still fails at
//! `assert_no_schema_violations()`.
//!
//! The spec leaves out three rules Discord enforces on messages; `extra_message_rules` adds them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

/// The parsed spec plus a cache of compiled validators, shared by every fake in the process
/// (parsing 1.2 MB and compiling schemas is the slow part).
pub struct Spec {
    components: Value,
    /// (method in lower case, path template) → request-body JSON schema.
    bodies: HashMap<(String, String), Value>,
    /// Path templates split into segments, for matching concrete paths.
    templates: Vec<Vec<String>>,
    compiled: Mutex<HashMap<String, Arc<Validator>>>,
}

/// (instance location, message) of one schema failure.
type Located = (String, String);

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/discord-api-spec/openapi.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let doc: Value = serde_json::from_str(&text).expect("openapi.json is JSON");
        Spec::new(doc)
    })
}

impl Spec {
    fn new(doc: Value) -> Self {
        let mut bodies = HashMap::new();
        let mut templates = Vec::new();
        for (template, ops) in doc["paths"].as_object().expect("spec has paths") {
            templates.push(
                template
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_string)
                    .collect(),
            );
            for (method, op) in ops.as_object().into_iter().flatten() {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                if !schema.is_null() {
                    bodies.insert((method.to_lowercase(), template.clone()), schema.clone());
                }
            }
        }
        Spec {
            components: doc["components"].clone(),
            bodies,
            templates,
            compiled: Mutex::default(),
        }
    }

    /// The spec's template for a concrete path (without `/api/v10`), e.g.
    /// `/channels/1/messages/@original`… Literal segments beat `{params}`, so
    /// `/webhooks/{id}/{token}/messages/@original` wins over `.../messages/{message_id}`.
    pub fn template_for(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.templates
            .iter()
            .filter(|t| t.len() == segs.len())
            .filter_map(|t| {
                let mut literal = 0;
                for (want, got) in t.iter().zip(&segs) {
                    if want.starts_with('{') {
                        continue;
                    }
                    if want != got {
                        return None;
                    }
                    literal += 1;
                }
                Some((literal, t))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, t)| format!("/{}", t.join("/")))
    }

    /// Validates `body` for `method path`. Returns (template, error messages); no template or no
    /// request-body schema means nothing to check.
    pub fn validate(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> (Option<String>, Vec<String>) {
        let Some(template) = self.template_for(path) else {
            return (None, Vec::new());
        };
        let Some(schema) = self.bodies.get(&(method.to_lowercase(), template.clone())) else {
            return (Some(template), Vec::new());
        };
        // A top-level anyOf (interaction callbacks, webhook execute) only says "matches none of
        // the variants"; validate each variant separately and report the closest one instead.
        let variants: Vec<&Value> = match schema.get("anyOf").and_then(Value::as_array) {
            Some(vs) => vs.iter().collect(),
            None => vec![schema],
        };
        let mut best: Option<((bool, usize), String, Vec<Located>)> = None;
        for variant in variants {
            let errors = self.errors(variant, body);
            if errors.is_empty() {
                return (Some(template), Vec::new());
            }
            // Discord discriminates variants by `type`: one that accepts the body's `type` is
            // the one the sender meant, whatever else is wrong with it.
            let score = (
                errors.iter().any(|(at, _)| at == "/type" || at.is_empty()),
                errors.len(),
            );
            if best.as_ref().is_none_or(|(b, _, _)| score < *b) {
                let name = variant["$ref"]
                    .as_str()
                    .unwrap_or("body")
                    .rsplit('/')
                    .next()
                    .unwrap();
                best = Some((score, name.to_string(), errors));
            }
        }
        let (_, name, errors) = best.unwrap();
        let messages = errors
            .into_iter()
            .map(|(at, e)| format!("[{name}] at `{at}`: {e}"))
            .collect();
        (Some(template), messages)
    }

    /// (instance location, message) of each failure. A failed `anyOf`/`oneOf` only says "matches
    /// none"; descend into the branch the sender most likely meant so the message names the real
    /// problem (e.g. the too-long `label` of a button, not "not valid under any of the schemas").
    fn errors(&self, schema: &Value, body: &Value) -> Vec<Located> {
        let validator = self.compile(schema);
        let mut out = Vec::new();
        for error in validator.iter_errors(body) {
            leaf_errors(&error, &mut out);
        }
        out
    }

    fn compile(&self, schema: &Value) -> Arc<Validator> {
        let key = schema.to_string();
        let mut cache = self.compiled.lock().unwrap();
        if let Some(v) = cache.get(&key) {
            return v.clone();
        }
        // `$ref`s point at `#/components/...`: put the components next to the schema so they
        // resolve inside the same document (OpenAPI 3.1 schemas are JSON Schema 2020-12).
        let doc = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.components,
            "allOf": [schema],
        });
        let validator = Arc::new(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&doc)
                .unwrap_or_else(|e| panic!("compiling request schema {key}: {e}")),
        );
        cache.insert(key, validator.clone());
        validator
    }
}

fn leaf_errors(error: &ValidationError<'_>, out: &mut Vec<Located>) {
    let at = error.instance_path().as_str().to_string();
    let branches = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => {
            // Keep both ends of long messages: the value's start and the rule that failed.
            // Keep both ends of long messages: the value's start and the rule that failed.
            let mut text = error.to_string();
            let chars: Vec<char> = text.chars().collect();
            if chars.len() > 200 {
                let (head, tail): (String, String) = (
                    chars[..60].iter().collect(),
                    chars[chars.len() - 100..].iter().collect(),
                );
                text = format!("{head}…{tail}");
            }
            out.push((at, text));
            return;
        }
    };
    // A branch is the wrong kind of thing when it fails on the value's own type (`null` vs
    // object) or on the `type` discriminator Discord uses for components and callbacks.
    let discriminator = format!("{at}/type");
    let wrong_kind = |branch: &Vec<ValidationError<'_>>| {
        branch.iter().any(|e| {
            let path = e.instance_path().as_str();
            path == discriminator
                || (path == at && matches!(e.kind(), ValidationErrorKind::Type { .. }))
        })
    };
    match branches.iter().min_by_key(|b| (wrong_kind(b), b.len())) {
        Some(best) => best.iter().for_each(|e| leaf_errors(e, out)),
        None => out.push((at, error.to_string())),
    }
}

/// Rules Discord enforces that the spec does not encode:
/// - a channel message's `content` is at most 2000 characters (the spec only limits
///   interaction/webhook content);
/// - all embeds of a message together have at most 6000 characters of text;
/// - a new message must not be empty (content, embeds, components, stickers, files or a poll).
///
/// `message` is the message-shaped part of the body (e.g. `data` of an interaction callback);
/// `channel_message` selects the content rule; `creates` selects the "not empty" rule.
pub fn extra_message_rules(message: &Value, channel_message: bool, creates: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let content = message["content"].as_str().unwrap_or("");
    if channel_message && content.chars().count() > 2000 {
        errors.push(format!(
            "content has {} characters; Discord allows 2000",
            content.chars().count()
        ));
    }
    let embeds = message["embeds"].as_array().cloned().unwrap_or_default();
    let embed_chars: usize = embeds.iter().map(embed_text_len).sum();
    if embed_chars > 6000 {
        errors.push(format!(
            "embeds have {embed_chars} characters in total; Discord allows 6000"
        ));
    }
    let non_empty = |key: &str| match &message[key] {
        Value::Array(a) => !a.is_empty(),
        Value::Null => false,
        _ => true,
    };
    if creates
        && content.is_empty()
        && ![
            "embeds",
            "components",
            "sticker_ids",
            "attachments",
            "files",
            "poll",
        ]
        .iter()
        .any(|k| non_empty(k))
    {
        errors.push(
            "message is empty (no content, embeds, components, stickers, files or poll)".into(),
        );
    }
    errors
}

/// Characters Discord counts toward the 6000 limit: title, description, field names and values,
/// footer text and author name.
fn embed_text_len(embed: &Value) -> usize {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let fields: usize = embed["fields"]
        .as_array()
        .map(|fs| fs.iter().map(|f| len(&f["name"]) + len(&f["value"])).sum())
        .unwrap_or(0);
    len(&embed["title"])
        + len(&embed["description"])
        + fields
        + len(&embed["footer"]["text"])
        + len(&embed["author"]["name"])
}
