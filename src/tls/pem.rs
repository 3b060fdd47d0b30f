//! Loading the PEM files of a TLS endpoint, with errors a person can act on: a missing or
//! unreadable file (and as which user), an encrypted key, a file that is not PEM or holds no
//! certificate/key, a key that does not match its certificate. RSA and ECDSA keys in PKCS#1,
//! PKCS#8 and SEC1 form; a CA file may also carry CRLs. A key file readable by group or
//! others is reported as a warning.

use std::os::unix::fs::PermissionsExt;

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

/// The effective user, for "cannot read … as user …".
pub fn whoami() -> String {
    let uid = nix::unistd::geteuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

/// Reads a file, naming it, what it is for, and the user on failure.
pub fn read(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        format!(
            "TLS {what} file '{path}' cannot be read as user {}: {reason}",
            whoami()
        )
    })
}

/// All PEM sections of a file (kind, DER).
fn sections(path: &str, what: &str, data: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for s in <(SectionKind, Vec<u8>)>::pem_slice_iter(data) {
        match s {
            Ok(x) => out.push(x),
            Err(e) => return Err(format!("TLS {what} file '{path}' is not valid PEM: {e}")),
        }
    }
    Ok(out)
}

/// The certificates of a certificate file (own certificate first, then its chain).
pub fn certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = read(path, "certificate")?;
    let certs: Vec<CertificateDer<'static>> = sections(path, "certificate", &data)?
        .into_iter()
        .filter(|(k, _)| *k == SectionKind::Certificate)
        .map(|(_, d)| CertificateDer::from(d))
        .collect();
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate file '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    for c in &certs {
        super::certinfo::validity(c).map_err(|e| format!("TLS certificate file '{path}': {e}"))?;
    }
    Ok(certs)
}

/// The CA certificates and CRLs of a CA file.
#[allow(clippy::type_complexity)]
pub fn ca(
    path: &str,
) -> Result<
    (
        Vec<CertificateDer<'static>>,
        Vec<CertificateRevocationListDer<'static>>,
    ),
    String,
> {
    let data = read(path, "CA")?;
    let mut certs = Vec::new();
    let mut crls = Vec::new();
    for (k, d) in sections(path, "CA", &data)? {
        match k {
            SectionKind::Certificate => certs.push(CertificateDer::from(d)),
            SectionKind::Crl => crls.push(CertificateRevocationListDer::from(d)),
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "TLS CA file '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok((certs, crls))
}

/// The CRLs of a CRL file.
pub fn crls(path: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let data = read(path, "CRL")?;
    let crls: Vec<_> = sections(path, "CRL", &data)?
        .into_iter()
        .filter(|(k, _)| *k == SectionKind::Crl)
        .map(|(_, d)| CertificateRevocationListDer::from(d))
        .collect();
    if crls.is_empty() {
        return Err(format!(
            "TLS CRL file '{path}' holds no PEM CRL (-----BEGIN X509 CRL-----)"
        ));
    }
    Ok(crls)
}

/// The private key of a key file (the first key in it).
pub fn key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let data = read(path, "key")?;
    let text = String::from_utf8_lossy(&data);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err(format!("TLS key file '{path}' holds an encrypted (password-protected) key; rsyslog-compatible drivers need it unencrypted"));
    }
    for (k, d) in sections(path, "key", &data)? {
        let key = match k {
            SectionKind::RsaPrivateKey => PrivateKeyDer::Pkcs1(d.into()),
            SectionKind::PrivateKey => PrivateKeyDer::Pkcs8(d.into()),
            SectionKind::EcPrivateKey => PrivateKeyDer::Sec1(d.into()),
            _ => continue,
        };
        return Ok(super::eckey::normalize(key));
    }
    Err(format!("TLS key file '{path}' holds no PEM private key (RSA PRIVATE KEY, PRIVATE KEY or EC PRIVATE KEY)"))
}

/// A warning when the key file is readable by group or others.
pub fn key_mode_warning(path: &str) -> Option<String> {
    let m = std::fs::metadata(path).ok()?.permissions().mode();
    (m & 0o044 != 0).then(|| {
        format!(
            "TLS key file '{path}' is readable by {} (mode {:04o}); it should be readable by its owner only (chmod 600)",
            if m & 0o004 != 0 { "everyone" } else { "its group" },
            m & 0o7777
        )
    })
}
