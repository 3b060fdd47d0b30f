//! What the running daemon honours today, parameter by parameter. `-N1` checks a config against
//! everything rsyslog 8.2302 knows; starting the daemon additionally requires that every
//! parameter that is *set* is one the runtime really implements — a setting accepted but not
//! enforced would be a lie (and for `$AllowedSender`, privilege drop or queues, a hole). As
//! modules land, their parameters are added here.

use crate::config::diagnostics::Location;
use crate::config::model::{Config, PValue, Params};

/// Globals the runtime honours (others are refused at start when set).
const GLOBALS: &[&str] = &[
    "workDirectory",
    "localHostname",
    "preserveFQDN",
    "maxMessageSize",
    "umask",
    "net.enableDNS",
    // $AllowedSender (src/input/acl.rs); net.permitACLWarning has no effect in 8.2302
    // (glbl.c compares it under another name), refusals are always reported
    "net.aclAddHostnameOnFail",
    "net.aclResolveHostname",
    "net.permitACLWarning",
    "processInternalMessages",
    "internalmsg.severity",
    "parser.controlCharacterEscapePrefix",
    "parser.dropTrailingLFOnReception",
    "parser.escapeControlCharactersOnReceive",
    "parser.spaceLFOnReceive",
    "parser.escape8BitCharactersOnReceive",
    "parser.escapeControlCharacterTab",
    "parser.escapeControlCharactersCStyle",
    "parser.parseHostnameAndTag",
    "parser.permitSlashInProgramName",
    // TLS listeners (imtcp) and actions (omfwd): src/tls/
    "defaultNetstreamDriver",
    "defaultNetstreamDriverCAFile",
    "defaultNetstreamDriverCertFile",
    "defaultNetstreamDriverKeyFile",
    "netstreamDriverCaExtraFiles",
    "debug.onShutdown",
    "debug.logFile",
    "errorMessagesToStderr.maxNumber",
    "abortOnUncleanConfig",
    "shutdown.enable.ctlc",
    // privilege drop (src/privdrop.rs)
    "privdrop.user.name",
    "privdrop.user.id",
    "privdrop.group.name",
    "privdrop.group.id",
    "privdrop.group.keepSupplemental",
    // suspension messages of omfwd's action queues (src/output/actq.rs)
    "action.reportSuspension",
    "action.reportSuspensionContinuation",
];

/// main_queue() parameters honoured (src/mainq.rs, src/engine.rs).
const MAIN_QUEUE: &[&str] = &[
    "queue.timeoutShutdown",
    "queue.size",
    "queue.dequeueBatchSize",
    "queue.timeoutEnqueue",
    "queue.discardMark",
    "queue.discardSeverity",
    "queue.lightDelayMark",
    "queue.fullDelayMark",
    // the disk part (src/mqdisk/): spill at the high water mark, back to memory below the
    // low one
    "queue.highWatermark",
    "queue.lowWatermark",
    "queue.filename",
    "queue.maxDiskSpace",
    "queue.maxFileSize",
    "queue.saveOnShutdown",
    "queue.checkpointInterval",
    "queue.syncQueueFiles",
    "queue.spoolDirectory",
    // only decides when queue.c wakes another worker; all of them wait on the queue here
    // (src/workers.rs)
    "queue.workerThreadMinimumMessages",
];

/// ruleset() queue parameters honoured besides queue.type and queue.workerThreads
/// (src/rsq/, src/mainq.rs).
const RULESET_QUEUE: &[&str] = &[
    "queue.size",
    "queue.dequeueBatchSize",
    "queue.timeoutEnqueue",
    "queue.timeoutShutdown",
    "queue.discardMark",
    "queue.discardSeverity",
    "queue.lightDelayMark",
    "queue.fullDelayMark",
    // the disk part, as for the main queue (src/mqdisk/)
    "queue.highWatermark",
    "queue.lowWatermark",
    "queue.filename",
    "queue.maxDiskSpace",
    "queue.maxFileSize",
    "queue.saveOnShutdown",
    "queue.checkpointInterval",
    "queue.syncQueueFiles",
    "queue.spoolDirectory",
    // as for the main queue (src/workers.rs)
    "queue.workerThreadMinimumMessages",
];

