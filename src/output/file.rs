//! omfile for static files: creates the file (and its directories) with the configured mode,
//! owner and group, appends each batch with one write, optionally syncs, reopens on HUP, and
//! reports a failing file once per outage instead of once per message.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::model::{PValue, Params};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::Output;

/// Settings of one omfile action.
#[derive(Debug, Clone)]
pub struct FileSettings {
    pub path: PathBuf,
    pub file_mode: u32,
    pub dir_mode: u32,
    pub create_dirs: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    pub sync: bool,
    pub io_buffer_size: usize,
    pub fail_on_chown_failure: bool,
    /// `flushOnTXEnd` (default on): write at the end of every batch. Off: write when the
    /// buffer is full or `flushInterval` has passed (rsyslog's buffered mode).
    pub flush_on_tx_end: bool,
    /// `flushInterval` in seconds (default 1), for the buffered mode.
    pub flush_interval: Duration,
    /// `action.resumeInterval` (`$ActionResumeInterval`): how long the action stays
    /// suspended after the file could not be opened or written, as rsyslog suspends omfile
    /// on open errors (omfile.c `commitTransaction`); `None`: 1 s.
    pub resume_interval: Option<Duration>,
}

impl FileSettings {
    /// Reads an action's parameters, with module(load="builtin:omfile") defaults underneath.
    pub fn from_params(action: &Params, module: Option<&Params>) -> Result<FileSettings, String> {
        let get = |name: &str| {
            action
                .get(name)
                .or_else(|| module.and_then(|m| m.get(name)))
        };
        let path = match action.str("file") {
            Some(p) => PathBuf::from(p),
            // A dynafile action: the path is rendered per message (see dynafile.rs).
            None if action.contains("dynaFile") => PathBuf::new(),
            None => {
                return Err("either the \"file\" or \"dynafile\" parameter must be given".into())
            }
        };
        let mode = |name: &str, default: u32| match get(name) {
            Some(PValue::Mode(m)) => *m,
            _ => default,
        };
        let flag = |name: &str, default: bool| match get(name) {
            Some(PValue::Bool(b)) => *b,
            _ => default,
        };
        let user = |name: &str| -> Result<Option<u32>, String> {
            match get(name) {
                Some(PValue::Str(u)) => crate::config::values::user(u)
                    .map(Some)
                    .ok_or_else(|| format!("{name}: unknown user '{u}'")),
                Some(PValue::Int(n)) => Ok(Some(*n as u32)),
                _ => Ok(None),
            }
        };
        let group = |name: &str| -> Result<Option<u32>, String> {
            match get(name) {
                Some(PValue::Str(g)) => crate::config::values::group(g)
                    .map(Some)
                    .ok_or_else(|| format!("{name}: unknown group '{g}'")),
                Some(PValue::Int(n)) => Ok(Some(*n as u32)),
                _ => Ok(None),
            }
        };
        let owner = user("fileOwner")?.or(user("fileOwnerNum")?);
        let grp = group("fileGroup")?.or(group("fileGroupNum")?);
        Ok(FileSettings {
            path,
            file_mode: mode("fileCreateMode", 0o644),
            dir_mode: mode("dirCreateMode", 0o700),
            create_dirs: flag("createDirs", true),
            owner,
            group: grp,
            dir_owner: user("dirOwner")?.or(user("dirOwnerNum")?),
            dir_group: group("dirGroup")?.or(group("dirGroupNum")?),
            sync: flag("sync", false),
            io_buffer_size: match get("ioBufferSize") {
                Some(PValue::Int(n)) if *n > 0 => *n as usize,
                _ => 4096,
            },
            fail_on_chown_failure: flag("failOnChOwnFailure", true),
            // asyncWriting="on" makes rsyslog flush from a background writer on its own
            // schedule; here the same policy (buffer up to ioBufferSize, flush at least every
            // flushInterval) applies in the writer of the processing thread.
            flush_on_tx_end: flag("flushOnTXEnd", true) && !flag("asyncWriting", false),
            flush_interval: Duration::from_secs(match get("flushInterval") {
                Some(PValue::Int(n)) if *n > 0 => *n as u64,
                _ => 1,
            }),
            resume_interval: match action.get("action.resumeInterval") {
                Some(PValue::Int(n)) => Some(Duration::from_secs((*n).max(1) as u64)),
                Some(PValue::Str(v)) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .map(|n| Duration::from_secs(n.max(1))),
                _ => None,
            },
        })
    }
}

/// Creates the missing parent directories of `path` one by one, as rsyslog's
/// `makeFileParentDirs`: each gets `dirCreateMode` (under the umask) and `dirOwner`/`dirGroup`.
fn make_parent_dirs(path: &Path, s: &FileSettings) -> Result<(), String> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(x) = d.filter(|x| !x.as_os_str().is_empty() && !x.exists()) {
        missing.push(x);
        d = x.parent();
    }
    for x in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(s.dir_mode).create(x) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create directory {}: {e}", x.display())),
        }
        if s.dir_owner.is_some() || s.dir_group.is_some() {
            if let Err(e) = std::os::unix::fs::chown(x, s.dir_owner, s.dir_group) {
                if s.fail_on_chown_failure {
                    return Err(format!("{}: cannot set owner/group: {e}", x.display()));
                }
            }
        }
    }
    Ok(())
}

