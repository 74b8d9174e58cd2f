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
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use peercdn::tracker::{ClientToTracker, Failure, TrackerToClient};
use tokio::time::MissedTickBehavior;

use super::state::{ConnId, Outbox};
use super::Tracker;

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
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
    // Last, so that shutdown (which waits for zero connections) lets the
    // close frame go out first.
    tracker.unregister(conn);
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
                let Some(Ok(frame)) = frame else {
                    // A frame over the size cap also ends here, as an error.
                    return End::Gone;
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
    use std::time::Duration;

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
