//! omkafka's transport (cargo feature `kafka`): the action queue's worker produces each batch
//! through a librdkafka producer (the `rdkafka` crate, bundled librdkafka) and waits for the
//! delivery report of every message, so a batch counts as sent only once Kafka acknowledged
//! it. librdkafka retries transient errors (broker down, request errors) by itself until
//! `message.timeout.ms`; what it finally reports as failed is, as in omkafka.c's
//! `deliveryCallback`: with `resubmitOnFailure` kept and produced again before the next batch
//! (omkafka's `checkFailedMessages`; a message over the size limit is never resubmitted), or
//! after a second without one, otherwise written to `errorFile`. New messages keep being
//! produced beside the failed ones, as omkafka.c does, until librdkafka reports a broker-level
//! error (transport, all brokers down, authentication, SSL, timeout: omkafka's `errorCallback`
//! suspends the action): then a batch that left messages to resubmit fails, so the queue's
//! retry/suspend state machine runs and the next messages wait in the action queue until the
//! brokers answer a metadata request (omkafka's `tryResume`). At shutdown the worker waits
//! `closeTimeout` for outstanding acknowledgements; with `keepFailedMessages` what was still
//! not delivered goes to `failedMsgFile` and is produced again at the next start (and so do
//! the messages still in the action queue: src/output/kafka.rs).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig,
};
use rdkafka::ClientContext;

use super::actq::Transport;
use super::kafka::{decode, encode, KafkaSettings, Record};
use super::kafka_files::{error_line, parse_failed, SideFile};

/// omkafka's impstats counters (origin `omkafka`), in statsobj order.
pub const COUNTERS: &[&str] = &[
    "submitted",
    "maxoutqsize",
    "failures",
    "acked",
    "failures_msg_too_large",
    "failures_unknown_topic",
    "failures_queue_full",
    "failures_unknown_partition",
    "failures_other",
    "errors_timed_out",
    "errors_transport",
    "errors_broker_down",
    "errors_auth",
    "errors_ssl",
    "errors_other",
];

const SUBMITTED: usize = 0;
const MAXOUTQ: usize = 1;
const FAILURES: usize = 2;
const ACKED: usize = 3;

/// Delivery opaques from here on are messages of `failedMsgFile` produced at start.
const STARTUP: usize = 1 << 40;

/// At most this many failed messages wait for resubmission while new ones are taken
/// (librdkafka's default `queue.buffering.max.messages`); beyond that the batch fails and the
/// action queue holds the rest (its size, discard and disk settings apply).
const RETRY_MAX: usize = 100_000;

/// The client errors after which omkafka.c's `errorCallback` suspends the action.
fn suspends(c: RDKafkaErrorCode) -> bool {
    matches!(
        c,
        RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::Authentication
            | RDKafkaErrorCode::SSL
    )
}

/// The index of the `failures_*` counter for a failed message (omkafka.c
/// `updateKafkaFailureCounts`).
fn failure_kind(c: RDKafkaErrorCode) -> usize {
    match c {
        RDKafkaErrorCode::MessageSizeTooLarge => 4,
        RDKafkaErrorCode::UnknownTopic => 5,
        RDKafkaErrorCode::QueueFull => 6,
        RDKafkaErrorCode::UnknownPartition => 7,
        _ => 8,
    }
}

/// librdkafka's `rd_kafka_err2str` text, as omkafka writes it to `errorFile` (rdkafka's
/// Display adds the code's name: `Name (text)`).
fn err2str(code: RDKafkaErrorCode) -> String {
    let full = code.to_string();
    let name = format!("{code:?} (");
    match full.strip_prefix(&name).and_then(|r| r.strip_suffix(')')) {
        Some(text) => text.to_string(),
        None => full,
    }
}

/// The index of the `errors_*` counter for a client error event (omkafka.c `errorCallback`).
fn error_kind(c: RDKafkaErrorCode) -> usize {
    match c {
        RDKafkaErrorCode::MessageTimedOut => 9,
        RDKafkaErrorCode::BrokerTransportFailure => 10,
        RDKafkaErrorCode::AllBrokersDown => 11,
        RDKafkaErrorCode::Authentication => 12,
        RDKafkaErrorCode::SSL => 13,
        _ => 14,
    }
}

