//! RTCPeerConnection signalling as the WebTorrent tracker protocol wants
//! it: non-trickle (the SDP is sent once ICE gathering has completed, with
//! every candidate inside), one data channel per connection; and the random
//! ids that signalling needs (offer ids, our peer id).

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcConfiguration, RtcDataChannel, RtcDataChannelType, RtcIceGatheringState, RtcPeerConnection,
    RtcSdpType, RtcSessionDescriptionInit,
};

use crate::tracker::Id20;
use crate::web::js::{error, JsResult};
use crate::web::timer::wait_until;

/// Longest wait for ICE gathering; with `iceServers: []` it takes
/// milliseconds, with an unreachable STUN server it would take ~40 s.
const GATHER_TIMEOUT_MS: f64 = 5_000.0;

/// A new connection using the page's ICE servers (a JS array of
/// RTCIceServer objects; empty for host candidates only).
pub fn connection(ice_servers: &Array) -> JsResult<RtcPeerConnection> {
    let config = RtcConfiguration::new();
    config.set_ice_servers(ice_servers);
    RtcPeerConnection::new_with_configuration(&config)
}

/// Opens our data channel on `pc` (the offerer's side).
pub fn open_channel(pc: &RtcPeerConnection) -> RtcDataChannel {
    let channel = pc.create_data_channel("peercdn");
    channel.set_binary_type(RtcDataChannelType::Arraybuffer);
    channel
}

/// Creates the offer and returns its SDP once ICE gathering is complete.
pub async fn offer(pc: &RtcPeerConnection) -> JsResult<String> {
    let offer = JsFuture::from(pc.create_offer()).await?;
    let init = description(RtcSdpType::Offer, &sdp_of(&offer)?);
    JsFuture::from(pc.set_local_description(&init)).await?;
    gathered_sdp(pc).await
}

/// Accepts a remote offer and returns our answer's SDP.
pub async fn answer(pc: &RtcPeerConnection, offer_sdp: &str) -> JsResult<String> {
    let remote = description(RtcSdpType::Offer, offer_sdp);
    JsFuture::from(pc.set_remote_description(&remote)).await?;
    let answer = JsFuture::from(pc.create_answer()).await?;
    let init = description(RtcSdpType::Answer, &sdp_of(&answer)?);
    JsFuture::from(pc.set_local_description(&init)).await?;
    gathered_sdp(pc).await
}

/// Completes our offer with the remote answer.
pub async fn accept(pc: &RtcPeerConnection, answer_sdp: &str) -> JsResult<()> {
    let remote = description(RtcSdpType::Answer, answer_sdp);
    JsFuture::from(pc.set_remote_description(&remote))
        .await
        .map(|_| ())
}

fn description(kind: RtcSdpType, sdp: &str) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    init
}

fn sdp_of(description: &JsValue) -> JsResult<String> {
    Reflect::get(description, &"sdp".into())?
        .as_string()
        .ok_or_else(|| error("peercdn: session description without SDP"))
}

async fn gathered_sdp(pc: &RtcPeerConnection) -> JsResult<String> {
    let watched = pc.clone();
    let complete = move || watched.ice_gathering_state() == RtcIceGatheringState::Complete;
    // Past the timeout, send what was gathered: some candidates may do.
    let _ = wait_until(
        pc.unchecked_ref(),
        "icegatheringstatechange",
        Box::new(complete),
        GATHER_TIMEOUT_MS,
    )
    .await;
    pc.local_description()
        .map(|d| d.sdp())
        .ok_or_else(|| error("peercdn: no local description"))
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The browser's CSPRNG: ids that others cannot predict (a peer id or
    /// offer id from `Math.random` can be: its generator's state follows
    /// from a few outputs, and two pages that stub it collide).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(bytes: &mut [u8]);
}

/// 20 random bytes (offer ids, peer ids).
pub fn random_id() -> Id20 {
    let mut id = [0u8; 20];
    get_random_values(&mut id);
    id
}
