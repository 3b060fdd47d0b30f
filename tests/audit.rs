//! The signed audit log end to end (issue #10): oxsyslogd with imtcp → omaudit writes the
//! logs, `oxaudit verify` checks them. The tamper matrix edits logs the daemon wrote and
//! expects each change named with its sequence number; a property test flips single bytes.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tls_certs.rs"]
mod tls_certs;
#[path = "common/tls_conf.rs"]
mod tls_conf;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Daemon;
use oxsyslog::audit::keys::{Alg, Keyring, Signer};
use oxsyslog::audit::record::Record;
use oxsyslog::audit::verify::{verify, Options};

const DAEMON: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const OXAUDIT: &str = env!("CARGO_BIN_EXE_oxaudit");

fn keygen(dir: &Path, ty: &str) -> PathBuf {
    let out = Command::new(OXAUDIT)
        .args(["keygen", "--type", ty, "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    dir.to_path_buf()
}

fn wait_for(p: &Path) -> String {
    let t = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(p) {
            if !s.trim().is_empty() {
                return s.trim().to_string();
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{} not written",
            p.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// oxsyslogd with an imtcp listener on 127.0.0.1 (port 0) whose messages all go to one
/// omaudit action writing `dir/audit.log` with `params`; `head` is config placed before the
/// action (globals, templates, `set` statements, more inputs).
struct Node {
    daemon: Daemon,
    port: String,
    log: PathBuf,
}

impl Node {
    fn start(dir: &Path, head: &str, params: &str) -> Node {
        let _ = std::fs::remove_file(dir.join("port"));
        let d = dir.display();
        let conf = format!(
            "module(load=\"imtcp\")\nmodule(load=\"omaudit\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{d}/port\")\n{head}*.* action(type=\"omaudit\" file=\"{d}/audit.log\" {params})\n"
        );
        let daemon = Daemon::start(DAEMON, dir, &conf, &[]);
        let port = wait_for(&dir.join("port"));
        Node {
            daemon,
            port,
            log: dir.join("audit.log"),
        }
    }

    /// Sends `lines` over one TCP connection, in one write (so a few short lines arrive as
    /// one batch).
    fn send(&self, lines: &[String]) {
        let mut s = common::connect(self.port.parse().expect("port file holds a port number"));
        let mut buf = Vec::new();
        for l in lines {
            buf.extend_from_slice(l.as_bytes());
            buf.push(b'\n');
        }
        s.write_all(&buf).unwrap();
    }

    /// Waits (20 s at most) until `p` has at least `n` lines.
    fn wait_lines(&self, p: &Path, n: usize) {
        wait_lines(&self.daemon, p, n);
    }
}

/// Waits (20 s at most) until `p` has at least `n` lines; fails with the daemon's stderr.
fn wait_lines(daemon: &Daemon, p: &Path, n: usize) {
    let t = Instant::now();
    while count_lines(p) < n {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{}: {} lines, want {n}; stderr: {}",
            p.display(),
            count_lines(p),
            daemon.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The omaudit parameters for the software key made by [`keygen`] in `keydir`.
fn key_file(keydir: &Path) -> String {
    format!(
        "key.type=\"file\" key.file=\"{}/audit.key\"",
        keydir.display()
    )
}

/// Runs oxsyslogd once in `dir` with an omaudit action (extra parameters `extra`), sends
/// `lines` over TCP, waits until the start record and the events are in the log, stops it.
fn run_daemon(dir: &Path, keydir: &Path, extra: &str, lines: &[String]) {
    let before = count_lines(&dir.join("audit.log"));
    let mut node = Node::start(dir, "", &format!("{} {extra}", key_file(keydir)));
    node.send(lines);
    let want = before + 1 + lines.len();
    node.wait_lines(&node.log, want);
    assert!(node.daemon.stop(), "daemon did not stop");
    assert_eq!(
        count_lines(&dir.join("audit.log")),
        want + 1,
        "no shutdown checkpoint"
    );
}

fn count_lines(p: &Path) -> usize {
    std::fs::read(p).map_or(0, |d| d.iter().filter(|&&c| c == b'\n').count())
}

fn msgs(tag: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!("<38>1 2026-11-23T10:00:{i:02}Z host{tag} app 100{i} LOGIN [audit@32473 eventStatus=\"SUCCESS\" authToken=\"CN=Admin {i}\"] message {i} of {tag}")
        })
        .collect()
}

fn oxaudit_verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(OXAUDIT)
        .arg("verify")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A node's log written by the daemon: start (seq 0), 10 events (1..10), checkpoint (11).
fn node_log(root: &Path, node: &str) -> (PathBuf, PathBuf) {
    let dir = root.join(node);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = keygen(&dir.join("keys"), "ed25519");
    run_daemon(
        &dir,
        &keys,
        &format!(
            "nodeId=\"{node}\" checkpoint.file=\"{}/ckpt.log\"",
            dir.display()
        ),
        &msgs(node, 10),
    );
    (dir.join("audit.log"), keys.join("audit.pub"))
}

fn lines_of(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(p: &Path, l: &[String]) {
    std::fs::write(p, l.join("\n") + "\n").unwrap();
}

#[test]
fn intact_log_across_restarts_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for ty in ["ed25519", "p256"] {
        let sub = dir.join(ty);
        std::fs::create_dir_all(&sub).unwrap();
        let keys = keygen(&sub.join("keys"), ty);
        let extra = format!(
            "nodeId=\"n1\" checkpoint.file=\"{}/ckpt.log\"",
            sub.display()
        );
        run_daemon(&sub, &keys, &extra, &msgs("a", 5));
        run_daemon(&sub, &keys, &extra, &msgs("b", 3));
        let log = sub.join("audit.log");
        let recs: Vec<Record> = lines_of(&log)
            .iter()
            .map(|l| Record::from_line(l.as_bytes()).unwrap())
            .collect();
        // start, 5, checkpoint, start, 3, checkpoint — one sequence
        assert_eq!(recs.len(), 12);
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r.sequence_number, i as u64);
            assert_eq!(r.node_id, "n1");
        }
        assert_eq!(recs[1].field("authToken"), "CN=Admin 0");
        assert_eq!(recs[1].field("eventType"), "LOGIN");
        assert_eq!(recs[1].field("eventStatus"), "SUCCESS");
        assert_eq!(recs[1].field("module"), "app");
        assert!(recs[1]
            .field("additionalDetails")
            .contains("message 0 of a"));
        // the second start record names the previous head
        assert!(recs[7]
            .field("additionalDetails")
            .contains("\"previousSequenceNumber\":6"));
        let pubkey = keys.join("audit.pub");
        let ckpt = sub.join("ckpt.log");
        let (code, out) = oxaudit_verify(&[
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--checkpoints",
            ckpt.to_str().unwrap(),
            log.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("OK: 12 records, nodes n1"), "{out}");
        assert!(!out.contains("warning"), "{out}");
        // --node and --from
        let (code, out) = oxaudit_verify(&[
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--node",
            "n1",
            "--from",
            "7",
            log.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("OK: 5 records"), "{out}");
        // a key of the other kind does not verify it
        let other = keygen(&sub.join("other"), "ed25519").join("audit.pub");
        let (code, out) =
            oxaudit_verify(&["--pubkey", other.to_str().unwrap(), log.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("seq 0: unknown key"), "{out}");
        // show prints every record
        let out = Command::new(OXAUDIT)
            .arg("show")
            .arg(&log)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 12);
    }
}

#[test]
fn records_after_the_last_checkpoint_are_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, pubkey) = node_log(tmp.path(), "w");
    let mut l = lines_of(&log);
    l.pop(); // the shutdown checkpoint: as a live log looks
    write_lines(&log, &l);
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("warning: node w: 11 records after the last checkpoint (seq 0..10)"),
        "{out}"
    );
    assert!(out.contains("OK: 11 records"), "{out}");
}

#[test]
fn key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "ed25519");
    std::fs::set_permissions(
        keys.join("audit.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let conf = format!(
        "module(load=\"omaudit\")\n*.* action(type=\"omaudit\" file=\"{0}/audit.log\" key.type=\"file\" key.file=\"{0}/keys/audit.key\")\n",
        dir.display()
    );
    let mut d = Daemon::start(DAEMON, dir, &conf, &[]);
    let t = Instant::now();
    let status = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "daemon started");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let err = d.stderr();
    assert!(
        err.contains("d.conf:2:") && err.contains("audit.key") && err.contains("group or others"),
        "{err}"
    );
    assert!(!dir.join("audit.log").exists());
}

