//! The end-to-end harness's newer cases (issue #11): imuxsock → omfile (`uds`), UDP (highest
//! lossless rate and loss at full speed), latency at 10% of capacity, memory under sustained
//! overload, and `--taskset` (the daemon on core 1, the harness and its peers on core 0).
//! benches/e2e.rs dispatches here; this module reuses its daemon start and measuring helpers.

use super::{
    count_lines, cpu_seconds, make_payload, peak_rss_kb, spawn_sender, start_daemon,
    start_daemon_with, Daemon, RunResult, Scenario,
};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static TASKSET: AtomicBool = AtomicBool::new(false);

/// Whether `--taskset` is in force (the daemon under test goes on core 1).
pub fn taskset() -> bool {
    TASKSET.load(Ordering::Relaxed)
}

/// `--taskset`: pins the harness (and so every thread and peer daemon it starts later) to core
/// 0; start_daemon puts the daemon under test on core 1 with taskset(1).
pub fn pin_harness_to_core0() {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it; pid 0 = this thread,
    // whose mask threads created afterwards inherit.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    if !ok {
        eprintln!(
            "e2e: --taskset: sched_setaffinity(core 0): {}",
            std::io::Error::last_os_error()
        );
        std::process::exit(1);
    }
    TASKSET.store(true, Ordering::Relaxed);
}

/// The report's first line for the scenarios of this module.
pub fn describe(s: Scenario, n: usize) -> Option<String> {
    Some(match s {
        Scenario::Uds => format!("# scenario uds: {n} messages as datagrams on a unix socket (imuxsock, rate limiting off, blocking sender) into omfile (RSYSLOG_TraditionalFileFormat); medians\n\n"),
        Scenario::Udp => format!("# scenario udp: imudp into omfile. msg/s = the highest paced send rate with no loss (one sender thread, per-message pacing; doubling from 25000/s, then 3 bisections; every step sends 0.5 s of messages, at least 5000); lost = datagrams lost when {n} are sent at full speed; CPU and peak RSS from the full-speed send; medians\n\n"),
        Scenario::Latency => "# scenario latency: baseline configs; a paced sender on one TCP connection at 10% of the daemon's capacity (measured with an untimed burst first, or --rate) stamps each message with its send time; the harness polls the output file every 200 us (the figures include up to that); msg/s = the paced rate; p50/p99/max in microseconds; medians\n\n".to_string(),
        Scenario::Overload => format!("# scenario overload: forward configs; {n} messages sent at full speed while the receiver (in the harness) reads at a fixed rate (--drain, messages/s): the daemon's queues fill and must stay bounded; RSS sampled every 100 ms (rss_q1..q4 = kB at each quarter of the run, rss_growth = max RSS of the second half / first half); medians\n\n"),
        Scenario::FwdTls => format!("# scenario forward-tls: {n} messages over one TCP connection, forwarded over TLS (omfwd, gtls driver, anon) to one rsyslogd TLS receiver (benches/configs/fwd-tls-receiver.conf, --fwd-receiver rsyslogd); the forwarder's CPU and RSS; medians\n\n"),
        Scenario::OmRelp => format!("# scenario omrelp: {n} messages over one TCP connection, forwarded with omrelp to one imrelp receiver (benches/configs/omrelp-receiver-ox.conf: oxsyslogd, or omrelp-receiver.conf: rsyslogd with --relp-receiver rsyslogd); the sender's CPU and RSS; medians\n\n"),
        _ => return None,
    })
}

/// A port that was free a moment ago (bound to 127.0.0.1:0 and released).
pub fn free_port(udp: bool) -> Result<u16, String> {
    let port = if udp {
        UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    } else {
        TcpListener::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    };
    port.map(|a| a.port()).map_err(|e| e.to_string())
}

