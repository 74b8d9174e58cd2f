//! Browser adapters (wasm32 only): the only code that touches `JsValue`.
//!
//! - [`worker`]: the service worker's entry points (`Worker`), called by the
//!   hand-written bootstrap `worker/sw.js`;
//! - [`context`]: the verified manifest and piece store a worker serves;
//! - [`source`]: the streamed body of an asset response;
//! - [`store`]: verified pieces in Cache Storage; [`origin`]: Range
//!   requests to the origin; [`js`]: conversions at the boundary.
//!
//! Thin by design: decisions (which pieces, which range, whether bytes are
//! right) are made by the core; this layer carries them out.

mod context;
mod global;
mod js;
mod leader;
mod listener;
mod origin;
mod page;
mod source;
mod store;
mod timer;
mod worker;

use wasm_bindgen::prelude::*;

use crate::manifest::SiteManifest;

/// Installs the panic hook once per module instance, so a panic prints its
/// message to the console instead of an opaque `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Checks a parsed `peercdn.json` (the object from `JSON.parse`) against its
/// own info dictionary; returns the info hash in hex.
#[wasm_bindgen(js_name = verifyManifest)]
pub fn verify_manifest(manifest: JsValue) -> Result<String, JsError> {
    let manifest: SiteManifest = serde_wasm_bindgen::from_value(manifest)?;
    let verified = manifest.verify()?;
    Ok(crate::encoding::hex_encode(&verified.info_hash))
}
