//! The RFC 3164 ("legacy") parser, as tools/pmrfc3164.c of rsyslog 8.2302, with all of its
//! heuristics:
//!
//! * an invalid PRI (facility invld) stops parsing: MSG is the whole raw message;
//! * *headerless*: if, after optional SP/TAB, the text starts with `{` or `[`, nothing is
//!   parsed and MSG is everything after the PRI (leading blanks included);
//! * TIMESTAMP: RFC 3339 first, then RFC 3164 (see [`super::timestamp`]), then — only if
//!   the text starts with SP — RFC 3164 after that one SP (HP ProCurve). No timestamp: the
//!   reception time, and parsing goes on at the same place. An input's `defaultTZ` is applied
//!   to a 3164 timestamp (but not to the HP variant, as in rsyslog);
//! * HOSTNAME (inputs with PARSE_HOSTNAME only): `[A-Za-z0-9._-]` plus `@`, `/` and a
//!   `[…]` pair when the `permit.*` options allow them, at most 511 bytes. It must be
//!   followed by SP and end in an alphanumeric (or `]`) — or be the whole rest of the message,
//!   in which case no check applies. Otherwise there is no hostname and parsing continues at
//!   the same place;
//! * TAG: up to the first `:` (kept in the tag) or SP (not kept), at most 510 bytes before
//!   the colon; a longer run is cut there and the rest goes to MSG. With
//!   `force.tagEndingByColon` a tag without `:` is not a tag: TAG becomes `-` and MSG starts
//!   **one byte before** where the would-be tag started (rsyslog steps back `i + 1` bytes),
//!   i.e. with the SP before it;
//! * MSG: the rest, usually with its leading SP; `remove.msgFirstSpace` drops one SP.
//!
//! `parser.parseHostnameAndTag="off"` (global) skips HOSTNAME and TAG.

use super::timestamp::{parse_rfc3164, parse_rfc3339, Cursor};
use crate::message::SyslogTime;
use std::ops::Range;

/// The `parser(type="pmrfc3164" …)` options; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rfc3164Options {
    pub detect_year_after_timestamp: bool,
    pub permit_square_brackets_in_hostname: bool,
    pub permit_slashes_in_hostname: bool,
    pub permit_at_signs_in_hostname: bool,
    pub force_tag_ending_by_colon: bool,
    pub remove_msg_first_space: bool,
}

/// What the caller's context adds to the options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The input sets PARSE_HOSTNAME (network inputs; imuxsock only with `ParseHostname`).
    pub parse_hostname: bool,
    /// IGNDATE: a timestamp is consumed but the reception time is used.
    pub ignore_timestamp: bool,
    /// `parser.parseHostnameAndTag` (global, default on).
    pub parse_hostname_and_tag: bool,
    /// The input's `defaultTZ` as `(mode, hour, minute)`.
    pub default_tz: Option<(u8, u8, u8)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    /// Not parsed (invalid PRI, headerless message, parseHostnameAndTag off).
    NotParsed,
    /// A range of the buffer; may end one byte past it (on the NUL terminator, see
    /// [`super::timestamp::parse_rfc3164`] on the year-in-front quirk).
    Range(Range<usize>),
    /// `-` (force.tagEndingByColon and no colon).
    Dash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc3164 {
    /// `None`: use the reception time.
    pub time: Option<SyslogTime>,
    pub hostname: Option<Range<usize>>,
    pub tag: Tag,
    /// Start of MSG; may be past the end of the buffer (empty MSG).
    pub msg_start: usize,
    /// `force.tagEndingByColon` stepped back before the start of the buffer (no PRI, tag at
    /// offset 0): rsyslog's MSG then starts one byte before the raw message, at a NUL, and
    /// runs to its end. `msg_start` is 0 then.
    pub msg_before_start: bool,
}

const HOSTNAME_MAX: usize = 511; // CONF_HOSTNAME_MAXSIZE - 1
const TAG_MAX: usize = 510; // CONF_TAG_MAXSIZE - 2

/// Parses `buf` from `start` (the offset after PRI). `base` is the reception time (the
/// message's timestamp before parsing).
pub fn parse(
    buf: &[u8],
    start: usize,
    pri_invalid: bool,
    base: &SyslogTime,
    ctx: &Context,
    o: &Rfc3164Options,
) -> Rfc3164 {
    let mut out = Rfc3164 {
        time: None,
        hostname: None,
        tag: Tag::NotParsed,
        msg_start: start,
        msg_before_start: false,
    };
    let mut c = Cursor::new(buf, start);
    if !pri_invalid && !headerless(&c) {
        parse_header(&mut c, &mut out, base, ctx, o);
    }
    if out.msg_before_start {
        out.msg_start = 0;
        return out;
    }
    if o.remove_msg_first_space && c.at(0) == b' ' {
        c.pos += 1;
    }
    out.msg_start = c.pos;
    out
}

