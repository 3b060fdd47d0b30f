//! `$AllowedSender` ACLs of imudp and imtcp, as rsyslog 8.2302's `runtime/net.c` builds and
//! checks them:
//!
//! * entries are parsed like `parsAddrWithBits`: `[v6]` or `[v6]/bits`, `v4` or `v4/bits`
//!   (numeric forms as `getaddrinfo(AI_NUMERICHOST)` accepts them), anything else is a name;
//!   bits are truncated to 8 bits as rsyslog stores them, 0 or out of range becomes /32 (/128)
//!   with rsyslog's error message;
//! * a name without `*` or `?` is resolved once at start (unless `net.aclResolveHostname` is
//!   off) into /32 and /128 entries (v4-mapped results become IPv4); when it does not resolve
//!   it is dropped ("WON'T be added"), or kept as a name with `net.aclAddHostnameOnFail`;
//!   with `net.enableDNS="off"` name entries are ignored;
//! * a sender matches an address entry by masked comparison (an IPv4 entry also matches the
//!   v4-mapped IPv6 form, an IPv6 entry with a scope id only that scope), a name entry by
//!   `fnmatch(FNM_NOESCAPE|FNM_CASEFOLD)` against the sender's reverse-DNS name (its IP
//!   when it has none or DNS is off);
//! * no list for a protocol: everyone is allowed.
//!
//! Deliberate differences: a protocol whose lines all end up empty (every entry dropped) is
//! refused at start instead of silently allowing everyone; the refusal of a sender is logged
//! once per sender address (rsyslog logs per TCP connection, and for UDP at every change of
//! sender), with the sender named; imptcp (an alias of imtcp here) enforces the TCP list
//! (rsyslog's imptcp ignores it).

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;

use crate::config::model::{AllowedSender, Config, PValue};

/// Bound of the per-list "already warned" and verdict caches.
const MAX_REMEMBERED: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Network (already masked) and significant bits.
    V4 {
        net: u32,
        bits: u8,
    },
    V6 {
        net: u128,
        bits: u8,
        scope: u32,
    },
    /// A host name pattern (fnmatch).
    Name(String),
}

/// Result of a check (`isAllowedSender2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
    /// Only a name entry could match: ask again with the sender's name.
    NeedsName,
}

/// One protocol's list.
#[derive(Debug, Default)]
pub struct Acl {
    pub entries: Vec<Entry>,
    /// `net.enableDNS`: names come from reverse DNS (else the address is the name).
    pub dns: bool,
    warned: Mutex<HashSet<IpAddr>>,
    verdicts: Mutex<HashMap<IpAddr, bool>>,
}

/// The UDP and TCP lists (`None`: no restriction).
#[derive(Debug, Default)]
pub struct Acls {
    pub udp: Option<std::sync::Arc<Acl>>,
    pub tcp: Option<std::sync::Arc<Acl>>,
}

/// Global settings that steer how the lists are built.
#[derive(Debug, Clone, Copy)]
pub struct AclOptions {
    pub dns_enabled: bool,
    pub resolve_hostnames: bool,
    pub add_hostname_on_fail: bool,
}

impl AclOptions {
    pub fn from_config(cfg: &Config) -> AclOptions {
        let b = |n: &str, d: bool| match cfg.globals.get(n) {
            Some(PValue::Bool(v)) => *v,
            _ => d,
        };
        AclOptions {
            dns_enabled: b("net.enableDNS", true),
            resolve_hostnames: b("net.aclResolveHostname", true),
            add_hostname_on_fail: b("net.aclAddHostnameOnFail", false),
        }
    }
}

/// Builds both lists. `notes` receives rsyslog's load-time messages (errors it logs and goes
/// on). A list that ends up empty although the config has lines for it is an error.
pub fn build(
    lines: &[AllowedSender],
    o: AclOptions,
    notes: &mut Vec<String>,
) -> Result<Acls, String> {
    let mut acls = Acls::default();
    for proto in ["UDP", "TCP"] {
        let mine: Vec<&AllowedSender> = lines
            .iter()
            .filter(|l| l.protocol.eq_ignore_ascii_case(proto))
            .collect();
        let Some(first) = mine.first() else { continue };
        let mut entries = Vec::new();
        for l in &mine {
            for s in &l.senders {
                add_entry(s, o, &mut entries, notes)
                    .map_err(|e| format!("{}: error: $AllowedSender {proto}: {e}", l.loc))?;
            }
        }
        if entries.is_empty() {
            return Err(format!(
                "{}: error: $AllowedSender {proto}: no usable entry is left (rsyslogd would then allow every sender); refusing to start",
                first.loc
            ));
        }
        let acl = std::sync::Arc::new(Acl {
            entries,
            dns: o.dns_enabled,
            ..Acl::default()
        });
        if proto == "UDP" {
            acls.udp = Some(acl);
        } else {
            acls.tcp = Some(acl);
        }
    }
    Ok(acls)
}

