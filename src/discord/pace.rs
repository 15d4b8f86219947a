//! Discord's global rate limit, kept on our side: at most [`GLOBAL_PER_SECOND`] requests in
//! any second across every send of the delivery client, granted in arrival order.
//!
//! Without it a burst (10,000 daily posts due at one minute) meets a wall of 429s: every send
//! retries on its own, gives up after a few attempts and waits a minute before trying again,
//! so the burst takes many minutes more than the limit makes it. With it, sends queue and go
//! out at the limit; posts that fell due together go first, their finishing steps (queued
//! later) after. A global 429 all the same (another process of the bot shares the budget)
//! holds every send for as long as Discord asks.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Discord's global limit for a bot: 50 requests per second (interaction endpoints aside).
pub const GLOBAL_PER_SECOND: usize = 50;

/// The window the limit counts in, with a margin for the time between our turn and the
/// request reaching Discord.
const WINDOW: Duration = Duration::from_millis(1010);

/// The queue of sends under the global limit.
pub struct Pace {
    per_window: usize,
    window: Duration,
    /// When the last `per_window` turns were granted, oldest first. Locked for the whole of
    /// a turn: tokio's mutex is fair, so turns are granted in the order they were asked for.
    granted: Mutex<VecDeque<Instant>>,
    /// No turn before this: set by a global 429.
    held_until: std::sync::Mutex<Option<Instant>>,
}

impl Pace {
    pub fn new(per_window: usize, window: Duration) -> Pace {
        Pace {
            per_window: per_window.max(1),
            window,
            granted: Mutex::new(VecDeque::new()),
            held_until: std::sync::Mutex::new(None),
        }
    }

    /// Discord's global limit.
    pub fn discord() -> Pace {
        Pace::new(GLOBAL_PER_SECOND, WINDOW)
    }

    /// Waits until a request may be sent: fewer than `per_window` granted within the last
    /// window, and no hold.
    pub async fn turn(&self) {
        let mut granted = self.granted.lock().await;
        loop {
            let now = Instant::now();
            let mut at = now;
            if let Some(held) = *self.held_until.lock().unwrap_or_else(|p| p.into_inner()) {
                at = at.max(held);
            }
            if granted.len() >= self.per_window {
                at = at.max(granted[0] + self.window);
            }
            if at <= now {
                break;
            }
            tokio::time::sleep_until(at).await;
        }
        granted.push_back(Instant::now());
        while granted.len() > self.per_window {
            granted.pop_front();
        }
    }

    /// A global 429: no request for `wait`.
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut held = self.held_until.lock().unwrap_or_else(|p| p.into_inner());
        *held = Some(held.map_or(until, |h| h.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_a_window() {
        let pace = Pace::new(50, Duration::from_secs(1));
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..125 {
            pace.turn().await;
            at.push(Instant::now());
        }
        // The first 50 at once, then 50 a second.
        assert_eq!(at[49], start);
        assert_eq!(at[50], start + Duration::from_secs(1));
        assert_eq!(at[124], start + Duration::from_secs(2));
        for w in at.windows(51) {
            assert!(w[50] - w[0] >= Duration::from_secs(1));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_stops_every_turn_and_turns_keep_their_order() {
        let pace = std::sync::Arc::new(Pace::new(2, Duration::from_secs(1)));
        let start = Instant::now();
        pace.hold(Duration::from_millis(300));
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (pace, order) = (pace.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                pace.turn().await;
                order.lock().unwrap().push((i, Instant::now() - start));
            }));
            // Asked for in this order.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        let ms = |d: Duration| d.as_millis();
        assert_eq!(
            order.iter().map(|(i, d)| (*i, ms(*d))).collect::<Vec<_>>(),
            vec![(0, 300), (1, 300), (2, 1300), (3, 1300), (4, 2300)]
        );
    }
}
