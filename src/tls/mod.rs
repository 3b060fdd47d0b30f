//! The TLS netstream driver: rsyslog's `gtls` and `ossl` drivers (both names select it),
//! built on rustls with the ring provider. `settings` resolves a listener's or action's
//! TLS parameters as rsyslog does, `pem` loads certificates, keys, CAs and CRLs (`eckey`
//! re-encodes gnutls's ECDSA keys), `certinfo` reads names, validity and fingerprints,
//! `peers` matches permitted peers (`osslnames`: the ossl driver's name rules), `verify`
//! implements rsyslog's auth modes as rustls verifiers, `setup` builds the rustls configs
//! and the `-N1`/start checks, and `reason` turns a failed handshake into one line.

pub mod certinfo;
pub mod eckey;
pub mod osslnames;
pub mod peers;
pub mod pem;
pub mod reason;
pub mod settings;
pub mod setup;
#[cfg(test)]
pub mod testcerts;
pub mod verify;

pub use settings::{AuthMode, TlsSettings};

/// How long a TLS handshake may take before the connection is dropped (rsyslog #5539).
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a TLS close (close_notify) may take.
pub const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
