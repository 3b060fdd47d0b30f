//! immark: a mark message (`-- MARK --`, syslog.info, tag `rsyslogd:`) every `interval`
//! seconds (default 1200; legacy `$MarkMessagePeriod`), as rsyslog 8.2302's
//! plugins/immark/immark.c. With `use.syslogCall="on"` (the default, switched off when a
//! `ruleset` is given) the mark is an internal message: through the rules when
//! `processInternalMessages="on"`, else sent with syslog(3) like every other internal
//! message of 8.2302. Otherwise it is injected as its own input. Every action writes mark
//! messages (rsyslog's default `action.writeAllMarkMessages="on"`).

use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{Config, ModuleLoad, PValue};
use crate::input::{Ctx, Source};

pub struct Mark {
    interval: u64,
    text: String,
    use_syslog_call: bool,
    local_host: Arc<str>,
}

/// Plans immark from `module(load="immark" …)`. An interval of 0 is refused at start
/// (rsyslog reports it and runs on without marks).
pub fn plan(m: &ModuleLoad, cfg: &Config) -> Result<Mark, String> {
    let p = &m.params;
    let interval = match p.get("interval") {
        Some(PValue::Int(n)) => *n,
        _ => 20 * 60,
    };
    if interval <= 0 {
        return Err(format!(
            "{}: error: immark: mark message period must be positive, got {interval}",
            m.loc
        ));
    }
    Ok(Mark {
        interval: interval as u64,
        text: p.str("markMessageText").unwrap_or("-- MARK --").to_string(),
        use_syslog_call: !matches!(p.get("use.syslogCall"), Some(PValue::Bool(false)))
            && p.str("ruleset").is_none(),
        local_host: Arc::from(crate::engine::local_hostname(cfg)),
    })
}

impl Mark {
    /// One mark: syslog.info (46).
    fn emit(&self, ctx: &Ctx) {
        if self.use_syslog_call {
            // logmsgInternal: an internal message (control characters become spaces, then
            // $RepeatedMsgReduction, the rules or syslog(3): src/engine.rs Notices)
            ctx.notices.internal(6, &self.text);
            return;
        }
        let (input, text) = (ctx.input, self.text.clone());
        let mut batch = ctx.new_batch();
        let now = crate::parse::now_local();
        crate::input::klog::push_local(
            &mut batch,
            text.as_bytes(),
            5,
            6,
            b"rsyslogd:",
            &self.local_host,
            input,
            &now,
        );
        ctx.try_send(batch);
    }
}

impl Source for Mark {
    fn name(&self) -> String {
        "immark".into()
    }

    fn start(self: Box<Self>, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String> {
        Ok(tokio::spawn(async move {
            let mut stop = ctx.shutdown.clone();
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(self.interval)) => self.emit(&ctx),
                }
            }
        }))
    }
}
