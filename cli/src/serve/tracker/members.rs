//! Which swarms each connection is a peer in, for removing exactly its
//! peers when it closes.
//!
//! Memory: a browser tab announces one swarm (its site's), so one
//! membership is stored inline in the map's entry, and only a connection
//! in several swarms allocates a list. Every long-lived allocation per
//! connection costs more than its size: it pins a page that the burst of
//! handshakes around it would otherwise give back.

use std::collections::HashMap;

use peercdn::tracker::Id20;
use smallvec::SmallVec;

use super::state::ConnId;

/// (info hash, peer id).
pub type Membership = (Id20, Id20);

#[derive(Default)]
pub struct Members {
    by_conn: HashMap<ConnId, SmallVec<[Membership; 1]>>,
}

impl Members {
    /// How many swarms `conn` is a peer in.
    pub fn count(&self, conn: ConnId) -> usize {
        self.by_conn.get(&conn).map_or(0, SmallVec::len)
    }

    pub fn add(&mut self, conn: ConnId, membership: Membership) {
        self.by_conn.entry(conn).or_default().push(membership);
    }

    pub fn remove(&mut self, conn: ConnId, membership: &Membership) {
        if let Some(list) = self.by_conn.get_mut(&conn) {
            list.retain(|m| m != membership);
            if list.is_empty() {
                self.by_conn.remove(&conn);
            }
        }
    }

    /// Forgets `conn`, returning its memberships.
    pub fn take(&mut self, conn: ConnId) -> SmallVec<[Membership; 1]> {
        self.by_conn.remove(&conn).unwrap_or_default()
    }
}
