//! Browser adapters (wasm32 only): the only code that touches `JsValue`.
//!
//! For now the manifest check the service worker will run first; the worker
//! and page controller arrive with the browser runtime.

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
