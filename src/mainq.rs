//! The main queue's admission and accounting, with rsyslog 8.2302's rules (runtime/queue.c
//! `doEnqSingleObj`, `qqueueChkDiscardMsg`, `DequeueConsumableElements`,
//! `qqueueCorrectParams`): the queue holds at most `queue.size` messages; from
//! `queue.discardMark` on, messages of `queue.discardSeverity` or less important are
//! discarded when enqueued and again when the rules thread takes them (`discarded.nf`);
//! light-delayable inputs (imtcp, imklog) wait up to 1 s per message above
//! `queue.lightDelayMark`, full-delayable ones (imfile) wait while the queue is above
//! `queue.fullDelayMark`; a message that finds the queue full waits up to
//! `queue.timeoutEnqueue` ms for room and is then dropped (`full`, `discarded.full`).
//!
//! Messages travel in batches: an input hands over a whole batch, which is admitted in one
//! atomic step when no mark is reached (the hot path: one compare-and-swap per batch), and
//! message by message otherwise. The size counts messages from their admission until the
//! rules thread has run them (rsyslog's physical queue size, which counts the batch in
//! processing), so a stalled rules thread fills the queue exactly as in rsyslog.
//!
//! A queue with `queue.filename` or `queue.type="Disk"` has a disk part behind this
//! admission (src/mqdisk/: `queue.highWatermark`/`lowWatermark` decide the spilling there);
//! the size counted here is then what memory holds. `queue.workerThreadMinimumMessages`
//! (when queue.c starts another worker) has no effect here (src/workers.rs).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::model::{Config, PValue, Params};
use crate::message::Batch;

/// How an input reacts to a filling queue (rsyslog's `flowControl_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// imudp, imuxsock, internal messages, impstats, immark.
    NoDelay,
    /// imtcp, imklog: up to 1 s per message above `lightDelayMark`.
    Light,
    /// imfile: waits while the queue is above `fullDelayMark`.
    Full,
}

/// What the queue needs to know about an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputKind {
    pub flow: Flow,
    /// Whether rsyslog knows the message's severity when it enqueues it. imtcp and imudp
    /// messages are parsed after the main queue in rsyslog, so the discard rules see their
    /// constructor's severity, 7 (debug); imuxsock, imfile, imklog and internal messages
    /// set it before.
    pub severity_known: bool,
}

impl InputKind {
    pub const INTERNAL: InputKind = InputKind {
        flow: Flow::NoDelay,
        severity_known: true,
    };
}

/// The main queue's settings, resolved with rsyslog's defaults and corrections.
#[derive(Debug, Clone)]
pub struct Settings {
    pub size: usize,
    /// `queue.dequeueBatchSize`: how many messages the rules thread runs before the actions
    /// end their batch (`None`: the input's batch, at most 256 messages).
    pub dequeue_batch: Option<usize>,
    /// The batch rsyslog's worker would dequeue (`dequeue_batch`, else 1024 with
    /// `main_queue()`, 256 without, capped at the size): the unit of dequeue-time discarding.
    pub dequeue_window: usize,
    pub timeout_enqueue: Duration,
    pub discard_mark: usize,
    /// 8 = never discard.
    pub discard_severity: u8,
    pub light_mark: usize,
    pub full_mark: usize,
}

fn int(p: &Params, name: &str) -> Option<i64> {
    match p.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A severity as queue.c takes it: a number or a name (`warning`), 8 when unset.
pub fn severity(p: &Params, name: &str) -> u8 {
    match p.get(name) {
        Some(PValue::Str(s)) => crate::template::props::SEVERITY_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s.trim()))
            .map(|v| v as i64)
            .or_else(|| s.trim().parse().ok())
            .unwrap_or(8),
        Some(PValue::Int(n)) => *n,
        _ => 8,
    }
    .clamp(0, 8) as u8
}

impl Settings {
    /// The main queue's settings: `main_queue()` takes rsyslog's ruleset-queue defaults
    /// (size 50,000, `qqueueSetDefaultsRulesetQueue`), legacy `$MainMsgQueue*` or nothing the
    /// main queue's (size 100,000, discard mark 98,000, rsconf.c); then the corrections of
    /// `qqueueCorrectParams`.
    pub fn from_config(cfg: &Config) -> Settings {
        Settings::from_params(&cfg.main_queue, cfg.main_queue_object)
    }

