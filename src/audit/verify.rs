//! The verifier behind `oxaudit verify`: reads audit files, checks every record's form and
//! signature, then per node its sequence (gaps, duplicates, reordering) and chain links, and
//! optionally compares against exported checkpoints (tail truncation, replacement by an
//! older copy). Every finding names the node and the sequence number.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::keys::{Keyring, ProtError};
use super::record::{genesis, Kind, Record};

/// What to verify.
#[derive(Default)]
pub struct Options {
    pub files: Vec<PathBuf>,
    /// Only this node.
    pub node: Option<String>,
    /// Start at this sequence number (earlier records are not checked; the first record at
    /// or after it is trusted as the start of the chain).
    pub from: Option<u64>,
    /// A file of exported checkpoint records.
    pub checkpoints: Option<PathBuf>,
}

/// The outcome.
#[derive(Debug, Default)]
pub struct Report {
    /// Integrity findings: any one makes the log fail.
    pub findings: Vec<String>,
    /// Remarks that are not failures (records after the last checkpoint).
    pub warnings: Vec<String>,
    pub records: u64,
    pub nodes: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

struct Entry {
    loc: String,
    rec: Record,
    hash: [u8; 32],
    /// Signed and the signature verified.
    sig_ok: bool,
    /// Signature present but failing (already reported).
    sig_bad: bool,
}

/// Reads one record per line. `relayed`: the file may have come through syslog (a relay
/// writing `%msg%`), so text before the first `{` of a line is not part of the record (the
/// record's signature covers all that matters).
fn read_records(
    path: &PathBuf,
    keys: &Keyring,
    report: &mut Report,
    relayed: bool,
) -> Result<Vec<Entry>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = data.split(|&c| c == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        let loc = format!("{}:{}", path.display(), i + 1);
        let line = match memchr::memchr(b'{', line) {
            Some(at) if relayed => &line[at..],
            _ => line,
        };
        let rec = match Record::from_line(line) {
            Ok(r) => r,
            Err(e) => {
                report
                    .findings
                    .push(format!("{loc}: malformed record: {e}"));
                continue;
            }
        };
        let canonical = rec.canonical();
        let (mut sig_ok, mut sig_bad) = (false, false);
        if rec.row_protection != "-" {
            match keys.check(&rec.row_protection, &canonical) {
                Ok(()) => sig_ok = true,
                Err(e) => {
                    sig_bad = true;
                    let what = match e {
                        ProtError::UnknownKey(_) => "unknown key",
                        ProtError::BadSignature(_) | ProtError::AlgMismatch(_) => "bad signature",
                        ProtError::Malformed(_) => "bad signature",
                    };
                    report.findings.push(format!(
                        "{loc}: node {} seq {}: {what}: {e}",
                        rec.node_id, rec.sequence_number
                    ));
                }
            }
        }
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(&canonical).into();
        out.push(Entry {
            loc,
            rec,
            hash,
            sig_ok,
            sig_bad,
        });
    }
    Ok(out)
}

/// Parses `gap` details: `{"from":A,"to":B,…}`.
fn declared_range(r: &Record) -> Option<(u64, u64, String)> {
    let v: serde_json::Value = serde_json::from_str(r.field("additionalDetails")).ok()?;
    Some((
        v.get("from")?.as_u64()?,
        v.get("to")?.as_u64()?,
        v.get("reason")
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string(),
    ))
}

