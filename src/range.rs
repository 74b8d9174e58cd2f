//! HTTP Range requests (RFC 9110 §14) against one asset, and which pieces
//! answer them.
//!
//! Only a single range is honoured (`bytes=a-b`, `bytes=a-`, `bytes=-n`), as
//! media elements send; a multi-range request gets the whole asset (200),
//! which RFC 9110 allows. A range that starts past the end is
//! unsatisfiable (416). Invariant: a [`ByteRange`] is never empty and
//! always lies within the asset.

use crate::manifest::AssetEntry;

/// Inclusive byte range within one asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never true: kept for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `Content-Range` value for this range of an asset of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, total)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable Range header: 200 with the whole asset.
    Whole,
    /// 206 with this range.
    Partial(ByteRange),
    /// 416, with `Content-Range: bytes */<length>`.
    Unsatisfiable,
}

/// What to answer to a request with this `Range` header (if any) for an
/// asset of `length` bytes.
pub fn answer(header: Option<&str>, length: u64) -> RangeAnswer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let range = match (first.is_empty(), parse(first), parse(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) if n > 0 && length > 0 => Some((length.saturating_sub(n), length - 1)),
        (true, _, Some(_)) => return RangeAnswer::Unsatisfiable,
        (false, Some(start), None) if last.is_empty() => Some((start, length.saturating_sub(1))),
        (false, Some(start), Some(end)) if start <= end => {
            Some((start, end.min(length.saturating_sub(1))))
        }
        _ => None,
    };
    match range {
        None => RangeAnswer::Whole,
        Some((start, _)) if start >= length => RangeAnswer::Unsatisfiable,
        Some((start, end)) => RangeAnswer::Partial(ByteRange { start, end }),
    }
}

/// One piece's share of a response: read `piece`, keep bytes
/// `[skip, skip + take)` of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceSlice {
    pub piece: u64,
    pub skip: u64,
    pub take: u64,
}

/// The pieces, in order, that hold `range` of `asset`, with the part of
/// each that belongs in the response.
pub fn piece_slices(
    asset: &AssetEntry,
    range: ByteRange,
    piece_length: u64,
) -> impl Iterator<Item = PieceSlice> {
    let first = range.start / piece_length;
    let last = range.end / piece_length;
    let first_piece = asset.first_piece;
    (first..=last).map(move |i| {
        let piece_start = i * piece_length;
        let from = range.start.max(piece_start);
        let to = range.end.min(piece_start + piece_length - 1);
        PieceSlice {
            piece: first_piece + i,
            skip: from - piece_start,
            take: to - from + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(start: u64, end: u64) -> RangeAnswer {
        RangeAnswer::Partial(ByteRange { start, end })
    }

    #[test]
    fn parses_single_ranges() {
        assert_eq!(answer(None, 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=0-9"), 100), partial(0, 9));
        assert_eq!(answer(Some("bytes=90-"), 100), partial(90, 99));
        assert_eq!(answer(Some("bytes=-10"), 100), partial(90, 99));
        assert_eq!(answer(Some("bytes=-1000"), 100), partial(0, 99));
        assert_eq!(answer(Some("bytes=50-1000"), 100), partial(50, 99));
        assert_eq!(answer(Some("bytes=0-"), 100), partial(0, 99));
        assert_eq!(answer(Some("bytes=99-99"), 100), partial(99, 99));
    }

    #[test]
    fn unsatisfiable_and_ignored() {
        assert_eq!(answer(Some("bytes=100-"), 100), RangeAnswer::Unsatisfiable);
        assert_eq!(
            answer(Some("bytes=100-200"), 100),
            RangeAnswer::Unsatisfiable
        );
        assert_eq!(answer(Some("bytes=-0"), 100), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-"), 0), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=5-1"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=0-1,5-6"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("items=0-1"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=+1-2"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=a-b"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=-"), 100), RangeAnswer::Whole);
        assert_eq!(answer(Some("bytes=1-x"), 100), RangeAnswer::Whole);
        assert_eq!(answer(None, 100), RangeAnswer::Whole);
        assert_eq!(
            answer(Some("bytes=99999999999999999999999-"), 100),
            RangeAnswer::Whole
        );
    }

    #[test]
    fn slices_cover_the_range_exactly() {
        let asset = AssetEntry {
            path: "a".into(),
            content_type: "x".into(),
            length: 100,
            first_piece: 7,
            offset: 7 * 16,
        };
        let slices: Vec<_> = piece_slices(&asset, ByteRange { start: 10, end: 40 }, 16).collect();
        assert_eq!(
            slices,
            vec![
                PieceSlice {
                    piece: 7,
                    skip: 10,
                    take: 6
                },
                PieceSlice {
                    piece: 8,
                    skip: 0,
                    take: 16
                },
                PieceSlice {
                    piece: 9,
                    skip: 0,
                    take: 9
                },
            ]
        );
        let total: u64 = slices.iter().map(|s| s.take).sum();
        assert_eq!(total, 31);
    }
}
