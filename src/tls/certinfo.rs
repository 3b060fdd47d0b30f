//! What a certificate says about itself, for peer checks and messages: its dNSName subject
//! alternative names and common name, its validity period, and its SHA1/SHA256 fingerprints
//! printed as rsyslog prints them (`SHA1:AA:BB:…`).

use sha1::Digest;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The names a certificate carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub dns: Vec<String>,
    pub cn: Option<String>,
}

impl Names {
    /// As rsyslog lists them in its "not permitted" message: `DNSname: a; CN: b; `.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for d in &self.dns {
            s.push_str("DNSname: ");
            s.push_str(d);
            s.push_str("; ");
        }
        if let Some(cn) = &self.cn {
            s.push_str("CN: ");
            s.push_str(cn);
            s.push_str("; ");
        }
        if s.is_empty() {
            s.push_str("(no DNS name, no CN)");
        }
        s.trim_end().to_string()
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))
}

/// The certificate's dNSName SANs and (first) CN.
pub fn names(der: &[u8]) -> Result<Names, String> {
    let c = parse(der)?;
    let mut n = Names::default();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for g in &san.value.general_names {
            if let GeneralName::DNSName(d) = g {
                n.dns.push((*d).to_string());
            }
        }
    }
    n.cn = c
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string);
    Ok(n)
}

/// (notBefore, notAfter) as Unix seconds.
pub fn validity(der: &[u8]) -> Result<(i64, i64), String> {
    let c = parse(der)?;
    let v = c.validity();
    Ok((v.not_before.timestamp(), v.not_after.timestamp()))
}

/// Subject and issuer in RFC 4514 form (for messages).
pub fn subject_issuer(der: &[u8]) -> Result<(String, String), String> {
    let c = parse(der)?;
    Ok((c.subject().to_string(), c.issuer().to_string()))
}

fn hex(prefix: &str, digest: &[u8]) -> String {
    let mut s = String::with_capacity(prefix.len() + digest.len() * 3);
    s.push_str(prefix);
    for b in digest {
        s.push_str(&format!(":{b:02X}"));
    }
    s
}

/// `SHA1:AA:BB:…` (nsd_gtls.c `GenFingerprintStr`).
pub fn sha1_fingerprint(der: &[u8]) -> String {
    hex("SHA1", &sha1::Sha1::digest(der))
}

/// `SHA256:AA:BB:…`.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    hex("SHA256", &sha2::Sha256::digest(der))
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn names_describe_like_rsyslog() {
        let n = Names {
            dns: vec!["a.example.net".into(), "b".into()],
            cn: Some("c".into()),
        };
        assert_eq!(n.describe(), "DNSname: a.example.net; DNSname: b; CN: c;");
    }
}