/// Module-level parameters honoured, per module.
const MODULE_PARAMS: &[(&str, &[&str])] = &[
    (
        "imuxsock",
        &[
            "SysSock.Use",
            "SysSock.Name",
            "SysSock.IgnoreTimestamp",
            "SysSock.UseSpecialParser",
            "SysSock.UseSysTimeStamp",
            "SysSock.ParseHostname",
            // src/input/creds.rs, src/input/ratelimit.rs
            "SysSock.UsePIDFromSystem",
            "SysSock.Annotate",
            "SysSock.ParseTrusted",
            "SysSock.IgnoreOwnMessages",
            "SysSock.RateLimit.Interval",
            "SysSock.RateLimit.Burst",
            "SysSock.RateLimit.Severity",
        ],
    ),
    ("imudp", &[]),
    (
        "imtcp",
        &[
            "MaxSessions",
            "KeepAlive",
            "AddtlFrameDelimiter",
            "DisableLFDelimiter",
            "maxFrameSize",
            "discardTruncatedMsg",
            "SupportOctetCountedFraming",
            // TLS (src/tls/, src/input/tcp.rs)
            "StreamDriver.Mode",
            "StreamDriver.Name",
            "StreamDriver.AuthMode",
            "StreamDriver.PrioritizeSAN",
            "StreamDriver.permitExpiredCerts",
            "StreamDriver.CheckExtendedKeyPurpose",
            "PermittedPeer",
        ],
    ),
    (
        "imfile",
        &[
            "pollingInterval",
            "mode",
            "statefile.directory",
            "normalizePath",
            "readTimeout",
        ],
    ),
    (
        "imklog",
        &[
            "ruleset",
            "logPath",
            "permitNonKernelFacility",
            "consoleLogLevel",
            "parseKernelTimestamp",
            "keepKernelTimestamp",
            // stored but unused by 8.2302 itself
            "internalMsgFacility",
            // a non-zero interval is refused by src/input/klog.rs
            "ratelimitInterval",
            "ratelimitBurst",
        ],
    ),
    (
        "immark",
        &[
            "ruleset",
            "markMessageText",
            "use.syslogCall",
            // only matters with action.writeAllMarkMessages="off", which is refused
            "use.markFlag",
            "interval",
        ],
    ),
    (
        "impstats",
        &[
            "interval",
            "facility",
            "severity",
            "format",
            "log.syslog",
            "log.file",
            "resetCounters",
            "bracketing",
            "ruleset",
        ],
    ),
    ("omfwd", &["template"]),
    // imrelp/omrelp (src/input/relp.rs, src/output/relp.rs): imrelp's `ruleset` is the
    // default of its inputs (src/engine.rs); `tls.tlslib` gnutls/openssl both mean rustls
    // (src/relp/tls.rs)
    ("imrelp", &["ruleset", "tls.tlslib"]),
    ("omrelp", &["tls.tlslib"]),
    ("omkafka", &[]),
    (
        "omfile",
        &[
            "template",
            "fileCreateMode",
            "dirCreateMode",
            "fileOwner",
            "fileGroup",
            "dirOwner",
            "dirGroup",
        ],
    ),
];

