//! The RFC 5424 parser, as tools/pmrfc5424.c of rsyslog 8.2302.
//!
//! * Selected only when the text after PRI starts with `1 `; otherwise the next parser of
//!   the chain gets the message.
//! * TIMESTAMP `-` (followed by SP) means the reception time; otherwise it must be a valid
//!   RFC 3339 timestamp. An invalid one stops field parsing: HOSTNAME, APP-NAME, PROCID,
//!   MSGID and SD stay unset and MSG starts right after `1 `.
//! * HOSTNAME, APP-NAME, PROCID and MSGID run to the next SP (or the end), which is eaten.
//!   There is no NIL handling besides what the message object does: an empty APP-NAME
//!   becomes `-`, an empty HOSTNAME stays empty (it does not fall back to fromhost), an empty
//!   PROCID/MSGID stays empty.
//! * STRUCTURED-DATA is `-` or a run starting with `[` up to the first `]` followed by SP
//!   (`\]` does not end it). Without a closing `] ` it runs to the end of the message, minus
//!   the last byte unless that is `]`.
//! * **Quirk mirrored:** when SD starts with neither `[` nor `-` (or the message ends before
//!   it), rsyslog stores the contents of its work buffer, which still holds the MSGID, as
//!   the structured data; MSG then starts at that position.
//! * MSG is the rest, after the SP that ends SD. A BOM is not removed.

use super::timestamp::{parse_rfc3339, Cursor};
use crate::message::SyslogTime;
use std::ops::Range;

/// Fields found, as ranges into the buffer given to [`parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rfc5424 {
    /// `None`: `-` (or ignored): use the reception time.
    pub time: Option<SyslogTime>,
    /// `None` when the timestamp was invalid (fields unset).
    pub fields: Option<Fields>,
    /// Start of MSG (may equal the buffer length: empty MSG).
    pub msg_start: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub hostname: Range<usize>,
    pub app_name: Range<usize>,
    pub procid: Range<usize>,
    pub msgid: Range<usize>,
    pub structured_data: Range<usize>,
}

/// Whether pmrfc5424 takes this message (`1 ` right after the PRI).
pub fn accepts(buf: &[u8], start: usize) -> bool {
    buf.len() >= start + 2 && buf[start] == b'1' && buf[start + 1] == b' '
}

/// Parses the message in `buf` from `start` (the offset after PRI). Call only when
/// [`accepts`] is true. `ignore_timestamp`: a valid timestamp is parsed but the reception
/// time is used (imuxsock's `IgnoreTimestamp`).
pub fn parse(buf: &[u8], start: usize, ignore_timestamp: bool) -> Rfc5424 {
    let mut c = Cursor::new(buf, start + 2);
    let mut out = Rfc5424::default();
    if c.len >= 2 && c.at(0) == b'-' && c.at(1) == b' ' {
        c.pos += 2;
        c.len -= 2;
    } else if let Some(t) = parse_rfc3339(&mut c) {
        if !ignore_timestamp {
            out.time = Some(t);
        }
    } else {
        out.msg_start = c.pos;
        return out;
    }
    let hostname = field(&mut c);
    let app_name = field(&mut c);
    let procid = field(&mut c);
    let msgid = field(&mut c);
    let structured_data = sd(&mut c).unwrap_or_else(|| msgid.clone());
    out.fields = Some(Fields {
        hostname,
        app_name,
        procid,
        msgid,
        structured_data,
    });
    out.msg_start = c.pos;
    out
}

/// `parseRFCField`: up to SP or the end; the SP is eaten.
fn field(c: &mut Cursor) -> Range<usize> {
    let s = c.pos;
    while c.len > 0 && c.at(0) != b' ' {
        c.pos += 1;
        c.len -= 1;
    }
    let e = c.pos;
    if c.len > 0 && c.at(0) == b' ' {
        c.pos += 1;
        c.len -= 1;
    }
    s..e
}

