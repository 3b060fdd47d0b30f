//! Static description of everything a config may name: parameter types, the parameters of
//! every object and module, and the legacy `$Directive` table. The loader validates against
//! these tables; nothing else in the crate hard-codes a parameter name list.

pub mod legacy;
pub mod modules;
pub mod objects;

/// Value type of a parameter, mirroring rsyslog's `eCmdHdlr*` handler types so values are
/// accepted and refused exactly where rsyslog accepts and refuses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `on`/`off` (rsyslog also takes `yes`/`no` and `1`/`0` in RainerScript).
    Binary,
    /// Any integer (may be negative).
    Int,
    /// Integer >= 0.
    NonNegInt,
    /// Integer > 0.
    PositiveInt,
    /// Integer with optional k/m/g/t/p/e (×1024) or K/M/G/T/P/E (×1000) suffix.
    Size,
    /// One word: the value up to the first whitespace.
    Word,
    /// Free string.
    Str,
    /// A word, or an array of words where newer rsyslog versions accept one (omfwd's
    /// `target=["a","b"]` and `port=[…]` target pools, rsyslog 8.2404+; 8.2302 takes a word
    /// only). A string stays a string.
    WordOrArray,
    /// A string or an array of strings.
    Array,
    /// Octal file mode with leading 0, e.g. `0640`.
    FileMode,
    /// User name or numeric uid.
    Uid,
    /// Group name or numeric gid.
    Gid,
    /// Facility name or number.
    Facility,
    /// Severity name or number.
    Severity,
    /// Queue type: FixedArray, LinkedList, Direct, Disk.
    QueueType,
    /// A single character.
    Char,
    /// Removed in rsyslog: accepted with a warning, does nothing.
    GoneAway,
}

/// Whether oxsyslog implements a parameter, directive or module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sup {
    /// Implemented (or in scope of an open issue and modelled by the config loader).
    Yes,
    /// Known to rsyslog, refused by oxsyslog with "not supported by oxsyslog".
    No,
}

/// One parameter of an object (`global()`, `action()`, `input()`, `module()` …).
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Canonical spelling as rsyslog documents it; matched case-insensitively.
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub sup: Sup,
}

/// Shorthand constructor for table entries: `p("port", Ty::Array)`.
pub const fn p(name: &'static str, ty: Ty) -> Param {
    Param {
        name,
        ty,
        required: false,
        sup: Sup::Yes,
    }
}

impl Param {
    /// Marks the parameter mandatory.
    pub const fn req(mut self) -> Param {
        self.required = true;
        self
    }
    /// Marks the parameter as known to rsyslog but not implemented by oxsyslog.
    pub const fn unsupported(mut self) -> Param {
        self.sup = Sup::No;
        self
    }
}

/// Finds a parameter by case-insensitive name in a table.
pub fn find_param<'a>(table: &'a [Param], name: &str) -> Option<&'a Param> {
    table.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}
