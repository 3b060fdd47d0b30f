//! The TLS configs people copy (issue #8), run verbatim (only paths and ports changed, see the
//! header of each file in compat-tests/tls/) with a real rsyslogd on the other side:
//!
//! - the rsyslog TLS how-to's server config (gtls, anon, global `DefaultNetstreamDriver*`)
//!   and its client config (CA only, omfwd gtls anon): oxsyslogd as the server with an rsyslogd
//!   client, oxsyslogd as the client towards an rsyslogd server, and `logger` messages arrive;
//! - the Keyfactor Command rsyslog.conf (legacy `$DefaultNetstreamDriver*`,
//!   `$InputTCPServerStreamDriver*`, `$InputTCPServerRun`, privilege drop, `$IncludeConfig`
//!   with the document's Keyfactor filter) as the log server, certificates split from a PFX
//!   with the document's openssl commands, an rsyslogd gtls sender in the role of Keyfactor
//!   Command (RFC 5424, x509/name towards the server's FQDN): the audit file oxsyslogd writes
//!   is byte for byte the one rsyslogd writes with the same config and input.
//!
//! - the legacy directives on both ends (`$DefaultNetstreamDriver*`,
//!   `$InputTCPServerStreamDriver*`, `$ActionSendStreamDriver*` with a `@@(o)` action).
//!
//! Every case also runs with rsyslogd on both sides (`reference_*`).

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;
#[path = "common/tls_conf.rs"]
mod tls_conf;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::Daemon;
use tls_certs::certs;
use tls_conf::{Auth, Tls};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

