//! The signed audit log (issue #10): records with SignServer's `AuditRecordData` fields, a
//! per-node hash chain with per-node sequence numbers, signatures in `rowProtection`
//! (`version:algorithm:keyid:signature`), start and checkpoint records, and the verifier.
//! Written by the `omaudit` action (src/output/audit.rs), checked by `oxaudit`
//! (src/bin/oxaudit.rs).
//!
//! - [`record`]: the record, its canonical encoding and its line in the file;
//! - [`keys`]: Ed25519 / ECDSA P-256 software keys, key ids, the keyring;
//! - [`pkcs11`]: ECDSA P-256 keys on a PKCS#11 token (`cryptoki`);
//! - [`chain`]: the writer's chain head (found in the existing file at start) and sealing;
//! - [`verify`]: the verifier.

pub mod chain;
pub mod keys;
pub mod pkcs11;
pub mod record;
pub mod verify;
