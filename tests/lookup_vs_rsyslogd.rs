//! Lookup tables against the real rsyslogd 8.2302: rsyslogd runs a config with tables of
//! every type (and broken ones), sets `$.NAME = lookup("NAME", $msg)` for each and writes
//! `%msg%|%$.a%|…`; for every key sent, `LookupTables::lookup` on the same config (loaded by
//! oxsyslog's config loader) must give exactly what rsyslogd wrote. The reload test changes
//! the files, sends SIGHUP (and triggers `reload_lookup_table` with a stub value) and compares
//! again.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use oxsyslog::filter::lookup::LookupTables;

mod common;
use common::Daemon;

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// (table name, file contents, extra lookup_table() parameters).
type Spec = (&'static str, &'static str, &'static str);

const TABLES: &[Spec] = &[
    (
        "str",
        r#"{"version":1,"nomatch":"NM","type":"string","table":[
            {"index":"b","value":"b1"},{"index":"a","value":"a1"},{"index":"b","value":"b2"},
            {"index":"b","value":"b3"},{"index":1.50,"value":"num"},{"index":true,"value":"bool"},
            {"index":"","value":"empty"},{"index":"x","value":12},{"index":"y","value":1.0e3},
            {"index":"z","value":[1,"a/b",{}]},{"index":"w","value":false},
            {"index":"o","value":{"k":"v","n":null}},{"index":" 5","value":"space five"}]}"#,
        "",
    ),
    (
        // no version (a warning), no type, no nomatch
        "str2",
        r#"{"table":[{"index":"a","value":"A"},{"index":"10","value":"ten"}]} trailing text"#,
        "",
    ),
    (
        // member names match case-insensitively (libfastjson, variables.casesensitive=off)
        "arr",
        r#"{"Version":1,"NOMATCH":"nm","Type":"array","table":[{"index":3,"value":"three"},
            {"Index":2,"VALUE":"two"},{"index":"4x","value":"four"},{"index":5.9,"value":"five"}]}"#,
        "",
    ),
    (
        // -1 is 4294967295 and 0 follows it: "contiguous" when written in this order
        "wrap",
        r#"{"version":1,"type":"array","table":[{"index":-1,"value":"max"},{"index":0,"value":"zero"}]}"#,
        "",
    ),
    (
        // ... and not in this one (rsyslog's comparator keeps 0 first): an error
        "wrap2",
        r#"{"version":1,"type":"array","table":[{"index":0,"value":"zero"},{"index":-1,"value":"max"}]}"#,
        "",
    ),
    (
        "sparse",
        r#"{"version":1,"type":"sparseArray","table":[{"index":10,"value":"ten"},
            {"index":5,"value":"five"},{"index":20,"value":"t1"},{"index":20,"value":"t2"},
            {"index":20,"value":"t3"},{"index":1e10,"value":"big"},{"index":-1,"value":"neg"}]}"#,
        "",
    ),
    (
        "sparse2",
        r#"{"version":1,"nomatch":"below","type":"sparseArray","table":[{"index":"7","value":"seven"},
            {"index":3,"value":"three"},{"index":true,"value":"one"}]}"#,
        "",
    ),
    (
        "empty",
        r#"{"version":1,"nomatch":"none","type":"array","table":[]}"#,
        "",
    ),
    // broken tables: rsyslogd logs an error, starts, and answers ""
    ("badver", r#"{"version":2,"nomatch":"x","table":[]}"#, ""),
    (
        "gap",
        r#"{"version":1,"nomatch":"x","type":"array","table":[{"index":1,"value":"a"},{"index":3,"value":"b"}]}"#,
        "",
    ),
    (
        "badtype",
        r#"{"version":1,"nomatch":"x","type":"hash","table":[]}"#,
        "",
    ),
    (
        "noindex",
        r#"{"version":1,"nomatch":"x","table":[{"value":"a"}]}"#,
        "",
    ),
    ("notjson", r#"{"version":1,"table":["#, ""),
];

const KEYS: &[&str] = &[
    "a",
    "b",
    "A",
    "1.50",
    "1.5",
    "true",
    "",
    "x",
    "y",
    "z",
    "w",
    "o",
    " 5",
    "zz",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "10",
    "15",
    "20",
    "25",
    "03",
    "-1",
    "-5",
    "abc",
    "3abc",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967298",
    "99999999999999999999",
    "é",
];

fn config(dir: &Path, tables: &[Spec], reload_rule: bool) -> String {
    let d = dir.display();
    let mut c = format!(
        "module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n"
    );
    let mut tpl = String::from("%msg%");
    for (name, _, extra) in tables {
        c.push_str(&format!(
            "lookup_table(name=\"{name}\" file=\"{d}/{name}.json\"{extra})\n"
        ));
        tpl.push_str(&format!("|%$.{name}%"));
    }
    c.push_str(&format!(
        "template(name=\"o\" type=\"string\" string=\"{tpl}\\n\")\n"
    ));
    for (name, _, _) in tables {
        c.push_str(&format!("set $.{name} = lookup(\"{name}\", $msg);\n"));
    }
    c.push_str(&format!(
        "action(type=\"omfile\" file=\"{d}/out\" template=\"o\")\n"
    ));
    if reload_rule {
        c.push_str("if $msg == \"RELOAD\" then { reload_lookup_table(\"str\", \"STUB\") }\n");
    }
    c
}

fn write_tables(dir: &Path, tables: &[Spec]) {
    for (name, json, _) in tables {
        std::fs::write(dir.join(format!("{name}.json")), json).unwrap();
    }
}

/// What `LookupTables` gives for each key, as rsyslogd's line would be.
fn expected(t: &LookupTables, names: &[&str], keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            let mut line = k.as_bytes().to_vec();
            for n in names {
                line.push(b'|');
                let i = t.index(n).unwrap_or_else(|| panic!("table {n} missing"));
                t.lookup(i, k.as_bytes(), &mut line);
            }
            String::from_utf8(line).unwrap()
        })
        .collect()
}

