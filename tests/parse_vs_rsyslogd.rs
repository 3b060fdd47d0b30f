//! Differential test of the parsing layer: the real rsyslogd 8.2302 (imtcp on 127.0.0.1, an
//! omfile action with a template printing the parsed fields) and `oxsyslog::parse` on the same
//! messages must print the same fields, byte for byte.
//!
//! Messages are sent with octet-counted framing (RFC 6587), so that they may contain LF, NUL
//! or start with a digit; rsyslog's split of oversize frames (first maxMessageSize bytes, one
//! byte lost, the rest as a new message) is reproduced before feeding `push_message`. The
//! same messages also go through imuxsock (a datagram socket in the temp dir) with its
//! special parser. Timestamps are compared through `date-rfc3339`; a timereported equal to
//! timegenerated prints as `RCVD` on both sides (it is the reception clock).
//!
//! Each run is repeated with several configurations (pmrfc3164 options, parser.* globals),
//! whose `ParseOptions` come from oxsyslog's own config loader on the very config rsyslogd
//! runs.

mod common;

use oxsyslog::message::{Batch, Peer, Span, SyslogTime};
use oxsyslog::parse::{self, InputFlags, ParseOptions, Received};
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EOR: &[u8] = b"@@EOR@@\n";
const FIELDS: &str = "%pri%|%syslogfacility%|%syslogseverity%|%timereported:::date-rfc3339%|%timegenerated:::date-rfc3339%|%fromhost%|%hostname%|%syslogtag%|%programname%|%app-name%|%procid%|%msgid%|%structured-data%|%protocol-version%|%msg%|%rawmsg%|%rawmsg-after-pri%";

/// Kills rsyslogd when dropped (also on panic).
struct Daemon {
    child: Option<Child>,
}

impl Daemon {
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(c.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match c.try_wait() {
                    Ok(Some(_)) => return,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        let _ = c.kill();
                        let _ = c.wait();
                        return;
                    }
                }
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn require_rsyslogd() {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "rsyslog"])
        .output()
        .expect(
            "dpkg-query must run (the test needs Debian's rsyslog package: run scripts/test.sh)",
        );
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.starts_with("8.2302"),
        "rsyslog 8.2302 is required, found '{v}'"
    );
    assert!(Path::new("/usr/sbin/rsyslogd").exists());
}

