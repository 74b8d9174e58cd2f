//! The few global APIs both a page and a service worker use (`fetch`,
//! `caches`, `navigator.storage`), reached the same way from either.
//!
//! Bound once, on what a window and a worker's global scope have in
//! common, rather than through web-sys's `Window` and `WorkerGlobalScope`:
//! those are two imports per API for the same JS (`fetch`, `caches` and
//! `navigator` each twice in the glue), and a branch per call.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{CacheStorage, Request, StorageManager, Window, WorkerGlobalScope};

use super::js::{error, JsResult};

#[wasm_bindgen]
extern "C" {
    /// A `Window` or a `WorkerGlobalScope` (checked by [`scope`]).
    type Scope;

    #[wasm_bindgen(method)]
    fn fetch(this: &Scope, request: &Request) -> Promise;

    #[wasm_bindgen(method, getter, catch)]
    fn caches(this: &Scope) -> JsResult<CacheStorage>;

    #[wasm_bindgen(method, getter)]
    fn navigator(this: &Scope) -> ScopeNavigator;

    /// A `Navigator` or a `WorkerNavigator`.
    type ScopeNavigator;

    #[wasm_bindgen(method, getter)]
    fn storage(this: &ScopeNavigator) -> StorageManager;
}

fn scope() -> JsResult<Scope> {
    let global = js_sys::global();
    if global.is_instance_of::<Window>() || global.is_instance_of::<WorkerGlobalScope>() {
        Ok(global.unchecked_into())
    } else {
        Err(error("peercdn: neither a window nor a worker"))
    }
}

pub fn fetch(request: &Request) -> JsResult<Promise> {
    Ok(scope()?.fetch(request))
}

pub fn caches() -> JsResult<CacheStorage> {
    scope()?.caches()
}

pub fn storage() -> JsResult<StorageManager> {
    Ok(scope()?.navigator().storage())
}

/// Milliseconds since the time origin, for the engine's clock.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}
