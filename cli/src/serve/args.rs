//! Command-line options of `peercdn serve`, and the tracker bounds they set.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::listen::HttpLimits;
use super::tracker::Limits;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The site directory to serve (where `peercdn build` wrote the manifest).
    pub site_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Run only the tracker (and stats), no static files.
    #[arg(long, conflicts_with = "no_tracker")]
    pub tracker_only: bool,
    /// Serve only static files (and stats), no tracker.
    #[arg(long)]
    pub no_tracker: bool,
    /// Build the manifest first when it is missing or older than the site.
    #[arg(long)]
    pub build: bool,
    /// A reverse proxy in front of this server (repeatable): for requests
    /// from it, the client is the address it appends to X-Forwarded-For.
    /// Without it, every visitor behind a proxy counts as the proxy.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<IpAddr>,
    /// The site's origin, e.g. https://example.org (repeatable): tracker
    /// WebSocket upgrades from browsers on any other origin are refused
    /// (403). Clients that send no Origin (not browsers) are let in: they
    /// could send any Origin anyway. Default: any origin.
    #[arg(long = "allowed-origin", value_name = "URL")]
    pub allowed_origins: Vec<String>,
    /// Serve /_peercdn/stats on this address only (e.g. 127.0.0.1:9090),
    /// not on --addr. Default: on --addr, to anyone.
    #[arg(long)]
    pub stats_addr: Option<SocketAddr>,
    /// Answer /_peercdn/stats only with `Authorization: Bearer TOKEN` or
    /// `?token=TOKEN` (the stats list every path served).
    #[arg(long, value_name = "TOKEN")]
    pub stats_token: Option<String>,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub tracker: TrackerArgs,
}

/// HTTP bounds, against clients that hold connections open (slowloris).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "HTTP bounds")]
pub struct HttpArgs {
    /// Seconds a client has to send a request's headers, from the moment
    /// the connection opens or its last response ends (so also the
    /// keep-alive idle timeout).
    #[arg(long, default_value_t = 20)]
    pub http_header_timeout: u64,
    /// HTTP connections open at once; more wait until one closes. Tracker
    /// WebSockets are counted by --max-connections instead.
    #[arg(long, default_value_t = 10_000)]
    pub max_http_connections: usize,
}

impl HttpArgs {
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(self.http_header_timeout.max(1)),
            max_connections: self.max_http_connections.max(1),
        }
    }
}

/// Tracker bounds. The defaults suit a site's visitors; tests shorten the
/// timeouts.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Tracker bounds")]
pub struct TrackerArgs {
    /// Announce interval told to clients, in seconds.
    #[arg(long, default_value_t = 120)]
    pub interval: u32,
    /// Seconds without an announce after which a peer leaves its swarm.
    #[arg(long, default_value_t = 300)]
    pub peer_timeout: u64,
    /// Seconds between WebSocket pings.
    #[arg(long, default_value_t = 30)]
    pub ping_interval: u64,
    /// Seconds without a complete message (not even a pong) after which a
    /// socket is closed.
    #[arg(long, default_value_t = 90)]
    pub idle_timeout: u64,
    /// Seconds a client may take to send a message once it started it
    /// (the server holds the bytes meanwhile).
    #[arg(long, default_value_t = 10)]
    pub frame_timeout: u64,
    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,
    /// Offers relayed per announce (WebTorrent sends at most 10).
    #[arg(long, default_value_t = 10)]
    pub max_offers: usize,
    #[arg(long, default_value_t = 5_000)]
    pub max_peers_per_swarm: usize,
    #[arg(long, default_value_t = 10_000)]
    pub max_swarms: usize,
    /// Swarms one connection may join.
    #[arg(long, default_value_t = 32)]
    pub max_swarms_per_conn: usize,
    #[arg(long, default_value_t = 20_000)]
    pub max_connections: usize,
    /// Tracker connections one client address (an IPv6 /64) may hold.
    #[arg(long, default_value_t = 64)]
    pub max_connections_per_ip: usize,
    /// Peers one client address (an IPv6 /64) may have in one swarm.
    #[arg(long, default_value_t = 32)]
    pub max_peers_per_ip: usize,
    /// Sustained messages per second per connection.
    #[arg(long, default_value_t = 20)]
    pub rate_limit: u32,
    /// Messages a connection may send in a burst.
    #[arg(long, default_value_t = 60)]
    pub rate_burst: u32,
    /// Invalid messages a connection may send before it is closed.
    #[arg(long, default_value_t = 5)]
    pub max_bad_messages: u32,
}

impl TrackerArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            interval_secs: self.interval.max(1),
            peer_timeout: Duration::from_secs(self.peer_timeout.max(1)),
            ping_interval: Duration::from_secs(self.ping_interval.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout.max(1)),
            frame_timeout: Duration::from_secs(self.frame_timeout.max(1)),
            max_frame_bytes: self.max_frame_bytes.max(1024),
            max_offers: self.max_offers,
            max_peers_per_swarm: self.max_peers_per_swarm.max(1),
            max_swarms: self.max_swarms.max(1),
            max_swarms_per_conn: self.max_swarms_per_conn.max(1),
            max_scrape: 64,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip.max(1),
            max_peers_per_ip: self.max_peers_per_ip.max(1),
            rate_per_sec: self.rate_limit.max(1),
            rate_burst: self.rate_burst.max(1),
            max_bad_messages: self.max_bad_messages,
            outbox_len: 64,
        }
    }
}
