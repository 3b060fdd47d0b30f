//! The message parsing layer: rsyslog 8.2302's reception sanitising, PRI parsing and parser
//! chain (`rsyslog.rfc5424`, then `rsyslog.rfc3164`), plus imuxsock's own "special parser".
//!
//! [`push_message`] sanitises raw bytes into a batch arena and fills one [`Message`]. Every
//! property a template may print is left *literal* in the message, so that consumers print
//! span bytes as they are:
//!
//! * `tag` is the TAG for RFC 3164 and the emulated one (`APP-NAME[PROCID]`, or `APP-NAME`
//!   when PROCID is `-`) for RFC 5424;
//! * `app_name`, `procid`, `msgid`, `structured_data` hold what rsyslog prints: for RFC 3164
//!   app-name is the programname (or `-`), procid the text between the tag's first `[` and the
//!   next `]` (or `-`), msgid and SD are `-`;
//! * `hostname`: [`Span::EMPTY`] means "not set, print fromhost". An RFC 5424 message can set
//!   an *empty* hostname (two SPs after the timestamp); rsyslog prints it empty, and it is
//!   stored as a zero-length span that is not [`Span::EMPTY`] (its start is never 0);
//! * `programname` is not stored: derive it with [`programname`] from the tag;
//! * `after_pri` is where rsyslog's `rawmsg-after-pri` property starts (computed the way the
//!   property is, not where PRI parsing ended — they differ for `<0013>` or `<192>`);
//! * `time_reported.time_type == 0` means "the reception time" (timestamp absent, `-`, or
//!   ignored). An RFC 3339 `Z` offset is kept as `offset_mode == b'Z'` (rsyslog prints `Z`).
//!
//! Literal strings (`-`, an emulated tag) and an imuxsock tag taken from the unsanitised
//! bytes are appended to the arena after the raw message and its NUL terminator; there is no
//! other allocation per message.

pub mod pri;
pub mod rfc3164;
pub mod rfc5424;
pub mod sanitize;
pub mod timestamp;

pub use rfc3164::Rfc3164Options;
pub use sanitize::SanitizeOptions;

use crate::config::model::{Config, PValue, Params, DEFAULT_RULESET};
use crate::message::{Batch, Message, Span, SyslogTime};
use std::ops::Range;

/// Everything that steers parsing: the `parser.*` globals, maxMessageSize and the parser
/// chain with its pmrfc3164 options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// Sanitising settings and `max_msg_size` (maxMessageSize, default 8096).
    pub sanitize: SanitizeOptions,
    /// `parser.parseHostnameAndTag`: HOSTNAME and TAG are parsed. Always on when built from a
    /// config, because rsyslog 8.2302 never applies that global to the parser (see
    /// [`ParseOptions::for_ruleset`]); settable here for completeness.
    pub parse_hostname_and_tag: bool,
    /// `parser.permitSlashInProgramName` (default off).
    pub permit_slash_in_programname: bool,
    /// `rsyslog.rfc5424` is tried before the RFC 3164 parser.
    pub rfc5424: bool,
    /// The RFC 3164 parser with its options; `None` when the chain has none (then messages
    /// that are not RFC 5424 are discarded, as rsyslog does).
    pub rfc3164: Option<Rfc3164Options>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            sanitize: SanitizeOptions::default(),
            parse_hostname_and_tag: true,
            permit_slash_in_programname: false,
            rfc5424: true,
            rfc3164: Some(Rfc3164Options::default()),
        }
    }
}

impl ParseOptions {
    /// Options of the default ruleset (`$DefaultRuleset`, else `RSYSLOG_DefaultRuleset`).
    pub fn from_config(cfg: &Config) -> ParseOptions {
        let name = if cfg.default_ruleset.is_empty() {
            DEFAULT_RULESET
        } else {
            cfg.default_ruleset.as_str()
        };
        Self::for_ruleset(cfg, name)
    }

