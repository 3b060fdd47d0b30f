//! Value checking and conversion for parameters and legacy directives, after rsyslog's
//! `doGet*` (RainerScript) and cfsysline (legacy) handlers: what each type accepts and the
//! error text when it does not.

use super::model::PValue;
use super::schema::Ty;
use super::syntax::Value;

/// Converts an object parameter value (RainerScript) to its typed form.
pub fn from_object(name: &str, ty: Ty, value: &Value) -> Result<PValue, String> {
    let s = match value {
        Value::Array(items) => {
            return match ty {
                Ty::Array | Ty::WordOrArray => Ok(PValue::Array(items.clone())),
                _ => Err(format!(
                    "parameter '{name}' must be a string, but is an array"
                )),
            };
        }
        Value::Str(s) => s.as_str(),
    };
    match ty {
        Ty::Binary => match s {
            "on" => Ok(PValue::Bool(true)),
            "off" => Ok(PValue::Bool(false)),
            _ => Err(format!("parameter '{name}' must be \"on\" or \"off\", not \"{s}\"")),
        },
        Ty::Int | Ty::NonNegInt | Ty::PositiveInt => {
            let n = strict_int(s).ok_or_else(|| format!("parameter '{name}' is not a proper number: \"{s}\""))?;
            check_sign(name, ty, n)?;
            Ok(PValue::Int(n))
        }
        Ty::Size => size(s)
            .map(PValue::Int)
            .ok_or_else(|| format!("parameter '{name}' does not contain a valid size: \"{s}\"")),
        Ty::Word | Ty::WordOrArray => {
            if s.chars().any(char::is_whitespace) {
                Err(format!("parameter '{name}' contains whitespace, which is not permitted"))
            } else {
                Ok(PValue::Str(s.to_string()))
            }
        }
        Ty::Str | Ty::GoneAway => Ok(PValue::Str(s.to_string())),
        Ty::Array => Ok(PValue::Array(vec![s.to_string()])),
        Ty::FileMode => file_mode(s).map(PValue::Mode).ok_or_else(|| {
            format!(
                "file modes need to be specified as 4- or 5-digit octal numbers starting with '0' - parameter '{name}=\"{s}\"' is not a file mode"
            )
        }),
        Ty::Uid => user(s)
            .map(|_| PValue::Str(s.to_string()))
            .ok_or_else(|| format!("parameter '{name}': ID for user '{s}' could not be found")),
        Ty::Gid => group(s)
            .map(|_| PValue::Str(s.to_string()))
            .ok_or_else(|| format!("parameter '{name}': ID for group '{s}' could not be found")),
        Ty::Facility => crate::filter::selector::facility_code(s)
            .filter(|_| !s.starts_with(|c: char| c.is_ascii_digit()) || strict_int(s).is_some())
            .map(|_| PValue::Str(s.to_string()))
            .ok_or_else(|| format!("parameter '{name}': invalid facility \"{s}\"")),
        Ty::Severity => severity(s)
            .map(|_| PValue::Str(s.to_string()))
            .ok_or_else(|| format!("parameter '{name}': invalid severity \"{s}\"")),
        Ty::QueueType => queue_type(s)
            .map(|q| PValue::Str(q.to_string()))
            .ok_or_else(|| format!("param '{name}': unknown queue type: '{s}'")),
        Ty::Char => {
            if s.chars().count() == 1 {
                Ok(PValue::Str(s.to_string()))
            } else {
                Err(format!("parameter '{name}' must be exactly one character"))
            }
        }
    }
}

/// Parses a legacy directive value. Returns the value and the unparsed rest of the line
/// (which must then be empty or a `#` comment).
pub fn from_directive<'a>(name: &str, ty: Ty, text: &'a str) -> Result<(PValue, &'a str), String> {
    let t = text.trim_start();
    let (word, rest) = split_word(t);
    let v = match ty {
        Ty::Binary => match word {
            "on" => PValue::Bool(true),
            "off" => PValue::Bool(false),
            _ => return Err(format!("${name}: value must be \"on\" or \"off\", not \"{word}\"")),
        },
        Ty::Int | Ty::NonNegInt | Ty::PositiveInt | Ty::Size => {
            let (n, used) = lenient_int(t).ok_or_else(|| format!("${name}: invalid number \"{word}\""))?;
            let mut n = n;
            let mut rest = &t[used..];
            if ty == Ty::Size {
                if let Some(c) = rest.chars().next().filter(|c| c.is_ascii_alphabetic()) {
                    n = n.saturating_mul(multiplier(c).ok_or_else(|| {
                        format!("${name}: invalid size suffix '{c}'")
                    })?);
                    rest = &rest[1..];
                }
            }
            check_sign(name, ty, n)?;
            return Ok((PValue::Int(n), rest));
        }
        Ty::FileMode => PValue::Mode(file_mode(word).ok_or_else(|| {
            format!("${name}: file modes need to be 4- or 5-digit octal numbers starting with '0', not \"{word}\"")
        })?),
        Ty::Uid => {
            user(word).ok_or_else(|| format!("${name}: ID for user '{word}' could not be found"))?;
            PValue::Str(word.to_string())
        }
        Ty::Gid => {
            group(word).ok_or_else(|| format!("${name}: ID for group '{word}' could not be found"))?;
            PValue::Str(word.to_string())
        }
        Ty::QueueType => PValue::Str(
            queue_type(word)
                .ok_or_else(|| format!("${name}: unknown queue type '{word}'"))?
                .to_string(),
        ),
        Ty::Facility => {
            crate::filter::selector::facility_code(word)
                .ok_or_else(|| format!("${name}: invalid facility \"{word}\""))?;
            PValue::Str(word.to_string())
        }
        Ty::Severity => {
            severity(word).ok_or_else(|| format!("${name}: invalid severity \"{word}\""))?;
            PValue::Str(word.to_string())
        }
        Ty::Char => PValue::Str(word.chars().next().map(String::from).unwrap_or_default()),
        Ty::Array => PValue::Array(vec![word.to_string()]),
        Ty::Word | Ty::WordOrArray | Ty::Str | Ty::GoneAway => PValue::Str(word.to_string()),
    };
    if word.is_empty() && !matches!(ty, Ty::GoneAway) {
        return Err(format!("${name}: a value is required"));
    }
    Ok((v, rest))
}

