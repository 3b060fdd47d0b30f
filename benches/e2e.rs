//! End-to-end throughput harness: runs the real rsyslogd (default and tuned configs pinned in
//! benches/configs/) and oxsyslogd side by side on this machine, sends N messages over one TCP
//! connection into omfile, and stops the clock only when the output file holds all N lines.
//! Every line is then checked by sequence number; lost messages count against the figure.
//! Reports messages/s, daemon CPU seconds per million messages and peak RSS for each daemon,
//! the ratios against rsyslogd, and writes a results file (git revision, command, every run).
//!
//! Run: `cargo bench --bench e2e -- [--messages N] [--runs R] [--only NAME,…]`
//! (benchmarks run by hand, not in CI).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

struct Daemon {
    name: &'static str,
    bin: String,
    config: &'static str,
}

#[derive(Debug, Clone)]
struct RunResult {
    daemon: &'static str,
    run: usize,
    seconds: f64,
    msgs_per_sec: f64,
    cpu_sec_per_million: f64,
    peak_rss_kb: u64,
    lost: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let n: usize = arg("--messages")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let only: Option<Vec<String>> =
        arg("--only").map(|v| v.split(',').map(str::to_string).collect());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let daemons: Vec<Daemon> = vec![
        Daemon {
            name: "rsyslogd-default",
            bin: "/usr/sbin/rsyslogd".into(),
            config: "rsyslogd-default.conf",
        },
        Daemon {
            name: "rsyslogd-tuned",
            bin: "/usr/sbin/rsyslogd".into(),
            config: "rsyslogd-tuned.conf",
        },
        Daemon {
            name: "oxsyslogd",
            bin: OX.into(),
            config: "oxsyslogd.conf",
        },
    ]
    .into_iter()
    .filter(|d| only.as_ref().is_none_or(|o| o.iter().any(|x| x == d.name)))
    .collect();

    let payload = make_payload(n);
    eprintln!(
        "e2e: {n} messages ({} bytes) per run, {runs} runs per daemon",
        payload.len()
    );
    let mut results = Vec::new();
    for run in 0..runs {
        for d in &daemons {
            match run_once(d, &root, &payload, n, run) {
                Ok(r) => {
                    eprintln!(
                        "  run {run} {:<17} {:>10.0} msg/s  {:>6.3} CPU s/M  {:>7} kB peak RSS  {} lost",
                        r.daemon, r.msgs_per_sec, r.cpu_sec_per_million, r.peak_rss_kb, r.lost
                    );
                    results.push(r);
                }
                Err(e) => {
                    eprintln!("  run {run} {}: FAILED: {e}", d.name);
                    std::process::exit(1);
                }
            }
        }
    }
    let report = report(&daemons, &results, n, &args);
    print!("{report}");
    let dir = root.join("benches/results");
    let _ = std::fs::create_dir_all(&dir);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let file = dir.join(format!("e2e-{stamp}.txt"));
    if std::fs::write(&file, &report).is_ok() {
        eprintln!("results written to {}", file.display());
    }
}

/// N syslog lines with a sequence number each, as one buffer (the sender's work is a copy).
fn make_payload(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 110);
    for i in 0..n {
        let _ = writeln!(
            v,
            "<134>Nov 23 18:00:00 benchhost app[4242]: seq={i:08} the quick brown fox jumps over the lazy dog"
        );
    }
    v
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return 0.0;
    }
    v[v.len() / 2]
}

