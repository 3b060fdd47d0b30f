//! The running daemon: builds inputs, rulesets and actions from the loaded config, runs the
//! inputs on a tokio runtime and the rules on one processing thread that takes whole batches
//! from a bounded queue, and handles signals (HUP reopens files, TERM/INT drain and stop),
//! the pid file, sd_notify and rsyslog-style internal messages.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::config::diagnostics::Location;
use crate::config::model::{Config, PValue, Params};
use crate::filter::exec::Rulesets;
use crate::input::{self, Ctx};
use crate::message::Batch;
use crate::output::Output;
use crate::parse::{InputFlags, ParseOptions};
use crate::template::{RenderEnv, Templates};

/// How the daemon was started.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub config_path: PathBuf,
    /// `None` for `-iNONE`.
    pub pidfile: Option<PathBuf>,
}

/// Operator-facing notices: printed on stderr and logged as internal messages
/// (tag `rsyslogd:`, facility syslog) through the rules, as rsyslog does.
#[derive(Clone)]
pub struct Notices {
    inner: Arc<NoticeInner>,
}

struct NoticeInner {
    tx: Mutex<Option<mpsc::Sender<Batch>>>,
    mq: Arc<crate::mainq::MainQueue>,
    parse: Arc<ParseOptions>,
    local_host: Arc<str>,
    /// `processInternalMessages` (rsyslog 8.2302's default: off, so internal messages go to
    /// the system log socket through syslog(3), like any other program's).
    process_internal: bool,
    /// `internalmsg.severity`: more verbose internal messages are not logged (default info).
    max_severity: u8,
    /// `$RepeatedMsgReduction on` applies to internal messages too (rsyslogd.c
    /// processImInternal, its `internal_messages` rate limiter). That limiter is never
    /// destroyed, so a run pending at shutdown is not reported, as in rsyslog (the
    /// "exiting on signal" message ends any run before it).
    repeat: Option<Mutex<crate::input::repeat::Repeat>>,
}

/// The running daemon's notices, for modules that have no handle (outputs, the rules).
static NOTICES: std::sync::OnceLock<Notices> = std::sync::OnceLock::new();

/// Reports a module's error as rsyslog does: on stderr and as an internal message, so it also
/// reaches the log when stderr goes nowhere (the systemd unit). Before the daemon runs (tests,
/// `-N1`) only on stderr.
pub fn report_error(text: String) {
    match NOTICES.get() {
        Some(n) => n.error(text),
        None => eprintln!("oxsyslogd: {text}"),
    }
}

/// Like [`report_error`], at warning severity (recoveries, key changes).
pub fn report_warning(text: String) {
    match NOTICES.get() {
        Some(n) => n.warning(text),
        None => eprintln!("oxsyslogd: {text}"),
    }
}

impl Notices {
    fn new(
        tx: mpsc::Sender<Batch>,
        mq: Arc<crate::mainq::MainQueue>,
        parse: Arc<ParseOptions>,
        local_host: Arc<str>,
        cfg: &Config,
    ) -> Notices {
        let process_internal = matches!(
            cfg.globals.get("processInternalMessages"),
            Some(PValue::Bool(true))
        ) || std::env::var("RSYSLOG_DFLT_LOG_INTERNAL")
            .is_ok_and(|v| v == "1");
        let max_severity = match cfg.globals.str("internalmsg.severity") {
            Some(s) => crate::template::props::SEVERITY_NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(s))
                .or_else(|| s.parse::<usize>().ok())
                .map_or(6, |v| v.min(7) as u8),
            None => 6,
        };
        if !process_internal {
            // SAFETY: the ident is a static C string that outlives every syslog() call.
            unsafe { nix::libc::openlog(c"rsyslogd".as_ptr(), 0, nix::libc::LOG_SYSLOG) };
        }
        Notices {
            inner: Arc::new(NoticeInner {
                tx: Mutex::new(Some(tx)),
                mq,
                parse,
                local_host,
                process_internal,
                max_severity,
                repeat: crate::input::repeat::enabled(cfg).then(Default::default),
            }),
        }
    }

    pub fn error(&self, text: String) {
        self.emit(3, text, true);
    }
    pub fn warning(&self, text: String) {
        self.emit(4, text, true);
    }
    pub fn info(&self, text: String) {
        self.emit(6, text, false);
    }

    fn emit(&self, severity: u8, text: String, to_stderr: bool) {
        if to_stderr {
            eprintln!("oxsyslogd: {text}");
        }
        self.internal(severity, &text);
    }

    /// An internal message (facility syslog) as rsyslog's logmsgInternal builds it: control
    /// characters become spaces, rawmsg and msg are the text, tag `rsyslogd:`, the local host;
    /// then, as processImInternal, `$RepeatedMsgReduction`, the `internalmsg.severity`
    /// filter, and the rules (`processInternalMessages`) or syslog(3).
    pub fn internal(&self, severity: u8, text: &str) {
        let text: String = text
            .chars()
            .map(|c| {
                if (c as u32) < 0x20 || c == '\x7f' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let mut batch = Batch::with_capacity(text.len() + 64, 2);
        // a pad byte: no span of the message starts at 0 (Span::EMPTY)
        batch.data.push(0);
        let now = crate::parse::now_local();
        crate::input::klog::push_local(
            &mut batch,
            text.as_bytes(),
            5,
            severity,
            b"rsyslogd:",
            &self.inner.local_host,
            0,
            &now,
        );
        if let Some(Ok(mut r)) = self.inner.repeat.as_ref().map(|r| r.lock()) {
            r.check_last(&mut batch, 1, self.inner.parse.permit_slash_in_programname);
        }
        let max = self.inner.max_severity;
        batch.msgs.retain(|m| m.severity <= max);
        if batch.is_empty() {
            return;
        }
        if !self.inner.process_internal {
            for i in 0..batch.len() {
                let m = batch.get(i);
                let pri =
                    (m.m.facility as nix::libc::c_int) << 3 | m.m.severity as nix::libc::c_int;
                if let Ok(c) = std::ffi::CString::new(m.msg().to_vec()) {
                    // SAFETY: both strings are NUL-terminated and valid for the call; "%s"
                    // takes exactly one string argument.
                    unsafe { nix::libc::syslog(pri, c"%s".as_ptr(), c.as_ptr()) };
                }
            }
            return;
        }
        let Ok(guard) = self.inner.tx.lock() else {
            return;
        };
        let Some(tx) = guard.as_ref() else { return };
        // internal messages never wait (rsyslog: eFLOWCTL_NO_DELAY)
        let mq = &self.inner.mq;
        let a = mq.admit_now(&mut batch, crate::mainq::InputKind::INTERNAL);
        if a.kept > 0 {
            match tx.try_send(batch) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => mq.channel_full(a.kept),
                Err(mpsc::error::TrySendError::Closed(_)) => mq.release(a.kept),
            }
        }
    }

    /// Stops internal messages from holding the queue open at shutdown.
    fn close(&self) {
        if let Ok(mut g) = self.inner.tx.lock() {
            *g = None;
        }
    }
}

