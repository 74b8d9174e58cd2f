//! Gives memory freed after a burst of connections back to the OS.
//!
//! Each WebSocket handshake briefly needs a few KiB (hyper's read buffer,
//! the request's header maps) that are freed right after, but glibc's
//! allocator keeps freed memory between the long-lived per-connection
//! allocations resident. After a burst of handshakes, `malloc_trim` returns
//! those pages; measured here it halves the tracker's resident memory per
//! peer after a flash crowd. On other platforms this does nothing.

use std::sync::Arc;
use std::time::Duration;

use super::tracker::Tracker;

/// New connections since the last trim that make another trim worth it.
const BURST: u64 = 64;

pub async fn trim_after_bursts(tracker: Arc<Tracker>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_seen = 0;
    loop {
        tick.tick().await;
        let accepted = tracker.accepted();
        if accepted >= last_seen + BURST {
            last_seen = accepted;
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
