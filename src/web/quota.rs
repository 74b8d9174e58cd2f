//! The origin's storage as `navigator.storage.estimate()` reports it, and
//! how a quota failure looks when the browser throws it.
//!
//! `estimate()` resolves to a plain object (`{usage, quota, ...}`), not to an
//! instance of a `StorageEstimate` class, so its fields are read with
//! `Reflect`: an `instanceof` check (`dyn_into`) always fails on it.

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::js::{error, JsResult};

/// Bytes the origin uses and may use, as far as the browser says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    pub usage: u64,
    pub quota: u64,
}

/// Reads `navigator.storage.estimate()`. A missing field counts as no usage
/// or no limit: the browser then enforces its quota by failing writes.
pub async fn estimate() -> JsResult<Estimate> {
    let value = JsFuture::from(super::global::storage()?.estimate()?).await?;
    if !value.is_object() {
        return Err(error("peercdn: storage.estimate returned no object"));
    }
    let number = |key: &str| Reflect::get(&value, &key.into()).ok()?.as_f64();
    Ok(Estimate {
        usage: number("usage").map_or(0, |n| n as u64),
        quota: number("quota").map_or(u64::MAX, |n| n as u64),
    })
}

/// Whether `e` is the browser's QuotaExceededError (a `DOMException`; its
/// `name` is the stable part).
pub fn is_quota_error(e: &JsValue) -> bool {
    Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "QuotaExceededError")
}
