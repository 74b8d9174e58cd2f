//! Per-connection state: the decoder, what the peer has, choke/interest in
//! both directions, the pieces we download from it, and its requests to us.
//!
//! Invariants: `outstanding` equals the number of `Block::Requested` in
//! `downloads`; `requests_in.len() <= Config::max_peer_requests`.

use crate::sorted::SortedMap;
use std::collections::VecDeque;
use std::time::Duration;

use super::Time;
use crate::wire::{Bitfield, Decoder};

/// State of one block of a piece we download from this peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Open,
    Requested,
    Done,
}

/// A piece being downloaded from one peer. All its blocks come from that
/// peer, so a piece that fails its hash has exactly one culprit.
#[derive(Debug)]
pub(crate) struct Download {
    pub buf: Vec<u8>,
    pub blocks: Vec<Block>,
    pub done: u32,
}

/// A block request the peer made to us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockRequest {
    pub index: u32,
    pub begin: u32,
    pub length: u32,
}

impl BlockRequest {
    pub fn new(index: u32, begin: u32, length: u32) -> BlockRequest {
        BlockRequest {
            index,
            begin,
            length,
        }
    }
}

/// Received-bytes rate, averaged over half-second windows.
#[derive(Debug, Default)]
pub(crate) struct RateMeter {
    window_start: Time,
    window_bytes: u64,
    /// Bytes per second.
    pub rate: f64,
}

impl RateMeter {
    const WINDOW: Duration = Duration::from_millis(500);

    pub fn record(&mut self, now: Time, bytes: u64) {
        self.window_bytes += bytes;
        let elapsed = now.since(self.window_start);
        if elapsed >= Self::WINDOW {
            let sample = self.window_bytes as f64 / elapsed.as_secs_f64();
            // The first sample replaces the zero start; later ones average.
            self.rate = if self.rate == 0.0 {
                sample
            } else {
                0.5 * self.rate + 0.5 * sample
            };
            self.window_start = now;
            self.window_bytes = 0;
        }
    }
}

#[derive(Debug)]
pub(crate) struct Peer {
    pub decoder: Decoder,
    pub connected_at: Time,
    /// When we last told it we are interested (it may take a moment to
    /// unchoke us in return).
    pub interested_at: Time,
    pub last_heard: Time,
    pub last_sent: Time,
    pub peer_id: Option<[u8; 20]>,
    /// The id the tracker signalled for this connection, if any.
    pub expected_id: Option<[u8; 20]>,
    /// The peer's piece set is known (handshake plus its first message).
    pub known: bool,
    pub has: Bitfield,
    /// Pieces the peer has that we lack.
    pub useful: u32,
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
    pub unchoked_at: Time,
    /// The id the peer wants `ut_metadata` messages on, if it speaks it.
    pub ut_metadata: Option<u8>,
    pub metadata_sent: u32,
    /// Requests the peer queues (BEP 10 `reqq`), if it said.
    pub reqq: Option<u32>,
    pub downloads: SortedMap<u32, Download>,
    pub outstanding: u32,
    pub pipeline: u32,
    /// Last block received, or when requests were last made from idle.
    pub last_progress: Time,
    pub timeouts: u32,
    /// Timed out: gets one block at a time until it delivers again.
    pub snubbed: bool,
    /// Has sent us at least one block we asked for.
    pub delivered: bool,
    pub rate: RateMeter,
    pub requests_in: VecDeque<BlockRequest>,
    pub requests_dropped: u64,
    /// Encoded bytes waiting to be cut into channel messages.
    pub send: Vec<u8>,
    /// Bytes in the channel's buffer: the last report plus sends since.
    pub buffered: u64,
    pub uploaded: u64,
}

impl Peer {
    pub fn new(now: Time, decoder: Decoder, pieces: u32, pipeline: u32) -> Peer {
        Peer {
            decoder,
            connected_at: now,
            interested_at: now,
            last_heard: now,
            last_sent: now,
            peer_id: None,
            expected_id: None,
            known: false,
            has: Bitfield::new(pieces),
            useful: 0,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            unchoked_at: now,
            ut_metadata: None,
            metadata_sent: 0,
            reqq: None,
            downloads: SortedMap::new(),
            outstanding: 0,
            pipeline,
            last_progress: now,
            timeouts: 0,
            snubbed: false,
            delivered: false,
            rate: RateMeter::default(),
            requests_in: VecDeque::new(),
            requests_dropped: 0,
            send: Vec::new(),
            buffered: 0,
            uploaded: 0,
        }
    }

    /// Usable for new block requests.
    pub fn ready(&self) -> bool {
        self.known && !self.peer_choking
    }

    /// May supply pieces: fast, or slow but proven (it delivered before,
    /// so a timeout is more likely a busy machine than a dead channel; a
    /// dead one is disconnected after `max_timeouts` stalls in a row).
    /// Counting only fast peers made a loaded flash crowd fetch most of
    /// the site from the origin once every peer had had one slow spell.
    pub fn supplies(&self) -> bool {
        !self.snubbed || self.delivered
    }

    /// Still inside its grace period: it may yet turn out to have pieces
    /// (or to unchoke us), so the origin waits for it.
    pub fn pending(&self, now: Time, grace: Duration) -> bool {
        let waiting = !self.known || (self.peer_choking && self.useful > 0);
        waiting && !self.snubbed && now.since(self.grace_from()) < grace
    }

    /// The grace period runs from connecting, or from our latest
    /// `interested` if later: a peer chokes us while we want nothing from
    /// it, and a new want must give it time to unchoke us again rather
    /// than go to the origin for pieces it has.
    pub fn grace_from(&self) -> Time {
        self.connected_at.max(self.interested_at)
    }
}
