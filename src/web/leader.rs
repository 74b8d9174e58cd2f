//! The service worker's link to the leader tab, which holds the peer
//! connections (a worker cannot). The leader sends a `MessagePort`; the
//! worker asks it for byte ranges of assets and waits, up to a deadline,
//! for `done`. The leader writes verified pieces to Cache Storage, where
//! the worker then reads (and checks) them: no byte is trusted because it
//! came from the leader.
//!
//! Messages (structured clone):
//! ```text
//! worker -> leader  {t: "want", id, asset, start, end, ms}   (inclusive bytes, deadline in ms)
//! leader -> worker  {t: "done", id, ok}
//! worker -> leader  {t: "served", cache, origin, stored}
//!                   (bytes the worker answered from Cache Storage and the
//!                   origin by itself; the pieces it fetched from the origin
//!                   and wrote, which the leader checks in the store and
//!                   then offers its peers)
//! ```
//! Invariant: every pending want is settled exactly once: by `done` or by
//! its deadline. When a new port comes (the leader tab navigated, and its
//! next page's leader took over; or another tab became the leader), the
//! wants still pending are sent again on it: the old port's tab may be gone,
//! and its messages with it (after an in-tab navigation, a page's requests
//! went to that dead port and then, failed, to the origin). Once the
//! bootstrap sees the leader's tab gone ([`LeaderLink::gone`]), wants wait
//! at most `REJOIN_MS` for the next port, then fail: a page without peercdn
//! brings no leader. A want made before the first port, in the worker's
//! first seconds, waits for it (its leader tab is likely still starting)
//! until its deadline.

use crate::sorted::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, MessagePort};

use super::listener::Listener;
use super::timer::set_timeout;

/// A worker's first milliseconds, in which a leader tab may still be
/// starting: a first visit's page asks for media as soon as the worker
/// controls it, before its leader has sent the port.
const LINK_GRACE_MS: f64 = 3_000.0;

/// How long, once the leader's port closed (its tab navigated or closed),
/// wants wait for the next leader's port before they fail and go to the
/// origin. Its next page's leader sent one within a second in the
/// navigation benchmark; a page without peercdn never sends one.
const REJOIN_MS: f64 = 2_000.0;

/// Each pending want's message (to send again on a new port) and the
/// resolver of its answer, by id.
type Pending = Rc<RefCell<PendingWants>>;
type PendingWants = SortedMap<u64, (Object, Function)>;
/// The leader's port, and its message listener.
type Port = Rc<RefCell<Option<(MessagePort, Listener)>>>;

#[derive(Default)]
pub struct LeaderLink {
    port: Port,
    pending: Pending,
    /// Until when a want without a port waits for one (the grace period
    /// at start, or [`REJOIN_MS`] after the port closed).
    waits_until: Rc<Cell<f64>>,
    next_id: Cell<u64>,
}

impl LeaderLink {
    /// Uses `port` from now on; the wants still pending are sent on it
    /// (their port's leader may be gone: see the module doc).
    pub fn set_port(&self, port: MessagePort) {
        let answers = answer_listener(&port, Rc::downgrade(&self.pending));
        port.start();
        // Wants made before any port (in the grace period), and those sent
        // on a port that is gone.
        for (message, _) in self.pending.borrow().values() {
            let _ = port.post_message(message);
        }
        self.port.replace(Some((port, answers)));
    }

    /// The leader's tab is gone (the bootstrap saw its client go: its tab
    /// navigated or closed, and its port went dead without a word): wants
    /// wait [`REJOIN_MS`] for the next leader's port, then fail.
    pub fn gone(&self) {
        if self.port.borrow_mut().take().is_none() {
            return;
        }
        self.waits_until.set(super::global::now_ms() + REJOIN_MS);
        let (link, pending) = (Rc::downgrade(&self.port), Rc::downgrade(&self.pending));
        let waits_until = self.waits_until.clone();
        wasm_bindgen_futures::spawn_local(async move {
            super::timer::sleep(REJOIN_MS).await;
            // Still without a port, and not given more time by a later
            // `gone` (a next leader that came and went again).
            let unlinked = link.upgrade().is_some_and(|l| l.borrow().is_none())
                && super::global::now_ms() >= waits_until.get();
            if let (true, Some(pending)) = (unlinked, pending.upgrade()) {
                fail_all(&pending);
            }
        });
    }