/// Instance parameters honoured, per module (`input()` and `action()`); common action
/// parameters are in `ACTION_COMMON`.
const INSTANCE_PARAMS: &[(&str, &[&str])] = &[
    (
        "imtcp",
        &[
            "type",
            "port",
            "address",
            "name",
            "ruleset",
            "listenPortFileName",
            "SupportOctetCountedFraming",
            "AddtlFrameDelimiter",
            "DisableLFDelimiter",
            "framingfix.cisco.asa",
            "MaxSessions",
            "maxFrameSize",
            "discardTruncatedMsg",
            "KeepAlive",
            "defaultTZ",
            // TLS (src/tls/, src/input/tcp.rs)
            "StreamDriver.Mode",
            "StreamDriver.Name",
            "StreamDriver.AuthMode",
            "StreamDriver.CAFile",
            "StreamDriver.CertFile",
            "StreamDriver.KeyFile",
            "StreamDriver.PrioritizeSAN",
            "StreamDriver.permitExpiredCerts",
            "StreamDriver.CheckExtendedKeyPurpose",
            "PermittedPeer",
        ],
    ),
    (
        "imptcp",
        &[
            "type",
            "port",
            "address",
            "name",
            "ruleset",
            "listenPortFileName",
            "KeepAlive",
            "defaultTZ",
        ],
    ),
    (
        "imudp",
        &[
            "type",
            "port",
            "address",
            "name",
            "ruleset",
            "rcvbufSize",
            "defaultTZ",
        ],
    ),
    (
        "imuxsock",
        &[
            "type",
            "Socket",
            "CreatePath",
            "HostName",
            "IgnoreTimestamp",
            "UseSpecialParser",
            "UseSysTimeStamp",
            "ParseHostname",
            "ruleset",
            // src/input/creds.rs, src/input/ratelimit.rs
            "UsePIDFromSystem",
            "Annotate",
            "ParseTrusted",
            "IgnoreOwnMessages",
            "RateLimit.Interval",
            "RateLimit.Burst",
            "RateLimit.Severity",
        ],
    ),
    (
        "omfile",
        &[
            "type",
            "file",
            "template",
            "fileCreateMode",
            "dirCreateMode",
            "createDirs",
            "fileOwner",
            "fileOwnerNum",
            "fileGroup",
            "fileGroupNum",
            "dirOwner",
            "dirOwnerNum",
            "dirGroup",
            "dirGroupNum",
            "sync",
            "ioBufferSize",
            "failOnChOwnFailure",
            "flushOnTXEnd",
            "asyncWriting",
            "flushInterval",
            "dynaFile",
            "dynaFileCacheSize",
            // how long an omfile whose file cannot be opened stays suspended
            // (src/output/file.rs); dynafiles do not suspend, as rsyslog's default
            // dynafile.donotsuspend="on"
            "action.resumeInterval",
        ],
    ),
    ("ompipe", &["type", "pipe", "template"]),
    (
        "omprog",
        &[
            "type",
            "binary",
            "template",
            "confirmMessages",
            "confirmTimeout",
            "reportFailures",
            "useTransactions",
            "beginTransactionMark",
            "commitTransactionMark",
            "forceSingleInstance",
            "hup.signal",
            "signalOnClose",
            "closeTimeout",
            "killUnresponsive",
            "output",
            "fileCreateMode",
            "action.resumeInterval",
        ],
    ),
    (
        "imfile",
        &[
            "type",
            "File",
            "Tag",
            "Facility",
            "Severity",
            "ruleset",
            "readMode",
            "startmsg.regex",
            "endmsg.regex",
            "escapeLF",
            "escapeLF.replacement",
            "reopenOnTruncate",
            "freshStartTail",
            "trimLineOverBytes",
            "discardTruncatedMsg",
            "removeStateOnDelete",
            "deleteStateOnFileDelete",
            "readTimeout",
            "persistStateInterval",
            "persistStateAfterSubmission",
            // stored but never used by rsyslog 8.2302's imfile (state files are named by inode)
            "stateFile",
            // only how many lines rsyslog reads from one file before turning to the next;
            // every oxsyslogd imfile input reads in its own task
            "maxLinesAtOnce",
            "needParse",
        ],
    ),
    ("omusrmsg", &["type", "users", "template"]),
    (
        "omaudit",
        &[
            // src/output/audit.rs, src/audit/ (key.id is refused: the key id is always
            // derived from the public key)
            "type",
            "file",
            "nodeId",
            "key.type",
            "key.file",
            "pkcs11.sharedLibrary",
            "pkcs11.slot",
            "pkcs11.tokenLabel",
            "pkcs11.keyLabel",
            "pkcs11.pinFile",
            "mode",
            "checkpoint.interval",
            "checkpoint.records",
            "checkpoint.file",
            "template",
            "mapping.eventType",
            "mapping.eventStatus",
            "mapping.module",
            "mapping.service",
            "mapping.authToken",
            "mapping.customId",
            "mapping.searchDetail1",
            "mapping.searchDetail2",
            "mapping.additionalDetails",
            "fileCreateMode",
        ],
    ),
    (
        "imrelp",
        &[
            // src/input/relp.rs; TLS: src/relp/tls.rs (which refuses tls.compression="on"
            // and anonymous TLS; tls.priorityString and tls.tlsCfgCmd are refused by the
            // config schema)
            "tls",
            "tls.authMode",
            "tls.permittedPeer",
            "tls.caCert",
            "tls.myCert",
            "tls.myPrivKey",
            "tls.dhbits",
            "tls.compression",
            "type",
            "port",
            "address",
            "name",
            "ruleset",
            "maxDataSize",
            "oversizeMode",
            "flowControl",
            "keepAlive",
            "keepAlive.probes",
            "keepAlive.time",
            "keepAlive.interval",
        ],
    ),
    ("omdiscard", &["type"]),
    (
        "omkafka",
        &[
            // src/output/kafka.rs, kafka_producer.rs (only built with the `kafka` feature;
            // without it the action is refused in src/output/kafka.rs)
            "type",
            "broker",
            "topic",
            "dynaTopic",
            "key",
            "dynaKey",
            "partitions.auto",
            "partitions.number",
            "partitions.useFixed",
            "confParam",
            "topicConfParam",
            "template",
            "errorFile",
            "statsFile",
            "statsName",
            "resubmitOnFailure",
            "keepFailedMessages",
            "failedMsgFile",
            "closeTimeout",
            // the action queue and its worker, as omfwd's (src/output/actq.rs)
            "queue.type",
            "queue.size",
            "queue.dequeueBatchSize",
            "queue.timeoutEnqueue",
            "queue.timeoutShutdown",
            "queue.discardMark",
            "queue.discardSeverity",
            "queue.workerThreads",
            "queue.highWatermark",
            "queue.lowWatermark",
            "queue.timeoutActionCompletion",
            // disk and disk-assisted queues (src/diskq/), as omfwd's
            "queue.filename",
            "queue.maxDiskSpace",
            "queue.maxFileSize",
            "queue.saveOnShutdown",
            "queue.syncQueueFiles",
            "queue.checkpointInterval",
            "action.resumeRetryCount",
            "action.resumeInterval",
            "action.resumeIntervalMax",
            "action.reportSuspension",
            "action.reportSuspensionContinuation",
        ],
    ),
    (
        "omrelp",
        &[
            // src/output/relp.rs, relp_client.rs; TLS: src/relp/tls.rs (as imrelp)
            "tls",
            "tls.authMode",
            "tls.permittedPeer",
            "tls.caCert",
            "tls.myCert",
            "tls.myPrivKey",
            "tls.compression",
            "type",
            "target",
            "port",
            // target pools (src/output/target_pool.rs), an extension for omrelp
            "pool.resumeInterval",
            "template",
            "timeout",
            "conn.timeout",
            "windowSize",
            "rebindInterval",
            "localClientIp",
            // the action queue and its worker, as omfwd's (src/output/actq.rs)
            "queue.type",
            "queue.size",
            "queue.dequeueBatchSize",
            "queue.timeoutEnqueue",
            "queue.timeoutShutdown",
            "queue.discardMark",
            "queue.discardSeverity",
            "queue.workerThreads",
            "queue.highWatermark",
            "queue.lowWatermark",
            // disk and disk-assisted queues (src/diskq/), as omfwd's
            "queue.filename",
            "queue.maxDiskSpace",
            "queue.maxFileSize",
            "queue.saveOnShutdown",
            "queue.syncQueueFiles",
            "queue.checkpointInterval",
            "action.resumeRetryCount",
            "action.resumeInterval",
            "action.reportSuspension",
        ],
    ),
    (
        "omfwd",
        &[
            // src/output/fwd.rs, fwd_net.rs
            "type",
            "target",
            "port",
            // target pools (src/output/target_pool.rs)
            "pool.resumeInterval",
            "protocol",
            "TCP_Framing",
            "TCP_FrameDelimiter",
            "template",
            "keepAlive",
            "keepAlive.probes",
            "keepAlive.time",
            "keepAlive.interval",
            "rebindInterval",
            "resendLastMSGOnReconnect",
            "udp.sendDelay",
            // UDP socket options (fwd_net.rs `UdpOptions`); `address` and `ipfreebind` only
            // matter for UDP in rsyslog too; `device` binds UDP sockets and TCP connections
            "address",
            "device",
            "ipfreebind",
            "udp.sendbuf",
            "udp.sendToAll",
            // applied by the action queue's worker (src/output/actq.rs)
            "ratelimit.interval",
            "ratelimit.burst",
            // TLS (src/tls/, src/output/fwd_tls.rs)
            "StreamDriver",
            "StreamDriverMode",
            "StreamDriverAuthMode",
            "StreamDriverPermittedPeers",
            "StreamDriver.CAFile",
            "StreamDriver.CertFile",
            "StreamDriver.KeyFile",
            "StreamDriver.RemoteSNI",
            "StreamDriver.PrioritizeSAN",
            "StreamDriver.permitExpiredCerts",
            "StreamDriver.CheckExtendedKeyPurpose",
            // the action queue in memory and its worker (src/output/actq.rs); a queue.type
            // other than Direct/LinkedList/FixedArray is refused there
            "queue.type",
            "queue.size",
            "queue.dequeueBatchSize",
            "queue.timeoutEnqueue",
            "queue.timeoutShutdown",
            "queue.discardMark",
            "queue.discardSeverity",
            // 1…64 with a LinkedList/FixedArray queue: one connection per worker
            // (src/output/actq_pool.rs); other values are refused in src/output/actq.rs
            "queue.workerThreads",
            // disk and disk-assisted queues (src/diskq/): the watermarks decide when a
            // disk-assisted queue spills to disk (without queue.filename: no effect, as in
            // rsyslog, whose queue.c uses them only in disk-assisted mode)
            "queue.highWatermark",
            "queue.lowWatermark",
            "queue.filename",
            "queue.maxDiskSpace",
            "queue.maxFileSize",
            "queue.saveOnShutdown",
            "queue.syncQueueFiles",
            "queue.checkpointInterval",
            "action.resumeRetryCount",
            "action.resumeInterval",
            "action.reportSuspension",
            // src/output/actq.rs
            "conErrSkip",
            "action.resumeIntervalMax",
            "action.reportSuspensionContinuation",
            "queue.timeoutActionCompletion",
        ],
    ),
];

