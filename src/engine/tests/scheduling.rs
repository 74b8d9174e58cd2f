//! Scheduling: the wanted range first and in order, deadlines that send
//! pieces to the origin, cancelled wants, endgame, the pipeline share kept
//! for foreground pieces, and a choking seed's grace.

use super::*;

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
fn a_quarter_of_the_pipeline_stays_free_for_pieces_a_page_waits_for() {
    let s = site();
    let config = Config {
        initial_pipeline: 4,
        ..Config::default()
    };
    let mut e = engine(&s, config);
    let (mut remote, _) = unchoking_seed(&mut e, &s);
    // A background want (due in 10 minutes) for all four pieces of asset
    // 1: three requests, not four.
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 1,
            asset: 1,
            start: 0,
            end: 50_000,
            deadline: Time::from_millis(600_000),
        },
    );
    let out = drain(&mut e);
    assert_eq!(requested_pieces(&remote.read(&out, 1)), vec![3, 4, 5]);
    // The page asks for asset 0: its first piece goes out at once.
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 2,
            asset: 0,
            start: 0,
            end: 40_000,
            deadline: Time::from_millis(5_000),
        },
    );
    let out = drain(&mut e);
    assert_eq!(requested_pieces(&remote.read(&out, 1)), vec![0]);
}

#[test]
fn a_new_want_gives_a_choking_seed_time_to_unchoke_before_the_origin() {
    let s = site();
    let mut e = engine(&s, Config::default());
    // A seed that has not unchoked us: we wanted nothing until now, long
    // after its grace period from connecting.
    let mut seed = Remote::new(&s, 6);
    seed.connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Bitfield(&[0xfe]));
    let later = Time::from_millis(60_000);
    e.handle(
        later,
        Input::Want {
            id: 1,
            asset: 1,
            start: 0,
            end: 50_000,
            deadline: later.after(std::time::Duration::from_secs(600)),
        },
    );
    let out = drain(&mut e);
    assert!(seed.read(&out, 1).iter().any(|m| m.contains("Interested")));
    assert!(origin_fetches(&out).is_empty(), "the seed may unchoke us");
    // It unchokes us within its grace: everything comes from it.
    let out = send(
        &mut e,
        1,
        later.after(std::time::Duration::from_millis(500)),
        Message::Unchoke,
    );
    assert!(origin_fetches(&out).is_empty());
    assert_eq!(requested_pieces(&seed.read(&out, 1)), vec![3, 4, 5, 6]);
}

#[test]
fn knows_which_peer_ids_it_is_connected_to() {
    let s = site();
    let mut e = seeded(&s, Config::default());
    let mut remote = Remote::new(&s, 5);
    assert!(!e.is_connected_to(&remote.id));
    e.handle(Time::ZERO, Input::PeerConnected { peer: 1 });
    assert!(!e.is_connected_to(&remote.id), "no handshake yet");
    remote.connect(&mut e, 2, Time::ZERO);
    assert!(e.is_connected_to(&remote.id));
    assert!(!e.is_connected_to(&[6; 20]));
    e.handle(Time::ZERO, Input::PeerDisconnected { peer: 2 });
    assert!(!e.is_connected_to(&remote.id), "gone once disconnected");
}
