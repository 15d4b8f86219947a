//! What the daily-post and reminder drivers share: one background task per kind that sleeps
//! until the earliest due time and is woken on changes ([`TaskSlot`]), and the per-key
//! bookkeeping of its attempts ([`Attempts`]): which keys (guilds, members) are being served
//! right now, and which wait out a transient failure.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use super::tasks::spawn_guarded;

/// The longest a driver sleeps without looking again, as a guard against wall-clock jumps
/// (suspend, NTP). Not polling: one wake-up an hour for all guilds or members.
pub const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// The latest a driver looks again after `now`: the start of each pass's "next wake-up".
pub fn horizon(now: Timestamp) -> Timestamp {
    now.checked_add(SignedDuration::try_from(MAX_SLEEP).unwrap_or(SignedDuration::MAX))
        .unwrap_or(now)
}

/// Why a driver's sleep ended: its time came (a due time or the hourly guard), or it was
/// woken (a change, or one of its sends ended). For the debug line of each pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woke {
    Timer,
    Notified,
}

impl Woke {
    pub fn as_str(self) -> &'static str {
        match self {
            Woke::Timer => "timer",
            Woke::Notified => "notified",
        }
    }
}

/// Sleeps until `next` (wall clock, read as `now`), at most [`MAX_SLEEP`], or until woken.
pub async fn sleep_until(now: Timestamp, next: Timestamp, wake: &Notify) -> Woke {
    let left = next.duration_since(now).max(SignedDuration::ZERO);
    let left = Duration::try_from(left).unwrap_or(MAX_SLEEP).min(MAX_SLEEP);
    tokio::select! {
        _ = tokio::time::sleep(left) => Woke::Timer,
        _ = wake.notified() => Woke::Notified,
    }
}

/// The driver task of one kind, started once, woken on changes, stopped at shutdown.
#[derive(Default)]
pub struct TaskSlot {
    wake: Arc<Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TaskSlot {
    /// Starts the task (once; later calls, e.g. after a gateway reconnect, do nothing). `run`
    /// gets the notifier that [`TaskSlot::rearm`] signals.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(
        &self,
        what: &'static str,
        run: impl FnOnce(Arc<Notify>) -> F,
    ) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.is_none() {
            *task = Some(spawn_guarded(what, run(self.wake.clone())));
        }
    }

    /// Re-plans at once: something the task plans from has changed.
    pub fn rearm(&self) {
        self.wake.notify_one();
    }

    pub fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
    }
}

#[derive(Default)]
struct State {
    inflight: HashSet<u64>,
    /// Keys whose last attempt failed transiently: (retry at, failures so far).
    retry: HashMap<u64, (Timestamp, u32)>,
}

/// The attempts of one driver, by key (a guild or a member id).
#[derive(Clone, Default)]
pub struct Attempts(Arc<Mutex<State>>);

/// A key marked in flight for as long as this lives. Dropped when its task ends in any way,
/// a panic included, so a key is never stuck as in flight.
pub struct Inflight {
    attempts: Attempts,
    key: u64,
}

impl Drop for Inflight {
    fn drop(&mut self) {
        self.attempts.state().inflight.remove(&self.key);
    }
}

impl Attempts {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks `key` in flight, or `None` when it already is.
    pub fn take(&self, key: u64) -> Option<Inflight> {
        self.state().inflight.insert(key).then(|| Inflight {
            attempts: self.clone(),
            key,
        })
    }

    /// When `key` waits out a transient failure, until when.
    pub fn backoff_until(&self, key: u64, now: Timestamp) -> Option<Timestamp> {
        self.state()
            .retry
            .get(&key)
            .map(|(at, _)| *at)
            .filter(|at| *at > now)
    }

    /// Records how an attempt ended: success clears the key's backoff; a transient failure
    /// extends it (30 s doubling, at most 30 min) and returns when to retry and how many
    /// failures there were, for the caller's log line.
    pub fn settle(&self, key: u64, failed: bool, now: Timestamp) -> Option<(Timestamp, u32)> {
        let mut st = self.state();
        if !failed {
            st.retry.remove(&key);
            return None;
        }
        let failures = st.retry.get(&key).map_or(0, |r| r.1) + 1;
        let backoff = SignedDuration::from_secs((30 * 2i64.pow(failures.min(6))).min(1800));
        let at = now.checked_add(backoff).unwrap_or(now);
        st.retry.insert(key, (at, failures));
        Some((at, failures))
    }

    /// Forgets the backoff of every key `keep` refuses (a schedule removed, reminders off),
    /// so the map never outgrows what is scheduled.
    pub fn retain(&self, keep: impl Fn(u64) -> bool) {
        self.state().retry.retain(|k, _| keep(*k));
    }

    /// Waits up to `within` for the keys in flight to end (shutdown: a send on its way gets
    /// to record its outcome), and returns how many are still going.
    pub async fn drain(&self, within: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = self.state().inflight.len();
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return left;
            }
            // A send takes a few REST round trips: polling at this pace costs nothing and
            // adds at most 20 ms to a shutdown.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// How many keys wait out a failure.
    pub fn pending_retries(&self) -> usize {
        self.state().retry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_once_backoff_doubles_and_retain_prunes() {
        let a = Attempts::default();
        let now = Timestamp::from_second(1_000_000).unwrap();
        let guard = a.take(7).unwrap();
        assert!(a.take(7).is_none(), "already in flight");
        drop(guard);
        assert!(a.take(7).is_some(), "the guard released it");
        let (at1, n1) = a.settle(7, true, now).unwrap();
        let (at2, n2) = a.settle(7, true, now).unwrap();
        assert_eq!((n1, n2), (1, 2));
        assert_eq!(at1.duration_since(now), SignedDuration::from_secs(60));
        assert_eq!(at2.duration_since(now), SignedDuration::from_secs(120));
        assert_eq!(a.backoff_until(7, now), Some(at2));
        assert_eq!(a.backoff_until(7, at2), None, "over once it is due");
        a.settle(8, true, now);
        a.retain(|k| k == 8);
        assert_eq!(a.pending_retries(), 1);
        assert!(a.settle(8, false, now).is_none());
        assert_eq!(a.pending_retries(), 0);
    }
}
