//! The shipped bank, as the default `bank.paths` load it: the 35 seed questions of
//! questions.toml (their texts as transcribed from the article) plus one file per topic in
//! questions/, ready for daily practice and quizzes.
//!
//! `PREPBOT_BANK_ROOT=/some/checkout cargo test --test shipped_bank` runs these checks on the
//! bank files of another directory, e.g. content that has not been committed yet.

use std::path::{Component, Path, PathBuf};

use prepbot::bank::Bank;
use prepbot::config::Config;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn root() -> PathBuf {
    std::env::var_os("PREPBOT_BANK_ROOT").map_or_else(repo, PathBuf::from)
}

/// The default `bank.paths`, relative to the checkout as they are to a working directory.
fn default_paths() -> Vec<PathBuf> {
    Config::default()
        .bank
        .paths
        .iter()
        .map(|p| root().join(p))
        .collect()
}

fn shipped() -> Bank {
    Bank::load(&default_paths()).unwrap_or_else(|e| panic!("{e}"))
}

/// The seed questions: id, the tag naming the article's section, and an FNV-1a hash of
/// `question + "\n" + answer` as loaded (trimmed), taken from questions.toml before the
/// bank grew. The texts are the article's and must not drift.
const SEEDS: [(&str, &str, u64); 35] = [
    ("sql-vs-nosql", "seed-technical", 0x82b15fb1df06d7e6),
    (
        "restful-api-best-practices",
        "seed-technical",
        0x8fcfc3dd1bf2f838,
    ),
    ("caching-strategies", "seed-technical", 0x1e0ac80deab179cb),
    (
        "backend-security-vulnerabilities",
        "seed-technical",
        0x12968243bc4426d7,
    ),
    (
        "microservices-pros-and-cons",
        "seed-technical",
        0xda92a59c2004f50e,
    ),
    ("authn-vs-authz", "seed-technical", 0x4887ba702ba405c7),
    ("message-queues", "seed-technical", 0x7f978981b0daa40c),
    (
        "backend-design-patterns",
        "seed-technical",
        0x091cd899617ce82f,
    ),
    ("debugging-approach", "seed-technical", 0x16da1c977e865e07),
    ("database-indexing", "seed-technical", 0x3a3553bc791b68a3),
    ("docker-usage", "seed-technical", 0xc8d7c2db10f5853f),
    ("optimize-slow-query", "seed-technical", 0xa7b8648d1d4ad862),
    ("acid-properties", "seed-technical", 0x26ef28a2f0c1aafa),
    ("orm-pros-and-cons", "seed-technical", 0x8a92f6cd293be43d),
    ("staying-up-to-date", "seed-technical", 0xe454f7290bd0f670),
    (
        "cloud-platforms-experience",
        "seed-technical",
        0x3d7a07d03bcecb91,
    ),
    ("ci-cd-explained", "seed-technical", 0xf6637099d400c196),
    ("error-handling", "seed-technical", 0x0669df102e6388c3),
    ("scaling-strategies", "seed-technical", 0x8756d8b4ac1474c2),
    (
        "challenging-backend-project",
        "seed-technical",
        0xfea3a9309cf7700b,
    ),
    (
        "backend-role-understanding",
        "seed-role",
        0x108b209111a84a7c,
    ),
    (
        "prioritize-and-manage-time",
        "seed-role",
        0x3572c99bb1868efd,
    ),
    ("working-under-pressure", "seed-role", 0x39a2eb326f713a49),
    ("programming-languages", "seed-skills", 0xca34a67e8d16c305),
    ("familiar-databases", "seed-skills", 0xc48d70fb54f33575),
    (
        "learning-new-technologies",
        "seed-skills",
        0xba8ba1db8141580c,
    ),
    ("nodejs-experience", "seed-toolkit", 0x1b9a3c8db6358bcf),
    ("spring-boot-experience", "seed-toolkit", 0x6e09f4d2468e4ff8),
    ("aws-experience", "seed-toolkit", 0xe506bd8dab67fa5f),
    (
        "difficult-team-member",
        "seed-behavioral",
        0x6fda977e79b16c0c,
    ),
    ("handling-a-mistake", "seed-behavioral", 0xf1aea906ed6f680e),
    (
        "constructive-criticism",
        "seed-behavioral",
        0x7df3d355f8907ea6,
    ),
    (
        "ask-biggest-team-challenges",
        "seed-ask-the-interviewer",
        0x7de0c6b9d3a7ec3b,
    ),
    (
        "ask-growth-opportunities",
        "seed-ask-the-interviewer",
        0x1468a8b2974c12b0,
    ),
    (
        "ask-culture-and-team-dynamics",
        "seed-ask-the-interviewer",
        0xc486e5e268b0a846,
    ),
];

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn default_paths_hold_at_least_240_questions_in_12_topics() {
    let bank = shipped();
    assert!(bank.len() >= 240, "{} questions", bank.len());
    let counts = bank.count_by_category();
    let full = counts.iter().filter(|(_, n)| *n >= 8).count();
    assert!(
        full >= 12,
        "{full} topics with at least 8 questions: {counts:?}"
    );
}

