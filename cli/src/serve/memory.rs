//! Gives memory freed after a burst of activity back to the OS.
//!
//! Each WebSocket handshake briefly needs a few KiB (hyper's read buffer,
//! the request's header maps), and every relayed offer a frame buffer,
//! all freed right after; but glibc's allocator keeps freed memory between
//! the long-lived per-connection allocations resident. `malloc_trim`
//! returns those pages. It runs once the tracker goes quiet after activity
//! (a second with no new connection and no message), so the memory a flash
//! crowd leaves behind is returned when it has passed, and also after every
//! burst of new connections while the tracker stays busy. On other
//! platforms this does nothing.

use std::sync::Arc;
use std::time::Duration;

use super::tracker::Tracker;

/// New connections since the last trim that make another trim worth it
/// even while the tracker is busy.
const BURST: u64 = 64;

pub async fn trim_when_quiet(tracker: Arc<Tracker>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_activity = tracker.activity();
    let mut accepted_at_trim = 0;
    let mut untrimmed = false;
    loop {
        tick.tick().await;
        let activity = tracker.activity();
        let quiet = activity == last_activity;
        untrimmed |= !quiet;
        last_activity = activity;
        let accepted = tracker.accepted();
        if (quiet && untrimmed) || accepted >= accepted_at_trim + BURST {
            accepted_at_trim = accepted;
            untrimmed = false;
            trim();
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks and releases the allocator's own free
    // memory; it takes no pointers and is thread-safe in glibc.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