/// Re-signs a record with another key (the forger's).
fn forge(line: &str, change: impl Fn(&mut Record), key: &mut Signer) -> String {
    let mut r = Record::from_line(line.as_bytes()).unwrap();
    change(&mut r);
    r.row_protection = key.protect(&r.canonical());
    r.to_line()
}

fn flip(line: &str, at: &str) -> String {
    let i = line.find(at).unwrap() + at.len() + 2;
    let mut b = line.as_bytes().to_vec();
    b[i] ^= 0x01;
    String::from_utf8(b).unwrap()
}

#[test]
fn tamper_matrix() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, pubkey) = node_log(tmp.path(), "nodeA");
    let (log_b, pubkey_b) = node_log(tmp.path(), "nodeB");
    let orig = lines_of(&log);
    let other = lines_of(&log_b);
    assert_eq!(orig.len(), 12);
    let mut forger = Signer::generate(Alg::Ed25519).unwrap();
    let work = tmp.path().join("t.log");
    let check = |name: &str, lines: Vec<String>, expect: &[&str]| {
        write_lines(&work, &lines);
        let (code, out) = oxaudit_verify(&[
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--pubkey",
            pubkey_b.to_str().unwrap(),
            work.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{name}: {out}");
        for e in expect {
            assert!(out.contains(e), "{name}: expected '{e}' in:\n{out}");
        }
    };
    // a byte of a field
    let mut l = orig.clone();
    l[5] = flip(&l[5], "\"authToken\":");
    check("field", l, &["t.log:6: node nodeA seq 5: bad signature"]);
    // a byte of the signature
    let mut l = orig.clone();
    let i = l[5].rfind(':').unwrap() + 5;
    let mut b = l[5].clone().into_bytes();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    l[5] = String::from_utf8(b).unwrap();
    check("signature", l, &["node nodeA seq 5: bad signature"]);
    // delete a middle record
    let mut l = orig.clone();
    l.remove(5);
    check("delete", l, &["node nodeA seq 6: gap, seq 5..5 missing"]);
    // swap two records
    let mut l = orig.clone();
    l.swap(5, 6);
    check(
        "swap",
        l,
        &["t.log:7: node nodeA seq 5: out of order (after seq 6)"],
    );
    // replay a record
    let mut l = orig.clone();
    l.insert(9, orig[3].clone());
    check(
        "replay",
        l,
        &["t.log:10: node nodeA seq 3: duplicate sequence number, identical copy (replayed record) of"],
    );
    // insert a forged record: signed by a key the verifier does not know …
    let mut l = orig.clone();
    l.insert(
        7,
        forge(
            &orig[6],
            |r| r.set_field("authToken", "CN=Mallory".into()),
            &mut forger,
        ),
    );
    check("forged", l, &["t.log:8: node nodeA seq 6: unknown key"]);
    // … or claiming the real key id
    let mut l = orig.clone();
    let f = forge(&orig[10], |r| r.sequence_number = 12, &mut forger);
    let real_kid = orig[0]
        .split(':')
        .nth(orig[0].split(':').count() - 2)
        .unwrap()
        .to_string();
    let f = f.replace(forger.key_id(), &real_kid);
    l.push(f);
    check(
        "forged with the real key id",
        l,
        &["node nodeA seq 12: bad signature"],
    );
    // splice another node's records into this log
    let mut l = orig.clone();
    for (k, r) in other[3..6].iter().enumerate() {
        l.insert(6 + k, r.clone());
    }
    check("splice", l, &["node nodeB seq 3: gap, seq 0..2 missing"]);
    // renaming another node's record to this node breaks its signature
    let mut l = orig.clone();
    l.insert(6, other[6].replace("\"nodeB\"", "\"nodeA\""));
    check("relabel", l, &["node nodeA seq 6: bad signature"]);
}

#[test]
fn truncation_and_older_copy_against_exported_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "ed25519");
    let extra = format!(
        "nodeId=\"n\" checkpoint.file=\"{}/ckpt.log\"",
        dir.display()
    );
    run_daemon(dir, &keys, &extra, &msgs("one", 4));
    let older = lines_of(&dir.join("audit.log"));
    run_daemon(dir, &keys, &extra, &msgs("two", 4));
    let log = dir.join("audit.log");
    let ckpt = dir.join("ckpt.log");
    let pubkey = keys.join("audit.pub");
    let full = lines_of(&log);
    assert_eq!(full.len(), 12);
    let run = |lines: &[String]| {
        let work = dir.join("t.log");
        write_lines(&work, lines);
        oxaudit_verify(&[
            "--pubkey",
            pubkey.to_str().unwrap(),
            "--checkpoints",
            ckpt.to_str().unwrap(),
            work.to_str().unwrap(),
        ])
    };
    assert_eq!(run(&full).0, 0);
    // the last records deleted: invisible in the log itself (a warning only) …
    let cut = &full[..9];
    let (code, out) = oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), {
        write_lines(&dir.join("c.log"), cut);
        dir.join("c.log").to_str().unwrap()
    }]);
    assert_eq!(code, 0, "{out}");
    // … but not against the exported checkpoints
    let (code, out) = run(cut);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("node n seq 11: truncated: the log ends at seq 8"),
        "{out}"
    );
    // the whole file replaced by an older copy
    let (code, out) = run(&older);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("node n seq 11: truncated: the log ends at seq 5"),
        "{out}"
    );
    // a checkpoint record altered in the log
    let mut l = full.clone();
    l[11] = forge(
        &full[11],
        |r| r.time_stamp += 1,
        &mut Signer::generate(Alg::P256).unwrap(),
    );
    let (code, out) = run(&l);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("node n seq 11: unknown key"), "{out}");
    assert!(
        out.contains("node n seq 11: the log's record differs from the exported checkpoint"),
        "{out}"
    );
}

