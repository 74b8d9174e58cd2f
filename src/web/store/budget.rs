//! The storage budget of a [`PieceStore`]: every write goes through
//! [`PieceStore::put_within_budget`].
//!
//! Before writing, [`PieceStore::make_room`] compares the origin's usage
//! (`navigator.storage.estimate()`) with a share of its quota and deletes
//! cached pieces in the order of [`crate::eviction`] (least recently used
//! first). A write that still fails with QuotaExceededError (the estimate
//! lags, or other storage of the origin grew) evicts its size and is tried
//! once more; after that, or on any other failure, the piece just stays
//! uncached. Never an error: whoever wrote it has already served the bytes.
//!
//! Writes queue up and go in batches: one budget check for the batch, then
//! all its puts at once (Cache Storage takes concurrent puts faster than
//! one after the other, and the leader answers the worker only once its
//! writes are done), and the next batch only when they have all settled,
//! so each check sees the usage the last batch left. A caller that finds
//! the queue idle writes what is waiting; the others wait for that batch
//! to end, and return if it held their piece. Limits: a batch is
//! never split, so a budget smaller than one batch is overshot by it; the
//! leader tab's store and the worker's queue separately, so together they
//! can overshoot by a batch.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::PieceStore;
use crate::eviction::{budget, victims, CachedPiece};
use crate::manifest::VerifiedManifest;
use crate::web::js::{resolve, settle, JsResult};
use crate::web::quota::{estimate, is_quota_error, Estimate};

/// Share of the origin's storage quota peercdn allows itself.
const QUOTA_SHARE_PERCENT: u64 = 50;
/// What an entry costs beside its body: Chromium counts its URL and
/// headers too (measured: 512 bytes per piece entry); rounded up.
const ENTRY_OVERHEAD: u64 = 1024;

/// What became of a write: only tests look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// The browser refused it for quota; written after evicting.
    WrittenAfterEviction,
    /// Not cached (quota twice, or another failure).
    Dropped,
}

#[derive(Default)]
pub struct WriteQueue {
    waiting: RefCell<Vec<Waiting>>,
    /// Settles when the batch being written has settled; `None` when idle.
    batch_end: RefCell<Option<Promise>>,
}

struct Waiting {
    piece: u64,
    body: Uint8Array,
    outcome: Rc<Cell<Option<Stored>>>,
}

/// Ends a batch however its writer stops: the queue is idle again and
/// those waiting for it wake.
struct BatchEnd<'a> {
    queue: &'a WriteQueue,
    wake: Option<Function>,
}

impl Drop for BatchEnd<'_> {
    fn drop(&mut self) {
        self.queue.batch_end.borrow_mut().take();
        if let Some(wake) = self.wake.take() {
            let _ = wake.call0(&JsValue::UNDEFINED);
        }
    }
}

fn cost(body: &Uint8Array) -> u64 {
    u64::from(body.length()) + ENTRY_OVERHEAD
}

/// Writes verified bytes to `store` within the budget, in the background
/// (the bytes have been served already); the promise settles, never
/// rejecting, when the write is done. The one entry for the worker and
/// the leader alike: one future type, so one copy of its code in the wasm.
pub fn keep(
    store: Rc<PieceStore>,
    manifest: Rc<VerifiedManifest>,
    piece: u64,
    bytes: &[u8],
) -> Promise {
    let body = Uint8Array::from(bytes);
    future_to_promise(async move {
        store.put_within_budget(&manifest, piece, &body).await;
        Ok(JsValue::UNDEFINED)
    })
}

impl PieceStore {
    /// Stores verified bytes within the budget (see the module doc); never
    /// fails. Returns once the batch holding this piece has been written.
    pub async fn put_within_budget(
        &self,
        manifest: &VerifiedManifest,
        piece: u64,
        body: &Uint8Array,
    ) -> Stored {
        let outcome = Rc::new(Cell::new(None));
        let body = body.clone();
        let waiting = Waiting {
            piece,
            body,
            outcome: outcome.clone(),
        };
        self.writes.waiting.borrow_mut().push(waiting);
        loop {
            if let Some(stored) = outcome.get() {
                return stored;
            }
            let busy = self.writes.batch_end.borrow().clone();
            match busy {
                // It only ever resolves.
                Some(end) => drop(JsFuture::from(end).await),
                None => self.write_next_batch(manifest).await,
            }
        }
    }

    /// Writes every piece waiting now, as one batch.
    async fn write_next_batch(&self, manifest: &VerifiedManifest) {
        let batch = std::mem::take(&mut *self.writes.waiting.borrow_mut());
        let mut wake = None;
        let end = Promise::new(&mut |resolve, _reject| wake = Some(resolve));
        *self.writes.batch_end.borrow_mut() = Some(end);
        let _end = BatchEnd {
            queue: &self.writes,
            wake,
        };
        // No estimate (an old browser): the quota errors below still guard.
        let need = batch.iter().map(|w| cost(&w.body)).sum();
        let _ = self.make_room(manifest, need).await;
        let all: Vec<&Waiting> = batch.iter().collect();
        let results = self.put_all(&all).await;
        let refused: Vec<&Waiting> = batch
            .iter()
            .zip(&results)
            .filter(|(_, r)| matches!(r, Err(e) if is_quota_error(e)))
            .map(|(w, _)| w)
            .collect();
        let mut retried = self
            .retry_after_eviction(manifest, &refused)
            .await
            .into_iter();
        for (waiting, result) in batch.iter().zip(results) {
            let outcome = match result {
                Ok(()) => Stored::Written,
                Err(e) if is_quota_error(&e) && retried.next() == Some(true) => {
                    Stored::WrittenAfterEviction
                }
                Err(_) => Stored::Dropped,
            };
            if outcome == Stored::Dropped {
                self.recent.borrow_mut().remove(&waiting.piece);
            }
            waiting.outcome.set(Some(outcome));
        }
    }

    /// Puts every piece of `batch` at once; each one's result, in order.
    async fn put_all(&self, batch: &[&Waiting]) -> Vec<JsResult<()>> {
        let puts: Array = batch
            .iter()
            .map(|w| {
                self.put(w.piece, &w.body)
                    .unwrap_or_else(|e| Promise::reject(&e))
            })
            .collect();
        let Ok(settled) = resolve::<Array>(Promise::all_settled(&puts), "allSettled").await else {
            return vec![Err(JsValue::UNDEFINED); batch.len()];
        };
        let field = |r: &JsValue, key: &str| Reflect::get(r, &key.into()).unwrap_or_default();
        settled
            .iter()
            .map(|r| match field(&r, "status").as_string().as_deref() {
                Some("fulfilled") => Ok(()),
                _ => Err(field(&r, "reason")),
            })
            .collect()
    }

    /// After QuotaExceededError: frees what `refused` needs and puts them
    /// once more; whether each is written.
    async fn retry_after_eviction(
        &self,
        manifest: &VerifiedManifest,
        refused: &[&Waiting],
    ) -> Vec<bool> {
        if refused.is_empty() {
            return Vec::new();
        }
        let need = refused.iter().map(|w| cost(&w.body)).sum();
        if self.evict(manifest, need).await.is_err() {
            return vec![false; refused.len()];
        }
        let results = self.put_all(refused).await;
        results.iter().map(Result::is_ok).collect()
    }

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

    /// Every cached piece, in insertion order, with what it costs and when
    /// it was last used.
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

    /// Lowers the budget to at most `bytes` of the origin's usage.
    #[cfg(test)]
    pub fn set_cap(&self, bytes: u64) {
        self.cap.set(bytes);
    }
}
