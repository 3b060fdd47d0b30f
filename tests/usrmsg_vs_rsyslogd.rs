//! omusrmsg with logged-in users, differential against the real rsyslogd 8.2302.
//!
//! Each daemon runs in a private mount namespace (`unshare --mount --propagation private`) in
//! which a temporary directory is bind-mounted over `/run`, so glibc's utmp (`/var/run/utmp`,
//! `/var/run` being a link to `/run`) is a file this test wrote; the machine's utmp is never
//! read or written. The records name pseudo-terminals the test opened itself: root on pty A,
//! alice on pty B, and on pty C records omusrmsg must skip (a DEAD_PROCESS for root, a
//! LOGIN_PROCESS for alice, a USER_PROCESS for the user "LOGIN", one with an empty user name)
//! plus a user "roots", who gets wall messages only (names match exactly, not by prefix). The
//! bytes each daemon wrote to each pty (read from the master side, the slave in raw mode) must
//! be identical for `:omusrmsg:root`, `:omusrmsg:root,alice`, `:omusrmsg:*` (wall; the bare `*` is refused by both),
//! `action(type="omusrmsg" users="*")` and `users="alice, nobody"` with a custom template.
//! The only normalisation: the `at <timegenerated>` of the wall banner (the reception clock).

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A pseudo-terminal: the master (read by the test) and the slave, held open in raw mode so
/// the line discipline passes the daemon's bytes unchanged.
struct Pty {
    master: std::fs::File,
    _slave: OwnedFd,
    /// "pts/N", as in utmp's ut_line.
    line: String,
}

fn open_pty() -> Pty {
    // SAFETY: plain libc calls on descriptors this function owns; the name buffer is sized.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK);
        assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        let master = std::fs::File::from_raw_fd(m);
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_string_lossy()
            .into_owned();
        let s = libc::open(
            std::ffi::CString::new(path.clone()).unwrap().as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY,
        );
        assert!(s >= 0, "open {path}: {}", std::io::Error::last_os_error());
        let slave = OwnedFd::from_raw_fd(s);
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(s, &mut t), 0);
        libc::cfmakeraw(&mut t);
        assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
        let line = path.strip_prefix("/dev/").unwrap().to_string();
        Pty {
            master,
            _slave: slave,
            line,
        }
    }
}

impl Pty {
    /// Whatever is readable now.
    fn drain(&mut self, into: &mut Vec<u8>) {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.master.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.extend_from_slice(&buf[..n]);
        }
    }
}

fn utmp_record(ty: libc::c_short, user: &str, line: &str, pid: i32) -> Vec<u8> {
    // SAFETY: utmpx is plain old data; all-zero is a valid (empty) record.
    let mut u: libc::utmpx = unsafe { std::mem::zeroed() };
    u.ut_type = ty;
    u.ut_pid = pid;
    let put = |dst: &mut [libc::c_char], s: &str| {
        for (d, b) in dst.iter_mut().zip(s.bytes()) {
            *d = b as libc::c_char;
        }
    };
    put(&mut u.ut_line, line);
    put(&mut u.ut_user, user);
    put(&mut u.ut_id, &line[line.len().saturating_sub(4)..]);
    put(&mut u.ut_host, "");
    // SAFETY: reads the bytes of a fully initialised (zeroed, then set) struct.
    unsafe {
        std::slice::from_raw_parts(
            (&u as *const libc::utmpx).cast::<u8>(),
            std::mem::size_of::<libc::utmpx>(),
        )
        .to_vec()
    }
}

fn conf(d: &Path) -> String {
    let d = d.display();
    format!(
        "module(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         template(name=\"t\" type=\"string\" string=\"[%hostname%|%syslogtag%|%msg%|%pri-text%]\\n\")\n\
         :msg, contains, \"tousers\" :omusrmsg:root\n\
         :msg, contains, \"toall\" :omusrmsg:*\n\
         :msg, contains, \"tpl\" action(type=\"omusrmsg\" users=\"alice, nobody\" template=\"t\")\n\
         :msg, contains, \"wallact\" action(type=\"omusrmsg\" users=\"*\")\n\
         :msg, contains, \"fin\" :omusrmsg:root,alice\n\
         *.* {d}/all.log\n"
    )
}

const MSGS: &[&str] = &[
    "<13>Jan  5 10:00:01 hostA app[1]: tousers one",
    "<9>Jan  5 10:00:02 hostB kern: toall two \\ \"q\"",
    "<14>Jan  5 10:00:03 hostC app[3]: tpl three",
    "<13>1 2023-01-05T10:00:04Z hostD app 4 ID - wallact four",
    "<13>Jan  5 10:00:05 hostE app[5]: tousers toall tpl six",
    "<13>Jan  5 10:00:06 hostA app[1]: fin",
];