/// One configuration variant: extra `global()` parameters and an optional pmrfc3164 parser
/// definition (`parser(...)` parameters) used by the inputs' ruleset.
struct Variant {
    name: &'static str,
    globals: &'static str,
    pm3164: Option<&'static str>,
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "defaults",
        globals: "",
        pm3164: None,
    },
    Variant {
        name: "pmrfc3164-permit-all",
        globals: "",
        pm3164: Some(
            r#"permit.squareBracketsInHostname="on" permit.slashesInHostname="on" permit.AtSignsInHostname="on" detect.YearAfterTimestamp="on""#,
        ),
    },
    Variant {
        name: "pmrfc3164-force-colon",
        globals: "",
        pm3164: Some(r#"force.tagEndingByColon="on" remove.msgFirstSpace="on""#),
    },
    Variant {
        name: "cstyle-8bit-slash",
        globals: r#"parser.escape8BitCharactersOnReceive="on" parser.escapeControlCharactersCStyle="on" parser.permitSlashInProgramName="on""#,
        pm3164: None,
    },
    Variant {
        name: "spacelf-notab-keeplf-prefix-small",
        globals: r#"parser.spaceLFOnReceive="on" parser.escapeControlCharacterTab="off" parser.dropTrailingLFOnReception="off" parser.controlCharacterEscapePrefix="~" maxMessageSize="300""#,
        pm3164: None,
    },
    // parser.parseHostnameAndTag has no effect in 8.2302 (global() is applied after the parser
    // instances are created), with or without a parser() object after it
    Variant {
        name: "noescape-nohostnametag",
        globals: r#"parser.escapeControlCharactersOnReceive="off" parser.parseHostnameAndTag="off""#,
        pm3164: None,
    },
    Variant {
        name: "nohostnametag-with-parser-object",
        globals: r#"parser.parseHostnameAndTag="off""#,
        pm3164: Some(r#"remove.msgFirstSpace="on""#),
    },
];

/// imuxsock inputs for which rsyslog reads past the received datagram (uninitialised
/// memory), so that its output is not reproducible: shorter than 5 bytes (rawmsg-after-pri
/// looks at bytes 2..4, the tag loop runs on), or a year-first timestamp that ends the
/// datagram (the check for the SP after it reads the next byte).
fn uxsock_undefined(raw: &[u8]) -> bool {
    raw.len() < 5 || raw.ends_with(b"2024 Jan 15 10:02:01")
}

fn config(dir: &Path, v: &Variant) -> String {
    let d = dir.display();
    let (parser_def, rs_parser) = match v.pm3164 {
        Some(p) => (
            format!("parser(name=\"custom3164\" type=\"pmrfc3164\" {p})\n"),
            " parser=[\"rsyslog.rfc5424\", \"custom3164\"]",
        ),
        None => (String::new(), ""),
    };
    format!(
        r#"global(workDirectory="{d}" {g})
main_queue(queue.workerThreads="1")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
{parser_def}template(name="fields" type="string" string="{FIELDS}@@EOR@@\n")
ruleset(name="rs"{rs_parser}) {{
  action(type="omfile" file="{d}/out" template="fields")
}}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{d}/port" ruleset="rs")
input(type="imuxsock" Socket="{d}/uxsock" ruleset="rs")
"#,
        g = v.globals
    )
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// imtcp's handling of a frame longer than maxMessageSize: submit what fits, lose the byte
/// that did not fit, go on with the rest as a new message (empty parts are not submitted).
fn split_oversize(m: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = m;
    while rest.len() > max {
        out.push(&rest[..max]);
        rest = &rest[max + 1..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn split_records(data: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(EOR.len()).position(|w| w == EOR) {
        v.push(rest[..i].to_vec());
        rest = &rest[i + EOR.len()..];
    }
    assert!(
        rest.is_empty(),
        "trailing partial record: {:?}",
        String::from_utf8_lossy(rest)
    );
    v
}

/// rsyslog's `formatTimestamp3339`, including its handling of more than 6 fraction digits.
fn rfc3339(t: &SyslogTime) -> Vec<u8> {
    let mut b = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
    .into_bytes();
    if t.secfrac_precision > 0 {
        b.push(b'.');
        const P: [i64; 6] = [1, 10, 100, 1000, 10000, 100000];
        let mut power = P[((t.secfrac_precision - 1) % 6) as usize];
        let mut f = t.secfrac as i64;
        while power > 0 {
            let digit = f / power;
            f -= digit * power;
            power /= 10;
            b.push((digit as i16 as u8).wrapping_add(b'0'));
        }
    }
    if t.offset_mode == b'Z' {
        b.push(b'Z');
    } else {
        b.extend_from_slice(
            format!(
                "{}{:02}:{:02}",
                t.offset_mode as char, t.offset_hour, t.offset_minute
            )
            .as_bytes(),
        );
    }
    b
}

/// Our side of the template, field by field as rsyslog prints them.
fn render(b: &Batch, i: usize, permit_slash: bool) -> Vec<u8> {
    let m = b.get(i);
    let pri = m.m.facility as u16 * 8 + m.m.severity as u16;
    let mut out = Vec::new();
    let mut f = |x: &[u8]| {
        out.extend_from_slice(x);
        out.push(b'|');
    };
    f(if pri > 191 {
        "invld".to_string()
    } else {
        pri.to_string()
    }
    .as_bytes());
    f(if m.m.facility > 23 {
        "invld".to_string()
    } else {
        m.m.facility.to_string()
    }
    .as_bytes());
    f(m.m.severity.to_string().as_bytes());
    f(&if m.m.time_reported.time_type == 0 {
        b"RCVD".to_vec()
    } else {
        rfc3339(&m.m.time_reported)
    });
    f(m.fromhost().as_bytes());
    f(if m.m.hostname == Span::EMPTY {
        m.fromhost().as_bytes()
    } else {
        m.bytes(m.m.hostname)
    });
    f(m.tag());
    f(parse::programname(m.tag(), permit_slash));
    f(m.bytes(m.m.app_name));
    f(m.bytes(m.m.procid));
    f(m.bytes(m.m.msgid));
    f(m.bytes(m.m.structured_data));
    f(m.m.protocol_version.to_string().as_bytes());
    f(m.msg());
    f(m.raw());
    out.extend_from_slice(m.raw_after_pri());
    out
}

/// rsyslog's record with timereported normalised and timegenerated dropped.
fn normalise(rec: &[u8]) -> Vec<u8> {
    let parts: Vec<&[u8]> = rec.splitn(6, |&c| c == b'|').collect();
    assert_eq!(
        parts.len(),
        6,
        "short record {:?}",
        String::from_utf8_lossy(rec)
    );
    let reported: &[u8] = if parts[3] == parts[4] {
        b"RCVD"
    } else {
        parts[3]
    };
    [parts[0], parts[1], parts[2], reported, parts[5]].join(&b'|')
}

fn fromhost_of(rec: &[u8]) -> String {
    String::from_utf8_lossy(rec.split(|&c| c == b'|').nth(5).unwrap_or(b"")).into_owned()
}

fn show(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

struct Outcome {
    compared: usize,
    mismatches: Vec<String>,
}

/// Runs rsyslogd with variant `v`, sends every message over TCP and over imuxsock, and
/// compares with `push_message`.
fn run_variant(v: &Variant, msgs: &[Vec<u8>]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    let conf = config(&dir, v);
    std::fs::write(dir.join("rsyslog.conf"), &conf).unwrap();

    // our options come from our own loader, on the same config
    let loaded = oxsyslog::config::load_text("rsyslog.conf", &conf);
    assert!(
        !loaded.has_errors(),
        "{}: oxsyslog rejects the test config: {:?}",
        v.name,
        loaded.diagnostics
    );
    let opts = ParseOptions::for_ruleset(&loaded.config, "rs");
    let max = opts.sanitize.max_msg_size;

    let child = Command::new("/usr/sbin/rsyslogd")
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.join("rsyslog.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr")).unwrap(),
        ))
        .spawn()
        .expect("start rsyslogd");
    let mut daemon = Daemon { child: Some(child) };

    let port: u16 = wait_for("rsyslogd's port file", || {
        std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    });
    wait_for("imuxsock socket", || {
        dir.join("uxsock").exists().then_some(())
    });

    // expected records: TCP first (one connection, in order), then imuxsock
    let mut tcp_parts: Vec<&[u8]> = Vec::new();
    let mut s = common::connect(port);
    let mut frame = Vec::new();
    for m in msgs {
        frame.extend_from_slice(format!("{} ", m.len()).as_bytes());
        frame.extend_from_slice(m);
        tcp_parts.extend(split_oversize(m, max));
    }
    s.write_all(&frame).unwrap();
    s.flush().unwrap();
    drop(s);
    let out = dir.join("out");
    let count = |p: &Path| {
        std::fs::read(p)
            .map(|d| d.windows(EOR.len()).filter(|w| *w == EOR).count())
            .unwrap_or(0)
    };
    wait_for("TCP records", || {
        (count(&out) >= tcp_parts.len()).then_some(())
    });

    let ux = UnixDatagram::unbound().unwrap();
    let ux_msgs: Vec<&[u8]> = msgs
        .iter()
        .filter(|m| !m.is_empty())
        .map(|m| &m[..m.len().min(max)])
        .collect();
    for m in &ux_msgs {
        ux.send_to(m, dir.join("uxsock")).unwrap();
    }
    let total = tcp_parts.len() + ux_msgs.len();
    wait_for("all records", || (count(&out) >= total).then_some(()));
    std::thread::sleep(Duration::from_millis(200));
    daemon.stop();

    let data = std::fs::read(&out).unwrap();
    let recs = split_records(&data);
    assert_eq!(
        recs.len(),
        total,
        "{}: rsyslogd wrote {} records for {} messages; stderr: {}",
        v.name,
        recs.len(),
        total,
        std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
    );

    let mut batch = Batch::default();
    batch.peers.push(Peer {
        host: Arc::from(fromhost_of(&recs[0]).as_str()),
        ip: Arc::from("127.0.0.1"),
        port: Arc::from(""),
    });
    batch.peers.push(Peer {
        host: Arc::from(fromhost_of(&recs[tcp_parts.len()]).as_str()),
        ip: Arc::from("127.0.0.1"),
        port: Arc::from(""),
    });
    let (time, unix) = parse::now_local();
    let rx_tcp = Received {
        peer: 0,
        input: 0,
        time,
        unix,
    };
    let rx_ux = Received {
        peer: 1,
        input: 1,
        time,
        unix,
    };
    let net = InputFlags::default();
    let uxf = InputFlags::uxsock_default();
    let mut mismatches = Vec::new();
    let inputs = tcp_parts
        .iter()
        .map(|p| (*p, &rx_tcp, &net, "tcp"))
        .chain(ux_msgs.iter().map(|p| (*p, &rx_ux, &uxf, "uxsock")));
    for (k, ((raw, rx, flags, via), rec)) in inputs.zip(&recs).enumerate() {
        if via == "uxsock" && uxsock_undefined(raw) {
            continue;
        }
        batch.data.clear();
        batch.msgs.clear();
        assert!(
            parse::push_message(&mut batch, raw, rx, flags, &opts),
            "dropped: {}",
            show(raw)
        );
        let ours = render(&batch, 0, opts.permit_slash_in_programname);
        let theirs = normalise(rec);
        if ours != theirs {
            mismatches.push(format!(
                "[{}] #{k} via {via}: input   {}\n    rsyslogd {}\n    oxsyslog {}",
                v.name,
                show(raw),
                show(&theirs),
                show(&ours)
            ));
        }
    }
    Outcome {
        compared: total,
        mismatches,
    }
}

#[test]
fn parse_matches_rsyslogd() {
    require_rsyslogd();
    let msgs = corpus();
    assert!(msgs.len() >= 150, "{} messages", msgs.len());
    let mut distinct = msgs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), msgs.len(), "corpus has duplicates");
    let mut all = Vec::new();
    let mut compared = 0;
    for v in VARIANTS {
        let o = run_variant(v, &msgs);
        eprintln!(
            "{}: {} records compared, {} mismatches",
            v.name,
            o.compared,
            o.mismatches.len()
        );
        compared += o.compared;
        all.extend(o.mismatches);
    }
    for m in &all {
        eprintln!("{m}");
    }
    assert!(all.is_empty(), "{} of {compared} records differ", all.len());
}

fn corpus() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = CORPUS.iter().map(|m| m.to_vec()).collect();
    // generated ones: oversize and long fields
    let x = |n: usize| "x".repeat(n);
    v.push(format!("<13>Jan 15 10:00:00 host app: {}", x(8096 - 29)).into_bytes()); // exactly max
    v.push(format!("<13>Jan 15 10:00:00 host app: {}", x(8097 - 29)).into_bytes()); // max + 1
    v.push(format!("<13>Jan 15 10:00:00 host app: {}", x(9000)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 host app: {}", x(17000)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 host app:\t{}", x(8096 - 30)).into_bytes()); // exact, needs escaping
    v.push(format!("<13>Jan 15 10:00:00 host app: {}\t", x(8096 - 30)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 host app: {}\t", x(8096 - 33)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 host app: {}\t\t\t", x(8096 - 29)).into_bytes());
    v.push(format!("<14>1 2024-01-15T10:00:00Z host app - - - {}", x(8200)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 host {}: long tag", "t".repeat(600)).into_bytes());
    v.push(
        format!(
            "<13>Jan 15 10:00:00 host {}[42]: tag of 509",
            "t".repeat(505)
        )
        .into_bytes(),
    );
    v.push(format!("<13>Jan 15 10:00:00 {} tag: long host", "h".repeat(600)).into_bytes());
    v.push(format!("<13>Jan 15 10:00:00 {} tag: host of 511", "h".repeat(511)).into_bytes());
    v.push(
        format!(
            "<13>1 2024-01-15T10:00:00Z host {} 1 - - long app-name",
            "a".repeat(300)
        )
        .into_bytes(),
    );
    v.push(
        format!(
            "<13>1 2024-01-15T10:00:00Z host app 1 - [x@1 a=\"{}\"] big SD",
            x(3000)
        )
        .into_bytes(),
    );
    v.push(
        format!(
            "<13>Jan 15 10:00:00 host app: {}",
            "\u{e9}\u{4e2d}\u{1f600}".repeat(300)
        )
        .into_bytes(),
    );
    v.push(format!("<13>Jan 15 10:00:00 host app: {}", "\t".repeat(3000)).into_bytes());
    v
}

/// Real-world-style messages (written for this test), grouped by source.
const CORPUS: &[&[u8]] = &[
    // --- Linux daemons (RFC 3164 with hostname) ---
    b"<38>Jan 15 10:00:01 web01 sshd[2219]: Accepted publickey for deploy from 10.1.2.3 port 52100 ssh2: ED25519 SHA256:abc",
    b"<86>Jan 15 10:00:02 web01 sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    b"<78>Jan 15 10:01:01 web01 CRON[3012]: (root) CMD (run-parts /etc/cron.hourly)",
    b"<30>Jan 15 10:00:03 web01 systemd[1]: Started Session 42 of user alice.",
    b"<6>Jan 15 10:00:04 web01 kernel: [12345.678901] EXT4-fs (sda1): mounted filesystem with ordered data mode.",
    b"<4>Jan 15 10:00:05 web01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55 SRC=203.0.113.9 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=4444 DPT=23",
    b"<22>Jan 15 10:00:06 mail postfix/smtpd[1234]: connect from unknown[198.51.100.7]",
    b"<22>Jan 15 10:00:07 mail postfix/qmgr[999]: 4F2A01C0: from=<a@example.com>, size=1234, nrcpt=1 (queue active)",
    b"<30>Jan 15 10:00:08 gw dhclient[700]: DHCPACK of 10.0.0.5 from 10.0.0.1",
    b"<29>Jan 15 10:00:09 gw NetworkManager[650]: <info>  [1705312809.1234] device (eth0): state change: activated",
    b"<29>Jan 15 10:00:10 ntp ntpd[512]: kernel reports TIME_ERROR: 0x41: Clock Unsynchronized",
    b"<30>Jan 15 10:00:11 dns named[800]: client @0x7f 192.0.2.1#53211 (example.org): query: example.org IN A +E(0)K (192.0.2.53)",
    b"<22>Jan 15 10:00:12 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=10.0.0.9, lip=10.0.0.2, TLS",
    b"<190>Jan 15 10:00:13 lb1 haproxy[4444]: 10.0.0.1:5555 [15/Jan/2024:10:00:13.123] fe be/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"",
    b"<187>Jan 15 10:00:14 web01 nginx: 2024/01/15 10:00:14 [error] 1234#1234: *1 open() \"/var/www/favicon.ico\" failed (2: No such file or directory)",
    b"<28>Jan 15 10:00:15 nas smartd[321]: Device: /dev/sda [SAT], 8 Currently unreadable (pending) sectors",
    b"<29>Jan 15 10:00:16 fw snmpd[555]: Connection from UDP: [10.0.0.7]:161->[10.0.0.1]:161",
    b"<13>Jan 15 10:00:17 web01 audit: type=1400 audit(1705312817.123:42): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/ntpd\"",
    b"<46>Jan 15 10:00:18 web01 rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2302.0\" x-pid=\"1\"] start",
    b"<13>Jan 15 10:00:19 web01 -- MARK --",
    b"<13>Jan 15 10:00:20 web01 last message repeated 5 times",
    b"<13>Jan 15 10:00:21 web01 /usr/sbin/cron[1234]: (CRON) INFO (pidfile fd = 3)",
    b"<13>Jan 15 10:00:22 web01 java[777]: Exception in thread \"main\" java.lang.NullPointerException",
    b"<14>Jan 15 10:00:23 web01 app.service[88]: started",
    b"<14>Jan 15 10:00:24 web01 my_app-2: tag with underscore and dash",
    // --- local style, no hostname ---
    b"<13>Jan 15 10:00:25 sshd[2219]: no hostname, tag first",
    b"<13>Jan 15 10:00:26 logger: plain message",
    b"<13>Jan 15 10:00:27 root: message from logger without tag",
    b"<13>Jan 15 10:00:28 tagonly",
    b"<13>Jan 15 10:00:29 host",
    b"<14>Jan 15 10:00:30 ",
    b"<14>Jan 15 10:00:31",
    // --- Cisco IOS / NX-OS / ASA ---
    b"<189>123: *Mar  1 00:00:31.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up",
    b"<189>124: router1: *Mar  1 00:00:32.456 UTC: %SYS-5-CONFIG_I: Configured from console by vty0",
    b"<189>Jan 15 2024 10:00:33: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.9)",
    b"<189>Jan 15 2024 10:00:34 router2: %LINEPROTO-5-UPDOWN: Line protocol on Interface Vlan10, changed state to down",
    b"<189>Jan 15 10:00:35.123: %SEC-6-IPACCESSLOGP: list 101 denied tcp 10.0.0.1(1234) -> 10.0.0.2(80), 1 packet",
    b"<189>Jan 15 10:00:36.123 UTC: %OSPF-5-ADJCHG: Process 1, Nbr 10.0.0.1 on Gi0/0 from LOADING to FULL",
    b"<166>%ASA-6-302013: Built inbound TCP connection 123 for outside:203.0.113.5/443 (203.0.113.5/443) to inside:10.0.0.5/5000",
    b"<166>Jan 15 2024 10:00:37: %ASA-6-302014: Teardown TCP connection 123 for outside:203.0.113.5/443",
    b"<166>Jan 15 2024 10:00:38 asa01 : %ASA-4-106023: Deny tcp src outside:198.51.100.2/3333 dst inside:10.0.0.9/22",
    b"<164>Jan 15 10:00:39 asa02 %ASA-4-733100: [ Scanning] drop rate-1 exceeded.",
    b"<187>2024 Jan 15 10:00:40 nexus1 %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)",
    b"<190>Mar  7 2008 19:06:53: %PIX-6-302013: Built outbound TCP connection",
    b"<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded from SERVER1/2741 to test_intf:224.0.1.1/5353",
    // --- Juniper ---
    b"<28>Jan 15 10:00:41 srx1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created 10.0.0.1/1234->8.8.8.8/53 junos-dns-udp",
    b"<165>1 2024-01-15T10:00:42.123+01:00 mx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 source-address=\"10.0.0.1\" source-port=\"1234\"] session created",
    b"<30>Jan 15 10:00:43 ex1 mgd[1234]: UI_COMMIT: User 'admin' requested 'commit' operation (comment: none)",
    b"<158>1 2024-01-15T10:00:44.5Z ex2 chassisd 1234 CHASSISD_SNMP_TRAP7 [junos@2636.1.1.1.2.21 trap=\"power supply failure\"] SNMP trap generated",
    // --- HP ProCurve / Aruba ---
    b"<14> Jan 15 10:00:45 10.0.0.5 00025 ports: port 1 is now on-line",
    b"<14>Jan 15 10:00:46 10.0.0.5 00076 ports: port 2 is now off-line",
    b"<14> Jan  5 10:00:47 sw-core 00435 ports: port A1 is Blocked by STP",
    b"<13> 2024-01-15T10:00:48Z host app: leading space then RFC 3339",
    b"<13>  Jan 15 10:00:49 host app: two leading spaces",
    // --- F5 BIG-IP ---
    b"<133>Jan 15 10:00:50 bigip1 notice mcpd[1234]: 01070639:5: Pool /Common/web member /Common/10.0.0.1:80 session status enabled.",
    b"<134>Jan 15 10:00:51 bigip1.example.com info tmm[12345]: Rule /Common/irule_log <HTTP_REQUEST>: Client 10.0.0.9 requested /index.html",
    b"<182>Jan 15 10:00:52 bigip2 info logger[9999]: [ssl_acc] 10.0.0.1 - - [15/Jan/2024:10:00:52 +0100] \"/\" 200 1234",
    // --- Fortinet / Palo Alto / SonicWall / pfSense ---
    b"<189>date=2024-01-15 time=10:00:53 devname=\"FG100E\" devid=\"FG100E1234\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip=10.0.0.1",
    b"<190>logver=602 timestamp=1705312854 tz=\"UTC+1:00\" devname=\"FG60F\" devid=\"FGT60F\" vd=\"root\" date=2024-01-15 time=10:00:54",
    b"<14>Jan 15 10:00:55 PA-VM 1,2024/01/15 10:00:55,012345678901,TRAFFIC,end,2049,2024/01/15 10:00:55,10.0.0.1,8.8.8.8",
    b"<134>id=firewall sn=0017C5 time=\"2024-01-15 10:00:56 UTC\" fw=203.0.113.1 pri=6 c=1024 m=537 msg=\"Connection Closed\"",
    b"<134>Jan 15 10:00:57 filterlog: 5,,,1000000103,em0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.9,10.0.0.1",
    b"<30>1 2024-01-15T10:00:58.123456+00:00 pfsense.local dhcpd 1234 - - DHCPREQUEST for 10.0.0.50 from 00:11:22:33:44:55 via igb1",
    // --- Windows forwarders (Snare, NXLog, Solarwinds) ---
    b"<14>Jan 15 10:00:59 WIN-SRV01 MSWinEventLog\t1\tSecurity\t123\tMon Jan 15 10:00:59 2024\t4624\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit",
    b"<14>1 2024-01-15T10:01:00.123456+01:00 WIN-SRV01 Microsoft-Windows-Security-Auditing 4 - [NXLOG@14506 EventReceivedTime=\"2024-01-15 10:01:00\" SourceModuleName=\"eventlog\"] An account was successfully logged on.",
    b"<13>Jan 15 10:01:01 WIN-DC01.corp.example.com Microsoft-Windows-Security-Auditing[4]: 4625: An account failed to log on.",
    b"<13>Jan 15 10:01:02 WIN-SRV02 EvntSLog: RealSource: \"Service Control Manager\" The Print Spooler service entered the running state.",
    b"<14>Jan 15 10:01:03 10.0.0.20 AgentDevice=WindowsLog\tAgentLogFile=Security\tPluginVersion=7.3\tSource=Microsoft-Windows-Security-Auditing",
    // --- RFC 5424 variations ---
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8",
    b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8",
    b"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event log entry...",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]",
    b"<13>1 2024-01-15T10:01:04+01:00 host app 123 MSGID [x@1 a=\"b\\\"c\" d=\"e\\]f\"] escaped quotes and bracket",
    b"<13>1 2024-01-15T10:01:05Z host app 123 MSGID [x@1 a=\"1\"] [y@1 b=\"2\"] two SD with space",
    b"<13>1 2024-01-15T10:01:06Z host app 123 MSGID no structured data at all",
    b"<13>1 2024-01-15T10:01:07Z host app 123 MSGID",
    b"<13>1 2024-01-15T10:01:08Z host app",
    b"<13>1 2024-01-15T10:01:09Z host",
    b"<13>1 2024-01-15T10:01:10Z",
    b"<13>1 - - - - - - all nil",
    b"<13>1 - host app - - -",
    b"<13>1 2024-01-15T10:01:11Z  app  - - double spaces",
    b"<13>1 2024-01-15T10:01:12Z host app - - -abc SD dash glued",
    b"<13>1 2024-01-15T10:01:13Z host app - - [x@1 a=\"b\"",
    b"<13>1 2024-01-15T10:01:14Z host app - - [x@1 a=\"b\"]x glued",
    b"<13>1 2024-01-15T10:01:15Z host app - - [x@1 a=\"b\\\\\"] y] escaped backslash",
    b"<13>1 2100-01-01T00:00:00Z host app 1 - - year 2100 invalid",
    b"<13>1 2024-01-15T10:01:16 host app 1 - - no time zone",
    b"<13>1 2024-01-15 10:01:17Z host app 1 - - space instead of T",
    b"<13>1 2024-01-15T10:01:18+0100 host app 1 - - offset without colon",
    b"<13>1 2024-01-15T10:01:19.1234567890Z host app 1 - - ten fraction digits",
    b"<13>1 2024-01-15T10:01:20.123456789+05:30 host app 1 - - nine fraction digits",
    b"<13>1 2024-01-15T10:01:21.Z host app 1 - - empty fraction",
    b"<13>1 2024-2-5T1:2:3Z host app 1 - - short numbers",
    b"<13>1 2024-01-15T10:01:22Z host app [pid] - - procid with brackets",
    b"<13>1 2024-01-15T10:01:23Z host app - - - ",
    b"<13>2 2024-01-15T10:01:24Z host app - - - version 2 is not 5424",
    b"<13>1  2024-01-15T10:01:25Z host app - - - extra space after version",
    b"<13>12024-01-15T10:01:26Z host app - - - no space after version",
    b"1 2024-01-15T10:01:27Z host app - - - no PRI",
    b"<13>1 2024-01-15T10:01:28-00:00 host app - - - negative zero offset",
    b"<13>1 2024-01-15T23:59:60Z host app - - - leap second",
    // --- malformed PRI ---
    b"<>empty pri",
    b"<0>Jan 15 10:01:29 host kern: pri zero",
    b"<191>Jan 15 10:01:30 host app: pri 191",
    b"<192>Jan 15 10:01:31 host app: pri 192",
    b"<999>Jan 15 10:01:32 host app: pri 999",
    b"<1000>Jan 15 10:01:33 host app: pri 1000",
    b"<0013>Jan 15 10:01:34 host app: leading zeros",
    b"<00000013>Jan 15 10:01:35 host app: many leading zeros",
    b"<-1>Jan 15 10:01:36 host app: negative",
    b"<abc>Jan 15 10:01:37 host app: letters",
    b"<13 Jan 15 10:01:38 host app: unterminated",
    b"<",
    b"<13",
    b"<13>",
    b"<<13>>Jan 15 10:01:39 host app: doubled",
    b"< 13>Jan 15 10:01:40 host app: space",
    b"<1>3>Jan 15 10:01:41 host app: two closers",
    b"<13>1",
    // --- no PRI at all ---
    b"Jan 15 10:01:42 host app: no pri",
    b"hello world",
    b"2024 Jan 15 10:01:43 host app: digits first (octet framing needed)",
    b"123 starts with a number",
    b"{\"json\":\"no pri\"}",
    // --- weird RFC 3164 headers ---
    b"<13>Jan 5 10:01:44 host app: one-digit day",
    b"<13>Jan  5 10:01:45 host app: padded day",
    b"<13>Jan 05 10:01:46 host app: zero-padded day",
    b"<13>jan 15 10:01:47 host app: lowercase month",
    b"<13>JAN 15 10:01:48 host app: uppercase month",
    b"<6>AUG 10 22:18:24 2009  netips: upper case month with year as host",
    b"<13>Sept 15 10:01:49 host app: long month",
    b"<13>Jan 32 10:01:50 host app: day 32",
    b"<13>Feb 30 10:01:51 host app: February 30th",
    b"<13>Jan 15 24:00:00 host app: hour 24",
    b"<13>Jan 15 10:60:00 host app: minute 60",
    b"<13>Jan 15 10:01:60 host app: second 60",
    b"<13>Jan 15 10:01 host app: no seconds",
    b"<13>Jan 15 ::: host app: empty numbers",
    b"<13>Jan 15 10:01:52: host app: colon after time",
    b"<13>Jan 15 10:01:53.123456 host app: microseconds",
    b"<13>Jan 15 10:01:54.1234567 host app: seven fraction digits",
    b"<13>Jan 15 10:01:55. host app: empty fraction",
    b"<13>Jan 15 2024 10:01:56 host app: year instead of hour",
    b"<13>Jan 15 1970 10:01:57 host app: 1970 is not a year here",
    b"<13>2024 Jan 15 10:01:58 host app: year in front",
    b"<13>2024 Jan 15 10:01:59 host tag",
    b"<13>2024 Jan 15 10:02:00 tag",
    b"<13>2024 Jan 15 10:02:01",
    b"<13>1969 Jan 15 10:02:02 host app: year too small",
    b"<13>Jan 15 10:02:03 2024 host app: year after time",
    b"<13>Jan 15 10:02:04 2024: year after time with colon",
    b"<13>Jan 15 10:02:05 1999 host app: 1999 after time",
    b"<13>Mon Jan 15 10:02:06 2024 host app: weekday first",
    b"<13>2024-01-15 10:02:07 host app: ISO date with space",
    b"<13>2024-01-15T10:02:08 host app: ISO without zone",
    b"<13>2024-01-15T10:02:09.987+02:00 host app: RFC 3339 in a legacy message",
    b"<13>2024-01-15T10:02:10Z",
    b"<13>Jan 15 10:02:11host app: no space after time",
    b"<13>Jan15 10:02:12 host app: no space after month",
    b"<13>{\"msg\":\"headerless json\",\"n\":1}",
    b"<13> \t[1] headerless bracket after blanks",
    b"<13>\t{x} headerless after tab",
    b"<13>[Jan 15 10:02:13] host app: bracketed date",
    // --- hostnames ---
    b"<13>Jan 15 10:02:14 host.example.com. app: trailing dot",
    b"<13>Jan 15 10:02:15 host_name app: underscore",
    b"<13>Jan 15 10:02:16 host- app: trailing dash",
    b"<13>Jan 15 10:02:17 [10.0.0.1] app: bracketed IP",
    b"<13>Jan 15 10:02:18 [10.0.0.1]x app: bracket then text",
    b"<13>Jan 15 10:02:19 [::1] app: bracketed IPv6",
    b"<13>Jan 15 10:02:20 [10.0.0.1 app: unclosed bracket",
    b"<13>Jan 15 10:02:21 user@host app: at sign",
    b"<13>Jan 15 10:02:22 site/host app: slash",
    b"<13>Jan 15 10:02:23 fe80::1 app: IPv6",
    b"<13>Jan 15 10:02:24 host:app: colon glued",
    b"<13>Jan 15 10:02:25 h\xc3\xb6st app: non-ASCII host",
    b"<13>Jan 15 10:02:26 2001:db8::1 app: IPv6 documentation",
    b"<13>Jan 15 10:02:27 [10.0.0.1]",
    b"<13>Jan 15 10:02:28 [host]",
    // --- tags ---
    b"<13>Jan 15 10:02:29 host tag[123] no colon",
    b"<13>Jan 15 10:02:30 host tag [123]: space before pid",
    b"<13>Jan 15 10:02:31 host tag:glued",
    b"<13>Jan 15 10:02:32 host tag[12:unclosed pid",
    b"<13>Jan 15 10:02:33 host tag[]: empty pid",
    b"<13>Jan 15 10:02:34 host tag[1]x]: odd pid",
    b"<13>Jan 15 10:02:35 host t\xc3\xa9g: non-ASCII tag",
    b"<13>Jan 15 10:02:36 host :leading colon",
    b"<13>Jan 15 10:02:37 host tag::double colon",
    b"<13>Jan 15 10:02:38 host a/b/c[9]: slashes in tag",
    b"<13>Jan 15 10:02:39 host tag:  two spaces after colon",
    // --- control characters and non-UTF-8 ---
    b"<13>Jan 15 10:02:40 host app: tab\there",
    b"<13>Jan 15 10:02:41 host app: esc \x1b[31mred\x1b[0m",
    b"<13>Jan 15 10:02:42 host app: nul\x00inside",
    b"<13>Jan 15 10:02:43 host app: trailing nul\x00",
    b"<13>Jan 15 10:02:44 host app: trailing lf\n",
    b"<13>Jan 15 10:02:45 host app: trailing crlf\r\n",
    b"<13>Jan 15 10:02:46 host app: lf then nul\n\x00",
    b"<13>Jan 15 10:02:47 host app: nul then lf\x00\n",
    b"<13>Jan 15 10:02:48 host app: two lf\n\n",
    b"<13>Jan 15 10:02:49 host app: embedded\nnewline",
    b"<13>Jan 15 10:02:50 host app: del \x7f bell \x07 vt \x0b ff \x0c bs \x08",
    b"<13>Jan 15 10:02:51 host app: latin1 caf\xe9",
    b"<13>Jan 15 10:02:52 host app: invalid utf8 \xff\xfe\xc3",
    b"<13>Jan 15 10:02:53 host app: utf8 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
    b"<13>Jan 15 10:02:54 ho\tst app: tab in host",
    b"<13>Jan 15 10:02:55 host ta\tg: tab in tag",
    b"<13>\tJan 15 10:02:56 host app: tab before date",
    b"<13>Jan\t15 10:02:57 host app: tab in date",
    b"<13>1 2024-01-15T10:02:58Z host app - - - tab\tin 5424",
    b"<13>1 2024-01-15T10:02:59Z host a\x01pp - - - control in app-name",
    b"<13>1 2024-01-15T10:03:00Z host app - - [x@1 a=\"\x00\"] nul in SD",
    b"\x00",
    b"\n",
    b"\t",
    b"\x01\x02\x03",
    b"<13>Jan 15 10:03:01 host app: \r\r\r",
    b"<13>Jan 15 10:03:02 host app: \x80\x81\x9f high C1",
];
