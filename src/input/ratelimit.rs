//! rsyslog 8.2302's "Linux-like" rate limiter (`runtime/ratelimit.c`) as imuxsock uses it:
//! at most `burst` messages per `interval` seconds, only for messages whose severity is at
//! or above the configured threshold (numerically: `Severity=1`, the default, spares only
//! emergency messages), with rsyslog's two notices. Per sending process when the sender's
//! credentials are known (imuxsock's per-PID table, bounded here), else one per socket.
//!
//! Quirks kept: a window starts with the first message that finds no window (`begin == 0`),
//! and the message that closes an expired window resets it without opening the next one;
//! the "lost" notice is given only when the next message arrives after the window (or when
//! the limiter is dropped); a time step backwards also closes the window.

use std::collections::HashMap;

/// Settings of one socket's limiter(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub interval: u32,
    pub burst: u32,
    pub severity: u8,
}

/// One limiter (rsyslog's `ratelimit_t` without the repeated-message part).
#[derive(Debug, Clone)]
pub struct Limiter {
    pub name: String,
    cfg: RateLimit,
    begin: i64,
    done: u32,
    missed: u32,
    /// Its `$RepeatedMsgReduction` state (src/input/repeat.rs).
    pub repeat: super::repeat::Repeat,
}

impl Limiter {
    pub fn new(name: String, cfg: RateLimit) -> Limiter {
        Limiter {
            name,
            cfg,
            begin: 0,
            done: 0,
            missed: 0,
            repeat: Default::default(),
        }
    }

    /// `ratelimitMsg` (rate part): true when the message is kept. `who` is
    /// `HOSTNAME:APP-NAME` of the message, for the "begin to drop" notice.
    pub fn admit(&mut self, now: i64, severity: u8, who: &str, notes: &mut Vec<String>) -> bool {
        if self.cfg.interval == 0 {
            return true;
        }
        // rsyslog looks at the severity only when a threshold is set
        let sev = if self.cfg.severity > 0 { severity } else { 0 };
        if sev < self.cfg.severity {
            return true;
        }
        if self.begin == 0 {
            self.begin = now;
        }
        if now > self.begin + self.cfg.interval as i64 || now < self.begin {
            self.begin = 0;
            self.done = 0;
            self.tell_lost(notes);
        }
        if self.cfg.burst > self.done {
            self.done += 1;
            true
        } else {
            self.missed += 1;
            if self.missed == 1 {
                notes.push(format!(
                    "{} from <{who}>: begin to drop messages due to rate-limiting",
                    self.name
                ));
            }
            false
        }
    }

    /// `tellLostCnt`.
    pub fn tell_lost(&mut self, notes: &mut Vec<String>) {
        if self.missed > 0 {
            notes.push(format!(
                "{}: {} messages lost due to rate-limiting ({} allowed within {} seconds)",
                self.name, self.missed, self.cfg.burst, self.cfg.interval
            ));
            self.missed = 0;
        }
    }

    fn expired(&self, now: i64) -> bool {
        self.begin == 0 || now > self.begin + self.cfg.interval as i64 || now < self.begin
    }
}

/// Most per-process limiters kept per socket (rsyslog's table grows without bound).
pub const MAX_PIDS: usize = 8192;

/// One imuxsock socket's limiters: per PID, and the socket's own for senders without
/// credentials.
#[derive(Debug)]
pub struct PidLimiters {
    cfg: RateLimit,
    by_pid: HashMap<i32, Limiter>,
    pub default: Limiter,
}

impl PidLimiters {
    pub fn new(cfg: RateLimit) -> PidLimiters {
        PidLimiters {
            cfg,
            by_pid: HashMap::new(),
            default: Limiter::new("imuxsock".into(), cfg),
        }
    }

    /// The limiter of a sender (`findRatelimiter`); `name` gives the process name for a new
    /// one. A full table first forgets limiters whose window is over (telling their lost
    /// counts), then an arbitrary one.
    pub fn for_pid(
        &mut self,
        pid: Option<i32>,
        now: i64,
        name: impl FnOnce(i32) -> Option<String>,
        notes: &mut Vec<String>,
    ) -> &mut Limiter {
        let Some(pid) = pid else {
            return &mut self.default;
        };
        if self.cfg.interval == 0 {
            return &mut self.default;
        }
        if !self.by_pid.contains_key(&pid) {
            if self.by_pid.len() >= MAX_PIDS {
                self.by_pid.retain(|_, l| {
                    if l.expired(now) {
                        l.tell_lost(notes);
                        false
                    } else {
                        true
                    }
                });
                if self.by_pid.len() >= MAX_PIDS {
                    if let Some(k) = self.by_pid.keys().next().copied() {
                        if let Some(mut l) = self.by_pid.remove(&k) {
                            l.tell_lost(notes);
                        }
                    }
                }
            }
            let n = match name(pid) {
                Some(p) => format!("imuxsock[pid: {pid}, name: {p}]"),
                None => format!("imuxsock[pid: {pid}]"),
            };
            self.by_pid.insert(pid, Limiter::new(n, self.cfg));
        }
        self.by_pid.get_mut(&pid).expect("inserted above")
    }

