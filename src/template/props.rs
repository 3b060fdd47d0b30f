//! Message and system properties: names as rsyslog 8.2302's `propNameToID` knows them, and
//! their values as `MsgGetProp` produces them before the property replacer runs — including
//! the derived ones: `programname` from the tag, `app-name`/`procid` emulated for RFC 3164
//! messages, the syslog tag emulated as `APP-NAME[PROCID]` for RFC 5424 messages.
//!
//! Values are appended to a caller's buffer: no allocation on the hot path.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use crate::message::{MsgRef, Span, SyslogTime};

use super::datefmt::{self, DateFmt};
use super::RenderEnv;

/// A property, as a template or a filter refers to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropId {
    Msg,
    RawMsg,
    RawMsgAfterPri,
    Hostname,
    FromHost,
    FromHostIp,
    /// Not known to 8.2302 (newer rsyslog); accepted here, renders the sender's port.
    FromHostPort,
    SyslogTag,
    ProgramName,
    Pri,
    PriText,
    Iut,
    SyslogFacility,
    SyslogFacilityText,
    SyslogSeverity,
    SyslogSeverityText,
    TimeGenerated,
    TimeReported,
    ProtocolVersion,
    StructuredData,
    AppName,
    ProcId,
    MsgId,
    InputName,
    JsonMesg,
    ParseSuccess,
    Uuid,
    SysNow,
    SysYear,
    SysMonth,
    SysDay,
    SysHour,
    SysHHour,
    SysQHour,
    SysMinute,
    SysWDay,
    SysNowUtc,
    SysYearUtc,
    SysMonthUtc,
    SysDayUtc,
    SysHourUtc,
    SysHHourUtc,
    SysQHourUtc,
    SysMinuteUtc,
    SysWDayUtc,
    SysNowUnixTimestamp,
    SysMyHostname,
    SysBom,
    SysUptime,
    /// `$!all-json`.
    AllJson,
    /// `$!all-json-plain`.
    AllJsonPlain,
    /// `$!…` / `!…`: message variables (none exist yet: always empty).
    CeeVar,
    /// `$.…` / `.…`: local variables (always empty).
    LocalVar,
    /// `$/…` / `/…`: global variables (always empty).
    GlobalVar,
}

const NAMES: &[(&str, PropId)] = &[
    ("msg", PropId::Msg),
    ("timestamp", PropId::TimeReported),
    ("timereported", PropId::TimeReported),
    ("hostname", PropId::Hostname),
    ("source", PropId::Hostname),
    ("syslogtag", PropId::SyslogTag),
    ("rawmsg", PropId::RawMsg),
    ("rawmsg-after-pri", PropId::RawMsgAfterPri),
    ("inputname", PropId::InputName),
    ("fromhost", PropId::FromHost),
    ("fromhost-ip", PropId::FromHostIp),
    ("fromhost-port", PropId::FromHostPort),
    ("pri", PropId::Pri),
    ("pri-text", PropId::PriText),
    ("iut", PropId::Iut),
    ("syslogfacility", PropId::SyslogFacility),
    ("syslogfacility-text", PropId::SyslogFacilityText),
    ("syslogseverity", PropId::SyslogSeverity),
    ("syslogpriority", PropId::SyslogSeverity),
    ("syslogseverity-text", PropId::SyslogSeverityText),
    ("syslogpriority-text", PropId::SyslogSeverityText),
    ("timegenerated", PropId::TimeGenerated),
    ("timereceived", PropId::TimeGenerated),
    ("programname", PropId::ProgramName),
    ("protocol-version", PropId::ProtocolVersion),
    ("structured-data", PropId::StructuredData),
    ("app-name", PropId::AppName),
    ("procid", PropId::ProcId),
    ("msgid", PropId::MsgId),
    ("jsonmesg", PropId::JsonMesg),
    ("parsesuccess", PropId::ParseSuccess),
    ("uuid", PropId::Uuid),
    ("$now", PropId::SysNow),
    ("$year", PropId::SysYear),
    ("$month", PropId::SysMonth),
    ("$day", PropId::SysDay),
    ("$hour", PropId::SysHour),
    ("$hhour", PropId::SysHHour),
    ("$qhour", PropId::SysQHour),
    ("$minute", PropId::SysMinute),
    ("$wday", PropId::SysWDay),
    ("$now-utc", PropId::SysNowUtc),
    ("$year-utc", PropId::SysYearUtc),
    ("$month-utc", PropId::SysMonthUtc),
    ("$day-utc", PropId::SysDayUtc),
    ("$hour-utc", PropId::SysHourUtc),
    ("$hhour-utc", PropId::SysHHourUtc),
    ("$qhour-utc", PropId::SysQHourUtc),
    ("$minute-utc", PropId::SysMinuteUtc),
    ("$wday-utc", PropId::SysWDayUtc),
    ("$now-unixtimestamp", PropId::SysNowUnixTimestamp),
    ("$myhostname", PropId::SysMyHostname),
    ("$!all-json", PropId::AllJson),
    ("$!all-json-plain", PropId::AllJsonPlain),
    ("$bom", PropId::SysBom),
    ("$uptime", PropId::SysUptime),
];

