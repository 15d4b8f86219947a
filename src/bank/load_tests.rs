//! Every validation error kind: the message and the exact line:col.

use super::*;
use crate::bank::Bank;

const GOOD: &str = r#"
[[question]]
id = "sql-vs-nosql"
category = "technical"
question = "SQL or NoSQL?"
answer = "It depends."
tags = ["databases"]
difficulty = "medium"
"#;

fn diags(text: &str) -> Vec<Diagnostic> {
    let (_, d) = parse_text(Path::new("bank.toml"), text);
    d
}

/// The single diagnostic of `text`, as `line:col: message`.
fn one(text: &str) -> (usize, usize, String) {
    let d = diags(text);
    assert_eq!(d.len(), 1, "expected exactly one diagnostic, got {d:#?}");
    (d[0].line, d[0].col, d[0].message.clone())
}

#[test]
fn good_file_parses() {
    let (qs, d) = parse_text(Path::new("bank.toml"), GOOD);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(qs.len(), 1);
    let q = &qs[0].question;
    assert_eq!(q.id, "sql-vs-nosql");
    assert_eq!(q.tags, vec!["databases"]);
    assert_eq!(q.difficulty, Some(Difficulty::Medium));
    assert_eq!((qs[0].line, qs[0].col), (3, 6));
}

#[test]
fn display_is_path_line_col_message() {
    let d = Diagnostic {
        path: PathBuf::from("q/a.toml"),
        line: 3,
        col: 7,
        message: "boom".into(),
    };
    assert_eq!(d.to_string(), "q/a.toml:3:7: boom");
}

#[test]
fn syntax_error() {
    let (l, c, m) = one("[[question]]\nid = \"x\nanswer = 1\n");
    assert_eq!((l, c), (2, 8), "{m}");
    assert!(m.starts_with("TOML syntax error"), "{m}");
    assert!(m.contains("run `prepbot check` again"), "{m}");
}

#[test]
fn every_syntax_error_is_reported() {
    let d = diags("a = \nb = [\n[[question]]\nid = = \"x\"\n");
    assert!(d.len() >= 2, "{d:#?}");
}

#[test]
fn duplicate_key_in_a_table() {
    let d = diags("[[question]]\nid = \"a\"\nid = \"b\"\n");
    assert!(!d.is_empty());
    assert_eq!(d[0].line, 3, "{d:#?}");
    assert!(d[0].message.contains("TOML syntax error"), "{d:#?}");
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let text = GOOD.replace("answer =", "anwser =");
    let d = diags(&text);
    // The typo is reported, and so is the missing answer it causes.
    let typo = d
        .iter()
        .find(|d| d.message.contains("anwser"))
        .expect("typo reported");
    assert_eq!((typo.line, typo.col), (6, 1));
    assert_eq!(
        typo.message,
        "unknown key `anwser` in question #1; did you mean `answer`?"
    );
    let missing = d
        .iter()
        .find(|d| d.message.contains("missing `answer`"))
        .unwrap();
    assert_eq!(missing.line, 2, "{missing:?}");
}

#[test]
fn unknown_key_without_close_match_lists_keys() {
    let text = GOOD.replace("tags =", "zzzzzzzz =");
    let (l, c, m) = one(&text);
    assert_eq!((l, c), (7, 1));
    assert!(
        m.contains("known keys are id, category, question, answer"),
        "{m}"
    );
}

#[test]
fn unknown_top_level_key() {
    let (l, c, m) = one(&format!("title = \"x\"\n{GOOD}"));
    assert_eq!((l, c), (1, 1));
    assert!(m.contains("unknown top-level key `title`"), "{m}");
}

#[test]
fn question_must_be_array_of_tables() {
    let (l, c, m) = one("question = \"what?\"\n");
    assert_eq!((l, c), (1, 12));
    assert!(m.contains("must be an array of tables"), "{m}");
    assert!(m.contains("found a string"), "{m}");
}

#[test]
fn wrong_types() {
    let (l, c, m) = one(&GOOD.replace("answer = \"It depends.\"", "answer = 42"));
    assert_eq!((l, c), (6, 10));
    assert_eq!(
        m,
        "`answer` of question `sql-vs-nosql` must be a string, found an integer"
    );

    let (l, c, m) = one(&GOOD.replace("tags = [\"databases\"]", "tags = \"databases\""));
    assert_eq!((l, c), (7, 8));
    assert!(m.contains("must be an array of strings"), "{m}");

    let (l, c, m) = one(&GOOD.replace("tags = [\"databases\"]", "tags = [\"databases\", 3]"));
    assert_eq!((l, c), (7, 22));
    assert!(
        m.contains("must hold only strings, found an integer"),
        "{m}"
    );

    let (l, c, m) = one(&GOOD.replace("difficulty = \"medium\"", "difficulty = 2"));
    assert_eq!((l, c), (8, 14));
    assert!(m.contains("must be a string"), "{m}");
}

