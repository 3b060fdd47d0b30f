//! Parameters of the configuration objects that are not modules: `global()`, `main_queue()`,
//! the `queue.*` set shared by main queue, rulesets and actions, the common `action()`
//! parameters, `template()`, `property()`, `constant()`, `ruleset()`, `include()`,
//! `lookup_table()`, `timezone()`, `parser()`, `dyn_stats()`, `percentile_stats()`.

use super::{p, Param, Ty::*};

pub static GLOBAL: &[Param] = &[p("workDirectory", Str), p("maxMessageSize", Size)];

/// `queue.*` parameters, valid in `main_queue()`, `ruleset()` and `action()`.
pub static QUEUE: &[Param] = &[p("queue.type", QueueType), p("queue.size", Size)];

/// Parameters every `action()` takes, whatever its type.
pub static ACTION_COMMON: &[Param] = &[p("type", Str).req(), p("name", Str), p("template", Str)];

pub static TEMPLATE: &[Param] = &[p("name", Str).req(), p("type", Str).req(), p("string", Str)];
pub static PROPERTY: &[Param] = &[p("name", Str).req(), p("outname", Str)];
pub static CONSTANT: &[Param] = &[p("value", Str).req(), p("outname", Str)];
pub static RULESET: &[Param] = &[p("name", Str).req(), p("parser", Array)];
pub static INCLUDE: &[Param] = &[p("file", Str), p("text", Str), p("mode", Str)];
