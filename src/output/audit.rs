//! omaudit (ours): the signed audit log. Every message that reaches the action becomes one
//! record of src/audit/record.rs (SignServer's `AuditRecordData` fields, per-node sequence
//! number, link to the previous record of the node, `rowProtection` signature), appended as
//! one line to `file`.
//!
//! ```text
//! action(type="omaudit" file="/var/log/audit.log" key.type="file" key.file="/etc/oxaudit/audit.key")
//! ```
//!
//! Parameters (all but `file` and `key.file` optional): `nodeId` (default: the local host
//! name), `key.type` (`file`, or `ed25519`/`p256` to insist on an algorithm, or `pkcs11`),
//! `key.file` (PKCS#8 PEM from `oxaudit keygen`; refused when group or others may access
//! it), for `pkcs11`: `pkcs11.sharedLibrary`, `pkcs11.slot` (number) or
//! `pkcs11.tokenLabel`, `pkcs11.keyLabel`, `pkcs11.pinFile` (same mode rule), `mode`
//! (`record`: every record signed, written per batch — the default; `sequential`: also
//! `fdatasync` per batch, and a failed write does not consume sequence numbers; `batched`:
//! records chained only, a signed checkpoint every `checkpoint.records` (1000) records or
//! `checkpoint.interval` (10) seconds, also when idle; both also apply to the other modes
//! when set), `checkpoint.file` (every checkpoint is also appended
//! there: the anchor `oxaudit verify --checkpoints` checks truncation against),
//! `fileCreateMode` (default 0600), `template` (renders `additionalDetails`, default
//! `RSYSLOG_SyslogProtocol23Format` without its newline) and `mapping.FIELD` (a template per
//! audit field).
//!
//! Where each field comes from, first match wins: the `mapping.FIELD` template; the message
//! variable `$!audit!FIELD`; the RFC 5424 structured-data parameter `FIELD` of an element
//! whose SD-ID is `audit` or starts with `audit@`; else a default: eventStatus `VOID`,
//! eventType the MSGID (`SYSLOG` when none), module `%programname%`, service
//! `%syslogfacility-text%`, authToken `%hostname%`, searchDetail1 `%procid%`, customId
//! `%fromhost-ip%`, searchDetail2 empty, additionalDetails the template. Invalid UTF-8 is
//! replaced by U+FFFD.
//!
//! At start (when the action is built, before privileges are dropped) the file is scanned for
//! the node's last record and a signed `start` record linking to it is written; at clean
//! shutdown a signed `checkpoint` record. A failed write loses the batch (counted in
//! impstats' `failed`); in `record` and `batched` mode the lost sequence numbers are then
//! declared by a signed `gap` record before the next record.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audit::chain::{self, Chain, Head};
use crate::audit::keys::{Alg, Signer};
use crate::audit::record::{Kind, Record, AUDIT_FIELDS};
use crate::config::model::{Action, Config, PValue};
use crate::message::MsgRef;
use crate::template::{RenderEnv, Template, Templates};
use crate::vars::{Root, VarRef};

use super::Output;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Record,
    Sequential,
    Batched,
}

/// Where one audit field comes from.
struct FieldSrc {
    mapping: Option<Arc<Template>>,
    var: VarRef,
    default: Option<Arc<Template>>,
    fixed: &'static str,
}

/// Where the signing key comes from (read again on HUP).
enum KeySrc {
    File(PathBuf, Option<Alg>),
    Token(crate::audit::pkcs11::TokenSpec),
}

impl KeySrc {
    fn load(&self) -> Result<Signer, String> {
        match self {
            KeySrc::File(p, want) => Signer::load(p, *want),
            KeySrc::Token(spec) => Signer::token(spec),
        }
    }
}

