//! Rulesets compiled for execution: selector masks, property filters with their regexes
//! compiled once, RainerScript expressions and statements (`if`, `set`/`reset`/`unset`,
//! `foreach`, `call`, `call_indirect`, `stop`), actions by index. Running a ruleset for one
//! message calls back for each action as its statement is reached, with the message's
//! variables as they are at that point (rsyslog renders an action's template right then).

use std::sync::Arc;

use regex::bytes::Regex;

use crate::config::model::{Config, Filter, PropOp, Statement};
use crate::config::syntax::{BinOp, Expr};
use crate::filter::funcs;
use crate::filter::lookup::LookupTables;
use crate::filter::timefn;
use crate::filter::value::{equal, order, Val};
use crate::json::Json;
use crate::message::MsgRef;
use crate::template::posix_regex::{self, Flavor};
use crate::template::props::{
    msg_programname, prop_id, prop_slice, write_prop, PropId, FACILITY_NAMES, SEVERITY_NAMES,
};
use crate::template::{RenderEnv, Template, Templates};
use crate::vars::{VarRef, Vars};

/// One compiled statement.
#[derive(Debug)]
pub enum Exec {
    Pri {
        mask: crate::filter::selector::Mask,
        body: Vec<Exec>,
    },
    Prop {
        prop: PropId,
        var: Option<VarRef>,
        negate: bool,
        op: PropOp,
        value: Vec<u8>,
        regex: Option<Regex>,
        finder: Option<Box<memchr::memmem::Finder<'static>>>,
        body: Vec<Exec>,
    },
    If {
        cond: Test,
        then_body: Vec<Exec>,
        else_body: Vec<Exec>,
    },
    Action(usize),
    Stop,
    Call(usize),
    Continue,
    Set {
        var: VarRef,
        expr: Cond,
        force: bool,
    },
    Unset(VarRef),
    Foreach {
        var: VarRef,
        iter: Cond,
        body: Vec<Exec>,
    },
    CallIndirect(Cond),
    ReloadLookup {
        table: usize,
        stub: Option<Vec<u8>>,
    },
}

/// A compiled RainerScript expression.
#[derive(Debug)]
pub enum Cond {
    Num(i64),
    Str(Vec<u8>),
    /// A constant string array (right side of ==, !=, contains, startswith).
    Array(Vec<Vec<u8>>),
    Prop(PropId),
    Var(VarRef),
    Exists(VarRef),
    Not(Box<Cond>),
    Neg(Box<Cond>),
    Bin(BinOp, Box<Cond>, Box<Cond>),
    Func(Func, Vec<Cond>),
    /// A condition that depends only on facility and severity, folded at compile time into
    /// a selector mask (rsyslog's optimizer does the same for such comparisons).
    Mask(crate::filter::selector::Mask),
    /// `PROP op "constant"` for the string operators: compared without building values.
    PropStr(PropId, Box<StrTest>),
}

/// An `if` condition compiled for a yes/no answer: the common shapes (selector masks,
/// property-vs-constant tests, regexes on a property, and/or/not of those) are evaluated
/// without building values; anything else is the truthiness of a general expression.
#[derive(Debug)]
pub enum Test {
    Const(bool),
    Mask(crate::filter::selector::Mask),
    PropStr(PropId, Box<StrTest>),
    PropRe(PropId, Regex),
    And(Box<Test>, Box<Test>),
    Or(Box<Test>, Box<Test>),
    Not(Box<Test>),
    /// A string computed from a property without building a value (`field()`,
    /// `substring()`, `tolower()`) against a constant string.
    SrcStr(Box<StrSrc>, Box<StrTest>),
    /// `strlen()` or `cnum()` of such a string against a constant number.
    SrcNum(Box<NumSrc>, BinOp, i64),
    /// A property string against a constant array.
    SrcArr(Box<StrSrc>, BinOp, Vec<Vec<u8>>),
    Expr(Cond),
}

/// A string an `if` test computes from one message property with constant arguments,
/// borrowed from the message (or the scratch buffer) instead of built as a value.
#[derive(Debug)]
pub enum StrSrc {
    Prop(PropId),
    Field(PropId, Val, i64),
    Substring(PropId, i64, i64),
    Tolower(PropId),
}

impl StrSrc {
    fn from_cond(c: &Cond) -> Option<StrSrc> {
        let konst = |c: &Cond| match c {
            Cond::Num(n) => Some(Val::Num(*n)),
            Cond::Neg(x) => match **x {
                Cond::Num(n) => Some(Val::Num(n.wrapping_neg())),
                _ => None,
            },
            Cond::Str(s) => Some(Val::Str(s.clone())),
            _ => None,
        };
        Some(match c {
            Cond::Prop(id) => StrSrc::Prop(*id),
            Cond::Func(Func::Field, a) => match &a[..] {
                [Cond::Prop(id), d, n] => StrSrc::Field(*id, konst(d)?, konst(n)?.to_num()),
                _ => return None,
            },
            Cond::Func(Func::Substring, a) => match &a[..] {
                [Cond::Prop(id), from, len] => {
                    StrSrc::Substring(*id, konst(from)?.to_num(), konst(len)?.to_num())
                }
                _ => return None,
            },
            Cond::Func(Func::Tolower, a) => match &a[..] {
                [Cond::Prop(id)] => StrSrc::Tolower(*id),
                _ => return None,
            },
            _ => return None,
        })
    }

    /// The string, as `eval` would produce it.
    fn get<'c>(&self, cx: &'c mut Ctx<'_, '_>, vars: &Vars) -> &'c [u8] {
        match self {
            StrSrc::Prop(id) => cx.prop(vars, *id),
            StrSrc::Field(id, d, n) => funcs::field_slice(cx.prop(vars, *id), d, *n),
            StrSrc::Substring(id, from, len) => {
                funcs::substring_slice(cx.prop(vars, *id), *from, *len)
            }
            StrSrc::Tolower(id) => {
                let v = cx.render_prop(vars, *id);
                v.make_ascii_lowercase();
                v
            }
        }
    }
}

/// A number an `if` test computes from a [`StrSrc`].
#[derive(Debug)]
pub enum NumSrc {
    Strlen(StrSrc),
    Cnum(StrSrc),
}

impl NumSrc {
    fn get(&self, cx: &mut Ctx<'_, '_>, vars: &Vars) -> i64 {
        match self {
            NumSrc::Strlen(s) => s.get(cx, vars).len() as i64,
            NumSrc::Cnum(s) => crate::filter::value::str2num(s.get(cx, vars)).0,
        }
    }
}

impl Test {
    fn from_cond(c: Cond) -> Test {
        match c {
            Cond::Num(n) => Test::Const(n != 0),
            Cond::Mask(m) => Test::Mask(m),
            Cond::PropStr(id, t) => Test::PropStr(id, t),
            Cond::Bin(BinOp::And, l, r) => {
                Test::And(Box::new(Test::from_cond(*l)), Box::new(Test::from_cond(*r)))
            }
            Cond::Bin(BinOp::Or, l, r) => {
                Test::Or(Box::new(Test::from_cond(*l)), Box::new(Test::from_cond(*r)))
            }
            Cond::Not(x) => Test::Not(Box::new(Test::from_cond(*x))),
            Cond::Func(Func::ReMatch(re), args) if matches!(args.first(), Some(Cond::Prop(_))) => {
                match args.first() {
                    Some(Cond::Prop(id)) => Test::PropRe(*id, re),
                    _ => Test::Expr(Cond::Func(Func::ReMatch(re), args)),
                }
            }
            Cond::Bin(op, l, r) => match Test::bin(op, &l, &r) {
                Some(t) => t,
                None => Test::Expr(Cond::Bin(op, l, r)),
            },
            other => Test::Expr(other),
        }
    }