#[test]
fn missing_required_field_points_at_the_entry() {
    let text = "\n[[question]]\nid = \"a\"\ncategory = \"technical\"\nanswer = \"b\"\n";
    let (l, c, m) = one(text);
    assert_eq!(l, 2, "{m}");
    assert_eq!(c, 1);
    assert_eq!(
        m,
        "question `a` is missing `question`; add `question = \"…\"` to it"
    );
}

#[test]
fn missing_id_uses_the_entry_number() {
    let text = format!(
        "{GOOD}\n[[question]]\ncategory = \"technical\"\nquestion = \"q\"\nanswer = \"a\"\n"
    );
    let (l, _, m) = one(&text);
    assert_eq!(l, 10, "{m}");
    assert_eq!(m, "question #2 is missing `id`; add `id = \"…\"` to it");
}

#[test]
fn empty_required_field() {
    let (l, c, m) = one(&GOOD.replace("answer = \"It depends.\"", "answer = \"   \""));
    assert_eq!((l, c), (6, 10));
    assert_eq!(
        m,
        "`answer` of question `sql-vs-nosql` is empty; write it or remove the question"
    );
}

#[test]
fn malformed_id() {
    let (l, c, m) = one(&GOOD.replace("\"sql-vs-nosql\"", "\"SQL vs NoSQL\""));
    assert_eq!((l, c), (3, 6));
    assert!(
        m.starts_with("id `SQL vs NoSQL` must be lowercase kebab-case"),
        "{m}"
    );
    assert!(m.contains("e.g. `sql-vs-nosql`"), "{m}");
    let (_, _, m) = one(&GOOD.replace("\"sql-vs-nosql\"", &format!("\"{}\"", "a".repeat(65))));
    assert!(m.contains("at most 64"), "{m}");
    let (_, _, m) = one(&GOOD.replace("\"sql-vs-nosql\"", "\"double--hyphen\""));
    assert!(m.contains("kebab-case"), "{m}");
}

#[test]
fn malformed_category_and_tag() {
    let (l, c, m) = one(&GOOD.replace("\"technical\"", "\"Technical Stuff\""));
    assert_eq!((l, c), (4, 12));
    assert!(m.contains("category `Technical Stuff`"), "{m}");
    assert!(m.contains("`technical-stuff`"), "{m}");
    let (l, c, m) = one(&GOOD.replace("[\"databases\"]", "[\"data bases\"]"));
    assert_eq!((l, c), (7, 9));
    assert!(m.contains("tag `data bases`"), "{m}");
    let (l, c, m) = one(&GOOD.replace("[\"databases\"]", "[\"databases\", \"databases\"]"));
    assert_eq!((l, c), (7, 22));
    assert!(m.contains("listed twice"), "{m}");
}

#[test]
fn unknown_difficulty() {
    let (l, c, m) = one(&GOOD.replace("\"medium\"", "\"extreme\""));
    assert_eq!((l, c), (8, 14));
    assert_eq!(
        m,
        "unknown difficulty `extreme` in question `sql-vs-nosql`; use easy, medium or hard"
    );
}

#[test]
fn texts_over_discord_limits() {
    let long = "x".repeat(4097);
    let (l, c, m) = one(&GOOD.replace("It depends.", &long));
    assert_eq!((l, c), (6, 10));
    assert_eq!(
        m,
        "`answer` of question `sql-vs-nosql` is 4097 characters; it is shown as an embed \
         description, which Discord limits to 4096 — shorten it by 1"
    );
    // Characters, not bytes: 4096 multi-byte characters are fine.
    assert!(diags(&GOOD.replace("It depends.", &"é".repeat(4096))).is_empty());

    let (_, _, m) = one(&GOOD.replace("SQL or NoSQL?", &"q".repeat(5000)));
    assert!(
        m.contains("`question` of question `sql-vs-nosql` is 5000 characters"),
        "{m}"
    );

    let text = format!("{GOOD}explanation = \"{}\"\n", "e".repeat(1025));
    let (l, c, m) = one(&text);
    assert_eq!((l, c), (9, 15));
    assert!(
        m.contains("an embed field, which Discord limits to 1024"),
        "{m}"
    );

    let text = format!("{GOOD}distractors = [\"{}\"]\n", "d".repeat(1025));
    let (l, c, m) = one(&text);
    assert_eq!((l, c), (9, 16));
    assert!(m.contains("limits to 1024"), "{m}");
}

