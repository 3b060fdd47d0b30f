//! The property replacer: what rsyslog 8.2302's `MsgGetProp` does to a value after fetching
//! it (field or regex extraction, substring, `sp-if-no-1st-sp`, case, control characters,
//! secure path, `drop-last-lf`, `compressspace`, CSV/JSON), in the same order and with the
//! same corner cases. Everything works in place on the tail of the output buffer.

use super::posix_regex;

/// `caseConversion` / `lowercase` / `uppercase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Case {
    #[default]
    None,
    Upper,
    Lower,
}

/// What a regex gives when it does not match (`regex.noMatchMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoMatch {
    /// `**NO MATCH**`
    #[default]
    Default,
    Blank,
    /// The whole property.
    Field,
    Zero,
}

/// Output shaping (`format=` / `csv`, `json`, …); one at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    None,
    Csv,
    Json,
    JsonF,
    JsonR,
    JsonFR,
}

/// `dataType=` (used by `jsonf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataType {
    #[default]
    String,
    Number,
    Bool,
    Auto,
}

/// `onEmpty=` (used by `jsonf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnEmpty {
    #[default]
    Keep,
    Skip,
    Null,
}

/// A compiled regex extraction.
#[derive(Debug, Clone)]
pub struct RegexSpec {
    /// `None`: the expression did not compile; the result is rsyslog's error text.
    pub re: Option<regex::bytes::Regex>,
    pub submatch: usize,
    pub match_nr: usize,
    pub nomatch: NoMatch,
}

/// The replacer options of one property.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// rsyslog's `iFromPos` / `iToPos` (1-based, 0 = unset; the list form can make `to`
    /// negative).
    pub from: i64,
    pub to: i64,
    pub end_relative: bool,
    pub fixed_width: bool,
    /// (delimiter, field number).
    pub field: Option<(u8, i64)>,
    pub regex: Option<RegexSpec>,
    pub sp_if_no_1st_sp: bool,
    pub case: Case,
    pub drop_cc: bool,
    pub space_cc: bool,
    pub escape_cc: bool,
    pub secpath_drop: bool,
    pub secpath_replace: bool,
    pub drop_last_lf: bool,
    pub compress_space: bool,
    pub format: Format,
    pub data_type: DataType,
    pub on_empty: OnEmpty,
}

#[inline]
fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// Keeps `out[start + a .. start + b]` as the value.
fn keep_range(out: &mut Vec<u8>, start: usize, a: usize, b: usize) {
    out.copy_within(start + a..start + b, start);
    out.truncate(start + (b - a));
}

fn set(out: &mut Vec<u8>, start: usize, v: &[u8]) {
    out.truncate(start);
    out.extend_from_slice(v);
}

/// Rewrites `out[start..]` byte by byte through `f` (which appends), then moves the result
/// into place.
fn rewrite(out: &mut Vec<u8>, start: usize, mut f: impl FnMut(u8, &mut Vec<u8>)) {
    let end = out.len();
    for i in start..end {
        let c = out[i];
        f(c, out);
    }
    let n = out.len() - end;
    out.copy_within(end.., start);
    out.truncate(start + n);
}

/// JSON escaping of rsyslog's `jsonAddVal` (not json-c's): bytes outside
/// `0x20 0x21 0x23-0x2e 0x30-0x5b 0x5d-0xff` are escaped, `/` as `\/`, control characters
/// as `\b \f \n \r \t` or `\u00XX` (upper-case hex). With `escape_all` false (`jsonr`), a
/// backslash already starting an escape (`\" \/ \\ \b \f \n \r \t \u`) is kept as is.
fn json_needs(c: u8) -> bool {
    !((0x30..=0x5b).contains(&c)
        || (0x23..=0x2e).contains(&c)
        || c >= 0x5d
        || c == 0x20
        || c == 0x21)
}

/// Appends the JSON-escaped form of `out[a..b]` to `out`.
fn json_escape_append(out: &mut Vec<u8>, a: usize, b: usize, escape_all: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut i = a;
    while i < b {
        let c = out[i];
        if !json_needs(c) {
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            0 => out.extend_from_slice(b"\\u0000"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\\' => {
                let next = if i + 1 < b { out[i + 1] } else { 0 };
                if !escape_all
                    && matches!(
                        next,
                        b'"' | b'/' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' | b'u'
                    )
                {
                    out.push(b'\\');
                    out.push(next);
                    i += 2;
                    continue;
                }
                out.extend_from_slice(b"\\\\");
            }
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
        }
        i += 1;
    }
}

