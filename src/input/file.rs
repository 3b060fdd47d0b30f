//! imfile: follows text files (or glob patterns) and turns their lines into messages, as
//! rsyslog 8.2302's imfile does: no parsing (rawmsg = msg = the line, TAG, facility and
//! severity from the input, HOSTNAME = the local host, fromhost empty, inputname `imfile`),
//! `readMode` 0/1/2, `startmsg.regex`/`endmsg.regex` (POSIX ERE through libc, like rsyslog),
//! `escapeLF`, rotation by rename (the new file is read from its start; the old one stays open
//! and is read for 5 more seconds, because writers go on writing to it until they reopen —
//! rsyslog reads it only to its end at the moment it notices) and by truncation
//! (`reopenOnTruncate`).
//!
//! State files are rsyslog's: `WORKDIR/imfile-state:INODE[:FILEID]` (FILEID: SipHash-2-4 of the
//! file's first 512 bytes, once it has them), JSON with `curr_offs`, `strt_offs`,
//! `prev_was_nl` and the pending `prev_line_segment`/`prev_msg_segment`, so a switch between
//! rsyslogd and oxsyslogd resumes where the other stopped. Unlike rsyslog (which by default
//! persists only when a file is closed and at shutdown), the state is written after every
//! batch has been handed to the main queue: a crash repeats no more than one batch.
//!
//! Files are polled: every `PollingInterval` seconds in `mode="polling"`; in the default
//! inotify mode at once on any inotify event in the files' directory, else every second (every
//! 250 ms when the directory cannot be watched). A poll round that found data is followed by
//! another at once, as in rsyslog.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::model::{Config, Input, PValue, Params};
use crate::input::repeat::Repeat;
use crate::input::{Ctx, Source, BATCH_BYTES, BATCH_MSGS};
use crate::message::{Batch, Peer};
use crate::parse::{InputFlags, Received};

/// Bytes of a file that make up its id (rsyslog's FILE_ID_SIZE).
const FILE_ID_SIZE: usize = 512;
/// Seconds a vanished file is still read from its open descriptor (FILE_DELETE_DELAY).
const FILE_DELETE_DELAY: Duration = Duration::from_secs(5);
/// Read size.
const CHUNK: usize = 64 * 1024;

/// A compiled POSIX extended regular expression (the same engine rsyslog uses).
struct PosixRegex(Box<libc::regex_t>);

// SAFETY: a compiled regex_t is only read by regexec, which POSIX/glibc make safe to call
// from several threads on the same compiled pattern; it is freed only on drop.
unsafe impl Send for PosixRegex {}
// SAFETY: see above: regexec takes the compiled pattern by const pointer.
unsafe impl Sync for PosixRegex {}

