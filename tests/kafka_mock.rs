//! omkafka against librdkafka's mock cluster (`rdkafka::mocking::MockCluster`, real Kafka
//! protocol over TCP on 127.0.0.1, living in this test process): oxsyslogd takes numbered
//! messages over imtcp and produces them to the cluster; an rdkafka consumer in this process
//! reads the topic back and checks every message, its partition and its key. Covers 1,000,000
//! messages, a broker down for 20 s, injected request errors (retried), `errorFile` (what
//! Kafka refused), `failedMsgFile` across a restart and `resubmitOnFailure` beside new
//! messages. Needs `--features kafka`.
#![cfg(feature = "kafka")]

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{Offset, TopicPartitionList};

use common::Daemon;
use flow::{feed_tcp, numbered_out, port_file};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

/// An oxsyslogd with imtcp and one omkafka action (`action` holds the extra parameters).
fn daemon(dir: &Path, bootstrap: &str, topic: &str, action: &str) -> Daemon {
    let conf = format!(
        "module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         module(load=\"impstats\" interval=\"1\" format=\"json\" log.syslog=\"off\" log.file=\"{dir}/stats\")\n\
         global(workDirectory=\"{dir}\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\")\n\
         {tpl}\n\
         template(name=\"k\" type=\"string\" string=\"%programname%\")\n\
         action(type=\"omkafka\" broker=[\"{bootstrap}\"] topic=\"{topic}\" template=\"numbered\" {action})\n",
        dir = dir.display(),
        tpl = flow::NUMBERED_TEMPLATE,
    );
    Daemon::start(OX, dir, &conf, &[])
}

/// The counters of the last `omkafka` object impstats wrote to `dir/stats`, once `ready`
/// holds for them (waits up to 10 s).
fn omkafka_stats(dir: &Path, ready: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let last = common::read_lossy(&dir.join("stats"))
            .lines()
            .rev()
            // "<time>: {json}"
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l[l.find('{')?..]).ok())
            .find(|v| v["name"] == "omkafka" && v["origin"] == "omkafka");
        if let Some(v) = last {
            if ready(&v) || t.elapsed() > Duration::from_secs(10) {
                return v;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no omkafka stats");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One consumed record.
struct Got {
    partition: i32,
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
}

/// Reads `topic` (partitions 0..parts) from the beginning until `n` records arrived or
/// nothing new came for `idle`.
fn consume(bootstrap: &str, topic: &str, parts: i32, n: usize, idle: Duration) -> Vec<Got> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "oxsyslog-test")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..parts {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    let mut v = Vec::with_capacity(n);
    let mut last = Instant::now();
    while v.len() < n && last.elapsed() < idle {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                v.push(Got {
                    partition: m.partition(),
                    key: m.key().map(<[u8]>::to_vec),
                    payload: m.payload().unwrap_or_default().to_vec(),
                });
                last = Instant::now();
            }
            Some(Err(e)) => panic!("consumer: {e}"),
            None => {}
        }
    }
    v
}

/// Checks that the payloads are exactly `numbered_out(tag, 0..n)` + LF, each once; returns
/// the message number of each record.
fn check(got: &[Got], tag: &str, n: usize) -> Vec<usize> {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut nums = Vec::with_capacity(got.len());
    for g in got {
        let s = String::from_utf8_lossy(&g.payload);
        let i: usize = s
            .split("seq=")
            .nth(1)
            .and_then(|r| r.get(..7))
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("unexpected record {s:?}"));
        assert_eq!(s, format!("{}\n", numbered_out(tag, i)), "record {i}");
        *seen.entry(i).or_default() += 1;
        nums.push(i);
    }
    let missing: Vec<usize> = (0..n).filter(|i| !seen.contains_key(i)).collect();
    let dup: Vec<(&usize, &usize)> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        missing.is_empty() && dup.is_empty() && got.len() == n,
        "{} records for {n} messages; {} missing (first {:?}), {} duplicated (e.g. {:?})",
        got.len(),
        missing.len(),
        &missing[..missing.len().min(10)],
        dup.len(),
        &dup[..dup.len().min(10)]
    );
    nums
}

