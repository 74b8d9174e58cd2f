//! A set of pieces in the wire's bitfield layout: byte 0's most
//! significant bit is piece 0; the spare bits of the last byte are zero.
//!
//! Invariant: `bytes.len() == ceil(len / 8)` and spare bits are zero, so
//! [`Bitfield::as_bytes`] is always a valid bitfield message payload.

use super::WireError;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: u32,
    count: u32,
}

impl Bitfield {
    /// An empty set over `len` pieces.
    pub fn new(len: u32) -> Bitfield {
        Bitfield {
            bytes: vec![0; len.div_ceil(8) as usize],
            len,
            count: 0,
        }
    }

    /// Checks a received bitfield payload for `len` pieces.
    pub fn check(bytes: &[u8], len: u32) -> Result<(), WireError> {
        let expected = len.div_ceil(8) as usize;
        if bytes.len() != expected {
            return Err(WireError::BitfieldLength {
                got: bytes.len(),
                expected,
            });
        }
        let spare = (expected as u32 * 8 - len) as u8;
        let mask = if spare == 0 { 0 } else { (1u8 << spare) - 1 };
        if bytes.last().is_some_and(|last| last & mask != 0) {
            return Err(WireError::BitfieldSpareBits);
        }
        Ok(())
    }

    /// Builds the set from a received payload (checked first).
    pub fn from_bytes(bytes: &[u8], len: u32) -> Result<Bitfield, WireError> {
        Bitfield::check(bytes, len)?;
        let count = bytes.iter().map(|b| b.count_ones()).sum();
        Ok(Bitfield {
            bytes: bytes.to_vec(),
            len,
            count,
        })
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of pieces in the set.
    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn is_full(&self) -> bool {
        self.count == self.len
    }

    pub fn get(&self, index: u32) -> bool {
        let byte = self.bytes.get((index / 8) as usize).copied().unwrap_or(0);
        byte & (0x80 >> (index % 8)) != 0
    }

    /// Adds `index`; returns whether it was new. Out of range is ignored.
    pub fn set(&mut self, index: u32) -> bool {
        if index >= self.len || self.get(index) {
            return false;
        }
        if let Some(byte) = self.bytes.get_mut((index / 8) as usize) {
            *byte |= 0x80 >> (index % 8);
            self.count += 1;
        }
        true
    }

    /// Removes `index`; returns whether it was present.
    pub fn clear(&mut self, index: u32) -> bool {
        if !self.get(index) {
            return false;
        }
        if let Some(byte) = self.bytes.get_mut((index / 8) as usize) {
            *byte &= !(0x80 >> (index % 8));
            self.count -= 1;
        }
        true
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Indices in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.get(i))
    }
}
