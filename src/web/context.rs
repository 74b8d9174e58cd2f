//! What the service worker (and the leader tab) knows once started: its
//! scope, the verified manifest and the piece store of that manifest's
//! swarm. The manifest's text is fetched by the JS bootstraps (page.js;
//! sw-addon.js, network first, else its last good copy): the browser
//! already has that code, and the worker's fallback needs Cache Storage
//! before the wasm runs.

use std::rc::Rc;

use js_sys::JSON;

use super::js::{error, JsResult};
use super::leader::LeaderLink;
use super::store::PieceStore;
use crate::encoding::hex_encode;
use crate::manifest::{AssetEntry, VerifiedManifest};

/// The manifest's file name, beside the worker's scope.
pub const MANIFEST_FILE: &str = "peercdn.json";

pub struct Context {
    /// The registration scope, ending in `/`; asset paths are relative to it.
    pub scope: String,
    /// Shared with the leader's driver and the background writes.
    pub manifest: Rc<VerifiedManifest>,
    pub info_hash_hex: String,
    pub store: Rc<PieceStore>,
    /// The leader tab, when one has linked itself (worker side only).
    pub leader: LeaderLink,
}

impl Context {
    /// Verifies the manifest `text` (however it was fetched), and opens
    /// its piece store.
    pub async fn from_text(scope: String, text: &str) -> JsResult<Context> {
        let manifest = parse_manifest(&scope, text)?;
        let info_hash_hex = hex_encode(&manifest.info_hash);
        let store = PieceStore::open(&super::global::caches()?, &scope, &info_hash_hex).await?;
        Ok(Context {
            scope,
            manifest: Rc::new(manifest),
            info_hash_hex,
            store: Rc::new(store),
            leader: LeaderLink::default(),
        })
    }

    pub fn asset_url(&self, asset: &AssetEntry) -> String {
        format!("{}{}", self.scope, asset.path)
    }

    /// The manifest asset a request URL names: same scope, no query.
    pub fn asset_for_url(&self, url: &str) -> Option<&AssetEntry> {
        let url = url.split('#').next()?;
        let path = url.strip_prefix(self.scope.as_str())?;
        if path.contains('?') {
            return None;
        }
        self.manifest.asset(path)
    }

    /// The position of `asset` in the manifest (the engine's asset number).
    pub fn asset_index(&self, asset: &AssetEntry) -> Option<usize> {
        self.manifest
            .assets
            .binary_search_by(|a| a.path.cmp(&asset.path))
            .ok()
    }

    /// The manifest page a navigation opens: the asset itself, or the
    /// directory's `index.html`.
    pub fn page_for_url(&self, url: &str) -> Option<&AssetEntry> {
        let url = url.split(['#', '?']).next()?;
        if url.ends_with('/') {
            self.asset_for_url(&format!("{url}index.html"))
        } else {
            self.asset_for_url(url)
        }
    }
}

fn parse_manifest(scope: &str, text: &str) -> JsResult<VerifiedManifest> {
    let url = format!("{scope}{MANIFEST_FILE}");
    let value = JSON::parse(text).map_err(|_| error(format!("peercdn: {url} is not JSON")))?;
    let manifest = super::manifest_js::site_manifest(&value)
        .map_err(|e| error(format!("peercdn: {url} is not a peercdn manifest: {e}")))?;
    manifest
        .verify()
        .map_err(|e| error(format!("peercdn: {url} refused: {e}")))
}
