//! The origin as the source of last resort (a BEP 19 web seed): one HTTP
//! Range request for a run of consecutive pieces of one asset.
//!
//! Invariant: bytes leave this module only piece by piece, each having
//! matched its hash; a piece that does not match is an error (the origin or
//! something between it and us is broken) and is never returned.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Request, RequestCache, RequestInit, Response};

use super::js::{error, resolve, JsResult};
use crate::manifest::VerifiedManifest;

/// A request header that tells peercdn's worker to let a fetch through to
/// the network: it is peercdn's own origin (web seed) request.
pub const ORIGIN_MARK: &str = "X-Peercdn-Origin";

/// Ranges at least this long skip the browser's HTTP cache. Measured with
/// the demo site (one visitor, /_peercdn/stats): through the cache,
/// Chromium fetched 5-7 of the leader's 2 MiB runs of the 32 MiB download
/// twice and the video's runs likewise (1.3-1.4 copies of the site from
/// the origin); with `no-store`, exactly one copy. Small assets keep the
/// cache: the page has usually just loaded them, so a run costs nothing.
const BYPASS_HTTP_CACHE_BYTES: u64 = 1024 * 1024;

/// Fetches pieces `first..=last` of the asset at `url` (all pieces of that
/// one asset) and returns each with its verified bytes.
pub async fn fetch_pieces(
    manifest: &VerifiedManifest,
    url: &str,
    first: u64,
    last: u64,
) -> JsResult<Vec<(u64, Vec<u8>)>> {
    let (Some(head), Some(tail)) = (manifest.piece_span(first), manifest.piece_span(last)) else {
        return Err(error("peercdn: piece out of range"));
    };
    let start = head.asset_offset;
    let end = tail.asset_offset + tail.data_len - 1;
    let body = fetch_range(url, start, end).await?;
    let mut pieces = Vec::with_capacity((last - first + 1) as usize);
    let mut at = 0usize;
    for piece in first..=last {
        let span = manifest
            .piece_span(piece)
            .ok_or_else(|| error("peercdn: piece out of range"))?;
        let data = body
            .get(at..at + span.data_len as usize)
            .ok_or_else(|| error(format!("peercdn: origin sent too few bytes for {url}")))?;
        if !manifest.piece_matches(piece, data)
            || !super::sha256::piece_sha256_matches(manifest, piece, &Uint8Array::from(data))
                .await?
        {
            return Err(error(format!(
                "peercdn: piece {piece} from the origin failed its hash check"
            )));
        }
        pieces.push((piece, data.to_vec()));
        at += span.data_len as usize;
    }
    Ok(pieces)
}

/// The bytes `start..=end` of `url`, whole.
pub async fn fetch_range(url: &str, start: u64, end: u64) -> JsResult<Vec<u8>> {
    let mut bytes = Vec::with_capacity((end - start + 1) as usize);
    stream_range(url, start, end, &mut |chunk| bytes.extend_from_slice(chunk)).await?;
    Ok(bytes)
}

/// Hands the bytes `start..=end` of `url` to `chunk` as they arrive: from
/// a 206, or cut out of a 200 when the server ignores Range. Streaming lets
/// the leader verify and announce each piece as soon as it is here rather
/// than once the whole run is (other visitors wait on those announcements).
/// An error after some chunks means the rest did not come.
pub async fn stream_range(
    url: &str,
    start: u64,
    end: u64,
    // `dyn`: one copy of this async fn in the wasm for both callers.
    chunk: &mut dyn FnMut(&[u8]),
) -> JsResult<()> {
    let init = RequestInit::new();
    if end - start >= BYPASS_HTTP_CACHE_BYTES {
        init.set_cache(RequestCache::NoStore);
    }
    let request = Request::new_with_str_and_init(url, &init)?;
    let headers = request.headers();
    headers.set("Range", &format!("bytes={start}-{end}"))?;
    // The leader tab is itself a controlled page: without the mark its
    // origin fetches went to our own worker, which asked the leader for the
    // same pieces and went to the origin only after its 5 s deadline.
    headers.set(ORIGIN_MARK, "1")?;
    let response = resolve::<Response>(super::global::fetch(&request)?, "fetch").await?;
    // Bytes of the body before the range (a 200 is the whole asset).
    let skip = match response.status() {
        206 => 0,
        200 => start,
        status => {
            return Err(error(format!(
                "peercdn: origin answered {status} for {url}"
            )))
        }
    };
    let body = response
        .body()
        .ok_or_else(|| error(format!("peercdn: origin sent no body for {url}")))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let wanted = end - start + 1;
    let (mut at, mut sent) = (0u64, 0u64);
    while sent < wanted {
        let next = JsFuture::from(reader.read()).await?;
        if Reflect::get(&next, &"done".into())?.is_truthy() {
            break;
        }
        let data: Uint8Array = Reflect::get(&next, &"value".into())?.unchecked_into();
        let len = u64::from(data.length());
        // The part of this chunk inside the range, relative to the chunk.
        let from = skip.saturating_sub(at).min(len);
        let to = (skip + wanted).saturating_sub(at).min(len);
        if to > from {
            chunk(&data.subarray(from as u32, to as u32).to_vec());
            sent += to - from;
        }
        at += len;
    }
    if sent < wanted {
        return Err(error(format!(
            "peercdn: origin sent {sent} of {wanted} bytes {start}-{end} of {url}"
        )));
    }
    // A 200 goes on to the asset's end: stop reading.
    let _ = reader.cancel();
    Ok(())
}
