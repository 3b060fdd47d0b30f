//! Hostile input against the running daemon: malformed frames, oversize messages, absurd octet
//! counts (rsyslog's CVE-2022-24903 class), 1,000 concurrent TCP connections interleaving 100
//! messages each, senders that disconnect mid-frame, an unwritable output file. The daemon
//! must keep running, say what happened, and lose nothing rsyslog would keep.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Daemon {
    /// Starts oxsyslogd with `body` appended to an imtcp listener on 127.0.0.1 (port 0).
    fn start(extra_module: &str, body: &str) -> Daemon {
        Daemon::start_with(extra_module, body, |_| {})
    }

    /// Like `start`, with `setup` run on the directory before the daemon starts.
    fn start_with(extra_module: &str, body: &str, setup: impl FnOnce(&Path)) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        setup(dir.path());
        let d = dir.path().display().to_string();
        let conf = format!(
            "global(workDirectory=\"{d}\")\nmodule(load=\"imtcp\" {extra_module})\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n{}\n",
            body.replace("@DIR@", &d)
        );
        std::fs::write(dir.path().join("ox.conf"), conf).unwrap();
        let child = Command::new(OX)
            .args(["-n", "-C", "-iNONE", "-f"])
            .arg(dir.path().join("ox.conf"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut dm = Daemon {
            child,
            dir,
            port: 0,
        };
        let t = Instant::now();
        while dm.port == 0 {
            if let Some(p) = std::fs::read_to_string(dm.path("port"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                dm.port = p;
            } else if t.elapsed() > Duration::from_secs(10) {
                panic!("oxsyslogd did not start: {}", dm.stderr());
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        dm
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn connect(&self) -> TcpStream {
        common::connect(self.port)
    }

    fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
            .unwrap_or(0)
    }

    /// Stops the daemon (SIGTERM) and returns its exit status.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let st = self.child.wait().unwrap();
        let err = self.stderr();
        (st, err)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The file's text (binary bytes replaced), or empty when it does not exist.
fn read_lossy(file: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default()).into_owned()
}

/// Waits until `file` contains `needle` (or 20 s pass) and returns its lines.
fn wait_for(file: &Path, needle: &str) -> Vec<String> {
    let t = Instant::now();
    loop {
        let text = read_lossy(file);
        if text.contains(needle) || t.elapsed() > Duration::from_secs(20) {
            return text.lines().map(str::to_string).collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `file` has `n` lines (or 20 s pass) and returns its lines.
fn wait_lines(file: &Path, n: usize) -> Vec<String> {
    let t = Instant::now();
    loop {
        let text = read_lossy(file);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= n || t.elapsed() > Duration::from_secs(20) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const OUT: &str = "*.* action(type=\"omfile\" file=\"@DIR@/out.log\" template=\"m\")\n";
const TPL: &str = "template(name=\"m\" type=\"string\" string=\"%rawmsg%\\n\")\n";

#[test]
fn thousand_connections_interleaving_hundred_messages_each() {
    let d = Daemon::start("MaxSessions=\"2000\"", &format!("{TPL}{OUT}"));
    let mut conns: Vec<TcpStream> = (0..1000).map(|_| d.connect()).collect();
    for round in 0..100 {
        for (c, s) in conns.iter_mut().enumerate() {
            let line = format!("<13>Nov 23 10:00:00 h t: c{c:04}r{round:03}\n");
            s.write_all(line.as_bytes()).unwrap();
        }
    }
    drop(conns);
    let lines = wait_lines(&d.path("out.log"), 100_000);
    let mut seen = std::collections::HashSet::new();
    for tok in lines.iter().filter_map(|l| l.rsplit(' ').next()) {
        if tok.len() == 9 && tok.starts_with('c') {
            seen.insert(tok.to_string());
        }
    }
    let (st, err) = d.stop();
    assert!(st.success(), "exit: {st:?}\n{err}");
    assert_eq!(
        seen.len(),
        100_000,
        "distinct messages received (of {} lines)",
        lines.len()
    );
}

#[test]
fn absurd_octet_count_does_not_allocate_and_daemon_goes_on() {
    let mut d = Daemon::start("", &format!("{TPL}{OUT}"));
    let before = d.rss_kb();
    {
        let mut s = d.connect();
        s.write_all(b"99999999999 <13>Nov 23 10:00:00 h t: evil")
            .unwrap();
        // Keep sending data that claims to belong to the huge frame.
        let junk = vec![b'A'; 1 << 20];
        for _ in 0..8 {
            let _ = s.write_all(&junk);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.alive(), "daemon died: {}", d.stderr());
    let grown = d.rss_kb().saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "RSS grew by {grown} kB for a huge octet count"
    );
    // A well-behaved sender still gets through.
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: after-evil\n")
        .unwrap();
    // (the huge frame's data may be logged first, cut at maxMessageSize: wait for this line)
    assert!(
        common::wait_for(&d.path("out.log"), "after-evil"),
        "{:?}",
        wait_lines(&d.path("out.log"), 1)
    );
    let (st, err) = d.stop();
    assert!(st.success());
    assert!(
        err.contains("frame too large"),
        "the framing error must be reported: {err}"
    );
}

#[test]
fn malformed_frames_and_mid_frame_disconnects() {
    let mut d = Daemon::start("", &format!("{TPL}{OUT}"));
    // Octet-counted frame cut short: dropped and reported ("Incomplete frame").
    d.connect()
        .write_all(b"50 <13>Nov 23 10:00:00 h t: cut-octet")
        .unwrap();
    // LF frame without its LF at close: delivered.
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: cut-lf")
        .unwrap();
    // Garbage, one connection each: NULs, a bad octet-count delimiter (its count still
    // frames the next 12 bytes, as in rsyslog), an invalid PRI, binary bytes, a zero count.
    for g in [
        &b"\0\0\0\n"[..],
        b"12x<13>abc-defghi\n",
        b"<999>bad-pri\n",
        b"\xff\xfe\x80 binary\n",
        b"0 zero\n",
        b"<13>Nov 23 10:00:00 h t: ok-after-garbage\n",
    ] {
        d.connect().write_all(g).unwrap();
    }
    // Oversize: 20000 bytes in one LF frame (split at the maximum message size).
    let mut big = b"<13>Nov 23 10:00:00 h t: big-".to_vec();
    big.extend(std::iter::repeat_n(b'x', 20_000));
    big.push(b'\n');
    d.connect().write_all(&big).unwrap();
    let lines = wait_for(&d.path("out.log"), "big-");
    let _ = wait_for(&d.path("out.log"), "ok-after-garbage");
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.alive(), "daemon died: {}", d.stderr());
    let all = read_lossy(&d.path("out.log"));
    assert!(all.contains("cut-lf"), "{lines:?}");
    assert!(
        !all.contains("cut-octet"),
        "a partial octet-counted frame must be dropped"
    );
    assert!(all.contains("ok-after-garbage"));
    assert!(all.contains("bad-pri"));
    assert!(
        all.contains("abc-defg") && !all.contains("abc-defghi"),
        "count 12 with a bad delimiter frames 12 bytes"
    );
    assert!(all.contains("big-xxxx"));
    assert!(
        all.lines().all(|l| l.len() <= 8096 + 1),
        "no line exceeds the maximum message size"
    );
    let (st, err) = d.stop();
    assert!(st.success());
    assert!(err.contains("Incomplete frame"), "{err}");
}

#[test]
fn unwritable_output_is_reported_and_others_keep_working() {
    // "blocked" is a regular file, so blocked/x.log cannot be created (even as root).
    let body = format!(
        "{TPL}*.* action(type=\"omfile\" file=\"@DIR@/blocked/x.log\" template=\"m\")\n{OUT}"
    );
    let mut d = Daemon::start_with("", &body, |dir| {
        std::fs::write(dir.join("blocked"), b"not a directory").unwrap();
    });
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: one\n<13>Nov 23 10:00:00 h t: two\n")
        .unwrap();
    let lines = wait_for(&d.path("out.log"), "two");
    assert!(
        lines.iter().any(|l| l.contains("two")),
        "the other action keeps writing: {lines:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.alive());
    assert!(
        d.stderr().contains("blocked/x.log"),
        "the failing file is named: {}",
        d.stderr()
    );
    // Repair: the next batch after the retry delay goes to the file again.
    std::fs::remove_file(d.path("blocked")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: three\n")
        .unwrap();
    let fixed = wait_for(&d.path("blocked/x.log"), "three");
    assert!(fixed.iter().any(|l| l.contains("three")), "{fixed:?}");
    let (st, err) = d.stop();
    assert!(st.success());
    assert!(err.contains("writable again"), "{err}");
}

#[test]
fn sigterm_drains_and_exits_zero_and_hup_reopens() {
    let d = Daemon::start("", &format!("{TPL}{OUT}"));
    let mut s = d.connect();
    for i in 0..5000 {
        s.write_all(format!("<13>Nov 23 10:00:00 h t: n{i}\n").as_bytes())
            .unwrap();
    }
    drop(s);
    let _ = wait_for(&d.path("out.log"), " n4999");
    // Rotate: move the file away, HUP, and the next message lands in a new file.
    std::fs::rename(d.path("out.log"), d.path("out.log.1")).unwrap();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.child.id() as i32),
        nix::sys::signal::Signal::SIGHUP,
    );
    std::thread::sleep(Duration::from_millis(300));
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: after-hup\n")
        .unwrap();
    let lines = wait_for(&d.path("out.log"), "after-hup");
    assert!(lines.iter().any(|l| l.contains("after-hup")), "{lines:?}");
    let old = std::fs::read_to_string(d.path("out.log.1")).unwrap();
    assert_eq!(old.lines().filter(|l| l.contains(" t: n")).count(), 5000);
    let (st, err) = d.stop();
    assert!(st.success(), "{err}");
}

#[test]
fn buffered_omfile_flushes_within_flush_interval() {
    // asyncWriting with flushOnTXEnd="off": rsyslog's buffered mode. Nothing more arrives,
    // so only the interval flush can write the message.
    let body = format!(
        "{TPL}*.* action(type=\"omfile\" file=\"@DIR@/out.log\" template=\"m\" asyncWriting=\"on\" flushOnTXEnd=\"off\" flushInterval=\"1\" ioBufferSize=\"64k\")\n"
    );
    let d = Daemon::start("", &body);
    let t = Instant::now();
    d.connect()
        .write_all(b"<13>Nov 23 10:00:00 h t: buffered\n")
        .unwrap();
    let lines = wait_for(&d.path("out.log"), "buffered");
    assert!(lines.iter().any(|l| l.contains("buffered")), "{lines:?}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "flushed only after {:?}",
        t.elapsed()
    );
    let (st, err) = d.stop();
    assert!(st.success(), "{err}");
}
