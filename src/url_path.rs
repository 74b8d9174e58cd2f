//! URL paths for site files, written the way a browser writes them.
//!
//! The service worker looks a request up by `URL.pathname`, which the
//! browser has already percent-encoded with the WHATWG "path percent-encode
//! set" (controls, space, `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`, `}`, and
//! every non-ASCII byte of the UTF-8). We encode that set, plus `%` and `\`
//! so that a file whose name holds them stays reachable and unambiguous
//! (`\` counts as `/` in http URLs). Everything else stays literal, so the
//! manifest's path equals the pathname a page's `<img src>` produces.
//!
//! The other way, [`decode_path`] turns a request's path into the names
//! `peercdn serve` looks up, refusing anything that could leave the site
//! or name a hidden file.

/// Decoded path segments, or `None` for anything that could leave the root
/// or name a hidden file: `.`/`..`, dotfiles, `\`, NUL, invalid UTF-8.
/// Empty segments are kept only at the end (a directory request).
pub fn decode_path(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix('/')?;
    let raw: Vec<&str> = rest.split('/').collect();
    let mut out = Vec::with_capacity(raw.len());
    for (i, segment) in raw.iter().enumerate() {
        let decoded = percent_encoding::percent_decode_str(segment)
            .decode_utf8()
            .ok()?;
        let bad = decoded.starts_with('.')
            || decoded.contains(['/', '\\', '\0'])
            || (decoded.is_empty() && i + 1 != raw.len());
        if bad {
            return None;
        }
        out.push(decoded.into_owned());
    }
    Some(out)
}

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

    #[test]
    fn refuses_paths_that_could_escape() {
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "/.git/config",
            "/a%2fb",
            "/a%5cb",
            "/a//b",
            "/%00",
            "/%ff",
            "nolead",
        ] {
            assert_eq!(decode_path(bad), None, "{bad}");
        }
        assert_eq!(
            decode_path("/img/a%20b.png"),
            Some(vec!["img".into(), "a b.png".into()])
        );
        assert_eq!(
            decode_path("/dir/"),
            Some(vec!["dir".into(), String::new()])
        );
        assert_eq!(decode_path("/"), Some(vec![String::new()]));
    }
}
