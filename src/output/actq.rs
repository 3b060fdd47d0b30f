//! An action queue in memory with its worker thread, and rsyslog 8.2302's action state
//! machine (action.c: `actionDoRetry`, `actionSuspend`, `actionTryResume`), for outputs that
//! talk to the network (omfwd). The rules thread only renders and enqueues; the worker
//! dequeues batches and sends them through a [`Transport`], so a dead or slow target never
//! blocks the rules thread.
//!
//! States: **ready** (sending) → a send fails → **retry**: the transport is re-established
//! (`try_resume`) up to `action.resumeRetryCount` times (-1: forever), `action.resumeInterval`
//! seconds apart; the message that failed is not consumed, it is sent again first → when the
//! retries are used up: **suspended** for `resumeInterval × (n/10 + 1)` seconds (`n`: the
//! suspensions in a row, at most 20), as `actionSuspend`. Like rsyslog, what a suspended
//! action is handed is discarded and counted in impstats' `failed` (with
//! `resumeRetryCount="-1"` an action is never suspended, nothing is discarded but a full
//! queue). When the suspension is over the worker tries to resume by itself (rsyslog waits
//! for the next message), so a failover chain falls back to the primary at once.
//!
//! Queue types: `LinkedList` and `FixedArray` (the same here) hold `queue.size` messages
//! (default 1000, as rsyslog's action queues); the worker takes `queue.dequeueBatchSize`
//! (default 128) at a time. When the queue is full, the rules thread waits for room at most
//! `queue.timeoutEnqueue` ms (default 2000) per message, and only while the worker is sending
//! (a slow target); once such a wait ran out it does not wait again until the worker takes
//! messages, and while the target is down it never waits: what does not fit is discarded,
//! counted in the queue's impstats object (`<action> queue`, `discarded.full`, as queue.c),
//! with one error line per outage. (rsyslog waits `timeoutEnqueue` for every message, so a
//! stuck target slows every other action down to one message per 2 s.)
//!
//! `Direct` (rsyslog's default): rsyslog runs the action on the main queue's worker, so a dead
//! target with retries stalls every other action (rsyslog issue #5216). Here a Direct action
//! is a hand-off of at most 1024 messages to the same kind of worker: while the worker is
//! sending, the rules thread waits for room as above; while it is retrying or suspended, the
//! action reports itself suspended (`previous_action_suspended()`,
//! `action.execOnlyWhenPreviousIsSuspended` — failover chains work as in rsyslog, whose
//! queued actions never report suspension), and the messages it is handed are counted as
//! `failed` instead of being sent (rsyslog would have blocked or, with the default
//! `resumeRetryCount` 0, suspended and failed them too). When the Direct action is the primary
//! of a failover chain (the next action has `action.execOnlyWhenPreviousIsSuspended`), the
//! messages handed over before the failure was known (the batch in hand and the rest of the
//! hand-off) are not failed: the rules thread did not run the secondary for them, so the
//! worker keeps them through the suspension and sends them first when the action resumes —
//! the chain loses nothing at the moment its primary goes away (rsyslog runs the secondary
//! for the message that failed; here it reaches the primary late). Outside a chain they fail
//! as in rsyslog (impstats `failed`).
//!
//! Shutdown: the worker goes on sending until the queue is empty, at most
//! `queue.timeoutShutdown` ms (default 10 for LinkedList/FixedArray as rsyslog's
//! `actq_dflt_toQShutdown`, 1500 for Direct, whose messages rsyslog would still hold in its
//! main queue), then finishes the batch in hand (at most 1 s, rsyslog's
//! `timeoutActionCompletion`); what is left is counted and reported in one error line.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::model::{Action, PValue, Params};

/// The disk part's side of the queue (a child module, so it sees the queue's state).
#[path = "../diskq/actq_hook.rs"]
mod disk_hook;

/// What a queue worker sends through.
pub trait Transport: Send + 'static {
    /// Sends `msgs` in order. On error: how many of them were sent completely, and why.
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)>;
    /// (Re-)establishes the transport (resolve, connect); called in the retry state.
    fn try_resume(&mut self) -> Result<(), String>;
    /// Drops the connection (after an error, at shutdown).
    fn close(&mut self);
    /// `host:port` for messages.
    fn describe(&self) -> String;
    /// Called about once a second while the action is ready and its queue is empty (omkafka
    /// resubmits failed messages here); an error puts the action into the retry state.
    fn idle(&mut self) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Direct,
    Memory,
}

