//! Differential message tests (issue #3).
//!
//! Every run starts the real `/usr/sbin/rsyslogd` (Debian's `rsyslog` 8.2302, checked with
//! dpkg-query; no golden files) and a second daemon — `oxsyslogd`, or rsyslogd again when
//! `OXSYSLOG_COMPAT_SECOND=rsyslogd` — each in its own temporary directory with its own copy of
//! one template config. Both receive the same bytes over imudp, imtcp (LF and octet-counted
//! framing) and imuxsock (util-linux `logger -u SOCKET`). When both outputs have stopped
//! growing the daemons get SIGTERM and every output file is compared byte for byte, after one
//! normaliser that masks the reception-clock fields and nothing else ([`ClockWindow`]).
//! A run also fails if an expected file is missing or empty, or lacks a corpus message that the
//! config's filters route to it.
//!
//! Corpus, configs and the rules are described in `compat-tests/messages/README.md`.
//!
//! All on: the comparator and normaliser unit tests, the corpus manifest check, `-N1` of every
//! config, rsyslogd-vs-rsyslogd over the whole corpus and the Debian default config (proving
//! the harness and the corpus), and oxsyslogd-vs-rsyslogd over the same.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, UdpSocket};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use regex::bytes::Regex;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const LOGGER: &str = "/usr/bin/logger";

/// The corpus configs (compat-tests/messages/configs/NAME.conf), each run as its own pair.
const CORPUS_CONFIGS: [&str; 4] = ["default", "raw", "escaped", "parser-options"];
/// Debian bookworm's rsyslog.conf, paths pointed into the temporary directory.
const DEBIAN_CONFIG: &str = "debian-default";

/// The largest datagram the harness sends over UDP (IPv4 loopback allows 65507 bytes).
const MAX_UDP: usize = 65000;
/// logger's `--size`: large enough that logger never splits a corpus message.
const LOGGER_SIZE: &str = "262144";

const START_TIMEOUT: Duration = Duration::from_secs(15);
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Outputs count as "stopped growing" after this long without a change.
const QUIET: Duration = Duration::from_millis(600);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn messages_dir() -> PathBuf {
    root().join("compat-tests/messages")
}

// =============================================================================================
// Reference tools
// =============================================================================================

fn dpkg_version(package: &str) -> String {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .expect(
            "dpkg-query must run (the tests need Debian's rsyslog package: run scripts/test.sh)",
        );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Fails unless rsyslogd is Debian's 8.2302 and util-linux logger (package bsdutils) exists.
fn require_tools() {
    let v = dpkg_version("rsyslog");
    assert!(
        v.starts_with("8.2302"),
        "the differential tests need Debian's rsyslog 8.2302, found '{v}'"
    );
    assert!(Path::new(RSYSLOGD).exists(), "{RSYSLOGD} missing");
    let b = dpkg_version("bsdutils");
    assert!(
        !b.is_empty(),
        "the imuxsock tests need util-linux logger (Debian package bsdutils)"
    );
    assert!(Path::new(LOGGER).exists(), "{LOGGER} missing");
}

/// Which daemon runs beside the reference rsyslogd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Second {
    Oxsyslogd,
    Rsyslogd,
}

impl Second {
    /// `OXSYSLOG_COMPAT_SECOND`: unset or `oxsyslogd` → oxsyslogd; `rsyslogd` → rsyslogd on
    /// both sides (proves the harness while the oxsyslogd runtime does not exist).
    fn from_env() -> Second {
        match std::env::var("OXSYSLOG_COMPAT_SECOND").as_deref() {
            Err(_) | Ok("") | Ok("oxsyslogd") => Second::Oxsyslogd,
            Ok("rsyslogd") => Second::Rsyslogd,
            Ok(other) => panic!(
                "OXSYSLOG_COMPAT_SECOND must be 'oxsyslogd' (default) or 'rsyslogd', not '{other}'"
            ),
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Second::Oxsyslogd => OX,
            Second::Rsyslogd => RSYSLOGD,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Second::Oxsyslogd => "oxsyslogd",
            Second::Rsyslogd => "rsyslogd (second instance)",
        }
    }
}

// =============================================================================================
// Corpus
// =============================================================================================

/// How a message reaches the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Transport {
    /// imudp: one datagram per message.
    Udp,
    /// imtcp, LF framing ("octet stuffing"): message + LF.
    TcpLf,
    /// imtcp, octet-counted framing (RFC 6587): `LEN SP MSG`.
    TcpOctet,
    /// imuxsock, via util-linux `logger -u SOCKET`.
    Uxsock,
}

const TRANSPORTS: [Transport; 4] = [
    Transport::Udp,
    Transport::TcpLf,
    Transport::TcpOctet,
    Transport::Uxsock,
];

impl Transport {
    fn letter(self) -> char {
        match self {
            Transport::Udp => 'u',
            Transport::TcpLf => 'l',
            Transport::TcpOctet => 'o',
            Transport::Uxsock => 'x',
        }
    }

    fn from_letter(c: char) -> Option<Transport> {
        TRANSPORTS.into_iter().find(|t| t.letter() == c)
    }

    fn describe(self) -> &'static str {
        match self {
            Transport::Udp => "imudp",
            Transport::TcpLf => "imtcp LF-framed",
            Transport::TcpOctet => "imtcp octet-counted",
            Transport::Uxsock => "imuxsock via logger",
        }
    }
}

/// One corpus message. The bytes are `head` + marker + `tail`; the marker (`oxm-NNNNt`, `t` the
/// transport letter) makes each (message, transport) pair findable in every output.
#[derive(Clone, Debug)]
struct Message {
    id: usize,
    category: String,
    origin: String,
    head: Vec<u8>,
    tail: Vec<u8>,
    /// False for `@NOMSG@` lines: rsyslog keeps no MSG part holding the marker (e.g. an
    /// unterminated structured data element swallows it), so only files that print rawmsg
    /// (rule `raw`) are required to show it.
    in_msg: bool,
}

impl Message {
    fn marker(&self, t: Transport) -> String {
        format!("oxm-{:04}{}", self.id, t.letter())
    }

    fn bytes(&self, t: Transport) -> Vec<u8> {
        let mut v = self.head.clone();
        v.extend_from_slice(self.marker(t).as_bytes());
        v.extend_from_slice(&self.tail);
        v
    }

    fn len(&self) -> usize {
        self.head.len() + 9 + self.tail.len()
    }

    fn has(&self, byte: u8) -> bool {
        self.head.contains(&byte) || self.tail.contains(&byte)
    }

    /// The transports that can carry this message unchanged:
    /// - UDP: up to [`MAX_UDP`] bytes;
    /// - LF framing: no LF inside, and no leading digit (imtcp would read it as an octet count);
    /// - logger: no NUL (neither an argument nor a stdin line can carry one).
    fn transports(&self) -> Vec<Transport> {
        TRANSPORTS
            .into_iter()
            .filter(|t| match t {
                Transport::Udp => self.len() <= MAX_UDP,
                Transport::TcpLf => {
                    !self.has(b'\n') && !self.head.first().is_some_and(u8::is_ascii_digit)
                }
                Transport::TcpOctet => true,
                Transport::Uxsock => !self.has(0),
            })
            .collect()
    }
}

/// Deterministic filler for `@PAD:N@` (oversize messages).
fn pad(n: usize) -> Vec<u8> {
    const WORDS: &[u8] =
        b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor 0123456789 ";
    WORDS.iter().cycle().take(n).copied().collect()
}

/// Decodes one corpus line: `\xHH` is a byte (the only escape; a literal backslash is just a
/// backslash), `@M@` is where the marker goes (exactly once), `@PAD:N@` is N filler bytes.
fn decode_line(line: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let b = line.as_bytes();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    let mut seen_marker = false;
    let mut i = 0;
    while i < b.len() {
        let out = if seen_marker { &mut tail } else { &mut head };
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            let hex = b
                .get(i + 2..i + 4)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            let Some(v) = hex else {
                return Err(format!(
                    "bad \\x escape at column {} (a literal backslash before 'x' is \\x5cx)",
                    i + 1
                ));
            };
            out.push(v);
            i += 4;
            continue;
        }
        if b[i..].starts_with(b"@M@") {
            if seen_marker {
                return Err("more than one @M@".into());
            }
            seen_marker = true;
            i += 3;
            continue;
        }
        if b[i..].starts_with(b"@PAD:") {
            let rest = &line[i + 5..];
            let end = rest.find('@').ok_or("unterminated @PAD:N@")?;
            let n: usize = rest[..end].parse().map_err(|_| "bad @PAD:N@ count")?;
            out.extend_from_slice(&pad(n));
            i += 5 + end + 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    if !seen_marker {
        return Err("no @M@ (marker position)".into());
    }
    Ok((head, tail))
}

/// Reads a corpus-style file: `#` comments and blank lines are skipped; trailing whitespace is
/// refused (write `\x20`), so an editor cannot change a message silently.
fn read_lines(path: &Path) -> Vec<(usize, String)> {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut v = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        assert!(
            !line.ends_with([' ', '\t']),
            "{}:{}: trailing whitespace (write it as \\x20 / \\x09)",
            path.display(),
            n + 1
        );
        v.push((n + 1, line.to_string()));
    }
    v
}

