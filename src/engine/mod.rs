//! The sans-IO peer engine: which piece to ask whom for, when to give up on
//! a peer and go to the origin, what to upload, and the guarantee that no
//! unverified byte is ever stored, delivered or re-shared.
//!
//! # Contract (the quinn-proto / str0m pattern)
//!
//! The engine does no I/O and reads no clock or random source. The caller:
//! 1. feeds every event with [`Engine::handle`]`(now, input)`;
//! 2. after **every** input, drains [`Engine::poll_output`] until it returns
//!    `None`, carrying out each [`Output`] (send bytes, fetch from the
//!    origin, store a verified piece, ...);
//! 3. asks [`Engine::poll_timeout`] when it next needs to run, and at that
//!    time calls `handle(now, Input::Timer)` (any earlier input will do too).
//!
//! Every [`Output::ReadPiece`] must be answered with [`Input::PieceRead`]
//! (with `None` if the piece is gone), and every [`Output::FetchOrigin`]
//! with `OriginData`* then `OriginDone` or `OriginFailed` (unless
//! cancelled). With [`Config::max_send_buffer`] set, the caller reports each
//! channel's `bufferedAmount` with [`Input::PeerBuffered`]; uploads to a
//! peer pause while its buffer is full.
//!
//! Time only moves forward (an older `now` is treated as the latest seen).
//! Randomness (tie-breaks, optimistic unchoke) comes from the seed given to
//! [`Engine::new`]; the same inputs give the same outputs.
//!
//! # Invariants
//! - A piece reaches [`Output::PieceVerified`] only after its SHA-1 matched
//!   the manifest; a peer whose piece fails is banned for the session, an
//!   origin piece that fails is reported and discarded.
//! - Every collection a peer can grow is bounded by [`Config`]: peers,
//!   queued requests per peer, wants, reassembly bytes, decoder buffers.
//! - A piece is requested from the origin by at most one request at a time.

mod config;
mod connection;
mod download;
mod origin;
mod peer;
mod stall;
mod types;
mod upload;
mod wants;

// proptest does not build for wasm32 (no getrandom backend there).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use config::{Config, DEFAULT_BACKGROUND_BUDGET};
pub use types::{
    DisconnectReason, Input, OriginId, Output, PeerKey, RejectAction, Source, StatsEvent, Time,
    WantError, WantId,
};

use crate::sorted::{SortedMap, SortedSet};
use std::collections::VecDeque;
use std::sync::Arc;

use crate::manifest::{Sha1Digest, VerifiedManifest};
use crate::wire::{Bitfield, Geometry, Limits};
use origin::OriginFetch;
use peer::Peer;
use wants::Want;

/// See [`Engine::max_peer_message`].
const MIN_PEER_MESSAGE_BOUND: usize = 256 * 1024;

/// Why an engine could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the manifest's geometry does not fit the wire protocol")]
    Geometry,
    #[error("the metadata does not match the info hash")]
    MetadataMismatch,
}

/// Running totals, readable at any time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Verified asset bytes (padding excluded) by source.
    pub from_peers: u64,
    pub from_origin: u64,
    /// Block bytes sent to peers.
    pub uploaded: u64,
    /// Bytes received and thrown away (duplicates, unrequested, failed).
    pub wasted: u64,
    pub hash_failures: u64,
    /// Peer requests dropped (queue full, choked, piece missing).
    pub requests_dropped: u64,
    pub peers_banned: u64,
    pub request_timeouts: u64,
}

/// Where one asset's pieces are.
#[derive(Clone, Copy, Debug)]
struct AssetSpan {
    first: u32,
    end: u32,
    length: u64,
}

