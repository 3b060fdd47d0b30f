//! Loadable modules: each module's module-level parameters (`module(load=…)`) and instance
//! parameters (`input(type=…)` for inputs, `action(type=…)` for outputs, `parser(type=…)` for
//! parsers), from rsyslog 8.2302.
//!
//! Read from the `modpdescr` / `inppdescr` / `actpdescr` / `parserpdescr` tables of
//! tools/*.c, plugins/*/*.c and contrib/*/*.c in the 8.2302 tree. Types and required flags are
//! rsyslog's; names follow the documentation's spelling (rsyslog matches case-insensitively).
//! Parameters rsyslog knows but oxsyslog refuses carry `.unsupported()` and a reason.

use super::{p, Param, Sup, Ty::*};

/// What kind of module this is; decides whether `input()` or `action()` instantiates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModKind {
    Input,
    Output,
    Parser,
    /// Neither input nor output (e.g. mmjsonparse would be a message modifier).
    Other,
}

/// One module as rsyslog knows it.
#[derive(Debug, Clone, Copy)]
pub struct Module {
    /// Name as given to `module(load=…)`, `$ModLoad`, `input(type=…)`, `action(type=…)`.
    pub name: &'static str,
    pub kind: ModKind,
    /// Built into rsyslogd (omfile, omfwd, omusrmsg, ompipe, omdiscard …): usable without load.
    pub builtin: bool,
    pub sup: Sup,
    /// Parameters of `module(load="name" …)`.
    pub module_params: &'static [Param],
    /// Parameters of `input(type="name" …)` or `action(type="name" …)` (besides the common ones).
    pub instance_params: &'static [Param],
}

/// Finds a module by name; accepts rsyslog's `builtin:` prefix, a path and a `.so` suffix
/// (`/usr/lib/rsyslog/imtcp.so` → imtcp).
pub fn find_module(name: &str) -> Option<&'static Module> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let base = base.strip_prefix("builtin:").unwrap_or(base);
    let base = base.strip_suffix(".so").unwrap_or(base);
    MODULES.iter().find(|m| m.name.eq_ignore_ascii_case(base))
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/// imuxsock `modpdescr`: the system log socket (`/dev/log`).
const IMUXSOCK_MOD: &[Param] = &[
    p("SysSock.Use", Binary),
    p("SysSock.Name", Word),
    p("SysSock.Unlink", Binary),
    p("SysSock.IgnoreTimestamp", Binary),
    p("SysSock.IgnoreOwnMessages", Binary),
    p("SysSock.FlowControl", Binary),
    p("SysSock.UseSysTimeStamp", Binary),
    p("SysSock.Annotate", Binary),
    p("SysSock.ParseTrusted", Binary),
    p("SysSock.UseSpecialParser", Binary),
    p("SysSock.ParseHostname", Binary),
    p("SysSock.UsePIDFromSystem", Binary),
    p("SysSock.RateLimit.Interval", Int),
    p("SysSock.RateLimit.Burst", Int),
    p("SysSock.RateLimit.Severity", Int),
];

/// imuxsock `inppdescr`: additional sockets.
const IMUXSOCK_INP: &[Param] = &[
    p("Socket", Str).req(),
    p("Unlink", Binary),
    p("CreatePath", Binary),
    p("ParseTrusted", Binary),
    p("IgnoreOwnMessages", Binary),
    p("HostName", Str),
    p("IgnoreTimestamp", Binary),
    p("FlowControl", Binary),
    p("UseSysTimeStamp", Binary),
    p("Annotate", Binary),
    p("UseSpecialParser", Binary),
    p("ParseHostname", Binary),
    p("UsePIDFromSystem", Binary),
    p("Ruleset", Str),
    p("RateLimit.Interval", Int),
    p("RateLimit.Burst", Int),
    p("RateLimit.Severity", Int),
];

const IMUDP_MOD: &[Param] = &[
    // SCHED_FIFO/SCHED_RR for the listener threads; rsyslogd sets it while still root.
    p("schedulingPolicy", Word),
    p("schedulingPriority", Int),
    p("batchSize", Int),
    p("threads", PositiveInt),
    p("timeRequery", Int),
    p("preserveCase", Binary),
];

const IMUDP_INP: &[Param] = &[
    // An array: one input() may listen on several ports.
    p("port", Array).req(),
    p("defaultTZ", Str),
    p("inputName", Word),
    p("inputName.appendPort", Binary),
    p("name", Word),
    p("name.appendPort", Binary),
    p("address", Str),
    p("device", Str),
    p("rateLimit.interval", Int),
    p("rateLimit.burst", Int),
    p("rcvBufSize", Size),
    p("ipFreeBind", Int),
    p("ruleset", Str),
];

