//! A bound on how many interactions, and how many reactions, are handled at once.
//!
//! serenity spawns a task per gateway event and poise boxes a dispatch future per event
//! before anything runs. That future carries poise's whole dispatch path and several copies
//! of the event: about 30 KiB each (measured with valgrind's massif during a burst of 1000
//! `/ask`, where those boxes were 30 of the 51 MiB of heap at the peak). In a burst every
//! event's box lives until its handler finishes, most of them only waiting: for a connection,
//! or (the 💡 of `/ask`, before it had a task of its own) for a turn under the global limit.
//!
//! [`Gated`] wraps the framework and lets an event into poise only with a permit. An event
//! waiting for one holds just itself; permits are handed out in arrival order (tokio's
//! semaphore is fair), so a burst is answered first come, first served. Interactions and
//! reactions have a gate each: a reveal by reaction waits its turn under Discord's global
//! limit (see `pace`) while it holds its permit, and a burst of those must not keep
//! interactions, which have 3 s to be answered, from theirs. For the same reason an
//! interaction handler sends what is paced after its answer from a task of its own (the 💡
//! of `/ask`). Other events (READY, guild and channel updates) go straight through: they are
//! rare, and READY runs the setup.
//!
//! No handler waits for another gated event to finish (buttons are stateless custom ids, not
//! collectors), so the bound cannot deadlock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{Client, Context, FullEvent};
use tokio::sync::Semaphore;

/// Interactions (and, separately, reactions) handled at once. Enough to keep both cores and
/// the 128 requests [`super::deliver::MAX_IN_FLIGHT`] allows busy; a burst beyond it waits
/// its turn as bare events of a few KiB.
pub const MAX_HANDLING: usize = 64;

/// A bound of [`MAX_HANDLING`] at once, first come, first served.
#[derive(Clone)]
pub struct Gate(Arc<Semaphore>);

impl Default for Gate {
    fn default() -> Self {
        Gate(Arc::new(Semaphore::new(MAX_HANDLING)))
    }
}

impl Gate {
    /// Runs the future `make` returns once a permit is free. `make` is only called then: an
    /// `async_trait` method allocates its future when called, and that allocation is what
    /// waiting events must not hold.
    pub async fn pass<T, Fut: Future<Output = T>>(&self, make: impl FnOnce() -> Fut) -> T {
        // The semaphore is never closed, so this cannot fail; were that to change, handling
        // the event anyway beats dropping it unanswered.
        let _permit = self.0.acquire().await.ok();
        make().await
    }
}

/// A framework whose interactions and reactions each go through a [`Gate`] of their own.
pub struct Gated<F> {
    inner: F,
    interactions: Gate,
    reactions: Gate,
}

impl<F> Gated<F> {
    pub fn new(inner: F) -> Self {
        Gated {
            inner,
            interactions: Gate::default(),
            reactions: Gate::default(),
        }
    }

    /// The gate `event` passes, if any.
    fn gate(&self, event: &FullEvent) -> Option<&Gate> {
        match event {
            FullEvent::InteractionCreate { .. } => Some(&self.interactions),
            FullEvent::ReactionAdd { .. } | FullEvent::ReactionRemove { .. } => {
                Some(&self.reactions)
            }
            _ => None,
        }
    }
}

#[serenity::async_trait]
impl<F: serenity::Framework> serenity::Framework for Gated<F> {
    async fn init(&mut self, client: &Client) {
        self.inner.init(client).await;
    }

    // By hand rather than `async fn`: an async fn's future holds its arguments inline, and a
    // `FullEvent` is kilobytes (massif: ~7 KiB per waiting event that way). A waiting event
    // holds one box of exactly itself and its context.
    fn dispatch<'life0, 'async_trait>(
        &'life0 self,
        ctx: Context,
        event: FullEvent,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let Some(gate) = self.gate(&event) else {
            return self.inner.dispatch(ctx, event);
        };
        let parked = Box::new((ctx, event));
        Box::pin(gate.pass(move || {
            let (ctx, event) = *parked;
            self.inner.dispatch(ctx, event)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_max_handling_run_at_once_and_every_one_runs() {
        let gate = Gate::default();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..MAX_HANDLING * 3)
            .map(|i| {
                let (gate, running, most, made) =
                    (gate.clone(), running.clone(), most.clone(), made.clone());
                tokio::spawn(async move {
                    gate.pass(|| {
                        // Made only with a permit: never more made than finished + bound.
                        made.fetch_add(1, Ordering::SeqCst);
                        async move {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            running.fetch_sub(1, Ordering::SeqCst);
                            i
                        }
                    })
                    .await
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        assert_eq!(out, (0..MAX_HANDLING * 3).collect::<Vec<_>>());
        assert_eq!(made.load(Ordering::SeqCst), MAX_HANDLING * 3);
        let most = most.load(Ordering::SeqCst);
        assert!(most <= MAX_HANDLING, "{most} ran at once");
        assert!(most > 1, "the gate ran one at a time");
    }

    #[tokio::test]
    async fn a_waiting_event_has_not_made_its_future() {
        let gate = Gate(Arc::new(Semaphore::new(1)));
        let held = gate.0.clone().acquire_owned().await.expect("permit");
        let made = Arc::new(AtomicUsize::new(0));
        let waiting = {
            let (gate, made) = (gate.clone(), made.clone());
            tokio::spawn(async move {
                gate.pass(|| {
                    made.fetch_add(1, Ordering::SeqCst);
                    async {}
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(made.load(Ordering::SeqCst), 0, "made before its permit");
        drop(held);
        waiting.await.expect("task");
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }
}
