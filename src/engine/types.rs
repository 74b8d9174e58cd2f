//! The engine's vocabulary: virtual time, inputs, outputs.

use std::sync::Arc;
use std::time::Duration;

/// A point in time, in microseconds since an origin the caller chooses.
/// The engine never reads a clock: every `Time` comes from the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub fn from_micros(us: u64) -> Time {
        Time(us)
    }

    pub fn from_millis(ms: u64) -> Time {
        Time(ms.saturating_mul(1000))
    }

    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating.
    pub fn after(self, d: Duration) -> Time {
        Time(
            self.0
                .saturating_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        )
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

/// The caller's handle for one peer connection (one data channel).
pub type PeerKey = u64;
/// The caller's id for a want (one service-worker request).
pub type WantId = u64;
/// The engine's id for one origin (web seed) request.
pub type OriginId = u64;

/// Where a piece came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Peer(PeerKey),
    Origin,
}

/// What was done about a piece that failed its hash check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectAction {
    /// The peer was disconnected and banned for the session.
    PeerBanned,
    /// The origin's bytes were discarded (never stored); the piece will be
    /// fetched again, or the wants needing it fail after repeated errors.
    Discarded,
}

/// Why the engine asks the caller to close a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The error itself, not its message: formatting it is the caller's
    /// choice (the browser runtime never does, so its wasm carries no
    /// `Display` code for wire errors).
    Protocol(crate::wire::WireError),
    Banned,
    Stalled,
    TooManyPeers,
    Idle,
}

/// Why a want cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WantError {
    NoSuchAsset,
    BadRange,
    TooManyWants,
    /// The origin failed repeatedly for a piece no peer could supply.
    OriginFailed,
}

/// Everything the outside world tells the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Bytes `start..end` of asset `asset` (its index in the manifest) are
    /// needed by `deadline`. The rest of the asset is fetched from peers
    /// afterwards, within [`Config::background_budget`].
    Want {
        id: WantId,
        asset: u32,
        start: u64,
        end: u64,
        deadline: Time,
    },
    CancelWant {
        id: WantId,
    },
    /// Fill the store from peers in the background, every asset, within
    /// [`Config::background_budget`]: so this visitor can serve later ones.
    /// Never from the origin.
    FetchSiteFromPeers,
    /// A data channel opened (either side may have initiated it).
    PeerConnected {
        peer: PeerKey,
    },
    PeerDisconnected {
        peer: PeerKey,
    },
    /// One data channel message from a peer, any size or boundary.
    PeerData {
        peer: PeerKey,
        bytes: &'a [u8],
    },
    /// The peer's channel now buffers `bytes` not yet sent (the browser's
    /// `bufferedAmount`, e.g. on `bufferedamountlow`). Only needed with
    /// `Config::max_send_buffer`.
    PeerBuffered {
        peer: PeerKey,
        bytes: u64,
    },
    /// The next bytes of the origin response for request `id`, in order.
    OriginData {
        id: OriginId,
        bytes: &'a [u8],
    },
    /// The origin response ended (complete or not).
    OriginDone {
        id: OriginId,
    },
    /// The origin request failed (network error, HTTP error).
    OriginFailed {
        id: OriginId,
    },
    /// The local store holds these verified pieces.
    StoreHas {
        pieces: &'a [u32],
    },
    /// The local store evicted these pieces.
    StoreLost {
        pieces: &'a [u32],
    },
    /// Answer to [`Output::ReadPiece`]: the piece, or `None` if it is gone.
    PieceRead {
        piece: u32,
        data: Option<&'a [u8]>,
    },
    /// Other visitors are on their way (the tracker knows of some): until
    /// `until`, pieces no connected peer has wait for them instead of
    /// going to the origin, as for a new peer's grace period; wants near
    /// their deadline still go at once. A time not after now clears it
    /// (the tracker knows of nobody else).
    PeersExpected {
        until: Time,
    },
    /// Nothing happened but time passed (see [`crate::engine::Engine::poll_timeout`]).
    Timer,
}

/// Everything the engine asks the outside world to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes on the peer's data channel (at most the configured
    /// channel message size).
    Send {
        peer: PeerKey,
        bytes: Vec<u8>,
    },
    Disconnect {
        peer: PeerKey,
        reason: DisconnectReason,
    },
    /// HTTP Range request `start..end` (end exclusive) of asset `asset`'s
    /// URL; answer with `OriginData`* then `OriginDone` or `OriginFailed`.
    FetchOrigin {
        id: OriginId,
        asset: u32,
        start: u64,
        end: u64,
    },
    /// Abort origin request `id`; send nothing more for it.
    CancelOrigin {
        id: OriginId,
    },
    /// A verified piece (including its BEP 47 zero padding): store it and
    /// deliver its asset bytes to the waiting wants.
    PieceVerified {
        piece: u32,
        data: Arc<[u8]>,
        source: Source,
    },
    PieceRejected {
        piece: u32,
        source: Source,
        action: RejectAction,
    },
    PeerBanned {
        peer: PeerKey,
        peer_id: [u8; 20],
    },
    /// Read a stored piece to serve a peer; answer with `PieceRead`.
    ReadPiece {
        piece: u32,
    },
    /// Every piece of the want's range is verified (in the store or
    /// delivered through `PieceVerified`).
    WantDone {
        id: WantId,
    },
    WantFailed {
        id: WantId,
        error: WantError,
    },
    Stats(StatsEvent),
}

/// Counters for the dashboard, emitted as they change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsEvent {
    /// Real asset bytes of a verified piece (padding excluded).
    Downloaded { source: Source, bytes: u64 },
    /// Block bytes sent to a peer.
    Uploaded { peer: PeerKey, bytes: u64 },
}
