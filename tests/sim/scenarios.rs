//! The scenarios, shared by the tests (tests/swarm.rs) and the
//! example (`cargo run --release --example swarm -- <scenario>`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use peercdn::engine::{Config, Time};

use super::adversary::{Adversary, Mode};
use super::site::Site;
use super::{LinkSpec, Net, Sim};

pub const SCENARIOS: &[&str] = &[
    "sequential",
    "flash-crowd",
    "churn",
    "corrupt-peer",
    "stall",
    "no-peers",
    "seek",
];
/// The asset size the figures are about.
pub const FULL_ASSET: u64 = 32 * 1024 * 1024;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub scenario: String,
    pub visitors: usize,
    pub asset_bytes: u64,
    pub origin_bytes: u64,
    pub peer_bytes: u64,
    pub all_complete: bool,
    pub bytes_mismatched: u64,
    /// Slowest visitor: join to want done, virtual milliseconds.
    pub max_complete_ms: u64,
    /// Each visitor's join-to-done time, in arrival order.
    pub complete_ms: Vec<u64>,
    /// Smallest share of bytes from peers among visitors after the first.
    pub min_later_peer_share: f64,
    pub peers_banned: usize,
    pub request_timeouts: u64,
    /// Latest first origin request after joining (no-peers: 0 = no wait).
    pub first_origin_ms: u64,
    pub deadline_ms: u64,
    /// Origin requests overlapping one in flight at the same visitor.
    pub origin_overlaps: u64,
    /// seek: from asking for the range to having it (null elsewhere).
    pub seek_ms: Option<u64>,
    /// Host CPU time the whole simulation took.
    pub wall_ms: u64,
}

impl Report {
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                "{{\"scenario\":\"{}\",\"visitors\":{},\"asset_bytes\":{},\"origin_bytes\":{},",
                "\"peer_bytes\":{},\"all_complete\":{},\"bytes_mismatched\":{},\"max_complete_ms\":{},",
                "\"min_later_peer_share\":{:.4},\"peers_banned\":{},\"request_timeouts\":{},",
                "\"first_origin_ms\":{},\"deadline_ms\":{},\"origin_ratio\":{:.4},\"origin_overlaps\":{},\"complete_ms\":{:?},\"seek_ms\":{},\"wall_ms\":{}}}"
            ),
            self.scenario,
            self.visitors,
            self.asset_bytes,
            self.origin_bytes,
            self.peer_bytes,
            self.all_complete,
            self.bytes_mismatched,
            self.max_complete_ms,
            self.min_later_peer_share,
            self.peers_banned,
            self.request_timeouts,
            self.first_origin_ms,
            self.deadline_ms,
            self.origin_bytes as f64 / self.asset_bytes.max(1) as f64,
            self.origin_overlaps,
            self.complete_ms,
            self.seek_ms.map_or("null".to_string(), |m| m.to_string()),
            self.wall_ms,
        )
    }
}

/// Data channel ~30 MiB/s, 25 ms one way, 1% of messages retransmitted;
/// origin 12 MiB/s per visitor, 40 ms.
pub fn default_net(seed: u64) -> Net {
    let peer = LinkSpec {
        latency: Duration::from_millis(25),
        bandwidth: 30.0 * 1048576.0,
        loss: 0.01,
    };
    let origin = LinkSpec {
        latency: Duration::from_millis(40),
        bandwidth: 12.0 * 1048576.0,
        loss: 0.0,
    };
    Net::new(peer, origin, seed)
}

const DEADLINE: Duration = Duration::from_secs(30);
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `name` with a big asset of `asset` bytes.
pub fn run(name: &str, asset: u64, seed: u64) -> Option<Report> {
    let started = Instant::now();
    let site = Arc::new(Site::new(asset, seed));
    // Back-pressure on: the simulator reports each channel's buffer.
    let config = Config {
        max_send_buffer: Some(1 << 20),
        ..Config::default()
    };
    let mut sim = Sim::new(site, default_net(seed), config, seed);
    let visitors = match name {
        "sequential" => sequential(&mut sim),
        "flash-crowd" => flash_crowd(&mut sim),
        "churn" => churn(&mut sim),
        "corrupt-peer" => with_adversary(&mut sim, Mode::Corrupt),
        "stall" => stall(&mut sim),
        "no-peers" => no_peers(&mut sim),
        "seek" => seek(&mut sim),
        _ => return None,
    };
    let mut report = report(&sim, name, &visitors);
    report.wall_ms = started.elapsed().as_millis() as u64;
    Some(report)
}

fn sequential(sim: &mut Sim) -> Vec<usize> {
    let mut visitors = Vec::new();
    for _ in 0..10 {
        let v = sim.add_engine(false);
        for &other in &visitors {
            sim.connect(v, other);
        }
        sim.want_big(v, DEADLINE);
        sim.run_until(LIMIT, |s| s.all_done(&[v]));
        // The next visitor arrives a little later.
        sim.run_until(Duration::from_millis(500), |_| false);
        visitors.push(v);
    }
    visitors
}

fn flash_crowd(sim: &mut Sim) -> Vec<usize> {
    let visitors: Vec<usize> = (0..8).map(|_| sim.add_engine(false)).collect();
    connect_all(sim, &visitors);
    for &v in &visitors {
        sim.want_big(v, DEADLINE);
    }
    sim.run_until(LIMIT, |s| s.all_done(&visitors));
    visitors
}

