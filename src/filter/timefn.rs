//! RainerScript functions as pure functions on bytes: `format_time`, `parse_time`, `is_time` and
//! `wrap` with the exact behaviour of rsyslog 8.2302 (grammar/rainerscript.c and
//! runtime/datetime.c; checked against the real rsyslogd by `tests/timefn_vs_rsyslogd.rs`), and
//! the newer-rsyslog extensions `toupper`, `cbool`, `split`, `is_in_subnet` and `b64_decode`
//! that 8.2302 does not have (rsyslogd 8.2302 reports "function not found" and then segfaults),
//! implemented as rsyslog's current documentation and sources define them.
//!
//! Conventions: arguments are the *string form* of the RainerScript value (what rsyslog's
//! `var2CString` gives: a number in decimal, a JSON value as its JSON text, a string as is).
//! Where rsyslog looks at the value's type as well, there is a second entry point for
//! non-string values (`format_time` takes the number, `is_time_typed` a flag, `cbool_num`).
//!
//! Notable 8.2302 behaviour reproduced here:
//! * `format_time` formats in **UTC** (gmtime), whatever `TZ` is. A string argument is
//!   converted with rsyslog's `str2num`: an optional `-` and decimal digits only; the empty
//!   string and a lone `-` count as the number 0 (so `format_time("", "date-rfc3339")` is
//!   `1970-01-01T00:00:00Z`). Anything else is not a number and the result is the argument
//!   itself (cut at 63 bytes). rsyslog never sets `script_error()` here.
//! * `parse_time` returns 0 and sets `script_error()` to 1 (RS_SCRIPT_EINVAL) when the string
//!   is neither RFC 3339 nor RFC 3164: that is `None` here (the caller sets the error); on
//!   success the error is reset to 0. A syntactically valid RFC 3339 timestamp before 1970
//!   gives 0 *without* an error (`Some(0)`). An RFC 3164 timestamp's year — even one written in
//!   the string — is replaced by a guess from the current UTC date: `parse_time_at` takes
//!   `now`, `parse_time` reads the clock.
//!   A timestamp may be followed by a space and anything (`"Nov 23 10:00:00 rest"` parses).
//! * `is_time` with no format tries RFC 3164, RFC 3339 and then "date-unix"; "date-unix" is
//!   true for an optional `-` plus digits, and for the empty string and `-` (str2num says 0 is a
//!   number), and always for a number- or JSON-typed argument. An unknown format is false.
//!   rsyslog sets `script_error()` to 1 whenever the result is 0, else to 0.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::filter::value::str2num;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days from 1970-01-01 to year-month-day (proleptic Gregorian; month 1..=12, any day).
fn days_from_civil(y: i64, m: u32, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (d - 1)
}

/// The formatted date, or `None` where rsyslog's formatter fails (gmtime_r overflows: the year
/// minus 1900 does not fit a C int) or does not know the format.
fn format_unix(unix: i64, fmt: &[u8]) -> Option<Vec<u8>> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let tm_year = i32::try_from(y - 1900).ok()?;
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match fmt {
        b"date-rfc3164" => {
            Some(format!("{} {d:2} {h:02}:{mi:02}:{s:02}", MONTHS[mo as usize - 1]).into_bytes())
        }
        b"date-rfc3339" => {
            // `tm_year + 1900` is a C int addition.
            let year = tm_year.wrapping_add(1900);
            Some(format!("{year}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z").into_bytes())
        }
        _ => None,
    }
}

/// Cuts `s` where a C string would end (first NUL) and at 63 bytes, as rsyslog's fallback
/// copy into its 64-byte result buffer does.
fn c_fallback(s: &[u8]) -> Vec<u8> {
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    s[..s.len().min(63)].to_vec()
}

