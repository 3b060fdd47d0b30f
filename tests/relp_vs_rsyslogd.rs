//! RELP (issue #9) against the real rsyslogd 8.2302 with Debian's rsyslog-relp (librelp), over
//! real sockets on 127.0.0.1:
//!
//! - rsyslogd (omrelp) → oxsyslogd (imrelp) and oxsyslogd (omrelp) → rsyslogd (imrelp):
//!   100,000 numbered messages each way; the receiver's file holds exactly the numbers sent;
//! - rsyslogd → oxsyslogd with oxsyslogd killed (SIGKILL) mid-stream and restarted on the same
//!   port: nothing lost, because oxsyslogd acknowledges a message only once its output wrote
//!   it and librelp sends the unacknowledged again; duplicates counted and reported;
//! - oxsyslogd → rsyslogd with rsyslogd killed (SIGKILL) mid-stream and restarted: nothing
//!   lost, oxsyslogd's omrelp sends what was not acknowledged again. (rsyslogd's imrelp
//!   acknowledges when the message is in its main queue, so a killed rsyslogd loses what its
//!   queue held; the receiver runs with a Direct main queue, which writes before it answers.)
//! - the wire: the same hand-written RELP exchanges (open/syslog/close, syslog before open, a
//!   malformed frame, an oversize frame in truncate and abort mode, a transaction number out
//!   of sequence, an unknown command) sent to rsyslogd's imrelp and to oxsyslogd's imrelp get
//!   the same answers, byte for byte (the `relp_software` offer aside); oxsyslogd's error
//!   lines name the peer;
//! - oxsyslogd → oxsyslogd at full speed, the receiver killed with messages in flight: none
//!   lost, duplicates counted; a client that pipelines 20,000 frames without waiting;
//! - legacy `$InputRELPServerRun`/`:omrelp:` and `module(load="imrelp" ruleset=)`,
//!   `localClientIp`, imrelp's impstats counter, each against rsyslogd; unenforced
//!   parameters refused at start;
//! - RELP over TLS both ways against rsyslogd's librelp (gnutls and openssl): auth modes
//!   `name` with permitted peers, `fingerprint` (SHA1 and SHA256), `certvalid`; a client
//!   certificate from another CA and a server whose name is not permitted refused, with one
//!   error line naming the peer; an omfile that cannot write makes oxsyslogd withhold the
//!   acknowledgement, and so does an action queue with no room, so rsyslogd sends again and
//!   nothing is lost.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::Daemon;
use flow::{feed_tcp, numbered_out, port_file, wait_lines, NUMBERED_TEMPLATE};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    std::fs::create_dir_all(dir).unwrap();
    Daemon::start(bin, dir, conf, &["-C"])
}

/// A TCP port that was free a moment ago (imrelp has no port file in 8.2302).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits until something listens on `port`.
fn wait_listening(port: u16, d: &Daemon) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "nothing listens on {port}: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A receiver: imrelp on `port` → `out` with the numbered template. `direct`: a Direct main
/// queue (rsyslogd then writes a message before imrelp acknowledges it).
fn receiver_conf(port: u16, out: &Path, work: &Path, direct: bool) -> String {
    std::fs::create_dir_all(work).unwrap();
    format!(
        "global(workDirectory=\"{}\")\n{}module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{port}\" address=\"127.0.0.1\")\n{NUMBERED_TEMPLATE}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
        work.display(),
        if direct { "main_queue(queue.type=\"Direct\")\n" } else { "" },
        out.display()
    )
}

/// A sender: imtcp (port file `tcp.port`) → omrelp to `port`, retrying forever.
fn sender_conf(port: u16, work: &Path) -> String {
    std::fs::create_dir_all(work).unwrap();
    format!(
        "global(workDirectory=\"{}\")\nmodule(load=\"imtcp\")\nmodule(load=\"omrelp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"tcp.port\")\n*.* action(type=\"omrelp\" target=\"127.0.0.1\" port=\"{port}\" queue.type=\"LinkedList\" queue.size=\"1000000\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n",
        work.display()
    )
}

/// Checks that `content` holds every `numbered_out(tag, 0..n)` at least once and nothing
/// else; returns the number of duplicate lines.
fn check_with_duplicates(content: &[u8], tag: &str, n: usize, what: &str) -> usize {
    let text = String::from_utf8_lossy(content);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for l in text.lines() {
        *seen.entry(l).or_default() += 1;
    }
    let mut missing = Vec::new();
    let mut dups = 0;
    for i in 0..n {
        match seen.remove(numbered_out(tag, i).as_str()) {
            None => missing.push(i),
            Some(k) => dups += k - 1,
        }
    }
    assert!(
        missing.is_empty() && seen.is_empty(),
        "{what}: {} lost (first {:?}), {} unexpected lines (first {:?})",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        seen.len(),
        seen.keys().take(3).collect::<Vec<_>>()
    );
    dups
}

