//! Uploading: choking, serving block requests from the piece cache or the
//! store, the global upload rate limit, leech-only mode, and `ut_metadata`.
//!
//! Invariants: we never send a block of a piece we do not hold verified;
//! at most `max_unchoked` peers are unchoked; each peer's request queue is
//! capped (extra requests are dropped, as a choked peer's would be), and
//! so are requests under [`MIN_REQUEST_LEN`] that do not end their piece;
//! under an upload cap, store reads are charged for what no request asked;
//! in leech-only mode nobody is ever unchoked.

use std::sync::Arc;

use super::peer::BlockRequest;
use super::{Engine, Output, PeerKey, StatsEvent, Time};
use crate::wire::metadata::{self, MetadataMessage};
use crate::wire::Message;

/// Our extension id for `ut_metadata` (what peers send it to us on).
pub(crate) const OUR_UT_METADATA: u8 = 1;
/// Metadata pieces served per peer per session beyond twice the piece
/// count (a client needs each once): a flood gets rejects, a few bytes each.
const METADATA_SLACK: u32 = 4;

/// The smallest block request served, unless it ends its piece (a
/// piece's last block is as short as the piece makes it): every client
/// asks for 16 KiB, and tiny requests would make us read and hash a whole
/// piece for each few bytes sent.
pub(crate) const MIN_REQUEST_LEN: u32 = 1024;

impl Engine {
    pub(crate) fn on_request(&mut self, key: PeerKey, req: BlockRequest) {
        let cap = self.cfg.max_peer_requests;
        let have = self.have.get(req.index);
        let ends_piece =
            req.begin.checked_add(req.length) == Some(self.geometry.piece_size(req.index));
        let too_small = req.length < MIN_REQUEST_LEN && !ends_piece;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        if peer.am_choking || !have || too_small || peer.requests_in.len() >= cap {
            peer.requests_dropped += 1;
            self.stats.requests_dropped += 1;
            return;
        }
        peer.requests_in.push_back(req);
    }

    pub(crate) fn on_cancel(&mut self, key: PeerKey, req: BlockRequest) {
        if let Some(peer) = self.peers.get_mut(&key) {
            peer.requests_in.retain(|r| *r != req);
        }
    }

