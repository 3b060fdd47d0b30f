//! Signing and verification keys of the audit log: Ed25519 and ECDSA P-256 software keys in
//! PKCS#8 PEM (`audit.key`, which must not be readable by group or others) with their public
//! halves in SubjectPublicKeyInfo PEM (`audit.pub`, readable by `openssl pkey -pubin`), key
//! ids, the `rowProtection` value `1:ALG:KEYID:SIG`, and a keyring of public keys for the
//! verifier (several keys for rollover).

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256};

use super::record::to_hex;

/// Version of the protection string.
pub const PROTECTION_VERSION: &str = "1";

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Ed25519,
    P256,
}

impl Alg {
    /// The name in `rowProtection`.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Ed25519 => "ed25519",
            Alg::P256 => "ecdsa-p256",
        }
    }
    /// `ed25519`, `p256` / `ecdsa-p256`.
    pub fn parse(s: &str) -> Option<Alg> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Some(Alg::Ed25519),
            "p256" | "ecdsa-p256" | "p-256" | "ecdsa" => Some(Alg::P256),
            _ => None,
        }
    }
}

enum SKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-256 on a PKCS#11 token.
    Token(Box<super::pkcs11::TokenKey>),
}

/// A private key that signs records.
pub struct Signer {
    key: SKey,
    key_id: String,
}

/// The key id: the first 8 bytes of SHA-256 of the SubjectPublicKeyInfo DER, in hex.
pub fn key_id_of_spki(der: &[u8]) -> String {
    to_hex(&Sha256::digest(der)[..8])
}

fn random32() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

/// Refuses a secret file (key, PIN) that group or others may read or write.
pub fn check_secret_file_mode(path: &Path) -> Result<(), String> {
    let md = std::fs::metadata(path)
        .map_err(|e| format!("cannot read key file '{}': {e}", path.display()))?;
    let mode = md.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "key file '{}' is accessible by group or others (mode {mode:04o}); refusing to use it — chmod 600 it",
            path.display()
        ));
    }
    Ok(())
}