#[test]
fn distractor_rules() {
    let text = format!("{GOOD}distractors = [\"It  DEPENDS.\", \"No\", \"no\", \"\"]\n");
    let d = diags(&text);
    assert_eq!(d.len(), 3, "{d:#?}");
    assert_eq!((d[0].line, d[0].col), (9, 16));
    assert!(d[0].message.contains("same as its answer"));
    assert_eq!((d[1].line, d[1].col), (9, 38));
    assert!(d[1].message.contains("listed twice"));
    assert_eq!((d[2].line, d[2].col), (9, 44));
    assert!(d[2].message.contains("empty"));
}

#[test]
fn empty_explanation() {
    let (l, c, m) = one(&format!("{GOOD}explanation = \"\"\n"));
    assert_eq!((l, c), (9, 15));
    assert!(
        m.contains("`explanation` of question `sql-vs-nosql` is empty"),
        "{m}"
    );
}

#[test]
fn every_problem_at_once() {
    let text = r#"[[question]]
id = "Bad Id"
category = "technical"
question = "q"
answer = "a"
difficulty = "extreme"
anwser = "typo"
"#;
    let d = diags(text);
    let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 6, 7], "{d:#?}");
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let err = Bank::from_texts([
        (Path::new("a.toml"), GOOD),
        (Path::new("b.toml"), &format!("\n\n{GOOD}")),
    ])
    .unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    assert_eq!(
        err.diagnostics[0].to_string(),
        "b.toml:5:6: duplicate id `sql-vs-nosql`: already used at a.toml:3:6; ids must be \
         unique across all bank files — rename one of them"
    );
}

#[test]
fn empty_bank() {
    let err = Bank::from_texts([(Path::new("e.toml"), "# nothing yet\n")]).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    let d = &err.diagnostics[0];
    assert_eq!((d.line, d.col), (1, 1));
    assert!(d.message.starts_with("the bank is empty"), "{d}");
    let err = Bank::from_texts([(Path::new("e.toml"), "question = []\n")]).unwrap_err();
    assert!(err.diagnostics[0].message.starts_with("the bank is empty"));
}

#[test]
fn invalid_utf8_is_located() {
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("It depends").unwrap();
    bytes[at] = 0xFF;
    let d = decode(Path::new("bank.toml"), &bytes).unwrap_err();
    assert_eq!((d.line, d.col), (6, 11));
    assert_eq!(
        d.message,
        "invalid UTF-8 (byte 0xFF); save the file as UTF-8"
    );
}

#[test]
fn bom_is_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(GOOD.as_bytes());
    let text = decode(Path::new("bank.toml"), &bytes).unwrap();
    let (qs, d) = parse_text(Path::new("bank.toml"), &text);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(qs.len(), 1);
}

#[test]
fn huge_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap(); // sparse: 50 MiB without writing it
    let d = read_file(&path).unwrap_err();
    assert_eq!((d.line, d.col), (1, 1));
    assert!(d.message.starts_with("file is 50.0 MiB"), "{}", d.message);
}

#[test]
fn missing_file_names_the_path() {
    let err = Bank::load(&[PathBuf::from("/definitely/not/here.toml")]).unwrap_err();
    let s = err.diagnostics[0].to_string();
    assert!(
        s.starts_with("/definitely/not/here.toml:1:1: cannot read this bank file"),
        "{s}"
    );
}

#[test]
fn deep_nesting_does_not_panic() {
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let d = diags(&deep);
    assert!(!d.is_empty());
    let deep_tables = format!("x = {}1{}\n", "{a = ".repeat(50_000), "}".repeat(50_000));
    assert!(!diags(&deep_tables).is_empty());
}

#[test]
fn arbitrary_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let alphabet = b"[]{}=\"'\n #.,-_az09\\\xC3\xA9\xFF";
    for _ in 0..2000 {
        let len = rng.random_range(0..200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        if let Ok(text) = decode(Path::new("f.toml"), &bytes) {
            let _ = parse_text(Path::new("f.toml"), &text);
        }
    }
    // Mutations of a valid file.
    for _ in 0..2000 {
        let mut bytes = GOOD.as_bytes().to_vec();
        for _ in 0..3 {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = alphabet[rng.random_range(0..alphabet.len())];
        }
        if let Ok(text) = decode(Path::new("f.toml"), &bytes) {
            let _ = parse_text(Path::new("f.toml"), &text);
        }
    }
}

