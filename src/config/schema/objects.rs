//! Parameters of the configuration objects that are not modules: `global()`, `main_queue()`,
//! the `queue.*` set shared by main queue, rulesets and actions, the common `action()`
//! parameters, `template()`, `property()`, `constant()`, `ruleset()`, `include()`,
//! `lookup_table()`, `timezone()`, `parser()`, `dyn_stats()`, `percentile_stats()`.
//!
//! Read from rsyslog 8.2302's `cnfparamdescr` tables (runtime/glbl.c, runtime/queue.c,
//! action.c, template.c, runtime/ruleset.c, grammar/rainerscript.c, runtime/lookup.c,
//! runtime/timezones.c, runtime/rsconf.c, runtime/dynstats.c, runtime/perctile_stats.c,
//! runtime/modules.c). rsyslog itself spells most names in lower case and matches them
//! case-insensitively; the spellings here follow the documentation.
//!
//! 8.2302 has no `ratelimit()` object (it is newer) and no `yaml` config format.

use super::{p, Param, Ty::*};

/// Accepted by every top-level object (`global()`, `module()`, `input()`, `template()`,
/// `ruleset()`, `main_queue()`, `parser()`, `lookup_table()` …) and by `action()` and
/// `include()`: rsyslog looks it up by name before the object's own table. Its value is not
/// type-checked: the object is disabled unless the value is `on` (so `off`, `no`, `0`, `yes`
/// all disable it).
pub static COMMON: &[Param] = &[p("config.enabled", Str)];

/// `global(...)` (runtime/glbl.c `cnfparamdescr`).
pub static GLOBAL: &[Param] = &[
    p("workDirectory", Str),
    p("operatingStateFile", Str),
    p("dropMsgsWithMaliciousDnsPtrRecords", Binary),
    p("localHostname", Word),
    p("preserveFQDN", Binary),
    p("debug.onShutdown", Binary),
    p("debug.logFile", Str),
    p("debug.gnutls", NonNegInt),
    p("debug.unloadModules", Binary),
    p("defaultNetstreamDriverCAFile", Str),
    p("defaultNetstreamDriverKeyFile", Str),
    p("defaultNetstreamDriverCertFile", Str),
    p("defaultNetstreamDriver", Str),
    p("netstreamDriverCaExtraFiles", Str),
    p("maxMessageSize", Size),
    p("oversizemsg.errorFile", Word),
    p("oversizemsg.report", Binary),
    p("oversizemsg.input.mode", Word),
    p("reportChildProcessExits", Word),
    p("action.reportSuspension", Binary),
    p("action.reportSuspensionContinuation", Binary),
    p("parser.controlCharacterEscapePrefix", Char),
    p("parser.dropTrailingLFOnReception", Binary),
    p("parser.escapeControlCharactersOnReceive", Binary),
    p("parser.spaceLFOnReceive", Binary),
    p("parser.escape8BitCharactersOnReceive", Binary),
    p("parser.escapeControlCharacterTab", Binary),
    p("parser.escapeControlCharactersCStyle", Binary),
    p("parser.parseHostnameAndTag", Binary),
    p("parser.permitSlashInProgramName", Binary),
    p("stdlog.channelSpec", Str),
    p("janitor.interval", PositiveInt),
    p("senders.reportNew", Binary),
    p("senders.reportGoneAway", Binary),
    p("senders.timeoutAfter", PositiveInt),
    p("senders.keepTrack", Binary),
    p("inputs.timeout.shutdown", PositiveInt),
    p("privdrop.group.keepSupplemental", Binary),
    p("privdrop.group.id", PositiveInt),
    p("privdrop.group.name", Gid),
    p("privdrop.user.id", PositiveInt),
    p("privdrop.user.name", Uid),
    p("net.ipprotocol", Word),
    p("net.aclAddHostnameOnFail", Binary),
    p("net.aclResolveHostname", Binary),
    p("net.enableDNS", Binary),
    p("net.permitACLWarning", Binary),
    p("abortOnUncleanConfig", Binary),
    p("abortOnFailedQueueStartup", Binary),
    p("variables.caseSensitive", Binary),
    p("environment", Array),
    p("processInternalMessages", Binary),
    p("umask", FileMode),
    p("security.abortOnIDResolutionFail", Binary),
    p("internal.developeronly.options", Int),
    p("internalmsg.ratelimit.interval", PositiveInt),
    p("internalmsg.ratelimit.burst", PositiveInt),
    p("internalmsg.severity", Severity),
    p("errorMessagesToStderr.maxNumber", PositiveInt),
    p("shutdown.enable.ctlc", Binary),
    p("default.action.queue.timeoutShutdown", Int),
    p("default.action.queue.timeoutActionCompletion", Int),
    p("default.action.queue.timeoutEnqueue", Int),
    p("default.action.queue.timeoutWorkerThreadShutdown", Int),
    p("default.ruleset.queue.timeoutShutdown", Int),
    p("default.ruleset.queue.timeoutActionCompletion", Int),
    p("default.ruleset.queue.timeoutEnqueue", Int),
    p("default.ruleset.queue.timeoutWorkerThreadShutdown", Int),
    p("reverselookup.cache.ttl.default", NonNegInt),
    p("reverselookup.cache.ttl.enable", Binary),
    p("parser.supportCompressionExtension", Binary),
    p("shutdown.queue.doubleSize", Binary),
    p("debug.files", Array),
    p("debug.whitelist", Binary),
];

