//! The rules engine against the real rsyslogd 8.2302: every `compat-tests/rules/NNN-*.conf`
//! (a RainerScript fragment, see `compat-tests/rules/README.md`) runs under
//! `/usr/sbin/rsyslogd` and under `oxsyslogd` with the same messages over imtcp; every file the
//! two daemons write must exist in both output directories and be identical byte for byte.
//!
//! Every config must be accepted by `rsyslogd -N1` and make rsyslogd write at least one
//! non-empty file, so no case is vacuous. All differing configs are reported at once, with both
//! outputs and oxsyslogd's stderr. `OX_RULES=007,031` runs only the configs whose names start
//! with one of the given prefixes (or contain them); a failing run keeps its directory when
//! `OX_RULES_KEEP=1`; `OX_RULES_SHOW=1` prints every file rsyslogd wrote;
//! `OX_RULES_SECOND=/usr/sbin/rsyslogd` compares rsyslogd with itself (every config must be
//! deterministic).

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::Daemon;

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
/// Configs run at the same time (each runs both daemons side by side).
const WORKERS: usize = 4;
/// The last message of every run; the harness's own rule at the top of the default ruleset
/// writes it to `end` (outside `out/`) and stops, so no config sees it.
const SENTINEL: &str = "<13>Nov 23 23:59:59 oxrhost oxr: oxr-end-of-input";
/// Environment of both daemons, for `getenv()`.
const ENV: &[(&str, &str)] = &[
    ("OXR_WORD", "alpha"),
    ("OXR_NUM", "42"),
    ("OXR_EMPTY", ""),
    ("OXR_SPACES", " a b "),
];

/// The daemon compared with rsyslogd: oxsyslogd, or `OX_RULES_SECOND` (e.g. rsyslogd itself, to
/// prove that every config's output is deterministic).
fn second_daemon() -> String {
    std::env::var("OX_RULES_SECOND")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| OX.to_string())
}

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat-tests/rules")
}

/// One corpus entry: its file, the messages it gets, and the ruleset bound to the input.
struct Case {
    name: String,
    fragment: String,
    messages: Vec<String>,
    input_ruleset: Option<String>,
}

fn load_cases(filter: Option<&str>) -> Vec<Case> {
    let dir = rules_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    if let Some(f) = filter {
        let wanted: Vec<&str> = f
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        names.retain(|n| wanted.iter().any(|w| n.starts_with(w) || n.contains(w)));
    }
    names
        .into_iter()
        .map(|name| {
            let fragment = std::fs::read_to_string(dir.join(&name)).unwrap();
            let mut messages_file = "messages.txt".to_string();
            let mut input_ruleset = None;
            for line in fragment.lines() {
                if let Some(v) = line.strip_prefix("# messages:") {
                    messages_file = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("# input-ruleset:") {
                    input_ruleset = Some(v.trim().to_string());
                }
            }
            let text = std::fs::read_to_string(dir.join(&messages_file))
                .unwrap_or_else(|e| panic!("{name}: messages file {messages_file}: {e}"));
            let messages = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect();
            Case {
                name,
                fragment,
                messages,
                input_ruleset,
            }
        })
        .collect()
}

/// The full config: the harness's input and sentinel rule, then the fragment with its
/// placeholders replaced.
fn full_config(case: &Case, dir: &Path) -> String {
    let d = dir.display();
    let bind = match &case.input_ruleset {
        Some(r) => format!(" ruleset=\"{r}\""),
        None => String::new(),
    };
    let mut c = format!(
        "module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\"{bind})\n\
         template(name=\"oxr_end\" type=\"string\" string=\"end\\n\")\n\
         if $msg contains \"oxr-end-of-input\" then {{\n\
         \x20 action(type=\"omfile\" file=\"{d}/end\" template=\"oxr_end\")\n\
         \x20 stop\n\
         }}\n"
    );
    c.push_str(
        &case
            .fragment
            .replace("@OUT@", &format!("{d}/out"))
            .replace("@RULES@", &rules_dir().display().to_string()),
    );
    c.push('\n');
    c
}

/// What one daemon did with one config.
struct Outcome {
    /// Relative path -> content of every file under `out/`.
    files: BTreeMap<String, Vec<u8>>,
    stderr: String,
    /// Set when the daemon did not start or the messages could not be sent.
    failed: Option<String>,
}

fn collect(dir: &Path, base: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, base, into);
        } else {
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            into.insert(rel, std::fs::read(&p).unwrap_or_default());
        }
    }
}

fn out_size(dir: &Path) -> u64 {
    let mut m = BTreeMap::new();
    collect(dir, dir, &mut m);
    m.values().map(|v| v.len() as u64 + 1).sum()
}

