//! End-to-end throughput harness: runs the real rsyslogd (default and tuned configs pinned in
//! benches/configs/) and oxsyslogd side by side on this machine, sends N messages over one TCP
//! connection into omfile, and stops the clock only when the output file holds all N lines.
//! Every line is then checked by sequence number; lost messages count against the figure.
//! Reports messages/s, daemon CPU seconds per million messages and peak RSS for each daemon,
//! the ratios against rsyslogd, and writes a results file (git revision, command, every run).
//!
//! Run: `cargo bench --bench e2e -- [--scenario all|baseline|rules|forward|forward-tls|tls|relp|
//! omrelp|uds|udp|latency|overload|diskq|diskq-da] [--messages N] [--runs R] [--connections C] [--taskset]
//! [--only NAME,…] [--fwd-receiver rsyslogd] [--dump-payload FILE]` (benchmarks run by hand, not in CI). `--scenario all`
//! runs every case and prints one table (benches/e2e/all.rs; `--cases a,b` picks cases,
//! `--no-taskset` / `--taskset-only` drop or keep only the `+taskset` variants). `--taskset` runs the daemon under
//! test on core 1 and pins the harness (and the peers it starts) to core 0. `--only` takes
//! daemon names (rsyslogd-default, rsyslogd-tuned, oxsyslogd); `--dump-payload` writes the bytes
//! a run would send (for profiling a daemon by hand) and exits.
//!
//! Scenarios:
//! - `baseline` (the default): one `*.*` rule into one file; the configs are
//!   benches/configs/{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf.
//! - `rules`: 50 filters (legacy selectors, property filters with contains/isequal/startswith/
//!   regex/ereregex and negation, RainerScript `if`s with comparisons, contains, contains_i,
//!   startswith, arrays, re_match, and/or/not, strlen/tolower/cnum/field/substring, two `stop`s)
//!   routing a varied message mix (10 programs, 8 hosts, all severities, 9 facilities, ~30
//!   message shapes) into 10 files. The rules are benches/configs/rules.conf, included verbatim
//!   by rules-{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf (which only define the 10 output
//!   actions: one action, in its own ruleset, per file). The last message is a marker that every
//!   file receives. An untimed calibration run of the first daemon selected records each file's
//!   line count and an order-independent content hash (sum of per-line hashes; rsyslog's
//!   workers may reorder batches); a timed run stops its clock when every file holds its
//!   expected count, and must then match every count and hash exactly, else the harness fails
//!   (a mismatch is a harness or compatibility error, never a result). Messages/s and CPU per
//!   million count input messages.
//! - `forward`: each daemon forwards the N messages over TCP (omfwd, traditional framing,
//!   RSYSLOG_TraditionalForwardFormat) to the same receiver, a listener in the harness
//!   (benches/e2e/fwdrecv.rs, fresh for every run: it accepts every connection, reads 256 KiB
//!   blocks and marks the sequence numbers as they stream by; no file), so the forwarder is
//!   what is measured; the clock stops when every sequence number has arrived (or nothing new
//!   did for 20 s: the rest is lost), and CPU and RSS are the forwarder's. Configs:
//!   benches/configs/fwd-{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf. Until issue #11's
//!   receiver change the receiver was an rsyslogd tuned for throughput
//!   (benches/configs/fwd-receiver.conf, `%msg%` into one file the harness polls); at ~1 µs of
//!   CPU per message on the same 2 cores it was the bottleneck, capping every forwarder near
//!   the same rate. `--fwd-receiver rsyslogd` brings it back (also for `forward-tls`) to
//!   reproduce earlier figures.
//! - `relp`: an rsyslogd (benches/configs/relp-sender.conf: imtcp → omrelp, LinkedList
//!   queue, retry forever) forwards the N messages with omrelp to the daemon under test,
//!   which receives them with imrelp into omfile (`%msg%`); the clock stops when the
//!   receiver's file holds all N lines; CPU and RSS are the receiver's. Configs:
//!   benches/configs/relp-{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf.
//! - `tls`: the baseline over TLS: the N messages over `--connections C` (default 1) TLS
//!   connections (a rustls client in the harness, one thread per connection, the payload split
//!   at line boundaries) into omfile; the daemons listen with the gtls driver in anon mode as
//!   the rsyslog TLS how-to's server (RSA 2048 certificate made with certtool at start).
//!   Configs: benches/configs/tls-{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf.
//! - `forward-tls`: `forward` over TLS (omfwd with the gtls driver, anon) to the harness's
//!   receiver as a rustls TLS server (the bench certificate; TLS 1.2 with rsyslogd's anon
//!   client, which turns TLS 1.3 off); with `--fwd-receiver rsyslogd` an rsyslogd TLS
//!   receiver (benches/configs/fwd-tls-receiver.conf). Configs: fwd-tls-*.conf.
//! - `omrelp`: each daemon forwards with omrelp to an imrelp receiver: oxsyslogd
//!   (benches/configs/omrelp-receiver-ox.conf), or with `--relp-receiver rsyslogd` rsyslogd
//!   (omrelp-receiver.conf), which caps this machine at about 2,000-3,000 messages/s (its acks
//!   wait), so the senders would not be measured; CPU and RSS are the sender's. Configs:
//!   omrelp-{rsyslogd-default,rsyslogd-tuned,oxsyslogd}.conf.
//! - `uds`: the N messages as datagrams on a unix socket in the run directory (imuxsock with
//!   `SysSock.Use="off"`, `ratelimit.interval="0"`) into omfile. Configs: uds-*.conf.
//! - `udp`: imudp into omfile: the highest paced send rate without loss (doubling, then
//!   bisecting), and the loss at full speed (CPU and RSS from the full-speed send). Configs:
//!   udp-*.conf.
//! - `latency`: the baseline configs; a paced TCP sender at 10% of the daemon's capacity
//!   (measured first, or `--rate R`) stamps each message with its send time for
//!   `--latency-seconds S` (default 3); the output file is polled every 200 µs and p50/p99
//!   send-to-write times are reported.
//! - `overload`: the `forward` configs forwarding to a receiver in the harness that reads
//!   slowly (`--drain R` messages/s, default 200000) while the sender sends at full speed; RSS
//!   is sampled every 100 ms: the peak and RSS at each quarter of the run show it stays bounded.
//! - `diskq` / `diskq-da`: omfwd with a Disk (or disk-assisted LinkedList) action queue whose
//!   target is down: N messages (default 10,000,000) fill the queue files, then the receiver
//!   (in the harness) starts and the queue drains; fill and drain rates, CPU, peak RSS, disk
//!   bytes, lost and duplicates (benches/e2e/diskq.rs; rsyslogd-default and oxsyslogd only;
//!   not part of `--scenario all`). Configs: dq-*.conf, dqda-*.conf.
//!
//! The new cases live in benches/e2e/cases.rs, `--scenario all` in benches/e2e/all.rs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "e2e/all.rs"]
mod all;
#[path = "e2e/cases.rs"]
mod cases;
#[path = "e2e/diskq.rs"]
mod diskq;
#[path = "e2e/fwdrecv.rs"]
mod fwdrecv;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

