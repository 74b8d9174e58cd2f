//! Each piece's second check, SHA-256 by the browser's `crypto.subtle`:
//! BitTorrent's SHA-1 is kept for the torrent and stock clients, but its
//! collisions are practical for whoever can choose both files (a site
//! serving its users' uploads), so no piece is served, cached or uploaded
//! unless its SHA-256 is the manifest's too. The digest is over the same
//! bytes as the SHA-1: the piece's asset bytes, then zeros to its hashed
//! length (BEP 47 padding).

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use super::js::{resolve, JsResult};
use crate::manifest::VerifiedManifest;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = digest)]
    fn digest(algorithm: &str, data: &Uint8Array) -> Promise;
}

/// Whether `data`, the asset bytes of `piece` (a JS view: a piece read
/// from Cache Storage is hashed where it lies, not copied out of wasm
/// again), has the manifest's SHA-256.
pub async fn piece_sha256_matches(
    manifest: &VerifiedManifest,
    piece: u64,
    data: &Uint8Array,
) -> JsResult<bool> {
    let (Some(span), Some(expected)) = (
        manifest.piece_span(piece),
        manifest.piece_sha256.get(piece as usize),
    ) else {
        return Ok(false);
    };
    let length = u64::from(data.length());
    if length > span.hashed_len {
        return Ok(false);
    }
    let hashed = if length == span.hashed_len {
        data.clone()
    } else {
        // An asset's last piece: zeros to the hashed length (a new array
        // is zeroed, so the padding is there already).
        let padded = Uint8Array::new_with_length(span.hashed_len as u32);
        padded.set(data, 0);
        padded
    };
    let value =
        resolve::<js_sys::ArrayBuffer>(digest("SHA-256", &hashed), "crypto.subtle.digest").await?;
    Ok(Uint8Array::new(&value).to_vec() == expected.as_slice())
}
