//! A disk queue: messages appended to segment files `<workDirectory>/<name>.NNNNNNNN`
//! (format in [`segment`]), read back in order, and removed only when the consumer commits
//! them (after the transport confirmed them). The read position is kept in a state file
//! ([`state`]) written at each commit (or every `queue.checkpointInterval` records); at start
//! the queue is recovered by scanning ([`recover`]): damaged segments are quarantined and the
//! loss reported, never a silent restart from zero. A crash re-delivers what was sent after
//! the last state write (duplicates, never loss). (rsyslog 8.2302 writes its `.qi` only every
//! `checkpointInterval` records, and without it only at shutdown: queue.c `qqueuePersist`.)
//!
//! Limits: `queue.maxFileSize` (a segment rolls over when the next batch would pass it;
//! default 1 MiB as rsyslog), `queue.maxDiskSpace` (0: none; a batch that does not fit is
//! refused with [`Push::Full`]), `queue.syncQueueFiles` (fdatasync after each batch).

pub mod action;
pub mod recover;
pub mod segment;
pub mod state;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::PathBuf;

use segment::HEADER_LEN;
use state::State;

/// Settings of one disk queue.
#[derive(Debug, Clone)]
pub struct DiskSettings {
    pub dir: PathBuf,
    pub name: String,
    pub max_file_size: u64,
    /// 0: no limit.
    pub max_disk_space: u64,
    pub sync: bool,
    /// Write the state every this many committed records (0: at every commit).
    pub checkpoint_interval: u64,
}

/// Why a record was not stored.
#[derive(Debug)]
pub enum Push {
    /// `queue.maxDiskSpace` reached; nothing changed.
    Full,
    /// A write failed (e.g. ENOSPC): the records of the batch not yet written (`lost`) are
    /// dropped, the segment cut back to its last good end.
    Io { lost: u64, err: std::io::Error },
}

/// What opening the queue found on disk.
#[derive(Debug, Default)]
pub struct OpenReport {
    /// Records recovered (to be delivered first).
    pub recovered: u64,
    pub lost: u64,
    pub lost_estimated: bool,
    /// One line per damage (segments moved aside, gaps, a damaged state file).
    pub notes: Vec<String>,
}

struct Seg {
    n: u32,
    size: u64,
    /// Records in it not read yet.
    unread: u64,
}

pub struct DiskQueue {
    s: DiskSettings,
    /// Segments from the read position to the write segment (the last).
    segs: VecDeque<Seg>,
    writer: File,
    /// Size of the write segment before the records of the current batch.
    write_good: u64,
    next_seq: u64,
    /// The encoded records of the current batch (written at `flush` or roll-over).
    buf: Vec<u8>,
    buf_records: u64,
    /// Reading: the open segment and the position of the next record to read.
    reader: Option<(u32, BufReader<File>)>,
    peek: State,
    /// The position up to which records are confirmed.
    committed: State,
    /// Records stored and not committed; of them, not yet read.
    pending: u64,
    unread: u64,
    /// Records read and not committed.
    read_uncommitted: u64,
    since_checkpoint: u64,
    /// Writing the state file failed (reported once until it works again).
    state_failing: bool,
    /// Bytes of all segments.
    used: u64,
    payload: Vec<u8>,
    /// Records pending when a write last failed: the failure episode lasts until the queue
    /// has shrunk below that (space freed by delivery), so a disk at its limit whose writes
    /// alternately fit and fail is reported once, not once per write.
    failed_at: Option<u64>,
}

impl DiskQueue {
    /// Opens (recovering) the queue; creates the first segment if there is none.
    pub fn open(s: DiskSettings) -> Result<(DiskQueue, OpenReport), String> {
        let key = s.dir.join(&s.name);
        {
            let mut g = OPEN.lock().unwrap_or_else(|e| e.into_inner());
            if !g.insert(key.clone()) {
                return Err(format!(
                    "disk queue {} is already used by another queue (queue.filename must be unique)",
                    key.display()
                ));
            }
        }
        let r = Self::open_inner(s);
        if r.is_err() {
            OPEN.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        }
        r
    }

