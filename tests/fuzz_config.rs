//! Bounded fuzzing of the config grammar and loader with proptest: no input may make
//! `load_text` panic or hang, and every config that loads without errors must survive a
//! `--dump-config` round trip (dump, load the dump without errors, dump again: same text).
//!
//! Every test is bounded in cases, in time per case (`timeout`: a hang fails the test instead of
//! blocking CI; proptest runs the cases in a forked child to enforce it) and in shrinking time.
//! Failing cases are not persisted anywhere (`failure_persistence: None`).
//!
//! Nothing generated here touches the file system: no `include(`, no `$IncludeConfig`, no
//! backticks (the random-string test can only produce them by a very unlikely accident).

use oxsyslog::config::{dump::dump, load_text, Loaded};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

/// Bounds for one fuzz test: `cases` cases, 10 s per case, shrinking bounded in steps and time.
fn bounded(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_iters: 200,
        max_shrink_time: 30_000,
        timeout: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn diagnostics(l: &Loaded) -> String {
    l.diagnostics
        .iter()
        .map(|d| format!("  {d}\n"))
        .collect::<String>()
}

/// Loads `text`; if it loads without errors, checks the dump round trip.
fn check_round_trip(text: &str) -> Result<(), TestCaseError> {
    let first = load_text("fuzz.conf", text);
    if first.has_errors() {
        return Ok(());
    }
    let dumped = dump(&first.config);
    let second = load_text("dump.conf", &dumped);
    prop_assert!(
        !second.has_errors(),
        "the dump of a config that loaded without errors does not load:\n\
         --- input ---\n{}\n--- dump ---\n{}\n--- diagnostics ---\n{}",
        text,
        dumped,
        diagnostics(&second)
    );
    let redumped = dump(&second.config);
    prop_assert_eq!(
        &dumped,
        &redumped,
        "dump is not stable under a round trip; input:\n{}",
        text
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// (a) arbitrary strings
// ------------------------------------------------------------------------------------------

/// Characters that matter to the grammar, weighted heavily so that random strings reach deep.
const SPECIAL: &[char] = &[
    '$',
    '{',
    '}',
    '(',
    ')',
    '[',
    ']',
    '#',
    '"',
    '\'',
    '\\',
    '\n',
    '\n',
    '\r',
    '\t',
    ' ',
    ' ',
    '=',
    ',',
    ';',
    ':',
    '.',
    '*',
    '!',
    '&',
    '|',
    '/',
    '-',
    '+',
    '~',
    '@',
    '^',
    '?',
    '>',
    '<',
    '%',
    '\0',
    '\x0b',
    '\x1b',
    '\u{7f}',
    '\u{a0}',
    '\u{feff}',
    'é',
    '\u{10ffff}',
];

fn fuzz_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(SPECIAL),
        3 => prop::char::range('a', 'z'),
        1 => prop::char::range('A', 'Z'),
        1 => prop::char::range('0', '9'),
        1 => any::<char>(),
    ]
}

/// Words that steer random text into the grammar's interesting paths.
const WORDS: &[&str] = &[
    "if ",
    " then ",
    "else",
    "stop",
    "foreach",
    " in ",
    " do ",
    "set ",
    "unset ",
    "reset ",
    "call ",
    "call_indirect ",
    "continue",
    "ruleset(",
    "action(",
    "template(",
    "global(",
    "module(",
    "input(",
    "main_queue(",
    "parser(",
    "lookup_table(",
    "property(",
    "constant(",
    "type=",
    "name=",
    "load=",
    "string=",
    "file=",
    "$msg",
    "$!",
    "$.",
    "$/",
    "$ModLoad ",
    "$template ",
    "$ActionQueueType ",
    "$RuleSet ",
    "*.*",
    "mail.",
    "auth,authpriv.",
    ":msg, ",
    "contains",
    " and ",
    " or ",
    "not ",
    "/*",
    "*/",
    "\\\n",
    "&",
    "~",
    "-/tmp/",
    "@@",
    ":omusrmsg:",
    "0x",
    "\"%msg%\\n\"",
    "reload_lookup_table(",
];

fn fuzz_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => fuzz_char().prop_map(String::from),
        1 => prop::sample::select(WORDS).prop_map(String::from),
    ]
}

fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Fully arbitrary unicode strings (proptest's default: any chars).
        1 => any::<String>(),
        // Grammar-heavy character soup with keywords mixed in.
        3 => prop::collection::vec(fuzz_piece(), 0..200).prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(bounded(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in arbitrary_text()) {
        let loaded = load_text("fuzz.conf", &s);
        // Whatever loaded must also be dumpable.
        let _ = dump(&loaded.config);
    }
}

// ------------------------------------------------------------------------------------------
// (b) structured configs from real rsyslog constructs, randomly mutated
// ------------------------------------------------------------------------------------------
//
// The generator follows rsyslog's lexical rules so that most unmutated configs load without
// errors and reach the round trip: `$Directive` lines, selector and property filters start their
// own line, legacy actions and directives run to the end of the line, `&` follows an action.

fn sel(v: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(v).prop_map(String::from).boxed()
}

/// Template names configs may reference: mostly built-in ones (always resolve), sometimes `t`
/// and `x` (defined by `PREAMBLE`, `template_def` or `DIRECTIVES` when they are generated).
fn tpl_ref() -> BoxedStrategy<String> {
    prop_oneof![
        3 => sel(&[
            "RSYSLOG_FileFormat",
            "RSYSLOG_TraditionalFileFormat",
            "RSYSLOG_ForwardFormat",
            "RSYSLOG_SyslogProtocol23Format",
            "RSYSLOG_DebugFormat",
        ]),
        1 => sel(&["t", "x"]),
    ]
    .boxed()
}

fn path() -> BoxedStrategy<String> {
    sel(&[
        "/tmp/x",
        "/tmp/y.log",
        "/tmp/z",
        "/tmp/%HOSTNAME%.log",
        "/tmp/dir/f.log",
    ])
}

/// Legacy `$Directive` lines that stand alone (prerequisites included).
const DIRECTIVES: &[&str] = &[
    "$FileOwner root",
    "$FileGroup adm",
    "$FileCreateMode 0640",
    "$DirCreateMode 0755",
    "$Umask 0022",
    "$WorkDirectory /tmp",
    "$ActionQueueType LinkedList",
    "$ActionQueueFileName q1",
    "$ActionQueueMaxDiskSpace 1g",
    "$ActionQueueSaveOnShutdown on",
    "$ActionResumeRetryCount -1",
    "$ActionExecOnlyWhenPreviousIsSuspended on",
    "$ActionExecOnlyWhenPreviousIsSuspended off",
    "$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat",
    "$ActionFileEnableSync on",
    "$MainMsgQueueSize 100000",
    "$MainMsgQueueType LinkedList",
    "$RepeatedMsgReduction on",
    "$PreserveFQDN on",
    "$MaxMessageSize 64k",
    "$ModLoad imtcp",
    "$ModLoad imudp",
    "$ModLoad omprog",
    "$ModLoad imtcp\n$InputTCPServerRun 10514",
    "$ModLoad imtcp\n$InputTCPMaxSessions 200\n$InputTCPServerRun 10515",
    "$ModLoad imudp\n$UDPServerAddress 127.0.0.1\n$UDPServerRun 10514",
    "$ModLoad imuxsock\n$OmitLocalLogging on",
    "$ModLoad immark\n$MarkMessagePeriod 1200",
    "$DefaultNetstreamDriver gtls",
    "$ActionSendStreamDriverMode 1",
    "$ActionSendStreamDriverAuthMode anon",
    "$template t,\"%msg%\\n\"",
    "$template x,\"/tmp/%HOSTNAME%/%programname%.log\"",
    "$template t2,\"%timegenerated% %HOSTNAME% %syslogtag%%msg:::drop-last-lf%\\n\"",
    "$template t3,\"insert into t values ('%msg%')\",sql",
    "$template s,=RSYSLOG_FileFormat",
    "$outchannel oc,/tmp/oc.log,1048576,/bin/true\n*.* :omfile:$oc",
    "$EscapeControlCharactersOnReceive off",
    "$CreateDirs on",
    "$FileOwner root # trailing comment",
    "$umask 0077",
];

/// Legacy `$RuleSet` switches, only permitted at the top level.
const TOP_DIRECTIVES: &[&str] = &[
    "$RuleSet RSYSLOG_DefaultRuleset",
    "$RuleSet rl\n*.* /tmp/rl",
    "$RuleSet rl2\n$RulesetCreateMainQueue on\n*.* /tmp/rl2\n$RuleSet RSYSLOG_DefaultRuleset",
];

/// Legacy actions (the rest of a selector line, or after `&`).
fn legacy_action() -> BoxedStrategy<String> {
    prop_oneof![
        3 => path(),
        2 => path().prop_map(|p| format!("-{p}")).boxed(),
        2 => (path(), tpl_ref()).prop_map(|(p, t)| format!("{p};{t}")).boxed(),
        1 => tpl_ref().prop_map(|t| format!("?x;{t}")).boxed(),
        2 => sel(&[
            "@127.0.0.1",
            "@@127.0.0.1:10514",
            "@@(o)[::1]:10514;RSYSLOG_ForwardFormat",
            "@remote.example:514",
            ":omusrmsg:*",
            ":omusrmsg:root,admin",
            "|/tmp/pipe",
            "~",
            "stop",
            ":omfwd:127.0.0.1",
            ":omfile:/tmp/omfile",
        ]),
    ]
    .boxed()
}

const SELECTORS: &[&str] = &[
    "*.*",
    "auth,authpriv.*",
    "*.*;auth,authpriv.none",
    "*.*;mail.none",
    "mail.info",
    "mail.=info",
    "kern.!err",
    "kern.!=warning",
    "local0.*;local1.none",
    "*.emerg",
    "user.warn;mail,news.none",
    "cron.*",
    "*.err;kern.debug;auth.notice",
    "syslog.*",
    "local7.debug",
    "*.=debug;*.=info",
];

const PROPFILTERS: &[&str] = &[
    ":msg, contains, \"x\"",
    ":msg, !contains, \"error\"",
    ":hostname, isequal, \"host1\"",
    ":programname, startswith, \"ssh\"",
    ":msg, regex, \"^a.*b$\"",
    ":msg, ereregex, \"(a|b)+\"",
    ":fromhost-ip, isequal, \"127.0.0.1\"",
    ":msg,contains,\"quote\\\"inside\"",
    ":msg, isempty, \"\"",
    ":syslogtag, contains, \"]:\"",
];

/// A filter (selector or property filter): always at the start of a line.
fn filter() -> BoxedStrategy<String> {
    prop_oneof![3 => sel(SELECTORS), 1 => sel(PROPFILTERS)].boxed()
}

/// RainerScript actions and other single statements that fit on one line.
fn rs_action() -> BoxedStrategy<String> {
    prop_oneof![
        4 => path().prop_map(|p| format!("action(type=\"omfile\" file=\"{p}\")")).boxed(),
        2 => (path(), tpl_ref()).prop_map(|(p, t)| format!(
            "action(type=\"omfile\" file=\"{p}\" template=\"{t}\")"
        )).boxed(),
        1 => Just("action(type=\"omfile\" dynaFile=\"x\")".to_string()).boxed(),
        2 => sel(&[
            "action(type=\"omfwd\" target=\"127.0.0.1\" port=\"10514\" protocol=\"tcp\")",
            "action(type=\"omfwd\" target=\"h\" queue.type=\"LinkedList\" queue.size=\"1000\" \
             action.resumeRetryCount=\"-1\")",
            "action(type=\"omfile\" file=\"/tmp/a\" action.execOnlyWhenPreviousIsSuspended=\"on\")",
            "action(type=\"omusrmsg\" users=\"*\")",
            "action(type=\"ompipe\" pipe=\"/tmp/p\")",
            "action(type=\"omdiscard\")",
            "action(type=\"omfile\" file=\"/tmp/n\" fileCreateMode=\"0600\" name=\"named\")",
            "action(type=\"omfile\" file=\"/tmp/q\" queue.type=\"Disk\" queue.filename=\"q\")",
            "action(type=\"omfile\" file=\"/tmp/e\" template=\"RSYSLOG_FileFormat\" \
             dirCreateMode=\"0700\" createDirs=\"on\" ioBufferSize=\"64k\")",
        ]),
        2 => sel(&["stop", "continue", "call_indirect \"r\";", "call_indirect $.rs;"]),
        // (a one-letter name in call is a syntax error in rsyslog's lexer)
        1 => Just("call rr".to_string()).boxed(),
    ]
    .boxed()
}

/// RainerScript expressions, recursively.
fn expr() -> BoxedStrategy<String> {
    let leaf = sel(&[
        "$msg",
        "$hostname",
        "$programname",
        "$syslogseverity",
        "$syslogfacility-text",
        "$!",
        "$!a",
        "$!a!b",
        "$.i",
        "$/g",
        "$$now",
        "'a'",
        "\"b\\n\"",
        "\"x\\\"y\"",
        "'%'",
        "\"\\\\\"",
        "1",
        "0",
        "-3",
        "0x1F",
        "017",
        "[\"a\", \"b\"]",
        "['x']",
        "exists($!a)",
        "script_error()",
        "strlen($msg)",
        "tolower($hostname)",
        "re_match($msg, 'a+')",
        "field($msg, 32, 2)",
        "cnum('5')",
        "replace($msg, 'a', 'b')",
        "getenv('HOME')",
        "wrap($msg, '\"')",
        "format_time($$now, 'date-rfc3339')",
        "prifilt('mail.*')",
        "ipv42num($fromhost-ip)",
        "re_extract($msg, '(a)', 0, 1, 'none')",
    ]);
    leaf.prop_recursive(3, 16, 3, |inner| {
        let op = sel(&[
            "contains",
            "contains_i",
            "startswith",
            "startswith_i",
            "==",
            "!=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "and",
            "or",
            "+",
            "-",
            "*",
            "/",
            "%",
            "&",
        ]);
        prop_oneof![
            3 => (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")).boxed(),
            1 => inner.clone().prop_map(|a| format!("not {a}")).boxed(),
            1 => inner.clone().prop_map(|a| format!("({a})")).boxed(),
            1 => inner.clone().prop_map(|a| format!("-({a})")).boxed(),
            1 => (inner.clone(), inner).prop_map(|(a, b)| format!("cstr({a}) & substring({b}, 0, 2)")).boxed(),
        ]
    })
    .boxed()
}

fn var() -> BoxedStrategy<String> {
    sel(&["$!a", "$!a!b", "$.i", "$/g", "$!", "$.", "$!x!y!z"])
}

/// A line-oriented statement: a filter with a legacy action, optionally continued with `&`.
fn filtered_line() -> BoxedStrategy<String> {
    (
        filter(),
        legacy_action(),
        prop::collection::vec(prop_oneof![legacy_action(), rs_action()], 0..3),
    )
        .prop_map(|(f, a, more)| {
            let mut s = format!("{f} {a}");
            for m in more {
                s.push_str("\n& ");
                s.push_str(&m);
            }
            s
        })
        .boxed()
}

/// Statements allowed at the top level and in blocks, recursively.
fn stmt() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        4 => rs_action(),
        3 => filtered_line(),
        2 => (var(), expr()).prop_map(|(v, e)| format!("set {v} = {e};")).boxed(),
        1 => (var(), expr()).prop_map(|(v, e)| format!("reset {v} = {e};")).boxed(),
        1 => var().prop_map(|v| format!("unset {v};")).boxed(),
        1 => sel(DIRECTIVES),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let block = prop::collection::vec(inner.clone(), 1..4)
            .prop_map(|v| format!("{{\n{}\n}}", v.join("\n")));
        // A statement after `then`/`do` on the same line, unless it must start its own line.
        let tail = prop_oneof![
            3 => rs_action().prop_map(|a| format!(" {a}")).boxed(),
            1 => legacy_action().prop_map(|a| format!(" {a}")).boxed(),
            1 => inner.clone().prop_map(|s| format!("\n{s}")).boxed(),
        ];
        prop_oneof![
            2 => (expr(), block.clone()).prop_map(|(e, b)| format!("if {e} then {b}")).boxed(),
            2 => (expr(), tail.clone()).prop_map(|(e, s)| format!("if {e} then{s}")).boxed(),
            1 => (expr(), block.clone(), block.clone())
                .prop_map(|(e, a, b)| format!("if {e} then {a} else {b}")).boxed(),
            1 => (expr(), tail.clone(), tail.clone())
                .prop_map(|(e, a, b)| format!("if {e} then{a}\nelse{b}")).boxed(),
            1 => (expr(), block.clone(), expr(), block.clone())
                .prop_map(|(e, a, f, b)| format!("if {e} then {a} else if {f} then {b}")).boxed(),
            1 => block.clone().prop_map(|b| format!("foreach ($.i in $!arr) do {b}")).boxed(),
            1 => tail.prop_map(|s| format!("foreach ($.j in [\"a\",\"b\"]) do{s}")).boxed(),
            2 => (filter(), block).prop_map(|(f, b)| format!("{f} {b}")).boxed(),
        ]
    })
    .boxed()
}

