//! The hourly purge of what the store keeps only for a while (see `store::Retention` and the
//! README's "What is stored, and for how long"). With the bot split across processes, only
//! the one that runs shard 0 purges: the rows are shared, and one purge an hour is enough.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::tasks::spawn_guarded;
use super::App;
use crate::store::Retention;

/// How often the purge runs. Rows become due by the day, so an hour is plenty.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the purge task: once now (a bot that was down catches up), then every hour.
pub fn spawn(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    spawn_guarded("purging old rows", async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            purge_once(&app).await;
        }
    })
}

/// One purge, off the async threads (it may delete many rows).
pub async fn purge_once(app: &Arc<App>) {
    let store = app.store.clone();
    let now = app.clock.now_ms();
    let result = tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current()
            .block_on(async move { store.purge(now, &Retention::default()).await })
    })
    .await;
    match result {
        Ok(Ok(purged)) if purged.total() > 0 => info!(?purged, "purged rows past retention"),
        Ok(Ok(_)) => {}
        // Busy: another writer holds the file; the next hour tries again.
        Ok(Err(e)) => warn!("purge failed: {e}"),
        Err(e) => warn!("purge task failed: {e}"),
    }
}
