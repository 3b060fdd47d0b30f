//! imrelp: a RELP server (src/relp/). `input(type="imrelp" port= address= name= ruleset=
//! maxDataSize= oversizeMode= flowControl= keepAlive keepAlive.probes/.time/.interval)`.
//!
//! Unlike librelp, which answers `200 OK` as soon as its callback returned (rsyslog has then
//! only put the message into its in-memory main queue), a message is acknowledged only once
//! it is durable: each batch of a session carries a completion notice (src/completion.rs)
//! that the rules thread fires after every action ended that batch (written by omfile, or
//! handed to an action queue). A message the main queue had to drop, or that an action lost
//! (omfile's write or open failed, an action queue had no room: `Output::lost_total` grew), is
//! never acknowledged: the session is closed instead, and the client (librelp) sends
//! everything unacknowledged again on its next session. (An error `rsp` would not do:
//! librelp's client drops a message answered with an error from its unacknowledged list and
//! never sends it again.) omfile with `flushOnTXEnd="off"` writes later, at its flush
//! interval: its messages are acknowledged when buffered; a suspended Direct action gives
//! messages up as its retry settings say, which does not hold back the acknowledgement (use
//! `action.resumeRetryCount="-1"` with a queue for "nothing lost"). A full main queue stops
//! the session's reads (back-pressure); the client's window bounds what it has in flight.
//!
//! `tls="on"` (src/relp/tls.rs): the session runs over rustls with the auth modes of
//! librelp; a peer whose certificate the mode refuses gets no session, and the refusal is one
//! error line naming it.
//!
//! Protocol errors are librelp's: an invalid frame, a transaction number out of sequence, an
//! unknown command or an oversize frame with `oversizeMode="abort"` end the session with the
//! `0 serverclose 0` hint; `syslog` before `open` is answered `500 command disabled`.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::{Ctx, Source, BATCH_BYTES, BATCH_MSGS};
use crate::completion::Completion;
use crate::config::model::{Config, Input, PValue};
use crate::message::{Batch, Peer};
use crate::relp::frame::{self, Parsed};

/// Messages a session may have taken but not yet acknowledged; librelp's clients keep at most
/// their window (128 by default) in flight, so only a client that does not wait for answers
/// ever waits for this.
const SESSION_WINDOW: usize = 8192;

/// What librelp does with a frame larger than `maxDataSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversize {
    Abort,
    Truncate,
    Accept,
}

/// One imrelp listener, planned from its `input()`.
#[derive(Debug, Clone)]
pub struct Relp {
    name: String,
    address: String,
    port: u16,
    max_data: usize,
    oversize: Oversize,
    flow: crate::mainq::Flow,
    keepalive: Option<(u32, u32, u32)>,
    /// `tls="on"`: the handshake's config and the auth mode (src/relp/tls.rs).
    tls: Option<super::tcp::TlsListener>,
}

