//! The disk-queue case of the end-to-end harness (issue #9): `--scenario diskq` (a Disk action
//! queue) and `--scenario diskq-da` (a disk-assisted LinkedList action queue). Each daemon
//! forwards with omfwd over TCP to a receiver in the harness that is down while the N messages
//! arrive (imtcp, the harness's sender), so they all go into the queue files `dq.*` in the run
//! directory. Phase 1 (fill): the clock runs from the first byte sent to the last growth of
//! the queue files' bytes; the queue counts as on disk when the sender is done, the bytes
//! have not grown for `FILL_QUIET` and they hold at least the text of the N messages (else
//! the run fails: messages stuck in memory or discarded). Phase 2 (drain): the receiver
//! starts listening; the clock runs from the first byte it receives (the wait before it, the
//! daemon's reconnect, is reported as `resume_s`) until it has counted every sequence number
//! 0..N; each number's deliveries are counted (lost and duplicates reported). Configs:
//! benches/configs/dq-{rsyslogd-default,oxsyslogd}.conf and dqda-*.conf.

use super::cases::free_port;
use super::{cpu_seconds, peak_rss_kb, spawn_sender, start_daemon_with, Daemon, RunResult};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The queue counts as written when its files have not grown for this long.
const FILL_QUIET: Duration = Duration::from_secs(5);
/// A phase gives up (the rest counts as lost) when nothing moved for this long.
const STALL: Duration = Duration::from_secs(120);

/// The report's first lines for the disk-queue scenarios.
pub fn describe(da: bool, n: usize) -> String {
    let q = if da {
        "a disk-assisted action queue (queue.type=\"LinkedList\" + queue.filename, rsyslog's defaults otherwise)"
    } else {
        "a Disk action queue (queue.type=\"Disk\", rsyslog's defaults for maxFileSize, checkpointInterval, syncQueueFiles)"
    };
    format!(
        "# scenario diskq{}: {n} messages over one TCP connection into omfwd with {q}, the target down: \
         the queue fills on disk, then the receiver (in the harness) starts and the queue drains.\n\
         # msg/s and CPU s per million = the fill (first byte sent to the last growth of the queue files; \
         on disk = sender done and the files' bytes unchanged for {} s); drain_msg_s / drain_cpu_s_per_M = \
         the drain (first byte received to the last sequence number counted); resume_s = receiver up to \
         its first byte; disk_MB = the queue files' bytes at the end of the fill; dups = deliveries beyond \
         the first; peak RSS over both phases; medians\n\n",
        if da { "-da" } else { "" },
        FILL_QUIET.as_secs()
    )
}

/// Bytes of the queue files (`dq.*`) in `dir`.
fn queue_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("dq."))
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// The sequence number of a line (`seq=NNNNNNNN`).
fn seq_of(line: &[u8]) -> Option<usize> {
    let p = memchr::memmem::find(line, b"seq=")?;
    let digits = line.get(p + 4..p + 12)?;
    digits.iter().try_fold(0usize, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + usize::from(b - b'0'))
    })
}

/// What the receiver counted.
struct Counts {
    /// Deliveries per sequence number (saturating at 255).
    per_seq: Vec<AtomicU8>,
    distinct: AtomicU64,
    lines: AtomicU64,
    /// Lines without a sequence number below N.
    foreign: AtomicU64,
    /// Nanoseconds after the receiver started at which its first byte arrived (0: none yet).
    first_ns: AtomicU64,
}

impl Counts {
    fn count(&self, block: &[u8]) {
        let (mut lines, mut foreign, mut new) = (0u64, 0u64, 0u64);
        for line in block.split(|&b| b == b'\n') {
            lines += 1;
            match seq_of(line).and_then(|i| self.per_seq.get(i)) {
                Some(c) => {
                    let before = c
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                            Some(v.saturating_add(1))
                        })
                        .unwrap_or(u8::MAX);
                    if before == 0 {
                        new += 1;
                    }
                }
                None => foreign += 1,
            }
        }
        self.lines.fetch_add(lines, Ordering::Relaxed);
        self.foreign.fetch_add(foreign, Ordering::Relaxed);
        self.distinct.fetch_add(new, Ordering::Relaxed);
    }
}

/// The receiver: accepts connections on `listener` (omfwd may reconnect) until `stop`, one
/// thread each, and counts every LF-terminated line.
fn receive(listener: TcpListener, counts: Arc<Counts>, stop: Arc<AtomicBool>, t0: Instant) {
    let mut conns = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let conn = match listener.accept() {
            Ok((c, _)) => c,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let (counts, stop) = (counts.clone(), stop.clone());
        conns.push(std::thread::spawn(move || {
            let mut conn = conn;
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
            let mut buf = vec![0u8; 1 << 20];
            let mut have = 0usize;
            while !stop.load(Ordering::Relaxed) {
                if have == buf.len() {
                    // a line longer than the buffer: cannot be one of ours
                    counts.foreign.fetch_add(1, Ordering::Relaxed);
                    have = 0;
                }
                let k = match conn.read(&mut buf[have..]) {
                    Ok(0) => break,
                    Ok(k) => k,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        continue
                    }
                    Err(_) => break,
                };
                let ns = t0.elapsed().as_nanos().max(1) as u64;
                let _ =
                    counts
                        .first_ns
                        .compare_exchange(0, ns, Ordering::Relaxed, Ordering::Relaxed);
                have += k;
                if let Some(end) = memchr::memrchr(b'\n', &buf[..have]) {
                    counts.count(&buf[..end]);
                    buf.copy_within(end + 1..have, 0);
                    have -= end + 1;
                }
            }
        }));
    }
    for c in conns {
        let _ = c.join();
    }
}

