//! imuxsock and the sender's credentials, as rsyslog 8.2302's `plugins/imuxsock/imuxsock.c`
//! uses them: `SCM_CREDENTIALS` (SO_PASSCRED) for the sender's pid/uid/gid, the pid patched
//! into the tag (`UsePIDFromSystem`, rsyslog's `fixPID`), the trusted properties appended to
//! the message (`Annotate`: ` @[_PID=… _UID=… _GID=… _COMM=… _EXE=… _CMDLINE="…"]`), and
//! systemd socket activation (`LISTEN_FDS`/`LISTEN_PID`, like `sd_listen_fds` +
//! `sd_is_socket_unix`).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// The sender of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// rsyslog's `CONF_TAG_MAXSIZE`.
const TAG_MAXSIZE: usize = 512;

/// rsyslog's `fixPID`: the tag with `[pid]:` written over everything from its last `[` (or
/// over its last byte, assumed to be the `:`, when it has none). Tags too long for the result
/// are left alone; an empty tag gives `pid]:` (rsyslog writes one byte before its buffer).
pub fn fix_pid(tag: &[u8], pid: i32) -> Vec<u8> {
    let pidtxt = format!("[{}]:", pid as u32 as u64);
    let i: isize = match tag.iter().rposition(|&c| c == b'[') {
        Some(i) => i as isize,
        None => tag.len() as isize - 1,
    };
    if i + pidtxt.len() as isize > TAG_MAXSIZE as isize {
        return tag.to_vec();
    }
    if i < 0 {
        return pidtxt.as_bytes()[1..].to_vec();
    }
    let mut out = tag[..i as usize].to_vec();
    out.extend_from_slice(pidtxt.as_bytes());
    out
}

/// `getTrustedProp`: /proc/PID/NAME up to 1023 bytes, cut at the first LF, other control
/// characters (NUL included) turned into spaces.
fn trusted_prop(pid: i32, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(format!("/proc/{}/{name}", pid as u32)).ok()?;
    let mut buf = vec![0u8; 1023];
    let n = f.read(&mut buf).ok()?;
    buf.truncate(n);
    let end = buf.iter().position(|&c| c == b'\n').unwrap_or(n);
    buf.truncate(end);
    for c in buf.iter_mut() {
        if c.is_ascii_control() {
            *c = b' ';
        }
    }
    Some(buf)
}

/// `getTrustedExe`: the target of /proc/PID/exe (at most 1023 bytes).
fn trusted_exe(pid: i32) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::fs::read_link(format!("/proc/{}/exe", pid as u32)).ok()?;
    let b = p.as_os_str().as_bytes();
    Some(b[..b.len().min(1023)].to_vec())
}

/// `ParseTrusted`: the trusted properties as `$!` members (pid, uid, gid as numbers; appname,
/// exe, cmd as strings, each only when /proc has it), as imuxsock.c adds them to the root.
pub fn trusted_json(c: &Cred) -> crate::json::Json {
    use crate::json::{Json, Obj};
    let mut o = Obj::new();
    // json_object_new_int: 32-bit values
    o.insert(b"pid", Json::Int(c.pid as i64));
    o.insert(b"uid", Json::Int(c.uid as i32 as i64));
    o.insert(b"gid", Json::Int(c.gid as i32 as i64));
    if let Some(comm) = trusted_prop(c.pid, "comm") {
        o.insert(b"appname", Json::Str(comm));
    }
    if let Some(exe) = trusted_exe(c.pid) {
        o.insert(b"exe", Json::Str(exe));
    }
    if let Some(cmd) = trusted_prop(c.pid, "cmdline") {
        o.insert(b"cmd", Json::Str(cmd));
    }
    Json::Obj(o)
}

