//! The `Range` request header (RFC 9110 section 14), single ranges only.
//!
//! A service worker fetching missing pieces, or a `<video>` seeking, asks
//! for one range at a time; a multi-range request is answered with the
//! whole file, which RFC 9110 allows. Invariant: a [`ByteRange`] returned
//! for a file of length `len` always satisfies `start <= end < len`.

/// An inclusive byte range within a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable Range header (absent, malformed, multi-range, or not in
    /// bytes): send the whole file with 200.
    Full,
    Partial(ByteRange),
    /// Syntactically fine but outside the file: 416.
    Unsatisfiable,
}

/// Interprets a `Range` header value against a file of length `len`.
pub fn parse(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // bytes=-n: the last n bytes.
        let Some(suffix) = number(last) else {
            return RangeRequest::Full;
        };
        if suffix == 0 || len == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Partial(ByteRange {
            start: len.saturating_sub(suffix),
            end: len - 1,
        });
    }
    let Some(start) = number(first) else {
        return RangeRequest::Full;
    };
    let end = match (last.is_empty(), number(last)) {
        (true, _) => None,
        (false, Some(end)) if end >= start => Some(end),
        // An invalid range is ignored, not refused (RFC 9110 14.2).
        (false, _) => return RangeRequest::Full,
    };
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial(ByteRange {
        start,
        end: end.map_or(len - 1, |e| e.min(len - 1)),
    })
}

/// Digits only (no sign, no spaces inside), within u64.
fn number(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Partial(ByteRange { start, end })
    }

    #[test]
    fn single_ranges() {
        assert_eq!(parse(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(parse(Some("bytes=90-200"), 100), part(90, 99));
        assert_eq!(parse(Some("bytes=10-"), 100), part(10, 99));
        assert_eq!(parse(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(parse(Some("bytes=-1000"), 100), part(0, 99));
        assert_eq!(parse(Some("bytes=99-99"), 100), part(99, 99));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(parse(Some("bytes=100-"), 100), RangeRequest::Unsatisfiable);
        assert_eq!(
            parse(Some("bytes=100-200"), 100),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse(Some("bytes=-0"), 100), RangeRequest::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-"), 0), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn ignored_ranges() {
        for header in [
            "items=0-1",
            "bytes=5-1",
            "bytes=0-1,3-4",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
            "bytes=1-x",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse(Some(header), 100), RangeRequest::Full, "{header}");
        }
        assert_eq!(parse(None, 100), RangeRequest::Full);
    }
}
