//! The origin as a BEP 19 web seed: HTTP Range requests for runs of
//! missing pieces of one asset, streamed back and verified piece by piece.
//!
//! The origin serves only real asset bytes; the BEP 47 zero padding that
//! completes an asset's last piece is added here before hashing.
//!
//! When the origin is used: for a want whose deadline is near (even for
//! pieces peers are sending, as a rescue); otherwise only for pieces no
//! usable peer has, once new peers have had their grace period to say what
//! they hold. Visitors that arrive together split that work: each takes the
//! chunks of its want it owns by rendezvous hashing over the peer ids it
//! knows, so a flash crowd fetches about one copy from the origin. Outside
//! its chunks a visitor takes orphan pieces only once the swarm made no
//! progress on the want for the takeover delay (the chunk's owner left or
//! stalled), or when the deadline comes near. The delay is
//! `origin_takeover` or twice the time our own origin runs take, whichever
//! is longer (an owner's pieces reach the swarm a run at a time, so on a
//! slow origin a quiet second is normal, not a stall), and for background
//! wants at least `background_takeover`.
//!
//! Invariants: a piece is in at most one origin request (`from_origin`);
//! bytes beyond the requested range end the request as a failure.

use super::wants::Want;
use super::{Engine, OriginId, Output, Time, WantError};
use crate::wire::Bitfield;

#[derive(Debug)]
pub(crate) struct OriginFetch {
    /// Next piece to complete; pieces `next..end` are still expected.
    next: u32,
    end: u32,
    buf: Vec<u8>,
    last_progress: Time,
    started: Time,
}

impl Engine {
    /// Starts origin requests while there is room and a reason.
    pub(crate) fn schedule_origin(&mut self) {
        while self.origin.len() < self.cfg.max_origin_requests {
            let Some((first, end)) = self.pick_origin_run() else {
                return;
            };
            let asset = self.piece_owner[first as usize];
            let Some(span) = self.assets.get(asset as usize).copied() else {
                return;
            };
            let pl = u64::from(self.geometry.piece_length);
            let start = u64::from(first - span.first) * pl;
            let stop = (u64::from(end - span.first) * pl).min(span.length);
            for p in first..end {
                self.from_origin.set(p);
            }
            let id = self.next_origin_id;
            self.next_origin_id += 1;
            let fetch = OriginFetch {
                next: first,
                end,
                buf: Vec::new(),
                last_progress: self.now,
                started: self.now,
            };
            self.origin.insert(id, fetch);
            self.outputs.push_back(Output::FetchOrigin {
                id,
                asset,
                start,
                end: stop,
            });
        }
    }

    /// The next run of pieces `first..end` to fetch from the origin.
    fn pick_origin_run(&self) -> Option<(u32, u32)> {
        let grace = self.cfg.peer_grace;
        let waiting = self.now < self.peers_expected_until
            || self.peers.values().any(|p| p.pending(self.now, grace));
        let max_run =
            (self.cfg.origin_max_run / u64::from(self.geometry.piece_length)).max(1) as usize;
        for (id, cursor, end, urgent) in self.want_order() {
            if urgent {
                let mut missing =
                    (cursor..end).filter(|&p| !self.have.get(p) && !self.from_origin.get(p));
                if let Some(first) = missing.next() {
                    return Some(self.run_from(first, end, max_run, |_| true));
                }
                continue;
            }
            let Some(want) = self.wants.get(&id).filter(|_| !waiting) else {
                continue;
            };
            let orphan =
                |p: u32| self.origin_free(p) && !self.have.get(p) && !self.peer_can_supply(p);
            // Our share: the chunks (one run long) we own among the peers
            // we know, so visitors arriving together split the work.
            let chunk = max_run as u32;
            for c in cursor / chunk..end.div_ceil(chunk) {
                let hi = ((c + 1) * chunk).min(end);
                let mine = (cursor.max(c * chunk)..hi).find(|&p| orphan(p));
                if let Some(first) = mine.filter(|_| self.owns_chunk(c)) {
                    return Some(self.run_from(first, hi, max_run, orphan));
                }
            }
            if self.now.since(want.progress_at) < self.takeover_delay(want) {
                continue;
            }
            if let Some(first) = (cursor..end).find(|&p| orphan(p)) {
                return Some(self.run_from(first, end, max_run, orphan));
            }
        }
        None
    }

    /// Consecutive pieces from `first` (before `end`) not held, not at the
    /// origin already and accepted by `ok`, at most `max_run`.
    fn run_from(
        &self,
        first: u32,
        end: u32,
        max_run: usize,
        ok: impl Fn(u32) -> bool,
    ) -> (u32, u32) {
        let run = (first..end)
            .take_while(|&p| !self.have.get(p) && !self.from_origin.get(p) && ok(p))
            .take(max_run)
            .count();
        (first, first + run.max(1) as u32)
    }

    fn origin_free(&self, p: u32) -> bool {
        !self.from_origin.get(p) && self.downloading[p as usize] == 0
    }

    /// Some connected, usable peer has `p`, or we are fetching it from one.
    fn peer_can_supply(&self, p: u32) -> bool {
        self.downloading[p as usize] > 0
            || self
                .peers
                .values()
                .any(|peer| peer.ready() && peer.supplies() && peer.has.get(p))
    }

