//! omrelp: `action(type="omrelp" target= port= template= timeout= conn.timeout= windowSize=
//! rebindInterval= localClientIp=)` and the legacy `:omrelp:host:port;template`. The default template is
//! `RSYSLOG_ForwardFormat` and the default port 514, as 8.2302's omrelp. `tls="on"` with
//! `tls.authMode`, `tls.permittedPeer`, `tls.caCert`, `tls.myCert`, `tls.myPrivKey`
//! (src/relp/tls.rs). `target=["a","b"]` (with `port` one word or a list and
//! `pool.resumeInterval`) is a target pool as omfwd's (src/output/target_pool.rs), an oxsyslog
//! extension: rsyslog's omrelp takes one target.
//!
//! Built like omfwd: the rules thread renders the template and hands the message to the
//! action's queue (src/output/actq.rs); the queue's worker sends through the RELP client
//! (src/output/relp_client.rs), which counts a message delivered only when the server
//! acknowledged it, and the queue's retry/suspend/resume state machine reconnects and sends
//! the unacknowledged messages again. For "nothing lost while the target is down" use, as
//! with rsyslog, `queue.type="LinkedList"` and `action.resumeRetryCount="-1"`.

use std::time::Duration;

use crate::config::model::{Action, Config, PValue};
use crate::template::Templates;

use super::actq::{ActionQueue, QueueSettings};
use super::fwd_tls::TlsClient;
use super::queued::{int, max_message_size, QueuedOutput};
use super::relp_client::{ClientSettings, RelpClient};

/// `tls="on"`: the TLS client (files read and checked now).
fn tls_client(a: &Action, cfg: &Config, host: &str) -> Result<Option<TlsClient>, String> {
    let module = cfg.module("omrelp").map(|m| &m.params);
    crate::relp::tls::check_tlslib(module.and_then(|m| m.str("tls.tlslib")), "omrelp")?;
    let Some(ts) = crate::relp::tls::settings(&a.params, &a.loc)? else {
        return Ok(None);
    };
    // the driver's errors carry the location, which the caller adds again
    let bare = |e: String| match e.split_once(": error: ") {
        Some((_, r)) => r.to_string(),
        None => e,
    };
    let (c, warnings) = crate::tls::setup::client_config(&ts, host).map_err(bare)?;
    for w in warnings {
        crate::engine::report_warning(w);
    }
    Ok(Some(TlsClient::new(c, ts.auth, host, None)))
}

/// omrelp's builder; the action itself is a [`QueuedOutput`].
pub struct RelpOutput;

impl RelpOutput {
    /// Builds the action; `index` is its number among the config's actions.
    pub fn build(
        a: &Action,
        index: usize,
        cfg: &Config,
        templates: &Templates,
    ) -> Result<QueuedOutput, String> {
        let p = &a.params;
        // `target=[…]`: a target pool (src/output/target_pool.rs), an oxsyslog extension
        let targets = super::target_pool::targets(a, 514, "omrelp")?;
        let (host, port) = targets[0].clone();
        let max_msg = max_message_size(cfg);
        let secs = |n: &str, d: i64| Duration::from_secs(int(a, n).unwrap_or(d).max(1) as u64);
        let settings = ClientSettings {
            host,
            port,
            window: match int(a, "windowSize") {
                Some(n) if n > 0 => n as usize,
                _ => crate::relp::DEFAULT_WINDOW,
            },
            timeout: secs("timeout", 90),
            conn_timeout: secs("conn.timeout", 10),
            rebind: int(a, "rebindInterval").unwrap_or(0).max(0) as u64,
            max_msg,
            local_ip: match p.str("localClientIp") {
                Some(ip) => Some(
                    ip.parse()
                        .map_err(|_| format!("localClientIp '{ip}' is not an IP address"))?,
                ),
                None => None,
            },
        };
        let template = super::template_for(a, templates, "RSYSLOG_ForwardFormat").map_err(|e| {
            match e.split_once(": error: ") {
                Some((_, r)) => r.to_string(),
                None => e,
            }
        })?;
        let report = !matches!(
            cfg.globals.get("action.reportSuspension"),
            Some(PValue::Bool(false))
        );
        let qs = QueueSettings::from_action(a, index, "omrelp", report)?;
        let mut clients: Vec<Box<dyn super::actq::Transport>> = Vec::new();
        for (host, port) in targets {
            let s = ClientSettings {
                host,
                port,
                ..settings.clone()
            };
            let tls = tls_client(a, cfg, &s.host)?;
            clients.push(Box::new(RelpClient::new(s, tls)));
        }
        let transport = super::target_pool::TargetPool::of(
            clients,
            super::target_pool::resume_interval(a),
            "omrelp",
            true,
        );
        let target = format!("{} (relp)", transport.describe());
        Ok(QueuedOutput::new(
            template,
            ActionQueue::start(qs, transport)?,
            target,
        ))
    }
}
