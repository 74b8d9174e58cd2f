//! A synthetic site for the simulations: a few assets of pseudo-random
//! bytes laid out exactly as `peercdn build` lays them out (BEP 47 padding
//! after every asset but the last), and its verified manifest.

#![allow(dead_code)]

use peercdn::manifest::{
    choose_piece_length, sha1, InfoDict, PieceLayout, SiteManifest, TorrentFile, VerifiedManifest,
};

pub struct Site {
    pub manifest: VerifiedManifest,
    /// The torrent's byte space, padding included: the ground truth.
    pub bytes: Vec<u8>,
    /// Index (in `manifest.assets`) of the big asset the visitors want.
    pub big: u32,
    /// The bencoded info dictionary (for `ut_metadata`).
    pub info: Vec<u8>,
}

impl Site {
    /// A small asset, the big one (`big_len` bytes, deliberately not a
    /// multiple of the piece length, so padding follows it), a small one.
    pub fn new(big_len: u64, seed: u64) -> Site {
        let lengths = [70_001u64, big_len, 5_000];
        let names = ["a.css", "b.mp4", "c.txt"];
        let piece_length = choose_piece_length(&lengths);
        let layout = PieceLayout::new(&lengths, piece_length).expect("layout");
        let mut bytes = vec![0u8; layout.total_length as usize];
        let mut files = Vec::new();
        let mut state = seed | 1;
        for ((place, len), name) in layout.placements.iter().zip(lengths).zip(names) {
            for b in &mut bytes[place.offset as usize..(place.offset + len) as usize] {
                // xorshift: fast, deterministic content.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            files.push(TorrentFile {
                path: vec![name.to_string()],
                length: len,
                padding: false,
            });
            if place.padding > 0 {
                files.push(TorrentFile::padding(place.padding));
            }
        }
        let piece_hashes = bytes.chunks(piece_length as usize).map(sha1).collect();
        let info = InfoDict {
            name: "site".into(),
            piece_length,
            piece_hashes,
            files,
        };
        let types = vec![
            "text/css".to_string(),
            "video/mp4".into(),
            "text/plain".into(),
        ];
        let manifest = SiteManifest::new(&info, &types, vec![])
            .verify()
            .expect("manifest");
        Site {
            manifest,
            bytes,
            big: 1,
            info: info.to_bencode(),
        }
    }

    pub fn piece(&self, index: u32) -> &[u8] {
        let pl = self.manifest.piece_length as usize;
        let start = index as usize * pl;
        &self.bytes[start..(start + pl).min(self.bytes.len())]
    }

    pub fn piece_count(&self) -> u32 {
        self.manifest.piece_hashes.len() as u32
    }

    /// The bytes of asset `asset`, range `start..end`.
    pub fn asset_bytes(&self, asset: u32, start: u64, end: u64) -> &[u8] {
        let a = &self.manifest.assets[asset as usize];
        &self.bytes[(a.offset + start) as usize..(a.offset + end) as usize]
    }

    pub fn asset_len(&self, asset: u32) -> u64 {
        self.manifest.assets[asset as usize].length
    }
}