/// Logs one failed message, at most 500 per 5 s (`window`: start, count).
fn log_failure(window: &mut (Instant, u32), text: String) {
    let (start, n) = window;
    if start.elapsed() >= Duration::from_secs(5) {
        *start = Instant::now();
        *n = 0;
    }
    *n += 1;
    match *n {
        1..=500 => crate::engine::report_error(text),
        501 => crate::engine::report_error(
            "omkafka: more failed messages in the last 5 s; not logged".into(),
        ),
        _ => {}
    }
}

/// Receives delivery reports, client errors and statistics on the worker thread.
struct Ctx {
    /// (index in the batch, error) of the reports since the last drain.
    reports: Mutex<Vec<(usize, Option<RDKafkaErrorCode>)>>,
    counters: Arc<[AtomicU64]>,
    stats_file: Option<Mutex<SideFile>>,
    /// A broker-level error was reported (omkafka's `bIsSuspended`); cleared when a batch is
    /// delivered completely or the brokers answer a metadata request.
    suspend: AtomicBool,
}

impl ClientContext for Ctx {
    fn stats_raw(&self, statistics: &[u8]) {
        if let Some(f) = &self.stats_file {
            let mut line = Vec::with_capacity(statistics.len() + 1);
            line.extend_from_slice(statistics);
            line.push(b'\n');
            f.lock().unwrap_or_else(|e| e.into_inner()).append(&line);
        }
    }

    fn error(&self, error: KafkaError, _reason: &str) {
        let code = error.rdkafka_error_code();
        let kind = code.map_or(14, error_kind);
        self.counters[kind].fetch_add(1, Ordering::Relaxed);
        if code.is_some_and(suspends) {
            self.suspend.store(true, Ordering::Relaxed);
        }
    }

    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _log_message: &str) {}
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = usize;

    fn delivery(&self, r: &DeliveryResult<'_>, index: usize) {
        let e = match r {
            Ok(_) => None,
            Err((e, _)) => Some(e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail)),
        };
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((index, e));
    }
}

/// The producer an omkafka action's queue worker sends through.
pub struct KafkaTransport {
    s: KafkaSettings,
    producer: BaseProducer<Ctx>,
    counters: Arc<[AtomicU64]>,
    error_file: Option<SideFile>,
    /// Messages that failed and wait to be produced again (resubmitOnFailure), encoded.
    retry: Vec<Vec<u8>>,
    /// What `failedMsgFile` held, produced at start (delivery opaque `STARTUP + index`).
    startup: Vec<Vec<u8>>,
    /// Round-robin partition counter (`partitions.number`).
    next_partition: u32,
    stopping: Arc<AtomicBool>,
    closed: Arc<(Mutex<bool>, Condvar)>,
    /// Drained delivery reports (reused).
    drained: Vec<(usize, Option<RDKafkaErrorCode>)>,
    /// Per-message failure logs in the current 5 s window (start, count): at most 500, as
    /// rsyslog's internal message rate limit (internalmsg.ratelimit.burst).
    log_window: (Instant, u32),
}

