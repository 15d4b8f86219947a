//! Each lint: that it fires where it should, at the right place, and stays quiet otherwise.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::*;
use crate::bank::load::{parse_text, Positions};
use crate::bank::Question;

/// One quiz-ready question that no lint complains about, with `extra` lines appended.
fn entry(id: &str, question: &str, extra: &str) -> String {
    format!(
        "[[question]]\nid = \"{id}\"\ncategory = \"databases\"\nquestion = \"{question}\"\n\
         answer = \"A model answer.\"\n\
         key_points = [\"One\", \"Two\", \"Three\"]\n\
         {extra}"
    )
}

const QUIZ: &str = "quiz_answer = \"Right option here\"\n\
                    distractors = [\"Wrong option one\", \"Wrong option two\", \"Wrong option 3\"]\n";

fn located(files: &[(&str, &str)]) -> Vec<Located> {
    let mut out = Vec::new();
    for (path, text) in files {
        let (qs, d) = parse_text(Path::new(path), text);
        assert!(d.is_empty(), "{d:#?}");
        out.extend(qs);
    }
    out
}

fn lines(report: &Report) -> Vec<String> {
    report
        .warnings
        .iter()
        .map(|d| AsWarning(d).to_string())
        .collect()
}

#[test]
fn a_complete_question_is_clean() {
    let r = lint(&located(&[("a.toml", &entry("a", "What is MVCC?", QUIZ))]));
    assert!(r.warnings.is_empty(), "{:#?}", lines(&r));
}

#[test]
fn missing_key_points_and_quiz_options_point_at_the_id() {
    let text =
        "\n[[question]]\nid = \"bare\"\ncategory = \"c\"\nquestion = \"q\"\nanswer = \"a\"\n";
    let r = lint(&located(&[("b.toml", text)]));
    assert_eq!(
        lines(&r),
        [
            "b.toml:3:6: warning: question `bare` has no `key_points`; add 3–6 short claims an \
             interviewer would tick off while listening",
            "b.toml:3:6: warning: question `bare` has no quiz options; add a one-line \
             `quiz_answer` and 3 `distractors`, or a quiz shows its paragraph answer among other \
             questions' answers",
        ]
    );
}

#[test]
fn a_distractor_holding_the_correct_option() {
    let extra = "quiz_answer = \"Use an index\"\n\
                 distractors = [\"Wrong one\", \"Never use an INDEX, use a scan\", \"Wrong 3\"]\n";
    let r = lint(&located(&[(
        "c.toml",
        &entry("c", "How to speed up?", extra),
    )]));
    assert_eq!(
        lines(&r),
        ["c.toml:8:29: warning: distractor 2 of question `c` contains its `quiz_answer`: a wrong \
          option must not hold the right one"]
    );

    // Without a quiz_answer the correct option is the answer.
    let extra = "distractors = [\"So: a model  answer. Really\"]\n";
    let r = lint(&located(&[("c.toml", &entry("c", "How?", extra))]));
    assert!(
        lines(&r).iter().any(|l| l.starts_with(
            "c.toml:7:16: warning: distractor 1 of \
             question `c` contains its answer"
        )),
        "{:#?}",
        lines(&r)
    );
}

#[test]
fn the_length_tell() {
    // Distractors of 10, 10 and 13 characters: mean 11, so 14 characters is fine (1.27×) and
    // 15 is a tell (1.36×).
    let with = |qa: &str| {
        format!("quiz_answer = \"{qa}\"\ndistractors = [\"aaaaaaaaaa\", \"bbbbbbbbbb\", \"ccccccccccccc\"]\n")
    };
    let r = lint(&located(&[(
        "d.toml",
        &entry("d", "Q?", &with(&"r".repeat(14))),
    )]));
    assert!(r.warnings.is_empty(), "{:#?}", lines(&r));
    let r = lint(&located(&[(
        "d.toml",
        &entry("d", "Q?", &with(&"r".repeat(15))),
    )]));
    assert_eq!(
        lines(&r),
        [
            "d.toml:7:15: warning: the `quiz_answer` of question `d` is 15 characters, 1.4× the \
          mean distractor (11): the longest option gives itself away — shorten it or lengthen \
          the distractors (at most 1.3×)"
        ]
    );
}

#[test]
fn light_rephrasings_are_near_duplicates_across_files() {
    let pairs = [
        (
            "Explain the difference between SQL and NoSQL databases. When would you use one over the other?",
            "Describe the difference between NoSQL and SQL databases. When would you choose one over the other?",
        ),
        ("Explain the CAP theorem.", "What does the CAP theorem say?"),
        (
            "What is the difference between authentication and authorization?",
            "What's the difference between authentication and authorisation?",
        ),
        (
            "What is an idempotent HTTP method?",
            "What are idempotent HTTP methods?",
        ),
    ];
    for (a, b) in pairs {
        assert!(similarity(a, b) >= NEAR_DUPLICATE, "{a} / {b}");
        let first = entry("first", a, QUIZ);
        let second = format!("\n{}", entry("second", b, QUIZ));
        let r = lint(&located(&[("a.toml", &first), ("b.toml", &second)]));
        let l = lines(&r);
        assert_eq!(l.len(), 1, "{a} / {b}: {l:#?}");
        assert!(
            l[0].starts_with(
                "b.toml:3:6: warning: question `second` is a near-duplicate of `first` \
                 (a.toml:2:6; similarity"
            ),
            "{l:#?}"
        );
    }
}

