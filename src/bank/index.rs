//! Lookups over a loaded bank, built once at load so that neither a draw nor a keystroke of
//! autocomplete scans every question: categories and tags with the questions that have each,
//! ids in sorted order for prefix search, and one lowercase search text of ids and question
//! texts for substring search.
//!
//! In a bank of 100,000 questions a scan per keystroke (lowercasing every question text) took
//! tens of milliseconds; these lookups answer in well under one.

use std::collections::HashMap;

use memchr::memmem;

use super::Question;

/// Positions are `u32`: a bank holds far fewer than 4 G questions or bytes of search text
/// (bank files are at most 16 MiB each, and a bank of 100,000 questions is ~10 MiB of it).
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Categories in the order they first appear, with the positions of their questions.
    categories: Vec<(String, Vec<u32>)>,
    category_at: HashMap<String, usize>,
    /// Tags, sorted, with the positions of their questions.
    tags: Vec<(String, Vec<u32>)>,
    tag_at: HashMap<String, usize>,
    /// Question positions in the order of their ids.
    by_id: Vec<u32>,
    /// Every id, then every question text, lowercased, each followed by a `\n`, in bank order.
    ids_text: String,
    questions_text: String,
    /// Where question `i`'s id (question text) starts in `ids_text` (`questions_text`), with
    /// one more entry for the end.
    id_starts: Vec<u32>,
    question_starts: Vec<u32>,
}

/// How a question matched a search, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    IdPrefix,
    IdContains,
    QuestionContains,
}

impl Index {
    pub fn new(questions: &[Question]) -> Index {
        let mut index = Index::default();
        let mut tags: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut ids_text = String::new();
        let mut questions_text = String::new();
        for (i, q) in questions.iter().enumerate() {
            let i = i as u32;
            match index.category_at.get(&q.category) {
                Some(&c) => index.categories[c].1.push(i),
                None => {
                    index
                        .category_at
                        .insert(q.category.clone(), index.categories.len());
                    index.categories.push((q.category.clone(), vec![i]));
                }
            }
            for t in &q.tags {
                let list = tags.entry(t).or_default();
                // A tag written twice on one question lists it once.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            index.id_starts.push(ids_text.len() as u32);
            ids_text.push_str(&q.id.to_lowercase());
            ids_text.push('\n');
            index.question_starts.push(questions_text.len() as u32);
            questions_text.push_str(&q.question.to_lowercase());
            questions_text.push('\n');
        }
        index.id_starts.push(ids_text.len() as u32);
        index.question_starts.push(questions_text.len() as u32);
        let mut tags: Vec<(String, Vec<u32>)> =
            tags.into_iter().map(|(t, l)| (t.to_string(), l)).collect();
        tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        index.tag_at = tags
            .iter()
            .enumerate()
            .map(|(k, (t, _))| (t.clone(), k))
            .collect();
        index.tags = tags;
        let mut by_id: Vec<u32> = (0..questions.len() as u32).collect();
        by_id.sort_unstable_by(|&a, &b| questions[a as usize].id.cmp(&questions[b as usize].id));
        index.by_id = by_id;
        index.ids_text = ids_text;
        index.questions_text = questions_text;
        index
    }

    /// Categories in the order they first appear in the bank.
    pub fn categories(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|(c, _)| c.as_str())
    }

