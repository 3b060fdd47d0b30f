//! Differential config checking: the real `rsyslogd -N1` (Debian's rsyslog 8.2302, verified
//! with dpkg-query) and `oxsyslogd -N1` on the same configs must agree on accept/reject, and
//! oxsyslogd's error must name the line given in the config's `# expect-error-line:` header.
//! Also: every conf-example loads, and `--dump-config` round-trips and is accepted by rsyslogd.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> PathBuf {
    root().join("compat-tests/config-check")
}

/// Fails unless the reference rsyslogd is Debian's 8.2302 package.
fn require_rsyslogd() {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "rsyslog"])
        .output()
        .expect("dpkg-query must run (tests need Debian's rsyslog package: run scripts/test.sh)");
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.starts_with("8.2302"),
        "the differential tests need Debian's rsyslog 8.2302, found '{v}'"
    );
    assert!(
        Path::new("/usr/sbin/rsyslogd").exists(),
        "/usr/sbin/rsyslogd missing"
    );
}

fn run(bin: &str, conf: &Path, cwd: &Path, extra: &[&str]) -> Output {
    // The corpus points workDirectory here; rsyslogd -N1 checks that it exists.
    std::fs::create_dir_all("/tmp/oxsyslog-n1/work").expect("create /tmp/oxsyslog-n1/work");
    Command::new(bin)
        .arg("-N1")
        .arg("-f")
        .arg(conf)
        .args(extra)
        .current_dir(cwd)
        .env("OXSYSLOG_TEST_VAR", "from-env")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

fn rsyslogd(conf: &Path, cwd: &Path) -> Output {
    run("/usr/sbin/rsyslogd", conf, cwd, &[])
}

fn oxsyslogd(conf: &Path, cwd: &Path) -> Output {
    run(OX, conf, cwd, &[])
}

fn confs(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    v.sort();
    v
}

fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .find_map(|l| {
            l.strip_prefix('#')
                .map(str::trim)
                .and_then(|l| l.strip_prefix(key))
        })
        .map(|v| v.trim().to_string())
}

/// Checks that oxsyslogd's stderr has an error located at `expect` (`N`, `path:N`, or `0`
/// meaning "no line": the error names no line).
fn error_at(stderr: &str, conf: &Path, expect: &str) -> Result<(), String> {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
    if errors.is_empty() {
        return Err(format!("no error line in output:\n{stderr}"));
    }
    let (file, line) = match expect.rsplit_once(':') {
        Some((f, l)) => (conf.parent().unwrap().join(f), l.to_string()),
        None => (conf.to_path_buf(), expect.to_string()),
    };
    if line == "0" {
        return Ok(());
    }
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    let ok = errors.iter().any(|e| {
        let Some((loc, _)) = e.split_once(": error: ") else {
            return false;
        };
        let mut parts = loc.rsplitn(3, ':');
        let _col = parts.next();
        let l = parts.next();
        // Relative paths in messages are relative to the directory rsyslogd ran in.
        let f = parts.next().map(|f| {
            let p = conf.parent().unwrap().join(f);
            std::fs::canonicalize(&p).unwrap_or(p)
        });
        l == Some(line.as_str()) && f.as_deref() == Some(file.as_path())
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an error at {}:{line}, got:\n{}",
            file.display(),
            errors.join("\n")
        ))
    }
}

fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn valid_configs_accepted_by_both() {
    require_rsyslogd();
    let all = confs("valid");
    assert!(
        all.len() >= 60,
        "need at least 60 valid configs, have {}",
        all.len()
    );
    let mut failures = Vec::new();
    for c in &all {
        let dir = c.parent().unwrap();
        let r = rsyslogd(c, dir);
        let o = oxsyslogd(c, dir);
        if !r.status.success() {
            failures.push(format!(
                "{}: rsyslogd rejects a config in valid/:\n{}",
                c.display(),
                String::from_utf8_lossy(&r.stderr)
            ));
        }
        if !o.status.success() {
            failures.push(format!(
                "{}: oxsyslogd rejects it:\n{}",
                c.display(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    report(failures);
}

#[test]
fn invalid_configs_rejected_by_both_at_the_right_line() {
    require_rsyslogd();
    let all = confs("invalid");
    assert!(
        all.len() >= 40,
        "need at least 40 invalid configs, have {}",
        all.len()
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &all {
        let text = std::fs::read_to_string(c).unwrap();
        let kind = header(&text, "kind:")
            .unwrap_or_else(|| panic!("{}: no '# kind:' header", c.display()));
        *kinds.entry(kind).or_default() += 1;
        let expect = header(&text, "expect-error-line:")
            .unwrap_or_else(|| panic!("{}: no '# expect-error-line:' header", c.display()));
        let dir = c.parent().unwrap();
        let r = rsyslogd(c, dir);
        let o = oxsyslogd(c, dir);
        if r.status.success() {
            failures.push(format!(
                "{}: rsyslogd accepts a config in invalid/",
                c.display()
            ));
        }
        if o.status.success() {
            failures.push(format!("{}: oxsyslogd accepts it", c.display()));
            continue;
        }
        if let Err(e) = error_at(&String::from_utf8_lossy(&o.stderr), c, &expect) {
            failures.push(format!("{}: {e}", c.display()));
        }
    }
    assert!(
        kinds.len() >= 25,
        "need at least 25 kinds of invalid config, have {}: {kinds:?}",
        kinds.len()
    );
    report(failures);
}

/// One deliberate disagreement: rsyslogd accepts, oxsyslogd refuses (a setting it cannot
/// enforce or a module it does not implement) with "not supported by oxsyslog" at the line
/// the file names; the file's `# reason:` header says why.
fn disagreement(file: &str) {
    require_rsyslogd();
    let c = corpus().join("disagree").join(file);
    let text = std::fs::read_to_string(&c).unwrap_or_else(|e| panic!("{}: {e}", c.display()));
    assert!(
        header(&text, "reason:").is_some(),
        "{}: no '# reason:' header",
        c.display()
    );
    let expect = header(&text, "expect-error-line:").unwrap_or_else(|| "0".into());
    let dir = c.parent().unwrap();
    let r = rsyslogd(&c, dir);
    assert!(
        r.status.success(),
        "{}: rsyslogd rejects it, so it is no disagreement:\n{}",
        c.display(),
        String::from_utf8_lossy(&r.stderr)
    );
    let o = oxsyslogd(&c, dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{}: oxsyslogd accepts it", c.display());
    if let Err(e) = error_at(&err, &c, &expect) {
        panic!("{}: {e}", c.display());
    }
    assert!(
        err.contains("not supported by oxsyslog"),
        "{}: the error must say 'not supported by oxsyslog':\n{err}",
        c.display()
    );
}

#[test]
fn disagree_gnutls_priority_string() {
    disagreement("01-gnutls-priority-string.conf");
}

#[test]
fn disagree_omfile_ziplevel() {
    disagreement("02-omfile-ziplevel.conf");
}

#[test]
fn disagree_legacy_omfile_ziplevel() {
    disagreement("03-legacy-omfile-ziplevel.conf");
}

#[test]
fn disagree_module_mmjsonparse() {
    disagreement("04-module-mmjsonparse.conf");
}

#[test]
fn disagree_module_omuxsock() {
    disagreement("05-module-omuxsock.conf");
}

#[test]
fn disagree_streamdriver_mbedtls() {
    disagreement("06-streamdriver-mbedtls.conf");
}

#[test]
fn disagree_unknown_tls_authmode() {
    disagreement("07-unknown-tls-authmode.conf");
}

#[test]
fn disagree_omfwd_compression() {
    disagreement("08-omfwd-compression.conf");
}

/// Every file in disagree/ has its named test above.
#[test]
fn every_disagreement_has_a_named_test() {
    let src = std::fs::read_to_string(root().join("tests/config_check.rs")).unwrap();
    for c in confs("disagree") {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            src.contains(&format!("disagreement(\"{name}\")")),
            "{name} has no named test"
        );
    }
}

/// One deliberate extension: a function of newer rsyslog that 8.2302 does not have. rsyslogd
/// 8.2302 refuses the config (it reports "function 'NAME' not found" at the line the file's
/// `# expect-rsyslog-error-line:` names, then crashes), oxsyslogd accepts it; the file's
/// `# reason:` header says what the function is, `# function:` names it.
fn extension(file: &str) {
    require_rsyslogd();
    let c = corpus().join("extensions").join(file);
    let text = std::fs::read_to_string(&c).unwrap_or_else(|e| panic!("{}: {e}", c.display()));
    assert!(
        header(&text, "reason:").is_some(),
        "{}: no '# reason:' header",
        c.display()
    );
    let func = header(&text, "function:")
        .unwrap_or_else(|| panic!("{}: no '# function:' header", c.display()));
    let line = header(&text, "expect-rsyslog-error-line:")
        .unwrap_or_else(|| panic!("{}: no '# expect-rsyslog-error-line:' header", c.display()));
    let dir = c.parent().unwrap();
    let r = rsyslogd(&c, dir);
    let rerr = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success(),
        "{}: rsyslogd 8.2302 accepts it, so it is no extension",
        c.display()
    );
    assert!(
        rerr.contains(&format!("line {line}: function '{func}' not found")),
        "{}: rsyslogd should report function '{func}' not found at line {line}:\n{rerr}",
        c.display()
    );
    let o = oxsyslogd(&c, dir);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && !err.contains("error"),
        "{}: oxsyslogd refuses it:\n{err}",
        c.display()
    );
}

#[test]
fn extension_toupper() {
    extension("01-toupper.conf");
}

#[test]
fn extension_cbool() {
    extension("02-cbool.conf");
}

#[test]
fn extension_split() {
    extension("03-split.conf");
}

#[test]
fn extension_is_in_subnet() {
    extension("04-is-in-subnet.conf");
}

#[test]
fn extension_b64_decode() {
    extension("05-b64-decode.conf");
}

/// Every file in extensions/ has its named test above.
#[test]
fn every_extension_has_a_named_test() {
    let src = std::fs::read_to_string(root().join("tests/config_check.rs")).unwrap();
    for c in confs("extensions") {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            src.contains(&format!("extension(\"{name}\")")),
            "{name} has no named test"
        );
    }
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("conf-examples"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    v.sort();
    v
}

#[test]
fn conf_examples_load() {
    require_rsyslogd();
    let mut failures = Vec::new();
    let all = examples();
    assert!(
        all.len() >= 20,
        "need the conf-examples, have {}",
        all.len()
    );
    for c in all {
        let text = std::fs::read_to_string(&c).unwrap();
        let o = oxsyslogd(&c, &root());
        if !o.status.success() {
            failures.push(format!(
                "{}: oxsyslogd rejects it:\n{}",
                c.display(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        if !text.contains("oxsyslog-only:") {
            let r = rsyslogd(&c, &root());
            if !r.status.success() {
                failures.push(format!(
                    "{}: rsyslogd rejects it:\n{}",
                    c.display(),
                    String::from_utf8_lossy(&r.stderr)
                ));
            }
        }
    }
    report(failures);
}

/// dump → load → dump is identical, and rsyslogd -N1 accepts every dump.
#[test]
fn dump_config_round_trips() {
    require_rsyslogd();
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut cases: Vec<(PathBuf, PathBuf)> = confs("valid")
        .into_iter()
        .map(|c| {
            let d = c.parent().unwrap().to_path_buf();
            (c, d)
        })
        .collect();
    cases.extend(examples().into_iter().map(|c| (c, root())));
    for (i, (c, cwd)) in cases.iter().enumerate() {
        let oxonly = std::fs::read_to_string(c)
            .unwrap()
            .contains("oxsyslog-only:");
        let d1 = run(OX, c, cwd, &["--dump-config"]);
        if !d1.status.success() {
            failures.push(format!(
                "{}: --dump-config failed:\n{}",
                c.display(),
                String::from_utf8_lossy(&d1.stderr)
            ));
            continue;
        }
        let dump1 = String::from_utf8(d1.stdout).unwrap();
        let f1 = tmp.path().join(format!("dump-{i}.conf"));
        std::fs::write(&f1, &dump1).unwrap();
        let d2 = run(OX, &f1, cwd, &["--dump-config"]);
        let mut dump2 = String::from_utf8_lossy(&d2.stdout).into_owned();
        // Deliberate exception (see dump_of_legacy_imfile_statefile_is_a_comment): a legacy
        // imfile state file name has no RainerScript form rsyslogd accepts, so the first dump
        // carries it as a comment; from the second dump on, the text must be stable.
        let mut dump1 = dump1;
        if dump1.contains("# imfile stateFile=") {
            let f2 = tmp.path().join(format!("dump-{i}-2.conf"));
            std::fs::write(&f2, &dump2).unwrap();
            let d3 = run(OX, &f2, cwd, &["--dump-config"]);
            dump1 = std::mem::replace(&mut dump2, String::from_utf8_lossy(&d3.stdout).into_owned());
        }
        if !d2.status.success() || dump1 != dump2 {
            failures.push(format!(
                "{}: dump does not round-trip:\n{}\n--- first dump\n{dump1}\n--- second dump\n{dump2}",
                c.display(),
                String::from_utf8_lossy(&d2.stderr)
            ));
            continue;
        }
        if !oxonly {
            let r = rsyslogd(&f1, cwd);
            if !r.status.success() {
                failures.push(format!(
                    "{}: rsyslogd rejects the dump:\n{}\n--- dump\n{dump1}",
                    c.display(),
                    String::from_utf8_lossy(&r.stderr)
                ));
            }
        }
    }
    report(failures);
}

/// Deliberate difference from a plain round trip: `$InputFileStateFile` maps to imfile's
/// `stateFile`, which rsyslogd -N1 refuses in RainerScript ("deprecated"), so the dump shows
/// it as a comment instead of a parameter.
#[test]
fn dump_of_legacy_imfile_statefile_is_a_comment() {
    let c = corpus().join("valid/60-legacy-imfile.conf");
    let out = run(OX, &c, c.parent().unwrap(), &["--dump-config"]);
    assert!(out.status.success());
    let dump = String::from_utf8(out.stdout).unwrap();
    assert!(
        dump.contains("# imfile stateFile=\"stat-legacy\""),
        "{dump}"
    );
    let input = dump
        .lines()
        .find(|l| l.starts_with("input(type=\"imfile\""))
        .unwrap();
    assert!(!input.contains("stateFile"), "{dump}");
}
