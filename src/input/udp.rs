//! imudp: UDP listeners, one datagram one message, drained in batches; when the queue is
//! full, datagrams are counted as dropped (as rsyslog does), never silently.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::{Ctx, BATCH_BYTES, BATCH_MSGS};
use crate::message::Peer;

#[derive(Debug, Clone)]
pub struct UdpSettings {
    pub address: String,
    pub port: u16,
    pub port_file: Option<String>,
    pub rcvbuf: Option<usize>,
}

pub async fn bind(s: &UdpSettings) -> Result<UdpSocket, String> {
    let addr = if s.address.is_empty() || s.address == "*" {
        format!("[::]:{}", s.port)
    } else if s.address.contains(':') && !s.address.starts_with('[') {
        format!("[{}]:{}", s.address, s.port)
    } else {
        format!("{}:{}", s.address, s.port)
    };
    let sock = match UdpSocket::bind(&addr).await {
        Ok(x) => x,
        Err(e) if s.address.is_empty() => UdpSocket::bind(format!("0.0.0.0:{}", s.port))
            .await
            .map_err(|e2| format!("imudp: cannot bind port {}: {e2} (IPv6: {e})", s.port))?,
        Err(e) => return Err(format!("imudp: cannot bind {addr}: {e}")),
    };
    if let Some(n) = s.rcvbuf {
        let _ = nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::RcvBuf, &n);
    }
    if let Some(f) = &s.port_file {
        let port = sock.local_addr().map_err(|e| e.to_string())?.port();
        std::fs::write(f, format!("{port}"))
            .map_err(|e| format!("imudp: cannot write listenPortFileName {f}: {e}"))?;
    }
    Ok(sock)
}

pub async fn serve(sock: UdpSocket, ctx: Ctx) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut shutdown = ctx.shutdown.clone();
    let mut last: Option<(SocketAddr, Peer)> = None;
    loop {
        let first = tokio::select! {
            _ = shutdown.changed() => return,
            r = sock.recv_from(&mut buf) => r,
        };
        let now = crate::parse::now_local();
        let mut batch = ctx.new_batch();
        let mut next = Some(first);
        // Drain what is already queued in the socket into this batch.
        while let Some(r) = next.take() {
            match r {
                Ok((n, addr)) => {
                    let peer = match &last {
                        Some((a, p)) if *a == addr => p.clone(),
                        _ => {
                            let p = peer_for(&ctx, addr).await;
                            last = Some((addr, p.clone()));
                            p
                        }
                    };
                    let pi = Ctx::peer_index(&mut batch, &peer);
                    ctx.push(&mut batch, &buf[..n], pi, &now);
                }
                Err(e) => ctx.notices.warning(format!("imudp: receive error: {e}")),
            }
            if batch.len() < BATCH_MSGS && batch.data.len() < BATCH_BYTES {
                next = match sock.try_recv_from(&mut buf) {
                    Ok(x) => Some(Ok(x)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
                    Err(e) => Some(Err(e)),
                };
            }
        }
        ctx.try_send(batch);
    }
}

async fn peer_for(ctx: &Ctx, addr: SocketAddr) -> Peer {
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
    Peer {
        host,
        ip: Arc::from(ip.to_string()),
        port: Arc::from(addr.port().to_string()),
    }
}