/// The property a name denotes (case-insensitive, with rsyslog's aliases), or `None`.
/// `fromhost-port` and `timereceived` are newer than 8.2302 but accepted.
pub fn prop_id(name: &str) -> Option<PropId> {
    if let Some((_, id)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some(*id);
    }
    let b = name.as_bytes();
    if name.starts_with("$!") || b.first() == Some(&b'!') {
        Some(PropId::CeeVar)
    } else if name.starts_with("$.") || b.first() == Some(&b'.') {
        Some(PropId::LocalVar)
    } else if name.starts_with("$/") || b.first() == Some(&b'/') {
        Some(PropId::GlobalVar)
    } else {
        None
    }
}

impl PropId {
    /// A message, local or global variable (`$!…`, `$.…`, `$/…`).
    pub fn is_variable(self) -> bool {
        matches!(self, PropId::CeeVar | PropId::LocalVar | PropId::GlobalVar)
    }

    /// Whether the value is a time that date options apply to.
    pub fn is_time(self) -> bool {
        matches!(self, PropId::TimeReported | PropId::TimeGenerated)
    }
}

/// Facility names (RFC 5424 numbering, as rsyslog prints them); 24 is `invld`.
pub const FACILITY_NAMES: [&str; 25] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7", "invld",
];

/// Severity names.
pub const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// `programname`: the tag up to the first `:`, `[`, `/` (unless `permit_slash`) or
/// non-printable character (C locale `isprint`: 0x20–0x7e).
pub fn programname(tag: &[u8], permit_slash: bool) -> &[u8] {
    let end = tag
        .iter()
        .position(|&c| {
            !(0x20..=0x7e).contains(&c) || c == b':' || c == b'[' || (c == b'/' && !permit_slash)
        })
        .unwrap_or(tag.len());
    &tag[..end]
}

/// The PROCID of a legacy tag: the text between the first `[` and the next `]`; `None`
/// when there is no `[` or no `]` after it (rsyslog then says `-`).
pub fn procid_from_tag(tag: &[u8]) -> Option<&[u8]> {
    let open = tag.iter().position(|&c| c == b'[')?;
    let rest = &tag[open + 1..];
    let close = rest.iter().position(|&c| c == b']')?;
    Some(&rest[..close])
}

/// `APP-NAME`. RFC 5424: as parsed (`-` kept), empty when the parser did not get that far.
/// RFC 3164: the programname, or `-` when that is empty.
pub fn app_name<'a>(m: MsgRef<'a>, permit_slash: bool) -> &'a [u8] {
    let a = m.bytes(m.m.app_name);
    if !a.is_empty() || m.m.protocol_version != 0 {
        return a;
    }
    let p = programname(m.tag(), permit_slash);
    if p.is_empty() {
        b"-"
    } else {
        p
    }
}