fn mask4(bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32) as u32)
    }
}

fn mask6(bits: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits.min(128) as u32)
    }
}

/// `getaddrinfo(host, AI_NUMERICHOST, family)`: Ok(Some) parsed, Ok(None) EAI_NONAME
/// (so a name), Err otherwise.
fn numeric(host: &str, family: i32) -> Result<Option<SocketAddr>, String> {
    let r = gai(host, family, libc::AI_NUMERICHOST, 0);
    match r {
        Ok(v) => Ok(v.into_iter().next()),
        Err(libc::EAI_NONAME) => Ok(None),
        Err(e) => Err(format!("invalid address '{host}' ({})", gai_error(e))),
    }
}

fn gai_error(e: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static string.
    unsafe { CStr::from_ptr(libc::gai_strerror(e)) }
        .to_string_lossy()
        .into_owned()
}

/// A thin getaddrinfo wrapper (the system resolver, with rsyslog's flags).
fn gai(host: &str, family: i32, flags: i32, socktype: i32) -> Result<Vec<SocketAddr>, i32> {
    let Ok(c) = CString::new(host) else {
        return Err(libc::EAI_NONAME);
    };
    // SAFETY: an all-zero addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family;
    hints.ai_flags = flags;
    hints.ai_socktype = socktype;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, hints and out pointer; the result is freed below.
    let rc = unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(rc);
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p is a node of the list getaddrinfo returned.
        let ai = unsafe { &*p };
        if !ai.ai_addr.is_null() {
            match ai.ai_family {
                libc::AF_INET => {
                    // SAFETY: family AF_INET means ai_addr points to a sockaddr_in.
                    let sa = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
                    let ip = Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
                    out.push(SocketAddr::new(IpAddr::V4(ip), 0));
                }
                libc::AF_INET6 => {
                    // SAFETY: family AF_INET6 means ai_addr points to a sockaddr_in6.
                    let sa = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in6) };
                    let ip = Ipv6Addr::from(sa.sin6_addr.s6_addr);
                    out.push(SocketAddr::V6(std::net::SocketAddrV6::new(
                        ip,
                        0,
                        0,
                        sa.sin6_scope_id,
                    )));
                }
                _ => {}
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from a successful getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

fn scope_of(a: &SocketAddr) -> u32 {
    match a {
        SocketAddr::V6(v) => v.scope_id(),
        SocketAddr::V4(_) => 0,
    }
}

/// Parses one entry as written and adds what rsyslog would add.
fn add_entry(
    s: &str,
    o: AclOptions,
    out: &mut Vec<Entry>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    // the token ends at '/', ',' or whitespace
    let tok_end = s
        .find(|c: char| c == '/' || c == ',' || c.is_ascii_whitespace())
        .unwrap_or(s.len());
    let (tok, rest) = s.split_at(tok_end);
    let bits_of = |default: u8| -> Result<u8, String> {
        match rest.strip_prefix('/') {
            None => Ok(default),
            Some(r) => {
                let d: String = r.chars().take_while(|c| c.is_ascii_digit()).collect();
                if d.is_empty() {
                    return Err(format!("invalid number of bits in '{s}'"));
                }
                // rsyslog parses an int and stores it in a uint8_t
                let mut v: u32 = 0;
                for c in d.bytes() {
                    v = v.wrapping_mul(10).wrapping_add((c - b'0') as u32);
                }
                Ok(v as u8)
            }
        }
    };
    let (addr, name) = if let Some(inner) = tok.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(format!("invalid IPv6 address '{s}' (no ']')"));
        };
        let inner = &inner[..close];
        (numeric(inner, libc::AF_INET6)?, inner)
    } else {
        (numeric(tok, libc::AF_INET)?, tok)
    };
    let is_v6 = tok.starts_with('[');
    let bits = bits_of(if is_v6 { 128 } else { 32 })?;
    match addr {
        Some(a) => {
            let mut bits = bits;
            if bits == 0 {
                notes.push("You can not specify 0 bits of the netmask, this would match ALL systems. If you really intend to do that, remove all $AllowedSender directives.".into());
            }
            match a.ip() {
                IpAddr::V4(v4) => {
                    if !(1..=32).contains(&bits) {
                        notes.push(format!(
                            "Invalid number of bits ({bits}) in IPv4 address - adjusted to 32"
                        ));
                        bits = 32;
                    }
                    out.push(Entry::V4 {
                        net: u32::from(v4) & mask4(bits),
                        bits,
                    });
                }
                IpAddr::V6(v6) => {
                    if !(1..=128).contains(&bits) {
                        notes.push(format!(
                            "Invalid number of bits ({bits}) in IPv6 address - adjusted to 128"
                        ));
                        bits = 128;
                    }
                    out.push(Entry::V6 {
                        net: u128::from(v6) & mask6(bits),
                        bits,
                        scope: scope_of(&a),
                    });
                }
            }
        }
        None => {
            if !o.dns_enabled {
                notes.push("Ignoring hostname based ACLs because DNS is disabled.".into());
                return Ok(());
            }
            if !name.contains('*') && !name.contains('?') && o.resolve_hostnames {
                match gai(name, libc::AF_UNSPEC, libc::AI_ADDRCONFIG, libc::SOCK_DGRAM) {
                    Err(_) => {
                        notes.push(format!("DNS error: Can't resolve \"{name}\""));
                        if o.add_hostname_on_fail {
                            notes.push(format!(
                                "Adding hostname \"{name}\" to ACL as a wildcard entry."
                            ));
                            out.push(Entry::Name(name.to_string()));
                        } else {
                            notes.push(format!("Hostname \"{name}\" WON'T be added to ACL."));
                        }
                    }
                    Ok(addrs) => {
                        for a in addrs {
                            match a.ip() {
                                IpAddr::V4(v4) => out.push(Entry::V4 {
                                    net: u32::from(v4),
                                    bits: 32,
                                }),
                                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                                    Some(v4) => out.push(Entry::V4 {
                                        net: u32::from(v4),
                                        bits: 32,
                                    }),
                                    None => out.push(Entry::V6 {
                                        net: u128::from(v6),
                                        bits: 128,
                                        scope: scope_of(&a),
                                    }),
                                },
                            }
                        }
                    }
                }
            } else {
                out.push(Entry::Name(name.to_string()));
            }
        }
    }
    Ok(())
}

