//! Rulesets compiled for execution: selector masks, property filters with their regexes
//! compiled once, RainerScript conditions, actions by index. Executing a ruleset for one
//! message yields the actions to run, in order.

use regex::bytes::Regex;

use crate::config::model::{Config, Filter, PropOp, Statement};
use crate::config::syntax::{BinOp, Expr};
use crate::message::MsgRef;
use crate::template::props::{prop_id, write_prop, PropId};
use crate::template::RenderEnv;

/// One compiled statement.
#[derive(Debug)]
pub enum Exec {
    Pri {
        mask: crate::filter::selector::Mask,
        body: Vec<Exec>,
    },
    Prop {
        prop: PropId,
        negate: bool,
        op: PropOp,
        value: Vec<u8>,
        regex: Option<Regex>,
        body: Vec<Exec>,
    },
    If {
        cond: Cond,
        then_body: Vec<Exec>,
        else_body: Vec<Exec>,
    },
    Action(usize),
    Stop,
    Call(usize),
    Continue,
}

/// A compiled RainerScript expression.
#[derive(Debug)]
pub enum Cond {
    Num(i64),
    Str(Vec<u8>),
    /// A constant string array (right side of ==, !=, contains, startswith).
    Array(Vec<Vec<u8>>),
    Prop(PropId),
    Not(Box<Cond>),
    Neg(Box<Cond>),
    Bin(BinOp, Box<Cond>, Box<Cond>),
    Func(Func, Vec<Cond>),
}

/// Functions of rsyslog 8.2302 that need no message variables.
#[derive(Debug)]
pub enum Func {
    Strlen,
    Getenv,
    Tolower,
    Cstr,
    Cnum,
    Substring,
    Ltrim,
    Rtrim,
    ReMatch(Regex),
    Field,
    Replace,
    Ipv42num,
    Num2ipv4,
    Int2hex,
    Random,
    Prifilt(crate::filter::selector::Mask),
    /// Always 0: no action in the runtime reports errors to scripts or suspends yet.
    Zero,
}

/// Compiled rulesets, indexed as `Config::rulesets`.
#[derive(Debug)]
pub struct Rulesets {
    pub names: Vec<String>,
    pub bodies: Vec<Vec<Exec>>,
}

/// Outcome of running statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