impl KafkaTransport {
    /// Creates the producer (a bad confParam is an error here, at start) and loads
    /// `failedMsgFile`; `hups` counts SIGHUPs (errorFile and statsFile are reopened).
    pub fn new(
        s: KafkaSettings,
        stopping: Arc<AtomicBool>,
        closed: Arc<(Mutex<bool>, Condvar)>,
        hups: Arc<AtomicU64>,
    ) -> Result<KafkaTransport, String> {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &s.brokers);
        for (n, v) in &s.conf {
            cc.set(n, v);
        }
        let counters: Arc<[AtomicU64]> = COUNTERS.iter().map(|_| AtomicU64::new(0)).collect();
        crate::stats::register_named(
            s.stats_name.as_deref().unwrap_or("omkafka"),
            "omkafka",
            COUNTERS,
            counters.clone(),
        );
        let ctx = Ctx {
            reports: Mutex::new(Vec::new()),
            counters: counters.clone(),
            stats_file: s
                .stats_file
                .clone()
                .map(|p| Mutex::new(SideFile::new(p, hups.clone()))),
            suspend: AtomicBool::new(false),
        };
        let producer: BaseProducer<Ctx> = cc
            .create_with_context(ctx)
            .map_err(|e| format!("cannot create the Kafka producer: {e}"))?;
        let mut t = KafkaTransport {
            error_file: s.error_file.clone().map(|p| SideFile::new(p, hups.clone())),
            retry: Vec::new(),
            startup: Vec::new(),
            next_partition: 0,
            producer,
            counters,
            stopping,
            closed,
            drained: Vec::new(),
            log_window: (Instant::now(), 0),
            s,
        };
        t.load_failed();
        t.send_startup();
        Ok(t)
    }

    fn count(&self, i: usize) {
        self.counters[i].fetch_add(1, Ordering::Relaxed);
    }

    /// omkafka's `loadFailedMsgs`: what the last run could not deliver, produced first.
    fn load_failed(&mut self) {
        let Some(path) = self.s.failed_msg_file.clone() else {
            return;
        };
        if !(self.s.resubmit && self.s.keep_failed) {
            return;
        }
        let Ok(content) = std::fs::read(&path) else {
            return;
        };
        for (topic, key, msg) in parse_failed(&content, &path) {
            self.retry.push(encode(&Record {
                topic: Some(&topic),
                key: key.as_deref(),
                ts: 0,
                payload: &msg,
            }));
        }
        if let Err(e) = std::fs::remove_file(&path) {
            crate::engine::report_error(format!(
                "omkafka: cannot remove failed messages file {path}: {e}"
            ));
        }
    }

    /// Produces what `failedMsgFile` held right at start, without waiting: the delivery
    /// reports are taken with the next batch's (or at shutdown); what librdkafka does not
    /// take now waits in the resubmission list.
    fn send_startup(&mut self) {
        self.startup = std::mem::take(&mut self.retry);
        let startup = std::mem::take(&mut self.startup);
        for (j, m) in startup.iter().enumerate() {
            let Some(r) = decode(m) else { continue };
            let topic = String::from_utf8_lossy(r.topic.unwrap_or_default()).into_owned();
            let part = self.partition();
            let mut rec: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&topic, STARTUP + j).payload(r.payload);
            if let Some(k) = r.key {
                rec = rec.key(k);
            }
            if let Some(p) = part {
                rec = rec.partition(p);
            }
            match self.producer.send(rec) {
                Ok(()) => self.count(SUBMITTED),
                Err(_) => self.retry.push(m.clone()),
            }
        }
        self.startup = startup;
        self.producer.poll(Duration::ZERO);
    }

    fn partition(&mut self) -> Option<i32> {
        if self.s.auto_partition {
            return None;
        }
        if let Some(p) = self.s.fixed_partition {
            return Some(p);
        }
        // omkafka.c getPartition: ATOMIC_INC_AND_FETCH_unsigned is __sync_fetch_and_add, so
        // the value before the increment counts: the first message goes to partition 0
        let p = self.next_partition % self.s.partitions as u32;
        self.next_partition = self.next_partition.wrapping_add(1);
        Some(p as i32)
    }

    /// A message of `msgs` finally failed with `code`: resubmit, or (omkafka.c) a failed
    /// delivery report goes to `errorFile`, a message librdkafka refused at produce time
    /// (`at_produce`: Some(its partition, -1 unassigned), e.g. over `message.max.bytes`)
    /// only to the error log.
    fn failed(
        &mut self,
        m: &[u8],
        code: RDKafkaErrorCode,
        first: &mut Option<String>,
        at_produce: Option<i32>,
    ) {
        self.count(FAILURES);
        self.count(failure_kind(code));
        let Some(r) = decode(m) else { return };
        let topic = r.topic.unwrap_or(self.s.topic.as_bytes());
        if self.s.resubmit && code != RDKafkaErrorCode::MessageSizeTooLarge {
            // resubmitted without a timestamp, as omkafka's checkFailedMessages, with the key
            // it was produced with (also the static one)
            let e = encode(&Record {
                topic: Some(topic),
                key: r.key.or(self.s.key.as_deref().map(str::as_bytes)),
                ts: 0,
                payload: r.payload,
            });
            self.retry.push(e);
        } else {
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let payload = r.payload.strip_suffix(b"\n").unwrap_or(r.payload);
            if let Some(part) = at_produce {
                // writeKafka: LogError, no errorFile line
                log_failure(&mut self.log_window, format!(
                    "omkafka: Failed to produce to topic '{}' (rd_kafka_producev)partition {}: {}/{} - KEY '{}' -MSG '{}'",
                    text(topic),
                    part,
                    code as i32,
                    err2str(code),
                    r.key.map_or("(null)".into(), text),
                    text(payload)
                ));
            } else {
                // deliveryCallback: LogError and the errorFile line
                log_failure(
                    &mut self.log_window,
                    format!(
                        "omkafka: kafka delivery FAIL on Topic '{}', msg '{}', key '{}'",
                        text(topic),
                        text(payload),
                        text(r.key.unwrap_or_default())
                    ),
                );
                if let Some(f) = &mut self.error_file {
                    let mut line = Vec::with_capacity(r.payload.len() + 96);
                    error_line(&mut line, code as i32, &err2str(code), r.payload);
                    f.append(&line);
                }
            }
        }
        if first.is_none() {
            *first = Some(format!(
                "delivery to topic '{}' failed: {code}",
                String::from_utf8_lossy(topic)
            ));
        }
    }

    fn drain_reports(&mut self, msgs: &[Vec<u8>], pending: &mut usize, first: &mut Option<String>) {
        let mut d = std::mem::take(&mut self.drained);
        {
            let mut g = self
                .producer
                .context()
                .reports
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut *g, &mut d);
        }
        for (i, e) in d.drain(..) {
            if i < STARTUP {
                *pending = pending.saturating_sub(1);
            }
            match e {
                None => self.count(ACKED),
                Some(c) if i < STARTUP => {
                    if let Some(m) = msgs.get(i) {
                        self.failed(m, c, first, None)
                    }
                }
                Some(c) => {
                    if let Some(m) = self.startup.get(i - STARTUP).cloned() {
                        self.failed(&m, c, first, None)
                    }
                }
            }
        }
        self.drained = d;
    }

    /// Produces `msgs` and waits for every delivery report (at shutdown at most
    /// `closeTimeout`, then the rest counts as failed). Returns the first failure, if any.
    fn produce(&mut self, msgs: &[Vec<u8>]) -> Option<String> {
        let mut pending = 0usize;
        let mut first = None;
        let static_key = self.s.key.clone();
        let default_topic = self.s.topic.clone();
        for (i, m) in msgs.iter().enumerate() {
            let Some(r) = decode(m) else { continue };
            let topic = match r.topic {
                Some(t) => String::from_utf8_lossy(t),
                None => std::borrow::Cow::Borrowed(default_topic.as_str()),
            };
            let key = r.key.or(static_key.as_deref().map(str::as_bytes));
            let part = self.partition();
            let mut rec: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&topic, i).payload(r.payload);
            if let Some(k) = key {
                rec = rec.key(k);
            }
            if let Some(p) = part {
                rec = rec.partition(p);
            }
            if r.ts != 0 {
                rec = rec.timestamp(r.ts);
            }
            loop {
                match self.producer.send(rec) {
                    Ok(()) => {
                        pending += 1;
                        self.count(SUBMITTED);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        rec = back;
                        self.producer.poll(Duration::from_millis(5));
                        self.drain_reports(msgs, &mut pending, &mut first);
                    }
                    Err((e, _)) => {
                        let code = e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
                        self.failed(m, code, &mut first, Some(part.unwrap_or(-1)));
                        break;
                    }
                }
            }
            if i % 64 == 0 {
                self.producer.poll(Duration::ZERO);
                self.drain_reports(msgs, &mut pending, &mut first);
            }
        }
        self.counters[MAXOUTQ].fetch_max(
            self.producer.in_flight_count().max(0) as u64,
            Ordering::Relaxed,
        );
        let mut deadline: Option<Instant> = None;
        while pending > 0 {
            self.producer.poll(Duration::from_millis(50));
            self.drain_reports(msgs, &mut pending, &mut first);
            if pending == 0 {
                break;
            }
            if self.stopping.load(Ordering::Relaxed) {
                let d = *deadline.get_or_insert_with(|| Instant::now() + self.s.close_timeout);
                if Instant::now() >= d {
                    // give up: purged messages come back as failed delivery reports
                    self.producer
                        .purge(PurgeConfig::default().queue().inflight().non_blocking());
                    deadline = Some(Instant::now() + Duration::from_secs(3600));
                }
            }
        }
        first
    }
}

