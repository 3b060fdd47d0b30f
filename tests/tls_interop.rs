//! TLS interop (issue #8) with the real rsyslogd 8.2302 and its two TLS drivers (Debian's
//! rsyslog-gnutls `gtls` and rsyslog-openssl `ossl`), over real sockets on 127.0.0.1:
//!
//! - rsyslogd (gtls, then ossl) omfwd → oxsyslogd imtcp, and oxsyslogd omfwd → rsyslogd imtcp
//!   (gtls, then ossl), for each auth mode (anon, x509/certvalid, x509/name with a permitted
//!   peer and a `*.domain` wildcard, x509/fingerprint with SHA1 and SHA256 forms and a
//!   self-signed peer), in octet-counted and LF framing; 100,000 messages for x509/certvalid per
//!   driver and direction, 5,000 for the others. The receiver's file must hold exactly the
//!   numbered lines sent, each once, with their content. Receivers take their TLS settings
//!   from global() and module(), in x509/name mode from input() (8.2302's input-level
//!   `StreamDriver.*File` parameters); senders from the omfwd action;
//! - TLS 1.2 (rsyslogd gtls limited by `gnutlsPriorityString`) both ways;
//! - the same matrix between rsyslogd gtls and rsyslogd ossl (`reference_*`): the certificates
//!   and configs are good for the reference implementation itself;
//! - keys in every form (RSA PKCS#1 with certtool's preamble, RSA PKCS#8, ECDSA P-256 SEC1
//!   and P-384 PKCS#8) on oxsyslogd's server side, an ECDSA SEC1 client key on its client side,
//!   and a CN-only certificate without SAN and EKU both ways with rsyslogd gtls;
//! - `openssl s_client` and `gnutls-cli` send a line to oxsyslogd's TLS listener and it is
//!   logged; `logger --tcp` to a plain listener next to a TLS one still works;
//! - IPv6 (::1) both ways; differential cases where oxsyslogd must decide as rsyslogd's
//!   drivers do: x509/name with SAN and CN differing, permitted-peer wildcard patterns (depth,
//!   position, case), no permitted peers on the client (the target name), and a SHA-1-signed
//!   client certificate.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;
#[path = "common/tls_conf.rs"]
mod tls_conf;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Daemon;
use tls_certs::certs;
use tls_conf::{Auth, Tls};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    Daemon::start(bin, dir, conf, &["-C"])
}

