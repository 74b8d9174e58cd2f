//! Helpers shared by the `peercdn build` tests: run the binary, copy the
//! fixture site, read the manifest, check that nothing was left behind.
#![allow(dead_code)] // each test file uses its own subset

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use peercdn::manifest::SiteManifest;

pub fn peercdn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_peercdn"))
}

pub fn fixture_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/site")
}

pub fn build(site: &Path, out: &Path, extra: &[&str]) -> Output {
    peercdn()
        .arg("build")
        .arg(site)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("run peercdn")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn read_manifest(out: &Path) -> SiteManifest {
    serde_json::from_slice(&fs::read(out.join("peercdn.json")).unwrap()).unwrap()
}

/// Copies the fixture into a fresh temporary directory named `site`.
pub fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_site(), &dir.path().join("site"));
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
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

pub fn assert_no_output(dir: &Path) {
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
