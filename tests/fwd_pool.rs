//! Target pools (`target=["a","b","c"]`, src/output/target_pool.rs; an extension beyond
//! rsyslog 8.2302, from rsyslog 8.2404+): oxsyslogd forwarding to three real rsyslogd 8.2302
//! receivers over plain TCP, TLS (mutual x509/name) and RELP (omrelp pools are an oxsyslog
//! extension), 120,000 numbered messages each run.
//!
//! - the load is spread over the three (each share reported and asserted);
//! - one receiver SIGKILLed mid-run and restarted on its port: the other two carry the load
//!   meanwhile, the restarted one gets load again after `pool.resumeInterval`; over RELP
//!   nothing is lost (duplicates counted), over TCP and TLS the in-flight loss is measured,
//!   reported and asserted bounded;
//! - all three down: the action stops sending and retries, the messages wait in its queue and
//!   are all delivered when one receiver comes back;
//! - `-N1`: oxsyslogd accepts the array form, rsyslogd 8.2302 refuses it.
//!
//! The runs take turns (one lock): each starts four daemons.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{free_port, Daemon};
use flow::{feed_tcp, port_file, NUMBERED_TEMPLATE};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const N: usize = 120_000;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tcp,
    Tls,
    Relp,
}

fn start(bin: &str, dir: &Path, conf: &str) -> Daemon {
    std::fs::create_dir_all(dir).unwrap();
    Daemon::start(bin, dir, conf, &["-C"])
}

/// Waits (up to 60 s) until `port` takes connections.
fn wait_listening(port: u16, d: &Daemon) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "nothing listens on {port}: {}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn q(p: &Path) -> String {
    p.display().to_string()
}

/// An rsyslogd receiver of `kind` on `port` writing to `out` with the numbered template;
/// a Direct main queue so what it took is written before it is acknowledged (RELP).
fn receiver_conf(kind: Kind, port: u16, out: &Path, dir: &Path) -> String {
    let c = tls_certs::certs();
    let input = match kind {
        Kind::Tcp => format!(
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")"
        ),
        Kind::Tls => format!(
            "module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/name\" PermittedPeer=[\"client.example.net\"])\n\
             input(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\")"
        ),
        Kind::Relp => format!(
            "module(load=\"imrelp\")\ninput(type=\"imrelp\" port=\"{port}\" address=\"127.0.0.1\")"
        ),
    };
    let tls_global = if kind == Kind::Tls {
        format!(
            " DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" DefaultNetstreamDriverKeyFile=\"{}\"",
            q(&c.ca),
            q(&c.server.cert),
            q(&c.server.key)
        )
    } else {
        String::new()
    };
    format!(
        "global(workDirectory=\"{}\"{tls_global})\nmain_queue(queue.type=\"Direct\")\n{input}\n{NUMBERED_TEMPLATE}\n*.* action(type=\"omfile\" file=\"{}\" template=\"numbered\")\n",
        q(dir),
        q(out)
    )
}

/// The oxsyslogd sender: imtcp (port file `tcp.port`, ruleset `fwd`) → a pool over `ports`;
/// its own messages (default ruleset, `processInternalMessages`) to `internal.log`, impstats
/// (JSON) to `stats`.
fn sender_conf(kind: Kind, ports: &[u16], dir: &Path) -> String {
    let c = tls_certs::certs();
    let targets = vec!["\"127.0.0.1\""; ports.len()].join(",");
    let ports: Vec<String> = ports.iter().map(|p| format!("\"{p}\"")).collect();
    let common = format!(
        "target=[{targets}] port=[{}] pool.resumeInterval=\"1\" queue.type=\"LinkedList\" queue.size=\"1000000\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"",
        ports.join(",")
    );
    let action = match kind {
        Kind::Tcp => format!("action(type=\"omfwd\" protocol=\"tcp\" {common})"),
        Kind::Tls => format!(
            "action(type=\"omfwd\" protocol=\"tcp\" {common} StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\" StreamDriverPermittedPeers=\"server.example.net\" StreamDriver.CAFile=\"{}\" StreamDriver.CertFile=\"{}\" StreamDriver.KeyFile=\"{}\")",
            q(&c.ca),
            q(&c.client.cert),
            q(&c.client.key)
        ),
        Kind::Relp => format!("action(type=\"omrelp\" {common})"),
    };
    format!(
        "global(workDirectory=\"{}\" processInternalMessages=\"on\")\nmodule(load=\"imtcp\")\n\
         module(load=\"impstats\" interval=\"1\" format=\"json\" log.syslog=\"off\" log.file=\"{}\")\n{}input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"tcp.port\" ruleset=\"fwd\")\n\
         ruleset(name=\"fwd\") {{ {action} }}\n*.* action(type=\"omfile\" file=\"{}\")\n",
        q(dir),
        q(&dir.join("stats")),
        if kind == Kind::Relp {
            "module(load=\"omrelp\")\n"
        } else {
            ""
        },
        q(&dir.join("internal.log"))
    )
}