/// `PROCID`: as parsed; for RFC 3164 taken from the tag's `[…]`; `-` when there is none.
pub fn procid<'a>(m: MsgRef<'a>) -> &'a [u8] {
    let p = m.bytes(m.m.procid);
    if !p.is_empty() {
        return p;
    }
    if m.m.protocol_version == 0 {
        if let Some(p) = procid_from_tag(m.tag()) {
            return p;
        }
    }
    b"-"
}

/// `HOSTNAME`: the parsed one, else fromhost. Only `Span::EMPTY` means "not set": an RFC
/// 5424 message can set an empty hostname, which rsyslog prints empty.
pub fn hostname<'a>(m: MsgRef<'a>) -> &'a [u8] {
    if m.m.hostname == Span::EMPTY {
        m.fromhost().as_bytes()
    } else {
        m.bytes(m.m.hostname)
    }
}

/// `MSGID` (`-` when unset).
pub fn msgid<'a>(m: MsgRef<'a>) -> &'a [u8] {
    let v = m.bytes(m.m.msgid);
    if v.is_empty() {
        b"-"
    } else {
        v
    }
}

/// `STRUCTURED-DATA` (`-` when unset).
pub fn structured_data<'a>(m: MsgRef<'a>) -> &'a [u8] {
    let v = m.bytes(m.m.structured_data);
    if v.is_empty() {
        b"-"
    } else {
        v
    }
}

/// The syslog tag, possibly emulated: `head` followed, when `pid` is set, by `[pid]`.
#[derive(Debug, Clone, Copy)]
pub struct SyslogTag<'a> {
    pub head: &'a [u8],
    pub pid: Option<&'a [u8]>,
}

impl SyslogTag<'_> {
    pub fn len(&self) -> usize {
        self.head.len() + self.pid.map_or(0, |p| p.len() + 2)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes at most `max` bytes of the tag.
    pub fn write_max(&self, out: &mut Vec<u8>, max: usize) {
        let start = out.len();
        out.extend_from_slice(self.head);
        if let Some(p) = self.pid {
            out.push(b'[');
            out.extend_from_slice(p);
            out.push(b']');
        }
        out.truncate(start + max.min(out.len() - start));
    }
    pub fn write(&self, out: &mut Vec<u8>) {
        self.write_max(out, usize::MAX);
    }
}

/// `syslogtag`: the parsed tag; for an RFC 5424 message without one, `APP-NAME[PROCID]`,
/// or `APP-NAME` alone when PROCID is `-` (rsyslog's `tryEmulateTAG`).
pub fn syslogtag<'a>(m: MsgRef<'a>) -> SyslogTag<'a> {
    let tag = m.tag();
    if !tag.is_empty() || m.m.protocol_version != 1 {
        return SyslogTag {
            head: tag,
            pid: None,
        };
    }
    let app = m.bytes(m.m.app_name);
    let pid = procid(m);
    SyslogTag {
        head: app,
        pid: if pid == b"-" { None } else { Some(pid) },
    }
}

/// `programname` of a message (from the possibly emulated tag).
pub fn msg_programname<'a>(m: MsgRef<'a>, permit_slash: bool) -> &'a [u8] {
    let t = syslogtag(m);
    // With an emulated tag the `[` after APP-NAME ends the programname anyway.
    programname(t.head, permit_slash)
}

/// Writes the raw value of a property (time properties in rsyslog's default format,
/// RFC 3164 `Mmm dd hh:mm:ss`). Appends to `out`.
pub fn write_prop(m: MsgRef<'_>, id: PropId, env: &RenderEnv, out: &mut Vec<u8>) {
    append_value(m, id, env, DateFmt::Default, false, out);
}