    /// Options for messages bound to ruleset `name`: the globals plus that ruleset's
    /// `parser=[…]` chain (the default chain when it has none).
    pub fn for_ruleset(cfg: &Config, name: &str) -> ParseOptions {
        let mut o = ParseOptions::default();
        let g = &cfg.globals;
        let s = &mut o.sanitize;
        if let Some(PValue::Int(n)) = g.get("maxMessageSize") {
            s.max_msg_size = (*n).clamp(128, i32::MAX as i64) as usize;
        }
        set_bool(
            g,
            "parser.dropTrailingLFOnReception",
            &mut s.drop_trailing_lf,
        );
        set_bool(
            g,
            "parser.escapeControlCharactersOnReceive",
            &mut s.escape_control_chars,
        );
        set_bool(g, "parser.escapeControlCharacterTab", &mut s.escape_tab);
        set_bool(g, "parser.spaceLFOnReceive", &mut s.space_lf);
        set_bool(
            g,
            "parser.escape8BitCharactersOnReceive",
            &mut s.escape_8bit,
        );
        set_bool(
            g,
            "parser.escapeControlCharactersCStyle",
            &mut s.escape_cstyle,
        );
        if let Some(c) = g
            .str("parser.controlCharacterEscapePrefix")
            .and_then(|v| v.bytes().next())
        {
            s.escape_prefix = c;
        }
        // parser.parseHostnameAndTag is deliberately not read: pmrfc3164 caches it when a
        // parser instance is created, and rsyslog 8.2302 applies global() parameters only
        // after the whole config is loaded, so the setting never reaches the parser
        // (verified against rsyslogd, with and without a parser() object).
        set_bool(
            g,
            "parser.permitSlashInProgramName",
            &mut o.permit_slash_in_programname,
        );

        let chain = cfg
            .ruleset(name)
            .and_then(|r| match r.params.get("parser") {
                Some(PValue::Array(a)) => Some(a.clone()),
                Some(PValue::Str(s)) => Some(vec![s.clone()]),
                _ => None,
            });
        if let Some(chain) = chain {
            o.rfc5424 = false;
            o.rfc3164 = None;
            for p in &chain {
                if p.eq_ignore_ascii_case("rsyslog.rfc5424") {
                    o.rfc5424 = true;
                } else if p.eq_ignore_ascii_case("rsyslog.rfc3164") {
                    o.rfc3164 = Some(Rfc3164Options::default());
                } else if let Some(obj) = cfg
                    .objects
                    .iter()
                    .find(|ob| ob.kind == "parser" && ob.params.str("name") == Some(p.as_str()))
                {
                    let ty = obj.params.str("type").unwrap_or("");
                    if ty.eq_ignore_ascii_case("pmrfc3164")
                        || ty.eq_ignore_ascii_case("rsyslog.rfc3164")
                    {
                        o.rfc3164 = Some(rfc3164_options(&obj.params));
                    } else if ty.eq_ignore_ascii_case("pmrfc5424")
                        || ty.eq_ignore_ascii_case("rsyslog.rfc5424")
                    {
                        o.rfc5424 = true;
                    }
                }
                if o.rfc3164.is_some() {
                    break; // the RFC 3164 parser accepts everything: later parsers never run
                }
            }
        }
        o
    }
}

fn set_bool(p: &Params, name: &str, dst: &mut bool) {
    match p.get(name) {
        Some(PValue::Bool(b)) => *dst = *b,
        Some(PValue::Int(i)) => *dst = *i != 0,
        _ => {}
    }
}

fn rfc3164_options(p: &Params) -> Rfc3164Options {
    let mut o = Rfc3164Options::default();
    set_bool(
        p,
        "detect.YearAfterTimestamp",
        &mut o.detect_year_after_timestamp,
    );
    set_bool(
        p,
        "permit.squareBracketsInHostname",
        &mut o.permit_square_brackets_in_hostname,
    );
    set_bool(
        p,
        "permit.slashesInHostname",
        &mut o.permit_slashes_in_hostname,
    );
    set_bool(
        p,
        "permit.AtSignsInHostname",
        &mut o.permit_at_signs_in_hostname,
    );
    set_bool(
        p,
        "force.tagEndingByColon",
        &mut o.force_tag_ending_by_colon,
    );
    set_bool(p, "remove.msgFirstSpace", &mut o.remove_msg_first_space);
    o
}

/// How the input wants the message treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputFlags {
    /// PARSE_HOSTNAME: the RFC 3164 parser looks for a HOSTNAME (network inputs; imuxsock
    /// only with `ParseHostname="on"`, default on only for sockets named `:…`). When false,
    /// hostname = fromhost.
    pub parse_hostname: bool,
    /// IGNDATE (imuxsock `IgnoreTimestamp`, default on): a timestamp in the message is
    /// consumed but timereported = the reception time.
    pub ignore_timestamp: bool,
    /// imuxsock's own parsing path (`UseSpecialParser`, default on): PRI read without checks,
    /// timestamp skipped, TAG up to the first SP, no HOSTNAME, no RFC 5424.
    pub local_special_parser: bool,
    /// imuxsock `UseSysTimeStamp` (default on; only with `local_special_parser`): the
    /// reception time is the kernel's, and a timestamp in the message is skipped by a
    /// *fixed 16 bytes* (rsyslog's quirk: fine for `Mmm dd hh:mm:ss `, wrong for others).
    pub use_sys_timestamp: bool,
    /// The input's `defaultTZ` (imtcp/imudp), see [`timestamp::parse_default_tz`].
    pub default_tz: Option<(u8, u8, u8)>,
}

impl Default for InputFlags {
    /// A network input (imtcp, imudp, imrelp): hostname parsed, timestamps used.
    fn default() -> Self {
        InputFlags {
            parse_hostname: true,
            ignore_timestamp: false,
            local_special_parser: false,
            use_sys_timestamp: false,
            default_tz: None,
        }
    }
}

