//! Differential test of impstats against the real rsyslogd 8.2302: the same config (imtcp,
//! one working omfile action and one writing to /dev/full, impstats to `log.file` every
//! second, legacy and json) and the same traffic run under both daemons; the statistics
//! objects (names, origins, counter names, in order) must be identical, and so must the
//! deterministic counter values (submitted, processed, failed, suspended, enqueued, full,
//! discarded, the main queue's size once idle). Resource usage and `maxqsize` depend on
//! timing and are compared by name only.
//!
//! Skipped (with a message) when `/usr/sbin/rsyslogd` is missing.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const N: usize = 25;
const ACTIONS: &str = "*.* action(type=\"omfile\" file=\"@D@/ok.log\")\n\
                       *.* action(type=\"omfile\" file=\"/dev/full\")\n";

use common::Proc as Daemon;

/// One statistics object: name, origin, counters (name, value as printed).
type Obj = (String, String, Vec<(String, String)>);

fn parse_legacy(line: &str) -> Option<Obj> {
    let (name, rest) = line.split_once(": origin=")?;
    let mut words = rest.split(' ').filter(|w| !w.is_empty());
    let origin = words.next()?.to_string();
    let ctrs = words
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Some((name.to_string(), origin, ctrs))
}

fn parse_json(line: &str) -> Option<Obj> {
    let re = regex::Regex::new(r#""([^"]+)": ("[^"]*"|[0-9]+|\{[^}]*\})"#).unwrap();
    let mut kv: Vec<(String, String)> = re
        .captures_iter(line)
        .map(|c| (c[1].to_string(), c[2].trim_matches('"').to_string()))
        .collect();
    if kv.len() < 2 || kv[0].0 != "name" || kv[1].0 != "origin" {
        return None;
    }
    let ctrs = kv.split_off(2);
    Some((kv[0].1.clone(), kv[1].1.clone(), ctrs))
}

/// The last complete block of statistics lines in `log.file` (lines are `ctime: line`).
fn last_block(text: &str, json: bool) -> Vec<Obj> {
    let objs: Vec<Obj> = text
        .lines()
        .filter_map(|l| l.get(26..))
        .filter_map(|l| if json { parse_json(l) } else { parse_legacy(l) })
        .collect();
    let Some(end) = objs.iter().rposition(|o| o.0 == "main Q") else {
        return Vec::new();
    };
    let start = objs[..end]
        .iter()
        .rposition(|o| o.0 == "global" && o.1 == "dynstats")
        .unwrap_or(0);
    objs[start..=end].to_vec()
}

fn counter<'a>(objs: &'a [Obj], name: &str, ctr: &str) -> Option<&'a str> {
    objs.iter()
        .find(|o| o.0 == name)
        .and_then(|o| o.2.iter().find(|(k, _)| k == ctr))
        .map(|(_, v)| v.as_str())
}

