//! URL paths for site files, written the way a browser writes them.
//!
//! The service worker looks a request up by `URL.pathname`, which the
//! browser has already percent-encoded with the WHATWG "path percent-encode
//! set" (controls, space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`, `}`, and
//! every non-ASCII byte of the UTF-8). We encode that set, plus `%` and `\`
//! so that a file whose name holds them stays reachable and unambiguous
//! (`\` counts as `/` in http URLs). Everything else stays literal, so the
//! manifest's path equals the pathname a page's `<img src>` produces.

/// Joins relative path components with `/`, percent-encoding each one.
pub fn encode_components<S: AsRef<str>>(components: &[S]) -> String {
    let mut out = String::new();
    for (i, component) in components.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_segment(component.as_ref(), &mut out);
    }
    out
}

fn encode_segment(segment: &str, out: &mut String) {
    for &b in segment.as_bytes() {
        if needs_encoding(b) {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        } else {
            out.push(char::from(b));
        }
    }
}

fn needs_encoding(b: u8) -> bool {
    b <= 0x20 || b >= 0x7f || b"\"#<>?`{}%\\/".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_a_browser() {
        assert_eq!(encode_components(&["img", "a b.png"]), "img/a%20b.png");
        assert_eq!(encode_components(&["caf\u{e9}.txt"]), "caf%C3%A9.txt");
        assert_eq!(encode_components(&["q?#%.txt"]), "q%3F%23%25.txt");
        assert_eq!(
            encode_components(&["keep[]()!$&'*+,;=:@~-_.txt"]),
            "keep[]()!$&'*+,;=:@~-_.txt"
        );
    }
}
