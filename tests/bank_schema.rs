//! The JSON Schema of the bank format (docs/question-bank.schema.json), which editors apply
//! through a file's `#:schema` line, agrees with the loader: every shipped bank file is valid,
//! and examples are rejected — or accepted — by both alike.
//!
//! The loader checks more than a schema can say (unique ids across files, comparisons that
//! ignore case and spacing, the lints), so agreement is tested on what both express.

use std::path::{Path, PathBuf};

use prepbot::bank::Bank;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/question-bank.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema says which draft it is"
    );
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"))
}

/// A bank file as the schema sees it: TOML read into JSON values.
fn json(text: &str) -> Value {
    toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"))
}

fn schema_errors(v: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = json(text);
    v.iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Where the shipped bank lives: this repository, or `PREPBOT_BANK_ROOT` to try a bank that
/// has not landed yet (as tests/shipped_bank.rs does).
fn bank_root() -> PathBuf {
    std::env::var_os("PREPBOT_BANK_ROOT").map_or_else(root, PathBuf::from)
}

/// The shipped bank files: questions.toml and every questions/*.toml (tests/shipped_bank.rs
/// requires the directory; here it is enough to check what there is).
fn shipped_files() -> Vec<PathBuf> {
    let bank = bank_root();
    let mut files = vec![bank.join("questions.toml")];
    if let Ok(entries) = std::fs::read_dir(bank.join("questions")) {
        let mut topic: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        topic.sort();
        files.extend(topic);
    }
    files
}

#[test]
fn every_shipped_bank_file_is_valid() {
    let v = validator();
    let mut problems = Vec::new();
    for file in shipped_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for e in schema_errors(&v, &text) {
            problems.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A valid question; examples add to it or replace parts of it.
const BASE: &str = r#"[[question]]
id = "sql-vs-nosql"
category = "databases"
question = "SQL or NoSQL?"
answer = "It depends on the data and its access patterns."
"#;

const QUIZ: &str = r#"quiz_answer = "Choose by data shape and consistency needs"
distractors = ["NoSQL is faster for every workload", "SQL cannot scale out", "They are interchangeable"]
"#;

fn with(extra: &str) -> String {
    format!("{BASE}{extra}\n")
}

fn replaced(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replace(from, to)
}

fn list(n: usize, len: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!("\"{}\"", format!("{i}").repeat(len)))
        .collect();
    format!("[{}]", items.join(", "))
}

fn invalid_examples() -> Vec<(&'static str, String)> {
    vec![
        ("unknown key", with("anwser = \"typo\"")),
        ("unknown top-level key", format!("title = \"bank\"\n{BASE}")),
        (
            "question not an array of tables",
            "question = \"what?\"\n".into(),
        ),
        (
            "missing answer",
            replaced(
                "answer = \"It depends on the data and its access patterns.\"\n",
                "",
            ),
        ),
        ("missing id", replaced("id = \"sql-vs-nosql\"\n", "")),
        (
            "empty answer",
            replaced(
                "\"It depends on the data and its access patterns.\"",
                "\"  \"",
            ),
        ),
        (
            "question too long",
            replaced("\"SQL or NoSQL?\"", &format!("\"{}\"", "q".repeat(4097))),
        ),
        ("bad id", replaced("\"sql-vs-nosql\"", "\"SQL vs NoSQL\"")),
        (
            "id with a double hyphen",
            replaced("\"sql-vs-nosql\"", "\"sql--nosql\""),
        ),
        (
            "id too long",
            replaced("\"sql-vs-nosql\"", &format!("\"{}\"", "a".repeat(65))),
        ),
        ("bad category", replaced("\"databases\"", "\"Data Bases\"")),
        ("bad tag", with("tags = [\"data bases\"]")),
        ("tag listed twice", with("tags = [\"sql\", \"sql\"]")),
        ("bad difficulty", with("difficulty = \"extreme\"")),
        ("difficulty of the wrong type", with("difficulty = 2")),
        (
            "answer of the wrong type",
            replaced("\"It depends on the data and its access patterns.\"", "42"),
        ),
        ("tags of the wrong type", with("tags = \"sql\"")),
        (
            "too few key points",
            with(&format!("key_points = {}", list(2, 5))),
        ),
        (
            "too many key points",
            with(&format!("key_points = {}", list(7, 5))),
        ),
        (
            "key point too long",
            with(&format!("key_points = {}", list(3, 151))),
        ),
        (
            "empty key point",
            with("key_points = [\"a\", \" \", \"c\"]"),
        ),
        (
            "key points of the wrong type",
            with("key_points = \"a, b, c\""),
        ),
        (
            "key point of the wrong type",
            with("key_points = [\"a\", \"b\", 3]"),
        ),
        ("no follow-ups", with("follow_ups = []")),
        (
            "too many follow-ups",
            with(&format!("follow_ups = {}", list(4, 5))),
        ),
        (
            "follow-up too long",
            with(&format!("follow_ups = {}", list(1, 301))),
        ),
        (
            "long quiz_answer",
            with(&QUIZ.replace(
                "Choose by data shape and consistency needs",
                &"q".repeat(151),
            )),
        ),
        (
            "blank quiz_answer",
            with(&QUIZ.replace("Choose by data shape and consistency needs", " ")),
        ),
        (
            "quiz_answer of the wrong type",
            with(&QUIZ.replace("\"Choose by data shape and consistency needs\"", "1")),
        ),
        (
            "2 distractors with a quiz_answer",
            with(&QUIZ.replace(", \"They are interchangeable\"", "")),
        ),
        (
            "quiz_answer without distractors",
            with("quiz_answer = \"Right\""),
        ),
        (
            "long distractor with a quiz_answer",
            with(&QUIZ.replace("SQL cannot scale out", &"d".repeat(151))),
        ),
        (
            "distractor listed twice",
            with("distractors = [\"Wrong\", \"Wrong\"]"),
        ),
        ("empty distractor", with("distractors = [\"\"]")),
        (
            "distractor too long for an embed field",
            with(&format!("distractors = {}", list(1, 1025))),
        ),
        (
            "explanation too long",
            with(&format!("explanation = \"{}\"", "e".repeat(1025))),
        ),
        ("empty explanation", with("explanation = \"\"")),
    ]
}

fn valid_examples() -> Vec<(&'static str, String)> {
    vec![
        ("only the required keys", BASE.to_string()),
        (
            "every key",
            with(&format!(
                "tags = [\"sql\", \"nosql\"]\ndifficulty = \"medium\"\n\
                 key_points = [\"Relational: schema, joins, ACID\", \"Documents: flexible schema\", \
                 \"Choose by access pattern\"]\n\
                 follow_ups = [\"How would you migrate between them?\"]\n\
                 {QUIZ}explanation = \"Neither is faster in general.\""
            )),
        ),
        (
            "every list at its largest and every text at its limit",
            with(&format!(
                "key_points = {}\nfollow_ups = {}\nquiz_answer = \"{}\"\ndistractors = {}",
                list(6, 150),
                list(3, 300),
                "q".repeat(150),
                list(5, 150)
            )),
        ),
        (
            "limits count characters, not bytes",
            with(&format!(
                "key_points = [\"{}\", \"b\", \"c\"]\nquiz_answer = \"{}\"\n\
                 distractors = [\"x\", \"y\", \"z\"]",
                "é".repeat(150),
                "ü".repeat(150)
            )),
        ),
        (
            "without a quiz_answer, distractors may be few and long",
            with(&format!("distractors = {}", list(2, 1024))),
        ),
        (
            "two questions",
            format!("{BASE}\n{}", BASE.replace("sql-vs-nosql", "acid")),
        ),
    ]
}

#[test]
fn schema_and_loader_reject_the_same_mistakes() {
    let v = validator();
    let mut disagreements = Vec::new();
    for (name, text) in invalid_examples() {
        if v.iter_errors(&json(&text)).next().is_none() {
            disagreements.push(format!("the schema accepts: {name}"));
        }
        if Bank::from_texts([(Path::new("example.toml"), text.as_str())]).is_ok() {
            disagreements.push(format!("the loader accepts: {name}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn schema_and_loader_accept_the_same_valid_files() {
    let v = validator();
    let mut disagreements = Vec::new();
    for (name, text) in valid_examples() {
        let errors = schema_errors(&v, &text);
        if !errors.is_empty() {
            disagreements.push(format!("the schema rejects: {name}: {}", errors.join("; ")));
        }
        if let Err(e) = Bank::from_texts([(Path::new("example.toml"), text.as_str())]) {
            disagreements.push(format!("the loader rejects: {name}: {e}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn the_documented_example_is_valid_and_lint_clean() {
    let doc = std::fs::read_to_string(root().join("docs/question-bank.md")).unwrap();
    let start = doc
        .find("```toml\n")
        .expect("an example in the format's docs")
        + 8;
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let errors = schema_errors(&validator(), example);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let (located, diagnostics) =
        prepbot::bank::load::parse_text(Path::new("example.toml"), example);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let report = prepbot::bank::lint::lint(&located);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
}
