//! Builds the rustls server (imtcp) and client (omfwd) configs of a TLS endpoint from its
//! settings, checking its files as it goes; the same code runs at `-N1` and at start, so
//! both report the same errors (file and config location named). Files are read here,
//! before privileges are dropped.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};

use super::settings::{AuthMode, TlsSettings};
use super::verify::{ClientVerifier, Policy, ServerVerifier};
use super::{certinfo, pem};
use crate::config::model::Config;

/// Which side of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An endpoint's material, read and checked.
struct Material {
    certs: Vec<CertificateDer<'static>>,
    key: Option<PrivateKeyDer<'static>>,
    ca: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

fn load(s: &TlsSettings, role: Role, warnings: &mut Vec<String>) -> Result<Material, String> {
    let at = |e: String| format!("{}: error: {e}", s.loc);
    let (certs, key) = match (&s.cert_file, &s.key_file) {
        (Some(c), Some(k)) => (pem::certs(c).map_err(at)?, Some(pem::key(k).map_err(at)?)),
        (None, None) if role == Role::Client => (Vec::new(), None),
        (None, None) => return Err(at("a TLS listener needs a certificate and a key: set StreamDriver.CertFile and StreamDriver.KeyFile, or global(DefaultNetstreamDriverCertFile=… DefaultNetstreamDriverKeyFile=…)".into())),
        (Some(c), None) => return Err(at(format!("TLS certificate file '{c}' is set, but no key file (StreamDriver.KeyFile or DefaultNetstreamDriverKeyFile)"))),
        (None, Some(k)) => return Err(at(format!("TLS key file '{k}' is set, but no certificate file (StreamDriver.CertFile or DefaultNetstreamDriverCertFile)"))),
    };
    if let Some(k) = &s.key_file {
        if let Some(w) = pem::key_mode_warning(k) {
            warnings.push(format!("{}: warning: {w}", s.loc));
        }
    }
    let (mut ca, mut crls) = match &s.ca_file {
        Some(f) => pem::ca(f).map_err(at)?,
        None if s.ca_extra.is_empty() && matches!(s.auth, AuthMode::CertValid | AuthMode::Name) => {
            return Err(at(format!("auth mode {} needs a CA file to check the peer's certificate: set StreamDriver.CAFile or global(DefaultNetstreamDriverCAFile=…)", s.auth.as_str())));
        }
        None => (Vec::new(), Vec::new()),
    };
    for f in &s.ca_extra {
        let (c, l) = pem::ca(f).map_err(at)?;
        ca.extend(c);
        crls.extend(l);
    }
    if let Some(f) = &s.crl_file {
        crls.extend(pem::crls(f).map_err(at)?);
    }
    if let (Some(k), Some(cf)) = (&key, &s.cert_file) {
        let signer = provider()
            .key_provider
            .load_private_key(k.clone_key())
            .map_err(|e| at(format!("TLS key file '{}' holds a key rustls cannot use (RSA or ECDSA P-256/P-384 expected): {e}", s.key_file.as_deref().unwrap_or(""))))?;
        CertifiedKey::new(certs.clone(), signer)
            .keys_match()
            .map_err(|_| {
                at(format!(
                    "TLS key file '{}' does not match the certificate in '{cf}'",
                    s.key_file.as_deref().unwrap_or("")
                ))
            })?;
        // (pem::certs returns at least one certificate or an error)
        let (nb, na) = certinfo::validity(&certs[0]).map_err(at)?;
        let now = UnixTime::now().as_secs() as i64;
        if now > na {
            return Err(at(format!(
                "the certificate in TLS certificate file '{cf}' expired on {}",
                certinfo::utc(na)
            )));
        }
        if now < nb {
            return Err(at(format!(
                "the certificate in TLS certificate file '{cf}' is not yet valid (valid from {})",
                certinfo::utc(nb)
            )));
        }
        // Our own chain against our CA: peers checking us against the same CA would refuse
        // us. Only a warning: a CA file may legitimately name another CA (the peers').
        if !ca.is_empty() {
            let p = Policy::new(AuthMode::CertValid, Vec::new(), None, &ca, &[]).map_err(at)?;
            if let Err(r) = p.check(&certs[0], &certs[1..], UnixTime::now()) {
                warnings.push(format!(
                    "{}: warning: the certificate in '{cf}' does not verify against the CA file '{}': {r}",
                    s.loc,
                    s.ca_file.as_deref().unwrap_or("")
                ));
            }
        }
    }
    for p in &s.peers {
        if !super::peers::valid(p) {
            return Err(at(format!("invalid permitted peer wildcard '{p}' ('*' only at the start or end of a name component)")));
        }
    }
    Ok(Material {
        certs,
        key,
        ca,
        crls,
    })
}

fn policy(
    s: &TlsSettings,
    m: &Material,
    connect_host: Option<String>,
) -> Result<Arc<Policy>, String> {
    let peer_is_server = connect_host.is_some();
    Policy::new(s.auth, s.peers.clone(), connect_host, &m.ca, &m.crls)
        .map(|mut p| {
            p.prioritize_san = s.prioritize_san;
            p.ossl_names = s.ossl;
            p.permit_expired = s.permit_expired;
            // the peer of a client (omfwd) is a server
            p.check_eku = s.check_eku.then_some(peer_is_server);
            Arc::new(p)
        })
        .map_err(|e| {
            format!(
                "{}: error: CA file '{}': {e}",
                s.loc,
                s.ca_file.as_deref().unwrap_or("")
            )
        })
}

/// The server (imtcp) side; warnings (key file mode, own chain) are returned for reporting.
pub fn server_config(s: &TlsSettings) -> Result<(Arc<ServerConfig>, Vec<String>), String> {
    let mut warnings = Vec::new();
    let m = load(s, Role::Server, &mut warnings)?;
    let verifier = Arc::new(ClientVerifier::new(policy(s, &m, None)?));
    let (Some(key), certs) = (m.key, m.certs) else {
        return Err(format!("{}: error: a TLS listener needs a key", s.loc));
    };
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("{}: error: TLS: {e}", s.loc))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: error: TLS certificate/key: {e}", s.loc))?;
    let mut cfg = cfg;
    // No TLS 1.3 session tickets: syslog senders never resume, and rsyslog's clients never
    // read, so an unread ticket turns their close into a connection reset.
    cfg.send_tls13_tickets = 0;
    Ok((Arc::new(cfg), warnings))
}