    /// At the end: every limiter's pending "message repeated" summary (rsyslog's
    /// `ratelimitDestruct`; rsyslog forgets those of the system socket's per-PID limiters).
    pub fn flush_repeats(&mut self, batch: &mut crate::message::Batch) {
        for l in self.by_pid.values_mut() {
            l.repeat.flush(batch);
        }
        self.default.repeat.flush(batch);
    }

    /// At the end: every limiter tells its lost count.
    pub fn finish(&mut self, notes: &mut Vec<String>) {
        for l in self.by_pid.values_mut() {
            l.tell_lost(notes);
        }
        self.default.tell_lost(notes);
    }

    pub fn len(&self) -> usize {
        self.by_pid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(interval: u32, burst: u32, severity: u8) -> RateLimit {
        RateLimit {
            interval,
            burst,
            severity,
        }
    }

    #[test]
    fn burst_then_drop_then_lost_notice() {
        let mut l = Limiter::new("imuxsock".into(), cfg(2, 3, 1));
        let mut n = Vec::new();
        let kept: Vec<bool> = (0..5).map(|_| l.admit(100, 6, "h:app", &mut n)).collect();
        assert_eq!(kept, [true, true, true, false, false]);
        assert_eq!(
            n,
            ["imuxsock from <h:app>: begin to drop messages due to rate-limiting"]
        );
        // still inside the window (100..=102)
        assert!(!l.admit(102, 6, "h:app", &mut n));
        assert_eq!(n.len(), 1);
        // the window is over: lost count, and the burst starts again
        assert!(l.admit(103, 6, "h:app", &mut n));
        assert_eq!(
            n[1],
            "imuxsock: 3 messages lost due to rate-limiting (3 allowed within 2 seconds)"
        );
    }

    #[test]
    fn severity_threshold_and_emergencies() {
        let mut l = Limiter::new("x".into(), cfg(5, 1, 1));
        let mut n = Vec::new();
        assert!(l.admit(10, 6, "h:a", &mut n));
        assert!(!l.admit(10, 6, "h:a", &mut n));
        // emergency (0) is below the threshold 1: never limited
        assert!(l.admit(10, 0, "h:a", &mut n));
        // threshold 0: everything counts
        let mut l = Limiter::new("x".into(), cfg(5, 1, 0));
        assert!(l.admit(10, 0, "h:a", &mut n));
        assert!(!l.admit(10, 0, "h:a", &mut n));
        // only notice (5) and above
        let mut l = Limiter::new("x".into(), cfg(5, 1, 5));
        assert!(l.admit(10, 3, "h:a", &mut n));
        assert!(l.admit(10, 3, "h:a", &mut n));
        assert!(l.admit(10, 5, "h:a", &mut n));
        assert!(!l.admit(10, 7, "h:a", &mut n));
    }

    #[test]
    fn interval_zero_never_limits() {
        let mut l = Limiter::new("x".into(), cfg(0, 1, 1));
        let mut n = Vec::new();
        assert!((0..100).all(|_| l.admit(1, 6, "h:a", &mut n)));
        assert!(n.is_empty());
    }

    #[test]
    fn per_pid_table_is_bounded() {
        let mut t = PidLimiters::new(cfg(10, 1, 1));
        let mut n = Vec::new();
        for pid in 0..(MAX_PIDS as i32 + 100) {
            let l = t.for_pid(Some(pid), 50, |_| None, &mut n);
            assert!(l.admit(50, 6, "h:a", &mut n));
            assert!(!l.admit(50, 6, "h:a", &mut n));
        }
        assert!(t.len() <= MAX_PIDS);
        assert_eq!(
            t.for_pid(Some(1_000_000), 50, |_| Some("logger".into()), &mut n)
                .name,
            "imuxsock[pid: 1000000, name: logger]"
        );
        assert_eq!(t.for_pid(None, 50, |_| None, &mut n).name, "imuxsock");
    }
}
