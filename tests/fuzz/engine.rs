//! The fuzzing engine behind tests/fuzz.rs: a bounded loop on stable Rust, seeded inputs,
//! structure-aware mutation, and crash collection.
//!
//! No coverage feedback (libFuzzer-style guidance needs nightly's sanitizer flags): instead
//! inputs are mutated from small valid seeds with operations that keep them close to TOML,
//! so many get past the parser to the loaders' own checks instead of all dying at the first
//! stray byte.
//!
//! Knobs, all from the environment so `cargo test` stays short and `scripts/fuzz-long` can
//! run for minutes:
//! - `FUZZ_ITERS`: executions per target (default: each target's short-pass count, or no
//!   limit when `FUZZ_SECONDS` is set);
//! - `FUZZ_SECONDS`: a time budget per target (whichever limit comes first ends the target);
//! - `FUZZ_SEED`: the seed (default fixed, so a failing `cargo test` fails the same way again).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// The seed of a plain `cargo test`.
const DEFAULT_SEED: u64 = 0x5eed_f022;

/// Crash inputs kept per target (the count goes on; these are the ones written out).
const KEEP_CRASHES: usize = 20;

thread_local! {
    /// Set while a fuzz target runs on this thread: its panics are recorded, not printed.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened, and its message.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// A failing input: the first one seen at its panic location.
struct Crash {
    execution: u64,
    message: String,
    input: String,
}

/// Routes panics of fuzzed code into [`LAST_PANIC`] instead of stderr: a long run that hits
/// the same bug a million times must not print a million backtraces. Panics elsewhere (the
/// final report of a failing target, other tests) still reach the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let payload = info.payload();
                let what = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(non-string panic payload)");
                let at = info
                    .location()
                    .map_or_else(|| "(unknown location)".into(), ToString::to_string);
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((at, what.to_string())));
            } else {
                default(info);
            }
        }));
    });
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a whole number"),
    }
}

/// Runs `check` on inputs from `next` until the budget is spent, and prints one line for
/// `scripts/fuzz-long`: executions, crashes, time. Every panic of `check` (a crash, or a
/// failed property assertion) is counted and its input kept; the target fails at the end,
/// after the count, with the first distinct failures and where they were saved.
pub fn run<I: Debug>(
    target: &str,
    default_iters: u64,
    mut next: impl FnMut(&mut StdRng) -> I,
    check: impl Fn(&I),
) {
    install_hook();
    let budget = env_u64("FUZZ_SECONDS").map(Duration::from_secs);
    let iters = env_u64("FUZZ_ITERS").unwrap_or(if budget.is_some() {
        u64::MAX
    } else {
        default_iters
    });
    let seed = env_u64("FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Instant::now();
    let mut executions = 0u64;
    let mut crashes = 0u64;
    // Distinct failures by panic location: a message often holds the input, so it would
    // make every failure of one bug look new.
    let mut distinct: BTreeMap<String, Crash> = BTreeMap::new();
    while executions < iters && budget.is_none_or(|b| start.elapsed() < b) {
        let input = next(&mut rng);
        executions += 1;
        CATCHING.with(|c| c.set(true));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(&input)));
        CATCHING.with(|c| c.set(false));
        if outcome.is_err() {
            crashes += 1;
            let (at, message) = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| ("(unknown location)".into(), "(no message)".into()));
            if distinct.len() < KEEP_CRASHES {
                distinct.entry(at).or_insert_with(|| Crash {
                    execution: executions,
                    message,
                    input: format!("{input:#?}"),
                });
            }
        }
    }
    let elapsed = start.elapsed();
    println!(
        "fuzz {target}: {executions} executions, {crashes} crashes, {:.1} s (seed {seed})",
        elapsed.as_secs_f64()
    );
    if crashes > 0 {
        let dir = save_crashes(target, seed, &distinct);
        let (at, first) = distinct
            .iter()
            .min_by_key(|(_, c)| c.execution)
            .expect("a crash was recorded");
        panic!(
            "fuzz {target}: {crashes} of {executions} executions failed, at {} distinct place(s); inputs \
             in {}.\nFirst (execution {}, seed {seed}) at {at}: {}\ninput: {}",
            distinct.len(),
            dir.display(),
            first.execution,
            first.message,
            first.input
        );
    }
}

