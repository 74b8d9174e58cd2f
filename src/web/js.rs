//! Small conversions at the JS boundary: the one place where browser errors
//! (`JsValue`) become messages, and promises become futures.

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Errors in `src/web` are JS values (what the browser throws), or ours.
pub type JsResult<T> = Result<T, JsValue>;

/// A JS `Error` carrying our message.
pub fn error(message: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(message.as_ref()).into()
}

/// Awaits a promise and casts its value, failing with a clear message when
/// the browser hands back something else.
pub async fn resolve<T: JsCast>(promise: Promise, what: &str) -> JsResult<T> {
    let value = JsFuture::from(promise).await?;
    value
        .dyn_into::<T>()
        .map_err(|_| error(format!("peercdn: {what} returned an unexpected value")))
}

/// Awaits a promise whose value does not matter.
pub async fn settle(promise: Promise) -> JsResult<()> {
    JsFuture::from(promise).await.map(|_| ())
}
