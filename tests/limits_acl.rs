//! Sender ACLs (`$AllowedSender`), imuxsock credentials and limits, differential against the
//! real rsyslogd 8.2302 where it can run unprivileged: the same config, the same senders,
//! the same messages kept and the same refusals. Loopback addresses are all local, so a
//! client bound to 127.0.0.2 is a "foreign" sender for an ACL that allows only 127.0.0.1.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{read_lossy, wait_for, Daemon};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// Two currently free ports on 127.0.0.1 (one UDP, one TCP).
fn free_ports() -> (u16, u16) {
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        u.local_addr().unwrap().port(),
        t.local_addr().unwrap().port(),
    )
}

fn acl_conf(dir: &Path, udp: u16, tcp: u16) -> String {
    let d = dir.display();
    format!(
        "global(processInternalMessages=\"on\" workDirectory=\"{d}\")\n\
         module(load=\"imudp\")\nmodule(load=\"imtcp\")\n\
         input(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\")\n\
         $AllowedSender UDP, 127.0.0.1\n\
         $AllowedSender TCP, 127.0.0.1/32, [::1]\n\
         template(name=\"m\" type=\"string\" string=\"%syslogtag%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    )
}

fn wait_tcp(port: u16) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "daemon did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends the ACL scenario: UDP from .2, .1, .2, .2 and TCP from .2, .1, .2; ends with a
/// marker from an allowed sender.
fn acl_scenario(udp: u16, tcp: u16) {
    for (i, src) in ["127.0.0.2", "127.0.0.1", "127.0.0.2", "127.0.0.2"]
        .iter()
        .enumerate()
    {
        let s = UdpSocket::bind((*src, 0)).unwrap();
        s.send_to(
            format!("<13>tag: udp {i} from {src}").as_bytes(),
            ("127.0.0.1", udp),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    for (i, src) in ["127.0.0.2", "127.0.0.1", "127.0.0.2"].iter().enumerate() {
        let sock = connect_from(src, tcp);
        if let Some(mut c) = sock {
            let _ = c.write_all(format!("<13>tag: tcp {i} from {src}\n").as_bytes());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let mut c = common::connect(tcp);
    c.write_all(b"<13>tag: END\n").unwrap();
}

/// A TCP connection from a chosen local address (std has no bind-before-connect, so through
/// nix) to 127.0.0.1:`port`.
fn connect_from(src: &str, port: u16) -> Option<TcpStream> {
    use nix::sys::socket::{bind, connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )
    .ok()?;
    let local: std::net::SocketAddrV4 = format!("{src}:0").parse().ok()?;
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(local),
    )
    .ok()?;
    let remote: std::net::SocketAddrV4 = format!("127.0.0.1:{port}").parse().ok()?;
    connect(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(remote),
    )
    .ok()?;
    Some(TcpStream::from(fd))
}

/// Runs the ACL scenario against one daemon and returns its output lines.
fn run_acl(bin: &str) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = free_ports();
    let mut d = Daemon::start(bin, dir.path(), &acl_conf(dir.path(), udp, tcp), &[]);
    wait_tcp(tcp);
    // the probe connection above came from 127.0.0.1: allowed, sends nothing
    acl_scenario(udp, tcp);
    let out = dir.path().join("out.log");
    let ok = wait_for(&out, "END");
    d.stop();
    let text = read_lossy(&out);
    assert!(ok, "{bin}: END never arrived: {text}\n{}", d.stderr());
    (text.lines().map(str::to_string).collect(), d.stderr())
}

fn kept(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("rsyslogd"))
        .cloned()
        .collect()
}

fn count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

#[test]
fn allowed_sender_udp_and_tcp_match_rsyslogd() {
    let (ox, ox_err) = run_acl(OX);
    let expected = vec![
        "tag:| udp 1 from 127.0.0.1".to_string(),
        "tag:| tcp 1 from 127.0.0.1".to_string(),
        "tag:| END".to_string(),
    ];
    assert_eq!(kept(&ox), expected, "oxsyslogd output: {ox:#?}\n{ox_err}");
    // refused senders are reported once each, with rsyslog's text
    assert_eq!(
        count(&ox, "UDP message from disallowed sender discarded"),
        1,
        "{ox:#?}"
    );
    assert_eq!(
        count(
            &ox,
            "connection request from disallowed sender 127.0.0.2 discarded"
        ),
        1,
        "{ox:#?}"
    );
    if Path::new(RSYSLOGD).exists() {
        let (rs, rs_err) = run_acl(RSYSLOGD);
        assert_eq!(kept(&rs), kept(&ox), "rsyslogd: {rs:#?}\n{rs_err}");
        // rsyslogd reports at every change of sender / every connection
        assert!(count(&rs, "UDP message from disallowed sender discarded") >= 1);
        assert!(
            count(
                &rs,
                "connection request from disallowed sender 127.0.0.2 discarded"
            ) >= 1
        );
    }
}

/// Starts oxsyslogd on DIR/d.conf and waits for it to exit (killed after 10 s: a config that
/// starts must not hang the test). Returns its exit status (None if it had to be killed) and
/// its stderr.
fn start_expecting_refusal(dir: &Path) -> (Option<std::process::ExitStatus>, String) {
    let mut child = Command::new(OX)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.join("d.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        std::fs::read_to_string(dir.join("stderr")).unwrap_or_default(),
    )
}

/// A config whose every $AllowedSender entry is dropped would allow everyone in rsyslogd;
/// oxsyslogd refuses to start, naming the line.
#[test]
fn allowed_sender_list_that_ends_up_empty_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (udp, _) = free_ports();
    let conf = format!(
        "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\")\n\
         $AllowedSender UDP, no-such-host.invalid\n*.* /dev/null\n"
    );
    std::fs::write(dir.path().join("d.conf"), conf).unwrap();
    let (status, err) = start_expecting_refusal(dir.path());
    assert!(status.is_some_and(|s| !s.success()), "started: {err}");
    assert!(err.contains("d.conf:3:"), "{err}");
    assert!(err.contains("no usable entry"), "{err}");
}

// ------------------------------------------------------------------------------------------
// imuxsock: UsePIDFromSystem, rate limits (per sending process)
// ------------------------------------------------------------------------------------------

fn ux_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "global(processInternalMessages=\"on\" workDirectory=\"{d}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/log\" UsePIDFromSystem=\"on\" \
         RateLimit.Interval=\"1\" RateLimit.Burst=\"3\")\n\
         template(name=\"m\" type=\"string\" \
         string=\"%syslogtag%|%programname%|%procid%|%app-name%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    )
}

