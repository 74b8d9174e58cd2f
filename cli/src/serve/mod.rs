//! `peercdn serve`: the origin in one process: the site's static files
//! ([`files`]), the WebSocket tracker at `/announce` ([`tracker`]) and
//! `GET /_peercdn/stats` ([`stats`]).
//!
//! Start-up prints exactly one line on stdout naming the site URL and the
//! tracker URL (tests read the port from it); everything else is logged on
//! stderr through `tracing`, quiet by default, more with `RUST_LOG`.
//! SIGINT or SIGTERM closes every tracker socket with 1001 ("going away"),
//! lets HTTP requests in flight finish for up to [`DRAIN`], and exits 0.

mod args;
mod client_ip;
mod compress;
mod files;
mod listen;
mod manifest_check;
mod memory;
mod stats;
mod tracker;

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::watch;

pub use args::ServeArgs;
use client_ip::TrustedProxies;
use files::SiteFiles;
use manifest_check::ManifestStatus;
use stats::OriginStats;
use tracker::Tracker;

const STATS_PATH: &str = "/_peercdn/stats";

/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(5);

struct App {
    files: Option<SiteFiles>,
    tracker: Option<Arc<Tracker>>,
    stats: Arc<OriginStats>,
    proxies: TrustedProxies,
    origins: tracker::AllowedOrigins,
    stats_token: Option<String>,
}

pub fn run(args: ServeArgs) -> Result<()> {
    init_logging();
    let root = std::fs::canonicalize(&args.site_dir)
        .with_context(|| format!("site directory {}", args.site_dir.display()))?;
    if !args.tracker_only {
        ensure_manifest(&args, &root)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, root))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn ensure_manifest(args: &ServeArgs, root: &std::path::Path) -> Result<()> {
    let problem = match manifest_check::check(root) {
        ManifestStatus::Fresh => return Ok(()),
        ManifestStatus::Missing => "there is no peercdn.json".to_string(),
        ManifestStatus::Stale(path) => format!("{} is newer than peercdn.json", path.display()),
    };
    if !args.build {
        tracing::warn!(
            "{problem}: visitors cannot share this site until you run `peercdn build {}` (or serve with --build)",
            args.site_dir.display()
        );
        return Ok(());
    }
    let summary = crate::build::run(crate::build::BuildOptions {
        site_dir: root.to_path_buf(),
        out_dir: None,
        piece_length: None,
        include: Vec::new(),
        exclude: Vec::new(),
        base_url: None,
    })
    .context("--build")?;
    tracing::info!("{problem}: rebuilt the manifest: {summary}");
    Ok(())
}

async fn serve(args: ServeArgs, root: std::path::PathBuf) -> Result<()> {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let stats = Arc::new(OriginStats::default());
    let tracker = (!args.no_tracker)
        .then(|| Tracker::new(args.tracker.limits(), random_seed(), shutdown_rx.clone()));
    let files = (!args.tracker_only).then(|| SiteFiles {
        root,
        stats: Arc::clone(&stats),
    });
    let app = Arc::new(App {
        files,
        tracker: tracker.clone(),
        stats,
        proxies: TrustedProxies::new(&args.trusted_proxies),
        origins: tracker::AllowedOrigins::new(&args.allowed_origins),
        stats_token: args.stats_token.clone(),
    });
    let listener = bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let stats_listener = match args.stats_addr {
        Some(stats_addr) => Some(bind(stats_addr).await?),
        None => None,
    };
    let stats_addr = match &stats_listener {
        Some(l) => l.local_addr()?,
        None => addr,
    };
    print_banner(&app, addr, stats_addr);
    if let Some(tracker) = &tracker {
        tokio::spawn(expire_peers(
            Arc::clone(tracker),
            args.tracker.limits().peer_timeout,
        ));
        tokio::spawn(memory::trim_when_quiet(Arc::clone(tracker)));
        tokio::spawn(Arc::clone(tracker).run_timers());
    }
    let mut drain_rx = shutdown_rx.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = shutdown_tx.send(true);
    });
    let limits = args.http.limits();
    let site_router = router(&app, stats_listener.is_none());
    let site = listen::serve(listener, site_router, limits, shutdown_rx.clone());
    let stats_only = stats_listener.map(|l| {
        let stats_router = Router::new()
            .route(STATS_PATH, get(stats_route))
            .with_state(Arc::clone(&app));
        listen::serve(l, stats_router, limits, shutdown_rx.clone())
    });
    let server = async move {
        match stats_only {
            Some(stats) => drop(tokio::join!(site, stats)),
            None => site.await,
        }
    };
    let deadline = async move {
        let _ = drain_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN).await;
    };
    // HTTP requests end with `server`; upgraded tracker sockets are not
    // tracked by it, so wait for them to send their close frames too.
    let drained = async {
        server.await;
        while tracker.as_ref().is_some_and(|t| t.connection_count() > 0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::Ok(())
    };
    tokio::select! {
        result = drained => result,
        _ = deadline => {
            tracing::warn!("connections still open after {DRAIN:?}; exiting anyway");
            Ok(())
        }
    }
}

async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// The site's routes: files, the tracker, and stats unless they have an
/// address of their own.
fn router(app: &Arc<App>, with_stats: bool) -> Router {
    let mut router = Router::new();
    if with_stats {
        router = router.route(STATS_PATH, get(stats_route));
    }
    if app.tracker.is_some() {
        router = router.route("/announce", get(announce_route));
    }
    // Compression inside, the byte count outside: the stats count what
    // leaves, compressed or not.
    router
        .fallback(file_route)
        .with_state(Arc::clone(app))
        .layer(compress::layer())
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&app.stats),
            compress::count_sent,
        ))
}

fn print_banner(app: &App, addr: std::net::SocketAddr, stats: std::net::SocketAddr) {
    let site = match app.files {
        Some(_) => format!("http://{addr}/"),
        None => "off".to_string(),
    };
    let tracker = match app.tracker {
        Some(_) => format!("ws://{addr}/announce"),
        None => "off".to_string(),
    };
    println!("peercdn serve: site {site} tracker {tracker} stats http://{stats}{STATS_PATH}");
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn expire_peers(tracker: Arc<Tracker>, peer_timeout: Duration) {
    // A peer outlives its timeout by at most a quarter of it.
    let mut tick = tokio::time::interval((peer_timeout / 4).max(Duration::from_secs(1)));
    loop {
        tick.tick().await;
        tracker.expire();
    }
}

/// Seeds the tracker's peer choice from the OS's random source, through the
/// standard library's randomly keyed hasher.
fn random_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    hasher.finish()
}

async fn stats_route(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(token) = &app.stats_token {
        if !stats::token_matches(token, &uri, &headers) {
            return (StatusCode::UNAUTHORIZED, "stats need their token").into_response();
        }
    }
    let tracker = app.tracker.as_ref().map(|t| t.counters());
    Json(app.stats.to_json(tracker)).into_response()
}

async fn announce_route(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Response {
    let client = client_ip::bound_key(app.proxies.client(peer, req.headers()));
    if !app.origins.allows(req.headers()) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    match &app.tracker {
        Some(tracker) => Arc::clone(tracker).upgrade(req, client),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn file_route(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match &app.files {
        Some(files) => files.respond(&method, &uri, &headers).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