impl Rulesets {
    /// Compiles every ruleset; an unimplemented construct is an error naming it.
    pub fn compile(cfg: &Config) -> Result<Rulesets, String> {
        let names: Vec<String> = cfg.rulesets.iter().map(|r| r.name.clone()).collect();
        let mut bodies = Vec::new();
        for r in &cfg.rulesets {
            bodies.push(compile_body(&r.body, &names)?);
        }
        Ok(Rulesets { names, bodies })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Runs ruleset `rs` for one message, calling `act` for each action that fires.
    pub fn run(
        &self,
        rs: usize,
        m: MsgRef<'_>,
        env: &RenderEnv,
        scratch: &mut Vec<u8>,
        act: &mut impl FnMut(usize),
    ) {
        if let Some(body) = self.bodies.get(rs) {
            let _ = self.exec(body, m, env, scratch, act, 0);
        }
    }

    fn exec(
        &self,
        body: &[Exec],
        m: MsgRef<'_>,
        env: &RenderEnv,
        scratch: &mut Vec<u8>,
        act: &mut impl FnMut(usize),
        depth: usize,
    ) -> Flow {
        for st in body {
            let flow = match st {
                Exec::Pri { mask, body } => {
                    let fac = (m.m.facility as usize).min(mask.len() - 1);
                    if mask[fac] & (1 << m.m.severity) != 0 {
                        self.exec(body, m, env, scratch, act, depth)
                    } else {
                        Flow::Go
                    }
                }
                Exec::Prop {
                    prop,
                    negate,
                    op,
                    value,
                    regex,
                    body,
                } => {
                    scratch.clear();
                    write_prop(m, *prop, env, scratch);
                    let hit = prop_test(scratch, *op, value, regex.as_ref()) != *negate;
                    if hit {
                        self.exec(body, m, env, scratch, act, depth)
                    } else {
                        Flow::Go
                    }
                }
                Exec::If {
                    cond,
                    then_body,
                    else_body,
                } => {
                    if truthy(&eval(cond, m, env)) {
                        self.exec(then_body, m, env, scratch, act, depth)
                    } else {
                        self.exec(else_body, m, env, scratch, act, depth)
                    }
                }
                Exec::Action(i) => {
                    act(*i);
                    Flow::Go
                }
                Exec::Stop => Flow::Stop,
                Exec::Continue => Flow::Go,
                Exec::Call(rs) => {
                    if depth > 100 {
                        Flow::Go
                    } else {
                        self.exec(&self.bodies[*rs], m, env, scratch, act, depth + 1)
                    }
                }
            };
            if flow == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Go
    }
}

fn prop_test(v: &[u8], op: PropOp, value: &[u8], re: Option<&Regex>) -> bool {
    match op {
        PropOp::Contains => memchr::memmem::find(v, value).is_some(),
        PropOp::IsEqual => v == value,
        PropOp::StartsWith => v.starts_with(value),
        PropOp::EndsWith => v.ends_with(value),
        PropOp::IsEmpty => v.is_empty(),
        PropOp::Regex | PropOp::EreRegex => re.is_some_and(|r| r.is_match(v)),
    }
}

fn compile_body(body: &[Statement], names: &[String]) -> Result<Vec<Exec>, String> {
    body.iter().map(|s| compile_stmt(s, names)).collect()
}

fn compile_stmt(s: &Statement, names: &[String]) -> Result<Exec, String> {
    Ok(match s {
        Statement::Filter { filter, body } => {
            let body = compile_body(body, names)?;
            match filter {
                Filter::Pri { mask, .. } => Exec::Pri { mask: mask.0, body },
                Filter::Prop {
                    prop,
                    negate,
                    op,
                    value,
                } => {
                    let id = prop_id(prop).ok_or_else(|| {
                        format!("property '{prop}' cannot be used in a filter yet")
                    })?;
                    let regex = match op {
                        PropOp::Regex => Some(compile_regex(&bre_to_ere(value))?),
                        PropOp::EreRegex => Some(compile_regex(value)?),
                        _ => None,
                    };
                    Exec::Prop {
                        prop: id,
                        negate: *negate,
                        op: *op,
                        value: value.as_bytes().to_vec(),
                        regex,
                        body,
                    }
                }
            }
        }
        Statement::If {
            cond,
            then_body,
            else_body,
        } => Exec::If {
            cond: compile_expr(cond)?,
            then_body: compile_body(then_body, names)?,
            else_body: match else_body {
                Some(e) => compile_body(e, names)?,
                None => Vec::new(),
            },
        },
        Statement::Action(i) => Exec::Action(*i),
        Statement::Stop => Exec::Stop,
        Statement::Continue => Exec::Continue,
        Statement::Call(n) => Exec::Call(
            names
                .iter()
                .position(|x| x == n)
                .ok_or_else(|| format!("ruleset '{n}' not found"))?,
        ),
        Statement::Foreach { .. } => {
            return Err("foreach arrives with issue #5 (rules engine)".into())
        }
        Statement::Set { .. } | Statement::Unset { .. } => {
            return Err("set/unset of variables arrives with issue #5 (rules engine)".into())
        }
        Statement::CallIndirect(_) => {
            return Err("call_indirect arrives with issue #5 (rules engine)".into())
        }
        Statement::ReloadLookupTable(_) => {
            return Err("reload_lookup_table arrives with issue #5 (rules engine)".into())
        }
    })
}

fn compile_regex(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("cannot compile regex '{re}': {e}"))
}

/// Translates a POSIX basic regular expression into the extended syntax `regex` speaks:
/// in BRE, `\(` `\)` `\{` `\}` `\|` `\+` `\?` are operators and the bare characters literals.
pub fn bre_to_ere(bre: &str) -> String {
    let mut out = String::with_capacity(bre.len() + 8);
    let mut chars = bre.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ ('(' | ')' | '{' | '}' | '|' | '+' | '?')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push_str("\\\\"),
            },
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn compile_expr(e: &Expr) -> Result<Cond, String> {
    Ok(match e {
        Expr::Num(n) => Cond::Num(*n),
        Expr::Str(s) => Cond::Str(s.as_bytes().to_vec()),
        Expr::Var(v) => {
            let name = if let Some(sys) = v.strip_prefix('$') {
                format!("${sys}")
            } else {
                v.clone()
            };
            match prop_id(&name) {
                Some(id) => Cond::Prop(id),
                None => {
                    return Err(format!(
                        "variable '${v}' arrives with issue #5 (rules engine)"
                    ))
                }
            }
        }
        Expr::Not(x) => Cond::Not(Box::new(compile_expr(x)?)),
        Expr::Neg(x) => Cond::Neg(Box::new(compile_expr(x)?)),
        Expr::Bin(op, l, r) => {
            Cond::Bin(*op, Box::new(compile_expr(l)?), Box::new(compile_expr(r)?))
        }
        Expr::Func { name, args, .. } => {
            let f = match (name.as_str(), args.as_slice()) {
                ("strlen", [_]) => Func::Strlen,
                ("getenv", [_]) => Func::Getenv,
                ("tolower", [_]) => Func::Tolower,
                ("cstr", [_]) => Func::Cstr,
                ("cnum", [_]) => Func::Cnum,
                ("substring", [_, _, _]) => Func::Substring,
                ("ltrim", [_]) => Func::Ltrim,
                ("rtrim", [_]) => Func::Rtrim,
                ("re_match", [_, Expr::Str(re)]) => Func::ReMatch(compile_regex(re)?),
                ("re_match_i", [_, Expr::Str(re)]) => {
                    Func::ReMatch(compile_regex(&format!("(?i){re}"))?)
                }
                ("field", [_, _, _]) => Func::Field,
                ("replace", [_, _, _]) => Func::Replace,
                ("ipv42num" | "ip42num", [_]) => Func::Ipv42num,
                ("num2ipv4", [_]) => Func::Num2ipv4,
                ("int2hex", [_]) => Func::Int2hex,
                ("random", [_]) => Func::Random,
                ("prifilt", [Expr::Str(sel)]) => {
                    Func::Prifilt(crate::filter::selector::decode(sel)?)
                }
                ("script_error" | "previous_action_suspended", []) => Func::Zero,
                _ => {
                    return Err(format!(
                    "function {name}() (with these arguments) arrives with issue #5 (rules engine)"
                ))
                }
            };
            let args = match f {
                Func::ReMatch(_) => vec![compile_expr(&args[0])?],
                Func::Prifilt(_) => Vec::new(),
                _ => args.iter().map(compile_expr).collect::<Result<_, _>>()?,
            };
            Cond::Func(f, args)
        }
        Expr::Array(a) => Cond::Array(a.iter().map(|x| x.as_bytes().to_vec()).collect()),
        Expr::Exists(_) => return Err("exists() arrives with issue #5 (rules engine)".into()),
    })
}

/// A RainerScript value: a number or a string, as rsyslog's `svar`.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(i64),
    Str(Vec<u8>),
}