fn int(p: &crate::config::model::Params, n: &str) -> Option<i64> {
    match p.get(n) {
        Some(PValue::Int(v)) => Some(*v),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads an `input(type="imrelp")`.
pub fn plan(i: &Input, cfg: &Config) -> Result<Relp, String> {
    let p = &i.params;
    let bad = |m: String| format!("{}: error: imrelp: {m}", i.loc);
    let port_s = match p.get("port") {
        Some(v) => v.to_config_string(),
        None => return Err(bad("parameter \"port\" is required".into())),
    };
    let port: u16 = port_s
        .trim()
        .parse()
        .map_err(|_| bad(format!("invalid port '{port_s}'")))?;
    let max_msg = match cfg.globals.get("maxMessageSize") {
        Some(PValue::Int(n)) => (*n).max(128) as usize,
        _ => 8096,
    };
    // imrelp.c: the default is maxMessageSize, and a smaller value is raised to it
    let mut max_data = int(p, "maxDataSize").map_or(0, |n| n.max(0) as usize);
    if max_data == 0 {
        max_data = max_msg;
    } else if max_data < max_msg {
        crate::engine::report_error(format!(
            "{}: warning: imrelp: maxDataSize ({max_data}) is smaller than global parameter maxMessageSize ({max_msg}) - global parameter will be used.",
            i.loc
        ));
        max_data = max_msg;
    }
    let oversize = match p
        .str("oversizeMode")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("truncate") => Oversize::Truncate,
        Some("abort") => Oversize::Abort,
        Some("accept") => Oversize::Accept,
        Some(o) => return Err(bad(format!("wrong oversizeMode parameter value '{o}'"))),
    };
    let flow = match p.str("flowControl").map(str::to_ascii_lowercase).as_deref() {
        Some("no") => crate::mainq::Flow::NoDelay,
        Some("full") => crate::mainq::Flow::Full,
        _ => crate::mainq::Flow::Light,
    };
    let keepalive = matches!(p.get("keepAlive"), Some(PValue::Bool(true))).then(|| {
        let k = |n: &str| int(p, n).unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        (
            k("keepAlive.probes"),
            k("keepAlive.time"),
            k("keepAlive.interval"),
        )
    });
    let module = cfg.module(i.module).map(|m| &m.params);
    crate::relp::tls::check_tlslib(module.and_then(|m| m.str("tls.tlslib")), "imrelp")
        .map_err(|e| format!("{}: error: {e}", i.loc))?;
    let tls = match crate::relp::tls::settings(p, &i.loc).map_err(bad)? {
        Some(ts) => {
            let (c, warnings) = crate::tls::setup::server_config(&ts)?;
            for w in warnings {
                crate::engine::report_warning(w);
            }
            Some(super::tcp::TlsListener::new(c, ts.auth))
        }
        None => None,
    };
    Ok(Relp {
        tls,
        name: p.str("name").unwrap_or("imrelp").to_string(),
        address: p.str("address").unwrap_or("").to_string(),
        port,
        max_data,
        oversize,
        flow,
        keepalive,
    })
}

impl Source for Relp {
    fn name(&self) -> String {
        self.name.clone()
    }

    /// imrelp.c: `name(port)`, origin `imrelp`.
    fn stats_label(&self) -> Option<(String, String)> {
        Some((format!("{}({})", self.name, self.port), "imrelp".into()))
    }

    fn start(self: Box<Self>, mut ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String> {
        // imrelp's messages are parsed after the main queue in rsyslog (NEEDS_PARSING)
        ctx.kind = crate::mainq::InputKind {
            flow: self.flow,
            severity_known: false,
        };
        let l = bind_std(&self.address, self.port)?;
        let l = TcpListener::from_std(l)
            .map_err(|e| format!("imrelp: cannot listen on port {}: {e}", self.port))?;
        Ok(tokio::spawn(serve(l, *self, ctx)))
    }
}

/// Binds the listener now (a start error names the port), IPv6 with IPv4 fallback.
fn bind_std(address: &str, port: u16) -> Result<std::net::TcpListener, String> {
    let addr = if address.is_empty() || address == "*" {
        format!("[::]:{port}")
    } else if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    };
    let l = match std::net::TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) if address.is_empty() => std::net::TcpListener::bind(format!("0.0.0.0:{port}"))
            .map_err(|e2| format!("imrelp: cannot listen on port {port}: {e2} (IPv6: {e})"))?,
        Err(e) => return Err(format!("imrelp: cannot listen on {addr}: {e}")),
    };
    l.set_nonblocking(true)
        .map_err(|e| format!("imrelp: cannot listen on {addr}: {e}"))?;
    Ok(l)
}

async fn serve(listener: TcpListener, s: Relp, ctx: Ctx) {
    let s = Arc::new(s);
    let mut conns = tokio::task::JoinSet::new();
    let mut shutdown = ctx.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            acc = listener.accept() => {
                let (stream, addr) = match acc {
                    Ok(x) => x,
                    Err(e) => {
                        ctx.notices.error(format!("imrelp[{}]: accept failed: {e}", s.port));
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if let Some((probes, time, intvl)) = s.keepalive {
                    use nix::sys::socket::{setsockopt, sockopt};
                    let _ = setsockopt(&stream, sockopt::KeepAlive, &true);
                    if probes > 0 {
                        let _ = setsockopt(&stream, sockopt::TcpKeepCount, &probes);
                    }
                    if time > 0 {
                        let _ = setsockopt(&stream, sockopt::TcpKeepIdle, &time);
                    }
                    if intvl > 0 {
                        let _ = setsockopt(&stream, sockopt::TcpKeepInterval, &intvl);
                    }
                }
                let (ctx2, s2) = (ctx.clone(), s.clone());
                conns.spawn(async move {
                    match &s2.tls {
                        None => {
                            let (r, w) = stream.into_split();
                            session(r, w, addr, &s2, &ctx2).await
                        }
                        Some(t) => {
                            if let Some(tls) = tls_accept(t, stream, addr, &s2, &ctx2).await {
                                let (r, w) = tokio::io::split(tls);
                                session(r, w, addr, &s2, &ctx2).await
                            }
                        }
                    }
                });
            }
        }
    }
    while conns.join_next().await.is_some() {}
}