fn two(out: &mut Vec<u8>, v: u8) {
    out.push(b'0' + (v / 10) % 10);
    out.push(b'0' + v % 10);
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

/// The value of `id` with date format `fmt` (for time properties), appended to `out`.
/// Returns whether rsyslog would hold the value in a private (malloc'ed) buffer — one of its
/// in-place transformations (`secpath-replace`) behaves differently then.
/// A property's value borrowed from the message when it is stored as it renders (no
/// copying); `None` for properties that must be rendered.
pub fn prop_slice<'a>(m: MsgRef<'a>, id: PropId, env: &RenderEnv) -> Option<&'a [u8]> {
    Some(match id {
        PropId::Msg => m.msg(),
        PropId::RawMsg => m.raw(),
        PropId::RawMsgAfterPri => raw_after_pri(m),
        PropId::Hostname => hostname(m),
        PropId::FromHost => m.fromhost().as_bytes(),
        PropId::FromHostIp => m.fromhost_ip().as_bytes(),
        PropId::SyslogTag => {
            let t = syslogtag(m);
            if t.pid.is_some() {
                return None;
            }
            t.head
        }
        PropId::ProgramName => msg_programname(m, env.permit_slash_in_programname),
        PropId::AppName => app_name(m, env.permit_slash_in_programname),
        PropId::ProcId => procid(m),
        PropId::MsgId => msgid(m),
        PropId::StructuredData => structured_data(m),
        _ => return None,
    })
}

pub(crate) fn append_value(
    m: MsgRef<'_>,
    id: PropId,
    env: &RenderEnv,
    fmt: DateFmt,
    utc: bool,
    out: &mut Vec<u8>,
) -> bool {
    match id {
        PropId::Msg => out.extend_from_slice(m.msg()),
        PropId::RawMsg => out.extend_from_slice(m.raw()),
        PropId::RawMsgAfterPri => out.extend_from_slice(raw_after_pri(m)),
        PropId::Hostname => out.extend_from_slice(hostname(m)),
        PropId::FromHost => push_str(out, m.fromhost()),
        PropId::FromHostIp => push_str(out, m.fromhost_ip()),
        PropId::FromHostPort => push_str(out, m.fromhost_port()),
        PropId::SyslogTag => syslogtag(m).write(out),
        PropId::ProgramName => {
            out.extend_from_slice(msg_programname(m, env.permit_slash_in_programname))
        }
        PropId::Pri => write_pri(m, out),
        PropId::PriText => {
            push_str(out, FACILITY_NAMES[(m.m.facility as usize).min(24)]);
            out.push(b'.');
            push_str(out, SEVERITY_NAMES[(m.m.severity as usize) & 7]);
            return true;
        }
        PropId::Iut => out.push(b'1'),
        PropId::SyslogFacility => {
            if m.m.facility > 23 {
                push_str(out, "invld");
            } else {
                datefmt::push_i64(out, m.m.facility as i64);
            }
        }
        PropId::SyslogFacilityText => {
            push_str(out, FACILITY_NAMES[(m.m.facility as usize).min(24)])
        }
        PropId::SyslogSeverity => {
            if m.m.severity > 7 {
                push_str(out, "invld");
            } else {
                out.push(b'0' + m.m.severity);
            }
        }
        PropId::SyslogSeverityText => {
            if m.m.severity > 7 {
                push_str(out, "invld");
            } else {
                push_str(out, SEVERITY_NAMES[m.m.severity as usize]);
            }
        }
        PropId::TimeReported => {
            if !utc
                && matches!(
                    fmt,
                    DateFmt::Default | DateFmt::Rfc3164 | DateFmt::Rfc3164Buggy
                )
            {
                timereported_3164(m, fmt == DateFmt::Rfc3164Buggy, out);
                return false;
            }
            return write_time(m.time_reported(), fmt, utc, out);
        }
        PropId::TimeGenerated => return write_time(&m.m.time_generated, fmt, utc, out),
        PropId::ProtocolVersion => out.push(if m.m.protocol_version != 0 {
            b'1'
        } else {
            b'0'
        }),
        PropId::StructuredData => out.extend_from_slice(structured_data(m)),
        PropId::AppName => out.extend_from_slice(app_name(m, env.permit_slash_in_programname)),
        PropId::ProcId => out.extend_from_slice(procid(m)),
        PropId::MsgId => out.extend_from_slice(msgid(m)),
        PropId::InputName => push_str(out, env.input_name(m.m.input)),
        PropId::JsonMesg => {
            write_jsonmesg(m, env, out);
            return true;
        }
        // rsyslog sets this only from mmnormalize/mmjsonparse/mmaudit, none of which
        // oxsyslog has: every message says FAIL, as in rsyslogd without those modules.
        PropId::ParseSuccess => push_str(out, "FAIL"),
        PropId::Uuid => write_uuid(m, out),
        PropId::SysNow | PropId::SysNowUtc => {
            let t = env.now_time(id == PropId::SysNowUtc);
            two(out, (t.year / 100) as u8);
            two(out, (t.year % 100) as u8);
            out.push(b'-');
            two(out, t.month);
            out.push(b'-');
            two(out, t.day);
            return true;
        }
        PropId::SysYear | PropId::SysYearUtc => {
            let t = env.now_time(id == PropId::SysYearUtc);
            two(out, (t.year / 100) as u8);
            two(out, (t.year % 100) as u8);
            return true;
        }
        PropId::SysMonth | PropId::SysMonthUtc => {
            two(out, env.now_time(id == PropId::SysMonthUtc).month);
            return true;
        }
        PropId::SysDay | PropId::SysDayUtc => {
            two(out, env.now_time(id == PropId::SysDayUtc).day);
            return true;
        }
        PropId::SysHour | PropId::SysHourUtc => {
            two(out, env.now_time(id == PropId::SysHourUtc).hour);
            return true;
        }
        PropId::SysHHour | PropId::SysHHourUtc => {
            two(out, env.now_time(id == PropId::SysHHourUtc).minute / 30);
            return true;
        }
        PropId::SysQHour | PropId::SysQHourUtc => {
            two(out, env.now_time(id == PropId::SysQHourUtc).minute / 15);
            return true;
        }
        PropId::SysMinute | PropId::SysMinuteUtc => {
            two(out, env.now_time(id == PropId::SysMinuteUtc).minute);
            return true;
        }
        PropId::SysWDay | PropId::SysWDayUtc => {
            let t = env.now_time(id == PropId::SysWDayUtc);
            out.push(b'0' + datefmt::weekday(t) as u8);
            return true;
        }
        PropId::SysNowUnixTimestamp => {
            datefmt::push_i64(out, super::clock::now_unix().0);
            return true;
        }
        PropId::SysMyHostname => push_str(out, &env.local_hostname),
        PropId::SysBom => out.extend_from_slice(b"\xEF\xBB\xBF"),
        PropId::SysUptime => {
            datefmt::push_i64(out, uptime());
            return true;
        }
        PropId::AllJson | PropId::AllJsonPlain => match m.vars.and_then(|v| v.msg.as_ref()) {
            Some(j) => {
                j.write(id == PropId::AllJson, out);
                return true;
            }
            None => out.extend_from_slice(b"{}"),
        },
        // rendered from the part's variable name (template::render_part)
        PropId::CeeVar | PropId::LocalVar | PropId::GlobalVar => {}
    }
    false
}

