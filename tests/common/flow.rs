//! Message-flow helpers for tests that push numbered messages through daemons: the port a
//! daemon wrote to its listenPortFileName, numbered syslog lines fed over plain TCP, waiting
//! for an output file to fill, and the check that it holds exactly the numbers sent, each once,
//! each with the content sent. Include with `mod common; #[path = "common/flow.rs"] mod flow;`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::Daemon;

/// The port a daemon wrote to `dir/name` (listenPortFileName); panics with the daemon's
/// stderr when it does not appear within 60 s (rsyslogd can take long to start on a loaded
/// machine).
pub fn port_file(d: &Daemon, name: &str) -> u16 {
    let t = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(d.dir.join(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return crate::common::listening(p);
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "daemon in {} did not start: {}",
            d.dir.display(),
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `conf` and starts `bin` in `dir` (as [`Daemon::start`]) after removing the port file
/// `name` an earlier run in the same directory left, so [`port_file`] waits for this run's.
pub fn start_fresh(bin: &str, dir: &Path, conf: &str, name: &str) -> Daemon {
    let _ = std::fs::remove_file(dir.join(name));
    Daemon::start(bin, dir, conf, &[])
}

/// Message `i` of a run tagged `tag`, as sent (RFC 3164, no trailing LF).
pub fn numbered_line(tag: &str, i: usize) -> String {
    format!("<134>Nov 23 10:00:00 host1 {tag}[7]: seq={i:07} payload for {tag} äöü ✓ end")
}

/// What a receiver with the template `"%hostname% %syslogtag%%msg%\n"` writes for message `i`.
pub fn numbered_out(tag: &str, i: usize) -> String {
    format!("host1 {tag}[7]: seq={i:07} payload for {tag} äöü ✓ end")
}

/// The number `i` of a [`numbered_line`] or [`numbered_out`] line (its `seq=NNNNNNN`).
pub fn seq_of(l: &[u8]) -> Option<usize> {
    let p = l.windows(4).position(|w| w == b"seq=")?;
    std::str::from_utf8(l.get(p + 4..p + 11)?)
        .ok()?
        .parse()
        .ok()
}

/// The receiver template matching [`numbered_out`].
pub const NUMBERED_TEMPLATE: &str =
    "template(name=\"numbered\" type=\"string\" string=\"%hostname% %syslogtag%%msg%\\n\")";

/// Sends messages `range` to a plain TCP listener, LF-framed, `per` lines every `pause`.
pub fn feed_tcp(port: u16, tag: &str, range: std::ops::Range<usize>, per: usize, pause: Duration) {
    let mut s = crate::common::connect(port);
    let mut buf = Vec::new();
    for i in range {
        buf.extend_from_slice(numbered_line(tag, i).as_bytes());
        buf.push(b'\n');
        if (i + 1) % per == 0 {
            s.write_all(&buf).unwrap();
            buf.clear();
            std::thread::sleep(pause);
        }
    }
    s.write_all(&buf).unwrap();
}

/// Waits until `file` holds at least `n` lines, or nothing new arrived for `idle` seconds, or
/// `max` seconds passed; returns its content.
pub fn wait_lines(file: &Path, n: usize, idle: u64, max: u64) -> Vec<u8> {
    let t = Instant::now();
    let mut last_len = 0;
    let mut last_growth = Instant::now();
    loop {
        let c = std::fs::read(file).unwrap_or_default();
        let lines = c.iter().filter(|&&b| b == b'\n').count();
        if c.len() != last_len {
            last_len = c.len();
            last_growth = Instant::now();
        }
        if lines >= n
            || t.elapsed() > Duration::from_secs(max)
            || last_growth.elapsed() > Duration::from_secs(idle)
        {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks that `content` holds exactly the lines `numbered_out(tag, 0..n)`, each once (in any
/// order); panics describing missing, duplicated and unexpected lines.
pub fn check_numbered(content: &[u8], tag: &str, n: usize, what: &str) {
    let text = String::from_utf8_lossy(content);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for l in text.lines() {
        *seen.entry(l).or_default() += 1;
    }
    let mut missing = Vec::new();
    let mut dup = Vec::new();
    for i in 0..n {
        let want = numbered_out(tag, i);
        match seen.remove(want.as_str()) {
            None => missing.push(i),
            Some(1) => {}
            Some(k) => dup.push((i, k)),
        }
    }
    if missing.is_empty() && dup.is_empty() && seen.is_empty() {
        return;
    }
    let extra: Vec<&&str> = seen.keys().take(3).collect();
    panic!(
        "{what}: {} lines for {n} messages; {} missing (first {:?}), {} duplicated (first {:?}), {} unexpected lines (first {:?})",
        text.lines().count(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        dup.len(),
        dup.iter().take(3).collect::<Vec<_>>(),
        seen.len(),
        extra
    );
}