/// `format="json"` / `jsonr`: escapes `out[start..]` in place.
pub fn json_encode(out: &mut Vec<u8>, start: usize, escape_all: bool) {
    if !out[start..].iter().any(|&c| json_needs(c)) {
        return;
    }
    let end = out.len();
    json_escape_append(out, start, end, escape_all);
    let n = out.len() - end;
    out.copy_within(end.., start);
    out.truncate(start + n);
}

/// `format="jsonf"` / `jsonfr`: `"name":value` with `value` typed per `dataType`.
fn json_field(out: &mut Vec<u8>, start: usize, name: &[u8], o: &Options, escape_all: bool) {
    let end = out.len();
    let len = end - start;
    if len == 0 && o.on_empty == OnEmpty::Skip {
        return;
    }
    out.push(b'"');
    out.extend_from_slice(name);
    out.extend_from_slice(b"\":");
    if len == 0 && o.on_empty == OnEmpty::Null {
        out.extend_from_slice(b"null");
    } else {
        match o.data_type {
            DataType::Auto => {
                let numeric = len > 0 && out[start..end].iter().all(u8::is_ascii_digit);
                if !numeric {
                    out.push(b'"');
                }
                json_escape_append(out, start, end, escape_all);
                if !numeric {
                    out.push(b'"');
                }
            }
            DataType::String => {
                out.push(b'"');
                json_escape_append(out, start, end, escape_all);
                out.push(b'"');
            }
            DataType::Number => {
                if len == 0 {
                    out.push(b'0');
                } else {
                    json_escape_append(out, start, end, escape_all);
                }
            }
            DataType::Bool => {
                if len == 1 && out[start] == b'0' {
                    out.extend_from_slice(b"false");
                } else {
                    out.extend_from_slice(b"true");
                }
            }
        }
    }
    let n = out.len() - end;
    out.copy_within(end.., start);
    out.truncate(start + n);
}

