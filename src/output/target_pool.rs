//! Target pools: `target=["a","b","c"]` on omfwd (as rsyslog 8.2404+) and, as an oxsyslog
//! extension, on omrelp. One transport per target; [`TargetPool`] is itself a
//! [`Transport`], so the action queue (src/output/actq.rs) drives it like a single target.
//!
//! - Load balancing: each batch is cut into one contiguous run per **healthy** target, the
//!   first run going to the next target in rotation (rsyslog changes the target for every
//!   message; the shares are the same, and each target still gets one write per batch).
//!   omrelp's runs are sent at the same time (scoped threads: a RELP send waits for the
//!   acknowledgements); omfwd's one after the other (a TCP write returns once the kernel has
//!   the data).
//! - A target whose send or connect fails is taken out of the rotation, its unsent messages
//!   go to the remaining targets in the same call, and it is tried again by itself every
//!   `pool.resumeInterval` seconds (default 30) while the others carry the load.
//! - Only when every target is down does `send` fail; the action then retries and suspends
//!   by its own `action.resume*` settings, and its `try_resume` tries every target.
//!
//! As with several queue workers (src/output/actq_pool.rs), a failure reports the prefix of
//! the batch that was sent; messages after it that did reach a target are sent again when the
//! action resumes: a duplicate is possible, a loss is not (beyond what the transport itself
//! loses, e.g. plain TCP's in-flight data when a receiver dies).

use std::time::{Duration, Instant};

use crate::config::model::{Action, PValue};

use super::actq::Transport;

/// `pool.resumeInterval`'s default (s).
pub const DEFAULT_RESUME_INTERVAL: u64 = 30;

/// One target of the pool.
struct Member {
    t: Box<dyn Transport>,
    /// `None`: in the rotation; else taken out, tried again from this moment on.
    retry_at: Option<Instant>,
}

/// Several targets sending as one, with per-target health.
pub struct TargetPool {
    members: Vec<Member>,
    /// The member the next batch starts with.
    next: usize,
    resume_every: Duration,
    /// The module's name for messages (`omfwd`, `omrelp`).
    module: &'static str,
    /// Runs of the current batch not delivered yet (kept to reuse its allocation).
    todo: Vec<(usize, usize)>,
    /// Indexes of the healthy members (reused).
    healthy: Vec<usize>,
    /// This round's runs: member, range, result (reused).
    runs: Vec<Run>,
    /// The runs of one round are sent at the same time (RELP, whose send waits for the
    /// acknowledgements), else one after the other (TCP: a write returns once the kernel has
    /// the data).
    parallel: bool,
}

/// A run of the batch for one member: member, from, to, what its send returned.
type Run = (usize, usize, usize, Result<(), (usize, String)>);

/// Sends each run through its member, all at the same time (scoped threads; the first run on
/// the calling thread).
fn send_parallel(members: &mut [Member], msgs: &[Vec<u8>], runs: &mut [Run]) {
    let ts = order(members, runs);
    std::thread::scope(|sc| {
        let mut handles = Vec::new();
        let mut mine = None;
        for (run, m) in runs.iter_mut().zip(ts) {
            match m {
                Some(t) if mine.is_some() => {
                    let (a, b) = (run.1, run.2);
                    handles.push((run, sc.spawn(move || t.send(&msgs[a..b]))));
                }
                Some(t) => mine = Some((run, t)),
                None => run.3 = Err((0, "no such target".into())),
            }
        }
        if let Some((run, t)) = mine {
            run.3 = t.send(&msgs[run.1..run.2]);
        }
        for (run, h) in handles {
            run.3 = h
                .join()
                .unwrap_or_else(|_| Err((0, "a sending thread panicked".to_string())));
        }
    });
}

/// The transports of `runs`' members, in the order of `runs` (each member at most once).
fn order<'a>(members: &'a mut [Member], runs: &[Run]) -> Vec<Option<&'a mut Box<dyn Transport>>> {
    let mut by_member: Vec<Option<&'a mut Box<dyn Transport>>> =
        members.iter_mut().map(|m| Some(&mut m.t)).collect();
    runs.iter()
        .map(|r| by_member.get_mut(r.0).and_then(Option::take))
        .collect()
}

