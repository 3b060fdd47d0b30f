//! omfwd (issue #7) against the real rsyslogd 8.2302, over real sockets on 127.0.0.1 and ::1:
//!
//! - interop: oxsyslogd → rsyslogd and rsyslogd → oxsyslogd over TCP (traditional and
//!   octet-counted framing, 100,000 messages each) and UDP (5,000 paced messages: loopback
//!   UDP drops datagrams when a receiver's socket buffer overflows, which says nothing about
//!   either daemon); the receiver's file must hold exactly the sequence numbers sent, in order;
//! - the bytes on the wire: the same messages forwarded by rsyslogd and by oxsyslogd (legacy
//!   `@`, `@@(o)`, `[v6]:port` and `action()` forms, four templates, a message longer than
//!   maxMessageSize) are captured by the test's own listeners and must be identical;
//! - a target that refuses connections three times (20 s, 3 s, 3 s) while 100,000 messages
//!   flow: all delivered, in order, no duplicates;
//! - a failover chain: primary down → the secondary receives, primary back → primary again;
//! - a dead (refusing) and a stuck (never reading) target do not stop a local omfile action,
//!   and what could not be delivered is reported at shutdown.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    Daemon::start(bin, dir, conf, &["-C"])
}

/// The port a daemon wrote to `dir/name` (listenPortFileName).
fn port_file(d: &Daemon, name: &str) -> u16 {
    let t = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(d.dir.join(name))
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

/// A UDP port that was free a moment ago (imudp has no port file).
fn free_udp_port(v6: bool) -> u16 {
    let s = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
    s.local_addr().unwrap().port()
}

fn line(i: usize) -> String {
    format!("<134>Nov 23 10:00:00 host1 app[7]: seq={i:07} some text to forward")
}

/// Sends `lines` to a daemon's imtcp, LF-framed, `per` lines every `pause`.
fn feed(port: u16, range: std::ops::Range<usize>, per: usize, pause: Duration) {
    let mut s = common::connect(port);
    let mut buf = Vec::new();
    for i in range {
        buf.extend_from_slice(line(i).as_bytes());
        buf.push(b'\n');
        if (i + 1) % per == 0 {
            s.write_all(&buf).unwrap();
            buf.clear();
            std::thread::sleep(pause);
        }
    }
    s.write_all(&buf).unwrap();
}

/// The sequence numbers in `text`, in order.
fn seqs(text: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    for l in text.split(|&b| b == b'\n') {
        if let Some(p) = memchr_seq(l) {
            let digits: String = l[p + 4..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| b as char)
                .collect();
            if let Ok(n) = digits.parse() {
                v.push(n);
            }
        }
    }
    v
}

fn memchr_seq(l: &[u8]) -> Option<usize> {
    l.windows(4).position(|w| w == b"seq=")
}

/// Waits until `file` holds `n` lines (at most `secs`); returns its sequence numbers.
fn wait_seqs(file: &Path, n: usize, secs: u64) -> Vec<usize> {
    let t = Instant::now();
    loop {
        let c = std::fs::read(file).unwrap_or_default();
        let lines = c.iter().filter(|&&b| b == b'\n').count();
        if lines >= n || t.elapsed() > Duration::from_secs(secs) {
            return seqs(&c);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Accepts the sender's connection and reads until it holds a whole line (5 s at most):
/// the connection and the sequence numbers read.
fn accept_first_line(l: &TcpListener) -> (TcpStream, Vec<usize>) {
    let (mut c, _) = l.accept().unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut data = Vec::new();
    let mut b = [0u8; 4096];
    while !data.ends_with(b"\n") {
        let n = c.read(&mut b).unwrap();
        data.extend_from_slice(&b[..n]);
    }
    (c, seqs(&data))
}

/// Checks that `got` is exactly 0..n in order; describes the first difference.
fn check_exact(got: &[usize], n: usize, what: &str) {
    if got.len() == n && got.iter().enumerate().all(|(i, s)| i == *s) {
        return;
    }
    let first = got
        .iter()
        .enumerate()
        .find(|(i, s)| i != *s)
        .map(|(i, s)| format!("position {i} holds {s}"));
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    panic!(
        "{what}: {} messages received ({} distinct) of {n}; first difference: {:?}",
        got.len(),
        sorted.len(),
        first
    );
}

const RECEIVER_TCP: &str = r#"
module(load="imtcp")
input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="rport")
template(name="m" type="string" string="%msg%\n")
*.* action(type="omfile" file="out" template="m")
"#;

/// A sender: imtcp (port file `sport`) → `action`.
fn sender_conf(action: &str) -> String {
    format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"sport\")\n{action}\n"
    )
}

/// `sender` forwards `n` messages over TCP with `framing` to `receiver`.
fn tcp_interop(sender: &str, receiver: &str, framing: &str, queue: &str, n: usize) {
    let t0 = Instant::now();
    let rdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    let mut r = start(receiver, rdir.path(), RECEIVER_TCP);
    let rport = port_file(&r, "rport");
    let mut s = start(
        sender,
        sdir.path(),
        &sender_conf(&format!(
            "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{rport}\" protocol=\"tcp\" TCP_Framing=\"{framing}\" {queue})"
        )),
    );
    let sport = port_file(&s, "sport");
    feed(sport, 0..n, 10_000, Duration::from_millis(1));
    let got = wait_seqs(&rdir.path().join("out"), n, 120);
    let what = format!("{sender} → {receiver} tcp {framing}");
    check_exact(&got, n, &what);
    assert!(s.stop(), "{what}: sender did not stop: {}", s.stderr());
    assert!(r.stop());
    eprintln!("{what}: {n} messages in {:?}", t0.elapsed());
}

#[test]
fn tcp_ox_to_rsyslogd_traditional() {
    tcp_interop(OX, RSYSLOGD, "traditional", "", 100_000);
}

#[test]
fn tcp_ox_to_rsyslogd_octet_counted_linkedlist() {
    tcp_interop(
        OX,
        RSYSLOGD,
        "octet-counted",
        "queue.type=\"LinkedList\" queue.size=\"5000\" queue.dequeueBatchSize=\"256\"",
        100_000,
    );
}

#[test]
fn tcp_rsyslogd_to_ox_traditional() {
    tcp_interop(RSYSLOGD, OX, "traditional", "", 100_000);
}

#[test]
fn tcp_rsyslogd_to_ox_octet_counted() {
    tcp_interop(RSYSLOGD, OX, "octet-counted", "", 100_000);
}

/// UDP both ways, over IPv4 (legacy `@host:port`) and IPv6 (`@[::1]:port`).
#[test]
fn udp_both_ways_v4_and_v6() {
    const N: usize = 5_000;
    for (sender, receiver) in [(OX, RSYSLOGD), (RSYSLOGD, OX)] {
        for v6 in [false, true] {
            let rdir = tempfile::tempdir().unwrap();
            let sdir = tempfile::tempdir().unwrap();
            let port = free_udp_port(v6);
            let addr = if v6 { "::1" } else { "127.0.0.1" };
            let mut r = start(
                receiver,
                rdir.path(),
                &format!(
                    "module(load=\"imudp\")\ninput(type=\"imudp\" port=\"{port}\" address=\"{addr}\" rcvbufSize=\"4m\")\ntemplate(name=\"m\" type=\"string\" string=\"%msg%\\n\")\n*.* action(type=\"omfile\" file=\"out\" template=\"m\")\n"
                ),
            );
            // imudp has no port file: wait until a probe datagram arrives
            let probe = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).unwrap();
            let t = Instant::now();
            while std::fs::read(rdir.path().join("out"))
                .unwrap_or_default()
                .is_empty()
            {
                let _ = probe.send_to(b"<13>Nov 23 10:00:00 h p: probe", (addr, port));
                assert!(t.elapsed() < Duration::from_secs(15), "{}", r.stderr());
                std::thread::sleep(Duration::from_millis(50));
            }
            let target = if v6 {
                format!("[::1]:{port}")
            } else {
                format!("127.0.0.1:{port}")
            };
            let mut s = start(sender, sdir.path(), &sender_conf(&format!("*.* @{target}")));
            let sport = port_file(&s, "sport");
            feed(sport, 0..N, 100, Duration::from_millis(10));
            let got = wait_seqs(&rdir.path().join("out"), N + 1, 30);
            check_exact(&got, N, &format!("{sender} → {receiver} udp {target}"));
            assert!(s.stop());
            assert!(r.stop());
        }
    }
}

/// What the test's listeners captured: TCP streams and UDP datagrams.
#[derive(Clone, Default)]
struct Capture {
    tcp: Arc<Mutex<Vec<u8>>>,
    udp: Arc<Mutex<Vec<Vec<u8>>>>,
}

fn capture_tcp(l: TcpListener) -> Capture {
    let c = Capture::default();
    let buf = c.tcp.clone();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut b = [0u8; 65536];
            while let Ok(n) = s.read(&mut b) {
                if n == 0 {
                    break;
                }
                buf.lock().unwrap().extend_from_slice(&b[..n]);
            }
        }
    });
    c
}