    /// Settings from queue parameters: `object` when they come from a RainerScript object
    /// (`main_queue()`, `ruleset(queue.…)`: rsyslog's ruleset-queue defaults), else the
    /// legacy main queue's defaults.
    pub fn from_params(p: &Params, object: bool) -> Settings {
        let dflt_size = if object { 50_000 } else { 100_000 };
        let size = match int(p, "queue.size") {
            Some(n) if n > 0 => n.min(0x7fff_ffff) as usize,
            _ => dflt_size,
        };
        let pct = |n: usize| size / 100 * n;
        let mark = |name: &str| int(p, name).filter(|n| *n > 0).map(|n| n as usize);
        // discardMark: legacy default 98000 (rsconf.c), else 98% (queue.c)
        let discard_mark = match mark("queue.discardMark") {
            Some(n) if n <= size => n,
            _ if !object && size == 100_000 => 98_000,
            _ if pct(98) == 0 => size,
            _ => pct(98),
        };
        let full_mark = match mark("queue.fullDelayMark") {
            Some(n) if n <= size => n,
            _ if pct(97) == 0 => (size - 1).max(1),
            _ => pct(97),
        };
        let light_mark = match int(p, "queue.lightDelayMark") {
            Some(0) => size,
            Some(n) if n > 0 && (n as usize) <= size => n as usize,
            _ if pct(70) == 0 => (size - 1).max(1),
            _ => pct(70),
        };
        let dequeue_batch = int(p, "queue.dequeueBatchSize")
            .filter(|n| *n > 0)
            .map(|n| (n as usize).min(size));
        let dflt_batch = if object { 1024 } else { 256 };
        Settings {
            size,
            dequeue_batch,
            dequeue_window: dequeue_batch.unwrap_or(dflt_batch.min(size)),
            timeout_enqueue: Duration::from_millis(
                int(p, "queue.timeoutEnqueue").unwrap_or(2000).max(0) as u64,
            ),
            discard_mark,
            discard_severity: severity(p, "queue.discardSeverity"),
            light_mark,
            full_mark,
        }
    }

    /// Batches the channel behind the queue holds: every batch holds at least one message,
    /// so up to `size` batches never bind before the message count does; above 65,536 the
    /// queue holds at most 32 batches (8,192 messages in full 256-message batches), which
    /// bounds the memory a backlog takes: an input faster than the rules thread (the usual
    /// case here) makes the queue full, and 64 batches of 1,024 messages took ~10 MB more
    /// than rsyslogd's whole process in the harness's one-core runs, with no throughput to
    /// show for it (README Performance). Stream inputs wait for room; datagrams wait in the
    /// socket's receive buffer.
    pub fn channel_batches(&self) -> usize {
        if self.size > 65_536 {
            32
        } else {
            self.size.max(1)
        }
    }

    fn discards(&self, size: usize, sev: u8) -> bool {
        self.discard_severity < 8 && size >= self.discard_mark && sev >= self.discard_severity
    }
}

/// impstats' `main Q` counters (rsyslog counts `enqueued` for every message offered).
#[derive(Default)]
pub struct Counters {
    pub enqueued: AtomicU64,
    pub full: AtomicU64,
    pub discarded_full: AtomicU64,
    pub discarded_nf: AtomicU64,
    pub maxqsize: AtomicU64,
}

/// The main queue's shared state: inputs admit batches, the rules thread releases them.
pub struct MainQueue {
    pub s: Settings,
    size: AtomicUsize,
    pub counters: Counters,
    /// Inputs waiting for the size to fall (the rules thread only wakes them when set).
    waiters: AtomicUsize,
    notify: tokio::sync::Notify,
    /// Shutdown: waits end (rsyslog's `GetGlobalInputTermState`).
    closing: AtomicBool,
}

static MAIN: OnceLock<Arc<MainQueue>> = OnceLock::new();

/// The running daemon's main queue (for impstats).
pub fn get() -> Option<&'static Arc<MainQueue>> {
    MAIN.get()
}

