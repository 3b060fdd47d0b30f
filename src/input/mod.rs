//! Inputs: socket listeners that turn received bytes into parsed messages in batches and hand
//! the batches to the processing thread through a bounded channel (stream inputs wait when it
//! is full: back-pressure; datagram inputs count what they must drop).

pub mod acl;
pub mod creds;
pub mod dgram_thread;
pub mod dns;
pub mod file;
pub mod framing;
pub mod klog;
pub mod mark;
pub mod pstats;
pub mod ratelimit;
pub mod relp;
pub mod repeat;
pub mod tcp;
pub mod udp;
pub mod udp_recv;
pub mod uxsock;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::config::model::{Config, Input, ModuleLoad};
use crate::message::{Batch, Peer};
use crate::parse::{InputFlags, ParseOptions, Received};

/// Messages per batch before an input hands it on: one write per batch stays far below the
/// rules thread's limit at 256, and the batches a backlog holds stay small (a full main
/// queue holds 32 of them, src/mainq.rs `channel_batches`).
pub const BATCH_MSGS: usize = 256;
/// Arena bytes per batch before an input hands it on.
pub const BATCH_BYTES: usize = 512 * 1024;

/// Everything an input task needs to produce batches.
#[derive(Clone)]
pub struct Ctx {
    pub tx: mpsc::Sender<Batch>,
    pub pool: Arc<Mutex<Vec<Batch>>>,
    pub parse: Arc<ParseOptions>,
    /// Index of this input in the engine's input table.
    pub input: u16,
    pub flags: InputFlags,
    pub dns: Arc<dns::Resolver>,
    /// Datagrams dropped because the queue was full.
    pub dropped: Arc<AtomicU64>,
    /// Where operator-facing notices go (internal messages).
    pub notices: crate::engine::Notices,
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// `$AllowedSender` list of this input's protocol (`None`: everyone is allowed).
    pub acl: Option<Arc<acl::Acl>>,
    /// `$RepeatedMsgReduction on` (src/input/repeat.rs).
    pub repeat: bool,
    /// The main queue's admission rules (src/mainq.rs) and this input's kind for them.
    pub mq: Arc<crate::mainq::MainQueue>,
    pub kind: crate::mainq::InputKind,
}

impl Ctx {
    /// A batch from the pool (allocations reused) or a new one.
    pub fn new_batch(&self) -> Batch {
        self.pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| Batch::with_capacity(BATCH_BYTES, BATCH_MSGS))
    }

    /// Parses one raw message into the batch with the current reception time.
    pub fn push(
        &self,
        batch: &mut Batch,
        raw: &[u8],
        peer: u32,
        now: &(crate::message::SyslogTime, i64),
    ) {
        let rx = Received {
            peer,
            input: self.input,
            time: now.0,
            unix: now.1,
        };
        crate::parse::push_message(batch, raw, &rx, &self.flags, &self.parse);
    }

    /// Hands a full batch on as the main queue admits it (src/mainq.rs): stream inputs
    /// wait as their flow control and `queue.timeoutEnqueue` say, then what does not fit is
    /// dropped and counted (`discarded.full`). False when the queue is closed.
    pub async fn send(&self, mut batch: Batch) -> bool {
        if batch.is_empty() {
            self.recycle(batch);
            return true;
        }
        let n = batch.len();
        let mut h = Hand {
            ctx: self,
            open: true,
        };
        let a = self.mq.admit(&mut batch, self.kind, true, &mut h).await;
        if a.kept < n {
            crate::stats::submitted_discarded(self.input, n - a.kept);
            let full = n - a.kept - a.discarded_nf;
            if full > 0 && self.kind.flow == crate::mainq::Flow::NoDelay {
                // datagrams (imudp, imuxsock) dropped after `queue.timeoutEnqueue`
                self.dropped.fetch_add(full as u64, Ordering::Relaxed);
            }
        }
        if batch.is_empty() {
            self.recycle(batch);
            return h.open && !self.tx.is_closed();
        }
        h.handoff_now(batch).await;
        h.open
    }

    /// Hands a batch on without waiting; what does not fit is dropped and counted
    /// (datagram inputs: a receive loop never stalls).
    /// As `try_send`, but while the queue's channel has no free slot the batch is handed back
    /// untouched (nothing admitted, nothing dropped), so a datagram input can go on filling
    /// it instead of dropping a small batch (the channel holds batches, not messages).
    pub fn try_send_unless_full(&self, batch: Batch) -> Option<Batch> {
        if !batch.is_empty() && self.tx.capacity() == 0 {
            return Some(batch);
        }
        self.try_send(batch);
        None
    }

    pub fn try_send(&self, mut batch: Batch) {
        if batch.is_empty() {
            self.recycle(batch);
            return;
        }
        let n = batch.len();
        let a = self.mq.admit_now(&mut batch, self.kind);
        let mut dropped = n - a.kept;
        if dropped > 0 {
            crate::stats::submitted_discarded(self.input, dropped);
        }
        if a.kept > 0 {
            match self.tx.try_send(batch) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(b)) => {
                    self.mq.channel_full(a.kept);
                    crate::stats::submitted_discarded(self.input, a.kept);
                    dropped += a.kept;
                    self.recycle(b);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => self.mq.release(a.kept),
            }
        } else {
            self.recycle(batch);
        }
        let full = dropped - a.discarded_nf;
        if full > 0 {
            self.dropped.fetch_add(full as u64, Ordering::Relaxed);
        }
    }

    /// Hands a batch on from a blocking thread of the runtime (imklog), as `send`.
    pub fn blocking_send(&self, batch: Batch) -> bool {
        match tokio::runtime::Handle::try_current() {
            Ok(h) => h.block_on(self.send(batch)),
            // outside the runtime (not in the daemon): admit without waiting
            Err(_) => {
                let mut batch = batch;
                let a = self.mq.admit_now(&mut batch, self.kind);
                if a.kept == 0 {
                    return true;
                }
                let ok = self.tx.blocking_send(batch).is_ok();
                if !ok {
                    self.mq.release(a.kept);
                }
                ok
            }
        }
    }

    /// The main queue's channel, bounded in batches (mainq::Settings::channel_batches): an
    /// admitted batch is within `queue.size`, so it waits there for room (back-pressure)
    /// and is never dropped for the batch bound. False when the queue is closed.
    async fn hand(&self, batch: Batch) -> bool {
        let n = batch.len();
        match self.tx.reserve().await {
            Ok(permit) => {
                permit.send(batch);
                true
            }
            Err(_) => {
                self.mq.release(n);
                false
            }
        }
    }

    pub fn recycle(&self, mut b: Batch) {
        b.clear();
        if let Ok(mut p) = self.pool.lock() {
            if p.len() < 256 {
                p.push(b);
            }
        }
    }

    /// A batch's peer table entry for this peer, added if new.
    pub fn peer_index(batch: &mut Batch, peer: &Peer) -> u32 {
        if let Some(i) = batch
            .peers
            .iter()
            .position(|p| p.ip == peer.ip && p.host == peer.host && p.port == peer.port)
        {
            return i as u32;
        }
        batch.peers.push(peer.clone());
        (batch.peers.len() - 1) as u32
    }
}

