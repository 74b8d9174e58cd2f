//! Peer wire messages after the handshake: structure ([`TryFrom`]) and
//! bounds against the torrent ([`Message::validate`]). Payloads borrow from
//! the decoder's buffer so a piece is copied once, into its piece buffer.

use super::{Geometry, Limits, WireError};

const CHOKE: u8 = 0;
const UNCHOKE: u8 = 1;
const INTERESTED: u8 = 2;
const NOT_INTERESTED: u8 = 3;
const HAVE: u8 = 4;
const BITFIELD: u8 = 5;
const REQUEST: u8 = 6;
const PIECE: u8 = 7;
const CANCEL: u8 = 8;
const PORT: u8 = 9;
const EXTENDED: u8 = 20;

/// One message: the bytes after the 4-byte length prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    /// Raw bitfield bytes (MSB of byte 0 is piece 0).
    Bitfield(&'a [u8]),
    Request {
        index: u32,
        begin: u32,
        length: u32,
    },
    Piece {
        index: u32,
        begin: u32,
        data: &'a [u8],
    },
    Cancel {
        index: u32,
        begin: u32,
        length: u32,
    },
    /// BEP 5 DHT port. We never advertise DHT, but a peer that sends it
    /// anyway is tolerated (the engine ignores it) rather than dropped.
    Port(u16),
    /// BEP 10: `ext_id` 0 is the extension handshake, others are the ids
    /// the receiver assigned in its handshake's `m` dictionary.
    Extended {
        ext_id: u8,
        payload: &'a [u8],
    },
}

impl<'a> TryFrom<&'a [u8]> for Message<'a> {
    type Error = WireError;

    /// Decodes a message body (without the length prefix); empty = keep-alive.
    fn try_from(body: &'a [u8]) -> Result<Self, WireError> {
        let Some((&id, payload)) = body.split_first() else {
            return Ok(Message::KeepAlive);
        };
        let fixed = |n: usize| {
            if payload.len() == n {
                Ok(())
            } else {
                Err(WireError::BadLength {
                    id,
                    len: payload.len(),
                })
            }
        };
        Ok(match id {
            CHOKE => fixed(0).map(|_| Message::Choke)?,
            UNCHOKE => fixed(0).map(|_| Message::Unchoke)?,
            INTERESTED => fixed(0).map(|_| Message::Interested)?,
            NOT_INTERESTED => fixed(0).map(|_| Message::NotInterested)?,
            HAVE => fixed(4).map(|_| Message::Have(be32(payload, 0)))?,
            PORT => {
                fixed(2).map(|_| Message::Port(u16::from_be_bytes([payload[0], payload[1]])))?
            }
            BITFIELD => Message::Bitfield(payload),
            REQUEST | CANCEL => fixed(12).map(|_| block_message(id, payload))?,
            PIECE if payload.len() >= 8 => Message::Piece {
                index: be32(payload, 0),
                begin: be32(payload, 4),
                data: &payload[8..],
            },
            PIECE => {
                return Err(WireError::BadLength {
                    id,
                    len: payload.len(),
                })
            }
            EXTENDED => match payload.split_first() {
                Some((&ext_id, payload)) => Message::Extended { ext_id, payload },
                None => return Err(WireError::BadLength { id, len: 0 }),
            },
            other => return Err(WireError::UnknownId(other)),
        })
    }
}

/// A request or cancel from its checked 12-byte payload.
fn block_message(id: u8, payload: &[u8]) -> Message<'_> {
    let (index, begin, length) = (be32(payload, 0), be32(payload, 4), be32(payload, 8));
    if id == REQUEST {
        Message::Request {
            index,
            begin,
            length,
        }
    } else {
        Message::Cancel {
            index,
            begin,
            length,
        }
    }
}

/// Big-endian u32 at `at`; callers checked the length, so a short slice
/// cannot occur, but it reads as zeros rather than panicking.
fn be32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_be_bytes(word)
}

