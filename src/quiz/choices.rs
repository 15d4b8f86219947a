//! Building one multiple-choice quiz item out of a bank question.
//!
//! A question written for quizzes has a one-line `quiz_answer` and at least three one-line
//! `distractors`: its item is the quiz answer among three of them. Any other question falls
//! back to its model answer (a paragraph) among three wrong ones, which come, in order of
//! preference, from the question's own `distractors`, from answers of other questions of the
//! same category, and from answers of questions of other categories. The two are never mixed:
//! a one-line option among paragraphs would stand out by its length alone. Everything random
//! goes through the caller's RNG, so a seeded RNG gives the same item every time.

use std::collections::HashSet;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::bank::{Difficulty, Question};

/// How many choices a quiz question offers (A–D).
pub const CHOICES: usize = 4;

/// One multiple-choice question of a round, ready to be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizItem {
    pub question_id: String,
    pub prompt: String,
    pub category: String,
    pub difficulty: Option<Difficulty>,
    /// The four choices, shown as A–D.
    pub choices: [String; CHOICES],
    /// Index into `choices` of the model answer, `0..4`.
    pub correct: usize,
    pub explanation: Option<String>,
}

impl QuizItem {
    /// The letter of the correct choice.
    pub fn correct_letter(&self) -> char {
        letter(self.correct)
    }
}

/// The letter shown for choice `i`: `'A'`..=`'D'`, or `'?'` for an index out of range.
pub fn letter(i: usize) -> char {
    match i {
        0 => 'A',
        1 => 'B',
        2 => 'C',
        3 => 'D',
        _ => '?',
    }
}

/// The choice index of a letter (`'A'`..=`'D'`, either case), e.g. from a button id.
pub fn letter_index(c: char) -> Option<usize> {
    match c.to_ascii_uppercase() {
        'A' => Some(0),
        'B' => Some(1),
        'C' => Some(2),
        'D' => Some(3),
        _ => None,
    }
}

/// The form two choices are compared in: whitespace runs collapsed to one space, trimmed,
/// lower-cased. Two choices with the same key count as the same choice.
pub fn choice_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Builds the quiz item for `q`: the correct option among three wrong ones, the correct one
/// at a uniformly random position.
///
/// With a `quiz_answer` and at least three distractors that differ from it and from each
/// other (after [`choice_key`] normalisation), the options are the quiz answer and three of
/// those distractors picked at random. Otherwise see [`build_answer_item`].
pub fn build_item<R: Rng + ?Sized>(
    q: &Question,
    pool: &[Question],
    rng: &mut R,
) -> Option<QuizItem> {
    match quiz_options(q) {
        Some((correct, distractors)) => {
            // Three of them, uniformly at random.
            let wrong: Vec<&str> = distractors
                .choose_multiple(rng, CHOICES - 1)
                .copied()
                .collect();
            Some(assemble(q, correct, wrong, rng))
        }
        None => build_answer_item(q, pool, rng),
    }
}

/// The quiz answer and its usable distractors (distinct, not blank, not the quiz answer),
/// when there are enough of them for an item.
fn quiz_options(q: &Question) -> Option<(&str, Vec<&str>)> {
    let correct = q.quiz_answer.as_deref()?.trim();
    if correct.is_empty() {
        return None;
    }
    let mut seen: HashSet<String> = HashSet::from([choice_key(correct)]);
    let distractors: Vec<&str> = q
        .distractors
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty() && seen.insert(choice_key(d)))
        .collect();
    (distractors.len() >= CHOICES - 1).then_some((correct, distractors))
}