/// rsyslog's `str2num`: optional `-`, leading digits; `ok` only when the whole string was
/// digits (an empty string is 0 and ok).
fn str2num(s: &[u8]) -> (i64, bool) {
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

/// `var2Number`: numbers as they are, strings by `str2num`.
fn var2num(v: &Val) -> (i64, bool) {
    match v {
        Val::Num(n) => (*n, true),
        Val::Str(s) => str2num(s),
    }
}

fn to_num(v: &Val) -> i64 {
    var2num(v).0
}

fn to_bytes(v: Val) -> Vec<u8> {
    match v {
        Val::Num(n) => n.to_string().into_bytes(),
        Val::Str(s) => s,
    }
}

fn as_bytes(v: &Val) -> std::borrow::Cow<'_, [u8]> {
    match v {
        Val::Num(n) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
        Val::Str(s) => std::borrow::Cow::Borrowed(s),
    }
}

/// rsyslog's boolean: the numeric value (so "12abc" is true and "abc" false).
fn truthy(v: &Val) -> bool {
    to_num(v) != 0
}

/// `==` as rsyslog evaluates it: two strings compare as strings; a string and a number
/// compare as numbers when the string converts completely, else as strings.
fn equal(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Num(a), Val::Num(b)) => a == b,
        (Val::Str(s), Val::Num(n)) | (Val::Num(n), Val::Str(s)) => match str2num(s) {
            (v, true) => v == *n,
            _ => s.as_slice() == n.to_string().as_bytes(),
        },
    }
}