const IMTCP_MOD: &[Param] = &[
    p("flowControl", Binary),
    p("disableLFDelimiter", Binary),
    p("discardTruncatedMsg", Binary),
    // Module-level name; the input() twin is `supportOctetCountedFraming`.
    p("octetCountedFraming", Binary),
    p("notifyOnConnectionClose", Binary),
    p("notifyOnConnectionOpen", Binary),
    p("addtlFrameDelimiter", NonNegInt),
    p("maxFrameSize", Int),
    p("maxSessions", PositiveInt),
    // rsyslog's misspelt alias of maxListeners, still accepted.
    p("maxListners", PositiveInt),
    p("maxListeners", PositiveInt),
    p("streamDriver.mode", NonNegInt),
    p("streamDriver.authMode", Str),
    p("streamDriver.permitExpiredCerts", Str),
    p("streamDriver.name", Str),
    p("streamDriver.CheckExtendedKeyPurpose", Binary),
    p("streamDriver.PrioritizeSAN", Binary),
    p("streamDriver.TlsVerifyDepth", PositiveInt),
    p("permittedPeer", Array),
    p("keepAlive", Binary),
    p("keepAlive.probes", NonNegInt),
    p("keepAlive.time", NonNegInt),
    p("keepAlive.interval", NonNegInt),
    // GnuTLS priority string: rustls cannot honour it, and silently ignoring a cipher/protocol
    // restriction would weaken security.
    p("gnutlsPriorityString", Str).unsupported(),
    p("preserveCase", Binary),
];

const IMTCP_INP: &[Param] = &[
    // A single port as a string (unlike imudp's array).
    p("port", Str).req(),
    p("maxSessions", PositiveInt),
    p("maxListeners", PositiveInt),
    p("flowControl", Binary),
    p("disableLFDelimiter", Binary),
    p("discardTruncatedMsg", Binary),
    p("notifyOnConnectionClose", Binary),
    p("notifyOnConnectionOpen", Binary),
    p("addtlFrameDelimiter", NonNegInt),
    p("maxFrameSize", Int),
    p("preserveCase", Binary),
    p("listenPortFileName", Str),
    p("address", Str),
    p("name", Str),
    p("defaultTZ", Str),
    p("ruleset", Str),
    p("streamDriver.mode", NonNegInt),
    p("streamDriver.authMode", Str),
    p("streamDriver.permitExpiredCerts", Str),
    p("streamDriver.name", Str),
    p("streamDriver.CheckExtendedKeyPurpose", Binary),
    p("streamDriver.PrioritizeSAN", Binary),
    p("streamDriver.TlsVerifyDepth", PositiveInt),
    p("streamDriver.CAFile", Str),
    p("streamDriver.KeyFile", Str),
    p("streamDriver.CertFile", Str),
    p("permittedPeer", Array),
    // See IMTCP_MOD.
    p("gnutlsPriorityString", Str).unsupported(),
    p("keepAlive", Binary),
    p("keepAlive.probes", NonNegInt),
    p("keepAlive.time", NonNegInt),
    p("keepAlive.interval", NonNegInt),
    p("supportOctetCountedFraming", Binary),
    p("rateLimit.interval", Int),
    p("framingfix.cisco.asa", Binary),
    p("rateLimit.burst", Int),
];

const IMPTCP_MOD: &[Param] = &[
    p("threads", PositiveInt),
    p("maxSessions", Int),
    p("processOnPoller", Binary),
];

const IMPTCP_INP: &[Param] = &[
    // Not required by the table: either `port` or `path` (a unix socket) must be given.
    p("port", Str),
    p("address", Str),
    p("path", Str),
    p("unlink", Binary),
    p("discardTruncatedMsg", Binary),
    p("fileOwner", Uid),
    p("fileOwnerNum", Int),
    p("fileGroup", Gid),
    p("fileGroupNum", Int),
    p("fileCreateMode", FileMode),
    p("failOnChOwnFailure", Binary),
    p("flowControl", Binary),
    p("name", Str),
    p("maxFrameSize", Int),
    p("framing.delimiter.regex", Str),
    p("ruleset", Str),
    p("defaultTZ", Str),
    p("supportOctetCountedFraming", Binary),
    p("framingfix.cisco.asa", Binary),
    p("maxSessions", Int),
    p("notifyOnConnectionClose", Binary),
    p("notifyOnConnectionOpen", Binary),
    // Stream decompression of omfwd-compressed sessions: compression is out of scope.
    p("compression.mode", Word).unsupported(),
    p("keepAlive", Binary),
    p("keepAlive.probes", Int),
    p("keepAlive.time", Int),
    p("keepAlive.interval", Int),
    p("addtlFrameDelimiter", Int),
    p("rateLimit.interval", Int),
    p("rateLimit.burst", Int),
    p("multiLine", Binary),
    p("listenPortFileName", Str),
    p("socketBacklog", Int),
];