/// Verifies audit files. `Err` only for unusable input (unreadable files).
pub fn verify(opts: &Options, keys: &Keyring) -> Result<Report, String> {
    let mut report = Report::default();
    let mut by_node: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for f in &opts.files {
        for e in read_records(f, keys, &mut report, false)? {
            if opts.node.as_ref().is_some_and(|n| *n != e.rec.node_id) {
                continue;
            }
            if opts.from.is_some_and(|s| e.rec.sequence_number < s) {
                continue;
            }
            by_node.entry(e.rec.node_id.clone()).or_default().push(e);
        }
    }
    if let Some(n) = &opts.node {
        if !by_node.contains_key(n) {
            report.findings.push(format!("node {n}: no records"));
        }
    }
    let mut heads: HashMap<String, (u64, HashMap<u64, [u8; 32]>)> = HashMap::new();
    for (node, entries) in &by_node {
        report.records += entries.len() as u64;
        report.nodes.push(node.clone());
        // File order: duplicates (replays, conflicting copies) and reordering.
        let mut first: HashMap<u64, usize> = HashMap::new();
        let mut max_seen: Option<u64> = None;
        let mut unique: Vec<usize> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let s = e.rec.sequence_number;
            if let Some(&j) = first.get(&s) {
                let how = if entries[j].hash == e.hash {
                    "identical copy (replayed record)"
                } else {
                    "conflicting content"
                };
                report.findings.push(format!(
                    "{}: node {node} seq {s}: duplicate sequence number, {how} of {}",
                    e.loc, entries[j].loc
                ));
                continue;
            }
            if let Some(m) = max_seen.filter(|&m| s < m) {
                report.findings.push(format!(
                    "{}: node {node} seq {s}: out of order (after seq {m})",
                    e.loc
                ));
            }
            max_seen = Some(max_seen.map_or(s, |m| m.max(s)));
            first.insert(s, i);
            unique.push(i);
        }
        unique.sort_by_key(|&i| entries[i].rec.sequence_number);
        // Sequence order: gaps and links.
        let mut prev: Option<&Entry> = None;
        for &i in &unique {
            let e = &entries[i];
            let s = e.rec.sequence_number;
            match prev {
                None => match opts.from {
                    None if s != 0 => report.findings.push(format!(
                        "{}: node {node} seq {s}: gap, seq 0..{} missing (the chain does not start here)",
                        e.loc,
                        s - 1
                    )),
                    None if e.rec.prev != genesis(node) => report.findings.push(format!(
                        "{}: node {node} seq 0: broken chain link (does not start at the node's genesis)",
                        e.loc
                    )),
                    Some(f) if s > f => report.findings.push(format!(
                        "{}: node {node} seq {s}: gap, seq {f}..{} missing",
                        e.loc,
                        s - 1
                    )),
                    _ => {}
                },
                Some(p) => {
                    let ps = p.rec.sequence_number;
                    if s > ps + 1 {
                        let declared = (e.rec.kind == Kind::Gap)
                            .then(|| declared_range(&e.rec))
                            .flatten()
                            .filter(|(a, b, _)| *a == ps + 1 && *b == s - 1);
                        match declared {
                            Some((a, b, why)) => report.findings.push(format!(
                                "{}: node {node} seq {s}: declared gap, seq {a}..{b} not written ({why})",
                                e.loc
                            )),
                            None => report.findings.push(format!(
                                "{}: node {node} seq {s}: gap, seq {}..{} missing",
                                e.loc,
                                ps + 1,
                                s - 1
                            )),
                        }
                    }
                    if e.rec.prev != p.hash && !p.sig_bad && !e.sig_bad {
                        report.findings.push(format!(
                            "{}: node {node} seq {s}: broken chain link (record seq {ps} was changed or replaced, or records between them removed)",
                            e.loc
                        ));
                    }
                }
            }
            prev = Some(e);
        }
        // The unsealed tail: records after the last checkpoint, and unsigned records after
        // the last signed one (batched mode).
        let last_ckpt = unique
            .iter()
            .rposition(|&i| entries[i].rec.kind == Kind::Checkpoint && entries[i].sig_ok);
        let tail = match last_ckpt {
            Some(k) => &unique[k + 1..],
            None => &unique[..],
        };
        if let (Some(&a), Some(&b)) = (tail.first(), tail.last()) {
            report.warnings.push(format!(
                "node {node}: {} records after the last checkpoint (seq {}..{}) are not sealed by a checkpoint (normal for a live log)",
                tail.len(),
                entries[a].rec.sequence_number,
                entries[b].rec.sequence_number
            ));
        }
        let last_signed = unique.iter().rposition(|&i| entries[i].sig_ok);
        let unsigned_tail = match last_signed {
            Some(k) => &unique[k + 1..],
            None => &unique[..],
        };
        if let (Some(&a), Some(&b)) = (unsigned_tail.first(), unsigned_tail.last()) {
            report.warnings.push(format!(
                "node {node}: records seq {}..{} are not covered by any signature yet",
                entries[a].rec.sequence_number, entries[b].rec.sequence_number
            ));
        }
        let max = unique.last().map_or(0, |&i| entries[i].rec.sequence_number);
        let hashes = unique
            .iter()
            .map(|&i| (entries[i].rec.sequence_number, entries[i].hash))
            .collect();
        heads.insert(node.clone(), (max, hashes));
    }
    if let Some(cp) = &opts.checkpoints {
        let mut r2 = Report::default();
        let cps = read_records(cp, keys, &mut r2, true)?;
        report.findings.extend(r2.findings);
        for c in cps {
            let node = &c.rec.node_id;
            if opts.node.as_ref().is_some_and(|n| n != node) {
                continue;
            }
            let s = c.rec.sequence_number;
            if c.rec.kind != Kind::Checkpoint || !c.sig_ok {
                if !c.sig_bad {
                    report.findings.push(format!(
                        "{}: node {node} seq {s}: not a signed checkpoint record",
                        c.loc
                    ));
                }
                continue;
            }
            match heads.get(node) {
                None => report.findings.push(format!(
                    "{}: node {node} seq {s}: the log has no records of this node but a checkpoint at seq {s} was exported (log deleted or replaced)",
                    c.loc
                )),
                Some((max, hashes)) => match hashes.get(&s) {
                    Some(h) if *h == c.hash => {}
                    Some(_) => report.findings.push(format!(
                        "{}: node {node} seq {s}: the log's record differs from the exported checkpoint (log altered or replaced)",
                        c.loc
                    )),
                    None if s > *max => report.findings.push(format!(
                        "{}: node {node} seq {s}: truncated: the log ends at seq {max} but a checkpoint at seq {s} was exported (records removed at the tail, or an older copy)",
                        c.loc
                    )),
                    None => report.findings.push(format!(
                        "{}: node {node} seq {s}: the exported checkpoint is missing from the log",
                        c.loc
                    )),
                },
            }
        }
    }
    Ok(report)
}
