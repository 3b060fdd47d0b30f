//! omfwd over UDP and TCP: `target`, `port` (default 514), `protocol` udp|tcp,
//! `TCP_Framing` traditional|octet-counted, `TCP_FrameDelimiter`, `template` (default
//! `RSYSLOG_TraditionalForwardFormat`, or the module's / `$ActionForwardDefaultTemplate`),
//! `keepAlive*`, `rebindInterval`, `resendLastMSGOnReconnect`, `udp.sendDelay` (µs), and the
//! legacy `@host`, `@@host`, `@@(o)host:port`, `@[v6]:port` that the
//! config loader turns into these parameters.
//!
//! The rules thread only renders the template and hands the message to the action's queue
//! (src/output/actq.rs); a worker thread resolves, connects, sends, retries and suspends
//! (src/output/fwd_net.rs), so a dead or slow target never blocks other actions.

use crate::config::model::{Action, Config, PValue};
use crate::template::Templates;

use super::actq::{ActionQueue, QueueSettings};
use super::fwd_net::{Framing, KeepAlive, Target, Tcp, TcpOptions, Udp};
use super::queued::{int, max_message_size, port, QueuedOutput};

/// omfwd's builder; the action itself is a [`QueuedOutput`].
pub struct FwdOutput;

/// omfwd's UDP socket options (`address`, `device`, `ipfreebind`, `udp.sendbuf`,
/// `udp.sendToAll`, see fwd_net.rs `UdpOptions`).
fn udp_options(a: &Action) -> Result<super::fwd_net::UdpOptions, String> {
    let p = &a.params;
    let address = match p.str("address") {
        Some(s) => Some(
            s.trim()
                .parse::<std::net::IpAddr>()
                .map_err(|_| format!("address \"{s}\" is not an IP address"))?,
        ),
        None => None,
    };
    Ok(super::fwd_net::UdpOptions {
        address,
        device: p.str("device").map(str::to_string),
        // omfwd.c: IPFREEBIND_ENABLED_WITH_LOG by default
        ipfreebind: int(a, "ipfreebind").map_or(2, |n| n.clamp(0, 2) as u8),
        sendbuf: int(a, "udp.sendbuf").unwrap_or(0).max(0) as usize,
        send_to_all: matches!(p.get("udp.sendToAll"), Some(PValue::Bool(true))),
    })
}

