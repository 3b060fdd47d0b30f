//! Recovery of a disk queue at start: scans the segments from the state file's read position,
//! checks every record (length, CRC32, rising sequence ids), and moves a damaged segment
//! (bad magic or version, bad checksum, truncated or impossible record) into
//! `<workDirectory>/<name>.damaged/`, leaving in its place a repaired copy with the records
//! that are intact. A missing segment shows as a gap in the sequence ids. Lost messages are
//! counted from the sequence ids where a later record exists, else estimated from the bytes
//! left; every damage is described in one line for the caller to report.

use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::segment::{self, Damage, HEADER_LEN, REC_HEADER_LEN};
use super::state::State;

/// A segment that stays in the queue after recovery.
#[derive(Debug, Clone)]
pub struct Seg {
    pub n: u32,
    /// Bytes in the file (header included).
    pub size: u64,
    /// Records in it not yet delivered (from the read position on, for the first).
    pub records: u64,
}

/// What recovery found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Segments from the read position on, in order.
    pub segs: Vec<Seg>,
    /// Where reading resumes.
    pub read: Option<State>,
    /// The sequence id the next written record gets.
    pub next_seq: u64,
    /// Records waiting to be delivered.
    pub records: u64,
    /// Messages lost in damaged or missing segments (`lost_estimated`: some were estimated).
    pub lost: u64,
    pub lost_estimated: bool,
    /// One line per damage found (to report).
    pub notes: Vec<String>,
}

/// The segment numbers of queue `name` in `dir`, ascending.
pub fn list_segments(dir: &Path, name: &str) -> std::io::Result<Vec<u32>> {
    let mut v = Vec::new();
    let prefix = format!("{name}.");
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let f = e.file_name();
        let f = f.to_string_lossy();
        if let Some(num) = f.strip_prefix(&prefix) {
            if num.len() == 8 && num.bytes().all(|c| c.is_ascii_digit()) {
                if let Ok(n) = num.parse() {
                    v.push(n);
                }
            }
        }
    }
    v.sort_unstable();
    Ok(v)
}

struct Scan {
    /// (offset, length) of intact records, and the first one's sequence id.
    good: Vec<(u64, u64)>,
    first_seq: Option<u64>,
    /// The first damage and where it is; records skipped for a bad checksum.
    damage: Option<(u64, String)>,
    skipped: u64,
    /// Bytes after a damage that stops the scan (nothing more can be read there).
    tail_bytes: u64,
}

