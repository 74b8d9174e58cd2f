//! The background fetch of the whole site (the leader tab's, so it can
//! serve later visitors): which asset to want next, and what a want's end
//! means. Sans-IO like the engine, so the simulator runs the browser's
//! own policy.
//!
//! One want per whole asset, at most [`BACKGROUND_WANTS`] at once, in
//! manifest order. Background wants never take the engine's last
//! [`PAGE_RESERVE`] want slots: those are the page's (the worker's
//! wants), whose refusal sends the page to the origin.
//!
//! Invariant: every asset is wanted until it is done or has failed for a
//! reason of its own, and each failure is reported to the caller. A want
//! the engine refused for want of room (`TooManyWants`) is not the
//! asset's failure: the asset goes back to the queue and is wanted again
//! when a want ends. (Taking that refusal as the end of the asset drained
//! the whole queue in a second whenever a page's wants filled the engine:
//! the stall testers saw on a thousand-file site, `pendingWants: 0` with
//! most of the site missing.)

use super::{WantError, WantId};
use crate::sorted::SortedMap;

/// Background wants in flight at once.
pub const BACKGROUND_WANTS: usize = 8;
/// Want slots of the engine background wants leave to the page.
pub const PAGE_RESERVE: usize = 16;

/// What the end of a want meant for the background fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Not a background want.
    NotOurs,
    Done,
    /// The engine had no room: the asset is queued again.
    Requeued,
    /// The asset will not be fetched in the background: say why.
    Failed {
        asset: u32,
        error: WantError,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Background {
    /// Assets still to want, the next one last.
    queue: Vec<u32>,
    /// Want -> its asset.
    active: SortedMap<WantId, u32>,
    failed: u64,
}

impl Background {
    /// A fetch of every asset of nonzero length, given each one's length.
    pub fn new(lengths: &[u64]) -> Background {
        let queue = (0..lengths.len() as u32)
            .rev()
            .filter(|&a| lengths[a as usize] > 0)
            .collect();
        Background {
            queue,
            ..Background::default()
        }
    }

    /// The asset want `id` should fetch now, if any: `room` is how many
    /// more wants the engine takes (`Engine::want_room`).
    pub fn next(&mut self, id: WantId, room: usize) -> Option<u32> {
        if self.active.len() >= BACKGROUND_WANTS || room <= PAGE_RESERVE {
            return None;
        }
        let asset = self.queue.pop()?;
        self.active.insert(id, asset);
        Some(asset)
    }

    /// Want `id` ended, done (`Ok`) or failed.
    pub fn ended(&mut self, id: WantId, result: Result<(), WantError>) -> Ended {
        let Some(asset) = self.active.remove(&id) else {
            return Ended::NotOurs;
        };
        match result {
            Ok(()) => Ended::Done,
            Err(WantError::TooManyWants) => {
                self.queue.push(asset);
                Ended::Requeued
            }
            Err(error) => {
                self.failed += 1;
                Ended::Failed { asset, error }
            }
        }
    }

    /// Every asset wanted and every want ended.
    pub fn finished(&self) -> bool {
        self.queue.is_empty() && self.active.is_empty()
    }

    /// Background wants in flight.
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Assets given up on (each reported by [`Background::ended`]).
    pub fn failed(&self) -> u64 {
        self.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_for_room_requeues_the_asset() {
        let mut b = Background::new(&[10, 0, 20]);
        assert_eq!(b.next(1, 64), Some(0));
        assert_eq!(b.ended(1, Err(WantError::TooManyWants)), Ended::Requeued);
        assert_eq!(b.next(2, 64), Some(0), "the same asset again");
        assert_eq!(b.ended(2, Ok(())), Ended::Done);
        assert_eq!(b.next(3, 64), Some(2), "the empty asset is skipped");
        let error = WantError::OriginFailed;
        assert_eq!(b.ended(3, Err(error)), Ended::Failed { asset: 2, error });
        assert_eq!((b.finished(), b.failed()), (true, 1));
        assert_eq!(b.ended(9, Ok(())), Ended::NotOurs);
    }

    #[test]
    fn the_page_keeps_its_reserve_and_at_most_eight_run() {
        let mut b = Background::new(&[1; 20]);
        assert_eq!(b.next(1, PAGE_RESERVE), None, "no room beyond the reserve");
        let started = (1..=20).filter_map(|id| b.next(id, 64)).count();
        assert_eq!(started, BACKGROUND_WANTS);
        assert_eq!(b.active(), BACKGROUND_WANTS);
    }
}
