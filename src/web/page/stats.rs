//! The dashboard counters: `Controller.stats()` and the `peercdn:stats`
//! events the leader tab dispatches on its window.

use js_sys::{Object, Reflect};

use super::driver::Shared;

/// Counters for the page's dashboard (`peercdn:stats` events).
#[derive(Clone, Copy, Debug, Default)]
pub struct PageStats {
    pub from_peers: u64,
    /// The leader's origin requests plus the worker's own.
    pub from_origin: u64,
    /// Bytes the worker answered from Cache Storage.
    pub from_cache: u64,
    pub peers: u64,
}

/// The counters as a JS object: `{fromPeers, fromOrigin, fromCache,
/// uploaded, peers, hashFailures, peersBanned, pendingWants}`.
pub fn snapshot(shared: &Shared) -> Object {
    let driver = shared.borrow();
    let engine = driver.engine.stats();
    let out = Object::new();
    for (key, value) in [
        ("fromPeers", driver.stats.from_peers),
        ("fromOrigin", driver.stats.from_origin),
        ("fromCache", driver.stats.from_cache),
        ("uploaded", engine.uploaded),
        ("peers", driver.peers.len() as u64),
        ("hashFailures", engine.hash_failures),
        ("peersBanned", engine.peers_banned),
        ("pendingWants", driver.engine.pending_wants() as u64),
    ] {
        let _ = Reflect::set(&out, &key.into(), &(value as f64).into());
    }
    out
}

/// The worker reports bytes it answered without the leader's help.
pub fn served_by_worker(shared: &Shared, cache: u64, origin: u64) {
    {
        let mut driver = shared.borrow_mut();
        driver.stats.from_cache += cache;
        driver.stats.from_origin += origin;
    }
    emit(shared);
}

/// Dispatches `peercdn:stats` on the window, for dashboards.
pub fn emit(shared: &Shared) {
    let detail = snapshot(shared);
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&detail);
    if let (Some(window), Ok(event)) = (
        web_sys::window(),
        web_sys::CustomEvent::new_with_event_init_dict("peercdn:stats", &init),
    ) {
        let _ = window.dispatch_event(&event);
    }
}