fn cluster(
    brokers: i32,
    topic: &str,
    parts: i32,
) -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let c = MockCluster::new(brokers).unwrap();
    c.create_topic(topic, parts, 1).unwrap();
    c
}

/// One million messages through imtcp → omkafka, round robin over 3 partitions
/// (`partitions.number`), keyed by `dynaKey`: every one consumed once, intact, with its key,
/// and each partition holding every third message.
#[test]
fn million_messages_round_robin_with_keys() {
    let mc = cluster(3, "big", 3);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let mut d = daemon(
        t.path(),
        &bs,
        "big",
        "partitions.number=\"3\" key=\"k\" dynaKey=\"on\" queue.type=\"LinkedList\" \
         queue.size=\"2000000\" queue.dequeueBatchSize=\"4096\" action.resumeRetryCount=\"-1\"",
    );
    let port = port_file(&d, "port");
    const N: usize = 1_000_000;
    let t0 = Instant::now();
    // the mock cluster keeps at most 100,000 messages per partition: consume while sending
    let consumer = {
        let bs = bs.clone();
        std::thread::spawn(move || consume(&bs, "big", 3, N, Duration::from_secs(30)))
    };
    feed_tcp(port, "big", 0..N, 10_000, Duration::ZERO);
    let got = consumer.join().unwrap();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!("{N} messages through oxsyslogd into the mock cluster and back in {secs:.1} s");
    let nums = check(&got, "big", N);
    let mut per = [0usize; 3];
    for (g, _) in got.iter().zip(&nums) {
        per[g.partition as usize] += 1;
        assert_eq!(
            g.key.as_deref(),
            Some(&b"big"[..]),
            "dynaKey from %programname%"
        );
    }
    for p in per {
        assert!(
            (333_333..=333_334).contains(&p),
            "round robin over 3 partitions: {per:?}"
        );
    }
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
}

/// The only broker goes down for 20 s in the middle of the run and comes back: librdkafka
/// and the action queue hold the messages; all arrive, each once (idempotent producer).
#[test]
fn broker_down_for_20_s_loses_nothing() {
    let mc = cluster(1, "down", 2);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let mut d = daemon(
        t.path(),
        &bs,
        "down",
        "partitions.auto=\"on\" confParam=[\"enable.idempotence=true\"] queue.type=\"LinkedList\" \
         queue.size=\"100000\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"",
    );
    let port = port_file(&d, "port");
    feed_tcp(port, "down", 0..10_000, 500, Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(500));
    mc.broker_down(1).unwrap();
    let down_at = Instant::now();
    // sent while the broker is down
    feed_tcp(
        port,
        "down",
        10_000..30_000,
        500,
        Duration::from_millis(100),
    );
    let rest = Duration::from_secs(20).saturating_sub(down_at.elapsed());
    std::thread::sleep(rest);
    mc.broker_up(1).unwrap();
    feed_tcp(port, "down", 30_000..40_000, 500, Duration::from_millis(10));
    let got = consume(&bs, "down", 2, 40_000, Duration::from_secs(60));
    check(&got, "down", 40_000);
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    assert!(
        !d.stderr().contains("not delivered"),
        "stderr: {}",
        d.stderr()
    );
}

/// The same with a disk-assisted action queue small enough to spill: while the broker is
/// down (5 s) the messages go to the queue's disk part; all arrive once it is back.
#[test]
fn broker_down_with_a_disk_assisted_queue_loses_nothing() {
    let mc = cluster(1, "dadown", 1);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let mut d = daemon(
        t.path(),
        &bs,
        "dadown",
        "confParam=[\"enable.idempotence=true\"] queue.type=\"LinkedList\" queue.size=\"500\" \
         queue.filename=\"kafkaq\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"",
    );
    let port = port_file(&d, "port");
    feed_tcp(port, "dadown", 0..2_000, 500, Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(500));
    mc.broker_down(1).unwrap();
    let down_at = Instant::now();
    feed_tcp(
        port,
        "dadown",
        2_000..12_000,
        1000,
        Duration::from_millis(50),
    );
    std::thread::sleep(Duration::from_secs(5).saturating_sub(down_at.elapsed()));
    let spilled = std::fs::read_dir(t.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("kafkaq"));
    assert!(
        spilled,
        "no disk queue file in the work directory during the outage"
    );
    mc.broker_up(1).unwrap();
    feed_tcp(
        port,
        "dadown",
        12_000..14_000,
        500,
        Duration::from_millis(10),
    );
    let got = consume(&bs, "dadown", 1, 14_000, Duration::from_secs(60));
    check(&got, "dadown", 14_000);
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    assert!(
        !d.stderr().contains("not delivered") && !d.stderr().contains("discard"),
        "stderr: {}",
        d.stderr()
    );
}

