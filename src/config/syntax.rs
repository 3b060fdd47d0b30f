//! Syntax tree of one config text: what the file says, in its order, with locations.
//! Built from the pest parse of `grammar/rsyslog.pest`; nothing is resolved here (the loader
//! applies legacy state, includes, defaults and names). String escapes and backticks are
//! expanded here, as rsyslog's lexer does.

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

use super::diagnostics::{Diagnostic, Diagnostics, Location};
use super::source::Source;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rsyslog.pest"]
struct RsyslogParser;

/// A parameter value: a string or an array of strings (rsyslog has no other kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Array(Vec<String>),
}

/// `name="value"` inside an object.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub value: Value,
    pub loc: Location,
}

/// Declarative objects (top level only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    Global,
    Module,
    Input,
    Parser,
    MainQueue,
    Timezone,
    LookupTable,
    DynStats,
    PercentileStats,
}

impl ObjKind {
    pub fn name(self) -> &'static str {
        match self {
            ObjKind::Global => "global",
            ObjKind::Module => "module",
            ObjKind::Input => "input",
            ObjKind::Parser => "parser",
            ObjKind::MainQueue => "main_queue",
            ObjKind::Timezone => "timezone",
            ObjKind::LookupTable => "lookup_table",
            ObjKind::DynStats => "dyn_stats",
            ObjKind::PercentileStats => "percentile_stats",
        }
    }

    fn from_keyword(kw: &str) -> ObjKind {
        match kw.to_ascii_lowercase().as_str() {
            "global" => ObjKind::Global,
            "module" => ObjKind::Module,
            "input" => ObjKind::Input,
            "parser" => ObjKind::Parser,
            "main_queue" => ObjKind::MainQueue,
            "timezone" => ObjKind::Timezone,
            "lookup_table" => ObjKind::LookupTable,
            "dyn_stats" => ObjKind::DynStats,
            _ => ObjKind::PercentileStats,
        }
    }
}

/// A `property()` or `constant()` inside a list template.
#[derive(Debug, Clone)]
pub struct TplPart {
    pub is_property: bool,
    pub params: Vec<Param>,
    pub loc: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
    Contains,
    ContainsI,
    StartsWith,
    StartsWithI,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// The operator as written in RainerScript.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Contains => "contains",
            BinOp::ContainsI => "contains_i",
            BinOp::StartsWith => "startswith",
            BinOp::StartsWithI => "startswith_i",
            BinOp::Concat => "&",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }

    /// Binding strength as in rsyslog's bison precedence table (higher binds tighter).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::And | BinOp::Or => 1,
            BinOp::Concat | BinOp::Add | BinOp::Sub => 3,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 4,
            _ => 2,
        }
    }
}

/// A RainerScript expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(i64),
    Str(String),
    /// Variable or property without the leading `$` (`msg`, `!a!b`, `.x`, `/g`, `$now`).
    Var(String),
    Array(Vec<String>),
    Func {
        name: String,
        args: Vec<Expr>,
        loc: Location,
    },
    Exists(String),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

/// One element of an `&`-chained action list.
#[derive(Debug, Clone)]
pub struct ActionItem {
    pub loc: Location,
    pub kind: ActKind,
}

#[derive(Debug, Clone)]
pub enum ActKind {
    /// `action(...)`.
    Object(Vec<Param>),
    /// A legacy action line (`/var/log/x;Tpl`, `@@host`, `:omusrmsg:*` …), unparsed.
    Legacy(String),
    Stop,
    Call(String),
    CallIndirect(Expr),
    Continue,
    /// A `$Directive` line standing between `&`-chained actions.
    Directive {
        name: String,
        value: String,
    },
}