/// A RainerScript template definition named `t`, `x` or `u`.
fn template_def() -> BoxedStrategy<String> {
    let body = sel(&[
        "type=\"string\" string=\"%msg%\\n\"",
        "type=\"string\" string=\"/tmp/%HOSTNAME%/%$!a%.log\"",
        "type=\"string\" string=\"%timereported:::date-rfc3339% %msg:1:32:drop-last-lf%\\n\"",
        "type=\"string\" string=\"'%msg%'\" option.sql=\"on\"",
        "type=\"subtree\" subtree=\"$!\"",
        "type=\"plugin\" plugin=\"RSYSLOG_TraditionalFileFormat\"",
        "type=\"list\") {\n  property(name=\"msg\" dropLastLf=\"on\")\n  constant(value=\"\\n\")\n}",
        "type=\"list\" option.jsonf=\"on\") {\n  property(outname=\"m\" name=\"msg\" \
         format=\"jsonf\")\n  constant(outname=\"s\" value=\"v\" format=\"jsonf\")\n}",
        "type=\"list\") {\n  property(name=\"timereported\" dateFormat=\"rfc3339\")\n  \
         constant(value=\" \")\n  property(name=\"msg\" regex.expression=\"a(b)\" \
         regex.submatch=\"1\")\n}",
    ]);
    (sel(&["t", "x", "u"]), body)
        .prop_map(|(n, body)| {
            if body.ends_with('}') {
                format!("template(name=\"{n}\" {body}")
            } else {
                format!("template(name=\"{n}\" {body})")
            }
        })
        .boxed()
}