pub struct AuditOutput {
    path: PathBuf,
    key_src: KeySrc,
    /// Records written unsigned since the signer started failing (a token), when it is.
    unsigned: Option<u64>,
    create_mode: u32,
    file: Option<File>,
    chain: Chain,
    /// Head after the last record known to be written.
    written: Head,
    mode: Mode,
    sources: Vec<FieldSrc>,
    details: Arc<Template>,
    buf: Vec<u8>,
    /// Records in `buf`.
    pending: u64,
    /// Checkpoint lines in `buf`, copied to `checkpoint.file` once written.
    ckpt_lines: Vec<u8>,
    ckpt_file: Option<PathBuf>,
    ckpt_every: Option<u64>,
    ckpt_interval: Option<Duration>,
    since_ckpt: u64,
    last_ckpt: Instant,
    records: u64,
    /// Sequence numbers lost by a failed write, declared before the next record.
    gap: Option<(u64, u64, String)>,
    lost: u64,
    lost_reported: u64,
    scratch: Vec<u8>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The value of `param` in the first `audit` / `audit@…` element of RFC 5424 structured data.
fn sd_param(sd: &[u8], param: &str) -> Option<String> {
    let mut i = 0;
    while i < sd.len() {
        if sd[i] != b'[' {
            return None;
        }
        i += 1;
        let id_end = i + sd[i..].iter().position(|&c| c == b' ' || c == b']')?;
        let id = &sd[i..id_end];
        let is_audit = id == b"audit" || id.starts_with(b"audit@");
        i = id_end;
        loop {
            match sd.get(i)? {
                b']' => {
                    i += 1;
                    break;
                }
                b' ' => i += 1,
                _ => {
                    let eq = i + sd[i..].iter().position(|&c| c == b'=')?;
                    let name = &sd[i..eq];
                    if sd.get(eq + 1) != Some(&b'"') {
                        return None;
                    }
                    let mut j = eq + 2;
                    let mut val = Vec::new();
                    loop {
                        match *sd.get(j)? {
                            b'\\' if matches!(sd.get(j + 1), Some(b'"' | b'\\' | b']')) => {
                                val.push(sd[j + 1]);
                                j += 2;
                            }
                            b'"' => break,
                            c => {
                                val.push(c);
                                j += 1;
                            }
                        }
                    }
                    if is_audit && name == param.as_bytes() {
                        return Some(String::from_utf8_lossy(&val).into_owned());
                    }
                    i = j + 1;
                }
            }
        }
    }
    None
}

fn param_int(a: &Action, name: &str) -> Result<Option<i64>, String> {
    match a.params.get(name) {
        None => Ok(None),
        Some(PValue::Int(n)) if *n > 0 => Ok(Some(*n)),
        Some(v) => Err(format!(
            "{name}=\"{}\" must be a positive number",
            v.to_config_string()
        )),
    }
}

impl AuditOutput {
    pub fn new(a: &Action, cfg: &Config, templates: &Templates) -> Result<AuditOutput, String> {
        let path = PathBuf::from(a.params.str("file").unwrap_or_default());
        if path.as_os_str().is_empty() {
            return Err("file= is required".into());
        }
        let node = match a.params.str("nodeId") {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => crate::engine::local_hostname(cfg),
        };
        let key_type = a.params.str("key.type").unwrap_or("file");
        let signer = if key_type.eq_ignore_ascii_case("pkcs11") {
            let need = |p: &str| {
                a.params
                    .str(p)
                    .ok_or_else(|| format!("key.type=\"pkcs11\" needs {p}="))
            };
            let slot = match a.params.str("pkcs11.slot") {
                Some(s) => Some(s.parse::<u64>().map_err(|_| {
                    format!("pkcs11.slot=\"{s}\" is not a slot number (use pkcs11.tokenLabel for a label)")
                })?),
                None => None,
            };
            let spec = crate::audit::pkcs11::TokenSpec {
                library: PathBuf::from(need("pkcs11.sharedLibrary")?),
                slot,
                token_label: a.params.str("pkcs11.tokenLabel").map(str::to_string),
                key_label: need("pkcs11.keyLabel")?.to_string(),
                pin_file: PathBuf::from(need("pkcs11.pinFile")?),
            };
            KeySrc::Token(spec)
        } else {
            let want = match key_type {
                t if t.eq_ignore_ascii_case("file") => None,
                t => match Alg::parse(t) {
                    Some(alg) => Some(alg),
                    None => {
                        return Err(format!(
                            "key.type=\"{t}\" is not supported (file, ed25519, p256 or pkcs11)"
                        ))
                    }
                },
            };
            let key_file = a.params.str("key.file").ok_or(
                "key.file= is required (make a key with `oxaudit keygen --type ed25519 --out DIR`)",
            )?;
            KeySrc::File(PathBuf::from(key_file), want)
        };
        let key_src = signer;
        let signer = key_src.load()?;
        let mode = match a.params.str("mode").unwrap_or("record") {
            m if m.eq_ignore_ascii_case("record") => Mode::Record,
            m if m.eq_ignore_ascii_case("sequential") => Mode::Sequential,
            m if m.eq_ignore_ascii_case("batched") => Mode::Batched,
            m => {
                return Err(format!(
                    "mode=\"{m}\" is not supported (record, sequential or batched)"
                ))
            }
        };
        let mut ckpt_every = param_int(a, "checkpoint.records")?.map(|n| n as u64);
        let mut ckpt_interval =
            param_int(a, "checkpoint.interval")?.map(|n| Duration::from_secs(n as u64));
        if mode == Mode::Batched && ckpt_every.is_none() && ckpt_interval.is_none() {
            ckpt_every = Some(1000);
            ckpt_interval = Some(Duration::from_secs(10));
        }
        let create_mode = match a.params.get("fileCreateMode") {
            Some(PValue::Mode(m)) => *m,
            _ => 0o600,
        };
        let tpl = |name: &str| -> Result<Arc<Template>, String> {
            templates
                .get(name)
                .cloned()
                .ok_or_else(|| format!("template '{name}' not found"))
        };
        let details = tpl(a
            .params
            .str("template")
            .unwrap_or("RSYSLOG_SyslogProtocol23Format"))?;
        let mut warnings = Vec::new();
        let mut sources = Vec::new();
        for f in AUDIT_FIELDS {
            let mapping = match a.params.str(&format!("mapping.{f}")) {
                Some(t) => Some(tpl(t)?),
                None => None,
            };
            let (default, fixed) = match f {
                "eventStatus" => (None, "VOID"),
                "eventType" => (None, "SYSLOG"),
                "module" => (Some("%programname%"), ""),
                "service" => (Some("%syslogfacility-text%"), ""),
                "authToken" => (Some("%hostname%"), ""),
                "searchDetail1" => (Some("%procid%"), ""),
                "customId" => (Some("%fromhost-ip%"), ""),
                _ => (None, ""),
            };
            let default = match default {
                Some(t) => Some(Arc::new(Template::compile_string(
                    f,
                    t.as_bytes(),
                    false,
                    &mut warnings,
                )?)),
                None => None,
            };
            sources.push(FieldSrc {
                mapping,
                var: VarRef {
                    root: Root::Msg,
                    parents: vec![b"audit".to_vec()],
                    leaf: Some(f.as_bytes().to_vec()),
                },
                default,
                fixed,
            });
        }
        let found = chain::scan(&path, &node)
            .map_err(|e| format!("cannot read audit file '{}': {e}", path.display()))?;
        if found.bad_lines > 0 {
            crate::engine::report_error(format!(
                "omaudit: {} unreadable records of node {node} in '{}' (run `oxaudit verify`); continuing the chain after the last readable one",
                found.bad_lines,
                path.display()
            ));
        }
        let head = found.head;
        let mut out = AuditOutput {
            path,
            key_src,
            unsigned: None,
            create_mode,
            file: None,
            chain: Chain::new(node, head, signer),
            written: head,
            mode,
            sources,
            details,
            buf: Vec::with_capacity(64 * 1024),
            pending: 0,
            ckpt_lines: Vec::new(),
            ckpt_file: a.params.str("checkpoint.file").map(PathBuf::from),
            ckpt_every,
            ckpt_interval,
            since_ckpt: 0,
            last_ckpt: Instant::now(),
            records: 0,
            gap: None,
            lost: 0,
            lost_reported: 0,
            scratch: Vec::new(),
        };
        if found.torn_tail {
            out.buf.push(b'\n');
        }
        let mut start = out.control(Kind::Start, "AUDIT_LOG_START");
        start.set_field(
            "additionalDetails",
            format!(
                "{{\"previousSequenceNumber\":{},\"previousHash\":\"{}\",\"pid\":{},\"program\":\"oxsyslogd {}\"}}",
                head.next_seq as i128 - 1,
                crate::audit::record::to_hex(&head.hash),
                std::process::id(),
                env!("CARGO_PKG_VERSION")
            ),
        );
        out.append(&mut start, true);
        if !out.flush() {
            return Err(format!(
                "cannot write the start record to audit file '{}'",
                out.path.display()
            ));
        }
        Ok(out)
    }

