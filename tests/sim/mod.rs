//! A deterministic swarm simulator: N peercdn engines (and scripted
//! adversaries) in virtual time, joined by links with latency, bandwidth
//! and loss, plus an origin web seed that counts every byte it serves.
//!
//! Each engine is driven exactly as the browser adapter will drive it:
//! every event is an input, outputs are drained after each input, and the
//! next timer comes from `poll_timeout`. Every verified piece is compared
//! with the ground truth, so a wrong byte delivered anywhere is counted.
#![allow(dead_code)]

pub mod adversary;
pub mod docsite;
pub mod net;
pub mod node;
pub mod prefetch;
pub mod scenarios;
pub mod site;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use peercdn::engine::{Config, Engine, Input, Output, Source, Time};

use adversary::Adversary;
pub use net::{LinkSpec, Net};
pub use node::{mix, real_len, Kind, Node};
use site::Site;

#[derive(Debug)]
pub(crate) enum Event {
    Data {
        to: usize,
        from: usize,
        bytes: Vec<u8>,
    },
    Origin {
        node: usize,
        id: u64,
        bytes: Vec<u8>,
        last: bool,
    },
    /// `len` bytes left `from`'s channel buffer towards `to`.
    Drained { from: usize, to: usize, len: u64 },
    /// `node`'s store read of `piece` is done.
    ReadDone { node: usize, piece: u32 },
}

pub struct Sim {
    pub now: Time,
    pub site: Arc<Site>,
    pub nodes: Vec<Node>,
    pub net: Net,
    pub origin_bytes: u64,
    pub config: Config,
    /// How long a store read takes (Cache Storage is asynchronous).
    pub read_delay: Duration,
    queue: BinaryHeap<Reverse<(Time, u64)>>,
    /// Bytes sent on each directed channel and not yet departed.
    buffered: HashMap<(usize, usize), u64>,
    events: HashMap<u64, Event>,
    seq: u64,
    seed: u64,
}

impl Sim {
    pub fn new(site: Arc<Site>, net: Net, config: Config, seed: u64) -> Sim {
        Sim {
            now: Time::ZERO,
            site,
            nodes: Vec::new(),
            net,
            origin_bytes: 0,
            config,
            read_delay: Duration::ZERO,
            queue: BinaryHeap::new(),
            buffered: HashMap::new(),
            events: HashMap::new(),
            seq: 0,
            seed,
        }
    }

    /// Adds a visitor; `seeded` gives it every piece in its store already.
    pub fn add_engine(&mut self, seeded: bool) -> usize {
        let i = self.nodes.len();
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(b"-PC0001-");
        let h = mix(self.seed ^ (i as u64 + 1));
        id[8..16].copy_from_slice(&h.to_be_bytes());
        id[16..20].copy_from_slice(&(i as u32).to_be_bytes());
        let mut engine =
            Engine::new(&self.site.manifest, self.config.clone(), id, h).expect("engine");
        engine.set_metadata(&self.site.info).expect("metadata");
        let mut store = HashMap::new();
        if seeded {
            for p in 0..self.site.piece_count() {
                store.insert(p, Arc::from(self.site.piece(p)));
            }
            let all: Vec<u32> = (0..self.site.piece_count()).collect();
            engine.handle(self.now, Input::StoreHas { pieces: &all });
        }
        self.push_node(Kind::Engine(Box::new(engine)), store);
        self.drive(i);
        i
    }

    pub fn add_adversary(&mut self, adversary: Adversary) -> usize {
        self.push_node(Kind::Adversary(adversary), HashMap::new())
    }

    fn push_node(&mut self, kind: Kind, store: HashMap<u32, Arc<[u8]>>) -> usize {
        self.nodes.push(Node {
            kind,
            online: true,
            peers: BTreeSet::new(),
            store,
            joined_at: self.now,
            done_at: None,
            wants_done: HashMap::new(),
            want_failed: false,
            from_peers: 0,
            from_origin: 0,
            mismatched: 0,
            banned: Vec::new(),
            first_origin_at: None,
            seek_ms: None,
            origin_overlaps: 0,
            cancelled: BTreeSet::new(),
            origin_active: HashMap::new(),
        });
        self.nodes.len() - 1
    }

    /// Opens a data channel between `a` and `b`.
    pub fn connect(&mut self, a: usize, b: usize) {
        self.nodes[a].peers.insert(b);
        self.nodes[b].peers.insert(a);
        self.input(a, Input::PeerConnected { peer: b as u64 });
        self.input(b, Input::PeerConnected { peer: a as u64 });
    }

