//! omkafka against a real Kafka-protocol broker, `tansu` 0.6.0 (opt-in tier, not in CI): each
//! test starts `tansu broker` with its memory storage on a free port and creates the topics
//! with rdkafka's admin client. One sends numbered messages through oxsyslogd (imtcp →
//! omkafka) and reads them back with an rdkafka consumer: every message present once, with the
//! right key and partition. The other runs rsyslogd's own omkafka (Debian's rsyslog-kafka) and
//! oxsyslogd with the same actions into their own topics and compares the records partition by
//! partition. Runs only with `--features kafka` and OXSYSLOG_TANSU set (a path to the binary,
//! or any other value for `tansu` on the PATH); otherwise each test prints why it is skipped
//! and passes. README, Tests, has the commands.
#![cfg(feature = "kafka")]

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use common::{Daemon, Proc};
use flow::{feed_tcp, numbered_out, port_file};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

/// The tansu binary to run, or why the test is skipped.
fn tansu() -> Result<String, String> {
    let v = std::env::var("OXSYSLOG_TANSU").map_err(|_| {
        "OXSYSLOG_TANSU is not set (opt-in real-broker tier, see README, Tests)".to_string()
    })?;
    let bin = if v.contains('/') {
        v
    } else {
        "tansu".to_string()
    };
    match Command::new(&bin)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(bin),
        Err(e) => Err(format!(
            "no tansu binary ({bin}: {e}); build it once with `cargo install tansu --locked \
             --no-default-features --features dynostore --root ~/.cache/tansu-bin` and set \
             OXSYSLOG_TANSU=~/.cache/tansu-bin/bin/tansu (see README, Tests)"
        )),
    }
}

/// Starts `tansu broker` (memory storage) on a free port with its stderr in `dir/tansu.err`
/// and creates `topics` (name, partitions) with rdkafka's admin client; returns the broker
/// and its bootstrap address.
fn broker(bin: &str, dir: &std::path::Path, topics: &[(&str, i32)]) -> (Proc, String) {
    let port = common::free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let p = Proc(
        Command::new(bin)
            .arg("broker")
            .env("LISTENER_URL", &url)
            .env("ADVERTISED_LISTENER_URL", &url)
            .env("STORAGE_ENGINE", "memory://tansu/")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("tansu.err")).expect("tansu.err"))
            .spawn()
            .expect("start tansu"),
    );
    let bs = format!("127.0.0.1:{port}");
    let _ = common::listening(port);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .create()
        .expect("admin client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(t, n)| NewTopic::new(t, *n, TopicReplication::Fixed(1)))
        .collect();
    let created = rt
        .block_on(admin.create_topics(
            &new,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        ))
        .unwrap_or_else(|e| {
            panic!(
                "create topics on tansu: {e}; tansu: {}",
                common::read_lossy(&dir.join("tansu.err"))
            )
        });
    for r in created {
        r.unwrap_or_else(|(t, e)| panic!("topic {t}: {e}"));
    }
    (p, bs)
}

/// Reads partitions 0..parts of `topic` until `n` records arrived or nothing came for 30 s:
/// (partition, key, payload), each partition's records in order.
fn consume(bs: &str, topic: &str, parts: i32, n: usize) -> Vec<(i32, Option<Vec<u8>>, Vec<u8>)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bs)
        .set("group.id", "oxsyslog-tansu")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..parts {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("partition offset");
    }
    c.assign(&tpl).expect("assign");
    let mut v = Vec::with_capacity(n);
    let mut last = Instant::now();
    while v.len() < n && last.elapsed() < Duration::from_secs(30) {
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            let m = m.unwrap_or_else(|e| panic!("consumer on {topic}: {e}"));
            v.push((
                m.partition(),
                m.key().map(<[u8]>::to_vec),
                m.payload().unwrap_or_default().to_vec(),
            ));
            last = Instant::now();
        }
    }
    v
}

