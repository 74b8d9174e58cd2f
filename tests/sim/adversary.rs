//! Scripted hostile peers, written against the wire codec directly (not
//! the engine): they claim every piece and unchoke everyone, then either
//! answer requests with corrupted blocks or never answer at all.

use std::collections::HashMap;

use peercdn::engine::Input;
use peercdn::wire::{Bitfield, Decoder, Frame, Geometry, Handshake, Limits, Message};

use super::site::Site;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Sends blocks of the right size with wrong bytes.
    Corrupt,
    /// Accepts requests and never answers.
    Stall,
}

pub struct Adversary {
    mode: Mode,
    geometry: Geometry,
    handshake: Handshake,
    decoders: HashMap<u64, Decoder>,
    pub requests_seen: u64,
}

impl Adversary {
    pub fn new(mode: Mode, site: &Site, tag: u8) -> Adversary {
        let m = &site.manifest;
        let geometry = Geometry::new(m.piece_length, m.total_length).expect("geometry");
        let mut id = *b"-XX0001-evilevilevil";
        id[19] = tag;
        Adversary {
            mode,
            geometry,
            handshake: Handshake::new(m.info_hash, id),
            decoders: HashMap::new(),
            requests_seen: 0,
        }
    }

    /// Reacts to one input; returns bytes to send, by peer.
    pub fn handle(&mut self, input: Input<'_>, site: &Site) -> Vec<(u64, Vec<u8>)> {
        match input {
            Input::PeerConnected { peer } => {
                let decoder = Decoder::new(self.geometry, Limits::default(), 1 << 20);
                self.decoders.insert(peer, decoder);
                vec![(peer, self.handshake.to_bytes().to_vec())]
            }
            Input::PeerDisconnected { peer } => {
                self.decoders.remove(&peer);
                Vec::new()
            }
            Input::PeerData { peer, bytes } => self.on_data(peer, bytes, site),
            _ => Vec::new(),
        }
    }

    fn on_data(&mut self, peer: u64, bytes: &[u8], site: &Site) -> Vec<(u64, Vec<u8>)> {
        let Some(decoder) = self.decoders.get_mut(&peer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if decoder.push(bytes).is_err() {
            return Vec::new();
        }
        while let Ok(Some(frame)) = decoder.next_frame() {
            match frame {
                Frame::Handshake(_) => {
                    let mut all = Bitfield::new(self.geometry.piece_count);
                    (0..self.geometry.piece_count).for_each(|p| {
                        all.set(p);
                    });
                    Message::Bitfield(all.as_bytes()).encode_into(&mut out);
                    Message::Unchoke.encode_into(&mut out);
                }
                Frame::Message(Message::Request {
                    index,
                    begin,
                    length,
                }) => {
                    self.requests_seen += 1;
                    if self.mode == Mode::Corrupt {
                        let piece = site.piece(index);
                        let mut block = piece[begin as usize..(begin + length) as usize].to_vec();
                        block.iter_mut().step_by(97).for_each(|b| *b ^= 0x5a);
                        Message::Piece {
                            index,
                            begin,
                            data: &block,
                        }
                        .encode_into(&mut out);
                    }
                }
                Frame::Message(_) => {}
            }
        }
        // Channel-sized messages, as a browser would send them.
        out.chunks(64 * 1024).map(|c| (peer, c.to_vec())).collect()
    }
}