/// Where an admission hands the part of a batch it admitted before it waits.
pub trait Handoff: Send {
    /// An empty batch to continue in (from the input's pool).
    fn spare(&mut self) -> Batch;
    /// Hands admitted messages to the rules thread.
    fn handoff(&mut self, admitted: Batch) -> impl Future<Output = ()> + Send;
}

/// For admissions that never wait.
struct NoHandoff;

impl Handoff for NoHandoff {
    fn spare(&mut self) -> Batch {
        Batch::default()
    }
    async fn handoff(&mut self, _admitted: Batch) {}
}

/// What happened to a batch offered to the queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// Messages left in the batch (admitted).
    pub kept: usize,
    pub discarded_nf: usize,
    pub discarded_full: usize,
}

impl MainQueue {
    pub fn new(s: Settings) -> Arc<MainQueue> {
        let q = MainQueue::new_unregistered(s);
        let _ = MAIN.set(q.clone());
        q
    }

    /// A queue with the main queue's rules that is not the main queue (a ruleset's own
    /// queue, src/rsq/): impstats lists it under its own name.
    pub fn new_unregistered(s: Settings) -> Arc<MainQueue> {
        Arc::new(MainQueue {
            s,
            size: AtomicUsize::new(0),
            counters: Counters::default(),
            waiters: AtomicUsize::new(0),
            notify: tokio::sync::Notify::new(),
            closing: AtomicBool::new(false),
        })
    }

    /// Messages admitted and not yet run by the rules thread (impstats' `size`).
    pub fn size(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    /// Messages read back from the queue's disk part into memory for the rules thread
    /// (src/mqdisk/): counted again until it releases them.
    pub fn hold(&self, n: usize) {
        let now = self.size.fetch_add(n, Ordering::SeqCst) + n;
        self.counters
            .maxqsize
            .fetch_max(now as u64, Ordering::Relaxed);
    }

    /// Shutdown: inputs stop waiting for room.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn wake(&self) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// The rules thread has run `n` messages (or discarded them): room for others.
    pub fn release(&self, n: usize) {
        if n > 0 {
            self.size.fetch_sub(n, Ordering::SeqCst);
            self.wake();
        }
    }

    /// Admitted messages of an input that does not wait (datagrams, internal messages)
    /// that found the channel behind the queue full (its batch bound): dropped, counted as
    /// a full queue.
    pub fn channel_full(&self, n: usize) {
        self.release(n);
        self.counters.full.fetch_add(1, Ordering::Relaxed);
        self.counters
            .discarded_full
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts an admission's results.
    fn account(&self, offered: usize, a: &Admitted, full: u64) {
        let c = &self.counters;
        c.enqueued.fetch_add(offered as u64, Ordering::Relaxed);
        if full > 0 {
            c.full.fetch_add(full, Ordering::Relaxed);
        }
        if a.discarded_full > 0 {
            c.discarded_full
                .fetch_add(a.discarded_full as u64, Ordering::Relaxed);
        }
        if a.discarded_nf > 0 {
            c.discarded_nf
                .fetch_add(a.discarded_nf as u64, Ordering::Relaxed);
        }
    }

    /// The whole batch fits below every mark that concerns it: reserve it at once.
    fn admit_fast(&self, n: usize, kind: InputKind) -> bool {
        let s = &self.s;
        let mut limit = s.size;
        if s.discard_severity < 8 {
            limit = limit.min(s.discard_mark);
        }
        match kind.flow {
            Flow::Light => limit = limit.min(s.light_mark),
            Flow::Full => limit = limit.min(s.full_mark),
            Flow::NoDelay => {}
        }
        let mut cur = self.size.load(Ordering::SeqCst);
        while cur + n <= limit {
            match self
                .size
                .compare_exchange_weak(cur, cur + n, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    self.counters
                        .maxqsize
                        .fetch_max((cur + n) as u64, Ordering::Relaxed);
                    return true;
                }
                Err(c) => cur = c,
            }
        }
        false
    }

    /// Reserves one place if the queue is not full.
    fn try_one(&self) -> bool {
        let mut cur = self.size.load(Ordering::SeqCst);
        while cur < self.s.size {
            match self
                .size
                .compare_exchange_weak(cur, cur + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    self.counters
                        .maxqsize
                        .fetch_max((cur + 1) as u64, Ordering::Relaxed);
                    return true;
                }
                Err(c) => cur = c,
            }
        }
        false
    }

