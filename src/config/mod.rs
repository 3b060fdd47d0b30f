//! Configuration: rsyslog's two syntaxes (legacy lines and RainerScript) parsed by one pest
//! grammar into a syntax tree (`syntax`), then resolved into one typed model (`model`) by the
//! loader (`load`), which applies legacy positional state, includes, defaults and name checks.

pub mod diagnostics;
pub mod dump;
pub mod load;
pub mod model;
pub mod properties;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod values;

pub use load::{load_path, load_text, Loaded};
