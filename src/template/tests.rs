//! Template engine tests on hand-built messages (expected bytes checked against rsyslogd
//! 8.2302 where noted).

use std::sync::Arc;

use super::*;
use crate::message::{Batch, Message, Peer, Span, SyslogTime};

/// Fields of a test message; `None` = unset.
#[derive(Default)]
struct M<'a> {
    raw: &'a str,
    fac: u8,
    sev: u8,
    v1: bool,
    host: Option<&'a str>,
    tag: Option<&'a str>,
    msg: &'a str,
    app: Option<&'a str>,
    procid: Option<&'a str>,
    msgid: Option<&'a str>,
    sd: Option<&'a str>,
    ts: Option<SyslogTime>,
}

#[allow(clippy::too_many_arguments)]
fn t3339(
    y: i16,
    mo: u8,
    d: u8,
    h: u8,
    mi: u8,
    s: u8,
    frac: u32,
    prec: u8,
    mode: u8,
    oh: u8,
    om: u8,
) -> SyslogTime {
    SyslogTime {
        time_type: 2,
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: s,
        secfrac: frac,
        secfrac_precision: prec,
        offset_mode: mode,
        offset_hour: oh,
        offset_minute: om,
    }
}

fn batch(ms: &[M<'_>]) -> Batch {
    let mut b = Batch::default();
    b.peers.push(Peer {
        host: Arc::from("localhost"),
        ip: Arc::from("127.0.0.1"),
        port: Arc::from("5514"),
    });
    for m in ms {
        let mut put = |s: Option<&str>| -> Span {
            match s {
                None => Span::EMPTY,
                Some(s) => {
                    let st = b.data.len();
                    b.data.extend_from_slice(s.as_bytes());
                    Span::new(st..b.data.len())
                }
            }
        };
        let raw = put(Some(m.raw));
        let after_pri = m.raw.find('>').map_or(0, |i| i + 1) as u32 + raw.start;
        let msg = put(Some(m.msg));
        let msg = if m.msg.is_empty() { Span::EMPTY } else { msg };
        let message = Message {
            raw,
            after_pri,
            facility: m.fac,
            severity: m.sev,
            protocol_version: m.v1 as u8,
            hostname: put(m.host),
            tag: put(m.tag),
            msg,
            app_name: put(m.app),
            procid: put(m.procid),
            msgid: put(m.msgid),
            structured_data: put(m.sd),
            time_reported: m.ts.unwrap_or_default(),
            time_generated: t3339(2024, 3, 5, 6, 7, 8, 123456, 6, b'+', 1, 0),
            time_generated_unix: 0,
            peer: 0,
            input: 0,
            parsed: true,
            ts3164_style: Default::default(),
            json: None,
        };
        b.msgs.push(message);
    }
    b
}

fn env() -> RenderEnv {
    let mut e = RenderEnv::new("myhost");
    e.input_names = vec!["imtcp".into()];
    e
}

fn legacy(text: &str) -> Template {
    Template::compile_string("t", text.as_bytes(), true, &mut Vec::new()).unwrap()
}

fn rs(text: &str) -> Template {
    Template::compile_string("t", text.as_bytes(), false, &mut Vec::new()).unwrap()
}

fn render(t: &Template, b: &Batch, i: usize) -> String {
    String::from_utf8_lossy(&t.render_to_vec(b.get(i), &env())).into_owned()
}

fn m3164() -> M<'static> {
    M {
        raw: "<13>Mar  1 10:00:00 host1 app[12]: hello \"x\" /y\\",
        fac: 1,
        sev: 5,
        host: Some("host1"),
        tag: Some("app[12]:"),
        msg: " hello \"x\" /y\\",
        ts: Some(SyslogTime {
            time_type: 1,
            ..t3339(2026, 3, 1, 10, 0, 0, 0, 0, b'+', 0, 0)
        }),
        ..Default::default()
    }
}