/// The client (omfwd) side for a connection to `target` (the configured host).
pub fn client_config(
    s: &TlsSettings,
    target: &str,
) -> Result<(Arc<ClientConfig>, Vec<String>), String> {
    let mut warnings = Vec::new();
    let m = load(s, Role::Client, &mut warnings)?;
    let verifier = Arc::new(ServerVerifier::new(policy(
        s,
        &m,
        Some(target.to_string()),
    )?));
    let b = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("{}: error: TLS: {e}", s.loc))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let cfg = match m.key {
        Some(key) => b
            .with_client_auth_cert(m.certs, key)
            .map_err(|e| format!("{}: error: TLS certificate/key: {e}", s.loc))?,
        None => b.with_no_client_auth(),
    };
    Ok((Arc::new(cfg), warnings))
}

/// Everything `-N1` and the start check for TLS: every TLS listener's and action's files.
/// Returns (errors, warnings).
pub fn check_config(cfg: &Config) -> (Vec<String>, Vec<String>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    for i in cfg
        .inputs
        .iter()
        .filter(|i| i.module.eq_ignore_ascii_case("imtcp"))
    {
        match super::settings::for_imtcp(cfg, i) {
            Ok(Some(s)) => match server_config(&s) {
                Ok((_, w)) => warnings.extend(w),
                Err(e) => errors.push(e),
            },
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    for a in cfg
        .actions
        .iter()
        .filter(|a| a.module.eq_ignore_ascii_case("omfwd"))
    {
        match super::settings::for_omfwd(cfg, a) {
            Ok(Some(s)) => {
                let host = a.params.str("target").unwrap_or("");
                match client_config(&s, host) {
                    Ok((_, w)) => warnings.extend(w),
                    Err(e) => errors.push(e),
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostics::Location;
    use crate::tls::testcerts;
    use std::io::{BufRead, Read, Write};

    fn settings(
        auth: AuthMode,
        ca: Option<&str>,
        cert: Option<(&str, &str)>,
        peers: &[&str],
    ) -> TlsSettings {
        let c = testcerts::get();
        TlsSettings {
            auth,
            peers: peers.iter().map(|s| s.to_string()).collect(),
            ca_file: ca.map(|f| c.p(f)),
            cert_file: cert.map(|(f, _)| c.p(f)),
            key_file: cert.map(|(_, k)| c.p(k)),
            crl_file: None,
            ca_extra: Vec::new(),
            remote_sni: None,
            prioritize_san: false,
            permit_expired: super::super::settings::Expired::Deny,
            check_eku: false,
            ossl: false,
            loc: Location {
                file: "t.conf".into(),
                line: 1,
                col: 1,
            },
        }
    }

    fn describe(e: std::io::Error) -> String {
        super::super::reason::describe_io(&e)
    }

    /// A real handshake over 127.0.0.1 plus one line from client to server: (server's
    /// result, client's result).
    fn handshake(
        srv: &TlsSettings,
        cli: &TlsSettings,
        target: &str,
    ) -> (Result<String, String>, Result<(), String>) {
        let (ccfg, _) = client_config(cli, target).expect("client config");
        handshake_with(srv, ccfg, target)
    }

    /// A client with any certificate (also expired ones, which client_config refuses).
    fn raw_client(cert: &str, key: &str) -> Arc<ClientConfig> {
        let c = testcerts::get();
        let p = Policy::new(AuthMode::Anon, Vec::new(), None, &[], &[]).unwrap();
        let cfg = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ServerVerifier::new(Arc::new(p))))
            .with_client_auth_cert(
                pem::certs(&c.p(cert)).unwrap(),
                pem::key(&c.p(key)).unwrap(),
            )
            .unwrap();
        Arc::new(cfg)
    }

    fn handshake_with(
        srv: &TlsSettings,
        ccfg: Arc<ClientConfig>,
        target: &str,
    ) -> (Result<String, String>, Result<(), String>) {
        let (scfg, _) = server_config(srv).expect("server config");
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let server = std::thread::spawn(move || -> Result<String, String> {
            let (s, _) = l.accept().map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let conn = rustls::ServerConnection::new(scfg).map_err(|e| e.to_string())?;
            let mut t = rustls::StreamOwned::new(conn, s);
            let mut line = String::new();
            std::io::BufReader::new(&mut t)
                .read_line(&mut line)
                .map_err(describe)?;
            Ok(line)
        });
        let client = (|| -> Result<(), String> {
            let s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .ok();
            let name = rustls_pki_types::ServerName::try_from(target.to_string())
                .map_err(|e| e.to_string())?;
            let conn = rustls::ClientConnection::new(ccfg, name).map_err(|e| e.to_string())?;
            let mut t = rustls::StreamOwned::new(conn, s);
            while t.conn.is_handshaking() {
                t.conn.complete_io(&mut t.sock).map_err(describe)?;
            }
            t.write_all(b"hello\n").map_err(describe)?;
            t.flush().map_err(describe)?;
            // wait for the server's verdict (TLS 1.3 client certificates are checked after
            // the client finished)
            let mut b = [0u8; 1];
            match t.read(&mut b) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
                Err(e) => Err(describe(e)),
            }
        })();
        let s = server.join().expect("server thread");
        (s, client)
    }

    const SRV: Option<(&str, &str)> = Some(("srv.pem", "srv-key.pem"));
    const CLI: Option<(&str, &str)> = Some(("cli.pem", "cli-key.pem"));

    fn server_refuses(client_cert: Option<(&str, &str)>, srv: TlsSettings, want: &str) {
        let cli = match client_cert {
            Some((c, k)) => raw_client(c, k),
            None => {
                client_config(&settings(AuthMode::Anon, None, None, &[]), "x")
                    .unwrap()
                    .0
            }
        };
        let (s, _) = handshake_with(&srv, cli, "srv.example.net");
        let e = s.expect_err("the server must refuse");
        assert!(e.contains(want), "{e}");
    }

    #[test]
    fn anon_and_certvalid_and_name_succeed() {
        let (s, c) = handshake(
            &settings(AuthMode::Anon, None, SRV, &[]),
            &settings(AuthMode::Anon, None, None, &[]),
            "localhost",
        );
        assert_eq!(s.unwrap(), "hello\n");
        c.unwrap();
        let (s, c) = handshake(
            &settings(AuthMode::CertValid, Some("ca.pem"), SRV, &[]),
            &settings(AuthMode::CertValid, Some("ca.pem"), CLI, &[]),
            "srv.example.net",
        );
        assert_eq!(s.unwrap(), "hello\n");
        c.unwrap();
        // the client's default permitted peer is the target; the server's a wildcard
        let (s, c) = handshake(
            &settings(AuthMode::Name, Some("ca.pem"), SRV, &["*.example.net"]),
            &settings(AuthMode::Name, Some("ca.pem"), CLI, &[]),
            "srv.example.net",
        );
        assert_eq!(s.unwrap(), "hello\n");
        c.unwrap();
    }

    #[test]
    fn cn_only_no_eku_accepted_sha1_signed_refused() {
        let srv = settings(AuthMode::Name, Some("ca.pem"), SRV, &["cnonly.example.net"]);
        let (s, c) = handshake(
            &srv,
            &settings(
                AuthMode::CertValid,
                Some("ca.pem"),
                Some(("cn.pem", "cn-key.pem")),
                &[],
            ),
            "srv.example.net",
        );
        assert_eq!(s.unwrap(), "hello\n");
        c.unwrap();
        // SHA-1: refused as rsyslogd's gtls and ossl on Debian refuse it (tests/tls_interop.rs
        // compares with them)
        let (s, _) = handshake_with(&srv, raw_client("sha1.pem", "cn-key.pem"), "x");
        let e = s.unwrap_err();
        assert!(e.contains("insecure algorithm"), "{e}");
    }

    #[test]
    fn server_refuses_bad_clients_with_the_reason() {
        let name = || {
            settings(
                AuthMode::Name,
                Some("ca.pem"),
                SRV,
                &["nothere.example.org"],
            )
        };
        server_refuses(CLI, name(), "name not permitted: the certificate carries DNSname: cli.example.net; CN: cli.example.net;");
        let valid = || settings(AuthMode::CertValid, Some("ca.pem"), SRV, &[]);
        server_refuses(Some(("other.pem", "other-key.pem")), valid(), "unknown CA");
        // netstreamDriverCaExtraFiles: the other CA is trusted too
        let mut extra = valid();
        extra.ca_extra = vec![testcerts::get().p("ca2.pem")];
        let (s, _) = handshake_with(&extra, raw_client("other.pem", "other-key.pem"), "x");
        s.unwrap();
        server_refuses(
            Some(("old.pem", "old-key.pem")),
            valid(),
            "certificate expired",
        );
        server_refuses(
            Some(("new.pem", "old-key.pem")),
            valid(),
            "certificate not yet valid",
        );
        server_refuses(None, valid(), "no client certificate");
        let crl = settings(AuthMode::CertValid, Some("ca-crl.pem"), SRV, &[]);
        server_refuses(Some(("rev.pem", "rev-key.pem")), crl, "certificate revoked");
        // the same certificate without the CRL is fine
        let (s, _) = handshake(
            &valid(),
            &settings(AuthMode::Anon, None, Some(("rev.pem", "rev-key.pem")), &[]),
            "srv.example.net",
        );
        s.unwrap();
    }

    #[test]
    fn permit_expired_certs_and_extended_key_purpose() {
        use crate::tls::settings::Expired;
        let mut srv = settings(AuthMode::CertValid, Some("ca.pem"), SRV, &[]);
        for (mode, ok) in [
            (Expired::Deny, false),
            (Expired::Warn, true),
            (Expired::Permit, true),
        ] {
            srv.permit_expired = mode;
            let (s, _) = handshake_with(&srv, raw_client("old.pem", "old-key.pem"), "x");
            assert_eq!(s.is_ok(), ok, "{mode:?}: {s:?}");
        }
        // not yet valid stays refused
        let (s, _) = handshake_with(&srv, raw_client("new.pem", "old-key.pem"), "x");
        assert!(s.unwrap_err().contains("not yet valid"));
        // CheckExtendedKeyPurpose: a server-only certificate is no client; no EKU is fine
        let mut srv = settings(AuthMode::CertValid, Some("ca.pem"), SRV, &[]);
        handshake_with(&srv, raw_client("srvonly.pem", "srv-key.pem"), "x")
            .0
            .unwrap();
        srv.check_eku = true;
        let e = handshake_with(&srv, raw_client("srvonly.pem", "srv-key.pem"), "x")
            .0
            .unwrap_err();
        assert!(e.contains("key purpose"), "{e}");
        handshake_with(&srv, raw_client("cn.pem", "cn-key.pem"), "x")
            .0
            .unwrap();
        handshake_with(&srv, raw_client("cli.pem", "cli-key.pem"), "x")
            .0
            .unwrap();
        // as a client: the server's certificate must allow a server
        let only = settings(
            AuthMode::Anon,
            None,
            Some(("srvonly.pem", "srv-key.pem")),
            &[],
        );
        let mut cli = settings(AuthMode::CertValid, Some("ca.pem"), None, &[]);
        cli.check_eku = true;
        handshake(&only, &cli, "x").1.unwrap();
    }

    fn openssl_fingerprint(file: &str, digest: &str) -> String {
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", digest, "-in", file])
            .output()
            .expect("openssl");
        let s = String::from_utf8_lossy(&out.stdout);
        // "SHA1 Fingerprint=AA:BB…"
        let (alg, fp) = s
            .trim()
            .split_once(" Fingerprint=")
            .expect("fingerprint line");
        format!("{}:{fp}", alg.to_ascii_uppercase())
    }

    #[test]
    fn fingerprints_as_openssl_prints_them() {
        let c = testcerts::get();
        let sha1 = openssl_fingerprint(&c.p("self.pem"), "-sha1");
        let sha256 = openssl_fingerprint(&c.p("self.pem"), "-sha256");
        let der = crate::tls::pem::certs(&c.p("self.pem")).unwrap();
        assert_eq!(crate::tls::certinfo::sha1_fingerprint(&der[0]), sha1);
        assert_eq!(crate::tls::certinfo::sha256_fingerprint(&der[0]), sha256);
        let cli = settings(
            AuthMode::Anon,
            None,
            Some(("self.pem", "self-key.pem")),
            &[],
        );
        for fp in [sha1.to_ascii_lowercase(), sha256.clone()] {
            let srv = settings(AuthMode::Fingerprint, None, SRV, &[&fp]);
            let (s, _) = handshake(&srv, &cli, "srv.example.net");
            assert_eq!(s.unwrap(), "hello\n");
        }
        let srv = settings(AuthMode::Fingerprint, None, SRV, &["SHA1:00:11"]);
        let (s, _) = handshake(&srv, &cli, "srv.example.net");
        let e = s.unwrap_err();
        assert!(
            e.contains("fingerprint mismatch") && e.contains(&sha1),
            "{e}"
        );
    }

    #[test]
    fn client_refuses_bad_servers_with_the_reason() {
        let srv = settings(AuthMode::Anon, None, SRV, &[]);
        let (_, c) = handshake(
            &srv,
            &settings(AuthMode::CertValid, Some("ca2.pem"), None, &[]),
            "srv.example.net",
        );
        assert!(c.unwrap_err().contains("unknown CA"));
        let (_, c) = handshake(
            &srv,
            &settings(AuthMode::Name, Some("ca.pem"), None, &[]),
            "other.example.net",
        );
        let e = c.unwrap_err();
        assert!(
            e.contains("name not permitted") && e.contains("DNSname: alt.example.net"),
            "{e}"
        );
        let (_, c) = handshake(
            &srv,
            &settings(AuthMode::Name, Some("ca.pem"), None, &["alt.example.net"]),
            "other.example.net",
        );
        c.unwrap();
        // a server whose CN is not among its SANs: the CN counts unless PrioritizeSAN
        let mixed = settings(
            AuthMode::Anon,
            None,
            Some(("mixed.pem", "srv-key.pem")),
            &[],
        );
        let mut by_cn = settings(
            AuthMode::Name,
            Some("ca.pem"),
            None,
            &["cn-name.example.net"],
        );
        handshake(&mixed, &by_cn, "x").1.unwrap();
        by_cn.prioritize_san = true;
        let e = handshake(&mixed, &by_cn, "x").1.unwrap_err();
        assert!(e.contains("name not permitted"), "{e}");
    }

    #[test]
    fn file_errors_name_the_file_and_cause() {
        let err = |cert: &str, key: &str| {
            server_config(&settings(AuthMode::Anon, None, Some((cert, key)), &[]))
                .map(|_| ())
                .unwrap_err()
        };
        let e = err("srv.pem", "missing-key.pem");
        assert!(
            e.contains("missing-key.pem") && e.contains("no such file") && e.contains("as user"),
            "{e}"
        );
        assert!(err("srv.pem", "enc-key.pem").contains("encrypted"));
        let e = err("garbage.pem", "srv-key.pem");
        assert!(
            e.contains("garbage.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
        let e = err("srv.pem", "cli-key.pem");
        assert!(e.contains("does not match the certificate"), "{e}");
        let e = err("old.pem", "old-key.pem");
        assert!(e.contains("expired on 2020-02-01"), "{e}");
        assert!(err("new.pem", "old-key.pem").contains("not yet valid"));
        let e = server_config(&settings(AuthMode::CertValid, None, SRV, &[]))
            .map(|_| ())
            .unwrap_err();
        assert!(e.contains("needs a CA file"), "{e}");
        // our own certificate not from the CA: a warning only
        let (_, w) =
            server_config(&settings(AuthMode::CertValid, Some("ca2.pem"), SRV, &[])).unwrap();
        assert!(
            w.iter()
                .any(|w| w.contains("does not verify against the CA file")),
            "{w:?}"
        );
    }

    #[test]
    fn group_readable_key_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let c = testcerts::get();
        let t = tempfile::tempdir().unwrap();
        let k = t.path().join("k.pem");
        std::fs::copy(c.p("srv-key.pem"), &k).unwrap();
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut s = settings(AuthMode::Anon, None, SRV, &[]);
        s.key_file = Some(k.to_string_lossy().into_owned());
        let (_, w) = server_config(&s).unwrap();
        assert!(
            w.iter().any(|w| w.contains("readable by its group")),
            "{w:?}"
        );
    }
}
