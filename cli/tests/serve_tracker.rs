//! `peercdn serve`'s tracker over real WebSockets, driven by peercdn's own
//! tracker messages: signalling between clients, hostile clients cut off
//! while others keep working, 1,000 concurrent connections, expiry.

mod serve_support;

use std::time::Duration;

use futures_util::SinkExt;
use peercdn::tracker::{
    Announce, AnnounceEvent, ClientToTracker, Id20, Offer, Scrape, TrackerToClient,
};
use serve_support::{
    answer_and_expect_relay, refused_status, ws_close_code, ws_connect, ws_connect_with, ws_recv,
    ws_send, Server, Ws,
};
use tokio_tungstenite::tungstenite::Message;

const SWARM: Id20 = *b"peercdn-test-swarm-1";

fn announce(peer_id: Id20, offers: usize) -> ClientToTracker {
    ClientToTracker::Announce(Announce {
        info_hash: SWARM,
        peer_id,
        event: Some(AnnounceEvent::Started),
        numwant: Some(offers as u32),
        uploaded: Some(0),
        downloaded: Some(0),
        left: Some(1000),
        offers: (0..offers)
            .map(|i| Offer {
                offer_id: offer_id(peer_id[0], i),
                sdp: format!("v=0\r\no=- {i} 2 IN IP4 127.0.0.1\r\n"),
            })
            .collect(),
    })
}

fn offer_id(owner: u8, i: usize) -> Id20 {
    let mut id = [owner; 20];
    id[19] = i as u8;
    id
}

fn tracker_site() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

async fn expect_reply(ws: &mut Ws) -> (u32, u32) {
    match ws_recv(ws).await {
        Some(TrackerToClient::AnnounceReply(r)) => {
            assert_eq!(r.info_hash, SWARM);
            (r.complete, r.incomplete)
        }
        other => panic!("expected an announce reply, got {other:?}"),
    }
}

/// A announces, B announces with an offer, A answers; each sees the other.
async fn signal_pair(url: &str, a_id: Id20, b_id: Id20) -> (Ws, Ws) {
    let mut a = ws_connect(url).await;
    ws_send(&mut a, &announce(a_id, 0)).await;
    expect_reply(&mut a).await;
    let mut b = ws_connect(url).await;
    ws_send(&mut b, &announce(b_id, 3)).await;
    let (_, incomplete) = expect_reply(&mut b).await;
    assert!(incomplete >= 2);
    let offer = match ws_recv(&mut a).await {
        Some(TrackerToClient::Offer(o)) => o,
        other => panic!("A expected an offer, got {other:?}"),
    };
    assert_eq!((offer.peer_id, offer.info_hash), (b_id, SWARM));
    assert!(offer.sdp.starts_with("v=0"));
    answer_and_expect_relay(
        &mut a,
        &mut b,
        (SWARM, a_id, b_id),
        offer.offer_id,
        "v=0
a=answer
",
    )
    .await;
    (a, b)
}

