//! The leader tab's background fetch of the whole site, driven as the
//! browser glue drives it (src/web/page/wants.rs) with the core's policy
//! (`peercdn::engine::Background`): whole-asset wants, 600 s deadline, the
//! next ones looked for a moment after any want ends (the glue first
//! waits for its Cache Storage writes).

use std::time::Duration;

use peercdn::engine::{Background, Ended, Input, WantError};

use super::{Event, Kind, Sim};

/// Deadline of each background want.
pub const PREFETCH_DEADLINE: Duration = Duration::from_secs(600);
/// What the glue's wait for its pending writes costs before the next want.
const WRITE_WAIT: Duration = Duration::from_millis(5);
/// Background want ids start here (the scenarios' own wants are below).
const FIRST_ID: u64 = 1_000_000;

/// One node's background fetch.
#[derive(Default)]
pub struct Prefetch {
    pub background: Option<Background>,
    pub next_id: u64,
    pub done: usize,
    pub failed: usize,
    /// Wants the engine refused for want of room (the asset is retried).
    pub requeued: usize,
}

impl Prefetch {
    /// Every asset asked for and every want reported.
    pub fn finished(&self) -> bool {
        self.background.as_ref().is_some_and(Background::finished)
    }
}

impl Sim {
    /// `node` begins fetching every asset in the background.
    pub fn start_prefetch(&mut self, node: usize) {
        let lengths: Vec<u64> = self.site.manifest.assets.iter().map(|a| a.length).collect();
        let p = &mut self.nodes[node].prefetch;
        p.background = Some(Background::new(&lengths));
        p.next_id = FIRST_ID;
        self.prefetch_next(node);
    }

    /// A want of `node` ended: the background fetch counts it, and looks
    /// for its next wants once the (simulated) writes are done.
    pub(super) fn prefetch_ended(&mut self, node: usize, id: u64, result: Result<(), WantError>) {
        let p = &mut self.nodes[node].prefetch;
        let Some(background) = p.background.as_mut() else {
            return;
        };
        match background.ended(id, result) {
            Ended::Done => p.done += 1,
            Ended::Failed { .. } => p.failed += 1,
            Ended::Requeued => p.requeued += 1,
            Ended::NotOurs => {}
        }
        let at = self.now.after(WRITE_WAIT);
        self.schedule(at, Event::PrefetchNext { node });
    }

    pub(super) fn prefetch_next(&mut self, node: usize) {
        loop {
            let room = match &self.nodes[node].kind {
                Kind::Engine(e) => e.want_room(),
                Kind::Adversary(_) => return,
            };
            let p = &mut self.nodes[node].prefetch;
            let id = p.next_id;
            let Some(asset) = p.background.as_mut().and_then(|b| b.next(id, room)) else {
                return;
            };
            p.next_id += 1;
            let end = self.site.asset_len(asset);
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
