//! The HTTP listener: accepts TCP connections and serves each with hyper's
//! HTTP/1.1 (upgrades allowed, for the tracker), giving every request its
//! TCP peer address as axum's `ConnectInfo`.
//!
//! Hand-written rather than `axum::serve`, which sets no timer on hyper
//! and no bound on connections. Bounds (slowloris):
//! - a request head must arrive whole within `header_timeout`, counted
//!   from when hyper starts waiting for it: on a new connection, and on a
//!   kept-alive one from the end of its last response, so this is also
//!   the keep-alive idle timeout;
//! - at most `max_connections` HTTP connections are open at once; past
//!   that, new ones wait in the listen backlog until one closes. Upgraded
//!   (tracker) sockets leave this count and are bounded by the tracker.
//!
//! Shutdown is graceful: once `shutdown`
//! turns true no connection is accepted, every open one finishes the
//! request in flight and closes, and [`serve`] returns when all have.
//! Upgraded (tracker) sockets are no longer hyper's: they end on their own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// The HTTP bounds; `peercdn serve --help` lists the flags.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` is true and every
/// connection has ended.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let tasks = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &slots) => accepted,
            _ = stopped(&mut shutdown) => break,
        };
        let (tcp, peer, slot) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                on_accept_error(e).await;
                continue;
            }
        };
        let conn = connection(tcp, peer, router.clone(), builder.clone(), shutdown.clone());
        tasks.spawn(async move {
            conn.await;
            drop(slot);
        });
    }
    tasks.close();
    tasks.wait().await;
}

/// Errors of one connection (it reset before we took it) say nothing about
/// the listener; others (out of file descriptors) pass with time.
async fn on_accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!("accept: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Waits for a free connection slot, then for a connection.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed, so this cannot fail.
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(std::io::Error::other)?;
    let (tcp, peer) = listener.accept().await?;
    Ok((tcp, peer, slot))
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: hyper::server::conn::http1::Builder,
    mut shutdown: watch::Receiver<bool>,
) {
    // Every write here is a whole reply (a batch of tracker frames, an
    // HTTP response): Nagle's algorithm would only hold the next one back
    // until the client's delayed ACK of the last.
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!("TCP_NODELAY: {e}");
    }
    let service =
        TowerToHyperService::new(router.map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        }));
    let conn = builder
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, "HTTP connection: {e}");
    }
}

/// Resolves once `shutdown` is true (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
