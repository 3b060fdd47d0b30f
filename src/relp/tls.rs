//! RELP over TLS: reads imrelp's and omrelp's `tls*` parameters as librelp 1.11 takes them
//! and turns them into the TLS driver's settings (src/tls/), so both modules check peers with
//! the same rustls verifiers as imtcp and omfwd.
//!
//! librelp's auth modes: `tls.authMode="fingerprint"` (the peer's SHA1/SHA256 fingerprint is
//! a `tls.permittedPeer`, no chain check), `"name"` (the chain leads to `tls.caCert` and a
//! SAN dNSName, else the CN, matches a permitted peer; wildcards as rsyslog's), `"certvalid"`
//! (the chain only). With `tls.myCert` and no auth mode librelp uses fingerprint mode.
//! Without `tls.myCert` and no auth mode librelp runs *anonymous* TLS (gnutls ANON-DH /
//! openssl aNULL suites, no certificates at all), which rustls does not implement: refused
//! at start, as is `tls.compression="on"` (rustls has no TLS compression); a gnutls
//! `tls.priorityString` and an openssl `tls.tlsCfgCmd` are not mapped, and the config schema
//! refuses them (src/config/schema/modules.rs). `tls.dhbits` only sizes
//! finite-field DH, which rustls never negotiates (ECDHE only): accepted without effect.
//! `tls.tlslib` (`gnutls`, `openssl`) selects rustls either way.

use crate::config::diagnostics::Location;
use crate::config::model::{Config, PValue, Params};
use crate::tls::settings::Expired;
use crate::tls::{AuthMode, TlsSettings};

fn on(v: Option<&PValue>) -> bool {
    match v {
        Some(PValue::Bool(b)) => *b,
        Some(PValue::Int(n)) => *n != 0,
        Some(v) => matches!(
            v.to_config_string().trim().to_ascii_lowercase().as_str(),
            "on" | "yes" | "1"
        ),
        None => false,
    }
}

/// `tls.tlslib` of `module(load="imrelp"|"omrelp")`: both libraries mean rustls.
pub fn check_tlslib(v: Option<&str>, module: &str) -> Result<(), String> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("gnutls") | Some("openssl") => Ok(()),
        Some(o) => Err(format!(
            "{module}: tls.tlslib '{o}' is not a TLS library librelp knows (gnutls, openssl)"
        )),
    }
}

/// The TLS settings of an imrelp listener or omrelp action; `None` without `tls="on"`. An
/// error is the bare reason (the caller names the module and the config location).
pub fn settings(p: &Params, loc: &Location) -> Result<Option<TlsSettings>, String> {
    if !on(p.get("tls")) {
        return Ok(None);
    }
    if on(p.get("tls.compression")) {
        return Err("tls.compression=\"on\" is not supported: the TLS driver (rustls) has no TLS compression (insecure since CRIME); remove the parameter".into());
    }
    // tls.priorityString and tls.tlsCfgCmd never get here: the config schema refuses them
    let file = |n: &str| p.get(n).map(|v| v.to_config_string());
    let (cert, key) = (file("tls.myCert"), file("tls.myPrivKey"));
    match (&cert, &key) {
        (Some(_), None) => {
            return Err(
                "certificate file given but no corresponding private key file (tls.myPrivKey)"
                    .into(),
            )
        }
        (None, Some(_)) => {
            return Err(
                "private key file given but no corresponding certificate file (tls.myCert)".into(),
            )
        }
        _ => {}
    }
    if cert.is_none() {
        // librelp (isAnonAuth): no own certificate means anonymous TLS, whatever the mode
        return Err("anonymous TLS (tls=\"on\" without tls.myCert; librelp ignores tls.authMode then) uses anonymous Diffie-Hellman suites without certificates, which the TLS driver (rustls) does not implement; set tls.myCert, tls.myPrivKey, tls.caCert and tls.authMode".into());
    }
    let auth = match p
        .get("tls.authMode")
        .map(|v| v.to_config_string().to_ascii_lowercase())
    {
        Some(a) if a == "fingerprint" => AuthMode::Fingerprint,
        Some(a) if a == "name" => AuthMode::Name,
        Some(a) if a == "certvalid" => AuthMode::CertValid,
        Some(a) => {
            return Err(format!(
                "invalid tls.authMode '{a}' (fingerprint, name, certvalid)"
            ))
        }
        // librelp: an own certificate and no mode means fingerprint mode
        None => AuthMode::Fingerprint,
    };
    let peers = match p.get("tls.permittedPeer") {
        Some(PValue::Array(a)) => a.iter().map(|s| s.trim().to_string()).collect(),
        Some(v) => vec![v.to_config_string().trim().to_string()],
        None => Vec::new(),
    };
    Ok(Some(TlsSettings {
        auth,
        peers,
        ca_file: file("tls.caCert"),
        ca_extra: Vec::new(),
        cert_file: cert,
        key_file: key,
        crl_file: None,
        remote_sni: None,
        prioritize_san: false,
        permit_expired: Expired::Deny,
        check_eku: false,
        ossl: false,
        loc: loc.clone(),
    }))
}