/// `format_time(ts, fmt)` for a number-typed `ts` (a number, or a JSON value: pass rsyslog's
/// `json_object_get_int64` of it). `fmt` is `"date-rfc3164"` (`Nov  3 09:05:07`, day padded
/// with a space) or `"date-rfc3339"` (`2023-11-03T09:05:07Z`), always in UTC. A year out of C
/// `int` range gives the number in decimal.
///
/// Any other format is undefined behaviour in 8.2302 (its formatter returns an uninitialised
/// stack buffer: we saw `""`, `"0"` and binary garbage); oxsyslog returns the argument's string
/// form, the same fallback rsyslog documents for a timestamp it cannot format.
pub fn format_time(unix: i64, fmt: &[u8]) -> Vec<u8> {
    format_unix(unix, fmt).unwrap_or_else(|| unix.to_string().into_bytes())
}

/// `format_time(ts, fmt)` for a string-typed `ts`: converted with [`str2num`] (so `""` is 0);
/// when that fails (`"abc"`, `"12x"`, `"1.5"`, `" 1"`) the result is `ts` itself, cut at the
/// first NUL and at 63 bytes — as is the fallback for an unknown format (see [`format_time`]).
pub fn format_time_str(ts: &[u8], fmt: &[u8]) -> Vec<u8> {
    let (n, ok) = str2num(ts);
    match ok.then(|| format_unix(n, fmt)).flatten() {
        Some(v) => v,
        None => c_fallback(ts),
    }
}

/// A parsed timestamp in the fields `syslogTime2time_t` reads.
struct Ts {
    year: i64,
    month: u32,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    offset: i64,
}

impl Ts {
    fn from(t: &crate::message::SyslogTime) -> Ts {
        let off = i64::from(t.offset_hour) * 3600 + i64::from(t.offset_minute) * 60;
        Ts {
            year: i64::from(t.year),
            month: u32::from(t.month),
            day: i64::from(t.day),
            hour: i64::from(t.hour),
            minute: i64::from(t.minute),
            second: i64::from(t.second),
            offset: if t.offset_mode == b'-' { -off } else { off },
        }
    }
}

/// rsyslog's `ParseTIMESTAMP3339` on a C string (the parser the message parsers use).
fn parse_3339(s: &[u8]) -> Option<Ts> {
    let mut c = crate::parse::timestamp::Cursor::new(s, 0);
    crate::parse::timestamp::parse_rfc3339(&mut c).map(|t| Ts::from(&t))
}

/// rsyslog's `ParseTIMESTAMP3164` without TZ strings and without a year after the time (as
/// `parse_time`/`is_time` call it). The year is the caller's to supply.
fn parse_3164(s: &[u8]) -> Option<Ts> {
    let mut c = crate::parse::timestamp::Cursor::new(s, 0);
    let base = crate::message::SyslogTime::default();
    crate::parse::timestamp::parse_rfc3164(&mut c, &base, false).map(|t| Ts::from(&t))
}

/// rsyslog's `syslogTime2time_t`: years outside 1970..=2100 give 0 (rsyslog logs an internal
/// error, not a script error); days are not checked against the month (Feb 31 = Mar 3).
fn to_unix(t: &Ts) -> i64 {
    if !(1970..=2100).contains(&t.year) {
        return 0;
    }
    days_from_civil(t.year, t.month, 1) * 86_400
        + (t.day - 1) * 86_400
        + t.hour * 3600
        + t.minute * 60
        + t.second
        - t.offset
}

/// rsyslog's `estimateYear`: the year an RFC 3164 month (`incoming`, 1..=12) belongs to, given
/// the current UTC year and month. December then January → next year; a month more than one
/// ahead of the current one → last year; otherwise this year.
pub fn estimate_year(current_year: i64, current_month: u32, incoming: u32) -> i64 {
    let diff = i64::from(incoming) + 12 - i64::from(current_month);
    if diff == 1 {
        current_year + 1
    } else if diff > 13 {
        current_year - 1
    } else {
        current_year
    }
}

/// The part of a RainerScript string rsyslog's C-string functions see: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or_default()
}

/// `parse_time(s)` at the current system time: [`parse_time_at`] with `now` = the clock.
pub fn parse_time(s: &[u8]) -> Option<i64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    parse_time_at(s, now)
}

