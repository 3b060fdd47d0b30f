//! The loader: walks the syntax tree in file order (following includes in place), applies
//! legacy directives as rsyslog's positional state, validates every object against the schema
//! and resolves names, producing the typed `Config` and located diagnostics.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::diagnostics::{Diagnostic, Diagnostics, Location};
use super::model::*;
use super::schema::legacy::{find_directive, Special, Target};
use super::schema::modules::{find_module, ModKind, Module, MODULES};
use super::schema::objects;
use super::schema::{find_param, Param, Sup, Ty};
use super::source::Source;
use super::syntax::{self, ActKind, ObjKind, Stmt, StmtKind, TplPart, Value};

/// Where `$ActionSendUDPRebindInterval` waits for the next `@` action (`@@` actions take
/// `$ActionSendTCPRebindInterval`; both become omfwd's `rebindInterval`).
const UDP_REBIND: &str = "udp.rebindInterval(legacy)";
use super::values;

/// The result of loading: the config (as far as it could be built) and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Templates rsyslog 8.2302 registers itself and that configs may name.
pub const BUILTIN_TEMPLATES: &[&str] = &[
    "RSYSLOG_TraditionalFileFormat",
    "RSYSLOG_FileFormat",
    "RSYSLOG_TraditionalForwardFormat",
    "RSYSLOG_ForwardFormat",
    "RSYSLOG_SysklogdFileFormat",
    "RSYSLOG_SyslogProtocol23Format",
    "RSYSLOG_SyslogRFC5424Format",
    "RSYSLOG_DebugFormat",
    "RSYSLOG_omudpspoofDfltSourceTpl",
];

/// Functions rsyslog 8.2302 knows (grammar/rainerscript.c), with their (min, max) argument
/// counts, followed by the newer-rsyslog extensions oxsyslog also accepts (issue #5).
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("strlen", 1, 1),
    ("getenv", 1, 1),
    ("num2ipv4", 1, 1),
    ("int2hex", 1, 1),
    ("substring", 3, 3),
    ("ltrim", 1, 1),
    ("rtrim", 1, 1),
    ("tolower", 1, 1),
    ("cstr", 1, 1),
    ("cnum", 1, 1),
    ("ip42num", 1, 1),
    ("ipv42num", 1, 1),
    ("re_match", 2, 2),
    ("re_match_i", 2, 2),
    ("re_extract", 5, 5),
    ("re_extract_i", 5, 5),
    ("field", 3, 3),
    ("exec_template", 1, 1),
    ("prifilt", 1, 1),
    ("lookup", 2, 2),
    ("dyn_inc", 2, 2),
    ("percentile_observe", 3, 3),
    ("replace", 3, 3),
    ("wrap", 2, 3),
    ("random", 1, 1),
    ("format_time", 2, 2),
    ("parse_time", 1, 1),
    ("is_time", 1, 2),
    ("parse_json", 2, 2),
    ("get_property", 2, 2),
    ("script_error", 0, 0),
    ("previous_action_suspended", 0, 0),
    // Extensions: functions of newer rsyslog versions that 8.2302 does not have (its -N1
    // reports "function 'x' not found" and then segfaults); implemented in
    // src/filter/timefn.rs. See compat-tests/config-check/extensions/.
    ("toupper", 1, 1),
    ("cbool", 1, 1),
    ("split", 2, 2),
    ("is_in_subnet", 2, 2),
    ("b64_decode", 1, 1),
];

/// Loads the config file at `path` (the master config).
pub fn load_path(path: &Path) -> Loaded {
    let mut l = Loader::new();
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            l.include_stack.push(canonical(path));
            l.load_source(Source::new(path.display().to_string(), &text));
            l.include_stack.pop();
            l.finish();
        }
        Err(e) => l.diags.error(
            Location {
                file: path.display().to_string(),
                ..Default::default()
            },
            format!("could not open config file: {}", io_reason(&e)),
        ),
    }
    Loaded {
        config: l.cfg,
        diagnostics: l.diags.items,
    }
}

/// Loads config text given directly (tests, fuzzing, `include(text=…)` style use).
pub fn load_text(name: &str, text: &str) -> Loaded {
    let mut l = Loader::new();
    l.load_source(Source::new(name, text));
    l.finish();
    Loaded {
        config: l.cfg,
        diagnostics: l.diags.items,
    }
}

fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Legacy positional state: values set by `$Directive` lines that later lines capture.
#[derive(Default)]
struct LegacyState {
    /// `$ActionQueue*`, `$ActionResumeRetryCount`, `$ActionName` …: next action only.
    next_action: Params,
    /// `$ActionExecOnlyWhenPreviousIsSuspended`, `$ActionResumeInterval` …: until changed.
    sticky_action: Params,
    /// `$FileOwner`, `$FileCreateMode` …: frozen into each legacy file action.
    file: Params,
    /// `$ActionSend*`: captured by each legacy `@`/`@@` action.
    fwd: Params,
    /// `$ActionSendStreamDriverPermittedPeer`: consumed by the next `@@`.
    fwd_peers: Vec<String>,
    tcp_listener: Params,
    tcp_peers: Vec<String>,
    udp_listener: Params,
    ux_listener: Params,
    /// `Target::InputInstance` state per module (imfile, imptcp, imrelp).
    input_state: Vec<(&'static str, Params)>,
    /// `Target::LegacyAction` state per output module (omprog …), sticky.
    action_state: Vec<(&'static str, Params)>,
}

fn state_for<'a>(v: &'a mut Vec<(&'static str, Params)>, module: &'static str) -> &'a mut Params {
    let i = match v.iter().position(|(m, _)| *m == module) {
        Some(i) => i,
        None => {
            v.push((module, Params::default()));
            v.len() - 1
        }
    };
    &mut v[i].1
}

/// A module-level value set by a legacy directive, applied at the end of the load.
struct LegacyModParam {
    module: &'static str,
    param: &'static str,
    value: PValue,
    loc: Location,
    directive: String,
}

struct Loader {
    diags: Diagnostics,
    cfg: Config,
    include_stack: Vec<PathBuf>,
    /// Index of the ruleset that top-level statements go to (`$Ruleset` switches it).
    cur_ruleset: usize,
    legacy: LegacyState,
    legacy_mod: Vec<LegacyModParam>,
    /// Modules configured with parameters through `module()`: their legacy module-global
    /// directives are no longer permitted.
    rainer_configured: HashSet<&'static str>,
    /// Names to check once everything is loaded: (is_template, name, where).
    refs: Vec<(bool, String, Location)>,
    main_queue_seen: bool,
}

impl Loader {
    fn new() -> Loader {
        let mut cfg = Config {
            default_ruleset: DEFAULT_RULESET.to_string(),
            ..Default::default()
        };
        cfg.rulesets.push(Ruleset {
            name: DEFAULT_RULESET.to_string(),
            params: Params::default(),
            body: Vec::new(),
            loc: Location::default(),
        });
        Loader {
            diags: Diagnostics::default(),
            cfg,
            include_stack: Vec::new(),
            cur_ruleset: 0,
            legacy: LegacyState::default(),
            legacy_mod: Vec::new(),
            rainer_configured: HashSet::new(),
            refs: Vec::new(),
            main_queue_seen: false,
        }
    }

    fn err(&mut self, loc: &Location, msg: impl Into<String>) {
        self.diags.error(loc.clone(), msg);
    }

    fn warn(&mut self, loc: &Location, msg: impl Into<String>) {
        self.diags.warning(loc.clone(), msg);
    }

    fn load_source(&mut self, src: Source) {
        if let Some(stmts) = syntax::parse(&src, &mut self.diags) {
            let mut body = Vec::new();
            self.top_level(stmts, &mut body);
            let cur = self.cur_ruleset;
            self.cfg.rulesets[cur].body.extend(body);
        }
    }

    /// Top-level statements: objects are handled here, statements go into `out` (the
    /// current ruleset's body); `$Ruleset` flushes `out` into the ruleset it leaves.
    fn top_level(&mut self, stmts: Vec<Stmt>, out: &mut Vec<Statement>) {
        for st in stmts {
            match st.kind {
                StmtKind::Object { kind, params } => self.object(kind, params, &st.loc),
                StmtKind::Template { params, parts } => self.template(params, parts, &st.loc),
                StmtKind::Ruleset { params, body } => self.ruleset(params, body, &st.loc),
                StmtKind::Directive {
                    ref name,
                    ref value,
                } if name.eq_ignore_ascii_case("Ruleset") => {
                    let target = values::split_word(value.trim_start()).0.to_string();
                    let cur = self.cur_ruleset;
                    self.cfg.rulesets[cur].body.append(out);
                    self.cur_ruleset = self.ruleset_index_or_create(&target, &st.loc);
                }
                _ => self.stmt(st, out),
            }
        }
    }

