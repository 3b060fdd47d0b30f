//! imklog: the kernel log (`/proc/kmsg`, or `logPath`), read as rsyslog 8.2302's Linux
//! driver (plugins/imklog/bsd.c) does: lines split at LF (a line longer than
//! `maxMessageSize` - 1 is cut there), an optional `[secs.usecs]` kernel timestamp after a
//! one-digit PRI, a second PRI (systemd's) preferred, non-kernel facilities dropped unless
//! permitted. Messages are built directly, not parsed: rawmsg and msg are the text after
//! the PRI, tag `kernel:`, host the local host name. `$RepeatedMsgReduction on` applies
//! to them through one limiter for the module (imklog.c), its pending summary emitted when
//! imklog stops.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use crate::config::model::{ModuleLoad, PValue, Params};
use crate::input::repeat::Repeat;
use crate::input::{Ctx, Source};
use crate::message::{Batch, Message, Peer, Span, SyslogTime};

/// Where the kernel log is on Linux (`_PATH_KLOG`).
pub const DEFAULT_PATH: &str = "/proc/kmsg";

pub struct Klog {
    path: String,
    permit_non_kernel: bool,
    parse_kernel_ts: bool,
    keep_kernel_ts: bool,
    console_log_level: Option<i32>,
    max_line: usize,
    local_host: Arc<str>,
}

fn flag(p: &Params, name: &str) -> bool {
    matches!(p.get(name), Some(PValue::Bool(true)))
}

/// Plans imklog from its `module(load="imklog" …)` parameters.
pub fn plan(m: &ModuleLoad, cfg: &crate::config::model::Config) -> Result<Klog, String> {
    let p = &m.params;
    if let Some(PValue::Int(n)) = p.get("ratelimitInterval") {
        if *n != 0 {
            return Err(format!(
                "{}: error: imklog: ratelimitInterval is not implemented in the runtime yet",
                m.loc
            ));
        }
    }
    let console_log_level = match p.get("consoleLogLevel") {
        Some(PValue::Int(n)) if *n != -1 => Some(*n as i32),
        _ => None,
    };
    let max_line = match cfg.globals.get("maxMessageSize") {
        Some(PValue::Int(n)) => (*n).max(128) as usize,
        _ => 8096,
    };
    Ok(Klog {
        path: p.str("logPath").unwrap_or(DEFAULT_PATH).to_string(),
        permit_non_kernel: flag(p, "permitNonKernelFacility"),
        parse_kernel_ts: flag(p, "parseKernelTimestamp"),
        keep_kernel_ts: flag(p, "keepKernelTimestamp"),
        console_log_level,
        // rsyslog reads at most maxMessageSize bytes per line
        max_line,
        local_host: Arc::from(crate::engine::local_hostname(cfg)),
    })
}

/// Appends a locally generated message (imklog, immark, impstats) as rsyslog builds one
/// without parsing: rawmsg and msg are `text`, `syslogtag` is `tag`, hostname and fromhost
/// the local host, fromhost-ip 127.0.0.1, timereported = timegenerated = `time`.
#[allow(clippy::too_many_arguments)]
pub fn push_local(
    batch: &mut Batch,
    text: &[u8],
    facility: u8,
    severity: u8,
    tag: &[u8],
    local_host: &Arc<str>,
    input: u16,
    time: &(SyslogTime, i64),
) {
    let peer = Ctx::peer_index(
        batch,
        &Peer {
            host: local_host.clone(),
            ip: Arc::from("127.0.0.1"),
            port: Arc::from(""),
        },
    );
    let base = batch.data.len();
    batch.data.extend_from_slice(text);
    let end = batch.data.len();
    batch.data.push(0);
    let ts = batch.data.len();
    batch.data.extend_from_slice(tag);
    let te = batch.data.len();
    batch.data.push(b'-');
    let dash = Span::new(te..te + 1);
    let pn = crate::parse::programname(tag, false).len();
    let m = Message {
        raw: Span::new(base..end),
        after_pri: (base + crate::parse::pri::raw_after_pri_offset(text)) as u32,
        facility,
        severity,
        protocol_version: 0,
        hostname: Span::EMPTY,
        tag: Span::new(ts..te),
        msg: Span::new(base..end),
        app_name: if pn == 0 {
            dash
        } else {
            Span::new(ts..ts + pn)
        },
        procid: dash,
        msgid: dash,
        structured_data: dash,
        time_reported: time.0,
        time_generated: time.0,
        time_generated_unix: time.1,
        peer,
        input,
        parsed: true,
        ..Message::default()
    };
    batch.msgs.push(m);
}

