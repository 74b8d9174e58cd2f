//! The controlling page: in the leader tab (the bootstrap `peercdn.js`
//! holds a Web Lock so there is one per origin), it runs the engine, the
//! tracker client and the peer connections, fetches pieces for the service
//! worker, and re-serves cached pieces to other visitors.

mod answering;
mod driver;
mod peers;
mod rtc;
mod signal;
mod stats;
mod tracker;
mod wants;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{MessageChannel, MessageEvent};

use super::context::Context;
use super::js::{error, resolve, JsResult};
use super::listener::Listener;
use crate::engine::{Config, Engine, Input, DEFAULT_BACKGROUND_BUDGET};
use driver::Shared;

/// How long the first requests wait for the tracker's first reply before
/// going to the origin (a reply that knows of nobody else ends the wait;
/// one that does extends it for those visitors to connect, tracker.rs).
const TRACKER_REPLY_WAIT: std::time::Duration = std::time::Duration::from_millis(1_000);

/// The leader tab's peercdn, returned by `Controller.start`.
#[wasm_bindgen]
pub struct Controller {
    driver: Shared,
    _worker_listener: Listener,
    _trackers: Vec<tracker::TrackerHandle>,
}

/// Page options (all optional but `scope` and `manifest`, the text of
/// `peercdn.json` as page.js fetched it): `{scope, manifest, trackers:
/// [url], iceServers: [RTCIceServer], maxPeers, upload, uploadRate,
/// background}` (`uploadRate` in bytes per second; `background`: the
/// bytes a visitor's store is filled to from peers in the background).
/// A visitor who does not upload fetches nothing in the background: it
/// would be of use to nobody else, and it costs the visitor.
struct Options {
    scope: String,
    manifest: String,
    trackers: Vec<String>,
    ice_servers: Array,
    max_peers: usize,
    upload: bool,
    upload_rate: Option<u64>,
    background_budget: u64,
}

fn read_options(options: &JsValue) -> JsResult<Options> {
    let get = |key: &str| Reflect::get(options, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let scope = get("scope")
        .as_string()
        .ok_or_else(|| error("peercdn: options.scope is required"))?;
    let manifest = get("manifest")
        .as_string()
        .ok_or_else(|| error("peercdn: options.manifest is required"))?;
    let trackers = get("trackers")
        .dyn_into::<Array>()
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default();
    let upload = get("upload").as_bool().unwrap_or(true) && !metered_connection();
    let background_budget = get("background")
        .as_f64()
        .filter(|n| *n >= 0.0)
        .map_or(DEFAULT_BACKGROUND_BUDGET, |n| n as u64);
    Ok(Options {
        scope,
        manifest,
        trackers,
        ice_servers: get("iceServers").dyn_into::<Array>().unwrap_or_default(),
        max_peers: get("maxPeers")
            .as_f64()
            .map_or(20, |n| n.clamp(1.0, 100.0) as usize),
        upload,
        background_budget: if upload { background_budget } else { 0 },
        // At least one block per second, so a peer's request can complete.
        upload_rate: get("uploadRate")
            .as_f64()
            .filter(|&rate| rate > 0.0)
            .map(|rate| rate.max(16_384.0) as u64),
    })
}

/// Save-Data on, or a cellular connection: never upload.
fn metered_connection() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let connection =
        Reflect::get(&window.navigator(), &"connection".into()).unwrap_or(JsValue::UNDEFINED);
    let save_data = Reflect::get(&connection, &"saveData".into())
        .map(|v| v.is_truthy())
        .unwrap_or(false);
    let kind = Reflect::get(&connection, &"type".into())
        .ok()
        .and_then(|v| v.as_string());
    save_data || kind.as_deref() == Some("cellular")
}

