//! omkafka's side files, in rsyslog 8.2302's formats: `errorFile` (one JSON object per
//! message Kafka refused: `{"errcode": N, "errmsg": "…", "data": "…"}`), `failedMsgFile`
//! (`topic<TAB>key<TAB>message` lines of what was not delivered at shutdown, read back and
//! removed at the next start) and `statsFile` (librdkafka's statistics JSON, one per line).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Appends to a side file, opened on first use (O_APPEND, mode 0660 as omkafka) and closed
/// after each SIGHUP (omkafka's `doHUP`), so it can be rotated.
pub struct SideFile {
    path: String,
    file: Option<std::fs::File>,
    /// An open or write error was reported (once).
    reported: bool,
    /// SIGHUPs so far (the action's counter) and the count when the file was opened.
    hups: Arc<AtomicU64>,
    opened_at: u64,
}

impl SideFile {
    pub fn new(path: String, hups: Arc<AtomicU64>) -> SideFile {
        SideFile {
            path,
            file: None,
            reported: false,
            hups,
            opened_at: 0,
        }
    }

    /// Appends `data` in one write.
    pub fn append(&mut self, data: &[u8]) {
        use std::os::unix::fs::OpenOptionsExt;
        let hups = self.hups.load(Ordering::Relaxed);
        if hups != self.opened_at {
            self.file = None;
            self.opened_at = hups;
        }
        if self.file.is_none() {
            match std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o660)
                .open(&self.path)
            {
                Ok(f) => self.file = Some(f),
                Err(e) => {
                    if !std::mem::replace(&mut self.reported, true) {
                        crate::engine::report_error(format!(
                            "omkafka: error opening file {}: {e}",
                            self.path
                        ));
                    }
                    return;
                }
            }
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(data) {
                if !std::mem::replace(&mut self.reported, true) {
                    crate::engine::report_error(format!(
                        "omkafka: error writing file {}: {e}",
                        self.path
                    ));
                }
            }
        }
    }
}

/// One `errorFile` line (with its LF) for a message Kafka refused with `code` / `msg`.
pub fn error_line(out: &mut Vec<u8>, code: i32, msg: &str, data: &[u8]) {
    let obj = serde_json::json!({
        "errcode": code,
        "errmsg": msg,
        "data": String::from_utf8_lossy(data),
    });
    out.extend_from_slice(obj.to_string().as_bytes());
    out.push(b'\n');
}

/// One `failedMsgFile` line: `topic\tkey\tmessage\n` (omkafka's `persistFailedMsgs`; a
/// message ending in LF, as with RSYSLOG_FileFormat, keeps that one LF as the line end).
pub fn failed_line(out: &mut Vec<u8>, topic: &[u8], key: Option<&[u8]>, msg: &[u8]) {
    out.extend_from_slice(topic);
    out.push(b'\t');
    out.extend_from_slice(key.unwrap_or_default());
    out.push(b'\t');
    out.extend_from_slice(msg);
    if !msg.ends_with(b"\n") {
        out.push(b'\n');
    }
}

/// Appends encoded records (src/output/kafka.rs `encode`) to `failedMsgFile` as
/// `failed_line`s, in one write (O_APPEND, mode 0660, as omkafka's `persistFailedMsgs`); a
/// record without a rendered topic / key gets `topic` / `key` (the action's static ones).
/// An error is reported on stderr naming the file.
pub fn append_failed(path: &str, records: &[Vec<u8>], topic: &[u8], key: Option<&[u8]>) {
    use std::os::unix::fs::OpenOptionsExt;
    if records.is_empty() {
        return;
    }
    let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 32).sum());
    for m in records {
        if let Some(r) = super::kafka::decode(m) {
            failed_line(&mut out, r.topic.unwrap_or(topic), r.key.or(key), r.payload);
        }
    }
    let r = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o660)
        .open(path)
        .and_then(|mut f| f.write_all(&out));
    if let Err(e) = r {
        crate::engine::report_error(format!(
            "omkafka: cannot write failed messages file {path}: {e}; {} failed messages lost",
            records.len()
        ));
    }
}

/// One failed message read back: (topic, key, message with its LF).
pub type Failed = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

/// Parses a `failedMsgFile`; lines without two tabs are reported and skipped, empty lines
/// ignored (as omkafka's `loadFailedMsgs`).
pub fn parse_failed(content: &[u8], path: &str) -> Vec<Failed> {
    let mut v = Vec::new();
    for line in content.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line.is_empty() {
            continue;
        }
        let mut it = line.splitn(3, |&b| b == b'\t');
        match (it.next(), it.next(), it.next()) {
            (Some(t), Some(k), Some(m)) => {
                v.push((t.to_vec(), (!k.is_empty()).then(|| k.to_vec()), m.to_vec()))
            }
            _ => crate::engine::report_error(format!(
                "omkafka: dropping invalid line in failed messages file {path}: {}",
                String::from_utf8_lossy(line).trim_end()
            )),
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_is_rsyslogs_json() {
        let mut v = Vec::new();
        error_line(&mut v, 10, "Broker: Message size too large", b"a \"b\"\n");
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(j["errcode"], 10);
        assert_eq!(j["errmsg"], "Broker: Message size too large");
        assert_eq!(j["data"], "a \"b\"\n");
        assert!(v.ends_with(b"}\n"));
    }

    #[test]
    fn side_file_is_reopened_after_a_hup() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("err.json");
        let hups = Arc::new(AtomicU64::new(0));
        let mut f = SideFile::new(p.display().to_string(), hups.clone());
        f.append(b"one\n");
        std::fs::rename(&p, d.path().join("err.json.1")).unwrap();
        f.append(b"two\n");
        hups.fetch_add(1, Ordering::Relaxed);
        f.append(b"three\n");
        assert_eq!(
            std::fs::read(d.path().join("err.json.1")).unwrap(),
            b"one\ntwo\n"
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"three\n");
    }

    #[test]
    fn failed_records_are_appended_with_the_static_topic_and_key() {
        use crate::output::kafka::{encode, Record};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("failed.txt");
        let path = p.display().to_string();
        let rec = |topic: Option<&'static [u8]>, key: Option<&'static [u8]>, m: &'static [u8]| {
            encode(&Record {
                topic,
                key,
                ts: 0,
                payload: m,
            })
        };
        append_failed(&path, &[rec(None, None, b"one\n")], b"t", Some(b"sk"));
        append_failed(
            &path,
            &[rec(Some(b"dyn"), Some(b"k"), b"two\n")],
            b"t",
            None,
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"t\tsk\tone\ndyn\tk\ttwo\n");
    }

    #[test]
    fn failed_messages_round_trip() {
        let mut v = Vec::new();
        failed_line(&mut v, b"t1", Some(b"k"), b"msg one\n");
        failed_line(&mut v, b"t2", None, b"msg\ttwo");
        v.extend_from_slice(b"\nno tabs here\n");
        let f = parse_failed(&v, "x");
        assert_eq!(
            f,
            vec![
                (b"t1".to_vec(), Some(b"k".to_vec()), b"msg one\n".to_vec()),
                (b"t2".to_vec(), None, b"msg\ttwo\n".to_vec()),
            ]
        );
    }
}
