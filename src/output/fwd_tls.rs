//! omfwd's TLS client (`StreamDriverMode="1"`, src/tls/): the connection a forwarding
//! action writes to, plain or TLS, with blocking I/O on the action's worker thread (rustls's
//! sync API). The handshake runs under a deadline, its failure is one line naming the peer,
//! the role, the auth mode and the reason; closing sends close_notify within a bound.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::{ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;

use crate::tls::{reason, AuthMode, CLOSE_TIMEOUT, HANDSHAKE_TIMEOUT};

/// A forwarding action's TLS settings, built (files read) when the action is created.
#[derive(Clone)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    pub auth: AuthMode,
    /// The name sent as SNI: `StreamDriver.RemoteSNI`, else the target when it is a name
    /// (never for an IP address, as nsd_gtls.c `SetServerNameIfPresent`).
    pub sni: Option<String>,
}

impl TlsClient {
    pub fn new(
        config: Arc<rustls::ClientConfig>,
        auth: AuthMode,
        target: &str,
        remote_sni: Option<&str>,
    ) -> TlsClient {
        let sni = match remote_sni {
            Some(n) => Some(n.to_string()),
            None if target.parse::<std::net::IpAddr>().is_ok() => None,
            None => Some(target.to_string()),
        };
        TlsClient { config, auth, sni }
    }

    /// The TLS handshake on a connected socket.
    pub fn connect(
        &self,
        mut s: TcpStream,
        a: SocketAddr,
        write_timeout: std::time::Duration,
    ) -> Result<Conn, String> {
        let who = format!(
            "TLS handshake with {} failed (client, {})",
            addr_text(a),
            self.auth.as_str()
        );
        let name = self
            .sni
            .as_deref()
            .and_then(|n| ServerName::try_from(n.to_string()).ok())
            .unwrap_or_else(|| ServerName::IpAddress(a.ip().into()));
        let mut c =
            ClientConnection::new(self.config.clone(), name).map_err(|e| format!("{who}: {e}"))?;
        let _ = s.set_read_timeout(Some(HANDSHAKE_TIMEOUT));
        let _ = s.set_write_timeout(Some(HANDSHAKE_TIMEOUT));
        let deadline = std::time::Instant::now() + HANDSHAKE_TIMEOUT;
        while c.is_handshaking() {
            if std::time::Instant::now() >= deadline {
                return Err(format!(
                    "{who}: handshake timeout: not completed within {} s",
                    HANDSHAKE_TIMEOUT.as_secs()
                ));
            }
            if let Err(e) = c.complete_io(&mut s) {
                // the peer's alert, if it sent one before closing
                return Err(format!("{who}: {}", reason::describe_io(&e)));
            }
        }
        if c.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
            await_verdict(&mut c, &mut s).map_err(|e| format!("{who}: {e}"))?;
        }
        let _ = s.set_read_timeout(None);
        let _ = s.set_write_timeout(Some(write_timeout));
        Ok(Conn::Tls(Box::new(StreamOwned::new(c, s))))
    }
}

/// How long a TLS 1.3 client waits after its Finished for the server's verdict on its
/// certificate (a session ticket or an alert).
const VERDICT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// In TLS 1.3 the server checks the client's certificate after the client has finished its
/// handshake; a refusal arrives as an alert on the first read. Waiting for the first record
/// (servers send session tickets right away) turns a refusal into a connect error instead of
/// a lost first batch.
fn await_verdict(c: &mut ClientConnection, s: &mut TcpStream) -> Result<(), String> {
    let _ = s.set_read_timeout(Some(VERDICT_WAIT));
    match c.read_tls(s) {
        Ok(0) => Err("the server closed the connection right after the handshake (it may have refused our certificate)".into()),
        Ok(_) => match c.process_new_packets() {
            Ok(st) if st.peer_has_closed() => Err("the server closed the connection right after the handshake".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(reason::describe(&e)),
        },
        // nothing within the wait: the server sends no tickets; go on
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Ok(()),
        Err(e) => Err(reason::describe_io(&e)),
    }
}

/// `ip:port` (IPv4-mapped addresses as IPv4).
fn addr_text(a: SocketAddr) -> String {
    match a.ip().to_canonical() {
        std::net::IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
    }
}

/// What a non-blocking peek at the socket sees.
enum Peek {
    Nothing,
    Data,
    Closed,
}

fn peek(s: &TcpStream) -> Peek {
    use std::os::fd::AsRawFd;
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
    match n {
        0 => Peek::Closed,
        n if n > 0 => Peek::Data,
        _ => match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => Peek::Nothing,
            _ => Peek::Closed,
        },
    }
}