/// Opens (creating it and its directories when configured) a log file for appending, with
/// the action's file mode, owner and group applied to a newly created file.
pub fn open_log_file(path: &Path, s: &FileSettings) -> Result<File, String> {
    let existed = path.exists();
    if !existed && s.create_dirs {
        make_parent_dirs(path, s)?;
    }
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(s.file_mode)
        .custom_flags(nix::libc::O_CLOEXEC | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !existed && (s.owner.is_some() || s.group.is_some()) {
        if let Err(e) = std::os::unix::fs::chown(path, s.owner, s.group) {
            if s.fail_on_chown_failure {
                return Err(format!("{}: cannot set owner/group: {e}", path.display()));
            }
        }
    }
    Ok(f)
}

/// A static-file action.
pub struct FileOutput {
    settings: FileSettings,
    template: Arc<Template>,
    file: Option<File>,
    buf: Vec<u8>,
    pending: u64,
    /// Messages that could not be written since the last successful write.
    lost: u64,
    lost_total: u64,
    /// `lost_total` already reported to impstats.
    failed_reported: u64,
    failing_since: Option<Instant>,
    next_retry: Option<Instant>,
    /// The last failure was an open error (the action is suspended until `next_retry`).
    open_failed: bool,
    /// When the buffer got its first unwritten message (buffered mode).
    dirty_since: Option<Instant>,
}

impl FileOutput {
    pub fn new(settings: FileSettings, template: Arc<Template>) -> FileOutput {
        FileOutput {
            settings,
            template,
            file: None,
            buf: Vec::with_capacity(64 * 1024),
            pending: 0,
            lost: 0,
            lost_total: 0,
            failed_reported: 0,
            failing_since: None,
            next_retry: None,
            open_failed: false,
            dirty_since: None,
        }
    }

    fn open(&mut self) -> Result<File, String> {
        open_log_file(&self.settings.path, &self.settings)
    }

    /// Writes the collected batch; on failure counts the messages as lost and retries the
    /// open later (reporting once per outage).
    fn write_out(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.file.is_none() {
            if self.next_retry.is_some_and(|t| now < t) {
                self.drop_pending();
                return;
            }
            match self.open() {
                Ok(f) => {
                    self.open_failed = false;
                    if self.failing_since.take().is_some() {
                        crate::engine::report_warning(format!(
                            "omfile {}: writable again; {} messages were lost while it was not",
                            self.settings.path.display(),
                            self.lost
                        ));
                        self.lost = 0;
                    }
                    self.file = Some(f);
                }
                Err(e) => {
                    self.open_failed = true;
                    self.fail(&e, now);
                    return;
                }
            }
        }
        let Some(f) = self.file.as_mut() else { return };
        let res = f.write_all(&self.buf).and_then(|()| {
            if self.settings.sync {
                f.sync_data()
            } else {
                Ok(())
            }
        });
        match res {
            Ok(()) => {
                self.buf.clear();
                self.pending = 0;
                self.dirty_since = None;
            }
            Err(e) => {
                let msg = format!("{}: write failed: {e}", self.settings.path.display());
                self.file = None;
                self.fail(&msg, now);
            }
        }
    }

    fn fail(&mut self, why: &str, now: Instant) {
        if self.failing_since.is_none() {
            crate::engine::report_error(format!("omfile error: {why}; messages for this file are counted as lost until it works again"));
            self.failing_since = Some(now);
        }
        self.next_retry = Some(
            now + self
                .settings
                .resume_interval
                .unwrap_or(Duration::from_secs(1)),
        );
        self.drop_pending();
    }

    fn drop_pending(&mut self) {
        self.dirty_since = None;
        self.lost += self.pending;
        self.lost_total += self.pending;
        self.pending = 0;
        self.buf.clear();
    }
}

impl Output for FileOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        self.template.render_cached(m, env, &mut self.buf);
        self.pending += 1;
        if self.dirty_since.is_none() {
            self.dirty_since = Some(Instant::now());
        }
        // In batch mode the buffer may grow to a whole batch (one write per batch); in
        // buffered mode it is written whenever ioBufferSize is reached.
        let limit = if self.settings.flush_on_tx_end {
            self.settings.io_buffer_size.max(1 << 20)
        } else {
            self.settings.io_buffer_size
        };
        if self.buf.len() >= limit {
            self.write_out();
        }
    }

    /// Suspended while the file could not be opened and the resume interval has not passed
    /// (rsyslog suspends omfile on open errors, not on write errors): `action.execOnlyWhenPreviousIsSuspended` and
    /// `previous_action_suspended()` see it.
    fn suspended_now(&self) -> bool {
        self.open_failed && self.next_retry.is_some_and(|t| Instant::now() < t)
    }

    fn end_batch(&mut self) {
        if self.settings.flush_on_tx_end {
            self.write_out();
        } else {
            self.tick();
        }
    }

    fn tick(&mut self) {
        if self
            .dirty_since
            .is_some_and(|t| t.elapsed() >= self.settings.flush_interval)
        {
            self.write_out();
        }
    }

    fn hup(&mut self) {
        self.write_out();
        self.file = None;
    }

    fn lost_total(&self) -> u64 {
        self.lost_total
    }

    fn take_failed(&mut self) -> u64 {
        let n = self.lost_total - self.failed_reported;
        self.failed_reported = self.lost_total;
        n
    }

    fn shutdown(&mut self) -> u64 {
        self.write_out();
        if self.failing_since.is_some() {
            // One last try at close time.
            self.next_retry = None;
        }
        self.lost_total
    }
}
