//! Reading typed fields straight out of a parsed JSON text, and writing
//! them back.
//!
//! Every reader returns a [`TrackerError`] naming the field at fault instead
//! of panicking; the writer produces compact JSON in the field order given.

use super::json::{write_bin, write_key, write_str, Kind, Str, Val};
use super::{Id20, TrackerError};

/// `key` as a string, if present and not null.
pub fn opt_str<'a>(msg: Val<'_, 'a>, key: &'static str) -> Result<Option<Str<'a>>, TrackerError> {
    match msg.get(key) {
        None => Ok(None),
        Some(v) if v.kind() == Kind::Null => Ok(None),
        Some(v) => v
            .str()
            .map(Some)
            .ok_or(TrackerError::invalid(key, "not a string")),
    }
}

pub fn req_str<'a>(msg: Val<'_, 'a>, key: &'static str) -> Result<Str<'a>, TrackerError> {
    opt_str(msg, key)?.ok_or(TrackerError::Missing(key))
}

/// A 20-byte id written as a binary string: exactly 20 chars, each 0-255.
pub fn id_from_str(text: Str<'_>, key: &'static str) -> Result<Id20, TrackerError> {
    let mut id = [0u8; 20];
    let mut n = 0;
    for c in text.chars() {
        let byte = u8::try_from(u32::from(c))
            .map_err(|_| TrackerError::invalid(key, "a char above 255"))?;
        *id.get_mut(n)
            .ok_or_else(|| TrackerError::invalid(key, "longer than 20 chars"))? = byte;
        n += 1;
    }
    if n != 20 {
        return Err(TrackerError::invalid(key, "shorter than 20 chars"));
    }
    Ok(id)
}

pub fn req_id(msg: Val<'_, '_>, key: &'static str) -> Result<Id20, TrackerError> {
    id_from_str(req_str(msg, key)?, key)
}

/// A count or byte total. JavaScript clients send integers as plain
/// digits; `null` (what `JSON.stringify(Infinity)` gives for `left`) reads
/// as absent. Fractions, exponents, negatives and values above 2^53 are
/// refused: no client sends them, and we could not write them back.
pub fn opt_u64(msg: Val<'_, '_>, key: &'static str) -> Result<Option<u64>, TrackerError> {
    match msg.get(key) {
        None => Ok(None),
        Some(v) if v.kind() == Kind::Null => Ok(None),
        Some(v) => v
            .integer()
            .map(Some)
            .ok_or(TrackerError::invalid(key, "not a non-negative integer")),
    }
}

pub fn opt_u32(msg: Val<'_, '_>, key: &'static str) -> Result<Option<u32>, TrackerError> {
    opt_u64(msg, key)?
        .map(|n| u32::try_from(n).map_err(|_| TrackerError::invalid(key, "too large")))
        .transpose()
}

/// A WebRTC session description `{"type": kind, "sdp": "..."}`: returns
/// the SDP text.
pub fn req_sdp(msg: Val<'_, '_>, key: &'static str, kind: &str) -> Result<String, TrackerError> {
    let desc = msg.get(key).ok_or(TrackerError::Missing(key))?;
    if desc.kind() != Kind::Object {
        return Err(TrackerError::invalid(key, "not an object"));
    }
    let desc_type = req_str(desc, "type").map_err(|_| TrackerError::invalid(key, "no `type`"))?;
    if !desc_type.eq_str(kind) {
        return Err(TrackerError::invalid(key, "wrong `type`"));
    }
    let sdp = req_str(desc, "sdp").map_err(|_| TrackerError::invalid(key, "no `sdp`"))?;
    Ok(sdp.to_owned_string())
}

/// Builds one JSON object, field by field.
pub struct ObjectWriter {
    out: String,
    empty: bool,
}

impl ObjectWriter {
    pub fn new() -> Self {
        let mut out = String::with_capacity(128);
        out.push('{');
        ObjectWriter { out, empty: true }
    }

    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        write_key(&mut self.out, key);
        &mut self.out
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        write_str(self.key(key), value);
        self
    }

    /// Bytes as a binary string: byte `b` becomes char U+00bb.
    pub fn bin(&mut self, key: &str, bytes: &[u8]) -> &mut Self {
        write_bin(self.key(key), bytes);
        self
    }

    pub fn num(&mut self, key: &str, value: u64) -> &mut Self {
        let out = self.key(key);
        out.push_str(&value.to_string());
        self
    }

    /// `key: {"type": kind, "sdp": sdp}`, written in place.
    pub fn sdp(&mut self, key: &str, kind: &str, sdp: &str) -> &mut Self {
        let out = self.key(key);
        out.reserve(sdp.len() + 32);
        out.push('{');
        write_key(out, "type");
        write_str(out, kind);
        out.push(',');
        write_key(out, "sdp");
        write_str(out, sdp);
        out.push('}');
        self
    }

    /// `key: [...]`, each item written in place by `write`.
    pub fn array<T>(
        &mut self,
        key: &str,
        items: &[T],
        write: impl Fn(&mut String, &T),
    ) -> &mut Self {
        let out = self.key(key);
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write(out, item);
        }
        out.push(']');
        self
    }

    /// Writes `value`, already JSON, under `key`.
    pub fn raw(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key).push_str(value);
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}
