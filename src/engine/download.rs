//! Downloading from peers: choosing pieces, pipelining block requests,
//! reassembling and verifying (stalled peers: `stall`).
//!
//! Piece choice, in order: the pieces of the most urgent want, in order
//! (streaming); then rarest-first over the rest of the wanted assets; then,
//! when nothing is left unassigned, endgame (a second peer may fetch a
//! piece already in flight; the first verified copy wins).
//!
//! Invariants: a piece is downloaded from at most two peers at once and
//! all blocks of one download come from one peer (so a bad piece has one
//! culprit); `reassembly_bytes` is the sum of all download buffers.

use std::sync::Arc;

use super::peer::{Block, Download, Peer};
use super::{Engine, Output, PeerKey, RejectAction, Source, StatsEvent};
use crate::wire::Message;

impl Engine {
    /// Issues block requests to `key` until its pipeline is full.
    pub(crate) fn fill_requests(&mut self, key: PeerKey) {
        loop {
            let Some(peer) = self.peers.get_mut(&key) else {
                return;
            };
            let pipeline = peer.pipeline.min(peer.reqq.unwrap_or(u32::MAX));
            let limit = if peer.snubbed { 1 } else { pipeline };
            if !peer.ready() || peer.outstanding >= limit {
                return;
            }
            if let Some((index, block)) = next_open_block(peer) {
                self.request_block(key, index, block);
                continue;
            }
            // The last quarter of the pipeline is for foreground pieces: a
            // page's request then never waits for a free slot behind
            // background ones (the peer serves requests in order).
            let background = peer.outstanding < limit - limit / 4;
            let Some(piece) = self.pick_piece(key, background) else {
                return;
            };
            let size = self.geometry.piece_size(piece);
            let bs = self.cfg.block_size;
            let total = size.div_ceil(bs);
            // Blocks wholly in an asset's BEP 47 padding are zeros, as the
            // buffer is already: they are never asked of a peer.
            let open = (self.real_len(piece) as u32).div_ceil(bs).max(1).min(total);
            let mut blocks = vec![Block::Open; open as usize];
            blocks.resize(total as usize, Block::Done);
            let Some(peer) = self.peers.get_mut(&key) else {
                return;
            };
            peer.downloads.insert(
                piece,
                Download {
                    buf: vec![0; size as usize],
                    blocks,
                    done: total - open,
                },
            );
            self.downloading[piece as usize] += 1;
            self.reassembly_bytes += u64::from(size);
        }
    }

    fn request_block(&mut self, key: PeerKey, index: u32, block: usize) {
        let bs = self.cfg.block_size;
        let begin = block as u32 * bs;
        let length = (self.geometry.piece_size(index) - begin).min(bs);
        let now = self.now;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        if let Some(slot) = peer
            .downloads
            .get_mut(&index)
            .and_then(|d| d.blocks.get_mut(block))
        {
            *slot = Block::Requested;
        }
        if peer.outstanding == 0 {
            // The timeout counts from the first request after idling.
            peer.last_progress = now;
        }
        peer.outstanding += 1;
        Message::Request {
            index,
            begin,
            length,
        }
        .encode_into(&mut peer.send);
        self.dirty.insert(key);
    }

