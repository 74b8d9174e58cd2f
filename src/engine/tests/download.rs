//! Downloading: origin padding, lying origins and peers, protocol
//! violations and the limits on wants and peers.

use super::*;

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

#[test]
fn padding_blocks_are_never_requested_and_the_piece_still_verifies() {
    let s = site();
    // 4 KiB blocks: asset 0's last piece (2) holds 40,000 - 32,768 = 7,232
    // real bytes, in its first two blocks; the other two are padding.
    let config = Config {
        block_size: 4096,
        ..Config::default()
    };
    let mut e = engine(&s, config);
    let (mut seed, _) = unchoking_seed(&mut e, &s);
    let out = want(&mut e, 0, 40_000, 600);
    let asked: Vec<String> = seed.read(&out, 1);
    let piece_2: Vec<&String> = asked
        .iter()
        .filter(|m| m.contains("Request { index: 2,"))
        .collect();
    assert_eq!(piece_2.len(), 2, "{piece_2:?}");
    assert!(piece_2
        .iter()
        .all(|m| !m.contains("begin: 8192") && !m.contains("begin: 12288")));
    let start = 2 * PL as usize;
    let mut out = Vec::new();
    for begin in [0u32, 4096] {
        let at = start + begin as usize;
        let data = &s.bytes[at..at + 4096];
        out.extend(send(
            &mut e,
            1,
            Time::ZERO,
            Message::Piece {
                index: 2,
                begin,
                data,
            },
        ));
    }
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::PieceVerified { piece: 2, .. })),
        "the zeros the buffer started with complete the piece"
    );
}