struct Daemon {
    name: &'static str,
    bin: String,
    config: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Baseline,
    Rules,
    Forward,
    Tls,
    Relp,
    FwdTls,
    OmRelp,
    Uds,
    Udp,
    Latency,
    Overload,
    DiskQ,
    DiskQDa,
}

impl Scenario {
    /// The scenario's name on the command line and in result file names.
    fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::Rules => "rules",
            Scenario::Forward => "forward",
            Scenario::Tls => "tls",
            Scenario::Relp => "relp",
            Scenario::FwdTls => "forward-tls",
            Scenario::OmRelp => "omrelp",
            Scenario::Uds => "uds",
            Scenario::Udp => "udp",
            Scenario::Latency => "latency",
            Scenario::Overload => "overload",
            Scenario::DiskQ => "diskq",
            Scenario::DiskQDa => "diskq-da",
        }
    }

    /// The prefix of the scenario's config files in benches/configs/.
    fn config_prefix(self) -> &'static str {
        match self {
            Scenario::Baseline | Scenario::Latency => "",
            Scenario::Rules => "rules-",
            Scenario::Forward | Scenario::Overload => "fwd-",
            Scenario::Tls => "tls-",
            Scenario::Relp => "relp-",
            Scenario::FwdTls => "fwd-tls-",
            Scenario::OmRelp => "omrelp-",
            Scenario::Uds => "uds-",
            Scenario::Udp => "udp-",
            Scenario::DiskQ => "dq-",
            Scenario::DiskQDa => "dqda-",
        }
    }
}

/// Output files of the rules scenario (out01.log … out10.log).
const RULE_FILES: usize = 10;

/// Line count and order-independent content hash of one output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStat {
    lines: u64,
    hash: u64,
}

#[derive(Debug, Clone)]
struct RunResult {
    daemon: &'static str,
    run: usize,
    seconds: f64,
    msgs_per_sec: f64,
    cpu_sec_per_million: f64,
    peak_rss_kb: u64,
    lost: u64,
    /// Scenario-specific figures (udp, latency, overload), reported as medians.
    extra: Vec<(&'static str, f64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // The disk-queue cases default to 10,000,000 messages (issue #9), the others to 1,000,000.
    let diskq_case = matches!(arg("--scenario").as_deref(), Some("diskq" | "diskq-da"));
    let n: usize = arg("--messages")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if diskq_case { 10_000_000 } else { 1_000_000 });
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if arg("--scenario").as_deref() == Some("all") {
        std::process::exit(all::main(&args, &root));
    }
    if args.iter().any(|a| a == "--taskset") {
        cases::pin_harness_to_core0();
    }
    let only: Option<Vec<String>> =
        arg("--only").map(|v| v.split(',').map(str::to_string).collect());
    let scenario = match arg("--scenario").as_deref() {
        None | Some("baseline") => Scenario::Baseline,
        Some("rules") => Scenario::Rules,
        Some("forward") => Scenario::Forward,
        Some("tls") => Scenario::Tls,
        Some("relp") => Scenario::Relp,
        Some("forward-tls") => Scenario::FwdTls,
        Some("omrelp") => Scenario::OmRelp,
        Some("uds") => Scenario::Uds,
        Some("udp") => Scenario::Udp,
        Some("latency") => Scenario::Latency,
        Some("overload") => Scenario::Overload,
        Some("diskq") => Scenario::DiskQ,
        Some("diskq-da") => Scenario::DiskQDa,
        Some(other) => {
            eprintln!("e2e: unknown scenario '{other}' (all, baseline, rules, forward, forward-tls, tls, relp, omrelp, uds, udp, latency, overload, diskq, diskq-da)");
            std::process::exit(2);
        }
    };
    // The disk-queue cases compare rsyslogd's defaults with oxsyslogd (no tuned config).
    let only = only.or_else(|| {
        diskq_case.then(|| vec!["rsyslogd-default".to_string(), "oxsyslogd".to_string()])
    });
    let rules = scenario == Scenario::Rules;
    let forward = scenario == Scenario::Forward;
    let tls = scenario == Scenario::Tls;
    let relp = scenario == Scenario::Relp;
    let connections: usize = arg("--connections")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let _ = CONNECTIONS.set(connections);
    let prefix = scenario.config_prefix();
    // The config names live for the whole run.
    let conf =
        |who: &str| -> &'static str { Box::leak(format!("{prefix}{who}.conf").into_boxed_str()) };
    let daemons: Vec<Daemon> = vec![
        Daemon {
            name: "rsyslogd-default",
            bin: "/usr/sbin/rsyslogd".into(),
            config: conf("rsyslogd-default"),
        },
        Daemon {
            name: "rsyslogd-tuned",
            bin: "/usr/sbin/rsyslogd".into(),
            config: conf("rsyslogd-tuned"),
        },
        Daemon {
            name: "oxsyslogd",
            // E2E_OXSYSLOGD: another build of the daemon (e.g. an older revision, for a
            // before/after comparison in the same harness)
            bin: std::env::var("E2E_OXSYSLOGD").unwrap_or_else(|_| OX.into()),
            config: conf("oxsyslogd"),
        },
    ]
    .into_iter()
    .filter(|d| only.as_ref().is_none_or(|o| o.iter().any(|x| x == d.name)))
    .collect();

