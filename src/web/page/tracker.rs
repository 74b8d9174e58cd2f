//! The tracker client: one WebSocket per tracker URL, speaking the
//! WebTorrent protocol of `crate::tracker`, with reconnection backoff.
//!
//! It announces with a few non-trickle offers (each an RTCPeerConnection
//! with our data channel), answers the offers the tracker relays, and hands
//! every data channel that opens to the engine driver. Bounds: at most
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
use web_sys::{
    MessageEvent, RtcDataChannel, RtcDataChannelEvent, RtcDataChannelState, RtcPeerConnection,
    WebSocket,
};

use super::driver::{self, Shared};
use super::rtc;
use crate::engine::Input;
use crate::tracker::{
    Announce, AnnounceEvent, Answer, ClientToTracker, Id20, Offer, TrackerToClient,
};
use crate::web::global::now_ms;
use crate::web::listener::Listener;
use crate::web::timer::{sleep, wait_until};

/// Offers sent with each announce.
const OFFERS: usize = 4;
/// How long a data channel may take to open after signalling.
const OPEN_TIMEOUT_MS: f64 = 20_000.0;
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

struct Client {
    options: Options,
    driver: Shared,
    socket: Option<WebSocket>,
    listeners: Vec<Listener>,
    /// Our offers awaiting an answer, by offer id.
    offers: SortedMap<Id20, (RtcPeerConnection, RtcDataChannel)>,
    /// The tracker's announce interval; 0 until its first reply.
    interval_ms: f64,
    backoff_ms: f64,
    /// Other visitors in the swarm, as the tracker's latest reply counted.
    others: u32,
}

type SharedClient = Rc<RefCell<Client>>;

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

fn send(client: &SharedClient, message: &ClientToTracker) {
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
            if let Some(offer) = make_offer(&client).await {
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

async fn make_offer(client: &SharedClient) -> Option<Offer> {
    let ice = client.borrow().options.ice_servers.clone();
    let pc = rtc::connection(&ice)
        .map_err(|e| web_sys::console::warn_2(&"peercdn: offer".into(), &e))
        .ok()?;
    let channel = rtc::open_channel(&pc);
    let sdp = rtc::offer(&pc)
        .await
        .map_err(|e| web_sys::console::warn_2(&"peercdn: offer".into(), &e))
        .ok()?;
    let offer_id = rtc::random_id();
    client
        .borrow_mut()
        .offers
        .insert(offer_id, (pc.clone(), channel.clone()));
    // An offer nobody answers in time is dropped.
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        sleep(50_000.0).await;
        if let Some(c) = weak.upgrade() {
            if let Some((pc, _)) = c.borrow_mut().offers.remove(&offer_id) {
                pc.close();
            }
        }
    });
    Some(Offer { offer_id, sdp })
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
            answer_offer(&client, offer.peer_id, offer.offer_id, offer.sdp)
        }
        TrackerToClient::Answer(answer) => accept_answer(&client, answer.offer_id, answer.sdp),
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

fn answer_offer(client: &SharedClient, from: Id20, offer_id: Id20, sdp: String) {
    let unwanted = {
        let c = client.borrow();
        let driver = c.driver.borrow();
        driver.peers.len() >= c.options.max_peers || driver.engine.is_connected_to(&from)
    };
    if unwanted {
        return;
    }
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        let Some(client) = weak.upgrade() else { return };
        let ice = client.borrow().options.ice_servers.clone();
        let Ok(pc) = rtc::connection(&ice) else {
            return;
        };
        let channel: Rc<RefCell<Option<RtcDataChannel>>> = Rc::new(RefCell::new(None));
        let slot = channel.clone();
        let _on_channel = Listener::new(&pc, "datachannel", move |event| {
            if let Ok(event) = event.dyn_into::<RtcDataChannelEvent>() {
                let ch = event.channel();
                ch.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
                *slot.borrow_mut() = Some(ch);
            }
        });
        let Ok(answer_sdp) = rtc::answer(&pc, &sdp).await else {
            return pc.close();
        };
        let (info_hash, peer_id) = {
            let c = client.borrow();
            (c.options.info_hash, c.options.peer_id)
        };
        let answer = Answer {
            info_hash,
            peer_id,
            to_peer_id: from,
            offer_id,
            sdp: answer_sdp,
        };
        send(&client, &ClientToTracker::Answer(answer));
        let driver = client.borrow().driver.clone();
        drop(client);
        // The channel arrives once ICE, DTLS and SCTP are up (seconds on a
        // loaded machine: a 2 s limit here once closed every answered
        // connection in CI), perhaps before it is open.
        let slot = channel.clone();
        let arrived = move || slot.borrow().is_some();
        wait_until(
            pc.unchecked_ref(),
            "datachannel",
            Box::new(arrived),
            OPEN_TIMEOUT_MS,
        )
        .await;
        let arrived = channel.borrow().clone();
        match arrived {
            Some(channel) => add_when_open(&driver, pc, channel).await,
            None => pc.close(),
        }
    });
}

/// Hands `channel` to the engine once it is open; closes `pc` if it does
/// not open in time.
async fn add_when_open(driver: &Shared, pc: RtcPeerConnection, channel: RtcDataChannel) {
    let watched = channel.clone();
    let open = move || watched.ready_state() == RtcDataChannelState::Open;
    if wait_until(
        channel.unchecked_ref(),
        "open",
        Box::new(open),
        OPEN_TIMEOUT_MS,
    )
    .await
    {
        driver::add_peer(driver, pc, channel);
    } else {
        pc.close();
    }
}

fn accept_answer(client: &SharedClient, offer_id: Id20, sdp: String) {
    let Some((pc, channel)) = client.borrow_mut().offers.remove(&offer_id) else {
        return;
    };
    let driver = client.borrow().driver.clone();
    spawn_local(async move {
        if rtc::accept(&pc, &sdp).await.is_err() {
            return pc.close();
        }
        add_when_open(&driver, pc, channel).await;
    });
}
