//! Shared by the integration tests: a daemon (rsyslogd or oxsyslogd) started on a config in a
//! directory, stopped with SIGTERM, and killed on drop so no test leaves one running.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running daemon, killed on drop.
pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
}

impl Daemon {
    /// Writes `conf` to `dir/d.conf` and starts `bin -n [extra] -iNONE -f dir/d.conf` in `dir`,
    /// stderr to `dir/stderr`, without inherited socket-activation or internal-log variables.
    pub fn start(bin: &str, dir: &Path, conf: &str, extra: &[&str]) -> Daemon {
        std::fs::write(dir.join("d.conf"), conf).unwrap();
        let child = Command::new(bin)
            .arg("-n")
            .args(extra)
            .args(["-iNONE", "-f"])
            .arg(dir.join("d.conf"))
            .current_dir(dir)
            .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// Sends SIGHUP (reopen files, reload keys).
    pub fn hup(&self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGHUP,
        );
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// SIGTERM and wait up to 10 s (so outputs are flushed); returns whether the daemon
    /// stopped in that time (if not, it is killed).
    pub fn stop(&mut self) -> bool {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file's text with invalid UTF-8 replaced; empty when it does not exist.
pub fn read_lossy(f: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned()
}

/// Waits until `f` contains `needle` (at most 15 s).
pub fn wait_for(f: &Path, needle: &str) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(15) {
        if read_lossy(f).contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
