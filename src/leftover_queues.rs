//! Disk-queue files another daemon (rsyslog) left in the work directory: counted at start and
//! reported, because oxsyslog cannot replay rsyslog's queue format — the messages in them are
//! not delivered unless rsyslog is run once more to drain them.

use std::path::Path;

/// The queue files in `dir`: rsyslog's `<prefix>.qi` state files and `<prefix>.NNNNNNNN`
/// segments (eight digits). Returns (queue state files, segment files).
pub fn count(dir: &Path) -> (usize, usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return (0, 0);
    };
    let (mut qi, mut seg) = (0, 0);
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        match name.rsplit_once('.') {
            Some((p, "qi")) if !p.is_empty() => qi += 1,
            // oxsyslog's own disk-queue segments (src/diskq/) have the same names
            Some((p, n))
                if !p.is_empty()
                    && n.len() == 8
                    && n.bytes().all(|c| c.is_ascii_digit())
                    && !crate::diskq::segment::is_ours(&e.path()) =>
            {
                seg += 1
            }
            _ => {}
        }
    }
    (qi, seg)
}

/// The start-up warning for `dir`, if it holds rsyslog queue files.
pub fn report(dir: &Path) -> Option<String> {
    let (qi, seg) = count(dir);
    (qi + seg > 0).then(|| {
        format!(
            "{} leftover rsyslog disk-queue file(s) in {} ({qi} queue state file(s), {seg} segment(s)): oxsyslog cannot replay rsyslog's queue format; run rsyslogd once to drain them, or remove them",
            qi + seg,
            dir.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rsyslog_queue_files_only() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "fwd.qi",
            "fwd.00000001",
            "fwd.00000002",
            "imfile-state:123",
            "x.1234567",
            "notes.txt",
        ] {
            std::fs::write(d.path().join(f), b"x").unwrap();
        }
        assert_eq!(count(d.path()), (1, 2));
        assert!(report(d.path()).unwrap().starts_with("3 leftover"));
        let empty = tempfile::tempdir().unwrap();
        assert!(report(empty.path()).is_none());
    }
}
