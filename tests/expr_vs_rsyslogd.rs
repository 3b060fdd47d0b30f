//! RainerScript conditions against the real rsyslogd 8.2302: the same config (many `if` rules,
//! each routing to its own file) and the same messages to both daemons; every file must be
//! byte-identical. This checks rsyslog's typing rules (string vs number comparisons,
//! truthiness), operators, arrays, and the 8.2302 functions that need no variables.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

/// (file name, condition). Each matching message is written to out/NAME.log.
const RULES: &[(&str, &str)] = &[
    ("eq_str", r#"$programname == "app""#),
    ("eq_num_str", r#"$procid == 42"#),
    ("eq_str_str_num", r#"$procid == "042""#),
    ("ne", r#"$programname != "app""#),
    ("lt_num", r#"$procid < 100"#),
    ("gt_str", r#"$programname > "b""#),
    ("le_mixed", r#"$msg <= "m""#),
    ("contains", r#"$msg contains "error""#),
    ("contains_i", r#"$msg contains_i "ERROR""#),
    ("startswith", r#"$msg startswith " fail""#),
    ("startswith_i", r#"$msg startswith_i " FAIL""#),
    (
        "and_or_not",
        r#"($syslogseverity <= 3 and not $msg contains "ignore") or $programname == "kernel""#,
    ),
    ("arith", r#"$syslogfacility * 8 + $syslogseverity == $pri"#),
    ("concat", r#"$programname & ":" & $procid == "app:42""#),
    ("truthy_prefix", r#"$procid"#),
    ("neg", r#"-$syslogseverity < -3"#),
    ("mod_div", r#"$procid % 10 == 2 and $procid / 10 == 4"#),
    ("array_eq", r#"$programname == ["app", "db", "web"]"#),
    ("array_ne", r#"$programname != ["app", "db"]"#),
    ("array_contains", r#"$msg contains ["timeout", "refused"]"#),
    ("array_startswith", r#"$hostname startswith ["web", "db"]"#),
    ("strlen", r#"strlen($msg) > 20"#),
    ("tolower", r#"tolower($hostname) == "web01""#),
    ("cstr_cnum", r#"cnum($procid) + 1 == 43 and cstr(5) == "5""#),
    ("substring", r#"substring($msg, 1, 4) == "fail""#),
    ("substring_neg", r#"substring($programname, 0, -1) == "ap""#),
    (
        "ltrim_rtrim",
        r#"ltrim("  x ") == "x " and rtrim(" x  ") == " x""#,
    ),
    ("re_match", r#"re_match($msg, "[0-9]{3}")"#),
    ("re_match_i", r#"re_match_i($msg, "ERR(OR)?")"#),
    ("field_char", r#"field($msg, 58, 2) == " part2""#),
    ("field_str", r#"field($msg, "--", 2) == "b""#),
    (
        "field_missing",
        r#"field($msg, 59, 3) == "***FIELD NOT FOUND***""#,
    ),
    ("replace", r#"replace($msg, "o", "0") contains "err0r""#),
    (
        "ipv42num",
        r#"ipv42num("10.0.0.1") == 167772161 and ipv42num("x") == -1"#,
    ),
    ("num2ipv4", r#"num2ipv4(167772161) == "10.0.0.1""#),
    ("int2hex", r#"int2hex(255) == "ff""#),
    ("prifilt", r#"prifilt("mail.*;mail.!err")"#),
    ("prifilt_none", r#"prifilt("*.*;local0.none")"#),
    ("getenv", r#"getenv("OX_EXPR_TEST") == "yes""#),
    (
        "script_error",
        r#"script_error() == 0 and previous_action_suspended() == 0"#,
    ),
    ("hex_oct_nums", r#"0x10 == 16 and 010 == 8"#),
    ("syslogtag", r#"$syslogtag startswith "app[""#),
];

fn config(dir: &Path) -> String {
    let d = dir.display();
    let mut c = format!(
        "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         template(name=\"m\" type=\"string\" string=\"%rawmsg%\\n\")\n"
    );
    for (name, cond) in RULES {
        c.push_str(&format!(
            "if {cond} then action(type=\"omfile\" file=\"{d}/out/{name}.log\" template=\"m\")\n"
        ));
    }
    c.push_str(&format!(
        "*.* action(type=\"omfile\" file=\"{d}/out/all.log\" template=\"m\")\n"
    ));
    c
}

const MESSAGES: &[&str] = &[
    "<11>Nov 23 10:00:00 web01 app[42]: failed with error 500: part2",
    "<12>Nov 23 10:00:01 WEB01 app[042]: fail ERROR timeout",
    "<13>Nov 23 10:00:02 db7 db[7]: a--b--c",
    "<14>Nov 23 10:00:03 host kernel: ignore this error",
    "<19>Nov 23 10:00:04 mailhost postfix[99]: connection refused",
    "<22>Nov 23 10:00:05 mailhost postfix[100]: delivered",
    "<134>Nov 23 10:00:06 web02 web[12x]: short",
    "<131>Nov 23 10:00:07 host app[-3]: Err in step 123",
    "<165>1 2026-11-23T10:00:08Z web03 app 42 ID1 - structured one: with colon",
    "<13>Nov 23 10:00:09 host zz[1]: m is the boundary",
    "<13>Nov 23 10:00:10 host a[5]: mmm after m",
];

struct Run {
    child: Child,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(bin: &str, dir: &Path) {
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("c.conf"), config(dir)).unwrap();
    let child = Command::new(bin)
        .args(["-n", "-iNONE", "-f"])
        .arg(dir.join("c.conf"))
        .env("OX_EXPR_TEST", "yes")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let mut guard = Run { child };
    let t = Instant::now();
    let port: u16 = loop {
        if let Some(p) = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{bin} did not start: {}",
            std::fs::read_to_string(dir.join("stderr")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut s = common::connect(port);
    for m in MESSAGES {
        s.write_all(m.as_bytes()).unwrap();
        s.write_all(b"\n").unwrap();
    }
    drop(s);
    let t = Instant::now();
    while std::fs::read_to_string(dir.join("out/all.log"))
        .unwrap_or_default()
        .lines()
        .count()
        < MESSAGES.len()
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{bin}: messages did not arrive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(guard.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = guard.child.wait();
}

#[test]
fn conditions_route_like_rsyslogd() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    run("/usr/sbin/rsyslogd", theirs.path());
    run(OX, ours.path());
    let mut failures = Vec::new();
    let mut nonempty = 0;
    for (name, cond) in RULES.iter().chain([("all", "true")].iter()) {
        let f = format!("out/{name}.log");
        let a = std::fs::read(theirs.path().join(&f)).unwrap_or_default();
        let b = std::fs::read(ours.path().join(&f)).unwrap_or_default();
        if !a.is_empty() {
            nonempty += 1;
        }
        if a != b {
            failures.push(format!(
                "{name} ({cond}):\n--- rsyslogd\n{}--- oxsyslogd\n{}",
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rules differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let err = std::fs::read_to_string(theirs.path().join("stderr")).unwrap_or_default();
    assert!(
        !err.contains("error"),
        "rsyslogd reported config errors, so some rules were not compared: {err}"
    );
    eprintln!("{nonempty} of {} rule files non-empty", RULES.len() + 1);
    assert!(
        nonempty > RULES.len() / 2,
        "too few rules matched anything ({nonempty}): the test would prove little"
    );
}
