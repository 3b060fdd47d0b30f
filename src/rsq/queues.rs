//! The queues of the rulesets that have one (src/rsq/mod.rs): created with their ruleset's
//! parameters, their rules threads' handles, SIGHUP, and the shutdown order (each queue
//! closes once the threads that hand it copies are done).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Forwarder, Plan, Target};
use crate::config::model::{Config, PValue};
use crate::mainq::MainQueue;
use crate::message::Batch;

/// One ruleset queue's pieces, as the engine starts and stops them.
struct Dom {
    q: Arc<MainQueue>,
    /// The engine's own handle: the queue stays open until its callers are done.
    keeper: Option<mpsc::Sender<Batch>>,
    weak: mpsc::WeakSender<Batch>,
    rx: Option<mpsc::Receiver<Batch>>,
    /// SIGHUPs so far (src/workers.rs `Hup`).
    hup: Arc<AtomicU64>,
    abandon: Arc<AtomicBool>,
    /// Its rules threads (`queue.workerThreads`, src/workers.rs).
    thread: Option<crate::workers::Threads>,
    /// `queue.timeoutShutdown` (rsyslog's ruleset default 1500 ms).
    timeout: Duration,
    name: String,
}

/// The queues of the rulesets that have one (domains 1… of the [`Plan`]).
pub struct Queues {
    doms: Vec<Dom>,
}

impl Queues {
    /// Creates each queue with its ruleset's parameters and registers it for impstats.
    pub fn new(cfg: &Config, plan: &Plan) -> Queues {
        let doms = plan.rulesets[1..]
            .iter()
            .map(|&r| {
                let params = &cfg.rulesets[r].params;
                let q =
                    MainQueue::new_unregistered(crate::mainq::Settings::from_params(params, true));
                crate::stats::register_ruleset_queue(&cfg.rulesets[r].name, q.clone());
                let (tx, rx) = mpsc::channel::<Batch>(q.s.channel_batches());
                let timeout = match params.get("queue.timeoutShutdown") {
                    Some(PValue::Int(n)) => (*n).max(0) as u64,
                    Some(PValue::Str(s)) => s.trim().parse().unwrap_or(1500),
                    _ => 1500,
                };
                Dom {
                    q,
                    weak: tx.downgrade(),
                    keeper: Some(tx),
                    rx: Some(rx),
                    hup: Arc::default(),
                    abandon: Arc::default(),
                    thread: None,
                    timeout: Duration::from_millis(timeout),
                    name: cfg.rulesets[r].name.clone(),
                }
            })
            .collect();
        Queues { doms }
    }

    fn dom(&self, d: usize) -> Option<&Dom> {
        d.checked_sub(1).and_then(|i| self.doms.get(i))
    }

    /// The queue an input bound to ruleset `r` enqueues to, when `r` has its own.
    pub fn input_queue(
        &self,
        plan: &Plan,
        r: usize,
    ) -> Option<(mpsc::Sender<Batch>, Arc<MainQueue>)> {
        let d = self.dom(plan.queue_of.get(r).copied().flatten()?)?;
        Some((d.keeper.clone()?, d.q.clone()))
    }

    /// Strong handles of every queue (the engine's tick).
    pub fn senders(&self) -> Vec<mpsc::Sender<Batch>> {
        self.doms.iter().filter_map(|d| d.keeper.clone()).collect()
    }

    /// Domain `d`'s queue (`d >= 1`).
    pub fn queue(&self, d: usize) -> Arc<MainQueue> {
        match self.dom(d) {
            Some(x) => x.q.clone(),
            None => MainQueue::new_unregistered(crate::mainq::Settings::from_params(
                &Default::default(),
                true,
            )),
        }
    }

    pub fn hup(&self, d: usize) -> Arc<AtomicU64> {
        self.dom(d).map(|x| x.hup.clone()).unwrap_or_default()
    }

    pub fn abandon(&self, d: usize) -> Arc<AtomicBool> {
        self.dom(d).map(|x| x.abandon.clone()).unwrap_or_default()
    }

    pub fn take_rx(&mut self, d: usize) -> Option<mpsc::Receiver<Batch>> {
        d.checked_sub(1)
            .and_then(|i| self.doms.get_mut(i))
            .and_then(|x| x.rx.take())
    }

    pub fn set_thread(&mut self, d: usize, t: crate::workers::Threads) {
        if let Some(x) = d.checked_sub(1).and_then(|i| self.doms.get_mut(i)) {
            x.thread = Some(t);
        }
    }

    /// A rules thread's forwarder; `None` when no ruleset has a queue.
    pub fn forwarder(&self, plan: &Plan, lost: &Arc<AtomicU64>) -> Option<Forwarder> {
        if self.doms.is_empty() {
            return None;
        }
        let targets = plan
            .queue_of
            .iter()
            .map(|q| {
                let d = self.dom((*q)?)?;
                Some(Target::new(d.weak.clone(), d.q.clone()))
            })
            .collect();
        Some(Forwarder::new(targets, lost.clone()))
    }

    /// SIGHUP for every ruleset thread.
    pub fn hup_all(&self) {
        for d in &self.doms {
            d.hup.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Shutdown begins: nothing waits for room any more.
    pub fn close(&self) {
        for d in &self.doms {
            d.q.close();
        }
    }

    /// After the main rules thread ended: closes each queue once every thread that hands it
    /// copies has ended (a cycle of calls is closed in config order), then lets its thread
    /// drain it for at most its `queue.timeoutShutdown`; what is left is abandoned and
    /// counted as lost by the thread.
    pub fn shutdown(&mut self, plan: &Plan) {
        let nd = self.doms.len() + 1;
        let mut done = vec![false; nd];
        done[0] = true;
        while done.iter().any(|d| !d) {
            let ready = (1..nd).find(|&d| {
                !done[d]
                    && plan
                        .callers
                        .get(d)
                        .is_none_or(|c| c.iter().all(|c| done[*c] || *c == d))
            });
            // a cycle: the first one still open
            let Some(d) = ready.or_else(|| (1..nd).find(|&d| !done[d])) else {
                break;
            };
            done[d] = true;
            let x = &mut self.doms[d - 1];
            x.keeper = None;
            let Some(t) = x.thread.take() else { continue };
            let deadline = Instant::now() + x.timeout;
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if !t.is_finished() {
                x.abandon.store(true, Ordering::SeqCst);
                let grace = Instant::now() + Duration::from_secs(1);
                while !t.is_finished() && Instant::now() < grace {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                crate::engine::report_error(format!(
                    "shutdown: the rules thread of ruleset '{}' did not end (an action blocks); not waiting for it",
                    x.name
                ));
            }
        }
    }
}