/// A forwarding connection.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Conn {
    pub fn socket(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(t) => &t.sock,
        }
    }

    /// Whether the peer closed the connection (checked before each batch, as rsyslog's
    /// `CheckConnection`). For TLS, records that arrived (session tickets, an alert,
    /// close_notify) are read without blocking.
    pub fn peer_closed(&mut self) -> bool {
        match self {
            Conn::Plain(s) => super::fwd_net::Tcp::peer_closed(s),
            Conn::Tls(t) => {
                // the common case in one syscall: nothing arrived, the connection is open
                match peek(&t.sock) {
                    Peek::Nothing => return false,
                    Peek::Closed => return true,
                    Peek::Data => {}
                }
                if t.sock.set_nonblocking(true).is_err() {
                    return true;
                }
                let mut closed = false;
                loop {
                    match t.conn.read_tls(&mut t.sock) {
                        Ok(0) => {
                            closed = true;
                            break;
                        }
                        Ok(_) => match t.conn.process_new_packets() {
                            Ok(st) if st.peer_has_closed() => {
                                closed = true;
                                break;
                            }
                            Ok(st) => {
                                // data from a syslog server is unexpected: drop it
                                let n = st.plaintext_bytes_to_read();
                                if n > 0 {
                                    let mut sink = vec![0u8; n];
                                    let _ = t.conn.reader().read(&mut sink);
                                }
                            }
                            Err(_) => {
                                closed = true;
                                break;
                            }
                        },
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            closed = true;
                            break;
                        }
                    }
                }
                if t.sock.set_nonblocking(false).is_err() {
                    return true;
                }
                closed
            }
        }
    }

    /// Closes: TLS sends close_notify (at most `CLOSE_TIMEOUT`), then the socket is shut.
    pub fn close(self) {
        match self {
            Conn::Plain(s) => {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            Conn::Tls(mut t) => {
                t.conn.send_close_notify();
                let _ = t.sock.set_write_timeout(Some(CLOSE_TIMEOUT));
                while t.conn.wants_write() {
                    if t.conn.write_tls(&mut t.sock).is_err() {
                        break;
                    }
                }
                let _ = t.sock.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(t) => {
                // plaintext into rustls (bounded by its buffer limit), then every record out,
                // so an error belongs to this write
                let n = t.conn.writer().write(buf)?;
                while t.conn.wants_write() {
                    t.conn.write_tls(&mut t.sock)?;
                }
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(t) => {
                while t.conn.wants_write() {
                    t.conn.write_tls(&mut t.sock)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(target: &str, sni: Option<&str>) -> TlsClient {
        let s = crate::tls::TlsSettings {
            auth: AuthMode::Anon,
            peers: Vec::new(),
            ca_file: None,
            ca_extra: Vec::new(),
            cert_file: None,
            key_file: None,
            crl_file: None,
            remote_sni: None,
            prioritize_san: false,
            permit_expired: Default::default(),
            check_eku: false,
            ossl: false,
            loc: Default::default(),
        };
        let (cfg, _) = crate::tls::setup::client_config(&s, target).unwrap();
        TlsClient::new(cfg, AuthMode::Anon, target, sni)
    }

    /// SNI as nsd_gtls.c: the target name, never an IP address; RemoteSNI replaces it.
    #[test]
    fn sni_as_rsyslog() {
        assert_eq!(
            client("logs.example.net", None).sni.as_deref(),
            Some("logs.example.net")
        );
        assert_eq!(client("192.0.2.1", None).sni, None);
        assert_eq!(client("2001:db8::1", None).sni, None);
        assert_eq!(
            client("192.0.2.1", Some("logs.example.net")).sni.as_deref(),
            Some("logs.example.net")
        );
    }

    /// A server that accepts TCP and never answers: the handshake ends at its deadline
    /// with "handshake timeout" naming the peer, the role and the auth mode.
    #[test]
    fn silent_server_times_out() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        let s = TcpStream::connect(a).unwrap();
        let t0 = std::time::Instant::now();
        let e = match client("localhost", None).connect(s, a, std::time::Duration::from_secs(1)) {
            Ok(_) => panic!("a silent server cannot complete a handshake"),
            Err(e) => e,
        };
        assert!(
            e.contains("handshake timeout")
                && e.contains(&a.to_string())
                && e.contains("(client, anon)"),
            "{e}"
        );
        assert!(t0.elapsed() >= HANDSHAKE_TIMEOUT && t0.elapsed() < HANDSHAKE_TIMEOUT * 2);
        drop(l);
    }
}
