//! Event listeners that remove themselves when dropped, so every closure
//! handed to the browser is owned by the Rust value it serves
//! (`Closure::forget` only for once-per-lifetime listeners).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Listens for `kind` events on `target` until dropped.
    pub fn new<T, F>(target: &T, kind: &'static str, handler: F) -> Listener
    where
        T: AsRef<EventTarget>,
        F: FnMut(Event) + 'static,
    {
        let closure = Closure::<dyn FnMut(Event)>::new(handler);
        let target: EventTarget = target.as_ref().clone();
        // Adding a listener to a live target cannot fail in practice; if it
        // did, the handler would simply never run.
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        Listener {
            target,
            kind,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
    }
}
