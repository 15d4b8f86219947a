//! The custom ids of practice buttons: everything a click needs, in at most 100 characters.
//!
//! A click must work after a restart and in another process, so the buttons carry their state
//! instead of the bot remembering sessions: the action, the owner (the only member whose
//! clicks count; a custom id can be forged, so every handler checks it), the card's review
//! count when it was shown (a grade applies only to the state the member saw: a second click
//! on an old card is refused, not counted twice), where the card came from, and the question.
//!
//! ```text
//! p<action>:<owner base36>:<reviews base36>:<origin>:<question id>
//! action  r reveal · n next · 1–4 Again, Hard, Good, Easy
//! origin  a /ask reveal · d daily reveal · p<filter>: a /practice card and its filter
//! filter  <difficulty -/e/m/h><category: 5 base36 chars or -----><tag: the same>
//! ```
//!
//! Category and tag names (up to 64 characters each) are carried as a 5-character hash and
//! found again among the bank's names on click: with the question id also up to 64, the
//! names themselves would not fit Discord's 100. The worst case is 98 (a test builds it). Should two names of a bank share a hash (about one bank in a million with 100 names),
//! Next would pick the first of them: a filter changes, nothing breaks.

use crate::bank::{Bank, Difficulty, Filter};
use crate::practice::Grade;

/// What a button does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Reveal,
    Grade(Grade),
    Next,
}

/// Where the card being graded was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `/practice` card, with its filter (for Next).
    Practice(FilterCode),
    /// The answer revealed under an `/ask` question.
    Ask,
    /// The answer revealed under the daily question.
    Daily,
}

/// A practice button, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub action: Action,
    pub owner: u64,
    /// The card's review count when shown, modulo [`REV_MOD`].
    pub rev: u32,
    pub origin: Origin,
    pub question_id: String,
}

/// Review counts are carried modulo this (3 base36 digits): a card would need 46 656 reviews
/// between being shown and being graded for a stale click to pass.
pub const REV_MOD: u32 = 36 * 36 * 36;

/// A `/practice` filter in 11 characters: difficulty, and hashes of category and tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterCode {
    difficulty: Option<Difficulty>,
    category: Option<u32>,
    tag: Option<u32>,
}

const NAME_CODE_LEN: usize = 5;
const NAME_CODE_MOD: u64 = 36u64.pow(NAME_CODE_LEN as u32);

/// A name's 5-character code: FNV-1a (stable across builds, unlike std's hasher).
fn name_code(name: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % NAME_CODE_MOD) as u32
}

impl FilterCode {
    /// The code of a filter; `/practice` has no id option, so `filter.id` is not carried.
    pub fn of(filter: &Filter) -> FilterCode {
        FilterCode {
            difficulty: filter.difficulty,
            category: filter.category.as_deref().map(name_code),
            tag: filter.tag.as_deref().map(name_code),
        }
    }

    /// The filter again, with names from `bank`. `Err` names what the bank no longer has.
    pub fn resolve(&self, bank: &Bank) -> Result<Filter, &'static str> {
        let find = |code: Option<u32>, names: Vec<&str>, what: &'static str| match code {
            None => Ok(None),
            Some(c) => names
                .into_iter()
                .find(|n| name_code(n) == c)
                .map(|n| Some(n.to_string()))
                .ok_or(what),
        };
        Ok(Filter {
            category: find(self.category, bank.categories(), "category")?,
            tag: find(self.tag, bank.tags(), "tag")?,
            difficulty: self.difficulty,
            id: None,
        })
    }

    fn encode(&self, out: &mut String) {
        out.push(match self.difficulty {
            None => '-',
            Some(Difficulty::Easy) => 'e',
            Some(Difficulty::Medium) => 'm',
            Some(Difficulty::Hard) => 'h',
        });
        for code in [self.category, self.tag] {
            match code {
                None => out.push_str(&"-".repeat(NAME_CODE_LEN)),
                Some(c) => out.push_str(&base36(u64::from(c), NAME_CODE_LEN)),
            }
        }
    }

    fn decode(s: &str) -> Option<FilterCode> {
        if s.len() != 1 + 2 * NAME_CODE_LEN || !s.is_ascii() {
            return None;
        }
        let difficulty = match &s[..1] {
            "-" => None,
            "e" => Some(Difficulty::Easy),
            "m" => Some(Difficulty::Medium),
            "h" => Some(Difficulty::Hard),
            _ => return None,
        };
        let name = |part: &str| -> Option<Option<u32>> {
            if part == "-".repeat(NAME_CODE_LEN) {
                return Some(None);
            }
            let v = u64::from_str_radix(part, 36).ok()?;
            (v < NAME_CODE_MOD && is_base36(part)).then_some(Some(v as u32))
        };
        Some(FilterCode {
            difficulty,
            category: name(&s[1..1 + NAME_CODE_LEN])?,
            tag: name(&s[1 + NAME_CODE_LEN..])?,
        })
    }
}