/// The queue and retry settings of one action.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub kind: QueueKind,
    pub size: usize,
    pub batch: usize,
    pub timeout_enqueue: Duration,
    pub timeout_shutdown: Duration,
    pub retry_count: i64,
    pub resume_interval: Duration,
    pub report_suspension: bool,
    /// The action's name (`name=`, else rsyslog's `action-N-builtin:omfwd`).
    pub name: String,
    /// rsyslog's module name, e.g. `builtin:omfwd`.
    pub module: String,
    /// `queue.discardMark` (default 98% of the size) and `queue.discardSeverity` (default
    /// 8: never): from that fill level on, messages of that severity or less important are
    /// discarded when enqueued and when dequeued (queue.c `qqueueChkDiscardMsg`), counted in
    /// the queue's `discarded.nf`.
    pub discard_mark: usize,
    pub discard_severity: u8,
    /// omfwd's `ratelimit.interval` (s, 0: off) and `ratelimit.burst` (default 200): at most
    /// `burst` messages per window of `interval` seconds are sent, the rest is discarded when
    /// the worker takes them (omfwd.c `commitTransaction`, ratelimit.c `withinRatelimit`).
    pub ratelimit_interval: u64,
    pub ratelimit_burst: u64,
    /// `action.resumeIntervalMax` (default 1800 s, 0: no cap): the longest suspension.
    pub resume_interval_max: Duration,
    /// `action.reportSuspensionContinuation` (action, else the global, else on): report
    /// every suspension, not only the first of an outage (action.c `actionSuspend`).
    pub report_continuation: bool,
    /// `queue.timeoutActionCompletion` (default 1000 ms): how long shutdown waits for the
    /// batch the worker has in hand once `timeoutShutdown` has passed.
    pub timeout_action_completion: Duration,
    /// omfwd's `conErrSkip`: of the send-error lines only every n-th is written
    /// (`con_err_report`); 0 and 1 write all.
    pub con_err_skip: u64,
    /// The disk part (`queue.type="Disk"`, or disk-assisted with `queue.filename`;
    /// src/diskq/action.rs).
    pub disk: Option<crate::diskq::action::DiskMode>,
    /// A Direct action followed by one with `action.execOnlyWhenPreviousIsSuspended` (the
    /// primary of a failover chain): what it was handed before a failure was known is kept
    /// through the suspension and sent first on resume, instead of failed (see the module
    /// notes). Set by the output that builds the queue.
    pub keep_handed_on_suspend: bool,
}

/// Hand-off size of a Direct action.
const DIRECT_CAPACITY: usize = 1024;

fn int(p: &Params, name: &str) -> Option<i64> {
    match p.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        Some(PValue::Bool(b)) => Some(*b as i64),
        _ => None,
    }
}

impl QueueSettings {
    /// Whether a message of severity `sev` is discarded at queue size `size`.
    pub fn discards(&self, size: usize, sev: u8) -> bool {
        self.kind == QueueKind::Memory
            && self.discard_mark > 0
            && size >= self.discard_mark
            && sev >= self.discard_severity
    }

    /// Reads `queue.*` and `action.resume*`/`action.reportSuspension` of an action; `index`
    /// is its number in the config (for the default name). Refuses queue types that are not
    /// in memory.
    pub fn from_action(
        a: &Action,
        index: usize,
        module: &str,
        report_default: bool,
    ) -> Result<QueueSettings, String> {
        Self::from_action_with(a, index, module, report_default, true)
    }

    /// `from_action` with the global `action.reportSuspensionContinuation` default.
    pub fn from_action_with(
        a: &Action,
        index: usize,
        module: &str,
        report_default: bool,
        report_continuation_default: bool,
    ) -> Result<QueueSettings, String> {
        let p = &a.params;
        let kind = match p.str("queue.type").map(str::to_ascii_lowercase).as_deref() {
            None | Some("direct") => QueueKind::Direct,
            Some("linkedlist") | Some("fixedarray") | Some("disk") => QueueKind::Memory,
            Some(other) => {
                return Err(format!(
                    "queue.type \"{other}\" is not implemented by the oxsyslogd runtime yet (in-memory queues only: Direct, LinkedList, FixedArray); refusing to start rather than lose its promise"
                ))
            }
        };
        let size = match kind {
            QueueKind::Direct => DIRECT_CAPACITY,
            QueueKind::Memory => int(p, "queue.size").filter(|n| *n > 0).unwrap_or(1000) as usize,
        };
        let batch = int(p, "queue.dequeueBatchSize")
            .filter(|n| *n > 0)
            .unwrap_or(128) as usize;
        let ms = |n: &str, d: i64| Duration::from_millis(int(p, n).unwrap_or(d).max(0) as u64);
        // several workers: omfwd sends each batch through as many connections
        // (src/output/actq_pool.rs); other modules and Direct queues have one
        if let Some(n) = int(p, "queue.workerThreads").filter(|n| *n != 1) {
            let pooled = module == "builtin:omfwd"
                && kind == QueueKind::Memory
                && (2..=super::actq_pool::MAX_WORKERS).contains(&n);
            if !pooled {
                return Err(format!("queue.workerThreads=\"{n}\" is not implemented by the oxsyslogd runtime for this action (omfwd with a LinkedList/FixedArray queue takes 1 to {}; other actions and Direct queues have one worker); refusing to start", super::actq_pool::MAX_WORKERS));
            }
        }
        let discard_mark = match int(p, "queue.discardMark") {
            Some(n) if n >= 1 && (n as usize) <= size => n as usize,
            _ => (size / 100 * 98).max(1).min(size),
        };
        let discard_severity = match p.get("queue.discardSeverity") {
            Some(PValue::Str(s)) => crate::template::props::SEVERITY_NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(s.trim()))
                .map(|v| v as i64)
                .or_else(|| s.trim().parse().ok())
                .unwrap_or(8),
            Some(PValue::Int(n)) => *n,
            _ => 8,
        }
        .clamp(0, 8) as u8;
        Ok(QueueSettings {
            kind,
            size,
            batch,
            timeout_enqueue: ms("queue.timeoutEnqueue", 2000),
            timeout_shutdown: ms(
                "queue.timeoutShutdown",
                if kind == QueueKind::Direct { 1500 } else { 10 },
            ),
            retry_count: int(p, "action.resumeRetryCount").unwrap_or(0).max(-1),
            resume_interval: Duration::from_secs(
                int(p, "action.resumeInterval").unwrap_or(30).max(1) as u64,
            ),
            report_suspension: match p.get("action.reportSuspension") {
                Some(PValue::Bool(b)) => *b,
                _ => report_default,
            },
            name: p
                .str("name")
                .map(str::to_string)
                .unwrap_or_else(|| format!("action-{index}-{module}")),
            module: module.to_string(),
            discard_mark,
            discard_severity,
            ratelimit_interval: int(p, "ratelimit.interval").unwrap_or(0).max(0) as u64,
            ratelimit_burst: int(p, "ratelimit.burst").unwrap_or(200).max(0) as u64,
            resume_interval_max: Duration::from_secs(
                int(p, "action.resumeIntervalMax").unwrap_or(1800).max(0) as u64,
            ),
            report_continuation: match p.get("action.reportSuspensionContinuation") {
                Some(PValue::Bool(b)) => *b,
                _ => report_continuation_default,
            },
            timeout_action_completion: ms("queue.timeoutActionCompletion", 1000),
            con_err_skip: int(p, "conErrSkip").unwrap_or(0).max(0) as u64,
            keep_handed_on_suspend: false,
            disk: match kind {
                QueueKind::Direct => None,
                QueueKind::Memory => crate::diskq::action::DiskMode::from_params(
                    p,
                    p.str("queue.type")
                        .is_some_and(|t| t.eq_ignore_ascii_case("disk")),
                    size,
                )?,
            },
        })
    }
}

