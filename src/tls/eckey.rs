//! ECDSA private keys as gnutls writes them: certtool encodes the SEC1 `privateKey` octet
//! string like an INTEGER (a leading 0x00 when the top bit is set, so 33 bytes for P-256
//! about half of the time), which ring refuses. This re-encodes such keys (SEC1, or SEC1
//! inside PKCS#8) with the fixed length RFC 5915 asks for; other keys pass unchanged.

use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

/// id-ecPublicKey (1.2.840.10045.2.1) as DER (tag, length, value).
const EC_PUBLIC_KEY_OID: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// One DER element: (tag, header length, content range end) starting at `pos`.
fn tlv(d: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *d.get(pos)?;
    let l0 = *d.get(pos + 1)? as usize;
    let (len, hl) = if l0 < 0x80 {
        (l0, 2)
    } else {
        let n = l0 & 0x7f;
        if n == 0 || n > 3 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *d.get(pos + 2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = pos.checked_add(hl)?.checked_add(len)?;
    (end <= d.len()).then_some((tag, hl, end))
}

fn put(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else if n < 0x10000 {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
}

/// The scalar length of a SEC1 key from its public key (0x04 || X || Y) or its curve.
fn scalar_len(d: &[u8], mut pos: usize, end: usize) -> Option<usize> {
    while pos < end {
        let (tag, hl, e) = tlv(d, pos)?;
        let c = &d[pos + hl..e];
        if tag == 0xa1 {
            // [1] { BIT STRING: unused-bits byte, 0x04, X, Y }
            let (t, h, e2) = tlv(c, 0)?;
            let bits = &c[h..e2];
            if t == 0x03 && bits.len() > 2 && bits[1] == 0x04 {
                return Some((bits.len() - 2) / 2);
            }
        }
        if tag == 0xa0 {
            let oid = c;
            const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
            const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
            if oid == P256 {
                return Some(32);
            }
            if oid == P384 {
                return Some(48);
            }
        }
        pos = e;
    }
    None
}

/// Re-encodes a SEC1 ECPrivateKey with a fixed-length private key; `None` when unchanged.
fn fix_sec1(d: &[u8]) -> Option<Vec<u8>> {
    let (t, hl, end) = tlv(d, 0)?;
    if t != 0x30 || end != d.len() {
        return None;
    }
    let (vt, vh, ve) = tlv(d, hl)?;
    if vt != 0x02 || d[hl + vh..ve] != [1] {
        return None;
    }
    let (kt, kh, ke) = tlv(d, ve)?;
    if kt != 0x04 {
        return None;
    }
    let key = &d[ve + kh..ke];
    let n = scalar_len(d, ke, end)?;
    if key.len() == n {
        return None;
    }
    let fixed: Vec<u8> = if key.len() > n {
        let (zeros, rest) = key.split_at(key.len() - n);
        if zeros.iter().any(|b| *b != 0) {
            return None;
        }
        rest.to_vec()
    } else {
        let mut v = vec![0u8; n - key.len()];
        v.extend_from_slice(key);
        v
    };
    let mut body = d[hl..ve].to_vec();
    put(0x04, &fixed, &mut body);
    body.extend_from_slice(&d[ke..end]);
    let mut out = Vec::with_capacity(body.len() + 4);
    put(0x30, &body, &mut out);
    Some(out)
}

/// Re-encodes the SEC1 key inside a PKCS#8 EC key; `None` when unchanged.
fn fix_pkcs8(d: &[u8]) -> Option<Vec<u8>> {
    let (t, hl, end) = tlv(d, 0)?;
    if t != 0x30 || end != d.len() {
        return None;
    }
    let (_, _, ve) = tlv(d, hl)?; // version
    let (at, ah, ae) = tlv(d, ve)?; // AlgorithmIdentifier
    if at != 0x30 || !d[ve + ah..ae].starts_with(EC_PUBLIC_KEY_OID) {
        return None;
    }
    let (kt, kh, ke) = tlv(d, ae)?;
    if kt != 0x04 {
        return None;
    }
    let inner = &d[ae + kh..ke];
    // the curve is in the AlgorithmIdentifier; SEC1 inside may lack it: add it for sizing
    let fixed = fix_sec1(inner).or_else(|| {
        let params = &d[ve + ah + EC_PUBLIC_KEY_OID.len()..ae];
        let (it, ih, ie) = tlv(inner, 0)?;
        if it != 0x30 || ie != inner.len() {
            return None;
        }
        let mut with = inner[ih..].to_vec();
        put(0xa0, params, &mut with);
        let mut seq = Vec::new();
        put(0x30, &with, &mut seq);
        let f = fix_sec1(&seq)?;
        // drop the [0] again: rebuild without the added parameters
        let (_, fh, _) = tlv(&f, 0)?;
        let mut body = f[fh..].to_vec();
        let mut added = Vec::new();
        put(0xa0, params, &mut added);
        let cut = body.len().checked_sub(added.len())?;
        body.truncate(cut);
        let mut out = Vec::new();
        put(0x30, &body, &mut out);
        Some(out)
    })?;
    let mut body = d[hl..ae].to_vec();
    put(0x04, &fixed, &mut body);
    body.extend_from_slice(&d[ke..end]);
    let mut out = Vec::new();
    put(0x30, &body, &mut out);
    Some(out)
}

/// The key with a gnutls-style EC private key re-encoded; any other key unchanged.
pub fn normalize(key: PrivateKeyDer<'static>) -> PrivateKeyDer<'static> {
    match &key {
        PrivateKeyDer::Sec1(k) => match fix_sec1(k.secret_sec1_der()) {
            Some(v) => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(v)),
            None => key,
        },
        PrivateKeyDer::Pkcs8(k) => match fix_pkcs8(k.secret_pkcs8_der()) {
            Some(v) => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(v)),
            None => key,
        },
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// certtool keys (half of them with a 33-byte private key) all load after normalizing,
    /// as SEC1 and wrapped in PKCS#8 (certtool itself only writes encrypted PKCS#8).
    #[test]
    fn certtool_ecdsa_keys_load_in_ring() {
        let t = tempfile::tempdir().unwrap();
        let mut odd = 0;
        for i in 0..16 {
            let f = t.path().join(format!("k{i}.pem"));
            let ok = Command::new("certtool")
                .args(["--generate-privkey", "--key-type", "ecdsa", "--outfile"])
                .arg(&f)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok);
            let k = crate::tls::pem::key(&f.to_string_lossy()).unwrap();
            let PrivateKeyDer::Sec1(sec1) = &k else {
                panic!("certtool wrote no SEC1 key")
            };
            let raw = std::fs::read_to_string(&f).unwrap();
            let orig = {
                use rustls_pki_types::pem::PemObject;
                PrivateSec1KeyDer::from_pem_slice(raw.as_bytes()).unwrap()
            };
            if orig.secret_sec1_der() != sec1.secret_sec1_der() {
                odd += 1;
                assert!(
                    rustls::crypto::ring::sign::any_ecdsa_type(&PrivateKeyDer::Sec1(
                        orig.clone_key()
                    ))
                    .is_err()
                );
            }
            rustls::crypto::ring::sign::any_ecdsa_type(&k).unwrap();
            // PKCS#8 around the original (gnutls-style) SEC1 key
            let mut alg = EC_PUBLIC_KEY_OID.to_vec();
            alg.extend([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
            let mut body = vec![0x02, 0x01, 0x00];
            put(0x30, &alg, &mut body);
            put(0x04, orig.secret_sec1_der(), &mut body);
            let mut p8 = Vec::new();
            put(0x30, &body, &mut p8);
            let k8 = normalize(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p8)));
            rustls::crypto::ring::sign::any_ecdsa_type(&k8).unwrap();
        }
        // (all 16 well-formed by chance: 2^-16)
        assert!(
            odd > 0,
            "no gnutls-style key among 16: the test proves nothing"
        );
    }

    proptest::proptest! {
        /// A key file is local input: odd DER never panics.
        #[test]
        fn arbitrary_der_never_panics(d in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = fix_sec1(&d);
            let _ = fix_pkcs8(&d);
            let mut seq = Vec::new();
            put(0x30, &d, &mut seq);
            let _ = fix_sec1(&seq);
            let _ = fix_pkcs8(&seq);
        }
    }

    #[test]
    fn short_keys_are_padded() {
        // SEC1 with a 31-byte key and a P-256 curve
        let mut body = vec![0x02, 0x01, 0x01];
        put(0x04, &[7u8; 31], &mut body);
        let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        put(0xa0, &oid, &mut body);
        let mut d = Vec::new();
        put(0x30, &body, &mut d);
        let f = fix_sec1(&d).unwrap();
        let (_, _, ve) = tlv(&f, 2).unwrap();
        let (_, kh, ke) = tlv(&f, ve).unwrap();
        assert_eq!(ke - ve - kh, 32);
        assert_eq!(f[ve + kh], 0);
    }
}
