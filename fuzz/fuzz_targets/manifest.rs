//! The manifest parsers on arbitrary bytes: a `.torrent` file, a bare info
//! dictionary, and `peercdn.json` with its verification. Never panics; a
//! torrent that parses re-encodes to a torrent with the same info hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::manifest::{InfoDict, SiteManifest, Torrent};

fuzz_target!(|data: &[u8]| {
    if let Ok((torrent, info_hash)) = Torrent::parse(data) {
        let (again, again_hash) = Torrent::parse(&torrent.to_bytes()).expect("own output parses");
        assert_eq!(again.info, torrent.info);
        // Single-file torrents are re-encoded in multi-file form, so only a
        // multi-file input keeps its info hash.
        if info_hash == torrent.info.info_hash() {
            assert_eq!(again_hash, info_hash);
        }
    }
    let _ = InfoDict::parse(data);
    if let Ok(manifest) = serde_json::from_slice::<SiteManifest>(data) {
        let _ = manifest.verify();
    }
});
