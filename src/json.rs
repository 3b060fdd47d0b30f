//! JSON values as rsyslog 8.2302 keeps them for `$!`, `$.` and `$/` variables (libfastjson):
//! objects keep insertion order, a deleted member leaves a slot that the next new member
//! fills, keys match case-insensitively unless `variables.casesensitive="on"`, strings are
//! bytes, parsed doubles keep their text. Serialisation is libfastjson's, byte for byte
//! (`{ "a": 1 }` spaced, `{"a":1}` plain, `/` escaped as `\/`), and parsing follows its
//! tokener where rsyslog's output shows it (a bare number needs a terminator, `null` and a
//! lone literal at the end of the text are no value).

use std::sync::atomic::{AtomicBool, Ordering};

/// `variables.casesensitive` (global; set once at start-up).
static CASE_SENSITIVE: AtomicBool = AtomicBool::new(false);

/// Sets `variables.casesensitive`.
pub fn set_case_sensitive(on: bool) {
    CASE_SENSITIVE.store(on, Ordering::Relaxed);
}

/// Whether two member names are the same name.
pub fn key_eq(a: &[u8], b: &[u8]) -> bool {
    if CASE_SENSITIVE.load(Ordering::Relaxed) {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

/// A JSON value. `Null` is what libfastjson stores as a NULL member: it renders as `null`
/// inside a container, and as an empty value / "does not exist" on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// A double and, when it was parsed, its original text (printed as written).
    Double(f64, Option<Box<str>>),
    Str(Vec<u8>),
    Arr(Vec<Json>),
    Obj(Obj),
}

/// An object: members in slot order; `None` is a slot freed by a deletion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj {
    slots: Vec<Option<(Vec<u8>, Json)>>,
}

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    pub fn get(&self, key: &[u8]) -> Option<&Json> {
        self.slots
            .iter()
            .flatten()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Json> {
        self.slots
            .iter_mut()
            .flatten()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| v)
    }

    /// `json_object_object_add`: replaces the value of an existing member (keeping its
    /// name and place), else fills the first free slot, else appends.
    pub fn insert(&mut self, key: &[u8], value: Json) {
        if let Some(v) = self.get_mut(key) {
            *v = value;
            return;
        }
        let entry = Some((key.to_vec(), value));
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = entry,
            None => self.slots.push(entry),
        }
    }

    /// `json_object_object_del`.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        for s in self.slots.iter_mut() {
            if matches!(s, Some((k, _)) if key_eq(k, key)) {
                *s = None;
                return true;
            }
        }
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Json)> {
        self.slots.iter().flatten().map(|(k, v)| (k.as_slice(), v))
    }

    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Json {
    /// A member by name, with rsyslog's `name[N]` array index (`jsonVarExtract`).
    pub fn member(&self, key: &[u8]) -> Option<&Json> {
        match self {
            Json::Obj(o) => Json::member_of(o, key),
            _ => None,
        }
    }

    /// `jsonVarExtract` on an object.
    pub fn member_of<'a>(o: &'a Obj, key: &[u8]) -> Option<&'a Json> {
        if let Some((name, idx)) = split_index(key) {
            match o.get(name) {
                Some(Json::Arr(a)) => return a.get(idx),
                Some(_) => return None,
                None => {}
            }
        }
        o.get(key)
    }

    /// `json_object_get_string`: a string as it is, anything else as spaced JSON text.
    pub fn write_string_value(&self, out: &mut Vec<u8>) {
        match self {
            Json::Str(s) => out.extend_from_slice(s),
            Json::Null => {}
            other => other.write(true, out),
        }
    }

    /// Serialises as libfastjson does (`spaced` = `JSON_C_TO_STRING_SPACED`).
    pub fn write(&self, spaced: bool, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Json::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Json::Double(d, text) => match text {
                Some(t) => out.extend_from_slice(t.as_bytes()),
                None => write_double(*d, out),
            },
            Json::Str(s) => {
                out.push(b'"');
                escape_into(s, out);
                out.push(b'"');
            }
            Json::Arr(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if spaced {
                        out.push(b' ');
                    }
                    v.write(spaced, out);
                }
                if spaced {
                    out.push(b' ');
                }
                out.push(b']');
            }
            Json::Obj(o) => {
                out.push(b'{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if spaced {
                        out.push(b' ');
                    }
                    out.push(b'"');
                    escape_into(k, out);
                    out.push(b'"');
                    out.push(b':');
                    if spaced {
                        out.push(b' ');
                    }
                    v.write(spaced, out);
                }
                if spaced {
                    out.push(b' ');
                }
                out.push(b'}');
            }
        }
    }

    /// `jsonDeepCopy`: a parsed double loses its original text.
    pub fn deep_copy(&self) -> Json {
        match self {
            Json::Double(d, _) => Json::Double(*d, None),
            Json::Arr(a) => Json::Arr(a.iter().map(Json::deep_copy).collect()),
            Json::Obj(o) => {
                let mut n = Obj::new();
                for (k, v) in o.iter() {
                    n.insert(k, v.deep_copy());
                }
                Json::Obj(n)
            }
            other => other.clone(),
        }
    }

    /// `json_object_get_int64`.
    pub fn as_i64(&self) -> i64 {
        match self {
            Json::Null | Json::Arr(_) | Json::Obj(_) => 0,
            Json::Bool(b) => *b as i64,
            Json::Int(n) => *n,
            Json::Double(d, _) => *d as i64,
            Json::Str(s) => {
                // json-c: strtoll on the text (leading space, sign, digits), 0 if none
                let t = String::from_utf8_lossy(s);
                let t = t.trim_start();
                let end = t
                    .char_indices()
                    .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                    .map_or(t.len(), |(i, _)| i);
                t[..end].parse().unwrap_or(0)
            }
        }
    }
}

