//! Peer slots and identities: a useless peer makes room for a newcomer
//! when every slot is taken, and a handshake must carry the id the
//! tracker named for the connection.

use std::time::Duration;

use super::*;

/// A remote that connects as `key` and says it has nothing (so holds no
/// piece a seed lacks); interested in our pieces if `interested`.
fn empty_remote(e: &mut Engine, s: &Site, key: PeerKey, now: Time, interested: bool) {
    let mut remote = Remote::new(s, key as u8);
    remote.connect(e, key, now);
    send(e, key, now, Message::Bitfield(&[0]));
    if interested {
        send(e, key, now, Message::Interested);
    }
}

fn disconnected(out: &[Output]) -> Vec<PeerKey> {
    out.iter()
        .filter_map(|o| match o {
            Output::Disconnect { peer, .. } => Some(*peer),
            _ => None,
        })
        .collect()
}

#[test]
fn a_useless_peer_makes_room_for_a_newcomer() {
    let s = site();
    let cfg = Config {
        max_peers: 2,
        ..Config::default()
    };
    let mut e = seeded(&s, cfg);
    empty_remote(&mut e, &s, 1, Time::ZERO, false);
    empty_remote(&mut e, &s, 2, Time::ZERO, true);
    // Within their grace nobody is evicted.
    assert!(!e.can_take_peer());
    let later = Time::ZERO.after(Duration::from_secs(3));
    e.handle(later, Input::Timer);
    drain(&mut e);
    assert!(e.can_take_peer());
    e.handle(later, Input::PeerConnected { peer: 3 });
    assert_eq!(
        disconnected(&drain(&mut e)),
        [1],
        "the one that wants nothing goes"
    );
    assert_eq!(e.peer_count(), 2);
    // 2 wants our pieces, 3 is in its grace: the next one is refused.
    e.handle(later, Input::PeerConnected { peer: 4 });
    assert_eq!(disconnected(&drain(&mut e)), [4]);
}

#[test]
fn a_handshake_must_name_the_peer_the_tracker_named() {
    let s = site();
    let mut e = seeded(&s, Config::default());
    e.handle(Time::ZERO, Input::PeerConnected { peer: 1 });
    e.expect_peer_id(1, [7; 20]);
    let liar = Handshake::new(s.manifest.info_hash, [8; 20]).to_bytes();
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 1,
            bytes: &liar,
        },
    );
    let out = drain(&mut e);
    assert_eq!(disconnected(&out), [1]);
    assert_eq!(e.stats().peers_banned, 0, "nobody's id is banned for it");
    // The honest one connects as itself.
    e.handle(Time::ZERO, Input::PeerConnected { peer: 2 });
    e.expect_peer_id(2, [7; 20]);
    let honest = Handshake::new(s.manifest.info_hash, [7; 20]).to_bytes();
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 2,
            bytes: &honest,
        },
    );
    assert!(disconnected(&drain(&mut e)).is_empty());
    assert!(e.is_connected_to(&[7; 20]));
}
