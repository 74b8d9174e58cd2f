//! Engine unit tests: one engine against hand-scripted peers (written with
//! the wire codec) and a scripted origin. Swarm behaviour lives in
//! tests/swarm.rs. Shared helpers here; tests by area in the submodules.

mod download;
mod origin_wait;
mod scheduling;
mod slots;
mod stalls;
mod upload;

use std::time::Duration;

use proptest::prelude::*;

use super::*;
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
    let contents: Vec<Vec<u8>> = [40_000usize, 50_000]
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            (0..len)
                .map(|j| (j * 31 + i * 7 + j / 251) as u8 | 1)
                .collect()
        })
        .collect();
    let built = crate::manifest::in_memory_site(
        "t",
        &[("f0", "a/b", &contents[0]), ("f1", "a/b", &contents[1])],
        PL,
    )
    .unwrap();
    Site {
        manifest: built.manifest,
        bytes: built.bytes,
        info: built.info.to_bencode(),
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

proptest! {
    /// Arbitrary inputs in any order: no panic, and every bound holds.
    #[test]
    fn arbitrary_inputs_never_panic(ops in prop::collection::vec((0u8..10, any::<u16>(), prop::collection::vec(any::<u8>(), 0..200)), 1..60)) {
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
                8 => Input::PeerBuffered { peer: key, bytes: u64::from(n) * 100 },
                _ => Input::Timer,
            };
            e.handle(now, input);
            drain(&mut e);
            prop_assert!(e.peer_count() <= 3 && e.pending_wants() <= 4 && e.queued_requests() <= 12);
            // Waking at the requested time must make progress: the next
            // timeout is strictly later (no busy loop for the caller).
            if let Some(t) = e.poll_timeout() {
                prop_assert!(t >= now);
                e.handle(t, Input::Timer);
                drain(&mut e);
                prop_assert!(e.poll_timeout().is_none_or(|next| next > t), "spin at {:?}", t);
                now = t;
            }
        }
    }
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

/// The pieces of every `FetchOrigin` in `out`, as `(asset, start, end)`.
fn origin_fetches(out: &[Output]) -> Vec<(u32, u64, u64)> {
    out.iter()
        .filter_map(|o| match o {
            Output::FetchOrigin {
                asset, start, end, ..
            } => Some((*asset, *start, *end)),
            _ => None,
        })
        .collect()
}

/// A peer with every piece that has unchoked us; returns the messages the
/// engine sent it.
fn unchoking_seed(e: &mut Engine, s: &Site) -> (Remote, Vec<String>) {
    let mut remote = Remote::new(s, 6);
    remote.connect(e, 1, Time::ZERO);
    send(e, 1, Time::ZERO, Message::Bitfield(&[0xfe]));
    let out = send(e, 1, Time::ZERO, Message::Unchoke);
    let msgs = remote.read(&out, 1);
    (remote, msgs)
}

fn requested_pieces(msgs: &[String]) -> Vec<u32> {
    let mut pieces: Vec<u32> = Vec::new();
    for m in msgs.iter().filter(|m| m.contains("Request {")) {
        let index = m.split("index: ").nth(1).and_then(|r| r.split(',').next());
        let index = index.and_then(|i| i.parse().ok()).unwrap();
        if pieces.last() != Some(&index) {
            pieces.push(index);
        }
    }
    pieces
}

fn requests_to(remote: &mut Remote, out: &[Output], key: PeerKey) -> Vec<u32> {
    requested_pieces(&remote.read(out, key))
}

/// A second seed on peer key 2.
fn second_seed(e: &mut Engine, s: &Site) -> (Remote, Vec<Output>) {
    let mut remote = Remote::new(s, 7);
    remote.connect(e, 2, Time::ZERO);
    let mut out = send(e, 2, Time::ZERO, Message::Bitfield(&[0xfe]));
    out.extend(send(e, 2, Time::ZERO, Message::Unchoke));
    (remote, out)
}

#[test]
fn every_honest_channel_message_fits_the_peer_message_bound() {
    let s = site();
    for block_size in [16 * 1024, 128 * 1024, 256 * 1024] {
        let config = Config {
            block_size,
            ..Config::default()
        };
        let e = engine(&s, config.clone());
        let bound = e.max_peer_message();
        // A whole piece message of our largest block, what any peer of ours
        // sends in one channel message, and Chromium's SCTP maximum.
        assert!(bound >= 13 + block_size as usize, "block {block_size}");
        assert!(bound >= config.max_channel_message);
        assert!(bound >= 256 * 1024);
        // Bounded: a hostile length is refused long before gigabytes.
        assert!(bound <= 1024 * 1024, "bound {bound}");
    }
}