/// `name[N]` → (`name`, N) when the key ends in a bracketed decimal index.
pub fn split_index(key: &[u8]) -> Option<(&[u8], usize)> {
    let open = key.iter().position(|&c| c == b'[')?;
    if key.last() != Some(&b']') {
        return None;
    }
    let digits = &key[open + 1..key.len() - 1];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((&key[..open], n))
}

/// libfastjson's string escaping: `"` `\` `/` and the C escapes, other control
/// characters as `\u00xx`; every other byte (UTF-8 included) as it is.
pub fn escape_into(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c if c < 0x20 => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
            c => out.push(c),
        }
    }
}

/// A double created by rsyslog (not parsed): `%.17g`, with `.0` added to integral values.
fn write_double(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    let mut s = if d == d.trunc() && d.abs() < 1e17 {
        format!("{d:.0}")
    } else {
        // shortest text that reads back to the same double (close to %.17g for the values
        // rsyslog scripts produce)
        format!("{d}")
    };
    if !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    out.extend_from_slice(s.as_bytes());
}

/// Parses the first JSON value of `text` as rsyslog's `parse_json()` does
/// (`json_tokener_parse_ex` on the whole text): leading white space is skipped, text after
/// a complete value is ignored; a number or literal that runs to the end of the text is
/// incomplete (no value), and `null` is no value either.
pub fn parse(text: &[u8]) -> Option<Json> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    match p.value(0)? {
        Json::Null => None,
        v => Some(v),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'{' => {
                self.i += 1;
                let mut o = Obj::new();
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(Json::Obj(o));
                }
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    o.insert(&k, v);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(Json::Obj(o));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(Json::Arr(a));
                }
                loop {
                    self.ws();
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(Json::Arr(a));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(Json::Str),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'n' => self.literal(b"null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A literal is complete only when something follows it.
    fn literal(&mut self, word: &[u8], v: Json) -> Option<Json> {
        if self.s[self.i..].starts_with(word) && self.i + word.len() < self.s.len() {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return None; // the tokener waits for more digits
        }
        let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if t.contains(['.', 'e', 'E']) {
            let d: f64 = t.parse().ok()?;
            Some(Json::Double(d, Some(t.into())))
        } else {
            match t.parse::<i64>() {
                Ok(n) => Some(Json::Int(n)),
                Err(_) => {
                    let d: f64 = t.parse().ok()?;
                    Some(Json::Double(d, Some(t.into())))
                }
            }
        }
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => return Some(out),
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => return None,
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.i += 4;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(j: &Json, spaced: bool) -> String {
        let mut v = Vec::new();
        j.write(spaced, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn libfastjson_formats() {
        let j = parse(br#"[1, {"b":[]}, {}, 1.0e3, -0, "\u00e9\u0001/\"x"]"#).unwrap();
        assert_eq!(
            text(&j, true),
            "[ 1, { \"b\": [ ] }, { }, 1.0e3, 0, \"\u{e9}\\u0001\\/\\\"x\" ]"
        );
        assert_eq!(
            text(&j.deep_copy(), false).split(',').nth(3),
            Some("1000.0")
        );
    }

    #[test]
    fn tokener_edges() {
        assert!(
            parse(b" 123").is_none(),
            "a number at the end is incomplete"
        );
        assert_eq!(parse(b"12 "), Some(Json::Int(12)));
        assert!(parse(b"true").is_none() && parse(b"null ").is_none());
        assert!(parse(br#"{"a":1"#).is_none());
        assert!(parse(br#"{"a":1} trailing"#).is_some());
    }

    #[test]
    fn slots_and_case() {
        let mut o = Obj::new();
        for k in [&b"a"[..], b"b", b"c"] {
            o.insert(k, Json::Int(1));
        }
        o.remove(b"B");
        o.insert(b"d", Json::Int(4));
        o.insert(b"A", Json::Int(2));
        let keys: Vec<&[u8]> = o.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"a"[..], b"d", b"c"]);
        assert_eq!(o.get(b"a"), Some(&Json::Int(2)));
    }
}