/// `parse_time(s)`: seconds since the epoch of an RFC 3339 timestamp (its offset applied) or
/// of an RFC 3164 one (taken as UTC). `now` is the current time (seconds since the epoch); an
/// RFC 3164 timestamp's year is [`estimate_year`] from `now`'s UTC year and month — also when
/// the string itself has a year (rsyslog 8.2302 overwrites it). `None` when neither format
/// matches: rsyslog then returns 0 and sets `script_error()` to 1; on `Some` it sets it to 0.
/// An RFC 3339 year before 1970 (including an empty year, `"-01-01T00:00:00Z"`) is `Some(0)`.
pub fn parse_time_at(s: &[u8], now: i64) -> Option<i64> {
    let s = c_str(s);
    if let Some(t) = parse_3339(s) {
        return Some(to_unix(&t));
    }
    let mut t = parse_3164(s)?;
    let (cy, cm, _) = civil_from_days(now.div_euclid(86_400));
    t.year = estimate_year(cy, cm, t.month);
    Some(to_unix(&t))
}

/// `is_time(s)` / `is_time(s, fmt)` for a string-typed `s`: see [`is_time_typed`].
pub fn is_time(s: &[u8], fmt: Option<&[u8]>) -> bool {
    is_time_typed(s, fmt, false)
}

/// `is_time(s[, fmt])`. `fmt` is `"date-rfc3164"`, `"date-rfc3339"` or `"date-unix"`; any
/// other format is false; `None` tries the three in that order. "date-unix" means rsyslog's
/// `str2num` accepts `s` (optional `-` and digits; also `""` and `"-"`), or that the argument
/// is number- or JSON-typed (`numeric`: rsyslog's `var2Number` succeeds for every non-string
/// value, so `is_time($!obj)` is true for any JSON object). rsyslog sets `script_error()` to 1
/// when the result is false and to 0 when it is true.
pub fn is_time_typed(s: &[u8], fmt: Option<&[u8]>, numeric: bool) -> bool {
    let cs = c_str(s);
    let unix = || numeric || str2num(s).1;
    match fmt.map(c_str) {
        None => parse_3164(cs).is_some() || parse_3339(cs).is_some() || unix(),
        Some(b"date-rfc3164") => parse_3164(cs).is_some(),
        Some(b"date-rfc3339") => parse_3339(cs).is_some(),
        Some(b"date-unix") => unix(),
        Some(_) => false,
    }
}

/// rsyslog 8.2302's `replace(src, find, with)` (`doFuncReplace`): every non-overlapping
/// occurrence of `find`, left to right, replaced. An empty `find` inserts `with` before every
/// byte and at the end (`replace("abc", "", "Y")` is `"YaYbYcY"`), as rsyslogd does.
pub fn replace(src: &[u8], find: &[u8], with: &[u8]) -> Vec<u8> {
    if find.is_empty() {
        let mut out = Vec::with_capacity(src.len() * (with.len() + 1) + with.len());
        for &b in src {
            out.extend_from_slice(with);
            out.push(b);
        }
        out.extend_from_slice(with);
        return out;
    }
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        if src[i..].starts_with(find) {
            out.extend_from_slice(with);
            i += find.len();
        } else {
            out.push(src[i]);
            i += 1;
        }
    }
    out
}

/// `wrap(s, wrapper)` = wrapper + s + wrapper; `wrap(s, wrapper, escaper)` first replaces every
/// occurrence of `wrapper` in `s` by `escaper` ([`replace`] semantics, so an empty wrapper with
/// an escaper puts the escaper between all bytes: `wrap("abc", "", "X")` is `"XaXbXcX"`).
pub fn wrap(s: &[u8], wrapper: &[u8], escaper: Option<&[u8]>) -> Vec<u8> {
    let body = match escaper {
        Some(e) => replace(s, wrapper, e),
        None => s.to_vec(),
    };
    let mut out = Vec::with_capacity(body.len() + 2 * wrapper.len());
    out.extend_from_slice(wrapper);
    out.extend_from_slice(&body);
    out.extend_from_slice(wrapper);
    out
}

/// Extension (not in 8.2302): `toupper(s)`, ASCII letters only (C `toupper` in rsyslog, whose
/// locale leaves bytes ≥ 0x80 alone in UTF-8).
pub fn toupper(s: &[u8]) -> Vec<u8> {
    s.to_ascii_uppercase()
}