#[derive(Clone, Debug)]
struct ManifestRow {
    kind: String,
    category: String,
    count: usize,
}

/// `compat-tests/messages/manifest.txt`: `KIND CATEGORY COUNT DESCRIPTION…` per corpus file.
fn load_manifest() -> Vec<ManifestRow> {
    let path = messages_dir().join("manifest.txt");
    let text = fs::read_to_string(&path).expect("read manifest.txt");
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("total") {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(
            f.len() >= 4,
            "manifest.txt:{}: KIND CATEGORY COUNT DESCRIPTION",
            n + 1
        );
        rows.push(ManifestRow {
            kind: f[0].to_string(),
            category: f[1].to_string(),
            count: f[2]
                .parse()
                .unwrap_or_else(|_| panic!("manifest.txt:{}: bad count", n + 1)),
        });
    }
    rows
}

/// The whole corpus, numbered in manifest order. Panics on any format error.
fn load_corpus() -> Vec<Message> {
    static CORPUS: OnceLock<Vec<Message>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let mut all = Vec::new();
            for row in load_manifest() {
                let path = messages_dir()
                    .join("corpus")
                    .join(format!("{}.txt", row.category));
                for (n, line) in read_lines(&path) {
                    let origin = format!("corpus/{}.txt:{n}", row.category);
                    let (line, in_msg) = match line.strip_prefix("@NOMSG@") {
                        Some(rest) => (rest.to_string(), false),
                        None => (line, true),
                    };
                    let (head, tail) =
                        decode_line(&line).unwrap_or_else(|e| panic!("{origin}: {e}"));
                    all.push(Message {
                        id: all.len() + 1,
                        category: row.category.clone(),
                        origin,
                        head,
                        tail,
                        in_msg,
                    });
                }
            }
            assert!(all.len() < 10000, "markers have four digits");
            all
        })
        .clone()
}

// =============================================================================================
// PRI prediction (for the filtered files' expectations)
// =============================================================================================

/// A well-formed `<PRI>` at the start (1–3 digits, no leading zero, at most 191), if any.
fn leading_pri(b: &[u8]) -> Option<u8> {
    let rest = b.strip_prefix(b"<")?;
    let end = rest.iter().position(|&c| c == b'>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    let v: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (v <= 191).then_some(v as u8)
}

/// The PRI the daemon will see, where it is certain; None where the rules are subtle (malformed
/// PRIs), which excludes the message from the pri expectations (not from the comparison).
fn predict_pri(bytes: &[u8], t: Transport) -> Option<u8> {
    match t {
        Transport::Udp | Transport::TcpLf | Transport::TcpOctet => leading_pri(bytes),
        Transport::Uxsock => {
            if bytes.contains(&b'\n') {
                // sent as an argument: logger's default priority
                return Some(13);
            }
            match leading_pri(bytes) {
                // logger --prio-prefix; logger turns kern (0) into user (1)
                Some(p) if p >> 3 == 0 => Some(p | 8),
                Some(p) => Some(p),
                // without a prefix logger reuses the previous line's priority
                None => None,
            }
        }
    }
}

// =============================================================================================
// Configs and their expectations
// =============================================================================================

#[derive(Clone, Debug, PartialEq)]
enum SevCmp {
    Le(u8),
    Eq(u8),
}

#[derive(Clone, Debug, Default, PartialEq)]
struct PriRule {
    fac_in: Option<Vec<u8>>,
    fac_not_in: Option<Vec<u8>>,
    sev: Option<SevCmp>,
}

impl PriRule {
    fn matches(&self, pri: u8) -> bool {
        let (fac, sev) = (pri >> 3, pri & 7);
        self.fac_in.as_ref().is_none_or(|v| v.contains(&fac))
            && self.fac_not_in.as_ref().is_none_or(|v| !v.contains(&fac))
            && match self.sev {
                None => true,
                Some(SevCmp::Le(s)) => sev <= s,
                Some(SevCmp::Eq(s)) => sev == s,
            }
    }
}

/// What an output file must contain besides being identical on both sides.
#[derive(Clone, Debug, PartialEq)]
enum Rule {
    /// every marker sent, for files whose template prints rawmsg
    Raw,
    /// every marker sent whose message keeps it in MSG (all but the `@NOMSG@` lines)
    All,
    /// every marker sent, case-insensitively (templates that change case)
    AllCi,
    /// just non-empty (templates that print only part of a message)
    Nonempty,
    /// exactly the markers sent over these transports
    Transports(BTreeSet<Transport>),
    /// exactly the markers whose predicted PRI matches (unpredictable PRIs are not checked)
    Pri(PriRule),
}

#[derive(Clone, Debug)]
struct Check {
    file: String,
    rule: Rule,
}

#[derive(Clone, Debug)]
struct ConfigSpec {
    name: String,
    template: String,
    checks: Vec<Check>,
}

fn parse_list(s: &str) -> Vec<u8> {
    s.split(',')
        .map(|x| x.parse().unwrap_or_else(|_| panic!("bad number '{x}'")))
        .collect()
}

fn parse_rule(words: &[&str]) -> Result<Rule, String> {
    match words {
        ["raw"] => Ok(Rule::Raw),
        ["all"] => Ok(Rule::All),
        ["all-ci"] => Ok(Rule::AllCi),
        ["nonempty"] => Ok(Rule::Nonempty),
        [w] if w.starts_with("transport=") => {
            let set: Option<BTreeSet<Transport>> = w["transport=".len()..]
                .split(',')
                .map(|l| l.chars().next().and_then(Transport::from_letter))
                .collect();
            set.map(Rule::Transports)
                .ok_or(format!("bad transport list in '{w}'"))
        }
        ["pri", conds @ ..] if !conds.is_empty() => {
            let mut r = PriRule::default();
            for c in conds {
                if let Some(v) = c.strip_prefix("fac!=") {
                    r.fac_not_in = Some(parse_list(v));
                } else if let Some(v) = c.strip_prefix("fac=") {
                    r.fac_in = Some(parse_list(v));
                } else if let Some(v) = c.strip_prefix("sev<=") {
                    r.sev = Some(SevCmp::Le(v.parse().map_err(|_| format!("bad '{c}'"))?));
                } else if let Some(v) = c.strip_prefix("sev=") {
                    r.sev = Some(SevCmp::Eq(v.parse().map_err(|_| format!("bad '{c}'"))?));
                } else {
                    return Err(format!("unknown pri condition '{c}'"));
                }
            }
            Ok(Rule::Pri(r))
        }
        _ => Err(format!("unknown rule '{}'", words.join(" "))),
    }
}

/// Loads `configs/NAME.conf` and its `# oxcheck FILE RULE` lines; every `@DIR@/out/…` file the
/// config writes must have exactly one.
fn load_config(name: &str) -> ConfigSpec {
    let path = messages_dir().join("configs").join(format!("{name}.conf"));
    let template =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut checks: Vec<Check> = Vec::new();
    for (n, line) in template.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("# oxcheck ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        assert!(
            words.len() >= 2,
            "{name}.conf:{}: # oxcheck FILE RULE",
            n + 1
        );
        let rule = parse_rule(&words[1..]).unwrap_or_else(|e| panic!("{name}.conf:{}: {e}", n + 1));
        assert!(
            !checks.iter().any(|c| c.file == words[0]),
            "{name}.conf:{}: second oxcheck for {}",
            n + 1,
            words[0]
        );
        checks.push(Check {
            file: words[0].to_string(),
            rule,
        });
    }
    let out_re = Regex::new(r#"@DIR@/(out/[A-Za-z0-9._-]+)"#).unwrap();
    let written: BTreeSet<String> = template
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| {
            out_re
                .captures_iter(l.as_bytes())
                .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let checked: BTreeSet<String> = checks.iter().map(|c| c.file.clone()).collect();
    assert_eq!(
        written, checked,
        "{name}.conf: the files written under @DIR@/out/ and the '# oxcheck' lines must match"
    );
    assert!(!checks.is_empty(), "{name}.conf writes no @DIR@/out/ file");
    ConfigSpec {
        name: name.to_string(),
        template,
        checks,
    }
}

fn render_config(template: &str, dir: &Path, udp_port: u16) -> String {
    template
        .replace("@DIR@", dir.to_str().expect("utf-8 temp dir"))
        .replace("@UDPPORT@", &udp_port.to_string())
}

// =============================================================================================
// Daemons
// =============================================================================================

/// A running daemon. Dropping it sends SIGTERM (SIGKILL after a timeout), so nothing is left
/// running even when a test panics.
struct Daemon {
    label: String,
    child: Option<Child>,
    dir: PathBuf,
}

impl Daemon {
    fn start(label: &str, bin: &str, dir: &Path, conf: &Path) -> Daemon {
        let out = fs::File::create(dir.join("daemon.stdout")).expect("create daemon.stdout");
        let err = fs::File::create(dir.join("daemon.stderr")).expect("create daemon.stderr");
        let child = Command::new(bin)
            .args(["-n", "-iNONE", "-f"])
            .arg(conf)
            .current_dir(dir)
            // rsyslog's switch that changes where its own messages go: keep the default.
            .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Daemon {
            label: label.to_string(),
            child: Some(child),
            dir: dir.to_path_buf(),
        }
    }

    /// Some(status) if the daemon has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Its stderr and stdout, and the tail of its internal-message log if the config keeps one.
    fn diagnostics(&self) -> String {
        let mut s = String::new();
        for f in ["daemon.stderr", "daemon.stdout", "internal.log"] {
            let text = fs::read(self.dir.join(f)).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            let _ = writeln!(s, "--- {} {f} ({} lines) ---", self.label, lines.len());
            for l in tail {
                let _ = writeln!(s, "{l}");
            }
        }
        s
    }

    fn stop(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let Some(mut child) = self.child.take() else {
            return Err(format!("{} was already stopped", self.label));
        };
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!(
                "{} had already exited ({st}) before SIGTERM\n{}",
                self.label,
                self.diagnostics()
            ));
        }
        let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(st)) = child.try_wait() {
                return Ok(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "{} did not exit within {timeout:?} of SIGTERM (killed)",
            self.label
        ))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop(Duration::from_secs(5));
        }
    }
}

