//! ompipe (`|/path/to/fifo`, `action(type="ompipe" pipe=…)`): writes to a named pipe.
//!
//! Like rsyslog 8.2302 the pipe is opened `O_RDWR|O_NONBLOCK`, so opening never blocks and a
//! FIFO without a reader still takes data until the kernel buffer is full. When the pipe is
//! full (`EAGAIN`) rsyslog suspends the action and retries; here the unwritten rest of the
//! batch is kept (up to `BACKLOG_MAX` bytes, beyond which messages are counted as lost) and
//! retried with the next batch or tick — the processing thread never waits on the pipe. A
//! pipe that cannot be opened is reported once and retried. HUP closes it (reopened on the
//! next write).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::model::Action;
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::Output;

/// Bytes kept for a full pipe before new messages are dropped.
const BACKLOG_MAX: usize = 1 << 20;

pub struct PipeOutput {
    path: PathBuf,
    template: Arc<Template>,
    fd: Option<File>,
    /// Bytes not yet written: the backlog of a full pipe, then the current batch.
    buf: Vec<u8>,
    /// Message ends inside `buf` not yet written (for counting lost messages).
    ends: std::collections::VecDeque<usize>,
    /// How much of `buf` (from the front) has been written.
    written: usize,
    failing: bool,
    next_open: Option<Instant>,
    lost: u64,
    lost_total: u64,
    /// `lost_total` already reported to impstats.
    failed_reported: u64,
}

impl PipeOutput {
    pub fn new(a: &Action, template: Arc<Template>) -> PipeOutput {
        PipeOutput {
            path: PathBuf::from(a.params.str("pipe").unwrap_or_default()),
            template,
            fd: None,
            buf: Vec::with_capacity(64 * 1024),
            ends: std::collections::VecDeque::new(),
            written: 0,
            failing: false,
            next_open: None,
            lost: 0,
            lost_total: 0,
            failed_reported: 0,
        }
    }

    fn open(&mut self) -> bool {
        if self.fd.is_some() {
            return true;
        }
        let now = Instant::now();
        if self.next_open.is_some_and(|t| now < t) {
            return false;
        }
        match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&self.path)
        {
            Ok(f) => {
                self.fd = Some(f);
                self.next_open = None;
                true
            }
            Err(e) => {
                if !self.failing {
                    crate::engine::report_error(format!(
                        "ompipe: could not open output pipe '{}': {e}; retrying every second, messages are kept up to {} KiB",
                        self.path.display(),
                        BACKLOG_MAX / 1024
                    ));
                    self.failing = true;
                }
                self.next_open = Some(now + Duration::from_secs(1));
                false
            }
        }
    }

    /// Writes as much as the pipe takes now.
    fn flush(&mut self) {
        if self.written < self.buf.len() && self.open() {
            while self.written < self.buf.len() {
                let Some(f) = self.fd.as_mut() else { break };
                match f.write(&self.buf[self.written..]) {
                    Ok(0) => break,
                    Ok(n) => self.written += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        crate::engine::report_error(format!(
                            "ompipe: write error on pipe {}: {e}",
                            self.path.display()
                        ));
                        self.fd = None;
                        self.failing = true;
                        self.next_open = Some(Instant::now() + Duration::from_secs(1));
                        break;
                    }
                }
            }
        }
        while self.ends.front().is_some_and(|&e| e <= self.written) {
            self.ends.pop_front();
        }
        if self.written == self.buf.len() {
            self.buf.clear();
            self.written = 0;
            if self.failing && self.fd.is_some() {
                self.failing = false;
                if self.lost > 0 {
                    crate::engine::report_warning(format!(
                        "ompipe: pipe {} works again; {} messages were lost",
                        self.path.display(),
                        self.lost
                    ));
                }
                self.lost = 0;
            }
        } else if self.written > 0 && self.written * 2 >= self.buf.len() {
            // Compact the written front away.
            self.buf.drain(..self.written);
            for e in self.ends.iter_mut() {
                *e -= self.written;
            }
            self.written = 0;
        }
    }

    fn count_lost(&mut self, n: u64) {
        self.lost += n;
        self.lost_total += n;
    }
}

impl Output for PipeOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        if self.buf.len() - self.written >= BACKLOG_MAX {
            self.count_lost(1);
            return;
        }
        self.template.render(m, env, &mut self.buf);
        self.ends.push_back(self.buf.len());
    }

    fn end_batch(&mut self) {
        self.flush();
    }

    fn tick(&mut self) {
        self.flush();
    }

    fn hup(&mut self) {
        self.flush();
        self.fd = None;
        self.next_open = None;
    }

    fn take_failed(&mut self) -> u64 {
        let n = self.lost_total - self.failed_reported;
        self.failed_reported = self.lost_total;
        n
    }

    fn shutdown(&mut self) -> u64 {
        self.next_open = None;
        self.flush();
        let left = self.ends.len() as u64;
        self.count_lost(left);
        self.ends.clear();
        self.buf.clear();
        self.written = 0;
        self.lost_total
    }
}
