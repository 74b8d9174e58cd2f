//! The body of a streamed asset response: a pull-based ReadableStream whose
//! underlying source is an [`AssetSource`] (a wasm-bindgen class, so the
//! stream calls its `pull` and `cancel` methods directly).
//!
//! Each pull yields the next piece slice of the response, taking the piece
//! from Cache Storage, else from the origin in one Range request for the
//! run of following pieces that are not cached either. Verified pieces from
//! the origin are written to the cache (within the storage budget, see
//! `store`); the `done` promise (handed to the
//! fetch event's `waitUntil`) settles once the stream has ended and every
//! write has finished, so the worker is not stopped mid-write.
//!
//! When the stream ends, the bytes it took from Cache Storage and from the
//! origin itself are reported to the leader tab for its dashboard counters
//! (bytes that came through the leader are counted there already), with
//! the pieces it took from the origin and wrote, which the leader then
//! offers its peers (else they would stay unknown to the swarm until the
//! next leader starts: peercdn's own files always are).
//!
//! Invariant: every byte enqueued belongs to a piece that matched its hash.

use crate::sorted::SortedMap;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::ReadableStreamDefaultController;

use super::context::Context;
use super::js::{error, resolve, settle, JsResult};
use super::store::keep;
use crate::manifest::AssetEntry;
use crate::range::PieceSlice;

/// Most bytes fetched from the origin (or asked of the leader) in one
/// request: bounds memory and lets later pieces come from elsewhere.
const ORIGIN_RUN_BYTES: u64 = 4 * 1024 * 1024;
/// The first run of a response is smaller: a page often reads only the
/// start (a video's metadata), and a first visitor with no peer yet pays
/// the origin for all of it (a flash crowd of 8 took 32 MiB of video so).
const FIRST_RUN_BYTES: u64 = 1024 * 1024;
/// How long the leader tab (peers, then the origin on its side) may take
/// for a run before this worker goes to the origin itself.
const LEADER_DEADLINE_MS: f64 = 5_000.0;
/// Most bytes of following cached pieces read from Cache Storage at once:
/// one entry's read is mostly latency (1-10 ms for 16 KiB on a busy
/// machine), so reads one after another made a cached asset of many
/// pieces slow to stream (tests/bench, service-worker cost). 4 MiB rather
/// than 1: an 8 MiB asset in two rounds of reads, not eight (a probe gave
/// 1.6-2.0x Workbox against 2.2-2.35x, within its noise); it bounds what
/// one response holds in memory.
const READ_AHEAD_BYTES: u64 = 4 * 1024 * 1024;

/// Where the worker got a piece from.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    Cache,
    Leader,
    Origin,
}

#[wasm_bindgen]
pub struct AssetSource {
    state: Rc<RefCell<State>>,
}

struct State {
    context: Rc<Context>,
    asset: AssetEntry,
    slices: VecDeque<PieceSlice>,
    /// Pieces fetched ahead of the slice that needs them.
    ahead: SortedMap<u64, (Vec<u8>, Via)>,
    /// Pieces `first..=last` the leader stored for this response: read
    /// back from Cache Storage, they count as the leader's, not the cache's.
    from_leader: Option<(u64, u64)>,
    /// Bytes enqueued from Cache Storage and from this worker's own
    /// origin requests.
    from_cache: u64,
    from_origin: u64,
    /// Pieces this worker fetched from the origin itself and wrote: the
    /// leader is told, so that its peers can have them too.
    kept: Vec<u64>,
    writes: Vec<Promise>,
    finish: Option<Function>,
}

impl AssetSource {
    /// A source for `slices` of `asset`, and the promise that settles when
    /// it has ended and its cache writes are done.
    pub fn new(
        context: Rc<Context>,
        asset: AssetEntry,
        slices: Vec<PieceSlice>,
    ) -> (AssetSource, Promise) {
        let mut finish = None;
        let done = Promise::new(&mut |resolve, _reject| finish = Some(resolve));
        let state = State {
            context,
            asset,
            slices: slices.into(),
            ahead: SortedMap::new(),
            from_leader: None,
            from_cache: 0,
            from_origin: 0,
            kept: Vec::new(),
            writes: Vec::new(),
            finish,
        };
        let source = AssetSource {
            state: Rc::new(RefCell::new(state)),
        };
        (source, done)
    }

