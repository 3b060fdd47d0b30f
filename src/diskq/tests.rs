//! Unit tests of the disk queue: format, roll-over, commit and restart, and recovery from
//! truncated, bit-flipped and missing segments and a damaged state file.

use super::*;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("oxdiskq-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn settings(d: &Dir, max_file_size: u64) -> DiskSettings {
    DiskSettings {
        dir: d.0.clone(),
        name: "q".into(),
        max_file_size,
        max_disk_space: 0,
        sync: false,
        checkpoint_interval: 0,
    }
}

fn put(q: &mut DiskQueue, r: std::ops::Range<u32>) {
    for i in r {
        q.push(&[format!("msg {i:03}").as_bytes()]).unwrap();
    }
    q.flush().unwrap();
}

fn take(q: &mut DiskQueue, max: usize) -> Vec<String> {
    let mut v = Vec::new();
    q.read(max, &mut v);
    v.into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

fn names(r: std::ops::Range<u32>) -> Vec<String> {
    r.map(|i| format!("msg {i:03}")).collect()
}

fn segments(d: &Dir) -> Vec<u32> {
    recover::list_segments(&d.0, "q").unwrap()
}

#[test]
fn order_rollover_commit_and_restart() {
    let d = dir("order");
    let (mut q, rep) = DiskQueue::open(settings(&d, 200)).unwrap();
    assert_eq!((rep.recovered, rep.lost), (0, 0));
    put(&mut q, 0..50);
    assert!(segments(&d).len() > 5, "rolled over: {:?}", segments(&d));
    assert_eq!(q.len(), 50);
    assert_eq!(take(&mut q, 20), names(0..20));
    q.commit().unwrap();
    assert_eq!(take(&mut q, 10), names(20..30));
    // not committed: after a restart these ten come again
    drop(q);
    let (mut q, rep) = DiskQueue::open(settings(&d, 200)).unwrap();
    assert_eq!((rep.recovered, rep.lost), (30, 0), "{:?}", rep.notes);
    assert!(rep.notes.is_empty(), "{:?}", rep.notes);
    put(&mut q, 50..60);
    assert_eq!(take(&mut q, 1000), names(20..60));
    q.commit().unwrap();
    assert!(q.is_empty());
    assert_eq!(segments(&d).len(), 1, "consumed segments deleted");
    drop(q);
    let (q, rep) = DiskQueue::open(settings(&d, 200)).unwrap();
    assert_eq!(rep.recovered, 0);
    assert!(q.is_empty());
}

#[test]
fn max_disk_space_refuses_then_accepts_after_commit() {
    let d = dir("space");
    let mut s = settings(&d, 1 << 20);
    s.max_disk_space = 16 + 10 * (16 + 5);
    let (mut q, _) = DiskQueue::open(s).unwrap();
    for i in 0..10 {
        q.push(&[format!("m{i:04}").as_bytes()]).unwrap();
    }
    assert!(matches!(q.push(&[b"m0010"]), Err(Push::Full)));
    q.flush().unwrap();
    assert_eq!(take(&mut q, 4).len(), 4);
    q.commit().unwrap();
    // the bytes are freed when a segment is deleted, not per record: still full
    assert!(matches!(q.push(&[b"m0010"]), Err(Push::Full)));
}

/// Writes 30 records in segments of about ten, closes, returns the segment numbers.
fn three_segments(d: &Dir) -> Vec<u32> {
    let (mut q, _) = DiskQueue::open(settings(d, 16 + 10 * 23)).unwrap();
    put(&mut q, 0..30);
    drop(q);
    let v = segments(d);
    assert_eq!(v.len(), 3, "three full segments: {v:?}");
    v
}

fn seg_path(d: &Dir, n: u32) -> PathBuf {
    d.0.join(segment::file_name("q", n))
}

fn reopen(d: &Dir) -> (DiskQueue, OpenReport, Vec<String>) {
    let (mut q, rep) = DiskQueue::open(settings(d, 16 + 10 * 23)).unwrap();
    let all = take(&mut q, 1000);
    (q, rep, all)
}

fn damaged_files(d: &Dir) -> usize {
    std::fs::read_dir(d.0.join("q.damaged"))
        .map(|r| r.count())
        .unwrap_or(0)
}

#[test]
fn bit_flip_quarantines_and_counts_exactly() {
    let d = dir("flip");
    let v = three_segments(&d);
    let p = seg_path(&d, v[1]);
    let mut b = std::fs::read(&p).unwrap();
    b[16 + 23 * 3 + 16 + 2] ^= 0x10; // the payload of the fourth record of segment 2
    std::fs::write(&p, b).unwrap();
    let (_q, rep, all) = reopen(&d);
    assert_eq!(rep.lost, 1, "{:?}", rep.notes);
    assert!(!rep.lost_estimated);
    let mut want = names(0..30);
    want.remove(13);
    assert_eq!(all, want);
    assert_eq!(damaged_files(&d), 1);
    assert!(
        rep.notes.iter().any(|n| n.contains("checksum")),
        "{:?}",
        rep.notes
    );
}

#[test]
fn truncated_segment_in_the_middle_and_at_the_end() {
    let d = dir("trunc");
    let v = three_segments(&d);
    // the middle one cut inside its sixth record: five kept, five lost (exact from the ids)
    let p = seg_path(&d, v[1]);
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..16 + 23 * 5 + 7]).unwrap();
    let (q, rep, all) = reopen(&d);
    assert_eq!(
        (rep.lost, rep.lost_estimated),
        (5, false),
        "{:?}",
        rep.notes
    );
    let mut want = names(0..15);
    want.extend(names(20..30));
    assert_eq!(all, want);
    assert_eq!(damaged_files(&d), 1);
    drop(q);

    // the last one cut: the loss is estimated
    let d = dir("trunc2");
    let v = three_segments(&d);
    let p = seg_path(&d, v[2]);
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..16 + 23 * 2 + 10]).unwrap();
    let (_q, rep, all) = reopen(&d);
    assert!(rep.lost_estimated && rep.lost >= 1, "{rep:?}");
    assert_eq!(all, names(0..22));
}

