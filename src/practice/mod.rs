//! Personal practice (core, pure): when a member's cards come back, which card `/practice`
//! shows next, streaks, and the numbers behind `/stats`.
//!
//! A card is a (member, question) pair. Every review of it — a grade in `/practice`, a grade
//! under a revealed `/ask` or daily answer, a quiz answer — goes through one FSRS schedule
//! ([`scheduling`]), so the member has one memory model per question wherever they met it.
//!
//! - [`scheduling`]: a card's FSRS state and what a grade does to it;
//! - [`queue`]: due reviews first (most overdue first), then new cards up to a daily limit;
//! - [`streak`]: local days, current and longest streak;
//! - [`stats`]: cards seen, due counts, retention, accuracy per topic, 12 weeks of activity.
//!
//! Nothing here imports serenity or rusqlite or reads the clock: "now" and time zones are
//! parameters, so every rule is tested with fixed instants (DST days included).

pub mod queue;
pub mod scheduling;
pub mod stats;
pub mod streak;

use std::fmt;

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use queue::{select, CardDue, Pick, Queue, QueueInput};
pub use scheduling::{CardState, Phase};
pub use stats::Stats;
pub use streak::Streak;

/// How well a member recalled a card, FSRS's four ratings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    /// Forgot it.
    Again,
    /// Recalled with serious difficulty.
    Hard,
    /// Recalled.
    Good,
    /// Recalled at once.
    Easy,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Again, Grade::Hard, Grade::Good, Grade::Easy];

    /// The spelling in the database and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Again => "again",
            Grade::Hard => "hard",
            Grade::Good => "good",
            Grade::Easy => "easy",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// What the member sees on the button.
    pub fn label(self) -> &'static str {
        match self {
            Grade::Again => "Again",
            Grade::Hard => "Hard",
            Grade::Good => "Good",
            Grade::Easy => "Easy",
        }
    }

    /// Counts as "remembered" for retention and accuracy.
    pub fn is_right(self) -> bool {
        matches!(self, Grade::Good | Grade::Easy)
    }

    /// A quiz answer as a review: right is Good, wrong is Again.
    pub fn from_quiz(right: bool) -> Grade {
        if right {
            Grade::Good
        } else {
            Grade::Again
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a review (or a reveal) happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewSource {
    /// A card of `/practice`.
    Practice,
    /// A grade under the answer revealed from an `/ask` question.
    Ask,
    /// A grade under the daily question's answer, or revealing the daily question.
    Daily,
    /// A quiz answer: right is Good, wrong is Again.
    Quiz,
}

impl ReviewSource {
    pub const ALL: [ReviewSource; 4] = [
        ReviewSource::Practice,
        ReviewSource::Ask,
        ReviewSource::Daily,
        ReviewSource::Quiz,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewSource::Practice => "practice",
            ReviewSource::Ask => "ask",
            ReviewSource::Daily => "daily",
            ReviewSource::Quiz => "quiz",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewSource> {
        ReviewSource::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for ReviewSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a member did that counts for streaks and stats: a graded review, or (grade
/// `None`) revealing the daily question.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    pub question_id: String,
    pub grade: Option<Grade>,
    pub source: ReviewSource,
    pub at: Timestamp,
    /// The zone of the server it happened in (its daily-post zone, else UTC): the local day
    /// it counts for.
    pub zone: TimeZone,
}

impl Activity {
    /// The local day this activity counts for.
    pub fn day(&self) -> jiff::civil::Date {
        streak::local_day(self.at, &self.zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_and_sources_round_trip_their_spelling() {
        for g in Grade::ALL {
            assert_eq!(Grade::parse(g.as_str()), Some(g));
        }
        for s in ReviewSource::ALL {
            assert_eq!(ReviewSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(Grade::parse("Good"), None);
        assert_eq!(ReviewSource::parse("dm"), None);
    }

    #[test]
    fn right_means_good_or_easy_and_quiz_maps_to_good_or_again() {
        let right: Vec<Grade> = Grade::ALL.into_iter().filter(|g| g.is_right()).collect();
        assert_eq!(right, [Grade::Good, Grade::Easy]);
        assert_eq!(Grade::from_quiz(true), Grade::Good);
        assert_eq!(Grade::from_quiz(false), Grade::Again);
    }
}