    /// Tags, sorted.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(|(t, _)| t.as_str())
    }

    /// Positions of the questions of `category`, ascending (empty for an unknown one).
    pub fn in_category(&self, category: &str) -> &[u32] {
        self.category_at
            .get(category)
            .map_or(&[], |&c| &self.categories[c].1)
    }

    /// Positions of the questions tagged `tag`, ascending (empty for an unknown one).
    pub fn with_tag(&self, tag: &str) -> &[u32] {
        self.tag_at.get(tag).map_or(&[], |&t| &self.tags[t].1)
    }

    /// Up to `limit` questions whose id or question text contains `needle` (compared
    /// lowercase): ids starting with it first, then ids containing it, then question texts
    /// containing it, each in bank order, as positions with how they matched. An empty
    /// needle matches every id.
    pub fn search(&self, questions: &[Question], needle: &str, limit: usize) -> Vec<(u32, Rank)> {
        let needle = needle.to_lowercase();
        let mut out: Vec<(u32, Rank)> = Vec::with_capacity(limit);
        if limit == 0 {
            return out;
        }
        // Ids starting with the needle are one range of the sorted ids; the `limit` first of
        // them in bank order are its smallest positions.
        let from = self
            .by_id
            .partition_point(|&i| questions[i as usize].id.as_str() < needle.as_str());
        let len = self.by_id[from..]
            .partition_point(|&i| questions[i as usize].id.starts_with(needle.as_str()));
        let mut prefixed: Vec<u32> = self.by_id[from..from + len].to_vec();
        if prefixed.len() > limit {
            prefixed.select_nth_unstable(limit - 1);
            prefixed.truncate(limit);
        }
        prefixed.sort_unstable();
        out.extend(prefixed.into_iter().map(|i| (i, Rank::IdPrefix)));
        if needle.is_empty() {
            return out;
        }
        let finder = memmem::Finder::new(needle.as_bytes());
        // Ids containing the needle, except those listed for starting with it.
        let (ids, id_starts) = (self.ids_text.as_bytes(), &self.id_starts);
        let elsewhere =
            |entry: usize, _| !ids[id_starts[entry] as usize..].starts_with(needle.as_bytes());
        scan(
            &finder,
            &self.ids_text,
            id_starts,
            elsewhere,
            limit,
            &mut out,
            Rank::IdContains,
        );
        // Question texts, except questions already listed for their id.
        let listed: Vec<u32> = out.iter().map(|(i, _)| *i).collect();
        let unlisted = |entry: usize, _| !listed.contains(&(entry as u32));
        let (text, starts) = (&self.questions_text, &self.question_starts);
        scan(
            &finder,
            text,
            starts,
            unlisted,
            limit,
            &mut out,
            Rank::QuestionContains,
        );
        out
    }
}

