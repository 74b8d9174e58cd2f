//! The storage budget: the estimate is read, the budget holds, pieces go in
//! LRU order, and a QuotaExceededError never escapes.

use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use wasm_bindgen_test::wasm_bindgen_test;

use super::support::*;
use crate::manifest::InMemorySite;
use crate::web::quota::estimate;
use crate::web::store::{PieceStore, Stored};

/// What one piece entry may cost in the budget (body plus the store's
/// allowance for its URL and headers).
const ENTRY: u64 = PIECE + 1024;

async fn usage() -> u64 {
    estimate().await.unwrap().usage
}

#[wasm_bindgen_test]
async fn the_estimate_is_read_from_the_plain_object_the_browser_returns() {
    // `make_room` used to cast this object to `StorageEstimate` (an
    // instanceof check a plain object fails) and so always erred.
    let site = site("evict-estimate", "a.bin", &pattern(PIECE as usize, 5));
    let store = fresh_store(&site).await;
    let before = estimate().await.unwrap();
    assert!(before.quota > before.usage, "{before:?}");
    store.make_room(&site.manifest, PIECE).await.unwrap();
    keep(&store, &site, 0).await;
    assert!(
        usage().await >= before.usage + PIECE,
        "the write shows in the usage"
    );
}

#[wasm_bindgen_test]
async fn the_budget_holds_and_the_least_recently_used_pieces_go() {
    let site = site("evict-lru", "a.bin", &pattern(8 * PIECE as usize, 6));
    let store = fresh_store(&site).await;
    let cap = usage().await + 3 * ENTRY;
    store.set_cap(cap);
    for piece in 0..3 {
        assert_eq!(keep(&store, &site, piece).await, Stored::Written);
    }
    assert_eq!(store.cached().await.unwrap(), vec![0, 1, 2]);
    // Reading piece 0 makes piece 1 the least recently used.
    assert!(store.get(&site.manifest, 0).await.unwrap().is_some());
    keep(&store, &site, 3).await;
    assert_eq!(store.cached().await.unwrap(), vec![0, 2, 3]);
    assert!(usage().await <= cap);
    keep(&store, &site, 4).await;
    assert_eq!(store.cached().await.unwrap(), vec![0, 3, 4]);
    assert!(usage().await <= cap);
    // make_room itself frees what is asked beyond the budget: two entries.
    store.make_room(&site.manifest, 2 * ENTRY).await.unwrap();
    assert_eq!(store.cached().await.unwrap(), vec![4]);
}

#[wasm_bindgen_test]
async fn pieces_from_an_earlier_worker_go_first_oldest_first() {
    let site = site(
        "evict-earlier-life",
        "a.bin",
        &pattern(6 * PIECE as usize, 7),
    );
    let earlier = fresh_store(&site).await;
    keep(&earlier, &site, 0).await;
    keep(&earlier, &site, 1).await;
    // A new worker: same cache, no memory of what was used when.
    let hex = crate::encoding::hex_encode(&site.manifest.info_hash);
    let caches = crate::web::global::caches().unwrap();
    let store = crate::web::store::PieceStore::open(&caches, &scope(), &hex)
        .await
        .unwrap();
    // Room for what is cached now and no more: each write evicts one.
    store.set_cap(usage().await);
    keep(&store, &site, 2).await;
    assert_eq!(store.cached().await.unwrap(), vec![1, 2]);
    keep(&store, &site, 3).await;
    assert_eq!(store.cached().await.unwrap(), vec![2, 3]);
}

#[wasm_bindgen_test]
async fn a_quota_error_evicts_and_retries_once() {
    let site = site(
        "evict-quota-retry",
        "a.bin",
        &pattern(4 * PIECE as usize, 8),
    );
    let store = fresh_store(&site).await;
    for piece in 0..3 {
        keep(&store, &site, piece).await;
    }
    assert!(store.get(&site.manifest, 0).await.unwrap().is_some());
    fail_next_puts(1);
    assert_eq!(keep(&store, &site, 3).await, Stored::WrittenAfterEviction);
    assert_eq!(
        store.cached().await.unwrap(),
        vec![0, 2, 3],
        "piece 1 was the LRU"
    );
    let got = store.get(&site.manifest, 3).await.unwrap();
    assert_eq!(got, Some(piece_bytes(&site, 3)));
}

#[wasm_bindgen_test]
async fn a_second_quota_error_drops_the_write_quietly() {
    let site = site("evict-quota-drop", "a.bin", &pattern(3 * PIECE as usize, 9));
    let store = fresh_store(&site).await;
    keep(&store, &site, 0).await;
    keep(&store, &site, 1).await;
    fail_next_puts(2);
    assert_eq!(keep(&store, &site, 2).await, Stored::Dropped);
    assert_eq!(
        store.cached().await.unwrap(),
        vec![1],
        "one eviction, then no write"
    );
    assert_eq!(store.get(&site.manifest, 2).await.unwrap(), None);
    // The next write reaches Cache Storage again.
    assert_eq!(keep(&store, &site, 2).await, Stored::Written);
}

/// Writes `pieces` from concurrent callers, as the worker and the leader
/// do; whether each caller saw its piece written at the first try.
async fn keep_concurrently(
    store: &Rc<PieceStore>,
    site: &Rc<InMemorySite>,
    pieces: &[u64],
) -> Vec<bool> {
    let calls: Array = pieces
        .iter()
        .map(|&piece| {
            let (store, site) = (store.clone(), site.clone());
            future_to_promise(async move {
                let stored = keep(&store, &site, piece).await;
                Ok(JsValue::from(stored == Stored::Written))
            })
        })
        .collect();
    let written: Array = JsFuture::from(Promise::all(&calls)).await.unwrap().into();
    written.iter().map(|w| w.is_truthy()).collect()
}

#[wasm_bindgen_test]
async fn concurrent_writes_make_room_for_their_whole_batch() {
    let site = Rc::new(site(
        "evict-batch",
        "a.bin",
        &pattern(6 * PIECE as usize, 11),
    ));
    let store = Rc::new(fresh_store(&site).await);
    let cap = usage().await + 4 * ENTRY;
    store.set_cap(cap);
    keep(&store, &site, 0).await;
    let outcomes = keep_concurrently(&store, &site, &[1, 2, 3]).await;
    assert_eq!(outcomes, vec![true; 3]);
    assert_eq!(store.cached().await.unwrap(), vec![0, 1, 2, 3]);
    // Two more at once: room is made for both before either is put.
    let outcomes = keep_concurrently(&store, &site, &[4, 5]).await;
    assert_eq!(outcomes, vec![true; 2]);
    assert_eq!(store.cached().await.unwrap(), vec![2, 3, 4, 5]);
    assert!(usage().await <= cap);
}
