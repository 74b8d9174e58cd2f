//! The swarm scenarios as tests (see tests/sim). In release builds
//! (`cargo test --release --test swarm`) they run on the 32 MiB asset the
//! figures are about; debug builds use a 2 MiB asset so a plain
//! `cargo test` stays fast, and every assertion below is size-independent
//! (ratios, completeness, zero mismatches).

mod sim;

use sim::scenarios::{run, Report, FULL_ASSET};

const ASSET: u64 = if cfg!(debug_assertions) {
    2 * 1024 * 1024
} else {
    FULL_ASSET
};

fn scenario(name: &str) -> Report {
    let report = run(name, ASSET, 7).expect("known scenario");
    println!("{}", report.to_json());
    assert!(report.all_complete, "{name}: every visitor completes");
    assert_eq!(
        report.bytes_mismatched, 0,
        "{name}: no wrong byte delivered"
    );
    assert_eq!(report.asset_bytes, ASSET);
    assert_eq!(
        report.origin_overlaps, 0,
        "{name}: a piece is never at the origin twice at once"
    );
    report
}

#[test]
fn sequential_visitors_get_their_bytes_from_peers() {
    let r = scenario("sequential");
    assert_eq!(r.visitors, 10);
    assert!(
        r.min_later_peer_share >= 0.95,
        "visitors 2..10 >= 95% from peers: {}",
        r.min_later_peer_share
    );
    assert!(
        r.origin_bytes as f64 <= 1.1 * ASSET as f64,
        "origin {} bytes",
        r.origin_bytes
    );
    assert!(r.peer_bytes >= 9 * ASSET * 95 / 100);
}

#[test]
fn flash_crowd_swarms_instead_of_making_eight_origin_copies() {
    let r = scenario("flash-crowd");
    assert_eq!(r.visitors, 8);
    assert!(
        r.origin_bytes as f64 <= 1.25 * ASSET as f64,
        "origin {} bytes",
        r.origin_bytes
    );
    assert!(
        r.origin_bytes >= ASSET,
        "someone had to fetch every byte once"
    );
}

#[test]
fn churn_the_only_seeder_leaves_mid_transfer() {
    let r = scenario("churn");
    assert_eq!(r.visitors, 3);
    // The seeder gave at least the first 30% before leaving; the rest came
    // from the other visitors and the origin, which is used, but not thrice.
    assert!(r.peer_bytes > 0 && r.origin_bytes > 0);
    assert!(r.origin_bytes < ASSET, "origin {} bytes", r.origin_bytes);
}

#[test]
fn corrupt_peer_is_banned_and_no_bad_byte_is_delivered() {
    let r = scenario("corrupt-peer");
    assert_eq!(r.peers_banned, 1);
    assert_eq!(r.origin_bytes, 0, "the honest seeder covers everything");
}

#[test]
fn stalling_peer_is_timed_out_and_the_origin_takes_over() {
    let r = scenario("stall");
    assert!(r.request_timeouts >= 1);
    let origin_time_ms = ASSET * 1000 / (12 * 1024 * 1024);
    let timeout_ms = 4_000;
    assert!(
        r.max_complete_ms <= timeout_ms + 2 * origin_time_ms + 1_000,
        "took {} ms",
        r.max_complete_ms
    );
    assert_eq!(r.origin_bytes, ASSET);
}

#[test]
fn no_peers_means_origin_at_once_within_the_deadline() {
    let r = scenario("no-peers");
    assert_eq!(r.origin_bytes, ASSET);
    assert_eq!(r.peer_bytes, 0);
    assert_eq!(
        r.first_origin_ms, 0,
        "no waiting for peers that do not exist"
    );
    assert!(
        r.max_complete_ms <= r.deadline_ms,
        "took {} ms",
        r.max_complete_ms
    );
}

#[test]
fn seeking_fetches_the_new_range_first() {
    let r = scenario("seek");
    let seek = r.seek_ms.expect("the range want finished");
    assert!(seek <= 3_000, "range within its deadline: {seek} ms");
    assert!(
        seek < r.max_complete_ms / 2,
        "long before the whole asset: {seek} ms"
    );
    assert_eq!(r.origin_bytes, 0, "a far deadline and a seeder: no origin");
}

/// The second visitor of a site of many small files fetches all of it in
/// the background from the first, as the browser glue does, even when
/// the page it opened filled most of the engine's wants first (testers
/// saw the fetch stop for good at 250 of 1,289 pieces, `pendingWants: 0`,
/// when background fetching used the engine's wants), and it takes
/// nothing from the origin beyond what its page asked for.
#[test]
fn background_fetch_of_many_small_files_finishes_after_a_busy_page() {
    use sim::docsite::{lengths, run, DocSite};
    let lengths: Vec<u64> = lengths(300, 200_000, 7)
        .into_iter()
        .map(|l| l % 12_000 + 1)
        .collect();
    let config = peercdn::engine::Config::default();
    let page_wants = config.max_wants - 4;
    let page_bytes: u64 = (0..page_wants)
        .map(|i| lengths[i * 7 % lengths.len()])
        .sum();
    let d = DocSite {
        lengths: &lengths,
        piece_length: 16 * 1024,
        config,
        read_delay: std::time::Duration::from_millis(2),
        page_wants,
    };
    let o = run(d, 7, std::time::Duration::from_secs(120));
    println!("{o:?}");
    assert!(o.finished, "the background fetch ended: {o:?}");
    assert_eq!(o.pieces, o.piece_count, "B holds the whole site: {o:?}");
    assert!(
        o.origin_bytes <= page_bytes,
        "only the page's bytes from the origin: {o:?}"
    );
}