mod flips {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    struct Fixture {
        _tmp: tempfile::TempDir,
        log: Vec<u8>,
        pubkey: PathBuf,
        work: PathBuf,
    }

    fn fixture() -> &'static std::sync::Mutex<Fixture> {
        static F: OnceLock<std::sync::Mutex<Fixture>> = OnceLock::new();
        F.get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let (log, pubkey) = node_log(tmp.path(), "p");
            let work = tmp.path().join("work.log");
            std::sync::Mutex::new(Fixture {
                log: std::fs::read(log).unwrap(),
                pubkey,
                work,
                _tmp: tmp,
            })
        })
    }

    fn check(bytes: &[u8], f: &Fixture) -> bool {
        std::fs::write(&f.work, bytes).unwrap();
        let mut ring = Keyring::default();
        ring.add_path(&f.pubkey).unwrap();
        let r = verify(
            &Options {
                files: vec![f.work.clone()],
                ..Default::default()
            },
            &ring,
        )
        .unwrap();
        r.ok()
    }

    #[test]
    fn intact_fixture_verifies() {
        let f = fixture().lock().unwrap();
        assert!(check(&f.log.clone(), &f));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]
        /// Any single changed byte anywhere in the file is found.
        #[test]
        fn any_single_byte_flip_is_detected(pos in any::<proptest::sample::Index>(), x in 1u8..=255) {
            let f = fixture().lock().unwrap();
            let mut b = f.log.clone();
            let i = pos.index(b.len());
            b[i] ^= x;
            prop_assert!(!check(&b, &f), "flip at {} (xor {:#x}) not detected", i, x);
        }
    }
}

