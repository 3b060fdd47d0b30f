//! Timestamp parsing as rsyslog 8.2302 does it (runtime/datetime.c, `ParseTIMESTAMP3339` and
//! `ParseTIMESTAMP3164`), including its leniencies and its quirks.
//!
//! Both parsers work on a [`Cursor`]: a position in a byte buffer plus a *remaining length*
//! that is tracked separately, exactly as rsyslog tracks `lenStr` beside its pointer. The two
//! usually agree, but not always (a prepended year in a 3164 timestamp leaves the length one
//! too large, see [`parse_rfc3164`]); reading past the end of the buffer yields NUL, as the C
//! code reads the string terminator there. On success the cursor is moved past the timestamp
//! (and the SP after it); on failure it is left untouched.

use crate::message::SyslogTime;

/// A parse position: `pos` indexes `buf`, `len` is rsyslog's remaining-length counter.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    pub len: i32,
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf[pos..]` whose length agrees with the buffer.
    pub fn new(buf: &'a [u8], pos: usize) -> Cursor<'a> {
        let len = buf.len().saturating_sub(pos).min(i32::MAX as usize) as i32;
        Cursor { buf, pos, len }
    }

    /// The byte `off` places ahead; NUL past the end (the C string terminator).
    #[inline]
    pub fn at(&self, off: usize) -> u8 {
        self.buf.get(self.pos + off).copied().unwrap_or(0)
    }

    #[inline]
    fn cur(&self) -> u8 {
        self.at(0)
    }

    /// `srSLMGParseInt32`: digits while `len > 0`, stopping before `i` would overflow.
    /// No digit at all yields 0 (so an empty number is accepted as zero).
    fn int(&mut self) -> i32 {
        let mut i: i32 = 0;
        while self.len > 0 && self.cur().is_ascii_digit() && i < i32::MAX / 10 - 1 {
            i = i * 10 + (self.cur() - b'0') as i32;
            self.pos += 1;
            self.len -= 1;
        }
        i
    }

    /// `*p++ == c` (the pointer advances even when it does not match; callers abort then).
    #[inline]
    fn take(&mut self, c: u8) -> bool {
        let ok = self.cur() == c;
        self.pos += 1;
        ok
    }
}

/// RFC 3339 timestamp (`ParseTIMESTAMP3339`): `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, then
/// SP or the end. Lenient as rsyslog is: numbers of any width (`2003-9-1T1:0:0Z`), an empty
/// number reads as 0 (so an empty hour is hour 0), year 0..2099, second up to 60. The time
/// zone is mandatory. `Z` is kept as offset mode `b'Z'` so that it can be printed back as `Z`.
pub fn parse_rfc3339(c: &mut Cursor) -> Option<SyslogTime> {
    let mut p = *c;
    let year = p.int();
    if p.len == 0 || !p.take(b'-') || !(0..2100).contains(&year) {
        return None;
    }
    p.len -= 1;
    let month = p.int();
    if !(1..=12).contains(&month) {
        return None;
    }
    if p.len == 0 || !p.take(b'-') {
        return None;
    }
    p.len -= 1;
    let day = p.int();
    if !(1..=31).contains(&day) {
        return None;
    }
    if p.len == 0 || !p.take(b'T') {
        return None;
    }
    p.len -= 1;
    let hour = p.int();
    if !(0..=23).contains(&hour) {
        return None;
    }
    if p.len == 0 || !p.take(b':') {
        return None;
    }
    p.len -= 1;
    let minute = p.int();
    if !(0..=59).contains(&minute) {
        return None;
    }
    if p.len == 0 || !p.take(b':') {
        return None;
    }
    p.len -= 1;
    let second = p.int();
    if !(0..=60).contains(&second) {
        return None;
    }
    let (secfrac, prec) = secfrac(&mut p);
    if p.len == 0 {
        return None;
    }
    let (mode, oh, om);
    match p.cur() {
        b'Z' => {
            p.len -= 1;
            p.pos += 1;
            mode = b'Z';
            oh = 0;
            om = 0;
        }
        m @ (b'+' | b'-') => {
            mode = m;
            p.len -= 1;
            p.pos += 1;
            oh = p.int();
            if !(0..=23).contains(&oh) {
                return None;
            }
            if p.len == 0 || p.cur() != b':' {
                return None;
            }
            p.len -= 1;
            p.pos += 1;
            om = p.int();
            if !(0..=59).contains(&om) {
                return None;
            }
        }
        _ => return None,
    }
    if p.len > 0 {
        if p.cur() != b' ' {
            return None;
        }
        p.pos += 1;
        p.len -= 1;
    }
    *c = p;
    Some(SyslogTime {
        time_type: 2,
        year: year as i16,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        secfrac: secfrac as u32,
        secfrac_precision: prec,
        offset_mode: mode,
        offset_hour: oh as u8,
        offset_minute: om as u8,
    })
}