const READY: u8 = 0;
const RETRY: u8 = 1;
const SUSPENDED: u8 = 2;

struct Inner {
    /// (severity, rendered message)
    msgs: VecDeque<(u8, Vec<u8>)>,
    /// Messages the worker has taken and not yet sent or given up.
    in_flight: usize,
    closing: bool,
    /// Stop sending (shutdown timeout passed): the worker leaves what is left.
    stop: bool,
    /// A full queue was reported in this outage.
    full_reported: bool,
    /// The rules thread waited `timeoutEnqueue` for room in vain; it does not wait again
    /// until the worker takes messages.
    stuck: bool,
    /// The disk part (src/diskq/), if any.
    disk: Option<crate::diskq::DiskQueue>,
}

/// State shared between the rules thread and the worker.
pub struct Shared {
    inner: Mutex<Inner>,
    /// Signalled when messages arrive or shutdown begins.
    work: Condvar,
    /// Signalled when the worker takes messages (room in the queue).
    room: Condvar,
    state: AtomicU8,
    failed: AtomicU64,
    /// impstats' `suspended`, `suspended.duration`, `resumed`.
    susp: [AtomicU64; 3],
    /// The worker thread has ended.
    done: AtomicBool,
    /// impstats' `<action> queue` object (LinkedList/FixedArray only).
    counters: Option<Arc<crate::stats::QueueCounters>>,
    /// Buffers of sent messages, emptied, for the rules thread to render into again (no
    /// allocation and cross-thread free per message); at most [`SPARE_MAX`].
    spare: Mutex<Vec<Vec<u8>>>,
}

/// How many emptied message buffers the worker keeps for the rules thread, and the largest
/// capacity kept (a buffer grown by one long message is freed).
const SPARE_MAX: usize = 1024;
const SPARE_CAP: usize = 1024;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, f: impl Fn(&crate::stats::QueueCounters)) {
        if let Some(c) = &self.counters {
            f(c)
        }
    }

    /// Publishes the queue's size (waiting and in the worker's hands).
    fn publish_size(&self, g: &Inner) {
        self.count(|c| {
            let n = (g.msgs.len() + g.in_flight) as u64 + g.disk.as_ref().map_or(0, |d| d.unread());
            c.size.store(n, Ordering::Relaxed);
            c.maxqsize.fetch_max(n, Ordering::Relaxed);
        });
    }
}

/// The rules thread's handle on one action queue.
pub struct ActionQueue {
    shared: Arc<Shared>,
    settings: QueueSettings,
    worker: Option<std::thread::JoinHandle<()>>,
    failed_seen: u64,
}

