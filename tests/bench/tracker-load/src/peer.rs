//! One simulated browser peer of the load generator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use peercdn::tracker::{Announce, AnnounceEvent, ClientToTracker, Offer};
use tokio::net::TcpStream;
use tokio::sync::{watch, Barrier};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Options;

/// One simulated browser: its pre-encoded announces.
pub struct PeerSpec {
    started: String,
    update: String,
}

impl PeerSpec {
    pub fn new(i: usize, o: &Options) -> Self {
        let mut peer_id = *b"-PC0001-000000000000";
        peer_id[8..20].copy_from_slice(format!("{i:012}").as_bytes());
        let mut info_hash = *b"bench-swarm-00000000";
        let swarm = format!("{:08}", i / o.swarm_size);
        info_hash[12..20].copy_from_slice(swarm.as_bytes());
        let sdp = "a".repeat(o.sdp_bytes);
        let offers: Vec<Offer> = (0..o.offers)
            .map(|k| {
                let mut offer_id = peer_id;
                offer_id[0] = k as u8;
                Offer {
                    offer_id,
                    sdp: sdp.clone(),
                }
            })
            .collect();
        let announce = |event| {
            ClientToTracker::Announce(Announce {
                info_hash,
                peer_id,
                event: Some(event),
                numwant: Some(o.offers as u32),
                uploaded: Some(0),
                downloaded: Some(0),
                left: Some(1 << 20),
                offers: offers.clone(),
            })
            .to_json()
        };
        PeerSpec {
            started: announce(AnnounceEvent::Started),
            update: announce(AnnounceEvent::Update),
        }
    }

    pub async fn run(
        self,
        url: String,
        announced: Arc<Barrier>,
        mut go: watch::Receiver<Option<Instant>>,
        offers_seen: Arc<AtomicU64>,
    ) -> u64 {
        let mut ws = connect(&url).await;
        ws.send(Message::text(self.started.clone()))
            .await
            .expect("send");
        wait_reply(&mut ws, &offers_seen).await;
        announced.wait().await;
        // Keep reading relayed offers until the loop starts.
        let deadline = loop {
            tokio::select! {
                _ = go.changed() => break go.borrow().unwrap_or_else(Instant::now),
                frame = ws.next() => if is_offer(frame) { offers_seen.fetch_add(1, Ordering::Relaxed); },
            }
        };
        let mut done = 0;
        while Instant::now() < deadline {
            if ws.send(Message::text(self.update.clone())).await.is_err() {
                break;
            }
            if !wait_reply(&mut ws, &offers_seen).await {
                break;
            }
            done += 1;
        }
        let _ = ws.close(None).await;
        done
    }
}

/// Connects, retrying: on a loaded machine a server's accept queue can
/// overflow during the connection burst, and the kernel then resets the
/// connection (both servers alike).
async fn connect(url: &str) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    // tungstenite zero-fills its whole read buffer on every read: the
    // 128 KiB default would make the generator the bottleneck.
    let config = WebSocketConfig::default().read_buffer_size(8192);
    let mut attempt = 0;
    loop {
        match tokio_tungstenite::connect_async_with_config(url, Some(config), false).await {
            Ok((ws, _)) => return ws,
            Err(e) if attempt >= 20 => panic!("connect: {e}"),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
        }
    }
}

type Frame = Option<Result<Message, tokio_tungstenite::tungstenite::Error>>;

fn is_offer(frame: Frame) -> bool {
    matches!(frame, Some(Ok(Message::Text(t))) if t.as_str().contains("\"offer\""))
}

/// Reads until this peer's announce reply (the only message with an
/// interval); counts offers seen on the way. False if the socket ended.
async fn wait_reply<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    offers_seen: &AtomicU64,
) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                if t.as_str().contains("\"interval\"") {
                    return true;
                }
                if t.as_str().contains("\"offer\"") {
                    offers_seen.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Ok(_)) => {}
            _ => return false,
        }
    }
}