/// `queue.*` parameters (runtime/queue.c `cnfpdescr`), valid in `main_queue()`, `ruleset()`
/// and `action()`. `main_queue()` takes exactly this set and nothing else (rsyslog keeps the
/// object and applies it with `qqueueApplyCnfParam`), so there is no separate main-queue table.
pub static QUEUE: &[Param] = &[
    p("queue.filename", Word),
    p("queue.spoolDirectory", Word),
    p("queue.size", Size),
    p("queue.dequeueBatchSize", Int),
    p("queue.minDequeueBatchSize", Int),
    p("queue.minDequeueBatchSize.timeout", Int),
    p("queue.maxDiskSpace", Size),
    p("queue.highWatermark", Int),
    p("queue.lowWatermark", Int),
    p("queue.fullDelaymark", Int),
    p("queue.lightDelayMark", Int),
    p("queue.discardMark", Int),
    // rsyslog declares this one with the *facility* handler (a long-standing slip), so it
    // takes facility names/numbers, not severity names.
    p("queue.discardSeverity", Facility),
    p("queue.checkpointInterval", Int),
    p("queue.syncQueueFiles", Binary),
    p("queue.type", QueueType),
    p("queue.workerThreads", Int),
    p("queue.timeoutShutdown", Int),
    p("queue.timeoutActionCompletion", Int),
    p("queue.timeoutEnqueue", Int),
    p("queue.timeoutWorkerThreadShutdown", Int),
    p("queue.workerThreadMinimumMessages", Int),
    p("queue.maxFileSize", Size),
    p("queue.saveOnShutdown", Binary),
    p("queue.dequeueSlowdown", Int),
    p("queue.dequeueTimeBegin", Int),
    p("queue.dequeueTimeEnd", Int),
    // Disk-queue encryption provider (lmcry_gcry): out of scope; refusing it is the only safe
    // answer, as accepting would leave queue files in clear text.
    p("queue.cry.provider", Word).unsupported(),
    p("queue.samplingInterval", Int),
    p("queue.takeFlowCtlFromMsg", Binary),
    // Taken by the lmcry_gcry provider when `queue.cry.provider="gcry"` is set
    // (runtime/lmcry_gcry.c `cnfpdescrQueue`); refused with it.
    p("queue.cry.key", Word).unsupported(),
    p("queue.cry.keyFile", Word).unsupported(),
    p("queue.cry.keyProgram", Word).unsupported(),
    p("queue.cry.mode", Word).unsupported(),
    p("queue.cry.algo", Word).unsupported(),
];

