//! The Range header parser on arbitrary headers and asset lengths: never
//! panics, and a range it grants is non-empty and inside the asset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::range::{answer, RangeAnswer};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (len, header) = data.split_at(8);
    let mut n = [0u8; 8];
    n.copy_from_slice(len);
    let length = u64::from_le_bytes(n);
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    match answer(Some(header), length) {
        RangeAnswer::Partial(r) => {
            assert!(r.start <= r.end && r.end < length, "{r:?} of {length}");
            assert_eq!(r.len(), r.end - r.start + 1);
        }
        RangeAnswer::Unsatisfiable | RangeAnswer::Whole => {}
    }
});