impl InputFlags {
    /// imuxsock with rsyslog's defaults (special parser, system timestamp, ignore timestamp).
    pub fn uxsock_default() -> InputFlags {
        InputFlags {
            parse_hostname: false,
            ignore_timestamp: true,
            local_special_parser: true,
            use_sys_timestamp: true,
            default_tz: None,
        }
    }
}

/// Reception context for one message.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Index into `batch.peers`.
    pub peer: u32,
    /// Index into the engine's input table.
    pub input: u16,
    /// Local reception time (timegenerated), see [`now_local`].
    pub time: SyslogTime,
    /// Reception time as Unix seconds.
    pub unix: i64,
}

/// What one field of the message becomes, before spans are made absolute.
#[derive(Clone, Copy)]
enum F {
    /// Range of the sanitised raw message (relative); may reach the NUL terminator.
    R(usize, usize),
    /// The literal `-`.
    Dash,
    /// Unset: `Span::EMPTY`.
    Unset,
}

/// Sanitises `raw` into `batch.data`, parses PRI and runs the parser chain (RFC 5424, then
/// RFC 3164), appending one `Message` to `batch.msgs`. Returns false (and appends nothing)
/// only for what rsyslog drops: an empty message, or one no parser of the chain accepts.
/// Input longer than `max_msg_size` is cut there first (as imudp/imuxsock receive it;
/// imtcp's framing splits before calling this).
pub fn push_message(
    batch: &mut Batch,
    raw: &[u8],
    rx: &Received,
    flags: &InputFlags,
    opts: &ParseOptions,
) -> bool {
    if raw.is_empty() {
        return false;
    }
    let raw = &raw[..raw.len().min(opts.sanitize.max_msg_size.max(1))];
    let base = batch.data.len();
    let n = sanitize::sanitize_into(raw, &opts.sanitize, &mut batch.data);
    batch.data.push(0); // C string terminator: rsyslog's quirks can read it into the tag
    let buf = &batch.data[base..base + n];

    let mut m = Message {
        raw: Span::new(base..base + n),
        after_pri: (base + pri::raw_after_pri_offset(buf)) as u32,
        time_generated: rx.time,
        time_generated_unix: rx.unix,
        peer: rx.peer,
        input: rx.input,
        parsed: true,
        ..Message::default()
    };

    // Field values, relative to `base`.
    let mut hostname = F::Unset;
    let mut tag = F::Unset;
    let (app, procid, msgid, sd): (F, F, F, F);
    let msg_start: usize;
    let mut msg_before_start = false;
    // an imuxsock tag read from the unsanitised bytes, when they differ from the arena
    let mut foreign_tag: Option<Range<usize>> = None;

    if flags.local_special_parser {
        let r = uxsock(raw, n, rx, flags);
        m.facility = r.facility;
        m.severity = r.severity;
        if let Some(t) = r.time {
            m.time_reported = t;
        }
        let (ts, te) = (r.tag.start, r.tag.end);
        if buf.get(ts..te) == raw.get(ts..te) {
            tag = F::R(ts, te);
        } else {
            foreign_tag = Some(r.tag.clone());
        }
        msg_start = r.msg_start;
        app = F::Unset; // filled below from the tag
        procid = F::Unset;
        msgid = F::Dash;
        sd = F::Dash;
    } else {
        let p = pri::parse_pri(buf);
        m.facility = p.facility;
        m.severity = p.severity;
        if opts.rfc5424 && rfc5424::accepts(buf, p.offset) {
            let r = rfc5424::parse(buf, p.offset, flags.ignore_timestamp);
            m.protocol_version = 1;
            if let Some(t) = r.time {
                m.time_reported = t;
            }
            msg_start = r.msg_start;
            match &r.fields {
                None => {
                    app = F::Unset;
                    procid = F::Dash;
                    msgid = F::Dash;
                    sd = F::Dash;
                }
                Some(f) => {
                    // rsyslog copies the fields as C strings: a NUL (possible only with
                    // parser.spaceLFOnReceive) ends them
                    let c = |r: &Range<usize>| {
                        let e = buf[r.clone()]
                            .iter()
                            .position(|&b| b == 0)
                            .map_or(r.end, |i| r.start + i);
                        (r.start, e)
                    };
                    let (hs, he) = c(&f.hostname);
                    hostname = F::R(hs, he);
                    let (a, b) = c(&f.app_name);
                    app = if a == b { F::Dash } else { F::R(a, b) };
                    let (a, b) = c(&f.procid);
                    procid = F::R(a, b);
                    let (a, b) = c(&f.msgid);
                    msgid = F::R(a, b);
                    let (a, b) = c(&f.structured_data);
                    sd = F::R(a, b);
                }
            }
        } else if let Some(o3) = &opts.rfc3164 {
            let ctx = rfc3164::Context {
                parse_hostname: flags.parse_hostname,
                ignore_timestamp: flags.ignore_timestamp,
                parse_hostname_and_tag: opts.parse_hostname_and_tag,
                default_tz: flags.default_tz,
            };
            let r = rfc3164::parse(buf, p.offset, p.is_invalid(), &rx.time, &ctx, o3);
            if let Some(t) = r.time {
                m.time_reported = t;
            }
            if let Some(h) = r.hostname {
                hostname = F::R(h.start, h.end);
            }
            tag = match r.tag {
                rfc3164::Tag::NotParsed => F::Unset,
                rfc3164::Tag::Dash => F::Dash,
                rfc3164::Tag::Range(t) => F::R(t.start, t.end.min(n + 1)),
            };
            msg_start = r.msg_start;
            msg_before_start = r.msg_before_start;
            app = F::Unset;
            procid = F::Unset;
            msgid = F::Dash;
            sd = F::Dash;
        } else {
            batch.data.truncate(base);
            return false;
        }
    }

    // Make spans absolute; append literals after the raw message and its NUL.
    let mut dash: Option<Span> = None;
    let mut span = |f: F, data: &mut Vec<u8>| -> Span {
        match f {
            F::R(s, e) => Span::new(base + s..base + e.max(s)),
            F::Unset => Span::EMPTY,
            F::Dash => *dash.get_or_insert_with(|| {
                data.push(b'-');
                Span::new(data.len() - 1..data.len())
            }),
        }
    };
    m.hostname = match hostname {
        // a set but empty hostname (RFC 5424): zero length, but not Span::EMPTY
        F::R(s, e) if s == e => Span::new(base + s.max(1)..base + s.max(1)),
        f => span(f, &mut batch.data),
    };
    if msg_before_start {
        // MSG = the byte before the raw message (a NUL in rsyslog) and the whole raw message
        let s = batch.data.len();
        batch.data.push(0);
        batch.data.extend_from_within(base..base + n);
        m.msg = Span::new(s..batch.data.len());
    } else {
        m.msg = Span::new(base + msg_start.min(n)..base + n);
    }
    m.msgid = span(msgid, &mut batch.data);
    m.structured_data = span(sd, &mut batch.data);
    if let Some(t) = foreign_tag {
        let s = batch.data.len();
        batch.data.extend_from_slice(&raw[t]);
        m.tag = Span::new(s..batch.data.len());
    } else {
        m.tag = span(tag, &mut batch.data);
    }

    if m.protocol_version == 1 {
        m.app_name = span(app, &mut batch.data);
        m.procid = span(procid, &mut batch.data);
        // syslogtag emulation (msg.c tryEmulateTAG): APP-NAME when PROCID is "-", else
        // APP-NAME[PROCID], cut at 511 bytes
        let pid = &batch.data[m.procid.range()];
        if pid == b"-" {
            m.tag = m.app_name;
        } else {
            let s = batch.data.len();
            batch.data.extend_from_within(m.app_name.range());
            batch.data.push(b'[');
            batch.data.extend_from_within(m.procid.range());
            batch.data.push(b']');
            batch.data.truncate(s + (batch.data.len() - s).min(511));
            m.tag = Span::new(s..batch.data.len());
        }
    } else {
        let tag_bytes = &batch.data[m.tag.range()];
        let pn = programname(tag_bytes, opts.permit_slash_in_programname).len();
        let pid = procid_from_tag(tag_bytes).map(|p| {
            let off = p.as_ptr() as usize - tag_bytes.as_ptr() as usize;
            (off, p.len())
        });
        m.app_name = if pn == 0 {
            span(F::Dash, &mut batch.data)
        } else {
            Span::new(m.tag.start as usize..m.tag.start as usize + pn)
        };
        m.procid = match pid {
            Some((off, len)) => {
                let s = m.tag.start as usize + off;
                Span::new(s..s + len)
            }
            None => span(F::Dash, &mut batch.data),
        };
    }
    batch.msgs.push(m);
    true
}

