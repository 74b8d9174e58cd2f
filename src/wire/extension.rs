//! The BEP 10 extension handshake (extended message id 0).
//!
//! ```text
//! d
//!   1:m d 11:ut_metadatai<our id>e ... e   extensions we accept, name -> id (0 = disabled)
//!   13:metadata_size i<bytes>e             BEP 9: size of the info dictionary
//!   4:reqq i<n>e                           requests we queue before dropping
//!   1:v <client name>
//! e
//! ```
//!
//! Unknown keys are ignored (clients add their own, e.g. `yourip`); the
//! known ones are type-checked. Decoding is bounded by small bencode limits.

use crate::sorted::SortedMap;

use super::WireError;
use crate::bencode::{self, Limits, Value};
use crate::encoding::utf8_lossy;

/// The largest extension handshake we decode.
const MAX_HANDSHAKE_LEN: usize = 64 * 1024;
/// Longest client name kept.
const MAX_CLIENT_LEN: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExtendedHandshake {
    /// Extension name -> the id the sender wants to receive it on.
    pub extensions: SortedMap<String, u8>,
    pub metadata_size: Option<u32>,
    pub reqq: Option<u32>,
    pub client: Option<String>,
}

impl ExtendedHandshake {
    /// The id the sender assigned to `name`, if enabled.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.extensions.get(name).copied().filter(|&id| id != 0)
    }

    /// The bencoded dictionary (the payload after ext id 0).
    pub fn to_bytes(&self) -> Vec<u8> {
        let m = self
            .extensions
            .iter()
            .map(|(k, &v)| (k.as_str(), Value::Int(i64::from(v))));
        let mut pairs = vec![("m", Value::dict(m))];
        if let Some(size) = self.metadata_size {
            pairs.push(("metadata_size", Value::Int(i64::from(size))));
        }
        if let Some(reqq) = self.reqq {
            pairs.push(("reqq", Value::Int(i64::from(reqq))));
        }
        if let Some(client) = &self.client {
            pairs.push(("v", Value::str(client)));
        }
        bencode::encode(&Value::dict(pairs))
    }
}

impl TryFrom<&[u8]> for ExtendedHandshake {
    type Error = WireError;

    fn try_from(bytes: &[u8]) -> Result<Self, WireError> {
        let limits = Limits {
            max_depth: 4,
            max_string_len: MAX_HANDSHAKE_LEN,
            max_total_len: MAX_HANDSHAKE_LEN,
        };
        let bad = |why: &str| WireError::BadExtension(why.to_string());
        let value = bencode::decode(bytes, &limits).map_err(|e| bad(&e.to_string()))?;
        let dict = value
            .as_dict()
            .ok_or_else(|| bad("handshake is not a dict"))?;
        let mut hs = ExtendedHandshake::default();
        if let Some(m) = dict.get(b"m".as_slice()) {
            let m = m.as_dict().ok_or_else(|| bad("`m` is not a dict"))?;
            for (name, id) in m {
                let id = id
                    .as_int()
                    .and_then(|i| u8::try_from(i).ok())
                    .ok_or_else(|| bad("extension id is not 0..=255"))?;
                let name = utf8_lossy(name);
                hs.extensions.insert(name, id);
            }
        }
        let uint = |key: &str| -> Result<Option<u32>, WireError> {
            match dict.get(key.as_bytes()) {
                None => Ok(None),
                Some(v) => v
                    .as_int()
                    .and_then(|i| u32::try_from(i).ok())
                    .map(Some)
                    .ok_or_else(|| bad("integer field out of range")),
            }
        };
        hs.metadata_size = uint("metadata_size")?;
        hs.reqq = uint("reqq")?;
        // `v` is informational only: a wrong type is ignored, not fatal.
        hs.client = dict
            .get(b"v".as_slice())
            .and_then(Value::as_bytes)
            .map(|v| utf8_lossy(&v[..v.len().min(MAX_CLIENT_LEN)]));
        Ok(hs)
    }
}
