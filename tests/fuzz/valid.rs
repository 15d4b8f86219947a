//! Generators of valid inputs for tests/fuzz.rs: random bank files and config files that
//! must load, written with the variety TOML allows (basic, literal and multi-line strings,
//! escapes, key order and quoting, comments, inline tables, dotted keys, integer bases),
//! together with what loading them must give. They test "a valid input loads" far beyond
//! the seeds, and they are material for the mutator.

use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;

use prepbot::bank::load::{
    normalise, FOLLOW_UPS, KEY_POINTS, MAX_FOLLOW_UP_CHARS, MAX_KEY_POINT_CHARS,
    MAX_QUIZ_OPTION_CHARS, MIN_DISTRACTORS_WITH_QUIZ_ANSWER,
};
use prepbot::bank::{Difficulty, Question};
use prepbot::config::{Config, RevealMode, Secret};
use prepbot::text::limits;

/// Pieces of free text: prose, TOML punctuation, quotes and escapes, whitespace of every
/// kind `trim` knows, combining marks, emoji, right-to-left script and control characters.
#[rustfmt::skip]
const TEXT: &[&str] = &[
    "a", "b", "z", "Q", "SQL", "What is", "an index?", " ", "  ", "\t", "\n", "\r\n", "\"", "'",
    "''", "'''", "\"\"\"", "\\", "\\n", "#", "=", "[", "]", "[[question]]", "{", "}", ",", ".",
    ":", "é", "ß", "💡", "👍🏽", "🇩🇪", "日本語", "مرحبا", "e\u{301}", "\u{200d}", "\u{a0}", "\u{85}",
    "\u{2028}", "\u{3000}", "\u{7f}", "\u{1}", "\u{1b}", "\u{fffd}", "\u{feff}", "\u{10ffff}",
    "<@&123>", "@everyone", "`code`", "**bold**", "1e9", "-0",
];

/// Free text with at least one non-whitespace character, of up to `max_pieces` pieces.
pub fn text(rng: &mut StdRng, max_pieces: usize) -> String {
    let mut s: String = (0..rng.random_range(1..=max_pieces))
        .map(|_| *TEXT.choose(rng).expect("TEXT"))
        .collect();
    if s.trim().is_empty() {
        s.push('x');
    }
    s
}

/// Short free text, now and then exactly `max` characters (without surrounding whitespace),
/// the longest a limit allows.
fn at_most(rng: &mut StdRng, max: usize) -> String {
    if rng.random_bool(0.02) {
        format!(" {} ", "m".repeat(max))
    } else {
        text(rng, 4)
    }
}

/// Lowercase kebab-case: one to three words of `a-z0-9`.
pub fn kebab(rng: &mut StdRng) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let words: Vec<String> = (0..rng.random_range(1..=3))
        .map(|_| {
            (0..rng.random_range(1..=6))
                .map(|_| *ALNUM.choose(rng).expect("ALNUM") as char)
                .collect()
        })
        .collect();
    words.join("-")
}

/// `s` as a TOML string of a random kind that can hold it. `multiline` allows multi-line
/// strings (not inside inline tables, which TOML 1.0 keeps on one line).
pub fn toml_string(rng: &mut StdRng, s: &str, multiline: bool) -> String {
    // Literal strings have no escapes: no `'`, and no control character but tab (and, in
    // the multi-line kind, newline).
    let literal = |newline: bool| {
        !s.contains('\'')
            && !s
                .chars()
                .any(|c| c.is_control() && c != '\t' && (c != '\n' || !newline))
    };
    match rng.random_range(0..4) {
        0 if literal(false) => format!("'{s}'"),
        1 if multiline => {
            // The newline right after the opening quotes is dropped by TOML, so the text's
            // own first newline survives. Other newlines stay raw; `\r` is escaped because a
            // parser may normalise a raw CRLF.
            format!("\"\"\"\n{}\"\"\"", escape(rng, s, true))
        }
        2 if multiline && literal(true) => format!("'''\n{s}'''"),
        _ => format!("\"{}\"", escape(rng, s, false)),
    }
}

