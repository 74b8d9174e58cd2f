//! `peercdn serve` compresses like a production static server: whole
//! responses of text, code, JSON and wasm, never a Range response nor
//! media; the stats count the bytes that leave; the worker, its runtime
//! and the manifest are marked `no-cache`.

mod serve_support;

use std::fs;
use std::io::Read;

use serve_support::{http, pattern, Server};

/// Text that gzip shrinks: a page's worth of repeated words.
fn page() -> Vec<u8> {
    let words: Vec<String> = (0..4000).map(|i| format!("word{}", i % 97)).collect();
    format!("<!doctype html><p>{}</p>", words.join(" ")).into_bytes()
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("peercdn")).unwrap();
    fs::create_dir_all(p.join("media")).unwrap();
    fs::write(p.join("index.html"), page()).unwrap();
    fs::write(p.join("peercdn/peercdn.js"), page()).unwrap();
    fs::write(p.join("sw.js"), b"importScripts('peercdn/sw-addon.js')").unwrap();
    fs::write(p.join("media/clip.mp4"), pattern(50_000, 3)).unwrap();
    fs::write(p.join("tiny.txt"), b"short").unwrap();
    dir
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[test]
fn whole_text_responses_are_compressed_and_counted_as_sent() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let gzip = [("Accept-Encoding", "gzip")];
    let html = http(server.addr, "GET", "/index.html", &gzip);
    assert_eq!(html.status, 200);
    assert_eq!(html.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&html.body), page(), "the page, once decoded");
    assert!(
        html.body.len() * 4 < page().len(),
        "{} bytes sent",
        html.body.len()
    );
    let stats = server.stats();
    assert_eq!(
        stats["origin"]["paths"]["/index.html"],
        html.body.len() as u64,
        "the stats count what left, not the file"
    );
    // Without Accept-Encoding, the bytes as they are.
    let plain = http(server.addr, "GET", "/index.html", &[]);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, page());
}

#[test]
fn range_responses_media_and_tiny_files_are_never_compressed() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let gzip = ("Accept-Encoding", "gzip, br");
    let part = http(
        server.addr,
        "GET",
        "/index.html",
        &[gzip, ("Range", "bytes=0-99")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.header("content-encoding"), None);
    assert_eq!(part.body, page()[..100].to_vec(), "positions in the file");
    let clip = http(server.addr, "GET", "/media/clip.mp4", &[gzip]);
    assert_eq!(clip.header("content-encoding"), None);
    assert_eq!(clip.body, pattern(50_000, 3));
    let tiny = http(server.addr, "GET", "/tiny.txt", &[gzip]);
    assert_eq!(tiny.header("content-encoding"), None);
    assert_eq!(tiny.body, b"short".to_vec());
}

#[test]
fn the_worker_its_runtime_and_the_manifest_are_revalidated() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    for path in ["/sw.js", "/peercdn/peercdn.js"] {
        assert_eq!(
            http(server.addr, "GET", path, &[]).header("cache-control"),
            Some("no-cache"),
            "{path}"
        );
    }
    assert_eq!(
        http(server.addr, "GET", "/index.html", &[]).header("cache-control"),
        None
    );
}
