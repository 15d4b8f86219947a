//! Reading bank files: bytes in, validated [`Question`]s or `path:line:col:` diagnostics out.
//!
//! The goal is that a bank author sees *every* problem of a file in one run, each pointing at
//! the exact place and saying what to do, so parsing is done in two steps: toml's recoverable
//! parser turns the text into a spanned tree (reporting every syntax error it can), and a hand
//! written walk over that tree checks the bank's own rules. Serde derive is not used here on
//! purpose: it stops at the first error and loses positions of missing fields.
//!
//! Nothing in here panics on any input: invalid UTF-8, a byte-order mark, a huge file or deep
//! nesting all end as diagnostics.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::model::{Difficulty, Question};
use crate::text::limits;

/// The largest bank file we read. A bank of interview questions is a few hundred KiB; a file
/// far bigger than this is a mistake (wrong path, a binary), and reading it whole would only
/// waste memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The longest id, category or tag. They appear in slash-command choices (≤ 100 chars) and in
/// component custom ids (≤ 100 chars, shared with a prefix), so 64 leaves room.
pub const MAX_NAME_CHARS: usize = 64;

/// How many key points a question may list, and how long each may be: an interviewer ticks
/// them off while listening, so they are few and each is one short claim.
pub const KEY_POINTS: std::ops::RangeInclusive<usize> = 3..=6;
pub const MAX_KEY_POINT_CHARS: usize = 150;

/// How many follow-up questions a question may list, and how long each may be: they are
/// asked one at a time and answered in about a minute each.
pub const FOLLOW_UPS: std::ops::RangeInclusive<usize> = 1..=3;
pub const MAX_FOLLOW_UP_CHARS: usize = 300;

/// The longest `quiz_answer`, and the longest distractor of a question that has one. Options
/// written for a quiz are one line each so that all four can be the same length; a paragraph
/// among one-liners would give itself away.
pub const MAX_QUIZ_OPTION_CHARS: usize = 150;

/// The fewest distractors a question with a `quiz_answer` may have: a quiz shows three wrong
/// options, and topping up one-line options with other questions' paragraph answers would
/// give the right one away.
pub const MIN_DISTRACTORS_WITH_QUIZ_ANSWER: usize = 3;

const KNOWN_KEYS: [&str; 11] = [
    "id",
    "category",
    "question",
    "answer",
    "tags",
    "difficulty",
    "distractors",
    "explanation",
    "key_points",
    "follow_ups",
    "quiz_answer",
];

/// One problem in a bank file, at a 1-based line and column (columns count characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// A question together with where its `id` was written, for cross-file duplicate checks,
/// and where the parts that lints point at were written.
#[derive(Clone, Debug)]
pub struct Located {
    pub question: Question,
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub at: Positions,
}

/// Where parts of a question were written, as 1-based `(line, col)`; kept by the loader so
/// that `lint` can point at the offending key rather than only at the question's id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    pub quiz_answer: Option<(usize, usize)>,
    /// One entry per distractor, in the order of `Question::distractors`.
    pub distractors: Vec<(usize, usize)>,
}

/// Maps byte offsets of a text to 1-based line and character columns.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        // Spans from the parser fall on char boundaries; `get` keeps us safe if one does not.
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

/// Reads one bank file from disk, applying the size limit and decoding rules.
pub fn read_file(path: &Path) -> Result<String, Diagnostic> {
    let at_start = |message: String| Diagnostic {
        path: path.to_path_buf(),
        line: 1,
        col: 1,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        at_start(format!(
            "cannot read this bank file: {e}; check `bank.paths` in the config or the path given"
        ))
    })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(at_start(format!(
            "file is {:.1} MiB; a bank file may be at most {} MiB — is this the right file? \
             Split a large bank into several files in one directory",
            meta.len() as f64 / 1048576.0,
            MAX_FILE_BYTES / 1048576
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| at_start(format!("cannot read this bank file: {e}")))?;
    decode(path, &bytes)
}

/// Turns raw bytes into text: strips a UTF-8 byte-order mark (some editors add one) and
/// reports invalid UTF-8 at the line and column where it starts.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<String, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let valid = e.valid_up_to();
            // The prefix up to `valid` is valid UTF-8 by definition.
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let (line, col) = LineIndex::new(prefix).locate(valid);
            Err(Diagnostic {
                path: path.to_path_buf(),
                line,
                col,
                message: format!(
                    "invalid UTF-8 (byte 0x{:02X}); save the file as UTF-8",
                    bytes[valid]
                ),
            })
        }
    }
}