fn run_one(bin: &str, case: &Case, dir: &Path) -> Outcome {
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let conf = full_config(case, dir);
    let mut daemon = Daemon::start(bin, dir, &conf, &[]);
    let fail = |d: &mut Daemon, why: String| {
        d.stop();
        Outcome {
            files: BTreeMap::new(),
            stderr: d.stderr(),
            failed: Some(why),
        }
    };
    let t = Instant::now();
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        if let Ok(Some(st)) = daemon.child.try_wait() {
            return fail(&mut daemon, format!("exited at start-up ({st})"));
        }
        if t.elapsed() > Duration::from_secs(10) {
            return fail(&mut daemon, "no listen port after 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // The port file can appear a moment before the socket listens: retry a refused connect.
    let t = Instant::now();
    let conn = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Err(e) if t.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            r => break r,
        }
    };
    let sent = conn.and_then(|mut s| {
        let mut buf = Vec::new();
        for m in &case.messages {
            buf.extend_from_slice(m.as_bytes());
            buf.push(b'\n');
        }
        buf.extend_from_slice(SENTINEL.as_bytes());
        buf.push(b'\n');
        s.write_all(&buf)
    });
    if let Err(e) = sent {
        return fail(&mut daemon, format!("sending failed: {e}"));
    }
    // Done when the sentinel arrived (default ruleset) or, for inputs bound elsewhere, when the
    // outputs have not changed for a second.
    let t = Instant::now();
    let (mut last, mut since) = (u64::MAX, Instant::now());
    loop {
        if dir.join("end").exists() {
            std::thread::sleep(Duration::from_millis(100));
            break;
        }
        let size = out_size(&dir.join("out"));
        if size != last {
            (last, since) = (size, Instant::now());
        } else if t.elapsed() > Duration::from_millis(1500)
            && since.elapsed() > Duration::from_secs(1)
        {
            break;
        }
        if let Ok(Some(st)) = daemon.child.try_wait() {
            return fail(&mut daemon, format!("exited while processing ({st})"));
        }
        if t.elapsed() > Duration::from_secs(15) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if !daemon.stop() {
        let mut o = fail(&mut daemon, "did not stop within 10 s of SIGTERM".into());
        collect(&dir.join("out"), &dir.join("out"), &mut o.files);
        return o;
    }
    let mut files = BTreeMap::new();
    collect(&dir.join("out"), &dir.join("out"), &mut files);
    Outcome {
        files,
        stderr: daemon.stderr(),
        failed: None,
    }
}

/// `rsyslogd -N1` on the full config: the corpus holds only configs rsyslogd accepts.
fn rsyslogd_accepts(case: &Case, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.join("check.conf");
    std::fs::write(&f, full_config(case, dir)).unwrap();
    let out = Command::new(RSYSLOGD)
        .args(["-N1", "-f"])
        .arg(&f)
        .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Only the banner and the good-bye line: any other line is an error or a warning.
    let clean = err.lines().all(|l| {
        l.starts_with("rsyslogd: version ") || l == "rsyslogd: End of config validation run. Bye."
    });
    if out.status.success() && clean {
        Ok(())
    } else {
        Err(err)
    }
}

fn show(b: &[u8]) -> String {
    const MAX: usize = 4000;
    let s = String::from_utf8_lossy(b);
    if s.len() > MAX {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes in all)\n", &s[..end], b.len())
    } else {
        s.into_owned()
    }
}

/// The lines that differ between two files of the same name: with equal line counts, each
/// differing pair (`-` rsyslogd, `+` oxsyslogd) with its line number; otherwise both files.
fn line_diff(a: &[u8], b: &[u8]) -> String {
    const MAX_PAIRS: usize = 12;
    let split =
        |v: &[u8]| -> Vec<Vec<u8>> { v.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect() };
    let (la, lb) = (split(a), split(b));
    if la.len() != lb.len() {
        return format!(
            "  --- rsyslogd ({} lines)\n{}  --- oxsyslogd ({} lines)\n{}",
            la.len() - 1,
            show(a),
            lb.len() - 1,
            show(b)
        );
    }
    let pairs: Vec<(usize, &Vec<u8>, &Vec<u8>)> = la
        .iter()
        .zip(&lb)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x, y))
        .collect();
    let mut s = String::new();
    for (i, x, y) in pairs.iter().take(MAX_PAIRS) {
        s.push_str(&format!(
            "  line {i}:\n  - {}\n  + {}\n",
            String::from_utf8_lossy(x).escape_debug(),
            String::from_utf8_lossy(y).escape_debug()
        ));
    }
    if pairs.len() > MAX_PAIRS {
        s.push_str(&format!("  ... {} differing lines in all\n", pairs.len()));
    }
    s
}