/// `fnmatch(pattern, name, FNM_NOESCAPE|FNM_CASEFOLD) == 0`.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let (Ok(p), Ok(n)) = (CString::new(pattern), CString::new(name)) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated strings.
    unsafe {
        libc::fnmatch(
            p.as_ptr(),
            n.as_ptr(),
            libc::FNM_NOESCAPE | libc::FNM_CASEFOLD,
        ) == 0
    }
}

impl Entry {
    /// rsyslog's `MaskCmp`: Some(bool) for a decision, None when a name is needed.
    fn matches(&self, from: &SocketAddr, name: Option<&str>) -> Option<bool> {
        match self {
            Entry::Name(p) => name.map(|n| fnmatch(p, n)),
            Entry::V4 { net, bits } => Some(match from.ip() {
                IpAddr::V4(v4) => u32::from(v4) & mask4(*bits) == *net,
                IpAddr::V6(v6) => {
                    let o = v6.octets();
                    o[..10].iter().all(|&b| b == 0)
                        && o[10] == 0xff
                        && o[11] == 0xff
                        && u32::from_be_bytes([o[12], o[13], o[14], o[15]]) & mask4(*bits) == *net
                }
            }),
            Entry::V6 { net, bits, scope } => Some(match from {
                SocketAddr::V4(_) => false,
                SocketAddr::V6(v6) => {
                    u128::from(*v6.ip()) & mask6(*bits) == *net
                        && (*scope == 0 || v6.scope_id() == *scope)
                }
            }),
        }
    }
}

impl Acl {
    /// `isAllowedSender2`: the first matching entry allows; `NeedsName` when no address entry
    /// matched and a name entry could not be checked without the sender's name.
    pub fn check(&self, from: &SocketAddr, name: Option<&str>) -> Verdict {
        let mut needs = false;
        for e in &self.entries {
            match e.matches(from, name) {
                Some(true) => return Verdict::Allowed,
                Some(false) => {}
                None => needs = true,
            }
        }
        if needs {
            Verdict::NeedsName
        } else {
            Verdict::Denied
        }
    }

    /// Whether the list has name entries (so a check may need a reverse lookup).
    pub fn has_names(&self) -> bool {
        self.entries.iter().any(|e| matches!(e, Entry::Name(_)))
    }

