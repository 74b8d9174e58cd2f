//! One-at-a-time turns for async work in one JS realm (an async mutex
//! without a crate): each caller waits for the turn before it to end.
//!
//! Used so that writes to Cache Storage each see the usage the previous
//! one left (a budget check racing other writes would let them all pass).
//! Invariant: a turn ends exactly once, when its [`Turn`] is dropped, so an
//! early return or an error never blocks the turns after it.

use std::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[derive(Default)]
pub struct Turns {
    /// Settles when the last turn handed out ends.
    tail: RefCell<Option<Promise>>,
}

/// The right to run until dropped.
pub struct Turn(Option<Function>);

impl Turns {
    /// Waits until every earlier turn has ended.
    pub async fn wait(&self) -> Turn {
        let mut end = None;
        let ended = Promise::new(&mut |resolve, _reject| end = Some(resolve));
        let before = self.tail.replace(Some(ended));
        if let Some(before) = before {
            // It only ever resolves.
            let _ = JsFuture::from(before).await;
        }
        Turn(end)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(end) = self.0.take() {
            let _ = end.call0(&JsValue::UNDEFINED);
        }
    }
}