    if daemons.is_empty() {
        eprintln!("e2e: --only selected no daemon");
        std::process::exit(2);
    }
    let payload = if rules {
        make_rules_payload(n)
    } else {
        make_payload(n)
    };
    if let Some(path) = arg("--dump-payload") {
        // For profiling a daemon by hand: the exact bytes a run sends, then exit.
        if let Err(e) = std::fs::write(&path, &payload) {
            eprintln!("e2e: cannot write {path}: {e}");
            std::process::exit(1);
        }
        return;
    }
    eprintln!(
        "e2e: scenario {}, {n} messages ({} bytes) per run, {runs} runs per daemon",
        scenario.name(),
        payload.len()
    );
    if tls || scenario == Scenario::FwdTls {
        match make_tls_certs() {
            Ok(dir) => {
                let _ = TLS_BENCH.set(TlsBench {
                    certs: dir,
                    connections,
                    client: tls,
                });
            }
            Err(e) => {
                eprintln!("e2e: cannot make the TLS certificates: {e}");
                std::process::exit(1);
            }
        }
    }
    // forward / forward-tls: the receiver in the harness (fwdrecv.rs), or with
    // `--fwd-receiver rsyslogd` the rsyslogd receivers of earlier figures.
    let rsyslogd_receiver = arg("--fwd-receiver").as_deref() == Some("rsyslogd");
    let fwd_tls = match TLS_BENCH.get() {
        Some(t) if scenario == Scenario::FwdTls && !rsyslogd_receiver => {
            match fwdrecv::tls_config(&t.certs) {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("e2e: forward-tls receiver: {e}");
                    std::process::exit(1);
                }
            }
        }
        _ => None,
    };
    // Rules scenario: what every file must hold, from an untimed calibration run.
    let expected: Vec<FileStat> = if rules {
        match run_rules_once(&daemons[0], &root, &payload, n, 0, None) {
            Ok((_, stats)) => {
                eprintln!(
                    "  calibration ({}): lines per file {:?}",
                    daemons[0].name,
                    stats.iter().map(|s| s.lines).collect::<Vec<_>>()
                );
                stats
            }
            Err(e) => {
                eprintln!("  calibration {}: FAILED: {e}", daemons[0].name);
                std::process::exit(1);
            }
        }
    } else {
        Vec::new()
    };
    let mut results = Vec::new();
    for run in 0..runs {
        for d in &daemons {
            let r = match scenario {
                Scenario::Rules => {
                    run_rules_once(d, &root, &payload, n, run, Some(&expected)).map(|(r, _)| r)
                }
                Scenario::Relp => run_relp_once(d, &root, &payload, n, run),
                Scenario::Forward if rsyslogd_receiver => {
                    run_forward_once(d, &root, &payload, n, run, "fwd-receiver.conf", false)
                }
                Scenario::FwdTls if rsyslogd_receiver => {
                    run_forward_once(d, &root, &payload, n, run, "fwd-tls-receiver.conf", false)
                }
                Scenario::Forward | Scenario::FwdTls => {
                    run_forward_harness(d, &root, &payload, n, run, fwd_tls.clone())
                }
                Scenario::OmRelp => {
                    let conf = cases::relp_receiver(&args);
                    run_forward_once(d, &root, &payload, n, run, conf, true)
                }
                Scenario::Uds => cases::run_uds_once(d, &root, &payload, n, run),
                Scenario::Udp => cases::run_udp_once(d, &root, &payload, n, run),
                Scenario::Latency => cases::run_latency_once(d, &root, n, run, &args),
                Scenario::Overload => cases::run_overload_once(d, &root, &payload, n, run, &args),
                Scenario::DiskQ | Scenario::DiskQDa => diskq::run_once(d, &root, &payload, n, run),
                Scenario::Baseline | Scenario::Tls => run_once(d, &root, &payload, n, run),
            };
            match r {
                Ok(r) => {
                    let extra: String = r
                        .extra
                        .iter()
                        .map(|(k, v)| format!("  {k}={v:.1}"))
                        .collect();
                    eprintln!(
                        "  run {run} {:<17} {:>10.0} msg/s  {:>6.3} CPU s/M  {:>7} kB peak RSS  {} lost{extra}",
                        r.daemon, r.msgs_per_sec, r.cpu_sec_per_million, r.peak_rss_kb, r.lost
                    );
                    results.push(r);
                }
                Err(e) => {
                    eprintln!("  run {run} {}: FAILED: {e}", d.name);
                    std::process::exit(1);
                }
            }
        }
    }
    let what = if rules {
        let counts: Vec<String> = expected.iter().map(|s| s.lines.to_string()).collect();
        format!(
            "# scenario rules: {n} messages (+1 end marker) over one TCP connection, 50 filters \
             (benches/configs/rules.conf) into {RULE_FILES} files (RSYSLOG_TraditionalFileFormat); \
             medians\n# lines per file out01..out10 (identical count and content hash for every \
             run): {} (total {})\n\n",
            counts.join(" "),
            expected.iter().map(|s| s.lines).sum::<u64>()
        )
    } else if relp {
        format!("# scenario relp: {n} messages over one TCP connection into an rsyslogd (benches/configs/relp-sender.conf) that forwards them with omrelp to the daemon under test (imrelp into omfile, %msg%); the receiver's CPU and RSS; medians\n\n")
    } else if forward && rsyslogd_receiver {
        format!("# scenario forward: {n} messages over one TCP connection, forwarded over TCP (omfwd, RSYSLOG_TraditionalForwardFormat) to one rsyslogd receiver (benches/configs/fwd-receiver.conf, --fwd-receiver rsyslogd); the forwarder's CPU and RSS; medians\n\n")
    } else if forward {
        format!("# scenario forward: {n} messages over one TCP connection, forwarded over TCP (omfwd, RSYSLOG_TraditionalForwardFormat) to a receiver in the harness (reads 256 KiB blocks and counts the sequence numbers, no file; the same for every daemon); the forwarder's CPU and RSS; medians\n\n")
    } else if scenario == Scenario::FwdTls && !rsyslogd_receiver {
        format!("# scenario forward-tls: {n} messages over one TCP connection, forwarded over TLS (omfwd, gtls driver, anon) to a receiver in the harness (rustls server with the bench certificate; reads 256 KiB blocks and counts the sequence numbers, no file; the same for every daemon); the forwarder's CPU and RSS; medians\n\n")
    } else if tls {
        format!("# scenario tls: {n} messages over {connections} TLS connection(s) (gtls driver, anon, RSA 2048 certificate, rustls client in the harness) into omfile (RSYSLOG_TraditionalFileFormat); medians\n\n")
    } else if let Some(w) = cases::describe(scenario, n) {
        w
    } else if matches!(scenario, Scenario::DiskQ | Scenario::DiskQDa) {
        diskq::describe(scenario == Scenario::DiskQDa, n)
    } else {
        format!("# {n} messages over {connections} TCP connection(s) into omfile (RSYSLOG_TraditionalFileFormat); medians\n\n")
    };
    let what = if args.iter().any(|a| a == "--taskset") {
        format!("# --taskset: the daemon under test on core 1, the harness and its peers on core 0\n{what}")
    } else {
        what
    };
    let report = report(&daemons, &results, &what, &args);
    print!("{report}");
    let dir = root.join("benches/results");
    let _ = std::fs::create_dir_all(&dir);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let file = dir.join(if rules {
        format!("e2e-rules-{stamp}.txt")
    } else if relp {
        format!("e2e-relp-{stamp}.txt")
    } else if forward {
        format!("e2e-forward-{stamp}.txt")
    } else if tls {
        format!("e2e-tls-c{connections}-{stamp}.txt")
    } else if scenario != Scenario::Baseline {
        format!("e2e-{}-{stamp}.txt", scenario.name())
    } else if connections > 1 {
        format!("e2e-c{connections}-{stamp}.txt")
    } else {
        format!("e2e-{stamp}.txt")
    });
    // --taskset runs get their own file names (e2e-…-<ts>.taskset.txt).
    let file = if args.iter().any(|a| a == "--taskset") {
        file.with_extension("").with_extension("taskset.txt")
    } else {
        file
    };
    if std::fs::write(&file, &report).is_ok() {
        eprintln!("results written to {}", file.display());
    }
    if let Some(summary) = arg("--summary") {
        // Medians for `--scenario all` (benches/e2e/all.rs reads them back).
        let case = arg("--case-name").unwrap_or_else(|| scenario.name().to_string());
        if let Err(e) = all::append_summary(Path::new(&summary), &case, &daemons, &results) {
            eprintln!("e2e: cannot write {summary}: {e}");
        }
    }
    if let Some(t) = TLS_BENCH.get() {
        let _ = std::fs::remove_dir_all(&t.certs);
    }
}

