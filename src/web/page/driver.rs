//! The leader tab's engine loop: browser events in, engine outputs carried
//! out (the contract of `crate::engine`: after every input, drain every
//! output; run the timer the engine asks for).
//!
//! `Shared` is the one `Rc<RefCell<Driver>>` every callback holds weakly.
//! Invariant: no `RefCell` borrow is held across an `await` or across a
//! call into the browser that may re-enter (outputs are collected first,
//! then carried out with the borrow released).

use crate::sorted::SortedMap;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort, RtcDataChannel, RtcPeerConnection};

use super::peers::PeerLink;
use super::stats::{self, PageStats};
use super::wants;
use crate::engine::{Engine, Input, Output, PeerKey, Time, WantId};
use crate::manifest::VerifiedManifest;
use crate::web::global::now_ms;
use crate::web::listener::Listener;
use crate::web::store::{keep, PieceStore};
use crate::web::timer::{clear_timeout, set_timeout};

pub type Shared = Rc<RefCell<Driver>>;

pub struct Driver {
    pub engine: Engine,
    pub manifest: Rc<VerifiedManifest>,
    pub store: Rc<PieceStore>,
    pub scope: String,
    pub peers: SortedMap<PeerKey, PeerLink>,
    next_peer: PeerKey,
    /// Engine want -> the worker's request id.
    pub(super) wants: SortedMap<WantId, f64>,
    pub(super) next_want: WantId,
    pub(super) worker_port: Option<MessagePort>,
    pub(super) _port_listener: Option<Listener>,
    /// Cache Storage writes since a want last finished, and the promise
    /// that settles with every write before that.
    pub(super) writes: Vec<Promise>,
    timer: Option<i32>,
    /// One callback for every timer armed (a closure per timer would leak
    /// each one cleared before it fired).
    timer_callback: Option<Closure<dyn FnMut()>>,
    pub stats: PageStats,
}

impl Driver {
    pub fn new(
        engine: Engine,
        manifest: Rc<VerifiedManifest>,
        store: Rc<PieceStore>,
        scope: String,
    ) -> Driver {
        Driver {
            engine,
            manifest,
            store,
            scope,
            peers: SortedMap::new(),
            next_peer: 1,
            wants: SortedMap::new(),
            next_want: 1,
            worker_port: None,
            _port_listener: None,
            writes: Vec::new(),
            timer: None,
            timer_callback: None,
            stats: PageStats::default(),
        }
    }
}

pub(super) fn now() -> Time {
    Time::from_micros((now_ms() * 1000.0) as u64)
}

/// Feeds one input, then carries out everything the engine wants done.
pub fn input(shared: &Shared, input: Input<'_>) {
    let outputs = {
        let mut driver = shared.borrow_mut();
        driver.engine.handle(now(), input);
        let mut outputs = Vec::new();
        while let Some(output) = driver.engine.poll_output() {
            outputs.push(output);
        }
        outputs
    };
    for output in outputs {
        act(shared, output);
    }
    arm_timer(shared);
}

fn act(shared: &Shared, output: Output) {
    match output {
        Output::Send { peer, bytes } => send(shared, peer, bytes),
        Output::Disconnect { peer, .. } => disconnect(shared, peer),
        Output::FetchOrigin {
            id,
            asset,
            start,
            end,
        } => fetch_origin(shared, id, asset, start, end),
        Output::PieceVerified {
            piece,
            data,
            source,
        } => stored(shared, piece, &data, source),
        Output::ReadPiece { piece } => read_piece(shared, piece),
        Output::WantDone { id } => wants::finished(shared, id, Ok(())),
        Output::WantFailed { id, error } => wants::finished(shared, id, Err(error)),
        Output::Stats(_) => stats::emit(shared),
        // Cancelled origin fetches finish anyway: the engine drops data it
        // no longer wants. Rejections and bans are reported by the engine's
        // own counters.
        Output::CancelOrigin { .. } | Output::PieceRejected { .. } | Output::PeerBanned { .. } => {}
    }
}

fn send(shared: &Shared, peer: PeerKey, bytes: Vec<u8>) {
    let keep = shared
        .borrow_mut()
        .peers
        .get_mut(&peer)
        .map(|p| p.send(bytes));
    if keep == Some(false) {
        disconnect(shared, peer);
        input(shared, Input::PeerDisconnected { peer });
    }
}

fn disconnect(shared: &Shared, peer: PeerKey) {
    let link = shared.borrow_mut().peers.remove(&peer);
    if let Some(mut link) = link {
        link.close();
    }
    update_peer_count(shared);
}

fn fetch_origin(shared: &Shared, id: u64, asset: u32, start: u64, end: u64) {
    let url = {
        let driver = shared.borrow();
        driver
            .manifest
            .assets
            .get(asset as usize)
            .map(|a| format!("{}{}", driver.scope, a.path))
    };
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        // The engine's ranges end exclusively; HTTP's inclusively.
        let result = match url {
            Some(url) if end > start => {
                let mut feed = |bytes: &[u8]| {
                    if let Some(shared) = weak.upgrade() {
                        input(&shared, Input::OriginData { id, bytes });
                    }
                };
                crate::web::origin::stream_range(&url, start, end - 1, &mut feed).await
            }
            _ => Err(JsValue::NULL),
        };
        let Some(shared) = weak.upgrade() else { return };
        match result {
            Ok(()) => input(&shared, Input::OriginDone { id }),
            Err(_) => input(&shared, Input::OriginFailed { id }),
        }
    });
}