/// Waits until a socket is bound to the port on 127.0.0.1 (UDP) or listens on it (TCP), as
/// /proc/net shows; rsyslogd announces its port file before every input is up.
pub fn wait_listen(port: u16, udp: bool) -> Result<(), String> {
    let file = if udp {
        "/proc/net/udp"
    } else {
        "/proc/net/tcp"
    };
    let want = format!(":{port:04X}");
    let start = Instant::now();
    loop {
        let table = std::fs::read_to_string(file).unwrap_or_default();
        let up = table.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1).is_some_and(|a| a.ends_with(&want))
                && (udp || f.get(3).is_some_and(|st| *st == "0A"))
        });
        if up {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!("nothing listens on 127.0.0.1:{port} after 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `out` holds `n` lines or stops growing for `quiet`; returns the lines seen and
/// the time from `t0` to the last growth.
fn wait_lines(
    out: &Path,
    off: &mut u64,
    lines: &mut usize,
    target: usize,
    t0: Instant,
    quiet: Duration,
) -> f64 {
    let mut last_growth = Instant::now();
    let mut secs = t0.elapsed().as_secs_f64();
    while *lines < target {
        let before = *lines;
        count_lines(out, off, lines);
        if *lines > before {
            last_growth = Instant::now();
            secs = t0.elapsed().as_secs_f64();
        } else if last_growth.elapsed() > quiet {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    secs
}

/// The sequence numbers (`seq=NNNNNNNN`) below N seen so far: the one
/// line scanner of the harness's checks (output files, the overload and forward receivers).
pub struct SeqMarks {
    seen: Vec<bool>,
    distinct: usize,
}

impl SeqMarks {
    pub fn new(n: usize) -> SeqMarks {
        SeqMarks {
            seen: vec![false; n],
            distinct: 0,
        }
    }

    /// Marks every line of `block` (LF-separated; a last piece without LF counts as a line,
    /// so callers pass complete lines); returns the lines in it.
    pub fn mark(&mut self, block: &[u8]) -> u64 {
        let mut lines = 0;
        for line in block.split(|&b| b == b'\n') {
            lines += 1;
            if let Some(s) = seq_of(line).and_then(|i| self.seen.get_mut(i)) {
                if !*s {
                    *s = true;
                    self.distinct += 1;
                }
            }
        }
        lines
    }

    /// Distinct sequence numbers seen.
    pub fn distinct(&self) -> usize {
        self.distinct
    }

    /// Sequence numbers below N never seen.
    pub fn missing(&self) -> u64 {
        (self.seen.len() - self.distinct) as u64
    }
}

/// Sequence numbers (`seq=NNNNNNNN`) below `n` missing from the text.
pub fn missing_seqs(text: &[u8], n: usize) -> u64 {
    let mut m = SeqMarks::new(n);
    m.mark(text);
    m.missing()
}

/// The sequence number of a line (`seq=` and 8 decimal digits).
fn seq_of(line: &[u8]) -> Option<usize> {
    let p = memchr::memmem::find(line, b"seq=")?;
    let digits = line.get(p + 4..p + 12)?;
    digits.iter().try_fold(0usize, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + usize::from(b - b'0'))
    })
}

/// The payload's lines without their newlines (one datagram each).
fn datagrams(payload: &[u8]) -> Vec<&[u8]> {
    payload
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

/// Sleeps or spins until `due`.
fn pace(due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > Duration::from_micros(150) {
            std::thread::sleep(left - Duration::from_micros(100));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// imuxsock → omfile: the payload as datagrams on the daemon's unix socket.
pub fn run_uds_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, _) = start_daemon(d, root, dpath)?;
    let sock = dpath.join("log.sock");
    let start = Instant::now();
    while !sock.exists() {
        if start.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "{}: no socket {} after 10 s",
                d.name,
                sock.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let grams: Vec<Vec<u8>> = datagrams(payload).into_iter().map(<[u8]>::to_vec).collect();
    let out = dpath.join("out.log");
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let sock2 = sock.clone();
    let sender = std::thread::spawn(move || -> Result<(), String> {
        let s = UnixDatagram::unbound().map_err(|e| e.to_string())?;
        s.connect(&sock2)
            .map_err(|e| format!("{}: {e}", sock2.display()))?;
        for g in &grams {
            // A blocking unix datagram socket waits while the daemon's queue is full; ENOBUFS
            // (the kernel's buffers) is retried.
            loop {
                match s.send(g) {
                    Ok(_) => break,
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        std::thread::sleep(Duration::from_micros(50))
                    }
                    Err(e) => return Err(format!("{}: {e}", sock2.display())),
                }
            }
        }
        Ok(())
    });
    let (mut off, mut lines) = (0u64, 0usize);
    let secs = wait_lines(&out, &mut off, &mut lines, n, t0, Duration::from_secs(20));
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    drop(guard);
    let lost = missing_seqs(&std::fs::read(&out).map_err(|e| e.to_string())?, n);
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: secs,
        msgs_per_sec: (n as u64 - lost).max(1) as f64 / secs,
        cpu_sec_per_million: cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
        extra: Vec::new(),
    })
}

/// Sends `m` datagrams (cycling through `grams`) at `rate` per second; returns the rate
/// achieved.
fn send_paced(sock: &UdpSocket, grams: &[&[u8]], m: usize, rate: f64) -> f64 {
    let t0 = Instant::now();
    for i in 0..m {
        pace(t0 + Duration::from_secs_f64(i as f64 / rate));
        // A refused or dropped datagram counts as lost at the receiver.
        let _ = sock.send(grams[i % grams.len()]);
    }
    m as f64 / t0.elapsed().as_secs_f64()
}

/// imudp → omfile: the loss at full speed, then the highest paced rate without loss (the same
/// daemon, the output's line count per step).
pub fn run_udp_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    let port = free_port(true)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, _) = start_daemon_with(d, root, dpath, Some(port))?;
    wait_listen(port, true)?;
    let grams = datagrams(payload);
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    sock.connect(("127.0.0.1", port))
        .map_err(|e| e.to_string())?;
    let out = dpath.join("out.log");
    let (mut off, mut lines) = (0u64, 0usize);
    // Full speed: every datagram once, as fast as one thread sends.
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    for g in &grams {
        let _ = sock.send(g);
    }
    let send_secs = t0.elapsed().as_secs_f64();
    // rsyslogd-tuned's asyncWriting flushes once a second: wait longer than that.
    let quiet = Duration::from_millis(1500);
    let secs = wait_lines(&out, &mut off, &mut lines, n, t0, quiet);
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    let lost = missing_seqs(&std::fs::read(&out).map_err(|e| e.to_string())?, n);
    // The highest lossless rate: double from 25000/s, then bisect 3 times.
    let mut step = |rate: f64| -> (bool, f64) {
        let m = ((rate * 0.5) as usize).clamp(5000, n.max(5000));
        let before = lines;
        let achieved = send_paced(&sock, &grams, m, rate);
        let target = before + m;
        wait_lines(&out, &mut off, &mut lines, target, Instant::now(), quiet);
        (lines >= target, achieved)
    };
    let (mut good, mut bad) = (0.0f64, None::<f64>);
    let mut sender_limited = false;
    let mut rate = 25_000.0;
    while rate <= 8_000_000.0 {
        let (ok, achieved) = step(rate);
        if achieved < 0.95 * rate {
            // The sender cannot keep this pace: the daemon kept up with all it could send.
            if ok {
                good = good.max(achieved);
                sender_limited = true;
            } else {
                bad = Some(achieved);
            }
            break;
        }
        if ok {
            good = rate;
            rate *= 2.0;
        } else {
            bad = Some(rate);
            break;
        }
    }
    if let Some(mut hi) = bad {
        for _ in 0..3 {
            let mid = (good + hi) / 2.0;
            if step(mid).0 {
                good = mid;
            } else {
                hi = mid;
            }
        }
    }
    drop(guard);
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: secs,
        msgs_per_sec: good,
        cpu_sec_per_million: cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
        extra: vec![
            ("full_loss_pct", lost as f64 * 100.0 / n as f64),
            ("full_send_rate", n as f64 / send_secs),
            ("sender_limited", if sender_limited { 1.0 } else { 0.0 }),
        ],
    })
}