#[test]
fn batched_mode_chains_records_and_signs_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "p256");
    let extra = format!(
        "nodeId=\"b\" mode=\"batched\" checkpoint.records=\"4\" checkpoint.file=\"{}/ckpt.log\"",
        dir.display()
    );
    // 10 events: checkpoints after the 4th and 8th, and at shutdown
    let mut node = Node::start(dir, "", &format!("{} {extra}", key_file(&keys)));
    node.send(&msgs("x", 10));
    let log = node.log.clone();
    node.wait_lines(&log, 13);
    assert!(node.daemon.stop());
    let l = lines_of(&log);
    // start, 4 events, ckpt, 4 events, ckpt, 2 events, ckpt (the test is done well within
    // the 10 s checkpoint interval)
    assert_eq!(l.len(), 14, "{l:#?}");
    let recs: Vec<Record> = l
        .iter()
        .map(|x| Record::from_line(x.as_bytes()).unwrap())
        .collect();
    let kinds: Vec<&str> = recs.iter().map(|r| r.kind.name()).collect();
    assert_eq!(kinds[5], "checkpoint");
    assert_eq!(kinds[10], "checkpoint");
    assert_eq!(kinds[13], "checkpoint");
    assert_eq!(recs[2].row_protection, "-");
    assert!(recs[5].row_protection.starts_with("1:ecdsa-p256:"));
    assert_eq!(count_lines(&dir.join("ckpt.log")), 3);
    let pubkey = keys.join("audit.pub");
    let ckpt = dir.join("ckpt.log");
    let (code, out) = oxaudit_verify(&[
        "--pubkey",
        pubkey.to_str().unwrap(),
        "--checkpoints",
        ckpt.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: 14 records, nodes b"), "{out}");
    // a changed unsigned record breaks the link of the next one
    let mut t = l.clone();
    t[7] = flip(&t[7], "\"authToken\":");
    let work = dir.join("t.log");
    write_lines(&work, &t);
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), work.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("node b seq 8: broken chain link (record seq 7 was changed"),
        "{out}"
    );
}

