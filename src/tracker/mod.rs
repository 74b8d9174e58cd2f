//! The WebTorrent WebSocket tracker protocol as typed messages, shared by the
//! browser's tracker client and `peercdn serve`'s tracker.
//!
//! Every message is one JSON text frame. Messages are named by direction:
//! [`ClientToTracker`] (announce, answer, scrape) and [`TrackerToClient`]
//! (announce reply, relayed offer, relayed answer, scrape reply, failure).
//!
//! ```text
//! client -> tracker
//!   announce  {"action":"announce","info_hash":B20,"peer_id":B20,
//!              "numwant":N,"uploaded":N,"downloaded":N,"left":N|null,
//!              "event":"started"|"stopped"|"completed"|"update",
//!              "offers":[{"offer_id":B20,"offer":{"type":"offer","sdp":S}},..]}
//!   answer    {"action":"announce","info_hash":B20,"peer_id":B20,
//!              "to_peer_id":B20,"offer_id":B20,
//!              "answer":{"type":"answer","sdp":S}}
//!   scrape    {"action":"scrape","info_hash":B20|[B20,..]}   (absent: all)
//! tracker -> client
//!   reply     {"action":"announce","info_hash":B20,"interval":N,
//!              "complete":N,"incomplete":N[,"warning message":S]}
//!   offer     {"action":"announce","info_hash":B20,"peer_id":B20 (sender),
//!              "offer_id":B20,"offer":{"type":"offer","sdp":S}}
//!   answer    {"action":"announce","info_hash":B20,"peer_id":B20 (sender),
//!              "offer_id":B20,"answer":{"type":"answer","sdp":S}}
//!   scrape    {"action":"scrape","files":{B20:{"complete":N,
//!              "incomplete":N,"downloaded":N},..}}
//!   failure   {"failure reason":S[,"action":A][,"info_hash":B20]}
//! ```
//!
//! `B20` is a 20-byte id (info hash, peer id, offer id) as a *binary
//! string*: exactly 20 chars, char `i` is byte `i` (U+0000..U+00FF), the
//! way `bittorrent-tracker` and aquatic_ws write them. Unknown fields are
//! ignored (clients add `trackerid` and others), so we interoperate with
//! the whole ecosystem.
//!
//! Invariants: decoding never panics on any input and refuses anything it
//! could not re-encode to an equal message (ids of the wrong length, chars
//! above 255, offers or answers without SDP, counts that are not plain
//! non-negative integers, duplicate keys, nesting deeper than
//! [`json::MAX_DEPTH`]). Bounds on how
//! many offers an announce may carry are policy and belong to the tracker,
//! not to the codec.
//!
//! JSON is read and written by the hand-written [`json`] module rather than
//! serde_json, to keep the browser's wasm small (DESIGN.md, "Size"); the
//! decoders read fields straight from the message text, allocating only
//! for the strings a message keeps (SDP, failure reasons).

mod client;
mod fields;
pub mod json;
mod server;
// proptest does not build for wasm32 (no getrandom backend there).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use client::{Announce, AnnounceEvent, Answer, ClientToTracker, Offer, Scrape};
pub use server::{
    AnnounceReply, Failure, RelayedAnswer, RelayedOffer, ScrapeFile, ScrapeReply, TrackerToClient,
};

/// Info hash, peer id or offer id: 20 raw bytes.
pub type Id20 = [u8; 20];

/// Why a text is not a valid tracker message. The `Display` text is what a
/// tracker puts in its `failure reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    #[error("message is not UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Json(#[from] json::JsonError),
    #[error("message is not a JSON object")]
    NotAnObject,
    #[error("missing `{0}`")]
    Missing(&'static str),
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("unknown action")]
    UnknownAction,
}

impl TrackerError {
    pub(crate) fn invalid(field: &'static str, reason: &'static str) -> Self {
        TrackerError::Invalid { field, reason }
    }
}

/// The request kind a failure answers, echoed so clients can route it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Announce,
    Scrape,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Announce => "announce",
            Action::Scrape => "scrape",
        }
    }

    fn from_json(text: json::Str<'_>) -> Option<Action> {
        [Action::Announce, Action::Scrape]
            .into_iter()
            .find(|a| text.eq_str(a.as_str()))
    }
}

/// Parses a frame, the first step of both decoders: the index of its
/// JSON text, whose top-level value is an object.
fn parse_object(bytes: &[u8]) -> Result<json::Doc<'_>, TrackerError> {
    let text = std::str::from_utf8(bytes).map_err(|_| TrackerError::NotUtf8)?;
    let doc = json::parse(text)?;
    match doc.root().kind() {
        json::Kind::Object => Ok(doc),
        _ => Err(TrackerError::NotAnObject),
    }
}
