//! The common action options that decide whether an action runs for a message, as
//! rsyslog 8.2302's action.c applies them (`actionWriteToAction`, `doSubmitToActionQ`):
//! `action.execOnlyEveryNthTime` (with `…Timeout`), `action.execOnlyOnceEveryInterval` and
//! `action.execOnlyWhenPreviousIsSuspended`, and their legacy `$ActionExecOnly…` twins.

use crate::config::model::{Action, PValue};

/// Per-action execution gate.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    every_nth: i64,
    nth_timeout: i64,
    once_interval: i64,
    when_prev_suspended: bool,
    no_exec: i64,
    last_occur: i64,
    last_exec: i64,
}

fn num(a: &Action, name: &str) -> i64 {
    match a.params.get(name) {
        Some(PValue::Int(n)) => *n,
        Some(PValue::Bool(b)) => *b as i64,
        Some(PValue::Str(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `a` has `action.execOnlyWhenPreviousIsSuspended` (a failover chain's secondary).
pub fn runs_only_when_previous_suspended(a: &Action) -> bool {
    num(a, "action.execOnlyWhenPreviousIsSuspended") != 0
}

impl Gate {
    /// The gate of one action; `now` is the start time (rsyslog's first `tLastOccur`).
    pub fn new(a: &Action, now: i64) -> Gate {
        Gate {
            every_nth: num(a, "action.execOnlyEveryNthTime"),
            nth_timeout: num(a, "action.execOnlyEveryNthTimeTimeout"),
            once_interval: num(a, "action.execOnlyOnceEveryInterval"),
            when_prev_suspended: num(a, "action.execOnlyWhenPreviousIsSuspended") != 0,
            no_exec: 0,
            last_occur: now,
            last_exec: 0,
        }
    }

    /// Whether the action runs for this message; `prev_suspended` is whether the previous
    /// action of this worker was suspended, `now` the time in seconds. The every-Nth count
    /// advances even when the previous-suspended rule then skips the action, as in 8.2302.
    pub fn admit(&mut self, prev_suspended: bool, now: i64) -> bool {
        if self.every_nth > 1 {
            if self.nth_timeout > 0 && now - self.last_occur > self.nth_timeout {
                self.no_exec = 0;
                self.last_occur = now;
            }
            if self.no_exec < self.every_nth - 1 {
                self.no_exec += 1;
                return false;
            }
            self.no_exec = 0;
        }
        if self.last_exec > now {
            self.last_exec = 0; // the clock went back
        }
        if self.once_interval > 0 && self.once_interval + self.last_exec > now {
            return false;
        }
        if self.every_nth > 1 || self.once_interval > 0 {
            self.last_exec = now;
        }
        !self.when_prev_suspended || prev_suspended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_and_interval() {
        let mut g = Gate {
            every_nth: 3,
            ..Gate::default()
        };
        let runs: Vec<bool> = (0..7).map(|_| g.admit(false, 100)).collect();
        assert_eq!(runs, [false, false, true, false, false, true, false]);
        // the every-Nth count restarts when more than the timeout passed since its start
        let mut g = Gate {
            every_nth: 3,
            nth_timeout: 5,
            last_occur: 100,
            ..Gate::default()
        };
        assert!(!g.admit(false, 101) && !g.admit(false, 102));
        assert!(!g.admit(false, 107), "timed out: counting starts again");
        assert!(!g.admit(false, 107) && g.admit(false, 108));
        let mut g = Gate {
            once_interval: 10,
            ..Gate::default()
        };
        assert!(g.admit(false, 100) && !g.admit(false, 105) && g.admit(false, 110));
        let mut g = Gate {
            when_prev_suspended: true,
            ..Gate::default()
        };
        assert!(!g.admit(false, 1) && g.admit(true, 1));
    }
}