/// One run: fill with the target down, then drain into the harness's receiver.
pub fn run_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    let rport = free_port(false)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, port) = start_daemon_with(d, root, dpath, Some(rport))?;
    let cpu0 = cpu_seconds(pid);

    // Phase 1: fill.
    let t0 = Instant::now();
    let sender = spawn_sender(port, payload);
    let (mut bytes, mut fill_s, mut fill_cpu) = (queue_bytes(dpath), 0.0, 0.0);
    let mut last_growth = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let b = queue_bytes(dpath);
        if b != bytes {
            bytes = b;
            last_growth = Instant::now();
            fill_s = t0.elapsed().as_secs_f64();
            fill_cpu = cpu_seconds(pid) - cpu0;
        } else if sender.is_finished() && last_growth.elapsed() > FILL_QUIET {
            break;
        } else if last_growth.elapsed() > STALL {
            return Err(format!(
                "{}: the queue files stopped growing at {bytes} bytes and the sender is not done",
                d.name
            ));
        }
    }
    sender.join().map_err(|_| "sender panicked".to_string())??;
    let disk_bytes = bytes;
    // every record holds at least the message's text: less means some are still in memory
    // (or were discarded), and the fill figure would not measure the disk queue
    let min_bytes = (payload.len() / n.max(1)).saturating_sub(1) as u64 * n as u64;
    if disk_bytes < min_bytes {
        return Err(format!(
            "{}: the queue files settled at {disk_bytes} bytes, less than the {min_bytes} bytes \
             of the {n} messages' text: not all of them reached the disk",
            d.name
        ));
    }
    eprintln!(
        "    {} run {run}: fill {fill_s:.1} s ({:.0} msg/s), {:.1} MB on disk, {:.1} CPU s",
        d.name,
        n as f64 / fill_s.max(1e-9),
        disk_bytes as f64 / 1e6,
        fill_cpu
    );

    // Phase 2: drain.
    let listener =
        TcpListener::bind(("127.0.0.1", rport)).map_err(|e| format!("receiver {rport}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let counts = Arc::new(Counts {
        per_seq: (0..n).map(|_| AtomicU8::new(0)).collect(),
        distinct: AtomicU64::new(0),
        lines: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
        first_ns: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let cpu1 = cpu_seconds(pid);
    let t1 = Instant::now();
    let receiver = {
        let (counts, stop) = (counts.clone(), stop.clone());
        std::thread::spawn(move || receive(listener, counts, stop, t1))
    };
    let mut last = (0u64, Instant::now());
    let mut drain_end = 0.0;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let got = counts.distinct.load(Ordering::Relaxed);
        if got != last.0 {
            last = (got, Instant::now());
            drain_end = t1.elapsed().as_secs_f64();
        }
        if got >= n as u64 || last.1.elapsed() > STALL {
            break;
        }
    }
    let drain_cpu = cpu_seconds(pid) - cpu1;
    // a moment for late duplicates
    std::thread::sleep(Duration::from_secs(1));
    let rss = peak_rss_kb(pid);
    let left_on_disk = queue_bytes(dpath);
    drop(guard);
    stop.store(true, Ordering::Relaxed);
    let _ = receiver.join();

    let first = counts.first_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let drain_s = (drain_end - first).max(1e-9);
    let distinct = counts.distinct.load(Ordering::Relaxed);
    let lost = n as u64 - distinct.min(n as u64);
    let seq_lines: u64 = counts
        .per_seq
        .iter()
        .map(|c| u64::from(c.load(Ordering::Relaxed)))
        .sum();
    let dups = seq_lines - distinct;
    let foreign = counts.foreign.load(Ordering::Relaxed);
    eprintln!(
        "    {} run {run}: drain {drain_s:.1} s ({:.0} msg/s) after {first:.1} s to reconnect, \
         {drain_cpu:.1} CPU s, {lost} lost, {dups} duplicates, {foreign} other lines, \
         {left_on_disk} queue bytes left",
        d.name,
        distinct as f64 / drain_s
    );
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: fill_s,
        msgs_per_sec: n as f64 / fill_s.max(1e-9),
        cpu_sec_per_million: fill_cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
        extra: vec![
            ("drain_msg_s", distinct as f64 / drain_s),
            ("drain_cpu_s_per_M", drain_cpu / (n as f64 / 1e6)),
            ("fill_s", fill_s),
            ("drain_s", drain_s),
            ("resume_s", first),
            ("disk_MB", disk_bytes as f64 / 1e6),
            ("dups", dups as f64),
        ],
    })
}
