//! `peercdn build` end to end: the golden manifest of the fixture site,
//! determinism, the one-byte-one-piece property, and every bad input ending
//! in a clear message, a non-zero exit and no output left behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use peercdn::manifest::{SiteManifest, Torrent};

fn peercdn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_peercdn"))
}

fn fixture_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/site")
}

fn build(site: &Path, out: &Path, extra: &[&str]) -> Output {
    peercdn()
        .arg("build")
        .arg(site)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run peercdn")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read_manifest(out: &Path) -> SiteManifest {
    serde_json::from_slice(&fs::read(out.join("peercdn.json")).unwrap()).unwrap()
}

/// Copies the fixture into a fresh temporary directory named `site`.
fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_site(), &dir.path().join("site"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn assert_no_output(dir: &Path) {
    let leftovers: Vec<_> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("peercdn."))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

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
    assert_eq!(manifest.name, "site");
    assert_eq!(manifest.piece_length, 16 * 1024);
    let css = verified.asset("css/style.css").unwrap();
    assert_eq!(css.content_type, "text/css");
    assert_eq!(
        verified.asset("index.html").unwrap().content_type,
        "text/html"
    );
    for asset in &manifest.assets {
        assert_eq!(asset.offset, asset.first_piece * manifest.piece_length);
    }
    let torrent = fs::read(out.path().join("peercdn.torrent")).unwrap();
    let (_, info_hash) = Torrent::parse(&torrent).unwrap();
    assert_eq!(info_hash, verified.info_hash);
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
    assert!(build(&site, before.path(), &[]).status.success());
    let pattern = site.join("img/pattern.bin");
    let mut bytes = fs::read(&pattern).unwrap();
    bytes[20_000] ^= 0xff; // inside the second 16 KiB piece of this asset
    fs::write(&pattern, bytes).unwrap();
    let after = tempfile::tempdir().unwrap();
    assert!(build(&site, after.path(), &[]).status.success());
    let (old, new) = (read_manifest(before.path()), read_manifest(after.path()));
    let changed: Vec<usize> = (0..old.pieces.len())
        .filter(|&i| old.pieces[i] != new.pieces[i])
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

/// Runs a build expected to fail; checks the message and that nothing was
/// written to `out`.
fn assert_fails(site: &Path, out: &Path, message: &str) {
    let output = build(site, out, &[]);
    assert!(
        !output.status.success(),
        "build of {} should fail",
        site.display()
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.starts_with("peercdn: error: "), "{text}");
    assert!(text.contains(message), "expected {message:?} in {text:?}");
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    assert_no_output(out);
}

#[test]
fn missing_and_non_directory_site() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert_fails(
        &missing,
        dir.path(),
        &format!("site directory {}", missing.display()),
    );
    let file = dir.path().join("file.txt");
    fs::write(&file, "x").unwrap();
    assert_fails(&file, dir.path(), "is not a directory");
}

#[test]
fn empty_site() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("empty");
    fs::create_dir(&site).unwrap();
    fs::write(site.join(".only-a-dotfile"), "x").unwrap();
    assert_fails(&site, dir.path(), "no files to publish in");
}

#[test]
fn symlink_leaving_the_site_is_refused() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    fs::write(dir.path().join("outside.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), site.join("link.txt")).unwrap();
    assert_fails(&site, &site, "points outside the site directory");
}

#[test]
fn symlink_inside_the_site_is_published() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    std::os::unix::fs::symlink(site.join("index.html"), site.join("home.html")).unwrap();
    let out = tempfile::tempdir().unwrap();
    assert!(build(&site, out.path(), &[]).status.success());
    let manifest = read_manifest(out.path());
    let home = manifest
        .assets
        .iter()
        .find(|a| a.path == "home.html")
        .unwrap();
    let index = manifest
        .assets
        .iter()
        .find(|a| a.path == "index.html")
        .unwrap();
    assert_eq!(home.length, index.length);
}

#[test]
fn symlink_loop_and_dangling_link() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    std::os::unix::fs::symlink(&site, site.join("css/loop")).unwrap();
    assert_fails(&site, &site, "symlink loop");
    fs::remove_file(site.join("css/loop")).unwrap();
    std::os::unix::fs::symlink(site.join("gone"), site.join("dangling")).unwrap();
    assert_fails(&site, &site, "points to nothing that can be read");
}

#[test]
fn non_utf8_file_name() {
    use std::os::unix::ffi::OsStrExt;
    let dir = copy_fixture();
    let site = dir.path().join("site");
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.txt");
    fs::write(site.join(name), "x").unwrap();
    assert_fails(&site, &site, "file name is not UTF-8");
}

#[test]
fn special_files_are_skipped() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    // A FIFO is not a regular file: not published, and not read (reading
    // it would block the build forever).
    assert!(Command::new("mkfifo")
        .arg(site.join("pipe"))
        .status()
        .unwrap()
        .success());
    let out = tempfile::tempdir().unwrap();
    let output = build(&site, out.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(read_manifest(out.path())
        .assets
        .iter()
        .all(|a| a.path != "pipe"));
}

/// Runs a build as an unprivileged user: root reads any file whatever its
/// mode, but inside a new user namespace with no uid mapping the process has
/// no such privilege over the host's files.
fn build_unprivileged(site: &Path, out: &Path) -> Output {
    Command::new("unshare")
        .arg("--user")
        .arg(env!("CARGO_BIN_EXE_peercdn"))
        .arg("build")
        .arg(site)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run unshare")
}

#[test]
fn unreadable_file_and_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_fixture();
    let site = dir.path().join("site");
    let out = dir.path().join("out");
    let locked = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
    };
    let css = site.join("css/style.css");
    locked(&css, 0o000);
    let output = build_unprivileged(&site, &out);
    locked(&css, 0o644);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot open"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("style.css: Permission denied"),
        "{}",
        stderr(&output)
    );
    assert_no_output(&out);

    let docs = site.join("docs");
    locked(&docs, 0o000);
    let output = build_unprivileged(&site, &out);
    locked(&docs, 0o755);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot read directory"),
        "{}",
        stderr(&output)
    );
    assert_no_output(&out);
}

/// Starts a build that pauses between listing and hashing, runs `change`
/// during the pause, and returns the finished build's output.
fn build_while(site: &Path, out: &Path, change: impl FnOnce()) -> Output {
    let child = peercdn()
        .arg("build")
        .arg(site)
        .arg("--out")
        .arg(out)
        .env("PEERCDN_TEST_PAUSE_BEFORE_HASH_MS", "1500")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    change();
    child.wait_with_output().unwrap()
}

#[test]
fn file_changing_during_the_build() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    let out = dir.path().join("out");
    let pattern = site.join("img/pattern.bin");
    let output = build_while(&site, &out, || {
        let mut bytes = fs::read(&pattern).unwrap();
        bytes.extend_from_slice(b"grown");
        fs::write(&pattern, bytes).unwrap();
    });
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("pattern.bin changed during the build"),
        "{}",
        stderr(&output)
    );
    assert_no_output(&out);
}

#[test]
fn file_vanishing_during_the_build() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    let out = dir.path().join("out");
    let output = build_while(&site, &out, || {
        fs::remove_file(site.join("css/style.css")).unwrap()
    });
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("style.css vanished during the build"),
        "{}",
        stderr(&output)
    );
    assert_no_output(&out);
}