fn capture_udp(s: UdpSocket) -> Capture {
    let c = Capture::default();
    let d = c.udp.clone();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let mut b = vec![0u8; 65536];
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if let Ok(n) = s.recv(&mut b) {
                d.lock().unwrap().push(b[..n].to_vec());
            }
        }
    });
    c
}

/// Messages with a timestamp and a host name (so nothing depends on the reception clock).
fn wire_messages() -> Vec<String> {
    let long = "x".repeat(8030);
    let mut v = vec![
        "<134>Nov 23 10:00:00 host1 app[7]: plain message".to_string(),
        "<13>Nov  3 01:02:03 host2 su: pam_unix(su:session): session opened".to_string(),
        "<165>Nov 23 10:00:00 host3 averyveryverylongtagnamethatgoesonandon[12345]: long tag".to_string(),
        "<30>Nov 23 10:00:00 host4 tag:no space after colon".to_string(),
        "<14>Nov 23 10:00:00 host5 tag:    leading spaces".to_string(),
        "<14>Nov 23 10:00:00 host6 tag: utf-8 ünïcödé ✓ and a tab\there".to_string(),
        "<14>Nov 23 10:00:00 host7 tag: control \x01\x02 chars".to_string(),
        "<165>1 2026-11-23T10:00:00.123456+01:00 h5424 app 99 ID47 [ex@32473 iut=\"3\" eventSource=\"App\"] an RFC 5424 message".to_string(),
        "<165>1 2026-11-23T10:00:00Z h5424b app - - - no structured data".to_string(),
        format!("<14>Nov 23 10:00:00 host8 big: {long}"),
        "<191>Nov 23 10:00:00 host9 local7debug: severity 7 facility 23".to_string(),
    ];
    for (i, m) in v.iter_mut().enumerate() {
        m.push_str(&format!(" seq={i:07}"));
    }
    v
}