/// Parses and validates one file's text. Returns the questions that are valid and a
/// diagnostic for every problem found; a caller treats any diagnostic as a failed load.
pub fn parse_text(path: &Path, text: &str) -> (Vec<Located>, Vec<Diagnostic>) {
    let mut cx = Cx {
        path,
        lines: LineIndex::new(text),
        diags: Vec::new(),
    };
    let (doc, syntax) = DeTable::parse_recoverable(text);
    for err in &syntax {
        let offset = err.span().map_or(0, |s| s.start);
        let msg = err.message().trim().replace('\n', "; ");
        cx.error(
            offset,
            format!("TOML syntax error: {msg}; fix the syntax and run `prepbot check` again"),
        );
    }
    if !syntax.is_empty() {
        // The recovered tree may be missing pieces, and validating it would report problems
        // that are only echoes of the syntax error. One pass at a time.
        return (Vec::new(), cx.diags);
    }

    let mut out = Vec::new();
    let table = doc.get_ref();
    for (key, value) in table.iter() {
        if key.get_ref().as_ref() != "question" {
            cx.error(
                key.span().start,
                format!(
                    "unknown top-level key `{}`; a bank file holds only `[[question]]` entries",
                    key.get_ref()
                ),
            );
            continue;
        }
        match value.get_ref() {
            DeValue::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    if let Some(q) = cx.question(n + 1, item) {
                        out.push(q);
                    }
                }
            }
            other => cx.error(
                value.span().start,
                format!(
                    "`question` must be an array of tables written as `[[question]]`, found {}",
                    type_name(other)
                ),
            ),
        }
    }
    // Walk order groups problems by question; authors fix files top to bottom.
    cx.diags.sort_by_key(|d| (d.line, d.col));
    (out, cx.diags)
}

/// Checks ids for uniqueness across every file of a bank, naming both places.
pub fn check_duplicates(questions: &[Located]) -> Vec<Diagnostic> {
    let mut seen: HashMap<&str, &Located> = HashMap::new();
    let mut diags = Vec::new();
    for q in questions {
        if let Some(first) = seen.get(q.question.id.as_str()) {
            diags.push(Diagnostic {
                path: q.path.clone(),
                line: q.line,
                col: q.col,
                message: format!(
                    "duplicate id `{}`: already used at {}:{}:{}; ids must be unique across all \
                     bank files — rename one of them",
                    q.question.id,
                    first.path.display(),
                    first.line,
                    first.col
                ),
            });
        } else {
            seen.insert(&q.question.id, q);
        }
    }
    diags
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Whether `s` is lowercase kebab-case: `a-z0-9` words joined by single hyphens.
pub fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A kebab-case version of `s`, offered as a fix in messages.
fn kebab_suggestion(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "sql-vs-nosql".into()
    } else {
        out
    }
}

/// The closest of `candidates` to `word`, when close enough to be a likely typo: at most two
/// edits, or a third of the candidate's length for long names (edit distance in characters).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.chars().count() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

struct Cx<'a> {
    path: &'a Path,
    lines: LineIndex<'a>,
    diags: Vec<Diagnostic>,
}

type Entry<'i> = (
    &'i Spanned<toml::de::DeString<'i>>,
    &'i Spanned<DeValue<'i>>,
);

