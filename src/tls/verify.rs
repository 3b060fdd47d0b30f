//! rsyslog's auth modes as rustls certificate verifiers, used by both roles (imtcp checks
//! clients, omfwd checks servers). Not webpki's hostname rules: `anon` checks nothing,
//! `x509/certvalid` checks the chain to the CA (validity, CRLs; no EKU requirement, CN-only
//! certificates fine; SHA-1-signed chains refused, as Debian's gnutls and openssl do), `x509/name` adds
//! the permitted-peer check (SAN dNSNames, then CN), `x509/fingerprint` compares the
//! certificate's SHA1/SHA256 fingerprint and checks no chain. The TLS handshake signature is
//! always verified with the ring provider's algorithms.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, ServerName, SignatureVerificationAlgorithm,
    TrustAnchor, UnixTime,
};

use super::certinfo;
use super::peers;
use super::settings::{AuthMode, Expired};

/// Why a peer's certificate was refused, as one phrase (see src/tls/reason.rs).
#[derive(Debug, Clone)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The handshake signature algorithms (ring's).
fn handshake_algs() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

/// The extended key usage a peer's chain must allow: any (rsyslog's default), or with
/// `CheckExtendedKeyPurpose` the peer's role when the certificate names purposes (gnutls's
/// `GNUTLS_DT_KEY_PURPOSE_OID` check).
struct Eku(Option<webpki::KeyUsage>);

impl webpki::ExtendedKeyUsageValidator for Eku {
    fn validate(&self, iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        match &self.0 {
            Some(k) => k.validate(iter),
            None => Ok(()),
        }
    }
}