/// Runs one daemon that forwards `wire_messages()` four ways to fresh listeners; returns the
/// captures (TCP octet-counted v4, TCP traditional v6, UDP v6, UDP v4 with a custom template).
fn forward_once(bin: &str) -> Vec<Vec<u8>> {
    let l1 = TcpListener::bind("127.0.0.1:0").unwrap();
    let l2 = TcpListener::bind("[::1]:0").unwrap();
    let u3 = UdpSocket::bind("[::1]:0").unwrap();
    let u4 = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (p1, p2, p3, p4) = (
        l1.local_addr().unwrap().port(),
        l2.local_addr().unwrap().port(),
        u3.local_addr().unwrap().port(),
        u4.local_addr().unwrap().port(),
    );
    let caps = [
        capture_tcp(l1),
        capture_tcp(l2),
        capture_udp(u3),
        capture_udp(u4),
    ];
    let dir = tempfile::tempdir().unwrap();
    let conf = sender_conf(&format!(
        "template(name=\"custom\" type=\"string\" string=\"%pri-text% %hostname% %syslogtag% [%msg:F,61:2%]%msg%\")\n\
         *.* @@(o)127.0.0.1:{p1}\n\
         *.* @@[::1]:{p2};RSYSLOG_ForwardFormat\n\
         *.* @[::1]:{p3};RSYSLOG_SyslogProtocol23Format\n\
         *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{p4}\" protocol=\"udp\" template=\"custom\")\n"
    ));
    let mut d = start(bin, dir.path(), &conf);
    let port = port_file(&d, "sport");
    let msgs = wire_messages();
    let mut s = common::connect(port);
    for m in &msgs {
        s.write_all(m.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
    }
    drop(s);
    let last = format!("seq={:07}", msgs.len() - 1);
    let t = Instant::now();
    loop {
        let tcp_done = caps[..2].iter().all(|c| {
            let b = c.tcp.lock().unwrap();
            String::from_utf8_lossy(&b).contains(&last)
        });
        let udp_done = caps[2..]
            .iter()
            .all(|c| c.udp.lock().unwrap().len() >= msgs.len());
        if tcp_done && udp_done {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{bin} did not forward everything: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.stop());
    std::thread::sleep(Duration::from_millis(100));
    caps.iter()
        .map(|c| {
            let mut v = c.tcp.lock().unwrap().clone();
            for d in c.udp.lock().unwrap().iter() {
                v.extend_from_slice(d);
                v.extend_from_slice(b"\n--datagram end--\n");
            }
            v
        })
        .collect()
}

#[test]
fn forwarded_bytes_identical_to_rsyslogd() {
    let theirs = forward_once(RSYSLOGD);
    let ours = forward_once(OX);
    let names = [
        "@@(o) octet-counted v4 (TraditionalForwardFormat)",
        "@@[::1] traditional (ForwardFormat)",
        "@[::1] udp (SyslogProtocol23Format)",
        "action() udp custom template",
    ];
    for ((t, o), name) in theirs.iter().zip(&ours).zip(names) {
        assert!(!t.is_empty(), "{name}: rsyslogd sent nothing");
        if t != o {
            let short = |l: &[u8]| {
                let l = String::from_utf8_lossy(l);
                l.chars().take(300).collect::<String>()
            };
            let (tl, ol): (Vec<&[u8]>, Vec<&[u8]>) = (
                t.split(|&b| b == b'\n').collect(),
                o.split(|&b| b == b'\n').collect(),
            );
            let diffs: Vec<String> = tl
                .iter()
                .zip(ol.iter())
                .filter(|(a, b)| a != b)
                .take(5)
                .map(|(a, b)| format!("rsyslogd:  {}\noxsyslogd: {}", short(a), short(b)))
                .collect();
            panic!(
                "{name} differs ({} vs {} bytes, {} vs {} lines)\n{}",
                t.len(),
                o.len(),
                tl.len(),
                ol.len(),
                diffs.join("\n")
            );
        }
    }
}

/// A receiver that goes away (refusing connections) and comes back, once after each
/// message count in `at`; it closes gracefully: no more accepts, then it half-closes the
/// connection and reads what the sender still wrote until the sender closes.
fn flaky_receiver(
    port: u16,
    at: Vec<(usize, Duration)>,
    total: usize,
    out: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut at = at.into_iter().peekable();
        let t = Instant::now();
        let lines =
            |out: &Arc<Mutex<Vec<u8>>>| out.lock().unwrap().iter().filter(|&&c| c == b'\n').count();
        while lines(&out) < total && t.elapsed() < Duration::from_secs(120) {
            let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut b = vec![0u8; 65536];
            loop {
                match s.read(&mut b) {
                    Ok(0) => break,
                    Ok(n) => out.lock().unwrap().extend_from_slice(&b[..n]),
                    Err(_) => {}
                }
                let have = lines(&out);
                if have >= total || t.elapsed() > Duration::from_secs(120) {
                    return;
                }
                if at.peek().is_some_and(|(n, _)| have >= *n) {
                    let outage = at.next().unwrap().1;
                    // from here on connections are refused
                    drop(l);
                    let _ = s.shutdown(Shutdown::Write);
                    break_listener_then_drain(&mut s, &out);
                    std::thread::sleep(outage);
                    break;
                }
            }
        }
    })
}

fn break_listener_then_drain(s: &mut TcpStream, out: &Arc<Mutex<Vec<u8>>>) {
    let mut b = vec![0u8; 65536];
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        match s.read(&mut b) {
            Ok(0) => return,
            Ok(n) => out.lock().unwrap().extend_from_slice(&b[..n]),
            Err(_) => {}
        }
    }
}