impl TargetPool {
    /// A pool of `ts` (one transport is returned as it is: no pool, no change); `parallel`:
    /// the targets' runs of a batch are sent at the same time.
    pub fn of(
        mut ts: Vec<Box<dyn Transport>>,
        resume_every: Duration,
        module: &'static str,
        parallel: bool,
    ) -> Box<dyn Transport> {
        if ts.len() == 1 {
            if let Some(t) = ts.pop() {
                return t;
            }
        }
        Box::new(TargetPool {
            members: ts
                .into_iter()
                .map(|t| Member { t, retry_at: None })
                .collect(),
            next: 0,
            resume_every,
            module,
            todo: Vec::new(),
            healthy: Vec::new(),
            runs: Vec::new(),
            parallel,
        })
    }

    /// Tries the members whose `pool.resumeInterval` is over.
    fn health_check(&mut self) {
        let now = Instant::now();
        for m in &mut self.members {
            if m.retry_at.is_some_and(|t| t <= now) {
                match m.t.try_resume() {
                    Ok(()) => {
                        m.retry_at = None;
                        crate::engine::report_warning(format!(
                            "{}: pool target {} is available again and back in the rotation",
                            self.module,
                            m.t.describe()
                        ));
                    }
                    Err(_) => m.retry_at = Some(Instant::now() + self.resume_every),
                }
            }
        }
    }

    /// Takes member `i` out of the rotation.
    fn take_out(&mut self, i: usize, e: &str) {
        let m = &mut self.members[i];
        m.t.close();
        m.retry_at = Some(Instant::now() + self.resume_every);
        crate::engine::report_error(format!(
            "{}: pool target {} failed ({e}); taken out of the rotation, tried again every {} s",
            self.module,
            m.t.describe(),
            self.resume_every.as_secs()
        ));
    }
}

impl Transport for TargetPool {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        if msgs.is_empty() {
            return Ok(());
        }
        self.health_check();
        let mut todo = std::mem::take(&mut self.todo);
        let mut healthy = std::mem::take(&mut self.healthy);
        todo.clear();
        todo.push((0, msgs.len()));
        let mut last_err = String::new();
        let result = loop {
            let Some((from, to)) = todo.pop() else {
                break Ok(());
            };
            healthy.clear();
            healthy.extend((0..self.members.len()).filter(|&i| self.members[i].retry_at.is_none()));
            if healthy.is_empty() {
                todo.push((from, to));
                let first = todo.iter().map(|r| r.0).min().unwrap_or(0);
                break Err((
                    first,
                    format!(
                        "all {} targets of the pool are unavailable (last: {last_err})",
                        self.members.len()
                    ),
                ));
            }
            // the rotation: the member at or after `next` starts
            let start = healthy.iter().position(|&i| i >= self.next).unwrap_or(0);
            let per = (to - from).div_ceil(healthy.len());
            // one run per member (distinct members: at most `healthy.len()` runs)
            let mut runs = std::mem::take(&mut self.runs);
            runs.clear();
            let mut a = from;
            while a < to {
                let b = (a + per).min(to);
                let i = healthy[(start + runs.len()) % healthy.len()];
                self.next = (i + 1) % self.members.len();
                runs.push((i, a, b, Ok(())));
                a = b;
            }
            if self.parallel && runs.len() > 1 {
                send_parallel(&mut self.members, msgs, &mut runs);
            } else {
                for (i, a, b, r) in runs.iter_mut() {
                    *r = self.members[*i].t.send(&msgs[*a..*b]);
                }
            }
            for (i, a, b, r) in runs.drain(..) {
                if let Err((n, e)) = r {
                    self.take_out(i, &e);
                    last_err = e;
                    todo.push((a + n, b));
                }
            }
            self.runs = runs;
        };
        self.todo = todo;
        self.healthy = healthy;
        result
    }

    fn try_resume(&mut self) -> Result<(), String> {
        let mut up = 0;
        let mut err = String::new();
        for m in &mut self.members {
            match m.t.try_resume() {
                Ok(()) => {
                    m.retry_at = None;
                    up += 1;
                }
                Err(e) => {
                    m.retry_at = Some(Instant::now() + self.resume_every);
                    err = format!("{}: {e}", m.t.describe());
                }
            }
        }
        if up == 0 {
            return Err(format!("no target of the pool is reachable (last: {err})"));
        }
        Ok(())
    }

    fn close(&mut self) {
        for m in &mut self.members {
            m.t.close();
        }
    }

    fn describe(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.t.describe()).collect();
        format!("pool [{}]", names.join(", "))
    }
}

