//! Output modules (actions). Each renders its template into a buffer per batch and writes the
//! whole batch at once.

pub mod actq;
pub mod actq_pool;
pub mod audit;
pub mod dynafile;
pub mod file;
pub mod fwd;
pub mod fwd_net;
pub mod fwd_tls;
pub mod gate;
pub mod kafka;
pub mod kafka_files;
#[cfg(feature = "kafka")]
pub mod kafka_producer;
pub mod pipe;
pub mod prog;
pub mod queued;
pub mod relp;
pub mod relp_client;
pub mod shared;
pub mod target_pool;
pub mod usrmsg;

use crate::config::model::{Action, Config};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Templates};

/// What an action does with messages. Called from the processing thread only.
pub trait Output: Send {
    /// Takes one message of the current batch.
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv);
    /// The batch is done: write what was collected (one write per batch where possible).
    fn end_batch(&mut self);
    /// Whether the action is suspended right now (its last attempt failed and the retry
    /// interval has not passed): `previous_action_suspended()` and
    /// `action.execOnlyWhenPreviousIsSuspended` read it after each message.
    fn suspended_now(&self) -> bool {
        false
    }
    /// One message through the action's gate (`gate`: the rules thread's own; a shared
    /// action, src/output/shared.rs, keeps its gate under its lock and gets `None`): `None`
    /// when the gate holds the message back, else whether the action is suspended after it.
    fn gated(
        &mut self,
        gate: Option<&mut gate::Gate>,
        prev_suspended: bool,
        now: i64,
        m: MsgRef<'_>,
        env: &RenderEnv,
    ) -> Option<bool> {
        if !gate.is_none_or(|g| g.admit(prev_suspended, now)) {
            return None;
        }
        self.process(m, env);
        Some(self.suspended_now())
    }
    /// Called about once a second, also when no messages arrive (interval flushes).
    fn tick(&mut self) {}
    /// SIGHUP: reopen files.
    fn hup(&mut self) {}
    /// Messages the action could not write (lost) since the last call (impstats' action
    /// `failed`, counted once per batch).
    fn take_failed(&mut self) -> u64 {
        0
    }
    /// Suspensions since the last call: times the action was suspended (once per outage),
    /// seconds of suspension, times it resumed (impstats' `suspended`, `suspended.duration`,
    /// `resumed`).
    fn take_suspensions(&mut self) -> [u64; 3] {
        [0; 3]
    }
    /// Messages lost so far, never reset (written nowhere: a failed write, a full action
    /// queue). The rules thread compares it before and after a batch that carries a
    /// completion notice; a grown count fails the notice, so imrelp does not acknowledge
    /// (src/completion.rs).
    fn lost_total(&self) -> u64 {
        0
    }
    /// Shutdown: write everything; returns how many messages could not be written.
    fn shutdown(&mut self) -> u64 {
        self.end_batch();
        0
    }
}

/// omdiscard: takes messages and does nothing.
struct Discard;

impl Output for Discard {
    fn process(&mut self, _m: MsgRef<'_>, _env: &RenderEnv) {}
    fn end_batch(&mut self) {}
}

fn located(a: &Action, msg: impl std::fmt::Display) -> String {
    format!("{}: error: {msg}", a.loc)
}

/// The template an action names (or its module's default), resolved.
pub fn template_for(
    a: &Action,
    templates: &Templates,
    default: &str,
) -> Result<std::sync::Arc<crate::template::Template>, String> {
    let tname = a.params.str("template").unwrap_or(default);
    templates
        .get(tname)
        .cloned()
        .ok_or_else(|| located(a, format!("template '{tname}' not found")))
}

/// Builds the output of one action. Each module is one arm here and one file in this folder.
pub fn build(a: &Action, cfg: &Config, templates: &Templates) -> Result<Box<dyn Output>, String> {
    Ok(match a.module {
        "omfile" => {
            let module = cfg.module("omfile").map(|m| &m.params);
            let settings = file::FileSettings::from_params(&a.params, module)
                .map_err(|e| located(a, format!("omfile: {e}")))?;
            let tpl = template_for(a, templates, "RSYSLOG_FileFormat")?;
            match a
                .params
                .str("dynaFile")
                .filter(|_| !a.params.contains("file"))
            {
                Some(name) => {
                    let path_tpl = templates.get(name).cloned().ok_or_else(|| {
                        located(a, format!("omfile: dynaFile template '{name}' not found"))
                    })?;
                    Box::new(dynafile::DynaFileOutput::new(
                        settings,
                        path_tpl,
                        tpl,
                        dynafile::cache_size(&a.params),
                    ))
                }
                None => Box::new(file::FileOutput::new(settings, tpl)),
            }
        }
        "omdiscard" => Box::new(Discard),
        "omaudit" => Box::new(
            audit::AuditOutput::new(a, cfg, templates)
                .map_err(|e| located(a, format!("omaudit: {e}")))?,
        ),
        "omfwd" => {
            let index = cfg
                .actions
                .iter()
                .position(|x| std::ptr::eq(x, a))
                .unwrap_or(0);
            Box::new(
                fwd::FwdOutput::build(a, index, cfg, templates)
                    .map_err(|e| located(a, format!("omfwd: {e}")))?,
            )
        }
        "omrelp" => {
            let index = cfg
                .actions
                .iter()
                .position(|x| std::ptr::eq(x, a))
                .unwrap_or(0);
            Box::new(
                relp::RelpOutput::build(a, index, cfg, templates)
                    .map_err(|e| located(a, format!("omrelp: {e}")))?,
            )
        }
        "omkafka" => {
            let index = cfg
                .actions
                .iter()
                .position(|x| std::ptr::eq(x, a))
                .unwrap_or(0);
            Box::new(
                kafka::build(a, index, cfg, templates)
                    .map_err(|e| located(a, format!("omkafka: {e}")))?,
            )
        }
        "ompipe" => Box::new(pipe::PipeOutput::new(
            a,
            template_for(a, templates, "RSYSLOG_FileFormat")?,
        )),
        "omprog" => Box::new(
            prog::ProgOutput::new(a, template_for(a, templates, "RSYSLOG_FileFormat")?)
                .map_err(|e| located(a, format!("omprog: {e}")))?,
        ),
        "omusrmsg" => {
            let users = a.params.str("users").unwrap_or("*");
            let default = if usrmsg::UsrMsg::is_wall(users) {
                " WallFmt"
            } else {
                " StdUsrMsgFmt"
            };
            Box::new(usrmsg::UsrMsg::new(
                users,
                template_for(a, templates, default)?,
            ))
        }
        other => {
            return Err(located(
                a,
                format!("action type '{other}' is not implemented in the runtime yet"),
            ))
        }
    })
}

/// Builds every action of the config, in order.
pub fn build_all(cfg: &Config, templates: &Templates) -> Result<Vec<Box<dyn Output>>, String> {
    crate::diskq::action::set_work_directory(cfg.globals.str("workDirectory"));
    cfg.actions
        .iter()
        .map(|a| build(a, cfg, templates))
        .collect()
}