fn m5424() -> M<'static> {
    M {
        raw: "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\"] An application",
        fac: 20,
        sev: 5,
        v1: true,
        host: Some("mymachine.example.com"),
        msg: "An application",
        app: Some("evntslog"),
        procid: Some("-"),
        msgid: Some("ID47"),
        sd: Some("[exampleSDID@32473 iut=\"3\"]"),
        ts: Some(t3339(2003, 10, 11, 22, 14, 15, 3, 3, b'Z', 0, 0)),
        ..Default::default()
    }
}

#[test]
fn properties_as_rsyslogd_shows_them() {
    // Expected values from rsyslogd 8.2302 for the same two messages.
    let b = batch(&[
        m3164(),
        m5424(),
        M {
            tag: Some(":"),
            msg: "x",
            ..m3164()
        },
    ]);
    let t = rs("[%pri%][%pri-text%][%syslogfacility%][%syslogseverity-text%][%parsesuccess%][%app-name%][%procid%][%msgid%][%programname%][%syslogtag%][%structured-data%][%protocol-version%]");
    assert_eq!(
        render(&t, &b, 0),
        "[13][user.notice][1][notice][FAIL][app][12][-][app][app[12]:][-][0]"
    );
    assert_eq!(
        render(&t, &b, 1),
        "[165][local4.notice][20][notice][FAIL][evntslog][-][ID47][evntslog][evntslog][[exampleSDID@32473 iut=\"3\"]][1]"
    );
    assert_eq!(
        render(&t, &b, 2),
        "[13][user.notice][1][notice][FAIL][-][-][-][][:][-][0]"
    );
}

#[test]
fn builtin_debug_format() {
    let b = batch(&[m3164()]);
    let t = Templates::builtins();
    let out = render(t.get("RSYSLOG_DebugFormat").unwrap(), &b, 0);
    assert_eq!(
        out,
        "Debug line with all properties:\nFROMHOST: 'localhost', fromhost-ip: '127.0.0.1', HOSTNAME: 'host1', PRI: 13,\nsyslogtag 'app[12]:', programname: 'app', APP-NAME: 'app', PROCID: '12', MSGID: '-',\nTIMESTAMP: 'Mar  1 10:00:00', STRUCTURED-DATA: '-',\nmsg: ' hello \"x\" /y\\'\nescaped msg: ' hello \"x\" /y\\'\ninputname: imtcp rawmsg: '<13>Mar  1 10:00:00 host1 app[12]: hello \"x\" /y\\'\n$!:\n$.:\n$/:\n\n"
    );
}

#[test]
fn strgens() {
    let b = batch(&[m3164(), m5424(), M { msg: "", ..m3164() }]);
    let t = Templates::builtins();
    let r = |n: &str, i| render(t.get(n).unwrap(), &b, i);
    assert_eq!(
        r("RSYSLOG_TraditionalFileFormat", 0),
        "Mar  1 10:00:00 host1 app[12]: hello \"x\" /y\\\n"
    );
    assert_eq!(
        r("RSYSLOG_FileFormat", 1),
        "2003-10-11T22:14:15.003Z mymachine.example.com evntslog An application\n"
    );
    assert_eq!(
        r("RSYSLOG_TraditionalForwardFormat", 1),
        "<165>Oct 11 22:14:15 mymachine.example.com evntslog An application"
    );
    assert_eq!(
        r("RSYSLOG_ForwardFormat", 0),
        "<13>2026-03-01T10:00:00+00:00 host1 app[12]: hello \"x\" /y\\"
    );
    // empty MSG: the strgen adds the space, the template string does not
    assert_eq!(
        r("RSYSLOG_TraditionalFileFormat", 2),
        "Mar  1 10:00:00 host1 app[12]: \n"
    );
    assert_eq!(
        r("RSYSLOG_SysklogdFileFormat", 2),
        "Mar  1 10:00:00 host1 app[12]:\n"
    );
    assert_eq!(
        r("RSYSLOG_SyslogProtocol23Format", 1),
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\"] An application\n"
    );
    assert_eq!(r(" StdUsrMsgFmt", 0), " app[12]: hello \"x\" /y\\\n\r");
    assert_eq!(
        r(" StdJSONFmt", 0),
        "{\"message\":\" hello \\\"x\\\" \\/y\\\\\",\"fromhost\":\"host1\",\"facility\":\"user\",\"priority\":\"notice\",\"timereported\":\"2026-03-01T10:00:00+00:00\",\"timegenerated\":\"2024-03-05T06:07:08.123456+01:00\"}"
    );
    assert_eq!(
        r(" StdDBFmt", 0).split(" values ").nth(1).unwrap(),
        "(' hello \"x\" /y\\\\', 1, 'host1', 5, '20260301100000', '20240305060708', 1, 'app[12]:')"
    );
}

