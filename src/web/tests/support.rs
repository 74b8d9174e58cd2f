//! What the browser tests share: sites built in memory, a fresh piece store
//! per test, a worker context around them, and ways to read responses.
//! Test code: `unwrap` is the assertion that a browser call succeeded.

use std::rc::Rc;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response, ServiceWorkerGlobalScope};

use crate::encoding::hex_encode;
use crate::manifest::{in_memory_site, AssetEntry, InMemorySite};
use crate::web::context::Context;
use crate::web::leader::LeaderLink;
use crate::web::store::{cache_name, PieceStore};

/// The smallest piece length a manifest allows.
pub const PIECE: u64 = 16 * 1024;

/// Deterministic bytes that differ at every offset of a piece, so a slice
/// taken from the wrong place or piece never compares equal by accident.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

/// A one-asset site named `name` (the name makes its info hash, so its
/// cache, unique to the test).
pub fn site(name: &str, path: &str, bytes: &[u8]) -> InMemorySite {
    in_memory_site(name, &[(path, "application/octet-stream", bytes)], PIECE).unwrap()
}

/// This worker's scope (`http://127.0.0.1:<port>/`), which piece keys live under.
pub fn scope() -> String {
    js_sys::global()
        .unchecked_into::<ServiceWorkerGlobalScope>()
        .registration()
        .scope()
}

pub fn swarm_cache(site: &InMemorySite) -> String {
    cache_name(&hex_encode(&site.manifest.info_hash))
}

/// The piece store of `site`, emptied first.
pub async fn fresh_store(site: &InMemorySite) -> PieceStore {
    let caches = crate::web::global::caches().unwrap();
    JsFuture::from(caches.delete(&swarm_cache(site)))
        .await
        .unwrap();
    let hex = hex_encode(&site.manifest.info_hash);
    PieceStore::open(&caches, &scope(), &hex).await.unwrap()
}

/// The asset bytes of piece `index` (no padding), as the store keeps them.
pub fn piece_bytes(site: &InMemorySite, index: u64) -> Vec<u8> {
    let span = site.manifest.piece_span(index).unwrap();
    let start = (index * PIECE) as usize;
    site.bytes[start..start + span.data_len as usize].to_vec()
}

/// Writes piece `index` of `site` with the production write path.
pub async fn keep(
    store: &PieceStore,
    site: &InMemorySite,
    index: u64,
) -> crate::web::store::Stored {
    let body = Uint8Array::from(piece_bytes(site, index).as_slice());
    store.put_within_budget(&site.manifest, index, &body).await
}

/// A worker context serving `site` from `store` at `scope`, as
/// `Context::from_text` builds it from a fetched manifest.
pub fn context(site: &InMemorySite, store: PieceStore, scope: String) -> Rc<Context> {
    Rc::new(Context {
        scope,
        manifest: Rc::new(site.manifest.clone()),
        info_hash_hex: hex_encode(&site.manifest.info_hash),
        store: Rc::new(store),
        leader: LeaderLink::default(),
    })
}

pub fn asset(site: &InMemorySite) -> AssetEntry {
    site.manifest.assets[0].clone()
}

/// A GET of `url` with this `Range` header, if any.
pub fn get(url: &str, range: Option<&str>) -> Request {
    let request = Request::new_with_str_and_init(url, &RequestInit::new()).unwrap();
    if let Some(range) = range {
        request.headers().set("Range", range).unwrap();
    }
    request
}

/// The whole body of `response`, read through its stream.
pub async fn body(response: &Response) -> Vec<u8> {
    let buffer = JsFuture::from(response.array_buffer().unwrap())
        .await
        .unwrap();
    Uint8Array::new(&buffer).to_vec()
}

pub fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).unwrap()
}

pub async fn settled(promise: Promise) {
    JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen(inline_js = r#"
export function fail_next_puts(count) {
  const put = Cache.prototype.put;
  let left = count;
  Cache.prototype.put = function (...args) {
    if (left === 0) {
      Cache.prototype.put = put;
      return put.apply(this, args);
    }
    left -= 1;
    return Promise.reject(new DOMException('test: quota', 'QuotaExceededError'));
  };
}
"#)]
extern "C" {
    /// Makes the next `count` `Cache.put` calls of this worker reject with
    /// the QuotaExceededError a full origin gets (browsers offer no way to
    /// shrink a quota); later calls reach the real Cache Storage again.
    pub fn fail_next_puts(count: u32);
}
