//! Test certificates made with the real tools people use for rsyslog (certtool templates as
//! in the rsyslog TLS how-to, openssl for key conversions), once per test process in a
//! temp dir: a CA, server/client certificates (SAN, CN-only without EKU), RSA and ECDSA keys
//! in PKCS#1, PKCS#8 and SEC1, an unrelated CA, expired, not-yet-valid, revoked (+ CRL),
//! SHA-1-signed and self-signed certificates, an encrypted key.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Certs {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Certs {
    /// The path of a generated file as a string.
    pub fn p(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn key(dir: &Path, name: &str, ecdsa: bool) {
    let mut a = vec!["certtool", "--generate-privkey", "--outfile", name];
    if ecdsa {
        a.extend(["--key-type", "ecdsa"]);
    } else {
        a.extend(["--bits", "2048"]);
    }
    run(dir, &a);
}

fn template(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).expect("write template");
}

fn cert(dir: &Path, name: &str, key: &str, ca: &str, ca_key: &str, tmpl: &str, extra: &[&str]) {
    let mut a = vec![
        "certtool",
        "--generate-certificate",
        "--load-privkey",
        key,
        "--load-ca-certificate",
        ca,
        "--load-ca-privkey",
        ca_key,
        "--template",
        tmpl,
        "--outfile",
        name,
    ];
    a.extend(extra);
    run(dir, &a);
}

const BOTH: &str = "tls_www_server\ntls_www_client\nexpiration_days = 365\n";

/// The certificates, made on first use.
pub fn get() -> &'static Certs {
    static C: OnceLock<Certs> = OnceLock::new();
    C.get_or_init(|| {
        let t = tempfile::tempdir().expect("temp dir");
        let d = t.path().to_path_buf();
        // CA (RSA, PKCS#1 key as certtool writes it)
        key(&d, "ca-key.pem", false);
        template(&d, "ca.tmpl", "cn = \"Test CA\"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 3650\n");
        run(&d, &["certtool", "--generate-self-signed", "--load-privkey", "ca-key.pem", "--template", "ca.tmpl", "--outfile", "ca.pem"]);
        // an unrelated CA
        key(&d, "ca2-key.pem", true);
        template(&d, "ca2.tmpl", "cn = \"Other CA\"\nca\ncert_signing_key\nexpiration_days = 3650\n");
        run(&d, &["certtool", "--generate-self-signed", "--load-privkey", "ca2-key.pem", "--template", "ca2.tmpl", "--outfile", "ca2.pem"]);
        // server: ECDSA key in SEC1, SAN + CN
        key(&d, "srv-key.pem", true);
        template(&d, "srv.tmpl", &format!("cn = \"srv.example.net\"\ndns_name = \"srv.example.net\"\ndns_name = \"alt.example.net\"\n{BOTH}"));
        cert(&d, "srv.pem", "srv-key.pem", "ca.pem", "ca-key.pem", "srv.tmpl", &[]);
        // a TLS WWW server only certificate (for CheckExtendedKeyPurpose)
        template(
            &d,
            "srvonly.tmpl",
            "cn = \"srvonly.example.net\"\ntls_www_server\nexpiration_days = 365\n",
        );
        cert(&d, "srvonly.pem", "srv-key.pem", "ca.pem", "ca-key.pem", "srvonly.tmpl", &[]);
        // a CN that is not among the SANs (for PrioritizeSAN)
        template(&d, "mixed.tmpl", &format!("cn = \"cn-name.example.net\"\ndns_name = \"san-name.example.net\"\n{BOTH}"));
        cert(&d, "mixed.pem", "srv-key.pem", "ca.pem", "ca-key.pem", "mixed.tmpl", &[]);
        // client: RSA key in PKCS#8
        key(&d, "cli-key1.pem", false);
        run(&d, &["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "cli-key1.pem", "-out", "cli-key.pem"]);
        template(&d, "cli.tmpl", &format!("cn = \"cli.example.net\"\ndns_name = \"cli.example.net\"\n{BOTH}"));
        cert(&d, "cli.pem", "cli-key.pem", "ca.pem", "ca-key.pem", "cli.tmpl", &[]);
        // CN only, no SAN, no EKU; RSA key in PKCS#1
        key(&d, "cn-key.pem", false);
        template(&d, "cn.tmpl", "cn = \"cnonly.example.net\"\nexpiration_days = 365\n");
        cert(&d, "cn.pem", "cn-key.pem", "ca.pem", "ca-key.pem", "cn.tmpl", &[]);
        // SHA-1-signed legacy certificate (refused, as by rsyslogd on Debian)
        cert(&d, "sha1.pem", "cn-key.pem", "ca.pem", "ca-key.pem", "cn.tmpl", &["--hash", "SHA1"]);
        // signed by the other CA
        key(&d, "other-key.pem", true);
        cert(&d, "other.pem", "other-key.pem", "ca2.pem", "ca2-key.pem", "srv.tmpl", &[]);
        // expired, not yet valid
        key(&d, "old-key.pem", true);
        template(&d, "old.tmpl", "cn = \"old.example.net\"\ndns_name = \"old.example.net\"\ntls_www_server\ntls_www_client\nactivation_date = \"2020-01-01 00:00:00\"\nexpiration_date = \"2020-02-01 00:00:00\"\n");
        cert(&d, "old.pem", "old-key.pem", "ca.pem", "ca-key.pem", "old.tmpl", &[]);
        template(&d, "new.tmpl", "cn = \"new.example.net\"\ndns_name = \"new.example.net\"\ntls_www_server\ntls_www_client\nactivation_date = \"2090-01-01 00:00:00\"\nexpiration_date = \"2091-01-01 00:00:00\"\n");
        cert(&d, "new.pem", "old-key.pem", "ca.pem", "ca-key.pem", "new.tmpl", &[]);
        // revoked, and the CA file with the CRL appended
        key(&d, "rev-key.pem", true);
        template(&d, "rev.tmpl", &format!("cn = \"rev.example.net\"\ndns_name = \"rev.example.net\"\n{BOTH}"));
        cert(&d, "rev.pem", "rev-key.pem", "ca.pem", "ca-key.pem", "rev.tmpl", &[]);
        template(&d, "crl.tmpl", "crl_next_update = 365\ncrl_number = 1\n");
        run(&d, &["certtool", "--generate-crl", "--load-ca-privkey", "ca-key.pem", "--load-ca-certificate", "ca.pem", "--load-certificate", "rev.pem", "--template", "crl.tmpl", "--outfile", "crl.pem"]);
        let mut both = std::fs::read(d.join("ca.pem")).expect("ca");
        both.extend(std::fs::read(d.join("crl.pem")).expect("crl"));
        std::fs::write(d.join("ca-crl.pem"), both).expect("write");
        // self-signed peer (fingerprint mode)
        key(&d, "self-key.pem", true);
        template(&d, "self.tmpl", &format!("cn = \"self.example.net\"\n{BOTH}"));
        run(&d, &["certtool", "--generate-self-signed", "--load-privkey", "self-key.pem", "--template", "self.tmpl", "--outfile", "self.pem"]);
        // an encrypted key, and a file that is not PEM
        run(&d, &["openssl", "pkcs8", "-topk8", "-in", "srv-key.pem", "-passout", "pass:secret", "-out", "enc-key.pem"]);
        std::fs::write(d.join("garbage.pem"), "this is not PEM\n").expect("write");
        for f in std::fs::read_dir(&d).expect("dir").flatten() {
            // the key files are only the owner's (a group/other-readable one is a warning)
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o600));
        }
        Certs { _dir: t, dir: d }
    })
}