#[test]
fn forward_tag_is_cut_at_32() {
    let b = batch(&[M {
        tag: Some("abcdefghijklmnopqrstuvwxyz0123456789:"),
        ..m3164()
    }]);
    let t = Templates::builtins();
    let out = render(t.get("RSYSLOG_TraditionalForwardFormat").unwrap(), &b, 0);
    assert_eq!(
        out,
        "<13>Mar  1 10:00:00 host1 abcdefghijklmnopqrstuvwxyz012345 hello \"x\" /y\\"
    );
}

#[test]
fn tag_emulation_for_5424() {
    let b = batch(&[
        M {
            procid: Some("4711"),
            ..m5424()
        },
        M {
            app: None,
            procid: None,
            msgid: None,
            sd: None,
            host: None,
            ..m5424()
        },
    ]);
    let t = rs("%syslogtag%|%programname%|%app-name%|%procid%|%hostname%");
    assert_eq!(
        render(&t, &b, 0),
        "evntslog[4711]|evntslog|evntslog|4711|mymachine.example.com"
    );
    assert_eq!(render(&t, &b, 1), "|||-|localhost");
}

#[test]
fn legacy_escapes_and_positions() {
    let b = batch(&[m3164()]);
    assert_eq!(render(&legacy(r"a\tb\\c\%d\65\n"), &b, 0), "atb\\c%dA\n");
    assert_eq!(render(&rs(r"a\tb"), &b, 0), "a\\tb");
    assert_eq!(render(&legacy("%msg:2:6%"), &b, 0), "hello");
    assert_eq!(render(&legacy("%msg:5%"), &b, 0), " hell"); // to < from: swapped
    assert_eq!(render(&legacy("%msg:10:$%"), &b, 0), "\" /y\\");
    assert_eq!(
        render(&legacy("%msg:3:1:pos-end-relative%"), &b, 0),
        " /y\\"[1..].to_string().as_str()
    );
    assert_eq!(render(&legacy("%syslogtag:F,91:1%"), &b, 0), "app");
    assert_eq!(render(&legacy("%syslogtag:F,91:2%"), &b, 0), "12]:");
    assert_eq!(
        render(&legacy("%syslogtag:F,91:3%"), &b, 0),
        "**FIELD NOT FOUND**"
    );
    assert_eq!(render(&legacy("%hostname:::uppercase%"), &b, 0), "HOST1");
    assert_eq!(
        render(&legacy("%msg:R,ERE,1,DFLT:\"(.)\"--end%"), &b, 0),
        "x"
    );
    assert_eq!(
        render(&legacy("%msg:R,ERE,0,ZERO:[0-9]+--end%"), &b, 0),
        "0"
    );
    assert_eq!(
        render(&legacy("%msg:R,ERE,0,FIELD:[0-9]+--end%"), &b, 0),
        " hello \"x\" /y\\"
    );
    assert_eq!(render(&legacy("%msg:R:l*o--end%"), &b, 0), "llo");
    assert_eq!(render(&legacy("%msg:R:l+--end%"), &b, 0), "**NO MATCH**");
    assert_eq!(render(&legacy("%msg:R:(--end%"), &b, 0), "**NO MATCH**");
    assert_eq!(
        render(&legacy("%msg:R,ERE:(--end%"), &b, 0),
        "**NO MATCH** **BAD REGULAR EXPRESSION**"
    );
    assert_eq!(
        render(&legacy("%msg:::csv%"), &b, 0),
        "\" hello \"\"x\"\" /y\\\""
    );
    assert_eq!(
        render(&legacy("%msg:::jsonf%"), &b, 0),
        "\"msg\":\" hello \\\"x\\\" \\/y\\\\\""
    );
    assert_eq!(
        render(&legacy("%MSG:::jsonf:out%"), &b, 0),
        "\"out\":\" hello \\\"x\\\" \\/y\\\\\""
    );
    assert_eq!(
        render(&legacy("%msg:::secpath-replace%"), &b, 0),
        " hello \"x\" _y\\"
    );
}