impl Signer {
    /// A new random key.
    pub fn generate(alg: Alg) -> Result<Signer, String> {
        let key = match alg {
            Alg::Ed25519 => SKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &random32().map_err(|e| e.to_string())?,
            )),
            Alg::P256 => loop {
                let b = random32().map_err(|e| e.to_string())?;
                if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&b) {
                    break SKey::P256(k);
                }
            },
        };
        Ok(Signer::with_key(key))
    }

    fn with_key(key: SKey) -> Signer {
        let mut s = Signer {
            key,
            key_id: String::new(),
        };
        s.key_id = key_id_of_spki(&s.public_der());
        s
    }

    /// Loads a PKCS#8 PEM private key (Ed25519 or P-256), refusing a file readable by group
    /// or others. `want`: the algorithm the config asks for, if any.
    pub fn load(path: &Path, want: Option<Alg>) -> Result<Signer, String> {
        check_secret_file_mode(path)?;
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read key file '{}': {e}", path.display()))?;
        let key = if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem) {
            SKey::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem) {
            SKey::P256(k)
        } else {
            return Err(format!(
                "key file '{}' holds no Ed25519 or ECDSA P-256 private key in PKCS#8 PEM (make one with `oxaudit keygen`)",
                path.display()
            ));
        };
        let s = Signer::with_key(key);
        if let Some(w) = want {
            if w != s.alg() {
                return Err(format!(
                    "key file '{}' holds an {} key, not {}",
                    path.display(),
                    s.alg().name(),
                    w.name()
                ));
            }
        }
        Ok(s)
    }

    /// A key on a PKCS#11 token (see [`super::pkcs11`]).
    pub fn token(spec: &super::pkcs11::TokenSpec) -> Result<Signer, String> {
        Ok(Signer::with_key(SKey::Token(Box::new(
            super::pkcs11::TokenKey::open(spec)?,
        ))))
    }

    pub fn alg(&self) -> Alg {
        match self.key {
            SKey::Ed25519(_) => Alg::Ed25519,
            SKey::P256(_) | SKey::Token(_) => Alg::P256,
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn public_der(&self) -> Vec<u8> {
        match &self.key {
            SKey::Ed25519(k) => k.verifying_key().to_public_key_der().map(|d| d.into_vec()),
            SKey::P256(k) => k.verifying_key().to_public_key_der().map(|d| d.into_vec()),
            SKey::Token(t) => Ok(t.spki_der.clone()),
        }
        .unwrap_or_default()
    }

    pub fn public_pem(&self) -> String {
        let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        match &self.key {
            SKey::Ed25519(k) => k.verifying_key().to_public_key_pem(lf),
            SKey::P256(k) => k.verifying_key().to_public_key_pem(lf),
            SKey::Token(t) => p256::ecdsa::VerifyingKey::from_public_key_der(&t.spki_der)
                .map_err(|_| ed25519_dalek::pkcs8::spki::Error::KeyMalformed)
                .and_then(|k| k.to_public_key_pem(lf)),
        }
        .unwrap_or_default()
    }

    pub fn private_pem(&self) -> String {
        let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        match &self.key {
            SKey::Ed25519(k) => k.to_pkcs8_pem(lf).map(|z| z.to_string()),
            SKey::P256(k) => k.to_pkcs8_pem(lf).map(|z| z.to_string()),
            SKey::Token(_) => return String::new(),
        }
        .unwrap_or_default()
    }

    /// The `rowProtection` value for a record's canonical encoding (software keys cannot
    /// fail; a token that fails gives an empty signature — use [`Signer::try_protect`]).
    pub fn protect(&mut self, canonical: &[u8]) -> String {
        self.try_protect(canonical).unwrap_or_else(|err| {
            eprintln!("oxsyslogd: omaudit: {err}");
            self.format_protection(&[])
        })
    }

    /// The `rowProtection` value, or why the key could not sign (a PKCS#11 token that keeps
    /// failing after one re-login).
    pub fn try_protect(&mut self, canonical: &[u8]) -> Result<String, String> {
        let sig: Vec<u8> = match &mut self.key {
            SKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(canonical).to_bytes().to_vec()
            }
            SKey::P256(k) => {
                use p256::ecdsa::signature::Signer as _;
                let s: p256::ecdsa::Signature = k.sign(canonical);
                s.normalize_s().unwrap_or(s).to_bytes().to_vec()
            }
            SKey::Token(t) => t.sign(canonical)?,
        };
        Ok(self.format_protection(&sig))
    }

    fn format_protection(&self, sig: &[u8]) -> String {
        format!(
            "{PROTECTION_VERSION}:{}:{}:{}",
            self.alg().name(),
            self.key_id,
            base64::engine::general_purpose::STANDARD.encode(sig)
        )
    }

    /// The PKCS#11 key, when the signer is one.
    pub fn token_key(&self) -> Option<&super::pkcs11::TokenKey> {
        match &self.key {
            SKey::Token(t) => Some(t),
            _ => None,
        }
    }

    /// Writes `DIR/audit.key` (mode 0600, created exclusively) and `DIR/audit.pub`.
    pub fn write_pair(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        use std::io::Write;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let kp = dir.join("audit.key");
        let pp = dir.join("audit.pub");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&kp)
            .map_err(|e| format!("{}: {e}", kp.display()))?;
        f.write_all(self.private_pem().as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("{}: {e}", kp.display()))?;
        std::fs::write(&pp, self.public_pem()).map_err(|e| format!("{}: {e}", pp.display()))?;
        Ok((kp, pp))
    }
}

enum VKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// A public key of the keyring.
pub struct PublicKey {
    key: VKey,
    pub key_id: String,
    pub source: String,
}

impl PublicKey {
    pub fn alg(&self) -> Alg {
        match self.key {
            VKey::Ed25519(_) => Alg::Ed25519,
            VKey::P256(_) => Alg::P256,
        }
    }

    /// Parses a SubjectPublicKeyInfo PEM.
    pub fn from_pem(pem: &str, source: &str) -> Result<PublicKey, String> {
        let key = if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            VKey::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            VKey::P256(k)
        } else {
            return Err(format!(
                "{source}: no Ed25519 or ECDSA P-256 public key (SubjectPublicKeyInfo PEM)"
            ));
        };
        let der = match &key {
            VKey::Ed25519(k) => k.to_public_key_der().map(|d| d.into_vec()),
            VKey::P256(k) => k.to_public_key_der().map(|d| d.into_vec()),
        }
        .map_err(|e| format!("{source}: {e}"))?;
        Ok(PublicKey {
            key,
            key_id: key_id_of_spki(&der),
            source: source.to_string(),
        })
    }

    /// A public key from raw SubjectPublicKeyInfo DER (a PKCS#11 token's key).
    pub fn from_spki_der(der: &[u8], source: &str) -> Result<PublicKey, String> {
        let key = if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            VKey::Ed25519(k)
        } else if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            VKey::P256(k)
        } else {
            return Err(format!("{source}: not an Ed25519 or P-256 public key"));
        };
        Ok(PublicKey {
            key,
            key_id: key_id_of_spki(der),
            source: source.to_string(),
        })
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            VKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            VKey::P256(k) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
        }
    }
}

