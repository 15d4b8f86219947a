//! Group quiz rounds: the pure state machine behind `/quiz start`.
//!
//! A [`Round`] holds the questions of one round and everything players did. The Discord
//! driver feeds it events (a question opens, a player clicks, a deadline passes, someone
//! skips or stops) together with the current time in milliseconds of a monotonic clock,
//! and renders what it returns. Nothing here does I/O, sleeps or reads a clock.
//!
//! Life of a round:
//!
//! ```text
//! new ─▶ open_next ─▶ answer* ─▶ close / on_deadline ─▶ open_next ─▶ … ─▶ None ─▶ finish
//!                         └── should_close_early() after each lock-in
//! stop: close the open question (its answers count) and finish
//! finish: end now; an open question is dropped unscored (e.g. after a restart)
//! ```
//!
//! Points are integer milli-points: a correct answer is worth 1000 (one point), or with
//! the speed bonus `1000 × (1 − t / 2T)` rounded, `t` being the time from the question
//! opening to the answer and `T` the question's duration (as in python-discord
//! sir-lancebot's trivianight): 1000 for an instant answer, 500 at the deadline.

pub mod choices;

use serde::{Deserialize, Serialize};

pub use choices::{build_item, choice_key, letter, letter_index, QuizItem, CHOICES};

/// A Discord user id.
pub type UserId = u64;
/// Milliseconds of a monotonic clock supplied by the driver.
pub type Millis = u64;

/// Milli-points of a correct answer without speed bonus (one point).
pub const POINTS_CORRECT: i64 = 1000;

/// Bounds and defaults of the `/quiz start` options.
pub const QUESTIONS_MIN: u32 = 1;
pub const QUESTIONS_MAX: u32 = 50;
pub const QUESTIONS_DEFAULT: u32 = 5;
pub const SECONDS_MIN: u32 = 10;
pub const SECONDS_MAX: u32 = 120;
pub const SECONDS_DEFAULT: u32 = 30;

/// How a round is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSettings {
    /// How long each question stays open.
    pub seconds_per_question: u32,
    /// Whether faster correct answers earn more (see [`points_for`]).
    pub speed_bonus: bool,
}

impl Default for RoundSettings {
    fn default() -> Self {
        RoundSettings {
            seconds_per_question: SECONDS_DEFAULT,
            speed_bonus: false,
        }
    }
}

impl RoundSettings {
    /// A question's duration in milliseconds.
    pub fn question_millis(&self) -> Millis {
        Millis::from(self.seconds_per_question) * 1000
    }
}

/// Where a round is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// No question shown yet.
    NotStarted,
    /// Question `index` takes answers from `opened_at` until (excluding) `deadline`.
    Open {
        index: usize,
        opened_at: Millis,
        deadline: Millis,
    },
    /// Question `index` has been closed and scored; the next one is not open yet.
    Closed { index: usize },
    /// The round is over; nothing changes any more.
    Finished,
}

/// What the driver shows when a question opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// 0-based position in the round ("Question {index + 1}/{total}").
    pub index: usize,
    pub total: usize,
    pub item: QuizItem,
    pub opened_at: Millis,
    /// When the driver should call [`Round::on_deadline`] for `index`.
    pub deadline: Millis,
}

/// The reply to a click.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerOutcome {
    /// The answer counts ("Locked in: B").
    LockedIn { choice: usize },
    /// The user already answered this question; `choice` is the first answer, which counts.
    AlreadyAnswered { choice: usize },
    /// Not accepted: the question is closed or not the open one, its deadline has passed,
    /// or the round is not running.
    NotOpen,
    /// The choice is not one of A–D (a malformed button id); nothing recorded.
    InvalidChoice,
}

/// One player's running totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub user: UserId,
    /// Milli-points.
    pub points: i64,
    pub correct: u32,
    pub answered: u32,
}

impl Tally {
    /// `correct / answered` in `0.0..=1.0`; 0 when nothing was answered.
    pub fn accuracy(&self) -> f64 {
        accuracy(self.correct, self.answered)
    }
}

/// One line of the standings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub user: UserId,
    /// Milli-points; render with [`format_points`].
    pub points: i64,
    pub correct: u32,
    pub answered: u32,
    /// Competition rank from 1: players with equal points and equal correct answers share
    /// a rank, and the next rank skips (1, 1, 3).
    pub rank: usize,
}

impl Standing {
    /// `correct / answered` in `0.0..=1.0`; 0 when nothing was answered.
    pub fn accuracy(&self) -> f64 {
        accuracy(self.correct, self.answered)
    }

    /// Accuracy as a whole percentage, rounded.
    pub fn accuracy_percent(&self) -> u32 {
        accuracy_percent(u64::from(self.correct), u64::from(self.answered))
    }
}

/// What the driver shows when a question closes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub index: usize,
    /// The question, with `item.correct` to mark and `item.explanation` to show.
    pub item: QuizItem,
    /// How many players picked A, B, C, D.
    pub split: [usize; CHOICES],
    /// Players who were right and the milli-points each earned, in lock-in order.
    pub correct_users: Vec<(UserId, i64)>,
    /// Every locked-in answer `(user, choice)`, in lock-in order.
    pub answered: Vec<(UserId, usize)>,
    /// Standings after this question.
    pub standings: Vec<Standing>,
    pub closed_at: Millis,
    /// Closed before its deadline (everyone answered, skipped or stopped).
    pub closed_early: bool,
}

/// The end of a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Final {
    pub standings: Vec<Standing>,
    /// Players with rank ≤ 3 and more than 0 points (ties can make it more than three).
    pub podium: Vec<Standing>,
    /// Questions closed and scored.
    pub questions_played: usize,
    /// Questions the round was built with.
    pub questions_total: usize,
    /// Per-player totals for the all-time leaderboard, by user id.
    pub totals: Vec<Tally>,
    /// The question [`Round::stop`] closed, if one was open.
    pub stopped: Option<QuestionResult>,
}

