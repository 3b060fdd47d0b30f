//! Criterion micro-benchmarks of the hot path, one stage at a time: TCP framing, parsing
//! (sanitise + PRI + RFC 3164/5424), ruleset filtering (a small Debian-like set, and the 50
//! rules of the e2e `rules` scenario, benches/configs/rules.conf, on a mixed message set),
//! template rendering and writing (omfile: render + one write per batch into a temp file).
//! Run: `cargo bench --bench components`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oxsyslog::config::load_text;
use oxsyslog::filter::exec::Rulesets;
use oxsyslog::input::framing::{Decoder, FramingOptions};
use oxsyslog::message::{Batch, Peer};
use oxsyslog::parse::{now_local, push_message, InputFlags, ParseOptions, Received};
use oxsyslog::template::{RenderEnv, Templates};
use std::sync::Arc;
use std::time::{Duration, Instant};

const N: usize = 1000;

fn lines_3164() -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| format!("<134>Nov 23 18:00:00 benchhost app[4242]: seq={i:08} the quick brown fox jumps over the lazy dog").into_bytes())
        .collect()
}

fn lines_5424() -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| format!("<165>1 2026-11-23T18:00:00.123456+01:00 host app 4242 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\"] seq={i:08} an application event").into_bytes())
        .collect()
}

fn batch_of(lines: &[Vec<u8>]) -> Batch {
    let mut b = Batch::with_capacity(256 * 1024, N);
    b.peers.push(Peer {
        host: Arc::from("localhost"),
        ip: Arc::from("127.0.0.1"),
        port: Arc::from("514"),
    });
    let now = now_local();
    let rx = Received {
        peer: 0,
        input: 1,
        time: now.0,
        unix: now.1,
    };
    let opts = ParseOptions::default();
    for l in lines {
        push_message(&mut b, l, &rx, &InputFlags::default(), &opts);
    }
    b
}

fn framing(c: &mut Criterion) {
    let mut stream = Vec::new();
    for l in lines_3164() {
        stream.extend_from_slice(&l);
        stream.push(b'\n');
    }
    let mut g = c.benchmark_group("framing");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("lf_1000_msgs", |b| {
        b.iter(|| {
            let mut d = Decoder::new(FramingOptions::default());
            let mut n = 0usize;
            d.feed(&stream, &mut |m| n += m.len(), &mut |_| {});
            n
        })
    });
    g.finish();
}

fn parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(N as u64));
    for (name, lines) in [("rfc3164", lines_3164()), ("rfc5424", lines_5424())] {
        let now = now_local();
        let rx = Received {
            peer: 0,
            input: 1,
            time: now.0,
            unix: now.1,
        };
        let opts = ParseOptions::default();
        let mut b = Batch::with_capacity(256 * 1024, N);
        g.bench_function(name, |bench| {
            bench.iter(|| {
                b.clear();
                for l in &lines {
                    push_message(&mut b, l, &rx, &InputFlags::default(), &opts);
                }
                b.len()
            })
        });
    }
    g.finish();
}

fn filtering(c: &mut Criterion) {
    let cfg = load_text(
        "bench.conf",
        "auth,authpriv.* /tmp/a\n*.*;auth,authpriv.none -/tmp/s\n:msg, contains, \"fox\" /tmp/f\nif $programname == 'app' and $msg contains 'lazy' then /tmp/x\n",
    )
    .config;
    let mut rs = Rulesets::compile_without_templates(&cfg).unwrap();
    let mut st = oxsyslog::filter::exec::State::default();
    let env = RenderEnv::new("benchhost");
    let batch = batch_of(&lines_3164());
    let mut scratch = Vec::new();
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("debian_like_rules", |b| {
        b.iter(|| {
            let mut fired = 0usize;
            for i in 0..batch.len() {
                rs.run(
                    0,
                    batch.get(i),
                    &env,
                    &mut st,
                    &mut scratch,
                    &mut |_, _, _| {
                        fired += 1;
                        Some(false)
                    },
                );
            }
            fired
        })
    });
    g.finish();
}

fn rendering(c: &mut Criterion) {
    let cfg = load_text("bench.conf", "template(name=\"json\" type=\"list\") { property(name=\"msg\" format=\"jsonf\") constant(value=\"\\n\") }\n*.* /tmp/x\n").config;
    let tpls = Templates::from_config(&cfg).unwrap();
    let env = RenderEnv::new("benchhost");
    let batch = batch_of(&lines_3164());
    let mut out = Vec::with_capacity(256 * 1024);
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(N as u64));
    for name in [
        "RSYSLOG_TraditionalFileFormat",
        "RSYSLOG_FileFormat",
        "RSYSLOG_SyslogProtocol23Format",
        "json",
    ] {
        let t = tpls.get(name).unwrap().clone();
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                for i in 0..batch.len() {
                    t.render(batch.get(i), &env, &mut out);
                }
                out.len()
            })
        });
    }
    g.finish();
}

