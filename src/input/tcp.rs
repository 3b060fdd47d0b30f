//! imtcp (and imptcp, its alias here): TCP listeners, plain or TLS (`StreamDriver.Mode="1"`,
//! src/tls/), with per-frame LF or octet-counted framing, `MaxSessions`, `port="0"` with
//! `listenPortFileName`, back-pressure to the sender when the queue is full. Plain and TLS
//! sessions share one framing/batching path; a handshake has a deadline, and a plain client
//! on a TLS listener or a TLS client on a plain one is named as such.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};

use super::framing::{Decoder, FramingEvent, FramingOptions};
use super::{Ctx, BATCH_BYTES, BATCH_MSGS};
use crate::message::Peer;

/// One TCP listener's settings.
#[derive(Debug, Clone)]
pub struct TcpSettings {
    pub address: String,
    pub port: u16,
    pub port_file: Option<String>,
    pub max_sessions: usize,
    pub framing: FramingOptions,
    pub name: String,
    pub keepalive: bool,
    /// TLS (`StreamDriver.Mode="1"`): the server config and auth mode.
    pub tls: Option<TlsListener>,
}

/// A TLS listener's rustls config.
#[derive(Clone)]
pub struct TlsListener {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub auth: crate::tls::AuthMode,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsListener({})", self.auth.as_str())
    }
}

impl TlsListener {
    pub fn new(cfg: Arc<rustls::ServerConfig>, auth: crate::tls::AuthMode) -> TlsListener {
        TlsListener {
            acceptor: tokio_rustls::TlsAcceptor::from(cfg),
            auth,
        }
    }
}

/// `ip:port` of a peer (IPv4-mapped addresses as IPv4).
fn addr_text(a: SocketAddr) -> String {
    match a.ip().to_canonical() {
        std::net::IpAddr::V4(ip) => format!("{ip}:{}", a.port()),
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{}", a.port()),
    }
}

/// Why a TLS session did not start.
enum Refusal {
    /// Reported with this text.
    Report(String),
    /// The peer closed before sending anything (a port probe): not reported.
    Quiet,
}

