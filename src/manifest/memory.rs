//! A site built in memory, laid out exactly as `peercdn build` lays out
//! files on disk: for tests, simulations and tools that have the bytes at
//! hand rather than in a directory.

use super::{sha1, sha256, InfoDict, PieceLayout, SiteManifest, VerifiedManifest};

pub struct InMemorySite {
    pub info: InfoDict,
    pub manifest: VerifiedManifest,
    /// The torrent's byte space, BEP 47 padding included.
    pub bytes: Vec<u8>,
}

/// Lays out `assets` (path, content type, bytes; in manifest order, i.e.
/// sorted by path) in pieces of `piece_length` and hashes them. `None` if
/// the manifest does not verify (unsorted paths, bad piece length).
pub fn in_memory_site(
    name: &str,
    assets: &[(&str, &str, &[u8])],
    piece_length: u64,
) -> Option<InMemorySite> {
    let lengths: Vec<u64> = assets.iter().map(|(_, _, b)| b.len() as u64).collect();
    let layout = PieceLayout::new(&lengths, piece_length)?;
    let mut bytes = vec![0u8; usize::try_from(layout.total_length).ok()?];
    for ((_, _, content), place) in assets.iter().zip(&layout.placements) {
        let start = usize::try_from(place.offset).ok()?;
        bytes
            .get_mut(start..start + content.len())?
            .copy_from_slice(content);
    }
    let pieces = bytes.chunks(usize::try_from(piece_length).ok()?);
    let piece_hashes = pieces.clone().map(sha1).collect();
    let piece_sha256: Vec<_> = pieces.map(sha256).collect();
    let paths = assets
        .iter()
        .map(|(p, _, _)| p.split('/').map(str::to_string).collect())
        .collect();
    let info = InfoDict::from_layout(name, paths, &layout, piece_hashes);
    let types: Vec<String> = assets.iter().map(|(_, t, _)| t.to_string()).collect();
    let manifest = SiteManifest::new(&info, &types, Vec::new(), &piece_sha256)
        .verify()
        .ok()?;
    Some(InMemorySite {
        info,
        manifest,
        bytes,
    })
}