/// The fallback item: `q`'s model answer among three wrong choices.
///
/// Wrong choices: up to three of `q.distractors` picked at random, topped up with the
/// answers of other questions of `pool` (the whole bank, in bank order), those of `q`'s
/// category first (in random order), then those of other categories (in random order).
/// No two choices are equal after [`choice_key`] normalisation, and none is empty.
///
/// `None` when four distinct choices cannot be found (or `q.answer` is blank).
pub fn build_answer_item<R: Rng + ?Sized>(
    q: &Question,
    pool: &[Question],
    rng: &mut R,
) -> Option<QuizItem> {
    let correct_text = q.answer.trim();
    let correct_key = choice_key(correct_text);
    if correct_key.is_empty() {
        return None;
    }

    let mut seen: HashSet<String> = HashSet::new();
    seen.insert(correct_key);
    let mut wrong: Vec<String> = Vec::with_capacity(CHOICES - 1);
    let mut offer = |text: &str, wrong: &mut Vec<String>| {
        let key = choice_key(text);
        if !key.is_empty() && seen.insert(key) {
            wrong.push(text.trim().to_string());
        }
        wrong.len() == CHOICES - 1
    };

    let distractors: Vec<&str> = q.distractors.iter().map(String::as_str).collect();
    let mut full = in_random_order(distractors, rng, |d| offer(d, &mut wrong));

    if !full {
        let (same, other): (Vec<&Question>, Vec<&Question>) = pool
            .iter()
            .filter(|p| p.id != q.id)
            .partition(|p| p.category == q.category);
        full = in_random_order(same, rng, |p| offer(&p.answer, &mut wrong));
        if !full {
            full = in_random_order(other, rng, |p| offer(&p.answer, &mut wrong));
        }
    }
    if !full {
        return None;
    }
    let wrong = wrong.iter().map(String::as_str).collect();
    Some(assemble(q, correct_text, wrong, rng))
}

/// The item with `correct` among the three `wrong` choices, in random order.
fn assemble<R: Rng + ?Sized>(
    q: &Question,
    correct_text: &str,
    mut wrong: Vec<&str>,
    rng: &mut R,
) -> QuizItem {
    // Which source a wrong choice came from must not show in its position.
    wrong.shuffle(rng);
    let correct = rng.random_range(0..CHOICES);
    let mut wrong = wrong.into_iter();
    let choices: [String; CHOICES] = std::array::from_fn(|i| {
        if i == correct {
            correct_text.to_string()
        } else {
            wrong.next().unwrap_or_default().to_string()
        }
    });

    QuizItem {
        question_id: q.id.clone(),
        prompt: q.question.clone(),
        category: q.category.clone(),
        difficulty: q.difficulty,
        choices,
        correct,
        explanation: q.explanation.clone(),
    }
}