/// Parameters every `action()` takes, whatever its type (action.c `cnfparamdescr`), besides
/// `queue.*` ([`QUEUE`]) and `config.enabled` ([`COMMON`]). `template` is *not* common: it is
/// an instance parameter of each output module that takes one.
pub static ACTION_COMMON: &[Param] = &[
    p("name", Word),
    p("type", Str).req(),
    p("action.errorfile", Str),
    p("action.errorfile.maxsize", Int),
    p("action.writeAllMarkMessages", Binary),
    p("action.execOnlyEveryNthTime", Int),
    p("action.execOnlyEveryNthTimeTimeout", Int),
    p("action.execOnlyOnceEveryInterval", Int),
    p("action.execOnlyWhenPreviousIsSuspended", Binary),
    p("action.repeatedmsgcontainsoriginalmsg", Binary),
    p("action.resumeRetryCount", Int),
    p("action.reportSuspension", Binary),
    p("action.reportSuspensionContinuation", Binary),
    p("action.resumeIntervalMax", PositiveInt),
    p("action.resumeInterval", Int),
    p("action.externalstate.file", Str),
    p("action.copyMsg", Binary),
];

/// Parameters every `input()` takes (runtime/rsconf.c `inppdescr`); the rest come from the
/// module's instance table.
pub static INPUT_COMMON: &[Param] = &[p("type", Str).req()];

/// Parameters every `module()` takes (runtime/modules.c `actpdescr`, sic); the rest come from
/// the module's module-level table.
pub static MODULE_LOAD_COMMON: &[Param] = &[p("load", Word).req()];

/// `template(...)` (template.c `cnfparamdescr`). `type` is one of string, list, subtree,
/// plugin; the `option.*` flags are mutually exclusive except `option.caseSensitive`.
pub static TEMPLATE: &[Param] = &[
    p("name", Str).req(),
    p("type", Str).req(),
    p("string", Str),
    p("plugin", Str),
    p("subtree", Str),
    p("option.stdsql", Binary),
    p("option.sql", Binary),
    p("option.json", Binary),
    p("option.jsonf", Binary),
    p("option.caseSensitive", Binary),
];

/// `property(...)` inside a list template (template.c `cnfparamdescrProperty`).
pub static PROPERTY: &[Param] = &[
    p("name", Str).req(),
    p("outname", Str),
    p("dateFormat", Str),
    p("date.inUTC", Binary),
    p("compressSpace", Binary),
    p("caseConversion", Str),
    p("controlCharacters", Str),
    p("securePath", Str),
    p("format", Str),
    p("position.from", Int),
    p("position.to", Int),
    p("position.relativeToEnd", Binary),
    p("field.number", Int),
    // An integer: the delimiter's character code (e.g. "44" for a comma), not the character.
    p("field.delimiter", Int),
    p("regex.expression", Str),
    p("regex.type", Str),
    p("regex.noMatchMode", Str),
    p("regex.match", Int),
    p("regex.subMatch", Int),
    p("dropLastLf", Binary),
    p("fixedWidth", Binary),
    p("dataType", Str),
    p("onEmpty", Str),
    p("mandatory", Binary),
    p("spIfNo1stSp", Binary),
];

/// `constant(...)` inside a list template (template.c `cnfparamdescrConstant`).
pub static CONSTANT: &[Param] = &[p("value", Str).req(), p("format", Str), p("outname", Str)];

/// `ruleset(...)` (runtime/ruleset.c `rspdescr`). A ruleset also accepts every `queue.*`
/// parameter ([`QUEUE`]): when any is given it gets its own "main" queue. The loader adds
/// those; they are not repeated here.
pub static RULESET: &[Param] = &[p("name", Str).req(), p("parser", Array)];

/// `include(...)` (grammar/rainerscript.c `incpdescr`). Exactly one of `file` and `text` must
/// be given (checked by code, not by the table). `mode` is required | optional |
/// abort-if-missing.
pub static INCLUDE: &[Param] = &[p("file", Str), p("text", Str), p("mode", Word)];

/// `lookup_table(...)` (runtime/lookup.c `modpdescr`).
pub static LOOKUP_TABLE: &[Param] = &[
    p("name", Str).req(),
    p("file", Str).req(),
    p("reloadOnHUP", Binary),
];

/// `timezone(...)` (runtime/timezones.c): `offset` is `+hh:mm` / `-hh:mm`.
pub static TIMEZONE: &[Param] = &[p("id", Str).req(), p("offset", Word).req()];