#[test]
fn template_options() {
    let b = batch(&[M {
        msg: "it's \"q\" \\",
        ..m3164()
    }]);
    let mk = |opt: &str| {
        let mut t = legacy("%msg%|x'");
        if let Body::Parts { escape, .. } = &mut t.body {
            *escape = match opt {
                "sql" => Escape::Sql,
                "stdsql" => Escape::StdSql,
                "json" => Escape::Json,
                _ => Escape::JsonF,
            };
        }
        t
    };
    assert_eq!(render(&mk("sql"), &b, 0), "it\\'s \"q\" \\\\|x'");
    assert_eq!(render(&mk("stdsql"), &b, 0), "it''s \"q\" \\|x'");
    assert_eq!(render(&mk("json"), &b, 0), "it's \\\"q\\\" \\\\|x'");
    assert_eq!(render(&mk("jsonf"), &b, 0), "{it's \"q\" \\, |x'}\n");
}

#[test]
fn list_templates_from_config() {
    let conf = r#"
template(name="l1" type="list") {
  property(name="timereported" dateFormat="rfc3339" date.inUTC="on")
  constant(value=" ")
  property(name="hostname" caseConversion="upper" position.from="2" position.to="4")
  constant(value="|\\t|")
  property(name="msg" format="jsonf" outname="m")
  constant(value=" ")
  property(name="syslogtag" field.number="1" field.delimiter="91")
  constant(value=" ")
  property(name="msg" regex.expression="[a-z]+" regex.type="ERE" regex.match="1")
  constant(value=" ")
  property(name="pri" format="jsonf" dataType="number")
  constant(value="x" format="jsonf" outname="k")
  constant(value="\n")
}
template(name="l2" type="list" option.jsonf="on") {
  property(name="msg" format="jsonf" outname="message")
  property(name="procid" format="jsonf")
  property(name="$!foo" format="jsonf" onEmpty="skip")
}
$template leg,"%msg:::drop-last-lf% \"%HOSTNAME%\"\n",sql
template(name="s1" type="string" string="%msg%\n")
*.* /dev/null
"#;
    let l = crate::config::load_text("t.conf", conf);
    assert!(!l.has_errors(), "{:?}", l.diagnostics);
    let t = Templates::from_config(&l.config).unwrap();
    let b = batch(&[
        m3164(),
        M {
            ts: Some(t3339(2003, 10, 11, 22, 14, 15, 3, 3, b'-', 2, 0)),
            ..m5424()
        },
    ]);
    let r = |n: &str, i| {
        String::from_utf8_lossy(&t.get(n).unwrap().render_to_vec(b.get(i), &env())).into_owned()
    };
    assert_eq!(
        r("l1", 0),
        "2026-03-01T10:00:00.000000+00:00 OST|\t|\"m\":\" hello \\\"x\\\" \\/y\\\\\" app x \"pri\":13\"k\": \"x\"\n"
    );
    assert_eq!(
        r("l1", 1).split(' ').next().unwrap(),
        "2003-10-12T00:14:15.000003+00:00"
    );
    assert_eq!(
        r("l2", 0),
        "{\"message\":\" hello \\\"x\\\" \\/y\\\\\", \"procid\":\"12\"}\n"
    );
    assert_eq!(r("leg", 0), " hello \"x\" /y\\\\ \"host1\"\n");
    assert_eq!(r("s1", 0), " hello \"x\" /y\\\n");
    assert!(t.get(" WallFmt").is_some());
    assert!(t.get("RSYSLOG_FileFormat").is_some());
}

