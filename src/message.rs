//! The message model on the hot path. Messages travel in batches: a `Batch` owns one byte
//! arena holding every message's (sanitised) raw bytes, and each `Message` stores only
//! offsets into it plus small fixed fields — no allocation per message. Parsers fill the
//! field ranges; filters and templates read them through `MsgRef`.

use std::ops::Range;
use std::sync::Arc;

/// A byte range inside the batch arena (u32 keeps `Message` small).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const EMPTY: Span = Span { start: 0, end: 0 };

    pub fn new(r: Range<usize>) -> Span {
        Span {
            start: r.start as u32,
            end: r.end as u32,
        }
    }
    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// rsyslog's `syslogTime`: a timestamp kept as it was written (broken-down fields and the
/// offset it carried), because output formats print those fields, not a converted instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyslogTime {
    /// 0 = unset, 1 = RFC 3164 style, 2 = RFC 3339/5424 style.
    pub time_type: u8,
    pub year: i16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Fraction of a second as an integer with `secfrac_precision` digits (0 = none).
    pub secfrac: u32,
    pub secfrac_precision: u8,
    /// `+`, `-` or `Z` (as a byte): rsyslog prints a `Z` offset as `Z`.
    pub offset_mode: u8,
    pub offset_hour: u8,
    pub offset_minute: u8,
}

/// Facility number of rsyslog's `invld` pseudo-facility (malformed PRI).
pub const FAC_INVLD: u8 = 24;

/// Per-sender information shared by all messages of one connection or datagram source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    /// `fromhost`: resolved name (or the IP when DNS is off/fails); local host for local input.
    pub host: Arc<str>,
    /// `fromhost-ip`.
    pub ip: Arc<str>,
    /// `fromhost-port` (empty for local input).
    pub port: Arc<str>,
}

/// One message. All `Span`s index the owning batch's arena.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// `rawmsg`: the message as received, after sanitising (control characters escaped,
    /// trailing LF/NUL dropped, size-limited).
    pub raw: Span,
    /// Offset (absolute, in the arena) where the text after `<PRI>` starts (`rawmsg-after-pri`).
    pub after_pri: u32,
    pub facility: u8,
    pub severity: u8,
    /// 0 = legacy (RFC 3164), 1 = RFC 5424.
    pub protocol_version: u8,
    /// Parsed hostname; `Span::EMPTY` means "use fromhost".
    pub hostname: Span,
    /// `syslogtag` (for RFC 3164, including `[pid]:`). Empty for RFC 5424: it is emulated.
    pub tag: Span,
    /// `msg`.
    pub msg: Span,
    pub app_name: Span,
    pub procid: Span,
    pub msgid: Span,
    pub structured_data: Span,
    /// `timereported`; `time_type == 0` means "use timegenerated".
    pub time_reported: SyslogTime,
    /// `timegenerated`: reception time in local time.
    pub time_generated: SyslogTime,
    /// Reception time as Unix seconds (for `date-unixtimestamp` and the like).
    pub time_generated_unix: i64,
    /// Index into the batch's peer table.
    pub peer: u32,
    /// Index into the engine's input table (`inputname`, ruleset binding).
    pub input: u16,
    /// Whether a parser accepted the message (`parsesuccess`).
    pub parsed: bool,
    /// rsyslog caches a message's first RFC 3164 rendering of timereported, plain or
    /// "buggyday", and every later rendering reuses it: 0 = none yet, 1 = plain, 2 = buggy.
    pub ts3164_style: std::cell::Cell<u8>,
    /// `$!` variables an input gave the message (imuxsock `ParseTrusted`); `None` for
    /// almost every message, so no allocation on the hot path.
    pub json: Option<Box<crate::json::Json>>,
}

/// A batch of messages with their shared byte arena and peer table.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub msgs: Vec<Message>,
    pub peers: Vec<Peer>,
    /// Fired by the rules thread once every message of the batch went through its actions
    /// (src/completion.rs; imrelp acknowledges then). `None` for other inputs.
    pub done: Option<crate::completion::Completion>,
    /// The `$.` variables of copies handed to a ruleset's own queue (src/rsq/), one per
    /// message; empty for every other batch.
    pub locals: Vec<Option<crate::json::Json>>,
    /// The number a queue's spooler gave the batch when it handed it to a rules thread
    /// (src/mqdisk/: the thread reports it done by it); 0 otherwise.
    pub spool_seq: u64,
}

impl Batch {
    pub fn with_capacity(bytes: usize, msgs: usize) -> Batch {
        Batch {
            data: Vec::with_capacity(bytes),
            msgs: Vec::with_capacity(msgs),
            peers: Vec::new(),
            done: None,
            locals: Vec::new(),
            spool_seq: 0,
        }
    }

    /// Empties the batch, keeping its allocations for reuse.
    pub fn clear(&mut self) {
        self.data.clear();
        self.msgs.clear();
        self.peers.clear();
        self.done = None;
        self.locals.clear();
        self.spool_seq = 0;
    }

    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// A message with access to its bytes.
    pub fn get(&self, i: usize) -> MsgRef<'_> {
        let m = &self.msgs[i];
        MsgRef {
            m,
            data: &self.data,
            peer: self.peers.get(m.peer as usize),
            vars: None,
        }
    }
}

/// Read access to one message's properties.
#[derive(Debug, Clone, Copy)]
pub struct MsgRef<'a> {
    pub m: &'a Message,
    pub data: &'a [u8],
    pub peer: Option<&'a Peer>,
    /// The message's `$!`/`$.` variables and the `$/` globals while the rules run.
    pub vars: Option<&'a crate::vars::Vars>,
}

impl<'a> MsgRef<'a> {
    pub fn bytes(&self, s: Span) -> &'a [u8] {
        self.data.get(s.range()).unwrap_or(&[])
    }
    pub fn raw(&self) -> &'a [u8] {
        self.bytes(self.m.raw)
    }
    pub fn raw_after_pri(&self) -> &'a [u8] {
        let end = self.m.raw.end as usize;
        let start = (self.m.after_pri as usize).min(end);
        self.data.get(start..end).unwrap_or(&[])
    }
    pub fn msg(&self) -> &'a [u8] {
        self.bytes(self.m.msg)
    }
    pub fn tag(&self) -> &'a [u8] {
        self.bytes(self.m.tag)
    }
    pub fn fromhost(&self) -> &'a str {
        self.peer.map_or("", |p| &p.host)
    }
    pub fn fromhost_ip(&self) -> &'a str {
        self.peer.map_or("", |p| &p.ip)
    }
    pub fn fromhost_port(&self) -> &'a str {
        self.peer.map_or("", |p| &p.port)
    }
    /// `hostname`: the parsed one, else fromhost. An RFC 5424 message may carry an empty
    /// hostname (a zero-length span that is not `Span::EMPTY`): rsyslog prints it empty.
    pub fn hostname(&self) -> &'a [u8] {
        if self.m.hostname == Span::EMPTY {
            self.fromhost().as_bytes()
        } else {
            self.bytes(self.m.hostname)
        }
    }
    /// `timereported`, falling back to the reception time.
    pub fn time_reported(&self) -> &'a SyslogTime {
        if self.m.time_reported.time_type == 0 {
            &self.m.time_generated
        } else {
            &self.m.time_reported
        }
    }
    /// The same message seen with variables.
    pub fn with_vars(self, vars: &'a crate::vars::Vars) -> MsgRef<'a> {
        MsgRef {
            vars: Some(vars),
            ..self
        }
    }
    pub fn pri(&self) -> u8 {
        (self.m.facility.min(FAC_INVLD)) * 8 + self.m.severity
    }
}
