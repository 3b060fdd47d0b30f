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
    Prop(PropId),
    Not(Box<Cond>),
    Neg(Box<Cond>),
    Bin(BinOp, Box<Cond>, Box<Cond>),
    Func(Func, Vec<Cond>),
}

#[derive(Debug)]
pub enum Func {
    Strlen,
    Tolower,
    Cstr,
    Cnum,
    ReMatch(Regex),
    Prifilt(crate::filter::selector::Mask),
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
                ("tolower", [_]) => Func::Tolower,
                ("cstr", [_]) => Func::Cstr,
                ("cnum", [_]) => Func::Cnum,
                ("re_match", [_, Expr::Str(re)]) => Func::ReMatch(compile_regex(re)?),
                ("re_match_i", [_, Expr::Str(re)]) => {
                    Func::ReMatch(compile_regex(&format!("(?i){re}"))?)
                }
                ("prifilt", [Expr::Str(sel)]) => {
                    Func::Prifilt(crate::filter::selector::decode(sel)?)
                }
                _ => {
                    return Err(format!(
                        "function {name}() arrives with issue #5 (rules engine)"
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
        Expr::Array(_) | Expr::Exists(_) => {
            return Err("arrays and exists() arrive with issue #5 (rules engine)".into())
        }
    })
}

/// A RainerScript value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(i64),
    Str(Vec<u8>),
}

fn as_num(v: &Val) -> Option<i64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.trim().parse().ok()),
    }
}

fn to_num(v: &Val) -> i64 {
    as_num(v).unwrap_or(0)
}

fn to_bytes(v: Val) -> Vec<u8> {
    match v {
        Val::Num(n) => n.to_string().into_bytes(),
        Val::Str(s) => s,
    }
}

fn truthy(v: &Val) -> bool {
    match v {
        Val::Num(n) => *n != 0,
        Val::Str(s) => match as_num(v) {
            Some(n) => n != 0,
            None => !s.is_empty(),
        },
    }
}

fn eval(c: &Cond, m: MsgRef<'_>, env: &RenderEnv) -> Val {
    match c {
        Cond::Num(n) => Val::Num(*n),
        Cond::Str(s) => Val::Str(s.clone()),
        Cond::Prop(id) => {
            let mut b = Vec::new();
            write_prop(m, *id, env, &mut b);
            Val::Str(b)
        }
        Cond::Not(x) => Val::Num(!truthy(&eval(x, m, env)) as i64),
        Cond::Neg(x) => Val::Num(-to_num(&eval(x, m, env))),
        Cond::Func(f, args) => {
            let a = args.first().map(|x| eval(x, m, env));
            match f {
                Func::Strlen => Val::Num(a.map_or(0, |v| to_bytes(v).len() as i64)),
                Func::Tolower => Val::Str(a.map(to_bytes).unwrap_or_default().to_ascii_lowercase()),
                Func::Cstr => Val::Str(a.map(to_bytes).unwrap_or_default()),
                Func::Cnum => Val::Num(a.as_ref().map_or(0, to_num)),
                Func::ReMatch(re) => {
                    Val::Num(re.is_match(&a.map(to_bytes).unwrap_or_default()) as i64)
                }
                Func::Prifilt(mask) => {
                    let fac = (m.m.facility as usize).min(mask.len() - 1);
                    Val::Num((mask[fac] & (1 << m.m.severity) != 0) as i64)
                }
            }
        }
        Cond::Bin(op, l, r) => {
            let lv = eval(l, m, env);
            match op {
                BinOp::And => return Val::Num((truthy(&lv) && truthy(&eval(r, m, env))) as i64),
                BinOp::Or => return Val::Num((truthy(&lv) || truthy(&eval(r, m, env))) as i64),
                _ => {}
            }
            let rv = eval(r, m, env);
            let cmp = || -> std::cmp::Ordering {
                match (as_num(&lv), as_num(&rv)) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    _ => to_bytes(lv.clone()).cmp(&to_bytes(rv.clone())),
                }
            };
            use std::cmp::Ordering::*;
            match op {
                BinOp::Eq => Val::Num((cmp() == Equal) as i64),
                BinOp::Ne => Val::Num((cmp() != Equal) as i64),
                BinOp::Lt => Val::Num((cmp() == Less) as i64),
                BinOp::Le => Val::Num((cmp() != Greater) as i64),
                BinOp::Gt => Val::Num((cmp() == Greater) as i64),
                BinOp::Ge => Val::Num((cmp() != Less) as i64),
                BinOp::Contains => {
                    Val::Num(memchr::memmem::find(&to_bytes(lv), &to_bytes(rv)).is_some() as i64)
                }
                BinOp::ContainsI => {
                    let h = to_bytes(lv).to_ascii_lowercase();
                    let n = to_bytes(rv).to_ascii_lowercase();
                    Val::Num(memchr::memmem::find(&h, &n).is_some() as i64)
                }
                BinOp::StartsWith => Val::Num(to_bytes(lv).starts_with(&to_bytes(rv)) as i64),
                BinOp::StartsWithI => {
                    let h = to_bytes(lv).to_ascii_lowercase();
                    Val::Num(h.starts_with(&to_bytes(rv).to_ascii_lowercase()) as i64)
                }
                BinOp::Concat => {
                    let mut a = to_bytes(lv);
                    a.extend_from_slice(&to_bytes(rv));
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
    fn bre_translation() {
        assert_eq!(bre_to_ere(r"a\(b\)c+"), r"a(b)c\+");
        assert_eq!(bre_to_ere(r"x\{2\}"), r"x{2}");
        assert!(Regex::new(&bre_to_ere(r"^\[UFW "))
            .unwrap()
            .is_match(b"[UFW BLOCK]"));
    }
}