fn headerless(c: &Cursor) -> bool {
    let mut i = 0usize;
    while (i as i64) < c.len as i64 && matches!(c.at(i), b' ' | b'\t') {
        i += 1;
    }
    (i as i64) < c.len as i64 && matches!(c.at(i), b'{' | b'[')
}

fn parse_header(
    c: &mut Cursor,
    out: &mut Rfc3164,
    base: &SyslogTime,
    ctx: &Context,
    o: &Rfc3164Options,
) {
    let yat = o.detect_year_after_timestamp;
    if let Some(t) = parse_rfc3339(c) {
        out.time = Some(t);
    } else if let Some(mut t) = parse_rfc3164(c, base, yat) {
        if let Some((m, h, mi)) = ctx.default_tz {
            t.offset_mode = m;
            t.offset_hour = h;
            t.offset_minute = mi;
        }
        out.time = Some(t);
    } else if c.at(0) == b' ' && c.len > 1 {
        let mut c2 = *c;
        c2.pos += 1;
        c2.len -= 1;
        if let Some(t) = parse_rfc3164(&mut c2, base, yat) {
            *c = c2;
            out.time = Some(t);
        }
    }
    if ctx.ignore_timestamp {
        out.time = None;
    }
    if !ctx.parse_hostname_and_tag {
        return;
    }

    if c.len > 0 && ctx.parse_hostname {
        out.hostname = hostname(c, o);
    }

    let s = c.pos;
    let mut i = 0usize;
    while c.len > 0 && c.at(0) != b':' && c.at(0) != b' ' && i < TAG_MAX {
        i += 1;
        c.pos += 1;
        c.len -= 1;
    }
    if c.len > 0 && c.at(0) == b':' {
        c.pos += 1;
        c.len -= 1;
        out.tag = Tag::Range(s..s + i + 1);
    } else if o.force_tag_ending_by_colon {
        // rsyslog steps back i + 1 bytes: one before the would-be tag. With no PRI and
        // nothing before the tag that is before the buffer (see `msg_before_start`).
        if s == 0 {
            out.msg_before_start = true;
        }
        c.pos = s.saturating_sub(1);
        c.len += i as i32 + 1;
        out.tag = Tag::Dash;
    } else {
        out.tag = Tag::Range(s..s + i);
    }
}

