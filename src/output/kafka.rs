//! omkafka: `action(type="omkafka" broker= topic= dynaTopic= key= dynaKey= partitions.auto=
//! partitions.number= partitions.useFixed= confParam= topicConfParam= template= errorFile=
//! statsFile= resubmitOnFailure= keepFailedMessages= failedMsgFile= closeTimeout=)` with
//! rsyslog 8.2302's parameters and defaults (template `RSYSLOG_FileFormat`, broker
//! `localhost:9092`, closeTimeout 2000 ms).
//!
//! The rules thread renders the message, and the topic and key templates when `dynaTopic` /
//! `dynaKey` are on, into one record (see [`encode`]) and hands the batch to the action's
//! queue (src/output/actq.rs), so a dead broker never blocks the rules thread. The queue's
//! worker produces through librdkafka (src/output/kafka_producer.rs, cargo feature `kafka`);
//! a batch counts as sent only when every message of it got its delivery report (acknowledged,
//! refused into `errorFile`, or kept for resubmission with `resubmitOnFailure`). With
//! `keepFailedMessages`, what the action queue still holds at shutdown goes to `failedMsgFile`
//! too. Without the feature, `type="omkafka"` is refused at start.

use std::sync::Arc;

use crate::config::model::{Action, Config, PValue};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template, Templates};

/// The settings of one omkafka action (everything but the templates and the queue).
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// librdkafka's `bootstrap.servers`, comma separated.
    pub brokers: String,
    /// The topic; with `dynaTopic` the topic template's name.
    pub topic: String,
    /// The static key (`key=` without `dynaKey`).
    pub key: Option<String>,
    /// `partitions.auto`: librdkafka's partitioner chooses.
    pub auto_partition: bool,
    /// `partitions.useFixed`: always this partition.
    pub fixed_partition: Option<i32>,
    /// `partitions.number` (default 1): round robin over partitions 0..n.
    pub partitions: i32,
    /// `confParam` and `topicConfParam` as name/value pairs, in order.
    pub conf: Vec<(String, String)>,
    pub error_file: Option<String>,
    pub stats_file: Option<String>,
    pub resubmit: bool,
    pub keep_failed: bool,
    pub failed_msg_file: Option<String>,
    /// `closeTimeout` (ms): how long shutdown waits for Kafka to acknowledge.
    pub close_timeout: std::time::Duration,
    /// The action's name for messages.
    pub name: String,
    /// `statsName`: the impstats object's name (default `omkafka`).
    pub stats_name: Option<String>,
}

fn flag(a: &Action, name: &str) -> bool {
    match a.params.get(name) {
        Some(PValue::Bool(b)) => *b,
        Some(PValue::Int(n)) => *n != 0,
        Some(PValue::Str(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "on" | "1" | "yes")
        }
        _ => false,
    }
}

fn list(a: &Action, name: &str) -> Vec<String> {
    match a.params.get(name) {
        Some(PValue::Array(v)) => v.clone(),
        Some(PValue::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `name=value` of confParam/topicConfParam (omkafka.c `processKafkaParam`).
fn conf_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, v)) => Ok((n.to_string(), v.to_string())),
        None => Err(format!("missing equal sign in parameter '{s}'")),
    }
}

