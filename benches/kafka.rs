//! Messages per second into Kafka for oxsyslogd (imtcp → omkafka), against librdkafka's mock
//! cluster living in this harness process (real Kafka protocol over TCP on 127.0.0.1). An
//! rdkafka consumer in the harness counts the records; a run is timed from the first byte
//! sent to the last record consumed. Two variants: the action queue in memory
//! (`queue.type="LinkedList"`) and disk-assisted (`queue.filename` set), the latter reported as
//! skipped when the runtime refuses it.
//!
//! Run: `cargo bench --features kafka --bench kafka -- [--messages N] [--runs R]`
//! (by hand, not in CI; the mock cluster is not a real broker: compare variants, not clusters).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::{Offset, TopicPartitionList};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const PARTS: i32 = 3;

/// The daemon under test, killed on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn arg(name: &str) -> Option<usize> {
    let a: Vec<String> = std::env::args().collect();
    a.iter()
        .position(|x| x == name)
        .and_then(|i| a.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

fn start(dir: &Path, bootstrap: &str, topic: &str, queue: &str) -> Result<(Guard, u16), String> {
    let conf = format!(
        "module(load=\"imtcp\")\nmodule(load=\"omkafka\")\n\
         global(workDirectory=\"{dir}\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{dir}/port\")\n\
         template(name=\"m\" type=\"string\" string=\"%hostname% %syslogtag%%msg%\")\n\
         action(type=\"omkafka\" broker=[\"{bootstrap}\"] topic=\"{topic}\" template=\"m\" \
         partitions.number=\"{PARTS}\" queue.size=\"200000\" queue.dequeueBatchSize=\"4096\" \
         action.resumeRetryCount=\"-1\" {queue})\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("d.conf"), conf).map_err(|e| e.to_string())?;
    let child = Command::new(OX)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.join("d.conf"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr")).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("{OX}: {e}"))?;
    let mut g = Guard(child);
    let t = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return Ok((g, p));
        }
        if let Ok(Some(_)) = g.0.try_wait() {
            return Err(std::fs::read_to_string(dir.join("stderr")).unwrap_or_default());
        }
        if t.elapsed() > Duration::from_secs(15) {
            return Err("the daemon did not start in 15 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Counts the topic's records until `n` arrived (or 60 s without one).
fn count(bootstrap: String, topic: String, n: usize) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let c: BaseConsumer = match ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", "bench")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "20")
            .create()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("kafka bench: consumer: {e}");
                return 0;
            }
        };
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTS {
            let _ = tpl.add_partition_offset(&topic, p, Offset::Beginning);
        }
        if c.assign(&tpl).is_err() {
            return 0;
        }
        let (mut got, mut last) = (0, Instant::now());
        while got < n && last.elapsed() < Duration::from_secs(60) {
            if let Some(Ok(_)) = c.poll(Duration::from_millis(100)) {
                got += 1;
                last = Instant::now();
            }
        }
        got
    })
}

fn payload(n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n * 100);
    for i in 0..n {
        let _ = writeln!(
            v,
            "<134>Nov 23 10:00:00 host1 bench[7]: seq={i:08} the quick brown fox jumps over the lazy dog"
        );
    }
    v
}

/// One run: (messages/s, daemon CPU seconds) or why it could not run.
fn run(n: usize, data: &[u8], queue: &str, run: usize) -> Result<(f64, f64), String> {
    let mc = MockCluster::new(1).map_err(|e| e.to_string())?;
    let topic = format!("bench{run}");
    mc.create_topic(&topic, PARTS, 1)
        .map_err(|e| e.to_string())?;
    let bs = mc.bootstrap_servers();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (g, port) = start(dir.path(), &bs, &topic, queue)?;
    let counter = count(bs, topic, n);
    let t0 = Instant::now();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.write_all(data).map_err(|e| e.to_string())?;
    drop(s);
    let got = counter
        .join()
        .map_err(|_| "consumer panicked".to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(g.0.id());
    if got != n {
        return Err(format!("{got} of {n} records consumed"));
    }
    Ok((n as f64 / secs, cpu))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let n = arg("--messages").unwrap_or(500_000);
    let runs = arg("--runs").unwrap_or(3).max(1);
    let data = payload(n);
    println!("# omkafka into the mock cluster: {n} messages over one TCP connection, {PARTS} partitions, {runs} runs, medians");
    for (name, queue) in [
        ("memory (LinkedList)", "queue.type=\"LinkedList\""),
        (
            "disk-assisted (LinkedList + queue.filename)",
            "queue.type=\"LinkedList\" queue.filename=\"kafkaq\" queue.saveOnShutdown=\"on\"",
        ),
    ] {
        let mut rates = Vec::new();
        let mut cpus = Vec::new();
        for r in 0..runs {
            match run(n, &data, queue, r) {
                Ok((rate, cpu)) => {
                    rates.push(rate);
                    cpus.push(cpu);
                }
                Err(e) => {
                    println!("{name}: skipped: {}", e.lines().next().unwrap_or(""));
                    break;
                }
            }
        }
        if rates.len() == runs {
            println!(
                "{name}: {:.0} msg/s, daemon CPU {:.2} s",
                median(rates),
                median(cpus)
            );
        }
    }
}
