//! A TLS endpoint's settings resolved from the config as rsyslog 8.2302 does: the global
//! `defaultNetstreamDriver*` values, then imtcp's module parameters, then the input's (or the
//! omfwd action's) own. `gtls` and `ossl` both select the rustls driver; mode 1 is TLS.

use crate::config::diagnostics::Location;
use crate::config::model::{Action, Config, Input, PValue, Params};

/// rsyslog's `StreamDriver.AuthMode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No peer check (the TLS signature is still verified).
    Anon,
    /// The peer's chain leads to the CA, is in its validity period and not revoked.
    CertValid,
    /// `CertValid` and a certificate name (SAN dNSName, then CN) is a permitted peer.
    Name,
    /// The certificate's SHA1 or SHA256 fingerprint is a permitted peer; no chain check.
    Fingerprint,
}

impl AuthMode {
    /// Parses rsyslog's names; none given means `x509/name` (nsd_gtls.c `SetAuthMode`).
    pub fn parse(s: Option<&str>) -> Result<AuthMode, String> {
        let Some(s) = s else {
            return Ok(AuthMode::Name);
        };
        match s.to_ascii_lowercase().as_str() {
            "anon" => Ok(AuthMode::Anon),
            "x509/certvalid" => Ok(AuthMode::CertValid),
            "x509/name" => Ok(AuthMode::Name),
            "x509/fingerprint" => Ok(AuthMode::Fingerprint),
            _ => Err(format!("authentication mode '{s}' not supported by the TLS netstream driver (anon, x509/certvalid, x509/name, x509/fingerprint)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Anon => "anon",
            AuthMode::CertValid => "x509/certvalid",
            AuthMode::Name => "x509/name",
            AuthMode::Fingerprint => "x509/fingerprint",
        }
    }
}

/// `StreamDriver.permitExpiredCerts`: what an expired peer certificate means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expired {
    /// Refused (`off`, the default).
    #[default]
    Deny,
    /// Accepted with a warning (`warn`).
    Warn,
    /// Accepted (`on`).
    Permit,
}

impl Expired {
    pub fn parse(v: Option<&str>) -> Result<Expired, String> {
        match v.map(str::to_ascii_lowercase).as_deref() {
            None | Some("off") => Ok(Expired::Deny),
            Some("warn") => Ok(Expired::Warn),
            Some("on") => Ok(Expired::Permit),
            Some(o) => Err(format!(
                "permitExpiredCerts mode '{o}' not supported (off, warn, on)"
            )),
        }
    }
}

/// The TLS settings of one listener or one forwarding action.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub auth: AuthMode,
    /// Permitted peers (names with `*` wildcards, or `SHA1:`/`SHA256:` fingerprints).
    pub peers: Vec<String>,
    pub ca_file: Option<String>,
    /// `netstreamDriverCaExtraFiles`: more trusted CAs (comma-separated files; nsd_ossl.c).
    pub ca_extra: Vec<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// CRLs besides those in the CA file: newer rsyslog's `defaultNetstreamDriverCRLFile`,
    /// which 8.2302's config schema does not know (so it is unset from configs today; CRLs
    /// come from the CA file).
    pub crl_file: Option<String>,
    /// omfwd: the name sent as SNI instead of the target (`StreamDriver.RemoteSNI`).
    pub remote_sni: Option<String>,
    /// `StreamDriver.PrioritizeSAN`: with dNSName SANs present, the CN is not checked
    /// (RFC 6125).
    pub prioritize_san: bool,
    /// `StreamDriver.permitExpiredCerts`.
    pub permit_expired: Expired,
    /// `StreamDriver.CheckExtendedKeyPurpose`: the peer's certificate must allow its role
    /// (TLS WWW server for a server, client for a client) when it names purposes.
    pub check_eku: bool,
    /// The driver was named `ossl`: its `x509/name` rules (src/tls/osslnames.rs).
    pub ossl: bool,
    /// Where the listener or action is defined (for error messages).
    pub loc: Location,
}

fn text(v: &PValue) -> String {
    v.to_config_string()
}