    /// True the first time this sender is refused (bounded memory: the set is cleared when
    /// it is full, so a sender may be reported again after many others).
    pub fn first_refusal(&self, ip: IpAddr) -> bool {
        let Ok(mut w) = self.warned.lock() else {
            return true;
        };
        if w.len() >= MAX_REMEMBERED {
            w.clear();
        }
        w.insert(ip)
    }

    /// A cached verdict for a sender (UDP: one lookup per sender, not per datagram).
    pub fn cached(&self, ip: IpAddr) -> Option<bool> {
        self.verdicts.lock().ok()?.get(&ip).copied()
    }

    pub fn remember(&self, ip: IpAddr, allowed: bool) {
        if let Ok(mut v) = self.verdicts.lock() {
            if v.len() >= MAX_REMEMBERED {
                v.clear();
            }
            v.insert(ip, allowed);
        }
    }
}

/// Decides whether a sender may deliver (`tcp`: a new connection; else a UDP datagram, whose
/// verdict is cached per address), logging the refusal once per sender as an error.
pub async fn admit(
    acl: &std::sync::Arc<Acl>,
    from: SocketAddr,
    notices: &crate::engine::Notices,
    tcp: bool,
) -> bool {
    let ip = from.ip().to_canonical();
    if !tcp {
        if let Some(v) = acl.cached(ip) {
            return v;
        }
    }
    let (ok, name) = match acl.check(&from, None) {
        Verdict::Allowed => (true, String::new()),
        Verdict::Denied => (false, fqdn_maybe(acl, ip, tcp).await),
        Verdict::NeedsName => {
            let name = fqdn_maybe(acl, ip, true).await;
            (acl.check(&from, Some(&name)) == Verdict::Allowed, name)
        }
    };
    if !tcp {
        acl.remember(ip, ok);
    }
    if !ok && acl.first_refusal(ip) {
        if tcp {
            notices.error(format!(
                "connection request from disallowed sender {name} discarded"
            ));
        } else {
            notices.error(format!(
                "imudp: UDP message from disallowed sender discarded (sender {name})"
            ));
        }
    }
    ok
}

/// The name to check or report: the reverse-DNS name when wanted (looked up off the async
/// threads), else the address.
async fn fqdn_maybe(acl: &Acl, ip: IpAddr, lookup: bool) -> String {
    if !lookup || !acl.dns {
        return ip.to_string();
    }
    tokio::task::spawn_blocking(move || fqdn(ip, true))
        .await
        .unwrap_or_else(|_| ip.to_string())
}