impl PosixRegex {
    fn new(pat: &str) -> Result<PosixRegex, String> {
        let c = std::ffi::CString::new(pat).map_err(|_| "NUL in regex".to_string())?;
        // SAFETY: regex_t is a plain C struct; regcomp initialises it.
        let mut r: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: valid pointers; the pattern is NUL-terminated.
        let rc = unsafe { libc::regcomp(&mut *r, c.as_ptr(), libc::REG_EXTENDED) };
        if rc != 0 {
            let mut buf = [0u8; 512];
            // SAFETY: regerror writes at most buf.len() bytes.
            unsafe { libc::regerror(rc, &*r, buf.as_mut_ptr().cast(), buf.len()) };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return Err(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        Ok(PosixRegex(r))
    }

    /// Whether the line (as a C string: up to its first NUL) matches.
    fn is_match(&self, line: &[u8]) -> bool {
        let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
        let mut v = Vec::with_capacity(end + 1);
        v.extend_from_slice(&line[..end]);
        v.push(0);
        // SAFETY: compiled regex, NUL-terminated subject, no match array requested.
        unsafe { libc::regexec(&*self.0, v.as_ptr().cast(), 0, std::ptr::null_mut(), 0) == 0 }
    }
}

impl Drop for PosixRegex {
    fn drop(&mut self) {
        // SAFETY: the regex was compiled by regcomp and is freed once.
        unsafe { libc::regfree(&mut *self.0) };
    }
}

enum Mode {
    /// readMode 0/1/2.
    Lines(u8),
    /// startmsg.regex / endmsg.regex.
    Regex {
        start: Option<PosixRegex>,
        end: Option<PosixRegex>,
    },
}

/// One `input(type="imfile")`.
pub struct FileInput {
    pattern: String,
    tag: Vec<u8>,
    facility: u8,
    severity: u8,
    mode: Mode,
    escape_lf: bool,
    escape_str: Option<Vec<u8>>,
    reopen_on_truncate: bool,
    fresh_start_tail: bool,
    trim_line_over_bytes: usize,
    discard_truncated: bool,
    rm_state_on_delete: bool,
    read_timeout: u64,
    max_msg: usize,
    state_dir: PathBuf,
    poll: Duration,
    /// `mode="inotify"` (the default with module()): wake up on directory events.
    inotify: bool,
    /// `needParse`: the line goes through the ruleset's parser chain like a received message
    /// (HOSTNAME is not parsed; it stays the local host unless RFC 5424 sets one).
    need_parse: bool,
    local_host: Arc<str>,
}

fn flag(p: &Params, name: &str, default: bool) -> bool {
    match p.get(name) {
        Some(PValue::Bool(b)) => *b,
        _ => default,
    }
}

fn int(p: &Params, name: &str) -> Option<i64> {
    match p.get(name) {
        Some(PValue::Int(n)) => Some(*n),
        Some(PValue::Str(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn severity_code(s: &str) -> Option<u8> {
    if let Ok(n) = s.parse::<u8>() {
        return (n <= 7).then_some(n);
    }
    let names = [
        ("emerg", 0),
        ("panic", 0),
        ("alert", 1),
        ("crit", 2),
        ("err", 3),
        ("error", 3),
        ("warning", 4),
        ("warn", 4),
        ("notice", 5),
        ("info", 6),
        ("debug", 7),
    ];
    names
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|&(_, v)| v)
}

/// Plans one imfile instance.
pub fn plan(i: &Input, cfg: &Config) -> Result<FileInput, String> {
    let p = &i.params;
    let loc = &i.loc;
    let err = |m: String| format!("{loc}: error: imfile: {m}");
    let module = cfg.module("imfile").map(|m| &m.params);
    let mut pattern = p
        .str("file")
        .ok_or_else(|| err("File is required".into()))?
        .to_string();
    let normalize = module.is_none_or(|m| flag(m, "normalizePath", true));
    if normalize {
        if let Some(rest) = pattern.strip_prefix("./") {
            pattern = rest.to_string();
        }
        if !pattern.starts_with('/') {
            let cwd = std::env::current_dir().map_err(|e| err(format!("cwd: {e}")))?;
            pattern = format!("{}/{}", cwd.display(), pattern);
        }
    }
    let tag = p
        .str("tag")
        .ok_or_else(|| err("Tag is required".into()))?
        .as_bytes()
        .to_vec();
    let facility = match p.str("facility") {
        Some(f) => crate::filter::selector::facility_code(f)
            .ok_or_else(|| err(format!("invalid facility '{f}'")))? as u8,
        None => 16,
    };
    let severity = match p.str("severity") {
        Some(s) => severity_code(s).ok_or_else(|| err(format!("invalid severity '{s}'")))?,
        None => 5,
    };
    let read_mode = int(p, "readMode").unwrap_or(0);
    let start = p.str("startmsg.regex");
    let end = p.str("endmsg.regex");
    let n = (read_mode > 0) as u8 + start.is_some() as u8 + end.is_some() as u8;
    if n > 1 {
        return Err(err(
            "only one of readMode or startmsg.regex or endmsg.regex can be set at the same time"
                .into(),
        ));
    }
    let mode = if start.is_some() || end.is_some() {
        let c = |r: Option<&str>, what: &str| -> Result<Option<PosixRegex>, String> {
            r.map(|r| {
                PosixRegex::new(r).map_err(|e| err(format!("error in {what} expansion: {e}")))
            })
            .transpose()
        };
        Mode::Regex {
            start: c(start, "startmsg.regex")?,
            end: c(end, "endmsg.regex")?,
        }
    } else {
        if !(0..=2).contains(&read_mode) {
            return Err(err(format!(
                "readMode {read_mode} is not supported (0, 1 or 2)"
            )));
        }
        Mode::Lines(read_mode as u8)
    };
    let state_dir = module
        .and_then(|m| m.str("statefile.directory"))
        .or_else(|| cfg.globals.str("workDirectory"))
        .unwrap_or(".");
    let polling = module
        .and_then(|m| m.str("mode"))
        .is_some_and(|m| m == "polling");
    let interval = module
        .and_then(|m| int(m, "pollingInterval"))
        .unwrap_or(10)
        .max(1) as u64;
    let poll = if polling {
        Duration::from_secs(interval)
    } else {
        Duration::from_millis(250)
    };
    let max_msg = match cfg.globals.get("maxMessageSize") {
        Some(PValue::Int(n)) => (*n).max(128) as usize,
        _ => 8096,
    };
    // an instance from legacy `$InputRunFileMonitor` has other defaults (imfile.c addInstance)
    let legacy = is_legacy(loc);
    Ok(FileInput {
        pattern,
        tag,
        facility,
        severity,
        mode,
        escape_lf: flag(p, "escapeLF", !legacy),
        escape_str: p.str("escapeLF.replacement").map(|s| s.as_bytes().to_vec()),
        reopen_on_truncate: flag(p, "reopenOnTruncate", false),
        fresh_start_tail: flag(p, "freshStartTail", false),
        trim_line_over_bytes: int(p, "trimLineOverBytes").unwrap_or(0).max(0) as usize,
        discard_truncated: flag(p, "discardTruncatedMsg", false),
        rm_state_on_delete: flag(
            p,
            "deleteStateOnFileDelete",
            flag(p, "removeStateOnDelete", !legacy),
        ),
        read_timeout: int(p, "readTimeout")
            .or_else(|| module.and_then(|m| int(m, "readTimeout")))
            .unwrap_or(0)
            .max(0) as u64,
        max_msg,
        state_dir: PathBuf::from(state_dir),
        poll,
        inotify: !polling,
        need_parse: flag(p, "needParse", false),
        local_host: Arc::from(crate::engine::local_hostname(cfg)),
    })
}

impl Source for FileInput {
    fn name(&self) -> String {
        "imfile".into()
    }
    fn flags(&self) -> InputFlags {
        InputFlags {
            parse_hostname: false,
            ..InputFlags::default()
        }
    }
    fn start(self: Box<Self>, ctx: Ctx) -> Result<tokio::task::JoinHandle<()>, String> {
        if !has_glob(&self.pattern) && std::fs::metadata(&self.pattern).is_err() {
            ctx.notices.error(format!(
                "imfile: on startup file '{}' does not exist but is configured in static file monitor - this may indicate a misconfiguration. If the file appears at a later time, it will automatically be processed.",
                self.pattern
            ));
        }
        Ok(tokio::spawn(run(*self, ctx)))
    }
}

/// Whether the instance was made by a legacy directive (its location is a `$…` line).
fn is_legacy(loc: &crate::config::diagnostics::Location) -> bool {
    if loc.line == 0 {
        return false;
    }
    std::fs::read(&loc.file).ok().is_some_and(|t| {
        t.split(|&b| b == b'\n')
            .nth(loc.line as usize - 1)
            .is_some_and(|l| l.trim_ascii_start().starts_with(b"$"))
    })
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// rsyslog's per-stream reading state.
#[derive(Default)]
struct Reader {
    /// `curr_offs`: bytes consumed.
    offset: u64,
    /// `strt_offs`: where the record being read started.
    strt_offs: u64,
    /// `prev_line_segment`: the record read so far (readMode 0/1/2) or the current line
    /// (regex modes).
    pending: Vec<u8>,
    /// `prev_was_nl`.
    prev_was_nl: bool,
    /// `prev_msg_segment` (regex modes).
    msg_seg: Option<Vec<u8>>,
    /// Regex modes: the rest of an oversize message is being discarded.
    ignoring: bool,
    /// readMode 2: a record is complete up to its LF; it ends when the next line does not
    /// start with SP/TAB.
    last_read: Option<Instant>,
}

struct Active {
    name: String,
    file: File,
    ino: u64,
    r: Reader,
    /// File id the state was last written under.
    file_id: String,
    /// Whether the state changed since it was last written.
    dirty: bool,
    /// Since when the file is gone from its name (deleted or rotated away).
    gone_since: Option<Instant>,
    /// Another file took its name (rotation by rename).
    rotated: bool,
    /// The last bytes read before `offset` (truncation detection).
    last_block: Vec<u8>,
    /// `$RepeatedMsgReduction on`: rsyslog keeps one rate limiter per open file (imfile.c
    /// act_obj_add), its pending summary emitted when the file is dropped or at the end.
    repeat: Option<Repeat>,
}

async fn run(inp: FileInput, ctx: Ctx) {
    let mut shutdown = ctx.shutdown.clone();
    let mut batch = ctx.new_batch();
    let mut active: Vec<Active> = Vec::new();
    let mut first = true;
    let mut failed = std::collections::HashSet::new();
    let watcher = if inp.inotify {
        Watcher::new(&inp.pattern)
    } else {
        None
    };
    loop {
        if *shutdown.borrow() {
            break;
        }
        let had_data =
            match poll_round(&inp, &ctx, &mut active, &mut batch, first, &mut failed).await {
                Some(h) => h,
                None => return, // queue closed
            };
        first = false;
        if had_data {
            tokio::task::yield_now().await;
            continue;
        }
        // with directory events, the timer is only a safety net (and globs below the
        // watched directory)
        let poll = if watcher.is_some() {
            Duration::from_secs(1)
        } else {
            inp.poll
        };
        let wait = if inp.read_timeout > 0 {
            poll.min(Duration::from_secs(1))
        } else {
            poll
        };
        tokio::select! {
            r = shutdown.changed() => if r.is_err() { break },
            _ = tokio::time::sleep(wait) => {}
            _ = Watcher::changed(watcher.as_ref()) => {}
        }
    }
    // Shutdown: hand on what is batched (with each file's pending "message repeated"
    // summary), then write every file's state.
    for a in &mut active {
        if let Some(r) = a.repeat.as_mut() {
            r.flush(&mut batch);
        }
    }
    if !batch.is_empty() {
        let b = std::mem::take(&mut batch);
        if !ctx.send(b).await {
            return;
        }
    }
    for a in &mut active {
        persist(&inp, &ctx, a);
    }
}

/// inotify on the directory that holds the files (the pattern's longest directory prefix
/// without wildcards): any event there wakes the poll loop at once.
struct Watcher(tokio::io::unix::AsyncFd<InoFd>);

struct InoFd(nix::sys::inotify::Inotify);

impl std::os::fd::AsRawFd for InoFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl Watcher {
    fn new(pattern: &str) -> Option<Watcher> {
        use nix::sys::inotify::{AddWatchFlags as W, InitFlags, Inotify};
        let mut dir = Path::new(pattern).parent()?;
        while has_glob(&dir.to_string_lossy()) {
            dir = dir.parent()?;
        }
        let ino = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
        let flags = W::IN_MODIFY
            | W::IN_CREATE
            | W::IN_MOVED_TO
            | W::IN_MOVED_FROM
            | W::IN_DELETE
            | W::IN_CLOSE_WRITE
            | W::IN_ATTRIB;
        ino.add_watch(dir, flags).ok()?;
        // SAFETY: the descriptor belongs to the Inotify owned by the AsyncFd, so it stays open
        // and the same for the AsyncFd's whole life.
        unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(
                InoFd(ino),
                tokio::io::Interest::READABLE,
            )
        }
        .ok()
        .map(Watcher)
    }

    /// Waits for events (forever without a watcher) and drains them.
    async fn changed(w: Option<&Watcher>) {
        let Some(w) = w else {
            return std::future::pending().await;
        };
        match w.0.readable().await {
            Ok(mut g) => {
                while g.get_inner().0.read_events().is_ok() {}
                g.clear_ready();
            }
            Err(_) => std::future::pending().await,
        }
    }
}

/// One pass: detect rotation/deletion, pick up new files, read every active file.
/// Returns whether any data was read, `None` when the queue is closed.
async fn poll_round(
    inp: &FileInput,
    ctx: &Ctx,
    active: &mut Vec<Active>,
    batch: &mut Batch,
    first: bool,
    failed: &mut std::collections::HashSet<String>,
) -> Option<bool> {
    let mut had = false;
    // Rotation and deletion. A file renamed away (another inode under its name) or deleted
    // is still read from its open descriptor for FILE_DELETE_DELAY, because writers keep
    // writing to it until they reopen; then what is left is read and the file dropped.
    let mut i = 0;
    while i < active.len() {
        let a = &mut active[i];
        match std::fs::metadata(&a.name) {
            Ok(md) if md.ino() == a.ino && !a.rotated => {
                a.gone_since = None;
                i += 1;
                continue;
            }
            Ok(_) => a.rotated = true,
            Err(_) => {}
        }
        let since = *a.gone_since.get_or_insert_with(Instant::now);
        if since.elapsed() < FILE_DELETE_DELAY {
            i += 1;
            continue;
        }
        let mut a = active.remove(i);
        had |= read_file(inp, ctx, &mut a, batch).await?;
        if let Some(r) = a.repeat.as_mut() {
            r.flush(batch);
        }
        flush(ctx, batch).await?;
        persist(inp, ctx, &mut a);
        if inp.rm_state_on_delete {
            let _ = std::fs::remove_file(state_path(inp, a.ino, &a.file_id));
        }
    }
    // new files
    for name in expand(&inp.pattern) {
        if active
            .iter()
            .any(|a| a.name == name && a.gone_since.is_none())
        {
            continue;
        }
        let md = match std::fs::metadata(&name) {
            Ok(m) if m.is_file() => m,
            _ => continue,
        };
        // a rotated file that the pattern matches under its new name: follow it
        if let Some(a) = active
            .iter_mut()
            .find(|a| a.gone_since.is_some() && a.ino == md.ino())
        {
            a.name = name;
            a.gone_since = None;
            a.rotated = false;
            continue;
        }
        let file = match File::open(&name) {
            Ok(f) => {
                failed.remove(&name);
                f
            }
            Err(e) => {
                // said once, not every poll
                if failed.insert(name.clone()) {
                    ctx.notices
                        .error(format!("imfile: error accessing file '{name}': {e}"));
                }
                continue;
            }
        };
        let ino = file.metadata().map(|m| m.ino()).unwrap_or(md.ino());
        let mut a = Active {
            name,
            file,
            ino,
            r: Reader::default(),
            file_id: String::new(),
            dirty: false,
            gone_since: None,
            rotated: false,
            last_block: Vec::new(),
            repeat: ctx.repeat.then(Repeat::default),
        };
        if !load_state(inp, ctx, &mut a) && first && inp.fresh_start_tail {
            let end = a.file.metadata().map(|m| m.len()).unwrap_or(0);
            a.r.offset = end;
            a.r.strt_offs = end;
        }
        active.push(a);
    }
    for a in active.iter_mut() {
        had |= read_file(inp, ctx, a, batch).await?;
        flush(ctx, batch).await?;
        if a.dirty {
            persist(inp, ctx, a);
        }
    }
    Some(had)
}

fn expand(pattern: &str) -> Vec<String> {
    if !has_glob(pattern) {
        return vec![pattern.to_string()];
    }
    match glob::glob(pattern) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            .filter_map(|p| p.to_str().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Hands the batch on when it holds anything. `None` when the queue is closed.
async fn flush(ctx: &Ctx, batch: &mut Batch) -> Option<()> {
    if batch.is_empty() {
        return Some(());
    }
    let b = std::mem::replace(batch, ctx.new_batch());
    ctx.send(b).await.then_some(())
}

/// Reads everything new in one file. Returns whether there was data.
async fn read_file(inp: &FileInput, ctx: &Ctx, a: &mut Active, batch: &mut Batch) -> Option<bool> {
    let mut had = false;
    if inp.reopen_on_truncate && truncated(a) {
        ctx.notices.warning(format!(
            "file '{}': truncation detected, (last block data different) - re-start reading from beginning (data 0)",
            a.name
        ));
        a.r.offset = 0;
        a.r.strt_offs = 0;
        a.last_block.clear();
        a.dirty = true;
    }
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match a.file.read_at(&mut buf, a.r.offset) {
            Ok(0) => {
                if matches!(inp.mode, Mode::Lines(1)) && a.r.prev_was_nl {
                    // rsyslog's readMode 1 hits EOF after appending the LF escape but before
                    // it notes the LF: a paragraph whose blank line arrives later goes on
                    a.r.prev_was_nl = false;
                    a.dirty = true;
                }
                break;
            }
            Ok(n) => n,
            Err(_) => break,
        };
        had = true;
        a.dirty = true;
        let keep = n.min(4096);
        a.last_block.clear();
        a.last_block.extend_from_slice(&buf[n - keep..n]);
        let mut records: Vec<Vec<u8>> = Vec::new();
        consume(inp, &mut a.r, &buf[..n], &mut records);
        let now = crate::parse::now_local();
        for rec in records {
            emit(inp, ctx, batch, &rec, &now, a.repeat.as_mut());
            if batch.len() >= BATCH_MSGS || batch.data.len() >= BATCH_BYTES {
                // the reader state is persisted only with nothing unsent behind it
                flush(ctx, batch).await?;
            }
        }
        if batch.is_empty() {
            persist(inp, ctx, a);
        }
        if *ctx.shutdown.borrow() {
            break;
        }
    }
    // read timeout: a pending multi-line message is emitted after readTimeout seconds
    if inp.read_timeout > 0 {
        if let Some(last) = a.r.last_read {
            if last.elapsed() >= Duration::from_secs(inp.read_timeout) {
                if let Some(m) = a.r.msg_seg.take() {
                    let now = crate::parse::now_local();
                    emit(inp, ctx, batch, &m, &now, a.repeat.as_mut());
                    a.r.strt_offs = a.r.offset;
                    a.dirty = true;
                    had = true;
                }
                a.r.last_read = None;
            }
        }
    }
    Some(had)
}

/// Whether the file was truncated since the last read (the file is shorter than what was
/// read, or the last block read differs now).
fn truncated(a: &Active) -> bool {
    let Ok(md) = a.file.metadata() else {
        return false;
    };
    if md.len() < a.r.offset {
        return true;
    }
    if a.last_block.is_empty() {
        return false; // nothing read yet (or since a restart): only shrinking is seen
    }
    let start = a.r.offset - a.last_block.len() as u64;
    let mut now = vec![0u8; a.last_block.len()];
    match a.file.read_at(&mut now, start) {
        Ok(n) if n == now.len() => now != a.last_block,
        _ => true,
    }
}

/// Feeds bytes through the record assembly of the configured mode.
fn consume(inp: &FileInput, r: &mut Reader, data: &[u8], out: &mut Vec<Vec<u8>>) {
    let esc: &[u8] = inp.escape_str.as_deref().unwrap_or(b"#012");
    match &inp.mode {
        Mode::Lines(0) => {
            let mut rest = data;
            while let Some(i) = memchr::memchr(b'\n', rest) {
                r.pending.extend_from_slice(&rest[..i]);
                r.offset += i as u64 + 1;
                let mut line = std::mem::take(&mut r.pending);
                trim(inp, &mut line);
                r.strt_offs = r.offset;
                out.push(line);
                rest = &rest[i + 1..];
            }
            r.pending.extend_from_slice(rest);
            r.offset += rest.len() as u64;
        }
        Mode::Lines(1) => {
            // paragraphs: an empty line ends a record; LFs inside become the escape
            let elen = if inp.escape_lf { esc.len() } else { 1 };
            for &c in data {
                r.offset += 1;
                if c != b'\n' {
                    r.pending.push(c);
                    r.prev_was_nl = false;
                } else if r.pending.is_empty() {
                    // a blank line with nothing before it: an empty record (skipped)
                    r.strt_offs = r.offset;
                } else if r.prev_was_nl && (inp.escape_str.is_none() || !esc.is_empty()) {
                    let l = r.pending.len();
                    r.pending.truncate(l.saturating_sub(elen));
                    r.prev_was_nl = false;
                    r.strt_offs = r.offset;
                    out.push(std::mem::take(&mut r.pending));
                } else {
                    if inp.escape_lf {
                        r.pending.extend_from_slice(esc);
                    } else {
                        r.pending.push(b'\n');
                    }
                    r.prev_was_nl = true;
                }
            }
        }
        Mode::Lines(_) => {
            // indented follow-up lines belong to the record before them
            let strip = inp.escape_lf && (inp.escape_str.is_none() || !esc.is_empty());
            for &c in data {
                if r.pending.is_empty() {
                    r.offset += 1;
                    if c == b'\n' {
                        r.strt_offs = r.offset;
                    } else {
                        r.pending.push(c);
                    }
                } else if r.prev_was_nl {
                    if c == b' ' || c == b'\t' {
                        r.offset += 1;
                        r.pending.push(c);
                        r.prev_was_nl = false;
                    } else {
                        // the record ends before this byte, which starts the next one
                        if strip {
                            let l = r.pending.len();
                            r.pending.truncate(l.saturating_sub(esc.len()));
                        }
                        r.prev_was_nl = false;
                        r.strt_offs = r.offset;
                        let mut rec = std::mem::take(&mut r.pending);
                        trim(inp, &mut rec);
                        out.push(rec);
                        r.offset += 1;
                        if c == b'\n' {
                            r.strt_offs = r.offset;
                        } else {
                            r.pending.push(c);
                        }
                    }
                } else {
                    r.offset += 1;
                    if c == b'\n' {
                        r.prev_was_nl = true;
                        if inp.escape_lf && (inp.escape_str.is_none() || !esc.is_empty()) {
                            r.pending.extend_from_slice(esc);
                        } else {
                            r.pending.push(b'\n');
                        }
                    } else {
                        r.pending.push(c);
                    }
                }
            }
        }
        Mode::Regex { start, end } => {
            let lf_esc: &[u8] = inp.escape_str.as_deref().unwrap_or(b"\\n");
            let mut rest = data;
            if !rest.is_empty() {
                r.last_read = Some(Instant::now());
            }
            while let Some(i) = memchr::memchr(b'\n', rest) {
                r.pending.extend_from_slice(&rest[..i]);
                r.offset += i as u64 + 1;
                rest = &rest[i + 1..];
                let line = std::mem::take(&mut r.pending);
                regex_line(inp, r, start, end, line, lf_esc, out);
            }
            r.pending.extend_from_slice(rest);
            r.offset += rest.len() as u64;
        }
    }
}

fn regex_line(
    inp: &FileInput,
    r: &mut Reader,
    start: &Option<PosixRegex>,
    end: &Option<PosixRegex>,
    line: Vec<u8>,
    lf_esc: &[u8],
    out: &mut Vec<Vec<u8>>,
) {
    let is_start = start.as_ref().is_some_and(|re| re.is_match(&line));
    let is_end = end.as_ref().is_some_and(|re| re.is_match(&line));
    if is_start {
        if !r.ignoring {
            if let Some(m) = r.msg_seg.take() {
                out.push(m);
                r.strt_offs = r.offset;
            }
        }
        r.msg_seg = Some(line);
        r.ignoring = false;
    } else if !r.ignoring {
        match &mut r.msg_seg {
            None => r.msg_seg = Some(line),
            Some(seg) => {
                if inp.escape_lf {
                    seg.extend_from_slice(lf_esc);
                } else {
                    seg.push(b'\n');
                }
                if !line.is_empty() {
                    let total = seg.len() + line.len();
                    if total < inp.max_msg {
                        seg.extend_from_slice(&line);
                    } else {
                        // oversize: the message is cut at maxMessageSize, the rest of the
                        // line starts the next one (or is dropped with discardTruncatedMsg)
                        let take = if seg.len() > inp.max_msg {
                            0
                        } else {
                            line.len() - (total - inp.max_msg)
                        };
                        seg.extend_from_slice(&line[..take]);
                        let full = std::mem::replace(seg, line[take..].to_vec());
                        out.push(full);
                        if inp.discard_truncated {
                            r.ignoring = true;
                        }
                    }
                }
            }
        }
    }
    if is_end {
        if !r.ignoring {
            if let Some(m) = r.msg_seg.take() {
                out.push(m);
                r.strt_offs = r.offset;
            }
        }
        r.ignoring = false;
    }
}

/// `trimLineOverBytes` (readMode 0 and 2): rsyslog keeps the first N bytes and appends a LF.
fn trim(inp: &FileInput, line: &mut Vec<u8>) {
    if inp.trim_line_over_bytes > 0 && line.len() > inp.trim_line_over_bytes {
        line.truncate(inp.trim_line_over_bytes);
        line.push(b'\n');
    }
}

/// One record as a message, then `$RepeatedMsgReduction` on the file's limiter.
fn emit(
    inp: &FileInput,
    ctx: &Ctx,
    batch: &mut Batch,
    rec: &[u8],
    now: &(crate::message::SyslogTime, i64),
    rep: Option<&mut Repeat>,
) {
    let (mark, before) = (batch.data.len(), batch.len());
    emit_record(inp, ctx, batch, rec, now);
    if let (Some(r), true) = (rep, batch.len() > before) {
        r.check_last(batch, mark, ctx.parse.permit_slash_in_programname);
    }
}

fn emit_record(
    inp: &FileInput,
    ctx: &Ctx,
    batch: &mut Batch,
    rec: &[u8],
    now: &(crate::message::SyslogTime, i64),
) {
    if rec.is_empty() {
        return; // rsyslog does not process empty lines
    }
    // rsyslog's submitMsg2 truncates an oversize message to maxMessageSize (its default
    // oversizemsg.input.mode) and says so
    let rec = if rec.len() > inp.max_msg {
        let head = String::from_utf8_lossy(&rec[..rec.len().min(80)]).into_owned();
        ctx.notices.warning(format!(
            "message too long ({}) with configured size {}, begin of message is: {head}",
            rec.len(),
            inp.max_msg
        ));
        &rec[..inp.max_msg]
    } else {
        rec
    };
    if batch.peers.is_empty() {
        // imfile sets no sender: fromhost and fromhost-ip are empty
        batch.peers.push(Peer::default());
    }
    if inp.need_parse {
        ctx.push(batch, rec, 0, now);
        if let Some(m) = batch.msgs.last_mut() {
            if m.hostname == crate::message::Span::EMPTY {
                let h = batch.data.len();
                batch.data.extend_from_slice(inp.local_host.as_bytes());
                m.hostname = crate::message::Span::new(h.max(1)..batch.data.len().max(h.max(1)));
            }
            if m.protocol_version == 1 {
                // RFC 5424 sets no TAG: imfile's stays (no APP-NAME[PROCID] emulation)
                let t = batch.data.len();
                batch.data.extend_from_slice(&inp.tag);
                m.tag = crate::message::Span::new(t..batch.data.len());
            }
        }
        return;
    }
    let rx = Received {
        peer: 0,
        input: ctx.input,
        time: now.0,
        unix: now.1,
    };
    crate::parse::push_local_message(
        batch,
        rec,
        &inp.tag,
        inp.local_host.as_bytes(),
        inp.facility,
        inp.severity,
        &rx,
    );
}

// ---------------------------------------------------------------------------------------
// State files

/// rsyslog's file id: SipHash-2-4 (key 00 01 … 0f) of the first 512 bytes, as 16 hex
/// digits; empty while the file is shorter.
fn file_id(f: &File) -> String {
    let mut buf = [0u8; FILE_ID_SIZE];
    match f.read_at(&mut buf, 0) {
        Ok(n) if n == FILE_ID_SIZE => {}
        _ => return String::new(),
    }
    let k0 = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
    let k1 = u64::from_le_bytes([8, 9, 10, 11, 12, 13, 14, 15]);
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(k0, k1);
    std::hash::Hasher::write(&mut h, &buf);
    let v = std::hash::Hasher::finish(&h);
    v.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn state_path(inp: &FileInput, ino: u64, id: &str) -> PathBuf {
    let mut name = format!("imfile-state:{ino}");
    if !id.is_empty() {
        name.push(':');
        name.push_str(id);
    }
    inp.state_dir.join(name)
}

/// json-c's string escaping (with its `\/`), quoted.
fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    crate::json::escape_into(s, out);
    out.push(b'"');
}

fn state_json(a: &Active) -> Vec<u8> {
    let mut o = Vec::with_capacity(128 + a.r.pending.len());
    o.extend_from_slice(b"{ \"filename\": ");
    json_str(&mut o, a.name.as_bytes());
    o.extend_from_slice(
        format!(
            ", \"prev_was_nl\": {}, \"curr_offs\": {}, \"strt_offs\": {}",
            a.r.prev_was_nl as u8, a.r.offset, a.r.strt_offs
        )
        .as_bytes(),
    );
    if !a.r.pending.is_empty() {
        o.extend_from_slice(b", \"prev_line_segment\": ");
        json_str(&mut o, &a.r.pending);
    }
    if let Some(m) = &a.r.msg_seg {
        o.extend_from_slice(b", \"prev_msg_segment\": ");
        json_str(&mut o, m);
    }
    o.extend_from_slice(b" }");
    o
}

/// Writes the state file (atomically: temporary file, then rename).
fn persist(inp: &FileInput, ctx: &Ctx, a: &mut Active) {
    let id = file_id(&a.file);
    let path = state_path(inp, a.ino, &id);
    let tmp = path.with_extension("tmp");
    let res = std::fs::write(&tmp, state_json(a)).and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        ctx.notices.error(format!(
            "imfile: could not persist state file {} - data may be repeated on next startup. Is WorkDirectory set? ({e})",
            path.display()
        ));
        return;
    }
    if id != a.file_id {
        // the file id changed (first 512 bytes complete, or rewritten): drop the old state
        let _ = std::fs::remove_file(state_path(inp, a.ino, &a.file_id));
        a.file_id = id;
    }
    a.dirty = false;
}

/// Reads the state of a newly seen file (by inode and file id, then by inode alone).
fn load_state(inp: &FileInput, ctx: &Ctx, a: &mut Active) -> bool {
    let id = file_id(&a.file);
    let mut text = None;
    for cand in [id.as_str(), ""] {
        if cand.is_empty() && id.is_empty() && text.is_some() {
            break;
        }
        if let Ok(t) = std::fs::read(state_path(inp, a.ino, cand)) {
            a.file_id = cand.to_string();
            text = Some(t);
            break;
        }
    }
    let Some(text) = text else {
        return false;
    };
    let Some(fields) = parse_json_object(&text) else {
        ctx.notices
            .error(format!("imfile: error reading state file for '{}'", a.name));
        return false;
    };
    for (k, v) in fields {
        match (k.as_slice(), v) {
            (b"curr_offs", Json::Int(n)) => a.r.offset = n.max(0) as u64,
            (b"strt_offs", Json::Int(n)) => a.r.strt_offs = n.max(0) as u64,
            (b"prev_was_nl", Json::Int(n)) => a.r.prev_was_nl = n != 0,
            (b"prev_line_segment", Json::Str(s)) => a.r.pending = s,
            (b"prev_msg_segment", Json::Str(s)) => a.r.msg_seg = Some(s),
            _ => {}
        }
    }
    true
}

enum Json {
    Int(i64),
    Str(Vec<u8>),
    Other,
}

/// A flat JSON object of strings and integers (what state files hold).
fn parse_json_object(t: &[u8]) -> Option<Vec<(Vec<u8>, Json)>> {
    let mut p = 0;
    let ws = |p: &mut usize| {
        while t.get(*p).is_some_and(|c| c.is_ascii_whitespace()) {
            *p += 1;
        }
    };
    fn string(t: &[u8], p: &mut usize) -> Option<Vec<u8>> {
        if t.get(*p) != Some(&b'"') {
            return None;
        }
        *p += 1;
        let mut s = Vec::new();
        loop {
            let c = *t.get(*p)?;
            *p += 1;
            match c {
                b'"' => return Some(s),
                b'\\' => {
                    let e = *t.get(*p)?;
                    *p += 1;
                    match e {
                        b'n' => s.push(b'\n'),
                        b'r' => s.push(b'\r'),
                        b't' => s.push(b'\t'),
                        b'b' => s.push(8),
                        b'f' => s.push(12),
                        b'u' => {
                            let h = std::str::from_utf8(t.get(*p..*p + 4)?).ok()?;
                            *p += 4;
                            let v = u32::from_str_radix(h, 16).ok()?;
                            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                            let mut b = [0u8; 4];
                            s.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        other => s.push(other),
                    }
                }
                c => s.push(c),
            }
        }
    }
    ws(&mut p);
    if t.get(p) != Some(&b'{') {
        return None;
    }
    p += 1;
    let mut out = Vec::new();
    loop {
        ws(&mut p);
        match t.get(p) {
            Some(b'}') => return Some(out),
            Some(b',') => {
                p += 1;
                continue;
            }
            Some(b'"') => {}
            _ => return None,
        }
        let k = string(t, &mut p)?;
        ws(&mut p);
        if t.get(p) != Some(&b':') {
            return None;
        }
        p += 1;
        ws(&mut p);
        let v = if t.get(p) == Some(&b'"') {
            Json::Str(string(t, &mut p)?)
        } else {
            let s = p;
            while t
                .get(p)
                .is_some_and(|c| !matches!(c, b',' | b'}') && !c.is_ascii_whitespace())
            {
                p += 1;
            }
            match std::str::from_utf8(&t[s..p]).ok()?.parse::<i64>() {
                Ok(n) => Json::Int(n),
                Err(_) => Json::Other,
            }
        };
        out.push((k, v));
    }
}

/// Whether `path` is an imfile state file name (for tests and tools).
pub fn is_state_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("imfile-state:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inp(mode: Mode, escape_lf: bool) -> FileInput {
        FileInput {
            pattern: String::new(),
            tag: b"t".to_vec(),
            facility: 16,
            severity: 5,
            mode,
            escape_lf,
            escape_str: None,
            reopen_on_truncate: false,
            fresh_start_tail: false,
            trim_line_over_bytes: 0,
            discard_truncated: false,
            rm_state_on_delete: true,
            read_timeout: 0,
            max_msg: 8096,
            state_dir: PathBuf::from("."),
            poll: Duration::from_secs(1),
            inotify: false,
            need_parse: false,
            local_host: Arc::from("h"),
        }
    }

    fn run(i: &FileInput, chunks: &[&[u8]]) -> (Vec<String>, Reader) {
        let mut r = Reader::default();
        let mut out = Vec::new();
        for c in chunks {
            consume(i, &mut r, c, &mut out);
        }
        (
            out.into_iter()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .collect(),
            r,
        )
    }

    #[test]
    fn modes() {
        let (o, r) = run(&inp(Mode::Lines(0), true), &[b"a\nb", b"c\n\nd"]);
        assert_eq!(o, ["a", "bc", ""]);
        assert_eq!(
            (r.offset, r.strt_offs, r.pending.as_slice()),
            (7, 6, &b"d"[..])
        );
        let (o, _) = run(&inp(Mode::Lines(1), true), &[b"a\nb\n\nc\n", b"\n"]);
        assert_eq!(o, ["a#012b", "c"]);
        let (o, r) = run(&inp(Mode::Lines(2), true), &[b"a\n b\nc\n\td\n", b"e"]);
        assert_eq!(o, ["a#012 b", "c#012\td"]);
        assert_eq!(r.pending, b"e");
        let (o, _) = run(&inp(Mode::Lines(2), false), &[b"a\n b\nc\n"]);
        assert_eq!(o, ["a\n b\n"]);
        let re = Mode::Regex {
            start: Some(PosixRegex::new("^[0-9]").unwrap()),
            end: None,
        };
        let (o, r) = run(&inp(re, true), &[b"1 a\n x\n2 b\n", b" y\n3"]);
        assert_eq!(o, ["1 a\\n x"]);
        assert_eq!(r.msg_seg.as_deref(), Some(&b"2 b\\n y"[..]));
    }

    #[test]
    fn local_message_fields() {
        let mut b = Batch::default();
        b.peers.push(Peer::default());
        let now = crate::parse::now_local();
        let rx = Received {
            peer: 0,
            input: 3,
            time: now.0,
            unix: now.1,
        };
        assert!(!crate::parse::push_local_message(
            &mut b, b"", b"t:", b"h", 16, 5, &rx
        ));
        assert!(crate::parse::push_local_message(
            &mut b,
            b"<13>line",
            b"prog[42]:",
            b"host",
            19,
            4,
            &rx
        ));
        let m = b.get(0);
        assert_eq!(m.raw(), b"<13>line");
        assert_eq!(m.msg(), b"<13>line");
        assert_eq!(m.raw_after_pri(), b"line");
        assert_eq!(m.tag(), b"prog[42]:");
        assert_eq!(m.hostname(), b"host");
        assert_eq!(m.bytes(m.m.app_name), b"prog");
        assert_eq!(m.bytes(m.m.procid), b"42");
        assert_eq!(m.bytes(m.m.msgid), b"-");
        assert_eq!((m.pri(), m.m.input, m.m.parsed), (156, 3, false));
    }

    #[test]
    fn json_round_trip() {
        let f = File::open("/dev/null").unwrap();
        let a = Active {
            name: "/a/b".into(),
            file: f,
            ino: 1,
            r: Reader {
                offset: 5,
                strt_offs: 3,
                pending: b"x\"\n\x01".to_vec(),
                ..Reader::default()
            },
            file_id: String::new(),
            dirty: false,
            gone_since: None,
            rotated: false,
            last_block: Vec::new(),
            repeat: None,
        };
        let j = state_json(&a);
        assert_eq!(
            String::from_utf8_lossy(&j),
            "{ \"filename\": \"\\/a\\/b\", \"prev_was_nl\": 0, \"curr_offs\": 5, \"strt_offs\": 3, \"prev_line_segment\": \"x\\\"\\n\\u0001\" }"
        );
        let v = parse_json_object(&j).unwrap();
        assert!(matches!(&v[4].1, Json::Str(s) if s == b"x\"\n\x01"));
        assert!(matches!(v[2].1, Json::Int(5)));
    }
}
