//! Quiz rounds on Discord: the registry of running rounds and how a round is started.
//!
//! The parts of a round live apart, as in the pure core: [`driver`] feeds the state machine
//! (`crate::quiz::Round`) with clicks and deadlines and posts what it decides, [`clicks`]
//! answers the A–D buttons, [`recovery`] closes rounds a restart cut, and the embeds are
//! drawn by `render::quiz`.

pub mod clicks;
mod driver;
pub mod recovery;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::seq::SliceRandom;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use super::tasks::spawn_guarded;
use super::App;
use crate::bank::{Bank, Filter};
use crate::quiz::{build_item, Millis, QuizItem, Round, RoundSettings};

pub use clicks::on_click;
pub use recovery::close_interrupted_rounds;

/// The question message's "N answered" is edited at most this often.
pub const COUNT_EDIT_INTERVAL: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    /// Close question `Some(index)` now; `None`: end the pause between questions. A skip
    /// names its target so that one arriving late never closes the next question.
    Skip(Option<usize>),
    Stop,
}

/// One running round.
pub struct Live {
    pub round_id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub starter_id: u64,
    round: Mutex<Round>,
    started: Instant,
    /// Wakes the driver on a click (early close, the "N answered" count).
    wake: Notify,
    /// `/quiz skip` and `/quiz stop`, in the order they were given, to the driver.
    controls: mpsc::UnboundedSender<Control>,
    answers_changed: AtomicBool,
}

impl Live {
    pub(crate) fn now(&self) -> Millis {
        self.started.elapsed().as_millis() as Millis
    }

    pub(crate) fn round(&self) -> std::sync::MutexGuard<'_, Round> {
        self.round.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running rounds of this process.
#[derive(Default)]
pub struct Rounds {
    live: Mutex<HashMap<i64, Arc<Live>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Rounds {
    pub fn get(&self, round_id: i64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&round_id)
            .cloned()
    }

    pub fn in_channel(&self, channel_id: u64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .find(|l| l.channel_id == channel_id)
            .cloned()
    }

    /// How many rounds are running (the `prepbot_quiz_rounds_running` gauge).
    pub fn running(&self) -> usize {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub(crate) fn remove(&self, round_id: i64) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&round_id);
    }

    /// Stops every driver (shutdown). Their rounds stay `running` in the store and are closed
    /// with their standings at the next start.
    pub fn abort_all(&self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }

    /// Removes a member from every running round ("forget me"); returns in how many they
    /// played.
    pub fn forget_player(&self, user: u64) -> usize {
        let live: Vec<Arc<Live>> = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        live.iter()
            .filter(|l| l.round().forget_player(user))
            .count()
    }

    /// Asks a round to skip its open question or stop. Controls queue up in order, so a stop
    /// is never lost behind a skip.
    fn control(&self, live: &Live, c: Control) {
        // The driver ends (and drops the receiver) only once the round is over; a control
        // that arrives after that has nothing left to act on.
        if live.controls.send(c).is_err() {
            tracing::debug!(round = live.round_id, "control for a round that has ended");
        }
    }

    /// Reveals the open question now, or ends the pause between questions. Returns whether
    /// a question was open.
    pub fn skip(&self, live: &Live) -> bool {
        let open = live.round().open_question().map(|(index, _)| index);
        self.control(live, Control::Skip(open));
        open.is_some()
    }

    pub fn stop(&self, live: &Live) {
        self.control(live, Control::Stop);
    }
}

/// Picks `n` distinct questions for a round: ones the channel has not had in a quiz lately
/// first (its shuffle-bag), then the rest, each group in random order. Returns the built
/// items (questions whose choices cannot be built are left out). A database failure is an
/// error, not an empty round: the member is told it is on our side.
pub async fn pick_items<R: rand::Rng>(
    app: &App,
    bank: &Bank,
    filter: &Filter,
    channel_id: u64,
    n: usize,
    rng: &mut R,
) -> Result<Vec<QuizItem>, crate::store::StoreError> {
    let scope = format!("quiz:channel:{channel_id}");
    app.store
        .update_bag_at(&scope, app.clock.now_ms(), |bag| {
            let (mut fresh, mut seen): (Vec<_>, Vec<_>) =
                bank.matching(filter).partition(|q| !bag.is_used(&q.id));
            fresh.shuffle(rng);
            seen.shuffle(rng);
            if fresh.is_empty() {
                bag.forget_used(); // every matching question was played: a new cycle
            }
            let mut items = Vec::new();
            for q in fresh.into_iter().chain(seen) {
                if items.len() == n {
                    break;
                }
                if let Some(item) = build_item(q, bank.questions(), rng) {
                    bag.mark_used(&q.id);
                    items.push(item);
                }
            }
            items
        })
        .await
}

/// Starts the driver of a round already recorded in the store.
#[allow(clippy::too_many_arguments)]
pub fn spawn_round(
    app: Arc<App>,
    round_id: i64,
    guild_id: u64,
    channel_id: u64,
    starter_id: u64,
    items: Vec<QuizItem>,
    settings: RoundSettings,
) -> Arc<Live> {
    let (controls, control_rx) = mpsc::unbounded_channel();
    let live = Arc::new(Live {
        round_id,
        guild_id,
        channel_id,
        starter_id,
        round: Mutex::new(Round::new(items, settings)),
        started: Instant::now(),
        wake: Notify::new(),
        controls,
        answers_changed: AtomicBool::new(false),
    });
    app.quiz
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(round_id, live.clone());
    let task = spawn_guarded(
        "a quiz round",
        driver::drive(app.clone(), live.clone(), control_rx),
    );
    let mut tasks = app.quiz.tasks.lock().unwrap_or_else(|p| p.into_inner());
    tasks.retain(|t| !t.is_finished());
    tasks.push(task);
    live
}