/// N syslog lines with a sequence number each, as one buffer (the sender's work is a copy).
fn make_payload(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 110);
    for i in 0..n {
        let _ = writeln!(
            v,
            "<134>Nov 23 18:00:00 benchhost app[4242]: seq={i:08} the quick brown fox jumps over the lazy dog"
        );
    }
    v
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return 0.0;
    }
    v[v.len() / 2]
}

fn report(daemons: &[Daemon], results: &[RunResult], what: &str, args: &[String]) -> String {
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut s = String::new();
    s.push_str(&format!(
        "# oxsyslog end-to-end benchmark\n# git revision: {rev}\n# command: {}\n",
        args.join(" ")
    ));
    s.push_str(what);
    s.push_str(
        "| daemon | msg/s | CPU s per million | peak RSS kB | lost |\n|---|---|---|---|---|\n",
    );
    let mut med = Vec::new();
    for d in daemons {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.daemon == d.name).collect();
        let tput = median(rs.iter().map(|r| r.msgs_per_sec).collect());
        let cpu = median(rs.iter().map(|r| r.cpu_sec_per_million).collect());
        let rss = median(rs.iter().map(|r| r.peak_rss_kb as f64).collect());
        let lost: u64 = rs.iter().map(|r| r.lost).sum();
        s.push_str(&format!(
            "| {} | {:.0} | {:.3} | {:.0} | {} |\n",
            d.name, tput, cpu, rss, lost
        ));
        med.push((d.name, tput, cpu, rss));
    }
    s.push_str(&all::extra_table(daemons, results));
    if let Some(ox) = med.iter().find(|m| m.0 == "oxsyslogd") {
        s.push('\n');
        for base in med.iter().filter(|m| m.0 != "oxsyslogd") {
            s.push_str(&format!(
                "oxsyslogd vs {}: throughput {:.2}x, CPU per message {:.2}x, peak RSS {:.2}x\n",
                base.0,
                ox.1 / base.1.max(1e-9),
                ox.2 / base.2.max(1e-9),
                ox.3 / base.3.max(1e-9)
            ));
        }
        // Runs are interleaved (each round runs every daemon once), so the ratio within a
        // round is less exposed to load that comes and goes on a shared machine.
        for base in med.iter().filter(|m| m.0 != "oxsyslogd") {
            let (mut tput, mut cpu) = (Vec::new(), Vec::new());
            for o in results.iter().filter(|r| r.daemon == "oxsyslogd") {
                if let Some(b) = results
                    .iter()
                    .find(|r| r.daemon == base.0 && r.run == o.run)
                {
                    tput.push(o.msgs_per_sec / b.msgs_per_sec.max(1e-9));
                    cpu.push(o.cpu_sec_per_million / b.cpu_sec_per_million.max(1e-9));
                }
            }
            let range = |v: &[f64]| {
                let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
                let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                format!("{lo:.2}-{hi:.2}x")
            };
            if !tput.is_empty() {
                s.push_str(&format!(
                    "  per round vs {}: throughput {}, CPU per message {}\n",
                    base.0,
                    range(&tput),
                    range(&cpu)
                ));
            }
        }
    }
    s.push_str("\n# every run\n");
    for r in results {
        let extra: String = r
            .extra
            .iter()
            .map(|(k, v)| format!(" {k}={v:.1}"))
            .collect();
        s.push_str(&format!(
            "{} run={} seconds={:.3} msg/s={:.0} cpu_s_per_M={:.3} peak_rss_kb={} lost={}{extra}\n",
            r.daemon,
            r.run,
            r.seconds,
            r.msgs_per_sec,
            r.cpu_sec_per_million,
            r.peak_rss_kb,
            r.lost
        ));
    }
    s
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (user + system) CPU seconds of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // fields after the command: state is index 0, utime is 11, stime 12
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

