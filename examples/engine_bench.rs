//! Benchmark (not a test): is the engine ever the bottleneck beside a
//! ~30 MiB/s data channel? Prints, as JSON lines:
//! - the wire decoder's throughput on a stream of 16 KiB piece messages
//!   cut into 64 KiB channel messages, and on small control messages;
//! - the CPU cost of moving 32 MiB between two engines over an in-memory
//!   pipe (both sides: requests, serving, reassembly, SHA-1), per MiB, with
//!   the SHA-1 share measured separately;
//! - the same for the flash-crowd simulation (engines plus simulator).
//!
//! `cargo run --release --example engine_bench`. The release profile is the
//! wasm one (opt-level "z"), so these are conservative for native code.

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use peercdn::engine::{Config, Engine, Input, Output, Time};
use peercdn::wire::{Decoder, Frame, Geometry, Handshake, Limits, Message};
use sim::site::Site;

const MIB: f64 = 1024.0 * 1024.0;

/// This thread's CPU time (Linux `schedstat`, in ns), so other processes on
/// a shared machine do not inflate totals; wall time where unavailable.
#[derive(Clone, Copy)]
struct Cpu(Duration);

impl Cpu {
    fn now() -> Cpu {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok();
        let ns = stat.and_then(|s| s.split_whitespace().next()?.parse().ok());
        Cpu(ns.map_or_else(
            || START.get_or_init(Instant::now).elapsed(),
            Duration::from_nanos,
        ))
    }

    fn elapsed(self) -> Duration {
        Cpu::now().0.saturating_sub(self.0)
    }
}

fn main() {
    decoder_throughput();
    let site = Site::new(32 * 1024 * 1024, 3);
    engine_pair(&site);
    // Eight engines plus the simulator (site building, link model, byte
    // comparison), all on this thread: an upper bound on engine cost.
    let started = Cpu::now();
    let report = sim::scenarios::run("flash-crowd", 32 * 1024 * 1024, 42).expect("scenario");
    let cpu_ms = started.elapsed().as_secs_f64() * 1000.0;
    let delivered = (report.peer_bytes + report.origin_bytes) as f64 / MIB;
    println!(
        "{{\"bench\":\"flash-crowd-sim\",\"delivered_mib\":{:.0},\"cpu_ms\":{:.0},\"ms_per_mib\":{:.3}}}",
        delivered,
        cpu_ms,
        cpu_ms / delivered
    );
}

fn decoder_throughput() {
    let g = Geometry::new(32 * 1024, 1 << 30).expect("geometry");
    let block = vec![0xabu8; 16 * 1024];
    let mut stream = Handshake::new([1; 20], [2; 20]).to_bytes().to_vec();
    for i in 0..16_384u32 {
        let (index, begin) = (i / 2, (i % 2) * 16 * 1024);
        Message::Piece {
            index,
            begin,
            data: &block,
        }
        .encode_into(&mut stream);
    }
    let (mib, secs, frames) = decode(&stream, g);
    println!(
        "{{\"bench\":\"decoder-piece-stream\",\"mib\":{:.0},\"frames\":{frames},\"mib_per_s\":{:.0}}}",
        mib,
        mib / secs
    );
    let mut small = Handshake::new([1; 20], [2; 20]).to_bytes().to_vec();
    for i in 0..2_000_000u32 {
        Message::Request {
            index: i % 30_000,
            begin: 0,
            length: 16384,
        }
        .encode_into(&mut small);
    }
    let (mib, secs, frames) = decode(&small, g);
    println!(
        "{{\"bench\":\"decoder-requests\",\"mib\":{:.1},\"frames\":{frames},\"msgs_per_s\":{:.0}}}",
        mib,
        frames as f64 / secs
    );
}

/// Decodes `stream` in 64 KiB channel messages; (MiB, seconds, frames).
fn decode(stream: &[u8], g: Geometry) -> (f64, f64, u64) {
    let mut best = f64::MAX;
    let mut frames = 0;
    for _ in 0..3 {
        let mut dec = Decoder::new(g, Limits::default(), 64 * 1024);
        let started = Cpu::now();
        frames = 0u64;
        let mut checksum = 0u64;
        for chunk in stream.chunks(64 * 1024) {
            dec.push(chunk).expect("push");
            while let Some(frame) = dec.next_frame().expect("frame") {
                frames += 1;
                if let Frame::Message(Message::Piece { data, .. }) = frame {
                    checksum += u64::from(data[0]);
                }
            }
        }
        std::hint::black_box(checksum);
        best = best.min(started.elapsed().as_secs_f64());
    }
    (stream.len() as f64 / MIB, best, frames)
}

