//! Lints: what `prepbot check` warns about in a bank that loads. None of it stops the bot —
//! it makes practice worse: the same question twice in other words, quiz options that give
//! the right one away, and questions without key points or quiz options.
//!
//! Pure: located questions in, `path:line:col` warnings out. `prepbot check --strict` turns the
//! warnings into errors, for a bank repository's CI.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use super::load::{normalise, Diagnostic, Located};

/// Two questions whose comparable texts (see [`comparable`]) have a Sørensen–Dice similarity of
/// character bigrams at or above this are near-duplicates. Chosen on the shipped bank (about
/// 250 questions): its most similar distinct pair scores 0.67 ("Explain your experience with
/// Node.js." / "What is your experience with AWS?"), while light rephrasings score higher:
/// "Explain the CAP theorem." / "What does the CAP theorem say?" 0.76, another verb and the
/// terms swapped ("Explain the difference between SQL and NoSQL databases…" / "Describe the
/// difference between NoSQL and SQL databases…") 0.89, a British spelling 0.92, a plural 0.97.
pub const NEAR_DUPLICATE: f64 = 0.75;

/// The correct option is a length tell when it is longer than this many times the mean
/// distractor length (in characters): test-wise candidates pick the longest option.
pub const LENGTH_TELL: f64 = 1.3;

/// Questions are compared only with questions that share one of their rarest words (a
/// light rephrasing keeps the subject: `nosql`, `idempotent`, `theorem`), and a word shared by
/// more than this many questions is too common to say anything: its group is not compared.
/// This keeps the check near-linear: a bank of 100 000 questions is compared in seconds
/// rather than in 5·10⁹ pairs.
pub const MAX_GROUP: usize = 48;

/// How many of its rarest words put a question into comparison groups.
const KEYS_PER_QUESTION: usize = 3;

/// What the lints found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every warning, in bank order (files in load order, then line and column).
    pub warnings: Vec<Diagnostic>,
    /// Questions whose every word shared with another question is shared by more than
    /// [`MAX_GROUP`] questions, so that they were not compared for near-duplicates at all.
    pub not_compared: usize,
    /// How many pairs of questions were scored for similarity: the work the near-duplicate
    /// lint did, which grows with the bank's size, not with its square.
    pub pairs_scored: usize,
}

/// Shows a lint's diagnostic as `path:line:col: warning: message`.
pub struct AsWarning<'a>(pub &'a Diagnostic);

impl fmt::Display for AsWarning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{}:{}:{}: warning: {}",
            d.path.display(),
            d.line,
            d.col,
            d.message
        )
    }
}

/// Runs every lint over a loaded bank.
pub fn lint(questions: &[Located]) -> Report {
    let mut warnings = Vec::new();
    for l in questions {
        per_question(l, &mut warnings);
    }
    let (not_compared, pairs_scored) = near_duplicates(questions, &mut warnings);

    let mut file_order: HashMap<&PathBuf, usize> = HashMap::new();
    for l in questions {
        let n = file_order.len();
        file_order.entry(&l.path).or_insert(n);
    }
    warnings.sort_by_key(|d| {
        (
            file_order.get(&d.path).copied().unwrap_or(usize::MAX),
            d.line,
            d.col,
        )
    });
    Report {
        warnings,
        not_compared,
        pairs_scored,
    }
}

fn warn(out: &mut Vec<Diagnostic>, l: &Located, at: (usize, usize), message: String) {
    out.push(Diagnostic {
        path: l.path.clone(),
        line: at.0,
        col: at.1,
        message,
    });
}

/// The lints that look at one question alone.
fn per_question(l: &Located, out: &mut Vec<Diagnostic>) {
    let q = &l.question;
    let id_at = (l.line, l.col);
    if q.key_points.is_empty() {
        warn(
            out,
            l,
            id_at,
            format!(
                "question `{}` has no `key_points`; add 3–6 short claims an interviewer would \
                 tick off while listening",
                q.id
            ),
        );
    }
    if q.quiz_answer.is_none() {
        warn(
            out,
            l,
            id_at,
            format!(
                "question `{}` has no quiz options; add a one-line `quiz_answer` and 3 \
                 `distractors`, or a quiz shows its paragraph answer among other questions' \
                 answers",
                q.id
            ),
        );
    }

    // The option a quiz shows as correct.
    let (correct, which) = match &q.quiz_answer {
        Some(qa) => (qa.as_str(), "`quiz_answer`"),
        None => (q.answer.as_str(), "answer"),
    };
    let correct_norm = normalise(correct);
    for (i, d) in q.distractors.iter().enumerate() {
        let d_norm = normalise(d);
        if !correct_norm.is_empty() && d_norm.contains(&correct_norm) {
            let at = l.at.distractors.get(i).copied().unwrap_or(id_at);
            let how = if d_norm == correct_norm {
                "is"
            } else {
                "contains"
            };
            warn(
                out,
                l,
                at,
                format!(
                    "distractor {} of question `{}` {how} its {which}: a wrong option must not \
                     hold the right one",
                    i + 1,
                    q.id
                ),
            );
        }
    }

    if let (Some(qa), false) = (&q.quiz_answer, q.distractors.is_empty()) {
        let len = qa.chars().count();
        let mean = q
            .distractors
            .iter()
            .map(|d| d.chars().count())
            .sum::<usize>() as f64
            / q.distractors.len() as f64;
        if len as f64 > LENGTH_TELL * mean {
            warn(
                out,
                l,
                l.at.quiz_answer.unwrap_or(id_at),
                format!(
                    "the `quiz_answer` of question `{}` is {len} characters, {:.1}× the mean \
                     distractor ({mean:.0}): the longest option gives itself away — shorten it \
                     or lengthen the distractors (at most {LENGTH_TELL}×)",
                    q.id,
                    len as f64 / mean
                ),
            );
        }
    }
}

