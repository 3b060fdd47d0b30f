//! Configuration: rsyslog's two syntaxes (legacy lines and RainerScript) parsed by one pest
//! grammar into a syntax tree (`syntax`), then resolved into one typed model (`model`) by the
//! loader (`load`), which applies legacy positional state, includes, defaults and name checks.

pub mod diagnostics;
pub mod schema;
pub mod source;
pub mod syntax;
