//! The legacy `$Directive` table: every directive rsyslog 8.2302 knows, its value type, the
//! module that must be loaded for it, and where its value lands in the typed model (the same
//! parameter as its RainerScript twin, with rsyslog's positional rules).
//!
//! Read from every `regCfSysLineHdlr` / `regCfSysLineHdlr2` / `omsdRegCFSLineHdlr` call in the
//! 8.2302 tree (runtime/, action.c, tools/, plugins/, contrib/), plus `$IncludeConfig`, which
//! the lexer handles itself. How rsyslog reads a directive line (runtime/conf.c `cfsysline`):
//! the name runs up to the first *space* (a tab after the name makes it part of the name, so
//! the directive is unknown), and is matched case-insensitively.

use super::{Sup, Ty, Ty::*};

/// Where a legacy directive's value goes. The parameter names are those of the RainerScript
/// twin, so after loading nothing knows which syntax set a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A `global()` parameter.
    Global(&'static str),
    /// A `main_queue()` parameter (`queue.*`).
    MainQueue(&'static str),
    /// A module-level parameter of the directive's module (`module(load="m" param=…)`),
    /// taken at the end of the config load.
    ModParam(&'static str),
    /// An `action()` parameter that applies to the next action only, then resets
    /// (`$ActionQueue*`, `$ActionResumeRetryCount`, `$ActionName`, every-Nth).
    NextAction(&'static str),
    /// An `action()` parameter that stays in force for every later action until changed.
    StickyAction(&'static str),
    /// An omfile parameter frozen into each later legacy file action (`$FileOwner` …).
    LegacyFile(&'static str),
    /// An omfwd parameter captured by each later legacy `@`/`@@` action.
    LegacyFwd(&'static str),
    /// A per-listener imtcp parameter snapshotted by the next `$InputTCPServerRun`.
    TcpListener(&'static str),
    /// A per-listener imudp parameter snapshotted by the next `$UDPServerRun`.
    UdpListener(&'static str),
    /// A per-socket imuxsock parameter snapshotted by the next `$AddUnixListenSocket`.
    UxsockListener(&'static str),
    /// An `input()` parameter of the directive's own module, snapshotted by that module's
    /// next [`Special::InputRun`] directive (`$InputRunFileMonitor`, `$InputPTCPServerRun`,
    /// `$InputRELPServerRun`). imfile resets *all* its legacy values to their defaults after
    /// each `$InputRunFileMonitor`; imptcp and imrelp keep them for the next listener.
    InputInstance(&'static str),
    /// An instance parameter of the directive's own output module, captured by each later
    /// legacy action line of that module (`$ActionOMProgBinary` → `:omprog:;template`). Sticky.
    LegacyAction(&'static str),
    /// A directive of a module oxsyslog does not support (the module's entry has `sup: No`).
    /// The directive is known so the error can say so; its value has no place in the model.
    UnsupportedModule,
    /// A directive with its own handling in the loader.
    Special(Special),
    /// Removed from rsyslog: "config directive is no longer supported" (a warning there).
    GoneAway,
}

/// Directives whose effect is more than setting one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    ModLoad,
    ModDir,
    IncludeConfig,
    Template,
    Outchannel,
    Ruleset,
    DefaultRuleset,
    RulesetCreateMainQueue,
    RulesetParser,
    ResetConfigVariables,
    /// `$InputTCPServerRun port`: creates an imtcp listener from the current listener state.
    TcpServerRun,
    /// `$UDPServerRun port`: creates an imudp listener from the current listener state.
    UdpServerRun,
    /// `$AddUnixListenSocket path`: creates an imuxsock socket from the current socket state.
    AddUnixListenSocket,
    /// `$InputTCPServerStreamDriverPermittedPeer`: appends to the listener's peer list.
    TcpPermittedPeer,
    /// `$ActionSendStreamDriverPermittedPeer`: appends; the next `@@` action consumes the list.
    FwdPermittedPeer,
    /// `$OmitLocalLogging on` = imuxsock `SysSock.Use="off"` (inverted binary).
    OmitLocalLogging,
    /// `$LogRSyslogStatusMessages`, `$DebugPrintTemplateList` and others that only tune
    /// diagnostics output.
    Diagnostic,
    /// Creates an instance of the directive's module from the current [`Target::InputInstance`]
    /// state; the value is the port (imptcp, imrelp; imptcp refuses an empty one) or ignored
    /// (imfile: `$InputRunFileMonitor` takes no value and needs `$InputFileName` and
    /// `$InputFileTag` set before it).
    InputRun,
    /// `$PStatJSON on` = impstats `format="json"`, `$PStatCEE on` = `format="cee"` (the
    /// directive's name says which; `off` leaves the legacy format). cee wins over json.
    PstatsFormat,
    /// `$RepeatedMsgReduction on|off`: legacy only, no RainerScript twin. Applies to the
    /// repeated-message reduction of inputs' rate limiters ("last message repeated n times").
    RepeatedMsgReduction,
    /// `$MaxOpenFiles n`: legacy only; raises RLIMIT_NOFILE at once (setrlimit).
    MaxOpenFiles,
    /// `$LocalHostIPIF ifname`: legacy only; takes the IP of that interface as the local
    /// host IP (the `fromhost-ip` of internal messages).
    LocalHostIpIf,
    /// `$AllowedSender UDP|TCP|GSS, addr[/bits], host, *.domain …`: sender ACLs of the UDP / TCP
    /// inputs (legacy only). A security setting: must be enforced or refused, never ignored.
    AllowedSender,
}

/// One legacy directive.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// Name without `$`, matched case-insensitively.
    pub name: &'static str,
    pub ty: Ty,
    /// Module that registers the directive; `None` for rsyslogd's core and built-in modules,
    /// except that a [`Target::ModParam`] of a built-in module names it (`$ActionFileDefaultTemplate`
    /// → omfile, `$ActionForwardDefaultTemplate` → omfwd).
    pub module: Option<&'static str>,
    pub target: Target,
    pub sup: Sup,
}

/// Shorthand constructor for table entries.
pub const fn d(
    name: &'static str,
    ty: Ty,
    module: Option<&'static str>,
    target: Target,
) -> Directive {
    Directive {
        name,
        ty,
        module,
        target,
        sup: Sup::Yes,
    }
}

impl Directive {
    /// Marks the directive as known to rsyslog but not implemented by oxsyslog.
    pub const fn unsupported(mut self) -> Directive {
        self.sup = Sup::No;
        self
    }
}

/// Finds a directive by case-insensitive name (without the `$`).
pub fn find_directive(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

use Target::*;

/// Shorthands for the table below.
const fn sp(s: Special) -> Target {
    Target::Special(s)
}
/// A directive of a module oxsyslog does not support.
const fn un(name: &'static str, ty: Ty, module: &'static str) -> Directive {
    d(name, ty, Some(module), UnsupportedModule).unsupported()
}
const DIAG: Target = Target::Special(self::Special::Diagnostic);
const UXSOCK: Option<&str> = Some("imuxsock");
const UDP: Option<&str> = Some("imudp");
const TCP: Option<&str> = Some("imtcp");
const PTCP: Option<&str> = Some("imptcp");
const FILE: Option<&str> = Some("imfile");
const KLOG: Option<&str> = Some("imklog");
const PSTATS: Option<&str> = Some("impstats");

pub static DIRECTIVES: &[Directive] = &[
    // --- rsyslogd core: config structure (runtime/rsconf.c, runtime/ruleset.c, lexer) --------
    d("ModLoad", Str, None, sp(self::Special::ModLoad)),
    d("ModDir", Word, None, sp(self::Special::ModDir)),
    // Handled by the lexer, not registered: needs a space (not a tab) after the name.
    d(
        "IncludeConfig",
        Word,
        None,
        sp(self::Special::IncludeConfig),
    ),
    d("Template", Str, None, sp(self::Special::Template)),
    d("Outchannel", Str, None, sp(self::Special::Outchannel)),
    d("Ruleset", Word, None, sp(self::Special::Ruleset)),
    d(
        "DefaultRuleset",
        Word,
        None,
        sp(self::Special::DefaultRuleset),
    ),
    d(
        "RulesetCreateMainQueue",
        Binary,
        None,
        sp(self::Special::RulesetCreateMainQueue),
    ),
    d(
        "RulesetParser",
        Word,
        None,
        sp(self::Special::RulesetParser),
    ),
    // Registered by the core and by most modules; each resets its own legacy state.
    d(
        "ResetConfigVariables",
        Str,
        None,
        sp(self::Special::ResetConfigVariables),
    ),
    d("AllowedSender", Str, None, sp(self::Special::AllowedSender)),
    // --- rsyslogd core: globals (runtime/rsconf.c, runtime/glbl.c) ---------------------------
    d("WorkDirectory", Word, None, Global("workDirectory")),
    d("MaxMessageSize", Size, None, Global("maxMessageSize")),
    d("MaxOpenFiles", Int, None, sp(self::Special::MaxOpenFiles)),
    d("Umask", FileMode, None, Global("umask")),
    d("PrivDropToUser", Uid, None, Global("privdrop.user.name")),
    d("PrivDropToUserID", Int, None, Global("privdrop.user.id")),
    d("PrivDropToGroup", Gid, None, Global("privdrop.group.name")),
    d("PrivDropToGroupID", Int, None, Global("privdrop.group.id")),
    d("LocalHostName", Word, None, Global("localHostname")),
    d(
        "LocalHostIPIF",
        Word,
        None,
        sp(self::Special::LocalHostIpIf),
    ),
    d("PreserveFQDN", Binary, None, Global("preserveFQDN")),
    d(
        "AbortOnUncleanConfig",
        Binary,
        None,
        Global("abortOnUncleanConfig"),
    ),
    d(
        "DropMsgsWithMaliciousDnsPTRRecords",
        Binary,
        None,
        Global("dropMsgsWithMaliciousDnsPtrRecords"),
    ),
    d(
        "RepeatedMsgReduction",
        Binary,
        None,
        sp(self::Special::RepeatedMsgReduction),
    ),
    d(
        "DefaultNetstreamDriver",
        Word,
        None,
        Global("defaultNetstreamDriver"),
    ),
    d(
        "DefaultNetstreamDriverCAFile",
        Word,
        None,
        Global("defaultNetstreamDriverCAFile"),
    ),
    d(
        "DefaultNetstreamDriverCertFile",
        Word,
        None,
        Global("defaultNetstreamDriverCertFile"),
    ),
    d(
        "DefaultNetstreamDriverKeyFile",
        Word,
        None,
        Global("defaultNetstreamDriverKeyFile"),
    ),
    d(
        "NetstreamDriverCaExtraFiles",
        Word,
        None,
        Global("netstreamDriverCaExtraFiles"),
    ),
    // The parser.* globals' legacy names (glbl.c calls them deprecated).
    d(
        "ControlCharacterEscapePrefix",
        Char,
        None,
        Global("parser.controlCharacterEscapePrefix"),
    ),
    d(
        "DropTrailingLFOnReception",
        Binary,
        None,
        Global("parser.dropTrailingLFOnReception"),
    ),
    d(
        "EscapeControlCharactersOnReceive",
        Binary,
        None,
        Global("parser.escapeControlCharactersOnReceive"),
    ),
    d(
        "SpaceLFOnReceive",
        Binary,
        None,
        Global("parser.spaceLFOnReceive"),
    ),
    d(
        "Escape8BitCharactersOnReceive",
        Binary,
        None,
        Global("parser.escape8BitCharactersOnReceive"),
    ),
    d(
        "EscapeControlCharacterTab",
        Binary,
        None,
        Global("parser.escapeControlCharacterTab"),
    ),
    // Opens the debug log at once (glbl.c setDebugFile).
    d("DebugFile", Word, None, Global("debug.logFile")),
    d("DebugLevel", Int, None, DIAG),
    d("LogRSyslogStatusMessages", Binary, None, DIAG),
    d("ErrorMessagesToStderr", Binary, None, DIAG),
    d("DebugPrintTemplateList", Binary, None, DIAG),
    d("DebugPrintModuleList", Binary, None, DIAG),
    d("DebugPrintCFSyslineHandlerList", Binary, None, DIAG),
    d("GenerateConfigGraph", Word, None, DIAG),
    d("Sleep", Ty::GoneAway, None, Target::GoneAway),
    d(
        "OptimizeForUniprocessor",
        Ty::GoneAway,
        None,
        Target::GoneAway,
    ),
    // --- main queue (runtime/rsconf.c) -------------------------------------------------------
    // The type handler is a word checked against FixedArray | LinkedList | Direct | Disk.
    d("MainMsgQueueType", QueueType, None, MainQueue("queue.type")),
    d(
        "MainMsgQueueFileName",
        Word,
        None,
        MainQueue("queue.filename"),
    ),
    d("MainMsgQueueSize", Int, None, MainQueue("queue.size")),
    d(
        "MainMsgQueueHighWaterMark",
        Int,
        None,
        MainQueue("queue.highWatermark"),
    ),
    d(
        "MainMsgQueueLowWaterMark",
        Int,
        None,
        MainQueue("queue.lowWatermark"),
    ),
    d(
        "MainMsgQueueDiscardMark",
        Int,
        None,
        MainQueue("queue.discardMark"),
    ),
    d(
        "MainMsgQueueDiscardSeverity",
        Severity,
        None,
        MainQueue("queue.discardSeverity"),
    ),
    d(
        "MainMsgQueueCheckpointInterval",
        Int,
        None,
        MainQueue("queue.checkpointInterval"),
    ),
    d(
        "MainMsgQueueSyncQueueFiles",
        Binary,
        None,
        MainQueue("queue.syncQueueFiles"),
    ),
    d(
        "MainMsgQueueWorkerThreads",
        Int,
        None,
        MainQueue("queue.workerThreads"),
    ),
    d(
        "MainMsgQueueTimeoutShutdown",
        Int,
        None,
        MainQueue("queue.timeoutShutdown"),
    ),
    d(
        "MainMsgQueueTimeoutActionCompletion",
        Int,
        None,
        MainQueue("queue.timeoutActionCompletion"),
    ),
    d(
        "MainMsgQueueTimeoutEnqueue",
        Int,
        None,
        MainQueue("queue.timeoutEnqueue"),
    ),
    d(
        "MainMsgQueueWorkerTimeoutThreadShutdown",
        Int,
        None,
        MainQueue("queue.timeoutWorkerThreadShutdown"),
    ),
    d(
        "MainMsgQueueDequeueSlowdown",
        Int,
        None,
        MainQueue("queue.dequeueSlowdown"),
    ),
    d(
        "MainMsgQueueWorkerThreadMinimumMessages",
        Int,
        None,
        MainQueue("queue.workerThreadMinimumMessages"),
    ),
    d(
        "MainMsgQueueMaxFileSize",
        Size,
        None,
        MainQueue("queue.maxFileSize"),
    ),
    d(
        "MainMsgQueueDequeueBatchSize",
        Size,
        None,
        MainQueue("queue.dequeueBatchSize"),
    ),
    d(
        "MainMsgQueueMaxDiskSpace",
        Size,
        None,
        MainQueue("queue.maxDiskSpace"),
    ),
    d(
        "MainMsgQueueSaveOnShutdown",
        Binary,
        None,
        MainQueue("queue.saveOnShutdown"),
    ),
    d(
        "MainMsgQueueDequeueTimeBegin",
        Int,
        None,
        MainQueue("queue.dequeueTimeBegin"),
    ),
    d(
        "MainMsgQueueDequeueTimeEnd",
        Int,
        None,
        MainQueue("queue.dequeueTimeEnd"),
    ),
    // --- actions (action.c; $ActionResumeInterval is registered in runtime/rsconf.c) ----------
    // Reset after *every* action is created, legacy or action() (actionResetQueueParams), but
    // only legacy selector actions use them: values set before an action() are lost.
    d("ActionQueueType", QueueType, None, NextAction("queue.type")),
    d(
        "ActionQueueFileName",
        Word,
        None,
        NextAction("queue.filename"),
    ),
    d("ActionQueueSize", Int, None, NextAction("queue.size")),
    d(
        "ActionQueueDequeueBatchSize",
        Int,
        None,
        NextAction("queue.dequeueBatchSize"),
    ),
    d(
        "ActionQueueMaxDiskSpace",
        Size,
        None,
        NextAction("queue.maxDiskSpace"),
    ),
    d(
        "ActionQueueHighWaterMark",
        Int,
        None,
        NextAction("queue.highWatermark"),
    ),
    d(
        "ActionQueueLowWaterMark",
        Int,
        None,
        NextAction("queue.lowWatermark"),
    ),
    d(
        "ActionQueueDiscardMark",
        Int,
        None,
        NextAction("queue.discardMark"),
    ),
    // A plain integer here (the RainerScript twin takes names).
    d(
        "ActionQueueDiscardSeverity",
        Int,
        None,
        NextAction("queue.discardSeverity"),
    ),
    d(
        "ActionQueueCheckpointInterval",
        Int,
        None,
        NextAction("queue.checkpointInterval"),
    ),
    d(
        "ActionQueueSyncQueueFiles",
        Binary,
        None,
        NextAction("queue.syncQueueFiles"),
    ),
    d(
        "ActionQueueWorkerThreads",
        Int,
        None,
        NextAction("queue.workerThreads"),
    ),
    d(
        "ActionQueueTimeoutShutdown",
        Int,
        None,
        NextAction("queue.timeoutShutdown"),
    ),
    d(
        "ActionQueueTimeoutActionCompletion",
        Int,
        None,
        NextAction("queue.timeoutActionCompletion"),
    ),
    d(
        "ActionQueueTimeoutEnqueue",
        Int,
        None,
        NextAction("queue.timeoutEnqueue"),
    ),
    d(
        "ActionQueueWorkerTimeoutThreadShutdown",
        Int,
        None,
        NextAction("queue.timeoutWorkerThreadShutdown"),
    ),
    d(
        "ActionQueueWorkerThreadMinimumMessages",
        Int,
        None,
        NextAction("queue.workerThreadMinimumMessages"),
    ),
    d(
        "ActionQueueMaxFileSize",
        Size,
        None,
        NextAction("queue.maxFileSize"),
    ),
    d(
        "ActionQueueSaveOnShutdown",
        Binary,
        None,
        NextAction("queue.saveOnShutdown"),
    ),
    d(
        "ActionQueueDequeueSlowdown",
        Int,
        None,
        NextAction("queue.dequeueSlowdown"),
    ),
    d(
        "ActionQueueDequeueTimeBegin",
        Int,
        None,
        NextAction("queue.dequeueTimeBegin"),
    ),
    d(
        "ActionQueueDequeueTimeEnd",
        Int,
        None,
        NextAction("queue.dequeueTimeEnd"),
    ),
    d(
        "ActionResumeRetryCount",
        Int,
        None,
        NextAction("action.resumeRetryCount"),
    ),
    // Auto-reset after each legacy action (addAction).
    d("ActionName", Word, None, NextAction("name")),
    d(
        "ActionExecOnlyEveryNthTime",
        Int,
        None,
        NextAction("action.execOnlyEveryNthTime"),
    ),
    d(
        "ActionExecOnlyEveryNthTimeTimeout",
        Int,
        None,
        NextAction("action.execOnlyEveryNthTimeTimeout"),
    ),
    // Not sticky: addAction resets it to "on" after each legacy action.
    d(
        "ActionWriteAllMarkMessages",
        Binary,
        None,
        NextAction("action.writeAllMarkMessages"),
    ),
    // Sticky until changed (or $ResetConfigVariables).
    d(
        "ActionExecOnlyWhenPreviousIsSuspended",
        Binary,
        None,
        StickyAction("action.execOnlyWhenPreviousIsSuspended"),
    ),
    d(
        "ActionExecOnlyOnceEveryInterval",
        Int,
        None,
        StickyAction("action.execOnlyOnceEveryInterval"),
    ),
    d(
        "ActionResumeInterval",
        Int,
        None,
        StickyAction("action.resumeInterval"),
    ),
    d(
        "RepeatedMsgContainsOriginalMsg",
        Binary,
        None,
        StickyAction("action.repeatedmsgcontainsoriginalmsg"),
    ),
    // --- omfile (built-in; tools/omfile.c) ---------------------------------------------------
    // Applies to legacy file actions and to action(type="omfile") without a template.
    d(
        "ActionFileDefaultTemplate",
        Word,
        Some("omfile"),
        ModParam("template"),
    ),
    d("ActionFileEnableSync", Binary, None, LegacyFile("sync")),
    d("FileOwner", Uid, None, LegacyFile("fileOwner")),
    d("FileOwnerNum", Int, None, LegacyFile("fileOwnerNum")),
    d("FileGroup", Gid, None, LegacyFile("fileGroup")),
    d("FileGroupNum", Int, None, LegacyFile("fileGroupNum")),
    d("DirOwner", Uid, None, LegacyFile("dirOwner")),
    d("DirOwnerNum", Int, None, LegacyFile("dirOwnerNum")),
    d("DirGroup", Gid, None, LegacyFile("dirGroup")),
    d("DirGroupNum", Int, None, LegacyFile("dirGroupNum")),
    d(
        "FileCreateMode",
        FileMode,
        None,
        LegacyFile("fileCreateMode"),
    ),
    d("DirCreateMode", FileMode, None, LegacyFile("dirCreateMode")),
    d("CreateDirs", Binary, None, LegacyFile("createDirs")),
    d(
        "FailOnChownFailure",
        Binary,
        None,
        LegacyFile("failOnChOwnFailure"),
    ),
    d(
        "DynaFileCacheSize",
        Int,
        None,
        LegacyFile("dynaFileCacheSize"),
    ),
    d("OMFileZipLevel", Int, None, LegacyFile("zipLevel")).unsupported(),
    d(
        "OMFileFlushInterval",
        Int,
        None,
        LegacyFile("flushInterval"),
    ),
    d(
        "OMFileASyncWriting",
        Binary,
        None,
        LegacyFile("asyncWriting"),
    ),
    d(
        "OMFileFlushOnTXEnd",
        Binary,
        None,
        LegacyFile("flushOnTXEnd"),
    ),
    d("OMFileIOBufferSize", Size, None, LegacyFile("ioBufferSize")),
    d("OMFileForceChown", Ty::GoneAway, None, Target::GoneAway),
    // --- omfwd (built-in; tools/omfwd.c) -----------------------------------------------------
    d(
        "ActionForwardDefaultTemplate",
        Word,
        Some("omfwd"),
        ModParam("template"),
    ),
    // TCP and UDP keep separate legacy rebind intervals; an `@@` action takes the TCP one, an
    // `@` action the UDP one, both landing in omfwd's single `rebindInterval`.
    d(
        "ActionSendTCPRebindInterval",
        Int,
        None,
        LegacyFwd("rebindInterval"),
    ),
    d(
        "ActionSendUDPRebindInterval",
        Int,
        None,
        LegacyFwd("rebindInterval"),
    ),
    d(
        "ActionSendTCPKeepAlive",
        Binary,
        None,
        LegacyFwd("keepAlive"),
    ),
    d(
        "ActionSendTCPKeepAlive_probes",
        Int,
        None,
        LegacyFwd("keepAlive.probes"),
    ),
    d(
        "ActionSendTCPKeepAlive_intvl",
        Int,
        None,
        LegacyFwd("keepAlive.interval"),
    ),
    d(
        "ActionSendTCPKeepAlive_time",
        Int,
        None,
        LegacyFwd("keepAlive.time"),
    ),
    d(
        "ActionSendStreamDriver",
        Word,
        None,
        LegacyFwd("streamDriver"),
    ),
    d(
        "ActionSendStreamDriverMode",
        Int,
        None,
        LegacyFwd("streamDriverMode"),
    ),
    d(
        "ActionSendStreamDriverAuthMode",
        Word,
        None,
        LegacyFwd("streamDriverAuthMode"),
    ),
    d(
        "ActionSendStreamDriverPermittedPeer",
        Word,
        None,
        sp(self::Special::FwdPermittedPeer),
    ),
    d(
        "ActionSendResendLastMsgOnReconnect",
        Binary,
        None,
        LegacyFwd("resendLastMSGOnReconnect"),
    ),
    // --- omprog (plugins/omprog/omprog.c) ----------------------------------------------------
    d(
        "ActionOMProgBinary",
        Word,
        Some("omprog"),
        LegacyAction("binary"),
    ),
    // --- imuxsock (plugins/imuxsock/imuxsock.c) ----------------------------------------------
    d(
        "OmitLocalLogging",
        Binary,
        UXSOCK,
        sp(self::Special::OmitLocalLogging),
    ),
    d(
        "SystemLogSocketName",
        Word,
        UXSOCK,
        ModParam("SysSock.Name"),
    ),
    d(
        "SystemLogSocketIgnoreMsgTimestamp",
        Binary,
        UXSOCK,
        ModParam("SysSock.IgnoreTimestamp"),
    ),
    d(
        "SystemLogSocketFlowControl",
        Binary,
        UXSOCK,
        ModParam("SysSock.FlowControl"),
    ),
    d(
        "SystemLogUseSysTimeStamp",
        Binary,
        UXSOCK,
        ModParam("SysSock.UseSysTimeStamp"),
    ),
    d(
        "SystemLogSocketAnnotate",
        Binary,
        UXSOCK,
        ModParam("SysSock.Annotate"),
    ),
    d(
        "SystemLogUsePIDFromSystem",
        Binary,
        UXSOCK,
        ModParam("SysSock.UsePIDFromSystem"),
    ),
    // Also copied into every later $AddUnixListenSocket socket (imuxsock addInstance).
    d(
        "SystemLogParseTrusted",
        Binary,
        UXSOCK,
        ModParam("SysSock.ParseTrusted"),
    ),
    d(
        "SystemLogRateLimitInterval",
        Int,
        UXSOCK,
        ModParam("SysSock.RateLimit.Interval"),
    ),
    d(
        "SystemLogRateLimitBurst",
        Int,
        UXSOCK,
        ModParam("SysSock.RateLimit.Burst"),
    ),
    d(
        "SystemLogRateLimitSeverity",
        Int,
        UXSOCK,
        ModParam("SysSock.RateLimit.Severity"),
    ),
    d(
        "AddUnixListenSocket",
        Word,
        UXSOCK,
        sp(self::Special::AddUnixListenSocket),
    ),
    // Reset to unset after each $AddUnixListenSocket (the others stay).
    d(
        "InputUnixListenSocketHostName",
        Word,
        UXSOCK,
        UxsockListener("HostName"),
    ),
    d(
        "InputUnixListenSocketCreatePath",
        Binary,
        UXSOCK,
        UxsockListener("CreatePath"),
    ),
    d(
        "InputUnixListenSocketAnnotate",
        Binary,
        UXSOCK,
        UxsockListener("Annotate"),
    ),
    d(
        "InputUnixListenSocketFlowControl",
        Binary,
        UXSOCK,
        UxsockListener("FlowControl"),
    ),
    d(
        "InputUnixListenSocketIgnoreMsgTimestamp",
        Binary,
        UXSOCK,
        UxsockListener("IgnoreTimestamp"),
    ),
    d(
        "InputUnixListenSocketUsePIDFromSystem",
        Binary,
        UXSOCK,
        UxsockListener("UsePIDFromSystem"),
    ),
    d(
        "InputUnixListenSocketUseSysTimeStamp",
        Binary,
        UXSOCK,
        UxsockListener("UseSysTimeStamp"),
    ),
    d(
        "IMUXSockRateLimitInterval",
        Int,
        UXSOCK,
        UxsockListener("RateLimit.Interval"),
    ),
    d(
        "IMUXSockRateLimitBurst",
        Int,
        UXSOCK,
        UxsockListener("RateLimit.Burst"),
    ),
    d(
        "IMUXSockRateLimitSeverity",
        Int,
        UXSOCK,
        UxsockListener("RateLimit.Severity"),
    ),
    // --- imudp (plugins/imudp/imudp.c) -------------------------------------------------------
    // An empty value means port 514.
    d("UDPServerRun", Word, UDP, sp(self::Special::UdpServerRun)),
    d("UDPServerAddress", Word, UDP, UdpListener("address")),
    d(
        "InputUDPServerBindRuleset",
        Word,
        UDP,
        UdpListener("ruleset"),
    ),
    d("UDPServerTimeRequery", Int, UDP, ModParam("timeRequery")),
    d(
        "IMUDPSchedulingPolicy",
        Word,
        UDP,
        ModParam("schedulingPolicy"),
    ),
    d(
        "IMUDPSchedulingPriority",
        Int,
        UDP,
        ModParam("schedulingPriority"),
    ),
    // --- imtcp (plugins/imtcp/imtcp.c) -------------------------------------------------------
    // `$InputTCPServerRun` snapshots every value below except AuthMode and the peers, which
    // are module-wide and taken at the end of the load (as are the snapshotted ones, for the
    // module defaults). An empty value means port 10514.
    d(
        "InputTCPServerRun",
        Word,
        TCP,
        sp(self::Special::TcpServerRun),
    ),
    d(
        "InputTCPServerBindRuleset",
        Word,
        TCP,
        TcpListener("ruleset"),
    ),
    d("InputTCPServerInputName", Word, TCP, TcpListener("name")),
    d(
        "InputTCPServerListenPortFile",
        Word,
        TCP,
        TcpListener("listenPortFileName"),
    ),
    d(
        "InputTCPServerSupportOctetCountedFraming",
        Binary,
        TCP,
        TcpListener("supportOctetCountedFraming"),
    ),
    d(
        "InputTCPServerStreamDriverMode",
        Int,
        TCP,
        TcpListener("streamDriver.mode"),
    ),
    d(
        "InputTCPServerKeepAlive",
        Binary,
        TCP,
        TcpListener("keepAlive"),
    ),
    d(
        "InputTCPServerKeepAlive_probes",
        Int,
        TCP,
        TcpListener("keepAlive.probes"),
    ),
    d(
        "InputTCPServerKeepAlive_intvl",
        Int,
        TCP,
        TcpListener("keepAlive.interval"),
    ),
    d(
        "InputTCPServerKeepAlive_time",
        Int,
        TCP,
        TcpListener("keepAlive.time"),
    ),
    d(
        "InputTCPFlowControl",
        Binary,
        TCP,
        TcpListener("flowControl"),
    ),
    d(
        "InputTCPServerDisableLFDelimiter",
        Binary,
        TCP,
        TcpListener("disableLFDelimiter"),
    ),
    d(
        "InputTCPServerNotifyOnConnectionClose",
        Binary,
        TCP,
        TcpListener("notifyOnConnectionClose"),
    ),
    d(
        "InputTCPServerPreserveCase",
        Binary,
        TCP,
        TcpListener("preserveCase"),
    ),
    d(
        "InputTCPServerAddtlFrameDelimiter",
        Int,
        TCP,
        TcpListener("addtlFrameDelimiter"),
    ),
    d(
        "InputTCPMaxListeners",
        Int,
        TCP,
        TcpListener("maxListeners"),
    ),
    d("InputTCPMaxSessions", Int, TCP, TcpListener("maxSessions")),
    d(
        "InputTCPServerStreamDriverAuthMode",
        Word,
        TCP,
        ModParam("streamDriver.authMode"),
    ),
    // rsyslog collects these into one module-wide list (module permittedPeer), not per listener.
    d(
        "InputTCPServerStreamDriverPermittedPeer",
        Word,
        TCP,
        sp(self::Special::TcpPermittedPeer),
    ),
    // --- imptcp (plugins/imptcp/imptcp.c) ----------------------------------------------------
    d(
        "InputPTCPServerRun",
        Word,
        PTCP,
        sp(self::Special::InputRun),
    ),
    d(
        "InputPTCPServerListenIP",
        Word,
        PTCP,
        InputInstance("address"),
    ),
    d(
        "InputPTCPServerBindRuleset",
        Word,
        PTCP,
        InputInstance("ruleset"),
    ),
    d(
        "InputPTCPServerInputName",
        Word,
        PTCP,
        InputInstance("name"),
    ),
    d(
        "InputPTCPServerKeepAlive",
        Binary,
        PTCP,
        InputInstance("keepAlive"),
    ),
    d(
        "InputPTCPServerKeepAlive_probes",
        Int,
        PTCP,
        InputInstance("keepAlive.probes"),
    ),
    d(
        "InputPTCPServerKeepAlive_intvl",
        Int,
        PTCP,
        InputInstance("keepAlive.interval"),
    ),
    d(
        "InputPTCPServerKeepAlive_time",
        Int,
        PTCP,
        InputInstance("keepAlive.time"),
    ),
    d(
        "InputPTCPServerSupportOctetCountedFraming",
        Binary,
        PTCP,
        InputInstance("supportOctetCountedFraming"),
    ),
    d(
        "InputPTCPServerNotifyOnConnectionClose",
        Binary,
        PTCP,
        InputInstance("notifyOnConnectionClose"),
    ),
    d(
        "InputPTCPServerAddtlFrameDelimiter",
        Int,
        PTCP,
        InputInstance("addtlFrameDelimiter"),
    ),
    d(
        "InputPTCPServerHelperThreads",
        Int,
        PTCP,
        ModParam("threads"),
    ),
    // --- imrelp (plugins/imrelp/imrelp.c) ----------------------------------------------------
    d(
        "InputRELPServerRun",
        Word,
        Some("imrelp"),
        sp(self::Special::InputRun),
    ),
    // Snapshotted per listener, and the module default when module(ruleset=) is not given.
    d(
        "InputRELPServerBindRuleset",
        Word,
        Some("imrelp"),
        InputInstance("ruleset"),
    ),
    // --- imfile (plugins/imfile/imfile.c) ----------------------------------------------------
    d(
        "InputRunFileMonitor",
        Word,
        FILE,
        sp(self::Special::InputRun),
    ),
    d("InputFileName", Word, FILE, InputInstance("file")),
    d("InputFileTag", Word, FILE, InputInstance("tag")),
    d("InputFileStateFile", Word, FILE, InputInstance("stateFile")),
    d(
        "InputFileSeverity",
        Severity,
        FILE,
        InputInstance("severity"),
    ),
    d(
        "InputFileFacility",
        Facility,
        FILE,
        InputInstance("facility"),
    ),
    d(
        "InputFileMaxLinesAtOnce",
        Size,
        FILE,
        InputInstance("maxLinesAtOnce"),
    ),
    d(
        "InputFilePersistStateInterval",
        Int,
        FILE,
        InputInstance("persistStateInterval"),
    ),
    d("InputFileReadMode", Int, FILE, InputInstance("readMode")),
    d(
        "InputFileTrimLineOverBytes",
        Size,
        FILE,
        InputInstance("trimLineOverBytes"),
    ),
    d("InputFileBindRuleset", Word, FILE, InputInstance("ruleset")),
    d(
        "InputFilePollInterval",
        Int,
        FILE,
        ModParam("pollingInterval"),
    ),
    // --- imklog (plugins/imklog/imklog.c) ----------------------------------------------------
    d("KLogPath", Word, KLOG, ModParam("logPath")),
    d(
        "KLogPermitNonKernelFacility",
        Binary,
        KLOG,
        ModParam("permitNonKernelFacility"),
    ),
    d(
        "KLogConsoleLogLevel",
        Int,
        KLOG,
        ModParam("consoleLogLevel"),
    ),
    d(
        "KLogInternalMsgFacility",
        Facility,
        KLOG,
        ModParam("internalMsgFacility"),
    ),
    d(
        "KLogParseKernelTimestamp",
        Binary,
        KLOG,
        ModParam("parseKernelTimestamp"),
    ),
    d(
        "KLogKeepKernelTimestamp",
        Binary,
        KLOG,
        ModParam("keepKernelTimestamp"),
    ),
    d("KLogLocalIPIF", Ty::GoneAway, KLOG, Target::GoneAway),
    d(
        "KLogUseSyscallInterface",
        Ty::GoneAway,
        KLOG,
        Target::GoneAway,
    ),
    d("KLogSymbolLookup", Ty::GoneAway, KLOG, Target::GoneAway),
    d("KLogSymbolsTwice", Ty::GoneAway, KLOG, Target::GoneAway),
    d(
        "DebugPrintKernelSymbols",
        Ty::GoneAway,
        KLOG,
        Target::GoneAway,
    ),
    // --- immark (plugins/immark/immark.c) ----------------------------------------------------
    d(
        "MarkMessagePeriod",
        Int,
        Some("immark"),
        ModParam("interval"),
    ),
    // --- impstats (plugins/impstats/impstats.c) ----------------------------------------------
    d("PStatInterval", Int, PSTATS, ModParam("interval")),
    // An alias of $PStatInterval.
    d("PStatsInterval", Int, PSTATS, ModParam("interval")),
    d("PStatFacility", Int, PSTATS, ModParam("facility")),
    d("PStatSeverity", Int, PSTATS, ModParam("severity")),
    d("PStatJSON", Binary, PSTATS, sp(self::Special::PstatsFormat)),
    d("PStatCEE", Binary, PSTATS, sp(self::Special::PstatsFormat)),
    // --- modules oxsyslog does not support ---------------------------------------------------
    // (imkmsg re-registers imklog's gone-away names and omfile-hardened omfile's names; those
    // are listed once, above.)
    un("Input3195ListenPort", Int, "im3195"),
    un("IMDiagAbortTimeout", Int, "imdiag"),
    un("IMDiagInjectDelayMode", Word, "imdiag"),
    un("IMDiagListenPortFileName", Word, "imdiag"),
    un("IMDiagMaxSessions", Int, "imdiag"),
    un("IMDiagServerInputName", Word, "imdiag"),
    un("IMDiagServerRun", Word, "imdiag"),
    un("IMDiagServerStreamDriverAuthMode", Word, "imdiag"),
    un("IMDiagServerStreamDriverMode", Int, "imdiag"),
    un("IMDiagServerStreamDriverPermittedPeer", Word, "imdiag"),
    un("InputGSSListenPortFileName", Word, "imgssapi"),
    un("InputGSSServerKeepAlive", Binary, "imgssapi"),
    un("InputGSSServerMaxSessions", Int, "imgssapi"),
    un("InputGSSServerPermitPlainTCP", Binary, "imgssapi"),
    un("InputGSSServerRun", Word, "imgssapi"),
    un("InputGSSServerServiceName", Word, "imgssapi"),
    // A custom handler that takes a facility name or number.
    un("ImjournalDefaultFacility", Facility, "imjournal"),
    un("ImjournalDefaultSeverity", Severity, "imjournal"),
    un("ImjournalIgnorePreviousMessages", Binary, "imjournal"),
    un("ImjournalPersistStateInterval", Int, "imjournal"),
    un("ImjournalRatelimitBurst", Int, "imjournal"),
    un("ImjournalRatelimitInterval", Int, "imjournal"),
    un("ImjournalStateFile", Word, "imjournal"),
    un("ImjournalUsePIDFromSystem", Binary, "imjournal"),
    un("IMSolarisLogSocketName", Word, "imsolaris"),
    un("mmnormalizeRule", Word, "mmnormalize"),
    un("mmnormalizeRuleBase", Word, "mmnormalize"),
    un("mmnormalizeUseRawMsg", Binary, "mmnormalize"),
    un("mmsnmptrapdSeverityMapping", Word, "mmsnmptrapd"),
    un("mmsnmptrapdTag", Word, "mmsnmptrapd"),
    un("ActionGSSForwardDefaultTemplate", Word, "omgssapi"),
    un("GSSForwardServiceName", Word, "omgssapi"),
    un("GSSMode", Word, "omgssapi"),
    un("OMHDFSDefaultTemplate", Word, "omhdfs"),
    un("OMHDFSFileName", Word, "omhdfs"),
    un("OMHDFSHost", Word, "omhdfs"),
    un("OMHDFSPort", Int, "omhdfs"),
    un("ActionLibdbiDBName", Word, "omlibdbi"),
    un("ActionLibdbiDriver", Word, "omlibdbi"),
    un("ActionLibdbiDriverDirectory", Word, "omlibdbi"),
    un("ActionLibdbiHost", Word, "omlibdbi"),
    un("ActionLibdbiPassword", Word, "omlibdbi"),
    un("ActionLibdbiUserName", Word, "omlibdbi"),
    un("ActionMailEnableBody", Binary, "ommail"),
    un("ActionMailFrom", Word, "ommail"),
    un("ActionMailSMTPPort", Word, "ommail"),
    un("ActionMailSMTPServer", Word, "ommail"),
    un("ActionMailSubject", Word, "ommail"),
    un("ActionMailTo", Word, "ommail"),
    un("ActionOmmysqlServerPort", Int, "ommysql"),
    un("OmMySQLConfigFile", Word, "ommysql"),
    un("OmMySQLConfigSection", Word, "ommysql"),
    un("ActionOmrulesetRulesetName", Word, "omruleset"),
    un("ActionSNMPCommunity", Word, "omsnmp"),
    un("ActionSNMPEnterpriseOID", Word, "omsnmp"),
    un("ActionSNMPSpecificType", Int, "omsnmp"),
    un("ActionSNMPSyslogMessageOID", Word, "omsnmp"),
    un("ActionSNMPTarget", Word, "omsnmp"),
    un("ActionSNMPTargetPort", Int, "omsnmp"),
    un("ActionSNMPTransport", Word, "omsnmp"),
    un("ActionSNMPTrapOID", Word, "omsnmp"),
    un("ActionSNMPTrapType", Int, "omsnmp"),
    un("ActionSNMPVersion", Int, "omsnmp"),
    un("ActionOMStdoutArrayInterface", Binary, "omstdout"),
    un("ActionOMStdoutEnsureLFEnding", Binary, "omstdout"),
    un("ActionOMTestingEchoStdout", Binary, "omtesting"),
    un("ActionOMUDPSpoofDefaultTemplate", Word, "omudpspoof"),
    un("ActionOMUDPSpoofSourceNameTemplate", Word, "omudpspoof"),
    un("ActionOMUDPSpoofSourcePortEnd", Int, "omudpspoof"),
    un("ActionOMUDPSpoofSourcePortStart", Int, "omudpspoof"),
    un("ActionOMUDPSpoofTargetHost", Word, "omudpspoof"),
    un("ActionOMUDPSpoofTargetPort", Word, "omudpspoof"),
    un("OMUXSockDefaultTemplate", Word, "omuxsock"),
    un("OMUXSockSocket", Word, "omuxsock"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::modules::{find_module, Module};
    use crate::config::schema::objects::{ACTION_COMMON, GLOBAL, QUEUE};
    use crate::config::schema::{find_param, Param};

    fn module(name: &str) -> &'static Module {
        find_module(name).unwrap_or_else(|| panic!("module {name} missing"))
    }

    #[test]
    fn no_duplicate_names() {
        for (i, a) in DIRECTIVES.iter().enumerate() {
            for b in &DIRECTIVES[i + 1..] {
                assert!(
                    !a.name.eq_ignore_ascii_case(b.name),
                    "duplicate directive {:?}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn names_are_well_formed() {
        // The lexer wants `$` + a letter; cfsysline takes the name up to a space.
        for d in DIRECTIVES {
            assert!(
                d.name.starts_with(|c: char| c.is_ascii_alphabetic()),
                "{}",
                d.name
            );
            assert!(
                d.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{}",
                d.name
            );
            assert!(d.name.len() < 64, "{}", d.name);
        }
    }

    /// The table(s) a directive's target parameter must be found in.
    fn target_tables(d: &Directive) -> Option<Vec<&'static [Param]>> {
        let own = || {
            module(
                d.module
                    .unwrap_or_else(|| panic!("{} needs a module", d.name)),
            )
        };
        Some(match d.target {
            Global(_) => vec![GLOBAL],
            MainQueue(_) => vec![QUEUE],
            ModParam(_) => vec![own().module_params],
            NextAction(_) | StickyAction(_) => vec![ACTION_COMMON, QUEUE],
            LegacyFile(_) => vec![module("omfile").instance_params],
            LegacyFwd(_) => vec![module("omfwd").instance_params],
            TcpListener(_) => vec![module("imtcp").instance_params],
            UdpListener(_) => vec![module("imudp").instance_params],
            UxsockListener(_) => vec![module("imuxsock").instance_params],
            InputInstance(_) | LegacyAction(_) => vec![own().instance_params],
            UnsupportedModule | Special(_) | Target::GoneAway => return None,
        })
    }

    fn target_name(t: Target) -> Option<&'static str> {
        match t {
            Global(n) | MainQueue(n) | ModParam(n) | NextAction(n) | StickyAction(n)
            | LegacyFile(n) | LegacyFwd(n) | TcpListener(n) | UdpListener(n)
            | UxsockListener(n) | InputInstance(n) | LegacyAction(n) => Some(n),
            UnsupportedModule | Special(_) | Target::GoneAway => None,
        }
    }

    #[test]
    fn targets_exist_and_unsupported_propagates() {
        for d in DIRECTIVES {
            let Some(tables) = target_tables(d) else {
                continue;
            };
            let name = target_name(d.target).unwrap();
            let prm = tables
                .iter()
                .find_map(|t| find_param(t, name))
                .unwrap_or_else(|| panic!("${}: target parameter {name:?} not found", d.name));
            if prm.sup == Sup::No {
                assert_eq!(d.sup, Sup::No, "${} maps to unsupported {name:?}", d.name);
            }
        }
    }

    #[test]
    fn modules_exist_and_unsupported_modules_propagate() {
        for d in DIRECTIVES {
            if let Some(m) = d.module {
                let m = module(m);
                if m.sup == Sup::No {
                    assert_eq!(
                        d.sup,
                        Sup::No,
                        "${} belongs to unsupported {}",
                        d.name,
                        m.name
                    );
                    assert_eq!(d.target, UnsupportedModule, "${}", d.name);
                }
            }
            if d.target == UnsupportedModule {
                assert_eq!(d.sup, Sup::No, "${}", d.name);
                assert_eq!(module(d.module.unwrap()).sup, Sup::No, "${}", d.name);
            }
            if let InputInstance(_) | LegacyAction(_) | ModParam(_) = d.target {
                assert!(d.module.is_some(), "${}", d.name);
            }
            if let Special(self::Special::InputRun) = d.target {
                assert!(d.module.is_some(), "${}", d.name);
            }
        }
    }

    #[test]
    fn gone_away_is_consistent() {
        for d in DIRECTIVES {
            assert_eq!(
                d.ty == Ty::GoneAway,
                d.target == Target::GoneAway,
                "${}",
                d.name
            );
        }
    }

    #[test]
    fn known_facts() {
        assert_eq!(
            find_directive("modload").unwrap().target,
            Special(self::Special::ModLoad)
        );
        assert!(find_directive("$ModLoad").is_none()); // names are stored without the `$`
        let d = find_directive("inputtcpserverkeepalive_probes").unwrap();
        assert_eq!(d.target, TcpListener("keepAlive.probes"));
        assert_eq!(find_directive("OMFileZipLevel").unwrap().sup, Sup::No);
        assert_eq!(
            find_directive("ActionWriteAllMarkMessages").unwrap().target,
            NextAction("action.writeAllMarkMessages")
        );
        assert_eq!(
            find_directive("ActionOmmysqlServerPort").unwrap().sup,
            Sup::No
        );
        assert!(find_directive("ActionSendStreamDriverRemoteSNI").is_none()); // newer than 8.2302
        assert!(DIRECTIVES.len() > 250);
    }
}
