//! Inputs: socket listeners that turn received bytes into parsed messages in batches and hand
//! the batches to the processing thread through a bounded channel (stream inputs wait when it
//! is full: back-pressure; datagram inputs count what they must drop).

pub mod acl;
pub mod creds;
pub mod dns;
pub mod file;
pub mod framing;
pub mod klog;
pub mod mark;
pub mod pstats;
pub mod ratelimit;
pub mod repeat;
pub mod tcp;
pub mod udp;
pub mod uxsock;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::config::model::{Config, Input, ModuleLoad};
use crate::message::{Batch, Peer};
use crate::parse::{InputFlags, ParseOptions, Received};

/// Messages per batch before an input hands it on.
pub const BATCH_MSGS: usize = 1024;
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

    /// Hands a full batch on, waiting while the queue is full (stream inputs).
    pub async fn send(&self, batch: Batch) -> bool {
        if batch.is_empty() {
            self.recycle(batch);
            return true;
        }
        let n = batch.len();
        let size = crate::stats::enqueue_start(n, self.tx.capacity() == 0);
        let ok = self.tx.send(batch).await.is_ok();
        crate::stats::enqueue_done(n, size, ok, false);
        ok
    }

    /// Hands a batch on without waiting; counts its messages as dropped when the queue is
    /// full (datagram inputs, as rsyslog does for UDP).
    pub fn try_send(&self, batch: Batch) {
        if batch.is_empty() {
            self.recycle(batch);
            return;
        }
        let n = batch.len();
        let size = crate::stats::enqueue_start(n, self.tx.capacity() == 0);
        match self.tx.try_send(batch) {
            Ok(()) => crate::stats::enqueue_done(n, size, true, false),
            Err(mpsc::error::TrySendError::Full(b)) => {
                crate::stats::enqueue_done(n, size, false, true);
                self.dropped.fetch_add(b.len() as u64, Ordering::Relaxed);
                self.recycle(b);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                crate::stats::enqueue_done(n, size, false, false)
            }
        }
    }

    /// Hands a batch on from a blocking thread (imklog), waiting while the queue is full.
    pub fn blocking_send(&self, batch: Batch) -> bool {
        let n = batch.len();
        let size = crate::stats::enqueue_start(n, self.tx.capacity() == 0);
        let ok = self.tx.blocking_send(batch).is_ok();
        crate::stats::enqueue_done(n, size, ok, false);
        ok
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
    /// Starts the input (called inside the tokio runtime). Errors are startup errors.
    fn start(self: Box<Self>, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String>;
}

/// Plans an `input(type=…)` instance of a module other than imtcp/imudp/imuxsock.
/// `Ok(None)`: the runtime does not have that module yet (a startup error).
pub fn plan_instance(i: &Input, cfg: &Config) -> Result<Option<Box<dyn Source>>, String> {
    match i.module {
        "imfile" => Ok(Some(Box::new(file::plan(i, cfg)?))),
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