/// `rawmsg-after-pri`: rsyslog recomputes the offset from the raw text (`<` + 1–3 chars +
/// `>`), not from where the parser stopped.
fn raw_after_pri<'a>(m: MsgRef<'a>) -> &'a [u8] {
    let raw = m.raw();
    let off = if raw.first() == Some(&b'<') {
        if raw.get(2) == Some(&b'>') {
            3
        } else if raw.get(3) == Some(&b'>') {
            4
        } else if raw.get(4) == Some(&b'>') {
            5
        } else {
            0
        }
    } else {
        0
    };
    raw.get(off..).unwrap_or(&[])
}

fn write_pri(m: MsgRef<'_>, out: &mut Vec<u8>) {
    let pri = m.pri() as i64;
    if pri > 191 {
        push_str(out, "invld");
    } else {
        datefmt::push_i64(out, pri);
    }
}

/// timereported as RFC 3164 through rsyslog's per-message cache: the first rendering (plain
/// or buggyday) decides how every later one looks.
pub fn timereported_3164(m: MsgRef<'_>, buggy: bool, out: &mut Vec<u8>) {
    let cache = &m.m.ts3164_style;
    let style = match cache.get() {
        0 => {
            let s = if buggy { 2 } else { 1 };
            cache.set(s);
            s
        }
        s => s,
    };
    datefmt::rfc3164(m.time_reported(), style == 2, out);
}