impl KafkaSettings {
    /// Reads an action's parameters; `name` is the action's name.
    pub fn from_action(a: &Action, name: String) -> Result<KafkaSettings, String> {
        let int = |n: &str| super::queued::int(a, n);
        let topic = a
            .params
            .str("topic")
            .ok_or("parameter \"topic\" is required")?
            .to_string();
        let brokers = list(a, "broker");
        let mut conf = Vec::new();
        for s in list(a, "confParam")
            .iter()
            .chain(list(a, "topicConfParam").iter())
        {
            conf.push(conf_pair(s)?);
        }
        let dyna_key = flag(a, "dynaKey");
        let key = a.params.str("key").map(str::to_string);
        if dyna_key && key.is_none() {
            return Err("requested dynamic key, but no name for key template given".into());
        }
        Ok(KafkaSettings {
            brokers: if brokers.is_empty() {
                "localhost:9092".into()
            } else {
                brokers.join(",")
            },
            topic,
            key: if dyna_key { None } else { key },
            auto_partition: flag(a, "partitions.auto"),
            fixed_partition: int("partitions.useFixed").map(|n| n.clamp(0, i32::MAX as i64) as i32),
            partitions: int("partitions.number")
                .unwrap_or(1)
                .clamp(1, i32::MAX as i64) as i32,
            conf,
            error_file: a.params.str("errorFile").map(str::to_string),
            stats_file: a.params.str("statsFile").map(str::to_string),
            resubmit: flag(a, "resubmitOnFailure"),
            keep_failed: flag(a, "keepFailedMessages"),
            failed_msg_file: a.params.str("failedMsgFile").map(str::to_string),
            close_timeout: std::time::Duration::from_millis(
                int("closeTimeout").unwrap_or(2000).max(0) as u64,
            ),
            name,
            stats_name: a.params.str("statsName").map(str::to_string),
        })
    }
}

/// What `rsyslogd -N1` refuses in omkafka actions (omkafka.c `newActInst`): a bad
/// `confParam`, `dynaKey` without a key template name, a missing `dynaTopic` / `dynaKey`
/// template. One `file:line: error: omkafka: …` line per action; with or without the feature.
pub fn check_config(cfg: &Config) -> Vec<String> {
    let templates = Templates::from_config(cfg).ok();
    let mut errors = Vec::new();
    for a in cfg
        .actions
        .iter()
        .filter(|a| a.module.eq_ignore_ascii_case("omkafka"))
    {
        let r = KafkaSettings::from_action(a, String::new()).and_then(|s| {
            let missing = |what: &str, name: &str| match &templates {
                Some(t) if t.get(name).is_none() => {
                    Err(format!("{what} template '{name}' not found"))
                }
                _ => Ok(()),
            };
            if flag(a, "dynaTopic") {
                missing("dynaTopic", &s.topic)?;
            }
            match (flag(a, "dynaKey"), a.params.str("key")) {
                (true, Some(k)) => missing("dynaKey", k),
                _ => Ok(()),
            }
        });
        if let Err(e) = r {
            errors.push(format!("{}: error: omkafka: {e}", a.loc));
        }
    }
    errors
}

/// Header of an encoded record: topic length, key length (`NONE`: no key / the static one),
/// timestamp.
const HDR: usize = 16;
/// Length value meaning "not rendered": the static topic, or no dynamic key.
pub const NONE: u32 = u32::MAX;

/// One record as the queue carries it:
/// `[topic len u32][key len u32][timestamp i64][topic][key][payload]`.
/// Built in place by [`KafkaOutput`], one buffer per message.
pub struct Record<'a> {
    pub topic: Option<&'a [u8]>,
    pub key: Option<&'a [u8]>,
    /// The Kafka record's CreateTime in ms: omkafka's `%timestamp:::date-unixtimestamp%`
    /// × 1000; 0 (resubmitted messages, dates outside 1970–2100) lets librdkafka use now.
    pub ts: i64,
    pub payload: &'a [u8],
}

/// Encodes a record (the rules thread renders straight into the buffer instead; this one is
/// for resent messages read back from `failedMsgFile`).
pub fn encode(r: &Record<'_>) -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + r.payload.len() + 64);
    let len = |x: Option<&[u8]>| x.map_or(NONE, |x| x.len() as u32);
    v.extend_from_slice(&len(r.topic).to_le_bytes());
    v.extend_from_slice(&len(r.key).to_le_bytes());
    v.extend_from_slice(&r.ts.to_le_bytes());
    v.extend_from_slice(r.topic.unwrap_or_default());
    v.extend_from_slice(r.key.unwrap_or_default());
    v.extend_from_slice(r.payload);
    v
}

