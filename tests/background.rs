//! The background fetch's promises, in simulated swarms: a visitor's
//! browser fetches nothing from the origin that its pages did not ask
//! for, and from peers only within its budget (none at all when it does
//! not upload: the page then sets the budget to 0).

mod sim;

use std::sync::Arc;
use std::time::Duration;

use peercdn::engine::Config;
use sim::scenarios::default_net;
use sim::site::Site;
use sim::Sim;

const PIECE: u64 = 16 * 1024;
const LIMIT: Duration = Duration::from_secs(120);

/// Forty assets of 20-100 KiB: 2.4 MiB in all.
fn site() -> Arc<Site> {
    let lengths: Vec<u64> = (0..40u64).map(|i| 20_480 + (i * 7_919) % 81_920).collect();
    Arc::new(Site::many(&lengths, PIECE, 3))
}

/// Real asset bytes `node` holds (not the BEP 47 padding of last pieces).
fn held(sim: &Sim, node: usize) -> u64 {
    let have = sim.engine(node).expect("engine").have();
    let mut bytes = 0;
    for asset in &sim.site.manifest.assets {
        for k in 0..asset.length.div_ceil(PIECE) {
            if have.get((asset.first_piece + k) as u32) {
                bytes += PIECE.min(asset.length - k * PIECE);
            }
        }
    }
    bytes
}

#[test]
fn a_lone_visitor_takes_only_its_page_from_the_origin() {
    let mut sim = Sim::new(site(), default_net(1), Config::default(), 1);
    let a = sim.add_engine(false);
    sim.start_prefetch(a);
    let page = sim.site.asset_len(3);
    sim.want_asset(a, 1, 3, page, Duration::from_secs(5));
    assert!(sim.run_until(LIMIT, |s| s.all_done(&[a])));
    sim.run_until(Duration::from_secs(30), |_| false);
    assert_eq!(sim.origin_bytes, page, "the page's asset and nothing more");
    assert_eq!(held(&sim, a), page);
}

#[test]
fn a_visitor_fills_its_store_from_a_peer_up_to_its_budget() {
    let mut sim = Sim::new(site(), default_net(2), Config::default(), 2);
    let a = sim.add_engine(true);
    let budget = 1 << 20;
    sim.config.background_budget = budget;
    let b = sim.add_engine(false);
    sim.connect(a, b);
    sim.start_prefetch(b);
    sim.run_until(LIMIT, |_| false);
    let held = held(&sim, b);
    assert_eq!(sim.origin_bytes, 0, "background bytes come from peers only");
    assert!(held >= budget - PIECE, "filled to the budget: {held}");
    assert!(
        held < budget + PIECE,
        "at most a piece past the budget: {held}"
    );
}

#[test]
fn with_no_budget_a_visitor_fetches_only_what_its_page_asks_for() {
    let mut sim = Sim::new(site(), default_net(3), Config::default(), 3);
    let a = sim.add_engine(true);
    sim.config.background_budget = 0;
    let b = sim.add_engine(false);
    sim.connect(a, b);
    sim.start_prefetch(b);
    // Half of one asset: the rest of it is not fetched either.
    let half = sim.site.asset_len(5) / 2;
    sim.want_asset(b, 1, 5, half, Duration::from_secs(5));
    assert!(sim.run_until(LIMIT, |s| s.all_done(&[b])));
    sim.run_until(Duration::from_secs(30), |_| false);
    assert_eq!(
        held(&sim, b),
        half.div_ceil(PIECE) * PIECE,
        "the pieces asked for"
    );
}
