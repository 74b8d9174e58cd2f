//! Streaming decoder and channel-sized splitting.
//!
//! The decoder owns one buffer. Input is appended; complete frames are
//! parsed in place and handed out borrowing that buffer; consumed bytes are
//! dropped lazily (compaction when more than half the buffer is consumed),
//! so decoding a stream copies each byte once on the way in.
//!
//! Invariant: the buffer never holds more than `max_buffered` bytes; a peer
//! that sends more than one oversized message's worth without completing
//! it is refused ([`WireError::BufferFull`] or [`WireError::TooLong`]).

use super::{Geometry, Handshake, Limits, Message, WireError, HANDSHAKE_LEN};

/// What the decoder produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Handshake(Handshake),
    Message(Message<'a>),
}

#[derive(Clone, Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    start: usize,
    handshake_done: bool,
    geometry: Geometry,
    limits: Limits,
    max_buffered: usize,
    failed: Option<WireError>,
}

impl Decoder {
    /// A decoder for a fresh connection: expects the handshake first.
    /// `max_chunk` is the largest channel message the transport delivers.
    pub fn new(geometry: Geometry, limits: Limits, max_chunk: usize) -> Decoder {
        Decoder {
            buf: Vec::new(),
            start: 0,
            handshake_done: false,
            geometry,
            limits,
            max_buffered: limits.max_message_len as usize + 4 + max_chunk,
            failed: None,
        }
    }

    /// Appends received bytes. Fails if the unconsumed input would exceed
    /// the bound; callers drain [`Decoder::next_frame`] after each push.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.len() - self.start + bytes.len() > self.max_buffered {
            return self.fail(WireError::BufferFull);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    /// After an error the decoder stays failed.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, WireError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let avail = &self.buf[self.start..];
        if !self.handshake_done {
            let Some(bytes) = avail.get(..HANDSHAKE_LEN) else {
                return Ok(None);
            };
            let hs = match Handshake::try_from(bytes) {
                Ok(hs) => hs,
                Err(e) => return self.fail(e),
            };
            self.handshake_done = true;
            self.start += HANDSHAKE_LEN;
            return Ok(Some(Frame::Handshake(hs)));
        }
        let Some(prefix) = avail.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        if len > self.limits.max_message_len {
            return self.fail(WireError::TooLong(len));
        }
        let end = 4 + len as usize;
        if avail.len() < end {
            return Ok(None);
        }
        let (from, to) = (self.start + 4, self.start + end);
        self.start += end;
        let checked = Message::try_from(&self.buf[from..to])
            .and_then(|m| m.validate(&self.geometry, &self.limits).map(|_| ()));
        if let Err(e) = checked {
            return self.fail(e);
        }
        // Parsed twice (cheap: a few header bytes) so the error path above
        // can record the failure without holding a borrow of the buffer.
        Ok(Message::try_from(&self.buf[from..to])
            .ok()
            .map(Frame::Message))
    }

    fn fail<T>(&mut self, err: WireError) -> Result<T, WireError> {
        self.failed = Some(err.clone());
        self.buf = Vec::new();
        self.start = 0;
        Err(err)
    }
}

/// Cuts an encoded byte stream into channel messages of at most `max` bytes
/// (a data channel refuses larger messages; `max` 0 is treated as 1).
pub fn split_for_channel(stream: &[u8], max: usize) -> impl Iterator<Item = &[u8]> {
    stream.chunks(max.max(1))
}