    /// Sends queued blocks round-robin across peers while the upload
    /// budget lasts; pieces not in memory are read from the store first.
    pub(crate) fn serve_uploads(&mut self) {
        self.refill_tokens();
        let keys: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.requests_in.is_empty())
            .map(|(&k, _)| k)
            .collect();
        let mut active = keys;
        while !active.is_empty() {
            active.retain(|&key| self.serve_one(key));
        }
    }

    /// Serves the peer's next request; false when it cannot progress now.
    fn serve_one(&mut self, key: PeerKey) -> bool {
        let Some(req) = self
            .peers
            .get(&key)
            .and_then(|p| p.requests_in.front().copied())
        else {
            return false;
        };
        if let Some((limit, peer)) = self.cfg.max_send_buffer.zip(self.peers.get(&key)) {
            if peer.buffered + peer.send.len() as u64 >= limit {
                // The channel is full: the rest waits for `PeerBuffered`.
                return false;
            }
        }
        let Some(data) = self.cached(req.index) else {
            self.read_for(key, req.index);
            return false;
        };
        let len = f64::from(req.length);
        if self.cfg.upload_rate.is_some() && self.tokens < len {
            return false;
        }
        let (begin, end) = (req.begin as usize, (req.begin + req.length) as usize);
        let Some(block) = data.get(begin..end) else {
            return false;
        };
        let Some(peer) = self.peers.get_mut(&key) else {
            return false;
        };
        peer.requests_in.pop_front();
        let msg = Message::Piece {
            index: req.index,
            begin: req.begin,
            data: block,
        };
        msg.encode_into(&mut peer.send);
        peer.uploaded += u64::from(req.length);
        self.tokens -= len;
        self.stats.uploaded += u64::from(req.length);
        let bytes = u64::from(req.length);
        self.outputs
            .push_back(Output::Stats(StatsEvent::Uploaded { peer: key, bytes }));
        self.dirty.insert(key);
        true
    }

    /// Reads `piece` from the store for `key`'s requests. Under an upload
    /// cap, a read is charged to the budget for what it reads beyond what
    /// the peer asked of that piece (an honest peer asks for all of it; a
    /// peer asking a few bytes of many pieces pays for their reads), and
    /// waits while the budget is in debt.
    fn read_for(&mut self, key: PeerKey, piece: u32) {
        if self.reading.contains(&piece) || (self.cfg.upload_rate.is_some() && self.tokens < 0.0) {
            return;
        }
        let asked: u64 = self.peers.get(&key).map_or(0, |p| {
            p.requests_in
                .iter()
                .filter(|r| r.index == piece)
                .map(|r| u64::from(r.length))
                .sum()
        });
        let unasked = u64::from(self.geometry.piece_size(piece)).saturating_sub(asked);
        if self.cfg.upload_rate.is_some() {
            self.tokens -= unasked as f64;
        }
        self.reading.insert(piece);
        self.outputs.push_back(Output::ReadPiece { piece });
    }

    fn refill_tokens(&mut self) {
        let Some(rate) = self.cfg.upload_rate else {
            return;
        };
        let elapsed = self.now.since(self.tokens_at).as_secs_f64();
        self.tokens_at = self.now;
        // Burst of one second's worth, at least one block.
        let cap = (rate as f64).max(f64::from(self.limits.max_request_len));
        self.tokens = (self.tokens + elapsed * rate as f64).min(cap);
    }

    /// When enough upload budget accrues for the next queued block.
    pub(crate) fn upload_timeout(&self) -> Option<Time> {
        let rate = self.cfg.upload_rate? as f64;
        let in_debt = self.tokens < 0.0;
        let need = self
            .peers
            .values()
            .filter_map(|p| p.requests_in.front())
            .filter_map(|r| {
                if self.cache.iter().any(|(i, _)| *i == r.index) {
                    Some(f64::from(r.length))
                } else {
                    // A read waits for the budget to be out of debt.
                    in_debt.then_some(0.0)
                }
            })
            .fold(None, |m: Option<f64>, l| Some(m.map_or(l, |m| m.min(l))))?;
        let wait = ((need - self.tokens).max(0.0) / rate.max(1.0) * 1e6).ceil() as u64;
        Some(Time::from_micros(self.now.as_micros() + wait.max(1)))
    }

    fn cached(&mut self, index: u32) -> Option<Arc<[u8]>> {
        let pos = self.cache.iter().position(|(i, _)| *i == index)?;
        // Move to the back: the cache evicts least recently used.
        let entry = self.cache.remove(pos)?;
        let data = entry.1.clone();
        self.cache.push_back(entry);
        Some(data)
    }

    pub(crate) fn cache_piece(&mut self, index: u32, data: Arc<[u8]>) {
        self.cache.retain(|(i, _)| *i != index);
        let piece = self.geometry.piece_length as usize;
        while !self.cache.is_empty() && (self.cache.len() + 1) * piece > self.cfg.piece_cache_bytes
        {
            self.cache.pop_front();
        }
        self.cache.push_back((index, data));
    }

    /// The store's answer to `ReadPiece`. Re-verified: a corrupted cache
    /// entry must not reach a peer (it would get us banned).
    pub(crate) fn on_piece_read(&mut self, piece: u32, data: Option<&[u8]>) {
        if !self.reading.remove(&piece) || !self.have.get(piece) {
            return;
        }
        let hash = self.hashes.get(piece as usize).copied();
        match data {
            Some(d) if hash == Some(crate::manifest::sha1(d)) => self.cache_piece(piece, d.into()),
            _ => self.forget_piece(piece),
        }
    }

    pub(crate) fn on_interest(&mut self, key: PeerKey, interested: bool) {
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        peer.peer_interested = interested;
        let choking = peer.am_choking;
        if interested && choking && self.unchoked() < self.cfg.max_unchoked && !self.cfg.leech_only
        {
            self.set_choke(key, false);
        } else if !interested && !choking {
            self.set_choke(key, true);
            self.unchoke_someone();
        }
    }

    fn unchoked(&self) -> usize {
        self.peers.values().filter(|p| !p.am_choking).count()
    }

    pub(crate) fn set_choke(&mut self, key: PeerKey, choke: bool) {
        let now = self.now;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        if peer.am_choking == choke {
            return;
        }
        peer.am_choking = choke;
        peer.unchoked_at = now;
        // BEP 3: choking discards the peer's pending requests.
        peer.requests_in.clear();
        let msg = if choke {
            Message::Choke
        } else {
            Message::Unchoke
        };
        msg.encode_into(&mut peer.send);
        self.dirty.insert(key);
    }

    /// Unchokes a random interested, choked peer if a slot is free.
    pub(crate) fn unchoke_someone(&mut self) {
        if self.cfg.leech_only || self.unchoked() >= self.cfg.max_unchoked {
            return;
        }
        let waiting: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.am_choking && p.peer_interested)
            .map(|(&k, _)| k)
            .collect();
        if !waiting.is_empty() {
            let pick = waiting[(self.random() % waiting.len() as u64) as usize];
            self.set_choke(pick, false);
        }
    }

    /// Rotation: when peers wait for a slot, the longest-unchoked peer
    /// makes room for a random waiting one (optimistic unchoke).
    pub(crate) fn rechoke(&mut self) {
        let waiting = self
            .peers
            .values()
            .any(|p| p.am_choking && p.peer_interested);
        if !waiting || self.unchoked() < self.cfg.max_unchoked {
            return self.unchoke_someone();
        }
        let oldest = self
            .peers
            .iter()
            .filter(|(_, p)| !p.am_choking)
            .min_by_key(|(_, p)| p.unchoked_at)
            .map(|(&k, _)| k);
        if let Some(key) = oldest {
            self.set_choke(key, true);
            self.unchoke_someone();
        }
    }

    /// A `ut_metadata` message from `key` (BEP 9). We only serve: our
    /// visitors already hold the manifest.
    pub(crate) fn on_metadata(
        &mut self,
        key: PeerKey,
        payload: &[u8],
    ) -> Result<(), crate::wire::WireError> {
        let msg = MetadataMessage::try_from(payload)?;
        let MetadataMessage::Request { piece } = msg else {
            return Ok(());
        };
        let info = self.metadata.clone();
        let Some(peer) = self.peers.get_mut(&key) else {
            return Ok(());
        };
        let Some(ext_id) = peer.ut_metadata else {
            return Ok(());
        };
        peer.metadata_sent += 1;
        let pieces = info
            .as_deref()
            .map_or(0, |i| metadata::piece_count(i.len() as u32));
        let allowed = peer.metadata_sent <= 2 * pieces + METADATA_SLACK && !self.cfg.leech_only;
        let data = info
            .as_deref()
            .filter(|_| allowed)
            .and_then(|i| metadata::piece_of(i, piece).map(|d| (i.len(), d)));
        let reply = match data {
            Some((total, data)) => MetadataMessage::Data {
                piece,
                total_size: total as u32,
                data,
            }
            .to_bytes(),
            None => MetadataMessage::Reject { piece }.to_bytes(),
        };
        Message::Extended {
            ext_id,
            payload: &reply,
        }
        .encode_into(&mut peer.send);
        self.dirty.insert(key);
        Ok(())
    }
}