/// The host name rsyslog uses for local messages: `localHostname`, else the system's name
/// (without its domain unless `preserveFQDN`).
pub fn local_hostname(cfg: &Config) -> String {
    if let Some(h) = cfg.globals.str("localHostname") {
        return h.to_string();
    }
    let full = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    let preserve = matches!(cfg.globals.get("preserveFQDN"), Some(PValue::Bool(true)));
    if preserve {
        full
    } else {
        full.split('.').next().unwrap_or(&full).to_string()
    }
}

/// An input ready to bind.
enum InputPlan {
    Tcp(input::tcp::TcpSettings),
    Udp(Vec<input::udp::UdpSettings>),
    Ux(input::uxsock::UxSettings),
    /// Any other input (imfile, imklog, immark, impstats …), see `input::Source`.
    Other(Box<dyn input::Source>),
}

struct PlannedInput {
    plan: InputPlan,
    name: String,
    ruleset: usize,
    flags: InputFlags,
}

fn located(loc: &Location, msg: impl std::fmt::Display) -> String {
    format!("{loc}: error: {msg}")
}

fn flag(p: &Params, name: &str, default: bool) -> bool {
    match p.get(name) {
        Some(PValue::Bool(b)) => *b,
        _ => default,
    }
}

fn int(p: &Params, name: &str) -> Option<i64> {
    match p.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.parse().ok(),
        _ => None,
    }
}

/// imudp's `rcvbufSize` (a size: `256k`, `1m` …), at most 1 GiB as in rsyslog.
fn rcvbuf_size(loc: &Location, p: &Params) -> Result<Option<usize>, String> {
    let n = match p.get("rcvbufSize") {
        None => return Ok(None),
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => crate::config::values::size(s),
        Some(_) => None,
    };
    match n {
        Some(n) if n >= 0 => Ok(Some((n as usize).min(input::udp::RCVBUF_MAX))),
        _ => Err(located(loc, "imudp: invalid rcvbufSize")),
    }
}

fn port_of(loc: &Location, v: &str) -> Result<u16, String> {
    v.parse::<u16>()
        .map_err(|_| located(loc, format!("invalid port '{v}'")))
}

