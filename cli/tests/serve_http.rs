//! `peercdn serve` as an HTTP origin, over real sockets: bytes, Range,
//! validators, content types, path safety, stats, manifest warnings,
//! shutdown.

mod serve_support;

use std::fs;

use serve_support::{http, pattern, Server};

const BIG: usize = 300_000;

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::create_dir_all(p.join("media")).unwrap();
    fs::create_dir_all(p.join("docs")).unwrap();
    fs::create_dir_all(p.join("empty-dir")).unwrap();
    fs::write(p.join("media/big.bin"), pattern(BIG, 1)).unwrap();
    fs::write(p.join("app.wasm"), b"\0asm\x01\0\0\0").unwrap();
    fs::write(p.join("main.js"), b"console.log(1)").unwrap();
    fs::write(p.join("sw.js"), b"self.addEventListener('fetch', () => {})").unwrap();
    fs::write(p.join("index.html"), b"<!doctype html><title>t</title>").unwrap();
    fs::write(p.join("docs/index.html"), b"docs").unwrap();
    fs::write(p.join("docs/a b.txt"), b"spaced").unwrap();
    fs::write(p.join(".secret"), b"hidden").unwrap();
    dir
}

#[test]
fn files_content_types_and_worker_scope() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let big = http(server.addr, "GET", "/media/big.bin", &[]);
    assert_eq!(big.status, 200);
    assert_eq!(big.body, pattern(BIG, 1), "byte for byte");
    assert_eq!(big.header("accept-ranges"), Some("bytes"));
    let wasm = http(server.addr, "GET", "/app.wasm", &[]);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    let js = http(server.addr, "GET", "/main.js", &[]);
    assert_eq!(js.header("content-type"), Some("text/javascript"));
    assert_eq!(js.header("service-worker-allowed"), None);
    let sw = http(server.addr, "GET", "/sw.js", &[]);
    assert_eq!(sw.header("service-worker-allowed"), Some("/"));
    assert_eq!(
        http(server.addr, "GET", "/", &[]).body,
        b"<!doctype html><title>t</title>"
    );
    assert_eq!(http(server.addr, "GET", "/docs/", &[]).body, b"docs");
    let redirect = http(server.addr, "GET", "/docs", &[]);
    assert_eq!(
        (redirect.status, redirect.header("location")),
        (301, Some("/docs/"))
    );
    assert_eq!(
        http(server.addr, "GET", "/docs/a%20b.txt", &[]).body,
        b"spaced"
    );
    let head = http(server.addr, "HEAD", "/media/big.bin", &[]);
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("300000"))
    );
    assert_eq!(http(server.addr, "POST", "/main.js", &[]).status, 405);
}

#[test]
fn ranges_are_exact() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let data = pattern(BIG, 1);
    let cases: [(&str, usize, usize); 6] = [
        ("bytes=0-0", 0, 0),
        ("bytes=0-16383", 0, 16383),
        ("bytes=16384-81919", 16384, 81919),
        ("bytes=299990-", 299_990, BIG - 1),
        ("bytes=-100", BIG - 100, BIG - 1),
        ("bytes=299000-999999", 299_000, BIG - 1),
    ];
    for (header, start, end) in cases {
        let resp = http(server.addr, "GET", "/media/big.bin", &[("Range", header)]);
        assert_eq!(resp.status, 206, "{header}");
        assert_eq!(resp.body, &data[start..=end], "{header}");
        let expected = format!("bytes {start}-{end}/{BIG}");
        assert_eq!(resp.header("content-range"), Some(expected.as_str()));
        assert_eq!(
            resp.header("content-length"),
            Some((end - start + 1).to_string().as_str())
        );
    }
    let bad = http(
        server.addr,
        "GET",
        "/media/big.bin",
        &[("Range", "bytes=300000-")],
    );
    assert_eq!(bad.status, 416);
    assert_eq!(bad.header("content-range"), Some("bytes */300000"));
    // Multi-range and malformed ranges get the whole file.
    let multi = http(
        server.addr,
        "GET",
        "/media/big.bin",
        &[("Range", "bytes=0-1,5-6")],
    );
    assert_eq!((multi.status, multi.body.len()), (200, BIG));
    let stale = http(
        server.addr,
        "GET",
        "/media/big.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")],
    );
    assert_eq!(
        (stale.status, stale.body.len()),
        (200, BIG),
        "If-Range mismatch: whole file"
    );
}