impl KafkaTransport {
    /// After producing messages: Ok when nothing waits for resubmission (a broker-level error
    /// reported meanwhile is then forgotten: the brokers took everything), or when no
    /// broker-level error was reported and the list is not too long (new messages keep being
    /// produced beside the failed ones, as omkafka.c); otherwise the action must retry.
    fn verdict(&mut self, first: Option<String>) -> Result<(), String> {
        let suspend = &self.producer.context().suspend;
        if self.retry.is_empty() {
            suspend.store(false, Ordering::Relaxed);
            return Ok(());
        }
        if !suspend.load(Ordering::Relaxed) && self.retry.len() <= RETRY_MAX {
            return Ok(());
        }
        Err(first.unwrap_or_else(|| "messages wait to be resubmitted".into()))
    }

    /// Produces what waits for resubmission (and first, `failedMsgFile`'s delivery reports).
    fn resubmit(&mut self) -> Result<(), String> {
        self.producer.poll(Duration::ZERO);
        let (mut pending, mut first) = (0, None);
        self.drain_reports(&[], &mut pending, &mut first);
        if self.retry.is_empty() {
            // nothing produced: a broker error stays noted for the next batch
            return Ok(());
        }
        let again = std::mem::take(&mut self.retry);
        let first = self.produce(&again);
        self.verdict(first)
    }
}

