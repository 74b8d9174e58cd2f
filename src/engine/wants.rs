//! Wants (byte ranges of assets the service worker needs, with deadlines),
//! asset geometry (which pieces hold which asset bytes, and the BEP 47
//! padding after them), and the local store's contents.
//!
//! Invariants: a want's pieces lie inside its asset; `cursor` only moves
//! past pieces we hold; a want is reported done exactly once, then removed.

use super::{AssetSpan, Engine, EngineError, Output, Time, WantError, WantId};
use crate::manifest::VerifiedManifest;
use crate::wire::Geometry;

#[derive(Clone, Debug)]
pub(crate) struct Want {
    /// Pieces `cursor..end` may still be missing; those before are held.
    pub cursor: u32,
    pub end: u32,
    pub deadline: Time,
    pub urgent: bool,
    /// Last time the swarm got a piece of this want (for origin takeover).
    pub progress_at: Time,
}

/// Each asset's pieces, and the asset owning each piece.
pub(crate) fn asset_spans(
    manifest: &VerifiedManifest,
    geometry: &Geometry,
) -> Result<(Vec<AssetSpan>, Vec<u32>), EngineError> {
    let pl = u64::from(geometry.piece_length);
    let mut owner = vec![0u32; geometry.piece_count as usize];
    let mut spans = Vec::with_capacity(manifest.assets.len());
    for (i, a) in manifest.assets.iter().enumerate() {
        let first = u32::try_from(a.first_piece).map_err(|_| EngineError::Geometry)?;
        let count = u32::try_from(a.length.div_ceil(pl)).map_err(|_| EngineError::Geometry)?;
        let end = first.checked_add(count).ok_or(EngineError::Geometry)?;
        if end > geometry.piece_count {
            return Err(EngineError::Geometry);
        }
        for slot in &mut owner[first as usize..end as usize] {
            *slot = i as u32;
        }
        spans.push(AssetSpan {
            first,
            end,
            length: a.length,
        });
    }
    Ok((spans, owner))
}

impl Engine {
    pub(crate) fn add_want(
        &mut self,
        id: WantId,
        asset: u32,
        start: u64,
        end: u64,
        deadline: Time,
    ) {
        let Some(span) = self.assets.get(asset as usize).copied() else {
            return self.outputs.push_back(Output::WantFailed {
                id,
                error: WantError::NoSuchAsset,
            });
        };
        if start > end || end > span.length {
            return self.outputs.push_back(Output::WantFailed {
                id,
                error: WantError::BadRange,
            });
        }
        if self.wants.len() >= self.cfg.max_wants && !self.wants.contains_key(&id) {
            return self.outputs.push_back(Output::WantFailed {
                id,
                error: WantError::TooManyWants,
            });
        }
        let pl = u64::from(self.geometry.piece_length);
        // Bounded by the span's end, which fits in u32.
        let first = span.first + (start / pl) as u32;
        let last = span.first + end.div_ceil(pl) as u32;
        let now = self.now;
        let want = Want {
            cursor: first,
            end: last.max(first),
            deadline,
            urgent: false,
            progress_at: now,
        };
        self.wants.insert(id, want);
        if span.end > span.first {
            self.prefetch.insert(asset);
        }
        self.reschedule = true;
    }

    /// The caller no longer needs want `id`: nothing is reported for it,
    /// and origin requests only it needed stop. (Peers keep filling the
    /// asset in the background: that costs the origin nothing.)
    pub(crate) fn cancel_want(&mut self, id: WantId) {
        if self.wants.remove(&id).is_some() {
            self.cancel_unwanted_origin();
            self.reschedule = true;
        }
    }

    /// Every asset still missing pieces is filled from peers, within the
    /// background budget ([`Input::FetchSiteFromPeers`](super::Input)).
    pub(crate) fn fetch_site_from_peers(&mut self) {
        for (asset, span) in self.assets.iter().enumerate() {
            if (span.first..span.end).any(|p| !self.have.get(p)) {
                self.prefetch.insert(asset as u32);
            }
        }
        self.reschedule = true;
    }

    /// Background fetching goes on: the store holds less than the budget.
    pub(crate) fn background_allowed(&self) -> bool {
        self.held_bytes < self.cfg.background_budget
    }

    /// Another background piece may start: with what is on its way, the
    /// store holds less than the budget (so it overshoots by a piece at
    /// most).
    pub(crate) fn background_piece_allowed(&self) -> bool {
        self.held_bytes + self.reassembly_bytes < self.cfg.background_budget
    }

