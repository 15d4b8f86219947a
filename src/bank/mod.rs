//! The question bank: the model, loading with `path:line:col:` diagnostics, lints, and
//! picking.
//!
//! A [`Bank`] is immutable once loaded; a reload builds a new one and swaps it in only when it
//! loaded cleanly, so the old bank keeps serving while an author fixes mistakes.

pub mod index;
pub mod lint;
pub mod load;
pub mod model;
pub mod pick;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use index::Rank;
pub use load::Diagnostic;
pub use model::{Difficulty, Question};
pub use pick::{BagState, Filter};

/// A loaded, validated set of questions.
#[derive(Clone, Debug, Default)]
pub struct Bank {
    questions: Vec<Question>,
    index: std::collections::HashMap<String, usize>,
    /// Categories, tags and search text, so draws and autocomplete do not scan the bank.
    lookup: index::Index,
    /// Every question's [`pick::fingerprint`], sorted: a bag forgets the ones not in here.
    fingerprints: Vec<u32>,
    /// By position: each question's fingerprint and difficulty, dense, for draws that do not
    /// touch the questions (see [`Bank::matching_at`]).
    fingerprint_at: Vec<u32>,
    difficulty: Vec<Option<Difficulty>>,
    files: Vec<PathBuf>,
}

/// Reads and parses `files` on up to one thread per core, each thread taking the next file
/// when done with one; results in file order. A bank split into many files (100,000
/// questions in 50) loads in about half the time on two cores.
fn parse_files(files: &[PathBuf]) -> Vec<(Vec<load::Located>, Vec<Diagnostic>)> {
    let parse = |file: &PathBuf| match load::read_file(file) {
        Ok(text) => load::parse_text(file, &text),
        Err(d) => (Vec::new(), vec![d]),
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    if threads <= 1 {
        return files.iter().map(parse).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, _)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else {
                            return mine;
                        };
                        mine.push((i, parse(file)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, parsed)| parsed).collect()
}

/// Why a bank could not be loaded: every problem found, in file order.
#[derive(Clone, Debug)]
pub struct BankError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "{n} problem{} in the question bank; fix {} and run `prepbot check` again",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        )
    }
}

impl std::error::Error for BankError {}

impl Bank {
    /// Loads every file named in `paths`; a directory contributes its `*.toml` files in name
    /// order. Fails with every problem of every file.
    pub fn load(paths: &[PathBuf]) -> Result<Bank, BankError> {
        let (located, files) = Self::read(paths)?;
        Ok(Self::from_located(located, files))
    }

    /// Loads like [`Bank::load`] and lints the bank: for `prepbot check`. The bot itself does
    /// not lint, so a reload stays fast whatever the bank's size.
    pub fn check(paths: &[PathBuf]) -> Result<(Bank, lint::Report), BankError> {
        let (located, files) = Self::read(paths)?;
        let report = lint::lint(&located);
        Ok((Self::from_located(located, files), report))
    }

    fn read(paths: &[PathBuf]) -> Result<(Vec<load::Located>, Vec<PathBuf>), BankError> {
        let mut diagnostics = Vec::new();
        let files = expand_paths(paths, &mut diagnostics);
        let mut located = Vec::new();
        for (qs, diags) in parse_files(&files) {
            located.extend(qs);
            diagnostics.extend(diags);
        }
        Self::validate(located, files, diagnostics)
    }

    /// Builds a bank from in-memory files `(path, text)`; used by tests.
    pub fn from_texts<'a>(
        files: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<Bank, BankError> {
        let mut diagnostics = Vec::new();
        let mut located = Vec::new();
        let mut names = Vec::new();
        for (path, text) in files {
            let (qs, diags) = load::parse_text(path, text);
            located.extend(qs);
            diagnostics.extend(diags);
            names.push(path.to_path_buf());
        }
        let (located, files) = Self::validate(located, names, diagnostics)?;
        Ok(Self::from_located(located, files))
    }

