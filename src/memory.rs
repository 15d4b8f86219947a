//! Giving a burst's memory back to the OS.
//!
//! glibc's malloc keeps what a burst of a thousand interactions freed in its arenas: the
//! process stayed at the burst's peak RSS, and each new burst, fragmenting the arenas a little
//! more, left it higher (the ratchet of issue 11). `malloc_trim` hands the free pages of every
//! arena back. The bot calls it every [`TRIM_EVERY`]; on an idle heap that costs microseconds.
//! Where the C library is not glibc, trimming does nothing.

use std::time::Duration;

/// How often the bot trims: RSS is back down within this long after a burst ends.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Returns free heap pages to the OS; whether any were returned.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() -> bool {
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no pointer.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Returns free heap pages to the OS; whether any were returned.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() -> bool {
    false
}

/// Trims every [`TRIM_EVERY`], for as long as the runtime runs.
pub async fn trim_periodically() {
    let mut every = tokio::time::interval(TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        trim();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trim_runs_after_a_large_free() {
        // A freed block large enough to leave whole free pages behind: trimming must be safe to
        // call at any time, from any thread.
        let block = vec![1u8; 8 << 20];
        drop(std::hint::black_box(block));
        super::trim();
        std::thread::spawn(super::trim)
            .join()
            .expect("trim on another thread");
    }
}
