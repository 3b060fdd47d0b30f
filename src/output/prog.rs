//! omprog: runs `binary` and feeds it the rendered messages on stdin, one per line, with
//! rsyslog 8.2302's semantics:
//!
//! - `binary` is split like rsyslog's `split_binary_parameters`: the program is everything
//!   up to the first space; the rest is split at spaces outside double quotes, and the
//!   quotes are *kept* in the arguments (`-c "a b"` gives `-c` and `"a b"`). No `PATH` search.
//! - The program's stdout and stderr go to `output` (appended, created with
//!   `fileCreateMode`, default 0600, reopened on HUP) or to /dev/null; with
//!   `confirmMessages` stdout is read instead: the program must answer `OK` once when it has
//!   started and after every message (leading dots are keep-alives; anything else is an
//!   error, reported with `reportFailures`).
//! - A program that died (`EPIPE`, end of its stdout), did not answer within
//!   `confirmTimeout` (default 10 s) or answered wrongly is restarted and the message is sent
//!   again once, as rsyslog's action retry does; if that fails too, the action is suspended
//!   for `action.resumeInterval` seconds (default 30) and its messages are counted as lost.
//! - Closing (shutdown, restart after a timeout): SIGTERM first when `signalOnClose`, close
//!   stdin, wait up to `closeTimeout` ms (default 5000), then SIGKILL when
//!   `killUnresponsive` (default: `signalOnClose`).
//! - HUP is forwarded as `hup.signal` when set.
//! - `useTransactions`: each batch is framed by `beginTransactionMark` and
//!   `commitTransactionMark` lines (confirmed when `confirmMessages`; `DEFER_COMMIT` and
//!   `PREVIOUS_COMMITTED` count as success).
//!
//! Unlike rsyslog, writes to the program never block the processing thread for longer than
//! `confirmTimeout`: a program that stops reading is treated as unresponsive and restarted.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::model::{Action, PValue};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::Output;

/// rsyslog's argument splitting of `binary` (program, then argv[1..]).
pub fn split_binary(s: &str) -> (String, Vec<String>) {
    let Some(sp) = s.find(' ') else {
        return (s.to_string(), Vec::new());
    };
    let (bin, params) = (&s[..sp], &s.as_bytes()[sp + 1..]);
    let mut args = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for i in 0..params.len() {
        let piece = if params[i] == b' ' && !in_quotes {
            Some(&params[start..i])
        } else if i + 1 >= params.len() {
            Some(&params[start..=i])
        } else {
            if params[i] == b'"' {
                in_quotes = !in_quotes;
            }
            None
        };
        if let Some(p) = piece {
            args.push(String::from_utf8_lossy(p).into_owned());
            start = i + 1;
        }
    }
    (bin.to_string(), args)
}

/// A running program.
struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
}