    /// The best new piece to fetch from `key`, if any. A snubbed peer (one
    /// request at a time) gets a second copy of a piece already in flight,
    /// else, if it delivered before, a piece no other peer could send
    /// sooner: a slow peer still supplies what only slow peers have,
    /// holding at most one piece until its next timeout, and never takes
    /// back what a fast peer could send.
    /// Without `background`, only pieces of foreground wants (due within
    /// `foreground_horizon`) are picked.
    fn pick_piece(&mut self, key: PeerKey, background: bool) -> Option<u32> {
        let mut order = self.want_order();
        if !background {
            let horizon = self.now.after(self.cfg.foreground_horizon);
            order.retain(|(id, ..)| self.wants.get(id).is_some_and(|w| w.deadline <= horizon));
        }
        let background = background && self.background_piece_allowed();
        let salt = self.random();
        let peer = self.peers.get(&key)?;
        let wanted = order.iter().flat_map(|&(_, cursor, end, _)| cursor..end);
        let background = self
            .prefetch
            .iter()
            .filter(|_| background)
            .filter_map(|&a| self.assets.get(a as usize));
        let mut background = background.flat_map(|s| s.first..s.end);
        if peer.snubbed {
            let mut all = wanted.chain(background);
            let duplicate = all
                .clone()
                .find(|&p| self.pickable(p, peer, Pick::Duplicate));
            let only_slow = |p: u32| {
                let fast = |q: &Peer| q.ready() && !q.snubbed && q.has.get(p);
                !self.peers.values().any(fast)
            };
            // A peer that never delivered is no supplier: it must not hold
            // a piece the origin would otherwise fetch.
            let fresh = |p: u32| peer.supplies() && self.pickable(p, peer, Pick::Fresh);
            return duplicate.or_else(|| all.find(|&p| fresh(p) && only_slow(p)));
        }
        if let Some(p) = wanted
            .clone()
            .find(|&p| self.pickable(p, peer, Pick::Fresh))
        {
            return Some(p);
        }
        let rarest = background
            .clone()
            .filter(|&p| self.pickable(p, peer, Pick::Fresh))
            .min_by_key(|&p| (self.availability[p as usize], mix(p, salt)));
        if rarest.is_some() {
            return rarest;
        }
        let mut endgame = wanted.chain(&mut background);
        endgame.find(|&p| self.pickable(p, peer, Pick::Endgame))
    }

    fn pickable(&self, p: u32, peer: &Peer, pick: Pick) -> bool {
        let busy = self.downloading[p as usize];
        let free = match pick {
            Pick::Fresh => busy == 0 && !self.from_origin.get(p),
            Pick::Endgame => busy < 2,
            Pick::Duplicate => busy == 1,
        };
        free && !self.have.get(p)
            && peer.has.get(p)
            && !peer.downloads.contains_key(&p)
            && self.reassembly_bytes + u64::from(self.geometry.piece_size(p))
                <= self.cfg.max_reassembly_bytes
    }

    /// A `piece` message from `key`.
    pub(crate) fn on_block(&mut self, key: PeerKey, index: u32, begin: u32, data: &[u8]) {
        let now = self.now;
        let bs = self.cfg.block_size;
        let expected = (self.geometry.piece_size(index).saturating_sub(begin)).min(bs) as usize;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        let block = (begin / bs) as usize;
        let Some(dl) = peer.downloads.get_mut(&index) else {
            // Late after a cancel, or never requested: harmless, not kept.
            self.stats.wasted += data.len() as u64;
            return;
        };
        if begin % bs != 0
            || data.len() != expected
            || dl.blocks.get(block) != Some(&Block::Requested)
        {
            self.stats.wasted += data.len() as u64;
            return;
        }
        let start = begin as usize;
        dl.buf[start..start + data.len()].copy_from_slice(data);
        dl.blocks[block] = Block::Done;
        dl.done += 1;
        let complete = dl.done as usize == dl.blocks.len();
        peer.outstanding -= 1;
        peer.last_progress = now;
        // Strikes count stalls in a row: a peer that delivers again is slow
        // at worst (on a loaded machine every peer has slow spells).
        peer.timeouts = 0;
        peer.snubbed = false;
        peer.delivered = true;
        peer.rate.record(now, data.len() as u64);
        let target = (peer.rate.rate * self.cfg.pipeline_time.as_secs_f64() / f64::from(bs)) as u32;
        // Slow start: grow by one per block (doubling per round trip), capped
        // by `pipeline_time` worth of data at the measured rate, so a slow
        // peer never holds many requests.
        peer.pipeline = (peer.pipeline + 1)
            .min(target.max(self.cfg.initial_pipeline))
            .clamp(self.cfg.min_pipeline, self.cfg.max_pipeline);

        if complete {
            if let Some(dl) = peer.downloads.remove(&index) {
                self.release(index, dl.buf.len());
                self.verify(index, dl.buf, Source::Peer(key));
            }
        }
        self.fill_requests(key);
    }

    fn release(&mut self, index: u32, bytes: usize) {
        if let Some(n) = self.downloading.get_mut(index as usize) {
            *n = n.saturating_sub(1);
        }
        self.reassembly_bytes = self.reassembly_bytes.saturating_sub(bytes as u64);
    }

