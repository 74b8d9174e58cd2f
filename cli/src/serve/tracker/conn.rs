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
//! [`frame`](peercdn::ws_frame)) and an empty outbox. Reads go into a buffer on
//! the thread's stack, inside one poll (so it is not part of the task's
//! state, which every idle connection pays for); every message it
//! completes is handled there, and all the replies go out in one write.

use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use peercdn::tracker::{ClientToTracker, Failure, TrackerToClient};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};

use super::rate::TokenBucket;
use super::state::{ConnId, Outbox as StateOutbox};
use super::{Outbox, Tracker, SIGNAL_PING, SIGNAL_SHUTDOWN};
use peercdn::ws_frame::{self as frame, Decoder, FrameError, Incoming};

type Io = TokioIo<Upgraded>;

/// How long the closing handshake may take.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// What the closing handshake reads at most, and the largest frame it
/// decodes: it only looks for the client's close frame (at most 127
/// bytes), so it must not buffer whatever else a client sends meanwhile.
const CLOSE_READ_MAX: usize = 64 * 1024;
const CLOSE_FRAME_MAX: usize = 1024;
/// A write that makes no progress for this long means the client stopped
/// reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The stack read buffer: an announce with ten offers fits, so a message
/// usually arrives, is unmasked and is parsed without a copy.
const READ_BUF: usize = 16 * 1024;

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
            frame::write(
                &mut out,
                frame::OP_TEXT,
                failure(reason).to_json().as_bytes(),
            );
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
        last_heard: Instant::now(),
        incomplete_since: None,
    };
    loop {
        let deadline = reader.incomplete_since.map(|t| t + limits.frame_timeout);
        tokio::select! {
            (mut out, end) = poll_fn(|cx| reader.poll_batch(cx, tracker, conn, io)) => {
                // What others queued for this client rides along.
                outbox.take_into(&mut out);
                // Boxed, like every await that is not the idle wait: the
                // task's size is what each idle connection costs.
                if !out.is_empty() && !Box::pin(write(io, &out)).await {
                    return End::Gone;
                }
                if let Some(end) = end {
                    return end;
                }
            }
            _ = until(deadline) => return End::CutOff("incomplete message timeout"),
            _ = outbox.notify.notified() => {
                let last_heard = reader.last_heard;
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
    let mut out = Vec::new();
    outbox.take_into(&mut out);
    if signals & SIGNAL_PING != 0 {
        if last_heard.elapsed() >= idle {
            return Some(End::CutOff("idle timeout"));
        }
        frame::write(&mut out, frame::OP_PING, b"");
    }
    if !out.is_empty() && !write(io, &out).await {
        return Some(End::Gone);
    }
    None
}

/// Sleeps until `deadline`, or forever without one. The timer is boxed
/// and exists only while a message is incomplete, so an idle connection's
/// task stays small.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => Box::pin(tokio::time::sleep_until(at.into())).await,
        None => std::future::pending().await,
    }
}

/// Per-connection read state.
struct Reader {
    decoder: Decoder,
    bucket: TokenBucket,
    bad_messages: u32,
    /// When the last complete message or control frame arrived: bytes of
    /// an incomplete one are not activity (a trickle would keep a socket
    /// alive forever).
    last_heard: Instant,
    /// When the message now incomplete started; it must end within
    /// `frame_timeout`, or the bytes it holds would be held for as long
    /// as the client likes.
    incomplete_since: Option<Instant>,
}

