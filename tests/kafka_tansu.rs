//! omkafka against a real Kafka-protocol broker, `tansu` (opt-in tier): the test starts
//! `tansu broker` with its memory storage on a free port, creates the topics with rdkafka's
//! admin client, sends numbered messages through oxsyslogd (imtcp → omkafka) and reads them
//! back with an rdkafka consumer: every message present once, with the right key and
//! partition. Runs only with `--features kafka`, OXSYSLOG_TANSU=1 and a `tansu` binary on the
//! PATH (or OXSYSLOG_TANSU=/path/to/tansu); otherwise it says why it is skipped and passes.
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
    let port = common::free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let _broker = Proc(
        Command::new(&bin)
            .arg("broker")
            // tansu reads these (its flags changed names between versions)
            .env("LISTENER_URL", &url)
            .env("ADVERTISED_LISTENER_URL", &url)
            .env("STORAGE_ENGINE", "memory://tansu/")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(t.path().join("tansu.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    let bs = format!("127.0.0.1:{port}");
    let _ = common::listening(port);
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bs)
        .create()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let created = rt
        .block_on(admin.create_topics(
            &[
                NewTopic::new("logs", 3, TopicReplication::Fixed(1)),
                NewTopic::new("fixed", 2, TopicReplication::Fixed(1)),
            ],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        ))
        .expect("create topics on tansu");
    for r in created {
        r.unwrap_or_else(|(t, e)| panic!("topic {t}: {e}"));
    }
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
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bs)
            .set("group.id", "oxsyslog-tansu")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..parts {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .unwrap();
        }
        c.assign(&tpl).unwrap();
        let mut seen: HashMap<String, (i32, Option<Vec<u8>>)> = HashMap::new();
        let mut last = Instant::now();
        while seen.len() < N && last.elapsed() < Duration::from_secs(30) {
            if let Some(m) = c.poll(Duration::from_millis(200)) {
                let m = m.unwrap();
                let s = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
                assert!(
                    seen.insert(s.clone(), (m.partition(), m.key().map(<[u8]>::to_vec)))
                        .is_none(),
                    "{topic}: twice: {s}"
                );
                last = Instant::now();
            }
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
