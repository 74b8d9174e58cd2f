//! Browser tests of `src/web`, run by wasm-bindgen-test-runner in a real
//! service worker of headless Chromium (inside the test network namespace,
//! see README "Tests"): real Cache Storage, real `Response` streams, real
//! `navigator.storage.estimate()`.
//!
//! Each test uses its own swarm (a site of its own name, so its own info
//! hash and cache) and empties that cache first; the runner runs the tests
//! one after the other in one worker.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_service_worker);

mod eviction;
mod range;
mod store;
mod support;