/// The omrelp scenario's receiver config: oxsyslogd's imrelp unless `--relp-receiver rsyslogd`.
pub fn relp_receiver(args: &[String]) -> &'static str {
    let rsyslogd = args
        .iter()
        .position(|a| a == "--relp-receiver")
        .and_then(|i| args.get(i + 1))
        .is_some_and(|v| v == "rsyslogd");
    if rsyslogd {
        "omrelp-receiver.conf"
    } else {
        "omrelp-receiver-ox.conf"
    }
}

fn arg_f64(args: &[String], flag: &str) -> Option<f64> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// Latency at 10% of capacity: a calibration burst measures the daemon's capacity, then a
/// paced sender stamps each message with its send time and a poller records its arrival.
pub fn run_latency_once(
    d: &Daemon,
    root: &Path,
    n: usize,
    run: usize,
    args: &[String],
) -> Result<RunResult, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, port) = start_daemon(d, root, dpath)?;
    let out = dpath.join("out.log");
    // Capacity: an untimed burst of up to 200000 messages.
    let cal = n.clamp(10_000, 200_000);
    let t0 = Instant::now();
    let burst = spawn_sender(port, &make_payload(cal));
    let (mut off, mut lines) = (0u64, 0usize);
    let secs = wait_lines(&out, &mut off, &mut lines, cal, t0, Duration::from_secs(20));
    burst.join().map_err(|_| "sender panicked".to_string())??;
    if lines < cal {
        return Err(format!("calibration burst: {lines} of {cal} lines arrived"));
    }
    let capacity = cal as f64 / secs;
    let rate = arg_f64(args, "--rate")
        .unwrap_or(capacity / 10.0)
        .max(100.0);
    let seconds = arg_f64(args, "--latency-seconds").unwrap_or(3.0);
    let m = ((rate * seconds) as usize).max(1000);
    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let out2 = out.clone();
    // The poller: every complete new line with " t=" gives one latency (arrival - send).
    let reader = std::thread::spawn(move || -> Vec<u64> {
        let mut lat = Vec::with_capacity(m);
        let mut partial: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut pos = off;
        let mut last = Instant::now();
        while lat.len() < m && !stop2.load(Ordering::Relaxed) {
            if let Ok(mut f) = std::fs::File::open(&out2) {
                use std::io::Seek;
                if f.seek(std::io::SeekFrom::Start(pos)).is_ok() {
                    while let Ok(k) = f.read(&mut buf) {
                        if k == 0 {
                            break;
                        }
                        let now = base.elapsed().as_nanos() as u64;
                        pos += k as u64;
                        last = Instant::now();
                        partial.extend_from_slice(&buf[..k]);
                        let Some(end) = memchr::memrchr(b'\n', &partial) else {
                            continue;
                        };
                        for line in partial[..end].split(|&b| b == b'\n') {
                            if let Some(p) = memchr::memmem::find(line, b" t=") {
                                if let Some(t) = std::str::from_utf8(&line[p + 3..])
                                    .ok()
                                    .and_then(|x| x.split(' ').next())
                                    .and_then(|x| x.parse::<u64>().ok())
                                {
                                    lat.push(now.saturating_sub(t));
                                }
                            }
                        }
                        partial.drain(..=end);
                    }
                }
            }
            if last.elapsed() > Duration::from_secs(20) {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        lat
    });
    let cpu0 = cpu_seconds(pid);
    let send = || -> Result<f64, String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut line = Vec::with_capacity(160);
        let start = Instant::now();
        for i in 0..m {
            pace(start + Duration::from_secs_f64(i as f64 / rate));
            line.clear();
            let t = base.elapsed().as_nanos() as u64;
            let _ = writeln!(
                line,
                "<134>Nov 23 18:00:00 benchhost app[4242]: seq={i:08} t={t} latency probe"
            );
            s.write_all(&line).map_err(|e| e.to_string())?;
        }
        Ok(start.elapsed().as_secs_f64())
    };
    let sent = send();
    if sent.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    let mut lat = reader
        .join()
        .map_err(|_| "latency reader panicked".to_string())?;
    let send_secs = sent?;
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    drop(guard);
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0
    };
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: send_secs,
        msgs_per_sec: m as f64 / send_secs,
        cpu_sec_per_million: cpu / (m as f64 / 1e6),
        peak_rss_kb: rss,
        lost: (m - lat.len().min(m)) as u64,
        extra: vec![
            ("capacity", capacity),
            ("p50_us", pct(0.50)),
            ("p99_us", pct(0.99)),
            ("max_us", pct(1.0)),
        ],
    })
}