/// A statement or object, with the location of its first character.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub loc: Location,
    pub kind: StmtKind,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    Object {
        kind: ObjKind,
        params: Vec<Param>,
    },
    Template {
        params: Vec<Param>,
        parts: Option<Vec<TplPart>>,
    },
    Ruleset {
        params: Vec<Param>,
        body: Vec<Stmt>,
    },
    Include {
        params: Vec<Param>,
    },
    /// `$Name value` (value untrimmed, trailing comment included).
    Directive {
        name: String,
        value: String,
    },
    PriFilter {
        selector: String,
        body: Vec<Stmt>,
    },
    PropFilter {
        prop: String,
        negate: bool,
        op: String,
        value: String,
        body: Vec<Stmt>,
    },
    If {
        cond: Expr,
        then_body: Vec<Stmt>,
        else_body: Option<Vec<Stmt>>,
    },
    Foreach {
        var: String,
        iter: Expr,
        body: Vec<Stmt>,
    },
    Set {
        var: String,
        expr: Expr,
        reset: bool,
    },
    Unset {
        var: String,
    },
    ReloadLookupTable(Vec<String>),
    Actions(Vec<ActionItem>),
}

/// Parses one config text into statements. Returns `None` after a syntax error (reported into
/// `diags`); semantic problems found while building (bad escapes, `$` in double quotes,
/// misplaced objects) are reported and building goes on.
pub fn parse(src: &Source, diags: &mut Diagnostics) -> Option<Vec<Stmt>> {
    let pairs = match RsyslogParser::parse(Rule::config, &src.text) {
        Ok(p) => p,
        Err(e) => {
            diags.push(syntax_error(src, &e));
            return None;
        }
    };
    let mut b = Builder { src, diags };
    let mut out = Vec::new();
    for pair in pairs.flatten().take(1) {
        for item in pair.into_inner() {
            if item.as_rule() == Rule::EOI {
                continue;
            }
            b.stmt_into(item, true, &mut out);
        }
    }
    Some(out)
}

/// Parses a standalone expression (used by tests and by `--dump-config` round trips).
pub fn parse_expr(text: &str) -> Result<Expr, String> {
    let src = Source::new("expr", text);
    let mut diags = Diagnostics::default();
    let mut pairs = RsyslogParser::parse(Rule::expr, &src.text).map_err(|e| e.to_string())?;
    let pair = pairs.next().ok_or("empty expression")?;
    if pair.as_str().len() != text.trim_end().len() {
        return Err(format!("trailing text after expression: {text}"));
    }
    let mut b = Builder {
        src: &src,
        diags: &mut diags,
    };
    Ok(b.expr(pair))
}

fn describe_rule(r: &Rule) -> Option<&'static str> {
    Some(match r {
        Rule::obj_string | Rule::backtick_string => "a quoted string",
        Rule::obj_array => "an array",
        Rule::param_name => "a parameter name",
        Rule::nv => "a parameter",
        Rule::expr => "an expression",
        Rule::var => "a variable",
        Rule::number => "a number",
        Rule::func_call => "a function call",
        Rule::block => "an action or block",
        Rule::action_list | Rule::legacy_action | Rule::action_obj => "an action",
        Rule::call_name => {
            "a ruleset name (a letter, then letters, digits, '-', '_' or '.': at least two characters, as rsyslog's lexer reads call)"
        }
        Rule::EOI => "end of file",
        Rule::op_and | Rule::op_or | Rule::op_eq | Rule::op_ne => "an operator",
        Rule::else_block => "'else'",
        Rule::tpl_part => "property() or constant()",
        Rule::top_item => "a statement",
        _ => return None,
    })
}

