//! Disk and disk-assisted main and ruleset queues (issue #9, src/mqdisk/) with real
//! processes, real sockets, real signals and real FIFOs: the legacy `$MainMsgQueueFileName` +
//! `$MainMsgQueueSaveOnShutdown` recipe with a worker blocked in an action across a SIGTERM
//! restart (side by side with rsyslogd 8.2302), kill -9 while a disk main queue drains, a
//! damaged segment at start, a ruleset queue spilling and restarting, `queue.maxDiskSpace`
//! reached and recovered, the properties of a message that went through disk, and -N1.
//!
//! The blocking action is omfile into a FIFO nobody reads: both daemons' rules thread blocks
//! in open(2) until the test opens the read end (after the restart).

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/segments.rs"]
mod segments;

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const TAG: &str = "mqd";

/// Starts `bin` on `conf` (its imtcp port file `sport` from an earlier run removed first).
fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    flow::start_fresh(bin, dir, conf, "sport")
}

/// Starts `bin` on `conf`, waits until it listens (its queue files were read) and opens the
/// read end of `fifo` (its output).
fn start_reading(bin: &str, dir: &Path, conf: &str, fifo: &Path) -> (Daemon, FifoReader) {
    let d = start(bin, dir, conf);
    let _ = flow::port_file(&d, "sport");
    (d, FifoReader::start(fifo, false))
}

/// Starts `bin` on `conf`, feeds it messages `0..n`, gives it 2 s and stops it with SIGTERM
/// (panics when it does not stop in time): its stderr.
fn feed_and_stop(bin: &str, dir: &Path, conf: &str, n: usize) -> String {
    let mut d = start(bin, dir, conf);
    feed(&d, 0..n);
    std::thread::sleep(Duration::from_secs(2));
    assert!(d.stop(), "{bin} did not stop on SIGTERM: {}", d.stderr());
    d.stderr()
}

/// A temp dir with `work/` and a FIFO `fifo`.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    (dir, work, fifo)
}

/// Reads a FIFO (opened non-blocking, so it never waits for a writer) until dropped,
/// optionally slowly; keeps everything read.
struct FifoReader {
    buf: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
}