/// Fills a message directly, without parsing, the way inputs that build their messages
/// themselves do (imfile): `rawmsg` = `msg` = `msg_bytes` (no sanitising, no PRI), TAG and
/// HOSTNAME set as given, facility/severity from the input, `timereported` = reception time,
/// `parsesuccess` off. `rx.peer` must index a peer (fromhost) already in `batch.peers`.
/// Returns false (nothing appended) for an empty message.
pub fn push_local_message(
    batch: &mut Batch,
    msg_bytes: &[u8],
    tag: &[u8],
    hostname: &[u8],
    facility: u8,
    severity: u8,
    rx: &Received,
) -> bool {
    if msg_bytes.is_empty() {
        return false;
    }
    let base = batch.data.len();
    batch.data.extend_from_slice(msg_bytes);
    let n = msg_bytes.len();
    batch.data.push(0);
    let after_pri = base + pri::raw_after_pri_offset(&batch.data[base..base + n]);
    let h = batch.data.len();
    batch.data.extend_from_slice(hostname);
    // a hostname span must never be `Span::EMPTY` (that means "use fromhost")
    let hostname = Span::new(h.max(1)..batch.data.len().max(h.max(1)));
    let t = batch.data.len();
    batch.data.extend_from_slice(tag);
    let tag_span = Span::new(t..batch.data.len());
    let d = batch.data.len();
    batch.data.push(b'-');
    let dash = Span::new(d..d + 1);
    let tag_bytes = &batch.data[tag_span.range()];
    let pn = programname(tag_bytes, false).len();
    let procid = procid_from_tag(tag_bytes).map(|p| {
        let off = t + (p.as_ptr() as usize - tag_bytes.as_ptr() as usize);
        Span::new(off..off + p.len())
    });
    batch.msgs.push(Message {
        raw: Span::new(base..base + n),
        after_pri: after_pri as u32,
        facility: facility.min(crate::message::FAC_INVLD),
        severity: severity & 7,
        protocol_version: 0,
        hostname,
        tag: tag_span,
        msg: Span::new(base..base + n),
        app_name: if pn == 0 { dash } else { Span::new(t..t + pn) },
        procid: procid.unwrap_or(dash),
        msgid: dash,
        structured_data: dash,
        time_generated: rx.time,
        time_generated_unix: rx.unix,
        peer: rx.peer,
        input: rx.input,
        parsed: false,
        ..Message::default()
    });
    true
}

