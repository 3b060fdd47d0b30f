//! `format_time`, `parse_time`, `is_time` and `wrap` (src/filter/timefn.rs) against the real
//! rsyslogd 8.2302: each message carries a function, a case id and the arguments
//! (`KIND~~ID~~A~~B~~C~~END`); rsyslogd's config extracts the arguments with `field()`, calls
//! the function and writes `msg<TAB>a<TAB>b<TAB>c<TAB>result<TAB>script_error()`. The test
//! checks that rsyslogd saw the intended arguments and that the Rust function gives the same
//! result (and the same script error where rsyslog sets one). rsyslogd runs under `TZ=UTC`,
//! `TZ=Europe/Berlin` and `TZ=America/New_York`: the functions must not depend on it.
//!
//! Not compared: `format_time` with an unknown format (8.2302 returns an uninitialised stack
//! buffer there), and the newer-rsyslog extensions (8.2302 crashes on unknown functions).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oxsyslog::filter::timefn;

/// (kind, args). Kinds: FS format_time(string, fmt); FN format_time(cnum(a), fmt);
/// PT parse_time(a); I1 is_time(a); I2 is_time(a, fmt); IN is_time(cnum(a), fmt);
/// W2 wrap(a, b); W3 wrap(a, b, c).
const CASES: &[(&str, &[&str])] = &[
    ("FS", &["0", "date-rfc3339"]),
    ("FS", &["0", "date-rfc3164"]),
    ("FS", &["1507165811", "date-rfc3164"]),
    ("FS", &["1700000000", "date-rfc3339"]),
    ("FS", &["951782400", "date-rfc3339"]),
    ("FS", &["951782400", "date-rfc3164"]),
    ("FS", &["-1", "date-rfc3164"]),
    ("FS", &["-1", "date-rfc3339"]),
    ("FS", &["-86401", "date-rfc3339"]),
    ("FS", &["253402300800", "date-rfc3339"]),
    ("FS", &["-62167219201", "date-rfc3339"]),
    ("FS", &["-99999999999999", "date-rfc3339"]),
    ("FS", &["67767976233532799", "date-rfc3339"]),
    ("FS", &["67767976233532800", "date-rfc3339"]),
    ("FS", &["9223372036854775807", "date-rfc3339"]),
    ("FS", &["99999999999999999999", "date-rfc3339"]),
    ("FS", &["", "date-rfc3339"]),
    ("FS", &["-", "date-rfc3164"]),
    ("FS", &["0012", "date-rfc3339"]),
    ("FS", &["abc", "date-rfc3339"]),
    ("FS", &["12x", "date-rfc3164"]),
    ("FS", &[" 12", "date-rfc3164"]),
    ("FS", &["+12", "date-rfc3164"]),
    ("FS", &["1.5", "date-rfc3339"]),
    (
        "FS",
        &[
            "this is a long non-numeric timestamp argument of more than sixty-three bytes in all",
            "date-rfc3339",
        ],
    ),
    ("FS", &["2023-11-14T22:13:20Z", "date-rfc3339"]),
    ("FN", &["1700000000", "date-rfc3164"]),
    ("FN", &["12x", "date-rfc3339"]),
    ("FN", &["abc", "date-rfc3339"]),
    ("FN", &["-1", "date-rfc3339"]),
    ("FN", &["1099511627776", "date-rfc3164"]),
    ("PT", &["2023-11-14T22:13:20Z"]),
    ("PT", &["2023-11-14T23:13:20+01:00"]),
    ("PT", &["2023-11-14T21:13:20.123456-01:00"]),
    ("PT", &["2023-11-14T22:13:20.Z"]),
    ("PT", &["2023-11-14T22:13:20Z trailing words"]),
    ("PT", &["2023-11-14T22:13:20Zx"]),
    ("PT", &["2023-11-14T22:13:20"]),
    ("PT", &["2023-11-14T22:13:20+01"]),
    ("PT", &["2023-11-14T22:13:20+24:00"]),
    ("PT", &["2023-11-14T22:13:60Z"]),
    ("PT", &["2023-11-14T22:13:61Z"]),
    ("PT", &["2023-2-31T0:0:0Z"]),
    ("PT", &["2000-02-29T12:00:00Z"]),
    ("PT", &["2100-01-01T00:00:00Z"]),
    ("PT", &["2099-12-31T23:59:59Z"]),
    ("PT", &["1970-01-01T00:00:00Z"]),
    ("PT", &["1969-12-31T23:59:59Z"]),
    ("PT", &["-01-01T00:00:00Z"]),
    ("PT", &["2023-13-14T22:13:20Z"]),
    ("PT", &["2023-11-14 22:13:20Z"]),
    ("PT", &["2023-11-32T22:13:20Z"]),
    ("PT", &["Jan  1 00:00:00"]),
    ("PT", &["Feb 29 12:34:56"]),
    ("PT", &["Mar 15 01:02:03"]),
    ("PT", &["Apr 30 23:59:59"]),
    ("PT", &["May  5 05:05:05"]),
    ("PT", &["Jun 10 10:10:10"]),
    ("PT", &["Jul 20 20:20:20"]),
    ("PT", &["Aug 31 08:00:00"]),
    ("PT", &["Sep  9 09:09:09"]),
    ("PT", &["Oct 10 10:10:10"]),
    ("PT", &["Nov 23 10:00:00"]),
    ("PT", &["Dec 24 18:00:00"]),
    ("PT", &["nov 23 10:00:00"]),
    ("PT", &["NOV 3 10:00:00"]),
    ("PT", &["Nov 23 10:00:00.123"]),
    ("PT", &["Nov 23 10:00:00: rest"]),
    ("PT", &["Nov 23 10:00:00 host tag: msg"]),
    ("PT", &["Nov 23 10:00:00x"]),
    ("PT", &["Nov 23 10:00"]),
    ("PT", &["Nov 23 2001 10:00:00"]),
    ("PT", &["2001 Nov 23 10:00:00"]),
    ("PT", &["2001 Nov 23 10:00:00 x"]),
    ("PT", &["1969 Nov 23 10:00:00 x"]),
    ("PT", &["Nov 32 10:00:00"]),
    ("PT", &["Nov 23 24:00:00"]),
    ("PT", &["Nov 23 23:60:00"]),
    ("PT", &["Foo 23 10:00:00"]),
    ("PT", &["Ja"]),
    ("PT", &[""]),
    ("PT", &["1700000000"]),
    ("PT", &["garbage"]),
    ("I1", &["Nov 23 10:00:00"]),
    ("I1", &["2023-11-14T22:13:20Z"]),
    ("I1", &["1700000000"]),
    ("I1", &["-5"]),
    ("I1", &[""]),
    ("I1", &["-"]),
    ("I1", &["1.5"]),
    ("I1", &["abc"]),
    ("I1", &["2001 Nov 23 10:00:00"]),
    ("I1", &["2023-11-14T22:13:20"]),
    ("I2", &["2023-11-14T22:13:20Z", "date-rfc3164"]),
    ("I2", &["2023-11-14T22:13:20Z", "date-rfc3339"]),
    ("I2", &["2023-11-14T22:13:20Z", "date-unix"]),
    ("I2", &["Nov 23 10:00:00", "date-rfc3164"]),
    ("I2", &["Nov 23 10:00:00", "date-rfc3339"]),
    ("I2", &["Nov 23 10:00:00", "date-unix"]),
    ("I2", &["1700000000", "date-unix"]),
    ("I2", &["1700000000", "date-rfc3164"]),
    ("I2", &["1700000000", "bogus"]),
    ("I2", &["1700000000", ""]),
    ("I2", &["", "date-unix"]),
    ("I2", &["12x", "date-unix"]),
    ("I2", &["Nov 23 10:00:00", "DATE-RFC3164"]),
    ("IN", &["1700000000", "date-unix"]),
    ("IN", &["abc", "date-unix"]),
    ("IN", &["-7", "date-rfc3339"]),
    ("W2", &["foo bar", "##"]),
    ("W2", &["", "'"]),
    ("W2", &["abc", ""]),
    ("W2", &["x\"y", "\""]),
    ("W2", &["grüße", "ü"]),
    ("W3", &["foo'bar", "'", "_"]),
    ("W3", &["it's 'quoted'", "'", "\\'"]),
    ("W3", &["abc", "", "X"]),
    ("W3", &["", "", "X"]),
    ("W3", &["aXbXXc", "X", ""]),
    ("W3", &["aaa", "aa", "b"]),
    ("W3", &["ababa", "aba", "X"]),
    ("W3", &["aab", "ab", "<>"]),
    ("W3", &["no wrapper here", "|", "/"]),
    ("W3", &["grüße", "ü", "ue"]),
];

