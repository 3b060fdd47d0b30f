//! imudp: UDP listeners, one datagram one message. Each socket has its own OS thread (as
//! rsyslog's imudp has its own thread) that drains it with `recvmmsg` and never waits on the
//! I/O runtime; the datagrams are parsed into a batch that is handed to the main queue when
//! the rules thread is ready for it, so batches grow while the rules thread is busy. A full
//! queue makes the thread wait as rsyslog's imudp does (`queue.timeoutEnqueue`, then the
//! batch is dropped and counted), while the kernel's receive buffer takes what comes.

use std::net::SocketAddr;
use std::sync::Arc;

use super::dgram_thread::{Batching, Datagrams};
use super::udp_recv::{Mmsg, Want};
use super::Ctx;
use crate::message::{Batch, Peer};

#[derive(Debug, Clone)]
pub struct UdpSettings {
    pub address: String,
    pub port: u16,
    /// `rcvbufSize` in bytes; `Some(0)`: the OS default (as rsyslog's 0); `None` (not
    /// set): `DEFAULT_RCVBUF`, where rsyslog keeps the OS default.
    pub rcvbuf: Option<usize>,
}

/// rsyslog's limit for `rcvbufSize` (imudp.c): 1 GiB.
pub const RCVBUF_MAX: usize = 1 << 30;

/// The receive buffer asked for when `rcvbufSize` is not set (a difference from rsyslog,
/// which keeps the OS default, 208 KiB on Linux): a burst of datagrams while the receive
/// thread waits for a CPU lands here instead of being dropped by the kernel (journald asks
/// 8 MiB for its sockets the same way). Kernel memory, used only while datagrams wait.
pub const DEFAULT_RCVBUF: usize = 4 << 20;

/// Binds the listener; `rcvbufSize` is applied as rsyslog's net.c does (`SO_RCVBUFFORCE`, or
/// `SO_RCVBUF` without the privilege), with its warning when the kernel grants less; without
/// it `DEFAULT_RCVBUF` is asked for the same way, silently.
pub fn bind(
    s: &UdpSettings,
    notices: &crate::engine::Notices,
) -> Result<std::net::UdpSocket, String> {
    let addr = if s.address.is_empty() || s.address == "*" {
        format!("[::]:{}", s.port)
    } else if s.address.contains(':') && !s.address.starts_with('[') {
        format!("[{}]:{}", s.address, s.port)
    } else {
        format!("{}:{}", s.address, s.port)
    };
    let sock = match std::net::UdpSocket::bind(&addr) {
        Ok(x) => x,
        Err(e) if s.address.is_empty() => std::net::UdpSocket::bind(format!("0.0.0.0:{}", s.port))
            .map_err(|e2| format!("imudp: cannot bind port {}: {e2} (IPv6: {e})", s.port))?,
        Err(e) => return Err(format!("imudp: cannot bind {addr}: {e}")),
    };
    use nix::sys::socket::{getsockopt, setsockopt, sockopt};
    let (n, asked) = match s.rcvbuf {
        // never below a larger OS default
        None => match getsockopt(&sock, sockopt::RcvBuf) {
            Ok(got) if got / 2 >= DEFAULT_RCVBUF => (0, false),
            _ => (DEFAULT_RCVBUF, false),
        },
        Some(n) => (n, true),
    };
    if n > 0 {
        if setsockopt(&sock, sockopt::RcvBufForce, &n).is_err() {
            let _ = setsockopt(&sock, sockopt::RcvBuf, &n);
        }
        if let (true, Ok(got)) = (asked, getsockopt(&sock, sockopt::RcvBuf)) {
            // the kernel doubles what it is asked for (socket(7))
            if got / 2 != n {
                notices.error(format!(
                    "imudp: cannot set os socket rcvbuf size {n} for socket {addr}, value now is {}",
                    got / 2
                ));
            }
        }
    }
    Ok(sock)
}

/// Datagrams fetched per `recvmmsg` call (rsyslog's imudp `BatchSize` default).
const VLEN: usize = 32;
/// Messages per batch handed on (as the stream inputs' `BATCH_MSGS`): the batches waiting
/// for the rules thread, and the pages they touched, stay small; one write per 256
/// messages is still far from the rules thread's limit.
const UDP_BATCH_MSGS: usize = super::BATCH_MSGS;

/// Starts the socket's receive thread (src/input/dgram_thread.rs); the returned task ends
/// when the thread has handed on what it holds after the shutdown signal.
pub fn start(sock: std::net::UdpSocket, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String> {
    let slot = ctx.parse.sanitize.max_msg_size.max(8192) + 1;
    let mm = Mmsg::new(
        VLEN,
        slot,
        Want {
            addr: true,
            control: 0,
        },
    );
    let input = Udp {
        rt: tokio::runtime::Handle::current(),
        last: None,
        rep: ctx.repeat.then(super::repeat::Repeat::default),
    };
    let how = Batching {
        max_msgs: UDP_BATCH_MSGS,
        slot,
    };
    super::dgram_thread::start("imudp", "oxsyslogd-udp", sock, mm, how, input, ctx)
}

struct Udp {
    rt: tokio::runtime::Handle,
    /// The last sender and its properties (one lookup per change of sender).
    last: Option<(SocketAddr, Peer)>,
    /// `$RepeatedMsgReduction`: one state per socket (rsyslog: per listener).
    rep: Option<super::repeat::Repeat>,
}

impl Datagrams for Udp {
    /// Parses the `n` datagrams of the last `recvmmsg` into the batch.
    fn take(&mut self, mm: &mut Mmsg, n: usize, batch: &mut Batch, ctx: &Ctx) {
        let now = crate::parse::now_local();
        for i in 0..n {
            let Some(addr) = mm.addr(i) else { continue };
            if let Some(acl) = &ctx.acl {
                let ok = match acl.cached(addr.ip().to_canonical()) {
                    Some(v) => v,
                    None => self
                        .rt
                        .block_on(super::acl::admit(acl, addr, &ctx.notices, false)),
                };
                if !ok {
                    continue;
                }
            }
            let pi = match &self.last {
                Some((a, p)) if *a == addr => Ctx::peer_index(batch, p),
                _ => {
                    let p = peer_for(ctx, addr);
                    let pi = Ctx::peer_index(batch, &p);
                    self.last = Some((addr, p));
                    pi
                }
            };
            let (mark, before) = (batch.data.len(), batch.len());
            ctx.push(batch, mm.data(i), pi, &now);
            if let (Some(r), true) = (&mut self.rep, batch.len() > before) {
                r.check_last(batch, mark, ctx.parse.permit_slash_in_programname);
            }
        }
    }

    fn finish(&mut self, batch: &mut Batch, _ctx: &Ctx) {
        if let Some(mut r) = self.rep.take() {
            r.flush(batch);
        }
    }
}

/// The sender's properties; a name not yet cached is looked up here (this thread may wait).
fn peer_for(ctx: &Ctx, addr: SocketAddr) -> Peer {
    let ip = addr.ip().to_canonical();
    let host = match ctx.dns.cached(ip) {
        Some(h) => h,
        None => ctx.dns.name(ip),
    };
    Peer {
        host,
        ip: Arc::from(ip.to_string()),
        port: Arc::from(addr.port().to_string()),
    }
}
