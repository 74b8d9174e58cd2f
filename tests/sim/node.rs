//! What the simulator keeps per node: its engine or script, its store,
//! and every figure the scenarios report.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use peercdn::engine::{Engine, Time};

use super::adversary::Adversary;
use super::site::Site;

pub enum Kind {
    Engine(Box<Engine>),
    Adversary(Adversary),
}

/// One visitor (or adversary) and what happened to it.
pub struct Node {
    pub kind: Kind,
    pub online: bool,
    pub peers: BTreeSet<usize>,
    pub store: HashMap<u32, Arc<[u8]>>,
    pub joined_at: Time,
    /// When want 1 (the whole big asset) was done.
    pub done_at: Option<Time>,
    /// When each want was done, by id.
    pub wants_done: HashMap<u64, Time>,
    pub want_failed: bool,
    pub from_peers: u64,
    pub from_origin: u64,
    pub mismatched: u64,
    pub banned: Vec<usize>,
    pub first_origin_at: Option<Time>,
    /// seek scenario: time from the range want to its completion.
    pub seek_ms: Option<u64>,
    /// Origin requests that overlapped one still in flight (must stay 0).
    pub origin_overlaps: u64,
    pub(super) cancelled: BTreeSet<u64>,
    /// Pieces `first..end` of each origin request in flight.
    pub(super) origin_active: HashMap<u64, (u64, u64)>,
}

/// Real asset bytes in `piece` (padding excluded).
pub fn real_len(site: &Site, piece: u32) -> u64 {
    let pl = site.manifest.piece_length;
    site.manifest
        .assets
        .iter()
        .find(|a| {
            a.length > 0
                && (a.first_piece..a.first_piece + a.length.div_ceil(pl))
                    .contains(&u64::from(piece))
        })
        .map_or(0, |a| {
            (a.length - (u64::from(piece) - a.first_piece) * pl).min(pl)
        })
}

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
