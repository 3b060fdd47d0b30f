//! Rulesets with their own queue (issue #7, src/rsq/) against the real rsyslogd 8.2302:
//!
//! - a normal flow through two rulesets with queues and one without, with `call` of a queued
//!   ruleset from both threads (a copy with its `$!`/`$.` variables; the called ruleset's
//!   `stop` and `set` do not reach the caller): the output files are byte-compared with
//!   rsyslogd's, and impstats lists the ruleset queues under the same names with the same
//!   `enqueued` counts;
//! - a ruleset whose action blocks (omfile on a FIFO nobody reads: the thread blocks in
//!   open(2)) does not stall another ruleset fed by another input, in both daemons; the same
//!   config without the queue stalls (the check can fail); the FIFO is read just before
//!   SIGTERM, and the shutdown drains everything the blocked ruleset's queue held;
//! - two queued rulesets calling each other: the same lines as rsyslogd, and a clean stop.

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn line(tag: &str, i: usize) -> String {
    let kind = if i % 2 == 1 { "odd" } else { "even" };
    format!("<134>Nov 23 10:00:00 host1 {tag}[7]: seq={i:05} {kind} äöü\n")
}

fn send(port: u16, tag: &str, n: usize) {
    let mut s = common::connect(port);
    let all: String = (0..n).map(|i| line(tag, i)).collect();
    s.write_all(all.as_bytes()).unwrap();
}

fn lines_in(f: &Path) -> usize {
    common::read_lossy(f).lines().count()
}