/// imklog has module parameters only (one kernel log source).
const IMKLOG_MOD: &[Param] = &[
    p("ruleset", Str),
    p("logPath", Word),
    p("permitNonKernelFacility", Binary),
    p("consoleLogLevel", Int),
    p("parseKernelTimestamp", Binary),
    p("keepKernelTimestamp", Binary),
    p("internalMsgFacility", Facility),
    p("ratelimitInterval", Int),
    p("ratelimitBurst", Int),
];

/// immark has module parameters only.
const IMMARK_MOD: &[Param] = &[
    p("ruleset", Str),
    p("markMessageText", Str),
    p("use.syslogCall", Binary),
    p("use.markFlag", Binary),
    p("interval", Int),
];

const IMFILE_MOD: &[Param] = &[
    p("pollingInterval", PositiveInt),
    p("readTimeout", NonNegInt),
    p("timeoutGranularity", PositiveInt),
    p("sortFiles", Binary),
    p("statefile.directory", Str),
    p("normalizePath", Binary),
    // inotify | polling | fen (fen is Solaris-only; the loader refuses that value).
    p("mode", Word),
];

const IMFILE_INP: &[Param] = &[
    p("file", Str).req(),
    p("tag", Str).req(),
    p("severity", Severity),
    p("facility", Facility),
    p("ruleset", Str),
    p("readMode", Int),
    p("startmsg.regex", Str),
    p("endmsg.regex", Str),
    p("discardTruncatedMsg", Binary),
    p("msgDiscardingError", Binary),
    p("escapeLF", Binary),
    p("escapeLF.replacement", Str),
    p("reopenOnTruncate", Binary),
    p("maxLinesAtOnce", Int),
    p("trimLineOverBytes", Int),
    p("maxSubmitAtOnce", Int),
    p("removeStateOnDelete", Binary),
    p("persistStateInterval", Int),
    p("persistStateAfterSubmission", Binary),
    p("deleteStateOnFileDelete", Binary),
    p("delay.message", NonNegInt),
    p("addMetadata", Binary),
    p("addCeeTag", Binary),
    // Deprecated in rsyslog (CNFPARAM_DEPRECATED: accepted with a warning).
    p("stateFile", Str),
    p("readTimeout", NonNegInt),
    p("freshStartTail", Binary),
    p("fileNotFoundError", Binary),
    p("needParse", Binary),
    p("ignoreOlderThan", Int),
    p("MaxBytesPerMinute", Int),
    p("MaxLinesPerMinute", Int),
];

/// impstats has module parameters only.
const IMPSTATS_MOD: &[Param] = &[
    p("interval", Int),
    p("facility", Int),
    p("severity", Int),
    p("bracketing", Binary),
    p("log.syslog", Binary),
    p("resetCounters", Binary),
    p("log.file", Word),
    // legacy | json | json-elasticsearch | cee
    p("format", Word),
    p("ruleset", Str),
];

const IMRELP_MOD: &[Param] = &[
    p("ruleset", Word),
    // gnutls | openssl: selects librelp's TLS library; with rustls there is one library, so
    // the value is checked and otherwise has no effect.
    p("tls.tlsLib", Str),
];

const IMRELP_INP: &[Param] = &[
    p("port", Str).req(),
    p("address", Str),
    p("name", Str),
    p("ruleset", Str),
    p("keepAlive", Binary),
    p("keepAlive.probes", Int),
    p("keepAlive.time", Int),
    p("keepAlive.interval", Int),
    p("maxDataSize", Size),
    p("oversizeMode", Str),
    p("flowControl", Word),
    p("tls", Binary),
    p("tls.permittedPeer", Array),
    p("tls.authMode", Str),
    // The minimum finite-field DH size: rustls negotiates ECDHE only, so no weaker exchange
    // can happen; accepted without effect (src/relp/tls.rs).
    p("tls.dhbits", Int),
    // GnuTLS/OpenSSL priority string: rustls cannot honour it (security setting).
    p("tls.priorityString", Str).unsupported(),
    p("tls.caCert", Str),
    p("tls.myCert", Str),
    p("tls.myPrivKey", Str),
    // OpenSSL SSL_CONF_cmd list: rustls cannot honour it (security setting).
    p("tls.tlsCfgCmd", Str).unsupported(),
    // TLS-level compression: rustls does not implement it (and it is unsafe, CRIME);
    // src/relp/tls.rs refuses "on" at start, "off" is what rustls does.
    p("tls.compression", Binary),
];

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

