//! The WebSocket opening handshake (RFC 6455 section 4.2) for `/announce`:
//! checks the request (and, when the site names its origins, the page's
//! `Origin`), answers 101 with `Sec-WebSocket-Accept`, and hands the
//! upgraded connection to [`super::conn`].

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};

use super::Tracker;

/// RFC 6455's fixed GUID, appended to the client's key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    peercdn::encoding::base64_encode(&sha.finalize())
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// The client's key when the request is a valid WebSocket upgrade.
fn client_key(req: &Request) -> Option<&str> {
    let h = req.headers();
    let ok = req.method() == Method::GET
        && has_token(h, header::UPGRADE, "websocket")
        && has_token(h, header::CONNECTION, "upgrade")
        && h.get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v == "13");
    let key = h.get(header::SEC_WEBSOCKET_KEY)?.to_str().ok()?;
    // A key is 16 random bytes in base64.
    (ok && peercdn::encoding::base64_decode(key).is_ok_and(|k| k.len() == 16)).then_some(key)
}

/// The origins whose pages may use the tracker (`--allowed-origin`);
/// empty allows every origin.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> Self {
        AllowedOrigins(origins.iter().map(|o| normalize(o)).collect())
    }

    /// Whether an upgrade with these headers may proceed. A request
    /// without `Origin` is not from a browser page, and a non-browser
    /// client could claim any origin: the check is against other sites'
    /// pages using this tracker through their visitors' browsers.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        if self.0.is_empty() {
            return true;
        }
        match headers.get(header::ORIGIN).map(|v| v.to_str()) {
            None => true,
            Some(Ok(origin)) => self.0.contains(&normalize(origin)),
            Some(Err(_)) => false,
        }
    }
}

/// Origins compare without case and without a trailing slash (a URL
/// given on the command line may carry one; an `Origin` header never does).
fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Tracker {
    /// The `/announce` route for a client at `client` (its bound key):
    /// upgrades within the connection caps.
    pub fn upgrade(self: Arc<Self>, mut req: Request, client: IpAddr) -> Response {
        let Some(key) = client_key(&req) else {
            return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
        };
        if self.connections.load(Ordering::Relaxed) >= self.limits.max_connections as u64 {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "tracker is at its connection limit",
            )
                .into_response();
        }
        let Ok(accept) = HeaderValue::from_str(&accept_key(key)) else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
            return (StatusCode::BAD_REQUEST, "connection cannot be upgraded").into_response();
        };
        // Counted now, so the caps hold while handshakes are in flight.
        let Some(conn) = self.register(client) else {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                "too many tracker connections from your address",
            )
                .into_response();
        };
        let task = async move {
            match on_upgrade.await {
                Ok(upgraded) => super::conn::run(self, conn, TokioIo::new(upgraded)).await,
                Err(_) => self.leave_and_close(conn.0),
            }
        };
        // Most of what an idle connection costs is this task's size.
        tracing::trace!(
            bytes = std::mem::size_of_val(&task),
            "tracker connection task"
        );
        tokio::spawn(task);
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sites_origins_are_allowed() {
        let allowed = AllowedOrigins::new(&["https://Example.org/".to_string()]);
        let with = |origin: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            allowed.allows(&h)
        };
        assert!(with("https://example.org"));
        assert!(!with("https://evil.example"));
        assert!(
            !with("http://example.org"),
            "another scheme is another origin"
        );
        assert!(!with("null"));
        assert!(allowed.allows(&HeaderMap::new()), "not a browser page");
        assert!(AllowedOrigins::default().allows(&{
            let mut h = HeaderMap::new();
            h.insert(
                header::ORIGIN,
                HeaderValue::from_static("https://any.example"),
            );
            h
        }));
    }

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