/// `<`, `<=`, `>`, `>=`: numeric when both sides convert, else a string comparison.
fn order(l: &Val, r: &Val) -> std::cmp::Ordering {
    let (a, oka) = var2num(l);
    if oka {
        let (b, okb) = var2num(r);
        if okb {
            return a.cmp(&b);
        }
    }
    as_bytes(l).cmp(&as_bytes(r))
}

/// `field(str, delim, n)`: a number delimiter is a character code, a string one a separator.
fn field(s: &[u8], delim: &Val, n: i64) -> Vec<u8> {
    // rsyslog scans the value as a C string.
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let found: Option<&[u8]> = match delim {
        Val::Str(d) if !d.is_empty() => {
            let mut rest = Some(s);
            let mut cur = 1;
            while cur < n {
                rest = rest.and_then(|r| memchr::memmem::find(r, d).map(|p| &r[p + d.len()..]));
                match rest {
                    Some(_) => cur += 1,
                    None => break,
                }
            }
            match rest {
                Some(r) if cur == n => Some(match memchr::memmem::find(r, d) {
                    Some(p) => &r[..p],
                    None => r,
                }),
                _ => None,
            }
        }
        _ => {
            let d = to_num(delim) as u8;
            let mut pos = 0;
            let mut cur = 1;
            while pos < s.len() && cur < n {
                while pos < s.len() && s[pos] != d {
                    pos += 1;
                }
                if pos < s.len() {
                    pos += 1;
                    cur += 1;
                }
            }
            if cur == n {
                let end = s[pos..]
                    .iter()
                    .position(|&c| c == d)
                    .map_or(s.len(), |e| pos + e);
                Some(&s[pos..end])
            } else {
                None
            }
        }
    };
    match found {
        Some(f) => f.to_vec(),
        None => b"***FIELD NOT FOUND***".to_vec(),
    }
}

fn ipv42num(s: &[u8]) -> i64 {
    let t = String::from_utf8_lossy(s);
    let t = t.trim_matches(' ');
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() != 4 {
        return -1;
    }
    let mut n: i64 = 0;
    for p in parts {
        match p.parse::<u8>() {
            Ok(v) if p.bytes().all(|c| c.is_ascii_digit()) => n = n * 256 + v as i64,
            _ => return -1,
        }
    }
    n
}

fn lower_contains(h: &[u8], n: &[u8]) -> bool {
    memchr::memmem::find(&h.to_ascii_lowercase(), &n.to_ascii_lowercase()).is_some()
}