/// Applies the replacer options to the value in `out[start..]`. `owned` says whether
/// rsyslog would hold the value in a private buffer at this point (it changes what
/// `secpath-replace` does); `field_name` is the name `jsonf` writes.
pub fn apply(o: &Options, field_name: &[u8], out: &mut Vec<u8>, start: usize, mut owned: bool) {
    // 1. field or regex extraction
    if let Some((delim, nr)) = o.field {
        let v = &out[start..];
        let mut cur: i64 = 1;
        let mut i = 0;
        while i < v.len() && cur < nr {
            while i < v.len() && v[i] != delim {
                i += 1;
            }
            if i < v.len() {
                i += 1;
                cur += 1;
            }
        }
        if cur == nr {
            let mut e = i;
            while e < v.len() && v[e] != delim {
                e += 1;
            }
            keep_range(out, start, i, e);
            owned = true;
        } else {
            set(out, start, b"**FIELD NOT FOUND**");
            return;
        }
    } else if let Some(r) = &o.regex {
        let Some(re) = &r.re else {
            set(out, start, b"**NO MATCH** **BAD REGULAR EXPRESSION**");
            return;
        };
        // Each further match is searched in the rest of the string as a new string (`^`
        // matches there again), as rsyslog calls regexec on `pRes + iOffs`. Submatch 0
        // needs no capture slots (no allocation).
        let mut locs = if r.submatch == 0 {
            None
        } else {
            Some(re.capture_locations())
        };
        let mut whole = (0usize, 0usize);
        let mut off = 0usize;
        let mut tries = 0usize;
        let mut found = false;
        loop {
            let hay = &out[start + off..];
            let m = match &mut locs {
                None => re.find(hay).map(|m| (m.start(), m.end())),
                Some(l) => re.captures_read(l, hay).map(|m| (m.start(), m.end())),
            };
            let Some(m) = m else { break };
            if tries == r.match_nr {
                whole = m;
                found = true;
                break;
            }
            off += m.1;
            tries += 1;
        }
        if !found {
            match r.nomatch {
                NoMatch::Field => {}
                NoMatch::Default => {
                    set(out, start, b"**NO MATCH**");
                    owned = false;
                }
                NoMatch::Zero => {
                    set(out, start, b"0");
                    owned = false;
                }
                NoMatch::Blank => {
                    set(out, start, b"");
                    owned = false;
                }
            }
        } else {
            // A submatch that did not take part gives an empty string, whatever the
            // no-match mode (rsyslog computes its length as -1 - -1).
            let sub = match &locs {
                None => Some(whole),
                Some(l) => l.get(r.submatch),
            };
            match sub {
                Some((a, b)) => keep_range(out, start, off + a, off + b),
                None => out.truncate(start),
            }
            owned = true;
        }
    }

    // 2. substring
    if o.from != 0 || o.to != 0 {
        let len = (out.len() - start) as i64;
        let (mut from, mut to) = (o.from, o.to);
        if o.end_relative {
            from = if len < from { 0 } else { len - from };
            to = if len < to { 0 } else { len - to };
        } else {
            if from > 0 {
                from -= 1;
            }
            if to > 0 {
                to -= 1;
            } else if to < 0 {
                to = (len - 1 + to).max(0);
            }
        }
        if from >= len {
            out.truncate(start);
            owned = false;
        } else if from == 0 && to >= len && !o.fixed_width {
            // the whole value: nothing to do
        } else {
            if to >= len && !o.fixed_width {
                to = len - 1;
            }
            let want = (to - from + 1).max(0) as usize;
            // skip `from` characters (a negative start skips everything), copy, pad
            let skip = if from < 0 {
                len as usize
            } else {
                from as usize
            };
            let avail = (len as usize - skip).min(want);
            out.copy_within(start + skip..start + skip + avail, start);
            out.truncate(start + avail);
            out.resize(start + want, b' ');
            owned = true;
        }
    }

    // 3. sp-if-no-1st-sp
    if o.sp_if_no_1st_sp && out.len() > start {
        let first = out[start];
        out.truncate(start);
        if first != b' ' {
            out.push(b' ');
        }
        owned = false;
    }

    if out.len() > start {
        // 4. case conversion (ASCII: rsyslogd runs in the C locale)
        match o.case {
            Case::None => {}
            Case::Upper => {
                out[start..].make_ascii_uppercase();
                owned = true;
            }
            Case::Lower => {
                out[start..].make_ascii_lowercase();
                owned = true;
            }
        }
        // 5. control characters: one mode, drop before space before escape
        if o.drop_cc {
            // rsyslog scans the value as a C string: nothing changes unless a control
            // character stands before the first NUL, and then the result ends at that NUL.
            let nul = out[start..]
                .iter()
                .position(|&c| c == 0)
                .map_or(out.len(), |p| start + p);
            if out[start..nul].iter().any(|&c| is_cntrl(c)) {
                out.truncate(nul);
                let mut w = start;
                for r in start..out.len() {
                    let c = out[r];
                    if !is_cntrl(c) {
                        out[w] = c;
                        w += 1;
                    }
                }
                out.truncate(w);
                owned = true;
            }
        } else if o.space_cc {
            for c in &mut out[start..] {
                if is_cntrl(*c) {
                    *c = b' ';
                }
            }
            owned = true;
        } else if o.escape_cc && out[start..].iter().any(|&c| is_cntrl(c)) {
            rewrite(out, start, |c, out| {
                if is_cntrl(c) {
                    out.push(b'#');
                    out.push(b'0' + c / 100);
                    out.push(b'0' + (c / 10) % 10);
                    out.push(b'0' + c % 10);
                } else {
                    out.push(c);
                }
            });
            owned = true;
        }
    }

    // 6. secure path
    if o.secpath_drop || o.secpath_replace {
        if o.secpath_drop {
            if out[start..].contains(&b'/') {
                out.retain_from(start, |c| c != b'/');
                owned = true;
            }
        } else if owned {
            // rsyslog's in-place loop advances twice after a replacement, so the byte
            // after each replaced `/` is not looked at (and a final `/` ends the loop).
            let mut i = start;
            while i < out.len() {
                if out[i] == b'/' {
                    out[i] = b'_';
                    i += 2;
                } else {
                    i += 1;
                }
            }
        } else {
            for c in &mut out[start..] {
                if *c == b'/' {
                    *c = b'_';
                }
            }
            owned = true;
        }
        let v = &out[start..];
        if v.is_empty() || v == b"." {
            set(out, start, b"_");
            owned = false;
        } else if v == b".." {
            set(out, start, b"_.");
            owned = false;
        }
    }

    // 7. drop-last-lf (not together with escape-cc)
    if o.drop_last_lf && !o.escape_cc && out.len() > start && out.last() == Some(&b'\n') {
        out.pop();
    }

    // 8. compressspace
    if o.compress_space {
        let mut w = start;
        let mut had_sp = false;
        for r in start..out.len() {
            let c = out[r];
            if c == b' ' {
                if had_sp {
                    continue;
                }
                had_sp = true;
            } else {
                had_sp = false;
            }
            out[w] = c;
            w += 1;
        }
        out.truncate(w);
    }
    let _ = owned;

    // 9. CSV / JSON
    match o.format {
        Format::None => {}
        Format::Csv => {
            let end = out.len();
            out.push(b'"');
            for i in start..end {
                let c = out[i];
                if c == b'"' {
                    out.push(b'"');
                }
                out.push(c);
            }
            out.push(b'"');
            let n = out.len() - end;
            out.copy_within(end.., start);
            out.truncate(start + n);
        }
        Format::Json => json_encode(out, start, true),
        Format::JsonR => json_encode(out, start, false),
        Format::JsonF => json_field(out, start, field_name, o, true),
        Format::JsonFR => json_field(out, start, field_name, o, false),
    }
}

