//! WebSocket framing (RFC 6455 section 5), server side, sans-IO.
//!
//! Why not tungstenite (which axum uses): a tracker holds thousands of
//! mostly idle sockets, and tungstenite keeps a read buffer per socket that
//! never shrinks below its largest message. This decoder holds bytes only
//! while a frame is incomplete and frees them as soon as it is not, so an
//! idle connection costs no buffer at all.
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

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// A complete message or control frame from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(Vec<u8>),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    TooLarge,
    Protocol(&'static str),
}

pub struct Decoder {
    max_message: usize,
    /// Received bytes not yet decoded; empty (unallocated) between frames.
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

    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Where to read more bytes into.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The next complete message, if the buffered bytes hold one.
    pub fn next(&mut self) -> Result<Option<Incoming>, FrameError> {
        loop {
            let Some((fin, opcode, start, len)) = self.header()? else {
                return Ok(None);
            };
            let Some(end) = start.checked_add(len).filter(|&e| e <= self.buf.len()) else {
                return Ok(None);
            };
            let mut payload = self.buf[start..end].to_vec();
            let mask = [
                self.buf[start - 4],
                self.buf[start - 3],
                self.buf[start - 2],
                self.buf[start - 1],
            ];
            for chunk in payload.chunks_mut(4) {
                for (b, m) in chunk.iter_mut().zip(mask) {
                    *b ^= m;
                }
            }
            self.consume(end);
            if let Some(message) = self.assemble(fin, opcode, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Drops `n` decoded bytes; frees the buffer when nothing is left.
    fn consume(&mut self, n: usize) {
        if n >= self.buf.len() {
            self.buf = Vec::new();
        } else {
            self.buf.drain(..n);
        }
    }

    /// Parses the header at the front of the buffer: (fin, opcode, payload
    /// start, payload length), or `None` if incomplete.
    fn header(&self) -> Result<Option<(bool, u8, usize, usize)>, FrameError> {
        let b = &self.buf;
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
        Ok(Some((fin, opcode, at + 4, len as usize)))
    }

    fn assemble(
        &mut self,
        fin: bool,
        opcode: u8,
        payload: Vec<u8>,
    ) -> Result<Option<Incoming>, FrameError> {
        let message = match (opcode, self.partial.take()) {
            (OP_CLOSE, partial) => {
                self.partial = partial;
                return Ok(Some(Incoming::Close));
            }
            (OP_PING, partial) => {
                self.partial = partial;
                return Ok(Some(Incoming::Ping(payload)));
            }
            (OP_PONG, partial) => {
                self.partial = partial;
                return Ok(Some(Incoming::Pong));
            }
            (OP_TEXT | OP_BINARY, None) => (opcode, payload),
            (OP_CONTINUATION, Some((op, mut so_far))) => {
                so_far.extend_from_slice(&payload);
                (op, so_far)
            }
            (OP_TEXT | OP_BINARY, Some(_)) => {
                return Err(FrameError::Protocol("new message inside a fragmented one"))
            }
            (OP_CONTINUATION, None) => {
                return Err(FrameError::Protocol("continuation without a message"))
            }
            _ => return Err(FrameError::Protocol("unknown opcode")),
        };
        if !fin {
            self.partial = Some(message);
            return Ok(None);
        }
        Ok(Some(match message {
            (OP_TEXT, text) => Incoming::Text(text),
            _ => Incoming::Binary,
        }))
    }
}

/// A server frame (unmasked, unfragmented).
pub fn encode(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
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
    out
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
mod tests {
    use super::*;

    /// A client frame: masked with `mask`.
    fn client_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut f = encode(first & 0x0f, payload);
        f[0] = first;
        let at = f.len() - payload.len();
        f[1] |= 0x80;
        f.splice(at..at, mask);
        for (i, b) in f[at + 4..].iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        f
    }

    #[test]
    fn decodes_masked_text_split_anywhere() {
        let text = "x".repeat(300);
        let bytes = client_frame(0x81, text.as_bytes(), [1, 2, 3, 4]);
        for split in 0..bytes.len() {
            let mut d = Decoder::new(1000);
            d.extend(&bytes[..split]);
            assert_eq!(d.next(), Ok(None), "split at {split}");
            d.extend(&bytes[split..]);
            assert_eq!(
                d.next(),
                Ok(Some(Incoming::Text(text.clone().into_bytes())))
            );
            assert!(d.buffer().capacity() == 0, "buffer freed once idle");
        }
    }

    #[test]
    fn fragments_and_interleaved_control_frames() {
        let mut d = Decoder::new(1000);
        d.extend(&client_frame(0x01, b"hel", [9; 4]));
        d.extend(&client_frame(0x89, b"p", [7; 4]));
        d.extend(&client_frame(0x80, b"lo", [5; 4]));
        assert_eq!(d.next(), Ok(Some(Incoming::Ping(b"p".to_vec()))));
        assert_eq!(d.next(), Ok(Some(Incoming::Text(b"hello".to_vec()))));
        assert_eq!(d.next(), Ok(None));
    }

    #[test]
    fn refuses_bad_frames() {
        let cases: [(Vec<u8>, FrameError); 5] = [
            (
                encode(OP_TEXT, b"unmasked"),
                FrameError::Protocol("unmasked client frame"),
            ),
            (
                client_frame(0xc1, b"x", [0; 4]),
                FrameError::Protocol("extension bits set"),
            ),
            (
                client_frame(0x83, b"x", [0; 4]),
                FrameError::Protocol("unknown opcode"),
            ),
            (
                client_frame(0x09, b"x", [0; 4]),
                FrameError::Protocol("fragmented or long control frame"),
            ),
            (
                client_frame(0x80, b"x", [0; 4]),
                FrameError::Protocol("continuation without a message"),
            ),
        ];
        for (bytes, error) in cases {
            let mut d = Decoder::new(1000);
            d.extend(&bytes);
            assert_eq!(d.next(), Err(error));
        }
        // Too large is known from the header alone.
        let mut d = Decoder::new(100);
        d.extend(&client_frame(0x81, &[b'a'; 200], [0; 4])[..4]);
        assert_eq!(d.next(), Err(FrameError::TooLarge));
        let mut d = Decoder::new(100);
        d.extend(&[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(d.next(), Err(FrameError::TooLarge));
    }

    #[test]
    fn encodes_lengths_and_close() {
        assert_eq!(encode(OP_TEXT, b"hi"), vec![0x81, 2, b'h', b'i']);
        assert_eq!(&encode(OP_TEXT, &[0; 200])[..4], &[0x81, 126, 0, 200]);
        assert_eq!(&encode(OP_BINARY, &[0; 70_000])[..3], &[0x82, 127, 0]);
        assert_eq!(close(1008, "no"), vec![0x88, 4, 0x03, 0xf0, b'n', b'o']);
    }
}
