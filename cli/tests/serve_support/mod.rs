//! Shared by the `serve` integration tests: start the real binary on
//! 127.0.0.1 port 0, speak raw HTTP/1.1 to it, and speak the tracker
//! protocol over a real WebSocket using peercdn's own message module.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use peercdn::tracker::{Answer, ClientToTracker, Id20, TrackerToClient};
use tokio_tungstenite::tungstenite::Message;

/// A running `peercdn serve`; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Where the banner says the stats are, when not on `addr`.
    pub stats_addr: Option<SocketAddr>,
}

impl Server {
    pub fn start(site: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peercdn"))
            .arg("serve")
            .arg(site)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn peercdn serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("banner");
        // "peercdn serve: site http://127.0.0.1:PORT/ tracker ..."
        let addr = line
            .split_whitespace()
            .find_map(|w| {
                w.strip_prefix("http://")
                    .or_else(|| w.strip_prefix("ws://"))
            })
            .and_then(|w| w.split('/').next())
            .unwrap_or_else(|| panic!("no address in banner {line:?}"))
            .parse()
            .expect("socket address");
        let stats_addr = line
            .split_whitespace()
            .skip_while(|w| *w != "stats")
            .nth(1)
            .and_then(|w| w.strip_prefix("http://"))
            .and_then(|w| w.split('/').next())
            .and_then(|w| w.parse().ok())
            .filter(|a| *a != addr);
        Server {
            child,
            addr,
            stats_addr,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/announce", self.addr)
    }

    pub fn stats(&self) -> serde_json::Value {
        let resp = http(self.addr, "GET", "/_peercdn/stats", &[]);
        assert_eq!(resp.status, 200);
        serde_json::from_slice(&resp.body).expect("stats JSON")
    }

    /// Everything the server wrote on stderr so far (it is stopped first).
    pub fn stop_and_stderr(mut self) -> String {
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a fresh connection, the request target sent verbatim
/// (so `..` reaches the server as written).
pub fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head: bool) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head_text = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head_text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16).unwrap();
        rest = &rest[eol + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    ws
}

/// Connects with extra request headers; the handshake's error if refused
/// (the HTTP status is in `tungstenite::Error::Http`).
pub async fn ws_connect_with(
    url: &str,
    headers: &[(&'static str, &str)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request()?;
    for (name, value) in headers {
        let value = value.parse().expect("header value");
        req.headers_mut().insert(*name, value);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// The HTTP status a refused WebSocket handshake got.
pub fn refused_status(result: Result<Ws, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

pub async fn ws_send(ws: &mut Ws, msg: &ClientToTracker) {
    ws.send(Message::text(msg.to_json()))
        .await
        .expect("ws send");
}

/// The next tracker message, skipping pings; `None` when the socket ends.
pub async fn ws_recv(ws: &mut Ws) -> Option<TrackerToClient> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("tracker message within 10 s");
        match frame {
            Some(Ok(Message::Text(text))) => {
                return Some(
                    TrackerToClient::try_from(text.as_bytes()).expect("valid tracker message"),
                )
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            _ => return None,
        }
    }
}

/// Reads until the socket ends; returns the close code if a close frame came.
pub async fn ws_close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("close within 10 s")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

/// Deterministic, non-repeating test bytes.
/// `a` answers `offer_id` (an offer of `b` in swarm `info_hash`) with
/// `sdp`; asserts the tracker relays exactly that answer to `b`.
pub async fn answer_and_expect_relay(
    a: &mut Ws,
    b: &mut Ws,
    ids: (Id20, Id20, Id20),
    offer_id: Id20,
    sdp: &str,
) {
    let (info_hash, a_id, b_id) = ids;
    let answer = Answer {
        info_hash,
        peer_id: a_id,
        to_peer_id: b_id,
        offer_id,
        sdp: sdp.into(),
    };
    ws_send(a, &ClientToTracker::Answer(answer)).await;
    match ws_recv(b).await {
        Some(TrackerToClient::Answer(got)) => {
            assert_eq!((got.peer_id, got.offer_id), (a_id, offer_id));
            assert_eq!(got.sdp, sdp);
        }
        other => panic!("expected A's answer at B, got {other:?}"),
    }
}

pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A WebSocket to the tracker over a plain TCP stream, handshake done by
/// hand, for tests that send frames no WebSocket library would.
pub async fn raw_ws(addr: SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET /announce HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.expect("handshake");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut byte))
            .await
            .expect("handshake reply within 10 s")
            .expect("read");
        assert_eq!(n, 1, "socket closed during the handshake");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// The header of a masked client text frame of `len` payload bytes (mask
/// all zero, so the payload goes as is).
pub fn client_frame_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x81];
    match len {
        0..=125 => h.push(0x80 | len as u8),
        126..=0xffff => {
            h.push(0x80 | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            h.push(0x80 | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
    }
    h.extend_from_slice(&[0; 4]);
    h
}

/// Everything the server sends on `tcp` until it closes or `limit` passes.
pub async fn read_until_closed(tcp: &mut tokio::net::TcpStream, limit: Duration) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = tcp.read(&mut buf).await {
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    got
}