/// The two ends of a TLS connection in `auth` mode, as (server/receiver, client/sender).
/// In fingerprint mode the client presents a self-signed certificate, except to an rsyslogd
/// ossl server: 8.2302's ossl driver refuses self-signed peers even in fingerprint mode
/// ("err 18:self-signed certificate"), so there the client's CA-signed certificate is used.
fn pair(
    auth: Auth,
    server_driver: &'static str,
    client_driver: &'static str,
    server_is_rsyslogd: bool,
) -> (Tls, Tls) {
    let c = certs();
    let mut s = Tls {
        driver: server_driver,
        auth,
        ca: Some(c.ca.clone()),
        cert: Some(c.server.cert.clone()),
        key: Some(c.server.key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    let mut k = Tls {
        driver: client_driver,
        auth,
        ca: Some(c.ca.clone()),
        cert: Some(c.client.cert.clone()),
        key: Some(c.client.key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    match auth {
        Auth::Anon => {
            k.cert = None;
            k.key = None;
        }
        Auth::CertValid => {}
        Auth::Name => {
            s.peers = vec!["*.example.net".into()];
            k.peers = vec!["server.example.net".into()];
        }
        Auth::Fingerprint if server_is_rsyslogd && server_driver == "ossl" => {
            s.peers = vec![c.client.sha1.clone()];
            k.peers = vec![c.server.sha256.clone()];
        }
        Auth::Fingerprint => {
            k.cert = Some(c.self_signed.cert.clone());
            k.key = Some(c.self_signed.key.clone());
            s.peers = vec![c.self_signed.sha1.clone()];
            k.peers = vec![c.server.sha256.clone()];
        }
    }
    (s, k)
}

/// `sender` (bin, tls) forwards `n` numbered messages with `framing` to `receiver`; the
/// receiver's file must hold exactly those messages.
fn flow_case(sender: (&str, &Tls), receiver: (&str, &Tls), framing: &str, n: usize) {
    let t0 = Instant::now();
    let tag = format!("f{}", framing.len());
    let what = format!(
        "{} {} → {} {} {} {framing}",
        name(sender.0),
        sender.1.driver,
        name(receiver.0),
        receiver.1.driver,
        receiver.1.auth.as_str()
    );
    let rdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    // x509/name receivers take their settings at input() level, the others from global()
    // and module()
    let rconf = if receiver.1.auth == Auth::Name {
        tls_conf::receiver_input_level(rdir.path(), receiver.1)
    } else {
        tls_conf::receiver(rdir.path(), receiver.1)
    };
    let mut r = start(receiver.0, rdir.path(), &rconf);
    let rport = flow::port_file(&r, "rport");
    let mut s = start(
        sender.0,
        sdir.path(),
        &tls_conf::sender(sdir.path(), sender.1, rport, framing),
    );
    let sport = flow::port_file(&s, "sport");
    flow::feed_tcp(sport, &tag, 0..n, 5_000, Duration::from_millis(2));
    let got = flow::wait_lines(&rdir.path().join("out"), n, 20, 180);
    let ok = std::panic::catch_unwind(|| flow::check_numbered(&got, &tag, n, &what));
    if ok.is_err() {
        panic!(
            "{what}: failed\nsender stderr: {}\nreceiver stderr: {}",
            s.stderr(),
            r.stderr()
        );
    }
    assert!(s.stop(), "{what}: sender did not stop: {}", s.stderr());
    assert!(r.stop(), "{what}: receiver did not stop: {}", r.stderr());
    eprintln!("{what}: {n} messages in {:?}", t0.elapsed());
}

fn name(bin: &str) -> &'static str {
    if bin == OX {
        "oxsyslogd"
    } else {
        "rsyslogd"
    }
}

/// Both framings: LF-framed with `n_lf` messages, octet-counted with `n_oc`.
fn both_framings(
    sender_bin: &str,
    receiver_bin: &str,
    auth: Auth,
    sdrv: &'static str,
    rdrv: &'static str,
    n_lf: usize,
    n_oc: usize,
) {
    let (r, s) = pair(auth, rdrv, sdrv, receiver_bin == RSYSLOGD);
    flow_case((sender_bin, &s), (receiver_bin, &r), "traditional", n_lf);
    flow_case((sender_bin, &s), (receiver_bin, &r), "octet-counted", n_oc);
}

const BIG: usize = 100_000;
const SMALL: usize = 5_000;

macro_rules! interop {
    ($name:ident, $sender:expr, $receiver:expr, $auth:expr, $sdrv:expr, $rdrv:expr, $lf:expr, $oc:expr) => {
        #[test]
        fn $name() {
            both_framings($sender, $receiver, $auth, $sdrv, $rdrv, $lf, $oc);
        }
    };
}

// rsyslogd (gtls / ossl) → oxsyslogd
interop!(
    gtls_to_ox_anon,
    RSYSLOGD,
    OX,
    Auth::Anon,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    gtls_to_ox_certvalid,
    RSYSLOGD,
    OX,
    Auth::CertValid,
    "gtls",
    "gtls",
    SMALL,
    BIG
);
interop!(
    gtls_to_ox_name,
    RSYSLOGD,
    OX,
    Auth::Name,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    gtls_to_ox_fingerprint,
    RSYSLOGD,
    OX,
    Auth::Fingerprint,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    ossl_to_ox_anon,
    RSYSLOGD,
    OX,
    Auth::Anon,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
interop!(
    ossl_to_ox_certvalid,
    RSYSLOGD,
    OX,
    Auth::CertValid,
    "ossl",
    "ossl",
    BIG,
    SMALL
);
interop!(
    ossl_to_ox_name,
    RSYSLOGD,
    OX,
    Auth::Name,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
interop!(
    ossl_to_ox_fingerprint,
    RSYSLOGD,
    OX,
    Auth::Fingerprint,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
// oxsyslogd → rsyslogd (gtls / ossl)
interop!(
    ox_to_gtls_anon,
    OX,
    RSYSLOGD,
    Auth::Anon,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    ox_to_gtls_certvalid,
    OX,
    RSYSLOGD,
    Auth::CertValid,
    "gtls",
    "gtls",
    BIG,
    SMALL
);
interop!(
    ox_to_gtls_name,
    OX,
    RSYSLOGD,
    Auth::Name,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    ox_to_gtls_fingerprint,
    OX,
    RSYSLOGD,
    Auth::Fingerprint,
    "gtls",
    "gtls",
    SMALL,
    SMALL
);
interop!(
    ox_to_ossl_anon,
    OX,
    RSYSLOGD,
    Auth::Anon,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
interop!(
    ox_to_ossl_certvalid,
    OX,
    RSYSLOGD,
    Auth::CertValid,
    "ossl",
    "ossl",
    SMALL,
    BIG
);
interop!(
    ox_to_ossl_name,
    OX,
    RSYSLOGD,
    Auth::Name,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
interop!(
    ox_to_ossl_fingerprint,
    OX,
    RSYSLOGD,
    Auth::Fingerprint,
    "ossl",
    "ossl",
    SMALL,
    SMALL
);
// the reference: rsyslogd gtls ↔ rsyslogd ossl with the same certificates and configs
const REF: usize = 1_000;
interop!(
    reference_gtls_to_ossl_anon,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Anon,
    "gtls",
    "ossl",
    REF,
    REF
);
interop!(
    reference_gtls_to_ossl_certvalid,
    RSYSLOGD,
    RSYSLOGD,
    Auth::CertValid,
    "gtls",
    "ossl",
    REF,
    REF
);
interop!(
    reference_gtls_to_ossl_name,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Name,
    "gtls",
    "ossl",
    REF,
    REF
);
interop!(
    reference_gtls_to_ossl_fingerprint,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Fingerprint,
    "gtls",
    "ossl",
    REF,
    REF
);
interop!(
    reference_ossl_to_gtls_anon,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Anon,
    "ossl",
    "gtls",
    REF,
    REF
);
interop!(
    reference_ossl_to_gtls_certvalid,
    RSYSLOGD,
    RSYSLOGD,
    Auth::CertValid,
    "ossl",
    "gtls",
    REF,
    REF
);
interop!(
    reference_ossl_to_gtls_name,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Name,
    "ossl",
    "gtls",
    REF,
    REF
);
interop!(
    reference_ossl_to_gtls_fingerprint,
    RSYSLOGD,
    RSYSLOGD,
    Auth::Fingerprint,
    "ossl",
    "gtls",
    REF,
    REF
);

// ---- other clients, key forms, CN-only certificates ----

/// An anon TLS receiver (`bin`) presenting `server` (certificate and key).
fn anon_receiver(bin: &str, dir: &Path, server: &tls_certs::Peer) -> (Daemon, u16) {
    let t = Tls {
        driver: "gtls",
        auth: Auth::Anon,
        ca: Some(certs().ca.clone()),
        cert: Some(server.cert.clone()),
        key: Some(server.key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    let d = start(bin, dir, &tls_conf::receiver(dir, &t));
    let port = flow::port_file(&d, "rport");
    (d, port)
}

/// Runs `prog args` with `line` on stdin (kept open 300 ms), at most 15 s; returns its stderr.
fn cli_client(prog: &str, args: &[String], line: &str) -> String {
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
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

/// `openssl s_client` (verifying the chain and the name) and `gnutls-cli` (verifying the
/// chain and the host name) each send a line to the TLS listener: logged. Then every key form
/// (RSA PKCS#1 with certtool's preamble, RSA PKCS#8, ECDSA P-256 SEC1, ECDSA P-384 PKCS#8) on
/// the server side, each with both clients.
fn cli_clients_and_key_forms(bin: &str) {
    let c = certs();
    let forms = [
        ("rsa-pkcs1-certtool", &c.server),
        ("rsa-pkcs8", &c.server_rsa_pkcs8),
        ("ec-p256-sec1", &c.server_ec_sec1),
        ("ec-p384-pkcs8", &c.server_ec_pkcs8),
    ];
    for (form, peer) in forms {
        let dir = tempfile::tempdir().unwrap();
        let (mut d, port) = anon_receiver(bin, dir.path(), peer);
        let out = dir.path().join("out");
        let s_line = format!("<13>Nov 23 10:00:00 cli sclient: s_client with {form}");
        let err = cli_client(
            "openssl",
            &[
                "s_client".into(),
                "-connect".into(),
                format!("127.0.0.1:{port}"),
                "-quiet".into(),
                "-no_ign_eof".into(),
                "-verify_return_error".into(),
                "-verify_hostname".into(),
                "server.example.net".into(),
                "-CAfile".into(),
                c.ca.display().to_string(),
            ],
            &s_line,
        );
        assert!(
            common::wait_for(&out, &format!("s_client with {form}")),
            "{bin} {form}: the s_client line was not logged\ns_client: {err}\ndaemon: {}",
            d.stderr()
        );
        let g_line = format!("<13>Nov 23 10:00:00 cli gnutlscli: gnutls-cli with {form}");
        let err = cli_client(
            "gnutls-cli",
            &[
                "--x509cafile".into(),
                c.ca.display().to_string(),
                "--verify-hostname=server.example.net".into(),
                "-p".into(),
                port.to_string(),
                "127.0.0.1".into(),
            ],
            &g_line,
        );
        assert!(
            common::wait_for(&out, &format!("gnutls-cli with {form}")),
            "{bin} {form}: the gnutls-cli line was not logged\ngnutls-cli: {err}\ndaemon: {}",
            d.stderr()
        );
        assert!(d.stop(), "{}", d.stderr());
    }
}

#[test]
fn cli_clients_and_key_forms_ox() {
    cli_clients_and_key_forms(OX);
}

#[test]
fn reference_cli_clients_and_key_forms_rsyslogd() {
    cli_clients_and_key_forms(RSYSLOGD);
}

/// `logger --tcp` (and `--tcp --octet-count`) to a plain imtcp listener next to a TLS one in
/// the same daemon: both logged.
#[test]
fn logger_tcp_to_plain_listener_next_to_tls() {
    let c = certs();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = format!(
        "global(workDirectory=\"{0}\" DefaultNetstreamDriverCAFile=\"{1}\" DefaultNetstreamDriverCertFile=\"{2}\" DefaultNetstreamDriverKeyFile=\"{3}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/plainport\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/tlsport\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\n\
         *.* action(type=\"omfile\" file=\"{0}/out\")\n",
        d.display(),
        c.ca.display(),
        c.server.cert.display(),
        c.server.key.display()
    );
    let mut ox = start(OX, d, &conf);
    let plain = flow::port_file(&ox, "plainport");
    let tls = flow::port_file(&ox, "tlsport");
    for extra in [&[][..], &["--octet-count"][..]] {
        let text = format!("plain logger {extra:?}");
        let st = Command::new("logger")
            .args([
                "--tcp",
                "-n",
                "127.0.0.1",
                "-P",
                &plain.to_string(),
                "-t",
                "lg",
            ])
            .args(extra)
            .arg(&text)
            .status()
            .unwrap();
        assert!(st.success());
        assert!(
            common::wait_for(&d.join("out"), &text),
            "{text}: not logged: {}",
            ox.stderr()
        );
    }
    let err = cli_client(
        "gnutls-cli",
        &[
            "--x509cafile".into(),
            c.ca.display().to_string(),
            "-p".into(),
            tls.to_string(),
            "127.0.0.1".into(),
        ],
        "<13>Nov 23 10:00:00 cli gnutlscli: over TLS next to plain",
    );
    assert!(
        common::wait_for(&d.join("out"), "over TLS next to plain"),
        "gnutls-cli: {err}\ndaemon: {}",
        ox.stderr()
    );
    assert!(ox.stop());
}

/// A certificate with only a CN (no SAN, no EKU) on either side in x509/name mode: oxsyslogd
/// as the server presenting it to an rsyslogd gtls client that permits the CN, and as the
/// client permitting the CN of an rsyslogd gtls server presenting it.
#[test]
fn cn_only_certificate_both_ways() {
    let c = certs();
    let server = Tls {
        driver: "gtls",
        auth: Auth::CertValid,
        ca: Some(c.ca.clone()),
        cert: Some(c.cn_only.cert.clone()),
        key: Some(c.cn_only.key.clone()),
        peers: vec![],
        extra_global: String::new(),
    };
    let client = Tls {
        driver: "gtls",
        auth: Auth::Name,
        ca: Some(c.ca.clone()),
        cert: Some(c.client_ec_sec1.cert.clone()),
        key: Some(c.client_ec_sec1.key.clone()),
        peers: vec!["cnonly.example.net".into()],
        extra_global: String::new(),
    };
    flow_case((RSYSLOGD, &client), (OX, &server), "octet-counted", 500);
    flow_case((OX, &client), (RSYSLOGD, &server), "traditional", 500);
}

/// TLS 1.2: rsyslogd gtls limited to TLS 1.2 (8.2302's `gnutlsPriorityString`) as the client
/// of oxsyslogd and as its server; `openssl s_client -tls1_2` and `-tls1_3` to oxsyslogd.
#[test]
fn tls12_both_ways() {
    const PRIO: &str = " gnutlsPriorityString=\"NORMAL:-VERS-ALL:+VERS-TLS1.2\"";
    const N: usize = 1_000;
    let c = certs();
    let (srv, cli) = pair(Auth::CertValid, "gtls", "gtls", false);
    // rsyslogd (TLS 1.2 only) → oxsyslogd
    {
        let rdir = tempfile::tempdir().unwrap();
        let sdir = tempfile::tempdir().unwrap();
        let mut r = start(OX, rdir.path(), &tls_conf::receiver(rdir.path(), &srv));
        let rport = flow::port_file(&r, "rport");
        let conf = format!(
            "global(workDirectory=\"{0}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/sport\")\n*.* {1}\n",
            sdir.path().display(),
            tls_conf::omfwd_action(&cli, rport, "octet-counted", PRIO)
        );
        let mut s = start(RSYSLOGD, sdir.path(), &conf);
        let sport = flow::port_file(&s, "sport");
        flow::feed_tcp(sport, "t12a", 0..N, 500, Duration::from_millis(2));
        let got = flow::wait_lines(&rdir.path().join("out"), N, 20, 60);
        flow::check_numbered(&got, "t12a", N, "rsyslogd TLS 1.2 → oxsyslogd");
        assert!(s.stop());
        assert!(r.stop(), "{}", r.stderr());
    }
    // oxsyslogd → rsyslogd (TLS 1.2 only)
    {
        let rdir = tempfile::tempdir().unwrap();
        let sdir = tempfile::tempdir().unwrap();
        let rconf = tls_conf::receiver(rdir.path(), &srv).replacen(
            "module(load=\"imtcp\"",
            &format!("module(load=\"imtcp\"{PRIO}"),
            1,
        );
        let mut r = start(RSYSLOGD, rdir.path(), &rconf);
        let rport = flow::port_file(&r, "rport");
        let mut s = start(
            OX,
            sdir.path(),
            &tls_conf::sender(sdir.path(), &cli, rport, "traditional"),
        );
        let sport = flow::port_file(&s, "sport");
        flow::feed_tcp(sport, "t12b", 0..N, 500, Duration::from_millis(2));
        let got = flow::wait_lines(&rdir.path().join("out"), N, 20, 60);
        flow::check_numbered(&got, "t12b", N, "oxsyslogd → rsyslogd TLS 1.2");
        assert!(s.stop(), "{}", s.stderr());
        assert!(r.stop());
    }
    // openssl s_client pinned to each version
    let dir = tempfile::tempdir().unwrap();
    let (mut d, port) = anon_receiver(OX, dir.path(), &c.server);
    for v in ["-tls1_2", "-tls1_3"] {
        let err = cli_client(
            "openssl",
            &[
                "s_client".into(),
                v.into(),
                "-connect".into(),
                format!("127.0.0.1:{port}"),
                "-quiet".into(),
                "-no_ign_eof".into(),
                "-verify_return_error".into(),
                "-CAfile".into(),
                c.ca.display().to_string(),
            ],
            &format!("<13>Nov 23 10:00:00 cli v: version {v}"),
        );
        assert!(
            common::wait_for(&dir.path().join("out"), &format!("version {v}")),
            "s_client {v}: {err}\n{}",
            d.stderr()
        );
    }
    assert!(d.stop());
}

/// Whether 10 numbered messages from `sender` (always an rsyslogd-config sender) reach
/// `receiver`; with the first stderr line of the side that refused.
fn delivers(sender: (&str, &Tls), receiver: (&str, &Tls)) -> (bool, String) {
    let rdir = tempfile::tempdir().unwrap();
    let sdir = tempfile::tempdir().unwrap();
    let mut r = start(
        receiver.0,
        rdir.path(),
        &tls_conf::receiver(rdir.path(), receiver.1),
    );
    let rport = flow::port_file(&r, "rport");
    let mut s = start(
        sender.0,
        sdir.path(),
        &tls_conf::sender(sdir.path(), sender.1, rport, "traditional"),
    );
    let sport = flow::port_file(&s, "sport");
    flow::feed_tcp(sport, "dl", 0..10, 10, Duration::from_millis(1));
    // all 10 lines, or (after 3 s) nothing arrived while a daemon reported an error; 30 s at most
    let out = rdir.path().join("out");
    let t = Instant::now();
    let got = loop {
        let got = std::fs::read(&out).unwrap_or_default();
        let lines = got.iter().filter(|&&b| b == b'\n').count();
        let refused = got.is_empty()
            && t.elapsed() > Duration::from_secs(3)
            && (!r.stderr().is_empty() || !s.stderr().is_empty());
        if lines >= 10 || refused || t.elapsed() > Duration::from_secs(30) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    s.stop();
    r.stop();
    let n = String::from_utf8_lossy(&got).lines().count();
    let why = format!(
        "{} | {}",
        r.stderr().lines().next().unwrap_or(""),
        s.stderr().lines().next().unwrap_or("")
    );
    eprintln!(
        "{} {} → {} {}: {n} of 10 delivered; {why}",
        name(sender.0),
        sender.1.driver,
        name(receiver.0),
        receiver.1.driver
    );
    (n == 10, why)
}

/// x509/name with a certificate whose SAN (sanname.example.net) and CN (cnname.example.net)
/// differ, the CN permitted: oxsyslogd decides as rsyslogd gtls does (the CN is checked after
/// the SANs unless `PrioritizeSAN` is on), as the server (an rsyslogd gtls client presents the
/// certificate) and as the client (an rsyslogd gtls server presents it); as the client also
/// with `StreamDriver="ossl"` against rsyslogd ossl. Not compared: rsyslogd 8.2302's ossl
/// *server*, which in x509/name mode let through clients whose certificate matches no
/// permitted peer at all (even "nomatch.invalid"), not in every run, so it is no reference
/// (oxsyslogd refuses those: tests/tls_negative.rs `ox_server_name_refuses_unpermitted`).
#[test]
fn name_mode_cn_after_san_as_rsyslogd_decides() {
    let c = certs();
    let case = |bin: &'static str, driver: &'static str, server_role: bool| -> bool {
        if server_role {
            let (mut srv, mut cli) = pair(Auth::Name, driver, "gtls", false);
            srv.peers = vec!["cnname.example.net".into()];
            cli.cert = Some(c.san_cn_differ.cert.clone());
            cli.key = Some(c.san_cn_differ.key.clone());
            delivers((RSYSLOGD, &cli), (bin, &srv)).0
        } else {
            let (mut srv, mut cli) = pair(Auth::Name, "gtls", driver, false);
            srv.cert = Some(c.san_cn_differ.cert.clone());
            srv.key = Some(c.san_cn_differ.key.clone());
            cli.peers = vec!["cnname.example.net".into()];
            delivers((bin, &cli), (RSYSLOGD, &srv)).0
        }
    };
    let differ: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = [("gtls", true), ("gtls", false), ("ossl", false)]
            .into_iter()
            .map(|(driver, server_role)| {
                scope.spawn(move || {
                    let theirs = case(RSYSLOGD, driver, server_role);
                    let ours = case(OX, driver, server_role);
                    let role = if server_role { "server" } else { "client" };
                    eprintln!("{driver} {role}: rsyslogd {theirs}, oxsyslogd {ours}");
                    (theirs != ours).then(|| {
                        format!("{driver} as {role}: rsyslogd accepts {theirs}, oxsyslogd {ours}")
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        differ.is_empty(),
        "permitted CN with a different SAN: {differ:#?}"
    );
}

/// A client certificate signed with SHA-1: oxsyslogd's server (x509/certvalid) decides as
/// rsyslogd's gtls and ossl servers do (the same rsyslogd gtls client against each); on
/// Debian 12 both refuse it (gnutls: "insecure algorithm").
#[test]
fn sha1_signed_client_certificate_as_rsyslogd_decides() {
    let c = certs();
    let accepted = |bin: &str, driver: &'static str| {
        let (srv, mut cli) = pair(Auth::CertValid, driver, "gtls", false);
        cli.cert = Some(c.client_sha1.cert.clone());
        cli.key = Some(c.client_sha1.key.clone());
        delivers((RSYSLOGD, &cli), (bin, &srv)).0
    };
    let gtls = accepted(RSYSLOGD, "gtls");
    let ossl = accepted(RSYSLOGD, "ossl");
    let ours = accepted(OX, "gtls");
    assert_eq!(
        gtls, ossl,
        "rsyslogd's drivers disagree on a SHA-1-signed certificate"
    );
    assert_eq!(
        ours, gtls,
        "SHA-1-signed client certificate: rsyslogd (gtls and ossl) accepts: {gtls}, oxsyslogd accepts: {ours}"
    );
}

/// Over IPv6 (::1), both directions, x509/name (the server permits `*.example.net`, the client
/// `server.example.net`), 2,000 messages each.
#[test]
fn ipv6_both_ways() {
    const N: usize = 2_000;
    for (sender, receiver) in [(RSYSLOGD, OX), (OX, RSYSLOGD)] {
        let (srv, cli) = pair(Auth::Name, "gtls", "gtls", receiver == RSYSLOGD);
        let rdir = tempfile::tempdir().unwrap();
        let sdir = tempfile::tempdir().unwrap();
        let rconf = tls_conf::receiver(rdir.path(), &srv).replacen(
            "address=\"127.0.0.1\"",
            "address=\"::1\"",
            1,
        );
        let mut r = start(receiver, rdir.path(), &rconf);
        let rport = flow::port_file(&r, "rport");
        let sconf = tls_conf::sender(sdir.path(), &cli, rport, "octet-counted").replacen(
            "target=\"127.0.0.1\"",
            "target=\"::1\"",
            1,
        );
        let mut s = start(sender, sdir.path(), &sconf);
        let sport = flow::port_file(&s, "sport");
        flow::feed_tcp(sport, "v6", 0..N, 500, Duration::from_millis(2));
        let got = flow::wait_lines(&rdir.path().join("out"), N, 20, 60);
        let what = format!("{} → {} over ::1", name(sender), name(receiver));
        let ok = std::panic::catch_unwind(|| flow::check_numbered(&got, "v6", N, &what));
        assert!(
            ok.is_ok(),
            "{what}\nsender: {}\nreceiver: {}",
            s.stderr(),
            r.stderr()
        );
        assert!(s.stop(), "{}", s.stderr());
        assert!(r.stop(), "{}", r.stderr());
    }
}

/// x509/name on the client without permitted peers: the target name (here the address
/// 127.0.0.1, which the server certificate carries only as an iPAddress SAN, not as a
/// dNSName or CN) is what must match; oxsyslogd decides as rsyslogd gtls does.
#[test]
fn name_mode_without_permitted_peers_uses_target_as_rsyslogd() {
    let (srv, mut cli) = pair(Auth::Name, "gtls", "gtls", true);
    cli.peers.clear();
    let (theirs, why_theirs) = delivers((RSYSLOGD, &cli), (RSYSLOGD, &srv));
    let (ours, why_ours) = delivers((OX, &cli), (RSYSLOGD, &srv));
    assert_eq!(
        ours, theirs,
        "x509/name towards 127.0.0.1 without permitted peers: rsyslogd gtls delivers: {theirs} ({why_theirs}), oxsyslogd: {ours} ({why_ours})"
    );
}

/// x509/name permitted-peer patterns against a client certificate for deep.sub.example.net:
/// for each pattern oxsyslogd's server accepts or refuses as rsyslogd gtls's does (8.2302's
/// ossl server is no reference here, see `name_mode_cn_after_san_as_rsyslogd_decides`).
#[test]
fn name_mode_wildcards_as_rsyslogd_decides() {
    let c = certs();
    let patterns = [
        "*.example.net",
        "*.sub.example.net",
        "deep.*.example.net",
        "*.EXAMPLE.net",
        "DEEP.sub.example.net",
        "*sub.example.net",
        "deep.sub.example.*",
    ];
    // one thread per pattern (each case has its own directories and ports)
    let differ: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = patterns
            .iter()
            .map(|p| {
                scope.spawn(move || {
                    let (mut srv, mut cli) = pair(Auth::Name, "gtls", "gtls", false);
                    srv.peers = vec![p.to_string()];
                    cli.cert = Some(c.deep_name.cert.clone());
                    cli.key = Some(c.deep_name.key.clone());
                    let (theirs, _) = delivers((RSYSLOGD, &cli), (RSYSLOGD, &srv));
                    let (ours, why) = delivers((RSYSLOGD, &cli), (OX, &srv));
                    eprintln!("{p}: rsyslogd {theirs}, oxsyslogd {ours}");
                    (theirs != ours).then(|| {
                        format!("{p}: rsyslogd accepts {theirs}, oxsyslogd {ours} ({why})")
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(differ.is_empty(), "{differ:#?}");
}

/// x509/fingerprint permitted-peer spellings of the self-signed client's fingerprint (as
/// printed, lower case, SHA256, without the colons, another certificate's): oxsyslogd's server
/// accepts or refuses each as rsyslogd gtls's does — except the lower-case spellings, which
/// rsyslogd 8.2302 refuses (it compares the strings case-sensitively) and oxsyslogd accepts by
/// design (the same digest; issue #8's implementation brief: "compared case-insensitively").
#[test]
fn fingerprint_spellings_as_rsyslogd_decides() {
    let c = certs();
    let fp = &c.self_signed;
    let spellings = [
        fp.sha1.clone(),
        fp.sha1.to_lowercase(),
        fp.sha256.clone(),
        fp.sha256.to_lowercase(),
        fp.sha1.replace(':', "").replacen("SHA1", "SHA1:", 1),
        c.client.sha1.clone(),
    ];
    let differ: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = spellings
            .iter()
            .map(|p| {
                scope.spawn(move || {
                    let (mut srv, mut cli) = pair(Auth::Fingerprint, "gtls", "gtls", false);
                    srv.peers = vec![p.clone()];
                    cli.cert = Some(fp.cert.clone());
                    cli.key = Some(fp.key.clone());
                    let (theirs, _) = delivers((RSYSLOGD, &cli), (RSYSLOGD, &srv));
                    let (ours, why) = delivers((RSYSLOGD, &cli), (OX, &srv));
                    eprintln!("{p}: rsyslogd {theirs}, oxsyslogd {ours}");
                    let lower = p.chars().any(|ch| ch.is_ascii_lowercase());
                    let want = if lower { true } else { theirs };
                    (ours != want).then(|| {
                        format!("{p}: rsyslogd accepts {theirs}, oxsyslogd {ours}, expected {want} ({why})")
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(differ.is_empty(), "{differ:#?}");
}
