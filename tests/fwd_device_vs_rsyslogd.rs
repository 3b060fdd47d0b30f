//! omfwd `device` (SO_BINDTODEVICE, rsyslog's omfwd.c → nsd_ptcp.c `Connect` for TCP and
//! net.c `create_single_udp_socket` for UDP) against the real rsyslogd 8.2302, over real
//! sockets on 127.0.0.1 caught by the test's own listeners:
//!
//! - `device="lo"`: every message arrives over TCP and over UDP, the same bytes from both
//!   daemons;
//! - another interface (the first non-loopback one, when the machine has one): a socket bound
//!   to it cannot reach 127.0.0.1, so nothing arrives from either daemon — the option is
//!   applied, not just accepted — while a local file gets every message;
//! - a device that does not exist: the config is valid for both (-N1), the action is
//!   suspended (rsyslogd: `create UDP socket bound to device failed`; oxsyslogd: a line naming
//!   the device), and the local file still gets every message.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const N: usize = 200;

/// What the test's listeners received: TCP lines and UDP datagrams.
#[derive(Default)]
struct Caught {
    tcp: Mutex<Vec<String>>,
    udp: Mutex<Vec<String>>,
}

/// A TCP listener and a UDP socket on 127.0.0.1 that collect what arrives.
fn listeners() -> (u16, u16, Arc<Caught>) {
    let caught = Arc::new(Caught::default());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let tport = l.local_addr().unwrap().port();
    let c = caught.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(s).lines() {
                    match line {
                        Ok(l) => c.tcp.lock().unwrap().push(l),
                        Err(_) => return,
                    }
                }
            });
        }
    });
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uport = u.local_addr().unwrap().port();
    let c = caught.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = u.recv(&mut buf) {
            c.udp
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    (tport, uport, caught)
}

