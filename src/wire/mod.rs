//! The BitTorrent peer wire protocol (BEP 3, BEP 10 extension protocol,
//! BEP 9 `ut_metadata`) as WebTorrent speaks it over a WebRTC data channel.
//!
//! The data channel is treated as a byte stream, exactly like a TCP socket:
//! message boundaries of the channel mean nothing. [`Decoder`] accepts
//! channel messages of any size (one wire message split over many channel
//! messages, or many wire messages in one); [`split_for_channel`] cuts an
//! encoded stream into channel messages no larger than the channel allows.
//!
//! ```text
//! handshake (once, first, each direction; 68 bytes)
//!  0      1                   20           28          48          68
//!  +------+-------------------+------------+-----------+-----------+
//!  | 19   |"BitTorrent protocol"| reserved | info_hash |  peer_id  |
//!  +------+-------------------+------------+-----------+-----------+
//!                       reserved[5] & 0x10 = BEP 10 extension protocol
//!
//! every later message
//!  +----------------+------+------------------------------+
//!  | length: u32 BE |  id  | payload (length - 1 bytes)   |
//!  +----------------+------+------------------------------+
//!   length 0 = keep-alive (no id)
//!   0 choke  1 unchoke  2 interested  3 not interested  (no payload)
//!   4 have      <index u32>
//!   5 bitfield  <ceil(pieces / 8) bytes, MSB first, spare bits zero>
//!   6 request   <index u32><begin u32><length u32>
//!   7 piece     <index u32><begin u32><block bytes>
//!   8 cancel    <index u32><begin u32><length u32>
//!   9 port      <u16> (BEP 5 DHT; tolerated, ignored)
//!  20 extended  <ext id u8><payload>; ext id 0 = BEP 10 handshake (bencoded dict)
//! ```
//!
//! Invariants:
//! - Decoding never panics and never allocates more than [`Limits`] allows;
//!   every violation (oversized message, bitfield of the wrong length,
//!   request outside the torrent, unknown message id) is a [`WireError`],
//!   after which the connection must be dropped.
//! - `Message::try_from(bytes)` checks structure only; [`Message::validate`]
//!   checks it against the torrent's geometry. The [`Decoder`] does both.
//! - `encode` then `decode` gives back the same message (property-tested).

mod bitfield;
mod codec;
mod extension;
mod handshake;
mod message;
pub mod metadata;

pub use bitfield::Bitfield;
pub use codec::{split_for_channel, Decoder, Frame};
pub use extension::ExtendedHandshake;
pub use handshake::{Handshake, HANDSHAKE_LEN};
pub use message::Message;

/// The usual block size (16 KiB): what WebTorrent and most clients request,
/// and the largest block many of them serve.
pub const BLOCK_SIZE: u32 = 16 * 1024;

/// The shape of the torrent a connection is about, used to validate peer
/// messages and to size buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub piece_length: u32,
    pub total_length: u64,
    pub piece_count: u32,
}

impl Geometry {
    /// `None` when the numbers disagree or overflow the wire's u32 fields.
    pub fn new(piece_length: u64, total_length: u64) -> Option<Geometry> {
        if piece_length == 0 {
            return None;
        }
        let piece_count = u32::try_from(total_length.div_ceil(piece_length)).ok()?;
        Some(Geometry {
            piece_length: u32::try_from(piece_length).ok()?,
            total_length,
            piece_count,
        })
    }

    /// Length of piece `index` (the last one may be short); 0 if out of range.
    pub fn piece_size(&self, index: u32) -> u32 {
        if index >= self.piece_count {
            return 0;
        }
        let start = u64::from(index) * u64::from(self.piece_length);
        let len = (self.total_length - start).min(u64::from(self.piece_length));
        // Bounded by piece_length, a u32.
        len as u32
    }

    /// Number of blocks of `block_size` in piece `index`.
    pub fn block_count(&self, index: u32, block_size: u32) -> u32 {
        self.piece_size(index).div_ceil(block_size.max(1))
    }
}

/// Bounds applied to what a peer may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest length prefix accepted (the biggest legitimate message is a
    /// piece message carrying one block).
    pub max_message_len: u32,
    /// Largest block a peer may request from us.
    pub max_request_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // A 128 KiB block (the largest any common client sends) plus header.
            max_message_len: 128 * 1024 + 13,
            max_request_len: 128 * 1024,
        }
    }
}

/// Why a peer's bytes were refused; the connection is dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("bad handshake: {0}")]
    BadHandshake(&'static str),
    #[error("handshake for another torrent")]
    WrongInfoHash,
    #[error("message of {0} bytes exceeds the limit")]
    TooLong(u32),
    #[error("unknown message id {0}")]
    UnknownId(u8),
    #[error("message id {id} with a payload of {len} bytes")]
    BadLength { id: u8, len: usize },
    #[error("bitfield of {got} bytes, expected {expected}")]
    BitfieldLength { got: usize, expected: usize },
    #[error("bitfield has spare bits set")]
    BitfieldSpareBits,
    #[error("piece index {0} out of range")]
    PieceOutOfRange(u32),
    #[error("block {index}:{begin}+{length} outside the piece")]
    BlockOutOfRange { index: u32, begin: u32, length: u32 },
    #[error("buffered input exceeds the limit")]
    BufferFull,
    #[error("bad extension message: {0}")]
    BadExtension(String),
}

// proptest does not build for wasm32 (no getrandom backend there).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