#[wasm_bindgen]
impl Controller {
    /// Starts peercdn in this tab (call it only in the leader).
    pub async fn start(options: JsValue) -> Result<Controller, JsValue> {
        let options = read_options(&options)?;
        let context = Context::from_text(options.scope.clone(), &options.manifest).await?;
        let config = Config {
            max_peers: options.max_peers,
            leech_only: !options.upload,
            upload_rate: options.upload_rate,
            background_budget: options.background_budget,
            ..Config::default()
        };
        let peer_id = peer_id();
        let seed = rtc::random_id()
            .iter()
            .fold(0u64, |seed, &b| seed.rotate_left(8) ^ u64::from(b));
        let mut engine = Engine::new(&context.manifest, config, peer_id, seed)
            .map_err(|e| error(e.to_string()))?;
        // Stock clients joining by magnet link fetch the info dictionary
        // from us (ut_metadata); it hashed to the info hash in `verify`.
        engine
            .set_metadata(&context.manifest.info)
            .map_err(|e| error(e.to_string()))?;
        let info_hash = context.manifest.info_hash;
        let cached = context.store.cached().await?;
        let driver: Shared = Rc::new(RefCell::new(driver::Driver::new(
            engine,
            context.manifest.clone(),
            context.store.clone(),
            options.scope.clone(),
        )));
        driver::install_timer(&driver);
        let pieces: Vec<u32> = cached
            .iter()
            .filter_map(|&p| u32::try_from(p).ok())
            .collect();
        driver::input(&driver, Input::StoreHas { pieces: &pieces });
        if !options.trackers.is_empty() {
            // Until the tracker says whether anyone else is here.
            let until = driver::now().after(TRACKER_REPLY_WAIT);
            driver::input(&driver, Input::PeersExpected { until });
        }
        let worker_listener = link_worker(&driver).await?;
        let mut trackers = Vec::new();
        for url in options.trackers {
            let tracker_options = tracker::Options {
                url,
                info_hash,
                peer_id,
                ice_servers: options.ice_servers.clone(),
                max_peers: options.max_peers,
            };
            trackers.push(tracker::start(tracker_options, driver.clone()));
        }
        // From peers only, within the budget: nothing the origin pays for.
        driver::input(&driver, Input::FetchSiteFromPeers);
        Ok(Controller {
            driver,
            _worker_listener: worker_listener,
            _trackers: trackers,
        })
    }

    /// The dashboard counters now: `{fromPeers, fromOrigin, fromCache, uploaded,
    /// peers, hashFailures, peersBanned, pendingWants}`.
    pub fn stats(&self) -> JsValue {
        stats::snapshot(&self.driver).into()
    }
}

/// Hands the service worker a port to this tab, now and whenever a
/// restarted worker asks for one (`{peercdn: "need-leader"}`).
async fn link_worker(driver: &Shared) -> JsResult<Listener> {
    let window = web_sys::window().ok_or_else(|| error("peercdn: no window"))?;
    let container = window.navigator().service_worker();
    send_port(driver, &container).await?;
    let weak = Rc::downgrade(driver);
    let listening = container.clone();
    Ok(Listener::new(&container, "message", move |event| {
        let Ok(event) = event.dyn_into::<MessageEvent>() else {
            return;
        };
        let asks = Reflect::get(&event.data(), &"peercdn".into())
            .ok()
            .and_then(|v| v.as_string());
        if let (Some("need-leader"), Some(driver)) = (asks.as_deref(), weak.upgrade()) {
            let container = listening.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = send_port(&driver, &container).await;
            });
        }
    }))
}

async fn send_port(driver: &Shared, container: &web_sys::ServiceWorkerContainer) -> JsResult<()> {
    let registration =
        resolve::<web_sys::ServiceWorkerRegistration>(container.ready()?, "serviceWorker.ready")
            .await?;
    let worker = registration
        .active()
        .ok_or_else(|| error("peercdn: no active service worker"))?;
    let channel = MessageChannel::new()?;
    let message = Object::new();
    Reflect::set(&message, &"peercdn".into(), &"leader".into())?;
    worker.post_message_with_transferable(&message, &Array::of1(&channel.port2()))?;
    wants::attach_worker(driver, channel.port1());
    Ok(())
}

/// Our BitTorrent peer id: a client prefix, then random bytes.
fn peer_id() -> [u8; 20] {
    let mut id = rtc::random_id();
    id[..8].copy_from_slice(b"-PC0001-");
    id
}
