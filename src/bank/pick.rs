//! Choosing questions: filters, and a shuffle-bag per scope so nothing repeats too soon.
//!
//! A scope is whatever should not see repeats: a channel for `/ask`, a guild for the daily
//! post. Its [`BagState`] is plain data (ids already used in the current cycle) so the store
//! can persist it; drawing is pure and deterministic for a seeded RNG.
//!
//! The bag records what was *used* rather than a pre-shuffled order of what is left. Drawing
//! uniformly from "matching and not yet used" is the same distribution as a shuffled cycle,
//! and it stays correct when a scope is used with different filters or the bank changes under
//! it (removed questions are ignored, new ones join the current cycle).

use std::collections::HashSet;

use rand::seq::IndexedRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Bank, Difficulty, Question};

/// Which questions qualify. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Filter {
    pub fn matches(&self, q: &Question) -> bool {
        self.category.as_ref().is_none_or(|c| &q.category == c)
            && self.tag.as_ref().is_none_or(|t| q.has_tag(t))
            && self.difficulty.is_none_or(|d| q.difficulty == Some(d))
            && self.id.as_ref().is_none_or(|i| &q.id == i)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// A short human description, e.g. "category technical, difficulty hard".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.category {
            parts.push(format!("category {c}"));
        }
        if let Some(t) = &self.tag {
            parts.push(format!("tag {t}"));
        }
        if let Some(d) = self.difficulty {
            parts.push(format!("difficulty {d}"));
        }
        if let Some(i) = &self.id {
            parts.push(format!("id {i}"));
        }
        if parts.is_empty() {
            "any question".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The persisted state of one scope's shuffle-bag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BagState {
    /// Ids drawn in the current cycle, oldest first.
    #[serde(default)]
    pub used: Vec<String>,
    /// The last id drawn, so a new cycle does not start with the question that ended the last.
    #[serde(default)]
    pub last: Option<String>,
    /// How many cycles were completed.
    #[serde(default)]
    pub cycle: u32,
}

/// The outcome of a draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw<'a> {
    pub question: &'a Question,
    /// This draw began a new cycle (every matching question had been used).
    pub new_cycle: bool,
}