pub struct Engine {
    cfg: Config,
    geometry: Geometry,
    limits: Limits,
    info_hash: Sha1Digest,
    peer_id: [u8; 20],
    hashes: Vec<Sha1Digest>,
    assets: Vec<AssetSpan>,
    /// Asset index of each piece.
    piece_owner: Vec<u32>,
    metadata: Option<Arc<[u8]>>,
    have: Bitfield,
    /// Real asset bytes of the pieces in `have` (for the background budget).
    held_bytes: u64,
    /// Number of peers that have each piece.
    availability: Vec<u16>,
    /// Number of peers we are downloading each piece from.
    downloading: Vec<u8>,
    from_origin: Bitfield,
    origin_failures: Vec<u8>,
    reassembly_bytes: u64,
    peers: SortedMap<PeerKey, Peer>,
    banned: SortedSet<[u8; 20]>,
    wants: SortedMap<WantId, Want>,
    /// Assets whose remaining pieces are fetched from peers in the background.
    prefetch: SortedSet<u32>,
    origin: SortedMap<OriginId, OriginFetch>,
    next_origin_id: OriginId,
    /// How long our own origin requests take, smoothed; zero until one
    /// has finished.
    origin_run_time: std::time::Duration,
    /// See [`Input::PeersExpected`].
    peers_expected_until: Time,
    cache: VecDeque<(u32, Arc<[u8]>)>,
    reading: SortedSet<u32>,
    tokens: f64,
    tokens_at: crate::engine::Time,
    rng: u64,
    next_rechoke: Time,
    now: Time,
    /// Something changed that may allow new requests or origin fetches.
    reschedule: bool,
    outputs: VecDeque<Output>,
    dirty: SortedSet<PeerKey>,
    stats: Stats,
}

impl Engine {
    /// An engine for the site described by `manifest`. `peer_id` is our
    /// 20-byte BitTorrent id (random, from the caller); `seed` drives every
    /// tie-break.
    pub fn new(
        manifest: &VerifiedManifest,
        config: Config,
        peer_id: [u8; 20],
        seed: u64,
    ) -> Result<Engine, EngineError> {
        let geometry = Geometry::new(manifest.piece_length, manifest.total_length)
            .filter(|g| g.piece_count as usize == manifest.piece_hashes.len())
            .ok_or(EngineError::Geometry)?;
        let n = geometry.piece_count as usize;
        let (assets, piece_owner) = wants::asset_spans(manifest, &geometry)?;
        let limits = Limits {
            max_message_len: 13 + config.block_size.max(128 * 1024),
            ..Limits::default()
        };
        Ok(Engine {
            geometry,
            limits,
            info_hash: manifest.info_hash,
            peer_id,
            hashes: manifest.piece_hashes.clone(),
            assets,
            piece_owner,
            metadata: None,
            have: Bitfield::new(geometry.piece_count),
            held_bytes: 0,
            availability: vec![0; n],
            downloading: vec![0; n],
            from_origin: Bitfield::new(geometry.piece_count),
            origin_failures: vec![0; n],
            reassembly_bytes: 0,
            peers: SortedMap::new(),
            banned: SortedSet::new(),
            wants: SortedMap::new(),
            prefetch: SortedSet::new(),
            origin: SortedMap::new(),
            next_origin_id: 1,
            origin_run_time: std::time::Duration::ZERO,
            peers_expected_until: Time::ZERO,
            cache: VecDeque::new(),
            reading: SortedSet::new(),
            tokens: 0.0,
            tokens_at: Time::ZERO,
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
            next_rechoke: Time::ZERO.after(config.rechoke_interval),
            now: Time::ZERO,
            reschedule: false,
            outputs: VecDeque::new(),
            dirty: SortedSet::new(),
            stats: Stats::default(),
            cfg: config,
        })
    }

    /// Lets the engine serve the info dictionary over `ut_metadata` (BEP 9)
    /// to peers that know only the info hash. Refused unless it hashes to
    /// the manifest's info hash.
    pub fn set_metadata(&mut self, info: &[u8]) -> Result<(), EngineError> {
        if crate::manifest::sha1(info) != self.info_hash {
            return Err(EngineError::MetadataMismatch);
        }
        self.metadata = Some(info.into());
        Ok(())
    }

