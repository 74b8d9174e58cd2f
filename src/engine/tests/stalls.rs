//! Stalled peers: requests re-issued elsewhere, timeouts that back off,
//! strikes that count only stalls in a row, and a slow peer that keeps
//! supplying (the origin waits for it) until it is dropped.

use super::*;

#[test]
fn a_stalled_request_is_reissued_to_another_peer() {
    let s = site();
    // Reassembly room for asset 1 exactly (3 full pieces and 848 bytes), so
    // the second peer cannot even duplicate while the first holds them.
    let cfg = Config {
        max_reassembly_bytes: 3 * PL + 848,
        ..Config::default()
    };
    let timeout = cfg.request_timeout;
    let mut e = engine(&s, cfg);
    let (mut slow, _) = unchoking_seed(&mut e, &s);
    let deadline = Time::from_millis(600_000);
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 1,
            asset: 1,
            start: 0,
            end: 50_000,
            deadline,
        },
    );
    let mut at_slow = requests_to(&mut slow, &drain(&mut e), 1);
    at_slow.sort_unstable();
    assert_eq!(at_slow, vec![3, 4, 5, 6]);
    let (mut fast, out) = second_seed(&mut e, &s);
    assert!(
        requests_to(&mut fast, &out, 2).is_empty(),
        "reassembly budget is full"
    );
    let later = Time::ZERO.after(timeout);
    // Earlier wake-ups (origin takeover checks) change nothing.
    while let Some(t) = e.poll_timeout().filter(|&t| t < later) {
        e.handle(t, Input::Timer);
        let out = drain(&mut e);
        assert!(requests_to(&mut fast, &out, 2).is_empty());
        assert!(
            !out.iter().any(|o| matches!(o, Output::FetchOrigin { .. })),
            "a peer has them"
        );
    }
    assert_eq!(e.poll_timeout(), Some(later), "the request timeout is next");
    e.handle(later, Input::Timer);
    let out = drain(&mut e);
    assert_eq!(e.stats().request_timeouts, 1);
    let mut reissued = requests_to(&mut fast, &out, 2);
    reissued.sort_unstable();
    assert_eq!(
        reissued, at_slow,
        "every stalled piece re-requested from the other peer"
    );
    assert!(
        slow.read(&out, 1).iter().any(|m| m.contains("Cancel")),
        "the stalled requests are cancelled"
    );
}

const FAR: u64 = 600;

/// Handles every wake-up up to and including `until`; all outputs.
fn run_until(e: &mut Engine, until: Time) -> Vec<Output> {
    let mut all = Vec::new();
    while let Some(t) = e.poll_timeout().filter(|&t| t <= until) {
        e.handle(t, Input::Timer);
        all.extend(drain(e));
    }
    all
}

/// Piece `index` (one block) from peer 1, at `now`.
fn deliver(e: &mut Engine, s: &Site, index: u32, now: Time) -> Vec<Output> {
    let start = index as usize * PL as usize;
    let data = &s.bytes[start..start + PL as usize];
    send(
        e,
        1,
        now,
        Message::Piece {
            index,
            begin: 0,
            data,
        },
    )
}

fn disconnected(out: &[Output]) -> bool {
    out.iter().any(|o| {
        matches!(
            o,
            Output::Disconnect {
                reason: DisconnectReason::Stalled,
                ..
            }
        )
    })
}

/// The only seed, after it delivered piece 3 of asset 1 at 1 s and then
/// went quiet with pieces 4, 5 and 6 requested.
fn quiet_seed(s: &Site) -> (Engine, Remote) {
    let mut e = engine(s, Config::default());
    let (mut seed, _) = unchoking_seed(&mut e, s);
    let out = want(&mut e, 1, 50_000, FAR);
    assert_eq!(requests_to(&mut seed, &out, 1), vec![3, 4, 5, 6]);
    deliver(&mut e, s, 3, Time::from_millis(1_000));
    (e, seed)
}