/// An I/O error as strerror(3) words it (without Rust's " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// rsyslog's imklog `parsePRI`: `<digits>` with a value of at most 191.
fn parse_pri(s: &[u8]) -> Option<(u8, usize)> {
    if s.first() != Some(&b'<') || !s.get(1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut i = 1;
    let mut v: u32 = 0;
    while i < s.len() && s[i].is_ascii_digit() && v <= 191 {
        v = v * 10 + (s[i] - b'0') as u32;
        i += 1;
    }
    if s.get(i) != Some(&b'>') || v > 191 {
        return None;
    }
    Some((v as u8, i + 1))
}

/// The realtime clock minus the monotonic clock, as bsd.c computes it.
fn boot_offset() -> (i64, i64) {
    let now = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the timespec we own.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        (ts.tv_sec, ts.tv_nsec)
    };
    let mono = now(libc::CLOCK_MONOTONIC);
    let real = now(libc::CLOCK_REALTIME);
    let mut sec = real.0 - mono.0;
    let mut usec = (real.1 - mono.1) / 1000;
    if usec < 0 {
        sec -= 1;
        usec += 1_000_000;
    }
    (sec, usec)
}

impl Klog {
    /// One kernel log line (bsd.c `submitSyslog` + imklog.c `Syslog`). `line` may be edited
    /// (timestamp stripped).
    fn submit(&self, batch: &mut Batch, input: u16, mut line: Vec<u8>) {
        let mut time = None;
        if self.parse_kernel_ts && line.get(3) == Some(&b'[') {
            let at = |i: usize| line.get(i).copied().unwrap_or(0);
            let mut i = 4;
            while at(i) != 0 && at(i).is_ascii_whitespace() {
                i += 1;
            }
            let mut secs: i64 = 0;
            while at(i).is_ascii_digit() {
                secs = secs.wrapping_mul(10).wrapping_add((at(i) - b'0') as i64);
                i += 1;
            }
            if at(i) == b'.' {
                i += 1;
                let mut usecs: i64 = 0;
                while at(i).is_ascii_digit() {
                    usecs = usecs.wrapping_mul(10).wrapping_add((at(i) - b'0') as i64);
                    i += 1;
                }
                if at(i) == b']' {
                    i += 1;
                    if !self.keep_kernel_ts {
                        line.drain(3..i);
                    }
                    let (so, uo) = boot_offset();
                    usecs += uo;
                    if usecs > 999_999 {
                        secs += 1;
                        usecs -= 1_000_000;
                    }
                    secs += so;
                    time = Some((crate::parse::local_time(secs, usecs as u32), secs));
                }
            }
        }
        // a second PRI (systemd writes `<6><30>…` style lines) wins when valid and not kern
        let mut pri = 6u8; // LOG_INFO (kern.info) when none is found
        let mut start = 0;
        let second = match (line.get(3), line.get(4)) {
            (Some(b'<'), _) => Some(3),
            (Some(b' '), Some(b'<')) => Some(4),
            _ => None,
        };
        let mut set = false;
        if let Some(off) = second {
            if let Some((v, n)) = parse_pri(&line[off..]) {
                if v >= 8 {
                    pri = v;
                    start = off + n;
                    set = true;
                }
            }
        }
        if !set {
            if let Some((v, n)) = parse_pri(&line) {
                pri = v;
                start = n;
            }
        }
        if !self.permit_non_kernel && pri >> 3 != 0 {
            return;
        }
        let time = time.unwrap_or_else(crate::parse::now_local);
        push_local(
            batch,
            &line[start..],
            pri >> 3,
            pri & 7,
            b"kernel:",
            &self.local_host,
            input,
            &time,
        );
    }

    /// `submit` followed by `$RepeatedMsgReduction` (imklog.c's one module rate limiter).
    fn submit_one(&self, batch: &mut Batch, ctx: &Ctx, rep: &mut Option<Repeat>, line: Vec<u8>) {
        let (mark, before) = (batch.data.len(), batch.len());
        self.submit(batch, ctx.input, line);
        if let (Some(r), true) = (rep.as_mut(), batch.len() > before) {
            r.check_last(batch, mark, ctx.parse.permit_slash_in_programname);
        }
    }

