//! Finding the files a site publishes.
//!
//! Rules: every regular file below the site directory, except the manifest
//! outputs and dotfiles (any component starting with `.`), unless
//! `--include` names them; `--exclude` removes what it matches. Patterns are
//! globs over the relative path with `/` separators (`*` also crosses `/`).
//! Symlinks are followed only while they stay inside the site directory;
//! one that leaves it, dangles or loops is an error naming it. A file a
//! symlink resolves to is judged by its own path too: a link to a dotfile
//! is a dotfile (the same rule `peercdn serve` applies, [`crate::hidden`]).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

/// One file to publish.
#[derive(Debug)]
pub struct SiteFile {
    /// Relative path components, as in the torrent.
    pub components: Vec<String>,
    /// Where to read it (a symlink resolved to its target).
    pub fs_path: PathBuf,
}

pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
    /// Canonical paths never published (the manifest outputs).
    skip: HashSet<PathBuf>,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String], skip: HashSet<PathBuf>) -> Result<Filter> {
        let include = if include.is_empty() {
            None
        } else {
            Some(glob_set(include, "--include")?)
        };
        let exclude = glob_set(exclude, "--exclude")?;
        Ok(Filter {
            include,
            exclude,
            skip,
        })
    }

    fn keeps(&self, relative: &str, canonical: &Path) -> bool {
        if self.skip.contains(canonical) || self.exclude.is_match(relative) {
            return false;
        }
        match &self.include {
            Some(set) => set.is_match(relative),
            None => !relative.split('/').any(|c| c.starts_with('.')),
        }
    }

    /// A file reached through a symlink is hidden if what it resolves to
    /// is (`public.txt -> .env`): kept then only if an include pattern
    /// names the target itself.
    fn keeps_target(&self, root: &Path, canonical: &Path) -> bool {
        if !crate::hidden::hidden_within(root, canonical) {
            return true;
        }
        let target = canonical.strip_prefix(root).ok().and_then(Path::to_str);
        match (&self.include, target) {
            (Some(set), Some(target)) => set.is_match(target),
            _ => false,
        }
    }

    /// Without include patterns, dot-directories (.git) are not even read.
    fn enters(&self, name: &str) -> bool {
        self.include.is_some() || !name.starts_with('.')
    }
}

fn glob_set(patterns: &[String], flag: &str) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern)
            .with_context(|| format!("{flag} {pattern:?} is not a valid glob"))?;
        builder.add(glob);
    }
    builder.build().with_context(|| format!("{flag} patterns"))
}

/// Lists the files of `root` (already canonical) that `filter` keeps, in no
/// particular order.
pub fn site_files(root: &Path, filter: &Filter) -> Result<Vec<SiteFile>> {
    let mut walker = Walker {
        root,
        filter,
        files: Vec::new(),
        ancestors: vec![root.to_path_buf()],
    };
    walker.directory(root, &mut Vec::new())?;
    Ok(walker.files)
}

struct Walker<'a> {
    root: &'a Path,
    filter: &'a Filter,
    files: Vec<SiteFile>,
    /// Canonical directories on the current path, to detect symlink loops.
    ancestors: Vec<PathBuf>,
}

impl Walker<'_> {
    fn directory(&mut self, dir: &Path, prefix: &mut Vec<String>) -> Result<()> {
        let entries = fs::read_dir(dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?;
        for entry in entries {
            let entry =
                entry.with_context(|| format!("cannot read directory {}", dir.display()))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                bail!("file name is not UTF-8: {}", path.display());
            };
            prefix.push(name);
            self.entry(&path, prefix)?;
            prefix.pop();
        }
        Ok(())
    }

    fn entry(&mut self, path: &Path, components: &mut Vec<String>) -> Result<()> {
        let link_meta = fs::symlink_metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let target = if link_meta.file_type().is_symlink() {
            self.symlink_target(path)?
        } else {
            path.to_path_buf()
        };
        let meta =
            fs::metadata(&target).with_context(|| format!("cannot read {}", path.display()))?;
        let name = components.last().map(String::as_str).unwrap_or_default();
        if meta.is_dir() {
            if !self.filter.enters(name) {
                return Ok(());
            }
            let canonical = fs::canonicalize(&target)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            if self.ancestors.contains(&canonical) {
                bail!(
                    "symlink loop: {} leads back to {}",
                    path.display(),
                    canonical.display()
                );
            }
            self.ancestors.push(canonical);
            self.directory(&target, components)?;
            self.ancestors.pop();
        } else if meta.is_file() {
            let canonical = fs::canonicalize(&target)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            let kept = self.filter.keeps(&components.join("/"), &canonical)
                && self.filter.keeps_target(self.root, &canonical);
            if kept {
                self.files.push(SiteFile {
                    components: components.clone(),
                    fs_path: target,
                });
            }
        }
        // Sockets, FIFOs and devices are not site files: skipped.
        Ok(())
    }

    fn symlink_target(&self, path: &Path) -> Result<PathBuf> {
        let target = fs::canonicalize(path).with_context(|| {
            format!(
                "symlink {} points to nothing that can be read",
                path.display()
            )
        })?;
        if !target.starts_with(self.root) {
            bail!(
                "symlink {} points outside the site directory (to {})",
                path.display(),
                target.display()
            );
        }
        Ok(target)
    }
}
