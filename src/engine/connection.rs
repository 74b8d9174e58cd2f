//! Connection lifecycle and message dispatch: handshakes, what each peer
//! has, interest, bans, idle peers.
//!
//! A peer's bytes go through its own [`Decoder`]; any protocol error drops
//! the connection. A peer whose handshake names another torrent, a banned
//! peer id, or ourselves is dropped at once.

use super::peer::{BlockRequest, Peer};
use super::upload::OUR_UT_METADATA;
use super::{DisconnectReason, Engine, Output, PeerKey};
use crate::wire::metadata::UT_METADATA;
use crate::wire::{Bitfield, Decoder, ExtendedHandshake, Frame, Handshake, Message, WireError};

const CLIENT_NAME: &str = "peercdn";
/// Banned peer ids remembered for the session.
const MAX_BANNED: usize = 4096;
/// Largest slice of peer input decoded at once.
const DECODE_SLICE: usize = 64 * 1024;

impl Engine {
    pub(crate) fn on_connected(&mut self, key: PeerKey) {
        if self.peers.contains_key(&key) {
            return;
        }
        if self.peers.len() >= self.cfg.max_peers {
            // Full: a peer with nothing to give us and nothing wanted from
            // us makes room, else the newcomer is refused.
            match self.least_useful_peer() {
                Some(victim) => self.remove_peer(victim, Some(DisconnectReason::TooManyPeers)),
                None => {
                    let reason = DisconnectReason::TooManyPeers;
                    return self
                        .outputs
                        .push_back(Output::Disconnect { peer: key, reason });
                }
            }
        }
        let decoder = Decoder::new(self.geometry, self.limits, DECODE_SLICE);
        let mut peer = Peer::new(
            self.now,
            decoder,
            self.geometry.piece_count,
            self.cfg.initial_pipeline,
        );
        peer.send
            .extend_from_slice(&Handshake::new(self.info_hash, self.peer_id).to_bytes());
        self.peers.insert(key, peer);
        self.dirty.insert(key);
    }

    pub(crate) fn on_peer_data(&mut self, key: PeerKey, bytes: &[u8]) {
        let now = self.now;
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        peer.last_heard = now;
        // Taken out so messages can be handled with `&mut self`.
        let mut decoder = std::mem::replace(
            &mut peer.decoder,
            Decoder::new(self.geometry, self.limits, 0),
        );
        // Fed in slices: a channel message may be larger than the decoder's
        // bound (Firefox allows huge ones), memory stays bounded anyway.
        let mut result = Ok(());
        for slice in bytes.chunks(DECODE_SLICE) {
            result = decoder.push(slice);
            while result.is_ok() {
                match decoder.next_frame() {
                    Ok(Some(frame)) => result = self.on_frame(key, frame),
                    Ok(None) => break,
                    Err(e) => result = Err(e),
                }
                if !self.peers.contains_key(&key) {
                    return;
                }
            }
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => {
                if let Some(peer) = self.peers.get_mut(&key) {
                    peer.decoder = decoder;
                }
            }
            Err(e) => self.remove_peer(key, Some(DisconnectReason::Protocol(e))),
        }
    }

    fn on_frame(&mut self, key: PeerKey, frame: Frame<'_>) -> Result<(), WireError> {
        let msg = match frame {
            Frame::Handshake(hs) => return self.on_handshake(key, hs),
            Frame::Message(msg) => msg,
        };
        if let Some(peer) = self.peers.get_mut(&key).filter(|p| !p.known) {
            // What it has is now known: the origin may no longer need to wait.
            peer.known = true;
            self.reschedule = true;
        }
        match msg {
            Message::KeepAlive | Message::Port(_) => {}
            Message::Choke => {
                self.set_peer_choking(key, true);
                self.drop_downloads(key);
            }
            Message::Unchoke => {
                self.set_peer_choking(key, false);
                self.fill_requests(key);
            }
            Message::Interested => self.on_interest(key, true),
            Message::NotInterested => self.on_interest(key, false),
            Message::Have(index) => self.on_have(key, index),
            Message::Bitfield(bits) => self.on_bitfield(key, bits)?,
            Message::Request {
                index,
                begin,
                length,
            } => self.on_request(key, BlockRequest::new(index, begin, length)),
            Message::Cancel {
                index,
                begin,
                length,
            } => self.on_cancel(key, BlockRequest::new(index, begin, length)),
            Message::Piece { index, begin, data } => self.on_block(key, index, begin, data),
            Message::Extended { ext_id: 0, payload } => self.on_extended_handshake(key, payload)?,
            Message::Extended {
                ext_id: OUR_UT_METADATA,
                payload,
            } => self.on_metadata(key, payload)?,
            // Extensions we never advertised: ignored, as BEP 10 allows.
            Message::Extended { .. } => {}
        }
        Ok(())
    }