    /// `l op r` for the shapes [`StrSrc`] and [`NumSrc`] cover, with the result `eval`
    /// and `bin` give (a string compared with a string; two numbers compared).
    fn bin(op: BinOp, l: &Cond, r: &Cond) -> Option<Test> {
        use BinOp::*;
        match r {
            // `PROP op "x"` already is a `PropStr`; `contains_i` needs a changeable copy
            Cond::Str(v)
                if !matches!(l, Cond::Prop(_))
                    && matches!(op, Eq | Ne | Contains | StartsWith | StartsWithI) =>
            {
                Some(Test::SrcStr(
                    Box::new(StrSrc::from_cond(l)?),
                    Box::new(StrTest::new(op, v.clone())),
                ))
            }
            Cond::Num(k) if matches!(op, Eq | Ne | Lt | Le | Gt | Ge) => {
                let src = match l {
                    Cond::Func(Func::Strlen, a) if a.len() == 1 => {
                        NumSrc::Strlen(StrSrc::from_cond(&a[0])?)
                    }
                    Cond::Func(Func::Cnum, a) if a.len() == 1 => {
                        NumSrc::Cnum(StrSrc::from_cond(&a[0])?)
                    }
                    _ => return None,
                };
                Some(Test::SrcNum(Box::new(src), op, *k))
            }
            Cond::Array(items) => Some(Test::SrcArr(
                Box::new(StrSrc::from_cond(l)?),
                op,
                items.clone(),
            )),
            _ => None,
        }
    }
}

/// Whether the message's facility and severity are in a selector mask.
#[inline]
fn mask_hit(mask: &crate::filter::selector::Mask, m: MsgRef<'_>) -> bool {
    let fac = (m.m.facility as usize).min(mask.len() - 1);
    mask[fac] & (1 << m.m.severity) != 0
}

/// The leaves rules use most (selector masks, a property against a string) tested in
/// place, without a call; anything else through [`test`].
#[inline(always)]
fn test_inline(rs: &Rulesets, t: &Test, cx: &mut Ctx<'_, '_>, st: &mut State) -> bool {
    match t {
        Test::Mask(mask) => mask_hit(mask, cx.m),
        Test::PropStr(id, t) => t.test_prop(cx, &st.vars, *id),
        _ => test(rs, t, cx, st),
    }
}

fn test(rs: &Rulesets, t: &Test, cx: &mut Ctx<'_, '_>, st: &mut State) -> bool {
    match t {
        Test::Const(b) => *b,
        Test::Mask(mask) => mask_hit(mask, cx.m),
        Test::PropStr(id, t) => t.test_prop(cx, &st.vars, *id),
        Test::PropRe(id, re) => re.is_match(cx.prop(&st.vars, *id)),
        Test::And(a, b) => test_inline(rs, a, cx, st) && test_inline(rs, b, cx, st),
        Test::Or(a, b) => test_inline(rs, a, cx, st) || test_inline(rs, b, cx, st),
        Test::Not(a) => !test_inline(rs, a, cx, st),
        Test::SrcStr(src, t) => t.test_ro(src.get(cx, &st.vars)),
        Test::SrcNum(src, op, k) => {
            let x = src.get(cx, &st.vars);
            match op {
                BinOp::Eq => x == *k,
                BinOp::Ne => x != *k,
                BinOp::Lt => x < *k,
                BinOp::Le => x <= *k,
                BinOp::Gt => x > *k,
                _ => x >= *k,
            }
        }
        Test::SrcArr(src, op, items) => funcs::array_cmp(*op, src.get(cx, &st.vars), items),
        Test::Expr(c) => {
            let v = eval(rs, c, cx, st);
            let t = v.truthy();
            st.give(v);
            t
        }
    }
}

/// A string operator against a constant, prepared at compile time (the substring searcher
/// built once; `contains_i`'s constant lowercased once).
#[derive(Debug)]
pub struct StrTest {
    op: BinOp,
    value: Vec<u8>,
    finder: Option<memchr::memmem::Finder<'static>>,
}

impl StrTest {
    fn new(op: BinOp, value: Vec<u8>) -> StrTest {
        let value = if op == BinOp::ContainsI {
            value.to_ascii_lowercase()
        } else {
            value
        };
        let finder = matches!(op, BinOp::Contains | BinOp::ContainsI)
            .then(|| memchr::memmem::Finder::new(&value).into_owned());
        StrTest { op, value, finder }
    }

    /// The test on a message property (borrowed where it can be; `contains_i` lowercases a
    /// rendered copy).
    #[inline]
    fn test_prop(&self, cx: &mut Ctx<'_, '_>, vars: &Vars, id: PropId) -> bool {
        if self.op == BinOp::ContainsI {
            self.test(cx.render_prop(vars, id))
        } else {
            self.test_ro(cx.prop(vars, id))
        }
    }

    /// Any operator but `contains_i`, on a borrowed value.
    #[inline]
    fn test_ro(&self, l: &[u8]) -> bool {
        match &self.finder {
            Some(f) => f.find(l).is_some(),
            None => str_op(self.op, l, &self.value),
        }
    }

    /// `l` may be changed (lowercased for `contains_i`).
    fn test(&self, l: &mut [u8]) -> bool {
        match (&self.finder, self.op) {
            (Some(f), BinOp::ContainsI) => {
                l.make_ascii_lowercase();
                f.find(l).is_some()
            }
            (Some(f), _) => f.find(l).is_some(),
            _ => str_op(self.op, l, &self.value),
        }
    }
}

/// rsyslog 8.2302's functions, and the newer ones oxsyslog adds (toupper, cbool, split,
/// is_in_subnet, b64_decode).
#[derive(Debug)]
pub enum Func {
    Strlen,
    Getenv,
    Tolower,
    Toupper,
    Cstr,
    Cnum,
    Cbool,
    Substring,
    Ltrim,
    Rtrim,
    ReMatch(Regex),
    ReExtract(Regex),
    Field,
    Replace,
    Wrap,
    Ipv42num,
    Num2ipv4,
    Int2hex,
    Random,
    Prifilt(crate::filter::selector::Mask),
    ExecTemplate(Arc<Template>),
    ParseJson,
    GetProperty,
    Lookup(usize),
    FormatTime,
    ParseTime,
    IsTime,
    ScriptError,
    PreviousActionSuspended,
    Split,
    IsInSubnet,
    B64Decode,
}

/// Compiled rulesets, indexed as `Config::rulesets`, and the lookup tables they use.
#[derive(Debug)]
pub struct Rulesets {
    pub names: Vec<String>,
    pub bodies: Vec<Vec<Exec>>,
    pub lookups: LookupTables,
    /// Rulesets with their own queue: `call` hands them a copy of the message.
    pub queued: Vec<bool>,
}

/// What the rules thread keeps between messages: the variables (globals persist) and the
/// script error number (`script_error()`, per worker in rsyslog, reset per batch).
#[derive(Debug, Default)]
pub struct State {
    pub vars: Vars,
    pub script_error: i64,
    /// Whether the last action that ran was suspended (rsyslog's `bPrevWasSuspended`, per
    /// worker, reset per batch).
    pub prev_suspended: bool,
    /// Calls of rulesets that have their own queue, run after the calling message's rules:
    /// (ruleset, the message's variables when called).
    deferred: Vec<(usize, Option<Json>, Option<Json>)>,
    /// Calls of queued rulesets are handed to their queues by the caller (src/rsq/,
    /// `drain_deferred`) instead of running after the message's rules on this thread.
    pub forward_queued: bool,
    /// The `$.` variables the next message starts with (a copy from a `call`, src/rsq/).
    pub preset_local: Option<Json>,
    /// String buffers of evaluated values, reused so that evaluation does not allocate.
    pool: Vec<Vec<u8>>,
    /// `reload_lookup_table` statements reached, done after the message's rules.
    reloads: Vec<(usize, Option<Vec<u8>>)>,
}

impl State {
    /// With `forward_queued`: hands each call of a queued ruleset the last message made
    /// (ruleset, `$!` and `$.` variables at the call).
    pub fn drain_deferred(&mut self, mut f: impl FnMut(usize, Option<Json>, Option<Json>)) {
        for (r, msg, local) in self.deferred.drain(..) {
            f(r, msg, local);
        }
    }