struct Ux {
    facility: u8,
    severity: u8,
    time: Option<SyslogTime>,
    /// Range of the *unsanitised* input holding the tag.
    tag: Range<usize>,
    msg_start: usize,
}

/// imuxsock's `SubmitMsg` special parser. `raw` is the unsanitised input, `n` the
/// sanitised length. rsyslog reads PRI, timestamp and tag from the unsanitised receive
/// buffer but computes the MSG offset from lengths of the sanitised message — mirrored.
fn uxsock(raw: &[u8], n: usize, rx: &Received, flags: &InputFlags) -> Ux {
    let (pv, offs) = pri::parse_pri_uxsock(raw);
    let (facility, severity) = pri::split_pri(pv);
    let mut len = n as i64 - offs as i64 - 1; // lenMsg, after skipping the '>'
    let mut parse = offs + 1;
    let mut time = None;
    let clamp = |l: i64| l.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    let mut c = timestamp::Cursor {
        buf: raw,
        pos: parse,
        len: clamp(len),
    };
    if !flags.use_sys_timestamp {
        if let Some(t) = timestamp::parse_rfc3339(&mut c) {
            time = Some(t);
        } else if let Some(t) = timestamp::parse_rfc3164(&mut c, &rx.time, false) {
            time = Some(t);
        }
        if flags.ignore_timestamp {
            time = None;
        }
        parse = c.pos;
        len = c.len as i64;
    } else if timestamp::parse_rfc3339(&mut c).is_some()
        || timestamp::parse_rfc3164(&mut c, &rx.time, false).is_some()
    {
        // rsyslog overwrites the timestamp with a 16-byte one and skips 16 bytes, whatever
        // the length of the timestamp it found; the length counter did move correctly.
        parse += 16;
        len = c.len as i64;
    }
    let tag_start = parse.min(raw.len());
    let mut i = 0usize;
    // rsyslog does not stop at the end of the datagram (it reads whatever follows in its
    // receive buffer); the lengths are mirrored, the bytes past the end are not kept
    while len > 0 && raw.get(parse).copied().unwrap_or(0) != b' ' && i < 511 {
        i += 1;
        parse += 1;
        len -= 1;
    }
    let msg_start = (n as i64 - len).clamp(0, n as i64) as usize;
    Ux {
        facility,
        severity,
        time,
        tag: tag_start..(tag_start + i).min(raw.len()),
        msg_start,
    }
}

/// rsyslog's `programname`: the tag up to the first non-printable byte, `:`, `[` or — unless
/// `parser.permitSlashInProgramName` — `/`.
pub fn programname(tag: &[u8], permit_slash: bool) -> &[u8] {
    let end = tag
        .iter()
        .position(|&c| {
            !(0x20..=0x7e).contains(&c) || c == b':' || c == b'[' || (!permit_slash && c == b'/')
        })
        .unwrap_or(tag.len());
    &tag[..end]
}

/// PROCID of a legacy tag: between the first `[` and the next `]`; `None` without both.
pub fn procid_from_tag(tag: &[u8]) -> Option<&[u8]> {
    let s = tag.iter().position(|&c| c == b'[')? + 1;
    let e = tag[s..].iter().position(|&c| c == b']')? + s;
    Some(&tag[s..e])
}

/// Converts Unix time (seconds, microseconds) to local time the way rsyslog does
/// (`timeval2syslogTime`): RFC 3339 type, microsecond precision 6, the local UTC offset.
pub fn local_time(secs: i64, usec: u32) -> SyslogTime {
    crate::template::clock::local_syslog_time(secs, usec)
}

