//! A card's FSRS state and what a grade does to it, through the `rs-fsrs` crate.
//!
//! The parameters are FSRS's published defaults (desired retention 90%) with two choices of
//! ours:
//! - the long-term scheduler: intervals are whole days, never minutes. Practice here happens
//!   about once a day (an evening `/practice`, the daily question, a quiz night), so a card
//!   graded Again comes back tomorrow rather than one minute later in the same sitting;
//! - no fuzz: the same history gives the same due date, so a member (and a test) can predict
//!   it. Fuzz exists to spread cards added together; a member meets new cards a few per day.
//!
//! `rs-fsrs` speaks chrono; the rest of prepbot speaks jiff. Conversions happen here only.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use jiff::{SignedDuration, Timestamp};
use rs_fsrs::{Card, Parameters, Rating, State, FSRS};

use super::Grade;

/// FSRS's learning phase of a card. With the long-term scheduler every reviewed card is in
/// `Review`; the others are kept so a stored card always maps back to what `rs-fsrs` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    New,
    Learning,
    Review,
    Relearning,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::New,
        Phase::Learning,
        Phase::Review,
        Phase::Relearning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::New => "new",
            Phase::Learning => "learning",
            Phase::Review => "review",
            Phase::Relearning => "relearning",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The FSRS memory state of one (member, question) card after at least one review.
#[derive(Clone, Debug, PartialEq)]
pub struct CardState {
    /// When the card should be reviewed next.
    pub due: Timestamp,
    /// Days until recall probability falls to 90%.
    pub stability: f64,
    /// 1 (easy) to 10 (hard).
    pub difficulty: f64,
    pub elapsed_days: i64,
    pub scheduled_days: i64,
    /// Reviews so far.
    pub reps: u32,
    /// Times a card in review was forgotten (graded Again).
    pub lapses: u32,
    pub phase: Phase,
    pub last_review: Timestamp,
}

/// One scheduler for the process: `rs-fsrs` keeps no state between reviews.
static SCHEDULER: LazyLock<FSRS> = LazyLock::new(|| {
    // `Parameters::default()` seeds its fuzz generator from chrono's clock; the seed is unused
    // (fuzz is off) and every review re-seeds from the `now` it is given, so no result depends
    // on the clock.
    FSRS::new(Parameters {
        enable_short_term: false,
        enable_fuzz: false,
        ..Parameters::default()
    })
});

/// The card after a review with `grade` at `now`; `prev` is `None` for a card never reviewed.
pub fn review(prev: Option<&CardState>, grade: Grade, now: Timestamp) -> CardState {
    // A stored state whose numbers are not usable (written by hand, or by a bug) starts the
    // card afresh instead of spreading NaN through every later review.
    let prev =
        prev.filter(|c| c.stability.is_finite() && c.stability > 0.0 && c.difficulty.is_finite());
    // A clock that went back (a corrected system clock, a restored backup) must not give a
    // negative elapsed time: FSRS's forgetting curve is undefined there.
    let now = match prev {
        Some(c) => now.max(c.last_review),
        None => now,
    };
    let card = match prev {
        Some(c) => to_fsrs(c),
        None => Card {
            due: chrono_at(now),
            last_review: chrono_at(now),
            ..Card::default()
        },
    };
    let next = SCHEDULER.next(card, chrono_at(now), rating(grade));
    from_fsrs(&next.card)
}

impl CardState {
    /// How long from `now` until the card is due (negative when overdue).
    pub fn due_in(&self, now: Timestamp) -> SignedDuration {
        self.due.duration_since(now)
    }
}

fn rating(g: Grade) -> Rating {
    match g {
        Grade::Again => Rating::Again,
        Grade::Hard => Rating::Hard,
        Grade::Good => Rating::Good,
        Grade::Easy => Rating::Easy,
    }
}

fn chrono_at(t: Timestamp) -> DateTime<Utc> {
    // jiff's range (years ±9999) lies inside chrono's, so this never falls back in practice.
    DateTime::from_timestamp_millis(t.as_millisecond()).unwrap_or_default()
}

fn jiff_at(t: DateTime<Utc>) -> Timestamp {
    // A due date past jiff's year 9999 would need a 36 500-day interval in the year 9900.
    Timestamp::from_millisecond(t.timestamp_millis()).unwrap_or(Timestamp::MAX)
}

