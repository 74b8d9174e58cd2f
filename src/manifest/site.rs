//! `peercdn.json`: the map from URL paths to files of the torrent that the
//! service worker reads, and its verification.
//!
//! ```json
//! { "version": 2, "info_hash": "<40 hex>", "piece_length": 16384,
//!   "info": "<base64 of the bencoded info dictionary>",
//!   "sha256": "<base64 of each piece's SHA-256, one after the other>",
//!   "url_list": ["https://example.org/"],            (only with --base-url)
//!   "assets": [ { "path": "img/a%20b.png", "content_type": "image/png",
//!                 "length": 1234 }, ... ] }
//! ```
//!
//! Each piece hash is in it once, inside the info dictionary: positions,
//! the total length and the hashes are derived from that dictionary, never
//! read beside it (version 1 listed every hash twice, in hex and in the
//! dictionary, and the positions too: 422 KB for a thousand files).
//! Asset paths are relative URL paths (see [`crate::url_path`]), sorted,
//! unique, one per non-padding file of the dictionary, in its order.
//! [`SiteManifest::verify`] is the only way to a [`VerifiedManifest`]: it
//! checks the info hash, then derives every asset's place from the
//! dictionary and refuses a manifest whose paths or lengths disagree with
//! it, instead of half-trusting it.

use serde::{Deserialize, Serialize};

use super::layout::is_valid_piece_length;
use super::{sha1, InfoDict, ManifestError, Sha1Digest, Sha256Digest};
use crate::encoding::{base64_decode, base64_encode, hex_decode, hex_encode, quoted};
use crate::url_path::encode_components;

pub const MANIFEST_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteManifest {
    pub version: u32,
    pub info_hash: String,
    pub piece_length: u64,
    pub info: String,
    /// Each piece's SHA-256, in base64: checked in the browser beside the
    /// torrent's SHA-1, which stock clients keep using.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url_list: Vec<String>,
    pub assets: Vec<SiteAsset>,
}

/// An asset as `peercdn.json` lists it: what the info dictionary does not
/// say (its content type), and what a reader wants at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAsset {
    pub path: String,
    pub content_type: String,
    pub length: u64,
}

/// A verified asset: its place in the torrent, derived from the info
/// dictionary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetEntry {
    pub path: String,
    pub content_type: String,
    pub length: u64,
    pub first_piece: u64,
    pub offset: u64,
}

/// A manifest whose every field was checked against its info hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedManifest {
    pub info_hash: Sha1Digest,
    pub piece_length: u64,
    pub total_length: u64,
    pub piece_hashes: Vec<Sha1Digest>,
    /// One per piece, over the same bytes as its SHA-1 (padding included).
    pub piece_sha256: Vec<Sha256Digest>,
    /// Sorted by `path`: look assets up with [`VerifiedManifest::asset`].
    pub assets: Vec<AssetEntry>,
    pub url_list: Vec<String>,
    /// The bencoded info dictionary, which hashes to `info_hash`: what a
    /// peer that knows only the info hash (a magnet link) asks for (BEP 9).
    pub info: Vec<u8>,
}

impl VerifiedManifest {
    pub fn asset(&self, path: &str) -> Option<&AssetEntry> {
        let i = self
            .assets
            .binary_search_by(|a| a.path.as_str().cmp(path))
            .ok()?;
        self.assets.get(i)
    }
}

impl SiteManifest {
    /// Derives the manifest from an info dictionary. `content_types` has one
    /// entry per non-padding file, in order; `sha256` one per piece.
    pub fn new(
        info: &InfoDict,
        content_types: &[String],
        url_list: Vec<String>,
        sha256: &[Sha256Digest],
    ) -> SiteManifest {
        let assets = asset_placements(info)
            .zip(content_types)
            .map(|((path, length, _), content_type)| SiteAsset {
                path,
                content_type: content_type.clone(),
                length,
            })
            .collect();
        SiteManifest {
            version: MANIFEST_VERSION,
            info_hash: hex_encode(&info.info_hash()),
            piece_length: info.piece_length,
            info: base64_encode(&info.to_bencode()),
            sha256: base64_encode(sha256.concat().as_slice()),
            url_list,
            assets,
        }
    }