/// `.digits` after the seconds: the value and the number of digits read (0 digits is allowed).
fn secfrac(p: &mut Cursor) -> (i32, u8) {
    if p.len > 0 && p.cur() == b'.' {
        p.len -= 1;
        p.pos += 1;
        let start = p.pos;
        let v = p.int();
        (v, (p.pos - start) as u8)
    } else {
        (0, 0)
    }
}

/// Month abbreviation, case-insensitive, three letters (reads NUL past the end, which fails).
fn month(p: &mut Cursor) -> Option<i32> {
    let a = p.at(0).to_ascii_lowercase();
    let b = p.at(1).to_ascii_lowercase();
    let c = p.at(2).to_ascii_lowercase();
    let m = match (a, b, c) {
        (b'j', b'a', b'n') => 1,
        (b'f', b'e', b'b') => 2,
        (b'm', b'a', b'r') => 3,
        (b'a', b'p', b'r') => 4,
        (b'm', b'a', b'y') => 5,
        (b'j', b'u', b'n') => 6,
        (b'j', b'u', b'l') => 7,
        (b'a', b'u', b'g') => 8,
        (b's', b'e', b'p') => 9,
        (b'o', b'c', b't') => 10,
        (b'n', b'o', b'v') => 11,
        (b'd', b'e', b'c') => 12,
        _ => return None,
    };
    p.pos += 3;
    Some(m)
}