/// What the session's writer sends, in order.
enum Reply {
    /// `rsp 200 OK` for these transaction numbers once the batch is durable; the session
    /// ends when it is not.
    Acks(oneshot::Receiver<bool>, Vec<u32>),
    /// Bytes to send as they are.
    Bytes(Vec<u8>),
}

/// Why a session ends early.
struct Abort(String);

/// `ip:port` of a peer, IPv6 in brackets.
fn who(addr: SocketAddr) -> String {
    match addr.ip().to_canonical() {
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{}", addr.port()),
        v4 => format!("{v4}:{}", addr.port()),
    }
}

/// The server side of the TLS handshake under `HANDSHAKE_TIMEOUT`; a failure (the peer's
/// certificate refused by the auth mode, a plain client, a timeout) is one line naming the
/// peer. A peer that closes before sending a byte (a port probe) is not reported.
async fn tls_accept(
    t: &super::tcp::TlsListener,
    stream: TcpStream,
    addr: SocketAddr,
    s: &Relp,
    ctx: &Ctx,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let what = format!(
        "imrelp[{}]: TLS handshake with {} failed (server, {})",
        s.port,
        who(addr),
        t.auth.as_str()
    );
    let hs = async {
        let mut b = [0u8; 1];
        match stream.peek(&mut b).await {
            Ok(0) => return Err(None),
            // a TLS connection starts with a handshake record (content type 22)
            Ok(_) if b[0] != 0x16 => {
                return Err(Some(format!(
                    "plain (non-TLS) client on a TLS listener (first byte 0x{:02x})",
                    b[0]
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(Some(e.to_string())),
        }
        t.acceptor
            .accept(stream)
            .await
            .map_err(|e| Some(crate::tls::reason::describe_io(&e)))
    };
    let mut shutdown = ctx.shutdown.clone();
    let r = tokio::select! {
        _ = shutdown.changed() => Err(None),
        r = tokio::time::timeout(crate::tls::HANDSHAKE_TIMEOUT, hs) => match r {
            Ok(r) => r,
            Err(_) => Err(Some(format!(
                "handshake timeout: not completed within {} s",
                crate::tls::HANDSHAKE_TIMEOUT.as_secs()
            ))),
        },
    };
    match r {
        Ok(tls) => Some(tls),
        Err(Some(why)) => {
            ctx.notices
                .error(format!("{what}: {why} - connection closed"));
            None
        }
        Err(None) => None,
    }
}

async fn session<R, W>(mut rd: R, wr: W, addr: SocketAddr, s: &Relp, ctx: &Ctx)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
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
    let who = who(addr);
    let (rtx, rrx) = mpsc::unbounded_channel::<Reply>();
    let window = Arc::new(tokio::sync::Semaphore::new(SESSION_WINDOW));
    let label = format!("imrelp[{}]: session from {who}", s.port);
    let writer = tokio::spawn(write_replies(
        wr,
        rrx,
        label.clone(),
        ctx.notices.clone(),
        window.clone(),
    ));
    let mut sess = Session {
        s,
        ctx,
        peer,
        open: false,
        expect: 1,
        batch: None,
        txnrs: Vec::new(),
        replies: rtx,
        oversized: None,
        window,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut shutdown = ctx.shutdown.clone();
    let end = loop {
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let r = tokio::select! {
            _ = shutdown.changed() => None,
            _ = sess.replies.closed() => break Ok(()),
            r = rd.read_buf(&mut buf) => Some(r),
        };
        let n = match r {
            None => break Err(None),
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                break Err(Some(format!(
                    "{label}: receive error: {e} - session broken"
                )))
            }
        };
        if n == 0 {
            // a connection that never sent a byte (a port probe) is not reported
            break if sess.open || sess.expect != 1 {
                Err(Some(format!(
                    "{label}: peer closed the connection without a RELP close"
                )))
            } else {
                Ok(())
            };
        }
        let used = match sess.frames(&buf).await {
            Ok(used) => used,
            Err(Abort(m)) => {
                // what was decoded before the error is still taken and acknowledged
                let _ = sess.flush().await;
                let mut hint = Vec::new();
                frame::write(&mut hint, 0, "serverclose", b"");
                let _ = sess.replies.send(Reply::Bytes(hint));
                sess.end();
                ctx.notices.error(format!("{label}: {m} - session closed"));
                break Ok(());
            }
        };
        buf.drain(..used);
        if sess.flush().await.is_err() {
            break Ok(());
        }
        if sess.closing() {
            break Ok(());
        }
    };
    let _ = sess.flush().await;
    match end {
        // a protocol error or a close: the writer sends what is queued, then the hint
        Ok(()) => {}
        // the daemon stops: librelp's servers send the hint to every session
        Err(None) => {
            let mut hint = Vec::new();
            frame::write(&mut hint, 0, "serverclose", b"");
            let _ = sess.replies.send(Reply::Bytes(hint));
        }
        Err(Some(m)) => ctx.notices.warning(m),
    }
    drop(sess);
    let _ = writer.await;
}

/// The receiving side of a session.
struct Session<'a> {
    s: &'a Relp,
    ctx: &'a Ctx,
    peer: Peer,
    open: bool,
    /// The transaction number the next frame must carry.
    expect: u32,
    batch: Option<Batch>,
    /// The transaction numbers of the messages in `batch`.
    txnrs: Vec<u32>,
    replies: mpsc::UnboundedSender<Reply>,
    /// A frame larger than maxDataSize being truncated: its txnr, the data kept, and how
    /// many more bytes to skip before its trailer.
    oversized: Option<(u32, Vec<u8>, usize)>,
    /// Places for unacknowledged messages (see `SESSION_WINDOW`).
    window: Arc<tokio::sync::Semaphore>,
}

impl Session<'_> {
    fn closing(&self) -> bool {
        self.replies.is_closed()
    }

    /// Takes the complete frames at the start of `buf`; returns the bytes used.
    async fn frames(&mut self, buf: &[u8]) -> Result<usize, Abort> {
        let mut at = 0;
        loop {
            if let Some((txnr, kept, skip)) = &mut self.oversized {
                let rest = &buf[at..];
                let n = (*skip).min(rest.len());
                let room = self.s.max_data.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&rest[..room]);
                *skip -= n;
                at += n;
                if *skip > 0 || at == buf.len() {
                    return Ok(at);
                }
                if buf[at] != b'\n' {
                    return Err(self.invalid("frame trailer (LF) expected"));
                }
                at += 1;
                let (txnr, kept) = (*txnr, std::mem::take(kept));
                self.oversized = None;
                self.syslog(txnr, &kept).await?;
                continue;
            }
            let max = if self.s.oversize == Oversize::Accept {
                usize::MAX
            } else {
                self.s.max_data
            };
            match frame::parse(&buf[at..], max) {
                Parsed::Incomplete => return Ok(at),
                Parsed::Invalid(why) => return Err(self.invalid(why)),
                Parsed::Oversize {
                    txnr,
                    cmd,
                    datalen,
                    header,
                } => {
                    let what = format!(
                        "frame too long, size {datalen}, configured max {}",
                        self.s.max_data
                    );
                    if self.s.oversize == Oversize::Abort {
                        return Err(self.invalid_owned(what));
                    }
                    self.ctx
                        .notices
                        .error(format!("imrelp[{}]: {what} - frame will be truncated, but session continues (peer {}:{})", self.s.port, self.peer.ip, self.peer.port));
                    self.check_txnr(txnr)?;
                    if &buf[at..][cmd] != b"syslog" {
                        return Err(self.invalid("oversize frame of a command other than syslog"));
                    }
                    at += header;
                    self.oversized = Some((txnr, Vec::with_capacity(self.s.max_data), datalen));
                }
                Parsed::Frame(f) => {
                    let b = &buf[at..];
                    let (cmd, data) = (&b[f.cmd.clone()], &b[f.data.clone()]);
                    at += f.len;
                    self.check_txnr(f.txnr)?;
                    match cmd {
                        b"syslog" => self.syslog(f.txnr, data).await?,
                        b"open" => self.open(f.txnr, data).await?,
                        b"close" => {
                            let mut out = Vec::new();
                            frame::write(&mut out, f.txnr, "rsp", b"");
                            frame::write(&mut out, 0, "serverclose", b"");
                            self.flush().await?;
                            let _ = self.replies.send(Reply::Bytes(out));
                            self.end();
                            return Ok(at);
                        }
                        other => {
                            let c = String::from_utf8_lossy(other).into_owned();
                            return Err(self.invalid_owned(format!(
                                "invalid or not supported relp command '{c}'"
                            )));
                        }
                    }
                }
            }
        }
    }

    /// Ends the session after what is queued (the writer stops when the channel closes).
    fn end(&mut self) {
        let (tx, _) = mpsc::unbounded_channel();
        self.replies = tx;
    }

    fn check_txnr(&mut self, txnr: u32) -> Result<(), Abort> {
        if txnr != 0 {
            if txnr != self.expect {
                return Err(self.invalid_owned(format!(
                    "transaction number {txnr} out of sequence, {} expected",
                    self.expect
                )));
            }
            self.expect = crate::relp::next_txnr(txnr);
        }
        Ok(())
    }

    fn invalid(&mut self, why: &str) -> Abort {
        self.invalid_owned(why.to_string())
    }

    /// A protocol error: the session ends (with the hint, after what is queued).
    fn invalid_owned(&mut self, why: String) -> Abort {
        // the session's label names the peer
        Abort(why)
    }

    async fn open(&mut self, txnr: u32, data: &[u8]) -> Result<(), Abort> {
        self.flush().await?;
        let mut out = Vec::new();
        if self.open {
            frame::write(
                &mut out,
                txnr,
                "rsp",
                b"500 protocol error: connection already open",
            );
            // librelp answers twice: the refusal, then its generic open error
            // (RELP_RET_SESSION_OPEN, 10047)
            frame::write(&mut out, txnr, "rsp", b"500 error 10047 on connect");
            let _ = self.replies.send(Reply::Bytes(out));
            return Err(self.invalid("received session open request for already open session"));
        }
        let o = crate::relp::parse_offers(data);
        if !o.has_version || o.version.is_none() {
            // RELP_RET_INVALID_OFFER
            frame::write(&mut out, txnr, "rsp", b"500 error 10021 on connect");
            let _ = self.replies.send(Reply::Bytes(out));
            return Err(self.invalid("open without a valid relp_version offer"));
        }
        if !o.syslog {
            frame::write(
                &mut out,
                txnr,
                "rsp",
                b"500 required command not supported by client",
            );
            let _ = self.replies.send(Reply::Bytes(out));
            return Err(self.invalid("client does not offer the syslog command"));
        }
        frame::write(
            &mut out,
            txnr,
            "rsp",
            crate::relp::server_open_reply().as_bytes(),
        );
        let _ = self.replies.send(Reply::Bytes(out));
        self.open = true;
        Ok(())
    }

    async fn syslog(&mut self, txnr: u32, data: &[u8]) -> Result<(), Abort> {
        if !self.open {
            self.flush().await?;
            let mut out = Vec::new();
            frame::write(&mut out, txnr, "rsp", b"500 command disabled");
            let _ = self.replies.send(Reply::Bytes(out));
            return Ok(());
        }
        let ctx = self.ctx;
        let peer = &self.peer;
        let b = self.batch.get_or_insert_with(|| {
            let mut b = ctx.new_batch();
            b.peers.push(peer.clone());
            b
        });
        let now = crate::parse::now_local();
        let before = b.len();
        ctx.push(b, data, 0, &now);
        if b.len() > before {
            self.txnrs.push(txnr);
        } else {
            // nothing to log (an empty message): acknowledged at once, as librelp does
            let mut out = Vec::new();
            frame::write(&mut out, txnr, "rsp", b"200 OK");
            self.flush().await?;
            let _ = self.replies.send(Reply::Bytes(out));
        }
        if self
            .batch
            .as_ref()
            .is_some_and(|b| b.len() >= BATCH_MSGS || b.data.len() >= BATCH_BYTES)
        {
            self.flush().await?;
        }
        Ok(())
    }

    /// Hands the current batch to the main queue with its completion notice and queues its
    /// acknowledgements for the writer.
    async fn flush(&mut self) -> Result<(), Abort> {
        let Some(mut batch) = self.batch.take() else {
            return Ok(());
        };
        if batch.is_empty() {
            self.ctx.recycle(batch);
            return Ok(());
        }
        // the session's window: a client that does not wait for answers waits here
        let n = batch.len();
        match self.window.acquire_many(n.min(SESSION_WINDOW) as u32).await {
            Ok(p) => p.forget(),
            Err(_) => return Err(Abort("session window closed".into())),
        }
        let (done, rx) = Completion::new();
        let txnrs = std::mem::take(&mut self.txnrs);
        let _ = self.replies.send(Reply::Acks(rx, txnrs));
        let mut h = Hand {
            ctx: self.ctx,
            done: &done,
            open: true,
        };
        let a = self
            .ctx
            .mq
            .admit(&mut batch, self.ctx.kind, true, &mut h)
            .await;
        if a.kept < n {
            crate::stats::submitted_discarded(self.ctx.input, n - a.kept);
        }
        if a.discarded_full > 0 {
            // never acknowledge what was dropped: the client sends it again
            done.fail();
        }
        let mut open = h.open;
        if !batch.is_empty() {
            batch.done = Some(done);
            open &= hand(self.ctx, batch).await;
        } else {
            self.ctx.recycle(batch);
            done.done();
        }
        if open {
            Ok(())
        } else {
            Err(Abort("the main queue is closed".into()))
        }
    }
}

