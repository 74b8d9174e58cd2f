//! `peercdn build` on bad input: every case ends in one clear line naming
//! the path, exit status 1, and no output left behind.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{assert_no_output, build, copy_fixture, peercdn, read_manifest, stderr};

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

/// A symlink to a dotfile (or into a dot-directory) is not published: the
/// file it names is hidden, whatever the link is called.
#[test]
fn symlink_to_a_dotfile_is_not_published() {
    let dir = copy_fixture();
    let site = dir.path().join("site");
    std::fs::write(site.join(".env"), b"SECRET=1").unwrap();
    std::fs::create_dir_all(site.join(".git")).unwrap();
    std::fs::write(site.join(".git/config"), b"[core]").unwrap();
    std::os::unix::fs::symlink(site.join(".env"), site.join("public.txt")).unwrap();
    std::os::unix::fs::symlink(site.join(".git"), site.join("repo")).unwrap();
    let out = tempfile::tempdir().unwrap();
    assert!(build(&site, out.path(), &[]).status.success());
    let paths: Vec<String> = read_manifest(out.path())
        .assets
        .into_iter()
        .map(|a| a.path)
        .collect();
    assert!(paths.iter().any(|p| p == "index.html"), "{paths:?}");
    for hidden in ["public.txt", "repo/config"] {
        assert!(!paths.iter().any(|p| p == hidden), "{hidden} in {paths:?}");
    }
}
