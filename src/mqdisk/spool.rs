//! The spooler: one thread between a queue's channel (what inputs admitted) and its rules
//! thread, for a main or ruleset queue with `queue.filename`. Disk-assisted (an in-memory
//! type): batches pass through in memory until the queue holds `queue.highWatermark`
//! messages; from then on every new batch (and those still waiting) is written to the disk
//! queue and leaves memory, and the rules thread is fed from disk, in order, until the disk
//! part is empty and the queue is below `queue.lowWatermark`. `queue.type="Disk"`: every
//! batch goes through disk. Records read from disk are committed only once the rules thread
//! has run them (a crash runs them again: duplicates, never loss).
//!
//! When the disk refuses a batch (`queue.maxDiskSpace`, ENOSPC) the batch stays in memory,
//! still counted in the queue's size, so inputs are pushed back by the queue's usual rules;
//! the episode is reported once when it starts and once when it ends.
//!
//! Shutdown: what is still in memory — waiting here, or handed to a rules thread that did not
//! finish it within `queue.timeoutShutdown` — is written to disk with `queue.saveOnShutdown`
//! (the next start runs it first), else reported by count. Batches handed over from disk
//! and not finished stay uncommitted on disk.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::codec;
use crate::diskq::action::DiskMode;
use crate::diskq::{DiskQueue, Push};
use crate::mainq::MainQueue;
use crate::message::Batch;

