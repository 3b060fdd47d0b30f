//! Several rules threads on one queue (`queue.workerThreads` N > 1 on the main queue,
//! `$MainMsgQueueWorkerThreads`, or a ruleset queue), as rsyslog 8.2302 runs N workers over
//! a queue (runtime/queue.c, wti.c). Each thread takes whole batches from the queue's
//! channel, one at a time under a lock ([`Rx`]), and runs them with its own rule state
//! (variables, `script_error()`, the previous action's suspension, its own copy of the
//! rulesets); the actions are shared ([`crate::output::shared`]: one lock per action call,
//! the gate under the same lock). Every message is run once, by the thread that took its
//! batch; within a batch the order is kept, across threads it is not (as in rsyslog).
//!
//! With N = 1 nothing changes: one thread owns the receiver and the actions without locks.
//!
//! All N threads wait on the queue from the start: `queue.workerThreadMinimumMessages` only
//! decides in queue.c when an idle queue wakes another worker (fewer context switches at a
//! low rate); which messages run and how is the same.
//!
//! What rsyslog shares between its workers and oxsyslogd keeps per thread is refused at
//! start with N > 1 ([`check`]): global variables (`$/`), which rsyslog keeps once under a
//! mutex, and `reload_lookup_table`, which here reloads only the calling thread's tables.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::config::model::{Config, PValue, Params, Statement};
use crate::config::syntax::Expr;
use crate::message::Batch;
use crate::output::gate::Gate;
use crate::output::shared::SharedOutput;
use crate::output::Output;

/// The most rules threads one queue may have.
pub const MAX: i64 = 64;

/// `queue.workerThreads` of a queue's parameters (1 without it).
pub fn count(p: &Params) -> usize {
    match p.get("queue.workerThreads") {
        Some(PValue::Int(n)) => (*n).clamp(1, MAX) as usize,
        Some(PValue::Str(s)) => s
            .trim()
            .parse::<i64>()
            .map_or(1, |n| n.clamp(1, MAX) as usize),
        _ => 1,
    }
}

/// Where a rules thread takes its batches from.
pub enum Rx {
    /// The only thread of its queue.
    One(mpsc::Receiver<Batch>),
    /// One of several: the receiver is taken in turn.
    Shared(Arc<Mutex<mpsc::Receiver<Batch>>>),
}

impl Rx {
    /// The next batch; `None` once the queue is closed and empty.
    pub fn next_batch(&mut self) -> Option<Batch> {
        match self {
            Rx::One(r) => r.blocking_recv(),
            // a thread that panicked while waiting left the receiver intact
            Rx::Shared(r) => r.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv(),
        }
    }
}

/// SIGHUP as a rules thread sees it: the queue's signal count, and the count it handled.
pub struct Hup {
    gen: Arc<AtomicU64>,
    seen: u64,
}

impl Hup {
    pub fn new(gen: Arc<AtomicU64>) -> Hup {
        let seen = gen.load(Ordering::SeqCst);
        Hup { gen, seen }
    }

    /// Whether a SIGHUP came since the last call.
    pub fn take(&mut self) -> bool {
        let g = self.gen.load(Ordering::SeqCst);
        std::mem::replace(&mut self.seen, g) != g
    }
}

/// What each of a queue's `n` rules threads starts with: its receiver, its action slots and
/// its gates (empty for shared actions: they keep their gates).
#[allow(clippy::type_complexity)]
pub fn split(
    n: usize,
    rx: mpsc::Receiver<Batch>,
    outputs: Vec<Box<dyn Output>>,
    gates: Vec<Gate>,
    hup_gen: &Arc<AtomicU64>,
) -> Vec<(Rx, Vec<Box<dyn Output>>, Vec<Gate>)> {
    if n <= 1 {
        return vec![(Rx::One(rx), outputs, gates)];
    }
    let rx = Arc::new(Mutex::new(rx));
    let mut per: Vec<Vec<Box<dyn Output>>> = (0..n).map(|_| Vec::new()).collect();
    let mut gates = gates.into_iter();
    for o in outputs {
        let g = gates.next().unwrap_or_default();
        for (w, h) in SharedOutput::split(o, g, n, hup_gen)
            .into_iter()
            .enumerate()
        {
            per[w].push(Box::new(h));
        }
    }
    per.into_iter()
        .map(|outs| (Rx::Shared(rx.clone()), outs, Vec::new()))
        .collect()
}

/// A queue's rules threads, waited for as one.
#[derive(Default)]
pub struct Threads(Vec<std::thread::JoinHandle<()>>);

impl Threads {
    pub fn push(&mut self, t: std::thread::JoinHandle<()>) {
        self.0.push(t);
    }

    /// Whether every thread has ended.
    pub fn is_finished(&self) -> bool {
        self.0.iter().all(|t| t.is_finished())
    }

    pub fn join(self) -> std::thread::Result<()> {
        let mut r = Ok(());
        for t in self.0 {
            if let Err(e) = t.join() {
                r = Err(e);
            }
        }
        r
    }
}