const OMFILE_MOD: &[Param] = &[
    p("template", Word),
    // Output compression (zlib/zstd): out of scope.
    p("compression.driver", Word).unsupported(),
    p("compression.zstd.workers", PositiveInt).unsupported(),
    p("dirCreateMode", FileMode),
    p("fileCreateMode", FileMode),
    p("dirOwner", Uid),
    p("dirOwnerNum", Int),
    p("dirGroup", Gid),
    p("dirGroupNum", Int),
    p("fileOwner", Uid),
    p("fileOwnerNum", Int),
    p("fileGroup", Gid),
    p("dynafile.donotsuspend", Binary),
    p("fileGroupNum", Int),
];

const OMFILE_INP: &[Param] = &[
    p("dynaFileCacheSize", Int),
    // gzip output: compression is out of scope.
    p("zipLevel", Int).unsupported(),
    p("flushInterval", Int),
    p("asyncWriting", Binary),
    // Only meaningful with zipLevel.
    p("veryRobustZip", Binary).unsupported(),
    p("flushOnTXEnd", Binary),
    p("ioBufferSize", Size),
    p("dirOwner", Uid),
    p("dirOwnerNum", Int),
    p("dirGroup", Gid),
    p("dirGroupNum", Int),
    p("fileOwner", Uid),
    p("fileOwnerNum", Int),
    p("fileGroup", Gid),
    p("fileGroupNum", Int),
    p("dirCreateMode", FileMode),
    p("fileCreateMode", FileMode),
    p("failOnChOwnFailure", Binary),
    p("createDirs", Binary),
    p("sync", Binary),
    // Not required by the table: exactly one of `file` and `dynaFile` must be given.
    p("file", Str),
    p("dynaFile", Str),
    // Signature provider (KSI): out of scope; refusing is the only safe answer, as accepting
    // would write unsigned logs the user believes are signed.
    p("sig.provider", Word).unsupported(),
    // Encryption provider (gcry): out of scope; accepting would write clear text.
    p("cry.provider", Word).unsupported(),
    p("closeTimeout", PositiveInt),
    p("rotation.sizeLimit", Size),
    p("rotation.sizeLimitCommand", Str),
    p("template", Word),
    // Parameters the providers above take from the same action() (runtime/lmcry_gcry.c
    // `cnfpdescrRegular`, runtime/lmsig_ksi-ls12.c `cnfpdescr`); refused with them. In rsyslog
    // sig.aggregator.url and sig.block.levelLimit are required once sig.provider is set.
    p("cry.key", Word).unsupported(),
    p("cry.keyFile", Word).unsupported(),
    p("cry.keyProgram", Word).unsupported(),
    p("cry.mode", Word).unsupported(),
    p("cry.algo", Word).unsupported(),
    p("sig.hashFunction", Word).unsupported(),
    p("sig.aggregator.url", Word).unsupported(),
    p("sig.aggregator.user", Word).unsupported(),
    p("sig.aggregator.key", Word).unsupported(),
    p("sig.aggregator.hmacAlg", Word).unsupported(),
    p("sig.block.levelLimit", Size).unsupported(),
    p("sig.block.timeLimit", Int).unsupported(),
    p("sig.block.signTimeout", Int).unsupported(),
    p("sig.confInterval", Int).unsupported(),
    p("sig.keepRecordHashes", Binary).unsupported(),
    p("sig.keepTreeHashes", Binary).unsupported(),
    p("sig.fileFormat", Str).unsupported(),
    p("sig.syncMode", Str).unsupported(),
    p("sig.randomSource", Str).unsupported(),
    p("sig.debugFile", Str).unsupported(),
    p("sig.debugLevel", Int).unsupported(),
];