#[test]
fn validators_give_304() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let first = http(server.addr, "GET", "/main.js", &[]);
    let etag = first.header("etag").expect("etag").to_string();
    let modified = first
        .header("last-modified")
        .expect("last-modified")
        .to_string();
    let again = http(server.addr, "GET", "/main.js", &[("If-None-Match", &etag)]);
    assert_eq!((again.status, again.body.len()), (304, 0));
    let since = http(
        server.addr,
        "GET",
        "/main.js",
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(since.status, 304);
    let other = http(
        server.addr,
        "GET",
        "/main.js",
        &[("If-None-Match", "\"nope\"")],
    );
    assert_eq!(other.status, 200);
    let ranged = http(
        server.addr,
        "GET",
        "/main.js",
        &[("Range", "bytes=0-6"), ("If-Range", &etag)],
    );
    assert_eq!(
        (ranged.status, ranged.body.as_slice()),
        (206, &b"console"[..])
    );
}

#[test]
fn nothing_outside_the_site_and_no_listings() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("outside.txt"), b"private").unwrap();
    let dir = site();
    std::os::unix::fs::symlink(
        outer.path().join("outside.txt"),
        dir.path().join("link.txt"),
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    let attempts = [
        "/../outside.txt",
        "/media/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/media/%2e%2e%2f%2e%2e%2foutside.txt",
        "/..%5c..%5coutside.txt",
        "/.secret",
        "/%2esecret",
        "/link.txt",
        "/empty-dir/",
        "/media/",
        "//etc/passwd",
        "/missing",
    ];
    for target in attempts {
        let resp = http(server.addr, "GET", target, &[]);
        assert_eq!(resp.status, 404, "{target}");
        assert!(!resp.body.windows(7).any(|w| w == b"private"), "{target}");
    }
}

#[test]
fn stats_count_origin_bytes_exactly() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let ranges = [
        ("bytes=0-16383", 16384u64),
        ("bytes=100000-199999", 100_000),
        ("bytes=-1", 1),
    ];
    for (range, _) in ranges {
        assert_eq!(
            http(server.addr, "GET", "/media/big.bin", &[("Range", range)]).status,
            206
        );
    }
    http(server.addr, "GET", "/media/big.bin", &[]);
    http(server.addr, "GET", "/docs/a%20b.txt", &[]);
    http(server.addr, "HEAD", "/media/big.bin", &[]);
    http(
        server.addr,
        "GET",
        "/media/big.bin",
        &[("Range", "bytes=999999-")],
    );
    let stats = server.stats();
    let origin = &stats["origin"];
    let big = ranges.iter().map(|(_, n)| n).sum::<u64>() + BIG as u64;
    assert_eq!(origin["paths"]["/media/big.bin"], big);
    assert_eq!(origin["paths"]["/docs/a%20b.txt"], 6);
    assert_eq!(origin["bytes"], big + 6);
    assert_eq!(origin["requests"], 7);
    assert_eq!(origin["range_requests"], 4);
}

