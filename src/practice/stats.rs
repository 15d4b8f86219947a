//! The numbers behind `/stats`, as plain data: the edge shows them as an embed, and the
//! picture is drawn from the same struct.
//!
//! Every count is over questions still in the bank, like the queue: a question that left the
//! bank leaves the member's numbers too. Days are local days (see [`super::streak`]).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use super::queue::CardDue;
use super::streak::{local_day, streak, Streak};
use super::Activity;
use crate::bank::Bank;

/// Days of activity in [`Stats::days`]: 12 weeks.
pub const ACTIVITY_DAYS: usize = 84;

/// Days (today included) over which [`Stats::retention`] is measured.
pub const RETENTION_DAYS: i64 = 30;

/// What [`compute`] reads.
#[derive(Clone, Debug)]
pub struct StatsInput<'a> {
    pub now: Timestamp,
    /// The zone of "today" (the server's daily-post zone, else UTC).
    pub zone: &'a TimeZone,
    pub bank: &'a Bank,
    /// Every card of the member.
    pub cards: &'a [CardDue],
    /// Everything the member did, any order.
    pub activity: &'a [Activity],
}

/// One member's practice numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub today: Date,
    /// Questions reviewed at least once.
    pub cards_seen: u32,
    /// Cards due by the end of today, overdue ones included.
    pub due_today: u32,
    /// Cards due by the end of the sixth day after today.
    pub due_week: u32,
    /// Share of Good/Easy among the grades of the last [`RETENTION_DAYS`] days; `None`
    /// without any grade then.
    pub retention: Option<f64>,
    /// How many grades `retention` is measured over.
    pub graded_recently: u32,
    /// Accuracy per topic (the question's category, as in the bank) over every grade and
    /// quiz answer: `(topic, right, answered)`, most answered first. Good and Easy are right.
    pub topics: Vec<(String, u32 /*right*/, u32 /*answered*/)>,
    /// Activity per local day, oldest first: exactly [`ACTIVITY_DAYS`] days ending today.
    pub days: Vec<(Date, u32)>,
    pub streak: Streak,
}

pub fn compute(input: &StatsInput<'_>) -> Stats {
    let today = local_day(input.now, input.zone);
    let in_bank: Vec<&CardDue> = input
        .cards
        .iter()
        .filter(|c| input.bank.get(&c.question_id).is_some())
        .collect();
    let week_end = add_days(today, 6);
    let due_by = |last: Date| {
        in_bank
            .iter()
            .filter(|c| local_day(c.due, input.zone) <= last)
            .count()
    };

    let first_day = add_days(today, -(ACTIVITY_DAYS as i64 - 1));
    let recent_from = add_days(today, -(RETENTION_DAYS - 1));
    let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
    let mut active: BTreeSet<Date> = BTreeSet::new();
    let mut topics: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let (mut right_recent, mut graded_recent) = (0u32, 0u32);
    for a in input.activity {
        let day = a.day();
        active.insert(day);
        if (first_day..=today).contains(&day) {
            *per_day.entry(day).or_default() += 1;
        }
        let Some(grade) = a.grade else { continue };
        let Some(q) = input.bank.get(&a.question_id) else {
            continue;
        };
        if (recent_from..=today).contains(&day) {
            graded_recent += 1;
            right_recent += u32::from(grade.is_right());
        }
        let t = topics.entry(q.category.as_str()).or_default();
        t.0 += u32::from(grade.is_right());
        t.1 += 1;
    }
    let mut topics: Vec<(String, u32, u32)> = topics
        .into_iter()
        .map(|(name, (right, answered))| (name.to_string(), right, answered))
        .collect();
    // Most answered first; the BTreeMap gave name order for ties.
    topics.sort_by_key(|t| std::cmp::Reverse(t.2));

    Stats {
        today,
        cards_seen: count(in_bank.len()),
        due_today: count(due_by(today)),
        due_week: count(due_by(week_end)),
        retention: (graded_recent > 0).then(|| f64::from(right_recent) / f64::from(graded_recent)),
        graded_recently: graded_recent,
        topics,
        days: (0..ACTIVITY_DAYS as i64)
            .map(|i| {
                let d = add_days(first_day, i);
                (d, per_day.get(&d).copied().unwrap_or(0))
            })
            .collect(),
        streak: streak(&active, today),
    }
}

