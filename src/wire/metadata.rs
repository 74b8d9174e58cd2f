//! BEP 9 `ut_metadata`: sending the info dictionary to a peer that knows
//! only the info hash (a WebTorrent magnet link), and fetching it.
//!
//! ```text
//! extended message (id = receiver's ut_metadata id), payload:
//!   d 8:msg_typei0e 5:piecei<n>e e                          request
//!   d 8:msg_typei1e 5:piecei<n>e 10:total_sizei<s>e e <bytes> data (16 KiB pieces,
//!                                                              the last may be short)
//!   d 8:msg_typei2e 5:piecei<n>e e                          reject
//! ```
//!
//! Invariant: [`MetadataAssembler`] hands out the info dictionary only when
//! its SHA-1 equals the info hash it was created for; until then nothing it
//! holds is trusted, and its memory is bounded by [`MAX_METADATA_SIZE`].

use super::WireError;
use crate::bencode::{self, Limits, Value};
use crate::manifest::{sha1, Sha1Digest};

/// BEP 9 metadata piece size.
pub const METADATA_PIECE_LEN: usize = 16 * 1024;
/// Largest info dictionary accepted (a site of thousands of assets fits).
pub const MAX_METADATA_SIZE: u32 = 8 * 1024 * 1024;
/// Our extension id for `ut_metadata` in the handshakes we send.
pub const UT_METADATA: &str = "ut_metadata";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataMessage<'a> {
    Request {
        piece: u32,
    },
    Data {
        piece: u32,
        total_size: u32,
        data: &'a [u8],
    },
    Reject {
        piece: u32,
    },
}

impl MetadataMessage<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let (kind, piece) = match *self {
            MetadataMessage::Request { piece } => (0, piece),
            MetadataMessage::Data { piece, .. } => (1, piece),
            MetadataMessage::Reject { piece } => (2, piece),
        };
        let mut pairs = vec![
            ("msg_type", Value::Int(kind)),
            ("piece", Value::Int(i64::from(piece))),
        ];
        if let MetadataMessage::Data { total_size, .. } = self {
            pairs.push(("total_size", Value::Int(i64::from(*total_size))));
        }
        let mut out = bencode::encode(&Value::dict(pairs));
        if let MetadataMessage::Data { data, .. } = self {
            out.extend_from_slice(data);
        }
        out
    }
}

impl<'a> TryFrom<&'a [u8]> for MetadataMessage<'a> {
    type Error = WireError;

    fn try_from(bytes: &'a [u8]) -> Result<Self, WireError> {
        let bad = |why: &str| WireError::BadExtension(format!("ut_metadata: {why}"));
        let limits = Limits {
            max_depth: 2,
            max_string_len: 1024,
            max_total_len: METADATA_PIECE_LEN + 1024,
        };
        let (value, used) =
            bencode::decode_prefix(bytes, &limits).map_err(|e| bad(&e.to_string()))?;
        let field = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_int)
                .and_then(|i| u32::try_from(i).ok())
        };
        let piece = field("piece").ok_or_else(|| bad("missing piece"))?;
        let rest = &bytes[used..];
        match field("msg_type") {
            Some(0) if rest.is_empty() => Ok(MetadataMessage::Request { piece }),
            Some(2) if rest.is_empty() => Ok(MetadataMessage::Reject { piece }),
            Some(1) => {
                let total_size = field("total_size").ok_or_else(|| bad("missing total_size"))?;
                if rest.len() > METADATA_PIECE_LEN {
                    return Err(bad("data piece too long"));
                }
                Ok(MetadataMessage::Data {
                    piece,
                    total_size,
                    data: rest,
                })
            }
            _ => Err(bad("unknown msg_type or trailing bytes")),
        }
    }
}

/// Number of metadata pieces for an info dictionary of `size` bytes.
pub fn piece_count(size: u32) -> u32 {
    (size as usize).div_ceil(METADATA_PIECE_LEN) as u32
}

/// Piece `piece` of the info dictionary, to answer a request.
pub fn piece_of(info: &[u8], piece: u32) -> Option<&[u8]> {
    let start = (piece as usize).checked_mul(METADATA_PIECE_LEN)?;
    if start >= info.len() {
        return None;
    }
    info.get(start..(start + METADATA_PIECE_LEN).min(info.len()))
}

/// Collects metadata pieces from peers and verifies the whole.
#[derive(Clone, Debug)]
pub struct MetadataAssembler {
    info_hash: Sha1Digest,
    buf: Vec<u8>,
    received: Vec<bool>,
}

impl MetadataAssembler {
    /// For an info dictionary announced as `size` bytes (in a peer's
    /// extension handshake). Refuses sizes beyond [`MAX_METADATA_SIZE`].
    pub fn new(info_hash: Sha1Digest, size: u32) -> Result<MetadataAssembler, WireError> {
        if size == 0 || size > MAX_METADATA_SIZE {
            return Err(WireError::BadExtension(format!("metadata_size {size}")));
        }
        Ok(MetadataAssembler {
            info_hash,
            buf: vec![0; size as usize],
            received: vec![false; piece_count(size) as usize],
        })
    }

    /// Pieces still missing, ascending.
    pub fn missing(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.received.len() as u32).filter(|&i| !self.received[i as usize])
    }

    /// Stores one data piece; the size and position must match exactly.
    pub fn accept(&mut self, piece: u32, total_size: u32, data: &[u8]) -> Result<(), WireError> {
        let bad = |why: &str| WireError::BadExtension(format!("ut_metadata: {why}"));
        if total_size as usize != self.buf.len() {
            return Err(bad("total_size changed"));
        }
        let expected = piece_of(&self.buf, piece).map(<[u8]>::len);
        if expected != Some(data.len()) {
            return Err(bad("piece index or length wrong"));
        }
        let start = piece as usize * METADATA_PIECE_LEN;
        self.buf[start..start + data.len()].copy_from_slice(data);
        self.received[piece as usize] = true;
        Ok(())
    }

    /// The info dictionary once every piece arrived and the hash matches.
    /// On a mismatch every piece is forgotten (which peer lied is unknown)
    /// and the error says so.
    pub fn finish(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        if self.received.iter().any(|r| !r) {
            return Ok(None);
        }
        if sha1(&self.buf) != self.info_hash {
            self.received.iter_mut().for_each(|r| *r = false);
            return Err(WireError::BadExtension(
                "metadata does not match the info hash".into(),
            ));
        }
        Ok(Some(std::mem::take(&mut self.buf)))
    }
}