impl ActionQueue {
    /// Starts the worker.
    pub fn start(settings: QueueSettings, transport: Box<dyn Transport>) -> Result<Self, String> {
        let disk = match &settings.disk {
            Some(d) => Some(d.open(&settings.name)?),
            None => None,
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                msgs: VecDeque::with_capacity(settings.size.min(4096)),
                in_flight: 0,
                closing: false,
                stop: false,
                full_reported: false,
                stuck: false,
                disk,
            }),
            work: Condvar::new(),
            room: Condvar::new(),
            state: AtomicU8::new(READY),
            failed: AtomicU64::new(0),
            susp: Default::default(),
            done: AtomicBool::new(false),
            counters: (settings.kind == QueueKind::Memory)
                .then(|| crate::stats::register_queue(&settings.name)),
            spare: Mutex::new(Vec::new()),
        });
        let worker = {
            let shared = shared.clone();
            let settings = settings.clone();
            std::thread::Builder::new()
                .name(format!(
                    "oxsyslogd-{}",
                    settings.module.trim_start_matches("builtin:")
                ))
                .spawn(move || {
                    let mut w = Worker {
                        shared: shared.clone(),
                        s: settings,
                        t: transport,
                        res_rtry: 0,
                        resume_at: None,
                        in_outage: false,
                        rl: (0, 0, 0),
                    };
                    w.run();
                    w.t.close();
                    shared.done.store(true, Ordering::SeqCst);
                    shared.room.notify_all();
                })
                .map_err(|e| format!("cannot start the action's worker thread: {e}"))?
        };
        Ok(ActionQueue {
            shared,
            settings,
            worker: Some(worker),
            failed_seen: 0,
        })
    }

    /// Moves the emptied buffers of sent messages into `into` (to render the next messages
    /// into; see `Shared::spare`).
    pub fn take_spares(&self, into: &mut Vec<Vec<u8>>) {
        let mut s = self.shared.spare.lock().unwrap_or_else(|e| e.into_inner());
        into.append(&mut s);
    }

    /// Whether the action counts as suspended for `execOnlyWhenPreviousIsSuspended`: only a
    /// Direct action that is retrying or suspended (rsyslog's queued actions never are).
    pub fn suspended_now(&self) -> bool {
        self.settings.kind == QueueKind::Direct
            && self.shared.state.load(Ordering::Relaxed) != READY
    }

    /// Hands one batch's messages to the worker (see the module notes for a full queue).
    /// Returns how many were dropped for want of room (not those of a suspended Direct
    /// action, which its retry settings give up, nor discardMark's): imrelp does not
    /// acknowledge a batch that lost messages (src/engine.rs, `Output::lost_total`).
    pub fn enqueue(&mut self, msgs: &mut Vec<(u8, Vec<u8>)>) -> u64 {
        if msgs.is_empty() {
            return 0;
        }
        let mut full_drops = 0u64;
        let sh = &*self.shared;
        let direct = self.settings.kind == QueueKind::Direct;
        let mut g = sh.lock();
        let mut discarded = 0u64;
        for m in msgs.drain(..) {
            let ready = sh.state.load(Ordering::Relaxed) == READY;
            if direct && !ready {
                discarded += 1;
                continue;
            }
            let size = disk_hook::disk_only_size(&self.settings, &g).unwrap_or(g.msgs.len());
            if self.settings.discards(size, m.0) {
                sh.count(|c| {
                    c.discarded_nf.fetch_add(1, Ordering::Relaxed);
                });
                continue;
            }
            if let Some(dm) = &self.settings.disk {
                // a message that does not fit is counted in discarded.full there
                let (kept, g2) = disk_hook::enqueue(sh, dm, &self.settings, g, m);
                g = g2;
                if !kept {
                    full_drops += 1;
                }
                continue;
            }
            let mut keep = true;
            if g.msgs.len() >= self.settings.size {
                sh.count(|c| {
                    c.full.fetch_add(1, Ordering::Relaxed);
                });
            }
            // rsyslog's timeoutEnqueue, per message: how long to wait for room
            let mut deadline: Option<Instant> = None;
            while g.msgs.len() >= self.settings.size {
                let ready = sh.state.load(Ordering::Relaxed) == READY;
                let now = Instant::now();
                let until = *deadline.get_or_insert(now + self.settings.timeout_enqueue);
                if now >= until {
                    g.stuck = true;
                }
                if !ready || g.stuck || sh.done.load(Ordering::Relaxed) {
                    keep = false;
                    break;
                }
                sh.work.notify_one();
                g = sh
                    .room
                    .wait_timeout(g, (until - now).min(Duration::from_millis(100)))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            if keep {
                g.msgs.push_back(m);
                sh.count(|c| {
                    c.enqueued.fetch_add(1, Ordering::Relaxed);
                });
            } else if sh.counters.is_some() {
                sh.count(|c| {
                    c.discarded_full.fetch_add(1, Ordering::Relaxed);
                });
            } else {
                discarded += 1;
            }
            if !keep {
                full_drops += 1;
            }
            if !keep && !g.full_reported {
                g.full_reported = true;
                crate::engine::report_error(format!(
                    "action '{}': queue full ({} messages), discarding messages until the target takes them again",
                    self.settings.name, self.settings.size
                ));
            }
        }
        // records lost to a failed disk write (counted in discarded.full there)
        full_drops += disk_hook::flush(sh, &self.settings, &mut g);
        sh.publish_size(&g);
        drop(g);
        sh.work.notify_one();
        if discarded > 0 {
            sh.failed.fetch_add(discarded, Ordering::Relaxed);
        }
        full_drops
    }

    /// Messages discarded or failed since the start (never reset). (Includes what a suspended
    /// Direct action gave up and failures of the worker after retries, counted as they
    /// happen; for "did this batch lose messages" use `enqueue`'s result.)
    pub fn failed_total(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Messages discarded or failed since the last call.
    pub fn take_failed(&mut self) -> u64 {
        let total = self.shared.failed.load(Ordering::Relaxed);
        let n = total - self.failed_seen;
        self.failed_seen = total;
        n
    }

    pub fn take_suspensions(&mut self) -> [u64; 3] {
        let s = &self.shared.susp;
        [0, 1, 2].map(|i| s[i].swap(0, Ordering::Relaxed))
    }

    /// Drains for at most `queue.timeoutShutdown`, then lets the worker finish the batch in
    /// hand (at most 1 s); returns how many messages were not delivered (also reported).
    pub fn shutdown(&mut self, target: &str) -> u64 {
        self.shutdown_keeping(target, None)
    }

    /// [`ActionQueue::shutdown`]; with `keep`, the messages still queued in memory (after a
    /// disk part took what `queue.saveOnShutdown` saves) are moved there instead of being
    /// counted as not delivered (omkafka writes them to `failedMsgFile`).
    pub fn shutdown_keeping(&mut self, target: &str, keep: Option<&mut Vec<Vec<u8>>>) -> u64 {
        let sh = &*self.shared;
        sh.lock().closing = true;
        sh.work.notify_all();
        let drain_until = Instant::now() + self.settings.timeout_shutdown;
        while !sh.done.load(Ordering::SeqCst) && Instant::now() < drain_until {
            std::thread::sleep(Duration::from_millis(2));
        }
        {
            sh.lock().stop = true;
            sh.work.notify_all();
        }
        let completion = Instant::now() + self.settings.timeout_action_completion;
        while !sh.done.load(Ordering::SeqCst) && Instant::now() < completion {
            std::thread::sleep(Duration::from_millis(2));
        }
        let finished = sh.done.load(Ordering::SeqCst);
        if finished {
            if let Some(w) = self.worker.take() {
                let _ = w.join();
            }
        }
        let mut g = sh.lock();
        disk_hook::save_on_shutdown(&self.settings, &mut g);
        if let Some(k) = keep {
            k.extend(g.msgs.drain(..).map(|m| m.1));
            sh.publish_size(&g);
        }
        let lost = (g.msgs.len() + g.in_flight) as u64;
        if lost > 0 {
            crate::engine::report_error(format!(
                "action '{}': {lost} messages to {target} were not delivered at shutdown (queue.timeoutShutdown {} ms{})",
                self.settings.name,
                self.settings.timeout_shutdown.as_millis(),
                if finished { "" } else { "; the worker did not finish its batch" }
            ));
        }
        lost
    }
}

/// omfwd's `conErrSkip` (omfwd.c): with `skip` > 1 only every `skip`-th send-error line is
/// written, counted across all actions as rsyslog's static counter. `Some(note)` when this one
/// is written (the note says how many follow unwritten); connect errors are never skipped.
fn con_err_report(skip: u64) -> Option<String> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    if skip <= 1 {
        return Some(String::new());
    }
    COUNT
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(skip)
        .then(|| {
            format!(
                "; the next {} connection error messages will be skipped",
                skip - 1
            )
        })
}

