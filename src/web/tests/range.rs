//! Range requests answered by the worker's `respond`: slices over piece
//! boundaries with the right bytes and headers, 416 past the end, and
//! pieces from the origin verified and kept within the budget.

use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Response;

use super::support::*;
use crate::manifest::InMemorySite;
use crate::web::global::fetch;
use crate::web::worker::respond;

/// 3.5 pieces, every piece cached, served by a worker context.
async fn cached_site(name: &str) -> (InMemorySite, std::rc::Rc<crate::web::context::Context>) {
    let site = site(
        name,
        "video.bin",
        &pattern(3 * PIECE as usize + PIECE as usize / 2, 10),
    );
    let store = fresh_store(&site).await;
    for piece in 0..4 {
        keep(&store, &site, piece).await;
    }
    let context = context(&site, store, scope());
    (site, context)
}

/// Answers `range` for the site's asset; the body and its end awaited.
async fn answer(
    context: &std::rc::Rc<crate::web::context::Context>,
    range: Option<&str>,
) -> (Response, Vec<u8>) {
    let asset = context.manifest.assets[0].clone();
    let url = context.asset_url(&asset);
    let (response, done) = respond(context.clone(), &get(&url, range), asset)
        .await
        .unwrap();
    let bytes = body(&response).await;
    if let Some(done) = done {
        settled(done).await;
    }
    (response, bytes)
}

#[wasm_bindgen_test]
async fn ranges_are_sliced_exactly_over_piece_boundaries() {
    let (site, context) = cached_site("range-slices").await;
    let asset = asset(&site);
    let len = asset.length;
    let data = &site.bytes[..len as usize];
    let cases = [
        ("bytes=10000-40000", 10000, 40000), // across pieces 0, 1, 2
        ("bytes=16383-16384", 16383, 16384), // the last byte of one, first of the next
        ("bytes=32768-", 32768, len - 1),    // from a boundary to the short last piece
        ("bytes=-100", len - 100, len - 1),
        ("bytes=0-999999", 0, len - 1), // the end clamped to the asset
    ];
    for (range, start, end) in cases {
        let (response, bytes) = answer(&context, Some(range)).await;
        assert_eq!(response.status(), 206, "{range}");
        let content_range = format!("bytes {start}-{end}/{len}");
        assert_eq!(header(&response, "Content-Range"), Some(content_range));
        let length = (end - start + 1).to_string();
        assert_eq!(header(&response, "Content-Length"), Some(length));
        assert_eq!(header(&response, "Accept-Ranges").as_deref(), Some("bytes"));
        assert!(
            bytes == data[start as usize..=end as usize],
            "bytes of {range}"
        );
    }
}

#[wasm_bindgen_test]
async fn no_range_gets_the_whole_asset_and_past_the_end_gets_416() {
    let (site, context) = cached_site("range-whole-416").await;
    let len = asset(&site).length;
    for range in [None, Some("bytes=0-1,5-6")] {
        let (response, bytes) = answer(&context, range).await;
        assert_eq!(response.status(), 200, "{range:?}");
        assert_eq!(header(&response, "Content-Range"), None);
        assert!(
            bytes == site.bytes[..len as usize],
            "whole body for {range:?}"
        );
    }
    for range in [format!("bytes={len}-"), "bytes=-0".to_string()] {
        let (response, bytes) = answer(&context, Some(&range)).await;
        assert_eq!(response.status(), 416, "{range}");
        let unsatisfiable = format!("bytes */{len}");
        assert_eq!(header(&response, "Content-Range"), Some(unsatisfiable));
        assert!(bytes.is_empty());
    }
}

/// The site of the fixture file that wasm-bindgen-test-runner serves from
/// the package directory: the origin of these tests.
async fn origin_site(name: &str) -> InMemorySite {
    let path = "tests/fixtures/site/img/pattern.bin"; // 40000 bytes: 3 pieces
    let request = get(&format!("{}{path}", scope()), None);
    let response: Response = JsFuture::from(fetch(&request).unwrap())
        .await
        .unwrap()
        .into();
    assert_eq!(response.status(), 200, "the runner serves {path}");
    site(name, path, &body(&response).await)
}

#[wasm_bindgen_test]
async fn origin_pieces_are_verified_and_kept_within_the_budget() {
    let site = origin_site("range-origin-budget").await;
    let store = fresh_store(&site).await;
    // Room for two of the three pieces.
    store.set_cap(crate::web::quota::estimate().await.unwrap().usage + 2 * (PIECE + 1024));
    let context = context(&site, store, scope());
    let (response, bytes) = answer(&context, Some("bytes=100-")).await;
    assert_eq!(response.status(), 206);
    assert!(bytes == site.bytes[100..40000]);
    // Written in order, the budget evicting the oldest: pieces 1 and 2 stay.
    assert_eq!(context.store.cached().await.unwrap(), vec![1, 2]);
    let piece = context.store.get(&site.manifest, 2).await.unwrap();
    assert_eq!(piece, Some(piece_bytes(&site, 2)));
}

#[wasm_bindgen_test]
async fn a_quota_error_while_caching_never_reaches_the_response() {
    let site = origin_site("range-origin-quota").await;
    let store = fresh_store(&site).await;
    let context = context(&site, store, scope());
    // Both tries of the first write fail; the others succeed.
    fail_next_puts(2);
    let (response, bytes) = answer(&context, None).await;
    assert_eq!(response.status(), 200);
    assert!(bytes == site.bytes[..40000]);
    assert_eq!(context.store.cached().await.unwrap(), vec![1, 2]);
}
