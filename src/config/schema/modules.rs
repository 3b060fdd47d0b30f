//! Loadable modules: each module's module-level parameters (`module(load=…)`) and instance
//! parameters (`input(type=…)` for inputs, `action(type=…)` for outputs), from rsyslog 8.2302.

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

pub static MODULES: &[Module] = &[
    // Filled from rsyslog 8.2302's modpdescr/inppdescr/actpdescr tables (see DESIGN.md).
    Module {
        name: "imudp",
        kind: ModKind::Input,
        builtin: false,
        sup: Sup::Yes,
        module_params: &[p("timeRequery", Int), p("batchSize", Int), p("threads", PositiveInt)],
        instance_params: &[p("port", Array).req(), p("address", Str), p("ruleset", Str)],
    },
];
