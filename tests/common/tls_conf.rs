//! rsyslog-syntax configs for the TLS tests, the same text for rsyslogd and oxsyslogd: a TLS
//! receiver (global `DefaultNetstreamDriver*` files, imtcp module-level `StreamDriver.*`, one
//! input on 127.0.0.1 port 0 with a port file, omfile with [`flow::NUMBERED_TEMPLATE`]) and a
//! sender (plain imtcp feed input, omfwd with action-level `StreamDriver*` settings).
//! Include with `#[path = "common/tls_conf.rs"] mod tls_conf;` next to `flow`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// rsyslog's `StreamDriver.AuthMode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Anon,
    CertValid,
    Name,
    Fingerprint,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Anon => "anon",
            Auth::CertValid => "x509/certvalid",
            Auth::Name => "x509/name",
            Auth::Fingerprint => "x509/fingerprint",
        }
    }
}

/// One end's TLS settings.
#[derive(Debug, Clone)]
pub struct Tls {
    /// `gtls` or `ossl`.
    pub driver: &'static str,
    pub auth: Auth,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Permitted peers (names, wildcards or fingerprints).
    pub peers: Vec<String>,
    /// Extra global() parameters (e.g. a CRL file), verbatim.
    pub extra_global: String,
}

fn q(p: &Path) -> String {
    p.display().to_string()
}

/// A TLS receiver: imtcp in TLS mode on 127.0.0.1 port 0 (port in `dir/rport`), everything to
/// `dir/out` with the numbered template.
pub fn receiver(dir: &Path, t: &Tls) -> String {
    let mut g = format!(
        "global(workDirectory=\"{}\" DefaultNetstreamDriver=\"{}\"",
        dir.display(),
        t.driver
    );
    if let Some(ca) = &t.ca {
        g += &format!(" DefaultNetstreamDriverCAFile=\"{}\"", q(ca));
    }
    if let Some(c) = &t.cert {
        g += &format!(" DefaultNetstreamDriverCertFile=\"{}\"", q(c));
    }
    if let Some(k) = &t.key {
        g += &format!(" DefaultNetstreamDriverKeyFile=\"{}\"", q(k));
    }
    g += &t.extra_global;
    g += ")\n";
    let peers = if t.peers.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = t.peers.iter().map(|p| format!("\"{p}\"")).collect();
        format!(" PermittedPeer=[{}]", list.join(","))
    };
    format!(
        "{g}module(load=\"imtcp\" StreamDriver.Name=\"{}\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"{}\"{peers})\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}\")\n\
         {}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
        t.driver,
        t.auth.as_str(),
        dir.join("rport").display(),
        crate::flow::NUMBERED_TEMPLATE,
        dir.join("out").display(),
    )
}

/// [`receiver`] with every TLS setting on the input() (8.2302's input-level
/// `StreamDriver.Name/Mode/AuthMode/CAFile/CertFile/KeyFile`, `PermittedPeer`) and none in
/// global() or module().
pub fn receiver_input_level(dir: &Path, t: &Tls) -> String {
    let mut i = format!(
        "input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}\" StreamDriver.Name=\"{}\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"{}\"",
        dir.join("rport").display(),
        t.driver,
        t.auth.as_str()
    );
    if let Some(ca) = &t.ca {
        i += &format!(" StreamDriver.CAFile=\"{}\"", q(ca));
    }
    if let Some(c) = &t.cert {
        i += &format!(" StreamDriver.CertFile=\"{}\"", q(c));
    }
    if let Some(k) = &t.key {
        i += &format!(" StreamDriver.KeyFile=\"{}\"", q(k));
    }
    if !t.peers.is_empty() {
        let list: Vec<String> = t.peers.iter().map(|p| format!("\"{p}\"")).collect();
        i += &format!(" PermittedPeer=[{}]", list.join(","));
    }
    i += ")";
    format!(
        "global(workDirectory=\"{}\"{})\nmodule(load=\"imtcp\")\n{i}\n{}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
        dir.display(),
        t.extra_global,
        crate::flow::NUMBERED_TEMPLATE,
        dir.join("out").display(),
    )
}

/// The omfwd action sending over TLS to 127.0.0.1:`port` with `framing`
/// (`traditional` or `octet-counted`).
pub fn omfwd_action(t: &Tls, port: u16, framing: &str, extra: &str) -> String {
    let mut a = format!(
        "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" TCP_Framing=\"{framing}\" StreamDriver=\"{}\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"{}\"",
        t.driver,
        t.auth.as_str()
    );
    if !t.peers.is_empty() {
        a += &format!(" StreamDriverPermittedPeers=\"{}\"", t.peers.join(","));
    }
    if let Some(ca) = &t.ca {
        a += &format!(" StreamDriver.CAFile=\"{}\"", q(ca));
    }
    if let Some(c) = &t.cert {
        a += &format!(" StreamDriver.CertFile=\"{}\"", q(c));
    }
    if let Some(k) = &t.key {
        a += &format!(" StreamDriver.KeyFile=\"{}\"", q(k));
    }
    a += extra;
    a += ")";
    a
}

/// A sender: plain imtcp on 127.0.0.1 port 0 (port in `dir/sport`), everything forwarded over
/// TLS by [`omfwd_action`].
pub fn sender(dir: &Path, t: &Tls, port: u16, framing: &str) -> String {
    format!(
        "global(workDirectory=\"{}\"{})\nmodule(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{}\")\n*.* {}\n",
        dir.display(),
        t.extra_global,
        dir.join("sport").display(),
        omfwd_action(t, port, framing, "")
    )
}
