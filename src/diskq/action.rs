//! The disk part of an action queue (src/output/actq.rs): its settings read from the action's
//! `queue.*` parameters, opening with the recovery report, and the process-wide work directory
//! (`global(workDirectory=)` / `$WorkDirectory`) that queue files live in.
//!
//! `queue.type="Disk"`: every message goes through the disk queue. Disk-assisted
//! (`LinkedList`/`FixedArray` with `queue.filename`): messages stay in memory until the memory
//! part reaches `queue.highWatermark` (default 90% of `queue.size`); then the newest messages
//! above `queue.lowWatermark` (default 70%) move to disk and every new message follows them
//! there until the disk part is empty again, so the order is kept (rsyslog's DA mode moves the
//! oldest messages and delivers from memory and disk at once, without order). The worker
//! takes from memory first, then from disk, and commits disk records only when the transport
//! confirmed them.

use std::path::PathBuf;
use std::sync::Mutex;

use super::{DiskQueue, DiskSettings};
use crate::config::model::{PValue, Params};

static WORK_DIRECTORY: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Records the config's work directory (before the actions are built).
pub fn set_work_directory(dir: Option<&str>) {
    let mut g = WORK_DIRECTORY.lock().unwrap_or_else(|e| e.into_inner());
    *g = dir.map(PathBuf::from);
}

fn work_directory() -> Option<PathBuf> {
    WORK_DIRECTORY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The disk settings of one action queue.
#[derive(Debug, Clone)]
pub struct DiskMode {
    pub disk: DiskSettings,
    /// `queue.type="Disk"`.
    pub only: bool,
    pub high_watermark: usize,
    pub low_watermark: usize,
    /// `queue.saveOnShutdown` (rsyslog's default: on): what memory holds at shutdown is
    /// written to disk.
    pub save_on_shutdown: bool,
    /// `queue.size` set on a `Disk` queue: at most that many messages on disk (unset: only
    /// `queue.maxDiskSpace` limits it; rsyslog would apply its default of 1000).
    pub max_records: Option<u64>,
}

fn int(p: &Params, name: &str) -> Option<i64> {
    match p.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        Some(PValue::Bool(b)) => Some(*b as i64),
        _ => None,
    }
}

impl DiskMode {
    /// Reads the disk settings: None for a queue without disk; an error for a disk queue
    /// without a file name or work directory (as rsyslog refuses it).
    pub fn from_params(
        p: &Params,
        disk_type: bool,
        size: usize,
    ) -> Result<Option<DiskMode>, String> {
        let name = p.str("queue.filename").filter(|s| !s.is_empty());
        let Some(name) = name else {
            if disk_type {
                return Err("queue.type=\"Disk\" needs queue.filename".into());
            }
            return Ok(None);
        };
        if name.contains('/') {
            return Err(format!("queue.filename \"{name}\" must not contain '/'"));
        }
        // queue.spoolDirectory: this queue's own directory instead of the work directory
        let spool = p
            .str("queue.spoolDirectory")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let Some(dir) = spool.or_else(work_directory) else {
            return Err(format!(
                "queue.filename \"{name}\" set but no work directory: use global(workDirectory=\"/some/path\") or $WorkDirectory"
            ));
        };
        let high = match int(p, "queue.highWatermark") {
            Some(n) if n >= 2 && (n as usize) <= size => n as usize,
            _ => (size / 100 * 90).max(1),
        };
        let low = match int(p, "queue.lowWatermark") {
            Some(n) if n >= 2 && (n as usize) <= high => n as usize,
            _ => (size / 100 * 70).max(1).min(high),
        };
        let sync = matches!(p.get("queue.syncQueueFiles"), Some(PValue::Bool(true)))
            || int(p, "queue.syncQueueFiles").unwrap_or(0) == 1;
        Ok(Some(DiskMode {
            disk: DiskSettings {
                dir,
                name: name.to_string(),
                max_file_size: int(p, "queue.maxFileSize")
                    .filter(|n| *n > 0)
                    .unwrap_or(1024 * 1024) as u64,
                max_disk_space: int(p, "queue.maxDiskSpace").unwrap_or(0).max(0) as u64,
                sync,
                checkpoint_interval: int(p, "queue.checkpointInterval").unwrap_or(0).max(0) as u64,
            },
            only: disk_type,
            high_watermark: high,
            low_watermark: low,
            max_records: int(p, "queue.size")
                .filter(|n| disk_type && *n > 0)
                .map(|n| n as u64),
            save_on_shutdown: !matches!(p.get("queue.saveOnShutdown"), Some(PValue::Bool(false)))
                && int(p, "queue.saveOnShutdown") != Some(0),
        }))
    }

    /// Opens the disk queue and reports what recovery found (recovered messages, damage).
    pub fn open(&self, action: &str) -> Result<DiskQueue, String> {
        let (q, rep) = DiskQueue::open(self.disk.clone())?;
        let at = self.disk.dir.join(&self.disk.name);
        for n in &rep.notes {
            crate::engine::report_error(format!(
                "action '{action}': disk queue {}: {n}",
                at.display()
            ));
        }
        if rep.lost > 0 {
            crate::engine::report_error(format!(
                "action '{action}': disk queue {}: {}{} message(s) lost in damaged or missing segments",
                at.display(),
                if rep.lost_estimated { "about " } else { "" },
                rep.lost
            ));
        }
        if rep.recovered > 0 {
            crate::engine::report_warning(format!(
                "action '{action}': disk queue {}: {} message(s) recovered from disk, sent before new ones",
                at.display(),
                rep.recovered
            ));
        }
        Ok(q)
    }
}