#[test]
fn three_outages_lose_nothing() {
    const N: usize = 100_000;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Arc::new(Mutex::new(Vec::new()));
    let recv = flaky_receiver(
        port,
        vec![
            (15_000, Duration::from_secs(20)),
            (45_000, Duration::from_secs(3)),
            (75_000, Duration::from_secs(3)),
        ],
        N,
        out.clone(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut d = start(
        OX,
        dir.path(),
        &sender_conf(&format!(
            "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" queue.type=\"LinkedList\" queue.size=\"200000\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")"
        )),
    );
    let sport = port_file(&d, "sport");
    let t0 = Instant::now();
    // 100,000 messages over about 10 s: the outages fall in the middle of the stream
    feed(sport, 0..N, 1_000, Duration::from_millis(100));
    recv.join().unwrap();
    let got = seqs(&out.lock().unwrap());
    check_exact(&got, N, "three outages");
    let err = d.stderr();
    assert!(err.contains("Connection refused"), "{err}");
    assert!(d.stop());
    eprintln!("three outages: {N} messages in {:?}", t0.elapsed());
}

#[test]
fn failover_to_secondary_and_back() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut d = start(
        OX,
        dir.path(),
        &sender_conf(&format!(
            "template(name=\"m\" type=\"string\" string=\"%msg%\\n\")\n\
             *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" action.resumeInterval=\"1\")\n\
             & action(type=\"omfile\" file=\"secondary\" template=\"m\" action.execOnlyWhenPreviousIsSuspended=\"on\")\n"
        )),
    );
    let sport = port_file(&d, "sport");
    let primary = Arc::new(Mutex::new(Vec::new()));
    let mut s = common::connect(sport);
    let mut send = |r: std::ops::Range<usize>| {
        for i in r {
            s.write_all(format!("{}\n", line(i)).as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let count = |b: &Arc<Mutex<Vec<u8>>>| seqs(&b.lock().unwrap());
    // phase 1: primary up
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let serve = |l: TcpListener, stop: Arc<AtomicBool>, out: Arc<Mutex<Vec<u8>>>| {
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            c.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let mut b = vec![0u8; 65536];
            loop {
                match c.read(&mut b) {
                    Ok(0) => return,
                    Ok(n) => out.lock().unwrap().extend_from_slice(&b[..n]),
                    Err(_) => {}
                }
                if stop.load(Ordering::SeqCst) {
                    drop(l);
                    let _ = c.shutdown(Shutdown::Write);
                    break_listener_then_drain(&mut c, &out);
                    return;
                }
            }
        })
    };
    let h = serve(l, stop.clone(), primary.clone());
    send(0..100);
    std::thread::sleep(Duration::from_millis(300));
    // phase 2: primary goes away (its thread reads until the sender closes)
    stop.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    send(100..300);
    h.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let sec_file = dir.path().join("secondary");
    let secondary = seqs(&std::fs::read(&sec_file).unwrap_or_default());
    // phase 3: primary is back; after its suspension (1 s) it takes over again
    let stop2 = Arc::new(AtomicBool::new(false));
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let h = serve(l, stop2.clone(), primary.clone());
    std::thread::sleep(Duration::from_millis(2500));
    send(300..400);
    std::thread::sleep(Duration::from_millis(500));
    let p = count(&primary);
    let sec_after = seqs(&std::fs::read(&sec_file).unwrap_or_default());
    assert!(d.stop());
    stop2.store(true, Ordering::SeqCst);
    let _ = h.join();
    let err = d.stderr();
    // primary: everything before the outage and everything after its return
    assert!(
        (0..100).all(|i| p.contains(&i)),
        "primary before the outage: {p:?}\n{err}"
    );
    assert!(
        (300..400).all(|i| p.contains(&i)),
        "primary after its return: {p:?}\n{err}"
    );
    // secondary: the outage, and nothing after the primary's return
    assert_eq!(
        secondary, sec_after,
        "secondary wrote after the primary came back"
    );
    assert!(
        secondary.iter().all(|i| (100..300).contains(i)),
        "{secondary:?}"
    );
    let lost: Vec<usize> = (100..300)
        .filter(|i| !p.contains(i) && !secondary.contains(i))
        .collect();
    assert!(
        secondary.len() >= 190 && lost.is_empty(),
        "secondary {} messages, lost {lost:?}\n{err}",
        secondary.len()
    );
    assert!(err.contains("suspended (module 'builtin:omfwd')"), "{err}");
    assert!(err.contains("resumed (module 'builtin:omfwd')"), "{err}");
}

#[test]
fn dead_and_stuck_targets_do_not_stop_local_files() {
    const N: usize = 100_000;
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // accepts, never reads: the sender's socket buffers fill and its writes block
    let stuck = TcpListener::bind("127.0.0.1:0").unwrap();
    let stuck_port = stuck.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || {
        let c = stuck.accept().map(|(c, _)| c);
        std::thread::sleep(Duration::from_secs(20));
        drop(c);
    });
    let pad = "p".repeat(1000);
    let dir = tempfile::tempdir().unwrap();
    let mut d = start(
        OX,
        dir.path(),
        &sender_conf(&format!(
            "template(name=\"m\" type=\"string\" string=\"%msg%\\n\")\n\
             template(name=\"big\" type=\"string\" string=\"%msg% {pad}\\n\")\n\
             *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{dead}\" protocol=\"tcp\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n\
             *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{dead}\" protocol=\"tcp\" queue.type=\"LinkedList\" queue.size=\"100\" action.resumeRetryCount=\"-1\")\n\
             *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{stuck_port}\" protocol=\"tcp\" template=\"big\" queue.type=\"FixedArray\" queue.size=\"1000\")\n\
             *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{stuck_port}\" protocol=\"tcp\" template=\"big\")\n\
             *.* action(type=\"omfile\" file=\"local\" template=\"m\")\n"
        )),
    );
    let sport = port_file(&d, "sport");
    let t0 = Instant::now();
    feed(sport, 0..N, 10_000, Duration::from_millis(1));
    let got = wait_seqs(&dir.path().join("local"), N, 30);
    let took = t0.elapsed();
    check_exact(&got, N, "local file beside dead and stuck targets");
    assert!(took < Duration::from_secs(15), "local file took {took:?}");
    let t1 = Instant::now();
    assert!(d.stop(), "daemon did not stop within 10 s: {}", d.stderr());
    let err = d.stderr();
    assert!(
        err.contains("were not delivered at shutdown"),
        "no shutdown report: {err}"
    );
    assert!(err.contains("queue full"), "{err}");
    eprintln!(
        "local file: {N} messages in {took:?}, stop in {:?}",
        t1.elapsed()
    );
    drop(hold);
}

