//! Where each asset lives in the torrent's byte space.
//!
//! Assets are laid end to end in manifest order; after every asset but the
//! last, a BEP 47 padding file of zeros fills the rest of its last piece, so
//! every asset starts on a piece boundary. Hence a piece never holds bytes
//! of two assets: a piece can be hashed, cached and served for one asset.

/// Smallest and largest piece length `peercdn build` chooses or accepts.
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;
pub const MAX_PIECE_LENGTH: u64 = 4 * 1024 * 1024;
/// The automatic choice aims at no more pieces than this. Every piece
/// costs a visitor's browser a Cache Storage entry (written by the leader,
/// read by the worker: 1.4-4 ms each on the benchmark machine, however
/// many run at once), a message and a hash check, so fewer, larger pieces
/// are faster to fetch and to serve from the cache; 2,000 (BitTorrent's
/// usual aim) made those per-piece costs the limit of the benchmarks.
pub const TARGET_PIECE_COUNT: u64 = 512;

/// One asset's position: its length, first piece, byte offset in the
/// torrent, and the padding that follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub length: u64,
    pub first_piece: u64,
    pub offset: u64,
    pub padding: u64,
}

impl Placement {
    /// Number of pieces the asset covers (zero for an empty asset).
    pub fn piece_count(&self, piece_length: u64) -> u64 {
        self.length.div_ceil(piece_length)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PieceLayout {
    pub piece_length: u64,
    pub placements: Vec<Placement>,
    /// Bytes in the torrent, padding included.
    pub total_length: u64,
    pub piece_count: u64,
}

impl PieceLayout {
    /// Lays out assets of the given lengths. `None` if the total overflows.
    pub fn new(lengths: &[u64], piece_length: u64) -> Option<PieceLayout> {
        let mut placements = Vec::with_capacity(lengths.len());
        let mut offset = 0u64;
        for (i, &length) in lengths.iter().enumerate() {
            let is_last = i + 1 == lengths.len();
            let padding = if is_last {
                0
            } else {
                padding_after(length, piece_length)
            };
            placements.push(Placement {
                length,
                first_piece: offset / piece_length,
                offset,
                padding,
            });
            offset = offset.checked_add(length)?.checked_add(padding)?;
        }
        Some(PieceLayout {
            piece_length,
            placements,
            total_length: offset,
            piece_count: offset.div_ceil(piece_length),
        })
    }
}

/// Zero bytes needed after `length` bytes to reach a piece boundary.
pub fn padding_after(length: u64, piece_length: u64) -> u64 {
    (piece_length - length % piece_length) % piece_length
}

/// The smallest power-of-two piece length in range whose layout has at most
/// [`TARGET_PIECE_COUNT`] pieces, except that it stops growing before the
/// padding would exceed a quarter of the site's bytes. Padding is hashed by
/// the build and by every visitor verifying a piece, so a site of many
/// small files gets more pieces rather than gigabytes of zeros.
pub fn choose_piece_length(lengths: &[u64]) -> u64 {
    let data: u64 = lengths.iter().sum();
    let pieces = |pl: u64| -> u64 { lengths.iter().map(|l| l.div_ceil(pl)).sum() };
    let padding = |pl: u64| -> u64 { lengths.iter().map(|&l| padding_after(l, pl)).sum() };
    let mut piece_length = MIN_PIECE_LENGTH;
    while piece_length < MAX_PIECE_LENGTH && pieces(piece_length) > TARGET_PIECE_COUNT {
        if padding(piece_length * 2) > data / 4 {
            break;
        }
        piece_length *= 2;
    }
    piece_length
}

/// Whether `piece_length` is one `peercdn build` accepts.
pub fn is_valid_piece_length(piece_length: u64) -> bool {
    piece_length.is_power_of_two() && (MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&piece_length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_start_on_piece_boundaries() {
        let pl = 16 * 1024;
        let layout = PieceLayout::new(&[1, 0, pl, pl + 1, 5], pl).unwrap();
        let offsets: Vec<u64> = layout.placements.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, vec![0, pl, pl, 2 * pl, 4 * pl]);
        let pads: Vec<u64> = layout.placements.iter().map(|p| p.padding).collect();
        assert_eq!(pads, vec![pl - 1, 0, 0, pl - 1, 0]);
        assert_eq!(layout.total_length, 4 * pl + 5);
        assert_eq!(layout.piece_count, 5);
    }

    #[test]
    fn chooses_piece_length() {
        assert_eq!(choose_piece_length(&[10]), MIN_PIECE_LENGTH);
        let target = TARGET_PIECE_COUNT;
        assert_eq!(choose_piece_length(&[target * 16 * 1024]), 16 * 1024);
        assert_eq!(choose_piece_length(&[(target + 1) * 16 * 1024]), 32 * 1024);
        assert_eq!(choose_piece_length(&[1 << 40]), MAX_PIECE_LENGTH);
        // Many small files: padding, not the piece count, sets the limit.
        assert_eq!(choose_piece_length(&vec![1; 5000]), MIN_PIECE_LENGTH);
        let mut mixed = vec![1; 5000];
        mixed.push(1 << 30);
        assert_eq!(choose_piece_length(&mixed), 32 * 1024);
        let mut site = vec![32 << 10; 2048];
        site.extend([64 << 10; 1024]);
        site.extend([1 << 20; 128]);
        site.extend([32 << 20; 8]);
        site.extend([256 << 20; 2]);
        assert_eq!(choose_piece_length(&site), 128 * 1024);
    }

    #[test]
    fn overflow_is_none() {
        assert!(PieceLayout::new(&[u64::MAX, 1], 16384).is_none());
    }
}