    /// Seals a record (signed when `sign`) and appends its line; reports when the signer
    /// starts failing (the records stay chained, unsigned, and the next signed record seals
    /// them) and when it works again.
    fn append(&mut self, r: &mut Record, sign: bool) -> usize {
        let line = self.chain.seal(r, sign);
        if sign {
            match (&self.chain.sign_error, self.unsigned) {
                (Some(e), None) => {
                    crate::engine::report_error(format!(
                        "omaudit: '{}': cannot sign records: {e}; they are written chained but unsigned (seq {} on) until the key works again, and the next signed record seals them",
                        self.path.display(),
                        r.sequence_number
                    ));
                    self.unsigned = Some(1);
                }
                (Some(_), Some(n)) => self.unsigned = Some(n + 1),
                (None, Some(n)) => {
                    crate::engine::report_warning(format!(
                        "omaudit: '{}': signing works again; the {n} unsigned records before seq {} are sealed by it",
                        self.path.display(),
                        r.sequence_number
                    ));
                    self.unsigned = None;
                }
                (None, None) => {}
            }
        }
        let at = self.buf.len();
        self.buf.extend_from_slice(line.as_bytes());
        self.pending += 1;
        at
    }

    fn control(&self, kind: Kind, event: &str) -> Record {
        let mut r = Record::new(kind, now_ms());
        r.set_field("eventStatus", "SUCCESS".into());
        r.set_field("eventType", event.into());
        r.set_field("module", "oxsyslogd".into());
        r.set_field("service", "omaudit".into());
        r.set_field("authToken", self.chain.node.clone());
        r
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            self.file = Some(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(self.create_mode)
                    .custom_flags(libc::O_CLOEXEC)
                    .open(&self.path)?,
            );
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    /// Declares lost sequence numbers before the next record.
    fn emit_gap(&mut self) {
        if let Some((from, to, why)) = self.gap.take() {
            let mut r = self.control(Kind::Gap, "AUDIT_LOG_GAP");
            r.set_field("eventStatus", "FAILURE".into());
            r.set_field(
                "additionalDetails",
                serde_json::json!({"from": from, "to": to, "reason": why}).to_string(),
            );
            self.append(&mut r, true);
        }
    }

    fn checkpoint(&mut self, reason: &str) {
        self.checkpoint_with(reason, serde_json::json!({}));
    }

    /// A checkpoint whose details also carry the members of `extra` (an object).
    fn checkpoint_with(&mut self, reason: &str, extra: serde_json::Value) {
        self.emit_gap();
        let mut r = self.control(Kind::Checkpoint, "AUDIT_LOG_CHECKPOINT");
        let mut details = serde_json::json!({"reason": reason, "recordsSinceStart": self.records});
        if let (Some(d), serde_json::Value::Object(x)) = (details.as_object_mut(), extra) {
            d.extend(x);
        }
        r.set_field("additionalDetails", details.to_string());
        let at = self.append(&mut r, true);
        self.ckpt_lines.extend_from_slice(&self.buf[at..]);
        self.since_ckpt = 0;
        self.last_ckpt = Instant::now();
    }

    /// Writes `buf`; true when written (or nothing to write).
    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let sync = self.mode == Mode::Sequential;
        let buf = std::mem::take(&mut self.buf);
        let res = self.open().and_then(|f| {
            f.write_all(&buf)
                .and_then(|_| if sync { f.sync_data() } else { Ok(()) })
        });
        self.buf = buf;
        match res {
            Ok(()) => {
                self.written = self.chain.head;
                if !self.ckpt_lines.is_empty() {
                    if let Some(cp) = &self.ckpt_file {
                        let r = OpenOptions::new()
                            .append(true)
                            .create(true)
                            .mode(self.create_mode)
                            .open(cp)
                            .and_then(|mut f| {
                                f.write_all(&self.ckpt_lines).and_then(|_| f.sync_data())
                            });
                        if let Err(e) = r {
                            crate::engine::report_error(format!(
                                "omaudit: cannot write checkpoint file '{}': {e}",
                                cp.display()
                            ));
                        }
                    }
                }
                self.buf.clear();
                self.ckpt_lines.clear();
                self.pending = 0;
                true
            }
            Err(e) => {
                let from = self.written.next_seq;
                let to = self.chain.head.next_seq.saturating_sub(1);
                crate::engine::report_error(format!(
                    "omaudit: cannot write audit file '{}': {e}; {} records lost (seq {from}..{to})",
                    self.path.display(),
                    self.pending
                ));
                self.lost += self.pending;
                self.file = None;
                if self.mode == Mode::Sequential {
                    // the sequence numbers were not used: no gap
                    self.chain.head = self.written;
                } else {
                    self.chain.head = Head {
                        next_seq: self.chain.head.next_seq,
                        hash: self.written.hash,
                    };
                    self.gap = Some((from, to, format!("write error: {e}")));
                }
                self.buf.clear();
                self.ckpt_lines.clear();
                self.pending = 0;
                false
            }
        }
    }
}

impl AuditOutput {
    /// HUP: reads the key again (key file, or a new login on the token). A different key
    /// (rollover) is announced by a checkpoint signed with the old key that names the new key
    /// id, then used from the next record on; a key that cannot be loaded is reported and the
    /// old one kept.
    fn reload_key(&mut self) {
        let new = match self.key_src.load() {
            Ok(k) => k,
            Err(e) => {
                crate::engine::report_error(format!(
                    "omaudit: '{}': HUP: cannot reload the signing key: {e}; keeping key {}",
                    self.path.display(),
                    self.chain.signer().key_id()
                ));
                return;
            }
        };
        let (old_id, new_id) = (
            self.chain.signer().key_id().to_string(),
            new.key_id().to_string(),
        );
        if old_id != new_id {
            self.checkpoint_with(
                "key-rollover",
                serde_json::json!({"nextKeyId": new_id, "nextAlgorithm": new.alg().name()}),
            );
            self.flush();
            crate::engine::report_warning(format!(
                "omaudit: '{}': HUP: key {old_id} replaced by key {new_id} from seq {}",
                self.path.display(),
                self.chain.head.next_seq
            ));
        }
        self.chain.set_signer(new);
    }
}

impl Output for AuditOutput {
    fn process(&mut self, m: MsgRef<'_>, env: &RenderEnv) {
        self.emit_gap();
        let mut r = Record::new(Kind::Event, now_ms());
        let sd = m.bytes(m.m.structured_data);
        for (i, src) in self.sources.iter().enumerate() {
            let field = AUDIT_FIELDS[i];
            self.scratch.clear();
            let value = if let Some(t) = &src.mapping {
                t.render(m, env, &mut self.scratch);
                String::from_utf8_lossy(&self.scratch).into_owned()
            } else if let Some(v) = m.vars.and_then(|v| v.get(&src.var)) {
                v.write_string_value(&mut self.scratch);
                String::from_utf8_lossy(&self.scratch).into_owned()
            } else if let Some(v) = (!sd.is_empty()).then(|| sd_param(sd, field)).flatten() {
                v
            } else if field == "additionalDetails" {
                self.details.render(m, env, &mut self.scratch);
                while self.scratch.last() == Some(&b'\n') {
                    self.scratch.pop();
                }
                String::from_utf8_lossy(&self.scratch).into_owned()
            } else if field == "eventType" {
                let id = m.bytes(m.m.msgid);
                if id.is_empty() || id == b"-" {
                    src.fixed.to_string()
                } else {
                    String::from_utf8_lossy(id).into_owned()
                }
            } else if let Some(t) = &src.default {
                t.render(m, env, &mut self.scratch);
                String::from_utf8_lossy(&self.scratch).into_owned()
            } else {
                src.fixed.to_string()
            };
            r.fields[i] = value;
        }
        self.append(&mut r, self.mode != Mode::Batched);
        self.records += 1;
        self.since_ckpt += 1;
        if self.ckpt_every.is_some_and(|n| self.since_ckpt >= n) {
            self.checkpoint("records");
        }
    }