impl Cx<'_> {
    fn error(&mut self, offset: usize, message: String) {
        let (line, col) = self.lines.locate(offset);
        self.diags.push(Diagnostic {
            path: self.path.to_path_buf(),
            line,
            col,
            message,
        });
    }

    fn question(&mut self, n: usize, item: &Spanned<DeValue<'_>>) -> Option<Located> {
        let DeValue::Table(table) = item.get_ref() else {
            self.error(
                item.span().start,
                format!(
                    "question #{n} must be a table written as `[[question]]`, found {}",
                    type_name(item.get_ref())
                ),
            );
            return None;
        };
        let before = self.diags.len();
        let mut fields: HashMap<&str, Entry<'_>> = HashMap::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            match KNOWN_KEYS.iter().find(|k| **k == name) {
                Some(k) => {
                    fields.insert(k, (key, value));
                }
                None => {
                    let hint = match closest(name, KNOWN_KEYS) {
                        Some(k) => format!("did you mean `{k}`?"),
                        None => format!("known keys are {}", KNOWN_KEYS.join(", ")),
                    };
                    self.error(
                        key.span().start,
                        format!("unknown key `{name}` in question #{n}; {hint}"),
                    );
                }
            }
        }

        // Where to point when a required field is missing: the table itself.
        let table_at = item.span().start;
        let id = self.required_text(n, &fields, "id", table_at, None);
        let label = match &id {
            Some(id) => format!("question `{id}`"),
            None => format!("question #{n}"),
        };
        let id_at = fields.get("id").map_or(table_at, |(_, v)| v.span().start);
        if let Some(id) = &id {
            if !is_kebab(id) || id.chars().count() > MAX_NAME_CHARS {
                self.error(
                    id_at,
                    format!(
                        "id `{id}` must be lowercase kebab-case (letters, digits, single hyphens) \
                         of at most {MAX_NAME_CHARS} characters, e.g. `{}`",
                        kebab_suggestion(id)
                    ),
                );
            }
        }
        let category = self.required_text(n, &fields, "category", table_at, Some(&label));
        if let (Some(c), Some((_, v))) = (&category, fields.get("category")) {
            if !is_kebab(c) || c.chars().count() > MAX_NAME_CHARS {
                self.error(
                    v.span().start,
                    format!(
                        "category `{c}` of {label} must be lowercase kebab-case of at most \
                         {MAX_NAME_CHARS} characters, e.g. `{}`",
                        kebab_suggestion(c)
                    ),
                );
            }
        }
        let question = self.required_text(n, &fields, "question", table_at, Some(&label));
        let answer = self.required_text(n, &fields, "answer", table_at, Some(&label));
        if let (Some(text), Some((_, v))) = (&question, fields.get("question")) {
            self.limit(
                v,
                text,
                &label,
                "question",
                limits::EMBED_DESCRIPTION,
                "an embed description",
            );
        }
        if let (Some(text), Some((_, v))) = (&answer, fields.get("answer")) {
            self.limit(
                v,
                text,
                &label,
                "answer",
                limits::EMBED_DESCRIPTION,
                "an embed description",
            );
        }

        let difficulty = fields.get("difficulty").and_then(|(_, v)| {
            let s = self.text(v, &label, "difficulty")?;
            match s.parse::<Difficulty>() {
                Ok(d) => Some(d),
                Err(_) => {
                    self.error(
                        v.span().start,
                        format!("unknown difficulty `{s}` in {label}; use easy, medium or hard"),
                    );
                    None
                }
            }
        });

        let tags = match fields.get("tags") {
            Some((_, v)) => self.string_list(v, &label, "tags"),
            None => Vec::new(),
        };
        let mut seen_tags = Vec::new();
        for (tag, at) in &tags {
            if !is_kebab(tag) || tag.chars().count() > MAX_NAME_CHARS {
                self.error(
                    *at,
                    format!(
                        "tag `{tag}` of {label} must be lowercase kebab-case of at most \
                         {MAX_NAME_CHARS} characters, e.g. `{}`",
                        kebab_suggestion(tag)
                    ),
                );
            } else if seen_tags.contains(tag) {
                self.error(
                    *at,
                    format!("tag `{tag}` is listed twice in {label}; remove one"),
                );
            } else {
                seen_tags.push(tag.clone());
            }
        }

        let key_points = match fields.get("key_points") {
            Some((_, v)) => self.short_texts(
                v,
                &label,
                "key_points",
                "key point",
                KEY_POINTS,
                MAX_KEY_POINT_CHARS,
            ),
            None => Vec::new(),
        };
        let follow_ups = match fields.get("follow_ups") {
            Some((_, v)) => self.short_texts(
                v,
                &label,
                "follow_ups",
                "follow-up",
                FOLLOW_UPS,
                MAX_FOLLOW_UP_CHARS,
            ),
            None => Vec::new(),
        };

        // The distractor rules below depend on whether the key is there, not on whether its
        // value is valid: a typo in the value must not loosen them.
        let quiz_entry = fields.get("quiz_answer").map(|(_, v)| *v);
        let quiz_answer = quiz_entry.and_then(|v| {
            let s = self.text(v, &label, "quiz_answer")?;
            let n = s.trim().chars().count();
            if n == 0 {
                self.error(
                    v.span().start,
                    format!(
                        "`quiz_answer` of {label} is empty; write the correct option or remove \
                         the key"
                    ),
                );
                return None;
            }
            if n > MAX_QUIZ_OPTION_CHARS {
                self.error(
                    v.span().start,
                    format!(
                        "`quiz_answer` of {label} is {n} characters; a quiz option is one line of \
                         at most {MAX_QUIZ_OPTION_CHARS} — shorten it by {}",
                        n - MAX_QUIZ_OPTION_CHARS
                    ),
                );
            }
            Some(s.trim().to_string())
        });

        let distractors = match fields.get("distractors") {
            Some((_, v)) => self.string_list(v, &label, "distractors"),
            None => Vec::new(),
        };
        if let Some(qa) = quiz_entry {
            if distractors.len() < MIN_DISTRACTORS_WITH_QUIZ_ANSWER {
                let (at, what) = match fields.get("distractors") {
                    Some((_, v)) => (
                        v.span().start,
                        format!(
                            "only {}",
                            crate::text::count(distractors.len(), "distractor")
                        ),
                    ),
                    None => (qa.span().start, "no `distractors`".to_string()),
                };
                self.error(
                    at,
                    format!(
                        "{label} has a `quiz_answer` but {what}; a quiz shows it among \
                         {MIN_DISTRACTORS_WITH_QUIZ_ANSWER} wrong options — write at least \
                         {MIN_DISTRACTORS_WITH_QUIZ_ANSWER}"
                    ),
                );
            }
        }
        let quiz_norm = quiz_answer.as_deref().map(normalise);
        let mut seen_d: Vec<String> = Vec::new();
        for (d, at) in &distractors {
            let norm = normalise(d);
            // Like every other limit: what is shown, without surrounding whitespace.
            let n = d.trim().chars().count();
            if d.trim().is_empty() {
                self.error(
                    *at,
                    format!("a distractor of {label} is empty; remove it or write a wrong answer"),
                );
            } else if quiz_entry.is_some() && n > MAX_QUIZ_OPTION_CHARS {
                self.error(
                    *at,
                    format!(
                        "a distractor of {label} is {n} characters; next to a `quiz_answer` an \
                         option is one line of at most {MAX_QUIZ_OPTION_CHARS} — shorten it by {}",
                        n - MAX_QUIZ_OPTION_CHARS
                    ),
                );
            } else if n > limits::EMBED_FIELD_VALUE {
                self.error(
                    *at,
                    format!(
                        "a distractor of {label} is {n} characters; quiz choices are shown as embed \
                         fields, which Discord limits to {} — shorten it",
                        limits::EMBED_FIELD_VALUE
                    ),
                );
            } else if answer.as_deref().map(normalise) == Some(norm.clone()) {
                self.error(*at, format!("a distractor of {label} is the same as its answer; a wrong answer must differ"));
            } else if quiz_norm.as_ref() == Some(&norm) {
                self.error(
                    *at,
                    format!(
                        "a distractor of {label} is the same as its `quiz_answer`; a wrong option \
                         must differ from the right one"
                    ),
                );
            } else if seen_d.contains(&norm) {
                self.error(
                    *at,
                    format!("a distractor of {label} is listed twice; remove one"),
                );
            } else {
                seen_d.push(norm);
            }
        }

        let explanation = fields.get("explanation").and_then(|(_, v)| {
            let s = self.text(v, &label, "explanation")?;
            if s.trim().is_empty() {
                self.error(
                    v.span().start,
                    format!("`explanation` of {label} is empty; remove the key or write one"),
                );
                return None;
            }
            self.limit(
                v,
                &s,
                &label,
                "explanation",
                limits::EMBED_FIELD_VALUE,
                "an embed field",
            );
            Some(s)
        });

        if self.diags.len() > before {
            return None;
        }
        let (line, col) = self.lines.locate(id_at);
        let at = Positions {
            quiz_answer: quiz_entry.map(|v| self.lines.locate(v.span().start)),
            distractors: distractors
                .iter()
                .map(|(_, at)| self.lines.locate(*at))
                .collect(),
        };
        Some(Located {
            question: Question {
                id: id?,
                category: category?,
                question: question?.trim().to_string(),
                answer: answer?.trim().to_string(),
                tags: seen_tags,
                difficulty,
                distractors: distractors
                    .into_iter()
                    .map(|(d, _)| d.trim().to_string())
                    .collect(),
                explanation: explanation.map(|e| e.trim().to_string()),
                key_points,
                follow_ups,
                quiz_answer,
            },
            path: self.path.to_path_buf(),
            line,
            col,
            at,
        })
    }

    /// A required, non-empty string field.
    fn required_text(
        &mut self,
        n: usize,
        fields: &HashMap<&str, Entry<'_>>,
        key: &str,
        table_at: usize,
        label: Option<&str>,
    ) -> Option<String> {
        let label = label.map_or_else(|| format!("question #{n}"), str::to_string);
        let Some((_, v)) = fields.get(key) else {
            self.error(
                table_at,
                format!("{label} is missing `{key}`; add `{key} = \"…\"` to it"),
            );
            return None;
        };
        let s = self.text(v, &label, key)?;
        if s.trim().is_empty() {
            self.error(
                v.span().start,
                format!("`{key}` of {label} is empty; write it or remove the question"),
            );
            return None;
        }
        Some(s.trim().to_string())
    }

    fn text(&mut self, v: &Spanned<DeValue<'_>>, label: &str, key: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.error(
                    v.span().start,
                    format!(
                        "`{key}` of {label} must be a string, found {}",
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    fn string_list(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        label: &str,
        key: &str,
    ) -> Vec<(String, usize)> {
        let DeValue::Array(items) = v.get_ref() else {
            self.error(
                v.span().start,
                format!(
                    "`{key}` of {label} must be an array of strings like [\"a\", \"b\"], found {}",
                    type_name(v.get_ref())
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span().start)),
                other => self.error(
                    item.span().start,
                    format!(
                        "`{key}` of {label} must hold only strings, found {}",
                        type_name(other)
                    ),
                ),
            }
        }
        out
    }

    /// A list of short texts (key points, follow-ups): `count` entries, each non-empty and at
    /// most `max` characters. Returns them trimmed.
    fn short_texts(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        label: &str,
        key: &str,
        noun: &str,
        count: std::ops::RangeInclusive<usize>,
        max: usize,
    ) -> Vec<String> {
        let items = self.string_list(v, label, key);
        let DeValue::Array(raw) = v.get_ref() else {
            // string_list has said what is wrong; a count would only repeat it.
            return Vec::new();
        };
        // Entries of a wrong type count: they were meant as entries, and are reported apart.
        if !count.contains(&raw.len()) {
            self.error(
                v.span().start,
                format!(
                    "`{key}` of {label} has {}; write {} to {}",
                    crate::text::count(raw.len(), noun),
                    count.start(),
                    count.end()
                ),
            );
        }
        let mut out = Vec::new();
        for (text, at) in items {
            let n = text.trim().chars().count();
            if n == 0 {
                self.error(
                    at,
                    format!("a {noun} of {label} is empty; remove it or write one"),
                );
            } else if n > max {
                self.error(
                    at,
                    format!(
                        "a {noun} of {label} is {n} characters; a {noun} may be at most {max} — \
                         shorten it by {}",
                        n - max
                    ),
                );
            } else {
                out.push(text.trim().to_string());
            }
        }
        out
    }

    fn limit(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        text: &str,
        label: &str,
        key: &str,
        max: usize,
        place: &str,
    ) {
        let n = text.trim().chars().count();
        if n > max {
            self.error(
                v.span().start,
                format!(
                    "`{key}` of {label} is {n} characters; it is shown as {place}, which Discord \
                     limits to {max} — shorten it by {}",
                    n - max
                ),
            );
        }
    }
}

/// Text compared for sameness: case-folded, whitespace collapsed.
pub fn normalise(s: &str) -> String {
    // One string, not one per word: a bank of 100,000 questions normalises half a million
    // quiz options at load. ASCII words (most of them) are lowercased in place.
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            out.push_str(&word.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
