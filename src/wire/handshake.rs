//! The 68-byte handshake that opens each direction of a connection.

use super::WireError;

pub const HANDSHAKE_LEN: usize = 68;
const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// reserved[5] & 0x10: the peer speaks the BEP 10 extension protocol.
const EXTENSION_BYTE: usize = 5;
const EXTENSION_BIT: u8 = 0x10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub reserved: [u8; 8],
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// Our handshake: BEP 10 advertised, nothing else (no DHT, no fast
    /// extension), so a WebTorrent peer sends only messages we decode.
    pub fn new(info_hash: [u8; 20], peer_id: [u8; 20]) -> Handshake {
        let mut reserved = [0u8; 8];
        reserved[EXTENSION_BYTE] |= EXTENSION_BIT;
        Handshake {
            reserved,
            info_hash,
            peer_id,
        }
    }

    pub fn supports_extensions(&self) -> bool {
        self.reserved[EXTENSION_BYTE] & EXTENSION_BIT != 0
    }

    pub fn to_bytes(&self) -> [u8; HANDSHAKE_LEN] {
        let mut out = [0u8; HANDSHAKE_LEN];
        out[0] = 19;
        out[1..20].copy_from_slice(PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved);
        out[28..48].copy_from_slice(&self.info_hash);
        out[48..68].copy_from_slice(&self.peer_id);
        out
    }
}

impl TryFrom<&[u8]> for Handshake {
    type Error = WireError;

    /// Exactly [`HANDSHAKE_LEN`] bytes.
    fn try_from(bytes: &[u8]) -> Result<Self, WireError> {
        let bytes: &[u8; HANDSHAKE_LEN] = bytes
            .try_into()
            .map_err(|_| WireError::BadHandshake("wrong length"))?;
        if bytes[0] != 19 || &bytes[1..20] != PROTOCOL {
            return Err(WireError::BadHandshake("not the BitTorrent protocol"));
        }
        let mut hs = Handshake {
            reserved: [0; 8],
            info_hash: [0; 20],
            peer_id: [0; 20],
        };
        hs.reserved.copy_from_slice(&bytes[20..28]);
        hs.info_hash.copy_from_slice(&bytes[28..48]);
        hs.peer_id.copy_from_slice(&bytes[48..68]);
        Ok(hs)
    }
}