fn config(dir: &Path) -> String {
    let d = dir.display();
    let mut c = format!(
        "module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         template(name=\"t\" type=\"string\" \
         string=\"%msg%\\t%$.a%\\t%$.b%\\t%$.c%\\t%$.r%\\t%$.e%\\n\")\n"
    );
    let calls = [
        ("FS", "set $.r = format_time($.a, $.b);"),
        ("FN", "set $.r = format_time(cnum($.a), $.b);"),
        ("PT", "set $.r = parse_time($.a); set $.e = script_error();"),
        ("I1", "set $.r = is_time($.a); set $.e = script_error();"),
        (
            "I2",
            "set $.r = is_time($.a, $.b); set $.e = script_error();",
        ),
        (
            "IN",
            "set $.r = is_time(cnum($.a), $.b); set $.e = script_error();",
        ),
        ("W2", "set $.r = wrap($.a, $.b);"),
        ("W3", "set $.r = wrap($.a, $.b, $.c);"),
    ];
    for (kind, call) in calls {
        c.push_str(&format!(
            "if $msg startswith \"{kind}~~\" then {{\n\
             set $.a = field($msg, \"~~\", 3); set $.b = field($msg, \"~~\", 4); \
             set $.c = field($msg, \"~~\", 5);\n{call}\n\
             action(type=\"omfile\" file=\"{d}/out.log\" template=\"t\")\n}}\n"
        ));
    }
    c
}

