//! RainerScript values and rsyslog 8.2302's typing rules (rainerscript.c `svar`,
//! `var2Number`, `var2String`, `cnfexprEval`'s comparisons): a value is a number, a string
//! or a JSON value (a `$!`/`$.`/`$/` variable that is not a string).

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::json::Json;

/// A RainerScript value, as rsyslog's `svar` (`N`, `S`, `J`).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(i64),
    Str(Vec<u8>),
    Json(Json),
}

impl Val {
    pub fn empty() -> Val {
        Val::Str(Vec::new())
    }

    /// `var2Number`: (value, whether it converted completely).
    pub fn to_num_ok(&self) -> (i64, bool) {
        match self {
            Val::Num(n) => (*n, true),
            Val::Str(s) => str2num(s),
            Val::Json(j) => (j.as_i64(), true),
        }
    }

    pub fn to_num(&self) -> i64 {
        self.to_num_ok().0
    }

    /// `var2String`, borrowing when the value already is a string.
    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Val::Num(n) => Cow::Owned(n.to_string().into_bytes()),
            Val::Str(s) => Cow::Borrowed(s),
            Val::Json(j) => {
                let mut v = Vec::new();
                j.write_string_value(&mut v);
                Cow::Owned(v)
            }
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Val::Str(s) => s,
            other => other.as_bytes().into_owned(),
        }
    }

    /// rsyslog's boolean: the numeric value (so "12abc" is true and "abc" false).
    pub fn truthy(&self) -> bool {
        self.to_num() != 0
    }

    /// `msgSetJSONFromVar`: what `set` stores.
    pub fn into_json(self) -> Json {
        match self {
            Val::Num(n) => Json::Int(n),
            // json_object_new_string(es_str2cstr(…)): the text ends at a NUL
            Val::Str(mut s) => {
                if let Some(p) = s.iter().position(|&c| c == 0) {
                    s.truncate(p);
                }
                Json::Str(s)
            }
            Val::Json(j) => j.deep_copy(),
        }
    }
}

/// rsyslog's `str2num`: optional `-`, leading digits; `ok` only when the whole string was
/// digits (an empty string is 0 and ok).
pub fn str2num(s: &[u8]) -> (i64, bool) {
    if s.is_empty() {
        return (0, true);
    }
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    let mut used = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            break;
        }
        n = n.wrapping_mul(10).wrapping_add((c - b'0') as i64);
        used += 1;
    }
    (if neg { n.wrapping_neg() } else { n }, used == digits.len())
}

/// `==` as 8.2302's `cnfexprEval` evaluates it. Two strings compare as strings; a string
/// and a number as numbers when the string converts completely, else as strings; a JSON
/// value on the left as its text against a string, as its number against a number.
/// 8.2302 compares a JSON value on the *right* of a non-string by reading the union's
/// number member (a pointer): never equal — reproduced as `false`.
pub fn equal(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Num(a), Val::Num(b)) => a == b,
        (Val::Str(s), Val::Num(n)) | (Val::Num(n), Val::Str(s)) => match str2num(s) {
            (v, true) => v == *n,
            _ => s.as_slice() == n.to_string().as_bytes(),
        },
        (Val::Json(_), Val::Str(s)) => l.as_bytes().as_ref() == s.as_slice(),
        (Val::Json(j), Val::Num(n)) => j.as_i64() == *n,
        (Val::Str(s), Val::Json(_)) => match str2num(s) {
            (_, true) => false,
            _ => s.as_slice() == r.as_bytes().as_ref(),
        },
        (Val::Json(_) | Val::Num(_), Val::Json(_)) => false,
    }
}

/// `<`, `<=`, `>`, `>=` (`eval_strcmp_like`): numeric when both sides convert, else a
/// string comparison.
pub fn order(l: &Val, r: &Val) -> Ordering {
    let (a, oka) = l.to_num_ok();
    if oka {
        let (b, okb) = r.to_num_ok();
        if okb {
            return a.cmp(&b);
        }
    }
    l.as_bytes().as_ref().cmp(r.as_bytes().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsyslog_typing_rules() {
        let s = |x: &str| Val::Str(x.as_bytes().to_vec());
        assert!(!equal(&s("1"), &s("01")), "two strings compare as strings");
        assert!(
            equal(&s("01"), &Val::Num(1)),
            "a fully numeric string meets a number as a number"
        );
        assert!(!equal(&s("1a"), &Val::Num(1)));
        assert_eq!(
            order(&s("10"), &s("9")),
            Ordering::Greater,
            "relational: numeric when both convert"
        );
        assert_eq!(order(&s("a10"), &s("a9")), Ordering::Less);
        assert!(s("12abc").truthy() && !s("abc").truthy() && !s("").truthy());
        let j = Val::Json(Json::Int(5));
        assert!(equal(&j, &Val::Num(5)) && equal(&j, &s("5")) && !equal(&j, &j.clone()));
    }
}
