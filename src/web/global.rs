//! The few global APIs both a page and a service worker use (`fetch`,
//! `caches`, `navigator.storage`), reached the same way from either.

use js_sys::Promise;
use wasm_bindgen::JsCast;
use web_sys::{CacheStorage, Request, StorageManager, Window, WorkerGlobalScope};

use super::js::{error, JsResult};

enum Scope {
    Window(Window),
    Worker(WorkerGlobalScope),
}

fn scope() -> JsResult<Scope> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<Window>() {
        return Ok(Scope::Window(window.clone()));
    }
    global
        .dyn_into::<WorkerGlobalScope>()
        .map(Scope::Worker)
        .map_err(|_| error("peercdn: neither a window nor a worker"))
}

pub fn fetch(request: &Request) -> JsResult<Promise> {
    Ok(match scope()? {
        Scope::Window(w) => w.fetch_with_request(request),
        Scope::Worker(w) => w.fetch_with_request(request),
    })
}

pub fn caches() -> JsResult<CacheStorage> {
    match scope()? {
        Scope::Window(w) => w.caches(),
        Scope::Worker(w) => w.caches(),
    }
}

pub fn storage() -> JsResult<StorageManager> {
    Ok(match scope()? {
        Scope::Window(w) => w.navigator().storage(),
        Scope::Worker(w) => w.navigator().storage(),
    })
}

/// Milliseconds since the time origin, for the engine's clock.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}