/// Waits until `f` holds `n` lines (at most 20 s).
fn wait_count(f: &Path, n: usize) -> usize {
    let t = Instant::now();
    loop {
        let c = lines_in(f);
        if c >= n || t.elapsed() > Duration::from_secs(20) {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `core.queue` objects of the last impstats block: (name, enqueued), main queue and
/// action queues excluded.
fn ruleset_queues(stats: &str) -> Vec<(String, String)> {
    let text: Vec<&str> = stats.lines().collect();
    // the last complete block ends with the main queue's line
    let Some(end) = text.iter().rposition(|l| l.contains("main Q: origin=")) else {
        return Vec::new();
    };
    let start = text[..end]
        .iter()
        .rposition(|l| l.contains("main Q: origin="))
        .map_or(0, |s| s + 1);
    text[start..end]
        .iter()
        .filter(|l| l.contains(": origin=core.queue ") && !l.contains(" queue: origin="))
        .filter_map(|l| {
            let l = l.split_once(": ").map_or(*l, |(_, r)| r);
            let (name, rest) = l.split_once(": origin=core.queue ")?;
            let enq = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("enqueued="))?;
            Some((name.to_string(), enq.to_string()))
        })
        .collect()
}

struct Flow {
    a: String,
    b: String,
    c: String,
    queues: Vec<(String, String)>,
}

const N: usize = 600;

fn two_rulesets(bin: &str) -> Flow {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imtcp\")\n\
         module(load=\"impstats\" interval=\"1\" format=\"legacy\" log.syslog=\"off\" log.file=\"{d}/stats.log\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/pa\" ruleset=\"ra\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/pb\" ruleset=\"rb\")\n\
         template(name=\"t\" type=\"string\" string=\"%syslogtag%%msg%|%$.x%|%$!y%|%inputname%\\n\")\n\
         ruleset(name=\"rc\" queue.type=\"FixedArray\" queue.size=\"5000\") {{\n\
           action(type=\"omfile\" file=\"{d}/c.log\" template=\"t\")\n\
           set $.x = \"changed-in-c\";\n\
           set $!y = \"changed-in-c\";\n\
           stop\n\
         }}\n\
         ruleset(name=\"ra\" queue.type=\"LinkedList\" queue.size=\"20000\") {{\n\
           set $.x = \"la\";\n\
           set $!y = \"ma\";\n\
           if $msg contains \"odd\" then call rc\n\
           action(type=\"omfile\" file=\"{d}/a.log\" template=\"t\")\n\
         }}\n\
         ruleset(name=\"rb\") {{\n\
           set $.x = \"lb\";\n\
           call rc\n\
           action(type=\"omfile\" file=\"{d}/b.log\" template=\"t\")\n\
         }}\n"
    );
    let mut daemon = Daemon::start(bin, dir.path(), &conf, &[]);
    let pa = flow::port_file(&daemon, "pa");
    let pb = flow::port_file(&daemon, "pb");
    let p = |f: &str| dir.path().join(f);
    // one input after the other: the copies in c.log come from one thread at a time
    send(pa, "ta", N);
    assert_eq!(wait_count(&p("a.log"), N), N, "{bin}: a.log");
    assert_eq!(wait_count(&p("c.log"), N / 2), N / 2, "{bin}: c.log");
    send(pb, "tb", N);
    assert_eq!(wait_count(&p("b.log"), N), N, "{bin}: b.log");
    assert_eq!(
        wait_count(&p("c.log"), N + N / 2),
        N + N / 2,
        "{bin}: c.log"
    );
    // a statistics block after everything went through
    let t = Instant::now();
    let want = (N + N / 2).to_string();
    while t.elapsed() < Duration::from_secs(10)
        && !ruleset_queues(&common::read_lossy(&p("stats.log")))
            .iter()
            .any(|(n, e)| n == "rc" && *e == want)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(daemon.stop(), "{bin} did not stop");
    Flow {
        a: common::read_lossy(&p("a.log")),
        b: common::read_lossy(&p("b.log")),
        c: common::read_lossy(&p("c.log")),
        queues: ruleset_queues(&common::read_lossy(&p("stats.log"))),
    }
}

#[test]
fn two_rulesets_with_queues_write_what_rsyslogd_writes() {
    if !common::have_rsyslogd() {
        return;
    }
    let ox = two_rulesets(OX);
    let rs = two_rulesets(RSYSLOGD);
    assert_eq!(ox.a, rs.a, "a.log differs");
    assert_eq!(ox.b, rs.b, "b.log differs");
    assert_eq!(ox.c, rs.c, "c.log differs");
    // the copies kept the caller's variables, and the caller kept its own after the call
    assert!(ox.c.contains("seq=00001 odd äöü|la|ma|imtcp"), "{}", ox.c);
    assert!(ox.a.contains("seq=00001 odd äöü|la|ma|imtcp"), "{}", ox.a);
    assert_eq!(ox.queues, rs.queues, "impstats ruleset queues");
    for q in ["ra", "rc"] {
        assert!(ox.queues.iter().any(|(n, _)| n == q), "{:?}", ox.queues);
    }
}

/// Ruleset `slow` (its own queue unless `queued` is false) writes to a FIFO nobody reads yet;
/// ruleset `fast` (main queue) writes a file. Returns the lines `fast` wrote within 5 s of
/// the feed, then (after the FIFO is read and the daemon stopped) what `slow` wrote.
fn blocked(bin: &str, queued: bool) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let fifo = dir.path().join("slow.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let q = if queued {
        " queue.type=\"LinkedList\""
    } else {
        ""
    };
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/ps\" ruleset=\"slow\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/pf\" ruleset=\"fast\")\n\
         template(name=\"t\" type=\"string\" string=\"%syslogtag%%msg%\\n\")\n\
         ruleset(name=\"slow\"{q}) {{ action(type=\"omfile\" file=\"{d}/slow.fifo\" template=\"t\") }}\n\
         ruleset(name=\"fast\") {{ action(type=\"omfile\" file=\"{d}/fast.log\" template=\"t\") }}\n"
    );
    let mut daemon = Daemon::start(bin, dir.path(), &conf, &[]);
    let ps = flow::port_file(&daemon, "ps");
    let pf = flow::port_file(&daemon, "pf");
    send(ps, "ts", 200);
    std::thread::sleep(Duration::from_millis(500));
    send(pf, "tf", 1000);
    let t = Instant::now();
    while lines_in(&dir.path().join("fast.log")) < 1000 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let fast = lines_in(&dir.path().join("fast.log"));
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::open(&fifo).unwrap();
        let mut s = String::new();
        let _ = f.read_to_string(&mut s);
        s
    });
    // stopped at once: the shutdown drains what the blocked ruleset's queue holds
    std::thread::sleep(Duration::from_millis(100));
    assert!(daemon.stop(), "{bin} did not stop");
    // the daemon closed the FIFO: the reader ends
    let slow = reader.join().unwrap();
    (fast, slow)
}