/// The server side of the TLS handshake, with rsyslog #5539's deadline: a peer that does not
/// complete it in time is reported and dropped.
async fn tls_accept(
    t: &TlsListener,
    stream: TcpStream,
    addr: SocketAddr,
    input: &str,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<tokio_rustls::server::TlsStream<TcpStream>, Refusal> {
    let who = format!(
        "imtcp {input}: TLS handshake with {} failed (server, {})",
        addr_text(addr),
        t.auth.as_str()
    );
    let hs = async {
        // A TLS connection starts with a handshake record (content type 22).
        let mut b = [0u8; 1];
        match stream.peek(&mut b).await {
            Ok(0) => return Err(Refusal::Quiet),
            Ok(_) if b[0] != 0x16 => {
                return Err(Refusal::Report(format!(
                    "{who}: plain (non-TLS) client on TLS listener (first byte 0x{:02x}); closing the connection",
                    b[0]
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(Refusal::Report(format!("{who}: {e}"))),
        }
        t.acceptor
            .accept(stream)
            .await
            .map_err(|e| Refusal::Report(format!("{who}: {}", crate::tls::reason::describe_io(&e))))
    };
    tokio::select! {
        _ = shutdown.changed() => Err(Refusal::Quiet),
        r = tokio::time::timeout(crate::tls::HANDSHAKE_TIMEOUT, hs) => match r {
            Ok(r) => r,
            Err(_) => Err(Refusal::Report(format!(
                "{who}: handshake timeout: not completed within {} s; closing the connection",
                crate::tls::HANDSHAKE_TIMEOUT.as_secs()
            ))),
        },
    }
}

/// Reads what is available without waiting (at least 16 KiB of room left), stopping at the
/// end of the stream or an error, which the next regular read reports.
async fn read_ready<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut [u8]) -> usize {
    std::future::poll_fn(|cx| {
        let mut total = 0;
        while buf.len() - total >= 16 * 1024 {
            let mut rb = tokio::io::ReadBuf::new(&mut buf[total..]);
            match std::pin::Pin::new(&mut *stream).poll_read(cx, &mut rb) {
                std::task::Poll::Ready(Ok(())) if !rb.filled().is_empty() => {
                    total += rb.filled().len()
                }
                _ => break,
            }
        }
        std::task::Poll::Ready(total)
    })
    .await
}

/// Whether the first bytes of a plain session are a TLS ClientHello record.
fn looks_like_tls(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04
}

/// Binds the listener (before privileges are dropped) and writes the port file.
pub async fn bind(s: &TcpSettings) -> Result<TcpListener, String> {
    let addr = if s.address.is_empty() || s.address == "*" {
        format!("[::]:{}", s.port)
    } else if s.address.contains(':') && !s.address.starts_with('[') {
        format!("[{}]:{}", s.address, s.port)
    } else {
        format!("{}:{}", s.address, s.port)
    };
    let l = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) if s.address.is_empty() => {
            // No IPv6 on this host: fall back to IPv4.
            TcpListener::bind(format!("0.0.0.0:{}", s.port))
                .await
                .map_err(|e2| {
                    format!("imtcp: cannot listen on port {}: {e2} (IPv6: {e})", s.port)
                })?
        }
        Err(e) => return Err(format!("imtcp: cannot listen on {addr}: {e}")),
    };
    if let Some(f) = &s.port_file {
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        std::fs::write(f, format!("{port}"))
            .map_err(|e| format!("imtcp: cannot write listenPortFileName {f}: {e}"))?;
    }
    Ok(l)
}

/// Accepts connections until shutdown.
pub async fn serve(listener: TcpListener, s: TcpSettings, ctx: Ctx) {
    let sessions = Arc::new(AtomicUsize::new(0));
    let mut conns = tokio::task::JoinSet::new();
    let mut shutdown = ctx.shutdown.clone();
    // $RepeatedMsgReduction: one state per listener, shared by its sessions (as rsyslog).
    let rep = ctx
        .repeat
        .then(|| Arc::new(std::sync::Mutex::new(super::repeat::Repeat::default())));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            acc = listener.accept() => {
                let (stream, addr) = match acc {
                    Ok(x) => x,
                    Err(e) => {
                        ctx.notices.error(format!("imtcp {}: accept failed: {e}", s.name));
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if sessions.load(Ordering::Relaxed) >= s.max_sessions {
                    ctx.notices.error(format!(
                        "imtcp {}: too many tcp sessions ({}) - dropping incoming request from {addr}",
                        s.name, s.max_sessions
                    ));
                    drop(stream);
                    continue;
                }
                if s.keepalive {
                    let _ = nix::sys::socket::setsockopt(&stream, nix::sys::socket::sockopt::KeepAlive, &true);
                }
                sessions.fetch_add(1, Ordering::Relaxed);
                let (ctx2, s2, sess) = (ctx.clone(), s.clone(), sessions.clone());
                let rep2 = rep.clone();
                conns.spawn(async move {
                    session(stream, addr, s2, ctx2, rep2).await;
                    sess.fetch_sub(1, Ordering::Relaxed);
                });
            }
        }
    }
    // Let sessions flush what they decoded, then stop.
    while conns.join_next().await.is_some() {}
    if let Some(r) = rep {
        let mut b = ctx.new_batch();
        if let Ok(mut r) = r.lock() {
            r.flush(&mut b);
        }
        ctx.send(b).await;
    }
}

async fn session(
    stream: TcpStream,
    addr: SocketAddr,
    s: TcpSettings,
    ctx: Ctx,
    rep: Option<Arc<std::sync::Mutex<super::repeat::Repeat>>>,
) {
    if let Some(acl) = &ctx.acl {
        if !super::acl::admit(acl, addr, &ctx.notices, true).await {
            return;
        }
    }
    let ip = addr.ip().to_canonical();
    let host = match ctx.dns.cached(ip) {
        Some(h) => h,
        None => {
            let dns = ctx.dns.clone();
            tokio::task::spawn_blocking(move || dns.name(ip))
                .await
                .unwrap_or_else(|_| Arc::from(ip.to_string()))
        }
    };
    let peer = Peer {
        host,
        ip: Arc::from(ip.to_string()),
        port: Arc::from(addr.port().to_string()),
    };
    match &s.tls {
        Some(t) => {
            let mut shutdown = ctx.shutdown.clone();
            match tls_accept(t, stream, addr, &s.name, &mut shutdown).await {
                Ok(tls) => receive(tls, addr, peer, &s, &ctx, rep, false).await,
                Err(Refusal::Report(m)) => ctx.notices.error(m),
                Err(Refusal::Quiet) => {}
            }
        }
        None => receive(stream, addr, peer, &s, &ctx, rep, true).await,
    }
}

/// Reads a session's bytes (plain or decrypted), frames them and hands batches on.
/// `plain`: a plain listener, whose first bytes are checked for a TLS ClientHello.
async fn receive<R: AsyncRead + Unpin>(
    mut stream: R,
    addr: SocketAddr,
    peer: Peer,
    s: &TcpSettings,
    ctx: &Ctx,
    rep: Option<Arc<std::sync::Mutex<super::repeat::Repeat>>>,
    plain: bool,
) {
    let mut first = plain;
    let mut dec = Decoder::new(s.framing.clone());
    let mut buf = vec![0u8; 64 * 1024];
    // Every batch of this session has this peer at index 0.
    let fresh = |ctx: &Ctx| {
        let mut b = ctx.new_batch();
        b.peers.push(peer.clone());
        b
    };
    let mut batch = fresh(ctx);
    let mut shutdown = ctx.shutdown.clone();
    let mut events: Vec<FramingEvent> = Vec::new();
    loop {
        let n = tokio::select! {
            _ = shutdown.changed() => 0,
            r = stream.read(&mut buf) => match r {
                Ok(n) => n,
                // a TLS peer that closes without close_notify: the end of its stream
                Err(e) if !plain && e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                Err(e) => {
                    ctx.notices.warning(format!("imtcp {}: connection from {addr} failed: {e}", s.name));
                    0
                }
            },
        };
        // TLS hands out one record (≤ 16 KiB) per read: take the records already there too,
        // so a batch is as large as on a plain connection
        let n = if !plain && n > 0 {
            n + read_ready(&mut stream, &mut buf[n..]).await
        } else {
            n
        };
        if first && n > 0 {
            first = false;
            if looks_like_tls(&buf[..n]) {
                ctx.notices.error(format!(
                    "imtcp {}: connection from {}: TLS handshake on plain listener (the client speaks TLS, this listener has StreamDriver.Mode 0); closing the connection",
                    s.name,
                    addr_text(addr)
                ));
                return;
            }
        }
        let now = crate::parse::now_local();
        let mut full = Vec::new();
        {
            let mut out = |m: &[u8]| {
                let (mark, before) = (batch.data.len(), batch.len());
                ctx.push(&mut batch, m, 0, &now);
                if let (Some(r), true) = (&rep, batch.len() > before) {
                    if let Ok(mut r) = r.lock() {
                        r.check_last(&mut batch, mark, ctx.parse.permit_slash_in_programname);
                    }
                }
                if batch.len() >= BATCH_MSGS || batch.data.len() >= BATCH_BYTES {
                    full.push(std::mem::replace(&mut batch, fresh(ctx)));
                }
            };
            let mut ev = |e: FramingEvent| events.push(e);
            if n == 0 {
                dec.close(&mut out, &mut ev);
            } else {
                dec.feed(&buf[..n], &mut out, &mut ev);
            }
        }
        for e in events.drain(..) {
            ctx.notices.error(framing_notice(&s.name, &peer, &e));
        }
        for b in full {
            if !ctx.send(b).await {
                return;
            }
        }
        // One batch per read at the latest, so a quiet sender is not delayed.
        if !batch.is_empty() {
            let b = std::mem::replace(&mut batch, fresh(ctx));
            if !ctx.send(b).await {
                return;
            }
        }
        if n == 0 {
            break;
        }
    }
}

fn framing_notice(input: &str, p: &Peer, e: &FramingEvent) -> String {
    let who = format!("peer: (hostname) {}, (ip) {}", p.host, p.ip);
    match e {
        FramingEvent::DelimiterNotSp(c) => format!(
            "imtcp {input}: Framing Error in received TCP message from {who}: delimiter is not SP but has ASCII value {c}."
        ),
        FramingEvent::InvalidOctetCount(n) => format!(
            "imtcp {input}: Framing Error in received TCP message from {who}: invalid octet count {n}."
        ),
        FramingEvent::Oversize { announced, max } => format!(
            "imtcp {input}: received oversize message from {who}: size is {announced} bytes, max msg size is {max}, truncating..."
        ),
        FramingEvent::FrameTooLarge(n) => format!(
            "imtcp {input}: Framing Error in received TCP message from {who}: frame too large: {n}, change to octet stuffing"
        ),
        FramingEvent::IncompleteFrameAtClose => format!(
            "imtcp {input}: Incomplete frame at end of stream from {who} - ignoring extra data (a message may be lost)."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_hello_on_plain_listener_is_recognised() {
        // a ClientHello record: handshake (22), TLS 1.0 record version (what gnutls, openssl
        // and rustls send), then the length
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x03]));
        assert!(!looks_like_tls(b"<13>Nov 23 host tag: msg\n"));
        assert!(!looks_like_tls(b"12 <13>x"));
        assert!(!looks_like_tls(&[0x16, 0x03]));
    }

    #[test]
    fn peer_addresses_as_ip_port() {
        assert_eq!(
            addr_text("[::ffff:127.0.0.1]:514".parse().unwrap()),
            "127.0.0.1:514"
        );
        assert_eq!(addr_text("[::1]:6514".parse().unwrap()), "[::1]:6514");
    }
}