/// An input that is not a socket listener (imfile, imklog, immark, impstats …): planned from
/// the config before start, started inside the I/O runtime with its `Ctx`.
pub trait Source: Send {
    /// `inputname` of its messages.
    fn name(&self) -> String;
    /// How its messages are parsed.
    fn flags(&self) -> InputFlags {
        InputFlags::default()
    }
    /// impstats' name and origin of its `submitted` counter (rsyslog's statsobj), if any.
    fn stats_label(&self) -> Option<(String, String)> {
        None
    }
    /// Starts the input (called inside the tokio runtime). Errors are startup errors.
    fn start(self: Box<Self>, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String>;
}

/// Plans an `input(type=…)` instance of a module other than imtcp/imudp/imuxsock.
/// `Ok(None)`: the runtime does not have that module yet (a startup error).
pub fn plan_instance(i: &Input, cfg: &Config) -> Result<Option<Box<dyn Source>>, String> {
    match i.module {
        "imfile" => Ok(Some(Box::new(file::plan(i, cfg)?))),
        "imrelp" => Ok(Some(Box::new(relp::plan(i, cfg)?))),
        _ => Ok(None),
    }
}

/// Plans an input that runs from `module(load=…)` alone (imklog, immark, impstats).
/// `Ok(None)`: the module has no such input (or none yet).
pub fn plan_module(m: &ModuleLoad, cfg: &Config) -> Result<Option<Box<dyn Source>>, String> {
    match m.name {
        "imklog" => Ok(Some(Box::new(klog::plan(m, cfg)?))),
        "immark" => Ok(Some(Box::new(mark::plan(m, cfg)?))),
        "impstats" => Ok(Some(Box::new(pstats::plan(m, cfg)?))),
        _ => Ok(None),
    }
}

/// Hands the admitted part of a batch on while the rest waits for the queue.
struct Hand<'a> {
    ctx: &'a Ctx,
    /// The queue is still open.
    open: bool,
}

impl Hand<'_> {
    async fn handoff_now(&mut self, batch: Batch) {
        if !batch.is_empty() && !self.ctx.hand(batch).await {
            self.open = false;
        }
    }
}

impl crate::mainq::Handoff for Hand<'_> {
    fn spare(&mut self) -> Batch {
        self.ctx.new_batch()
    }
    async fn handoff(&mut self, admitted: Batch) {
        self.handoff_now(admitted).await
    }
}
