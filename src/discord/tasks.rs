//! Background tasks that cannot take the bot down silently: a panic inside one is caught at
//! the task boundary and logged with what the task was doing.
//!
//! tokio already keeps a panicking task from killing the process, but the panic then only
//! surfaces if someone awaits the handle, and nobody awaits fire-and-forget tasks. State a
//! task holds (an in-flight mark, a reveal claim) is released by drop guards inside it, which
//! run during the unwind.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tracing::error;

/// Spawns `fut`; a panic in it is logged as `what` and ends only this task.
pub fn spawn_guarded<F>(what: &'static str, fut: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic payload".into());
            error!(task = what, "background task panicked: {msg}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_panic_is_contained_and_drop_guards_run() {
        let released = Arc::new(AtomicBool::new(false));
        let r = released.clone();
        let handle = spawn_guarded("test", async move {
            let _guard = Guard(r);
            panic!("boom");
        });
        // The task ends normally (its panic was caught) ...
        assert!(handle.await.is_ok());
        // ... and what it held was released during the unwind.
        assert!(released.load(Ordering::SeqCst));
    }
}