    fn open_inner(mut s: DiskSettings) -> Result<(DiskQueue, OpenReport), String> {
        if s.max_disk_space > 0 {
            // segments small enough that space is freed while the queue drains
            s.max_file_size = s.max_file_size.min((s.max_disk_space / 4).max(4096));
        }
        let at = s.dir.join(&s.name);
        let ctx = |e: std::io::Error| format!("disk queue {}: {e}", at.display());
        let mut rep = OpenReport::default();
        let st = match state::read(&s.dir, &s.name) {
            Ok(st) => st,
            Err(e) => {
                rep.notes.push(format!(
                    "{e}; reading again from the oldest segment (messages may be sent twice)"
                ));
                None
            }
        };
        let rec = recover::recover(&s.dir, &s.name, st).map_err(ctx)?;
        rep.recovered = rec.records;
        rep.lost = rec.lost;
        rep.lost_estimated = rec.lost_estimated;
        rep.notes.extend(rec.notes);
        let mut segs: VecDeque<Seg> = rec
            .segs
            .iter()
            .map(|g| Seg {
                n: g.n,
                size: g.size,
                unread: g.records,
            })
            .collect();
        // always a fresh write segment: never append behind a repaired or torn end
        let wn = segs
            .back()
            .map(|g| g.n.wrapping_add(1))
            .or(st.map(|s| s.segment.wrapping_add(1)))
            .unwrap_or(1);
        let next_seq = rec.next_seq;
        let writer = new_segment(&s, wn, next_seq).map_err(ctx)?;
        segs.push_back(Seg {
            n: wn,
            size: HEADER_LEN,
            unread: 0,
        });
        let read = rec.read.unwrap_or(State {
            segment: wn,
            offset: HEADER_LEN,
            seq: next_seq,
        });
        let used = segs.iter().map(|g| g.size).sum();
        let mut q = DiskQueue {
            s,
            segs,
            writer,
            write_good: HEADER_LEN,
            next_seq,
            buf: Vec::with_capacity(1 << 16),
            buf_records: 0,
            reader: None,
            peek: read,
            committed: read,
            pending: rec.records,
            unread: rec.records,
            read_uncommitted: 0,
            since_checkpoint: 0,
            state_failing: false,
            used,
            payload: Vec::new(),
            failed_at: None,
        };
        q.checkpoint().map_err(ctx)?;
        Ok((q, rep))
    }

    /// Records stored and not yet committed.
    pub fn len(&self) -> u64 {
        self.pending + self.buf_records
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Notes that a write failed (the start, or continuation, of a failure episode).
    pub fn note_write_failure(&mut self) {
        let now = self.pending;
        self.failed_at = Some(self.failed_at.map_or(now, |n| n.max(now)));
    }

    /// Whether a failure episode is over: none noted, or the queue has shrunk below its
    /// size at the failure since; ends the episode when it is.
    pub fn failure_episode_over(&mut self) -> bool {
        match self.failed_at {
            Some(n) if self.pending >= n => false,
            _ => {
                self.failed_at = None;
                true
            }
        }
    }

    /// Records of the current batch not written yet.
    pub fn buffered(&self) -> u64 {
        self.buf_records
    }

    /// Records that can still be read (not handed out yet).
    pub fn unread(&self) -> u64 {
        self.unread
    }

    /// Bytes on disk.
    pub fn used(&self) -> u64 {
        self.used + self.buf.len() as u64
    }

    pub fn settings(&self) -> &DiskSettings {
        &self.s
    }

    /// Adds one record (the concatenation of `parts`) to the current batch.
    pub fn push(&mut self, parts: &[&[u8]]) -> Result<(), Push> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let enc = segment::encoded_len(len);
        if self.s.max_disk_space > 0 && self.used() + enc > self.s.max_disk_space {
            return Err(Push::Full);
        }
        let seg_size = self.write_good + self.buf.len() as u64;
        if seg_size + enc > self.s.max_file_size && seg_size > HEADER_LEN {
            self.flush()?;
            self.roll().map_err(|err| Push::Io { lost: 0, err })?;
        }
        let seq = self.next_seq;
        self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        self.buf.extend_from_slice(&seq.to_le_bytes());
        let mut c = crc32fast::Hasher::new();
        c.update(&seq.to_le_bytes());
        for p in parts {
            c.update(p);
        }
        self.buf.extend_from_slice(&c.finalize().to_le_bytes());
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.next_seq += 1;
        self.buf_records += 1;
        Ok(())
    }

