//! Our tracker messages against the stock `bittorrent-tracker` server (npm),
//! the reference WebTorrent tracker: the other direction of interop from
//! tests/interop/tracker.test.mjs (stock client, our server).
//!
//! Needs node and the repository's node_modules (`npm ci`).

mod serve_support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use futures_util::SinkExt;
use peercdn::tracker::{
    Announce, AnnounceEvent, ClientToTracker, Id20, Offer, Scrape, TrackerToClient,
};
use serve_support::{answer_and_expect_relay, ws_connect, ws_recv, ws_send, Ws};
use tokio_tungstenite::tungstenite::Message;

const SWARM: Id20 = *b"interop-swarm-abcdef";

/// bittorrent-tracker's server, WebSocket only, on 127.0.0.1 port 0.
struct Reference {
    child: Child,
    port: u16,
}

impl Reference {
    fn start() -> Reference {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(
            root.join("node_modules/bittorrent-tracker").exists(),
            "node_modules missing: run `npm ci` at the repository root"
        );
        let script = "import Server from 'bittorrent-tracker/server';\
            const s = new Server({ udp: false, http: false, ws: true });\
            s.on('warning', () => {});\
            s.on('error', (e) => { console.error(e); process.exit(1); });\
            s.on('listening', () => console.log(s.http.address().port));\
            s.listen(0, '127.0.0.1');";
        let mut child = Command::new("node")
            .args(["--input-type=module", "-e", script])
            .current_dir(&root)
            .stdout(Stdio::piped())
            .spawn()
            .expect("node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no port: {line:?}"));
        Reference { child, port }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/announce", self.port)
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn announce(peer_id: Id20, offers: usize) -> ClientToTracker {
    ClientToTracker::Announce(Announce {
        info_hash: SWARM,
        peer_id,
        event: Some(AnnounceEvent::Started),
        numwant: Some(offers as u32),
        uploaded: Some(0),
        downloaded: Some(0),
        left: Some(10),
        offers: (0..offers)
            .map(|i| Offer {
                // Bytes above 127 check the binary-string encoding.
                offer_id: [0x80 + i as u8; 20],
                sdp: format!("v=0\r\nsdp-{i}\r\n"),
            })
            .collect(),
    })
}

async fn reply(ws: &mut Ws) -> (u32, u32, u32) {
    match ws_recv(ws).await {
        Some(TrackerToClient::AnnounceReply(r)) => {
            assert_eq!(r.info_hash, SWARM);
            (r.interval, r.complete, r.incomplete)
        }
        other => panic!("expected an announce reply, got {other:?}"),
    }
}

#[tokio::test]
async fn our_messages_work_with_the_stock_server() {
    let reference = Reference::start();
    let (a_id, b_id) = ([0xa0; 20], [0xb0; 20]);
    let mut a = ws_connect(&reference.url()).await;
    ws_send(&mut a, &announce(a_id, 1)).await;
    let (interval, _, incomplete) = reply(&mut a).await;
    assert!(interval > 0);
    assert_eq!(incomplete, 1);
    let mut b = ws_connect(&reference.url()).await;
    ws_send(&mut b, &announce(b_id, 2)).await;
    assert_eq!(reply(&mut b).await.2, 2);
    let offer = match ws_recv(&mut a).await {
        Some(TrackerToClient::Offer(o)) => o,
        other => panic!("expected B's offer at A, got {other:?}"),
    };
    assert_eq!((offer.peer_id, offer.info_hash), (b_id, SWARM));
    assert!(offer.offer_id[0] >= 0x80 && offer.sdp.starts_with("v=0\r\nsdp-"));
    answer_and_expect_relay(
        &mut a,
        &mut b,
        (SWARM, a_id, b_id),
        offer.offer_id,
        "v=0
answer
",
    )
    .await;
    let scrape = ClientToTracker::Scrape(Scrape {
        info_hashes: vec![SWARM],
        single: false,
    });
    ws_send(&mut a, &scrape).await;
    match ws_recv(&mut a).await {
        Some(TrackerToClient::ScrapeReply(r)) => {
            assert_eq!(r.files.len(), 1);
            assert_eq!((r.files[0].0, r.files[0].1.incomplete), (SWARM, 2));
        }
        other => panic!("expected a scrape reply, got {other:?}"),
    }
}

#[tokio::test]
async fn we_decode_the_stock_servers_failures() {
    let reference = Reference::start();
    let mut ws = ws_connect(&reference.url()).await;
    ws.send(Message::text(
        r#"{"action":"announce","info_hash":"short","peer_id":"x"}"#,
    ))
    .await
    .unwrap();
    match ws_recv(&mut ws).await {
        Some(TrackerToClient::Failure(f)) => assert!(f.reason.contains("info_hash"), "{f:?}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}
