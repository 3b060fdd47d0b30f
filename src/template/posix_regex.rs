//! POSIX regular expressions (what rsyslog hands to glibc's `regcomp`, BRE by default, ERE
//! with `REG_EXTENDED`) translated into the `regex` crate's syntax.
//!
//! Matching works on bytes as glibc does in the C locale (rsyslogd never calls
//! `setlocale`): `.` matches any byte including LF, `^`/`$` anchor only at the ends.
//!
//! Known differences from glibc, documented rather than hidden:
//! - the `regex` crate picks the leftmost-*first* alternative, POSIX the leftmost-*longest*
//!   match: `a|ab` on `ab` matches `a` here, `ab` in rsyslog (only alternations whose
//!   branches are prefixes of each other are affected);
//! - back-references (`\1`…`\9`) are not supported (compile error → rsyslog's
//!   "bad regular expression" result);
//! - GNU's `\<` and `\>` become `\b{start}` / `\b{end}`; `\w \W \s \S \b \B` are ASCII.

/// Which POSIX flavour a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Basic,
    Extended,
}

/// Compiles a POSIX pattern for byte matching.
pub fn compile(pattern: &str, flavor: Flavor) -> Result<regex::bytes::Regex, String> {
    let t = translate(pattern.as_bytes(), flavor)?;
    regex::bytes::RegexBuilder::new(&t)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| e.to_string())
}

fn lit(out: &mut String, c: u8) {
    if c.is_ascii_alphanumeric() || c == b'_' || c == b' ' {
        out.push(c as char);
    } else {
        out.push_str(&format!("\\x{c:02X}"));
    }
}

/// Translates a bracket expression starting after its `[`; returns the index after `]`.
fn bracket(p: &[u8], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if p.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    // One element: a byte or a collating element/equivalence class reduced to its byte.
    let elem = |p: &[u8], i: usize| -> Option<(u8, usize)> {
        let c = *p.get(i)?;
        if c == b'[' && matches!(p.get(i + 1), Some(b'.') | Some(b'=')) {
            let kind = p[i + 1];
            let v = *p.get(i + 2)?;
            if p.get(i + 3) == Some(&kind) && p.get(i + 4) == Some(&b']') {
                return Some((v, i + 5));
            }
        }
        Some((c, i + 1))
    };
    loop {
        let Some(&c) = p.get(i) else {
            return Err("unterminated bracket expression".into());
        };
        if c == b']' && !first {
            out.push(']');
            return Ok(i + 1);
        }
        first = false;
        if c == b'[' && p.get(i + 1) == Some(&b':') {
            let rest = &p[i + 2..];
            let Some(end) = rest.windows(2).position(|w| w == b":]") else {
                return Err("unterminated character class".into());
            };
            let name = std::str::from_utf8(&rest[..end]).map_err(|e| e.to_string())?;
            out.push_str("[:");
            out.push_str(name);
            out.push_str(":]");
            i += 2 + end + 2;
            continue;
        }
        let (lo, next) = elem(p, i).ok_or("unterminated bracket expression")?;
        i = next;
        if p.get(i) == Some(&b'-') && p.get(i + 1).is_some_and(|&n| n != b']') {
            let (hi, next) = elem(p, i + 1).ok_or("unterminated bracket expression")?;
            i = next;
            if hi < lo {
                return Err("invalid range end".into());
            }
            out.push_str(&format!("\\x{lo:02X}-\\x{hi:02X}"));
        } else {
            out.push_str(&format!("\\x{lo:02X}"));
        }
    }
}

