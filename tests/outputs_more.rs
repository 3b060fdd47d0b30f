//! Differential tests of the issue #4 outputs: omfile dynafiles, ompipe and omprog. The real
//! rsyslogd 8.2302 and oxsyslogd run the same config (imtcp on 127.0.0.1, port 0) on the same
//! input, each in its own temporary directory; every file they produce there is compared byte
//! for byte (and file modes, for dynafiles).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A running daemon; dropping it kills it.
struct Daemon {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl Daemon {
    fn start(bin: &str, dir: &Path) -> Daemon {
        let child = Command::new(bin)
            .args(["-n", "-C", "-iNONE", "-f"])
            .arg(dir.join("test.conf"))
            .current_dir(dir)
            .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("daemon.stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut d = Daemon {
            child: Some(child),
            dir: dir.to_path_buf(),
            port: 0,
        };
        let t = Instant::now();
        while d.port == 0 {
            if let Some(p) = std::fs::read_to_string(dir.join("port"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                d.port = p;
            } else if t.elapsed() > Duration::from_secs(15) {
                panic!("{bin} did not start: {}", d.stderr());
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        d
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.stderr")).unwrap_or_default()
    }

    fn send(&self, msgs: &[String]) {
        let mut s = common::connect(self.port);
        for m in msgs {
            s.write_all(m.as_bytes()).unwrap();
            s.write_all(b"\n").unwrap();
        }
        s.flush().unwrap();
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("daemon did not stop within 20 s of SIGTERM");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until `file` has at least `n` lines (20 s at most).
fn wait_lines(file: &Path, n: usize) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        let c = std::fs::read(file).unwrap_or_default();
        if c.iter().filter(|&&b| b == b'\n').count() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir` (path relative to it → (mode, content)), and every directory
/// (→ (mode, None)), minus the harness's own files.
fn tree(dir: &Path) -> BTreeMap<String, (u32, Option<Vec<u8>>)> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, (u32, Option<Vec<u8>>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let mode = md.permissions().mode() & 0o7777;
            if md.is_dir() {
                out.insert(rel, (mode, None));
                walk(root, &p, out);
            } else if md.is_file() {
                if ["test.conf", "port", "daemon.stderr"].contains(&rel.as_str())
                    || rel.ends_with(".sh")
                {
                    continue;
                }
                out.insert(rel, (mode, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn show(t: &BTreeMap<String, (u32, Option<Vec<u8>>)>) -> String {
    let mut s = String::new();
    for (k, (mode, c)) in t {
        match c {
            None => s.push_str(&format!("{k}/ {mode:o}\n")),
            Some(c) => s.push_str(&format!(
                "{k} {mode:o}\n{}",
                String::from_utf8_lossy(c)
                    .lines()
                    .map(|l| format!("    |{l}\n"))
                    .collect::<String>()
            )),
        }
    }
    s
}

/// What one daemon left behind.
struct Run {
    dir: tempfile::TempDir,
    stderr: String,
}

/// Runs `bin` on `conf` (with `@DIR@` replaced by its directory; imtcp prepended): `setup`
/// prepares the directory, `drive` sends and waits, then the daemon is stopped.
fn run(bin: &str, conf: &str, setup: &dyn Fn(&Path), drive: &dyn Fn(&Daemon)) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n{}\n",
        conf.replace("@DIR@", &d)
    );
    std::fs::write(dir.path().join("test.conf"), conf).unwrap();
    setup(dir.path());
    let mut daemon = Daemon::start(bin, dir.path());
    drive(&daemon);
    daemon.stop();
    let stderr = daemon.stderr();
    Run { dir, stderr }
}

/// Runs both daemons and requires identical trees.
fn differential(conf: &str, setup: &dyn Fn(&Path), drive: &dyn Fn(&Daemon)) -> (Run, Run) {
    let r = run(RSYSLOGD, conf, setup, drive);
    let o = run(OX, conf, setup, drive);
    let (tr, to) = (tree(r.dir.path()), tree(o.dir.path()));
    if std::env::var_os("OUTPUTS_SHOW").is_some() {
        eprintln!("{}", show(&tr));
    }
    assert!(
        tr.values().filter(|(_, c)| c.is_some()).count() >= 2,
        "rsyslogd wrote too little: {}\n{}",
        show(&tr),
        r.stderr
    );
    assert!(
        tr == to,
        "rsyslogd and oxsyslogd differ\n--- rsyslogd ---\n{}\n--- oxsyslogd ---\n{}\n--- oxsyslogd stderr ---\n{}\n--- rsyslogd stderr ---\n{}",
        show(&tr),
        show(&to),
        o.stderr,
        r.stderr
    );
    (r, o)
}

fn msgs3164(list: &[(&str, &str, &str)]) -> Vec<String> {
    list.iter()
        .map(|(h, p, m)| format!("<13>Jan  2 03:04:05 {h} {p}: {m}"))
        .collect()
}

const FMT: &str =
    "template(name=\"fmt\" type=\"string\" string=\"%hostname% %syslogtag%%msg%\\n\")\n";

#[test]
fn dynafiles_by_host_and_program_with_nested_dirs_and_small_cache() {
    let conf = format!(
        "{FMT}template(name=\"path\" type=\"string\" string=\"@DIR@/logs/%hostname%/sub/%programname%.log\")\n\
         template(name=\"legacypath\" type=\"string\" string=\"@DIR@/legacy/%programname%.log\")\n\
         action(type=\"omfile\" dynaFile=\"path\" template=\"fmt\" dynaFileCacheSize=\"2\" dirCreateMode=\"0750\" fileCreateMode=\"0640\")\n\
         $DirCreateMode 0755\n$FileCreateMode 0604\n\
         *.* ?legacypath;fmt\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let mut list = Vec::new();
    let hosts = ["alpha", "beta.example.com", "gamma-1"];
    let progs = ["sshd", "cron", "kernel"];
    for i in 0..60 {
        list.push((hosts[i % 3], progs[(i / 3) % 3], format!("message {i}")));
    }
    let msgs: Vec<String> = list
        .iter()
        .map(|(h, p, m)| format!("<13>Jan  2 03:04:05 {h} {p}[{}]: {m}", m.len()))
        .collect();
    let n = msgs.len();
    differential(&conf, &|_| {}, &|d| {
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), n);
        std::thread::sleep(Duration::from_millis(300));
    });
}

#[test]
fn dynafile_secpath_replace_and_traversal() {
    // With secpath-replace both daemons write the same names.
    let conf = format!(
        "{FMT}template(name=\"path\" type=\"string\" string=\"@DIR@/logs/%hostname:::secpath-replace%/%programname:::secpath-replace%.log\")\n\
         *.* action(type=\"omfile\" dynaFile=\"path\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let msgs = vec![
        "<13>1 2003-10-11T22:14:15.003Z ../escape app - - - rfc5424 dots".to_string(),
        "<13>1 2003-10-11T22:14:15.003Z a/b/c app - - - rfc5424 slashes".to_string(),
        "<13>Jan  2 03:04:05 .. prog: 3164 dots".to_string(),
        "<13>Jan  2 03:04:05 ok prog: normal".to_string(),
    ];
    differential(&conf, &|_| {}, &|d| {
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), 4);
        std::thread::sleep(Duration::from_millis(300));
    });

    // Without it rsyslogd 8.2302 follows a '..' from the message out of the log tree;
    // oxsyslogd refuses such a path (deliberate difference) and writes the others alike.
    let conf = format!(
        "{FMT}template(name=\"path\" type=\"string\" string=\"@DIR@/logs/%hostname%/x.log\")\n\
         *.* action(type=\"omfile\" dynaFile=\"path\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let drive = |d: &Daemon| {
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), 4);
        std::thread::sleep(Duration::from_millis(300));
    };
    let r = run(RSYSLOGD, &conf, &|_| {}, &drive);
    let o = run(OX, &conf, &|_| {}, &drive);
    let (mut tr, to) = (tree(r.dir.path()), tree(o.dir.path()));
    assert!(
        tr.contains_key("escape/x.log"),
        "rsyslogd 8.2302 was expected to write outside logs/: {}",
        show(&tr)
    );
    assert!(
        !to.keys().any(|k| !k.starts_with("logs") && k != "all.log"),
        "oxsyslogd wrote outside logs/: {}",
        show(&to)
    );
    assert!(o.stderr.contains("'..' component"), "{}", o.stderr);
    // Everything else is the same (a 3164 hostname of `..` is not taken as a hostname, so
    // that message goes to logs/localhost/x.log in both).
    tr.retain(|k, _| k != "escape" && k != "escape/x.log");
    assert_eq!(show(&tr), show(&to));
}

/// Opens a FIFO for reading without blocking and collects what arrives.
fn fifo_reader(path: PathBuf, want_lines: usize) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut got = Vec::new();
        let t = Instant::now();
        let mut buf = [0u8; 4096];
        while t.elapsed() < Duration::from_secs(20)
            && got.iter().filter(|&&b| b == b'\n').count() < want_lines
        {
            match f.read(&mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        got
    })
}

fn mkfifo(p: &Path) {
    nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn ompipe_to_fifo_with_reader_and_without() {
    let conf = format!(
        "{FMT}*.* action(type=\"ompipe\" pipe=\"@DIR@/fifo\" template=\"fmt\")\n\
         *.* |@DIR@/fifo2;fmt\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let msgs = msgs3164(&[("h1", "a", "one"), ("h2", "b", "two"), ("h3", "c", "three")]);
    let setup = |d: &Path| {
        mkfifo(&d.join("fifo"));
        mkfifo(&d.join("fifo2"));
    };
    let drive = |d: &Daemon| {
        // fifo has a reader from the start; fifo2 gets one only after the messages were
        // written (they wait in the pipe, which the daemon holds open read-write).
        let r1 = fifo_reader(d.dir.join("fifo"), 3);
        std::thread::sleep(Duration::from_millis(100));
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), 3);
        std::thread::sleep(Duration::from_millis(200));
        let r2 = fifo_reader(d.dir.join("fifo2"), 3);
        let (a, b) = (r1.join().unwrap(), r2.join().unwrap());
        std::fs::write(d.dir.join("fifo.got"), a).unwrap();
        std::fs::write(d.dir.join("fifo2.got"), b).unwrap();
    };
    let (_r, o) = differential(&conf, &setup, &drive);
    let got = std::fs::read_to_string(o.dir.path().join("fifo2.got")).unwrap();
    assert_eq!(got, "h1 a:one\nh2 b:two\nh3 c:three\n".replace(':', ": "));
}

fn script(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn omprog_cat_output_capture_and_confirm() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/cat.sh @DIR@/cat.out\" template=\"fmt\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/echo.sh\" output=\"@DIR@/captured.log\" template=\"fmt\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/confirm.sh @DIR@/confirm.out\" confirmMessages=\"on\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let msgs: Vec<String> = (0..20)
        .map(|i| format!("<13>Jan  2 03:04:05 host{i} prog{i}: message {i}"))
        .collect();
    let setup = |d: &Path| {
        script(d, "cat.sh", "exec cat >> \"$1\"\n");
        script(
            d,
            "echo.sh",
            "while read -r l; do echo \"out $l\"; echo \"err $l\" >&2; done\n",
        );
        script(
            d,
            "confirm.sh",
            "echo OK\nwhile read -r l; do echo \"confirmed $l\" >> \"$1\"; echo OK; done\necho done >> \"$1\"\n",
        );
    };
    let drive = |d: &Daemon| {
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), 20);
        wait_lines(&d.dir.join("cat.out"), 20);
        wait_lines(&d.dir.join("captured.log"), 40);
        wait_lines(&d.dir.join("confirm.out"), 20);
    };
    let (_r, o) = differential(&conf, &setup, &drive);
    let c = std::fs::read_to_string(o.dir.path().join("confirm.out")).unwrap();
    assert!(c.ends_with("done\n"), "{c}");
    assert_eq!(c.lines().count(), 21);
}

#[test]
fn omprog_restarts_a_program_that_exits_and_resends_the_message() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/flaky.sh @DIR@/flaky.out @DIR@/once\" confirmMessages=\"on\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let msgs: Vec<String> = (0..6)
        .map(|i| format!("<13>Jan  2 03:04:05 h p: msg{i}"))
        .collect();
    let setup = |d: &Path| {
        script(
            d,
            "flaky.sh",
            "echo Starting >> \"$1\"\necho OK\nn=0\nwhile read -r l; do\n  n=$((n+1))\n  echo \"Received $l\" >> \"$1\"\n  if [ $n -eq 3 ] && [ ! -e \"$2\" ]; then\n    : > \"$2\"\n    echo 'Terminating without confirming' >> \"$1\"\n    exit 0\n  fi\n  echo OK\ndone\necho 'Terminating normally' >> \"$1\"\n",
        );
    };
    let drive = |d: &Daemon| {
        d.send(&msgs);
        wait_lines(&d.dir.join("all.log"), 6);
        wait_lines(&d.dir.join("flaky.out"), 10);
        std::thread::sleep(Duration::from_millis(200));
    };
    let (_r, o) = differential(&conf, &setup, &drive);
    let out = std::fs::read_to_string(o.dir.path().join("flaky.out")).unwrap();
    assert_eq!(
        out,
        "Starting\nReceived h p: msg0\nReceived h p: msg1\nReceived h p: msg2\nTerminating without confirming\n\
         Starting\nReceived h p: msg2\nReceived h p: msg3\nReceived h p: msg4\nReceived h p: msg5\nTerminating normally\n"
    );
}

#[test]
fn omprog_bad_hup_signal_is_refused_at_start_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "module(load=\"omprog\")\n*.* action(type=\"omprog\" binary=\"/bin/cat\" hup.signal=\"KILL\")\n",
    )
    .unwrap();
    let out = Command::new(OX)
        .args(["-n", "-C", "-iNONE", "-f"])
        .arg(&conf)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("bad.conf:2:") && err.contains("hup.signal"),
        "{err}"
    );
}

/// Starts oxsyslogd alone on `conf` (after `setup`).
fn ox_alone(conf: &str, setup: &dyn Fn(&Path)) -> (tempfile::TempDir, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n{}\n",
        conf.replace("@DIR@", &d)
    );
    std::fs::write(dir.path().join("test.conf"), conf).unwrap();
    setup(dir.path());
    let daemon = Daemon::start(OX, dir.path());
    (dir, daemon)
}

fn hup(d: &Daemon) {
    if let Some(c) = &d.child {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(c.id() as i32),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap();
    }
}

#[test]
fn hup_closes_dynafiles_and_is_forwarded_to_omprog() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         template(name=\"path\" type=\"string\" string=\"@DIR@/dyn/%hostname%.log\")\n\
         *.* action(type=\"omfile\" dynaFile=\"path\" template=\"fmt\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/trap.sh @DIR@/trap.out\" hup.signal=\"USR1\" forceSingleInstance=\"on\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let setup = |d: &Path| {
        script(
            d,
            "trap.sh",
            "trap 'echo usr1 >> \"$1\"' USR1\nwhile read -r l; do echo \"$l\" >> \"$1\"; done\n",
        );
    };
    let (dir, mut d) = ox_alone(&conf, &setup);
    d.send(&msgs3164(&[("h1", "p", "before")]));
    wait_lines(&dir.path().join("all.log"), 1);
    wait_lines(&dir.path().join("trap.out"), 1);
    std::fs::rename(
        dir.path().join("dyn/h1.log"),
        dir.path().join("dyn/h1.log.1"),
    )
    .unwrap();
    hup(&d);
    std::thread::sleep(Duration::from_millis(1500));
    d.send(&msgs3164(&[("h1", "p", "after")]));
    wait_lines(&dir.path().join("all.log"), 2);
    wait_lines(&dir.path().join("trap.out"), 3);
    d.stop();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dyn/h1.log")).unwrap(),
        "h1 p: after\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dyn/h1.log.1")).unwrap(),
        "h1 p: before\n"
    );
    let t = std::fs::read_to_string(dir.path().join("trap.out")).unwrap();
    assert!(t.contains("usr1") && t.contains("after"), "{t}");
}

#[test]
fn full_pipe_and_stuck_program_never_block_processing() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         *.* action(type=\"ompipe\" pipe=\"@DIR@/fifo\" template=\"fmt\")\n\
         *.* action(type=\"omprog\" binary=\"/bin/sleep 1000\" confirmTimeout=\"300\" closeTimeout=\"100\" killUnresponsive=\"on\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let (dir, mut d) = ox_alone(&conf, &|p: &Path| mkfifo(&p.join("fifo")));
    // ~200 KB: more than a pipe holds, nobody reads the FIFO, and `sleep` never reads stdin.
    let pad = "x".repeat(200);
    let msgs: Vec<String> = (0..1000)
        .map(|i| format!("<13>Jan  2 03:04:05 h p: {i} {pad}"))
        .collect();
    let t = Instant::now();
    d.send(&msgs);
    wait_lines(&dir.path().join("all.log"), 1000);
    let n = std::fs::read_to_string(dir.path().join("all.log"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(n, 1000, "{}", d.stderr());
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    // What the pipe holds plus the kept backlog arrives once a reader comes.
    let got = fifo_reader(dir.path().join("fifo"), 1000).join().unwrap();
    let lines = String::from_utf8_lossy(&got).lines().count();
    assert_eq!(lines, 1000);
    d.stop();
    let err = d.stderr();
    assert!(
        err.contains("did not read its input within timeout"),
        "{err}"
    );
}

#[test]
fn omprog_transactions_frame_each_batch() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/tx.sh @DIR@/tx.out\" useTransactions=\"on\" confirmMessages=\"on\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    let setup = |d: &Path| {
        script(
            d,
            "tx.sh",
            "echo OK\nwhile read -r l; do echo \"$l\" >> \"$1\"; case \"$l\" in 'BEGIN TRANSACTION') echo OK;; 'COMMIT TRANSACTION') echo OK;; *) echo DEFER_COMMIT;; esac; done\n",
        );
    };
    let (dir, mut d) = ox_alone(&conf, &setup);
    let msgs: Vec<String> = (0..50)
        .map(|i| format!("<13>Jan  2 03:04:05 h p: m{i}"))
        .collect();
    d.send(&msgs);
    wait_lines(&dir.path().join("all.log"), 50);
    wait_lines(&dir.path().join("tx.out"), 52);
    d.stop();
    let out = std::fs::read_to_string(dir.path().join("tx.out")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"BEGIN TRANSACTION"), "{out}");
    assert_eq!(lines.last(), Some(&"COMMIT TRANSACTION"), "{out}");
    let msgs_seen: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.ends_with("TRANSACTION"))
        .collect();
    assert_eq!(msgs_seen.len(), 50, "{out}");
    let (mut open, mut begins) = (false, 0);
    for l in &lines {
        match *l {
            "BEGIN TRANSACTION" => {
                assert!(!open, "{out}");
                open = true;
                begins += 1;
            }
            "COMMIT TRANSACTION" => {
                assert!(open, "{out}");
                open = false;
            }
            _ => assert!(open, "{out}"),
        }
    }
    assert!(begins >= 1);
}

#[test]
fn omprog_without_confirmation_is_restarted_on_the_next_message_after_it_exited() {
    let conf = format!(
        "{FMT}module(load=\"omprog\")\n\
         *.* action(type=\"omprog\" binary=\"@DIR@/one.sh @DIR@/one.out\" template=\"fmt\")\n\
         *.* action(type=\"omfile\" file=\"@DIR@/all.log\" template=\"fmt\")\n"
    );
    // Takes one line per run, then exits.
    let setup = |d: &Path| {
        script(
            d,
            "one.sh",
            "echo start >> \"$1\"\nread -r l\necho \"got $l\" >> \"$1\"\n",
        )
    };
    let drive = |d: &Daemon| {
        for (i, n) in [(1, 2), (2, 4), (3, 6)] {
            d.send(&msgs3164(&[("h", "p", &format!("m{i}"))]));
            wait_lines(&d.dir.join("one.out"), n);
            // Let the program exit before the next message.
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    let (_r, o) = differential(&conf, &setup, &drive);
    assert_eq!(
        std::fs::read_to_string(o.dir.path().join("one.out")).unwrap(),
        "start\ngot h p: m1\nstart\ngot h p: m2\nstart\ngot h p: m3\n"
    );
}

/// An output's failure is an internal message too, as in rsyslog (not only a line on stderr,
/// which the systemd unit discards): with processInternalMessages on, the rules see it.
#[test]
fn output_errors_are_internal_messages() {
    let (dir, mut d) = ox_alone(
        "global(processInternalMessages=\"on\")\n\
         template(name=\"t\" type=\"string\" string=\"%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n\")\n\
         syslog.* action(type=\"omfile\" file=\"@DIR@/internal.log\" template=\"t\")\n\
         user.* action(type=\"omfile\" file=\"/dev/full\")\n",
        &|_| {},
    );
    d.send(&msgs3164(&[("h", "app", "one")]));
    let log = dir.path().join("internal.log");
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("omfile error")
    {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no internal message; internal.log: {:?}; stderr: {}",
            std::fs::read_to_string(&log),
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    d.stop();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("omfile error")).unwrap();
    assert!(
        line.starts_with("syslog.err rsyslogd:") && line.contains("/dev/full"),
        "{line}"
    );
    assert!(d.stderr().contains("omfile error"), "{}", d.stderr());
}