    /// The checks across files (duplicate ids, an empty bank), then every problem or the
    /// questions.
    fn validate(
        located: Vec<load::Located>,
        files: Vec<PathBuf>,
        mut diagnostics: Vec<Diagnostic>,
    ) -> Result<(Vec<load::Located>, Vec<PathBuf>), BankError> {
        diagnostics.extend(load::check_duplicates(&located));
        if located.is_empty() && diagnostics.is_empty() {
            for f in &files {
                diagnostics.push(Diagnostic {
                    path: f.clone(),
                    line: 1,
                    col: 1,
                    message: "the bank is empty: add at least one `[[question]]` entry with \
                              id, category, question and answer"
                        .into(),
                });
            }
            if files.is_empty() {
                diagnostics.push(Diagnostic {
                    path: PathBuf::from("bank.paths"),
                    line: 1,
                    col: 1,
                    message: "no bank files found: point `bank.paths` at a questions.toml \
                              or a directory of *.toml files"
                        .into(),
                });
            }
        }
        if !diagnostics.is_empty() {
            return Err(BankError { diagnostics });
        }
        Ok((located, files))
    }

    fn from_located(located: Vec<load::Located>, files: Vec<PathBuf>) -> Bank {
        Bank::from_questions(located.into_iter().map(|l| l.question).collect(), files)
    }

