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
//!   `max_peers_per_swarm` peers in one, at most `max_peers_per_ip` of them
//!   from one client address (an IPv6 /64), and a connection is a peer in
//!   at most `max_swarms_per_conn` swarms;
//! - a client address holds at most `max_connections_per_ip` connections;
//! - an offer goes to at most one peer, never to its sender, and an announce
//!   relays at most `max_offers` offers; an answer goes only to the
//!   connection of `to_peer_id`, and only from a peer that announced on the
//!   answering connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use indexmap::IndexMap;
use peercdn::tracker::{
    Action, Announce, AnnounceEvent, AnnounceReply, Answer, ClientToTracker, Failure, Id20,
    RelayedAnswer, RelayedOffer, Scrape, ScrapeFile, ScrapeReply, TrackerToClient,
};

use super::addresses::Addresses;
use super::members::Members;
use super::pick::pick_peers;
use super::{Limits, TrackerCounters};

/// Identifies one WebSocket connection.
pub type ConnId = u64;

/// Messages to send, each to one connection.
pub type Outbox = Vec<(ConnId, TrackerToClient)>;

struct Peer {
    conn: ConnId,
    /// Its connection's client address (bound key), for `per_ip`.
    ip: IpAddr,
    seeder: bool,
    last_announce: Instant,
}

#[derive(Default)]
struct Swarm {
    /// Insertion-ordered, so a random index picks a random peer in O(1).
    peers: IndexMap<Id20, Peer>,
    seeders: u32,
    /// Peers per client address, so one address cannot fill the swarm.
    per_ip: HashMap<IpAddr, u32>,
    /// `completed` events seen, for scrape.
    downloaded: u32,
}

pub struct TrackerState {
    limits: Limits,
    swarms: HashMap<Id20, Swarm>,
    /// Each connection's (info hash, peer id) memberships.
    members: Members,
    addresses: Addresses,
    rng: u64,
    counters: TrackerCounters,
}

impl TrackerState {
    pub fn new(limits: Limits, seed: u64) -> Self {
        TrackerState {
            limits,
            swarms: HashMap::new(),
            members: Members::default(),
            addresses: Addresses::default(),
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

    /// A new connection from client address `ip` (a bound key); false if
    /// that address is at its connection limit.
    pub fn connect(&mut self, conn: ConnId, ip: IpAddr) -> bool {
        self.addresses
            .add(conn, ip, self.limits.max_connections_per_ip)
    }

    #[cfg(test)]
    pub fn is_connected(&self, conn: ConnId) -> bool {
        self.addresses.ip(conn).is_some()
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
        let ip = self
            .addresses
            .ip(conn)
            .ok_or("connection is not registered")?;
        let previous_conn = self.admit(conn, ip, a)?;
        let swarm = self.swarms.entry(a.info_hash).or_default();
        if previous_conn.is_none() {
            self.members.add(conn, (a.info_hash, a.peer_id));
            *swarm.per_ip.entry(ip).or_default() += 1;
        }
        let was_seeder = swarm.peers.get(&a.peer_id).is_some_and(|p| p.seeder);
        swarm.peers.insert(
            a.peer_id,
            Peer {
                conn,
                ip,
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
    fn admit(
        &self,
        conn: ConnId,
        ip: IpAddr,
        a: &Announce,
    ) -> Result<Option<ConnId>, &'static str> {
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
                Some(s)
                    if s.per_ip.get(&ip).map_or(0, |&n| n as usize)
                        >= self.limits.max_peers_per_ip =>
                {
                    return Err("too many peers from your address in this swarm")
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
        self.addresses.remove(conn);
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
            if let Some(n) = swarm.per_ip.get_mut(&peer.ip) {
                *n -= 1;
                if *n == 0 {
                    swarm.per_ip.remove(&peer.ip);
                }
            }
        }
        if swarm.peers.is_empty() {
            self.swarms.remove(info_hash);
        }
    }
}