fn save_crashes(target: &str, seed: u64, distinct: &BTreeMap<String, Crash>) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-crashes")
        .join(target);
    // Only this run's inputs: files of an earlier run would be taken for this one's.
    if dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("cannot empty {}: {e}", dir.display());
        }
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
    }
    for (i, (at, c)) in distinct.iter().enumerate() {
        let file = dir.join(format!("seed{seed}-{i}.txt"));
        let text = format!(
            "execution {}, seed {seed}, at {at}\n{}\n\n{}\n",
            c.execution, c.message, c.input
        );
        if let Err(e) = std::fs::write(&file, text) {
            eprintln!("cannot write {}: {e}", file.display());
        }
    }
    dir
}

/// The seed files of a target, `tests/fuzz/corpus/<target>/*`, in name order.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    // An empty corpus would quietly turn the target into random bytes.
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy().into();
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (name, bytes)
        })
        .collect()
}

/// Bytes shown as a string when they are UTF-8, else as a byte-string literal: either way
/// something to paste into a regression test.
pub struct Bytes(pub Vec<u8>);

impl Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "{s:?}"),
            Err(_) => write!(f, "b\"{}\"", self.0.escape_ascii()),
        }
    }
}

/// Mutations that keep an input close to its seeds: byte flips, token insertions, splices
/// of other seeds, line moves, key and value swaps, and truncation, usually one or two at a
/// time (at most five).
pub struct Mutator {
    /// Material for splices: the seeds and anything else typical of the format.
    pub pieces: Vec<Vec<u8>>,
    /// Short strings of the format (punctuation, keywords, awkward characters).
    pub tokens: Vec<Vec<u8>>,
    /// For `key = value` lines: whole values and keys put in place of a line's own. A swap
    /// keeps the document parseable while changing what it says, which is what reaches the
    /// loaders' own checks; most byte-level changes stop at a syntax error. Empty: no swaps.
    pub values: Vec<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
    /// Inputs are cut to this many bytes: loaders are linear, so long inputs only slow the
    /// loop down.
    pub max_len: usize,
}

/// Bytes that are often special: controls, quote and escape characters, UTF-8 lead and
/// continuation bytes, and bytes that are never valid UTF-8.
const INTERESTING: &[u8] = &[
    0x00, 0x09, 0x0a, 0x0d, b' ', b'"', b'\'', b'\\', b'#', b'=', b'[', b']', b'{', b'}', b',',
    b'.', b':', b'-', b'+', b'0', b'9', b'e', 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xef, 0xf0,
    0xf4, 0xf8, 0xff,
];

impl Mutator {
    pub fn mutate(&self, rng: &mut StdRng, data: &mut Vec<u8>) {
        for _ in 0..5 {
            self.mutate_once(rng, data);
            // Each further mutation half as likely: small changes keep inputs near the
            // seeds, where they still get past the parser.
            if rng.random_bool(0.5) {
                break;
            }
        }
        data.truncate(self.max_len);
    }