/// The only seeder leaves once a visitor holds 30% of the pieces.
fn churn(sim: &mut Sim) -> Vec<usize> {
    let seeder = sim.add_engine(true);
    let visitors: Vec<usize> = (0..3).map(|_| sim.add_engine(false)).collect();
    let mut all = visitors.clone();
    all.push(seeder);
    connect_all(sim, &all);
    for &v in &visitors {
        sim.want_big(v, DEADLINE);
    }
    let total = sim.site.piece_count();
    sim.run_until(LIMIT, |s| {
        visitors.iter().any(|&v| {
            s.engine(v)
                .is_some_and(|e| e.have().count() * 10 >= total * 3)
        })
    });
    sim.leave(seeder);
    sim.run_until(LIMIT, |s| s.all_done(&visitors));
    visitors
}

/// One honest seeder, one adversary, one visitor connected to both.
fn with_adversary(sim: &mut Sim, mode: Mode) -> Vec<usize> {
    let seeder = sim.add_engine(true);
    let evil = Adversary::new(mode, &sim.site, 1);
    let evil = sim.add_adversary(evil);
    let v = sim.add_engine(false);
    sim.connect(v, evil);
    sim.connect(v, seeder);
    sim.want_big(v, DEADLINE);
    sim.run_until(LIMIT, |s| s.all_done(&[v]));
    vec![v]
}

/// The visitor's only peer claims everything, accepts requests and never
/// answers: the request timeout must hand its pieces to the origin.
fn stall(sim: &mut Sim) -> Vec<usize> {
    let evil = Adversary::new(Mode::Stall, &sim.site, 2);
    let evil = sim.add_adversary(evil);
    let v = sim.add_engine(false);
    sim.connect(v, evil);
    sim.want_big(v, DEADLINE);
    sim.run_until(LIMIT, |s| s.all_done(&[v]));
    vec![v]
}

/// Video seeking: a visitor streaming the big asset from a seeder jumps
/// to its middle; that range (want 2, 1 MiB, 3 s deadline) must come first.
fn seek(sim: &mut Sim) -> Vec<usize> {
    let seeder = sim.add_engine(true);
    let v = sim.add_engine(false);
    sim.connect(v, seeder);
    sim.want_big(v, DEADLINE);
    sim.run_until(Duration::from_millis(300), |_| false);
    let mid = sim.site.asset_len(sim.site.big) / 2;
    sim.want_range(v, 2, mid, mid + (1 << 20), Duration::from_secs(3));
    let seek_at = sim.now;
    sim.run_until(LIMIT, |s| s.all_done(&[v]));
    let n = &mut sim.nodes[v];
    n.seek_ms = n
        .wants_done
        .get(&2)
        .map(|t| t.since(seek_at).as_millis() as u64);
    vec![v]
}

fn no_peers(sim: &mut Sim) -> Vec<usize> {
    let v = sim.add_engine(false);
    sim.want_big(v, Duration::from_secs(10));
    sim.run_until(LIMIT, |s| s.all_done(&[v]));
    vec![v]
}

fn connect_all(sim: &mut Sim, nodes: &[usize]) {
    for (i, &a) in nodes.iter().enumerate() {
        for &b in &nodes[i + 1..] {
            sim.connect(a, b);
        }
    }
}

fn report(sim: &Sim, name: &str, visitors: &[usize]) -> Report {
    let ms = |a: Time, b: Time| a.since(b).as_millis() as u64;
    let nodes: Vec<_> = visitors.iter().map(|&v| &sim.nodes[v]).collect();
    let share =
        |n: &super::Node| n.from_peers as f64 / (n.from_peers + n.from_origin).max(1) as f64;
    Report {
        scenario: name.to_string(),
        visitors: visitors.len(),
        asset_bytes: sim.site.asset_len(sim.site.big),
        origin_bytes: sim.origin_bytes,
        peer_bytes: nodes.iter().map(|n| n.from_peers).sum(),
        all_complete: nodes.iter().all(|n| n.done_at.is_some()),
        bytes_mismatched: sim.nodes.iter().map(|n| n.mismatched).sum(),
        complete_ms: nodes
            .iter()
            .map(|n| n.done_at.map_or(u64::MAX, |t| ms(t, n.joined_at)))
            .collect(),
        max_complete_ms: nodes
            .iter()
            .map(|n| n.done_at.map_or(u64::MAX, |t| ms(t, n.joined_at)))
            .max()
            .unwrap_or(0),
        min_later_peer_share: nodes.iter().skip(1).map(|n| share(n)).fold(1.0, f64::min),
        peers_banned: sim.nodes.iter().map(|n| n.banned.len()).sum(),
        request_timeouts: visitors
            .iter()
            .filter_map(|&v| sim.engine(v))
            .map(|e| e.stats().request_timeouts)
            .sum(),
        first_origin_ms: nodes
            .iter()
            .filter_map(|n| n.first_origin_at.map(|t| ms(t, n.joined_at)))
            .max()
            .unwrap_or(0),
        deadline_ms: if name == "no-peers" {
            10_000
        } else {
            DEADLINE.as_millis() as u64
        },
        origin_overlaps: sim.nodes.iter().map(|n| n.origin_overlaps).sum(),
        seek_ms: nodes.iter().find_map(|n| n.seek_ms),
        wall_ms: 0,
    }
}
