//! Engine unit tests: one engine against hand-scripted peers (written with
//! the wire codec) and a scripted origin. Swarm behaviour lives in
//! tests/swarm.rs.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::manifest::{sha1, InfoDict, PieceLayout, SiteManifest, TorrentFile};
use crate::wire::metadata::{MetadataAssembler, MetadataMessage};
use crate::wire::{Decoder, ExtendedHandshake, Geometry, Handshake, Limits, Message};

const PL: u64 = 16 * 1024;

struct Site {
    manifest: VerifiedManifest,
    bytes: Vec<u8>,
    info: Vec<u8>,
}

/// Two assets: 40000 bytes (3 pieces, padded) and 50000 bytes (4 pieces).
fn site() -> Site {
    let lengths = [40_000u64, 50_000];
    let layout = PieceLayout::new(&lengths, PL).unwrap();
    let mut bytes = vec![0u8; layout.total_length as usize];
    let mut files = Vec::new();
    for (i, (place, len)) in layout.placements.iter().zip(lengths).enumerate() {
        for (j, b) in bytes[place.offset as usize..(place.offset + len) as usize]
            .iter_mut()
            .enumerate()
        {
            *b = (j * 31 + i * 7 + j / 251) as u8 | 1;
        }
        files.push(TorrentFile {
            path: vec![format!("f{i}")],
            length: len,
            padding: false,
        });
        if place.padding > 0 {
            files.push(TorrentFile::padding(place.padding));
        }
    }
    let piece_hashes = bytes.chunks(PL as usize).map(sha1).collect();
    let info = InfoDict {
        name: "t".into(),
        piece_length: PL,
        piece_hashes,
        files,
    };
    let types = vec!["a/b".to_string(), "a/b".to_string()];
    let manifest = SiteManifest::new(&info, &types, vec![]).verify().unwrap();
    Site {
        manifest,
        bytes,
        info: info.to_bencode(),
    }
}

fn engine(site: &Site, config: Config) -> Engine {
    let mut e = Engine::new(&site.manifest, config, *b"-PC0001-ourselves000", 1).unwrap();
    e.set_metadata(&site.info).unwrap();
    e
}

