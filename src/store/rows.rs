//! The rows the store reads and writes, shared by both backends: plain values, so the edge
//! and the core never see a driver type.

use std::time::Duration;

use jiff::Timestamp;

use super::states::{FinishState, PostKind, PostState, ReminderState, RoundStatus};
use crate::practice::{CardState, Grade, ReviewSource};

/// A message the bot posted that shows a question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionMessage {
    pub message_id: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub question_id: String,
}

/// A guild's daily schedule, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRow {
    pub guild_id: u64,
    pub channel_id: u64,
    /// `HH:MM`.
    pub time: String,
    /// IANA zone name.
    pub tz: String,
    pub role_id: Option<u64>,
    /// JSON of a [`crate::bank::Filter`].
    pub filter: String,
    pub thread: bool,
    pub paused: bool,
    /// `YYYY-MM-DD` of a skipped local date.
    pub skip_date: Option<String>,
    /// Unix ms: occurrences before this are never posted (set, changed or resumed then).
    pub armed_from: i64,
    /// The last delivery problem, shown in `/daily show`.
    pub last_error: Option<String>,
}

/// State of one guild's post for one local date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostRow {
    /// Row id (0 before it is stored).
    pub id: i64,
    pub guild_id: u64,
    pub local_date: String,
    pub number: i64,
    pub question_id: String,
    pub channel_id: u64,
    pub nonce: String,
    pub state: PostState,
    pub message_id: Option<u64>,
    pub thread_id: Option<u64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub kind: PostKind,
    /// Whether the post should get a discussion thread (the schedule's setting when sent).
    pub thread_wanted: bool,
    /// Whether the reveal reaction was added.
    pub reaction_done: bool,
    /// Whether the thread's opening message (the follow-ups) was posted.
    pub opening_done: bool,
    pub finish: FinishState,
    /// Why a finishing step failed, for `/daily show`.
    pub finish_error: Option<String>,
}

/// A running or ended quiz round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundRow {
    pub id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub starter_id: u64,
    pub status: RoundStatus,
    pub questions_total: i64,
    pub questions_played: i64,
}

/// One user's score in one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreRow {
    pub user_id: u64,
    pub points_milli: i64,
    pub correct: i64,
    pub answered: i64,
}

/// One row of a guild's all-time leaderboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderRow {
    pub user_id: u64,
    pub points_milli: i64,
    pub rounds: i64,
    pub correct: i64,
    pub answered: i64,
}

/// One event for the log: a graded review, or (grade `None`) a reveal of the daily question.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewEvent {
    pub user_id: u64,
    pub question_id: String,
    pub grade: Option<Grade>,
    pub source: ReviewSource,
    pub at: Timestamp,
    pub guild_id: Option<u64>,
    pub message_id: Option<u64>,
}

/// What [`Store::review_card`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Reviewed {
    /// The card was updated and the review logged.
    Done(CardState),
    /// The caller's check refused the review (e.g. the card was graded meanwhile); nothing
    /// was written. Holds the card as it is.
    Refused(Option<CardState>),
}

/// One logged event, with the time zone name of the server it happened in (its daily-post
/// schedule's), if it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRow {
    pub question_id: String,
    pub grade: Option<Grade>,
    pub source: ReviewSource,
    pub at: Timestamp,
    pub guild_id: Option<u64>,
    pub tz: Option<String>,
}

/// A member's reminder setting, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderRow {
    pub user_id: u64,
    /// `HH:MM`.
    pub time: String,
    /// IANA zone name.
    pub tz: String,
    /// Unix ms: occurrences before this are never sent (turned on or changed then).
    pub armed_from: i64,
}

/// One member's reminder for one local date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderSend {
    pub id: i64,
    pub user_id: u64,
    pub local_date: String,
    pub nonce: String,
    pub state: ReminderState,
    /// Cards due when the intent was recorded (what the DM says).
    pub due: u32,
    /// The DM channel, once known.
    pub channel_id: Option<u64>,
    pub message_id: Option<u64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const DAY: u64 = 86_400;

/// How long the store keeps what grows with use. Rows older than their period are deleted by
/// [`Store::purge`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Question messages, counted from when they were posted, and with each its reveals. A
    /// reaction on an older message no longer reveals the answer. Default 180 days.
    pub question_messages: Duration,
    /// Per-member shuffle-bags (`…:user:<id>` scopes, e.g. private `/ask`, and `practice:`
    /// scopes), counted from the last draw; the member's next draw starts a fresh cycle.
    /// Channel, quiz and daily bags are shared and kept. Default 90 days.
    pub member_bags: Duration,
    /// Settled (sent or failed) daily posts, counted from the intent. Each guild's latest
    /// settled scheduled post is kept (the scheduler's "last posted date" is read from it), and
    /// its highest-numbered post (the numbering continues from it); pending posts are never
    /// purged. Default 400 days: a year of posts, and "a year ago" stays answerable.
    pub daily_posts: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            question_messages: Duration::from_secs(180 * DAY),
            member_bags: Duration::from_secs(90 * DAY),
            daily_posts: Duration::from_secs(400 * DAY),
        }
    }
}

/// Rows deleted by one [`Store::purge`], per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub question_messages: usize,
    pub reveals: usize,
    pub member_bags: usize,
    pub daily_posts: usize,
}

impl Purged {
    /// One log line for a purge that deleted something (either backend).
    pub(crate) fn log(&self) {
        if self.total() > 0 {
            tracing::info!(
                question_messages = self.question_messages,
                reveals = self.reveals,
                member_bags = self.member_bags,
                daily_posts = self.daily_posts,
                "purged rows past their retention period"
            );
        }
    }

    pub fn total(&self) -> usize {
        self.question_messages + self.reveals + self.member_bags + self.daily_posts
    }
}

/// Rows deleted by [`Store::delete_member`], per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub reveals: usize,
    pub member_bags: usize,
    pub quiz_scores: usize,
    pub practice_cards: usize,
    /// Logged grades and daily reveals (streaks, `/stats`).
    pub practice_reviews: usize,
    /// Rounds the member started: kept for the others' scores, with the starter cleared.
    pub rounds_started: usize,
    /// The reminder setting (0 or 1) and every reminder recorded for the member.
    pub reminder_settings: usize,
    pub reminder_sends: usize,
}

impl Forgotten {
    /// One log line for a "forget me" request: counts only, so the log does not keep who
    /// asked.
    pub(crate) fn log(&self) {
        tracing::info!(
            reveals = self.reveals,
            member_bags = self.member_bags,
            quiz_scores = self.quiz_scores,
            rounds_started = self.rounds_started,
            practice_cards = self.practice_cards,
            practice_reviews = self.practice_reviews,
            reminder_settings = self.reminder_settings,
            reminder_sends = self.reminder_sends,
            "forgot a member"
        );
    }

    pub fn total(&self) -> usize {
        self.reveals
            + self.member_bags
            + self.quiz_scores
            + self.practice_cards
            + self.practice_reviews
            + self.rounds_started
            + self.reminder_settings
            + self.reminder_sends
    }
}

/// `now_ms - period`, saturating: a period longer than the clock purges nothing.
pub(crate) fn cutoff(now_ms: i64, period: Duration) -> i64 {
    now_ms.saturating_sub(i64::try_from(period.as_millis()).unwrap_or(i64::MAX))
}

// Both databases store integers as i64; Discord ids are u64 below 2^63, so the cast is
// lossless.
pub(crate) fn id(v: u64) -> i64 {
    v as i64
}
pub(crate) fn uid(v: i64) -> u64 {
    v as u64
}
