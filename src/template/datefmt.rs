//! Date formats of the property replacer, as rsyslog 8.2302's runtime/datetime.c and the
//! `getTimeReported` / `getTimeUTC` switch in runtime/msg.c produce them — including their
//! quirks (kept on purpose, output must match byte for byte):
//! - `date-ordinal` shifts by one second for `+` offsets (`utcOffset += -1` where `*= -1`
//!   was meant), and so does `date-week`, which builds on it;
//! - a `Z` offset counts as "not `+`": `date-tzoffsdirection` prints `-` for it;
//! - `date-utc` converts through a Unix time and keeps the fraction's raw integer with
//!   precision 6 (`.003` at precision 3 becomes `.000003`), and prints `+00:00`, never `Z`;
//! - `date-unixtimestamp` is 0 for years outside 1970–2100 and printed as unsigned 32-bit.

use crate::message::SyslogTime;

/// A `date-*` option / `dateFormat=` value (template.h `tplFormatTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateFmt {
    #[default]
    Default,
    MySql,
    Rfc3164,
    Rfc3164Buggy,
    Rfc3339,
    PgSql,
    SecFrac,
    Unix,
    WDayName,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    TzOffsHour,
    TzOffsMin,
    TzOffsDirection,
    WDay,
    Ordinal,
    Week,
    IsoWeek,
    IsoWeekYear,
}

impl DateFmt {
    /// `dateFormat=` of `property()` (8.2302 knows no iso-week forms there).
    pub fn from_list_name(s: &str) -> Option<DateFmt> {
        Some(match s {
            "mysql" => DateFmt::MySql,
            "pgsql" => DateFmt::PgSql,
            "rfc3164" => DateFmt::Rfc3164,
            "rfc3164-buggyday" => DateFmt::Rfc3164Buggy,
            "rfc3339" => DateFmt::Rfc3339,
            "unixtimestamp" => DateFmt::Unix,
            "subseconds" => DateFmt::SecFrac,
            "wdayname" => DateFmt::WDayName,
            "wday" => DateFmt::WDay,
            "year" => DateFmt::Year,
            "month" => DateFmt::Month,
            "day" => DateFmt::Day,
            "hour" => DateFmt::Hour,
            "minute" => DateFmt::Minute,
            "second" => DateFmt::Second,
            "tzoffshour" => DateFmt::TzOffsHour,
            "tzoffsmin" => DateFmt::TzOffsMin,
            "tzoffsdirection" => DateFmt::TzOffsDirection,
            "ordinal" => DateFmt::Ordinal,
            "week" => DateFmt::Week,
            _ => return None,
        })
    }

