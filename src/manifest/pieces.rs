//! Pieces of a verified manifest: which asset each belongs to, how many of
//! its bytes are asset data, and checking received data against its hash.
//!
//! Because every asset starts on a piece boundary, a piece holds bytes of
//! exactly one asset; the last piece of an asset that is not the torrent's
//! last is completed with BEP 47 zero padding up to the piece length. Only
//! the data part travels from the origin or is cached; the zeros are
//! re-created here for hashing.

use super::{sha1, AssetEntry, Sha1Digest, VerifiedManifest};

/// Where one piece's data lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceSpan {
    /// Index of the asset in `VerifiedManifest::assets`.
    pub asset: usize,
    /// Offset of the piece's first byte within the asset.
    pub asset_offset: u64,
    /// Asset bytes in the piece (the rest, if any, is zero padding).
    pub data_len: u64,
    /// Bytes the hash covers: the piece length, or less for the torrent's
    /// last piece.
    pub hashed_len: u64,
}

impl VerifiedManifest {
    /// The span of piece `index`, or `None` past the last piece.
    pub fn piece_span(&self, index: u64) -> Option<PieceSpan> {
        if index >= self.piece_hashes.len() as u64 {
            return None;
        }
        let asset = self.asset_of_piece(index)?;
        let entry = &self.assets[asset];
        let piece_start = index * self.piece_length;
        let asset_offset = piece_start - entry.offset;
        let data_len = (entry.length - asset_offset).min(self.piece_length);
        let hashed_len = (self.total_length - piece_start).min(self.piece_length);
        Some(PieceSpan {
            asset,
            asset_offset,
            data_len,
            hashed_len,
        })
    }

    /// Index of the non-empty asset whose pieces include `piece`. Assets
    /// are in torrent order, so their first pieces never decrease.
    fn asset_of_piece(&self, piece: u64) -> Option<usize> {
        let after = self.assets.partition_point(|a| a.first_piece <= piece);
        (0..after)
            .rev()
            .find(|&i| covers(&self.assets[i], piece, self.piece_length))
    }

    /// Whether `data` is the verified content of piece `index`: the asset
    /// bytes of the piece, without padding.
    pub fn piece_matches(&self, index: u64, data: &[u8]) -> bool {
        let (Some(span), Some(expected)) = (
            self.piece_span(index),
            self.piece_hashes.get(index as usize),
        ) else {
            return false;
        };
        if data.len() as u64 != span.data_len {
            return false;
        }
        hash_with_padding(data, span.hashed_len) == *expected
    }
}

fn covers(asset: &AssetEntry, piece: u64, piece_length: u64) -> bool {
    asset.length > 0
        && piece >= asset.first_piece
        && piece < asset.first_piece + asset.length.div_ceil(piece_length)
}

/// SHA-1 of `data` followed by zeros up to `hashed_len` bytes.
fn hash_with_padding(data: &[u8], hashed_len: u64) -> Sha1Digest {
    let padding = hashed_len.saturating_sub(data.len() as u64);
    if padding == 0 {
        return sha1(data);
    }
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(data);
    let zeros = [0u8; 4096];
    let mut left = padding;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        hasher.update(&zeros[..n]);
        left -= n as u64;
    }
    hasher.digest().bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest of assets with the given contents, built like `peercdn build`.
    fn manifest_of(contents: &[&[u8]], piece_length: u64) -> VerifiedManifest {
        let names: Vec<String> = (0..contents.len()).map(|i| format!("f{i}")).collect();
        let assets: Vec<(&str, &str, &[u8])> = names
            .iter()
            .zip(contents)
            .map(|(n, c)| (n.as_str(), "application/octet-stream", *c))
            .collect();
        crate::manifest::in_memory_site("t", &assets, piece_length)
            .unwrap()
            .manifest
    }

    #[test]
    fn spans_and_padding() {
        let pl = 16 * 1024;
        let a = vec![1u8; 20_000];
        let c = vec![3u8; 100];
        let m = manifest_of(&[&a, b"", &c], pl);
        assert_eq!(m.piece_hashes.len(), 3);
        let s0 = m.piece_span(0).unwrap();
        assert_eq!(
            (s0.asset, s0.asset_offset, s0.data_len, s0.hashed_len),
            (0, 0, pl, pl)
        );
        let s1 = m.piece_span(1).unwrap();
        assert_eq!(
            (s1.asset, s1.asset_offset, s1.data_len, s1.hashed_len),
            (0, pl, 20_000 - pl, pl)
        );
        let s2 = m.piece_span(2).unwrap();
        assert_eq!((s2.asset, s2.data_len, s2.hashed_len), (2, 100, 100));
        assert!(m.piece_span(3).is_none());
        assert!(m.piece_matches(1, &a[pl as usize..]));
        assert!(m.piece_matches(2, &c));
        assert!(!m.piece_matches(2, &c[..99]), "truncated");
        let mut forged = c.clone();
        forged[0] ^= 1;
        assert!(!m.piece_matches(2, &forged), "forged");
        assert!(!m.piece_matches(9, &c), "no such piece");
    }
}