fn syntax_error(src: &Source, e: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = &src.text[pos.min(src.text.len())..];
    let mut msg = String::from("syntax error");
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant {
        let mut wanted: Vec<&str> = positives.iter().filter_map(describe_rule).collect();
        wanted.dedup();
        if !wanted.is_empty() {
            msg.push_str(": expected ");
            msg.push_str(&wanted.join(" or "));
        }
    }
    let start = statement_start(&src.text, pos);
    let stmt_text = &src.text[start..];
    let first_word = stmt_text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if rest.is_empty() {
        // The file ended inside a construct: point at where that construct began.
        msg.push_str(" at end of file (unterminated string, comment, block or object?)");
        return Diagnostic::error(src.loc(start), msg).near(stmt_text);
    }
    if ["set", "reset", "unset", "call_indirect"].contains(&first_word.as_str()) {
        // A statement that needs a ';' ran into the next line.
        return Diagnostic::error(src.loc(start), format!("{msg} (missing ';'?)")).near(stmt_text);
    }
    let line_start = src.text[..pos].rfind('\n').map_or(0, |i| i + 1);
    if pos > start && src.text[line_start..pos].trim().is_empty() && line_start > start {
        // The failing token starts a line: the construct before it was left unfinished.
        let prev = last_text_before(&src.text, line_start).max(start);
        let mut d = Diagnostic::error(
            src.loc(prev),
            format!("{msg}: the construct on this line is not finished before the next line"),
        );
        d.near = Some(rest.lines().next().unwrap_or("").chars().take(60).collect());
        return d;
    }
    Diagnostic::error(src.loc(pos), msg).near(rest)
}

/// Offset of the start of the top-level statement that contains `pos`: statements are
/// parsed one by one from the start until one does not end before `pos`.
fn statement_start(text: &str, pos: usize) -> usize {
    let mut off = skip_ws(text, 0);
    while off < pos {
        match RsyslogParser::parse(Rule::top_item, &text[off..]) {
            Ok(pairs) => {
                let end = off + pairs.last().map_or(0, |p| p.as_span().end());
                if end > pos || end == off {
                    return off;
                }
                off = skip_ws(text, end);
            }
            Err(_) => return off,
        }
    }
    off.min(pos)
}

/// Skips whitespace and comments (INITIAL state).
fn skip_ws(text: &str, mut off: usize) -> usize {
    let b = text.as_bytes();
    loop {
        while off < b.len() && b[off].is_ascii_whitespace() {
            off += 1;
        }
        if b.get(off) == Some(&b'#') {
            off = text[off..].find('\n').map_or(b.len(), |i| off + i);
        } else if text[off..].starts_with("/*") {
            off = text[off..].find("*/").map_or(b.len(), |i| off + i + 2);
        } else {
            return off;
        }
    }
}

/// Offset of the start of the last line before `line_start` that has text other than a comment.
fn last_text_before(text: &str, line_start: usize) -> usize {
    let mut end = line_start;
    while end > 0 {
        let s = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[s..end - 1].trim();
        if !line.is_empty() && !line.starts_with('#') {
            return s + (text[s..].len() - text[s..].trim_start().len());
        }
        end = s;
    }
    0
}

struct Builder<'a> {
    src: &'a Source,
    diags: &'a mut Diagnostics,
}

