//! WebSocket framing (RFC 6455 section 5), server side, sans-IO: the
//! framing of `peercdn serve`'s tracker. It lives in the core crate, not
//! in the CLI binary, so the fuzz targets (fuzz/) can reach it; nothing in
//! the browser runtime uses it, so the wasm does not grow.
//!
//! Why not tungstenite (which axum uses): a tracker holds thousands of
//! mostly idle sockets, and tungstenite keeps a read buffer per socket that
//! never shrinks below its largest message. This decoder works on the
//! caller's read buffer (on the stack) and unmasks payloads in place; it
//! holds bytes only while a frame is incomplete and frees them as soon as
//! it is not, so an idle connection costs no buffer at all.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |            (16/64)            |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |  Masking key (client to server frames only, 4 bytes)          |
//! +---------------------------------------------------------------+
//! |  Payload                                                      |
//! +---------------------------------------------------------------+
//! ```
//!
//! Invariants: never panics on any input; a message (all its fragments)
//! larger than `max_message` is refused as soon as its header says so,
//! before its payload is buffered; client frames must be masked, carry no
//! extension bits, and control frames must be whole and at most 125 bytes.

use std::ops::ControlFlow;

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// A complete message or control frame from the client; payloads borrow
/// the read buffer they were unmasked in.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Text(&'a [u8]),
    Binary,
    Ping(&'a [u8]),
    Pong,
    Close,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    TooLarge,
    Protocol(&'static str),
}

/// A frame's header: whether it ends its message, its opcode, and where
/// its payload starts and how long it is.
struct Header {
    fin: bool,
    opcode: u8,
    start: usize,
    len: usize,
}

/// One frame's payload, once fragments are accounted for.
enum Assembled<'a> {
    /// A whole message in one frame, or a control frame.
    Message(Incoming<'a>),
    /// The last fragment of a message: the message's opcode and bytes.
    Joined(u8, Vec<u8>),
    /// A fragment of a message still incomplete.
    Pending,
}

pub struct Decoder {
    max_message: usize,
    /// Bytes of an incomplete frame; empty (unallocated) between frames.
    buf: Vec<u8>,
    /// A fragmented data message in progress: its opcode and payload so far.
    partial: Option<(u8, Vec<u8>)>,
}

impl Decoder {
    pub fn new(max_message: usize) -> Self {
        Decoder {
            max_message,
            buf: Vec::new(),
            partial: None,
        }
    }

    /// Whether a message has started and not ended: bytes of an
    /// incomplete frame are held, or fragments of a message.
    pub fn mid_message(&self) -> bool {
        !self.buf.is_empty() || self.partial.is_some()
    }

    /// Whether bytes of an incomplete frame are held.
    pub fn holds_bytes(&self) -> bool {
        self.buf.capacity() > 0
    }

    /// Decodes `input`, bytes just read (after any incomplete frame kept
    /// from before), and gives each complete message to `handle` until it
    /// breaks. Payloads are unmasked in place: a message that arrives
    /// whole in one read is never copied. Keeps an incomplete last frame.
    pub fn feed<B>(
        &mut self,
        input: &mut [u8],
        mut handle: impl FnMut(Incoming<'_>) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, FrameError> {
        if self.buf.is_empty() {
            let (used, flow) = self.decode_all(input, &mut handle)?;
            if flow.is_continue() {
                self.buf.extend_from_slice(&input[used..]);
            }
            return Ok(flow);
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(input);
        let (used, flow) = self.decode_all(&mut buf, &mut handle)?;
        if used < buf.len() && flow.is_continue() {
            buf.drain(..used);
            self.buf = buf;
        }
        Ok(flow)
    }

    /// Handles the complete frames at the front of `data`; returns how
    /// many bytes they took.
    fn decode_all<B>(
        &mut self,
        data: &mut [u8],
        handle: &mut impl FnMut(Incoming<'_>) -> ControlFlow<B>,
    ) -> Result<(usize, ControlFlow<B>), FrameError> {
        let mut at = 0;
        while let Some(h) = self.header(&data[at..])? {
            let Some(end) = (at + h.start)
                .checked_add(h.len)
                .filter(|&e| e <= data.len())
            else {
                break;
            };
            let (head, payload) = data[at..end].split_at_mut(h.start);
            unmask(payload, &head[h.start - 4..]);
            at = end;
            let flow = match self.assemble(h.fin, h.opcode, payload)? {
                Assembled::Message(message) => handle(message),
                Assembled::Joined(OP_TEXT, text) => handle(Incoming::Text(&text)),
                Assembled::Joined(..) => handle(Incoming::Binary),
                Assembled::Pending => ControlFlow::Continue(()),
            };
            if flow.is_break() {
                return Ok((at, flow));
            }
        }
        Ok((at, ControlFlow::Continue(())))
    }

    /// Parses the header at the front of `b`, or `None` if incomplete.
    fn header(&self, b: &[u8]) -> Result<Option<Header>, FrameError> {
        if b.len() < 2 {
            return Ok(None);
        }
        let (fin, rsv, opcode) = (b[0] & 0x80 != 0, b[0] & 0x70, b[0] & 0x0f);
        if rsv != 0 {
            return Err(FrameError::Protocol("extension bits set"));
        }
        if b[1] & 0x80 == 0 {
            return Err(FrameError::Protocol("unmasked client frame"));
        }
        let (len, at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n), 10)
            }
            126 | 127 => return Ok(None),
            n => (u64::from(n), 2),
        };
        if opcode >= OP_CLOSE && (!fin || len > 125) {
            return Err(FrameError::Protocol("fragmented or long control frame"));
        }
        let so_far = self.partial.as_ref().map_or(0, |(_, p)| p.len() as u64);
        if len.saturating_add(so_far) > self.max_message as u64 {
            return Err(FrameError::TooLarge);
        }
        if b.len() < at + 4 {
            return Ok(None);
        }
        // `len` fits usize: it is at most max_message.
        Ok(Some(Header {
            fin,
            opcode,
            start: at + 4,
            len: len as usize,
        }))
    }

    fn assemble<'a>(
        &mut self,
        fin: bool,
        opcode: u8,
        payload: &'a [u8],
    ) -> Result<Assembled<'a>, FrameError> {
        let message = match (opcode, fin, self.partial.as_mut()) {
            (OP_CLOSE, ..) => Incoming::Close,
            (OP_PING, ..) => Incoming::Ping(payload),
            (OP_PONG, ..) => Incoming::Pong,
            (OP_TEXT, true, None) => Incoming::Text(payload),
            (OP_BINARY, true, None) => Incoming::Binary,
            (OP_TEXT | OP_BINARY, false, None) => {
                self.partial = Some((opcode, payload.to_vec()));
                return Ok(Assembled::Pending);
            }
            (OP_CONTINUATION, fin, Some((_, so_far))) => {
                so_far.extend_from_slice(payload);
                return Ok(match (fin, self.partial.take()) {
                    (true, Some((op, all))) => Assembled::Joined(op, all),
                    (_, partial) => {
                        self.partial = partial;
                        Assembled::Pending
                    }
                });
            }
            (OP_TEXT | OP_BINARY, _, Some(_)) => {
                return Err(FrameError::Protocol("new message inside a fragmented one"))
            }
            (OP_CONTINUATION, _, None) => {
                return Err(FrameError::Protocol("continuation without a message"))
            }
            _ => return Err(FrameError::Protocol("unknown opcode")),
        };
        Ok(Assembled::Message(message))
    }
}

/// XORs a client payload with its 4-byte mask, in place.
fn unmask(payload: &mut [u8], mask: &[u8]) {
    let mut key = [0u8; 4];
    key.copy_from_slice(&mask[..4]);
    // Word at a time: the mask repeats every 4 bytes, so every whole
    // 4-byte chunk takes the same 32-bit XOR.
    let word = u32::from_ne_bytes(key);
    let mut chunks = payload.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let v = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(key) {
        *b ^= m;
    }
}

/// A server frame (unmasked, unfragmented).
pub fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    write(&mut out, opcode, payload);
    out
}

/// Appends a server frame to `out`, so many frames go out in one write.
pub fn write(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// A close frame with a status code and reason (at most 123 bytes of it).
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..cut]);
    encode(OP_CLOSE, &payload)
}

#[cfg(test)]
mod tests;