    /// `node` wants the whole big asset by `deadline` from now.
    pub fn want_big(&mut self, node: usize, deadline: Duration) {
        let asset = self.site.big;
        let end = self.site.asset_len(asset);
        let deadline = self.now.after(deadline);
        self.nodes[node].joined_at = self.now;
        self.input(
            node,
            Input::Want {
                id: 1,
                asset,
                start: 0,
                end,
                deadline,
            },
        );
    }

    /// `node` wants bytes `start..end` of the big asset (want `id`) by
    /// `deadline` from now.
    pub fn want_range(&mut self, node: usize, id: u64, start: u64, end: u64, deadline: Duration) {
        let asset = self.site.big;
        let deadline = self.now.after(deadline);
        self.input(
            node,
            Input::Want {
                id,
                asset,
                start,
                end,
                deadline,
            },
        );
    }

    /// `node` wants bytes `0..end` of `asset` (want `id`) by `deadline` from now.
    pub fn want_asset(&mut self, node: usize, id: u64, asset: u32, end: u64, deadline: Duration) {
        let deadline = self.now.after(deadline);
        let want = Input::Want {
            id,
            asset,
            start: 0,
            end,
            deadline,
        };
        self.input(node, want);
    }

    /// `node` leaves: its channels close on both sides.
    pub fn leave(&mut self, node: usize) {
        self.nodes[node].online = false;
        let peers = std::mem::take(&mut self.nodes[node].peers);
        for p in peers {
            self.nodes[p].peers.remove(&node);
            self.input(p, Input::PeerDisconnected { peer: node as u64 });
        }
    }

    fn input(&mut self, node: usize, input: Input<'_>) {
        if !self.nodes[node].online {
            return;
        }
        let now = self.now;
        match &mut self.nodes[node].kind {
            Kind::Engine(e) => e.handle(now, input),
            Kind::Adversary(a) => {
                for (to, bytes) in a.handle(input, &self.site) {
                    self.send(node, to as usize, bytes);
                }
                return;
            }
        }
        self.drive(node);
    }

    /// Drains the engine's outputs, carrying each one out.
    fn drive(&mut self, node: usize) {
        loop {
            let out = match &mut self.nodes[node].kind {
                Kind::Engine(e) => e.poll_output(),
                Kind::Adversary(_) => None,
            };
            let Some(out) = out else { return };
            self.carry_out(node, out);
        }
    }

    fn carry_out(&mut self, node: usize, out: Output) {
        match out {
            Output::Send { peer, bytes } => self.send(node, peer as usize, bytes),
            Output::Disconnect { peer, .. } => self.disconnect(node, peer as usize),
            Output::FetchOrigin {
                id,
                asset,
                start,
                end,
            } => self.fetch_origin(node, id, asset, start, end),
            Output::CancelOrigin { id } => {
                self.nodes[node].cancelled.insert(id);
                self.nodes[node].origin_active.remove(&id);
            }
            Output::PieceVerified {
                piece,
                data,
                source,
            } => self.verified(node, piece, data, source),
            Output::PeerBanned { peer, .. } => self.nodes[node].banned.push(peer as usize),
            Output::ReadPiece { piece } => {
                let delay = self.read_delay;
                if delay.is_zero() {
                    self.read_done(node, piece);
                } else {
                    let at = self.now.after(delay);
                    self.schedule(at, Event::ReadDone { node, piece });
                }
            }
            Output::WantDone { id } => {
                self.nodes[node].wants_done.insert(id, self.now);
                if id == 1 {
                    self.nodes[node].done_at = Some(self.now);
                }
            }
            Output::WantFailed { .. } => {
                self.nodes[node].want_failed = true;
            }
            Output::PieceRejected { .. } | Output::Stats(_) => {}
        }
    }

    fn read_done(&mut self, node: usize, piece: u32) {
        let data = self.nodes[node].store.get(&piece).cloned();
        self.input(
            node,
            Input::PieceRead {
                piece,
                data: data.as_deref(),
            },
        );
    }

    fn verified(&mut self, node: usize, piece: u32, data: Arc<[u8]>, source: Source) {
        let truth = self.site.piece(piece);
        let n = &mut self.nodes[node];
        if *data != *truth {
            let wrong = data.iter().zip(truth).filter(|(a, b)| a != b).count()
                + data.len().abs_diff(truth.len());
            n.mismatched += wrong as u64;
        }
        let real = real_len(&self.site, piece);
        match source {
            Source::Peer(_) => n.from_peers += real,
            Source::Origin => n.from_origin += real,
        }
        n.store.insert(piece, data);
    }

