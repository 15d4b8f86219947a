//! Which card `/practice` shows next.
//!
//! 1. Reviews that are due, most overdue first.
//! 2. Then new cards — questions the member has never reviewed — in an order that is shuffled
//!    per member but stable: the same member sees the same order across sessions and restarts,
//!    a question added to the bank takes its place without reshuffling the rest, and two
//!    members do not march through the bank in the same order.
//!    At most `new_per_day` cards may be first seen per local day (any source counts: a new
//!    question met in a quiz is a card introduced that day too), so reviews cannot pile up
//!    faster than a member can keep up with.
//!
//! Only questions matching the filter (category, tag, difficulty, like `/ask`) and still in
//! the bank are considered; a card whose question left the bank drops out silently.

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::streak::local_day;
use crate::bank::{Bank, Filter, Question};

/// What the queue needs to know about one of the member's cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardDue {
    pub question_id: String,
    pub due: Timestamp,
    /// When it was first reviewed: new cards per day are counted from this.
    pub first_seen: Timestamp,
    /// Reviews so far: a button shown for this card carries it, so a grade applies only to
    /// the state the member saw.
    pub reps: u32,
}

/// The member and the moment a queue is built for.
#[derive(Clone, Debug)]
pub struct QueueInput<'a> {
    pub user_id: u64,
    pub now: Timestamp,
    /// "Today" for the new-card limit is a local day in this zone.
    pub zone: &'a TimeZone,
    pub new_per_day: u32,
    pub filter: &'a Filter,
    /// A card to pass over (the one shown when the member pressed Next without grading): it
    /// comes back only when nothing else is left.
    pub skip: Option<&'a str>,
}

/// The card to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick<'a> {
    /// A card due for review since `due`.
    Review {
        question: &'a Question,
        due: Timestamp,
        reps: u32,
    },
    /// A question the member has never reviewed.
    New { question: &'a Question },
}

impl<'a> Pick<'a> {
    pub fn question(&self) -> &'a Question {
        match self {
            Pick::Review { question, .. } | Pick::New { question } => question,
        }
    }

    pub fn is_new(&self) -> bool {
        matches!(self, Pick::New { .. })
    }

    /// The card's reviews so far (0 for a new card).
    pub fn reps(&self) -> u32 {
        match self {
            Pick::Review { reps, .. } => *reps,
            Pick::New { .. } => 0,
        }
    }
}

/// The member's queue at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue<'a> {
    pub next: Option<Pick<'a>>,
    /// Reviews due now (matching, in the bank).
    pub due: u32,
    /// New cards still allowed today (matching, never seen, within the daily limit).
    pub new_left: u32,
    /// When the earliest matching card that is not due yet becomes due: what an empty queue
    /// tells the member.
    pub next_due: Option<Timestamp>,
    /// Matching questions never reviewed, whatever the daily limit: with `new_left` 0, tells
    /// "today's new cards are done" from "you have met every question".
    pub unseen: u32,
}

