//! TLS negative matrix (issue #8): every bad peer is refused, oxsyslogd says why in one
//! stderr line (peer ip:port, auth mode, the reason), and keeps serving a good connection
//! afterwards. Both roles:
//!
//! - oxsyslogd as the TLS server (imtcp) against bad clients (`openssl s_client`, and
//!   rsyslogd gtls/ossl omfwd): wrong CA, expired, not yet valid, revoked (CRL), no client
//!   certificate, name not permitted, fingerprint mismatch, a plain client on the TLS port, a
//!   TLS client on a plain port, and handshakes that never complete (nothing sent / half a
//!   ClientHello); after each, a good client's line is logged;
//! - oxsyslogd as the TLS client (omfwd) against bad servers (rsyslogd gtls with a wrong-CA,
//!   expired, not-yet-valid, revoked, unpermitted-name or unpermitted-fingerprint certificate,
//!   one that wants a client certificate the sender lacks, a plain rsyslogd listener, a socket
//!   that never answers): nothing is delivered there, each is reported with the server's
//!   ip:port, and a good action in the same daemon delivers every message; a TLS server that
//!   stops reading blocks neither a local action nor the shutdown;
//! - `-N1` and start-up: missing key file, unreadable key file, encrypted keys, not PEM, key
//!   not matching the certificate: non-zero exit and the file named;
//!   a group/other-readable key is warned about; keys are read before privileges are dropped.
//!
//! The same server- and client-role sequences run against rsyslogd (`reference_*`, without
//! the CRL, which 8.2302 does not have) to show each bad peer is one rsyslogd refuses too.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;
#[path = "common/tls_conf.rs"]
mod tls_conf;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Daemon;
use tls_certs::{certs, Peer};
use tls_conf::{Auth, Tls};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    Daemon::start(bin, dir, conf, &["-C"])
}

fn is_ox(bin: &str) -> bool {
    bin == OX
}