/// The first whitespace-separated word and the rest.
pub fn split_word(t: &str) -> (&str, &str) {
    let end = t.find(char::is_whitespace).unwrap_or(t.len());
    (&t[..end], &t[end..])
}

fn check_sign(name: &str, ty: Ty, n: i64) -> Result<(), String> {
    match ty {
        Ty::NonNegInt if n < 0 => Err(format!(
            "parameter '{name}' cannot be less than zero (was {n})"
        )),
        Ty::PositiveInt if n < 1 => Err(format!(
            "parameter '{name}' cannot be less than one (was {n})"
        )),
        _ => Ok(()),
    }
}

/// An optional `-` and digits, nothing else.
fn strict_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// cfsysline's integer: optional `-`, a digit, then digits with `.` and `,` skipped.
/// Returns the value and how many bytes were used.
fn lenient_int(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i = 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut n: i64 = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b',') {
        if b[i].is_ascii_digit() {
            n = n.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
        }
        i += 1;
    }
    Some((if neg { -n } else { n }, i))
}

fn multiplier(c: char) -> Option<i64> {
    Some(match c {
        'k' => 1 << 10,
        'm' => 1 << 20,
        'g' => 1 << 30,
        't' => 1 << 40,
        'p' => 1 << 50,
        'e' => 1 << 60,
        'K' => 1_000,
        'M' => 1_000_000,
        'G' => 1_000_000_000,
        'T' => 1_000_000_000_000,
        'P' => 1_000_000_000_000_000,
        'E' => 1_000_000_000_000_000_000,
        _ => return None,
    })
}

/// RainerScript size: digits and at most one suffix letter.
pub fn size(s: &str) -> Option<i64> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut n: i64 = 0;
    for d in s[..digits_end].bytes() {
        n = n.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    let rest = &s[digits_end..];
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Some(n),
        (Some(c), None) => multiplier(c).map(|m| n.saturating_mul(m)),
        _ => None,
    }
}

/// `0640` or `00640`: 4 or 5 octal digits with a leading 0.
pub fn file_mode(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if !(b.len() == 4 || b.len() == 5)
        || b[0] != b'0'
        || !b.iter().all(|c| (b'0'..=b'7').contains(c))
    {
        return None;
    }
    u32::from_str_radix(&s[1..], 8).ok()
}

fn queue_type(s: &str) -> Option<&'static str> {
    ["FixedArray", "LinkedList", "Disk", "Direct"]
        .into_iter()
        .find(|q| q.eq_ignore_ascii_case(s))
}

fn severity(s: &str) -> Option<u8> {
    if let Some(n) = strict_int(s) {
        return (0..=7).contains(&n).then_some(n as u8);
    }
    crate::filter::selector::severity_code(s)
}

/// Looks a user up in the system's user database.
pub fn user(name: &str) -> Option<u32> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

/// Looks a group up in the system's group database.
pub fn group(name: &str) -> Option<u32> {
    nix::unistd::Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_values() {
        let v = |ty, s: &str| from_object("p", ty, &Value::Str(s.into()));
        assert_eq!(v(Ty::Binary, "on"), Ok(PValue::Bool(true)));
        assert!(v(Ty::Binary, "yes").is_err());
        assert_eq!(v(Ty::Size, "512m"), Ok(PValue::Int(512 << 20)));
        assert_eq!(v(Ty::Size, "2K"), Ok(PValue::Int(2000)));
        assert!(v(Ty::Size, "2kb").is_err());
        assert_eq!(v(Ty::FileMode, "0640"), Ok(PValue::Mode(0o640)));
        assert!(v(Ty::FileMode, "640").is_err());
        assert!(v(Ty::PositiveInt, "0").is_err());
        assert!(v(Ty::Int, "12a").is_err());
        assert_eq!(
            v(Ty::QueueType, "linkedlist"),
            Ok(PValue::Str("LinkedList".into()))
        );
        assert!(v(Ty::Word, "a b").is_err());
        assert_eq!(v(Ty::Uid, "root"), Ok(PValue::Str("root".into())));
        assert!(v(Ty::Uid, "no-such-user-oxsyslog").is_err());
    }

    #[test]
    fn directive_values() {
        assert_eq!(
            from_directive("x", Ty::Int, " 1,000 # c"),
            Ok((PValue::Int(1000), " # c"))
        );
        assert_eq!(
            from_directive("x", Ty::Size, "1g"),
            Ok((PValue::Int(1 << 30), ""))
        );
        assert_eq!(
            from_directive("x", Ty::Binary, "on"),
            Ok((PValue::Bool(true), ""))
        );
        assert!(from_directive("x", Ty::Binary, "On").is_err());
        assert_eq!(
            from_directive("x", Ty::FileMode, "0640 # m"),
            Ok((PValue::Mode(0o640), " # m"))
        );
    }
}