    /// Writes the current batch with one write (fdatasync with `syncQueueFiles`). On error
    /// the segment is cut back and the batch's records are lost (returned in the error).
    pub fn flush(&mut self) -> Result<(), Push> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = self.writer.write_all(&self.buf).and_then(|()| {
            if self.s.sync {
                self.writer.sync_data()
            } else {
                Ok(())
            }
        });
        let n = self.buf.len() as u64;
        let records = self.buf_records;
        self.buf.clear();
        self.buf_records = 0;
        match res {
            Ok(()) => {
                self.write_good += n;
                self.used += n;
                if let Some(g) = self.segs.back_mut() {
                    g.size = self.write_good;
                    g.unread += records;
                }
                self.pending += records;
                self.unread += records;
                Ok(())
            }
            Err(err) => {
                // cut the torn write off; the lost records' sequence ids are given out again
                // (nothing of them is on disk), so recovery sees no gap
                self.next_seq -= records;
                let _ = self.writer.set_len(self.write_good);
                let _ = self.writer.seek(SeekFrom::Start(self.write_good));
                Err(Push::Io { lost: records, err })
            }
        }
    }

    fn roll(&mut self) -> std::io::Result<()> {
        let n = self.segs.back().map(|g| g.n.wrapping_add(1)).unwrap_or(1);
        self.writer = new_segment(&self.s, n, self.next_seq)?;
        self.write_good = HEADER_LEN;
        self.used += HEADER_LEN;
        self.segs.push_back(Seg {
            n,
            size: HEADER_LEN,
            unread: 0,
        });
        Ok(())
    }

    /// Reads up to `max` records (in order) into `out`; returns how many, and how many
    /// records were lost to damage found while running. A record
    /// that cannot be read (an I/O error or damage while running) ends the segment: it is
    /// reported and counted in the returned loss.
    pub fn read(&mut self, max: usize, out: &mut Vec<Vec<u8>>) -> (usize, u64) {
        self.read_skipping(max, out, 0)
    }

    /// [`read`](Self::read), each record without its first `skip` bytes (one copy).
    pub fn read_skipping(
        &mut self,
        max: usize,
        out: &mut Vec<Vec<u8>>,
        skip: usize,
    ) -> (usize, u64) {
        let mut got = 0;
        let mut lost = 0;
        while got < max && self.unread > 0 {
            let Some(idx) = self.segs.iter().position(|g| g.n == self.peek.segment) else {
                break;
            };
            let size = self.segs[idx].size;
            if self.peek.offset >= size {
                if idx + 1 >= self.segs.len() {
                    break;
                }
                let next = self.segs[idx + 1].n;
                self.peek.segment = next;
                self.peek.offset = HEADER_LEN;
                self.reader = None;
                continue;
            }
            if self.reader.as_ref().map(|r| r.0) != Some(self.peek.segment) {
                let path = self
                    .s
                    .dir
                    .join(segment::file_name(&self.s.name, self.peek.segment));
                match File::open(&path).and_then(|mut f| {
                    f.seek(SeekFrom::Start(self.peek.offset))?;
                    Ok(f)
                }) {
                    Ok(f) => self.reader = Some((self.peek.segment, BufReader::new(f))),
                    Err(e) => {
                        crate::engine::report_error(format!(
                            "disk queue: cannot read {}: {e}; skipping it",
                            path.display()
                        ));
                        self.peek.offset = size;
                        lost += self.skip_rest(idx);
                        continue;
                    }
                }
            }
            let Some((_, r)) = self.reader.as_mut() else {
                break;
            };
            match segment::read_record(r, size - self.peek.offset, None, &mut self.payload) {
                Ok(Some((len, seq))) => {
                    out.push(self.payload.get(skip..).unwrap_or_default().to_vec());
                    self.peek.offset += len;
                    self.peek.seq = seq + 1;
                    self.unread -= 1;
                    self.segs[idx].unread = self.segs[idx].unread.saturating_sub(1);
                    self.read_uncommitted += 1;
                    got += 1;
                }
                Ok(None) => {
                    self.peek.offset = size;
                    self.skip_rest(idx);
                }
                Err(d) => {
                    crate::engine::report_error(format!(
                        "disk queue: segment {} of {}: {d} at offset {}; skipping the rest of it",
                        self.peek.segment,
                        self.s.dir.join(&self.s.name).display(),
                        self.peek.offset
                    ));
                    self.peek.offset = size;
                    lost += self.skip_rest(idx);
                }
            }
        }
        (got, lost)
    }

    /// The records of segment `idx` that can no longer be read: counted as lost.
    fn skip_rest(&mut self, idx: usize) -> u64 {
        let n = std::mem::take(&mut self.segs[idx].unread);
        self.unread = self.unread.saturating_sub(n);
        self.read_uncommitted += n;
        n
    }

    /// Records read and not yet committed (the consumer's batch in hand).
    pub fn read_uncommitted(&self) -> u64 {
        self.read_uncommitted
    }

    /// The read position now (after the records read so far): what [`commit_part`]
    /// (Self::commit_part) takes to confirm a prefix of them.
    pub fn read_position(&self) -> State {
        self.peek
    }

    /// Confirms the first `n` records read and not committed, which end at `pos` (a
    /// [`read_position`](Self::read_position) taken after reading them); the records read
    /// after them stay read and uncommitted. For consumers with several batches out at once.
    pub fn commit_part(&mut self, pos: State, n: u64) -> std::io::Result<()> {
        if n >= self.read_uncommitted {
            return self.commit();
        }
        let (peek, rest) = (self.peek, self.read_uncommitted - n);
        let reader = self.reader.take();
        self.peek = pos;
        self.read_uncommitted = n;
        let r = self.commit();
        // back to the real read position (after the records still out)
        self.peek = peek;
        self.read_uncommitted = rest;
        self.reader = reader;
        r
    }

    /// Everything read so far is confirmed: advances the committed position, deletes
    /// segments read to their end, writes the state (per `checkpointInterval`).
    pub fn commit(&mut self) -> std::io::Result<()> {
        let n = self.read_uncommitted;
        if n == 0 && self.committed == self.peek {
            return Ok(());
        }
        self.pending = self.pending.saturating_sub(n);
        self.read_uncommitted = 0;
        // a segment read to its end is done: step to the next one so it can be deleted
        if self.segs.len() > 1
            && self.peek.segment == self.segs[0].n
            && self.peek.offset >= self.segs[0].size
        {
            self.peek.segment = self.segs[1].n;
            self.peek.offset = HEADER_LEN;
            self.reader = None;
        }
        self.committed = self.peek;
        self.since_checkpoint += n;
        while self.segs.len() > 1 && self.segs[0].n != self.committed.segment {
            let g = self.segs.pop_front();
            if let Some(g) = g {
                self.used = self.used.saturating_sub(g.size);
                let _ =
                    std::fs::remove_file(self.s.dir.join(segment::file_name(&self.s.name, g.n)));
            }
        }
        // drained: the write segment is emptied in place (frees its space without needing
        // any, which matters on a full disk); its header gets the next sequence id
        if self.is_empty() && self.segs.len() == 1 && self.write_good > HEADER_LEN {
            use std::os::unix::fs::FileExt;
            self.reader = None;
            self.writer.set_len(HEADER_LEN)?;
            self.writer.seek(SeekFrom::Start(HEADER_LEN))?;
            self.writer
                .write_all_at(&segment::header(self.next_seq), 0)?;
            self.used = self.used.saturating_sub(self.write_good - HEADER_LEN);
            self.write_good = HEADER_LEN;
            self.segs[0].size = HEADER_LEN;
            self.peek = State {
                segment: self.segs[0].n,
                offset: HEADER_LEN,
                seq: self.next_seq,
            };
            self.committed = self.peek;
        }
        if self.s.checkpoint_interval == 0 || self.since_checkpoint >= self.s.checkpoint_interval {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Writes the state file now (the committed position).
    /// An error is returned once per run of failures (a full disk would otherwise report
    /// one per batch).
    pub fn checkpoint(&mut self) -> std::io::Result<()> {
        self.since_checkpoint = 0;
        match state::write(&self.s.dir, &self.s.name, &self.committed, self.s.sync) {
            Ok(()) => {
                self.state_failing = false;
                Ok(())
            }
            Err(_) if self.state_failing => Ok(()),
            Err(e) => {
                self.state_failing = true;
                Err(e)
            }
        }
    }

    /// Forgets what was read and not committed: it is read again (after a restart of the
    /// consumer). Not needed while running; used by tests.
    pub fn rewind(&mut self) {
        self.unread += self.read_uncommitted;
        self.read_uncommitted = 0;
        self.peek = self.committed;
        self.reader = None;
    }
}

/// The queues open in this process (`<dir>/<name>`): two queues on the same files would
/// destroy each other's data.
static OPEN: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl Drop for DiskQueue {
    fn drop(&mut self) {
        OPEN.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.s.dir.join(&self.s.name));
    }
}

fn new_segment(s: &DiskSettings, n: u32, first_seq: u64) -> std::io::Result<File> {
    let path = s.dir.join(segment::file_name(&s.name, n));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)?;
    f.write_all(&segment::header(first_seq))?;
    if s.sync {
        f.sync_data()?;
    }
    Ok(f)
}

#[cfg(test)]
mod tests;
