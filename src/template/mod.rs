//! The template engine: rsyslog 8.2302's templates (template.c), compiled once into a list
//! of parts — constant bytes or a property with its replacer options — and rendered without
//! allocation into a caller's reused buffer.
//!
//! - String templates: `%name:from:to:options:fieldname%` (legacy `$template` text gets the
//!   legacy escapes `\n \r \\ \% \<decimal>`; RainerScript `string=` text none, its escapes
//!   were applied by the config lexer).
//! - List templates: `property(...)` / `constant(...)`.
//! - Plugin templates: the four C string generators (`RSYSLOG_FileFormat` …), byte-exact
//!   including where they differ from their template-string equivalents.
//! - Template options `sql`, `stdsql`, `json`, `jsonf`, `casesensitive`.
//! - Built-ins, including the internal ` WallFmt`, ` StdUsrMsgFmt`, ` StdJSONFmt`, … (names
//!   with a leading space, reachable by modules only).
//!
//! Message variables (`$!…`, `$.…`, `$/…`) do not exist in the message model yet: they
//! render empty (`$!all-json` as `{}`), subtree templates render nothing.

pub mod builtin;
pub mod clock;
pub mod datefmt;
pub mod posix_regex;
pub mod props;
pub mod render_cache;
pub mod replacer;

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::model::{self, PValue, Params};
use crate::message::{MsgRef, SyslogTime};

use datefmt::DateFmt;
use props::PropId;
use replacer::{Case, DataType, Escape, Format, NoMatch, OnEmpty, Options, RegexSpec};

/// What rendering needs besides the message.
#[derive(Debug, Clone)]
pub struct RenderEnv {
    /// `$myhostname` (rsyslog's local host name).
    pub local_hostname: String,
    /// `inputname` of each input, indexed by `Message::input`.
    pub input_names: Vec<String>,
    /// `global(parser.permitSlashInProgramName=…)`.
    pub permit_slash_in_programname: bool,
    /// The time the `$now` family reports, local and UTC (rsyslog takes it once per action
    /// call): set by [`RenderEnv::refresh_now`].
    pub now_local: SyslogTime,
    pub now_utc: SyslogTime,
    /// Renderings of the current message (the rules thread switches it on).
    pub cache: std::cell::RefCell<render_cache::RenderCache>,
}

impl Default for RenderEnv {
    fn default() -> Self {
        RenderEnv::new("localhost")
    }
}

impl RenderEnv {
    /// An environment with the current time already taken.
    pub fn new(local_hostname: impl Into<String>) -> RenderEnv {
        let mut e = RenderEnv {
            local_hostname: local_hostname.into(),
            input_names: Vec::new(),
            permit_slash_in_programname: false,
            now_local: SyslogTime::default(),
            now_utc: SyslogTime::default(),
            cache: Default::default(),
        };
        e.refresh_now();
        e
    }

    /// An environment with the config's `parser.permitSlashInProgramName`; the caller still
    /// fills `input_names` (in its input numbering; rsyslog calls internal messages'
    /// input `rsyslogd`).
    pub fn from_config(cfg: &model::Config, local_hostname: &str) -> RenderEnv {
        let mut e = RenderEnv::new(local_hostname);
        e.permit_slash_in_programname = cfg
            .globals
            .get("parser.permitSlashInProgramName")
            .is_some_and(pv_bool);
        e
    }

    /// Takes the current time for `$now`, `$year`, … (call once per batch).
    pub fn refresh_now(&mut self) {
        let (s, us) = clock::now_unix();
        self.now_local = clock::local_syslog_time(s, us);
        self.now_utc = clock::utc_syslog_time(s, us);
    }

    pub fn now_time(&self, utc: bool) -> &SyslogTime {
        if utc {
            &self.now_utc
        } else {
            &self.now_local
        }
    }

    /// `inputname` of input `i` (empty when unknown).
    pub fn input_name(&self, i: u16) -> &str {
        let i = i & !crate::input::repeat::DEFAULT_RULESET;
        self.input_names.get(i as usize).map_or("", String::as_str)
    }
}

/// Whether the output depends only on the message: no variables (`set` may change
/// them between actions), no JSON of them, no values taken per call (`uuid`,
/// `$uptime`, `$now-unixtimestamp`).
fn body_fixed_per_message(body: &Body) -> bool {
    match body {
        Body::Strgen(_) => true,
        Body::Subtree => false,
        Body::Parts { parts, .. } => parts.iter().all(|p| match p {
            Part::Const(_) => true,
            Part::Prop(pp) => {
                use PropId::*;
                matches!(
                    pp.id,
                    Msg | RawMsg
                        | RawMsgAfterPri
                        | Hostname
                        | FromHost
                        | FromHostIp
                        | FromHostPort
                        | SyslogTag
                        | ProgramName
                        | Pri
                        | PriText
                        | Iut
                        | SyslogFacility
                        | SyslogFacilityText
                        | SyslogSeverity
                        | SyslogSeverityText
                        | TimeGenerated
                        | TimeReported
                        | ProtocolVersion
                        | StructuredData
                        | AppName
                        | ProcId
                        | MsgId
                        | InputName
                        | SysMyHostname
                )
            }
        }),
    }
}

