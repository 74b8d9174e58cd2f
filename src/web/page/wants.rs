//! Wants: the service worker's (answered on its port once the pieces are
//! in Cache Storage) and the leader's own background fetching of the rest
//! of the site, so it can serve later visitors.

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort};

use super::driver::{input, now, Shared};
use crate::engine::{Input, Time, WantId};
use crate::web::global::now_ms;
use crate::web::js::settle;
use crate::web::listener::Listener;

/// Background (prefetch) wants in flight at once.
const PREFETCH_WANTS: usize = 8;

/// A want is done: once its pieces are written, tell the worker (or start
/// the next background fetch). It waits for every write still pending,
/// not only those since the last want finished: wants share pieces, and a
/// background want finishing first took this want's writes with it, so
/// the worker, told "done", could read a piece not yet in Cache Storage
/// and fetch it from the origin (the likely cause of the single origin
/// piece the demo test saw twice in a full run). Each answer's promise
/// holds the previous one's results: a few bytes per want, kept for the
/// tab's life.
pub fn finished(shared: &Shared, id: WantId, ok: bool) {
    let (request, written, port) = {
        let mut driver = shared.borrow_mut();
        let request = driver.wants.remove(&id).flatten();
        let writes: js_sys::Array = driver.writes.drain(..).collect();
        let written = Promise::all_settled(&writes);
        // The next want to finish waits for these writes too.
        driver.writes.push(written.clone());
        (request, written, driver.worker_port.clone())
    };
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        let _ = settle(written).await;
        match (request, port) {
            (Some(request), Some(port)) => reply(&port, request, ok),
            _ => {
                if let Some(shared) = weak.upgrade() {
                    prefetch_next(&shared);
                }
            }
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

/// Begins the background fetching (once; later calls do nothing).
pub fn start_prefetch(shared: &Shared) {
    let first = !std::mem::replace(&mut shared.borrow_mut().prefetch_started, true);
    if first {
        prefetch_next(shared);
    }
}

/// Background wants, up to [`PREFETCH_WANTS`] at once, until every asset
/// is here: the worker's wants come first in the engine's order anyway.
pub fn prefetch_next(shared: &Shared) {
    loop {
        let next = {
            let mut driver = shared.borrow_mut();
            let active = driver.wants.values().filter(|w| w.is_none()).count();
            if active >= PREFETCH_WANTS {
                return;
            }
            let Some(asset) = driver.prefetch_queue.pop() else {
                return;
            };
            let length = driver
                .manifest
                .assets
                .get(asset as usize)
                .map_or(0, |a| a.length);
            if length == 0 {
                continue;
            }
            let id = driver.next_want;
            driver.next_want += 1;
            driver.wants.insert(id, None);
            (id, asset, length)
        };
        let (id, asset, length) = next;
        let deadline = now().after(std::time::Duration::from_secs(600));
        input(
            shared,
            Input::Want {
                id,
                asset,
                start: 0,
                end: length,
                deadline,
            },
        );
    }
}

/// A want from the service worker: `{t: "want", id, asset, start, end, ms}`.
pub fn worker_want(shared: &Shared, request: f64, asset: u32, start: u64, end: u64, ms: f64) {
    let id = {
        let mut driver = shared.borrow_mut();
        let id = driver.next_want;
        driver.next_want += 1;
        driver.wants.insert(id, Some(request));
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