/// What the runtime does not implement is refused at start with its location, and so is a
/// disk queue without a file name (`Disk`) or without a work directory (as rsyslog).
#[test]
fn disk_queue_and_worker_threads_are_refused_at_start() {
    for (params, what) in [
        ("queue.type=\"Disk\"", "queue.type"),
        (
            "queue.type=\"LinkedList\" queue.filename=\"q\"",
            "queue.filename",
        ),
        // several workers need a queue (src/output/actq_pool.rs)
        (
            "queue.type=\"Direct\" queue.workerThreads=\"2\"",
            "queue.workerThreads",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            OX,
            dir.path(),
            &format!("*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"9\" protocol=\"tcp\" {params})\n"),
        );
        let t = Instant::now();
        while d.child.try_wait().unwrap().is_none() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "it started: {params}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let err = d.stderr();
        assert!(err.contains("d.conf:1:"), "{params}: {err}");
        assert!(err.contains(what), "{params}: {err}");
        let _ = d.stop();
    }
}

/// impstats' action counters of omfwd: a dead Direct target is suspended once (its
/// messages are `failed`), a live one fails nothing.
#[test]
fn impstats_counts_failed_and_suspended() {
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let live_port = live.local_addr().unwrap().port();
    let cap = capture_tcp(live);
    let dir = tempfile::tempdir().unwrap();
    let mut d = start(
        OX,
        dir.path(),
        &sender_conf(&format!(
            "module(load=\"impstats\" interval=\"1\" format=\"json\" log.syslog=\"off\" log.file=\"{}/stats\")\n\
             *.* action(type=\"omfwd\" name=\"dead\" target=\"127.0.0.1\" port=\"{dead}\" protocol=\"tcp\" action.resumeInterval=\"30\")\n\
             *.* action(type=\"omfwd\" name=\"live\" target=\"127.0.0.1\" port=\"{live_port}\" protocol=\"tcp\")\n",
            dir.path().display()
        )),
    );
    let sport = port_file(&d, "sport");
    feed(sport, 0..50, 10, Duration::from_millis(20));
    let t = Instant::now();
    let counters = |name: &str| -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(dir.path().join("stats")).unwrap_or_default();
        text.lines()
            .rev()
            // each line: a time stamp, then the JSON object
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l[l.find('{')?..]).ok())
            .find(|v| v["name"] == name)
    };
    loop {
        let done = counters("dead").is_some_and(|v| v["failed"] == 50 && v["suspended"] == 1)
            && counters("live").is_some_and(|v| v["processed"] == 50);
        if done {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "counters: {:?} {:?}\n{}",
            counters("dead"),
            counters("live"),
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let dead_c = counters("dead").unwrap();
    let live_c = counters("live").unwrap();
    assert_eq!(dead_c["processed"], 50, "{dead_c}");
    assert_eq!(dead_c["resumed"], 0, "{dead_c}");
    assert_eq!(dead_c["suspended.duration"], 30, "{dead_c}");
    assert_eq!(live_c["failed"], 0, "{live_c}");
    assert!(d.stop());
    assert_eq!(seqs(&cap.tcp.lock().unwrap()), (0..50).collect::<Vec<_>>());
}

/// The receiver (rsyslogd) is killed with SIGKILL mid-stream and restarted on the same
/// port: plain TCP cannot say what the dead receiver had taken, so the loss is measured and
/// reported, not prevented (RELP closes this, issue #9); the order is kept, and everything
/// sent after the restart arrives.
#[test]
fn receiver_killed_mid_stream_loss_is_measured() {
    const N: usize = 50_000;
    const AFTER: usize = 10_000;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rdir = tempfile::tempdir().unwrap();
    let rconf = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")\n\
         template(name=\"m\" type=\"string\" string=\"%msg%\\n\")\n*.* action(type=\"omfile\" file=\"out\" template=\"m\")\n"
    );
    let mut r = start(RSYSLOGD, rdir.path(), &rconf);
    let sdir = tempfile::tempdir().unwrap();
    let mut s = start(
        OX,
        sdir.path(),
        &sender_conf(&format!(
            "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" queue.type=\"LinkedList\" queue.size=\"100000\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")"
        )),
    );
    let sport = port_file(&s, "sport");
    let out = rdir.path().join("out");
    let feeder = std::thread::spawn(move || feed(sport, 0..N, 1_000, Duration::from_millis(100)));
    wait_seqs(&out, 10_000, 30);
    let _ = r.child.kill();
    let _ = r.child.wait();
    std::thread::sleep(Duration::from_secs(2));
    let mut r = start(RSYSLOGD, rdir.path(), &rconf);
    feeder.join().unwrap();
    feed(sport, N..N + AFTER, 1_000, Duration::from_millis(10));
    let t = Instant::now();
    let got = loop {
        let got = seqs(&std::fs::read(&out).unwrap_or_default());
        if got.last() == Some(&(N + AFTER - 1)) || t.elapsed() > Duration::from_secs(30) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut distinct = got.clone();
    distinct.dedup();
    let dups = got.len() - distinct.len();
    assert!(
        distinct.windows(2).all(|w| w[0] < w[1]),
        "order not kept across the restart"
    );
    let lost = N - distinct.iter().filter(|&&x| x < N).count();
    eprintln!("receiver SIGKILLed mid-stream: {lost} of {N} messages lost, {dups} duplicates");
    assert!(
        (N..N + AFTER).all(|i| distinct.binary_search(&i).is_ok()),
        "messages sent after the restart are missing ({} received)\n{}",
        distinct.len(),
        s.stderr()
    );
    assert!(lost < N / 2, "lost {lost}");
    assert!(s.stop());
    assert!(r.stop());
}