/// Hands admitted parts of a session's batch to the rules thread, each with a part of the
/// batch's completion notice; waits for room in the channel (no timeout: back-pressure).
struct Hand<'a> {
    ctx: &'a Ctx,
    done: &'a Completion,
    open: bool,
}

/// Sends an admitted batch to the rules thread; false when the queue is closed.
async fn hand(ctx: &Ctx, batch: Batch) -> bool {
    let n = batch.len();
    match ctx.tx.reserve().await {
        Ok(permit) => {
            permit.send(batch);
            true
        }
        Err(_) => {
            ctx.mq.release(n);
            false
        }
    }
}

impl crate::mainq::Handoff for Hand<'_> {
    fn spare(&mut self) -> Batch {
        self.ctx.new_batch()
    }
    async fn handoff(&mut self, mut admitted: Batch) {
        if admitted.is_empty() {
            self.ctx.recycle(admitted);
            return;
        }
        admitted.done = Some(self.done.part());
        self.open &= hand(self.ctx, admitted).await
    }
}

/// Sends a session's replies in order: acknowledgements once their batch is durable.
async fn write_replies<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<Reply>,
    label: String,
    notices: crate::engine::Notices,
    window: Arc<tokio::sync::Semaphore>,
) {
    let mut out = Vec::with_capacity(16 * 1024);
    while let Some(r) = rx.recv().await {
        match r {
            Reply::Bytes(b) => out.extend_from_slice(&b),
            Reply::Acks(done, txnrs) => {
                if !matches!(done.await, Ok(true)) {
                    notices.warning(format!(
                        "{label}: {} messages were not written or queued by every action and are not acknowledged - session closed, the client sends them again",
                        txnrs.len()
                    ));
                    break;
                }
                window.add_permits(txnrs.len().min(SESSION_WINDOW));
                for t in txnrs {
                    frame::write(&mut out, t, "rsp", b"200 OK");
                }
            }
        }
        // one write per batch's acknowledgements (not held back for a later batch: the
        // client's window waits for them)
        if wr.write_all(&out).await.is_err() {
            break;
        }
        out.clear();
    }
    if !out.is_empty() {
        let _ = wr.write_all(&out).await;
    }
    let _ = wr.shutdown().await;
    // a reader waiting for room in the window stops now
    window.close();
}
