//! A documentation site of about a thousand files, as testers measured
//! it stalling: hundreds of small pages, one big search index, the rest
//! small files, in 128 KiB pieces. Visitor A holds it all; visitor B
//! fetches all of it from A in the background as the browser glue does.

use std::sync::Arc;
use std::time::Duration;

use peercdn::engine::Config;

use super::node::mix;
use super::scenarios::default_net;
use super::site::Site;
use super::Sim;

pub const PIECE_LENGTH: u64 = 128 * 1024;

/// `files` lengths: every other one a page of 2-60 KB, the others 1 KB to
/// 400 KB, and in the middle one index of `index` bytes.
pub fn lengths(files: usize, index: u64, seed: u64) -> Vec<u64> {
    (0..files)
        .map(|i| {
            let r = mix(seed ^ i as u64);
            if i == files / 2 {
                index
            } else if i % 2 == 0 {
                2_000 + r % 58_000
            } else {
                1_000 + r % 190_000
            }
        })
        .collect()
}

/// What became of B's background fetch.
#[derive(Debug)]
pub struct Outcome {
    pub finished: bool,
    pub pieces: u32,
    pub piece_count: u32,
    pub pending_wants: usize,
    pub origin_bytes: u64,
    pub elapsed_ms: u64,
}

/// One run's site and visitors.
pub struct DocSite<'a> {
    pub lengths: &'a [u64],
    pub piece_length: u64,
    pub config: Config,
    /// How long a store read takes.
    pub read_delay: Duration,
    /// Wants of B's page (5 s deadline each) before it meets A.
    pub page_wants: usize,
}

/// Runs the scenario for at most `limit` of virtual time.
pub fn run(d: DocSite<'_>, seed: u64, limit: Duration) -> Outcome {
    let DocSite {
        lengths,
        piece_length,
        config,
        read_delay,
        page_wants,
    } = d;
    let site = Arc::new(Site::many(lengths, piece_length, seed));
    let mut sim = Sim::new(site, default_net(seed), config, seed);
    sim.read_delay = read_delay;
    let a = sim.add_engine(true);
    let b = sim.add_engine(false);
    // The page B opened asks for some of the site at once (the worker's
    // wants: a few seconds' deadline), before its leader meets A.
    for i in 0..page_wants {
        let asset = (i * 7 % lengths.len()) as u32;
        let end = sim.site.asset_len(asset);
        sim.want_asset(b, i as u64 + 1, asset, end, Duration::from_secs(5));
    }
    sim.connect(a, b);
    sim.start_prefetch(b);
    let start = sim.now;
    let finished = sim.run_until(limit, |s| s.holds_site(b));
    let e = sim.engine(b).expect("engine");
    Outcome {
        finished,
        pieces: e.have().count(),
        piece_count: sim.site.piece_count(),
        pending_wants: e.pending_wants(),
        origin_bytes: sim.origin_bytes,
        elapsed_ms: sim.now.since(start).as_millis() as u64,
    }
}