/// The targets of an omfwd or omrelp action: `target` (a word or an array) with `port` (a
/// word or an array; missing ports are the first one, extra ports are ignored with an error
/// message, as rsyslog's omfwd), `default_port` when there is none. Brackets around an IPv6
/// address are removed.
pub fn targets(a: &Action, default_port: u16, module: &str) -> Result<Vec<(String, u16)>, String> {
    let p = &a.params;
    let hosts: Vec<String> = match p.get("target") {
        Some(PValue::Str(s)) => vec![s.clone()],
        Some(PValue::Array(v)) if !v.is_empty() => v.clone(),
        _ => return Err("parameter \"target\" is required".into()),
    };
    let ports: Vec<String> = match p.get("port") {
        None => Vec::new(),
        Some(PValue::Array(v)) => v.clone(),
        Some(v) => vec![v.to_config_string()],
    };
    if ports.len() > hosts.len() {
        crate::engine::report_error(format!(
            "{module}: {} ports for {} targets: the extra ports are ignored",
            ports.len(),
            hosts.len()
        ));
    }
    let parse = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port '{s}'"))
    };
    let first = match ports.first() {
        Some(s) => parse(s)?,
        None => default_port,
    };
    hosts
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let port = match ports.get(i) {
                Some(s) => parse(s)?,
                None => first,
            };
            let h = h.trim();
            let h = h
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(h);
            if h.is_empty() {
                return Err("an empty target in the pool".to_string());
            }
            Ok((h.to_string(), port))
        })
        .collect()
}

