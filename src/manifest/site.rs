//! `peercdn.json`: the map from URL paths to positions in the torrent that
//! the service worker reads, and its verification.
//!
//! ```json
//! { "version": 1, "info_hash": "<40 hex>", "name": "site",
//!   "piece_length": 16384, "total_length": 20000,
//!   "pieces": ["<40 hex>", ...],
//!   "info": "<base64 of the bencoded info dictionary>",
//!   "url_list": ["https://example.org/"],            (only with --base-url)
//!   "assets": [ { "path": "img/a%20b.png", "content_type": "image/png",
//!                 "length": 1234, "first_piece": 0, "offset": 0 }, ... ] }
//! ```
//!
//! Asset paths are relative URL paths (see [`crate::url_path`]), sorted,
//! unique. [`SiteManifest::verify`] is the only way to a
//! [`VerifiedManifest`]: it re-derives every position and hash from the
//! info dictionary and checks the info hash, so a manifest that disagrees
//! with itself is refused instead of half-trusted.

use serde::{Deserialize, Serialize};

use super::layout::is_valid_piece_length;
use super::{sha1, InfoDict, ManifestError, Sha1Digest};
use crate::encoding::{base64_decode, base64_encode, hex_decode, hex_encode, quoted};
use crate::url_path::encode_components;

pub const MANIFEST_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteManifest {
    pub version: u32,
    pub info_hash: String,
    pub name: String,
    pub piece_length: u64,
    pub total_length: u64,
    pub pieces: Vec<String>,
    pub info: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url_list: Vec<String>,
    pub assets: Vec<AssetEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// entry per non-padding file, in order.
    pub fn new(info: &InfoDict, content_types: &[String], url_list: Vec<String>) -> SiteManifest {
        let assets = asset_placements(info)
            .zip(content_types)
            .map(|((path, length, offset), content_type)| AssetEntry {
                path,
                content_type: content_type.clone(),
                length,
                first_piece: offset / info.piece_length,
                offset,
            })
            .collect();
        SiteManifest {
            version: MANIFEST_VERSION,
            info_hash: hex_encode(&info.info_hash()),
            name: info.name.clone(),
            piece_length: info.piece_length,
            total_length: info.total_length(),
            pieces: info.piece_hashes.iter().map(|h| hex_encode(h)).collect(),
            info: base64_encode(&info.to_bencode()),
            url_list,
            assets,
        }
    }

    /// Checks the manifest against its own info dictionary and info hash.
    pub fn verify(&self) -> Result<VerifiedManifest, ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::invalid(
                "version",
                format!("unsupported version {}", self.version),
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
        self.check_header(&info)?;
        self.check_assets(&info)?;
        Ok(VerifiedManifest {
            info_hash: actual,
            piece_length: info.piece_length,
            total_length: self.total_length,
            piece_hashes: info.piece_hashes,
            assets: self.assets.clone(),
            url_list: self.url_list.clone(),
            info: info_bytes,
        })
    }

    fn check_header(&self, info: &InfoDict) -> Result<(), ManifestError> {
        if !is_valid_piece_length(info.piece_length) {
            return Err(ManifestError::invalid(
                "piece_length",
                "not a power of two from 16 KiB to 4 MiB",
            ));
        }
        if self.name != info.name {
            return Err(ManifestError::mismatch(
                "name",
                format!("{} vs {}", quoted(&self.name), quoted(&info.name)),
            ));
        }
        if self.piece_length != info.piece_length {
            return Err(ManifestError::mismatch(
                "piece_length",
                self.piece_length.to_string(),
            ));
        }
        if self.total_length != info.total_length() {
            return Err(ManifestError::mismatch(
                "total_length",
                self.total_length.to_string(),
            ));
        }
        if self.pieces.len() != info.piece_hashes.len() {
            return Err(ManifestError::mismatch(
                "pieces",
                format!("{} hashes", self.pieces.len()),
            ));
        }
        for (i, (text, digest)) in self.pieces.iter().zip(&info.piece_hashes).enumerate() {
            if parse_digest(text, "pieces")? != *digest {
                return Err(ManifestError::mismatch("pieces", format!("piece {i}")));
            }
        }
        Ok(())
    }

    fn check_assets(&self, info: &InfoDict) -> Result<(), ManifestError> {
        let mut expected = asset_placements(info);
        let mut previous: Option<&str> = None;
        for asset in &self.assets {
            let Some((path, length, offset)) = expected.next() else {
                return Err(ManifestError::mismatch("assets", "more assets than files"));
            };
            if asset.path != path || asset.length != length || asset.offset != offset {
                return Err(ManifestError::mismatch(
                    "assets",
                    format!("asset {}", quoted(&asset.path)),
                ));
            }
            if offset % info.piece_length != 0 || asset.first_piece != offset / info.piece_length {
                return Err(ManifestError::invalid(
                    "assets",
                    format!("{} is not piece-aligned", quoted(&asset.path)),
                ));
            }
            if previous.is_some_and(|p| p >= asset.path.as_str()) {
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
            previous = Some(&asset.path);
        }
        if expected.next().is_some() {
            return Err(ManifestError::mismatch("assets", "fewer assets than files"));
        }
        Ok(())
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