const OMFWD_INP: &[Param] = &[
    // Not required by the table, but omfwd refuses an action without a target. An array
    // (and `port` as an array) forms a target pool, as rsyslog 8.2404+ (src/output/target_pool.rs).
    p("target", WordOrArray),
    p("address", Word),
    p("device", Word),
    p("port", WordOrArray),
    // How often a failed target of a pool is tried again (s, rsyslog 8.2404+).
    p("pool.resumeInterval", Int),
    p("protocol", Word),
    // Sending from another network namespace (setns(2), CAP_SYS_ADMIN): out of scope.
    p("networkNamespace", Word).unsupported(),
    p("TCP_Framing", Word),
    p("TCP_FrameDelimiter", Int),
    // zlib compression of the sent data: out of scope.
    p("zipLevel", Int).unsupported(),
    p("compression.mode", Word).unsupported(),
    p("compression.stream.flushOnTXEnd", Binary).unsupported(),
    p("ipFreeBind", Int),
    // Deprecated in rsyslog (CNFPARAM_DEPRECATED: accepted with a warning).
    p("maxErrorMessages", Int),
    p("rebindInterval", Int),
    p("keepAlive", Binary),
    p("keepAlive.probes", NonNegInt),
    p("keepAlive.time", NonNegInt),
    p("keepAlive.interval", NonNegInt),
    p("conErrSkip", NonNegInt),
    // GnuTLS priority string: rustls cannot honour it (security setting, never ignored).
    p("gnutlsPriorityString", Str).unsupported(),
    p("streamDriver", Word),
    p("streamDriverMode", Int),
    p("streamDriverAuthMode", Word),
    // One word: a comma-separated list (not an array as in imtcp).
    p("streamDriverPermittedPeers", Word),
    p("streamDriver.permitExpiredCerts", Word),
    p("streamDriver.CheckExtendedKeyPurpose", Binary),
    p("streamDriver.PrioritizeSAN", Binary),
    p("streamDriver.TlsVerifyDepth", PositiveInt),
    p("streamDriver.CAFile", Str),
    p("streamDriver.KeyFile", Str),
    p("streamDriver.CertFile", Str),
    // The SNI name sent instead of the target (rsyslog 8.2310+, asked for by issue #8).
    p("streamDriver.RemoteSNI", Str),
    p("resendLastMSGOnReconnect", Binary),
    p("udp.sendToAll", Binary),
    p("udp.sendDelay", Int),
    p("udp.sendbuf", Size),
    p("template", Word),
    p("rateLimit.interval", Int),
    p("rateLimit.burst", Int),
];

const OMUSRMSG_INP: &[Param] = &[p("users", Str).req(), p("template", Word)];

const OMPIPE_INP: &[Param] = &[
    p("pipe", Str).req(),
    p("template", Word),
    p("tryResumeReopen", Binary),
];

/// Built-in output modules whose module() takes a default template only.
const TEMPLATE_ONLY: &[Param] = &[p("template", Word)];

const OMPROG_INP: &[Param] = &[
    p("binary", Str).req(),
    p("confirmMessages", Binary),
    p("confirmTimeout", Int),
    p("reportFailures", Binary),
    p("useTransactions", Binary),
    p("beginTransactionMark", Str),
    p("commitTransactionMark", Str),
    p("forceSingleInstance", Binary),
    p("hup.signal", Word),
    p("template", Word),
    p("signalOnClose", Binary),
    p("closeTimeout", Int),
    p("killUnresponsive", Binary),
    p("output", Str),
    p("fileCreateMode", FileMode),
];

const OMRELP_MOD: &[Param] = &[
    // See IMRELP_MOD.
    p("tls.tlsLib", Str),
];

const OMRELP_INP: &[Param] = &[
    // An array (and `port` as an array) forms a target pool: an oxsyslog extension (rsyslog's
    // omrelp takes one target), after omfwd's pools (src/output/target_pool.rs).
    p("target", WordOrArray).req(),
    p("pool.resumeInterval", Int),
    p("tls", Binary),
    // See IMRELP_INP for the refused TLS parameters.
    p("tls.compression", Binary),
    p("tls.priorityString", Str).unsupported(),
    p("tls.caCert", Str),
    p("tls.myCert", Str),
    p("tls.myPrivKey", Str),
    p("tls.authMode", Str),
    p("tls.tlsCfgCmd", Str).unsupported(),
    p("tls.permittedPeer", Array),
    p("port", WordOrArray),
    p("rebindInterval", Int),
    p("windowSize", Int),
    p("timeout", Int),
    p("conn.timeout", Int),
    p("localClientIp", Word),
    p("template", Word),
];

const OMKAFKA_INP: &[Param] = &[
    p("topic", Str).req(),
    p("dynaTopic", Binary),
    p("dynaTopic.cachesize", Int),
    p("dynaKey", Binary),
    p("partitions.auto", Binary),
    p("partitions.number", PositiveInt),
    p("partitions.useFixed", NonNegInt),
    p("broker", Array),
    p("confParam", Array),
    p("topicConfParam", Array),
    p("errorFile", Word),
    p("statsFile", Word),
    p("key", Word),
    p("template", Word),
    p("closeTimeout", PositiveInt),
    p("reopenOnHup", Binary),
    p("resubmitOnFailure", Binary),
    p("keepFailedMessages", Binary),
    p("failedMsgFile", Word),
    p("statsName", Word),
];