/// Sustained overload: the daemon forwards (fwd-*.conf) to a receiver in the harness that
/// reads `--drain` messages/s while the sender sends at full speed; RSS is sampled.
pub fn run_overload_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
    args: &[String],
) -> Result<RunResult, String> {
    let drain = arg_f64(args, "--drain").unwrap_or(200_000.0).max(1000.0);
    let bytes_per_sec = drain * payload.len() as f64 / n.max(1) as f64;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let rport = listener.local_addr().map_err(|e| e.to_string())?.port();
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(SeqMarks::new(n)));
    let (stop2, received2, seen2) = (stop.clone(), received.clone(), seen.clone());
    // The slow receiver: one connection at a time (omfwd may reconnect), paced reads.
    let receiver = std::thread::spawn(move || {
        // The pacing clock starts with the first bytes (no credit for the idle start).
        let mut start = None::<Instant>;
        let mut total = 0u64;
        let mut buf = vec![0u8; 16 * 1024];
        let mut partial: Vec<u8> = Vec::new();
        while !stop2.load(Ordering::Relaxed) {
            let mut conn = match listener.accept() {
                Ok((c, _)) => c,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
            partial.clear();
            while !stop2.load(Ordering::Relaxed) {
                let k = match conn.read(&mut buf) {
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
                total += k as u64;
                partial.extend_from_slice(&buf[..k]);
                if let Some(end) = memchr::memrchr(b'\n', &partial) {
                    let got = seen2.lock().map_or(0, |mut s| s.mark(&partial[..end]));
                    partial.drain(..=end);
                    received2.fetch_add(got as usize, Ordering::Relaxed);
                }
                let due = Duration::from_secs_f64(total as f64 / bytes_per_sec);
                let el = start.get_or_insert_with(Instant::now).elapsed();
                if due > el {
                    std::thread::sleep(due - el);
                }
            }
        }
    });
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let started = start_daemon_with(d, root, dpath, Some(rport));
    let (guard, pid, port) = match started {
        Ok(x) => x,
        Err(e) => {
            stop.store(true, Ordering::Relaxed);
            let _ = receiver.join();
            return Err(e);
        }
    };
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let sender = spawn_sender(port, payload);
    let mut samples: Vec<u64> = Vec::new();
    let mut last = (0usize, Instant::now());
    loop {
        samples.push(vm_rss_kb(pid));
        let got = received.load(Ordering::Relaxed);
        if got >= n {
            break;
        }
        if got > last.0 {
            last = (got, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    let sent = sender.join();
    drop(guard);
    stop.store(true, Ordering::Relaxed);
    let _ = receiver.join();
    sent.map_err(|_| "sender panicked".to_string())??;
    let lost = seen.lock().map_or(n as u64, |s| s.missing());
    let q = |f: f64| -> f64 {
        samples
            .get(((samples.len().saturating_sub(1)) as f64 * f) as usize)
            .copied()
            .unwrap_or(0) as f64
    };
    let half = samples.len() / 2;
    let first = samples[..half].iter().copied().max().unwrap_or(0).max(1) as f64;
    let second = samples[half..].iter().copied().max().unwrap_or(0) as f64;
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: secs,
        msgs_per_sec: (n as u64 - lost) as f64 / secs,
        cpu_sec_per_million: cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
        extra: vec![
            ("drain", drain),
            ("rss_q1", q(0.25)),
            ("rss_q2", q(0.5)),
            ("rss_q3", q(0.75)),
            ("rss_q4", q(1.0)),
            ("rss_growth", second / first),
        ],
    })
}

/// Current resident set size of a process in kB.
fn vm_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}