/// `v` in lowercase base36, left-padded with zeros to `width`.
fn base36(mut v: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while v > 0 {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
    }
    while out.len() < width.max(1) {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn is_base36(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// A number as [`base36`] writes it unpadded: no leading zero. `from_str_radix` also reads
/// `007`, and an id that parses but is not the one we wrote would be a second spelling of a
/// button (custom ids round-trip, see `discord::custom_id`).
fn is_plain_base36(s: &str) -> bool {
    is_base36(s) && (s == "0" || !s.starts_with('0'))
}

impl Button {
    pub fn id(&self) -> String {
        let mut s = String::with_capacity(100);
        s.push('p');
        s.push(match self.action {
            Action::Reveal => 'r',
            Action::Next => 'n',
            Action::Grade(Grade::Again) => '1',
            Action::Grade(Grade::Hard) => '2',
            Action::Grade(Grade::Good) => '3',
            Action::Grade(Grade::Easy) => '4',
        });
        s.push(':');
        s.push_str(&base36(self.owner, 1));
        s.push(':');
        s.push_str(&base36(u64::from(self.rev % REV_MOD), 1));
        s.push(':');
        match self.origin {
            Origin::Ask => s.push('a'),
            Origin::Daily => s.push('d'),
            Origin::Practice(f) => {
                s.push('p');
                f.encode(&mut s);
            }
        }
        s.push(':');
        s.push_str(&self.question_id);
        s
    }

    /// Decodes a custom id; `None` for anything that is not exactly a practice button.
    pub fn parse(id: &str) -> Option<Button> {
        let mut parts = id.split(':');
        let head = parts.next()?;
        let action = match head.strip_prefix('p')? {
            "r" => Action::Reveal,
            "n" => Action::Next,
            "1" => Action::Grade(Grade::Again),
            "2" => Action::Grade(Grade::Hard),
            "3" => Action::Grade(Grade::Good),
            "4" => Action::Grade(Grade::Easy),
            _ => return None,
        };
        let owner = parts
            .next()
            .filter(|s| is_plain_base36(s) && s.len() <= 13)?;
        let owner = u64::from_str_radix(owner, 36).ok()?;
        let rev = parts
            .next()
            .filter(|s| is_plain_base36(s) && s.len() <= 3)?;
        let rev = u32::from_str_radix(rev, 36).ok()?;
        let origin = match parts.next()? {
            "a" => Origin::Ask,
            "d" => Origin::Daily,
            p => Origin::Practice(FilterCode::decode(p.strip_prefix('p')?)?),
        };
        let question_id = parts.next().filter(|q| !q.is_empty())?.to_string();
        if parts.next().is_some() {
            return None;
        }
        Some(Button {
            action,
            owner,
            rev,
            origin,
            question_id,
        })
    }

    /// The same button state with another action.
    pub fn with(&self, action: Action) -> Button {
        Button {
            action,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Question;

    fn button(action: Action, origin: Origin) -> Button {
        Button {
            action,
            owner: 1_576_264_034_611_757_059,
            rev: 12,
            origin,
            question_id: "acid-properties".into(),
        }
    }

    fn bank_with(category: &str, tag: &str) -> Bank {
        Bank::from_questions(
            vec![Question {
                id: "q".into(),
                category: category.into(),
                question: "?".into(),
                answer: "!".into(),
                tags: vec![tag.into()],
                difficulty: None,
                distractors: vec![],
                explanation: None,
                key_points: vec![],
                follow_ups: vec![],
                quiz_answer: None,
            }],
            vec![],
        )
    }

    #[test]
    fn every_action_and_origin_round_trips() {
        let filter = Filter {
            category: Some("technical".into()),
            tag: Some("sql".into()),
            difficulty: Some(Difficulty::Hard),
            id: None,
        };
        let origins = [
            Origin::Ask,
            Origin::Daily,
            Origin::Practice(FilterCode::default()),
            Origin::Practice(FilterCode::of(&filter)),
        ];
        let actions = [
            Action::Reveal,
            Action::Next,
            Action::Grade(Grade::Again),
            Action::Grade(Grade::Hard),
            Action::Grade(Grade::Good),
            Action::Grade(Grade::Easy),
        ];
        for origin in origins {
            for action in actions {
                let b = button(action, origin);
                assert_eq!(Button::parse(&b.id()), Some(b.clone()), "{}", b.id());
            }
        }
        let id = button(Action::Grade(Grade::Good), Origin::Ask).id();
        assert!(
            id.starts_with("p3:") && id.ends_with(":c:a:acid-properties"),
            "{id}"
        );
        assert_eq!(base36(35, 1), "z");
        assert_eq!(base36(36, 3), "010");
    }

    #[test]
    fn the_longest_possible_id_fits_discord() {
        let long = "a".repeat(64);
        let b = Button {
            action: Action::Grade(Grade::Easy),
            owner: u64::MAX,
            rev: REV_MOD - 1,
            origin: Origin::Practice(FilterCode::of(&Filter {
                category: Some(long.clone()),
                tag: Some(long.clone()),
                difficulty: Some(Difficulty::Medium),
                id: None,
            })),
            question_id: long,
        };
        assert_eq!(b.id().chars().count(), 98);
        assert_eq!(Button::parse(&b.id()), Some(b));
    }

    #[test]
    fn review_counts_wrap_instead_of_growing() {
        let mut b = button(Action::Reveal, Origin::Ask);
        b.rev = REV_MOD + 5;
        assert_eq!(Button::parse(&b.id()).unwrap().rev, 5);
    }

    #[test]
    fn other_ids_are_not_practice_buttons() {
        for id in [
            "reveal:acid",
            "quiz:1:2:3",
            "poll:7:yes",
            "p",
            "p3",
            "p3:1:0:a",
            "p3:1:0:a:",
            "p3:1:0:a:q:extra",
            "p5:1:0:a:q",
            "p3:1:0:x:q",
            "p3:-1:0:a:q",
            "p3:1:0:p-----:q",
            "p3:1:0:px----------:q",
            "p3:1:zzzz:a:q",
            "p3:ZZ:0:a:q",
            "p3:zzzzzzzzzzzzzz:0:a:q",
            // Leading zeros: `from_str_radix` reads them, but no button is written so (found
            // by tests/fuzz.rs).
            "pr:c0j5l6gk4ad9:00:a:sql-vs-nosql",
            "p3:01:0:a:q",
            "p3:1:007:a:q",
        ] {
            assert_eq!(Button::parse(id), None, "{id}");
        }
    }

    #[test]
    fn filters_come_back_from_the_bank_by_their_codes() {
        let bank = bank_with("system-design", "caching");
        let f = Filter {
            category: Some("system-design".into()),
            tag: Some("caching".into()),
            difficulty: Some(Difficulty::Easy),
            id: None,
        };
        let code = FilterCode::of(&f);
        assert_eq!(code.resolve(&bank), Ok(f));
        assert_eq!(FilterCode::default().resolve(&bank), Ok(Filter::default()));
        // The bank no longer has the category: the click is told which part is gone.
        let other = bank_with("behavioral", "caching");
        assert_eq!(code.resolve(&other), Err("category"));
        let other = bank_with("system-design", "redis");
        assert_eq!(code.resolve(&other), Err("tag"));
    }
}
