//! JSON string contents: checking escapes while parsing, decoding them
//! when a string is read.
//!
//! Invariant: a [`Str`] is made only by the parser, from text whose every
//! escape passed [`check_escape`]; so decoding never meets a bad escape
//! (if it somehow did, it would yield U+FFFD rather than panic).

use std::cmp::Ordering;

/// A JSON string as written between its quotes, decoded on demand.
#[derive(Clone, Copy, Debug)]
pub struct Str<'a> {
    raw: &'a str,
    /// Whether `raw` holds a backslash; without one it is the value as is.
    escaped: bool,
}

impl<'a> Str<'a> {
    pub(super) fn new(raw: &'a str, escaped: bool) -> Self {
        Str { raw, escaped }
    }

    /// The value's chars, escapes decoded.
    pub fn chars(self) -> impl Iterator<Item = char> + 'a {
        let mut rest = self.raw;
        std::iter::from_fn(move || {
            let mut chars = rest.chars();
            let c = chars.next()?;
            rest = chars.as_str();
            if c != '\\' {
                return Some(c);
            }
            let (c, used) = decode_escape(rest.as_bytes());
            rest = rest.get(used..).unwrap_or_default();
            Some(c)
        })
    }

    /// The value, borrowed from the text when it holds no escape.
    pub fn as_plain(self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// The value as an owned string; copies unescaped runs whole (SDP is
    /// most of a tracker's traffic, and every SDP escapes its line ends).
    pub fn to_owned_string(self) -> String {
        let mut out = String::with_capacity(self.raw.len());
        let mut rest = self.raw;
        while let Some(at) = rest.find('\\') {
            // `get`, not indexing: `at` is a char boundary, and a str index
            // would bring the panic's char formatting into the wasm.
            out.push_str(rest.get(..at).unwrap_or_default());
            let (c, used) = decode_escape(&rest.as_bytes()[at + 1..]);
            out.push(c);
            rest = rest.get(at + 1 + used..).unwrap_or_default();
        }
        out.push_str(rest);
        out
    }

    /// Whether the value equals `text`.
    pub fn eq_str(self, text: &str) -> bool {
        match self.as_plain() {
            Some(plain) => plain == text,
            None => self.chars().eq(text.chars()),
        }
    }
}

/// Strings order by their decoded chars, the same order as their UTF-8.
impl Ord for Str<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.as_plain(), other.as_plain()) {
            (Some(a), Some(b)) => a.cmp(b),
            _ => self.chars().cmp(other.chars()),
        }
    }
}

impl PartialOrd for Str<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Str<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Str<'_> {}

/// Checks the escape after a backslash (`rest` starts after it); returns
/// the bytes it takes. A lone surrogate is refused: it has no UTF-8 form.
pub(super) fn check_escape(rest: &[u8]) -> Result<usize, &'static str> {
    match rest.first() {
        None => Err("unterminated escape"),
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(1),
        Some(b'u') => {
            let first = hex4(&rest[1..]).ok_or("invalid \\u escape")?;
            if (0xDC00..0xE000).contains(&first) {
                return Err("lone surrogate");
            }
            if !(0xD800..0xDC00).contains(&first) {
                return Ok(5);
            }
            if rest.get(5..7) != Some(b"\\u") {
                return Err("lone surrogate");
            }
            let second = hex4(&rest[7..]).ok_or("invalid \\u escape")?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err("lone surrogate");
            }
            Ok(11)
        }
        Some(_) => Err("invalid escape"),
    }
}

/// Decodes a checked escape (`rest` starts after the backslash): the char
/// and the bytes it took.
fn decode_escape(rest: &[u8]) -> (char, usize) {
    let simple = match rest.first() {
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return decode_unicode(rest),
        Some(&c) => char::from(c),
        None => return ('\u{fffd}', 0),
    };
    (simple, 1)
}

/// `uXXXX`, or a surrogate pair `uXXXX\uXXXX`.
fn decode_unicode(rest: &[u8]) -> (char, usize) {
    let first = hex4(&rest[1..]).unwrap_or(0xFFFD);
    let (code, used) = if (0xD800..0xDC00).contains(&first) {
        let low = rest
            .get(7..)
            .and_then(hex4)
            .filter(|s| (0xDC00..0xE000).contains(s));
        let code = low.map_or(0xFFFD, |low| {
            0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
        });
        (code, 11)
    } else {
        (first, 5)
    };
    (char::from_u32(code).unwrap_or('\u{fffd}'), used)
}

fn hex4(digits: &[u8]) -> Option<u32> {
    let digits = digits.get(..4)?;
    digits
        .iter()
        .try_fold(0u32, |n, &d| Some(n << 4 | char::from(d).to_digit(16)?))
}

/// The length of the run of plain string bytes at the start of `bytes`:
/// up to the first `"`, `\` or control char (below 0x20), the only bytes
/// a JSON string treats specially. SDP makes most of a tracker's traffic,
/// so both the parser and the writer skip runs 8 bytes at a time.
pub(super) fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether a byte of `v` is below `n` (n <= 128): exact, as a test of
    // the whole word (only which byte it flags can be off).
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH != 0;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let special = below(v ^ (ONES * u64::from(b'"')), 1)
            || below(v ^ (ONES * u64::from(b'\\')), 1)
            || below(v, 0x20);
        if special {
            break;
        }
        at += 8;
    }
    let rest = &bytes[at..];
    at + rest
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_run_stops_at_the_first_special_byte_anywhere() {
        for len in 0..24 {
            for at in 0..=len {
                for special in [b'"', b'\\', 0, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes.extend([0x20, 0x7f, 0x80, 0xff, b'!', b']']);
                    if at < len {
                        bytes[at] = special;
                    }
                    let expected = if at < len { at } else { bytes.len() };
                    assert_eq!(super::plain_run(&bytes), expected, "{len} {at} {special}");
                }
            }
        }
    }
}
