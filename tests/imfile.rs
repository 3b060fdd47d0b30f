//! imfile: oxsyslogd against the real rsyslogd 8.2302 on the same files (every non-clock
//! property of the messages, readMode 0/1/2, startmsg.regex multi-line messages, a partial
//! line completed later, the state files written at shutdown), and exactly-once delivery
//! across rotation by rename (with lines still written to the renamed file after the rotation
//! was seen), copy-truncate rotation and daemon restarts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Proc as Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// Starts `bin` on `dir/conf`, in `dir`.
fn start(bin: &str, dir: &Path) -> Daemon {
    let child = Command::new(bin)
        .args(["-n", "-C", "-iNONE", "-f"])
        .arg(dir.join("conf"))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("stderr-{}", std::process::id()))).unwrap())
        .spawn()
        .unwrap();
    Daemon(child)
}

fn append(path: &Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default())
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the file has at least `n` lines (30 s at most).
fn wait_lines(path: &Path, n: usize) -> Vec<String> {
    let t = Instant::now();
    loop {
        let l = lines(path);
        if l.len() >= n || t.elapsed() > Duration::from_secs(30) {
            return l;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until both files have the same number of lines and neither changed for 1.5 s.
fn wait_settled(a: &Path, b: &Path) {
    let t = Instant::now();
    let mut last = (usize::MAX, usize::MAX);
    let mut since = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        let now = (lines(a).len(), lines(b).len());
        if now != last {
            last = now;
            since = Instant::now();
        } else if now.0 == now.1 && now.0 > 0 && since.elapsed() > Duration::from_millis(1500) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

const TEMPLATE: &str = "%syslogtag%|%programname%|%syslogfacility-text%|%syslogseverity-text%|%pri%|%hostname%|%fromhost%|%fromhost-ip%|%inputname%|%app-name%|%procid%|%msgid%|%structured-data%|%protocol-version%|%parsesuccess%|%rawmsg%|%rawmsg-after-pri%|%msg%";

fn differential_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"global(workDirectory="{d}/wd")
module(load="imfile")
template(name="t" type="string" string="{TEMPLATE}|END\n")
input(type="imfile" File="{d}/plain.log" Tag="plain[12]:" Facility="local3" Severity="warning")
input(type="imfile" File="{d}/defaults.log" Tag="defaults")
input(type="imfile" File="{d}/multi.log" Tag="multi:" startmsg.regex="^[0-9]{{4}}-")
input(type="imfile" File="{d}/multiraw.log" Tag="multiraw" startmsg.regex="^START" escapeLF="off")
input(type="imfile" File="{d}/para.log" Tag="para" readMode="1")
input(type="imfile" File="{d}/indent.log" Tag="indent" readMode="2" Severity="err")
input(type="imfile" File="{d}/indentraw.log" Tag="indentraw" readMode="2" escapeLF="off")
input(type="imfile" File="{d}/big.log" Tag="big" Facility="user")
input(type="imfile" File="{d}/glob/*.log" Tag="glob")
input(type="imfile" File="{d}/end.log" Tag="end" endmsg.regex="END$")
input(type="imfile" File="{d}/repl.log" Tag="repl" readMode="2" escapeLF.replacement="[LF]")
input(type="imfile" File="{d}/replre.log" Tag="replre" startmsg.regex="^S" escapeLF.replacement="<nl>")
input(type="imfile" File="{d}/trim.log" Tag="trim" trimLineOverBytes="10")
input(type="imfile" File="{d}/tail.log" Tag="tail" freshStartTail="on")
input(type="imfile" File="{d}/parse.log" Tag="parse:" needParse="on")
input(type="imfile" File="{d}/rs.log" Tag="rs" ruleset="other")
ruleset(name="other") {{
  action(type="omfile" file="{d}/out2" template="t")
}}
$InputFileName {d}/legacy.log
$InputFileTag legacy:
$InputFileReadMode 2
$InputFileStateFile ignored-by-rsyslog
$InputRunFileMonitor
*.* action(type="omfile" file="{d}/out" template="t")
"#
    )
}

/// Writes the files' first contents (present before the daemon starts).
fn phase1(d: &Path) {
    std::fs::create_dir_all(d.join("wd")).unwrap();
    std::fs::create_dir_all(d.join("glob")).unwrap();
    append(
        &d.join("plain.log"),
        b"hello world\n\n<13>Jan  1 00:00:00 host tag: not parsed\nctl\x01char\ttab\n\xff\xfe latin\n",
    );
    append(&d.join("defaults.log"), b"one\ntwo\n");
    // longer than maxMessageSize (8096): a line is kept whole, a multi-line message is split
    let mut long = vec![b'L'; 10_000];
    long.push(b'\n');
    append(&d.join("plain.log"), &long);
    let mut m = b"2023-12-31 long\n".to_vec();
    for i in 0..3 {
        m.extend_from_slice(&vec![b'a' + i; 3000]);
        m.push(b'\n');
    }
    append(&d.join("multi.log"), &m);
    append(
        &d.join("multi.log"),
        b"2024-01-01 first\n  at line 1\n  at line 2\n\n2024-01-02 second\n2024-01-03 third\nmore\n",
    );
    append(&d.join("multiraw.log"), b"START a\nb\nSTART c\nd\n");
    append(&d.join("para.log"), b"a\nb\n\nc\n\n\nd\ne\n\nf\n");
    append(&d.join("indent.log"), b"x\n y\n\tz\nw\n\nq\n r\ns\n");
    append(&d.join("indentraw.log"), b"x\n y\nw\n");
    append(&d.join("legacy.log"), b"a\n b\nc\n");
    append(&d.join("end.log"), b"a\nb END\nc\n");
    append(&d.join("repl.log"), b"a\n b\nc\n");
    append(&d.join("replre.log"), b"S1\nx\nS2\n");
    append(&d.join("trim.log"), b"short\n0123456789abcdef\n");
    append(&d.join("tail.log"), b"old line not read\n");
    append(&d.join("rs.log"), b"to the other ruleset\n");
    append(
        &d.join("parse.log"),
        b"<13>Jan  1 00:00:00 host tag[9]: m1\nhello world\n<34>1 2020-01-01T00:00:00Z h5 app 7 ID - m5424\nctl\x01x\n<189>notag\n",
    );
    let mut big = Vec::new();
    for i in 0..40 {
        big.extend_from_slice(format!("big line {i:03} padding padding\n").as_bytes());
    }
    append(&d.join("big.log"), &big);
    append(&d.join("glob/a.log"), b"in a\n");
}

/// Appends while the daemon runs: partial lines, continuation lines, a new glob match.
fn phase2(d: &Path) {
    append(&d.join("plain.log"), b"appended\npartial");
    append(
        &d.join("multi.log"),
        b"  continued later\n2024-01-04 fourth\n",
    );
    // readMode 1: rsyslog's EOF after "f\n" makes the next blank line a continuation
    append(&d.join("para.log"), b"\ng\n\nh\n\n");
    append(&d.join("indent.log"), b" t\nu\n");
    append(&d.join("indentraw.log"), b"v\n");
    append(&d.join("legacy.log"), b"d\n");
    append(&d.join("end.log"), b"d END\n");
    append(&d.join("repl.log"), b"d\n");
    append(&d.join("replre.log"), b"y\nS3\n");
    append(&d.join("tail.log"), b"new line\n");
    append(&d.join("glob/b.log"), b"in b\n");
}

fn phase3(d: &Path) {
    append(&d.join("plain.log"), b" rest\nlast\n");
    append(&d.join("big.log"), b"big tail\n");
}

/// Sorts the output by syslogtag, keeping each file's order (files are read independently).
fn by_tag(l: Vec<String>) -> Vec<String> {
    let mut l = l;
    l.sort_by(|a, b| a.split('|').next().cmp(&b.split('|').next()));
    l
}

/// State files: file name (inode replaced by the watched file's name) → contents, with the
/// daemon's directory replaced.
fn states(dir: &Path) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let esc = dir.display().to_string().replace('/', "\\/");
    for e in std::fs::read_dir(dir.join("wd")).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("imfile-state:") {
            continue;
        }
        let text = std::fs::read_to_string(e.path())
            .unwrap()
            .replace(&esc, "DIR");
        let file = text
            .split("\"filename\": \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("?")
            .to_string();
        let id = name.splitn(3, ':').nth(2).unwrap_or("").to_string();
        m.insert(format!("{file}:{id}"), text);
    }
    m
}

#[test]
fn imfile_matches_rsyslogd() {
    assert!(Path::new(RSYSLOGD).exists(), "{RSYSLOGD} missing");
    let rs = tempfile::tempdir().unwrap();
    let ox = tempfile::tempdir().unwrap();
    for t in [&rs, &ox] {
        std::fs::write(t.path().join("conf"), differential_conf(t.path())).unwrap();
        phase1(t.path());
    }
    let r = start(RSYSLOGD, rs.path());
    let o = start(OX, ox.path());
    let (ro, oo) = (rs.path().join("out"), ox.path().join("out"));
    wait_settled(&ro, &oo);
    for t in [&rs, &ox] {
        phase2(t.path());
    }
    wait_settled(&ro, &oo);
    for t in [&rs, &ox] {
        phase3(t.path());
    }
    wait_settled(&ro, &oo);
    r.term();
    o.term();
    // records end with "|END\n" (messages may hold raw LFs)
    let norm = |p: &Path, dir: &Path| -> Vec<String> {
        let text = String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default())
            .replace(&dir.display().to_string(), "DIR");
        by_tag(
            text.split_terminator("|END\n")
                .map(str::to_string)
                .collect(),
        )
    };
    let (rl, ol) = (norm(&ro, rs.path()), norm(&oo, ox.path()));
    if std::env::var_os("IMFILE_SHOW").is_some() {
        eprintln!("{}\n{:#?}", rl.join("\n"), states(rs.path()));
    }
    assert!(rl.len() > 30, "rsyslogd wrote too little: {rl:#?}");
    assert_eq!(
        rl.join("\n"),
        ol.join("\n"),
        "outputs differ\nrsyslogd:\n{}\noxsyslogd:\n{}",
        rl.join("\n"),
        ol.join("\n")
    );
    let (r2, o2) = (
        norm(&rs.path().join("out2"), rs.path()),
        norm(&ox.path().join("out2"), ox.path()),
    );
    assert!(!r2.is_empty());
    assert_eq!(r2, o2);
    // the same state files: rsyslog's names (inode, file id of the first 512 bytes) and JSON
    let (rst, ost) = (states(rs.path()), states(ox.path()));
    assert!(
        rst.keys().any(|k| !k.ends_with(':')),
        "a file id expected: {rst:#?}"
    );
    assert_eq!(rst, ost);
}

