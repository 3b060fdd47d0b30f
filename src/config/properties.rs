//! Names of message properties as rsyslog 8.2302's `propNameToID` knows them (case-insensitive),
//! for checking property filters and templates at load time. (`timereceived` and
//! `fromhost-port` are newer than 8.2302, which refuses them.)

/// Message properties.
const MESSAGE: &[&str] = &[
    "msg",
    "rawmsg",
    "rawmsg-after-pri",
    "hostname",
    "source",
    "fromhost",
    "fromhost-ip",
    "syslogtag",
    "programname",
    "pri",
    "pri-text",
    "iut",
    "syslogfacility",
    "syslogfacility-text",
    "syslogseverity",
    "syslogseverity-text",
    "syslogpriority",
    "syslogpriority-text",
    "timegenerated",
    "timereported",
    "timestamp",
    "protocol-version",
    "structured-data",
    "app-name",
    "procid",
    "msgid",
    "inputname",
    "jsonmesg",
    "parsesuccess",
    "uuid",
];

/// System properties, written with a leading `$`.
const SYSTEM: &[&str] = &[
    "now",
    "year",
    "month",
    "day",
    "hour",
    "hhour",
    "qhour",
    "minute",
    "wday",
    "now-utc",
    "year-utc",
    "month-utc",
    "day-utc",
    "hour-utc",
    "hhour-utc",
    "qhour-utc",
    "minute-utc",
    "wday-utc",
    "now-unixtimestamp",
    "myhostname",
    "bom",
    "uptime",
];

/// Whether `name` (as written in a property filter: `msg`, `$now`) is a known property.
pub fn is_property(name: &str) -> bool {
    match name.strip_prefix('$') {
        Some(sys) => SYSTEM.iter().any(|p| p.eq_ignore_ascii_case(sys)),
        None => MESSAGE.iter().any(|p| p.eq_ignore_ascii_case(name)),
    }
}

/// Whether `name` may be used in a template (`%name%`, `property(name=…)`): a message or
/// system property, or a `$!`, `$.`, `$/` variable.
pub fn is_template_property(name: &str) -> bool {
    let n = name.trim();
    if n.starts_with("$!") || n.starts_with("$.") || n.starts_with("$/") {
        return true;
    }
    is_property(n)
}

/// `dateFormat=` values of `property()` in rsyslog 8.2302.
pub const DATE_FORMATS: &[&str] = &[
    "mysql",
    "pgsql",
    "rfc3164",
    "rfc3164-buggyday",
    "rfc3339",
    "unixtimestamp",
    "subseconds",
    "wdayname",
    "wday",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "tzoffshour",
    "tzoffsmin",
    "tzoffsdirection",
    "ordinal",
    "week",
];
