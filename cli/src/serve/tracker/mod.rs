//! The WebSocket tracker at `/announce`: the WebTorrent tracker protocol,
//! bounded everywhere a client can push.
//!
//! [`state`] holds the swarms and decides (plain functions, no I/O);
//! [`upgrade`] does the WebSocket handshake, [`frame`] (in the core crate,
//! so it can be fuzzed) the framing, and
//! [`conn`] runs one task per socket, the only code touching sockets. They
//! meet in [`Tracker`]: one mutex over the state and the outboxes (a
//! bounded queue per connection). A connection handles its own messages
//! under the lock, then delivers what the state produced: its own replies
//! straight to its socket, others' messages into their outboxes. A full
//! outbox (a client not reading) drops that message rather than letting one
//! slow client grow the server's memory.

mod addresses;
mod conn;
mod members;
mod pick;
mod rate;
pub mod state;
#[cfg(test)]
mod tests;
mod upgrade;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use peercdn::ws_frame as frame;
use tokio::sync::{watch, Notify};

use state::{ConnId, TrackerState};
pub use upgrade::AllowedOrigins;

/// Every bound of the tracker; `peercdn serve --help` lists the flags.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Announce interval told to clients, seconds.
    pub interval_secs: u32,
    /// A peer that has not re-announced for this long leaves its swarm.
    pub peer_timeout: Duration,
    pub ping_interval: Duration,
    /// A connection that sent nothing (not even a pong) for this long is closed.
    pub idle_timeout: Duration,
    /// A message (its frames) must arrive whole within this once started.
    pub frame_timeout: Duration,
    pub max_frame_bytes: usize,
    /// Offers relayed per announce; extra offers are ignored.
    pub max_offers: usize,
    pub max_peers_per_swarm: usize,
    pub max_swarms: usize,
    pub max_swarms_per_conn: usize,
    /// Info hashes answered in one scrape.
    pub max_scrape: usize,
    pub max_connections: usize,
    /// Tracker connections one client address (an IPv6 /64) may hold.
    pub max_connections_per_ip: usize,
    /// Peers one client address (an IPv6 /64) may have in one swarm.
    pub max_peers_per_ip: usize,
    /// Token bucket per connection: sustained messages per second, burst.
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    /// Invalid messages a connection may send before it is closed.
    pub max_bad_messages: u32,
    /// Messages queued for a connection from others before new ones drop.
    pub outbox_len: usize,
}

/// Counters for `/_peercdn/stats`; `swarms` and `peers` are filled in when read.
#[derive(Clone, Debug, Default)]
pub struct TrackerCounters {
    pub connections: u64,
    pub swarms: u64,
    pub peers: u64,
    pub announces: u64,
    pub offers_relayed: u64,
    pub answers_relayed: u64,
    pub answers_dropped: u64,
    pub scrapes: u64,
    pub failures: u64,
    pub clients_cut_off: u64,
    pub messages_dropped: u64,
}

pub struct Tracker {
    limits: Limits,
    inner: Mutex<Inner>,
    next_conn: AtomicU64,
    connections: AtomicU64,
    cut_off: AtomicU64,
    /// Relayed messages dropped because the recipient's outbox was full.
    dropped: AtomicU64,
    /// Text messages handled since start.
    messages: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

struct Inner {
    state: TrackerState,
    outboxes: HashMap<ConnId, Arc<Outbox>>,
}

/// Frames queued for one connection by others, and signals for it (time to
/// ping, shutting down). Empty, it allocates nothing: most connections are
/// idle most of the time, and an idle connection task waits on just its
/// socket and this.
#[derive(Default)]
pub struct Outbox {
    queue: Mutex<Queued>,
    notify: Notify,
    signals: AtomicU8,
}

/// Frames end to end, ready to be written in one go, and how many.
#[derive(Default)]
struct Queued {
    bytes: Vec<u8>,
    frames: usize,
}

/// [`Outbox`] signal bits.
const SIGNAL_PING: u8 = 1;
const SIGNAL_SHUTDOWN: u8 = 2;

impl Outbox {
    fn signal(&self, bit: u8) {
        self.signals.fetch_or(bit, Ordering::Relaxed);
        self.notify.notify_one();
    }

