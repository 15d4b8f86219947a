//! The shipped questions.toml: all 35 seed questions in their six sections.

use std::path::PathBuf;

use prepbot::bank::Bank;

#[test]
fn shipped_bank_has_35_questions_in_six_categories() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("questions.toml");
    let bank = Bank::load(&[path]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bank.len(), 35);
    let counts = bank.count_by_category();
    assert_eq!(
        counts,
        vec![
            ("technical", 20),
            ("role", 3),
            ("skills", 3),
            ("toolkit", 3),
            ("behavioral", 3),
            ("ask-the-interviewer", 3),
        ]
    );
    assert!(bank
        .questions()
        .iter()
        .all(|q| q.difficulty.is_some() && !q.tags.is_empty()));
    let sql = bank.get("sql-vs-nosql").expect("first question by its id");
    assert!(sql
        .answer
        .starts_with("SQL databases are relational databases"));
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