/// A message mix in the spirit of the e2e `rules` scenario: each program, several hosts and
/// severities, so every kind of filter in rules.conf is exercised.
fn lines_mix() -> Vec<Vec<u8>> {
    const HOSTS: [&str; 8] = [
        "web01", "web02", "web03", "db01", "db02", "mail01", "fw01", "lb01",
    ];
    const SHAPES: [(u8, &str, &str); 16] = [
        (4, "sshd[2301]", "Accepted publickey for alice from 10.0.1.7 port 40022 ssh2"),
        (10, "sshd[2302]", "Failed password for root from 203.0.113.9 port 5122 ssh2"),
        (4, "sshd[2303]", "Connection closed by 198.51.100.4 port 6022 [preauth]"),
        (0, "kernel", "[UFW BLOCK] IN=eth0 OUT= MAC= SRC=10.0.2.3 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4000 DPT=22"),
        (0, "kernel", "Out of memory: Killed process 1234 (java) total-vm:12123kB, anon-rss:5000kB"),
        (9, "CRON[4411]", "(root) CMD (/usr/local/bin/backup.sh --full --id 7)"),
        (9, "CRON[4412]", "pam_unix(cron:session): session closed for user bob"),
        (23, "nginx[811]", "192.168.1.20 - - \"GET /api/v1/items/42 HTTP/1.1\" 503 294"),
        (23, "nginx[812]", "203.0.113.7 - - \"GET /static/app.7.js HTTP/1.0\" 404 49"),
        (2, "postfix/smtpd[977]", "NOQUEUE: reject: RCPT from unknown[10.0.3.3]: 554 5.7.1 <bob@example.org>: Relay access denied; from=<spam@example.net> to=<bob@example.org> proto=ESMTP helo=<mx>"),
        (2, "postfix/smtpd[978]", "connect from unknown[192.168.1.9]"),
        (10, "sudo", "alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/systemctl restart nginx"),
        (16, "app[3100]", "level=ERROR msg=\"request failed\" latency_ms=912 user=admin"),
        (16, "app[3101]", "level=DEBUG msg=\"cache miss\" latency_ms=3"),
        (3, "systemd[1]", "Failed to start Daily apt download activities."),
        (3, "dhclient[640]", "DHCPACK of 10.0.0.77 from 10.0.0.1"),
    ];
    const SEVS: [u8; 16] = [6, 6, 6, 6, 6, 6, 6, 5, 5, 4, 4, 3, 7, 7, 2, 0];
    (0..N)
        .map(|i| {
            let (fac, tag, text) = SHAPES[i % SHAPES.len()];
            let sev = SEVS[(i / 3) % SEVS.len()];
            let host = HOSTS[(i / 7) % HOSTS.len()];
            format!(
                "<{}>Nov 23 18:00:{:02} {host} {tag}: {text}",
                fac as u16 * 8 + sev as u16,
                i % 60
            )
            .into_bytes()
        })
        .collect()
}

/// The 50 rules of the e2e `rules` scenario (benches/configs/rules.conf) with its 10 output
/// rulesets; the actions are counted, not run.
fn filtering_rules50(c: &mut Criterion) {
    let mut conf = String::new();
    for i in 1..=10 {
        conf.push_str(&format!(
            "ruleset(name=\"out{i:02}\") {{ action(type=\"omfile\" file=\"/nonexistent/out{i:02}.log\") }}\n"
        ));
    }
    conf.push_str(include_str!("configs/rules.conf"));
    let loaded = load_text("rules.conf", &conf);
    let mut rs = Rulesets::compile_without_templates(&loaded.config).unwrap();
    let main = rs.index("RSYSLOG_DefaultRuleset").unwrap_or(0);
    let mut st = oxsyslog::filter::exec::State::default();
    let env = RenderEnv::new("benchhost");
    let batch = batch_of(&lines_mix());
    let mut scratch = Vec::new();
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("rules50_mix", |b| {
        b.iter(|| {
            let mut fired = 0usize;
            for i in 0..batch.len() {
                rs.run(
                    main,
                    batch.get(i),
                    &env,
                    &mut st,
                    &mut scratch,
                    &mut |_, _, _| {
                        fired += 1;
                        Some(false)
                    },
                );
            }
            fired
        })
    });
    g.finish();
}

/// omfile: each message rendered with RSYSLOG_TraditionalFileFormat into the action's buffer,
/// one write per batch of 1000 into a file in a temp directory (emptied now and then, outside
/// the timing, so the disk does not fill).
fn writing(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.log");
    let conf = format!(
        "*.* action(type=\"omfile\" file=\"{}\" template=\"RSYSLOG_TraditionalFileFormat\")\n",
        path.display()
    );
    let cfg = load_text("bench.conf", &conf).config;
    let tpls = Templates::from_config(&cfg).unwrap();
    let mut outs = oxsyslog::output::build_all(&cfg, &tpls).unwrap();
    let out = &mut outs[0];
    let env = RenderEnv::new("benchhost");
    let batch = batch_of(&lines_3164());
    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(N as u64));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("omfile_batch_1000", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for k in 0..iters {
                if k % 256 == 0 {
                    // appends go to the new end (O_APPEND)
                    let _ = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_len(0));
                }
                let t = Instant::now();
                for i in 0..batch.len() {
                    out.process(batch.get(i), &env);
                }
                out.end_batch();
                spent += t.elapsed();
            }
            spent
        })
    });
    g.finish();
    assert!(out.take_failed() == 0, "omfile bench: writes failed");
}

criterion_group!(
    benches,
    framing,
    parsing,
    filtering,
    filtering_rules50,
    rendering,
    writing
);
criterion_main!(benches);
