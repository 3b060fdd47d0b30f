//! One phrase for a failed TLS handshake, in the words the operator (and the test suite)
//! looks for: "unknown CA", "name not permitted …", "fingerprint mismatch …",
//! "certificate expired", "certificate not yet valid", "certificate revoked",
//! "no client certificate", or what the peer's alert said.

use rustls::{AlertDescription, CertificateError, Error};

use super::verify::Refused;

/// Describes a rustls error.
pub fn describe(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(CertificateError::Other(o)) => {
            match o.0.downcast_ref::<Refused>() {
                Some(r) => r.0.clone(),
                None => format!("certificate invalid: {o}"),
            }
        }
        Error::InvalidCertificate(c) => format!("certificate invalid: {c:?}"),
        Error::NoCertificatesPresented => {
            "no client certificate: the client sent none, but this auth mode requires one".into()
        }
        Error::AlertReceived(a) => alert(*a),
        Error::InvalidMessage(m) => format!(
            "the peer does not speak TLS (a plain listener or client?) or sent a broken TLS message: {m:?}"
        ),
        Error::PeerIncompatible(p) => format!("no common TLS version, cipher or algorithm: {p:?}"),
        other => other.to_string(),
    }
}

fn alert(a: AlertDescription) -> String {
    let what = match a {
        AlertDescription::UnknownCA => "unknown CA (the peer does not trust the CA of our certificate)",
        AlertDescription::BadCertificate => "bad certificate (the peer refused our certificate: wrong CA, name or fingerprint, or none sent)",
        AlertDescription::CertificateExpired => "certificate expired (the peer says our certificate expired)",
        AlertDescription::CertificateRevoked => "certificate revoked (the peer says our certificate is revoked)",
        AlertDescription::CertificateRequired => "no client certificate (the peer requires one)",
        AlertDescription::AccessDenied => "access denied",
        AlertDescription::HandshakeFailure => "handshake failure (no common parameters, or the peer refused us)",
        AlertDescription::ProtocolVersion => "no common TLS version",
        _ => "",
    };
    if what.is_empty() {
        format!("the peer sent the TLS alert {a:?}")
    } else {
        format!("the peer sent the TLS alert {a:?}: {what}")
    }
}

/// Describes an I/O error of a TLS stream (rustls errors are wrapped in it).
pub fn describe_io(e: &std::io::Error) -> String {
    if let Some(r) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        return describe(r);
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            "the peer closed the connection during the handshake (it does not speak TLS, or refused us)".into()
        }
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "handshake timeout".into(),
        _ => e.to_string(),
    }
}