fn drain(e: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

fn seeded(site: &Site, config: Config) -> Engine {
    let mut e = engine(site, config);
    let all: Vec<u32> = (0..7).collect();
    e.handle(Time::ZERO, Input::StoreHas { pieces: &all });
    drain(&mut e);
    e
}

/// A scripted remote peer speaking the wire protocol by hand.
struct Remote {
    decoder: Decoder,
    id: [u8; 20],
}

impl Remote {
    fn new(site: &Site, tag: u8) -> Remote {
        let g = Geometry::new(site.manifest.piece_length, site.manifest.total_length).unwrap();
        Remote {
            decoder: Decoder::new(g, Limits::default(), 1 << 20),
            id: [tag; 20],
        }
    }

    /// Connects to the engine as peer `key` and completes the handshake;
    /// returns the outputs and the messages the engine sent us.
    fn connect(&mut self, e: &mut Engine, key: PeerKey, now: Time) -> (Vec<Output>, Vec<String>) {
        let g = self.decoder.clone();
        e.handle(now, Input::PeerConnected { peer: key });
        let hs = Handshake::new(e.info_hash, self.id).to_bytes();
        e.handle(
            now,
            Input::PeerData {
                peer: key,
                bytes: &hs,
            },
        );
        let out = drain(e);
        self.decoder = g;
        let msgs = self.read(&out, key);
        (out, msgs)
    }

    /// Messages in the engine's `Send` outputs to `key`.
    fn read(&mut self, outputs: &[Output], key: PeerKey) -> Vec<String> {
        let mut seen = Vec::new();
        for out in outputs {
            if let Output::Send { peer, bytes } = out {
                if *peer == key {
                    self.decoder.push(bytes).unwrap();
                    while let Some(frame) = self.decoder.next_frame().unwrap() {
                        seen.push(format!("{frame:?}"));
                    }
                }
            }
        }
        seen
    }
}

/// Drains outputs, answering every `ReadPiece` from the site's bytes.
fn answer_reads(e: &mut Engine, s: &Site, now: Time) -> Vec<Output> {
    let mut all = Vec::new();
    while let Some(out) = e.poll_output() {
        if let Output::ReadPiece { piece } = out {
            let start = piece as usize * PL as usize;
            let data = &s.bytes[start..(start + PL as usize).min(s.bytes.len())];
            e.handle(
                now,
                Input::PieceRead {
                    piece,
                    data: Some(data),
                },
            );
        }
        all.push(out);
    }
    all
}

fn send(e: &mut Engine, key: PeerKey, now: Time, msg: Message<'_>) -> Vec<Output> {
    e.handle(
        now,
        Input::PeerData {
            peer: key,
            bytes: &msg.to_bytes(),
        },
    );
    drain(e)
}

#[test]
fn a_request_flood_stays_bounded() {
    let s = site();
    let cfg = Config {
        max_peer_requests: 8,
        ..Config::default()
    };
    let mut e = seeded(&s, cfg);
    let mut remote = Remote::new(&s, 9);
    remote.connect(&mut e, 1, Time::ZERO);
    // Requests while choked are dropped.
    send(
        &mut e,
        1,
        Time::ZERO,
        Message::Request {
            index: 0,
            begin: 0,
            length: 16384,
        },
    );
    assert_eq!(e.queued_requests(), 0);
    let out = send(&mut e, 1, Time::ZERO, Message::Interested);
    assert!(remote.read(&out, 1).iter().any(|m| m.contains("Unchoke")));
    let mut flood = Vec::new();
    for i in 0..50_000u32 {
        Message::Request {
            index: i % 7,
            begin: 0,
            length: 500,
        }
        .encode_into(&mut flood);
    }
    let mut sent = 0usize;
    for chunk in flood.chunks(60_000) {
        e.handle(
            Time::ZERO,
            Input::PeerData {
                peer: 1,
                bytes: chunk,
            },
        );
        assert!(e.queued_requests() <= 8, "queue bounded");
        for out in answer_reads(&mut e, &s, Time::ZERO) {
            if let Output::Send { bytes, .. } = out {
                sent += bytes.len();
            }
        }
    }
    assert!(e.stats().requests_dropped > 40_000);
    assert!(sent > 0 && e.peer_count() == 1);
}

#[test]
fn ut_metadata_serves_the_info_dictionary_to_a_magnet_client() {
    let s = site();
    let mut e = seeded(&s, Config::default());
    let mut remote = Remote::new(&s, 5);
    let (out, msgs) = remote.connect(&mut e, 1, Time::ZERO);
    assert!(msgs[0].starts_with("Handshake"), "{msgs:?}");
    // Find the engine's extension handshake and our ut_metadata id there.
    let stream: Vec<u8> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send { peer: 1, bytes } => Some(bytes.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect();
    let ext = extended_handshake(&stream).expect("extension handshake");
    let their_id = ext.id_of("ut_metadata").unwrap();
    let size = ext.metadata_size.unwrap();
    let ours = ExtendedHandshake {
        extensions: [("ut_metadata".into(), 3)].into(),
        ..Default::default()
    };
    send(
        &mut e,
        1,
        Time::ZERO,
        Message::Extended {
            ext_id: 0,
            payload: &ours.to_bytes(),
        },
    );
    let mut asm = MetadataAssembler::new(e.info_hash, size).unwrap();
    for piece in asm.missing().collect::<Vec<_>>() {
        let req = MetadataMessage::Request { piece }.to_bytes();
        let out = send(
            &mut e,
            1,
            Time::ZERO,
            Message::Extended {
                ext_id: their_id,
                payload: &req,
            },
        );
        for o in &out {
            let Output::Send { bytes, .. } = o else {
                continue;
            };
            let Ok(Message::Extended { ext_id: 3, payload }) = Message::try_from(&bytes[4..])
            else {
                continue;
            };
            if let Ok(MetadataMessage::Data {
                piece,
                total_size,
                data,
            }) = MetadataMessage::try_from(payload)
            {
                asm.accept(piece, total_size, data).unwrap();
            }
        }
    }
    assert_eq!(asm.finish().unwrap(), Some(s.info.clone()));
    // Wrong metadata is refused outright.
    assert_eq!(
        e.set_metadata(b"d1:ai1ee"),
        Err(EngineError::MetadataMismatch)
    );
}

fn extended_handshake(bytes: &[u8]) -> Option<ExtendedHandshake> {
    let mut rest = bytes.get(68..)?;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        if let Ok(Message::Extended { ext_id: 0, payload }) =
            Message::try_from(rest.get(4..4 + len)?)
        {
            return ExtendedHandshake::try_from(payload).ok();
        }
        rest = &rest[4 + len..];
    }
    None
}

fn want(e: &mut Engine, asset: u32, end: u64, deadline_s: u64) -> Vec<Output> {
    let deadline = Time::from_millis(deadline_s * 1000);
    e.handle(
        Time::ZERO,
        Input::Want {
            id: 7,
            asset,
            start: 0,
            end,
            deadline,
        },
    );
    drain(e)
}

#[test]
fn origin_serves_real_bytes_and_padding_is_added_locally() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let out = want(&mut e, 0, 40_000, 10);
    let fetch = out.iter().find_map(|o| match o {
        Output::FetchOrigin {
            id,
            asset: 0,
            start,
            end,
        } => Some((*id, *start, *end)),
        _ => None,
    });
    let (id, start, end) = fetch.expect("no peers: origin at once");
    assert_eq!((start, end), (0, 40_000));
    e.handle(
        Time::ZERO,
        Input::OriginData {
            id,
            bytes: &s.bytes[..40_000],
        },
    );
    e.handle(Time::ZERO, Input::OriginDone { id });
    let out = drain(&mut e);
    let verified: Vec<u32> = out
        .iter()
        .filter_map(|o| match o {
            Output::PieceVerified {
                piece,
                data,
                source: Source::Origin,
            } => {
                assert_eq!(data.len(), PL as usize);
                Some(*piece)
            }
            _ => None,
        })
        .collect();
    assert_eq!(verified, vec![0, 1, 2]);
    assert!(out.contains(&Output::WantDone { id: 7 }));
    assert_eq!(e.stats().from_origin, 40_000);
}

