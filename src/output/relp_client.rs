//! The RELP client session of omrelp, on its action queue's worker thread (blocking
//! sockets): connect within `conn.timeout`, `open` with our offers, then `syslog` frames with
//! at most `windowSize` unacknowledged; a message is delivered only when its `rsp 200 OK`
//! arrived. A broken session, a `serverclose` hint, an answer other than 200 or no answer
//! within `timeout` fail the batch at its first unacknowledged message, and the action queue
//! (src/output/actq.rs) reconnects and sends everything from there again — RELP's recovery,
//! which may duplicate messages the server took but could not acknowledge. With `tls="on"`
//! the session runs over omfwd's TLS client (src/output/fwd_tls.rs) with librelp's auth
//! modes (src/relp/tls.rs); a refused handshake is one line naming the server.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::actq::Transport;
use super::fwd_tls::{self, TlsClient};
use crate::relp::frame::{self, Parsed};
use crate::relp::{next_txnr, CLIENT_MAX_DATA};

/// omrelp's settings for the session.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub host: String,
    pub port: u16,
    pub window: usize,
    /// `timeout`: how long to wait for an answer.
    pub timeout: Duration,
    /// `conn.timeout`: how long a connect may take.
    pub conn_timeout: Duration,
    /// `rebindInterval`: a new session after this many messages (0: never).
    pub rebind: u64,
    /// Messages longer than this are cut (maxMessageSize, as omrelp does).
    pub max_msg: usize,
    /// `localClientIp`: the source address of the connection.
    pub local_ip: Option<std::net::IpAddr>,
}

struct Conn {
    /// Plain or TLS (`tls="on"`, src/relp/tls.rs; the handshake is omfwd's TLS client).
    s: fwd_tls::Conn,
    /// The next transaction number to use.
    txnr: u32,
    /// Received bytes not parsed yet.
    rbuf: Vec<u8>,
}

/// A RELP client (see the module doc).
pub struct RelpClient {
    s: ClientSettings,
    tls: Option<TlsClient>,
    conn: Option<Conn>,
    out: Vec<u8>,
    sent_since_bind: u64,
}

/// A frame received from the server.
struct Rsp {
    txnr: u32,
    cmd: Vec<u8>,
    data: Vec<u8>,
}

impl RelpClient {
    pub fn new(s: ClientSettings, tls: Option<TlsClient>) -> RelpClient {
        RelpClient {
            s,
            tls,
            conn: None,
            out: Vec::with_capacity(64 * 1024),
            sent_since_bind: 0,
        }
    }