/// Items allowed only at the top level: objects, templates, rulesets.
fn top_object() -> BoxedStrategy<String> {
    prop_oneof![
        4 => sel(&[
            "global(workDirectory=\"/tmp\")",
            "global(maxMessageSize=\"64k\" preserveFQDN=\"on\")",
            "global(parser.escapeControlCharactersOnReceive=\"off\")",
            "global(defaultNetstreamDriver=\"gtls\")",
            "module(load=\"imudp\")\ninput(type=\"imudp\" port=\"10514\")",
            "module(load=\"imudp\")\ninput(type=\"imudp\" port=[\"10514\", \"10515\"] \
             address=\"127.0.0.1\")",
            "module(load=\"imtcp\" maxSessions=\"500\")\ninput(type=\"imtcp\" port=\"10514\")",
            "module(load=\"imuxsock\" SysSock.Use=\"off\")",
            "module(load=\"builtin:omfile\" template=\"RSYSLOG_FileFormat\")",
            "module(load=\"omprog\")\naction(type=\"omprog\" binary=\"/bin/cat -n\")",
            "module(load=\"impstats\" interval=\"60\")",
            "main_queue(queue.type=\"LinkedList\" queue.size=\"10000\")",
            "parser(name=\"p1\" type=\"pmrfc3164\")",
        ]),
        2 => template_def(),
        2 => (sel(&["r2", "r3", "remote"]), sel(&["", " queue.type=\"LinkedList\""]),
              prop::collection::vec(stmt(), 0..4))
            .prop_map(|(n, q, b)| format!("ruleset(name=\"{n}\"{q}) {{\n{}\n}}", b.join("\n"))).boxed(),
        1 => Just("ruleset(name=\"rr\") {\n*.* /tmp/rr\n}".to_string()).boxed(),
    ]
    .boxed()
}