/// `-N1`: every imrelp listener's and omrelp action's TLS settings and files, checked as the
/// daemon checks them at start. Returns (errors, warnings).
pub fn check_config(cfg: &Config) -> (Vec<String>, Vec<String>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    // one endpoint: Ok(its warnings) or the error
    let endpoint = |module: &str, p: &Params, loc: &Location, target: Option<&str>| {
        let m = cfg.module(module).map(|m| &m.params);
        let Some(ts) = check_tlslib(m.and_then(|m| m.str("tls.tlslib")), module)
            .and_then(|()| settings(p, loc))
            .map_err(|e| format!("{loc}: error: {module}: {e}"))?
        else {
            return Ok(Vec::new());
        };
        match target {
            None => crate::tls::setup::server_config(&ts).map(|(_, w)| w),
            Some(t) => crate::tls::setup::client_config(&ts, t).map(|(_, w)| w),
        }
    };
    let inputs = cfg
        .inputs
        .iter()
        .filter(|i| i.module.eq_ignore_ascii_case("imrelp"))
        .map(|i| endpoint("imrelp", &i.params, &i.loc, None));
    let actions = cfg
        .actions
        .iter()
        .filter(|a| a.module.eq_ignore_ascii_case("omrelp"))
        .map(|a| {
            endpoint(
                "omrelp",
                &a.params,
                &a.loc,
                Some(a.params.str("target").unwrap_or("")),
            )
        });
    for r in inputs.chain(actions) {
        match r {
            Ok(w) => warnings.extend(w),
            Err(e) => errors.push(e),
        }
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn input(params: &str) -> Result<Option<TlsSettings>, String> {
        let l = load_text(
            "t.conf",
            &format!(
                "module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"1\" {params})\n*.* /tmp/x\n"
            ),
        );
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        settings(&l.config.inputs[0].params, &l.config.inputs[0].loc)
    }

    #[test]
    fn modes_as_librelp() {
        assert!(input("").unwrap().is_none());
        assert!(input("tls=\"off\" tls.authMode=\"name\"")
            .unwrap()
            .is_none());
        let s = input("tls=\"on\" tls.myCert=\"/c\" tls.myPrivKey=\"/k\" tls.caCert=\"/ca\" tls.authMode=\"Name\" tls.compression=\"off\" tls.permittedPeer=[\"a\",\"*.b\"] tls.dhbits=\"2048\"")
            .unwrap()
            .unwrap();
        assert_eq!(s.auth, AuthMode::Name);
        assert_eq!(s.peers, ["a", "*.b"]);
        assert_eq!(
            (s.cert_file.as_deref(), s.ca_file.as_deref()),
            (Some("/c"), Some("/ca"))
        );
        // own certificate, no mode: fingerprint
        let s = input(
            "tls=\"on\" tls.myCert=\"/c\" tls.myPrivKey=\"/k\" tls.permittedPeer=\"SHA1:AA\"",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (s.auth, s.peers.clone()),
            (AuthMode::Fingerprint, vec!["SHA1:AA".to_string()])
        );
    }

    #[test]
    fn unsupported_settings_are_refused() {
        for (p, what) in [
            ("tls=\"on\"", "anonymous"),
            (
                "tls=\"on\" tls.myCert=\"/c\" tls.myPrivKey=\"/k\" tls.compression=\"on\"",
                "compression",
            ),
            ("tls=\"on\" tls.myCert=\"/c\"", "private key"),
            (
                "tls=\"on\" tls.myCert=\"/c\" tls.myPrivKey=\"/k\" tls.authMode=\"x509/name\"",
                "invalid tls.authMode",
            ),
            (
                "tls=\"on\" tls.authMode=\"certvalid\" tls.caCert=\"/ca\"",
                "anonymous",
            ),
        ] {
            let e = input(p).unwrap_err();
            assert!(e.contains(what), "{p}: {e}");
        }
        assert!(check_tlslib(Some("OpenSSL"), "imrelp").is_ok());
        assert!(check_tlslib(Some("nss"), "imrelp").is_err());
    }
}