/// The datagram with rsyslog's trusted properties appended (`Annotate` without
/// `ParseTrusted`).
pub fn annotate(raw: &[u8], c: &Cred, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(raw);
    out.extend_from_slice(b" @[");
    out.extend_from_slice(
        format!(
            "_PID={} _UID={} _GID={}",
            c.pid as u32 as u64, c.uid as u64, c.gid as u64
        )
        .as_bytes(),
    );
    if let Some(comm) = trusted_prop(c.pid, "comm") {
        out.extend_from_slice(b" _COMM=");
        out.extend_from_slice(&comm);
    }
    if let Some(exe) = trusted_exe(c.pid) {
        out.extend_from_slice(b" _EXE=");
        out.extend_from_slice(&exe);
    }
    if let Some(cmd) = trusted_prop(c.pid, "cmdline") {
        out.extend_from_slice(b" _CMDLINE=\"");
        for &b in &cmd {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    out.push(b']');
}

/// The first argument of /proc/PID/cmdline (rsyslog names per-process rate limiters
/// `imuxsock[pid: N, name: ARGV0]`, or `imuxsock[pid: N]` when it cannot read it).
pub fn argv0(pid: i32) -> Option<String> {
    let b = std::fs::read(format!("/proc/{}/cmdline", pid as u32)).ok()?;
    let b = &b[..b.len().min(256)];
    if b.is_empty() {
        return None;
    }
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    Some(String::from_utf8_lossy(&b[..end]).into_owned())
}

/// The system socket's default path: `/run/systemd/journal/syslog` when systemd runs the
/// host and that socket exists (rsyslog's `sd_booted()` check), else `/dev/log`.
pub fn default_syssock_path() -> PathBuf {
    use std::os::unix::fs::FileTypeExt;
    let syslog = Path::new("/run/systemd/journal/syslog");
    if Path::new("/run/systemd/system").is_dir()
        && std::fs::metadata(syslog).is_ok_and(|m| m.file_type().is_socket())
    {
        syslog.to_path_buf()
    } else {
        PathBuf::from("/dev/log")
    }
}

/// `SD_LISTEN_FDS_START`.
const LISTEN_FDS_START: RawFd = 3;

/// Number of sockets systemd passed to this process (`sd_listen_fds(0)`): 0 unless
/// `LISTEN_PID` is our pid.
pub fn listen_fds() -> RawFd {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    if !ours {
        return 0;
    }
    std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.trim().parse::<RawFd>().ok())
        .filter(|n| *n > 0 && *n < 4096)
        .unwrap_or(0)
}

/// A passed socket that is a unix datagram socket bound to `path` (`sd_is_socket_unix`),
/// taken over (close-on-exec set). Each descriptor is handed out at most once.
pub fn activated_socket(path: &Path) -> Option<OwnedFd> {
    use nix::sys::socket::{getsockname, getsockopt, sockopt, SockType, UnixAddr};
    use std::os::unix::ffi::OsStrExt;
    static TAKEN: std::sync::Mutex<Vec<RawFd>> = std::sync::Mutex::new(Vec::new());
    let n = listen_fds();
    for fd in LISTEN_FDS_START..LISTEN_FDS_START + n {
        if TAKEN.lock().map(|t| t.contains(&fd)).unwrap_or(true) {
            continue;
        }
        // SAFETY: fstat on any integer is safe; it only fails for a closed descriptor.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            continue;
        }
        // SAFETY: fd is an open socket (checked above); borrowed only for these calls.
        let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if getsockopt(&b, sockopt::SockType).ok() != Some(SockType::Datagram) {
            continue;
        }
        let Ok(addr) = getsockname::<UnixAddr>(fd) else {
            continue;
        };
        if addr.path().map(|p| p.as_os_str().as_bytes()) != Some(path.as_os_str().as_bytes()) {
            continue;
        }
        if let Ok(mut t) = TAKEN.lock() {
            t.push(fd);
        }
        // SAFETY: FD_CLOEXEC on an open descriptor we are taking over.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // SAFETY: the descriptor is open, a socket, and from now on owned only by us.
        return Some(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    None
}

/// imuxsock settings of the system socket (`prefix` "SysSock.") or of an instance ("") that
/// concern credentials and rate limits, with rsyslog's defaults (burst 200, severity 1).
pub fn ux_settings(
    p: &crate::config::model::Params,
    prefix: &str,
    path: PathBuf,
    create_path: bool,
    hostname: Option<String>,
    process_internal: bool,
) -> super::uxsock::UxSettings {
    use crate::config::model::PValue;
    let flag = |n: &str, d: bool| match p.get(&format!("{prefix}{n}")) {
        Some(PValue::Bool(b)) => *b,
        _ => d,
    };
    let int = |n: &str, d: i64| match p.get(&format!("{prefix}{n}")) {
        Some(PValue::Int(v)) => *v,
        _ => d,
    };
    let ratelimit = super::ratelimit::RateLimit {
        interval: int("RateLimit.Interval", 0).clamp(0, u32::MAX as i64) as u32,
        burst: int("RateLimit.Burst", 200).clamp(0, u32::MAX as i64) as u32,
        severity: int("RateLimit.Severity", 1).clamp(0, 255) as u8,
    };
    let use_pid = flag("UsePIDFromSystem", false);
    let annotate = flag("Annotate", false);
    let parse_trusted = flag("ParseTrusted", false);
    let ignore_own = flag("IgnoreOwnMessages", process_internal);
    super::uxsock::UxSettings {
        path,
        create_path,
        hostname,
        // rsyslog also turns SO_PASSCRED on for `UseSysTimeStamp` (it sets SO_TIMESTAMP in
        // the same branch); the time of reception here comes from the clock, so the kernel is
        // asked for credentials only when something uses them (each costs it a reference to
        // the sender's pid and a control message per datagram).
        use_creds: use_pid || annotate || ignore_own || ratelimit.interval > 0,
        use_pid,
        annotate,
        parse_trusted,
        ignore_own,
        ratelimit,
        activated: false,
    }
}

/// `UsePIDFromSystem`: rewrites the tag of the batch's last message with [`fix_pid`] and
/// derives app-name and procid from the new tag (as the parser does for RFC 3164).
pub fn retag_last(batch: &mut crate::message::Batch, pid: i32, permit_slash: bool) {
    use crate::message::Span;
    let Some(m) = batch.msgs.last() else { return };
    let new = fix_pid(&batch.data[m.tag.range()], pid);
    let s = batch.data.len();
    batch.data.extend_from_slice(&new);
    let tag = Span::new(s..s + new.len());
    let pn = crate::parse::programname(&new, permit_slash).len();
    let pid_at = crate::parse::procid_from_tag(&new).map(|p| {
        let off = p.as_ptr() as usize - new.as_ptr() as usize;
        (off, p.len())
    });
    let mut dash = None;
    let mut dash_span = |data: &mut Vec<u8>| {
        *dash.get_or_insert_with(|| {
            data.push(b'-');
            Span::new(data.len() - 1..data.len())
        })
    };
    let app = if pn == 0 {
        dash_span(&mut batch.data)
    } else {
        Span::new(s..s + pn)
    };
    let procid = match pid_at {
        Some((off, len)) => Span::new(s + off..s + off + len),
        None => dash_span(&mut batch.data),
    };
    if let Some(m) = batch.msgs.last_mut() {
        m.tag = tag;
        m.app_name = app;
        m.procid = procid;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_pid_as_rsyslog() {
        assert_eq!(fix_pid(b"foo:", 42), b"foo[42]:");
        assert_eq!(fix_pid(b"foo[7]:", 42), b"foo[42]:");
        assert_eq!(fix_pid(b"foo[7]x:", 42), b"foo[42]:");
        assert_eq!(fix_pid(b"foo", 42), b"fo[42]:");
        assert_eq!(fix_pid(b"a[1]b[2]:", 42), b"a[1]b[42]:");
        assert_eq!(fix_pid(b"", 42), b"42]:");
        let long = vec![b'x'; 509];
        assert_eq!(fix_pid(&long, 42), long);
        let ok = vec![b'x'; 506];
        assert_eq!(fix_pid(&ok, 4).len(), 505 + 4);
    }

    #[test]
    fn annotation_of_ourselves() {
        let me = Cred {
            pid: std::process::id() as i32,
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
        };
        let mut out = Vec::new();
        annotate(b"<13>t: x", &me, &mut out);
        let s = String::from_utf8_lossy(&out).into_owned();
        assert!(
            s.starts_with(&format!(
                "<13>t: x @[_PID={} _UID={} _GID={} _COMM=",
                me.pid, me.uid, me.gid
            )),
            "{s}"
        );
        assert!(s.contains(" _EXE=/") && s.contains(" _CMDLINE=\"") && s.ends_with("\"]"));
        // cmdline's NUL separators (and the last one) become spaces
        assert!(s.ends_with(" \"]"), "{s}");
    }

    #[test]
    fn no_activation_without_our_pid() {
        // LISTEN_PID is not set for the test process
        if std::env::var("LISTEN_PID").is_err() {
            assert_eq!(listen_fds(), 0);
        }
    }
}
