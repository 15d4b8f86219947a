//! Choosing questions: filters, and a shuffle-bag per scope so nothing repeats too soon.
//!
//! A scope is whatever should not see repeats: a channel for `/ask`, a guild for the daily
//! post. Its [`BagState`] is plain data (fingerprints of the ids already used in the current
//! cycle) so the store can persist it; drawing is pure and deterministic for a seeded RNG.
//!
//! The bag records what was *used* rather than a pre-shuffled order of what is left. Drawing
//! uniformly from "matching and not yet used" is the same distribution as a shuffled cycle,
//! and it stays correct when a scope is used with different filters or the bank changes under
//! it (removed questions are ignored, new ones join the current cycle).

use std::hash::Hasher;

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

/// A question id's 32-bit fingerprint (FNV-1a), as a bag records it. Stable across builds
/// and platforms, unlike std's hasher, because bags are persisted. Two ids of one bank may
/// share one (for a 100,000-question bank, a few pairs do): the cost is that one of them may
/// wait for the next cycle, never a repeat.
pub fn fingerprint(id: &str) -> u32 {
    let mut h = fnv::FnvHasher::default();
    h.write(id.as_bytes());
    h.finish() as u32
}

/// The persisted state of one scope's shuffle-bag.
///
/// Which questions the current cycle used is kept as sorted [`fingerprint`]s, not ids: a
/// draw reads and rewrites the whole state, and over a cycle of a big filtered bank (800 of
/// 100,000 questions, say) a list of ids grew to 20 KiB of JSON per draw, parsed, hashed and
/// written back each time. Fingerprints are 4 bytes each, compared without allocating.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Wire", into = "Wire")]
pub struct BagState {
    /// Fingerprints of the questions drawn in the current cycle, sorted.
    used: Vec<u32>,
    /// The last id drawn, so a new cycle does not start with the question that ended the last.
    pub last: Option<String>,
    /// How many cycles were completed.
    pub cycle: u32,
}

/// [`BagState`] as stored: JSON with the fingerprints as base64 of little-endian `u32`s
/// (`seen`). States written before fingerprints list ids (`used`); they are read as their
/// fingerprints and written in the new form.
#[derive(Default, Serialize, Deserialize)]
struct Wire {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    used: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    seen: String,
    #[serde(default)]
    last: Option<String>,
    #[serde(default)]
    cycle: u32,
}

impl From<Wire> for BagState {
    fn from(w: Wire) -> Self {
        use base64::Engine as _;
        // Undecodable bytes only cost the cycle's memory, as a corrupt state does.
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(w.seen.as_bytes())
            .unwrap_or_default();
        let mut used: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .chain(w.used.iter().map(|id| fingerprint(id)))
            .collect();
        used.sort_unstable();
        used.dedup();
        BagState {
            used,
            last: w.last,
            cycle: w.cycle,
        }
    }
}

impl From<BagState> for Wire {
    fn from(b: BagState) -> Self {
        use base64::Engine as _;
        let bytes: Vec<u8> = b.used.iter().flat_map(|fp| fp.to_le_bytes()).collect();
        Wire {
            used: Vec::new(),
            seen: base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
            last: b.last,
            cycle: b.cycle,
        }
    }
}

/// The outcome of a draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draw<'a> {
    pub question: &'a Question,
    /// This draw began a new cycle (every matching question had been used).
    pub new_cycle: bool,
}

impl BagState {
    /// Whether question `id` was drawn in the current cycle.
    pub fn is_used(&self, id: &str) -> bool {
        self.has(fingerprint(id))
    }

    /// Records question `id` as drawn in the current cycle.
    pub fn mark_used(&mut self, id: &str) {
        self.mark(fingerprint(id));
    }

    fn has(&self, fp: u32) -> bool {
        self.used.binary_search(&fp).is_ok()
    }

    fn mark(&mut self, fp: u32) {
        if let Err(at) = self.used.binary_search(&fp) {
            self.used.insert(at, fp);
        }
    }

    /// How many questions the current cycle has used.
    pub fn used_count(&self) -> usize {
        self.used.len()
    }

    /// Starts a new cycle for every question.
    pub fn forget_used(&mut self) {
        self.used.clear();
    }