/// `rebindInterval`: how many messages each TCP connection / UDP source port carries, the
/// same as rsyslogd's split (tcpclt.c and omfwd.c count differently).
#[test]
fn rebind_interval_splits_like_rsyslogd() {
    fn run(bin: &str) -> (Vec<usize>, Vec<usize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp_port = l.local_addr().unwrap().port();
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_port = u.local_addr().unwrap().port();
        u.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        const N: usize = 10;
        // TCP: messages per connection, connections taken one after the other
        let tcp = std::thread::spawn(move || {
            let mut per_conn = Vec::new();
            let mut total = 0;
            while total < N {
                let (mut c, _) = l.accept().unwrap();
                let mut data = Vec::new();
                let _ = c.read_to_end(&mut data);
                let n = seqs(&data).len();
                per_conn.push(n);
                total += n;
            }
            per_conn
        });
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tcp_port}\" protocol=\"tcp\" rebindInterval=\"4\")\n\
                 *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{udp_port}\" protocol=\"udp\" rebindInterval=\"4\")\n"
            )),
        );
        let sport = port_file(&d, "sport");
        feed(sport, 0..N, 1, Duration::from_millis(20));
        // UDP: messages per source port, in order
        let mut per_port: Vec<(u16, usize)> = Vec::new();
        let mut b = [0u8; 9000];
        for _ in 0..N {
            let (_, from) = u.recv_from(&mut b).unwrap();
            match per_port.last_mut() {
                Some((p, n)) if *p == from.port() => *n += 1,
                _ => per_port.push((from.port(), 1)),
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(d.stop());
        let tcp = tcp.join().unwrap();
        (tcp, per_port.into_iter().map(|(_, n)| n).collect())
    }
    let theirs = run(RSYSLOGD);
    let ours = run(OX);
    assert_eq!(theirs, ours, "(tcp per connection, udp per source port)");
    eprintln!("rebindInterval=4, 10 messages: {ours:?}");
    assert!(ours.0.len() > 1 && ours.1.len() > 1, "{ours:?}");
}

/// `resendLastMSGOnReconnect`: the receiver closes the connection after the first message;
/// the next ones go over a new connection. rsyslogd 8.2302 notices the closed connection
/// before it writes (CheckConnection) and resends nothing then, with or without the option;
/// so does oxsyslogd (it resends the last frame only after a write that failed).
#[test]
fn resend_last_message_on_reconnect_like_rsyslogd() {
    fn run(bin: &str, resend: bool) -> Vec<Vec<usize>> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" resendLastMSGOnReconnect=\"{}\")\n",
                if resend { "on" } else { "off" }
            )),
        );
        let sport = port_file(&d, "sport");
        let mut conns = Vec::new();
        // first connection: one message, then the receiver closes it
        feed(sport, 0..1, 1, Duration::ZERO);
        let (c, first) = accept_first_line(&l);
        conns.push(first);
        drop(c);
        std::thread::sleep(Duration::from_millis(300));
        feed(sport, 1..3, 1, Duration::from_millis(100));
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let mut data = Vec::new();
        let mut b = [0u8; 4096];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
            data.extend_from_slice(&b[..n]);
        }
        conns.push(seqs(&data));
        assert!(d.stop());
        conns
    }
    for resend in [true, false] {
        let theirs = run(RSYSLOGD, resend);
        let ours = run(OX, resend);
        assert_eq!(theirs, ours, "resendLastMSGOnReconnect={resend}");
        eprintln!("resendLastMSGOnReconnect={resend}: {ours:?}");
    }
}