/// What the rules threads and the engine tell the spooler.
#[derive(Default)]
pub struct Ctl {
    /// The numbers (`Batch::spool_seq`) of batches the rules threads have finished.
    done: Mutex<Vec<u64>>,
    stop: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Ctl {
    /// A rules thread finished the batch numbered `seq` (0: not from the spooler).
    pub fn batch_done(&self, seq: u64) {
        if seq == 0 {
            return;
        }
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(seq);
        self.wake.notify_one();
    }

    /// Shutdown: stop handing batches out, save (or count) what memory holds, end.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// A batch in the rules thread's hands.
enum Flight {
    /// From memory: its records (u32 length + record each) when they are to be saved at
    /// shutdown, and its message count.
    Mem(Vec<u8>, usize),
    /// From disk (uncommitted until done): the read position after its records and how
    /// many records it took from the disk queue.
    Disk(crate::diskq::state::State, u64),
}

/// A batch handed to a rules thread: its number, what it is, whether it is done.
struct Out {
    seq: u64,
    f: Flight,
    done: bool,
}

pub(super) struct Spool {
    pub name: String,
    pub dq: DiskQueue,
    pub dm: DiskMode,
    pub mq: Arc<MainQueue>,
    pub ctl: Arc<Ctl>,
    pub out: mpsc::Sender<Batch>,
    pub pool: Arc<Mutex<Vec<Batch>>>,
    /// Messages per batch read from disk.
    pub batch_max: usize,
    /// Starts in disk mode (records recovered, or a Disk queue).
    pub disk_mode: bool,
}

struct State {
    sp: Spool,
    pending: VecDeque<Batch>,
    /// Batches handed to the rules threads, in order, until they and all before them are
    /// done.
    flight: VecDeque<Out>,
    next_seq: u64,
    done: Vec<u64>,
    full_reported: bool,
    commit_failing: bool,
    enc: Vec<u8>,
    recs: Vec<Vec<u8>>,
    /// Emptied copy buffers of memory batches, for reuse.
    spare_recs: Vec<Vec<u8>>,
}

impl State {
    fn report(&self, text: String) {
        crate::engine::report_error(format!("{}: {text}", self.sp.name));
    }

    fn spare(&self) -> Batch {
        self.sp
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default()
    }

    fn recycle(&self, mut b: Batch) {
        b.clear();
        if let Ok(mut p) = self.sp.pool.lock() {
            if p.len() < 256 {
                p.push(b);
            }
        }
    }

    /// Takes note of batches the rules thread finished; commits disk records once none
    /// read from disk is in its hands.
    fn reap(&mut self) {
        std::mem::swap(
            &mut self.done,
            &mut self.sp.ctl.done.lock().unwrap_or_else(|e| e.into_inner()),
        );
        for seq in self.done.drain(..) {
            if let Some(f) = self.flight.iter_mut().find(|f| f.seq == seq) {
                f.done = true;
            }
        }
        // disk records are confirmed in the order they were read: up to the first batch
        // still out
        let mut upto = None;
        let mut n = 0;
        while self.flight.front().is_some_and(|f| f.done) {
            match self.flight.pop_front().map(|o| o.f) {
                Some(Flight::Disk(pos, k)) => {
                    upto = Some(pos);
                    n += k;
                }
                Some(Flight::Mem(mut recs, _)) if self.spare_recs.len() < 8 => {
                    recs.clear();
                    self.spare_recs.push(recs);
                }
                _ => {}
            }
        }
        if let Some(pos) = upto {
            match self.sp.dq.commit_part(pos, n) {
                Ok(()) => self.commit_failing = false,
                Err(e) if !self.commit_failing => {
                    self.commit_failing = true;
                    self.report(format!("cannot write the queue's state file: {e}"));
                }
                Err(_) => {}
            }
        }
    }

    /// Writes waiting batches to disk, oldest first, until one does not fit.
    fn spill(&mut self) {
        while let Some(mut b) = self.pending.pop_front() {
            let before = self.sp.dq.len();
            let mut res = Ok(());
            for i in 0..b.len() {
                self.enc.clear();
                codec::encode(&b, i, &mut self.enc);
                res = self.sp.dq.push(&[&self.enc]);
                if res.is_err() {
                    break;
                }
            }
            if res.is_ok() {
                res = self.sp.dq.flush();
            } else {
                let _ = self.sp.dq.flush();
            }
            let written = (self.sp.dq.len().saturating_sub(before) as usize).min(b.len());
            self.sp.mq.release(written);
            match res {
                Ok(()) => {
                    if let Some(c) = b.done.take() {
                        c.done();
                    }
                    self.recycle(b);
                }
                Err(e) => {
                    b.msgs.drain(..written);
                    if !b.locals.is_empty() {
                        b.locals.drain(..written.min(b.locals.len()));
                    }
                    self.sp.dq.note_write_failure();
                    if !self.full_reported {
                        self.full_reported = true;
                        let why = match e {
                            Push::Full => format!(
                                "queue.maxDiskSpace ({} bytes) reached",
                                self.sp.dq.settings().max_disk_space
                            ),
                            Push::Io { err, .. } => format!("write failed: {err}"),
                        };
                        self.report(format!(
                            "disk queue {}: {why}; messages stay in memory and inputs are held back until it takes them again",
                            self.sp.dq.settings().dir.join(&self.sp.dq.settings().name).display()
                        ));
                    }
                    self.pending.push_front(b);
                    return;
                }
            }
        }
    }

    fn arrive(&mut self, b: Batch) {
        if b.is_empty() {
            // the periodic tick: on to the rules thread if there is room, else dropped
            let _ = self.sp.out.try_send(b);
            return;
        }
        if !self.sp.disk_mode && (self.sp.dm.only || self.sp.mq.size() >= self.sp.dm.high_watermark)
        {
            self.sp.disk_mode = true;
        }
        self.pending.push_back(b);
        if self.sp.disk_mode {
            self.spill();
        }
    }

    /// The next batch for the rules thread, if any may go now.
    fn next_out(&mut self) -> Option<Batch> {
        if self.sp.disk_mode
            && !self.sp.dm.only
            && self.sp.dq.is_empty()
            && self.sp.mq.size() <= self.sp.dm.low_watermark
        {
            self.sp.disk_mode = false;
        }
        if !self.sp.disk_mode || self.sp.dq.is_empty() {
            // memory (in disk mode only what the disk refused while it holds nothing)
            let b = self.pending.pop_front()?;
            let mut recs = self.spare_recs.pop().unwrap_or_default();
            if self.sp.dm.save_on_shutdown {
                for i in 0..b.len() {
                    self.enc.clear();
                    codec::encode(&b, i, &mut self.enc);
                    recs.extend_from_slice(&(self.enc.len() as u32).to_le_bytes());
                    recs.extend_from_slice(&self.enc);
                }
            }
            let n = b.len();
            return Some(self.hand(b, Flight::Mem(recs, n)));
        }
        // from disk: after the memory batches handed out before (order)
        if self.mem_in_flight() || self.sp.dq.unread() == 0 {
            return None;
        }
        self.recs.clear();
        let before = self.sp.dq.read_uncommitted();
        let (_, lost) = self.sp.dq.read(self.sp.batch_max, &mut self.recs);
        let taken = self.sp.dq.read_uncommitted() - before;
        let pos = self.sp.dq.read_position();
        if lost > 0 {
            self.report(format!(
                "{lost} message(s) lost in a damaged disk queue segment"
            ));
        }
        let mut b = self.spare();
        let mut bad = 0;
        for r in &self.recs {
            if codec::decode(r, &mut b).is_err() {
                bad += 1;
            }
        }
        if bad > 0 {
            self.report(format!(
                "{bad} record(s) of the disk queue are not messages of this queue; skipped"
            ));
        }
        if b.is_empty() {
            // nothing usable: done with these records (confirmed in their turn)
            self.recycle(b);
            self.next_seq += 1;
            self.flight.push_back(Out {
                seq: self.next_seq,
                f: Flight::Disk(pos, taken),
                done: true,
            });
            return None;
        }
        self.sp.mq.hold(b.len());
        Some(self.hand(b, Flight::Disk(pos, taken)))
    }

    fn mem_in_flight(&self) -> bool {
        self.flight
            .iter()
            .any(|f| !f.done && matches!(f.f, Flight::Mem(..)))
    }

    /// Numbers a batch handed to a rules thread.
    fn hand(&mut self, mut b: Batch, f: Flight) -> Batch {
        self.next_seq += 1;
        b.spool_seq = self.next_seq;
        self.flight.push_back(Out {
            seq: self.next_seq,
            f,
            done: false,
        });
        b
    }

    fn has_out(&self) -> bool {
        if !self.sp.disk_mode || self.sp.dq.is_empty() {
            !self.pending.is_empty()
        } else {
            self.sp.dq.unread() > 0 && !self.mem_in_flight()
        }
    }

    /// Shutdown: memory to disk (saveOnShutdown) or counted; the state written.
    fn finish(&mut self, rx: &mut mpsc::Receiver<Batch>) {
        self.reap();
        while let Ok(b) = rx.try_recv() {
            if !b.is_empty() {
                self.pending.push_back(b);
            }
        }
        let mut saved = 0u64;
        let mut lost = 0u64;
        let flights: Vec<Out> = self.flight.drain(..).collect();
        let save = self.sp.dm.save_on_shutdown;
        for f in flights {
            let Out {
                f: Flight::Mem(recs, n),
                done: false,
                ..
            } = f
            else {
                continue;
            };
            if !save {
                lost += n as u64;
                continue;
            }
            let mut at = 0;
            while at + 4 <= recs.len() {
                let len = u32::from_le_bytes([recs[at], recs[at + 1], recs[at + 2], recs[at + 3]])
                    as usize;
                let r = &recs[at + 4..(at + 4 + len).min(recs.len())];
                at += 4 + len;
                match self.sp.dq.push(&[r]) {
                    Ok(()) => saved += 1,
                    Err(_) => lost += 1,
                }
            }
        }
        while let Some(b) = self.pending.pop_front() {
            for i in 0..b.len() {
                if !save {
                    lost += 1;
                    continue;
                }
                self.enc.clear();
                codec::encode(&b, i, &mut self.enc);
                match self.sp.dq.push(&[&self.enc]) {
                    Ok(()) => saved += 1,
                    Err(_) => lost += 1,
                }
            }
        }
        if let Err(Push::Io { lost: l, err }) = self.sp.dq.flush() {
            saved = saved.saturating_sub(l);
            lost += l;
            self.report(format!("shutdown: writing the disk queue failed: {err}"));
        }
        if let Err(e) = self.sp.dq.checkpoint() {
            self.report(format!(
                "shutdown: cannot write the queue's state file: {e}"
            ));
        }
        if saved > 0 {
            crate::engine::report_warning(format!(
                "{}: shutdown: {saved} message(s) not yet processed saved to the disk queue; they are processed first at the next start",
                self.sp.name
            ));
        }
        if lost > 0 {
            self.report(format!(
                "shutdown: {lost} message(s) not processed and not saved ({})",
                if save {
                    "the disk queue refused them"
                } else {
                    "queue.saveOnShutdown is off"
                }
            ));
        }
    }
}

/// Runs the spooler until the queue's channel is closed and everything is run, or
/// [`Ctl::stop`].
pub(super) fn run(sp: Spool, mut rx: mpsc::Receiver<Batch>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::engine::report_error(format!("{}: cannot start the spooler: {e}", sp.name));
            return;
        }
    };
    let mut st = State {
        sp,
        pending: VecDeque::new(),
        flight: VecDeque::new(),
        next_seq: 0,
        done: Vec::new(),
        full_reported: false,
        commit_failing: false,
        enc: Vec::with_capacity(4096),
        recs: Vec::new(),
        spare_recs: Vec::new(),
    };
    let ctl = st.sp.ctl.clone();
    let out = st.sp.out.clone();
    rt.block_on(async {
        let mut closed = false;
        loop {
            let woken = ctl.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            st.reap();
            if ctl.stop.load(Ordering::SeqCst) {
                break;
            }
            if st.full_reported && st.pending.is_empty() {
                // everything the disk refused is written (or run) now
                st.full_reported = false;
                st.report("the disk queue takes messages again".into());
            }
            if st.sp.disk_mode && !st.pending.is_empty() && !st.sp.dq.is_empty() {
                st.spill();
            }
            if closed && st.pending.is_empty() && st.flight.is_empty() && st.sp.dq.unread() == 0 {
                break;
            }
            let want = st.has_out();
            tokio::select! {
                b = rx.recv(), if !closed => match b {
                    Some(b) => st.arrive(b),
                    None => closed = true,
                },
                permit = out.reserve(), if want => match permit {
                    Ok(p) => {
                        if let Some(b) = st.next_out() {
                            p.send(b);
                        }
                    }
                    // the rules thread is gone
                    Err(_) => break,
                },
                _ = &mut woken => {}
                // retry a refused disk write
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    });
    st.finish(&mut rx);
}