fn plan_inputs(cfg: &Config, rulesets: &Rulesets) -> Result<Vec<PlannedInput>, String> {
    let default_rs = rulesets.index(&cfg.default_ruleset).unwrap_or(0);
    let max_msg = int(&cfg.globals, "maxMessageSize").map_or(8096, |n| n.max(128) as usize);
    let mut out = Vec::new();
    let ruleset_of = |p: &Params, loc: &Location| -> Result<usize, String> {
        match p.str("ruleset") {
            Some(r) => rulesets
                .index(r)
                .ok_or_else(|| located(loc, format!("ruleset '{r}' not found"))),
            None => Ok(default_rs),
        }
    };
    let net = InputFlags::default();
    // imuxsock's system socket, unless SysSock.Use="off".
    if let Some(m) = cfg.module("imuxsock") {
        if flag(&m.params, "SysSock.Use", true) {
            let path = m
                .params
                .str("SysSock.Name")
                .map(PathBuf::from)
                .unwrap_or_else(input::creds::default_syssock_path);
            out.push(PlannedInput {
                plan: InputPlan::Ux(input::creds::ux_settings(
                    &m.params,
                    "SysSock.",
                    path,
                    false,
                    None,
                    flag(&cfg.globals, "processInternalMessages", false),
                )),
                name: "imuxsock".into(),
                ruleset: default_rs,
                flags: InputFlags {
                    parse_hostname: flag(&m.params, "SysSock.ParseHostname", false),
                    ignore_timestamp: flag(&m.params, "SysSock.IgnoreTimestamp", true),
                    local_special_parser: flag(&m.params, "SysSock.UseSpecialParser", true),
                    use_sys_timestamp: flag(&m.params, "SysSock.UseSysTimeStamp", true),
                    default_tz: None,
                },
            });
        }
    }
    for i in &cfg.inputs {
        let p = &i.params;
        let rs = match cfg.module(i.module) {
            // imrelp: module(ruleset=) is the default of its inputs (imrelp.c)
            Some(m) if i.module == "imrelp" && p.get("ruleset").is_none() => {
                ruleset_of(&m.params, &m.loc)?
            }
            _ => ruleset_of(p, &i.loc)?,
        };
        let name = p.str("name").unwrap_or(i.module).to_string();
        match i.module {
            "imtcp" | "imptcp" => {
                let module = cfg.module(i.module).map(|m| &m.params);
                let mget = |n: &str| p.get(n).or_else(|| module.and_then(|m| m.get(n)));
                let mflag = |n: &str, d: bool| match mget(n) {
                    Some(PValue::Bool(b)) => *b,
                    _ => d,
                };
                let port = match p.get("port") {
                    Some(PValue::Str(s)) => port_of(&i.loc, s)?,
                    Some(PValue::Array(a)) if a.len() == 1 => port_of(&i.loc, &a[0])?,
                    _ => return Err(located(&i.loc, "imtcp: one port is required")),
                };
                // TLS (src/tls/): a listener that cannot start is a fatal config error
                let tls = match crate::tls::settings::for_imtcp(cfg, i)? {
                    Some(ts) => {
                        let (sc, warnings) = crate::tls::setup::server_config(&ts)?;
                        for w in warnings {
                            crate::engine::report_warning(w);
                        }
                        Some(input::tcp::TlsListener::new(sc, ts.auth))
                    }
                    None => None,
                };
                let addtl = match mget("AddtlFrameDelimiter") {
                    Some(PValue::Int(n)) if *n >= 0 && *n < 256 => Some(*n as u8),
                    _ => None,
                };
                out.push(PlannedInput {
                    plan: InputPlan::Tcp(input::tcp::TcpSettings {
                        address: p.str("address").unwrap_or("").to_string(),
                        port,
                        port_file: p.str("listenPortFileName").map(str::to_string),
                        max_sessions: match mget("MaxSessions") {
                            Some(PValue::Int(n)) if *n > 0 => *n as usize,
                            _ => 200,
                        },
                        framing: input::framing::FramingOptions {
                            support_octet_counting: mflag("SupportOctetCountedFraming", true),
                            sp_framing_fix: mflag("framingfix.cisco.asa", false),
                            disable_lf: mflag("DisableLFDelimiter", false),
                            addtl_delimiter: addtl,
                            max_msg,
                            discard_truncated: mflag("discardTruncatedMsg", false),
                            max_frame: match mget("maxFrameSize") {
                                Some(PValue::Int(n)) if *n > 0 => *n as usize,
                                _ => 200_000,
                            },
                        },
                        name: name.clone(),
                        keepalive: mflag("KeepAlive", false),
                        tls,
                    }),
                    name,
                    ruleset: rs,
                    flags: InputFlags {
                        default_tz: p
                            .str("defaultTZ")
                            .and_then(crate::parse::timestamp::parse_default_tz),
                        ..net
                    },
                });
            }
            "imudp" => {
                let ports: Vec<String> = match p.get("port") {
                    Some(PValue::Array(a)) => a.clone(),
                    Some(PValue::Str(s)) => vec![s.clone()],
                    _ => return Err(located(&i.loc, "imudp: port is required")),
                };
                let mut socks = Vec::new();
                for port in ports {
                    socks.push(input::udp::UdpSettings {
                        address: p.str("address").unwrap_or("").to_string(),
                        port: port_of(&i.loc, &port)?,
                        rcvbuf: rcvbuf_size(&i.loc, p)?,
                    });
                }
                out.push(PlannedInput {
                    plan: InputPlan::Udp(socks),
                    name,
                    ruleset: rs,
                    flags: InputFlags {
                        default_tz: p
                            .str("defaultTZ")
                            .and_then(crate::parse::timestamp::parse_default_tz),
                        ..net
                    },
                });
            }
            "imuxsock" => {
                let Some(path) = p.str("Socket") else {
                    return Err(located(&i.loc, "imuxsock: Socket is required"));
                };
                out.push(PlannedInput {
                    plan: InputPlan::Ux(input::creds::ux_settings(
                        p,
                        "",
                        PathBuf::from(path),
                        flag(p, "CreatePath", false),
                        p.str("HostName").map(str::to_string),
                        flag(&cfg.globals, "processInternalMessages", false),
                    )),
                    name: "imuxsock".into(),
                    ruleset: rs,
                    flags: InputFlags {
                        parse_hostname: flag(p, "ParseHostname", path.starts_with(':')),
                        ignore_timestamp: flag(p, "IgnoreTimestamp", true),
                        local_special_parser: flag(p, "UseSpecialParser", true),
                        use_sys_timestamp: flag(p, "UseSysTimeStamp", true),
                        default_tz: None,
                    },
                });
            }
            other => match input::plan_instance(i, cfg)? {
                Some(src) => out.push(PlannedInput {
                    flags: src.flags(),
                    name: src.name(),
                    plan: InputPlan::Other(src),
                    ruleset: rs,
                }),
                None => {
                    return Err(located(
                        &i.loc,
                        format!("input module '{other}' is not implemented in the runtime yet"),
                    ))
                }
            },
        }
    }
    // Input modules that run from module() alone (imklog, immark, impstats); a loaded input
    // module without a runtime is refused, never silently ignored.
    for m in &cfg.modules {
        match input::plan_module(m, cfg)? {
            Some(src) => out.push(PlannedInput {
                flags: src.flags(),
                name: src.name(),
                plan: InputPlan::Other(src),
                ruleset: ruleset_of(&m.params, &m.loc)?,
            }),
            None => {
                let has_instances = cfg.inputs.iter().any(|i| i.module == m.name);
                let runs_here = matches!(m.name, "imtcp" | "imptcp" | "imudp" | "imuxsock");
                let is_input = crate::config::schema::modules::find_module(m.name)
                    .is_some_and(|x| x.kind == crate::config::schema::modules::ModKind::Input);
                if is_input && !runs_here && !has_instances {
                    return Err(located(
                        &m.loc,
                        format!(
                            "module '{}' is not implemented in the runtime yet; remove it or use oxsyslogd -N1 only",
                            m.name
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// How an input meets a filling main queue (rsyslog's flow control types: imtcp and imklog
/// are light-delayable, imfile full-delayable, the rest not delayable) and whether rsyslog
/// knows its messages' severity before the queue (imtcp and imudp parse after it).
fn input_kind(p: &PlannedInput) -> crate::mainq::InputKind {
    use crate::mainq::{Flow, InputKind};
    match &p.plan {
        InputPlan::Tcp(_) => InputKind {
            flow: Flow::Light,
            severity_known: false,
        },
        InputPlan::Udp(_) => InputKind {
            flow: Flow::NoDelay,
            severity_known: false,
        },
        InputPlan::Ux(_) => InputKind::INTERNAL,
        InputPlan::Other(_) => InputKind {
            flow: match p.name.as_str() {
                "imfile" => Flow::Full,
                "imklog" => Flow::Light,
                _ => Flow::NoDelay,
            },
            severity_known: true,
        },
    }
}

/// The rules thread's side of the main queue.
#[derive(Clone)]
struct MainQ {
    q: Arc<crate::mainq::MainQueue>,
    /// Per input index: severity known at enqueue (for dequeue-time discarding).
    severity_known: Vec<bool>,
    /// The queue's spooler when it has a disk part (src/mqdisk/).
    spool: Option<Arc<crate::mqdisk::Ctl>>,
}

/// impstats' name and origin of an input's counter (rsyslog's statsobj names).
fn stats_label(p: &PlannedInput) -> Option<(String, String)> {
    match &p.plan {
        InputPlan::Tcp(s) => Some((format!("{}({})", p.name, s.port), "imtcp".into())),
        InputPlan::Udp(_) => Some((p.name.clone(), "imudp".into())),
        InputPlan::Ux(_) => Some(("imuxsock".into(), "imuxsock".into())),
        InputPlan::Other(s) => s.stats_label(),
    }
}

/// Runs the daemon until SIGTERM/SIGINT. Returns a startup error (one line, located) or Ok.
pub fn run(cfg: Config, opts: RunOptions) -> Result<(), String> {
    crate::runtime_support::check(&cfg)?;
    // `$Umask` / global(umask=): the process umask for every file and socket we create.
    if let Some(PValue::Mode(m)) = cfg.globals.get("umask") {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
            *m as nix::libc::mode_t,
        ));
    }
    raise_fd_limit();
    let templates = Templates::from_config(&cfg)?;
    let rulesets = Rulesets::compile(&cfg, &templates).map_err(|e| {
        if e.contains(": error: ") {
            e
        } else {
            format!("{}: error: {e}", opts.config_path.display())
        }
    })?;
    let parse_opts = Arc::new(ParseOptions::from_config(&cfg));
    let local_host: Arc<str> = Arc::from(local_hostname(&cfg));
    let mut env = RenderEnv::from_config(&cfg, &local_host);
    let outputs = crate::output::build_all(&cfg, &templates)?;
    let planned = plan_inputs(&cfg, &rulesets)?;
    let privdrop = crate::privdrop::plan(&cfg)?;
    let stats = crate::stats::init(
        &cfg,
        std::iter::once(None)
            .chain(planned.iter().map(stats_label))
            .collect(),
    );
    // $AllowedSender: enforced by imudp and imtcp (input::acl).
    let mut acl_notes = Vec::new();
    let acls = input::acl::build(
        &cfg.allowed_senders,
        input::acl::AclOptions::from_config(&cfg),
        &mut acl_notes,
    )?;
    let default_rs = rulesets.index(&cfg.default_ruleset).unwrap_or(0);
    // Input 0 is the daemon itself (internal messages).
    let mut input_rulesets = vec![default_rs];
    input_rulesets.extend(planned.iter().map(|p| p.ruleset));
    // rulesets with their own queue run on their own rules threads (src/rsq/)
    let rsq_plan = crate::rsq::plan(
        &cfg,
        &rulesets,
        cfg.actions.len(),
        default_rs,
        &input_rulesets,
    )?;
    // per input: whether rsyslog knows a message's severity in its main queue (src/mainq.rs)
    let severity_known: Vec<bool> = std::iter::once(true)
        .chain(planned.iter().map(|p| input_kind(p).severity_known))
        .collect();
    env.input_names = std::iter::once("rsyslogd".to_string())
        .chain(planned.iter().map(|p| p.name.clone()))
        .collect();
    let shutdown_timeout = Duration::from_millis(
        int(&cfg.main_queue, "queue.timeoutshutdown").map_or(1500, |n| n.max(0) as u64),
    );
    let dns_on = !matches!(cfg.globals.get("net.enableDNS"), Some(PValue::Bool(false)));

    let rt = Rt(Some(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("oxsyslogd-io")
            .build()
            .map_err(|e| format!("cannot start the I/O runtime: {e}"))?,
    ));
    // resident pages: drop what compiling rules and building the runtime mapped
    crate::resident::trim();

    let mq = crate::mainq::MainQueue::new(crate::mainq::Settings::from_config(&cfg));
    let (tx, rx) = mpsc::channel::<Batch>(mq.s.channel_batches());
    let mut rsq = crate::rsq::Queues::new(&cfg, &rsq_plan);
    let pool: Arc<Mutex<Vec<Batch>>> = Arc::new(Mutex::new(Vec::new()));
    // a main queue with a disk part: the spooler sits between its channel and the rules
    // thread (src/mqdisk/)
    let (rx, mut main_spool) =
        match crate::mqdisk::settings(&cfg.main_queue, mq.s.size, !cfg.main_queue_object)? {
            Some(dm) => {
                let (rx, h) = crate::mqdisk::start("main queue", dm, rx, mq.clone(), pool.clone())?;
                (rx, Some(h))
            }
            None => (rx, None),
        };
    let notices = Notices::new(
        tx.clone(),
        mq.clone(),
        parse_opts.clone(),
        local_host.clone(),
        &cfg,
    );
    let _ = NOTICES.set(notices.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    // SIGHUPs so far: each rules thread handles every one (src/workers.rs `Hup`)
    let hup = Arc::new(AtomicU64::new(0));
    let abandon = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicU64::new(0));
    let dns = Arc::new(input::dns::Resolver::new(dns_on));
    for n in acl_notes {
        notices.error(n);
    }
    if let Some(w) = cfg
        .globals
        .str("workDirectory")
        .and_then(|d| crate::leftover_queues::report(std::path::Path::new(d)))
    {
        notices.warning(w);
    }

    // Bind everything first: a bind failure stops the start with its reason.
    let mut tasks = Vec::new();
    rt.block_on(async {
        for (idx, p) in planned.into_iter().enumerate() {
            let rs_name = &cfg.rulesets[p.ruleset].name;
            let (itx, imq) = rsq
                .input_queue(&rsq_plan, p.ruleset)
                .unwrap_or_else(|| (tx.clone(), mq.clone()));
            let ctx = Ctx {
                tx: itx,
                pool: pool.clone(),
                parse: Arc::new(ParseOptions::for_ruleset(&cfg, rs_name)),
                input: (idx + 1) as u16,
                flags: p.flags,
                dns: dns.clone(),
                dropped: dropped.clone(),
                notices: notices.clone(),
                shutdown: stop_rx.clone(),
                acl: match &p.plan {
                    InputPlan::Udp(_) => acls.udp.clone(),
                    InputPlan::Tcp(_) => acls.tcp.clone(),
                    _ => None,
                },
                repeat: input::repeat::enabled(&cfg),
                mq: imq,
                kind: input_kind(&p),
            };
            match p.plan {
                InputPlan::Tcp(s) => {
                    let l = input::tcp::bind(&s).await?;
                    tasks.push(tokio::spawn(input::tcp::serve(l, s, ctx)));
                }
                InputPlan::Udp(socks) => {
                    for s in socks {
                        let sock = input::udp::bind(&s, &ctx.notices)?;
                        tasks.push(input::udp::start(sock, ctx.clone())?);
                    }
                }
                InputPlan::Ux(mut s) => {
                    // Like rsyslogd: a unix socket that cannot be created is reported and
                    // skipped; the other inputs run.
                    let sock = match input::uxsock::bind(&mut s) {
                        Ok(sock) => sock,
                        Err(e) => {
                            notices.error(format!("{e} - this socket is skipped"));
                            continue;
                        }
                    };
                    tasks.push(input::uxsock::start(sock, s, local_host.clone(), ctx)?);
                }
                InputPlan::Other(src) => tasks.push(src.start(ctx)?),
            }
        }
        Ok::<(), String>(())
    })?;
    // A tick for interval flushes: an empty batch every second.
    {
        let tick_txs: Vec<mpsc::Sender<Batch>> =
            std::iter::once(tx.clone()).chain(rsq.senders()).collect();
        let mut stop = stop_rx.clone();
        tasks.push(rt.spawn(async move {
            let mut iv = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = iv.tick() => {
                        for tick_tx in &tick_txs {
                            let _ = tick_tx.try_send(Batch::default());
                        }
                        if tick_txs[0].is_closed() {
                            return;
                        }
                    }
                }
            }
        }));
    }
    drop(tx);

    if let Some(pf) = &opts.pidfile {
        std::fs::write(pf, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pid file {}: {e}", pf.display()))?;
    }
    // Every socket is bound and the kernel log open: drop privileges before any output
    // opens its file (rsyslog's order).
    if let Some(plan) = &privdrop {
        for line in crate::privdrop::apply(plan)? {
            notices.info(line);
        }
        crate::privdrop::check_outputs(&cfg, plan)?;
    }

    // The processing thread: rules and actions, one batch at a time.
    let input_rulesets_len = input_rulesets.len();
    let lost_at_shutdown = Arc::new(AtomicU64::new(0));
    let start = crate::template::clock::now_unix().0;
    let gates: Vec<crate::output::gate::Gate> = cfg
        .actions
        .iter()
        .map(|a| crate::output::gate::Gate::new(a, start))
        .collect();
    let mut split = crate::rsq::split_outputs(&rsq_plan, outputs);
    let outputs = std::mem::take(&mut split[0]);
    let mut rsq_spools = Vec::new();
    for (d, outs) in split.into_iter().enumerate().skip(1) {
        let rulesets = Rulesets::compile(&cfg, &templates)?;
        let r = rsq_plan.rulesets[d];
        let (hup, abandon) = (rsq.hup(d), rsq.abandon(d));
        let (fwd, mut rx) = (rsq.forwarder(&rsq_plan, &lost_at_shutdown), rsq.take_rx(d));
        let q = rsq.queue(d);
        let mut spool = None;
        // (rx is taken only when the queue has a disk part: a tuple would take it always)
        let dm = crate::mqdisk::settings(&cfg.rulesets[r].params, q.s.size, false)?;
        if let Some((dm, inner)) = dm.and_then(|dm| Some((dm, rx.take()?))) {
            let what = format!("ruleset '{}' queue", cfg.rulesets[r].name);
            let (srx, h) = crate::mqdisk::start(&what, dm, inner, q.clone(), pool.clone())?;
            rx = Some(srx);
            spool = Some(h.ctl.clone());
            rsq_spools.push(h);
        }
        let mq = MainQ {
            q,
            severity_known: severity_known.clone(),
            spool,
        };
        let Some(rx) = rx else { continue };
        // queue.workerThreads: its rules threads (src/workers.rs)
        let n = crate::workers::count(&cfg.rulesets[r].params);
        let mut threads = crate::workers::Threads::default();
        let (mut rulesets, mut fwd) = (Some(rulesets), Some(fwd));
        for (w, (rx, outs, gates)) in crate::workers::split(n, rx, outs, gates.clone(), &hup)
            .into_iter()
            .enumerate()
        {
            let rulesets = match rulesets.take() {
                Some(x) => x,
                None => Rulesets::compile(&cfg, &templates)?,
            };
            let fwd = fwd
                .take()
                .unwrap_or_else(|| rsq.forwarder(&rsq_plan, &lost_at_shutdown));
            let (hup, abandon, env, pool, lost, stats, mq) = (
                crate::workers::Hup::new(hup.clone()),
                abandon.clone(),
                env.clone(),
                pool.clone(),
                lost_at_shutdown.clone(),
                stats.clone(),
                mq.clone(),
            );
            let t = std::thread::Builder::new()
                .name(format!("oxsyslogd-rs{d}w{w}"))
                .spawn(move || {
                    process(
                        rx,
                        rulesets,
                        outs,
                        gates,
                        vec![r; input_rulesets_len],
                        env,
                        hup,
                        abandon,
                        pool,
                        lost,
                        stats,
                        mq,
                        fwd,
                    )
                })
                .map_err(|e| format!("cannot start the rules thread of a ruleset queue: {e}"))?;
            threads.push(t);
        }
        rsq.set_thread(d, threads);
    }
    let main_spool_ctl = main_spool.as_ref().map(|h| h.ctl.clone());
    // the main queue's rules threads (queue.workerThreads, src/workers.rs)
    let mut worker = crate::workers::Threads::default();
    let main_q = MainQ {
        q: mq.clone(),
        severity_known,
        spool: main_spool_ctl,
    };
    let mut rulesets = Some(rulesets);
    let per = crate::workers::split(
        crate::workers::count(&cfg.main_queue),
        rx,
        outputs,
        gates,
        &hup,
    );
    for (w, (rx, outputs, gates)) in per.into_iter().enumerate() {
        let rulesets = match rulesets.take() {
            Some(x) => x,
            None => Rulesets::compile(&cfg, &templates)?,
        };
        let (hup, abandon, pool, lost, mq, env, stats, input_rulesets) = (
            crate::workers::Hup::new(hup.clone()),
            abandon.clone(),
            pool.clone(),
            lost_at_shutdown.clone(),
            main_q.clone(),
            env.clone(),
            stats.clone(),
            input_rulesets.clone(),
        );
        let main_fwd = rsq.forwarder(&rsq_plan, &lost_at_shutdown);
        let name = if w == 0 {
            "oxsyslogd-rules".to_string()
        } else {
            format!("oxsyslogd-rules{w}")
        };
        worker.push(
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    process(
                        rx,
                        rulesets,
                        outputs,
                        gates,
                        input_rulesets,
                        env,
                        hup,
                        abandon,
                        pool,
                        lost,
                        stats,
                        mq,
                        main_fwd,
                    )
                })
                .map_err(|e| format!("cannot start the processing thread: {e}"))?,
        );
    }

    sd_notify("READY=1");
    // start-up is over: the code and data it alone used need not stay resident
    crate::resident::trim();
    notices.info(format!(
        "[origin software=\"oxsyslogd\" swVersion=\"{}\" x-pid=\"{}\" x-info=\"https://github.com/oxsyslog\"] start",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    ));

    // Wait for signals.
    rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut hupsig = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hupsig.recv() => {
                    hup.fetch_add(1, Ordering::SeqCst);
                    rsq.hup_all();
                    notices.info(format!("[origin software=\"oxsyslogd\" swVersion=\"{}\" x-pid=\"{}\" x-info=\"https://github.com/oxsyslog\"] rsyslogd was HUPed", env!("CARGO_PKG_VERSION"), std::process::id()));
                }
            }
        }
        Ok::<(), String>(())
    })?;

    // Drain: stop inputs (they hand on what they decoded), then let the rules finish what is
    // queued, for at most the shutdown timeout.
    sd_notify("STOPPING=1");
    notices.info(format!(
        "[origin software=\"oxsyslogd\" swVersion=\"{}\" x-pid=\"{}\" x-info=\"https://github.com/oxsyslog\"] exiting on signal 15.",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    ));
    let _ = stop_tx.send(true);
    mq.close();
    rsq.close();
    rt.block_on(async {
        let all = futures_join(tasks);
        let _ = tokio::time::timeout(Duration::from_secs(2), all).await;
    });
    notices.close();
    let deadline = Instant::now() + shutdown_timeout;
    while !worker.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !worker.is_finished() {
        abandon.store(true, Ordering::SeqCst);
    }
    if let Some(mut h) = main_spool.take() {
        // memory to disk (saveOnShutdown); then the rules thread's channel closes
        h.stop();
        let grace = Instant::now() + Duration::from_secs(1);
        while !worker.is_finished() && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(10));
        }
        if worker.is_finished() {
            let _ = worker.join();
        } else {
            notices.error(
                "shutdown: the main queue's rules thread did not end (an action blocks); not waiting for it".into(),
            );
        }
    } else {
        let _ = worker.join();
    }
    // rulesets' own queues drain once the threads that hand them copies are done
    rsq.shutdown(&rsq_plan);
    for mut h in rsq_spools {
        h.stop();
    }
    drop(rt);
    let lost = lost_at_shutdown.load(Ordering::SeqCst);
    let udp_dropped = dropped.load(Ordering::SeqCst);
    if lost > 0 {
        notices.error(format!("shutdown: {lost} messages could not be written (queue not drained within {} ms, or outputs failing)", shutdown_timeout.as_millis()));
    }
    if udp_dropped > 0 {
        notices.error(format!(
            "{udp_dropped} datagrams were dropped because the queue was full"
        ));
    }
    if let Some(pf) = &opts.pidfile {
        let _ = std::fs::remove_file(pf);
    }
    Ok(())
}

