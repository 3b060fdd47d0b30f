//! `--scenario all`: runs every case of the end-to-end harness (each in a child process of this
//! same binary, so one case's daemons and threads cannot disturb the next), gathers each
//! case's medians from a summary file, prints one table (messages/s, CPU s per million, peak
//! RSS, loss, ratios against rsyslogd-default), and writes it as benches/results/e2e-all-<ts>.md
//! with a hand-made SVG bar chart of oxsyslogd's ratios (benches/results/e2e-all-<ts>.svg).
//! Also the per-scenario pieces the child writes: the summary lines and the extra-figures table.

use super::{median, Daemon, RunResult};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// One case: its name in the table and the arguments of the child run.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "tcp",
        args: &["--scenario", "baseline"],
    },
    Case {
        name: "tcp-20conn",
        args: &["--scenario", "baseline", "--connections", "20"],
    },
    Case {
        name: "tls",
        args: &["--scenario", "tls"],
    },
    Case {
        name: "uds",
        args: &["--scenario", "uds"],
    },
    Case {
        name: "rules",
        args: &["--scenario", "rules"],
    },
    Case {
        name: "forward",
        args: &["--scenario", "forward"],
    },
    Case {
        name: "forward-tls",
        args: &["--scenario", "forward-tls"],
    },
    Case {
        name: "relp-in",
        // rsyslogd's imrelp receives only ~3,000 messages/s from relp-sender.conf here
        args: &["--scenario", "relp", "--messages", "20000"],
    },
    Case {
        name: "relp-out",
        // rsyslogd's omrelp moves only ~700-2,500 messages/s with these configs on this
        // machine: a fixed 20000 keeps the case under a minute per run.
        args: &["--scenario", "omrelp", "--messages", "20000"],
    },
    Case {
        name: "udp",
        args: &["--scenario", "udp"],
    },
    Case {
        name: "latency",
        args: &["--scenario", "latency"],
    },
    Case {
        // the same paced rate for every daemon (about 5% of rsyslogd-default's capacity here)
        name: "latency-20k",
        args: &["--scenario", "latency", "--rate", "20000"],
    },
    Case {
        // a fixed 1000000 (about 100 MB): far more than the kernel's socket buffers hold, so
        // the daemon's own queues must fill
        name: "overload",
        args: &["--scenario", "overload", "--messages", "1000000"],
    },
];

/// Flags handed on to every child run unchanged (with their value).
const PASS_ON: &[&str] = &[
    "--messages",
    "--only",
    "--drain",
    "--rate",
    "--latency-seconds",
    "--relp-receiver",
    "--fwd-receiver",
];

/// One summary line: a case, a daemon, its medians and its extra figures.
#[derive(Debug, Clone, Default)]
struct Row {
    case: String,
    daemon: String,
    msgs: f64,
    cpu: f64,
    rss: f64,
    lost: u64,
    extra: Vec<(String, f64)>,
}

impl Row {
    fn get(&self, k: &str) -> Option<f64> {
        self.extra.iter().find(|(x, _)| x == k).map(|(_, v)| *v)
    }
}