    /// Admits what it can of `batch` (removing the rest), waiting as the input's flow
    /// control and `timeoutEnqueue` say when `wait` (stream inputs); without `wait` nothing
    /// waits and a full queue drops at once (datagram inputs, internal messages).
    /// Before it waits, the admitted part of the batch is handed to `h` (the rules thread
    /// must get it to make room); `batch` keeps the rest. `Admitted` counts the whole batch.
    pub async fn admit<H: Handoff>(
        &self,
        batch: &mut Batch,
        kind: InputKind,
        wait: bool,
        h: &mut H,
    ) -> Admitted {
        self.admit_with(batch, kind, wait, h).await
    }

    /// `admit` without waiting, from synchronous code.
    pub fn admit_now(&self, batch: &mut Batch, kind: InputKind) -> Admitted {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut h = NoHandoff;
        let mut fut = std::pin::pin!(self.admit_with(batch, kind, false, &mut h));
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(a) => a,
            // without `wait` the admission never awaits (every wait below is under `wait`)
            std::task::Poll::Pending => unreachable!("an admission without waiting awaited"),
        }
    }

    async fn admit_with<H: Handoff>(
        &self,
        batch: &mut Batch,
        kind: InputKind,
        wait: bool,
        h: &mut H,
    ) -> Admitted {
        let n = batch.len();
        if n == 0 {
            return Admitted::default();
        }
        if self.admit_fast(n, kind) {
            let a = Admitted {
                kept: n,
                ..Default::default()
            };
            self.account(n, &a, 0);
            return a;
        }
        let s = &self.s;
        let mut a = Admitted::default();
        let mut full = 0u64;
        // decisions for batch.msgs[..i]
        let mut keep: Vec<bool> = Vec::with_capacity(n);
        let mut i = 0;
        while i < batch.len() {
            let sev = if kind.severity_known {
                batch.msgs[i].severity
            } else {
                7
            };
            if s.discards(self.size(), sev) {
                a.discarded_nf += 1;
                keep.push(false);
                i += 1;
                continue;
            }
            let waits = wait
                && !self.closing.load(Ordering::Relaxed)
                && match kind.flow {
                    Flow::Full => self.size() >= s.full_mark,
                    Flow::Light => self.size() >= s.light_mark,
                    Flow::NoDelay => false,
                }
                || wait && !s.timeout_enqueue.is_zero() && self.size() >= s.size;
            if waits && keep.iter().any(|k| *k) {
                // hand on what is admitted before waiting: the rules thread needs it to
                // make room
                let mut tail = h.spare();
                tail.data.extend_from_slice(&batch.data);
                tail.peers.extend(batch.peers.iter().cloned());
                tail.msgs.extend(batch.msgs.drain(i..));
                let mut prefix = std::mem::replace(batch, tail);
                let mut it = keep.iter();
                prefix.msgs.retain(|_| *it.next().unwrap_or(&false));
                keep.clear();
                i = 0;
                h.handoff(prefix).await;
            }
            if wait && !self.closing.load(Ordering::Relaxed) {
                match kind.flow {
                    Flow::Full => {
                        while self.size() >= s.full_mark && !self.closing.load(Ordering::Relaxed) {
                            let fm = s.full_mark;
                            self.wait(Instant::now() + Duration::from_secs(1), &|sz| sz < fm)
                                .await;
                        }
                    }
                    Flow::Light if self.size() >= s.light_mark => {
                        let half = s.light_mark / 2;
                        self.wait(Instant::now() + Duration::from_secs(1), &|sz| sz < half)
                            .await;
                    }
                    _ => {}
                }
            }
            i += 1;
            if self.try_one() {
                a.kept += 1;
                keep.push(true);
                continue;
            }
            full += 1;
            let room = s.size;
            let admitted =
                if wait && !s.timeout_enqueue.is_zero() && !self.closing.load(Ordering::Relaxed) {
                    let until = Instant::now() + s.timeout_enqueue;
                    loop {
                        self.wait(until, &|sz| sz < room).await;
                        if self.try_one() {
                            break true;
                        }
                        if Instant::now() >= until || self.closing.load(Ordering::Relaxed) {
                            break false;
                        }
                        // another input took the place: rsyslog counts the queue full again
                        full += 1;
                    }
                } else {
                    false
                };
            if admitted {
                a.kept += 1;
            } else {
                a.discarded_full += 1;
            }
            keep.push(admitted);
        }
        if keep.iter().any(|k| !*k) {
            let mut it = keep.iter();
            batch.msgs.retain(|_| *it.next().unwrap_or(&false));
        }
        self.account(n, &a, full);
        a
    }

    /// Whether messages taken by the rules thread at queue size `size` are subject to
    /// dequeue-time discarding (queue.c applies `qqueueChkDiscardMsg` again when a worker
    /// dequeues, with the size that still counts the whole dequeued batch).
    pub fn discarding_at(&self, size: usize) -> bool {
        self.s.discard_severity < 8 && size >= self.s.discard_mark
    }

    /// Whether a message of severity `sev` is discarded in such a batch; `known`: whether
    /// its severity was known at enqueue (see `InputKind`), else 7 counts.
    pub fn discard_taken(&self, sev: u8, known: bool) -> bool {
        let sev = if known { sev } else { 7 };
        sev >= self.s.discard_severity
    }

    /// Counts messages discarded by the rules thread (released with their chunk).
    pub fn discarded_at_dequeue(&self, n: usize) {
        if n > 0 {
            self.counters
                .discarded_nf
                .fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

impl MainQueue {
    /// Admits one message of severity `sev` from a rules thread (`call` of a ruleset with its
    /// own queue, src/rsq/: rsyslog's `submitMsg2` with `eFLOWCTL_NO_DELAY`): the discard
    /// mark applies; a full queue makes the calling thread wait up to `timeoutEnqueue` (as
    /// rsyslog's worker does), then the message is dropped. Returns whether it was admitted.
    pub fn admit_one_blocking(&self, sev: u8) -> bool {
        let mut a = Admitted::default();
        let mut full = 0;
        if self.s.discards(self.size(), sev) {
            a.discarded_nf = 1;
        } else if self.try_one() {
            a.kept = 1;
        } else {
            full = 1;
            let until = Instant::now() + self.s.timeout_enqueue;
            let mut ok = false;
            while !self.closing.load(Ordering::Relaxed) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
                if self.try_one() {
                    ok = true;
                    break;
                }
            }
            if ok {
                a.kept = 1;
            } else {
                a.discarded_full = 1;
            }
        }
        self.account(1, &a, full);
        a.kept == 1
    }

    /// Waits until `ok(size)`, `until`, or shutdown.
    async fn wait(&self, until: Instant, ok: &(dyn Fn(usize) -> bool + Sync)) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if ok(self.size()) || self.closing.load(Ordering::SeqCst) || Instant::now() >= until {
                break;
            }
            if tokio::time::timeout_at(until.into(), notified)
                .await
                .is_err()
            {
                break;
            }
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn settings(conf: &str) -> Settings {
        let l = load_text("t.conf", conf);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        Settings::from_config(&l.config)
    }

    #[test]
    fn defaults_and_corrections_as_rsyslog() {
        let s = settings("*.* /tmp/x\n");
        assert_eq!(
            (s.size, s.discard_mark, s.discard_severity),
            (100_000, 98_000, 8)
        );
        assert_eq!((s.light_mark, s.full_mark), (70_000, 97_000));
        assert_eq!(s.timeout_enqueue, Duration::from_millis(2000));
        let s = settings("main_queue(queue.type=\"LinkedList\")\n*.* /tmp/x\n");
        assert_eq!((s.size, s.discard_mark), (50_000, 49_000));
        // tiny queues: the marks become size-1 (delays) and size (discarding)
        let s = settings("main_queue(queue.size=\"10\" queue.discardSeverity=\"4\")\n*.* /tmp/x\n");
        assert_eq!((s.light_mark, s.full_mark, s.discard_mark), (9, 9, 10));
        assert_eq!(s.discard_severity, 4);
        let s = settings("$MainMsgQueueSize 10\n$MainMsgQueueDiscardMark 5\n$MainMsgQueueDiscardSeverity 3\n$MainMsgQueueDequeueBatchSize 64\n*.* /tmp/x\n");
        assert_eq!((s.size, s.discard_mark, s.discard_severity), (10, 5, 3));
        assert_eq!(
            s.dequeue_batch,
            Some(10),
            "batch size capped at the queue size"
        );
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn batch(sevs: &[u8]) -> Batch {
        let mut b = Batch::with_capacity(64, sevs.len());
        for &sev in sevs {
            b.msgs.push(crate::message::Message {
                severity: sev,
                ..Default::default()
            });
        }
        b
    }

    fn queue(size: usize, mark: usize, dsev: u8, toenq: u64) -> Arc<MainQueue> {
        Arc::new(MainQueue {
            s: Settings {
                size,
                dequeue_batch: None,
                dequeue_window: 1024,
                timeout_enqueue: Duration::from_millis(toenq),
                discard_mark: mark,
                discard_severity: dsev,
                light_mark: size,
                full_mark: size,
            },
            size: AtomicUsize::new(0),
            counters: Counters::default(),
            waiters: AtomicUsize::new(0),
            notify: tokio::sync::Notify::new(),
            closing: AtomicBool::new(false),
        })
    }

    #[test]
    fn discard_mark_then_full_message_by_message() {
        let rt = rt();
        let q = queue(10, 5, 4, 0);
        let known = InputKind::INTERNAL;
        let mut b = batch(&[3]);
        assert_eq!(
            rt.block_on(q.admit(&mut b, known, true, &mut NoHandoff))
                .kept,
            1
        );
        // 20 messages alternating severity 3 and 6 into a queue holding one
        let sevs: Vec<u8> = (1..=20).map(|i| if i % 2 == 1 { 3 } else { 6 }).collect();
        let mut b = batch(&sevs);
        let a = rt.block_on(q.admit(&mut b, known, true, &mut NoHandoff));
        assert_eq!((a.kept, a.discarded_nf, a.discarded_full), (9, 8, 3));
        assert_eq!(q.size(), 10);
        assert_eq!(q.counters.enqueued.load(Ordering::SeqCst), 21);
        assert_eq!(q.counters.full.load(Ordering::SeqCst), 3);
        // the first message is run; the rest is taken at size 9 >= 5: the severity-6
        // ones admitted before the mark go now
        q.release(1);
        assert!(q.discarding_at(q.size()));
        let gone = b
            .msgs
            .iter()
            .filter(|m| q.discard_taken(m.severity, true))
            .count();
        assert_eq!(gone, 2);
        assert!(q.discard_taken(0, false), "unknown severity counts as 7");
        // unknown severity (imtcp, imudp): 7 for the discard rules
        let q = queue(10, 1, 7, 0);
        let mut b = batch(&[0, 0, 0]);
        let kind = InputKind {
            flow: Flow::Light,
            severity_known: false,
        };
        assert_eq!(
            rt.block_on(q.admit(&mut b, kind, true, &mut NoHandoff))
                .kept,
            1
        );
    }

    #[test]
    fn timeout_enqueue_waits_for_room() {
        let rt = rt();
        let q = queue(2, 2, 8, 2000);
        let mut b = batch(&[5, 5]);
        assert_eq!(
            rt.block_on(q.admit(&mut b, InputKind::INTERNAL, true, &mut NoHandoff))
                .kept,
            2
        );
        let q2 = q.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            q2.release(2);
        });
        let t0 = Instant::now();
        let mut b = batch(&[5, 5, 5]);
        let a = rt.block_on(q.admit(&mut b, InputKind::INTERNAL, true, &mut NoHandoff));
        assert!(t0.elapsed() >= Duration::from_millis(150));
        assert_eq!(
            (a.kept, a.discarded_full),
            (2, 1),
            "waited 2 s for the third"
        );
        assert!(t0.elapsed() >= Duration::from_millis(1900));
        t.join().unwrap();
    }
}