#[test]
fn directory_of_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        GOOD.replace("sql-vs-nosql", "b-one"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        GOOD.replace("sql-vs-nosql", "a-one"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a bank").unwrap();
    let bank = Bank::load(&[dir.path().to_path_buf()]).unwrap();
    let ids: Vec<_> = bank.questions().iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["a-one", "b-one"]);
    assert_eq!(bank.files().len(), 2);
    // Naming the same file twice does not make its ids duplicates.
    let a = dir.path().join("a.toml");
    assert_eq!(Bank::load(&[a.clone(), a]).unwrap().len(), 1);
}

#[test]
fn closest_and_kebab_helpers() {
    assert_eq!(closest("anwser", KNOWN_KEYS), Some("answer"));
    assert_eq!(closest("difficulty", KNOWN_KEYS), Some("difficulty"));
    assert_eq!(closest("xyz", KNOWN_KEYS), None);
    // Up to a third of a long name may be wrong: three edits in `distractors`.
    assert_eq!(closest("dstrctrs", KNOWN_KEYS), Some("distractors"));
    assert_eq!(closest("dstrctr", KNOWN_KEYS), None);
    // Distance counts characters, not bytes: two accents are two edits.
    assert_eq!(closest("ánswér", KNOWN_KEYS), Some("answer"));
    assert_eq!(closest("ANWSER", KNOWN_KEYS), Some("answer"));
    assert!(is_kebab("a-b-9"));
    assert!(!is_kebab("a_b"));
    assert!(!is_kebab("-a"));
    assert!(!is_kebab(""));
}

/// GOOD with every optional key of a quiz-ready question, from line 9 on.
fn full() -> String {
    format!(
        "{GOOD}key_points = [\"Relational: schema, joins, ACID\", \"Document stores: flexible schema\", \
         \"Choose by access pattern\"]\n\
         follow_ups = [\"How would you migrate?\"]\n\
         quiz_answer = \"Pick by data shape and consistency needs\"\n\
         distractors = [\"NoSQL is always faster\", \"SQL cannot scale out\", \"They are interchangeable\"]\n\
         explanation = \"Neither is faster in general.\"\n"
    )
}

#[test]
fn quiz_keys_parse_with_their_positions() {
    let (qs, d) = parse_text(Path::new("bank.toml"), &full());
    assert!(d.is_empty(), "{d:#?}");
    let l = &qs[0];
    assert_eq!(l.question.key_points.len(), 3);
    assert_eq!(l.question.key_points[2], "Choose by access pattern");
    assert_eq!(l.question.follow_ups, ["How would you migrate?"]);
    assert_eq!(
        l.question.quiz_answer.as_deref(),
        Some("Pick by data shape and consistency needs")
    );
    assert_eq!(l.question.distractors.len(), 3);
    assert_eq!(l.at.quiz_answer, Some((11, 15)));
    assert_eq!(l.at.distractors, [(12, 16), (12, 42), (12, 66)]);
    // Without them, the new fields are empty.
    let (qs, _) = parse_text(Path::new("bank.toml"), GOOD);
    let q = &qs[0].question;
    assert!(q.key_points.is_empty() && q.follow_ups.is_empty() && q.quiz_answer.is_none());
    assert_eq!(qs[0].at, Positions::default());
}

#[test]
fn key_point_rules() {
    let with = |v: &str| format!("{GOOD}key_points = {v}\n");
    let (l, c, m) = one(&with("[\"a\", \"b\"]"));
    assert_eq!((l, c), (9, 14));
    assert_eq!(
        m,
        "`key_points` of question `sql-vs-nosql` has 2 key points; write 3 to 6"
    );
    let (_, _, m) = one(&with("[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\"]"));
    assert!(m.contains("has 7 key points; write 3 to 6"), "{m}");
    assert!(diags(&with("[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]")).is_empty());

    let (l, c, m) = one(&with("[\"a\", \" \", \"c\"]"));
    assert_eq!((l, c), (9, 20));
    assert_eq!(
        m,
        "a key point of question `sql-vs-nosql` is empty; remove it or write one"
    );
    let long = "k".repeat(151);
    let (l, c, m) = one(&with(&format!("[\"a\", \"b\", \"{long}\"]")));
    assert_eq!((l, c), (9, 25));
    assert_eq!(
        m,
        "a key point of question `sql-vs-nosql` is 151 characters; a key point may be at most \
         150 — shorten it by 1"
    );
    assert!(diags(&with(&format!("[\"a\", \"b\", \"{}\"]", "é".repeat(150)))).is_empty());

    // A wrong type is one problem, not also a count.
    let (l, c, m) = one(&with("\"a, b, c\""));
    assert_eq!((l, c), (9, 14));
    assert!(m.contains("must be an array of strings"), "{m}");
    let (_, _, m) = one(&with("[\"a\", \"b\", 3]"));
    assert!(m.contains("must hold only strings"), "{m}");
}