fn seq_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"global(workDirectory="{d}/wd")
module(load="imfile")
template(name="m" type="string" string="%msg%\n")
input(type="imfile" File="{d}/app.log" Tag="app:" reopenOnTruncate="on")
*.* action(type="omfile" file="{d}/out" template="m")
"#
    )
}

fn seq_lines(from: usize, to: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in from..=to {
        v.extend_from_slice(format!("seq {i:06} some text to make the line longer\n").as_bytes());
    }
    v
}

/// Every sequence number 1..=n exactly once.
fn check_once(out: &[String], n: usize) {
    let mut seen = vec![0u32; n + 1];
    for l in out {
        let num: usize = l
            .strip_prefix("seq ")
            .and_then(|r| r.get(..6))
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("unexpected line {l:?}"));
        assert!(num >= 1 && num <= n, "unexpected number in {l:?}");
        seen[num] += 1;
    }
    let missing: Vec<usize> = (1..=n).filter(|&i| seen[i] == 0).collect();
    let dup: Vec<usize> = (1..=n).filter(|&i| seen[i] > 1).collect();
    assert!(
        missing.is_empty() && dup.is_empty(),
        "missing {} (first {:?}), duplicated {} (first {:?})",
        missing.len(),
        missing.first(),
        dup.len(),
        dup.first()
    );
}

