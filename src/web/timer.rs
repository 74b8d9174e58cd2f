//! Timers and event waits as futures, for async code in the page and the
//! worker.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::EventTarget;

use super::listener::Listener;

/// Calls `setTimeout(callback, ms)` on whichever global this is; returns the
/// timer id.
pub fn set_timeout(callback: &Function, ms: f64) -> i32 {
    let global = js_sys::global();
    let set = Reflect::get(&global, &"setTimeout".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    set.and_then(|f| {
        f.call2(&global, callback, &JsValue::from_f64(ms.max(0.0)))
            .ok()
    })
    .and_then(|id| id.as_f64())
    .map_or(0, |id| id as i32)
}

pub fn clear_timeout(id: i32) {
    let global = js_sys::global();
    if let Ok(clear) =
        Reflect::get(&global, &"clearTimeout".into()).and_then(|f| f.dyn_into::<Function>())
    {
        let _ = clear.call1(&global, &JsValue::from(id));
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// Waits until `ready()` is true, re-checking on each `kind` event of
/// `target`; gives up (returns false) after `timeout_ms`. Takes `ready`
/// boxed: one copy of this future's code for every caller (a generic
/// closure made one per call site, some 100 B each in the wasm).
pub async fn wait_until(
    target: &EventTarget,
    kind: &'static str,
    ready: Box<dyn Fn() -> bool>,
    timeout_ms: f64,
) -> bool {
    if ready() {
        return true;
    }
    let resolver: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
    let promise = {
        let resolver = resolver.clone();
        Promise::new(&mut move |resolve, _| *resolver.borrow_mut() = Some(resolve))
    };
    let check = resolver.clone();
    let _listener = Listener::new(target, kind, move |_| {
        if ready() {
            if let Some(resolve) = check.borrow_mut().take() {
                let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
            }
        }
    });
    let timeout = resolver.clone();
    let on_timeout = Closure::once_into_js(move || {
        if let Some(resolve) = timeout.borrow_mut().take() {
            let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
        }
    });
    let timer = set_timeout(on_timeout.unchecked_ref(), timeout_ms);
    let result = JsFuture::from(promise).await;
    clear_timeout(timer);
    matches!(result, Ok(v) if v.is_truthy())
}
