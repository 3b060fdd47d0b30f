//! imuxsock: unix datagram sockets (the system socket `/dev/log` or `SysSock.Name`, and extra
//! sockets from `input(type="imuxsock" Socket=…)` / `$AddUnixListenSocket`). Local messages:
//! fromhost is the local host, fromhost-ip 127.0.0.1. With SO_PASSCRED the sender's
//! credentials drive `UsePIDFromSystem`, `Annotate`, `IgnoreOwnMessages` and the per-process
//! rate limits (src/input/creds.rs, src/input/ratelimit.rs); a socket systemd passed
//! (LISTEN_FDS) for the path is used instead of creating one. Each socket has its own receive
//! thread (src/input/dgram_thread.rs) taking up to 32 datagrams and their credentials per
//! `recvmmsg`; a full queue makes it wait as before (`queue.timeoutEnqueue`, src/mainq.rs) while
//! the senders wait on the socket.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;

use super::dgram_thread::{Batching, Datagrams};
use super::udp_recv::{cred_space, Mmsg, Want};
use super::Ctx;
use crate::message::{Batch, Peer};

#[derive(Debug, Clone)]
pub struct UxSettings {
    pub path: PathBuf,
    pub create_path: bool,
    /// Host name to use as fromhost/hostname (`HostName=`); default the local host name.
    pub hostname: Option<String>,
    /// Ask the kernel for the sender's credentials (SO_PASSCRED) when any of the settings
    /// below needs them (rsyslog also does for `UseSysTimeStamp`, see creds::ux_settings).
    pub use_creds: bool,
    /// `UsePIDFromSystem`: the sender's pid in the tag.
    pub use_pid: bool,
    /// `Annotate`: trusted properties appended to the message.
    pub annotate: bool,
    /// `ParseTrusted` (with `Annotate`): the trusted properties become `$!` members instead
    /// of text appended to the message.
    pub parse_trusted: bool,
    /// `IgnoreOwnMessages` (default: processInternalMessages).
    pub ignore_own: bool,
    /// `RateLimit.*` (interval 0: off).
    pub ratelimit: super::ratelimit::RateLimit,
    /// The socket came from systemd (LISTEN_FDS): never created nor removed by us.
    pub activated: bool,
}

/// Takes the socket systemd passed for this path, else creates it, replacing a stale one,
/// with mode 0666 so every local user can log.
pub fn bind(s: &mut UxSettings) -> Result<UnixDatagram, String> {
    if let Some(fd) = super::creds::activated_socket(&s.path) {
        s.activated = true;
        return Ok(UnixDatagram::from(fd));
    }
    if s.create_path {
        if let Some(dir) = s.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("imuxsock: cannot create directory {}: {e}", dir.display()))?;
        }
    }
    match std::fs::remove_file(&s.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "imuxsock: cannot remove old socket {}: {e}",
                s.path.display()
            ))
        }
    }
    let sock = UnixDatagram::bind(&s.path)
        .map_err(|e| format!("imuxsock: cannot create socket {}: {e}", s.path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&s.path, std::fs::Permissions::from_mode(0o666));
    Ok(sock)
}

/// Datagrams fetched per `recvmmsg` call.
const VLEN: usize = 32;
/// Resident bytes the slots may take at most when every slot receives a datagram of the
/// full capacity (fewer slots for a large `maxMessageSize`).
const SLOTS_MAX_BYTES: usize = 512 * 1024;
/// Messages per batch handed on: as imudp's (src/input/udp.rs), the batches waiting for the
/// rules thread, and the pages they touched, stay small.
const UX_BATCH_MSGS: usize = 256;