fn conf(dir: &Path, device: &str, tport: u16, uport: u16) -> String {
    let d = dir.display();
    format!(
        "global(workDirectory=\"{d}\")
module(load=\"imtcp\")
input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\")
template(name=\"m\" type=\"string\" string=\"%syslogtag%%msg%\")
template(name=\"f\" type=\"string\" string=\"%msg:2:$%\\n\")
action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tport}\" protocol=\"tcp\" device=\"{device}\" template=\"m\" queue.type=\"LinkedList\")
action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{uport}\" protocol=\"udp\" device=\"{device}\" template=\"m\" queue.type=\"LinkedList\")
action(type=\"omfile\" file=\"{d}/local\" template=\"f\")
"
    )
}

/// Runs `bin` forwarding N messages with `device`; waits up to `wait` for them to arrive.
/// Returns (TCP lines, UDP datagrams, local file, stderr).
fn run(bin: &str, device: &str, wait: Duration) -> (Vec<String>, Vec<String>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (tport, uport, caught) = listeners();
    let mut d = Daemon::start(
        bin,
        dir.path(),
        &conf(dir.path(), device, tport, uport),
        &[],
    );
    let port = port_file(&d);
    let mut s = common::connect(port);
    let mut buf = String::new();
    for i in 0..N {
        buf.push_str(&format!(
            "<13>Nov 24 10:00:00 host1 dev[1]: message {i:04} via {device}\n"
        ));
    }
    std::io::Write::write_all(&mut s, buf.as_bytes()).unwrap();
    drop(s);
    let local = dir.path().join("local");
    let t = Instant::now();
    while t.elapsed() < wait {
        let done = caught.tcp.lock().unwrap().len() >= N && caught.udp.lock().unwrap().len() >= N;
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // the local file gets everything whatever the forwarding does
    let t = Instant::now();
    while common::read_lossy(&local).lines().count() < N && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    d.stop();
    let tcp = caught.tcp.lock().unwrap().clone();
    let udp = caught.udp.lock().unwrap().clone();
    (tcp, udp, common::read_lossy(&local), d.stderr())
}

fn port_file(d: &Daemon) -> u16 {
    let t = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(d.dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return common::listening(p);
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "daemon did not start: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn expected(device: &str) -> BTreeSet<String> {
    (0..N)
        .map(|i| format!("dev[1]: message {i:04} via {device}"))
        .collect()
}

/// `got` holds exactly `want`, each once; a short description of the difference otherwise.
fn same(what: &str, got: &[String], want: &BTreeSet<String>) {
    let set: BTreeSet<String> = got.iter().cloned().collect();
    let missing: Vec<&String> = want.difference(&set).take(3).collect();
    let extra: Vec<&String> = set.difference(want).take(3).collect();
    assert!(
        got.len() == want.len() && missing.is_empty() && extra.is_empty(),
        "{what}: {} lines for {} messages; missing (first) {missing:?}; unexpected (first) {extra:?}",
        got.len(),
        want.len()
    );
}

fn check_local(what: &str, local: &str, device: &str) {
    let want: BTreeSet<String> = (0..N)
        .map(|i| format!("message {i:04} via {device}"))
        .collect();
    let got: Vec<String> = local.lines().map(str::to_string).collect();
    same(&format!("{what}: local file"), &got, &want);
}

#[test]
fn device_lo_delivers_over_tcp_and_udp_like_rsyslogd() {
    let want = expected("lo");
    for bin in [RSYSLOGD, OX] {
        let (tcp, udp, local, err) = run(bin, "lo", Duration::from_secs(60));
        same(&format!("{bin}: TCP lines (stderr: {err})"), &tcp, &want);
        same(
            &format!("{bin}: UDP datagrams (stderr: {err})"),
            &udp,
            &want,
        );
        check_local(bin, &local, "lo");
    }
}

/// The first network interface that is not the loopback one, if any.
fn other_interface() -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names.into_iter().next()
}

#[test]
fn device_without_a_route_to_the_target_delivers_nothing_like_rsyslogd() {
    let Some(dev) = other_interface() else {
        eprintln!("no network interface besides lo: nothing to check");
        return;
    };
    for bin in [RSYSLOGD, OX] {
        // 8 s: a connect through the wrong interface never completes; a socket without the
        // option would deliver within milliseconds
        let (tcp, udp, local, err) = run(bin, &dev, Duration::from_secs(8));
        assert!(
            tcp.is_empty() && udp.is_empty(),
            "{bin}: bound to {dev}, yet {} TCP lines and {} UDP datagrams reached 127.0.0.1; stderr:\n{err}",
            tcp.len(),
            udp.len()
        );
        check_local(bin, &local, &dev);
    }
}

#[test]
fn nonexistent_device_suspends_the_action_and_names_the_device() {
    let dev = "nosuchdev0";
    // valid for both config checks: rsyslog only learns at run time that the device is missing
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.conf"), conf(dir.path(), dev, 9, 9)).unwrap();
    for bin in [RSYSLOGD, OX] {
        let o = std::process::Command::new(bin)
            .args(["-N1", "-f"])
            .arg(dir.path().join("c.conf"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{bin} -N1: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let (rtcp, rudp, rlocal, rerr) = run(RSYSLOGD, dev, Duration::from_secs(3));
    assert!(rtcp.is_empty() && rudp.is_empty());
    assert!(
        rerr.contains("create UDP socket bound to device failed: No such device"),
        "rsyslogd: {rerr}"
    );
    check_local("rsyslogd", &rlocal, dev);
    let (tcp, udp, local, err) = run(OX, dev, Duration::from_secs(3));
    assert!(tcp.is_empty() && udp.is_empty());
    check_local("oxsyslogd", &local, dev);
    for proto in ["TCP", "UDP"] {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("cannot bind the {proto} socket to device '{dev}'")))
            .unwrap_or_else(|| panic!("oxsyslogd: no error naming the device for {proto}:\n{err}"));
        assert!(line.contains("No such device"), "{line}");
    }
    assert!(err.contains("suspended"), "oxsyslogd: {err}");
}