trait RetainFrom {
    fn retain_from(&mut self, start: usize, keep: impl Fn(u8) -> bool);
}

impl RetainFrom for Vec<u8> {
    fn retain_from(&mut self, start: usize, keep: impl Fn(u8) -> bool) {
        let mut w = start;
        for r in start..self.len() {
            let c = self[r];
            if keep(c) {
                self[w] = c;
                w += 1;
            }
        }
        self.truncate(w);
    }
}

/// Template-wide escaping of property values (`option.sql`, `option.stdsql`,
/// `option.json`), as rsyslog's `doEscape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escape {
    #[default]
    None,
    /// MySQL style: `'` → `\'`, `\` → `\\`.
    Sql,
    /// Standard SQL: `'` → `''`.
    StdSql,
    /// `"` → `\"`, `\` → `\\` (nothing else).
    Json,
    /// `option.jsonf`: not an escape; the template is `{` + fields joined by `, ` + `}\n`.
    JsonF,
}

/// `doEscape` on `out[start..]`.
pub fn escape_value(mode: Escape, out: &mut Vec<u8>, start: usize) {
    let v = &out[start..];
    let needed = match mode {
        Escape::None | Escape::JsonF => return,
        Escape::StdSql => v.contains(&b'\''),
        Escape::Sql => v.iter().any(|&c| c == b'\'' || c == b'\\'),
        // rsyslog's pre-check stops at the first byte that is *not* `"` or `\`: a value made
        // only of those (or an empty one) is left alone, any other is escaped.
        Escape::Json => v.iter().any(|&c| c != b'"' && c != b'\\'),
    };
    if !needed {
        return;
    }
    rewrite(out, start, |c, out| {
        match mode {
            Escape::StdSql if c == b'\'' => out.push(b'\''),
            Escape::Sql if c == b'\'' || c == b'\\' => out.push(b'\\'),
            Escape::Json if c == b'"' || c == b'\\' => out.push(b'\\'),
            _ => {}
        }
        out.push(c);
    });
}

