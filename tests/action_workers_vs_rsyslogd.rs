//! `queue.workerThreads` > 1 on an omfwd action queue (src/output/actq_pool.rs), with the
//! real rsyslogd 8.2302 doing the same: 20,000 numbered messages arrive over imtcp and are
//! forwarded over TCP to a listener of this test, which counts the connections and the lines
//! on each. Every message must arrive exactly once, each connection's messages in order; with
//! four workers oxsyslogd uses four connections (rsyslogd starts its extra workers as the
//! queue fills, so only "more than one" is required of it). With one worker there is one
//! connection (the count is not a constant of the test).
//!
//! Also omfwd's `conErrSkip` (its error lines, src/output/actq.rs `con_err_report`): a
//! listener that resets every connection makes each send an outage; with
//! `conErrSkip="4"` far fewer lines are written than without.

mod common;
#[path = "common/flow.rs"]
mod flow;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";
const N: usize = 20_000;

/// Per connection, the sequence numbers received on it.
type Conns = Arc<Mutex<Vec<Vec<usize>>>>;

fn listen() -> (u16, Conns) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let conns: Conns = Arc::default();
    let c = conns.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let idx = {
                let mut g = c.lock().unwrap();
                g.push(Vec::new());
                g.len() - 1
            };
            let c = c.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(s).lines().map_while(Result::ok) {
                    if let Some(n) = line
                        .split("seq=")
                        .nth(1)
                        .and_then(|r| r.get(..7))
                        .and_then(|d| d.parse().ok())
                    {
                        c.lock().unwrap()[idx].push(n);
                    }
                }
            });
        }
    });
    (port, conns)
}

/// Runs `bin` forwarding N messages with `workers` workers; returns per connection the
/// sequence numbers received.
fn forward(bin: &str, workers: usize) -> Vec<Vec<usize>> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let (port, conns) = listen();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" \
         queue.type=\"LinkedList\" queue.size=\"1000\" queue.workerThreads=\"{workers}\" \
         action.resumeRetryCount=\"-1\")\n"
    );
    let mut daemon = Daemon::start(bin, dir.path(), &conf, &[]);
    let p = flow::port_file(&daemon, "port");
    flow::feed_tcp(p, "wk", 0..N, 2000, Duration::from_millis(5));
    let t = Instant::now();
    let total = || conns.lock().unwrap().iter().map(Vec::len).sum::<usize>();
    while total() < N && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(daemon.stop(), "{bin} did not stop: {}", daemon.stderr());
    let got = conns.lock().unwrap().clone();
    got
}

fn check(bin: &str, conns: &[Vec<usize>]) {
    let mut all: Vec<usize> = conns.iter().flatten().copied().collect();
    all.sort_unstable();
    let want: Vec<usize> = (0..N).collect();
    assert!(
        all == want,
        "{bin}: {} messages received for {N} (first missing {:?}, duplicates {})",
        all.len(),
        want.iter().find(|i| all.binary_search(i).is_err()),
        all.windows(2).filter(|w| w[0] == w[1]).count()
    );
    for c in conns {
        assert!(
            c.windows(2).all(|w| w[0] < w[1]),
            "{bin}: a connection's messages out of order"
        );
    }
}

#[test]
fn four_workers_deliver_everything_over_four_connections() {
    let one = forward(OX, 1);
    check("oxsyslogd, 1 worker", &one);
    let used = |c: &[Vec<usize>]| c.iter().filter(|c| !c.is_empty()).count();
    assert_eq!(used(&one), 1, "oxsyslogd with one worker");
    let four = forward(OX, 4);
    check("oxsyslogd, 4 workers", &four);
    assert_eq!(
        used(&four),
        4,
        "oxsyslogd with four workers: connections used"
    );
    if Path::new(RSYSLOGD).exists() {
        let rs = forward(RSYSLOGD, 4);
        check("rsyslogd, 4 workers", &rs);
        assert!(
            used(&rs) > 1,
            "rsyslogd with four workers used one connection"
        );
        eprintln!(
            "connections used: oxsyslogd {}, rsyslogd {}",
            used(&four),
            used(&rs)
        );
    }
}

/// A listener that resets every connection shortly after accepting it (SO_LINGER 0): the
/// next send on it fails (an outage), and the action reconnects at once.
fn resetting_listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::sleep(Duration::from_millis(10));
            let _ = nix::sys::socket::setsockopt(
                &s,
                nix::sys::socket::sockopt::Linger,
                &nix::libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                },
            );
            drop(s);
        }
    });
    port
}

/// oxsyslogd forwarding 40 messages, one every 50 ms, to [`resetting_listener`] with
/// `conErrSkip` `skip`: the send-error lines on its stderr.
fn send_error_lines(skip: u32) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let port = resetting_listener();
    let conf = format!(
        "global(workDirectory=\"{d}\")\n\
         module(load=\"imtcp\")\n\
         input(type=\"imtcp\" port=\"0\" listenPortFileName=\"{d}/port\")\n\
         *.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" \
         conErrSkip=\"{skip}\" action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")\n"
    );
    let mut daemon = Daemon::start(OX, dir.path(), &conf, &[]);
    let p = flow::port_file(&daemon, "port");
    flow::feed_tcp(p, "ce", 0..40, 1, Duration::from_millis(50));
    std::thread::sleep(Duration::from_millis(500));
    assert!(daemon.stop(), "oxsyslogd did not stop");
    let err = daemon.stderr();
    let lines = err.matches("error forwarding to").count();
    if skip > 1 && lines > 0 {
        assert!(
            err.contains(&format!("the next {} connection error", skip - 1)),
            "{err}"
        );
    }
    lines
}

/// omfwd `conErrSkip="4"`: only every fourth send-error line is written (connect errors are
/// never skipped, as in omfwd.c); without it every outage writes one.
#[test]
fn con_err_skip_writes_every_nth_send_error() {
    let all = send_error_lines(0);
    assert!(all >= 8, "{all} send-error lines without conErrSkip");
    let some = send_error_lines(4);
    eprintln!("send-error lines: {all} without conErrSkip, {some} with conErrSkip=4");
    assert!(
        some >= 1 && some * 2 < all,
        "{some} send-error lines with conErrSkip=4, {all} without"
    );
}
