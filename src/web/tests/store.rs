//! The Cache Storage piece store: what goes in comes out verified, what is
//! missing or damaged reads as missing, and a new swarm drops the old one.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Response;

use super::support::*;
use crate::web::store::{delete_other_swarms, Stored};

#[wasm_bindgen_test]
async fn pieces_round_trip_through_cache_storage() {
    // 2.5 pieces: the last entry is shorter than a piece.
    let site = site(
        "store-round-trip",
        "a.bin",
        &pattern(2 * PIECE as usize + 5000, 1),
    );
    let store = fresh_store(&site).await;
    for piece in 0..3 {
        assert!(!store.has(piece).await.unwrap());
        assert_eq!(keep(&store, &site, piece).await, Stored::Written);
    }
    assert_eq!(store.cached().await.unwrap(), vec![0, 1, 2]);
    for piece in 0..3 {
        assert!(store.has(piece).await.unwrap());
        let got = store.get(&site.manifest, piece).await.unwrap();
        assert_eq!(got, Some(piece_bytes(&site, piece)), "piece {piece}");
    }
    assert_eq!(piece_bytes(&site, 2).len(), 5000);
}

#[wasm_bindgen_test]
async fn missing_and_damaged_pieces_read_as_missing() {
    let site = site("store-damaged", "a.bin", &pattern(2 * PIECE as usize, 2));
    let store = fresh_store(&site).await;
    assert_eq!(store.get(&site.manifest, 0).await.unwrap(), None);
    assert_eq!(store.get(&site.manifest, 99).await.unwrap(), None);

    // Another script of the origin overwrites piece 1 with other bytes of
    // the right length: the read refuses them and deletes the entry.
    keep(&store, &site, 1).await;
    let mut forged = piece_bytes(&site, 1);
    forged[100] ^= 0xff;
    let cache = JsFuture::from(
        crate::web::global::caches()
            .unwrap()
            .open(&swarm_cache(&site)),
    )
    .await
    .unwrap()
    .into();
    let forged =
        Response::new_with_opt_buffer_source(Some(&Uint8Array::from(&forged[..]))).unwrap();
    let key = format!("{}__peercdn/piece/1", scope());
    JsFuture::from(web_sys::Cache::put_with_str(&cache, &key, &forged))
        .await
        .unwrap();
    assert!(store.has(1).await.unwrap());
    assert_eq!(store.get(&site.manifest, 1).await.unwrap(), None);
    assert!(!store.has(1).await.unwrap(), "a damaged piece is deleted");
}

#[wasm_bindgen_test]
async fn a_new_swarm_deletes_the_old_pieces_only() {
    let old = site("store-old-swarm", "a.bin", &pattern(PIECE as usize, 3));
    let new = site("store-new-swarm", "a.bin", &pattern(PIECE as usize, 4));
    let old_store = fresh_store(&old).await;
    let new_store = fresh_store(&new).await;
    keep(&old_store, &old, 0).await;
    keep(&new_store, &new, 0).await;
    let caches = crate::web::global::caches().unwrap();
    // A cache of the site's own, not peercdn's: never touched.
    JsFuture::from(caches.open("site-own-cache")).await.unwrap();

    delete_other_swarms(&caches, &swarm_cache(&new))
        .await
        .unwrap();

    let has = |name: String| {
        let caches = caches.clone();
        async move { JsFuture::from(caches.has(&name)).await.unwrap().is_truthy() }
    };
    assert!(
        !has(swarm_cache(&old)).await,
        "the old swarm's cache is gone"
    );
    assert!(has(swarm_cache(&new)).await);
    assert!(has("site-own-cache".into()).await);
    let piece = new_store.get(&new.manifest, 0).await.unwrap();
    assert_eq!(piece, Some(piece_bytes(&new, 0)));
}