/// impstats of forwarding actions against rsyslogd: the same objects in the same order (an
/// omfwd `TCP-host-port`/`UDP-host-port` object with `bytes.sent` before each omfwd
/// action, an `<action> queue` object for a LinkedList action queue after resource-usage)
/// and the same deterministic values, all traffic delivered.
#[test]
fn impstats_objects_of_forwarding_like_rsyslogd() {
    const N: usize = 100;
    let tl = TcpListener::bind("127.0.0.1:0").unwrap();
    let tport = tl.local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(0usize));
    {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for c in tl.incoming() {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    let Ok(mut c) = c else { return };
                    let mut b = [0u8; 65536];
                    while let Ok(n) = c.read(&mut b) {
                        if n == 0 {
                            return;
                        }
                        *lines.lock().unwrap() += b[..n].iter().filter(|&&x| x == b'\n').count();
                    }
                });
            }
        });
    }
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    let uport = u.local_addr().unwrap().port();
    let datagrams = Arc::new(Mutex::new(0usize));
    {
        let datagrams = datagrams.clone();
        std::thread::spawn(move || {
            let mut b = [0u8; 9000];
            while u.recv(&mut b).is_ok() {
                *datagrams.lock().unwrap() += 1;
            }
        });
    }
    let run = |bin: &str| -> Vec<serde_json::Value> {
        *lines.lock().unwrap() = 0;
        *datagrams.lock().unwrap() = 0;
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "module(load=\"impstats\" interval=\"1\" format=\"json\" log.syslog=\"off\" log.file=\"{}/stats\")\n\
                 *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tport}\" protocol=\"tcp\" queue.type=\"LinkedList\" queue.size=\"500\")\n\
                 *.* action(type=\"omfwd\" name=\"fwd-direct\" target=\"127.0.0.1\" port=\"{tport}\" protocol=\"tcp\" TCP_Framing=\"octet-counted\")\n\
                 *.* @127.0.0.1:{uport}\n",
                dir.path().display()
            )),
        );
        let sport = port_file(&d, "sport");
        feed(sport, 0..N, N, Duration::ZERO);
        let t = Instant::now();
        // the traditional-framed TCP action: N lines; octet-counted frames carry no LF
        while *lines.lock().unwrap() < N || *datagrams.lock().unwrap() < N {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "{bin}: not delivered"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // two more statistics intervals; read before the shutdown (whose last block lacks
        // the inputs, already stopped, in rsyslogd)
        std::thread::sleep(Duration::from_millis(2500));
        let text = std::fs::read_to_string(dir.path().join("stats")).unwrap();
        assert!(d.stop());
        let objs: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(&l[l.find('{')?..]).ok())
            .collect();
        // the last complete block: from the last "dynstats" object to "main Q"
        let start = objs
            .iter()
            .rposition(|o| o["origin"] == "dynstats" && o["name"] == "global")
            .unwrap();
        let start = if objs[start..].iter().any(|o| o["name"] == "main Q") {
            start
        } else {
            objs[..start - 1]
                .iter()
                .rposition(|o| o["origin"] == "dynstats")
                .unwrap()
        };
        let end = start
            + objs[start..]
                .iter()
                .position(|o| o["name"] == "main Q")
                .unwrap();
        objs[start - 1..=end].iter().skip(1).cloned().collect()
    };
    let theirs = run(RSYSLOGD);
    let ours = run(OX);
    // resource usage and queue sizes depend on the process and the moment
    let shape = |objs: &[serde_json::Value]| -> Vec<String> {
        objs.iter()
            .map(|o| {
                let m = o.as_object().unwrap();
                let vals: Vec<String> = m
                    .iter()
                    .map(|(k, v)| {
                        let timing = o["origin"] == "impstats"
                            || k == "size"
                            || k == "maxqsize"
                            || (o["name"] == "main Q" && k == "enqueued");
                        if timing {
                            k.clone()
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect();
                vals.join(" ")
            })
            .collect()
    };
    let (t, o) = (shape(&theirs), shape(&ours));
    assert!(
        t == o,
        "impstats differ\n--- rsyslogd ---\n{}\n--- oxsyslogd ---\n{}",
        t.join("\n"),
        o.join("\n")
    );
}

/// `resendLastMSGOnReconnect` after a write that failed: the receiver resets the connection
/// (SO_LINGER 0: an RST, no end-of-stream a peek would see first) after the first message, so
/// the sender's next write fails; what each new connection then receives (the last message
/// again or not, and the new ones) must be the same as with rsyslogd, with and without the
/// option.
#[test]
fn resend_after_failed_write_like_rsyslogd() {
    resend_after_reset(false);
}

/// The same with messages longer than rsyslog's 16 KiB send buffer: each is written as
/// it comes (omfwd.c `TCPSendFrame`), so the failed write happens inside tcpclt.c's `Send`,
/// whose one retry reconnects and resends the last message first.
#[test]
fn resend_after_failed_write_of_long_messages_like_rsyslogd() {
    resend_after_reset(true);
}

fn resend_after_reset(long: bool) {
    fn run(bin: &str, resend: bool, long: bool) -> Vec<Vec<usize>> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &format!(
                "global(maxMessageSize=\"64k\")\n{}",
                sender_conf(&format!(
                    "template(name=\"t\" type=\"string\" string=\"%msg%{}\\n\")\n*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" resendLastMSGOnReconnect=\"{}\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\" template=\"t\")\n",
                    if long { "%msg%".repeat(600) } else { String::new() },
                    if resend { "on" } else { "off" }
                ))
            ),
        );
        let sport = port_file(&d, "sport");
        let mut conns = Vec::new();
        feed(sport, 0..1, 1, Duration::ZERO);
        let (c, first) = accept_first_line(&l);
        conns.push(first);
        // reset, not close: the sender only learns it when it writes
        nix::sys::socket::setsockopt(
            &c,
            nix::sys::socket::sockopt::Linger,
            &libc::linger {
                l_onoff: 1,
                l_linger: 0,
            },
        )
        .unwrap();
        drop(c);
        std::thread::sleep(Duration::from_millis(300));
        feed(sport, 1..3, 1, Duration::from_millis(300));
        l.set_nonblocking(false).unwrap();
        let t = Instant::now();
        // every connection that comes within 4 s, in order
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Ok((mut c, _)) = l.accept() {
                c.set_read_timeout(Some(Duration::from_millis(1500)))
                    .unwrap();
                let mut data = Vec::new();
                let mut b = [0u8; 4096];
                while let Ok(n) = c.read(&mut b) {
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&b[..n]);
                }
                if tx.send(seqs(&data)).is_err() {
                    return;
                }
            }
        });
        while t.elapsed() < Duration::from_secs(4) {
            if let Ok(s) = rx.recv_timeout(Duration::from_millis(100)) {
                conns.push(s);
            }
        }
        assert!(d.stop());
        conns
    }
    for resend in [true, false] {
        let theirs = run(RSYSLOGD, resend, long);
        let ours = run(OX, resend, long);
        eprintln!("resendLastMSGOnReconnect={resend}: rsyslogd {theirs:?}, oxsyslogd {ours:?}");
        assert!(theirs.len() > 1, "rsyslogd did not reconnect: {theirs:?}");
        assert_eq!(theirs, ours, "resendLastMSGOnReconnect={resend}");
    }
}

