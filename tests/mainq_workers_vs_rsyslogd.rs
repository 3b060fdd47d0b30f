//! Several rules threads on one queue (src/workers.rs) against the real rsyslogd 8.2302: the
//! same config run by both daemons — `$MainMsgQueueWorkerThreads 4`, a RainerScript
//! `main_queue(queue.workerThreads="4")`, and a ruleset queue with `queue.workerThreads="2"`
//! — with 100,000 messages over four TCP connections at once into rules that use message
//! variables, `stop` and `call`, writing to two omfile actions and forwarding with omfwd to
//! the test's own TCP listener. Each output must hold exactly the messages its rules select,
//! each once, and its sorted lines must equal rsyslogd's byte for byte; impstats must show
//! the queue with every message enqueued.

mod common;
#[path = "common/failover.rs"]
mod failover;
#[path = "common/flow.rs"]
mod flow;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const N: usize = 100_000;
const CONNS: usize = 4;

/// What message `i` leaves in `out` and in the forwarded stream (the ruleset sets `$!w`).
fn line(tag: &str, i: usize) -> String {
    format!(
        "w-{tag} {}",
        flow::numbered_out(tag, i).split_once(": ").unwrap().1
    )
}

/// The rules: every message gets `$!w`; those whose number ends in 7 stop, those ending in
/// 3 also go through `call side`; the rest (and the 3s) reach `out` and the forwarder.
fn rules(dir: &Path, fport: u16) -> String {
    let d = dir.display();
    format!(
        "template(name=\"t\" type=\"string\" string=\"%$!w% %msg:2:$%\\n\")
template(name=\"tf\" type=\"string\" string=\"%$!w% %msg:2:$%\")
ruleset(name=\"side\") {{ action(type=\"omfile\" file=\"{d}/side\" template=\"t\") }}
ruleset(name=\"work\" RULESET_QUEUE) {{
  set $!w = \"w-\" & $programname;
  if $msg contains \"7 payload\" then stop
  if $msg contains \"3 payload\" then call side
  action(type=\"omfile\" file=\"{d}/out\" template=\"t\")
  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{fport}\" protocol=\"tcp\" template=\"tf\")
}}
"
    )
}

/// `head` (the queue setting), then impstats, imtcp bound to `work`, and the rules;
/// `rsq`: the ruleset parameters of `work`.
fn conf(dir: &Path, head: &str, rsq: &str, fport: u16) -> String {
    let d = dir.display();
    format!(
        "{head}
global(workDirectory=\"{d}\")
module(load=\"impstats\" interval=\"1\" format=\"legacy\" log.syslog=\"off\" log.file=\"{d}/stats\")
module(load=\"imtcp\")
input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\" ruleset=\"work\")
{}",
        rules(dir, fport).replace("RULESET_QUEUE", rsq)
    )
}

/// A TCP listener collecting lines from every connection (rsyslogd opens one per worker).
fn receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let c = lines.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut local = Vec::new();
                for l in BufReader::new(s).lines() {
                    match l {
                        Ok(l) => {
                            local.push(l);
                            if local.len() >= 1000 {
                                c.lock().unwrap().append(&mut local);
                            }
                        }
                        Err(_) => break,
                    }
                }
                c.lock().unwrap().append(&mut local);
            });
        }
    });
    (port, lines)
}

struct Run {
    /// The daemon's rules threads (oxsyslogd's thread names, src/engine.rs).
    rules_threads: usize,
    out: Vec<String>,
    side: Vec<String>,
    fwd: Vec<String>,
    stats: String,
}