/// Checkpoints shipped through another action: imfile follows omaudit's checkpoint.file and
/// omfwd sends each checkpoint to a real rsyslogd, which writes `%msg%`. That remote copy is
/// the anchor: a log cut after it was shipped is reported as truncated against it.
#[test]
fn checkpoints_shipped_to_a_remote_rsyslogd() {
    let rsyslogd = Path::new("/usr/sbin/rsyslogd");
    if !rsyslogd.exists() {
        eprintln!("skipped: rsyslogd not installed (scripts/test.sh installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (dir, rdir) = (tmp.path().join("ox"), tmp.path().join("r"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&rdir).unwrap();
    let r = rdir.display();
    let rconf = format!(
        "global(workDirectory=\"{r}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"0\" listenPortFileName=\"{r}/port\")\ntemplate(name=\"m\" type=\"string\" string=\"%msg%\\n\")\n*.* action(type=\"omfile\" file=\"{r}/received.log\" template=\"m\")\n"
    );
    let mut receiver = Daemon::start(rsyslogd.to_str().unwrap(), &rdir, &rconf, &[]);
    let rport = wait_for(&rdir.join("port"));
    let keys = keygen(&dir.join("keys"), "ed25519");
    let d = dir.display();
    let head = format!(
        "global(workDirectory=\"{d}\")\nmodule(load=\"imfile\")\n\
         input(type=\"imfile\" File=\"{d}/ckpt.log\" Tag=\"auditckpt:\" ruleset=\"ship\")\n\
         ruleset(name=\"ship\") {{ action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{rport}\" protocol=\"tcp\") }}\n"
    );
    let params = format!(
        "nodeId=\"s\" mode=\"batched\" checkpoint.records=\"5\" checkpoint.file=\"{d}/ckpt.log\" {}",
        key_file(&keys)
    );
    let mut node = Node::start(&dir, &head, &params);
    node.send(&msgs("s", 12));
    // start, 5 events, ckpt (6), 5 events, ckpt (12), 2 events: both checkpoints shipped
    let received = rdir.join("received.log");
    node.wait_lines(&received, 2);
    assert!(node.daemon.stop());
    assert!(receiver.stop());
    let got = std::fs::read_to_string(&received).unwrap();
    assert!(
        got.lines()
            .all(|l| l.contains("\"kind\":\"checkpoint\"") && l.contains("\"nodeId\":\"s\"")),
        "{got}"
    );
    let log = dir.join("audit.log");
    let pubkey = keys.join("audit.pub");
    let args = |log: &Path| {
        vec![
            "--pubkey".to_string(),
            pubkey.display().to_string(),
            "--checkpoints".to_string(),
            received.display().to_string(),
            log.display().to_string(),
        ]
    };
    let run = |log: &Path| {
        let a = args(log);
        oxaudit_verify(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, out) = run(&log);
    assert_eq!(code, 0, "{out}");
    // the log cut back to the first checkpoint, after the second was shipped
    let l = lines_of(&log);
    let cut = dir.join("cut.log");
    write_lines(&cut, &l[..7]);
    let (code, out) = run(&cut);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("node s seq 12: truncated: the log ends at seq 6"),
        "{out}"
    );
}

/// omaudit signing on a PKCS#11 token (SoftHSM2): the token is initialised by the test in its
/// own directory, the key is generated on it (non-extractable), the daemon signs through
/// PKCS#11, the verifier has only the public key, and no private key file exists anywhere
/// in the test's working directory.
#[test]
fn pkcs11_softhsm_signing() {
    let lib = Path::new("/usr/lib/softhsm/libsofthsm2.so");
    if !lib.exists()
        || Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipped: softhsm2 not installed (scripts/test.sh installs it)");
        return;
    }
    let hsm = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(hsm.path().join("tokens")).unwrap();
    let conf = hsm.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
            hsm.path().display()
        ),
    )
    .unwrap();
    // the daemon and oxaudit inherit it; no other test uses SoftHSM
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let out = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "oxaudit-test",
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pin = dir.join("pin");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pin)
            .unwrap();
        f.write_all(b"1234\n").unwrap();
    }
    let out = Command::new(OXAUDIT)
        .args(["keygen", "--type", "p256", "--pkcs11-module"])
        .arg(lib)
        .args([
            "--token",
            "oxaudit-test",
            "--label",
            "audit-key",
            "--pin-file",
        ])
        .arg(&pin)
        .arg("--out")
        .arg(dir.join("keys"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let extra = format!(
        "nodeId=\"hsm\" key.type=\"pkcs11\" pkcs11.sharedLibrary=\"{}\" pkcs11.tokenLabel=\"oxaudit-test\" pkcs11.keyLabel=\"audit-key\" pkcs11.pinFile=\"{}\"",
        lib.display(),
        pin.display()
    );
    let node = Node::start(dir, "", &extra);
    node.send(&msgs("hsm", 20));
    let log = node.log.clone();
    node.wait_lines(&log, 21);
    let mut daemon = node.daemon;
    assert!(daemon.stop());
    let pubkey = dir.join("keys/audit.pub");
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{}", daemon.stderr());
    assert!(out.contains("OK: 22 records, nodes hsm"), "{out}");
    assert!(lines_of(&log)[1].contains("\"rowProtection\":\"1:ecdsa-p256:"));
    // a tampered record is found with the token's public key too
    let mut l = lines_of(&log);
    l[4] = flip(&l[4], "\"authToken\":");
    write_lines(&dir.join("t.log"), &l);
    let (code, out) = oxaudit_verify(&[
        "--pubkey",
        pubkey.to_str().unwrap(),
        dir.join("t.log").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("node hsm seq 4: bad signature"), "{out}");
    // no private key anywhere in the working directory
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                walk(&e, out);
            } else {
                out.push(e);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    for f in &files {
        let text = std::fs::read(f).unwrap();
        assert!(
            memchr::memmem::find(&text, b"PRIVATE KEY").is_none()
                && f.extension().is_none_or(|x| x != "key"),
            "private key material in {}",
            f.display()
        );
    }
    // a session that lost its login (a token reset) signs again after one re-login; a failing
    // re-login is named, and not tried again within a second
    let spec = oxsyslog::audit::pkcs11::TokenSpec {
        library: lib.to_path_buf(),
        slot: None,
        token_label: Some("oxaudit-test".into()),
        key_label: "audit-key".into(),
        pin_file: pin.clone(),
    };
    let mut signer = Signer::token(&spec).unwrap();
    let mut ring = Keyring::default();
    ring.add_path(&pubkey).unwrap();
    let p = signer.try_protect(b"one").unwrap();
    ring.check(&p, b"one").unwrap();
    signer.token_key().unwrap().logout().unwrap();
    let p = signer.try_protect(b"two").unwrap();
    ring.check(&p, b"two").unwrap();
    std::fs::write(&pin, "0000\n").unwrap();
    signer.token_key().unwrap().logout().unwrap();
    let e = signer.try_protect(b"three").unwrap_err();
    assert!(
        e.contains("re-login failed") && e.contains("C_Login"),
        "{e}"
    );
    std::fs::write(&pin, "1234\n").unwrap();
    let e = signer.try_protect(b"four").unwrap_err();
    assert!(!e.contains("re-login"), "{e}");
    std::thread::sleep(oxsyslog::audit::pkcs11::RELOGIN_EVERY + Duration::from_millis(100));
    let p = signer.try_protect(b"five").unwrap();
    ring.check(&p, b"five").unwrap();
    // the key on the token is not extractable: opening refuses extractable keys, so the
    // daemon having signed proves it; and an extractable key is refused
    let out = Command::new(OXAUDIT)
        .arg("show")
        .arg(&log)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ecdsa-p256"));
}

#[test]
fn key_rollover_needs_both_public_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k1 = keygen(&dir.join("k1"), "ed25519");
    let k2 = keygen(&dir.join("k2"), "p256");
    run_daemon(dir, &k1, "nodeId=\"r\"", &msgs("old", 3));
    run_daemon(dir, &k2, "nodeId=\"r\"", &msgs("new", 3));
    let log = dir.join("audit.log");
    let (p1, p2) = (k1.join("audit.pub"), k2.join("audit.pub"));
    let (code, out) = oxaudit_verify(&[
        "--pubkey",
        p1.to_str().unwrap(),
        "--pubkey",
        p2.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: 10 records, nodes r"), "{out}");
    // a directory of public keys works as a keyring
    std::fs::create_dir(dir.join("ring")).unwrap();
    std::fs::copy(&p1, dir.join("ring/1.pub")).unwrap();
    std::fs::copy(&p2, dir.join("ring/2.pub")).unwrap();
    let ring = dir.join("ring");
    let (code, out) = oxaudit_verify(&["--pubkey", ring.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = oxaudit_verify(&["--pubkey", p1.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("node r seq 5: unknown key"), "{out}");
}

/// HUP reloads the key file: a new key is announced by a checkpoint signed with the old key
/// (naming the new key id) and signs from then on; a key that cannot be loaded is reported
/// and the old key kept.
#[test]
fn key_reload_on_hup() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k1 = keygen(&dir.join("k1"), "ed25519");
    let k2 = keygen(&dir.join("k2"), "p256");
    let cur = dir.join("cur");
    std::fs::create_dir(&cur).unwrap();
    let install = |from: &Path| {
        let tmpk = cur.join("audit.key.new");
        std::fs::copy(from.join("audit.key"), &tmpk).unwrap();
        std::fs::rename(&tmpk, cur.join("audit.key")).unwrap();
    };
    install(&k1);
    let mut node = Node::start(dir, "", &format!("nodeId=\"h\" {}", key_file(&cur)));
    let log = node.log.clone();
    let send = |lines: &[String]| node.send(lines);
    let wait_lines = |n: usize| node.wait_lines(&log, n);
    // start (0), 3 events (1..3)
    send(&msgs("one", 3));
    wait_lines(4);
    install(&k2);
    node.daemon.hup();
    // the HUP is taken with the next batch or tick: rollover checkpoint (4), then 3 events
    assert!(
        common::wait_for(&dir.join("stderr"), "replaced by key"),
        "{}",
        node.daemon.stderr()
    );
    send(&msgs("two", 3));
    wait_lines(8);
    // a key file others may read is refused on HUP; the key in use stays
    std::fs::set_permissions(
        cur.join("audit.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    node.daemon.hup();
    assert!(
        common::wait_for(&dir.join("stderr"), "cannot reload the signing key"),
        "{}",
        node.daemon.stderr()
    );
    send(&msgs("three", 2));
    wait_lines(10);
    assert!(node.daemon.stop());
    let err = node.daemon.stderr();
    assert!(
        err.contains("HUP: cannot reload the signing key")
            && err.contains("accessible by group or others"),
        "{err}"
    );
    assert!(err.contains("replaced by key"), "{err}");
    let lines = lines_of(&log);
    assert_eq!(lines.len(), 11, "{lines:#?}");
    let rollover = Record::from_line(lines[4].as_bytes()).unwrap();
    let k2_pub = std::fs::read_to_string(k2.join("audit.pub")).unwrap();
    let k2_id = oxsyslog::audit::keys::PublicKey::from_pem(&k2_pub, "k2")
        .unwrap()
        .key_id;
    assert!(
        rollover.field("additionalDetails").contains("key-rollover")
            && rollover.field("additionalDetails").contains(&k2_id),
        "{}",
        lines[4]
    );
    assert!(lines[4].contains(":ed25519:"), "{}", lines[4]);
    for l in &lines[5..] {
        assert!(l.contains(&format!(":ecdsa-p256:{k2_id}:")), "{l}");
    }
    let (p1, p2) = (k1.join("audit.pub"), k2.join("audit.pub"));
    let (code, out) = oxaudit_verify(&[
        "--pubkey",
        p1.to_str().unwrap(),
        "--pubkey",
        p2.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: 11 records, nodes h"), "{out}");
    let (code, out) = oxaudit_verify(&["--pubkey", p1.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("node h seq 5: unknown key"), "{out}");
}

/// A write that fails (the audit file replaced by a directory, then HUP) loses the batch; the
/// lost sequence numbers are declared by a signed `gap` record once writing works again, and
/// the verifier names the range as a declared gap.
/// Runs a daemon whose audit file becomes unwritable for a while (see the callers); returns
/// the temp dir, the log and the public key.
fn write_failure_run(mode: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "ed25519");
    let mut node = Node::start(
        dir,
        "",
        &format!("nodeId=\"g\" mode=\"{mode}\" {}", key_file(&keys)),
    );
    let log = node.log.clone();
    let aside = dir.join("audit.log.aside");
    node.send(&msgs("a", 3));
    node.wait_lines(&log, 4);
    std::fs::rename(&log, &aside).unwrap();
    std::fs::create_dir(&log).unwrap();
    node.daemon.hup();
    // the HUP is taken with the next batch; these records cannot be written
    std::thread::sleep(Duration::from_millis(300));
    node.send(&msgs("lost", 2));
    assert!(
        common::wait_for(&dir.join("stderr"), "cannot write audit file"),
        "{}",
        node.daemon.stderr()
    );
    std::fs::remove_dir(&log).unwrap();
    std::fs::rename(&aside, &log).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    node.send(&msgs("b", 2));
    std::thread::sleep(Duration::from_millis(300));
    assert!(node.daemon.stop());
    let pubkey = keys.join("audit.pub");
    (tmp, log, pubkey)
}

#[test]
fn failed_writes_become_a_declared_gap() {
    let (_tmp, log, pubkey) = write_failure_run("record");
    let recs: Vec<Record> = lines_of(&log)
        .iter()
        .map(|l| Record::from_line(l.as_bytes()).unwrap())
        .collect();
    let gap = recs
        .iter()
        .find(|r| r.kind.name() == "gap")
        .unwrap_or_else(|| panic!("no gap record: {recs:#?}"));
    assert!(gap.field("additionalDetails").contains("write error"));
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "node g seq {}: declared gap, seq 4..",
            gap.sequence_number
        )),
        "{out}"
    );
    assert!(!out.contains("broken chain link"), "{out}");
    assert!(!out.contains(": gap,"), "{out}");
}

/// Fields from `$!audit!…` variables and from `mapping.…` templates.
#[test]
fn fields_from_variables_and_mappings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "ed25519");
    let head = "template(name=\"svc\" type=\"string\" string=\"svc-%programname%\")\ntemplate(name=\"det\" type=\"string\" string=\"%msg%\")\nset $!audit!eventType = \"CERT_ISSUED\";\nset $!audit!searchDetail2 = \"71\";\n";
    let params = format!(
        "nodeId=\"m\" {} mapping.service=\"svc\" template=\"det\"",
        key_file(&keys)
    );
    let mut node = Node::start(dir, head, &params);
    node.send(&["<38>1 2026-11-23T10:00:00Z h signserver 7 - [audit@1 eventType=\"IGNORED\" eventStatus=\"FAILURE\"] worker failed".to_string()]);
    let log = node.log.clone();
    node.wait_lines(&log, 2);
    assert!(node.daemon.stop());
    let r = Record::from_line(lines_of(&log)[1].as_bytes()).unwrap();
    assert_eq!(r.field("eventType"), "CERT_ISSUED"); // $! beats structured data
    assert_eq!(r.field("eventStatus"), "FAILURE"); // structured data
    assert_eq!(r.field("searchDetail2"), "71");
    assert_eq!(r.field("service"), "svc-signserver"); // mapping template
    assert_eq!(r.field("module"), "signserver"); // default
    assert_eq!(r.field("searchDetail1"), "7");
    assert_eq!(r.field("authToken"), "h");
    assert_eq!(r.field("customId"), "127.0.0.1");
    assert_eq!(r.field("additionalDetails"), "worker failed");
}

/// In sequential mode a failed write does not consume sequence numbers: no gap at all.
#[test]
fn sequential_mode_has_no_gaps_after_failed_writes() {
    let (_tmp, log, pubkey) = write_failure_run("sequential");
    let recs: Vec<Record> = lines_of(&log)
        .iter()
        .map(|l| Record::from_line(l.as_bytes()).unwrap())
        .collect();
    assert!(recs.iter().all(|r| r.kind.name() != "gap"));
    // start, 3, (2 lost), 2, checkpoint
    assert_eq!(recs.len(), 7, "{recs:#?}");
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

/// `checkpoint.interval`: a signed checkpoint also while no messages arrive (heartbeat).
#[test]
fn idle_heartbeat_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let keys = keygen(&dir.join("keys"), "ed25519");
    let d = dir.display();
    let conf = format!(
        "module(load=\"omaudit\")\n*.* action(type=\"omaudit\" file=\"{d}/audit.log\" nodeId=\"h\" checkpoint.interval=\"1\" key.file=\"{}/audit.key\")\n",
        keys.display()
    );
    // internal messages only, and those go to syslog(3): the action stays idle
    let mut daemon = Daemon::start(DAEMON, dir, &conf, &[]);
    let log = dir.join("audit.log");
    wait_lines(&daemon, &log, 3);
    assert!(daemon.stop());
    let recs: Vec<Record> = lines_of(&log)
        .iter()
        .map(|l| Record::from_line(l.as_bytes()).unwrap())
        .collect();
    assert!(
        recs[1..].iter().all(|r| r.kind.name() == "checkpoint"),
        "{recs:#?}"
    );
    assert!(recs[1].field("additionalDetails").contains("heartbeat"));
    let pubkey = keys.join("audit.pub");
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

/// The Keyfactor scenario end to end: a real rsyslogd (gtls, x509/name, RFC 5424) in the role
/// of Keyfactor Command ships audit events and other messages over TLS; oxsyslogd's TLS
/// listener (x509/name, the client's name permitted) routes the Keyfactor-tagged ones with the
/// document's property filter into omaudit; `oxaudit verify` says OK and counts exactly them.
#[test]
fn keyfactor_events_over_tls_into_omaudit_verify() {
    const N: usize = 200;
    let rsyslogd = "/usr/sbin/rsyslogd";
    if !Path::new(rsyslogd).exists() {
        eprintln!("skipped: rsyslogd not installed (scripts/test.sh installs it)");
        return;
    }
    let c = tls_certs::certs();
    let tmp = tempfile::tempdir().unwrap();
    let (rdir, sdir) = (tmp.path().join("server"), tmp.path().join("sender"));
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::create_dir_all(&sdir).unwrap();
    let keys = keygen(&rdir.join("keys"), "ed25519");
    let r = rdir.display();
    let rconf = format!(
        "global(workDirectory=\"{r}\" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{ca}\" DefaultNetstreamDriverCertFile=\"{cert}\" DefaultNetstreamDriverKeyFile=\"{key}\")\n\
         module(load=\"imtcp\" StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"x509/name\" PermittedPeer=[\"client.example.net\"])\n\
         input(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{r}/rport\")\n\
         module(load=\"omaudit\")\n\
         :syslogtag, isequal, \"Keyfactor\" action(type=\"omaudit\" file=\"{r}/audit.log\" nodeId=\"kf\" {k})\n\
         & stop\n\
         *.* {r}/other.log\n",
        ca = c.ca.display(),
        cert = c.server.cert.display(),
        key = c.server.key.display(),
        k = key_file(&keys),
    );
    let mut server = Daemon::start(DAEMON, &rdir, &rconf, &[]);
    let rport = flow::port_file(&server, "rport");
    let t = tls_conf::Tls {
        driver: "gtls",
        auth: tls_conf::Auth::Name,
        ca: Some(c.ca.clone()),
        cert: Some(c.client.cert.clone()),
        key: Some(c.client.key.clone()),
        peers: vec!["server.example.net".into()],
        extra_global: String::new(),
    };
    let s = sdir.display();
    let sconf = format!(
        "global(workDirectory=\"{s}\")\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"0\" address=\"127.0.0.1\" listenPortFileName=\"{s}/sport\")\n*.* {}\n",
        tls_conf::omfwd_action(
            &t,
            rport,
            "octet-counted",
            " template=\"RSYSLOG_SyslogProtocol23Format\""
        )
    );
    let mut sender = Daemon::start(rsyslogd, &sdir, &sconf, &[]);
    let sport = flow::port_file(&sender, "sport");
    let mut lines = Vec::new();
    for i in 0..N {
        lines.push(format!("<110>1 2026-11-23T10:00:00.{i:06}Z kf-host Keyfactor - CERT_ISSUED [audit@32473 eventStatus=\"SUCCESS\" customId=\"{i}\"] certificate {i} issued"));
        if i % 4 == 0 {
            lines.push(format!(
                "<14>1 2026-11-23T10:00:00Z kf-host other - - - unrelated {i}"
            ));
        }
    }
    let mut conn = common::connect(sport);
    conn.write_all((lines.join("\n") + "\n").as_bytes())
        .unwrap();
    drop(conn);
    let log = rdir.join("audit.log");
    let t0 = Instant::now();
    while count_lines(&log) < 1 + N {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{} of {N} events; server: {}; sender: {}",
            count_lines(&log).saturating_sub(1),
            server.stderr(),
            sender.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(sender.stop());
    assert!(server.stop());
    let recs: Vec<Record> = lines_of(&log)
        .iter()
        .map(|l| Record::from_line(l.as_bytes()).unwrap())
        .collect();
    // start, the N events in order, the shutdown checkpoint
    assert_eq!(recs.len(), N + 2);
    for (i, r) in recs[1..=N].iter().enumerate() {
        assert_eq!(r.field("customId"), i.to_string());
        assert_eq!(r.field("eventType"), "CERT_ISSUED");
        assert_eq!(r.field("module"), "Keyfactor");
    }
    assert_eq!(count_lines(&rdir.join("other.log")), N / 4);
    let pubkey = keys.join("audit.pub");
    let (code, out) =
        oxaudit_verify(&["--pubkey", pubkey.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("OK: {} records, nodes kf", N + 2)),
        "{out}"
    );
}