/// Starts the socket's receive thread (src/input/dgram_thread.rs): `recvmmsg` with one
/// control buffer per slot for the senders' credentials; the returned task ends when the
/// thread has handed on what it holds after the shutdown signal and removed the socket's
/// file (unless systemd passed the socket).
pub fn start(
    sock: UnixDatagram,
    s: UxSettings,
    local_host: Arc<str>,
    ctx: Ctx,
) -> Result<tokio::task::JoinHandle<()>, String> {
    use std::os::fd::AsRawFd;
    let host: Arc<str> = s.hostname.as_deref().map(Arc::from).unwrap_or(local_host);
    let peer = Peer {
        host,
        ip: Arc::from("127.0.0.1"),
        port: Arc::from(""),
    };
    if s.activated {
        ctx.notices.info(format!(
            "imuxsock: Acquired UNIX socket '{}' (fd {}) from systemd.",
            s.path.display(),
            sock.as_raw_fd()
        ));
    }
    let mut use_creds = s.use_creds;
    if use_creds {
        if let Err(e) =
            nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::PassCred, &true)
        {
            ctx.notices.error(format!(
                "set SO_PASSCRED failed on '{}': {e}",
                s.path.display()
            ));
            use_creds = false;
        }
    }
    // As rsyslog's iMaxLine: a datagram is received whole up to maxMessageSize (the parser
    // cuts there; the byte beyond shows nothing was cut short by the slot).
    let cap = ctx.parse.sanitize.max_msg_size + 1;
    let vlen = (SLOTS_MAX_BYTES / cap).clamp(1, VLEN);
    let mm = Mmsg::new(
        vlen,
        cap,
        Want {
            addr: false,
            control: if use_creds { cred_space() } else { 0 },
        },
    );
    let how = Batching {
        max_msgs: UX_BATCH_MSGS,
        slot: cap,
    };
    let input = Ux {
        limiters: super::ratelimit::PidLimiters::new(s.ratelimit),
        our_pid: std::process::id() as i32,
        annotated: Vec::new(),
        notes: Vec::new(),
        peer,
        use_creds,
        s,
    };
    super::dgram_thread::start("imuxsock", "oxsyslogd-ux", sock, mm, how, input, ctx)
}

/// One socket's state in its receive thread.
struct Ux {
    s: UxSettings,
    use_creds: bool,
    peer: Peer,
    limiters: super::ratelimit::PidLimiters,
    our_pid: i32,
    /// The datagram with its trusted properties (`Annotate`).
    annotated: Vec<u8>,
    notes: Vec<String>,
}

impl Datagrams for Ux {
    fn take(&mut self, mm: &mut Mmsg, n: usize, batch: &mut Batch, ctx: &Ctx) {
        let s = &self.s;
        let now = crate::parse::now_local();
        if batch.peers.is_empty() {
            batch.peers.push(self.peer.clone());
        }
        for i in 0..n {
            let cred = if self.use_creds { mm.cred(i) } else { None };
            if s.ignore_own && cred.is_some_and(|c| c.pid == self.our_pid) {
                continue;
            }
            let data = mm.data(i);
            let raw: &[u8] = match cred {
                Some(c) if s.annotate && !s.parse_trusted => {
                    super::creds::annotate(data, &c, &mut self.annotated);
                    &self.annotated
                }
                _ => data,
            };
            let mark = batch.data.len();
            let before = batch.len();
            ctx.push(batch, raw, 0, &now);
            if batch.len() == before {
                continue;
            }
            if let (true, Some(c)) = (s.annotate && s.parse_trusted, cred) {
                if let Some(last) = batch.msgs.last_mut() {
                    last.json = Some(Box::new(super::creds::trusted_json(&c)));
                }
            }
            if let (true, Some(c)) = (s.use_pid && ctx.flags.local_special_parser, cred) {
                super::creds::retag_last(batch, c.pid, ctx.parse.permit_slash_in_programname);
            }
            if s.ratelimit.interval == 0 && !ctx.repeat {
                continue;
            }
            // the sender's limiter: its rate limit and its repeated-message reduction
            let limiter = self.limiters.for_pid(
                cred.map(|c| c.pid),
                now.1,
                super::creds::argv0,
                &mut self.notes,
            );
            if s.ratelimit.interval > 0 {
                let keep = {
                    let m = batch.get(batch.len() - 1);
                    let who = format!(
                        "{}:{}",
                        String::from_utf8_lossy(m.hostname()),
                        String::from_utf8_lossy(m.bytes(m.m.app_name))
                    );
                    limiter.admit(now.1, m.m.severity, &who, &mut self.notes)
                };
                if !keep {
                    batch.msgs.pop();
                    batch.data.truncate(mark);
                }
                for n in self.notes.drain(..) {
                    ctx.notices.info(n);
                }
                if !keep {
                    continue;
                }
            }
            if ctx.repeat {
                limiter
                    .repeat
                    .check_last(batch, mark, ctx.parse.permit_slash_in_programname);
            }
        }
    }

    fn finish(&mut self, batch: &mut Batch, ctx: &Ctx) {
        if ctx.repeat {
            if batch.peers.is_empty() {
                batch.peers.push(self.peer.clone());
            }
            self.limiters.flush_repeats(batch);
        }
        self.limiters.finish(&mut self.notes);
        for n in self.notes.drain(..) {
            ctx.notices.info(n);
        }
    }

    fn close(&mut self) {
        if !self.s.activated {
            let _ = std::fs::remove_file(&self.s.path);
        }
    }
}
