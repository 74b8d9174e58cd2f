//! One peercdn engine speaking the peer wire protocol on stdin/stdout, so
//! other implementations (WebTorrent's `bittorrent-protocol` and
//! `ut_metadata`, in tests/interop/wire.test.mjs) can be tested against it.
//! This is a tiny adapter: it reads the clock and does the I/O, the engine
//! does neither.
//!
//! `wire_peer seed <asset bytes>`: holds the whole synthetic site (the
//! simulations' `Site`, seed 1) and serves it, metadata included.
//! `wire_peer leech <asset bytes> <file>`: writes the site's bytes (padding
//! included) to `<file>` for the other side to seed, then downloads the big
//! asset from it, with no origin.
//!
//! First line on stderr: JSON with the info hash and the layout. Last line
//! in leech mode: JSON with the outcome.

#[path = "../tests/sim/site.rs"]
mod site;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use peercdn::engine::{Config, Engine, Input, Output, Time};
use site::Site;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeding = args.first().map(String::as_str) == Some("seed");
    let asset = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1 << 20);
    let site = Site::new(asset, 1);
    if let Some(path) = args.get(2).filter(|_| !seeding) {
        std::fs::write(path, &site.bytes).expect("write content");
    }
    announce_layout(&site);
    let started = Instant::now();
    let now = || Time::from_micros(started.elapsed().as_micros() as u64);
    let (mut engine, mut store) = start(&site, seeding, now());
    let input = read_stdin_in_background();
    let mut verified = 0u64;
    loop {
        if let Some(done) = carry_out(&mut engine, &mut store, &mut verified, now()) {
            let stats = engine.stats();
            eprintln!(
                "{{\"done\":{done},\"verified_pieces\":{verified},\"from_peers\":{},\"hash_failures\":{}}}",
                stats.from_peers, stats.hash_failures
            );
            return;
        }
        // Wake for the engine's timer as well as for bytes: the engine's
        // contract is to get `Input::Timer` when `poll_timeout` says so.
        let wait = engine
            .poll_timeout()
            .map_or(Duration::from_secs(1), |at| at.since(now()));
        match input.recv_timeout(wait) {
            Ok(Some(bytes)) => engine.handle(
                now(),
                Input::PeerData {
                    peer: 1,
                    bytes: &bytes,
                },
            ),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => engine.handle(now(), Input::Timer),
        }
    }
    engine.handle(now(), Input::PeerDisconnected { peer: 1 });
}

/// Stdin chunks from a reader thread (`None` at end of input), so the main
/// loop can wait for bytes and timers at once.
fn read_stdin_in_background() -> Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let chunk = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => None,
                Ok(n) => Some(buf[..n].to_vec()),
            };
            let end = chunk.is_none();
            if tx.send(chunk).is_err() || end {
                return;
            }
        }
    });
    rx
}

/// The first stderr line: what the other side needs to know.
fn announce_layout(site: &Site) {
    let m = &site.manifest;
    let big = &m.assets[site.big as usize];
    eprintln!(
        "{{\"info_hash\":\"{}\",\"piece_length\":{},\"total_length\":{},\"big_offset\":{},\"big_length\":{}}}",
        peercdn::encoding::hex_encode(&m.info_hash),
        m.piece_length,
        m.total_length,
        big.offset,
        big.length
    );
}

/// A seeding engine (whole store, metadata) or a leeching one (wants the
/// big asset), connected to peer 1.
fn start(site: &Site, seeding: bool, now: Time) -> (Engine, HashMap<u32, Arc<[u8]>>) {
    let m = &site.manifest;
    let mut engine =
        Engine::new(m, Config::default(), *b"-PC0001-interop00000", 5).expect("engine");
    let mut store = HashMap::new();
    if seeding {
        engine.set_metadata(&site.info).expect("metadata");
        let all: Vec<u32> = (0..site.piece_count()).collect();
        store = all.iter().map(|&p| (p, Arc::from(site.piece(p)))).collect();
        engine.handle(now, Input::StoreHas { pieces: &all });
    } else {
        let end = m.assets[site.big as usize].length;
        let deadline = Time::from_millis(600_000);
        engine.handle(
            now,
            Input::Want {
                id: 1,
                asset: site.big,
                start: 0,
                end,
                deadline,
            },
        );
    }
    engine.handle(now, Input::PeerConnected { peer: 1 });
    (engine, store)
}

/// Carries out the engine's outputs; `Some(done)` when it is time to stop.
fn carry_out(
    engine: &mut Engine,
    store: &mut HashMap<u32, Arc<[u8]>>,
    verified: &mut u64,
    now: Time,
) -> Option<bool> {
    let mut stdout = std::io::stdout().lock();
    while let Some(out) = engine.poll_output() {
        match out {
            Output::Send { bytes, .. } => {
                stdout.write_all(&bytes).ok()?;
            }
            Output::ReadPiece { piece } => {
                let data = store.get(&piece).cloned();
                engine.handle(
                    now,
                    Input::PieceRead {
                        piece,
                        data: data.as_deref(),
                    },
                );
            }
            Output::PieceVerified { piece, data, .. } => {
                *verified += 1;
                store.insert(piece, data);
            }
            Output::WantDone { .. } => {
                stdout.flush().ok()?;
                return Some(true);
            }
            Output::WantFailed { .. } | Output::Disconnect { .. } => return Some(false),
            _ => {}
        }
    }
    stdout.flush().ok()?;
    None
}
