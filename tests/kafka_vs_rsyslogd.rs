//! omkafka differential: the same omkafka actions run by the real rsyslogd (Debian's
//! rsyslog-kafka 8.2302 with bookworm's librdkafka 2.0.2) and by oxsyslogd (bundled librdkafka)
//! against one librdkafka mock cluster (`rdkafka::mocking::MockCluster`, real Kafka protocol
//! over TCP on 127.0.0.1, in this test process). Each daemon writes to its own topics (prefix
//! `rs-` / `ox-`); an rdkafka consumer reads both and compares them message by message:
//! payload bytes, key, partition, the order inside each partition and the record timestamp.
//! Covers topic, key, dynaKey, dynaTopic, template (and the default RSYSLOG_FileFormat),
//! partitions.auto / partitions.useFixed / partitions.number and confParam; the errorFile line
//! for a message the broker refused, a message over the producer's `message.max.bytes`;
//! `failedMsgFile` after an outage (rsyslogd keeps less: the difference is asserted as a
//! subset) and its messages after a restart; and `-N1` of the test's config and of accepted
//! and refused configs.
//! Needs `--features kafka` and the rsyslog-kafka package (scripts/test.sh installs it).
#![cfg(feature = "kafka")]

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};

use common::Daemon;
use flow::{numbered_line, port_file};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// The programnames the messages cycle through (dynaKey / dynaTopic values).
const TAGS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

/// One consumed record.
#[derive(Debug, Clone, PartialEq)]
struct Rec {
    partition: i32,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    /// The record's CreateTime (ms), if it has one.
    ts: Option<i64>,
}

/// Reads partitions 0..parts of `topic` from the beginning until `n` records arrived or
/// nothing new came for `idle`; records of one partition stay in their order.
fn consume(bootstrap: &str, topic: &str, parts: i32, n: usize, idle: Duration) -> Vec<Rec> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "oxsyslog-vs-rsyslogd")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()
        .expect("kafka consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..parts {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition offset");
    }
    c.assign(&tpl).expect("assign partitions");
    let mut v = Vec::with_capacity(n);
    let mut last = Instant::now();
    while v.len() < n && last.elapsed() < idle {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                v.push(Rec {
                    partition: m.partition(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().unwrap_or_default().to_vec(),
                    ts: match m.timestamp() {
                        Timestamp::CreateTime(t) => Some(t),
                        _ => None,
                    },
                });
                last = Instant::now();
            }
            Some(Err(e)) => panic!("consumer on {topic}: {e}"),
            None => {}
        }
    }
    v
}

/// Message `i` as sent: programname `TAGS[i % 4]`.
fn line(i: usize) -> String {
    numbered_line(TAGS[i % TAGS.len()], i)
}