struct Rsyslogd {
    d: Daemon,
    port: u16,
    dir: std::path::PathBuf,
}

impl Rsyslogd {
    fn start(dir: &Path, conf: &str) -> Rsyslogd {
        let d = Daemon::start(RSYSLOGD, dir, conf, &[]);
        let t = Instant::now();
        let port = loop {
            if let Some(p) = std::fs::read_to_string(dir.join("port"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break p;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "rsyslogd did not start: {}",
                d.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Rsyslogd {
            d,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("out"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// Sends one message per key and returns rsyslogd's lines for them.
    fn send(&self, keys: &[&str]) -> Vec<String> {
        let before = self.lines().len();
        let mut s = common::connect(self.port);
        for k in keys {
            writeln!(s, "<13>Jan  1 00:00:00 host t:{k}").unwrap();
        }
        drop(s);
        let t = Instant::now();
        loop {
            let l = self.lines();
            if l.len() >= before + keys.len() {
                return l[before..].to_vec();
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "rsyslogd: messages did not arrive ({} of {}): {}",
                l.len() - before,
                keys.len(),
                self.d.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn hup(&self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.d.child.id() as i32),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap();
    }
}

fn load(dir: &Path, conf: &str) -> (LookupTables, Vec<String>) {
    let path = dir.join("ox.conf");
    std::fs::write(&path, conf).unwrap();
    let loaded = oxsyslog::config::load_path(&path);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    LookupTables::load_like_rsyslogd(&loaded.config)
}

fn compare(theirs: &[String], ours: &[String]) {
    let diffs: Vec<String> = theirs
        .iter()
        .zip(ours)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("rsyslogd:  {a}\noxsyslog:  {b}"))
        .collect();
    assert_eq!(theirs.len(), ours.len());
    assert!(
        diffs.is_empty(),
        "{} lines differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn lookups_match_rsyslogd() {
    let dir = tempfile::tempdir().unwrap();
    write_tables(dir.path(), TABLES);
    let conf = config(dir.path(), TABLES, false);
    let r = Rsyslogd::start(dir.path(), &conf);
    let theirs = r.send(KEYS);
    let (t, errors) = load(dir.path(), &conf);
    let names: Vec<&str> = TABLES.iter().map(|t| t.0).collect();
    compare(&theirs, &expected(&t, &names, KEYS));
    // a few lines spelled out, so that the comparison is not between two empty answers
    let line = |k: &str| &theirs[KEYS.iter().position(|x| *x == k).unwrap()];
    assert_eq!(line("b"), "b|b3||nm||||below|none|||||");
    assert_eq!(line("20"), "20|NM||nm|||t2|seven|none|||||");
    assert_eq!(line("z"), r#"z|[ 1, "a\/b", { } ]||nm||||below|none|||||"#);
    assert_eq!(
        line("4294967295"),
        "4294967295|NM||nm|max|||below|none|||||"
    );
    assert_eq!(line("4294967298"), "4294967298|NM||two||||one|none|||||");
    // the six broken tables are errors (rsyslogd logged them and started anyway)
    assert_eq!(errors.len(), 6, "{errors:#?}");
    let stderr = r.d.stderr();
    for needle in [
        "uses unsupported version: 2",
        "has non-contiguous members between index '2' and '3'",
        "has non-contiguous members between index '1' and '-1'",
        "uses unupported type: 'hash'",
        "has record(s) without 'index' field",
        "json parsing error",
    ] {
        assert!(stderr.contains(needle), "rsyslogd: {stderr}");
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle}: {errors:#?}"
        );
    }
    assert!(errors.iter().all(|e| e.contains(".json")), "{errors:#?}");
}

#[test]
fn reloads_match_rsyslogd() {
    let specs: &[Spec] = &[
        (
            "str",
            r#"{"version":1,"nomatch":"NM","table":[{"index":"a","value":"A1"},{"index":"b","value":"B1"}]}"#,
            "",
        ),
        (
            "arr",
            r#"{"version":1,"type":"array","table":[{"index":1,"value":"one"},{"index":2,"value":"two"}]}"#,
            "",
        ),
        (
            "keep",
            r#"{"version":1,"type":"sparseArray","table":[{"index":1,"value":"k1"}]}"#,
            " reloadOnHUP=\"off\"",
        ),
        (
            "broken",
            r#"{"version":1,"table":[{"index":"a","value":"old"}]}"#,
            " reloadOnHUP=\"on\"",
        ),
        // a table that fails at start and is fixed before the HUP
        ("late", r#"{"version":7,"table":[]}"#, ""),
    ];
    let changed: &[Spec] = &[
        (
            "str",
            r#"{"version":1,"nomatch":"NM2","table":[{"index":"a","value":"A2"},{"index":"c","value":"C2"}]}"#,
            "",
        ),
        (
            "arr",
            r#"{"version":1,"type":"sparseArray","table":[{"index":5,"value":"five"}]}"#,
            "",
        ),
        (
            "keep",
            r#"{"version":1,"type":"sparseArray","table":[{"index":1,"value":"k2"}]}"#,
            "",
        ),
        (
            "broken",
            r#"{"version":1,"type":"array","table":[{"value":1}]}"#,
            "",
        ),
        (
            "late",
            r#"{"version":1,"table":[{"index":"a","value":"fixed"}]}"#,
            "",
        ),
    ];
    let keys = ["a", "b", "c", "1", "2", "5", "9", ""];
    let names: Vec<&str> = specs.iter().map(|t| t.0).collect();
    let dir = tempfile::tempdir().unwrap();
    write_tables(dir.path(), specs);
    let conf = config(dir.path(), specs, true);
    let r = Rsyslogd::start(dir.path(), &conf);
    let (mut t, errors) = load(dir.path(), &conf);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    compare(&r.send(&keys), &expected(&t, &names, &keys));

    // SIGHUP: str, arr and late are reloaded, keep is not (reloadOnHUP off), broken keeps
    // its old contents
    write_tables(dir.path(), changed);
    r.hup();
    let errors = t.hup();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("'broken'"), "{errors:#?}");
    let want = expected(&t, &names, &keys);
    // rsyslogd reloads on its own threads: wait until the reload shows
    let t0 = Instant::now();
    let mut theirs = r.send(&keys);
    while theirs != want && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        theirs = r.send(&keys);
    }
    compare(&theirs, &want);
    assert!(
        want[0].contains("|A2|") && want[0].ends_with("|old|fixed"),
        "{want:?}"
    );

    // reload_lookup_table("str", "STUB") with a broken file: every key gives STUB
    std::fs::write(dir.path().join("str.json"), "{").unwrap();
    r.send(&["RELOAD"]);
    let i = t.index("str").unwrap();
    assert!(t.reload_with_stub(i, Some(b"STUB")).is_err());
    let want = expected(&t, &names, &keys);
    assert!(want.iter().all(|l| l.contains("|STUB|")), "{want:?}");
    let t0 = Instant::now();
    let mut theirs = r.send(&keys);
    while theirs != want && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        theirs = r.send(&keys);
    }
    compare(&theirs, &want);

    // a HUP with a good file again replaces the stub
    std::fs::write(
        dir.path().join("str.json"),
        r#"{"version":1,"table":[{"index":"b","value":"B3"}]}"#,
    )
    .unwrap();
    r.hup();
    t.hup();
    let want = expected(&t, &names, &keys);
    let t0 = Instant::now();
    let mut theirs = r.send(&keys);
    while theirs != want && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        theirs = r.send(&keys);
    }
    compare(&theirs, &want);
    assert!(want[1].starts_with("b|B3|"), "{want:?}");
}