    fn buf(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_default()
    }

    /// Takes a value's buffer back for reuse.
    #[inline]
    fn give(&mut self, v: Val) {
        if let Val::Str(mut b) = v {
            if self.pool.len() < 64 && b.capacity() <= 1 << 16 {
                b.clear();
                self.pool.push(b);
            }
        }
    }

    fn str_val(&mut self, s: &[u8]) -> Val {
        let mut b = self.buf();
        b.extend_from_slice(s);
        Val::Str(b)
    }
}

/// Outcome of running statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

struct Ctx<'a, 'm> {
    m: MsgRef<'m>,
    env: &'a RenderEnv,
    scratch: &'a mut Vec<u8>,
    /// `programname`, found once per message (the rules test it again and again).
    progname: Option<&'m [u8]>,
}

impl<'a, 'm> Ctx<'a, 'm> {
    fn new(m: MsgRef<'m>, env: &'a RenderEnv, scratch: &'a mut Vec<u8>) -> Ctx<'a, 'm> {
        Ctx {
            m,
            env,
            scratch,
            progname: None,
        }
    }

    /// A property's value: borrowed from the message when it is stored as it renders (or a
    /// constant name), else rendered into the scratch buffer.
    #[inline]
    fn prop(&mut self, vars: &Vars, id: PropId) -> &[u8] {
        // the properties rules test most, without a call
        match id {
            PropId::Msg => self.m.msg(),
            PropId::Hostname => crate::template::props::hostname(self.m),
            PropId::ProgramName => self.programname(),
            _ => self.prop_other(vars, id),
        }
    }

    fn prop_other(&mut self, vars: &Vars, id: PropId) -> &[u8] {
        match id {
            // the names as `append_value` writes them
            PropId::SyslogSeverityText => {
                return match SEVERITY_NAMES.get(self.m.m.severity as usize) {
                    Some(n) => n.as_bytes(),
                    None => b"invld",
                }
            }
            PropId::SyslogFacilityText => {
                return FACILITY_NAMES[(self.m.m.facility as usize).min(24)].as_bytes()
            }
            _ => {}
        }
        match prop_slice(self.m, id, self.env) {
            Some(v) => v,
            None => self.render_prop(vars, id),
        }
    }

    fn programname(&mut self) -> &'m [u8] {
        match self.progname {
            Some(p) => p,
            None => {
                let p = msg_programname(self.m, self.env.permit_slash_in_programname);
                self.progname = Some(p);
                p
            }
        }
    }

    /// A property rendered into the scratch buffer (a copy that may be changed).
    fn render_prop(&mut self, vars: &Vars, id: PropId) -> &mut [u8] {
        self.scratch.clear();
        write_prop(self.m.with_vars(vars), id, self.env, self.scratch);
        self.scratch
    }
}

struct Compiler<'a> {
    names: &'a [String],
    templates: Option<&'a Templates>,
    lookups: &'a LookupTables,
}

impl Rulesets {
    /// Compiles every ruleset; an unimplemented construct is an error naming it.
    pub fn compile(cfg: &Config, templates: &Templates) -> Result<Rulesets, String> {
        Self::compile_inner(cfg, Some(templates))
    }

    /// Compiles without templates (`exec_template()` is then an error): checks and tools.
    pub fn compile_without_templates(cfg: &Config) -> Result<Rulesets, String> {
        Self::compile_inner(cfg, None)
    }

