//! How many relayed offers we answer at once. Each answer is an
//! RTCPeerConnection that lives until its channel opens or
//! `OPEN_TIMEOUT_MS` passes, and anyone can send offers through the
//! tracker; a browser caps a page's connections (Chromium near 500) and
//! then refuses to create more. So answers in progress are bounded in
//! total and per sender, and a refused constructor pauses answering.
//!
//! Invariant: every admitted answer is released exactly once, when the
//! task answering it ends (signal.rs).

use crate::tracker::Id20;

/// Answers in progress at once, in all and from one sender (an honest
/// peer has one offer to us at a time, two when re-announces cross).
const MAX_ANSWERING: usize = 16;
const MAX_ANSWERING_PER_SENDER: usize = 2;
/// After the browser refused a connection, no answer for this long.
const PAUSE_MS: f64 = 10_000.0;

#[derive(Default)]
pub struct Answering {
    /// The sender of each answer in progress (a few at most: a plain list
    /// costs the wasm less than another map type).
    senders: Vec<Id20>,
    paused_until_ms: f64,
}

impl Answering {
    /// Whether an offer from `from` may be answered now; if so it is
    /// counted until [`Answering::release`].
    pub fn admit(&mut self, from: Id20, now_ms: f64) -> bool {
        let mine = self.senders.iter().filter(|&&s| s == from).count();
        if now_ms < self.paused_until_ms
            || self.senders.len() >= MAX_ANSWERING
            || mine >= MAX_ANSWERING_PER_SENDER
        {
            return false;
        }
        self.senders.push(from);
        true
    }

    pub fn release(&mut self, from: Id20) {
        if let Some(i) = self.senders.iter().position(|&s| s == from) {
            self.senders.swap_remove(i);
        }
    }

    /// The browser refused to create a connection: stop answering a while.
    pub fn pause(&mut self, now_ms: f64) {
        self.paused_until_ms = now_ms + PAUSE_MS;
    }
}