#[test]
fn a_blocked_ruleset_with_its_own_queue_does_not_stall_another() {
    let (fast, slow) = blocked(OX, true);
    assert_eq!(
        fast, 1000,
        "oxsyslogd: the blocked ruleset stalled the other"
    );
    let want: String = (0..200)
        .map(|i| {
            let l = line("ts", i);
            let (_, rest) = l.split_once("host1 ").unwrap();
            rest.to_string()
        })
        .collect();
    assert_eq!(
        slow, want,
        "oxsyslogd: what the blocked ruleset wrote once unblocked"
    );
    // without its own queue the blocked action holds the main queue's only thread
    let (fast, _) = blocked(OX, false);
    assert!(
        fast < 1000,
        "oxsyslogd without a ruleset queue: {fast} lines"
    );
    if common::have_rsyslogd() {
        let (fast, rslow) = blocked(RSYSLOGD, true);
        assert_eq!(
            fast, 1000,
            "rsyslogd: the blocked ruleset stalled the other"
        );
        assert_eq!(rslow, slow, "rsyslogd wrote something else to the FIFO");
    }
}

/// Two queued rulesets that call each other (a cycle in the call graph, finite at run time):
/// the same lines as rsyslogd (sorted: each file has two writers' lines interleaved), and the
/// daemon stops cleanly (the queues close in turn).
fn cycle(bin: &str) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/pa\" ruleset=\"rb\")\n\
         template(name=\"t\" type=\"string\" string=\"%msg%|%$.hop%\\n\")\n\
         ruleset(name=\"ra\" queue.type=\"LinkedList\") {{\n\
           set $.hop = \"1\";\n\
           action(type=\"omfile\" file=\"{d}/ra.log\" template=\"t\")\n\
           call rb\n\
         }}\n\
         ruleset(name=\"rb\" queue.type=\"FixedArray\") {{\n\
           action(type=\"omfile\" file=\"{d}/rb.log\" template=\"t\")\n\
           if $.hop != \"1\" then {{\n\
             call ra\n\
           }}\n\
         }}\n"
    );
    let mut daemon = Daemon::start(bin, dir.path(), &conf, &[]);
    let pa = flow::port_file(&daemon, "pa");
    send(pa, "tc", N);
    let p = |f: &str| dir.path().join(f);
    assert_eq!(wait_count(&p("rb.log"), 2 * N), 2 * N, "{bin}: rb.log");
    assert_eq!(wait_count(&p("ra.log"), N), N, "{bin}: ra.log");
    let t = Instant::now();
    assert!(daemon.stop(), "{bin} did not stop");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "{bin} took {:?} to stop",
        t.elapsed()
    );
    let sorted = |f: &str| {
        let mut v: Vec<String> = common::read_lossy(&p(f))
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    (sorted("ra.log"), sorted("rb.log"))
}

#[test]
fn queued_rulesets_calling_each_other_write_what_rsyslogd_writes_and_stop() {
    let ox = cycle(OX);
    if common::have_rsyslogd() {
        let rs = cycle(RSYSLOGD);
        assert_eq!(ox, rs);
    }
}
