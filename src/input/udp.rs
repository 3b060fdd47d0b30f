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
    Ok(sock)
}

/// Datagrams fetched per `recvmmsg` call.
const VLEN: usize = 32;

/// Receives datagrams with `recvmmsg` (up to `VLEN` per system call) and hands them on in
/// batches; a full queue makes the batch count as dropped (never silently).
pub async fn serve(sock: UdpSocket, ctx: Ctx) {
    use std::os::fd::AsRawFd;
    let bufsize = ctx.parse.sanitize.max_msg_size.max(8192) + 1;
    let mut storage: Vec<Vec<u8>> = vec![vec![0u8; bufsize]; VLEN];
    let mut got: Vec<(usize, Option<SocketAddr>)> = Vec::with_capacity(VLEN);
    let mut shutdown = ctx.shutdown.clone();
    let mut last: Option<(SocketAddr, Peer)> = None;
    let fd = sock.as_raw_fd();
    // $RepeatedMsgReduction: one state per socket (rsyslog: per listener).
    let mut rep = ctx.repeat.then(super::repeat::Repeat::default);
    // a batch the queue had no slot for: filled further, offered again soon
    let mut carry: Option<crate::message::Batch> = None;
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            r = sock.readable() => if let Err(e) = r {
                ctx.notices.warning(format!("imudp: socket error: {e}"));
                if let Some(b) = carry.take() {
                    ctx.try_send(b);
                }
                return;
            },
            _ = tokio::time::sleep(std::time::Duration::from_millis(2)), if carry.is_some() => {}
        }
        let now = crate::parse::now_local();
        let mut batch = carry.take().unwrap_or_else(|| ctx.new_batch());
        // Drain what is queued in the socket, VLEN datagrams per system call.
        while batch.len() < BATCH_MSGS && batch.data.len() < BATCH_BYTES {
            got.clear();
            let res = sock.try_io(tokio::io::Interest::READABLE, || {
                // Not Send (raw pointers), so it lives only inside this call.
                let mut headers = nix::sys::socket::MultiHeaders::<
                        nix::sys::socket::SockaddrStorage,
                    >::preallocate(VLEN, None);
                let mut iovs: Vec<[std::io::IoSliceMut<'_>; 1]> = storage
                    .iter_mut()
                    .map(|b| [std::io::IoSliceMut::new(b)])
                    .collect();
                let msgs = nix::sys::socket::recvmmsg(
                    fd,
                    &mut headers,
                    iovs.iter_mut(),
                    nix::sys::socket::MsgFlags::MSG_DONTWAIT,
                    None,
                )
                .map_err(std::io::Error::from)?;
                for m in msgs {
                    let addr = m.address.and_then(|a: nix::sys::socket::SockaddrStorage| {
                        a.as_sockaddr_in()
                            .map(|v4| SocketAddr::from(std::net::SocketAddrV4::from(*v4)))
                            .or_else(|| {
                                a.as_sockaddr_in6()
                                    .map(|v6| SocketAddr::from(std::net::SocketAddrV6::from(*v6)))
                            })
                    });
                    got.push((m.bytes, addr));
                }
                Ok(())
            });
            match res {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    ctx.notices.warning(format!("imudp: receive error: {e}"));
                    break;
                }
            }
            if got.is_empty() {
                break;
            }
            for (i, &(n, addr)) in got.iter().enumerate() {
                let Some(addr) = addr else { continue };
                if let Some(acl) = &ctx.acl {
                    if !super::acl::admit(acl, addr, &ctx.notices, false).await {
                        continue;
                    }
                }
                let peer = match &last {
                    Some((a, p)) if *a == addr => p.clone(),
                    _ => {
                        let p = peer_for(&ctx, addr).await;
                        last = Some((addr, p.clone()));
                        p
                    }
                };
                let pi = Ctx::peer_index(&mut batch, &peer);
                let (mark, before) = (batch.data.len(), batch.len());
                ctx.push(&mut batch, &storage[i][..n.min(bufsize)], pi, &now);
                if let (Some(r), true) = (&mut rep, batch.len() > before) {
                    r.check_last(&mut batch, mark, ctx.parse.permit_slash_in_programname);
                }
            }
            if got.len() < VLEN {
                break;
            }
        }
        if batch.len() < BATCH_MSGS && batch.data.len() + bufsize < BATCH_BYTES {
            carry = ctx.try_send_unless_full(batch);
        } else {
            ctx.try_send(batch);
        }
    }
    if let Some(b) = carry {
        ctx.try_send(b);
    }
    if let Some(mut r) = rep {
        let mut b = ctx.new_batch();
        r.flush(&mut b);
        ctx.try_send(b);
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