/// A free UDP port on 127.0.0.1 (imudp in rsyslog 8.2302 has no listenPortFileName): bound
/// once with port 0, released, and never handed out twice by this process.
fn free_udp_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port");
        let port = s.local_addr().unwrap().port();
        drop(s);
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

fn wait_until(
    timeout: Duration,
    mut ready: impl FnMut() -> Result<bool, String>,
) -> Result<bool, String> {
    let start = Instant::now();
    loop {
        if ready()? {
            return Ok(true);
        }
        if start.elapsed() > timeout {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One daemon with its directory and endpoints.
struct Side {
    label: String,
    dir: PathBuf,
    daemon: Daemon,
    udp_port: u16,
    tcp_port: u16,
    sock: PathBuf,
}

impl Side {
    fn out(&self) -> PathBuf {
        self.dir.join("out")
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.dir.join(rel)).unwrap_or_default()
    }

    fn fail(&self, what: &str) -> String {
        format!("{}: {what}\n{}", self.label, self.daemon.diagnostics())
    }
}

/// Creates `dir` (with out/, work/, rsyslog.d/), writes the config, starts the daemon and waits
/// until its listeners exist: the TCP port file and the socket (and, if `probe`, until a probe
/// message sent over each transport has arrived).
fn start_side(
    label: &str,
    bin: &str,
    dir: &Path,
    spec: &ConfigSpec,
    sock_name: &str,
    tcp: bool,
) -> Result<Side, String> {
    for d in ["out", "work", "rsyslog.d"] {
        fs::create_dir_all(dir.join(d)).expect("create temp dirs");
    }
    let udp_port = free_udp_port();
    let conf = dir.join("rsyslog.conf");
    fs::write(&conf, render_config(&spec.template, dir, udp_port)).expect("write config");
    let daemon = Daemon::start(label, bin, dir, &conf);
    let mut side = Side {
        label: label.to_string(),
        dir: dir.to_path_buf(),
        daemon,
        udp_port,
        tcp_port: 0,
        sock: dir.join(sock_name),
    };
    let port_file = dir.join("tcp.port");
    let mut tcp_port = 0;
    let up = wait_until(START_TIMEOUT, || {
        if let Some(st) = side.daemon.exited() {
            return Err(side.fail(&format!("exited ({st}) during startup")));
        }
        if tcp {
            tcp_port = fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
        }
        Ok((!tcp || tcp_port != 0) && side.sock.exists())
    })?;
    if !up {
        return Err(side.fail(&format!(
            "did not come up within {START_TIMEOUT:?} (waiting for {}{})",
            if tcp {
                "the imtcp listenPortFileName and "
            } else {
                ""
            },
            side.sock.display()
        )));
    }
    side.tcp_port = tcp_port;
    Ok(side)
}

/// Sends a probe over every transport until each is seen in probe.log (the corpus configs route
/// messages containing "oxprobe-" there and nowhere else).
fn probe(side: &mut Side) -> Result<(), String> {
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let probe_msg = |t: Transport| {
        format!(
            "<13>Jan  1 00:00:00 probehost probe: oxprobe-{} ready",
            t.letter()
        )
        .into_bytes()
    };
    let mut tcp_sent = false;
    let mut x_sent = false;
    let mut last_udp = Instant::now() - Duration::from_secs(1);
    let ok = wait_until(START_TIMEOUT, || {
        if let Some(st) = side.daemon.exited() {
            return Err(side.fail(&format!("exited ({st}) while being probed")));
        }
        if last_udp.elapsed() > Duration::from_millis(300) {
            let _ = udp.send_to(&probe_msg(Transport::Udp), ("127.0.0.1", side.udp_port));
            last_udp = Instant::now();
        }
        if !tcp_sent {
            send_tcp(side, &[probe_msg(Transport::TcpLf)], false)?;
            send_tcp(side, &[probe_msg(Transport::TcpOctet)], true)?;
            tcp_sent = true;
        }
        if !x_sent {
            send_logger(side, &[b"oxprobe-x ready".to_vec()])?;
            x_sent = true;
        }
        let log = side.read("probe.log");
        Ok(TRANSPORTS
            .iter()
            .all(|t| contains(&log, format!("oxprobe-{}", t.letter()).as_bytes())))
    })?;
    if !ok {
        let log = String::from_utf8_lossy(&side.read("probe.log")).into_owned();
        return Err(side.fail(&format!(
            "probes did not all arrive within {START_TIMEOUT:?} (UDP port {}, TCP port {}); probe.log:\n{log}",
            side.udp_port, side.tcp_port
        )));
    }
    Ok(())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// =============================================================================================
// Senders (Rust std sockets and util-linux logger)
// =============================================================================================

fn send_tcp(side: &Side, msgs: &[Vec<u8>], octet_counted: bool) -> Result<(), String> {
    let mut s = common::connect(side.tcp_port);
    let mut buf = Vec::new();
    for m in msgs {
        if octet_counted {
            buf.extend_from_slice(format!("{} ", m.len()).as_bytes());
            buf.extend_from_slice(m);
        } else {
            buf.extend_from_slice(m);
            buf.push(b'\n');
        }
    }
    s.write_all(&buf)
        .and_then(|_| s.flush())
        .map_err(|e| side.fail(&format!("TCP write: {e}")))?;
    let _ = s.shutdown(Shutdown::Write);
    // Wait for the daemon to close its side (it does once it has read everything) so that the
    // next phase cannot overtake this one; a daemon that keeps it open is fine too.
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 256];
    let _ = s.read(&mut sink);
    Ok(())
}

/// `logger -u SOCKET`: messages without LF go as stdin lines with `--prio-prefix` (one logger
/// for all of them), messages with LF one by one as an argument (default priority user.notice).
fn send_logger(side: &Side, msgs: &[Vec<u8>]) -> Result<(), String> {
    let (lines, args): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
        msgs.iter().partition(|m| !m.contains(&b'\n'));
    if !lines.is_empty() {
        let mut child = Command::new(LOGGER)
            .arg("-u")
            .arg(&side.sock)
            .args(["--prio-prefix", "-S", LOGGER_SIZE])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {LOGGER}: {e}"))?;
        {
            let mut stdin = child.stdin.take().unwrap();
            let mut buf = Vec::new();
            for l in &lines {
                buf.extend_from_slice(l);
                buf.push(b'\n');
            }
            stdin
                .write_all(&buf)
                .map_err(|e| side.fail(&format!("writing to logger: {e}")))?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(side.fail(&format!(
                "logger failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
    }
    for m in args {
        run_logger(side, &[], m)?;
    }
    Ok(())
}

fn run_logger(side: &Side, options: &[&str], msg: &[u8]) -> Result<(), String> {
    let out = Command::new(LOGGER)
        .arg("-u")
        .arg(&side.sock)
        .args(["-S", LOGGER_SIZE])
        .args(options)
        .arg("--")
        .arg(OsStr::from_bytes(msg))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {LOGGER}: {e}"))?;
    if !out.status.success() {
        return Err(side.fail(&format!(
            "logger {options:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

// =============================================================================================
// The normaliser
// =============================================================================================

/// The reception clock during a run, `[from, to]` in Unix seconds (with a margin).
///
/// [`ClockWindow::normalise`] is the ONE normaliser. It replaces, by `<reception-time>`, a
/// rendering of a time inside this window — and nothing else. Such a value can only come from
/// one of the clock-dependent fields in [`CLOCK_FIELDS`]: the corpus carries no timestamp
/// within years of today, so a message's own timestamp is never inside the window.
#[derive(Clone, Copy, Debug)]
struct ClockWindow {
    from: i64,
    to: i64,
}

/// The exact list of fields the normaliser masks.
const CLOCK_FIELDS: [&str; 3] = [
    "timegenerated (alias timereceived): when the daemon received the message",
    "timereported of imuxsock messages (imuxsock ignores the sender's timestamp by default and uses the reception time); \
     rawmsg of imuxsock messages, whose header carries logger's send time or the kernel's reception time",
    "timereported of messages without a usable timestamp: rsyslog substitutes the reception time",
];

/// The renderings the normaliser recognises (rsyslog's formatters for a time value): RFC 3339
/// with optional fraction and offset, RFC 3164 (`Mmm dd HH:MM:SS`, day space- or zero-padded),
/// PgSQL (`YYYY-MM-DD HH:MM:SS`), MySQL (`YYYYMMDDHHMMSS`) and Unix seconds (10 digits); each
/// in local time or UTC. Date *components* (`date-year`, `date-minute` …) cannot be recognised
/// and so are printed only for messages with a timestamp of their own (configs filter on
/// `$timereported != $timegenerated`).
const MASK: &[u8] = b"<reception-time>";

type Civil = (i64, u32, u32, u32, u32, u32);

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn epoch_of(c: Civil) -> i64 {
    days_from_civil(c.0, c.1, c.2) * 86400 + c.3 as i64 * 3600 + c.4 as i64 * 60 + c.5 as i64
}

fn civil_utc(t: i64) -> Civil {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

fn civil_local(t: i64) -> Civil {
    let tt: nix::libc::time_t = t as nix::libc::time_t;
    // SAFETY: localtime_r writes into the provided struct only.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe { nix::libc::localtime_r(&tt, &mut tm) };
    assert!(!r.is_null(), "localtime_r failed");
    (
        tm.tm_year as i64 + 1900,
        tm.tm_mon as u32 + 1,
        tm.tm_mday as u32,
        tm.tm_hour as u32,
        tm.tm_min as u32,
        tm.tm_sec as u32,
    )
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn num(b: &[u8]) -> i64 {
    std::str::from_utf8(b).unwrap().parse().unwrap()
}

impl ClockWindow {
    fn around(from: i64, to: i64) -> ClockWindow {
        ClockWindow {
            from: from - 2,
            to: to + 2,
        }
    }

    /// Civil times of every second in the window, local and UTC.
    fn civil_set(&self) -> HashSet<Civil> {
        let mut set = HashSet::new();
        for t in self.from..=self.to {
            set.insert(civil_local(t));
            set.insert(civil_utc(t));
        }
        set
    }

    fn in_window(&self, t: i64) -> bool {
        self.from <= t && t <= self.to
    }

    /// The normaliser: see [`ClockWindow`] and [`CLOCK_FIELDS`].
    fn normalise(&self, data: &[u8]) -> Vec<u8> {
        static RES: OnceLock<[Regex; 3]> = OnceLock::new();
        let [rfc3339, pgsql, rfc3164] = RES.get_or_init(|| {
            [
                Regex::new(
                    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|([+-])([0-9]{2}):([0-9]{2}))",
                )
                .unwrap(),
                Regex::new(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})").unwrap(),
                Regex::new(
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 0-3][0-9]) ([0-9]{2}):([0-9]{2}):([0-9]{2})",
                )
                .unwrap(),
            ]
        });
        let civil = self.civil_set();
        let civil_noyear: HashSet<(u32, u32, u32, u32, u32)> =
            civil.iter().map(|c| (c.1, c.2, c.3, c.4, c.5)).collect();
        let c6 = |c: &regex::bytes::Captures| -> Civil {
            (
                num(&c[1]),
                num(&c[2]) as u32,
                num(&c[3]) as u32,
                num(&c[4]) as u32,
                num(&c[5]) as u32,
                num(&c[6]) as u32,
            )
        };
        let data = rfc3339.replace_all(data, |c: &regex::bytes::Captures| {
            let mut t = epoch_of(c6(c));
            if c.get(9).is_some() {
                let off = num(&c[10]) * 3600 + num(&c[11]) * 60;
                t -= if &c[9] == b"+" { off } else { -off };
            }
            if self.in_window(t) {
                MASK.to_vec()
            } else {
                c[0].to_vec()
            }
        });
        let data = pgsql.replace_all(&data, |c: &regex::bytes::Captures| {
            if civil.contains(&c6(c)) {
                MASK.to_vec()
            } else {
                c[0].to_vec()
            }
        });
        let data = rfc3164.replace_all(&data, |c: &regex::bytes::Captures| {
            let mon = MONTHS.iter().position(|m| m.as_bytes() == &c[1]).unwrap() as u32 + 1;
            let day = num(c[2].trim_ascii()) as u32;
            let key = (
                mon,
                day,
                num(&c[3]) as u32,
                num(&c[4]) as u32,
                num(&c[5]) as u32,
            );
            if civil_noyear.contains(&key) {
                MASK.to_vec()
            } else {
                c[0].to_vec()
            }
        });
        // Digit runs: exactly 14 (MySQL) or 10 (Unix seconds) digits.
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            if !data[i].is_ascii_digit() {
                out.push(data[i]);
                i += 1;
                continue;
            }
            let start = i;
            while i < data.len() && data[i].is_ascii_digit() {
                i += 1;
            }
            let run = &data[start..i];
            let masked = match run.len() {
                14 => civil.contains(&(
                    num(&run[0..4]),
                    num(&run[4..6]) as u32,
                    num(&run[6..8]) as u32,
                    num(&run[8..10]) as u32,
                    num(&run[10..12]) as u32,
                    num(&run[12..14]) as u32,
                )),
                10 => self.in_window(num(run)),
                _ => false,
            };
            out.extend_from_slice(if masked { MASK } else { run });
        }
        out
    }
}

// =============================================================================================
// The comparator and the expectations
// =============================================================================================

/// What was sent in a run: the marker, its transport and the PRI the daemon will see.
#[derive(Clone, Debug)]
struct Sent {
    marker: String,
    transport: Transport,
    pri: Option<u8>,
    in_msg: bool,
}

/// Every marker (`ox[md]-NNNN[ulox]`) in `data`; with `case_insensitive` also upper-case
/// ones, returned in lower case.
fn marker_set(data: &[u8], case_insensitive: bool) -> HashSet<String> {
    let mut set = HashSet::new();
    let norm = |c: u8| {
        if case_insensitive {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let mut i = 0;
    while i + 9 <= data.len() {
        if norm(data[i]) != b'o' {
            i += 1;
            continue;
        }
        let m = &data[i..i + 9];
        if norm(m[1]) == b'x'
            && matches!(norm(m[2]), b'm' | b'd')
            && m[3] == b'-'
            && m[4..8].iter().all(u8::is_ascii_digit)
            && matches!(norm(m[8]), b'u' | b'l' | b'o' | b'x')
        {
            set.insert(m.iter().map(|&c| norm(c) as char).collect());
            i += 9;
        } else {
            i += 1;
        }
    }
    set
}

/// The markers a check requires and the ones it forbids.
fn expected_markers(rule: &Rule, sent: &[Sent]) -> (Vec<String>, Vec<String>) {
    let mut need = Vec::new();
    let mut forbid = Vec::new();
    for s in sent {
        let want = match rule {
            Rule::Raw => Some(true),
            Rule::All | Rule::AllCi => s.in_msg.then_some(true),
            Rule::Nonempty => None,
            Rule::Transports(set) => s.in_msg.then_some(set.contains(&s.transport)),
            Rule::Pri(p) => s.pri.filter(|_| s.in_msg).map(|pri| p.matches(pri)),
        };
        match want {
            Some(true) => need.push(s.marker.clone()),
            Some(false) => forbid.push(s.marker.clone()),
            None => {}
        }
    }
    (need, forbid)
}

/// `oxm-0042u` → `oxm-0042u (corpus/cisco-ios.txt:12, imudp)`: where a marker comes from.
fn with_origins(markers: &[String]) -> Vec<String> {
    markers
        .iter()
        .map(|m| {
            let id: usize = m.get(4..8).and_then(|d| d.parse().ok()).unwrap_or(0);
            let t = m.chars().nth(8).and_then(Transport::from_letter);
            let origin = match &m[..3.min(m.len())] {
                "oxm" => load_corpus()
                    .get(id.wrapping_sub(1))
                    .map(|x| x.origin.clone()),
                "oxd" => load_debian_messages()
                    .get(id.wrapping_sub(1))
                    .map(|x| x.origin.clone()),
                _ => None,
            };
            match (origin, t) {
                (Some(o), Some(t)) => format!("{m} ({o}, {})", t.describe()),
                _ => m.clone(),
            }
        })
        .collect()
}

fn show(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        s.extend(std::ascii::escape_default(c).map(char::from));
    }
    if b.len() > max {
        let _ = write!(s, "… ({} bytes)", b.len());
    }
    s
}

fn list(v: &[String], max: usize) -> String {
    let mut s = v.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if v.len() > max {
        let _ = write!(s, " … ({} in all)", v.len());
    }
    s
}

/// A readable description of how two (normalised) files differ: the first differing lines.
fn describe_diff(name: &str, a_label: &str, a: &[u8], b_label: &str, b: &[u8]) -> String {
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let n = la.len().max(lb.len());
    let differing: Vec<usize> = (0..n).filter(|&i| la.get(i) != lb.get(i)).collect();
    let first_byte = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let mut s = format!(
        "{name}: differs ({} vs {} bytes, {} vs {} lines, {} differing lines, first difference at byte {first_byte})",
        a.len(),
        b.len(),
        la.len(),
        lb.len(),
        differing.len()
    );
    for &i in differing.iter().take(3) {
        let _ = write!(
            s,
            "\n  line {}:\n    {a_label}: {}\n    {b_label}: {}",
            i + 1,
            la.get(i).map_or("<none>".into(), |l| show(l, 400)),
            lb.get(i).map_or("<none>".into(), |l| show(l, 400)),
        );
    }
    s
}

/// `normalise(a) == normalise(b)`, computed line by line and only for lines that differ (no
/// rendering the normaliser recognises spans a line end, so this is the same, only faster).
fn equal_normalised(window: ClockWindow, a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    if la.len() != lb.len() {
        return window.normalise(a) == window.normalise(b);
    }
    la.iter()
        .zip(&lb)
        .all(|(x, y)| x == y || window.normalise(x) == window.normalise(y))
}

/// An output tree: relative path → (content, mode).
type Tree = BTreeMap<String, (Vec<u8>, u32)>;

fn read_tree(dir: &Path) -> Tree {
    let mut t = Tree::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(meta) = fs::metadata(&p) {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                t.insert(
                    rel,
                    (fs::read(&p).unwrap_or_default(), meta.mode() & 0o7777),
                );
            }
        }
    }
    t
}

/// Compares the output trees of the two sides (paths relative to their `out/`) and checks the
/// expectations on each. Returns every failure found.
fn compare(
    checks: &[Check],
    sent: &[Sent],
    window: ClockWindow,
    (a_label, a): (&str, &Tree),
    (b_label, b): (&str, &Tree),
) -> Vec<String> {
    let mut failures = Vec::new();
    for c in checks {
        let rel = c.file.strip_prefix("out/").unwrap_or(&c.file);
        for (label, tree) in [(a_label, a), (b_label, b)] {
            match tree.get(rel) {
                None => failures.push(format!("{}: missing in {label}'s output", c.file)),
                Some((data, _)) if data.is_empty() => {
                    failures.push(format!("{}: empty in {label}'s output", c.file))
                }
                Some((data, _)) => {
                    let (need, forbid) = expected_markers(&c.rule, sent);
                    let found = marker_set(data, c.rule == Rule::AllCi);
                    let missing: Vec<String> =
                        need.into_iter().filter(|m| !found.contains(m)).collect();
                    let extra: Vec<String> =
                        forbid.into_iter().filter(|m| found.contains(m)).collect();
                    if !missing.is_empty() {
                        failures.push(format!(
                            "{}: {label}'s output lacks {} corpus message(s) that should be there ({:?}): {}",
                            c.file,
                            missing.len(),
                            c.rule,
                            list(&with_origins(&missing), 12)
                        ));
                    }
                    if !extra.is_empty() {
                        failures.push(format!(
                            "{}: {label}'s output has {} message(s) its filter should keep out ({:?}): {}",
                            c.file,
                            extra.len(),
                            c.rule,
                            list(&with_origins(&extra), 12)
                        ));
                    }
                }
            }
        }
    }
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for name in names {
        match (a.get(name), b.get(name)) {
            (Some(_), None) => failures.push(format!("out/{name}: only {a_label} wrote it")),
            (None, Some(_)) => failures.push(format!("out/{name}: only {b_label} wrote it")),
            (Some((da, ma)), Some((db, mb))) => {
                if ma != mb {
                    failures.push(format!(
                        "out/{name}: file mode {ma:o} ({a_label}) vs {mb:o} ({b_label})"
                    ));
                }
                if !equal_normalised(window, da, db) {
                    let na = window.normalise(da);
                    let nb = window.normalise(db);
                    failures.push(describe_diff(
                        &format!("out/{name}"),
                        a_label,
                        &na,
                        b_label,
                        &nb,
                    ));
                }
            }
            (None, None) => unreachable!(),
        }
    }
    failures
}

// =============================================================================================
// A run
// =============================================================================================

/// A green run's outputs (relative to out/), for further checks.
struct Outcome {
    a: Tree,
    b: Tree,
    window: ClockWindow,
    checks: Vec<Check>,
    sent: Vec<Sent>,
}

struct Run {
    dir: PathBuf,
    sides: Vec<Side>,
    sent: Vec<Sent>,
    clock_from: i64,
}

impl Run {
    fn new(config: &str) -> Run {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "oxsyslog-compat-{config}-{}-{nanos:x}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("create run dir");
        Run {
            dir,
            sides: Vec::new(),
            sent: Vec::new(),
            clock_from: now_secs(),
        }
    }

    fn side_labels(second: Second) -> [(&'static str, &'static str, &'static str); 2] {
        [
            ("rsyslogd", RSYSLOGD, "a"),
            (second.label(), second.binary(), "b"),
        ]
    }

    /// Waits until every side's `file` holds all `markers`.
    fn wait_markers(&mut self, file: &str, markers: &[String], what: &str) -> Result<(), String> {
        for side in &mut self.sides {
            let mut missing = Vec::new();
            // Scan only what was appended since the last look (from a little before it, so a
            // marker cut by a partial write is seen whole next time).
            let mut found = HashSet::new();
            let mut offset = 0usize;
            let path = side.dir.join(file);
            let ok = wait_until(DELIVERY_TIMEOUT, || {
                if let Some(st) = side.daemon.exited() {
                    return Err(side.fail(&format!("exited ({st}) while receiving {what}")));
                }
                if let Ok(mut f) = fs::File::open(&path) {
                    use std::io::Seek;
                    let mut buf = Vec::new();
                    let from = offset.saturating_sub(16);
                    if f.seek(std::io::SeekFrom::Start(from as u64)).is_ok()
                        && f.read_to_end(&mut buf).is_ok()
                    {
                        found.extend(marker_set(&buf, false));
                        offset = from + buf.len();
                    }
                }
                missing = markers
                    .iter()
                    .filter(|m| !found.contains(*m))
                    .cloned()
                    .collect();
                Ok(missing.is_empty())
            })?;
            if !ok {
                return Err(side.fail(&format!(
                    "{} of {} {what} did not reach {file} within {DELIVERY_TIMEOUT:?} (dropped or lost): {}",
                    missing.len(),
                    markers.len(),
                    list(&with_origins(&missing), 20)
                )));
            }
        }
        Ok(())
    }

    /// Waits until no output file of any side has changed for [`QUIET`].
    fn wait_quiet(&mut self) -> Result<(), String> {
        let snapshot = |sides: &[Side]| -> Vec<BTreeMap<String, u64>> {
            sides
                .iter()
                .map(|s| {
                    let mut m = BTreeMap::new();
                    for e in fs::read_dir(s.out()).into_iter().flatten().flatten() {
                        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                        m.insert(e.file_name().to_string_lossy().into_owned(), len);
                    }
                    m
                })
                .collect()
        };
        let start = Instant::now();
        let mut last = snapshot(&self.sides);
        let mut since = Instant::now();
        while since.elapsed() < QUIET {
            if start.elapsed() > DELIVERY_TIMEOUT {
                return Err(format!("outputs still growing after {DELIVERY_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
            let now = snapshot(&self.sides);
            if now != last {
                last = now;
                since = Instant::now();
            }
        }
        Ok(())
    }

    /// Stops every daemon (SIGTERM) and compares. Keeps the run directory on failure.
    fn finish(mut self, checks: &[Check]) -> Result<Outcome, String> {
        self.wait_quiet()?;
        let mut errors = Vec::new();
        for side in &mut self.sides {
            if let Err(e) = side.daemon.stop(STOP_TIMEOUT) {
                errors.push(e);
            }
        }
        let window = ClockWindow::around(self.clock_from, now_secs());
        let a = read_tree(&self.sides[0].out());
        let b = read_tree(&self.sides[1].out());
        errors.extend(compare(
            checks,
            &self.sent,
            window,
            (&self.sides[0].label, &a),
            (&self.sides[1].label, &b),
        ));
        if errors.is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
            Ok(Outcome {
                a,
                b,
                window,
                checks: checks.to_vec(),
                sent: std::mem::take(&mut self.sent),
            })
        } else {
            Err(format!(
                "{} failure(s); outputs kept in {}\n\n{}",
                errors.len(),
                self.dir.display(),
                errors.join("\n\n")
            ))
        }
    }
}

/// Runs one corpus config: both daemons, the whole corpus over every transport it fits,
/// transport by transport (each phase waits until both daemons have written every message, so
/// the order of messages in the outputs is defined), then compares.
/// Runs `f` again if it failed and the local year changed while it ran: rsyslog takes the year
/// of an RFC 3164 timestamp from the reception clock, so only a run across New Year can see the
/// two daemons infer different years (the normaliser deliberately does not mask the year).
fn across_new_year(f: impl Fn() -> Result<Outcome, String>) -> Result<Outcome, String> {
    let year = || civil_local(now_secs()).0;
    let before = year();
    let r = f();
    if r.is_err() && year() != before {
        eprintln!("the year changed during the run: running it again");
        return f();
    }
    r
}

fn run_corpus(config: &str, second: Second) -> Result<Outcome, String> {
    across_new_year(|| run_corpus_once(config, second))
}

fn run_corpus_once(config: &str, second: Second) -> Result<Outcome, String> {
    require_tools();
    let spec = load_config(config);
    let mut run = Run::new(config);
    let dir = run.dir.clone();
    match corpus_phases(&mut run, &spec, second) {
        Ok(()) => run.finish(&spec.checks),
        Err(e) => {
            drop(run);
            Err(format!("{e}\n(run directory kept: {})", dir.display()))
        }
    }
}

fn corpus_phases(run: &mut Run, spec: &ConfigSpec, second: Second) -> Result<(), String> {
    let corpus = load_corpus();
    for (label, bin, sub) in Run::side_labels(second) {
        // A second attempt (fresh directory, new UDP port) covers the one race the harness
        // has: another process taking the UDP port between our probe bind and the daemon's.
        let first = start_side(label, bin, &run.dir.join(sub), spec, "log.sock", true)
            .and_then(|mut side| probe(&mut side).map(|()| side));
        let side = match first {
            Ok(side) => side,
            Err(e) => {
                eprintln!("{label} did not come up, trying once more:\n{e}");
                let mut side = start_side(
                    label,
                    bin,
                    &run.dir.join(format!("{sub}2")),
                    spec,
                    "log.sock",
                    true,
                )?;
                probe(&mut side)?;
                side
            }
        };
        run.sides.push(side);
    }
    // The file that shows progress: one that must hold every message (rawmsg.log if there is
    // one: the smallest).
    let progress = spec
        .checks
        .iter()
        .filter(|c| c.rule == Rule::Raw)
        .min_by_key(|c| !c.file.contains("rawmsg"))
        .map(|c| c.file.clone())
        .ok_or(format!("{}.conf has no 'raw' file", spec.name))?;
    run.clock_from = now_secs();
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP sender");
    for t in TRANSPORTS {
        let phase = Instant::now();
        let msgs: Vec<&Message> = corpus
            .iter()
            .filter(|m| m.transports().contains(&t))
            .collect();
        let bytes: Vec<Vec<u8>> = msgs.iter().map(|m| m.bytes(t)).collect();
        match t {
            Transport::Udp => {
                // One socket for both daemons (same source port). Flow control, so that no
                // receive buffer overflows however slow a daemon is: small batches (at most
                // 40 datagrams or 48 KiB), each sent only after both daemons have written the
                // previous one; a short pause between datagrams on top.
                let mut batch: Vec<String> = Vec::new();
                let mut batch_bytes = 0;
                for (i, b) in bytes.iter().enumerate() {
                    if !batch.is_empty() && (batch.len() >= 40 || batch_bytes + b.len() > 48 * 1024)
                    {
                        run.wait_markers(&progress, &batch, "UDP batch")?;
                        batch.clear();
                        batch_bytes = 0;
                    }
                    for side in &run.sides {
                        udp.send_to(b, ("127.0.0.1", side.udp_port))
                            .map_err(|e| format!("UDP send of {}: {e}", msgs[i].origin))?;
                    }
                    batch.push(msgs[i].marker(t));
                    batch_bytes += b.len();
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
            Transport::TcpLf | Transport::TcpOctet => {
                for side in &run.sides {
                    send_tcp(side, &bytes, t == Transport::TcpOctet)?;
                }
            }
            Transport::Uxsock => {
                for side in &run.sides {
                    send_logger(side, &bytes)?;
                }
            }
        }
        let markers: Vec<String> = msgs.iter().map(|m| m.marker(t)).collect();
        run.sent.extend(msgs.iter().zip(&bytes).map(|(m, b)| Sent {
            marker: m.marker(t),
            transport: t,
            pri: predict_pri(b, t),
            in_msg: m.in_msg,
        }));
        run.wait_markers(
            &progress,
            &markers,
            &format!("messages sent over {}", t.describe()),
        )?;
        eprintln!(
            "  {}: {} messages over {} in {:.1} s",
            spec.name,
            markers.len(),
            t.describe(),
            phase.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

// =============================================================================================
// The Debian default config
// =============================================================================================

/// One line of debian-logger.txt: `LOGGER-OPTIONS :: MESSAGE`, or `raw :: MESSAGE` for a raw
/// datagram written to the socket (logger cannot send facility kern).
#[derive(Clone, Debug)]
struct DebianMsg {
    origin: String,
    options: Option<Vec<String>>,
    bytes: Vec<u8>,
    marker: String,
    pri: Option<u8>,
}

const FACILITIES: [(&str, u8); 21] = [
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("security", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];
const SEVERITIES: [(&str, u8); 11] = [
    ("emerg", 0),
    ("panic", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("error", 3),
    ("warning", 4),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

/// The PRI logger sends for `-p FACILITY.LEVEL` (default user.notice; kern becomes user).
fn logger_pri(options: &[String]) -> u8 {
    let mut pri = 13u8;
    let mut it = options.iter();
    while let Some(o) = it.next() {
        let spec = if o == "-p" || o == "--priority" {
            it.next().cloned()
        } else {
            o.strip_prefix("--priority=").map(str::to_string)
        };
        if let Some(spec) = spec {
            let (f, s) = spec.split_once('.').unwrap_or(("user", spec.as_str()));
            let fac = FACILITIES
                .iter()
                .find(|x| x.0 == f)
                .unwrap_or_else(|| panic!("unknown facility {f}"))
                .1;
            let sev = SEVERITIES
                .iter()
                .find(|x| x.0 == s)
                .unwrap_or_else(|| panic!("unknown severity {s}"))
                .1;
            pri = ((if fac == 0 { 1 } else { fac }) << 3) | sev;
        }
    }
    pri
}

fn load_debian_messages() -> Vec<DebianMsg> {
    let path = messages_dir().join("debian-logger.txt");
    let mut v = Vec::new();
    for (n, line) in read_lines(&path) {
        let origin = format!("debian-logger.txt:{n}");
        let (opts, msg) = line
            .strip_prefix(":: ")
            .map(|m| ("", m))
            .or_else(|| line.split_once(" :: "))
            .unwrap_or_else(|| panic!("{origin}: OPTIONS :: MESSAGE"));
        let marker = format!("oxd-{:04}x", v.len() + 1);
        let (head, tail) = decode_line(msg).unwrap_or_else(|e| panic!("{origin}: {e}"));
        let mut bytes = head;
        bytes.extend_from_slice(marker.as_bytes());
        bytes.extend_from_slice(&tail);
        let (options, pri) = if opts.trim() == "raw" {
            (None, leading_pri(&bytes))
        } else {
            let o: Vec<String> = opts.split_whitespace().map(str::to_string).collect();
            let p = logger_pri(&o);
            (Some(o), Some(p))
        };
        assert!(
            pri.is_some_and(|p| p & 7 != 0),
            "{origin}: no emerg messages: Debian's '*.emerg :omusrmsg:*' would write to every terminal"
        );
        v.push(DebianMsg {
            origin,
            options,
            bytes,
            marker,
            pri,
        });
    }
    v
}

fn run_debian(second: Second) -> Result<Outcome, String> {
    across_new_year(|| run_debian_once(second))
}

fn run_debian_once(second: Second) -> Result<Outcome, String> {
    require_tools();
    let spec = load_config(DEBIAN_CONFIG);
    let mut run = Run::new(DEBIAN_CONFIG);
    let dir = run.dir.clone();
    match debian_phases(&mut run, &spec, second) {
        Ok(()) => run.finish(&spec.checks),
        Err(e) => {
            drop(run);
            Err(format!("{e}\n(run directory kept: {})", dir.display()))
        }
    }
}

fn debian_phases(run: &mut Run, spec: &ConfigSpec, second: Second) -> Result<(), String> {
    let msgs = load_debian_messages();
    for (label, bin, sub) in Run::side_labels(second) {
        let side = start_side(label, bin, &run.dir.join(sub), spec, "dev-log", false)?;
        run.sides.push(side);
    }
    run.clock_from = now_secs();
    for m in &msgs {
        for side in &run.sides {
            match &m.options {
                Some(o) => {
                    let o: Vec<&str> = o.iter().map(String::as_str).collect();
                    run_logger(side, &o, &m.bytes)?;
                }
                None => {
                    let s = UnixDatagram::unbound().expect("unix datagram socket");
                    s.send_to(&m.bytes, &side.sock)
                        .map_err(|e| side.fail(&format!("{}: raw datagram: {e}", m.origin)))?;
                }
            }
        }
        run.sent.push(Sent {
            marker: m.marker.clone(),
            transport: Transport::Uxsock,
            pri: m.pri,
            in_msg: true,
        });
    }
    // Wait until each file has what the selectors route to it.
    for c in &spec.checks {
        let (need, _) = expected_markers(&c.rule, &run.sent);
        run.wait_markers(&c.file, &need, "logger messages")?;
    }
    Ok(())
}

fn assert_ok<T>(what: &str, r: Result<T, String>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}:\n{e}"),
    }
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let v = f();
    eprintln!("{what}: {:.1} s", start.elapsed().as_secs_f64());
    v
}

// =============================================================================================
// Always-on tests: corpus and configs
// =============================================================================================

#[test]
fn corpus_manifest_matches_corpus() {
    let rows = load_manifest();
    let corpus = load_corpus();
    let mut failures = Vec::new();
    let mut per_cat: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &corpus {
        *per_cat.entry(&m.category).or_default() += 1;
    }
    for r in &rows {
        let n = per_cat.get(r.category.as_str()).copied().unwrap_or(0);
        if n != r.count {
            failures.push(format!(
                "manifest says {} messages in {}, the file has {n}",
                r.count, r.category
            ));
        }
    }
    let listed: BTreeSet<String> = rows.iter().map(|r| format!("{}.txt", r.category)).collect();
    for e in fs::read_dir(messages_dir().join("corpus"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if !listed.contains(&name) {
            failures.push(format!("corpus/{name} is not in manifest.txt"));
        }
    }
    if corpus.len() < 500 {
        failures.push(format!("need at least 500 messages, have {}", corpus.len()));
    }
    let families = rows.iter().filter(|r| r.kind == "rfc3164-device").count();
    if families < 10 {
        failures.push(format!(
            "need at least 10 RFC 3164 device families, have {families}"
        ));
    }
    for kind in [
        "rfc5424",
        "malformed-pri",
        "malformed-header",
        "malformed-timestamp",
        "control-chars",
        "non-utf8",
        "oversize",
    ] {
        if !rows.iter().any(|r| r.kind == kind) {
            failures.push(format!("no corpus category of kind {kind}"));
        }
    }
    let mut seen: BTreeMap<(Vec<u8>, Vec<u8>), &str> = BTreeMap::new();
    for m in &corpus {
        if let Some(first) = seen.insert((m.head.clone(), m.tail.clone()), &m.origin) {
            failures.push(format!("{} repeats {first}", m.origin));
        }
        if contains(&m.head, b"oxprobe") || contains(&m.tail, b"oxprobe") {
            failures.push(format!(
                "{}: 'oxprobe' is reserved for the harness",
                m.origin
            ));
        }
    }
    // Per-kind content checks, so the categories hold what they claim.
    let kind_of: BTreeMap<&str, &str> = rows
        .iter()
        .map(|r| (r.category.as_str(), r.kind.as_str()))
        .collect();
    for m in &corpus {
        let all: Vec<u8> = [m.head.as_slice(), m.tail.as_slice()].concat();
        let ok = match kind_of[m.category.as_str()] {
            "control-chars" => {
                all.iter().any(|&c| c < 0x20 || c == 0x7f)
                    || all
                        .windows(2)
                        .any(|w| w[0] == 0xc2 && (0x80..0xa0).contains(&w[1]))
            }
            "non-utf8" => std::str::from_utf8(&all).is_err(),
            "oversize" => m.len() > 8096,
            _ => true,
        };
        if !ok {
            failures.push(format!("{}: does not fit its category's kind", m.origin));
        }
    }
    // Newest year in a corpus timestamp must be well before today (see the normaliser).
    let this_year = civil_utc(now_secs()).0;
    let years = Regex::new(r"(19[7-9][0-9]|20[0-9][0-9])-[0-9][0-9]-[0-9][0-9]T").unwrap();
    for m in &corpus {
        for c in years.captures_iter(&[m.head.as_slice(), m.tail.as_slice()].concat()) {
            if num(&c[1]) >= this_year {
                failures.push(format!("{}: timestamp in the current year", m.origin));
            }
        }
    }
    let transports: BTreeMap<Transport, usize> = TRANSPORTS
        .into_iter()
        .map(|t| {
            (
                t,
                corpus
                    .iter()
                    .filter(|m| m.transports().contains(&t))
                    .count(),
            )
        })
        .collect();
    eprintln!(
        "corpus: {} messages in {} categories ({} RFC 3164 device families); per transport: {:?}",
        corpus.len(),
        rows.len(),
        families,
        transports
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn configs_declare_their_outputs_and_load_in_both_daemons() {
    require_tools();
    let dir = std::env::temp_dir().join(format!("oxsyslog-compat-n1-{}", std::process::id()));
    let mut failures = Vec::new();
    let mut templates = BTreeSet::new();
    // Template definitions (RainerScript and legacy) and built-ins used by name.
    let re = Regex::new(
        r#"(?m)template\(name="([^"]+)"|^\$template ([^,]+),|template="(RSYSLOG_[A-Za-z0-9]+)"|;(RSYSLOG_[A-Za-z0-9]+)"#,
    )
    .unwrap();
    for name in CORPUS_CONFIGS.iter().chain([&DEBIAN_CONFIG]) {
        let spec = load_config(name);
        let d = dir.join(name);
        for sub in ["out", "work", "rsyslog.d"] {
            fs::create_dir_all(d.join(sub)).unwrap();
        }
        let conf = d.join("rsyslog.conf");
        fs::write(&conf, render_config(&spec.template, &d, 10514)).unwrap();
        for bin in [RSYSLOGD, OX] {
            let out = Command::new(bin)
                .args(["-N1", "-f"])
                .arg(&conf)
                .current_dir(&d)
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{name}.conf: {bin} -N1 refuses it:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        for c in re.captures_iter(spec.template.as_bytes()) {
            let n = (1..=4).find_map(|i| c.get(i)).unwrap().as_bytes();
            if n != b"probe" {
                templates.insert(String::from_utf8_lossy(n).into_owned());
            }
        }
    }
    let _ = fs::remove_dir_all(&dir);
    for builtin in [
        "RSYSLOG_TraditionalFileFormat",
        "RSYSLOG_FileFormat",
        "RSYSLOG_TraditionalForwardFormat",
        "RSYSLOG_ForwardFormat",
        "RSYSLOG_SysklogdFileFormat",
        "RSYSLOG_SyslogProtocol23Format",
        "RSYSLOG_SyslogRFC5424Format",
        "RSYSLOG_DebugFormat",
    ] {
        if !templates.contains(builtin) {
            failures.push(format!("no config uses the built-in template {builtin}"));
        }
    }
    eprintln!("{} templates in the configs", templates.len());
    if templates.len() < 30 {
        failures.push(format!(
            "need at least 30 templates, have {}",
            templates.len()
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// =============================================================================================
// Always-on tests: the normaliser and the comparator without daemons
// =============================================================================================

#[test]
fn normaliser_masks_reception_times_only() {
    // 2026-11-23T18:12:42Z
    let t = epoch_of((2026, 11, 23, 18, 12, 42));
    let w = ClockWindow::around(t, t + 3);
    let l = civil_local(t);
    let local_3164 = format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[l.1 as usize - 1],
        l.2,
        l.3,
        l.4,
        l.5
    );
    let input = format!(
        "a 2026-11-23T18:12:43.123456+00:00 b 2026-11-23T19:12:44+01:00 c 2026-11-23T18:12:45Z \
         d 2026-11-23 18:12:44 e 20261123181243 f {t} g {local_3164} h Nov 23 18:12:44 \
         keep: 2026-11-23T18:13:42Z 2003-11-23T18:12:43Z Nov 23 18:22:44 20261123181343 {} 12345678901 \
         Nov 23 2026 18:12:44 2026-03-01T01:00:00+00:00\n",
        t + 600
    );
    let out = String::from_utf8(w.normalise(input.as_bytes())).unwrap();
    let expect = format!(
        "a <reception-time> b <reception-time> c <reception-time> \
         d <reception-time> e <reception-time> f <reception-time> g <reception-time> h <reception-time> \
         keep: 2026-11-23T18:13:42Z 2003-11-23T18:12:43Z Nov 23 18:22:44 20261123181343 {} 12345678901 \
         Nov 23 2026 18:12:44 2026-03-01T01:00:00+00:00\n",
        t + 600
    );
    assert_eq!(out, expect);
    assert_eq!(CLOCK_FIELDS.len(), 3);
    // UTC arithmetic round-trips.
    for t in [0i64, 951_782_400, 1_700_000_000, t, 4_102_444_800] {
        assert_eq!(epoch_of(civil_utc(t)), t);
    }
}

fn synthetic_trees() -> (Vec<Check>, Vec<Sent>, Tree, Tree, ClockWindow) {
    let t = epoch_of((2026, 11, 23, 18, 12, 42));
    let w = ClockWindow::around(t, t + 1);
    let checks = vec![
        Check {
            file: "out/all.log".into(),
            rule: Rule::All,
        },
        Check {
            file: "out/udp.log".into(),
            rule: Rule::Transports([Transport::Udp].into()),
        },
        Check {
            file: "out/mail.log".into(),
            rule: Rule::Pri(PriRule {
                fac_in: Some(vec![2]),
                ..Default::default()
            }),
        },
    ];
    let sent = vec![
        Sent {
            marker: "oxm-0001u".into(),
            transport: Transport::Udp,
            pri: Some(17),
            in_msg: true,
        },
        Sent {
            marker: "oxm-0001o".into(),
            transport: Transport::TcpOctet,
            pri: Some(13),
            in_msg: true,
        },
    ];
    let mk = |stamp: &str| -> Tree {
        let mut t = Tree::new();
        t.insert(
            "all.log".into(),
            (
                format!("{stamp} host tag: one oxm-0001u\n{stamp} host tag: two oxm-0001o\n")
                    .into_bytes(),
                0o640,
            ),
        );
        t.insert("udp.log".into(), (b"x oxm-0001u\n".to_vec(), 0o640));
        t.insert("mail.log".into(), (b"m oxm-0001u\n".to_vec(), 0o640));
        t
    };
    (
        checks,
        sent,
        mk("2026-11-23T18:12:42.100000+00:00"),
        mk("2026-11-23T18:12:43.900000+00:00"),
        w,
    )
}

#[test]
fn comparator_accepts_clock_differences_only() {
    let (checks, sent, a, b, w) = synthetic_trees();
    let f = compare(&checks, &sent, w, ("A", &a), ("B", &b));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn comparator_catches_every_kind_of_corruption() {
    let (checks, sent, a, b, w) = synthetic_trees();
    type Corrupt = fn(&mut Tree);
    let cases: [(&str, Corrupt, &str); 9] = [
        (
            "flipped byte",
            |t| t.get_mut("all.log").unwrap().0[40] ^= 0x20,
            "differs",
        ),
        (
            "missing file",
            |t| drop(t.remove("udp.log")),
            "missing in B",
        ),
        (
            "empty file",
            |t| t.get_mut("udp.log").unwrap().0.clear(),
            "empty in B",
        ),
        (
            "lost message",
            |t| {
                let d = &mut t.get_mut("all.log").unwrap().0;
                let cut = d.iter().position(|&c| c == b'\n').unwrap() + 1;
                d.drain(..cut);
            },
            "lacks 1 corpus message",
        ),
        (
            "filter leak",
            |t| {
                t.get_mut("udp.log")
                    .unwrap()
                    .0
                    .extend_from_slice(b"y oxm-0001o\n")
            },
            "should keep out",
        ),
        (
            "extra file",
            |t| drop(t.insert("new.log".into(), (b"z\n".to_vec(), 0o640))),
            "only B wrote it",
        ),
        (
            "mode",
            |t| t.get_mut("udp.log").unwrap().1 = 0o600,
            "file mode",
        ),
        (
            "timestamp outside the window",
            |t| {
                let d = &mut t.get_mut("all.log").unwrap().0;
                d[3] = b'5'; // 2026 -> 2056
            },
            "differs",
        ),
        (
            "trailing LF dropped",
            |t| {
                t.get_mut("mail.log").unwrap().0.pop();
            },
            "differs",
        ),
    ];
    for (what, corrupt, expect) in cases {
        let mut bad = b.clone();
        corrupt(&mut bad);
        let f = compare(&checks, &sent, w, ("A", &a), ("B", &bad));
        assert!(
            f.iter().any(|x| x.contains(expect)),
            "{what}: expected a failure containing '{expect}', got {f:#?}"
        );
    }
}

#[test]
fn pri_prediction_follows_logger_and_rsyslog() {
    assert_eq!(leading_pri(b"<13>x"), Some(13));
    assert_eq!(leading_pri(b"<191>x"), Some(191));
    assert_eq!(leading_pri(b"<192>x"), None);
    assert_eq!(leading_pri(b"<013>x"), None);
    assert_eq!(leading_pri(b"<>x"), None);
    assert_eq!(leading_pri(b"13>x"), None);
    assert_eq!(predict_pri(b"<0>kern", Transport::Uxsock), Some(8));
    assert_eq!(predict_pri(b"<0>kern", Transport::Udp), Some(0));
    assert_eq!(predict_pri(b"plain", Transport::Uxsock), None);
    assert_eq!(predict_pri(b"plain", Transport::Udp), None);
    assert_eq!(predict_pri(b"<99x>", Transport::Uxsock), None);
    assert_eq!(predict_pri(b"<34>a\nb", Transport::Uxsock), Some(13));
    assert_eq!(logger_pri(&["-p".into(), "kern.err".into()]), 11);
    assert_eq!(logger_pri(&["-p".into(), "local7.debug".into()]), 191);
    assert_eq!(logger_pri(&[]), 13);
}

// =============================================================================================
// Always-on differential tests: rsyslogd against rsyslogd (proves harness and corpus)
// =============================================================================================

/// After a green run, corrupts copies of the real outputs and checks the comparator notices.
fn self_check(o: &Outcome) {
    let check = o
        .checks
        .iter()
        .find(|c| !expected_markers(&c.rule, &o.sent).0.is_empty())
        .expect("a file that must hold markers");
    let rel = check.file.strip_prefix("out/").unwrap().to_string();
    let only = |t: &Tree| -> Tree {
        t.iter()
            .filter(|(k, _)| **k == rel)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (a, b) = (only(&o.a), only(&o.b));
    let checks = std::slice::from_ref(check);
    assert!(compare(checks, &o.sent, o.window, ("A", &a), ("B", &b)).is_empty());
    let mut bad = b.clone();
    let data = &mut bad.get_mut(&rel).unwrap().0;
    let mid = data.len() / 2;
    data[mid] = if data[mid] == b'#' { b'%' } else { b'#' };
    let f = compare(checks, &o.sent, o.window, ("A", &a), ("B", &bad));
    assert!(
        f.iter().any(|x| x.contains("differs")),
        "corrupted byte not noticed: {f:#?}"
    );
    let mut bad = b.clone();
    bad.get_mut(&rel).unwrap().0.truncate(mid);
    let f = compare(checks, &o.sent, o.window, ("A", &a), ("B", &bad));
    assert!(
        f.iter().any(|x| x.contains("lacks")),
        "lost messages not noticed: {f:#?}"
    );
}

fn corpus_rsyslogd_twice(config: &str) {
    let what = format!("corpus config '{config}', rsyslogd vs rsyslogd");
    let outcome = timed(&what, || {
        assert_ok(&what, run_corpus(config, Second::Rsyslogd))
    });
    self_check(&outcome);
}

#[test]
fn corpus_default_rsyslogd_vs_rsyslogd() {
    corpus_rsyslogd_twice("default");
}

#[test]
fn corpus_raw_rsyslogd_vs_rsyslogd() {
    corpus_rsyslogd_twice("raw");
}

#[test]
fn corpus_escaped_rsyslogd_vs_rsyslogd() {
    corpus_rsyslogd_twice("escaped");
}

#[test]
fn corpus_parser_options_rsyslogd_vs_rsyslogd() {
    corpus_rsyslogd_twice("parser-options");
}

#[test]
fn debian_default_rsyslogd_vs_rsyslogd() {
    let what = "Debian default config, rsyslogd vs rsyslogd";
    let outcome = timed(what, || assert_ok(what, run_debian(Second::Rsyslogd)));
    self_check(&outcome);
}

// =============================================================================================
// oxsyslogd against rsyslogd (OXSYSLOG_COMPAT_SECOND=rsyslogd runs rsyslogd on both sides)
// =============================================================================================

fn corpus_second(config: &str) {
    let second = Second::from_env();
    let what = format!("corpus config '{config}', rsyslogd vs {}", second.label());
    timed(&what, || assert_ok(&what, run_corpus(config, second)));
}

#[test]
fn corpus_default_oxsyslogd_vs_rsyslogd() {
    corpus_second("default");
}

#[test]
fn corpus_raw_oxsyslogd_vs_rsyslogd() {
    corpus_second("raw");
}

#[test]
fn corpus_escaped_oxsyslogd_vs_rsyslogd() {
    corpus_second("escaped");
}

#[test]
fn corpus_parser_options_oxsyslogd_vs_rsyslogd() {
    corpus_second("parser-options");
}

#[test]
fn debian_default_oxsyslogd_vs_rsyslogd() {
    let second = Second::from_env();
    let what = format!("Debian default config, rsyslogd vs {}", second.label());
    timed(&what, || assert_ok(&what, run_debian(second)));
}

// =============================================================================================
// The harness itself
// =============================================================================================

#[test]
fn harness_reports_a_daemon_that_does_not_come_up() {
    require_tools();
    let spec = ConfigSpec {
        name: "broken".into(),
        template: "global(abortOnUncleanConfig=\"on\")\n\
                   module(load=\"imtcp\")\n\
                   input(type=\"imtcp\" port=\"0\" listenPortFileName=\"@DIR@/tcp.port\" noSuchParameter=\"1\")\n"
            .into(),
        checks: Vec::new(),
    };
    let run = Run::new("broken");
    let r = start_side(
        "rsyslogd",
        RSYSLOGD,
        &run.dir.join("a"),
        &spec,
        "log.sock",
        true,
    );
    let err = match r {
        Ok(_) => panic!("a daemon that aborts on its config must not count as started"),
        Err(e) => e,
    };
    let _ = fs::remove_dir_all(&run.dir);
    assert!(err.contains("during startup"), "{err}");
    assert!(
        err.contains("nosuchparameter") || err.contains("noSuchParameter"),
        "the daemon's stderr must be in the message:\n{err}"
    );
}