/// Produce requests answered with retriable errors are retried: everything arrives once,
/// the errorFile stays empty.
#[test]
fn request_errors_are_retried() {
    let mc = cluster(1, "errs", 1);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let errf = t.path().join("kafka-errors.json");
    mc.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        ],
    );
    let mut d = daemon(
        t.path(),
        &bs,
        "errs",
        &format!(
            "errorFile=\"{}\" statsFile=\"{}\" confParam=[\"retry.backoff.ms=20\", \
             \"statistics.interval.ms=200\"] queue.type=\"LinkedList\"",
            errf.display(),
            t.path().join("rdkafka-stats.json").display()
        ),
    );
    let port = port_file(&d, "port");
    feed_tcp(port, "errs", 0..5_000, 100, Duration::from_millis(2));
    let got = consume(&bs, "errs", 1, 5_000, Duration::from_secs(30));
    check(&got, "errs", 5_000);
    let st = omkafka_stats(t.path(), |v| v["acked"] == 5000);
    assert_eq!(
        (&st["submitted"], &st["acked"], &st["failures"]),
        (&5000.into(), &5000.into(), &0.into()),
        "{st}"
    );
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    assert_eq!(common::read_lossy(&errf), "", "nothing refused");
    // statsFile: librdkafka's statistics, one JSON object per line
    let stats = common::read_lossy(&t.path().join("rdkafka-stats.json"));
    let objs: Vec<serde_json::Value> = stats
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!objs.is_empty(), "no statistics in statsFile");
    assert!(objs.iter().all(|o| o["type"] == "producer"), "{stats}");
}