    fn connect(&mut self) -> Result<(), String> {
        let addrs = (self.s.host.as_str(), self.s.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.s.host))?;
        let mut last = format!("no address for {}", self.s.host);
        let mut stream = None;
        for a in addrs {
            let r = match self.s.local_ip {
                Some(ip) => connect_from(ip, a, self.s.conn_timeout),
                None => TcpStream::connect_timeout(&a, self.s.conn_timeout),
            };
            match r {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let s = stream.ok_or(last)?;
        let _ = s.set_nodelay(true);
        let s = match &self.tls {
            Some(t) => {
                let a = s.peer_addr().map_err(|e| e.to_string())?;
                t.connect(s, a, self.s.timeout)?
            }
            None => fwd_tls::Conn::Plain(s),
        };
        s.socket()
            .set_read_timeout(Some(self.s.timeout))
            .map_err(|e| e.to_string())?;
        let mut c = Conn {
            s,
            txnr: 1,
            rbuf: Vec::with_capacity(4096),
        };
        self.out.clear();
        frame::write(
            &mut self.out,
            1,
            "open",
            crate::relp::client_offers().as_bytes(),
        );
        c.s.write_all(&self.out)
            .map_err(|e| format!("cannot send open: {e}"))?;
        let r = read_frame(&mut c)?;
        if r.cmd != b"rsp" || r.txnr != 1 {
            return Err(format!(
                "unexpected answer to open: {} {}",
                r.txnr,
                String::from_utf8_lossy(&r.cmd)
            ));
        }
        if !r.data.starts_with(b"200") {
            return Err(format!(
                "server refused the session: {}",
                String::from_utf8_lossy(r.data.split(|b| *b == b'\n').next().unwrap_or(&[]))
            ));
        }
        let offers = r.data.splitn(2, |b| *b == b'\n').nth(1).unwrap_or(&[]);
        if !crate::relp::parse_offers(offers).syslog {
            return Err("server does not offer the syslog command".into());
        }
        c.txnr = 2;
        self.conn = Some(c);
        self.sent_since_bind = 0;
        Ok(())
    }

    /// Sends `msgs` with the window; returns how many were acknowledged before an error.
    fn send_window(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        let Some(c) = self.conn.as_mut() else {
            return Err((0, "not connected".into()));
        };
        let window = self.s.window.max(1);
        let mut unacked: VecDeque<u32> = VecDeque::with_capacity(window);
        let (mut acked, mut next) = (0usize, 0usize);
        while acked < msgs.len() {
            self.out.clear();
            while next < msgs.len() && unacked.len() < window {
                let m = &msgs[next];
                let m = &m[..m.len().min(self.s.max_msg)];
                frame::write(&mut self.out, c.txnr, "syslog", m);
                unacked.push_back(c.txnr);
                c.txnr = next_txnr(c.txnr);
                next += 1;
            }
            if !self.out.is_empty() {
                c.s.write_all(&self.out)
                    .map_err(|e| (acked, format!("send failed: {e}")))?;
            }
            // at least one answer, then whatever else already arrived
            loop {
                let r = read_frame(c).map_err(|e| (acked, e))?;
                match &r.cmd[..] {
                    b"rsp" if unacked.front() == Some(&r.txnr) => {
                        if !r.data.starts_with(b"200") {
                            return Err((
                                acked,
                                format!(
                                    "server answered message txnr {}: {}",
                                    r.txnr,
                                    String::from_utf8_lossy(&r.data)
                                ),
                            ));
                        }
                        unacked.pop_front();
                        acked += 1;
                    }
                    b"rsp" => {
                        return Err((acked, format!("answer for unexpected txnr {}", r.txnr)))
                    }
                    b"serverclose" => {
                        return Err((acked, "server closed the session (serverclose)".into()))
                    }
                    other => {
                        return Err((
                            acked,
                            format!(
                                "unexpected command '{}' from the server",
                                String::from_utf8_lossy(other)
                            ),
                        ))
                    }
                }
                if c.rbuf.is_empty() || unacked.is_empty() {
                    break;
                }
            }
        }
        self.sent_since_bind += msgs.len() as u64;
        Ok(())
    }

    /// Ends the session with `close` (waiting briefly for its answer) and drops it.
    fn close_gracefully(&mut self) {
        if let Some(mut c) = self.conn.take() {
            self.out.clear();
            frame::write(&mut self.out, c.txnr, "close", b"");
            if c.s.write_all(&self.out).is_ok() {
                let _ = c.s.socket().set_read_timeout(Some(Duration::from_secs(1)));
                let _ = read_frame(&mut c);
            }
            c.s.close();
        }
    }
}

/// Connects to `to` from the address `from` (`localClientIp`) within `timeout` (Linux's
/// connect() honours the socket's send timeout).
fn connect_from(
    from: std::net::IpAddr,
    to: std::net::SocketAddr,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    use nix::sys::socket::{
        bind, connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType,
        SockaddrStorage,
    };
    use std::os::fd::AsRawFd;
    let family = if to.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    let local = SockaddrStorage::from(std::net::SocketAddr::new(from, 0));
    bind(fd.as_raw_fd(), &local)
        .map_err(|e| std::io::Error::other(format!("cannot bind localClientIp {from}: {e}")))?;
    let tv = nix::sys::time::TimeVal::new(
        timeout.as_secs() as nix::libc::time_t,
        timeout.subsec_micros() as nix::libc::suseconds_t,
    );
    setsockopt(&fd, sockopt::SendTimeout, &tv)?;
    connect(fd.as_raw_fd(), &SockaddrStorage::from(to))?;
    let s = TcpStream::from(fd);
    s.set_write_timeout(None)?;
    Ok(s)
}

/// Reads the next whole frame from the server.
fn read_frame(c: &mut Conn) -> Result<Rsp, String> {
    loop {
        match frame::parse(&c.rbuf, CLIENT_MAX_DATA) {
            Parsed::Frame(f) => {
                let r = Rsp {
                    txnr: f.txnr,
                    cmd: c.rbuf[f.cmd].to_vec(),
                    data: c.rbuf[f.data].to_vec(),
                };
                c.rbuf.drain(..f.len);
                return Ok(r);
            }
            Parsed::Invalid(why) => return Err(format!("invalid frame from the server: {why}")),
            Parsed::Oversize { datalen, .. } => {
                return Err(format!(
                "server response frame too long, size {datalen}, configured max {CLIENT_MAX_DATA}"
            ))
            }
            Parsed::Incomplete => {}
        }
        let mut tmp = [0u8; 16 * 1024];
        let r = match &mut c.s {
            fwd_tls::Conn::Plain(s) => s.read(&mut tmp),
            fwd_tls::Conn::Tls(t) => t.read(&mut tmp),
        };
        match r {
            Ok(0) => return Err("server closed the connection".into()),
            Ok(n) => c.rbuf.extend_from_slice(&tmp[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no answer from the server within the timeout".into())
            }
            Err(e) => return Err(format!("receive failed: {e}")),
        }
    }
}

impl Transport for RelpClient {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        let mut off = 0;
        while off < msgs.len() {
            if self.conn.is_none() {
                // after a rebind (or a close at the queue's request): a new session at once
                self.connect().map_err(|e| (off, e))?;
            }
            let mut n = msgs.len() - off;
            if self.s.rebind > 0 {
                n = n.min(self.s.rebind.saturating_sub(self.sent_since_bind).max(1) as usize);
            }
            if let Err((k, e)) = self.send_window(&msgs[off..off + n]) {
                self.conn = None;
                return Err((off + k, e));
            }
            off += n;
            // rebindInterval: a new session after that many messages, as omrelp
            if self.s.rebind > 0 && self.sent_since_bind >= self.s.rebind {
                self.close_gracefully();
            }
        }
        Ok(())
    }

    fn try_resume(&mut self) -> Result<(), String> {
        self.conn = None;
        self.connect()
    }

    fn close(&mut self) {
        self.close_gracefully();
    }

    fn describe(&self) -> String {
        if self.s.host.contains(':') {
            format!("[{}]:{}", self.s.host, self.s.port)
        } else {
            format!("{}:{}", self.s.host, self.s.port)
        }
    }
}
