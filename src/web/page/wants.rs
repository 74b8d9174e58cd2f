//! The service worker's wants, answered on its port once their pieces are
//! in Cache Storage, and the pieces the worker stored itself, offered to
//! peers. (The leader's background fetching is the engine's:
//! `Input::FetchSiteFromPeers`.)

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort};

use super::driver::{input, Shared};
use crate::engine::{Input, Time, WantError, WantId};
use crate::web::global::now_ms;
use crate::web::js::settle;
use crate::web::listener::Listener;

/// A want is done: once its pieces are written, tell the worker. It waits
/// for every write still pending, not only those since the last want
/// finished: wants share pieces, and a want finishing first took this
/// want's writes with it, so
/// the worker, told "done", could read a piece not yet in Cache Storage
/// and fetch it from the origin (the likely cause of the single origin
/// piece the demo test saw twice in a full run). Each answer's promise
/// holds the previous one's results: a few bytes per want, kept for the
/// tab's life.
pub fn finished(shared: &Shared, id: WantId, result: Result<(), WantError>) {
    let (request, written, port) = {
        let mut driver = shared.borrow_mut();
        let request = driver.wants.remove(&id);
        let writes: js_sys::Array = driver.writes.drain(..).collect();
        let written = Promise::all_settled(&writes);
        // The next want to finish waits for these writes too.
        driver.writes.push(written.clone());
        (request, written, driver.worker_port.clone())
    };
    spawn_local(async move {
        let _ = settle(written).await;
        if let (Some(request), Some(port)) = (request, port) {
            reply(&port, request, result.is_ok());
        }
    });
}

fn reply(port: &MessagePort, request: f64, ok: bool) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"t".into(), &"done".into());
    let _ = Reflect::set(&message, &"id".into(), &request.into());
    let _ = Reflect::set(&message, &"ok".into(), &ok.into());
    let _ = port.post_message(&message);
}

/// The worker fetched these pieces from the origin itself and wrote them:
/// those the store really holds are the engine's to offer its peers. At
/// most a response's worth is looked at (a run is 4 MiB of pieces).
fn offer_stored(shared: &Shared, stored: &wasm_bindgen::JsValue) {
    const MOST: u32 = 4096;
    let Some(list) = stored.dyn_ref::<js_sys::Array>() else {
        return;
    };
    let pieces: Vec<u32> = (0..list.length().min(MOST))
        .filter_map(|i| list.get(i).as_f64())
        .filter(|p| p.fract() == 0.0 && *p >= 0.0 && *p < f64::from(u32::MAX))
        .map(|p| p as u32)
        .collect();
    if pieces.is_empty() {
        return;
    }
    let store = shared.borrow().store.clone();
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        let mut held = Vec::with_capacity(pieces.len());
        for p in pieces {
            if store.has(u64::from(p)).await.unwrap_or(false) {
                held.push(p);
            }
        }
        if let Some(shared) = weak.upgrade() {
            input(&shared, Input::StoreHas { pieces: &held });
        }
    });
}

/// A want from the service worker: `{t: "want", id, asset, start, end, ms}`.
pub fn worker_want(shared: &Shared, request: f64, asset: u32, start: u64, end: u64, ms: f64) {
    let id = {
        let mut driver = shared.borrow_mut();
        let id = driver.next_want;
        driver.next_want += 1;
        driver.wants.insert(id, request);
        id
    };
    let deadline = Time::from_micros(((now_ms() + ms) * 1000.0) as u64);
    // The worker's `end` is inclusive (HTTP's); the engine's exclusive.
    let end = end + 1;
    input(
        shared,
        Input::Want {
            id,
            asset,
            start,
            end,
            deadline,
        },
    );
}

/// Listens to the worker's messages on `port`: wants and byte reports.
pub fn attach_worker(shared: &Shared, port: MessagePort) {
    let weak = Rc::downgrade(shared);
    let listener = Listener::new(&port, "message", move |event| {
        let (Some(shared), Ok(event)) = (weak.upgrade(), event.dyn_into::<MessageEvent>()) else {
            return;
        };
        let data = event.data();
        let field = |k: &str| Reflect::get(&data, &k.into()).ok().and_then(|v| v.as_f64());
        let kind = Reflect::get(&data, &"t".into())
            .ok()
            .and_then(|v| v.as_string());
        if kind.as_deref() == Some("served") {
            let bytes = |k| field(k).map_or(0, |n| n.max(0.0) as u64);
            super::stats::served_by_worker(&shared, bytes("cache"), bytes("origin"));
            if let Ok(stored) = Reflect::get(&data, &"stored".into()) {
                offer_stored(&shared, &stored);
            }
        } else if let (Some(id), Some(asset), Some(start), Some(end), Some(ms)) = (
            field("id"),
            field("asset"),
            field("start"),
            field("end"),
            field("ms"),
        ) {
            worker_want(&shared, id, asset as u32, start as u64, end as u64, ms);
        }
    });
    port.start();
    let mut driver = shared.borrow_mut();
    driver.worker_port = Some(port);
    driver._port_listener = Some(listener);
}
