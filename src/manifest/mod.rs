//! The site manifest: the root of trust for every byte a visitor receives.
//!
//! `peercdn build` writes two files that describe the same thing:
//! - `peercdn.torrent`, a BitTorrent v1 multi-file torrent of the site
//!   ([`torrent`]): BEP 47 padding files so every asset starts on a piece
//!   boundary ([`layout`]), SHA-1 piece hashes, swarm id = info hash;
//! - `peercdn.json`, the map the service worker reads ([`site`]): URL path,
//!   content type and length of every asset, and the bencoded info
//!   dictionary itself (the piece hashes, once), so a browser can check
//!   that it really hashes to the info hash before trusting anything.
//!
//! Invariant: a [`VerifiedManifest`] exists only when the JSON, the info
//! dictionary and the info hash all agree; nothing downstream re-checks.

pub mod layout;
pub mod memory;
pub mod pieces;
pub mod site;
pub mod torrent;

pub use layout::{choose_piece_length, PieceLayout};
pub use memory::{in_memory_site, InMemorySite};
pub use pieces::PieceSpan;
pub use site::{AssetEntry, SiteAsset, SiteManifest, VerifiedManifest};
pub use torrent::{InfoDict, Torrent, TorrentFile};

use crate::bencode::DecodeError;

/// A SHA-1 digest: piece hashes and info hashes.
pub type Sha1Digest = [u8; 20];

/// A SHA-256 digest: each piece's second hash, in `peercdn.json` only
/// (SHA-1 collisions are practical for whoever chooses both files).
pub type Sha256Digest = [u8; 32];

/// SHA-256 of `bytes`, natively (the browser asks crypto.subtle).
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// SHA-1 of `bytes`, with the implementation shared by native and wasm.
pub fn sha1(bytes: &[u8]) -> Sha1Digest {
    sha1_smol::Sha1::from(bytes).digest().bytes()
}

/// Why a torrent or a site manifest was refused. Names the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{0}")]
    Bencode(#[from] DecodeError),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("invalid `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("info hash {claimed} does not match the info dictionary ({actual})")]
    InfoHashMismatch { claimed: String, actual: String },
    #[error("`{field}` disagrees with the info dictionary: {reason}")]
    Mismatch { field: &'static str, reason: String },
}

impl ManifestError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ManifestError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(field: &'static str, reason: impl Into<String>) -> Self {
        ManifestError::Mismatch {
            field,
            reason: reason.into(),
        }
    }
}