#[test]
fn follow_up_rules() {
    let with = |v: &str| format!("{GOOD}follow_ups = {v}\n");
    let (l, c, m) = one(&with("[]"));
    assert_eq!((l, c), (9, 14));
    assert_eq!(
        m,
        "`follow_ups` of question `sql-vs-nosql` has 0 follow-ups; write 1 to 3"
    );
    let (_, _, m) = one(&with("[\"a?\", \"b?\", \"c?\", \"d?\"]"));
    assert!(m.contains("has 4 follow-ups"), "{m}");
    let (_, _, m) = one(&with(&format!("[\"{}\"]", "f".repeat(301))));
    assert!(
        m.contains("a follow-up of question `sql-vs-nosql` is 301 characters"),
        "{m}"
    );
    assert!(diags(&with(&format!("[\"{}\"]", "f".repeat(300)))).is_empty());
    let (_, _, m) = one(&with("[\"\"]"));
    assert!(
        m.contains("a follow-up of question `sql-vs-nosql` is empty"),
        "{m}"
    );
}

#[test]
fn quiz_answer_rules() {
    let three = "distractors = [\"d1\", \"d2\", \"d3\"]\n";
    let with = |qa: &str, ds: &str| format!("{GOOD}quiz_answer = {qa}\n{ds}");

    let (l, c, m) = one(&with(&format!("\"{}\"", "q".repeat(151)), three));
    assert_eq!((l, c), (9, 15));
    assert_eq!(
        m,
        "`quiz_answer` of question `sql-vs-nosql` is 151 characters; a quiz option is one line \
         of at most 150 — shorten it by 1"
    );
    assert!(diags(&with(&format!("\"{}\"", "q".repeat(150)), three)).is_empty());
    let (_, _, m) = one(&with("\"  \"", three));
    assert!(
        m.contains("`quiz_answer` of question `sql-vs-nosql` is empty"),
        "{m}"
    );
    let (l, c, m) = one(&with("42", three));
    assert_eq!((l, c), (9, 15));
    assert_eq!(
        m,
        "`quiz_answer` of question `sql-vs-nosql` must be a string, found an integer"
    );

    // At least three distractors, pointed at the list, or at quiz_answer when there is none.
    let (l, c, m) = one(&with("\"Right\"", "distractors = [\"d1\", \"d2\"]\n"));
    assert_eq!((l, c), (10, 15));
    assert_eq!(
        m,
        "question `sql-vs-nosql` has a `quiz_answer` but only 2 distractors; a quiz shows it \
         among 3 wrong options — write at least 3"
    );
    let (l, c, m) = one(&with("\"Right\"", ""));
    assert_eq!((l, c), (9, 15));
    assert!(
        m.contains("has a `quiz_answer` but no `distractors`"),
        "{m}"
    );
    // Even an invalid quiz_answer keeps the distractor rules.
    let d = diags(&with("42", "distractors = [\"d1\"]\n"));
    assert_eq!(d.len(), 2, "{d:#?}");

    // Each distractor is one line, and none is the right option in other case or spacing.
    let long = "d".repeat(151);
    let (l, c, m) = one(&with(
        "\"Right\"",
        &format!("distractors = [\"d1\", \"d2\", \"{long}\"]\n"),
    ));
    assert_eq!((l, c), (10, 28));
    assert!(
        m.contains(
            "a distractor of question `sql-vs-nosql` is 151 characters; next to a `quiz_answer`"
        ),
        "{m}"
    );
    let (l, c, m) = one(&with(
        "\"Right  answer\"",
        "distractors = [\"d1\", \" right ANSWER\", \"d3\"]\n",
    ));
    assert_eq!((l, c), (10, 22));
    assert!(m.contains("the same as its `quiz_answer`"), "{m}");

    // Without quiz_answer, distractors keep the old rules: any number, up to 1024 chars.
    assert!(diags(&format!("{GOOD}distractors = [\"{long}\"]\n")).is_empty());
}

#[test]
fn normalise_folds_case_and_collapses_whitespace_per_word() {
    // The reference: each word lowercased on its own, joined by single spaces.
    let reference = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for s in [
        "",
        "   ",
        "  Two-Phase   Commit\n\tPROTOCOL ",
        "ΟΔΟΣ ΣΟΦΟΣ",
        "Straße İstanbul ǅemal",
        "mixed ASCII and ÜMLAUT\u{a0}nbsp",
    ] {
        assert_eq!(normalise(s), reference(s), "{s:?}");
    }
}