/// A seeder and a leecher joined by a lossless in-memory pipe.
struct Pair {
    seeder: Engine,
    leecher: Engine,
    store: HashMap<u32, Arc<[u8]>>,
    now: Time,
    /// Channel messages in flight: (to the leecher?, bytes).
    pipe: VecDeque<(bool, Vec<u8>)>,
    delivered: u64,
    done: bool,
    /// Wall time inside `handle` per side (each side is its own tab in real
    /// life); fine-grained, so it uses the wall clock, not `Cpu`.
    seeder_time: Duration,
    leecher_time: Duration,
}

impl Pair {
    fn new(site: &Site) -> Pair {
        let m = &site.manifest;
        let mut seeder = Engine::new(m, Config::default(), [1; 20], 1).expect("engine");
        let leecher = Engine::new(m, Config::default(), [2; 20], 2).expect("engine");
        let all: Vec<u32> = (0..site.piece_count()).collect();
        seeder.handle(Time::ZERO, Input::StoreHas { pieces: &all });
        let store = all.iter().map(|&p| (p, Arc::from(site.piece(p)))).collect();
        Pair {
            seeder,
            leecher,
            store,
            now: Time::ZERO,
            pipe: VecDeque::new(),
            delivered: 0,
            done: false,
            seeder_time: Duration::ZERO,
            leecher_time: Duration::ZERO,
        }
    }

    fn start(&mut self, site: &Site) {
        let end = site.asset_len(site.big);
        let deadline = Time::from_millis(600_000);
        let want = Input::Want {
            id: 1,
            asset: site.big,
            start: 0,
            end,
            deadline,
        };
        self.leecher.handle(self.now, want);
        self.seeder
            .handle(self.now, Input::PeerConnected { peer: 2 });
        self.leecher
            .handle(self.now, Input::PeerConnected { peer: 1 });
    }

    /// Carries out both engines' outputs.
    fn drain(&mut self) {
        while let Some(out) = self.seeder.poll_output() {
            match out {
                Output::Send { bytes, .. } => self.pipe.push_back((true, bytes)),
                Output::ReadPiece { piece } => {
                    let data = self.store.get(&piece).cloned();
                    let t = Instant::now();
                    let read = Input::PieceRead {
                        piece,
                        data: data.as_deref(),
                    };
                    self.seeder.handle(self.now, read);
                    self.seeder_time += t.elapsed();
                }
                _ => {}
            }
        }
        while let Some(out) = self.leecher.poll_output() {
            match out {
                Output::Send { bytes, .. } => self.pipe.push_back((false, bytes)),
                Output::PieceVerified { data, .. } => self.delivered += data.len() as u64,
                Output::WantDone { .. } => self.done = true,
                _ => {}
            }
        }
    }

    /// Delivers the next channel message; false when nothing is in flight.
    fn step(&mut self) -> bool {
        let Some((to_leecher, bytes)) = self.pipe.pop_front() else {
            return false;
        };
        // Time advances as a 30 MiB/s channel would carry the bytes.
        let wire_time = Duration::from_secs_f64(bytes.len() as f64 / (30.0 * MIB));
        self.now = self.now.after(wire_time);
        let t = Instant::now();
        if to_leecher {
            self.leecher.handle(
                self.now,
                Input::PeerData {
                    peer: 1,
                    bytes: &bytes,
                },
            );
            self.leecher_time += t.elapsed();
        } else {
            self.seeder.handle(
                self.now,
                Input::PeerData {
                    peer: 2,
                    bytes: &bytes,
                },
            );
            self.seeder_time += t.elapsed();
        }
        true
    }
}

fn engine_pair(site: &Site) {
    let hash_started = Cpu::now();
    for p in 0..site.piece_count() {
        std::hint::black_box(peercdn::manifest::sha1(site.piece(p)));
    }
    let hash_ms = hash_started.elapsed().as_secs_f64() * 1000.0;
    let mut pair = Pair::new(site);
    let started = Cpu::now();
    pair.start(site);
    loop {
        pair.drain();
        if pair.done || !pair.step() {
            break;
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let mib = pair.delivered as f64 / MIB;
    println!(
        concat!(
            "{{\"bench\":\"engine-pair\",\"complete\":{},\"delivered_mib\":{:.1},\"cpu_ms\":{:.1},",
            "\"ms_per_mib\":{:.3},\"sha1_ms_per_mib\":{:.3},\"engine_mib_per_s\":{:.0},",
            "\"ratio_to_30_mib_s_channel\":{:.1},\"seeder_ms_per_mib\":{:.3},\"leecher_ms_per_mib\":{:.3}}}"
        ),
        pair.done,
        mib,
        ms,
        ms / mib,
        hash_ms / mib,
        mib / (ms / 1000.0),
        mib / (ms / 1000.0) / 30.0,
        pair.seeder_time.as_secs_f64() * 1000.0 / mib,
        pair.leecher_time.as_secs_f64() * 1000.0 / mib,
    );
}
