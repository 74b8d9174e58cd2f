//! The service worker's entry points, called by the bootstrap `sw.js`.
//!
//! `handleFetch` decides synchronously: it returns a promise of the response
//! for a same-scope GET of a manifest asset (the bootstrap passes it to
//! `respondWith`, with a plain `fetch` as the fallback should it reject),
//! and `undefined` for everything else, which then goes to the network
//! untouched. A navigation to a manifest page is answered from the pieces
//! like any asset: the bootstrap (sw-addon.js) asks only once it knows the
//! manifest it serves is the site's current one (or the origin cannot be
//! reached), so a deploy's new page is never hidden behind an old copy.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{FetchEvent, Headers, ReadableStream, Request, RequestMode, Response, ResponseInit};

use super::context::Context;
use super::js::{error, JsResult};
use super::source::AssetSource;
use super::store::{cache_name, delete_other_swarms};
use crate::manifest::AssetEntry;
use crate::range::{answer, piece_slices, ByteRange, RangeAnswer};

#[wasm_bindgen]
pub struct Worker {
    context: Rc<Context>,
}

#[wasm_bindgen]
impl Worker {
    /// Starts the worker for `scope` on the manifest `text`, once it is
    /// verified. The bootstrap fetches it (the network first, within a
    /// deadline, else the last copy that worked: sw-addon.js), so the
    /// site opens offline and a hanging origin holds nothing.
    pub async fn load(scope: String, manifest: String) -> Result<Worker, JsValue> {
        let context = Context::from_text(scope, &manifest).await?;
        Ok(Worker {
            context: Rc::new(context),
        })
    }

    /// The leader tab's port: pieces are asked of it (peers) before the
    /// origin.
    #[wasm_bindgen(js_name = setLeader)]
    pub fn set_leader(&self, port: web_sys::MessagePort) {
        self.context.leader.set_port(port);
    }

    /// The leader's tab is gone (sw-addon.js found its client gone).
    #[wasm_bindgen(js_name = leaderGone)]
    pub fn leader_gone(&self) {
        self.context.leader.gone();
    }

    /// The info hash of the swarm this worker serves, in hex.
    #[wasm_bindgen(getter, js_name = infoHash)]
    pub fn info_hash(&self) -> String {
        self.context.info_hash_hex.clone()
    }

    /// On activation: drop the pieces of older manifests.
    pub fn activate(&self) -> Promise {
        let context = self.context.clone();
        future_to_promise(async move {
            let caches = super::global::caches()?;
            let deleted = delete_other_swarms(&caches, &cache_name(&context.info_hash_hex)).await?;
            Ok(JsValue::from(deleted))
        })
    }

    /// Whether a navigation to `url` opens a manifest page (the asset
    /// itself, or a directory's `index.html`).
    #[wasm_bindgen(js_name = isPage)]
    pub fn is_page(&self, url: &str) -> bool {
        self.context.page_for_url(url).is_some()
    }

    /// The response for `event` if peercdn serves it, else `undefined`.
    #[wasm_bindgen(js_name = handleFetch)]
    pub fn handle_fetch(&self, event: &FetchEvent) -> Option<Promise> {
        let request = event.request();
        if request.method() != "GET"
            || request
                .headers()
                .has(super::origin::ORIGIN_MARK)
                .unwrap_or(false)
        {
            return None;
        }
        let asset = if request.mode() == RequestMode::Navigate {
            self.context.page_for_url(&request.url())?
        } else {
            self.context.asset_for_url(&request.url())?
        };
        let (asset, context, event) = (asset.clone(), self.context.clone(), event.clone());
        Some(future_to_promise(async move {
            let (response, done) = respond(context, &request, asset).await?;
            if let Some(done) = done {
                event.wait_until(&done)?;
            }
            Ok(response.into())
        }))
    }
}

/// The response to `request` for `asset`, and the promise of its streamed
/// body's end and cache writes (for `waitUntil`), if it has one.
pub(super) async fn respond(
    context: Rc<Context>,
    request: &Request,
    asset: AssetEntry,
) -> JsResult<(Response, Option<Promise>)> {
    let range_header = request.headers().get("Range")?;
    let range = match answer(range_header.as_deref(), asset.length) {
        RangeAnswer::Unsatisfiable => return Ok((unsatisfiable(asset.length)?, None)),
        RangeAnswer::Whole if asset.length == 0 => return Ok((empty_response(&asset)?, None)),
        RangeAnswer::Whole => None,
        RangeAnswer::Partial(range) => Some(range),
    };
    let whole = ByteRange {
        start: 0,
        end: asset.length - 1,
    };
    let slices = piece_slices(
        &asset,
        range.unwrap_or(whole),
        context.manifest.piece_length,
    )
    .collect();
    let headers = response_headers(&asset, range)?;
    let (source, done) = AssetSource::new(context, asset, slices);
    source.prime().await?;
    let stream =
        ReadableStream::new_with_underlying_source(&JsValue::from(source).unchecked_into())?;
    let init = ResponseInit::new();
    init.set_status(if range.is_some() { 206 } else { 200 });
    init.set_headers(&headers);
    let response = Response::new_with_opt_readable_stream_and_init(Some(&stream), &init)?;
    Ok((response, Some(done)))
}

fn response_headers(asset: &AssetEntry, range: Option<ByteRange>) -> JsResult<Headers> {
    let headers = Headers::new()?;
    headers.set("Content-Type", &asset.content_type)?;
    headers.set("Accept-Ranges", "bytes")?;
    let length = range.map_or(asset.length, |r| r.len());
    headers.set("Content-Length", &length.to_string())?;
    if let Some(range) = range {
        headers.set("Content-Range", &range.content_range(asset.length))?;
    }
    Ok(headers)
}

fn unsatisfiable(length: u64) -> JsResult<Response> {
    let headers = Headers::new()?;
    headers.set("Content-Range", &format!("bytes */{length}"))?;
    let init = ResponseInit::new();
    init.set_status(416);
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(None, &init)
}

fn empty_response(asset: &AssetEntry) -> JsResult<Response> {
    let headers = response_headers(asset, None)?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(Some(""), &init)
        .map_err(|_| error("peercdn: empty response"))
}
