//! The disk queue's state file `<name>.oxqi`: where reading resumes — the segment number, the
//! byte offset in it and the sequence id of the next record to deliver. One text line with a
//! CRC32 at its end, padded with spaces to [`LINE_LEN`] bytes. Without `queue.syncQueueFiles`
//! it is overwritten in place with one `pwrite` of the whole line (atomic against a crash of
//! the process: a write inside one page is not cut by a signal); the segments are not fsynced
//! either then, and a torn line after a power loss fails its CRC (read again from the oldest
//! segment: duplicates, not loss). A temporary file renamed over the old one at every commit
//! costs a journal commit per delivered batch on ext4 (auto_da_alloc; 15–50 ms each while the
//! disk is busy, which capped a drain at ~50,000 msg/s). With `queue.syncQueueFiles` it is
//! written to a temporary file, fsynced and renamed over the old one (then the directory is
//! fsynced), so even a power loss leaves either the old or the new state, never a mix.

use std::io::Write;
use std::path::{Path, PathBuf};

const TAG: &str = "oxsyslog-diskq 1";

/// Bytes of the state file: the line padded with spaces (read ignores them), so an overwrite
/// in place always covers the whole old line.
pub const LINE_LEN: usize = 96;

/// The read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub segment: u32,
    pub offset: u64,
    pub seq: u64,
}

pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.oxqi"))
}

fn body(s: &State) -> String {
    format!("{TAG} {} {} {}", s.segment, s.offset, s.seq)
}

/// Writes the state: in place with one `pwrite`, or with `sync` atomically against power loss
/// (temp file fsynced, renamed, the directory fsynced).
pub fn write(dir: &Path, name: &str, s: &State, sync: bool) -> std::io::Result<()> {
    let b = body(s);
    let mut line = format!("{b} {:08x}", crc32fast::hash(b.as_bytes()));
    // u32 + 2 × u64 + tag + crc: at most 74 bytes, so the padding always fits
    while line.len() < LINE_LEN - 1 {
        line.push(' ');
    }
    line.push('\n');
    if !sync {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path(dir, name))?;
        f.write_all_at(line.as_bytes(), 0)?;
        // a longer file (damaged, or from elsewhere) would keep its tail after the line
        if f.metadata()?.len() > line.len() as u64 {
            f.set_len(line.len() as u64)?;
        }
        return Ok(());
    }
    let tmp = dir.join(format!("{name}.oxqi.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(line.as_bytes())?;
        if sync {
            f.sync_all()?;
            #[cfg(test)]
            SYNCS.with(|c| c.set(c.get() + 1));
        }
    }
    std::fs::rename(&tmp, path(dir, name))?;
    if sync {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
thread_local! {
    /// State files fsynced by this thread (tests: no fsync per batch without syncQueueFiles).
    pub static SYNCS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Reads the state: `Ok(None)` when there is none, `Err` when it is damaged.
pub fn read(dir: &Path, name: &str) -> Result<Option<State>, String> {
    let p = path(dir, name);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    let bad = || format!("{}: damaged queue state file", p.display());
    let line = text.trim_end();
    let (b, sum) = line.rsplit_once(' ').ok_or_else(bad)?;
    if u32::from_str_radix(sum, 16).ok() != Some(crc32fast::hash(b.as_bytes())) {
        return Err(bad());
    }
    let rest = b.strip_prefix(TAG).ok_or_else(bad)?;
    let mut it = rest.split_ascii_whitespace();
    let mut next = || {
        it.next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(bad)
    };
    let segment = u32::try_from(next()?).map_err(|_| bad())?;
    let offset = next()?;
    let seq = next()?;
    Ok(Some(State {
        segment,
        offset,
        seq,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let d = std::env::temp_dir().join(format!("oxdiskq-statefile-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(read(&d, "q"), Ok(None));
        let s = State {
            segment: 3,
            offset: 1234,
            seq: 99,
        };
        write(&d, "q", &s, true).unwrap();
        assert_eq!(read(&d, "q"), Ok(Some(s)));
        let p = path(&d, "q");
        let t = std::fs::read_to_string(&p).unwrap().replace("1234", "1235");
        std::fs::write(&p, t).unwrap();
        assert!(read(&d, "q").unwrap_err().contains("damaged"));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
