//! The tracker client: one WebSocket per tracker URL, speaking the
//! WebTorrent protocol of `crate::tracker`, with reconnection backoff.
//!
//! It announces with a few non-trickle offers (each an RTCPeerConnection
//! with our data channel), answers the offers the tracker relays, and hands
//! every data channel that opens to the engine driver (the WebRTC side of
//! that is `signal.rs`). Bounds: at most
//! `max_peers` connections, `OFFERS` pending offers per announce, and
//! pending offers expire. The tracker relays each announce's offers to
//! peers at random, connected ones included: an offer from a peer we are
//! connected to goes unanswered (every re-announce used to add a second
//! connection to the same visitor). While fewer visitors are connected
//! than the tracker counts, it announces again within seconds (backing
//! off), not only every interval: a failed first connection is retried,
//! and so is one the engine dropped (no handshake within its timeout).

use crate::sorted::SortedMap;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, RtcDataChannel, RtcPeerConnection, WebSocket};

use super::answering::Answering;
use super::driver::{self, Shared};
use super::signal;
use crate::engine::Input;
use crate::tracker::{Announce, AnnounceEvent, ClientToTracker, Id20, TrackerToClient};
use crate::web::global::now_ms;
use crate::web::listener::Listener;
use crate::web::timer::sleep;

/// Offers sent with each announce.
const OFFERS: usize = 4;
/// How long a data channel may take to open after signalling.
pub(super) const OPEN_TIMEOUT_MS: f64 = 20_000.0;
const MAX_BACKOFF_MS: f64 = 60_000.0;
/// While fewer visitors are connected than the tracker counts, announce
/// again this long after the latest announce (the wait doubling each
/// time, up to the tracker's interval); also how often the client checks.
/// A first connection can fail (an offer lost, ICE or DTLS timing out on
/// a loaded machine), and waiting out the interval (120 s) left a visitor
/// without peers that long.
const RETRY_MS: f64 = 5_000.0;
/// How long the origin waits for the visitors a tracker reply announces to
/// connect (offers, answers, ICE on a LAN: about a second measured here,
/// 4-10 s for a flash crowd of 8 browsers on 2 cores).
const EXPECTED_PEERS_WAIT: std::time::Duration = std::time::Duration::from_secs(4);

pub struct Options {
    pub url: String,
    pub info_hash: Id20,
    pub peer_id: Id20,
    pub ice_servers: Array,
    pub max_peers: usize,
}

pub(super) struct Client {
    pub(super) options: Options,
    pub(super) driver: Shared,
    socket: Option<WebSocket>,
    listeners: Vec<Listener>,
    /// Our offers awaiting an answer, by offer id.
    pub(super) offers: SortedMap<Id20, (RtcPeerConnection, RtcDataChannel)>,
    /// Answers to relayed offers in progress (bounded).
    pub(super) answering: Rc<RefCell<Answering>>,
    /// The tracker's announce interval; 0 until its first reply.
    interval_ms: f64,
    backoff_ms: f64,
    /// Other visitors in the swarm, as the tracker's latest reply counted.
    others: u32,
}

pub(super) type SharedClient = Rc<RefCell<Client>>;

/// Keeps a tracker client alive: dropping it closes the connection.
pub struct TrackerHandle {
    client: SharedClient,
}

impl Drop for TrackerHandle {
    fn drop(&mut self) {
        let mut client = self.client.borrow_mut();
        client.listeners.clear();
        if let Some(socket) = client.socket.take() {
            let _ = socket.close();
        }
    }
}

/// Connects to the tracker and stays connected (reconnecting with backoff)
/// while the handle lives.
pub fn start(options: Options, driver: Shared) -> TrackerHandle {
    let client = Rc::new(RefCell::new(Client {
        options,
        driver,
        socket: None,
        listeners: Vec::new(),
        offers: SortedMap::new(),
        answering: Rc::default(),
        interval_ms: 0.0,
        backoff_ms: 1_000.0,
        others: 0,
    }));
    connect(&client);
    TrackerHandle { client }
}

/// Re-announces every interval the tracker asks for: fresh offers for
/// newcomers. Started by the first reply, so the first wait is the
/// tracker's interval too. While fewer visitors are connected than the
/// latest reply counted, it announces once the retry wait has passed
/// since the latest announce, doubling the wait each time; it looks every
/// `RETRY_MS`, so a connection lost (or dropped without a handshake) is
/// replaced within seconds too.
fn reannounce_periodically(client: &SharedClient) {
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        let mut retry_ms = RETRY_MS;
        let mut announced = now_ms();
        loop {
            let Some(interval) = weak.upgrade().map(|c| c.borrow().interval_ms) else {
                return;
            };
            sleep(RETRY_MS.min(announced + interval - now_ms())).await;
            let Some(c) = weak.upgrade() else { return };
            let short = unconnected(&c);
            let since = now_ms() - announced;
            if !short {
                retry_ms = RETRY_MS;
            }
            if since >= interval || (short && since >= retry_ms) {
                if short {
                    retry_ms = (retry_ms * 2.0).min(interval);
                }
                announced = now_ms();
                announce(&c, AnnounceEvent::Update);
            }
        }
    });
}

