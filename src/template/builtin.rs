//! rsyslog 8.2302's built-in templates (runtime/rsconf.c) and its four C string generators
//! (tools/smfile.c, smtradfile.c, smfwd.c, smtradfwd.c).
//!
//! The string generators differ from the template strings their comments quote:
//! - they add the space before MSG whenever MSG does not *start* with a space — also when
//!   MSG is empty (the template option `sp-if-no-1st-sp` gives nothing for an empty value),
//!   so an empty message still gets `TAG ` + LF;
//! - the file formats never drop a trailing LF of MSG (the quoted `drop-last-lf` is not
//!   implemented);
//! - the forward formats cut the tag at 32 bytes, no LF at the end.

use crate::message::MsgRef;

use super::datefmt;
use super::props;
use super::replacer::Escape;
use super::Strgen;

/// How a built-in is defined.
pub enum Def {
    Strgen(Strgen),
    /// Template text as rsyslog's `tplAddLine` receives it (legacy escapes apply), with the
    /// template option.
    Legacy(&'static str, Escape),
}

/// Every built-in template, by its registered name.
pub const BUILTINS: &[(&str, Def)] = &[
    (
        "RSYSLOG_DebugFormat",
        Def::Legacy(
            "Debug line with all properties:\nFROMHOST: '%FROMHOST%', fromhost-ip: '%fromhost-ip%', HOSTNAME: '%HOSTNAME%', PRI: %PRI%,\nsyslogtag '%syslogtag%', programname: '%programname%', APP-NAME: '%APP-NAME%', PROCID: '%PROCID%', MSGID: '%MSGID%',\nTIMESTAMP: '%TIMESTAMP%', STRUCTURED-DATA: '%STRUCTURED-DATA%',\nmsg: '%msg%'\nescaped msg: '%msg:::drop-cc%'\ninputname: %inputname% rawmsg: '%rawmsg%'\n$!:%$!%\n$.:%$.%\n$/:%$/%\n\n",
            Escape::None,
        ),
    ),
    (
        "RSYSLOG_SyslogProtocol23Format",
        Def::Legacy(
            "<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%\n",
            Escape::None,
        ),
    ),
    (
        "RSYSLOG_SyslogRFC5424Format",
        Def::Legacy(
            "<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%",
            Escape::None,
        ),
    ),
    ("RSYSLOG_FileFormat", Def::Strgen(Strgen::File)),
    ("RSYSLOG_TraditionalFileFormat", Def::Strgen(Strgen::TraditionalFile)),
    (
        " WallFmt",
        Def::Legacy(
            "\r\n\x07Message from syslogd@%HOSTNAME% at %timegenerated% ...\r\n %syslogtag%%msg%\n\r",
            Escape::None,
        ),
    ),
    ("RSYSLOG_ForwardFormat", Def::Strgen(Strgen::Forward)),
    ("RSYSLOG_TraditionalForwardFormat", Def::Strgen(Strgen::TraditionalForward)),
    (" StdUsrMsgFmt", Def::Legacy(" %syslogtag%%msg%\n\r", Escape::None)),
    (
        " StdDBFmt",
        Def::Legacy(
            "insert into SystemEvents (Message, Facility, FromHost, Priority, DeviceReportedTime, ReceivedAt, InfoUnitID, SysLogTag) values ('%msg%', %syslogfacility%, '%HOSTNAME%', %syslogpriority%, '%timereported:::date-mysql%', '%timegenerated:::date-mysql%', %iut%, '%syslogtag%')",
            Escape::Sql,
        ),
    ),
    (
        "RSYSLOG_SysklogdFileFormat",
        Def::Legacy("%TIMESTAMP% %HOSTNAME% %syslogtag%%msg:::sp-if-no-1st-sp%%msg%\n", Escape::None),
    ),
    (
        " StdPgSQLFmt",
        Def::Legacy(
            "insert into SystemEvents (Message, Facility, FromHost, Priority, DeviceReportedTime, ReceivedAt, InfoUnitID, SysLogTag) values ('%msg%', %syslogfacility%, '%HOSTNAME%', %syslogpriority%, '%timereported:::date-pgsql%', '%timegenerated:::date-pgsql%', %iut%, '%syslogtag%')",
            Escape::StdSql,
        ),
    ),
    (
        " StdJSONFmt",
        Def::Legacy(
            r#"{\"message\":\"%msg:::json%\",\"fromhost\":\"%HOSTNAME:::json%\",\"facility\":\"%syslogfacility-text%\",\"priority\":\"%syslogpriority-text%\",\"timereported\":\"%timereported:::date-rfc3339%\",\"timegenerated\":\"%timegenerated:::date-rfc3339%\"}"#,
            Escape::None,
        ),
    ),
    (
        " FullJSONFmt",
        Def::Legacy(
            r#"{\"message\":\"%msg:::json%\",\"fromhost\":\"%HOSTNAME:::json%\",\"programname\":\"%programname%\",\"procid\":\"%PROCID%\",\"msgid\":\"%MSGID%\",\"facility\":\"%syslogfacility-text%\",\"priority\":\"%syslogpriority-text%\",\"timereported\":\"%timereported:::date-rfc3339%\",\"timegenerated\":\"%timegenerated:::date-rfc3339%\"}"#,
            Escape::None,
        ),
    ),
    (
        " StdClickHouseFmt",
        Def::Legacy(
            "INSERT INTO rsyslog.SystemEvents (severity, facility, timestamp, hostname, tag, message) VALUES (%syslogseverity%, %syslogfacility%, '%timereported:::date-unixtimestamp%', '%hostname%', '%syslogtag%', '%msg%')",
            Escape::StdSql,
        ),
    ),
    ("RSYSLOG_omudpspoofDfltSourceTpl", Def::Legacy("%fromhost-ip%", Escape::None)),
];

/// Renders one of the C string generators.
pub fn strgen(s: Strgen, m: MsgRef<'_>, out: &mut Vec<u8>) {
    let forward = matches!(s, Strgen::Forward | Strgen::TraditionalForward);
    if forward {
        out.push(b'<');
        let pri = m.pri() as i64;
        if pri > 191 {
            out.extend_from_slice(b"invld");
        } else {
            datefmt::push_i64(out, pri);
        }
        out.push(b'>');
    }
    let t = m.time_reported();
    match s {
        Strgen::File | Strgen::Forward => datefmt::rfc3339(t, out),
        Strgen::TraditionalFile | Strgen::TraditionalForward => {
            props::timereported_3164(m, false, out)
        }
    }
    out.push(b' ');
    out.extend_from_slice(props::hostname(m));
    out.push(b' ');
    let tag = props::syslogtag(m);
    tag.write_max(out, if forward { 32 } else { usize::MAX });
    let msg = m.msg();
    if msg.first() != Some(&b' ') {
        out.push(b' ');
    }
    out.extend_from_slice(msg);
    if !forward {
        out.push(b'\n');
    }
}