/// One locked-in answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Answer {
    user: UserId,
    choice: usize,
    at: Millis,
}

/// One quiz round. Serializable, so the driver may snapshot it (e.g. after each question)
/// and, after a restart, restore it and call [`Round::finish`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    items: Vec<QuizItem>,
    settings: RoundSettings,
    phase: Phase,
    /// Index of the next question to open.
    next: usize,
    /// Locked-in answers per question, in lock-in order.
    answers: Vec<Vec<Answer>>,
    /// Running totals, sorted by user id.
    totals: Vec<Tally>,
    questions_played: usize,
}

impl Round {
    pub fn new(items: Vec<QuizItem>, settings: RoundSettings) -> Round {
        let answers = vec![Vec::new(); items.len()];
        Round {
            items,
            settings,
            phase: Phase::NotStarted,
            next: 0,
            answers,
            totals: Vec::new(),
            questions_played: 0,
        }
    }

    pub fn settings(&self) -> RoundSettings {
        self.settings
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn items(&self) -> &[QuizItem] {
        &self.items
    }

    pub fn total_questions(&self) -> usize {
        self.items.len()
    }

    /// Questions closed and scored so far.
    pub fn questions_played(&self) -> usize {
        self.questions_played
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Removes everything of `user` from the round: their locked-in answers and their totals,
    /// as if they had never played ("forget me"). Returns whether there was anything.
    pub fn forget_player(&mut self, user: UserId) -> bool {
        let mut found = false;
        for answers in &mut self.answers {
            let before = answers.len();
            answers.retain(|a| a.user != user);
            found |= answers.len() != before;
        }
        let before = self.totals.len();
        self.totals.retain(|t| t.user != user);
        found || self.totals.len() != before
    }

    /// Whether [`Round::open_next`] would show another question once nothing is open.
    pub fn has_next(&self) -> bool {
        self.phase != Phase::Finished && self.next < self.items.len()
    }

    /// The open question's index and deadline.
    pub fn open_question(&self) -> Option<(usize, Millis)> {
        match self.phase {
            Phase::Open {
                index, deadline, ..
            } => Some((index, deadline)),
            _ => None,
        }
    }

    /// Opens the next question at `now`. `None` when there is no next question (the driver
    /// then calls [`Round::finish`]), when the round is finished, or when a question is
    /// still open (close it first; nothing changes).
    pub fn open_next(&mut self, now: Millis) -> Option<Asked> {
        match self.phase {
            Phase::NotStarted | Phase::Closed { .. } => {}
            Phase::Open { .. } | Phase::Finished => return None,
        }
        let index = self.next;
        let item = self.items.get(index)?.clone();
        let deadline = now.saturating_add(self.settings.question_millis());
        self.next += 1;
        self.phase = Phase::Open {
            index,
            opened_at: now,
            deadline,
        };
        Some(Asked {
            index,
            total: self.items.len(),
            item,
            opened_at: now,
            deadline,
        })
    }

    /// A click: `user` picks `choice` (0..4) on question `index` at `now`. Only the first
    /// answer per user and question counts; an answer at or after the deadline is refused.
    pub fn answer(
        &mut self,
        user: UserId,
        index: usize,
        choice: usize,
        now: Millis,
    ) -> AnswerOutcome {
        let Phase::Open {
            index: open,
            deadline,
            ..
        } = self.phase
        else {
            return AnswerOutcome::NotOpen;
        };
        if index != open || now >= deadline {
            return AnswerOutcome::NotOpen;
        }
        let Some(answers) = self.answers.get_mut(index) else {
            return AnswerOutcome::NotOpen;
        };
        if let Some(first) = answers.iter().find(|a| a.user == user) {
            return AnswerOutcome::AlreadyAnswered {
                choice: first.choice,
            };
        }
        if choice >= CHOICES {
            return AnswerOutcome::InvalidChoice;
        }
        answers.push(Answer {
            user,
            choice,
            at: now,
        });
        AnswerOutcome::LockedIn { choice }
    }

    /// How many players have locked in on the open question (0 when none is open).
    pub fn answered_count(&self) -> usize {
        match self.phase {
            Phase::Open { index, .. } => self.answers.get(index).map_or(0, Vec::len),
            _ => 0,
        }
    }

    /// Whether the open question may close before its deadline: never the first question;
    /// from the second on, once everyone who answered the previous question has answered
    /// this one (and somebody answered the previous one).
    pub fn should_close_early(&self) -> bool {
        let Phase::Open { index, .. } = self.phase else {
            return false;
        };
        if index == 0 {
            return false;
        }
        let (Some(previous), Some(current)) =
            (self.answers.get(index - 1), self.answers.get(index))
        else {
            return false;
        };
        // Checked after every click: with hundreds of players, comparing every pair would cost
        // each click a quadratic scan. Fewer answers than before cannot cover everyone yet.
        if previous.is_empty() || current.len() < previous.len() {
            return false;
        }
        let here: std::collections::HashSet<UserId> = current.iter().map(|c| c.user).collect();
        previous.iter().all(|p| here.contains(&p.user))
    }

    /// Closes and scores the open question at `now`: at its deadline, early, or skipped.
    /// Its locked-in answers count. `None` when no question is open.
    pub fn close(&mut self, now: Millis) -> Option<QuestionResult> {
        let Phase::Open {
            index,
            opened_at,
            deadline,
        } = self.phase
        else {
            return None;
        };
        let item = self.items.get(index)?.clone();
        let answers = self.answers.get(index).cloned().unwrap_or_default();
        let duration = self.settings.question_millis();

        let mut split = [0usize; CHOICES];
        let mut correct_users = Vec::new();
        let mut answered = Vec::with_capacity(answers.len());
        for a in &answers {
            if let Some(n) = split.get_mut(a.choice) {
                *n += 1;
            }
            answered.push((a.user, a.choice));
            let right = a.choice == item.correct;
            let points = if right {
                points_for(
                    self.settings.speed_bonus,
                    a.at.saturating_sub(opened_at),
                    duration,
                )
            } else {
                0
            };
            if right {
                correct_users.push((a.user, points));
            }
            let tally = self.tally_mut(a.user);
            tally.answered = tally.answered.saturating_add(1);
            if right {
                tally.correct = tally.correct.saturating_add(1);
                tally.points = tally.points.saturating_add(points);
            }
        }

        self.phase = Phase::Closed { index };
        self.questions_played += 1;
        Some(QuestionResult {
            index,
            item,
            split,
            correct_users,
            answered,
            standings: self.standings(),
            closed_at: now,
            closed_early: now < deadline,
        })
    }

    /// The deadline timer of question `index` fired at `now`. Closes that question if it
    /// is the open one; a stale timer (another question, or already closed) is ignored.
    pub fn on_deadline(&mut self, index: usize, now: Millis) -> Option<QuestionResult> {
        match self.phase {
            Phase::Open { index: open, .. } if open == index => self.close(now),
            _ => None,
        }
    }

    /// `/quiz stop`: closes the open question (its locked-in answers count; it is in
    /// `Final::stopped`) and finishes the round.
    pub fn stop(&mut self, now: Millis) -> Final {
        let stopped = self.close(now);
        let mut fin = self.finish();
        fin.stopped = stopped;
        fin
    }

    /// Ends the round with what has been scored. An open question is dropped without
    /// scoring (use [`Round::stop`] to count it). Calling it again gives the same result.
    pub fn finish(&mut self) -> Final {
        self.phase = Phase::Finished;
        let standings = self.standings();
        let podium = standings
            .iter()
            .filter(|s| s.rank <= 3 && s.points > 0)
            .copied()
            .collect();
        Final {
            standings,
            podium,
            questions_played: self.questions_played,
            questions_total: self.items.len(),
            totals: self.totals.clone(),
            stopped: None,
        }
    }

    /// Everyone who has answered a scored question, best first: by points, then correct
    /// answers, then user id; ties on points and correct answers share a rank.
    pub fn standings(&self) -> Vec<Standing> {
        let mut sorted = self.totals.clone();
        sorted.sort_by(|a, b| {
            b.points
                .cmp(&a.points)
                .then(b.correct.cmp(&a.correct))
                .then(a.user.cmp(&b.user))
        });
        let ranks = competition_ranks(&sorted, |t| (t.points, t.correct));
        sorted
            .iter()
            .zip(ranks)
            .map(|(t, rank)| Standing {
                user: t.user,
                points: t.points,
                correct: t.correct,
                answered: t.answered,
                rank,
            })
            .collect()
    }

    /// Running totals per player (scored questions only), by user id.
    pub fn totals(&self) -> &[Tally] {
        &self.totals
    }

    fn tally_mut(&mut self, user: UserId) -> &mut Tally {
        let i = match self.totals.binary_search_by_key(&user, |t| t.user) {
            Ok(i) => i,
            Err(i) => {
                self.totals.insert(
                    i,
                    Tally {
                        user,
                        ..Tally::default()
                    },
                );
                i
            }
        };
        &mut self.totals[i]
    }
}

/// Milli-points of a correct answer given `elapsed` ms after the question opened, for a
/// question lasting `duration` ms: 1000, or with the speed bonus `1000 × (1 − t / 2T)`
/// rounded half up, `t` capped at `T` (so 1000 … 500).
pub fn points_for(speed_bonus: bool, elapsed: Millis, duration: Millis) -> i64 {
    if !speed_bonus || duration == 0 {
        return POINTS_CORRECT;
    }
    let t = u128::from(elapsed.min(duration));
    let two_t = 2 * u128::from(duration);
    let full = POINTS_CORRECT as u128;
    // full × (2T − t) / 2T, rounded half up.
    ((full * (two_t - t) + two_t / 2) / two_t) as i64
}

/// Milli-points as points for display: 1000 → "1", 750 → "0.75", 2500 → "2.5",
/// 1234 → "1.234", -500 → "-0.5".
pub fn format_points(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let abs = milli.unsigned_abs();
    let whole = abs / 1000;
    let frac = abs % 1000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:03}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

fn accuracy(correct: u32, answered: u32) -> f64 {
    if answered == 0 {
        0.0
    } else {
        f64::from(correct) / f64::from(answered)
    }
}

/// `correct / answered` as a whole percentage, rounded half up; 0 when nothing was answered.
/// The one accuracy figure every standings and leaderboard line shows.
pub fn accuracy_percent(correct: u64, answered: u64) -> u32 {
    (correct.min(answered) * 100 + answered / 2)
        .checked_div(answered)
        .map_or(0, |p| p as u32)
}

/// Competition ranks ("1, 1, 3") of `sorted`, best first: entries with an equal `key` share
/// a rank and the next rank skips. The one ranking rule of rounds, restarts and the
/// all-time table.
pub fn competition_ranks<T, K: PartialEq>(sorted: &[T], key: impl Fn(&T) -> K) -> Vec<usize> {
    let mut ranks: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, t) in sorted.iter().enumerate() {
        let tied = i > 0 && key(&sorted[i - 1]) == key(t);
        ranks.push(if tied { ranks[i - 1] } else { i + 1 });
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const T: Millis = 30_000;
    const ALICE: UserId = 1;
    const BOB: UserId = 2;
    const CAROL: UserId = 3;
    const DAVE: UserId = 4;

    /// A question whose correct choice is `correct`.
    fn item(n: usize, correct: usize) -> QuizItem {
        QuizItem {
            question_id: format!("q{n}"),
            prompt: format!("Question {n}?"),
            category: "tech".to_string(),
            difficulty: None,
            choices: std::array::from_fn(|i| format!("choice {n}{}", letter(i))),
            correct,
            explanation: Some(format!("Explanation {n}")),
        }
    }

    /// A round of `n` questions with correct choices A, B, C, D, A, …; 30 s each.
    fn round(n: usize, speed_bonus: bool) -> Round {
        Round::new(
            (0..n).map(|i| item(i, i % CHOICES)).collect(),
            RoundSettings {
                seconds_per_question: 30,
                speed_bonus,
            },
        )
    }

    fn points_of(standings: &[Standing], user: UserId) -> Option<i64> {
        standings.iter().find(|s| s.user == user).map(|s| s.points)
    }

    #[test]
    fn open_next_walks_the_questions_then_none() {
        let mut r = round(2, false);
        assert_eq!(r.phase(), Phase::NotStarted);
        assert!(r.has_next());
        let a = r.open_next(1_000).unwrap();
        assert_eq!(
            (a.index, a.total, a.opened_at, a.deadline),
            (0, 2, 1_000, 31_000)
        );
        assert_eq!(a.item, item(0, 0));
        assert_eq!(r.open_question(), Some((0, 31_000)));
        // Refused while a question is open, without changing anything.
        assert_eq!(r.open_next(2_000), None);
        assert_eq!(r.open_question(), Some((0, 31_000)));
        assert!(r.close(5_000).is_some());
        assert_eq!(r.phase(), Phase::Closed { index: 0 });
        let b = r.open_next(6_000).unwrap();
        assert_eq!((b.index, b.deadline), (1, 36_000));
        r.close(7_000).unwrap();
        assert!(!r.has_next());
        assert_eq!(r.open_next(8_000), None);
        assert_eq!(r.finish().questions_played, 2);
        assert_eq!(r.open_next(9_000), None, "nothing after finish");

        let mut empty = round(0, false);
        assert!(!empty.has_next());
        assert_eq!(empty.open_next(0), None);
        let fin = empty.finish();
        assert_eq!((fin.questions_played, fin.questions_total), (0, 0));
        assert!(fin.standings.is_empty() && fin.podium.is_empty());
    }

    #[test]
    fn first_answer_locks_in() {
        let mut r = round(1, false);
        r.open_next(0);
        assert_eq!(r.answered_count(), 0);
        assert_eq!(
            r.answer(ALICE, 0, 1, 100),
            AnswerOutcome::LockedIn { choice: 1 }
        );
        assert_eq!(r.answered_count(), 1);
        assert_eq!(
            r.answer(ALICE, 0, 0, 200),
            AnswerOutcome::AlreadyAnswered { choice: 1 }
        );
        assert_eq!(
            r.answer(ALICE, 0, 1, 300),
            AnswerOutcome::AlreadyAnswered { choice: 1 }
        );
        assert_eq!(
            r.answer(BOB, 0, 0, 400),
            AnswerOutcome::LockedIn { choice: 0 }
        );
        assert_eq!(r.answered_count(), 2);
        let res = r.close(500).unwrap();
        // Alice's later click on the correct choice A did not count.
        assert_eq!(res.answered, vec![(ALICE, 1), (BOB, 0)]);
        assert_eq!(res.correct_users, vec![(BOB, 1000)]);
        assert_eq!(res.split, [1, 1, 0, 0]);
        assert_eq!(r.answered_count(), 0, "nothing open");
    }

    #[test]
    fn answers_at_or_after_the_deadline_are_rejected() {
        let mut r = round(1, false);
        let a = r.open_next(10_000).unwrap();
        assert_eq!(a.deadline, 10_000 + T);
        assert_eq!(
            r.answer(ALICE, 0, 0, a.deadline - 1),
            AnswerOutcome::LockedIn { choice: 0 }
        );
        assert_eq!(r.answer(BOB, 0, 0, a.deadline), AnswerOutcome::NotOpen);
        assert_eq!(
            r.answer(CAROL, 0, 0, a.deadline + 5_000),
            AnswerOutcome::NotOpen
        );
        // Even an AlreadyAnswered reply is not given after the deadline.
        assert_eq!(r.answer(ALICE, 0, 0, a.deadline), AnswerOutcome::NotOpen);
        let res = r.on_deadline(0, a.deadline).unwrap();
        assert_eq!(res.answered, vec![(ALICE, 0)]);
        assert!(!res.closed_early);
    }

    #[test]
    fn answers_to_a_closed_or_other_question_are_rejected() {
        let mut r = round(3, false);
        assert_eq!(
            r.answer(ALICE, 0, 0, 0),
            AnswerOutcome::NotOpen,
            "not started"
        );
        r.open_next(0);
        assert_eq!(
            r.answer(ALICE, 1, 0, 10),
            AnswerOutcome::NotOpen,
            "next question"
        );
        assert_eq!(
            r.answer(ALICE, 99, 0, 10),
            AnswerOutcome::NotOpen,
            "out of range"
        );
        assert_eq!(r.answer(ALICE, usize::MAX, 0, 10), AnswerOutcome::NotOpen);
        r.close(20);
        assert_eq!(r.answer(ALICE, 0, 0, 30), AnswerOutcome::NotOpen, "closed");
        r.open_next(40);
        assert_eq!(
            r.answer(ALICE, 0, 0, 50),
            AnswerOutcome::NotOpen,
            "old question"
        );
        assert_eq!(
            r.answer(ALICE, 1, 1, 50),
            AnswerOutcome::LockedIn { choice: 1 }
        );
        r.finish();
        assert_eq!(
            r.answer(BOB, 1, 1, 60),
            AnswerOutcome::NotOpen,
            "round over"
        );
        assert_eq!(
            r.answer(BOB, 2, 1, 60),
            AnswerOutcome::NotOpen,
            "round over"
        );
    }

    #[test]
    fn invalid_choice_is_rejected_and_not_recorded() {
        let mut r = round(1, false);
        r.open_next(0);
        assert_eq!(r.answer(ALICE, 0, 4, 10), AnswerOutcome::InvalidChoice);
        assert_eq!(
            r.answer(ALICE, 0, usize::MAX, 10),
            AnswerOutcome::InvalidChoice
        );
        assert_eq!(r.answered_count(), 0);
        assert_eq!(
            r.answer(ALICE, 0, 3, 20),
            AnswerOutcome::LockedIn { choice: 3 }
        );
        let res = r.close(30).unwrap();
        assert_eq!(res.split, [0, 0, 0, 1]);
    }

    #[test]
    fn scoring_without_speed_bonus() {
        let mut r = round(2, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 0); // right, instantly
        r.answer(BOB, 0, 0, T - 1); // right, at the last moment
        r.answer(CAROL, 0, 2, 5); // wrong
        r.answer(DAVE, 0, 2, 6); // wrong
        let res = r.close(T).unwrap();
        assert_eq!(res.index, 0);
        assert_eq!(res.item.correct, 0);
        assert_eq!(res.split, [2, 0, 2, 0]);
        assert_eq!(res.correct_users, vec![(ALICE, 1000), (BOB, 1000)]);
        assert_eq!(
            res.answered,
            vec![(ALICE, 0), (BOB, 0), (CAROL, 2), (DAVE, 2)]
        );
        assert_eq!(points_of(&res.standings, ALICE), Some(1000));
        assert_eq!(points_of(&res.standings, BOB), Some(1000));
        assert_eq!(points_of(&res.standings, CAROL), Some(0));
        assert_eq!(points_of(&res.standings, DAVE), Some(0));

        r.open_next(40_000);
        r.answer(ALICE, 1, 1, 45_000); // right (B)
        r.answer(BOB, 1, 0, 41_000); // wrong
        let res = r.close(50_000).unwrap();
        assert_eq!(res.correct_users, vec![(ALICE, 1000)]);
        let alice = res.standings.iter().find(|s| s.user == ALICE).unwrap();
        assert_eq!((alice.points, alice.correct, alice.answered), (2000, 2, 2));
        let bob = res.standings.iter().find(|s| s.user == BOB).unwrap();
        assert_eq!((bob.points, bob.correct, bob.answered), (1000, 1, 2));
    }

    #[test]
    fn scoring_with_speed_bonus_exact_milli_points() {
        let mut r = round(1, true);
        r.open_next(5_000);
        r.answer(ALICE, 0, 0, 5_000); // t = 0
        r.answer(BOB, 0, 0, 5_000 + T / 2); // t = T/2
        r.answer(CAROL, 0, 0, 5_000 + T - 1); // t = T − 1
        r.answer(DAVE, 0, 1, 5_000); // wrong, instantly
        let res = r.close(5_000 + T).unwrap();
        // 1000 × (1 − t/2T): 1000; 750; 1000 × 30001/60000 = 500.02 → 500.
        assert_eq!(
            res.correct_users,
            vec![(ALICE, 1000), (BOB, 750), (CAROL, 500)]
        );
        assert_eq!(points_of(&res.standings, DAVE), Some(0));
        assert_eq!(
            res.standings.iter().map(|s| s.user).collect::<Vec<_>>(),
            vec![ALICE, BOB, CAROL, DAVE]
        );
    }

    #[test]
    fn points_formula() {
        let t = 10_000;
        assert_eq!(points_for(true, 0, t), 1000);
        assert_eq!(points_for(true, t / 2, t), 750);
        assert_eq!(points_for(true, t - 1, t), 500); // 500.05
        assert_eq!(points_for(true, t, t), 500);
        assert_eq!(points_for(true, 10 * t, t), 500, "capped at the deadline");
        assert_eq!(points_for(true, 10, t), 1000); // 999.5 rounds half up
        assert_eq!(points_for(true, 30, t), 999); // 998.5 → 999
        assert_eq!(points_for(true, 31, t), 998); // 998.45 → 998
        assert_eq!(points_for(true, 2_500, t), 875);
        assert_eq!(points_for(false, t - 1, t), 1000);
        assert_eq!(points_for(true, 5, 0), 1000, "no duration, no bonus maths");
    }

    #[test]
    fn format_points_renders_milli_points() {
        assert_eq!(format_points(1000), "1");
        assert_eq!(format_points(750), "0.75");
        assert_eq!(format_points(2500), "2.5");
        assert_eq!(format_points(0), "0");
        assert_eq!(format_points(1234), "1.234");
        assert_eq!(format_points(5), "0.005");
        assert_eq!(format_points(10_050), "10.05");
        assert_eq!(format_points(-500), "-0.5");
        assert_eq!(format_points(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn never_closes_early_on_the_first_question() {
        let mut r = round(2, false);
        r.open_next(0);
        assert!(!r.should_close_early(), "nobody answered");
        r.answer(ALICE, 0, 0, 10);
        r.answer(BOB, 0, 1, 20);
        assert!(
            !r.should_close_early(),
            "everyone present answered, still Q1"
        );
    }

    #[test]
    fn closes_early_once_all_previous_answerers_answered() {
        let mut r = round(3, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 10);
        r.answer(BOB, 0, 1, 20);
        r.close(T);
        assert!(!r.should_close_early(), "nothing open");

        r.open_next(40_000);
        assert!(!r.should_close_early());
        r.answer(CAROL, 1, 1, 40_100); // a newcomer does not count towards the rule
        assert!(!r.should_close_early());
        r.answer(ALICE, 1, 1, 40_200);
        assert!(!r.should_close_early(), "Bob answered Q1 but not Q2 yet");
        r.answer(BOB, 1, 2, 40_300);
        assert!(r.should_close_early());
        let res = r.close(40_300).unwrap();
        assert!(res.closed_early);

        // Q3 is judged against Q2's answerers (Alice, Bob, Carol), not Q1's.
        r.open_next(50_000);
        r.answer(ALICE, 2, 2, 50_100);
        r.answer(BOB, 2, 2, 50_200);
        assert!(!r.should_close_early(), "Carol answered Q2");
        r.answer(CAROL, 2, 0, 50_300);
        assert!(r.should_close_early());
    }

    #[test]
    fn no_early_close_when_nobody_answered_the_previous_question() {
        let mut r = round(2, false);
        r.open_next(0);
        r.on_deadline(0, T).unwrap();
        r.open_next(T + 1);
        assert!(!r.should_close_early());
        r.answer(ALICE, 1, 0, T + 2);
        assert!(!r.should_close_early());
    }

    #[test]
    fn stop_mid_question_scores_locked_in_answers() {
        let mut r = round(5, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 10);
        r.close(T);
        r.open_next(40_000);
        r.answer(ALICE, 1, 1, 41_000); // right
        r.answer(BOB, 1, 1, 42_000); // right
        r.answer(CAROL, 1, 3, 43_000); // wrong
        let fin = r.stop(44_000);
        assert_eq!(r.phase(), Phase::Finished);
        assert_eq!(fin.questions_played, 2);
        assert_eq!(fin.questions_total, 5);
        let stopped = fin.stopped.as_ref().expect("the open question was closed");
        assert_eq!(stopped.index, 1);
        assert!(stopped.closed_early);
        assert_eq!(stopped.correct_users, vec![(ALICE, 1000), (BOB, 1000)]);
        assert_eq!(points_of(&fin.standings, ALICE), Some(2000));
        assert_eq!(points_of(&fin.standings, BOB), Some(1000));
        assert_eq!(points_of(&fin.standings, CAROL), Some(0));
        assert_eq!(
            fin.totals,
            vec![
                Tally {
                    user: ALICE,
                    points: 2000,
                    correct: 2,
                    answered: 2
                },
                Tally {
                    user: BOB,
                    points: 1000,
                    correct: 1,
                    answered: 1
                },
                Tally {
                    user: CAROL,
                    points: 0,
                    correct: 0,
                    answered: 1
                },
            ]
        );
        // Nothing changes after the stop.
        assert_eq!(r.answer(DAVE, 1, 1, 44_001), AnswerOutcome::NotOpen);
        assert_eq!(r.open_next(44_002), None);
        assert_eq!(r.close(44_003), None);
        assert_eq!(r.on_deadline(1, 70_000), None);

        // Stopping between questions closes nothing.
        let mut r = round(3, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 10);
        r.close(20);
        let fin = r.stop(30);
        assert_eq!(fin.stopped, None);
        assert_eq!(fin.questions_played, 1);
    }

    #[test]
    fn skip_closes_and_scores_the_question() {
        let mut r = round(2, true);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 3_000);
        r.answer(BOB, 0, 2, 4_000);
        // Skipped by a moderator well before the deadline.
        let res = r.close(5_000).unwrap();
        assert!(res.closed_early);
        assert_eq!(res.closed_at, 5_000);
        // t = 3 s of T = 30 s: 1000 × (1 − 3/60) = 950.
        assert_eq!(res.correct_users, vec![(ALICE, 950)]);
        assert_eq!(res.split, [1, 0, 1, 0]);
        assert_eq!(r.questions_played(), 1);
        assert_eq!(r.close(5_001), None, "nothing left open");
        let next = r.open_next(6_000).unwrap();
        assert_eq!(next.index, 1);
        // Skipping a question nobody answered is fine too.
        let res = r.close(7_000).unwrap();
        assert!(res.answered.is_empty() && res.correct_users.is_empty());
        assert_eq!(res.split, [0; 4]);
        assert_eq!(r.questions_played(), 2);
    }

    #[test]
    fn stale_deadlines_are_ignored() {
        let mut r = round(3, false);
        let a = r.open_next(0).unwrap();
        r.answer(ALICE, 0, 0, 10);
        r.close(100); // skipped; Q1's timer still runs
        let b = r.open_next(200).unwrap();
        assert_eq!(
            r.on_deadline(a.index, a.deadline),
            None,
            "Q1's timer after skip"
        );
        assert_eq!(r.open_question(), Some((1, b.deadline)), "Q2 still open");
        assert_eq!(
            r.answer(ALICE, 1, 1, a.deadline + 1),
            AnswerOutcome::LockedIn { choice: 1 }
        );
        assert_eq!(
            r.on_deadline(2, b.deadline),
            None,
            "a question not open yet"
        );
        assert_eq!(r.on_deadline(99, b.deadline), None);
        let res = r.on_deadline(b.index, b.deadline).unwrap();
        assert_eq!(res.index, 1);
        assert!(!res.closed_early);
        assert_eq!(r.on_deadline(b.index, b.deadline), None, "fired twice");
        assert_eq!(r.questions_played(), 2);
        assert_eq!(points_of(&r.standings(), ALICE), Some(2000), "scored once");
    }

    #[test]
    fn competition_ranks_share_and_skip() {
        let v = [(5, 1), (5, 1), (3, 0), (3, 1), (3, 1), (1, 0)];
        assert_eq!(competition_ranks(&v, |x| *x), vec![1, 1, 3, 4, 4, 6]);
        assert_eq!(competition_ranks(&v, |x| x.0), vec![1, 1, 3, 3, 3, 6]);
        assert!(competition_ranks::<(i32, i32), _>(&[], |x| *x).is_empty());
        assert_eq!(accuracy_percent(2, 3), 67);
        assert_eq!(accuracy_percent(1, 8), 13);
        assert_eq!(accuracy_percent(0, 0), 0);
        assert_eq!(accuracy_percent(9, 3), 100, "never above 100");
    }

    #[test]
    fn a_forgotten_player_leaves_no_answer_and_no_total() {
        let mut r = round(2, false);
        r.open_next(0).unwrap();
        r.answer(ALICE, 0, 0, 1_000);
        r.answer(BOB, 0, 0, 1_000);
        r.close(2_000).unwrap();
        r.open_next(3_000).unwrap();
        r.answer(ALICE, 1, 1, 4_000);
        assert!(r.forget_player(ALICE));
        assert!(!r.forget_player(ALICE), "nothing left the second time");
        assert_eq!(r.answered_count(), 0, "the open question forgot her answer");
        let result = r.close(5_000).unwrap();
        assert!(result.answered.iter().all(|(u, _)| *u != ALICE));
        let fin = r.finish();
        assert!(fin.totals.iter().all(|t| t.user != ALICE));
        assert!(fin.totals.iter().any(|t| t.user == BOB), "others stay");
    }

    #[test]
    fn ties_share_a_rank() {
        let mut r = round(1, false);
        r.open_next(0);
        // Right: Dave, Bob, Alice; wrong: Carol, 5. Ties are broken by user id for order.
        r.answer(DAVE, 0, 0, 1);
        r.answer(BOB, 0, 0, 2);
        r.answer(CAROL, 0, 1, 3);
        r.answer(5, 0, 3, 4);
        r.answer(ALICE, 0, 0, 5);
        r.close(6);
        let s = r.standings();
        let got: Vec<(UserId, usize)> = s.iter().map(|s| (s.user, s.rank)).collect();
        assert_eq!(
            got,
            vec![(ALICE, 1), (BOB, 1), (DAVE, 1), (CAROL, 4), (5, 4)]
        );

        // Equal points but more correct answers ranks higher (speed bonus).
        let mut r = Round::new(
            vec![item(0, 0), item(1, 0)],
            RoundSettings {
                seconds_per_question: 10,
                speed_bonus: true,
            },
        );
        r.open_next(0);
        r.answer(ALICE, 0, 0, 0); // 1000
        r.answer(BOB, 0, 0, 10_000 - 1); // 500
        r.close(10_000);
        r.open_next(20_000);
        r.answer(BOB, 1, 0, 29_999); // 500
        r.close(30_000);
        let s = r.standings();
        let got: Vec<(UserId, i64, u32, usize)> = s
            .iter()
            .map(|s| (s.user, s.points, s.correct, s.rank))
            .collect();
        assert_eq!(got, vec![(BOB, 1000, 2, 1), (ALICE, 1000, 1, 2)]);
    }

    #[test]
    fn podium_takes_the_top_three_ranks_with_points() {
        // Points: Alice 3, Bob 2, Carol 2, Dave 1, user 5: 0, user 6: 0.
        let mut r = round(3, false);
        let right = |i: usize| i % CHOICES;
        let wrong = |i: usize| (i + 1) % CHOICES;
        let plan: [(UserId, usize); 6] =
            [(ALICE, 3), (BOB, 2), (CAROL, 2), (DAVE, 1), (5, 0), (6, 0)];
        for q in 0..3 {
            let a = r.open_next(q as Millis * 100_000).unwrap();
            for &(user, n_right) in &plan {
                let choice = if q < n_right { right(q) } else { wrong(q) };
                r.answer(user, a.index, choice, a.opened_at + 1);
            }
            r.close(a.opened_at + 2);
        }
        let fin = r.finish();
        let podium: Vec<(UserId, usize)> = fin.podium.iter().map(|s| (s.user, s.rank)).collect();
        assert_eq!(
            podium,
            vec![(ALICE, 1), (BOB, 2), (CAROL, 2)],
            "Dave is 4th"
        );
        assert_eq!(fin.standings.len(), 6, "everyone is in the standings");

        // Ties at third place all stand on the podium; nobody with 0 points does.
        let mut r = round(1, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 1);
        r.answer(BOB, 0, 1, 2);
        r.answer(CAROL, 0, 2, 3);
        let fin = r.finish_after_close(4);
        let podium: Vec<UserId> = fin.podium.iter().map(|s| s.user).collect();
        assert_eq!(podium, vec![ALICE], "0 points is no podium");

        let mut r = round(1, false);
        r.open_next(0);
        for user in 1..=5 {
            r.answer(user, 0, 0, user);
        }
        let fin = r.finish_after_close(10);
        assert_eq!(fin.podium.len(), 5, "a five-way tie for first");
    }

    impl Round {
        fn finish_after_close(&mut self, now: Millis) -> Final {
            self.close(now).unwrap();
            self.finish()
        }
    }

    #[test]
    fn accuracy_is_correct_over_answered() {
        let mut r = round(3, false);
        for q in 0..3 {
            let a = r.open_next(q * 100_000).unwrap();
            let right = a.item.correct;
            // Alice: right, right, wrong. Bob: only the last one, right.
            r.answer(
                ALICE,
                a.index,
                if q < 2 { right } else { (right + 1) % 4 },
                a.opened_at,
            );
            if q == 2 {
                r.answer(BOB, a.index, right, a.opened_at);
            }
            r.close(a.opened_at + 1);
        }
        let fin = r.finish();
        let alice = fin.standings.iter().find(|s| s.user == ALICE).unwrap();
        assert_eq!((alice.correct, alice.answered), (2, 3));
        assert!((alice.accuracy() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(alice.accuracy_percent(), 67);
        let bob = fin.standings.iter().find(|s| s.user == BOB).unwrap();
        assert_eq!(bob.accuracy(), 1.0);
        assert_eq!(bob.accuracy_percent(), 100);
        let tally = fin.totals.iter().find(|t| t.user == ALICE).unwrap();
        assert!((tally.accuracy() - 2.0 / 3.0).abs() < 1e-9);

        let nobody = Standing {
            user: 9,
            points: 0,
            correct: 0,
            answered: 0,
            rank: 1,
        };
        assert_eq!(nobody.accuracy(), 0.0);
        assert_eq!(nobody.accuracy_percent(), 0);
        assert_eq!(Tally::default().accuracy(), 0.0);
    }

    #[test]
    fn finish_does_not_score_the_open_question() {
        let mut r = round(3, false);
        r.open_next(0);
        r.answer(ALICE, 0, 0, 10);
        r.close(20);
        r.open_next(30);
        r.answer(ALICE, 1, 1, 40); // right, but never closed
        r.answer(BOB, 1, 1, 50); // right, but never closed
        let fin = r.finish();
        assert_eq!(r.phase(), Phase::Finished);
        assert_eq!(fin.questions_played, 1);
        assert_eq!(fin.stopped, None);
        assert_eq!(
            fin.totals,
            vec![Tally {
                user: ALICE,
                points: 1000,
                correct: 1,
                answered: 1
            }]
        );
        assert_eq!(points_of(&fin.standings, BOB), None);
        // The question cannot be closed afterwards either, and finish repeats itself.
        assert_eq!(r.close(60), None);
        assert_eq!(r.on_deadline(1, 30 + T), None);
        assert_eq!(r.finish(), fin);
        assert_eq!(r.stop(70), fin);
    }

    #[test]
    fn question_result_carries_the_item_and_standings() {
        let mut r = round(1, false);
        r.open_next(0);
        r.answer(BOB, 0, 0, 1);
        r.answer(ALICE, 0, 2, 2);
        let res = r.close(3).unwrap();
        assert_eq!(res.item.question_id, "q0");
        assert_eq!(res.item.explanation.as_deref(), Some("Explanation 0"));
        assert_eq!(res.item.correct_letter(), 'A');
        let s: Vec<(UserId, i64, usize)> = res
            .standings
            .iter()
            .map(|s| (s.user, s.points, s.rank))
            .collect();
        assert_eq!(s, vec![(BOB, 1000, 1), (ALICE, 0, 2)]);
        assert_eq!(r.standings(), res.standings);
    }

    #[test]
    fn round_settings_defaults() {
        let s = RoundSettings::default();
        assert_eq!(
            (s.seconds_per_question, s.speed_bonus),
            (SECONDS_DEFAULT, false)
        );
        assert_eq!(s.question_millis(), 30_000);
        let zero = RoundSettings {
            seconds_per_question: 0,
            speed_bonus: true,
        };
        let mut r = Round::new(vec![item(0, 0)], zero);
        let a = r.open_next(5).unwrap();
        assert_eq!(a.deadline, 5);
        assert_eq!(r.answer(ALICE, 0, 0, 5), AnswerOutcome::NotOpen);
        let huge = RoundSettings {
            seconds_per_question: u32::MAX,
            speed_bonus: true,
        };
        let mut r = Round::new(vec![item(0, 0)], huge);
        let a = r.open_next(u64::MAX - 1).unwrap();
        assert_eq!(a.deadline, u64::MAX, "saturates");
    }

    #[test]
    fn random_event_sequences_never_panic_and_keep_invariants() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let n = rng.random_range(0..6);
            let mut r = Round::new(
                (0..n).map(|i| item(i, rng.random_range(0..4))).collect(),
                RoundSettings {
                    seconds_per_question: rng.random_range(0..3),
                    speed_bonus: rng.random(),
                },
            );
            let mut now: Millis = rng.random_range(0..1_000);
            let mut closed = 0;
            for _ in 0..60 {
                now += rng.random_range(0..1_500);
                let index = rng.random_range(0..8);
                match rng.random_range(0..9) {
                    0 => {
                        r.open_next(now);
                    }
                    1..=4 => {
                        let before = r.answered_count();
                        let outcome =
                            r.answer(rng.random_range(0..5), index, rng.random_range(0..6), now);
                        let grew = matches!(outcome, AnswerOutcome::LockedIn { .. });
                        assert_eq!(r.answered_count(), before + usize::from(grew));
                    }
                    5 => {
                        if let Some(res) = r.close(now) {
                            closed += 1;
                            assert_eq!(res.split.iter().sum::<usize>(), res.answered.len());
                        }
                    }
                    6 => {
                        if r.on_deadline(index, now).is_some() {
                            closed += 1;
                        }
                    }
                    7 => {
                        let _ = r.should_close_early();
                        let _ = r.standings();
                    }
                    _ => {
                        if rng.random_ratio(1, 4) {
                            let fin = if rng.random() {
                                r.stop(now)
                            } else {
                                r.finish()
                            };
                            closed += usize::from(fin.stopped.is_some());
                            assert!(r.is_finished());
                        }
                    }
                }
                assert_eq!(r.questions_played(), closed);
                for s in r.standings() {
                    assert!(s.correct <= s.answered);
                    assert!(s.points >= 0 && s.points <= i64::from(s.correct) * 1000);
                    assert!(s.points >= i64::from(s.correct) * 500);
                }
            }
            let fin = r.finish();
            assert!(fin.questions_played <= fin.questions_total);
        }
    }
}
