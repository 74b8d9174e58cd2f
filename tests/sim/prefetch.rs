//! The leader tab's background fetch, started as the browser glue starts
//! it (src/web/page/mod.rs): one `Input::FetchSiteFromPeers`, after which
//! the engine fills the store from peers, never from the origin, within
//! its `background_budget`.

use peercdn::engine::Input;

use super::Sim;

impl Sim {
    /// `node` begins fetching the site from its peers in the background.
    pub fn start_prefetch(&mut self, node: usize) {
        self.input(node, Input::FetchSiteFromPeers);
    }

    /// `node` holds every piece of the site.
    pub fn holds_site(&self, node: usize) -> bool {
        self.engine(node)
            .is_some_and(|e| e.have().count() == self.site.piece_count())
    }
}