/// What a peer must satisfy.
pub struct Policy {
    pub mode: AuthMode,
    pub peers: Vec<String>,
    /// omfwd's target: the permitted name when no peers are configured (nsd_gtls.c).
    pub connect_host: Option<String>,
    /// `StreamDriver.PrioritizeSAN`: no CN check when dNSName SANs are present.
    pub prioritize_san: bool,
    /// `permitExpiredCerts`.
    pub permit_expired: Expired,
    /// `CheckExtendedKeyPurpose`, with the purpose the peer must have (`Some(true)`: a server).
    pub check_eku: Option<bool>,
    /// `StreamDriver.Name="ossl"`: the ossl driver's name rules (src/tls/osslnames.rs).
    pub ossl_names: bool,
    roots: Vec<TrustAnchor<'static>>,
    crls: Vec<webpki::CertRevocationList<'static>>,
    chain_algs: Vec<&'static dyn SignatureVerificationAlgorithm>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("mode", &self.mode)
            .field("peers", &self.peers)
            .field("roots", &self.roots.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

impl Policy {
    pub fn new(
        mode: AuthMode,
        peers: Vec<String>,
        connect_host: Option<String>,
        ca: &[CertificateDer<'static>],
        crls: &[CertificateRevocationListDer<'static>],
    ) -> Result<Policy, String> {
        let mut roots = Vec::new();
        for c in ca {
            let a = webpki::anchor_from_trusted_cert(c)
                .map_err(|e| format!("a CA certificate cannot be used as trust anchor: {e}"))?;
            roots.push(a.to_owned());
        }
        let mut owned = Vec::new();
        for c in crls {
            let l = webpki::OwnedCertRevocationList::from_der(c)
                .map_err(|e| format!("a CRL cannot be parsed: {e}"))?;
            owned.push(webpki::CertRevocationList::Owned(l));
        }
        // ring's algorithms: no SHA-1 signatures, which rsyslogd's drivers on Debian refuse
        // too (gnutls "insecure algorithm", openssl "CA signature digest algorithm too weak")
        let chain_algs: Vec<&'static dyn SignatureVerificationAlgorithm> =
            handshake_algs().all.to_vec();
        Ok(Policy {
            mode,
            peers,
            connect_host,
            prioritize_san: false,
            permit_expired: Expired::Deny,
            check_eku: None,
            ossl_names: false,
            roots,
            crls: owned,
            chain_algs,
        })
    }

    /// Checks a peer's certificate (chain) according to the auth mode.
    pub fn check(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Refused> {
        match self.mode {
            AuthMode::Anon => Ok(()),
            AuthMode::Fingerprint => self.check_fingerprint(ee),
            AuthMode::CertValid => self.check_chain(ee, intermediates, now),
            AuthMode::Name => {
                self.check_chain(ee, intermediates, now)?;
                self.check_name(ee)
            }
        }
    }

    fn permitted(&self) -> Vec<&str> {
        if self.peers.is_empty() {
            self.connect_host.iter().map(String::as_str).collect()
        } else {
            self.peers.iter().map(String::as_str).collect()
        }
    }

    fn check_fingerprint(&self, ee: &CertificateDer<'_>) -> Result<(), Refused> {
        let (s1, s256) = (
            certinfo::sha1_fingerprint(ee),
            certinfo::sha256_fingerprint(ee),
        );
        let list: Vec<String> = self.permitted().iter().map(|s| s.to_string()).collect();
        if peers::fingerprint_permitted(&list, &s1, &s256) {
            return Ok(());
        }
        Err(Refused(format!(
            "fingerprint mismatch: the peer's certificate has {s1} ({s256}), which is not a permitted peer"
        )))
    }

    fn check_name(&self, ee: &CertificateDer<'_>) -> Result<(), Refused> {
        let names = certinfo::names(ee).map_err(Refused)?;
        if self.ossl_names {
            let o = super::osslnames::OsslNames::of(ee).map_err(Refused)?;
            if o.permitted(&self.peers, self.connect_host.as_deref()) {
                return Ok(());
            }
            return Err(Refused(format!(
                "name not permitted: the certificate carries {} name: {} and the permitted peers are {} (ossl driver rules)",
                names.describe(),
                o.oneline,
                if self.peers.is_empty() {
                    format!("(none configured; the target {} must equal the subject)", self.connect_host.as_deref().unwrap_or("-"))
                } else {
                    self.peers.join(", ")
                }
            )));
        }
        let list = self.permitted();
        // nsd_gtls.c: SAN dNSNames first; the CN unless PrioritizeSAN and a SAN exists
        let cn = if self.prioritize_san && !names.dns.is_empty() {
            None
        } else {
            names.cn.as_ref()
        };
        let ok = names
            .dns
            .iter()
            .chain(cn)
            .any(|n| list.iter().any(|p| peers::matches(p, n)));
        if ok {
            return Ok(());
        }
        Err(Refused(format!(
            "name not permitted: the certificate carries {} and the permitted peers are {}",
            names.describe(),
            if list.is_empty() {
                "(none configured)".to_string()
            } else {
                list.join(", ")
            }
        )))
    }

    fn check_chain(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Refused> {
        if self.roots.is_empty() {
            return Err(Refused(
                "unknown CA: no CA certificate is configured to check the peer against".into(),
            ));
        }
        let cert = webpki::EndEntityCert::try_from(ee)
            .map_err(|e| Refused(format!("certificate cannot be parsed: {e}")))?;
        let refs: Vec<&webpki::CertRevocationList<'_>> = self.crls.iter().collect();
        let revocation = match webpki::RevocationOptionsBuilder::new(&refs) {
            Ok(b) => Some(
                b.with_depth(webpki::RevocationCheckDepth::Chain)
                    .with_status_policy(webpki::UnknownStatusPolicy::Allow)
                    .with_expiration_policy(webpki::ExpirationPolicy::Ignore)
                    .build(),
            ),
            Err(_) => None,
        };
        let eku = || {
            Eku(self.check_eku.map(|server| {
                if server {
                    webpki::KeyUsage::server_auth()
                } else {
                    webpki::KeyUsage::client_auth()
                }
            }))
        };
        let r = cert.verify_for_usage(
            &self.chain_algs,
            &self.roots,
            intermediates,
            now,
            eku(),
            revocation,
            None,
        );
        match r {
            Ok(_) => Ok(()),
            // permitExpiredCerts: the chain as it was when the certificate expired
            Err(webpki::Error::CertExpired { not_after, .. })
                if self.permit_expired != Expired::Deny =>
            {
                let then =
                    UnixTime::since_unix_epoch(std::time::Duration::from_secs(not_after.as_secs()));
                cert.verify_for_usage(
                    &self.chain_algs,
                    &self.roots,
                    intermediates,
                    then,
                    eku(),
                    revocation,
                    None,
                )
                .map_err(|e| Refused(chain_reason(&e, ee)))?;
                if self.permit_expired == Expired::Warn {
                    crate::engine::report_warning(format!("warning: the TLS peer's certificate expired (valid until {}), but expired certificates are permitted", certinfo::utc(not_after.as_secs() as i64)));
                }
                Ok(())
            }
            Err(e) => Err(Refused(chain_reason(&e, ee))),
        }
    }
}

fn chain_reason(e: &webpki::Error, ee: &CertificateDer<'_>) -> String {
    let who = match certinfo::subject_issuer(ee) {
        Ok((s, i)) => format!("subject '{s}', issuer '{i}'"),
        Err(_) => "unparsable certificate".into(),
    };
    match e {
        webpki::Error::UnknownIssuer => {
            format!("unknown CA: the peer's certificate ({who}) does not chain to a configured CA")
        }
        webpki::Error::CertExpired { not_after, .. } => format!(
            "certificate expired: the peer's certificate ({who}) was valid until {}",
            certinfo::utc(not_after.as_secs() as i64)
        ),
        webpki::Error::CertNotValidYet { not_before, .. } => format!(
            "certificate not yet valid: the peer's certificate ({who}) is valid from {}",
            certinfo::utc(not_before.as_secs() as i64)
        ),
        webpki::Error::CertRevoked => {
            format!("certificate revoked: the peer's certificate ({who}) is on the CA's CRL")
        }
        webpki::Error::IssuerNotCrlSigner => format!(
            "certificate cannot be checked against the CRL: its issuer may not sign CRLs (no cRLSign key usage) ({who})"
        ),
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => format!(
            "certificate invalid: insecure algorithm: a signature in the chain uses an algorithm that is refused (SHA-1) or unsupported ({who})"
        ),
        webpki::Error::RequiredEkuNotFoundContext(_) => format!(
            "certificate invalid: key purpose OID does not match (CheckExtendedKeyPurpose: the certificate does not allow its TLS role) ({who})"
        ),
        webpki::Error::CaUsedAsEndEntity => format!(
            "certificate invalid: the peer presents a CA certificate as its own ({who})"
        ),
        other => format!("certificate invalid: {other} ({who})"),
    }
}

fn to_rustls(r: Refused) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(r))))
}

/// The server role's check of clients (imtcp).
#[derive(Debug)]
pub struct ClientVerifier {
    policy: Arc<Policy>,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientVerifier {
    pub fn new(policy: Arc<Policy>) -> ClientVerifier {
        ClientVerifier {
            policy,
            algs: handshake_algs(),
        }
    }
}

impl ClientCertVerifier for ClientVerifier {
    /// rsyslog requests a client certificate in every mode but anon and refuses the client
    /// without one (nsd_gtls.c/nsd_ossl.c `chkPeerAuth`).
    fn offer_client_auth(&self) -> bool {
        self.policy.mode != AuthMode::Anon
    }

    fn client_auth_mandatory(&self) -> bool {
        self.policy.mode != AuthMode::Anon
    }

    /// No CA names: clients with self-signed certificates (fingerprint mode) still send them.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.policy
            .check(end_entity, intermediates, now)
            .map(|_| ClientCertVerified::assertion())
            .map_err(to_rustls)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The client role's check of servers (omfwd).
#[derive(Debug)]
pub struct ServerVerifier {
    policy: Arc<Policy>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerVerifier {
    pub fn new(policy: Arc<Policy>) -> ServerVerifier {
        ServerVerifier {
            policy,
            algs: handshake_algs(),
        }
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.policy
            .check(end_entity, intermediates, now)
            .map(|_| ServerCertVerified::assertion())
            .map_err(to_rustls)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}