/// Runs `bin` in its own mount namespace on the utmp; returns what ptys A, B, C received.
fn run(bin: &str) -> [Vec<u8>; 3] {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut ptys = [open_pty(), open_pty(), open_pty()];
    let (a, b, c) = (
        ptys[0].line.clone(),
        ptys[1].line.clone(),
        ptys[2].line.clone(),
    );
    let run = p.join("run");
    std::fs::create_dir(&run).unwrap();
    let mut utmp = Vec::new();
    utmp.extend(utmp_record(libc::DEAD_PROCESS, "root", &c, 10));
    utmp.extend(utmp_record(libc::USER_PROCESS, "root", &a, 11));
    utmp.extend(utmp_record(libc::USER_PROCESS, "LOGIN", &c, 12));
    utmp.extend(utmp_record(libc::USER_PROCESS, "roots", &c, 13));
    utmp.extend(utmp_record(libc::USER_PROCESS, "", &c, 14));
    utmp.extend(utmp_record(libc::USER_PROCESS, "alice", &b, 15));
    utmp.extend(utmp_record(libc::LOGIN_PROCESS, "alice", &c, 16));
    std::fs::write(run.join("utmp"), &utmp).unwrap();
    // the wrapper keeps the daemon's pid (every step execs), so SIGTERM reaches it
    let wrapper = p.join("ns.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec unshare --mount --propagation private sh -c \
             'mount --bind \"$0\" /run && exec \"$@\"' '{}' '{bin}' \"$@\"\n",
            run.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut d = Daemon::start(wrapper.to_str().unwrap(), p, &conf(p), &["-C"]);
    let t = Instant::now();
    let port: u16 = loop {
        if let Some(n) = std::fs::read_to_string(p.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{bin}: no port file: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    {
        use std::io::Write;
        let mut s = common::connect(port);
        for m in MSGS {
            s.write_all(format!("{m}\n").as_bytes()).unwrap();
        }
    }
    let mut got: [Vec<u8>; 3] = Default::default();
    let t = Instant::now();
    let done = |g: &[Vec<u8>; 3]| g[..2].iter().all(|v| ends_with_fin(v));
    while !done(&got) && t.elapsed() < Duration::from_secs(15) {
        for (pty, g) in ptys.iter_mut().zip(got.iter_mut()) {
            pty.drain(g);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.stop(), "{bin}: did not stop on TERM");
    for (pty, g) in ptys.iter_mut().zip(got.iter_mut()) {
        pty.drain(g);
    }
    assert!(
        done(&got),
        "{bin}: the last message did not reach both terminals: {}\n{:?}\n{}",
        d.stderr(),
        got.iter()
            .map(|g| String::from_utf8_lossy(g))
            .collect::<Vec<_>>(),
        common::read_lossy(&p.join("all.log"))
    );
    got
}

fn ends_with_fin(v: &[u8]) -> bool {
    v.ends_with(b" app[1]: fin\n\r")
}

/// Masks the wall banner's `at <timegenerated> ...`: the time of reception.
fn mask(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let mut out = String::new();
    let mut rest: &str = &s;
    while let Some(i) = rest.find(" at ") {
        out += &rest[..i + 4];
        rest = &rest[i + 4..];
        if let Some(j) = rest.find(" ...\r\n") {
            out += "<TIME>";
            rest = &rest[j..];
        }
    }
    out + rest
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn omusrmsg_writes_the_same_bytes_to_terminals_as_rsyslogd() {
    let ns = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !is_root() || !ns {
        eprintln!("no private mount namespace here (needs root and unshare); skipped");
        return;
    }
    let ox = run(OX);
    let (a, b, c) = (mask(&ox[0]), mask(&ox[1]), mask(&ox[2]));
    // independent of rsyslogd: who got what
    assert!(a.contains(" app[1]: tousers one\n\r"), "{a:?}");
    assert!(!b.contains("tousers one"), "{b:?}");
    assert!(a.contains(" ...\r\n kern: toall two"), "{a:?}");
    assert!(b.contains(" ...\r\n kern: toall two"), "{b:?}");
    assert!(
        b.contains("[hostC|app[3]:| tpl three|user.info]\n"),
        "{b:?}"
    );
    assert!(!a.contains("tpl three"), "{a:?}");
    // pty C: the wall messages once (for "roots"), nothing addressed to root or alice
    assert_eq!(c.matches("Message from syslogd@").count(), 3, "{c:?}");
    assert!(
        !c.contains("tousers one") && !c.contains("fin") && !c.contains("[host"),
        "{c:?}"
    );
    if !Path::new(RSYSLOGD).exists() {
        eprintln!("no {RSYSLOGD}: differential part skipped");
        return;
    }
    let rs = run(RSYSLOGD);
    for (i, name) in ["A (root)", "B (alice)", "C (roots; skipped records)"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            mask(&rs[i]),
            mask(&ox[i]),
            "pty {name}: rsyslogd (left) vs oxsyslogd (right)"
        );
    }
    // the unmasked bytes differ only in the banner's time: same length per terminal
    assert_eq!(rs[0].len(), ox[0].len());
    assert_eq!(rs[1].len(), ox[1].len());
}
