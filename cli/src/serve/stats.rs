//! What the origin served, for `GET /_peercdn/stats`: tests and benchmarks
//! measure peer offload from it.
//!
//! Invariant: `bytes` is the exact number of body bytes handed to the HTTP
//! layer for site files, and equals the sum over `paths`. Paths are keyed by
//! the canonical URL path of the file served (as in `peercdn.json`), so the
//! map never holds more entries than the site has files, however a client
//! spells its URLs.
//!
//! Access: public on the site's address by default (tests and benchmarks
//! read it there); `--stats-addr` moves it to an address of its own and
//! `--stats-token` asks for a token, compared in constant time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::http::{header, HeaderMap, Uri};
use serde_json::{json, Value};

use super::tracker::TrackerCounters;

#[derive(Default)]
pub struct OriginStats {
    requests: AtomicU64,
    range_requests: AtomicU64,
    not_modified: AtomicU64,
    /// Guarded together so a reader sees `bytes == sum(paths)`.
    bytes: Mutex<ByteCounts>,
}

#[derive(Default)]
struct ByteCounts {
    total: u64,
    paths: BTreeMap<String, u64>,
}

impl OriginStats {
    /// A request for a site file (any outcome).
    pub fn request(&self, range: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if range {
            self.range_requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn not_modified(&self) {
        self.not_modified.fetch_add(1, Ordering::Relaxed);
    }

    /// Body bytes of `path` just handed to the connection.
    pub fn sent(&self, path: &str, n: u64) {
        // A poisoned lock only means another thread panicked mid-update of
        // plain integers: the counts are still usable.
        let mut counts = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        counts.total += n;
        match counts.paths.get_mut(path) {
            Some(v) => *v += n,
            None => {
                counts.paths.insert(path.to_string(), n);
            }
        }
    }

    pub fn to_json(&self, tracker: Option<TrackerCounters>) -> Value {
        let counts = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        let origin = json!({
            "bytes": counts.total,
            "requests": self.requests.load(Ordering::Relaxed),
            "range_requests": self.range_requests.load(Ordering::Relaxed),
            "not_modified": self.not_modified.load(Ordering::Relaxed),
            "paths": counts.paths,
        });
        let tracker = tracker.map(|t| {
            json!({
                "connections": t.connections,
                "swarms": t.swarms,
                "peers": t.peers,
                "announces": t.announces,
                "offers_relayed": t.offers_relayed,
                "answers_relayed": t.answers_relayed,
                "scrapes": t.scrapes,
                "failures": t.failures,
                "clients_cut_off": t.clients_cut_off,
            })
        });
        json!({ "origin": origin, "tracker": tracker })
    }
}

/// Whether the request carries `token`, as `Authorization: Bearer` or as
/// the `token` query parameter.
pub fn token_matches(token: &str, uri: &Uri, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = uri
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("token="));
    [bearer, query]
        .into_iter()
        .flatten()
        .any(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

/// Constant-time equality: the time taken says nothing about how much of
/// a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
