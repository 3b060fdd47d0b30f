//! RainerScript functions that compute a value from their arguments alone (rsyslog 8.2302's
//! `doFunct_*` in grammar/rainerscript.c), and the string helpers comparisons use.

use crate::config::syntax::BinOp;
use crate::filter::value::Val;

/// `field(str, delim, n)`: a number delimiter is a character code, a string one a separator.
pub fn field(s: &[u8], delim: &Val, n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    field_into(s, delim, n, &mut out);
    out
}

/// [`field`] appending to `out`.
pub fn field_into(s: &[u8], delim: &Val, n: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(field_slice(s, delim, n));
}

/// [`field`] borrowed from `s` (or the constant "not found" text): no copy.
pub fn field_slice<'a>(s: &'a [u8], delim: &Val, n: i64) -> &'a [u8] {
    // rsyslog scans the value as a C string.
    let s = &s[..memchr::memchr(0, s).unwrap_or(s.len())];
    let found: Option<&[u8]> = match delim {
        Val::Str(d) if !d.is_empty() => {
            let mut rest = Some(s);
            let mut cur = 1;
            while cur < n {
                rest = rest.and_then(|r| memchr::memmem::find(r, d).map(|p| &r[p + d.len()..]));
                match rest {
                    Some(_) => cur += 1,
                    None => break,
                }
            }
            match rest {
                Some(r) if cur == n => Some(match memchr::memmem::find(r, d) {
                    Some(p) => &r[..p],
                    None => r,
                }),
                _ => None,
            }
        }
        _ => {
            let d = delim.to_num() as u8;
            let mut pos = 0;
            let mut cur = 1;
            while pos < s.len() && cur < n {
                match memchr::memchr(d, &s[pos..]) {
                    Some(i) => {
                        pos += i + 1;
                        cur += 1;
                    }
                    None => pos = s.len(),
                }
            }
            if cur == n {
                let end = memchr::memchr(d, &s[pos..]).map_or(s.len(), |e| pos + e);
                Some(&s[pos..end])
            } else {
                None
            }
        }
    };
    found.unwrap_or(b"***FIELD NOT FOUND***")
}

pub fn ipv42num(s: &[u8]) -> i64 {
    // 8.2302's doFunct_Ipv42num: blanks only before or after, four dot-separated digit
    // groups (an empty last group counts as 0), each accumulated and combined in 32 bits
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let mut num = [0u32; 4];
    let (mut cyc, mut prevdot, mut startblank, mut endblank) = (0usize, false, false, false);
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if endblank {
                    return -1;
                }
                prevdot = false;
                startblank = false;
                num[cyc] = num[cyc].wrapping_mul(10).wrapping_add((c - b'0') as u32);
            }
            b' ' => {
                prevdot = false;
                if i == 0 || startblank {
                    startblank = true;
                } else {
                    endblank = true;
                }
            }
            b'.' => {
                if endblank || prevdot {
                    return -1;
                }
                startblank = false;
                prevdot = true;
                cyc += 1;
                if cyc > 3 {
                    return -1;
                }
            }
            _ => return -1,
        }
    }
    if cyc != 3 {
        return -1;
    }
    num[0]
        .wrapping_mul(1 << 24)
        .wrapping_add(num[1].wrapping_mul(1 << 16))
        .wrapping_add(num[2].wrapping_mul(256))
        .wrapping_add(num[3]) as i64
}