/// Appends the medians of one scenario run to the summary file (tab-separated `key=value`).
pub fn append_summary(
    path: &Path,
    case: &str,
    daemons: &[Daemon],
    results: &[RunResult],
) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    for d in daemons {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.daemon == d.name).collect();
        let mut line = format!(
            "case={case}\tdaemon={}\tmsgs={:.1}\tcpu={:.4}\trss={:.0}\tlost={}",
            d.name,
            median(rs.iter().map(|r| r.msgs_per_sec).collect()),
            median(rs.iter().map(|r| r.cpu_sec_per_million).collect()),
            median(rs.iter().map(|r| r.peak_rss_kb as f64).collect()),
            rs.iter().map(|r| r.lost).sum::<u64>()
        );
        for k in extra_keys(results) {
            let v = median(
                rs.iter()
                    .filter_map(|r| r.extra.iter().find(|(x, _)| *x == k).map(|(_, v)| *v))
                    .collect(),
            );
            line.push_str(&format!("\t{k}={v:.3}"));
        }
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn extra_keys(results: &[RunResult]) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    for r in results {
        for (k, _) in &r.extra {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// The medians of the scenario-specific figures per daemon, as a markdown table (empty when
/// the scenario has none).
pub fn extra_table(daemons: &[Daemon], results: &[RunResult]) -> String {
    let keys = extra_keys(results);
    if keys.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n| daemon | {} |\n|---|{}\n",
        keys.join(" | "),
        "---|".repeat(keys.len())
    );
    for d in daemons {
        let rs: Vec<&RunResult> = results.iter().filter(|r| r.daemon == d.name).collect();
        let vals: Vec<String> = keys
            .iter()
            .map(|k| {
                let v = median(
                    rs.iter()
                        .filter_map(|r| r.extra.iter().find(|(x, _)| x == k).map(|(_, v)| *v))
                        .collect(),
                );
                format!("{v:.1}")
            })
            .collect();
        s.push_str(&format!("| {} | {} |\n", d.name, vals.join(" | ")));
    }
    s
}

fn parse_rows(text: &str) -> Vec<Row> {
    text.lines()
        .map(|l| {
            let mut r = Row::default();
            for kv in l.split('\t') {
                let Some((k, v)) = kv.split_once('=') else {
                    continue;
                };
                let num = v.parse::<f64>().unwrap_or(0.0);
                match k {
                    "case" => r.case = v.to_string(),
                    "daemon" => r.daemon = v.to_string(),
                    "msgs" => r.msgs = num,
                    "cpu" => r.cpu = num,
                    "rss" => r.rss = num,
                    "lost" => r.lost = v.parse().unwrap_or(0),
                    _ => r.extra.push((k.to_string(), num)),
                }
            }
            r
        })
        .filter(|r| !r.case.is_empty())
        .collect()
}

fn cmd_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// This machine in one line: CPU model, cores, memory, kernel, rsyslogd version.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|x| x.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1} GiB RAM", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    let rsyslog = cmd_line("/usr/sbin/rsyslogd", &["-v"]);
    format!(
        "{model}, {} cores, {mem}, Linux {}, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cmd_line("uname", &["-r"]),
        rsyslog
            .lines()
            .next()
            .unwrap_or("rsyslogd ?")
            .trim_end_matches(" compiled with:")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// oxsyslogd's ratios against rsyslogd-default in one case: (first bar's label, its ratio,
/// CPU per message, peak RSS). The first bar is throughput, or p99 latency in `latency`.
type Ratios = (&'static str, f64, f64, f64);

fn ratios(rows: &[Row], case: &str) -> Option<Ratios> {
    let base = rows
        .iter()
        .find(|r| r.case == case && r.daemon == "rsyslogd-default")?;
    let ox = rows
        .iter()
        .find(|r| r.case == case && r.daemon == "oxsyslogd")?;
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let first = if case.starts_with("latency") {
        ("p99 latency", div(ox.get("p99_us")?, base.get("p99_us")?))
    } else if case.starts_with("udp") {
        ("lossless rate", div(ox.msgs, base.msgs))
    } else {
        ("msg/s", div(ox.msgs, base.msgs))
    };
    Some((
        first.0,
        first.1,
        div(ox.cpu, base.cpu),
        div(ox.rss, base.rss),
    ))
}

/// The table (markdown) of every case and daemon.
fn table(rows: &[Row], cases: &[String], failed: &[String]) -> String {
    let mut s = String::from(
        "| case | daemon | msg/s | CPU s per million | peak RSS MB | lost | msg/s × | CPU × | RSS × | notes |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for case in cases {
        if failed.contains(case) {
            s.push_str(&format!(
                "| {case} | FAILED (see the log) | | | | | | | | |\n"
            ));
            continue;
        }
        let base = rows
            .iter()
            .find(|r| &r.case == case && r.daemon == "rsyslogd-default")
            .cloned();
        for r in rows.iter().filter(|r| &r.case == case) {
            let rat = |a: f64, b: f64| {
                if r.daemon == "rsyslogd-default" || b <= 0.0 {
                    String::new()
                } else {
                    format!("{:.2}", a / b)
                }
            };
            let (tx, cx, rx) = match &base {
                Some(b) if case.starts_with("latency") => {
                    let t = rat(
                        r.get("p99_us").unwrap_or(0.0),
                        b.get("p99_us").unwrap_or(0.0),
                    );
                    (
                        if t.is_empty() {
                            t
                        } else {
                            format!("{t} (p99)")
                        },
                        rat(r.cpu, b.cpu),
                        rat(r.rss, b.rss),
                    )
                }
                Some(b) => (rat(r.msgs, b.msgs), rat(r.cpu, b.cpu), rat(r.rss, b.rss)),
                None => (String::new(), String::new(), String::new()),
            };
            let notes: Vec<String> = r
                .extra
                .iter()
                .map(|(k, v)| {
                    if v.fract() == 0.0 || v.abs() >= 100.0 {
                        format!("{k}={v:.0}")
                    } else {
                        format!("{k}={v:.2}")
                    }
                })
                .collect();
            s.push_str(&format!(
                "| {case} | {} | {:.0} | {:.3} | {:.1} | {} | {tx} | {cx} | {rx} | {} |\n",
                r.daemon,
                r.msgs,
                r.cpu,
                r.rss / 1024.0,
                r.lost,
                notes.join(" ")
            ));
        }
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of oxsyslogd's ratios against rsyslogd-default, one group of three
/// bars per case, as SVG text.
fn svg(rows: &[Row], cases: &[String], title: &str) -> String {
    let data: Vec<(&String, Ratios)> = cases
        .iter()
        .filter_map(|c| ratios(rows, c).map(|r| (c, r)))
        .collect();
    let max = data
        .iter()
        .flat_map(|(_, r)| [r.1, r.2, r.3])
        .fold(2.5f64, f64::max)
        .min(4.0)
        .ceil();
    let (left, width, bar, gap, top) = (190.0, 560.0, 13.0, 14.0, 78.0);
    let group = 3.0 * bar + gap;
    let height = top + group * data.len() as f64 + 40.0;
    let x = |v: f64| left + v.min(max) / max * width;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        esc(title),
        w = left + width + 170.0
    );
    let colors = [
        (
            "#2e8b57",
            "throughput × (higher is better; latency case: p99 ×, lower is better)",
        ),
        ("#e07b39", "CPU per message × (lower is better)"),
        ("#4a7bd0", "peak RSS × (lower is better)"),
    ];
    for (i, (c, label)) in colors.iter().enumerate() {
        let y = 34.0 + i as f64 * 14.0;
        s.push_str(&format!(
            "<rect x=\"10\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{c}\"/>\
             <text x=\"26\" y=\"{}\">{}</text>\n",
            y,
            y + 9.0,
            esc(label)
        ));
    }
    // Grid lines with the targets: 0.5 (CPU) and 2.0 (throughput), 1.0 = rsyslogd-default.
    let mut v = 0.0;
    while v <= max + 1e-9 {
        // 1× = rsyslogd-default; the targets: 0.5× CPU (orange), 2× throughput (green).
        let dash = if v == 1.0 {
            " stroke=\"#444\""
        } else if v == 0.5 {
            " stroke=\"#e07b39\" stroke-dasharray=\"5,3\""
        } else if v == 2.0 {
            " stroke=\"#2e8b57\" stroke-dasharray=\"5,3\""
        } else {
            " stroke=\"#bbb\" stroke-dasharray=\"2,4\""
        };
        s.push_str(&format!(
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"{dash}/>\
             <text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#555\">{v}×</text>\n",
            x(v),
            top - 6.0,
            height - 30.0,
            height - 16.0
        ));
        v += if max > 6.0 { 1.0 } else { 0.5 };
    }
    for (i, (case, r)) in data.iter().enumerate() {
        let y0 = top + i as f64 * group;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            left - 8.0,
            y0 + bar * 1.5 + 4.0,
            esc(case)
        ));
        for (j, val) in [r.1, r.2, r.3].iter().enumerate() {
            let y = y0 + j as f64 * bar;
            s.push_str(&format!(
                "<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\"/>\
                 <text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{val:.2}{}</text>\n",
                (x(*val) - left).max(0.5),
                bar - 2.0,
                colors[j].0,
                x(*val) + 3.0,
                y + bar - 4.0,
                {
                    let kind = match (j, r.0) {
                        (0, "p99 latency") => "p99 latency",
                        (0, "lossless rate") => "lossless rate",
                        _ => "",
                    };
                    let off = if *val > max { "off scale" } else { "" };
                    match (kind.is_empty(), off.is_empty()) {
                        (true, true) => String::new(),
                        (false, true) => format!(" ({kind})"),
                        (true, false) => format!(" ({off})"),
                        (false, false) => format!(" ({kind}, {off})"),
                    }
                }
            ));
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Runs every case; returns the exit code.
pub fn main(args: &[String], root: &Path) -> i32 {
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs = arg("--runs").unwrap_or_else(|| "5".into());
    let only_cases: Option<Vec<String>> =
        arg("--cases").map(|v| v.split(',').map(str::to_string).collect());
    let taskset_variants = !args.iter().any(|a| a == "--no-taskset");
    // --taskset-only: just the `+taskset` variants
    let plain_variants = !args.iter().any(|a| a == "--taskset-only");
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("e2e all: cannot find this harness's executable: {e}");
            return 1;
        }
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let summary = std::env::temp_dir().join(format!("oxsyslog-e2e-all-{stamp}.tsv"));
    let load_before = loadavg();
    let started = std::time::Instant::now();
    let mut names = Vec::new();
    let mut failed = Vec::new();
    for taskset in [false, true] {
        if (taskset && !taskset_variants) || (!taskset && !plain_variants) {
            continue;
        }
        for c in CASES {
            if only_cases
                .as_ref()
                .is_some_and(|o| !o.iter().any(|x| x == c.name))
            {
                continue;
            }
            let name = if taskset {
                format!("{}+taskset", c.name)
            } else {
                c.name.to_string()
            };
            eprintln!("== e2e all: case {name}");
            let mut cmd = Command::new(&exe);
            // Each case's own report goes to its results file; stdout keeps only the table.
            cmd.stdout(std::process::Stdio::null());
            cmd.args(c.args)
                .args(["--runs", &runs, "--case-name", &name])
                .arg("--summary")
                .arg(&summary);
            if taskset {
                cmd.arg("--taskset");
            }
            for flag in PASS_ON {
                if let Some(v) = arg(flag) {
                    cmd.args([flag, &v.as_str()]);
                }
            }
            match cmd.status() {
                Ok(st) if st.success() => {}
                Ok(st) => {
                    eprintln!("== e2e all: case {name} failed ({st})");
                    failed.push(name.clone());
                }
                Err(e) => {
                    eprintln!("== e2e all: case {name}: cannot run {}: {e}", exe.display());
                    failed.push(name.clone());
                }
            }
            names.push(name);
        }
    }
    let rows = parse_rows(&std::fs::read_to_string(&summary).unwrap_or_default());
    let _ = std::fs::remove_file(&summary);
    let rev = cmd_line("git", &["rev-parse", "--short", "HEAD"]);
    let title = format!("oxsyslogd / rsyslogd-default, medians of {runs} runs (git {rev})");
    let mut md = format!(
        "# oxsyslog end-to-end benchmark, every case\n\n\
         - machine: {}\n- git revision: {rev}\n- command: `cargo bench --bench e2e -- {}`\n\
         - load average before: {load_before}; after: {}; {:.0} s in all\n\
         - medians of {runs} runs per daemon; ratios are oxsyslogd (or rsyslogd-tuned) / \
         rsyslogd-default; `+taskset` = daemon on core 1, harness and peers on core 0\n\
         - udp: msg/s = highest lossless paced rate, lost = datagrams lost at full speed \
         (all runs); relp-in, relp-out: 20000 messages, overload: 1000000 regardless \
         of --messages; latency: msg/s = paced rate (10% of each daemon's capacity; latency-20k: \
         20000/s for all), ratio column = p99 ratio; \
         overload: receiver drains `drain` msg/s, rss_q1..q4 = RSS kB at each quarter\n\n",
        machine(),
        args.iter()
            .skip(1)
            .filter(|a| *a != "--bench")
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    md.push_str(&table(&rows, &names, &failed));
    let dir = root.join("benches/results");
    let _ = std::fs::create_dir_all(&dir);
    let svg_name = format!("e2e-all-{stamp}.svg");
    md.push_str(&format!("\n![ratios]({svg_name})\n"));
    print!("{md}");
    let mdf = dir.join(format!("e2e-all-{stamp}.md"));
    let svgf = dir.join(&svg_name);
    match std::fs::write(&mdf, &md).and_then(|_| std::fs::write(&svgf, svg(&rows, &names, &title)))
    {
        Ok(()) => eprintln!(
            "results written to {} and {}",
            mdf.display(),
            svgf.display()
        ),
        Err(e) => eprintln!("e2e all: cannot write {}: {e}", dir.display()),
    }
    if failed.is_empty() {
        0
    } else {
        1
    }
}