fn write_time(t: &SyslogTime, fmt: DateFmt, utc: bool, out: &mut Vec<u8>) -> bool {
    if utc {
        datefmt::write(&datefmt::to_utc(t), fmt, out);
        true
    } else {
        datefmt::write(t, fmt, out);
        false
    }
}

/// `$uptime`: seconds since boot, rounded up like the kernel's `sysinfo()`.
fn uptime() -> i64 {
    let Ok(s) = std::fs::read_to_string("/proc/uptime") else {
        return 0;
    };
    let first = s.split_whitespace().next().unwrap_or("0");
    let (int, frac) = first.split_once('.').unwrap_or((first, ""));
    let secs: i64 = int.parse().unwrap_or(0);
    if frac.bytes().any(|c| c != b'0') {
        secs + 1
    } else {
        secs
    }
}

/// `uuid`: rsyslog makes one per message on first use and keeps it. The message model has
/// no room to keep it, so it is derived from the message (its place in the batch, its text
/// and reception time) and a per-process random key: stable for one message across all
/// templates and actions, different between messages.
fn write_uuid(m: MsgRef<'_>, out: &mut Vec<u8>) {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let key = KEY.get_or_init(std::collections::hash_map::RandomState::new);
    let mut halves = [0u64; 2];
    for (i, h) in halves.iter_mut().enumerate() {
        let mut s = key.build_hasher();
        s.write_u8(i as u8);
        s.write_usize(m.m as *const _ as usize);
        s.write(m.raw());
        s.write_i64(m.m.time_generated_unix);
        s.write_u32(m.m.time_generated.secfrac);
        *h = s.finish();
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for h in halves {
        for i in (0..16).rev() {
            out.push(HEX[((h >> (i * 4)) & 15) as usize]);
        }
    }
}

/// JSON string escaping as json-c 0.16 does it (`json_object_to_json_string`): `"` `\` `/`
/// and `\b \f \n \r \t` escaped, other bytes below 0x20 as `\u00xx` (lower-case hex); the
/// value ends at a NUL byte (json-c takes a C string).
pub(crate) fn json_c_escape(out: &mut Vec<u8>, s: &[u8]) {
    for &c in s {
        if c == 0 {
            break;
        }
        push_json_c(out, c);
    }
}

fn json_c_needs_escape(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\' || c == b'/'
}

fn push_json_c(out: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'/' => out.extend_from_slice(b"\\/"),
        8 => out.extend_from_slice(b"\\b"),
        12 => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        c if c < 0x20 => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 15) as usize]);
        }
        c => out.push(c),
    }
}

/// json-c-escapes `out[start..]` in place (cut at the first NUL).
pub(crate) fn json_c_escape_tail(out: &mut Vec<u8>, start: usize) {
    if let Some(p) = out[start..].iter().position(|&c| c == 0) {
        out.truncate(start + p);
    }
    let end = out.len();
    if !out[start..].iter().any(|&c| json_c_needs_escape(c)) {
        return;
    }
    for i in start..end {
        let c = out[i];
        push_json_c(out, c);
    }
    let n = out.len() - end;
    out.copy_within(end.., start);
    out.truncate(start + n);
}