    fn compile_inner(cfg: &Config, templates: Option<&Templates>) -> Result<Rulesets, String> {
        let names: Vec<String> = cfg.rulesets.iter().map(|r| r.name.clone()).collect();
        let lookups = LookupTables::load(cfg)?;
        let c = Compiler {
            names: &names,
            templates,
            lookups: &lookups,
        };
        let mut bodies = Vec::new();
        for r in &cfg.rulesets {
            bodies.push(c.body(&r.body)?);
        }
        let queued: Vec<bool> = cfg
            .rulesets
            .iter()
            .map(|r| {
                // rsyslog gives a ruleset a queue when any queue parameter is set
                // (ruleset.c `queueCnfParamsSet`); a Direct one runs in the caller
                r.params.0.iter().any(|s| {
                    s.name
                        .get(..6)
                        .is_some_and(|p| p.eq_ignore_ascii_case("queue."))
                }) && !r
                    .params
                    .str("queue.type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("direct"))
            })
            .collect();
        inline_action_calls(&mut bodies, &queued);
        Ok(Rulesets {
            names,
            bodies,
            lookups,
            queued,
        })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Runs ruleset `rs` for one message, calling `act` for each action that fires, with
    /// the message as the action must see it (variables included).
    pub fn run(
        &mut self,
        rs: usize,
        m: MsgRef<'_>,
        env: &RenderEnv,
        st: &mut State,
        scratch: &mut Vec<u8>,
        act: &mut impl FnMut(usize, MsgRef<'_>, bool) -> Option<bool>,
    ) {
        st.vars.begin_message(m.m.json.as_deref());
        if let Some(l) = st.preset_local.take() {
            st.vars.local = Some(l);
        }
        let mut cx = Ctx::new(m, env, scratch);
        if let Some(body) = self.bodies.get(rs) {
            let _ = exec(self, body, &mut cx, st, act, 0);
        }
        if st.forward_queued {
            // src/rsq/ takes the calls (drain_deferred)
            return self.reload_tables(st);
        }
        // a queued ruleset works on its own copy of the message (rsyslog's MsgDup + its
        // queue): its `stop` and its variable changes do not reach the caller
        let mut i = 0;
        while i < st.deferred.len() && i < 1000 {
            let (r, msg, local) = std::mem::take(&mut st.deferred[i]);
            st.vars.msg = msg;
            st.vars.local = local;
            if let Some(body) = self.bodies.get(r) {
                let _ = exec(self, body, &mut cx, st, act, 1);
            }
            i += 1;
        }
        st.deferred.clear();
        self.reload_tables(st);
    }

    /// `reload_lookup_table` statements reached by the message.
    fn reload_tables(&mut self, st: &mut State) {
        for (t, stub) in std::mem::take(&mut st.reloads) {
            if let Err(e) = self.lookups.reload_with_stub(t, stub.as_deref()) {
                crate::engine::report_error(e.to_string());
            }
        }
    }

    /// SIGHUP: reloads the lookup tables that ask for it; returns the errors.
    pub fn hup(&mut self) -> Vec<String> {
        self.lookups.hup()
    }
}

fn exec(
    rs: &Rulesets,
    body: &[Exec],
    cx: &mut Ctx<'_, '_>,
    st: &mut State,
    act: &mut impl FnMut(usize, MsgRef<'_>, bool) -> Option<bool>,
    depth: usize,
) -> Flow {
    for s in body {
        let flow = match s {
            Exec::Pri { mask, body } => {
                if mask_hit(mask, cx.m) {
                    exec(rs, body, cx, st, act, depth)
                } else {
                    Flow::Go
                }
            }
            Exec::Prop {
                prop,
                var,
                negate,
                op,
                value,
                regex,
                finder,
                body,
            } => {
                let v: &[u8] = match var {
                    Some(v) => {
                        cx.scratch.clear();
                        st.vars.render(v, cx.scratch);
                        cx.scratch
                    }
                    None => cx.prop(&st.vars, *prop),
                };
                let hit = match finder {
                    Some(f) => f.find(v).is_some(),
                    None => prop_test(v, *op, value, regex.as_ref()),
                } != *negate;
                if hit {
                    exec(rs, body, cx, st, act, depth)
                } else {
                    Flow::Go
                }
            }
            Exec::If {
                cond,
                then_body,
                else_body,
            } => {
                // most `if`s have no `else` and most tests fail: no call for an empty body
                let body = if test_inline(rs, cond, cx, st) {
                    then_body
                } else {
                    else_body
                };
                if body.is_empty() {
                    Flow::Go
                } else {
                    exec(rs, body, cx, st, act, depth)
                }
            }
            Exec::Action(i) => {
                if let Some(susp) = act(*i, cx.m.with_vars(&st.vars), st.prev_suspended) {
                    st.prev_suspended = susp;
                }
                Flow::Go
            }
            Exec::Stop => Flow::Stop,
            Exec::Continue => Flow::Go,
            Exec::Call(r) => call(rs, *r, cx, st, act, depth),
            Exec::CallIndirect(e) => {
                let name = eval(rs, e, cx, st).into_bytes();
                match rs
                    .names
                    .iter()
                    .position(|n| n.as_bytes() == name.as_slice())
                {
                    Some(r) => call(rs, r, cx, st, act, depth),
                    None => {
                        crate::engine::report_error(format!(
                            "error: call_indirect: ruleset '{}' cannot be found, treating as NOP",
                            String::from_utf8_lossy(&name)
                        ));
                        Flow::Go
                    }
                }
            }
            Exec::Set { var, expr, force } => {
                let v = eval(rs, expr, cx, st);
                st.vars.set(var, v.into_json(), *force);
                Flow::Go
            }
            Exec::Unset(var) => {
                st.vars.unset(var);
                Flow::Go
            }
            Exec::Foreach { var, iter, body } => foreach(rs, var, iter, body, cx, st, act, depth),
            Exec::ReloadLookup { table, stub } => {
                st.reloads.push((*table, stub.clone()));
                Flow::Go
            }
        };
        if flow == Flow::Stop {
            return Flow::Stop;
        }
    }
    Flow::Go
}

/// `call R` where R is one action runs that action in place:
/// the same as entering R, without a call and a statement loop per message (the common
/// "one output per ruleset" layout). Only without ruleset queues.
fn inline_action_calls(bodies: &mut [Vec<Exec>], queued: &[bool]) {
    // with ruleset queues, src/rsq/ places each action on a thread by following the calls
    if queued.iter().any(|q| *q) {
        return;
    }
    let single: Vec<Option<usize>> = bodies
        .iter()
        .map(|b| match b[..] {
            [Exec::Action(i)] => Some(i),
            _ => None,
        })
        .collect();
    fn walk(body: &mut [Exec], single: &[Option<usize>]) {
        for s in body {
            match s {
                Exec::Call(r) => {
                    if let Some(Some(i)) = single.get(*r) {
                        *s = Exec::Action(*i);
                    }
                }
                Exec::Pri { body, .. } | Exec::Prop { body, .. } | Exec::Foreach { body, .. } => {
                    walk(body, single)
                }
                Exec::If {
                    then_body,
                    else_body,
                    ..
                } => {
                    walk(then_body, single);
                    walk(else_body, single);
                }
                _ => {}
            }
        }
    }
    for b in bodies.iter_mut() {
        walk(b, &single);
    }
}

fn call(
    rs: &Rulesets,
    r: usize,
    cx: &mut Ctx<'_, '_>,
    st: &mut State,
    act: &mut impl FnMut(usize, MsgRef<'_>, bool) -> Option<bool>,
    depth: usize,
) -> Flow {
    if depth > 100 {
        return Flow::Go;
    }
    if rs.queued.get(r).copied().unwrap_or(false) {
        st.deferred
            .push((r, st.vars.msg.clone(), st.vars.local.clone()));
        return Flow::Go;
    }
    match rs.bodies.get(r) {
        Some(b) => exec(rs, b, cx, st, act, depth + 1),
        None => Flow::Go,
    }
}

/// `foreach`: each array element, or each object member as `{"key": …, "value": …}`, is
/// given to the loop variable (`reset`), then the body runs; the variable is unset after
/// the loop. 8.2302 ends the whole script when that final unset finds nothing (the body
/// unset the variable): reproduced.
#[allow(clippy::too_many_arguments)]
fn foreach(
    rs: &Rulesets,
    var: &VarRef,
    iter: &Cond,
    body: &[Exec],
    cx: &mut Ctx<'_, '_>,
    st: &mut State,
    act: &mut impl FnMut(usize, MsgRef<'_>, bool) -> Option<bool>,
    depth: usize,
) -> Flow {
    let items: Vec<Json> = match eval(rs, iter, cx, st) {
        Val::Json(Json::Arr(a)) if !a.is_empty() => a,
        Val::Json(Json::Obj(o)) if !o.is_empty() => o
            .iter()
            .map(|(k, v)| {
                let mut e = crate::json::Obj::new();
                e.insert(b"key", Json::Str(k.to_vec()));
                e.insert(b"value", v.clone());
                Json::Obj(e)
            })
            .collect(),
        _ => return Flow::Go,
    };
    for item in items {
        st.vars.set(var, item.deep_copy(), true);
        if exec(rs, body, cx, st, act, depth) == Flow::Stop {
            return Flow::Stop;
        }
    }
    if st.vars.exists(var) {
        st.vars.unset(var);
        Flow::Go
    } else {
        Flow::Stop
    }
}

/// `a == b` for the short strings rules compare (program names, host names, tags) without
/// a call to `memcmp`: up to 16 bytes as two overlapping words.
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let half = |s: &[u8], at: usize| -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

fn prop_test(v: &[u8], op: PropOp, value: &[u8], re: Option<&Regex>) -> bool {
    match op {
        PropOp::Contains => memchr::memmem::find(v, value).is_some(),
        PropOp::IsEqual => bytes_eq(v, value),
        PropOp::StartsWith => v.len() >= value.len() && bytes_eq(&v[..value.len()], value),
        PropOp::EndsWith => v.ends_with(value),
        PropOp::IsEmpty => v.is_empty(),
        PropOp::Regex | PropOp::EreRegex => re.is_some_and(|r| r.is_match(v)),
    }
}

/// Translates a POSIX basic regular expression into the extended syntax (property filters).
pub fn bre_to_ere(bre: &str) -> String {
    funcs::bre_to_ere(bre)
}

fn compile_regex(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("cannot compile regex '{re}': {e}"))
}

/// A function's regex: POSIX ERE as rsyslog's `regcomp(…, REG_EXTENDED)`.
fn compile_ere(re: &str, icase: bool) -> Result<Regex, String> {
    let t = posix_regex::translate(re.as_bytes(), Flavor::Extended)
        .map_err(|e| format!("cannot compile regex '{re}': {e}"))?;
    regex::bytes::RegexBuilder::new(&t)
        .unicode(false)
        .dot_matches_new_line(true)
        .case_insensitive(icase)
        .build()
        .map_err(|e| format!("cannot compile regex '{re}': {e}"))
}

impl Compiler<'_> {
    fn body(&self, body: &[Statement]) -> Result<Vec<Exec>, String> {
        body.iter().map(|s| self.stmt(s)).collect()
    }

    fn var(&self, name: &str) -> Result<VarRef, String> {
        VarRef::parse(name).ok_or_else(|| format!("'{name}' is not a variable"))
    }

    fn stmt(&self, s: &Statement) -> Result<Exec, String> {
        Ok(match s {
            Statement::Filter { filter, body } => {
                let body = self.body(body)?;
                match filter {
                    Filter::Pri { mask, .. } => Exec::Pri { mask: mask.0, body },
                    Filter::Prop {
                        prop,
                        negate,
                        op,
                        value,
                    } => {
                        let id = prop_id(prop).ok_or_else(|| {
                            format!("property '{prop}' cannot be used in a filter")
                        })?;
                        let regex = match op {
                            PropOp::Regex => Some(compile_regex(&funcs::bre_to_ere(value))?),
                            PropOp::EreRegex => Some(compile_regex(value)?),
                            _ => None,
                        };
                        Exec::Prop {
                            prop: id,
                            var: if id.is_variable() {
                                VarRef::parse(prop)
                            } else {
                                None
                            },
                            negate: *negate,
                            op: *op,
                            value: value.as_bytes().to_vec(),
                            regex,
                            finder: (*op == PropOp::Contains).then(|| {
                                Box::new(memchr::memmem::Finder::new(value.as_bytes()).into_owned())
                            }),
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
                cond: Test::from_cond(fold(self.expr(cond)?)),
                then_body: self.body(then_body)?,
                else_body: match else_body {
                    Some(e) => self.body(e)?,
                    None => Vec::new(),
                },
            },
            Statement::Action(i) => Exec::Action(*i),
            Statement::Stop => Exec::Stop,
            Statement::Continue => Exec::Continue,
            Statement::Call(n) => Exec::Call(
                self.names
                    .iter()
                    .position(|x| x == n)
                    .ok_or_else(|| format!("ruleset '{n}' not found"))?,
            ),
            Statement::CallIndirect(e) => Exec::CallIndirect(self.expr(e)?),
            Statement::Set { var, expr, reset } => Exec::Set {
                var: self.var(var)?,
                expr: self.expr(expr)?,
                force: *reset,
            },
            Statement::Unset { var } => Exec::Unset(self.var(var)?),
            Statement::Foreach { var, iter, body } => Exec::Foreach {
                var: self.var(var)?,
                iter: self.expr(iter)?,
                body: self.body(body)?,
            },
            Statement::ReloadLookupTable(args) => {
                let name = args.first().cloned().unwrap_or_default();
                Exec::ReloadLookup {
                    table: self.lookups.index(&name).ok_or_else(|| {
                        format!("reload_lookup_table: lookup table '{name}' not found")
                    })?,
                    stub: args.get(1).map(|s| s.as_bytes().to_vec()),
                }
            }
        })
    }

    fn expr(&self, e: &Expr) -> Result<Cond, String> {
        Ok(match e {
            Expr::Num(n) => Cond::Num(*n),
            Expr::Str(s) => Cond::Str(s.as_bytes().to_vec()),
            Expr::Var(v) => {
                if let Some(r) = VarRef::parse(v) {
                    Cond::Var(r)
                } else {
                    let name = if let Some(sys) = v.strip_prefix('$') {
                        format!("${sys}")
                    } else {
                        v.clone()
                    };
                    match prop_id(&name) {
                        Some(id) => Cond::Prop(id),
                        None => return Err(format!("unknown property '${v}'")),
                    }
                }
            }
            Expr::Exists(v) => Cond::Exists(self.var(v)?),
            Expr::Not(x) => Cond::Not(Box::new(self.expr(x)?)),
            Expr::Neg(x) => Cond::Neg(Box::new(self.expr(x)?)),
            Expr::Bin(op, l, r) => {
                let (l, r) = (self.expr(l)?, self.expr(r)?);
                match (op, l, r) {
                    (
                        BinOp::Eq
                        | BinOp::Ne
                        | BinOp::Contains
                        | BinOp::ContainsI
                        | BinOp::StartsWith
                        | BinOp::StartsWithI,
                        Cond::Prop(id),
                        Cond::Str(v),
                    ) => Cond::PropStr(id, Box::new(StrTest::new(*op, v))),
                    (op, Cond::Mask(a), Cond::Mask(b)) if matches!(op, BinOp::And | BinOp::Or) => {
                        let mut m = a;
                        for (x, y) in m.iter_mut().zip(b.iter()) {
                            *x = if *op == BinOp::And { *x & y } else { *x | y };
                        }
                        Cond::Mask(m)
                    }
                    (op, l, r) => Cond::Bin(*op, Box::new(l), Box::new(r)),
                }
            }
            Expr::Array(a) => Cond::Array(a.iter().map(|x| x.as_bytes().to_vec()).collect()),
            Expr::Func { name, args, loc } => self
                .func(name, args)
                .map_err(|e| format!("{loc}: error: {e}"))?,
        })
    }

    fn func(&self, name: &str, args: &[Expr]) -> Result<Cond, String> {
        let lit = |i: usize| match args.get(i) {
            Some(Expr::Str(s)) => Ok(s.as_str()),
            _ => Err(format!(
                "{name}(): parameter {} must be a constant string",
                i + 1
            )),
        };
        let f = match (name, args.len()) {
            ("strlen", 1) => Func::Strlen,
            ("getenv", 1) => Func::Getenv,
            ("tolower", 1) => Func::Tolower,
            ("toupper", 1) => Func::Toupper,
            ("cstr", 1) => Func::Cstr,
            ("cnum", 1) => Func::Cnum,
            ("cbool", 1) => Func::Cbool,
            ("substring", 3) => Func::Substring,
            ("ltrim", 1) => Func::Ltrim,
            ("rtrim", 1) => Func::Rtrim,
            ("re_match", 2) => Func::ReMatch(compile_ere(lit(1)?, false)?),
            ("re_match_i", 2) => Func::ReMatch(compile_ere(lit(1)?, true)?),
            ("re_extract", 5) => Func::ReExtract(compile_ere(lit(1)?, false)?),
            ("re_extract_i", 5) => Func::ReExtract(compile_ere(lit(1)?, true)?),
            ("field", 3) => Func::Field,
            ("replace", 3) => Func::Replace,
            ("wrap", 2 | 3) => Func::Wrap,
            ("ipv42num" | "ip42num", 1) => Func::Ipv42num,
            ("num2ipv4", 1) => Func::Num2ipv4,
            ("int2hex", 1) => Func::Int2hex,
            ("random", 1) => Func::Random,
            ("prifilt", 1) => Func::Prifilt(crate::filter::selector::decode(lit(0)?)?),
            ("exec_template", 1) => {
                let t = lit(0)?;
                let Some(all) = self.templates else {
                    return Err("exec_template() needs the templates".into());
                };
                Func::ExecTemplate(
                    all.get(t)
                        .cloned()
                        .ok_or_else(|| format!("exec_template(): template '{t}' not found"))?,
                )
            }
            ("parse_json", 2) => Func::ParseJson,
            ("get_property", 2) => Func::GetProperty,
            ("lookup", 2) => {
                let t = lit(0)?;
                Func::Lookup(
                    self.lookups
                        .index(t)
                        .ok_or_else(|| format!("lookup(): lookup table '{t}' not found"))?,
                )
            }
            ("format_time", 2) => Func::FormatTime,
            ("parse_time", 1) => Func::ParseTime,
            ("is_time", 1 | 2) => Func::IsTime,
            ("script_error", 0) => Func::ScriptError,
            ("previous_action_suspended", 0) => Func::PreviousActionSuspended,
            ("split", 2) => Func::Split,
            ("is_in_subnet", 2) => Func::IsInSubnet,
            ("b64_decode", 1) => Func::B64Decode,
            ("dyn_inc" | "percentile_observe", _) => {
                return Err(format!(
                    "function {name}() needs dyn_stats/percentile_stats, which oxsyslog does not support"
                ))
            }
            _ => {
                return Err(format!(
                    "unknown function {name}() with {} arguments",
                    args.len()
                ))
            }
        };
        // arguments fixed at compile time are not evaluated again
        let args = match f {
            Func::ReMatch(_) | Func::ReExtract(_) => {
                let mut a = Vec::new();
                for (i, x) in args.iter().enumerate() {
                    a.push(if i == 1 { Cond::Num(0) } else { self.expr(x)? });
                }
                a
            }
            Func::Prifilt(_) | Func::ExecTemplate(_) => Vec::new(),
            Func::Lookup(_) => vec![self.expr(&args[1])?],
            _ => args
                .iter()
                .map(|x| self.expr(x))
                .collect::<Result<_, _>>()?,
        };
        Ok(Cond::Func(f, args))
    }
}

/// Whether a condition reads nothing of the message but facility and severity (and has no
/// side effects), and reads at least one of them.
fn pri_only(c: &Cond, reads: &mut bool) -> bool {
    match c {
        Cond::Num(_) | Cond::Str(_) | Cond::Array(_) => true,
        Cond::Mask(_) => {
            *reads = true;
            true
        }
        Cond::Prop(id) | Cond::PropStr(id, _) => {
            *reads = true;
            matches!(
                id,
                PropId::SyslogFacility
                    | PropId::SyslogFacilityText
                    | PropId::SyslogSeverity
                    | PropId::SyslogSeverityText
                    | PropId::Pri
                    | PropId::PriText
            )
        }
        Cond::Not(x) | Cond::Neg(x) => pri_only(x, reads),
        Cond::Bin(_, l, r) => pri_only(l, reads) && pri_only(r, reads),
        Cond::Func(Func::Prifilt(_), _) => {
            *reads = true;
            true
        }
        Cond::Func(
            Func::Strlen
            | Func::Tolower
            | Func::Toupper
            | Func::Cstr
            | Func::Cnum
            | Func::Substring
            | Func::Field
            | Func::Replace
            | Func::Int2hex,
            args,
        ) => args.iter().all(|a| pri_only(a, reads)),
        _ => false,
    }
}

/// Folds a facility/severity-only condition into a mask by evaluating it once for every
/// facility and severity, and a condition that reads nothing of the message into its truth
/// value; anything else stays as it is.
fn fold(c: Cond) -> Cond {
    let mut reads = false;
    if !pri_only(&c, &mut reads) {
        // `and`, `or` and `not` use only the truth of their operands: fold those parts
        return match c {
            Cond::Bin(op @ (BinOp::And | BinOp::Or), l, r) => {
                Cond::Bin(op, Box::new(fold(*l)), Box::new(fold(*r)))
            }
            Cond::Not(x) => Cond::Not(Box::new(fold(*x))),
            other => other,
        };
    }
    let rs = Rulesets {
        names: Vec::new(),
        bodies: Vec::new(),
        lookups: LookupTables::default(),
        queued: Vec::new(),
    };
    let env = RenderEnv::default();
    let mut st = State::default();
    let mut scratch = Vec::new();
    let mut mask: crate::filter::selector::Mask = [0; crate::filter::selector::FACILITY_SLOTS];
    for (fac, bits) in mask.iter_mut().enumerate() {
        for sev in 0..8u8 {
            let mut b = crate::message::Batch::default();
            b.msgs.push(crate::message::Message {
                facility: fac as u8,
                severity: sev,
                ..Default::default()
            });
            let mut cx = Ctx::new(b.get(0), &env, &mut scratch);
            if eval(&rs, &c, &mut cx, &mut st).truthy() {
                *bits |= 1 << sev;
            }
        }
    }
    if reads {
        return Cond::Mask(mask);
    }
    // reads nothing of the message: a constant (every slot gave the same truth value)
    Cond::Num((mask[0] & 1) as i64)
}

/// Compares a rendered property with a constant as rsyslog does when the left side is a
/// string and the right a string constant (`cnfexprEval`'s `'S'` fast path).
#[inline]
fn str_op(op: BinOp, l: &[u8], r: &[u8]) -> bool {
    match op {
        BinOp::Eq => bytes_eq(l, r),
        BinOp::Ne => !bytes_eq(l, r),
        BinOp::Contains => memchr::memmem::find(l, r).is_some(),
        BinOp::ContainsI => funcs::lower_contains(l, r),
        BinOp::StartsWith => l.len() >= r.len() && bytes_eq(&l[..r.len()], r),
        BinOp::StartsWithI => funcs::startswith_i(l, r),
        _ => false,
    }
}

fn eval(rs: &Rulesets, c: &Cond, cx: &mut Ctx<'_, '_>, st: &mut State) -> Val {
    match c {
        Cond::Mask(mask) => Val::Num(mask_hit(mask, cx.m) as i64),
        Cond::PropStr(id, t) => Val::Num(t.test_prop(cx, &st.vars, *id) as i64),
        Cond::Num(n) => Val::Num(*n),
        Cond::Str(s) => st.str_val(s),
        Cond::Array(a) => {
            let first = a.first().map(Vec::as_slice).unwrap_or_default();
            st.str_val(first)
        }
        Cond::Prop(id) => {
            let mut b = st.buf();
            write_prop(cx.m.with_vars(&st.vars), *id, cx.env, &mut b);
            Val::Str(b)
        }
        // evalVar: a string (or nothing) is a string, any other JSON value stays JSON
        Cond::Var(v) => match st.vars.get(v) {
            None => Val::empty(),
            Some(Json::Str(s)) => {
                let mut b = st.pool.pop().unwrap_or_default();
                b.extend_from_slice(s);
                Val::Str(b)
            }
            Some(j) => Val::Json(j.clone()),
        },
        Cond::Exists(v) => Val::Num(st.vars.exists(v) as i64),
        Cond::Not(x) => {
            let v = eval(rs, x, cx, st);
            let t = v.truthy();
            st.give(v);
            Val::Num(!t as i64)
        }
        Cond::Neg(x) => {
            let v = eval(rs, x, cx, st);
            let n = v.to_num();
            st.give(v);
            Val::Num(n.wrapping_neg())
        }
        Cond::Func(f, args) => eval_func(rs, f, args, cx, st),
        Cond::Bin(op, l, r) => {
            let lv = eval(rs, l, cx, st);
            if matches!(op, BinOp::And | BinOp::Or) {
                let lt = lv.truthy();
                st.give(lv);
                if lt == (*op == BinOp::Or) {
                    return Val::Num(lt as i64);
                }
                let rv = eval(rs, r, cx, st);
                let rt = rv.truthy();
                st.give(rv);
                return Val::Num(rt as i64);
            }
            if let Cond::Array(items) = &**r {
                let res = funcs::array_cmp(*op, &lv.as_bytes(), items);
                st.give(lv);
                return Val::Num(res as i64);
            }
            let rv = eval(rs, r, cx, st);
            if *op == BinOp::Concat {
                let mut a = lv.into_bytes();
                a.extend_from_slice(&rv.as_bytes());
                st.give(rv);
                return Val::Str(a);
            }
            let res = bin(*op, &lv, &rv);
            st.give(lv);
            st.give(rv);
            res
        }
    }
}

/// A binary operator on two evaluated values (not `and`, `or` or `&`).
fn bin(op: BinOp, lv: &Val, rv: &Val) -> Val {
    use std::cmp::Ordering::*;
    let b = |x: bool| Val::Num(x as i64);
    match op {
        BinOp::Eq => b(equal(lv, rv)),
        BinOp::Ne => b(!equal(lv, rv)),
        BinOp::Lt => b(order(lv, rv) == Less),
        BinOp::Le => b(order(lv, rv) != Greater),
        BinOp::Gt => b(order(lv, rv) == Greater),
        BinOp::Ge => b(order(lv, rv) != Less),
        BinOp::Contains => b(memchr::memmem::find(&lv.as_bytes(), &rv.as_bytes()).is_some()),
        BinOp::ContainsI => b(funcs::lower_contains(&lv.as_bytes(), &rv.as_bytes())),
        BinOp::StartsWith => b(lv.as_bytes().starts_with(&rv.as_bytes())),
        BinOp::StartsWithI => b(funcs::startswith_i(&lv.as_bytes(), &rv.as_bytes())),
        BinOp::Add => Val::Num(lv.to_num().wrapping_add(rv.to_num())),
        BinOp::Sub => Val::Num(lv.to_num().wrapping_sub(rv.to_num())),
        BinOp::Mul => Val::Num(lv.to_num().wrapping_mul(rv.to_num())),
        BinOp::Div => match rv.to_num() {
            0 => Val::Num(0),
            d => Val::Num(lv.to_num().wrapping_div(d)),
        },
        BinOp::Mod => match rv.to_num() {
            0 => Val::Num(0),
            d => Val::Num(lv.to_num().wrapping_rem(d)),
        },
        BinOp::And | BinOp::Or | BinOp::Concat => Val::Num(0),
    }
}

/// rsyslog's `RS_SCRIPT_EINVAL`.
const EINVAL: i64 = 1;

fn eval_func(rs: &Rulesets, f: &Func, args: &[Cond], cx: &mut Ctx<'_, '_>, st: &mut State) -> Val {
    // the common shapes on a stored property: no copy at all
    if let Some(Cond::Prop(id)) = args.first() {
        if let Some(v) = prop_slice(cx.m, *id, cx.env) {
            match f {
                Func::ReMatch(re) => return Val::Num(re.is_match(v) as i64),
                Func::Strlen => return Val::Num(v.len() as i64),
                Func::Field if args.len() == 3 => {
                    let d = eval(rs, &args[1], cx, st);
                    let n = eval(rs, &args[2], cx, st);
                    let mut out = st.buf();
                    funcs::field_into(v, &d, n.to_num(), &mut out);
                    st.give(d);
                    st.give(n);
                    return Val::Str(out);
                }
                _ => {}
            }
        }
    }
    // at most 5 arguments (re_extract): evaluated into a stack array, no allocation
    let mut vals: [Option<Val>; 5] = Default::default();
    for (slot, a) in vals.iter_mut().zip(args) {
        *slot = Some(eval(rs, a, cx, st));
    }
    let mut k = 0;
    let mut next = || {
        let v = vals
            .get_mut(k)
            .and_then(Option::take)
            .unwrap_or_else(Val::empty);
        k += 1;
        v
    };
    match f {
        Func::Strlen => {
            let v = next();
            let n = v.as_bytes().len();
            st.give(v);
            Val::Num(n as i64)
        }
        Func::Getenv => {
            let name = String::from_utf8_lossy(&next().into_bytes()).into_owned();
            Val::Str(
                std::env::var_os(name)
                    .map(std::os::unix::ffi::OsStringExt::into_vec)
                    .unwrap_or_default(),
            )
        }
        Func::Tolower => {
            let mut b = next().into_bytes();
            b.make_ascii_lowercase();
            Val::Str(b)
        }
        Func::Toupper => Val::Str(timefn::toupper(&next().into_bytes())),
        Func::Cstr => Val::Str(next().into_bytes()),
        Func::Cnum => {
            let v = next();
            let n = v.to_num();
            st.give(v);
            Val::Num(n)
        }
        Func::Cbool => Val::Num(match next() {
            Val::Num(n) => timefn::cbool_num(n),
            v => timefn::cbool(&v.as_bytes()),
        }),
        Func::Substring => {
            let s = next().into_bytes();
            let start = next().to_num();
            let len = next().to_num();
            let mut r = st.buf();
            r.extend_from_slice(funcs::substring_slice(&s, start, len));
            st.give(Val::Str(s));
            Val::Str(r)
        }
        Func::Ltrim => Val::Str(funcs::trim(&next().into_bytes(), true)),
        Func::Rtrim => Val::Str(funcs::trim(&next().into_bytes(), false)),
        Func::ReMatch(re) => {
            let v = next();
            let hit = re.is_match(&v.as_bytes());
            st.give(v);
            Val::Num(hit as i64)
        }
        Func::ReExtract(re) => {
            let s = next().into_bytes();
            let _ = next();
            let nth = next().to_num();
            let sub = next().to_num();
            let nomatch = next();
            match funcs::re_extract(re, &s, nth, sub) {
                Some(v) => Val::Str(v),
                None => Val::Str(nomatch.into_bytes()),
            }
        }
        Func::Field => {
            let s = next().into_bytes();
            let d = next();
            let n = next().to_num();
            let mut out = st.buf();
            funcs::field_into(&s, &d, n, &mut out);
            st.give(Val::Str(s));
            st.give(d);
            Val::Str(out)
        }
        Func::Replace => {
            let s = next().into_bytes();
            let what = next().into_bytes();
            let with = next().into_bytes();
            Val::Str(timefn::replace(&s, &what, &with))
        }
        Func::Wrap => {
            let s = next().into_bytes();
            let w = next().into_bytes();
            let e = (args.len() == 3).then(|| next().into_bytes());
            Val::Str(timefn::wrap(&s, &w, e.as_deref()))
        }
        Func::Ipv42num => Val::Num(funcs::ipv42num(&next().into_bytes())),
        Func::Num2ipv4 => Val::Str(funcs::num2ipv4(next().to_num())),
        Func::Int2hex => Val::Str(funcs::int2hex(&next())),
        Func::Random => {
            let max = next().to_num();
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
        Func::Prifilt(mask) => Val::Num(mask_hit(mask, cx.m) as i64),
        Func::ExecTemplate(t) => {
            let mut out = Vec::new();
            t.render(cx.m.with_vars(&st.vars), cx.env, &mut out);
            Val::Str(out)
        }
        Func::ParseJson => {
            let text = next().into_bytes();
            let container = next().into_bytes();
            let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
            match crate::json::parse(text) {
                Some(j) => {
                    let name = String::from_utf8_lossy(&container).into_owned();
                    if let Some(v) = VarRef::parse(&name) {
                        st.vars.set(&v, j, false);
                    }
                    st.script_error = 0;
                    Val::Num(0)
                }
                None => {
                    st.script_error = EINVAL;
                    Val::Num(EINVAL)
                }
            }
        }
        Func::GetProperty => {
            let obj = next();
            let key = next();
            let (v, err) = get_property(obj, &key, matches!(args.first(), Some(Cond::Str(_))));
            st.script_error = err;
            v
        }
        Func::Lookup(t) => {
            let key = next();
            let mut out = Vec::new();
            if rs.lookups.wants_number(*t) {
                // array tables take the key's number as rsyslog's var2Number gives it
                rs.lookups.lookup_num(*t, key.to_num(), &mut out);
            } else {
                rs.lookups.lookup(*t, &key.as_bytes(), &mut out);
            }
            Val::Str(out)
        }
        Func::FormatTime => {
            let ts = next();
            let fmt = next().into_bytes();
            time_fn_format(ts, &fmt)
        }
        Func::ParseTime => {
            let s = next().into_bytes();
            match timefn::parse_time(&s) {
                Some(t) => {
                    st.script_error = 0;
                    Val::Num(t)
                }
                None => {
                    st.script_error = EINVAL;
                    Val::Num(0)
                }
            }
        }
        Func::IsTime => {
            let v = next();
            let numeric = !matches!(v, Val::Str(_));
            let fmt = (args.len() == 2).then(|| next().into_bytes());
            let ok = timefn::is_time_typed(&v.as_bytes(), fmt.as_deref(), numeric);
            st.script_error = if ok { 0 } else { EINVAL };
            Val::Num(ok as i64)
        }
        Func::ScriptError => Val::Num(st.script_error),
        Func::PreviousActionSuspended => Val::Num(st.prev_suspended as i64),
        Func::Split => {
            let s = next().into_bytes();
            let sep = next().into_bytes();
            Val::Json(Json::Arr(
                timefn::split(&s, &sep).into_iter().map(Json::Str).collect(),
            ))
        }
        Func::IsInSubnet => {
            let ip = next().into_bytes();
            let net = next().into_bytes();
            Val::Num(timefn::is_in_subnet(&ip, &net) as i64)
        }
        Func::B64Decode => {
            let s = next().into_bytes();
            // newer rsyslog: "" for invalid input, no script error
            Val::Str(timefn::b64_decode(&s).unwrap_or_default())
        }
    }
}

fn time_fn_format(ts: Val, fmt: &[u8]) -> Val {
    Val::Str(match ts {
        Val::Str(s) => timefn::format_time_str(&s, fmt),
        v => timefn::format_time(v.to_num(), fmt),
    })
}

/// `get_property(obj, key)` (8.2302's `doFunc_get_property`); returns (value, script error).
/// A failure yields a one-byte string holding NUL, as rsyslog's `es_newStrFromCStr("", 1)`.
fn get_property(obj: Val, key: &Val, literal: bool) -> (Val, i64) {
    let nul = || Val::Str(vec![0]);
    if literal {
        return (nul(), EINVAL);
    }
    let j = match obj {
        Val::Json(j) => j,
        Val::Str(s) => return (Val::Str(s), 0),
        Val::Num(_) => return (nul(), 0),
    };
    match j {
        Json::Obj(o) => {
            let k = key.as_bytes();
            if k.is_empty() {
                return (Val::Json(Json::Obj(o)), 0);
            }
            match o.get(&k) {
                None => (nul(), EINVAL),
                Some(Json::Null) => (nul(), 0),
                Some(Json::Str(s)) => (Val::Json(Json::Str(s.clone())), 0),
                Some(v) => (Val::Json(v.clone()), 0),
            }
        }
        Json::Arr(a) => {
            let (i, ok) = key.to_num_ok();
            if !ok || i < 0 || i as usize >= std::mem::size_of::<usize>() {
                return (nul(), EINVAL);
            }
            match a.get(i as usize) {
                Some(Json::Null) | None => (nul(), 0),
                Some(v) => (Val::Json(v.clone()), 0),
            }
        }
        Json::Bool(b) => (Val::Num(b as i64), 0),
        Json::Int(n) => (Val::Num(n), 0),
        Json::Double(d, _) => (Val::Num(d as i64), 0),
        Json::Str(s) => (Val::Str(s), 0),
        Json::Null => (nul(), 0),
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

    fn first_if(conf: &str) -> Test {
        let cfg = crate::config::load_text("t.conf", conf).config;
        let mut rs = Rulesets::compile_without_templates(&cfg).unwrap();
        match rs.bodies[0].remove(0) {
            Exec::If { cond, .. } => cond,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bytes_eq_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=40 {
            let a = &base[..n];
            assert!(bytes_eq(a, a), "{n}");
            assert!(!bytes_eq(a, &base[..n.saturating_sub(1)]) || n == 0);
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 0x20;
                assert!(!bytes_eq(a, &b), "length {n}, byte {i} differs");
            }
        }
    }

    #[test]
    fn calls_of_one_action_rulesets_run_the_action_in_place() {
        let body = |conf: &str| {
            let l = crate::config::load_text("t.conf", conf);
            assert!(!l.has_errors(), "{:?}", l.diagnostics);
            let rs = Rulesets::compile_without_templates(&l.config).unwrap();
            let i = rs.index(&l.config.default_ruleset).unwrap();
            format!("{:?}", rs.bodies[i])
        };
        let out = "ruleset(name=\"o1\") { action(type=\"omfile\" file=\"/tmp/o\") }\n";
        let two = "ruleset(name=\"t2\") { action(type=\"omfile\" file=\"/tmp/t\") stop }\n";
        let b = body(&format!(
            "{out}{two}if $msg contains 'x' then call o1\n*.* call t2\n"
        ));
        assert!(b.contains("then_body: [Action(0)]"), "{b}");
        assert!(
            b.contains("Call("),
            "a ruleset of two statements is still called: {b}"
        );
        // with a ruleset queue the calls stay (src/rsq/ follows them)
        let q = "ruleset(name=\"q3\" queue.type=\"LinkedList\") { action(type=\"omfile\" file=\"/tmp/q\") }\n";
        let b = body(&format!("{out}{q}if $msg contains 'x' then call o1\n"));
        assert!(b.contains("then_body: [Call("), "{b}");
    }

    #[test]
    fn selector_like_conditions_fold_into_masks() {
        let c =
            first_if("if $syslogseverity <= 3 and $syslogfacility-text == 'mail' then /tmp/x\n");
        let Test::Mask(m) = c else { panic!("{c:?}") };
        assert_eq!(m[2], 0b1111, "mail.err and above");
        assert!(m.iter().enumerate().all(|(f, &b)| f == 2 || b == 0));
        assert!(matches!(
            first_if("if 1 + 1 == 2 then /tmp/x\n"),
            Test::Const(true)
        ));
        assert!(matches!(
            first_if("if $msg contains 'x' then /tmp/x\n"),
            Test::PropStr(PropId::Msg, _)
        ));
    }

    /// The specialised tests (`SrcStr`, `SrcNum`, `SrcArr`, masks inside and/or/not) give
    /// what the general evaluation of the same expression gives, message by message.
    #[test]
    fn specialised_tests_agree_with_eval() {
        use crate::config::model::Statement;
        use crate::parse::{now_local, push_message, InputFlags, ParseOptions, Received};
        let conds = [
            "field($msg, 32, 3) == 'reject:'",
            "field($msg, 32, 9) != 'x'",
            "field($msg, ':', 2) startswith ' 554'",
            "substring($msg, 1, 5) == 'level' and $syslogseverity < 4",
            "substring($hostname, 0, 2) == 'db' and $syslogseverity <= 4",
            "substring($msg, 50, -3) contains 'o'",
            "tolower($hostname) startswith 'web' and $syslogfacility-text == 'local7'",
            "tolower($programname) == 'cron' and $syslogseverity > 5",
            "strlen($msg) > 40",
            "strlen(field($msg, 32, 2)) == 4",
            "cnum(field($msg, 32, 8)) >= 500",
            "cnum($procid) < 100",
            "$hostname == ['db01', 'DB02'] and $msg contains 'connection'",
            "$programname != ['sshd', 'cron']",
            "not ($syslogseverity >= 5) and $hostname startswith 'web'",
            "$syslogseverity-text == 'warning' or $syslogfacility-text == 'cron'",
        ];
        let lines = [
            "<22>Nov 23 18:00:00 db01 postfix/smtpd[24368]: NOQUEUE: reject: RCPT from x: 554 5.7.1 connection",
            "<190>Nov 23 18:00:01 WEB03 nginx[23469]: 10.0.0.1 - - \"GET / HTTP/1.1\" 503 700",
            "<75>Nov 23 18:00:02 db02 CRON[12]: (root) CMD (/bin/true)",
            "<131>Nov 23 18:00:03 web01 app: level=ERROR something failed connection",
            "<14>1 2026-11-23T18:00:00Z DB02 appname 4242 ID1 - a RFC 5424 message body",
            "<7>x",
        ];
        let now = now_local();
        let rx = Received {
            peer: 0,
            input: 0,
            time: now.0,
            unix: now.1,
        };
        let mut b = crate::message::Batch::default();
        b.peers.push(Default::default());
        for l in lines {
            push_message(
                &mut b,
                l.as_bytes(),
                &rx,
                &InputFlags::default(),
                &ParseOptions::default(),
            );
        }
        let names: Vec<String> = Vec::new();
        let lookups = LookupTables::default();
        let c = Compiler {
            names: &names,
            templates: None,
            lookups: &lookups,
        };
        let rs = Rulesets {
            names: Vec::new(),
            bodies: Vec::new(),
            lookups: LookupTables::default(),
            queued: Vec::new(),
        };
        let env = RenderEnv::default();
        let mut st = State::default();
        let mut scratch = Vec::new();
        let mut special = 0;
        for text in conds {
            let cfg =
                crate::config::load_text("t.conf", &format!("if {text} then /tmp/x\n")).config;
            let Some(Statement::If { cond, .. }) = cfg.rulesets[0].body.first() else {
                panic!("{text}: not an if");
            };
            let fast = Test::from_cond(fold(c.expr(cond).unwrap()));
            special += !matches!(fast, Test::Expr(_)) as usize;
            let slow = Test::Expr(c.expr(cond).unwrap());
            for (i, line) in lines.iter().enumerate().take(b.len()) {
                let mut cx = Ctx::new(b.get(i), &env, &mut scratch);
                let want = test(&rs, &slow, &mut cx, &mut st);
                let mut cx = Ctx::new(b.get(i), &env, &mut scratch);
                assert_eq!(test(&rs, &fast, &mut cx, &mut st), want, "{text} on {line}");
            }
        }
        assert_eq!(
            special,
            conds.len(),
            "every condition has a specialised form"
        );
    }

    #[test]
    fn field_and_ip_helpers() {
        let s = |x: &str| Val::Str(x.as_bytes().to_vec());
        assert_eq!(funcs::field(b"a,b,c", &Val::Num(44), 2), b"b");
        assert_eq!(
            funcs::field(b"a,b,c", &Val::Num(44), 4),
            b"***FIELD NOT FOUND***"
        );
        assert_eq!(funcs::field(b"a--b--c", &s("--"), 3), b"c");
        assert_eq!(funcs::ipv42num(b"10.0.0.1"), 167772161);
        assert_eq!(funcs::ipv42num(b"10.0.0"), -1);
    }
}
