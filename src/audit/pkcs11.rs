//! ECDSA P-256 signing keys on a PKCS#11 token (an HSM, or SoftHSM2 in tests) through
//! `cryptoki`: the token is chosen by slot number or token label, the user PIN is read from
//! a file (refused when group or others may access it), the private key is found by its
//! label and must be non-extractable (generated on the token: [`generate`]); the public key
//! of the same label gives the key id. Signing uses `CKM_ECDSA` over SHA-256 of the record's
//! canonical encoding, so the result is the same `ecdsa-p256` signature a software key makes.

use std::path::PathBuf;

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};

use super::keys::check_secret_file_mode;

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), for `CKA_EC_PARAMS`.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Which token and key.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub library: PathBuf,
    pub slot: Option<u64>,
    pub token_label: Option<String>,
    pub key_label: String,
    pub pin_file: PathBuf,
}

/// A logged-in session with the private key's handle. A failed `C_Sign` (session closed,
/// token logged out or re-inserted) opens a new session, logs in again and retries once; new
/// attempts are made at most once per [`RELOGIN_EVERY`] while the token keeps failing.
pub struct TokenKey {
    spec: TokenSpec,
    session: Session,
    key: ObjectHandle,
    /// SubjectPublicKeyInfo DER of the matching public key.
    pub spki_der: Vec<u8>,
    ctx: Pkcs11,
    /// When the last re-login was tried (while failing).
    last_relogin: Option<std::time::Instant>,
}

/// The least time between two re-login attempts while the token fails.
pub const RELOGIN_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

fn e(what: &str) -> impl Fn(cryptoki::error::Error) -> String + '_ {
    move |err| format!("PKCS#11: {what}: {err}")
}

fn open(spec: &TokenSpec) -> Result<(Pkcs11, Session), String> {
    let ctx = Pkcs11::new(&spec.library).map_err(|err| {
        format!(
            "PKCS#11: cannot load module '{}': {err}",
            spec.library.display()
        )
    })?;
    ctx.initialize(CInitializeArgs::OsThreads)
        .map_err(e("C_Initialize"))?;
    let session = login(&ctx, spec)?;
    Ok((ctx, session))
}

/// Finds the token, opens a read-write session and logs in with the PIN file's PIN.
fn login(ctx: &Pkcs11, spec: &TokenSpec) -> Result<Session, String> {
    check_secret_file_mode(&spec.pin_file)?;
    let pin = std::fs::read_to_string(&spec.pin_file)
        .map_err(|err| format!("cannot read PIN file '{}': {err}", spec.pin_file.display()))?;
    let pin = pin.trim_end_matches(['\n', '\r']).to_string();
    let slots = ctx.get_slots_with_token().map_err(e("C_GetSlotList"))?;
    let slot = slots
        .into_iter()
        .find(|s| match (&spec.slot, &spec.token_label) {
            (Some(n), _) => s.id() == *n,
            (None, Some(l)) => ctx
                .get_token_info(*s)
                .is_ok_and(|i| i.label().trim_end() == l),
            (None, None) => true,
        })
        .ok_or_else(|| match (&spec.slot, &spec.token_label) {
            (Some(n), _) => format!("PKCS#11: no token in slot {n}"),
            (None, Some(l)) => format!("PKCS#11: no token labelled '{l}'"),
            _ => "PKCS#11: no token".to_string(),
        })?;
    let session = ctx.open_rw_session(slot).map_err(e("C_OpenSession"))?;
    match session.login(UserType::User, Some(&AuthPin::from(pin))) {
        // the login state is the application's: another session of ours may hold it
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
            Ok(session)
        }
        Err(err) => Err(format!("PKCS#11: C_Login: {err}")),
    }
}

fn spki_of_point(point: &[u8]) -> Result<Vec<u8>, String> {
    // CKA_EC_POINT is a DER OCTET STRING around the SEC1 point (some tokens give it raw)
    let raw = if point.len() == 67 && point[0] == 0x04 && point[1] == 0x41 {
        &point[2..]
    } else {
        point
    };
    let pk = p256::PublicKey::from_sec1_bytes(raw)
        .map_err(|_| "PKCS#11: the public key is not a P-256 point".to_string())?;
    use p256::pkcs8::EncodePublicKey;
    pk.to_public_key_der()
        .map(|d| d.into_vec())
        .map_err(|err| err.to_string())
}

fn public_spki(session: &Session, label: &str) -> Result<Vec<u8>, String> {
    let pubs = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(e("C_FindObjects"))?;
    let h = *pubs
        .first()
        .ok_or_else(|| format!("PKCS#11: no public key labelled '{label}' on the token"))?;
    let attrs = session
        .get_attributes(h, &[AttributeType::EcPoint])
        .map_err(e("C_GetAttributeValue"))?;
    match attrs.first() {
        Some(Attribute::EcPoint(p)) => spki_of_point(p),
        _ => Err("PKCS#11: the public key has no EC point".into()),
    }
}