/// Compiles an rsyslog regex (`R,ERE,…` / `regex.type`).
pub fn compile_regex(expr: &str, ere: bool) -> Result<regex::bytes::Regex, String> {
    posix_regex::compile(
        expr,
        if ere {
            posix_regex::Flavor::Extended
        } else {
            posix_regex::Flavor::Basic
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(o: &Options, v: &str) -> String {
        let mut out = b"PREFIX".to_vec();
        out.extend_from_slice(v.as_bytes());
        apply(o, b"fld", &mut out, 6, false);
        assert!(out.starts_with(b"PREFIX"));
        String::from_utf8_lossy(&out[6..]).into_owned()
    }

    #[test]
    fn substring() {
        let o = Options {
            from: 2,
            to: 4,
            ..Default::default()
        };
        assert_eq!(run(&o, "abcdef"), "bcd");
        let o = Options {
            from: 5,
            to: 9999999,
            ..Default::default()
        };
        assert_eq!(run(&o, "abcdef"), "ef");
        assert_eq!(run(&o, "abc"), "");
        let o = Options {
            from: 1,
            to: 8,
            fixed_width: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "abc"), "abc     ");
        let o = Options {
            from: 3,
            to: 1,
            end_relative: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "abcdef"), "def");
        let o = Options {
            from: 1,
            to: -2,
            ..Default::default()
        };
        assert_eq!(run(&o, "abcdef"), "abcd");
    }

    #[test]
    fn fields() {
        let o = Options {
            field: Some((b':', 2)),
            ..Default::default()
        };
        assert_eq!(run(&o, "a:b:c"), "b");
        assert_eq!(run(&o, "a:"), "");
        assert_eq!(run(&o, "a"), "**FIELD NOT FOUND**");
        let o = Options {
            field: Some((b':', 0)),
            ..Default::default()
        };
        assert_eq!(run(&o, "a:b"), "**FIELD NOT FOUND**");
    }

    #[test]
    fn regexes() {
        let re = compile_regex("([0-9]+)", true).ok();
        let mut o = Options {
            regex: Some(RegexSpec {
                re,
                submatch: 1,
                match_nr: 1,
                nomatch: NoMatch::Default,
            }),
            ..Default::default()
        };
        assert_eq!(run(&o, "a1b22c333"), "22");
        assert_eq!(run(&o, "a1b"), "**NO MATCH**");
        o.regex.as_mut().unwrap().nomatch = NoMatch::Field;
        assert_eq!(run(&o, "a1b"), "a1b");
        o.regex.as_mut().unwrap().nomatch = NoMatch::Zero;
        assert_eq!(run(&o, "ab"), "0");
        o.regex.as_mut().unwrap().submatch = 5;
        assert_eq!(run(&o, "1 2"), "");
        o.regex.as_mut().unwrap().re = None;
        assert_eq!(run(&o, "1 2"), "**NO MATCH** **BAD REGULAR EXPRESSION**");
    }

    #[test]
    fn cc_and_paths() {
        let o = Options {
            escape_cc: true,
            drop_last_lf: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\tb\n"), "a#009b#010");
        let o = Options {
            drop_cc: true,
            escape_cc: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\tb\x7f"), "ab");
        let o = Options {
            space_cc: true,
            drop_last_lf: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\tb\n"), "a b ");
        let o = Options {
            secpath_replace: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "a//b"), "a__b");
        assert_eq!(run(&o, ".."), "_.");
        assert_eq!(run(&o, ""), "_");
        let o = Options {
            secpath_replace: true,
            case: Case::Upper,
            ..Default::default()
        };
        assert_eq!(run(&o, "a//b"), "A_/B");
        let o = Options {
            secpath_drop: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "/a/b/"), "ab");
        let o = Options {
            compress_space: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "  a   b "), " a b ");
        let o = Options {
            sp_if_no_1st_sp: true,
            ..Default::default()
        };
        assert_eq!(run(&o, "x"), " ");
        assert_eq!(run(&o, " x"), "");
        assert_eq!(run(&o, ""), "");
    }

    #[test]
    fn formats() {
        let o = Options {
            format: Format::Csv,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\"b"), "\"a\"\"b\"");
        let o = Options {
            format: Format::Json,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\"/\\n\t\x01"), "a\\\"\\/\\\\n\\t\\u0001");
        let o = Options {
            format: Format::JsonR,
            ..Default::default()
        };
        assert_eq!(run(&o, "a\\n\\x"), "a\\n\\\\x");
        let o = Options {
            format: Format::JsonF,
            ..Default::default()
        };
        assert_eq!(run(&o, "v"), "\"fld\":\"v\"");
        let o = Options {
            format: Format::JsonF,
            data_type: DataType::Auto,
            ..Default::default()
        };
        assert_eq!(run(&o, "42"), "\"fld\":42");
        assert_eq!(run(&o, ""), "\"fld\":\"\"");
        let o = Options {
            format: Format::JsonF,
            on_empty: OnEmpty::Skip,
            ..Default::default()
        };
        assert_eq!(run(&o, ""), "");
        let o = Options {
            format: Format::JsonF,
            on_empty: OnEmpty::Null,
            ..Default::default()
        };
        assert_eq!(run(&o, ""), "\"fld\":null");
        let o = Options {
            format: Format::JsonF,
            data_type: DataType::Bool,
            ..Default::default()
        };
        assert_eq!(run(&o, "0"), "\"fld\":false");
    }

    #[test]
    fn template_escapes() {
        let e = |m, v: &str| {
            let mut o = b"x".to_vec();
            o.extend_from_slice(v.as_bytes());
            escape_value(m, &mut o, 1);
            String::from_utf8(o[1..].to_vec()).unwrap()
        };
        assert_eq!(e(Escape::Sql, "it's \\"), "it\\'s \\\\");
        assert_eq!(e(Escape::StdSql, "it's"), "it''s");
        assert_eq!(e(Escape::Json, "a\"b\\"), "a\\\"b\\\\");
        assert_eq!(e(Escape::Json, "\"\\"), "\"\\");
    }
}