/// Comments, blank lines and line continuations.
fn trivia() -> BoxedStrategy<String> {
    sel(&[
        "# a comment",
        "# comment with $ { } ( ) \" '",
        "/* block\ncomment */",
        "/* one-line block comment */",
        "",
        "   \t",
        "*.* \\\n  /tmp/cont",
        "action(type=\"omfile\" \\\n  file=\"/tmp/cont2\")",
        "if $msg contains 'a' then { stop }",
        "*.* /tmp/x\n& stop",
        "set $!a = 1;",
        "foreach ($.i in $!arr) do { stop }",
    ])
    .boxed()
}

fn fragment() -> BoxedStrategy<String> {
    prop_oneof![
        5 => stmt(),
        2 => top_object(),
        2 => sel(DIRECTIVES),
        1 => sel(TOP_DIRECTIVES),
        1 => trivia(),
    ]
    .boxed()
}

/// Whether `next` may follow `prev` on the same line (RainerScript allows that; lines that
/// start or end legacy constructs and comments do not).
fn can_share_line(prev: &str, next: &str) -> bool {
    let last_line = prev.rsplit('\n').next().unwrap_or("");
    let ends_rs = last_line.ends_with(')') || last_line.ends_with('}') || last_line.ends_with(';');
    let starts_rs = next.starts_with("action(")
        || next.starts_with("if ")
        || next.starts_with("set ")
        || next.starts_with("unset ")
        || next.starts_with("foreach ")
        || next.starts_with("global(")
        || next.starts_with("module(")
        || next.starts_with("template(")
        || next.starts_with("ruleset(");
    ends_rs
        && starts_rs
        && !last_line.trim_start().starts_with('$')
        && !last_line.contains('#')
        && !last_line.trim_start().starts_with('&')
}

