//! The disk part's side of an action queue (a child module of src/output/actq.rs, so it sees
//! the queue's state): where an enqueued message goes (memory, or the disk part — see
//! src/diskq/action.rs for when), the worker taking a batch from disk and committing it once
//! the transport confirmed it, and saving memory to disk at shutdown (`queue.saveOnShutdown`).
//! Disk records are the message's severity byte followed by the rendered message.

use super::{Inner, QueueSettings, Shared, READY};
use crate::diskq::action::DiskMode;
use crate::diskq::Push;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// Enqueues one message into a queue with a disk part; returns whether it was kept (else it
/// is counted in `discarded.full`) and the guard.
pub(super) fn enqueue<'a>(
    sh: &'a Shared,
    dm: &DiskMode,
    s: &QueueSettings,
    mut g: MutexGuard<'a, Inner>,
    m: (u8, Vec<u8>),
) -> (bool, MutexGuard<'a, Inner>) {
    let disk_used = g.disk.as_ref().is_some_and(|d| !d.is_empty());
    if !dm.only && !disk_used && g.msgs.len() < dm.high_watermark {
        g.msgs.push_back(m);
        sh.count(|c| {
            c.enqueued.fetch_add(1, Ordering::Relaxed);
        });
        return (true, g);
    }
    if !dm.only && !disk_used && g.msgs.len() > dm.low_watermark {
        // disk assistance begins: the newest messages above the low watermark go to disk
        // first, the new ones after them
        let Inner { msgs, disk, .. } = &mut *g;
        if let Some(d) = disk.as_mut() {
            let tail = msgs.split_off(dm.low_watermark);
            let mut back = false;
            for t in tail {
                if back || d.push(&[&[t.0], &t.1]).is_err() {
                    back = true;
                    msgs.push_back(t);
                }
            }
        }
    }
    let mut deadline: Option<Instant> = None;
    loop {
        let pushed = match g.disk.as_mut() {
            Some(d) if dm.max_records.is_some_and(|n| d.len() >= n) => Err(Push::Full),
            Some(d) => d.push(&[&[m.0], &m.1]),
            None => return (false, g),
        };
        match pushed {
            Ok(()) => {
                sh.count(|c| {
                    c.enqueued.fetch_add(1, Ordering::Relaxed);
                });
                return (true, g);
            }
            Err(Push::Full) => {
                // let the worker read what is buffered, then wait for it to free space
                flush(sh, s, &mut g);
                let now = Instant::now();
                let until = *deadline.get_or_insert(now + s.timeout_enqueue);
                let ready = sh.state.load(Ordering::Relaxed) == READY;
                if now >= until || !ready || g.stuck || sh.done.load(Ordering::Relaxed) {
                    if now >= until {
                        g.stuck = true;
                    }
                    sh.count(|c| {
                        c.discarded_full.fetch_add(1, Ordering::Relaxed);
                    });
                    if !g.full_reported {
                        g.full_reported = true;
                        if let Some(d) = g.disk.as_ref() {
                            crate::engine::report_error(format!(
                                "action '{}': disk queue {} full (queue.maxDiskSpace {} bytes, queue.size {}), discarding messages until space is freed",
                                s.name,
                                d.settings().dir.join(&d.settings().name).display(),
                                d.settings().max_disk_space,
                                dm.max_records.map_or("unset".to_string(), |n| n.to_string())
                            ));
                        }
                    }
                    return (false, g);
                }
                sh.work.notify_one();
                g = sh
                    .room
                    .wait_timeout(g, (until - now).min(Duration::from_millis(100)))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            Err(e) => {
                if let Some(d) = g.disk.as_mut() {
                    d.note_write_failure();
                }
                write_failed(sh, s, e, &mut g.full_reported);
                sh.count(|c| {
                    c.discarded_full.fetch_add(1, Ordering::Relaxed);
                });
                return (false, g);
            }
        }
    }
}

/// A disk write failed (e.g. ENOSPC): reports it (once until a write succeeds again) and
/// returns how many records were lost with it (counted in `discarded.full`).
fn write_failed(sh: &Shared, s: &QueueSettings, e: Push, reported: &mut bool) -> u64 {
    let (lost, why) = match e {
        Push::Full => (0, "queue.maxDiskSpace reached".to_string()),
        Push::Io { lost, err } => (lost, err.to_string()),
    };
    sh.count(|c| {
        c.discarded_full.fetch_add(lost, Ordering::Relaxed);
    });
    if !std::mem::replace(reported, true) {
        crate::engine::report_error(format!(
            "action '{}': cannot write to its disk queue: {why}; {lost} message(s) discarded, discarding until writing works again",
            s.name
        ));
    }
    lost
}

/// Writes the batch's records buffered for the disk part (one write); returns how many
/// were lost to a failed write.
pub(super) fn flush(sh: &Shared, s: &QueueSettings, g: &mut Inner) -> u64 {
    let Some(d) = g.disk.as_mut() else {
        return 0;
    };
    let buffered = d.buffered() > 0;
    match d.flush() {
        Ok(()) => {
            // written again after delivery freed space: the next full disk is a new
            // episode, reported again
            if buffered && d.failure_episode_over() {
                g.full_reported = false;
            }
            0
        }
        Err(e) => {
            d.note_write_failure();
            write_failed(sh, s, e, &mut g.full_reported)
        }
    }
}

/// The worker takes up to `max` messages from the disk part (the memory part is empty).
/// A `Disk` queue applies `queue.discardMark`/`discardSeverity` again to what it takes, with
/// the queue's physical size as queue.c `DequeueConsumableElements` does: every record not
/// yet deleted, those just taken and those still in the worker's hands included (rsyslog's
/// `iQueueSize` only shrinks when a processed batch is deleted); the disk part of a
/// disk-assisted queue never discards (queue.c gives it a discard mark of 0).
pub(super) fn take(
    sh: &Shared,
    s: &QueueSettings,
    g: &mut Inner,
    max: usize,
    batch: &mut Vec<Vec<u8>>,
) {
    let Some(d) = g.disk.as_mut() else {
        return;
    };
    let only = s.disk.as_ref().is_some_and(|dm| dm.only);
    if !only || s.discard_severity >= 8 {
        // without the severity byte
        let (_, lost) = d.read_skipping(max, batch, 1);
        if lost > 0 {
            sh.failed.fetch_add(lost, Ordering::Relaxed);
        }
        return;
    }
    let first = batch.len();
    let (_, lost) = d.read(max, batch);
    if lost > 0 {
        sh.failed.fetch_add(lost, Ordering::Relaxed);
    }
    // not decremented while a batch is taken (queue.c checks `pThis->iQueueSize`)
    let size = (d.unread() + d.buffered() + d.read_uncommitted()) as usize;
    let mut i = 0;
    let mut nf = 0;
    batch.retain_mut(|m| {
        let at = i;
        i += 1;
        if at < first {
            return true;
        }
        if s.discards(size, m.first().copied().unwrap_or(6)) {
            nf += 1;
            return false;
        }
        m.drain(..1.min(m.len()));
        true
    });
    if nf > 0 {
        sh.count(|c| {
            c.discarded_nf.fetch_add(nf, Ordering::Relaxed);
        });
    }
}

/// The size a message enqueued into a `Disk` queue is judged by for `queue.discardMark`:
/// every record not yet deleted — on disk, buffered, or taken by the worker and not yet
/// committed (queue.c's `iQueueSize`, which a dequeue does not decrease); `None` for other
/// queues (memory decides).
pub(super) fn disk_only_size(s: &QueueSettings, g: &Inner) -> Option<usize> {
    let d = g.disk.as_ref()?;
    s.disk
        .as_ref()
        .is_some_and(|dm| dm.only)
        .then(|| (d.unread() + d.buffered() + d.read_uncommitted()) as usize)
}

/// After the worker's `deliver`: a batch from disk that was sent (or given up by the action's
/// state machine) is committed; one stopped at shutdown stays on disk. A batch from memory
/// stopped at shutdown is written to disk with `queue.saveOnShutdown`.
pub(super) fn after_deliver(s: &QueueSettings, sh: &Shared, from_disk: bool, batch: &[Vec<u8>]) {
    let Some(dm) = &s.disk else {
        return;
    };
    let mut g = sh.lock();
    let in_flight = g.in_flight;
    let Some(d) = g.disk.as_mut() else {
        return;
    };
    if from_disk {
        if in_flight == 0 {
            if let Err(e) = d.commit() {
                crate::engine::report_error(format!(
                    "action '{}': cannot write the state of its disk queue: {e}",
                    s.name
                ));
            }
        }
    } else if in_flight > 0 && dm.save_on_shutdown && (g.stop || g.closing) {
        let d = g.disk.as_mut();
        if let Some(d) = d {
            let rest = &batch[batch.len().saturating_sub(in_flight)..];
            let mut saved = 0;
            for m in rest {
                // the severity is not kept with a batch in hand: saved as informational
                if d.push(&[&[6], m]).is_ok() {
                    saved += 1;
                }
            }
            if d.flush().is_ok() {
                g.in_flight -= saved;
            }
        }
    }
    sh.publish_size(&g);
    drop(g);
    sh.room.notify_all();
}

/// At shutdown, after the worker stopped: with `queue.saveOnShutdown` what memory holds is
/// written to disk; a batch from disk still in hand stays there; the state is written.
/// Leaves in `g` only what is lost.
pub(super) fn save_on_shutdown(s: &QueueSettings, g: &mut Inner) {
    let Some(dm) = &s.disk else {
        return;
    };
    let Inner {
        msgs,
        disk,
        in_flight,
        ..
    } = g;
    let Some(d) = disk.as_mut() else {
        return;
    };
    if d.read_uncommitted() > 0 {
        // the batch in hand came from disk: it is sent again at the next start
        *in_flight = 0;
    }
    if dm.save_on_shutdown && !msgs.is_empty() {
        let n = msgs.len();
        let mut saved = 0;
        while let Some(m) = msgs.front() {
            if d.push(&[&[m.0], &m.1]).is_err() {
                break;
            }
            msgs.pop_front();
            saved += 1;
        }
        if let Err(e) = d.flush() {
            let lost = match e {
                Push::Io { lost, .. } => lost,
                Push::Full => 0,
            };
            saved -= lost as usize;
        }
        crate::engine::report_warning(format!(
            "action '{}': queue held {n} message(s) at shutdown; queue.saveOnShutdown is set, {saved} written to disk",
            s.name
        ));
    }
    let kept = d.len();
    if let Err(e) = d.checkpoint() {
        crate::engine::report_error(format!(
            "action '{}': cannot write the state of its disk queue: {e}",
            s.name
        ));
    }
    if kept > 0 {
        crate::engine::report_warning(format!(
            "action '{}': {kept} message(s) kept in the disk queue {} for the next start",
            s.name,
            d.settings().dir.join(&d.settings().name).display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ActionQueue, QueueSettings, Transport};
    use crate::diskq::action::DiskMode;
    use crate::diskq::DiskSettings;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    struct Mock {
        down: Arc<AtomicBool>,
        sent: Sent,
    }

    impl Transport for Mock {
        fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
            if self.down.load(Ordering::SeqCst) {
                return Err((0, "down".into()));
            }
            self.sent.lock().unwrap().extend(msgs.iter().cloned());
            Ok(())
        }
        fn try_resume(&mut self) -> Result<(), String> {
            if self.down.load(Ordering::SeqCst) {
                Err("down".into())
            } else {
                Ok(())
            }
        }
        fn close(&mut self) {}
        fn describe(&self) -> String {
            "mock".into()
        }
    }

    /// An omfwd action's settings read from a config (so new fields need no change here),
    /// with the disk part in `dir`.
    fn settings(dir: &std::path::Path, only: bool) -> QueueSettings {
        let conf = "*.* action(type=\"omfwd\" target=\"127.0.0.1\" protocol=\"tcp\" name=\"t\" queue.type=\"LinkedList\" queue.size=\"100\" queue.dequeueBatchSize=\"16\" queue.timeoutShutdown=\"10\" queue.timeoutActionCompletion=\"200\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n";
        let l = crate::config::load_text("t.conf", conf);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let mut s =
            match QueueSettings::from_action(&l.config.actions[0], 0, "builtin:omfwd", false) {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
        s.disk = Some(DiskMode {
            disk: DiskSettings {
                dir: dir.to_path_buf(),
                name: "aq".into(),
                max_file_size: 4096,
                max_disk_space: 0,
                sync: false,
                checkpoint_interval: 0,
            },
            only,
            high_watermark: 90,
            low_watermark: 70,
            save_on_shutdown: true,
            max_records: None,
        });
        s
    }

    fn items(r: std::ops::Range<u32>) -> Vec<(u8, Vec<u8>)> {
        r.map(|i| (6, i.to_string().into_bytes())).collect()
    }

    fn msgs(r: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        r.map(|i| i.to_string().into_bytes()).collect()
    }

    fn wait_for(what: impl Fn() -> bool) {
        let t = Instant::now();
        while !what() {
            assert!(t.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    type Sent = Arc<Mutex<Vec<Vec<u8>>>>;

    fn mock(down: bool) -> (Mock, Arc<AtomicBool>, Sent) {
        let d = Arc::new(AtomicBool::new(down));
        let s = Arc::new(Mutex::new(Vec::new()));
        (
            Mock {
                down: d.clone(),
                sent: s.clone(),
            },
            d,
            s,
        )
    }

    #[test]
    fn disk_assisted_spills_at_the_high_watermark_and_keeps_the_order() {
        let dir = tempfile::tempdir().unwrap();
        let (t, down, sent) = mock(true);
        let mut q = ActionQueue::start(settings(dir.path(), false), Box::new(t)).unwrap();
        q.enqueue(&mut items(0..50));
        assert!(
            q.shared.lock().disk.as_ref().unwrap().is_empty(),
            "below the mark: memory"
        );
        q.enqueue(&mut items(50..500));
        {
            let g = q.shared.lock();
            assert!(
                g.msgs.len() <= 70,
                "spilled down to the low watermark: {}",
                g.msgs.len()
            );
            // the rest is on disk, but for what the worker already took (a batch of 16,
            // perhaps a second one read back from disk)
            let on_disk = g.disk.as_ref().unwrap().len();
            assert!(on_disk >= 500 - 70 - 2 * 16, "on disk: {on_disk}");
        }
        down.store(false, Ordering::SeqCst);
        wait_for(|| sent.lock().unwrap().len() >= 500);
        assert_eq!(*sent.lock().unwrap(), msgs(0..500), "in order, each once");
        assert_eq!(q.shutdown("mock"), 0);
    }

    #[test]
    fn save_on_shutdown_then_sent_first_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (t, _down, sent) = mock(true);
        let mut q = ActionQueue::start(settings(dir.path(), false), Box::new(t)).unwrap();
        q.enqueue(&mut items(0..50));
        wait_for(|| q.shared.lock().in_flight > 0);
        assert_eq!(q.shutdown("mock"), 0, "everything saved");
        drop(q);
        let (t, _down, sent2) = mock(false);
        let mut q = ActionQueue::start(settings(dir.path(), false), Box::new(t)).unwrap();
        q.enqueue(&mut items(50..60));
        wait_for(|| sent2.lock().unwrap().len() >= 60);
        // the saved messages first (the batch in hand, then the rest), then the new ones
        assert_eq!(*sent2.lock().unwrap(), msgs(0..60));
        assert!(sent.lock().unwrap().is_empty());
        assert_eq!(q.shutdown("mock"), 0);
    }

    #[test]
    fn disk_queue_commits_only_what_was_sent() {
        let dir = tempfile::tempdir().unwrap();
        let (t, _down, _) = mock(true);
        let mut q = ActionQueue::start(settings(dir.path(), true), Box::new(t)).unwrap();
        q.enqueue(&mut items(0..40));
        assert!(q.shared.lock().msgs.is_empty(), "nothing in memory");
        wait_for(|| q.shared.lock().in_flight > 0);
        assert_eq!(q.shutdown("mock"), 0, "all of it on disk");
        drop(q);
        let (t, _down, sent) = mock(false);
        let mut q = ActionQueue::start(settings(dir.path(), true), Box::new(t)).unwrap();
        wait_for(|| sent.lock().unwrap().len() >= 40);
        assert_eq!(
            *sent.lock().unwrap(),
            msgs(0..40),
            "the batch in hand came again, in order"
        );
        assert_eq!(q.shutdown("mock"), 0);
        assert!(q.shared.lock().disk.as_ref().unwrap().is_empty());
    }
}
