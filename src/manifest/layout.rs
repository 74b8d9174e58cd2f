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
/// What one more piece costs a browser, in bytes of SHA-1 that cost as
/// much: reading a cached asset, the worker spent about 1 ms per entry and
/// 2.5 ms per MiB hashed (tests/bench, service-worker cost). Padding costs
/// only its hashing (it is never stored nor sent), so a larger piece that
/// saves entries is worth its padding up to this rate.
const PIECE_COST_BYTES: u64 = 384 * 1024;
/// Past the piece count, pieces grow to save entries only up to this
/// length: a larger piece delays a stream's first byte and a seek (a piece
/// is verified whole) and gives a swarm fewer parts to spread.
const COST_GROWTH_LIMIT: u64 = 256 * 1024;

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

/// The piece length for a site of assets of these lengths: the smallest
/// power of two in range whose layout has at most [`TARGET_PIECE_COUNT`]
/// pieces, except that it stops growing before the padding would exceed a
/// quarter of the site's bytes (padding is hashed by the build and by every
/// visitor verifying a piece, so a site of many small files gets more
/// pieces rather than gigabytes of zeros); then larger, up to
/// [`COST_GROWTH_LIMIT`], while the pieces saved cost more than the padding
/// added (see [`PIECE_COST_BYTES`]).
pub fn choose_piece_length(lengths: &[u64]) -> u64 {
    let data: u64 = lengths.iter().sum();
    let pieces = |pl: u64| -> u64 { lengths.iter().map(|l| l.div_ceil(pl)).sum() };
    let padding = |pl: u64| -> u64 { lengths.iter().map(|&l| padding_after(l, pl)).sum() };
    let cost = |pl: u64| {
        pieces(pl)
            .saturating_mul(PIECE_COST_BYTES)
            .saturating_add(padding(pl))
    };
    let mut piece_length = MIN_PIECE_LENGTH;
    while piece_length < MAX_PIECE_LENGTH {
        let next = piece_length * 2;
        let too_many = pieces(piece_length) > TARGET_PIECE_COUNT && padding(next) <= data / 4;
        let cheaper = next <= COST_GROWTH_LIMIT && cost(next) < cost(piece_length);
        if !too_many && !cheaper {
            break;
        }
        piece_length = next;
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
    fn chooses_piece_length_for_the_count() {
        assert_eq!(choose_piece_length(&[1 << 40]), MAX_PIECE_LENGTH);
        // Many small files: padding, not the piece count, sets the limit.
        assert_eq!(choose_piece_length(&vec![1; 5000]), MIN_PIECE_LENGTH);
        assert_eq!(choose_piece_length(&[10]), MIN_PIECE_LENGTH);
        // 20,000 assets of 16 KiB: 32 KiB pieces would be half padding
        // (the count rule stops), and save no entry (so does the cost rule).
        let mut small = vec![16 << 10; 20_000];
        small.extend([1 << 20; 10]);
        assert_eq!(choose_piece_length(&small), MIN_PIECE_LENGTH);
        // 4 GiB in 1 MiB assets: the count rule goes past the cost rule's
        // limit, up to the padding limit (2 MiB pieces: half padding).
        let mut large = vec![1 << 20; 4096];
        large.extend([16 << 10; 200]);
        assert_eq!(choose_piece_length(&large), 1 << 20);
    }

    #[test]
    fn chooses_fewer_pieces_while_they_cost_more_than_padding() {
        let target = TARGET_PIECE_COUNT;
        // No padding to pay: pieces grow to the limit of the cost rule.
        assert_eq!(
            choose_piece_length(&[target * 16 * 1024]),
            COST_GROWTH_LIMIT
        );
        assert_eq!(choose_piece_length(&[3 << 20]), COST_GROWTH_LIMIT);
        // The benchmark's site: 100 assets of 32 KiB and one of 8 MiB.
        // 32 KiB pieces meet the count (356 pieces); 128 KiB pieces (164)
        // pay 9.6 MiB of padding for 192 entries fewer; 256 KiB pieces
        // would pay 12.8 MiB more for 32 fewer.
        let mut site = vec![32 << 10; 100];
        site.push(8 << 20);
        assert_eq!(choose_piece_length(&site), 128 * 1024);
        // Tiny files and a large one: each doubling saves many more
        // entries than the tiny files' padding costs.
        let mut mixed = vec![1; 5000];
        mixed.push(1 << 30);
        assert_eq!(choose_piece_length(&mixed), COST_GROWTH_LIMIT);
    }

    #[test]
    fn overflow_is_none() {
        assert!(PieceLayout::new(&[u64::MAX, 1], 16384).is_none());
    }
}