#[test]
fn warns_about_a_missing_manifest_and_builds_it_on_request() {
    let dir = site();
    let server = Server::start(dir.path(), &[]);
    let stderr = server.stop_and_stderr();
    assert!(stderr.contains("no peercdn.json"), "stderr: {stderr}");
    assert!(!dir.path().join("peercdn.json").exists());
    let server = Server::start(dir.path(), &["--build"]);
    assert!(dir.path().join("peercdn.json").exists());
    let manifest = http(server.addr, "GET", "/peercdn.json", &[]);
    let json: serde_json::Value = serde_json::from_slice(&manifest.body).unwrap();
    assert!(json["assets"].as_array().unwrap().len() >= 7);
    drop(server);
    let server = Server::start(dir.path(), &[]);
    let stderr = server.stop_and_stderr();
    assert!(
        !stderr.contains("peercdn.json"),
        "fresh manifest, no warning: {stderr}"
    );
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = site();
    let mut server = Server::start(dir.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut ws = runtime.block_on(serve_support::ws_connect(&server.ws_url()));
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let code = runtime.block_on(serve_support::ws_close_code(&mut ws));
    assert_eq!(code, Some(1001), "tracker sockets closed as going away");
    let exit = wait_exit(&mut server.child);
    assert_eq!(exit.and_then(|s| s.code()), Some(0));
}

fn wait_exit(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// Attack: whoever can upload `sw.js` anywhere in the site (say
/// /uploads/x/sw.js) must not get a worker scoped to the whole origin.
#[test]
fn only_the_root_worker_may_claim_the_whole_origin() {
    let dir = site();
    fs::create_dir_all(dir.path().join("uploads/x")).unwrap();
    fs::write(dir.path().join("uploads/x/sw.js"), b"evil()").unwrap();
    let server = Server::start(dir.path(), &[]);
    let nested = http(server.addr, "GET", "/uploads/x/sw.js", &[]);
    assert_eq!(nested.status, 200);
    assert_eq!(nested.header("service-worker-allowed"), None);
    let root = http(server.addr, "GET", "/sw.js", &[]);
    assert_eq!(root.header("service-worker-allowed"), Some("/"));
}

/// Attack: a symlink with an innocent name to a dotfile (or into a
/// dot-directory) inside the site served the hidden file.
#[test]
fn a_symlink_to_a_dotfile_is_not_served() {
    let dir = site();
    let p = dir.path();
    fs::write(p.join(".env"), b"SECRET=1").unwrap();
    fs::create_dir_all(p.join(".git")).unwrap();
    fs::write(p.join(".git/config"), b"[core]").unwrap();
    std::os::unix::fs::symlink(p.join(".env"), p.join("public.txt")).unwrap();
    std::os::unix::fs::symlink(p.join(".git"), p.join("repo")).unwrap();
    std::os::unix::fs::symlink(p.join("main.js"), p.join("alias.js")).unwrap();
    let server = Server::start(p, &[]);
    for target in ["/public.txt", "/repo/config"] {
        let resp = http(server.addr, "GET", target, &[]);
        assert_eq!((resp.status, resp.body.is_empty()), (404, true), "{target}");
    }
    assert_eq!(
        http(server.addr, "GET", "/alias.js", &[]).body,
        b"console.log(1)"
    );
}

/// Attack: anyone could read /_peercdn/stats, which lists every path
/// served. --stats-token asks for a token; --stats-addr moves the stats
/// off the site's address.
#[test]
fn stats_can_be_protected() {
    let dir = site();
    let server = Server::start(dir.path(), &["--stats-token", "s3cret"]);
    assert_eq!(http(server.addr, "GET", "/_peercdn/stats", &[]).status, 401);
    let wrong = [("Authorization", "Bearer guess")];
    assert_eq!(
        http(server.addr, "GET", "/_peercdn/stats", &wrong).status,
        401
    );
    let bearer = [("Authorization", "Bearer s3cret")];
    let ok = http(server.addr, "GET", "/_peercdn/stats", &bearer);
    assert_eq!(ok.status, 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&ok.body).unwrap()["origin"].is_object());
    assert_eq!(
        http(server.addr, "GET", "/_peercdn/stats?token=s3cret", &[]).status,
        200
    );
    drop(server);

    let server = Server::start(dir.path(), &["--stats-addr", "127.0.0.1:0"]);
    assert_eq!(http(server.addr, "GET", "/_peercdn/stats", &[]).status, 404);
    let stats_addr = server
        .stats_addr
        .expect("the banner names the stats address");
    assert_ne!(stats_addr, server.addr);
    assert_eq!(http(stats_addr, "GET", "/_peercdn/stats", &[]).status, 200);
    assert_eq!(
        http(stats_addr, "GET", "/index.html", &[]).status,
        404,
        "stats only"
    );
}