    fn mutate_once(&self, rng: &mut StdRng, data: &mut Vec<u8>) {
        let len = data.len();
        let at = |rng: &mut StdRng| rng.random_range(0..=len);
        match rng.random_range(0..22) {
            // Flip one bit.
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] ^= 1 << rng.random_range(0..8);
            }
            // Overwrite a byte with an interesting one.
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] = *INTERESTING.choose(rng).expect("not empty");
            }
            // Insert a token.
            2 | 3 => {
                let i = at(rng);
                let token = self.tokens.choose(rng).expect("tokens");
                data.splice(i..i, token.iter().copied());
            }
            // Replace a short range with a token.
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = (i + rng.random_range(1..=8)).min(len);
                let token = self.tokens.choose(rng).expect("tokens");
                data.splice(i..j, token.iter().copied());
            }
            // Delete a range.
            5 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = (i + rng.random_range(1..=16)).min(len);
                data.drain(i..j);
            }
            // Duplicate a range somewhere else.
            6 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = (i + rng.random_range(1..=32)).min(len);
                let chunk = data[i..j].to_vec();
                let k = at(rng);
                data.splice(k..k, chunk);
            }
            // Splice in a piece of another seed.
            7 => {
                let piece = self.pieces.choose(rng).expect("pieces");
                if !piece.is_empty() {
                    let i = rng.random_range(0..piece.len());
                    let j = (i + rng.random_range(1..=64)).min(piece.len());
                    let k = at(rng);
                    data.splice(k..k, piece[i..j].iter().copied());
                }
            }
            // Truncate.
            8 => data.truncate(at(rng)),
            // Line operations: TOML is line-oriented, so whole lines moved, dropped, doubled
            // or borrowed from another seed make new documents that still mostly parse.
            9 => {
                let lines = split_lines(data);
                if !lines.is_empty() {
                    let (i, j) = lines[rng.random_range(0..lines.len())];
                    data.drain(i..j);
                }
            }
            10 => {
                let lines = split_lines(data);
                if !lines.is_empty() {
                    let (i, j) = lines[rng.random_range(0..lines.len())];
                    let line = data[i..j].to_vec();
                    let (k, _) = lines[rng.random_range(0..lines.len())];
                    data.splice(k..k, line);
                }
            }
            // Swap the value, or the key, of a `key = value` line.
            12..=18 => {
                let lines = split_lines(data);
                let assignments: Vec<(usize, usize, usize)> = lines
                    .iter()
                    .filter_map(|&(i, j)| {
                        let eq = data[i..j].iter().position(|&b| b == b'=')?;
                        Some((i, i + eq, j))
                    })
                    .collect();
                if let Some(&(i, eq, j)) = assignments.choose(rng) {
                    if rng.random_bool(0.7) {
                        if let Some(v) = self.values.choose(rng) {
                            let end = if data[j - 1] == b'\n' { j - 1 } else { j };
                            let mut new = b"= ".to_vec();
                            new.extend_from_slice(v);
                            data.splice(eq..end, new);
                        }
                    } else if let Some(k) = self.keys.choose(rng) {
                        let mut new = k.clone();
                        new.push(b' ');
                        data.splice(i..eq, new);
                    }
                }
            }
            // Arithmetic on a number in the text: off by one, or a boundary, since range
            // checks are where a number goes wrong.
            19 | 20 => {
                let runs = digit_runs(data);
                if let Some(&(i, j)) = runs.choose(rng) {
                    let n: i128 = std::str::from_utf8(&data[i..j])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let new = match rng.random_range(0..3) {
                        0 => n + 1,
                        1 => n - 1,
                        _ => *[
                            0,
                            1,
                            23,
                            24,
                            60,
                            61,
                            120,
                            121,
                            500,
                            501,
                            1 << 32,
                            i128::from(i64::MAX),
                            i128::from(i64::MAX) + 1,
                            i128::from(u64::MAX) + 1,
                        ]
                        .choose(rng)
                        .expect("numbers"),
                    };
                    data.splice(i..j, new.to_string().into_bytes());
                }
            }
            _ => {
                let piece = self.pieces.choose(rng).expect("pieces");
                let theirs = split_lines(piece);
                if let Some(&(i, j)) = theirs.choose(rng) {
                    let ours = split_lines(data);
                    let k = ours.choose(rng).map_or(0, |&(k, _)| k);
                    data.splice(k..k, piece[i..j].iter().copied());
                }
            }
        }
    }
}

/// `(start, end)` of each run of ASCII digits (up to 38 digits, which an i128 holds; longer runs are not numbers
/// worth adjusting).
fn digit_runs(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if data[i].is_ascii_digit() {
            let start = i;
            while i < data.len() && data[i].is_ascii_digit() {
                i += 1;
            }
            if i - start <= 38 {
                out.push((start, i));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// `(start, end)` of each line, its `\n` included.
fn split_lines(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < data.len() {
        out.push((start, data.len()));
    }
    out
}

/// The line and column (1-based, columns in characters) a diagnostic may name in `text`: a
/// line that exists, and a column on it or just past its end.
pub fn assert_inside(text: &str, line: usize, col: usize, what: &dyn std::fmt::Display) {
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        (1..=lines.len()).contains(&line),
        "line {line} outside the input's {} lines: {what}",
        lines.len()
    );
    let chars = lines[line - 1].chars().count();
    assert!(
        (1..=chars + 1).contains(&col),
        "column {col} outside line {line} of {chars} characters: {what}"
    );
}