#[test]
fn imfile_exactly_once_across_rotation_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("wd")).unwrap();
    std::fs::write(d.join("conf"), seq_conf(d)).unwrap();
    let app = d.join("app.log");
    let out = d.join("out");
    append(&app, &seq_lines(1, 500));
    let mut dm = start(OX, d);
    wait_lines(&out, 500);

    // rotation by rename: more lines into the old file after the rename, then a new file
    append(&app, &seq_lines(501, 1000));
    std::fs::rename(&app, d.join("app.log.1")).unwrap();
    append(&d.join("app.log.1"), &seq_lines(1001, 1100));
    append(&app, &seq_lines(1101, 1300));
    wait_lines(&out, 1300);
    // the writer has not reopened yet: still writing to the renamed file
    append(&d.join("app.log.1"), &seq_lines(1301, 1400));
    append(&app, &seq_lines(1401, 1500));
    wait_lines(&out, 1500);

    // restart with a partial line pending; the line is completed while the daemon is down
    append(&app, &seq_lines(1501, 2000));
    append(&app, b"seq 002001 half a li");
    wait_lines(&out, 2000);
    std::thread::sleep(Duration::from_millis(600));
    dm.term();
    append(&app, b"ne\n");
    append(&app, &seq_lines(2002, 2500));
    dm = start(OX, d);
    wait_lines(&out, 2500);

    // copy-truncate rotation (after the daemon caught up, as logrotate's copytruncate needs)
    std::fs::copy(&app, d.join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&app, &seq_lines(2501, 2600));
    wait_lines(&out, 2600);
    // rewritten larger than before between two polls is detected by content
    std::thread::sleep(Duration::from_millis(600));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&app)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&app, &seq_lines(2601, 2900));
    wait_lines(&out, 2900);

    // a burst, with a restart while it is being read
    append(&app, &seq_lines(2901, 200_000));
    let t = Instant::now();
    while lines(&out).len() < 3000 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    dm.term();
    eprintln!("stopped with {} of 200000 lines written", lines(&out).len());
    append(&app, &seq_lines(200_001, 201_000));
    dm = start(OX, d);
    let got = wait_lines(&out, 201_000);
    std::thread::sleep(Duration::from_millis(1000));
    dm.term();
    let got2 = lines(&out);
    assert_eq!(got.len(), got2.len(), "late duplicates");
    check_once(&got2, 201_000);
}