    /// Draws one question matching `filter`, never one used in this cycle while unused ones
    /// remain. `None` only when nothing in the bank matches.
    pub fn draw<'a, R: Rng + ?Sized>(
        &mut self,
        bank: &'a Bank,
        filter: &Filter,
        rng: &mut R,
    ) -> Option<Draw<'a>> {
        // Forget questions that left the bank, so the state cannot grow without bound.
        self.used.retain(|fp| bank.has_fingerprint(*fp));
        // Positions, not questions: only the one drawn is read (see `Bank::matching_at`).
        let candidates: Vec<usize> = bank.matching_at(filter).collect();
        if candidates.is_empty() {
            return None;
        }
        let mut fresh: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| !self.has(bank.fingerprint_at(i)))
            .collect();
        let new_cycle = fresh.is_empty();
        if new_cycle {
            let mut ids: Vec<u32> = candidates.iter().map(|&i| bank.fingerprint_at(i)).collect();
            ids.sort_unstable();
            self.used.retain(|fp| ids.binary_search(fp).is_err());
            self.cycle = self.cycle.saturating_add(1);
            fresh = candidates;
            if fresh.len() > 1 {
                let last = self.last.as_deref().and_then(|id| bank.position(id));
                fresh.retain(|&i| Some(i) != last);
            }
        }
        let at = *fresh.choose(rng)?;
        let question = &bank.questions()[at];
        self.mark(bank.fingerprint_at(at));
        self.last = Some(question.id.clone());
        Some(Draw {
            question,
            new_cycle,
        })
    }

    /// How many matching questions are left before the cycle restarts.
    pub fn remaining(&self, bank: &Bank, filter: &Filter) -> usize {
        bank.matching_at(filter)
            .filter(|&i| !self.has(bank.fingerprint_at(i)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::collections::HashSet;

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
            last: Some("gone".into()),
            ..BagState::default()
        };
        bag.mark_used("a");
        bag.mark_used("gone");
        bag.mark_used("gone");
        assert_eq!(bag.used_count(), 2);
        let mut rng = StdRng::seed_from_u64(5);
        let d = bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
        assert_ne!(d.question.id, "a");
        assert!(!bag.is_used("gone"));
        assert_eq!(bag.used_count(), 2, "a, and the one just drawn");
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut bag = BagState {
            last: Some("x".into()),
            cycle: 3,
            ..BagState::default()
        };
        bag.mark_used("x");
        let json = serde_json::to_string(&bag).unwrap();
        assert_eq!(serde_json::from_str::<BagState>(&json).unwrap(), bag);
        assert_eq!(
            serde_json::from_str::<BagState>("{}").unwrap(),
            BagState::default()
        );
    }

    #[test]
    fn state_round_trips_and_reads_the_older_list_of_ids() {
        let bank = bank();
        let mut bag = BagState::default();
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..3 {
            bag.draw(&bank, &Filter::default(), &mut rng).unwrap();
        }
        let json = serde_json::to_string(&bag).unwrap();
        assert!(!json.contains("\"used\""), "{json}");
        let back: BagState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bag);
        assert_eq!(back.used_count(), 3);

        // A state written by an earlier version: ids, not fingerprints.
        let old: BagState =
            serde_json::from_str(r#"{"used":["a","c","c"],"last":"c","cycle":2}"#).unwrap();
        assert!(old.is_used("a") && old.is_used("c") && !old.is_used("b"));
        assert_eq!(
            (old.used_count(), old.cycle, old.last.as_deref()),
            (2, 2, Some("c"))
        );
        assert_eq!(old.remaining(&bank, &Filter::default()), 3);
        // Garbage in `seen` costs the cycle's memory, nothing else.
        let bad: BagState = serde_json::from_str(r#"{"seen":"!!","cycle":1}"#).unwrap();
        assert_eq!((bad.used_count(), bad.cycle), (0, 1));
    }

    #[test]
    fn fingerprints_are_fixed() {
        // Persisted: a change would make every stored bag forget its cycle.
        assert_eq!(fingerprint(""), 0x84222325);
        assert_eq!(fingerprint("a"), 0x8601ec8c);
    }
}