struct Worker {
    shared: Arc<Shared>,
    s: QueueSettings,
    t: Box<dyn Transport>,
    /// rsyslog's `iNbrResRtry`: suspensions in a row (at most 20).
    res_rtry: u32,
    resume_at: Option<Instant>,
    /// Failed since the last successful send (one error line per outage).
    in_outage: bool,
    /// Rate limiting: start of the window (unix seconds, 0: none), messages sent in it,
    /// messages dropped in it.
    rl: (i64, u64, u64),
}

impl Worker {
    fn state(&self) -> u8 {
        self.shared.state.load(Ordering::SeqCst)
    }

    fn set_state(&self, s: u8) {
        self.shared.state.store(s, Ordering::SeqCst);
        if s == READY {
            self.shared.lock().full_reported = false;
        }
    }

    fn set_in_flight(&self, n: usize) {
        let mut g = self.shared.lock();
        g.in_flight = n;
        self.shared.publish_size(&g);
    }

    /// ratelimit.c `withinRatelimit` (Linux-like, the system clock each time): whether one
    /// more message may be sent.
    fn within_ratelimit(s: &QueueSettings, rl: &mut (i64, u64, u64), t: &dyn Transport) -> bool {
        let interval = s.ratelimit_interval;
        if interval == 0 {
            return true;
        }
        let now = crate::template::clock::now_unix().0;
        let (begin, done, missed) = rl;
        if *begin == 0 {
            *begin = now;
        }
        if now > *begin + interval as i64 || now < *begin {
            *begin = 0;
            *done = 0;
            if *missed > 0 {
                crate::engine::report_error(format!(
                    "{}: {} messages lost due to rate-limiting ({} allowed within {interval} seconds)",
                    t.describe(),
                    *missed,
                    s.ratelimit_burst
                ));
                *missed = 0;
            }
        }
        if s.ratelimit_burst > *done {
            *done += 1;
            true
        } else {
            *missed += 1;
            if *missed == 1 {
                crate::engine::report_error(format!(
                    "{}: begin to drop messages due to rate-limiting",
                    t.describe()
                ));
            }
            false
        }
    }

    /// Whether the worker must stop now (shutdown timeout passed, or closing while
    /// suspended: nothing will be sent any more).
    fn must_stop(&self, g: &Inner) -> bool {
        g.stop || (g.closing && self.state() == SUSPENDED)
    }