    /// Whether origin chunk `chunk` is ours: rendezvous hashing over our
    /// id and the ids of the peers that may share origin work with us
    /// (connected, not already holding everything; slow ones too, as they
    /// fetch their chunks all the same, and one that is gone is dropped
    /// after `max_timeouts`); the highest score owns it. Views differ
    /// between visitors, but a peer joining a view only takes chunks away
    /// from the others there, never moves them between them, so a crowd
    /// whose connections come up one by one still fetches each chunk about
    /// once (slices by rank shifted every boundary at each new peer: 2
    /// copies of the site in the benchmark).
    fn owns_chunk(&self, chunk: u32) -> bool {
        let ours = chunk_score(&self.peer_id, chunk);
        let sharing = self.peers.values().filter(|p| !p.has.is_full());
        let ids = sharing.filter_map(|p| p.peer_id.as_ref());
        !ids.map(|id| chunk_score(id, chunk))
            .any(|score| score > ours)
    }

    pub(crate) fn on_origin_data(&mut self, id: OriginId, bytes: &[u8]) {
        let Some(mut fetch) = self.origin.remove(&id) else {
            return;
        };
        fetch.last_progress = self.now;
        let mut rest = bytes;
        while !rest.is_empty() {
            if fetch.next >= fetch.end {
                // More than we asked for: not a web seed we can trust.
                self.outputs.push_back(Output::CancelOrigin { id });
                return self.end_fetch(fetch);
            }
            let real = self.real_len(fetch.next) as usize;
            let take = (real - fetch.buf.len()).min(rest.len());
            fetch.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if fetch.buf.len() == real {
                let piece = fetch.next;
                fetch.next += 1;
                self.from_origin.clear(piece);
                let mut data = std::mem::take(&mut fetch.buf);
                // BEP 47: the asset's last piece ends with zero padding.
                data.resize(self.geometry.piece_size(piece) as usize, 0);
                self.verify(piece, data, super::Source::Origin);
            }
        }
        if fetch.next < fetch.end {
            self.origin.insert(id, fetch);
        } else {
            self.note_origin_run(&fetch);
            self.reschedule = true;
        }
    }

    /// How long the swarm may make no progress on `want` before we take
    /// pieces outside our share of it from the origin.
    pub(crate) fn takeover_delay(&self, want: &Want) -> std::time::Duration {
        let delay = self.cfg.origin_takeover.max(2 * self.origin_run_time);
        if want.deadline > self.now.after(self.cfg.foreground_horizon) {
            return delay.max(self.cfg.background_takeover);
        }
        delay
    }

    /// Folds a completed request's duration into `origin_run_time` (a
    /// running average, halving the old weight). Not scaled by length:
    /// the owners' runs are cut like ours, and short ones arrive sooner.
    fn note_origin_run(&mut self, fetch: &OriginFetch) {
        let sample = self.now.since(fetch.started);
        self.origin_run_time = if self.origin_run_time.is_zero() {
            sample
        } else {
            (self.origin_run_time + sample) / 2
        };
    }

    /// The response ended or failed: whatever is missing counts as a failure.
    pub(crate) fn on_origin_end(&mut self, id: OriginId) {
        if let Some(fetch) = self.origin.remove(&id) {
            self.end_fetch(fetch);
        }
    }

    /// Origin requests no remaining want needs are aborted (the page went
    /// away); their pieces are released, and not counted as failures.
    pub(crate) fn cancel_unwanted_origin(&mut self) {
        let wanted = |p: u32| self.wants.values().any(|w| (w.cursor..w.end).contains(&p));
        let idle: Vec<OriginId> = self
            .origin
            .iter()
            .filter(|(_, f)| !(f.next..f.end).any(wanted))
            .map(|(&id, _)| id)
            .collect();
        for id in idle {
            if let Some(fetch) = self.origin.remove(&id) {
                (fetch.next..fetch.end).for_each(|p| {
                    self.from_origin.clear(p);
                });
                self.outputs.push_back(Output::CancelOrigin { id });
            }
        }
    }

    fn end_fetch(&mut self, fetch: OriginFetch) {
        for p in fetch.next..fetch.end {
            self.from_origin.clear(p);
        }
        if fetch.next < fetch.end {
            self.origin_piece_failed(fetch.next);
        }
        self.reschedule = true;
    }

    /// Counts a failure for `piece`; wants needing it fail when the origin
    /// keeps failing (it is the fallback of last resort).
    pub(crate) fn origin_piece_failed(&mut self, piece: u32) {
        let Some(n) = self.origin_failures.get_mut(piece as usize) else {
            return;
        };
        *n = n.saturating_add(1);
        if *n >= self.cfg.max_origin_failures {
            *n = 0;
            self.fail_wants_needing(piece, WantError::OriginFailed);
        }
        self.reschedule = true;
    }

    pub(crate) fn check_origin_timeouts(&mut self) {
        let now = self.now;
        let limit = self.cfg.origin_timeout;
        let stale: Vec<OriginId> = self
            .origin
            .iter()
            .filter(|(_, f)| now.since(f.last_progress) >= limit)
            .map(|(&id, _)| id)
            .collect();
        for id in stale {
            self.outputs.push_back(Output::CancelOrigin { id });
            self.on_origin_end(id);
        }
    }

    pub(crate) fn origin_timeout(&self) -> Option<Time> {
        self.origin
            .values()
            .map(|f| f.last_progress.after(self.cfg.origin_timeout))
            .min()
    }

    /// Pieces currently requested from the origin.
    pub fn origin_pieces(&self) -> &Bitfield {
        &self.from_origin
    }
}

/// Peer `id`'s rendezvous score for origin chunk `chunk` (FNV-1a over the
/// id, mixed with the chunk): the same in every visitor's engine.
pub(crate) fn chunk_score(id: &[u8; 20], chunk: u32) -> u64 {
    let key = id.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    super::download::mix(chunk, key)
}
