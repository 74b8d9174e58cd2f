//! Writing the manifest so that a failed build leaves nothing behind: each
//! output goes to a temporary dotfile in the output directory, and only when
//! both are complete are they renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes every `(file name, bytes)` under `dir`, all or (as far as the
/// filesystem allows) nothing.
pub fn write_all_or_nothing(dir: &Path, outputs: &[(&str, &[u8])]) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let mut written: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = outputs.iter().try_for_each(|(name, bytes)| {
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = write_file(&temp, bytes);
        // Register before checking, so a half-written temp is removed too.
        written.push((temp, dir.join(name)));
        result
    });
    let result = result.and_then(|()| {
        written.iter().try_for_each(|(temp, path)| {
            fs::rename(temp, path).with_context(|| format!("cannot write {}", path.display()))
        })
    });
    if result.is_err() {
        for (temp, _) in &written {
            let _ = fs::remove_file(temp);
        }
    }
    result
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