fn message(id: usize) -> String {
    let (kind, args) = CASES[id];
    let mut m = format!("<13>1 2026-11-23T10:00:00Z h app - - - {kind}~~{id}");
    for i in 0..3 {
        m.push_str("~~");
        m.push_str(args.get(i).copied().unwrap_or(""));
    }
    m.push_str("~~END\n");
    m
}

/// Runs rsyslogd under `tz` and returns its output lines.
fn run_rsyslogd(dir: &Path, tz: &str) -> Vec<String> {
    std::fs::write(dir.join("c.conf"), config(dir)).unwrap();
    let child = Command::new("/usr/sbin/rsyslogd")
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.join("c.conf"))
        .env("TZ", tz)
        .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .expect("run /usr/sbin/rsyslogd (Debian's rsyslog 8.2302: scripts/test.sh installs it)");
    let mut guard = common::Proc(child);
    let t = Instant::now();
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "rsyslogd did not start: {}",
            std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut s = common::connect(port);
    for id in 0..CASES.len() {
        s.write_all(message(id).as_bytes()).unwrap();
    }
    drop(s);
    let t = Instant::now();
    let read = || {
        String::from_utf8(std::fs::read(dir.join("out.log")).unwrap_or_default())
            .expect("rsyslogd's output is UTF-8")
    };
    while read().lines().count() < CASES.len() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "rsyslogd wrote only {} of {} lines:\n{}",
            read().lines().count(),
            CASES.len(),
            read()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(guard.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = guard.0.wait();
    let err = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
    assert!(
        !err.contains("error"),
        "rsyslogd reported config errors: {err}"
    );
    read().lines().map(str::to_string).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Our (result, script_error) for a case; script_error is "" where rsyslog's config does not
/// record it.
fn ours(kind: &str, a: &[u8], b: &[u8], c: &[u8], now: i64) -> (Vec<u8>, &'static str) {
    let flag = |ok: bool| (if ok { "1" } else { "0" }).as_bytes().to_vec();
    let err = |ok: bool| if ok { "0" } else { "1" };
    match kind {
        "FS" => (timefn::format_time_str(a, b), ""),
        "FN" => (timefn::format_time(timefn::str2num(a).0, b), ""),
        "PT" => {
            let r = timefn::parse_time_at(a, now);
            (r.unwrap_or(0).to_string().into_bytes(), err(r.is_some()))
        }
        "I1" => {
            let r = timefn::is_time(a, None);
            (flag(r), err(r))
        }
        "I2" => {
            let r = timefn::is_time(a, Some(b));
            (flag(r), err(r))
        }
        "IN" => {
            let n = timefn::str2num(a).0.to_string();
            let r = timefn::is_time_typed(n.as_bytes(), Some(b), true);
            (flag(r), err(r))
        }
        "W2" => (timefn::wrap(a, b, None), ""),
        "W3" => (timefn::wrap(a, b, Some(c)), ""),
        _ => unreachable!("{kind}"),
    }
}

#[test]
fn time_functions_and_wrap_match_rsyslogd() {
    let mut failures = Vec::new();
    for tz in ["UTC", "Europe/Berlin", "America/New_York"] {
        let dir = tempfile::tempdir().unwrap();
        let lines = run_rsyslogd(dir.path(), tz);
        // parse_time() guesses an RFC 3164 year from the current UTC month; rsyslogd ran a
        // moment ago (only a month boundary in between could make this differ).
        let now = now();
        eprintln!("TZ={tz}: {} results from rsyslogd", lines.len());
        if std::env::var_os("OX_TIMEFN_DUMP").is_some() {
            eprintln!("{}", lines.join("\n"));
        }
        let mut seen = vec![false; CASES.len()];
        for line in &lines {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 6, "unexpected line from rsyslogd: {line:?}");
            let msg: Vec<&str> = f[0].split("~~").collect();
            let id: usize = msg[1].parse().unwrap();
            seen[id] = true;
            let (kind, args) = CASES[id];
            let arg = |i: usize| args.get(i).copied().unwrap_or("");
            // rsyslogd got the arguments we meant.
            assert_eq!(
                (f[1], f[2], f[3]),
                (arg(0), arg(1), arg(2)),
                "case {id}: rsyslogd saw other arguments"
            );
            let (r, e) = ours(
                kind,
                arg(0).as_bytes(),
                arg(1).as_bytes(),
                arg(2).as_bytes(),
                now,
            );
            if r != f[4].as_bytes() || e != f[5] {
                failures.push(format!(
                    "TZ={tz} case {id} {kind}{args:?}: rsyslogd {:?} (script_error {:?}), ours {:?} (script_error {e:?})",
                    f[4],
                    f[5],
                    String::from_utf8_lossy(&r)
                ));
            }
        }
        assert!(
            seen.iter().all(|&s| s),
            "TZ={tz}: no output for cases {:?}",
            seen.iter()
                .enumerate()
                .filter(|(_, &s)| !s)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        );
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
