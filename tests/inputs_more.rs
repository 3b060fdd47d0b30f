//! imklog, immark and privilege drop against the running daemon. imklog and immark are
//! differential: the real rsyslogd 8.2302 and oxsyslogd run the same config and their output
//! files are compared byte for byte, reception-clock fields masked. Privilege drop needs root
//! (the CI runs as root); without it those tests say so and pass.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Proc as Guard;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn start(bin: &str, dir: &Path, conf: &str, name: &str) -> Guard {
    let cpath = dir.join(format!("{name}.conf"));
    std::fs::write(&cpath, conf).unwrap();
    Guard(
        Command::new(bin)
            .args(["-n", "-iNONE", "-f"])
            .arg(&cpath)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// Waits until `path` holds at least `lines` lines (or the timeout), returns its text.
fn wait_lines(path: &Path, lines: usize, secs: u64) -> String {
    let t = Instant::now();
    loop {
        let s = std::fs::read_to_string(path).unwrap_or_default();
        if s.lines().count() >= lines || t.elapsed() > Duration::from_secs(secs) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn have_rsyslogd() -> bool {
    Path::new(RSYSLOGD).exists()
}

const KMSG: &[u8] =
    b"<6>[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)\n\
<4>[   12.345678] usb 1-1: new high-speed USB device number 2 using xhci_hcd\n\
<3>[ 1234.5] EXT4-fs error (device sda1): bad block\n\
<30>systemd[1]: Started Journal Service.\n\
<6><30>systemd[1]: a second PRI wins\n\
<6> <13>a second PRI after a space\n\
<6><3>a second PRI of kern is not taken\n\
<14>[ 1.5] a two-digit PRI: the timestamp is not looked for\n\
<3> [5.1] space before the bracket\n\
<7>[  5.1 ] space before the bracket end\n\
<192>PRI out of range\n\
no PRI at all\n\
\n\
<5>tab\there and \xc3\xa9 UTF-8\n\
<6>a line longer than maxMessageSize: @LONG@\n\
<6>the last line has no LF";

/// One `(template, masked fields)` per output; masked fields are reception-clock ones.
const KLOG_TEMPLATE: &str = "%pri%|%syslogfacility-text%|%syslogseverity-text%|%syslogtag%|%programname%|%app-name%|%procid%|%msgid%|%hostname%|%fromhost%|%fromhost-ip%|%inputname%|%msg%|%rawmsg%|%rawmsg-after-pri%|%timereported:::date-unixtimestamp%|%timegenerated:::date-unixtimestamp%\\n";

/// Masks the Unix timestamps (the last two fields) after checking both daemons agree on them
/// within 2 s; the traditional format's timestamp (first 15 bytes) is masked likewise.
fn normalise(custom: &str, a: &str, b: &str) -> (String, String) {
    let fa: Vec<&str> = a.lines().collect();
    let fb: Vec<&str> = b.lines().collect();
    assert_eq!(fa.len(), fb.len(), "line counts differ:\n{a}\n---\n{b}");
    let mut out = (String::new(), String::new());
    for (x, y) in fa.iter().zip(&fb) {
        let (px, tx) = split_times(custom, x);
        let (py, ty) = split_times(custom, y);
        for (u, v) in tx.iter().zip(&ty) {
            assert!((u - v).abs() <= 2, "times differ: {x} / {y}");
        }
        out.0 += &px;
        out.0 += "\n";
        out.1 += &py;
        out.1 += "\n";
    }
    out
}

fn split_times(custom: &str, line: &str) -> (String, Vec<i64>) {
    if custom == "custom" {
        let mut f: Vec<&str> = line.rsplitn(3, '|').collect();
        let rest = f.pop().unwrap_or("").to_string();
        (rest, f.iter().map(|t| t.parse().unwrap_or(0)).collect())
    } else {
        // "Mmm dd hh:mm:ss " prefix
        let cut = line.char_indices().nth(15).map_or(line.len(), |(i, _)| i);
        (format!("<ts>{}", &line[cut..]), Vec::new())
    }
}

fn klog_conf(dir: &Path, name: &str, module_params: &str) -> String {
    let d = dir.display();
    format!(
        "global(maxMessageSize=\"1k\")\n\
         module(load=\"imklog\" logPath=\"{d}/kmsg\" {module_params})\n\
         template(name=\"t\" type=\"string\" string=\"{KLOG_TEMPLATE}\")\n\
         if $inputname == 'imklog' then {{\n\
           action(type=\"omfile\" file=\"{d}/{name}.custom\" template=\"t\")\n\
           action(type=\"omfile\" file=\"{d}/{name}.trad\" template=\"RSYSLOG_TraditionalFileFormat\")\n\
         }}\n"
    )
}

fn klog_differential(module_params: &str, expect_lines: usize) {
    if !have_rsyslogd() {
        eprintln!("SKIP: {RSYSLOGD} not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 2,600 bytes: cut at maxMessageSize (1k) - 1 by both daemons
    let long: String = (0..2600).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let kmsg = String::from_utf8_lossy(KMSG).replace("@LONG@", &long);
    std::fs::write(dir.path().join("kmsg"), kmsg).unwrap();
    let r = start(
        RSYSLOGD,
        dir.path(),
        &klog_conf(dir.path(), "r", module_params),
        "r",
    );
    let o = start(
        OX,
        dir.path(),
        &klog_conf(dir.path(), "o", module_params),
        "o",
    );
    for kind in ["custom", "trad"] {
        let a = wait_lines(&dir.path().join(format!("r.{kind}")), expect_lines, 10);
        let b = wait_lines(&dir.path().join(format!("o.{kind}")), expect_lines, 10);
        assert_eq!(a.lines().count(), expect_lines, "rsyslogd wrote:\n{a}");
        let (na, nb) = normalise(kind, &a, &b);
        assert_eq!(
            na, nb,
            "imklog ({module_params}) {kind}: rsyslogd vs oxsyslogd"
        );
    }
    // rsyslogd's imklog spins on a regular file at EOF; stop both now
    drop(r);
    o.term();
}

#[test]
fn imklog_default_settings_match_rsyslogd() {
    // non-kernel facilities dropped (<30>, <6><30>, <6> <13>, <14>); <192> is kern.info; the
    // long line becomes three
    klog_differential("", 14);
}

#[test]
fn imklog_permit_non_kernel_facility_matches_rsyslogd() {
    klog_differential("permitNonKernelFacility=\"on\"", 18);
}

#[test]
fn imklog_kernel_timestamps_match_rsyslogd() {
    klog_differential(
        "permitNonKernelFacility=\"on\" parseKernelTimestamp=\"on\"",
        18,
    );
    klog_differential("parseKernelTimestamp=\"on\" keepKernelTimestamp=\"on\"", 14);
}

#[test]
fn imklog_reads_a_fifo_as_lines_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("kmsg");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let d = dir.path().display();
    let conf = format!(
        "module(load=\"imklog\" logPath=\"{d}/kmsg\")\n\
         template(name=\"t\" type=\"string\" string=\"%pri%|%syslogtag%|%msg%\\n\")\n\
         kern.* action(type=\"omfile\" file=\"{d}/out\" template=\"t\")\n"
    );
    let o = start(OX, dir.path(), &conf, "o");
    std::thread::sleep(Duration::from_millis(300));
    {
        use std::io::Write;
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        w.write_all(b"<6>first\n<4>[ 1.000001] sec").unwrap();
        w.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        w.write_all(b"ond\n").unwrap();
    }
    let out = wait_lines(&dir.path().join("out"), 2, 10);
    assert_eq!(out, "6|kernel:|first\n4|kernel:|[ 1.000001] second\n");
    let st = o.term();
    assert!(st.success(), "{st:?}");
}

#[test]
fn imklog_unreadable_log_is_reported_and_the_daemon_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "module(load=\"imklog\" logPath=\"{d}/missing\")\n\
         module(load=\"immark\" interval=\"1\" use.syslogCall=\"off\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out\")\n"
    );
    let o = start(OX, dir.path(), &conf, "o");
    let out = wait_lines(&dir.path().join("out"), 1, 10);
    assert!(out.contains("-- MARK --"), "{out}");
    o.term();
    let err = std::fs::read_to_string(dir.path().join("o.stderr")).unwrap();
    assert!(
        err.contains(&format!(
            "imklog: cannot open kernel log ({d}/missing): No such file or directory."
        )),
        "{err}"
    );
}

fn mark_conf(dir: &Path, name: &str, extra: &str) -> String {
    let d = dir.display();
    format!(
        "global(processInternalMessages=\"on\")\n\
         module(load=\"immark\" interval=\"1\" {extra})\n\
         template(name=\"t\" type=\"string\" string=\"%pri%|%syslogtag%|%programname%|%msg%|%rawmsg%|%hostname%|%fromhost-ip%|%inputname%|%app-name%|%procid%\\n\")\n\
         if $msg startswith '-- ' then action(type=\"omfile\" file=\"{d}/{name}.out\" template=\"t\")\n\
         if $msg startswith '-- ' then action(type=\"omfile\" file=\"{d}/{name}.trad\" template=\"RSYSLOG_TraditionalFileFormat\")\n"
    )
}

#[test]
fn immark_matches_rsyslogd() {
    if !have_rsyslogd() {
        eprintln!("SKIP: {RSYSLOGD} not installed");
        return;
    }
    for extra in ["", "markMessageText=\"-- still here --\""] {
        let dir = tempfile::tempdir().unwrap();
        let r = start(
            RSYSLOGD,
            dir.path(),
            &mark_conf(dir.path(), "r", extra),
            "r",
        );
        let o = start(OX, dir.path(), &mark_conf(dir.path(), "o", extra), "o");
        let a = wait_lines(&dir.path().join("r.out"), 2, 10);
        let b = wait_lines(&dir.path().join("o.out"), 2, 10);
        let first2 = |s: &str| s.lines().take(2).collect::<Vec<_>>().join("\n");
        assert_eq!(a.lines().count().min(2), 2, "{a}");
        assert_eq!(first2(&a), first2(&b), "immark ({extra})");
        let a = wait_lines(&dir.path().join("r.trad"), 2, 10);
        let b = wait_lines(&dir.path().join("o.trad"), 2, 10);
        let strip = |s: &str| {
            s.lines()
                .take(2)
                .map(|l| l.get(15..).unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&a), strip(&b), "immark ({extra}) traditional");
        drop(r);
        o.term();
    }
}

#[test]
fn immark_interval_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "module(load=\"immark\" interval=\"0\")\n*.* /dev/null\n";
    std::fs::write(dir.path().join("a.conf"), conf).unwrap();
    let out = Command::new(OX)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.path().join("a.conf"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.conf:1:") && err.contains("immark"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Privilege drop

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn nobody() -> Option<(u32, u32)> {
    let u = nix::unistd::User::from_name("nobody").ok()??;
    let g = nix::unistd::Group::from_name("nogroup").ok()??;
    Some((u.uid.as_raw(), g.gid.as_raw()))
}

fn status_ids(pid: u32) -> (String, String) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .map(|l| {
                l[k.len()..]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    (get("Uid:"), get("Gid:"))
}

fn send_tcp(port: u16, line: &str) {
    use std::io::Write;
    let mut s = common::connect(port);
    s.write_all(line.as_bytes()).unwrap();
}

fn wait_port(dir: &Path) -> u16 {
    let t = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return p;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no port file");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn privdrop_to_nobody_writes_and_reopens_on_hup() {
    let (true, Some((uid, gid))) = (is_root(), nobody()) else {
        eprintln!("SKIP: needs root and the user nobody / group nogroup");
        return;
    };
    for legacy in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::os::unix::fs::chown(&logs, Some(uid), Some(gid)).unwrap();
        let d = dir.path().display();
        let drop_lines = if legacy {
            "$PrivDropToUser nobody\n$PrivDropToGroup nogroup\n".to_string()
        } else {
            format!("global(privdrop.user.id=\"{uid}\" privdrop.group.name=\"nogroup\")\n")
        };
        let conf = format!(
            "{drop_lines}module(load=\"imtcp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
             template(name=\"t\" type=\"string\" string=\"%msg%\\n\")\n\
             *.* action(type=\"omfile\" file=\"{d}/logs/out.log\" template=\"t\")\n"
        );
        let o = start(OX, dir.path(), &conf, "o");
        let port = wait_port(dir.path());
        send_tcp(port, "<13>Nov 23 10:00:00 h app: one\n");
        let out: PathBuf = logs.join("out.log");
        assert_eq!(wait_lines(&out, 1, 10), " one\n");
        let (u, g) = status_ids(o.0.id());
        assert_eq!(u, format!("{uid} {uid} {uid} {uid}"));
        assert_eq!(g, format!("{gid} {gid} {gid} {gid}"));
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&out).unwrap().uid(), uid);
        // rotate, HUP: the new file is created as nobody
        std::fs::rename(&out, logs.join("out.log.1")).unwrap();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(o.0.id() as i32, libc::SIGHUP) };
        std::thread::sleep(Duration::from_millis(300));
        send_tcp(port, "<13>Nov 23 10:00:01 h app: two\n");
        assert_eq!(wait_lines(&out, 1, 10), " two\n");
        assert_eq!(
            std::fs::read_to_string(logs.join("out.log.1")).unwrap(),
            " one\n"
        );
        assert_eq!(std::fs::metadata(&out).unwrap().uid(), uid);
        o.term();
    }
}

#[test]
fn privdrop_with_an_unwritable_log_file_is_refused_naming_it() {
    let (true, Some(_)) = (is_root(), nobody()) else {
        eprintln!("SKIP: needs root and the user nobody / group nogroup");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // root-owned 0755 directory: nobody can not create files in it
    let d = dir.path().display();
    std::fs::write(dir.path().join("root-owned.log"), "").unwrap();
    for file in ["new.log", "root-owned.log"] {
        let conf = format!(
            "$PrivDropToUser nobody\n$PrivDropToGroup nogroup\n\
             module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\")\n\
             *.* {d}/{file}\n*.* /dev/null\n"
        );
        std::fs::write(dir.path().join("a.conf"), &conf).unwrap();
        let out = Command::new(OX)
            .args(["-n", "-iNONE", "-f"])
            .arg(dir.path().join("a.conf"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("a.conf:5:")
                && err.contains(&format!("{d}/{file}"))
                && err.contains("Permission denied"),
            "{err}"
        );
    }
}

/// A start that fails after the inputs run (here: the output check after the privilege drop)
/// exits with the error even while imklog sits in a blocking read of the kernel log (it
/// used to hang forever, and under systemd ran into the start timeout).
#[test]
fn failed_start_with_imklog_blocked_in_read_exits() {
    let (true, Some(_)) = (is_root(), nobody()) else {
        eprintln!("SKIP: needs root and the user nobody / group nogroup");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("kmsg");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // a writer that never writes: the daemon's read(2) blocks
    let _writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let d = dir.path().display();
    let conf = format!(
        "module(load=\"imklog\" logPath=\"{d}/kmsg\")\n$PrivDropToUser nobody\n*.* {d}/root-only/out.log\n"
    );
    std::fs::create_dir(dir.path().join("root-only")).unwrap();
    let mut o = start(OX, dir.path(), &conf, "o");
    let t = Instant::now();
    let status = loop {
        if let Some(st) = o.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "oxsyslogd did not exit after a failed start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let err = std::fs::read_to_string(dir.path().join("o.stderr")).unwrap();
    assert!(
        err.contains("root-only/out.log") && err.contains("Permission denied"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// impstats

#[test]
fn impstats_counts_inputs_actions_and_the_main_queue() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "module(load=\"impstats\" interval=\"1\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         template(name=\"t\" type=\"string\" string=\"%pri%|%syslogtag%|%inputname%|%msg%\\n\")\n\
         if $inputname == 'imtcp' then action(type=\"omfile\" file=\"{d}/msgs\" template=\"t\")\n\
         if $inputname == 'impstats' then action(type=\"omfile\" file=\"{d}/stats\" template=\"t\")\n"
    );
    let o = start(OX, dir.path(), &conf, "o");
    let port = wait_port(dir.path());
    for i in 0..3 {
        send_tcp(port, &format!("<13>Nov 23 10:00:00 h app: m{i}\n"));
    }
    assert_eq!(
        wait_lines(&dir.path().join("msgs"), 3, 10).lines().count(),
        3
    );
    // wait for an emission that has seen all three
    let t = Instant::now();
    let want = "46|rsyslogd-pstats:|impstats|imtcp(0): origin=imtcp submitted=3 ";
    let stats = loop {
        let s = std::fs::read_to_string(dir.path().join("stats")).unwrap_or_default();
        if s.lines().any(|l| l == want) || t.elapsed() > Duration::from_secs(10) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(stats.lines().any(|l| l == want), "{stats}");
    for l in [
        "46|rsyslogd-pstats:|impstats|global: origin=dynstats ",
        "46|rsyslogd-pstats:|impstats|action-0-builtin:omfile: origin=core.action processed=3 failed=0 suspended=0 suspended.duration=0 resumed=0 ",
    ] {
        assert!(stats.lines().any(|x| x == l), "{l} missing:\n{stats}");
    }
    assert!(
        stats.lines().any(|l| l
            .starts_with("46|rsyslogd-pstats:|impstats|main Q: origin=core.queue size=")
            && l.contains(" enqueued=")),
        "{stats}"
    );
    assert!(
        stats.lines().any(|l| l
            .starts_with("46|rsyslogd-pstats:|impstats|resource-usage: origin=impstats utime=")),
        "{stats}"
    );
    o.term();
}

#[test]
fn impstats_log_file_has_ctime_prefixed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "module(load=\"impstats\" interval=\"1\" log.syslog=\"off\" log.file=\"{d}/stats.log\" format=\"json\")\n\
         *.* action(type=\"omfile\" file=\"{d}/all\")\n"
    );
    let o = start(OX, dir.path(), &conf, "o");
    let s = wait_lines(&dir.path().join("stats.log"), 3, 10);
    let first = s.lines().next().unwrap_or("");
    // "Mon Nov 23 19:00:00 2026: { ..."
    assert_eq!(first.get(24..28), Some(": { "), "{s}");
    let body: Vec<&str> = s.lines().filter_map(|l| l.get(26..)).collect();
    assert_eq!(
        &body[..3],
        [
            "{ \"name\": \"global\", \"origin\": \"dynstats\", \"values\": { } }",
            "{ \"name\": \"global\", \"origin\": \"percentile\", \"values\": { } }",
            "{ \"name\": \"action-0-builtin:omfile\", \"origin\": \"core.action\", \"processed\": 0, \"failed\": 0, \"suspended\": 0, \"suspended.duration\": 0, \"resumed\": 0 }",
        ],
        "{s}"
    );
    o.term();
    assert!(!std::fs::read_to_string(dir.path().join("all"))
        .unwrap_or_default()
        .contains("pstats"));
}
