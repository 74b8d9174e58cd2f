//! When the origin waits for peers: another visitor's share of a slow
//! origin, peers the tracker announced, and the takeover delay.

use super::*;
use crate::engine::origin::chunk_score;

/// At `at_ms`, the caller expects peers until `until_ms`.
fn expect_peers(e: &mut Engine, at_ms: u64, until_ms: u64) {
    let until = Time::from_millis(until_ms);
    e.handle(Time::from_millis(at_ms), Input::PeersExpected { until });
}

/// Asset 1's pieces (3..7) of origin chunk `c`, as the byte range of a
/// `FetchOrigin` (chunks of two pieces: `origin_max_run` is 2 pieces).
fn chunk_bytes(c: u32) -> (u32, u64, u64) {
    let first = (2 * c).max(3);
    let end = (2 * c + 2).min(7);
    let at = |p: u32| (u64::from(p - 3) * PL).min(50_000);
    (1, at(first), at(end))
}

/// Origin runs, and so rendezvous chunks, of two pieces.
fn two_piece_chunks() -> Config {
    Config {
        origin_max_run: 2 * PL,
        ..Config::default()
    }
}

/// Whether our engine (`engine`'s id) owns chunk `c` against a peer whose
/// id is 20 bytes of `tag`.
fn we_own(tag: u8, c: u32) -> bool {
    chunk_score(b"-PC0001-ourselves000", c) > chunk_score(&[tag; 20], c)
}

/// Another visitor, peer 1 with id `[tag; 20]`, that has nothing yet.
fn empty_visitor(e: &mut Engine, s: &Site, tag: u8) {
    Remote::new(s, tag).connect(e, 1, Time::ZERO);
    send(e, 1, Time::ZERO, Message::Bitfield(&[0]));
}

#[test]
fn a_slow_origin_delays_taking_over_another_visitors_share() {
    let s = site();
    let mut e = engine(&s, two_piece_chunks());
    // Another visitor with nothing yet, whose id leaves us exactly one of
    // the want's chunks (1, 2 and 3) by rendezvous hashing.
    let tag = (0..=255u8)
        .find(|&t| (1..4).filter(|&c| we_own(t, c)).count() == 1)
        .unwrap();
    let (mine, theirs): (Vec<u32>, Vec<u32>) = (1..4).partition(|&c| we_own(tag, c));
    empty_visitor(&mut e, &s, tag);
    // Due in 30 s: a page waits for it (background wants wait longer).
    let out = want(&mut e, 1, 50_000, 30);
    assert_eq!(
        origin_fetches(&out),
        vec![chunk_bytes(mine[0])],
        "our chunk only"
    );
    let id = out
        .iter()
        .find_map(|o| match o {
            Output::FetchOrigin { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();

    // Our run took 4 s: the other visitor's runs likely take as long, so
    // its pieces are not orphans until twice that passed without progress.
    let (_, start, end) = chunk_bytes(mine[0]);
    let asset1 = 3 * PL as usize;
    let bytes = &s.bytes[asset1 + start as usize..asset1 + end as usize];
    let at = Time::from_millis(4_000);
    e.handle(at, Input::OriginData { id, bytes });
    e.handle(at, Input::OriginDone { id });
    assert!(origin_fetches(&drain(&mut e)).is_empty());
    assert_eq!(e.poll_timeout(), Some(Time::from_millis(8_000)));
    e.handle(Time::from_millis(7_999), Input::Timer);
    assert!(origin_fetches(&drain(&mut e)).is_empty(), "still waiting");
    e.handle(Time::from_millis(8_000), Input::Timer);
    let mut taken = origin_fetches(&drain(&mut e));
    taken.sort_unstable();
    let theirs: Vec<_> = theirs.into_iter().map(chunk_bytes).collect();
    assert_eq!(taken, theirs, "then the orphans are ours");
}

#[test]
fn expected_peers_hold_the_origin_until_they_come_or_are_known_not_to() {
    let s = site();
    let mut e = engine(&s, Config::default());
    // The tracker has not answered yet: wait up to a second for peers.
    expect_peers(&mut e, 0, 1_000);
    let out = want(&mut e, 1, 50_000, 600);
    assert!(origin_fetches(&out).is_empty(), "peers may have it");
    let wake = e.poll_timeout();
    assert!(
        wake.is_some_and(|t| t <= Time::from_millis(1_000)),
        "{wake:?}"
    );
    // Nobody else is in the swarm: the origin at once.
    expect_peers(&mut e, 300, 300);
    assert_eq!(origin_fetches(&drain(&mut e)), vec![(1, 0, 50_000)]);
}

#[test]
fn expected_peers_that_never_come_only_delay_the_origin() {
    let s = site();
    let mut e = engine(&s, Config::default());
    expect_peers(&mut e, 0, 2_000);
    assert!(origin_fetches(&want(&mut e, 1, 50_000, 600)).is_empty());
    e.handle(Time::from_millis(1_999), Input::Timer);
    assert!(origin_fetches(&drain(&mut e)).is_empty());
    e.handle(Time::from_millis(2_000), Input::Timer);
    assert_eq!(origin_fetches(&drain(&mut e)), vec![(1, 0, 50_000)]);
}

#[test]
fn background_wants_wait_longer_before_taking_over() {
    let s = site();
    let config = two_piece_chunks();
    let wait = config.background_takeover;
    let mut e = engine(&s, config);
    // A peer that owns every chunk of the want (it fetches them itself)
    // but has nothing yet: a background want leaves them to it for the
    // whole background takeover delay.
    let theirs = (0..=255u8)
        .find(|&t| (1..4).all(|c| !we_own(t, c)))
        .unwrap();
    empty_visitor(&mut e, &s, theirs);
    assert!(origin_fetches(&want(&mut e, 1, 50_000, 600)).is_empty());
    let before = Time::ZERO.after(wait - Duration::from_millis(1));
    e.handle(before, Input::Timer);
    assert!(origin_fetches(&drain(&mut e)).is_empty(), "still theirs");
    assert_eq!(e.poll_timeout(), Some(Time::ZERO.after(wait)));
    e.handle(Time::ZERO.after(wait), Input::Timer);
    assert!(!origin_fetches(&drain(&mut e)).is_empty(), "then ours");
}
