//! imuxsock: unix datagram sockets (the system socket `/dev/log` or `SysSock.Name`, and extra
//! sockets from `input(type="imuxsock" Socket=…)` / `$AddUnixListenSocket`). Local messages:
//! fromhost is the local host, fromhost-ip 127.0.0.1. With SO_PASSCRED the sender's
//! credentials drive `UsePIDFromSystem`, `Annotate`, `IgnoreOwnMessages` and the per-process
//! rate limits (src/input/creds.rs, src/input/ratelimit.rs); a socket systemd passed
//! (LISTEN_FDS) for the path is used instead of creating one.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::UnixDatagram;

use super::{Ctx, BATCH_BYTES, BATCH_MSGS};
use crate::message::Peer;

#[derive(Debug, Clone)]
pub struct UxSettings {
    pub path: PathBuf,
    pub create_path: bool,
    /// Host name to use as fromhost/hostname (`HostName=`); default the local host name.
    pub hostname: Option<String>,
    /// Ask the kernel for the sender's credentials (SO_PASSCRED), as rsyslog does when any
    /// of the settings below (or UseSysTimeStamp) needs them.
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
        let std_sock = std::os::unix::net::UnixDatagram::from(fd);
        std_sock
            .set_nonblocking(true)
            .map_err(|e| format!("imuxsock: systemd socket {}: {e}", s.path.display()))?;
        s.activated = true;
        return UnixDatagram::from_std(std_sock)
            .map_err(|e| format!("imuxsock: systemd socket {}: {e}", s.path.display()));
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

pub async fn serve(sock: UnixDatagram, s: UxSettings, local_host: Arc<str>, ctx: Ctx) {
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
    if s.use_creds {
        if let Err(e) =
            nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::PassCred, &true)
        {
            ctx.notices.error(format!(
                "set SO_PASSCRED failed on '{}': {e}",
                s.path.display()
            ));
        }
    }
    let mut limiters = super::ratelimit::PidLimiters::new(s.ratelimit);
    let our_pid = std::process::id() as i32;
    let mut buf = vec![0u8; 64 * 1024];
    let mut annotated = Vec::new();
    let mut notes = Vec::new();
    let mut shutdown = ctx.shutdown.clone();
    let fd = sock.as_raw_fd();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            r = sock.readable() => if let Err(e) = r {
                ctx.notices.warning(format!("imuxsock: receive error on {}: {e}", s.path.display()));
                break;
            },
        }
        let now = crate::parse::now_local();
        let mut batch = ctx.new_batch();
        batch.peers.push(peer.clone());
        while batch.len() < BATCH_MSGS && batch.data.len() < BATCH_BYTES {
            let r = sock.try_io(tokio::io::Interest::READABLE, || {
                super::creds::recv(fd, &mut buf, s.use_creds)
            });
            let (n, cred) = match r {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    ctx.notices.warning(format!(
                        "imuxsock: receive error on {}: {e}",
                        s.path.display()
                    ));
                    break;
                }
            };
            if s.ignore_own && cred.is_some_and(|c| c.pid == our_pid) {
                continue;
            }
            let raw: &[u8] = match cred {
                Some(c) if s.annotate && !s.parse_trusted => {
                    super::creds::annotate(&buf[..n], &c, &mut annotated);
                    &annotated
                }
                _ => &buf[..n],
            };
            let mark = batch.data.len();
            let before = batch.len();
            ctx.push(&mut batch, raw, 0, &now);
            if batch.len() == before {
                continue;
            }
            if let (true, Some(c)) = (s.annotate && s.parse_trusted, cred) {
                if let Some(last) = batch.msgs.last_mut() {
                    last.json = Some(Box::new(super::creds::trusted_json(&c)));
                }
            }
            if let (true, Some(c)) = (s.use_pid && ctx.flags.local_special_parser, cred) {
                super::creds::retag_last(&mut batch, c.pid, ctx.parse.permit_slash_in_programname);
            }
            if s.ratelimit.interval > 0 {
                let keep = {
                    let m = batch.get(batch.len() - 1);
                    let who = format!(
                        "{}:{}",
                        String::from_utf8_lossy(m.hostname()),
                        String::from_utf8_lossy(m.bytes(m.m.app_name))
                    );
                    let sev = m.m.severity;
                    limiters
                        .for_pid(cred.map(|c| c.pid), now.1, super::creds::argv0, &mut notes)
                        .admit(now.1, sev, &who, &mut notes)
                };
                if !keep {
                    batch.msgs.pop();
                    batch.data.truncate(mark);
                }
                for n in notes.drain(..) {
                    ctx.notices.info(n);
                }
                if !keep {
                    continue;
                }
            }
            if ctx.repeat {
                limiters
                    .for_pid(cred.map(|c| c.pid), now.1, super::creds::argv0, &mut notes)
                    .repeat
                    .check_last(&mut batch, mark, ctx.parse.permit_slash_in_programname);
            }
        }
        // A local stream of datagrams: wait for room rather than drop (senders block on a
        // full socket buffer, as with rsyslog's flow control for local logging).
        if !ctx.send(batch).await {
            break;
        }
    }
    if ctx.repeat {
        let mut b = ctx.new_batch();
        b.peers.push(peer.clone());
        limiters.flush_repeats(&mut b);
        ctx.send(b).await;
    }
    limiters.finish(&mut notes);
    for n in notes.drain(..) {
        ctx.notices.info(n);
    }
    if !s.activated {
        let _ = std::fs::remove_file(&s.path);
    }
}