    fn ruleset_index_or_create(&mut self, name: &str, loc: &Location) -> usize {
        if let Some(i) = self.cfg.rulesets.iter().position(|r| r.name == name) {
            return i;
        }
        self.cfg.rulesets.push(Ruleset {
            name: name.to_string(),
            params: Params::default(),
            body: Vec::new(),
            loc: loc.clone(),
        });
        self.cfg.rulesets.len() - 1
    }

    // ------------------------------------------------------------------ parameters

    /// Validates `params` against `tables`, returning typed settings. Unknown names, wrong
    /// types, duplicates, unsupported and missing required parameters are reported.
    /// `config.enabled` is handled by the caller through `enabled()`.
    fn check_params(
        &mut self,
        what: &str,
        params: &[syntax::Param],
        tables: &[&'static [Param]],
        loc: &Location,
    ) -> Params {
        let mut out = Params::default();
        let mut seen: HashSet<String> = HashSet::new();
        for p in params {
            let lname = p.name.to_ascii_lowercase();
            if !seen.insert(lname.clone()) {
                self.err(
                    &p.loc,
                    format!("duplicate parameter '{}' in {what}", p.name),
                );
                continue;
            }
            if lname == "config.enabled" {
                continue;
            }
            let Some(spec) = tables.iter().find_map(|t| find_param(t, &p.name)) else {
                self.err(
                    &p.loc,
                    format!(
                        "parameter '{}' not known in {what} -- typo in config file?",
                        p.name
                    ),
                );
                continue;
            };
            if spec.sup == Sup::No {
                self.err(
                    &p.loc,
                    format!(
                        "parameter '{}' of {what} is not supported by oxsyslog",
                        spec.name
                    ),
                );
                continue;
            }
            if spec.ty == Ty::GoneAway {
                self.warn(
                    &p.loc,
                    format!(
                        "parameter '{}' is no longer supported and ignored",
                        spec.name
                    ),
                );
                continue;
            }
            match values::from_object(spec.name, spec.ty, &p.value) {
                Ok(v) => out.set(spec.name, v, p.loc.clone()),
                Err(e) => self.err(&p.loc, e),
            }
        }
        for t in tables {
            for spec in t.iter().filter(|s| s.required) {
                if !params
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case(spec.name))
                {
                    self.err(
                        loc,
                        format!("{what}: required parameter '{}' is missing", spec.name),
                    );
                }
            }
        }
        out
    }

    /// rsyslog disables an object unless `config.enabled` is absent or exactly `on`.
    fn enabled(params: &[syntax::Param]) -> bool {
        params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("config.enabled"))
            .is_none_or(|p| p.value == Value::Str("on".into()))
    }

