//! Reading a config file the way rsyslog's `readConfFile()` does: trailing whitespace is
//! trimmed, a line ending in `\` is joined with the next one (whose leading whitespace is
//! dropped), and every byte of the joined text still maps back to its original line and column.

use super::diagnostics::Location;

/// One config text after line joining, with the map back to the original positions.
#[derive(Debug, Clone)]
pub struct Source {
    /// File name as shown in diagnostics (or `include(text=…)` for inline text).
    pub name: String,
    /// The joined text the grammar parses.
    pub text: String,
    /// Sorted (offset in `text`, original line, original column) at the start of each chunk.
    segments: Vec<(usize, u32, u32)>,
}

impl Source {
    /// Joins continuation lines of `raw` as rsyslog does before lexing.
    pub fn new(name: impl Into<String>, raw: &str) -> Source {
        let mut text = String::with_capacity(raw.len() + 1);
        let mut segments = Vec::new();
        let mut cont = false;
        for (idx, line) in raw.split_inclusive('\n').enumerate() {
            let lineno = idx as u32 + 1;
            let start = if cont {
                line.len() - line.trim_start().len()
            } else {
                0
            };
            let body = line[start..].trim_end();
            if !body.is_empty() || !cont {
                segments.push((text.len(), lineno, start as u32 + 1));
            }
            if let Some(stripped) = body.strip_suffix('\\') {
                text.push_str(stripped);
                cont = true;
            } else {
                text.push_str(body);
                if !body.is_empty() || !cont {
                    cont = false;
                }
                if !cont {
                    text.push('\n');
                }
            }
        }
        Source {
            name: name.into(),
            text,
            segments,
        }
    }

    /// Original (line, column) of a byte offset into the joined text; columns count characters.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let i = match self.segments.binary_search_by(|s| s.0.cmp(&offset)) {
            Ok(i) => i,
            Err(0) => return (1, 1),
            Err(i) => i - 1,
        };
        let (seg_off, line, col) = self.segments[i];
        let end = offset.min(self.text.len());
        let chars = self.text.get(seg_off..end).map_or(0, |s| s.chars().count());
        (line, col + chars as u32)
    }

    /// A diagnostic location for a byte offset.
    pub fn loc(&self, offset: usize) -> Location {
        let (line, col) = self.line_col(offset);
        Location {
            file: self.name.clone(),
            line,
            col,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuation_and_keeps_positions() {
        let s = Source::new(
            "f",
            "*.=debug;\\\n\tauth,authpriv.none;\\\n\tnews.none -/var/log/debug\nx\n",
        );
        assert_eq!(
            s.text,
            "*.=debug;auth,authpriv.none;news.none -/var/log/debug\nx\n"
        );
        assert_eq!(s.line_col(0), (1, 1));
        let off = s.text.find("auth").unwrap();
        assert_eq!(s.line_col(off), (2, 2));
        let off = s.text.find("-/var").unwrap();
        assert_eq!(s.line_col(off), (3, 12));
        let off = s.text.find('x').unwrap();
        assert_eq!(s.line_col(off), (4, 1));
    }

    #[test]
    fn trims_trailing_whitespace_and_cr() {
        let s = Source::new("f", "a  \r\nb\\  \n  c\n");
        assert_eq!(s.text, "a\nbc\n");
        assert_eq!(s.line_col(s.text.find('c').unwrap()), (3, 3));
    }

    #[test]
    fn blank_line_inside_continuation_is_swallowed() {
        let s = Source::new("f", "a\\\n\n b\nc\n");
        assert_eq!(s.text, "ab\nc\n");
        assert_eq!(s.line_col(s.text.find('c').unwrap()), (4, 1));
    }
}