/// Why a protection value does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtError {
    /// Not `1:ALG:KEYID:SIG`.
    Malformed(String),
    UnknownKey(String),
    /// The key's algorithm is not the one the record names.
    AlgMismatch(String),
    BadSignature(String),
}

impl std::fmt::Display for ProtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtError::Malformed(s) => write!(f, "malformed rowProtection ({s})"),
            ProtError::UnknownKey(k) => write!(f, "unknown key id {k}"),
            ProtError::AlgMismatch(k) => write!(f, "algorithm does not match key {k}"),
            ProtError::BadSignature(k) => write!(f, "bad signature (key {k})"),
        }
    }
}

/// Public keys by key id.
#[derive(Default)]
pub struct Keyring {
    pub keys: Vec<PublicKey>,
}

impl Keyring {
    /// Adds a public key file, or every `*.pub` file of a directory.
    pub fn add_path(&mut self, p: &Path) -> Result<(), String> {
        if p.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "pub"))
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(format!("{}: no *.pub files", p.display()));
            }
            for n in names {
                self.add_path(&n)?;
            }
            return Ok(());
        }
        let pem = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        self.keys
            .push(PublicKey::from_pem(&pem, &p.display().to_string())?);
        Ok(())
    }

    pub fn get(&self, key_id: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.key_id == key_id)
    }

    /// Checks a record's `rowProtection` against its canonical encoding.
    pub fn check(&self, protection: &str, canonical: &[u8]) -> Result<(), ProtError> {
        let mut it = protection.splitn(4, ':');
        let (Some(v), Some(alg), Some(kid), Some(sig)) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(ProtError::Malformed("not VERSION:ALG:KEYID:SIG".into()));
        };
        if v != PROTECTION_VERSION {
            return Err(ProtError::Malformed(format!("unknown version '{v}'")));
        }
        let alg = match alg {
            "ed25519" => Alg::Ed25519,
            "ecdsa-p256" => Alg::P256,
            _ => return Err(ProtError::Malformed(format!("unknown algorithm '{alg}'"))),
        };
        let key = self
            .get(kid)
            .ok_or_else(|| ProtError::UnknownKey(kid.to_string()))?;
        if key.alg() != alg {
            return Err(ProtError::AlgMismatch(kid.to_string()));
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sig)
            .map_err(|_| ProtError::BadSignature(kid.to_string()))?;
        if key.verify(canonical, &raw) {
            Ok(())
        } else {
            Err(ProtError::BadSignature(kid.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_both_algorithms() {
        for alg in [Alg::Ed25519, Alg::P256] {
            let mut s = Signer::generate(alg).unwrap();
            let pk = PublicKey::from_pem(&s.public_pem(), "t").unwrap();
            assert_eq!(pk.key_id, s.key_id());
            let ring = Keyring { keys: vec![pk] };
            let prot = s.protect(b"hello");
            assert!(prot.starts_with(&format!("1:{}:{}:", alg.name(), s.key_id())));
            ring.check(&prot, b"hello").unwrap();
            assert!(matches!(
                ring.check(&prot, b"hellO"),
                Err(ProtError::BadSignature(_))
            ));
            let mut other = Signer::generate(alg).unwrap();
            assert!(matches!(
                ring.check(&other.protect(b"hello"), b"hello"),
                Err(ProtError::UnknownKey(_))
            ));
            // private PEM round trip
            let dir = tempfile::tempdir().unwrap();
            s.write_pair(dir.path()).unwrap();
            let back = Signer::load(&dir.path().join("audit.key"), Some(alg)).unwrap();
            assert_eq!(back.key_id(), s.key_id());
            std::fs::set_permissions(
                dir.path().join("audit.key"),
                std::fs::Permissions::from_mode(0o640),
            )
            .unwrap();
            let e = Signer::load(&dir.path().join("audit.key"), None)
                .err()
                .unwrap();
            assert!(e.contains("group or others"), "{e}");
        }
    }
}
