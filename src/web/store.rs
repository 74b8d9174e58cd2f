//! Verified pieces in Cache Storage.
//!
//! One cache per swarm, named `peercdn-<info hash>`, with one entry per
//! piece under a synthetic same-scope URL (`<scope>__peercdn/piece/<n>`).
//! Each entry holds only the piece's asset bytes, never its zero padding.
//! `Cache.put` rejects 206 responses, so entries are plain 200 responses.
//! Invariant: only bytes that matched their piece's SHA-1 are put; reads
//! are checked again, SHA-1 and SHA-256 (the cache is reachable by any
//! script of the origin, and a peer's piece is checked here against the
//! manifest's SHA-256 before it is ever served or uploaded), and an entry
//! that fails is deleted and treated as missing.
//!
//! Writes go through the storage budget: see [`budget`].

use crate::sorted::SortedMap;
use std::cell::{Cell, RefCell};

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::{Cache, CacheStorage, Request, Response, ResponseInit};

use super::js::{resolve, settle, JsResult};
use crate::manifest::VerifiedManifest;

mod budget;
pub use budget::keep;
#[cfg(test)]
pub use budget::Stored;

const CACHE_PREFIX: &str = "peercdn-";

pub struct PieceStore {
    cache: Cache,
    base: String,
    /// Piece -> tick of its last read or write in this worker's life.
    recent: RefCell<SortedMap<u64, u64>>,
    tick: Cell<u64>,
    /// Most bytes the origin may use for anything, whatever its quota
    /// (tests lower it; browsers give no way to lower a quota).
    cap: Cell<u64>,
    writes: budget::WriteQueue,
}

impl PieceStore {
    /// Opens (creating if needed) the cache of the swarm `info_hash_hex`.
    pub async fn open(
        caches: &CacheStorage,
        scope: &str,
        info_hash_hex: &str,
    ) -> JsResult<PieceStore> {
        let cache =
            resolve::<Cache>(caches.open(&cache_name(info_hash_hex)), "caches.open").await?;
        Ok(PieceStore {
            cache,
            base: format!("{scope}__peercdn/piece/"),
            recent: RefCell::new(SortedMap::new()),
            tick: Cell::new(0),
            cap: Cell::new(u64::MAX),
            writes: budget::WriteQueue::default(),
        })
    }

    fn touch(&self, piece: u64) {
        let tick = self.tick.get() + 1;
        self.tick.set(tick);
        self.recent.borrow_mut().insert(piece, tick);
    }

    fn key(&self, piece: u64) -> String {
        format!("{}{piece}", self.base)
    }

    /// The piece's verified asset bytes, if cached and still intact.
    pub async fn get(&self, manifest: &VerifiedManifest, piece: u64) -> JsResult<Option<Vec<u8>>> {
        let found =
            wasm_bindgen_futures::JsFuture::from(self.cache.match_with_str(&self.key(piece)))
                .await?;
        let Ok(response) = found.dyn_into::<Response>() else {
            return Ok(None);
        };
        let buffer = wasm_bindgen_futures::JsFuture::from(response.array_buffer()?).await?;
        let view = Uint8Array::new(&buffer);
        let bytes = view.to_vec();
        if manifest.piece_matches(piece, &bytes)
            && super::sha256::piece_sha256_matches(manifest, piece, &view).await?
        {
            self.touch(piece);
            return Ok(Some(bytes));
        }
        settle(self.cache.delete_with_str(&self.key(piece))).await?;
        Ok(None)
    }

    /// Whether a piece is cached, without reading it.
    pub async fn has(&self, piece: u64) -> JsResult<bool> {
        let found =
            wasm_bindgen_futures::JsFuture::from(self.cache.match_with_str(&self.key(piece)))
                .await?;
        Ok(found.is_instance_of::<Response>())
    }

    /// Puts verified bytes, as they are (no budget, no retry); the
    /// promise settles when the write is done.
    fn put(&self, piece: u64, body: &Uint8Array) -> JsResult<Promise> {
        self.touch(piece);
        let init = ResponseInit::new();
        init.set_status(200);
        let response = Response::new_with_opt_buffer_source_and_init(Some(body), &init)?;
        Ok(self.cache.put_with_str(&self.key(piece), &response))
    }

    /// The pieces in the cache, in insertion order (unverified: a read
    /// checks each one).
    pub async fn cached(&self) -> JsResult<Vec<u64>> {
        let keys = resolve::<Array>(self.cache.keys(), "cache.keys").await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.dyn_into::<Request>().ok())
            .filter_map(|request| request.url().strip_prefix(&self.base)?.parse::<u64>().ok())
            .collect())
    }
}

pub fn cache_name(info_hash_hex: &str) -> String {
    format!("{CACHE_PREFIX}{info_hash_hex}")
}

/// Deletes the piece caches of every swarm but `keep` (an older manifest's).
pub async fn delete_other_swarms(caches: &CacheStorage, keep: &str) -> JsResult<u32> {
    let names = resolve::<Array>(caches.keys(), "caches.keys").await?;
    let mut deleted = 0;
    for name in names.iter().filter_map(|n| n.as_string()) {
        if name.starts_with(CACHE_PREFIX) && name != keep {
            settle(caches.delete(&name)).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