/// The sequence numbers in a receiver's output (`seq=NNNNNNN`); lines without one are
/// counted as bad.
fn seqs(f: &Path) -> (Vec<usize>, usize) {
    let text = common::read_lossy(f);
    let mut v = Vec::new();
    let mut bad = 0;
    for l in text.lines() {
        match l
            .split_once("seq=")
            .and_then(|(_, r)| r.get(..7))
            .and_then(|d| d.parse().ok())
        {
            Some(n) if l == flow::numbered_out("pool", n) => v.push(n),
            _ => bad += 1,
        }
    }
    (v, bad)
}

fn lines(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|f| {
            std::fs::read(f)
                .unwrap_or_default()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        })
        .sum()
}

/// What arrived over all files: (per-file counts, distinct numbers below `n`, duplicates).
fn tally(files: &[PathBuf], n: usize) -> (Vec<usize>, usize, usize) {
    let mut seen = vec![0u32; n];
    let mut counts = Vec::new();
    for f in files {
        let (v, bad) = seqs(f);
        assert_eq!(
            bad,
            0,
            "{} has lines that are not numbered messages",
            f.display()
        );
        counts.push(v.len());
        for s in v {
            assert!(s < n, "unexpected number {s}");
            seen[s] += 1;
        }
    }
    let distinct = seen.iter().filter(|&&k| k > 0).count();
    let dups = seen.iter().map(|&k| k.saturating_sub(1) as usize).sum();
    (counts, distinct, dups)
}