    fn run(self, file: std::fs::File, ctx: Ctx) {
        let mut rep = ctx.repeat.then(Repeat::default);
        self.read_loop(file, &ctx, &mut rep);
        // the pending "message repeated" summary, as ratelimitDestruct() in afterRun
        if let Some(r) = rep.as_mut() {
            let mut batch = ctx.new_batch();
            r.flush(&mut batch);
            if !batch.is_empty() {
                ctx.blocking_send(batch);
            }
        }
    }

    fn read_loop(&self, file: std::fs::File, ctx: &Ctx, rep: &mut Option<Repeat>) {
        let fd = file.as_raw_fd();
        let mut buf = vec![0u8; self.max_line];
        let mut len = 0usize;
        let stopped = |ctx: &Ctx| *ctx.shutdown.borrow();
        loop {
            if stopped(ctx) {
                return;
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, 200 ms timeout.
            if unsafe { libc::poll(&mut pfd, 1, 200) } <= 0 {
                continue;
            }
            let want = self.max_line - len;
            // SAFETY: reads at most `want` bytes into the tail of `buf`, which has that room.
            let r = unsafe { libc::read(fd, buf[len..].as_mut_ptr().cast(), want) };
            let mut batch = ctx.new_batch();
            if r > 0 {
                let filled = len + r as usize;
                // rsyslog treats the buffer as a C string: a NUL ends it
                let end = buf[..filled].iter().position(|&b| b == 0).unwrap_or(filled);
                let mut p = 0;
                while let Some(q) = buf[p..end].iter().position(|&b| b == b'\n') {
                    self.submit_one(&mut batch, ctx, rep, buf[p..p + q].to_vec());
                    p += q + 1;
                }
                let rest = end - p;
                if rest >= self.max_line - 1 {
                    self.submit_one(&mut batch, ctx, rep, buf[p..end].to_vec());
                    len = 0;
                } else {
                    buf.copy_within(p..end, 0);
                    len = rest;
                }
            } else {
                let err = std::io::Error::last_os_error();
                let retry =
                    r < 0 && matches!(err.raw_os_error(), Some(libc::EINTR) | Some(libc::EAGAIN));
                // end of data: a pending partial line is submitted (as rsyslog does)
                if len > 0 {
                    self.submit_one(&mut batch, ctx, rep, buf[..len].to_vec());
                    len = 0;
                }
                if r < 0 && !retry {
                    ctx.notices.error(format!(
                        "imklog: error reading kernel log - shutting down: {err}"
                    ));
                    ctx.blocking_send(batch);
                    return;
                }
                if r == 0 {
                    // a regular file or a FIFO without writer: wait for more
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
            if batch.is_empty() {
                ctx.recycle(batch);
            } else if !ctx.blocking_send(batch) {
                return;
            }
        }
    }
}

impl Source for Klog {
    fn name(&self) -> String {
        "imklog".into()
    }

    fn start(self: Box<Self>, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String> {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO without a writer must not block the start; reads are driven by
        // poll(). rsyslog reports an open failure and runs on without imklog.
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path)
        {
            Ok(f) => f,
            Err(e) => {
                ctx.notices.error(format!(
                    "imklog: cannot open kernel log ({}): {}.",
                    self.path,
                    strerror(&e)
                ));
                return Ok(tokio::spawn(async {}));
            }
        };
        let mut klog = *self;
        if let Some(level) = klog.console_log_level {
            // SAFETY: klogctl(8, NULL, level) only sets the console log level.
            let r = unsafe { libc::klogctl(8, std::ptr::null_mut(), level) };
            if r != 0 {
                ctx.notices.warning(format!(
                    "imklog: cannot set console log level: {}",
                    std::io::Error::last_os_error()
                ));
                klog.console_log_level = None;
            }
        }
        Ok(tokio::task::spawn_blocking(move || {
            let restore = klog.console_log_level.is_some();
            klog.run(file, ctx);
            if restore {
                // SAFETY: klogctl(7) re-enables console logging; no buffer is used.
                unsafe { libc::klogctl(7, std::ptr::null_mut(), 0) };
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pri_as_imklog_reads_it() {
        assert_eq!(parse_pri(b"<6>x"), Some((6, 3)));
        assert_eq!(parse_pri(b"<191>x"), Some((191, 5)));
        assert_eq!(parse_pri(b"<192>x"), None);
        assert_eq!(parse_pri(b"<x>"), None);
        assert_eq!(parse_pri(b"<12"), None);
    }
}