/// Translates a POSIX pattern into `regex` syntax.
pub fn translate(p: &[u8], flavor: Flavor) -> Result<String, String> {
    let mut out = String::with_capacity(p.len() * 2);
    let mut i = 0;
    // Whether we are at the start of an expression (BRE: `*` is literal, `^` an anchor).
    let mut at_start = true;
    while i < p.len() {
        let c = p[i];
        let start_before = at_start;
        at_start = false;
        match (flavor, c) {
            (_, b'[') => {
                i = bracket(p, i + 1, &mut out)?;
                continue;
            }
            (_, b'.') => out.push('.'),
            (_, b'\\') => {
                let Some(&n) = p.get(i + 1) else {
                    return Err("trailing backslash".into());
                };
                i += 2;
                match (flavor, n) {
                    (Flavor::Basic, b'(') => {
                        out.push('(');
                        at_start = true;
                    }
                    (Flavor::Basic, b')') => out.push(')'),
                    (Flavor::Basic, b'{') => {
                        out.push('{');
                        i = interval(p, i, &mut out);
                    }
                    (Flavor::Basic, b'}') => out.push('}'),
                    (Flavor::Basic, b'|') => {
                        out.push('|');
                        at_start = true;
                    }
                    (Flavor::Basic, b'+') => out.push('+'),
                    (Flavor::Basic, b'?') => out.push('?'),
                    (_, b'1'..=b'9') => return Err("back-references are not supported".into()),
                    (_, b'w' | b'W' | b's' | b'S' | b'b' | b'B') => {
                        out.push('\\');
                        out.push(n as char);
                    }
                    (_, b'<') => out.push_str("\\b{start}"),
                    (_, b'>') => out.push_str("\\b{end}"),
                    (_, b'`') => out.push_str("\\A"),
                    (_, b'\'') => out.push_str("\\z"),
                    (_, n) => lit(&mut out, n),
                }
                continue;
            }
            (Flavor::Extended, b'(') => {
                out.push('(');
                at_start = true;
            }
            (Flavor::Extended, b'|') => {
                out.push('|');
                at_start = true;
            }
            (Flavor::Extended, b'{') => {
                out.push('{');
                i = interval(p, i + 1, &mut out);
                continue;
            }
            (Flavor::Extended, b')' | b'*' | b'+' | b'?' | b'}') => out.push(c as char),
            (Flavor::Extended, b'^') => {
                out.push('^');
                at_start = true;
            }
            (Flavor::Extended, b'$') => out.push('$'),
            (Flavor::Basic, b'*') => {
                if start_before {
                    lit(&mut out, c);
                } else {
                    out.push('*');
                }
            }
            (Flavor::Basic, b'^') => {
                if start_before {
                    out.push('^');
                    at_start = true;
                } else {
                    lit(&mut out, c);
                }
            }
            (Flavor::Basic, b'$') => {
                let rest = &p[i + 1..];
                if rest.is_empty() || rest.starts_with(b"\\)") || rest.starts_with(b"\\|") {
                    out.push('$');
                } else {
                    lit(&mut out, c);
                }
            }
            (_, c) => lit(&mut out, c),
        }
        i += 1;
    }
    Ok(out)
}

/// The bounds of an interval (`{m}`, `{m,}`, `{m,n}`) copied as they are, from `i`
/// (just after the `{`); returns where copying stopped (at the closing brace).
fn interval(p: &[u8], mut i: usize, out: &mut String) -> usize {
    while let Some(&c) = p.get(i) {
        if c.is_ascii_digit() || c == b',' {
            out.push(c as char);
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(p: &str, f: Flavor, s: &str) -> Option<String> {
        let re = compile(p, f).unwrap();
        re.find(s.as_bytes())
            .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
    }

    #[test]
    fn intervals_keep_their_bounds() {
        assert_eq!(
            find(
                r"([0-9]{1,3}\.){3}[0-9]{1,3}",
                Flavor::Extended,
                "ip 10.0.0.1 x"
            )
            .as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            find(r"a\{2,\}", Flavor::Basic, "caaab").as_deref(),
            Some("aaa")
        );
    }

    #[test]
    fn ere() {
        assert_eq!(
            find("[0-9]+", Flavor::Extended, "ab 123 c").as_deref(),
            Some("123")
        );
        assert_eq!(
            find("(a|b)c{2}", Flavor::Extended, "xbccx").as_deref(),
            Some("bcc")
        );
        assert_eq!(
            find("[]a]+", Flavor::Extended, "x]a]y").as_deref(),
            Some("]a]")
        );
        assert_eq!(
            find("[\\n]+", Flavor::Extended, "a\\nn").as_deref(),
            Some("\\nn")
        );
        assert_eq!(
            find("[[:digit:]]+", Flavor::Extended, "a42").as_deref(),
            Some("42")
        );
        assert_eq!(
            find("a.b", Flavor::Extended, "a\nb").as_deref(),
            Some("a\nb")
        );
        assert_eq!(find("\\.", Flavor::Extended, "ab.c").as_deref(), Some("."));
        assert!(compile("(a)\\1", Flavor::Extended).is_err());
    }

    #[test]
    fn bre() {
        assert_eq!(
            find("a\\(b*\\)c", Flavor::Basic, "xabbbc").as_deref(),
            Some("abbbc")
        );
        assert_eq!(find("(a)", Flavor::Basic, "x(a)").as_deref(), Some("(a)"));
        assert_eq!(find("*a", Flavor::Basic, "b*a").as_deref(), Some("*a"));
        assert_eq!(find("a+", Flavor::Basic, "aa+").as_deref(), Some("a+"));
        assert_eq!(
            find("a\\{2\\}", Flavor::Basic, "aaa").as_deref(),
            Some("aa")
        );
        assert_eq!(find("x$y", Flavor::Basic, "ax$y").as_deref(), Some("x$y"));
        assert_eq!(find("^a", Flavor::Basic, "ab").as_deref(), Some("a"));
        assert_eq!(find("b^", Flavor::Basic, "ab^").as_deref(), Some("b^"));
        assert_eq!(
            find("[0-9][0-9]*", Flavor::Basic, "id 4711;").as_deref(),
            Some("4711")
        );
    }
}
