//! `x509/name` as rsyslog's `ossl` driver decides it (nsd_ossl.c `osslChkOnePeerName`), which
//! differs from `gtls`: each permitted peer is matched, with net.c's wildcards, against the
//! certificate's one-line subject (`/O=…/CN=host.example.net`), then given to OpenSSL's
//! `X509_check_host`: the dNSName SANs when there are any, the subject CNs only when there
//! are none; case-insensitive, a `*` leftmost label in the certificate, a leading `.` in the
//! peer for any subdomain. Without permitted peers the one-line subject must equal the target.

use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::peers;

/// OpenSSL's short name of a subject attribute.
fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.4" => "SN",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        o => return o.to_string(),
    }
    .to_string()
}

/// What the ossl driver compares: the one-line subject, the dNSName SANs, the CNs.
pub struct OsslNames {
    pub oneline: String,
    dns: Vec<String>,
    cns: Vec<String>,
}

impl OsslNames {
    pub fn of(der: &[u8]) -> Result<OsslNames, String> {
        let c = X509Certificate::from_der(der)
            .map(|(_, c)| c)
            .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
        let mut oneline = String::new();
        for rdn in c.subject().iter() {
            for a in rdn.iter() {
                oneline.push('/');
                oneline.push_str(&short_name(&a.attr_type().to_id_string()));
                oneline.push('=');
                oneline.push_str(a.as_str().unwrap_or("?"));
            }
        }
        let mut dns = Vec::new();
        if let Ok(Some(san)) = c.subject_alternative_name() {
            for g in &san.value.general_names {
                if let GeneralName::DNSName(d) = g {
                    dns.push((*d).to_string());
                }
            }
        }
        let cns = c
            .subject()
            .iter_common_name()
            .filter_map(|a| a.as_str().ok().map(str::to_string))
            .collect();
        Ok(OsslNames { oneline, dns, cns })
    }

    /// nsd_ossl.c: any permitted peer matching; none configured: the target must equal the
    /// one-line subject.
    pub fn permitted(&self, peers_list: &[String], connect_host: Option<&str>) -> bool {
        if peers_list.is_empty() {
            return connect_host.is_some_and(|h| h == self.oneline);
        }
        peers_list
            .iter()
            .any(|p| peers::matches(p, &self.oneline) || self.check_host(p))
    }

    /// OpenSSL's `X509_check_host(cert, host, 0)`.
    fn check_host(&self, host: &str) -> bool {
        let names = if self.dns.is_empty() {
            &self.cns
        } else {
            &self.dns
        };
        names.iter().any(|n| host_matches(n, host))
    }
}

/// A certificate name (possibly `*.rest`) against a host (possibly `.domain`).
fn host_matches(cert_name: &str, host: &str) -> bool {
    if let Some(domain) = host.strip_prefix('.') {
        // any subdomain of `domain`
        let n = cert_name.to_ascii_lowercase();
        let d = domain.to_ascii_lowercase();
        return n.len() > d.len() + 1
            && n.ends_with(&d)
            && n.as_bytes()[n.len() - d.len() - 1] == b'.';
    }
    if cert_name.eq_ignore_ascii_case(host) {
        return true;
    }
    // a wildcard only as the whole leftmost label, over at least two more labels
    let Some(rest) = cert_name.strip_prefix("*.") else {
        return false;
    };
    if rest.split('.').count() < 2 {
        return false;
    }
    match host.split_once('.') {
        Some((label, hrest)) => !label.is_empty() && hrest.eq_ignore_ascii_case(rest),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_host_as_openssl() {
        assert!(host_matches("client.example.net", "CLIENT.example.net"));
        assert!(host_matches("*.example.net", "a.example.net"));
        assert!(!host_matches("*.example.net", "a.b.example.net"));
        assert!(!host_matches("*.net", "example.net"));
        assert!(host_matches("a.b.example.net", ".example.net"));
        assert!(!host_matches("example.net", ".example.net"));
    }

    #[test]
    fn ossl_rules_on_real_certificates() {
        let c = crate::tls::testcerts::get();
        let der = |f: &str| crate::tls::pem::certs(&c.p(f)).unwrap().remove(0);
        // CN not among the SANs: gtls permits the CN, ossl (X509_check_host) does not
        let mixed = OsslNames::of(&der("mixed.pem")).unwrap();
        assert_eq!(mixed.oneline, "/CN=cn-name.example.net");
        assert!(!mixed.permitted(&["cn-name.example.net".into()], None));
        assert!(mixed.permitted(&["san-name.example.net".into()], None));
        // net.c's wildcard over the one-line subject: "*" eats "/CN=cn-name"
        assert!(mixed.permitted(&["*.example.net".into()], None));
        // CN-only certificate: the CN counts
        let cn = OsslNames::of(&der("cn.pem")).unwrap();
        assert!(cn.permitted(&["cnonly.example.net".into()], None));
        // no permitted peers: the target against the one-line subject
        assert!(!cn.permitted(&[], Some("cnonly.example.net")));
        assert!(cn.permitted(&[], Some("/CN=cnonly.example.net")));
    }
}
