//! The tracker state driven directly: messages in, messages out.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use peercdn::tracker::{
    Announce, AnnounceEvent, Answer, ClientToTracker, Id20, Offer, Scrape, TrackerToClient,
};

use super::state::{ConnId, Outbox, TrackerState};
use super::Limits;

fn limits() -> Limits {
    Limits {
        interval_secs: 120,
        peer_timeout: Duration::from_secs(300),
        ping_interval: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(90),
        frame_timeout: Duration::from_secs(10),
        max_frame_bytes: 65536,
        max_offers: 10,
        max_peers_per_swarm: 50,
        max_swarms: 3,
        max_swarms_per_conn: 2,
        max_scrape: 64,
        max_connections: 100,
        max_connections_per_ip: 100,
        max_peers_per_ip: 100,
        rate_per_sec: 10,
        rate_burst: 10,
        max_bad_messages: 3,
        outbox_len: 8,
    }
}

const SWARM: Id20 = [7; 20];

fn peer(n: u8) -> Id20 {
    [n; 20]
}

fn announce(peer_id: Id20, offers: usize, event: Option<AnnounceEvent>) -> ClientToTracker {
    ClientToTracker::Announce(Announce {
        info_hash: SWARM,
        peer_id,
        event,
        numwant: Some(offers as u32),
        uploaded: None,
        downloaded: None,
        left: Some(100),
        offers: (0..offers)
            .map(|i| Offer {
                offer_id: [i as u8; 20],
                sdp: format!("sdp {i}"),
            })
            .collect(),
    })
}

/// Each test connection comes from an address of its own.
fn ip_of(conn: ConnId) -> IpAddr {
    IpAddr::from([10, 0, (conn >> 8) as u8, conn as u8])
}

fn send(state: &mut TrackerState, conn: ConnId, msg: ClientToTracker) -> Outbox {
    if !state.is_connected(conn) {
        assert!(state.connect(conn, ip_of(conn)));
    }
    let mut out = Outbox::new();
    state.handle(Instant::now(), conn, msg, &mut out);
    out
}

fn reply_counts(out: &Outbox, conn: ConnId) -> Option<(u32, u32)> {
    out.iter().find_map(|(c, m)| match m {
        TrackerToClient::AnnounceReply(r) if *c == conn => Some((r.complete, r.incomplete)),
        _ => None,
    })
}

fn is_failure(out: &Outbox, conn: ConnId) -> bool {
    out.iter()
        .any(|(c, m)| *c == conn && matches!(m, TrackerToClient::Failure(_)))
}