/// Common `action()` parameters honoured.
const ACTION_COMMON: &[&str] = &[
    "type",
    "name",
    // src/output/gate.rs
    "action.execOnlyEveryNthTime",
    "action.execOnlyEveryNthTimeTimeout",
    "action.execOnlyOnceEveryInterval",
    "action.execOnlyWhenPreviousIsSuspended",
];

fn allowed(list: &[&str], name: &str) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn module_list<'a>(table: &'a [(&str, &'a [&str])], module: &str) -> Option<&'a [&'a str]> {
    table
        .iter()
        .find(|(m, _)| m.eq_ignore_ascii_case(module))
        .map(|(_, l)| *l)
}

fn refuse(loc: &Location, what: &str, name: &str) -> String {
    format!("{loc}: error: {what} parameter '{name}' is accepted by the config check but not implemented by the oxsyslogd runtime yet; refusing to start rather than ignore it")
}

fn check_params(p: &Params, list: &[&str], what: &str) -> Result<(), String> {
    for s in &p.0 {
        if !allowed(list, s.name) {
            return Err(refuse(&s.loc, what, s.name));
        }
    }
    Ok(())
}

/// `queue.type` LinkedList/FixedArray (with `queue.filename`: disk-assisted) or Disk
/// (src/mqdisk/) and `queue.workerThreads="1"`: what the runtime's own queues are.
fn in_memory_one_worker(s: &crate::config::model::Setting) -> bool {
    (s.name.eq_ignore_ascii_case("queue.type")
        && matches!(&s.value, PValue::Str(t) if ["LinkedList", "FixedArray", "Disk"]
            .iter()
            .any(|k| t.eq_ignore_ascii_case(k))))
        || workers_ok(s)
}

/// `queue.workerThreads` 1…64: that many rules threads on the queue (src/workers.rs).
fn workers_ok(s: &crate::config::model::Setting) -> bool {
    s.name.eq_ignore_ascii_case("queue.workerThreads")
        && matches!(&s.value, PValue::Int(n) if (1..=crate::workers::MAX).contains(n))
}

/// Refuses to start when the config sets something the runtime does not implement.
pub fn check(cfg: &Config) -> Result<(), String> {
    // $AllowedSender is enforced by imudp and imtcp (src/input/acl.rs).
    for l in &cfg.legacy_only {
        // $RepeatedMsgReduction on|off: src/input/repeat.rs.
        let harmless = l.directive.eq_ignore_ascii_case("RepeatedMsgReduction");
        if !harmless {
            return Err(format!(
                "{}: error: ${} is not implemented by the oxsyslogd runtime yet; refusing to start rather than ignore it",
                l.loc, l.directive
            ));
        }
    }
    check_params(&cfg.globals, GLOBALS, "global()")?;
    for s in cfg
        .main_queue
        .0
        .iter()
        .filter(|s| !allowed(MAIN_QUEUE, s.name))
    {
        // the queue types the runtime has and 1…64 rules threads (src/workers.rs) are
        // honoured; anything else is refused
        if !in_memory_one_worker(s) {
            return Err(refuse(&s.loc, "main_queue()", s.name));
        }
    }
    for m in &cfg.modules {
        if let Some(list) = module_list(MODULE_PARAMS, m.name) {
            check_params(&m.params, list, &format!("module(load=\"{}\")", m.name))?;
        }
    }
    for i in &cfg.inputs {
        if let Some(list) = module_list(INSTANCE_PARAMS, i.module) {
            check_params(&i.params, list, &format!("input(type=\"{}\")", i.module))?;
        }
    }
    for a in &cfg.actions {
        if let Some(list) = module_list(INSTANCE_PARAMS, a.module) {
            for s in &a.params.0 {
                if !allowed(list, s.name) && !allowed(ACTION_COMMON, s.name) {
                    return Err(refuse(
                        &s.loc,
                        &format!("action(type=\"{}\")", a.module),
                        s.name,
                    ));
                }
            }
        }
    }
    for r in &cfg.rulesets {
        // parser=[…] chains are honoured (parse options per ruleset).
        for s in r
            .params
            .0
            .iter()
            .filter(|s| !allowed(&["name", "parser"], s.name))
        {
            // a ruleset queue in memory with one worker: its own queue and rules thread
            // (src/rsq/), with the main queue's rules (src/mainq.rs)
            let harmless = allowed(RULESET_QUEUE, s.name)
                || (s.name.eq_ignore_ascii_case("queue.type")
                    && matches!(&s.value, PValue::Str(t) if ["Direct", "LinkedList", "FixedArray", "Disk"]
                    .iter()
                    .any(|k| t.eq_ignore_ascii_case(k))))
                || workers_ok(s);
            if !harmless {
                return Err(refuse(
                    &s.loc,
                    &format!("ruleset(name=\"{}\")", r.name),
                    s.name,
                ));
            }
        }
    }
    // several rules threads on a queue: what they cannot share is refused
    crate::workers::check(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;

    fn start_check(conf: &str) -> Result<(), String> {
        let l = load_text("t.conf", conf);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        check(&l.config)
    }

    #[test]
    fn security_settings_are_never_accepted_unenforced() {
        // $AllowedSender is enforced (src/input/acl.rs): it starts
        start_check("$AllowedSender UDP, 127.0.0.1\n*.* /tmp/x\n").unwrap();
        let e = start_check("*.* action(type=\"omfile\" file=\"/tmp/x\" queue.type=\"Disk\" queue.filename=\"q\")\n").unwrap_err();
        assert!(e.contains("queue.type"), "{e}");
    }

    /// The main queue discards by severity at its mark (src/mainq.rs); an omfile action has
    /// no queue here, so asking it to discard is refused.
    #[test]
    fn queue_discard_marks_main_queue_honoured_omfile_refused() {
        for conf in [
            "main_queue(queue.discardMark=\"10\" queue.size=\"20\")\n",
            "main_queue(queue.discardSeverity=\"4\")\n",
            "$MainMsgQueueDiscardMark 10\n",
            "$MainMsgQueueDiscardSeverity 4\n",
            "$MainMsgQueueSize 1000\n$MainMsgQueueTimeoutEnqueue 0\n$MainMsgQueueDequeueBatchSize 32\n",
            "main_queue(queue.lightDelayMark=\"700\" queue.fullDelayMark=\"900\" queue.highWatermark=\"800\" queue.lowWatermark=\"200\" queue.workerThreadMinimumMessages=\"100\" queue.size=\"1000\")\n",
        ] {
            start_check(&format!("{conf}*.* /tmp/y\n")).unwrap();
        }
        for (conf, at) in [
            (
                "*.* action(type=\"omfile\" file=\"/tmp/x\" queue.discardMark=\"5\")\n",
                "t.conf:1:",
            ),
            ("$ActionQueueDiscardSeverity 3\n*.* /tmp/x\n", "t.conf:1:1:"),
        ] {
            let e = start_check(&format!("{conf}*.* /tmp/y\n")).unwrap_err();
            assert!(
                e.starts_with(at) && e.contains("queue.discard"),
                "{conf}: {e}"
            );
        }
    }

    #[test]
    fn main_queue_in_memory_with_one_worker_starts_others_are_refused() {
        start_check(
            "main_queue(queue.type=\"LinkedList\" queue.workerThreads=\"1\")\n*.* /tmp/x\n",
        )
        .unwrap();
        start_check("$MainMsgQueueType FixedArray\n*.* /tmp/x\n").unwrap();
        // disk and disk-assisted main queues (src/mqdisk/)
        start_check("main_queue(queue.type=\"Disk\" queue.filename=\"q\" queue.maxDiskSpace=\"1m\" queue.maxFileSize=\"64k\" queue.saveOnShutdown=\"on\" queue.checkpointInterval=\"10\" queue.syncQueueFiles=\"on\")\n*.* /tmp/x\n").unwrap();
        start_check("$MainMsgQueueFileName q\n$MainMsgQueueSaveOnShutdown on\n$MainMsgQueueMaxDiskSpace 1m\n*.* /tmp/x\n").unwrap();
        for (conf, at) in [
            ("main_queue(queue.type=\"Direct\")\n", "t.conf:1:12:"),
            ("main_queue(queue.workerThreads=\"65\")\n", "t.conf:1:12:"),
        ] {
            let e = start_check(&format!("{conf}*.* /tmp/y\n")).unwrap_err();
            assert!(e.starts_with(at), "{conf}: {e}");
        }
    }

    /// A ruleset's own queue (src/rsq/) takes the main queue's in-memory parameters; disk
    /// and several workers are refused.
    #[test]
    fn ruleset_queue_in_memory_starts_disk_and_workers_are_refused() {
        start_check("ruleset(name=\"r\" queue.type=\"LinkedList\" queue.size=\"100\" queue.dequeueBatchSize=\"10\" queue.timeoutEnqueue=\"0\" queue.timeoutShutdown=\"100\" queue.discardMark=\"90\" queue.discardSeverity=\"5\" queue.workerThreads=\"1\") { action(type=\"omfile\" file=\"/tmp/r\") }\n*.* /tmp/x\n").unwrap();
        // disk and disk-assisted ruleset queues (src/mqdisk/)
        start_check("ruleset(name=\"r\" queue.type=\"Disk\" queue.filename=\"q\" queue.maxDiskSpace=\"1m\" queue.saveOnShutdown=\"on\") { action(type=\"omfile\" file=\"/tmp/r\") }\nruleset(name=\"s\" queue.filename=\"s\" queue.highWatermark=\"10\" queue.lowWatermark=\"5\") { action(type=\"omfile\" file=\"/tmp/s\") }\n*.* /tmp/x\n").unwrap();
        let p = "queue.workerThreads=\"65\"";
        let e = start_check(&format!(
            "ruleset(name=\"r\" {p}) {{ action(type=\"omfile\" file=\"/tmp/r\") }}\n*.* /tmp/x\n"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("t.conf:1:") && e.contains("ruleset(name=\"r\")"),
            "{p}: {e}"
        );
    }

    #[test]
    fn implemented_settings_start() {
        start_check("global(privdrop.user.name=\"root\" privdrop.group.id=\"1\")\n$PrivDropToUserID 0\nmodule(load=\"imklog\" logPath=\"/x\" parseKernelTimestamp=\"on\")\nmodule(load=\"immark\" interval=\"1\")\n*.* /tmp/x\n").unwrap();
        start_check("module(load=\"imtcp\" MaxSessions=\"10\")\ninput(type=\"imtcp\" port=\"0\" listenPortFileName=\"/tmp/p\")\n$FileOwner root\n$FileCreateMode 0640\n*.* -/tmp/x;RSYSLOG_TraditionalFileFormat\n").unwrap();
        // TLS (src/tls/): every parameter the driver enforces, in all three forms
        start_check("global(defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"/dev/null\")\nmodule(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/name\" PermittedPeer=[\"*.example.net\"] StreamDriver.PrioritizeSAN=\"on\" StreamDriver.permitExpiredCerts=\"warn\" StreamDriver.CheckExtendedKeyPurpose=\"on\")\ninput(type=\"imtcp\" port=\"0\" StreamDriver.CAFile=\"/dev/null\" StreamDriver.CertFile=\"/dev/null\" StreamDriver.KeyFile=\"/dev/null\")\n*.* action(type=\"omfwd\" target=\"h\" protocol=\"tcp\" StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/fingerprint\" StreamDriverPermittedPeers=\"SHA1:AA\" StreamDriver.CAFile=\"/dev/null\" StreamDriver.CertFile=\"/dev/null\" StreamDriver.KeyFile=\"/dev/null\" StreamDriver.RemoteSNI=\"x\")\n$ActionSendStreamDriverMode 1\n$ActionSendStreamDriverAuthMode anon\n*.* @@h:1\n").unwrap();
        let e =
            start_check("module(load=\"imtcp\" StreamDriver.TlsVerifyDepth=\"3\")\n*.* /tmp/x\n")
                .unwrap_err();
        assert!(e.contains("TlsVerifyDepth"), "{e}");
    }
}