fn eval_func(f: &Func, args: &[Cond], m: MsgRef<'_>, env: &RenderEnv) -> Val {
    let mut a = args.iter().map(|x| eval(x, m, env));
    let mut next = || a.next().unwrap_or(Val::Str(Vec::new()));
    match f {
        Func::Strlen => Val::Num(as_bytes(&next()).len() as i64),
        Func::Getenv => {
            let name = String::from_utf8_lossy(&to_bytes(next())).into_owned();
            Val::Str(
                std::env::var_os(name)
                    .map(std::os::unix::ffi::OsStringExt::into_vec)
                    .unwrap_or_default(),
            )
        }
        Func::Tolower => Val::Str(to_bytes(next()).to_ascii_lowercase()),
        Func::Cstr => Val::Str(to_bytes(next())),
        Func::Cnum => Val::Num(to_num(&next())),
        Func::Substring => {
            let s = to_bytes(next());
            let len = s.len() as i64;
            let mut start = to_num(&next());
            let mut sub = to_num(&next());
            if start >= len {
                start = 0;
                sub = 0;
            } else {
                if sub < 0 {
                    sub = (len + sub).max(0);
                }
                sub = sub.min(len - start);
            }
            let start = start.max(0) as usize;
            Val::Str(
                s.get(start..start + sub.max(0) as usize)
                    .unwrap_or(&[])
                    .to_vec(),
            )
        }
        Func::Ltrim => {
            let s = to_bytes(next());
            let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
            let i = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
            Val::Str(s[i..].to_vec())
        }
        Func::Rtrim => {
            let s = to_bytes(next());
            let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
            let end = s.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
            Val::Str(s[..end].to_vec())
        }
        Func::ReMatch(re) => Val::Num(re.is_match(&to_bytes(next())) as i64),
        Func::Field => {
            let s = to_bytes(next());
            let d = next();
            let n = to_num(&next());
            Val::Str(field(&s, &d, n))
        }
        Func::Replace => {
            let s = to_bytes(next());
            let what = to_bytes(next());
            let with = to_bytes(next());
            if what.is_empty() {
                return Val::Str(s);
            }
            let mut out = Vec::with_capacity(s.len());
            let mut rest: &[u8] = &s;
            while let Some(p) = memchr::memmem::find(rest, &what) {
                out.extend_from_slice(&rest[..p]);
                out.extend_from_slice(&with);
                rest = &rest[p + what.len()..];
            }
            out.extend_from_slice(rest);
            Val::Str(out)
        }
        Func::Ipv42num => Val::Num(ipv42num(&to_bytes(next()))),
        Func::Num2ipv4 => {
            let n = to_num(&next());
            if !(0..=0xffff_ffff).contains(&n) {
                Val::Str(b"-1".to_vec())
            } else {
                Val::Str(
                    format!(
                        "{}.{}.{}.{}",
                        n >> 24,
                        (n >> 16) & 255,
                        (n >> 8) & 255,
                        n & 255
                    )
                    .into_bytes(),
                )
            }
        }
        Func::Int2hex => Val::Str(format!("{:x}", to_num(&next())).into_bytes()),
        Func::Random => {
            let max = to_num(&next());
            if max <= 0 {
                return Val::Num(0);
            }
            let mut b = [0u8; 8];
            let r = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
                .map(|()| u64::from_le_bytes(b))
                .unwrap_or(0);
            Val::Num((r % max as u64) as i64)
        }
        Func::Prifilt(mask) => {
            let fac = (m.m.facility as usize).min(mask.len() - 1);
            Val::Num((mask[fac] & (1 << m.m.severity) != 0) as i64)
        }
        Func::Zero => Val::Num(0),
    }
}

/// A constant array on the right of a comparison: membership / any-match (evalStrArrayCmp).
fn array_cmp(op: BinOp, l: &[u8], items: &[Vec<u8>]) -> bool {
    let any = |f: &dyn Fn(&[u8]) -> bool| items.iter().any(|i| f(i));
    match op {
        BinOp::Eq => any(&|i| l == i),
        BinOp::Ne => !any(&|i| l == i),
        BinOp::Contains => any(&|i| memchr::memmem::find(l, i).is_some()),
        BinOp::ContainsI => any(&|i| lower_contains(l, i)),
        BinOp::StartsWith => any(&|i| l.starts_with(i)),
        BinOp::StartsWithI => any(&|i| l.to_ascii_lowercase().starts_with(&i.to_ascii_lowercase())),
        _ => false,
    }
}

