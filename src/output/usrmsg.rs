//! omusrmsg: writes messages to the terminals of logged-in users (`:omusrmsg:root,admin`), or
//! to everyone (`*`, wall), found in utmp. Terminal writes never block the daemon.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

use crate::message::MsgRef;
use crate::template::{RenderEnv, Template};

use super::Output;

pub struct UsrMsg {
    /// `None` = every logged-in user (wall).
    users: Option<Vec<String>>,
    template: Arc<Template>,
    buf: Vec<u8>,
}

impl UsrMsg {
    pub fn new(users: &str, template: Arc<Template>) -> UsrMsg {
        let users = if users.trim() == "*" {
            None
        } else {
            Some(parse_users(users))
        };
        UsrMsg {
            users,
            template,
            buf: Vec::with_capacity(1024),
        }
    }

    /// Whether `users="*"` (then the wall template is the default).
    pub fn is_wall(users: &str) -> bool {
        users.trim() == "*"
    }
}

/// utmp's name length (UT_NAMESIZE); rsyslog compares and keeps names up to it.
const UNAMESZ: usize = 32;
/// rsyslog's MAXUNAMES: names after the 20th are ignored.
const MAXUNAMES: usize = 20;

/// The user list as rsyslog 8.2302's populateUsers() splits it: at commas, skipping
/// whitespace after a comma only (a name keeps trailing blanks, so "root ,x" does not match
/// root); empty names and names longer than UT_NAMESIZE are dropped (config checking
/// reports them), at most 20 names.
fn parse_users(users: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut first = true;
    for part in users.split(',') {
        let name = if first { part } else { part.trim_start() };
        first = false;
        if name.is_empty() || name.len() > UNAMESZ {
            continue;
        }
        if out.len() == MAXUNAMES {
            break;
        }
        out.push(name.to_string());
    }
    out
}

/// (user, tty line) of every user process in utmp.
fn logged_in() -> Vec<(String, String)> {
    let mut out = Vec::new();
    // SAFETY: the utmpx functions are only called from the processing thread (one caller);
    // each returned record is copied before the next call.
    unsafe {
        nix::libc::setutxent();
        loop {
            let e = nix::libc::getutxent();
            if e.is_null() {
                break;
            }
            let e = &*e;
            // rsyslog skips empty slots, non-user processes and the user "LOGIN"
            if e.ut_type != nix::libc::USER_PROCESS || e.ut_user[0] == 0 {
                continue;
            }
            let field = |f: &[nix::libc::c_char]| -> String {
                let bytes: Vec<u8> = f
                    .iter()
                    .take_while(|&&c| c != 0)
                    .map(|&c| c as u8)
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            };
            let user = field(&e.ut_user);
            if user == "LOGIN" {
                continue;
            }
            out.push((user, field(&e.ut_line)));
        }
        nix::libc::endutxent();
    }
    out
}

/// A utmp tty line is trusted only when it names a device directly under /dev.
fn safe_tty(line: &str) -> bool {
    !line.is_empty()
        && !line.contains("..")
        && !line.starts_with('/')
        && line
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_')
}

impl Output for UsrMsg {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        self.buf.clear();
        self.template.render(m, env, &mut self.buf);
        // rsyslog writes the template's output as a C string: up to the first NUL
        if let Some(nul) = self.buf.iter().position(|&b| b == 0) {
            self.buf.truncate(nul);
        }
        for (user, line) in logged_in() {
            if let Some(list) = &self.users {
                if !list.contains(&user) {
                    continue;
                }
            }
            if !safe_tty(&line) {
                continue;
            }
            let path = format!("/dev/{line}");
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
                .open(&path)
            {
                // as rsyslog: only a terminal whose owner may write to it (mode u+w)
                let writable = f.metadata().is_ok_and(|md| {
                    std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o200 != 0
                });
                if writable {
                    let _ = f.write_all(&self.buf);
                }
            }
        }
    }

    fn end_batch(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tty_lines_are_checked() {
        assert!(safe_tty("pts/3"));
        assert!(safe_tty("tty1"));
        assert!(!safe_tty("../etc/passwd"));
        assert!(!safe_tty("/etc/passwd"));
        assert!(!safe_tty(""));
    }

    #[test]
    fn users_are_split_as_rsyslog_does() {
        assert_eq!(parse_users("root, admin,\tx"), ["root", "admin", "x"]);
        assert_eq!(parse_users("root ,x"), ["root ", "x"]);
        assert_eq!(parse_users(",,a"), ["a"]);
        assert_eq!(parse_users(&"u".repeat(33)), Vec::<String>::new());
        let many: Vec<String> = (0..25).map(|i| format!("u{i}")).collect();
        assert_eq!(parse_users(&many.join(",")).len(), 20);
    }
}
