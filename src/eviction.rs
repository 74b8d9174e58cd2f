//! Which cached pieces to delete when the storage budget is exceeded.
//!
//! Cache Storage keeps no access times, so recency is known only for the
//! pieces read or written during this worker's life (kept in memory). The
//! order of deletion: first the pieces not touched in this life, oldest
//! stored first (`Cache.keys()` lists entries in insertion order), then
//! the touched ones, least recently used first. Losing the in-memory part
//! when the worker stops only makes eviction less precise, never wrong.

/// One cached piece as eviction sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachedPiece {
    pub piece: u64,
    pub bytes: u64,
    /// When it was last read or written in this worker's life (any
    /// increasing counter), if at all.
    pub last_used: Option<u64>,
}

/// How much peercdn may store: a share of the origin's quota, never more
/// than `cap` bytes.
pub fn budget(quota: u64, share_percent: u64, cap: u64) -> u64 {
    (quota / 100)
        .saturating_mul(share_percent.min(100))
        .min(cap)
}

/// The pieces to delete, in order, to free at least `need` bytes; all of
/// them if even that is not enough. `entries` are in insertion order.
pub fn victims(entries: &[CachedPiece], need: u64) -> Vec<u64> {
    let mut order: Vec<(u8, u64, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| match e.last_used {
            None => (0, 0, i),
            Some(t) => (1, t, i),
        })
        .collect();
    crate::sorted::heap_sort(&mut order);
    let mut freed = 0u64;
    let mut out = Vec::new();
    for (_, _, i) in order {
        if freed >= need {
            break;
        }
        freed = freed.saturating_add(entries[i].bytes);
        out.push(entries[i].piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(piece: u64, last_used: Option<u64>) -> CachedPiece {
        CachedPiece {
            piece,
            bytes: 100,
            last_used,
        }
    }

    #[test]
    fn untouched_first_then_least_recently_used() {
        let entries = [
            piece(5, Some(9)),
            piece(1, None),
            piece(7, Some(3)),
            piece(2, None),
        ];
        assert_eq!(victims(&entries, 0), Vec::<u64>::new());
        assert_eq!(victims(&entries, 150), vec![1, 2]);
        assert_eq!(victims(&entries, 250), vec![1, 2, 7]);
        assert_eq!(victims(&entries, 10_000), vec![1, 2, 7, 5]);
    }

    #[test]
    fn budget_is_a_capped_share() {
        assert_eq!(budget(1000, 50, u64::MAX), 500);
        assert_eq!(budget(1000, 50, 100), 100);
        assert_eq!(budget(u64::MAX, 200, u64::MAX), u64::MAX / 100 * 100);
    }
}