#[test]
fn a_lying_origin_is_never_stored_and_the_want_fails_after_retries() {
    let s = site();
    let mut e = engine(&s, Config::default());
    let mut out = want(&mut e, 1, 50_000, 60);
    let mut rejected = 0;
    for _ in 0..4 {
        let Some((id, start, end)) = out.iter().find_map(|o| match o {
            Output::FetchOrigin { id, start, end, .. } => Some((*id, *start, *end)),
            _ => None,
        }) else {
            break;
        };
        let bogus = vec![0xee; (end - start) as usize];
        e.handle(Time::ZERO, Input::OriginData { id, bytes: &bogus });
        e.handle(Time::ZERO, Input::OriginDone { id });
        out = drain(&mut e);
        assert!(!out
            .iter()
            .any(|o| matches!(o, Output::PieceVerified { .. })));
        rejected += out
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Output::PieceRejected {
                        source: Source::Origin,
                        ..
                    }
                )
            })
            .count();
    }
    assert!(rejected >= 2);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::OriginFailed
    }));
    assert_eq!(e.have().count(), 0);
}

#[test]
fn a_peer_sending_a_bad_piece_is_banned_and_refused_later() {
    let s = site();
    let mut e = engine(&s, Config::default());
    want(&mut e, 0, 40_000, 60);
    let mut remote = Remote::new(&s, 4);
    remote.connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Bitfield(&[0xfe]));
    let out = send(&mut e, 1, Time::ZERO, Message::Unchoke);
    let asked = remote.read(&out, 1);
    assert!(
        asked
            .iter()
            .any(|m| m.contains("Request { index: 0, begin: 0, length: 16384 }")),
        "{asked:?}"
    );
    let out = send(
        &mut e,
        1,
        Time::ZERO,
        Message::Piece {
            index: 0,
            begin: 0,
            data: &[1; 16384],
        },
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::PieceRejected {
            piece: 0,
            action: RejectAction::PeerBanned,
            ..
        }
    )));
    assert!(out.contains(&Output::PeerBanned {
        peer: 1,
        peer_id: [4; 20]
    }));
    assert!(out.contains(&Output::Disconnect {
        peer: 1,
        reason: DisconnectReason::Banned
    }));
    // The same peer id on a new connection is dropped at its handshake.
    let (out, _) = Remote::new(&s, 4).connect(&mut e, 2, Time::ZERO);
    assert!(out.contains(&Output::Disconnect {
        peer: 2,
        reason: DisconnectReason::Banned
    }));
    assert_eq!(e.have().count(), 0);
}

