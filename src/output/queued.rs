//! The output of an action whose messages its queue's worker sends (omfwd, omrelp): the rules
//! thread only renders the template and hands the batch to the action queue
//! (src/output/actq.rs) at the batch's end. Also the parameter readers those actions share.

use std::sync::Arc;

use crate::config::model::{Action, Config, PValue};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::actq::ActionQueue;
use super::Output;

pub struct QueuedOutput {
    template: Arc<Template>,
    queue: ActionQueue,
    /// (severity, rendered message) of the current batch
    pending: Vec<(u8, Vec<u8>)>,
    /// How the target is named in the undelivered-at-shutdown report.
    target: String,
    /// Messages the queue had no room for (never reset; `Output::lost_total`).
    lost: u64,
    /// Emptied buffers of sent messages, from the worker (`ActionQueue::take_spares`).
    spare: Vec<Vec<u8>>,
}

impl QueuedOutput {
    pub fn new(template: Arc<Template>, queue: ActionQueue, target: String) -> QueuedOutput {
        QueuedOutput {
            template,
            queue,
            pending: Vec::new(),
            target,
            lost: 0,
            spare: Vec::new(),
        }
    }
}

impl Output for QueuedOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        let mut buf = self.spare.pop().unwrap_or_else(|| Vec::with_capacity(256));
        self.template.render(m, env, &mut buf);
        self.pending.push((m.m.severity, buf));
    }

    fn end_batch(&mut self) {
        self.lost += self.queue.enqueue(&mut self.pending);
        if self.spare.is_empty() {
            self.queue.take_spares(&mut self.spare);
        }
    }

    fn suspended_now(&self) -> bool {
        self.queue.suspended_now()
    }

    fn take_failed(&mut self) -> u64 {
        self.queue.take_failed()
    }

    fn take_suspensions(&mut self) -> [u64; 3] {
        self.queue.take_suspensions()
    }

    fn lost_total(&self) -> u64 {
        self.lost
    }

    fn shutdown(&mut self) -> u64 {
        self.queue.enqueue(&mut self.pending);
        self.queue.shutdown(&self.target)
    }
}

/// An integer parameter (also written as a string).
pub fn int(a: &Action, name: &str) -> Option<i64> {
    match a.params.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `port`, 514 when not set.
pub fn port(a: &Action) -> Result<u16, String> {
    match a.params.get("port") {
        None => Ok(514),
        Some(v) => {
            let s = v.to_config_string();
            s.trim()
                .parse::<u16>()
                .map_err(|_| format!("invalid port '{s}'"))
        }
    }
}

/// The global `maxMessageSize` (rsyslog's default 8096, at least 128).
pub fn max_message_size(cfg: &Config) -> usize {
    match cfg.globals.get("maxMessageSize") {
        Some(PValue::Int(n)) => (*n).max(128) as usize,
        _ => 8096,
    }
}
