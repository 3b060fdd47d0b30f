//! omkafka's start-time checks, with and without the `kafka` cargo feature: without it an
//! omkafka action is a config error naming the file and line and the missing Kafka support;
//! with it a bad `confParam` (refused by librdkafka) or a missing `dynaKey` template stops
//! the start with a located error, and a good action starts.

mod common;

use std::time::{Duration, Instant};

use common::Daemon;

const OX: &str = env!("CARGO_BIN_EXE_oxsyslogd");

/// Starts oxsyslogd on `action` and waits for it to exit (at most `secs`): (exited, stderr).
fn start_for(action: &str, secs: u64) -> (bool, String) {
    let t = tempfile::tempdir().unwrap();
    let conf = format!("module(load=\"omkafka\")\n\n{action}\n",);
    let mut d = Daemon::start(OX, t.path(), &conf, &[]);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        if let Ok(Some(_)) = d.child.try_wait() {
            return (true, d.stderr());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let e = d.stderr();
    d.stop();
    (false, e)
}

/// [`start_for`] with 15 s: for configs that must fail.
fn start(action: &str) -> (bool, String) {
    start_for(action, 15)
}

#[cfg(not(feature = "kafka"))]
#[test]
fn omkafka_without_the_feature_is_a_located_error() {
    let (exited, err) = start("action(type=\"omkafka\" topic=\"t\" broker=[\"127.0.0.1:1\"])");
    assert!(exited, "started without Kafka support: {err}");
    assert!(err.contains("d.conf:3"), "{err}");
    assert!(err.contains("without Kafka support"), "{err}");
}

#[cfg(feature = "kafka")]
#[test]
fn bad_conf_param_and_missing_template_are_located_errors() {
    let (exited, err) = start(
        "action(type=\"omkafka\" topic=\"t\" broker=[\"127.0.0.1:1\"] confParam=[\"no.such.property=1\"])",
    );
    assert!(exited, "started with a bad confParam: {err}");
    assert!(
        err.contains("d.conf:3") && err.contains("no.such.property"),
        "{err}"
    );

    let (exited, err) = start("action(type=\"omkafka\" topic=\"t\" key=\"nokey\" dynaKey=\"on\")");
    assert!(exited, "started without the key template: {err}");
    assert!(err.contains("d.conf:3") && err.contains("nokey"), "{err}");

    let (exited, err) = start_for(
        "action(type=\"omkafka\" topic=\"t\" broker=[\"127.0.0.1:1\"])",
        3,
    );
    assert!(!exited, "a good action did not start: {err}");
}