impl FifoReader {
    fn start(path: &Path, slow: bool) -> FifoReader {
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .unwrap();
        let buf: Arc<Mutex<Vec<u8>>> = Default::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (b2, s2) = (buf.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut chunk = vec![0u8; 4096];
            while !s2.load(Ordering::SeqCst) {
                match f.read(&mut chunk) {
                    Ok(n) if n > 0 => {
                        b2.lock().unwrap().extend_from_slice(&chunk[..n]);
                        if slow {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FifoReader { buf, stop }
    }

    /// Sequence numbers of the complete lines read so far, in order.
    fn seqs(&self) -> Vec<usize> {
        let b = self.buf.lock().unwrap();
        let end = b.iter().rposition(|&c| c == b'\n').map_or(0, |e| e + 1);
        b[..end]
            .split(|&c| c == b'\n')
            .filter_map(flow::seq_of)
            .collect()
    }

    /// Waits until `n` lines arrived or nothing new came for `idle` s (at most `max` s).
    fn wait(&self, n: usize, idle: u64, max: u64) -> Vec<usize> {
        self.wait_for(n, idle, max, |s| s.len())
    }

    /// Waits until the lines hold `n` distinct numbers (or idle / max, as `wait`).
    fn wait_distinct(&self, n: usize, idle: u64, max: u64) -> Vec<usize> {
        self.wait_for(n, idle, max, |s| {
            s.iter().collect::<std::collections::HashSet<_>>().len()
        })
    }

    fn wait_for(
        &self,
        n: usize,
        idle: u64,
        max: u64,
        count: impl Fn(&[usize]) -> usize,
    ) -> Vec<usize> {
        let t = Instant::now();
        let mut last = (0, Instant::now());
        loop {
            let s = self.seqs();
            if s.len() != last.0 {
                last = (s.len(), Instant::now());
            }
            if count(&s) >= n
                || last.1.elapsed() > Duration::from_secs(idle)
                || t.elapsed() > Duration::from_secs(max)
            {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for FifoReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// imtcp on a port written to `sport`, the numbered template, and `queue` lines.
fn conf(dir: &Path, work: &Path, queue: &str, fifo: &Path) -> String {
    format!(
        "$WorkDirectory {}\n{queue}\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}/sport\")\n\
         {}\n\
         :syslogtag, startswith, \"{TAG}\" {};numbered\n",
        work.display(),
        dir.display(),
        flow::NUMBERED_TEMPLATE,
        fifo.display()
    )
}

fn feed(d: &Daemon, range: std::ops::Range<usize>) {
    let port = flow::port_file(d, "sport");
    flow::feed_tcp(port, TAG, range, 250, Duration::from_millis(2));
}

/// (first, count) of a strictly consecutive run, or None when `s` is not one.
fn consecutive(s: &[usize]) -> Option<(usize, usize)> {
    let first = *s.first()?;
    s.iter()
        .enumerate()
        .all(|(i, &v)| v == first + i)
        .then_some((first, s.len()))
}

fn segment_bytes(work: &Path, name: &str) -> u64 {
    std::fs::read_dir(work)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let f = e.file_name().to_string_lossy().into_owned();
            f.strip_prefix(name)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|r| r.len() == 8 && r.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

/// The legacy recipe with the worker blocked: `n` messages, SIGTERM, restart, reader opened.
/// Returns the sequence numbers the FIFO got, in order, and both runs' stderr.
fn blocked_restart_run(bin: &str, n: usize) -> (Vec<usize>, String) {
    let (dir, work, fifo) = setup();
    let conf = conf(
        dir.path(),
        &work,
        "$MainMsgQueueFileName mainq\n$MainMsgQueueSaveOnShutdown on\n",
        &fifo,
    );
    let mut err = feed_and_stop(bin, dir.path(), &conf, n);
    let (mut d, r) = start_reading(bin, dir.path(), &conf, &fifo);
    let got = r.wait(n, 10, 90);
    err += &d.stderr();
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
    (got, err)
}

/// `$MainMsgQueueFileName` + `$MainMsgQueueSaveOnShutdown on`, the main queue's worker
/// blocked in an action, SIGTERM, restart, unblock: oxsyslogd writes every message exactly
/// once and in order. rsyslogd 8.2302 (same config) cancels its blocked worker at shutdown
/// and loses the batch that worker held ("need to do hard cancellation"); it saves and, after
/// the restart, delivers the rest in order, each once.
#[test]
fn legacy_main_queue_saved_on_sigterm_with_a_blocked_worker() {
    let n = 2000;
    let (got, err) = blocked_restart_run(OX, n);
    assert_eq!(
        consecutive(&got),
        Some((0, n)),
        "oxsyslogd: {} lines, first {:?}\n{err}",
        got.len(),
        &got[..got.len().min(5)]
    );
    assert!(err.contains("saved to the disk queue"), "{err}");
    assert!(err.contains("recovered from disk"), "{err}");

    let (got, err) = blocked_restart_run(RSYSLOGD, n);
    let run = consecutive(&got);
    assert!(
        run.is_some_and(|(first, len)| first > 0 && first + len == n),
        "rsyslogd: {} lines, first {:?}\n{err}",
        got.len(),
        &got[..got.len().min(5)]
    );
    eprintln!(
        "rsyslogd 8.2302: lost the first {} messages (the cancelled worker's batch), delivered {} in order",
        n - got.len(),
        got.len()
    );
}

/// The same with `$MainMsgQueueSaveOnShutdown off`: nothing is saved, and what was not run
/// is reported by count (rsyslogd drops it too; it logs only the queue's size).
#[test]
fn legacy_main_queue_without_save_on_shutdown_reports_what_was_not_run() {
    let n = 500;
    let (dir, work, fifo) = setup();
    let conf = conf(
        dir.path(),
        &work,
        "$MainMsgQueueFileName mainq\n$MainMsgQueueSaveOnShutdown off\n",
        &fifo,
    );
    let err = feed_and_stop(OX, dir.path(), &conf, n);
    let reported = common::number_before(&err, " message(s) not processed and not saved")
        .unwrap_or_else(|| panic!("no count reported:\n{err}"));
    assert!(reported >= n, "{reported} < {n}\n{err}");
    assert!(err.contains("saveOnShutdown is off"), "{err}");
    // nothing on disk to run at the next start
    let (mut d, r) = start_reading(OX, dir.path(), &conf, &fifo);
    let got = r.wait(1, 3, 10);
    assert!(d.stop());
    assert!(got.is_empty(), "{got:?}");
    assert!(
        !d.stderr().contains("recovered from disk"),
        "{}",
        d.stderr()
    );
}

/// kill -9 while a Disk main queue drains into a slow reader: everything was on disk before
/// the first kill (the reader was not there yet), and after two kills every message arrives;
/// duplicates (records run and not yet committed) are counted.
#[test]
fn kill_9_during_a_disk_main_queue_run_loses_nothing_written() {
    let n = 50_000;
    let (dir, work, fifo) = setup();
    let conf = conf(
        dir.path(),
        &work,
        "main_queue(queue.type=\"Disk\" queue.filename=\"mq\")\n",
        &fifo,
    );
    let mut d = start(OX, dir.path(), &conf);
    feed(&d, 0..n);
    // everything on disk: the segments stop growing
    let t = Instant::now();
    let mut last = (0, Instant::now());
    while last.1.elapsed() < Duration::from_secs(2) {
        let b = segment_bytes(&work, "mq");
        if b != last.0 {
            last = (b, Instant::now());
        }
        assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    d.kill9();
    let mut err = d.stderr();
    let r = FifoReader::start(&fifo, true);
    let mut d = start(OX, dir.path(), &conf);
    let t = Instant::now();
    while r.seqs().len() < n / 4 {
        assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
        std::thread::sleep(Duration::from_millis(2));
    }
    d.kill9();
    err += &d.stderr();
    let before = r.seqs().len();
    let mut d = start(OX, dir.path(), &conf);
    let got = r.wait_distinct(n, 10, 120);
    err += &d.stderr();
    assert!(d.stop());
    let mut seen = vec![0usize; n];
    for &s in &got {
        assert!(s < n, "unexpected {s}");
        seen[s] += 1;
    }
    let missing: Vec<usize> = (0..n).filter(|&i| seen[i] == 0).collect();
    let dups: usize = seen.iter().map(|&k| k.saturating_sub(1)).sum();
    assert!(
        missing.is_empty(),
        "{} missing (first {:?})\n{err}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(err.contains("recovered from disk"), "{err}");
    // at most the batches in the rules thread's hands at the kill run twice
    assert!(dups <= 2 * 1024, "{dups} duplicates");
    eprintln!("kill -9 after {before} of {n} written: {dups} duplicates after the restart");
}

/// A damaged main-queue segment at start (one truncated, one with a flipped bit): both
/// quarantined, the loss reported, the daemon runs and delivers the rest, exactly the
/// reported number missing.
#[test]
fn damaged_main_queue_segments_are_quarantined_and_the_rest_delivered() {
    let n = 20_000;
    let (dir, work, fifo) = setup();
    let conf = conf(
        dir.path(),
        &work,
        "main_queue(queue.type=\"Disk\" queue.filename=\"mq\" queue.maxFileSize=\"64k\")\n",
        &fifo,
    );
    let err = feed_and_stop(OX, dir.path(), &conf, n);
    let segs = segments::list(&work);
    assert!(segs.len() >= 6, "{segs:?}\n{err}");
    segments::damage(&segs);

    let (mut d, r) = start_reading(OX, dir.path(), &conf, &fifo);
    let got = r.wait(n, 5, 90);
    let err = d.stderr();
    assert!(d.stop());
    let mut seen = vec![0usize; n];
    for &s in &got {
        seen[s] += 1;
    }
    let missing = seen.iter().filter(|&&k| k == 0).count();
    assert!(seen.iter().all(|&k| k <= 1), "duplicates\n{err}");
    assert!(missing > 0, "nothing lost?\n{err}");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, got, "out of order");
    let reported = segments::reported_lost(&err);
    assert_eq!(missing, reported, "{err}");
    assert_eq!(
        std::fs::read_dir(work.join("mq.damaged")).unwrap().count(),
        2,
        "{err}"
    );
}

/// A ruleset queue with `queue.filename`: above its high water mark it spills to disk (the
/// segments grow while its worker is blocked), SIGTERM saves the rest, and after the restart
/// every message is written once, in order.
#[test]
fn ruleset_queue_with_filename_spills_and_survives_a_restart() {
    let n = 800;
    let (dir, work, fifo) = setup();
    // the queue's own directory (queue.spoolDirectory), not the work directory
    let spool = dir.path().join("rspool");
    std::fs::create_dir(&spool).unwrap();
    let conf = format!(
        "$WorkDirectory {}\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}/sport\" ruleset=\"rq\")\n\
         {}\n\
         ruleset(name=\"rq\" queue.type=\"LinkedList\" queue.filename=\"rsq\" queue.spoolDirectory=\"{}\" queue.size=\"1000\" \
         queue.highWatermark=\"100\" queue.lowWatermark=\"50\" queue.saveOnShutdown=\"on\") {{\n\
         action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n}}\n\
         *.* {}/other.log\n",
        work.display(),
        dir.path().display(),
        flow::NUMBERED_TEMPLATE,
        spool.display(),
        fifo.display(),
        dir.path().display()
    );
    let mut d = start(OX, dir.path(), &conf);
    feed(&d, 0..n);
    std::thread::sleep(Duration::from_secs(2));
    // spilled while running: the segments hold records (a segment header alone is 32 bytes)
    assert!(
        segment_bytes(&spool, "rsq") > 20_000 && segment_bytes(&work, "rsq") == 0,
        "no spill: {} bytes\n{}",
        segment_bytes(&spool, "rsq"),
        d.stderr()
    );
    assert!(d.stop(), "{}", d.stderr());
    let mut err = d.stderr();
    let (mut d, r) = start_reading(OX, dir.path(), &conf, &fifo);
    let got = r.wait(n, 10, 60);
    err += &d.stderr();
    assert!(d.stop());
    assert_eq!(
        consecutive(&got),
        Some((0, n)),
        "{} lines, first {:?}\n{err}",
        got.len(),
        &got[..got.len().min(5)]
    );
    assert!(err.contains("ruleset 'rq' queue"), "{err}");
}

/// `queue.maxDiskSpace` reached on a Disk main queue while its worker is blocked: reported
/// once, the messages wait in memory (no loss, no crash); once the worker runs again the
/// disk drains, takes the rest, and every message is written once, in order.
#[test]
fn main_queue_max_disk_space_holds_messages_back_and_recovers() {
    let n = 3000;
    let (dir, work, fifo) = setup();
    let conf = conf(
        dir.path(),
        &work,
        "main_queue(queue.type=\"Disk\" queue.filename=\"mq\" queue.maxDiskSpace=\"64k\")\n",
        &fifo,
    );
    let mut d = start(OX, dir.path(), &conf);
    feed(&d, 0..n);
    std::thread::sleep(Duration::from_secs(2));
    let err = d.stderr();
    assert_eq!(
        err.matches("queue.maxDiskSpace").count(),
        1,
        "reported once per episode\n{err}"
    );
    assert!(segment_bytes(&work, "mq") <= 64 * 1024, "{err}");
    let r = FifoReader::start(&fifo, false);
    let got = r.wait(n, 10, 60);
    let err = d.stderr();
    assert!(d.stop(), "{err}");
    assert_eq!(
        consecutive(&got),
        Some((0, n)),
        "{} lines, first {:?}\n{err}",
        got.len(),
        &got[..got.len().min(5)]
    );
    assert!(err.contains("takes messages again"), "{err}");
}

/// A message that went through a Disk queue renders exactly as before it did: a ruleset
/// without a queue renders each message (RSYSLOG_DebugFormat, with `$!` and `$.` variables,
/// and a template of the reception and parsed properties) and `call`s a ruleset with a Disk
/// queue, which renders the copy it read back from disk with the same templates: the same
/// bytes, microseconds of the reception time included.
#[test]
fn properties_survive_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let d = dir.path().display();
    let conf = format!(
        "global(workDirectory=\"{}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{d}/sport\" ruleset=\"mem\")\n\
         template(name=\"recv\" type=\"string\" string=\"%timegenerated:::date-rfc3339%|%timegenerated:::date-unixtimestamp%|%timereported:::date-rfc3339%|%timestamp%|%protocol-version%|%pri-text%|%app-name%|%procid%|%msgid%|%structured-data%|%fromhost%|%fromhost-ip%|%inputname%|%rawmsg-after-pri%|%parsesuccess%|%$!%|%$.%\\n\")\n\
         ruleset(name=\"mem\") {{ set $!j = \"json \\\"v\\\"\"; set $.l = $msg; action(type=\"omfile\" file=\"{d}/mem.log\" template=\"RSYSLOG_DebugFormat\") action(type=\"omfile\" file=\"{d}/mem.recv\" template=\"recv\") call dsk }}\n\
         ruleset(name=\"dsk\" queue.type=\"Disk\" queue.filename=\"pq\") {{ action(type=\"omfile\" file=\"{d}/dsk.log\" template=\"RSYSLOG_DebugFormat\") action(type=\"omfile\" file=\"{d}/dsk.recv\" template=\"recv\") }}\n",
        work.display()
    );
    let mut daemon = Daemon::start(OX, dir.path(), &conf, &[]);
    let port = flow::port_file(&daemon, "sport");
    let msgs = [
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event\n",
        "<13>Nov 23 10:00:00 host1 prog[99]: legacy text with \ttab\n",
        "<38>just text\n",
        "no pri at all\n",
    ];
    {
        use std::io::Write;
        let mut a = common::connect(port);
        for m in msgs {
            a.write_all(m.as_bytes()).unwrap();
        }
    }
    let want = msgs.len();
    let mem = flow::wait_lines(&dir.path().join("mem.recv"), want, 10, 30);
    let dsk = flow::wait_lines(&dir.path().join("dsk.recv"), want, 10, 30);
    let ml = flow::wait_lines(&dir.path().join("mem.log"), want * 9, 10, 30);
    let dl = flow::wait_lines(&dir.path().join("dsk.log"), want * 9, 10, 30);
    assert_eq!(
        mem.iter().filter(|&&c| c == b'\n').count(),
        want,
        "{}",
        daemon.stderr()
    );
    assert_eq!(String::from_utf8_lossy(&mem), String::from_utf8_lossy(&dsk));
    assert_eq!(String::from_utf8_lossy(&ml), String::from_utf8_lossy(&dl));
    assert!(String::from_utf8_lossy(&ml).contains("json \\\"v\\\""));
    // the copies did go through the disk queue's files
    assert!(work.join("pq.oxqi").exists(), "{}", daemon.stderr());
    assert!(daemon.stop());
}

/// -N1 accepts the queue parameters the runtime now honours, as rsyslogd does.
#[test]
fn n1_accepts_the_disk_queue_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for q in [
        format!(
            "$WorkDirectory {}\n$MainMsgQueueType LinkedList\n$MainMsgQueueFileName mq\n$MainMsgQueueMaxDiskSpace 1g\n$MainMsgQueueMaxFileSize 4m\n$MainMsgQueueSaveOnShutdown on\n$MainMsgQueueCheckpointInterval 100\n$MainMsgQueueSyncQueueFiles off\n$MainMsgQueueHighWaterMark 80000\n$MainMsgQueueLowWaterMark 20000\n$MainMsgQueueSize 100000\n",
            work.display()
        ),
        format!(
            "global(workDirectory=\"{}\")\nmain_queue(queue.type=\"Disk\" queue.filename=\"mq\" queue.maxDiskSpace=\"100m\" queue.maxFileSize=\"1m\" queue.saveOnShutdown=\"on\" queue.checkpointInterval=\"10\" queue.syncQueueFiles=\"on\")\n\
             ruleset(name=\"r\" queue.type=\"LinkedList\" queue.filename=\"rq\" queue.highWatermark=\"900\" queue.lowWatermark=\"100\" queue.size=\"1000\" queue.maxDiskSpace=\"1m\" queue.saveOnShutdown=\"on\" queue.spoolDirectory=\"/tmp\") {{ action(type=\"omfile\" file=\"/dev/null\") }}\n",
            work.display()
        ),
    ] {
        let c = format!("{q}*.* /dev/null\n");
        std::fs::write(dir.path().join("n.conf"), &c).unwrap();
        for bin in [OX, RSYSLOGD] {
            let out = std::process::Command::new(bin)
                .args(["-N1", "-f"])
                .arg(dir.path().join("n.conf"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{bin} -N1 refused:\n{c}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Runs a `Disk` omfwd action queue with `queue.discardMark="50"` and
/// `queue.discardSeverity="5"` while its target is down: 300 messages alternating severity 3
/// and 6, then the target comes up. Returns the sequence numbers received.
fn disk_action_discard_run(bin: &str) -> (Vec<usize>, String) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let target = common::free_port();
    let conf = format!(
        "global(workDirectory=\"{}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}/sport\")\n\
         if $syslogtag startswith \"{TAG}\" then action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{target}\" protocol=\"tcp\" \
         queue.type=\"Disk\" queue.filename=\"dq\" queue.size=\"100000\" queue.discardMark=\"50\" queue.discardSeverity=\"5\" \
         queue.timeoutEnqueue=\"0\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n",
        work.display(),
        dir.path().display()
    );
    let mut d = start(bin, dir.path(), &conf);
    let port = flow::port_file(&d, "sport");
    {
        use std::io::Write;
        let mut s = common::connect(port);
        let mut buf = Vec::new();
        for i in 0..300 {
            let pri = if i % 2 == 0 { 8 + 3 } else { 8 + 6 };
            buf.extend_from_slice(
                format!("<{pri}>Nov 23 10:00:00 host1 {TAG}[7]: seq={i:07} sev\n").as_bytes(),
            );
        }
        s.write_all(&buf).unwrap();
    }
    std::thread::sleep(Duration::from_secs(3));
    let l = std::net::TcpListener::bind(("127.0.0.1", target)).unwrap();
    l.set_nonblocking(true).unwrap();
    let got: Arc<Mutex<Vec<u8>>> = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (g2, s2) = (got.clone(), stop.clone());
    let t = std::thread::spawn(move || {
        while !s2.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((mut c, _)) => {
                    c.set_nonblocking(false).unwrap();
                    c.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    let mut b = [0u8; 4096];
                    while !s2.load(Ordering::SeqCst) {
                        match c.read(&mut b) {
                            Ok(0) => break,
                            Ok(n) => g2.lock().unwrap().extend_from_slice(&b[..n]),
                            Err(_) => {}
                        }
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    // wait until nothing new for 4 s
    let mut last = (0, Instant::now());
    let t0 = Instant::now();
    while last.1.elapsed() < Duration::from_secs(4) && t0.elapsed() < Duration::from_secs(60) {
        let n = got.lock().unwrap().len();
        if n != last.0 {
            last = (n, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let err = d.stderr();
    assert!(d.stop());
    stop.store(true, Ordering::SeqCst);
    let _ = t.join();
    let b = got.lock().unwrap();
    let seqs = b.split(|&c| c == b'\n').filter_map(flow::seq_of).collect();
    (seqs, err)
}

/// `queue.discardSeverity` on a `Disk` action queue: both daemons keep every severity-3
/// message and drop severity-6 ones once the queue holds 50 (at enqueue, and again when the
/// worker takes them from disk); the disk part of a disk-assisted queue never discards
/// (queue.c sets its discard mark to 0).
#[test]
fn disk_action_queue_discards_by_severity_like_rsyslogd() {
    for bin in [OX, RSYSLOGD] {
        let (got, err) = disk_action_discard_run(bin);
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup();
        let sev3: Vec<usize> = sorted.iter().copied().filter(|i| i % 2 == 0).collect();
        let sev6: Vec<usize> = sorted.iter().copied().filter(|i| i % 2 == 1).collect();
        assert_eq!(sev3.len(), 150, "{bin}: severity 3 lost\n{err}");
        assert!(
            sev6.len() < 150,
            "{bin}: no severity-6 message discarded\n{err}"
        );
        eprintln!("{bin}: severity 6 kept: {sev6:?}");
        // which of the first messages escape the discard depends on when the worker first
        // takes from the queue (rsyslogd kept [1] in one run, [1..45] in another): what both
        // daemons must share is that nothing enqueued at or above the discard mark survives
        assert!(
            sev6.iter().all(|&i| i < 50),
            "{bin}: a severity-6 message enqueued above the discard mark was kept: {sev6:?}"
        );
    }
}
