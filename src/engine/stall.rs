//! Giving up on peers that stall: a peer with requests outstanding and no
//! block for its timeout has them cancelled and re-issued elsewhere, and is
//! snubbed (one request at a time); each stall in a row waits one
//! `request_timeout` longer, and `max_timeouts` stalls in a row drop it.
//!
//! Invariant: a delivered block resets the count (`on_block`), so only
//! stalls in a row are counted.

use super::peer::Peer;
use super::{DisconnectReason, Engine, PeerKey, Time};

impl Engine {
    pub(crate) fn check_download_timeouts(&mut self) {
        let now = self.now;
        let stalled: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.outstanding > 0 && now >= self.stall_time(p))
            .map(|(&k, _)| k)
            .collect();
        for key in stalled {
            self.stats.request_timeouts += 1;
            let indices: Vec<u32> = self
                .peers
                .get(&key)
                .map(|p| p.downloads.keys().copied().collect())
                .unwrap_or_default();
            for index in indices {
                self.cancel_download(key, index);
            }
            let Some(peer) = self.peers.get_mut(&key) else {
                continue;
            };
            peer.timeouts += 1;
            peer.snubbed = true;
            peer.pipeline = self.cfg.min_pipeline;
            if peer.timeouts >= self.cfg.max_timeouts {
                self.remove_peer(key, Some(DisconnectReason::Stalled));
            }
        }
    }

    pub(crate) fn download_timeout(&self) -> Option<Time> {
        self.peers
            .values()
            .filter(|p| p.outstanding > 0)
            .map(|p| self.stall_time(p))
            .min()
    }

    /// When `peer`'s outstanding requests time out. Each stall in a row
    /// waits one `request_timeout` longer (4, 8, 12 s by default), as TCP
    /// backs off its retransmissions: on a loaded machine a busy peer's
    /// blocks can be seconds late, and a peer dropped is a supplier lost
    /// to the whole swarm (the flash-crowd benchmark lost most of its
    /// connections to fixed 4 s strikes and fetched the rest from the
    /// origin).
    fn stall_time(&self, peer: &Peer) -> Time {
        let timeout = self.cfg.request_timeout * (peer.timeouts + 1);
        peer.last_progress.after(timeout)
    }
}
