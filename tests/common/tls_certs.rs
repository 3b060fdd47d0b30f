//! Test certificates for the TLS tests, made at test time (nothing committed): a CA and peers
//! signed by it with `certtool` templates as the rsyslog TLS how-to has people answer them
//! (keys with certtool's text preamble, SAN + EKU, CN-only without SAN and EKU), keys of every
//! form `openssl` writes (RSA PKCS#1/PKCS#8, ECDSA SEC1/PKCS#8), a second unrelated CA, expired,
//! not-yet-valid and revoked certificates with a CRL, a self-signed peer and the fingerprints
//! rsyslog prints ("SHA1:AA:BB:…", "SHA256:…"), and broken key files for start-up errors.
//! Made once per test process ([`certs`]) in a directory under the cargo target dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A certificate with its key, and the fingerprints of the certificate in rsyslog's format.
#[derive(Debug, Clone)]
pub struct Peer {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub sha1: String,
    pub sha256: String,
}

/// Everything [`certs`] makes; all paths absolute.
#[derive(Debug)]
pub struct Certs {
    pub dir: PathBuf,
    /// The CA that signs everything below unless said otherwise.
    pub ca: PathBuf,
    /// An unrelated CA (signs `wrong_server` / `wrong_client`).
    pub wrong_ca: PathBuf,
    /// `ca` followed by `wrong_ca` in one file.
    pub both_cas: PathBuf,
    /// CN server.example.net, SAN dNSName server.example.net + localhost, iPAddress
    /// 127.0.0.1, EKU serverAuth+clientAuth; RSA key, PKCS#1 with certtool's text preamble.
    pub server: Peer,
    /// CN client.example.net, SAN client.example.net + logs.example.org; EKU
    /// clientAuth+serverAuth; RSA PKCS#1 key (certtool).
    pub client: Peer,
    /// The same names as `server`, with RSA PKCS#8, ECDSA P-256 SEC1 and ECDSA P-384 PKCS#8
    /// keys (openssl).
    pub server_rsa_pkcs8: Peer,
    pub server_ec_sec1: Peer,
    pub server_ec_pkcs8: Peer,
    /// The same names as `client` with an ECDSA SEC1 key.
    pub client_ec_sec1: Peer,
    /// Names of `client`, signed by `ca` with SHA-1 (certtool --hash SHA1), as old setups have.
    pub client_sha1: Peer,
    /// CN and SAN deep.sub.example.net (for wildcard depth).
    pub deep_name: Peer,
    /// SAN dNSName sanname.example.net, CN cnname.example.net (the names differ).
    pub san_cn_differ: Peer,
    /// CN only (cnonly.example.net): no SAN, no EKU (certtool template without dns_name and
    /// without tls_www_*).
    pub cn_only: Peer,
    /// Names of `server` / `client`, signed by `wrong_ca`.
    pub wrong_server: Peer,
    pub wrong_client: Peer,
    /// Names of `server` / `client`, validity 2020-01-01 … 2021-01-01.
    pub expired_server: Peer,
    pub expired_client: Peer,
    /// Names of `server` / `client`, validity 2045-01-01 … 2046-01-01.
    pub notyet_server: Peer,
    pub notyet_client: Peer,
    /// Names of `server` / `client`, revoked in `crl`.
    pub revoked_server: Peer,
    pub revoked_client: Peer,
    /// CRL by `ca` revoking `revoked_server` and `revoked_client`.
    pub crl: PathBuf,
    /// `ca` followed by `crl` in one file (8.2302 has no CRL parameter; oxsyslogd reads the
    /// CRLs in the CA file).
    pub ca_with_crl: PathBuf,
    /// Self-signed, not a CA: CN/SAN selfsigned.example.net.
    pub self_signed: Peer,
    /// Start-up error cases: an encrypted PKCS#8 key, an encrypted traditional key
    /// (Proc-Type: 4,ENCRYPTED), a DER (not PEM) key, a text file that is not PEM, a directory
    /// where a key should be (unreadable even for root), and a path that does not exist.
    pub key_encrypted_pkcs8: PathBuf,
    pub key_encrypted_legacy: PathBuf,
    pub key_der: PathBuf,
    pub key_not_pem: PathBuf,
    pub key_is_dir: PathBuf,
    pub key_missing: PathBuf,
}

static CERTS: OnceLock<Certs> = OnceLock::new();