/// The sender's reverse-DNS name, lower-cased, or its address (rsyslog's `fqdnLowerCase`).
pub fn fqdn(ip: IpAddr, dns_enabled: bool) -> String {
    let ip = ip.to_canonical();
    if !dns_enabled {
        return ip.to_string();
    }
    let sa: nix::sys::socket::SockaddrStorage = SocketAddr::new(ip, 0).into();
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: sa is a valid sockaddr of the given length; host is writable for its length.
    let rc = unsafe {
        libc::getnameinfo(
            nix::sys::socket::SockaddrLike::as_ptr(&sa),
            nix::sys::socket::SockaddrLike::len(&sa),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return ip.to_string();
    }
    // SAFETY: getnameinfo succeeded: host is NUL-terminated.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) }
        .to_string_lossy()
        .to_ascii_lowercase();
    // a PTR record that is a numeric address is malicious: rsyslog uses the IP
    if numeric(&name, libc::AF_UNSPEC).ok().flatten().is_some() {
        return ip.to_string();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostics::Location;

    fn opts() -> AclOptions {
        AclOptions {
            dns_enabled: true,
            resolve_hostnames: true,
            add_hostname_on_fail: false,
        }
    }

    fn acl(entries: &[&str]) -> (Acl, Vec<String>) {
        let mut notes = Vec::new();
        let mut out = Vec::new();
        for e in entries {
            add_entry(e, opts(), &mut out, &mut notes).unwrap();
        }
        (
            Acl {
                entries: out,
                ..Acl::default()
            },
            notes,
        )
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_and_cidr() {
        let (a, _) = acl(&["127.0.0.1", "10.1.0.0/16"]);
        assert_eq!(a.check(&sa("127.0.0.1:5"), None), Verdict::Allowed);
        assert_eq!(a.check(&sa("127.0.0.2:5"), None), Verdict::Denied);
        assert_eq!(a.check(&sa("10.1.200.3:5"), None), Verdict::Allowed);
        assert_eq!(a.check(&sa("10.2.0.1:5"), None), Verdict::Denied);
        // the v4-mapped form of an IPv6 socket matches IPv4 entries
        assert_eq!(a.check(&sa("[::ffff:127.0.0.1]:5"), None), Verdict::Allowed);
        assert_eq!(a.check(&sa("[::ffff:127.0.0.2]:5"), None), Verdict::Denied);
        assert_eq!(a.check(&sa("[::1]:5"), None), Verdict::Denied);
        // glibc's numeric forms
        let (a, _) = acl(&["127.1"]);
        assert_eq!(a.check(&sa("127.0.0.1:5"), None), Verdict::Allowed);
    }

    #[test]
    fn bits_quirks() {
        let (a, n) = acl(&["127.0.0.1/0"]);
        assert_eq!(
            a.entries,
            vec![Entry::V4 {
                net: 0x7f000001,
                bits: 32
            }]
        );
        assert!(n[0].starts_with("You can not specify 0 bits"));
        assert!(n[1].contains("adjusted to 32"));
        // 264 & 0xff = 8
        let (a, _) = acl(&["127.9.9.9/264"]);
        assert_eq!(
            a.entries,
            vec![Entry::V4 {
                net: 0x7f000000,
                bits: 8
            }]
        );
        let (a, n) = acl(&["127.0.0.1/33"]);
        assert_eq!(
            a.entries,
            vec![Entry::V4 {
                net: 0x7f000001,
                bits: 32
            }]
        );
        assert!(n[0].contains("(33)"));
    }

    #[test]
    fn ipv6() {
        let (a, _) = acl(&["[::1]", "[2001:db8::]/32"]);
        assert_eq!(a.check(&sa("[::1]:5"), None), Verdict::Allowed);
        assert_eq!(a.check(&sa("[2001:db8:1::5]:5"), None), Verdict::Allowed);
        assert_eq!(a.check(&sa("[2001:db9::5]:5"), None), Verdict::Denied);
        assert_eq!(a.check(&sa("127.0.0.1:5"), None), Verdict::Denied);
    }

    #[test]
    fn names_and_wildcards() {
        let (a, _) = acl(&["*.example.com", "host?.test"]);
        assert_eq!(a.check(&sa("10.0.0.1:5"), None), Verdict::NeedsName);
        assert_eq!(
            a.check(&sa("10.0.0.1:5"), Some("a.b.Example.COM")),
            Verdict::Allowed
        );
        assert_eq!(
            a.check(&sa("10.0.0.1:5"), Some("host1.test")),
            Verdict::Allowed
        );
        assert_eq!(
            a.check(&sa("10.0.0.1:5"), Some("host12.test")),
            Verdict::Denied
        );
        assert_eq!(
            a.check(&sa("10.0.0.1:5"), Some("example.com")),
            Verdict::Denied
        );
        // a plain name is resolved at start
        let (a, _) = acl(&["localhost"]);
        assert!(!a.has_names());
        assert_eq!(a.check(&sa("127.0.0.1:5"), None), Verdict::Allowed);
        // unresolvable: dropped, or kept as a name with aclAddHostnameOnFail
        let mut notes = Vec::new();
        let mut out = Vec::new();
        add_entry("no-such-host.invalid", opts(), &mut out, &mut notes).unwrap();
        assert!(out.is_empty());
        assert!(notes.iter().any(|n| n.contains("WON'T be added")));
        let o = AclOptions {
            add_hostname_on_fail: true,
            ..opts()
        };
        add_entry("no-such-host.invalid", o, &mut out, &mut notes).unwrap();
        assert_eq!(out, vec![Entry::Name("no-such-host.invalid".into())]);
        // DNS off: names are ignored
        let o = AclOptions {
            dns_enabled: false,
            ..opts()
        };
        let mut out = Vec::new();
        add_entry("*.example.com", o, &mut out, &mut notes).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn empty_list_is_refused_and_no_list_allows() {
        let loc = Location::default();
        let lines = vec![AllowedSender {
            protocol: "UDP".into(),
            senders: vec!["no-such-host.invalid".into()],
            loc,
        }];
        let mut notes = Vec::new();
        assert!(build(&lines, opts(), &mut notes).is_err());
        let lines = vec![AllowedSender {
            protocol: "TCP".into(),
            senders: vec!["127.0.0.1".into()],
            loc: Location::default(),
        }];
        let a = build(&lines, opts(), &mut notes).unwrap();
        assert!(a.udp.is_none());
        assert!(a.tcp.is_some());
    }

    #[test]
    fn refusal_is_remembered_once() {
        let (a, _) = acl(&["127.0.0.1"]);
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(a.first_refusal(ip));
        assert!(!a.first_refusal(ip));
    }
}
