//! An action shared by the rules threads of one queue (`queue.workerThreads` > 1 on the main
//! queue or a ruleset queue, src/workers.rs): each thread holds a [`SharedOutput`] for it, and
//! every call takes the action's lock — one message through the gate and the action under
//! one lock, so the action keeps rsyslog's per-action serialisation (omfile's mutex) and
//! `execOnlyWhenPreviousIsSuspended` reads the state the message itself left. A thread ends
//! a batch only for the actions it gave messages; SIGHUP reaches the action once per signal
//! whichever thread sees it first; the last thread to stop shuts the action down.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::gate::Gate;
use super::Output;
use crate::message::MsgRef;
use crate::template::RenderEnv;

struct Slot {
    out: Box<dyn Output>,
    gate: Gate,
    /// The SIGHUP generation the action last saw.
    hup_seen: u64,
}

struct Inner {
    slot: Mutex<Slot>,
    /// Threads that have not yet shut it down.
    live: AtomicUsize,
}

fn lock(inner: &Inner) -> MutexGuard<'_, Slot> {
    // an action that panicked holding the lock left its state as it was; the next message
    // still goes to it (the daemon does not stop for one action)
    inner.slot.lock().unwrap_or_else(|e| e.into_inner())
}

/// One rules thread's handle of a shared action.
pub struct SharedOutput {
    inner: Arc<Inner>,
    /// The queue's SIGHUP generation (src/workers.rs): raised once per signal.
    hup_gen: Arc<AtomicU64>,
    /// Whether this thread gave the action a message since its last end of batch.
    touched: bool,
}

impl SharedOutput {
    /// Handles of `out` for `threads` rules threads; `gate` moves in with it.
    pub fn split(
        out: Box<dyn Output>,
        gate: Gate,
        threads: usize,
        hup_gen: &Arc<AtomicU64>,
    ) -> Vec<SharedOutput> {
        let inner = Arc::new(Inner {
            slot: Mutex::new(Slot {
                out,
                gate,
                hup_seen: hup_gen.load(Ordering::SeqCst),
            }),
            live: AtomicUsize::new(threads),
        });
        (0..threads)
            .map(|_| SharedOutput {
                inner: inner.clone(),
                hup_gen: hup_gen.clone(),
                touched: false,
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        lock(&self.inner)
    }
}

impl Output for SharedOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        self.touched = true;
        self.lock().out.process(m, env);
    }

    fn gated(
        &mut self,
        _gate: Option<&mut Gate>,
        prev_suspended: bool,
        now: i64,
        m: MsgRef<'_>,
        env: &RenderEnv,
    ) -> Option<bool> {
        let mut s = lock(&self.inner);
        if !s.gate.admit(prev_suspended, now) {
            return None;
        }
        self.touched = true;
        s.out.process(m, env);
        Some(s.out.suspended_now())
    }

    fn end_batch(&mut self) {
        if std::mem::take(&mut self.touched) {
            self.lock().out.end_batch();
        }
    }

    fn suspended_now(&self) -> bool {
        self.lock().out.suspended_now()
    }

    fn tick(&mut self) {
        self.lock().out.tick();
    }

    fn hup(&mut self) {
        let g = self.hup_gen.load(Ordering::SeqCst);
        let mut s = self.lock();
        if s.hup_seen != g {
            s.hup_seen = g;
            s.out.hup();
        }
    }

    fn take_failed(&mut self) -> u64 {
        self.lock().out.take_failed()
    }

    fn take_suspensions(&mut self) -> [u64; 3] {
        self.lock().out.take_suspensions()
    }

    fn lost_total(&self) -> u64 {
        self.lock().out.lost_total()
    }

    fn shutdown(&mut self) -> u64 {
        self.end_batch();
        if self.inner.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.lock().out.shutdown()
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reaches it.
    struct Count(Arc<Mutex<Vec<&'static str>>>);

    impl Output for Count {
        fn process(&mut self, _m: MsgRef<'_>, _env: &RenderEnv) {
            self.0.lock().unwrap().push("msg");
        }
        fn end_batch(&mut self) {
            self.0.lock().unwrap().push("end");
        }
        fn hup(&mut self) {
            self.0.lock().unwrap().push("hup");
        }
        fn shutdown(&mut self) -> u64 {
            self.0.lock().unwrap().push("shutdown");
            0
        }
    }

    #[test]
    fn hup_once_per_signal_end_batch_only_when_used_shutdown_by_the_last() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let gen = Arc::new(AtomicU64::new(0));
        let mut h = SharedOutput::split(Box::new(Count(log.clone())), Gate::default(), 3, &gen);
        // a thread that gave it nothing does not end its batch
        h[1].end_batch();
        assert!(log.lock().unwrap().is_empty());
        gen.fetch_add(1, Ordering::SeqCst);
        for x in h.iter_mut() {
            x.hup();
        }
        h[0].shutdown();
        h[1].shutdown();
        assert_eq!(*log.lock().unwrap(), vec!["hup"]);
        h[2].shutdown();
        assert_eq!(*log.lock().unwrap(), vec!["hup", "shutdown"]);
    }
}
