//! The tracker message decoders on arbitrary bytes: never panic, and
//! whatever they accept re-encodes to a message that decodes to the same
//! value (the codec refuses anything it could not write back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::tracker::{ClientToTracker, TrackerToClient};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = ClientToTracker::try_from(data) {
        let again = ClientToTracker::try_from(msg.to_json().as_bytes());
        assert_eq!(again.as_ref(), Ok(&msg));
    }
    if let Ok(msg) = TrackerToClient::try_from(data) {
        let again = TrackerToClient::try_from(msg.to_json().as_bytes());
        assert_eq!(again.as_ref(), Ok(&msg));
    }
});