fn run(bin: &str, tag: &str, head: &str, rsq: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (fport, fwd) = receiver();
    let mut d = Daemon::start(bin, dir.path(), &conf(dir.path(), head, rsq, fport), &[]);
    let port = flow::port_file(&d, "port");
    let rules_threads = std::fs::read_dir(format!("/proc/{}/task", d.child.id()))
        .map(|ts| {
            ts.flatten()
                .filter(|t| {
                    let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                    comm.starts_with("oxsyslogd-rules") || comm.starts_with("oxsyslogd-rs")
                })
                .count()
        })
        .unwrap_or(0);
    let per = N / CONNS;
    let feeders: Vec<_> = (0..CONNS)
        .map(|c| {
            let tag = tag.to_string();
            std::thread::spawn(move || {
                flow::feed_tcp(port, &tag, c * per..(c + 1) * per, 500, Duration::ZERO)
            })
        })
        .collect();
    for f in feeders {
        f.join().unwrap();
    }
    let want_out = N / 10 * 9;
    let out = flow::wait_lines(&dir.path().join("out"), want_out, 60, 600);
    let side = flow::wait_lines(&dir.path().join("side"), N / 10, 30, 120);
    let t = Instant::now();
    while fwd.lock().unwrap().len() < want_out && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // impstats writes every second: wait for a record that counts every message
    let stats_file = dir.path().join("stats");
    let t = Instant::now();
    while !enqueued_all(&common::read_lossy(&stats_file)) && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.stop(), "{bin} did not stop in time: {}", d.stderr());
    let lines = |b: Vec<u8>| {
        String::from_utf8_lossy(&b)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let fwd = fwd.lock().unwrap().clone();
    Run {
        rules_threads,
        out: lines(out),
        side: lines(side),
        fwd,
        stats: common::read_lossy(&stats_file),
    }
}

/// Whether an impstats record shows a queue (main or ruleset `work`) that took every
/// message: `enqueued=N` or more on a `main Q` or `work` queue line.
fn enqueued_all(stats: &str) -> bool {
    stats.lines().any(|l| {
        (l.contains("main Q:") || l.contains("work"))
            && l.contains("origin=core.queue")
            && l.split_whitespace().any(|f| {
                f.strip_prefix("enqueued=")
                    .and_then(|v| v.parse::<usize>().ok())
                    .is_some_and(|v| v >= N)
            })
    })
}

/// `got` holds exactly the lines of `want`, each once.
fn exact(what: &str, got: &[String], want: impl Iterator<Item = String>) {
    let mut g: Vec<&str> = got.iter().map(String::as_str).collect();
    g.sort_unstable();
    let mut w: Vec<String> = want.collect();
    w.sort_unstable();
    if g.len() == w.len() && g.iter().zip(&w).all(|(a, b)| *a == b.as_str()) {
        return;
    }
    let dups = g.windows(2).filter(|p| p[0] == p[1]).count();
    let gs: std::collections::HashSet<&str> = g.iter().copied().collect();
    let missing: Vec<&String> = w
        .iter()
        .filter(|l| !gs.contains(l.as_str()))
        .take(3)
        .collect();
    panic!(
        "{what}: {} lines, want {}; {dups} duplicates; missing (first) {missing:?}",
        g.len(),
        w.len()
    );
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s
}