/// oxsyslog's own signed audit-log output (see DESIGN.md "Signed audit output").
const OMAUDIT_INP: &[Param] = &[
    // The audit log file the signed, hash-chained records are appended to.
    p("file", Str).req(),
    // Node id written into every record; defaults to the local host name.
    p("nodeId", Str),
    // Signing key kind: ed25519 | ecdsa-p256 (software key file) or pkcs11.
    p("key.type", Word),
    // Software private key file (PEM / PKCS#8).
    p("key.file", Str),
    // Key id written into each record's protection value (`version:algorithm:keyid:sig`).
    p("key.id", Str),
    // PKCS#11 module (e.g. SoftHSM2's libsofthsm2.so).
    p("pkcs11.sharedLibrary", Str),
    // Slot number or label selecting the token.
    p("pkcs11.slot", Str),
    p("pkcs11.tokenLabel", Str),
    p("pkcs11.keyLabel", Str),
    // File holding the token user PIN (never the PIN itself in the config).
    p("pkcs11.pinFile", Str),
    // sequential (sequence number advances only after a durable write) | batched.
    p("mode", Word),
    // Write a signed checkpoint (sequence, chain head) every N seconds …
    p("checkpoint.interval", Int),
    // … and/or every N records.
    p("checkpoint.records", Int),
    // Where checkpoints go (default: inline in the audit file).
    p("checkpoint.file", Str),
    // What to do when a checkpoint cannot be written (e.g. suspend | continue).
    p("checkpoint.action", Str),
    // Template rendering the record's free-text details field (default: the message).
    p("template", Str),
    // Mapping of audit fields: each names a template rendered per message into that field of
    // the record (the SignServer/CESeCore audit record layout).
    p("mapping.eventType", Str),
    p("mapping.eventStatus", Str),
    p("mapping.module", Str),
    p("mapping.service", Str),
    p("mapping.authToken", Str),
    p("mapping.customId", Str),
    p("mapping.searchDetail1", Str),
    p("mapping.searchDetail2", Str),
    p("mapping.additionalDetails", Str),
    // Permissions of a newly created audit file (as omfile's).
    p("fileCreateMode", FileMode),
    p("fileOwner", Uid),
    p("fileGroup", Gid),
];

// ---------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------

/// pmrfc3164 `parserpdescr`, set with `parser(name="…" type="pmrfc3164" …)`.
const PMRFC3164_INP: &[Param] = &[
    p("detect.YearAfterTimestamp", Binary),
    p("permit.squareBracketsInHostname", Binary),
    p("permit.slashesInHostname", Binary),
    p("permit.AtSignsInHostname", Binary),
    p("force.tagEndingByColon", Binary),
    p("remove.msgFirstSpace", Binary),
];

const NONE: &[Param] = &[];

/// A module oxsyslog implements.
const fn yes(
    name: &'static str,
    kind: ModKind,
    builtin: bool,
    module_params: &'static [Param],
    instance_params: &'static [Param],
) -> Module {
    Module {
        name,
        kind,
        builtin,
        sup: Sup::Yes,
        module_params,
        instance_params,
    }
}

/// A module of the rsyslog 8.2302 tree that oxsyslog does not implement (its parameters are
/// not listed: loading it is refused before any parameter is looked at).
const fn no(name: &'static str, kind: ModKind) -> Module {
    Module {
        name,
        kind,
        builtin: false,
        sup: Sup::No,
        module_params: NONE,
        instance_params: NONE,
    }
}

use ModKind::{Input as In, Other, Output as Out, Parser as Pm};

