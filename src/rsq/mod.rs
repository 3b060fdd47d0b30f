//! Rulesets with their own queue (rsyslog's `ruleset(name=… queue.…)`, runtime/ruleset.c):
//! such a ruleset runs on its own rules thread behind its own queue, which follows the main
//! queue's rules with rsyslog's ruleset-queue defaults (src/mainq.rs). Inputs bound to it
//! enqueue there; a `call` of it from another ruleset enqueues a copy of the message with its
//! `$!` and `$.` variables at the call (rsyslog's `MsgDup` + `submitMsg2`), and the caller
//! goes on at once. A blocked action of one ruleset therefore never stalls another queue's
//! rulesets.
//!
//! This module decides which thread runs what ([`plan`]) and hands the copies over
//! ([`Forwarder`]). Every action runs on exactly one thread: the one whose queue reaches the
//! ruleset the action is in (rulesets without a queue called from a queued ruleset run on
//! its thread). An action reached from two queues would need rsyslog's per-action locking
//! between threads; such a config is refused at start with the ruleset named, as is
//! `call_indirect` inside a queued ruleset's reach (its target is only known at run time) and
//! a queue on the default ruleset (internal messages run there). A `Direct` ruleset queue
//! runs in the caller, as in rsyslog, and needs nothing here.
//!
//! [`Forwarder`] (forward.rs) hands the copies over; [`Queues`] (queues.rs) starts and stops
//! the queues.

mod forward;
mod queues;

pub use forward::{Forwarder, Target};
pub use queues::Queues;

use crate::config::model::Config;
use crate::filter::exec::{Exec, Rulesets};
use crate::message::MsgRef;

/// Which thread runs what. Domain 0 is the main queue's rules thread; domain `d >= 1` is the
/// thread of ruleset `rulesets[d]`'s own queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Per ruleset: the domain of its own queue, `None` without one.
    pub queue_of: Vec<Option<usize>>,
    /// Per domain: its ruleset (`usize::MAX` for domain 0).
    pub rulesets: Vec<usize>,
    /// Per action: the domain whose thread runs it.
    pub action_domain: Vec<usize>,
    /// Per domain: the domains that hand it copies (`call`), without repeats.
    pub callers: Vec<Vec<usize>>,
}

impl Plan {
    /// Domains including the main one.
    pub fn domains(&self) -> usize {
        self.rulesets.len()
    }
}

/// Calls `f` for every statement of `body`, nested ones included.
fn walk(body: &[Exec], f: &mut impl FnMut(&Exec)) {
    for s in body {
        f(s);
        match s {
            Exec::Pri { body, .. } | Exec::Prop { body, .. } | Exec::Foreach { body, .. } => {
                walk(body, f)
            }
            Exec::If {
                then_body,
                else_body,
                ..
            } => {
                walk(then_body, f);
                walk(else_body, f);
            }
            _ => {}
        }
    }
}

/// Decides the threads. `main_entries`: the rulesets the main queue's messages start in (the
/// default ruleset and those of inputs bound to rulesets without a queue).
pub fn plan(
    cfg: &Config,
    rs: &Rulesets,
    actions: usize,
    default_rs: usize,
    main_entries: &[usize],
) -> Result<Plan, String> {
    let n = rs.bodies.len();
    let mut queue_of = vec![None; n];
    let mut rulesets = vec![usize::MAX];
    for (r, q) in queue_of.iter_mut().enumerate() {
        if rs.queued.get(r).copied().unwrap_or(false) {
            *q = Some(rulesets.len());
            rulesets.push(r);
        }
    }
    let nd = rulesets.len();
    let mut p = Plan {
        queue_of,
        rulesets,
        action_domain: vec![0; actions],
        callers: vec![Vec::new(); nd],
    };
    if nd == 1 {
        return Ok(p);
    }
    let loc = |r: usize| {
        cfg.rulesets
            .get(r)
            .map_or_else(|| "config".to_string(), |x| x.loc.to_string())
    };
    let name = |r: usize| rs.names.get(r).map_or("?", |s| s.as_str());
    let dom_name = |d: usize, p: &Plan| {
        if d == 0 {
            "the main queue".to_string()
        } else {
            format!("the queue of ruleset '{}'", name(p.rulesets[d]))
        }
    };
    let has_actions = |r: usize| {
        let mut any = false;
        walk(&rs.bodies[r], &mut |s| any |= matches!(s, Exec::Action(_)));
        any
    };
    if p.queue_of.get(default_rs).is_some_and(|q| q.is_some()) {
        return Err(format!(
            "{}: error: ruleset '{}' has its own queue, but internal messages run the default ruleset on the main queue; oxsyslogd does not support a queue on the default ruleset",
            loc(default_rs),
            name(default_rs)
        ));
    }
    let mut reached: Vec<Option<usize>> = vec![None; n];
    for d in 0..nd {
        let mut stack: Vec<usize> = if d == 0 {
            main_entries
                .iter()
                .copied()
                .filter(|r| *r < n && p.queue_of[*r].is_none())
                .collect()
        } else {
            vec![p.rulesets[d]]
        };
        let mut seen = vec![false; n];
        while let Some(r) = stack.pop() {
            if std::mem::replace(&mut seen[r], true) {
                continue;
            }
            match reached[r] {
                Some(o) if o != d && has_actions(r) => {
                    return Err(format!(
                        "{}: error: the actions of ruleset '{}' would run on {} and on {}; oxsyslogd runs each action on one queue's thread: call it from one queue only, or give it its own queue",
                        loc(r),
                        name(r),
                        dom_name(o, &p),
                        dom_name(d, &p)
                    ));
                }
                None => reached[r] = Some(d),
                _ => {}
            }
            let mut err = None;
            let mut calls = Vec::new();
            walk(&rs.bodies[r], &mut |s| match s {
                Exec::Call(c) => calls.push(*c),
                Exec::CallIndirect(_) if d != 0 => err = Some(()),
                Exec::CallIndirect(_) => calls.extend(0..n),
                _ => {}
            });
            if err.is_some() {
                return Err(format!(
                    "{}: error: call_indirect in ruleset '{}', which runs on {}: its target is only known at run time, and oxsyslogd runs each action on one queue's thread; use call",
                    loc(r),
                    name(r),
                    dom_name(d, &p)
                ));
            }
            for c in calls.into_iter().filter(|c| *c < n) {
                match p.queue_of[c] {
                    Some(q) => {
                        if !p.callers[q].contains(&d) {
                            p.callers[q].push(d);
                        }
                    }
                    None => stack.push(c),
                }
            }
        }
    }
    for (r, d) in reached.iter().enumerate() {
        let Some(d) = *d else { continue };
        walk(&rs.bodies[r], &mut |s| {
            if let Exec::Action(a) = s {
                if let Some(x) = p.action_domain.get_mut(*a) {
                    *x = d;
                }
            }
        });
    }
    Ok(p)
}

