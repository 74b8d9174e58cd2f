//! Compression of site files, and the count of the bytes that really leave.
//!
//! Gzip or Brotli (whichever the client prefers, by tower-http's
//! `CompressionLayer`) for whole responses (200) of compressible types:
//! HTML, CSS, JS, JSON, wasm, SVG, plain text. Never a Range response (a
//! 206's bytes are positions in the file: the worker verifies them against
//! piece hashes) nor media, images or archives, which are compressed
//! already.
//!
//! Invariant: the stats count a site file's body bytes after compression,
//! as they are handed to the HTTP connection (`files.rs` marks a response
//! with [`SentFile`]; [`count_sent`] wraps its body outside the
//! compression layer).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Extensions, HeaderMap, StatusCode, Version};
use axum::response::Response;
use futures_util::StreamExt;
use tower_http::compression::CompressionLayer;

use super::stats::OriginStats;

/// Smallest body worth compressing: below this, the headers cost more.
const MIN_BYTES: u64 = 256;

/// On a response: the site file (its stats key) its body comes from.
#[derive(Clone)]
pub struct SentFile(pub String);

/// Whether a response is compressed (see the module doc).
type Rule = fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool;

/// The compression layer for site responses.
pub fn layer() -> CompressionLayer<Rule> {
    CompressionLayer::new().compress_when(compressible as Rule)
}

fn compressible(status: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let long_enough = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n >= MIN_BYTES);
    let text_like = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compressible_type);
    status == StatusCode::OK && long_enough && text_like
}

/// Types whose bytes shrink under gzip; media and archives do not.
fn compressible_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/javascript"
                | "application/json"
                | "application/wasm"
                | "application/xml"
                | "application/manifest+json"
                | "image/svg+xml"
        )
}

/// Counts the body of a site-file response as it leaves, under its file.
pub async fn count_sent(State(stats): State<Arc<OriginStats>>, response: Response) -> Response {
    let Some(SentFile(key)) = response.extensions().get::<SentFile>().cloned() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let counted = body.into_data_stream().inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            stats.sent(&key, bytes.len() as u64);
        }
    });
    Response::from_parts(parts, Body::from_stream(counted))
}

#[cfg(test)]
mod tests {
    use super::compressible_type;

    #[test]
    fn text_and_code_compress_media_does_not() {
        for t in [
            "text/html; charset=utf-8",
            "text/css",
            "application/javascript",
            "application/wasm",
            "application/json",
            "image/svg+xml",
        ] {
            assert!(compressible_type(t), "{t}");
        }
        for t in [
            "video/mp4",
            "image/png",
            "application/octet-stream",
            "application/zip",
            "audio/mpeg",
            "",
        ] {
            assert!(!compressible_type(t), "{t}");
        }
    }
}