fn count_lines(path: &Path, from: &mut u64, count: &mut usize) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return;
    };
    use std::io::Seek;
    if f.seek(std::io::SeekFrom::Start(*from)).is_err() {
        return;
    }
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                *count += memchr::memchr_iter(b'\n', &buf[..k]).count();
                *from += k as u64;
            }
        }
    }
}

/// Writes the daemon's config into `dpath` (`@DIR@` → `dpath`, `@CONFIGS@` → benches/configs),
/// starts it with `-n -iNONE` and waits for its listen port file.
fn start_daemon(d: &Daemon, root: &Path, dpath: &Path) -> Result<(Guard, u32, u16), String> {
    start_daemon_with(d, root, dpath, None)
}

/// `start_daemon`, also replacing `@FWDPORT@` (the forwarding scenario's receiver port).
fn start_daemon_with(
    d: &Daemon,
    root: &Path,
    dpath: &Path,
    fwd_port: Option<u16>,
) -> Result<(Guard, u32, u16), String> {
    let configs = root.join("benches/configs");
    let conf = std::fs::read_to_string(configs.join(d.config)).map_err(|e| e.to_string())?;
    let conf_path = dpath.join("bench.conf");
    std::fs::write(
        &conf_path,
        conf.replace("@DIR@", &dpath.display().to_string())
            .replace("@CONFIGS@", &configs.display().to_string())
            .replace("@FWDPORT@", &fwd_port.unwrap_or(0).to_string())
            .replace(
                "@CERTS@",
                &TLS_BENCH
                    .get()
                    .map(|t| t.certs.display().to_string())
                    .unwrap_or_default(),
            ),
    )
    .map_err(|e| e.to_string())?;
    // --taskset: the daemon under test on core 1 (taskset execs it: same pid); peers
    // (receivers, senders) inherit the harness's core 0.
    let pin = cases::taskset() && !is_peer(d);
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(&d.bin);
        c
    } else {
        Command::new(&d.bin)
    };
    let child = cmd
        .args(["-n", "-iNONE", "-f"])
        .arg(&conf_path)
        .current_dir(dpath)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dpath.join("stderr")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", d.bin))?;
    let pid = child.id();
    let guard = Guard(child);
    let port_file = dpath.join("port");
    let start = Instant::now();
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let err = std::fs::read_to_string(dpath.join("stderr")).unwrap_or_default();
            return Err(format!("{} did not come up: {err}", d.name));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(200));
    Ok((guard, pid, port))
}

