//! The omfile failover scenario shared by the queue tests: a primary omfile whose directory
//! does not exist yet is suspended for `$ActionResumeInterval`, its `&` successor with
//! `$ActionExecOnlyWhenPreviousIsSuspended on` takes the messages meanwhile, and once the
//! directory exists and the interval passed the primary writes again; oxsyslogd's files must
//! equal rsyslogd's. Include with `mod common; #[path = "common/failover.rs"] mod failover;`.
#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use crate::common::{read_lossy, Daemon};

/// Runs the scenario on `bin` with `head` (e.g. main queue directives) at the top of the
/// config: (the primary's file, the secondary's file).
pub fn run(bin: &str, head: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let conf = format!(
        "{head}\
         global(workDirectory=\"{d}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{d}/in.sock\")\n\
         $template t,\"%msg%\\n\"\n\
         $CreateDirs off\n\
         $ActionResumeInterval 2\n\
         *.* {d}/later/primary.log;t\n\
         $ActionExecOnlyWhenPreviousIsSuspended on\n\
         & {d}/secondary.log;t\n"
    );
    let mut daemon = Daemon::start(bin, dir.path(), &conf, &[]);
    let sock = dir.path().join("in.sock");
    daemon.wait_exists(&sock);
    let s = UnixDatagram::unbound().unwrap();
    let send = |i: usize| {
        s.send_to(format!("<14>tq: m{i}").as_bytes(), &sock)
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
    };
    // m1 finds the directory missing: suspended; m2, m3 go to the secondary
    for i in 1..=3 {
        send(i);
    }
    std::fs::create_dir(dir.path().join("later")).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    // the interval has passed: the primary is tried again and works
    for i in 4..=5 {
        send(i);
    }
    std::thread::sleep(Duration::from_millis(500));
    daemon.stop();
    (
        read_lossy(&dir.path().join("later/primary.log")),
        read_lossy(&dir.path().join("secondary.log")),
    )
}

/// Runs the scenario on rsyslogd (`rsyslogd`) and on oxsyslogd (`ox`): the scenario must have
/// worked with rsyslogd (m2 in the secondary, m5 in the primary) and both files must be equal.
pub fn like_rsyslogd(rsyslogd: &str, ox: &str, head: &str) {
    let r = run(rsyslogd, head);
    let o = run(ox, head);
    assert!(
        r.1.contains(" m2") && r.0.contains(" m5"),
        "the scenario did not work with rsyslogd: {r:?}"
    );
    assert_eq!(o, r, "(primary, secondary) differ");
}
