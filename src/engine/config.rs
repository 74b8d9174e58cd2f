//! Tunables. Defaults aim at a ~30 MiB/s WebRTC data channel, tens of ms of
//! latency, and a browser that tolerates a few dozen peer connections.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Connections beyond this are refused (Chrome limits peer connections).
    pub max_peers: usize,
    /// Peers we upload to at once.
    pub max_unchoked: usize,
    /// Never upload (Save-Data, metered connections).
    pub leech_only: bool,
    /// Global upload cap in bytes per second; `None` = unlimited.
    pub upload_rate: Option<u64>,
    /// Back-pressure: stop serving a peer while its data channel holds this
    /// many bytes not yet sent (as last reported with
    /// `Input::PeerBuffered`, plus what we sent since). `None`: the caller
    /// does not report; queues are then bounded by `max_peer_requests`.
    pub max_send_buffer: Option<u64>,
    /// Queued requests per peer; more are dropped (the peer re-requests).
    pub max_peer_requests: usize,
    pub max_wants: usize,
    /// Block size we request (16 KiB is what every client serves).
    pub block_size: u32,
    /// Outstanding block requests per peer: start, floor and ceiling.
    pub initial_pipeline: u32,
    pub min_pipeline: u32,
    pub max_pipeline: u32,
    /// The pipeline grows by one request per block received (slow start)
    /// up to this long's worth of data at the peer's measured rate. It must
    /// exceed any round trip: the measured rate is itself capped by
    /// pipeline / RTT, so a shorter time would freeze the pipeline.
    pub pipeline_time: Duration,
    /// No block from a peer with requests outstanding for this long: the
    /// requests are abandoned and re-issued elsewhere.
    pub request_timeout: Duration,
    /// Request timeouts after which a peer is disconnected.
    pub max_timeouts: u32,
    /// A new peer gets this long to say what it has before the origin is
    /// used for pieces it might hold.
    pub peer_grace: Duration,
    /// A want is urgent when its deadline is this close: the origin fetches
    /// its missing pieces even if peers have them.
    pub origin_margin: Duration,
    /// Outside its own share of a want (see `origin`), a visitor takes
    /// pieces nobody has from the origin only after the swarm made no
    /// progress on that want for this long (or for twice the time its own
    /// origin runs take, if longer): they may be on their way to a peer
    /// from the origin already.
    pub origin_takeover: Duration,
    /// The takeover delay for background wants (due beyond
    /// `foreground_horizon`) is at least this: nobody waits for them, and
    /// in a busy swarm the owners' `have`s queue behind the pieces in their
    /// channels, so a few quiet seconds are no sign of a lost owner (the
    /// flash-crowd benchmark took 1.2 copies of its site from the origin
    /// by taking over too soon).
    pub background_takeover: Duration,
    /// Background fetching (pieces no want needs, from peers only: the
    /// rest of a wanted asset, and the whole site after
    /// [`Input::FetchSiteFromPeers`](super::Input::FetchSiteFromPeers))
    /// stops while the store holds this many bytes or more. It bounds what
    /// a visitor downloads and stores beyond what it views, across page
    /// loads, since the store persists. 0: never fetch in the background.
    pub background_budget: u64,
    /// Wants due within this long are foreground (a page waits for them);
    /// the last quarter of each peer's pipeline is kept for their pieces.
    pub foreground_horizon: Duration,
    /// Longest origin request, in bytes (a run is cut to this).
    pub origin_max_run: u64,
    pub max_origin_requests: usize,
    /// An origin request with no bytes for this long is cancelled.
    pub origin_timeout: Duration,
    /// Origin failures for one piece before the wants needing it fail.
    pub max_origin_failures: u8,
    /// Total bytes of partially downloaded pieces held in memory.
    pub max_reassembly_bytes: u64,
    /// Largest data channel message we send (Chrome: 256 KiB).
    pub max_channel_message: usize,
    /// Bytes of verified pieces kept in memory to serve peers without a
    /// store read (at least one piece is kept whatever this says).
    pub piece_cache_bytes: usize,
    pub rechoke_interval: Duration,
    /// A peer silent this long is dropped; we send keep-alives at half.
    pub idle_timeout: Duration,
    /// A connection that brings no handshake in this long is dropped: a
    /// channel can open on one side only (the other never got it), and
    /// until it goes, it holds a peer slot and the tracker client sees
    /// itself connected, so it does not look for another.
    pub handshake_timeout: Duration,
}

/// See [`Config::background_budget`]: 64 MiB, a few minutes of video.
pub const DEFAULT_BACKGROUND_BUDGET: u64 = 64 << 20;

impl Default for Config {
    fn default() -> Self {
        Config {
            max_peers: 32,
            max_unchoked: 8,
            leech_only: false,
            upload_rate: None,
            max_send_buffer: None,
            max_peer_requests: 256,
            max_wants: 64,
            block_size: 16 * 1024,
            initial_pipeline: 32,
            min_pipeline: 4,
            max_pipeline: 384,
            pipeline_time: Duration::from_secs(1),
            request_timeout: Duration::from_secs(4),
            max_timeouts: 3,
            peer_grace: Duration::from_secs(2),
            origin_margin: Duration::from_millis(1500),
            origin_takeover: Duration::from_millis(750),
            background_takeover: Duration::from_secs(10),
            foreground_horizon: Duration::from_secs(60),
            background_budget: DEFAULT_BACKGROUND_BUDGET,
            origin_max_run: 2 * 1024 * 1024,
            max_origin_requests: 2,
            origin_timeout: Duration::from_secs(10),
            max_origin_failures: 2,
            max_reassembly_bytes: 64 * 1024 * 1024,
            max_channel_message: 64 * 1024,
            piece_cache_bytes: 8 * 1024 * 1024,
            rechoke_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}