fn mode_of(v: Option<&PValue>) -> i64 {
    match v {
        Some(PValue::Int(n)) => *n,
        Some(PValue::Str(s)) => s.trim().parse().unwrap_or(0),
        Some(PValue::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

fn global_default_driver(cfg: &Config) -> String {
    cfg.globals
        .str("defaultNetstreamDriver")
        .unwrap_or("ptcp")
        .to_ascii_lowercase()
}

/// Checks the driver name for mode 1: only gtls/ossl carry TLS (ptcp refuses mode 1 in
/// rsyslog too).
fn driver_is_tls(loc: &Location, driver: &str, mode: i64) -> Result<bool, String> {
    match mode {
        0 => Ok(false),
        1 if driver == "gtls" || driver == "ossl" => Ok(true),
        1 => Err(format!("{loc}: error: stream driver mode 1 (TLS) needs the stream driver gtls or ossl, not '{driver}'")),
        m => Err(format!("{loc}: error: stream driver mode {m} is not supported (0: plain, 1: TLS)")),
    }
}

fn global_files(cfg: &Config, auth: AuthMode, peers: Vec<String>, loc: &Location) -> TlsSettings {
    let g = |n: &str| cfg.globals.str(n).map(str::to_string);
    TlsSettings {
        auth,
        peers,
        ca_file: g("defaultNetstreamDriverCAFile"),
        ca_extra: cfg
            .globals
            .str("netstreamDriverCaExtraFiles")
            .map(|v| {
                v.split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        cert_file: g("defaultNetstreamDriverCertFile"),
        key_file: g("defaultNetstreamDriverKeyFile"),
        crl_file: g("defaultNetstreamDriverCRLFile"),
        remote_sni: None,
        prioritize_san: false,
        permit_expired: Expired::Deny,
        check_eku: false,
        ossl: false,
        loc: loc.clone(),
    }
}

fn peer_list(v: Option<&PValue>) -> Vec<String> {
    match v {
        Some(PValue::Array(a)) => a.iter().map(|s| s.trim().to_string()).collect(),
        Some(v) => text(v)
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    }
}

/// imtcp: `None` for a plain listener.
pub fn for_imtcp(cfg: &Config, i: &Input) -> Result<Option<TlsSettings>, String> {
    let p = &i.params;
    let module: Option<&Params> = cfg.module(i.module).map(|m| &m.params);
    let get = |n: &str| p.get(n).or_else(|| module.and_then(|m| m.get(n)));
    let mode = mode_of(get("streamDriver.mode"));
    let driver = get("streamDriver.name")
        .map(|v| text(v).to_ascii_lowercase())
        .unwrap_or_else(|| global_default_driver(cfg));
    if !driver_is_tls(&i.loc, &driver, mode)? {
        return Ok(None);
    }
    let auth = AuthMode::parse(get("streamDriver.authMode").and_then(PValue::as_str))
        .map_err(|e| format!("{}: error: {e}", i.loc))?;
    let mut s = global_files(cfg, auth, peer_list(get("permittedPeer")), &i.loc);
    s.ossl = driver == "ossl";
    s.prioritize_san = matches!(get("streamDriver.PrioritizeSAN"), Some(PValue::Bool(true)));
    s.check_eku = matches!(
        get("streamDriver.CheckExtendedKeyPurpose"),
        Some(PValue::Bool(true))
    );
    s.permit_expired =
        Expired::parse(get("streamDriver.permitExpiredCerts").and_then(PValue::as_str))
            .map_err(|e| format!("{}: error: {e}", i.loc))?;
    for (name, slot) in [
        ("streamDriver.CAFile", &mut s.ca_file),
        ("streamDriver.CertFile", &mut s.cert_file),
        ("streamDriver.KeyFile", &mut s.key_file),
    ] {
        if let Some(v) = p.str(name) {
            *slot = Some(v.to_string());
        }
    }
    Ok(Some(s))
}

/// omfwd: `None` for UDP or a plain TCP connection.
pub fn for_omfwd(cfg: &Config, a: &Action) -> Result<Option<TlsSettings>, String> {
    let p = &a.params;
    let tcp = p
        .str("protocol")
        .is_some_and(|s| s.eq_ignore_ascii_case("tcp"));
    if !tcp {
        return Ok(None);
    }
    let mode = mode_of(p.get("streamDriverMode"));
    let driver = p
        .get("streamDriver")
        .map(|v| text(v).to_ascii_lowercase())
        .unwrap_or_else(|| global_default_driver(cfg));
    if !driver_is_tls(&a.loc, &driver, mode)? {
        return Ok(None);
    }
    let auth = AuthMode::parse(p.str("streamDriverAuthMode"))
        .map_err(|e| format!("{}: error: {e}", a.loc))?;
    let mut s = global_files(
        cfg,
        auth,
        peer_list(p.get("streamDriverPermittedPeers")),
        &a.loc,
    );
    s.ossl = driver == "ossl";
    s.prioritize_san = matches!(
        p.get("streamDriver.PrioritizeSAN"),
        Some(PValue::Bool(true))
    );
    s.check_eku = matches!(
        p.get("streamDriver.CheckExtendedKeyPurpose"),
        Some(PValue::Bool(true))
    );
    s.permit_expired = Expired::parse(p.str("streamDriver.permitExpiredCerts"))
        .map_err(|e| format!("{}: error: {e}", a.loc))?;
    for (name, slot) in [
        ("streamDriver.CAFile", &mut s.ca_file),
        ("streamDriver.CertFile", &mut s.cert_file),
        ("streamDriver.KeyFile", &mut s.key_file),
        ("streamDriver.RemoteSNI", &mut s.remote_sni),
    ] {
        if let Some(v) = p.str(name) {
            *slot = Some(v.to_string());
        }
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn cfg(text: &str) -> Config {
        let l = load_text("t.conf", text);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        l.config
    }

    #[test]
    fn imtcp_input_overrides_module_overrides_global() {
        let c = cfg("global(defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"/dev/null\" defaultNetstreamDriverCertFile=\"/dev/zero\" defaultNetstreamDriverKeyFile=\"/dev/full\")\nmodule(load=\"imtcp\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/certvalid\" PermittedPeer=[\"a\"])\ninput(type=\"imtcp\" port=\"1\" StreamDriver.CertFile=\"/i/c\")\ninput(type=\"imtcp\" port=\"2\" StreamDriver.AuthMode=\"anon\" StreamDriver.Mode=\"0\")\n*.* /tmp/x\n");
        let s = for_imtcp(&c, &c.inputs[0]).unwrap().unwrap();
        assert_eq!(s.auth, AuthMode::CertValid);
        assert_eq!(s.peers, ["a"]);
        assert_eq!(s.ca_file.as_deref(), Some("/dev/null"));
        assert_eq!(s.cert_file.as_deref(), Some("/i/c"));
        assert_eq!(s.key_file.as_deref(), Some("/dev/full"));
        assert!(for_imtcp(&c, &c.inputs[1]).unwrap().is_none());
    }

    #[test]
    fn legacy_forms_and_default_auth_mode() {
        let c = cfg("$DefaultNetstreamDriver gtls\n$DefaultNetstreamDriverCAFile /dev/null\n$ModLoad imtcp\n$InputTCPServerStreamDriverMode 1\n$InputTCPServerStreamDriverAuthMode x509/name\n$InputTCPServerStreamDriverPermittedPeer *.example.net\n$InputTCPServerRun 10514\n$ActionSendStreamDriverMode 1\n$ActionSendStreamDriverAuthMode x509/fingerprint\n$ActionSendStreamDriverPermittedPeer SHA1:AA\n*.* @@127.0.0.1:10515\n");
        let s = for_imtcp(&c, &c.inputs[0]).unwrap().unwrap();
        assert_eq!(
            (s.auth, s.peers.clone()),
            (AuthMode::Name, vec!["*.example.net".to_string()])
        );
        let a = c.actions.iter().find(|a| a.module == "omfwd").unwrap();
        let s = for_omfwd(&c, a).unwrap().unwrap();
        assert_eq!(s.auth, AuthMode::Fingerprint);
        assert_eq!(s.peers, ["SHA1:AA"]);
        assert_eq!(s.ca_file.as_deref(), Some("/dev/null"));
        assert_eq!(AuthMode::parse(None).unwrap(), AuthMode::Name);
    }

    #[test]
    fn mode_one_needs_a_tls_driver() {
        let c = cfg("module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"1\" StreamDriver.Mode=\"1\")\n*.* /tmp/x\n");
        let e = for_imtcp(&c, &c.inputs[0]).unwrap_err();
        assert!(
            e.contains("gtls or ossl") && e.starts_with("t.conf:2"),
            "{e}"
        );
    }
}
