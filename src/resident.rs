//! Keeps the daemon's resident set to the code it runs. The binary is large (about 5 MiB of
//! code) and the kernel maps 64 KiB around every page of it that is touched (fault-around),
//! so each start-up phase (config parsing, building the runtime, binding inputs, starting
//! actions) leaves megabytes of code mapped that the running daemon never uses again.
//! Between those phases oxsyslogd lets go of the read-only, file-backed pages of its binary
//! and libraries (`MADV_DONTNEED`); what the next phase and the running daemon need is mapped
//! back from the page cache on first use. The pages stay in the page cache (shared, clean),
//! so this lowers the process's resident set and peak, not the machine's page cache.
//!
//! Only mappings that were never written are released: a mapping with anonymous (copied on
//! write) pages, such as relocated read-only data, keeps everything, because dropping those
//! pages would bring back the file's unrelocated bytes.

use std::ffi::c_void;
use std::ptr::NonNull;

/// One read-only file mapping of this process that holds no written pages.
#[derive(Debug, PartialEq, Eq)]
struct Clean {
    start: usize,
    len: usize,
}

/// The read-only file-backed mappings of `/proc/self/smaps` text without anonymous pages.
fn clean_mappings(smaps: &str) -> Vec<Clean> {
    let mut out = Vec::new();
    let mut cur: Option<Clean> = None;
    for line in smaps.lines() {
        let mut f = line.split_ascii_whitespace();
        let first = f.next().unwrap_or("");
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                // a mapping header: range perms offset dev inode [path]
                let perms = f.next().unwrap_or("");
                let path = f.nth(3).unwrap_or("");
                cur = (perms.starts_with('r')
                    && perms.as_bytes().get(1) == Some(&b'-')
                    && perms.ends_with('p')
                    && path.starts_with('/')
                    && b > a)
                    .then_some(Clean {
                        start: a,
                        len: b - a,
                    });
                continue;
            }
        }
        if first == "Anonymous:" {
            if let Some(c) = cur.take() {
                if f.next() == Some("0") {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Releases the pages of the clean read-only mappings. Errors are ignored: this only
/// changes how much memory is counted resident.
pub fn trim() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for m in clean_mappings(&smaps) {
        let Some(addr) = NonNull::new(m.start as *mut c_void) else {
            continue;
        };
        // SAFETY: the range is a whole private, read-only file mapping of this process that
        // was never written (no anonymous pages, checked above, and it cannot be written
        // without an mprotect this program never makes). MADV_DONTNEED on such a mapping
        // unmaps its pages, and any later access maps the same file bytes again from the
        // page cache, so no thread can observe a difference.
        unsafe {
            let _ = nix::sys::mman::madvise(addr, m.len, nix::sys::mman::MmapAdvise::MADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0100000 r--p 00000000 fd:01 123 /usr/sbin/oxsyslogd
Size:               1024 kB
Rss:                 800 kB
Anonymous:             0 kB
55d0a0100000-55d0a0400000 r-xp 00100000 fd:01 123 /usr/sbin/oxsyslogd
Rss:                3000 kB
Anonymous:             0 kB
55d0a0400000-55d0a0420000 r--p 00400000 fd:01 123 /usr/sbin/oxsyslogd
Rss:                 128 kB
Anonymous:           128 kB
55d0a0420000-55d0a0430000 rw-p 00420000 fd:01 123 /usr/sbin/oxsyslogd
Anonymous:            64 kB
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 
Anonymous:             4 kB
7f0000100000-7f0000200000 r-xp 00000000 fd:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
";

    #[test]
    fn only_unwritten_read_only_file_mappings_are_released() {
        let got = clean_mappings(SMAPS);
        assert_eq!(
            got,
            vec![
                Clean {
                    start: 0x55d0a0000000,
                    len: 0x100000
                },
                Clean {
                    start: 0x55d0a0100000,
                    len: 0x300000
                },
                Clean {
                    start: 0x7f0000100000,
                    len: 0x100000
                },
            ]
        );
    }

    #[test]
    fn trimming_the_running_test_process_keeps_it_working() {
        trim();
        // code and read-only data come back on use
        let v: Vec<u64> = (0..1000).collect();
        assert_eq!(v.iter().sum::<u64>(), 499_500);
        assert!(format!("{:?}", std::path::Path::new("/x")).contains('x'));
    }
}