/// What Kafka refuses lands in `errorFile` as omkafka's JSON lines: a message whose produce
/// request the broker answered with MSG_SIZE_TOO_LARGE (errcode 10) and messages whose
/// produce requests it rejected with TOPIC_AUTHORIZATION_FAILED (29). A message over the
/// producer's own `message.max.bytes` is only logged, as rsyslogd does
/// (tests/kafka_vs_rsyslogd.rs). Everything else arrives.
#[test]
fn error_file_receives_what_kafka_refused() {
    let mc = cluster(1, "refused", 1);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let errf = t.path().join("kafka-errors.json");
    let mut d = daemon(
        t.path(),
        &bs,
        "refused",
        &format!(
            "errorFile=\"{}\" confParam=[\"message.max.bytes=2000\"] queue.type=\"LinkedList\"",
            errf.display()
        ),
    );
    let port = port_file(&d, "port");
    feed_tcp(port, "refused", 0..100, 100, Duration::ZERO);
    let got = consume(&bs, "refused", 1, 100, Duration::from_secs(20));
    check(&got, "refused", 100);
    // one message over the producer's message.max.bytes: logged, not in the errorFile
    {
        use std::io::Write;
        let mut s = common::connect(port);
        let big = format!(
            "<134>Nov 23 10:00:00 host1 refused[7]: local {}\n",
            "y".repeat(5000)
        );
        s.write_all(big.as_bytes()).unwrap();
    }
    assert!(
        common::wait_for(
            &t.path().join("stderr"),
            "Failed to produce to topic 'refused'"
        ),
        "{}",
        d.stderr()
    );
    // one message the broker refuses as too large
    mc.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );
    {
        use std::io::Write;
        let mut s = common::connect(port);
        let big = format!(
            "<134>Nov 23 10:00:00 host1 refused[7]: huge {}\n",
            "x".repeat(1000)
        );
        s.write_all(big.as_bytes()).unwrap();
    }
    assert!(
        common::wait_for(&errf, "\"errcode\":10"),
        "errorFile: {}",
        common::read_lossy(&errf)
    );
    // rotated: after SIGHUP omkafka writes a new errorFile
    let rotated = t.path().join("kafka-errors.json.1");
    std::fs::rename(&errf, &rotated).unwrap();
    d.hup();
    std::thread::sleep(Duration::from_millis(500));
    // the broker refuses the next produce requests
    mc.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 3],
    );
    feed_tcp(port, "refused", 100..200, 1, Duration::from_millis(5));
    let got2 = consume(&bs, "refused", 1, 200, Duration::from_secs(10));
    let st = omkafka_stats(t.path(), |v| {
        v["failures_msg_too_large"] == 2 && v["failures_other"] != 0
    });
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    let json_lines = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let old = json_lines(&common::read_lossy(&rotated));
    assert_eq!(old.len(), 1, "{old:?}");
    assert_eq!(old[0]["errcode"], 10, "{old:?}");
    assert!(old[0]["data"].as_str().unwrap().contains("huge xxx"));
    let text = common::read_lossy(&errf);
    let lines = json_lines(&text);
    let refused: Vec<&serde_json::Value> = lines.iter().collect();
    assert!(!refused.is_empty(), "no refused message in {text}");
    // after a refused request librdkafka refuses the topic's next messages at produce time:
    // those are logged, not written to the errorFile (as rsyslogd's omkafka)
    let stderr = d.stderr();
    let logged: std::collections::HashSet<usize> = stderr
        .lines()
        .filter(|l| l.contains("Failed to produce to topic 'refused'") && l.contains(": 29/"))
        .map(seq)
        .collect();
    assert_eq!(st["failures_msg_too_large"], 2, "{st}");
    assert_eq!(st["failures_other"], refused.len() + logged.len(), "{st}");
    assert_eq!(st["failures"], refused.len() + logged.len() + 2, "{st}");
    for l in &refused {
        assert_eq!(l["errcode"], 29, "{l}");
        assert!(l["errmsg"].as_str().unwrap().contains("authoriz"), "{l}");
    }
    // every message of 100..200 arrived, is in the errorFile or was logged: exactly one
    let arrived: std::collections::HashSet<usize> = check_partial(&got2);
    let in_err: std::collections::HashSet<usize> = refused
        .iter()
        .map(|l| seq(l["data"].as_str().unwrap()))
        .collect();
    for i in 100..200 {
        let (a, e, l) = (
            arrived.contains(&i),
            in_err.contains(&i),
            logged.contains(&i),
        );
        assert_eq!(
            [a, e, l].iter().filter(|x| **x).count(),
            1,
            "message {i}: arrived {a} / in errorFile {e} / logged {l}"
        );
    }
}

fn seq(s: &str) -> usize {
    s.split("seq=")
        .nth(1)
        .and_then(|r| r.get(..7))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no seq in {s:?}"))
}

/// The message numbers of consumed records (no duplicates allowed).
fn check_partial(got: &[Got]) -> std::collections::HashSet<usize> {
    let mut set = std::collections::HashSet::new();
    for g in got {
        let i = seq(&String::from_utf8_lossy(&g.payload));
        assert!(set.insert(i), "message {i} twice");
    }
    set
}