/// `pool.resumeInterval` (s, at least 1).
pub fn resume_interval(a: &Action) -> Duration {
    let n = match a.params.get("pool.resumeInterval") {
        Some(PValue::Int(n)) => *n,
        _ => DEFAULT_RESUME_INTERVAL as i64,
    };
    Duration::from_secs(n.max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A target that records what it got; `up` decides whether it takes anything.
    struct Rec {
        name: &'static str,
        got: Arc<Mutex<Vec<u8>>>,
        up: Arc<Mutex<bool>>,
    }

    impl Transport for Rec {
        fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
            if !*self.up.lock().unwrap() {
                return Err((0, "refused".into()));
            }
            self.got.lock().unwrap().extend(msgs.iter().map(|m| m[0]));
            Ok(())
        }
        fn try_resume(&mut self) -> Result<(), String> {
            if *self.up.lock().unwrap() {
                Ok(())
            } else {
                Err("refused".into())
            }
        }
        fn close(&mut self) {}
        fn describe(&self) -> String {
            self.name.into()
        }
    }

    type Logs = Vec<Arc<Mutex<Vec<u8>>>>;
    type Ups = Vec<Arc<Mutex<bool>>>;

    fn pool(resume: Duration, parallel: bool) -> (Box<dyn Transport>, Logs, Ups) {
        let logs: Logs = (0..3).map(|_| Arc::default()).collect();
        let ups: Ups = (0..3).map(|_| Arc::new(Mutex::new(true))).collect();
        let names = ["a", "b", "c"];
        let ts = (0..3)
            .map(|i| {
                Box::new(Rec {
                    name: names[i],
                    got: logs[i].clone(),
                    up: ups[i].clone(),
                }) as Box<dyn Transport>
            })
            .collect();
        (TargetPool::of(ts, resume, "test", parallel), logs, ups)
    }

    fn counts(logs: &Logs) -> Vec<usize> {
        logs.iter().map(|l| l.lock().unwrap().len()).collect()
    }

    fn batch(n: u8) -> Vec<Vec<u8>> {
        (0..n).map(|b| vec![b]).collect()
    }

    #[test]
    fn batches_and_single_messages_rotate_over_the_targets() {
        rotate(false);
        rotate(true);
    }

    fn rotate(parallel: bool) {
        let (mut p, logs, _) = pool(Duration::from_secs(30), parallel);
        p.send(&batch(9)).unwrap();
        assert_eq!(counts(&logs), [3, 3, 3]);
        for _ in 0..3 {
            p.send(&batch(1)).unwrap();
        }
        assert_eq!(counts(&logs), [4, 4, 4]);
    }

    #[test]
    fn a_failed_target_is_skipped_until_its_interval_is_over() {
        skipped(false);
        skipped(true);
    }

    fn skipped(parallel: bool) {
        let (mut p, logs, ups) = pool(Duration::from_millis(200), parallel);
        *ups[1].lock().unwrap() = false;
        p.send(&batch(9)).unwrap();
        // b's part went to the others, nothing lost
        let c = counts(&logs);
        assert_eq!((c[0] + c[2], c[1]), (9, 0));
        p.send(&batch(8)).unwrap();
        assert_eq!(counts(&logs), [c[0] + 4, 0, c[2] + 4]);
        *ups[1].lock().unwrap() = true;
        p.send(&batch(3)).unwrap();
        assert_eq!(
            counts(&logs)[1],
            0,
            "b is tried again only after the interval"
        );
        std::thread::sleep(Duration::from_millis(250));
        p.send(&batch(3)).unwrap();
        assert_eq!(counts(&logs)[1], 1, "b is back in the rotation");
    }

    #[test]
    fn the_pool_fails_only_when_every_target_is_down() {
        all_down(false);
        all_down(true);
    }

    fn all_down(parallel: bool) {
        let (mut p, logs, ups) = pool(Duration::from_secs(30), parallel);
        for u in &ups[..2] {
            *u.lock().unwrap() = false;
        }
        p.send(&batch(6)).unwrap();
        assert_eq!(counts(&logs), [0, 0, 6]);
        *ups[2].lock().unwrap() = false;
        let e = p.send(&batch(6)).unwrap_err();
        assert_eq!(e.0, 0);
        assert!(e.1.contains("all 3 targets"), "{}", e.1);
        assert!(p.try_resume().is_err());
        *ups[0].lock().unwrap() = true;
        // the action's own retry tries every target, whatever pool.resumeInterval says
        p.try_resume().unwrap();
        p.send(&batch(6)).unwrap();
        assert_eq!(counts(&logs), [6, 0, 6]);
    }

    #[test]
    fn targets_and_ports_as_rsyslog_reads_them() {
        let l = crate::config::load_text(
            "t.conf",
            "*.* action(type=\"omfwd\" protocol=\"tcp\" target=[\"a\",\"[::1]\",\"c\"] port=[\"1\",\"2\"])\n\
             *.* action(type=\"omfwd\" protocol=\"tcp\" target=\"h\")\n\
             *.* action(type=\"omfwd\" protocol=\"tcp\" target=[\"a\",\"b\"] port=\"7\")\n",
        );
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let t = |i: usize| targets(&l.config.actions[i], 514, "omfwd").unwrap();
        let own = |v: &[(&str, u16)]| -> Vec<(String, u16)> {
            v.iter().map(|(h, p)| (h.to_string(), *p)).collect()
        };
        assert_eq!(t(0), own(&[("a", 1), ("::1", 2), ("c", 1)]));
        assert_eq!(t(1), own(&[("h", 514)]));
        assert_eq!(t(2), own(&[("a", 7), ("b", 7)]));
    }
}