#[test]
fn offer_and_answer_are_routed_between_two_peers() {
    let mut state = TrackerState::new(limits(), 42);
    let out = send(
        &mut state,
        1,
        announce(peer(1), 2, Some(AnnounceEvent::Started)),
    );
    assert_eq!(out.len(), 1, "alone in the swarm: only the reply");
    assert_eq!(reply_counts(&out, 1), Some((0, 1)));
    let out = send(&mut state, 2, announce(peer(2), 2, None));
    assert_eq!(reply_counts(&out, 2), Some((0, 2)));
    let offers: Vec<_> = out
        .iter()
        .filter_map(|(c, m)| match m {
            TrackerToClient::Offer(o) => Some((*c, o.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(offers.len(), 1, "one other peer, so one offer");
    assert_eq!(offers[0].0, 1);
    assert_eq!(offers[0].1.peer_id, peer(2));
    let answer = ClientToTracker::Answer(Answer {
        info_hash: SWARM,
        peer_id: peer(1),
        to_peer_id: peer(2),
        offer_id: offers[0].1.offer_id,
        sdp: "answer sdp".into(),
    });
    let out = send(&mut state, 1, answer);
    match out.as_slice() {
        [(2, TrackerToClient::Answer(a))] => {
            assert_eq!((a.peer_id, a.offer_id), (peer(1), offers[0].1.offer_id));
            assert_eq!(a.sdp, "answer sdp");
        }
        other => panic!("answer not routed to its offerer only: {other:?}"),
    }
    let c = state.counters();
    assert_eq!(
        (c.announces, c.offers_relayed, c.answers_relayed),
        (2, 1, 1)
    );
}

#[test]
fn offers_go_to_distinct_random_peers_within_the_cap() {
    let mut state = TrackerState::new(limits(), 7);
    for n in 1..=20 {
        send(&mut state, u64::from(n), announce(peer(n), 0, None));
    }
    let out = send(&mut state, 5, announce(peer(5), 15, None));
    let targets: Vec<ConnId> = out
        .iter()
        .filter(|(_, m)| matches!(m, TrackerToClient::Offer(_)))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(targets.len(), 10, "capped at max_offers");
    assert!(!targets.contains(&5), "never to the sender");
    assert_eq!(targets.iter().collect::<HashSet<_>>().len(), 10, "distinct");
}

#[test]
fn bounds_give_failures_not_growth() {
    let mut l = limits();
    l.max_peers_per_swarm = 2;
    let mut state = TrackerState::new(l, 1);
    send(&mut state, 1, announce(peer(1), 0, None));
    send(&mut state, 2, announce(peer(2), 0, None));
    let out = send(&mut state, 3, announce(peer(3), 0, None));
    assert!(is_failure(&out, 3), "swarm full");
    assert_eq!(state.counters().peers, 2);
    // Swarm cap (3) and per-connection cap (2).
    let mut other = |conn: ConnId, hash: u8| {
        let mut msg = announce(peer(9), 0, None);
        if let ClientToTracker::Announce(a) = &mut msg {
            a.info_hash = [hash; 20];
        }
        send(&mut state, conn, msg)
    };
    assert!(!is_failure(&other(10, 100), 10));
    assert!(!is_failure(&other(10, 101), 10));
    assert!(
        is_failure(&other(10, 102), 10),
        "third swarm on one connection"
    );
    assert!(
        is_failure(&other(11, 103), 11),
        "fourth swarm on the tracker"
    );
    assert_eq!(state.counters().swarms, 3);
}

#[test]
fn leaving_by_stop_disconnect_or_expiry() {
    let mut state = TrackerState::new(limits(), 3);
    send(&mut state, 1, announce(peer(1), 0, None));
    send(&mut state, 2, announce(peer(2), 0, None));
    send(&mut state, 3, announce(peer(3), 0, None));
    let out = send(
        &mut state,
        1,
        announce(peer(1), 0, Some(AnnounceEvent::Stopped)),
    );
    assert_eq!(reply_counts(&out, 1), Some((0, 2)));
    state.disconnect(2);
    assert_eq!(state.counters().peers, 1);
    state.expire(Instant::now() + Duration::from_secs(301));
    let c = state.counters();
    assert_eq!((c.peers, c.swarms), (0, 0), "empty swarms are dropped");
}

#[test]
fn answers_only_from_announced_peers_on_their_connection() {
    let mut state = TrackerState::new(limits(), 3);
    send(&mut state, 1, announce(peer(1), 0, None));
    let forged = ClientToTracker::Answer(Answer {
        info_hash: SWARM,
        peer_id: peer(1),
        to_peer_id: peer(1),
        offer_id: [0; 20],
        sdp: String::new(),
    });
    let out = send(&mut state, 9, forged.clone());
    assert!(is_failure(&out, 9), "connection 9 does not own peer 1");
    assert!(out.iter().all(|(c, _)| *c == 9));
    // To a peer that left: dropped quietly.
    let mut to_gone = forged;
    if let ClientToTracker::Answer(a) = &mut to_gone {
        a.to_peer_id = peer(42);
    }
    assert!(send(&mut state, 1, to_gone).is_empty());
    assert_eq!(state.counters().answers_dropped, 1);
}

#[test]
fn a_second_connection_cannot_take_over_a_live_peer_id() {
    let mut state = TrackerState::new(limits(), 3);
    send(&mut state, 1, announce(peer(1), 0, None));
    let out = send(&mut state, 2, announce(peer(1), 0, None));
    assert!(is_failure(&out, 2), "peer 1 is live on connection 1");
    // Offers for peer 1 still reach connection 1, not the impostor.
    let out = send(&mut state, 3, announce(peer(3), 5, None));
    let offer_targets: Vec<ConnId> = out
        .iter()
        .filter(|(_, m)| matches!(m, TrackerToClient::Offer(_)))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(offer_targets, vec![1]);
    // The impostor cannot answer as peer 1 either, nor stop it.
    let answer = ClientToTracker::Answer(Answer {
        info_hash: SWARM,
        peer_id: peer(1),
        to_peer_id: peer(3),
        offer_id: [0; 20],
        sdp: "forged".into(),
    });
    let out = send(&mut state, 2, answer);
    assert!(is_failure(&out, 2) && out.iter().all(|(c, _)| *c == 2));
    send(
        &mut state,
        2,
        announce(peer(1), 0, Some(AnnounceEvent::Stopped)),
    );
    assert_eq!(state.counters().peers, 2);
    state.disconnect(2);
    assert_eq!(state.counters().peers, 2, "connection 2 owned nothing");
}

#[test]
fn a_peer_id_is_free_again_once_its_connection_closed() {
    let mut state = TrackerState::new(limits(), 3);
    send(&mut state, 1, announce(peer(1), 0, None));
    state.disconnect(1);
    let out = send(&mut state, 2, announce(peer(1), 0, None));
    assert!(
        !is_failure(&out, 2),
        "a reconnect after the old socket left"
    );
    assert_eq!(state.counters().peers, 1);
    state.disconnect(2);
    assert_eq!(state.counters().peers, 0);
}

#[test]
fn scrape_reports_seeders_leechers_and_completions() {
    let mut state = TrackerState::new(limits(), 3);
    send(&mut state, 1, announce(peer(1), 0, None));
    send(
        &mut state,
        2,
        announce(peer(2), 0, Some(AnnounceEvent::Completed)),
    );
    let scrape = ClientToTracker::Scrape(Scrape {
        info_hashes: vec![SWARM, [1; 20]],
        single: false,
    });
    match send(&mut state, 3, scrape).as_slice() {
        [(3, TrackerToClient::ScrapeReply(r))] => {
            let file = |h: Id20| r.files.iter().find(|(k, _)| *k == h).map(|(_, f)| *f);
            let ours = file(SWARM).unwrap();
            assert_eq!((ours.complete, ours.incomplete, ours.downloaded), (1, 1, 1));
            assert_eq!(file([1; 20]).unwrap().complete, 0);
        }
        other => panic!("no scrape reply: {other:?}"),
    }
}

#[test]
fn one_address_cannot_fill_a_swarm_or_hold_every_connection() {
    let mut l = limits();
    l.max_peers_per_ip = 3;
    l.max_connections_per_ip = 4;
    let mut state = TrackerState::new(l, 5);
    let sybil = IpAddr::from([203, 0, 113, 9]);
    for conn in 1..=4 {
        assert!(state.connect(conn, sybil));
    }
    assert!(
        !state.connect(5, sybil),
        "fifth connection from one address"
    );
    for conn in 1..=3 {
        let out = send(&mut state, conn, announce(peer(conn as u8), 0, None));
        assert!(!is_failure(&out, conn));
    }
    let out = send(&mut state, 4, announce(peer(4), 0, None));
    assert!(is_failure(&out, 4), "fourth peer from one address");
    // Nor by many peer ids on one connection.
    let out = send(&mut state, 1, announce(peer(40), 0, None));
    assert!(is_failure(&out, 1));
    // Another address still joins.
    let out = send(&mut state, 50, announce(peer(50), 0, None));
    assert!(!is_failure(&out, 50));
    assert_eq!(state.counters().peers, 4);
    // Leaving frees the address's places.
    state.disconnect(1);
    assert!(state.connect(5, sybil));
    let out = send(&mut state, 5, announce(peer(5), 0, None));
    assert!(!is_failure(&out, 5));
}
