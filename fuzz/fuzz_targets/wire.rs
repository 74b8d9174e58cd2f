//! The peer wire decoder on arbitrary bytes delivered in arbitrary channel
//! chunks: never panics, never buffers beyond its bound, and every message
//! it accepts re-encodes to exactly the bytes it was decoded from.
//! Then the same bytes, after a valid handshake, go to a whole engine as a
//! peer's data: the engine must not panic and its queues stay bounded.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use peercdn::engine::{Config, Engine, Input, Time};
use peercdn::manifest::{sha1, InfoDict, PieceLayout, SiteManifest, TorrentFile, VerifiedManifest};
use peercdn::wire::metadata::MetadataMessage;
use peercdn::wire::{Decoder, ExtendedHandshake, Frame, Geometry, Handshake, Limits, Message};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    decoder(rest, chunk);
    engine(rest, chunk);
});

fn decoder(rest: &[u8], chunk: usize) {
    let Some(geometry) = Geometry::new(32 * 1024, 100 * 32 * 1024 - 17) else {
        return;
    };
    let limits = Limits::default();
    let max_chunk = 4096;
    let mut decoder = Decoder::new(geometry, limits, max_chunk);
    'outer: for piece in rest.chunks(chunk) {
        if decoder.push(piece).is_err() {
            break;
        }
        assert!(decoder.buffered() <= limits.max_message_len as usize + 4 + max_chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(Frame::Message(msg))) => {
                    let bytes = msg.to_bytes();
                    let back = Message::try_from(&bytes[4..]);
                    assert_eq!(back.as_ref(), Ok(&msg));
                    if let Message::Extended { payload, .. } = msg {
                        let _ = ExtendedHandshake::try_from(payload);
                        let _ = MetadataMessage::try_from(payload);
                    }
                }
                Ok(Some(Frame::Handshake(hs))) => assert_eq!(hs.to_bytes().len(), 68),
                Ok(None) => break,
                Err(_) => break 'outer,
            }
        }
    }
}

/// A three-piece site (one padded asset, one short one), built once.
fn manifest() -> &'static VerifiedManifest {
    static M: OnceLock<VerifiedManifest> = OnceLock::new();
    M.get_or_init(|| {
        let pl = 16 * 1024;
        let layout = PieceLayout::new(&[20_000, 3_000], pl).expect("layout");
        let bytes = vec![7u8; layout.total_length as usize];
        let files = vec![
            TorrentFile {
                path: vec!["a".into()],
                length: 20_000,
                padding: false,
            },
            TorrentFile::padding(layout.placements[0].padding),
            TorrentFile {
                path: vec!["b".into()],
                length: 3_000,
                padding: false,
            },
        ];
        let piece_hashes = bytes.chunks(pl as usize).map(sha1).collect();
        let sha256: Vec<_> = bytes.chunks(pl as usize).map(peercdn::manifest::sha256).collect();
        let info = InfoDict {
            name: "f".into(),
            piece_length: pl,
            piece_hashes,
            files,
        };
        let types = vec!["x/y".to_string(), "x/y".to_string()];
        SiteManifest::new(&info, &types, vec![], &sha256)
            .verify()
            .expect("manifest")
    })
}

fn engine(rest: &[u8], chunk: usize) {
    let m = manifest();
    let config = Config {
        max_peer_requests: 16,
        ..Config::default()
    };
    let Ok(mut e) = Engine::new(m, config, [1; 20], 9) else {
        return;
    };
    let mut now = Time::ZERO;
    e.handle(now, Input::StoreHas { pieces: &[0] });
    e.handle(
        now,
        Input::Want {
            id: 1,
            asset: 0,
            start: 0,
            end: 20_000,
            deadline: Time::from_millis(5_000),
        },
    );
    e.handle(now, Input::PeerConnected { peer: 1 });
    let hs = Handshake::new(m.info_hash, [2; 20]).to_bytes();
    e.handle(
        now,
        Input::PeerData {
            peer: 1,
            bytes: &hs,
        },
    );
    while e.poll_output().is_some() {}
    // At most 64 steps per input, so the decoder half keeps a high exec rate.
    for piece in rest.chunks(chunk.max(rest.len() / 64).max(1)) {
        now = now.after(std::time::Duration::from_millis(u64::from(piece[0])));
        e.handle(
            now,
            Input::PeerData {
                peer: 1,
                bytes: piece,
            },
        );
        e.handle(now, Input::Timer);
        while e.poll_output().is_some() {}
        assert!(e.queued_requests() <= 16 && e.peer_count() <= 1);
        if let Some(t) = e.poll_timeout() {
            assert!(t >= now);
        }
    }
}
