//! Disk-queue segment files for the disk-queue tests: listing a queue directory's segments,
//! damaging two of them the same way in every test, and the loss count the daemon reports
//! for damaged segments. Include with `mod common; #[path = "common/segments.rs"] mod segments;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The segment files in `dir` (an 8-character extension: `name.00000001`), sorted.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.len() == 8))
        .collect();
    segs.sort();
    segs
}

/// Truncates `segs[1]` inside a record and flips a bit in the middle of `segs[3]`.
pub fn damage(segs: &[PathBuf]) {
    let b = std::fs::read(&segs[1]).unwrap();
    std::fs::write(&segs[1], &b[..b.len() / 2 + 3]).unwrap();
    let mut b = std::fs::read(&segs[3]).unwrap();
    let at = b.len() / 2;
    b[at] ^= 0x01;
    std::fs::write(&segs[3], b).unwrap();
}

/// The count of the daemon's "N message(s) lost in damaged …" line in `err`; panics when
/// there is none.
pub fn reported_lost(err: &str) -> usize {
    crate::common::number_before(err, " message(s) lost in damaged")
        .unwrap_or_else(|| panic!("no lost count reported:\n{err}"))
}