/// `resubmitOnFailure` + `keepFailedMessages`: what could not be delivered before shutdown
/// (broker down, `message.timeout.ms` 1 s) is written to `failedMsgFile` and produced at the
/// next start, after which the file is gone. The 30 messages of the outage come in two
/// bursts 2.5 s apart, so the second arrives after the first has failed (two batches, the
/// split that used to leave the second in the action queue, reported as not delivered): all
/// 30 are kept, none is reported lost, and after the restart the topic holds exactly the
/// first 50 and the 30, each once. (rsyslogd's omkafka keeps only what it produced before the
/// broker error suspended it and loses the rest with its action queue:
/// tests/kafka_vs_rsyslogd.rs `outage_keeps_what_rsyslogd_keeps_and_more`.)
#[test]
fn failed_messages_are_kept_across_a_restart() {
    let mc = cluster(1, "kept", 1);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let failed = t.path().join("failed.txt");
    let action = format!(
        "resubmitOnFailure=\"on\" keepFailedMessages=\"on\" failedMsgFile=\"{}\" \
         confParam=[\"message.timeout.ms=1000\"] closeTimeout=\"500\" queue.type=\"LinkedList\" \
         action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"",
        failed.display()
    );
    let mut d = daemon(t.path(), &bs, "kept", &action);
    let port = port_file(&d, "port");
    feed_tcp(port, "kept", 0..50, 50, Duration::ZERO);
    let got = consume(&bs, "kept", 1, 50, Duration::from_secs(20));
    check(&got, "kept", 50);
    mc.broker_down(1).unwrap();
    // 15, then 2.5 s later (the first 15 have timed out in librdkafka by then) 15 more
    feed_tcp(port, "kept", 50..80, 15, Duration::from_millis(2500));
    // the messages time out in librdkafka and wait for resubmission
    std::thread::sleep(Duration::from_secs(1));
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    let kept = common::read_lossy(&failed);
    let err = d.stderr();
    assert!(!err.contains("not delivered"), "daemon: {err}");
    assert!(kept.lines().all(|l| l.starts_with("kept\t\t")), "{kept}");
    let mut kept_seqs: Vec<usize> = kept.lines().map(seq).collect();
    kept_seqs.sort();
    assert_eq!(
        kept_seqs,
        (50..80).collect::<Vec<_>>(),
        "failedMsgFile: {kept}\ndaemon: {err}"
    );
    mc.broker_up(1).unwrap();
    std::fs::remove_file(t.path().join("port")).unwrap();
    let mut d = daemon(t.path(), &bs, "kept", &action);
    let _ = port_file(&d, "port");
    // the first 50 (delivered before) and exactly the kept ones, each once
    // (one more than expected: a duplicate would show)
    let got = consume(&bs, "kept", 1, 81, Duration::from_secs(10));
    let mut seqs: Vec<usize> = check_partial(&got).into_iter().collect();
    seqs.sort();
    assert_eq!(
        seqs,
        (0..80).collect::<Vec<_>>(),
        "records after the restart"
    );
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    assert!(!failed.exists(), "failedMsgFile removed after loading");
}

/// `resubmitOnFailure` with the broker up but refusing produce requests for a while
/// (TOPIC_AUTHORIZATION_FAILED, not a broker error): as omkafka.c, the refused messages are
/// produced again beside the new ones and the action never goes into its retry state; all
/// messages arrive, each once, and the errorFile stays empty.
#[test]
fn refused_messages_are_resubmitted_beside_new_ones() {
    let mc = cluster(1, "again", 1);
    let bs = mc.bootstrap_servers();
    let t = tempfile::tempdir().unwrap();
    let errf = t.path().join("kafka-errors.json");
    let mut d = daemon(
        t.path(),
        &bs,
        "again",
        &format!(
            "resubmitOnFailure=\"on\" errorFile=\"{}\" queue.type=\"LinkedList\" \
             action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\"",
            errf.display()
        ),
    );
    let port = port_file(&d, "port");
    feed_tcp(port, "again", 0..10, 10, Duration::ZERO);
    let got = consume(&bs, "again", 1, 10, Duration::from_secs(20));
    check(&got, "again", 10);
    mc.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 3],
    );
    feed_tcp(port, "again", 10..40, 10, Duration::from_millis(300));
    let got = consume(&bs, "again", 1, 41, Duration::from_secs(10));
    check(&got, "again", 40);
    let st = omkafka_stats(t.path(), |v| v["acked"] == 40);
    assert!(
        st["failures"].as_u64().unwrap_or(0) >= 1,
        "no refusal: {st}"
    );
    assert!(d.stop(), "daemon did not stop: {}", d.stderr());
    assert_eq!(common::read_lossy(&errf), "", "resubmitted, not refused");
    assert!(
        !d.stderr().contains("retries"),
        "the action went into its retry state: {}",
        d.stderr()
    );
}
