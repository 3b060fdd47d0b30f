//! omfwd's transports: plain UDP datagrams and a TCP connection with rsyslog's framing
//! (tcpclt.c `TCPSendBldFrame`), used by the action queue's worker thread (blocking I/O off
//! the rules thread). The target name is resolved again at every (re)connect, so a changed
//! DNS record is picked up after an outage; every resolved address is tried in turn.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::actq::Transport;
use super::fwd_tls::{Conn, TlsClient};

/// How long a TCP connect may take before the next address (or a retry).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one write may block before the connection is given up (rsyslog has none and
/// blocks its worker; a peer that reads nothing for this long is treated as gone).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest UDP payload (omfwd.c `UDP_MAX_MSGSIZE`); longer messages are cut.
const UDP_MAX_MSGSIZE: usize = 65507;

/// The target of a forwarding action.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Messages longer than this are cut (rsyslog's `maxMessageSize`, omfwd `processMsg`).
    pub max_msg: usize,
    /// impstats' `bytes.sent` of this target.
    pub bytes: Arc<AtomicU64>,
}

impl Target {
    fn resolve(&self) -> Result<Vec<SocketAddr>, String> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve '{}': {e}", self.host))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("'{}' has no address", self.host));
        }
        Ok(addrs)
    }

    pub fn describe(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// UDP socket options (omfwd `address`, `device`, `ipfreebind`, `udp.sendbuf`,
/// `udp.sendToAll`; runtime/net.c `create_single_udp_socket`).
#[derive(Debug, Clone, Default)]
pub struct UdpOptions {
    /// Source address to bind to (`address`).
    pub address: Option<std::net::IpAddr>,
    /// `device`: SO_BINDTODEVICE.
    pub device: Option<String>,
    /// `ipfreebind`: 0 off, 1 on, 2 on with a warning (rsyslog's default): when binding to
    /// `address` fails because it is not (yet) local, retry with IP_FREEBIND.
    pub ipfreebind: u8,
    /// `udp.sendbuf`: SO_SNDBUFFORCE, else SO_SNDBUF (0: the system's default).
    pub sendbuf: usize,
    /// `udp.sendToAll`: every resolved address gets each message, not just the first that
    /// takes it.
    pub send_to_all: bool,
}

/// A close-on-exec socket of `kind` in `to`'s address family.
fn socket_for(
    to: &SocketAddr,
    kind: nix::sys::socket::SockType,
) -> nix::Result<std::os::fd::OwnedFd> {
    use nix::sys::socket::{self as ns};
    let family = if to.is_ipv4() {
        ns::AddressFamily::Inet
    } else {
        ns::AddressFamily::Inet6
    };
    ns::socket(family, kind, ns::SockFlag::SOCK_CLOEXEC, None)
}

/// A UDP socket for `to` with the options applied.
fn udp_socket(to: &SocketAddr, o: &UdpOptions) -> Result<UdpSocket, String> {
    use nix::sys::socket::{self as ns, sockopt};
    let fd = socket_for(to, ns::SockType::Datagram)
        .map_err(|e| format!("cannot create a UDP socket: {e}"))?;
    if let Some(d) = &o.device {
        ns::setsockopt(&fd, sockopt::BindToDevice, &std::ffi::OsString::from(d))
            .map_err(|e| format!("cannot bind the UDP socket to device '{d}': {e}"))?;
    }
    if o.sendbuf > 0 && ns::setsockopt(&fd, sockopt::SndBufForce, &o.sendbuf).is_err() {
        let _ = ns::setsockopt(&fd, sockopt::SndBuf, &o.sendbuf);
    }
    let local = match o.address {
        Some(ip) if ip.is_ipv4() == to.is_ipv4() => Some(SocketAddr::new(ip, 0)),
        Some(ip) => {
            return Err(format!(
                "bind address {ip} is not of the target's address family"
            ))
        }
        None => None,
    };
    if let Some(l) = local {
        let sa = ns::SockaddrStorage::from(l);
        match ns::bind(fd.as_raw_fd(), &sa) {
            Ok(()) => {}
            Err(nix::errno::Errno::EADDRNOTAVAIL) if o.ipfreebind > 0 => {
                // IP_FREEBIND also covers IPv6 sockets on Linux
                ns::setsockopt(&fd, sockopt::IpFreebind, &true)
                    .and_then(|()| ns::bind(fd.as_raw_fd(), &sa))
                    .map_err(|e| format!("cannot bind the UDP socket to {l}: {e}"))?;
                if o.ipfreebind == 2 {
                    crate::engine::report_error(format!("omfwd: bound the UDP socket to {l} with IP_FREEBIND: the address is not local (yet)"));
                }
            }
            Err(e) => return Err(format!("cannot bind the UDP socket to {l}: {e}")),
        }
    }
    Ok(UdpSocket::from(fd))
}

/// A TCP connection to `to` from a socket bound to network device `device` (omfwd's
/// `device`): SO_BINDTODEVICE before connect(2), which gives up after [`CONNECT_TIMEOUT`]
/// (SO_SNDTIMEO bounds a blocking connect on Linux).
fn connect_on_device(to: &SocketAddr, device: &str) -> Result<TcpStream, String> {
    use nix::sys::socket::{self as ns, sockopt};
    let fd = socket_for(to, ns::SockType::Stream)
        .map_err(|e| format!("{to}: cannot create a TCP socket: {e}"))?;
    ns::setsockopt(
        &fd,
        sockopt::BindToDevice,
        &std::ffi::OsString::from(device),
    )
    .map_err(|e| format!("{to}: cannot bind the TCP socket to device '{device}': {e}"))?;
    let tv = nix::sys::time::TimeVal::new(CONNECT_TIMEOUT.as_secs() as _, 0);
    ns::setsockopt(&fd, sockopt::SendTimeout, &tv)
        .map_err(|e| format!("{to}: cannot set the connect timeout: {e}"))?;
    match ns::connect(fd.as_raw_fd(), &ns::SockaddrStorage::from(*to)) {
        Ok(()) => Ok(TcpStream::from(fd)),
        // the send timeout ran out during connect
        Err(nix::errno::Errno::EINPROGRESS) => {
            Err(format!("{to}: connection timed out (device '{device}')"))
        }
        Err(e) => Err(format!("{to}: {e} (device '{device}')")),
    }
}

/// UDP: one datagram per message, to the first address that takes it.
pub struct Udp {
    target: Target,
    options: UdpOptions,
    socks: Vec<(UdpSocket, SocketAddr)>,
    /// `rebindInterval`: new sockets (a new source port) every this many messages.
    rebind: u64,
    /// `udp.sendDelay`: a pause after each datagram.
    delay: Duration,
    sent: u64,
}

impl Udp {
    pub fn new(target: Target, rebind: u64, delay: Duration) -> Udp {
        Udp {
            target,
            options: UdpOptions::default(),
            socks: Vec::new(),
            rebind,
            delay,
            sent: 0,
        }
    }
}

impl Udp {
    /// Applies the socket options.
    pub fn with_options(mut self, options: UdpOptions) -> Udp {
        self.options = options;
        self
    }
}

impl Transport for Udp {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        if self.socks.is_empty() {
            self.try_resume().map_err(|e| (0, e))?;
        }
        for (i, m) in msgs.iter().enumerate() {
            // omfwd.c UDPSend: `nXmit++ % iRebindInterval == 0` drops the sockets
            if self.rebind > 0 {
                if self.sent > 0 && self.sent.is_multiple_of(self.rebind) {
                    self.try_resume().map_err(|e| (i, e))?;
                }
                self.sent += 1;
            }
            let mut data = &m[..m.len().min(self.target.max_msg)];
            if data.len() > UDP_MAX_MSGSIZE {
                crate::engine::report_error(format!("omfwd/udp: message is {} bytes long, but UDP can send at most {UDP_MAX_MSGSIZE} bytes (by RFC limit) - truncating message", data.len()));
                data = &data[..UDP_MAX_MSGSIZE];
            }
            let mut last_err = None;
            let mut sent = false;
            for (s, a) in &self.socks {
                match s.send_to(data, a) {
                    Ok(n) => {
                        self.target.bytes.fetch_add(n as u64, Ordering::Relaxed);
                        sent = true;
                        if !self.options.send_to_all {
                            break;
                        }
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            if !sent {
                let e = last_err.map_or_else(|| "no socket".to_string(), |e| e.to_string());
                return Err((i, format!("socket error sending: {e}")));
            }
            if !self.delay.is_zero() {
                std::thread::sleep(self.delay);
            }
        }
        Ok(())
    }

    fn try_resume(&mut self) -> Result<(), String> {
        self.socks.clear();
        let mut err = String::new();
        for a in self.target.resolve()? {
            match udp_socket(&a, &self.options) {
                Ok(s) => self.socks.push((s, a)),
                Err(e) => err = e,
            }
        }
        if self.socks.is_empty() {
            return Err(err);
        }
        Ok(())
    }

    fn close(&mut self) {
        self.socks.clear();
    }

    fn describe(&self) -> String {
        format!("{} (udp)", self.target.describe())
    }
}

/// TCP framing (`TCP_Framing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with the delimiter (added unless it already ends with it).
    Traditional(u8),
    /// `LEN SP MSG` (RFC 6587 octet counting).
    OctetCounted,
}

/// TCP keep-alive settings (`keepAlive`, `keepAlive.probes`/`.time`/`.interval`; 0: the
/// system's default).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeepAlive {
    pub on: bool,
    pub probes: u32,
    pub time: u32,
    pub interval: u32,
}

/// TCP: one connection, frames written a batch at a time.
pub struct Tcp {
    target: Target,
    framing: Framing,
    keepalive: KeepAlive,
    /// `rebindInterval`: a new connection for every this many messages (tcpclt.c: the
    /// message that reaches the count goes over the new one).
    rebind: u64,
    num_msgs: u64,
    /// `resendLastMSGOnReconnect`: the last frame written, sent again first after a failed
    /// write (it most probably did not make it; a duplicate if it did).
    resend_last: bool,
    prev: Vec<u8>,
    resend_pending: bool,
    conn: Option<Conn>,
    /// TLS (`StreamDriverMode="1"`, src/output/fwd_tls.rs).
    tls: Option<TlsClient>,
    /// `device`: the connection's socket is bound to this network device (SO_BINDTODEVICE,
    /// as nsd_ptcp.c's `Connect`).
    device: Option<String>,
    buf: Vec<u8>,
    ends: Vec<usize>,
}

/// TCP options besides framing.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpOptions {
    pub keepalive: KeepAlive,
    pub rebind: u64,
    pub resend_last: bool,
}