#[test]
fn leech_only_never_unchokes_and_upload_rate_is_capped() {
    let s = site();
    let mut leech = seeded(
        &s,
        Config {
            leech_only: true,
            ..Config::default()
        },
    );
    let mut remote = Remote::new(&s, 3);
    remote.connect(&mut leech, 1, Time::ZERO);
    let out = send(&mut leech, 1, Time::ZERO, Message::Interested);
    assert!(!remote.read(&out, 1).iter().any(|m| m.contains("Unchoke")));

    let rate = 32 * 1024;
    let mut e = seeded(
        &s,
        Config {
            upload_rate: Some(rate),
            ..Config::default()
        },
    );
    let mut remote = Remote::new(&s, 3);
    remote.connect(&mut e, 1, Time::ZERO);
    send(&mut e, 1, Time::ZERO, Message::Interested);
    let mut now = Time::ZERO;
    for i in 0..6 {
        let req = Message::Request {
            index: i,
            begin: 0,
            length: 16384,
        }
        .to_bytes();
        e.handle(
            now,
            Input::PeerData {
                peer: 1,
                bytes: &req,
            },
        );
        answer_reads(&mut e, &s, now);
    }
    // Serve for 2 virtual seconds, waking when the engine asks.
    while let Some(t) = e.poll_timeout().filter(|&t| t <= Time::from_millis(2000)) {
        now = t.max(now.after(Duration::from_millis(1)));
        e.handle(now, Input::Timer);
        answer_reads(&mut e, &s, now);
    }
    let up = e.stats().uploaded;
    // One second of burst plus two seconds of rate, never more.
    assert!(up <= 3 * rate && up >= rate, "uploaded {up}");
}

#[test]
fn protocol_violations_drop_the_peer_and_limits_hold() {
    let s = site();
    let mut e = engine(
        &s,
        Config {
            max_peers: 2,
            ..Config::default()
        },
    );
    e.handle(Time::ZERO, Input::PeerConnected { peer: 1 });
    let wrong = Handshake::new([0; 20], [1; 20]).to_bytes();
    e.handle(
        Time::ZERO,
        Input::PeerData {
            peer: 1,
            bytes: &wrong,
        },
    );
    assert!(drain(&mut e).iter().any(|o| matches!(
        o,
        Output::Disconnect {
            peer: 1,
            reason: DisconnectReason::Protocol(_)
        }
    )));
    Remote::new(&s, 2).connect(&mut e, 2, Time::ZERO);
    let out = send(&mut e, 2, Time::ZERO, Message::Have(99));
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Disconnect { peer: 2, .. })));
    for k in 3..6 {
        e.handle(Time::ZERO, Input::PeerConnected { peer: k });
    }
    assert_eq!(e.peer_count(), 2, "max_peers");
    let out = want(&mut e, 9, 1, 1);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::NoSuchAsset
    }));
    let out = want(&mut e, 0, 40_001, 1);
    assert!(out.contains(&Output::WantFailed {
        id: 7,
        error: WantError::BadRange
    }));
}

proptest! {
    /// Arbitrary inputs in any order: no panic, and every bound holds.
    #[test]
    fn arbitrary_inputs_never_panic(ops in prop::collection::vec((0u8..9, any::<u16>(), prop::collection::vec(any::<u8>(), 0..200)), 1..60)) {
        let s = site();
        let mut e = engine(&s, Config { max_peers: 3, max_wants: 4, max_peer_requests: 4, ..Config::default() });
        let mut now = Time::ZERO;
        let hs = Handshake::new(e.info_hash, [8; 20]).to_bytes();
        for (op, n, mut bytes) in ops {
            if op == 2 && n % 2 == 0 {
                // Half the peer data gets past the handshake.
                bytes.splice(0..0, hs);
            }
            now = now.after(Duration::from_millis(u64::from(n % 5000)));
            let key = u64::from(n % 4);
            let input = match op {
                0 => Input::PeerConnected { peer: key },
                1 => Input::PeerDisconnected { peer: key },
                2 => Input::PeerData { peer: key, bytes: &bytes },
                3 => Input::Want { id: u64::from(n % 6), asset: u32::from(n % 3), start: 0, end: u64::from(n) * 3, deadline: now },
                4 => Input::OriginData { id: u64::from(n % 4), bytes: &bytes },
                5 => Input::OriginDone { id: u64::from(n % 4) },
                6 => Input::PieceRead { piece: u32::from(n % 8), data: Some(&bytes) },
                7 => Input::StoreHas { pieces: &[u32::from(n % 9)] },
                _ => Input::Timer,
            };
            e.handle(now, input);
            drain(&mut e);
            prop_assert!(e.peer_count() <= 3 && e.pending_wants() <= 4 && e.queued_requests() <= 12);
            if let Some(t) = e.poll_timeout() { prop_assert!(t >= now); }
        }
    }
}
