//! The resolved configuration: what the daemon runs. Every legacy directive has already been
//! turned into the parameter of its RainerScript twin, every default template applied, every
//! name (module, template, ruleset) checked; nothing here says which syntax a line used.
//! No pest types appear here.

use super::diagnostics::Location;
pub use super::syntax::{BinOp, Expr};

/// A validated parameter value, typed after the schema's `Ty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<String>),
    /// File mode, e.g. 0o640.
    Mode(u32),
}

impl PValue {
    /// The value as rsyslog would accept it back in an object parameter.
    pub fn to_config_string(&self) -> String {
        match self {
            PValue::Bool(b) => if *b { "on" } else { "off" }.to_string(),
            PValue::Int(i) => i.to_string(),
            PValue::Str(s) => s.clone(),
            PValue::Array(a) => a.join(","),
            PValue::Mode(m) => format!("{m:04o}"),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One set parameter: canonical name (as in the schema), value, where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: PValue,
    pub loc: Location,
}

/// Parameters of one object in the order they were set; names are canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<Setting>);

impl Params {
    /// Sets a parameter, replacing an earlier value of the same name.
    pub fn set(&mut self, name: &'static str, value: PValue, loc: Location) {
        if let Some(s) = self
            .0
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name))
        {
            s.value = value;
            s.loc = loc;
        } else {
            self.0.push(Setting { name, value, loc });
        }
    }

    pub fn get(&self, name: &str) -> Option<&PValue> {
        self.0
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(|s| &s.value)
    }

    pub fn get_setting(&self, name: &str) -> Option<&Setting> {
        self.0.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(PValue::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A loaded module with its module-level parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleLoad {
    /// Canonical module name (`imtcp`, `omfile` …).
    pub name: &'static str,
    pub params: Params,
    pub loc: Location,
}

/// One input instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub module: &'static str,
    pub params: Params,
    pub loc: Location,
}

/// A template: its object parameters and, for list templates, its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    pub params: Params,
    pub parts: Vec<TemplatePart>,
    pub loc: Location,
    /// Written as a legacy `$template` line: its text still gets the legacy template escapes
    /// (`\n`, `\%`, `\<decimal>` …), unlike a RainerScript `string=`.
    pub legacy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplatePart {
    pub is_property: bool,
    pub params: Params,
}

/// An action with its effective parameters (legacy state already applied, template resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub module: &'static str,
    pub params: Params,
    pub loc: Location,
}

/// The 26 facility slots (0–23, `invld` = 24, `mark` = 25) × 8 severities of a selector, as a bitmask per
/// facility (bit n = severity n selected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriMask(pub crate::filter::selector::Mask);

/// Property-filter comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropOp {
    Contains,
    IsEqual,
    StartsWith,
    EndsWith,
    Regex,
    EreRegex,
    IsEmpty,
}

impl PropOp {
    /// The operators rsyslog 8.2302 accepts (`endswith` is newer and refused there).
    pub fn parse(s: &str) -> Option<PropOp> {
        Some(match s.to_ascii_lowercase().as_str() {
            "contains" => PropOp::Contains,
            "isequal" => PropOp::IsEqual,
            "startswith" => PropOp::StartsWith,
            "regex" => PropOp::Regex,
            "ereregex" => PropOp::EreRegex,
            "isempty" => PropOp::IsEmpty,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            PropOp::Contains => "contains",
            PropOp::IsEqual => "isequal",
            PropOp::StartsWith => "startswith",
            PropOp::EndsWith => "endswith",
            PropOp::Regex => "regex",
            PropOp::EreRegex => "ereregex",
            PropOp::IsEmpty => "isempty",
        }
    }
}

/// A legacy filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Selector; `text` is the selector as written (for the dump), `mask` its meaning.
    Pri { text: String, mask: PriMask },
    Prop {
        prop: String,
        negate: bool,
        op: PropOp,
        value: String,
    },
}

/// A resolved statement of a ruleset.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Filter {
        filter: Filter,
        body: Vec<Statement>,
    },
    If {
        cond: Expr,
        then_body: Vec<Statement>,
        else_body: Option<Vec<Statement>>,
    },
    Foreach {
        var: String,
        iter: Expr,
        body: Vec<Statement>,
    },
    Set {
        var: String,
        expr: Expr,
        reset: bool,
    },
    Unset {
        var: String,
    },
    ReloadLookupTable(Vec<String>),
    /// Index into `Config::actions`.
    Action(usize),
    Stop,
    Call(String),
    CallIndirect(Expr),
    Continue,
}

/// A ruleset; the default one is named `RSYSLOG_DefaultRuleset`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    pub name: String,
    pub params: Params,
    pub body: Vec<Statement>,
    pub loc: Location,
}

/// A named object that is not a module, input, template or ruleset
/// (`parser()`, `lookup_table()`, `timezone()`, `dyn_stats()`, `percentile_stats()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedObject {
    pub kind: &'static str,
    pub params: Params,
    pub loc: Location,
}

/// Name of the ruleset that legacy lines and unbound inputs use.
pub const DEFAULT_RULESET: &str = "RSYSLOG_DefaultRuleset";

/// The whole resolved configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub globals: Params,
    pub main_queue: Params,
    /// Whether a `main_queue()` object was given (rsyslog then uses its ruleset-queue
    /// defaults instead of the legacy main queue's, src/mainq.rs).
    pub main_queue_object: bool,
    pub modules: Vec<ModuleLoad>,
    pub inputs: Vec<Input>,
    pub templates: Vec<Template>,
    pub rulesets: Vec<Ruleset>,
    pub actions: Vec<Action>,
    pub objects: Vec<NamedObject>,
    /// Ruleset for inputs without `ruleset=` (`$DefaultRuleset`).
    pub default_ruleset: String,
    /// `$AllowedSender` lists (legacy only): enforced by the UDP and TCP inputs.
    pub allowed_senders: Vec<AllowedSender>,
    /// Legacy directives with no RainerScript twin (`$RepeatedMsgReduction`,
    /// `$MaxOpenFiles`, `$LocalHostIPIF`), kept by name.
    pub legacy_only: Vec<LegacyOnly>,
}

/// One `$AllowedSender` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSender {
    /// `UDP` or `TCP`.
    pub protocol: String,
    /// Addresses, `addr/bits`, host names and `*.domain` wildcards, as written.
    pub senders: Vec<String>,
    pub loc: Location,
}

/// A legacy-only directive and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyOnly {
    pub directive: String,
    pub value: String,
    pub loc: Location,
}

impl Config {
    pub fn module(&self, name: &str) -> Option<&ModuleLoad> {
        self.modules
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn ruleset(&self, name: &str) -> Option<&Ruleset> {
        self.rulesets.iter().find(|r| r.name == name)
    }

    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }
}
