//! The origin's static files: GET and HEAD with single Range requests,
//! ETag / Last-Modified validators, the site's content types, and
//! `Cache-Control: no-cache` for the worker, its runtime and the manifest.
//!
//! Invariants: a response only ever reads a file whose canonical path lies
//! inside the canonical site root with no component starting with `.`
//! (no `..`, no dotfiles, no symlink out or to a dotfile);
//! `Service-Worker-Allowed` goes only with the root `sw.js`;
//! directories are never listed (their `index.html` or 404); a body is
//! streamed in chunks, never read whole into memory, and marked with its
//! file ([`SentFile`]) so that `compress.rs` counts its bytes in
//! [`OriginStats`] as they leave, compressed or not.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use peercdn::url_path::{decode_path, encode_components};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::compress::SentFile;
use super::stats::OriginStats;
use crate::content_type;
use peercdn::range::{self, ByteRange, RangeAnswer};

/// Chunk size for streaming bodies: large enough for throughput, small
/// enough that many concurrent downloads stay cheap.
const CHUNK: usize = 64 * 1024;

pub struct SiteFiles {
    /// Canonical.
    pub root: PathBuf,
    pub stats: Arc<OriginStats>,
}

/// A file found for a request.
struct Found {
    path: PathBuf,
    /// Canonical URL path, the stats key (`/` + the manifest's path).
    key: String,
    len: u64,
    modified: SystemTime,
}

impl SiteFiles {
    pub async fn respond(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
        if method != Method::GET && method != Method::HEAD {
            let mut resp = StatusCode::METHOD_NOT_ALLOWED.into_response();
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let Some(components) = decode_path(uri.path()) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let found = match self.find(components).await {
            Lookup::Found(found) => found,
            Lookup::Redirect => return redirect_to_dir(uri),
            Lookup::Missing => return StatusCode::NOT_FOUND.into_response(),
        };
        let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
        self.stats.request(range_header.is_some());
        let etag = etag(found.len, found.modified);
        let last_modified = httpdate::fmt_http_date(found.modified);
        let mut resp = if not_modified(headers, &etag, found.modified) {
            self.stats.not_modified();
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let range = if if_range_holds(headers, &etag, &last_modified) {
                range::answer(range_header, found.len)
            } else {
                RangeAnswer::Whole
            };
            self.body_response(method, &found, range).await
        };
        let h = resp.headers_mut();
        set(h, header::ETAG, &etag);
        set(h, header::LAST_MODIFIED, &last_modified);
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if must_revalidate(&found.key) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        if found.key == "/sw.js" {
            // Only the root worker: a site's uploads may hold a file named
            // sw.js too, and this header on it would let it control the
            // whole origin. (A root sw.js is scoped to `/` without it; it
            // stays for sites that register it with an explicit scope.)
            h.insert("service-worker-allowed", HeaderValue::from_static("/"));
        }
        resp
    }

    async fn body_response(&self, method: &Method, found: &Found, range: RangeAnswer) -> Response {
        let (status, span) = match range {
            RangeAnswer::Unsatisfiable => {
                let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                set(
                    resp.headers_mut(),
                    header::CONTENT_RANGE,
                    &format!("bytes */{}", found.len),
                );
                return resp;
            }
            RangeAnswer::Whole if found.len == 0 => (StatusCode::OK, None),
            RangeAnswer::Whole => (
                StatusCode::OK,
                Some(ByteRange {
                    start: 0,
                    end: found.len - 1,
                }),
            ),
            RangeAnswer::Partial(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        };
        let body = match (method == Method::HEAD, span) {
            (false, Some(r)) => match self.stream(found, r).await {
                Ok(body) => body,
                Err(_) => return StatusCode::NOT_FOUND.into_response(),
            },
            _ => Body::empty(),
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        if method != Method::HEAD && span.is_some() {
            resp.extensions_mut().insert(SentFile(found.key.clone()));
        }
        let h = resp.headers_mut();
        set(
            h,
            header::CONTENT_TYPE,
            &content_type::for_path(&found.path),
        );
        set(
            h,
            header::CONTENT_LENGTH,
            &span.map_or(0, |r| r.len()).to_string(),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let (StatusCode::PARTIAL_CONTENT, Some(r)) = (status, span) {
            let value = format!("bytes {}-{}/{}", r.start, r.end, found.len);
            set(h, header::CONTENT_RANGE, &value);
        }
        resp
    }

    /// Streams `r` of the file (counted as it leaves, after compression:
    /// `compress.rs`).
    async fn stream(&self, found: &Found, r: ByteRange) -> std::io::Result<Body> {
        let mut file = tokio::fs::File::open(&found.path).await?;
        file.seek(std::io::SeekFrom::Start(r.start)).await?;
        let reader = file.take(r.len());
        Ok(Body::from_stream(ReaderStream::with_capacity(
            reader, CHUNK,
        )))
    }

    async fn find(&self, components: Vec<String>) -> Lookup {
        let dir_request = components.last().is_none_or(|c| c.is_empty());
        let names: Vec<String> = components.into_iter().filter(|c| !c.is_empty()).collect();
        let mut path = self.root.clone();
        path.extend(&names);
        let Ok(canonical) = tokio::fs::canonicalize(&path).await else {
            return Lookup::Missing;
        };
        // The URL's names were checked; the file they resolve to (through
        // symlinks) must be neither outside the root nor hidden.
        if crate::hidden::hidden_within(&self.root, &canonical) {
            return Lookup::Missing;
        }
        let Ok(meta) = tokio::fs::metadata(&canonical).await else {
            return Lookup::Missing;
        };
        if meta.is_dir() {
            if !dir_request {
                return Lookup::Redirect;
            }
            let mut names = names;
            names.push("index.html".to_string());
            return Box::pin(self.find(names)).await;
        }
        if !meta.is_file() || dir_request {
            return Lookup::Missing;
        }
        Lookup::Found(Found {
            key: format!("/{}", encode_components(&names)),
            path: canonical,
            len: meta.len(),
            modified: meta.modified().unwrap_or(UNIX_EPOCH),
        })
    }
}

enum Lookup {
    Found(Found),
    /// A directory asked for without its trailing slash.
    Redirect,
    Missing,
}

fn redirect_to_dir(uri: &Uri) -> Response {
    let location = format!("{}/", uri.path());
    let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
    set(resp.headers_mut(), header::LOCATION, &location);
    resp
}

/// Strong enough for a static file: size and modification time.
fn etag(len: u64, modified: SystemTime) -> String {
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("\"{len:x}-{nanos:x}\"")
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 13.2.2).
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag);
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    // HTTP dates have whole seconds.
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    since.is_some_and(|since| secs(modified) <= secs(since))
}

/// A Range is honoured only if `If-Range` (when present) still matches.
fn if_range_holds(headers: &HeaderMap, etag: &str, last_modified: &str) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v == etag || v == last_modified,
    }
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The worker, its runtime and the manifest change together at a deploy:
/// a browser must ask again each time (a 304 while unchanged) rather than
/// keep an old one beside a new one by heuristic freshness.
fn must_revalidate(key: &str) -> bool {
    key == "/sw.js" || key == "/peercdn.json" || key.starts_with("/peercdn/")
}