/// Scans one segment file from `start` (after the header, or the state's offset); `expected`
/// is the next sequence id (None: any), `lost` grows by the gaps in the ids.
fn scan(
    path: &Path,
    start: u64,
    expected: &mut Option<u64>,
    lost: &mut u64,
) -> std::io::Result<Scan> {
    let f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut s = Scan {
        good: Vec::new(),
        first_seq: None,
        damage: None,
        skipped: 0,
        tail_bytes: 0,
    };
    let mut h = [0u8; HEADER_LEN as usize];
    let hn = read_up_to(&mut r, &mut h)?;
    if let Err(e) = segment::parse_header(&h[..hn]) {
        s.damage = Some((0, e));
        s.tail_bytes = size.saturating_sub(HEADER_LEN);
        return Ok(s);
    }
    let mut pos = start.max(HEADER_LEN);
    r.seek(SeekFrom::Start(pos))?;
    let mut payload = Vec::new();
    while pos < size {
        match segment::read_record(&mut r, size - pos, None, &mut payload) {
            Ok(None) => break,
            Ok(Some((len, seq))) => {
                match *expected {
                    Some(e) if seq < e => {
                        s.damage =
                            Some((pos, format!("sequence id {seq} goes back (expected {e})")));
                        s.tail_bytes = size - pos;
                        break;
                    }
                    Some(e) => *lost += seq - e,
                    None => {}
                }
                *expected = Some(seq + 1);
                s.first_seq.get_or_insert(seq);
                s.good.push((pos, len));
                pos += len;
            }
            Err(Damage::BadChecksum(_)) => {
                // the record is complete: skip it, the next intact one's id counts the loss
                s.damage.get_or_insert((pos, "checksum mismatch".into()));
                s.skipped += 1;
                pos += segment::encoded_len(payload.len());
            }
            Err(d) => {
                s.damage.get_or_insert((pos, d.to_string()));
                s.tail_bytes = size - pos;
                break;
            }
        }
    }
    Ok(s)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Counts the records that seem to follow `pos` by walking the length fields (for an
/// estimate after damage); at least one when bytes are left.
fn estimate(bytes: u64, avg: u64) -> u64 {
    if bytes == 0 {
        0
    } else {
        (bytes / avg.max(REC_HEADER_LEN as u64 + 1)).max(1)
    }
}

/// Moves `path` into `<dir>/<name>.damaged/` (a numbered name if taken); returns where.
fn quarantine(dir: &Path, name: &str, path: &Path) -> std::io::Result<PathBuf> {
    let qdir = dir.join(format!("{name}.damaged"));
    std::fs::create_dir_all(&qdir)?;
    let base = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut to = qdir.join(&base);
    let mut i = 1;
    while to.exists() {
        to = qdir.join(format!("{base}.{i}"));
        i += 1;
    }
    std::fs::rename(path, &to)?;
    Ok(to)
}

/// Writes a repaired copy of a damaged segment at `path` (already moved to `from`): its
/// header and the intact records, through a temporary file and a rename.
fn repair(path: &Path, from: &Path, first_seq: u64, good: &[(u64, u64)]) -> std::io::Result<u64> {
    let mut src = std::fs::File::open(from)?;
    let tmp = path.with_extension("repair");
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(&segment::header(first_seq))?;
    let mut size = HEADER_LEN;
    let mut buf = Vec::new();
    for &(off, len) in good {
        buf.resize(len as usize, 0);
        src.seek(SeekFrom::Start(off))?;
        src.read_exact(&mut buf)?;
        out.write_all(&buf)?;
        size += len;
    }
    out.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(size)
}

/// Recovers queue `name` in `dir` from the state `st` (None: none or damaged).
pub fn recover(dir: &Path, name: &str, st: Option<State>) -> std::io::Result<Recovered> {
    let mut rec = Recovered::default();
    let mut expected: Option<u64> = st.map(|s| s.seq);
    let mut prev_n: Option<u32> = st.map(|s| s.segment.wrapping_sub(1));
    // the read position, if the state's segment is there and intact
    let mut read: Option<State> = None;
    // an estimated loss that the next intact record's id will count exactly
    let mut pending = 0u64;
    for n in list_segments(dir, name)? {
        let path = dir.join(segment::file_name(name, n));
        if st.is_some_and(|s| n < s.segment) {
            // delivered before the last state was written: no longer needed
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if let Some(p) = prev_n {
            if n > p.wrapping_add(1) {
                rec.notes.push(format!(
                    "segment file(s) {} to {} missing",
                    segment::file_name(name, p.wrapping_add(1)),
                    segment::file_name(name, n - 1)
                ));
            }
        }
        prev_n = Some(n);
        let start = match st {
            Some(s) if s.segment == n => s.offset,
            _ => HEADER_LEN,
        };
        let mut gap = 0;
        let sc = scan(&path, start, &mut expected, &mut gap)?;
        if sc.first_seq.is_some() {
            rec.lost -= pending;
            pending = 0;
        }
        if gap > 0 {
            rec.lost += gap;
            rec.notes.push(format!(
                "{gap} message(s) missing before the records of {} (gap in the sequence ids)",
                path.display()
            ));
        }
        let records = sc.good.len() as u64;
        let Some((at, why)) = sc.damage else {
            let size = std::fs::metadata(&path)?.len();
            if records > 0 || rec.segs.is_empty() {
                if rec.segs.is_empty() {
                    read = Some(State {
                        segment: n,
                        offset: start,
                        seq: sc.first_seq.or(expected).unwrap_or(0),
                    });
                }
                rec.segs.push(Seg { n, size, records });
            } else {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        };
        let good_bytes: u64 = sc.good.iter().map(|g| g.1).sum();
        let avg = good_bytes.checked_div(records).unwrap_or(128);
        let moved = quarantine(dir, name, &path)?;
        let tail = estimate(sc.tail_bytes, avg);
        rec.notes.push(format!(
            "segment {} damaged ({why} at offset {at}), moved to {}: {records} intact record(s) kept, {} with a bad checksum skipped{}",
            path.display(),
            moved.display(),
            sc.skipped,
            if sc.tail_bytes > 0 {
                format!(", {} unreadable byte(s) at its end (about {tail} message(s))", sc.tail_bytes)
            } else {
                String::new()
            }
        ));
        if sc.tail_bytes > 0 {
            // estimated; when a later segment exists its first id counts the rest exactly
            rec.lost += tail;
            pending += tail;
        }
        if let Some(fs) = sc.first_seq {
            let size = repair(&path, &moved, fs, &sc.good)?;
            if rec.segs.is_empty() {
                read = Some(State {
                    segment: n,
                    offset: HEADER_LEN,
                    seq: fs,
                });
            }
            rec.segs.push(Seg { n, size, records });
        }
    }
    rec.lost_estimated = pending > 0;
    rec.records = rec.segs.iter().map(|s| s.records).sum();
    rec.read = read;
    rec.next_seq = expected.unwrap_or(0);
    Ok(rec)
}
