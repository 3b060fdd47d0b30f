//! Reverse DNS for `fromhost`, with a cache, as rsyslog does when `net.enableDNS` is on
//! (the default): the peer's name, else its address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a looked-up name is kept.
const TTL: Duration = Duration::from_secs(3600);
/// Upper bound on cached entries (a flood of sources must not grow memory without limit).
const MAX_ENTRIES: usize = 64 * 1024;

pub struct Resolver {
    enabled: bool,
    cache: Mutex<HashMap<IpAddr, (Arc<str>, Instant)>>,
}

impl Resolver {
    pub fn new(enabled: bool) -> Resolver {
        Resolver {
            enabled,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `fromhost` for an address (blocking on a cache miss: call from a blocking context).
    pub fn name(&self, ip: IpAddr) -> Arc<str> {
        if !self.enabled {
            return Arc::from(ip.to_string());
        }
        if let Ok(c) = self.cache.lock() {
            if let Some((n, t)) = c.get(&ip) {
                if t.elapsed() < TTL {
                    return n.clone();
                }
            }
        }
        let name: Arc<str> = Arc::from(self.lookup(ip).unwrap_or_else(|| ip.to_string()));
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= MAX_ENTRIES {
                c.clear();
            }
            c.insert(ip, (name.clone(), Instant::now()));
        }
        name
    }

    /// Whether a lookup would hit the cache (so async callers can skip spawn_blocking).
    pub fn cached(&self, ip: IpAddr) -> Option<Arc<str>> {
        if !self.enabled {
            return Some(Arc::from(ip.to_string()));
        }
        let c = self.cache.lock().ok()?;
        c.get(&ip)
            .filter(|(_, t)| t.elapsed() < TTL)
            .map(|(n, _)| n.clone())
    }

    fn lookup(&self, ip: IpAddr) -> Option<String> {
        let sa: nix::sys::socket::SockaddrStorage = std::net::SocketAddr::new(ip, 0).into();
        let mut host = [0 as nix::libc::c_char; 1025];
        // SAFETY: sa points to a valid sockaddr of the given length; host is a writable
        // buffer of the stated size; no service buffer is requested.
        let rc = unsafe {
            nix::libc::getnameinfo(
                nix::sys::socket::SockaddrLike::as_ptr(&sa),
                nix::sys::socket::SockaddrLike::len(&sa),
                host.as_mut_ptr(),
                host.len() as nix::libc::socklen_t,
                std::ptr::null_mut(),
                0,
                nix::libc::NI_NAMEREQD,
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: getnameinfo succeeded, so host holds a NUL-terminated string.
        let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        // A PTR record that is itself an address is refused (rsyslog: "Malicious PTR
        // record"), and the IP is used instead.
        if name.parse::<IpAddr>().is_ok() {
            return None;
        }
        // rsyslog 8.2302 uses the full name in lower case: its domain stripping computes a
        // short name that it never uses, so `fromhost` keeps the domain whatever
        // preserveFQDN says.
        Some(name.to_ascii_lowercase())
    }
}
