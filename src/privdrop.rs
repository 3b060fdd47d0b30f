//! Privilege drop (`$PrivDropToUser[ID]`, `$PrivDropToGroup[ID]`, `global(privdrop.…)`), done
//! as rsyslog 8.2302 does it (runtime/rsconf.c `dropPrivileges`, built without libcap-ng):
//! once every socket is bound and the kernel log is open, first the group (supplementary
//! groups cleared unless `privdrop.group.keepSupplemental`, then setgid), then the user
//! (initgroups with the user's groups, then setuid). A uid or gid of 0 means "no drop".
//! Log files are opened on first write, so they are opened as the new user, like rsyslog's.
//! No capability is kept: imklog reads `/proc/kmsg` through the descriptor opened before the
//! drop (the kernel checks CAP_SYSLOG at open only), and `consoleLogLevel` is applied before.

use crate::config::model::{Config, PValue, Params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub keep_supplemental: bool,
}

fn id(
    p: &Params,
    name_key: &str,
    id_key: &str,
    lookup: fn(&str) -> Option<u32>,
) -> Result<Option<u32>, String> {
    if let Some(PValue::Int(n)) = p.get(id_key) {
        return u32::try_from(*n)
            .map(Some)
            .map_err(|_| format!("{id_key}: invalid id {n}"));
    }
    match p.str(name_key) {
        Some(name) => lookup(name)
            .map(Some)
            .ok_or_else(|| format!("{name_key}: '{name}' not found in the system's database")),
        None => Ok(None),
    }
}

/// What the config asks for; `None` when nothing is to be dropped.
pub fn plan(cfg: &Config) -> Result<Option<Plan>, String> {
    let g = &cfg.globals;
    let uid = id(
        g,
        "privdrop.user.name",
        "privdrop.user.id",
        crate::config::values::user,
    )?
    .filter(|&u| u != 0);
    let gid = id(
        g,
        "privdrop.group.name",
        "privdrop.group.id",
        crate::config::values::group,
    )?
    .filter(|&g| g != 0);
    if uid.is_none() && gid.is_none() {
        return Ok(None);
    }
    Ok(Some(Plan {
        uid,
        gid,
        keep_supplemental: matches!(
            g.get("privdrop.group.keepSupplemental"),
            Some(PValue::Bool(true))
        ),
    }))
}

/// Drops the privileges. Returns the informational lines rsyslog logs on success.
pub fn apply(plan: &Plan) -> Result<Vec<String>, String> {
    use nix::unistd::{Gid, Uid};
    let mut info = Vec::new();
    if let Some(gid) = plan.gid {
        if !plan.keep_supplemental {
            nix::unistd::setgroups(&[])
                .map_err(|e| format!("could not remove supplemental group IDs: {}", e.desc()))?;
        }
        nix::unistd::setgid(Gid::from_raw(gid)).map_err(|e| {
            format!(
                "could not set requested group id {gid} via setgid(): {}",
                e.desc()
            )
        })?;
        info.push(format!("rsyslogd's groupid changed to {gid}"));
    }
    if let Some(uid) = plan.uid {
        // the user's own supplementary groups (failure is not fatal, as in rsyslog)
        if let Ok(Some(u)) = nix::unistd::User::from_uid(Uid::from_raw(uid)) {
            if let Ok(name) = std::ffi::CString::new(u.name) {
                let _ = nix::unistd::initgroups(&name, nix::unistd::getgid());
            }
        }
        nix::unistd::setuid(Uid::from_raw(uid))
            .map_err(|e| format!("could not set requested userid {uid}: {}", e.desc()))?;
        info.push(format!("rsyslogd's userid changed to {uid}"));
    }
    Ok(info)
}

/// After the drop: every static omfile output must be writable (or creatable) by the new
/// user. The first one that is not is named with the reason.
pub fn check_outputs(cfg: &Config, plan: &Plan) -> Result<(), String> {
    use std::path::Path;
    let who = match plan.uid {
        Some(u) => format!("user id {u}"),
        None => format!("group id {}", plan.gid.unwrap_or(0)),
    };
    let access = |p: &Path, mode: i32| -> Result<(), std::io::Error> {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a valid NUL-terminated path; access() only reads it.
        if unsafe { libc::access(c.as_ptr(), mode) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // omaudit keeps its file open, but reopens it on HUP
    for a in cfg
        .actions
        .iter()
        .filter(|a| a.module == "omfile" || a.module == "omaudit")
    {
        let Some(file) = a.params.str("file") else {
            continue;
        };
        let path = Path::new(file);
        let res = if path.exists() {
            access(path, libc::W_OK)
        } else {
            // the nearest existing directory must let us create the file (or directories)
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                dir = d.parent();
            }
            let d = dir
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            access(d, libc::W_OK | libc::X_OK)
        };
        if let Err(e) = res {
            return Err(format!(
                "{}: error: {}: after dropping privileges to {who}, log file {file} cannot be opened for writing: {}",
                a.loc,
                a.module,
                crate::input::klog::strerror(&e)
            ));
        }
    }
    Ok(())
}
