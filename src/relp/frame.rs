//! The RELP frame codec: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, parsed with librelp's
//! rules (txnr and datalen at most 9 digits, a command of at most 32 letters, no data part
//! and no space when DATALEN is 0, LF as the trailer), and written into a caller's buffer.

use std::io::Write;

/// A complete frame at the start of a buffer; ranges index that buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub txnr: u32,
    pub cmd: std::ops::Range<usize>,
    pub data: std::ops::Range<usize>,
    /// Bytes the whole frame takes, trailer included.
    pub len: usize,
}

/// What the start of a buffer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole frame yet: read more.
    Incomplete,
    Frame(Frame),
    /// The header of a frame whose DATALEN exceeds the maximum: `header` bytes up to and
    /// including the space before the data.
    Oversize {
        txnr: u32,
        cmd: std::ops::Range<usize>,
        datalen: usize,
        header: usize,
    },
    /// Not RELP: the reason.
    Invalid(&'static str),
}

/// Parses the frame at the start of `buf`; `max_data` is the largest DATALEN taken whole.
pub fn parse(buf: &[u8], max_data: usize) -> Parsed {
    let mut i = 0;
    // TXNR
    let mut txnr: u32 = 0;
    let mut digits = 0;
    loop {
        let Some(&c) = buf.get(i) else {
            return Parsed::Incomplete;
        };
        i += 1;
        if c.is_ascii_digit() {
            if digits == 9 {
                return Parsed::Invalid("transaction number longer than 9 digits");
            }
            digits += 1;
            txnr = txnr * 10 + u32::from(c - b'0');
        } else if c == b' ' && digits > 0 {
            break;
        } else {
            return Parsed::Invalid("transaction number expected");
        }
    }
    // COMMAND
    let cmd_start = i;
    loop {
        let Some(&c) = buf.get(i) else {
            return Parsed::Incomplete;
        };
        i += 1;
        if c.is_ascii_alphabetic() {
            if i - 1 - cmd_start == 32 {
                return Parsed::Invalid("command longer than 32 letters");
            }
        } else if c == b' ' {
            break;
        } else {
            return Parsed::Invalid("invalid character in command");
        }
    }
    let cmd = cmd_start..i - 1;
    // DATALEN
    let mut datalen: usize = 0;
    digits = 0;
    let after = loop {
        let Some(&c) = buf.get(i) else {
            return Parsed::Incomplete;
        };
        i += 1;
        if c.is_ascii_digit() {
            if digits == 9 {
                return Parsed::Invalid("data length longer than 9 digits");
            }
            digits += 1;
            datalen = datalen * 10 + usize::from(c - b'0');
        } else {
            break c;
        }
    };
    if datalen == 0 {
        return if after == b'\n' {
            Parsed::Frame(Frame {
                txnr,
                cmd,
                data: i..i,
                len: i,
            })
        } else {
            Parsed::Invalid("frame trailer (LF) expected")
        };
    }
    if after != b' ' {
        return Parsed::Invalid("space after data length expected");
    }
    if datalen > max_data {
        return Parsed::Oversize {
            txnr,
            cmd,
            datalen,
            header: i,
        };
    }
    let end = i + datalen;
    match buf.get(end) {
        None => Parsed::Incomplete,
        Some(b'\n') => Parsed::Frame(Frame {
            txnr,
            cmd,
            data: i..end,
            len: end + 1,
        }),
        Some(_) => Parsed::Invalid("frame trailer (LF) expected"),
    }
}

/// Appends a frame to `out`.
pub fn write(out: &mut Vec<u8>, txnr: u32, cmd: &str, data: &[u8]) {
    // writing into a Vec cannot fail
    let _ = write!(out, "{txnr} {cmd} {}", data.len());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(b: &[u8]) -> (u32, Vec<u8>, Vec<u8>, usize) {
        match parse(b, 100) {
            Parsed::Frame(f) => (f.txnr, b[f.cmd].to_vec(), b[f.data].to_vec(), f.len),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn frames_as_librelp_writes_them() {
        assert_eq!(frame(b"1 close 0\nX"), (1, b"close".to_vec(), vec![], 10));
        assert_eq!(
            frame(b"12 syslog 5 hello\n"),
            (12, b"syslog".to_vec(), b"hello".to_vec(), 18)
        );
        // no digits at all: a length of 0, as librelp reads it
        assert_eq!(frame(b"3 rsp \n").2, Vec::<u8>::new());
        let mut out = Vec::new();
        write(&mut out, 7, "rsp", b"200 OK");
        write(&mut out, 0, "serverclose", b"");
        assert_eq!(out, b"7 rsp 6 200 OK\n0 serverclose 0\n");
    }

    #[test]
    fn incomplete_invalid_and_oversize() {
        for p in [&b"1"[..], b"1 sys", b"1 syslog 5 hel", b"1 syslog 5 hello"] {
            assert_eq!(parse(p, 100), Parsed::Incomplete, "{p:?}");
        }
        for p in [
            &b"x 1"[..],
            b" 1 syslog",
            b"1234567890 syslog 1 a\n",
            b"1 sys1og 1 a\n",
            b"1 syslog 1 ab\n",
            b"1 close 0 \n",
            b"1 syslog 5\nhello\n",
        ] {
            assert!(matches!(parse(p, 100), Parsed::Invalid(_)), "{p:?}");
        }
        assert_eq!(
            parse(b"1 syslog 101 x", 100),
            Parsed::Oversize {
                txnr: 1,
                cmd: 2..8,
                datalen: 101,
                header: 13
            }
        );
    }
}