pub static MODULES: &[Module] = &[
    // --- supported inputs -------------------------------------------------------------------
    yes("imuxsock", In, false, IMUXSOCK_MOD, IMUXSOCK_INP),
    yes("imudp", In, false, IMUDP_MOD, IMUDP_INP),
    yes("imtcp", In, false, IMTCP_MOD, IMTCP_INP),
    // oxsyslog runs imptcp as imtcp, but validates against imptcp's own tables.
    yes("imptcp", In, false, IMPTCP_MOD, IMPTCP_INP),
    yes("imklog", In, false, IMKLOG_MOD, NONE),
    yes("immark", In, false, IMMARK_MOD, NONE),
    yes("imfile", In, false, IMFILE_MOD, IMFILE_INP),
    yes("impstats", In, false, IMPSTATS_MOD, NONE),
    yes("imrelp", In, false, IMRELP_MOD, IMRELP_INP),
    // --- supported outputs ------------------------------------------------------------------
    // rsyslog registers the built-ins as "builtin:omfile" etc. (find_module strips the prefix).
    yes("omfile", Out, true, OMFILE_MOD, OMFILE_INP),
    yes("omfwd", Out, true, TEMPLATE_ONLY, OMFWD_INP),
    yes("omusrmsg", Out, true, NONE, OMUSRMSG_INP),
    yes("ompipe", Out, true, TEMPLATE_ONLY, OMPIPE_INP),
    yes("omdiscard", Out, true, NONE, NONE),
    yes("omprog", Out, false, NONE, OMPROG_INP),
    yes("omrelp", Out, false, OMRELP_MOD, OMRELP_INP),
    yes("omkafka", Out, false, NONE, OMKAFKA_INP),
    yes("omaudit", Out, false, NONE, OMAUDIT_INP),
    // --- supported parsers ------------------------------------------------------------------
    // Module names (builtin:pmrfc3164, builtin:pmrfc5424). `parser(type=…)` looks modules up by
    // their config name: pmrfc3164 has one, pmrfc5424 has none, so `parser(type="pmrfc5424")`
    // is an error in rsyslog ("parser module name 'pmrfc5424' is unknown").
    yes("pmrfc3164", Pm, true, NONE, PMRFC3164_INP),
    yes("pmrfc5424", Pm, true, NONE, NONE),
    // Parser *names* of the same two modules, as used in `ruleset(parser=[…])`,
    // `$RulesetParser` and the default parser chain (rfc5424 first, rfc3164 last). rsyslog
    // cannot `module(load=…)` these names; they are listed so the loader can resolve them.
    yes("rsyslog.rfc3164", Pm, true, NONE, PMRFC3164_INP),
    yes("rsyslog.rfc5424", Pm, true, NONE, NONE),
    // --- built-in string generators ---------------------------------------------------------
    // Back the RSYSLOG_FileFormat, RSYSLOG_TraditionalFileFormat, RSYSLOG_ForwardFormat and
    // RSYSLOG_TraditionalForwardFormat templates, which oxsyslog implements as templates.
    yes("smfile", Other, true, NONE, NONE),
    yes("smtradfile", Other, true, NONE, NONE),
    yes("smfwd", Other, true, NONE, NONE),
    yes("smtradfwd", Other, true, NONE, NONE),
    // --- not supported: built-in ------------------------------------------------------------
    // The `^program;template` legacy action; rsyslog registers it as "builtin-shell" (note the
    // hyphen), and it has no config name, so `action(type=…)` cannot name it.
    Module {
        builtin: true,
        ..no("omshell", Out)
    },
    // --- not supported: plugins/ ------------------------------------------------------------
    no("im3195", In),
    // rsyslog's test-harness control input (injection, "wait until queue empty").
    no("imdiag", In),
    no("imgssapi", In),
    no("imjournal", In),
    no("imkafka", In),
    no("imsolaris", In),
    no("mmanon", Other),
    no("mmaudit", Other),
    no("mmdblookup", Other),
    no("mmexternal", Other),
    no("mmfields", Other),
    no("mmjsonparse", Other),
    no("mmnormalize", Other),
    no("mmpstrucdata", Other),
    no("mmrm1stspace", Other),
    no("mmsnmptrapd", Other),
    no("mmutf8fix", Other),
    no("omclickhouse", Out),
    no("omelasticsearch", Out),
    no("omgssapi", Out),
    no("omhdfs", Out),
    no("omjournal", Out),
    no("omlibdbi", Out),
    no("ommail", Out),
    no("ommongodb", Out),
    no("ommysql", Out),
    // `$ModLoad MySQL` (exact case) is rewritten to ommysql.so by rsyslog.
    no("MySQL", Out),
    no("ompgsql", Out),
    no("omruleset", Out),
    no("omsnmp", Out),
    no("omstdout", Out),
    no("omtesting", Out),
    no("omudpspoof", Out),
    no("omuxsock", Out),
    no("pmciscoios", Pm),
    no("pmlastmsg", Pm),
    no("pmnormalize", Pm),
    no("pmnull", Pm),
    no("fmhttp", Other),
    // --- not supported: contrib/ ------------------------------------------------------------
    no("imbatchreport", In),
    no("imczmq", In),
    no("imdocker", In),
    no("imhiredis", In),
    no("imhttp", In),
    no("imkmsg", In),
    no("impcap", In),
    no("improg", In),
    no("imtuxedoulog", In),
    no("mmcount", Other),
    no("mmdarwin", Other),
    no("mmgrok", Other),
    no("mmkubernetes", Other),
    no("mmrfc5424addhmac", Other),
    no("mmsequence", Other),
    no("mmtaghostname", Other),
    no("omamqp1", Out),
    no("omczmq", Out),
    // Its config name is "omfile" (it replaces omfile when loaded).
    no("omfile-hardened", Out),
    no("omhiredis", Out),
    no("omhttp", Out),
    no("omhttpfs", Out),
    no("omrabbitmq", Out),
    no("omtcl", Out),
    no("pmaixforwardedfrom", Pm),
    no("pmcisconames", Pm),
    no("pmdb2diag", Pm),
    no("pmpanngfw", Pm),
    no("pmsnare", Pm),
    no("ffaup", Other),
    no("fmhash", Other),
    no("fmunflatten", Other),
    // --- not supported: runtime/ library modules -------------------------------------------
    // rsyslog loads these itself when needed; an explicit `$ModLoad lmnsd_gtls` is legal there.
    no("lmregexp", Other),
    no("lmzlibw", Other),
    no("lmzstdw", Other),
    no("lmnet", Other),
    no("lmnetstrms", Other),
    no("lmnsd_ptcp", Other),
    no("lmnsd_gtls", Other),
    no("lmnsd_ossl", Other),
    no("lmtcpsrv", Other),
    no("lmtcpclt", Other),
    no("lmgssutil", Other),
    no("lmcry_gcry", Other),
    no("lmsig_ksi_ls12", Other),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::find_param;
    use crate::config::schema::objects::{ACTION_COMMON, COMMON, INPUT_COMMON, QUEUE};

    fn assert_unique(what: &str, table: &[Param]) {
        for (i, a) in table.iter().enumerate() {
            for b in &table[i + 1..] {
                assert!(
                    !a.name.eq_ignore_ascii_case(b.name),
                    "duplicate {:?} in {what}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn no_duplicate_module_names() {
        for (i, a) in MODULES.iter().enumerate() {
            for b in &MODULES[i + 1..] {
                assert!(
                    !a.name.eq_ignore_ascii_case(b.name),
                    "duplicate module {:?}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn no_duplicate_param_names() {
        for m in MODULES {
            assert_unique(&format!("{} module params", m.name), m.module_params);
            assert_unique(&format!("{} instance params", m.name), m.instance_params);
        }
    }

    #[test]
    fn unsupported_modules_have_no_params() {
        for m in MODULES.iter().filter(|m| m.sup == Sup::No) {
            assert!(
                m.module_params.is_empty() && m.instance_params.is_empty(),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn instance_params_do_not_shadow_common_ones() {
        for m in MODULES {
            for prm in m.instance_params {
                match m.kind {
                    ModKind::Input => {
                        assert!(find_param(INPUT_COMMON, prm.name).is_none(), "{}", prm.name)
                    }
                    ModKind::Output => assert!(
                        find_param(ACTION_COMMON, prm.name).is_none()
                            && find_param(QUEUE, prm.name).is_none(),
                        "{}: {}",
                        m.name,
                        prm.name
                    ),
                    _ => {}
                }
                assert!(find_param(COMMON, prm.name).is_none());
            }
        }
    }

    #[test]
    fn find_module_accepts_rsyslog_spellings() {
        assert_eq!(find_module("builtin:omfile").unwrap().name, "omfile");
        assert_eq!(
            find_module("/usr/lib/x86_64-linux-gnu/rsyslog/imtcp.so")
                .unwrap()
                .name,
            "imtcp"
        );
        assert_eq!(find_module("IMUXSOCK").unwrap().name, "imuxsock");
        assert_eq!(find_module("ommysql").unwrap().sup, Sup::No);
        assert!(find_module("omnosuchthing").is_none());
    }

    #[test]
    fn known_facts() {
        let imudp = find_module("imudp").unwrap();
        assert!(find_param(imudp.instance_params, "port").unwrap().required);
        let omfile = find_module("omfile").unwrap();
        assert!(omfile.builtin);
        assert_eq!(
            find_param(omfile.instance_params, "zipLevel").unwrap().sup,
            Sup::No
        );
        assert_eq!(
            find_param(omfile.instance_params, "rotation.sizeLimit")
                .unwrap()
                .sup,
            Sup::Yes
        );
        let omfwd = find_module("omfwd").unwrap();
        assert_eq!(
            find_param(omfwd.instance_params, "gnutlsPriorityString")
                .unwrap()
                .sup,
            Sup::No
        );
        let omrelp = find_module("omrelp").unwrap();
        assert!(
            find_param(omrelp.instance_params, "target")
                .unwrap()
                .required
        );
        let audit = find_module("omaudit").unwrap();
        assert!(find_param(audit.instance_params, "file").unwrap().required);
        assert!(audit.module_params.is_empty());
        // Every supported module the project promises is present and supported.
        for name in [
            "imuxsock",
            "imudp",
            "imtcp",
            "imptcp",
            "imklog",
            "immark",
            "imfile",
            "impstats",
            "imrelp",
            "omfile",
            "omfwd",
            "omusrmsg",
            "ompipe",
            "omdiscard",
            "omprog",
            "omrelp",
            "omkafka",
            "omaudit",
            "rsyslog.rfc5424",
            "rsyslog.rfc3164",
            "pmrfc3164",
        ] {
            assert_eq!(find_module(name).unwrap().sup, Sup::Yes, "{name}");
        }
    }
}
