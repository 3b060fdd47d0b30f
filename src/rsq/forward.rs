//! A rules thread's side of the rulesets with their own queue (src/rsq/mod.rs): after a
//! message's rules ran, a copy for each `call` of such a ruleset, with the `$!` and `$.`
//! variables at the call, admitted to its queue and handed over once per batch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::filter::exec::State;
use crate::json::Json;
use crate::mainq::MainQueue;
use crate::message::{Batch, MsgRef, Span};

/// Where copies for one queued ruleset go.
pub struct Target {
    /// Weak, so that the queue closes once its inputs and the engine's own handle are gone
    /// (the engine closes the queues after their callers, src/engine.rs).
    pub tx: mpsc::WeakSender<Batch>,
    pub mq: Arc<MainQueue>,
    batch: Batch,
}

impl Target {
    pub fn new(tx: mpsc::WeakSender<Batch>, mq: Arc<MainQueue>) -> Target {
        Target {
            tx,
            mq,
            batch: Batch::default(),
        }
    }
}

/// A rules thread's side of the queued rulesets it calls: copies are collected per batch and
/// handed over in one send per queue and batch.
pub struct Forwarder {
    /// Per ruleset: its queue, `None` without one.
    targets: Vec<Option<Target>>,
    /// Copies admitted but not delivered because their queue had closed (shutdown).
    lost: Arc<AtomicU64>,
}

impl Forwarder {
    pub fn new(targets: Vec<Option<Target>>, lost: Arc<AtomicU64>) -> Forwarder {
        Forwarder { targets, lost }
    }

    /// After the rules ran message `m` (with `State::forward_queued`): a copy for each call
    /// of a queued ruleset it made, admitted to that ruleset's queue.
    pub fn collect(&mut self, st: &mut State, m: MsgRef<'_>) {
        let targets = &mut self.targets;
        st.drain_deferred(|r, msg, local| {
            let Some(Some(t)) = targets.get_mut(r) else {
                return;
            };
            // the copy's severity is known (parsed): the discard rules see it
            if t.mq.admit_one_blocking(m.m.severity) {
                copy_into(&mut t.batch, m, msg, local);
            }
        });
    }

    /// Hands the collected copies to their queues (end of the caller's batch).
    pub fn flush(&mut self) {
        for t in self.targets.iter_mut().flatten() {
            if t.batch.is_empty() {
                continue;
            }
            let mut b = std::mem::take(&mut t.batch);
            let n = b.len();
            let Some(tx) = t.tx.upgrade() else {
                // the queue closed (shutdown)
                t.mq.release(n);
                self.lost.fetch_add(n as u64, Ordering::SeqCst);
                continue;
            };
            // the batches behind the queue are bound too (src/mainq.rs `channel_batches`):
            // wait at most timeoutEnqueue for room there, never for good (two queued
            // rulesets calling each other would wait on each other)
            let until = Instant::now() + t.mq.s.timeout_enqueue;
            loop {
                match tx.try_send(b) {
                    Ok(()) => break,
                    Err(mpsc::error::TrySendError::Full(x)) if Instant::now() < until => {
                        b = x;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        t.mq.channel_full(n);
                        break;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        t.mq.release(n);
                        self.lost.fetch_add(n as u64, Ordering::SeqCst);
                        break;
                    }
                }
            }
        }
    }
}

/// Appends a copy of `m` to `b`: its bytes (the range its spans cover), peer and fields, with
/// the variables it had at the call.
fn copy_into(b: &mut Batch, m: MsgRef<'_>, msg: Option<Json>, local: Option<Json>) {
    let src = m.m;
    let spans = [
        src.raw,
        src.hostname,
        src.tag,
        src.msg,
        src.app_name,
        src.procid,
        src.msgid,
        src.structured_data,
    ];
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    for s in spans.iter().filter(|s| **s != Span::EMPTY) {
        lo = lo.min(s.start as usize);
        hi = hi.max(s.end as usize);
    }
    if src.after_pri != 0 {
        lo = lo.min(src.after_pri as usize);
        hi = hi.max(src.after_pri as usize);
    }
    let hi = hi.min(m.data.len());
    let lo = lo.min(hi);
    if b.data.is_empty() {
        // a pad byte: no span of a message starts at 0 (Span::EMPTY)
        b.data.push(0);
    }
    let base = b.data.len();
    b.data.extend_from_slice(&m.data[lo..hi]);
    let mv = |s: Span| {
        if s == Span::EMPTY {
            s
        } else {
            Span {
                start: (s.start as usize).saturating_sub(lo).saturating_add(base) as u32,
                end: (s.end as usize).saturating_sub(lo).saturating_add(base) as u32,
            }
        }
    };
    let mut c = src.clone();
    c.raw = mv(src.raw);
    c.hostname = mv(src.hostname);
    c.tag = mv(src.tag);
    c.msg = mv(src.msg);
    c.app_name = mv(src.app_name);
    c.procid = mv(src.procid);
    c.msgid = mv(src.msgid);
    c.structured_data = mv(src.structured_data);
    if src.after_pri != 0 {
        c.after_pri = ((src.after_pri as usize).saturating_sub(lo) + base) as u32;
    }
    c.peer = match m.peer {
        Some(p) => {
            if b.peers.last() != Some(p) {
                b.peers.push(p.clone());
            }
            (b.peers.len() - 1) as u32
        }
        None => u32::MAX,
    };
    c.json = msg.map(Box::new);
    b.msgs.push(c);
    b.locals.resize(b.msgs.len() - 1, None);
    b.locals.push(local);
}