fn escape(rng: &mut StdRng, s: &str, raw_newlines: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if raw_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if rng.random_bool(0.5) => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            // Any character may be written as an escape.
            c if rng.random_bool(0.05) => out.push_str(&format!("\\U{:08X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A key as written: bare, or quoted either way.
fn key(rng: &mut StdRng, k: &str) -> String {
    match rng.random_range(0..10) {
        0 => format!("\"{k}\""),
        1 => format!("'{k}'"),
        _ => k.to_string(),
    }
}

fn ws(rng: &mut StdRng) -> &'static str {
    ["", " ", " ", "  ", "\t"].choose(rng).expect("ws")
}

/// Nothing, or a comment to the end of the line (which may hold anything but a newline).
fn comment(rng: &mut StdRng) -> String {
    if rng.random_bool(0.15) {
        let c = text(rng, 4).replace(['\n', '\r'], " ");
        // Control characters other than tab are not allowed in comments.
        let c: String = c
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        format!(" #{c}")
    } else {
        String::new()
    }
}

/// An integer in one of TOML's notations: decimal (signed, with underscores), hex, octal
/// or binary.
fn toml_int(rng: &mut StdRng, n: u64) -> String {
    match rng.random_range(0..8) {
        0 => format!("{n:#x}"),
        1 => format!("0x{n:X}"),
        2 => format!("0o{n:o}"),
        3 => format!("0b{n:b}"),
        4 => format!("+{n}"),
        5 => {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, d) in digits.chars().enumerate() {
                if i > 0 && rng.random_bool(0.3) {
                    out.push('_');
                }
                out.push(d);
            }
            out
        }
        _ => n.to_string(),
    }
}

/// An array of already written values, on one line or (when allowed) several.
fn array(rng: &mut StdRng, items: &[String], multiline: bool) -> String {
    let sep = if multiline && rng.random_bool(0.3) {
        ",\n    "
    } else {
        [",", ", "].choose(rng).expect("sep")
    };
    let trailing = if !items.is_empty() && rng.random_bool(0.3) {
        ","
    } else {
        ""
    };
    format!("[{}{trailing}]", items.join(sep))
}

/// Bank files that must load, and the questions they hold, in order.
#[derive(Debug)]
pub struct BankCase {
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub expected: Vec<Question>,
}

pub fn bank(rng: &mut StdRng) -> BankCase {
    let mut serial = 0;
    let mut files = Vec::new();
    let mut expected = Vec::new();
    let n_files = if rng.random_bool(0.2) { 2 } else { 1 };
    for f in 0..n_files {
        let inline = rng.random_bool(0.2);
        let mut out = String::new();
        if rng.random_bool(0.3) {
            out.push_str("# questions\n\n");
        }
        if inline {
            out.push_str("question = [\n");
        }
        for _ in 0..rng.random_range(1..=4) {
            serial += 1;
            let (fields, q) = question(rng, serial, !inline);
            if inline {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}{}={}{v}", ws(rng), ws(rng)))
                    .collect();
                out.push_str(&format!("  {{ {} }},\n", body.join(", ")));
            } else {
                out.push_str(&format!("[[question]]{}\n", comment(rng)));
                for (k, v) in fields {
                    out.push_str(&format!("{k}{}={}{v}{}\n", ws(rng), ws(rng), comment(rng)));
                    if rng.random_bool(0.1) {
                        out.push('\n');
                    }
                }
            }
            expected.push(q);
        }
        if inline {
            out.push_str("]\n");
        }
        let mut bytes = Vec::new();
        if rng.random_bool(0.1) {
            // Some editors save a byte-order mark; the loader strips it.
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        bytes.extend_from_slice(out.as_bytes());
        files.push((PathBuf::from(format!("bank-{f}.toml")), bytes));
    }
    BankCase { files, expected }
}

/// One question's `(key, value)` lines in a random order, and the question they load as.
fn question(rng: &mut StdRng, serial: usize, multiline: bool) -> (Vec<(String, String)>, Question) {
    // The serial keeps ids unique across files.
    let id = format!("{}-{serial}", kebab(rng));
    let category = kebab(rng);
    // Now and then exactly at the limit, which must still load.
    let question = if rng.random_bool(0.02) {
        "q".repeat(limits::EMBED_DESCRIPTION)
    } else {
        text(rng, 12)
    };
    let answer = text(rng, 12);
    let mut tags: Vec<String> = (0..rng.random_range(0..=3)).map(|_| kebab(rng)).collect();
    tags.sort();
    tags.dedup();
    tags.shuffle(rng);
    let difficulty = [
        None,
        Some(Difficulty::Easy),
        Some(Difficulty::Medium),
        Some(Difficulty::Hard),
    ]
    .choose(rng)
    .copied()
    .flatten();
    // Key points and follow-ups: absent, or within their count and length limits.
    let short_texts = |rng: &mut StdRng, count, max: usize| -> Vec<String> {
        if rng.random_bool(0.5) {
            return Vec::new();
        }
        (0..rng.random_range(count))
            .map(|_| at_most(rng, max))
            .collect()
    };
    let key_points = short_texts(rng, KEY_POINTS, MAX_KEY_POINT_CHARS);
    let follow_ups = short_texts(rng, FOLLOW_UPS, MAX_FOLLOW_UP_CHARS);
    // A quiz answer is one line, and needs enough distractors as short as itself.
    let quiz_answer = rng
        .random_bool(0.3)
        .then(|| at_most(rng, MAX_QUIZ_OPTION_CHARS));
    let (wanted, longest) = match quiz_answer {
        Some(_) => (
            rng.random_range(MIN_DISTRACTORS_WITH_QUIZ_ANSWER..=5),
            MAX_QUIZ_OPTION_CHARS,
        ),
        None => (rng.random_range(0..=3), limits::EMBED_FIELD_VALUE),
    };
    let mut distractors: Vec<String> = Vec::new();
    for _ in 0..100 {
        if distractors.len() == wanted {
            break;
        }
        let d = at_most(rng, longest);
        // A distractor equal to the answer, the quiz answer or another distractor is an
        // error by design.
        let norm = normalise(&d);
        let taken = norm == normalise(&answer)
            || quiz_answer.as_deref().map(normalise) == Some(norm.clone())
            || distractors.iter().any(|x| normalise(x) == norm);
        if !taken {
            distractors.push(d);
        }
    }
    let explanation = rng.random_bool(0.3).then(|| text(rng, 6));

    // id and category are trimmed before the kebab-case check, so padding is allowed.
    let pad = |rng: &mut StdRng, s: &str| {
        if rng.random_bool(0.1) {
            format!(" {s}\t")
        } else {
            s.to_string()
        }
    };
    let mut fields = Vec::new();
    let id_written = pad(rng, &id);
    fields.push((key(rng, "id"), toml_string(rng, &id_written, multiline)));
    let category_written = pad(rng, &category);
    fields.push((
        key(rng, "category"),
        toml_string(rng, &category_written, multiline),
    ));
    fields.push((key(rng, "question"), toml_string(rng, &question, multiline)));
    fields.push((key(rng, "answer"), toml_string(rng, &answer, multiline)));
    if !tags.is_empty() || rng.random_bool(0.2) {
        let items: Vec<String> = tags
            .iter()
            .map(|t| toml_string(rng, t, multiline))
            .collect();
        fields.push((key(rng, "tags"), array(rng, &items, multiline)));
    }
    if let Some(d) = difficulty {
        // Difficulty is matched without regard to case or surrounding space.
        let written = match rng.random_range(0..4) {
            0 => d.as_str().to_uppercase(),
            1 => format!(" {d} "),
            _ => d.as_str().to_string(),
        };
        fields.push((
            key(rng, "difficulty"),
            toml_string(rng, &written, multiline),
        ));
    }
    if !distractors.is_empty() || rng.random_bool(0.2) {
        let items: Vec<String> = distractors
            .iter()
            .map(|d| toml_string(rng, d, multiline))
            .collect();
        fields.push((key(rng, "distractors"), array(rng, &items, multiline)));
    }
    if let Some(e) = &explanation {
        fields.push((key(rng, "explanation"), toml_string(rng, e, multiline)));
    }
    for (k, list) in [("key_points", &key_points), ("follow_ups", &follow_ups)] {
        if !list.is_empty() {
            let items: Vec<String> = list
                .iter()
                .map(|t| toml_string(rng, t, multiline))
                .collect();
            fields.push((key(rng, k), array(rng, &items, multiline)));
        }
    }
    if let Some(qa) = &quiz_answer {
        fields.push((key(rng, "quiz_answer"), toml_string(rng, qa, multiline)));
    }
    fields.shuffle(rng);

    let q = Question {
        id,
        category,
        question: question.trim().to_string(),
        answer: answer.trim().to_string(),
        tags,
        difficulty,
        distractors: distractors.iter().map(|d| d.trim().to_string()).collect(),
        explanation: explanation.map(|e| e.trim().to_string()),
        key_points: key_points.iter().map(|t| t.trim().to_string()).collect(),
        follow_ups: follow_ups.iter().map(|t| t.trim().to_string()).collect(),
        quiz_answer: quiz_answer.map(|t| t.trim().to_string()),
    };
    (fields, q)
}

/// A config file that must load, and the config it holds.
#[derive(Debug)]
pub struct ConfigCase {
    pub text: String,
    pub expected: Config,
}

/// Emoji the config must accept: plain, with a variation selector, skin tone, flag, ZWJ
/// sequence, keycap, and custom ones.
#[rustfmt::skip]
const EMOJI: &[&str] = &[
    "💡", "💡\u{FE0F}", "🔍", "👍🏽", "🇩🇪", "❤️", "👩‍💻", "1️⃣", "<:idea:123456789>", "<a:spin:42>",
];

pub fn config(rng: &mut StdRng) -> ConfigCase {
    let mut c = Config::default();
    let mut sections: Vec<(&str, Vec<(String, String)>)> = Vec::new();
    let some = |rng: &mut StdRng| rng.random_bool(0.6);

    let mut discord = Vec::new();
    if some(rng) {
        const TOKEN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
        let t: String = (0..rng.random_range(1..=72))
            .map(|_| *TOKEN.choose(rng).expect("TOKEN") as char)
            .collect();
        discord.push(("token", toml_string(rng, &t, false)));
        c.discord.token = Some(Secret::new(t));
    }
    if some(rng) {
        const HOST: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.:/-_";
        let host: String = (0..rng.random_range(2..=30))
            .map(|_| *HOST.choose(rng).expect("HOST") as char)
            .collect();
        let base = format!(
            "{}{host}",
            ["http://", "https://"].choose(rng).expect("scheme")
        );
        discord.push(("api_base", toml_string(rng, &base, false)));
        c.discord.api_base = Some(base);
    }
    if some(rng) {
        // TOML integers are i64: a guild id above i64::MAX cannot be written.
        let g = rng.random_range(1..=i64::MAX as u64);
        discord.push(("guild_id", toml_int(rng, g)));
        c.discord.guild_id = Some(g);
    }
    if some(rng) {
        if rng.random_bool(0.3) {
            discord.push(("shards", toml_string(rng, "auto", false)));
        } else {
            let total = rng.random_range(1..=64u32);
            let first = rng.random_range(0..total);
            let last = rng.random_range(first..total);
            let range = if first == last && rng.random_bool(0.5) {
                first.to_string()
            } else {
                format!("{first}-{last}")
            };
            let table = format!(
                "{{ total = {}, range = {} }}",
                toml_int(rng, u64::from(total)),
                toml_string(rng, &range, false)
            );
            discord.push(("shards", table));
            c.discord.shards = prepbot::config::ShardsConfig::Range { total, first, last };
        }
    }
    sections.push(("discord", with_keys(rng, discord)));

    let mut bank = Vec::new();
    if some(rng) {
        let paths: Vec<String> = (0..rng.random_range(1..=3)).map(|_| text(rng, 3)).collect();
        let items: Vec<String> = paths.iter().map(|p| toml_string(rng, p, false)).collect();
        bank.push(("paths", array(rng, &items, false)));
        c.bank.paths = paths.into_iter().map(PathBuf::from).collect();
    }
    sections.push(("bank", with_keys(rng, bank)));

    let mut storage = Vec::new();
    if some(rng) {
        let p = text(rng, 3);
        storage.push(("path", toml_string(rng, &p, false)));
        c.storage.path = PathBuf::from(p);
    }
    sections.push(("storage", with_keys(rng, storage)));

    let mut reveal = Vec::new();
    if some(rng) {
        let e = if rng.random_bool(0.2) {
            const NAME: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
            let name: String = (0..rng.random_range(2..=32))
                .map(|_| *NAME.choose(rng).expect("NAME") as char)
                .collect();
            let animated = if rng.random_bool(0.5) { "a" } else { "" };
            format!("<{animated}:{name}:{}>", rng.random_range(1..=u64::MAX))
        } else {
            EMOJI.choose(rng).expect("EMOJI").to_string()
        };
        reveal.push(("emoji", toml_string(rng, &e, false)));
        c.reveal.emoji = e;
    }
    if some(rng) {
        let (m, mode) = [
            ("reply", RevealMode::Reply),
            ("edit", RevealMode::Edit),
            ("dm", RevealMode::Dm),
        ]
        .choose(rng)
        .copied()
        .expect("modes");
        reveal.push(("mode", toml_string(rng, m, false)));
        c.reveal.mode = mode;
    }
    sections.push(("reveal", with_keys(rng, reveal)));

    let mut daily = Vec::new();
    if some(rng) {
        let h = rng.random_range(0..=23);
        daily.push(("max_late_hours", toml_int(rng, u64::from(h))));
        c.daily.max_late_hours = h;
    }
    sections.push(("daily", with_keys(rng, daily)));

    let mut quiz = Vec::new();
    if some(rng) {
        let s = rng.random_range(1..=prepbot::quiz::SECONDS_MAX);
        quiz.push(("min_seconds", toml_int(rng, u64::from(s))));
        c.quiz.min_seconds = s;
    }
    if some(rng) {
        let s = rng.random_range(0..=60);
        quiz.push(("intermission_seconds", toml_int(rng, u64::from(s))));
        c.quiz.intermission_seconds = s;
    }
    sections.push(("quiz", with_keys(rng, quiz)));

    let mut practice = Vec::new();
    if some(rng) {
        let n = rng.random_range(0..=prepbot::config::NEW_PER_DAY_MAX);
        practice.push(("new_per_day", toml_int(rng, u64::from(n))));
        c.practice.new_per_day = n;
    }
    sections.push(("practice", with_keys(rng, practice)));

    sections.shuffle(rng);
    // A section is written as a `[table]`, as dotted keys, or as an inline table; TOML wants
    // the latter two before the first `[table]` header.
    let mut top = String::new();
    let mut tables = String::new();
    for (name, keys) in sections {
        if keys.is_empty() && rng.random_bool(0.5) {
            continue;
        }
        match rng.random_range(0..5) {
            0 => {
                for (k, v) in &keys {
                    top.push_str(&format!(
                        "{name}.{k}{}={}{v}{}\n",
                        ws(rng),
                        ws(rng),
                        comment(rng)
                    ));
                }
            }
            1 => {
                let body: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                top.push_str(&format!(
                    "{name} = {{ {} }}{}\n",
                    body.join(", "),
                    comment(rng)
                ));
            }
            _ => {
                tables.push_str(&format!("\n[{}]{}\n", key(rng, name), comment(rng)));
                for (k, v) in &keys {
                    tables.push_str(&format!("{k}{}={}{v}{}\n", ws(rng), ws(rng), comment(rng)));
                }
            }
        }
    }
    let mut text = String::new();
    if rng.random_bool(0.3) {
        text.push_str("# prepbot\n");
    }
    text.push_str(&top);
    text.push_str(&tables);
    if rng.random_bool(0.05) {
        text.insert(0, '\u{FEFF}');
    }
    ConfigCase { text, expected: c }
}

/// The keys of a section, in a random order and possibly quoted.
fn with_keys(rng: &mut StdRng, mut keys: Vec<(&str, String)>) -> Vec<(String, String)> {
    keys.shuffle(rng);
    keys.into_iter().map(|(k, v)| (key(rng, k), v)).collect()
}
