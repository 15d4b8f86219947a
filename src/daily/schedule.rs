//! Scheduling core for the "question of the day": works out when a guild's
//! daily question is due, in the guild's own time zone.
//!
//! Everything here is pure. There is no I/O and no wall clock: the current
//! instant ("now") is always a parameter, so every rule can be tested with
//! exact instants.
//!
//! * [`LocalTime`] is the guild's wall-clock posting time (`HH:MM`, 24-hour).
//! * [`parse_zone`] and [`zone_suggestions`] turn what an admin types into an
//!   IANA time zone (and feed Discord autocomplete).
//! * [`fire_at`] is the instant of the post for one local date. Daylight
//!   saving time is handled like this:
//!   - a local time that does not exist that day (the spring-forward gap)
//!     posts at the first valid instant after it, which is the instant the
//!     gap ends (Berlin, 2026-03-29, 02:30 posts at 03:00 CEST = 01:00 UTC);
//!   - a local time that occurs twice (fall back) posts once, at the first,
//!     earlier occurrence.
//!
//!   Where a gap straddles midnight (America/Nuuk jumps from 23:00 on
//!   Saturday straight to 00:00 on Sunday), a post set inside it goes out at
//!   00:00 on the next local date, and still counts for its own date.
//! * [`plan`] decides, from the stored state of a guild, whether to post now
//!   or how long to wait. At most one post goes out per local date.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{self, Date};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How late a missed post may still go out by default (see
/// [`PlanInput::max_late`]).
pub const DEFAULT_MAX_LATE: SignedDuration = SignedDuration::from_hours(12);

/// A post that goes out at most this long after its scheduled instant is not
/// reported as late (the scheduler's own tick and jitter).
pub const LATE_GRACE: SignedDuration = SignedDuration::from_secs(60);

/// How many local dates [`plan`] looks at. After the jump over dates that are
/// passed over anyway, the answer is always found within five (yesterday,
/// today, a skipped date, the date `armed_from` falls on and the one after
/// it); the rest is margin.
const LOOKAHEAD_DAYS: usize = 10;

const TIME_HINT: &str = "use 24-hour HH:MM, e.g. 09:00 or 18:30";
const ZONE_HINT: &str = "use an IANA name such as Europe/Berlin or America/New_York";

/// Longest piece of user input echoed back in an error message.
const ECHO_MAX_CHARS: usize = 40;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A time of day or time zone name that could not be understood. The
/// [`Display`](fmt::Display) text is meant for the admin who typed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not a 24-hour `HH:MM` time of day. Holds the (trimmed) input.
    InvalidTime(String),
    /// Not a time zone name known to the time zone database. Holds the
    /// (trimmed) input.
    UnknownZone(String),
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::InvalidTime(input) if input.is_empty() => {
                write!(f, "no time given: {TIME_HINT}")
            }
            TimeError::InvalidTime(input) => {
                write!(f, "`{}` is not a time of day: {TIME_HINT}", echo(input))
            }
            TimeError::UnknownZone(input) if input.is_empty() => {
                write!(f, "no time zone given: {ZONE_HINT}")
            }
            TimeError::UnknownZone(input) => {
                write!(f, "unknown time zone `{}`: {ZONE_HINT}", echo(input))
            }
        }
    }
}

impl std::error::Error for TimeError {}

