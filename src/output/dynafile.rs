//! omfile with `dynaFile=` (legacy `?Template`): a template renders the file path per
//! message. Open files live in an LRU cache of `dynaFileCacheSize` entries (default 10; the
//! least recently used is closed when a new one is needed). The messages of a batch are
//! grouped by path, and each file gets one write per batch. HUP closes every file.
//!
//! rsyslog 8.2302 does not check the rendered path at all: a hostname of `../../x` in an RFC
//! 5424 message makes it write outside the log tree (only the template options
//! `secpath-drop`/`secpath-replace` protect). oxsyslogd refuses a rendered path with a `..`
//! component and discards the message with an error (a deliberate difference).

use std::fs::File;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::model::{PValue, Params};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::file::{open_log_file, FileSettings};
use super::Output;

/// One open file of the cache.
struct Entry {
    path: Vec<u8>,
    file: File,
    used: u64,
}

/// The messages of the current batch for one path.
struct Group {
    path: Vec<u8>,
    buf: Vec<u8>,
    count: u64,
}

/// A path that could not be opened recently (reported once, retried after a second).
struct Failing {
    path: Vec<u8>,
    retry_at: Instant,
}

pub struct DynaFileOutput {
    settings: FileSettings,
    path_tpl: Arc<Template>,
    template: Arc<Template>,
    cache_size: usize,
    cache: Vec<Entry>,
    clock: u64,
    groups: Vec<Group>,
    /// Index of the group the previous message went to (consecutive messages often share it).
    last_group: usize,
    scratch: Vec<u8>,
    failing: Vec<Failing>,
    lost_total: u64,
    /// `lost_total` already reported to impstats.
    failed_reported: u64,
}

/// `dynaFileCacheSize` as rsyslog applies it: below 1 becomes 1.
pub fn cache_size(params: &Params) -> usize {
    match params.get("dynaFileCacheSize") {
        Some(PValue::Int(n)) => (*n).max(1) as usize,
        _ => 10,
    }
}

/// Why a rendered path is refused, if it is.
pub fn refuse_reason(path: &[u8]) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.contains(&0) {
        return Some("the path contains a NUL byte");
    }
    let p = Path::new(std::ffi::OsStr::from_bytes(path));
    if p.components().any(|c| c == Component::ParentDir) {
        return Some("the path contains a '..' component (path traversal)");
    }
    None
}

impl DynaFileOutput {
    pub fn new(
        settings: FileSettings,
        path_tpl: Arc<Template>,
        template: Arc<Template>,
        cache_size: usize,
    ) -> DynaFileOutput {
        DynaFileOutput {
            settings,
            path_tpl,
            template,
            cache_size: cache_size.max(1),
            cache: Vec::new(),
            clock: 0,
            groups: Vec::new(),
            last_group: 0,
            scratch: Vec::with_capacity(256),
            failing: Vec::new(),
            lost_total: 0,
            failed_reported: 0,
        }
    }

    /// The cache index of an open file for `path`, opening it (evicting the least recently
    /// used entry when the cache is full).
    fn file_for(&mut self, path: &[u8]) -> Result<usize, String> {
        self.clock += 1;
        if let Some(i) = self.cache.iter().position(|e| e.path == path) {
            self.cache[i].used = self.clock;
            return Ok(i);
        }
        let p = Path::new(std::ffi::OsStr::from_bytes(path));
        if self.cache.len() >= self.cache_size {
            if let Some((oldest, _)) = self.cache.iter().enumerate().min_by_key(|(_, e)| e.used) {
                // Dropping the entry closes the file.
                self.cache.swap_remove(oldest);
            }
        }
        let file = open_log_file(p, &self.settings)?;
        self.cache.push(Entry {
            path: path.to_vec(),
            file,
            used: self.clock,
        });
        Ok(self.cache.len() - 1)
    }

    fn write_group(&mut self, g: &Group) {
        let now = Instant::now();
        if let Some(f) = self.failing.iter().find(|f| f.path == g.path) {
            if now < f.retry_at {
                self.lost_total += g.count;
                return;
            }
        }
        let res = self.file_for(&g.path).and_then(|i| {
            let e = &mut self.cache[i];
            e.file
                .write_all(&g.buf)
                .and_then(|()| {
                    if self.settings.sync {
                        e.file.sync_data()
                    } else {
                        Ok(())
                    }
                })
                .map_err(|err| {
                    let msg = format!("write failed: {err}");
                    self.cache.swap_remove(i);
                    msg
                })
        });
        let shown = String::from_utf8_lossy(&g.path).into_owned();
        match res {
            Ok(()) => {
                if let Some(pos) = self.failing.iter().position(|f| f.path == g.path) {
                    self.failing.swap_remove(pos);
                    crate::engine::report_warning(format!(
                        "omfile: dynamic file '{shown}' is writable again"
                    ));
                }
            }
            Err(e) => {
                self.lost_total += g.count;
                match self.failing.iter_mut().find(|f| f.path == g.path) {
                    Some(f) => f.retry_at = now + Duration::from_secs(1),
                    None => {
                        crate::engine::report_error(format!("omfile: could not open dynamic file '{shown}': {e} - discarding messages for it until it works again"));
                        // Bounded: forget the oldest failures.
                        if self.failing.len() >= 1000 {
                            self.failing.remove(0);
                        }
                        self.failing.push(Failing {
                            path: g.path.clone(),
                            retry_at: now + Duration::from_secs(1),
                        });
                    }
                }
            }
        }
    }
}

impl Output for DynaFileOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        self.scratch.clear();
        self.path_tpl.render(m, env, &mut self.scratch);
        if let Some(why) = refuse_reason(&self.scratch) {
            self.lost_total += 1;
            crate::engine::report_error(format!(
                "omfile: dynamic file name '{}' refused: {why} - discarding message",
                String::from_utf8_lossy(&self.scratch)
            ));
            return;
        }
        let idx = if self
            .groups
            .get(self.last_group)
            .is_some_and(|g| g.path == self.scratch)
        {
            self.last_group
        } else if let Some(i) = self.groups.iter().position(|g| g.path == self.scratch) {
            i
        } else {
            self.groups.push(Group {
                path: self.scratch.clone(),
                buf: Vec::with_capacity(4096),
                count: 0,
            });
            self.groups.len() - 1
        };
        self.last_group = idx;
        let g = &mut self.groups[idx];
        self.template.render(m, env, &mut g.buf);
        g.count += 1;
    }

    fn end_batch(&mut self) {
        let groups = std::mem::take(&mut self.groups);
        for g in &groups {
            self.write_group(g);
        }
        self.last_group = 0;
    }

    fn hup(&mut self) {
        self.end_batch();
        self.cache.clear();
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
        self.end_batch();
        self.cache.clear();
        self.lost_total
    }
}

#[cfg(test)]
mod tests {
    use super::refuse_reason;

    #[test]
    fn traversal_and_empty_paths_are_refused() {
        assert!(refuse_reason(b"/var/log/host/x.log").is_none());
        assert!(refuse_reason(b"logs/x..y/.hidden/x.log").is_none());
        assert!(refuse_reason(b"").is_some());
        assert!(refuse_reason(b"/var/log/../etc/passwd").is_some());
        assert!(refuse_reason(b"/var/log/host/..").is_some());
        assert!(refuse_reason(b"../x").is_some());
        assert!(refuse_reason(b"/var/log/a\0b").is_some());
    }
}
