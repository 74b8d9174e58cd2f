//! Is the site's manifest there and newer than every site file? A stale
//! manifest makes visitors reject fresh files as corrupt (their hashes do
//! not match), so `serve` says so at start, or rebuilds with `--build`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::build::{JSON_FILE, TORRENT_FILE};

#[derive(Debug, PartialEq, Eq)]
pub enum ManifestStatus {
    Missing,
    /// This site file changed after the manifest was written.
    Stale(PathBuf),
    Fresh,
}

pub fn check(site: &Path) -> ManifestStatus {
    let Ok(written) = fs::metadata(site.join(JSON_FILE)).and_then(|m| m.modified()) else {
        return ManifestStatus::Missing;
    };
    match newest_file(site) {
        Some((path, modified)) if modified > written => ManifestStatus::Stale(path),
        _ => ManifestStatus::Fresh,
    }
}

/// The most recently modified site file, skipping dotfiles (as `build`
/// does) and the manifest itself. Symlinks are not followed.
fn newest_file(root: &Path) -> Option<(PathBuf, SystemTime)> {
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == JSON_FILE || name == TORRENT_FILE {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                dirs.push(entry.path());
            } else if let Ok(modified) = meta.modified() {
                if newest.as_ref().is_none_or(|(_, t)| modified > *t) {
                    newest = Some((entry.path(), modified));
                }
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fresh_and_stale() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), b"a").unwrap();
        assert_eq!(check(dir.path()), ManifestStatus::Missing);
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        fs::write(dir.path().join(JSON_FILE), b"{}").unwrap();
        fs::File::options()
            .write(true)
            .open(dir.path().join("a.txt"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(check(dir.path()), ManifestStatus::Fresh);
        fs::File::options()
            .write(true)
            .open(dir.path().join(JSON_FILE))
            .unwrap()
            .set_modified(old - std::time::Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            check(dir.path()),
            ManifestStatus::Stale(dir.path().join("a.txt"))
        );
    }
}