fn compat(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("compat-tests/tls")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn render(text: &str, vars: &[(&str, String)]) -> String {
    let mut s = text.to_string();
    for (k, v) in vars {
        s = s.replace(k, v);
    }
    assert!(
        !s.contains("@DIR@") && !s.contains("@PORT@"),
        "unreplaced: {s}"
    );
    s
}

/// A TCP port that was free a moment ago (the configs have fixed ports, no port file).
fn free_port() -> u16 {
    common::free_port()
}

/// Waits until something accepts connections on 127.0.0.1:`port` (at most 15 s).
fn wait_listening(d: &Daemon, port: u16) {
    let t = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "nothing listens on {port}: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The how-to's certificate files: ca.pem, cert.pem, key.pem (certtool, as its Certificates
/// section makes them).
fn howto_certs(dir: &Path) -> PathBuf {
    let c = certs();
    let d = dir.join("gnutls");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(&c.ca, d.join("ca.pem")).unwrap();
    std::fs::copy(&c.server.cert, d.join("cert.pem")).unwrap();
    std::fs::copy(&c.server.key, d.join("key.pem")).unwrap();
    d
}

/// The how-to's server on `server`, its client on `client`; `logger test` lines on the client
/// arrive in the server's file.
fn howto(server: &str, client: &str) {
    let sdir = tempfile::tempdir().unwrap();
    let cdir = tempfile::tempdir().unwrap();
    let port = free_port();
    let scerts = howto_certs(sdir.path());
    let ccerts = howto_certs(cdir.path());
    let sconf = render(
        &compat("howto-server.conf"),
        &[
            ("@CERTS@", scerts.display().to_string()),
            ("@PORT@", port.to_string()),
            ("@DIR@", sdir.path().display().to_string()),
        ],
    );
    let cconf = render(
        &compat("howto-client.conf"),
        &[
            ("@CERTS@", ccerts.display().to_string()),
            ("@PORT@", port.to_string()),
            ("@DIR@", cdir.path().display().to_string()),
        ],
    );
    let mut s = Daemon::start(server, sdir.path(), &sconf, &["-C"]);
    wait_listening(&s, port);
    let mut c = Daemon::start(client, cdir.path(), &cconf, &["-C"]);
    let sock = cdir.path().join("log");
    let t = std::time::Instant::now();
    while !sock.exists() {
        assert!(t.elapsed() < Duration::from_secs(15), "{}", c.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 0..20 {
        let st = Command::new("logger")
            .arg("-u")
            .arg(&sock)
            .args(["-t", "howto", &format!("test {i} via the how-to configs")])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let out = sdir.path().join("messages");
    assert!(
        common::wait_for(&out, "test 19 via the how-to configs"),
        "{server} ← {client}: nothing arrived\nserver: {}\nclient: {}",
        s.stderr(),
        c.stderr()
    );
    let text = common::read_lossy(&out);
    for i in 0..20 {
        let want = format!("howto: test {i} via the how-to configs");
        assert_eq!(
            text.matches(&want).count(),
            1,
            "{server} ← {client}: '{want}' not exactly once in:\n{text}"
        );
    }
    assert!(c.stop(), "{}", c.stderr());
    assert!(s.stop(), "{}", s.stderr());
}

#[test]
fn howto_server_on_ox_client_rsyslogd() {
    howto(OX, RSYSLOGD);
}

#[test]
fn howto_client_on_ox_server_rsyslogd() {
    howto(RSYSLOGD, OX);
}

#[test]
fn reference_howto_rsyslogd_both() {
    howto(RSYSLOGD, RSYSLOGD);
}

/// The Keyfactor document's certificates, as it makes them: a server certificate for
/// rsyslog.keyexample.com (EKU serverAuth) and a client certificate for
/// keyfactor.keyexample.com (EKU clientAuth) from the test CA, exported as PFX (with the
/// chain, a password), then split with the document's openssl commands into
/// `certs/cacerts.pem`, `certs/mycert.pem`, `private/mynewkey.key`.
struct KfCerts {
    /// The split files (the server's @CERTS@).
    tls_dir: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn kf_certs() -> &'static KfCerts {
    static K: OnceLock<KfCerts> = OnceLock::new();
    K.get_or_init(|| {
        let c = certs();
        let d = c.dir.join("keyfactor");
        std::fs::create_dir_all(d.join("etc/tls/certs")).unwrap();
        std::fs::create_dir_all(d.join("etc/tls/private")).unwrap();
        let run = |prog: &str, args: &[&str]| {
            let o = Command::new(prog)
                .args(args)
                .current_dir(&d)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{prog} {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        };
        let ca = c.ca.display().to_string();
        let ca_key = c.dir.join("ca-key.pem").display().to_string();
        for (name, eku) in [
            ("rsyslog.keyexample.com", "tls_www_server"),
            ("keyfactor.keyexample.com", "tls_www_client"),
        ] {
            run(
                "certtool",
                &[
                    "--generate-privkey",
                    "--bits",
                    "2048",
                    "--outfile",
                    &format!("{name}.key"),
                ],
            );
            std::fs::write(
                d.join(format!("{name}.tmpl")),
                format!("cn = \"{name}\"\ndns_name = \"{name}\"\n{eku}\nsigning_key\nencryption_key\nexpiration_days = 365\n"),
            )
            .unwrap();
            run(
                "certtool",
                &[
                    "--generate-certificate",
                    "--load-privkey",
                    &format!("{name}.key"),
                    "--load-ca-certificate",
                    &ca,
                    "--load-ca-privkey",
                    &ca_key,
                    "--template",
                    &format!("{name}.tmpl"),
                    "--outfile",
                    &format!("{name}.pem"),
                ],
            );
        }
        // the MMC export: a PFX with the key, the certificate and the chain, password-protected
        run(
            "openssl",
            &[
                "pkcs12",
                "-export",
                "-in",
                "rsyslog.keyexample.com.pem",
                "-inkey",
                "rsyslog.keyexample.com.key",
                "-certfile",
                &ca,
                "-passout",
                "pass:pfxpass",
                "-out",
                "mycertfile.pfx",
            ],
        );
        // the document's four commands (passwords given on the command line, not prompted)
        run(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "mycertfile.pfx",
                "-nocerts",
                "-out",
                "mykey.pem",
                "-passin",
                "pass:pfxpass",
                "-passout",
                "pass:pempass",
            ],
        );
        run(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "mycertfile.pfx",
                "-clcerts",
                "-nokeys",
                "-out",
                "etc/tls/certs/mycert.pem",
                "-passin",
                "pass:pfxpass",
            ],
        );
        run(
            "openssl",
            &[
                "pkcs12",
                "-in",
                "mycertfile.pfx",
                "-cacerts",
                "-nokeys",
                "-chain",
                "-out",
                "etc/tls/certs/cacerts.pem",
                "-passin",
                "pass:pfxpass",
            ],
        );
        run(
            "openssl",
            &[
                "rsa",
                "-in",
                "mykey.pem",
                "-out",
                "etc/tls/private/mynewkey.key",
                "-passin",
                "pass:pempass",
            ],
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            d.join("etc/tls/private/mynewkey.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        KfCerts {
            tls_dir: d.join("etc/tls"),
            client_cert: d.join("keyfactor.keyexample.com.pem"),
            client_key: d.join("keyfactor.keyexample.com.key"),
        }
    })
}

/// The user and group the Keyfactor config drops to (see the config's header).
fn kf_user() -> (&'static str, &'static str) {
    let has_syslog = Command::new("getent")
        .args(["passwd", "syslog"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if has_syslog {
        ("syslog", "adm")
    } else {
        ("nobody", "nogroup")
    }
}

const KF_N: usize = 500;

/// The Keyfactor rsyslog.conf on `server`; an rsyslogd "Keyfactor Command" sends `KF_N`
/// Keyfactor messages and some others; returns the audit file.
fn keyfactor(server: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let k = kf_certs();
    let (user, group) = kf_user();
    let sdir = tempfile::tempdir().unwrap();
    let d = sdir.path();
    // the unprivileged user must reach and write the log directory
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["spool", "rsyslog.d", "keyfactor"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let owner = Command::new("chown")
        .arg(format!("{user}:{group}"))
        .arg(d.join("keyfactor"))
        .arg(d.join("spool"))
        .status()
        .unwrap();
    assert!(owner.success());
    std::fs::write(d.join("kmsg"), "").unwrap();
    // step 8 of the document: the files in a secure place, the key readable by the daemon's
    // user only (rsyslogd reads them again for each connection, after dropping privileges)
    let tls = d.join("tls");
    for sub in ["certs", "private"] {
        std::fs::create_dir_all(tls.join(sub)).unwrap();
    }
    for f in [
        "certs/cacerts.pem",
        "certs/mycert.pem",
        "private/mynewkey.key",
    ] {
        std::fs::copy(k.tls_dir.join(f), tls.join(f)).unwrap();
    }
    for f in ["certs/cacerts.pem", "certs/mycert.pem"] {
        std::fs::set_permissions(tls.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(tls.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        tls.join("private/mynewkey.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let owner = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:{group}"))
        .arg(tls.join("private"))
        .status()
        .unwrap();
    assert!(owner.success());
    let port = free_port();
    let vars = [
        ("@DIR@", d.display().to_string()),
        ("@CERTS@", tls.display().to_string()),
        ("@PORT@", port.to_string()),
        ("@USER@", user.to_string()),
        ("@GROUP@", group.to_string()),
    ];
    std::fs::write(
        d.join("rsyslog.d/keyfactor.conf"),
        render(&compat("keyfactor-filter.conf"), &vars),
    )
    .unwrap();
    let conf = render(&compat("keyfactor-rsyslog.conf"), &vars);
    let mut s = Daemon::start(server, d, &conf, &["-C"]);
    wait_listening(&s, port);

    // "Keyfactor Command": RFC 5424 over TLS, x509/name towards the server's FQDN
    let cdir = tempfile::tempdir().unwrap();
    let t = Tls {
        driver: "gtls",
        auth: Auth::Name,
        ca: Some(certs().ca.clone()),
        cert: Some(k.client_cert.clone()),
        key: Some(k.client_key.clone()),
        peers: vec!["rsyslog.keyexample.com".into()],
        extra_global: String::new(),
    };
    let cconf = format!(
        "global(workDirectory=\"{0}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{0}/sport\")\n*.* {1}\n",
        cdir.path().display(),
        tls_conf::omfwd_action(&t, port, "octet-counted", " template=\"RSYSLOG_SyslogProtocol23Format\"")
    );
    let mut c = Daemon::start(RSYSLOGD, cdir.path(), &cconf, &["-C"]);
    let sport = flow::port_file(&c, "sport");
    let mut conn = common::connect(sport);
    let mut buf = String::new();
    for i in 0..KF_N {
        buf += &format!("<110>Nov 23 10:00:{:02} kfserver Keyfactor: seq={i:07} {{\"Operation\":\"CertificateDownload\",\"User\":\"KEYEXAMPLE\\\\admin\"}} ü\n", i % 60);
        if i % 5 == 0 {
            buf +=
                &format!("<13>Nov 23 10:00:00 kfserver other: seq={i:07} not for the audit log\n");
        }
    }
    conn.write_all(buf.as_bytes()).unwrap();
    drop(conn);
    let audit = d.join("keyfactor/audit.log");
    let got = flow::wait_lines(&audit, KF_N, 20, 60);
    let text = String::from_utf8_lossy(&got).into_owned();
    let n = text.lines().filter(|l| l.contains("Keyfactor")).count();
    assert!(
        n == KF_N && text.lines().count() == KF_N,
        "{server}: {} lines, {n} Keyfactor lines of {KF_N} in audit.log\nserver: {}\nsender: {}",
        text.lines().count(),
        s.stderr(),
        c.stderr()
    );
    // the file is the unprivileged user's: privileges were dropped after the key was read
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&audit).unwrap());
    let want_uid: u32 = String::from_utf8_lossy(
        &Command::new("id")
            .args(["-u", user])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse()
    .unwrap();
    assert_eq!(uid, want_uid, "{server}: audit.log owner");
    assert!(c.stop(), "{}", c.stderr());
    assert!(s.stop(), "{}", s.stderr());
    text
}

#[test]
fn keyfactor_conf_on_ox_matches_rsyslogd() {
    let theirs = keyfactor(RSYSLOGD);
    let ours = keyfactor(OX);
    if theirs != ours {
        let diff: Vec<(&str, &str)> = theirs
            .lines()
            .zip(ours.lines())
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        panic!(
            "audit.log differs from rsyslogd's: first differences (rsyslogd, oxsyslogd): {diff:#?}"
        );
    }
}

#[test]
fn reference_keyfactor_conf_rsyslogd() {
    keyfactor(RSYSLOGD);
}

/// Legacy directives on both ends: a server with `$DefaultNetstreamDriver*`,
/// `$InputTCPServerStreamDriverMode/AuthMode/PermittedPeer` (x509/name, a `*.domain`
/// wildcard) and `$InputTCPServerRun`; a client with `$ActionSendStreamDriverMode/AuthMode/
/// PermittedPeer` and a `@@(o)` selector action. 2,000 numbered messages must arrive exactly.
fn legacy(server: &str, client: &str) {
    const N: usize = 2_000;
    let c = certs();
    let sdir = tempfile::tempdir().unwrap();
    let cdir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sconf = format!(
        "$WorkDirectory {dir}\n$DefaultNetstreamDriver gtls\n$DefaultNetstreamDriverCAFile {ca}\n\
         $DefaultNetstreamDriverCertFile {cert}\n$DefaultNetstreamDriverKeyFile {key}\n\
         $ModLoad imtcp\n$InputTCPServerStreamDriverMode 1\n\
         $InputTCPServerStreamDriverAuthMode x509/name\n\
         $InputTCPServerStreamDriverPermittedPeer *.example.net\n$InputTCPServerRun {port}\n\
         $template numbered,\"%hostname% %syslogtag%%msg%\\n\"\n*.* {dir}/out;numbered\n",
        dir = sdir.path().display(),
        ca = c.ca.display(),
        cert = c.server.cert.display(),
        key = c.server.key.display(),
    );
    let cconf = format!(
        "$WorkDirectory {dir}\n$DefaultNetstreamDriver gtls\n$DefaultNetstreamDriverCAFile {ca}\n\
         $DefaultNetstreamDriverCertFile {cert}\n$DefaultNetstreamDriverKeyFile {key}\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{dir}/sport\")\n\
         $ActionSendStreamDriverMode 1\n$ActionSendStreamDriverAuthMode x509/name\n\
         $ActionSendStreamDriverPermittedPeer server.example.net\n*.* @@(o)127.0.0.1:{port}\n",
        dir = cdir.path().display(),
        ca = c.ca.display(),
        cert = c.client.cert.display(),
        key = c.client.key.display(),
    );
    let mut s = Daemon::start(server, sdir.path(), &sconf, &["-C"]);
    wait_listening(&s, port);
    let mut k = Daemon::start(client, cdir.path(), &cconf, &["-C"]);
    let sport = flow::port_file(&k, "sport");
    flow::feed_tcp(sport, "legacy", 0..N, 500, Duration::from_millis(2));
    let got = flow::wait_lines(&sdir.path().join("out"), N, 20, 60);
    let r = std::panic::catch_unwind(|| {
        flow::check_numbered(&got, "legacy", N, &format!("legacy {client} → {server}"))
    });
    assert!(r.is_ok(), "server: {}\nclient: {}", s.stderr(), k.stderr());
    assert!(k.stop(), "{}", k.stderr());
    assert!(s.stop(), "{}", s.stderr());
}

#[test]
fn legacy_directives_ox_server() {
    legacy(OX, RSYSLOGD);
}

#[test]
fn legacy_directives_ox_client() {
    legacy(RSYSLOGD, OX);
}

#[test]
fn reference_legacy_directives_rsyslogd() {
    legacy(RSYSLOGD, RSYSLOGD);
}