#[test]
fn missing_segment_and_bad_magic() {
    let d = dir("missing");
    let v = three_segments(&d);
    std::fs::remove_file(seg_path(&d, v[1])).unwrap();
    let (_q, rep, all) = reopen(&d);
    assert_eq!(rep.lost, 10, "{:?}", rep.notes);
    assert!(
        rep.notes.iter().any(|n| n.contains("missing")),
        "{:?}",
        rep.notes
    );
    let mut want = names(0..10);
    want.extend(names(20..30));
    assert_eq!(all, want);

    let d = dir("magic");
    let v = three_segments(&d);
    let p = seg_path(&d, v[0]);
    let mut b = std::fs::read(&p).unwrap();
    b[0] = b'X';
    std::fs::write(&p, b).unwrap();
    let (_q, rep, all) = reopen(&d);
    // the first segment: no earlier id, the loss is estimated from its size
    assert!(rep.lost >= 1, "{rep:?}");
    assert_eq!(all, names(10..30));
    assert_eq!(damaged_files(&d), 1);
}

#[test]
fn damaged_state_file_reads_from_the_oldest_segment() {
    let d = dir("state");
    let (mut q, _) = DiskQueue::open(settings(&d, 1 << 20)).unwrap();
    put(&mut q, 0..10);
    take(&mut q, 4);
    q.commit().unwrap();
    drop(q);
    std::fs::write(state::path(&d.0, "q"), "garbage\n").unwrap();
    let (_q, rep, all) = reopen(&d);
    assert!(
        rep.notes.iter().any(|n| n.contains("damaged queue state")),
        "{:?}",
        rep.notes
    );
    // nothing lost: the committed four come again (duplicates, never loss)
    assert_eq!(all, names(0..10));
}

