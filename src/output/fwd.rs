//! omfwd over UDP and TCP: `target`, `port` (default 514), `protocol` udp|tcp,
//! `TCP_Framing` traditional|octet-counted, `TCP_FrameDelimiter`, `template` (default
//! `RSYSLOG_TraditionalForwardFormat`, or the module's / `$ActionForwardDefaultTemplate`),
//! `keepAlive*`, `rebindInterval`, `resendLastMSGOnReconnect`, `udp.sendDelay` (µs), and the
//! legacy `@host`, `@@host`, `@@(o)host:port`, `@[v6]:port` that the
//! config loader turns into these parameters. `target=["a","b","c"]` (TCP/TLS; `port` one
//! word or a list, `pool.resumeInterval`) is a target pool (src/output/target_pool.rs), as
//! rsyslog 8.2404+.
//!
//! The rules thread only renders the template and hands the message to the action's queue
//! (src/output/actq.rs); a worker thread resolves, connects, sends, retries and suspends
//! (src/output/fwd_net.rs), so a dead or slow target never blocks other actions.

use crate::config::model::{Action, Config, PValue};
use crate::template::Templates;

use super::actq::{ActionQueue, QueueSettings};
use super::fwd_net::{Framing, KeepAlive, Target, Tcp, TcpOptions, Udp};
use super::queued::{int, max_message_size, QueuedOutput};

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
        let max_msg = max_message_size(cfg);
        let rebind = int(a, "rebindInterval").unwrap_or(0).max(0) as u64;
        let tcp = p
            .str("protocol")
            .is_some_and(|s| s.eq_ignore_ascii_case("tcp"));
        // `target=[…]`: a target pool (src/output/target_pool.rs), TCP only as in rsyslog
        let mut hosts = super::target_pool::targets(a, 514, "omfwd")?;
        if !tcp && hosts.len() > 1 {
            crate::engine::report_error(format!(
                "omfwd: target pools need protocol=\"tcp\"; with UDP only the first target, {}, is used",
                hosts[0].0
            ));
            hosts.truncate(1);
        }
        let resume = super::target_pool::resume_interval(a);
        // omfwd's statistics object, `TCP-host-port` (omfwd.c `setupInstStatsCtrs`; one per
        // target of a pool), for action() statements only, as rsyslog
        let targets: Vec<Target> = hosts
            .into_iter()
            .map(|(host, port)| {
                let bytes = if from_action_statement(a) {
                    crate::stats::register_bytes(
                        index,
                        format!("{}-{host}-{port}", if tcp { "TCP" } else { "UDP" }),
                    )
                } else {
                    Default::default()
                };
                Target {
                    host,
                    port,
                    max_msg,
                    bytes,
                }
            })
            .collect();
        // queue.workerThreads: one connection per worker (src/output/actq_pool.rs; the
        // action queue refuses counts it does not take)
        let workers = int(a, "queue.workerThreads").unwrap_or(1).clamp(1, 64) as usize;
        let transport: Box<dyn super::actq::Transport> = if tcp {
            // `device`: each connection's socket is bound to it (fwd_net.rs)
            let device = p.str("device").map(str::to_string);
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
            // (one client per target of a pool: the name checked is the target's)
            let tls_settings = crate::tls::settings::for_omfwd(cfg, a).map_err(unlocated)?;
            let mut tls = Vec::with_capacity(targets.len());
            for target in &targets {
                tls.push(match &tls_settings {
                    Some(ts) => {
                        let (cc, warnings) = crate::tls::setup::client_config(ts, &target.host)
                            .map_err(unlocated)?;
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
                });
            }
            super::actq_pool::Pool::of(workers, || {
                let ts = targets
                    .iter()
                    .zip(&tls)
                    .map(|(target, tls)| {
                        Box::new(
                            Tcp::new(target.clone(), framing, options)
                                .with_tls(tls.clone())
                                .with_device(device.clone()),
                        ) as Box<dyn super::actq::Transport>
                    })
                    .collect();
                super::target_pool::TargetPool::of(ts, resume, "omfwd", false)
            })
        } else {
            let delay = int(a, "udp.sendDelay").unwrap_or(0).max(0) as u64;
            let udp = udp_options(a)?;
            super::actq_pool::Pool::of(workers, || {
                Box::new(
                    Udp::new(
                        targets[0].clone(),
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
        let mut settings =
            QueueSettings::from_action_with(a, index, "builtin:omfwd", report, report_cont)?;
        settings.keep_handed_on_suspend = cfg
            .actions
            .get(index + 1)
            .is_some_and(super::gate::runs_only_when_previous_suspended);
        let names: Vec<String> = targets.iter().map(Target::describe).collect();
        let describe = format!(
            "{} ({})",
            if names.len() == 1 {
                names.join("")
            } else {
                format!("pool [{}]", names.join(", "))
            },
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