impl Message<'_> {
    /// Checks the message against the torrent and our limits.
    pub fn validate(&self, geometry: &Geometry, limits: &Limits) -> Result<(), WireError> {
        match *self {
            Message::Have(index) => check_index(index, geometry),
            Message::Bitfield(bits) => super::Bitfield::check(bits, geometry.piece_count),
            Message::Request {
                index,
                begin,
                length,
            } => {
                if length > limits.max_request_len {
                    return Err(WireError::BlockOutOfRange {
                        index,
                        begin,
                        length,
                    });
                }
                check_block(index, begin, length, geometry)
            }
            Message::Cancel {
                index,
                begin,
                length,
            } => check_block(index, begin, length, geometry),
            Message::Piece { index, begin, data } => {
                let length = u32::try_from(data.len()).map_err(|_| WireError::TooLong(u32::MAX))?;
                check_block(index, begin, length, geometry)
            }
            _ => Ok(()),
        }
    }

    /// Length of the body (the value of the length prefix).
    pub fn body_len(&self) -> usize {
        match self {
            Message::KeepAlive => 0,
            Message::Choke | Message::Unchoke | Message::Interested | Message::NotInterested => 1,
            Message::Have(_) => 5,
            Message::Port(_) => 3,
            Message::Bitfield(bits) => 1 + bits.len(),
            Message::Request { .. } | Message::Cancel { .. } => 13,
            Message::Piece { data, .. } => 9 + data.len(),
            Message::Extended { payload, .. } => 2 + payload.len(),
        }
    }

    /// Appends the length prefix and body to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        // A body never exceeds u32 in practice (blocks are KiB); saturating
        // keeps this total, and the peer's decoder would refuse it anyway.
        let len = u32::try_from(self.body_len()).unwrap_or(u32::MAX);
        out.reserve(4 + self.body_len());
        out.extend_from_slice(&len.to_be_bytes());
        let (id, head, tail): (&[u8], [u32; 3], &[u8]) = match *self {
            Message::KeepAlive => return,
            Message::Choke => (&[CHOKE], [0; 3], &[]),
            Message::Unchoke => (&[UNCHOKE], [0; 3], &[]),
            Message::Interested => (&[INTERESTED], [0; 3], &[]),
            Message::NotInterested => (&[NOT_INTERESTED], [0; 3], &[]),
            Message::Have(index) => (&[HAVE], [index, 0, 0], &[]),
            Message::Port(port) => {
                out.push(PORT);
                return out.extend_from_slice(&port.to_be_bytes());
            }
            Message::Bitfield(bits) => (&[BITFIELD], [0; 3], bits),
            Message::Request {
                index,
                begin,
                length,
            } => (&[REQUEST], [index, begin, length], &[]),
            Message::Cancel {
                index,
                begin,
                length,
            } => (&[CANCEL], [index, begin, length], &[]),
            Message::Piece { index, begin, data } => (&[PIECE], [index, begin, 0], data),
            Message::Extended { ext_id, payload } => {
                out.extend_from_slice(&[EXTENDED, ext_id]);
                return out.extend_from_slice(payload);
            }
        };
        out.extend_from_slice(id);
        // How many of the u32 fields this message carries.
        let fields = match self {
            Message::Have(_) => 1,
            Message::Piece { .. } => 2,
            Message::Request { .. } | Message::Cancel { .. } => 3,
            _ => 0,
        };
        for word in &head[..fields] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.extend_from_slice(tail);
    }

    /// The encoded message in a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
}

fn check_index(index: u32, geometry: &Geometry) -> Result<(), WireError> {
    if index < geometry.piece_count {
        Ok(())
    } else {
        Err(WireError::PieceOutOfRange(index))
    }
}

/// A block must be non-empty and lie inside its piece.
fn check_block(index: u32, begin: u32, length: u32, geometry: &Geometry) -> Result<(), WireError> {
    check_index(index, geometry)?;
    let end = u64::from(begin) + u64::from(length);
    if length == 0 || end > u64::from(geometry.piece_size(index)) {
        return Err(WireError::BlockOutOfRange {
            index,
            begin,
            length,
        });
    }
    Ok(())
}