fn wait_for(path: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|s| !s.trim().is_empty()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs one daemon on the config and traffic; returns the last statistics block.
fn run(bin: &str, json: bool, actions: &str) -> (Vec<Obj>, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"impstats\" interval=\"1\" format=\"{}\" log.syslog=\"off\" log.file=\"{d}/stats.log\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\" name=\"tcpin\")\n\
         {}",
        if json { "json" } else { "legacy" },
        actions.replace("@D@", &d)
    );
    std::fs::write(dir.path().join("a.conf"), conf).unwrap();
    let child = Command::new(bin)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.path().join("a.conf"))
        .env("RSYSLOG_DFLT_LOG_INTERNAL", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let mut daemon = Daemon(child);
    assert!(
        wait_for(&dir.path().join("port"), Duration::from_secs(15)),
        "{bin} did not start listening"
    );
    let port: u16 = std::fs::read_to_string(dir.path().join("port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut s = common::connect(port);
    for i in 0..N {
        writeln!(s, "<13>Nov 23 10:00:00 host tag: message {i}").unwrap();
    }
    drop(s);
    // Wait until a block shows every message processed and the next block agrees (the
    // failing action's count settles after its write).
    let stats = dir.path().join("stats.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut settled = 0;
    let mut last = Vec::new();
    while Instant::now() < deadline && settled < 2 {
        std::thread::sleep(Duration::from_millis(1100));
        let text = std::fs::read_to_string(&stats).unwrap_or_default();
        let block = last_block(&text, json);
        let done = counter(&block, "action-0-builtin:omfile", "processed") == Some(&N.to_string())
            && counter(&block, "main Q", "size") == Some("0");
        if done && block == last {
            settled += 1;
        } else if done {
            settled = 1;
        }
        last = block;
    }
    daemon.stop();
    let text = std::fs::read_to_string(&stats).unwrap_or_default();
    (last_block(&text, json), text)
}

/// Counter values that depend on timing or the process, compared by name only.
/// rsyslogd's `failed` for an action writing to /dev/full depends on how its batches were
/// cut (seen: 23 of 25 under load), so it is checked separately below, not for equality.
fn timing_dependent(name: &str, ctr: &str) -> bool {
    name == "resource-usage"
        || (name == "main Q" && ctr == "maxqsize")
        || (name == "action-1-builtin:omfile" && ctr == "failed")
}

fn compare(json: bool) {
    if !Path::new(RSYSLOGD).exists() {
        eprintln!("skipped: {RSYSLOGD} is not installed");
        return;
    }
    let reference = std::thread::spawn(move || run(RSYSLOGD, json, ACTIONS));
    let (ours, our_text) = run(OX, json, ACTIONS);
    let (theirs, their_text) = reference.join().expect("rsyslogd run");
    assert!(
        !theirs.is_empty(),
        "no statistics from rsyslogd:\n{their_text}"
    );
    let shape = |objs: &[Obj]| -> Vec<String> {
        objs.iter()
            .map(|(n, o, c)| {
                let keys: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
                format!("{n} origin={o} [{}]", keys.join(" "))
            })
            .collect()
    };
    assert_eq!(
        shape(&ours),
        shape(&theirs),
        "statistics objects differ\noxsyslogd:\n{our_text}\nrsyslogd:\n{their_text}"
    );
    for ((n, _, c1), (_, _, c2)) in ours.iter().zip(theirs.iter()) {
        for ((k, v1), (_, v2)) in c1.iter().zip(c2.iter()) {
            if !timing_dependent(n, k) {
                assert_eq!(
                    v1, v2,
                    "{n} {k}: oxsyslogd {v1}, rsyslogd {v2}\noxsyslogd:\n{our_text}\nrsyslogd:\n{their_text}"
                );
            }
        }
    }
    // The values the comparison rests on.
    let n = N.to_string();
    assert_eq!(counter(&ours, "tcpin(0)", "submitted"), Some(n.as_str()));
    assert_eq!(
        counter(&ours, "action-0-builtin:omfile", "failed"),
        Some("0")
    );
    assert_eq!(
        counter(&ours, "action-1-builtin:omfile", "failed"),
        Some(n.as_str())
    );
    assert_eq!(counter(&ours, "main Q", "enqueued"), Some(n.as_str()));
    let theirs_failed: u64 = counter(&theirs, "action-1-builtin:omfile", "failed")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        theirs_failed > 0 && theirs_failed <= N as u64,
        "rsyslogd counts the failing action too ({theirs_failed})"
    );
}

#[test]
fn legacy_lines_match_rsyslogd() {
    compare(false);
}

#[test]
fn json_lines_match_rsyslogd() {
    compare(true);
}

/// omprog on a program that cannot be started: the action is suspended once (its retries add
/// to the duration only) and every message counts as failed. rsyslogd 8.2302 forks first and
/// never notices (failed=0, suspended=0), so this checks oxsyslogd alone.
#[test]
fn omprog_suspension_is_counted() {
    let actions = "module(load=\"omprog\")\n\
                   *.* action(type=\"omfile\" file=\"@D@/ok.log\")\n\
                   *.* action(type=\"omprog\" binary=\"/nonexistent/prog\")\n";
    let (ours, text) = run(OX, false, actions);
    let n = N.to_string();
    let get = |c| counter(&ours, "action-1-omprog", c);
    assert_eq!(get("processed"), Some(n.as_str()), "{text}");
    assert_eq!(get("failed"), Some(n.as_str()), "{text}");
    assert_eq!(get("suspended"), Some("1"), "{text}");
    assert_eq!(get("suspended.duration"), Some("30"), "{text}");
    assert_eq!(get("resumed"), Some("0"), "{text}");
}

/// The `main Q` lines of `log.syslog` statistics routed to a file by one daemon.
fn main_q_via_syslog(bin: &'static str) -> Vec<Obj> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"impstats\" interval=\"1\" format=\"legacy\")\n\
         template(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
         if $programname == 'rsyslogd-pstats' then action(type=\"omfile\" file=\"{d}/s.log\" template=\"t\")\n"
    );
    std::fs::write(dir.path().join("a.conf"), conf).unwrap();
    let child = Command::new(bin)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.path().join("a.conf"))
        .env("RSYSLOG_DFLT_LOG_INTERNAL", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let mut daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut found = Vec::new();
    while Instant::now() < deadline && found.len() < 3 {
        std::thread::sleep(Duration::from_millis(300));
        found = std::fs::read_to_string(dir.path().join("s.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(parse_legacy)
            .filter(|o| o.0 == "main Q")
            .collect();
    }
    daemon.stop();
    found
}

/// With `log.syslog` each line is queued before the next is made, so a block's `main Q`
/// counts the block's earlier lines (rsyslogd: enqueued 4, 9, 14 … for 5-line blocks).
#[test]
fn log_syslog_queue_counts_match_rsyslogd() {
    if !Path::new(RSYSLOGD).exists() {
        eprintln!("skipped: {RSYSLOGD} is not installed");
        return;
    }
    let reference = std::thread::spawn(|| main_q_via_syslog(RSYSLOGD));
    let ours = main_q_via_syslog(OX);
    let theirs = reference.join().expect("rsyslogd run");
    assert!(theirs.len() >= 3, "rsyslogd: {theirs:?}");
    assert!(ours.len() >= 3, "oxsyslogd: {ours:?}");
    let enq = |v: &[Obj]| -> Vec<String> {
        v[..3]
            .iter()
            .map(|o| o.2.iter().find(|(k, _)| k == "enqueued").unwrap().1.clone())
            .collect()
    };
    assert_eq!(enq(&ours), enq(&theirs));
}
