//! Wants: the service worker's (answered on its port once the pieces are
//! in Cache Storage) and the leader's own background fetching of the rest
//! of the site, so it can serve later visitors.

use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MessageEvent, MessagePort};

use super::driver::{input, now, Driver, Shared};
use crate::engine::{Ended, Input, Time, WantError, WantId};
use crate::web::global::now_ms;
use crate::web::js::settle;
use crate::web::listener::Listener;

/// A want is done: once its pieces are written, tell the worker, and look
/// for the next background wants (any want's end may make room for them).
/// It waits for every write still pending,
/// not only those since the last want finished: wants share pieces, and a
/// background want finishing first took this want's writes with it, so
/// the worker, told "done", could read a piece not yet in Cache Storage
/// and fetch it from the origin (the likely cause of the single origin
/// piece the demo test saw twice in a full run). Each answer's promise
/// holds the previous one's results: a few bytes per want, kept for the
/// tab's life.
pub fn finished(shared: &Shared, id: WantId, result: Result<(), WantError>) {
    let (request, written, port) = {
        let mut driver = shared.borrow_mut();
        let request = driver.wants.remove(&id).flatten();
        if let Ended::Failed { asset, error } = driver.background.ended(id, result) {
            warn_given_up(&driver, asset, error);
        }
        let writes: js_sys::Array = driver.writes.drain(..).collect();
        let written = Promise::all_settled(&writes);
        // The next want to finish waits for these writes too.
        driver.writes.push(written.clone());
        (request, written, driver.worker_port.clone())
    };
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        let _ = settle(written).await;
        if let (Some(request), Some(port)) = (request, port) {
            reply(&port, request, result.is_ok());
        }
        if let Some(shared) = weak.upgrade() {
            prefetch_next(&shared);
        }
    });
}

/// A background fetch that stops says why (the dashboard counts them).
fn warn_given_up(driver: &Driver, asset: u32, error: WantError) {
    let why = match error {
        WantError::OriginFailed => "the origin failed",
        WantError::NoSuchAsset | WantError::BadRange => "not in the manifest",
        WantError::TooManyWants => "no room",
    };
    let path = driver
        .manifest
        .assets
        .get(asset as usize)
        .map_or("?", |a| a.path.as_str());
    let message = format!("peercdn: background fetch of /{path} given up: {why}");
    web_sys::console::warn_1(&message.into());
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

/// Background wants while the core's policy (`Background`) allows: the
/// worker's wants come first in the engine's order anyway, and keep
/// their reserve of the engine's want slots.
pub fn prefetch_next(shared: &Shared) {
    loop {
        let next = {
            let mut driver = shared.borrow_mut();
            if !driver.prefetch_started {
                return;
            }
            let room = driver.engine.want_room();
            let id = driver.next_want;
            let Some(asset) = driver.background.next(id, room) else {
                return;
            };
            let length = driver
                .manifest
                .assets
                .get(asset as usize)
                .map_or(0, |a| a.length);
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
