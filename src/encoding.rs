//! Hex and base64 (RFC 4648, standard alphabet, padded), small enough for
//! the wasm build: the manifest carries info hashes in hex and the bencoded
//! info dictionary in base64. Decoders never panic on malformed text.

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextDecodeError {
    #[error("invalid character at position {0}")]
    InvalidChar(usize),
    #[error("invalid length {0}")]
    InvalidLength(usize),
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// Accepts upper- and lower-case hex of even length.
pub fn hex_decode(text: &str) -> Result<Vec<u8>, TextDecodeError> {
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(TextDecodeError::InvalidLength(bytes.len()));
    }
    let nibble = |i: usize| -> Result<u8, TextDecodeError> {
        match bytes[i] {
            c @ b'0'..=b'9' => Ok(c - b'0'),
            c @ b'a'..=b'f' => Ok(c - b'a' + 10),
            c @ b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(TextDecodeError::InvalidChar(i)),
        }
    };
    (0..bytes.len() / 2)
        .map(|i| Ok(nibble(2 * i)? << 4 | nibble(2 * i + 1)?))
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Strict: padded, no whitespace, zero bits after the last byte.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, TextDecodeError> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err(TextDecodeError::InvalidLength(bytes.len()));
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (q, quad) in bytes.chunks(4).enumerate() {
        let last = (q + 1) * 4 == bytes.len();
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return Err(TextDecodeError::InvalidChar(q * 4 + 4 - pad));
        }
        let mut n = 0u32;
        for (i, &c) in quad[..4 - pad].iter().enumerate() {
            let v = B64
                .iter()
                .position(|&a| a == c)
                .ok_or(TextDecodeError::InvalidChar(q * 4 + i))?;
            n |= (v as u32) << (18 - 6 * i);
        }
        let kept = 3 - pad;
        if n & (0xff_ffff >> (8 * kept)) != 0 {
            return Err(TextDecodeError::InvalidChar(q * 4 + 3 - pad));
        }
        out.extend((0..kept).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Ok(out)
}

/// `text` in double quotes for an error message, with quotes, backslashes
/// and control characters escaped. Unlike `{:?}` it leaves other Unicode
/// as is, and it keeps core's Unicode printability tables out of the wasm.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                out.push_str("\\u{");
                out.push_str(&hex_encode(&[c as u8]));
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `bytes` as text, each invalid sequence replaced by U+FFFD: the same
/// result as `String::from_utf8_lossy`, whose own code (a chunk iterator
/// and a `Cow`) is about 1 KB more of the wasm than this loop over
/// `str::from_utf8`, which the wasm has anyway.
pub fn utf8_lossy(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                // `None`: the input ends inside a sequence, replaced whole.
                let skip = e.error_len().unwrap_or(rest.len());
                bytes = rest.get(skip..).unwrap_or_default();
            }
        }
    }
}

// proptest does not build for wasm32 (no getrandom backend there).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(hex_encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode("00ABff").unwrap(), vec![0, 0xab, 0xff]);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(hex_decode("abc"), Err(TextDecodeError::InvalidLength(3)));
        assert_eq!(hex_decode("zz"), Err(TextDecodeError::InvalidChar(0)));
        assert!(base64_decode("Zg=").is_err());
        assert!(base64_decode("Zg=a").is_err());
        assert!(base64_decode("Z===").is_err());
        assert!(base64_decode("Zh==").is_err(), "non-zero trailing bits");
        assert!(base64_decode("Zg==Zg==").is_err(), "padding in the middle");
        assert!(base64_decode("Z g=").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes.clone());
            prop_assert_eq!(hex_decode(&hex_encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn utf8_lossy_agrees_with_std(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(utf8_lossy(&bytes), String::from_utf8_lossy(&bytes));
        }

        /// Mostly valid text with a few bad bytes, where random bytes are
        /// almost never valid UTF-8.
        #[test]
        fn utf8_lossy_agrees_with_std_on_text(text in "\\PC{0,20}", cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
            let mut bytes = text.into_bytes();
            for (at, b) in cuts {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
            }
            prop_assert_eq!(utf8_lossy(&bytes), String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn utf8_lossy_replaces_invalid_sequences() {
        assert_eq!(utf8_lossy(b"ok"), "ok");
        assert_eq!(utf8_lossy(b"a\xffb"), "a\u{fffd}b");
        // A truncated sequence at the end is one replacement.
        assert_eq!(utf8_lossy(b"a\xe2\x82"), "a\u{fffd}");
        // Its maximal valid prefix, then the next byte starts over.
        assert_eq!(
            utf8_lossy(b"\xe2\x82z\xf0\x9f\x98\x80"),
            "\u{fffd}z\u{1f600}"
        );
    }

    #[test]
    fn quoted_escapes_quotes_backslashes_and_controls_only() {
        assert_eq!(quoted("café.txt"), "\"café.txt\"");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted("x\ny\u{7f}"), "\"x\\u{0a}y\\u{7f}\"");
    }
}
