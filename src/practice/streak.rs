//! Streaks: how many local days in a row a member practised.
//!
//! A day counts when the member did anything that is an [`Activity`](super::Activity): graded
//! a card, answered a quiz question, or revealed the daily question. Days are civil dates in
//! a time zone (the server's daily-post zone, else UTC), so a streak follows the member's
//! evenings rather than UTC midnight, and a 23- or 25-hour DST day is still one day.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Current and longest run of consecutive active days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    /// Days in a row up to today, or up to yesterday while today has no activity yet: a
    /// streak is not lost before the day is over.
    pub current: u32,
    /// The longest run ever.
    pub longest: u32,
    /// Whether today already counts.
    pub today_done: bool,
}

/// The civil date of `at` in `tz`.
pub fn local_day(at: Timestamp, tz: &TimeZone) -> Date {
    tz.to_datetime(at).date()
}

/// The streaks of a set of active days, seen on `today`. Days after `today` (activity in a
/// zone already past midnight) count as today's neighbours like any other.
pub fn streak(days: &BTreeSet<Date>, today: Date) -> Streak {
    let mut longest = 0u32;
    let mut run = 0u32;
    let mut prev: Option<Date> = None;
    for &d in days {
        run = match prev {
            Some(p) if p.tomorrow().ok() == Some(d) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(d);
    }
    let today_done = days.contains(&today);
    let yesterday = today.yesterday().ok();
    let mut current = 0u32;
    let mut day = if today_done {
        Some(today)
    } else {
        yesterday.filter(|y| days.contains(y))
    };
    while let Some(d) = day.filter(|d| days.contains(d)) {
        current += 1;
        day = d.yesterday().ok();
    }
    Streak {
        current,
        longest,
        today_done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn set(days: &[Date]) -> BTreeSet<Date> {
        days.iter().copied().collect()
    }

    /// The instant of a Berlin wall-clock time.
    fn berlin_at(s: &str) -> Timestamp {
        s.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned_datetime(berlin())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn days_are_local_dates_in_the_zone_not_utc() {
        // 00:30 in Berlin on 2026-03-11 is still 2026-03-10 in UTC.
        let t = berlin_at("2026-03-11T00:30");
        assert_eq!(local_day(t, &berlin()), date(2026, 3, 11));
        assert_eq!(local_day(t, &TimeZone::UTC), date(2026, 3, 10));
    }

    #[test]
    fn dst_days_are_one_day_each() {
        // Spring forward (2026-03-29 has 23 hours) and fall back (2026-10-25 has 25): the
        // first and last minutes of each day belong to it.
        for (first, last, day) in [
            ("2026-03-29T00:01", "2026-03-29T23:59", date(2026, 3, 29)),
            ("2026-10-25T00:01", "2026-10-25T23:59", date(2026, 10, 25)),
        ] {
            assert_eq!(local_day(berlin_at(first), &berlin()), day, "{first}");
            assert_eq!(local_day(berlin_at(last), &berlin()), day, "{last}");
        }
        // An evening practice on each of the days around both changes is a 5-day streak,
        // where counting 24-hour periods from the first would skip or double a day.
        for around in [date(2026, 3, 29), date(2026, 10, 25)] {
            let days: BTreeSet<Date> = (-2..=2)
                .map(|i| {
                    let d = around.checked_add(jiff::Span::new().days(i)).unwrap();
                    local_day(berlin_at(&format!("{d}T22:30")), &berlin())
                })
                .collect();
            assert_eq!(days.len(), 5, "{days:?}");
            let s = streak(
                &days,
                around.checked_add(jiff::Span::new().days(2)).unwrap(),
            );
            assert_eq!((s.current, s.longest), (5, 5), "around {around}");
        }
    }

    #[test]
    fn current_streak_survives_until_the_day_is_over() {
        let days = set(&[date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)]);
        // Seen on the 3rd: done today.
        assert_eq!(
            streak(&days, date(2026, 5, 3)),
            Streak {
                current: 3,
                longest: 3,
                today_done: true
            }
        );
        // On the 4th, nothing yet: still 3, today not done.
        assert_eq!(
            streak(&days, date(2026, 5, 4)),
            Streak {
                current: 3,
                longest: 3,
                today_done: false
            }
        );
        // On the 5th the 4th was missed: the streak is broken; the record stays.
        let s = streak(&days, date(2026, 5, 5));
        assert_eq!((s.current, s.longest), (0, 3));
    }

    #[test]
    fn longest_is_the_best_run_anywhere() {
        let days = set(&[
            date(2026, 1, 1),
            date(2026, 1, 2),
            date(2026, 1, 4),
            date(2026, 1, 5),
            date(2026, 1, 6),
            date(2026, 1, 7),
            // across a month end and a gap
            date(2026, 1, 31),
            date(2026, 2, 1),
        ]);
        let s = streak(&days, date(2026, 2, 1));
        assert_eq!((s.current, s.longest, s.today_done), (2, 4, true));
        assert_eq!(
            streak(&BTreeSet::new(), date(2026, 2, 1)),
            Streak::default()
        );
        // Across a year end.
        let s = streak(
            &set(&[date(2025, 12, 31), date(2026, 1, 1)]),
            date(2026, 1, 1),
        );
        assert_eq!((s.current, s.longest), (2, 2));
    }
}