    /// Checks the manifest against its own info dictionary and info hash.
    pub fn verify(&self) -> Result<VerifiedManifest, ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::invalid(
                "version",
                format!(
                    "unsupported version {} (this is {MANIFEST_VERSION}: run `peercdn build` again)",
                    self.version
                ),
            ));
        }
        let info_bytes =
            base64_decode(&self.info).map_err(|e| ManifestError::invalid("info", e.to_string()))?;
        let claimed = parse_digest(&self.info_hash, "info_hash")?;
        let actual = sha1(&info_bytes);
        if claimed != actual {
            return Err(ManifestError::InfoHashMismatch {
                claimed: self.info_hash.clone(),
                actual: hex_encode(&actual),
            });
        }
        let info = InfoDict::parse(&info_bytes)?;
        self.check_piece_length(&info)?;
        let assets = self.placed_assets(&info)?;
        let piece_sha256 = self.piece_sha256(info.piece_hashes.len())?;
        Ok(VerifiedManifest {
            info_hash: actual,
            piece_length: info.piece_length,
            total_length: info.total_length(),
            piece_hashes: info.piece_hashes,
            piece_sha256,
            assets,
            url_list: self.url_list.clone(),
            info: info_bytes,
        })
    }

    /// The SHA-256 digests, exactly one per piece.
    fn piece_sha256(&self, pieces: usize) -> Result<Vec<Sha256Digest>, ManifestError> {
        let bytes = base64_decode(&self.sha256)
            .map_err(|e| ManifestError::invalid("sha256", e.to_string()))?;
        if bytes.len() != pieces * 32 {
            return Err(ManifestError::mismatch(
                "sha256",
                format!("{} bytes for {pieces} pieces", bytes.len()),
            ));
        }
        Ok(bytes
            .chunks_exact(32)
            .filter_map(|d| Sha256Digest::try_from(d).ok())
            .collect())
    }

    fn check_piece_length(&self, info: &InfoDict) -> Result<(), ManifestError> {
        if !is_valid_piece_length(info.piece_length) {
            return Err(ManifestError::invalid(
                "piece_length",
                "not a power of two from 16 KiB to 4 MiB",
            ));
        }
        if self.piece_length != info.piece_length {
            return Err(ManifestError::mismatch(
                "piece_length",
                self.piece_length.to_string(),
            ));
        }
        Ok(())
    }

    /// The assets with their places in the torrent, once each agrees with
    /// its file of the info dictionary.
    fn placed_assets(&self, info: &InfoDict) -> Result<Vec<AssetEntry>, ManifestError> {
        let mut expected = asset_placements(info);
        let mut placed: Vec<AssetEntry> = Vec::with_capacity(self.assets.len());
        for asset in &self.assets {
            let Some((path, length, offset)) = expected.next() else {
                return Err(ManifestError::mismatch("assets", "more assets than files"));
            };
            if asset.path != path || asset.length != length {
                return Err(ManifestError::mismatch(
                    "assets",
                    format!("asset {}", quoted(&asset.path)),
                ));
            }
            if offset % info.piece_length != 0 {
                return Err(ManifestError::invalid(
                    "assets",
                    format!("{} is not piece-aligned", quoted(&asset.path)),
                ));
            }
            if placed.last().is_some_and(|p| p.path >= asset.path) {
                return Err(ManifestError::invalid(
                    "assets",
                    "paths not sorted or not unique",
                ));
            }
            if asset.content_type.is_empty() || asset.content_type.chars().any(char::is_control) {
                return Err(ManifestError::invalid(
                    "content_type",
                    format!("for {}", quoted(&asset.path)),
                ));
            }
            placed.push(AssetEntry {
                path,
                content_type: asset.content_type.clone(),
                length,
                first_piece: offset / info.piece_length,
                offset,
            });
        }
        if expected.next().is_some() {
            return Err(ManifestError::mismatch("assets", "fewer assets than files"));
        }
        Ok(placed)
    }
}

/// (URL path, length, offset) of each non-padding file of `info`, in order.
fn asset_placements(info: &InfoDict) -> impl Iterator<Item = (String, u64, u64)> + '_ {
    let mut offset = 0u64;
    info.files.iter().filter_map(move |file| {
        let start = offset;
        offset = offset.saturating_add(file.length);
        (!file.padding).then(|| (encode_components(&file.path), file.length, start))
    })
}

fn parse_digest(text: &str, field: &'static str) -> Result<Sha1Digest, ManifestError> {
    hex_decode(text)
        .ok()
        .and_then(|bytes| Sha1Digest::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| ManifestError::invalid(field, "not 40 hex digits"))
}

#[cfg(test)]
#[path = "site_tests.rs"]
mod tests;