/// Extension (not in 8.2302): `cbool(v)` for a string-typed value (and for a JSON value, whose
/// JSON text is passed), as newer rsyslog defines it: after trimming C whitespace (space, `\t`,
/// `\n`, `\v`, `\f`, `\r`), `""`, `"0"`, and case-insensitively `"no"`, `"off"`, `"false"` are
/// 0; every other string is 1 (so `"00"` and `"0.0"` are 1). Use [`cbool_num`] for numbers.
pub fn cbool(s: &[u8]) -> i64 {
    let s = c_str(s);
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    let t = &s[start..end];
    let falsy = t.is_empty()
        || t == b"0"
        || t.eq_ignore_ascii_case(b"no")
        || t.eq_ignore_ascii_case(b"off")
        || t.eq_ignore_ascii_case(b"false");
    i64::from(!falsy)
}

/// Extension (not in 8.2302): `cbool(n)` for a number-typed value: 1 when `n` is non-zero
/// (rsyslog's truthiness), else 0.
pub fn cbool_num(n: i64) -> i64 {
    i64::from(n != 0)
}

/// Extension (not in 8.2302): `split(s, sep)`, whose RainerScript result is a JSON array of
/// strings. Splits at every non-overlapping `sep`, left to right, keeping empty pieces:
/// `split("a,,b,", ",")` is `["a", "", "b", ""]`, `split("", ",")` is `[""]`. An empty `sep`
/// gives an empty array (newer rsyslog). Both strings end at a NUL byte, as in rsyslog.
pub fn split(s: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    let (s, sep) = (c_str(s), c_str(sep));
    if sep.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= s.len() {
        if &s[i..i + sep.len()] == sep {
            out.push(s[start..i].to_vec());
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(s[start..].to_vec());
    out
}

/// An address as C `inet_pton` accepts it: dotted-quad IPv4 (no leading zeros), or IPv6
/// (including an embedded IPv4 tail; no zone id, no brackets).
fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(s).ok()?;
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(a));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// The prefix length as C `strtol` reads it (leading whitespace, optional sign, digits, nothing
/// after), limited to `max`; `-0` is 0.
fn parse_bits(s: &[u8], max: u32) -> Option<u32> {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let s = &s[s.iter().position(|b| !ws(b)).unwrap_or(s.len())..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let nonzero = digits.iter().position(|&b| b != b'0');
    let v: u64 = match nonzero {
        None => 0,
        Some(p) if digits.len() - p > 4 => return None,
        Some(p) => std::str::from_utf8(&digits[p..]).ok()?.parse().ok()?,
    };
    if neg && v != 0 {
        return None;
    }
    u32::try_from(v).ok().filter(|&b| b <= max)
}

/// Extension (not in 8.2302): `is_in_subnet(ip, cidr)`, IPv4 and IPv6, as newer rsyslog:
/// true when `ip` and the network part of `cidr` (`addr/bits`, bits 0..=32 or 0..=128) are the
/// same family and agree in the first `bits` bits (host bits of `cidr` are ignored:
/// `is_in_subnet("10.1.2.3", "10.1.2.99/24")` is true). Anything invalid — an unparsable
/// address, no `/`, bad or out-of-range bits, an IPv4 address against an IPv6 network (also
/// `::ffff:a.b.c.d`) — is false.
pub fn is_in_subnet(ip: &[u8], cidr: &[u8]) -> bool {
    let (ip, cidr) = (c_str(ip), c_str(cidr));
    let Some(slash) = cidr.iter().position(|&b| b == b'/') else {
        return false;
    };
    // rsyslog copies the network part into an INET6_ADDRSTRLEN (46) buffer.
    if slash >= 46 {
        return false;
    }
    let (Some(addr), Some(net)) = (parse_ip(ip), parse_ip(&cidr[..slash])) else {
        return false;
    };
    let rest = &cidr[slash + 1..];
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let Some(bits) = parse_bits(rest, 32) else {
                return false;
            };
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let Some(bits) = parse_bits(rest, 128) else {
                return false;
            };
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Extension (not in 8.2302): `b64_decode(s)` as newer rsyslog decodes (standard alphabet,
/// `+` and `/`): space, `\t`, `\n`, `\r` are skipped anywhere; the first `=` ends the data
/// (what follows is ignored); a final group of 2 or 3 characters gives 1 or 2 bytes, a lone
/// trailing character is dropped; any other byte (`-`, `_`, `\v`, non-ASCII …) is invalid.
/// `None` when invalid — newer rsyslog then returns the empty string and sets no script error,
/// so a caller wanting rsyslog's value uses `unwrap_or_default()`. An input that holds less
/// than one byte before its trailing `=` (`""`, `"="`, `"Q"`, `"Q==="`) is `Some(vec![])`,
/// whatever its characters (rsyslog checks the predicted length first: `"*"` is `Some([])`).
/// The decoded bytes may contain NUL and invalid UTF-8.
pub fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = c_str(s);
    // rsyslog first predicts the length from the input minus trailing '=' and returns "" when
    // that is 0, before looking at the characters.
    let trimmed = s.len() - s.iter().rev().take_while(|&&b| b == b'=').count();
    if trimmed * 3 / 4 == 0 {
        return Some(Vec::new());
    }
    let mut out = Vec::with_capacity(trimmed * 3 / 4);
    let mut buf: u32 = 0;
    let mut n = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'=' => break,
            _ => return None,
        };
        buf = buf << 6 | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(buf >> 16) as u8, (buf >> 8) as u8, buf as u8]);
            buf = 0;
            n = 0;
        }
    }
    match n {
        3 => out.extend_from_slice(&[(buf >> 10) as u8, (buf >> 2) as u8]),
        2 => out.push((buf >> 4) as u8),
        _ => {}
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_2026: i64 = 1_795_428_000; // 2026-11-23T10:00:00Z

    #[test]
    fn str2num_is_rsyslogs() {
        assert_eq!(str2num(b""), (0, true));
        assert_eq!(str2num(b"-"), (0, true));
        assert_eq!(str2num(b"-12"), (-12, true));
        assert_eq!(str2num(b"12x"), (12, false));
        assert_eq!(str2num(b" 1"), (0, false));
        assert_eq!(str2num(b"+1"), (0, false));
        assert_eq!(str2num(b"0012"), (12, true));
    }

    #[test]
    fn format_time_both_formats_in_utc() {
        assert_eq!(format_time(0, b"date-rfc3339"), b"1970-01-01T00:00:00Z");
        assert_eq!(format_time(1507165811, b"date-rfc3164"), b"Oct  5 01:10:11");
        assert_eq!(
            format_time(1700000000, b"date-rfc3339"),
            b"2023-11-14T22:13:20Z"
        );
        assert_eq!(format_time(-1, b"date-rfc3164"), b"Dec 31 23:59:59");
        assert_eq!(format_time(-1, b"date-rfc3339"), b"1969-12-31T23:59:59Z");
        assert_eq!(
            format_time(951782400, b"date-rfc3339"),
            b"2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_time(253402300800, b"date-rfc3339"),
            b"10000-01-01T00:00:00Z"
        );
        assert_eq!(
            format_time(-62167219200, b"date-rfc3339"),
            b"0-01-01T00:00:00Z"
        );
        assert_eq!(
            format_time(-62167219201, b"date-rfc3339"),
            b"-1-12-31T23:59:59Z"
        );
    }

    #[test]
    fn format_time_fallbacks() {
        assert_eq!(
            format_time(i64::MAX, b"date-rfc3339"),
            i64::MAX.to_string().as_bytes()
        );
        assert_eq!(format_time(5, b"bogus"), b"5");
        assert_eq!(format_time_str(b"abc", b"date-rfc3339"), b"abc");
        assert_eq!(format_time_str(b"12x", b"date-rfc3164"), b"12x");
        assert_eq!(
            format_time_str(b"", b"date-rfc3339"),
            b"1970-01-01T00:00:00Z"
        );
        assert_eq!(
            format_time_str(b"-", b"date-rfc3339"),
            b"1970-01-01T00:00:00Z"
        );
        assert_eq!(
            format_time_str(b"0086400", b"date-rfc3339"),
            b"1970-01-02T00:00:00Z"
        );
        assert_eq!(
            format_time_str(&[b'x'; 100], b"date-rfc3339"),
            vec![b'x'; 63]
        );
        assert_eq!(format_time_str(b"0012", b"bogus"), b"0012");
        assert_eq!(format_time_str(b"a\0b", b"date-rfc3339"), b"a");
    }

    #[test]
    fn parse_time_rfc3339() {
        assert_eq!(parse_time_at(b"2023-11-14T22:13:20Z", 0), Some(1700000000));
        assert_eq!(
            parse_time_at(b"2023-11-14T23:13:20+01:00", 0),
            Some(1700000000)
        );
        assert_eq!(
            parse_time_at(b"2023-11-14T21:13:20.123456-01:00", 0),
            Some(1700000000)
        );
        assert_eq!(
            parse_time_at(b"2023-11-14T22:13:20Z trailing", 0),
            Some(1700000000)
        );
        assert_eq!(parse_time_at(b"2023-11-14T22:13:20.Z", 0), Some(1700000000));
        assert_eq!(parse_time_at(b"2023-2-31T0:0:0Z", 0), Some(1677801600)); // = Mar 3
        assert_eq!(parse_time_at(b"2000-03-01T00:00:00Z", 0), Some(951868800));
        assert_eq!(parse_time_at(b"2023-11-14T22:13:60Z", 0), Some(1700000040));
        assert_eq!(parse_time_at(b"1969-12-31T23:59:59Z", 0), Some(0));
        assert_eq!(parse_time_at(b"-01-01T00:00:00Z", 0), Some(0));
        assert_eq!(parse_time_at(b"2100-01-01T00:00:00Z", NOV_2026), None);
        assert_eq!(parse_time_at(b"2023-11-14T22:13:20", 0), None);
        assert_eq!(parse_time_at(b"2023-11-14T22:13:20Zx", 0), None);
        assert_eq!(parse_time_at(b"2023-11-14T22:13:20+01", 0), None);
        assert_eq!(parse_time_at(b"2023-13-14T22:13:20Z", 0), None);
        assert_eq!(parse_time_at(b"2023-11-14 22:13:20Z", 0), None);
    }

    #[test]
    fn parse_time_rfc3164_guesses_the_year() {
        assert_eq!(parse_time_at(b"Nov 23 10:00:00", NOV_2026), Some(NOV_2026));
        assert_eq!(parse_time_at(b"nov 23 10:00:00", NOV_2026), Some(NOV_2026));
        assert_eq!(
            parse_time_at(b"Nov 23 10:00:00.123: rest", NOV_2026),
            Some(NOV_2026)
        );
        // A written year is replaced by the guess.
        assert_eq!(
            parse_time_at(b"Nov 23 2001 10:00:00", NOV_2026),
            Some(NOV_2026)
        );
        assert_eq!(
            parse_time_at(b"2001 Nov 23 10:00:00 x", NOV_2026),
            Some(NOV_2026)
        );
        // The quirk: a leading year without anything after the time fails.
        assert_eq!(parse_time_at(b"2001 Nov 23 10:00:00", NOV_2026), None);
        // December (now) → January is next year; two months ahead is last year.
        assert_eq!(
            parse_time_at(b"Jan  1 00:00:00", 1796083200 + 86400 * 20),
            Some(1798761600)
        );
        assert_eq!(
            parse_time_at(b"Dec  1 00:00:00", NOV_2026),
            Some(1796083200)
        );
        assert_eq!(
            parse_time_at(b"Jan  5 00:00:00", NOV_2026),
            Some(1767571200)
        );
        assert_eq!(estimate_year(2026, 11, 12), 2026);
        assert_eq!(estimate_year(2026, 11, 1), 2026);
        assert_eq!(estimate_year(2026, 1, 3), 2025);
        assert_eq!(estimate_year(2026, 12, 1), 2027);
        assert_eq!(parse_time_at(b"Nov 23 10:00", NOV_2026), None);
        assert_eq!(parse_time_at(b"Nov 23 10:00:00x", NOV_2026), None);
        assert_eq!(parse_time_at(b"Foo 23 10:00:00", NOV_2026), None);
        assert_eq!(parse_time_at(b"", NOV_2026), None);
        assert_eq!(
            parse_time_at(b"Nov 23 10:00:00\0junk", NOV_2026),
            Some(NOV_2026)
        );
        assert!(parse_time(b"2023-11-14T22:13:20Z") == Some(1700000000));
    }

    #[test]
    fn is_time_formats() {
        assert!(is_time(b"Nov 23 10:00:00", None));
        assert!(is_time(b"2023-11-14T22:13:20Z", None));
        assert!(is_time(b"1700000000", None));
        assert!(is_time(b"-5", None));
        assert!(is_time(b"", None));
        assert!(is_time(b"-", Some(b"date-unix")));
        assert!(!is_time(b"1.5", None));
        assert!(!is_time(b"abc", None));
        assert!(!is_time(b"2023-11-14T22:13:20Z", Some(b"date-rfc3164")));
        assert!(is_time(b"2023-11-14T22:13:20Z", Some(b"date-rfc3339")));
        assert!(!is_time(b"Nov 23 10:00:00", Some(b"date-unix")));
        assert!(!is_time(b"1700000000", Some(b"bogus")));
        assert!(!is_time(b"1700000000", Some(b"")));
        assert!(is_time_typed(b"{\"a\":1}", Some(b"date-unix"), true));
        assert!(is_time_typed(b"{\"a\":1}", None, true));
    }

    #[test]
    fn wrap_and_replace() {
        assert_eq!(wrap(b"foo bar", b"##", None), b"##foo bar##");
        assert_eq!(wrap(b"foo'bar", b"'", Some(b"_")), b"'foo_bar'");
        assert_eq!(wrap(b"abc", b"", Some(b"X")), b"XaXbXcX");
        assert_eq!(wrap(b"", b"", Some(b"X")), b"X");
        assert_eq!(wrap(b"aXbXXc", b"X", Some(b"")), b"XabcX");
        assert_eq!(wrap(b"aaa", b"aa", Some(b"b")), b"aabaaa");
        assert_eq!(wrap(b"", b"'", None), b"''");
        assert_eq!(replace(b"abc", b"", b"Y"), b"YaYbYcY");
        assert_eq!(replace(b"ababa", b"aba", b"X"), b"Xba");
        assert_eq!(replace(b"aab", b"ab", b"X"), b"aX");
    }

    #[test]
    fn toupper_ascii_only() {
        assert_eq!(toupper(b"abc-XyZ 1"), b"ABC-XYZ 1");
        assert_eq!(toupper("grüße".as_bytes()), "GRüßE".as_bytes());
        assert_eq!(toupper(b""), b"");
    }

    #[test]
    fn cbool_values() {
        for f in [
            "",
            " ",
            "0",
            " 0\t",
            "no",
            "NO",
            "Off",
            "false",
            " FALSE \n",
        ] {
            assert_eq!(cbool(f.as_bytes()), 0, "{f:?}");
        }
        for t in ["1", "00", "0.0", "-0", "yes", "true", "x", "nope", "f", "2"] {
            assert_eq!(cbool(t.as_bytes()), 1, "{t:?}");
        }
        assert_eq!(cbool_num(0), 0);
        assert_eq!(cbool_num(-3), 1);
        assert_eq!(cbool_num(1), 1);
    }

    #[test]
    fn split_pieces() {
        let v = |x: &[&str]| x.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            split(b"error,warning,info", b","),
            v(&["error", "warning", "info"])
        );
        assert_eq!(
            split(b"item1::item2::item3", b"::"),
            v(&["item1", "item2", "item3"])
        );
        assert_eq!(split(b"", b","), v(&[""]));
        assert_eq!(split(b"a,b,", b","), v(&["a", "b", ""]));
        assert_eq!(split(b",a,b", b","), v(&["", "a", "b"]));
        assert_eq!(split(b"a,,b", b","), v(&["a", "", "b"]));
        assert_eq!(split(b"abc", b","), v(&["abc"]));
        assert_eq!(split(b"abc", b""), v(&[]));
        assert_eq!(split(b"aaa", b"aa"), v(&["", "a"]));
        assert_eq!(split(b",", b","), v(&["", ""]));
    }

    #[test]
    fn subnets() {
        assert!(is_in_subnet(b"192.168.1.7", b"192.168.0.0/16"));
        assert!(!is_in_subnet(b"192.169.1.7", b"192.168.0.0/16"));
        assert!(is_in_subnet(b"10.1.2.3", b"10.1.2.99/24"));
        assert!(is_in_subnet(b"1.2.3.4", b"0.0.0.0/0"));
        assert!(is_in_subnet(b"1.2.3.4", b"1.2.3.4/32"));
        assert!(!is_in_subnet(b"1.2.3.5", b"1.2.3.4/32"));
        assert!(is_in_subnet(b"1.2.3.4", b"1.2.3.0/ 24"));
        assert!(is_in_subnet(b"1.2.3.4", b"1.2.3.0/+24"));
        assert!(is_in_subnet(b"9.9.9.9", b"1.2.3.0/-0"));
        assert!(is_in_subnet(b"1.2.3.4", b"1.2.3.0/0024"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0/33"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0/-1"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0/"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0/24 "));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3/24"));
        assert!(!is_in_subnet(b"01.2.3.4", b"1.2.3.0/24"));
        assert!(!is_in_subnet(b"1.2.3.4 ", b"1.2.3.0/24"));
        assert!(!is_in_subnet(b"host", b"1.2.3.0/24"));
        assert!(!is_in_subnet(b"", b""));
        assert!(is_in_subnet(b"2001:db8::1", b"2001:db8::/32"));
        assert!(is_in_subnet(b"2001:DB8:ffff::1", b"2001:db8::/32"));
        assert!(!is_in_subnet(b"2001:db9::1", b"2001:db8::/32"));
        assert!(is_in_subnet(b"::1", b"::1/128"));
        assert!(is_in_subnet(b"fe80::1", b"fe80::/10"));
        assert!(is_in_subnet(b"febf::1", b"fe80::/10"));
        assert!(!is_in_subnet(b"fec0::1", b"fe80::/10"));
        assert!(!is_in_subnet(b"::1", b"::1/129"));
        assert!(is_in_subnet(b"::ffff:1.2.3.4", b"::ffff:1.2.3.0/120"));
        assert!(!is_in_subnet(b"1.2.3.4", b"::ffff:1.2.3.0/120"));
        assert!(!is_in_subnet(b"::ffff:1.2.3.4", b"1.2.3.0/24"));
        assert!(!is_in_subnet(b"fe80::1%eth0", b"fe80::/10"));
        assert!(!is_in_subnet(b"[::1]", b"::/0"));
        assert!(!is_in_subnet(b"1.2.3.4", b"1.2.3.0/99999999999999999999"));
    }

    #[test]
    fn base64() {
        assert_eq!(b64_decode(b"aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(b64_decode(b"aGVsbG8gd29ybGQ").unwrap(), b"hello world");
        assert_eq!(
            b64_decode(b"aGVs\nbG8g d29y\r\n\tbGQ=").unwrap(),
            b"hello world"
        );
        assert_eq!(b64_decode(b"QUJD").unwrap(), b"ABC");
        assert_eq!(b64_decode(b"QUI=").unwrap(), b"AB");
        assert_eq!(b64_decode(b"QQ==").unwrap(), b"A");
        assert_eq!(b64_decode(b"QQ==QUJD").unwrap(), b"A");
        assert_eq!(b64_decode(b"QUJDR").unwrap(), b"ABC");
        assert_eq!(b64_decode(b"AP8=").unwrap(), [0u8, 255]);
        assert_eq!(b64_decode(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(b64_decode(b"").unwrap(), b"");
        assert_eq!(b64_decode(b"=").unwrap(), b"");
        assert_eq!(b64_decode(b"Q").unwrap(), b"");
        assert_eq!(b64_decode(b"Q===").unwrap(), b"");
        assert_eq!(b64_decode(b"*").unwrap(), b"");
        assert_eq!(b64_decode(b"-_-_"), None);
        assert_eq!(b64_decode(b"QU\x0bJD"), None);
        assert_eq!(b64_decode("QUJDé".as_bytes()), None);
        assert_eq!(b64_decode(b"QU*D"), None);
    }
}
