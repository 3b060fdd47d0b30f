//! The receive thread of a datagram socket (imudp, imuxsock; as rsyslog gives each its own
//! thread): drains the socket with `recvmmsg` (src/input/udp_recv.rs) without ever waiting on
//! the I/O runtime, lets the input parse the datagrams into a batch, and hands the batch to the
//! main queue when the rules thread is ready for it (its channel is empty), so batches grow
//! while the rules thread is busy, up to a bound in messages or a few milliseconds. A full
//! queue makes the thread wait as the input's flow control says (src/mainq.rs); meanwhile the
//! kernel's socket buffer takes what comes (and a unix socket's senders wait). An idle thread
//! sleeps in `poll` until a datagram or the shutdown arrives: a task of the I/O runtime closes
//! the write end of a wake-up socket pair on shutdown, which the thread polls beside its socket.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::udp_recv::Mmsg;
use super::{Ctx, BATCH_BYTES};
use crate::message::Batch;

/// How long a received datagram may wait in the thread for the rules thread to be ready
/// before it is handed on anyway (the thread looks again every millisecond).
const HOLD_MAX: Duration = Duration::from_millis(5);

/// What an input does with the datagrams its thread receives.
pub trait Datagrams: Send + 'static {
    /// Parses the `n` datagrams of the last `recvmmsg` into the batch.
    fn take(&mut self, mm: &mut Mmsg, n: usize, batch: &mut Batch, ctx: &Ctx);
    /// After the shutdown signal and the last hand-over: what the input still holds
    /// (repeated-message summaries) goes into `batch`, which is handed on after this.
    fn finish(&mut self, batch: &mut Batch, ctx: &Ctx);
    /// After everything was handed on (e.g. removing the socket's file).
    fn close(&mut self) {}
}

/// How the thread batches.
pub struct Batching {
    /// Messages per batch handed on at most.
    pub max_msgs: usize,
    /// Slot capacity of `mm` (a batch is full when less than this is left of its arena).
    pub slot: usize,
}

/// Starts the receive thread (named `thread`, at most 15 bytes) of input `name`'s socket; the
/// returned task ends when the thread has handed on what it holds after the shutdown signal
/// (or the queue closed).
pub fn start<S, D>(
    name: &str,
    thread: &str,
    sock: S,
    mm: Mmsg,
    how: Batching,
    input: D,
    ctx: Ctx,
) -> Result<tokio::task::JoinHandle<()>, String>
where
    S: AsRawFd + Send + 'static,
    D: Datagrams,
{
    let rt = tokio::runtime::Handle::current();
    let (name, err_name) = (name.to_string(), name.to_string());
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    // Closing `wake_tx` makes `wake_rx` readable (end of file): the thread's shutdown alarm.
    let (wake_tx, wake_rx) = UnixStream::pair()
        .map_err(|e| format!("{err_name}: cannot create the receive thread's wake-up pair: {e}"))?;
    let mut shutdown = ctx.shutdown.clone();
    std::thread::Builder::new()
        .name(thread.to_string())
        .spawn(move || {
            let full_bytes = BATCH_BYTES.saturating_sub(how.slot).max(1);
            let mut r = Reader {
                name,
                fd: sock.as_raw_fd(),
                wake: wake_rx.as_raw_fd(),
                mm,
                max_msgs: how.max_msgs.max(1),
                full_bytes,
                input,
                ctx,
                rt,
            };
            r.run();
            r.input.close();
            drop(sock);
            drop(wake_rx);
            let _ = done_tx.send(());
        })
        .map_err(|e| format!("{err_name}: cannot start the receive thread: {e}"))?;
    Ok(tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = &mut done_rx => return, // the thread ended by itself (the queue closed)
        }
        drop(wake_tx);
        let _ = done_rx.await;
    }))
}

struct Reader<D> {
    /// The input's name for notices.
    name: String,
    fd: RawFd,
    /// Read end of the wake-up pair: readable (end of file) once the shutdown was signalled.
    wake: RawFd,
    mm: Mmsg,
    max_msgs: usize,
    /// A batch is full at this many arena bytes (room left for one more datagram).
    full_bytes: usize,
    input: D,
    ctx: Ctx,
    rt: tokio::runtime::Handle,
}

impl<D: Datagrams> Reader<D> {
    fn run(&mut self) {
        let fd = self.fd;
        let mut batch: Option<Batch> = None;
        // when the oldest datagram of `batch` was received
        let mut held_since: Option<Instant> = None;
        let shutdown = self.ctx.shutdown.clone();
        let mut open = true;
        let mut woken = false;
        while open {
            let n = match self.mm.recv(fd, libc::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.ctx
                        .notices
                        .warning(format!("{}: receive error: {e}", self.name));
                    std::thread::sleep(Duration::from_millis(10));
                    0
                }
            };
            if n > 0 {
                let b = batch.get_or_insert_with(|| self.ctx.new_batch());
                self.input.take(&mut self.mm, n, b, &self.ctx);
                held_since.get_or_insert_with(Instant::now);
                if b.len() >= self.max_msgs || b.data.len() >= self.full_bytes {
                    held_since = None;
                    if let Some(b) = batch.take() {
                        open = self.hand(b);
                    }
                }
                if n == self.mm.vlen() {
                    continue; // probably more queued
                }
            }
            // The socket is drained for now: hand the batch on if the rules thread is ready
            // for it (or it waited long enough), else go on filling it.
            if let (Some(_), Some(t)) = (&batch, held_since) {
                if self.consumer_ready() || t.elapsed() >= HOLD_MAX {
                    held_since = None;
                    if let Some(b) = batch.take() {
                        open = self.hand(b);
                    }
                }
            }
            if woken || shutdown.has_changed().unwrap_or(true) {
                break;
            }
            // Holding a batch: look again in a millisecond; else sleep until a datagram or
            // the shutdown (the wake-up end) arrives.
            let timeout = if batch.is_some() { 1 } else { -1 };
            let mut pfds = [fd, self.wake].map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            // SAFETY: two valid pollfds for the duration of the call.
            unsafe { libc::poll(pfds.as_mut_ptr(), 2, timeout) };
            // The waker closed: the shutdown was signalled (or the I/O runtime is gone); the
            // loop drains the socket once more and ends.
            woken = pfds[1].revents != 0;
        }
        let mut b = batch.take().unwrap_or_else(|| self.ctx.new_batch());
        self.input.finish(&mut b, &self.ctx);
        if open {
            self.hand(b);
        }
    }

    /// The main queue's channel is empty: the rules thread waits or runs its last batch.
    fn consumer_ready(&self) -> bool {
        self.ctx.tx.capacity() == self.ctx.tx.max_capacity()
    }

    /// Hands a batch to the main queue, waiting as the input's flow control says when it is
    /// full. False when the queue is closed.
    fn hand(&self, batch: Batch) -> bool {
        self.rt.block_on(self.ctx.send(batch))
    }
}
