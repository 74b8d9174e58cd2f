//! The bencode decoder on arbitrary bytes: never panics, and whatever it
//! accepts re-encodes to exactly the same bytes (it accepts only canonical
//! input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::bencode::{decode, decode_prefix, encode, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_depth: 16, ..Limits::default() };
    if let Ok(value) = decode(data, &limits) {
        assert_eq!(encode(&value), data);
    }
    if let Ok((value, used)) = decode_prefix(data, &limits) {
        assert_eq!(encode(&value), &data[..used]);
    }
});
