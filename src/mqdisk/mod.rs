//! Disk and disk-assisted main and ruleset queues (`main_queue(queue.filename=…)`,
//! `$MainMsgQueueFileName`, `queue.type="Disk"`, `ruleset(… queue.filename=…)`): the
//! queue's settings, opening its disk queue (src/diskq/, the action queues' segment format)
//! with the recovery report, and starting the spooler ([`spool`]) that sits between the
//! queue's channel and its rules thread. Messages are stored with everything the rules and
//! templates read ([`codec`]). A queue without a file name gets none of this: its channel
//! goes straight to its rules thread as before.

pub mod codec;
mod spool;

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

pub use spool::Ctl;

use crate::config::model::{PValue, Params};
use crate::diskq::action::DiskMode;
use crate::mainq::MainQueue;
use crate::message::Batch;

/// A running spooler, as the engine stops it.
pub struct Handle {
    pub ctl: Arc<Ctl>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Shutdown: the spooler saves (or counts) what memory holds and ends; waits for it.
    pub fn stop(&mut self) {
        self.ctl.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Waits for a spooler that ends by itself (its channel closed and everything run).
    pub fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_disk_type(p: &Params) -> bool {
    matches!(p.get("queue.type"), Some(PValue::Str(t)) if t.eq_ignore_ascii_case("Disk"))
}

/// Whether queue parameters ask for a disk part.
pub fn wanted(p: &Params) -> bool {
    is_disk_type(p) || p.str("queue.filename").is_some_and(|s| !s.is_empty())
}

/// The disk settings of a main or ruleset queue of `size` messages. `legacy_main`: the main
/// queue configured by `$MainMsgQueue*` directives, whose water marks default to 80,000 and
/// 20,000 (rsconf.c) before queue.c's corrections.
pub fn settings(p: &Params, size: usize, legacy_main: bool) -> Result<Option<DiskMode>, String> {
    let Some(mut dm) = DiskMode::from_params(p, is_disk_type(p), size)? else {
        return Ok(None);
    };
    if legacy_main {
        if !p.contains("queue.highWatermark") && 80_000 <= size {
            dm.high_watermark = 80_000;
        }
        if !p.contains("queue.lowWatermark") && 20_000 <= dm.high_watermark {
            dm.low_watermark = 20_000;
        }
    }
    // a Disk main queue is not bounded by queue.size on disk (it is the memory bound here)
    dm.max_records = None;
    Ok(Some(dm))
}

/// Opens the disk queue of `dm` and starts the spooler between `rx` (what inputs admitted
/// into `mq`) and the returned receiver (the rules thread's). `what`: how messages name the
/// queue ("main queue", "ruleset 'r' queue").
pub fn start(
    what: &str,
    dm: DiskMode,
    rx: mpsc::Receiver<Batch>,
    mq: Arc<MainQueue>,
    pool: Arc<Mutex<Vec<Batch>>>,
) -> Result<(mpsc::Receiver<Batch>, Handle), String> {
    let (dq, rep) = crate::diskq::DiskQueue::open(dm.disk.clone())?;
    let at = dm.disk.dir.join(&dm.disk.name);
    for n in &rep.notes {
        crate::engine::report_error(format!("{what}: disk queue {}: {n}", at.display()));
    }
    if rep.lost > 0 {
        crate::engine::report_error(format!(
            "{what}: disk queue {}: {}{} message(s) lost in damaged or missing segments",
            at.display(),
            if rep.lost_estimated { "about " } else { "" },
            rep.lost
        ));
    }
    if rep.recovered > 0 {
        crate::engine::report_warning(format!(
            "{what}: disk queue {}: {} message(s) recovered from disk, processed before new ones",
            at.display(),
            rep.recovered
        ));
    }
    let ctl = Arc::new(Ctl::default());
    let (out, rules_rx) = mpsc::channel::<Batch>(1);
    let sp = spool::Spool {
        name: what.to_string(),
        disk_mode: dm.only || !dq.is_empty(),
        batch_max: mq.s.dequeue_window.clamp(1, 1024),
        dq,
        dm,
        mq,
        ctl: ctl.clone(),
        out,
        pool,
    };
    let thread = std::thread::Builder::new()
        .name("oxsyslogd-spool".into())
        .spawn(move || spool::run(sp, rx))
        .map_err(|e| format!("{what}: cannot start the spooler thread: {e}"))?;
    Ok((
        rules_rx,
        Handle {
            ctl,
            thread: Some(thread),
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::diskq::{DiskQueue, DiskSettings};

    /// Two batches read from disk and only the first confirmed: after a restart the queue
    /// resumes exactly after the first (the spooler confirms batches in the order read).
    #[test]
    fn a_confirmed_prefix_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let s = DiskSettings {
            dir: dir.path().to_path_buf(),
            name: "mq".into(),
            max_file_size: 200,
            max_disk_space: 0,
            sync: false,
            checkpoint_interval: 0,
        };
        let (mut q, _) = DiskQueue::open(s.clone()).unwrap();
        for i in 0..10u8 {
            q.push(&[&[i; 30]]).unwrap();
        }
        q.flush().unwrap();
        let mut out = Vec::new();
        q.read(4, &mut out);
        let first = q.read_position();
        q.read(3, &mut out);
        q.commit_part(first, 4).unwrap();
        assert_eq!((q.len(), q.read_uncommitted(), q.unread()), (6, 3, 3));
        // the rest is still read in order
        q.read(10, &mut out);
        assert_eq!(
            out.iter().map(|r| r[0]).collect::<Vec<_>>(),
            (0..10).collect::<Vec<u8>>()
        );
        drop(q);
        let (mut q, rep) = DiskQueue::open(s).unwrap();
        assert_eq!((rep.recovered, rep.lost), (6, 0));
        let mut again = Vec::new();
        q.read(10, &mut again);
        assert_eq!(
            again.iter().map(|r| r[0]).collect::<Vec<_>>(),
            (4..10).collect::<Vec<u8>>()
        );
    }
}