#[test]
fn produce_through_oxsyslogd_into_tansu() {
    let bin = match tansu() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIPPED kafka_tansu: {why}");
            return;
        }
    };
    let t = tempfile::tempdir().unwrap();
    let (_broker, bs) = broker(&bin, t.path(), &[("logs", 3), ("fixed", 2)]);
    let conf = format!(
        "module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\")\n{tpl}\n\
         template(name=\"k\" type=\"string\" string=\"%programname%\")\n\
         action(type=\"omkafka\" broker=[\"{bs}\"] topic=\"logs\" template=\"numbered\" \
         partitions.number=\"3\" key=\"k\" dynaKey=\"on\" queue.type=\"LinkedList\")\n\
         action(type=\"omkafka\" broker=\"{bs}\" topic=\"fixed\" template=\"numbered\" \
         partitions.useFixed=\"1\" key=\"static-key\")\n",
        dir = t.path().display(),
        tpl = flow::NUMBERED_TEMPLATE,
    );
    let mut d = Daemon::start(OX, t.path(), &conf, &[]);
    let p = port_file(&d, "port");
    const N: usize = 3000;
    feed_tcp(p, "tansu", 0..N, 100, Duration::from_millis(5));
    for (topic, parts) in [("logs", 3), ("fixed", 2)] {
        let mut seen: HashMap<String, (i32, Option<Vec<u8>>)> = HashMap::new();
        for (part, key, payload) in consume(&bs, topic, parts, N) {
            let s = String::from_utf8_lossy(&payload).into_owned();
            assert!(
                seen.insert(s.clone(), (part, key)).is_none(),
                "{topic}: twice: {s}"
            );
        }
        let mut per = vec![0; parts as usize];
        for i in 0..N {
            let want = format!("{}\n", numbered_out("tansu", i));
            let (part, key) = seen
                .get(&want)
                .unwrap_or_else(|| panic!("{topic}: message {i} missing"));
            per[*part as usize] += 1;
            match topic {
                "logs" => assert_eq!(key.as_deref(), Some(&b"tansu"[..])),
                _ => assert_eq!((key.as_deref(), *part), (Some(&b"static-key"[..]), 1)),
            }
        }
        assert_eq!(seen.len(), N, "{topic}: unexpected records");
        if topic == "logs" {
            assert_eq!(per, vec![N / 3; 3], "round robin");
        }
    }
    assert!(d.stop(), "{}", d.stderr());
}

/// rsyslogd's own omkafka (Debian's rsyslog-kafka) and oxsyslogd with the same actions into
/// the same tansu broker, each into its own topics: the same records, partition by partition
/// in the same order, with the same keys (round robin with `dynaKey`; `dynaTopic` with
/// `partitions.auto`).
#[test]
fn same_records_as_rsyslogd_on_tansu() {
    let bin = match tansu() {
        Ok(b) => b,
        Err(why) => {
            eprintln!("SKIPPED kafka_tansu: {why}");
            return;
        }
    };
    const N: usize = 1200;
    let tags = ["alpha", "beta", "gamma"];
    let t = tempfile::tempdir().unwrap();
    let mut topics = Vec::new();
    for p in ["rs", "ox"] {
        topics.push((format!("{p}-rr"), 3));
        for tag in tags {
            topics.push((format!("{p}-dyn-{tag}"), 3));
        }
    }
    let names: Vec<(&str, i32)> = topics.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    let (_broker, bs) = broker(&bin, t.path(), &names);
    let run = |daemon: &str, p: &str| {
        let d = tempfile::tempdir().unwrap();
        let conf = format!(
            "global(workDirectory=\"{dir}\")\nmodule(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
             input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\" ruleset=\"k\")\n\
             {tpl}\n\
             template(name=\"k\" type=\"string\" string=\"%programname%\")\n\
             template(name=\"dt\" type=\"string\" string=\"{p}-dyn-%programname%\")\n\
             ruleset(name=\"k\") {{\n\
             action(type=\"omkafka\" broker=[\"{bs}\"] topic=\"{p}-rr\" template=\"numbered\" \
             partitions.number=\"3\" key=\"k\" dynaKey=\"on\")\n\
             action(type=\"omkafka\" broker=[\"{bs}\"] topic=\"dt\" dynaTopic=\"on\" \
             template=\"numbered\" partitions.auto=\"on\" key=\"k\" dynaKey=\"on\")\n}}\n",
            dir = d.path().display(),
            tpl = flow::NUMBERED_TEMPLATE,
        );
        let mut dm = Daemon::start(daemon, d.path(), &conf, &[]);
        let port = port_file(&dm, "port");
        // one connection, the tags in turn
        let mut s = common::connect(port);
        let mut buf = Vec::new();
        for i in 0..N {
            buf.extend_from_slice(flow::numbered_line(tags[i % tags.len()], i).as_bytes());
            buf.push(b'\n');
        }
        std::io::Write::write_all(&mut s, &buf).unwrap();
        let mut out = HashMap::new();
        out.insert("rr".to_string(), consume(&bs, &format!("{p}-rr"), 3, N));
        for tag in tags {
            out.insert(
                format!("dyn-{tag}"),
                consume(&bs, &format!("{p}-dyn-{tag}"), 3, N / tags.len()),
            );
        }
        assert!(dm.stop(), "{daemon}: {}", dm.stderr());
        out
    };
    let theirs = run("/usr/sbin/rsyslogd", "rs");
    let ours = run(OX, "ox");
    for (name, recs) in &theirs {
        let want = if name == "rr" { N } else { N / tags.len() };
        assert_eq!(recs.len(), want, "rsyslogd, topic {name}");
        let mut a = recs.clone();
        let mut b = ours[name].clone();
        // per partition, in order (a stable sort keeps each partition's order)
        a.sort_by_key(|r| r.0);
        b.sort_by_key(|r| r.0);
        assert_eq!(a.len(), b.len(), "topic {name}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x,
                y,
                "topic {name}: rsyslogd {:?} / oxsyslogd {:?}",
                String::from_utf8_lossy(&x.2),
                String::from_utf8_lossy(&y.2)
            );
        }
    }
}