/// `parser(...)` (runtime/rsconf.c `parserpdescr`): `name` is the new parser's name (for
/// `ruleset(parser=…)`), `type` the parser module's config name (`pmrfc3164`, …). The
/// module's own parameters come from its instance table.
pub static PARSER: &[Param] = &[p("type", Str).req(), p("name", Str).req()];

/// `dyn_stats(...)` (runtime/dynstats.c).
pub static DYN_STATS: &[Param] = &[
    p("name", Str).req(),
    p("resettable", Binary),
    p("maxCardinality", PositiveInt),
    p("unusedMetricLife", PositiveInt),
];

/// `percentile_stats(...)` (runtime/perctile_stats.c; the object keyword is
/// `percentile_stats`, rsyslog's internal name `perctile_stats`).
pub static PERCENTILE_STATS: &[Param] = &[
    p("name", Str).req(),
    p("delimiter", Str),
    p("percentiles", Array),
    p("windowSize", PositiveInt),
];

/// Every object table with its object name, for lookups and the tests.
pub static OBJECTS: &[(&str, &[Param])] = &[
    ("global", GLOBAL),
    ("main_queue", QUEUE),
    ("action", ACTION_COMMON),
    ("input", INPUT_COMMON),
    ("module", MODULE_LOAD_COMMON),
    ("template", TEMPLATE),
    ("property", PROPERTY),
    ("constant", CONSTANT),
    ("ruleset", RULESET),
    ("include", INCLUDE),
    ("lookup_table", LOOKUP_TABLE),
    ("timezone", TIMEZONE),
    ("parser", PARSER),
    ("dyn_stats", DYN_STATS),
    ("percentile_stats", PERCENTILE_STATS),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::{find_param, Sup};

    fn assert_unique(table_name: &str, table: &[Param]) {
        for (i, a) in table.iter().enumerate() {
            for b in &table[i + 1..] {
                assert!(
                    !a.name.eq_ignore_ascii_case(b.name),
                    "duplicate parameter {:?} in {}",
                    a.name,
                    table_name
                );
            }
        }
    }

    #[test]
    fn no_duplicate_names() {
        assert_unique("COMMON", COMMON);
        assert_unique("QUEUE", QUEUE);
        for (name, table) in OBJECTS {
            assert_unique(name, table);
        }
    }

    #[test]
    fn tables_that_are_combined_do_not_overlap() {
        // action() = ACTION_COMMON ∪ QUEUE ∪ COMMON; ruleset() = RULESET ∪ QUEUE ∪ COMMON.
        for extra in QUEUE.iter().chain(COMMON) {
            assert!(
                find_param(ACTION_COMMON, extra.name).is_none(),
                "{}",
                extra.name
            );
            assert!(find_param(RULESET, extra.name).is_none(), "{}", extra.name);
        }
        for (obj, table) in OBJECTS {
            assert!(find_param(table, "config.enabled").is_none(), "{obj}");
        }
    }

    #[test]
    fn names_are_well_formed() {
        // rsyslog's lexer takes object parameter names as [a-z][a-z0-9_.]* (case-insensitive).
        for (obj, table) in OBJECTS.iter().chain([&("common", COMMON)]) {
            for prm in *table {
                let mut chars = prm.name.chars();
                assert!(
                    chars.next().unwrap().is_ascii_alphabetic(),
                    "{obj}: {}",
                    prm.name
                );
                assert!(
                    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'),
                    "{obj}: {}",
                    prm.name
                );
            }
        }
    }

    #[test]
    fn known_facts() {
        assert!(find_param(GLOBAL, "WORKDIRECTORY").is_some());
        assert!(find_param(ACTION_COMMON, "type").unwrap().required);
        assert!(find_param(ACTION_COMMON, "template").is_none());
        assert_eq!(
            find_param(QUEUE, "queue.cry.provider").unwrap().sup,
            Sup::No
        );
        assert!(find_param(TEMPLATE, "name").unwrap().required);
        assert!(find_param(TIMEZONE, "offset").unwrap().required);
        assert!(find_param(MODULE_LOAD_COMMON, "load").unwrap().required);
    }
}
