//! The leader tab's background fetch of the whole site, as the browser
//! glue does it (src/web/page/wants.rs): at most `PREFETCH_WANTS` wants of
//! one whole asset each, 600 s deadline, assets in manifest order, the
//! next one started a moment after one is done or failed (the glue first
//! waits for its Cache Storage writes).

use std::collections::BTreeSet;
use std::time::Duration;

use peercdn::engine::Input;

use super::{Event, Sim};

/// Background wants in flight at once (the glue's `PREFETCH_WANTS`).
pub const PREFETCH_WANTS: usize = 8;
/// Deadline of each background want.
pub const PREFETCH_DEADLINE: Duration = Duration::from_secs(600);
/// What the glue's wait for its pending writes costs before the next want.
const WRITE_WAIT: Duration = Duration::from_millis(5);
/// Background want ids start here (the scenarios' own wants are below).
const FIRST_ID: u64 = 1_000_000;

/// One node's background fetch.
#[derive(Default)]
pub struct Prefetch {
    /// Assets still to ask for, the next one last.
    pub queue: Vec<u32>,
    pub active: BTreeSet<u64>,
    pub next_id: u64,
    pub done: usize,
    pub failed: usize,
}

impl Prefetch {
    /// Every asset asked for and every want reported.
    pub fn finished(&self) -> bool {
        self.queue.is_empty() && self.active.is_empty()
    }
}

impl Sim {
    /// `node` begins fetching every asset in the background.
    pub fn start_prefetch(&mut self, node: usize) {
        let assets = self.site.manifest.assets.len() as u32;
        let p = &mut self.nodes[node].prefetch;
        p.queue = (0..assets).rev().collect();
        p.next_id = FIRST_ID;
        self.prefetch_next(node);
    }

    /// A want of `node` ended: if it was a background one, the next starts
    /// once the (simulated) writes are done.
    pub(super) fn prefetch_ended(&mut self, node: usize, id: u64, ok: bool) {
        let p = &mut self.nodes[node].prefetch;
        if !p.active.remove(&id) {
            return;
        }
        if ok {
            p.done += 1;
        } else {
            p.failed += 1;
        }
        let at = self.now.after(WRITE_WAIT);
        self.schedule(at, Event::PrefetchNext { node });
    }

    pub(super) fn prefetch_next(&mut self, node: usize) {
        while self.nodes[node].prefetch.active.len() < PREFETCH_WANTS {
            let p = &mut self.nodes[node].prefetch;
            let Some(asset) = p.queue.pop() else { return };
            let end = self.site.asset_len(asset);
            if end == 0 {
                continue;
            }
            let id = p.next_id;
            p.next_id += 1;
            p.active.insert(id);
            let deadline = self.now.after(PREFETCH_DEADLINE);
            self.input(
                node,
                Input::Want {
                    id,
                    asset,
                    start: 0,
                    end,
                    deadline,
                },
            );
        }
    }
}