#[test]
fn seed_questions_keep_their_ids_and_texts() {
    let bank = shipped();
    let mut problems = Vec::new();
    for (id, _, hash) in SEEDS {
        match bank.get(id) {
            None => problems.push(format!("seed question `{id}` is missing")),
            Some(q) if fnv1a(&format!("{}\n{}", q.question, q.answer)) != hash => {
                problems.push(format!("the question or answer text of `{id}` changed"))
            }
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The article's adverts are not content.
    for q in bank.questions() {
        for text in [&q.question, &q.answer] {
            assert!(
                !text.contains("Download") && !text.contains("Huafit"),
                "{}",
                q.id
            );
        }
    }
}

#[test]
fn seed_questions_carry_their_section_tag() {
    let bank = shipped();
    let untagged: Vec<String> = SEEDS
        .iter()
        .filter_map(|(id, tag, _)| {
            let q = bank.get(id)?;
            (!q.has_tag(tag)).then(|| format!("`{id}` lacks the tag `{tag}`: {:?}", q.tags))
        })
        .collect();
    assert!(untagged.is_empty(), "{}", untagged.join("\n"));
}

#[test]
fn strict_lints_pass() {
    let (_, report) = Bank::check(&default_paths()).unwrap_or_else(|e| panic!("{e}"));
    let warnings: Vec<String> = report
        .warnings
        .iter()
        .map(|w| prepbot::bank::lint::AsWarning(w).to_string())
        .collect();
    assert!(
        warnings.is_empty(),
        "{} warnings:\n{}",
        warnings.len(),
        warnings.join("\n")
    );
    assert_eq!(report.not_compared, 0, "every question compared");
}

#[test]
fn the_correct_option_is_the_longest_in_at_most_a_third() {
    let bank = shipped();
    let quiz: Vec<_> = bank
        .questions()
        .iter()
        .filter_map(|q| Some((q, q.quiz_answer.as_deref()?)))
        .collect();
    assert!(!quiz.is_empty(), "no question has quiz options");
    let longest: Vec<&str> = quiz
        .iter()
        .filter(|(q, answer)| {
            let n = answer.chars().count();
            q.distractors.iter().all(|d| n > d.chars().count())
        })
        .map(|(q, _)| q.id.as_str())
        .collect();
    assert!(
        longest.len() * 3 <= quiz.len(),
        "the correct option is the longest in {} of {} questions: {longest:?}",
        longest.len(),
        quiz.len()
    );
}

/// `path` with `.` and `..` resolved by name, without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[test]
fn every_bank_file_declares_the_schema_for_editors() {
    let mut files = vec![root().join("questions.toml")];
    let mut topics: Vec<PathBuf> = std::fs::read_dir(root().join("questions"))
        .unwrap_or_else(|e| panic!("questions/: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    topics.sort();
    files.extend(topics);
    let schema = lexical(&root().join("docs/question-bank.schema.json"));
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        match first.strip_prefix("#:schema ") {
            Some(target) => {
                let resolved = lexical(&file.parent().unwrap().join(target.trim()));
                if resolved != schema {
                    problems.push(format!(
                        "{}: `#:schema {target}` is {}, not {}",
                        file.display(),
                        resolved.display(),
                        schema.display()
                    ));
                }
            }
            None => problems.push(format!(
                "{}: the first line is not `#:schema …`: {first:?}",
                file.display()
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // And the schema is there to find (in this checkout).
    assert!(repo().join("docs/question-bank.schema.json").is_file());
}