/// RFC 3164 timestamp (`ParseTIMESTAMP3164` without TZ-string parsing, which only
/// specialised parsers enable): `[YYYY ]Mmm [ ]d[d] [YYYY ]hh:mm:ss[.frac][ YYYY][:]`, then
/// SP or the end.
///
/// * the month is case-insensitive; a double space before a 1-digit day and a 1-digit day
///   are both accepted; an empty number reads as 0 (`Jan  1 ::` is midnight);
/// * a year in front (Brocade) must be 1970..=2100 and followed by SP. rsyslog skips that SP
///   without counting it, so the remaining length stays one too large: a timestamp that ends
///   the message then fails, and the caller receives the inflated length (mirrored here);
/// * a year in place of the hour (`Mar  7 2008 19:06:53`, Cisco) when it is in 1971..=2099;
/// * `detect_year_after` (`detect.YearAfterTimestamp`): ` YYYY` after the time, 2000..2099;
/// * one `:` right after the time is skipped (Cisco).
///
/// Fields the text does not give keep their value from `base` (the reception time): the
/// year (unless one was found) and the UTC offset. `time_type` becomes 1.
pub fn parse_rfc3164(
    c: &mut Cursor,
    base: &SyslogTime,
    detect_year_after: bool,
) -> Option<SyslogTime> {
    let mut p = *c;
    if p.len < 3 {
        return None;
    }
    let mut year = 0;
    if p.cur().is_ascii_digit() {
        year = p.int();
        if !(1970..=2100).contains(&year) || p.cur() != b' ' {
            return None;
        }
        p.pos += 1; // the SP, deliberately not counted in `len` (rsyslog does the same)
    }
    let month = month(&mut p)?;
    p.len -= 3;
    if p.len == 0 || !p.take(b' ') {
        return None;
    }
    p.len -= 1;
    if p.cur() == b' ' {
        p.len -= 1;
        p.pos += 1;
    }
    let day = p.int();
    if !(1..=31).contains(&day) {
        return None;
    }
    if p.len == 0 || !p.take(b' ') {
        return None;
    }
    p.len -= 1;
    let mut hour = p.int();
    if year == 0 && hour > 1970 && hour < 2100 {
        year = hour;
        if p.len == 0 || !p.take(b' ') {
            return None;
        }
        p.len -= 1;
        hour = p.int();
    }
    if !(0..=23).contains(&hour) {
        return None;
    }
    if p.len == 0 || !p.take(b':') {
        return None;
    }
    p.len -= 1;
    let minute = p.int();
    if !(0..=59).contains(&minute) {
        return None;
    }
    if p.len == 0 || !p.take(b':') {
        return None;
    }
    p.len -= 1;
    let second = p.int();
    if !(0..=60).contains(&second) {
        return None;
    }
    let (secfrac, prec) = secfrac(&mut p);
    if detect_year_after && year == 0 && p.len > 5 && p.cur() == b' ' {
        let mut y = 0;
        for j in 1..5 {
            let d = p.at(j);
            if !d.is_ascii_digit() {
                break;
            }
            y = 10 * y + (d - b'0') as i32;
        }
        if p.len > 6 && p.at(5) != b' ' {
            y = 0;
        }
        if (2000..2100).contains(&y) {
            year = y;
            p.pos += 5; // the SP after the year is checked below
            p.len -= 5;
        }
    }
    if p.len > 0 && p.cur() == b':' {
        p.pos += 1;
        p.len -= 1;
    }
    if p.len > 0 {
        if p.cur() != b' ' {
            return None;
        }
        p.pos += 1;
        p.len -= 1;
    }
    *c = p;
    let mut t = *base;
    t.time_type = 1;
    t.month = month as u8;
    if year > 0 {
        t.year = year as i16;
    }
    t.day = day as u8;
    t.hour = hour as u8;
    t.minute = minute as u8;
    t.second = second as u8;
    t.secfrac = secfrac as u32;
    t.secfrac_precision = prec;
    Some(t)
}