#[test]
fn enospc_cut_back_keeps_the_segment_readable() {
    let d = dir("enospc");
    let (mut q, _) = DiskQueue::open(settings(&d, 1 << 20)).unwrap();
    put(&mut q, 0..3);
    // a write that fails: a read-only handle stands in for a full disk
    let path = seg_path(&d, *segments(&d).last().unwrap());
    q.writer = std::fs::File::open(&path).unwrap();
    q.push(&[b"lost"]).unwrap();
    match q.flush() {
        Err(Push::Io { lost, .. }) => assert_eq!(lost, 1),
        other => panic!("{other:?}"),
    }
    q.writer = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    put(&mut q, 3..5);
    assert_eq!(take(&mut q, 100), names(0..5));
    drop(q);
    let (_q, rep, all) = reopen(&d);
    assert_eq!((rep.lost, rep.notes.len()), (0, 0), "{:?}", rep.notes);
    assert_eq!(all, names(0..5));
}

#[test]
fn one_queue_per_file_name() {
    let d = dir("twice");
    let (q, _) = DiskQueue::open(settings(&d, 1 << 20)).unwrap();
    let e = DiskQueue::open(settings(&d, 1 << 20)).err().unwrap();
    assert!(e.contains("already used"), "{e}");
    drop(q);
    DiskQueue::open(settings(&d, 1 << 20)).unwrap();
}

#[test]
fn checkpoint_interval_writes_the_state_every_n_records() {
    let d = dir("ckpt");
    let mut s = settings(&d, 1 << 20);
    s.checkpoint_interval = 5;
    let (mut q, _) = DiskQueue::open(s).unwrap();
    put(&mut q, 0..10);
    let at_open = state::read(&d.0, "q").unwrap().unwrap();
    take(&mut q, 3);
    q.commit().unwrap();
    assert_eq!(
        state::read(&d.0, "q").unwrap().unwrap(),
        at_open,
        "3 < 5: not yet"
    );
    take(&mut q, 3);
    q.commit().unwrap();
    let st = state::read(&d.0, "q").unwrap().unwrap();
    assert_eq!(st.seq, 6, "six records delivered");
    // a crash now re-delivers nothing delivered before the last state
    std::mem::forget(q);
    super::OPEN.lock().unwrap().remove(&d.0.join("q"));
    let (_q, rep, all) = reopen(&d);
    assert_eq!((rep.recovered, rep.lost), (4, 0));
    assert_eq!(all, names(6..10));
}

#[test]
fn state_is_fsynced_per_batch_only_with_sync_queue_files() {
    // Without queue.syncQueueFiles the segments are not fsynced, so neither is the state file
    // (overwritten in place): two fsyncs and a rename per delivered batch capped a drain at
    // ~15,000 msg/s (benches: --scenario diskq).
    for sync in [false, true] {
        let d = dir(if sync { "sync-on" } else { "sync-off" });
        let mut s = settings(&d, 1 << 20);
        s.sync = sync;
        let (mut q, _) = DiskQueue::open(s).unwrap();
        put(&mut q, 0..20);
        let before = state::SYNCS.with(|c| c.get());
        for _ in 0..10 {
            assert_eq!(take(&mut q, 2).len(), 2);
            q.commit().unwrap();
        }
        let syncs = state::SYNCS.with(|c| c.get()) - before;
        assert_eq!(syncs, if sync { 10 } else { 0 }, "sync={sync}");
        // the state is written at every commit either way
        assert_eq!(state::read(&d.0, "q").unwrap().unwrap().seq, 20);
        let p = state::path(&d.0, "q");
        assert_eq!(std::fs::metadata(&p).unwrap().len(), state::LINE_LEN as u64);
        // an overwrite in place leaves nothing of a longer old file behind
        std::fs::write(&p, "x".repeat(300)).unwrap();
        put(&mut q, 20..22);
        take(&mut q, 2);
        q.commit().unwrap();
        assert_eq!(state::read(&d.0, "q").unwrap().unwrap().seq, 22);
    }
}