    /// Feeds one event. Drain [`Engine::poll_output`] afterwards.
    pub fn handle(&mut self, now: Time, input: Input<'_>) {
        self.now = self.now.max(now);
        match input {
            Input::Want {
                id,
                asset,
                start,
                end,
                deadline,
            } => self.add_want(id, asset, start, end, deadline),
            Input::CancelWant { id } => self.cancel_want(id),
            Input::FetchSiteFromPeers => self.fetch_site_from_peers(),
            Input::PeerConnected { peer } => self.on_connected(peer),
            Input::PeerDisconnected { peer } => self.remove_peer(peer, None),
            Input::PeerData { peer, bytes } => self.on_peer_data(peer, bytes),
            Input::PeerBuffered { peer, bytes } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.buffered = bytes;
                }
            }
            Input::OriginData { id, bytes } => self.on_origin_data(id, bytes),
            Input::OriginDone { id } | Input::OriginFailed { id } => self.on_origin_end(id),
            Input::StoreHas { pieces } => self.on_store_has(pieces),
            Input::StoreLost { pieces } => pieces.iter().for_each(|&p| self.forget_piece(p)),
            Input::PieceRead { piece, data } => self.on_piece_read(piece, data),
            // Deadlines and grace periods may have passed: look again.
            Input::PeersExpected { until } => {
                self.peers_expected_until = until;
                self.reschedule = true;
            }
            Input::Timer => self.reschedule = true,
        }
        self.tick();
        self.flush();
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the engine next needs `Input::Timer`, if ever.
    pub fn poll_timeout(&self) -> Option<Time> {
        let mut next = self.download_timeout();
        let mut consider = |t: Option<Time>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n: Time| n.min(t)));
            }
        };
        consider(self.origin_timeout());
        consider(self.upload_timeout());
        consider(self.wants_timeout());
        consider(self.idle_timeout());
        if !self.peers.is_empty() {
            consider(Some(self.next_rechoke));
        }
        next.map(|t| t.max(self.now))
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Pieces we hold (verified).
    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Whether a connected peer has handshaken with this peer id (so a
    /// second connection to the same visitor is not made).
    pub fn is_connected_to(&self, peer_id: &[u8; 20]) -> bool {
        self.peers
            .values()
            .any(|p| p.peer_id.as_ref() == Some(peer_id))
    }

    /// The largest data channel message a peer may send us, in bytes: one
    /// whole wire message, and at least the 256 KiB that Chromium's SCTP
    /// accepts (its max-message-size), so no honest peer sends more. The
    /// caller checks a message's length against it before copying it in:
    /// a larger one is a hostile peer, to disconnect.
    pub fn max_peer_message(&self) -> usize {
        (self.limits.max_message_len as usize).max(MIN_PEER_MESSAGE_BOUND)
    }

    /// Whether we upload at all (not leech-only).
    pub fn uploads(&self) -> bool {
        !self.cfg.leech_only
    }

    /// Connected peers that have told us they hold pieces we lack.
    pub fn useful_peer_count(&self) -> usize {
        self.peers.values().filter(|p| p.useful > 0).count()
    }

    /// Number of wants not yet done.
    pub fn pending_wants(&self) -> usize {
        self.wants.len()
    }

    /// How many more wants the engine takes now (beyond, `TooManyWants`).
    pub fn want_room(&self) -> usize {
        self.cfg.max_wants.saturating_sub(self.wants.len())
    }

    /// Requests queued from peers, summed (for tests of boundedness).
    pub fn queued_requests(&self) -> usize {
        self.peers.values().map(|p| p.requests_in.len()).sum()
    }

    /// Periodic work after every input: timeouts, choking, scheduling.
    fn tick(&mut self) {
        self.check_download_timeouts();
        self.check_origin_timeouts();
        self.check_idle_peers();
        if self.now >= self.next_rechoke {
            self.rechoke();
            self.next_rechoke = self.now.after(self.cfg.rechoke_interval);
        }
        // Evaluated first: it marks wants urgent even when we reschedule anyway.
        let urgent = self.wants_urgency_changed();
        if self.reschedule || urgent {
            self.reschedule = false;
            self.update_wants();
            let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
            // Interest first: a peer we just became interested in gets its
            // grace period before the origin is asked for what it has.
            for &key in &keys {
                self.update_interest(key);
            }
            self.schedule_origin();
            for key in keys {
                self.fill_requests(key);
            }
        }
        self.serve_uploads();
    }

    /// Cuts every peer's pending bytes into channel-sized `Send` outputs.
    fn flush(&mut self) {
        let max = self.cfg.max_channel_message.max(1);
        for key in std::mem::take(&mut self.dirty) {
            let Some(peer) = self.peers.get_mut(&key) else {
                continue;
            };
            let bytes = std::mem::take(&mut peer.send);
            if bytes.is_empty() {
                continue;
            }
            peer.last_sent = self.now;
            peer.buffered += bytes.len() as u64;
            if bytes.len() <= max {
                self.outputs.push_back(Output::Send { peer: key, bytes });
                continue;
            }
            for chunk in crate::wire::split_for_channel(&bytes, max) {
                self.outputs.push_back(Output::Send {
                    peer: key,
                    bytes: chunk.to_vec(),
                });
            }
        }
    }

    /// Uniform pseudo-random value (splitmix64): tie-breaks only.
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