/// Sends messages 0..n over one imtcp connection (one connection: the order is fixed).
fn feed(port: u16, n: usize) {
    let mut s = common::connect(port);
    let mut buf = Vec::new();
    for i in 0..n {
        buf.extend_from_slice(line(i).as_bytes());
        buf.push(b'\n');
        if (i + 1) % 100 == 0 {
            s.write_all(&buf).expect("feed imtcp");
            buf.clear();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    s.write_all(&buf).expect("feed imtcp");
}

/// The topics (name without the daemon's prefix, partitions) the actions of [`conf`] write.
fn topics() -> Vec<(String, i32)> {
    let mut v = vec![
        ("rr".to_string(), 3),
        ("fixed".to_string(), 2),
        ("default".to_string(), 1),
    ];
    for t in TAGS {
        v.push((format!("dyn-{t}"), 3));
    }
    v
}

/// The config both daemons run; topics are prefixed `p-`. The actions sit in the imtcp
/// input's ruleset so the daemons' own start messages stay out of Kafka.
fn conf(dir: &Path, bs: &str, p: &str) -> String {
    format!(
        "global(workDirectory=\"{dir}\")\n\
         module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\" ruleset=\"k\")\n\
         {tpl}\n\
         template(name=\"k\" type=\"string\" string=\"%programname%\")\n\
         template(name=\"dt\" type=\"string\" string=\"{p}-dyn-%programname%\")\n\
         ruleset(name=\"k\") {{\n\
         action(type=\"omkafka\" broker=[\"{bs}\"] topic=\"{p}-rr\" template=\"numbered\" \
         partitions.number=\"3\" key=\"static-key\" confParam=[\"compression.codec=none\", \
         \"linger.ms=5\"])\n\
         action(type=\"omkafka\" broker=\"{bs}\" topic=\"{p}-fixed\" template=\"numbered\" \
         partitions.useFixed=\"1\" key=\"k\" dynaKey=\"on\")\n\
         action(type=\"omkafka\" broker=\"{bs}\" topic=\"{p}-default\")\n\
         action(type=\"omkafka\" broker=\"{bs}\" topic=\"dt\" dynaTopic=\"on\" template=\"numbered\" \
         partitions.auto=\"on\" key=\"k\" dynaKey=\"on\" \
         topicConfParam=[\"partitioner=consistent_random\"])\n\
         }}\n",
        dir = dir.display(),
        tpl = flow::NUMBERED_TEMPLATE,
    )
}

/// Checks [`conf`] with `bin -N1`, runs `bin` on it with prefix `p`, feeds `n` messages and
/// returns each topic's records (once all arrived, or nothing came for 30 s).
fn run(bin: &str, bs: &str, p: &str, n: usize) -> HashMap<String, Vec<Rec>> {
    let t = tempfile::tempdir().expect("temp dir");
    // the config passes -N1 first
    let f = t.path().join("n1.conf");
    std::fs::write(&f, conf(t.path(), bs, p)).expect("write conf");
    let o = Command::new(bin)
        .args(["-N1", "-f"])
        .arg(&f)
        .output()
        .expect("run -N1");
    assert!(
        o.status.success(),
        "{bin} -N1: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut d = Daemon::start(bin, t.path(), &conf(t.path(), bs, p), &[]);
    let port = port_file(&d, "port");
    feed(port, n);
    let mut out = HashMap::new();
    for (name, parts) in topics() {
        let want = if name.starts_with("dyn-") {
            n / TAGS.len()
        } else {
            n
        };
        let got = consume(
            bs,
            &format!("{p}-{name}"),
            parts,
            want,
            Duration::from_secs(30),
        );
        assert_eq!(
            got.len(),
            want,
            "{bin}: topic {p}-{name}: {} of {want} records; stderr: {}",
            got.len(),
            d.stderr()
        );
        out.insert(name, got);
    }
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
    out
}

/// Groups records by partition, each partition's records in order.
fn by_partition(v: &[Rec]) -> HashMap<i32, Vec<&Rec>> {
    let mut m: HashMap<i32, Vec<&Rec>> = HashMap::new();
    for r in v {
        m.entry(r.partition).or_default().push(r);
    }
    m
}

/// Same actions, same messages: rsyslogd's and oxsyslogd's topics hold the same records,
/// partition by partition in the same order, with the same keys, payloads and timestamps.
#[test]
fn same_records_as_rsyslogd() {
    const N: usize = 2000;
    let mc: MockCluster<'static, DefaultProducerContext> =
        MockCluster::new(1).expect("mock cluster");
    for p in ["rs", "ox"] {
        for (name, parts) in topics() {
            mc.create_topic(&format!("{p}-{name}"), parts, 1)
                .expect("create topic");
        }
    }
    let bs = mc.bootstrap_servers();
    let theirs = run(RSYSLOGD, &bs, "rs", N);
    let ours = run(OX, &bs, "ox", N);
    for (name, parts) in topics() {
        let (a, b) = (by_partition(&theirs[&name]), by_partition(&ours[&name]));
        for part in 0..parts {
            let (x, y) = (
                a.get(&part).cloned().unwrap_or_default(),
                b.get(&part).cloned().unwrap_or_default(),
            );
            assert_eq!(
                x.len(),
                y.len(),
                "topic {name} partition {part}: rsyslogd {} records, oxsyslogd {}",
                x.len(),
                y.len()
            );
            for (i, (r, o)) in x.iter().zip(&y).enumerate() {
                assert_eq!(
                    r,
                    o,
                    "topic {name} partition {part} record {i}: rsyslogd {:?} / oxsyslogd {:?}",
                    String::from_utf8_lossy(&r.payload),
                    String::from_utf8_lossy(&o.payload)
                );
            }
        }
    }
    // the comparison is not vacuous: round robin used every partition, the fixed partition
    // only 1, the default template is RSYSLOG_FileFormat, every record has a timestamp
    let rr = by_partition(&ours["rr"]);
    assert_eq!(
        (0..3).map(|p| rr[&p].len()).collect::<Vec<_>>(),
        vec![N / 3 + 1, N / 3 + 1, N / 3],
        "round robin"
    );
    assert!(ours["fixed"].iter().all(|r| r.partition == 1));
    assert!(String::from_utf8_lossy(&ours["default"][0].payload)
        .contains("host1 alpha[7]: seq=0000000"));
    // the timestamps are the messages' (Nov 23 10:00:00), not the produce time (omkafka sets
    // CreateTime from %timestamp:::date-unixtimestamp%)
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    assert!(
        ours["rr"].iter().all(|r| r
            .ts
            .is_some_and(|t| (now_ms - t).abs() > 60_000 && t % 1000 == 0)),
        "timestamps: {:?}",
        ours["rr"].first().map(|r| r.ts)
    );
}

/// What one daemon did with a refused message: its errorFile lines, the payloads that
/// reached the topic and its stderr.
struct Refused {
    errors: Vec<serde_json::Value>,
    arrived: Vec<String>,
    stderr: String,
}

/// Runs `bin` with one omkafka action (`extra` parameters) on its own mock cluster: message
/// 0 delivered, then `middle` (refused by the broker when `inject`), then message 2.
fn refused(bin: &str, extra: &str, middle: &str, inject: bool) -> Refused {
    let mc: MockCluster<'static, DefaultProducerContext> =
        MockCluster::new(1).expect("mock cluster");
    mc.create_topic("refused", 1, 1).expect("create topic");
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().expect("temp dir");
    let errf = t.path().join("errors.json");
    let conf = format!(
        "global(workDirectory=\"{dir}\")\n\
         module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\" ruleset=\"k\")\n\
         {tpl}\n\
         ruleset(name=\"k\") {{ action(type=\"omkafka\" broker=\"{bs}\" topic=\"refused\" \
         template=\"numbered\" errorFile=\"{errf}\" {extra}) }}\n",
        dir = t.path().display(),
        tpl = flow::NUMBERED_TEMPLATE,
        errf = errf.display(),
    );
    let mut d = Daemon::start(bin, t.path(), &conf, &[]);
    let port = port_file(&d, "port");
    let mut s = common::connect(port);
    s.write_all(format!("{}\n", line(0)).as_bytes())
        .expect("feed");
    let got = consume(&bs, "refused", 1, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "{bin}: {}", d.stderr());
    if inject {
        mc.request_errors(
            RDKafkaApiKey::Produce,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
        );
    }
    s.write_all(format!("{middle}\n").as_bytes()).expect("feed");
    // rsyslogd's omkafka takes delivery reports only when the next message comes or at
    // shutdown (rd_kafka_flush in closeKafka)
    std::thread::sleep(Duration::from_secs(1));
    s.write_all(format!("{}\n", line(2)).as_bytes())
        .expect("feed");
    let got = consume(&bs, "refused", 1, 3, Duration::from_secs(5));
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
    Refused {
        errors: common::read_lossy(&errf)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{bin}: {e}: {l}")))
            .collect(),
        arrived: got
            .iter()
            .map(|r| String::from_utf8_lossy(&r.payload).into_owned())
            .collect(),
        stderr: d.stderr(),
    }
}

/// A message the broker refuses (the produce request answered with MSG_SIZE_TOO_LARGE): both
/// daemons write the same errorFile line (errcode, errmsg, data) and deliver the others.
#[test]
fn error_file_line_as_rsyslogd() {
    let theirs = refused(RSYSLOGD, "", &line(1), true);
    let ours = refused(OX, "", &line(1), true);
    assert_eq!(theirs.errors.len(), 1, "rsyslogd: {:?}", theirs.errors);
    assert_eq!(ours.errors, theirs.errors);
    assert_eq!(ours.arrived, theirs.arrived);
    assert_eq!(ours.arrived.len(), 2, "{:?}", ours.arrived);
    let logged = "omkafka: kafka delivery FAIL on Topic 'refused', msg 'host1 beta[7]: seq=0000001";
    assert!(theirs.stderr.contains(logged), "{}", theirs.stderr);
    assert!(ours.stderr.contains(logged), "{}", ours.stderr);
}

/// A message over the producer's own `message.max.bytes` (librdkafka refuses it at produce
/// time, before any request): rsyslogd's omkafka logs it and drops it, with no errorFile
/// line (omkafka.c writeKafka); the messages before and after arrive.
#[test]
fn oversize_message_as_rsyslogd() {
    let big = format!(
        "<134>Nov 23 10:00:00 host1 big[7]: huge {}",
        "x".repeat(5000)
    );
    let extra = "confParam=[\"message.max.bytes=2000\"]";
    let theirs = refused(RSYSLOGD, extra, &big, false);
    let ours = refused(OX, extra, &big, false);
    assert_eq!(ours.errors, theirs.errors);
    assert_eq!(ours.arrived, theirs.arrived);
    assert_eq!(ours.arrived.len(), 2, "{:?}", ours.arrived);
    let logged = "omkafka: Failed to produce to topic 'refused'";
    assert!(theirs.stderr.contains(logged), "{}", theirs.stderr);
    assert!(ours.stderr.contains(logged), "{}", ours.stderr);
}

/// `-N1` of the same configs: both accept the valid ones and refuse the broken ones.
#[test]
fn config_check_as_rsyslogd() {
    let t = tempfile::tempdir().expect("temp dir");
    let base = |action: &str| {
        format!(
            "module(load=\"omkafka\")\n\
             template(name=\"k\" type=\"string\" string=\"%programname%\")\n\
             action(type=\"omkafka\" {action})\n"
        )
    };
    // (action parameters, whether rsyslogd accepts them: a check that the case tests what
    // its comment says)
    let cases = [
        ("broker=[\"127.0.0.1:9\"] topic=\"t\"", true),
        (
            "broker=\"a:1,b:2\" topic=\"t\" key=\"k\" dynaKey=\"on\" partitions.auto=\"on\"",
            true,
        ),
        (
            "topic=\"k\" dynaTopic=\"on\" partitions.number=\"4\" confParam=[\"linger.ms=5\"] \
             topicConfParam=[\"acks=1\"]",
            true,
        ),
        (
            "topic=\"t\" partitions.useFixed=\"0\" template=\"k\" errorFile=\"/tmp/x\" \
             resubmitOnFailure=\"on\" keepFailedMessages=\"on\" failedMsgFile=\"/tmp/y\" \
             closeTimeout=\"100\"",
            true,
        ),
        // no topic
        ("broker=\"127.0.0.1:9\"", false),
        // dynaKey without a key template name
        ("topic=\"t\" dynaKey=\"on\"", false),
        // an unknown parameter
        ("topic=\"t\" nosuchparam=\"1\"", false),
        // not a positive / non-negative number
        ("topic=\"t\" partitions.number=\"0\"", false),
        ("topic=\"t\" partitions.useFixed=\"-1\"", false),
        ("topic=\"t\" closeTimeout=\"0\"", false),
        // a confParam without '='
        ("topic=\"t\" confParam=[\"linger.ms\"]", false),
        // the dynaTopic template does not exist
        ("topic=\"nosuchtemplate\" dynaTopic=\"on\"", false),
    ];
    for (i, (a, accepted)) in cases.iter().enumerate() {
        let f = t.path().join(format!("c{i}.conf"));
        std::fs::write(&f, base(a)).expect("write conf");
        let check = |bin: &str| {
            let o = Command::new(bin)
                .args(["-N1", "-f"])
                .arg(&f)
                .env_remove("RSYSLOG_DFLT_LOG_INTERNAL")
                .output()
                .expect("run -N1");
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        let (theirs, their_err) = check(RSYSLOGD);
        let (ours, our_err) = check(OX);
        assert_eq!(theirs, *accepted, "{a}: rsyslogd -N1: {their_err}");
        assert_eq!(
            ours, theirs,
            "{a}: rsyslogd -N1 ok={theirs} ({their_err}); oxsyslogd -N1 ok={ours} ({our_err})"
        );
    }
}

/// What one daemon did with messages sent while its only broker was down
/// (`resubmitOnFailure`, `keepFailedMessages`): the message numbers in `failedMsgFile` after
/// the stop, the stderr of that run, and the message numbers the topic holds after a restart
/// with the broker back and one more message (rsyslogd resubmits what it loaded only when the
/// next message comes).
struct Outage {
    kept: Vec<usize>,
    stderr: String,
    after_restart: Vec<usize>,
}

/// The message number in a payload (`seq=NNNNNNN`).
fn seq_of(s: &str) -> Option<usize> {
    s.split("seq=").nth(1)?.get(..7)?.parse().ok()
}

/// Runs `bin` with one omkafka action on its own mock cluster: messages 0..5 delivered, the
/// broker down, messages 5..20 and, 2.5 s later (the first ones have failed by then),
/// 20..35; the daemon stopped 3 s later and, with the broker back, started again and sent
/// message 35.
fn outage(bin: &str) -> Outage {
    let mc: MockCluster<'static, DefaultProducerContext> =
        MockCluster::new(1).expect("mock cluster");
    mc.create_topic("kept", 1, 1).expect("create topic");
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().expect("temp dir");
    let failed = t.path().join("failed.txt");
    let conf = format!(
        "global(workDirectory=\"{dir}\")\n\
         module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\" ruleset=\"k\")\n\
         {tpl}\n\
         ruleset(name=\"k\") {{ action(type=\"omkafka\" broker=\"{bs}\" topic=\"kept\" \
         template=\"numbered\" resubmitOnFailure=\"on\" keepFailedMessages=\"on\" \
         failedMsgFile=\"{failed}\" confParam=[\"message.timeout.ms=1000\"] \
         closeTimeout=\"500\" queue.type=\"LinkedList\" action.resumeRetryCount=\"-1\" \
         action.resumeInterval=\"1\") }}\n",
        dir = t.path().display(),
        tpl = flow::NUMBERED_TEMPLATE,
        failed = failed.display(),
    );
    let send = |port: u16, r: std::ops::Range<usize>| {
        let mut buf = String::new();
        for i in r {
            buf.push_str(&line(i));
            buf.push('\n');
        }
        let mut s = common::connect(port);
        s.write_all(buf.as_bytes()).expect("feed");
        s
    };
    let mut d = Daemon::start(bin, t.path(), &conf, &[]);
    let port = port_file(&d, "port");
    let _c = send(port, 0..5);
    let got = consume(&bs, "kept", 1, 5, Duration::from_secs(30));
    assert_eq!(got.len(), 5, "{bin}: {}", d.stderr());
    mc.broker_down(1).expect("broker down");
    let _c = send(port, 5..20);
    std::thread::sleep(Duration::from_millis(2500));
    let _c = send(port, 20..35);
    std::thread::sleep(Duration::from_secs(3));
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
    let stderr = d.stderr();
    let mut kept: Vec<usize> = common::read_lossy(&failed)
        .lines()
        .filter_map(seq_of)
        .collect();
    kept.sort();
    mc.broker_up(1).expect("broker up");
    std::fs::remove_file(t.path().join("port")).expect("remove port file");
    let mut d = Daemon::start(bin, t.path(), &conf, &[]);
    let port = port_file(&d, "port");
    let _c = send(port, 35..36);
    // one more than expected: a duplicate would show
    let got = consume(&bs, "kept", 1, 5 + kept.len() + 2, Duration::from_secs(10));
    assert!(d.stop(), "{bin} did not stop: {}", d.stderr());
    let mut after_restart: Vec<usize> = got
        .iter()
        .filter_map(|r| seq_of(&String::from_utf8_lossy(&r.payload)))
        .collect();
    after_restart.sort();
    Outage {
        kept,
        stderr,
        after_restart,
    }
}

/// The broker goes down with `resubmitOnFailure` and `keepFailedMessages`: rsyslogd's omkafka
/// keeps in `failedMsgFile` what it produced before librdkafka's broker error suspended the
/// action (here typically only the first message) and loses the rest with its action queue
/// at shutdown; oxsyslogd keeps those and the rest, all 30. Both produce what they kept, each
/// once, after a restart.
#[test]
fn outage_keeps_what_rsyslogd_keeps_and_more() {
    let theirs = outage(RSYSLOGD);
    let ours = outage(OX);
    let all: Vec<usize> = (5..35).collect();
    assert!(
        !theirs.kept.is_empty() && theirs.kept.iter().all(|i| all.contains(i)),
        "rsyslogd kept {:?}: {}",
        theirs.kept,
        theirs.stderr
    );
    assert_eq!(ours.kept, all, "oxsyslogd: {}", ours.stderr);
    assert!(
        !ours.stderr.contains("not delivered"),
        "oxsyslogd: {}",
        ours.stderr
    );
    for (who, o) in [("rsyslogd", &theirs), ("oxsyslogd", &ours)] {
        let mut want: Vec<usize> = (0..5).chain(o.kept.iter().copied()).collect();
        want.push(35);
        want.sort();
        assert_eq!(o.after_restart, want, "{who}: records after the restart");
    }
}