fn to_fsrs(c: &CardState) -> Card {
    Card {
        due: chrono_at(c.due),
        stability: c.stability,
        difficulty: c.difficulty,
        elapsed_days: c.elapsed_days,
        scheduled_days: c.scheduled_days,
        reps: i32::try_from(c.reps).unwrap_or(i32::MAX),
        lapses: i32::try_from(c.lapses).unwrap_or(i32::MAX),
        state: match c.phase {
            Phase::New => State::New,
            Phase::Learning => State::Learning,
            Phase::Review => State::Review,
            Phase::Relearning => State::Relearning,
        },
        last_review: chrono_at(c.last_review),
    }
}

fn from_fsrs(c: &Card) -> CardState {
    CardState {
        due: jiff_at(c.due),
        stability: c.stability,
        difficulty: c.difficulty,
        elapsed_days: c.elapsed_days,
        scheduled_days: c.scheduled_days,
        reps: u32::try_from(c.reps).unwrap_or(0),
        lapses: u32::try_from(c.lapses).unwrap_or(0),
        phase: match c.state {
            State::New => Phase::New,
            State::Learning => Phase::Learning,
            State::Review => Phase::Review,
            State::Relearning => Phase::Relearning,
        },
        last_review: jiff_at(c.last_review),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn days(n: i64) -> SignedDuration {
        SignedDuration::from_hours(24 * n)
    }

    #[test]
    fn a_new_card_comes_back_in_whole_days_ordered_by_grade() {
        let now = at("2026-03-10T19:00:00Z");
        let due: Vec<SignedDuration> = Grade::ALL
            .into_iter()
            .map(|g| review(None, g, now).due_in(now))
            .collect();
        // FSRS's default initial stabilities (0.41, 1.18, 3.13, 15.47 days) at 90% retention,
        // rounded to whole days, at least one day and each grade above the one before.
        assert_eq!(due, [days(1), days(2), days(3), days(15)]);
        let c = review(None, Grade::Good, now);
        assert_eq!((c.reps, c.lapses, c.phase), (1, 0, Phase::Review));
        assert_eq!(c.last_review, now);
        assert!(c.stability > 3.0 && c.stability < 3.2, "{}", c.stability);
    }

    #[test]
    fn remembering_on_time_grows_the_interval_and_forgetting_shrinks_it() {
        let t0 = at("2026-03-01T20:00:00Z");
        let first = review(None, Grade::Good, t0);
        let t1 = first.due;
        let second = review(Some(&first), Grade::Good, t1);
        assert_eq!(second.reps, 2);
        assert!(
            second.due_in(t1) > first.due_in(t0),
            "{:?} then {:?}",
            first.due_in(t0),
            second.due_in(t1)
        );
        // For a card in review, the four grades give strictly growing intervals.
        let next: Vec<SignedDuration> = Grade::ALL
            .into_iter()
            .map(|g| review(Some(&second), g, second.due).due_in(second.due))
            .collect();
        assert!(next.windows(2).all(|w| w[0] < w[1]), "{next:?}");
        let forgot = review(Some(&second), Grade::Again, second.due);
        assert_eq!(forgot.lapses, 1);
        assert!(forgot.stability < second.stability);
    }

    #[test]
    fn same_history_same_schedule() {
        let t0 = at("2026-01-05T08:00:00Z");
        let a = review(
            Some(&review(None, Grade::Hard, t0)),
            Grade::Easy,
            t0 + days(2),
        );
        let b = review(
            Some(&review(None, Grade::Hard, t0)),
            Grade::Easy,
            t0 + days(2),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn a_clock_that_went_back_or_broken_numbers_never_give_nan() {
        let t0 = at("2026-01-05T08:00:00Z");
        let c = review(None, Grade::Good, t0);
        let back = review(Some(&c), Grade::Good, t0 - days(3));
        assert!(back.stability.is_finite() && back.difficulty.is_finite());
        assert!(back.due > t0);
        let broken = CardState {
            stability: f64::NAN,
            ..c.clone()
        };
        let fresh = review(Some(&broken), Grade::Good, t0);
        assert_eq!(fresh.reps, 1, "a broken state starts the card afresh");
        assert!(fresh.stability.is_finite());
    }

    #[test]
    fn states_convert_both_ways() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        let c = review(None, Grade::Easy, at("2026-06-01T00:00:00Z"));
        assert_eq!(from_fsrs(&to_fsrs(&c)), c);
    }
}