/// `openssl s_client` to 127.0.0.1:`port` trusting `ca`, presenting `peer` if any, sending
/// `line`; stdin stays open 300 ms so the line is written before the close; at most 15 s.
fn s_client(port: u16, ca: &Path, peer: Option<&Peer>, line: &str) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-quiet", "-no_ign_eof", "-CAfile"])
        .arg(ca);
    if let Some(p) = peer {
        cmd.arg("-cert").arg(&p.cert).arg("-key").arg(&p.key);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(format!("{line}\n").as_bytes());
    std::thread::sleep(Duration::from_millis(300));
    drop(stdin);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(15) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The syslog line a test client sends, tagged by `what`.
fn msg(what: &str) -> String {
    format!("<13>Nov 23 10:00:00 tlsclient neg: {}", logged(what))
}

/// The part of [`msg`] the receiver's file shows.
fn logged(what: &str) -> String {
    format!("case={what} end")
}

/// Waits (at most `secs`) until oxsyslogd's stderr, from byte `since` on, has a line with
/// `phrase`, `peer` (an "ip:port" or just "127.0.0.1:") and every string in `also`; returns
/// that line.
fn wait_stderr_line(
    d: &Daemon,
    since: usize,
    phrase: &str,
    peer: &str,
    also: &[&str],
    secs: u64,
) -> String {
    let t = Instant::now();
    loop {
        let err = d.stderr();
        let new = err.get(since..).unwrap_or("");
        if let Some(l) = new
            .lines()
            .find(|l| l.contains(phrase) && l.contains(peer) && also.iter().all(|a| l.contains(a)))
        {
            return l.to_string();
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "no new stderr line with {phrase:?}, {peer:?} and {also:?}; stderr:\n{err}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The CA file: with the CRL appended for oxsyslogd (rsyslogd 8.2302 has no CRLs).
fn ca_for(bin: &str) -> PathBuf {
    if is_ox(bin) {
        certs().ca_with_crl.clone()
    } else {
        certs().ca.clone()
    }
}

/// A TLS receiver (`bin`, `driver`) in `auth` mode with the good server certificate and
/// `peers`.
fn tls_server(
    bin: &str,
    driver: &'static str,
    dir: &Path,
    auth: Auth,
    peers: Vec<String>,
) -> (Daemon, u16) {
    let c = certs();
    let t = Tls {
        driver,
        auth,
        ca: Some(ca_for(bin)),
        cert: Some(c.server.cert.clone()),
        key: Some(c.server.key.clone()),
        peers,
        extra_global: String::new(),
    };
    let d = start(bin, dir, &tls_conf::receiver(dir, &t));
    let port = flow::port_file(&d, "rport");
    (d, port)
}

/// What a bad client does, given the server's port and the line to send.
type ClientFn = Box<dyn Fn(u16, &str)>;

/// One bad client: what it does, and what oxsyslogd must say about it.
struct BadClient {
    case: &'static str,
    phrase: &'static str,
    /// Strings the error line must also carry (names, fingerprints).
    also: Vec<String>,
    run: ClientFn,
}

fn s_client_bad(case: &'static str, phrase: &'static str, peer: Option<Peer>) -> BadClient {
    let ca = certs().ca.clone();
    BadClient {
        case,
        phrase,
        also: vec![],
        run: Box::new(move |port, line| {
            s_client(port, &ca, peer.as_ref(), line);
        }),
    }
}

/// Runs each bad client against a server, then a good client; the bad lines must not be
/// logged, the good ones must; with oxsyslogd, each bad client must be named on stderr.
fn server_sequence(
    bin: &str,
    driver: &'static str,
    auth: Auth,
    peers: Vec<String>,
    good: Option<Peer>,
    bad: Vec<BadClient>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (mut d, port) = tls_server(bin, driver, dir.path(), auth, peers);
    let out = dir.path().join("out");
    let ca = certs().ca.clone();
    for (i, b) in bad.iter().enumerate() {
        let bad = format!("bad-{}", b.case);
        let since = d.stderr().len();
        (b.run)(port, &msg(&bad));
        if is_ox(bin) {
            let also: Vec<&str> = std::iter::once(auth.as_str())
                .chain(b.also.iter().map(String::as_str))
                .collect();
            let l = wait_stderr_line(&d, since, b.phrase, "127.0.0.1:", &also, 30);
            eprintln!("{}: {l}", b.case);
        }
        let good_case = format!("good-after-{}-{i}", b.case);
        s_client(port, &ca, good.as_ref(), &msg(&good_case));
        assert!(
            common::wait_for(&out, &logged(&good_case)),
            "{bin} {}: the good client after '{}' was not logged; stderr:\n{}",
            auth.as_str(),
            b.case,
            d.stderr()
        );
        let text = common::read_lossy(&out);
        assert!(
            !text.contains(&logged(&bad)),
            "{bin} {}: the bad client '{}' was logged",
            auth.as_str(),
            b.case
        );
    }
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
}

fn certvalid_bad_clients(bin: &str) -> Vec<BadClient> {
    let c = certs();
    let mut v = vec![
        s_client_bad("wrong-ca", "unknown CA", Some(c.wrong_client.clone())),
        s_client_bad(
            "expired",
            "certificate expired",
            Some(c.expired_client.clone()),
        ),
        s_client_bad(
            "not-yet-valid",
            "certificate not yet valid",
            Some(c.notyet_client.clone()),
        ),
        s_client_bad("no-client-cert", "no client certificate", None),
        BadClient {
            case: "plain-client",
            phrase: "plain (non-TLS) client on TLS listener",
            also: vec![],
            run: Box::new(|port, line| {
                let mut s = common::connect(port);
                let _ = s.write_all(format!("{line}\n").as_bytes());
                let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
                let mut b = [0u8; 256];
                let _ = s.read(&mut b);
            }),
        },
        BadClient {
            case: "rsyslogd-gtls-wrong-ca",
            phrase: "unknown CA",
            also: vec![],
            run: Box::new(|port, line| rsyslogd_client("gtls", port, line, &certs().wrong_client)),
        },
        BadClient {
            case: "rsyslogd-ossl-expired",
            phrase: "certificate expired",
            also: vec![],
            run: Box::new(|port, line| {
                rsyslogd_client("ossl", port, line, &certs().expired_client)
            }),
        },
    ];
    if is_ox(bin) {
        // rsyslogd 8.2302 has no CRL, and gtls has no handshake timeout (rsyslog #5539)
        v.push(s_client_bad(
            "revoked",
            "certificate revoked",
            Some(c.revoked_client.clone()),
        ));
        v.push(BadClient {
            case: "silent-client",
            phrase: "handshake timeout",
            also: vec![],
            run: Box::new(|port, _| stalled_handshake(port, &[])),
        });
        v.push(BadClient {
            case: "half-client-hello",
            phrase: "handshake timeout",
            also: vec![],
            // a TLS record header announcing 512 bytes of ClientHello, and 4 of them
            run: Box::new(|port, _| {
                stalled_handshake(
                    port,
                    &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc],
                )
            }),
        });
    }
    v
}

/// Connects, sends `bytes`, and waits until the server drops the connection (at most 30 s).
fn stalled_handshake(port: u16, bytes: &[u8]) {
    let mut s = common::connect(port);
    s.write_all(bytes).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut b = [0u8; 256];
    let t = Instant::now();
    while let Ok(n) = s.read(&mut b) {
        if n == 0 || t.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
}

/// rsyslogd (`driver`, x509/certvalid) forwarding `line` to 127.0.0.1:`port` with `peer`'s
/// certificate; runs 3 s, then stops.
fn rsyslogd_client(driver: &'static str, port: u16, line: &str, peer: &Peer) {
    let c = certs();
    let dir = tempfile::tempdir().unwrap();
    let t = Tls {
        driver,
        auth: Auth::CertValid,
        ca: Some(c.ca.clone()),
        cert: Some(peer.cert.clone()),
        key: Some(peer.key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    let mut d = start(
        RSYSLOGD,
        dir.path(),
        &tls_conf::sender(dir.path(), &t, port, "traditional"),
    );
    let sport = flow::port_file(&d, "sport");
    let mut s = common::connect(sport);
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    drop(s);
    std::thread::sleep(Duration::from_secs(3));
    d.stop();
}

#[test]
fn ox_server_certvalid_refuses_bad_clients() {
    server_sequence(
        OX,
        "gtls",
        Auth::CertValid,
        vec![],
        Some(certs().client.clone()),
        certvalid_bad_clients(OX),
    );
}

#[test]
fn reference_rsyslogd_server_certvalid_refuses_bad_clients() {
    server_sequence(
        RSYSLOGD,
        "gtls",
        Auth::CertValid,
        vec![],
        Some(certs().client.clone()),
        certvalid_bad_clients(RSYSLOGD),
    );
}

fn name_bad_clients() -> Vec<BadClient> {
    let c = certs();
    let mut b = s_client_bad(
        "name-not-permitted",
        "name not permitted",
        Some(c.client.clone()),
    );
    b.also = vec!["client.example.net".into(), "logs.example.org".into()];
    let mut w = s_client_bad(
        "name-not-permitted-2",
        "name not permitted",
        Some(c.server.clone()),
    );
    w.also = vec!["server.example.net".into()];
    vec![b, w]
}

/// x509/name: permitted "cnonly.example.net" (matched by the CN of a certificate without SAN)
/// and "*.example.com"; client.example.net / server.example.net are refused.
#[test]
fn ox_server_name_refuses_unpermitted() {
    server_sequence(
        OX,
        "gtls",
        Auth::Name,
        vec!["cnonly.example.net".into(), "*.example.com".into()],
        Some(certs().cn_only.clone()),
        name_bad_clients(),
    );
}

/// The same with `StreamDriver.Name="ossl"` (oxsyslogd follows nsd_ossl.c's name rules then).
/// No rsyslogd reference: 8.2302's ossl server let unpermitted clients through in this
/// suite's runs (see tests/tls_interop.rs `name_mode_cn_after_san_as_rsyslogd_decides`).
#[test]
fn ox_server_name_ossl_refuses_unpermitted() {
    server_sequence(
        OX,
        "ossl",
        Auth::Name,
        vec!["cnonly.example.net".into(), "*.example.com".into()],
        Some(certs().cn_only.clone()),
        name_bad_clients(),
    );
}

#[test]
fn reference_rsyslogd_server_name_refuses_unpermitted() {
    server_sequence(
        RSYSLOGD,
        "gtls",
        Auth::Name,
        vec!["cnonly.example.net".into(), "*.example.com".into()],
        Some(certs().cn_only.clone()),
        name_bad_clients(),
    );
}

fn fingerprint_bad_clients() -> Vec<BadClient> {
    let c = certs();
    let mut b = s_client_bad(
        "fingerprint-mismatch",
        "fingerprint mismatch",
        Some(c.self_signed.clone()),
    );
    b.also = vec![c.self_signed.sha1.clone()];
    vec![b]
}

/// x509/fingerprint: only the client certificate's SHA256 is permitted; the self-signed peer
/// is refused and its fingerprint reported.
#[test]
fn ox_server_fingerprint_refuses_unknown() {
    let c = certs();
    server_sequence(
        OX,
        "gtls",
        Auth::Fingerprint,
        vec![c.client.sha256.clone()],
        Some(c.client.clone()),
        fingerprint_bad_clients(),
    );
}

#[test]
fn reference_rsyslogd_server_fingerprint_refuses_unknown() {
    let c = certs();
    server_sequence(
        RSYSLOGD,
        "gtls",
        Auth::Fingerprint,
        vec![c.client.sha256.clone()],
        Some(c.client.clone()),
        fingerprint_bad_clients(),
    );
}

/// A plain listener: a TLS ClientHello is named as such, and the daemon keeps serving plain
/// clients (`logger --tcp`).
#[test]
fn ox_plain_listener_names_tls_client() {
    let dir = tempfile::tempdir().unwrap();
    let conf = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}\")\n*.* action(type=\"omfile\" file=\"{}\")\n",
        dir.path().join("rport").display(),
        dir.path().join("out").display()
    );
    let mut d = start(OX, dir.path(), &conf);
    let port = flow::port_file(&d, "rport");
    s_client(port, &certs().ca, None, &msg("tls-on-plain"));
    let l = wait_stderr_line(
        &d,
        0,
        "TLS handshake on plain listener",
        "127.0.0.1:",
        &[],
        15,
    );
    eprintln!("{l}");
    let st = Command::new("logger")
        .args([
            "--tcp",
            "-n",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "-t",
            "plainlogger",
            "still served after a TLS client",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        common::wait_for(&dir.path().join("out"), "still served after a TLS client"),
        "{}",
        d.stderr()
    );
    assert!(d.stop());
}

// ---- oxsyslogd as the TLS client (omfwd) against bad servers ----

/// A bad server: a receiver with `cert` (anon mode), or a plain one, or a silent socket.
enum BadServer {
    Tls(Peer),
    /// The good server certificate, x509/certvalid: wants a client certificate (the sender
    /// has none towards this one).
    WantsClientCert,
    Plain,
    Silent,
}

struct BadTarget {
    case: &'static str,
    server: BadServer,
    /// The sender's auth mode and permitted peers towards this server.
    auth: Auth,
    peers: Vec<String>,
    phrase: &'static str,
    also: Vec<String>,
    ox_only: bool,
}

fn bad_targets() -> Vec<BadTarget> {
    let c = certs();
    let t = |case, server, auth, peers: Vec<String>, phrase, also: Vec<String>| BadTarget {
        case,
        server,
        auth,
        peers,
        phrase,
        also,
        ox_only: false,
    };
    let mut v = vec![
        t(
            "wrong-ca",
            BadServer::Tls(c.wrong_server.clone()),
            Auth::CertValid,
            vec![],
            "unknown CA",
            vec![],
        ),
        t(
            "expired",
            BadServer::Tls(c.expired_server.clone()),
            Auth::CertValid,
            vec![],
            "certificate expired",
            vec![],
        ),
        t(
            "not-yet-valid",
            BadServer::Tls(c.notyet_server.clone()),
            Auth::CertValid,
            vec![],
            "certificate not yet valid",
            vec![],
        ),
        t(
            "name-not-permitted",
            BadServer::Tls(c.server.clone()),
            Auth::Name,
            vec!["other.example.net".into()],
            "name not permitted",
            vec!["server.example.net".into()],
        ),
        t(
            "fingerprint-mismatch",
            BadServer::Tls(c.server.clone()),
            Auth::Fingerprint,
            vec![c.client.sha1.clone()],
            "fingerprint mismatch",
            vec![c.server.sha1.clone()],
        ),
        // the server wants a client certificate the sender does not have
        t(
            "server-wants-client-cert",
            BadServer::WantsClientCert,
            Auth::Anon,
            vec![],
            // gnutls (TLS 1.3) closes without an alert after the client's Finished
            "refused our certificate",
            vec![],
        ),
        // a plain listener never answers a ClientHello
        t(
            "plain-server",
            BadServer::Plain,
            Auth::CertValid,
            vec![],
            "handshake timeout",
            vec![],
        ),
    ];
    let mut revoked = t(
        "revoked",
        BadServer::Tls(c.revoked_server.clone()),
        Auth::CertValid,
        vec![],
        "certificate revoked",
        vec![],
    );
    revoked.ox_only = true;
    v.push(revoked);
    let mut silent = t(
        "silent-server",
        BadServer::Silent,
        Auth::CertValid,
        vec![],
        "handshake timeout",
        vec![],
    );
    silent.ox_only = true;
    v.push(silent);
    v
}

/// Starts a bad server; returns its port, the daemon (if any) and its output file.
fn start_bad_server(s: &BadServer, dir: &Path) -> (u16, Option<Daemon>, Option<TcpListener>) {
    match s {
        BadServer::Tls(p) => {
            let t = Tls {
                driver: "gtls",
                auth: Auth::Anon,
                ca: Some(certs().ca.clone()),
                cert: Some(p.cert.clone()),
                key: Some(p.key.clone()),
                peers: vec![],
                extra_global: String::new(),
            };
            let d = start(RSYSLOGD, dir, &tls_conf::receiver(dir, &t));
            (flow::port_file(&d, "rport"), Some(d), None)
        }
        BadServer::WantsClientCert => {
            let c = certs();
            let t = Tls {
                driver: "gtls",
                auth: Auth::CertValid,
                ca: Some(c.ca.clone()),
                cert: Some(c.server.cert.clone()),
                key: Some(c.server.key.clone()),
                peers: vec![],
                extra_global: String::new(),
            };
            let d = start(RSYSLOGD, dir, &tls_conf::receiver(dir, &t));
            (flow::port_file(&d, "rport"), Some(d), None)
        }
        BadServer::Plain => {
            let conf = format!(
                "global(workDirectory=\"{0}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/rport\")\n*.* action(type=\"omfile\" file=\"{0}/out\")\n",
                dir.display()
            );
            let d = start(RSYSLOGD, dir, &conf);
            (flow::port_file(&d, "rport"), Some(d), None)
        }
        BadServer::Silent => {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            // accept and hold the connections without a byte
            let l2 = l.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for s in l2.incoming().flatten() {
                    held.push(s);
                    if held.len() > 50 {
                        break;
                    }
                }
            });
            (port, None, Some(l))
        }
    }
}

/// One sender (`bin`) with an omfwd action per bad target (each on its own queue) and one to
/// a good rsyslogd: the good one gets every message, the bad ones nothing, and oxsyslogd
/// names each failure with the bad server's address.
fn client_role(bin: &str) {
    const N: usize = 200;
    let c = certs();
    let targets: Vec<BadTarget> = bad_targets()
        .into_iter()
        .filter(|t| is_ox(bin) || !t.ox_only)
        .collect();
    let mut dirs: Vec<tempfile::TempDir> = Vec::new();
    let mut servers = Vec::new();
    for t in &targets {
        let d = tempfile::tempdir().unwrap();
        servers.push(start_bad_server(&t.server, d.path()));
        dirs.push(d);
    }
    // the good server: certvalid, wants the client certificate
    let gdir = tempfile::tempdir().unwrap();
    let (good_srv, good_cli) = {
        let s = Tls {
            driver: "gtls",
            auth: Auth::CertValid,
            ca: Some(c.ca.clone()),
            cert: Some(c.server.cert.clone()),
            key: Some(c.server.key.clone()),
            peers: vec![],
            extra_global: String::new(),
        };
        let mut k = s.clone();
        k.cert = Some(c.client.cert.clone());
        k.key = Some(c.client.key.clone());
        (s, k)
    };
    let mut good = start(
        RSYSLOGD,
        gdir.path(),
        &tls_conf::receiver(gdir.path(), &good_srv),
    );
    let gport = flow::port_file(&good, "rport");

    let sdir = tempfile::tempdir().unwrap();
    let mut conf = format!(
        "global(workDirectory=\"{}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}\")\n",
        sdir.path().display(),
        sdir.path().join("sport").display()
    );
    for (t, (port, _, _)) in targets.iter().zip(&servers) {
        let mut tls = Tls {
            driver: "gtls",
            auth: t.auth,
            ca: Some(ca_for(bin)),
            cert: Some(c.client.cert.clone()),
            key: Some(c.client.key.clone()),
            peers: t.peers.clone(),
            extra_global: String::new(),
        };
        if matches!(t.server, BadServer::WantsClientCert) {
            tls.cert = None;
            tls.key = None;
        }
        conf += &format!(
            "*.* {}\n",
            tls_conf::omfwd_action(&tls, *port, "traditional", " queue.type=\"LinkedList\" action.resumeInterval=\"1\" action.resumeRetryCount=\"-1\"")
        );
    }
    conf += &format!(
        "*.* {}\n",
        tls_conf::omfwd_action(
            &good_cli,
            gport,
            "octet-counted",
            " queue.type=\"LinkedList\""
        )
    );
    let mut s = start(bin, sdir.path(), &conf);
    let sport = flow::port_file(&s, "sport");
    flow::feed_tcp(sport, "neg", 0..N, 100, Duration::from_millis(5));
    let got = flow::wait_lines(&gdir.path().join("out"), N, 20, 60);
    flow::check_numbered(
        &got,
        "neg",
        N,
        &format!("{bin}: the good action next to the bad ones"),
    );
    if is_ox(bin) {
        for (t, (port, _, _)) in targets.iter().zip(&servers) {
            let also: Vec<&str> = std::iter::once(t.auth.as_str())
                .chain(t.also.iter().map(String::as_str))
                .collect();
            let l = wait_stderr_line(&s, 0, t.phrase, &format!("127.0.0.1:{port}"), &also, 30);
            eprintln!("{}: {l}", t.case);
        }
    }
    for (t, (d, _)) in targets.iter().zip(dirs.iter().zip(&servers)) {
        let text = common::read_lossy(&d.path().join("out"));
        assert!(
            !text.contains("seq="),
            "{bin}: the bad server '{}' received messages: {}",
            t.case,
            &text[..text.len().min(300)]
        );
    }
    assert!(
        s.stop() || !is_ox(bin),
        "sender did not stop: {}",
        s.stderr()
    );
    assert!(good.stop());
    drop(servers);
}

#[test]
fn ox_client_refuses_bad_servers() {
    client_role(OX);
}

#[test]
fn reference_rsyslogd_client_refuses_bad_servers() {
    client_role(RSYSLOGD);
}

// ---- -N1 and start-up errors ----

/// A TLS listener whose key file is `key`: `-N1` and a real start must fail naming `name`.
fn start_error(case: &str, cert: &Path, key: &Path, name: &str) {
    let c = certs();
    let dir = tempfile::tempdir().unwrap();
    let t = Tls {
        driver: "gtls",
        auth: Auth::Anon,
        ca: Some(c.ca.clone()),
        cert: Some(cert.to_path_buf()),
        key: Some(key.to_path_buf()),
        peers: vec![],
        extra_global: String::new(),
    };
    let conf = tls_conf::receiver(dir.path(), &t);
    std::fs::write(dir.path().join("d.conf"), &conf).unwrap();
    let out = Command::new(OX)
        .args(["-N1", "-f"])
        .arg(dir.path().join("d.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{case}: -N1 accepted the config; stderr: {err}"
    );
    assert!(
        err.contains(name),
        "{case}: -N1 does not name {name}: {err}"
    );
    // and a real start: exits non-zero without serving
    let mut d = start(OX, dir.path(), &conf);
    let t0 = Instant::now();
    let status = loop {
        if let Ok(Some(st)) = d.child.try_wait() {
            break Some(st);
        }
        if t0.elapsed() > Duration::from_secs(10) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let serr = d.stderr();
    assert!(
        matches!(status, Some(st) if !st.success()),
        "{case}: the daemon did not exit with an error ({status:?}); stderr: {serr}"
    );
    assert!(
        serr.contains(name),
        "{case}: start-up error does not name {name}: {serr}"
    );
    eprintln!(
        "{case}: {}",
        err.lines().find(|l| l.contains(name)).unwrap_or("")
    );
}

#[test]
fn ox_start_errors_name_the_key_file() {
    let c = certs();
    let s = &c.server.cert;
    let cases: [(&str, &Path, &PathBuf); 6] = [
        ("missing key file", s, &c.key_missing),
        ("unreadable key file (a directory)", s, &c.key_is_dir),
        ("encrypted PKCS#8 key", s, &c.key_encrypted_pkcs8),
        ("encrypted traditional key", s, &c.key_encrypted_legacy),
        ("DER, not PEM", s, &c.key_der),
        ("text, not PEM", s, &c.key_not_pem),
    ];
    for (case, cert, key) in cases {
        start_error(case, cert, key, &key.display().to_string());
    }
    // the key of another certificate: either file may be named; the key file is
    start_error(
        "key does not match the certificate",
        s,
        &c.client.key,
        &c.client.key.display().to_string(),
    );
    // a missing certificate file
    let missing_cert = c.dir.join("no-such-cert.pem");
    start_error(
        "missing certificate file",
        &missing_cert,
        &c.server.key,
        &missing_cert.display().to_string(),
    );
}

/// A key file readable by group and others: accepted, with a warning naming the file; the
/// listener serves.
#[test]
fn ox_warns_about_group_readable_key() {
    use std::os::unix::fs::PermissionsExt;
    let c = certs();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("open-key.pem");
    std::fs::copy(&c.server.key, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let t = Tls {
        driver: "gtls",
        auth: Auth::Anon,
        ca: Some(c.ca.clone()),
        cert: Some(c.server.cert.clone()),
        key: Some(key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    let conf = tls_conf::receiver(dir.path(), &t);
    std::fs::write(dir.path().join("d.conf"), &conf).unwrap();
    let out = Command::new(OX)
        .args(["-N1", "-f"])
        .arg(dir.path().join("d.conf"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "-N1 refused: {err}");
    let key_s = key.display().to_string();
    assert!(
        err.lines()
            .any(|l| l.contains(&key_s) && l.contains("warning") && l.contains("readable")),
        "-N1 does not warn about {key_s}: {err}"
    );
    let mut d = start(OX, dir.path(), &conf);
    let port = flow::port_file(&d, "rport");
    s_client(port, &c.ca, None, &msg("open-key"));
    assert!(
        common::wait_for(&dir.path().join("out"), &logged("open-key")),
        "{}",
        d.stderr()
    );
    assert!(d.stderr().contains(&key_s), "{}", d.stderr());
    assert!(d.stop());
}

/// A TLS server that completes the handshake and then never reads (`openssl s_server`,
/// stopped with SIGSTOP): oxsyslogd's local omfile action keeps receiving every message, and
/// SIGTERM still ends the daemon in bounded time (write timeout, bounded close).
#[test]
fn ox_client_stuck_tls_server_does_not_block() {
    const N: usize = 50_000;
    let c = certs();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sdir = tempfile::tempdir().unwrap();
    let server_out = sdir.path().join("s_server.out");
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&c.server.cert)
        .arg("-key")
        .arg(&c.server.key)
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&server_out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let server_stdin = server.stdin.take();
    let server = Kill(server);
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "s_server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = tempfile::tempdir().unwrap();
    let tls = Tls {
        driver: "gtls",
        auth: Auth::Anon,
        ca: Some(c.ca.clone()),
        cert: None,
        key: None,
        peers: vec![],
        extra_global: String::new(),
    };
    let conf = format!(
        "global(workDirectory=\"{0}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/sport\")\n{1}\n*.* {2}\n*.* action(type=\"omfile\" file=\"{0}/out\" template=\"numbered\")\n",
        dir.path().display(),
        flow::NUMBERED_TEMPLATE,
        tls_conf::omfwd_action(&tls, port, "traditional", " queue.type=\"LinkedList\" queue.size=\"1000\"")
    );
    let mut d = start(OX, dir.path(), &conf);
    let sport = flow::port_file(&d, "sport");
    // one message through, so the TLS session is up; then the server stops reading
    flow::feed_tcp(sport, "first", 0..1, 1, Duration::from_millis(1));
    assert!(
        common::wait_for(&server_out, "seq=0000000"),
        "s_server got nothing: {}",
        d.stderr()
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.0.id() as i32),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    flow::feed_tcp(sport, "stuck", 0..N, 5_000, Duration::from_millis(2));
    let got = flow::wait_lines(&dir.path().join("out"), N + 1, 20, 60);
    let text = String::from_utf8_lossy(&got);
    let stuck: String = text
        .lines()
        .filter(|l| l.contains("stuck[7]"))
        .map(|l| format!("{l}\n"))
        .collect();
    flow::check_numbered(
        stuck.as_bytes(),
        "stuck",
        N,
        "the local action next to a stuck TLS target",
    );
    let t = Instant::now();
    assert!(
        d.stop(),
        "oxsyslogd did not stop within 10 s: {}",
        d.stderr()
    );
    eprintln!("stopped in {:?}; stderr: {}", t.elapsed(), d.stderr());
    drop(server_stdin);
    drop(server);
}

/// Keys and certificates are read before privileges are dropped: with the key readable by
/// root only (0600 in a 0700 directory) and `$PrivDropToUser nobody`, oxsyslogd runs as nobody
/// and still serves TLS.
#[test]
fn ox_reads_keys_before_dropping_privileges() {
    use std::os::unix::fs::PermissionsExt;
    let c = certs();
    let dir = tempfile::tempdir().unwrap(); // 0700, root's
    let out_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(out_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let key = dir.path().join("key.pem");
    std::fs::copy(&c.server.key, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = out_dir.path().display();
    let conf = format!(
        "global(workDirectory=\"{o}\" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\")\n\
         $PrivDropToUser nobody\n$PrivDropToGroup nogroup\n\
         module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{o}/rport\")\n\
         *.* action(type=\"omfile\" file=\"{o}/out\")\n",
        c.ca.display(),
        c.server.cert.display(),
        key.display()
    );
    let mut d = start(OX, dir.path(), &conf);
    let port = {
        let t = Instant::now();
        loop {
            if let Some(p) = std::fs::read_to_string(out_dir.path().join("rport"))
                .ok()
                .and_then(|s| s.trim().parse::<u16>().ok())
            {
                break p;
            }
            assert!(t.elapsed() < Duration::from_secs(15), "{}", d.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    s_client(port, &c.ca, None, &msg("after-privdrop"));
    assert!(
        common::wait_for(&out_dir.path().join("out"), &logged("after-privdrop")),
        "{}",
        d.stderr()
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("");
    let nobody = Command::new("id").args(["-u", "nobody"]).output().unwrap();
    let nobody = String::from_utf8_lossy(&nobody.stdout).trim().to_string();
    assert!(
        uid_line.split_whitespace().nth(1) == Some(nobody.as_str()),
        "not running as nobody ({nobody}): {uid_line}"
    );
    assert!(d.stop());
}