impl Tcp {
    pub fn new(target: Target, framing: Framing, o: TcpOptions) -> Tcp {
        Tcp {
            target,
            framing,
            keepalive: o.keepalive,
            rebind: o.rebind,
            num_msgs: 0,
            resend_last: o.resend_last,
            prev: Vec::new(),
            resend_pending: false,
            conn: None,
            tls: None,
            device: None,
            buf: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Makes the connection TLS (`None`: plain).
    pub fn with_tls(mut self, tls: Option<TlsClient>) -> Tcp {
        self.tls = tls;
        self
    }

    /// Binds the connection to a network device (`None`: any).
    pub fn with_device(mut self, device: Option<String>) -> Tcp {
        self.device = device;
        self
    }

    /// Keeps the frame of the last of the first `done` messages written (for
    /// `resendLastMSGOnReconnect`).
    fn keep_prev(&mut self, done: usize) {
        if self.resend_last && done > 0 {
            let begin = if done > 1 { self.ends[done - 2] } else { 0 };
            self.prev.clear();
            self.prev
                .extend_from_slice(&self.buf[begin..self.ends[done - 1]]);
        }
    }

    /// Writes `buf[from..to]`; on error, how many bytes of it were written.
    fn write_range(&mut self, from: usize, to: usize) -> Result<(), (usize, String)> {
        let Some(s) = self.conn.as_mut() else {
            return Err((from, "not connected".into()));
        };
        let mut written = from;
        while written < to {
            match s.write(&self.buf[written..to]) {
                Ok(0) => return Err((written, "connection closed".into())),
                Ok(n) => {
                    written += n;
                    self.target.bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err((written, e.to_string())),
            }
        }
        Ok(())
    }

    /// Connects when there is no connection (and first resends the last frame when
    /// `resendLastMSGOnReconnect` asks for it after a failure).
    fn ensure_connected(&mut self) -> Result<(), String> {
        if self.conn.as_mut().is_some_and(Conn::peer_closed) {
            // rsyslogd 8.2302 does not resend the last message here (tested): only after a
            // write that failed
            self.conn = None;
        }
        if self.conn.is_none() {
            self.try_resume()?;
        }
        if self.resend_pending {
            self.resend_pending = false;
            if self.resend_last && !self.prev.is_empty() {
                if let Some(s) = self.conn.as_mut() {
                    s.write_all(&self.prev).map_err(|e| {
                        self.resend_pending = true;
                        e.to_string()
                    })?;
                    self.target
                        .bytes
                        .fetch_add(self.prev.len() as u64, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    fn frame(&mut self, msgs: &[Vec<u8>]) {
        self.buf.clear();
        self.ends.clear();
        for m in msgs {
            let data = &m[..m.len().min(self.target.max_msg)];
            match self.framing {
                Framing::Traditional(d) => {
                    self.buf.extend_from_slice(data);
                    if data.last() != Some(&d) {
                        self.buf.push(d);
                    }
                }
                Framing::OctetCounted => {
                    self.buf
                        .extend_from_slice(format!("{} ", data.len()).as_bytes());
                    self.buf.extend_from_slice(data);
                }
            }
            self.ends.push(self.buf.len());
        }
    }

    fn set_keepalive(&self, s: &TcpStream) {
        use nix::sys::socket::{setsockopt, sockopt};
        let k = self.keepalive;
        if !k.on {
            return;
        }
        let _ = setsockopt(s, sockopt::KeepAlive, &true);
        if k.time > 0 {
            let _ = setsockopt(s, sockopt::TcpKeepIdle, &k.time);
        }
        if k.interval > 0 {
            let _ = setsockopt(s, sockopt::TcpKeepInterval, &k.interval);
        }
        if k.probes > 0 {
            let _ = setsockopt(s, sockopt::TcpKeepCount, &k.probes);
        }
    }

    /// Whether the peer closed the connection (as rsyslog's `CheckConnection`: a
    /// non-blocking peek sees the end of the stream). An error (a reset) is not taken as
    /// closed, as in nsd_ptcp.c: the write that follows fails, and
    /// `resendLastMSGOnReconnect` acts as after any failed write.
    pub(super) fn peer_closed(s: &TcpStream) -> bool {
        let mut b = [0u8; 1];
        // SAFETY: recv into a valid 1-byte buffer on an open socket descriptor.
        let n = unsafe {
            libc::recv(
                s.as_raw_fd(),
                b.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n == 0
    }

    /// Whether rsyslog would resend its last message after the write of frame `i` (of
    /// this batch) failed: only when that write happens while frames are added, not in the
    /// flush at the end of the transaction (omfwd.c `TCPSendFrame` writes a frame longer
    /// than its 16 KiB buffer at once, and the buffer when the frame does not fit; a failed
    /// write there is retried by tcpclt.c `Send`, which resends the last message first).
    fn rsyslog_resends(&self, i: usize) -> bool {
        const SND_BUF: usize = 16 * 1024;
        let len = |k: usize| self.ends[k] - if k > 0 { self.ends[k - 1] } else { 0 };
        let mut off = 0;
        for k in 0..=i.min(self.ends.len().saturating_sub(1)) {
            let l = len(k);
            let flush_before = off != 0 && off + l >= SND_BUF;
            if flush_before {
                off = 0;
            }
            if k == i {
                return flush_before || l > SND_BUF;
            }
            if l <= SND_BUF {
                off += l;
            }
        }
        false
    }
}

impl Transport for Tcp {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        self.frame(msgs);
        // where a rebind comes before a message (tcpclt.c: `++iNumMsgs == iRebindInterval`)
        let mut cuts = Vec::new();
        let mut count = self.num_msgs;
        if self.rebind > 0 {
            for i in 0..msgs.len() {
                count += 1;
                if count == self.rebind {
                    cuts.push(i);
                    count = 0;
                }
            }
        }
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied().filter(|&c| c > 0));
        bounds.push(msgs.len());
        for w in bounds.windows(2) {
            let (start, end) = (w[0], w[1]);
            if start == end {
                continue;
            }
            if cuts.contains(&start) {
                self.close();
            }
            self.ensure_connected().map_err(|e| (start, e))?;
            let from = if start == 0 { 0 } else { self.ends[start - 1] };
            if let Err((w, e)) = self.write_range(from, self.ends[end - 1]) {
                let done = self.ends.iter().take_while(|e| **e <= w).count();
                self.resend_pending = self.rsyslog_resends(done);
                self.keep_prev(done);
                return Err((done, e));
            }
        }
        self.num_msgs = count;
        self.keep_prev(msgs.len());
        Ok(())
    }

    fn try_resume(&mut self) -> Result<(), String> {
        self.conn = None;
        let mut err = String::new();
        for a in self.target.resolve()? {
            let conn = match &self.device {
                None => {
                    TcpStream::connect_timeout(&a, CONNECT_TIMEOUT).map_err(|e| format!("{a}: {e}"))
                }
                Some(d) => connect_on_device(&a, d),
            };
            match conn {
                Ok(s) => {
                    let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
                    self.set_keepalive(&s);
                    self.conn = Some(match &self.tls {
                        None => Conn::Plain(s),
                        Some(t) => match t.connect(s, a, WRITE_TIMEOUT) {
                            Ok(c) => c,
                            Err(e) => {
                                err = e;
                                continue;
                            }
                        },
                    });
                    return Ok(());
                }
                Err(e) => err = e,
            }
        }
        Err(err)
    }

    fn close(&mut self) {
        if let Some(c) = self.conn.take() {
            c.close();
        }
    }

    fn describe(&self) -> String {
        format!("{} (tcp)", self.target.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_as_rsyslog() {
        let t = Target {
            host: "localhost".into(),
            port: 1,
            max_msg: 8,
            bytes: Default::default(),
        };
        let mut c = Tcp::new(
            t.clone(),
            Framing::Traditional(b'\n'),
            TcpOptions::default(),
        );
        c.frame(&[b"ab".to_vec(), b"cd\n".to_vec(), b"0123456789".to_vec()]);
        assert_eq!(c.buf, b"ab\ncd\n01234567\n");
        assert_eq!(c.ends, [3, 6, 15]);
        let mut c = Tcp::new(t, Framing::OctetCounted, TcpOptions::default());
        c.frame(&[b"ab".to_vec(), b"cd\n".to_vec()]);
        assert_eq!(c.buf, b"2 ab3 cd\n");
    }
}
