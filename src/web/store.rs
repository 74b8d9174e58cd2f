//! Verified pieces in Cache Storage.
//!
//! One cache per swarm, named `peercdn-<info hash>`, with one entry per
//! piece under a synthetic same-scope URL (`<scope>__peercdn/piece/<n>`).
//! Each entry holds only the piece's asset bytes, never its zero padding.
//! `Cache.put` rejects 206 responses, so entries are plain 200 responses.
//! Invariant: only bytes that matched their piece hash are put; reads are
//! checked again (the cache is reachable by any script of the origin), and
//! an entry that fails is deleted and treated as missing.
//!
//! Budget: every write goes through [`PieceStore::put_within_budget`],
//! which first calls [`PieceStore::make_room`]: it compares the origin's
//! usage (`navigator.storage.estimate()`) with a share of its quota and
//! deletes pieces in the order of [`crate::eviction`]. A write that still
//! fails with QuotaExceededError (the estimate lags, or other storage of
//! the origin grew) evicts the piece's size and is tried once more; after
//! that, or on any other failure, the piece just stays uncached. Never an
//! error: whoever wrote it has already served the bytes.
//! Writes of one store take turns, so each budget check sees the usage the
//! last write left; only the writes of another context (the leader tab's
//! store and the worker's) can overshoot it, by one piece each.

use crate::sorted::SortedMap;
use std::cell::{Cell, RefCell};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::{Cache, CacheStorage, Request, Response, ResponseInit};

use super::js::{resolve, settle, JsResult};
use super::quota::{estimate, is_quota_error, Estimate};
use super::turns::Turns;
use crate::eviction::{budget, victims, CachedPiece};
use crate::manifest::VerifiedManifest;

const CACHE_PREFIX: &str = "peercdn-";
/// Share of the origin's storage quota peercdn allows itself.
const QUOTA_SHARE_PERCENT: u64 = 50;
/// What an entry costs beside its body: Chromium counts its URL and
/// headers too (measured: 512 bytes per piece entry); rounded up.
const ENTRY_OVERHEAD: u64 = 1024;

pub struct PieceStore {
    cache: Cache,
    base: String,
    /// Piece -> tick of its last read or write in this worker's life.
    recent: RefCell<SortedMap<u64, u64>>,
    tick: Cell<u64>,
    /// Most bytes the origin may use for anything, whatever its quota
    /// (tests lower it; browsers give no way to lower a quota).
    cap: Cell<u64>,
    writes: Turns,
}

/// What became of a write: only tests look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// The browser refused it for quota; written after evicting.
    WrittenAfterEviction,
    /// Not cached (quota twice, or another failure).
    Dropped,
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
            writes: Turns::default(),
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
        let bytes = Uint8Array::new(&buffer).to_vec();
        if manifest.piece_matches(piece, &bytes) {
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

    /// Puts verified bytes, as they are: no budget, no retry.
    async fn write(&self, piece: u64, body: &Uint8Array) -> JsResult<()> {
        self.touch(piece);
        let init = ResponseInit::new();
        init.set_status(200);
        let response = Response::new_with_opt_buffer_source_and_init(Some(body), &init)?;
        settle(self.cache.put_with_str(&self.key(piece), &response)).await
    }

    /// Stores verified bytes within the budget (see the module doc); never
    /// fails.
    pub async fn put_within_budget(
        &self,
        manifest: &VerifiedManifest,
        piece: u64,
        body: &Uint8Array,
    ) -> Stored {
        let _turn = self.writes.wait().await;
        let need = u64::from(body.length()) + ENTRY_OVERHEAD;
        // No estimate (an old browser): the quota error below still guards.
        let _ = self.make_room(manifest, need).await;
        let outcome = match self.write(piece, body).await {
            Ok(()) => Stored::Written,
            Err(e) if is_quota_error(&e) => self.retry_after_eviction(manifest, piece, body).await,
            Err(_) => Stored::Dropped,
        };
        if outcome == Stored::Dropped {
            self.recent.borrow_mut().remove(&piece);
        }
        outcome
    }

    async fn retry_after_eviction(
        &self,
        manifest: &VerifiedManifest,
        piece: u64,
        body: &Uint8Array,
    ) -> Stored {
        let need = u64::from(body.length()) + ENTRY_OVERHEAD;
        if self.evict(manifest, need).await.is_err() {
            return Stored::Dropped;
        }
        match self.write(piece, body).await {
            Ok(()) => Stored::WrittenAfterEviction,
            Err(_) => Stored::Dropped,
        }
    }

    /// Lowers the budget to at most `bytes` of the origin's usage.
    #[cfg(test)]
    pub fn set_cap(&self, bytes: u64) {
        self.cap.set(bytes);
    }
}

impl PieceStore {
    /// Deletes cached pieces until `need` more bytes fit in the budget.
    pub async fn make_room(&self, manifest: &VerifiedManifest, need: u64) -> JsResult<()> {
        let Estimate { usage, quota } = estimate().await?;
        let limit = budget(quota, QUOTA_SHARE_PERCENT, self.cap.get());
        let over = usage.saturating_add(need).saturating_sub(limit);
        if over > 0 {
            self.evict(manifest, over).await?;
        }
        Ok(())
    }

    /// Deletes pieces, least recently used first, until `bytes` are freed.
    async fn evict(&self, manifest: &VerifiedManifest, bytes: u64) -> JsResult<()> {
        let entries = self.cached_pieces(manifest).await?;
        for piece in victims(&entries, bytes) {
            settle(self.cache.delete_with_str(&self.key(piece))).await?;
            self.recent.borrow_mut().remove(&piece);
        }
        Ok(())
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

    /// Every cached piece, in insertion order, with its size and recency.
    async fn cached_pieces(&self, manifest: &VerifiedManifest) -> JsResult<Vec<CachedPiece>> {
        let pieces = self.cached().await?;
        let recent = self.recent.borrow();
        Ok(pieces
            .into_iter()
            .map(|piece| CachedPiece {
                piece,
                bytes: manifest.piece_span(piece).map_or(0, |s| s.data_len) + ENTRY_OVERHEAD,
                last_used: recent.get(&piece).copied(),
            })
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
