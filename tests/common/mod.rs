//! Shared by the integration tests: a daemon (rsyslogd or oxsyslogd) started on a config in a
//! directory, stopped with SIGTERM, and killed on drop so no test leaves one running.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The real rsyslogd 8.2302 the differential tests compare with.
pub const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// Whether [`RSYSLOGD`] is installed; says on stderr that the test is skipped when not.
pub fn have_rsyslogd() -> bool {
    if Path::new(RSYSLOGD).exists() {
        return true;
    }
    eprintln!("skipped: {RSYSLOGD} is not installed");
    false
}

/// A running daemon, killed on drop.
pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
    /// The program, for messages.
    pub bin: String,
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
        Daemon::adopt(bin, child, dir)
    }

    /// A daemon the test started with a command line of its own (`bin` names it in
    /// messages), its stderr in `dir/stderr`: killed on drop like the others.
    pub fn adopt(bin: &str, child: Child, dir: &Path) -> Daemon {
        Daemon {
            child,
            dir: dir.to_path_buf(),
            bin: bin.to_string(),
        }
    }

    /// Waits until `path` (a socket or file the daemon creates) exists; panics with the
    /// daemon's stderr when it does not within 15 s. Returns `path`.
    pub fn wait_exists<'p>(&self, path: &'p Path) -> &'p Path {
        let t = Instant::now();
        while !path.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "{}: no {} after 15 s: {}",
                self.bin,
                path.display(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        path
    }

    /// SIGKILL and reap: a crash, nothing flushed.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
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
        stop_child(&mut self.child).is_some()
    }
}

/// SIGTERM, then up to 10 s for the exit (so outputs are flushed); SIGKILL after that.
/// The exit status, or None when the child had to be killed.
fn stop_child(c: &mut Child) -> Option<ExitStatus> {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(c.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(st)) = c.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
    None
}

/// Any child process (a daemon started with its own arguments): killed on drop.
pub struct Proc(pub Child);

impl Proc {
    /// SIGTERM and up to 10 s for the exit (then killed): the status, None when killed.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        stop_child(&mut self.0)
    }

    /// Like [`Proc::stop`], for tests that require a clean stop: panics when the child did
    /// not exit within 10 s of SIGTERM.
    pub fn term(mut self) -> ExitStatus {
        self.stop()
            .expect("the daemon did not stop within 10 s of SIGTERM")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

/// The number just before `phrase` in the first line of `text` that has it (a count the
/// daemon reports, e.g. "… 12 message(s) lost …").
pub fn number_before(text: &str, phrase: &str) -> Option<usize> {
    text.lines().find_map(|l| {
        let p = l.find(phrase)?;
        l[..p].rsplit(' ').next()?.parse().ok()
    })
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

/// Connects to 127.0.0.1:`port`, retrying refused connections for up to 15 s: rsyslogd 8.2302
/// writes its listenPortFileName after bind() but before listen() (runtime/nsd_ptcp.c), so a
/// client that reads the port file at once can be refused.
pub fn connect(port: u16) -> std::net::TcpStream {
    let t = Instant::now();
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && t.elapsed() < Duration::from_secs(15) =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("connect to 127.0.0.1:{port}: {e}"),
        }
    }
}

/// Waits (up to 15 s) until some socket listens on TCP `port`, read from /proc/net/tcp{,6}
/// without connecting (a probe connection would show in the daemon's log): rsyslogd writes its
/// port file before listen(). Returns `port`.
pub fn listening(port: u16) -> u16 {
    let t = Instant::now();
    let needle = format!(":{port:04X} ");
    while t.elapsed() < Duration::from_secs(15) {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = std::fs::read_to_string(table).unwrap_or_default();
            // columns: sl local_address rem_address st ...; st 0A is LISTEN
            if text.lines().any(|l| {
                let mut f = l.split_whitespace().skip(1);
                let local = f.next().unwrap_or("");
                let state = f.nth(1).unwrap_or("");
                state == "0A" && format!("{local} ").ends_with(&needle)
            }) {
                return port;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    port
}

/// A TCP port on 127.0.0.1 that was free a moment ago and that this test process has not
/// handed out before: two tests running side by side could otherwise get the same released
/// port from the kernel and one would talk to the other's daemon.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let p = l
            .local_addr()
            .expect("local address of a bound socket")
            .port();
        let mut g = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !g.contains(&p) {
            g.push(p);
            return p;
        }
    }
}