impl Transport for KafkaTransport {
    fn send(&mut self, msgs: &[Vec<u8>]) -> Result<(), (usize, String)> {
        let first = if self.retry.is_empty() {
            self.produce(msgs)
        } else {
            // omkafka's checkFailedMessages: what failed earlier (also what failedMsgFile
            // held) is produced again first, the new messages beside it; one wait for all
            let mut all = std::mem::take(&mut self.retry);
            all.extend(msgs.iter().cloned());
            self.produce(&all)
        };
        // every message of the batch is delivered, refused (errorFile) or kept for
        // resubmission: the batch counts as sent either way; Err asks the queue to retry
        // before it hands over more
        self.verdict(first).map_err(|e| (msgs.len(), e))
    }

    fn try_resume(&mut self) -> Result<(), String> {
        // omkafka.c tryResume: the brokers answer a metadata request
        self.producer
            .client()
            .fetch_metadata(None, Duration::from_secs(1))
            .map_err(|e| format!("brokers down: {e}"))?;
        self.producer
            .context()
            .suspend
            .store(false, Ordering::Relaxed);
        self.resubmit()
    }

    fn idle(&mut self) -> Result<(), String> {
        // omkafka resubmits only when the next message comes; here also after a second
        // without one
        self.resubmit()
    }

    fn close(&mut self) {
        // called after errors too: librdkafka reconnects by itself, so only shutdown closes
        if !self.stopping.load(Ordering::SeqCst) {
            return;
        }
        // what librdkafka still holds (failedMsgFile's messages produced at start) gets
        // closeTimeout, then comes back as failed
        if self.producer.flush(self.s.close_timeout).is_err() {
            self.producer
                .purge(PurgeConfig::default().queue().inflight());
            self.producer.poll(Duration::from_millis(100));
        }
        let (mut pending, mut first) = (0, None);
        self.drain_reports(&[], &mut pending, &mut first);
        if self.s.resubmit && self.s.keep_failed && !self.retry.is_empty() {
            if let Some(path) = &self.s.failed_msg_file {
                super::kafka_files::append_failed(
                    path,
                    &self.retry,
                    self.s.topic.as_bytes(),
                    self.s.key.as_deref().map(str::as_bytes),
                );
                self.retry.clear();
            }
        }
        let (m, cv) = &*self.closed;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    fn describe(&self) -> String {
        format!("kafka {}", self.s.brokers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err2str_is_librdkafkas_text_without_the_name() {
        assert_eq!(
            err2str(RDKafkaErrorCode::MessageSizeTooLarge),
            "Broker: Message size too large"
        );
        assert_eq!(
            err2str(RDKafkaErrorCode::MessageTimedOut),
            "Local: Message timed out"
        );
    }
}