fn stored(shared: &Shared, piece: u32, data: &[u8], source: crate::engine::Source) {
    let mut driver = shared.borrow_mut();
    // The engine hands over whole pieces, BEP 47 padding included; the
    // store and the counters take only the asset's bytes.
    let Some(span) = driver.manifest.piece_span(u64::from(piece)) else {
        return;
    };
    let Some(data) = data.get(..span.data_len as usize) else {
        return;
    };
    match source {
        crate::engine::Source::Peer(_) => driver.stats.from_peers += span.data_len,
        crate::engine::Source::Origin => driver.stats.from_origin += span.data_len,
    }
    let (store, manifest) = (driver.store.clone(), driver.manifest.clone());
    let write = keep(store, manifest, u64::from(piece), data);
    driver.writes.push(write);
}

fn read_piece(shared: &Shared, piece: u32) {
    let (store, manifest) = {
        let driver = shared.borrow();
        (driver.store.clone(), driver.manifest.clone())
    };
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        let mut data = store.get(&manifest, u64::from(piece)).await.ok().flatten();
        // The store keeps only the asset's bytes; the engine hashes whole
        // pieces, BEP 47 padding included (without it, every asset's last
        // piece failed its check on the way out and was never uploaded).
        if let (Some(bytes), Some(span)) = (data.as_mut(), manifest.piece_span(u64::from(piece))) {
            bytes.resize(span.hashed_len as usize, 0);
        }
        if let Some(shared) = weak.upgrade() {
            input(
                &shared,
                Input::PieceRead {
                    piece,
                    data: data.as_deref(),
                },
            );
        }
    });
}

/// A data channel is open: the engine gets a new peer, which must
/// handshake as `peer_id`, the id the tracker named.
pub fn add_peer(
    shared: &Shared,
    pc: RtcPeerConnection,
    channel: RtcDataChannel,
    peer_id: [u8; 20],
) {
    let peer = {
        let mut driver = shared.borrow_mut();
        let peer = driver.next_peer;
        driver.next_peer += 1;
        peer
    };
    let mut link = PeerLink::new(pc, channel.clone());
    let weak = Rc::downgrade(shared);
    link.listeners.push(Listener::new(
        &channel,
        "message",
        on_message(weak.clone(), peer),
    ));
    let closed = weak.clone();
    link.listeners
        .push(Listener::new(&channel, "close", move |_| {
            if let Some(shared) = closed.upgrade() {
                if shared.borrow().peers.contains_key(&peer) {
                    disconnect(&shared, peer);
                    input(&shared, Input::PeerDisconnected { peer });
                }
            }
        }));
    link.listeners
        .push(Listener::new(&channel, "bufferedamountlow", move |_| {
            let Some(shared) = weak.upgrade() else { return };
            let ok = shared
                .borrow_mut()
                .peers
                .get_mut(&peer)
                .map(PeerLink::flush);
            if ok == Some(false) {
                disconnect(&shared, peer);
                input(&shared, Input::PeerDisconnected { peer });
            }
        }));
    shared.borrow_mut().peers.insert(peer, link);
    update_peer_count(shared);
    input(shared, Input::PeerConnected { peer });
    shared.borrow_mut().engine.expect_peer_id(peer, peer_id);
}

fn on_message(weak: Weak<RefCell<Driver>>, peer: PeerKey) -> impl FnMut(web_sys::Event) {
    move |event| {
        let (Some(shared), Ok(event)) = (weak.upgrade(), event.dyn_into::<MessageEvent>()) else {
            return;
        };
        let Some(bytes) = peer_bytes(&shared, &event.data()) else {
            // The wire is binary: a text message (whose `Uint8Array` would
            // be an allocation of the size it spells) or an oversized one
            // comes from a hostile peer.
            web_sys::console::warn_1(&"peercdn: a peer sent a text or oversized message".into());
            disconnect(&shared, peer);
            input(&shared, Input::PeerDisconnected { peer });
            return;
        };
        input(
            &shared,
            Input::PeerData {
                peer,
                bytes: &bytes,
            },
        );
    }
}

/// A channel message's bytes, if it is binary and within the engine's
/// bound (checked before anything is copied into wasm memory).
fn peer_bytes(shared: &Shared, data: &JsValue) -> Option<Vec<u8>> {
    let buffer = data.dyn_ref::<js_sys::ArrayBuffer>()?;
    let bound = shared.borrow().engine.max_peer_message();
    let length = buffer.byte_length() as usize;
    (length <= bound).then(|| Uint8Array::new(buffer).to_vec())
}

fn update_peer_count(shared: &Shared) {
    let count = shared.borrow().peers.len() as u64;
    shared.borrow_mut().stats.peers = count;
    stats::emit(shared);
}

/// Creates the timer callback; call once after wrapping the driver.
pub fn install_timer(shared: &Shared) {
    let weak = Rc::downgrade(shared);
    let callback = Closure::<dyn FnMut()>::new(move || {
        if let Some(shared) = weak.upgrade() {
            shared.borrow_mut().timer = None;
            input(&shared, Input::Timer);
        }
    });
    shared.borrow_mut().timer_callback = Some(callback);
}

/// Runs `Input::Timer` when the engine asks for it.
fn arm_timer(shared: &Shared) {
    let mut driver = shared.borrow_mut();
    if let Some(id) = driver.timer.take() {
        clear_timeout(id);
    }
    let Some(at) = driver.engine.poll_timeout() else {
        return;
    };
    let delay_ms = at.as_micros() as f64 / 1000.0 - now_ms();
    let id = driver
        .timer_callback
        .as_ref()
        .map(|c| set_timeout(c.as_ref().unchecked_ref(), delay_ms.max(1.0)));
    driver.timer = id;
}