impl FwdOutput {
    /// Builds the action; `index` is its number among the config's actions.
    pub fn build(
        a: &Action,
        index: usize,
        cfg: &Config,
        templates: &Templates,
    ) -> Result<QueuedOutput, String> {
        let p = &a.params;
        let host = p
            .str("target")
            .ok_or("parameter \"target\" is required")?
            .to_string();
        let port = port(a)?;
        let max_msg = max_message_size(cfg);
        let rebind = int(a, "rebindInterval").unwrap_or(0).max(0) as u64;
        let tcp = p
            .str("protocol")
            .is_some_and(|s| s.eq_ignore_ascii_case("tcp"));
        // omfwd's statistics object, `TCP-host-port` (omfwd.c `setupInstStatsCtrs`), for
        // action() statements only, as rsyslog
        let bytes = if from_action_statement(a) {
            crate::stats::register_bytes(
                index,
                format!("{}-{host}-{port}", if tcp { "TCP" } else { "UDP" }),
            )
        } else {
            Default::default()
        };
        let target = Target {
            host,
            port,
            max_msg,
            bytes,
        };
        // queue.workerThreads: one connection per worker (src/output/actq_pool.rs; the
        // action queue refuses counts it does not take)
        let workers = int(a, "queue.workerThreads").unwrap_or(1).clamp(1, 64) as usize;
        let transport: Box<dyn super::actq::Transport> = if tcp {
            // rsyslog binds a TCP connection to `device` too; here only UDP sockets are
            if p.contains("device") {
                return Err("device= with protocol=\"tcp\" is not implemented by the oxsyslogd runtime yet (UDP only); refusing to start rather than send through another interface".into());
            }
            let framing = match p.str("TCP_Framing") {
                Some(f) if f.eq_ignore_ascii_case("octet-counted") => Framing::OctetCounted,
                _ => Framing::Traditional(
                    int(a, "TCP_FrameDelimiter").map_or(b'\n', |d| d.clamp(0, 255) as u8),
                ),
            };
            let ka = |n: &str| int(a, n).unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
            let keepalive = KeepAlive {
                on: matches!(p.get("keepAlive"), Some(PValue::Bool(true))),
                probes: ka("keepAlive.probes"),
                time: ka("keepAlive.time"),
                interval: ka("keepAlive.interval"),
            };
            let options = TcpOptions {
                keepalive,
                rebind,
                resend_last: matches!(p.get("resendLastMSGOnReconnect"), Some(PValue::Bool(true))),
            };
            // TLS (src/tls/): the files are read and checked here, before privileges drop
            // (the action's location is added by the caller)
            let unlocated = |e: String| match e.split_once(": error: ") {
                Some((_, r)) => r.to_string(),
                None => e,
            };
            let tls = match crate::tls::settings::for_omfwd(cfg, a).map_err(unlocated)? {
                Some(ts) => {
                    let (cc, warnings) =
                        crate::tls::setup::client_config(&ts, &target.host).map_err(unlocated)?;
                    for w in warnings {
                        crate::engine::report_warning(w);
                    }
                    Some(super::fwd_tls::TlsClient::new(
                        cc,
                        ts.auth,
                        &target.host,
                        ts.remote_sni.as_deref(),
                    ))
                }
                None => None,
            };
            super::actq_pool::Pool::of(workers, || {
                Box::new(Tcp::new(target.clone(), framing, options).with_tls(tls.clone()))
            })
        } else {
            let delay = int(a, "udp.sendDelay").unwrap_or(0).max(0) as u64;
            let udp = udp_options(a)?;
            super::actq_pool::Pool::of(workers, || {
                Box::new(
                    Udp::new(
                        target.clone(),
                        rebind,
                        std::time::Duration::from_micros(delay),
                    )
                    .with_options(udp.clone()),
                )
            })
        };
        let module_tpl = cfg.module("omfwd").and_then(|m| m.params.str("template"));
        let tname = p
            .str("template")
            .or(module_tpl)
            .unwrap_or("RSYSLOG_TraditionalForwardFormat");
        let template = templates
            .get(tname)
            .cloned()
            .ok_or_else(|| format!("template '{tname}' not found"))?;
        let report = !matches!(
            cfg.globals.get("action.reportSuspension"),
            Some(PValue::Bool(false))
        );
        let report_cont = !matches!(
            cfg.globals.get("action.reportSuspensionContinuation"),
            Some(PValue::Bool(false))
        );
        let settings =
            QueueSettings::from_action_with(a, index, "builtin:omfwd", report, report_cont)?;
        let describe = format!(
            "{} ({})",
            target.describe(),
            if tcp { "tcp" } else { "udp" }
        );
        Ok(QueuedOutput::new(
            template,
            ActionQueue::start(settings, transport)?,
            describe,
        ))
    }
}

/// Whether the action was written as `action(type="omfwd" …)`: rsyslog 8.2302 creates
/// omfwd's statistics object (`bytes.sent`) only for those, not for legacy `@`/`@@` lines.
fn from_action_statement(a: &Action) -> bool {
    a.params.get("type").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_forwarding_lines_have_no_type_parameter() {
        let l = crate::config::load_text(
            "t.conf",
            "*.* @127.0.0.1:10514\n*.* action(type=\"omfwd\" target=\"127.0.0.1\")\n",
        );
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        let fwd: Vec<bool> = l.config.actions.iter().map(from_action_statement).collect();
        assert_eq!(fwd, [false, true]);
    }
}