/// User input as shown inside backticks in an error message: backticks are
/// replaced (they would end the code span) and long input is cut short.
fn echo(input: &str) -> String {
    let mut out: String = input
        .chars()
        .take(ECHO_MAX_CHARS)
        .map(|c| if c == '`' { '\'' } else { c })
        .collect();
    if input.chars().count() > ECHO_MAX_CHARS {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------
// Local time of day
// ---------------------------------------------------------------------------

/// A wall-clock time of day (hour and minute) at which the daily question is
/// posted, in the guild's time zone.
///
/// Valid values have `hour < 24` and `minute < 60`; [`LocalTime::parse`],
/// [`LocalTime::new`] and deserialization guarantee that. Displayed and
/// (de)serialized as `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    pub hour: u8,
    pub minute: u8,
}

impl LocalTime {
    /// `None` unless `hour < 24` and `minute < 60`.
    pub const fn new(hour: u8, minute: u8) -> Option<LocalTime> {
        if hour < 24 && minute < 60 {
            Some(LocalTime { hour, minute })
        } else {
            None
        }
    }

    /// Parses a 24-hour `HH:MM` time (`09:00`, `18:30`). A one-digit hour
    /// (`9:05`) and surrounding whitespace are accepted; anything else
    /// (`25:00`, `12:60`, `9am`, `12:30:15`, an empty string) is an error
    /// whose message shows the expected format.
    pub fn parse(s: &str) -> Result<LocalTime, TimeError> {
        let s = s.trim();
        let invalid = || TimeError::InvalidTime(s.to_string());
        let (hour, minute) = s.split_once(':').ok_or_else(invalid)?;
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if !(1..=2).contains(&hour.len())
            || minute.len() != 2
            || !all_digits(hour)
            || !all_digits(minute)
        {
            return Err(invalid());
        }
        let hour: u8 = hour.parse().map_err(|_| invalid())?;
        let minute: u8 = minute.parse().map_err(|_| invalid())?;
        LocalTime::new(hour, minute).ok_or_else(invalid)
    }

    /// This time as a civil time. Out-of-range fields (only possible when the
    /// struct was built by hand) are clamped to 23 and 59 rather than
    /// panicking.
    pub fn to_civil(self) -> civil::Time {
        // Both values are in range after clamping, so this cannot panic.
        civil::time(self.hour.min(23) as i8, self.minute.min(59) as i8, 0, 0)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl FromStr for LocalTime {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<LocalTime, TimeError> {
        LocalTime::parse(s)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LocalTime, D::Error> {
        let s = String::deserialize(deserializer)?;
        LocalTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

/// Entries a time zone database may list that are not zones a guild should
/// pick: the host's own zone and tzcode internals.
fn is_guild_zone(name: &str) -> bool {
    !(name.eq_ignore_ascii_case("localtime")
        || name.eq_ignore_ascii_case("posixrules")
        || name.eq_ignore_ascii_case("Factory")
        || name.starts_with("posix/")
        || name.starts_with("right/"))
}

/// Looks up an IANA time zone name (`Europe/Berlin`, `America/New_York`,
/// `UTC`) in jiff's time zone database. Matching ignores ASCII case and
/// surrounding whitespace, and spaces may stand for underscores
/// (`america/new york`). The canonical spelling is available afterwards from
/// [`TimeZone::iana_name`].
pub fn parse_zone(name: &str) -> Result<TimeZone, TimeError> {
    let name = name.trim();
    let unknown = || TimeError::UnknownZone(name.to_string());
    if name.is_empty() || !is_guild_zone(name) {
        return Err(unknown());
    }
    let db = jiff::tz::db();
    let tz = db
        .get(name)
        .or_else(|_| db.get(&name.replace(' ', "_")))
        .map_err(|_| unknown())?;
    match tz.iana_name() {
        Some(canonical) if !is_guild_zone(canonical) => Err(unknown()),
        _ => Ok(tz),
    }
}

/// IANA time zone names for Discord autocomplete: every name in jiff's time
/// zone database that contains `query` (ignoring case; spaces match
/// underscores). Names that start with the query come first, then names with
/// a `/`-separated part that starts with it (`berlin` → `Europe/Berlin`),
/// then the other matches; each group is sorted. At most `limit` names are
/// returned (Discord shows up to 25). An empty query lists names
/// alphabetically.
pub fn zone_suggestions(query: &str, limit: usize) -> Vec<String> {
    let query = query.trim().to_lowercase().replace(' ', "_");
    let mut hits: Vec<(u8, String)> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_string())
        .filter(|name| is_guild_zone(name))
        .filter_map(|name| {
            let lower = name.to_lowercase();
            let rank = if lower.starts_with(&query) {
                0
            } else if lower
                .split('/')
                .skip(1)
                .any(|part| part.starts_with(&query))
            {
                1
            } else if lower.contains(&query) {
                2
            } else {
                return None;
            };
            Some((rank, name))
        })
        .collect();
    hits.sort();
    hits.dedup();
    hits.into_iter().take(limit).map(|(_, name)| name).collect()
}

// ---------------------------------------------------------------------------
// Instants
// ---------------------------------------------------------------------------

/// The local date of `now` in `tz`. This, not the UTC date, is what a
/// "day" means for a guild.
pub fn local_date(now: Timestamp, tz: &TimeZone) -> Date {
    tz.to_datetime(now).date()
}

/// The instant at which the post for local date `date` goes out, for a guild
/// posting at `time` in `tz`.
///
/// * Ordinary days: `date` at `time`, local.
/// * Spring forward, `time` falls in the gap and does not exist that day: the
///   first valid instant after it, i.e. the instant the gap ends (Berlin
///   2026-03-29 02:30 → 03:00 CEST = 01:00 UTC).
/// * Fall back, `time` occurs twice: the first (earlier) occurrence.
pub fn fire_at(date: Date, time: LocalTime, tz: &TimeZone) -> Timestamp {
    let dt = date.to_datetime(time.to_civil());
    let instant = match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt),
        // Before the transition the clocks are ahead (the larger offset),
        // so the `before` offset gives the earlier instant.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt),
        AmbiguousOffset::Gap { before, after } => {
            // The gap spans local [T + before, T + after) for the transition
            // instant T, so `dt - after` lies in [T - gap, T): the next
            // transition after it is the end of this gap.
            after
                .to_timestamp(dt)
                .ok()
                .and_then(|inside| tz.following(inside).next())
                .map(|transition| Ok(transition.timestamp()))
                // Unreachable with real zone data; the "compatible" reading
                // (local time shifted by the gap) is the next best thing.
                .unwrap_or_else(|| before.to_timestamp(dt))
        }
    };
    // Only fails at the very ends of the supported range (years ±9999).
    instant.unwrap_or(if date.year() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The next instant after `now` at which a post at `time` is scheduled in
/// `tz`, as a zoned datetime for display ("next post at … local / … UTC").
/// This ignores what was already posted or skipped; use [`plan`] for that.
pub fn next_occurrence(now: Timestamp, tz: &TimeZone, time: LocalTime) -> ZonedDateTime {
    let mut date = local_date(now, tz);
    let mut at = fire_at(date, time, tz);
    // Today's occurrence or tomorrow's is after `now`; the loop is a guard.
    for _ in 0..LOOKAHEAD_DAYS {
        if at > now {
            break;
        }
        let Ok(next) = date.tomorrow() else { break };
        date = next;
        at = fire_at(date, time, tz);
    }
    at.to_zoned_datetime(tz.clone())
}

// ---------------------------------------------------------------------------
// Planner
// ---------------------------------------------------------------------------

/// Everything [`plan`] needs to know about one guild's schedule.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub now: Timestamp,
    pub tz: &'a TimeZone,
    pub time: LocalTime,
    /// Occurrences scheduled before this instant are never posted (the moment the schedule was
    /// set, changed or resumed: changing a schedule at 10:00 to 09:00 does not post at once).
    pub armed_from: Timestamp,
    /// Local date of the last post that went out (or was recorded as sent) for this guild.
    pub last_posted: Option<Date>,
    /// A local date whose post an admin skipped (`/daily skip`).
    pub skip_date: Option<Date>,
    /// How late a missed post may still go out (the bot was down at post time). Default 12 h.
    /// A negative value counts as zero: only posts due exactly now go out.
    pub max_late: SignedDuration,
}

impl<'a> PlanInput<'a> {
    /// Input with nothing posted or skipped yet, armed since forever and the
    /// default [`DEFAULT_MAX_LATE`].
    pub fn new(now: Timestamp, tz: &'a TimeZone, time: LocalTime) -> PlanInput<'a> {
        PlanInput {
            now,
            tz,
            time,
            armed_from: Timestamp::MIN,
            last_posted: None,
            skip_date: None,
            max_late: DEFAULT_MAX_LATE,
        }
    }
}

/// What the scheduler should do for a guild right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Post now for `date` (scheduled at `scheduled`; `late` when now is past it by more than
    /// [`LATE_GRACE`]).
    PostNow {
        date: Date,
        scheduled: Timestamp,
        late: bool,
    },
    /// Nothing due; the next post is for `date` at `at`.
    WaitUntil { date: Date, at: Timestamp },
}

impl Plan {
    /// The local date the post is (or will be) for.
    pub fn date(&self) -> Date {
        match *self {
            Plan::PostNow { date, .. } | Plan::WaitUntil { date, .. } => date,
        }
    }

    /// The instant the post is (or was) scheduled for.
    pub fn scheduled(&self) -> Timestamp {
        match *self {
            Plan::PostNow { scheduled, .. } => scheduled,
            Plan::WaitUntil { at, .. } => at,
        }
    }
}

/// Decides whether a guild's daily question is due.
///
/// Local dates are considered from today (the local date of `now` in `tz`)
/// onward (and yesterday, see the last paragraph). A date is passed over when `last_posted >= date`, when it is
/// `skip_date`, or when its [`fire_at`] instant is before `armed_from`. For
/// the first remaining date `d` with `t = fire_at(d)`:
///
/// * `t > now`: [`Plan::WaitUntil`] `{ d, t }`;
/// * `t` falls on today's local date and `now - t <= max_late`:
///   [`Plan::PostNow`] (a time equal to now is due and not late);
/// * otherwise the post was missed by too much and the next date is tried.
///
/// Missed posts of earlier local dates are never sent. Recording each post's
/// date in `last_posted` makes it one post per local date.
///
/// "`t` falls on today" is the same as "`d` is today" except where a gap
/// straddles midnight: then yesterday's post is scheduled at today's 00:00
/// (see [`fire_at`]), so yesterday is considered too and that post goes out
/// for yesterday's date instead of being lost.
pub fn plan(input: &PlanInput) -> Plan {
    let tz = input.tz;
    let today = local_date(input.now, tz);
    let max_late = input.max_late.max(SignedDuration::ZERO);

    // Start at yesterday (for a gap straddling midnight, see above) and jump
    // straight past dates the rules would pass over anyway, so stale or
    // far-future state cannot outrun the look-ahead: dates up to
    // `last_posted`, and dates more than a day before the one `armed_from`
    // falls on (their posts are scheduled before `armed_from`).
    let mut date = today.yesterday().unwrap_or(today);
    if let Some(next) = input.last_posted.and_then(|last| last.tomorrow().ok()) {
        date = date.max(next);
    }
    if let Ok(armed_eve) = local_date(input.armed_from, tz).yesterday() {
        date = date.max(armed_eve);
    }

    for _ in 0..LOOKAHEAD_DAYS {
        let passed_over =
            input.last_posted.is_some_and(|last| last >= date) || input.skip_date == Some(date);
        if !passed_over {
            let at = fire_at(date, input.time, tz);
            if at >= input.armed_from {
                if at > input.now {
                    return Plan::WaitUntil { date, at };
                }
                let overdue = input.now.duration_since(at);
                if local_date(at, tz) == today && overdue <= max_late {
                    return Plan::PostNow {
                        date,
                        scheduled: at,
                        late: overdue > LATE_GRACE,
                    };
                }
            }
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    // Only reachable at the end of the calendar (year 9999): never post.
    Plan::WaitUntil {
        date,
        at: Timestamp::MAX,
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, DateTime};

    fn ts(s: &str) -> Timestamp {
        s.parse()
            .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
    }

    fn tz(name: &str) -> TimeZone {
        parse_zone(name).unwrap_or_else(|e| panic!("{e}"))
    }

    fn t(s: &str) -> LocalTime {
        LocalTime::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lt(hour: u8, minute: u8) -> LocalTime {
        LocalTime::new(hour, minute).unwrap()
    }

    /// `fire_at` rendered in the zone, for readable assertions.
    fn fire_local(d: Date, time: &str, zone: &TimeZone) -> String {
        fire_at(d, t(time), zone)
            .to_zoned_datetime(zone.clone())
            .to_string()
    }

    // ---- LocalTime --------------------------------------------------------

    #[test]
    fn parse_accepts_hh_mm() {
        assert_eq!(t("09:00"), lt(9, 0));
        assert_eq!(t("18:30"), lt(18, 30));
        assert_eq!(t("00:00"), lt(0, 0));
        assert_eq!(t("23:59"), lt(23, 59));
    }

    #[test]
    fn parse_accepts_one_digit_hour_and_surrounding_whitespace() {
        assert_eq!(t("9:05"), lt(9, 5));
        assert_eq!(t("0:00"), lt(0, 0));
        assert_eq!(t("  07:45\n"), lt(7, 45));
        assert_eq!("\t18:30 ".parse::<LocalTime>(), Ok(lt(18, 30)));
    }

    #[test]
    fn parse_rejects_out_of_range() {
        for bad in ["24:00", "25:00", "12:60", "99:99"] {
            assert_eq!(
                LocalTime::parse(bad),
                Err(TimeError::InvalidTime(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn parse_rejects_other_formats() {
        for bad in [
            "",
            "   ",
            "9am",
            "9:00am",
            "12:30:15",
            "1230",
            "9",
            "9:5",
            "009:05",
            "09:005",
            "+9:05",
            "-1:00",
            "12.30",
            "12 30",
            "12:3a",
            ":30",
            "12:",
            "٠٩:٠٠",
            "09:00 UTC",
        ] {
            assert!(LocalTime::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn parse_error_messages_show_the_format() {
        let msg = LocalTime::parse("25:00").unwrap_err().to_string();
        assert_eq!(
            msg,
            "`25:00` is not a time of day: use 24-hour HH:MM, e.g. 09:00 or 18:30"
        );
        assert_eq!(
            LocalTime::parse(" 9am ").unwrap_err().to_string(),
            "`9am` is not a time of day: use 24-hour HH:MM, e.g. 09:00 or 18:30"
        );
        assert_eq!(
            LocalTime::parse("  ").unwrap_err().to_string(),
            "no time given: use 24-hour HH:MM, e.g. 09:00 or 18:30"
        );
    }

    #[test]
    fn error_messages_defuse_backticks_and_long_input() {
        let msg = LocalTime::parse("`9`").unwrap_err().to_string();
        assert!(msg.starts_with("`'9'` is not a time of day"), "{msg}");
        let long = "x".repeat(200);
        let msg = parse_zone(&long).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!("unknown time zone `{}…`", "x".repeat(40))),
            "{msg}"
        );
    }

    #[test]
    fn local_time_new_validates() {
        assert_eq!(
            LocalTime::new(23, 59),
            Some(LocalTime {
                hour: 23,
                minute: 59
            })
        );
        assert_eq!(LocalTime::new(24, 0), None);
        assert_eq!(LocalTime::new(12, 60), None);
    }

    #[test]
    fn display_is_zero_padded_hh_mm() {
        assert_eq!(lt(9, 5).to_string(), "09:05");
        assert_eq!(lt(0, 0).to_string(), "00:00");
        assert_eq!(lt(18, 30).to_string(), "18:30");
        assert_eq!(t("7:45").to_string(), "07:45");
    }

    #[test]
    fn serde_uses_hh_mm_string() {
        assert_eq!(serde_json::to_string(&lt(9, 5)).unwrap(), "\"09:05\"");
        assert_eq!(
            serde_json::from_str::<LocalTime>("\"18:30\"").unwrap(),
            lt(18, 30)
        );
        assert_eq!(
            serde_json::from_str::<LocalTime>("\"9:05\"").unwrap(),
            lt(9, 5)
        );
        let err = serde_json::from_str::<LocalTime>("\"25:00\"").unwrap_err();
        assert!(
            err.to_string().contains("`25:00` is not a time of day"),
            "{err}"
        );
        assert!(serde_json::from_str::<LocalTime>("{\"hour\":9,\"minute\":0}").is_err());
        assert!(serde_json::from_str::<LocalTime>("900").is_err());
    }

    #[test]
    fn to_civil_clamps_hand_built_values() {
        assert_eq!(lt(9, 5).to_civil(), civil::time(9, 5, 0, 0));
        let bogus = LocalTime {
            hour: 30,
            minute: 75,
        };
        assert_eq!(bogus.to_civil(), civil::time(23, 59, 0, 0));
    }

    // ---- Zones ------------------------------------------------------------

    #[test]
    fn parse_zone_accepts_iana_names() {
        for name in ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"] {
            assert_eq!(tz(name).iana_name(), Some(name));
        }
    }

    #[test]
    fn parse_zone_ignores_case_whitespace_and_spaces_for_underscores() {
        assert_eq!(tz("europe/berlin").iana_name(), Some("Europe/Berlin"));
        assert_eq!(
            tz("  AMERICA/NEW_YORK ").iana_name(),
            Some("America/New_York")
        );
        assert_eq!(tz("america/new york").iana_name(), Some("America/New_York"));
        assert_eq!(tz("utc").iana_name(), Some("UTC"));
    }

    #[test]
    fn parse_zone_rejects_unknown_names_with_an_example() {
        assert_eq!(
            parse_zone("Berlin").unwrap_err().to_string(),
            "unknown time zone `Berlin`: use an IANA name such as Europe/Berlin or America/New_York"
        );
        assert_eq!(
            parse_zone(" ").unwrap_err().to_string(),
            "no time zone given: use an IANA name such as Europe/Berlin or America/New_York"
        );
        for bad in [
            "Mars/Olympus_Mons",
            "+05:30",
            "CEST",
            "Europe/",
            "localtime",
            "posixrules",
        ] {
            assert_eq!(
                parse_zone(bad).unwrap_err(),
                TimeError::UnknownZone(bad.to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn zone_suggestions_put_prefix_matches_first() {
        let got = zone_suggestions("america/new", 25);
        assert_eq!(got.first().map(String::as_str), Some("America/New_York"));
        assert!(
            got.iter().all(|n| n.to_lowercase().contains("america/new")),
            "{got:?}"
        );

        // "lin": a part starting with it (Australia/Lindeman) beats a plain
        // substring (Europe/Berlin).
        let got = zone_suggestions("lin", 100);
        let pos = |name: &str| got.iter().position(|n| n == name);
        let lindeman = pos("Australia/Lindeman").expect("Lindeman listed");
        let berlin = pos("Europe/Berlin").expect("Berlin listed");
        assert!(lindeman < berlin, "{got:?}");

        // Full-name prefix matches come before part matches.
        let got = zone_suggestions("ind", 100);
        let first_part_match = got.iter().position(|n| !n.starts_with("Indian/")).unwrap();
        assert!(first_part_match > 0, "{got:?}");
        assert!(got[..first_part_match]
            .iter()
            .all(|n| n.starts_with("Indian/")));
        assert!(got[first_part_match..]
            .iter()
            .all(|n| !n.starts_with("Indian/")));
    }

    #[test]
    fn zone_suggestions_are_case_insensitive_sorted_and_limited() {
        let got = zone_suggestions("AMERICA", 3);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|n| n.starts_with("America/")), "{got:?}");
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(got, sorted);

        let got = zone_suggestions("berlin", 25);
        assert_eq!(got, vec!["Europe/Berlin".to_string()]);
        assert_eq!(
            zone_suggestions("new york", 1),
            vec!["America/New_York".to_string()]
        );
    }

    #[test]
    fn zone_suggestions_empty_query_lists_alphabetically() {
        let got = zone_suggestions("", 25);
        assert_eq!(got.len(), 25);
        assert_eq!(got[0], "Africa/Abidjan");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    }

    #[test]
    fn zone_suggestions_edge_cases() {
        assert!(zone_suggestions("no such zone", 25).is_empty());
        assert!(zone_suggestions("europe", 0).is_empty());
        let all = zone_suggestions("", usize::MAX);
        assert!(all.len() > 300, "only {} zones", all.len());
        assert!(!all.iter().any(|n| n == "localtime" || n == "posixrules"));
        let mut dedup = all.clone();
        dedup.dedup();
        assert_eq!(all, dedup);
    }

    #[test]
    fn every_suggestion_parses() {
        for name in zone_suggestions("", usize::MAX) {
            let zone = parse_zone(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(zone.iana_name().is_some(), "{name}");
        }
    }

    // ---- fire_at ----------------------------------------------------------

    #[test]
    fn berlin_ordinary_winter_and_summer_days() {
        let berlin = tz("Europe/Berlin");
        assert_eq!(
            fire_at(date(2026, 1, 15), t("09:00"), &berlin),
            ts("2026-01-15T08:00:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 7, 15), t("09:00"), &berlin),
            ts("2026-07-15T07:00:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 12, 31), t("23:59"), &berlin),
            ts("2026-12-31T22:59:00Z")
        );
    }

    #[test]
    fn berlin_spring_forward_gap_posts_when_the_gap_ends() {
        let berlin = tz("Europe/Berlin");
        let day = date(2026, 3, 29);
        assert_eq!(
            fire_at(day, t("02:30"), &berlin),
            ts("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            fire_local(day, "02:30", &berlin),
            "2026-03-29T03:00:00+02:00[Europe/Berlin]"
        );
        // Every time in the gap [02:00, 03:00) posts at 03:00 CEST.
        assert_eq!(
            fire_at(day, t("02:00"), &berlin),
            ts("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            fire_at(day, t("02:59"), &berlin),
            ts("2026-03-29T01:00:00Z")
        );
        // Either side of the gap is unaffected.
        assert_eq!(
            fire_at(day, t("01:59"), &berlin),
            ts("2026-03-29T00:59:00Z")
        );
        assert_eq!(
            fire_at(day, t("03:00"), &berlin),
            ts("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            fire_at(day, t("03:30"), &berlin),
            ts("2026-03-29T01:30:00Z")
        );
        assert_eq!(
            fire_at(day, t("09:00"), &berlin),
            ts("2026-03-29T07:00:00Z")
        );
    }

    #[test]
    fn berlin_fall_back_fold_posts_at_the_first_occurrence() {
        let berlin = tz("Europe/Berlin");
        let day = date(2026, 10, 25);
        // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        assert_eq!(
            fire_at(day, t("02:30"), &berlin),
            ts("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            fire_local(day, "02:30", &berlin),
            "2026-10-25T02:30:00+02:00[Europe/Berlin]"
        );
        assert_eq!(
            fire_at(day, t("02:00"), &berlin),
            ts("2026-10-25T00:00:00Z")
        );
        assert_eq!(
            fire_at(day, t("02:59"), &berlin),
            ts("2026-10-25T00:59:00Z")
        );
        assert_eq!(
            fire_at(day, t("01:59"), &berlin),
            ts("2026-10-24T23:59:00Z")
        );
        assert_eq!(
            fire_at(day, t("03:00"), &berlin),
            ts("2026-10-25T02:00:00Z")
        );
        assert_eq!(
            fire_at(day, t("09:00"), &berlin),
            ts("2026-10-25T08:00:00Z")
        );
    }

    #[test]
    fn new_york_spring_forward_and_fall_back() {
        let ny = tz("America/New_York");
        assert_eq!(
            fire_at(date(2026, 3, 8), t("02:30"), &ny),
            ts("2026-03-08T07:00:00Z")
        );
        assert_eq!(
            fire_local(date(2026, 3, 8), "02:30", &ny),
            "2026-03-08T03:00:00-04:00[America/New_York]"
        );
        assert_eq!(
            fire_at(date(2026, 3, 8), t("01:59"), &ny),
            ts("2026-03-08T06:59:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 3, 8), t("09:00"), &ny),
            ts("2026-03-08T13:00:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 3, 7), t("09:00"), &ny),
            ts("2026-03-07T14:00:00Z")
        );

        // 01:30 on 11-01 is 05:30Z (EDT) and 06:30Z (EST): the first wins.
        assert_eq!(
            fire_at(date(2026, 11, 1), t("01:30"), &ny),
            ts("2026-11-01T05:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 11, 1), t("02:00"), &ny),
            ts("2026-11-01T07:00:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 11, 1), t("09:00"), &ny),
            ts("2026-11-01T14:00:00Z")
        );
    }

    #[test]
    fn lord_howe_transitions_are_on_the_expected_2026_dates() {
        // The half-hour shifts the next test relies on, from jiff's data:
        // back to +10:30 on the first Sunday of April (01:30 local after),
        // forward to +11 on the first Sunday of October (02:30 local after).
        let lh = tz("Australia/Lord_Howe");
        let found: Vec<String> = lh
            .following(ts("2026-01-01T00:00:00Z"))
            .take(2)
            .map(|tr| tr.timestamp().to_zoned_datetime(lh.clone()).to_string())
            .collect();
        assert_eq!(
            found,
            [
                "2026-04-05T01:30:00+10:30[Australia/Lord_Howe]",
                "2026-10-04T02:30:00+11:00[Australia/Lord_Howe]",
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_gap_and_fold() {
        let lh = tz("Australia/Lord_Howe");
        // Fold: 01:30–02:00 happens twice on 2026-04-05 (+11, then +10:30).
        assert_eq!(
            fire_at(date(2026, 4, 5), t("01:45"), &lh),
            ts("2026-04-04T14:45:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 4, 5), t("01:30"), &lh),
            ts("2026-04-04T14:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 4, 5), t("02:00"), &lh),
            ts("2026-04-04T15:30:00Z")
        );
        // Gap: 02:00–02:30 does not exist on 2026-10-04; posts at 02:30 (+11).
        assert_eq!(
            fire_at(date(2026, 10, 4), t("02:10"), &lh),
            ts("2026-10-03T15:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 10, 4), t("02:00"), &lh),
            ts("2026-10-03T15:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 10, 4), t("02:30"), &lh),
            ts("2026-10-03T15:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 10, 4), t("01:59"), &lh),
            ts("2026-10-03T15:29:00Z")
        );
        // Ordinary days: +11 in (southern) summer, +10:30 in winter.
        assert_eq!(
            fire_at(date(2026, 1, 10), t("09:00"), &lh),
            ts("2026-01-09T22:00:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 7, 10), t("09:00"), &lh),
            ts("2026-07-09T22:30:00Z")
        );
    }

    #[test]
    fn nuuk_gap_straddling_midnight_posts_at_the_next_midnight() {
        // America/Nuuk (-02/-01, EU rules at 01:00Z): on 2026-03-28 local
        // time jumps from 22:59:59 straight to 2026-03-29 00:00.
        let nuuk = tz("America/Nuuk");
        let day = date(2026, 3, 28);
        assert_eq!(fire_at(day, t("23:30"), &nuuk), ts("2026-03-29T01:00:00Z"));
        assert_eq!(
            fire_local(day, "23:30", &nuuk),
            "2026-03-29T00:00:00-01:00[America/Nuuk]"
        );
        assert_eq!(fire_at(day, t("22:59"), &nuuk), ts("2026-03-29T00:59:00Z"));
        assert_eq!(
            fire_at(date(2026, 3, 29), t("00:00"), &nuuk),
            ts("2026-03-29T01:00:00Z")
        );
        // The fall-back fold is 23:00-24:00 on Saturday 10-24: first wins.
        assert_eq!(
            fire_at(date(2026, 10, 24), t("23:30"), &nuuk),
            ts("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn kolkata_half_hour_offset_without_dst() {
        let kolkata = tz("Asia/Kolkata");
        assert_eq!(
            fire_at(date(2026, 1, 15), t("09:00"), &kolkata),
            ts("2026-01-15T03:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 7, 15), t("09:00"), &kolkata),
            ts("2026-07-15T03:30:00Z")
        );
        // Just after local midnight is still the previous UTC date.
        assert_eq!(
            fire_at(date(2026, 3, 29), t("00:15"), &kolkata),
            ts("2026-03-28T18:45:00Z")
        );
    }

    #[test]
    fn utc_is_identity() {
        let utc = tz("UTC");
        assert_eq!(
            fire_at(date(2026, 3, 29), t("02:30"), &utc),
            ts("2026-03-29T02:30:00Z")
        );
        assert_eq!(
            fire_at(date(2026, 10, 25), t("09:00"), &utc),
            ts("2026-10-25T09:00:00Z")
        );
        assert_eq!(
            fire_at(date(2028, 2, 29), t("23:59"), &utc),
            ts("2028-02-29T23:59:00Z")
        );
    }

    /// For every quarter hour of every day of 2026 in several zones: the post
    /// is at the requested local time when that exists (its first
    /// occurrence), and otherwise at the first instant after it.
    #[test]
    fn fire_at_is_the_first_instant_at_or_after_the_local_time() {
        let zones = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "America/Nuuk",
            "America/Santiago",
        ];
        let times: Vec<LocalTime> = (0..24)
            .flat_map(|h| [0, 15, 30, 45].map(|m| lt(h, m)))
            .chain([lt(2, 10), lt(1, 59), lt(2, 59)])
            .collect();
        for zone in zones.map(tz) {
            let mut day = date(2026, 1, 1);
            while day.year() == 2026 {
                for &time in &times {
                    let wanted = day.to_datetime(time.to_civil());
                    let at = fire_at(day, time, &zone);
                    let local: DateTime = zone.to_datetime(at);
                    let just_before: DateTime = zone.to_datetime(at - SignedDuration::from_secs(1));
                    let ctx = format!("{:?} {wanted}", zone.iana_name());
                    assert!(local >= wanted, "{ctx}: posts at {local}, before the time");
                    if local != wanted {
                        // In a gap: the instant before is still before the time.
                        assert!(just_before < wanted, "{ctx}: {local} is not the gap's end");
                    }
                    // Never the second occurrence of a repeated time.
                    let earliest = zone.to_ambiguous_timestamp(local).earlier().unwrap();
                    assert_eq!(earliest, at, "{ctx}: not the first occurrence");
                }
                day = day.tomorrow().unwrap();
            }
        }
    }

    #[test]
    fn fire_at_survives_the_ends_of_the_calendar() {
        let utc = tz("UTC");
        let far = tz("Pacific/Kiritimati"); // +14
        assert_eq!(
            fire_at(date(9999, 12, 31), t("23:59"), &utc),
            Timestamp::MAX
        );
        assert!(
            fire_at(date(-9999, 1, 1), t("00:00"), &far)
                <= fire_at(date(-9999, 1, 2), t("00:00"), &far)
        );
    }

    // ---- local_date / next_occurrence -------------------------------------

    #[test]
    fn local_date_uses_the_zone_not_utc() {
        let now = ts("2026-03-28T20:00:00Z");
        assert_eq!(local_date(now, &tz("Asia/Kolkata")), date(2026, 3, 29));
        assert_eq!(local_date(now, &tz("UTC")), date(2026, 3, 28));
        assert_eq!(
            local_date(ts("2026-03-29T02:00:00Z"), &tz("America/New_York")),
            date(2026, 3, 28)
        );
    }

    #[test]
    fn next_occurrence_today_then_tomorrow() {
        let berlin = tz("Europe/Berlin");
        let at = next_occurrence(ts("2026-01-15T07:59:00Z"), &berlin, t("09:00"));
        assert_eq!(at.to_string(), "2026-01-15T09:00:00+01:00[Europe/Berlin]");
        assert_eq!(at.timestamp(), ts("2026-01-15T08:00:00Z"));
        let at = next_occurrence(ts("2026-01-15T08:00:00Z"), &berlin, t("09:00"));
        assert_eq!(at.to_string(), "2026-01-16T09:00:00+01:00[Europe/Berlin]");
        let at = next_occurrence(ts("2026-03-28T12:00:00Z"), &berlin, t("02:30"));
        assert_eq!(at.to_string(), "2026-03-29T03:00:00+02:00[Europe/Berlin]");
    }

    // ---- plan ---------------------------------------------------------------

    fn berlin() -> TimeZone {
        tz("Europe/Berlin")
    }

    #[test]
    fn time_equal_to_now_posts_not_late() {
        let zone = berlin();
        let input = PlanInput::new(ts("2026-01-15T08:00:00Z"), &zone, t("09:00"));
        assert_eq!(
            plan(&input),
            Plan::PostNow {
                date: date(2026, 1, 15),
                scheduled: ts("2026-01-15T08:00:00Z"),
                late: false
            }
        );
    }

    #[test]
    fn just_before_waits_until_exactly_that_instant() {
        let zone = berlin();
        let input = PlanInput::new(ts("2026-01-15T07:59:59.999Z"), &zone, t("09:00"));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 15),
                at: ts("2026-01-15T08:00:00Z")
            }
        );
    }

    #[test]
    fn lateness_starts_after_the_grace() {
        let zone = berlin();
        let on_time = PlanInput::new(ts("2026-01-15T08:01:00Z"), &zone, t("09:00"));
        assert!(matches!(plan(&on_time), Plan::PostNow { late: false, .. }));
        let late = PlanInput::new(ts("2026-01-15T08:01:01Z"), &zone, t("09:00"));
        assert!(matches!(plan(&late), Plan::PostNow { late: true, .. }));
    }

    #[test]
    fn already_posted_today_waits_for_tomorrow() {
        let zone = berlin();
        let input = PlanInput {
            last_posted: Some(date(2026, 1, 15)),
            ..PlanInput::new(ts("2026-01-15T08:00:30Z"), &zone, t("09:00"))
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 16),
                at: ts("2026-01-16T08:00:00Z")
            }
        );
        // An older last post does not block today.
        let input = PlanInput {
            last_posted: Some(date(2026, 1, 14)),
            ..input
        };
        assert!(matches!(plan(&input), Plan::PostNow { .. }));
    }

    #[test]
    fn skipped_today_waits_for_tomorrow() {
        let zone = berlin();
        let input = PlanInput {
            skip_date: Some(date(2026, 1, 15)),
            ..PlanInput::new(ts("2026-01-15T08:00:00Z"), &zone, t("09:00"))
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 16),
                at: ts("2026-01-16T08:00:00Z")
            }
        );
        // Posted today and tomorrow skipped: the day after.
        let input = PlanInput {
            last_posted: Some(date(2026, 1, 15)),
            skip_date: Some(date(2026, 1, 16)),
            ..input
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 17),
                at: ts("2026-01-17T08:00:00Z")
            }
        );
        // A skip of another date changes nothing today.
        let input = PlanInput {
            last_posted: None,
            skip_date: Some(date(2026, 1, 14)),
            ..input
        };
        assert!(matches!(plan(&input), Plan::PostNow { .. }));
    }

    #[test]
    fn missed_by_three_hours_posts_late() {
        let zone = berlin();
        let input = PlanInput::new(ts("2026-01-15T11:00:00Z"), &zone, t("09:00"));
        assert_eq!(
            plan(&input),
            Plan::PostNow {
                date: date(2026, 1, 15),
                scheduled: ts("2026-01-15T08:00:00Z"),
                late: true
            }
        );
    }

    #[test]
    fn missed_by_thirteen_hours_waits_for_tomorrow() {
        let zone = berlin();
        let input = PlanInput::new(ts("2026-01-15T21:00:00Z"), &zone, t("09:00"));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 16),
                at: ts("2026-01-16T08:00:00Z")
            }
        );
        // Exactly max_late still posts.
        let input = PlanInput::new(ts("2026-01-15T20:00:00Z"), &zone, t("09:00"));
        assert!(matches!(plan(&input), Plan::PostNow { late: true, .. }));
        // A shorter max_late is honoured.
        let input = PlanInput {
            max_late: SignedDuration::from_hours(2),
            ..PlanInput::new(ts("2026-01-15T11:00:00Z"), &zone, t("09:00"))
        };
        assert_eq!(plan(&input).date(), date(2026, 1, 16));
    }

    #[test]
    fn negative_max_late_still_posts_exactly_on_time() {
        let zone = berlin();
        let input = PlanInput {
            max_late: SignedDuration::from_hours(-1),
            ..PlanInput::new(ts("2026-01-15T08:00:00Z"), &zone, t("09:00"))
        };
        assert!(matches!(plan(&input), Plan::PostNow { late: false, .. }));
        let input = PlanInput {
            now: ts("2026-01-15T08:00:01Z"),
            ..input
        };
        assert_eq!(plan(&input).date(), date(2026, 1, 16));
    }

    #[test]
    fn missed_post_of_a_previous_date_is_dropped() {
        // 23:30 yesterday was missed; 40 minutes later it is a new local day.
        let zone = berlin();
        let input = PlanInput::new(ts("2026-01-15T23:10:00Z"), &zone, t("23:30"));
        assert_eq!(local_date(input.now, &zone), date(2026, 1, 16));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 1, 16),
                at: ts("2026-01-16T22:30:00Z")
            }
        );
    }

    #[test]
    fn schedule_changed_mid_day() {
        let zone = berlin();
        let now = ts("2026-01-15T09:00:00Z"); // 10:00 local
        let armed = PlanInput {
            armed_from: now,
            ..PlanInput::new(now, &zone, t("09:00"))
        };
        // 09:00 already passed when armed: not posted at once, tomorrow.
        assert_eq!(
            plan(&armed),
            Plan::WaitUntil {
                date: date(2026, 1, 16),
                at: ts("2026-01-16T08:00:00Z")
            }
        );
        // Still true later the same day.
        let later = PlanInput {
            now: ts("2026-01-15T12:00:00Z"),
            ..armed.clone()
        };
        assert_eq!(plan(&later).date(), date(2026, 1, 16));
        // 18:00 is still ahead: today.
        let evening = PlanInput {
            time: t("18:00"),
            ..armed.clone()
        };
        assert_eq!(
            plan(&evening),
            Plan::WaitUntil {
                date: date(2026, 1, 15),
                at: ts("2026-01-15T17:00:00Z")
            }
        );
        // Armed exactly at the post time: that occurrence counts.
        let exact = PlanInput {
            time: t("10:00"),
            ..armed
        };
        assert!(matches!(plan(&exact), Plan::PostNow { late: false, .. }));
    }

    #[test]
    fn armed_in_the_future_waits_for_the_first_post_after_it() {
        let zone = berlin();
        let input = PlanInput {
            armed_from: ts("2026-02-01T12:00:00Z"), // resumed from 13:00 local on Feb 1
            ..PlanInput::new(ts("2026-01-15T07:00:00Z"), &zone, t("09:00"))
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 2, 2),
                at: ts("2026-02-02T08:00:00Z")
            }
        );
    }

    #[test]
    fn last_posted_in_the_future_is_respected() {
        // E.g. the host clock was wrong once: no post until after that date.
        let zone = berlin();
        let input = PlanInput {
            last_posted: Some(date(2026, 6, 1)),
            ..PlanInput::new(ts("2026-01-15T08:00:00Z"), &zone, t("09:00"))
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 6, 2),
                at: ts("2026-06-02T07:00:00Z")
            }
        );
    }

    #[test]
    fn just_after_local_midnight_in_a_zone_ahead_of_utc() {
        let kolkata = tz("Asia/Kolkata");
        // 00:15 on 03-29 local is 18:45Z on 03-28: the post belongs to 03-29.
        let now = ts("2026-03-28T18:45:00Z");
        let input = PlanInput {
            last_posted: Some(date(2026, 3, 28)),
            ..PlanInput::new(now, &kolkata, t("00:15"))
        };
        assert_eq!(
            plan(&input),
            Plan::PostNow {
                date: date(2026, 3, 29),
                scheduled: now,
                late: false
            }
        );
        // Once 03-29 is posted, the next is 03-30 00:15 local = 03-29 18:45Z.
        let input = PlanInput {
            last_posted: Some(date(2026, 3, 29)),
            ..input
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 3, 30),
                at: ts("2026-03-29T18:45:00Z")
            }
        );
        // A minute before local midnight, 03-28 is still today locally.
        let input = PlanInput {
            now: ts("2026-03-28T18:29:00Z"),
            last_posted: Some(date(2026, 3, 28)),
            ..input
        };
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 3, 29),
                at: ts("2026-03-28T18:45:00Z")
            }
        );
    }

    #[test]
    fn late_evening_in_a_zone_behind_utc() {
        let ny = tz("America/New_York");
        // 23:30 on 06-01 EDT is 03:30Z on 06-02: the post belongs to 06-01.
        let input = PlanInput::new(ts("2026-06-02T03:30:00Z"), &ny, t("23:30"));
        assert_eq!(
            plan(&input),
            Plan::PostNow {
                date: date(2026, 6, 1),
                scheduled: ts("2026-06-02T03:30:00Z"),
                late: false
            }
        );
    }

    #[test]
    fn plan_on_the_spring_forward_day() {
        let zone = berlin();
        let before = PlanInput::new(ts("2026-03-29T00:59:00Z"), &zone, t("02:30"));
        assert_eq!(
            plan(&before),
            Plan::WaitUntil {
                date: date(2026, 3, 29),
                at: ts("2026-03-29T01:00:00Z")
            }
        );
        let at_gap_end = PlanInput {
            now: ts("2026-03-29T01:00:00Z"),
            ..before
        };
        assert_eq!(
            plan(&at_gap_end),
            Plan::PostNow {
                date: date(2026, 3, 29),
                scheduled: ts("2026-03-29T01:00:00Z"),
                late: false
            }
        );
    }

    #[test]
    fn plan_on_the_fall_back_day_posts_once() {
        let zone = berlin();
        let first = PlanInput::new(ts("2026-10-25T00:30:00Z"), &zone, t("02:30"));
        assert_eq!(
            plan(&first),
            Plan::PostNow {
                date: date(2026, 10, 25),
                scheduled: ts("2026-10-25T00:30:00Z"),
                late: false
            }
        );
        // At the second 02:30, after posting at the first: tomorrow (CET).
        let second = PlanInput {
            now: ts("2026-10-25T01:30:00Z"),
            last_posted: Some(date(2026, 10, 25)),
            ..first.clone()
        };
        assert_eq!(
            plan(&second),
            Plan::WaitUntil {
                date: date(2026, 10, 26),
                at: ts("2026-10-26T01:30:00Z")
            }
        );
        // Bot down through the first 02:30: the second is an hour late.
        let recovered = PlanInput {
            now: ts("2026-10-25T01:30:00Z"),
            ..first
        };
        assert_eq!(
            plan(&recovered),
            Plan::PostNow {
                date: date(2026, 10, 25),
                scheduled: ts("2026-10-25T00:30:00Z"),
                late: true
            }
        );
    }

    #[test]
    fn plan_in_new_york_and_lord_howe_transitions() {
        let ny = tz("America/New_York");
        let input = PlanInput::new(ts("2026-11-01T05:00:00Z"), &ny, t("01:30"));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 11, 1),
                at: ts("2026-11-01T05:30:00Z")
            }
        );
        let input = PlanInput::new(ts("2026-03-08T06:30:00Z"), &ny, t("02:30"));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 3, 8),
                at: ts("2026-03-08T07:00:00Z")
            }
        );
        let lh = tz("Australia/Lord_Howe");
        let input = PlanInput::new(ts("2026-10-03T15:29:00Z"), &lh, t("02:10"));
        assert_eq!(
            plan(&input),
            Plan::WaitUntil {
                date: date(2026, 10, 4),
                at: ts("2026-10-03T15:30:00Z")
            }
        );
    }

    #[test]
    fn plan_nuuk_gap_straddling_midnight_still_posts_for_that_date() {
        let nuuk = tz("America/Nuuk");
        let before = PlanInput {
            last_posted: Some(date(2026, 3, 27)),
            ..PlanInput::new(ts("2026-03-29T00:59:00Z"), &nuuk, t("23:30"))
        };
        assert_eq!(local_date(before.now, &nuuk), date(2026, 3, 28));
        assert_eq!(
            plan(&before),
            Plan::WaitUntil {
                date: date(2026, 3, 28),
                at: ts("2026-03-29T01:00:00Z")
            }
        );
        // At the gap's end it is already 03-29 locally; 03-28's post goes out.
        let at_end = PlanInput {
            now: ts("2026-03-29T01:00:00Z"),
            ..before.clone()
        };
        assert_eq!(local_date(at_end.now, &nuuk), date(2026, 3, 29));
        assert_eq!(
            plan(&at_end),
            Plan::PostNow {
                date: date(2026, 3, 28),
                scheduled: ts("2026-03-29T01:00:00Z"),
                late: false
            }
        );
        // Then 03-29's own post at 23:30 (-01).
        let after = PlanInput {
            last_posted: Some(date(2026, 3, 28)),
            ..at_end
        };
        assert_eq!(
            plan(&after),
            Plan::WaitUntil {
                date: date(2026, 3, 29),
                at: ts("2026-03-30T00:30:00Z")
            }
        );
        assert_eq!(
            next_occurrence(ts("2026-03-29T00:30:00Z"), &nuuk, t("23:30")).timestamp(),
            ts("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn plan_accessors() {
        let post = Plan::PostNow {
            date: date(2026, 1, 1),
            scheduled: ts("2026-01-01T08:00:00Z"),
            late: false,
        };
        assert_eq!(
            (post.date(), post.scheduled()),
            (date(2026, 1, 1), ts("2026-01-01T08:00:00Z"))
        );
        let wait = Plan::WaitUntil {
            date: date(2026, 1, 2),
            at: ts("2026-01-02T08:00:00Z"),
        };
        assert_eq!(
            (wait.date(), wait.scheduled()),
            (date(2026, 1, 2), ts("2026-01-02T08:00:00Z"))
        );
    }

    /// Drives the planner like the bot would, a tick every minute across the
    /// DST weeks, recording each post. Every local date gets exactly one post,
    /// at its `fire_at` instant, and a WaitUntil is never in the past.
    #[test]
    fn simulated_ticks_post_exactly_once_per_local_date() {
        let cases = [
            ("Europe/Berlin", "2026-03-26T00:00:00Z", "02:30"),
            ("Europe/Berlin", "2026-10-22T00:00:00Z", "02:30"),
            ("Europe/Berlin", "2026-10-22T00:00:00Z", "09:00"),
            ("America/New_York", "2026-10-29T00:00:00Z", "01:30"),
            ("America/New_York", "2026-03-05T00:00:00Z", "02:15"),
            ("Australia/Lord_Howe", "2026-04-02T00:00:00Z", "01:45"),
            ("Australia/Lord_Howe", "2026-10-01T00:00:00Z", "02:10"),
            ("Asia/Kolkata", "2026-03-26T00:00:00Z", "00:00"),
            ("America/Nuuk", "2026-03-25T00:00:00Z", "23:30"),
            ("America/Nuuk", "2026-10-21T00:00:00Z", "23:30"),
        ];
        for (name, start, time) in cases {
            let zone = tz(name);
            let time = t(time);
            let start = ts(start);
            let mut last_posted: Option<Date> = None;
            let mut posts: Vec<(Date, Timestamp)> = vec![];
            for minute in 0..7 * 24 * 60 {
                let now = start + SignedDuration::from_mins(minute);
                let input = PlanInput {
                    armed_from: start,
                    last_posted,
                    ..PlanInput::new(now, &zone, time)
                };
                match plan(&input) {
                    Plan::PostNow {
                        date,
                        scheduled,
                        late,
                    } => {
                        assert!(!late, "{name} {now}: late");
                        assert_eq!(scheduled, now, "{name}: posted off schedule");
                        posts.push((date, now));
                        last_posted = Some(date);
                    }
                    Plan::WaitUntil { at, .. } => assert!(at > now, "{name} {now}: waits for {at}"),
                }
            }
            let expected: Vec<(Date, Timestamp)> = {
                let mut day = local_date(start, &zone);
                let end = start + SignedDuration::from_mins(7 * 24 * 60);
                let mut out = vec![];
                loop {
                    let at = fire_at(day, time, &zone);
                    if at >= end {
                        break;
                    }
                    if at >= start {
                        out.push((day, at));
                    }
                    day = day.tomorrow().unwrap();
                }
                out
            };
            assert_eq!(posts, expected, "{name}");
            assert!(posts.len() >= 6, "{name}: {posts:?}");
        }
    }
}