/// Words that say what kind of question it is rather than what it is about; left out so that
/// "Explain X" and "Describe X" compare as equal, and two "What is the difference between …"
/// questions do not look alike for their template.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "between",
    "but",
    "by",
    "can",
    "d",
    "describe",
    "did",
    "difference",
    "do",
    "does",
    "explain",
    "for",
    "from",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "ll",
    "m",
    "of",
    "on",
    "or",
    "re",
    "s",
    "should",
    "t",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "ve",
    "vs",
    "was",
    "we",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
];

/// The words of a question that say what it is about: lower-cased, split at anything that is
/// not a letter or digit, without [`STOP_WORDS`], sorted and without repeats — so that a
/// rephrasing that only reorders ("SQL and NoSQL" / "NoSQL and SQL") changes nothing.
fn content_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The text two questions are compared by: their content words, space-separated.
pub fn comparable(question: &str) -> String {
    content_words(question).join(" ")
}

/// How alike two questions are, from 0 (nothing shared) to 1 (the same content words).
pub fn similarity(a: &str, b: &str) -> f64 {
    strsim::sorensen_dice(&comparable(a), &comparable(b))
}

/// Warns about each pair of near-duplicate questions, at the later one. Returns how many
/// questions could not be compared (see [`MAX_GROUP`]) and how many pairs were scored.
fn near_duplicates(questions: &[Located], out: &mut Vec<Diagnostic>) -> (usize, usize) {
    let words: Vec<Vec<String>> = questions
        .iter()
        .map(|l| content_words(&l.question.question))
        .collect();
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for w in words.iter().flatten() {
        *frequency.entry(w).or_insert(0) += 1;
    }
    // Each question joins the groups of its rarest words that another question has too (a
    // word of its own cannot pair it with anything); groups too big to say anything are
    // dropped.
    let mut keys: Vec<Vec<&str>> = Vec::with_capacity(words.len());
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, ws) in words.iter().enumerate() {
        let mut rare: Vec<&str> = ws
            .iter()
            .map(String::as_str)
            .filter(|w| frequency[w] > 1)
            .collect();
        rare.sort_by_key(|w| (frequency[w], *w));
        rare.truncate(KEYS_PER_QUESTION);
        for w in &rare {
            groups.entry(w).or_default().push(i);
        }
        keys.push(rare);
    }
    groups.retain(|_, members| members.len() <= MAX_GROUP);
    let mut not_compared = 0;
    for k in &mut keys {
        let had = !k.is_empty();
        k.retain(|w| groups.contains_key(w));
        if had && k.is_empty() {
            not_compared += 1;
        }
    }

    let texts: Vec<String> = words.iter().map(|w| w.join(" ")).collect();
    let mut pairs_scored = 0;
    let mut order: Vec<&str> = groups.keys().copied().collect();
    order.sort_unstable(); // deterministic, whatever the hasher
    for key in order {
        let members = &groups[key];
        for (n, &i) in members.iter().enumerate() {
            for &j in &members[n + 1..] {
                // A pair in several groups is compared in the first of them only.
                let first_shared = keys[i].iter().filter(|k| keys[j].contains(k)).min();
                if first_shared != Some(&key) || !could_reach(&texts[i], &texts[j]) {
                    continue;
                }
                pairs_scored += 1;
                let s = strsim::sorensen_dice(&texts[i], &texts[j]);
                if s >= NEAR_DUPLICATE {
                    let (first, later) = (&questions[i], &questions[j]);
                    warn(
                        out,
                        later,
                        (later.line, later.col),
                        format!(
                            "question `{}` is a near-duplicate of `{}` ({}:{}:{}; similarity \
                             {s:.2}): practise each idea once — merge them or ask from another \
                             angle",
                            later.question.id,
                            first.question.id,
                            first.path.display(),
                            first.line,
                            first.col
                        ),
                    );
                }
            }
        }
    }
    (not_compared, pairs_scored)
}

/// Whether two comparable texts can reach [`NEAR_DUPLICATE`] at all: the Dice coefficient of
/// `x` and `y` bigrams is at most `2·min(x, y) / (x + y)`, so very different lengths cannot.
/// Checked first because it costs nothing and the similarity allocates.
fn could_reach(a: &str, b: &str) -> bool {
    let bigrams = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count().max(1) - 1;
    let (x, y) = (bigrams(a), bigrams(b));
    x + y == 0 || (2 * x.min(y)) as f64 / (x + y) as f64 >= NEAR_DUPLICATE
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