/// One compiled property reference.
#[derive(Debug, Clone)]
struct PropPart {
    id: PropId,
    /// rsyslog's `bComplexProcessing`: the replacer runs at all.
    complex: bool,
    date: DateFmt,
    utc: bool,
    /// Name `jsonf` writes.
    field_name: Box<[u8]>,
    opts: Options,
    /// The variable a `$!`/`$.`/`$/` property names.
    var: Option<Box<crate::vars::VarRef>>,
}

#[derive(Debug, Clone)]
enum Part {
    Const(Box<[u8]>),
    Prop(Box<PropPart>),
}

/// The four string generators rsyslog implements in C (tools/sm*.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strgen {
    /// `RSYSLOG_TraditionalFileFormat` (smtradfile).
    TraditionalFile,
    /// `RSYSLOG_FileFormat` (smfile).
    File,
    /// `RSYSLOG_TraditionalForwardFormat` (smtradfwd).
    TraditionalForward,
    /// `RSYSLOG_ForwardFormat` (smfwd).
    Forward,
}

impl Strgen {
    pub fn by_name(name: &str) -> Option<Strgen> {
        Some(match name {
            "RSYSLOG_TraditionalFileFormat" => Strgen::TraditionalFile,
            "RSYSLOG_FileFormat" => Strgen::File,
            "RSYSLOG_TraditionalForwardFormat" => Strgen::TraditionalForward,
            "RSYSLOG_ForwardFormat" => Strgen::Forward,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
enum Body {
    Parts {
        parts: Vec<Part>,
        escape: Escape,
    },
    Strgen(Strgen),
    /// `type="subtree"`: the JSON of a `$!` subtree; no message variables exist yet.
    Subtree,
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    body: Body,
    /// The output depends only on the message ([`Template::fixed_per_message`]).
    fixed: bool,
}

/// All templates by name: rsyslog's built-ins and the config's.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_name: HashMap<String, Arc<Template>>,
    warnings: Vec<String>,
}

impl Templates {
    /// Compiles every template in `cfg.templates` plus rsyslog's built-ins; errors name the
    /// template and the problem (one per line).
    pub fn from_config(cfg: &model::Config) -> Result<Templates, String> {
        let mut t = Templates::builtins();
        let mut errors = Vec::new();
        for ct in &cfg.templates {
            match Template::from_model(ct, &mut t.warnings) {
                Ok(tpl) => {
                    // as rsyslog's tplFind, the first definition of a name wins
                    t.by_name
                        .entry(ct.name.clone())
                        .or_insert_with(|| Arc::new(tpl));
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(t)
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Only rsyslog's built-in templates.
    pub fn builtins() -> Templates {
        let mut t = Templates::default();
        for (name, def) in builtin::BUILTINS {
            let tpl = match def {
                builtin::Def::Strgen(s) => Template::new(name, Body::Strgen(*s)),
                builtin::Def::Legacy(text, escape) => {
                    let mut tpl =
                        Template::compile_string(name, text.as_bytes(), true, &mut Vec::new())
                            .expect("built-in template compiles");
                    if let Body::Parts { escape: e, .. } = &mut tpl.body {
                        *e = *escape;
                    }
                    tpl
                }
            };
            t.by_name.insert(name.to_string(), Arc::new(tpl));
        }
        t
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Template>> {
        self.by_name.get(name)
    }

    /// Problems rsyslog only warns about (unknown options, bad regex syntax …).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn pv_str(v: &PValue) -> String {
    v.to_config_string()
}

fn pv_int(v: &PValue) -> Option<i64> {
    match v {
        PValue::Int(i) => Some(*i),
        PValue::Str(s) => s.trim().parse().ok(),
        PValue::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn pv_bool(v: &PValue) -> bool {
    match v {
        PValue::Bool(b) => *b,
        PValue::Int(i) => *i != 0,
        PValue::Str(s) => matches!(s.to_ascii_lowercase().as_str(), "on" | "yes" | "1"),
        _ => false,
    }
}

/// Whether a `type="string"` template came from a legacy `$template` line (whose text still
/// needs the legacy escapes).
fn is_legacy(t: &model::Template) -> bool {
    t.legacy
}

/// libestr's `es_unescapeStr` (0.1.11), the second escape pass `constant(value=…)` gets.
pub fn es_unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' || i + 1 >= s.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = s[i + 1];
        i += 2;
        let v = match n {
            b'0' => 0,
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'\'' | b'"' | b'?' | b'\\' => n,
            b'x' if i + 1 < s.len() && s[i].is_ascii_hexdigit() && s[i + 1].is_ascii_hexdigit() => {
                let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                let v = h(s[i]) * 16 + h(s[i + 1]);
                i += 2;
                v
            }
            _ => {
                out.push(b'\\');
                n
            }
        };
        out.push(v);
    }
    out
}

/// A tiny cursor over template text (C-string semantics: past the end reads as NUL).
struct Cur<'a> {
    s: &'a [u8],
    p: usize,
}

impl Cur<'_> {
    fn c(&self) -> u8 {
        self.s.get(self.p).copied().unwrap_or(0)
    }
    fn at(&self, k: usize) -> u8 {
        self.s.get(self.p + k).copied().unwrap_or(0)
    }
    fn digits(&mut self) -> i64 {
        let mut n: i64 = 0;
        while self.c().is_ascii_digit() {
            n = n
                .saturating_mul(10)
                .saturating_add((self.c() - b'0') as i64);
            self.p += 1;
        }
        n
    }
    fn skip_to_pct_or_colon(&mut self) {
        while self.p < self.s.len() && self.c() != b'%' && self.c() != b':' {
            self.p += 1;
        }
    }
    fn starts(&self, w: &[u8]) -> bool {
        self.s[self.p.min(self.s.len())..].starts_with(w)
    }
}

/// Format flags of the string form, set as rsyslog's `doOptions` sets them.
#[derive(Default)]
struct FormatFlags {
    csv: bool,
    json: bool,
    jsonf: bool,
    jsonr: bool,
    jsonfr: bool,
}

impl FormatFlags {
    fn has(&self) -> bool {
        self.csv || self.json || self.jsonf || self.jsonr
    }
    fn resolve(&self) -> Format {
        if self.csv {
            Format::Csv
        } else if self.json {
            Format::Json
        } else if self.jsonf {
            Format::JsonF
        } else if self.jsonr {
            Format::JsonR
        } else if self.jsonfr {
            Format::JsonFR
        } else {
            Format::None
        }
    }
}

impl Template {
    fn new(name: &str, body: Body) -> Template {
        Template {
            name: name.to_string(),
            fixed: body_fixed_per_message(&body),
            body,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Compiles a template string. `legacy`: the text of a legacy `$template` line (or a
    /// built-in), which gets the legacy constant escapes and ends at an unescaped `"`.
    pub fn compile_string(
        name: &str,
        text: &[u8],
        legacy: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut cur = Cur { s: text, p: 0 };
        while cur.p < text.len() {
            if cur.c() == b'%' {
                cur.p += 1;
                parts.push(Part::Prop(Box::new(parse_parameter(
                    name, &mut cur, warnings,
                )?)));
            } else {
                let mut buf = Vec::new();
                parse_constant(&mut cur, legacy, &mut buf);
                parts.push(Part::Const(buf.into_boxed_slice()));
            }
            if legacy && cur.c() == b'"' {
                break;
            }
        }
        Ok(Template::new(
            name,
            Body::Parts {
                parts,
                escape: Escape::None,
            },
        ))
    }

    /// Compiles a template of the loaded config.
    pub fn from_model(t: &model::Template, warnings: &mut Vec<String>) -> Result<Template, String> {
        let name = t.name.as_str();
        let legacy = is_legacy(t);
        let ty = t.params.str("type").unwrap_or("string");
        let mut tpl = match ty {
            "string" => {
                let text = t.params.str("string").ok_or_else(|| {
                    format!("template '{name}' of type string needs string parameter")
                })?;
                Template::compile_string(name, text.as_bytes(), legacy, warnings)?
            }
            "plugin" => {
                let plugin = t.params.str("plugin").unwrap_or("");
                let plugin = plugin.split(char::is_whitespace).next().unwrap_or("");
                match Strgen::by_name(plugin) {
                    Some(s) => Template::new(
                        name,
                        Body::Strgen(s),
                    ),
                    None => {
                        return Err(format!(
                            "template '{name}': strgen module '{plugin}' not found (oxsyslog has RSYSLOG_FileFormat, RSYSLOG_TraditionalFileFormat, RSYSLOG_ForwardFormat and RSYSLOG_TraditionalForwardFormat)"
                        ))
                    }
                }
            }
            "subtree" => Template::new(name, Body::Subtree),
            "list" => {
                if t.parts.is_empty() {
                    return Err(format!(
                        "template '{name}' of type list has no parameters specified"
                    ));
                }
                let mut parts = Vec::new();
                for p in &t.parts {
                    parts.push(if p.is_property {
                        list_property(name, &p.params)?
                    } else {
                        list_constant(name, &p.params)?
                    });
                }
                Template::new(
                    name,
                    Body::Parts {
                        parts,
                        escape: Escape::None,
                    },
                )
            }
            other => {
                return Err(format!(
                    "template '{name}': invalid template type '{other}'"
                ))
            }
        };
        let (escape, case_sensitive) = template_options(name, &t.params, legacy)?;
        if let Body::Parts { parts, escape: e } = &mut tpl.body {
            *e = escape;
            if !case_sensitive {
                for p in parts.iter_mut() {
                    if let Part::Prop(pp) = p {
                        if pp.id.is_variable() {
                            pp.field_name.make_ascii_lowercase();
                        }
                    }
                }
            }
        }
        Ok(tpl)
    }

    /// [`Template::render`] through the environment's [`render_cache::RenderCache`]: a
    /// template that depends only on the message is rendered once per message and copied
    /// for the other actions that write it.
    pub fn render_cached(&self, m: MsgRef<'_>, env: &RenderEnv, out: &mut Vec<u8>) {
        let key = self as *const Template as usize;
        let Ok(mut cache) = env.cache.try_borrow_mut() else {
            return self.render(m, env, out);
        };
        if let Some(b) = cache.get(key) {
            out.extend_from_slice(b);
            return;
        }
        let start = out.len();
        self.render(m, env, out);
        if cache.wants() && self.fixed_per_message() {
            cache.put(key, &out[start..]);
        }
    }

    /// Whether the output depends only on the message (decided when compiled).
    fn fixed_per_message(&self) -> bool {
        self.fixed
    }

    /// Renders the template for one message, appending to `out`.
    pub fn render(&self, m: MsgRef<'_>, env: &RenderEnv, out: &mut Vec<u8>) {
        match &self.body {
            Body::Strgen(s) => builtin::strgen(*s, m, out),
            Body::Subtree => {}
            Body::Parts { parts, escape } => {
                if *escape == Escape::JsonF {
                    out.push(b'{');
                    let mut need_comma = false;
                    for (i, part) in parts.iter().enumerate() {
                        let mark = out.len();
                        if need_comma {
                            out.extend_from_slice(b", ");
                        }
                        let start = out.len();
                        render_part(part, Escape::None, m, env, out);
                        if out.len() == start {
                            out.truncate(mark);
                        } else {
                            need_comma = true;
                        }
                        if i + 1 == parts.len() {
                            out.extend_from_slice(b"}\n");
                        }
                    }
                } else {
                    for part in parts {
                        render_part(part, *escape, m, env, out);
                    }
                }
            }
        }
    }

    /// Renders into a fresh buffer (tests, tools).
    pub fn render_to_vec(&self, m: MsgRef<'_>, env: &RenderEnv) -> Vec<u8> {
        let mut v = Vec::new();
        self.render(m, env, &mut v);
        v
    }

    /// Whether rendering uses the `$now` family (the time in [`RenderEnv`]), for callers that
    /// want to refresh [`RenderEnv`] only when needed.
    pub fn uses_now(&self) -> bool {
        match &self.body {
            Body::Parts { parts, .. } => parts.iter().any(|p| {
                matches!(p, Part::Prop(pp) if matches!(pp.id,
                    PropId::SysNow | PropId::SysYear | PropId::SysMonth | PropId::SysDay
                    | PropId::SysHour | PropId::SysHHour | PropId::SysQHour | PropId::SysMinute
                    | PropId::SysWDay | PropId::SysNowUtc | PropId::SysYearUtc | PropId::SysMonthUtc
                    | PropId::SysDayUtc | PropId::SysHourUtc | PropId::SysHHourUtc
                    | PropId::SysQHourUtc | PropId::SysMinuteUtc | PropId::SysWDayUtc))
            }),
            _ => false,
        }
    }
}

#[inline]
fn render_part(part: &Part, escape: Escape, m: MsgRef<'_>, env: &RenderEnv, out: &mut Vec<u8>) {
    match part {
        Part::Const(c) => out.extend_from_slice(c),
        Part::Prop(p) => {
            let start = out.len();
            let owned = match (&p.var, m.vars) {
                (Some(v), Some(vars)) => {
                    vars.render(v, out);
                    true
                }
                _ => props::append_value(m, p.id, env, p.date, p.utc, out),
            };
            if p.complex {
                replacer::apply(&p.opts, &p.field_name, out, start, owned);
            }
            if escape != Escape::None {
                replacer::escape_value(escape, out, start);
            }
        }
    }
}

/// The variable a property name refers to, for the variable properties.
fn var_ref(id: PropId, name: &str) -> Option<Box<crate::vars::VarRef>> {
    if id.is_variable() {
        crate::vars::VarRef::parse(name).map(Box::new)
    } else {
        None
    }
}

/// rsyslog's `do_Constant`: text up to the next `%` (and, for legacy text, `"`), with the
/// legacy escapes when `legacy`.
fn parse_constant(cur: &mut Cur<'_>, legacy: bool, buf: &mut Vec<u8>) {
    while cur.p < cur.s.len() && cur.c() != b'%' && !(legacy && cur.c() == b'"') {
        if legacy && cur.c() == b'\\' {
            cur.p += 1;
            match cur.c() {
                0 if cur.p >= cur.s.len() => {
                    // a trailing backslash: rsyslog appends the terminating NUL
                    buf.push(0);
                }
                b'n' => {
                    buf.push(b'\n');
                    cur.p += 1;
                }
                b'r' => {
                    buf.push(b'\r');
                    cur.p += 1;
                }
                b'0'..=b'9' => {
                    let v = cur.digits();
                    buf.push(v as u8);
                }
                c => {
                    // `\\`, `\%` and anything else: the character itself
                    buf.push(c);
                    cur.p += 1;
                }
            }
        } else {
            buf.push(cur.c());
            cur.p += 1;
        }
    }
}

/// rsyslog's `do_Parameter`: `name[:from[:to[:options[:fieldname]]]]%`, cursor after `%`.
fn parse_parameter(
    tpl: &str,
    cur: &mut Cur<'_>,
    warnings: &mut Vec<String>,
) -> Result<PropPart, String> {
    let start = cur.p;
    cur.skip_to_pct_or_colon();
    let name_bytes = &cur.s[start..cur.p];
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    let id = props::prop_id(&name)
        .ok_or_else(|| format!("template '{tpl}': invalid property '{name}'"))?;
    let whole = String::from_utf8_lossy(&cur.s[start..]).into_owned();
    let mut p = PropPart {
        var: var_ref(id, &name),
        id,
        complex: false,
        date: DateFmt::Default,
        utc: false,
        field_name: Box::default(),
        opts: Options::default(),
    };
    let o = &mut p.opts;
    // has_regex: 0 none, 1 usable, 2 did not compile
    let mut has_regex = 0u8;
    let mut ere = false;
    let (mut submatch, mut match_nr, mut nomatch) = (0usize, 0usize, NoMatch::Default);
    let mut has_fields = false;
    let mut delim = 9u8;
    let mut field_nr: i64 = 0;

    if cur.c() == b':' {
        p.complex = true;
        cur.p += 1;
        if cur.c() == b'R' {
            cur.p += 1;
            if cur.c() == b',' {
                cur.p += 1;
                let sep = |k: usize| matches!(cur.at(k), b',' | b':');
                if cur.starts(b"BRE") && sep(3) {
                    cur.p += 3;
                } else if cur.starts(b"ERE") && sep(3) {
                    ere = true;
                    cur.p += 3;
                } else {
                    warnings.push(format!(
                        "template '{tpl}': invalid regular expression type in '%{whole}'"
                    ));
                }
            }
            if cur.c() == b',' {
                cur.p += 1;
                if cur.c().is_ascii_digit() {
                    submatch = (cur.c() - b'0') as usize;
                    cur.p += 1;
                }
            }
            if cur.c() == b',' {
                cur.p += 1;
                let sep = |k: usize| matches!(cur.at(k), b',' | b':');
                if cur.starts(b"DFLT") && sep(4) {
                    cur.p += 4;
                } else if cur.starts(b"BLANK") && sep(5) {
                    nomatch = NoMatch::Blank;
                    cur.p += 5;
                } else if cur.starts(b"FIELD") && sep(5) {
                    nomatch = NoMatch::Field;
                    cur.p += 5;
                } else if cur.starts(b"ZERO") && sep(4) {
                    nomatch = NoMatch::Zero;
                    cur.p += 4;
                } else if cur.c() == b',' {
                    // empty: the default
                } else {
                    warnings.push(format!(
                        "template '{tpl}': invalid regular expression no-match mode in '%{whole}'"
                    ));
                }
            }
            if cur.c() == b',' {
                cur.p += 1;
                if cur.c().is_ascii_digit() {
                    match_nr = (cur.c() - b'0') as usize;
                    cur.p += 1;
                }
            }
            if cur.c() != b':' {
                warnings.push(format!("template '{tpl}': invalid character in frompos after \"R\", property: '%{whole}'"));
            } else {
                has_regex = 1;
            }
        } else if cur.c() == b'F' {
            cur.p += 1;
            if cur.c() == b':' {
                has_fields = true;
                delim = 9;
            } else if cur.c() == b',' {
                cur.p += 1;
                has_fields = true;
                if !cur.c().is_ascii_digit() {
                    warnings.push(format!("template '{tpl}': invalid character in frompos after \"F,\", property: '%{whole}' - using 9 (HT) as field delimiter"));
                    delim = 9;
                } else {
                    let n = cur.digits();
                    if n > 255 {
                        warnings.push(format!("template '{tpl}': non-USASCII delimiter character value {n} - using 9 (HT) as substitute"));
                        delim = 9;
                    } else {
                        delim = n as u8;
                        if cur.c() == b',' {
                            cur.p += 1;
                            o.from = cur.digits();
                        } else if cur.c() != b':' {
                            return Err(format!(
                                "template '{tpl}': invalid character '{}' in frompos after \"F,\", property: '%{whole}' be sure to use DECIMAL character codes!",
                                cur.c() as char
                            ));
                        }
                    }
                }
            } else {
                warnings.push(format!("template '{tpl}': invalid character in frompos after \"F\", property: '%{whole}'"));
            }
        } else {
            o.from = cur.digits();
            cur.skip_to_pct_or_colon();
        }
    }

    let mut regex = None;
    if cur.c() == b':' {
        cur.p += 1;
        if has_regex == 1 {
            let rest = &cur.s[cur.p..];
            match rest.windows(5).position(|w| w == b"--end") {
                None => {
                    warnings.push(format!(
                        "template '{tpl}': can not find regex end ('--end') in '%{whole}'"
                    ));
                    has_regex = 0;
                }
                Some(len) => {
                    let expr = String::from_utf8_lossy(&rest[..len]).into_owned();
                    regex = match replacer::compile_regex(&expr, ere) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            warnings.push(format!(
                                "template '{tpl}': error in regular expression '{expr}': {e}"
                            ));
                            has_regex = 2;
                            None
                        }
                    };
                    cur.p += len + 5;
                }
            }
        } else if cur.c() == b'$' {
            cur.p += 1;
            o.to = 9999999;
        } else {
            if has_fields {
                field_nr = cur.digits();
                if cur.c() == b',' {
                    cur.p += 1;
                    o.to = cur.digits();
                }
            } else {
                o.to = cur.digits();
            }
            cur.skip_to_pct_or_colon();
        }
    }

    if cur.c() == b':' {
        cur.p += 1;
        parse_options(tpl, cur, &mut p, warnings);
    }
    let o = &mut p.opts;
    if o.end_relative {
        if o.to > o.from {
            std::mem::swap(&mut o.to, &mut o.from);
        }
    } else if o.to < o.from {
        std::mem::swap(&mut o.to, &mut o.from);
    }

    let mut field_name: Option<Vec<u8>> = None;
    if cur.c() == b':' {
        cur.p += 1;
        let s = cur.p;
        while cur.p < cur.s.len() && cur.c() != b':' && cur.c() != b'%' {
            cur.p += 1;
        }
        field_name = Some(cur.s[s..cur.p].to_vec());
    }
    p.field_name = match field_name {
        Some(f) => f.into_boxed_slice(),
        None if matches!(id, PropId::CeeVar | PropId::LocalVar) => name_bytes
            .get(2..)
            .unwrap_or(&[])
            .to_vec()
            .into_boxed_slice(),
        None => name_bytes.to_vec().into_boxed_slice(),
    };
    if cur.p < cur.s.len() {
        cur.p += 1; // eat '%'
    }

    if has_fields {
        p.opts.field = Some((delim, field_nr));
    } else if has_regex != 0 {
        p.opts.regex = Some(RegexSpec {
            re: regex,
            submatch,
            match_nr,
            nomatch,
        });
    }
    Ok(p)
}

/// rsyslog's `doOptions`: comma-separated, case-insensitive, up to `%` or `:`.
fn parse_options(tpl: &str, cur: &mut Cur<'_>, p: &mut PropPart, warnings: &mut Vec<String>) {
    let mut fmt = FormatFlags::default();
    while cur.p < cur.s.len() && cur.c() != b'%' && cur.c() != b':' {
        let s = cur.p;
        while cur.p < cur.s.len() && !matches!(cur.c(), b'%' | b':' | b',') {
            cur.p += 1;
        }
        // rsyslog keeps at most 63 characters of an option
        let word: String =
            String::from_utf8_lossy(&cur.s[s..cur.p.min(s + 63)]).to_ascii_lowercase();
        if cur.c() == b',' {
            cur.p += 1;
        }
        let o = &mut p.opts;
        if let Some(d) = DateFmt::from_option(&word) {
            p.date = d;
            continue;
        }
        let dup = |w: &str, warnings: &mut Vec<String>| {
            warnings.push(format!(
                "template '{tpl}': can only specify one option out of (json, jsonf, jsonr, jsonfr, csv) - {w} ignored"
            ))
        };
        match word.as_str() {
            "date-utc" => p.utc = true,
            "lowercase" => o.case = Case::Lower,
            "uppercase" => o.case = Case::Upper,
            "sp-if-no-1st-sp" => o.sp_if_no_1st_sp = true,
            "compressspace" => o.compress_space = true,
            "escape-cc" => o.escape_cc = true,
            "drop-cc" => o.drop_cc = true,
            "space-cc" => o.space_cc = true,
            "drop-last-lf" => o.drop_last_lf = true,
            "secpath-drop" => o.secpath_drop = true,
            "secpath-replace" => o.secpath_replace = true,
            "pos-end-relative" => o.end_relative = true,
            "fixed-width" => o.fixed_width = true,
            "mandatory-field" => {}
            "csv" | "json" | "jsonf" | "jsonr" | "jsonfr" => {
                if fmt.has() {
                    dup(&word, warnings);
                } else {
                    match word.as_str() {
                        "csv" => fmt.csv = true,
                        "json" => fmt.json = true,
                        "jsonf" => fmt.jsonf = true,
                        "jsonr" => fmt.jsonr = true,
                        _ => fmt.jsonfr = true,
                    }
                }
            }
            _ => warnings.push(format!(
                "template '{tpl}': invalid field option '{word}' specified - ignored"
            )),
        }
    }
    p.opts.format = fmt.resolve();
}

/// `constant(value=… format=… outname=…)`.
fn list_constant(tpl: &str, params: &Params) -> Result<Part, String> {
    let value = params.get("value").map(pv_str).unwrap_or_default();
    let value = es_unescape(value.as_bytes());
    let outname = params.get("outname").map(pv_str);
    match params.get("format").map(pv_str).as_deref() {
        None => Ok(Part::Const(value.into_boxed_slice())),
        Some("jsonf") => {
            let Some(outname) = outname else {
                return Err(format!(
                    "template '{tpl}': constant set to format jsonf, but outname not specified - aborting"
                ));
            };
            // json-c's spaced object text without its "{ " and " }"
            let mut v = Vec::new();
            v.push(b'"');
            props::json_c_escape(&mut v, outname.as_bytes());
            v.extend_from_slice(b"\": \"");
            props::json_c_escape(&mut v, &value);
            v.push(b'"');
            Ok(Part::Const(v.into_boxed_slice()))
        }
        Some(other) => Err(format!(
            "template '{tpl}': invalid format type '{other}' for constant"
        )),
    }
}

/// `property(...)`, as rsyslog's `createPropertyTpe`.
fn list_property(tpl: &str, params: &Params) -> Result<Part, String> {
    let name = params.get("name").map(pv_str).unwrap_or_default();
    let id = props::prop_id(&name)
        .ok_or_else(|| format!("template '{tpl}': invalid property '{name}'"))?;
    let mut o = Options::default();
    let mut complex = false;
    let mut date = DateFmt::Default;
    let mut utc = false;
    let mut frompos: i64 = -1;
    let mut topos: i64 = 0;
    let mut topos_set = false;
    let mut fieldnum: i64 = -1;
    let mut fielddelim: i64 = 9;
    let mut re_expr: Option<String> = None;
    let mut re_ere = false;
    let mut re_nomatch = NoMatch::Default;
    let (mut re_match, mut re_sub) = (0i64, 0i64);
    let mut outname: Option<String> = None;
    let err = |what: &str, v: &str| format!("template '{tpl}': invalid {what} '{v}' for property");
    for s in &params.0 {
        let v = &s.value;
        match s.name.to_ascii_lowercase().as_str() {
            "name" => {}
            "outname" => outname = Some(pv_str(v)),
            "datatype" => {
                o.data_type = match pv_str(v).as_str() {
                    "string" => DataType::String,
                    "number" => DataType::Number,
                    "bool" => DataType::Bool,
                    "auto" => DataType::Auto,
                    x => return Err(err("dataType", x)),
                }
            }
            "onempty" => {
                o.on_empty = match pv_str(v).as_str() {
                    "keep" => OnEmpty::Keep,
                    "skip" => OnEmpty::Skip,
                    "null" => OnEmpty::Null,
                    x => return Err(err("onEmpty value", x)),
                }
            }
            "droplastlf" => {
                o.drop_last_lf = pv_bool(v);
                complex = true;
            }
            "fixedwidth" => {
                o.fixed_width = pv_bool(v);
                complex = true;
            }
            "mandatory" => {}
            "spifno1stsp" => {
                o.sp_if_no_1st_sp = pv_bool(v);
                complex = true;
            }
            "position.from" => {
                frompos = pv_int(v).unwrap_or(0);
                complex = true;
            }
            "position.to" => {
                topos = pv_int(v).unwrap_or(0);
                topos_set = true;
                complex = true;
            }
            "position.relativetoend" => o.end_relative = pv_bool(v),
            "field.number" => {
                fieldnum = pv_int(v).unwrap_or(0);
                complex = true;
            }
            "field.delimiter" => {
                fielddelim = pv_int(v).unwrap_or(9);
                complex = true;
            }
            "regex.expression" => {
                re_expr = Some(pv_str(v));
                complex = true;
            }
            "regex.type" => {
                complex = true;
                re_ere = match pv_str(v).as_str() {
                    "BRE" => false,
                    "ERE" => true,
                    x => return Err(err("regex.type", x)),
                }
            }
            "regex.nomatchmode" => {
                complex = true;
                re_nomatch = match pv_str(v).as_str() {
                    "DFLT" => NoMatch::Default,
                    "BLANK" => NoMatch::Blank,
                    "FIELD" => NoMatch::Field,
                    "ZERO" => NoMatch::Zero,
                    x => return Err(err("format type", x)),
                }
            }
            "regex.match" => {
                complex = true;
                re_match = pv_int(v).unwrap_or(0);
            }
            "regex.submatch" => {
                complex = true;
                re_sub = pv_int(v).unwrap_or(0);
            }
            "format" => {
                complex = true;
                o.format = match pv_str(v).as_str() {
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    "jsonf" => Format::JsonF,
                    "jsonr" => Format::JsonR,
                    "jsonfr" => Format::JsonFR,
                    x => return Err(err("format type", x)),
                }
            }
            "controlcharacters" => {
                complex = true;
                match pv_str(v).as_str() {
                    "escape" => o.escape_cc = true,
                    "space" => o.space_cc = true,
                    "drop" => o.drop_cc = true,
                    x => return Err(err("controlcharacter mode", x)),
                }
            }
            "securepath" => {
                complex = true;
                match pv_str(v).as_str() {
                    "drop" => o.secpath_drop = true,
                    "replace" => o.secpath_replace = true,
                    x => return Err(err("securepath mode", x)),
                }
            }
            "caseconversion" => {
                complex = true;
                o.case = match pv_str(v).as_str() {
                    "lower" => Case::Lower,
                    "upper" => Case::Upper,
                    x => return Err(err("caseconversion type", x)),
                }
            }
            "compressspace" => {
                complex = true;
                o.compress_space = pv_bool(v);
            }
            "date.inutc" => utc = pv_bool(v),
            "dateformat" => {
                let f = pv_str(v);
                date = DateFmt::from_list_name(&f).ok_or_else(|| {
                    format!("template '{tpl}': invalid date format '{f}' for property")
                })?;
            }
            other => {
                return Err(format!(
                    "template '{tpl}': parameter '{other}' not known in property()"
                ))
            }
        }
    }
    if !topos_set && frompos != -1 {
        topos = 2_000_000_000;
    }
    if frompos == -1 && topos_set {
        frompos = 0;
    }
    if o.end_relative {
        if topos > frompos {
            return Err(format!(
                "template '{tpl}': position.to={topos} is higher than postion.from={frompos} in 'relativeToEnd' mode"
            ));
        }
    } else if topos >= 0 && topos < frompos {
        return Err(format!(
            "template '{tpl}': position.to={topos} is lower than postion.from={frompos}"
        ));
    }
    if fieldnum != -1 && re_expr.is_some() {
        return Err(format!(
            "template '{tpl}': both field extraction and regex extraction specified - this is not possible, remove one"
        ));
    }
    if fieldnum != -1 {
        o.field = Some(((fielddelim & 0xff) as u8, fieldnum));
    }
    if frompos != -1 {
        o.from = frompos;
        o.to = topos;
    } else {
        o.end_relative = false;
    }
    if let Some(expr) = re_expr {
        let re = replacer::compile_regex(&expr, re_ere)
            .map_err(|e| format!("template '{tpl}': error compiling regex '{expr}': {e}"))?;
        o.regex = Some(RegexSpec {
            re: Some(re),
            submatch: re_sub.max(0) as usize,
            match_nr: re_match.max(0) as usize,
            nomatch: re_nomatch,
        });
    }
    let field_name = match outname {
        Some(n) => n.into_bytes(),
        None => name.strip_prefix("$!").unwrap_or(&name).as_bytes().to_vec(),
    };
    Ok(Part::Prop(Box::new(PropPart {
        id,
        complex,
        date,
        utc,
        field_name: field_name.into_boxed_slice(),
        opts: o,
        var: var_ref(id, &name),
    })))
}

/// The template-wide options: (escape mode, case-sensitive variable names).
fn template_options(tpl: &str, params: &Params, legacy: bool) -> Result<(Escape, bool), String> {
    let mut case_sensitive = false;
    if legacy {
        // `$template` options: the last one wins; rsyslog's legacy parser knows no jsonf.
        let mut e = Escape::None;
        for s in &params.0 {
            if !pv_bool(&s.value) {
                continue;
            }
            match s.name.to_ascii_lowercase().as_str() {
                "option.sql" => e = Escape::Sql,
                "option.stdsql" => e = Escape::StdSql,
                "option.json" => e = Escape::Json,
                "option.casesensitive" => case_sensitive = true,
                _ => {}
            }
        }
        return Ok((e, case_sensitive));
    }
    let on = |n: &str| params.get(n).is_some_and(pv_bool);
    let (sql, stdsql, json, jsonf) = (
        on("option.sql"),
        on("option.stdsql"),
        on("option.json"),
        on("option.jsonf"),
    );
    if [sql, stdsql, json, jsonf].iter().filter(|x| **x).count() > 1 {
        return Err(format!(
            "template '{tpl}' has multiple incompatible options of sql, stdsql or json specified"
        ));
    }
    case_sensitive = on("option.casesensitive");
    let e = if stdsql {
        Escape::StdSql
    } else if sql {
        Escape::Sql
    } else if json {
        Escape::Json
    } else if jsonf {
        Escape::JsonF
    } else {
        Escape::None
    };
    Ok((e, case_sensitive))
}

#[cfg(test)]
mod tests;
