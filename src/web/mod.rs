//! Browser adapters (wasm32 only): the only code that touches `JsValue`.
//!
//! - [`worker`]: the service worker's entry points (`Worker`), called by the
//!   hand-written bootstrap `worker/sw.js`;
//! - [`context`]: the verified manifest and piece store a worker serves
//!   ([`manifest_js`] reads `peercdn.json`);
//! - [`source`]: the streamed body of an asset response;
//! - [`store`]: verified pieces in Cache Storage, within the storage budget
//!   ([`quota`] reads the estimate); [`origin`]: Range
//!   requests to the origin; [`js`]: conversions at the boundary.
//!
//! Thin by design: decisions (which pieces, which range, whether bytes are
//! right) are made by the core; this layer carries them out.

mod context;
mod global;
mod js;
mod leader;
mod listener;
mod manifest_js;
mod origin;
mod page;
mod quota;
mod sha256;
mod source;
mod store;
mod timer;
mod worker;

#[cfg(test)]
mod tests;

use wasm_bindgen::prelude::*;

/// Installs the panic hook once per module instance, so a panic prints its
/// message and location to the console instead of an opaque `unreachable`.
/// Hand-written rather than console_error_panic_hook: that crate also
/// appends the JS stack, which cost 0.46 KB gzip the size budget does not
/// have (README, "Size").
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
}

/// The allocator: talc, 2.7 KB (gzip) smaller in the wasm than the
/// standard library's dlmalloc. Its authors' wasm benchmarks have it
/// faster than dlmalloc; here it passes the browser tests that move
/// MB-sized pieces (not benchmarked on its own).
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