impl BagState {
    /// Draws one question matching `filter`, never one used in this cycle while unused ones
    /// remain. `None` only when nothing in the bank matches.
    pub fn draw<'a, R: Rng + ?Sized>(
        &mut self,
        bank: &'a Bank,
        filter: &Filter,
        rng: &mut R,
    ) -> Option<Draw<'a>> {
        // Forget questions that left the bank, so the state cannot grow without bound.
        self.used.retain(|id| bank.get(id).is_some());
        let candidates: Vec<&Question> = bank.matching(filter).collect();
        if candidates.is_empty() {
            return None;
        }
        let used: HashSet<&str> = self.used.iter().map(String::as_str).collect();
        let mut fresh: Vec<&Question> = candidates
            .iter()
            .copied()
            .filter(|q| !used.contains(q.id.as_str()))
            .collect();
        let new_cycle = fresh.is_empty();
        if new_cycle {
            let ids: HashSet<&str> = candidates.iter().map(|q| q.id.as_str()).collect();
            self.used.retain(|id| !ids.contains(id.as_str()));
            self.cycle = self.cycle.saturating_add(1);
            fresh = candidates;
            if fresh.len() > 1 {
                fresh.retain(|q| Some(&q.id) != self.last.as_ref());
            }
        }
        let question = *fresh.choose(rng)?;
        self.used.push(question.id.clone());
        self.last = Some(question.id.clone());
        Some(Draw {
            question,
            new_cycle,
        })
    }

    /// How many matching questions are left before the cycle restarts.
    pub fn remaining(&self, bank: &Bank, filter: &Filter) -> usize {
        let used: HashSet<&str> = self.used.iter().map(String::as_str).collect();
        bank.matching(filter)
            .filter(|q| !used.contains(q.id.as_str()))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn q(id: &str, category: &str, tags: &[&str], d: Option<Difficulty>) -> Question {
        Question {
            id: id.into(),
            category: category.into(),
            question: format!("Q {id}?"),
            answer: format!("A {id}."),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            difficulty: d,
            distractors: vec![],
            explanation: None,
            key_points: vec![],
            follow_ups: vec![],
            quiz_answer: None,
        }
    }

    fn bank() -> Bank {
        Bank::from_questions(
            vec![
                q("a", "technical", &["databases"], Some(Difficulty::Easy)),
                q("b", "technical", &["apis"], Some(Difficulty::Hard)),
                q(
                    "c",
                    "technical",
                    &["databases", "performance"],
                    Some(Difficulty::Medium),
                ),
                q("d", "behavioral", &["teamwork"], None),
                q("e", "behavioral", &[], Some(Difficulty::Easy)),
            ],
            vec![],
        )
    }

    #[test]
    fn matching_looks_up_what_a_scan_finds_in_bank_order() {
        let bank = bank();
        let cats = [None, Some("technical"), Some("behavioral"), Some("nope")];
        let tags = [None, Some("databases"), Some("teamwork"), Some("nope")];
        let diffs = [None, Some(Difficulty::Easy), Some(Difficulty::Medium)];
        let ids = [None, Some("c"), Some("d"), Some("nope")];
        for c in cats {
            for t in tags {
                for d in diffs {
                    for i in ids {
                        let f = Filter {
                            category: c.map(Into::into),
                            tag: t.map(Into::into),
                            difficulty: d,
                            id: i.map(Into::into),
                        };
                        let found: Vec<&str> = bank.matching(&f).map(|q| q.id.as_str()).collect();
                        let scan: Vec<&str> = bank
                            .questions()
                            .iter()
                            .filter(|q| f.matches(q))
                            .map(|q| q.id.as_str())
                            .collect();
                        assert_eq!(found, scan, "{f:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_repeats_until_exhausted_then_new_cycle() {
        let bank = bank();
        let mut bag = BagState::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut seen = HashSet::new();
        for _ in 0..5 {
            let d = bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
            assert!(!d.new_cycle);
            assert!(seen.insert(d.question.id.clone()), "repeat within a cycle");
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(bag.remaining(&bank, &Filter::default()), 0);
        let last = bag.last.clone();
        let d = bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
        assert!(d.new_cycle);
        assert_ne!(
            Some(&d.question.id),
            last.as_ref(),
            "new cycle repeated the last question"
        );
        assert_eq!(bag.cycle, 1);
        assert_eq!(bag.remaining(&bank, &Filter::default()), 4);
    }

    #[test]
    fn every_cycle_is_a_permutation() {
        let bank = bank();
        let mut bag = BagState::default();
        let mut rng = StdRng::seed_from_u64(99);
        for _ in 0..20 {
            let mut ids: Vec<String> = (0..5)
                .map(|_| {
                    bag.draw(&bank, &Filter::default(), &mut rng)
                        .unwrap()
                        .question
                        .id
                        .clone()
                })
                .collect();
            ids.sort();
            assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        }
    }

    #[test]
    fn filters_restrict_candidates() {
        let bank = bank();
        let f = Filter {
            category: Some("technical".into()),
            tag: Some("databases".into()),
            ..Filter::default()
        };
        let ids: Vec<_> = bank.matching(&f).map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
        let f = Filter {
            difficulty: Some(Difficulty::Easy),
            ..Filter::default()
        };
        let ids: Vec<_> = bank.matching(&f).map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids,
            ["a", "e"],
            "unrated questions never match a difficulty"
        );
        let f = Filter {
            id: Some("d".into()),
            ..Filter::default()
        };
        let mut bag = BagState::default();
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..3 {
            assert_eq!(bag.draw(&bank, &f, &mut rng).unwrap().question.id, "d");
        }
        let none = Filter {
            category: Some("nope".into()),
            ..Filter::default()
        };
        assert!(bag.draw(&bank, &none, &mut rng).is_none());
    }

    #[test]
    fn filtered_draws_share_the_scope_cycle() {
        let bank = bank();
        let mut bag = BagState::default();
        let mut rng = StdRng::seed_from_u64(3);
        let tech = Filter {
            category: Some("technical".into()),
            ..Filter::default()
        };
        let first = bag
            .draw(&bank, &tech, &mut rng)
            .unwrap()
            .question
            .id
            .clone();
        // An unfiltered draw in the same scope must not hand out the technical one again
        // until the rest is used.
        for _ in 0..4 {
            let d = bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
            assert_ne!(d.question.id, first);
        }
    }

    #[test]
    fn deterministic_under_seed() {
        let bank = bank();
        let run = |seed| {
            let mut bag = BagState::default();
            let mut rng = StdRng::seed_from_u64(seed);
            (0..12)
                .map(|_| {
                    bag.draw(&bank, &Filter::default(), &mut rng)
                        .unwrap()
                        .question
                        .id
                        .clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn removed_questions_are_forgotten_and_new_ones_join() {
        let bank = bank();
        let mut bag = BagState {
            used: vec!["a".into(), "gone".into()],
            last: Some("gone".into()),
            cycle: 0,
        };
        let mut rng = StdRng::seed_from_u64(5);
        let d = bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
        assert_ne!(d.question.id, "a");
        assert!(!bag.used.contains(&"gone".to_string()));
    }

    #[test]
    fn state_round_trips_through_json() {
        let bag = BagState {
            used: vec!["x".into()],
            last: Some("x".into()),
            cycle: 3,
        };
        let json = serde_json::to_string(&bag).unwrap();
        assert_eq!(serde_json::from_str::<BagState>(&json).unwrap(), bag);
        assert_eq!(
            serde_json::from_str::<BagState>("{}").unwrap(),
            BagState::default()
        );
    }
}
