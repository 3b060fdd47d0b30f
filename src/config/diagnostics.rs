//! Located diagnostics: `FILE:LINE:COL: error: <what> near '<text>'`, one line each, as every
//! config error and warning is reported (on stderr by the CLI).

use std::fmt;

/// How bad a diagnostic is. rsyslog goes on after warnings; `-N1` fails on any error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Where in which file something was written. `line` and `col` are 1-based; `line == 0`
/// means the whole file (or the whole config, when `file` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line) {
            (true, _) => write!(f, "config"),
            (false, 0) => write!(f, "{}", self.file),
            (false, _) => write!(f, "{}:{}:{}", self.file, self.line, self.col),
        }
    }
}

/// One error or warning with its location and, where useful, the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub loc: Location,
    pub message: String,
    /// The text at the location, shown as `near '…'` (shortened to one line).
    pub near: Option<String>,
}

impl Diagnostic {
    pub fn error(loc: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            loc,
            message: message.into(),
            near: None,
        }
    }

    pub fn warning(loc: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            loc,
            message: message.into(),
            near: None,
        }
    }

    /// Adds the offending text, cut at the first line break and at 60 characters.
    pub fn near(mut self, text: &str) -> Diagnostic {
        let line = text.lines().next().unwrap_or("").trim_end();
        let mut cut: String = line.chars().take(60).collect();
        if cut.len() < line.len() {
            cut.push('…');
        }
        self.near = Some(cut);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {}: {}", self.loc, sev, self.message)?;
        if let Some(near) = &self.near {
            write!(f, " near '{near}'")?;
        }
        Ok(())
    }
}

/// Collects diagnostics during a load.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn error(&mut self, loc: Location, message: impl Into<String>) {
        self.push(Diagnostic::error(loc, message));
    }
    pub fn warning(&mut self, loc: Location, message: impl Into<String>) {
        self.push(Diagnostic::warning(loc, message));
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
}