#[test]
fn different_questions_are_not_near_duplicates() {
    let pairs = [
        ("What is a mutex?", "What is a semaphore?"),
        (
            "What is the difference between TCP and UDP?",
            "What is the difference between processes and threads?",
        ),
        (
            "Explain your experience with Node.js.",
            "What is your experience with AWS?",
        ),
        (
            "What is an idempotent HTTP method?",
            "What is a safe HTTP method?",
        ),
        (
            "How does a B-tree index speed up a query?",
            "How does a hash index speed up a query?",
        ),
    ];
    for (a, b) in pairs {
        assert!(similarity(a, b) < NEAR_DUPLICATE, "{a} / {b}");
        let text = format!("{}{}", entry("a", a, QUIZ), entry("b", b, QUIZ));
        let r = lint(&located(&[("a.toml", &text)]));
        assert!(r.warnings.is_empty(), "{a} / {b}: {:#?}", lines(&r));
    }
}

#[test]
fn warnings_come_in_file_then_line_order() {
    let bare = |id: &str| {
        format!("[[question]]\nid = \"{id}\"\ncategory = \"c\"\nquestion = \"Q {id}?\"\nanswer = \"a\"\nkey_points = [\"1\", \"2\", \"3\"]\n")
    };
    let z = format!("{}{}", bare("z1"), bare("z2"));
    let a = bare("a1");
    // z.toml was loaded first, so its warnings come first, although "a" sorts before "z".
    let r = lint(&located(&[("z.toml", &z), ("a.toml", &a)]));
    let places: Vec<String> = r
        .warnings
        .iter()
        .map(|d| format!("{}:{}", d.path.display(), d.line))
        .collect();
    assert_eq!(places, ["z.toml:2", "z.toml:8", "a.toml:2"]);
}

/// A question as the loader would give it, without a file: enough for the near-duplicate lint.
fn synthetic(n: usize, question: String) -> Located {
    Located {
        question: Question {
            id: format!("q{n}"),
            category: "c".into(),
            question,
            answer: "a".into(),
            tags: vec![],
            difficulty: None,
            distractors: vec!["x".into(), "y".into(), "z".into()],
            explanation: None,
            key_points: vec!["1".into(), "2".into(), "3".into()],
            follow_ups: vec![],
            quiz_answer: Some("w".into()),
        },
        path: PathBuf::from("big.toml"),
        line: n + 1,
        col: 1,
        at: Positions::default(),
    }
}

/// A deterministic pseudo-random word: `w` plus letters, from an index.
fn word(mut i: usize) -> String {
    let mut w = String::from("w");
    loop {
        w.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return w;
        }
    }
}

#[test]
fn a_large_bank_is_compared_in_near_linear_time() {
    // 100 000 questions of 3 common words (from 300, each in ~1000 questions) and 3 rarer ones
    // (each in ~5), with a rephrased copy of a few of them planted at the end. That takes
    // ~3 s in a release build (`cargo test --release --lib bank::lint`) but ~40 s unoptimised,
    // so a debug build checks a fifth of it.
    let n = if cfg!(debug_assertions) {
        20_000
    } else {
        100_000
    };
    let rare = n * 3 / 5;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |m: usize| {
        // xorshift64: a fixed sequence, no dependency on the RNG crate's algorithms.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    let mut qs: Vec<Located> = (0..n)
        .map(|i| {
            let mut words: Vec<String> = (0..3).map(|_| word(next(300))).collect();
            words.extend((0..3).map(|_| word(1000 + next(rare))));
            synthetic(i, format!("How does {} work?", words.join(" and ")))
        })
        .collect();
    let planted = [17, n / 2, n - 2];
    for (k, i) in planted.into_iter().enumerate() {
        let text = qs[i].question.question.replace("How does", "Explain how");
        qs.push(synthetic(n + k, text));
    }
    let started = Instant::now();
    let r = lint(&qs);
    let took = started.elapsed();
    // The work is bounded by the groups, not by the 5·10⁹ pairs of the bank.
    assert!(
        r.pairs_scored < 20 * n,
        "{} pairs scored for {n} questions",
        r.pairs_scored
    );
    let dups: Vec<&str> = r
        .warnings
        .iter()
        .filter(|d| d.message.contains("near-duplicate"))
        .map(|d| d.message.as_str())
        .collect();
    for i in planted {
        assert!(
            dups.iter().any(|m| m.contains(&format!("of `q{i}`"))),
            "planted copy of q{i} not found: {dups:?}"
        );
    }
    eprintln!(
        "{n} questions: {} pairs scored, {} not compared, {} near-duplicates, {took:?}",
        r.pairs_scored,
        r.not_compared,
        dups.len()
    );
}

#[test]
fn words_in_too_many_questions_are_not_compared_and_counted() {
    // Every question shares only words that more than MAX_GROUP questions have.
    let qs: Vec<Located> = (0..MAX_GROUP + 2)
        .map(|i| synthetic(i, format!("alpha beta gamma {}", word(i))))
        .collect();
    let r = lint(&qs);
    assert_eq!(r.not_compared, MAX_GROUP + 2);
    assert_eq!(r.pairs_scored, 0);
    // One fewer question and the groups are compared.
    let r = lint(&qs[..MAX_GROUP]);
    assert_eq!(r.not_compared, 0);
    assert!(r.pairs_scored > 0);
}