/// Visits `items` in uniformly random order (a lazy Fisher–Yates shuffle) until `visit`
/// returns `true`; returns whether it did. Draws only as many random numbers as it visits:
/// `SliceRandom::shuffle` would draw one per item of a 100,000-question bank for each quiz
/// item that needs fallback choices, where this usually stops after a handful.
fn in_random_order<T: Copy, R: Rng + ?Sized>(
    mut items: Vec<T>,
    rng: &mut R,
    mut visit: impl FnMut(T) -> bool,
) -> bool {
    let n = items.len();
    for i in 0..n {
        let j = rng.random_range(i..n);
        items.swap(i, j);
        if visit(items[i]) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn q(id: &str, category: &str, answer: &str, distractors: &[&str]) -> Question {
        Question {
            id: id.to_string(),
            category: category.to_string(),
            question: format!("Question {id}?"),
            answer: answer.to_string(),
            tags: Vec::new(),
            difficulty: Some(Difficulty::Medium),
            distractors: distractors.iter().map(|d| d.to_string()).collect(),
            explanation: Some(format!("Because {id}.")),
            key_points: vec![],
            follow_ups: vec![],
            quiz_answer: None,
        }
    }

    fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    fn wrong_choices(item: &QuizItem) -> Vec<String> {
        item.choices
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != item.correct)
            .map(|(_, c)| c.clone())
            .collect()
    }

    fn assert_distinct(item: &QuizItem) {
        let keys: HashSet<String> = item.choices.iter().map(|c| choice_key(c)).collect();
        assert_eq!(
            keys.len(),
            CHOICES,
            "duplicate choices in {:?}",
            item.choices
        );
        assert!(item.choices.iter().all(|c| !c.trim().is_empty()));
    }

    #[test]
    fn letters() {
        assert_eq!(
            (0..5).map(letter).collect::<String>(),
            "ABCD?",
            "letters A-D, ? beyond"
        );
        assert_eq!(letter_index('c'), Some(2));
        assert_eq!(letter_index('D'), Some(3));
        assert_eq!(letter_index('E'), None);
    }

    #[test]
    fn choice_key_normalises_case_and_whitespace() {
        assert_eq!(choice_key("  Big   O\tof N \n"), "big o of n");
        assert_eq!(choice_key("A HashMap"), choice_key("a  hashmap "));
    }

    #[test]
    fn item_carries_the_question_fields_and_the_answer_at_correct() {
        let target = q("t", "tech", "  The answer.  ", &["w1", "w2", "w3"]);
        let item = build_item(&target, std::slice::from_ref(&target), &mut rng(1)).unwrap();
        assert_eq!(item.question_id, "t");
        assert_eq!(item.prompt, "Question t?");
        assert_eq!(item.category, "tech");
        assert_eq!(item.difficulty, Some(Difficulty::Medium));
        assert_eq!(item.explanation.as_deref(), Some("Because t."));
        assert!(item.correct < CHOICES);
        assert_eq!(
            item.choices[item.correct], "The answer.",
            "trimmed model answer"
        );
        assert_eq!(item.correct_letter(), letter(item.correct));
        let mut wrong = wrong_choices(&item);
        wrong.sort();
        assert_eq!(wrong, ["w1", "w2", "w3"]);
    }

    #[test]
    fn no_duplicates_or_near_duplicates() {
        // Distractors and other answers repeat each other and the correct answer, differing
        // only in case and whitespace.
        let target = q(
            "t",
            "tech",
            "Use a hash map.",
            &[
                "use a HASH map.",
                "  Use  a hash\tmap. ",
                "Sort first.",
                "sort   FIRST.",
                "",
                "   ",
            ],
        );
        let pool = vec![
            target.clone(),
            q("a", "tech", "SORT first.", &[]),
            q("b", "tech", "use a hash map.", &[]),
            q("c", "tech", "Binary search.", &[]),
            q("d", "tech", " binary  search. ", &[]),
            q("e", "other", "Sort First.", &[]),
            q("f", "other", "Two pointers.", &[]),
        ];
        for seed in 0..300 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            assert_distinct(&item);
            assert_eq!(item.choices[item.correct], "Use a hash map.");
            let mut keys: Vec<String> =
                wrong_choices(&item).iter().map(|c| choice_key(c)).collect();
            keys.sort();
            assert_eq!(keys, ["binary search.", "sort first.", "two pointers."]);
        }
    }

    #[test]
    fn distractors_are_preferred_over_other_answers() {
        let target = q("t", "tech", "Right.", &["D1", "D2", "D3", "D4", "D5"]);
        let mut pool = vec![target.clone()];
        for i in 0..20 {
            pool.push(q(&format!("s{i}"), "tech", &format!("Same {i}"), &[]));
        }
        let mut used = HashSet::new();
        for seed in 0..200 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            for w in wrong_choices(&item) {
                assert!(
                    w.starts_with('D'),
                    "bank answer {w:?} used despite distractors"
                );
                used.insert(w);
            }
        }
        // "up to 3 at random": every distractor gets its turn.
        assert_eq!(used.len(), 5, "distractors picked at random: {used:?}");
    }

    #[test]
    fn few_distractors_are_topped_up_with_bank_answers() {
        let target = q("t", "tech", "Right.", &["Only distractor"]);
        let pool = vec![
            q("a", "tech", "Same A", &[]),
            target.clone(),
            q("b", "tech", "Same B", &[]),
            q("c", "tech", "Same C", &[]),
        ];
        for seed in 0..50 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            let wrong = wrong_choices(&item);
            assert!(wrong.contains(&"Only distractor".to_string()), "{wrong:?}");
            assert_eq!(wrong.iter().filter(|w| w.starts_with("Same")).count(), 2);
        }
    }

    #[test]
    fn same_category_before_other_categories() {
        let target = q("t", "tech", "Right.", &[]);
        let mut pool = Vec::new();
        // Other categories come first in bank order, to show order does not decide.
        for i in 0..10 {
            pool.push(q(
                &format!("o{i}"),
                "behavioral",
                &format!("Other {i}"),
                &[],
            ));
        }
        pool.push(target.clone());
        for i in 0..5 {
            pool.push(q(&format!("s{i}"), "tech", &format!("Same {i}"), &[]));
        }
        let mut used = HashSet::new();
        for seed in 0..200 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            for w in wrong_choices(&item) {
                assert!(w.starts_with("Same"), "{w:?} from another category");
                used.insert(w);
            }
        }
        assert_eq!(
            used.len(),
            5,
            "same-category answers picked at random: {used:?}"
        );

        // With only two same-category answers, exactly one comes from elsewhere.
        let small: Vec<Question> = pool
            .iter()
            .filter(|p| !matches!(p.id.as_str(), "s2" | "s3" | "s4"))
            .cloned()
            .collect();
        let mut others = HashSet::new();
        for seed in 0..200 {
            let item = build_item(&target, &small, &mut rng(seed)).unwrap();
            let wrong = wrong_choices(&item);
            assert!(wrong.contains(&"Same 0".to_string()));
            assert!(wrong.contains(&"Same 1".to_string()));
            let other: Vec<_> = wrong.iter().filter(|w| w.starts_with("Other")).collect();
            assert_eq!(other.len(), 1, "{wrong:?}");
            others.insert(other[0].clone());
        }
        assert!(
            others.len() >= 8,
            "other categories picked at random: {others:?}"
        );
    }

    #[test]
    fn only_other_questions_give_answers() {
        // The pool entry with the question's own id is the question itself (here an edited
        // copy with another answer): its answer is never a wrong choice.
        let target = q("t", "tech", "Right.", &[]);
        let mut edited = target.clone();
        edited.answer = "Right, as worded before the edit.".to_string();
        let pool = vec![edited, q("a", "tech", "A", &[]), q("b", "tech", "B", &[])];
        for seed in 0..20 {
            assert_eq!(build_item(&target, &pool, &mut rng(seed)), None);
        }
        let mut pool = pool;
        pool.push(q("c", "other", "C", &[]));
        for seed in 0..20 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            let mut wrong = wrong_choices(&item);
            wrong.sort();
            assert_eq!(wrong, ["A", "B", "C"]);
        }
    }

    #[test]
    fn correct_position_is_uniform() {
        let target = q("t", "tech", "Right.", &["W1", "W2", "W3", "W4"]);
        let pool = vec![target.clone()];
        let mut r = rng(42);
        let mut counts = [0usize; CHOICES];
        let builds = 4000;
        for _ in 0..builds {
            let item = build_item(&target, &pool, &mut r).unwrap();
            counts[item.correct] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let share = c as f64 / builds as f64;
            assert!(
                (0.20..=0.30).contains(&share),
                "position {} got {:.1}% ({counts:?})",
                letter(i),
                share * 100.0
            );
        }
    }

    #[test]
    fn none_when_four_distinct_choices_cannot_be_found() {
        let target = q("t", "tech", "Right.", &["Wrong", "wrong ", "RIGHT."]);
        let pool = vec![
            target.clone(),
            q("a", "tech", "right.", &[]),
            q("b", "other", "Other", &[]),
        ];
        // Distinct wrong choices available: "Wrong", "Other" — two, not three.
        for seed in 0..20 {
            assert_eq!(build_item(&target, &pool, &mut rng(seed)), None);
        }
        // An empty bank and no distractors.
        let lonely = q("l", "tech", "Right.", &[]);
        assert_eq!(build_item(&lonely, &[], &mut rng(0)), None);
        // A blank answer cannot be a correct choice.
        let blank = q("b", "tech", "  ", &["x", "y", "z"]);
        assert_eq!(build_item(&blank, &[], &mut rng(0)), None);
        // One more distinct answer and it works.
        let mut pool = pool;
        pool.push(q("c", "other", "Third", &[]));
        let item = build_item(&target, &pool, &mut rng(0)).unwrap();
        assert_distinct(&item);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let target = q("t", "tech", "Right.", &["D1", "D2"]);
        let mut pool = vec![target.clone()];
        for i in 0..30 {
            let cat = if i % 3 == 0 { "tech" } else { "other" };
            pool.push(q(&format!("p{i}"), cat, &format!("Answer {i}"), &[]));
        }
        for seed in 0..20 {
            let a = build_item(&target, &pool, &mut rng(seed)).unwrap();
            let b = build_item(&target, &pool, &mut rng(seed)).unwrap();
            assert_eq!(a, b, "seed {seed}");
        }
        // And seeds do matter.
        let items: HashSet<[String; CHOICES]> = (0..20)
            .map(|s| build_item(&target, &pool, &mut rng(s)).unwrap().choices)
            .collect();
        assert!(items.len() > 5, "different seeds give different items");
    }

    fn with_quiz_answer(mut q: Question, quiz_answer: &str) -> Question {
        q.quiz_answer = Some(quiz_answer.to_string());
        q
    }

    #[test]
    fn quiz_answer_among_three_of_its_distractors() {
        let target = with_quiz_answer(
            q(
                "t",
                "tech",
                "A long model answer, a paragraph.",
                &["D1", "D2", "D3", "D4", "D5"],
            ),
            "  Right.  ",
        );
        let mut pool = vec![target.clone()];
        for i in 0..10 {
            pool.push(q(&format!("s{i}"), "tech", &format!("Same {i}"), &[]));
        }
        let mut used = HashSet::new();
        let mut positions = [0usize; CHOICES];
        for seed in 0..400 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            assert_eq!(
                item.choices[item.correct], "Right.",
                "the trimmed quiz answer"
            );
            assert_eq!(item.explanation.as_deref(), Some("Because t."));
            assert_distinct(&item);
            for w in wrong_choices(&item) {
                assert!(w.starts_with('D'), "{w:?} is not one of the distractors");
                used.insert(w);
            }
            positions[item.correct] += 1;
        }
        assert_eq!(used.len(), 5, "distractors picked at random: {used:?}");
        assert!(
            positions.iter().all(|&n| n > 60),
            "correct option at a random position: {positions:?}"
        );
    }

    #[test]
    fn quiz_answer_with_exactly_three_distractors() {
        let target = with_quiz_answer(q("t", "tech", "Paragraph.", &["W1", "W2", "W3"]), "Right");
        for seed in 0..50 {
            let item = build_item(&target, &[], &mut rng(seed)).unwrap();
            let mut wrong = wrong_choices(&item);
            wrong.sort();
            assert_eq!(wrong, ["W1", "W2", "W3"]);
            assert_eq!(item.choices[item.correct], "Right");
        }
    }

    #[test]
    fn too_few_usable_distractors_fall_back_to_the_answer() {
        // Three distractors, but one is the quiz answer in other case and spacing, and one is
        // blank: two usable ones are not enough, so the item is the model answer's.
        let target = with_quiz_answer(
            q(
                "t",
                "tech",
                "The model answer.",
                &["W1", " RIGHT ", "  ", "W2"],
            ),
            "right",
        );
        let pool = vec![
            target.clone(),
            q("a", "tech", "Same A", &[]),
            q("b", "tech", "Same B", &[]),
        ];
        for seed in 0..50 {
            let item = build_item(&target, &pool, &mut rng(seed)).unwrap();
            assert_eq!(item.choices[item.correct], "The model answer.");
            assert_distinct(&item);
            // The fallback as before: distractors first, then other answers.
            let wrong = wrong_choices(&item);
            assert!(wrong.contains(&"W1".to_string()), "{wrong:?}");
            assert!(wrong.contains(&"W2".to_string()), "{wrong:?}");
        }
        // A blank quiz answer is no quiz answer.
        let blank = with_quiz_answer(q("b", "tech", "Answer.", &["x", "y", "z"]), " ");
        let item = build_item(&blank, &[], &mut rng(0)).unwrap();
        assert_eq!(item.choices[item.correct], "Answer.");
    }

    #[test]
    fn works_with_a_dyn_rng() {
        let target = q("t", "tech", "Right.", &["W1", "W2", "W3"]);
        let mut r = rng(5);
        let dyn_rng: &mut dyn rand::RngCore = &mut r;
        assert!(build_item(&target, &[], dyn_rng).is_some());
    }
}