    /// Makes sure the first slice's piece is at hand, so a failure surfaces
    /// before any response is committed (and the caller can fall back).
    pub async fn prime(&self) -> JsResult<()> {
        let first = self.state.borrow().slices.front().copied();
        if let Some(slice) = first {
            let got = piece_bytes(&self.state, slice.piece).await?;
            self.state.borrow_mut().ahead.insert(slice.piece, got);
        }
        Ok(())
    }
}

#[wasm_bindgen]
impl AssetSource {
    /// Called by the stream whenever it wants more data.
    pub fn pull(&self, controller: ReadableStreamDefaultController) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let next = state.borrow_mut().slices.pop_front();
            let Some(slice) = next else {
                controller.close()?;
                finish(&state).await;
                return Ok(JsValue::UNDEFINED);
            };
            match piece_bytes(&state, slice.piece).await {
                Ok((bytes, via)) => {
                    let part = bytes.get(slice.skip as usize..(slice.skip + slice.take) as usize);
                    let part =
                        part.ok_or_else(|| error("peercdn: piece shorter than its slice"))?;
                    controller.enqueue_with_chunk(&Uint8Array::from(part))?;
                    state.borrow_mut().count(via, slice.take);
                    Ok(JsValue::UNDEFINED)
                }
                Err(e) => {
                    controller.error_with_e(&e);
                    finish(&state).await;
                    Err(e)
                }
            }
        })
    }

    /// Called when the reader gives up (navigation, seek, closed tab).
    pub fn cancel(&self) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            state.borrow_mut().slices.clear();
            finish(&state).await;
            Ok(JsValue::UNDEFINED)
        })
    }
}

impl State {
    fn count(&mut self, via: Via, bytes: u64) {
        match via {
            Via::Cache => self.from_cache += bytes,
            Via::Origin => self.from_origin += bytes,
            Via::Leader => {}
        }
    }
}

/// Waits for the pending cache writes, reports the byte counts to the
/// leader, then settles `done` (once).
async fn finish(state: &Rc<RefCell<State>>) {
    let writes: Array = state.borrow_mut().writes.drain(..).collect();
    // A failed write (quota) only means the piece is not cached: not an error.
    let _ = settle(Promise::all_settled(&writes)).await;
    let mut state = state.borrow_mut();
    if let Some(resolve) = state.finish.take() {
        let (cache, origin) = (state.from_cache, state.from_origin);
        let kept = std::mem::take(&mut state.kept);
        state.context.leader.report_served(cache, origin, &kept);
        let _ = resolve.call0(&JsValue::UNDEFINED);
    }
}

/// The verified bytes of `piece` and where they came from: already at
/// hand, cached, through the leader, or from the origin.
async fn piece_bytes(state: &Rc<RefCell<State>>, piece: u64) -> JsResult<(Vec<u8>, Via)> {
    if let Some(got) = state.borrow_mut().ahead.remove(&piece) {
        return Ok(got);
    }
    let context = state.borrow().context.clone();
    if read_ahead(state, &context, piece).await.is_ok() {
        if let Some(got) = state.borrow_mut().ahead.remove(&piece) {
            return Ok(got);
        }
    } else if let Some(bytes) = context.store.get(&context.manifest, piece).await? {
        return Ok((bytes, Via::Cache));
    }
    let last = origin_run_end(state, &context, piece).await?;
    if let Some(bytes) = from_leader(state, &context, piece, last).await? {
        return Ok((bytes, Via::Leader));
    }
    let url = context.asset_url(&state.borrow().asset);
    let pieces = super::origin::fetch_pieces(&context.manifest, &url, piece, last).await?;
    let mut state = state.borrow_mut();
    let mut wanted = None;
    for (index, bytes) in pieces {
        let (store, manifest) = (context.store.clone(), context.manifest.clone());
        state.writes.push(keep(store, manifest, index, &bytes));
        state.kept.push(index);
        if index == piece {
            wanted = Some((bytes, Via::Origin));
        } else {
            state.ahead.insert(index, (bytes, Via::Origin));
        }
    }
    wanted.ok_or_else(|| error("peercdn: origin run lacks the piece"))
}