/// Definitions of the template names `x` and `t` and the rulesets `r` and `rr` that
/// fragments reference.
const PREAMBLE: &str = "$template x,\"/tmp/%HOSTNAME%/%programname%.log\"
template(name=\"t\" type=\"string\" string=\"%msg%\\n\")
ruleset(name=\"r\") {
  action(type=\"omfile\" file=\"/tmp/r\")
}
ruleset(name=\"rr\") {
  action(type=\"omfile\" file=\"/tmp/rr\")
}
";

/// A sequence of fragments joined by newlines (sometimes by a space, as RainerScript allows),
/// usually after a preamble that defines the names fragments use, and usually ending with an
/// action so the config has one.
fn structured_config() -> BoxedStrategy<String> {
    (
        prop::bool::weighted(0.6),
        prop::collection::vec((fragment(), prop::bool::weighted(0.8)), 1..10),
        prop::bool::weighted(0.7),
    )
        .prop_map(|(preamble, v, final_action)| {
            let mut s = String::new();
            if preamble {
                s.push_str(PREAMBLE);
            }
            let mut prev = String::new();
            for (f, newline) in v {
                if !s.is_empty() {
                    s.push(if newline || !can_share_line(&prev, &f) {
                        '\n'
                    } else {
                        ' '
                    });
                }
                s.push_str(&f);
                prev = f;
            }
            if final_action {
                s.push_str("\n*.* /tmp/final\n");
            }
            s
        })
        .boxed()
}

/// Punctuation a mutation may insert.
const PUNCT: &[u8] = b"\"'\\$%{}()[];,.:#&!|=<>*/-+~@^?\n\t\r ";

#[derive(Clone, Debug)]
enum Mutation {
    Truncate(prop::sample::Index),
    DeleteChar(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    InsertPunct(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate).boxed(),
        3 => any::<prop::sample::Index>().prop_map(Mutation::DeleteChar).boxed(),
        2 => any::<prop::sample::Index>().prop_map(Mutation::DuplicateLine).boxed(),
        3 => (any::<prop::sample::Index>(), prop::sample::select(PUNCT))
            .prop_map(|(i, c)| Mutation::InsertPunct(i, c)).boxed(),
    ]
}

/// Applies a mutation. The vocabulary is ASCII, so every byte index is a char boundary.
fn mutate(s: &mut String, m: &Mutation) {
    debug_assert!(s.is_ascii());
    match m {
        Mutation::Truncate(i) => {
            if !s.is_empty() {
                s.truncate(i.index(s.len()));
            }
        }
        Mutation::DeleteChar(i) => {
            if !s.is_empty() {
                s.remove(i.index(s.len()));
            }
        }
        Mutation::DuplicateLine(i) => {
            let mut lines: Vec<&str> = s.split('\n').collect();
            let k = i.index(lines.len());
            lines.insert(k, lines[k]);
            *s = lines.join("\n");
        }
        Mutation::InsertPunct(i, c) => {
            let k = i.index(s.len() + 1);
            s.insert(k, *c as char);
        }
    }
}

fn mutated_config() -> BoxedStrategy<String> {
    (
        structured_config(),
        prop_oneof![
            // Unmutated configs are the ones most likely to load and reach the round trip.
            2 => Just(Vec::new()).boxed(),
            3 => prop::collection::vec(mutation(), 1..4).boxed(),
        ],
    )
        .prop_map(|(mut s, ms)| {
            for m in &ms {
                mutate(&mut s, m);
            }
            s
        })
        .boxed()
}

proptest! {
    #![proptest_config(bounded(1000))]

    #[test]
    fn structured_configs_never_panic_and_round_trip(s in mutated_config()) {
        check_round_trip(&s)?;
    }
}