/// Fewer visitors connected than the tracker's latest reply counted, and
/// room for more.
fn unconnected(client: &SharedClient) -> bool {
    let c = client.borrow();
    let connected = c.driver.borrow().peers.len();
    connected < (c.others as usize).min(c.options.max_peers)
}

fn connect(client: &SharedClient) {
    let url = client.borrow().options.url.clone();
    let Ok(socket) = WebSocket::new(&url) else {
        return reconnect_later(client);
    };
    let weak = Rc::downgrade(client);
    let listeners = vec![
        Listener::new(&socket, "open", {
            let weak = weak.clone();
            move |_| {
                if let Some(c) = weak.upgrade() {
                    c.borrow_mut().backoff_ms = 1_000.0;
                    announce(&c, AnnounceEvent::Started);
                }
            }
        }),
        Listener::new(&socket, "message", {
            let weak = weak.clone();
            move |event| on_message(&weak, event)
        }),
        Listener::new(&socket, "close", move |_| {
            if let Some(c) = weak.upgrade() {
                reconnect_later(&c);
            }
        }),
    ];
    let mut c = client.borrow_mut();
    c.socket = Some(socket);
    c.listeners = listeners;
}

fn reconnect_later(client: &SharedClient) {
    let delay = {
        let mut c = client.borrow_mut();
        c.socket = None;
        c.listeners.clear();
        let delay = c.backoff_ms;
        c.backoff_ms = (delay * 2.0).min(MAX_BACKOFF_MS);
        delay
    };
    web_sys::console::warn_1(
        &format!(
            "peercdn: tracker unreachable; retrying in {} ms",
            delay as u64
        )
        .into(),
    );
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        sleep(delay).await;
        if let Some(c) = weak.upgrade() {
            connect(&c);
        }
    });
}

pub(super) fn send(client: &SharedClient, message: &ClientToTracker) {
    if let Some(socket) = client.borrow().socket.as_ref() {
        let _ = socket.send_with_str(&message.to_json());
    }
}

/// Announces with fresh offers (as many as room for peers allows).
fn announce(client: &SharedClient, event: AnnounceEvent) {
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        let Some(client) = weak.upgrade() else { return };
        let room = {
            let c = client.borrow();
            let peers = c.driver.borrow().peers.len();
            c.options
                .max_peers
                .saturating_sub(peers + c.offers.len())
                .min(OFFERS)
        };
        let mut offers = Vec::new();
        for _ in 0..room {
            if let Some(offer) = signal::make_offer(&client).await {
                offers.push(offer);
            }
        }
        let (info_hash, peer_id) = {
            let c = client.borrow();
            (c.options.info_hash, c.options.peer_id)
        };
        let announce = Announce {
            info_hash,
            peer_id,
            event: Some(event),
            numwant: Some(offers.len() as u32),
            uploaded: None,
            downloaded: None,
            left: None,
            offers,
        };
        send(&client, &ClientToTracker::Announce(announce));
    });
}

fn on_message(weak: &Weak<RefCell<Client>>, event: web_sys::Event) {
    let (Some(client), Ok(event)) = (weak.upgrade(), event.dyn_into::<MessageEvent>()) else {
        return;
    };
    let Some(text) = event.data().as_string() else {
        return;
    };
    // A hostile or broken tracker message is ignored, never trusted.
    let Ok(message) = TrackerToClient::try_from(text.as_bytes()) else {
        return;
    };
    match message {
        TrackerToClient::AnnounceReply(reply) => {
            let first = {
                let mut c = client.borrow_mut();
                let first = c.interval_ms == 0.0;
                c.interval_ms = f64::from(reply.interval.clamp(10, 3600)) * 1000.0;
                first
            };
            if first {
                reannounce_periodically(&client);
            }
            let others = (reply.complete + reply.incomplete).saturating_sub(1);
            let shared = client.borrow().driver.clone();
            expect_peers(&shared, others);
            client.borrow_mut().others = others;
        }
        TrackerToClient::Offer(offer) => {
            signal::answer_offer(&client, offer.peer_id, offer.offer_id, offer.sdp)
        }
        TrackerToClient::Answer(answer) => {
            signal::accept_answer(&client, answer.peer_id, answer.offer_id, answer.sdp)
        }
        TrackerToClient::Failure(failure) => {
            web_sys::console::warn_1(&format!("peercdn: tracker says: {}", failure.reason).into());
        }
        TrackerToClient::ScrapeReply(_) => {}
    }
}

/// Tells the engine whether to wait for peers before the origin: while
/// fewer are connected than the swarm's count of others, more may come,
/// and the engine splits origin work among the peers it knows (with only
/// the first of a crowd known, each visitor would take half the site).
fn expect_peers(shared: &Shared, others: u32) {
    let connected = shared.borrow().peers.len() as u32;
    let now = driver::now();
    let until = if others > connected {
        now.after(EXPECTED_PEERS_WAIT)
    } else {
        now
    };
    driver::input(shared, Input::PeersExpected { until });
}
