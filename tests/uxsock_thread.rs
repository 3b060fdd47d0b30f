//! imuxsock's receive thread (src/input/dgram_thread.rs, `recvmmsg` with one credentials
//! buffer per slot): datagrams from several processes at once, each message exactly once and
//! with its own sender's pid (`UsePIDFromSystem`), and datagrams longer than a slot's head up
//! to and beyond `maxMessageSize` — the same checks on the real rsyslogd 8.2302, and for the
//! long datagrams the same output.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{read_lossy, Daemon};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// Starts `bin` on `conf` and waits for its socket `dir/log`.
fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    let d = Daemon::start(bin, dir, conf, &[]);
    d.wait_exists(&dir.join("log"));
    d
}

/// Waits until `f` has at least `n` lines and then nothing new for a second (at most 60 s).
fn wait_lines(f: &Path, n: usize) -> String {
    let t = Instant::now();
    let mut last = (0, Instant::now());
    loop {
        let text = read_lossy(f);
        let lines = text.lines().count();
        if lines != last.0 {
            last = (lines, Instant::now());
        }
        if (lines >= n && last.1.elapsed() > Duration::from_secs(1))
            || t.elapsed() > Duration::from_secs(60)
        {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const SENDERS: usize = 4;
const PER_SENDER: usize = 3000;

/// Runs `SENDERS` `logger -u` processes at once, each sending `PER_SENDER` numbered lines;
/// returns the output and each logger's pid.
fn run_senders(bin: &str) -> (String, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/log\" UsePIDFromSystem=\"on\")\n\
         template(name=\"m\" type=\"string\" string=\"%syslogtag%|%procid%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    );
    let mut daemon = start(bin, dir.path(), &conf);
    let sock = dir.path().join("log");
    let mut kids = Vec::new();
    for k in 0..SENDERS {
        let child = Command::new("logger")
            .arg("-u")
            .arg(&sock)
            .args(["-t", &format!("t{k}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("logger");
        kids.push(common::Proc(child));
    }
    let pids: Vec<u32> = kids.iter().map(|c| c.0.id()).collect();
    // the lines of all senders are written first, then every stdin is closed: the loggers
    // send at the same time
    for (k, kid) in kids.iter_mut().enumerate() {
        let mut text = String::new();
        for i in 0..PER_SENDER {
            text.push_str(&format!("p{k} m{i}\n"));
        }
        let mut stdin = kid.0.stdin.take().unwrap();
        std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    }
    for kid in &mut kids {
        let t = Instant::now();
        loop {
            if let Some(st) = kid.0.try_wait().unwrap() {
                assert!(st.success(), "logger failed: {st}");
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "logger hangs");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let out = wait_lines(&dir.path().join("out.log"), SENDERS * PER_SENDER);
    daemon.stop();
    (out, pids)
}

/// Every message of every sender exactly once, tagged with its own sender's pid.
fn check_senders(bin: &str, out: &str, pids: &[u32]) {
    let mut seen = vec![vec![0u32; PER_SENDER]; SENDERS];
    for l in out.lines() {
        let f: Vec<&str> = l.splitn(3, '|').collect();
        assert_eq!(f.len(), 3, "{bin}: {l}");
        let (k, i) = f[2]
            .trim_start()
            .strip_prefix('p')
            .and_then(|r| r.split_once(" m"))
            .map(|(k, i)| (k.parse::<usize>().unwrap(), i.parse::<usize>().unwrap()))
            .unwrap_or_else(|| panic!("{bin}: unexpected line {l}"));
        let pid = pids[k];
        assert_eq!(f[0], format!("t{k}[{pid}]:"), "{bin}: {l}");
        assert_eq!(f[1], pid.to_string(), "{bin}: {l}");
        seen[k][i] += 1;
    }
    for (k, s) in seen.iter().enumerate() {
        let bad: Vec<(usize, u32)> = s
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 1)
            .map(|(i, &c)| (i, c))
            .take(5)
            .collect();
        assert!(
            bad.is_empty(),
            "{bin}: sender {k}: (message, count) {bad:?}"
        );
    }
}

#[test]
fn several_senders_each_message_once_with_its_pid() {
    let (out, pids) = run_senders(OX);
    check_senders("oxsyslogd", &out, &pids);
    if Path::new(RSYSLOGD).exists() {
        let (out, pids) = run_senders(RSYSLOGD);
        check_senders("rsyslogd", &out, &pids);
    }
}

/// Datagrams around the slots' head (2048 bytes) and `maxMessageSize` (10000), sent back to
/// back so that one `recvmmsg` takes several, then an end marker.
fn run_long(bin: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\" maxMessageSize=\"10000\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/log\" Annotate=\"on\")\n\
         template(name=\"m\" type=\"string\" string=\"%syslogtag%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    );
    let mut daemon = start(bin, dir.path(), &conf);
    let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let sock = dir.path().join("log");
    let lens = [
        40, 2000, 2047, 2048, 2049, 3000, 100, 9000, 9990, 9999, 10000, 10001, 12000, 50,
    ];
    for (i, &n) in lens.iter().enumerate() {
        let head = format!("<13>tag{i}: ");
        let mut m = head.into_bytes();
        let mut c = b'a' + (i % 26) as u8;
        while m.len() < n {
            m.push(c);
            c = if c == b'z' { b'a' } else { c + 1 };
        }
        s.send_to(&m, &sock).unwrap();
    }
    s.send_to(b"<13>end: END", &sock).unwrap();
    let out = dir.path().join("out.log");
    let ok = common::wait_for(&out, "END");
    daemon.stop();
    let text = read_lossy(&out);
    assert!(ok, "{bin}: {text}\n{}", daemon.stderr());
    text
}

#[test]
fn long_datagrams_are_received_whole_up_to_max_message_size() {
    let ox = run_long(OX);
    // 15 messages, each on one line: nothing split, nothing lost
    assert_eq!(ox.lines().count(), 15, "{ox}");
    // the annotation of this process is appended where the message fits
    let pid = std::process::id();
    assert!(ox.contains(&format!("@[_PID={pid} ")), "{ox}");
    if Path::new(RSYSLOGD).exists() {
        let rs = run_long(RSYSLOGD);
        let (o, r): (Vec<&str>, Vec<&str>) = (ox.lines().collect(), rs.lines().collect());
        assert_eq!(o.len(), r.len(), "rsyslogd:\n{rs}");
        for (a, b) in o.iter().zip(&r) {
            assert!(
                a == b,
                "line differs:\nox ({} bytes): {a}\nrs ({} bytes): {b}",
                a.len(),
                b.len()
            );
        }
    }
}
