//! One task per tracker WebSocket: reads frames, enforces the per-connection
//! bounds (message rate, invalid messages, idle time; frame size is enforced
//! by the WebSocket layer), and writes replies and relayed messages.
//!
//! A client that breaks a bound gets a `failure reason` when there is one to
//! give, then a close frame with code 1008 (policy violation); its peers
//! leave their swarms at once. Nothing it does reaches other connections
//! beyond the messages the protocol relays.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use peercdn::tracker::{ClientToTracker, Failure, TrackerToClient};
use tokio::time::MissedTickBehavior;

use super::state::{ConnId, Outbox};
use super::Tracker;

const CLOSE_WAIT: Duration = Duration::from_secs(1);
const LINGER: Duration = Duration::from_millis(300);

/// Why a connection ended.
enum End {
    /// The client closed or vanished.
    Gone,
    /// The server is shutting down.
    Shutdown,
    /// The client broke a bound; the text is its failure reason.
    CutOff(&'static str),
}

pub async fn run(tracker: Arc<Tracker>, mut socket: WebSocket) {
    let (conn, mut outbox) = tracker.register();
    let end = serve(&tracker, conn, &mut socket, &mut outbox).await;
    // Its peers leave their swarms now, not after the closing handshake.
    tracker.leave(conn);
    let close = match end {
        End::Gone => None,
        End::Shutdown => Some((1001, "server shutting down")),
        End::CutOff(reason) => {
            tracker.cut_off.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(conn, reason, "tracker client cut off");
            let failure = TrackerToClient::Failure(Failure {
                reason: reason.to_string(),
                action: None,
                info_hash: None,
            });
            let _ = socket.send(Message::Text(failure.to_json().into())).await;
            Some((1008, reason))
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            finish_close(&mut socket).await;
        }
    }
    // Last, so that shutdown (which waits for zero connections) lets the
    // close frame go out first.
    tracker.closed();
}

/// The closing handshake: reads (and discards) until the client's close
/// arrives, for at most [`CLOSE_WAIT`]. Dropping the socket with unread
/// input instead would make the kernel reset the connection, and the
/// client would never see the close frame or the failure reason.
async fn finish_close(socket: &mut WebSocket) {
    let started = Instant::now();
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(frame)) = socket.recv().await {
            if matches!(frame, Message::Close(_)) {
                return;
            }
        }
        // The socket cannot be read any more (after an oversized or
        // malformed frame): linger a moment so the client reads our
        // failure and close before the reset.
        tokio::time::sleep(LINGER.saturating_sub(started.elapsed())).await;
    })
    .await;
}

async fn serve(
    tracker: &Tracker,
    conn: ConnId,
    socket: &mut WebSocket,
    outbox: &mut tokio::sync::mpsc::Receiver<Utf8Bytes>,
) -> End {
    let limits = &tracker.limits;
    let mut bucket = TokenBucket::new(limits.rate_per_sec, limits.rate_burst);
    let mut bad_messages = 0u32;
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(limits.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await; // the first tick is immediate
    let mut shutdown = tracker.shutdown.clone();
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(e)) => return read_error(e),
                    None => return End::Gone,
                };
                last_heard = Instant::now();
                let text = match frame {
                    Message::Text(text) => text,
                    Message::Close(_) => return End::Gone,
                    Message::Ping(_) | Message::Pong(_) => continue,
                    Message::Binary(_) => {
                        bad_messages += 1;
                        if bad_messages > limits.max_bad_messages {
                            return End::CutOff("too many invalid messages");
                        }
                        continue;
                    }
                };
                if !bucket.take(last_heard) {
                    return End::CutOff("message rate limit exceeded");
                }
                let (replies, valid) = tracker.handle_frame(conn, text.as_bytes());
                if !valid {
                    bad_messages += 1;
                }
                for reply in replies {
                    if socket.send(Message::Text(reply)).await.is_err() {
                        return End::Gone;
                    }
                }
                if bad_messages > limits.max_bad_messages {
                    return End::CutOff("too many invalid messages");
                }
            }
            Some(relayed) = outbox.recv() => {
                if socket.send(Message::Text(relayed)).await.is_err() {
                    return End::Gone;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= limits.idle_timeout {
                    return End::CutOff("idle timeout");
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return End::Gone;
                }
            }
            _ = shutdown.changed() => return End::Shutdown,
        }
    }
}

/// Oversized and malformed frames are the client's fault and get a close
/// with a reason; anything else (a reset, an EOF) means it is gone.
fn read_error(error: axum::Error) -> End {
    match error.into_inner().downcast::<tungstenite::Error>().map(|e| *e) {
        Ok(tungstenite::Error::Capacity(_)) => End::CutOff("message too large"),
        Ok(tungstenite::Error::Protocol(_) | tungstenite::Error::Utf8(_)) => {
            End::CutOff("WebSocket protocol error")
        }
        _ => End::Gone,
    }
}

impl Tracker {
    /// Decodes and handles one text frame from `conn`: returns the frames
    /// for `conn` itself, and whether the frame was a valid message.
    /// Messages for other connections go to their outboxes.
    fn handle_frame(&self, conn: ConnId, bytes: &[u8]) -> (Vec<Utf8Bytes>, bool) {
        let decoded = ClientToTracker::try_from(bytes);
        let valid = decoded.is_ok();
        let mut out = Outbox::new();
        let mut mine = Vec::new();
        let mut others = Vec::new();
        {
            let mut inner = self.lock();
            match decoded {
                Ok(msg) => inner.state.handle(Instant::now(), conn, msg, &mut out),
                Err(e) => inner.state.fail(conn, e.to_string(), None, None, &mut out),
            }
            for (target, msg) in out {
                if target == conn {
                    mine.push(msg);
                } else if let Some(tx) = inner.outboxes.get(&target) {
                    others.push((tx.clone(), msg));
                }
            }
        }
        // Encoding happens outside the lock.
        for (tx, msg) in others {
            if tx.try_send(msg.to_json().into()).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mine = mine.into_iter().map(|m| Utf8Bytes::from(m.to_json())).collect();
        (mine, valid)
    }
}

/// Allows `burst` messages at once and `rate` per second sustained.
struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: u32, burst: u32) -> Self {
        TokenBucket {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            last: Instant::now(),
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_burst_then_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10, 3);
        bucket.last = start;
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(100)));
        assert!(!bucket.take(start + Duration::from_millis(100)));
    }
}
