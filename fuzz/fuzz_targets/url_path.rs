//! The server's URL-path decoder on arbitrary paths: never panics, never
//! yields a name that could leave the site or name a hidden file, and
//! what it yields encodes (as the manifest writes paths) back to a path
//! that decodes to the same names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peercdn::url_path::{decode_path, encode_components};

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Some(names) = decode_path(path) else {
        return;
    };
    for (i, name) in names.iter().enumerate() {
        assert!(!name.starts_with('.'), "{name:?}");
        assert!(!name.contains(['/', '\\', '\0']), "{name:?}");
        assert!(!name.is_empty() || i + 1 == names.len(), "{names:?}");
    }
    let again = decode_path(&format!("/{}", encode_components(&names)));
    assert_eq!(again.as_ref(), Some(&names));
});