/// `--connections`: how many TCP connections the plain senders split the payload over.
static CONNECTIONS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Sends the payload over `--connections` TCP connections (split at line boundaries, one
/// thread each); the returned thread joins them.
fn spawn_sender(port: u16, payload: &[u8]) -> std::thread::JoinHandle<Result<(), String>> {
    let parts = split_lines(payload, CONNECTIONS.get().copied().unwrap_or(1));
    std::thread::spawn(move || -> Result<(), String> {
        let threads: Vec<_> = parts
            .into_iter()
            .map(|data| {
                std::thread::spawn(move || -> Result<(), String> {
                    let mut s =
                        TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
                    for chunk in data.chunks(256 * 1024) {
                        s.write_all(chunk).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for th in threads {
            th.join().map_err(|_| "sender panicked".to_string())??;
        }
        Ok(())
    })
}

/// The payload split at line boundaries into `k` parts of about equal size.
fn split_lines(payload: &[u8], k: usize) -> Vec<Vec<u8>> {
    let k = k.max(1);
    let mut parts = Vec::with_capacity(k);
    let mut start = 0;
    for i in 1..=k {
        let mut end = if i == k {
            payload.len()
        } else {
            (payload.len() * i / k).max(start)
        };
        while end < payload.len() && end > 0 && payload[end - 1] != b'\n' {
            end += 1;
        }
        parts.push(payload[start..end].to_vec());
        start = end;
    }
    parts
}

/// The TLS scenarios' settings: the certificates' directory, the number of connections, and
/// whether the harness sends over TLS itself (`tls`) or only a peer uses the certificates
/// (`forward-tls`).
struct TlsBench {
    certs: PathBuf,
    connections: usize,
    client: bool,
}

static TLS_BENCH: std::sync::OnceLock<TlsBench> = std::sync::OnceLock::new();

/// A CA and a server certificate (CN/SAN localhost, RSA 2048) made with certtool as the rsyslog
/// TLS how-to does, in a directory kept for the process (ca.pem, cert.pem, key.pem).
fn make_tls_certs() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("oxsyslog-e2e-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let run = |args: &[&str]| -> Result<(), String> {
        let o = Command::new("certtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("certtool: {e}"))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "certtool {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    };
    let write =
        |name: &str, text: &str| std::fs::write(dir.join(name), text).map_err(|e| e.to_string());
    write(
        "ca.tmpl",
        "cn = \"e2e CA\"\nexpiration_days = 30\nca\ncert_signing_key\n",
    )?;
    write(
        "cert.tmpl",
        "cn = \"localhost\"\ndns_name = \"localhost\"\nexpiration_days = 30\ntls_www_server\nsigning_key\nencryption_key\n",
    )?;
    run(&[
        "--generate-privkey",
        "--bits",
        "2048",
        "--outfile",
        "ca-key.pem",
    ])?;
    run(&[
        "--generate-self-signed",
        "--load-privkey",
        "ca-key.pem",
        "--template",
        "ca.tmpl",
        "--outfile",
        "ca.pem",
    ])?;
    run(&[
        "--generate-privkey",
        "--bits",
        "2048",
        "--outfile",
        "key.pem",
    ])?;
    run(&[
        "--generate-certificate",
        "--load-privkey",
        "key.pem",
        "--load-ca-certificate",
        "ca.pem",
        "--load-ca-privkey",
        "ca-key.pem",
        "--template",
        "cert.tmpl",
        "--outfile",
        "cert.pem",
    ])?;
    Ok(dir)
}

/// Sends the payload over `t.connections` TLS connections (rustls, trusting the bench CA),
/// split at line boundaries, one thread each; the returned thread joins them.
fn spawn_tls_senders(
    port: u16,
    payload: &[u8],
    t: &TlsBench,
) -> std::thread::JoinHandle<Result<(), String>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let ca = t.certs.join("ca.pem");
    let parts = split_lines(payload, t.connections);
    std::thread::spawn(move || -> Result<(), String> {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&ca).map_err(|e| format!("{}: {e}", ca.display()))? {
            roots
                .add(c.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let config = std::sync::Arc::new(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
        );
        let threads: Vec<_> = parts
            .into_iter()
            .map(|data| {
                let config = config.clone();
                std::thread::spawn(move || -> Result<(), String> {
                    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
                    let conn =
                        rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
                    let sock =
                        TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
                    let mut s = rustls::StreamOwned::new(conn, sock);
                    for chunk in data.chunks(256 * 1024) {
                        s.write_all(chunk).map_err(|e| e.to_string())?;
                    }
                    s.flush().map_err(|e| e.to_string())?;
                    s.conn.send_close_notify();
                    let _ = s.flush();
                    Ok(())
                })
            })
            .collect();
        for th in threads {
            th.join().map_err(|_| "TLS sender panicked".to_string())??;
        }
        Ok(())
    })
}

fn run_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, port) = start_daemon(d, root, dpath)?;
    let cpu0 = cpu_seconds(pid);
    let out = dpath.join("out.log");
    let t0 = Instant::now();
    let sender = match TLS_BENCH.get().filter(|t| t.client) {
        Some(t) => spawn_tls_senders(port, payload, t),
        None => spawn_sender(port, payload),
    };
    wait_output(&out, n);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    drop(guard);
    seq_result(d, run, &out, n, secs, cpu, rss)
}

/// Whether a daemon is a peer the harness starts (receiver, sender), not one under test.
fn is_peer(d: &Daemon) -> bool {
    matches!(d.name, "receiver" | "sender")
}

/// One run of the forwarding scenarios: a fresh receiver (rsyslogd, `receiver_conf`), then
/// the daemon under test forwarding to it; the clock stops when the receiver's file holds
/// all N lines; CPU and RSS are the forwarder's. With `relp_port` the receiver listens with
/// imrelp on a free port the harness picks (`@FWDPORT@`), else on its imtcp port.
fn run_forward_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
    receiver_conf: &'static str,
    relp_port: bool,
) -> Result<RunResult, String> {
    let receiver = Daemon {
        name: "receiver",
        // omrelp-receiver-ox.conf: oxsyslogd receives (see cases::relp_receiver)
        bin: if receiver_conf.ends_with("-ox.conf") {
            OX.into()
        } else {
            "/usr/sbin/rsyslogd".into()
        },
        config: receiver_conf,
    };
    let rdir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (rguard, rport) = if relp_port {
        let p = cases::free_port(false)?;
        let (g, _, _) = start_daemon_with(&receiver, root, rdir.path(), Some(p))?;
        cases::wait_listen(p, false)?;
        (g, p)
    } else {
        let (g, _, p) = start_daemon(&receiver, root, rdir.path())?;
        (g, p)
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, port) = start_daemon_with(d, root, dpath, Some(rport))?;
    let cpu0 = cpu_seconds(pid);
    let out = rdir.path().join("out.log");
    let t0 = Instant::now();
    let sender = spawn_sender(port, payload);
    wait_output(&out, n);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    drop(guard);
    drop(rguard);
    seq_result(d, run, &out, n, secs, cpu, rss)
}

/// One run of `forward` / `forward-tls` with the receiver in the harness (fwdrecv.rs, over
/// TLS with `tls`): the clock stops when it has seen every sequence number; CPU and RSS are
/// the forwarder's.
fn run_forward_harness(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> Result<RunResult, String> {
    let receiver = fwdrecv::Receiver::start(n, tls)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (guard, pid, port) = start_daemon_with(d, root, dir.path(), Some(receiver.port()))?;
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let sender = spawn_sender(port, payload);
    let secs = receiver.wait(t0);
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    drop(guard);
    let lost = receiver.finish();
    Ok(lost_result(d, run, n, secs, cpu, rss, lost))
}

/// Waits until `out` holds `n` lines, or nothing new arrived for 20 s (the rest is lost).
fn wait_output(out: &Path, n: usize) {
    let (mut off, mut lines) = (0u64, 0usize);
    let mut last_growth = Instant::now();
    while lines < n {
        let before = lines;
        count_lines(out, &mut off, &mut lines);
        if lines > before {
            last_growth = Instant::now();
        } else if last_growth.elapsed() > Duration::from_secs(20) {
            break; // output stopped growing: the rest is lost
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A run's figures, with every sequence number checked in `out`: the numbers below `n` that
/// never appear are lost and count against the rate.
fn seq_result(
    d: &Daemon,
    run: usize,
    out: &Path,
    n: usize,
    secs: f64,
    cpu: f64,
    rss: u64,
) -> Result<RunResult, String> {
    let text = std::fs::read(out).map_err(|e| e.to_string())?;
    let lost = cases::missing_seqs(&text, n);
    Ok(lost_result(d, run, n, secs, cpu, rss, lost))
}

/// A run's figures when `lost` of the N sequence numbers never arrived (they count against
/// the rate).
fn lost_result(
    d: &Daemon,
    run: usize,
    n: usize,
    secs: f64,
    cpu: f64,
    rss: u64,
    lost: u64,
) -> RunResult {
    let delivered = (n as u64 - lost).max(1) as f64;
    RunResult {
        daemon: d.name,
        run,
        seconds: secs,
        msgs_per_sec: delivered / secs,
        cpu_sec_per_million: cpu / (n as f64 / 1e6),
        peak_rss_kb: rss,
        lost,
        extra: Vec::new(),
    }
}

/// One run of the relp scenario: the daemon under test receives with imrelp on a free port
/// (`@FWDPORT@` in its config), a fresh rsyslogd (relp-sender.conf) forwards the payload to
/// it with omrelp; the clock stops when the receiver's file holds all N lines; CPU and RSS
/// are the receiver's.
fn run_relp_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
) -> Result<RunResult, String> {
    let relp_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (guard, pid, _) = start_daemon_with(d, root, dir.path(), Some(relp_port))?;
    let sender = Daemon {
        name: "sender",
        bin: "/usr/sbin/rsyslogd".into(),
        config: "relp-sender.conf",
    };
    let sdir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sguard, _, sport) = start_daemon_with(&sender, root, sdir.path(), Some(relp_port))?;
    let cpu0 = cpu_seconds(pid);
    let out = dir.path().join("out.log");
    let t0 = Instant::now();
    let feeder = spawn_sender(sport, payload);
    wait_output(&out, n);
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    feeder.join().map_err(|_| "sender panicked".to_string())??;
    drop(sguard);
    drop(guard);
    seq_result(d, run, &out, n, secs, cpu, rss)
}

/// The rules scenario's end-of-stream marker: its tag, and the whole line as sent.
const END_TAG: &[u8] = b" benchend: ";
const END_LINE: &str = "<134>Nov 23 18:00:00 lb01 benchend: end of benchmark stream";

/// A deterministic pseudo-random stream (xorshift64*), so every run sends the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

/// N varied syslog lines for the rules scenario, then the end marker: 10 programs with their
/// usual facilities, 8 hosts, every severity, about 30 message shapes with varying fields.
fn make_rules_payload(n: usize) -> Vec<u8> {
    const HOSTS: [&str; 8] = [
        "web01", "web02", "web03", "db01", "db02", "mail01", "fw01", "lb01",
    ];
    const USERS: [&str; 7] = [
        "root", "admin", "alice", "bob", "deploy", "backup", "www-data",
    ];
    // Mostly info, some of every other severity.
    const SEVS: [u8; 32] = [
        6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 3, 3, 7, 7, 7, 2, 1,
        0, 6,
    ];
    const STATUS: [u16; 12] = [200, 200, 200, 201, 301, 304, 401, 403, 404, 500, 502, 503];
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut v = Vec::with_capacity(n * 150 + 100);
    for i in 0..n {
        let host = r.pick(&HOSTS);
        let user = r.pick(&USERS);
        let sev = SEVS[r.below(SEVS.len())];
        let ip = match r.below(4) {
            0 => format!("10.0.{}.{}", r.below(4), r.below(250) + 1),
            1 => format!("203.0.113.{}", r.below(250) + 1),
            2 => format!("198.51.100.{}", r.below(250) + 1),
            _ => format!("192.168.1.{}", r.below(250) + 1),
        };
        let port = 1024 + r.below(60000);
        let pid = 300 + r.below(30000);
        let num = r.below(1000);
        let shape = r.below(5);
        let (fac, tag, text): (u8, String, String) = match r.below(10) {
            0 => (
                if shape.is_multiple_of(2) { 4 } else { 10 },
                format!("sshd[{pid}]"),
                match shape {
                    0 => format!("Accepted publickey for {user} from {ip} port {port} ssh2"),
                    1 => format!("Failed password for {user} from {ip} port {port} ssh2"),
                    2 => format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
                    3 => format!("Connection closed by {ip} port {port} [preauth]"),
                    _ => format!("pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)"),
                },
            ),
            1 => (
                0,
                "kernel".into(),
                match shape {
                    0 => format!("[UFW BLOCK] IN=eth0 OUT= MAC= SRC={ip} DST=10.0.0.5 LEN=60 PROTO=TCP SPT={port} DPT=22"),
                    1 => format!("[UFW ALLOW] IN=eth0 OUT= SRC={ip} DST=10.0.0.5 LEN=72 PROTO=UDP SPT={port} DPT=53"),
                    2 => format!("Out of memory: Killed process {pid} (java) total-vm:{num}123kB, anon-rss:{port}kB"),
                    3 => "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro".into(),
                    _ => format!("traps: php-fpm[{pid}] general protection fault ip:7f3a{num} sp:7ffd error:0 segfault"),
                },
            ),
            2 => (
                9,
                format!("CRON[{pid}]"),
                match shape % 2 {
                    0 => format!("({user}) CMD (/usr/local/bin/backup.sh --full --id {num})"),
                    _ => format!("pam_unix(cron:session): session closed for user {user}"),
                },
            ),
            3 => {
                let st = STATUS[r.below(STATUS.len())];
                let path = match shape {
                    0 | 1 => format!("GET /api/v1/items/{num} HTTP/1.1"),
                    2 => "POST /login HTTP/1.1".into(),
                    3 => format!("GET /static/app.{num}.js HTTP/1.0"),
                    _ => "GET /health HTTP/1.1".into(),
                };
                (23, format!("nginx[{pid}]"), format!("{ip} - - \"{path}\" {st} {}", num * 7))
            }
            4 => (
                2,
                format!("postfix/smtpd[{pid}]"),
                match shape {
                    0 | 1 => format!("connect from unknown[{ip}]"),
                    2 => format!("NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 <{user}@example.org>: Relay access denied; from=<spam@example.net> to=<{user}@example.org> proto=ESMTP helo=<mx>"),
                    _ => format!("disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"),
                },
            ),
            5 => (
                10,
                "sudo".into(),
                format!("{user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/systemctl restart nginx", num % 8),
            ),
            6 => {
                let level = match sev {
                    0..=3 => "ERROR",
                    4 => "WARN",
                    7 => "DEBUG",
                    _ => "INFO",
                };
                let module = r.pick(&["billing", "auth", "search", "cart"]);
                (
                    16,
                    format!("app[{pid}]"),
                    format!("level={level} module={module} user={user} latency_ms={num} msg=\"request done\" connection=keep-alive"),
                )
            }
            7 => (
                3,
                "systemd[1]".into(),
                match shape {
                    0 | 1 => format!("Started Session {num} of User {user}."),
                    2 => "Failed to start nginx.service - A high performance web server.".into(),
                    3 => "nginx.service: Unit entered failed state.".into(),
                    _ => format!("Stopping User Manager for UID {num}..."),
                },
            ),
            8 => {
                let st = STATUS[r.below(STATUS.len())];
                (
                    19,
                    format!("haproxy[{pid}]"),
                    format!("{ip}:{port} [23/Nov/2026:18:00:00.{num:03}] fe_http be_app/srv{} 0/0/1/2/{num} {st} {} - - ---- 1/1/0/0/0 0/0 \"GET /health HTTP/1.1\"", shape + 1, num * 3),
                )
            }
            _ => (
                3,
                format!("dhclient[{pid}]"),
                match shape % 2 {
                    0 => format!("DHCPREQUEST for 10.0.{}.{} on eth0 to 10.0.0.1 port 67", num % 4, num % 250),
                    _ => format!("DHCPACK of 10.0.{}.{} from 10.0.0.1 (xid=0x{num:x})", num % 4, num % 250),
                },
            ),
        };
        let _ = writeln!(
            v,
            "<{}>Nov 23 18:{:02}:{:02} {host} {tag}: {text}",
            fac as u32 * 8 + sev as u32,
            (i / 60) % 60,
            i % 60
        );
    }
    let _ = writeln!(v, "{END_LINE}");
    v
}

/// Incremental reader of one output file: complete lines so far, and whether the end marker
/// was among them.
#[derive(Default)]
struct Tail {
    off: u64,
    lines: u64,
    partial: Vec<u8>,
    marker: bool,
}

impl Tail {
    fn scan(&mut self, path: &Path, buf: &mut [u8]) {
        let Ok(mut f) = std::fs::File::open(path) else {
            return;
        };
        use std::io::Seek;
        if f.seek(std::io::SeekFrom::Start(self.off)).is_err() {
            return;
        }
        loop {
            match f.read(buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    self.off += k as u64;
                    let chunk = &buf[..k];
                    let Some(last_nl) = memchr::memrchr(b'\n', chunk) else {
                        self.partial.extend_from_slice(chunk);
                        continue;
                    };
                    self.lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
                    if !self.marker {
                        // The complete lines: the carried partial line, then this chunk's.
                        self.partial.extend_from_slice(&chunk[..=last_nl]);
                        self.marker = memchr::memmem::find(&self.partial, END_TAG).is_some();
                    }
                    self.partial.clear();
                    self.partial.extend_from_slice(&chunk[last_nl + 1..]);
                }
            }
        }
    }
}

/// Line count and a content hash that does not depend on line order (wrapping sum of
/// per-line SipHash values with fixed keys).
fn file_stat(path: &Path) -> Result<FileStat, String> {
    use std::hash::{Hash, Hasher};
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut st = FileStat { lines: 0, hash: 0 };
    let body = text.strip_suffix(b"\n").unwrap_or(&text);
    if text.is_empty() {
        return Ok(st);
    }
    for line in body.split(|&b| b == b'\n') {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        line.hash(&mut h);
        st.hash = st.hash.wrapping_add(h.finish());
        st.lines += 1;
    }
    if !text.ends_with(b"\n") {
        return Err(format!("{}: last line incomplete", path.display()));
    }
    Ok(st)
}

/// One run of the rules scenario. Without `expected` (calibration, untimed in effect): waits
/// for the end marker in every file, then for one second without growth. With it: the clock
/// stops when every file holds its expected line count; counts and hashes must then match.
fn run_rules_once(
    d: &Daemon,
    root: &Path,
    payload: &[u8],
    n: usize,
    run: usize,
    expected: Option<&[FileStat]>,
) -> Result<(RunResult, Vec<FileStat>), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dpath = dir.path();
    let (guard, pid, port) = start_daemon(d, root, dpath)?;
    let files: Vec<PathBuf> = (1..=RULE_FILES)
        .map(|i| dpath.join(format!("out{i:02}.log")))
        .collect();
    let mut tails: Vec<Tail> = (0..RULE_FILES).map(|_| Tail::default()).collect();
    let mut buf = vec![0u8; 1 << 20];
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let sender = spawn_sender(port, payload);
    let mut last_growth = Instant::now();
    let mut stalled = false;
    loop {
        let before: u64 = tails.iter().map(|t| t.lines).sum();
        for (t, f) in tails.iter_mut().zip(&files) {
            t.scan(f, &mut buf);
        }
        let done = match expected {
            Some(exp) => tails.iter().zip(exp).all(|(t, e)| t.lines >= e.lines),
            None => tails.iter().all(|t| t.marker),
        };
        if done {
            break;
        }
        if tails.iter().map(|t| t.lines).sum::<u64>() > before {
            last_growth = Instant::now();
        } else if last_growth.elapsed() > Duration::from_secs(20) {
            stalled = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let rss = peak_rss_kb(pid);
    sender.join().map_err(|_| "sender panicked".to_string())??;
    // Let stragglers (reordered batches, duplicates) land before the files are compared.
    let settle = if expected.is_some() { 300 } else { 1000 };
    let mut quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(settle) {
        let before: u64 = tails.iter().map(|t| t.lines).sum();
        std::thread::sleep(Duration::from_millis(50));
        for (t, f) in tails.iter_mut().zip(&files) {
            t.scan(f, &mut buf);
        }
        if tails.iter().map(|t| t.lines).sum::<u64>() > before {
            quiet = Instant::now();
        }
    }
    drop(guard);
    let stats = files
        .iter()
        .map(|f| file_stat(f))
        .collect::<Result<Vec<_>, _>>()?;
    let counts = |s: &[FileStat]| s.iter().map(|x| x.lines).collect::<Vec<_>>();
    if let Some(exp) = expected {
        if stats != exp {
            let bad: Vec<String> = stats
                .iter()
                .zip(exp)
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| {
                    format!(
                        "out{:02}.log: {} lines (hash {:016x}), expected {} (hash {:016x})",
                        i + 1,
                        a.lines,
                        a.hash,
                        b.lines,
                        b.hash
                    )
                })
                .collect();
            return Err(format!(
                "output differs from the calibration run{}: {}",
                if stalled {
                    " (output stalled for 20 s)"
                } else {
                    ""
                },
                bad.join("; ")
            ));
        }
    } else if stalled || !tails.iter().all(|t| t.marker) {
        return Err(format!(
            "end marker missing from some files after 20 s without output; lines {:?}",
            counts(&stats)
        ));
    }
    Ok((
        RunResult {
            daemon: d.name,
            run,
            seconds: secs,
            msgs_per_sec: n as f64 / secs,
            cpu_sec_per_million: cpu / (n as f64 / 1e6),
            peak_rss_kb: rss,
            lost: 0,
            extra: Vec::new(),
        },
        stats,
    ))
}
