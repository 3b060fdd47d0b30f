//! imtcp (and imptcp, its alias here): plain TCP listeners with per-frame LF or octet-counted
//! framing, `MaxSessions`, `port="0"` with `listenPortFileName`, back-pressure to the sender
//! when the queue is full.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::AsyncReadExt;
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
    mut stream: TcpStream,
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
    let mut dec = Decoder::new(s.framing.clone());
    let mut buf = vec![0u8; 64 * 1024];
    // Every batch of this session has this peer at index 0.
    let fresh = |ctx: &Ctx| {
        let mut b = ctx.new_batch();
        b.peers.push(peer.clone());
        b
    };
    let mut batch = fresh(&ctx);
    let mut shutdown = ctx.shutdown.clone();
    let mut events: Vec<FramingEvent> = Vec::new();
    loop {
        let n = tokio::select! {
            _ = shutdown.changed() => 0,
            r = stream.read(&mut buf) => match r {
                Ok(n) => n,
                Err(e) => {
                    ctx.notices.warning(format!("imtcp {}: connection from {addr} failed: {e}", s.name));
                    0
                }
            },
        };
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
                    full.push(std::mem::replace(&mut batch, fresh(&ctx)));
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
            let b = std::mem::replace(&mut batch, fresh(&ctx));
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