/// Compares one case; `Err` holds the report (or a corpus problem, marked as such).
fn check(case: &Case, keep: bool, show_all: bool) -> Result<(), String> {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("oxr-{}-", case.name.trim_end_matches(".conf")))
        .tempdir()
        .unwrap();
    let (a, b) = (tmp.path().join("rsyslogd"), tmp.path().join("oxsyslogd"));
    if let Err(e) = rsyslogd_accepts(case, &tmp.path().join("n1")) {
        return Err(format!(
            "CORPUS ERROR: rsyslogd -N1 rejects {}:\n{e}",
            case.name
        ));
    }
    let (theirs, ours) = std::thread::scope(|s| {
        let h = s.spawn(|| run_one(RSYSLOGD, case, &a));
        let ours = run_one(&second_daemon(), case, &b);
        (h.join().unwrap(), ours)
    });
    if let Some(why) = &theirs.failed {
        return Err(format!(
            "CORPUS ERROR: rsyslogd {why} on {}:\n{}",
            case.name, theirs.stderr
        ));
    }
    if !theirs.files.values().any(|v| !v.is_empty()) {
        return Err(format!(
            "CORPUS ERROR: rsyslogd wrote no non-empty file for {} (a vacuous case)\n{}",
            case.name, theirs.stderr
        ));
    }
    if show_all {
        let mut s = format!("=== {} (rsyslogd)\n", case.name);
        for (n, v) in &theirs.files {
            s.push_str(&format!("--- out/{n}\n{}", show(v)));
        }
        eprint!("{s}");
    }
    let mut report = String::new();
    if let Some(why) = &ours.failed {
        report.push_str(&format!("oxsyslogd {why}\n"));
        if ours.files.is_empty() {
            // Nothing to compare line by line: name what rsyslogd wrote.
            let list: Vec<String> = theirs
                .files
                .iter()
                .map(|(n, v)| format!("{n} ({} lines)", v.split(|&c| c == b'\n').count() - 1))
                .collect();
            report.push_str(&format!("  rsyslogd wrote: {}\n", list.join(", ")));
        }
    }
    let names: std::collections::BTreeSet<&String> =
        theirs.files.keys().chain(ours.files.keys()).collect();
    let startup_failure = ours.failed.is_some() && ours.files.is_empty();
    for n in names.into_iter().filter(|_| !startup_failure) {
        match (theirs.files.get(n), ours.files.get(n)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => report.push_str(&format!("  out/{n}:\n{}", line_diff(x, y))),
            (x, y) => {
                let side = |v: Option<&Vec<u8>>| match v {
                    Some(v) => show(v),
                    None => "(no such file)\n".to_string(),
                };
                report.push_str(&format!(
                    "  out/{n}:\n  --- rsyslogd\n{}  --- oxsyslogd\n{}",
                    side(x),
                    side(y)
                ));
            }
        }
    }
    if report.is_empty() {
        return Ok(());
    }
    let err: String = ours.stderr.lines().take(12).collect::<Vec<_>>().join("\n");
    if keep {
        let kept = tmp.keep();
        report.push_str(&format!("  (kept in {})\n", kept.display()));
    }
    Err(format!(
        "{}\n{report}  --- oxsyslogd stderr\n{err}\n",
        case.name
    ))
}

#[test]
fn rules_corpus_runs_like_rsyslogd() {
    if !Path::new(RSYSLOGD).exists() {
        eprintln!("skipped: {RSYSLOGD} is not installed");
        return;
    }
    let filter = std::env::var("OX_RULES").ok().filter(|s| !s.is_empty());
    let keep = std::env::var("OX_RULES_KEEP").is_ok_and(|v| v == "1");
    let show_all = std::env::var("OX_RULES_SHOW").is_ok_and(|v| v == "1");
    let cases = load_cases(filter.as_deref());
    assert!(!cases.is_empty(), "no config matches OX_RULES={filter:?}");
    if filter.is_none() {
        assert!(
            cases.len() >= 90,
            "the corpus must hold at least 90 configs, has {}",
            cases.len()
        );
    }
    for (k, v) in ENV {
        std::env::set_var(k, v);
    }
    std::env::remove_var("OXR_UNSET");
    let t = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<(), String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS.min(cases.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let r = check(case, keep, show_all);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let failed: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    let passed: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| cases[*i].name.as_str())
        .collect();
    eprintln!(
        "{} of {} rule configs identical in {:.1} s: {}",
        passed.len(),
        cases.len(),
        t.elapsed().as_secs_f64(),
        passed.join(" ")
    );
    assert!(
        failed.is_empty(),
        "{} of {} rule configs differ from rsyslogd:\n\n{}",
        failed.len(),
        cases.len(),
        failed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