    fn raw_str<'p>(params: &'p [syntax::Param], name: &str) -> Option<&'p str> {
        params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| match &p.value {
                Value::Str(s) => Some(s.as_str()),
                Value::Array(_) => None,
            })
    }

    // ------------------------------------------------------------------ objects

    fn object(&mut self, kind: ObjKind, params: Vec<syntax::Param>, loc: &Location) {
        if !Self::enabled(&params) {
            return;
        }
        match kind {
            ObjKind::Global => {
                let p = self.check_params("global()", &params, &[objects::GLOBAL], loc);
                for s in p.0 {
                    if let Some(first) = self.cfg.globals.get_setting(s.name) {
                        let at = first.loc.clone();
                        self.err(
                            &s.loc,
                            format!(
                                "parameter '{}' specified more than once (first at {at})",
                                s.name
                            ),
                        );
                        continue;
                    }
                    self.check_global(&s);
                    self.cfg.globals.set(s.name, s.value, s.loc);
                }
            }
            ObjKind::MainQueue => {
                if self.main_queue_seen {
                    self.err(loc, "main_queue() object can only be specified once");
                    return;
                }
                self.main_queue_seen = true;
                self.cfg.main_queue_object = true;
                let p = self.check_params("main_queue()", &params, &[objects::QUEUE], loc);
                for s in p.0 {
                    self.cfg.main_queue.set(s.name, s.value, s.loc);
                }
            }
            ObjKind::Module => self.module_object(params, loc),
            ObjKind::Input => self.input_object(params, loc),
            ObjKind::Parser => {
                let ty = Self::raw_str(&params, "type").unwrap_or("").to_string();
                let extra = match find_module(&ty) {
                    Some(m) if m.kind == ModKind::Parser && m.sup == Sup::Yes => m.instance_params,
                    Some(m) if m.sup == Sup::No => {
                        self.err(
                            loc,
                            format!("parser module '{}' is not supported by oxsyslog", m.name),
                        );
                        return;
                    }
                    _ => {
                        self.err(loc, format!("parser module name '{ty}' is unknown"));
                        return;
                    }
                };
                let p = self.check_params("parser()", &params, &[objects::PARSER, extra], loc);
                self.named_object("parser", p, loc);
            }
            ObjKind::Timezone => {
                let p = self.check_params("timezone()", &params, &[objects::TIMEZONE], loc);
                self.named_object("timezone", p, loc);
            }
            ObjKind::LookupTable => {
                let p = self.check_params("lookup_table()", &params, &[objects::LOOKUP_TABLE], loc);
                self.named_object("lookup_table", p, loc);
            }
            ObjKind::DynStats => {
                let p = self.check_params("dyn_stats()", &params, &[objects::DYN_STATS], loc);
                self.named_object("dyn_stats", p, loc);
            }
            ObjKind::PercentileStats => {
                let p = self.check_params(
                    "percentile_stats()",
                    &params,
                    &[objects::PERCENTILE_STATS],
                    loc,
                );
                self.named_object("percentile_stats", p, loc);
            }
        }
    }

    /// Checks rsyslog makes when a global is set: directories and TLS files must be accessible.
    fn check_global(&mut self, s: &Setting) {
        let lname = s.name.to_ascii_lowercase();
        let Some(v) = s.value.as_str() else { return };
        if lname == "workdirectory" {
            if !Path::new(v).is_dir() {
                self.err(
                    &s.loc,
                    format!("workDirectory '{v}' can not be accessed, probably does not exist"),
                );
            }
        } else if matches!(
            lname.as_str(),
            "defaultnetstreamdrivercafile"
                | "defaultnetstreamdrivercertfile"
                | "defaultnetstreamdriverkeyfile"
                | "defaultnetstreamdrivercrlfile"
        ) {
            if let Err(e) = std::fs::File::open(v) {
                self.err(
                    &s.loc,
                    format!(
                        "{} file '{v}' could not be accessed: {}",
                        s.name,
                        io_reason(&e)
                    ),
                );
            }
        }
    }

    fn named_object(&mut self, kind: &'static str, params: Params, loc: &Location) {
        if kind == "lookup_table" {
            if let Some(f) = params.get_setting("file") {
                if let Some(path) = f.value.as_str() {
                    if let Err(e) = std::fs::File::open(path) {
                        let l = f.loc.clone();
                        self.err(
                            &l,
                            format!(
                                "lookup table file '{path}' could not be opened: {}",
                                io_reason(&e)
                            ),
                        );
                    }
                }
            }
        }
        self.cfg.objects.push(NamedObject {
            kind,
            params,
            loc: loc.clone(),
        });
    }

    /// Resolves a module name, reporting unknown and unsupported modules.
    fn resolve_module(&mut self, name: &str, loc: &Location) -> Option<&'static Module> {
        match find_module(name) {
            Some(m) if m.sup == Sup::Yes => Some(m),
            Some(m) => {
                self.err(
                    loc,
                    format!("module '{}' is not supported by oxsyslog", m.name),
                );
                None
            }
            None => {
                self.err(
                    loc,
                    format!("could not load module '{name}': no such module"),
                );
                None
            }
        }
    }

    fn module_object(&mut self, params: Vec<syntax::Param>, loc: &Location) {
        let Some(load) = Self::raw_str(&params, "load").map(str::to_string) else {
            self.err(loc, "module(): required parameter 'load' is missing");
            return;
        };
        let Some(m) = self.resolve_module(&load, loc) else {
            return;
        };
        let what = format!("module(load=\"{}\")", m.name);
        let rest: Vec<syntax::Param> = params
            .into_iter()
            .filter(|p| !p.name.eq_ignore_ascii_case("load"))
            .collect();
        let p = self.check_params(&what, &rest, &[m.module_params], loc);
        if !p.is_empty() {
            self.rainer_configured.insert(m.name);
        }
        self.add_module(m, p, loc, true);
    }

    fn add_module(&mut self, m: &'static Module, params: Params, loc: &Location, explicit: bool) {
        if let Some(existing) = self.cfg.modules.iter_mut().find(|x| x.name == m.name) {
            if explicit && !m.builtin {
                let first = existing.loc.clone();
                self.err(
                    loc,
                    format!(
                        "module '{}' already loaded at {first}; it can be loaded only once",
                        m.name
                    ),
                );
            } else {
                for s in params.0 {
                    existing.params.set(s.name, s.value, s.loc);
                }
            }
            return;
        }
        self.cfg.modules.push(ModuleLoad {
            name: m.name,
            params,
            loc: loc.clone(),
        });
    }

    fn module_loaded(&self, name: &str) -> bool {
        self.cfg
            .modules
            .iter()
            .any(|m| m.name.eq_ignore_ascii_case(name))
            || find_module(name).is_some_and(|m| m.builtin)
    }

    fn input_object(&mut self, params: Vec<syntax::Param>, loc: &Location) {
        let Some(ty) = Self::raw_str(&params, "type").map(str::to_string) else {
            self.err(loc, "input(): required parameter 'type' is missing");
            return;
        };
        let Some(m) = self.resolve_module(&ty, loc) else {
            return;
        };
        if m.kind != ModKind::Input {
            self.err(loc, format!("module '{}' is not an input module", m.name));
            return;
        }
        if !self.module_loaded(m.name) {
            self.err(
                loc,
                format!(
                    "input module '{}' is not loaded: add module(load=\"{}\") before this input",
                    m.name, m.name
                ),
            );
            return;
        }
        let what = format!("input(type=\"{}\")", m.name);
        let p = self.check_params(
            &what,
            &params,
            &[objects::INPUT_COMMON, m.instance_params],
            loc,
        );
        if let Some(rs) = p.str("ruleset") {
            self.refs.push((false, rs.to_string(), loc.clone()));
        }
        if m.name == "imfile" && !self.cfg.globals.contains("workDirectory") {
            self.err(loc, "imfile: no working or state file directory set: use global(workDirectory=\"/some/path\")");
        }
        self.cfg.inputs.push(Input {
            module: m.name,
            params: p,
            loc: loc.clone(),
        });
    }

    fn template(
        &mut self,
        params: Vec<syntax::Param>,
        parts: Option<Vec<TplPart>>,
        loc: &Location,
    ) {
        if !Self::enabled(&params) {
            return;
        }
        let p = self.check_params("template()", &params, &[objects::TEMPLATE], loc);
        let Some(name) = p.str("name").map(str::to_string) else {
            return;
        };
        let ty = p.str("type").unwrap_or("").to_ascii_lowercase();
        let need = match ty.as_str() {
            "string" => Some("string"),
            "plugin" => Some("plugin"),
            "subtree" => Some("subtree"),
            "list" => None,
            _ => {
                self.err(
                    loc,
                    format!("template '{name}': invalid template type '{ty}'"),
                );
                return;
            }
        };
        if let Some(need) = need {
            if !p.contains(need) {
                self.err(
                    loc,
                    format!("template '{name}' of type {ty} needs parameter '{need}'"),
                );
            }
            if parts.as_ref().is_some_and(|v| !v.is_empty()) {
                self.err(
                    loc,
                    format!("template '{name}' of type {ty} cannot have a property/constant list"),
                );
            }
        }
        if ty == "string" {
            if let Some(st) = p.get_setting("string") {
                let (text, sloc) = (st.value.as_str().unwrap_or("").to_string(), st.loc.clone());
                self.check_template_string(&name, &text, &sloc);
            }
        }
        let mut tparts = Vec::new();
        for part in parts.unwrap_or_default() {
            let (what, table) = if part.is_property {
                ("property()", objects::PROPERTY)
            } else {
                ("constant()", objects::CONSTANT)
            };
            let pp = self.check_params(what, &part.params, &[table], &part.loc);
            if part.is_property {
                if let Some(n) = pp.str("name") {
                    if !super::properties::is_template_property(n) {
                        self.err(&part.loc, format!("invalid property '{n}'"));
                    }
                }
                if let Some(df) = pp.str("dateFormat") {
                    if !super::properties::DATE_FORMATS.contains(&df.to_ascii_lowercase().as_str())
                    {
                        self.err(
                            &part.loc,
                            format!("invalid date format '{df}' for property"),
                        );
                    }
                }
            }
            tparts.push(TemplatePart {
                is_property: part.is_property,
                params: pp,
            });
        }
        self.add_template(name, p, tparts, loc, false);
    }

    /// Checks the property names in a string template (`%name:…%`).
    fn check_template_string(&mut self, tpl: &str, text: &str, loc: &Location) {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'%' => {
                    let start = i + 1;
                    let Some(len) = text[start..].find('%') else {
                        self.err(
                            loc,
                            format!(
                                "template '{tpl}': unterminated property '%' in template string"
                            ),
                        );
                        return;
                    };
                    let inner = &text[start..start + len];
                    let name = inner.split(':').next().unwrap_or("");
                    if !super::properties::is_template_property(name) {
                        self.err(
                            loc,
                            format!("invalid property '{name}' in template '{tpl}'"),
                        );
                    }
                    i = start + len + 1;
                }
                _ => i += 1,
            }
        }
    }

    fn add_template(
        &mut self,
        name: String,
        params: Params,
        parts: Vec<TemplatePart>,
        loc: &Location,
        legacy: bool,
    ) {
        if let Some(t) = self.cfg.template(&name) {
            let first = t.loc.clone();
            self.warn(
                loc,
                format!(
                    "template '{name}' is already defined at {first}; this definition is ignored"
                ),
            );
            return;
        }
        if BUILTIN_TEMPLATES.contains(&name.as_str()) {
            self.err(
                loc,
                format!("template '{name}' is a built-in template and cannot be redefined"),
            );
            return;
        }
        self.cfg.templates.push(Template {
            name,
            params,
            parts,
            loc: loc.clone(),
            legacy,
        });
    }

    fn ruleset(&mut self, params: Vec<syntax::Param>, body: Vec<Stmt>, loc: &Location) {
        if !Self::enabled(&params) {
            return;
        }
        let p = self.check_params(
            "ruleset()",
            &params,
            &[objects::RULESET, objects::QUEUE],
            loc,
        );
        let Some(name) = p.str("name").map(str::to_string) else {
            return;
        };
        if let Some(r) = self.cfg.ruleset(&name) {
            // A ruleset created by `$Ruleset` may get its body from ruleset() only if empty.
            if !r.loc.file.is_empty() || name == DEFAULT_RULESET {
                let first = r.loc.clone();
                self.err(
                    loc,
                    format!("ruleset '{name}' is already defined at {first}"),
                );
                return;
            }
        }
        let mut out = Vec::new();
        self.block(body, &mut out);
        let idx = self.ruleset_index_or_create(&name, loc);
        let rs = &mut self.cfg.rulesets[idx];
        rs.params = p;
        rs.loc = loc.clone();
        rs.body.extend(out);
    }

    // ------------------------------------------------------------------ statements

    fn block(&mut self, stmts: Vec<Stmt>, out: &mut Vec<Statement>) {
        for st in stmts {
            self.stmt(st, out);
        }
    }

    fn stmt(&mut self, st: Stmt, out: &mut Vec<Statement>) {
        let loc = st.loc;
        match st.kind {
            StmtKind::Object { kind, .. } => self.err(
                &loc,
                format!(
                    "declarative object '{}' not permitted in action block",
                    kind.name()
                ),
            ),
            StmtKind::Template { .. } | StmtKind::Ruleset { .. } => self.err(
                &loc,
                "template() and ruleset() are not permitted inside a block",
            ),
            StmtKind::Include { params } => self.include_object(params, &loc, out),
            StmtKind::Directive { name, value } => self.directive(&name, &value, &loc, out),
            StmtKind::PriFilter { selector, body } => {
                let mask = match crate::filter::selector::decode(&selector) {
                    Ok(m) => m,
                    Err(e) => {
                        self.err(&loc, format!("invalid selector '{selector}': {e}"));
                        return;
                    }
                };
                let mut b = Vec::new();
                self.block(body, &mut b);
                out.push(Statement::Filter {
                    filter: Filter::Pri {
                        text: selector,
                        mask: PriMask(mask),
                    },
                    body: b,
                });
            }
            StmtKind::PropFilter {
                prop,
                negate,
                op,
                value,
                body,
            } => {
                let Some(pop) = PropOp::parse(&op) else {
                    self.err(
                        &loc,
                        format!("invalid compare operation '{op}' in property filter"),
                    );
                    return;
                };
                if !crate::config::properties::is_property(&prop) {
                    self.err(
                        &loc,
                        format!("invalid property name '{prop}' in property filter"),
                    );
                    return;
                }
                let mut b = Vec::new();
                self.block(body, &mut b);
                out.push(Statement::Filter {
                    filter: Filter::Prop {
                        prop,
                        negate,
                        op: pop,
                        value,
                    },
                    body: b,
                });
            }
            StmtKind::If {
                cond,
                then_body,
                else_body,
            } => {
                self.check_expr(&cond, &loc);
                let mut t = Vec::new();
                self.block(then_body, &mut t);
                let e = else_body.map(|eb| {
                    let mut e = Vec::new();
                    self.block(eb, &mut e);
                    e
                });
                out.push(Statement::If {
                    cond,
                    then_body: t,
                    else_body: e,
                });
            }
            StmtKind::Foreach { var, iter, body } => {
                self.check_expr(&iter, &loc);
                let mut b = Vec::new();
                self.block(body, &mut b);
                out.push(Statement::Foreach { var, iter, body: b });
            }
            StmtKind::Set { var, expr, reset } => {
                self.check_var_assignable(&var, &loc);
                self.check_expr(&expr, &loc);
                out.push(Statement::Set { var, expr, reset });
            }
            StmtKind::Unset { var } => {
                self.check_var_assignable(&var, &loc);
                out.push(Statement::Unset { var });
            }
            StmtKind::ReloadLookupTable(args) => {
                if args.len() > 2 {
                    self.err(&loc, "reload_lookup_table() takes one or two arguments");
                }
                out.push(Statement::ReloadLookupTable(args));
            }
            StmtKind::Actions(items) => {
                for item in items {
                    match item.kind {
                        ActKind::Object(params) => {
                            if let Some(i) = self.action_object(params, &item.loc) {
                                out.push(Statement::Action(i));
                            }
                        }
                        ActKind::Legacy(text) => {
                            if let Some(s) = self.legacy_action(&text, &item.loc) {
                                out.push(s);
                            }
                        }
                        ActKind::Stop => out.push(Statement::Stop),
                        ActKind::Continue => out.push(Statement::Continue),
                        ActKind::Call(name) => {
                            self.refs.push((false, name.clone(), item.loc.clone()));
                            out.push(Statement::Call(name));
                        }
                        ActKind::CallIndirect(e) => {
                            self.check_expr(&e, &item.loc);
                            out.push(Statement::CallIndirect(e));
                        }
                        ActKind::Directive { name, value } => {
                            self.directive(&name, &value, &item.loc, out)
                        }
                    }
                }
            }
        }
    }

    fn check_var_assignable(&mut self, var: &str, loc: &Location) {
        if !(var.starts_with('!') || var.starts_with('.') || var.starts_with('/')) {
            self.err(loc, format!("only message json ($!), local ($.) and global ($/) variables can be modified, not '${var}'"));
        }
    }

    /// Checks function names and argument counts in an expression.
    /// Checks an expression; `at` locates what has no location of its own (variables).
    fn check_expr(&mut self, e: &Expr, at: &Location) {
        match e {
            Expr::Var(v) => {
                let name = match v.strip_prefix('$') {
                    Some(sys) => format!("${sys}"),
                    None => v.clone(),
                };
                if crate::vars::VarRef::parse(v).is_none()
                    && crate::template::props::prop_id(&name).is_none()
                {
                    self.err(at, format!("invalid property '{v}'"));
                }
            }
            Expr::Func { name, args, loc } => {
                match FUNCTIONS.iter().find(|(n, _, _)| n == name) {
                    None => self.err(loc, format!("function '{name}' not found")),
                    Some(&(_, min, max)) if args.len() < min || args.len() > max => {
                        let want = if min == max {
                            min.to_string()
                        } else {
                            format!("{min} to {max}")
                        };
                        self.err(
                            loc,
                            format!(
                                "function '{name}' takes {want} arguments, but {} given",
                                args.len()
                            ),
                        )
                    }
                    Some(_) => {}
                }
                if matches!(
                    name.as_str(),
                    "re_match" | "re_match_i" | "re_extract" | "re_extract_i"
                ) {
                    if let Some(Expr::Str(re)) = args.get(1) {
                        if let Err(e) = regex::Regex::new(re) {
                            let why = e
                                .to_string()
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .to_string();
                            self.err(loc, format!("cannot compile regex '{re}': {why}"));
                        }
                    }
                }
                for a in args {
                    self.check_expr(a, loc);
                }
            }
            Expr::Not(x) | Expr::Neg(x) => self.check_expr(x, at),
            Expr::Bin(_, l, r) => {
                self.check_expr(l, at);
                self.check_expr(r, at);
            }
            _ => {}
        }
    }

    // ------------------------------------------------------------------ includes

    fn include_object(
        &mut self,
        params: Vec<syntax::Param>,
        loc: &Location,
        out: &mut Vec<Statement>,
    ) {
        if !Self::enabled(&params) {
            return;
        }
        let p = self.check_params("include()", &params, &[objects::INCLUDE], loc);
        let mode = p.str("mode").unwrap_or("required").to_ascii_lowercase();
        if !["required", "optional", "abort-if-missing"].contains(&mode.as_str()) {
            self.err(loc, format!("include(): invalid mode '{mode}'"));
            return;
        }
        match (p.str("file"), p.str("text")) {
            (Some(_), Some(_)) => {
                self.err(loc, "include(): 'file' and 'text' cannot be used together")
            }
            (None, None) => self.err(loc, "include(): one of 'file' or 'text' is required"),
            (None, Some(text)) => {
                let src = Source::new(format!("{} (include text)", loc), text);
                self.include_stmts(src, out);
            }
            (Some(file), None) => {
                let file = file.to_string();
                self.include_path(&file, mode != "optional", loc, out);
            }
        }
    }

    /// Includes a file, a directory (all files in it) or a glob, in sorted order.
    fn include_path(
        &mut self,
        pattern: &str,
        required: bool,
        loc: &Location,
        out: &mut Vec<Statement>,
    ) {
        let path = Path::new(pattern);
        let mut files: Vec<PathBuf> = Vec::new();
        if path.is_dir() {
            let pat = format!("{}/*", pattern.trim_end_matches('/'));
            files = glob_sorted(&pat);
        } else if pattern.contains(['*', '?', '[']) {
            files = glob_sorted(pattern);
        } else if path.exists() {
            files.push(path.to_path_buf());
        } else if required {
            self.err(loc, format!("include file '{pattern}' not found"));
            return;
        }
        for f in files {
            if f.is_dir() {
                continue;
            }
            let canon = canonical(&f);
            if self.include_stack.contains(&canon) {
                self.err(
                    loc,
                    format!(
                        "trying to include file '{}', which is already included",
                        f.display()
                    ),
                );
                continue;
            }
            match std::fs::read(&f) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    self.include_stack.push(canon);
                    self.include_stmts(Source::new(f.display().to_string(), &text), out);
                    self.include_stack.pop();
                }
                Err(e) => self.err(
                    loc,
                    format!(
                        "cannot read include file '{}': {}",
                        f.display(),
                        io_reason(&e)
                    ),
                ),
            }
        }
    }

    /// Parses an included text and processes it in place of the include.
    fn include_stmts(&mut self, src: Source, out: &mut Vec<Statement>) {
        if let Some(stmts) = syntax::parse(&src, &mut self.diags) {
            self.top_level(stmts, out);
        }
    }

    // ------------------------------------------------------------------ legacy directives

    fn directive(&mut self, name: &str, value: &str, loc: &Location, out: &mut Vec<Statement>) {
        let Some(d) = find_directive(name) else {
            self.err(loc, format!("invalid or yet-unknown config file command '{name}' - have you forgotten to load a module?"));
            return;
        };
        if d.sup == Sup::No {
            self.err(
                loc,
                format!("directive '${}' is not supported by oxsyslog", d.name),
            );
            return;
        }
        if let Some(m) = d.module {
            if !self.module_loaded(m) {
                self.err(loc, format!("invalid or yet-unknown config file command '{name}' - have you forgotten to load a module? (it belongs to module '{m}')"));
                return;
            }
        }
        let dname = d.name;
        match d.target {
            Target::GoneAway => {
                self.warn(
                    loc,
                    format!("config directive '${dname}' is no longer supported -- ignored"),
                );
                return;
            }
            Target::Special(sp) => {
                self.special_directive(sp, dname, d.module, value, loc, out);
                return;
            }
            Target::UnsupportedModule => {
                self.err(loc, format!("directive '${dname}' belongs to a module that is not supported by oxsyslog"));
                return;
            }
            _ => {}
        }
        let (v, rest) = match values::from_directive(dname, d.ty, value) {
            Ok(x) => x,
            Err(e) => {
                self.err(loc, e);
                return;
            }
        };
        self.check_rest(rest, loc);
        if let (Some(module), Some(param)) = (d.module, target_param(&d.target)) {
            let is_module_param =
                find_module(module).is_some_and(|m| find_param(m.module_params, param).is_some());
            if is_module_param && self.rainer_configured.contains(module) {
                self.err(loc, format!("command '{name}' is currently not permitted - did you already set it via a RainerScript command (v6+ config)?"));
                return;
            }
        }
        let loc = loc.clone();
        match d.target {
            Target::Global(p) => {
                let canon = find_param(objects::GLOBAL, p).map_or(p, |x| x.name);
                let st = Setting {
                    name: canon,
                    value: v,
                    loc,
                };
                self.check_global(&st);
                self.cfg.globals.set(st.name, st.value, st.loc);
            }
            Target::MainQueue(p) => self.cfg.main_queue.set(p, v, loc),
            Target::ModParam(p) => {
                let module = d.module.unwrap_or("");
                if self.rainer_configured.contains(module) {
                    self.err(&loc, format!("command '{name}' is currently not permitted - did you already set it via a RainerScript command (v6+ config)?"));
                    return;
                }
                self.legacy_mod.push(LegacyModParam {
                    module,
                    param: p,
                    value: v,
                    loc,
                    directive: dname.to_string(),
                });
            }
            Target::NextAction(p) => self.legacy.next_action.set(p, v, loc),
            Target::StickyAction(p) => self.legacy.sticky_action.set(p, v, loc),
            Target::LegacyFile(p) => self.legacy.file.set(p, v, loc),
            // the UDP rebind interval is kept apart: `@` takes it, `@@` the TCP one
            Target::LegacyFwd(_) if dname == "ActionSendUDPRebindInterval" => {
                self.legacy.fwd.set(UDP_REBIND, v, loc)
            }
            Target::LegacyFwd(p) => self.legacy.fwd.set(p, v, loc),
            Target::TcpListener(p) => self.legacy.tcp_listener.set(p, v, loc),
            Target::UdpListener(p) => self.legacy.udp_listener.set(p, v, loc),
            Target::UxsockListener(p) => self.legacy.ux_listener.set(p, v, loc),
            Target::InputInstance(p) => {
                if let Some(m) = d.module {
                    state_for(&mut self.legacy.input_state, m).set(p, v, loc);
                }
            }
            Target::LegacyAction(p) => {
                if let Some(m) = d.module {
                    state_for(&mut self.legacy.action_state, m).set(p, v, loc);
                }
            }
            Target::Special(_) | Target::GoneAway | Target::UnsupportedModule => {}
        }
    }

    /// After a legacy value only whitespace or a `#` comment may follow.
    fn check_rest(&mut self, rest: &str, loc: &Location) {
        let r = rest.trim_start();
        if !r.is_empty() && !r.starts_with('#') {
            self.diags
                .push(Diagnostic::error(loc.clone(), "extra characters in config line").near(r));
        }
    }

    fn special_directive(
        &mut self,
        sp: Special,
        dname: &str,
        module: Option<&'static str>,
        value: &str,
        loc: &Location,
        out: &mut Vec<Statement>,
    ) {
        let t = value.trim_start();
        let (word, rest) = values::split_word(t);
        match sp {
            Special::ModLoad => {
                self.check_rest(rest, loc);
                if let Some(m) = self.resolve_module(word, loc) {
                    self.add_module(m, Params::default(), loc, true);
                }
            }
            Special::ModDir => self.check_rest(rest, loc),
            Special::IncludeConfig => {
                self.check_rest(rest, loc);
                let required = !word.contains(['*', '?', '[']);
                self.include_path(word, required, loc, out);
            }
            Special::Template => self.legacy_template(t, loc),
            Special::Outchannel => self.outchannel(t, loc),
            Special::Ruleset => {
                // `$Ruleset` inside a block: rsyslog only honours it at the top level.
                self.err(loc, "$Ruleset is only permitted at the top level");
            }
            Special::DefaultRuleset => {
                self.check_rest(rest, loc);
                self.refs.push((false, word.to_string(), loc.clone()));
                self.cfg.default_ruleset = word.to_string();
            }
            Special::RulesetCreateMainQueue => {
                self.check_rest(rest, loc);
                if word == "on" {
                    let cur = self.cur_ruleset;
                    self.cfg.rulesets[cur].params.set(
                        "queue.type",
                        PValue::Str("FixedArray".into()),
                        loc.clone(),
                    );
                } else if word != "off" {
                    self.err(loc, format!("${dname}: value must be \"on\" or \"off\""));
                }
            }
            Special::RulesetParser => {
                self.check_rest(rest, loc);
                let cur = self.cur_ruleset;
                let rs = &mut self.cfg.rulesets[cur];
                let mut list = match rs.params.get("parser") {
                    Some(PValue::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                list.push(word.to_string());
                rs.params.set("parser", PValue::Array(list), loc.clone());
            }
            Special::ResetConfigVariables => {
                // rsyslog 8.2302 drops every action and even the built-in templates here
                // (a bug); refusing the directive is clearer than copying that.
                self.err(loc, format!("${dname} is not supported by oxsyslog: rsyslog 8.2302 discards all actions and built-in templates when it sees it"));
            }
            Special::TcpServerRun => {
                self.check_rest(rest, loc);
                let mut p = std::mem::take(&mut self.legacy.tcp_listener);
                let port = if word.is_empty() { "10514" } else { word };
                p.set("port", PValue::Str(port.to_string()), loc.clone());
                if !self.legacy.tcp_peers.is_empty() {
                    p.set(
                        "permittedPeer",
                        PValue::Array(self.legacy.tcp_peers.clone()),
                        loc.clone(),
                    );
                }
                // Listener settings stay in force for the next $InputTCPServerRun.
                self.legacy.tcp_listener = p.clone();
                self.legacy_input("imtcp", p, loc);
            }
            Special::UdpServerRun => {
                self.check_rest(rest, loc);
                let mut p = self.legacy.udp_listener.clone();
                p.set("port", PValue::Array(vec![word.to_string()]), loc.clone());
                self.legacy_input("imudp", p, loc);
            }
            Special::AddUnixListenSocket => {
                self.check_rest(rest, loc);
                let mut p = std::mem::take(&mut self.legacy.ux_listener);
                p.set("socket", PValue::Str(word.to_string()), loc.clone());
                self.legacy_input("imuxsock", p, loc);
            }
            Special::TcpPermittedPeer => {
                self.check_rest(rest, loc);
                self.legacy.tcp_peers.push(word.to_string());
            }
            Special::FwdPermittedPeer => {
                self.check_rest(rest, loc);
                self.legacy.fwd_peers.push(word.to_string());
            }
            Special::OmitLocalLogging => {
                self.check_rest(rest, loc);
                let v = match word {
                    "on" => false,
                    "off" => true,
                    _ => {
                        self.err(loc, format!("${dname}: value must be \"on\" or \"off\""));
                        return;
                    }
                };
                if self.rainer_configured.contains("imuxsock") {
                    self.err(loc, format!("command '{dname}' is currently not permitted - did you already set it via a RainerScript command (v6+ config)?"));
                    return;
                }
                self.legacy_mod.push(LegacyModParam {
                    module: "imuxsock",
                    param: "SysSock.Use",
                    value: PValue::Bool(v),
                    loc: loc.clone(),
                    directive: dname.to_string(),
                });
            }
            Special::Diagnostic => {}
            Special::InputRun => {
                self.check_rest(rest, loc);
                let Some(m) = module else { return };
                let mut p = if m == "imfile" {
                    std::mem::take(state_for(&mut self.legacy.input_state, m))
                } else {
                    state_for(&mut self.legacy.input_state, m).clone()
                };
                if m != "imfile" {
                    if word.is_empty() {
                        self.err(loc, format!("${dname}: a port is required"));
                        return;
                    }
                    p.set("port", PValue::Str(word.to_string()), loc.clone());
                }
                self.legacy_input(m, p, loc);
            }
            Special::PstatsFormat => {
                self.check_rest(rest, loc);
                let fmt = if dname.to_ascii_lowercase().contains("cee") {
                    "cee"
                } else {
                    "json"
                };
                match word {
                    "on" => self.legacy_mod.push(LegacyModParam {
                        module: "impstats",
                        param: "format",
                        value: PValue::Str(fmt.into()),
                        loc: loc.clone(),
                        directive: dname.to_string(),
                    }),
                    "off" => {}
                    _ => self.err(loc, format!("${dname}: value must be \"on\" or \"off\"")),
                }
            }
            Special::RepeatedMsgReduction | Special::MaxOpenFiles | Special::LocalHostIpIf => {
                self.check_rest(rest, loc);
                if sp == Special::RepeatedMsgReduction && word != "on" && word != "off" {
                    self.err(loc, format!("${dname}: value must be \"on\" or \"off\""));
                    return;
                }
                if sp == Special::MaxOpenFiles && word.parse::<u64>().is_err() {
                    self.err(loc, format!("${dname}: invalid number \"{word}\""));
                    return;
                }
                self.cfg.legacy_only.push(LegacyOnly {
                    directive: dname.to_string(),
                    value: word.to_string(),
                    loc: loc.clone(),
                });
            }
            Special::AllowedSender => {
                let Some((proto, list)) = t.split_once(',') else {
                    self.err(
                        loc,
                        format!("${dname}: expected 'UDP|TCP, address[/bits], …'"),
                    );
                    return;
                };
                let proto = proto.trim().to_ascii_uppercase();
                if proto != "UDP" && proto != "TCP" {
                    self.err(loc, format!("${dname}: protocol '{proto}' is not supported by oxsyslog (UDP or TCP)"));
                    return;
                }
                let list = list.split('#').next().unwrap_or("");
                let entries: Vec<String> = list
                    .split([',', ' ', '\t'])
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect();
                if entries.is_empty() {
                    self.err(loc, format!("${dname}: no sender given"));
                    return;
                }
                self.cfg.allowed_senders.push(AllowedSender {
                    protocol: proto,
                    senders: entries,
                    loc: loc.clone(),
                });
            }
        }
    }

    /// Creates an input from legacy listener state, with the parameter names canonicalised
    /// against the module's instance table.
    fn legacy_input(&mut self, module: &'static str, params: Params, loc: &Location) {
        let Some(m) = find_module(module) else { return };
        let mut p = Params::default();
        for s in params.0 {
            let name = find_param(m.instance_params, s.name).map_or(s.name, |x| x.name);
            p.set(name, s.value, s.loc);
        }
        if let Some(rs) = p.str("ruleset") {
            self.refs.push((false, rs.to_string(), loc.clone()));
        }
        self.cfg.inputs.push(Input {
            module: m.name,
            params: p,
            loc: loc.clone(),
        });
    }

    /// `$template name,"string"[,options]` or `$template name,=strgen`.
    fn legacy_template(&mut self, t: &str, loc: &Location) {
        let Some((name, rest)) = t.split_once(',') else {
            self.err(loc, "$template: expected 'name,\"template string\"'");
            return;
        };
        let name = name.trim().to_string();
        let rest = rest.trim_start();
        let mut params = Params::default();
        params.set("name", PValue::Str(name.clone()), loc.clone());
        if let Some(plugin) = rest.strip_prefix('=') {
            params.set("type", PValue::Str("plugin".into()), loc.clone());
            params.set(
                "plugin",
                PValue::Str(plugin.trim().to_string()),
                loc.clone(),
            );
        } else if let Some(body) = rest.strip_prefix('"') {
            // The template text runs to the next unescaped quote.
            let bytes = body.as_bytes();
            let mut i = 0;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= bytes.len() {
                self.err(
                    loc,
                    format!("$template '{name}': template string is not terminated"),
                );
                return;
            }
            params.set("type", PValue::Str("string".into()), loc.clone());
            params.set("string", PValue::Str(body[..i].to_string()), loc.clone());
            let opts = body[i + 1..].trim();
            for opt in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                let key = match opt.to_ascii_lowercase().as_str() {
                    "sql" => "option.sql",
                    "stdsql" => "option.stdsql",
                    "json" => "option.json",
                    // rsyslog 8.2302 accepts `jsonf` on legacy lines but ignores it.
                    "jsonf" => continue,
                    "casesensitive" => "option.casesensitive",
                    // `nosql` clears an earlier `sql`/`stdsql`.
                    "nosql" => {
                        params.0.retain(|s| {
                            !s.name.eq_ignore_ascii_case("option.sql")
                                && !s.name.eq_ignore_ascii_case("option.stdsql")
                        });
                        continue;
                    }
                    o if o.starts_with('#') => break,
                    _ => {
                        self.err(loc, format!("$template '{name}': invalid option '{opt}'"));
                        return;
                    }
                };
                let canon = find_param(objects::TEMPLATE, key).map_or(key, |p| p.name);
                params.set(canon, PValue::Bool(true), loc.clone());
            }
        } else {
            self.err(
                loc,
                format!("$template '{name}': template string must be in double quotes"),
            );
            return;
        }
        if let Some(text) = params.str("string").map(str::to_string) {
            self.check_template_string(&name, &text, loc);
        }
        self.add_template(name, params, Vec::new(), loc, true);
    }

    /// `$outchannel name,file[,maxsize[,command]]`: kept as omfile rotation settings.
    fn outchannel(&mut self, t: &str, loc: &Location) {
        let parts: Vec<&str> = t.splitn(4, ',').map(str::trim).collect();
        if parts.len() < 2 || parts[0].is_empty() || parts[1].is_empty() {
            self.err(loc, "$outchannel: expected 'name,file[,maxsize[,command]]'");
            return;
        }
        let mut p = Params::default();
        p.set("file", PValue::Str(parts[1].to_string()), loc.clone());
        if let Some(size) = parts.get(2) {
            match values::size(size) {
                Some(n) => p.set("rotation.sizeLimit", PValue::Int(n), loc.clone()),
                None => {
                    self.err(loc, format!("$outchannel: invalid size '{size}'"));
                    return;
                }
            }
        }
        if let Some(cmd) = parts.get(3) {
            p.set(
                "rotation.sizeLimitCommand",
                PValue::Str(cmd.to_string()),
                loc.clone(),
            );
        }
        self.cfg.objects.push(NamedObject {
            kind: "outchannel",
            params: {
                let mut q = p;
                q.set("name", PValue::Str(parts[0].to_string()), loc.clone());
                q
            },
            loc: loc.clone(),
        });
    }

    // ------------------------------------------------------------------ actions

    fn action_object(&mut self, params: Vec<syntax::Param>, loc: &Location) -> Option<usize> {
        // rsyslog resets the legacy action queue state after every action, also action().
        self.legacy.next_action = Params::default();
        if !Self::enabled(&params) {
            return None;
        }
        let Some(ty) = Self::raw_str(&params, "type").map(str::to_string) else {
            self.err(loc, "action(): required parameter 'type' is missing");
            return None;
        };
        let m = self.resolve_module(&ty, loc)?;
        if m.kind != ModKind::Output {
            self.err(loc, format!("module '{}' is not an output module", m.name));
            return None;
        }
        if !self.module_loaded(m.name) {
            self.err(
                loc,
                format!(
                    "action type '{}' is not loaded: add module(load=\"{}\") before this action",
                    m.name, m.name
                ),
            );
            return None;
        }
        let what = format!("action(type=\"{}\")", m.name);
        let mut p = self.check_params(
            &what,
            &params,
            &[objects::ACTION_COMMON, objects::QUEUE, m.instance_params],
            loc,
        );
        if find_param(m.instance_params, "template").is_some() {
            let t = p
                .str("template")
                .map(str::to_string)
                .or_else(|| self.default_template(m.name));
            if let Some(t) = t {
                // rsyslog resolves the template when the action is created.
                self.check_template_defined(&t, loc);
                p.set("template", PValue::Str(t), loc.clone());
            }
        }
        self.check_action(m.name, &p, loc);
        Some(self.push_action(m.name, p, loc))
    }

    /// Per-module checks rsyslog makes when an action is created.
    fn check_action(&mut self, module: &str, p: &Params, loc: &Location) {
        match module {
            "omfile" if !p.contains("file") && !p.contains("dynaFile") => {
                self.err(
                    loc,
                    "omfile: either the \"file\" or \"dynafile\" parameter must be given",
                );
            }
            "omfwd" => {
                if !p.contains("target") {
                    self.err(loc, "omfwd: parameter \"target\" is required");
                }
                let proto = p.str("protocol").unwrap_or("udp").to_ascii_lowercase();
                if proto != "udp" && proto != "tcp" {
                    self.err(loc, format!("omfwd: invalid protocol \"{proto}\""));
                }
                if let Some(f) = p.str("TCP_Framing") {
                    if !["traditional", "octet-counted"].contains(&f.to_ascii_lowercase().as_str())
                    {
                        self.err(loc, format!("omfwd: invalid framing \"{f}\""));
                    }
                }
                if proto == "tcp" && p.contains("address") {
                    self.err(loc, "omfwd: parameter \"address\" not supported for tcp");
                }
            }
            _ => {}
        }
    }

    /// A template must exist (built in, or defined earlier in the config) when an action
    /// names it, as rsyslog resolves it right then.
    fn check_template_defined(&mut self, name: &str, loc: &Location) {
        if self.cfg.template(name).is_none() && !BUILTIN_TEMPLATES.contains(&name) {
            self.err(loc, format!("template '{name}' not found (it must be defined before the action that uses it)"));
        }
    }

    fn push_action(&mut self, module: &'static str, params: Params, loc: &Location) -> usize {
        // Canonical parameter names, whichever syntax set them.
        let tables: [&[Param]; 3] = [
            objects::ACTION_COMMON,
            objects::QUEUE,
            find_module(module).map_or(&[][..], |m| m.instance_params),
        ];
        let params = Params(
            params
                .0
                .into_iter()
                .map(|mut s| {
                    if let Some(c) = tables.iter().find_map(|t| find_param(t, s.name)) {
                        s.name = c.name;
                    }
                    s
                })
                .collect(),
        );
        self.cfg.actions.push(Action {
            module,
            params,
            loc: loc.clone(),
        });
        self.cfg.actions.len() - 1
    }

    /// The default template of an output module: module(template=) or its legacy
    /// `$Action…DefaultTemplate`, else rsyslog's built-in default. `None` where the default
    /// is an internal template that configs cannot name.
    fn default_template(&self, module: &str) -> Option<String> {
        let from_module = self
            .cfg
            .module(module)
            .and_then(|m| m.params.str("template").map(str::to_string))
            .or_else(|| {
                self.legacy_mod
                    .iter()
                    .rev()
                    .find(|x| x.module == module && x.param.eq_ignore_ascii_case("template"))
                    .and_then(|x| x.value.as_str().map(str::to_string))
            });
        if from_module.is_some() {
            return from_module;
        }
        match module {
            "omfile" | "ompipe" => Some("RSYSLOG_FileFormat".into()),
            "omfwd" => Some("RSYSLOG_TraditionalForwardFormat".into()),
            "omrelp" => Some("RSYSLOG_ForwardFormat".into()),
            "omprog" => Some("RSYSLOG_FileFormat".into()),
            _ => None,
        }
    }

    /// Applies the legacy action state (`$ActionQueue*` etc.) to a legacy action's params.
    fn apply_legacy_action_state(&mut self, p: &mut Params) {
        let next = std::mem::take(&mut self.legacy.next_action);
        for s in self.legacy.sticky_action.0.iter().chain(next.0.iter()) {
            p.set(s.name, s.value.clone(), s.loc.clone());
        }
    }

    /// A legacy action line, claimed by the first module that understands it, in rsyslog's
    /// order: omfile, ompipe, omshell, omdiscard, omfwd, `:module:`, omusrmsg.
    fn legacy_action(&mut self, text: &str, loc: &Location) -> Option<Statement> {
        let first = text.chars().next()?;
        let mut p = Params::default();
        let module: &'static str;
        let rest: &str;
        if let Some(after) = text.strip_prefix(":omfile:") {
            return self.legacy_file(after, loc);
        }
        match first {
            '/' | '-' | '?' | '$' | '.'
                if first != '-' || text[1..].starts_with(['/', '?', '$', '.']) =>
            {
                return self.legacy_file(text, loc);
            }
            '|' => {
                let (path, r) = split_name(&text[1..]);
                module = "ompipe";
                p.set("pipe", PValue::Str(path.to_string()), loc.clone());
                rest = r;
            }
            '^' => {
                self.err(loc, "legacy shell-execute action '^' (omshell) is not supported by oxsyslog; use omprog");
                return None;
            }
            '~' if text.trim_end() == "~" => {
                self.warn(
                    loc,
                    "the discard action '~' is deprecated, use 'stop' instead",
                );
                self.legacy.next_action = Params::default();
                return Some(Statement::Stop);
            }
            '@' => return self.legacy_fwd(text, loc),
            ':' => {
                let inner = &text[1..];
                let Some(end) = inner.find(':') else {
                    self.err(loc, "invalid legacy action");
                    return None;
                };
                let mname = &inner[..end];
                let params_text = &inner[end + 1..];
                match mname.to_ascii_lowercase().as_str() {
                    "omusrmsg" => return self.legacy_usrmsg(params_text, loc),
                    "ompipe" => return self.legacy_action(&format!("|{params_text}"), loc),
                    "omfwd" => return self.legacy_fwd(params_text, loc),
                    "omrelp" => return self.legacy_relp(params_text, loc),
                    other => {
                        match find_module(other) {
                            Some(m) if m.sup == Sup::Yes && m.kind == ModKind::Output && self.legacy.action_state.iter().any(|(x, _)| *x == m.name) => {
                                let p = state_for(&mut self.legacy.action_state, m.name).clone();
                                let tpl = self.legacy_template_name(params_text, loc)?;
                                return self.finish_legacy_action(m.name, p, tpl, loc);
                            }
                            Some(m) if m.sup == Sup::Yes => self.err(loc, format!("module '{}' has no legacy action syntax; use action(type=\"{}\" …)", m.name, m.name)),
                            Some(m) => self.err(loc, format!("module '{}' is not supported by oxsyslog", m.name)),
                            None => self.err(loc, format!("could not load module '{other}': no such module")),
                        }
                        return None;
                    }
                }
            }
            '*' | 'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => {
                // rsyslog warns here, and -N1 fails on that warning: an error for us.
                self.err(
                    loc,
                    format!("action '{text}' would be treated as ':omusrmsg:{text}'; write ':omusrmsg:{text}' (rsyslogd -N1 refuses the bare form too)"),
                );
                return self.legacy_usrmsg(text, loc);
            }
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        loc.clone(),
                        "invalid legacy action: no module understands it",
                    )
                    .near(text),
                );
                return None;
            }
        }
        let tpl = self.legacy_template_name(rest, loc)?;
        self.finish_legacy_action(module, p, tpl, loc)
    }

    /// Parses `;Template` after a legacy action target. `Ok(None)` = none given.
    fn legacy_template_name(&mut self, rest: &str, loc: &Location) -> Option<Option<String>> {
        let r = rest.trim_start();
        let r = if let Some(x) = r.strip_prefix(';') {
            x.trim_start()
        } else if r.is_empty() || r.starts_with('#') {
            return Some(None);
        } else {
            self.diags.push(
                Diagnostic::error(
                    loc.clone(),
                    "invalid character in selector line - ';template' expected",
                )
                .near(r),
            );
            return None;
        };
        let end = r
            .find(|c: char| c == '#' || c.is_whitespace())
            .unwrap_or(r.len());
        Some(if end == 0 {
            None
        } else {
            Some(r[..end].to_string())
        })
    }

    fn finish_legacy_action(
        &mut self,
        module: &'static str,
        mut p: Params,
        tpl: Option<String>,
        loc: &Location,
    ) -> Option<Statement> {
        if !self.module_loaded(module) {
            self.err(loc, format!("module '{module}' is not loaded"));
            return None;
        }
        if let Some(t) = tpl.or_else(|| self.default_template(module)) {
            // rsyslog resolves the template when the action line is read.
            self.check_template_defined(&t, loc);
            p.set("template", PValue::Str(t), loc.clone());
        }
        self.apply_legacy_action_state(&mut p);
        Some(Statement::Action(self.push_action(module, p, loc)))
    }

    fn legacy_file(&mut self, text: &str, loc: &Location) -> Option<Statement> {
        let mut t = text;
        let mut nosync = false;
        if let Some(x) = t.strip_prefix('-') {
            nosync = true;
            t = x;
        }
        let mut p = Params::default();
        let rest;
        if let Some(x) = t.strip_prefix('?') {
            let (name, r) = split_name(x);
            self.check_template_defined(name, loc);
            p.set("dynaFile", PValue::Str(name.to_string()), loc.clone());
            rest = r;
        } else if let Some(x) = t.strip_prefix('$') {
            let (name, r) = split_name(x);
            let Some(ch) = self
                .cfg
                .objects
                .iter()
                .rev()
                .find(|o| o.kind == "outchannel" && o.params.str("name") == Some(name))
                .cloned()
            else {
                self.err(
                    loc,
                    format!("outchannel '{name}' not found - ignoring action line"),
                );
                return None;
            };
            for s in ch.params.0.into_iter().filter(|s| s.name != "name") {
                p.set(s.name, s.value, s.loc);
            }
            rest = r;
        } else {
            let (name, r) = split_name(t);
            if !name.starts_with('/') && !name.starts_with("./") {
                self.err(loc, format!("invalid file name '{name}' in legacy action"));
                return None;
            }
            p.set("file", PValue::Str(name.to_string()), loc.clone());
            rest = r;
        }
        // Frozen legacy file settings ($FileOwner, $FileCreateMode …).
        for s in &self.legacy.file.0 {
            if s.name.eq_ignore_ascii_case("sync") && nosync {
                continue;
            }
            p.set(s.name, s.value.clone(), s.loc.clone());
        }
        let tpl = self.legacy_template_name(rest, loc)?;
        self.finish_legacy_action("omfile", p, tpl, loc)
    }

    fn legacy_fwd(&mut self, text: &str, loc: &Location) -> Option<Statement> {
        let mut t = text.strip_prefix('@').unwrap_or(text);
        let tcp = if let Some(x) = t.strip_prefix('@') {
            t = x;
            true
        } else {
            false
        };
        let mut p = Params::default();
        if let Some(x) = t.strip_prefix('(') {
            let Some(end) = x.find(')') else {
                self.err(loc, "forwarding options '(…' are not closed");
                return None;
            };
            for opt in x[..end].split(',').map(str::trim).filter(|o| !o.is_empty()) {
                if opt.eq_ignore_ascii_case("o") {
                    p.set(
                        "TCP_Framing",
                        PValue::Str("octet-counted".into()),
                        loc.clone(),
                    );
                } else if opt.starts_with(['z', 'Z']) {
                    self.err(
                        loc,
                        format!(
                            "forwarding option '{opt}' (compression) is not supported by oxsyslog"
                        ),
                    );
                    return None;
                } else {
                    self.err(loc, format!("invalid forwarding option '{opt}'"));
                    return None;
                }
            }
            t = &x[end + 1..];
        }
        let (host, after_host) = if let Some(x) = t.strip_prefix('[') {
            let Some(end) = x.find(']') else {
                self.err(loc, "IPv6 address '[…' is not closed");
                return None;
            };
            (&x[..end], &x[end + 1..])
        } else {
            let end = t
                .find(|c: char| {
                    c == ':'
                        || c == ';'
                        || c == '#'
                        || c.is_ascii_whitespace()
                        || c.is_ascii_control()
                })
                .unwrap_or(t.len());
            (&t[..end], &t[end..])
        };
        if host.is_empty() {
            self.err(loc, "forwarding action without a target host");
            return None;
        }
        let mut rest = after_host;
        p.set("target", PValue::Str(host.to_string()), loc.clone());
        if let Some(x) = rest.strip_prefix(':') {
            let end = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
            if end == 0 {
                self.err(loc, format!("invalid port in forwarding action '{text}'"));
                return None;
            }
            p.set("port", PValue::Str(x[..end].to_string()), loc.clone());
            rest = &x[end..];
        }
        p.set(
            "protocol",
            PValue::Str(if tcp { "tcp" } else { "udp" }.into()),
            loc.clone(),
        );
        for s in &self.legacy.fwd.0 {
            let name = match s.name {
                UDP_REBIND if tcp => continue,
                UDP_REBIND => "rebindInterval",
                "rebindInterval" if !tcp => continue,
                n => n,
            };
            p.set(name, s.value.clone(), s.loc.clone());
        }
        if tcp && !self.legacy.fwd_peers.is_empty() {
            let peers = std::mem::take(&mut self.legacy.fwd_peers).join(",");
            p.set(
                "StreamDriverPermittedPeers",
                PValue::Str(peers),
                loc.clone(),
            );
        }
        let tpl = self.legacy_template_name(rest, loc)?;
        self.finish_legacy_action("omfwd", p, tpl, loc)
    }

    /// `:omrelp:host:port;Template`.
    fn legacy_relp(&mut self, text: &str, loc: &Location) -> Option<Statement> {
        let (host, mut rest) = if let Some(x) = text.strip_prefix('[') {
            let end = x.find(']')?;
            (&x[..end], &x[end + 1..])
        } else {
            let end = text.find([':', ';', ' ', '\t', '#']).unwrap_or(text.len());
            (&text[..end], &text[end..])
        };
        if host.is_empty() {
            self.err(loc, "omrelp action without a target host");
            return None;
        }
        let mut p = Params::default();
        p.set("target", PValue::Str(host.to_string()), loc.clone());
        if let Some(x) = rest.strip_prefix(':') {
            let end = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
            p.set("port", PValue::Str(x[..end].to_string()), loc.clone());
            rest = &x[end..];
        }
        let tpl = self.legacy_template_name(rest, loc)?;
        self.finish_legacy_action("omrelp", p, tpl, loc)
    }

    fn legacy_usrmsg(&mut self, text: &str, loc: &Location) -> Option<Statement> {
        let end = text.find([';', ' ', '\t', '#']).unwrap_or(text.len());
        let users = &text[..end];
        if users.is_empty() {
            self.err(loc, "omusrmsg action without users");
            return None;
        }
        let mut p = Params::default();
        p.set("users", PValue::Str(users.to_string()), loc.clone());
        let tpl = self.legacy_template_name(&text[end..], loc)?;
        self.finish_legacy_action("omusrmsg", p, tpl, loc)
    }

    // ------------------------------------------------------------------ end of load

    fn finish(&mut self) {
        // Module-level values from legacy directives.
        for lm in std::mem::take(&mut self.legacy_mod) {
            let Some(m) = MODULES.iter().find(|m| m.name == lm.module) else {
                continue;
            };
            let name = find_param(m.module_params, lm.param).map_or(lm.param, |p| p.name);
            match self.cfg.modules.iter_mut().find(|x| x.name == m.name) {
                Some(ml) => ml.params.set(name, lm.value, lm.loc),
                None if m.builtin => {
                    let mut params = Params::default();
                    params.set(name, lm.value, lm.loc.clone());
                    self.cfg.modules.push(ModuleLoad {
                        name: m.name,
                        params,
                        loc: lm.loc,
                    });
                }
                None => self.err(
                    &lm.loc,
                    format!("${} needs module '{}' to be loaded", lm.directive, m.name),
                ),
            }
        }
        // Names referenced before or after their definition.
        for (is_tpl, name, loc) in std::mem::take(&mut self.refs) {
            if is_tpl {
                if self.cfg.template(&name).is_none() && !BUILTIN_TEMPLATES.contains(&name.as_str())
                {
                    self.err(&loc, format!("template '{name}' not found"));
                }
            } else if self.cfg.ruleset(&name).is_none() {
                self.err(&loc, format!("ruleset '{name}' not found"));
            }
        }
        self.check_tls_settings();
        if self.cfg.actions.is_empty() {
            self.diags.error(
                Location::default(),
                "there are no active actions configured. Inputs would run, but no output whatsoever were created",
            );
        }
    }
}