    /// Advances cursors, reports finished wants, drops complete prefetches.
    pub(crate) fn update_wants(&mut self) {
        let mut done = Vec::new();
        for (&id, w) in self.wants.iter_mut() {
            while w.cursor < w.end && self.have.get(w.cursor) {
                w.cursor += 1;
            }
            if w.cursor >= w.end {
                done.push(id);
            }
        }
        for id in done {
            self.wants.remove(&id);
            self.outputs.push_back(Output::WantDone { id });
        }
        let have = &self.have;
        let assets = &self.assets;
        self.prefetch.retain(|&a| {
            assets
                .get(a as usize)
                .is_some_and(|s| (s.first..s.end).any(|p| !have.get(p)))
        });
    }

    /// Wants by priority: earliest deadline first, then oldest id.
    pub(crate) fn want_order(&self) -> Vec<(WantId, u32, u32, bool)> {
        let mut order: Vec<_> = self
            .wants
            .iter()
            .map(|(&id, w)| (w.deadline, id, w.cursor, w.end, w.urgent))
            .collect();
        crate::sorted::heap_sort(&mut order);
        order
            .into_iter()
            .map(|(_, id, c, e, u)| (id, c, e, u))
            .collect()
    }

    /// Marks wants whose deadline came within the origin margin; returns
    /// whether any did (then the origin may be needed).
    pub(crate) fn wants_urgency_changed(&mut self) -> bool {
        let soon = self.now.after(self.cfg.origin_margin);
        let mut changed = false;
        for w in self
            .wants
            .values_mut()
            .filter(|w| !w.urgent && w.deadline <= soon)
        {
            w.urgent = true;
            changed = true;
        }
        changed
    }

    /// When a want becomes urgent, a new peer's grace period ends or
    /// expected peers are no longer waited for.
    pub(crate) fn wants_timeout(&self) -> Option<Time> {
        if self.wants.is_empty() {
            return None;
        }
        let margin = self.cfg.origin_margin;
        let urgent = self.wants.values().filter(|w| !w.urgent).map(|w| {
            Time::from_micros(
                w.deadline
                    .as_micros()
                    .saturating_sub(margin.as_micros() as u64),
            )
        });
        let takeover = self
            .wants
            .values()
            .filter(|w| !w.urgent)
            .map(|w| w.progress_at.after(self.takeover_delay(w)));
        let grace = self
            .peers
            .values()
            .filter(|p| p.pending(self.now, self.cfg.peer_grace))
            .map(|p| p.grace_from().after(self.cfg.peer_grace));
        let expected = std::iter::once(self.peers_expected_until);
        // Only future times: a past one would make the caller spin.
        urgent
            .chain(takeover)
            .chain(grace)
            .chain(expected)
            .filter(|&t| t > self.now)
            .min()
    }

    /// Some peer (or we) got `piece`: the wants containing it progress.
    pub(crate) fn note_progress(&mut self, piece: u32) {
        let now = self.now;
        for w in self
            .wants
            .values_mut()
            .filter(|w| (w.cursor..w.end).contains(&piece))
        {
            w.progress_at = now;
        }
    }

    /// Fails every want that needs `piece`.
    pub(crate) fn fail_wants_needing(&mut self, piece: u32, error: WantError) {
        let failed: Vec<WantId> = self
            .wants
            .iter()
            .filter(|(_, w)| (w.cursor..w.end).contains(&piece))
            .map(|(&id, _)| id)
            .collect();
        for id in failed {
            self.wants.remove(&id);
            self.outputs.push_back(Output::WantFailed { id, error });
        }
    }

    /// Real asset bytes in `piece` (the rest, up to the piece size, is
    /// BEP 47 zero padding).
    pub(crate) fn real_len(&self, piece: u32) -> u64 {
        let Some(span) = self
            .piece_owner
            .get(piece as usize)
            .and_then(|&a| self.assets.get(a as usize))
        else {
            return 0;
        };
        let pl = u64::from(self.geometry.piece_length);
        let start = u64::from(piece.saturating_sub(span.first)) * pl;
        span.length.saturating_sub(start).min(pl)
    }

    pub(crate) fn on_store_has(&mut self, pieces: &[u32]) {
        for &p in pieces {
            if p < self.geometry.piece_count && self.have.set(p) {
                self.held_bytes += self.real_len(p);
                self.after_new_piece(p);
            }
        }
        self.reschedule = true;
    }

    /// The store lost `piece`: stop offering it (queued requests for it
    /// are dropped; peers will time out and ask elsewhere).
    pub(crate) fn forget_piece(&mut self, piece: u32) {
        if !self.have.clear(piece) {
            return;
        }
        self.held_bytes = self.held_bytes.saturating_sub(self.real_len(piece));
        self.cache.retain(|(p, _)| *p != piece);
        for peer in self.peers.values_mut() {
            peer.requests_in.retain(|r| r.index != piece);
            if peer.has.get(piece) {
                peer.useful += 1;
            }
        }
        self.reschedule = true;
    }
}
