//! Smoke test of the TLS netstream driver (src/tls/): oxsyslogd's omfwd over TLS into
//! oxsyslogd's imtcp over TLS, and one real rsyslogd (gtls) peer each way, with certtool-made
//! certificates and `x509/name` auth on both sides; every numbered message arrives once.
//! The full interop and negative matrix is tests/tls_interop.rs and friends.

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for `srv.example.net` and `cli.example.net` as the rsyslog how-to
/// makes them.
fn certs(dir: &Path) {
    run(
        dir,
        &[
            "certtool",
            "--generate-privkey",
            "--bits",
            "2048",
            "--outfile",
            "ca-key.pem",
        ],
    );
    std::fs::write(
        dir.join("ca.tmpl"),
        "cn = \"Smoke CA\"\nca\ncert_signing_key\nexpiration_days = 3650\n",
    )
    .unwrap();
    run(
        dir,
        &[
            "certtool",
            "--generate-self-signed",
            "--load-privkey",
            "ca-key.pem",
            "--template",
            "ca.tmpl",
            "--outfile",
            "ca.pem",
        ],
    );
    for n in ["srv", "cli"] {
        let key = format!("{n}-key.pem");
        run(
            dir,
            &[
                "certtool",
                "--generate-privkey",
                "--key-type",
                "ecdsa",
                "--outfile",
                &key,
            ],
        );
        let t = format!("{n}.tmpl");
        std::fs::write(dir.join(&t), format!("cn = \"{n}.example.net\"\ndns_name = \"{n}.example.net\"\ntls_www_server\ntls_www_client\nexpiration_days = 365\n")).unwrap();
        run(
            dir,
            &[
                "certtool",
                "--generate-certificate",
                "--load-privkey",
                &key,
                "--load-ca-certificate",
                "ca.pem",
                "--load-ca-privkey",
                "ca-key.pem",
                "--template",
                &t,
                "--outfile",
                &format!("{n}.pem"),
            ],
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn globals(dir: &Path, who: &str) -> String {
    let d = dir.display();
    format!("global(workDirectory=\"{d}/{who}\" defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"{d}/ca.pem\" defaultNetstreamDriverCertFile=\"{d}/{who}.pem\" defaultNetstreamDriverKeyFile=\"{d}/{who}-key.pem\")\n")
}

/// A TLS receiver (x509/name, clients `*.example.net`) writing numbered lines to out.log.
fn receiver(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "{}module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/name\" PermittedPeer=[\"*.example.net\"])\ninput(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/srv-port\")\n{}\n*.* action(type=\"omfile\" file=\"{d}/out.log\" template=\"numbered\")\n",
        globals(dir, "srv"),
        flow::NUMBERED_TEMPLATE
    )
}

/// A sender: plain imtcp in, omfwd over TLS (x509/name against srv.example.net) out.
fn sender(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "{}module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/cli-port\")\n*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" TCP_Framing=\"octet-counted\" StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"srv.example.net\" template=\"RSYSLOG_ForwardFormat\")\n",
        globals(dir, "cli")
    )
}

fn one_way(recv_bin: &str, send_bin: &str, n: usize, tag: &str) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    certs(dir);
    for w in ["srv", "cli"] {
        std::fs::create_dir(dir.join(w)).unwrap();
    }
    let mut r = Daemon::start(recv_bin, dir, &receiver(dir), &["-C"]);
    let rport = flow::port_file(&r, "srv-port");
    // the daemons share the directory: the sender's config goes to its own file
    let sdir = dir.join("cli");
    std::fs::copy(dir.join("cli.pem"), sdir.join("cli.pem")).unwrap();
    let mut s = Daemon::start(send_bin, &sdir, &sender(dir, rport), &["-C"]);
    let sport = {
        let t0 = std::time::Instant::now();
        loop {
            if let Some(p) = std::fs::read_to_string(dir.join("cli-port"))
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                break p;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "sender did not start: {}",
                s.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    flow::feed_tcp(sport, tag, 0..n, 500, Duration::from_millis(5));
    let out = flow::wait_lines(&dir.join("out.log"), n, 10, 60);
    s.stop();
    r.stop();
    let errs = format!("sender: {}\nreceiver: {}", s.stderr(), r.stderr());
    assert!(
        !errs.contains("TLS handshake") && !errs.contains("error"),
        "{errs}"
    );
    flow::check_numbered(&out, tag, n, &format!("{send_bin} -> {recv_bin}: {errs}"));
}

#[test]
fn oxsyslogd_to_oxsyslogd_over_tls() {
    one_way(OX, OX, 5000, "oxox");
}

#[test]
fn rsyslogd_gtls_to_oxsyslogd_over_tls() {
    one_way(OX, RSYSLOGD, 2000, "rsox");
}

#[test]
fn oxsyslogd_to_rsyslogd_gtls_over_tls() {
    one_way(RSYSLOGD, OX, 2000, "oxrs");
}
