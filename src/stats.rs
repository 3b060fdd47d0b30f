//! Counters for impstats (rsyslog's statsobj): per input `submitted`; per action
//! `processed`, `failed` (messages the output lost) and `suspended`/`suspended.duration`/
//! `resumed`; the main queue's `size`, `enqueued`, `full`, `discarded.full`, `discarded.nf`
//! and `maxqsize` (rsyslog's queue.c, counted in messages, kept by src/mainq.rs); omfwd's
//! `bytes.sent` and its action queues' counters, which src/output registers itself. Only
//! allocated when impstats is loaded. The
//! processing thread counts into plain local arrays and adds them here once per batch, so the
//! hot path pays nothing when impstats is off and a few atomics per batch when on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::config::model::Config;

pub struct Counter {
    /// The statsobj name (`imtcp(514)`, `action-0-builtin:omfile`, …).
    pub name: String,
    pub origin: String,
    pub value: AtomicU64,
    pub failed: AtomicU64,
    /// Actions: `suspended`, `suspended.duration`, `resumed`.
    pub susp: [AtomicU64; 3],
}

impl Counter {
    fn new(name: String, origin: &str) -> Counter {
        Counter {
            name,
            origin: origin.to_string(),
            value: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            susp: Default::default(),
        }
    }
}

pub struct Stats {
    /// Indexed like the engine's input table (0 = the daemon's internal messages, no line).
    pub inputs: Vec<Counter>,
    pub actions: Vec<Counter>,
}

/// One statistics object: name, origin, counters.
type StatsObj = (String, String, Vec<(&'static str, u64)>);

/// The counters of an action queue in memory (rsyslog's `<action> queue`, origin
/// `core.queue`), kept by src/output/actq.rs.
#[derive(Default)]
pub struct QueueCounters {
    pub size: AtomicU64,
    pub enqueued: AtomicU64,
    pub full: AtomicU64,
    pub discarded_full: AtomicU64,
    pub discarded_nf: AtomicU64,
    pub maxqsize: AtomicU64,
}

enum Extra {
    /// omfwd's per-target object (`TCP-host-port`, origin `omfwd`, `bytes.sent`), listed
    /// just before its action's object.
    Bytes(usize, String, Arc<AtomicU64>),
    /// An action queue, listed after `resource-usage` (rsyslog starts them later).
    Queue(String, Arc<QueueCounters>),
    /// A module's own object (omkafka's `omkafka`): name, origin, counter names and values,
    /// listed before the actions (rsyslog registers it when the module loads).
    Named(
        String,
        &'static str,
        &'static [&'static str],
        Arc<[AtomicU64]>,
    ),
}

/// Counters outputs register for themselves when they are built (before the registry).
static EXTRA: std::sync::Mutex<Vec<Extra>> = std::sync::Mutex::new(Vec::new());

/// Registers omfwd's `bytes.sent` object of action number `action`.
pub fn register_bytes(action: usize, name: String) -> Arc<AtomicU64> {
    let c = Arc::new(AtomicU64::new(0));
    if let Ok(mut e) = EXTRA.lock() {
        e.push(Extra::Bytes(action, name, c.clone()));
    }
    c
}

/// Registers an action queue's object (`name` is the action's name).
pub fn register_queue(name: &str) -> Arc<QueueCounters> {
    let c = Arc::new(QueueCounters::default());
    if let Ok(mut e) = EXTRA.lock() {
        e.push(Extra::Queue(format!("{name} queue"), c.clone()));
    }
    c
}

/// Rulesets' own queues (src/rsq/): the ruleset's name and its queue.
type RulesetQueues = Vec<(String, Arc<crate::mainq::MainQueue>)>;
static RULESET_QUEUES: std::sync::Mutex<RulesetQueues> = std::sync::Mutex::new(Vec::new());

/// Registers a ruleset's queue (impstats object named like the ruleset, origin
/// `core.queue`, as queue.c names a queue's statsobj after the queue).
pub fn register_ruleset_queue(name: &str, q: Arc<crate::mainq::MainQueue>) {
    if let Ok(mut r) = RULESET_QUEUES.lock() {
        r.push((name.to_string(), q));
    }
}

/// Registers a module's own statistics object (see `Extra::Named`).
pub fn register_named(
    name: &str,
    origin: &'static str,
    names: &'static [&'static str],
    values: Arc<[AtomicU64]>,
) {
    if let Ok(mut e) = EXTRA.lock() {
        e.push(Extra::Named(name.to_string(), origin, names, values));
    }
}

static STATS: OnceLock<Arc<Stats>> = OnceLock::new();

/// The registry, when impstats is loaded and the engine has created it.
pub fn get() -> Option<Arc<Stats>> {
    STATS.get().cloned()
}