    /// The peer to evict for a newcomer when every slot is taken: past
    /// its grace, its pieces known, holding none we lack and not
    /// interested in ours; the one that gave us a block longest ago.
    fn least_useful_peer(&self) -> Option<PeerKey> {
        let grace = self.cfg.peer_grace;
        self.peers
            .iter()
            .filter(|(_, p)| p.known && p.useful == 0 && !p.peer_interested)
            .filter(|(_, p)| self.now.since(p.connected_at) >= grace)
            .min_by_key(|(_, p)| p.last_progress)
            .map(|(&key, _)| key)
    }

    /// Whether a new connection would be taken now (a slot is free, or a
    /// useless peer would make room).
    pub fn can_take_peer(&self) -> bool {
        self.peers.len() < self.cfg.max_peers || self.least_useful_peer().is_some()
    }

    /// The tracker named `peer_id` as this connection's peer: a handshake
    /// with another id is refused (a liar posing as an honest peer would
    /// get that peer banned, and its ban would not hold under a new id).
    pub fn expect_peer_id(&mut self, peer: PeerKey, peer_id: [u8; 20]) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.expected_id = Some(peer_id);
        }
    }

    fn on_handshake(&mut self, key: PeerKey, hs: Handshake) -> Result<(), WireError> {
        if hs.info_hash != self.info_hash {
            return Err(WireError::WrongInfoHash);
        }
        let expected = self.peers.get(&key).and_then(|p| p.expected_id);
        if expected.is_some_and(|id| id != hs.peer_id) {
            return Err(WireError::BadHandshake("not the peer the tracker named"));
        }
        if hs.peer_id == self.peer_id {
            return Err(WireError::BadHandshake("connected to ourselves"));
        }
        if self.banned.contains(&hs.peer_id) {
            self.remove_peer(key, Some(DisconnectReason::Banned));
            return Ok(());
        }
        let ext = ExtendedHandshake {
            extensions: [(UT_METADATA.to_string(), OUR_UT_METADATA)].into(),
            metadata_size: self.metadata.as_ref().map(|m| m.len() as u32),
            reqq: Some(self.cfg.max_peer_requests as u32),
            client: Some(CLIENT_NAME.to_string()),
        };
        let have = self.have.clone();
        let Some(peer) = self.peers.get_mut(&key) else {
            return Ok(());
        };
        peer.peer_id = Some(hs.peer_id);
        if hs.supports_extensions() {
            let payload = ext.to_bytes();
            Message::Extended {
                ext_id: 0,
                payload: &payload,
            }
            .encode_into(&mut peer.send);
        }
        if have.count() > 0 {
            Message::Bitfield(have.as_bytes()).encode_into(&mut peer.send);
        }
        self.dirty.insert(key);
        self.reschedule = true;
        Ok(())
    }

    fn on_extended_handshake(&mut self, key: PeerKey, payload: &[u8]) -> Result<(), WireError> {
        let ext = ExtendedHandshake::try_from(payload)?;
        if let Some(peer) = self.peers.get_mut(&key) {
            peer.ut_metadata = ext.id_of(UT_METADATA);
            // Never queue more requests than the peer says it keeps.
            peer.reqq = ext.reqq.map(|r| r.max(1));
        }
        Ok(())
    }

    fn set_peer_choking(&mut self, key: PeerKey, choking: bool) {
        if let Some(peer) = self.peers.get_mut(&key) {
            peer.peer_choking = choking;
        }
        self.reschedule = true;
    }

    fn on_have(&mut self, key: PeerKey, index: u32) {
        let ours = self.have.get(index);
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        if peer.has.set(index) {
            self.availability[index as usize] = self.availability[index as usize].saturating_add(1);
            if !ours {
                peer.useful += 1;
                self.reschedule = true;
                self.note_progress(index);
            }
        }
    }

    fn on_bitfield(&mut self, key: PeerKey, bits: &[u8]) -> Result<(), WireError> {
        let has = Bitfield::from_bytes(bits, self.geometry.piece_count)?;
        let Some(peer) = self.peers.get_mut(&key) else {
            return Ok(());
        };
        let old = std::mem::replace(&mut peer.has, has);
        for p in old.iter() {
            self.availability[p as usize] = self.availability[p as usize].saturating_sub(1);
        }
        let mut useful = 0;
        for p in peer.has.iter() {
            self.availability[p as usize] = self.availability[p as usize].saturating_add(1);
            useful += u32::from(!self.have.get(p));
        }
        peer.useful = useful;
        self.reschedule = true;
        Ok(())
    }

    /// Interested iff the peer has a piece we lack and we still want data.
    pub(crate) fn update_interest(&mut self, key: PeerKey) {
        let wanting =
            !self.wants.is_empty() || (!self.prefetch.is_empty() && self.background_allowed());
        let Some(peer) = self.peers.get_mut(&key) else {
            return;
        };
        let interested = wanting && peer.useful > 0 && peer.peer_id.is_some();
        if interested != peer.am_interested {
            peer.am_interested = interested;
            if interested {
                peer.interested_at = self.now;
            }
            let msg = if interested {
                Message::Interested
            } else {
                Message::NotInterested
            };
            msg.encode_into(&mut peer.send);
            self.dirty.insert(key);
        }
    }

    /// Forgets a peer; with a reason, also asks the caller to close it.
    pub(crate) fn remove_peer(&mut self, key: PeerKey, reason: Option<DisconnectReason>) {
        self.drop_downloads(key);
        let Some(peer) = self.peers.remove(&key) else {
            return;
        };
        for p in peer.has.iter() {
            self.availability[p as usize] = self.availability[p as usize].saturating_sub(1);
        }
        self.dirty.remove(&key);
        if !peer.am_choking {
            self.unchoke_someone();
        }
        if let Some(reason) = reason {
            self.outputs
                .push_back(Output::Disconnect { peer: key, reason });
        }
        self.reschedule = true;
    }

    /// Bans the peer's id for the session and disconnects it.
    pub(crate) fn ban(&mut self, key: PeerKey) {
        if let Some(peer_id) = self.peers.get(&key).and_then(|p| p.peer_id) {
            // Bounded too: past the cap, bans still disconnect but are not kept.
            if self.banned.len() < MAX_BANNED {
                self.banned.insert(peer_id);
            }
            self.stats.peers_banned += 1;
            self.outputs
                .push_back(Output::PeerBanned { peer: key, peer_id });
        }
        self.remove_peer(key, Some(DisconnectReason::Banned));
    }

    /// Keep-alives for quiet connections; drop peers silent too long, or
    /// without a handshake too long.
    pub(crate) fn check_idle_peers(&mut self) {
        let now = self.now;
        let dead: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| now >= self.silence_deadline(p))
            .map(|(&k, _)| k)
            .collect();
        for key in dead {
            self.remove_peer(key, Some(DisconnectReason::Idle));
        }
        let idle = self.cfg.idle_timeout;
        for (&key, peer) in self.peers.iter_mut() {
            if now.since(peer.last_sent) >= idle / 2 && peer.send.is_empty() {
                Message::KeepAlive.encode_into(&mut peer.send);
                self.dirty.insert(key);
            }
        }
    }

    /// When the next keep-alive or idle check is due.
    pub(crate) fn idle_timeout(&self) -> Option<super::Time> {
        let idle = self.cfg.idle_timeout;
        self.peers
            .values()
            .map(|p| p.last_sent.after(idle / 2).min(self.silence_deadline(p)))
            .min()
    }

    /// When `peer` is dropped if it stays silent (or without a handshake).
    fn silence_deadline(&self, peer: &Peer) -> super::Time {
        let idle = peer.last_heard.after(self.cfg.idle_timeout);
        match peer.peer_id {
            Some(_) => idle,
            None => idle.min(peer.connected_at.after(self.cfg.handshake_timeout)),
        }
    }
}