    /// A `date-…` option of the string form (already lower-cased), without `date-utc`.
    pub fn from_option(s: &str) -> Option<DateFmt> {
        Some(match s {
            "date-mysql" => DateFmt::MySql,
            "date-pgsql" => DateFmt::PgSql,
            "date-rfc3164" => DateFmt::Rfc3164,
            "date-rfc3164-buggyday" => DateFmt::Rfc3164Buggy,
            "date-rfc3339" => DateFmt::Rfc3339,
            "date-unixtimestamp" => DateFmt::Unix,
            "date-subseconds" => DateFmt::SecFrac,
            "date-wdayname" => DateFmt::WDayName,
            "date-wday" => DateFmt::WDay,
            "date-year" => DateFmt::Year,
            "date-month" => DateFmt::Month,
            "date-day" => DateFmt::Day,
            "date-hour" => DateFmt::Hour,
            "date-minute" => DateFmt::Minute,
            "date-second" => DateFmt::Second,
            "date-tzoffshour" => DateFmt::TzOffsHour,
            "date-tzoffsmin" => DateFmt::TzOffsMin,
            "date-tzoffsdirection" => DateFmt::TzOffsDirection,
            "date-ordinal" => DateFmt::Ordinal,
            "date-week" => DateFmt::Week,
            "date-iso-week" => DateFmt::IsoWeek,
            "date-iso-week-year" => DateFmt::IsoWeekYear,
            _ => return None,
        })
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const WDAYS: [&[u8]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const TEN_POWERS: [i32; 6] = [1, 10, 100, 1000, 10000, 100000];

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn start_of_year(year: i64) -> i64 {
    days_from_civil(year, 1, 1) * 86400
}

/// rsyslog's `syslogTime2time_t`: 0 for years outside 1970–2100; a month outside 1–12
/// counts as January.
pub fn to_unix(t: &SyslogTime) -> i64 {
    let year = t.year as i64;
    if !(1970..=2100).contains(&year) {
        return 0;
    }
    const MONTH_DAYS: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let mut month_days = if (1..=12).contains(&t.month) {
        MONTH_DAYS[t.month as usize - 1]
    } else {
        0
    };
    if ((year % 100 != 0 && year % 4 == 0) || year == 2000) && t.month > 2 {
        month_days += 1;
    }
    let mut secs = start_of_year(year) + (month_days + t.day as i64 - 1) * 86400;
    secs += t.hour as i64 * 3600 + t.minute as i64 * 60 + t.second as i64;
    let mut off = t.offset_hour as i64 * 3600 + t.offset_minute as i64 * 60;
    if t.offset_mode == b'+' {
        off = -off;
    }
    secs + off
}

/// `getWeekdayNbr`: 0 = Sunday.
pub fn weekday(t: &SyslogTime) -> i64 {
    let (g, f) = if t.month < 3 {
        (t.year as i64 - 1, t.month as i64 + 13)
    } else {
        (t.year as i64, t.month as i64 + 1)
    };
    ((36525 * g) / 100 + (306 * f) / 10 + t.day as i64 - 621049).rem_euclid(7)
}

/// `getOrdinal`: 0-based day of the year, with rsyslog's offset arithmetic.
pub fn ordinal(t: &SyslogTime) -> i64 {
    let year = t.year as i64;
    if !(1970..=2100).contains(&year) {
        return 0;
    }
    let this = to_unix(t);
    let mut previous = start_of_year(year) - 1;
    let mut off = t.offset_hour as i64 * 3600 + t.offset_minute as i64 * 60;
    if t.offset_mode == b'+' {
        off += -1;
    }
    previous += off;
    (this - previous) / 86400
}

/// `getWeek`.
pub fn week(t: &SyslogTime) -> i64 {
    let jan1 = SyslogTime {
        time_type: 1,
        year: t.year,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        secfrac: 0,
        secfrac_precision: 0,
        offset_mode: t.offset_mode,
        offset_hour: t.offset_hour,
        offset_minute: t.offset_minute,
    };
    let mut w = (ordinal(t) + 6) / 7;
    if weekday(t) < weekday(&jan1) {
        w += 1;
    }
    w
}

/// Number of ISO 8601 weeks of a year (52 or 53).
fn iso_weeks_in_year(y: i64) -> i64 {
    let jan1 = (days_from_civil(y, 1, 1) + 4).rem_euclid(7); // 0 = Sunday
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if jan1 == 4 || (leap && jan1 == 3) {
        53
    } else {
        52
    }
}

/// `getISOWeek`: (week, week-based year).
pub fn iso_week(t: &SyslogTime) -> (i64, i64) {
    let mut dow = weekday(t);
    if dow == 0 {
        dow = 7;
    }
    let yday = ordinal(t) + 1;
    let w = (10 + yday - dow) / 7;
    let y = t.year as i64;
    if w == 0 {
        (iso_weeks_in_year(y - 1), y - 1)
    } else if w > iso_weeks_in_year(y) {
        (1, y + 1)
    } else {
        (w, y)
    }
}

/// `timeConvertToUTC`: through the Unix time; the fraction's integer is kept as
/// microseconds.
pub fn to_utc(t: &SyslogTime) -> SyslogTime {
    let secs = to_unix(t);
    let mut u = super::clock::utc_syslog_time(secs, 0);
    u.secfrac = t.secfrac;
    u
}

#[inline]
fn two(out: &mut Vec<u8>, v: i64) {
    let v = v.rem_euclid(100) as u8;
    out.push(b'0' + v / 10);
    out.push(b'0' + v % 10);
}

fn year4(out: &mut Vec<u8>, y: i64) {
    out.push(b'0' + ((y / 1000) % 10) as u8);
    out.push(b'0' + ((y / 100) % 10) as u8);
    out.push(b'0' + ((y / 10) % 10) as u8);
    out.push(b'0' + (y % 10) as u8);
}

fn secfrac_digits(out: &mut Vec<u8>, t: &SyslogTime) {
    let mut power = TEN_POWERS[((t.secfrac_precision as usize).wrapping_sub(1)) % 6];
    let mut frac = t.secfrac as i32;
    while power > 0 {
        let digit = frac.wrapping_div(power);
        frac = frac.wrapping_sub(digit.wrapping_mul(power));
        power /= 10;
        out.push((digit.wrapping_add(48)) as u8);
    }
}

/// `formatTimestamp3164`: `Mmm dd hh:mm:ss`, day space-padded unless `buggy`.
pub fn rfc3164(t: &SyslogTime, buggy: bool, out: &mut Vec<u8>) {
    let m = MONTHS[(t.month as i64 - 1).rem_euclid(12) as usize];
    let d1 = (t.day / 10) % 10;
    let two = |v: u8| [b'0' + v % 100 / 10, b'0' + v % 10];
    let (h, mi, s) = (two(t.hour), two(t.minute), two(t.second));
    // built on the stack and appended at once (every forwarded message renders one)
    out.extend_from_slice(&[
        m[0],
        m[1],
        m[2],
        b' ',
        if buggy || d1 > 0 { b'0' + d1 } else { b' ' },
        b'0' + t.day % 10,
        b' ',
        h[0],
        h[1],
        b':',
        mi[0],
        mi[1],
        b':',
        s[0],
        s[1],
    ]);
}

/// `YYYY-MM-DD<sep>HH:MM:SS`, shared by RFC 3339 and PgSQL dates.
fn date_time(t: &SyslogTime, sep: u8, out: &mut Vec<u8>) {
    year4(out, t.year as i64);
    out.push(b'-');
    two(out, t.month as i64);
    out.push(b'-');
    two(out, t.day as i64);
    out.push(sep);
    two(out, t.hour as i64);
    out.push(b':');
    two(out, t.minute as i64);
    out.push(b':');
    two(out, t.second as i64);
}

/// `formatTimestamp3339`.
pub fn rfc3339(t: &SyslogTime, out: &mut Vec<u8>) {
    date_time(t, b'T', out);
    if t.secfrac_precision > 0 {
        out.push(b'.');
        secfrac_digits(out, t);
    }
    if t.offset_mode == b'Z' {
        out.push(b'Z');
    } else {
        out.push(t.offset_mode);
        two(out, t.offset_hour as i64);
        out.push(b':');
        two(out, t.offset_minute as i64);
    }
}

fn push_num(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes a decimal number (helper shared with the property code).
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
        push_num(out, v.unsigned_abs());
    } else {
        push_num(out, v as u64);
    }
}

fn year_or_range(out: &mut Vec<u8>, y: i64) {
    if (1967..=2099).contains(&y) {
        push_i64(out, y);
    } else {
        out.extend_from_slice(b"YEAR OUT OF RANGE(1967-2099)");
    }
}

/// Writes `t` in format `fmt` (`Default` is RFC 3164, as rsyslog's default date format).
pub fn write(t: &SyslogTime, fmt: DateFmt, out: &mut Vec<u8>) {
    match fmt {
        DateFmt::Default | DateFmt::Rfc3164 => rfc3164(t, false, out),
        DateFmt::Rfc3164Buggy => rfc3164(t, true, out),
        DateFmt::Rfc3339 => rfc3339(t, out),
        DateFmt::MySql => {
            year4(out, t.year as i64);
            for v in [t.month, t.day, t.hour, t.minute, t.second] {
                two(out, v as i64);
            }
        }
        DateFmt::PgSql => date_time(t, b' ', out),
        DateFmt::SecFrac => {
            if t.secfrac_precision > 0 {
                secfrac_digits(out, t);
            } else {
                out.push(b'0');
            }
        }
        DateFmt::Unix => push_num(out, to_unix(t) as u32 as u64),
        DateFmt::WDayName => out.extend_from_slice(WDAYS[weekday(t) as usize]),
        DateFmt::WDay => out.push(b'0' + weekday(t) as u8),
        DateFmt::Year => year_or_range(out, t.year as i64),
        DateFmt::Month => two(out, t.month as i64),
        DateFmt::Day => two(out, t.day as i64),
        DateFmt::Hour => two(out, t.hour as i64),
        DateFmt::Minute => two(out, t.minute as i64),
        DateFmt::Second => two(out, t.second as i64),
        DateFmt::TzOffsHour => two(out, t.offset_hour as i64),
        DateFmt::TzOffsMin => two(out, t.offset_minute as i64),
        DateFmt::TzOffsDirection => out.push(if t.offset_mode == b'+' { b'+' } else { b'-' }),
        DateFmt::Ordinal => {
            let d = ordinal(t).clamp(0, 365) + 1;
            out.push(b'0' + (d / 100) as u8);
            two(out, d % 100);
        }
        DateFmt::Week => two(out, week(t)),
        DateFmt::IsoWeek | DateFmt::IsoWeekYear => {
            if (1970..=2099).contains(&(t.year as i64)) {
                let (w, y) = iso_week(t);
                if fmt == DateFmt::IsoWeek {
                    two(out, w);
                } else {
                    push_i64(out, y);
                }
            } else {
                out.extend_from_slice(b"YEAR OUT OF RANGE(1970-2099)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn ts(
        y: i16,
        mo: u8,
        d: u8,
        h: u8,
        mi: u8,
        s: u8,
        frac: u32,
        prec: u8,
        mode: u8,
        oh: u8,
        om: u8,
    ) -> SyslogTime {
        SyslogTime {
            time_type: 2,
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
            secfrac: frac,
            secfrac_precision: prec,
            offset_mode: mode,
            offset_hour: oh,
            offset_minute: om,
        }
    }

    fn f(t: &SyslogTime, fmt: DateFmt) -> String {
        let mut o = Vec::new();
        write(t, fmt, &mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn formats() {
        let t = ts(2003, 10, 1, 22, 14, 15, 3, 3, b'Z', 0, 0);
        assert_eq!(f(&t, DateFmt::Default), "Oct  1 22:14:15");
        assert_eq!(f(&t, DateFmt::Rfc3164Buggy), "Oct 01 22:14:15");
        assert_eq!(f(&t, DateFmt::Rfc3339), "2003-10-01T22:14:15.003Z");
        assert_eq!(f(&t, DateFmt::MySql), "20031001221415");
        assert_eq!(f(&t, DateFmt::PgSql), "2003-10-01 22:14:15");
        assert_eq!(f(&t, DateFmt::SecFrac), "003");
        assert_eq!(f(&t, DateFmt::Unix), "1065046455");
        assert_eq!(f(&t, DateFmt::WDayName), "Wed");
        assert_eq!(f(&t, DateFmt::WDay), "3");
        assert_eq!(f(&t, DateFmt::TzOffsDirection), "-");
        assert_eq!(f(&t, DateFmt::Year), "2003");
        let t = ts(2003, 10, 11, 22, 14, 15, 0, 0, b'-', 7, 30);
        assert_eq!(f(&t, DateFmt::Rfc3339), "2003-10-11T22:14:15-07:30");
        assert_eq!(f(&t, DateFmt::SecFrac), "0");
        assert_eq!(f(&t, DateFmt::Unix), "1065937455");
        let u = to_utc(&t);
        assert_eq!(f(&u, DateFmt::Rfc3339), "2003-10-12T05:44:15.000000+00:00");
        assert_eq!(
            f(&ts(1960, 1, 1, 0, 0, 0, 0, 0, b'+', 0, 0), DateFmt::Year),
            "YEAR OUT OF RANGE(1967-2099)"
        );
    }

    #[test]
    fn ordinal_and_weeks() {
        // 2021-01-01 is a Friday: ISO week 53 of 2020.
        let t = ts(2021, 1, 1, 12, 0, 0, 0, 0, b'-', 0, 0);
        assert_eq!(f(&t, DateFmt::Ordinal), "001");
        assert_eq!(f(&t, DateFmt::IsoWeek), "53");
        assert_eq!(f(&t, DateFmt::IsoWeekYear), "2020");
        let t = ts(2024, 12, 31, 12, 0, 0, 0, 0, b'-', 0, 0);
        assert_eq!(f(&t, DateFmt::Ordinal), "366");
        assert_eq!(f(&t, DateFmt::IsoWeek), "01");
        assert_eq!(f(&t, DateFmt::IsoWeekYear), "2025");
        assert_eq!(iso_weeks_in_year(1970), 53);
        assert_eq!(iso_weeks_in_year(1969), 52);
        assert_eq!(iso_weeks_in_year(1976), 53);
        assert_eq!(iso_weeks_in_year(2020), 53);
    }

    #[test]
    fn civil_roundtrip() {
        for d in [-1000, -1, 0, 1, 10957, 20000, 47482] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