impl Builder<'_> {
    fn loc(&self, pair: &Pair<Rule>) -> Location {
        self.src.loc(pair.as_span().start())
    }

    /// Builds the statement in `pair` (if it is one) and appends it to `out`.
    fn stmt_into(&mut self, pair: Pair<Rule>, top: bool, out: &mut Vec<Stmt>) {
        let loc = self.loc(&pair);
        let kind = match pair.as_rule() {
            Rule::object => {
                let (kind, params) = self.object(pair);
                StmtKind::Object { kind, params }
            }
            Rule::misplaced_object => {
                let text = pair.as_str().to_string();
                let (kind, _) = self.object(pair);
                let msg = if top {
                    format!("declarative object '{}' not permitted here", kind.name())
                } else {
                    format!(
                        "declarative object '{}' not permitted in action block",
                        kind.name()
                    )
                };
                self.diags.push(Diagnostic::error(loc, msg).near(&text));
                return;
            }
            Rule::template_obj => {
                let mut params = Vec::new();
                let mut parts = None;
                let had_body = pair.as_str().trim_end().ends_with('}');
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::nvlist => params = self.nvlist(p),
                        Rule::tpl_part => {
                            let ploc = self.loc(&p);
                            let mut inner = p.into_inner();
                            let is_property = inner
                                .next()
                                .map(|k| k.as_str().eq_ignore_ascii_case("property"))
                                .unwrap_or(false);
                            let params = inner.next().map(|n| self.nvlist(n)).unwrap_or_default();
                            parts.get_or_insert_with(Vec::new).push(TplPart {
                                is_property,
                                params,
                                loc: ploc,
                            });
                        }
                        _ => {}
                    }
                }
                if had_body && parts.is_none() {
                    parts = Some(Vec::new());
                }
                StmtKind::Template { params, parts }
            }
            Rule::ruleset_obj => {
                let mut params = Vec::new();
                let mut body = Vec::new();
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::nvlist {
                        params = self.nvlist(p);
                    } else {
                        self.stmt_into(p, false, &mut body);
                    }
                }
                StmtKind::Ruleset { params, body }
            }
            Rule::include_obj => StmtKind::Include {
                params: pair
                    .into_inner()
                    .next()
                    .map(|n| self.nvlist(n))
                    .unwrap_or_default(),
            },
            Rule::directive => {
                let (name, value) = directive_parts(pair);
                StmtKind::Directive { name, value }
            }
            Rule::bsd_selector => {
                self.diags.push(
                    Diagnostic::error(loc, "BSD-style blocks are no longer supported")
                        .near(pair.as_str()),
                );
                return;
            }
            Rule::prifilt_stmt => {
                let mut inner = pair.into_inner();
                let Some(sel) = inner.next() else { return };
                self.check_line_start(&sel);
                if let Err(e) = crate::filter::selector::decode(sel.as_str()) {
                    // Point at the bad name itself (it may sit on a continuation line).
                    let bad = e.split('"').nth(1).unwrap_or("");
                    let off = sel
                        .as_str()
                        .find(bad)
                        .filter(|_| !bad.is_empty())
                        .unwrap_or(0);
                    let at = self.src.loc(sel.as_span().start() + off);
                    self.diags.push(
                        Diagnostic::error(at, format!("invalid selector: {e}")).near(sel.as_str()),
                    );
                    return;
                }
                let selector = sel.as_str().to_string();
                let body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                StmtKind::PriFilter { selector, body }
            }
            Rule::propfilt_stmt => {
                let mut inner = pair.into_inner();
                let Some(pf) = inner.next() else { return };
                self.check_line_start(&pf);
                let mut parts = pf.into_inner();
                let prop = parts
                    .next()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                let op_raw = parts
                    .next()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                let raw_value = parts.next().map(|p| p.as_str()).unwrap_or("");
                let (negate, op) = match op_raw.strip_prefix('!') {
                    Some(o) => (true, o.to_string()),
                    None => (false, op_raw),
                };
                let body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                StmtKind::PropFilter {
                    prop,
                    negate,
                    op,
                    value: unescape_propfilt(raw_value),
                    body,
                }
            }
            Rule::if_stmt => {
                let mut inner = pair.into_inner();
                let cond = match inner.next() {
                    Some(e) => self.expr(e),
                    None => return,
                };
                let then_body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                let else_body = inner
                    .next()
                    .and_then(|e| e.into_inner().next())
                    .map(|b| self.block(b));
                StmtKind::If {
                    cond,
                    then_body,
                    else_body,
                }
            }
            Rule::foreach_stmt => {
                let mut inner = pair.into_inner();
                let var = inner
                    .next()
                    .map(|v| var_name(v.as_str()))
                    .unwrap_or_default();
                let iter = match inner.next() {
                    Some(e) => self.expr(e),
                    None => return,
                };
                let body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                StmtKind::Foreach { var, iter, body }
            }
            Rule::set_stmt | Rule::reset_stmt => {
                let reset = pair.as_rule() == Rule::reset_stmt;
                let mut inner = pair.into_inner();
                let var = inner
                    .next()
                    .map(|v| var_name(v.as_str()))
                    .unwrap_or_default();
                let expr = match inner.next() {
                    Some(e) => self.expr(e),
                    None => return,
                };
                StmtKind::Set { var, expr, reset }
            }
            Rule::unset_stmt => StmtKind::Unset {
                var: pair
                    .into_inner()
                    .next()
                    .map(|v| var_name(v.as_str()))
                    .unwrap_or_default(),
            },
            Rule::reload_lookup => StmtKind::ReloadLookupTable(
                pair.into_inner().map(|s| self.expr_string(s)).collect(),
            ),
            Rule::action_list => StmtKind::Actions(
                pair.into_inner()
                    .filter_map(|a| self.action_item(a))
                    .collect(),
            ),
            _ => return,
        };
        out.push(Stmt { loc, kind });
    }

    /// rsyslog's selector and property filters are recognised only at the start of a line.
    fn check_line_start(&mut self, pair: &Pair<Rule>) {
        let start = pair.as_span().start();
        let before = &self.src.text[..start];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        if !before[line_start..].chars().all(|c| c == ' ' || c == '\t') {
            self.diags.push(
                Diagnostic::error(
                    self.loc(pair),
                    "a selector or property filter must start its own line",
                )
                .near(pair.as_str()),
            );
        }
    }

    fn block(&mut self, pair: Pair<Rule>) -> Vec<Stmt> {
        let mut out = Vec::new();
        for p in pair.into_inner() {
            self.stmt_into(p, false, &mut out);
        }
        out
    }

    fn action_item(&mut self, pair: Pair<Rule>) -> Option<ActionItem> {
        let loc = self.loc(&pair);
        let kind = match pair.as_rule() {
            Rule::action_obj => ActKind::Object(
                pair.into_inner()
                    .next()
                    .map(|n| self.nvlist(n))
                    .unwrap_or_default(),
            ),
            Rule::legacy_action => ActKind::Legacy(pair.as_str().to_string()),
            Rule::stop_stmt => ActKind::Stop,
            Rule::continue_stmt => ActKind::Continue,
            Rule::call_stmt => ActKind::Call(
                pair.into_inner()
                    .next()
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default(),
            ),
            Rule::call_indirect => ActKind::CallIndirect(self.expr(pair.into_inner().next()?)),
            Rule::directive => {
                let (name, value) = directive_parts(pair);
                ActKind::Directive { name, value }
            }
            _ => return None,
        };
        Some(ActionItem { loc, kind })
    }

    fn object(&mut self, pair: Pair<Rule>) -> (ObjKind, Vec<Param>) {
        let mut inner = pair.into_inner();
        let kind = inner
            .next()
            .map(|k| ObjKind::from_keyword(k.as_str()))
            .unwrap_or(ObjKind::Global);
        let params = inner.next().map(|n| self.nvlist(n)).unwrap_or_default();
        (kind, params)
    }

    fn nvlist(&mut self, pair: Pair<Rule>) -> Vec<Param> {
        let mut out = Vec::new();
        for nv in pair.into_inner() {
            let loc = self.loc(&nv);
            let mut inner = nv.into_inner();
            let (Some(name), Some(val)) = (inner.next(), inner.next()) else {
                continue;
            };
            let value = match val.as_rule() {
                Rule::obj_array => {
                    Value::Array(val.into_inner().map(|s| self.obj_string(s)).collect())
                }
                _ => Value::Str(self.obj_string(val)),
            };
            out.push(Param {
                name: name.as_str().to_string(),
                value,
                loc,
            });
        }
        out
    }

    /// An object string or backtick string, unescaped (and backticks expanded).
    fn obj_string(&mut self, pair: Pair<Rule>) -> String {
        let is_backtick = pair.as_rule() == Rule::backtick_string;
        let loc = self.loc(&pair);
        let body = pair.into_inner().next().map(|b| b.as_str()).unwrap_or("");
        let s = unescape(body);
        if is_backtick {
            self.backticks(&s, loc)
        } else {
            s
        }
    }

    fn expr_string(&mut self, pair: Pair<Rule>) -> String {
        let loc = self.loc(&pair);
        match pair.as_rule() {
            Rule::dq_string_dollar => {
                self.diags.push(
                    Diagnostic::error(loc, "$-sign in double quotes must be escaped")
                        .near(pair.as_str()),
                );
                String::new()
            }
            Rule::bt_string => {
                let body = pair.into_inner().next().map(|b| b.as_str()).unwrap_or("");
                let s = unescape(body);
                self.backticks(&s, loc)
            }
            _ => unescape(pair.into_inner().next().map(|b| b.as_str()).unwrap_or("")),
        }
    }

    /// Expands a backtick string: `echo …` with `$VAR`/`${VAR}` from the environment, or
    /// `cat FILE`. Anything else is an error, as in rsyslog.
    fn backticks(&mut self, cmd: &str, loc: Location) -> String {
        let cmd = cmd.trim_start();
        if let Some(rest) = cmd.strip_prefix("echo ") {
            return expand_env(rest.trim_start());
        }
        if cmd == "echo" {
            return String::new();
        }
        if let Some(path) = cmd.strip_prefix("cat ") {
            let path = path.trim();
            return match std::fs::read_to_string(path) {
                Ok(s) => s,
                Err(e) => {
                    self.diags.push(Diagnostic::error(
                        loc,
                        format!("backtick `cat {path}`: cannot read file: {e}"),
                    ));
                    String::new()
                }
            };
        }
        self.diags.push(
            Diagnostic::error(loc, "backticks support only `echo …` and `cat FILE`").near(cmd),
        );
        String::new()
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        let pratt = PrattParser::new()
            .op(Op::infix(Rule::op_and, Assoc::Left) | Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_contains, Assoc::Left)
                | Op::infix(Rule::op_contains_i, Assoc::Left)
                | Op::infix(Rule::op_startswith, Assoc::Left)
                | Op::infix(Rule::op_startswith_i, Assoc::Left))
            .op(Op::infix(Rule::op_concat, Assoc::Left)
                | Op::infix(Rule::op_add, Assoc::Left)
                | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left))
            .op(Op::prefix(Rule::op_not) | Op::prefix(Rule::op_neg));
        // The closures below need &mut self; collect primaries first to avoid borrowing issues.
        let cell = std::cell::RefCell::new(self);
        pratt
            .map_primary(|p| cell.borrow_mut().primary(p))
            .map_prefix(|op, e| match op.as_rule() {
                Rule::op_not => Expr::Not(Box::new(e)),
                _ => Expr::Neg(Box::new(e)),
            })
            .map_infix(|l, op, r| {
                let op = match op.as_rule() {
                    Rule::op_and => BinOp::And,
                    Rule::op_or => BinOp::Or,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_le => BinOp::Le,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_contains => BinOp::Contains,
                    Rule::op_contains_i => BinOp::ContainsI,
                    Rule::op_startswith => BinOp::StartsWith,
                    Rule::op_startswith_i => BinOp::StartsWithI,
                    Rule::op_concat => BinOp::Concat,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    _ => BinOp::Mod,
                };
                Expr::Bin(op, Box::new(l), Box::new(r))
            })
            .parse(pair.into_inner())
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        match pair.as_rule() {
            Rule::paren => match pair.into_inner().next() {
                Some(e) => self.expr(e),
                None => Expr::Str(String::new()),
            },
            Rule::exists_call => Expr::Exists(
                pair.into_inner()
                    .next()
                    .map(|v| var_name(v.as_str()))
                    .unwrap_or_default(),
            ),
            Rule::func_call => {
                let loc = self.loc(&pair);
                let mut inner = pair.into_inner();
                let name = inner
                    .next()
                    .map(|n| n.as_str().to_ascii_lowercase())
                    .unwrap_or_default();
                let args = inner.map(|a| self.expr(a)).collect();
                Expr::Func { name, args, loc }
            }
            Rule::number => Expr::Num(parse_number(pair.as_str())),
            Rule::var => Expr::Var(var_name(pair.as_str())),
            Rule::expr_array => {
                Expr::Array(pair.into_inner().map(|s| self.expr_string(s)).collect())
            }
            _ => Expr::Str(self.expr_string(pair)),
        }
    }
}

