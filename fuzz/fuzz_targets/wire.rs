//! The peer wire decoder on arbitrary bytes delivered in arbitrary channel
//! chunks: never panics, never buffers beyond its bound, and every message
//! it accepts re-encodes to exactly the bytes it was decoded from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::wire::metadata::MetadataMessage;
use peercdn::wire::{Decoder, ExtendedHandshake, Frame, Geometry, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let Some(geometry) = Geometry::new(32 * 1024, 100 * 32 * 1024 - 17) else { return };
    let limits = Limits::default();
    let max_chunk = 4096;
    let mut decoder = Decoder::new(geometry, limits, max_chunk);
    let chunk = usize::from(split).max(1);
    'outer: for piece in rest.chunks(chunk) {
        if decoder.push(piece).is_err() {
            break;
        }
        assert!(decoder.buffered() <= limits.max_message_len as usize + 4 + max_chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(Frame::Message(msg))) => {
                    let bytes = msg.to_bytes();
                    let back = peercdn::wire::Message::try_from(&bytes[4..]);
                    assert_eq!(back.as_ref(), Ok(&msg));
                    if let peercdn::wire::Message::Extended { payload, .. } = msg {
                        let _ = ExtendedHandshake::try_from(payload);
                        let _ = MetadataMessage::try_from(payload);
                    }
                }
                Ok(Some(Frame::Handshake(hs))) => assert_eq!(hs.to_bytes().len(), 68),
                Ok(None) => break,
                Err(_) => break 'outer,
            }
        }
    }
});