/// Builds the queue from the member's cards (any order).
pub fn select<'a>(bank: &'a Bank, cards: &[CardDue], input: &QueueInput<'_>) -> Queue<'a> {
    let today = local_day(input.now, input.zone);
    let introduced_today = cards
        .iter()
        .filter(|c| local_day(c.first_seen, input.zone) == today)
        .count();
    let allowed_new = (input.new_per_day as usize).saturating_sub(introduced_today);

    let mut due: Vec<(&CardDue, &Question)> = Vec::new();
    let mut next_due: Option<Timestamp> = None;
    for c in cards {
        let Some(q) = bank.get(&c.question_id).filter(|q| input.filter.matches(q)) else {
            continue;
        };
        if c.due <= input.now {
            due.push((c, q));
        } else {
            next_due = Some(next_due.map_or(c.due, |n| n.min(c.due)));
        }
    }
    // Most overdue first; the id breaks ties so the order never depends on the input's.
    due.sort_by(|a, b| (a.0.due, &a.0.question_id).cmp(&(b.0.due, &b.0.question_id)));

    let seen: HashSet<&str> = cards.iter().map(|c| c.question_id.as_str()).collect();
    let mut new: Vec<&Question> = bank
        .matching(input.filter)
        .filter(|q| !seen.contains(q.id.as_str()))
        .collect();
    let unseen = count(new.len());
    new.sort_by_key(|q| (order_key(input.user_id, &q.id), q.id.as_str()));
    new.truncate(allowed_new);

    let reviews = due.iter().map(|&(c, q)| Pick::Review {
        question: q,
        due: c.due,
        reps: c.reps,
    });
    let news = new.iter().map(|&q| Pick::New { question: q });
    let mut candidates = reviews.chain(news);
    let first = candidates.next();
    let next = match (first, input.skip) {
        (Some(p), Some(skip)) if p.question().id == skip => candidates.next().or(Some(p)),
        (first, _) => first,
    };
    Queue {
        next,
        due: count(due.len()),
        new_left: count(new.len()),
        next_due,
        unseen,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A member's stable shuffle position of a question: a hash of both (FNV-1a, then a
/// SplitMix64 finaliser so close inputs land far apart). Stable across builds and runs,
/// unlike std's hasher.
pub fn order_key(user_id: u64, question_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in user_id.to_le_bytes().iter().chain(question_id.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Difficulty;
    use jiff::SignedDuration;

    fn q(id: &str, category: &str, difficulty: Option<Difficulty>) -> Question {
        Question {
            id: id.into(),
            category: category.into(),
            question: format!("{id}?"),
            answer: "a".into(),
            tags: vec![],
            difficulty,
            distractors: vec![],
            explanation: None,
            key_points: vec![],
            follow_ups: vec![],
            quiz_answer: None,
        }
    }

    fn bank(n: usize) -> Bank {
        let qs = (0..n)
            .map(|i| {
                let cat = if i % 2 == 0 { "even" } else { "odd" };
                q(&format!("q{i:02}"), cat, Some(Difficulty::Easy))
            })
            .collect();
        Bank::from_questions(qs, vec![])
    }

    fn now() -> Timestamp {
        "2026-03-10T18:00:00Z".parse().unwrap()
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    fn card(id: &str, due: Timestamp, first_seen: Timestamp) -> CardDue {
        CardDue {
            question_id: id.into(),
            due,
            first_seen,
            reps: 1,
        }
    }

    static UTC: TimeZone = TimeZone::UTC;

    fn input<'a>(filter: &'a Filter, new_per_day: u32) -> QueueInput<'a> {
        QueueInput {
            user_id: 42,
            now: now(),
            zone: &UTC,
            new_per_day,
            filter,
            skip: None,
        }
    }

    fn id<'a>(p: &Option<Pick<'a>>) -> &'a str {
        &p.as_ref().expect("a card").question().id
    }

    #[test]
    fn most_overdue_review_comes_first_then_new_cards() {
        let b = bank(6);
        let long_ago = now() - hours(24 * 30);
        let cards = [
            card("q01", now() - hours(1), long_ago),
            card("q02", now() - hours(50), long_ago),
            card("q03", now() + hours(5), long_ago), // not due yet
        ];
        let f = Filter::default();
        let queue = select(&b, &cards, &input(&f, 10));
        assert_eq!(id(&queue.next), "q02");
        assert_eq!(queue.due, 2);
        assert_eq!(queue.new_left, 3, "q00, q04, q05 never seen");
        assert_eq!(queue.next_due, Some(now() + hours(5)));
        // Once both reviews are done, a new card.
        let cards = cards.map(|c| CardDue {
            due: now() + hours(3),
            ..c
        });
        let queue = select(&b, &cards, &input(&f, 10));
        assert!(queue.next.as_ref().unwrap().is_new());
        assert_eq!(queue.due, 0);
        assert_eq!(queue.next_due, Some(now() + hours(3)));
    }

    #[test]
    fn a_card_due_exactly_now_is_due() {
        let b = bank(1);
        let f = Filter::default();
        let cards = [card("q00", now(), now() - hours(48))];
        let queue = select(&b, &cards, &input(&f, 0));
        assert_eq!(queue.due, 1);
        assert_eq!(id(&queue.next), "q00");
    }

    #[test]
    fn new_cards_follow_a_stable_per_member_shuffle() {
        let b = bank(40);
        let f = Filter::default();
        let order = |user: u64| -> Vec<String> {
            let mut seen: Vec<CardDue> = Vec::new();
            let mut out = Vec::new();
            for _ in 0..10 {
                let mut i = input(&f, 100);
                i.user_id = user;
                let queue = select(&b, &seen, &i);
                let pick = id(&queue.next).to_string();
                seen.push(card(&pick, now() + hours(24), now() - hours(100)));
                out.push(pick);
            }
            out
        };
        let a = order(1);
        assert_eq!(a, order(1), "stable for one member");
        assert_ne!(a, order(2), "different for another");
        let bank_order: Vec<String> = (0..10).map(|i| format!("q{i:02}")).collect();
        assert_ne!(a, bank_order, "shuffled, not bank order");
        // A question added to the bank does not reshuffle the others.
        let mut qs = b.questions().to_vec();
        qs.push(q("zz-new", "even", None));
        let bigger = Bank::from_questions(qs, vec![]);
        let mut keys: Vec<&str> = bigger.questions().iter().map(|q| q.id.as_str()).collect();
        keys.sort_by_key(|id| order_key(1, id));
        let without: Vec<&str> = keys.iter().copied().filter(|k| *k != "zz-new").collect();
        let mut old: Vec<&str> = b.questions().iter().map(|q| q.id.as_str()).collect();
        old.sort_by_key(|id| order_key(1, id));
        assert_eq!(without, old);
    }

    #[test]
    fn new_cards_per_local_day_are_limited() {
        let b = bank(10);
        let f = Filter::default();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 18:00 UTC is 19:00 in Berlin. Two cards were first seen "today": one at 23:30 UTC
        // yesterday, which is already today (00:30) in Berlin, and one this afternoon.
        let cards = [
            card(
                "q00",
                now() + hours(48),
                now() - hours(18) - SignedDuration::from_mins(30),
            ),
            card("q01", now() + hours(48), now() - hours(3)),
            card("q02", now() + hours(48), now() - hours(72)),
        ];
        let mut i = input(&f, 3);
        i.zone = &berlin;
        let queue = select(&b, &cards, &i);
        assert_eq!(queue.new_left, 1, "3 per day, 2 seen today in Berlin");
        assert!(queue.next.as_ref().unwrap().is_new());
        // In UTC the first one was yesterday's.
        let queue = select(&b, &cards, &input(&f, 3));
        assert_eq!(queue.new_left, 2);
        // Limit reached: nothing new; the queue is empty and says when the next is due.
        let queue = select(&b, &cards, &input(&f, 1));
        assert_eq!((queue.new_left, queue.next.is_none()), (0, true));
        assert_eq!(queue.unseen, 7, "10 questions, 3 seen");
        assert_eq!(queue.next_due, Some(now() + hours(48)));
        // Reviews are never limited.
        let due = [card("q03", now() - hours(1), now() - hours(2))];
        let queue = select(&b, &due, &input(&f, 0));
        assert_eq!(id(&queue.next), "q03");
    }

    #[test]
    fn filters_apply_and_removed_questions_drop_out() {
        let b = bank(6);
        let long_ago = now() - hours(24 * 30);
        let cards = [
            card("gone", now() - hours(100), long_ago), // no longer in the bank
            card("q01", now() - hours(10), long_ago),   // odd
            card("q02", now() - hours(5), long_ago),    // even
        ];
        let even = Filter {
            category: Some("even".into()),
            ..Filter::default()
        };
        let queue = select(&b, &cards, &input(&even, 10));
        assert_eq!(id(&queue.next), "q02");
        assert_eq!(queue.due, 1);
        assert_eq!(queue.new_left, 2, "q00 and q04");
        let hard = Filter {
            difficulty: Some(Difficulty::Hard),
            ..Filter::default()
        };
        let queue = select(&b, &cards, &input(&hard, 10));
        assert_eq!(
            queue,
            Queue {
                next: None,
                due: 0,
                new_left: 0,
                next_due: None,
                unseen: 0,
            }
        );
    }

    #[test]
    fn next_passes_over_the_skipped_card_unless_it_is_the_only_one() {
        let b = bank(2);
        let f = Filter::default();
        let long_ago = now() - hours(24 * 30);
        let cards = [
            card("q00", now() - hours(9), long_ago),
            card("q01", now() - hours(1), long_ago),
        ];
        let mut i = input(&f, 10);
        i.skip = Some("q00");
        assert_eq!(id(&select(&b, &cards, &i).next), "q01");
        i.skip = Some("q01");
        assert_eq!(id(&select(&b, &cards, &i).next), "q00");
        let one = [card("q00", now() - hours(9), long_ago)];
        let b1 = bank(1);
        i.skip = Some("q00");
        assert_eq!(id(&select(&b1, &one, &i).next), "q00");
    }
}