/// Refuses, with N > 1 rules threads on some queue, what rsyslog shares between workers and
/// oxsyslogd would keep per thread.
pub fn check(cfg: &Config) -> Result<(), String> {
    let mut many = cfg
        .main_queue
        .0
        .iter()
        .chain(cfg.rulesets.iter().flat_map(|r| r.params.0.iter()))
        .filter(|s| s.name.eq_ignore_ascii_case("queue.workerThreads"))
        .filter(|s| count(&Params(vec![(*s).clone()])) > 1);
    let Some(w) = many.next() else {
        return Ok(());
    };
    let refuse = |what: &str, r: &str| {
        Err(format!(
            "{}: error: queue.workerThreads > 1 with {what} (ruleset '{r}'): rsyslog shares it between its workers, oxsyslogd's rules threads would each have their own; use one worker thread",
            w.loc
        ))
    };
    for r in &cfg.rulesets {
        let mut found = None;
        walk(&r.body, &mut |s| {
            if found.is_some() {
                return;
            }
            found = match s {
                Statement::ReloadLookupTable(_) => Some("reload_lookup_table"),
                Statement::Set { var, expr, .. } if global(var) || uses_global(expr) => {
                    Some("global variables ($/)")
                }
                Statement::Unset { var } if global(var) => Some("global variables ($/)"),
                Statement::Foreach { var, iter, .. } if global(var) || uses_global(iter) => {
                    Some("global variables ($/)")
                }
                Statement::If { cond, .. } | Statement::CallIndirect(cond) if uses_global(cond) => {
                    Some("global variables ($/)")
                }
                Statement::Filter {
                    filter: crate::config::model::Filter::Prop { prop, .. },
                    ..
                } if global(prop.trim_start_matches('$')) || prop.starts_with("$/") => {
                    Some("global variables ($/)")
                }
                _ => None,
            };
        });
        if let Some(what) = found {
            return refuse(what, &r.name);
        }
    }
    for t in &cfg.templates {
        // a property `$/…` in the template's string or in one of its parts
        if format!("{:?} {:?}", t.params, t.parts).contains("$/") {
            return Err(format!(
                "{}: error: queue.workerThreads > 1 with global variables ($/) in template '{}': rsyslog shares them between its workers, oxsyslogd's rules threads would each have their own; use one worker thread",
                w.loc, t.name
            ));
        }
    }
    Ok(())
}

fn global(var: &str) -> bool {
    var.starts_with('/')
}

fn uses_global(e: &Expr) -> bool {
    match e {
        Expr::Var(v) | Expr::Exists(v) => global(v),
        Expr::Func { args, .. } => args.iter().any(uses_global),
        Expr::Not(x) | Expr::Neg(x) => uses_global(x),
        Expr::Bin(_, a, b) => uses_global(a) || uses_global(b),
        Expr::Num(_) | Expr::Str(_) | Expr::Array(_) => false,
    }
}

fn walk(body: &[Statement], f: &mut impl FnMut(&Statement)) {
    for s in body {
        f(s);
        match s {
            Statement::Filter { body, .. } | Statement::Foreach { body, .. } => walk(body, f),
            Statement::If {
                then_body,
                else_body,
                ..
            } => {
                walk(then_body, f);
                if let Some(e) = else_body {
                    walk(e, f);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn check_of(conf: &str) -> Result<(), String> {
        let l = load_text("t.conf", conf);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        check(&l.config)
    }

    #[test]
    fn globals_and_lookup_reloads_are_refused_with_several_workers_only() {
        let g = "set $/n = 1;\n*.* /tmp/x\n";
        assert!(check_of(g).is_ok());
        let e = check_of(&format!("main_queue(queue.workerThreads=\"4\")\n{g}")).unwrap_err();
        assert!(e.starts_with("t.conf:1:") && e.contains("$/"), "{e}");
        let e = check_of("$MainMsgQueueWorkerThreads 2\nif $/n == 1 then stop\n*.* /tmp/x\n")
            .unwrap_err();
        assert!(e.contains("$/"), "{e}");
        let e = check_of(
            "ruleset(name=\"q\" queue.type=\"LinkedList\" queue.workerThreads=\"2\") { action(type=\"omfile\" file=\"/tmp/q\") }\ntemplate(name=\"t\" type=\"string\" string=\"%$/n%\")\n*.* /tmp/x\n",
        )
        .unwrap_err();
        assert!(e.contains("template 't'"), "{e}");
        assert!(check_of(
            "$MainMsgQueueWorkerThreads 4\nset $.n = 1;\nif $!a == 1 then stop\n*.* /tmp/x\n"
        )
        .is_ok());
    }

    #[test]
    fn worker_counts() {
        let l = load_text(
            "t.conf",
            "main_queue(queue.workerThreads=\"4\")\n*.* /tmp/x\n",
        );
        assert_eq!(count(&l.config.main_queue), 4);
        assert_eq!(count(&Params::default()), 1);
    }

    #[test]
    fn hup_is_seen_once_by_each_thread() {
        let gen = Arc::new(AtomicU64::new(0));
        let (mut a, mut b) = (Hup::new(gen.clone()), Hup::new(gen.clone()));
        assert!(!a.take());
        gen.fetch_add(1, Ordering::SeqCst);
        assert!(a.take() && !a.take());
        assert!(b.take() && !b.take());
    }
}
