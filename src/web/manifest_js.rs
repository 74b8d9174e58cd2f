//! Reads `peercdn.json`, parsed by the browser's `JSON.parse`, into a
//! [`SiteManifest`] field by field.
//!
//! Why not serde: serde-wasm-bindgen and the derive code it drives (with
//! float formatting for its error messages) were about 30 KB of the wasm,
//! for one struct read once per worker start. Every check that matters
//! happens afterwards in [`SiteManifest::verify`]; this reader only refuses
//! values of the wrong type, naming the field.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::manifest::{SiteAsset, SiteManifest};

/// JS numbers are exact integers up to 2^53; anything larger is refused.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_991.0;

pub fn site_manifest(value: &JsValue) -> Result<SiteManifest, String> {
    Ok(SiteManifest {
        version: integer(value, "version")?
            .try_into()
            .map_err(|_| "version is too large".to_string())?,
        info_hash: string(value, "info_hash")?,
        piece_length: integer(value, "piece_length")?,
        info: string(value, "info")?,
        sha256: string(value, "sha256")?,
        url_list: match field(value, "url_list")? {
            v if v.is_undefined() => Vec::new(),
            _ => strings(value, "url_list")?,
        },
        assets: array(value, "assets")?
            .iter()
            .map(|asset| site_asset(&asset))
            .collect::<Result<_, _>>()?,
    })
}

fn site_asset(value: &JsValue) -> Result<SiteAsset, String> {
    Ok(SiteAsset {
        path: string(value, "path")?,
        content_type: string(value, "content_type")?,
        length: integer(value, "length")?,
    })
}

fn field(object: &JsValue, name: &str) -> Result<JsValue, String> {
    if !object.is_object() {
        return Err(format!("expected an object holding {name}"));
    }
    Reflect::get(object, &JsValue::from_str(name)).map_err(|_| format!("cannot read {name}"))
}

fn string(object: &JsValue, name: &str) -> Result<String, String> {
    field(object, name)?
        .as_string()
        .ok_or_else(|| format!("{name} must be a string"))
}

fn integer(object: &JsValue, name: &str) -> Result<u64, String> {
    match field(object, name)?.as_f64() {
        Some(n) if (0.0..=MAX_EXACT_INTEGER).contains(&n) && n.fract() == 0.0 => Ok(n as u64),
        _ => Err(format!("{name} must be a whole number from 0 to 2^53")),
    }
}

fn array(object: &JsValue, name: &str) -> Result<Array, String> {
    field(object, name)?
        .dyn_into::<Array>()
        .map_err(|_| format!("{name} must be an array"))
}

fn strings(object: &JsValue, name: &str) -> Result<Vec<String>, String> {
    array(object, name)?
        .iter()
        .map(|item| {
            item.as_string()
                .ok_or_else(|| format!("{name} must hold strings"))
        })
        .collect()
}