/// Sends from this (long-lived) process, so both daemons see the same pid and process name.
fn ux_scenario(sock: &Path) {
    let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    for m in [
        "<13>tag[999]: a0",
        "<13>tag: a1",
        "<13>tag a2",
        "<13> a3",
        "<13>tag[1]x: a4",
        "<8>tag: emergency a5",
        "<13>tag: a6",
    ] {
        s.send_to(m.as_bytes(), sock).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    // the window (1 s) is over: the next message brings the "lost" notice
    std::thread::sleep(Duration::from_millis(2300));
    s.send_to(b"<13>tag: END", sock).unwrap();
}

fn run_ux(bin: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(bin, dir.path(), &ux_conf(dir.path()), &[]);
    let sock = dir.path().join("log");
    d.wait_exists(&sock);
    ux_scenario(&sock);
    let out = dir.path().join("out.log");
    let ok = wait_for(&out, "lost due to rate-limiting") && wait_for(&out, "END");
    d.stop();
    let text = read_lossy(&out);
    assert!(ok, "{bin}: {text}\n{}", d.stderr());
    text.lines().map(str::to_string).collect()
}

/// The notices' text after the tag, with the sender's pid masked.
fn notices(lines: &[String]) -> Vec<String> {
    let pid = std::process::id().to_string();
    let mut v: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("rate-limiting"))
        .map(|l| {
            l.rsplit('|')
                .next()
                .unwrap_or("")
                .trim_start()
                .replace(&pid, "PID")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn imuxsock_pid_from_system_and_rate_limit_match_rsyslogd() {
    let ox = run_ux(OX);
    let pid = std::process::id();
    let expected: Vec<String> = [
        format!("tag[{pid}]:|tag|{pid}|tag| a0"),
        format!("tag[{pid}]:|tag|{pid}|tag| a1"),
        format!("ta[{pid}]:|ta|{pid}|ta| a2"),
        format!("tag[{pid}]:|tag|{pid}|tag| emergency a5"),
        format!("tag[{pid}]:|tag|{pid}|tag| END"),
    ]
    .to_vec();
    assert_eq!(kept(&ox), expected, "{ox:#?}");
    let exe = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let argv0 = String::from_utf8_lossy(exe.split(|&b| b == 0).next().unwrap()).into_owned();
    let host = oxsyslog::engine::local_hostname(&Default::default());
    assert_eq!(
        notices(&ox),
        vec![
            format!("imuxsock[pid: PID, name: {argv0}] from <{host}:PID]>: begin to drop messages due to rate-limiting"),
            format!("imuxsock[pid: PID, name: {argv0}]: 3 messages lost due to rate-limiting (3 allowed within 1 seconds)"),
        ]
    );
    if Path::new(RSYSLOGD).exists() {
        let rs = run_ux(RSYSLOGD);
        assert_eq!(kept(&rs), kept(&ox), "rsyslogd: {rs:#?}");
        assert_eq!(notices(&rs), notices(&ox), "rsyslogd: {rs:#?}");
    }
}

// ------------------------------------------------------------------------------------------
// systemd socket activation
// ------------------------------------------------------------------------------------------

#[test]
fn imuxsock_takes_the_socket_systemd_passes() {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let sock_path = dir.path().join("log");
    let passed = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    let ino = std::fs::metadata(&sock_path).unwrap().ino();
    let conf = format!(
        "global(processInternalMessages=\"on\")\n\
         module(load=\"imuxsock\" SysSock.Name=\"{d}/log\")\n\
         template(name=\"m\" type=\"string\" string=\"%syslogtag%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    );
    std::fs::write(dir.path().join("d.conf"), conf).unwrap();
    let fd = passed.as_raw_fd();
    let mut cmd = Command::new("sh");
    // LISTEN_PID must be the daemon's pid: the shell's, which exec keeps
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" -n -iNONE -f \"$1\"",
        OX,
    ])
    .arg(dir.path().join("d.conf"))
    .current_dir(dir.path())
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
    // SAFETY: dup2 and fcntl are async-signal-safe; they make the socket fd 3 without
    // close-on-exec (dup2 onto itself would keep the flag, hence the fcntl).
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let mut dm = Daemon::adopt(OX, child, dir.path());
    drop(passed);
    let out = dir.path().join("out.log");
    let c = std::os::unix::net::UnixDatagram::unbound().unwrap();
    // messages are queued in the passed socket even before the daemon reads it
    c.send_to(b"<13>tag: through the passed socket", &sock_path)
        .unwrap();
    assert!(
        wait_for(&out, "through the passed socket"),
        "{}",
        dm.stderr()
    );
    assert!(
        wait_for(
            &out,
            &format!("imuxsock: Acquired UNIX socket '{d}/log' (fd 3) from systemd.")
        ),
        "{}",
        read_lossy(&out)
    );
    // not re-created: same inode, and left in place at exit (systemd owns it)
    assert_eq!(std::fs::metadata(&sock_path).unwrap().ino(), ino);
    dm.stop();
    assert!(sock_path.exists(), "the passed socket was removed");
}

// ------------------------------------------------------------------------------------------
// imuxsock: Annotate (trusted properties)
// ------------------------------------------------------------------------------------------

fn run_annotate(bin: &str, extra: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/log\" Annotate=\"on\"{extra})\n\
         template(name=\"m\" type=\"string\" string=\"%syslogtag%|%msg%|%rawmsg%|%$!%|%$!pid%\\n\")\n\
         :msg, contains, \"annotated\" action(type=\"omfile\" file=\"{d}/out.log\" template=\"m\")\n"
    );
    let mut dm = Daemon::start(bin, dir.path(), &conf, &[]);
    let sock = dir.path().join("log");
    dm.wait_exists(&sock);
    let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    s.send_to(b"<13>tag[1]: annotated \"quoted\" END", &sock)
        .unwrap();
    let out = dir.path().join("out.log");
    let ok = wait_for(&out, "END");
    dm.stop();
    let text = read_lossy(&out);
    assert!(ok, "{bin}: {text}\n{}", dm.stderr());
    text.lines().map(str::to_string).collect()
}

#[test]
fn imuxsock_annotate_matches_rsyslogd() {
    let ox = run_annotate(OX, "");
    let pid = std::process::id();
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    assert_eq!(ox.len(), 1, "{ox:#?}");
    assert!(
        ox[0].contains(&format!("END @[_PID={pid} _UID={uid} _GID={gid} _COMM="))
            && ox[0].contains(" _EXE=/")
            && ox[0].contains(" _CMDLINE=\""),
        "{ox:#?}"
    );
    if Path::new(RSYSLOGD).exists() {
        let rs = run_annotate(RSYSLOGD, "");
        assert_eq!(rs, ox);
    }
}

/// `ParseTrusted`: the trusted properties become `$!pid`, `$!uid`, `$!gid`, `$!appname`,
/// `$!exe`, `$!cmd` instead of text appended to the message.
#[test]
fn imuxsock_parse_trusted_matches_rsyslogd() {
    let ox = run_annotate(OX, " ParseTrusted=\"on\"");
    let pid = std::process::id();
    assert_eq!(ox.len(), 1, "{ox:#?}");
    assert!(
        ox[0].contains("|{ \"pid\": ")
            && ox[0].ends_with(&format!("|{pid}"))
            && ox[0].contains("\"exe\": \"\\/")
            && !ox[0].contains("@[_PID"),
        "{ox:#?}"
    );
    if Path::new(RSYSLOGD).exists() {
        let rs = run_annotate(RSYSLOGD, " ParseTrusted=\"on\"");
        assert_eq!(rs, ox);
    }
}