impl Loader {
    /// Stream-driver names and auth modes anywhere in the config: oxsyslog's TLS layer is
    /// rustls, reachable under rsyslog's names `gtls` and `ossl`; anything it cannot enforce
    /// is refused rather than accepted.
    fn check_tls_settings(&mut self) {
        let mut all: Vec<Setting> = self.cfg.globals.0.clone();
        all.extend(self.cfg.modules.iter().flat_map(|m| m.params.0.clone()));
        all.extend(self.cfg.inputs.iter().flat_map(|m| m.params.0.clone()));
        all.extend(self.cfg.actions.iter().flat_map(|m| m.params.0.clone()));
        for s in all {
            let n = s.name.to_ascii_lowercase();
            let Some(v) = s.value.as_str() else { continue };
            let v = v.to_ascii_lowercase();
            if n == "defaultnetstreamdriver" || n == "streamdriver" || n == "streamdriver.name" {
                if !["ptcp", "gtls", "ossl"].contains(&v.as_str()) {
                    self.err(&s.loc, format!("stream driver '{v}' is not supported by oxsyslog (use gtls or ossl: both select its rustls driver, or ptcp)"));
                }
            } else if n.ends_with("authmode") && n.contains("streamdriver") {
                if !["anon", "x509/certvalid", "x509/name", "x509/fingerprint"]
                    .contains(&v.as_str())
                {
                    self.err(&s.loc, format!("TLS auth mode '{v}' is not supported by oxsyslog (anon, x509/certvalid, x509/name, x509/fingerprint)"));
                }
            } else if (n.ends_with("streamdriver.mode") || n == "streamdrivermode")
                && !["0", "1"].contains(&v.as_str())
            {
                self.err(
                    &s.loc,
                    format!("stream driver mode '{v}' is not supported by oxsyslog (0 or 1)"),
                );
            }
        }
    }
}

/// The parameter a legacy directive sets, if it sets one.
fn target_param(t: &Target) -> Option<&'static str> {
    match *t {
        Target::ModParam(p)
        | Target::TcpListener(p)
        | Target::UdpListener(p)
        | Target::UxsockListener(p) => Some(p),
        _ => None,
    }
}

/// A legacy target name: up to the first `;` or space.
fn split_name(t: &str) -> (&str, &str) {
    let end = t.find([';', ' ']).unwrap_or(t.len());
    (&t[..end], &t[end..])
}

fn glob_sorted(pattern: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = glob::glob(pattern)
        .map(|paths| paths.filter_map(Result::ok).collect())
        .unwrap_or_default();
    v.sort();
    v
}