    /// The signals raised since the last call.
    fn take_signals(&self) -> u8 {
        self.signals.swap(0, Ordering::Relaxed)
    }

    /// Queues a text frame of `json` unless `cap` frames already wait.
    fn push(&self, json: &[u8], cap: usize) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.frames >= cap {
            return false;
        }
        frame::write(&mut queue.bytes, frame::OP_TEXT, json);
        queue.frames += 1;
        drop(queue);
        self.notify.notify_one();
        true
    }

    /// Moves everything queued to the end of `out`, freeing the queue.
    fn take_into(&self, out: &mut Vec<u8>) {
        let queued = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        if out.is_empty() {
            *out = queued.bytes;
        } else {
            out.extend_from_slice(&queued.bytes);
        }
    }
}

impl Tracker {
    pub fn new(limits: Limits, seed: u64, shutdown: watch::Receiver<bool>) -> Arc<Self> {
        Arc::new(Tracker {
            inner: Mutex::new(Inner {
                state: TrackerState::new(limits.clone(), seed),
                outboxes: HashMap::new(),
            }),
            limits,
            next_conn: AtomicU64::new(1),
            connections: AtomicU64::new(0),
            cut_off: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            shutdown,
        })
    }

    /// The state stays consistent between messages, so a panic elsewhere
    /// while the lock was held leaves nothing half-done worth refusing.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn counters(&self) -> TrackerCounters {
        let mut c = self.lock().state.counters();
        c.connections = self.connections.load(Ordering::Relaxed);
        c.clients_cut_off = self.cut_off.load(Ordering::Relaxed);
        c.messages_dropped = self.dropped.load(Ordering::Relaxed);
        c
    }

    /// Connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.next_conn.load(Ordering::Relaxed) - 1
    }

    /// Connections accepted, messages handled and clients cut off since
    /// start: unchanged means nothing happened. Cut-offs count because a
    /// client cut off for a stalled message frees the bytes it held.
    pub fn activity(&self) -> u64 {
        self.accepted()
            + self.messages.load(Ordering::Relaxed)
            + self.cut_off.load(Ordering::Relaxed)
    }

    /// Open tracker connections.
    pub fn connection_count(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Drops peers that stopped announcing; called periodically.
    pub fn expire(&self) {
        self.lock().state.expire(std::time::Instant::now());
    }

    /// Raises `bit` on every connection.
    fn broadcast(&self, bit: u8) {
        for outbox in self.lock().outboxes.values() {
            outbox.signal(bit);
        }
    }

    /// One timer for all connections (a timer per connection would cost
    /// each idle connection memory): pings every `ping_interval`, and
    /// tells every connection when the server shuts down.
    pub async fn run_timers(self: Arc<Self>) {
        let mut ping = tokio::time::interval(self.limits.ping_interval);
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                _ = ping.tick() => self.broadcast(SIGNAL_PING),
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        self.broadcast(SIGNAL_SHUTDOWN);
    }

    /// A new connection from client address `ip` (a bound key), counted
    /// against the caps from the handshake on; `None` if `ip` is at its
    /// connection limit.
    fn register(&self, ip: IpAddr) -> Option<(ConnId, Arc<Outbox>)> {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let outbox = Arc::new(Outbox::default());
        let mut inner = self.lock();
        if !inner.state.connect(id, ip) {
            return None;
        }
        inner.outboxes.insert(id, Arc::clone(&outbox));
        drop(inner);
        self.connections.fetch_add(1, Ordering::Relaxed);
        Some((id, outbox))
    }

    /// The connection stops taking part: its peers leave their swarms.
    fn leave(&self, id: ConnId) {
        let mut inner = self.lock();
        inner.outboxes.remove(&id);
        inner.state.disconnect(id);
    }

    /// The connection's socket is done with.
    fn closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    fn leave_and_close(&self, id: ConnId) {
        self.leave(id);
        self.closed();
    }
}
