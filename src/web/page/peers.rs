//! Open data channels to other visitors, as the engine's byte pipes.
//!
//! Invariants: a peer is known to the engine from its channel's `open` to
//! its `close` (or our disconnect), exactly once each way; outgoing bytes
//! wait in a bounded per-peer queue while the channel's `bufferedAmount`
//! is above the high mark, and move on `bufferedamountlow`.

use std::collections::VecDeque;

use web_sys::{RtcDataChannel, RtcPeerConnection};

use crate::web::listener::Listener;

/// Above this many bytes buffered in the channel, queue instead of sending.
pub const HIGH_WATER: u32 = 1024 * 1024;
/// `bufferedamountlow` fires below this.
pub const LOW_WATER: u32 = 256 * 1024;
/// Bytes a slow peer may have queued with us before we drop it.
pub const MAX_QUEUED: usize = 16 * 1024 * 1024;

pub struct PeerLink {
    pub pc: RtcPeerConnection,
    pub channel: RtcDataChannel,
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    /// Kept for their Drop: removing them detaches every handler.
    pub listeners: Vec<Listener>,
}

impl PeerLink {
    pub fn new(pc: RtcPeerConnection, channel: RtcDataChannel) -> PeerLink {
        channel.set_buffered_amount_low_threshold(LOW_WATER);
        PeerLink {
            pc,
            channel,
            queue: VecDeque::new(),
            queued_bytes: 0,
            listeners: Vec::new(),
        }
    }

    /// Sends or queues `bytes`; false when the peer is too far behind (the
    /// caller disconnects it).
    pub fn send(&mut self, bytes: Vec<u8>) -> bool {
        if self.queue.is_empty() && self.channel.buffered_amount() < HIGH_WATER {
            return self.channel.send_with_u8_array(&bytes).is_ok();
        }
        self.queued_bytes += bytes.len();
        self.queue.push_back(bytes);
        self.queued_bytes <= MAX_QUEUED
    }

    /// Moves queued bytes into the channel while it has room.
    pub fn flush(&mut self) -> bool {
        while self.channel.buffered_amount() < HIGH_WATER {
            let Some(bytes) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= bytes.len();
            if self.channel.send_with_u8_array(&bytes).is_err() {
                return false;
            }
        }
        true
    }

    pub fn close(&mut self) {
        self.listeners.clear();
        self.channel.close();
        self.pc.close();
    }
}
