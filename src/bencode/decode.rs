//! Strict, bounded bencode decoding of untrusted bytes.
//!
//! Rejects everything that is not the canonical encoding of a value:
//! leading zeros, `-0`, unsorted or repeated dictionary keys, trailing
//! bytes. Each error carries the offset of the byte where it was found.

use crate::sorted::SortedMap;

use super::Value;

/// Bounds applied while decoding; exceeding one is an error, not a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists and dictionaries.
    pub max_depth: usize,
    /// Longest byte string.
    pub max_string_len: usize,
    /// Largest whole input.
    pub max_total_len: usize,
}

impl Default for Limits {
    /// Generous enough for a torrent of a large site (a 4 MiB piece-hash
    /// string), small enough that a hostile input cannot exhaust memory.
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_string_len: 16 * 1024 * 1024,
            max_total_len: 32 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bencode: {kind} at byte {offset}")]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("unexpected end of input")]
    UnexpectedEnd,
    #[error("unexpected byte {0:#04x}")]
    UnexpectedByte(u8),
    #[error("integer with a leading zero or negative zero")]
    NonCanonicalInteger,
    #[error("integer out of range")]
    IntegerOverflow,
    #[error("string length with a leading zero")]
    NonCanonicalLength,
    #[error("string longer than the limit")]
    StringTooLong,
    #[error("nesting deeper than the limit")]
    TooDeep,
    #[error("input larger than the limit")]
    InputTooLarge,
    #[error("dictionary keys not sorted or not unique")]
    UnsortedKeys,
    #[error("trailing bytes after the value")]
    TrailingBytes,
}

/// Decodes exactly one value spanning all of `input`.
pub fn decode<'a>(input: &'a [u8], limits: &Limits) -> Result<Value<'a>, DecodeError> {
    let (value, used) = decode_prefix(input, limits)?;
    if used != input.len() {
        return Err(DecodeError {
            offset: used,
            kind: DecodeErrorKind::TrailingBytes,
        });
    }
    Ok(value)
}

/// Decodes one value at the start of `input`; returns it and the number of
/// bytes it took. Used where a value is followed by raw bytes (BEP 9).
pub fn decode_prefix<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<(Value<'a>, usize), DecodeError> {
    if input.len() > limits.max_total_len {
        return Err(DecodeError {
            offset: limits.max_total_len,
            kind: DecodeErrorKind::InputTooLarge,
        });
    }
    let mut decoder = Decoder {
        input,
        pos: 0,
        limits,
    };
    let value = decoder.value(0)?;
    Ok((value, decoder.pos))
}

struct Decoder<'a, 'l> {
    input: &'a [u8],
    pos: usize,
    limits: &'l Limits,
}

impl<'a> Decoder<'a, '_> {
    fn err<T>(&self, offset: usize, kind: DecodeErrorKind) -> Result<T, DecodeError> {
        Err(DecodeError { offset, kind })
    }

    fn peek(&self) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(b) => Ok(*b),
            None => self.err(self.pos, DecodeErrorKind::UnexpectedEnd),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        match self.peek()? {
            b'i' => self.integer().map(Value::Int),
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' | b'd' if depth >= self.limits.max_depth => {
                self.err(self.pos, DecodeErrorKind::TooDeep)
            }
            b'l' => self.list(depth + 1),
            b'd' => self.dict(depth + 1),
            other => self.err(self.pos, DecodeErrorKind::UnexpectedByte(other)),
        }
    }

    fn integer(&mut self) -> Result<i64, DecodeError> {
        self.pos += 1; // 'i'
        let start = self.pos;
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        let magnitude = self.digits()?;
        let digits = &self.input[digits_start..self.pos];
        if (digits.len() > 1 && digits[0] == b'0') || (negative && magnitude == 0) {
            return self.err(start, DecodeErrorKind::NonCanonicalInteger);
        }
        self.expect(b'e')?;
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        match value {
            Some(v) => Ok(v),
            None => self.err(start, DecodeErrorKind::IntegerOverflow),
        }
    }

    /// Reads one or more ASCII digits as an unsigned number.
    fn digits(&mut self) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(&b) = self.input.get(self.pos) {
            if !b.is_ascii_digit() {
                break;
            }
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(v) => v,
                None => return self.err(start, DecodeErrorKind::IntegerOverflow),
            };
            self.pos += 1;
        }
        if self.pos == start {
            let kind = match self.input.get(self.pos) {
                Some(&b) => DecodeErrorKind::UnexpectedByte(b),
                None => DecodeErrorKind::UnexpectedEnd,
            };
            return self.err(self.pos, kind);
        }
        Ok(value)
    }

    fn expect(&mut self, byte: u8) -> Result<(), DecodeError> {
        let found = self.peek()?;
        if found != byte {
            return self.err(self.pos, DecodeErrorKind::UnexpectedByte(found));
        }
        self.pos += 1;
        Ok(())
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.digits()?;
        if self.pos - start > 1 && self.input[start] == b'0' {
            return self.err(start, DecodeErrorKind::NonCanonicalLength);
        }
        if len > self.limits.max_string_len as u64 {
            return self.err(start, DecodeErrorKind::StringTooLong);
        }
        self.expect(b':')?;
        let remaining = (self.input.len() - self.pos) as u64;
        if len > remaining {
            return self.err(self.input.len(), DecodeErrorKind::UnexpectedEnd);
        }
        let end = self.pos + len as usize;
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn list(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        self.pos += 1; // 'l'
        let mut items = Vec::new();
        while self.peek()? != b'e' {
            items.push(self.value(depth)?);
        }
        self.pos += 1;
        Ok(Value::List(items))
    }

    fn dict(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        self.pos += 1; // 'd'
        let mut entries = SortedMap::new();
        let mut previous: Option<&[u8]> = None;
        while self.peek()? != b'e' {
            let key_offset = self.pos;
            if !self.peek()?.is_ascii_digit() {
                let found = self.peek()?;
                return self.err(key_offset, DecodeErrorKind::UnexpectedByte(found));
            }
            let key = self.bytes()?;
            if previous.is_some_and(|p| p >= key) {
                return self.err(key_offset, DecodeErrorKind::UnsortedKeys);
            }
            previous = Some(key);
            let value = self.value(depth)?;
            entries.insert(key, value);
        }
        self.pos += 1;
        Ok(Value::Dict(entries))
    }
}