/// Decodes what [`encode`] or [`KafkaOutput`] built; None for a malformed buffer.
pub fn decode(b: &[u8]) -> Option<Record<'_>> {
    let n = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if b.len() < HDR {
        return None;
    }
    let (t, k) = (n(0), n(4));
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&b[8..16]);
    let tl = if t == NONE { 0 } else { t as usize };
    let kl = if k == NONE { 0 } else { k as usize };
    let rest = &b[HDR..];
    if rest.len() < tl + kl {
        return None;
    }
    Some(Record {
        topic: (t != NONE).then(|| &rest[..tl]),
        key: (k != NONE).then(|| &rest[tl..tl + kl]),
        ts: i64::from_le_bytes(ts),
        payload: &rest[tl + kl..],
    })
}

/// The rules thread's side of an omkafka action.
pub struct KafkaOutput {
    template: Arc<Template>,
    topic_tpl: Option<Arc<Template>>,
    key_tpl: Option<Arc<Template>>,
    queue: super::actq::ActionQueue,
    pending: Vec<(u8, Vec<u8>)>,
    /// Messages the queue had no room for (never reset; `Output::lost_total`).
    lost: u64,
    target: String,
    /// Set at shutdown: the producer stops waiting after `closeTimeout`.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// The producer's end: persisted and closed.
    closed: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    close_timeout: std::time::Duration,
    /// SIGHUPs so far: the worker reopens errorFile and statsFile.
    hups: Arc<std::sync::atomic::AtomicU64>,
    /// `failedMsgFile` with `resubmitOnFailure` and `keepFailedMessages`, the static topic and
    /// key: where the messages still in the action queue at shutdown go.
    keep: Option<(String, String, Option<String>)>,
}