/// `jsonmesg`: the message as json-c prints rsyslog's object (spaced style). There are no
/// message variables, so `"$!"` is `null`; `"uuid"` is `null` as long as nothing asked for
/// the uuid first (rsyslog's order-dependent behaviour is not reproduced).
fn write_jsonmesg(m: MsgRef<'_>, env: &RenderEnv, out: &mut Vec<u8>) {
    let mut first = true;
    let mut field = |out: &mut Vec<u8>, name: &str, f: &mut dyn FnMut(&mut Vec<u8>)| {
        out.extend_from_slice(if first { b"{ \"" } else { b", \"" });
        first = false;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": \"");
        let s = out.len();
        f(out);
        json_c_escape_tail(out, s);
        out.push(b'"');
    };
    let ps = env.permit_slash_in_programname;
    field(out, "msg", &mut |o| o.extend_from_slice(m.msg()));
    field(out, "rawmsg", &mut |o| o.extend_from_slice(m.raw()));
    field(out, "timereported", &mut |o| {
        datefmt::rfc3339(m.time_reported(), o)
    });
    field(out, "hostname", &mut |o| o.extend_from_slice(hostname(m)));
    field(out, "syslogtag", &mut |o| syslogtag(m).write(o));
    field(out, "inputname", &mut |o| {
        push_str(o, env.input_name(m.m.input))
    });
    field(out, "fromhost", &mut |o| push_str(o, m.fromhost()));
    field(out, "fromhost-ip", &mut |o| push_str(o, m.fromhost_ip()));
    field(out, "pri", &mut |o| write_pri(m, o));
    field(out, "syslogfacility", &mut |o| {
        append_value(m, PropId::SyslogFacility, env, DateFmt::Default, false, o);
    });
    field(out, "syslogseverity", &mut |o| {
        append_value(m, PropId::SyslogSeverity, env, DateFmt::Default, false, o);
    });
    field(out, "timegenerated", &mut |o| {
        datefmt::rfc3339(&m.m.time_generated, o)
    });
    field(out, "programname", &mut |o| {
        o.extend_from_slice(msg_programname(m, ps))
    });
    field(out, "protocol-version", &mut |o| {
        o.push(if m.m.protocol_version != 0 {
            b'1'
        } else {
            b'0'
        })
    });
    field(out, "structured-data", &mut |o| {
        o.extend_from_slice(structured_data(m))
    });
    field(out, "app-name", &mut |o| {
        o.extend_from_slice(app_name(m, ps))
    });
    field(out, "procid", &mut |o| o.extend_from_slice(procid(m)));
    field(out, "msgid", &mut |o| o.extend_from_slice(msgid(m)));
    out.extend_from_slice(b", \"uuid\": null, \"$!\": ");
    match m.vars.and_then(|v| v.msg.as_ref()) {
        Some(j) => j.write(true, out),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b" }");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(prop_id("MSG"), Some(PropId::Msg));
        assert_eq!(prop_id("Source"), Some(PropId::Hostname));
        assert_eq!(
            prop_id("syslogpriority-text"),
            Some(PropId::SyslogSeverityText)
        );
        assert_eq!(prop_id("$NOW-utc"), Some(PropId::SysNowUtc));
        assert_eq!(prop_id("$!all-json"), Some(PropId::AllJson));
        assert_eq!(prop_id("$!foo!bar"), Some(PropId::CeeVar));
        assert_eq!(prop_id("$.x"), Some(PropId::LocalVar));
        assert_eq!(prop_id("/x"), Some(PropId::GlobalVar));
        assert_eq!(prop_id("now"), None);
        assert_eq!(prop_id("$foo"), None);
        assert_eq!(prop_id(" msg"), None);
    }

    #[test]
    fn tag_helpers() {
        assert_eq!(programname(b"app[12]:", false), b"app");
        assert_eq!(programname(b"/usr/bin/x:", false), b"");
        assert_eq!(programname(b"/usr/bin/x:", true), b"/usr/bin/x");
        assert_eq!(programname(b"a\x01b", false), b"a");
        assert_eq!(programname(b"foo bar:", false), b"foo bar");
        assert_eq!(procid_from_tag(b"app[12]:"), Some(&b"12"[..]));
        assert_eq!(procid_from_tag(b"app[]:"), Some(&b""[..]));
        assert_eq!(procid_from_tag(b"app[12:"), None);
        assert_eq!(procid_from_tag(b"app:"), None);
    }

    #[test]
    fn json_c() {
        let mut o = Vec::new();
        json_c_escape(&mut o, b"a\"/\\\t\x01\x7f\xc3\xa9");
        assert_eq!(o, b"a\\\"\\/\\\\\\t\\u0001\x7f\xc3\xa9");
    }
}
