//! imuxsock: unix datagram sockets (the system socket `/dev/log` or `SysSock.Name`, and extra
//! sockets from `input(type="imuxsock" Socket=…)` / `$AddUnixListenSocket`). Local messages:
//! fromhost is the local host, fromhost-ip 127.0.0.1.

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
}

/// Creates the socket, replacing a stale one, with mode 0666 so every local user can log.
pub fn bind(s: &UxSettings) -> Result<UnixDatagram, String> {
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
    let host: Arc<str> = s.hostname.as_deref().map(Arc::from).unwrap_or(local_host);
    let peer = Peer {
        host,
        ip: Arc::from("127.0.0.1"),
        port: Arc::from(""),
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let first = tokio::select! {
            _ = shutdown.changed() => break,
            r = sock.recv(&mut buf) => r,
        };
        let now = crate::parse::now_local();
        let mut batch = ctx.new_batch();
        batch.peers.push(peer.clone());
        let mut next = Some(first);
        while let Some(r) = next.take() {
            match r {
                Ok(n) => ctx.push(&mut batch, &buf[..n], 0, &now),
                Err(e) => ctx.notices.warning(format!(
                    "imuxsock: receive error on {}: {e}",
                    s.path.display()
                )),
            }
            if batch.len() < BATCH_MSGS && batch.data.len() < BATCH_BYTES {
                next = match sock.try_recv(&mut buf) {
                    Ok(n) => Some(Ok(n)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
                    Err(e) => Some(Err(e)),
                };
            }
        }
        // A local stream of datagrams: wait for room rather than drop (senders block on a
        // full socket buffer, as with rsyslog's flow control for local logging).
        if !ctx.send(batch).await {
            break;
        }
    }
    let _ = std::fs::remove_file(&s.path);
}
