//! imudp's receive thread (src/input/udp.rs): `rcvbufSize` gives the socket the same receive
//! buffer as the real rsyslogd 8.2302 gives it (read back with `ss`; unset, oxsyslogd's
//! larger default), and datagrams from
//! senders taking turns keep their own `fromhost-ip` through the batches, every one
//! written, also those still held by the thread when SIGTERM comes.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{read_lossy, Daemon};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A UDP port on 127.0.0.1 free a moment ago (the TCP helper never hands out one twice; the
/// same number is then very likely free for UDP too, and checked by binding it).
fn free_udp_port() -> u16 {
    loop {
        let p = common::free_port();
        if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

fn conf(dir: &Path, udp: u16, rcvbuf: &str, template: &str) -> String {
    format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         module(load=\"imudp\")\nmodule(load=\"imtcp\")\n\
         input(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         input(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\"{rcvbuf})\n\
         template(name=\"t\" type=\"string\" string=\"{template}\")\n\
         *.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"t\")\n",
        d = dir.display()
    )
}

/// Waits until the daemon wrote its TCP port file (it has bound its sockets by then).
fn wait_started(d: &Daemon) {
    let t = Instant::now();
    while !d.dir.join("port").exists() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "daemon did not start: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The receive buffer (`skmem` rb) of the UDP socket bound to 127.0.0.1:port, from `ss`.
fn rcvbuf_of(port: u16) -> Option<u64> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        let out = Command::new("ss")
            .args(["-u", "-a", "-n", "-m", "sport", "=", &format!(":{port}")])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(rb) = text
            .split(|c: char| c == '(' || c == ',' || c.is_whitespace())
            .find_map(|f| f.strip_prefix("rb").and_then(|v| v.parse().ok()))
        {
            return Some(rb);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn rcvbuf_with(bin: &str, setting: &str) -> (Option<u64>, String) {
    let dir = tempfile::tempdir().unwrap();
    let udp = free_udp_port();
    let mut d = Daemon::start(
        bin,
        dir.path(),
        &conf(dir.path(), udp, setting, "%msg%\\n"),
        &[],
    );
    wait_started(&d);
    let rb = rcvbuf_of(udp);
    d.stop();
    (rb, d.stderr())
}

#[test]
fn rcvbufsize_matches_rsyslogd() {
    for setting in [
        " rcvbufSize=\"0\"",
        " rcvbufSize=\"256k\"",
        " rcvbufSize=\"3000000\"",
        " rcvbufSize=\"6m\"",
    ] {
        let (rs, rs_err) = rcvbuf_with(RSYSLOGD, setting);
        let (ox, ox_err) = rcvbuf_with(OX, setting);
        assert!(rs.is_some(), "no rcvbuf for rsyslogd ({setting}): {rs_err}");
        assert_eq!(
            ox, rs,
            "receive buffer with '{setting}': oxsyslogd {ox:?}, rsyslogd {rs:?}\n{ox_err}"
        );
    }
}

/// Without `rcvbufSize` oxsyslogd asks for 4 MiB (src/input/udp.rs `DEFAULT_RCVBUF`; the
/// kernel reports twice that), where rsyslogd keeps the OS default.
#[test]
fn unset_rcvbufsize_gets_the_larger_default() {
    let (rs, _) = rcvbuf_with(RSYSLOGD, "");
    let (ox, ox_err) = rcvbuf_with(OX, "");
    let (rs, ox) = (
        rs.expect("rsyslogd's rcvbuf"),
        ox.expect("oxsyslogd's rcvbuf"),
    );
    if nix::unistd::geteuid().is_root() {
        assert_eq!(ox, 8 << 20, "{ox_err}");
    }
    assert!(ox >= rs, "oxsyslogd {ox} < rsyslogd {rs}");
}

#[test]
fn invalid_rcvbufsize_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let udp = free_udp_port();
    std::fs::write(
        dir.path().join("d.conf"),
        conf(dir.path(), udp, " rcvbufSize=\"lots\"", "%msg%\\n"),
    )
    .unwrap();
    let out = Command::new(OX)
        .args(["-N1", "-f"])
        .arg(dir.path().join("d.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.to_lowercase().contains("rcvbufsize")
            && err.contains("d.conf"),
        "status {:?}: {err}",
        out.status
    );
}

/// Three senders take turns, 6,000 datagrams each, at about 30,000/s in all; SIGTERM follows
/// the last datagram at once. Every line must be there, with its own sender's address.
#[test]
fn senders_taking_turns_keep_their_address_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let udp = free_udp_port();
    let mut d = Daemon::start(
        OX,
        dir.path(),
        &conf(
            dir.path(),
            udp,
            " rcvbufSize=\"8m\"",
            "%fromhost-ip% %msg%\\n",
        ),
        &[],
    );
    wait_started(&d);
    // 127.0.0.1, 127.0.0.2, 127.0.0.3 (all of 127/8 is the loopback)
    let socks: Vec<std::net::UdpSocket> = (1..=3)
        .map(|h| {
            let s = std::net::UdpSocket::bind(format!("127.0.0.{h}:0")).unwrap();
            s.connect(("127.0.0.1", udp)).unwrap();
            s
        })
        .collect();
    let per = 6000;
    let t0 = Instant::now();
    for i in 0..per * socks.len() {
        let k = (i / 7) % socks.len(); // runs of 7 from one sender, then the next
        socks[k]
            .send(format!("<13>Nov 24 05:00:00 h t: s{k} n{i}").as_bytes())
            .unwrap();
        if i % 30 == 29 {
            while t0.elapsed() < Duration::from_micros(i as u64 * 33) {
                std::thread::yield_now();
            }
        }
    }
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    let out = read_lossy(&dir.path().join("out.log"));
    let mut seen = vec![false; per * socks.len()];
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 3, "line '{line}'");
        let k: usize = f[1].trim_start_matches('s').parse().unwrap();
        let i: usize = f[2].trim_start_matches('n').parse().unwrap();
        assert_eq!(f[0], format!("127.0.0.{}", k + 1), "sender of '{line}'");
        assert!(!seen[i], "duplicate '{line}'");
        seen[i] = true;
    }
    let missing = seen.iter().filter(|s| !**s).count();
    assert_eq!(missing, 0, "{missing} datagrams missing\n{}", d.stderr());
}
