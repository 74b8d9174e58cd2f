//! The tracker's swarms as plain data and functions: a decoded message in,
//! the messages to send out. No sockets, no clock (time is passed in), no
//! global random source (a seeded generator), so it is tested directly.
//!
//! Invariants:
//! - every peer in a swarm is listed under its connection in `members`, and
//!   nothing else is: disconnecting a connection removes exactly its peers;
//! - a peer id in a swarm belongs to the connection that first announced it
//!   until that peer leaves (stop, disconnect, expiry): another connection
//!   announcing it gets a failure and changes nothing;
//! - no swarm is empty; there are at most `max_swarms` swarms, at most
//!   `max_peers_per_swarm` peers in one, and a connection is a peer in at
//!   most `max_swarms_per_conn` swarms;
//! - an offer goes to at most one peer, never to its sender, and an announce
//!   relays at most `max_offers` offers; an answer goes only to the
//!   connection of `to_peer_id`, and only from a peer that announced on the
//!   answering connection.

use std::collections::HashMap;
use std::time::Instant;

use indexmap::IndexMap;
use peercdn::tracker::{
    Action, Announce, AnnounceEvent, AnnounceReply, Answer, ClientToTracker, Failure, Id20,
    RelayedAnswer, RelayedOffer, Scrape, ScrapeFile, ScrapeReply, TrackerToClient,
};

use super::members::Members;
use super::{Limits, TrackerCounters};

/// Identifies one WebSocket connection.
pub type ConnId = u64;

/// Messages to send, each to one connection.
pub type Outbox = Vec<(ConnId, TrackerToClient)>;

struct Peer {
    conn: ConnId,
    seeder: bool,
    last_announce: Instant,
}

#[derive(Default)]
struct Swarm {
    /// Insertion-ordered, so a random index picks a random peer in O(1).
    peers: IndexMap<Id20, Peer>,
    seeders: u32,
    /// `completed` events seen, for scrape.
    downloaded: u32,
}

pub struct TrackerState {
    limits: Limits,
    swarms: HashMap<Id20, Swarm>,
    /// Each connection's (info hash, peer id) memberships.
    members: Members,
    rng: u64,
    counters: TrackerCounters,
}

impl TrackerState {
    pub fn new(limits: Limits, seed: u64) -> Self {
        TrackerState {
            limits,
            swarms: HashMap::new(),
            members: Members::default(),
            // xorshift must not start at zero.
            rng: seed | 1,
            counters: TrackerCounters::default(),
        }
    }

    pub fn counters(&self) -> TrackerCounters {
        let mut c = self.counters.clone();
        c.swarms = self.swarms.len() as u64;
        c.peers = self.swarms.values().map(|s| s.peers.len() as u64).sum();
        c
    }

    /// Handles one message from `conn`, appending what to send to `out`.
    pub fn handle(&mut self, now: Instant, conn: ConnId, msg: ClientToTracker, out: &mut Outbox) {
        match msg {
            ClientToTracker::Announce(a) => self.announce(now, conn, a, out),
            ClientToTracker::Answer(a) => self.answer(conn, a, out),
            ClientToTracker::Scrape(s) => self.scrape(conn, s, out),
        }
    }

    /// A failure reply for `conn`, counted.
    pub fn fail(
        &mut self,
        conn: ConnId,
        reason: String,
        action: Option<Action>,
        info_hash: Option<Id20>,
        out: &mut Outbox,
    ) {
        self.counters.failures += 1;
        out.push((
            conn,
            TrackerToClient::Failure(Failure {
                reason,
                action,
                info_hash,
            }),
        ));
    }

    fn announce(&mut self, now: Instant, conn: ConnId, a: Announce, out: &mut Outbox) {
        self.counters.announces += 1;
        if a.event == Some(AnnounceEvent::Stopped) {
            self.remove_peer(&a.info_hash, &a.peer_id, Some(conn));
        } else if let Err(reason) = self.upsert_peer(now, conn, &a) {
            let info_hash = Some(a.info_hash);
            return self.fail(conn, reason.into(), Some(Action::Announce), info_hash, out);
        }
        let (complete, incomplete) = self
            .swarms
            .get(&a.info_hash)
            .map_or((0, 0), |s| (s.seeders, s.peers.len() as u32 - s.seeders));
        out.push((
            conn,
            TrackerToClient::AnnounceReply(AnnounceReply {
                info_hash: a.info_hash,
                interval: self.limits.interval_secs,
                complete,
                incomplete,
                warning: None,
            }),
        ));
        if a.event != Some(AnnounceEvent::Stopped) {
            self.relay_offers(a, out);
        }
    }