/// Reception time helper: the current local time as `SyslogTime` and Unix seconds.
pub fn now_local() -> (SyslogTime, i64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    (local_time(secs, d.subsec_micros()), secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MsgRef;

    fn rx() -> Received {
        Received {
            peer: 0,
            input: 0,
            time: local_time(1_700_000_000, 250_000),
            unix: 1_700_000_000,
        }
    }

    fn one(raw: &[u8], flags: &InputFlags, opts: &ParseOptions) -> (Batch, bool) {
        let mut b = Batch::default();
        b.data.extend_from_slice(b"earlier message bytes");
        let ok = push_message(&mut b, raw, &rx(), flags, opts);
        (b, ok)
    }

    fn s(m: &MsgRef, sp: Span) -> String {
        String::from_utf8_lossy(m.bytes(sp)).into_owned()
    }

    /// hostname|tag|programname|app|procid|msgid|sd|msg|rawmsg-after-pri
    fn fields(raw: &[u8], flags: &InputFlags, opts: &ParseOptions) -> String {
        let (b, ok) = one(raw, flags, opts);
        assert!(ok);
        let m = b.get(0);
        let host = if m.m.hostname == Span::EMPTY {
            "<fromhost>".to_string()
        } else {
            s(&m, m.m.hostname)
        };
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}",
            host,
            s(&m, m.m.tag),
            String::from_utf8_lossy(programname(m.tag(), opts.permit_slash_in_programname)),
            s(&m, m.m.app_name),
            s(&m, m.m.procid),
            s(&m, m.m.msgid),
            s(&m, m.m.structured_data),
            String::from_utf8_lossy(m.msg()),
            String::from_utf8_lossy(m.raw_after_pri()),
        )
    }

    fn net(raw: &str) -> String {
        fields(
            raw.as_bytes(),
            &InputFlags::default(),
            &ParseOptions::default(),
        )
    }

    #[test]
    fn rfc3164_fields() {
        assert_eq!(
            net("<13>Jan  1 10:00:00 host tag[12]: m"),
            "host|tag[12]:|tag|tag|12|-|-| m|Jan  1 10:00:00 host tag[12]: m"
        );
        assert_eq!(
            net("<13>Jan  1 10:00:00 host tag[]: m"),
            "host|tag[]:|tag|tag||-|-| m|Jan  1 10:00:00 host tag[]: m"
        );
        assert_eq!(
            net("<13>Jan  1 10:00:00 host [1.2.3.4] m"),
            "host|[1.2.3.4]||-|1.2.3.4|-|-| m|Jan  1 10:00:00 host [1.2.3.4] m"
        );
        assert_eq!(net("<13>hello"), "hello|||-|-|-|-||hello");
        assert_eq!(net("<>hello"), "hello|||-|-|-|-||<>hello");
        assert_eq!(net("<192>hello"), "<fromhost>|||-|-|-|-|<192>hello|hello");
        assert_eq!(
            net("<0013>Jan  1 00:00:00 host tag: x")
                .split('|')
                .next_back()
                .unwrap(),
            "<0013>Jan  1 00:00:00 host tag: x"
        );
    }

    #[test]
    fn rfc5424_fields() {
        assert_eq!(
            net("<13>1 2020-01-01T00:00:00Z host app 123 ID47 [a b=\"c\"] hi"),
            "host|app[123]|app|app|123|ID47|[a b=\"c\"]|hi|1 2020-01-01T00:00:00Z host app 123 ID47 [a b=\"c\"] hi"
        );
        assert_eq!(
            net("<13>1 2020-01-01T00:00:00Z  app  - - msg")
                .split('|')
                .take(7)
                .collect::<Vec<_>>()
                .join("|"),
            "|app[]|app|app||-|-"
        );
        assert_eq!(
            net("<13>1 - host - - - [a] hello")
                .split('|')
                .take(8)
                .collect::<Vec<_>>()
                .join("|"),
            "host|-|-|-|-|-|[a]|hello"
        );
        assert_eq!(
            net("<13>1 2100-01-01T00:00:00Z host app 1 - - x")
                .split('|')
                .take(8)
                .collect::<Vec<_>>()
                .join("|"),
            "<fromhost>||||-|-|-|2100-01-01T00:00:00Z host app 1 - - x"
        );
        let (b, _) = one(
            b"<13>1 2003-10-11T22:14:15.003Z h a - - - x",
            &InputFlags::default(),
            &ParseOptions::default(),
        );
        let t = b.get(0).m.time_reported;
        assert_eq!(
            (
                t.time_type,
                t.year,
                t.secfrac,
                t.secfrac_precision,
                t.offset_mode
            ),
            (2, 2003, 3, 3, b'Z')
        );
    }

    #[test]
    fn timestamps_and_reception_time() {
        let (b, _) = one(
            b"<13>Feb  3 04:05:06 h t: x",
            &InputFlags::default(),
            &ParseOptions::default(),
        );
        let m = b.get(0);
        let t = m.m.time_reported;
        assert_eq!(
            (t.time_type, t.year, t.month, t.day, t.hour),
            (1, rx().time.year, 2, 3, 4)
        );
        assert_eq!(
            (t.offset_mode, t.offset_hour),
            (rx().time.offset_mode, rx().time.offset_hour)
        );
        assert_eq!(m.m.time_generated, rx().time);
        assert_eq!(m.m.time_generated_unix, 1_700_000_000);
        let (b, _) = one(
            b"<13>h t: x",
            &InputFlags::default(),
            &ParseOptions::default(),
        );
        assert_eq!(b.get(0).m.time_reported.time_type, 0);
        assert_eq!(b.get(0).time_reported(), &rx().time);
    }

    #[test]
    fn year_in_front_tag_takes_the_nul() {
        let (b, _) = one(
            b"<13>2020 Jan  1 10:00:00 host tag",
            &InputFlags::default(),
            &ParseOptions::default(),
        );
        let m = b.get(0);
        assert_eq!(m.tag(), b"tag\0");
        assert_eq!(m.msg(), b"");
        assert_eq!(m.raw(), b"<13>2020 Jan  1 10:00:00 host tag");
    }

    #[test]
    fn empty_and_dropped() {
        let mut b = Batch::default();
        assert!(!push_message(
            &mut b,
            b"",
            &rx(),
            &InputFlags::default(),
            &ParseOptions::default()
        ));
        assert!(b.data.is_empty() && b.msgs.is_empty());
        // a lone NUL or LF is not dropped: it becomes an empty message
        assert!(push_message(
            &mut b,
            b"\n",
            &rx(),
            &InputFlags::default(),
            &ParseOptions::default()
        ));
        assert_eq!(b.get(0).raw(), b"");
        // a chain with only RFC 5424 discards the rest
        let o = ParseOptions {
            rfc3164: None,
            ..Default::default()
        };
        let mut b = Batch::default();
        assert!(!push_message(
            &mut b,
            b"<13>Jan  1 00:00:00 h t: x",
            &rx(),
            &InputFlags::default(),
            &o
        ));
        assert!(b.data.is_empty());
        assert!(push_message(
            &mut b,
            b"<13>1 - h a p m - x",
            &rx(),
            &InputFlags::default(),
            &o
        ));
    }

    #[test]
    fn truncation_at_max_size() {
        let o = ParseOptions::default();
        let raw = vec![b'x'; 9000];
        let (b, _) = one(&raw, &InputFlags::default(), &o);
        assert_eq!(b.get(0).raw().len(), 8096);
    }

    #[test]
    fn uxsock_special_parser() {
        let ux = InputFlags::uxsock_default();
        let o = ParseOptions::default();
        let f = |s: &[u8], fl: &InputFlags| fields(s, fl, &o);
        assert_eq!(
            f(b"<13>Jan  1 10:00:00 tag: hello", &ux),
            "<fromhost>|tag:|tag|tag|-|-|-| hello|Jan  1 10:00:00 tag: hello"
        );
        // the fixed 16-byte skip
        assert_eq!(
            f(b"<13>Jan 1 10:00:00 tag: hello", &ux)
                .split('|')
                .nth(1)
                .unwrap(),
            "ag:"
        );
        assert_eq!(
            f(b"<13>2020-01-01T00:00:00.123+01:00 tag: hello world foo", &ux),
            "<fromhost>|:00.123+01:00||-|-|-|-|rld foo|2020-01-01T00:00:00.123+01:00 tag: hello world foo"
        );
        assert_eq!(
            f(b"hello world", &ux),
            "<fromhost>|llo|llo|llo|-|-|-| world|hello world"
        );
        // the tag comes from the unsanitised bytes
        assert_eq!(
            f(b"<13>Jan  1 10:00:00 ta\tg: hi", &ux)
                .split('|')
                .take(2)
                .last()
                .unwrap(),
            "ta\tg:"
        );
        assert_eq!(
            f(b"<13>Jan  1 10:00:00 ta\tg: hi", &ux)
                .split('|')
                .nth(7)
                .unwrap(),
            "1g: hi"
        );
        let (b, _) = one(b"<999>x y", &ux, &o);
        assert_eq!((b.get(0).m.facility, b.get(0).m.severity), (24, 7));
        // without the system timestamp, the timestamp is parsed properly
        let fl = InputFlags {
            use_sys_timestamp: false,
            ..ux
        };
        assert_eq!(
            f(b"<13>Jan 1 10:00:00 tag: hello", &fl)
                .split('|')
                .nth(1)
                .unwrap(),
            "tag:"
        );
        let (b, _) = one(b"<13>Jan 1 10:00:00 tag: hello", &fl, &o);
        assert_eq!(b.get(0).m.time_reported.time_type, 0);
        let fl = InputFlags {
            use_sys_timestamp: false,
            ignore_timestamp: false,
            ..ux
        };
        let (b, _) = one(b"<13>Jan 1 10:00:00 tag: hello", &fl, &o);
        assert_eq!(b.get(0).m.time_reported.time_type, 1);
    }

    #[test]
    fn helpers() {
        assert_eq!(programname(b"sshd[12]:", false), b"sshd");
        assert_eq!(programname(b"a/b/c[1]:", false), b"a");
        assert_eq!(programname(b"a/b/c[1]:", true), b"a/b/c");
        assert_eq!(programname(b"t\xc3\xa9g:", false), b"t");
        assert_eq!(programname(b"", false), b"");
        assert_eq!(procid_from_tag(b"tag[1]x]:"), Some(&b"1"[..]));
        assert_eq!(procid_from_tag(b"tag[12:"), None);
        assert_eq!(procid_from_tag(b"tag"), None);
        let (t, secs) = now_local();
        assert_eq!((t.time_type, t.secfrac_precision), (2, 6));
        assert!(secs > 1_600_000_000);
    }

    #[test]
    fn options_from_config() {
        let src = r#"
global(maxMessageSize="64k" parser.escapeControlCharactersOnReceive="off"
       parser.controlCharacterEscapePrefix="~" parser.permitSlashInProgramName="on")
parser(name="p3164" type="pmrfc3164" permit.squareBracketsInHostname="on" force.tagEndingByColon="on")
ruleset(name="r1" parser=["rsyslog.rfc5424", "p3164"]) { stop }
ruleset(name="r2" parser="rsyslog.rfc5424") { stop }
*.* /dev/null
"#;
        let loaded = crate::config::load_text("c.conf", src);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let cfg = loaded.config;
        let d = ParseOptions::from_config(&cfg);
        assert_eq!(d.sanitize.max_msg_size, 65536);
        assert!(!d.sanitize.escape_control_chars);
        assert_eq!(d.sanitize.escape_prefix, b'~');
        assert!(d.permit_slash_in_programname);
        assert!(d.rfc5424 && d.rfc3164 == Some(Rfc3164Options::default()));
        let r1 = ParseOptions::for_ruleset(&cfg, "r1");
        let o = r1.rfc3164.unwrap();
        assert!(
            o.permit_square_brackets_in_hostname
                && o.force_tag_ending_by_colon
                && !o.remove_msg_first_space
        );
        let r2 = ParseOptions::for_ruleset(&cfg, "r2");
        assert!(r2.rfc5424 && r2.rfc3164.is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any bytes, any options, any input flags: no panic, every span inside the arena.
        #[test]
        fn never_panics(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            prefix in proptest::sample::select(vec![&b""[..], b"<13>", b"<13>1 ", b"<13>Jan  1 00:00:00 ", b"<1>2020 Jan  1 00:00:00 ", b"<13>1 2020-01-01T00:00:00Z h a p m ["]),
            bits in proptest::prelude::any::<u32>(),
            max in 4usize..400,
        ) {
            let b = |i: u32| bits & (1 << i) != 0;
            let opts = ParseOptions {
                sanitize: SanitizeOptions {
                    drop_trailing_lf: b(0),
                    escape_control_chars: b(1),
                    escape_tab: b(2),
                    escape_prefix: b'#',
                    space_lf: b(3),
                    escape_8bit: b(4),
                    escape_cstyle: b(5),
                    max_msg_size: max,
                },
                parse_hostname_and_tag: b(6),
                permit_slash_in_programname: b(7),
                rfc5424: b(8),
                rfc3164: if b(9) { None } else { Some(Rfc3164Options {
                    detect_year_after_timestamp: b(10),
                    permit_square_brackets_in_hostname: b(11),
                    permit_slashes_in_hostname: b(12),
                    permit_at_signs_in_hostname: b(13),
                    force_tag_ending_by_colon: b(14),
                    remove_msg_first_space: b(15),
                }) },
            };
            let flags = InputFlags {
                parse_hostname: b(16),
                ignore_timestamp: b(17),
                local_special_parser: b(18),
                use_sys_timestamp: b(19),
                default_tz: if b(20) { Some((b'-', 5, 30)) } else { None },
            };
            let mut input = prefix.to_vec();
            input.extend_from_slice(&raw);
            let mut batch = Batch::default();
            batch.data.extend_from_slice(b"xx");
            if push_message(&mut batch, &input, &rx(), &flags, &opts) {
                let m = &batch.msgs[0];
                for sp in [m.raw, m.hostname, m.tag, m.msg, m.app_name, m.procid, m.msgid, m.structured_data] {
                    proptest::prop_assert!(sp.start <= sp.end || sp.is_empty());
                    proptest::prop_assert!(sp.end as usize <= batch.data.len());
                }
                proptest::prop_assert!(m.after_pri >= m.raw.start && m.after_pri <= m.raw.end);
                let r = batch.get(0);
                let _ = programname(r.tag(), true);
                let _ = procid_from_tag(r.tag());
            } else {
                proptest::prop_assert_eq!(batch.data.len(), 2);
            }
        }
    }
}