/// omfwd's UDP socket options against rsyslogd: `address` binds the source address (the
/// receiver sees 127.0.0.2), with `udp.sendbuf` and `device="lo"` set; the datagrams and
/// their source address must be the same for both daemons.
#[test]
fn udp_source_address_like_rsyslogd() {
    fn run(bin: &str) -> Vec<(std::net::IpAddr, Vec<u8>)> {
        let r = UdpSocket::bind("127.0.0.1:0").unwrap();
        r.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let port = r.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"udp\" address=\"127.0.0.2\" udp.sendbuf=\"262144\" device=\"lo\" ipfreebind=\"0\")\n"
            )),
        );
        let sport = port_file(&d, "sport");
        feed(sport, 0..5, 1, Duration::from_millis(50));
        let mut got = Vec::new();
        let mut b = vec![0u8; 65536];
        let t = Instant::now();
        while got.len() < 5 && t.elapsed() < Duration::from_secs(10) {
            if let Ok((n, from)) = r.recv_from(&mut b) {
                got.push((from.ip(), b[..n].to_vec()));
            }
        }
        assert!(d.stop());
        got
    }
    let theirs = run(RSYSLOGD);
    let ours = run(OX);
    assert_eq!(theirs.len(), 5, "rsyslogd sent {theirs:?}");
    assert_eq!(theirs[0].0.to_string(), "127.0.0.2");
    assert_eq!(ours, theirs);
}

/// omfwd's `ratelimit.interval`/`ratelimit.burst` against rsyslogd: 20 messages at once with
/// at most 5 per 10 s: the receiver gets the same 5 from both daemons.
#[test]
fn ratelimit_like_rsyslogd() {
    fn run(bin: &str) -> Vec<usize> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" ratelimit.interval=\"10\" ratelimit.burst=\"5\")\n"
            )),
        );
        let sport = port_file(&d, "sport");
        feed(sport, 0..20, 20, Duration::ZERO);
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        let mut data = Vec::new();
        let mut b = [0u8; 4096];
        while let Ok(n) = c.read(&mut b) {
            if n == 0 {
                break;
            }
            data.extend_from_slice(&b[..n]);
        }
        assert!(d.stop());
        seqs(&data)
    }
    let theirs = run(RSYSLOGD);
    let ours = run(OX);
    assert_eq!(theirs, (0..5).collect::<Vec<_>>(), "rsyslogd");
    assert_eq!(ours, theirs);
}

/// `action.resumeIntervalMax` caps a suspension (action.c `actionSuspend`): a dead target
/// with `resumeInterval="30"` and `resumeIntervalMax="4"` is suspended for 4 s by oxsyslogd.
/// rsyslogd 8.2302 ignores the parameter (action.c compares the lower-cased name with
/// "action.resumeintervalMax") and suspends for 30 s: a deliberate difference (README); the
/// rest of the counters is the same.
#[test]
fn resume_interval_max_caps_suspension_rsyslogd_ignores_it() {
    fn run(bin: &str) -> (serde_json::Value, serde_json::Value) {
        let dead = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let mut d = start(
            bin,
            dir.path(),
            &sender_conf(&format!(
                "module(load=\"impstats\" interval=\"1\" format=\"json\" log.syslog=\"off\" log.file=\"{}/stats\")\n\
                 *.* action(type=\"omfwd\" name=\"dead\" target=\"127.0.0.1\" port=\"{dead}\" protocol=\"tcp\" action.resumeInterval=\"30\" action.resumeIntervalMax=\"4\" action.reportSuspensionContinuation=\"off\")\n",
                dir.path().display()
            )),
        );
        let sport = port_file(&d, "sport");
        feed(sport, 0..5, 5, Duration::ZERO);
        let t = Instant::now();
        let dead_obj = || -> Option<serde_json::Value> {
            let text = std::fs::read_to_string(dir.path().join("stats")).unwrap_or_default();
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l[l.find('{')?..]).ok())
                .find(|v| v["name"] == "dead" && v["suspended"] == 1)
        };
        let got = loop {
            if let Some(v) = dead_obj() {
                break v;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{}", d.stderr());
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(d.stop());
        (got["suspended.duration"].clone(), got["failed"].clone())
    }
    let theirs = run(RSYSLOGD);
    let ours = run(OX);
    assert_eq!(
        theirs.0, 30,
        "rsyslogd 8.2302 ignores resumeIntervalMax: {theirs:?}"
    );
    assert_eq!(ours.0, 4, "oxsyslogd: {ours:?}");
    assert_eq!(ours.1, theirs.1, "failed");
}
