//! Wall-clock time as rsyslog's `syslogTime`: the current time in local time (with the
//! zone offset in effect) or UTC, with microseconds. Local time comes from the C library's
//! `localtime_r` (the same source rsyslog uses, so `TZ` and `/etc/localtime` behave alike).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::message::SyslogTime;

use super::datefmt::civil_from_days;

#[repr(C)]
struct Tm {
    tm_sec: i32,
    tm_min: i32,
    tm_hour: i32,
    tm_mday: i32,
    tm_mon: i32,
    tm_year: i32,
    tm_wday: i32,
    tm_yday: i32,
    tm_isdst: i32,
    tm_gmtoff: std::os::raw::c_long,
    tm_zone: *const std::os::raw::c_char,
}

extern "C" {
    fn localtime_r(t: *const i64, tm: *mut Tm) -> *mut Tm;
}

/// Current Unix time as (seconds, microseconds).
pub fn now_unix() -> (i64, u32) {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    }
}

/// `secs` in local time, as rsyslog's `timeval2syslogTime(…, inUTC=0)` builds it: precision 6,
/// offset from `tm_gmtoff`, type RFC 5424.
pub fn local_syslog_time(secs: i64, usec: u32) -> SyslogTime {
    let mut tm = Tm {
        tm_sec: 0,
        tm_min: 0,
        tm_hour: 0,
        tm_mday: 0,
        tm_mon: 0,
        tm_year: 0,
        tm_wday: 0,
        tm_yday: 0,
        tm_isdst: 0,
        tm_gmtoff: 0,
        tm_zone: std::ptr::null(),
    };
    // SAFETY: localtime_r only writes into `tm`, which lives for the call; `secs` is a valid
    // time_t (i64 on the 64-bit Linux targets this daemon supports).
    let ok = unsafe { !localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return utc_syslog_time(secs, usec);
    }
    let bias = tm.tm_gmtoff as i64;
    let (mode, bias) = if bias < 0 {
        (b'-', -bias)
    } else {
        (b'+', bias)
    };
    SyslogTime {
        time_type: 2,
        year: (tm.tm_year + 1900) as i16,
        month: (tm.tm_mon + 1) as u8,
        day: tm.tm_mday as u8,
        hour: tm.tm_hour as u8,
        minute: tm.tm_min as u8,
        second: tm.tm_sec as u8,
        secfrac: usec,
        secfrac_precision: 6,
        offset_mode: mode,
        offset_hour: (bias / 3600) as u8,
        offset_minute: ((bias % 3600) / 60) as u8,
    }
}

/// `secs` in UTC (`timeval2syslogTime(…, inUTC=1)`): offset `+00:00`, precision 6.
pub fn utc_syslog_time(secs: i64, usec: u32) -> SyslogTime {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    SyslogTime {
        time_type: 2,
        year: y as i16,
        month: m as u8,
        day: d as u8,
        hour: (rem / 3600) as u8,
        minute: ((rem % 3600) / 60) as u8,
        second: (rem % 60) as u8,
        secfrac: usec,
        secfrac_precision: 6,
        offset_mode: b'+',
        offset_hour: 0,
        offset_minute: 0,
    }
}

/// Weekday (0 = Sunday) of a Unix time in local time.
pub fn local_wday(secs: i64) -> u8 {
    let t = local_syslog_time(secs, 0);
    super::datefmt::weekday(&t) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_breakdown() {
        let t = utc_syslog_time(1_065_910_455, 3000); // 2003-10-11T22:14:15Z
        assert_eq!((t.year, t.month, t.day), (2003, 10, 11));
        assert_eq!((t.hour, t.minute, t.second), (22, 14, 15));
        assert_eq!(
            (t.secfrac, t.secfrac_precision, t.offset_mode),
            (3000, 6, b'+')
        );
        let t = utc_syslog_time(-1, 0);
        assert_eq!((t.year, t.month, t.day, t.hour), (1969, 12, 31, 23));
    }

    #[test]
    fn local_matches_utc_plus_offset() {
        let (s, _) = now_unix();
        let l = local_syslog_time(s, 0);
        let off = (l.offset_hour as i64 * 3600 + l.offset_minute as i64 * 60)
            * if l.offset_mode == b'-' { -1 } else { 1 };
        let u = utc_syslog_time(s + off, 0);
        assert_eq!(
            (l.year, l.month, l.day, l.hour, l.minute),
            (u.year, u.month, u.day, u.hour, u.minute)
        );
    }
}