    fn end_batch(&mut self) {
        self.flush();
    }

    fn tick(&mut self) {
        // also when idle (a heartbeat): a quiet node keeps proving that it is alive and that
        // its log ends where its last checkpoint says
        if self
            .ckpt_interval
            .is_some_and(|t| self.last_ckpt.elapsed() >= t)
        {
            let reason = if self.since_ckpt > 0 {
                "interval"
            } else {
                "heartbeat"
            };
            self.checkpoint(reason);
        }
        if self.gap.is_some() {
            // declare the loss even when no message follows soon
            self.emit_gap();
        }
        self.flush();
    }

    fn hup(&mut self) {
        self.flush();
        self.file = None;
        self.reload_key();
    }

    fn take_failed(&mut self) -> u64 {
        let n = self.lost - self.lost_reported;
        self.lost_reported = self.lost;
        n
    }

    fn shutdown(&mut self) -> u64 {
        let before = self.lost;
        self.checkpoint("shutdown");
        self.flush();
        if let Some(f) = &self.file {
            let _ = f.sync_all();
        }
        self.lost - before
    }
}

#[cfg(test)]
mod tests {
    use super::sd_param;

    #[test]
    fn structured_data_parameters() {
        let sd = br#"[origin ip="1.2.3.4"][audit@32473 eventType="CERT \"X\"" customId="a\]b\\c" x="1"]"#;
        assert_eq!(sd_param(sd, "eventType").as_deref(), Some("CERT \"X\""));
        assert_eq!(sd_param(sd, "customId").as_deref(), Some("a]b\\c"));
        // only audit elements count
        assert_eq!(sd_param(sd, "ip"), None);
        assert_eq!(sd_param(b"-", "eventType"), None);
        assert_eq!(sd_param(br#"[audit a="1"]"#, "a").as_deref(), Some("1"));
        // malformed data never panics
        for bad in [
            &b"[audit"[..],
            b"[audit a=",
            b"[audit a=\"x",
            b"[audit a=x]",
            b"[]",
        ] {
            let _ = sd_param(bad, "a");
        }
    }
}
