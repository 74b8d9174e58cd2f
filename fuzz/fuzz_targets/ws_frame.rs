//! The tracker's WebSocket frame decoder on arbitrary bytes delivered in
//! arbitrary read sizes: never panics, never hands over a message larger
//! than its bound, and splitting the input into reads changes nothing
//! (the same messages, then the same error or none).
#![no_main]

use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use peercdn::ws_frame::{Decoder, FrameError, Incoming};

const MAX: usize = 4096;

#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Text(Vec<u8>),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close,
}

fn owned(message: Incoming<'_>) -> Owned {
    match message {
        Incoming::Text(t) => Owned::Text(t.to_vec()),
        Incoming::Binary => Owned::Binary,
        Incoming::Ping(p) => Owned::Ping(p.to_vec()),
        Incoming::Pong => Owned::Pong,
        Incoming::Close => Owned::Close,
    }
}

/// Decodes `data` in reads of `chunk` bytes; the messages, and the error
/// that ended it if any.
fn decode(data: &[u8], chunk: usize) -> (Vec<Owned>, Option<FrameError>) {
    let mut decoder = Decoder::new(MAX);
    let mut got = Vec::new();
    for piece in data.chunks(chunk) {
        let mut read = piece.to_vec();
        let fed = decoder.feed(&mut read, |message| {
            if let Incoming::Text(t) | Incoming::Ping(t) = &message {
                assert!(t.len() <= MAX, "a message past the bound");
            }
            got.push(owned(message));
            ControlFlow::<()>::Continue(())
        });
        if let Err(e) = fed {
            return (got, Some(e));
        }
    }
    (got, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let whole = decode(rest, rest.len().max(1));
    let chunked = decode(rest, usize::from(split).max(1));
    assert_eq!(whole, chunked);
});
