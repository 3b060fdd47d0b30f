//! The legacy `$Directive` table: every directive rsyslog 8.2302 knows, its value type, the
//! module that must be loaded for it, and where its value lands in the typed model (the same
//! parameter as its RainerScript twin, with rsyslog's positional rules).

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
}

/// One legacy directive.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// Name without `$`, matched case-insensitively.
    pub name: &'static str,
    pub ty: Ty,
    /// Module that registers the directive; `None` for rsyslogd's core and built-in modules.
    pub module: Option<&'static str>,
    pub target: Target,
    pub sup: Sup,
}

/// Shorthand constructor for table entries.
pub const fn d(name: &'static str, ty: Ty, module: Option<&'static str>, target: Target) -> Directive {
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
    DIRECTIVES.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

use Target::*;

pub static DIRECTIVES: &[Directive] = &[
    d("ModLoad", Str, None, Special(self::Special::ModLoad)),
    d("WorkDirectory", Str, None, Global("workDirectory")),
    d("FileOwner", Uid, None, LegacyFile("fileOwner")),
    d("ActionQueueType", QueueType, None, NextAction("queue.type")),
    d("InputTCPServerRun", Word, Some("imtcp"), Special(self::Special::TcpServerRun)),
    d("InputTCPServerBindRuleset", Word, Some("imtcp"), TcpListener("ruleset")),
    d("MarkMessagePeriod", Int, Some("immark"), ModParam("interval")),
];

#[allow(dead_code)]
const _TY: Option<Ty> = None;
