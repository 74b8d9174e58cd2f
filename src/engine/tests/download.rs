//! Downloading: origin padding, lying origins and peers, protocol
//! violations and the limits on wants and peers.

use super::*;

fn want(e: &mut Engine, asset: u32, end: u64, deadline_s: u64) -> Vec<Output> {
    let deadline = Time::from_millis(deadline_s * 1000);
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 7,
            asset,
            start: 0,
            end,
            deadline,
        },
    );
    drain(e)
}

#[test]
fn origin_serves_real_bytes_and_padding_is_added_locally() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let out = want(&mut e, 0, 40_000, 10);
    let fetch = out.iter().find_map(|o| match o {
        Output::FetchOrigin {
            id,
            asset: 0,
            start,
            end,
        } => Some((*id, *start, *end)),
        _ => None,
    });
    let (id, start, end) = fetch.expect("no peers: origin at once");
    assert_eq!((start, end), (0, 40_000));
    e.handle(
        Time::ZERO,
        Input::OriginData {
            id,
            bytes: &s.bytes[..40_000],
        },
    );
    e.handle(Time::ZERO, Input::OriginDone { id });
    let out = drain(&mut e);
    let verified: Vec<u32> = out
        .iter()
        .filter_map(|o| match o {
            Output::PieceVerified {
                piece,
                data,
                source: Source::Origin,
            } => {
                assert_eq!(data.len(), PL as usize);
                Some(*piece)
            }
            _ => None,
        })
        .collect();
    assert_eq!(verified, vec![0, 1, 2]);
    assert!(out.contains(&Output::WantDone { id: 7 }));
    assert_eq!(e.stats().from_origin, 40_000);
}

#[test]
fn a_lying_origin_is_never_stored_and_the_want_fails_after_retries() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let mut out = want(&mut e, 1, 50_000, 60);
    let mut rejected = 0;
    for _ in 0..4 {
        let Some((id, start, end)) = out.iter().find_map(|o| match o {
            Output::FetchOrigin { id, start, end, .. } => Some((*id, *start, *end)),
            _ => None,
        }) else {
            break;
        };
        let bogus = vec![0xee; (end - start) as usize];
        e.handle(Time::ZERO, Input::OriginData { id, bytes: &bogus });
        e.handle(Time::ZERO, Input::OriginDone { id });
        out = drain(&mut e);
        assert!(!out
            .iter()
            .any(|o| matches!(o, Output::PieceVerified { .. })));
        rejected += out
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Output::PieceRejected {
                        source: Source::Origin,
                        ..
                    }
                )
            })
            .count();
    }
    assert!(rejected >= 2);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::OriginFailed
    }));
    assert_eq!(e.have().count(), 0);
}

#[test]
fn a_peer_sending_a_bad_piece_is_banned_and_refused_later() {
    let s = site();
    let mut e = engine(&s, Config::default());
    want(&mut e, 0, 40_000, 60);
    let mut remote = Remote::new(&s, 4);
    remote.connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Bitfield(&[0xfe]));
    let out = send(&mut e, 1, Time::ZERO, Message::Unchoke);
    let asked = remote.read(&out, 1);
    assert!(
        asked
            .iter()
            .any(|m| m.contains("Request { index: 0, begin: 0, length: 16384 }")),
        "{asked:?}"
    );
    let out = send(
        &mut e,
        1,
        Time::ZERO,
        Message::Piece {
            index: 0,
            begin: 0,
            data: &[1; 16384],
        },
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::PieceRejected {
            piece: 0,
            action: RejectAction::PeerBanned,
            ..
        }
    )));
    assert!(out.contains(&Output::PeerBanned {
        peer: 1,
        peer_id: [4; 20]
    }));
    assert!(out.contains(&Output::Disconnect {
        peer: 1,
        reason: DisconnectReason::Banned
    }));
    // The same peer id on a new connection is dropped at its handshake.
    let (out, _) = Remote::new(&s, 4).connect(&mut e, 2, Time::ZERO);
    assert!(out.contains(&Output::Disconnect {
        peer: 2,
        reason: DisconnectReason::Banned
    }));
    assert_eq!(e.have().count(), 0);
}

#[test]
fn protocol_violations_drop_the_peer_and_limits_hold() {
    let s = site();
    let mut e = engine(
        &s,
        Config {
            max_peers: 2,
            ..Config::default()
        },
    );
    e.handle(Time::ZERO, Input::PeerConnected { peer: 1 });
    let wrong = Handshake::new([0; 20], [1; 20]).to_bytes();
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 1,
            bytes: &wrong,
        },
    );
    assert!(drain(&mut e).iter().any(|o| matches!(
        o,
        Output::Disconnect {
            peer: 1,
            reason: DisconnectReason::Protocol(_)
        }
    )));
    Remote::new(&s, 2).connect(&mut e, 2, Time::ZERO);
    let out = send(&mut e, 2, Time::ZERO, Message::Have(99));
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Disconnect { peer: 2, .. })));
    for k in 3..6 {
        e.handle(Time::ZERO, Input::PeerConnected { peer: k });
    }
    assert_eq!(e.peer_count(), 2, "max_peers");
    let out = want(&mut e, 9, 1, 1);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::NoSuchAsset
    }));
    let out = want(&mut e, 0, 40_001, 1);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::BadRange
    }));
}

