//! Bencode (BEP 3): the encoding of `.torrent` files and of BitTorrent
//! extension messages.
//!
//! ```text
//! integer  i<decimal>e          i42e  i-7e      (no leading zeros, no -0)
//! string   <length>:<bytes>     4:spam  0:      (length without leading zeros)
//! list     l<value>*e           l4:spami42ee
//! dict     d(<string><value>)*e d3:cow3:mooe    (keys sorted bytewise, unique)
//! ```
//!
//! Invariants:
//! - Encoding is canonical: dictionary keys come out sorted (a `SortedMap`),
//!   so `encode(decode(x)) == x` for every input the decoder accepts.
//! - Decoding is strict and bounded ([`Limits`]): it accepts only canonical
//!   input, never allocates more than the input's size allows, never recurses
//!   deeper than `max_depth`, and reports every error with its byte offset.
//!   It never panics, whatever the bytes.

mod decode;
mod encode;

pub use decode::{decode, decode_prefix, DecodeError, DecodeErrorKind, Limits};
pub use encode::{encode, encode_into};

use crate::sorted::SortedMap;

/// A bencoded value borrowing its strings from the decoded input (or from
/// whatever the caller built it from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    List(Vec<Value<'a>>),
    Dict(SortedMap<&'a [u8], Value<'a>>),
}

impl<'a> Value<'a> {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&SortedMap<&'a [u8], Value<'a>>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Looks `key` up when this value is a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_dict()?.get(key.as_bytes())
    }

    /// Builds a dictionary from `(key, value)` pairs; later keys win.
    pub fn dict<I: IntoIterator<Item = (&'a str, Value<'a>)>>(pairs: I) -> Self {
        Value::Dict(pairs.into_iter().map(|(k, v)| (k.as_bytes(), v)).collect())
    }

    pub fn str(s: &'a str) -> Self {
        Value::Bytes(s.as_bytes())
    }
}

// proptest does not build for wasm32 (no getrandom backend there).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