    /// A bank from questions that are already valid (ids unique).
    pub fn from_questions(questions: Vec<Question>, files: Vec<PathBuf>) -> Bank {
        let index = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id.clone(), i))
            .collect();
        let fingerprint_at: Vec<u32> = questions.iter().map(|q| pick::fingerprint(&q.id)).collect();
        let mut fingerprints = fingerprint_at.clone();
        fingerprints.sort_unstable();
        Bank {
            lookup: index::Index::new(&questions),
            fingerprints,
            fingerprint_at,
            difficulty: questions.iter().map(|q| q.difficulty).collect(),
            questions,
            index,
            files,
        }
    }

    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    pub fn len(&self) -> usize {
        self.questions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.questions.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Question> {
        self.index.get(id).map(|&i| &self.questions[i])
    }

    /// Whether some question's id has this [`pick::fingerprint`].
    fn has_fingerprint(&self, fp: u32) -> bool {
        self.fingerprints.binary_search(&fp).is_ok()
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Categories in the order they first appear in the bank.
    pub fn categories(&self) -> Vec<&str> {
        self.lookup.categories().collect()
    }

    /// All tags, sorted.
    pub fn tags(&self) -> Vec<&str> {
        self.lookup.tags().collect()
    }

    /// Number of questions per category, in bank order.
    pub fn count_by_category(&self) -> Vec<(&str, usize)> {
        self.lookup
            .categories()
            .map(|c| (c, self.lookup.in_category(c).len()))
            .collect()
    }

    /// Number of questions per difficulty (`None` = not rated).
    pub fn count_by_difficulty(&self) -> BTreeMap<Option<Difficulty>, usize> {
        let mut out = BTreeMap::new();
        for q in &self.questions {
            *out.entry(q.difficulty).or_insert(0) += 1;
        }
        out
    }

    /// How many questions have each optional field, in the order of the format's docs.
    pub fn optional_field_counts(&self) -> [(&'static str, usize); 7] {
        let n = |has: fn(&Question) -> bool| self.questions.iter().filter(|q| has(q)).count();
        [
            ("key_points", n(|q| !q.key_points.is_empty())),
            ("follow_ups", n(|q| !q.follow_ups.is_empty())),
            ("quiz_answer", n(|q| q.quiz_answer.is_some())),
            ("distractors", n(|q| !q.distractors.is_empty())),
            ("explanation", n(|q| q.explanation.is_some())),
            ("tags", n(|q| !q.tags.is_empty())),
            ("difficulty", n(|q| q.difficulty.is_some())),
        ]
    }

    /// The questions matching `filter`, in bank order. Only the questions of the filter's id,
    /// category or tag (the fewest of them) are looked at, not the whole bank.
    pub fn matching<'a, 'f>(
        &'a self,
        filter: &'f Filter,
    ) -> impl Iterator<Item = &'a Question> + use<'a, 'f> {
        self.matching_at(filter).map(|i| &self.questions[i])
    }

    /// The positions of the questions matching `filter`, in bank order. Candidates come from
    /// the narrowest of the filter's id, category and tag, and are checked against the rest
    /// in the index's position lists and a dense array of difficulties, never in the
    /// questions themselves: on a 100,000-question bank a category's 2,500 questions lie all
    /// over memory, and reading each one's fields was a cache miss or two apiece.
    pub fn matching_at<'a, 'f>(
        &'a self,
        filter: &'f Filter,
    ) -> impl Iterator<Item = usize> + use<'a, 'f> {
        let by_id = filter.id.as_deref().map(|id| self.index.get(id).copied());
        let category = filter
            .category
            .as_deref()
            .map(|c| self.lookup.in_category(c));
        let tag = filter.tag.as_deref().map(|t| self.lookup.with_tag(t));
        let narrowest = [category, tag]
            .into_iter()
            .flatten()
            .min_by_key(|l| l.len());
        let (one, some, all) = match (by_id, narrowest) {
            (Some(i), _) => (i, None, None),
            (None, Some(list)) => (None, Some(list), None),
            (None, None) => (None, None, Some(0..self.questions.len())),
        };
        let within = |list: Option<&[u32]>, i: usize| {
            list.is_none_or(|l| l.binary_search(&(i as u32)).is_ok())
        };
        one.into_iter()
            .chain(some.into_iter().flatten().map(|&i| i as usize))
            .chain(all.into_iter().flatten())
            .filter(move |&i| {
                within(category, i)
                    && within(tag, i)
                    && filter
                        .difficulty
                        .is_none_or(|d| self.difficulty[i] == Some(d))
            })
    }

    /// The [`pick::fingerprint`] of the question at position `i`.
    pub fn fingerprint_at(&self, i: usize) -> u32 {
        self.fingerprint_at[i]
    }

    /// The position of question `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Up to `limit` questions whose id or question text contains `needle` (any case), best
    /// first: ids starting with it, ids containing it, then question texts containing it, each
    /// in bank order. For autocomplete: an index lookup, not a scan of the bank.
    pub fn search(&self, needle: &str, limit: usize) -> Vec<(&Question, Rank)> {
        self.lookup
            .search(&self.questions, needle, limit)
            .into_iter()
            .map(|(i, rank)| (&self.questions[i as usize], rank))
            .collect()
    }

    /// A one-paragraph summary (counts per category and difficulty), for `check` and
    /// `/bank info`.
    pub fn summary(&self) -> String {
        let cats = self.count_by_category();
        let mut s = format!(
            "{} in {}",
            crate::text::count(self.len(), "question"),
            crate::text::count(cats.len(), "category")
        );
        s.push_str("\n  by category: ");
        s.push_str(
            &cats
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        s.push_str("\n  by difficulty: ");
        s.push_str(
            &self
                .count_by_difficulty()
                .iter()
                .map(|(d, n)| format!("{} {n}", d.map_or("unrated", Difficulty::as_str)))
                .collect::<Vec<_>>()
                .join(", "),
        );
        s
    }
}

/// Expands directories into their `*.toml` files (sorted by name); reports paths that do not
/// exist. Files are deduplicated so naming a file twice does not make every id a duplicate.
fn expand_paths(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        diagnostics.push(Diagnostic {
                            path: p.clone(),
                            line: 1,
                            col: 1,
                            message: "this directory has no *.toml bank files".into(),
                        });
                    }
                    files.extend(found);
                }
                Err(e) => diagnostics.push(Diagnostic {
                    path: p.clone(),
                    line: 1,
                    col: 1,
                    message: format!("cannot read this directory: {e}"),
                }),
            }
        } else {
            // Missing files are reported by `read_file` with the OS error.
            files.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    files
}