/// A peer with every piece that has unchoked us; returns the messages the
/// engine sent it.
fn unchoking_seed(e: &mut Engine, s: &Site) -> (Remote, Vec<String>) {
    let mut remote = Remote::new(s, 6);
    remote.connect(e, 1, Time::ZERO);
    send(e, 1, Time::ZERO, Message::Bitfield(&[0xfe]));
    let out = send(e, 1, Time::ZERO, Message::Unchoke);
    let msgs = remote.read(&out, 1);
    (remote, msgs)
}

fn requested_pieces(msgs: &[String]) -> Vec<u32> {
    let mut pieces: Vec<u32> = Vec::new();
    for m in msgs.iter().filter(|m| m.contains("Request {")) {
        let index = m.split("index: ").nth(1).and_then(|r| r.split(',').next());
        let index = index.and_then(|i| i.parse().ok()).unwrap();
        if pieces.last() != Some(&index) {
            pieces.push(index);
        }
    }
    pieces
}

#[test]
fn the_wanted_range_comes_first_and_in_order_then_the_rest_of_the_asset() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let (mut remote, _) = unchoking_seed(&mut e, &s);
    // Asset 1 is pieces 3..7; bytes 20000..40000 are pieces 4 and 5.
    let deadline = Time::from_millis(60_000);
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 1,
            asset: 1,
            start: 20_000,
            end: 40_000,
            deadline,
        },
    );
    let out = drain(&mut e);
    let pieces = requested_pieces(&remote.read(&out, 1));
    assert_eq!(&pieces[..2], &[4, 5], "{pieces:?}");
    let mut rest = pieces[2..].to_vec();
    rest.sort_unstable();
    assert_eq!(
        rest,
        vec![3, 6],
        "the rest of the asset, nothing of asset 0"
    );
    let origin = out.iter().any(|o| matches!(o, Output::FetchOrigin { .. }));
    assert!(!origin, "a peer has it and the deadline is far: no origin");
}

#[test]
fn a_near_deadline_goes_to_the_origin_even_when_a_peer_has_the_pieces() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let (_, msgs) = unchoking_seed(&mut e, &s);
    assert!(requested_pieces(&msgs).is_empty(), "nothing wanted yet");
    let deadline = Time::from_millis(1_000);
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
    let out = drain(&mut e);
    let fetch = out.iter().find_map(|o| match o {
        Output::FetchOrigin {
            asset: 1,
            start,
            end,
            ..
        } => Some((*start, *end)),
        _ => None,
    });
    assert_eq!(
        fetch,
        Some((0, 50_000)),
        "urgent: rescue from the origin at once"
    );
}

#[test]
fn cancelling_a_want_stops_the_origin_requests_it_alone_needed() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let out = want(&mut e, 1, 50_000, 60);
    let ids: Vec<OriginId> = out
        .iter()
        .filter_map(|o| match o {
            Output::FetchOrigin { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert!(!ids.is_empty());
    e.handle(Time::ZERO, Input::CancelWant { id: 7 });
    let out = drain(&mut e);
    for id in ids {
        assert!(out.contains(&Output::CancelOrigin { id }));
    }
    assert_eq!(e.origin_pieces().count(), 0);
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::WantDone { .. } | Output::WantFailed { .. })));
}

/// Indices of the `Request`s in `out` sent to `key`, decoded by `remote`.
fn requests_to(remote: &mut Remote, out: &[Output], key: PeerKey) -> Vec<u32> {
    requested_pieces(&remote.read(out, key))
}

/// A second seed on peer key 2.
fn second_seed(e: &mut Engine, s: &Site) -> (Remote, Vec<Output>) {
    let mut remote = Remote::new(s, 7);
    remote.connect(e, 2, Time::ZERO);
    let mut out = send(e, 2, Time::ZERO, Message::Bitfield(&[0xfe]));
    out.extend(send(e, 2, Time::ZERO, Message::Unchoke));
    (remote, out)
}

#[test]
fn endgame_asks_a_second_peer_and_cancels_the_loser() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let (mut first, _) = unchoking_seed(&mut e, &s);
    // Asset 0 (pieces 0..3) all goes to the first peer: nothing fresh is left.
    let deadline = Time::from_millis(60_000);
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 1,
            asset: 0,
            start: 0,
            end: 40_000,
            deadline,
        },
    );
    let out = drain(&mut e);
    let mut at_first = requests_to(&mut first, &out, 1);
    at_first.sort_unstable();
    assert_eq!(at_first, vec![0, 1, 2]);
    let (mut second, out) = second_seed(&mut e, &s);
    let dup = requests_to(&mut second, &out, 2);
    assert!(dup.contains(&0), "endgame duplicates: {dup:?}");
    let piece = &s.bytes[..PL as usize];
    let out = send(
        &mut e,
        2,
        Time::ZERO,
        Message::Piece {
            index: 0,
            begin: 0,
            data: piece,
        },
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::PieceVerified {
            piece: 0,
            source: Source::Peer(2),
            ..
        }
    )));
    let to_first = first.read(&out, 1);
    assert!(
        to_first.iter().any(|m| m.contains("Cancel { index: 0")),
        "{to_first:?}"
    );
}

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