fn hostname(c: &mut Cursor, o: &Rfc3164Options) -> Option<Range<usize>> {
    let len = c.len as i64;
    let mut i = 0usize;
    let mut had_sb = false;
    if o.permit_square_brackets_in_hostname && c.at(0) == b'[' {
        had_sb = true;
        i = 1;
    }
    while (i as i64) < len && i < HOSTNAME_MAX && {
        let ch = c.at(i);
        ch.is_ascii_alphanumeric()
            || matches!(ch, b'.' | b'_' | b'-')
            || (ch == b']' && had_sb)
            || (ch == b'@' && o.permit_at_signs_in_hostname)
            || (ch == b'/' && o.permit_slashes_in_hostname)
    } {
        i += 1;
        if c.at(i) == b']' {
            break; // must be the closing bracket
        }
    }
    let s = c.pos;
    if i as i64 == len {
        // the message ends with the hostname: valid whatever its last character
        c.pos += i;
        c.len -= i as i32;
        return Some(s..s + i);
    }
    let mut is_host = false;
    if i > 0 {
        if had_sb {
            if c.at(i) == b']' {
                i += 1;
                is_host = true;
            }
        } else if c.at(i - 1).is_ascii_alphanumeric() {
            is_host = true;
        }
        if c.at(i) != b' ' {
            is_host = false;
        }
    }
    if is_host {
        c.pos += i + 1;
        c.len -= i as i32 + 1;
        Some(s..s + i)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SyslogTime {
        SyslogTime {
            time_type: 2,
            year: 2024,
            month: 6,
            day: 15,
            hour: 12,
            minute: 30,
            second: 45,
            secfrac: 1,
            secfrac_precision: 6,
            offset_mode: b'+',
            offset_hour: 2,
            offset_minute: 0,
        }
    }

    fn ctx() -> Context {
        Context {
            parse_hostname: true,
            ignore_timestamp: false,
            parse_hostname_and_tag: true,
            default_tz: None,
        }
    }

    /// (hostname or "<none>", tag or "<none>", msg, timestamp found)
    fn run_with(s: &[u8], ctx: &Context, o: &Rfc3164Options) -> (String, String, String, bool) {
        let r = parse(s, 0, false, &base(), ctx, o);
        let mut padded = s.to_vec();
        padded.push(0);
        let l = |r: &Range<usize>| String::from_utf8_lossy(&padded[r.clone()]).into_owned();
        (
            r.hostname.as_ref().map_or("<none>".into(), l),
            match &r.tag {
                Tag::NotParsed => "<none>".into(),
                Tag::Dash => "-".into(),
                Tag::Range(x) => l(x),
            },
            String::from_utf8_lossy(s.get(r.msg_start..).unwrap_or(b"")).into_owned(),
            r.time.is_some(),
        )
    }

    fn run(s: &str) -> (String, String, String, bool) {
        run_with(s.as_bytes(), &ctx(), &Rfc3164Options::default())
    }

    fn t(h: &str, tag: &str, msg: &str, ts: bool) -> (String, String, String, bool) {
        (h.into(), tag.into(), msg.into(), ts)
    }

    #[test]
    fn classic() {
        assert_eq!(
            run("Oct 11 22:14:15 mymachine su: 'su root' failed"),
            t("mymachine", "su:", " 'su root' failed", true)
        );
        assert_eq!(
            run("Oct 11 22:14:15 host sshd[123]: x"),
            t("host", "sshd[123]:", " x", true)
        );
        assert_eq!(
            run("Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP"),
            t("172.20.245.8", "%PIX-7-710005:", " UDP", true)
        );
    }

    #[test]
    fn no_hostname_when_tag_follows() {
        // "su:" is not a hostname (ends with ':'), so it is the tag
        assert_eq!(
            run("Oct 11 22:14:15 su: hello"),
            t("<none>", "su:", " hello", true)
        );
        assert_eq!(
            run("Oct 11 22:14:15 host- tag: x"),
            t("<none>", "host-", " tag: x", true)
        );
        assert_eq!(run("Oct 11 22:14:15 host"), t("host", "", "", true));
        assert_eq!(run("Oct 11 22:14:15 host-"), t("host-", "", "", true));
    }

    #[test]
    fn no_timestamp() {
        assert_eq!(run("host tag: x"), t("host", "tag:", " x", false));
        assert_eq!(run("tag: x"), t("<none>", "tag:", " x", false));
        assert_eq!(
            run("AUG 10 22:18:24 2009  netips"),
            t("2009", "", " netips", true)
        );
        assert_eq!(run(""), t("<none>", "", "", false));
    }

    #[test]
    fn headerless() {
        assert_eq!(
            run(" \t{\"a\":1}"),
            t("<none>", "<none>", " \t{\"a\":1}", false)
        );
        assert_eq!(run("[1] x"), t("<none>", "<none>", "[1] x", false));
    }

    #[test]
    fn hp_leading_space() {
        assert_eq!(
            run(" Jan  1 00:00:00 host tag: x"),
            t("host", "tag:", " x", true)
        );
        // no RFC 3339 after a leading space
        assert_eq!(
            run(" 2020-01-01T00:00:00Z host tag: x"),
            t("<none>", "", " 2020-01-01T00:00:00Z host tag: x", false)
        );
    }

    #[test]
    fn cisco_variants() {
        assert_eq!(
            run("Mar  7 2008 19:06:53: %ASA-6-1: x"),
            t("<none>", "%ASA-6-1:", " x", true)
        );
        assert_eq!(
            run("Mar  7 19:06:53.123: host tag: x"),
            t("host", "tag:", " x", true)
        );
    }

    #[test]
    fn year_in_front_quirk() {
        // rsyslog's length is one too large: the tag swallows the NUL terminator
        assert_eq!(
            run("2020 Jan  1 10:00:00 host tag"),
            t("host", "tag\0", "", true)
        );
        let r = parse(
            b"2020 Jan  1 10:00:00 tag",
            0,
            false,
            &base(),
            &ctx(),
            &Default::default(),
        );
        assert_eq!(r.tag, Tag::Range(21..25));
        assert_eq!(r.msg_start, 25);
        assert_eq!(
            run("2020 Jan  1 10:00:00 host tag: m"),
            t("host", "tag:", " m", true)
        );
    }

    #[test]
    fn long_tag_is_cut() {
        let s = format!("Jan  1 00:00:00 host {}: x", "a".repeat(600));
        let (h, tag, msg, _) = run(&s);
        assert_eq!((h.as_str(), tag.len()), ("host", 510));
        assert_eq!(msg, format!("{}: x", "a".repeat(90)));
    }

    #[test]
    fn hostname_options() {
        let o = Rfc3164Options {
            permit_square_brackets_in_hostname: true,
            permit_at_signs_in_hostname: true,
            permit_slashes_in_hostname: true,
            ..Default::default()
        };
        let r = |s: &str| run_with(s.as_bytes(), &ctx(), &o);
        assert_eq!(
            r("Jan  1 00:00:00 [1.2.3.4] tag: x"),
            t("[1.2.3.4]", "tag:", " x", true)
        );
        assert_eq!(
            r("Jan  1 00:00:00 a@b tag: x"),
            t("a@b", "tag:", " x", true)
        );
        assert_eq!(
            r("Jan  1 00:00:00 a/b tag: x"),
            t("a/b", "tag:", " x", true)
        );
        assert_eq!(
            r("Jan  1 00:00:00 [1.2.3.4]x tag: x"),
            t("<none>", "[1.2.3.4]x", " tag: x", true)
        );
        assert_eq!(
            run("Jan  1 00:00:00 [1.2.3.4] tag: x"),
            t("<none>", "[1.2.3.4]", " tag: x", true)
        );
        assert_eq!(
            run("Jan  1 00:00:00 a@b tag: x"),
            t("<none>", "a@b", " tag: x", true)
        );
    }

    #[test]
    fn force_colon_and_first_space() {
        let o = Rfc3164Options {
            force_tag_ending_by_colon: true,
            ..Default::default()
        };
        let r = |s: &str| run_with(s.as_bytes(), &ctx(), &o);
        assert_eq!(
            r("Jan  1 00:00:00 host tag: x"),
            t("host", "tag:", " x", true)
        );
        assert_eq!(
            r("Jan  1 00:00:00 host no tag here"),
            t("host", "-", " no tag here", true)
        );
        assert_eq!(r("notag here"), t("notag", "-", " here", false));
        let c = Context {
            parse_hostname: false,
            ..ctx()
        };
        let r = parse(b"notag here", 0, false, &base(), &c, &o);
        assert!(r.msg_before_start);
        assert_eq!((r.tag, r.msg_start), (Tag::Dash, 0));
        let o = Rfc3164Options {
            remove_msg_first_space: true,
            ..Default::default()
        };
        let r = |s: &str| run_with(s.as_bytes(), &ctx(), &o);
        assert_eq!(
            r("Jan  1 00:00:00 host tag:  x"),
            t("host", "tag:", " x", true)
        );
    }

    #[test]
    fn year_after_timestamp() {
        let o = Rfc3164Options {
            detect_year_after_timestamp: true,
            ..Default::default()
        };
        let r = parse(
            b"Jan  1 00:00:00 2019 host tag: x",
            0,
            false,
            &base(),
            &ctx(),
            &o,
        );
        assert_eq!(r.time.unwrap().year, 2019);
        assert_eq!(r.hostname, Some(21..25));
    }

    #[test]
    fn context_switches() {
        let mut c = ctx();
        c.parse_hostname = false;
        assert_eq!(
            run_with(b"Jan  1 00:00:00 host tag: x", &c, &Default::default()),
            t("<none>", "host", " tag: x", true)
        );
        c.parse_hostname_and_tag = false;
        assert_eq!(
            run_with(b"Jan  1 00:00:00 host tag: x", &c, &Default::default()),
            t("<none>", "<none>", "host tag: x", true)
        );
        c.ignore_timestamp = true;
        assert!(!run_with(b"Jan  1 00:00:00 host tag: x", &c, &Default::default()).3);
        let c = Context {
            default_tz: Some((b'-', 5, 30)),
            ..ctx()
        };
        let r = parse(
            b"Jan  1 00:00:00 host tag: x",
            0,
            false,
            &base(),
            &c,
            &Default::default(),
        );
        let tm = r.time.unwrap();
        assert_eq!(
            (tm.offset_mode, tm.offset_hour, tm.offset_minute),
            (b'-', 5, 30)
        );
    }

    #[test]
    fn invalid_pri_parses_nothing() {
        let r = parse(
            b"<999>Jan  1 00:00:00 host tag: x",
            0,
            true,
            &base(),
            &ctx(),
            &Default::default(),
        );
        assert_eq!(
            (r.tag, r.hostname, r.msg_start, r.time),
            (Tag::NotParsed, None, 0, None)
        );
    }
}