/// Adds the entries of `text` (which start at `starts`) that have a match that
/// `accept(entry, match position)` takes, in bank order, until `out` holds `limit`. A match
/// must lie within one entry: an entry's text may itself contain the separator `\n`.
fn scan(
    finder: &memmem::Finder<'_>,
    text: &str,
    starts: &[u32],
    accept: impl Fn(usize, usize) -> bool,
    limit: usize,
    out: &mut Vec<(u32, Rank)>,
    rank: Rank,
) {
    let needle_len = finder.needle().len();
    let mut last = None;
    for at in finder.find_iter(text.as_bytes()) {
        if out.len() >= limit {
            break;
        }
        let entry = starts.partition_point(|&s| s as usize <= at) - 1;
        // `starts[entry + 1]` is one past the entry's closing `\n`.
        let end = starts[entry + 1] as usize;
        if at + needle_len >= end || last == Some(entry) || !accept(entry, at) {
            continue;
        }
        last = Some(entry);
        out.push((entry as u32, rank));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, category: &str, tags: &[&str], question: &str) -> Question {
        Question {
            id: id.into(),
            category: category.into(),
            question: question.into(),
            answer: "a".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            difficulty: None,
            distractors: vec![],
            explanation: None,
            key_points: vec![],
            follow_ups: vec![],
            quiz_answer: None,
        }
    }

    fn bank() -> Vec<Question> {
        vec![
            q("b-tree", "databases", &["indexes"], "What is a B-tree?"),
            q(
                "acid",
                "transactions",
                &["sql", "sql"],
                "What does ACID mean?",
            ),
            q("index-index", "transactions", &[], "Twice?"),
            q(
                "index-types",
                "databases",
                &["indexes", "sql"],
                "Which kinds exist?",
            ),
            q(
                "lsm",
                "databases",
                &[],
                "When does an Index beat an LSM tree?",
            ),
            q(
                "database-indexing",
                "performance",
                &["sql"],
                "Why index a table?",
            ),
        ]
    }

    #[test]
    fn categories_and_tags_list_their_questions_in_bank_order() {
        let qs = bank();
        let ix = Index::new(&qs);
        assert_eq!(
            ix.categories().collect::<Vec<_>>(),
            ["databases", "transactions", "performance"]
        );
        assert_eq!(ix.in_category("databases"), [0, 3, 4]);
        assert_eq!(ix.in_category("transactions"), [1, 2]);
        assert_eq!(ix.in_category("nope"), [] as [u32; 0]);
        assert_eq!(ix.tags().collect::<Vec<_>>(), ["indexes", "sql"]);
        assert_eq!(ix.with_tag("sql"), [1, 3, 5]);
        assert_eq!(ix.with_tag("indexes"), [0, 3]);
    }

    #[test]
    fn search_ranks_id_prefix_then_id_then_question_text() {
        let qs = bank();
        let ix = Index::new(&qs);
        let found = ix.search(&qs, "Index", 25);
        assert_eq!(
            found,
            [
                (2, Rank::IdPrefix),
                (3, Rank::IdPrefix),
                (5, Rank::IdContains),
                (4, Rank::QuestionContains)
            ]
        );
        // A question matching by id and by text is listed once, for its id.
        assert_eq!(ix.search(&qs, "acid", 25), [(1, Rank::IdPrefix)]);
        assert!(ix.search(&qs, "zzz", 25).is_empty());
        // A match may not run from one entry into the next.
        assert!(ix.search(&qs, "b-tree?\nwhat", 25).is_empty());
        assert!(ix.search(&qs, "tree\nacid", 25).is_empty());
    }

    #[test]
    fn search_caps_at_the_limit_keeping_bank_order() {
        let qs: Vec<Question> = (0..300)
            .rev()
            .map(|i| q(&format!("q{i:03}"), "c", &[], "same text"))
            .collect();
        let ix = Index::new(&qs);
        // Every id starts with "q": the limit first in bank order, not in id order.
        let found = ix.search(&qs, "q", 25);
        assert_eq!(found.len(), 25);
        assert_eq!(
            found.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..25).collect::<Vec<u32>>()
        );
        assert_eq!(ix.search(&qs, "", 3).len(), 3);
        let text = ix.search(&qs, "same", 10);
        assert_eq!(text.len(), 10);
        assert!(text.iter().all(|(_, r)| *r == Rank::QuestionContains));
        assert!(ix.search(&qs, "q", 0).is_empty());
    }

    #[test]
    fn search_agrees_with_a_scan() {
        // The reference: what a scan of every question finds, in the same order.
        let qs: Vec<Question> = (0..200)
            .map(|i| {
                q(
                    &format!("{}-{i}", ["index", "cache", "queue-index"][i % 3]),
                    "c",
                    &[],
                    &format!("Question {i} about an INDEX or a cache"),
                )
            })
            .collect();
        let ix = Index::new(&qs);
        for needle in [
            "",
            "ind",
            "index",
            "cache",
            "x-1",
            "about",
            "17",
            "zz",
            "queue-index-2",
        ] {
            let p = needle.to_lowercase();
            let mut scan: Vec<(u32, Rank)> = qs
                .iter()
                .enumerate()
                .filter_map(|(i, q)| {
                    let rank = if q.id.starts_with(&p) {
                        Rank::IdPrefix
                    } else if q.id.contains(&p) {
                        Rank::IdContains
                    } else if q.question.to_lowercase().contains(&p) {
                        Rank::QuestionContains
                    } else {
                        return None;
                    };
                    Some((i as u32, rank))
                })
                .collect();
            scan.sort_by_key(|(_, r)| *r);
            scan.truncate(25);
            assert_eq!(ix.search(&qs, needle, 25), scan, "needle {needle:?}");
        }
    }
}
