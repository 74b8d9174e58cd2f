//! A synthetic site for the simulations: a few assets of pseudo-random
//! bytes laid out exactly as `peercdn build` lays them out (BEP 47 padding
//! after every asset but the last), and its verified manifest.

#![allow(dead_code)]

use peercdn::manifest::{choose_piece_length, in_memory_site, VerifiedManifest};

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
        let mut state = seed | 1;
        // xorshift: fast, deterministic content.
        let contents: Vec<Vec<u8>> = lengths
            .iter()
            .map(|&len| {
                (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect()
            })
            .collect();
        let assets = [
            ("a.css", "text/css", contents[0].as_slice()),
            ("b.mp4", "video/mp4", contents[1].as_slice()),
            ("c.txt", "text/plain", contents[2].as_slice()),
        ];
        let built = in_memory_site("site", &assets, choose_piece_length(&lengths)).expect("site");
        Site {
            manifest: built.manifest,
            bytes: built.bytes,
            big: 1,
            info: built.info.to_bencode(),
        }
    }

    /// A site of many assets of `lengths` bytes in pieces of
    /// `piece_length` (a documentation site: hundreds of small pages).
    /// `big` is the longest asset.
    pub fn many(lengths: &[u64], piece_length: u64, seed: u64) -> Site {
        let mut state = seed | 1;
        let contents: Vec<Vec<u8>> = lengths
            .iter()
            .map(|&len| {
                (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect()
            })
            .collect();
        let paths: Vec<String> = (0..lengths.len())
            .map(|i| format!("p/{i:05}.html"))
            .collect();
        let assets: Vec<(&str, &str, &[u8])> = paths
            .iter()
            .zip(&contents)
            .map(|(p, c)| (p.as_str(), "text/html", c.as_slice()))
            .collect();
        let built = in_memory_site("site", &assets, piece_length).expect("site");
        let big = (0..lengths.len()).max_by_key(|&i| lengths[i]).unwrap_or(0);
        Site {
            manifest: built.manifest,
            bytes: built.bytes,
            big: big as u32,
            info: built.info.to_bencode(),
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