    fn run(&mut self) {
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(self.s.batch);
        let mut from_disk;
        loop {
            {
                let mut g = self.shared.lock();
                loop {
                    if self.must_stop(&g) {
                        return;
                    }
                    if !g.msgs.is_empty() || g.disk.as_ref().is_some_and(|d| d.unread() > 0) {
                        break;
                    }
                    if g.closing {
                        return;
                    }
                    // While suspended, wake at the end of the suspension to resume; a
                    // Direct action retrying (its messages failed meanwhile) goes on trying.
                    if self.state() == RETRY {
                        drop(g);
                        self.retry();
                        g = self.shared.lock();
                        continue;
                    }
                    let wait = match (self.state(), self.resume_at) {
                        (SUSPENDED, Some(t)) => {
                            let now = Instant::now();
                            if now >= t {
                                drop(g);
                                self.retry();
                                g = self.shared.lock();
                                continue;
                            }
                            t - now
                        }
                        _ => Duration::from_secs(1),
                    };
                    let (g2, waited) = self
                        .shared
                        .work
                        .wait_timeout(g, wait)
                        .unwrap_or_else(|e| e.into_inner());
                    g = g2;
                    if waited.timed_out()
                        && self.state() == READY
                        && !g.closing
                        && g.msgs.is_empty()
                        && g.disk.as_ref().is_none_or(|d| d.unread() == 0)
                    {
                        drop(g);
                        if let Err(e) = self.t.idle() {
                            self.send_failed(&e);
                        }
                        g = self.shared.lock();
                    }
                }
                // memory first; the disk part holds the newer messages (src/diskq/action.rs)
                from_disk = g.msgs.is_empty();
                if from_disk {
                    disk_hook::take(&self.shared, &self.s, &mut g, self.s.batch, &mut batch);
                    if self.s.ratelimit_interval > 0 {
                        let (s, rl, t) = (&self.s, &mut self.rl, &*self.t);
                        batch.retain(|_| Self::within_ratelimit(s, rl, t));
                    }
                }
                // queue.discardMark/discardSeverity apply again when messages are taken
                let mut nf = 0;
                while !from_disk && batch.len() < self.s.batch {
                    let size = g.msgs.len();
                    let Some((sev, m)) = g.msgs.pop_front() else {
                        break;
                    };
                    if self.s.discards(size, sev) {
                        nf += 1;
                    } else if Self::within_ratelimit(&self.s, &mut self.rl, &*self.t) {
                        batch.push(m);
                    }
                }
                if nf > 0 {
                    self.shared.count(|c| {
                        c.discarded_nf.fetch_add(nf, Ordering::Relaxed);
                    });
                }
                g.in_flight = batch.len();
                self.shared.publish_size(&g);
                if batch.is_empty() {
                    continue;
                }
                g.stuck = false;
            }
            self.shared.room.notify_all();
            // deliver() clears in_flight when it is done with the batch; a batch it gave up
            // at shutdown stays counted there
            self.deliver(&batch);
            disk_hook::after_deliver(&self.s, &self.shared, from_disk, &batch);
            if !from_disk && self.s.disk.is_none() {
                self.put_back_unsent(&mut batch);
            }
            self.recycle(&mut batch);
        }
    }

    /// When the worker stops with messages of `batch` unsent (the last `in_flight`), puts them
    /// back at the head of the queue, where shutdown finds them (counted as before; omkafka
    /// keeps them in `failedMsgFile`).
    fn put_back_unsent(&self, batch: &mut Vec<Vec<u8>>) {
        let mut g = self.shared.lock();
        let n = g.in_flight.min(batch.len());
        if n == 0 || !self.must_stop(&g) {
            return;
        }
        for m in batch.drain(batch.len() - n..).rev() {
            // the severity only matters for discardMark when enqueued and taken; 0 is never
            // discarded
            g.msgs.push_front((0, m));
        }
        g.in_flight = 0;
        self.shared.publish_size(&g);
    }

    /// Empties `batch`, keeping its buffers for the rules thread (`Shared::spare`).
    fn recycle(&self, batch: &mut Vec<Vec<u8>>) {
        let mut s = self.shared.spare.lock().unwrap_or_else(|e| e.into_inner());
        for mut b in batch.drain(..) {
            if s.len() < SPARE_MAX && b.capacity() <= SPARE_CAP {
                b.clear();
                s.push(b);
            }
        }
    }

    /// Sends one batch, through retries and suspension.
    fn deliver(&mut self, batch: &[Vec<u8>]) {
        let mut off = 0;
        while off < batch.len() {
            if self.must_stop(&self.shared.lock()) {
                return;
            }
            match self.state() {
                SUSPENDED => {
                    let now = Instant::now();
                    let wait = self.resume_at.filter(|t| now < *t).map(|t| t - now);
                    if let (Some(d), QueueKind::Direct, true) =
                        (wait, self.s.kind, self.s.keep_handed_on_suspend)
                    {
                        // these were handed over before the failure was known, so the rules
                        // thread did not run a failover chain's next action for them: kept
                        // and sent first when the action resumes (late, never lost)
                        if !self.sleep(d) {
                            return;
                        }
                        continue;
                    }
                    if wait.is_some() {
                        // rsyslog: a suspended action fails its messages
                        let n = (batch.len() - off) as u64;
                        self.shared.failed.fetch_add(n, Ordering::Relaxed);
                        self.set_in_flight(0);
                        return;
                    }
                    self.retry();
                }
                RETRY => self.retry(),
                _ => match self.t.send(&batch[off..]) {
                    Ok(()) => {
                        off = batch.len();
                        self.set_in_flight(0);
                        self.in_outage = false;
                        self.res_rtry = 0;
                    }
                    Err((n, e)) => {
                        off += n;
                        self.set_in_flight(batch.len() - off);
                        self.send_failed(&e);
                    }
                },
            }
        }
    }