fn report(daemons: &[Daemon], results: &[RunResult], n: usize, args: &[String]) -> String {
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut s = String::new();
    s.push_str(&format!(
        "# oxsyslog end-to-end benchmark\n# git revision: {rev}\n# command: {}\n",
        args.join(" ")
    ));
    s.push_str(&format!("# {n} messages over one TCP connection into omfile (RSYSLOG_TraditionalFileFormat); medians\n\n"));
    s.push_str(
        "| daemon | msg/s | CPU s per million | peak RSS kB | lost |\n|---|---|---|---|---|\n",
    );
    let mut med = Vec::new();
    for d in daemons {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.daemon == d.name).collect();
        let tput = median(rs.iter().map(|r| r.msgs_per_sec).collect());
        let cpu = median(rs.iter().map(|r| r.cpu_sec_per_million).collect());
        let rss = median(rs.iter().map(|r| r.peak_rss_kb as f64).collect());
        let lost: u64 = rs.iter().map(|r| r.lost).sum();
        s.push_str(&format!(
            "| {} | {:.0} | {:.3} | {:.0} | {} |\n",
            d.name, tput, cpu, rss, lost
        ));
        med.push((d.name, tput, cpu, rss));
    }
    if let Some(ox) = med.iter().find(|m| m.0 == "oxsyslogd") {
        s.push('\n');
        for base in med.iter().filter(|m| m.0 != "oxsyslogd") {
            s.push_str(&format!(
                "oxsyslogd vs {}: throughput {:.2}x, CPU per message {:.2}x, peak RSS {:.2}x\n",
                base.0,
                ox.1 / base.1.max(1e-9),
                ox.2 / base.2.max(1e-9),
                ox.3 / base.3.max(1e-9)
            ));
        }
    }
    s.push_str("\n# every run\n");
    for r in results {
        s.push_str(&format!(
            "{} run={} seconds={:.3} msg/s={:.0} cpu_s_per_M={:.3} peak_rss_kb={} lost={}\n",
            r.daemon,
            r.run,
            r.seconds,
            r.msgs_per_sec,
            r.cpu_sec_per_million,
            r.peak_rss_kb,
            r.lost
        ));
    }
    s
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (user + system) CPU seconds of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // fields after the command: state is index 0, utime is 11, stime 12
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

fn count_lines(path: &Path, from: &mut u64, count: &mut usize) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return;
    };
    use std::io::Seek;
    if f.seek(std::io::SeekFrom::Start(*from)).is_err() {
        return;
    }
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                *count += memchr::memchr_iter(b'\n', &buf[..k]).count();
                *from += k as u64;
            }
        }
    }
}

fn run_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let conf = std::fs::read_to_string(root.join("benches/configs").join(d.config))
        .map_err(|e| e.to_string())?;
    let conf_path = dpath.join("bench.conf");
    std::fs::write(
        &conf_path,
        conf.replace("@DIR@", &dpath.display().to_string()),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(&d.bin)
        .args(["-n", "-iNONE", "-f"])
        .arg(&conf_path)
        .current_dir(dpath)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dpath.join("stderr")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", d.bin))?;
    let pid = child.id();
    let guard = Guard(child);
    let port_file = dpath.join("port");
    let start = Instant::now();
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let err = std::fs::read_to_string(dpath.join("stderr")).unwrap_or_default();
            return Err(format!("{} did not come up: {err}", d.name));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu_seconds(pid);
    let out = dpath.join("out.log");
    let t0 = Instant::now();
    let data = payload.to_vec();
    let sender = std::thread::spawn(move || -> Result<(), String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        for chunk in data.chunks(256 * 1024) {
            s.write_all(chunk).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let (mut off, mut lines) = (0u64, 0usize);
    let mut last_growth = Instant::now();
    while lines < n {
        let before = lines;
        count_lines(&out, &mut off, &mut lines);
        if lines > before {
            last_growth = Instant::now();
        } else if last_growth.elapsed() > Duration::from_secs(20) {
            break; // output stopped growing: the rest is lost
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    drop(guard);
    // Check every sequence number.
    let text = std::fs::read(&out).map_err(|e| e.to_string())?;
    let mut seen = vec![false; n];
    for line in text.split(|&b| b == b'\n') {
        if let Some(p) = memchr::memmem::find(line, b"seq=") {
            if let Some(num) = line
                .get(p + 4..p + 12)
                .and_then(|x| std::str::from_utf8(x).ok())
                .and_then(|x| x.parse::<usize>().ok())
            {
                if num < n {
                    seen[num] = true;
                }
            }
        }
    }
    let lost = seen.iter().filter(|s| !**s).count() as u64;
    let delivered = (n as u64 - lost).max(1) as f64;
    Ok(RunResult {
        daemon: d.name,
        run,
        seconds: secs,
        msgs_per_sec: delivered / secs,
        cpu_sec_per_million: cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
    })
}