#[tokio::test]
async fn two_clients_exchange_offer_and_answer() {
    let dir = tracker_site();
    let server = Server::start(dir.path(), &["--tracker-only"]);
    let (mut a, _b) = signal_pair(&server.ws_url(), [b'a'; 20], [b'b'; 20]).await;
    let scrape = ClientToTracker::Scrape(Scrape {
        info_hashes: vec![SWARM],
        single: true,
    });
    ws_send(&mut a, &scrape).await;
    match ws_recv(&mut a).await {
        Some(TrackerToClient::ScrapeReply(r)) => {
            assert_eq!(r.files.len(), 1);
            assert_eq!(r.files[0].1.incomplete, 2);
        }
        other => panic!("expected a scrape reply, got {other:?}"),
    }
    let stats = server.stats();
    let t = &stats["tracker"];
    assert_eq!(
        (t["swarms"].as_u64(), t["peers"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        (t["offers_relayed"].as_u64(), t["answers_relayed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(t["announces"].as_u64(), Some(2));
    assert_eq!(stats["origin"]["bytes"].as_u64(), Some(0));
}

#[tokio::test]
async fn hostile_clients_are_cut_off_while_others_keep_working() {
    let dir = tracker_site();
    let server = Server::start(
        dir.path(),
        &[
            "--tracker-only",
            "--max-frame-bytes",
            "16384",
            "--rate-limit",
            "5",
            "--rate-burst",
            "10",
            "--max-bad-messages",
            "3",
        ],
    );
    let url = server.ws_url();
    let (mut good_a, mut good_b) = signal_pair(&url, [1; 20], [2; 20]).await;

    // Malformed JSON, a wrong-length id, an unknown action: each gets a
    // failure reason; past the limit, a close.
    let mut bad = ws_connect(&url).await;
    let bad_messages = [
        "{not json".to_string(),
        r#"{"action":"announce","info_hash":"short","peer_id":"12345678901234567890"}"#.to_string(),
        r#"{"action":"teleport"}"#.to_string(),
    ];
    for text in &bad_messages {
        bad.send(Message::text(text.clone())).await.unwrap();
        match ws_recv(&mut bad).await {
            Some(TrackerToClient::Failure(f)) => assert!(!f.reason.is_empty()),
            other => panic!("expected a failure for {text}, got {other:?}"),
        }
    }
    bad.send(Message::text("[]")).await.unwrap();
    assert_eq!(ws_close_code(&mut bad).await, Some(1008));

    // Oversized frame: the connection ends.
    let mut big = ws_connect(&url).await;
    let huge = format!(r#"{{"action":"announce","pad":"{}"}}"#, "x".repeat(100_000));
    let _ = big.send(Message::text(huge)).await;
    match ws_recv(&mut big).await {
        Some(TrackerToClient::Failure(f)) => assert_eq!(f.reason, "message too large"),
        other => panic!("expected a failure for the oversized frame, got {other:?}"),
    }
    assert_eq!(ws_close_code(&mut big).await, Some(1008));

    // Flood: far past the burst.
    let mut flood = ws_connect(&url).await;
    for i in 0..200u8 {
        if flood
            .send(Message::text(announce([100 + (i % 50); 20], 0).to_json()))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(ws_close_code(&mut flood).await, Some(1008));

    // The well-behaved pair still signals.
    ws_send(&mut good_a, &announce([1; 20], 1)).await;
    expect_reply(&mut good_a).await;
    match ws_recv(&mut good_b).await {
        Some(TrackerToClient::Offer(o)) => assert_eq!(o.peer_id, [1; 20]),
        other => panic!("good client stopped getting offers: {other:?}"),
    }
    let stats = server.stats();
    assert_eq!(
        stats["tracker"]["clients_cut_off"].as_u64(),
        Some(3),
        "{stats}"
    );
    assert_eq!(
        stats["tracker"]["peers"].as_u64(),
        Some(2),
        "flooder's peers left"
    );
}

#[tokio::test]
async fn silent_clients_time_out_and_stale_peers_expire() {
    let dir = tracker_site();
    let server = Server::start(
        dir.path(),
        &[
            "--tracker-only",
            "--ping-interval",
            "1",
            "--idle-timeout",
            "2",
            "--peer-timeout",
            "1",
        ],
    );
    let mut silent = ws_connect(&server.ws_url()).await;
    ws_send(&mut silent, &announce([9; 20], 0)).await;
    // Not reading means not answering pings. Wait for the cut-off itself
    // rather than a fixed time: a reader that resumed before it (a loaded
    // machine delays the server's timer) would answer the next ping with a
    // pong and so stay alive.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.stats()["tracker"]["clients_cut_off"].as_u64() != Some(1) {
        assert!(std::time::Instant::now() < deadline, "never cut off");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut saw_failure = false;
    loop {
        match ws_recv(&mut silent).await {
            Some(TrackerToClient::Failure(f)) => saw_failure |= f.reason.contains("idle"),
            Some(_) => continue,
            None => break,
        }
    }
    assert!(saw_failure, "told why before the close");

    // Peer expiry while the connection stays alive (we keep reading, so
    // pings are answered).
    let mut quiet = ws_connect(&server.ws_url()).await;
    ws_send(&mut quiet, &announce([10; 20], 0)).await;
    expect_reply(&mut quiet).await;
    assert_eq!(server.stats()["tracker"]["peers"].as_u64(), Some(1));
    // Keep reading between checks (so pings are answered) until the peer
    // expires; a deadline, not a fixed wait, so a loaded machine passes too.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(200), ws_recv(&mut quiet)).await;
        if server.stats()["tracker"]["peers"].as_u64() == Some(0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the peer never expired"
        );
    }
    let stats = server.stats();
    assert_eq!(stats["tracker"]["connections"].as_u64(), Some(1), "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections() {
    let dir = tracker_site();
    // All from 127.0.0.1: lift the per-address bounds this test is not about.
    let server = Server::start(
        dir.path(),
        &[
            "--tracker-only",
            "--max-connections-per-ip",
            "1000",
            "--max-peers-per-ip",
            "100",
        ],
    );
    let url = server.ws_url();
    let mut clients = Vec::new();
    for i in 0..1000u32 {
        clients.push(tokio::spawn({
            let url = url.clone();
            async move {
                let mut ws = ws_connect(&url).await;
                let mut id = [0u8; 20];
                id[..4].copy_from_slice(&i.to_be_bytes());
                let mut msg = announce(id, 2);
                if let ClientToTracker::Announce(a) = &mut msg {
                    a.info_hash[0] = (i % 10) as u8; // ten swarms of 100
                }
                ws_send(&mut ws, &msg).await;
                loop {
                    if let Some(TrackerToClient::AnnounceReply(_)) = ws_recv(&mut ws).await {
                        return ws;
                    }
                }
            }
        }));
    }
    let mut open = Vec::new();
    for c in clients {
        open.push(c.await.expect("client got its reply"));
    }
    let stats = server.stats();
    let t = &stats["tracker"];
    assert_eq!(t["connections"].as_u64(), Some(1000));
    assert_eq!(t["peers"].as_u64(), Some(1000));
    assert_eq!(t["swarms"].as_u64(), Some(10));
    assert_eq!(t["announces"].as_u64(), Some(1000));
    drop(open);
}

/// Attack: a second socket announces the peer id that is live on another
/// socket, to receive the offers meant for it.
#[tokio::test]
async fn a_peer_id_cannot_be_taken_over_by_another_connection() {
    let dir = tracker_site();
    let server = Server::start(dir.path(), &["--tracker-only"]);
    let url = server.ws_url();
    let victim_id = [b'v'; 20];
    let mut victim = ws_connect(&url).await;
    ws_send(&mut victim, &announce(victim_id, 0)).await;
    expect_reply(&mut victim).await;
    let mut thief = ws_connect(&url).await;
    ws_send(&mut thief, &announce(victim_id, 0)).await;
    match ws_recv(&mut thief).await {
        Some(TrackerToClient::Failure(f)) => assert!(f.reason.contains("in use"), "{}", f.reason),
        other => panic!("the thief expected a failure, got {other:?}"),
    }
    // A newcomer's offer for the swarm's only other peer goes to the victim.
    let mut newcomer = ws_connect(&url).await;
    ws_send(&mut newcomer, &announce([b'n'; 20], 1)).await;
    expect_reply(&mut newcomer).await;
    match ws_recv(&mut victim).await {
        Some(TrackerToClient::Offer(o)) => assert_eq!(o.peer_id, [b'n'; 20]),
        other => panic!("the victim expected the offer, got {other:?}"),
    }
    let nothing = tokio::time::timeout(Duration::from_millis(300), ws_recv(&mut thief)).await;
    assert!(nothing.is_err(), "the thief got {nothing:?}");
    assert_eq!(server.stats()["tracker"]["peers"].as_u64(), Some(2));
}

/// Announces `id` on `ws`; whether the tracker took it (a reply) rather
/// than refusing it (a failure).
async fn announce_taken(ws: &mut Ws, id: Id20) -> bool {
    ws_send(ws, &announce(id, 0)).await;
    match ws_recv(ws).await {
        Some(TrackerToClient::AnnounceReply(_)) => true,
        Some(TrackerToClient::Failure(_)) => false,
        other => panic!("expected a reply or a failure, got {other:?}"),
    }
}

/// Attack (sybil): ten sockets from one address, 32 peer ids each, into
/// one swarm, with made-up X-Forwarded-For headers (believed from nobody
/// by default). With the default bounds only 32 get in, and the 65th
/// socket is refused.
#[tokio::test]
async fn one_address_cannot_fill_a_swarm_with_fake_peers() {
    let dir = tracker_site();
    let server = Server::start(dir.path(), &["--tracker-only"]);
    let url = server.ws_url();
    let mut taken = 0;
    let mut sockets = Vec::new();
    for s in 0..10u8 {
        let spoof = format!("198.51.100.{s}");
        let mut ws = ws_connect_with(&url, &[("x-forwarded-for", &spoof)])
            .await
            .expect("connect");
        for p in 0..32u8 {
            let mut id = [b's'; 20];
            (id[0], id[1]) = (s, p);
            taken += u32::from(announce_taken(&mut ws, id).await);
        }
        sockets.push(ws);
    }
    assert_eq!(taken, 32, "peers one address got into the swarm");
    assert_eq!(server.stats()["tracker"]["peers"].as_u64(), Some(32));
    for _ in 10..64 {
        sockets.push(ws_connect(&url).await);
    }
    assert_eq!(refused_status(ws_connect_with(&url, &[]).await), 429);
    drop(sockets);
}

/// Behind a reverse proxy: each visitor is bounded by the address the
/// proxy forwards, so a sybil's bound does not reach other visitors.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_bounds() {
    let dir = tracker_site();
    let server = Server::start(
        dir.path(),
        &[
            "--tracker-only",
            "--trusted-proxy",
            "127.0.0.1",
            "--max-peers-per-ip",
            "2",
            "--max-connections-per-ip",
            "2",
        ],
    );
    let url = server.ws_url();
    let sybil = [("x-forwarded-for", "203.0.113.9")];
    let mut s1 = ws_connect_with(&url, &sybil).await.expect("connect");
    let _s2 = ws_connect_with(&url, &sybil).await.expect("connect");
    assert_eq!(refused_status(ws_connect_with(&url, &sybil).await), 429);
    assert!(announce_taken(&mut s1, [1; 20]).await);
    assert!(announce_taken(&mut s1, [2; 20]).await);
    assert!(
        !announce_taken(&mut s1, [3; 20]).await,
        "third peer of one address"
    );
    // Another visitor through the same proxy joins and gets an offer to
    // one of the sybil's peers.
    let visitor = [("x-forwarded-for", "6.6.6.6, 198.51.100.1")];
    let mut v = ws_connect_with(&url, &visitor).await.expect("connect");
    ws_send(&mut v, &announce([b'v'; 20], 1)).await;
    assert_eq!(expect_reply(&mut v).await, (0, 3));
    match ws_recv(&mut s1).await {
        Some(TrackerToClient::Offer(o)) => assert_eq!(o.peer_id, [b'v'; 20]),
        other => panic!("expected the visitor's offer, got {other:?}"),
    }
}

/// Attack: another site's pages use this tracker through their visitors'
/// browsers. With --allowed-origin, only the site's own pages get in.
#[tokio::test]
async fn upgrades_from_other_origins_are_refused() {
    let dir = tracker_site();
    let server = Server::start(
        dir.path(),
        &["--tracker-only", "--allowed-origin", "https://site.example"],
    );
    let url = server.ws_url();
    let evil = ws_connect_with(&url, &[("origin", "https://evil.example")]).await;
    assert_eq!(refused_status(evil), 403);
    let mut own = ws_connect_with(&url, &[("origin", "https://site.example")])
        .await
        .expect("the site's own page");
    assert!(announce_taken(&mut own, [b'o'; 20]).await);
    let mut native = ws_connect_with(&url, &[])
        .await
        .expect("no Origin: not a page");
    assert!(announce_taken(&mut native, [b'n'; 20]).await);
}