#[test]
fn list_errors_name_the_template() {
    let conf = r#"template(name="bad" type="list") { property(name="msg" position.from="5" position.to="2") }"#;
    let l = crate::config::load_text("t.conf", conf);
    let e = Templates::from_config(&l.config).unwrap_err();
    assert!(e.contains("'bad'") && e.contains("position.to=2"), "{e}");
}

#[test]
fn system_properties() {
    let b = batch(&[m3164()]);
    let mut e = env();
    e.now_local = t3339(2024, 2, 29, 13, 47, 5, 0, 6, b'+', 1, 0);
    e.now_utc = t3339(2024, 2, 29, 12, 47, 5, 0, 6, b'+', 0, 0);
    let t = rs("%$now% %$year% %$month% %$day% %$hour% %$hhour% %$qhour% %$minute% %$wday% %$hour-utc% %$myhostname% %$bom%");
    let out = String::from_utf8(t.render_to_vec(b.get(0), &e)).unwrap();
    assert_eq!(
        out,
        "2024-02-29 2024 02 29 13 01 03 47 4 12 myhost \u{feff}"
    );
    let mut v = Vec::new();
    props::write_prop(b.get(0), PropId::TimeReported, &e, &mut v);
    assert_eq!(v, b"Mar  1 10:00:00");
}

/// The rules thread's render cache (src/template/render_cache.rs): the same bytes as
/// rendering each time, per message, and never for a template that reads variables.
#[test]
fn render_cached_equals_render_and_skips_variables() {
    let b = batch(&[
        m3164(),
        M {
            raw: "<14>Mar  1 10:00:01 host2 other: bye",
            fac: 1,
            sev: 6,
            host: Some("host2"),
            tag: Some("other:"),
            msg: " bye",
            ..Default::default()
        },
    ]);
    let mut e = env();
    e.cache.get_mut().enable();
    let all = Templates::builtins();
    let trad: &Template = all.get("RSYSLOG_TraditionalFileFormat").unwrap(); // a built-in
    let own = rs("%hostname% %msg%\n");
    let var = rs("%$!x%\n");
    assert!(trad.fixed_per_message() && own.fixed_per_message());
    assert!(!var.fixed_per_message());
    let mut vars = crate::vars::Vars::default();
    let x = crate::vars::VarRef::parse("$!x").unwrap(); // a valid name
    for i in 0..2 {
        e.cache.get_mut().next_message();
        for t in [trad, &own] {
            let mut once = Vec::new();
            t.render_cached(b.get(i), &e, &mut once);
            let mut twice = Vec::new();
            t.render_cached(b.get(i), &e, &mut twice);
            assert_eq!(once, t.render_to_vec(b.get(i), &e), "message {i}");
            assert_eq!(once, twice, "message {i}: the kept copy");
        }
        // a variable set between two actions is seen by the second
        let mut seen = Vec::new();
        for v in ["a", "b"] {
            vars.set(&x, crate::json::Json::Str(v.as_bytes().to_vec()), true);
            let mut out = Vec::new();
            var.render_cached(b.get(i).with_vars(&vars), &e, &mut out);
            seen.push(out);
        }
        assert_eq!(seen, [b"a\n".to_vec(), b"b\n".to_vec()]);
    }
}