impl Reader {
    /// Reads what the socket has into a stack buffer and handles every
    /// message it completes: ready with the bytes to send back, and `Some`
    /// if the connection ends (after those bytes are sent).
    fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        tracker: &Tracker,
        conn: ConnId,
        io: &mut Io,
    ) -> Poll<(Vec<u8>, Option<End>)> {
        let mut buf = [MaybeUninit::<u8>::uninit(); READ_BUF];
        let mut read = ReadBuf::uninit(&mut buf);
        match Pin::new(io).poll_read(cx, &mut read) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) if !read.filled().is_empty() => {}
            Poll::Ready(_) => return Poll::Ready((Vec::new(), Some(End::Gone))),
        }
        let mut out = Vec::new();
        let end = self.handle_bytes(tracker, conn, read.filled_mut(), &mut out);
        self.incomplete_since = match (self.decoder.mid_message(), self.incomplete_since) {
            (false, _) => None,
            (true, since) => since.or_else(|| Some(Instant::now())),
        };
        Poll::Ready((out, end))
    }

    /// Handles every complete message in `bytes` (and before them, any
    /// incomplete frame kept from the last read), appending the frames
    /// for this client to `out`; `Some` ends the connection.
    fn handle_bytes(
        &mut self,
        tracker: &Tracker,
        conn: ConnId,
        bytes: &mut [u8],
        out: &mut Vec<u8>,
    ) -> Option<End> {
        let max_bad = tracker.limits.max_bad_messages;
        let Reader {
            decoder,
            bucket,
            bad_messages,
            last_heard,
            ..
        } = self;
        let fed = decoder.feed(bytes, |message| {
            *last_heard = Instant::now();
            match message {
                Incoming::Text(text) => {
                    if !bucket.take(Instant::now()) {
                        return ControlFlow::Break(End::CutOff("message rate limit exceeded"));
                    }
                    let valid = tracker.handle_frame(conn, text, out);
                    *bad_messages += u32::from(!valid);
                }
                Incoming::Binary => *bad_messages += 1,
                Incoming::Ping(payload) => frame::write(out, frame::OP_PONG, payload),
                Incoming::Pong => {}
                Incoming::Close => return ControlFlow::Break(End::ClientClosed),
            }
            if *bad_messages > max_bad {
                return ControlFlow::Break(End::CutOff("too many invalid messages"));
            }
            ControlFlow::Continue(())
        });
        match fed {
            Ok(ControlFlow::Continue(())) => None,
            Ok(ControlFlow::Break(end)) => Some(end),
            Err(FrameError::TooLarge) => Some(End::CutOff("message too large")),
            Err(FrameError::Protocol(_)) => Some(End::CutOff("WebSocket protocol error")),
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
    let mut drain = CloseDrain::new();
    let mut buf = [0u8; 512];
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Ok(n @ 1..) = io.read(&mut buf).await {
            if !drain.keep_reading(&mut buf[..n]) {
                return;
            }
        }
    })
    .await;
}

/// Reads of the closing handshake, bounded: at most [`CLOSE_READ_MAX`]
/// bytes, frames of at most [`CLOSE_FRAME_MAX`].
struct CloseDrain {
    decoder: Decoder,
    read: usize,
}

impl CloseDrain {
    fn new() -> Self {
        CloseDrain {
            decoder: Decoder::new(CLOSE_FRAME_MAX),
            read: 0,
        }
    }

    /// Whether to read on after `bytes`: not once the close frame came,
    /// nor past a bound or an invalid frame.
    fn keep_reading(&mut self, bytes: &mut [u8]) -> bool {
        self.read += bytes.len();
        let closed = self.decoder.feed(bytes, |message| match message {
            Incoming::Close => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        });
        matches!(closed, Ok(ControlFlow::Continue(()))) && self.read < CLOSE_READ_MAX
    }
}

fn failure(reason: &str) -> TrackerToClient {
    TrackerToClient::Failure(Failure {
        reason: reason.to_string(),
        action: None,
        info_hash: None,
    })
}

impl Tracker {
    /// Decodes and handles one text message from `conn`: appends the
    /// frames for `conn` itself to `mine_out`, and returns whether the
    /// message was valid. Messages for other connections go to their
    /// outboxes.
    fn handle_frame(&self, conn: ConnId, bytes: &[u8], mine_out: &mut Vec<u8>) -> bool {
        self.messages.fetch_add(1, Ordering::Relaxed);
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
            if !outbox.push(msg.to_json().as_bytes(), self.limits.outbox_len) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        for msg in mine {
            frame::write(mine_out, frame::OP_TEXT, msg.to_json().as_bytes());
        }
        valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_drain_stops_at_a_large_frame_or_too_many_bytes() {
        let mut huge = vec![0x81, 0x80 | 127];
        huge.extend_from_slice(&(1u64 << 30).to_be_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert!(!CloseDrain::new().keep_reading(&mut huge));
        // Small masked pings, endlessly: stops at the byte bound.
        let mut drain = CloseDrain::new();
        let mut pings = [0x89, 0x80, 0, 0, 0, 0].repeat(85);
        let mut rounds = 0;
        while rounds < 1000 && drain.keep_reading(&mut pings.clone()) {
            rounds += 1;
        }
        assert_eq!(rounds, CLOSE_READ_MAX / pings.len(), "stopped at the bound");
        let mut close = [0x88, 0x80, 0, 0, 0, 0];
        assert!(!CloseDrain::new().keep_reading(&mut close));
        pings.truncate(6);
        assert!(CloseDrain::new().keep_reading(&mut pings));
    }
}