/// The name and the raw rest of a `$Directive` line.
fn directive_parts(pair: Pair<Rule>) -> (String, String) {
    let mut inner = pair.into_inner();
    let mut next = || {
        inner
            .next()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    };
    let name = next();
    (name, next())
}

/// `$!a!b` → `!a!b`; names of message properties are case-insensitive and kept lowercase.
fn var_name(raw: &str) -> String {
    let v = raw.strip_prefix('$').unwrap_or(raw);
    if v.starts_with(['!', '.', '/']) {
        v.to_string()
    } else {
        v.to_ascii_lowercase()
    }
}

/// Parses rsyslog's number forms: `0x1F` hex, `017` octal, decimal. Saturates on overflow.
fn parse_number(s: &str) -> i64 {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    i64::from_str_radix(digits, radix).unwrap_or(i64::MAX)
}

/// rsyslog's `unescapeStr`: `\\ \' \" \? \$ \a \b \f \n \r \t \v`, `\xHH`, 1-3 octal digits.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c.to_ascii_lowercase() {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'x' => {
                let hex = s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'x'),
                }
            }
            b'0'..=b'7' => {
                let mut v: u32 = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'\\' | b'\'' | b'"' | b'?' | b'$' | b'`' => out.push(c),
            _ => out.push(b'?'),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Property-filter values: a backslash followed by any character yields that character.
fn unescape_propfilt(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Expands `$VAR` and `${VAR}` from the environment; unknown variables become empty.
fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(end) => (&b[..end], end + 2),
                None => (b, b.len() + 1),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() && consumed == 0 {
            out.push('$');
        } else {
            out.push_str(&std::env::var(name).unwrap_or_default());
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Stmt> {
        let src = Source::new("t.conf", text);
        let mut d = Diagnostics::default();
        let r = parse(&src, &mut d);
        assert!(!d.has_errors(), "unexpected diagnostics: {:?}", d.items);
        r.expect("parse failed")
    }

    fn parse_err(text: &str) -> Diagnostic {
        let src = Source::new("t.conf", text);
        let mut d = Diagnostics::default();
        let _ = parse(&src, &mut d);
        d.items
            .into_iter()
            .find(|x| x.is_error())
            .expect("expected an error")
    }

    #[test]
    fn debian_selectors_and_directives() {
        let s = parse_ok(
            "module(load=\"imuxsock\")\n$FileOwner root # who\n*.*;auth,authpriv.none\t-/var/log/syslog\nauth,authpriv.* /var/log/auth.log\n*.emerg :omusrmsg:*\n",
        );
        assert_eq!(s.len(), 5);
        match &s[1].kind {
            StmtKind::Directive { name, value } => {
                assert_eq!(name, "FileOwner");
                assert_eq!(value.trim(), "root # who");
            }
            k => panic!("{k:?}"),
        }
        match &s[2].kind {
            StmtKind::PriFilter { selector, body } => {
                assert_eq!(selector, "*.*;auth,authpriv.none");
                assert!(
                    matches!(&body[0].kind, StmtKind::Actions(a) if matches!(&a[0].kind, ActKind::Legacy(l) if l == "-/var/log/syslog"))
                );
            }
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn rainerscript_if_else_and_precedence() {
        let s = parse_ok("if $msg contains 'x' and not $pri > 3 + 2 * 1 then stop else { action(type=\"omfile\" file=\"/x\") & stop }\n");
        let StmtKind::If {
            cond, else_body, ..
        } = &s[0].kind
        else {
            panic!()
        };
        let Expr::Bin(BinOp::And, l, r) = cond else {
            panic!("{cond:?}")
        };
        assert!(matches!(**l, Expr::Bin(BinOp::Contains, _, _)));
        // not binds tighter than comparison, as in rsyslog's grammar
        let Expr::Bin(BinOp::Gt, nl, nr) = &**r else {
            panic!("{r:?}")
        };
        assert!(matches!(**nl, Expr::Not(_)));
        assert!(matches!(**nr, Expr::Bin(BinOp::Add, _, _)));
        assert_eq!(else_body.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn property_filter_and_chain() {
        let s = parse_ok(":msg, !contains, \"a\\\"b\" /var/log/x\n& stop\n");
        let StmtKind::PropFilter {
            prop,
            negate,
            op,
            value,
            body,
        } = &s[0].kind
        else {
            panic!()
        };
        assert_eq!(
            (prop.as_str(), *negate, op.as_str(), value.as_str()),
            ("msg", true, "contains", "a\"b")
        );
        let StmtKind::Actions(a) = &body[0].kind else {
            panic!()
        };
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn templates_rulesets_and_objects() {
        let s = parse_ok("template(name=\"t\" type=\"list\") {\n property(name=\"msg\")\n constant(value=\"\\n\")\n}\nruleset(name=\"r\") {\n *.* /x\n}\nglobal(workDirectory=\"/tmp\" # c\n)\ninput(type=\"imtcp\" port=[\"1\", \"2\"])\n");
        let StmtKind::Template { parts, .. } = &s[0].kind else {
            panic!()
        };
        assert_eq!(parts.as_ref().unwrap().len(), 2);
        assert!(matches!(&s[1].kind, StmtKind::Ruleset { body, .. } if body.len() == 1));
        let StmtKind::Object { params, .. } = &s[3].kind else {
            panic!()
        };
        assert_eq!(params[1].value, Value::Array(vec!["1".into(), "2".into()]));
    }

    #[test]
    fn errors_are_located() {
        let e = parse_err("*.* /x\ninput(type=\"imtcp\" port=514)\n");
        assert_eq!((e.loc.line, e.loc.col), (2, 25));
        assert!(e.message.contains("quoted string"), "{}", e.message);
        let e = parse_err("if $msg == 'a' # c\n then stop\n");
        assert_eq!(e.loc.line, 1);
        let e = parse_err("if $msg == \"$x\" then stop\n");
        assert!(e.message.contains("$-sign"));
        let e = parse_err("*.* /x\n!prog\n*.* /y\n");
        assert_eq!(e.loc.line, 2);
        let e = parse_err("ruleset(name=\"r\") { *.* /x\n}\n");
        assert!(e.message.contains("own line"), "{}", e.message);
        let e = parse_err("if 1 then { global(a=\"b\") }\n");
        assert!(e.message.contains("not permitted"));
    }

    #[test]
    fn escapes_and_backticks() {
        assert_eq!(unescape(r#"a\tb\101\x41\\\q"#), "a\tbAA\\?");
        std::env::set_var("OX_SYNTAX_TEST", "v");
        let s =
            parse_ok("global(workDirectory=`echo /a/${OX_SYNTAX_TEST}/$OX_SYNTAX_TEST`)\n*.* /x\n");
        let StmtKind::Object { params, .. } = &s[0].kind else {
            panic!()
        };
        assert_eq!(params[0].value, Value::Str("/a/v/v".into()));
    }

    #[test]
    fn expressions() {
        assert_eq!(
            parse_expr("0x10 + 010").unwrap(),
            Expr::Bin(BinOp::Add, Box::new(Expr::Num(16)), Box::new(Expr::Num(8)))
        );
        assert!(
            matches!(parse_expr("re_match($msg, 'a.*')").unwrap(), Expr::Func { ref name, ref args, .. } if name == "re_match" && args.len() == 2)
        );
        assert!(matches!(parse_expr("exists($!a!b)").unwrap(), Expr::Exists(ref v) if v == "!a!b"));
    }
}
