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
            Some(
                users
                    .split(',')
                    .map(|u| u.trim().to_string())
                    .filter(|u| !u.is_empty())
                    .collect(),
            )
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
            if e.ut_type != nix::libc::USER_PROCESS {
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
            out.push((field(&e.ut_user), field(&e.ut_line)));
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
                let _ = f.write_all(&self.buf);
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
}