/// The I/O runtime, shut down without waiting for blocking tasks (imklog's read(2) of the
/// kernel log never returns) — also when the start fails half-way: dropping a plain Runtime
/// there would wait for them forever.
struct Rt(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Rt {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        // Some from construction until drop, the only place that takes it
        self.0.as_ref().expect("runtime present until drop")
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_timeout(Duration::from_millis(200));
        }
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

#[allow(clippy::too_many_arguments)]
fn process(
    mut rx: crate::workers::Rx,
    mut rulesets: Rulesets,
    mut outputs: Vec<Box<dyn Output>>,
    mut gates: Vec<crate::output::gate::Gate>,
    input_rulesets: Vec<usize>,
    mut env: RenderEnv,
    mut hup: crate::workers::Hup,
    abandon: Arc<AtomicBool>,
    pool: Arc<Mutex<Vec<Batch>>>,
    lost: Arc<AtomicU64>,
    stats: Option<Arc<crate::stats::Stats>>,
    mq: MainQ,
    mut fwd: Option<crate::rsq::Forwarder>,
) {
    let mut tally = stats.as_deref().map(crate::stats::Tally::new);
    let mut scratch = Vec::with_capacity(1024);
    let mut state = crate::filter::exec::State::default();
    state.forward_queued = fwd.is_some();
    // actions writing the same message with the same template render it once
    env.cache.get_mut().enable();
    // what is left of rsyslog's current dequeue batch, and whether it discards
    let (mut win_left, mut win_discard) = (0usize, false);
    while let Some(mut batch) = rx.next_batch() {
        if abandon.load(Ordering::Relaxed) {
            if let Some(s) = &mq.spool {
                // the spooler saves (queue.saveOnShutdown) or counts what was not run
                s.stop();
            } else {
                lost.fetch_add(batch.len() as u64, Ordering::SeqCst);
            }
            mq.q.release(batch.len());
            continue;
        }
        if hup.take() {
            for o in outputs.iter_mut() {
                o.hup();
            }
            for e in rulesets.hup() {
                report_error(e);
            }
        }
        if batch.is_empty() {
            // The periodic tick.
            for o in outputs.iter_mut() {
                o.tick();
            }
            if let (Some(t), Some(s)) = (tally.as_mut(), stats.as_deref()) {
                t.take_failed(&mut outputs);
                t.flush(s);
            }
            continue;
        }
        // The batch is run in rsyslog's dequeue batches ("windows"): each starts at the
        // queue size of the moment (queue.discardMark applies again to what it takes, as
        // queue.c does when a worker dequeues) and holds at most queue.dequeueBatchSize
        // messages; with dequeueBatchSize set, the actions end their batch at its end.
        let len = batch.len();
        // copies from a `call` carry their `$.` variables (src/rsq/); they were counted
        // by their input when it submitted the original
        let mut locals = std::mem::take(&mut batch.locals);
        let copies = !locals.is_empty();
        // a batch whose input waits for it (imrelp): did an action lose a message of it?
        let lost_before = batch
            .done
            .is_some()
            .then(|| outputs.iter().map(|o| o.lost_total()).sum::<u64>());
        let mut start = 0;
        while start < len {
            if win_left == 0 {
                let size = mq.q.size();
                win_left = mq.q.s.dequeue_window.min(size).max(1);
                win_discard = mq.q.discarding_at(size);
            }
            // the chunk ends where the window is used up (discarded messages do not count,
            // as in queue.c's dequeue loop) or with the batch; without dequeueBatchSize and
            // without discarding, windows change nothing and the batch is one chunk
            let split = win_discard || mq.q.s.dequeue_batch.is_some();
            let mut end = len;
            let mut nf = 0;
            env.refresh_now();
            // rsyslog resets script_error() and the suspended flag per batch (wtiResetExecState)
            state.script_error = 0;
            state.prev_suspended = false;
            let now = crate::template::clock::now_unix().0;
            for i in start..len {
                let m = batch.get(i);
                let mut t = tally.as_mut();
                if let Some(t) = t.as_deref_mut().filter(|_| !copies) {
                    if let Some(c) = t.inputs.get_mut(m.m.input as usize) {
                        *c += 1;
                    }
                }
                if win_discard
                    && mq.q.discard_taken(
                        m.m.severity,
                        // a copy from a `call` was parsed before it was queued
                        copies
                            || mq
                                .severity_known
                                .get(m.m.input as usize)
                                .copied()
                                .unwrap_or(true),
                    )
                {
                    nf += 1;
                    continue;
                }
                if copies {
                    state.preset_local = locals.get_mut(i).and_then(Option::take);
                }
                // "message repeated" summaries go to the default ruleset (src/input/repeat.rs)
                let idx = if m.m.input & input::repeat::DEFAULT_RULESET != 0 {
                    0
                } else {
                    m.m.input
                };
                let rs = input_rulesets.get(idx as usize).copied().unwrap_or(0);
                env.cache.get_mut().next_message();
                rulesets.run(rs, m, &env, &mut state, &mut scratch, &mut |a, mv, prev| {
                    // the gate, the action and its suspension state in one call (one lock
                    // for an action shared by several rules threads, src/output/shared.rs)
                    let o = outputs.get_mut(a)?;
                    let suspended = o.gated(gates.get_mut(a), prev, now, mv, &env)?;
                    if let Some(c) = t.as_deref_mut().and_then(|t| t.actions.get_mut(a)) {
                        *c += 1;
                    }
                    Some(suspended)
                });
                if let Some(f) = fwd.as_mut() {
                    f.collect(&mut state, m);
                }
                win_left = win_left.saturating_sub(1);
                if win_left == 0 && split {
                    end = i + 1;
                    break;
                }
            }
            if end == len || mq.q.s.dequeue_batch.is_some() {
                for o in outputs.iter_mut() {
                    o.end_batch();
                }
                if let (Some(t), Some(s)) = (tally.as_mut(), stats.as_deref()) {
                    t.take_failed(&mut outputs);
                    t.flush(s);
                }
            }
            mq.q.discarded_at_dequeue(nf);
            mq.q.release(end - start);
            start = end;
        }
        if let Some(f) = fwd.as_mut() {
            f.flush();
        }
        // every message went through its actions and the actions ended their batch:
        // tell the input (imrelp acknowledges now; src/completion.rs)
        if let Some(d) = batch.done.take() {
            let lost_now = outputs.iter().map(|o| o.lost_total()).sum::<u64>();
            if lost_before.is_some_and(|b| lost_now > b) {
                d.fail();
            }
            d.done();
        }
        if let Some(s) = &mq.spool {
            s.batch_done(batch.spool_seq);
        }
        batch.clear();
        if let Ok(mut p) = pool.lock() {
            if p.len() < 256 {
                p.push(batch);
            }
        }
    }
    let mut failed = 0;
    for o in outputs.iter_mut() {
        failed += o.shutdown();
    }
    lost.fetch_add(failed, Ordering::SeqCst);
}

/// Many TCP sessions need many descriptors: raise the soft limit to the hard limit.
fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}

/// Tells systemd about our state when started with `Type=notify` (NOTIFY_SOCKET set).
fn sd_notify(state: &str) {
    let Ok(path) = std::env::var("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let msg = format!("{state}\nMAINPID={}", std::process::id());
    if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()) {
            let _ = sock.send_to_addr(msg.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(msg.as_bytes(), &path);
    }
}
