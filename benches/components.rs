//! Criterion micro-benchmarks of the hot path, one stage at a time: TCP framing, parsing
//! (sanitise + PRI + RFC 3164/5424), ruleset filtering and template rendering.
//! Run: `cargo bench --bench components`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use oxsyslog::config::load_text;
use oxsyslog::filter::exec::Rulesets;
use oxsyslog::input::framing::{Decoder, FramingOptions};
use oxsyslog::message::{Batch, Peer};
use oxsyslog::parse::{now_local, push_message, InputFlags, ParseOptions, Received};
use oxsyslog::template::{RenderEnv, Templates};
use std::sync::Arc;

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

criterion_group!(benches, framing, parsing, filtering, rendering);
criterion_main!(benches);
