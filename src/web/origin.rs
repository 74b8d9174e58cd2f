//! The origin as the source of last resort (a BEP 19 web seed): one HTTP
//! Range request for a run of consecutive pieces of one asset.
//!
//! Invariant: bytes leave this module only piece by piece, each having
//! matched its hash; a piece that does not match is an error (the origin or
//! something between it and us is broken) and is never returned.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use super::js::{error, resolve, JsResult};
use crate::manifest::VerifiedManifest;

/// A request header that tells peercdn's worker to let a fetch through to
/// the network: it is peercdn's own origin (web seed) request.
pub const ORIGIN_MARK: &str = "X-Peercdn-Origin";

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
        if !manifest.piece_matches(piece, data) {
            return Err(error(format!(
                "peercdn: piece {piece} from the origin failed its SHA-1 check"
            )));
        }
        pieces.push((piece, data.to_vec()));
        at += span.data_len as usize;
    }
    Ok(pieces)
}

/// The bytes `start..=end` of `url`: from a 206, or sliced out of a 200 when
/// the server ignores Range.
pub async fn fetch_range(url: &str, start: u64, end: u64) -> JsResult<Vec<u8>> {
    let init = RequestInit::new();
    let request = Request::new_with_str_and_init(url, &init)?;
    let headers = request.headers();
    headers.set("Range", &format!("bytes={start}-{end}"))?;
    // The leader tab is itself a controlled page: without the mark its
    // origin fetches went to our own worker, which asked the leader for the
    // same pieces and went to the origin only after its 5 s deadline.
    headers.set(ORIGIN_MARK, "1")?;
    let response = resolve::<Response>(super::global::fetch(&request)?, "fetch").await?;
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    let bytes = Uint8Array::new(&buffer);
    let wanted = (end - start + 1) as u32;
    match response.status() {
        206 if bytes.length() == wanted => Ok(bytes.to_vec()),
        // end < length <= u32::MAX, so both casts are exact.
        200 if u64::from(bytes.length()) > end => {
            Ok(bytes.subarray(start as u32, end as u32 + 1).to_vec())
        }
        status => Err(error(format!(
            "peercdn: origin answered {status} with {} bytes for bytes {start}-{end} of {url}",
            bytes.length()
        ))),
    }
}