    /// A send (or `Transport::idle`) failed with `e`: close, report once per outage, retry.
    fn send_failed(&mut self, e: &str) {
        self.t.close();
        if !self.in_outage {
            self.in_outage = true;
            if let Some(note) = con_err_report(self.s.con_err_skip) {
                crate::engine::report_error(format!(
                    "{}: error forwarding to {}: {e}; action '{}' retries{note}",
                    self.s.module.trim_start_matches("builtin:"),
                    self.t.describe(),
                    self.s.name
                ));
            }
        }
        self.set_state(RETRY);
    }

    /// Sleeps `d` unless shutdown stops the worker first; false when it must stop.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        let mut g = self.shared.lock();
        loop {
            if self.must_stop(&g) || g.closing && g.msgs.is_empty() && g.in_flight == 0 {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            g = self
                .shared
                .work
                .wait_timeout(g, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// rsyslog's `actionDoRetry`: try to resume, `resumeRetryCount` times (-1: until it
    /// works) `resumeInterval` apart, then suspend.
    fn retry(&mut self) {
        self.set_state(RETRY);
        let mut retries: i64 = 0;
        loop {
            if self.must_stop(&self.shared.lock()) {
                return;
            }
            match self.t.try_resume() {
                Ok(()) => {
                    self.shared.susp[2].fetch_add(1, Ordering::Relaxed);
                    if self.s.report_suspension {
                        crate::engine::report_warning(format!(
                            "action '{}' resumed (module '{}')",
                            self.s.name, self.s.module
                        ));
                    }
                    self.resume_at = None;
                    self.res_rtry = 0;
                    self.set_state(READY);
                    return;
                }
                Err(e) => {
                    if !self.in_outage {
                        self.in_outage = true;
                        crate::engine::report_error(format!(
                            "{}: cannot connect to {}: {e}",
                            self.s.module.trim_start_matches("builtin:"),
                            self.t.describe()
                        ));
                    }
                    if self.s.retry_count != -1 && retries >= self.s.retry_count {
                        self.suspend();
                        return;
                    }
                    retries += 1;
                    if !self.sleep(self.s.resume_interval) {
                        return;
                    }
                }
            }
        }
    }

    /// rsyslog's `actionSuspend`.
    fn suspend(&mut self) {
        let mut d = self.s.resume_interval * (self.res_rtry / 10 + 1);
        if !self.s.resume_interval_max.is_zero() && d > self.s.resume_interval_max {
            d = self.s.resume_interval_max;
        }
        let secs = d.as_secs();
        self.resume_at = Some(Instant::now() + d);
        self.shared.susp[1].fetch_add(secs, Ordering::Relaxed);
        if self.res_rtry == 0 {
            self.shared.susp[0].fetch_add(1, Ordering::Relaxed);
        }
        if self.s.report_continuation || self.s.report_suspension && self.res_rtry == 0 {
            crate::engine::report_warning(format!(
                "action '{}' suspended (module '{}'), next retry in {secs} s, retry nbr {}",
                self.s.name, self.s.module, self.res_rtry
            ));
        }
        if self.res_rtry < 20 {
            self.res_rtry += 1;
        }
        self.set_state(SUSPENDED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport that fails while `down` is set and records what it sent.
    struct Mock {
        down: Arc<AtomicBool>,
        sent: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl Transport for Mock {
        fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
            if self.down.load(Ordering::SeqCst) {
                return Err((0, "down".into()));
            }
            self.sent.lock().unwrap().extend(msgs.iter().cloned());
            Ok(())
        }
        fn try_resume(&mut self) -> Result<(), String> {
            if self.down.load(Ordering::SeqCst) {
                Err("down".into())
            } else {
                Ok(())
            }
        }
        fn close(&mut self) {}
        fn describe(&self) -> String {
            "mock".into()
        }
    }

    fn settings(kind: QueueKind, retry_count: i64) -> QueueSettings {
        QueueSettings {
            kind,
            size: 1000,
            batch: 16,
            timeout_enqueue: Duration::from_millis(100),
            timeout_shutdown: Duration::from_millis(2000),
            retry_count,
            resume_interval: Duration::from_millis(50),
            report_suspension: false,
            name: "t".into(),
            module: "builtin:test".into(),
            discard_mark: 0,
            discard_severity: 8,
            ratelimit_interval: 0,
            ratelimit_burst: 200,
            resume_interval_max: Duration::from_secs(1800),
            report_continuation: false,
            timeout_action_completion: Duration::from_secs(1),
            disk: None,
            con_err_skip: 0,
            keep_handed_on_suspend: false,
        }
    }

    fn msgs(r: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        r.map(|i| i.to_string().into_bytes()).collect()
    }

    fn items(r: std::ops::Range<u32>) -> Vec<(u8, Vec<u8>)> {
        r.map(|i| ((i % 8) as u8, i.to_string().into_bytes()))
            .collect()
    }

    fn wait_for(what: impl Fn() -> bool) {
        let t = Instant::now();
        while !what() {
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn retry_forever_keeps_every_message_in_order() {
        let down = Arc::new(AtomicBool::new(true));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let t = Mock {
            down: down.clone(),
            sent: sent.clone(),
        };
        let mut q = ActionQueue::start(settings(QueueKind::Memory, -1), Box::new(t)).unwrap();
        q.enqueue(&mut items(0..100));
        std::thread::sleep(Duration::from_millis(200));
        assert!(sent.lock().unwrap().is_empty());
        assert!(
            !q.suspended_now(),
            "a queued action never reports suspension"
        );
        down.store(false, Ordering::SeqCst);
        q.enqueue(&mut items(100..200));
        wait_for(|| sent.lock().unwrap().len() == 200);
        assert_eq!(*sent.lock().unwrap(), msgs(0..200));
        assert_eq!(q.take_failed(), 0);
        assert_eq!(q.take_suspensions(), [0, 0, 1]);
        assert_eq!(q.shutdown("mock"), 0);
    }

    #[test]
    fn direct_action_suspends_fails_and_resumes_by_itself() {
        let down = Arc::new(AtomicBool::new(true));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let t = Mock {
            down: down.clone(),
            sent: sent.clone(),
        };
        let mut q = ActionQueue::start(settings(QueueKind::Direct, 0), Box::new(t)).unwrap();
        q.enqueue(&mut items(0..10));
        wait_for(|| q.suspended_now());
        // handed to a suspended Direct action: failed at once
        q.enqueue(&mut items(10..20));
        wait_for(|| q.shared.failed.load(Ordering::SeqCst) == 20);
        assert_eq!(q.take_failed(), 20);
        down.store(false, Ordering::SeqCst);
        // resumes when the suspension ends, without a message
        wait_for(|| !q.suspended_now());
        q.enqueue(&mut items(20..30));
        wait_for(|| sent.lock().unwrap().len() == 10);
        assert_eq!(*sent.lock().unwrap(), msgs(20..30));
        let [suspended, _, resumed] = q.take_suspensions();
        assert_eq!((suspended, resumed), (1, 1));
        assert_eq!(q.shutdown("mock"), 0);
    }

    #[test]
    fn direct_primary_of_a_chain_keeps_what_it_was_handed_through_a_suspension() {
        let down = Arc::new(AtomicBool::new(true));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let t = Mock {
            down: down.clone(),
            sent: sent.clone(),
        };
        let mut s = settings(QueueKind::Direct, 0);
        s.keep_handed_on_suspend = true;
        let mut q = ActionQueue::start(s, Box::new(t)).unwrap();
        q.enqueue(&mut items(0..10));
        wait_for(|| q.suspended_now());
        // handed while suspended: failed (the chain's next action ran for them)
        q.enqueue(&mut items(10..20));
        wait_for(|| q.shared.failed.load(Ordering::SeqCst) == 10);
        assert_eq!(q.take_failed(), 10);
        down.store(false, Ordering::SeqCst);
        wait_for(|| !q.suspended_now());
        q.enqueue(&mut items(20..30));
        wait_for(|| sent.lock().unwrap().len() == 20);
        let mut want = msgs(0..10);
        want.extend(msgs(20..30));
        assert_eq!(
            *sent.lock().unwrap(),
            want,
            "the first ones kept and sent first"
        );
        assert_eq!(q.take_failed(), 0);
        assert_eq!(q.shutdown("mock"), 0);
    }

    #[test]
    fn full_queue_of_a_dead_target_discards_without_waiting() {
        let down = Arc::new(AtomicBool::new(true));
        let t = Mock {
            down,
            sent: Default::default(),
        };
        let mut s = settings(QueueKind::Memory, -1);
        s.size = 10;
        s.timeout_enqueue = Duration::from_secs(10);
        s.timeout_shutdown = Duration::from_millis(10);
        let mut q = ActionQueue::start(s, Box::new(t)).unwrap();
        q.enqueue(&mut items(0..1));
        wait_for(|| q.shared.state.load(Ordering::SeqCst) == RETRY);
        let t0 = Instant::now();
        q.enqueue(&mut items(1..100));
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "waited for a dead target"
        );
        // a full queue is counted as rsyslog's queue.c does, not as action failures
        assert_eq!(q.take_failed(), 0);
        let c = q.shared.counters.clone().unwrap();
        assert_eq!(c.discarded_full.load(Ordering::SeqCst), 89);
        assert_eq!(c.enqueued.load(Ordering::SeqCst), 11);
        assert_eq!(c.maxqsize.load(Ordering::SeqCst), 11);
        // the one in hand and the ten queued are reported at shutdown
        assert_eq!(q.shutdown("mock"), 11);
    }
}

#[cfg(test)]
mod discard_tests {
    use super::*;

    #[test]
    fn discard_mark_and_severity_as_rsyslog() {
        let mut s = QueueSettings {
            kind: QueueKind::Memory,
            size: 100,
            batch: 8,
            timeout_enqueue: Duration::ZERO,
            timeout_shutdown: Duration::ZERO,
            retry_count: 0,
            resume_interval: Duration::from_secs(1),
            report_suspension: false,
            name: String::new(),
            module: String::new(),
            discard_mark: 80,
            discard_severity: 5,
            ratelimit_interval: 0,
            ratelimit_burst: 200,
            resume_interval_max: Duration::from_secs(1800),
            report_continuation: false,
            timeout_action_completion: Duration::from_secs(1),
            disk: None,
            con_err_skip: 0,
            keep_handed_on_suspend: false,
        };
        assert!(!s.discards(79, 7));
        assert!(s.discards(80, 5) && s.discards(99, 7));
        assert!(
            !s.discards(90, 4),
            "more important than discardSeverity: kept"
        );
        s.kind = QueueKind::Direct;
        assert!(!s.discards(99, 7));
    }
}