/// The test certificates, made on first use (a few seconds) and shared by the process.
pub fn certs() -> &'static Certs {
    CERTS.get_or_init(make)
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env("GNUTLS_SYSTEM_PRIORITY_FILE", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Keys are made 0600, as a careful admin would (the daemon warns about wider modes).
fn chmod600(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// An RSA key as certtool writes it (PKCS#1 with a "Public Key Info:" text preamble).
fn certtool_key(dir: &Path, name: &str) {
    run(
        dir,
        "certtool",
        &["--generate-privkey", "--bits", "2048", "--outfile", name],
    );
    chmod600(&dir.join(name));
}

/// Signs `key` with `ca`/`ca_key` using the certtool template `tmpl`; writes `out`.
fn certtool_sign(dir: &Path, tmpl: &str, key: &str, ca: &str, ca_key: &str, out: &str) {
    certtool_sign_hash(dir, tmpl, key, ca, ca_key, out, "SHA256");
}

fn certtool_sign_hash(
    dir: &Path,
    tmpl: &str,
    key: &str,
    ca: &str,
    ca_key: &str,
    out: &str,
    hash: &str,
) {
    let t = format!("{out}.tmpl");
    write(dir, &t, tmpl);
    run(
        dir,
        "certtool",
        &[
            "--generate-certificate",
            "--hash",
            hash,
            "--load-privkey",
            key,
            "--load-ca-certificate",
            ca,
            "--load-ca-privkey",
            ca_key,
            "--template",
            &t,
            "--outfile",
            out,
        ],
    );
}

fn self_signed(dir: &Path, tmpl: &str, key: &str, out: &str) {
    let t = format!("{out}.tmpl");
    write(dir, &t, tmpl);
    run(
        dir,
        "certtool",
        &[
            "--generate-self-signed",
            "--load-privkey",
            key,
            "--template",
            &t,
            "--outfile",
            out,
        ],
    );
}

/// `openssl x509 -fingerprint` ("sha1 Fingerprint=AA:…") in rsyslog's form ("SHA1:AA:…").
fn fingerprint(dir: &Path, cert: &str, alg: &str) -> String {
    let out = run(
        dir,
        "openssl",
        &[
            "x509",
            "-in",
            cert,
            "-noout",
            "-fingerprint",
            &format!("-{alg}"),
        ],
    );
    let hex = out
        .trim()
        .split_once('=')
        .map(|(_, h)| h.to_string())
        .unwrap_or_else(|| panic!("openssl fingerprint output: {out}"));
    format!("{}:{}", alg.to_uppercase(), hex.to_uppercase())
}

fn peer(dir: &Path, cert: &str, key: &str) -> Peer {
    Peer {
        cert: dir.join(cert),
        key: dir.join(key),
        sha1: fingerprint(dir, cert, "sha1"),
        sha256: fingerprint(dir, cert, "sha256"),
    }
}

const SERVER_NAMES: &str = "cn = \"server.example.net\"\ndns_name = \"server.example.net\"\ndns_name = \"localhost\"\nip_address = \"127.0.0.1\"\n";
const CLIENT_NAMES: &str =
    "cn = \"client.example.net\"\ndns_name = \"client.example.net\"\ndns_name = \"logs.example.org\"\n";
/// "a TLS web server and client certificate", as the how-to answers certtool.
const PEER_USAGE: &str = "tls_www_server\ntls_www_client\nsigning_key\nencryption_key\n";

fn peer_tmpl(names: &str, serial: u32, validity: &str) -> String {
    format!("{names}serial = {serial}\n{PEER_USAGE}{validity}")
}

const ONE_YEAR: &str = "expiration_days = 365\n";
const EXPIRED: &str =
    "activation_date = \"2020-01-01 00:00:00\"\nexpiration_date = \"2021-01-01 00:00:00\"\n";
const NOT_YET: &str =
    "activation_date = \"2045-01-01 00:00:00\"\nexpiration_date = \"2046-01-01 00:00:00\"\n";

/// A fresh directory for this process under the target dir; directories of processes that
/// are gone are removed.
fn fresh_dir() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
    std::fs::create_dir_all(&base).unwrap();
    if let Ok(rd) = std::fs::read_dir(&base) {
        for e in rd.flatten() {
            let alive = e
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn make() -> Certs {
    let d = fresh_dir();
    let d = d.as_path();

    // The CA, as in the how-to: certtool key, self-signed, "belongs to an authority".
    certtool_key(d, "ca-key.pem");
    self_signed(
        d,
        "cn = \"oxsyslog test CA\"\norganization = \"oxsyslog tests\"\nserial = 1\nexpiration_days = 3650\nca\ncert_signing_key\ncrl_signing_key\n",
        "ca-key.pem",
        "ca.pem",
    );
    certtool_key(d, "wrongca-key.pem");
    self_signed(
        d,
        "cn = \"unrelated CA\"\nserial = 1\nexpiration_days = 3650\nca\ncert_signing_key\ncrl_signing_key\n",
        "wrongca-key.pem",
        "wrongca.pem",
    );
    let both = format!(
        "{}{}",
        std::fs::read_to_string(d.join("ca.pem")).unwrap(),
        std::fs::read_to_string(d.join("wrongca.pem")).unwrap()
    );
    write(d, "both-cas.pem", &both);

    // Peer keys: certtool RSA (PKCS#1 + preamble) and openssl's forms.
    certtool_key(d, "server-key.pem");
    certtool_key(d, "client-key.pem");
    certtool_key(d, "cnonly-key.pem");
    certtool_key(d, "selfsigned-key.pem");
    run(
        d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa-pkcs8-key.pem",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec-sec1-key.pem",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-out",
            "ec-pkcs8-key.pem",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "client-ec-key.pem",
        ],
    );
    for k in [
        "rsa-pkcs8-key.pem",
        "ec-sec1-key.pem",
        "ec-pkcs8-key.pem",
        "client-ec-key.pem",
    ] {
        chmod600(&d.join(k));
    }

    let sign = |tmpl: String, key: &str, out: &str| {
        certtool_sign(d, &tmpl, key, "ca.pem", "ca-key.pem", out);
    };
    sign(
        peer_tmpl(SERVER_NAMES, 10, ONE_YEAR),
        "server-key.pem",
        "server.pem",
    );
    sign(
        peer_tmpl(CLIENT_NAMES, 11, ONE_YEAR),
        "client-key.pem",
        "client.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 12, ONE_YEAR),
        "rsa-pkcs8-key.pem",
        "server-rsa8.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 13, ONE_YEAR),
        "ec-sec1-key.pem",
        "server-ec1.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 14, ONE_YEAR),
        "ec-pkcs8-key.pem",
        "server-ec8.pem",
    );
    sign(
        peer_tmpl(CLIENT_NAMES, 15, ONE_YEAR),
        "client-ec-key.pem",
        "client-ec1.pem",
    );
    certtool_sign_hash(
        d,
        &peer_tmpl(CLIENT_NAMES, 17, ONE_YEAR),
        "client-key.pem",
        "ca.pem",
        "ca-key.pem",
        "client-sha1.pem",
        "SHA1",
    );
    sign(
        peer_tmpl(
            "cn = \"cnname.example.net\"\ndns_name = \"sanname.example.net\"\n",
            18,
            ONE_YEAR,
        ),
        "client-key.pem",
        "san-cn-differ.pem",
    );
    sign(
        peer_tmpl(
            "cn = \"deep.sub.example.net\"\ndns_name = \"deep.sub.example.net\"\n",
            19,
            ONE_YEAR,
        ),
        "client-key.pem",
        "deep-name.pem",
    );
    // CN only, no SAN, no EKU: the questions left unanswered.
    sign(
        "cn = \"cnonly.example.net\"\nserial = 16\nsigning_key\nencryption_key\nexpiration_days = 365\n"
            .to_string(),
        "cnonly-key.pem",
        "cnonly.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 20, EXPIRED),
        "server-key.pem",
        "server-expired.pem",
    );
    sign(
        peer_tmpl(CLIENT_NAMES, 21, EXPIRED),
        "client-key.pem",
        "client-expired.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 22, NOT_YET),
        "server-key.pem",
        "server-notyet.pem",
    );
    sign(
        peer_tmpl(CLIENT_NAMES, 23, NOT_YET),
        "client-key.pem",
        "client-notyet.pem",
    );
    sign(
        peer_tmpl(SERVER_NAMES, 24, ONE_YEAR),
        "server-key.pem",
        "server-revoked.pem",
    );
    sign(
        peer_tmpl(CLIENT_NAMES, 25, ONE_YEAR),
        "client-key.pem",
        "client-revoked.pem",
    );
    certtool_sign(
        d,
        &peer_tmpl(SERVER_NAMES, 30, ONE_YEAR),
        "server-key.pem",
        "wrongca.pem",
        "wrongca-key.pem",
        "server-wrongca.pem",
    );
    certtool_sign(
        d,
        &peer_tmpl(CLIENT_NAMES, 31, ONE_YEAR),
        "client-key.pem",
        "wrongca.pem",
        "wrongca-key.pem",
        "client-wrongca.pem",
    );
    self_signed(
        d,
        &peer_tmpl(
            "cn = \"selfsigned.example.net\"\ndns_name = \"selfsigned.example.net\"\n",
            40,
            ONE_YEAR,
        ),
        "selfsigned-key.pem",
        "selfsigned.pem",
    );

    // The CRL revoking the two "revoked" certificates.
    let revoked = format!(
        "{}{}",
        std::fs::read_to_string(d.join("server-revoked.pem")).unwrap(),
        std::fs::read_to_string(d.join("client-revoked.pem")).unwrap()
    );
    write(d, "revoked-both.pem", &revoked);
    write(d, "crl.tmpl", "crl_next_update = 365\ncrl_number = 1\n");
    run(
        d,
        "certtool",
        &[
            "--generate-crl",
            "--load-ca-privkey",
            "ca-key.pem",
            "--load-ca-certificate",
            "ca.pem",
            "--load-certificate",
            "revoked-both.pem",
            "--template",
            "crl.tmpl",
            "--outfile",
            "crl.pem",
        ],
    );

    let ca_crl = format!(
        "{}{}",
        std::fs::read_to_string(d.join("ca.pem")).unwrap(),
        std::fs::read_to_string(d.join("crl.pem")).unwrap()
    );
    write(d, "ca-with-crl.pem", &ca_crl);

    // Broken key files for start-up errors.
    run(
        d,
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa-pkcs8-key.pem",
            "-v2",
            "aes256",
            "-passout",
            "pass:secret",
            "-out",
            "enc-pkcs8-key.pem",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "rsa",
            "-in",
            "rsa-pkcs8-key.pem",
            "-traditional",
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            "enc-legacy-key.pem",
        ],
    );
    run(
        d,
        "openssl",
        &[
            "pkey",
            "-in",
            "rsa-pkcs8-key.pem",
            "-outform",
            "DER",
            "-out",
            "key.der",
        ],
    );
    write(
        d,
        "notpem-key.pem",
        "this is not a key\njust some text someone pasted\n",
    );
    std::fs::create_dir_all(d.join("key-is-a-directory.pem")).unwrap();
    for k in [
        "enc-pkcs8-key.pem",
        "enc-legacy-key.pem",
        "key.der",
        "notpem-key.pem",
    ] {
        chmod600(&d.join(k));
    }

    Certs {
        dir: d.to_path_buf(),
        ca: d.join("ca.pem"),
        wrong_ca: d.join("wrongca.pem"),
        both_cas: d.join("both-cas.pem"),
        server: peer(d, "server.pem", "server-key.pem"),
        client: peer(d, "client.pem", "client-key.pem"),
        server_rsa_pkcs8: peer(d, "server-rsa8.pem", "rsa-pkcs8-key.pem"),
        server_ec_sec1: peer(d, "server-ec1.pem", "ec-sec1-key.pem"),
        server_ec_pkcs8: peer(d, "server-ec8.pem", "ec-pkcs8-key.pem"),
        client_ec_sec1: peer(d, "client-ec1.pem", "client-ec-key.pem"),
        client_sha1: peer(d, "client-sha1.pem", "client-key.pem"),
        san_cn_differ: peer(d, "san-cn-differ.pem", "client-key.pem"),
        deep_name: peer(d, "deep-name.pem", "client-key.pem"),
        cn_only: peer(d, "cnonly.pem", "cnonly-key.pem"),
        wrong_server: peer(d, "server-wrongca.pem", "server-key.pem"),
        wrong_client: peer(d, "client-wrongca.pem", "client-key.pem"),
        expired_server: peer(d, "server-expired.pem", "server-key.pem"),
        expired_client: peer(d, "client-expired.pem", "client-key.pem"),
        notyet_server: peer(d, "server-notyet.pem", "server-key.pem"),
        notyet_client: peer(d, "client-notyet.pem", "client-key.pem"),
        revoked_server: peer(d, "server-revoked.pem", "server-key.pem"),
        revoked_client: peer(d, "client-revoked.pem", "client-key.pem"),
        crl: d.join("crl.pem"),
        ca_with_crl: d.join("ca-with-crl.pem"),
        self_signed: peer(d, "selfsigned.pem", "selfsigned-key.pem"),
        key_encrypted_pkcs8: d.join("enc-pkcs8-key.pem"),
        key_encrypted_legacy: d.join("enc-legacy-key.pem"),
        key_der: d.join("key.der"),
        key_not_pem: d.join("notpem-key.pem"),
        key_is_dir: d.join("key-is-a-directory.pem"),
        key_missing: d.join("no-such-key.pem"),
    }
}
