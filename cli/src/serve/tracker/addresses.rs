//! Each connection's client address (already reduced to its bound key, see
//! [`crate::serve::client_ip`]) and how many connections each address holds.
//!
//! Invariant: `conns[ip]` is the number of entries of `by_conn` with that
//! address, and no count is zero (the entry is removed instead).

use std::collections::HashMap;
use std::net::IpAddr;

use super::state::ConnId;

#[derive(Default)]
pub struct Addresses {
    by_conn: HashMap<ConnId, IpAddr>,
    conns: HashMap<IpAddr, u32>,
}

impl Addresses {
    /// Records `conn` from `ip`, unless `ip` already holds `max` connections.
    pub fn add(&mut self, conn: ConnId, ip: IpAddr, max: usize) -> bool {
        let count = self.conns.entry(ip).or_default();
        if *count as usize >= max {
            if *count == 0 {
                self.conns.remove(&ip);
            }
            return false;
        }
        *count += 1;
        self.by_conn.insert(conn, ip);
        true
    }

    pub fn ip(&self, conn: ConnId) -> Option<IpAddr> {
        self.by_conn.get(&conn).copied()
    }

    pub fn remove(&mut self, conn: ConnId) {
        let Some(ip) = self.by_conn.remove(&conn) else {
            return;
        };
        if let Some(count) = self.conns.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                self.conns.remove(&ip);
            }
        }
    }
}