/// Lines in a file.
fn lines(f: &Path) -> usize {
    std::fs::read(f)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn wait_lines_at_least(f: &Path, n: usize, max: Duration) {
    let t = Instant::now();
    while lines(f) < n {
        assert!(
            t.elapsed() < max,
            "{} has {} of {n} lines",
            f.display(),
            lines(f)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

const N: usize = 100_000;

#[test]
fn rsyslogd_to_oxsyslogd_100k() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("ox.out");
    let port = free_port();
    let rx = start(
        OX,
        &t.path().join("ox"),
        &receiver_conf(port, &out, &t.path().join("ox/w"), false),
    );
    wait_listening(port, &rx);
    let tx = start(
        RSYSLOGD,
        &t.path().join("rs"),
        &sender_conf(port, &t.path().join("rs/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, "r2o", 0..N, 1000, Duration::from_millis(1));
    let c = wait_lines(&out, N, 20, 120);
    flow::check_numbered(&c, "r2o", N, "rsyslogd omrelp → oxsyslogd imrelp");
    assert!(!rx.stderr().contains("error"), "{}", rx.stderr());
}

#[test]
fn oxsyslogd_to_rsyslogd_100k() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("rs.out");
    let port = free_port();
    let rx = start(
        RSYSLOGD,
        &t.path().join("rs"),
        &receiver_conf(port, &out, &t.path().join("rs/w"), false),
    );
    wait_listening(port, &rx);
    let tx = start(
        OX,
        &t.path().join("ox"),
        &sender_conf(port, &t.path().join("ox/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, "o2r", 0..N, 1000, Duration::from_millis(1));
    let c = wait_lines(&out, N, 20, 120);
    flow::check_numbered(&c, "o2r", N, "oxsyslogd omrelp → rsyslogd imrelp");
    assert!(tx.stderr().is_empty(), "{}", tx.stderr());
}

/// `sender` forwards N numbered messages (tagged `tag`) with omrelp to `receiver`'s imrelp;
/// the receiver is SIGKILLed once a fifth has arrived and, after `pause`, restarted on the same
/// port. Returns the lines at the kill, the duplicates (none may be missing), and the sender
/// with the directory it runs in.
fn receiver_killed_mid_stream(
    sender: &str,
    receiver: &str,
    tag: &'static str,
    pause: Duration,
    what: &str,
) -> (usize, usize, Daemon, tempfile::TempDir) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("rx.out");
    let port = free_port();
    let conf = receiver_conf(port, &out, &t.path().join("w"), receiver == RSYSLOGD);
    let mut rx = start(receiver, &t.path().join("rx1"), &conf);
    wait_listening(port, &rx);
    let tx = start(
        sender,
        &t.path().join("tx"),
        &sender_conf(port, &t.path().join("tx/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    let feeder =
        std::thread::spawn(move || feed_tcp(tport, tag, 0..N, 500, Duration::from_millis(20)));
    wait_lines_at_least(&out, N / 5, Duration::from_secs(60));
    rx.child.kill().unwrap(); // SIGKILL
    rx.child.wait().unwrap();
    let at_kill = lines(&out);
    std::thread::sleep(pause);
    let rx2 = start(receiver, &t.path().join("rx2"), &conf);
    wait_listening(port, &rx2);
    feeder.join().unwrap();
    let c = wait_lines(&out, N, 20, 180);
    let dups = check_with_duplicates(&c, tag, N, what);
    (at_kill, dups, tx, t)
}

#[test]
fn oxsyslogd_killed_mid_stream_loses_nothing() {
    let (at_kill, dups, _tx, _dir) = receiver_killed_mid_stream(
        RSYSLOGD,
        OX,
        "kill",
        Duration::from_millis(500),
        "rsyslogd → oxsyslogd killed and restarted",
    );
    println!(
        "rsyslogd → oxsyslogd, SIGKILL after {at_kill} lines: 0 lost, {dups} duplicates (sent again by librelp: taken but not yet acknowledged)"
    );
    assert!(at_kill < N, "the kill came after the end of the stream");
}

#[test]
fn rsyslogd_receiver_killed_mid_stream_loses_nothing() {
    let (at_kill, dups, tx, _dir) = receiver_killed_mid_stream(
        OX,
        RSYSLOGD,
        "rkill",
        Duration::from_millis(1500),
        "oxsyslogd → rsyslogd killed and restarted",
    );
    println!(
        "oxsyslogd → rsyslogd, SIGKILL after {at_kill} lines: 0 lost, {dups} duplicates (sent again: written by rsyslogd but not acknowledged)"
    );
    assert!(at_kill < N, "the kill came after the end of the stream");
    assert!(
        tx.stderr().contains("127.0.0.1:"),
        "the outage is reported naming the target: {}",
        tx.stderr()
    );
}

/// rsyslogd (omrelp) → oxsyslogd (imrelp → omfile) while oxsyslogd's output cannot be
/// written, then can again: `broken` makes the output path fail (a symlink to /dev/full:
/// every write ENOSPC; or a directory: every open EISDIR), `heal` makes it a plain file again.
/// oxsyslogd must not acknowledge what it could not write, so librelp sends it again: every
/// message in the file, none lost.
fn output_failure_then_recovery(tag: &str, broken: fn(&Path), heal: fn(&Path)) {
    const M: usize = 5_000;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("ox.out");
    broken(&out);
    let port = free_port();
    let rx = start(
        OX,
        &t.path().join("ox"),
        &receiver_conf(port, &out, &t.path().join("ox/w"), false),
    );
    wait_listening(port, &rx);
    let tx = start(
        RSYSLOGD,
        &t.path().join("rs"),
        &sender_conf(port, &t.path().join("rs/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    let tag2 = tag.to_string();
    // about 4 s of messages; the output is broken for the first 2.5 s
    let feeder =
        std::thread::spawn(move || feed_tcp(tport, &tag2, 0..M, 100, Duration::from_millis(80)));
    std::thread::sleep(Duration::from_millis(2500));
    heal(&out);
    feeder.join().unwrap();
    let c = wait_lines(&out, M, 20, 120);
    let dups = check_with_duplicates(&c, tag, M, "rsyslogd → oxsyslogd with a failing output");
    println!("{tag}: 0 lost, {dups} duplicates");
    let err = rx.stderr();
    assert!(
        err.contains("not acknowledged") && err.contains("127.0.0.1:"),
        "the refusal to acknowledge is reported naming the peer: {err}"
    );
}

#[test]
fn output_write_error_is_not_acknowledged() {
    output_failure_then_recovery(
        "wfail",
        |out| std::os::unix::fs::symlink("/dev/full", out).unwrap(),
        |out| std::fs::remove_file(out).unwrap(),
    );
}

#[test]
fn output_open_error_is_not_acknowledged() {
    output_failure_then_recovery(
        "ofail",
        |out| std::fs::create_dir(out).unwrap(),
        |out| std::fs::remove_dir(out).unwrap(),
    );
}

/// rsyslogd (omrelp) → oxsyslogd (imrelp → omfwd with a 50-message queue) → rsyslogd
/// (imtcp), the last hop down for the first 2.5 s: the forwarding queue fills and drops what
/// does not fit, so oxsyslogd must not acknowledge those batches; librelp sends them again
/// once there is room. Every message arrives.
#[test]
fn full_action_queue_is_not_acknowledged() {
    const M: usize = 3000;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("final.out");
    let (relp_port, tcp_port) = (free_port(), free_port());
    std::fs::create_dir_all(t.path().join("ox/w")).unwrap();
    let rx = start(
        OX,
        &t.path().join("ox"),
        &format!(
            "global(workDirectory=\"{}\")\nmodule(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{relp_port}\" address=\"127.0.0.1\")\n*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{tcp_port}\" protocol=\"tcp\" queue.type=\"LinkedList\" queue.size=\"50\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n",
            t.path().join("ox/w").display()
        ),
    );
    wait_listening(relp_port, &rx);
    let tx = start(
        RSYSLOGD,
        &t.path().join("rs"),
        &sender_conf(relp_port, &t.path().join("rs/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    let feeder =
        std::thread::spawn(move || feed_tcp(tport, "qfull", 0..M, 100, Duration::from_millis(80)));
    std::thread::sleep(Duration::from_millis(2500));
    std::fs::create_dir_all(t.path().join("fin/w")).unwrap();
    let _fin = start(
        RSYSLOGD,
        &t.path().join("fin"),
        &format!(
            "global(workDirectory=\"{}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{tcp_port}\" address=\"127.0.0.1\")\n{NUMBERED_TEMPLATE}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
            t.path().join("fin/w").display(),
            out.display()
        ),
    );
    feeder.join().unwrap();
    let c = wait_lines(&out, M, 20, 120);
    let dups = check_with_duplicates(
        &c,
        "qfull",
        M,
        "rsyslogd → oxsyslogd (full omfwd queue) → rsyslogd",
    );
    println!("qfull: 0 lost, {dups} duplicates");
    let err = rx.stderr();
    assert!(
        err.contains("queue full") && err.contains("not acknowledged"),
        "the full queue and the withheld acknowledgements are reported: {err}"
    );
}

// ---- TLS ------------------------------------------------------------------------------------

/// The `tls*` parameters of one endpoint: its own certificate, the CA, a mode and peers.
fn tls_params(me: &tls_certs::Peer, auth: &str, peers: &[&str], lib_openssl: bool) -> String {
    let c = tls_certs::certs();
    let mut p = format!(
        " tls=\"on\" tls.caCert=\"{}\" tls.myCert=\"{}\" tls.myPrivKey=\"{}\" tls.authMode=\"{auth}\"",
        c.ca.display(),
        me.cert.display(),
        me.key.display()
    );
    if !peers.is_empty() {
        let list: Vec<String> = peers.iter().map(|p| format!("\"{p}\"")).collect();
        p += &format!(" tls.permittedPeer=[{}]", list.join(","));
    }
    if lib_openssl {
        p += " TLSLIB";
    }
    p
}

/// imrelp with `tls` (the module line carries `tls.tlslib` when asked) → `out`; `direct`: a
/// Direct main queue (rsyslogd then writes before it acknowledges).
fn tls_receiver_conf(port: u16, out: &Path, work: &Path, tls: &str, direct: bool) -> String {
    std::fs::create_dir_all(work).unwrap();
    let (tls, lib) = match tls.strip_suffix(" TLSLIB") {
        Some(t) => (t, " tls.tlslib=\"openssl\""),
        None => (tls, ""),
    };
    format!(
        "global(workDirectory=\"{}\")\n{}module(load=\"imrelp\"{lib})\ninput(type=\"imrelp\" port=\"{port}\" address=\"127.0.0.1\"{tls})\n{NUMBERED_TEMPLATE}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
        work.display(),
        if direct {
            "main_queue(queue.type=\"Direct\")\n"
        } else {
            ""
        },
        out.display()
    )
}

/// imtcp (port file `tcp.port`) → omrelp with `tls` to `port`, retrying every second.
fn tls_sender_conf(port: u16, work: &Path, tls: &str) -> String {
    std::fs::create_dir_all(work).unwrap();
    let (tls, lib) = match tls.strip_suffix(" TLSLIB") {
        Some(t) => (t, " tls.tlslib=\"openssl\""),
        None => (tls, ""),
    };
    format!(
        "global(workDirectory=\"{}\")\nmodule(load=\"imtcp\")\nmodule(load=\"omrelp\"{lib})\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"tcp.port\")\n*.* action(type=\"omrelp\" target=\"127.0.0.1\" port=\"{port}\"{tls} queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n",
        work.display()
    )
}

/// `M` numbered messages from `sender` (omrelp) to `receiver` (imrelp) over TLS with the
/// given parameters on each side; every message arrives exactly once.
fn tls_run(sender: &str, receiver: &str, stls: &str, rtls: &str, tag: &str) {
    const M: usize = 2000;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let port = free_port();
    let rx = start(
        receiver,
        &t.path().join("rx"),
        &tls_receiver_conf(
            port,
            &out,
            &t.path().join("rx/w"),
            rtls,
            receiver == RSYSLOGD,
        ),
    );
    common::listening(port);
    let tx = start(
        sender,
        &t.path().join("tx"),
        &tls_sender_conf(port, &t.path().join("tx/w"), stls),
    );
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, tag, 0..M, 500, Duration::from_millis(5));
    let c = wait_lines(&out, M, 5, 60);
    flow::check_numbered(
        &c,
        tag,
        M,
        &format!(
            "{tag}: sender {sender} → receiver {receiver}; sender stderr: {}; receiver stderr: {}",
            tx.stderr(),
            rx.stderr()
        ),
    );
    let ox = if sender == OX { &tx } else { &rx };
    assert!(
        !ox.stderr().contains("error"),
        "{tag}: oxsyslogd reported: {}",
        ox.stderr()
    );
}

#[test]
fn tls_name_mode_both_ways() {
    let c = tls_certs::certs();
    for openssl in [false, true] {
        // the client permits the server by a wildcard, the server the client by its name
        let stls = tls_params(&c.client, "name", &["*.example.net"], openssl);
        let rtls = tls_params(&c.server, "name", &["client.example.net"], openssl);
        tls_run(RSYSLOGD, OX, &stls, &rtls, "tlsname1");
        tls_run(OX, RSYSLOGD, &stls, &rtls, "tlsname2");
        if !openssl {
            // rustls on both sides (TLS 1.3 with client certificates)
            tls_run(OX, OX, &stls, &rtls, "tlsname3");
        }
    }
}

#[test]
fn tls_fingerprint_and_certvalid_modes_both_ways() {
    let c = tls_certs::certs();
    let stls = tls_params(&c.client, "fingerprint", &[&c.server.sha256], false);
    let rtls = tls_params(&c.server, "fingerprint", &[&c.client.sha1], false);
    tls_run(RSYSLOGD, OX, &stls, &rtls, "tlsfp1");
    tls_run(OX, RSYSLOGD, &stls, &rtls, "tlsfp2");
    let stls = tls_params(&c.client, "certvalid", &[], false);
    let rtls = tls_params(&c.server, "certvalid", &[], false);
    tls_run(RSYSLOGD, OX, &stls, &rtls, "tlscv1");
    tls_run(OX, RSYSLOGD, &stls, &rtls, "tlscv2");
}

/// Waits up to 15 s for `needle` in a daemon's stderr.
fn wait_stderr(d: &Daemon, needle: &str) -> String {
    let t = Instant::now();
    loop {
        let e = d.stderr();
        if e.contains(needle) || t.elapsed() > Duration::from_secs(15) {
            return e;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tls_wrong_certificates_are_refused_naming_the_peer() {
    let c = tls_certs::certs();
    // rsyslogd presents a client certificate of another CA to oxsyslogd's imrelp
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let port = free_port();
    let rx = start(
        OX,
        &t.path().join("rx"),
        &tls_receiver_conf(
            port,
            &out,
            &t.path().join("rx/w"),
            &tls_params(&c.server, "name", &["client.example.net"], false),
            false,
        ),
    );
    common::listening(port);
    let tx = start(
        RSYSLOGD,
        &t.path().join("tx"),
        &tls_sender_conf(
            port,
            &t.path().join("tx/w"),
            &tls_params(&c.wrong_client, "name", &["server.example.net"], false),
        ),
    );
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, "wrongca", 0..10, 10, Duration::from_millis(1));
    let err = wait_stderr(&rx, "TLS handshake with 127.0.0.1:");
    let line = err
        .lines()
        .find(|l| l.contains("TLS handshake with 127.0.0.1:"))
        .unwrap_or_else(|| panic!("no refusal reported: {err}"));
    assert!(
        line.contains("failed (server, x509/name)") && line.contains("unknown CA"),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lines(&out), 0, "a refused client delivered messages");
    drop(tx);
    drop(rx);

    // oxsyslogd's omrelp meets a server whose name it does not permit
    let port = free_port();
    let _rx = start(
        RSYSLOGD,
        &t.path().join("rx2"),
        &tls_receiver_conf(
            port,
            &t.path().join("out2"),
            &t.path().join("rx2/w"),
            &tls_params(&c.server, "name", &["client.example.net"], false),
            true,
        ),
    );
    common::listening(port);
    let tx = start(
        OX,
        &t.path().join("tx2"),
        &tls_sender_conf(
            port,
            &t.path().join("tx2/w"),
            &tls_params(&c.client, "name", &["logs.example.com"], false),
        ),
    );
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, "wrongname", 0..10, 10, Duration::from_millis(1));
    let needle = format!("TLS handshake with 127.0.0.1:{port} failed (client, x509/name)");
    let err = wait_stderr(&tx, &needle);
    let line = err
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("no refusal reported: {err}"));
    assert!(
        line.contains("name not permitted") && line.contains("server.example.net"),
        "{line}"
    );
    assert_eq!(lines(&t.path().join("out2")), 0);
}

/// `-N1` reads and checks the TLS files of imrelp and omrelp as the start does.
#[test]
fn tls_files_are_checked_by_config_check() {
    let c = tls_certs::certs();
    let t = tempfile::tempdir().unwrap();
    let good = tls_params(&c.server, "name", &["client.example.net"], false);
    let missing = t.path().join("missing.pem");
    let bad = good.replace(
        &c.server.cert.display().to_string(),
        &missing.display().to_string(),
    );
    for (tls_in, tls_out, ok) in [
        (&good, &good, true),
        (&bad, &good, false),
        (&good, &bad, false),
    ] {
        let f = t.path().join("t.conf");
        std::fs::write(
            &f,
            format!("module(load=\"imrelp\")\nmodule(load=\"omrelp\")\ninput(type=\"imrelp\" port=\"0\"{tls_in})\n*.* action(type=\"omrelp\" target=\"127.0.0.1\" port=\"1\"{tls_out})\n"),
        )
        .unwrap();
        let o = std::process::Command::new(OX)
            .args(["-N1", "-f"])
            .arg(&f)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.success(), ok, "{tls_in} / {tls_out}: {err}");
        if !ok {
            assert!(
                err.contains(&missing.display().to_string())
                    && err.contains(&format!("{}:", f.display())),
                "{err}"
            );
        }
    }
}

// ---- the wire ------------------------------------------------------------------------------

/// Sends `script` to `port` in one write, then reads until the server closes or is quiet for
/// 1.5 s; the answer with the `relp_software` offer masked.
fn exchange(port: u16, script: &[u8]) -> String {
    let mut s = common::connect(port);
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    s.write_all(script).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                got.extend_from_slice(b"<EOF>");
                break;
            }
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    // the offer's value names the software; its length changes the frame's DATALEN
    text.lines()
        .map(|l| {
            if l.starts_with("relp_software=") {
                return "relp_software=*".to_string();
            }
            // the answer to open: its DATALEN depends on the software offer
            let f: Vec<&str> = l.splitn(4, ' ').collect();
            if f.len() == 4 && f[1] == "rsp" && f[3] == "200 OK" && f[2] != "6" {
                return format!("{} rsp * 200 OK", f[0]);
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn syslog_frame(txnr: u32, msg: &str) -> Vec<u8> {
    format!("{txnr} syslog {} {msg}\n", msg.len()).into_bytes()
}

const OFFERS: &str =
    "relp_version=0\nrelp_software=testclient,1.0,http://example.org\ncommands=syslog";

fn open_frame(txnr: u32) -> Vec<u8> {
    format!("{txnr} open {} {OFFERS}\n", OFFERS.len()).into_bytes()
}

fn scripts() -> Vec<(&'static str, Vec<u8>)> {
    let msg = |i: u32| format!("<13>Nov 23 10:00:00 host1 wire[1]: message {i}");
    let mut normal = open_frame(1);
    for i in 2..5 {
        normal.extend(syslog_frame(i, &msg(i)));
    }
    normal.extend_from_slice(b"5 close 0\n");
    let before_open = syslog_frame(1, &msg(1));
    let mut malformed = open_frame(1);
    malformed.extend(syslog_frame(2, &msg(2)));
    malformed.extend_from_slice(b"3 syslog 5 abc\n");
    let mut big = open_frame(1);
    big.extend(syslog_frame(
        2,
        &format!("<13>Nov 23 10:00:00 host1 wire[1]: {}", "x".repeat(9000)),
    ));
    big.extend(syslog_frame(3, &msg(3)));
    big.extend_from_slice(b"4 close 0\n");
    let mut seq = open_frame(1);
    seq.extend(syslog_frame(2, &msg(2)));
    seq.extend(syslog_frame(5, &msg(5)));
    seq.extend(syslog_frame(6, &msg(6)));
    let mut unknown = open_frame(1);
    unknown.extend_from_slice(b"2 frobnicate 0\n");
    let mut reopen = open_frame(1);
    reopen.extend(open_frame(2));
    let open_with = |offers: &str| format!("1 open {} {offers}\n", offers.len()).into_bytes();
    let no_syslog = open_with("relp_version=0");
    let bad_version = open_with("relp_version=x\ncommands=syslog");
    vec![
        ("open, three messages, close", normal),
        ("open without the syslog command", no_syslog),
        ("open with an invalid relp_version", bad_version),
        ("syslog before open", before_open),
        ("malformed frame", malformed),
        ("oversize frame", big),
        ("txnr out of sequence", seq),
        ("unknown command", unknown),
        ("open twice", reopen),
    ]
}

/// imrelp on a free port with `params`; the received messages in `out`.
fn wire_conf(port: u16, params: &str, out: &Path, work: &Path) -> String {
    std::fs::create_dir_all(work).unwrap();
    format!(
        "global(workDirectory=\"{}\")\nmodule(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{port}\" address=\"127.0.0.1\" {params})\ntemplate(name=\"len\" type=\"string\" string=\"%msg%\\n\")\n*.* action(type=\"omfile\" file=\"{}\" template=\"len\")\n",
        work.display(),
        out.display()
    )
}

#[test]
fn wire_answers_match_librelp() {
    for (mode, params) in [("truncate", ""), ("abort", "oversizeMode=\"abort\"")] {
        let t = tempfile::tempdir().unwrap();
        let (rs_out, ox_out) = (t.path().join("rs.out"), t.path().join("ox.out"));
        let (rs_port, ox_port) = (free_port(), free_port());
        let rs = start(
            RSYSLOGD,
            &t.path().join("rs"),
            &wire_conf(rs_port, params, &rs_out, &t.path().join("rs/w")),
        );
        let ox = start(
            OX,
            &t.path().join("ox"),
            &wire_conf(ox_port, params, &ox_out, &t.path().join("ox/w")),
        );
        wait_listening(rs_port, &rs);
        wait_listening(ox_port, &ox);
        for (name, script) in scripts() {
            if mode == "abort" && name != "oversize frame" {
                continue;
            }
            let want = exchange(rs_port, &script);
            let got = exchange(ox_port, &script);
            assert_eq!(got, want, "{name} ({mode}): oxsyslogd vs rsyslogd");
            assert!(
                want.contains("rsp"),
                "{name}: rsyslogd answered nothing: {want}"
            );
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            common::read_lossy(&ox_out),
            common::read_lossy(&rs_out),
            "messages written ({mode})"
        );
        let err = ox.stderr();
        for needle in ["127.0.0.1:", "session closed"] {
            assert!(err.contains(needle), "{mode}: {err}");
        }
        for l in err.lines() {
            assert!(l.starts_with("oxsyslogd: "), "one line per error: {l}");
        }
    }
}

/// The legacy forms: `$InputRELPServerRun` with `$InputRELPServerBindRuleset` on the
/// receiver, `:omrelp:host:port;template` on the sender — oxsyslogd to oxsyslogd, and the
/// same sender config to rsyslogd's legacy receiver; then `module(load="imrelp"
/// ruleset=…)` as the inputs' default ruleset, in both daemons.
#[test]
fn legacy_directives() {
    const M: usize = 2000;
    for (receiver, module_form) in [(OX, false), (RSYSLOGD, false), (OX, true), (RSYSLOGD, true)] {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        let port = free_port();
        std::fs::create_dir_all(t.path().join("w")).unwrap();
        let rconf = if module_form {
            format!(
                "global(workDirectory=\"{w}\")\nmodule(load=\"imrelp\" ruleset=\"relp\")\n{NUMBERED_TEMPLATE}\nruleset(name=\"relp\") {{ action(type=\"omfile\" file=\"{out}\" template=\"numbered\") }}\ninput(type=\"imrelp\" port=\"{port}\")\n",
                w = t.path().join("w").display(),
                out = out.display()
            )
        } else {
            format!(
                "$WorkDirectory {w}\n$ModLoad imrelp\n{NUMBERED_TEMPLATE}\n$RuleSet relp\n*.* {out};numbered\n$RuleSet RSYSLOG_DefaultRuleset\n$InputRELPServerBindRuleset relp\n$InputRELPServerRun {port}\n",
                w = t.path().join("w").display(),
                out = out.display()
            )
        };
        let rx = start(receiver, &t.path().join("rx"), &rconf);
        wait_listening(port, &rx);
        let sconf = format!(
            "$ModLoad imtcp\n$ModLoad omrelp\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"tcp.port\")\n$ActionQueueType LinkedList\n$ActionResumeRetryCount -1\n*.* :omrelp:127.0.0.1:{port};RSYSLOG_ForwardFormat\n"
        );
        let tx = start(OX, &t.path().join("tx"), &sconf);
        let tport = port_file(&tx, "tcp.port");
        feed_tcp(tport, "legacy", 0..M, 500, Duration::from_millis(1));
        let c = wait_lines(&out, M, 10, 60);
        flow::check_numbered(&c, "legacy", M, &format!("legacy omrelp → {receiver}"));
    }
}

/// TLS and the other parameters the runtime does not enforce are refused at start, located.
#[test]
fn unenforced_parameters_are_refused_at_start() {
    for (conf, needle) in [
        (
            "module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"0\" tls=\"on\")\n*.* /dev/null\n",
            "anonymous TLS",
        ),
        (
            "module(load=\"omrelp\")\n*.* action(type=\"omrelp\" target=\"127.0.0.1\" tls=\"on\" tls.authMode=\"name\")\n",
            "anonymous TLS",
        ),
        (
            "module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"0\" tls=\"on\" tls.myCert=\"/dev/null\" tls.myPrivKey=\"/dev/null\" tls.compression=\"on\")\n*.* /dev/null\n",
            "tls.compression",
        ),
        (
            "module(load=\"omrelp\")\n*.* action(type=\"omrelp\" target=\"127.0.0.1\" tls=\"on\" tls.myCert=\"/dev/null\" tls.myPrivKey=\"/dev/null\" tls.prioritystring=\"NORMAL\")\n",
            "tls.prioritystring",
        ),
        (
            "module(load=\"imrelp\" tls.tlsLib=\"nss\")\ninput(type=\"imrelp\" port=\"0\")\n*.* /dev/null\n",
            "tls.tlslib 'nss'",
        ),
    ] {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("t.conf");
        std::fs::write(&f, conf).unwrap();
        let o = std::process::Command::new(OX)
            .args(["-n", "-iNONE", "-f"])
            .arg(&f)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{conf}: started");
        assert!(
            err.contains(&format!("{}:", f.display()))
                && err.to_lowercase().contains(&needle.to_lowercase()),
            "{conf}: {err}"
        );
    }
}

/// oxsyslogd → oxsyslogd at full speed, the receiver killed (SIGKILL) while messages are in
/// flight and restarted: none lost, duplicates counted.
#[test]
fn oxsyslogd_to_oxsyslogd_receiver_killed_at_full_speed() {
    const M: usize = 300_000;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("ox.out");
    let port = free_port();
    let conf = receiver_conf(port, &out, &t.path().join("w"), false);
    let mut rx = start(OX, &t.path().join("rx1"), &conf);
    wait_listening(port, &rx);
    let tx = start(
        OX,
        &t.path().join("tx"),
        &sender_conf(port, &t.path().join("tx/w")),
    );
    let tport = port_file(&tx, "tcp.port");
    let feeder =
        std::thread::spawn(move || feed_tcp(tport, "fast", 0..M, 5000, Duration::from_millis(1)));
    wait_lines_at_least(&out, M / 4, Duration::from_secs(60));
    rx.child.kill().unwrap(); // SIGKILL
    rx.child.wait().unwrap();
    let at_kill = lines(&out);
    let rx2 = start(OX, &t.path().join("rx2"), &conf);
    wait_listening(port, &rx2);
    feeder.join().unwrap();
    let c = wait_lines(&out, M, 20, 180);
    if lines(&out) < M {
        eprintln!(
            "sender:\n{}\nreceiver before the kill:\n{}\nreceiver after:\n{}",
            tx.stderr(),
            rx.stderr(),
            rx2.stderr()
        );
    }
    let dups = check_with_duplicates(&c, "fast", M, "oxsyslogd → oxsyslogd killed and restarted");
    println!("oxsyslogd → oxsyslogd, SIGKILL after {at_kill} lines: 0 lost, {dups} duplicates");
    assert!(at_kill < M, "the kill came after the end of the stream");
}

/// `localClientIp`: the receiver sees the connection come from that address, for rsyslogd's
/// omrelp and for oxsyslogd's alike.
#[test]
fn local_client_ip() {
    let mut seen = Vec::new();
    for sender in [RSYSLOGD, OX] {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        let port = free_port();
        std::fs::create_dir_all(t.path().join("w")).unwrap();
        let rconf = format!(
            "global(workDirectory=\"{}\")\nmodule(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{port}\")\ntemplate(name=\"ip\" type=\"string\" string=\"%fromhost-ip% %msg%\\n\")\n*.* action(type=\"omfile\" file=\"{}\" template=\"ip\")\n",
            t.path().join("w").display(),
            out.display()
        );
        let rx = start(RSYSLOGD, &t.path().join("rx"), &rconf);
        wait_listening(port, &rx);
        let sconf = sender_conf(port, &t.path().join("tx/w")).replace(
            "action(type=\"omrelp\"",
            "action(type=\"omrelp\" localClientIp=\"127.0.0.2\"",
        );
        let tx = start(sender, &t.path().join("tx"), &sconf);
        let tport = port_file(&tx, "tcp.port");
        feed_tcp(tport, "lip", 0..10, 10, Duration::from_millis(1));
        let c = wait_lines(&out, 10, 10, 30);
        seen.push(String::from_utf8_lossy(&c).into_owned());
    }
    println!("{}", seen[1].lines().next().unwrap_or_default());
    assert!(seen[0].starts_with("127.0.0.2 "), "rsyslogd: {}", seen[0]);
    assert_eq!(seen[1], seen[0], "oxsyslogd vs rsyslogd");
}

/// impstats: imrelp's `name(port)` object with its `submitted` counter, as rsyslogd has it.
#[test]
fn impstats_counter() {
    let mut seen = Vec::new();
    for bin in [RSYSLOGD, OX] {
        let t = tempfile::tempdir().unwrap();
        let port = free_port();
        std::fs::create_dir_all(t.path().join("w")).unwrap();
        let stats = t.path().join("stats");
        let conf = format!(
            "global(workDirectory=\"{}\")\nmodule(load=\"impstats\" interval=\"1\" log.file=\"{}\" log.syslog=\"off\")\nmodule(load=\"imrelp\")\ninput(type=\"imrelp\" name=\"relpin\" port=\"{port}\")\n*.* action(type=\"omfile\" file=\"{}\")\n",
            t.path().join("w").display(),
            stats.display(),
            t.path().join("out").display()
        );
        let d = start(bin, &t.path().join("d"), &conf);
        wait_listening(port, &d);
        let mut script = open_frame(1);
        for i in 2..7 {
            script.extend(syslog_frame(i, &format!("<13>Nov 23 10:00:00 h t: m{i}")));
        }
        script.extend_from_slice(b"7 close 0\n");
        exchange(port, &script);
        let want = format!("relpin({port}): origin=imrelp submitted=5");
        assert!(
            common::wait_for(&stats, &want),
            "{bin}: {}",
            common::read_lossy(&stats)
        );
        let line = common::read_lossy(&stats)
            .lines()
            .find(|l| l.contains(&want))
            .map(|l| l[l.find("relpin(").unwrap_or(0)..].replace(&port.to_string(), "PORT"))
            .unwrap_or_default();
        seen.push(line);
    }
    assert_eq!(seen[1], seen[0], "oxsyslogd vs rsyslogd");
}

/// A client that does not wait for answers (20,000 frames in one write) meets the session's
/// window: every message is written and acknowledged once, in order.
#[test]
fn pipelining_client_is_held_by_the_window() {
    const M: u32 = 20_000;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("ox.out");
    let port = free_port();
    let d = start(
        OX,
        &t.path().join("ox"),
        &receiver_conf(port, &out, &t.path().join("w"), false),
    );
    wait_listening(port, &d);
    let mut s = common::connect(port);
    let mut script = open_frame(1);
    for i in 0..M {
        script.extend(syslog_frame(
            i + 2,
            &flow::numbered_line("pipe", i as usize),
        ));
    }
    script.extend(format!("{} close 0\n", M + 2).into_bytes());
    let mut r = s.try_clone().unwrap();
    r.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let _ = r.read_to_end(&mut got);
        got
    });
    s.write_all(&script).unwrap();
    let got = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let acks: Vec<&str> = got
        .lines()
        .filter(|l| l.ends_with(" rsp 6 200 OK"))
        .collect();
    assert_eq!(acks.len(), M as usize, "acknowledgements");
    for (i, a) in acks.iter().enumerate() {
        assert_eq!(*a, format!("{} rsp 6 200 OK", i + 2));
    }
    assert!(
        got.ends_with(&format!("{} rsp 0\n0 serverclose 0\n", M + 2)),
        "{}",
        &got[got.len().saturating_sub(80)..]
    );
    flow::check_numbered(
        &std::fs::read(&out).unwrap(),
        "pipe",
        M as usize,
        "pipelined",
    );
}
