//! `peercdn build` end to end: the golden manifest of the fixture site,
//! determinism, the one-byte-one-piece property, the options. Bad inputs
//! are in build_errors.rs.

mod common;

use std::fs;
use std::path::Path;

use common::{build, copy_fixture, fixture_site, peercdn, read_manifest, stderr};
use peercdn::manifest::Torrent;

#[test]
fn fixture_matches_golden_manifest() {
    let out = tempfile::tempdir().unwrap();
    let result = build(&fixture_site(), out.path(), &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/golden");
    for name in ["peercdn.json", "peercdn.torrent"] {
        let built = fs::read(out.path().join(name)).unwrap();
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            fs::create_dir_all(&golden).unwrap();
            fs::write(golden.join(name), &built).unwrap();
        }
        let expected =
            fs::read(golden.join(name)).expect("golden file (UPDATE_GOLDEN=1 writes it)");
        assert!(
            built == expected,
            "{name} differs from tests/fixtures/golden/{name}"
        );
    }
    let summary = String::from_utf8_lossy(&result.stdout);
    assert!(summary.contains("built 6 files"), "{summary}");
}

#[test]
fn fixture_manifest_content() {
    let out = tempfile::tempdir().unwrap();
    assert!(build(&fixture_site(), out.path(), &[]).status.success());
    let manifest = read_manifest(out.path());
    let verified = manifest.verify().expect("own manifest verifies");
    let paths: Vec<&str> = manifest.assets.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "css/style.css",
            "data/empty.txt",
            "docs/caf%C3%A9.txt",
            "docs/read%20me.txt",
            "img/pattern.bin",
            "index.html"
        ]
    );
    // Six small files: a 64 KiB piece each saves two pieces, worth more
    // than their padding (layout.rs, `choose_piece_length`).
    assert_eq!(manifest.piece_length, 64 * 1024);
    let css = verified.asset("css/style.css").unwrap();
    assert_eq!(css.content_type, "text/css");
    assert_eq!(
        verified.asset("index.html").unwrap().content_type,
        "text/html"
    );
    for asset in &verified.assets {
        assert_eq!(asset.offset, asset.first_piece * manifest.piece_length);
    }
    let torrent = fs::read(out.path().join("peercdn.torrent")).unwrap();
    let (_, info_hash) = Torrent::parse(&torrent).unwrap();
    assert_eq!(info_hash, verified.info_hash);
    // What the leader serves to magnet clients: the torrent's own info.
    assert_eq!(peercdn::manifest::sha1(&verified.info), verified.info_hash);
}

#[test]
fn two_builds_are_identical() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert!(build(&fixture_site(), a.path(), &[]).status.success());
    assert!(build(&fixture_site(), b.path(), &[]).status.success());
    for name in ["peercdn.json", "peercdn.torrent"] {
        assert_eq!(
            fs::read(a.path().join(name)).unwrap(),
            fs::read(b.path().join(name)).unwrap()
        );
    }
}

#[test]
fn one_changed_byte_changes_exactly_one_piece() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    let before = tempfile::tempdir().unwrap();
    let small_pieces = ["--piece-length", "16384"];
    assert!(build(&site, before.path(), &small_pieces).status.success());
    let pattern = site.join("img/pattern.bin");
    let mut bytes = fs::read(&pattern).unwrap();
    bytes[20_000] ^= 0xff; // inside the second 16 KiB piece of this asset
    fs::write(&pattern, bytes).unwrap();
    let after = tempfile::tempdir().unwrap();
    assert!(build(&site, after.path(), &small_pieces).status.success());
    let (old, new) = (read_manifest(before.path()), read_manifest(after.path()));
    let (old, new) = (old.verify().unwrap(), new.verify().unwrap());
    let changed: Vec<usize> = (0..old.piece_hashes.len())
        .filter(|&i| old.piece_hashes[i] != new.piece_hashes[i])
        .collect();
    let first = old
        .assets
        .iter()
        .find(|a| a.path == "img/pattern.bin")
        .unwrap()
        .first_piece as usize;
    assert_eq!(changed, vec![first + 1]);
    assert_ne!(old.info_hash, new.info_hash);
}

#[test]
fn default_output_goes_into_the_site_and_is_not_republished() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    for _ in 0..2 {
        let output = peercdn().arg("build").arg(&site).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let manifest = read_manifest(&site);
    assert!(manifest
        .assets
        .iter()
        .all(|a| !a.path.starts_with("peercdn.")));
    assert_eq!(manifest.assets.len(), 6);
}

#[test]
fn include_exclude_and_dotfiles() {
    let out = tempfile::tempdir().unwrap();
    let ok = build(
        &fixture_site(),
        out.path(),
        &[
            "--include",
            "**/*.txt",
            "--include",
            ".env",
            "--exclude",
            "data/**",
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let paths: Vec<String> = read_manifest(out.path())
        .assets
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert_eq!(paths, [".env", "docs/caf%C3%A9.txt", "docs/read%20me.txt"]);
}

#[test]
fn piece_length_and_base_url_options() {
    let out = tempfile::tempdir().unwrap();
    let args = [
        "--piece-length",
        "32768",
        "--base-url",
        "http://127.0.0.1:8080/",
    ];
    assert!(build(&fixture_site(), out.path(), &args).status.success());
    let manifest = read_manifest(out.path());
    assert_eq!(manifest.piece_length, 32768);
    assert_eq!(manifest.url_list, ["http://127.0.0.1:8080/"]);
    let (torrent, _) =
        Torrent::parse(&fs::read(out.path().join("peercdn.torrent")).unwrap()).unwrap();
    assert_eq!(torrent.url_list, ["http://127.0.0.1:8080/"]);
    let bad = build(&fixture_site(), out.path(), &["--piece-length", "20000"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("--piece-length 20000 must be a power of two"),
        "{}",
        stderr(&bad)
    );
}
