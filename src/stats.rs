//! Counters for impstats (rsyslog's statsobj): per input `submitted`, per action `processed`
//! and `failed`, the main queue's `enqueued`. Only allocated when impstats is loaded; the
//! processing thread counts into plain local arrays per batch and adds them here once per
//! batch, so the hot path pays nothing when impstats is off and one add per message when on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::config::model::Config;

pub struct Counter {
    /// The statsobj name (`imtcp(514)`, `action-0-builtin:omfile`, …).
    pub name: String,
    pub origin: String,
    pub value: AtomicU64,
    pub failed: AtomicU64,
}

impl Counter {
    fn new(name: String, origin: &str) -> Counter {
        Counter {
            name,
            origin: origin.to_string(),
            value: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

pub struct Stats {
    /// Indexed like the engine's input table (0 = the daemon's internal messages, no line).
    pub inputs: Vec<Counter>,
    pub actions: Vec<Counter>,
    pub enqueued: AtomicU64,
    pub max_batch: AtomicU64,
}

/// One statistics object: name, origin, counters.
type StatsObj = (String, String, Vec<(&'static str, u64)>);

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
    let s = Arc::new(Stats {
        inputs,
        actions,
        enqueued: AtomicU64::new(0),
        max_batch: AtomicU64::new(0),
    });
    let _ = STATS.set(s.clone());
    STATS.get().cloned()
}

/// Per-batch tallies kept by the processing thread.
#[derive(Default)]
pub struct Tally {
    pub inputs: Vec<u64>,
    pub actions: Vec<u64>,
}

impl Tally {
    pub fn new(s: &Stats) -> Tally {
        Tally {
            inputs: vec![0; s.inputs.len()],
            actions: vec![0; s.actions.len()],
        }
    }

    /// Adds the batch's counts to the registry and clears them.
    pub fn flush(&mut self, s: &Stats, batch_len: usize) {
        s.enqueued.fetch_add(batch_len as u64, Ordering::Relaxed);
        s.max_batch.fetch_max(batch_len as u64, Ordering::Relaxed);
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
    }
}

impl Stats {
    /// The statistics lines in rsyslog's `legacy` format (each ends with a space, as
    /// statsobj writes them) or `json`, in statsobj's registration order.
    pub fn lines(&self, json: bool, reset: bool) -> Vec<String> {
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
        for a in &self.actions {
            out.push((
                a.name.clone(),
                a.origin.clone(),
                vec![
                    ("processed", take(&a.value)),
                    ("failed", take(&a.failed)),
                    ("suspended", 0),
                    ("suspended.duration", 0),
                    ("resumed", 0),
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
        let enq = take(&self.enqueued);
        out.push((
            "main Q".into(),
            "core.queue".into(),
            vec![
                ("size", 0),
                ("enqueued", enq),
                ("full", 0),
                ("discarded.full", 0),
                ("discarded.nf", 0),
                ("maxqsize", self.max_batch.load(Ordering::Relaxed)),
            ],
        ));
        out.into_iter()
            .map(|(name, origin, ctrs)| {
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
            })
            .collect()
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