/// Waits until the files hold `n` distinct messages, or nothing new came for `idle` s.
fn wait_distinct(files: &[PathBuf], n: usize, idle: u64, max: u64) -> (Vec<usize>, usize, usize) {
    let t = Instant::now();
    let mut last = 0;
    let mut growth = Instant::now();
    loop {
        let now = lines(files);
        if now != last {
            last = now;
            growth = Instant::now();
        }
        if now >= n {
            let r = tally(files, n);
            if r.1 == n {
                return r;
            }
        }
        if growth.elapsed() > Duration::from_secs(idle) || t.elapsed() > Duration::from_secs(max) {
            return tally(files, n);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Three receivers of `kind`, N messages through the pool, receiver 1 SIGKILLed at a quarter
/// and restarted 2 s later. Returns (lost, duplicates).
fn kill_one_mid_run(kind: Kind) -> (usize, usize) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let outs: Vec<PathBuf> = (0..3).map(|i| t.path().join(format!("out{i}"))).collect();
    let conf =
        |i: usize, out: &Path| receiver_conf(kind, ports[i], out, &t.path().join(format!("rw{i}")));
    let mut rx: Vec<Daemon> = (0..3)
        .map(|i| {
            std::fs::create_dir_all(t.path().join(format!("rw{i}"))).unwrap();
            start(
                RSYSLOGD,
                &t.path().join(format!("rx{i}")),
                &conf(i, &outs[i]),
            )
        })
        .collect();
    for (p, d) in ports.iter().zip(&rx) {
        wait_listening(*p, d);
    }
    let sdir = t.path().join("tx");
    std::fs::create_dir_all(&sdir).unwrap();
    let mut tx = start(OX, &sdir, &sender_conf(kind, &ports, &sdir));
    let tport = port_file(&tx, "tcp.port");
    // 10,000 messages/s: the run lasts about 12 s
    let feeder =
        std::thread::spawn(move || feed_tcp(tport, "pool", 0..N, 400, Duration::from_millis(40)));
    let t0 = Instant::now();
    while lines(&outs) < N / 4 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "a quarter did not arrive: {:?}\n{}",
            tally(&outs, N).0,
            tx.stderr()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    rx[1].child.kill().unwrap(); // SIGKILL
    rx[1].child.wait().unwrap();
    let at_kill = lines(&outs);
    std::thread::sleep(Duration::from_secs(2));
    let during = lines(&outs) - at_kill;
    // restarted on the same port, writing to a file of its own
    let out1b = t.path().join("out1b");
    rx[1] = start(RSYSLOGD, &t.path().join("rx1b"), &conf(1, &out1b));
    wait_listening(ports[1], &rx[1]);
    feeder.join().unwrap();
    let mut files = outs.clone();
    files.push(out1b.clone());
    let (counts, distinct, dups) = wait_distinct(&files, N, 30, 300);
    let lost = N - distinct;
    eprintln!(
        "{kind:?} pool, {N} messages, receiver 1 SIGKILLed after {at_kill} lines and restarted: \
         shares {counts:?} (receiver 0, 1 before the kill, 2, 1 after the restart), \
         {during} delivered by the other two while it was down, {lost} lost, {dups} duplicates"
    );
    // the load was spread: each receiver took a share before the kill
    for (i, c) in counts.iter().take(3).enumerate() {
        assert!(*c >= N / 20, "receiver {i} got only {c} of {N}: {counts:?}");
    }
    assert!(
        during > 0,
        "nothing was delivered while receiver 1 was down"
    );
    assert!(
        counts[3] >= N / 50,
        "the restarted receiver got only {} messages: it is not back in the rotation\n{}",
        counts[3],
        tx.stderr()
    );
    let internal = common::read_lossy(&sdir.join("internal.log"));
    assert!(
        internal.contains("taken out of the rotation") && internal.contains("back in the rotation"),
        "the pool did not report the target's failure and return: {internal}"
    );
    if kind == Kind::Relp {
        assert_eq!(lost, 0, "RELP lost messages");
    } else {
        // plain TCP cannot tell what the killed receiver had taken: what sat in its socket
        // buffer and queue is lost; bounded well below the messages sent to it
        assert!(lost < N / 10, "{kind:?}: {lost} of {N} lost");
    }
    assert!(tx.stop(), "the sender did not stop");
    for mut r in rx {
        r.stop();
    }
    (lost, dups)
}

#[test]
fn tcp_pool_spreads_the_load_and_survives_a_killed_receiver() {
    kill_one_mid_run(Kind::Tcp);
}

#[test]
fn tls_pool_spreads_the_load_and_survives_a_killed_receiver() {
    kill_one_mid_run(Kind::Tls);
}

#[test]
fn relp_pool_loses_nothing_when_a_receiver_is_killed() {
    let (lost, _) = kill_one_mid_run(Kind::Relp);
    assert_eq!(lost, 0);
}

/// All three receivers down: the action stops sending (the pool fails as a whole, the action
/// retries), the messages wait in its queue and all arrive when one receiver is back.
#[test]
fn all_targets_down_suspends_the_action_until_one_is_back() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    const M: usize = 3_000;
    let t = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let outs: Vec<PathBuf> = (0..3).map(|i| t.path().join(format!("out{i}"))).collect();
    let conf = |i: usize, out: &Path| {
        let w = t.path().join(format!("rw{i}"));
        std::fs::create_dir_all(&w).unwrap();
        receiver_conf(Kind::Tcp, ports[i], out, &w)
    };
    let mut rx: Vec<Daemon> = (0..3)
        .map(|i| {
            start(
                RSYSLOGD,
                &t.path().join(format!("rx{i}")),
                &conf(i, &outs[i]),
            )
        })
        .collect();
    for (p, d) in ports.iter().zip(&rx) {
        wait_listening(*p, d);
    }
    let sdir = t.path().join("tx");
    std::fs::create_dir_all(&sdir).unwrap();
    let mut tx = start(OX, &sdir, &sender_conf(Kind::Tcp, &ports, &sdir));
    let tport = port_file(&tx, "tcp.port");
    feed_tcp(tport, "pool", 0..M, 100, Duration::from_millis(5));
    let (counts, distinct, _) = wait_distinct(&outs, M, 30, 120);
    assert_eq!(distinct, M, "first part: {counts:?}");
    for r in &mut rx {
        r.child.kill().unwrap(); // SIGKILL
        r.child.wait().unwrap();
    }
    // the second part finds no target
    feed_tcp(tport, "pool", M..2 * M, 100, Duration::from_millis(5));
    let internal = sdir.join("internal.log");
    let t0 = Instant::now();
    // with `action.resumeRetryCount="-1"` the action retries until a target is back (it is
    // not suspended and discards nothing), reporting the outage once
    while !common::read_lossy(&internal).contains("targets of the pool are unavailable") {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the action did not stop for the outage: {}\n{}",
            common::read_lossy(&internal),
            tx.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    // one receiver back: everything waiting arrives there
    let out2b = t.path().join("out2b");
    rx[2] = start(RSYSLOGD, &t.path().join("rx2b"), &conf(2, &out2b));
    wait_listening(ports[2], &rx[2]);
    let mut files = outs.clone();
    files.push(out2b.clone());
    let (counts, distinct, dups) = wait_distinct(&files, 2 * M, 30, 180);
    eprintln!(
        "all three down, then receiver 2 back: {counts:?}, {} of {M} waiting messages delivered, {dups} duplicates",
        distinct - M
    );
    assert_eq!(distinct, 2 * M, "{counts:?}\n{}", tx.stderr());
    assert!(counts[3] >= M, "{counts:?}");
    // impstats: one `bytes.sent` object per target (`TCP-host-port`), each one counting
    let t0 = Instant::now();
    let sent = |port: u16| -> u64 {
        let name = format!("TCP-127.0.0.1-{port}");
        common::read_lossy(&sdir.join("stats"))
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l[l.find('{')?..]).ok())
            .find(|v| v["name"] == name.as_str())
            .and_then(|v| v["bytes.sent"].as_u64())
            .unwrap_or(0)
    };
    while !(ports.iter().all(|&p| sent(p) > 0) && sent(ports[2]) > sent(ports[0])) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "impstats per target: {:?}\n{}",
            ports.iter().map(|&p| sent(p)).collect::<Vec<_>>(),
            common::read_lossy(&sdir.join("stats"))
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(tx.stop());
}

