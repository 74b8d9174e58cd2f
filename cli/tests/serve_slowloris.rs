//! The HTTP side against slow clients: a request head must arrive within
//! the header timeout (also the keep-alive idle time), and connections are
//! capped.

mod serve_support;

use std::time::{Duration, Instant};

use serve_support::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long until the server closes `tcp` (reading and discarding), or
/// `None` if it is still open after `limit`.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        while let Ok(n @ 1..) = tcp.read(&mut buf).await {
            let _ = n;
        }
    })
    .await;
    closed.is_ok().then(|| start.elapsed())
}

/// Attack (slowloris): headers that never end kept a connection open
/// forever.
#[tokio::test]
async fn a_request_head_that_never_ends_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
    let server = Server::start(dir.path(), &["--http-header-timeout", "1"]);
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let closed = closed_within(&mut tcp, Duration::from_secs(8)).await;
    assert!(closed.is_some(), "still open after 8 s");
    // An idle keep-alive connection is closed the same way.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let closed = closed_within(&mut idle, Duration::from_secs(8)).await;
    assert!(
        closed.is_some(),
        "idle keep-alive connection still open after 8 s"
    );
}

/// Attack: many connections that send nothing held a descriptor each,
/// without bound; past the cap, new ones wait until one closes.
#[tokio::test]
async fn open_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"a").unwrap();
    let server = Server::start(dir.path(), &["--max-http-connections", "4"]);
    let mut hogs = Vec::new();
    for _ in 0..4 {
        hogs.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let request = b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut late = TcpStream::connect(server.addr).await.unwrap();
    late.write_all(request).await.unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(500), late.read(&mut buf)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    drop(hogs.pop());
    let n = tokio::time::timeout(Duration::from_secs(10), late.read(&mut buf))
        .await
        .expect("answered once a connection closed")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}