/// `applyDfltTZ`: an input's `defaultTZ="+hh:mm"` read positionally, as rsyslog does
/// (`[mode, h1, h2, :, m1, m2]`). Returns `(mode, hour, minute)`; `None` when shorter than 6.
pub fn parse_default_tz(tz: &str) -> Option<(u8, u8, u8)> {
    let b = tz.as_bytes();
    if b.len() < 6 {
        return None;
    }
    let d = |x: u8| x.wrapping_sub(b'0');
    Some((
        b[0],
        d(b[1]).wrapping_mul(10).wrapping_add(d(b[2])),
        d(b[4]).wrapping_mul(10).wrapping_add(d(b[5])),
    ))
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
            secfrac: 123456,
            secfrac_precision: 6,
            offset_mode: b'+',
            offset_hour: 2,
            offset_minute: 0,
        }
    }

    fn p3339(s: &str) -> Option<(SyslogTime, usize, i32)> {
        let mut c = Cursor::new(s.as_bytes(), 0);
        parse_rfc3339(&mut c).map(|t| (t, c.pos, c.len))
    }

    fn p3164(s: &str, yat: bool) -> Option<(SyslogTime, usize, i32)> {
        let mut c = Cursor::new(s.as_bytes(), 0);
        parse_rfc3164(&mut c, &base(), yat).map(|t| (t, c.pos, c.len))
    }

    #[test]
    fn rfc3339_basic_and_rest() {
        let (t, pos, len) = p3339("2003-10-11T22:14:15.003Z host").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2003, 10, 11, 22, 14, 15)
        );
        assert_eq!(
            (t.secfrac, t.secfrac_precision, t.offset_mode),
            (3, 3, b'Z')
        );
        assert_eq!((pos, len), (25, 4));
        let (t, ..) = p3339("2003-08-24T05:14:15.000003-07:00").unwrap();
        assert_eq!((t.secfrac, t.secfrac_precision), (3, 6));
        assert_eq!(
            (t.offset_mode, t.offset_hour, t.offset_minute),
            (b'-', 7, 0)
        );
    }

    #[test]
    fn rfc3339_lenient_and_invalid() {
        assert!(p3339("2003-9-1T1:0:0+01:00").is_some());
        assert!(
            p3339("2003-09-01T:00:00Z").is_some(),
            "empty hour reads as 0"
        );
        assert!(p3339("2100-01-01T00:00:00Z").is_none(), "year >= 2100");
        assert!(p3339("2003-13-01T00:00:00Z").is_none());
        assert!(p3339("2003-01-01T00:00:00").is_none(), "TZ is mandatory");
        assert!(p3339("2003-01-01T00:00:00Zx").is_none(), "must end in SP");
        assert!(p3339("2003-01-01T00:00:00+01").is_none());
        assert!(p3339("2003-01-01T24:00:00Z").is_none());
        assert!(p3339("2003-01-01T23:00:60Z").is_some(), "leap second");
        assert!(p3339("Jan  1 00:00:00").is_none());
        let (t, ..) = p3339("2003-01-01T00:00:00.Z").unwrap();
        assert_eq!(t.secfrac_precision, 0);
    }

    #[test]
    fn rfc3164_variants() {
        let (t, pos, len) = p3164("Oct 11 22:14:15 host", false).unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.time_type),
            (2024, 10, 11, 22, 1)
        );
        assert_eq!(
            (t.offset_mode, t.offset_hour, t.secfrac_precision),
            (b'+', 2, 0)
        );
        assert_eq!((pos, len), (16, 4));
        assert_eq!(p3164("Oct  1 22:14:15 x", false).unwrap().0.day, 1);
        assert_eq!(p3164("Oct 1 22:14:15 x", false).unwrap().0.day, 1);
        assert_eq!(p3164("oCT 01 22:14:15", false).unwrap().0.month, 10);
        let (t, ..) = p3164("Mar  7 2008 19:06:53: x", false).unwrap();
        assert_eq!((t.year, t.hour), (2008, 19));
        let (t, ..) = p3164("Mar  7 19:06:53.123: x", false).unwrap();
        assert_eq!((t.secfrac, t.secfrac_precision), (123, 3));
        let (t, pos, _) = p3164("Jan  1 00:00:00 2019 host", true).unwrap();
        assert_eq!((t.year, pos), (2019, 21));
        let (t, ..) = p3164("Jan  1 00:00:00 2019 host", false).unwrap();
        assert_eq!(t.year, 2024);
        assert!(p3164("Jan  1 00:00:00x", false).is_none());
        assert!(p3164("Jan 32 00:00:00", false).is_none());
        assert!(p3164("Jun  1 24:00:00", false).is_none());
        assert!(p3164("Jux  1 00:00:00", false).is_none());
        assert!(p3164("Ja", false).is_none());
        assert!(
            p3164("Jan  1 ::", false).is_some(),
            "empty numbers read as 0"
        );
    }

    #[test]
    fn rfc3164_year_in_front_keeps_inflated_length() {
        let (t, pos, len) = p3164("2019 Jan  1 00:00:00 host", false).unwrap();
        assert_eq!((t.year, pos), (2019, 21));
        assert_eq!(
            len, 5,
            "one more than the 4 bytes really left, as in rsyslog"
        );
        assert!(
            p3164("2019 Jan  1 00:00:00", false).is_none(),
            "fails at the very end"
        );
        assert!(p3164("1969 Jan  1 00:00:00 x", false).is_none());
    }

    #[test]
    fn cursor_untouched_on_failure() {
        let mut c = Cursor::new(b"Jan  1 00:00:0x", 0);
        assert!(parse_rfc3164(&mut c, &base(), false).is_none());
        assert_eq!((c.pos, c.len), (0, 15));
    }

    #[test]
    fn default_tz() {
        assert_eq!(parse_default_tz("-05:30"), Some((b'-', 5, 30)));
        assert_eq!(parse_default_tz("+01"), None);
    }
}