    /// Hash-checks a complete piece; only a match is stored or delivered.
    pub(crate) fn verify(&mut self, index: u32, data: Vec<u8>, source: Source) {
        if self.have.get(index) {
            self.stats.wasted += data.len() as u64;
            return;
        }
        if crate::manifest::sha1(&data) == self.hashes[index as usize] {
            return self.accept_piece(index, data.into(), source);
        }
        self.stats.hash_failures += 1;
        self.stats.wasted += data.len() as u64;
        match source {
            Source::Peer(key) => {
                let action = RejectAction::PeerBanned;
                self.outputs.push_back(Output::PieceRejected {
                    piece: index,
                    source,
                    action,
                });
                self.ban(key);
            }
            Source::Origin => {
                let action = RejectAction::Discarded;
                self.outputs.push_back(Output::PieceRejected {
                    piece: index,
                    source,
                    action,
                });
                self.origin_piece_failed(index);
            }
        }
    }

    fn accept_piece(&mut self, index: u32, data: Arc<[u8]>, source: Source) {
        let bytes = self.real_len(index);
        if self.have.set(index) {
            self.held_bytes += bytes;
        }
        match source {
            Source::Peer(_) => self.stats.from_peers += bytes,
            Source::Origin => self.stats.from_origin += bytes,
        }
        if let Source::Peer(_) = source {
            // Only the swarm's progress defers origin takeover (ours is not
            // a sign that someone else is fetching the rest).
            self.note_progress(index);
        }
        self.cache_piece(index, data.clone());
        self.outputs.push_back(Output::PieceVerified {
            piece: index,
            data,
            source,
        });
        self.outputs
            .push_back(Output::Stats(StatsEvent::Downloaded { source, bytes }));
        self.after_new_piece(index);
    }

    /// We now hold `index`: tell peers, stop other downloads of it.
    pub(crate) fn after_new_piece(&mut self, index: u32) {
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.cancel_download(key, index);
            let Some(peer) = self.peers.get_mut(&key) else {
                continue;
            };
            if peer.has.get(index) {
                peer.useful = peer.useful.saturating_sub(1);
            } else if peer.known {
                Message::Have(index).encode_into(&mut peer.send);
                self.dirty.insert(key);
            }
        }
        self.reschedule = true;
    }

    /// Drops our download of `index` from `key`, cancelling its requests.
    pub(crate) fn cancel_download(&mut self, key: PeerKey, index: u32) {
        let bs = self.cfg.block_size;
        let size = self.geometry.piece_size(index);
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        let Some(dl) = peer.downloads.remove(&index) else {
            return;
        };
        for (i, _) in dl
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == Block::Requested)
        {
            let begin = i as u32 * bs;
            let length = (size - begin).min(bs);
            Message::Cancel {
                index,
                begin,
                length,
            }
            .encode_into(&mut peer.send);
            peer.outstanding = peer.outstanding.saturating_sub(1);
        }
        self.dirty.insert(key);
        self.release(index, dl.buf.len());
        self.reschedule = true;
    }

    /// The peer choked us or left: its downloads are void.
    pub(crate) fn drop_downloads(&mut self, key: PeerKey) {
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        let downloads = std::mem::take(&mut peer.downloads);
        peer.outstanding = 0;
        for (index, dl) in downloads {
            self.release(index, dl.buf.len());
        }
        self.reschedule = true;
    }
}

/// How a piece may be chosen: nobody has it in flight, or (endgame) one
/// other download at most, or (snubbed peer) only as a second copy.
#[derive(Clone, Copy)]
enum Pick {
    Fresh,
    Endgame,
    Duplicate,
}

/// First block of any current download not yet requested.
fn next_open_block(peer: &Peer) -> Option<(u32, usize)> {
    peer.downloads.iter().find_map(|(&i, d)| {
        d.blocks
            .iter()
            .position(|b| *b == Block::Open)
            .map(|b| (i, b))
    })
}

/// Tie-break among equally rare pieces, different for every engine.
pub(crate) fn mix(p: u32, salt: u64) -> u64 {
    let mut z = u64::from(p) ^ salt;
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^ (z >> 33)
}