    /// Adds or refreshes the announcing peer, within the bounds.
    fn upsert_peer(
        &mut self,
        now: Instant,
        conn: ConnId,
        a: &Announce,
    ) -> Result<(), &'static str> {
        let seeder = a.left == Some(0) || a.event == Some(AnnounceEvent::Completed);
        let previous_conn = self.admit(conn, a)?;
        if previous_conn.is_none() {
            self.members.add(conn, (a.info_hash, a.peer_id));
        }
        let swarm = self.swarms.entry(a.info_hash).or_default();
        let was_seeder = swarm.peers.get(&a.peer_id).is_some_and(|p| p.seeder);
        swarm.peers.insert(
            a.peer_id,
            Peer {
                conn,
                seeder,
                last_announce: now,
            },
        );
        swarm.seeders = swarm.seeders + u32::from(seeder) - u32::from(was_seeder);
        if a.event == Some(AnnounceEvent::Completed) {
            swarm.downloaded = swarm.downloaded.saturating_add(1);
        }
        Ok(())
    }

    /// Checks the bounds for this announce; returns the connection that
    /// owned the peer before (only ever `conn` itself), if it was known.
    fn admit(&self, conn: ConnId, a: &Announce) -> Result<Option<ConnId>, &'static str> {
        let swarm = self.swarms.get(&a.info_hash);
        let previous_conn = swarm.and_then(|s| s.peers.get(&a.peer_id)).map(|p| p.conn);
        if previous_conn.is_some_and(|c| c != conn) {
            // A peer id belongs to its first live connection: letting a
            // second one take it would hand it the offers and answers
            // meant for the first. A reconnecting client's old socket
            // leaves the swarm when it closes (or times out).
            return Err("peer id is in use on another connection");
        }
        if previous_conn.is_none() && self.members.count(conn) >= self.limits.max_swarms_per_conn {
            return Err("too many swarms on this connection");
        }
        if previous_conn.is_none() {
            match swarm {
                None if self.swarms.len() >= self.limits.max_swarms => {
                    return Err("tracker is at its swarm limit")
                }
                Some(s) if s.peers.len() >= self.limits.max_peers_per_swarm => {
                    return Err("swarm is full")
                }
                _ => {}
            }
        }
        Ok(previous_conn)
    }

    /// Sends each offer to a different random peer of the swarm.
    fn relay_offers(&mut self, a: Announce, out: &mut Outbox) {
        let Some(swarm) = self.swarms.get(&a.info_hash) else {
            return;
        };
        let wanted = a.offers.len().min(self.limits.max_offers);
        let targets = pick_peers(&mut self.rng, &swarm.peers, &a.peer_id, wanted);
        for (offer, index) in a.offers.into_iter().zip(targets) {
            let Some((_, peer)) = swarm.peers.get_index(index) else {
                continue;
            };
            self.counters.offers_relayed += 1;
            out.push((
                peer.conn,
                TrackerToClient::Offer(RelayedOffer {
                    info_hash: a.info_hash,
                    peer_id: a.peer_id,
                    offer_id: offer.offer_id,
                    sdp: offer.sdp,
                }),
            ));
        }
    }

    fn answer(&mut self, conn: ConnId, a: Answer, out: &mut Outbox) {
        let swarm = self.swarms.get(&a.info_hash);
        let sender_ok = swarm
            .and_then(|s| s.peers.get(&a.peer_id))
            .is_some_and(|p| p.conn == conn);
        if !sender_ok {
            let reason = "answer from a peer that has not announced on this connection";
            return self.fail(
                conn,
                reason.into(),
                Some(Action::Announce),
                Some(a.info_hash),
                out,
            );
        }
        // An offerer that left meanwhile is normal churn, not an error.
        let Some(target) = swarm.and_then(|s| s.peers.get(&a.to_peer_id)) else {
            self.counters.answers_dropped += 1;
            return;
        };
        self.counters.answers_relayed += 1;
        out.push((
            target.conn,
            TrackerToClient::Answer(RelayedAnswer {
                info_hash: a.info_hash,
                peer_id: a.peer_id,
                offer_id: a.offer_id,
                sdp: a.sdp,
            }),
        ));
    }

    /// Asking for no info hash means "all swarms", capped so a scrape reply
    /// stays small.
    fn scrape(&mut self, conn: ConnId, s: Scrape, out: &mut Outbox) {
        self.counters.scrapes += 1;
        let cap = self.limits.max_scrape;
        let hashes: Vec<Id20> = if s.info_hashes.is_empty() {
            self.swarms.keys().take(cap).copied().collect()
        } else {
            let mut hashes = s.info_hashes;
            hashes.truncate(cap);
            hashes.sort_unstable();
            hashes.dedup();
            hashes
        };
        let files = hashes
            .into_iter()
            .map(|h| {
                let file = self.swarms.get(&h).map_or(
                    ScrapeFile {
                        complete: 0,
                        incomplete: 0,
                        downloaded: 0,
                    },
                    |s| ScrapeFile {
                        complete: s.seeders,
                        incomplete: s.peers.len() as u32 - s.seeders,
                        downloaded: s.downloaded,
                    },
                );
                (h, file)
            })
            .collect();
        out.push((conn, TrackerToClient::ScrapeReply(ScrapeReply { files })));
    }

    /// The connection closed: its peers leave every swarm.
    pub fn disconnect(&mut self, conn: ConnId) {
        for (info_hash, peer_id) in self.members.take(conn) {
            self.remove_from_swarm(&info_hash, &peer_id);
        }
    }

    /// Drops peers that have not announced for `peer_timeout`.
    pub fn expire(&mut self, now: Instant) {
        let timeout = self.limits.peer_timeout;
        let mut stale = Vec::new();
        for (info_hash, swarm) in &self.swarms {
            for (peer_id, peer) in &swarm.peers {
                if now.saturating_duration_since(peer.last_announce) >= timeout {
                    stale.push((*info_hash, *peer_id, peer.conn));
                }
            }
        }
        for (info_hash, peer_id, conn) in stale {
            self.remove_peer(&info_hash, &peer_id, Some(conn));
        }
    }

    /// Removes a peer if `conn` (when given) owns it.
    fn remove_peer(&mut self, info_hash: &Id20, peer_id: &Id20, conn: Option<ConnId>) {
        let owner = self
            .swarms
            .get(info_hash)
            .and_then(|s| s.peers.get(peer_id))
            .map(|p| p.conn);
        match owner {
            Some(owner) if conn.is_none_or(|c| c == owner) => {
                self.forget_membership(owner, info_hash, peer_id);
                self.remove_from_swarm(info_hash, peer_id);
            }
            _ => {}
        }
    }

    fn forget_membership(&mut self, conn: ConnId, info_hash: &Id20, peer_id: &Id20) {
        self.members.remove(conn, &(*info_hash, *peer_id));
    }

    fn remove_from_swarm(&mut self, info_hash: &Id20, peer_id: &Id20) {
        let Some(swarm) = self.swarms.get_mut(info_hash) else {
            return;
        };
        if let Some(peer) = swarm.peers.swap_remove(peer_id) {
            swarm.seeders -= u32::from(peer.seeder);
        }
        if swarm.peers.is_empty() {
            self.swarms.remove(info_hash);
        }
    }
}

/// Up to `wanted` distinct indices of peers other than `sender`, at random.
fn pick_peers(
    rng: &mut u64,
    peers: &IndexMap<Id20, Peer>,
    sender: &Id20,
    wanted: usize,
) -> Vec<usize> {
    let sender_index = peers.get_index_of(sender);
    let others = peers.len() - usize::from(sender_index.is_some());
    let wanted = wanted.min(others);
    let mut picked: Vec<usize> = Vec::with_capacity(wanted);
    if others <= 2 * wanted {
        // Small swarm: shuffle everyone else and take a prefix.
        let mut all: Vec<usize> = (0..peers.len())
            .filter(|&i| Some(i) != sender_index)
            .collect();
        for i in (1..all.len()).rev() {
            all.swap(i, (next(rng) % (i as u64 + 1)) as usize);
        }
        all.truncate(wanted);
        return all;
    }
    // Large swarm: rejection sampling; at most half the candidates are
    // taken, so each draw succeeds with probability >= 1/2.
    while picked.len() < wanted {
        let i = (next(rng) % peers.len() as u64) as usize;
        if Some(i) != sender_index && !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked
}

/// xorshift64: cheap, and unpredictable enough for choosing peers given an
/// unpredictable seed.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}