    /// Tells the leader (if any) how many bytes a response took from Cache
    /// Storage and from the origin without it, for the dashboard, and
    /// which pieces it fetched from the origin and stored.
    pub fn report_served(&self, cache: u64, origin: u64, stored: &[u64]) {
        if cache == 0 && origin == 0 && stored.is_empty() {
            return;
        }
        let message = Object::new();
        let pieces: js_sys::Array = stored.iter().map(|&p| JsValue::from(p as f64)).collect();
        for (key, value) in [
            ("t", JsValue::from("served")),
            ("cache", JsValue::from(cache as f64)),
            ("origin", JsValue::from(origin as f64)),
            ("stored", pieces.into()),
        ] {
            let _ = Reflect::set(&message, &key.into(), &value);
        }
        if let Some((port, _)) = self.port.borrow().as_ref() {
            let _ = port.post_message(&message);
        }
    }

    /// Asks the leader for bytes `start..=end` of asset number `asset`;
    /// true if it reports them stored before `ms` milliseconds pass.
    pub async fn want(&self, asset: usize, start: u64, end: u64, ms: f64) -> bool {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let message = Object::new();
        for (key, value) in [
            ("t", JsValue::from("want")),
            ("id", JsValue::from(id as f64)),
            ("asset", JsValue::from(asset as f64)),
            ("start", JsValue::from(start as f64)),
            ("end", JsValue::from(end as f64)),
            ("ms", JsValue::from(ms)),
        ] {
            let _ = Reflect::set(&message, &key.into(), &value);
        }
        let pending = self.pending.clone();
        let kept = message.clone();
        let answered = Promise::new(&mut |resolve, _| {
            pending.borrow_mut().insert(id, (kept.clone(), resolve));
        });
        // Without a port yet, the want waits for one (set_port sends it).
        let now = super::global::now_ms();
        let sent = match self.port.borrow().as_ref() {
            Some((port, _)) => port.post_message(&message).is_ok(),
            None => now < LINK_GRACE_MS || now < self.waits_until.get(),
        };
        if !sent {
            self.pending.borrow_mut().remove(&id);
            return false;
        }
        let timeout = Promise::new(&mut |resolve, _| {
            // The leader's deadline runs from when it gets the want, which
            // for a queued want is up to the grace period later: we wait
            // that much longer (the leader settles its wants by then).
            set_timeout(&resolve, ms + LINK_GRACE_MS);
        });
        let winner = JsFuture::from(Promise::race(&js_sys::Array::of2(&answered, &timeout))).await;
        self.pending.borrow_mut().remove(&id);
        matches!(winner, Ok(v) if v.is_truthy())
    }
}

/// Settles the wants answered on `port` (`{t: "done", id, ok}`).
fn answer_listener(port: &MessagePort, pending: std::rc::Weak<RefCell<PendingWants>>) -> Listener {
    Listener::new(port, "message", move |event| {
        let (Some(pending), Ok(event)) = (pending.upgrade(), event.dyn_into::<MessageEvent>())
        else {
            return;
        };
        let data = event.data();
        let id = Reflect::get(&data, &"id".into())
            .ok()
            .and_then(|v| v.as_f64());
        let ok = Reflect::get(&data, &"ok".into())
            .map(|v| v.is_truthy())
            .unwrap_or(false);
        let resolve = id.and_then(|id| pending.borrow_mut().remove(&(id as u64)));
        if let Some((_, resolve)) = resolve {
            let _ = resolve.call1(&JsValue::UNDEFINED, &ok.into());
        }
    })
}

/// Fails every pending want (its caller then goes to the origin).
fn fail_all(pending: &RefCell<PendingWants>) {
    let failed: Vec<Function> = std::mem::take(&mut *pending.borrow_mut())
        .into_values()
        .map(|(_, resolve)| resolve)
        .collect();
    for resolve in failed {
        let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
    }
}