/// `threads`: oxsyslogd's rules threads (the main queue's plus the ruleset queue's).
fn compare(tag: &str, head: &str, rsq: &str, threads: usize) {
    let theirs = run(RSYSLOGD, tag, head, rsq);
    let ours = run(OX, tag, head, rsq);
    assert_eq!(ours.rules_threads, threads, "oxsyslogd's rules threads");
    for (who, r) in [("rsyslogd", &theirs), ("oxsyslogd", &ours)] {
        exact(
            &format!("{who} out"),
            &r.out,
            (0..N).filter(|i| i % 10 != 7).map(|i| line(tag, i)),
        );
        exact(
            &format!("{who} side"),
            &r.side,
            (0..N).filter(|i| i % 10 == 3).map(|i| line(tag, i)),
        );
        exact(
            &format!("{who} forwarded"),
            &r.fwd,
            (0..N)
                .filter(|i| i % 10 != 7)
                .map(|i| line(tag, i).trim_end().to_string()),
        );
        assert!(
            enqueued_all(&r.stats),
            "{who}: no impstats record with the queue's enqueued >= {N}:\n{}",
            r.stats
                .lines()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(sorted(&ours.out) == sorted(&theirs.out), "out differs");
    assert!(sorted(&ours.side) == sorted(&theirs.side), "side differs");
    assert!(
        sorted(&ours.fwd) == sorted(&theirs.fwd),
        "forwarded differs"
    );
}

#[test]
fn legacy_main_queue_with_four_workers() {
    compare("legacy4", "$MainMsgQueueWorkerThreads 4", "", 4);
}

#[test]
fn rainerscript_main_queue_with_four_workers() {
    compare(
        "mainq4",
        "main_queue(queue.workerThreads=\"4\" queue.workerThreadMinimumMessages=\"1000\")",
        "",
        4,
    );
}

#[test]
fn ruleset_queue_with_two_workers() {
    compare(
        "rsq2",
        "",
        "queue.type=\"LinkedList\" queue.workerThreads=\"2\"",
        3,
    );
}

/// What oxsyslogd cannot share between its rules threads is refused at start, naming the
/// setting's line; with one worker the same rules start.
#[test]
fn globals_with_several_workers_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let body = "set $/count = 1;\n*.* /tmp/oxsyslog-n1/never\n";
    std::fs::write(
        dir.path().join("many.conf"),
        format!("main_queue(queue.workerThreads=\"3\")\n{body}"),
    )
    .unwrap();
    let o = std::process::Command::new(OX)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.path().join("many.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "started: {err}");
    let first = err
        .lines()
        .find(|l| l.contains("error"))
        .unwrap_or_default();
    assert!(
        first.contains("many.conf:1:") && first.contains("$/") && first.contains("workerThreads"),
        "{err}"
    );
}

/// SIGHUP with four rules threads: the shared omfile reopens its file (moved away by a
/// "logrotate"), and the messages before and after are each written once, in the old file
/// and in the new one — as rsyslogd does.
#[test]
fn hup_reopens_a_shared_action_once() {
    for bin in [RSYSLOGD, OX] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let conf = format!(
            "$MainMsgQueueWorkerThreads 4
global(workDirectory=\"{d}\")
module(load=\"imtcp\")
input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\")
template(name=\"t\" type=\"string\" string=\"%msg:2:$%\\n\")
action(type=\"omfile\" file=\"{d}/out\" template=\"t\")
"
        );
        let mut dm = Daemon::start(bin, dir.path(), &conf, &[]);
        let port = flow::port_file(&dm, "port");
        let (a, b) = (20_000, 10_000);
        flow::feed_tcp(port, "hup", 0..a, 1000, Duration::ZERO);
        let out = dir.path().join("out");
        let before = flow::wait_lines(&out, a, 30, 120);
        std::fs::rename(&out, dir.path().join("out.1")).unwrap();
        dm.hup();
        // the HUP is handled when a rules thread next takes a batch
        std::thread::sleep(Duration::from_millis(500));
        flow::feed_tcp(port, "hup", a..a + b, 1000, Duration::ZERO);
        let after = flow::wait_lines(&out, b, 30, 120);
        assert!(dm.stop(), "{bin} did not stop: {}", dm.stderr());
        let old = common::read_lossy(&dir.path().join("out.1"));
        let want = |r: std::ops::Range<usize>| {
            r.map(|i| {
                flow::numbered_out("hup", i)
                    .split_once(": ")
                    .unwrap()
                    .1
                    .to_string()
            })
        };
        let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
        // what the first file got after the wait, plus the new file, hold each message once
        let mut all = lines(&old);
        all.extend(lines(&common::read_lossy(&out)));
        exact(&format!("{bin}: both files"), &all, want(0..a + b));
        assert!(
            String::from_utf8_lossy(&before).lines().count() >= a,
            "{bin}: first part"
        );
        assert!(
            String::from_utf8_lossy(&after).lines().count() >= b,
            "{bin}: the new file after HUP"
        );
    }
}

/// A failover chain (`&` with `$ActionExecOnlyWhenPreviousIsSuspended on`) with four rules
/// threads: the primary omfile cannot open its file and is suspended for
/// `$ActionResumeInterval`, so the secondary gets the messages meanwhile, whichever thread
/// runs them; once the directory exists and the interval passed, the primary writes again.
/// Both daemons' files must be identical.
#[test]
fn failover_chain_with_four_workers_like_rsyslogd() {
    failover::like_rsyslogd(RSYSLOGD, OX, "$MainMsgQueueWorkerThreads 4\n");
}