/// rsyslog's built-in output modules (named `builtin:…` in statistics).
const BUILTIN: &[&str] = &[
    "omfile",
    "omfwd",
    "omdiscard",
    "ompipe",
    "omusrmsg",
    "omshell",
];

/// Creates the registry when the config loads impstats. `inputs`: per engine input index
/// (0 = internal) its statsobj name and origin; `None` = no counter line.
pub fn init(cfg: &Config, inputs: Vec<Option<(String, String)>>) -> Option<Arc<Stats>> {
    cfg.module("impstats")?;
    let inputs = inputs
        .into_iter()
        .map(|i| match i {
            Some((n, o)) => Counter::new(n, &o),
            None => Counter::new(String::new(), ""),
        })
        .collect();
    let actions = cfg
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let name = match a.params.str("name") {
                Some(n) => n.to_string(),
                None if BUILTIN.contains(&a.module) => format!("action-{i}-builtin:{}", a.module),
                None => format!("action-{i}-{}", a.module),
            };
            Counter::new(name, "core.action")
        })
        .collect();
    let s = Arc::new(Stats { inputs, actions });
    let _ = STATS.set(s.clone());
    STATS.get().cloned()
}

/// `n` messages of input `input` that the main queue discarded at enqueue (they count as
/// submitted, as rsyslog's inputs count before they enqueue).
pub fn submitted_discarded(input: u16, n: usize) {
    if let Some(c) = STATS.get().and_then(|s| s.inputs.get(input as usize)) {
        c.value.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Per-batch tallies kept by the processing thread.
#[derive(Default)]
pub struct Tally {
    pub inputs: Vec<u64>,
    pub actions: Vec<u64>,
    pub failed: Vec<u64>,
    pub susp: Vec<[u64; 3]>,
}

impl Tally {
    pub fn new(s: &Stats) -> Tally {
        Tally {
            inputs: vec![0; s.inputs.len()],
            actions: vec![0; s.actions.len()],
            failed: vec![0; s.actions.len()],
            susp: vec![[0; 3]; s.actions.len()],
        }
    }

    /// Collects the messages each action could not write (action `failed`).
    pub fn take_failed(&mut self, outputs: &mut [Box<dyn crate::output::Output>]) {
        for ((n, s), o) in self
            .failed
            .iter_mut()
            .zip(self.susp.iter_mut())
            .zip(outputs.iter_mut())
        {
            *n += o.take_failed();
            for (a, b) in s.iter_mut().zip(o.take_suspensions()) {
                *a += b;
            }
        }
    }

    /// Adds the batch's counts to the registry and clears them.
    pub fn flush(&mut self, s: &Stats) {
        for (c, n) in s.inputs.iter().zip(self.inputs.iter_mut()) {
            if *n > 0 {
                c.value.fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
        for (c, n) in s.actions.iter().zip(self.actions.iter_mut()) {
            if *n > 0 {
                c.value.fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
        for (c, n) in s.actions.iter().zip(self.failed.iter_mut()) {
            if *n > 0 {
                c.failed.fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
        for (c, n) in s.actions.iter().zip(self.susp.iter_mut()) {
            for (a, v) in c.susp.iter().zip(n.iter_mut()) {
                if *v > 0 {
                    a.fetch_add(*v, Ordering::Relaxed);
                    *v = 0;
                }
            }
        }
    }
}

impl Stats {
    /// The statistics lines in rsyslog's `legacy` format (each ends with a space, as
    /// statsobj writes them) or `json`, in statsobj's registration order.
    pub fn lines(&self, json: bool, reset: bool) -> Vec<String> {
        let mut v = Vec::new();
        self.each_line(json, reset, |l| v.push(l));
        v
    }

    /// Like `lines`, handing each line to `emit` as it is made: the main queue's counters are
    /// read after the earlier lines were emitted, as rsyslog's impstats submits each line to
    /// the main queue before it formats the next (its `main Q` line counts the block's
    /// earlier lines).
    pub fn each_line(&self, json: bool, reset: bool, mut emit: impl FnMut(String)) {
        let take = |a: &AtomicU64| {
            if reset {
                a.swap(0, Ordering::Relaxed)
            } else {
                a.load(Ordering::Relaxed)
            }
        };
        let mut out: Vec<StatsObj> = vec![
            ("global".into(), "dynstats".into(), vec![]),
            ("global".into(), "percentile".into(), vec![]),
        ];
        let extra = EXTRA.lock();
        let extra = extra.as_deref().map_or(&[][..], |e| &e[..]);
        for x in extra {
            if let Extra::Named(name, origin, names, values) = x {
                let ctrs = names
                    .iter()
                    .zip(values.iter())
                    .map(|(n, v)| (*n, take(v)))
                    .collect();
                out.push((name.clone(), origin.to_string(), ctrs));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            for x in extra {
                if let Extra::Bytes(n, name, c) = x {
                    if *n == i {
                        out.push((name.clone(), "omfwd".into(), vec![("bytes.sent", take(c))]));
                    }
                }
            }
            out.push((
                a.name.clone(),
                a.origin.clone(),
                vec![
                    ("processed", take(&a.value)),
                    ("failed", take(&a.failed)),
                    ("suspended", take(&a.susp[0])),
                    // not resettable in action.c
                    ("suspended.duration", a.susp[1].load(Ordering::Relaxed)),
                    ("resumed", take(&a.susp[2])),
                ],
            ));
        }
        for i in self.inputs.iter().filter(|i| !i.name.is_empty()) {
            out.push((
                i.name.clone(),
                i.origin.clone(),
                vec![("submitted", take(&i.value))],
            ));
        }
        out.push(("resource-usage".into(), "impstats".into(), resource_usage()));
        for x in extra {
            if let Extra::Queue(name, q) = x {
                out.push((
                    name.clone(),
                    "core.queue".into(),
                    vec![
                        ("size", q.size.load(Ordering::Relaxed)),
                        ("enqueued", take(&q.enqueued)),
                        ("full", take(&q.full)),
                        ("discarded.full", take(&q.discarded_full)),
                        ("discarded.nf", take(&q.discarded_nf)),
                        ("maxqsize", q.maxqsize.load(Ordering::Relaxed)),
                    ],
                ));
            }
        }
        for o in out {
            emit(format_obj(o, json));
        }
        // rulesets' own queues (src/rsq/), started after the action queues and before
        // the main queue (rsconf.c activate), named like their ruleset
        if let Ok(rq) = RULESET_QUEUES.lock() {
            for (name, q) in rq.iter() {
                let c = &q.counters;
                emit(format_obj(
                    (
                        name.clone(),
                        "core.queue".into(),
                        vec![
                            ("size", q.size() as u64),
                            ("enqueued", take(&c.enqueued)),
                            ("full", take(&c.full)),
                            ("discarded.full", take(&c.discarded_full)),
                            ("discarded.nf", take(&c.discarded_nf)),
                            ("maxqsize", c.maxqsize.load(Ordering::Relaxed)),
                        ],
                    ),
                    json,
                ));
            }
        }
        // the main queue's counters (src/mainq.rs); size and maxqsize are not resettable
        // (CTR_FLAG_NONE in queue.c)
        let zero = AtomicU64::new(0);
        let (size, c) = match crate::mainq::get() {
            Some(q) => (q.size() as u64, Some(&q.counters)),
            None => (0, None),
        };
        let ctr = |f: fn(&crate::mainq::Counters) -> &AtomicU64| c.map_or(&zero, f);
        emit(format_obj(
            (
                "main Q".into(),
                "core.queue".into(),
                vec![
                    ("size", size),
                    ("enqueued", take(ctr(|c| &c.enqueued))),
                    ("full", take(ctr(|c| &c.full))),
                    ("discarded.full", take(ctr(|c| &c.discarded_full))),
                    ("discarded.nf", take(ctr(|c| &c.discarded_nf))),
                    ("maxqsize", ctr(|c| &c.maxqsize).load(Ordering::Relaxed)),
                ],
            ),
            json,
        ));
    }
}

fn format_obj((name, origin, ctrs): StatsObj, json: bool) -> String {
    if json {
        let mut s = format!(
            "{{ \"name\": \"{}\", \"origin\": \"{}\"",
            json_escape(&name),
            json_escape(&origin)
        );
        for (k, v) in &ctrs {
            s += &format!(", \"{k}\": {v}");
        }
        if name == "global" {
            // dynstats/percentile report under a "values" namespace
            s += ", \"values\": { }";
        }
        s + " }"
    } else {
        let mut s = format!("{name}: origin={origin} ");
        for (k, v) in ctrs {
            s += &format!("{k}={v} ");
        }
        s
    }
}

fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

fn resource_usage() -> Vec<(&'static str, u64)> {
    // SAFETY: getrusage only writes the struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    let openfiles = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    vec![
        ("utime", us(ru.ru_utime)),
        ("stime", us(ru.ru_stime)),
        ("maxrss", ru.ru_maxrss as u64),
        ("minflt", ru.ru_minflt as u64),
        ("majflt", ru.ru_majflt as u64),
        ("inblock", ru.ru_inblock as u64),
        ("oublock", ru.ru_oublock as u64),
        ("nvcsw", ru.ru_nvcsw as u64),
        ("nivcsw", ru.ru_nivcsw as u64),
        ("openfiles", openfiles),
    ]
}
