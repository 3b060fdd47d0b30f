//! Legacy selector (PRI filter) decoding with sysklogd/rsyslog semantics: `fac[,fac].[!][=]pri`
//! items separated by `;`, applied left to right onto one severity bitmask per facility.

/// Number of facility slots: 0–23, `invld` (24) and `mark` (25).
pub const FACILITY_SLOTS: usize = 26;

/// Bitmask per facility; bit n set = severity n selected.
pub type Mask = [u8; FACILITY_SLOTS];

const NOPRI: i32 = 0x10;
const ALLPRI: i32 = 0xff;

/// Facility names and their numeric codes (as rsyslog's `syslogFacNames` on Linux).
pub const FACILITY_NAMES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("bsd_security", 13),
    ("console", 14),
    ("security", 4),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
    ("invld", 24),
    ("mark", 25),
];

/// Severity names and their codes; `none` and `*` are special.
const PRI_NAMES: &[(&str, i32)] = &[
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
    ("none", NOPRI),
    ("*", ALLPRI),
];

/// A severity by name (case-insensitive, with rsyslog's aliases `panic`, `error`, `warn`);
/// `none` and `*` are not severities.
pub fn severity_code(name: &str) -> Option<u8> {
    PRI_NAMES
        .iter()
        .find(|(n, v)| (0..=7).contains(v) && n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v as u8)
}

/// Resolves a facility name (case-insensitive) or number (rsyslog takes numbers as the
/// facility code shifted left by 3, i.e. `16` means facility 2).
pub fn facility_code(name: &str) -> Option<usize> {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some((atoi(name) >> 3) as usize).filter(|&f| f < FACILITY_SLOTS);
    }
    FACILITY_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v as usize)
}

fn pri_code(name: &str) -> Option<i32> {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(atoi(name));
    }
    PRI_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

/// C `atoi`: leading digits, the rest ignored.
fn atoi(s: &str) -> i32 {
    s.bytes().take_while(u8::is_ascii_digit).fold(0i32, |n, d| {
        n.saturating_mul(10).saturating_add((d - b'0') as i32)
    })
}

fn apply(slot: &mut u8, pri: i32, negate: bool, single: bool) {
    if pri == NOPRI {
        *slot = if negate { 0xff } else { 0 };
    } else if single {
        let bit = 1u8.checked_shl(pri as u32).unwrap_or(0);
        if negate {
            *slot &= !bit;
        } else {
            *slot |= bit;
        }
    } else if pri == ALLPRI {
        *slot = if negate { 0 } else { 0xff };
    } else {
        for p in 0..=pri.min(7) {
            if negate {
                *slot &= !(1 << p);
            } else {
                *slot |= 1 << p;
            }
        }
    }
}

/// Decodes a selector such as `*.*;auth,authpriv.none` into its mask, or says which name is
/// unknown. Follows rsyslog's `DecodePRIFilter` scan exactly (a `,` after a priority starts a
/// new item just as `;` does).
pub fn decode(selector: &str) -> Result<Mask, String> {
    let mut mask = [0u8; FACILITY_SLOTS];
    let b = selector.as_bytes();
    let stop = |c: u8| c == b'\t' || c == b' ';
    let mut p = 0;
    while p < b.len() && !stop(b[p]) {
        // find the end of this facility list: just after the '.'
        let mut q = p;
        while q < b.len() && b[q] != b'\t' {
            q += 1;
            if b[q - 1] == b'.' {
                break;
            }
        }
        let pri_start = q;
        while q < b.len() && !b"\t ,;".contains(&b[q]) {
            q += 1;
        }
        let pri_text = &selector[pri_start..q];
        while q < b.len() && (b[q] == b',' || b[q] == b';') {
            q += 1;
        }
        let (negate, rest) = match pri_text.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, pri_text),
        };
        let (single, name) = match rest.strip_prefix('=') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let pri = pri_code(name).ok_or_else(|| format!("unknown priority name \"{rest}\""))?;
        while p < b.len() && !b"\t .;".contains(&b[p]) {
            let f_start = p;
            while p < b.len() && !b"\t ,;.".contains(&b[p]) {
                p += 1;
            }
            let fac = &selector[f_start..p];
            if fac.starts_with('*') {
                for slot in mask.iter_mut() {
                    apply(slot, pri, negate, single);
                }
            } else {
                let f =
                    facility_code(fac).ok_or_else(|| format!("unknown facility name \"{fac}\""))?;
                apply(&mut mask[f], pri, negate, single);
            }
            while p < b.len() && (b[p] == b',' || b[p] == b' ') {
                p += 1;
            }
        }
        p = q;
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_syslog_selector() {
        let m = decode("*.*;auth,authpriv.none").unwrap();
        assert_eq!(m[0], 0xff);
        assert_eq!(m[4], 0);
        assert_eq!(m[10], 0);
        assert_eq!(m[24], 0xff);
    }

    #[test]
    fn forms() {
        let m = decode("mail.info").unwrap();
        assert_eq!(m[2], 0b0111_1111);
        let m = decode("mail.=info").unwrap();
        assert_eq!(m[2], 1 << 6);
        let m = decode("mail.*;mail.!err").unwrap();
        assert_eq!(m[2], 0b1111_0000);
        let m = decode("*.*;mail.!=info").unwrap();
        assert_eq!(m[2], 0b1011_1111);
        let m = decode("16.3").unwrap();
        assert_eq!(m[2], 0b0000_1111);
        assert!(decode("foo.info").unwrap_err().contains("facility"));
        assert!(decode("mail.bar").unwrap_err().contains("priority"));
        assert_eq!(decode("local7.warn").unwrap()[23], 0b1_1111);
        let m = decode("mail.info,news.crit").unwrap();
        assert_eq!((m[2], m[7]), (0b0111_1111, 0b0111));
    }
}
