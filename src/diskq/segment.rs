//! The on-disk format of one disk-queue segment file `<name>.NNNNNNNN` (ours, versioned):
//! a 16-byte header — magic `OXSQ`, format version (u16 LE), reserved (u16), the sequence id
//! of the segment's first record (u64 LE) — followed by records, each a 16-byte header —
//! payload length (u32 LE), sequence id (u64 LE), CRC32 of the sequence id's bytes and the
//! payload (u32 LE) — and the payload. Sequence ids rise by one from record to record and
//! across segments, so a missing segment shows as a gap.

use std::io::Read;

pub const MAGIC: &[u8; 4] = b"OXSQ";
pub const VERSION: u16 = 1;
pub const HEADER_LEN: u64 = 16;
pub const REC_HEADER_LEN: usize = 16;
/// The largest payload a record may claim (a longer length is damage).
pub const MAX_RECORD: u32 = 64 << 20;

/// The segment header for a segment whose first record has `first_seq`.
pub fn header(first_seq: u64) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..4].copy_from_slice(MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h[8..16].copy_from_slice(&first_seq.to_le_bytes());
    h
}

/// Parses a segment header: the first record's sequence id, or why it is not ours.
pub fn parse_header(h: &[u8]) -> Result<u64, String> {
    if h.len() < HEADER_LEN as usize {
        return Err("truncated header".into());
    }
    if &h[..4] != MAGIC {
        return Err("bad magic (not an oxsyslog queue segment)".into());
    }
    let v = u16::from_le_bytes([h[4], h[5]]);
    if v != VERSION {
        return Err(format!("unknown format version {v}"));
    }
    Ok(u64::from_le_bytes(h[8..16].try_into().unwrap_or([0; 8])))
}

fn crc(seq: u64, payload: &[u8]) -> u32 {
    let mut c = crc32fast::Hasher::new();
    c.update(&seq.to_le_bytes());
    c.update(payload);
    c.finalize()
}

/// Appends one encoded record to `out`.
pub fn encode(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&crc(seq, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The encoded size of a record with `len` bytes of payload.
pub fn encoded_len(len: usize) -> u64 {
    (REC_HEADER_LEN + len) as u64
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The file ends inside a record.
    Truncated,
    /// The length field is impossible.
    BadLength(u32),
    /// The checksum does not match (the record's sequence id as written).
    BadChecksum(u64),
    /// The sequence id is not the expected one.
    BadSequence { expected: u64, found: u64 },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Truncated => f.write_str("truncated record"),
            Damage::BadLength(n) => write!(f, "impossible record length {n}"),
            Damage::BadChecksum(s) => write!(f, "checksum mismatch in record {s}"),
            Damage::BadSequence { expected, found } => {
                write!(f, "sequence id {found} where {expected} was expected")
            }
        }
    }
}

/// Reads one record from `r` into `payload` (cleared first): its encoded length and sequence
/// id, `Ok(None)` at a clean end of the file; `limit` is how many bytes may still be read
/// (the segment's valid end), `expected_seq` the id it must have (None: any).
pub fn read_record(
    r: &mut impl Read,
    limit: u64,
    expected_seq: Option<u64>,
    payload: &mut Vec<u8>,
) -> Result<Option<(u64, u64)>, Damage> {
    if limit == 0 {
        return Ok(None);
    }
    let mut h = [0u8; REC_HEADER_LEN];
    let got = read_full(r, &mut h);
    if got == 0 {
        return Ok(None);
    }
    if got < REC_HEADER_LEN || limit < REC_HEADER_LEN as u64 {
        return Err(Damage::Truncated);
    }
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let seq = u64::from_le_bytes(h[4..12].try_into().unwrap_or([0; 8]));
    let sum = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    if len > MAX_RECORD {
        return Err(Damage::BadLength(len));
    }
    if encoded_len(len as usize) > limit {
        return Err(Damage::Truncated);
    }
    payload.clear();
    payload.resize(len as usize, 0);
    if read_full(r, payload) < len as usize {
        return Err(Damage::Truncated);
    }
    if crc(seq, payload) != sum {
        return Err(Damage::BadChecksum(seq));
    }
    match expected_seq {
        Some(expected) if seq != expected => Err(Damage::BadSequence {
            expected,
            found: seq,
        }),
        _ => Ok(Some((encoded_len(len as usize), seq))),
    }
}

/// Reads until `buf` is full or the end of the file; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    n
}

/// The file name of segment `n` of queue `name`.
pub fn file_name(name: &str, n: u32) -> String {
    format!("{name}.{n:08}")
}

/// Whether the file at `path` starts with our magic (for telling our segments from
/// rsyslog's, which use the same `<name>.NNNNNNNN` names).
pub fn is_ours(path: &std::path::Path) -> bool {
    let mut m = [0u8; 4];
    std::fs::File::open(path)
        .map(|mut f| read_full(&mut f, &mut m) == 4 && &m == MAGIC)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_damage() {
        let mut b = Vec::new();
        encode(&mut b, 7, b"hello");
        encode(&mut b, 8, b"");
        let mut p = Vec::new();
        let mut r = &b[..];
        assert_eq!(
            read_record(&mut r, 1000, Some(7), &mut p),
            Ok(Some((21, 7)))
        );
        assert_eq!(p, b"hello");
        assert_eq!(read_record(&mut r, 1000, None, &mut p), Ok(Some((16, 8))));
        assert_eq!(read_record(&mut r, 1000, Some(9), &mut p), Ok(None));
        // a flipped bit in the payload
        let mut f = b.clone();
        f[18] ^= 0x04;
        assert_eq!(
            read_record(&mut &f[..], 1000, Some(7), &mut p),
            Err(Damage::BadChecksum(7))
        );
        // cut inside the payload, inside the header
        assert_eq!(
            read_record(&mut &b[..19], 1000, Some(7), &mut p),
            Err(Damage::Truncated)
        );
        assert_eq!(
            read_record(&mut &b[..5], 1000, Some(7), &mut p),
            Err(Damage::Truncated)
        );
        // the wrong sequence id
        assert_eq!(
            read_record(&mut &b[..], 1000, Some(6), &mut p),
            Err(Damage::BadSequence {
                expected: 6,
                found: 7
            })
        );
        // an impossible length
        let mut l = b.clone();
        l[3] = 0xff;
        assert!(matches!(
            read_record(&mut &l[..], u64::MAX, Some(7), &mut p),
            Err(Damage::BadLength(_))
        ));
    }

    #[test]
    fn header_round_trip() {
        assert_eq!(parse_header(&header(42)), Ok(42));
        let mut h = header(1);
        h[4] = 9;
        assert!(parse_header(&h).unwrap_err().contains("version 9"));
        h[0] = b'X';
        assert!(parse_header(&h).unwrap_err().contains("magic"));
        assert!(parse_header(&h[..3]).is_err());
    }
}