/// Generates an ECDSA P-256 key pair on the token: the private key sensitive and
/// non-extractable. Returns the public key's SubjectPublicKeyInfo DER.
pub fn generate(spec: &TokenSpec) -> Result<Vec<u8>, String> {
    let (_ctx, session) = open(spec)?;
    let label = spec.key_label.as_bytes().to_vec();
    let public = [
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(P256_PARAMS.to_vec()),
        Attribute::Label(label.clone()),
    ];
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::KeyType(KeyType::EC),
        Attribute::Label(label),
    ];
    session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        .map_err(e("C_GenerateKeyPair"))?;
    public_spki(&session, &spec.key_label)
}

impl TokenKey {
    /// Logs in and finds the key; refuses an extractable private key.
    pub fn open(spec: &TokenSpec) -> Result<TokenKey, String> {
        let (ctx, session) = open(spec)?;
        let (key, spki_der) = find_key(&session, spec)?;
        Ok(TokenKey {
            spec: spec.clone(),
            session,
            key,
            spki_der,
            ctx,
            last_relogin: None,
        })
    }

    /// Raw `r‖s` ECDSA P-256 signature over SHA-256 of `msg` (low-S form). On a token
    /// failure: one re-login and retry (rate-limited, see [`TokenKey`]).
    pub fn sign(&mut self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let digest = Sha256::digest(msg);
        let first = match self.session.sign(&Mechanism::Ecdsa, self.key, &digest) {
            Ok(sig) => return normalize(&sig),
            Err(err) => format!("PKCS#11: C_Sign: {err}"),
        };
        if self
            .last_relogin
            .is_some_and(|t| t.elapsed() < RELOGIN_EVERY)
        {
            return Err(first);
        }
        self.last_relogin = Some(std::time::Instant::now());
        self.relogin()
            .map_err(|again| format!("{first}; re-login failed: {again}"))?;
        let sig = self
            .session
            .sign(&Mechanism::Ecdsa, self.key, &digest)
            .map_err(|err| format!("{first}; after re-login: C_Sign: {err}"))?;
        self.last_relogin = None;
        normalize(&sig)
    }

    /// A new session and login; the key must still be the one this signer started with.
    pub fn relogin(&mut self) -> Result<(), String> {
        let session = login(&self.ctx, &self.spec)?;
        let (key, spki) = find_key(&session, &self.spec)?;
        if spki != self.spki_der {
            return Err(format!(
                "the key labelled '{}' on the token is no longer the key this log was signed with (reload with HUP to switch keys)",
                self.spec.key_label
            ));
        }
        self.session = session;
        self.key = key;
        Ok(())
    }

    /// Logs the session out (tests: makes the next `C_Sign` fail as after a token reset).
    pub fn logout(&self) -> Result<(), String> {
        self.session.logout().map_err(e("C_Logout"))
    }
}

fn normalize(sig: &[u8]) -> Result<Vec<u8>, String> {
    let s = p256::ecdsa::Signature::from_slice(sig)
        .map_err(|_| "PKCS#11: the token returned a malformed signature".to_string())?;
    Ok(s.normalize_s().unwrap_or(s).to_bytes().to_vec())
}

/// The private key of the spec's label (refused when extractable or not EC) and the SPKI of
/// the public key of the same label.
fn find_key(session: &Session, spec: &TokenSpec) -> Result<(ObjectHandle, Vec<u8>), String> {
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(spec.key_label.as_bytes().to_vec()),
        ])
        .map_err(e("C_FindObjects"))?;
    let key = *keys.first().ok_or_else(|| {
        format!(
            "PKCS#11: no private key labelled '{}' on the token",
            spec.key_label
        )
    })?;
    let attrs = session
        .get_attributes(key, &[AttributeType::Extractable, AttributeType::KeyType])
        .map_err(e("C_GetAttributeValue"))?;
    for a in &attrs {
        match a {
            Attribute::Extractable(true) => {
                return Err(format!(
                    "PKCS#11: private key '{}' is extractable; generate it on the token (oxaudit keygen --pkcs11-module …)",
                    spec.key_label
                ))
            }
            Attribute::KeyType(t) if *t != KeyType::EC => {
                return Err(format!(
                    "PKCS#11: key '{}' is not an EC key",
                    spec.key_label
                ))
            }
            _ => {}
        }
    }
    let spki_der = public_spki(session, &spec.key_label)?;
    Ok((key, spki_der))
}