#[test]
fn a_slow_peer_that_delivered_keeps_supplying_and_its_timeouts_back_off() {
    let s = site();
    let (mut e, mut seed) = quiet_seed(&s);
    // Stalls at 1 + 4 s, then 8 s and 12 s after the request made then.
    for (strike, at) in [(1, 5_000), (2, 13_000)] {
        let out = run_until(&mut e, Time::from_millis(at - 1));
        assert_eq!(e.stats().request_timeouts, strike - 1, "not before {at} ms");
        assert!(origin_fetches(&out).is_empty());
        let out = run_until(&mut e, Time::from_millis(at));
        assert_eq!(e.stats().request_timeouts, strike);
        assert!(!disconnected(&out), "strike {strike} is not the last");
        assert!(
            origin_fetches(&out).is_empty(),
            "a peer that delivered is slow, not gone: the origin waits"
        );
        assert_eq!(
            requests_to(&mut seed, &out, 1).len(),
            1,
            "one request at a time, for a piece only it has"
        );
    }
    let out = run_until(&mut e, Time::from_millis(24_999));
    assert!(!disconnected(&out));
    let out = run_until(&mut e, Time::from_millis(25_000));
    assert!(disconnected(&out), "three stalls in a row drop it");
    assert_eq!(origin_fetches(&out), vec![(1, 16_384, 50_000)]);
}

#[test]
fn a_delivery_between_stalls_starts_the_count_again() {
    let s = site();
    let (mut e, mut seed) = quiet_seed(&s);
    let out = run_until(&mut e, Time::from_millis(5_000));
    let asked = requests_to(&mut seed, &out, 1);
    assert_eq!((e.stats().request_timeouts, asked.len()), (1, 1));
    let out = run_until(&mut e, Time::from_millis(13_000));
    let asked = requests_to(&mut seed, &out, 1);
    assert_eq!((e.stats().request_timeouts, asked.len()), (2, 1));
    // It sends the piece it was asked for at 20 s: back to 4 s, and to
    // three strikes before it is dropped.
    let mut out = deliver(&mut e, &s, asked[0], Time::from_millis(20_000));
    out.extend(run_until(&mut e, Time::from_millis(24_000)));
    assert_eq!(e.stats().request_timeouts, 3);
    assert!(
        !disconnected(&out),
        "the strikes before the delivery are forgiven"
    );
    let out = run_until(&mut e, Time::from_millis(60_000));
    assert!(disconnected(&out));
    assert_eq!(e.stats().request_timeouts, 5, "4, 8 and 12 s after 20 s");
}

#[test]
fn a_connection_without_a_handshake_is_dropped_after_the_handshake_timeout() {
    let s = site();
    let cfg = Config::default();
    let limit = cfg.handshake_timeout;
    let mut e = engine(&s, cfg);
    // Peer 1's channel opened on our side only: nothing ever arrives.
    e.handle(Time::ZERO, Input::PeerConnected { peer: 1 });
    let mut talking = Remote::new(&s, 2);
    talking.connect(&mut e, 2, Time::ZERO);
    drain(&mut e);
    let just_before = Time::from_millis(limit.as_millis() as u64 - 1);
    let early = run_until(&mut e, just_before);
    assert!(
        !early.iter().any(|o| matches!(o, Output::Disconnect { .. })),
        "nobody is dropped before the timeout"
    );
    assert!(
        e.poll_timeout() <= Some(Time::ZERO.after(limit)),
        "the engine wakes up for the handshake timeout"
    );
    let out = run_until(&mut e, Time::ZERO.after(limit));
    let dropped: Vec<PeerKey> = out
        .iter()
        .filter_map(|o| match o {
            Output::Disconnect { peer, reason } => {
                assert_eq!(*reason, DisconnectReason::Idle);
                Some(*peer)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        dropped,
        vec![1],
        "the silent connection goes, the one that handshook stays"
    );
    assert!(e.is_connected_to(&[2; 20]));
}