fn add_days(d: Date, n: i64) -> Date {
    // Within a few months of a date the bot can see: never out of jiff's range in practice.
    d.checked_add(Span::new().days(n)).unwrap_or(d)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Question;
    use crate::practice::{Grade, ReviewSource};
    use jiff::civil::date;
    use jiff::SignedDuration;

    fn question(id: &str, category: &str) -> Question {
        Question {
            id: id.into(),
            category: category.into(),
            question: format!("{id}?"),
            answer: "a".into(),
            tags: vec![],
            difficulty: None,
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
                question("sql-1", "databases"),
                question("sql-2", "databases"),
                question("tcp-1", "networking"),
                question("star-1", "behavioral"),
            ],
            vec![],
        )
    }

    /// 2026-03-10 20:00 in Berlin (19:00 UTC).
    fn now() -> Timestamp {
        "2026-03-10T19:00:00Z".parse().unwrap()
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn days_ago(n: i64) -> Timestamp {
        now() - SignedDuration::from_hours(24 * n)
    }

    fn act(id: &str, grade: Option<Grade>, source: ReviewSource, at: Timestamp) -> Activity {
        Activity {
            question_id: id.into(),
            grade,
            source,
            at,
            zone: berlin(),
        }
    }

    fn card(id: &str, due: Timestamp) -> CardDue {
        CardDue {
            question_id: id.into(),
            due,
            first_seen: days_ago(40),
            reps: 1,
        }
    }

    #[test]
    fn counts_due_today_and_this_week_in_local_days() {
        let b = bank();
        let zone = berlin();
        // Local end of today is 2026-03-10 24:00 Berlin = 23:00 UTC.
        let cards = [
            card("sql-1", days_ago(3)),                              // overdue
            card("sql-2", "2026-03-10T22:59:00Z".parse().unwrap()),  // 23:59 today
            card("tcp-1", "2026-03-10T23:00:00Z".parse().unwrap()),  // 00:00 tomorrow
            card("star-1", "2026-03-16T22:59:00Z".parse().unwrap()), // day 6, 23:59
            card("left-the-bank", days_ago(1)),
        ];
        let s = compute(&StatsInput {
            now: now(),
            zone: &zone,
            bank: &b,
            cards: &cards,
            activity: &[],
        });
        assert_eq!(s.today, date(2026, 3, 10));
        assert_eq!((s.cards_seen, s.due_today, s.due_week), (4, 2, 4));
        let later = [card("star-1", "2026-03-16T23:00:00Z".parse().unwrap())];
        let s = compute(&StatsInput {
            now: now(),
            zone: &zone,
            bank: &b,
            cards: &later,
            activity: &[],
        });
        assert_eq!(s.due_week, 0, "day 7 is next week");
    }

    #[test]
    fn retention_accuracy_activity_and_streak() {
        use Grade::*;
        use ReviewSource::*;
        let b = bank();
        let zone = berlin();
        let activity = [
            // Today: two practice grades, a quiz answer, the daily question revealed.
            act("sql-1", Some(Good), Practice, now()),
            act("sql-2", Some(Again), Practice, now()),
            act("tcp-1", Some(Good), Quiz, now()),
            act("star-1", None, Daily, now()),
            // Yesterday and the day before: one grade each.
            act("tcp-1", Some(Easy), Ask, days_ago(1)),
            act("tcp-1", Some(Hard), Daily, days_ago(2)),
            // 40 days ago: outside retention, inside topics and the 84 days.
            act("sql-1", Some(Again), Quiz, days_ago(40)),
            // 100 days ago: only topics and the longest streak see it.
            act("star-1", Some(Easy), Practice, days_ago(100)),
            // A question that left the bank: a day of activity, no topic.
            act("gone", Some(Good), Practice, days_ago(5)),
        ];
        let s = compute(&StatsInput {
            now: now(),
            zone: &zone,
            bank: &b,
            cards: &[],
            activity: &activity,
        });
        // Last 30 days: Good, Again, Good, Easy, Hard (the removed question is not counted).
        assert_eq!(s.graded_recently, 5);
        assert_eq!(s.retention, Some(3.0 / 5.0));
        assert_eq!(
            s.topics,
            vec![
                // Ties in name order.
                ("databases".to_string(), 1, 3),
                ("networking".to_string(), 2, 3),
                ("behavioral".to_string(), 1, 1),
            ]
        );
        assert_eq!(s.days.len(), ACTIVITY_DAYS);
        assert_eq!(s.days[83], (date(2026, 3, 10), 4));
        assert_eq!(s.days[82], (date(2026, 3, 9), 1));
        assert_eq!(s.days[0].0, date(2025, 12, 17));
        assert_eq!(s.days[83 - 40].1, 1);
        assert_eq!(s.days[83 - 5].1, 1);
        assert_eq!(s.days.iter().map(|d| d.1).sum::<u32>(), 4 + 1 + 1 + 1 + 1);
        assert!(s.days.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!((s.streak.current, s.streak.longest), (3, 3));
        assert!(s.streak.today_done);
    }

    #[test]
    fn nothing_yet_is_all_zero_with_84_days() {
        let b = bank();
        let s = compute(&StatsInput {
            now: now(),
            zone: &TimeZone::UTC,
            bank: &b,
            cards: &[],
            activity: &[],
        });
        assert_eq!(s.retention, None);
        assert!(s.topics.is_empty());
        assert_eq!(s.days.len(), 84);
        assert!(s.days.iter().all(|d| d.1 == 0));
        assert_eq!(s.streak, Streak::default());
    }

    #[test]
    fn an_evening_in_berlin_counts_for_its_local_day() {
        // 23:30 Berlin on the 9th is 22:30 UTC on the 9th; 00:30 Berlin on the 10th is 23:30
        // UTC on the 9th. In Berlin these are two days.
        use Grade::Good;
        use ReviewSource::Practice;
        let b = bank();
        let zone = berlin();
        let activity = [
            act(
                "sql-1",
                Some(Good),
                Practice,
                "2026-03-09T22:30:00Z".parse().unwrap(),
            ),
            act(
                "sql-1",
                Some(Good),
                Practice,
                "2026-03-09T23:30:00Z".parse().unwrap(),
            ),
        ];
        let s = compute(&StatsInput {
            now: now(),
            zone: &zone,
            bank: &b,
            cards: &[],
            activity: &activity,
        });
        assert_eq!(s.days[82], (date(2026, 3, 9), 1));
        assert_eq!(s.days[83], (date(2026, 3, 10), 1));
        assert_eq!(s.streak.current, 2);
    }
}
