//! PRI handling as rsyslog 8.2302 does it (runtime/parser.c `ParsePRI`, runtime/msg.c
//! `msgSetPRI` and `getRawMsgAfterPRI`, imuxsock's own PRI reader).

use crate::message::FAC_INVLD;

/// Highest valid PRI (`LOG_MAXPRI`).
pub const MAX_PRI: u16 = 191;
/// PRI of a message without `<…>` (`DEFUPRI`, user.notice).
pub const DEFAULT_PRI: u16 = 13;
/// `LOG_PRI_INVLD`: facility invld (24), severity debug.
pub const INVALID_PRI: u16 = (FAC_INVLD as u16) << 3 | 7;

/// Result of PRI parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pri {
    pub facility: u8,
    pub severity: u8,
    /// Where parsing continues (0 for a missing or an invalid PRI).
    pub offset: usize,
}

impl Pri {
    pub fn is_invalid(&self) -> bool {
        self.facility == FAC_INVLD
    }
}

/// `msgSetPRI`: a value above 191 becomes invld.debug.
pub fn split_pri(pri: u16) -> (u8, u8) {
    let pri = if pri > MAX_PRI { INVALID_PRI } else { pri };
    ((pri >> 3) as u8, (pri & 7) as u8)
}

/// `ParsePRI`: `<` digits `>` with a value of at most 191. Leading zeros are fine (`<0013>`)
/// and so is no digit at all (`<>` is PRI 0, kern.emerg). No `<` at all: PRI 13, offset 0.
/// A `<` without a valid PRI: invld.debug, offset 0.
pub fn parse_pri(raw: &[u8]) -> Pri {
    let at = |i: usize| raw.get(i).copied().unwrap_or(0);
    if at(0) != b'<' {
        let (facility, severity) = split_pri(DEFAULT_PRI);
        return Pri {
            facility,
            severity,
            offset: 0,
        };
    }
    let mut pri: u16 = 0;
    let mut len = raw.len() as isize;
    let mut p = 0usize;
    // while(--lenMsg > 0 && isdigit(*++msg) && pri <= LOG_MAXPRI) pri = 10 * pri + digit
    loop {
        len -= 1;
        if len <= 0 {
            break;
        }
        p += 1;
        let c = at(p);
        if !c.is_ascii_digit() || pri > MAX_PRI {
            break;
        }
        pri = 10 * pri + (c - b'0') as u16;
    }
    let mut ok = true;
    if at(p) == b'>' {
        p += 1;
    } else {
        ok = false;
    }
    if pri > MAX_PRI {
        ok = false;
    }
    let (facility, severity) = split_pri(if ok { pri } else { INVALID_PRI });
    Pri {
        facility,
        severity,
        offset: if ok { p } else { 0 },
    }
}

/// imuxsock's special parser reads the PRI without checking anything: it skips the first
/// byte (whatever it is), reads digits into a 16-bit value (wrapping), and the byte after them
/// is skipped as if it were `>`. Returns the PRI value and the index of that byte.
pub fn parse_pri_uxsock(raw: &[u8]) -> (u16, usize) {
    let mut offs = 1usize;
    let mut pri: u16 = 0;
    while offs < raw.len() && raw[offs].is_ascii_digit() {
        pri = pri.wrapping_mul(10).wrapping_add((raw[offs] - b'0') as u16);
        offs += 1;
    }
    (pri, offs)
}

/// `rawmsg-after-pri` as rsyslog computes it when the property is read: after a `>` at
/// index 2, 3 or 4 of a message that starts with `<`, else the whole message.
pub fn raw_after_pri_offset(raw: &[u8]) -> usize {
    let at = |i: usize| raw.get(i).copied().unwrap_or(0);
    if at(0) == b'<' {
        for i in 2..=4 {
            if at(i) == b'>' {
                return i + 1;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[u8]) -> (u8, u8, usize) {
        let r = parse_pri(s);
        (r.facility, r.severity, r.offset)
    }

    #[test]
    fn valid() {
        assert_eq!(p(b"<13>x"), (1, 5, 4));
        assert_eq!(p(b"<0>x"), (0, 0, 3));
        assert_eq!(p(b"<191>x"), (23, 7, 5));
        assert_eq!(p(b"<0013>x"), (1, 5, 6));
        assert_eq!(p(b"<>hello"), (0, 0, 2));
        assert_eq!(p(b"<13>"), (1, 5, 4));
    }

    #[test]
    fn missing() {
        assert_eq!(p(b"hello"), (1, 5, 0));
        assert_eq!(p(b""), (1, 5, 0));
    }

    #[test]
    fn invalid() {
        for s in [
            &b"<192>x"[..],
            b"<1921>x",
            b"<1000>x",
            b"<13",
            b"<",
            b"<abc>x",
            b"<1x>",
            b"<-1>x",
        ] {
            assert_eq!(p(s), (24, 7, 0), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn after_pri_property() {
        assert_eq!(raw_after_pri_offset(b"<13>x"), 4);
        assert_eq!(raw_after_pri_offset(b"<1>x"), 3);
        assert_eq!(raw_after_pri_offset(b"<192>x"), 5);
        assert_eq!(raw_after_pri_offset(b"<abc>x"), 5);
        assert_eq!(raw_after_pri_offset(b"<0013>x"), 0);
        assert_eq!(raw_after_pri_offset(b"<>x"), 0);
        assert_eq!(raw_after_pri_offset(b"<13"), 0);
        assert_eq!(raw_after_pri_offset(b"x>"), 0);
    }

    #[test]
    fn uxsock() {
        assert_eq!(parse_pri_uxsock(b"<13>x"), (13, 3));
        assert_eq!(parse_pri_uxsock(b"hello"), (0, 1));
        assert_eq!(parse_pri_uxsock(b"<65549>x"), (13, 6));
        assert_eq!(split_pri(999), (24, 7));
    }
}