/// The output-capture thread's shared state.
struct Capture {
    /// Our copy of the pipe's write end, handed to every child.
    write_end: Option<OwnedFd>,
    reopen: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Failure {
    /// The program is gone or unusable: restart it.
    Restart,
    /// It answered something other than OK: retry with the same program.
    Retry,
}

pub struct ProgOutput {
    binary: String,
    args: Vec<String>,
    template: Arc<Template>,
    confirm: bool,
    confirm_timeout: Duration,
    report_failures: bool,
    transactions: Option<(Vec<u8>, Vec<u8>)>,
    hup_signal: Option<nix::sys::signal::Signal>,
    signal_on_close: bool,
    close_timeout: Duration,
    kill_unresponsive: bool,
    resume_interval: Duration,
    capture: Option<Capture>,
    proc: Option<Proc>,
    /// Closed programs that did not exit within closeTimeout (reaped later).
    zombies: Vec<Child>,
    buf: Vec<u8>,
    ends: Vec<usize>,
    suspended_until: Option<Instant>,
    /// Suspended since the last successful delivery (rsyslog counts one suspension per
    /// outage, its retries add only to the duration).
    in_outage: bool,
    /// impstats' `suspended`, `suspended.duration` (s), `resumed` not yet reported.
    susp: [u64; 3],
    lost_total: u64,
    /// `lost_total` already reported to impstats.
    failed_reported: u64,
    warned_newline: Option<Instant>,
    /// Bytes the last `send` wrote before it returned.
    last_sent: usize,
}

fn io_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl ProgOutput {
    pub fn new(a: &Action, template: Arc<Template>) -> Result<ProgOutput, String> {
        let p = &a.params;
        let flag = |n: &str, d: bool| match p.get(n) {
            Some(PValue::Bool(b)) => *b,
            _ => d,
        };
        let int = |n: &str| match p.get(n) {
            Some(PValue::Int(i)) => Some(*i),
            _ => None,
        };
        let (binary, args) = split_binary(p.str("binary").unwrap_or_default());
        if binary.is_empty() {
            return Err("parameter 'binary' is empty".into());
        }
        use nix::sys::signal::Signal;
        let hup_signal = match p.str("hup.signal") {
            None => None,
            Some("HUP") => Some(Signal::SIGHUP),
            Some("USR1") => Some(Signal::SIGUSR1),
            Some("USR2") => Some(Signal::SIGUSR2),
            Some("INT") => Some(Signal::SIGINT),
            Some("TERM") => Some(Signal::SIGTERM),
            Some(other) => return Err(format!("hup.signal '{other}' in hup.signal parameter")),
        };
        let signal_on_close = flag("signalOnClose", false);
        let transactions = flag("useTransactions", false).then(|| {
            (
                p.str("beginTransactionMark")
                    .unwrap_or("BEGIN TRANSACTION")
                    .as_bytes()
                    .to_vec(),
                p.str("commitTransactionMark")
                    .unwrap_or("COMMIT TRANSACTION")
                    .as_bytes()
                    .to_vec(),
            )
        });
        let capture = match p.str("output") {
            Some(path) => {
                let mode = match p.get("fileCreateMode") {
                    Some(PValue::Mode(m)) => *m,
                    _ => 0o600,
                };
                Some(start_capture(path, mode)?)
            }
            None if p.contains("fileCreateMode") => return Err(
                "the 'fileCreateMode' parameter requires specifying the 'output' parameter also"
                    .into(),
            ),
            None => None,
        };
        Ok(ProgOutput {
            binary,
            args,
            template,
            confirm: flag("confirmMessages", false),
            confirm_timeout: Duration::from_millis(
                int("confirmTimeout").unwrap_or(10_000).max(0) as u64
            ),
            report_failures: flag("reportFailures", false),
            transactions,
            hup_signal,
            signal_on_close,
            close_timeout: Duration::from_millis(int("closeTimeout").unwrap_or(5000).max(0) as u64),
            kill_unresponsive: flag("killUnresponsive", signal_on_close),
            resume_interval: Duration::from_secs(
                int("action.resumeInterval").unwrap_or(30).max(1) as u64
            ),
            capture,
            proc: None,
            zombies: Vec::new(),
            buf: Vec::with_capacity(64 * 1024),
            ends: Vec::new(),
            suspended_until: None,
            in_outage: false,
            susp: [0; 3],
            lost_total: 0,
            failed_reported: 0,
            warned_newline: None,
            last_sent: 0,
        })
    }

    fn warn(&self, text: String) {
        crate::engine::report_error(format!("omprog: program '{}'{text}", self.binary));
    }

    /// Starts the program (and, with confirmMessages, waits for its first OK).
    fn start(&mut self) -> Result<(), Failure> {
        let program = if self.binary.contains('/') {
            self.binary.clone()
        } else {
            format!("./{}", self.binary)
        };
        let mut cmd = Command::new(program);
        cmd.arg0(&self.binary)
            .args(&self.args)
            .stdin(Stdio::piped());
        let out = || -> Stdio {
            match self.capture.as_ref().and_then(|c| c.write_end.as_ref()) {
                Some(fd) => fd
                    .try_clone()
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
                None => Stdio::null(),
            }
        };
        cmd.stdout(if self.confirm { Stdio::piped() } else { out() });
        cmd.stderr(out());
        // SAFETY: signal() is async-signal-safe; rsyslog's children ignore SIGINT.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                Ok(())
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                crate::engine::report_error(format!(
                    "omprog: failed to execute program '{}': {e}",
                    self.binary
                ));
                return Err(Failure::Restart);
            }
        };
        let stdin = child.stdin.take();
        if let Some(s) = &stdin {
            set_nonblocking(s.as_raw_fd());
        }
        let stdout = child.stdout.take();
        self.proc = Some(Proc {
            child,
            stdin,
            stdout,
        });
        if self.confirm {
            if let Err(f) = self.read_status() {
                if self.proc.is_some() {
                    self.terminate();
                }
                return Err(f);
            }
        }
        Ok(())
    }

    fn pid(&self) -> u32 {
        self.proc.as_ref().map_or(0, |p| p.child.id())
    }

    /// Closes the program's pipes and waits for it (up to closeTimeout, then SIGKILL when
    /// killUnresponsive).
    fn cleanup(&mut self) {
        let Some(mut p) = self.proc.take() else {
            return;
        };
        drop(p.stdin.take());
        drop(p.stdout.take());
        let deadline = Instant::now() + self.close_timeout;
        loop {
            match p.child.try_wait() {
                Ok(Some(st)) => {
                    if !st.success() {
                        crate::engine::report_error(format!(
                            "omprog: child process '{}' (pid {}) exited with {st}",
                            self.binary,
                            p.child.id()
                        ));
                    }
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        let ms = self.close_timeout.as_millis();
        if self.kill_unresponsive {
            self.warn(format!(
                " (pid {}) did not terminate within timeout ({ms} ms); killing it",
                p.child.id()
            ));
            let _ = p.child.kill();
            let _ = p.child.wait();
        } else {
            self.warn(format!(
                " (pid {}) did not terminate within timeout ({ms} ms); ignoring it",
                p.child.id()
            ));
            self.zombies.push(p.child);
        }
    }

    /// SIGTERM when signalOnClose, then `cleanup`.
    fn terminate(&mut self) {
        if self.signal_on_close {
            if let Some(p) = &self.proc {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p.child.id() as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        self.cleanup();
    }

    /// Writes all of `data` to the program's stdin within confirmTimeout.
    fn send(&mut self, data: &[u8]) -> Result<(), Failure> {
        let deadline = Instant::now() + self.confirm_timeout;
        let mut off = 0;
        self.last_sent = 0;
        while off < data.len() {
            let Some(stdin) = self.proc.as_mut().and_then(|p| p.stdin.as_mut()) else {
                return Err(Failure::Restart);
            };
            match stdin.write(&data[off..]) {
                Ok(n) => {
                    off += n;
                    self.last_sent = off;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let fd = stdin.as_raw_fd();
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || !poll_fd(fd, libc::POLLOUT, left) {
                        self.warn(format!(
                            " (pid {}) did not read its input within timeout ({} ms); will be restarted",
                            self.pid(),
                            self.confirm_timeout.as_millis()
                        ));
                        self.terminate();
                        return Err(Failure::Restart);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    self.warn(format!(
                        " (pid {}) terminated; will be restarted",
                        self.pid()
                    ));
                    self.cleanup();
                    return Err(Failure::Restart);
                }
                Err(e) => {
                    crate::engine::report_error(format!(
                        "omprog: error sending message to program: {e}"
                    ));
                    self.terminate();
                    return Err(Failure::Restart);
                }
            }
        }
        Ok(())
    }

    /// Reads one status line (confirmMessages).
    fn read_status(&mut self) -> Result<(), Failure> {
        let mut line: Vec<u8> = Vec::with_capacity(64);
        let mut chunk = [0u8; 4096];
        let deadline = Instant::now() + self.confirm_timeout;
        loop {
            let Some(out) = self.proc.as_mut().and_then(|p| p.stdout.as_mut()) else {
                return Err(Failure::Restart);
            };
            let fd = out.as_raw_fd();
            let left = deadline.saturating_duration_since(Instant::now());
            if !poll_fd(fd, libc::POLLIN, left) {
                self.warn(format!(
                    " (pid {}) did not respond within timeout ({} ms); will be restarted",
                    self.pid(),
                    self.confirm_timeout.as_millis()
                ));
                self.terminate();
                return Err(Failure::Restart);
            }
            let room = 4095 - line.len();
            let n = match out.read(&mut chunk[..room]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::engine::report_error(format!(
                        "omprog: error reading response from program: {e}"
                    ));
                    return Err(Failure::Retry);
                }
            };
            if n == 0 {
                self.warn(format!(
                    " (pid {}) terminated; will be restarted",
                    self.pid()
                ));
                self.cleanup();
                return Err(Failure::Restart);
            }
            line.extend_from_slice(&chunk[..n]);
            let ended = line.last() == Some(&b'\n');
            if !ended && chunk[..n].contains(&b'\n') {
                self.warn(" returned a multiline response; will be restarted".into());
                self.report(&line);
                self.terminate();
                return Err(Failure::Restart);
            }
            if ended {
                break;
            }
            if line.len() >= 4095 {
                self.warn(" returned a too long response; will be restarted".into());
                self.report(&line);
                self.terminate();
                return Err(Failure::Restart);
            }
        }
        line.pop();
        let mut s = &line[..];
        while s.first() == Some(&b'.') {
            s = &s[1..];
        }
        if s == b"OK" || s == b"DEFER_COMMIT" || s == b"PREVIOUS_COMMITTED" {
            Ok(())
        } else {
            self.report(s);
            Err(Failure::Retry)
        }
    }

    fn report(&self, line: &[u8]) {
        if self.report_failures {
            self.warn(format!(" returned: {}", String::from_utf8_lossy(line)));
        }
    }

    /// Sends `data` (and reads the answer with confirmMessages) with rsyslog's retry: on
    /// failure the program is restarted if needed and the data sent once more.
    fn deliver(&mut self, data: &[u8]) -> bool {
        for attempt in 0..2 {
            if self.proc.is_none() && self.start().is_err() {
                continue;
            }
            let res = self.send(data).and_then(|()| {
                if self.confirm {
                    self.read_status()
                } else {
                    Ok(())
                }
            });
            match res {
                Ok(()) => {
                    if self.in_outage {
                        self.in_outage = false;
                        self.susp[2] += 1;
                    }
                    return true;
                }
                Err(Failure::Retry) | Err(Failure::Restart) if attempt == 0 => {}
                Err(_) => {}
            }
        }
        self.suspend();
        false
    }

    fn suspend(&mut self) {
        crate::engine::report_error(format!(
            "omprog: action for program '{}' suspended for {} s; messages for it are lost until then",
            self.binary,
            self.resume_interval.as_secs()
        ));
        self.suspended_until = Some(Instant::now() + self.resume_interval);
        if !self.in_outage {
            self.in_outage = true;
            self.susp[0] += 1;
        }
        self.susp[1] += self.resume_interval.as_secs();
    }

    fn suspended(&mut self) -> bool {
        match self.suspended_until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                self.suspended_until = None;
                false
            }
            None => false,
        }
    }

    fn flush(&mut self) {
        if self.ends.is_empty() {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        let ends = std::mem::take(&mut self.ends);
        let mut i = 0;
        let tx = self.transactions.clone();
        if let Some((begin, _)) = &tx {
            if self.suspended() || !self.deliver(&line_of(begin)) {
                self.lost_total += ends.len() as u64;
                self.buf = buf;
                self.buf.clear();
                self.ends = ends;
                self.ends.clear();
                return;
            }
        }
        if !self.confirm && tx.is_none() {
            // One write for the batch; after a failure, the message it hit is sent again
            // (once, after a restart), then the rest of the batch.
            let last = *ends.last().unwrap_or(&0);
            let mut start = 0;
            while i < ends.len() {
                if self.suspended() {
                    break;
                }
                if self.proc.is_none() && self.start().is_err() && self.start().is_err() {
                    self.suspend();
                    break;
                }
                if self.send(&buf[start..last]).is_ok() {
                    i = ends.len();
                    break;
                }
                let done = start + self.last_sent;
                while i < ends.len() && ends[i] <= done {
                    start = ends[i];
                    i += 1;
                }
                if i < ends.len() {
                    if !self.deliver(&buf[start..ends[i]]) {
                        break;
                    }
                    start = ends[i];
                    i += 1;
                }
            }
        } else {
            let mut start = 0;
            while i < ends.len() {
                if self.suspended() {
                    break;
                }
                if !self.deliver(&buf[start..ends[i]]) {
                    break;
                }
                start = ends[i];
                i += 1;
            }
        }
        self.lost_total += (ends.len() - i) as u64;
        if let Some((_, commit)) = &tx {
            if i == ends.len() && !self.suspended() {
                self.deliver(&line_of(commit));
            }
        }
        self.buf = buf;
        self.buf.clear();
        self.ends = ends;
        self.ends.clear();
    }
}

fn line_of(mark: &[u8]) -> Vec<u8> {
    let mut v = mark.to_vec();
    v.push(b'\n');
    v
}

fn set_nonblocking(fd: i32) {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// Waits up to `timeout` for `events` on `fd`; true when ready (or hung up).
fn poll_fd(fd: i32, events: libc::c_short, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let mut p = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        let ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis()
            .min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r > 0 {
            return true;
        }
        if r == 0 {
            return false;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

/// Starts the thread that copies the programs' stdout/stderr to the `output` file.
fn start_capture(path: &str, mode: u32) -> Result<Capture, String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two descriptors that we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!(
            "cannot create the output pipe: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let reopen = Arc::new(AtomicBool::new(false));
    let (path, flag) = (path.to_string(), reopen.clone());
    let thread = std::thread::Builder::new()
        .name("oxsyslogd-omprog-out".into())
        .spawn(move || capture_loop(File::from(rd), &path, mode, &flag))
        .map_err(io_err)?;
    Ok(Capture {
        write_end: Some(wr),
        reopen,
        thread: Some(thread),
    })
}

fn capture_loop(mut rd: File, path: &str, mode: u32, reopen: &AtomicBool) {
    let mut file: Option<File> = None;
    let mut open_failed = false;
    let mut write_failed = false;
    let mut chunk = vec![0u8; 4096];
    loop {
        let n = match rd.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if reopen.swap(false, Ordering::SeqCst) {
            file = None;
            open_failed = false;
        }
        if file.is_none() && !open_failed {
            match OpenOptions::new()
                .append(true)
                .create(true)
                .mode(mode)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)
            {
                Ok(f) => file = Some(f),
                Err(e) => {
                    crate::engine::report_error(format!("omprog: error opening output file {path}; output from program will be discarded: {e}"));
                    open_failed = true;
                }
            }
        }
        if let Some(f) = file.as_mut() {
            match f.write_all(&chunk[..n]) {
                Ok(()) if write_failed => {
                    crate::engine::report_warning("omprog: resumed writing to output file".into());
                    write_failed = false;
                }
                Ok(()) => {}
                Err(e) if !write_failed => {
                    crate::engine::report_error(format!("omprog: error writing to output file (subsequent errors will not be reported): {e}"));
                    write_failed = true;
                }
                Err(_) => {}
            }
        }
    }
}

impl Output for ProgOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        let start = self.buf.len();
        self.template.render(m, env, &mut self.buf);
        if self.buf.last() != Some(&b'\n') || self.buf.len() == start {
            if self
                .warned_newline
                .is_none_or(|t| t.elapsed() > Duration::from_secs(30))
            {
                crate::engine::report_error(format!(
                    "omprog: messages must be terminated with \\n at end of message, but this message is not: '{}'",
                    String::from_utf8_lossy(&self.buf[start..])
                ));
                self.warned_newline = Some(Instant::now());
            }
            self.buf.push(b'\n');
        }
        self.ends.push(self.buf.len());
    }

    fn end_batch(&mut self) {
        self.flush();
    }

    fn tick(&mut self) {
        self.zombies
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    }

    fn hup(&mut self) {
        self.flush();
        if let (Some(sig), Some(p)) = (self.hup_signal, &self.proc) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p.child.id() as i32), sig);
        }
        if let Some(c) = &self.capture {
            c.reopen.store(true, Ordering::SeqCst);
        }
    }

    fn take_failed(&mut self) -> u64 {
        let n = self.lost_total - self.failed_reported;
        self.failed_reported = self.lost_total;
        n
    }

    fn take_suspensions(&mut self) -> [u64; 3] {
        std::mem::take(&mut self.susp)
    }

    fn suspended_now(&self) -> bool {
        self.suspended_until.is_some_and(|t| Instant::now() < t)
    }

    fn shutdown(&mut self) -> u64 {
        self.flush();
        if self.proc.is_some() {
            self.terminate();
        }
        if let Some(mut c) = self.capture.take() {
            drop(c.write_end.take());
            if let Some(t) = c.thread.take() {
                let deadline = Instant::now() + self.close_timeout;
                while !t.is_finished() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if t.is_finished() {
                    let _ = t.join();
                } else {
                    crate::engine::report_error("omprog: forcing termination of output capture thread because of unresponsive child process".into());
                }
            }
        }
        self.lost_total
    }
}

#[cfg(test)]
mod tests {
    use super::split_binary;

    #[test]
    fn binary_is_split_like_rsyslog() {
        assert_eq!(split_binary("/bin/x"), ("/bin/x".into(), vec![]));
        assert_eq!(
            split_binary("/bin/x a b"),
            ("/bin/x".into(), vec!["a".to_string(), "b".into()])
        );
        // Quotes group but are kept.
        assert_eq!(
            split_binary("/bin/sh -c \"cat >> out\""),
            (
                "/bin/sh".into(),
                vec!["-c".to_string(), "\"cat >> out\"".into()]
            )
        );
        assert_eq!(
            split_binary("/bin/x a  b"),
            (
                "/bin/x".into(),
                vec!["a".to_string(), "".into(), "b".into()]
            )
        );
    }
}
