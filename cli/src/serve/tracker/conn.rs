//! One task per tracker WebSocket: reads frames, enforces the per-connection
//! bounds (message size, message rate, invalid messages, idle time, a
//! client that stops reading), and writes replies and relayed messages.
//!
//! A client that breaks a bound gets a `failure reason` when there is one to
//! give, then a close frame with code 1008 (policy violation); its peers
//! leave their swarms at once. Nothing it does reaches other connections
//! beyond the messages the protocol relays.
//!
//! Memory: between messages a connection holds no read buffer (see
//! [`frame`](super::frame)) and an empty outbox; reads go through a small
//! buffer inside the task, and only a frame in progress is kept.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use peercdn::tracker::{ClientToTracker, Failure, TrackerToClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::frame::{self, Decoder, FrameError, Incoming};
use super::state::{ConnId, Outbox as StateOutbox};
use super::{Outbox, Tracker, SIGNAL_PING, SIGNAL_SHUTDOWN};

type Io = TokioIo<Upgraded>;

/// How long the closing handshake may take.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// A write that makes no progress for this long means the client stopped
/// reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read per wake-up before frames are decoded (and size-checked).
const READ_CHUNK: usize = 4096;

/// Why a connection ended.
enum End {
    /// The client vanished; nothing more to send.
    Gone,
    /// The client sent a close frame: answer it.
    ClientClosed,
    /// The server is shutting down.
    Shutdown,
    /// The client broke a bound; the text is its failure reason.
    CutOff(&'static str),
}

pub async fn run(tracker: Arc<Tracker>, (conn, outbox): (ConnId, Arc<Outbox>), mut io: Io) {
    let end = serve(&tracker, conn, &outbox, &mut io).await;
    // Its peers leave their swarms now, not after the closing handshake.
    tracker.leave(conn);
    let mut out = Vec::new();
    let code = match end {
        End::Gone => None,
        End::ClientClosed => Some((1000, "")),
        End::Shutdown => Some((1001, "server shutting down")),
        End::CutOff(reason) => {
            tracker.cut_off.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(conn, reason, "tracker client cut off");
            out = text_frame(&failure(reason));
            Some((1008, reason))
        }
    };
    if let Some((code, reason)) = code {
        out.extend(frame::close(code, reason));
        if Box::pin(write(&mut io, &out)).await && !matches!(end, End::ClientClosed) {
            Box::pin(finish_close(&mut io)).await;
        }
    }
    // Last, so that shutdown (which waits for zero connections) lets the
    // close frame go out first.
    tracker.closed();
}

async fn serve(tracker: &Tracker, conn: ConnId, outbox: &Outbox, io: &mut Io) -> End {
    let limits = &tracker.limits;
    let mut reader = Reader {
        decoder: Decoder::new(limits.max_frame_bytes),
        bucket: TokenBucket::new(limits.rate_per_sec, limits.rate_burst),
        bad_messages: 0,
    };
    let mut last_heard = Instant::now();
    let mut small = [0u8; 256];
    loop {
        tokio::select! {
            read = io.read(&mut small) => {
                let n = match read {
                    Ok(0) | Err(_) => return End::Gone,
                    Ok(n) => n,
                };
                last_heard = Instant::now();
                reader.decoder.extend(&small[..n]);
                if n == small.len() && !read_ready(io, &mut reader.decoder, limits.max_frame_bytes) {
                    return End::Gone;
                }
                // Boxed, like every await that is not the idle wait: the
                // task's size is what each idle connection costs.
                if let Some(end) = Box::pin(reader.process(tracker, conn, io)).await {
                    return end;
                }
            }
            _ = outbox.notify.notified() => {
                if let Some(end) = Box::pin(on_notified(outbox, last_heard, limits.idle_timeout, io)).await {
                    return end;
                }
            }
        }
    }
}

/// Signals and relayed messages for this connection.
async fn on_notified(
    outbox: &Outbox,
    last_heard: Instant,
    idle: Duration,
    io: &mut Io,
) -> Option<End> {
    let signals = outbox.take_signals();
    if signals & SIGNAL_SHUTDOWN != 0 {
        return Some(End::Shutdown);
    }
    let mut out = outbox.take_all();
    if signals & SIGNAL_PING != 0 {
        if last_heard.elapsed() >= idle {
            return Some(End::CutOff("idle timeout"));
        }
        out.extend(frame::encode(frame::OP_PING, b""));
    }
    if !out.is_empty() && !write(io, &out).await {
        return Some(End::Gone);
    }
    None
}

/// Reads what is already available without waiting, up to a bound so a
/// flood cannot grow the buffer before frame sizes are checked. False if
/// the connection ended.
fn read_ready(io: &mut Io, decoder: &mut Decoder, max_frame: usize) -> bool {
    while decoder.buffer().len() < max_frame + READ_CHUNK {
        let buf = decoder.buffer();
        buf.reserve(READ_CHUNK);
        let spare = buf.capacity() - buf.len();
        match io.read_buf(buf).now_or_never() {
            Some(Ok(0) | Err(_)) => return false,
            // A short read means the socket is drained: skip the read that
            // would only say so. Tokio keeps it marked readable, so nothing
            // that arrives meanwhile is missed.
            Some(Ok(n)) if n < spare => break,
            Some(Ok(_)) => continue,
            None => break,
        }
    }
    true
}

/// Per-connection read state.
struct Reader {
    decoder: Decoder,
    bucket: TokenBucket,
    bad_messages: u32,
}

impl Reader {
    /// Handles every complete frame buffered; `Some` ends the connection.
    async fn process(&mut self, tracker: &Tracker, conn: ConnId, io: &mut Io) -> Option<End> {
        let limits = &tracker.limits;
        loop {
            let message = match self.decoder.next() {
                Ok(Some(message)) => message,
                Ok(None) => return None,
                Err(FrameError::TooLarge) => return Some(End::CutOff("message too large")),
                Err(FrameError::Protocol(_)) => {
                    return Some(End::CutOff("WebSocket protocol error"))
                }
            };
            let replies = match message {
                Incoming::Text(text) => {
                    if !self.bucket.take(Instant::now()) {
                        return Some(End::CutOff("message rate limit exceeded"));
                    }
                    let (replies, valid) = tracker.handle_frame(conn, &text);
                    self.bad_messages += u32::from(!valid);
                    replies
                }
                Incoming::Binary => {
                    self.bad_messages += 1;
                    Vec::new()
                }
                Incoming::Ping(payload) => frame::encode(frame::OP_PONG, &payload),
                Incoming::Pong => Vec::new(),
                Incoming::Close => return Some(End::ClientClosed),
            };
            if !replies.is_empty() && !write(io, &replies).await {
                return Some(End::Gone);
            }
            if self.bad_messages > limits.max_bad_messages {
                return Some(End::CutOff("too many invalid messages"));
            }
        }
    }
}

/// Writes and flushes `bytes`; false if the client is gone or not reading.
async fn write(io: &mut Io, bytes: &[u8]) -> bool {
    let written = tokio::time::timeout(WRITE_TIMEOUT, async {
        io.write_all(bytes).await?;
        io.flush().await
    });
    matches!(written.await, Ok(Ok(())))
}

/// The closing handshake: reads (and discards) until the client's close
/// arrives or [`CLOSE_WAIT`] passes. Dropping the socket with unread input
/// instead would make the kernel reset the connection, and the client might
/// never see the close frame or the failure reason before it.
async fn finish_close(io: &mut Io) {
    let mut decoder = Decoder::new(usize::MAX);
    let mut buf = [0u8; 512];
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Ok(n @ 1..) = io.read(&mut buf).await {
            decoder.extend(&buf[..n]);
            while let Ok(Some(message)) = decoder.next() {
                if message == Incoming::Close {
                    return;
                }
            }
        }
    })
    .await;
}

fn failure(reason: &str) -> TrackerToClient {
    TrackerToClient::Failure(Failure {
        reason: reason.to_string(),
        action: None,
        info_hash: None,
    })
}

fn text_frame(msg: &TrackerToClient) -> Vec<u8> {
    frame::encode(frame::OP_TEXT, msg.to_json().as_bytes())
}

impl Tracker {
    /// Decodes and handles one text message from `conn`: returns the frames
    /// for `conn` itself (one buffer), and whether the message was valid.
    /// Messages for other connections go to their outboxes.
    fn handle_frame(&self, conn: ConnId, bytes: &[u8]) -> (Vec<u8>, bool) {
        let decoded = ClientToTracker::try_from(bytes);
        let valid = decoded.is_ok();
        let mut out = StateOutbox::new();
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
                } else if let Some(outbox) = inner.outboxes.get(&target) {
                    others.push((Arc::clone(outbox), msg));
                }
            }
        }
        // Encoding happens outside the lock.
        for (outbox, msg) in others {
            if !outbox.push(text_frame(&msg), self.limits.outbox_len) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        (super::concat(mine.iter().map(text_frame)), valid)
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
