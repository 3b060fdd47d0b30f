//! impstats: every `interval` seconds (default 300) one message per statistics object, tag
//! `rsyslogd-pstats:`, facility `facility` (default 5, syslog) and severity `severity`
//! (default 6), through the rules (`log.syslog`, default on) and/or appended to `log.file`
//! as `ctime: line`, as rsyslog 8.2302's plugins/impstats/impstats.c. Counters: see
//! src/stats.rs.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{Config, ModuleLoad, PValue};
use crate::input::{Ctx, Source};

pub struct Pstats {
    interval: u64,
    facility: u8,
    severity: u8,
    json: bool,
    log_syslog: bool,
    log_file: Option<String>,
    reset: bool,
    bracketing: bool,
    local_host: Arc<str>,
}

pub fn plan(m: &ModuleLoad, cfg: &Config) -> Result<Pstats, String> {
    let p = &m.params;
    let int = |n: &str, d: i64| match p.get(n) {
        Some(PValue::Int(v)) => *v,
        _ => d,
    };
    let flag = |n: &str, d: bool| match p.get(n) {
        Some(PValue::Bool(b)) => *b,
        _ => d,
    };
    let json = match p.str("format").map(str::to_ascii_lowercase).as_deref() {
        None | Some("legacy") => false,
        Some("json") => true,
        Some(other) => {
            return Err(format!(
                "{}: error: impstats: format \"{other}\" is not implemented by oxsyslogd (legacy and json are)",
                m.loc
            ))
        }
    };
    let interval = int("interval", 300);
    if interval <= 0 {
        return Err(format!(
            "{}: error: impstats: interval must be positive, got {interval}",
            m.loc
        ));
    }
    Ok(Pstats {
        interval: interval as u64,
        facility: int("facility", 5).clamp(0, 23) as u8,
        severity: int("severity", 6).clamp(0, 7) as u8,
        json,
        log_syslog: flag("log.syslog", true),
        log_file: p.str("log.file").map(str::to_string),
        reset: flag("resetCounters", false),
        bracketing: flag("bracketing", false),
        local_host: Arc::from(crate::engine::local_hostname(cfg)),
    })
}

impl Pstats {
    fn emit(&self, ctx: &Ctx) {
        let Some(stats) = crate::stats::get() else {
            return;
        };
        // Each line goes to the main queue before the next is made, as rsyslog's impstats
        // submits them (its `main Q` line counts the block's earlier lines).
        let now = crate::parse::now_local();
        let mut lines = Vec::new();
        let mut submit = |l: String| {
            if self.log_syslog {
                let mut batch = ctx.new_batch();
                crate::input::klog::push_local(
                    &mut batch,
                    l.as_bytes(),
                    self.facility,
                    self.severity,
                    b"rsyslogd-pstats:",
                    &self.local_host,
                    ctx.input,
                    &now,
                );
                ctx.try_send(batch);
            }
            lines.push(l);
        };
        if self.bracketing {
            submit("BEGIN".into());
        }
        stats.each_line(self.json, self.reset, &mut submit);
        if self.bracketing {
            submit("END".into());
        }
        if let Some(path) = &self.log_file {
            use std::os::unix::fs::OpenOptionsExt;
            let f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path);
            match f {
                Ok(mut f) => {
                    let when = ctime_now();
                    let mut buf = Vec::new();
                    for l in &lines {
                        let _ = writeln!(buf, "{when}: {l}");
                    }
                    if let Err(e) = f.write_all(&buf) {
                        ctx.notices
                            .error(format!("impstats: error writing stats file {path}: {e}"));
                    }
                }
                Err(e) => ctx
                    .notices
                    .error(format!("impstats: error opening stats file {path}: {e}")),
            }
        }
    }
}

/// ctime(3) without its newline.
fn ctime_now() -> String {
    let mut t: libc::time_t = 0;
    let mut buf = [0 as libc::c_char; 32];
    // SAFETY: time() writes t; ctime_r writes at most 26 bytes into our 32-byte buffer.
    let s = unsafe {
        libc::time(&mut t);
        if libc::ctime_r(&t, buf.as_mut_ptr()).is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(buf.as_ptr())
    };
    s.to_string_lossy().trim_end_matches('\n').to_string()
}

impl Source for Pstats {
    fn name(&self) -> String {
        "impstats".into()
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