impl super::Output for KafkaOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&[0xff; 8]);
        // omkafka.c: the record's timestamp is `%timestamp:::date-unixtimestamp%` (seconds,
        // printed as unsigned 32-bit and read back with atoi) × 1000
        let secs = crate::template::datefmt::to_unix(m.time_reported()) as u32 as i32 as i64;
        buf.extend_from_slice(&(secs * 1000).to_le_bytes());
        if let Some(t) = &self.topic_tpl {
            t.render(m, env, &mut buf);
            let n = (buf.len() - HDR) as u32;
            buf[0..4].copy_from_slice(&n.to_le_bytes());
        }
        if let Some(k) = &self.key_tpl {
            let before = buf.len();
            k.render(m, env, &mut buf);
            let n = (buf.len() - before) as u32;
            buf[4..8].copy_from_slice(&n.to_le_bytes());
        }
        self.template.render(m, env, &mut buf);
        self.pending.push((m.m.severity, buf));
    }

    fn end_batch(&mut self) {
        self.lost += self.queue.enqueue(&mut self.pending);
    }

    fn suspended_now(&self) -> bool {
        self.queue.suspended_now()
    }

    fn take_failed(&mut self) -> u64 {
        self.queue.take_failed()
    }

    fn take_suspensions(&mut self) -> [u64; 3] {
        self.queue.take_suspensions()
    }

    fn hup(&mut self) {
        self.hups.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn lost_total(&self) -> u64 {
        self.lost
    }

    fn shutdown(&mut self) -> u64 {
        self.queue.enqueue(&mut self.pending);
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut left = Vec::new();
        let lost = self
            .queue
            .shutdown_keeping(&self.target, self.keep.as_ref().map(|_| &mut left));
        // the worker may still be waiting for acknowledgements: give it closeTimeout and a
        // little more to persist what was not delivered
        let (m, cv) = &*self.closed;
        let until =
            std::time::Instant::now() + self.close_timeout + std::time::Duration::from_secs(2);
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        while !*g {
            let now = std::time::Instant::now();
            if now >= until {
                break;
            }
            g = cv
                .wait_timeout(g, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        // after what the producer kept (appended by the worker's close): the messages the
        // action had not taken yet, as omkafka keeps everything not delivered (rsyslogd would
        // lose these with its action queue)
        if let Some((path, topic, key)) = &self.keep {
            super::kafka_files::append_failed(
                path,
                &left,
                topic.as_bytes(),
                key.as_deref().map(str::as_bytes),
            );
        }
        lost
    }
}

/// Builds an omkafka action; `index` is its number among the config's actions.
#[cfg(feature = "kafka")]
pub fn build(
    a: &Action,
    index: usize,
    cfg: &Config,
    templates: &Templates,
) -> Result<KafkaOutput, String> {
    let strip = |e: String| match e.split_once(": error: ") {
        Some((_, r)) => r.to_string(),
        None => e,
    };
    let template = super::template_for(a, templates, "RSYSLOG_FileFormat").map_err(strip)?;
    let tpl = |name: &str, what: &str| {
        templates
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{what} template '{name}' not found"))
    };
    let report = !matches!(
        cfg.globals.get("action.reportSuspension"),
        Some(PValue::Bool(false))
    );
    let qs = super::actq::QueueSettings::from_action(a, index, "omkafka", report)?;
    let s = KafkaSettings::from_action(a, qs.name.clone())?;
    let topic_tpl = if flag(a, "dynaTopic") {
        Some(tpl(&s.topic, "dynaTopic")?)
    } else {
        None
    };
    let key_tpl = match (flag(a, "dynaKey"), a.params.str("key")) {
        (true, Some(k)) => Some(tpl(k, "dynaKey")?),
        _ => None,
    };
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let closed = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let target = format!("kafka {} topic {}", s.brokers, s.topic);
    let close_timeout = s.close_timeout;
    let hups = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let keep = match (&s.failed_msg_file, s.resubmit && s.keep_failed) {
        (Some(path), true) => Some((path.clone(), s.topic.clone(), s.key.clone())),
        _ => None,
    };
    let producer = super::kafka_producer::KafkaTransport::new(
        s,
        stopping.clone(),
        closed.clone(),
        hups.clone(),
    )?;
    Ok(KafkaOutput {
        template,
        topic_tpl,
        key_tpl,
        queue: super::actq::ActionQueue::start(qs, Box::new(producer))?,
        pending: Vec::new(),
        lost: 0,
        target,
        stopping,
        closed,
        close_timeout,
        hups,
        keep,
    })
}

/// Without the `kafka` feature: a config error naming the cause.
#[cfg(not(feature = "kafka"))]
pub fn build(
    _a: &Action,
    _index: usize,
    _cfg: &Config,
    _templates: &Templates,
) -> Result<KafkaOutput, String> {
    Err("this oxsyslogd was built without Kafka support (cargo feature \"kafka\"); omkafka is not available".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        for r in [
            Record {
                topic: None,
                key: None,
                ts: 0,
                payload: b"m\n",
            },
            Record {
                topic: Some(b"t"),
                key: Some(b""),
                ts: -1,
                payload: b"",
            },
            Record {
                topic: Some(b"topic"),
                key: Some(b"key"),
                ts: 1_700_000_000_000,
                payload: b"payload",
            },
        ] {
            let v = encode(&r);
            let d = decode(&v).unwrap();
            assert_eq!(
                (d.topic, d.key, d.ts, d.payload),
                (r.topic, r.key, r.ts, r.payload)
            );
        }
        assert!(decode(b"\0\0\0").is_none());
        let mut short = vec![9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        short.extend_from_slice(&[0; 8]);
        short.push(b'x');
        assert!(decode(&short).is_none());
    }

    #[test]
    fn conf_params_need_an_equal_sign() {
        assert_eq!(conf_pair("a.b=c=d").unwrap(), ("a.b".into(), "c=d".into()));
        assert!(conf_pair("nothing")
            .unwrap_err()
            .contains("missing equal sign"));
    }
}