/// Reads `piece` and the following pieces this response needs (up to
/// [`READ_AHEAD_BYTES`]) from Cache Storage concurrently into `ahead`; the
/// ones not cached are left out.
async fn read_ahead(state: &Rc<RefCell<State>>, context: &Rc<Context>, piece: u64) -> JsResult<()> {
    let budget = (READ_AHEAD_BYTES / context.manifest.piece_length).max(1) as usize;
    let pieces: Vec<u64> = {
        let state = state.borrow();
        let following = state.slices.iter().map(|s| s.piece);
        std::iter::once(piece)
            .chain(following.filter(|&p| p > piece && !state.ahead.contains_key(&p)))
            .take(budget)
            .collect()
    };
    // Each read puts its piece into `ahead` itself: a piece crosses from
    // JS into wasm once (to be hashed), not back and forth.
    let reads: Array = pieces
        .into_iter()
        .map(|p| {
            let (context, state) = (context.clone(), state.clone());
            future_to_promise(async move {
                if let Some(bytes) = context.store.get(&context.manifest, p).await? {
                    let mut state = state.borrow_mut();
                    let leaders = state.from_leader.is_some_and(|(a, b)| (a..=b).contains(&p));
                    let via = if leaders { Via::Leader } else { Via::Cache };
                    state.ahead.insert(p, (bytes, via));
                }
                Ok(JsValue::UNDEFINED)
            })
        })
        .collect();
    resolve::<JsValue>(Promise::all(&reads), "cache reads").await?;
    Ok(())
}

/// Asks the leader tab (peers) for pieces `piece..=last`; on success they
/// are in Cache Storage, read back (and checked) from there: `piece` now,
/// the rest by `read_ahead` as the stream needs them (concurrent reads;
/// reading the run one piece after another took seconds).
async fn from_leader(
    state: &Rc<RefCell<State>>,
    context: &Context,
    piece: u64,
    last: u64,
) -> JsResult<Option<Vec<u8>>> {
    let asset = state.borrow().asset.clone();
    // peercdn's own files: the page asking for them may be the leader tab
    // that needs them to start, so asking it would wait out the deadline
    // (a second visitor's wasm took 8 s so in a test, and so did its video).
    if asset.path.starts_with("peercdn/") {
        return Ok(None);
    }
    let (Some(index), Some(head), Some(tail)) = (
        context.asset_index(&asset),
        context.manifest.piece_span(piece),
        context.manifest.piece_span(last),
    ) else {
        return Ok(None);
    };
    let end = tail.asset_offset + tail.data_len - 1;
    if !context
        .leader
        .want(index, head.asset_offset, end, LEADER_DEADLINE_MS)
        .await
    {
        return Ok(None);
    }
    state.borrow_mut().from_leader = Some((piece, last));
    context.store.get(&context.manifest, piece).await
}

/// The last piece of the run to fetch from the origin with `piece`: the
/// following pieces this response still needs, while none is cached and
/// the run stays under [`ORIGIN_RUN_BYTES`] ([`FIRST_RUN_BYTES`] while
/// this response has had nothing from the leader or the origin).
async fn origin_run_end(
    state: &Rc<RefCell<State>>,
    context: &Context,
    piece: u64,
) -> JsResult<u64> {
    let (following, first): (Vec<u64>, bool) = {
        let state = state.borrow();
        let following = state.slices.iter().map(|s| s.piece);
        let first = state.from_leader.is_none() && state.from_origin == 0;
        (following.filter(|&p| p > piece).collect(), first)
    };
    let run = if first {
        FIRST_RUN_BYTES
    } else {
        ORIGIN_RUN_BYTES
    };
    let budget = (run / context.manifest.piece_length).max(1);
    let mut last = piece;
    for next in following.into_iter().take(budget as usize - 1) {
        if next != last + 1 || context.store.has(next).await? {
            break;
        }
        last = next;
    }
    Ok(last)
}