/// The slot of an action another queue's thread runs ([`Plan::action_domain`]): the plan
/// guarantees the rules of this thread never reach it.
pub struct Elsewhere;

impl crate::output::Output for Elsewhere {
    fn process(&mut self, _m: MsgRef<'_>, _env: &crate::template::RenderEnv) {}
    fn end_batch(&mut self) {}
}

/// Splits the actions among the threads: per domain, every action slot, real where the
/// domain runs it and [`Elsewhere`] otherwise (the rules address actions by index).
pub fn split_outputs(
    plan: &Plan,
    outputs: Vec<Box<dyn crate::output::Output>>,
) -> Vec<Vec<Box<dyn crate::output::Output>>> {
    let n = outputs.len();
    let mut per: Vec<Vec<Box<dyn crate::output::Output>>> = (0..plan.domains())
        .map(|_| {
            (0..n)
                .map(|_| Box::new(Elsewhere) as Box<dyn crate::output::Output>)
                .collect()
        })
        .collect();
    for (a, o) in outputs.into_iter().enumerate() {
        let d = plan.action_domain.get(a).copied().unwrap_or(0);
        if let Some(slot) = per.get_mut(d).and_then(|v| v.get_mut(a)) {
            *slot = o;
        }
    }
    per
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn plan_of(conf: &str) -> Result<Plan, String> {
        let l = load_text("t.conf", conf);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let rs = Rulesets::compile_without_templates(&l.config).unwrap();
        let entries: Vec<usize> = (0..rs.names.len()).collect();
        let dflt = rs.index(&l.config.default_ruleset).unwrap_or(0);
        plan(&l.config, &rs, l.config.actions.len(), dflt, &entries)
    }

    #[test]
    fn actions_run_on_the_thread_of_the_queue_that_reaches_them() {
        let p = plan_of(
            "ruleset(name=\"qq\" queue.type=\"LinkedList\") { action(type=\"omfile\" file=\"/tmp/q\") call common }\nruleset(name=\"common\") { action(type=\"omfile\" file=\"/tmp/c\") }\nruleset(name=\"plain\") { call qq }\n*.* /tmp/m\n",
        )
        .unwrap_err();
        // `common` is reached from the main queue too (every ruleset is an entry here)
        assert!(p.contains("ruleset 'common'"), "{p}");
        let l = load_text(
            "t.conf",
            "ruleset(name=\"qq\" queue.size=\"100\") { action(type=\"omfile\" file=\"/tmp/q\") call common }\nruleset(name=\"common\") { action(type=\"omfile\" file=\"/tmp/c\") }\nruleset(name=\"plain\") { call qq }\n*.* /tmp/m\n",
        );
        let rs = Rulesets::compile_without_templates(&l.config).unwrap();
        let main: Vec<usize> = [rs.index("RSYSLOG_DefaultRuleset"), rs.index("plain")]
            .into_iter()
            .flatten()
            .collect();
        let p = plan(&l.config, &rs, l.config.actions.len(), main[0], &main).unwrap();
        let q = rs.index("qq").unwrap();
        assert_eq!(p.domains(), 2);
        assert_eq!(p.queue_of[q], Some(1));
        assert_eq!(p.callers[1], vec![0]);
        // the actions of q and common on q's thread, the default ruleset's on the main one
        let mut doms = p.action_domain.clone();
        doms.sort();
        assert_eq!(doms, vec![0, 1, 1]);
    }

    #[test]
    fn call_indirect_in_a_queued_ruleset_and_a_queued_default_ruleset_are_refused() {
        let e = plan_of(
            "ruleset(name=\"q\" queue.type=\"FixedArray\") { call_indirect \"x\"; }\nruleset(name=\"x\") { stop }\n*.* /tmp/m\n",
        )
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:1:") && e.contains("call_indirect"),
            "{e}"
        );
        let e = plan_of(
            "ruleset(name=\"q\" queue.type=\"LinkedList\") { action(type=\"omfile\" file=\"/tmp/q\") }\n$DefaultRuleset q\n",
        )
        .unwrap_err();
        assert!(e.contains("default ruleset"), "{e}");
        // Direct: no queue of its own
        assert_eq!(
            plan_of("ruleset(name=\"d\" queue.type=\"Direct\") { stop }\n*.* /tmp/m\n")
                .unwrap()
                .domains(),
            1
        );
    }
}
