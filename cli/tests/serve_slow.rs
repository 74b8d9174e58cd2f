//! Slow and stalling tracker sockets against the real server: a frame left
//! incomplete has a deadline, trickled bytes are not activity, and a client
//! being closed cannot make the server buffer what it sends meanwhile.

mod serve_support;

use std::time::{Duration, Instant};

use serve_support::{client_frame_header, raw_ws, read_until_closed, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Starts a 1,000-byte frame, then sends one byte of it every 200 ms
/// (at most 50, 10 s) while reading what the server says; returns it.
async fn trickle(server: &Server) -> (Vec<u8>, Duration) {
    let mut tcp = raw_ws(server.addr).await;
    let start = Instant::now();
    tcp.write_all(&client_frame_header(1000)).await.unwrap();
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..50 {
            if wr.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(12), async {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = rd.read(&mut buf).await {
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    writer.abort();
    (got, start.elapsed())
}

/// Attack: a socket starts a frame and never finishes it (a byte now and
/// then keeps it from looking idle).
#[tokio::test]
async fn a_frame_left_incomplete_is_cut_off_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--tracker-only", "--frame-timeout", "2"]);
    let (got, took) = trickle(&server).await;
    assert!(contains(&got, "incomplete message timeout"), "{got:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// Attack: bytes trickled into a frame used to count as activity, so the
/// idle timeout never came.
#[tokio::test]
async fn trickled_bytes_do_not_count_as_activity() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--tracker-only",
            "--ping-interval",
            "1",
            "--idle-timeout",
            "2",
        ],
    );
    let (got, took) = trickle(&server).await;
    assert!(contains(&got, "idle timeout"), "{got:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Attack: once cut off, a client announces a 1 GiB frame and streams it
/// (at most 256 MiB, 2 s) while the server waits for its close frame.
#[tokio::test]
async fn a_closing_client_cannot_make_the_server_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--tracker-only"]);
    let before = peak_rss_kib(server.child.id());
    let mut tcp = raw_ws(server.addr).await;
    // An unmasked frame: a protocol error, so the server closes.
    tcp.write_all(&[0x81, 0x00]).await.unwrap();
    // Wait for its close frame: the server is now draining.
    let mut seen = Vec::new();
    while !seen.contains(&0x88) {
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("close frame within 10 s")
            .unwrap();
        assert!(n > 0, "closed without a close frame");
        seen.extend_from_slice(&buf[..n]);
    }
    tcp.write_all(&client_frame_header(1 << 30)).await.unwrap();
    let chunk = vec![0u8; 1 << 20];
    let start = Instant::now();
    for _ in 0..256 {
        if start.elapsed() > Duration::from_secs(2) || tcp.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = read_until_closed(&mut tcp, Duration::from_secs(2)).await;
    let grew = peak_rss_kib(server.child.id()).saturating_sub(before);
    assert!(grew < 16 * 1024, "peak RSS grew {grew} KiB");
}
