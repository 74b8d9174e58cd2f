//! Signalling's WebRTC side for the tracker client: the offers we announce
//! with, the answers we give to relayed offers, and the data channels
//! that open from them, handed to the engine driver.
//!
//! Invariants: an offer or answer whose channel does not open within
//! `OPEN_TIMEOUT_MS` is closed; an offer from a peer we are connected to,
//! or one the engine has no slot for (a useless peer makes room: see
//! `Engine::can_take_peer`), or one past the bounds of `answering`, goes
//! unanswered.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{RtcDataChannel, RtcDataChannelEvent, RtcDataChannelState, RtcPeerConnection};

use super::driver::{self, Shared};
use super::rtc;
use super::tracker::{send, Client, SharedClient, OPEN_TIMEOUT_MS};
use crate::tracker::{Answer, ClientToTracker, Id20, Offer};
use crate::web::global::now_ms;
use crate::web::listener::Listener;
use crate::web::timer::{sleep, wait_until};

/// A new offer (its connection and channel kept until answered or
/// expired).
pub(super) async fn make_offer(client: &SharedClient) -> Option<Offer> {
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

/// Answers an offer the tracker relayed from `from`.
pub(super) fn answer_offer(client: &SharedClient, from: Id20, offer_id: Id20, sdp: String) {
    let unwanted = {
        let c = client.borrow();
        let driver = c.driver.borrow();
        // A visitor who does not upload answers nobody: answering would
        // hand its address to whoever sends offers through the tracker.
        !driver.engine.can_take_peer()
            || driver.engine.is_connected_to(&from)
            || !driver.engine.uploads()
    };
    let answering = client.borrow().answering.clone();
    if unwanted || !answering.borrow_mut().admit(from, now_ms()) {
        return;
    }
    let weak = Rc::downgrade(client);
    spawn_local(async move {
        if !answer(weak, from, offer_id, sdp).await {
            // The browser's connection cap: back off rather than retry.
            answering.borrow_mut().pause(now_ms());
        }
        answering.borrow_mut().release(from);
    });
}

/// Answers the offer and hands its channel to the engine once open;
/// false when the browser refused to create the connection.
async fn answer(weak: Weak<RefCell<Client>>, from: Id20, offer_id: Id20, sdp: String) -> bool {
    let Some(client) = weak.upgrade() else {
        return true;
    };
    let ice = client.borrow().options.ice_servers.clone();
    let Ok(pc) = rtc::connection(&ice) else {
        return false;
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
        pc.close();
        return true;
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
        Some(channel) => add_when_open(&driver, pc, channel, from).await,
        None => pc.close(),
    }
    true
}

/// Hands `channel` to the engine once it is open, as the connection to
/// the peer the tracker named `from`; closes `pc` if it does not open in
/// time.
async fn add_when_open(
    driver: &Shared,
    pc: RtcPeerConnection,
    channel: RtcDataChannel,
    from: Id20,
) {
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
        driver::add_peer(driver, pc, channel, from);
    } else {
        pc.close();
    }
}

/// Completes our offer `offer_id` with the answer the tracker relayed
/// from `from`.
pub(super) fn accept_answer(client: &SharedClient, from: Id20, offer_id: Id20, sdp: String) {
    let Some((pc, channel)) = client.borrow_mut().offers.remove(&offer_id) else {
        return;
    };
    let driver = client.borrow().driver.clone();
    spawn_local(async move {
        if rtc::accept(&pc, &sdp).await.is_err() {
            return pc.close();
        }
        add_when_open(&driver, pc, channel, from).await;
    });
}