/// libestr's `es_strncasecmp` as `startswith_i` uses it: only the bytes both strings have
/// are compared, so a left side that is a prefix of the right side also "starts with" it.
pub fn startswith_i(l: &[u8], r: &[u8]) -> bool {
    l.iter()
        .zip(r.iter())
        .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

pub fn lower_contains(h: &[u8], n: &[u8]) -> bool {
    memchr::memmem::find(&h.to_ascii_lowercase(), &n.to_ascii_lowercase()).is_some()
}

/// A constant array on the right of a comparison: membership / any-match (evalStrArrayCmp).
pub fn array_cmp(op: BinOp, l: &[u8], items: &[Vec<u8>]) -> bool {
    let any = |f: &dyn Fn(&[u8]) -> bool| items.iter().any(|i| f(i));
    match op {
        BinOp::Eq => any(&|i| l == i),
        BinOp::Ne => !any(&|i| l == i),
        BinOp::Contains => any(&|i| memchr::memmem::find(l, i).is_some()),
        BinOp::ContainsI => any(&|i| lower_contains(l, i)),
        BinOp::StartsWith => any(&|i| l.starts_with(i)),
        BinOp::StartsWithI => any(&|i| startswith_i(l, i)),
        _ => false,
    }
}

/// Translates a POSIX basic regular expression into the extended syntax `regex` speaks:
/// in BRE, `\(` `\)` `\{` `\}` `\|` `\+` `\?` are operators and the bare characters literals.
pub fn bre_to_ere(bre: &str) -> String {
    let mut out = String::with_capacity(bre.len() + 8);
    let mut chars = bre.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('(' | ')' | '{' | '}' | '|' | '+' | '?')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `substring(str, start, len)`; a negative `len` counts from the end.
pub fn substring(s: &[u8], start: i64, sub: i64) -> Vec<u8> {
    substring_slice(s, start, sub).to_vec()
}

/// [`substring`] borrowed from `s`: no copy.
pub fn substring_slice(s: &[u8], start: i64, sub: i64) -> &[u8] {
    let len = s.len() as i64;
    let (mut start, mut sub) = (start, sub);
    if start >= len {
        start = 0;
        sub = 0;
    } else {
        if sub < 0 {
            sub = (len + sub).max(0);
        }
        sub = sub.min(len - start);
    }
    let start = start.max(0) as usize;
    s.get(start..start + sub.max(0) as usize).unwrap_or(&[])
}

/// `ltrim` / `rtrim`: spaces only, on the value read as a C string.
pub fn trim(s: &[u8], left: bool) -> Vec<u8> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    if left {
        let i = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
        s[i..].to_vec()
    } else {
        let end = s.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
        s[..end].to_vec()
    }
}

/// `num2ipv4`: "-1" outside 0..=2^32-1.
pub fn num2ipv4(n: i64) -> Vec<u8> {
    if !(0..=0xffff_ffff).contains(&n) {
        return b"-1".to_vec();
    }
    format!(
        "{}.{}.{}.{}",
        n >> 24,
        (n >> 16) & 255,
        (n >> 8) & 255,
        n & 255
    )
    .into_bytes()
}

/// `re_extract(str, re, match, submatch, nomatch)`: the `submatch` group of the
/// `match`-th (0-based) match, each search restarting where the previous match ended
/// (rsyslog re-runs `regexec` on the rest, so `^` anchors there too). `None` → no match.
pub fn re_extract(re: &regex::bytes::Regex, s: &[u8], nth: i64, sub: i64) -> Option<Vec<u8>> {
    if !(0..50).contains(&sub) {
        return None;
    }
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let mut off = 0usize;
    let mut tries: i64 = 0;
    loop {
        let caps = re.captures(s.get(off..)?)?;
        let whole = caps.get(0)?;
        if tries == nth as i16 as i64 {
            return caps.get(sub as usize).map(|m| m.as_bytes().to_vec());
        }
        off += whole.end();
        tries += 1;
        if tries > s.len() as i64 + 1 {
            return None; // an empty match repeated forever: rsyslog would spin
        }
    }
}

/// `int2hex`: two's complement for negative numbers, as `%llx`; "NAN" when the value is
/// not completely a number.
pub fn int2hex(v: &Val) -> Vec<u8> {
    match v.to_num_ok() {
        (n, true) => format!("{n:x}").into_bytes(),
        _ => b"NAN".to_vec(),
    }
}

/// A coerced argument as bytes.
pub fn bytes(v: Val) -> Vec<u8> {
    v.into_bytes()
}