/// `parseRFCStructuredData`; `None` when it is not SD at all (the cursor is not moved).
fn sd(c: &mut Cursor) -> Option<Range<usize>> {
    if c.len <= 0 || (c.at(0) != b'[' && c.at(0) != b'-') {
        return None;
    }
    let s = c.pos;
    if c.at(0) == b'-' {
        c.pos += 1;
        c.len -= 1;
    } else {
        loop {
            if c.len < 2 {
                if c.len > 0 && c.at(0) == b']' {
                    c.pos += 1;
                    c.len -= 1;
                }
                break;
            } else if c.at(0) == b'\\' && c.at(1) == b']' {
                c.pos += 2;
                c.len -= 2;
            } else if c.at(0) == b']' && c.at(1) == b' ' {
                c.pos += 1;
                c.len -= 1;
                break;
            } else {
                c.pos += 1;
                c.len -= 1;
            }
        }
    }
    let e = c.pos;
    if c.len > 0 && c.at(0) == b' ' {
        c.pos += 1;
        c.len -= 1;
    }
    Some(s..e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Option<[String; 5]>, String, bool) {
        let b = s.as_bytes();
        assert!(accepts(b, 0));
        let r = parse(b, 0, false);
        let g = |x: &Range<usize>| s[x.clone()].to_string();
        let f = r.fields.as_ref().map(|f| {
            [
                g(&f.hostname),
                g(&f.app_name),
                g(&f.procid),
                g(&f.msgid),
                g(&f.structured_data),
            ]
        });
        (
            f,
            s[r.msg_start.min(s.len())..].to_string(),
            r.time.is_some(),
        )
    }

    fn f(a: [&str; 5]) -> Option<[String; 5]> {
        Some(a.map(String::from))
    }

    #[test]
    fn rfc_examples() {
        let (fl, msg, t) =
            run("1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed");
        assert_eq!(fl, f(["mymachine.example.com", "su", "-", "ID47", "-"]));
        assert_eq!(msg, "BOM'su root' failed");
        assert!(t);
        let (fl, msg, _) = run(
            r#"1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App\]x"][b@1 x="y"] An application"#,
        );
        assert_eq!(
            fl.unwrap()[4],
            r#"[exampleSDID@32473 iut="3" eventSource="App\]x"][b@1 x="y"]"#
        );
        assert_eq!(msg, "An application");
    }

    #[test]
    fn nil_timestamp_and_no_msg() {
        let (fl, msg, t) = run("1 - host app 1 - [x@1 a=\"b\"]");
        assert_eq!(fl, f(["host", "app", "1", "-", "[x@1 a=\"b\"]"]));
        assert_eq!((msg.as_str(), t), ("", false));
    }

    #[test]
    fn invalid_timestamp_stops() {
        let (fl, msg, t) = run("1 2100-01-01T00:00:00Z host app 123 ID47 hello");
        assert_eq!((fl, t), (None, false));
        assert_eq!(msg, "2100-01-01T00:00:00Z host app 123 ID47 hello");
    }

    #[test]
    fn missing_sd_takes_msgid() {
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z host app 123 ID47 hello world");
        assert_eq!(fl, f(["host", "app", "123", "ID47", "ID47"]));
        assert_eq!(msg, "hello world");
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z host app");
        assert_eq!(fl, f(["host", "app", "", "", ""]));
        assert_eq!(msg, "");
    }

    #[test]
    fn empty_fields_and_odd_sd() {
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z  app  - - msg");
        assert_eq!(fl, f(["", "app", "", "-", "-"]));
        assert_eq!(msg, "msg");
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z h a p m -abc");
        assert_eq!(fl.unwrap()[4], "-");
        assert_eq!(msg, "abc");
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z h a p m [x@1 a=\"b\"");
        assert_eq!(fl.unwrap()[4], "[x@1 a=\"b");
        assert_eq!(msg, "\"");
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z h a p m [x]");
        assert_eq!(fl.unwrap()[4], "[x]");
        assert_eq!(msg, "");
        let (fl, msg, _) = run("1 2020-01-01T00:00:00Z h a p m [x\\\\] y] z");
        assert_eq!(fl.unwrap()[4], "[x\\\\] y]");
        assert_eq!(msg, "z");
    }

    #[test]
    fn selection() {
        assert!(!accepts(b"1", 0));
        assert!(!accepts(b"12 x", 0));
        assert!(accepts(b"<1>1 ", 3));
    }
}
