//! Writing JSON strings the way `JSON.stringify` does.

use super::text::plain_run;

/// The escape `JSON.stringify` writes for an ASCII byte, if it needs one:
/// appends it and returns true.
fn push_escape(out: &mut String, b: u8) -> bool {
    let escaped = match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        0..=0x1f => "",
        _ => return false,
    };
    if escaped.is_empty() {
        out.push_str("\\u00");
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    } else {
        out.push_str(escaped);
    }
    true
}

/// Appends `text` as a JSON string, escaping like `JSON.stringify`.
/// Copies unescaped runs whole: SDP is most of a tracker's traffic.
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut run = 0;
    loop {
        let end = run + plain_run(&bytes[run..]);
        // Runs end only at ASCII bytes, so `end` is a char boundary (`get`,
        // not indexing: a str index brings its panic's formatting along).
        out.push_str(text.get(run..end).unwrap_or_default());
        let Some(&b) = bytes.get(end) else { break };
        push_escape(out, b);
        run = end + 1;
    }
    out.push('"');
}

/// Appends bytes as a JSON *binary string* (byte `b` is char U+00bb), the
/// way the ecosystem writes ids, without building the string first.
pub fn write_bin(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        if !push_escape(out, b) {
            out.push(char::from(b));
        }
    }
    out.push('"');
}

/// Appends `"key":` (the caller writes the value).
pub fn write_key(out: &mut String, key: &str) {
    write_str(out, key);
    out.push(':');
}