    fn disconnect(&mut self, a: usize, b: usize) {
        if self.nodes[a].peers.remove(&b) {
            self.nodes[b].peers.remove(&a);
            self.input(b, Input::PeerDisconnected { peer: a as u64 });
        }
    }

    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if !self.nodes[from].peers.contains(&to) {
            return;
        }
        let len = bytes.len() as u64;
        let (depart, at) = self.net.transmit(self.now, from, to, bytes.len());
        *self.buffered.entry((from, to)).or_default() += len;
        self.schedule(depart, Event::Drained { from, to, len });
        self.schedule(at, Event::Data { to, from, bytes });
    }

    fn fetch_origin(&mut self, node: usize, id: u64, asset: u32, start: u64, end: u64) {
        self.nodes[node].first_origin_at.get_or_insert(self.now);
        let a = &self.site.manifest.assets[asset as usize];
        let pl = self.site.manifest.piece_length;
        let pieces = (a.first_piece + start / pl, a.first_piece + end.div_ceil(pl));
        let n = &mut self.nodes[node];
        let overlapping = n
            .origin_active
            .values()
            .filter(|(f, e)| pieces.0 < *e && *f < pieces.1)
            .count();
        n.origin_overlaps += overlapping as u64;
        n.origin_active.insert(id, pieces);
        let bytes = self.site.asset_bytes(asset, start, end).to_vec();
        let chunks: Vec<Vec<u8>> = bytes.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
        let count = chunks.len();
        if count == 0 {
            let at = self.net.origin_transmit(self.now, node, 0);
            return self.schedule(
                at,
                Event::Origin {
                    node,
                    id,
                    bytes: Vec::new(),
                    last: true,
                },
            );
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            let at = self.net.origin_transmit(self.now, node, chunk.len());
            self.schedule(
                at,
                Event::Origin {
                    node,
                    id,
                    bytes: chunk,
                    last: i + 1 == count,
                },
            );
        }
    }

    pub(crate) fn schedule(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.events.insert(self.seq, event);
        self.queue.push(Reverse((at, self.seq)));
    }

    /// Runs until `done` holds or `limit` of virtual time passes; returns
    /// whether `done` held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let end = self.now.after(limit);
        while !done(self) {
            let timer = self.next_timer();
            let event = self.queue.peek().map(|Reverse((t, _))| *t);
            let Some(next) = [timer.map(|t| t.0), event].into_iter().flatten().min() else {
                return false;
            };
            if next > end {
                self.now = end;
                return false;
            }
            self.now = next.max(self.now);
            if event == Some(next) {
                let Some(Reverse((_, seq))) = self.queue.pop() else {
                    continue;
                };
                if let Some(ev) = self.events.remove(&seq) {
                    self.deliver(ev);
                }
            } else if let Some((_, node)) = timer {
                self.input(node, Input::Timer);
            }
        }
        true
    }

    fn next_timer(&self) -> Option<(Time, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.online)
            .filter_map(|(i, n)| match &n.kind {
                Kind::Engine(e) => e.poll_timeout().map(|t| (t, i)),
                Kind::Adversary(_) => None,
            })
            .min()
    }

    fn deliver(&mut self, event: Event) {
        match event {
            Event::ReadDone { node, piece } => self.read_done(node, piece),
            Event::Drained { from, to, len } => {
                let left = self.buffered.entry((from, to)).or_default();
                *left = left.saturating_sub(len);
                let bytes = *left;
                if self.nodes[from].peers.contains(&to) {
                    self.input(
                        from,
                        Input::PeerBuffered {
                            peer: to as u64,
                            bytes,
                        },
                    );
                }
            }
            Event::Data { to, from, bytes } => {
                if self.nodes[to].peers.contains(&from) {
                    self.input(
                        to,
                        Input::PeerData {
                            peer: from as u64,
                            bytes: &bytes,
                        },
                    );
                }
            }
            Event::Origin {
                node,
                id,
                bytes,
                last,
            } => {
                if self.nodes[node].cancelled.contains(&id) || !self.nodes[node].online {
                    return;
                }
                self.origin_bytes += bytes.len() as u64;
                self.input(node, Input::OriginData { id, bytes: &bytes });
                if last {
                    self.nodes[node].origin_active.remove(&id);
                    self.input(node, Input::OriginDone { id });
                }
            }
        }
    }

    pub fn engine(&self, node: usize) -> Option<&Engine> {
        match &self.nodes[node].kind {
            Kind::Engine(e) => Some(e),
            Kind::Adversary(_) => None,
        }
    }

    pub fn all_done(&self, nodes: &[usize]) -> bool {
        nodes
            .iter()
            .all(|&n| self.nodes[n].done_at.is_some() || self.nodes[n].want_failed)
    }
}