fn eval(c: &Cond, m: MsgRef<'_>, env: &RenderEnv) -> Val {
    match c {
        Cond::Num(n) => Val::Num(*n),
        Cond::Str(s) => Val::Str(s.clone()),
        Cond::Array(a) => Val::Str(a.first().cloned().unwrap_or_default()),
        Cond::Prop(id) => {
            let mut b = Vec::new();
            write_prop(m, *id, env, &mut b);
            Val::Str(b)
        }
        Cond::Not(x) => Val::Num(!truthy(&eval(x, m, env)) as i64),
        Cond::Neg(x) => Val::Num(to_num(&eval(x, m, env)).wrapping_neg()),
        Cond::Func(f, args) => eval_func(f, args, m, env),
        Cond::Bin(op, l, r) => {
            let lv = eval(l, m, env);
            match op {
                BinOp::And => return Val::Num((truthy(&lv) && truthy(&eval(r, m, env))) as i64),
                BinOp::Or => return Val::Num((truthy(&lv) || truthy(&eval(r, m, env))) as i64),
                _ => {}
            }
            if let Cond::Array(items) = &**r {
                return Val::Num(array_cmp(*op, &as_bytes(&lv), items) as i64);
            }
            let rv = eval(r, m, env);
            use std::cmp::Ordering::*;
            let b = |x: bool| Val::Num(x as i64);
            match op {
                BinOp::Eq => b(equal(&lv, &rv)),
                BinOp::Ne => b(!equal(&lv, &rv)),
                BinOp::Lt => b(order(&lv, &rv) == Less),
                BinOp::Le => b(order(&lv, &rv) != Greater),
                BinOp::Gt => b(order(&lv, &rv) == Greater),
                BinOp::Ge => b(order(&lv, &rv) != Less),
                BinOp::Contains => {
                    b(memchr::memmem::find(&as_bytes(&lv), &as_bytes(&rv)).is_some())
                }
                BinOp::ContainsI => b(lower_contains(&as_bytes(&lv), &as_bytes(&rv))),
                BinOp::StartsWith => b(as_bytes(&lv).starts_with(&as_bytes(&rv))),
                BinOp::StartsWithI => b(as_bytes(&lv)
                    .to_ascii_lowercase()
                    .starts_with(&as_bytes(&rv).to_ascii_lowercase())),
                BinOp::Concat => {
                    let mut a = to_bytes(lv);
                    a.extend_from_slice(&as_bytes(&rv));
                    Val::Str(a)
                }
                BinOp::Add => Val::Num(to_num(&lv).wrapping_add(to_num(&rv))),
                BinOp::Sub => Val::Num(to_num(&lv).wrapping_sub(to_num(&rv))),
                BinOp::Mul => Val::Num(to_num(&lv).wrapping_mul(to_num(&rv))),
                BinOp::Div => match to_num(&rv) {
                    0 => Val::Num(0),
                    d => Val::Num(to_num(&lv).wrapping_div(d)),
                },
                BinOp::Mod => match to_num(&rv) {
                    0 => Val::Num(0),
                    d => Val::Num(to_num(&lv).wrapping_rem(d)),
                },
                BinOp::And | BinOp::Or => Val::Num(0),
            }
        }
    }
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
            std::cmp::Ordering::Greater,
            "relational: numeric when both convert"
        );
        assert_eq!(order(&s("a10"), &s("a9")), std::cmp::Ordering::Less);
        assert!(truthy(&s("12abc")) && !truthy(&s("abc")) && !truthy(&s("")));
        assert_eq!(field(b"a,b,c", &Val::Num(44), 2), b"b");
        assert_eq!(field(b"a,b,c", &Val::Num(44), 4), b"***FIELD NOT FOUND***");
        assert_eq!(field(b"a--b--c", &s("--"), 3), b"c");
        assert_eq!(ipv42num(b"10.0.0.1"), 167772161);
        assert_eq!(ipv42num(b"10.0.0"), -1);
    }

    #[test]
    fn bre_translation() {
        assert_eq!(bre_to_ere(r"a\(b\)c+"), r"a(b)c\+");
        assert_eq!(bre_to_ere(r"x\{2\}"), r"x{2}");
        assert!(Regex::new(&bre_to_ere(r"^\[UFW "))
            .unwrap()
            .is_match(b"[UFW BLOCK]"));
    }
}