/// A drop-in switch: rsyslogd stops with a partial line, a pending multi-line message and a
/// pending readMode 2 record in its state files; the second run is rsyslogd again in one
/// directory and oxsyslogd in the other, on the same state. Both must continue identically.
#[test]
fn imfile_resumes_rsyslogd_state() {
    assert!(Path::new(RSYSLOGD).exists(), "{RSYSLOGD} missing");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let conf = |d: &Path| {
        let d = d.display();
        format!(
            r#"global(workDirectory="{d}/wd")
module(load="imfile")
template(name="m" type="string" string="%syslogtag%|%msg%|END\n")
input(type="imfile" File="{d}/plain.log" Tag="plain")
input(type="imfile" File="{d}/multi.log" Tag="multi" startmsg.regex="^[0-9]")
input(type="imfile" File="{d}/indent.log" Tag="indent" readMode="2")
*.* action(type="omfile" file="{d}/out" template="m")
"#
        )
    };
    let mut big = Vec::new();
    for i in 0..30 {
        big.extend_from_slice(format!("line {i:02} with padding padding padding\n").as_bytes());
    }
    for t in [&a, &b] {
        let d = t.path();
        std::fs::create_dir_all(d.join("wd")).unwrap();
        std::fs::write(d.join("conf"), conf(d)).unwrap();
        append(&d.join("plain.log"), &big);
        append(&d.join("plain.log"), b"partial");
        append(&d.join("multi.log"), b"1 one\n cont\n2 two\n more\n");
        append(&d.join("indent.log"), b"x\n y\nz\n");
    }
    let (ra, rb) = (start(RSYSLOGD, a.path()), start(RSYSLOGD, b.path()));
    wait_settled(&a.path().join("out"), &b.path().join("out"));
    ra.term();
    rb.term();
    for t in [&a, &b] {
        let d = t.path();
        std::fs::rename(d.join("out"), d.join("out.first")).unwrap();
        append(&d.join("plain.log"), b" done\nnext\n");
        append(&d.join("multi.log"), b" and more\n3 three\n");
        append(&d.join("indent.log"), b" w\nv\n");
    }
    let ra = start(RSYSLOGD, a.path());
    let ob = start(OX, b.path());
    wait_settled(&a.path().join("out"), &b.path().join("out"));
    ra.term();
    ob.term();
    let rec = |d: &Path| by_tag(lines(&d.join("out")));
    let (x, y) = (rec(a.path()), rec(b.path()));
    assert!(x.len() >= 4, "rsyslogd wrote too little: {x:#?}");
    assert_eq!(x, y);
}
