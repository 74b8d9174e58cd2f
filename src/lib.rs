//! peercdn: a peer-to-peer CDN that runs in the browser.
//!
//! This crate is the sans-IO core (compiled and tested natively) plus, on
//! `wasm32`, the browser adapters in [`web`]. The core does no I/O, reads no
//! clock and no random source: time and randomness are passed in.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bencode;
pub mod encoding;
pub mod engine;
pub mod eviction;
pub mod manifest;
pub mod range;
pub mod sorted;
pub mod tracker;
pub mod url_path;
pub mod wire;
pub mod ws_frame;

#[cfg(target_arch = "wasm32")]
pub mod web;