/// `-N1` takes the array form (and `port` as an array, `pool.resumeInterval`); rsyslogd
/// 8.2302 refuses it (a string is required there).
#[test]
fn config_check_accepts_target_arrays_which_rsyslogd_8_2302_refuses() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("p.conf");
    std::fs::write(
        &f,
        "module(load=\"omrelp\")\n\
         *.* action(type=\"omfwd\" protocol=\"tcp\" target=[\"a.example.net\",\"b.example.net\"] port=[\"10514\",\"10515\"] pool.resumeInterval=\"10\")\n\
         *.* action(type=\"omfwd\" protocol=\"tcp\" target=[\"a.example.net\",\"b.example.net\"] port=\"10514\")\n\
         *.* action(type=\"omrelp\" target=[\"a.example.net\",\"b.example.net\"] port=\"2514\")\n",
    )
    .unwrap();
    let run = |bin: &str| {
        std::process::Command::new(bin)
            .args(["-N1", "-f"])
            .arg(&f)
            .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
            .output()
            .unwrap()
    };
    let ox = run(OX);
    assert!(
        ox.status.success(),
        "{}",
        String::from_utf8_lossy(&ox.stderr)
    );
    let rs = run(RSYSLOGD);
    assert!(!rs.status.success());
    assert!(
        String::from_utf8_lossy(&rs.stderr).contains("parameter 'target' is not a string"),
        "{}",
        String::from_utf8_lossy(&rs.stderr)
    );
}
