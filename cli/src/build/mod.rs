//! `peercdn build`: turns a site directory into its manifest.
//!
//! Steps: find the files ([`walk`]), sort them by URL path, lay them out in
//! pieces, hash every piece on all cores ([`hash`]), check that no file
//! changed meanwhile, then write `peercdn.torrent` and `peercdn.json`
//! together ([`output`]). Two builds of the same tree give identical bytes:
//! no dates, sorted files, canonical bencode.

mod hash;
mod output;
mod walk;

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use peercdn::manifest::layout::{is_valid_piece_length, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH};
use peercdn::manifest::{choose_piece_length, InfoDict, PieceLayout, SiteManifest, Torrent};
use peercdn::url_path::encode_components;

use crate::content_type;
use hash::PlacedFile;

pub const TORRENT_FILE: &str = "peercdn.torrent";
pub const JSON_FILE: &str = "peercdn.json";

pub struct BuildOptions {
    pub site_dir: PathBuf,
    pub out_dir: Option<PathBuf>,
    pub piece_length: Option<u64>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub base_url: Option<String>,
}

/// What a build produced, printed as its one-line summary.
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub pieces: u64,
    pub piece_length: u64,
    pub info_hash: String,
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = self.bytes as f64 / (1024.0 * 1024.0);
        write!(
            f,
            "built {} files, {} bytes ({mib:.1} MiB), {} pieces of {} KiB, info hash {}, in {:.2} s",
            self.files,
            self.bytes,
            self.pieces,
            self.piece_length / 1024,
            self.info_hash,
            self.elapsed.as_secs_f64()
        )
    }
}

/// A site file with what its manifest entry needs.
struct Asset {
    components: Vec<String>,
    url_path: String,
    fs_path: PathBuf,
    length: u64,
    modified: Option<SystemTime>,
}

pub fn run(options: BuildOptions) -> Result<Summary> {
    let started = Instant::now();
    let site = &options.site_dir;
    let root =
        fs::canonicalize(site).with_context(|| format!("site directory {}", site.display()))?;
    if !root.is_dir() {
        bail!("site directory {} is not a directory", site.display());
    }
    let out_dir = options.out_dir.clone().unwrap_or_else(|| root.clone());
    let assets = collect_assets(&root, &out_dir, &options)?;
    let lengths: Vec<u64> = assets.iter().map(|a| a.length).collect();
    let piece_length = match options.piece_length {
        Some(n) if is_valid_piece_length(n) => n,
        Some(n) => bail!(
            "--piece-length {n} must be a power of two from {MIN_PIECE_LENGTH} to {MAX_PIECE_LENGTH}"
        ),
        None => choose_piece_length(&lengths),
    };
    let layout = PieceLayout::new(&lengths, piece_length).context("the site is too large")?;
    let placed: Vec<PlacedFile> = assets
        .iter()
        .zip(&layout.placements)
        .map(|(a, p)| PlacedFile {
            fs_path: a.fs_path.clone(),
            placement: *p,
        })
        .collect();
    pause_for_tests();
    let hashes = hash_with_progress(&placed, &layout)?;
    check_unchanged(&assets, &placed)?;
    let (piece_hashes, piece_sha256): (Vec<_>, Vec<_>) = hashes.into_iter().unzip();
    let info = info_dict(&root, &assets, &layout, piece_hashes);
    let url_list: Vec<String> = options.base_url.iter().cloned().collect();
    let content_types: Vec<String> = assets
        .iter()
        .map(|a| content_type::for_path(&a.fs_path))
        .collect();
    let manifest = SiteManifest::new(&info, &content_types, url_list.clone(), &piece_sha256);
    let json = manifest_json(&manifest)?;
    let torrent = Torrent { info, url_list }.to_bytes();
    output::write_all_or_nothing(&out_dir, &[(TORRENT_FILE, &torrent), (JSON_FILE, &json)])?;
    Ok(Summary {
        files: assets.len(),
        bytes: lengths.iter().sum(),
        pieces: layout.piece_count,
        piece_length,
        info_hash: manifest.info_hash,
        elapsed: started.elapsed(),
    })
}

/// `peercdn.json` without indentation (every visitor's worker fetches it;
/// indenting took a quarter of it on a thousand files), one asset per line
/// for a reader. The line breaks go before each `{"path":`, which cannot
/// occur inside a JSON string: its quotes would be escaped there.
fn manifest_json(manifest: &SiteManifest) -> Result<Vec<u8>> {
    let compact = serde_json::to_string(manifest).context("cannot encode peercdn.json")?;
    let mut json = compact.replace(r#"{"path":"#, "\n{\"path\":");
    json.push('\n');
    Ok(json.into_bytes())
}

fn collect_assets(root: &Path, out_dir: &Path, options: &BuildOptions) -> Result<Vec<Asset>> {
    // The outputs of this and earlier builds are never assets themselves.
    let out_canonical = fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.to_path_buf());
    let skip: HashSet<PathBuf> = [TORRENT_FILE, JSON_FILE]
        .iter()
        .map(|n| out_canonical.join(n))
        .collect();
    let filter = walk::Filter::new(&options.include, &options.exclude, skip)?;
    let mut assets = walk::site_files(root, &filter)?
        .into_iter()
        .map(|file| {
            let meta = fs::metadata(&file.fs_path)
                .with_context(|| format!("cannot read {}", file.fs_path.display()))?;
            Ok(Asset {
                url_path: encode_components(&file.components),
                components: file.components,
                fs_path: file.fs_path,
                length: meta.len(),
                modified: meta.modified().ok(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if assets.is_empty() {
        bail!("no files to publish in {}", options.site_dir.display());
    }
    assets.sort_by(|a, b| a.url_path.cmp(&b.url_path));
    Ok(assets)
}

/// Tests set `PEERCDN_TEST_PAUSE_BEFORE_HASH_MS` to get a window in which to
/// change a file between listing and hashing; unset, this does nothing.
fn pause_for_tests() {
    let pause = std::env::var("PEERCDN_TEST_PAUSE_BEFORE_HASH_MS").ok();
    if let Some(ms) = pause.and_then(|v| v.parse().ok()) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

fn hash_with_progress(
    placed: &[PlacedFile],
    layout: &PieceLayout,
) -> Result<Vec<hash::PieceHashes>> {
    let total: u64 = placed.iter().map(|p| p.placement.length).sum();
    // indicatif draws nothing when stderr is not a terminal.
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("hashing {bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
    {
        bar.set_style(style);
    }
    let hashes = hash::hash_pieces(placed, layout.piece_length, layout.piece_count, &mut |n| {
        bar.inc(n)
    });
    bar.finish_and_clear();
    hashes
}

/// A file whose size or modification time moved while it was hashed has
/// hashes that match neither version: refuse to publish them.
fn check_unchanged(assets: &[Asset], placed: &[PlacedFile]) -> Result<()> {
    for (asset, file) in assets.iter().zip(placed) {
        let meta = fs::metadata(&asset.fs_path).map_err(|_| hash::vanished(file))?;
        if meta.len() != asset.length || meta.modified().ok() != asset.modified {
            return Err(hash::changed(file));
        }
    }
    Ok(())
}

fn info_dict(
    root: &Path,
    assets: &[Asset],
    layout: &PieceLayout,
    piece_hashes: Vec<[u8; 20]>,
) -> InfoDict {
    let name = root.file_name().and_then(|n| n.to_str()).unwrap_or("site");
    let paths = assets.iter().map(|a| a.components.clone()).collect();
    InfoDict::from_layout(name, paths, layout, piece_hashes)
}
