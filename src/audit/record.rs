//! One audit record: its fields (SignServer's `AuditRecordData` plus our chain fields), its
//! canonical byte encoding (what is hashed and signed) and its line in the audit file.
//!
//! **File format.** One record per line, a JSON object with exactly these keys in this order
//! and no whitespace (the verifier refuses any other spelling of the same values, so a line
//! has exactly one accepted form):
//!
//! ```text
//! {"v":1,"kind":"event","nodeId":"web1","sequenceNumber":7,"timeStamp":1700000000123,
//!  "eventStatus":"SUCCESS","eventType":"LOGIN","module":"sshd","service":"auth",
//!  "authToken":"web1","searchDetail1":"4242","customId":"","searchDetail2":"",
//!  "additionalDetails":"<38>1 2023-…","prev":"<64 hex>","rowProtection":"1:ed25519:<keyid>:<b64>"}
//! ```
//!
//! - `kind`: `event` (a message), `start` (written at every daemon start; links to the
//!   previous chain head of the node), `checkpoint` (periodic in batched mode, and at clean
//!   shutdown), `gap` (declares sequence numbers lost by a failed write; `additionalDetails`
//!   names the range and the cause).
//! - `sequenceNumber`: per node, from 0, +1 per record of that node, across restarts.
//! - `timeStamp`: milliseconds since the epoch when the record was made (as SignServer).
//! - `prev`: lowercase hex SHA-256 of the canonical encoding of the previous record of the
//!   same node; the first record of a node links to `SHA-256("oxaudit-genesis:" ‖ nodeId)`.
//! - `rowProtection`: `1:ALG:KEYID:SIG` (ALG `ed25519` or `ecdsa-p256`, KEYID the first 8
//!   bytes of SHA-256 of the public key's SubjectPublicKeyInfo DER in hex, SIG standard base64
//!   of the signature over the canonical encoding: Ed25519, or ECDSA P-256 with SHA-256 as
//!   raw `r‖s`), or `-` for a record of batched mode that a later signed record covers
//!   through the chain.
//!
//! **Canonical encoding** (hashed and signed): the ASCII bytes `OXA1`, then each of
//! kind, nodeId, sequenceNumber, timeStamp, eventStatus, eventType, module, service,
//! authToken, searchDetail1, customId, searchDetail2, additionalDetails, prev as a 4-byte
//! big-endian length followed by the value: strings as their UTF-8 bytes, the two numbers as
//! 8-byte big-endian integers, `prev` as its 32 raw bytes. The record's hash is SHA-256 of
//! this encoding. `rowProtection` is not part of it.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Event,
    Start,
    Checkpoint,
    Gap,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Start => "start",
            Kind::Checkpoint => "checkpoint",
            Kind::Gap => "gap",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "event" => Kind::Event,
            "start" => Kind::Start,
            "checkpoint" => Kind::Checkpoint,
            "gap" => Kind::Gap,
            _ => return None,
        })
    }
}

/// The audit fields of SignServer's `AuditRecordData`, in canonical order.
pub const AUDIT_FIELDS: [&str; 9] = [
    "eventStatus",
    "eventType",
    "module",
    "service",
    "authToken",
    "searchDetail1",
    "customId",
    "searchDetail2",
    "additionalDetails",
];

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    pub node_id: String,
    pub sequence_number: u64,
    pub time_stamp: i64,
    /// The values of [`AUDIT_FIELDS`], in that order.
    pub fields: [String; 9],
    pub prev: [u8; 32],
    pub row_protection: String,
}

/// The hash a node's first record links to.
pub fn genesis(node: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"oxaudit-genesis:");
    h.update(node.as_bytes());
    h.finalize().into()
}

pub fn to_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(b"0123456789abcdef"[(x >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(x & 15) as usize]));
    }
    s
}

/// Lowercase hex only (so that one spelling exists).
pub fn from_hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(b[2 * i])? << 4) | nib(b[2 * i + 1])?;
    }
    Some(out)
}

impl Record {
    /// A record of `kind` with empty fields (node, sequence and chain are set by the chain).
    pub fn new(kind: Kind, time_stamp: i64) -> Record {
        Record {
            kind,
            node_id: String::new(),
            sequence_number: 0,
            time_stamp,
            fields: Default::default(),
            prev: [0; 32],
            row_protection: "-".into(),
        }
    }

    pub fn field(&self, name: &str) -> &str {
        AUDIT_FIELDS
            .iter()
            .position(|f| *f == name)
            .map_or("", |i| self.fields[i].as_str())
    }

    pub fn set_field(&mut self, name: &str, value: String) {
        if let Some(i) = AUDIT_FIELDS.iter().position(|f| *f == name) {
            self.fields[i] = value;
        }
    }

    /// The canonical encoding (see the module documentation).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            128 + self.node_id.len() + self.fields.iter().map(String::len).sum::<usize>(),
        );
        out.extend_from_slice(b"OXA1");
        let mut put = |b: &[u8]| {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        };
        put(self.kind.name().as_bytes());
        put(self.node_id.as_bytes());
        put(&self.sequence_number.to_be_bytes());
        put(&self.time_stamp.to_be_bytes());
        for f in &self.fields {
            put(f.as_bytes());
        }
        put(&self.prev);
        out
    }

    /// SHA-256 of the canonical encoding.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical()).into()
    }

    /// The record's line, without the newline.
    pub fn to_line(&self) -> String {
        let mut out = Vec::with_capacity(
            320 + self.node_id.len() + self.fields.iter().map(String::len).sum::<usize>(),
        );
        self.write_line(&mut out);
        // serde_json writes valid UTF-8 from &str values
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the line (without the newline) to `out`: keys in fixed order, no whitespace,
    /// strings escaped as serde_json escapes them.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        let s = |v: &str, out: &mut Vec<u8>| {
            let _ = serde_json::to_writer(&mut *out, v);
        };
        out.extend_from_slice(b"{\"v\":1,\"kind\":\"");
        out.extend_from_slice(self.kind.name().as_bytes());
        out.extend_from_slice(b"\",\"nodeId\":");
        s(&self.node_id, out);
        out.extend_from_slice(b",\"sequenceNumber\":");
        out.extend_from_slice(self.sequence_number.to_string().as_bytes());
        out.extend_from_slice(b",\"timeStamp\":");
        out.extend_from_slice(self.time_stamp.to_string().as_bytes());
        for (k, v) in AUDIT_FIELDS.iter().zip(&self.fields) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
            s(v, out);
        }
        out.extend_from_slice(b",\"prev\":\"");
        out.extend_from_slice(to_hex(&self.prev).as_bytes());
        out.extend_from_slice(b"\",\"rowProtection\":");
        s(&self.row_protection, out);
        out.push(b'}');
    }

    /// Parses a line (without its newline). Only the exact form [`Record::to_line`] writes
    /// is accepted: keys, order, types and spelling.
    pub fn from_line(line: &[u8]) -> Result<Record, String> {
        let v: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON ({e})"))?;
        let Value::Object(m) = v else {
            return Err("not a JSON object".into());
        };
        let s = |k: &str| -> Result<String, String> {
            match m.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("field '{k}' is not a string")),
                None => Err(format!("field '{k}' missing")),
            }
        };
        if m.get("v") != Some(&Value::from(1)) {
            return Err("unknown format version (field 'v')".into());
        }
        let kind = Kind::parse(&s("kind")?).ok_or("unknown record kind")?;
        let seq = m
            .get("sequenceNumber")
            .and_then(Value::as_u64)
            .ok_or("field 'sequenceNumber' missing or not an unsigned integer")?;
        let ts = m
            .get("timeStamp")
            .and_then(Value::as_i64)
            .ok_or("field 'timeStamp' missing or not an integer")?;
        let mut fields: [String; 9] = Default::default();
        for (i, k) in AUDIT_FIELDS.iter().enumerate() {
            fields[i] = s(k)?;
        }
        let prev = from_hex32(&s("prev")?).ok_or("field 'prev' is not 64 lowercase hex digits")?;
        let r = Record {
            kind,
            node_id: s("nodeId")?,
            sequence_number: seq,
            time_stamp: ts,
            fields,
            prev,
            row_protection: s("rowProtection")?,
        };
        if r.to_line().as_bytes() != line {
            return Err(
                "not in canonical form (extra or reordered fields, or another spelling of a value)"
                    .into(),
            );
        }
        Ok(r)
    }
}

/// Splits `line` at its `"rowProtection":` member cheaply, for readers that only need the
/// node of a line (the start-up scan): the value of `"nodeId"`.
pub fn quick_node(line: &[u8]) -> Option<&[u8]> {
    let key = b"\"nodeId\":\"";
    let i = memchr::memmem::find(line, key)? + key.len();
    let rest = &line[i..];
    let mut j = 0;
    while j < rest.len() {
        match rest[j] {
            b'\\' => j += 2,
            b'"' => return Some(&rest[..j]),
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip_and_single_spelling() {
        let mut r = Record::new(Kind::Event, 1_700_000_000_123);
        r.node_id = "n\"1".into();
        r.sequence_number = 5;
        r.set_field("additionalDetails", "a\u{1f}b é \\".into());
        r.prev = genesis("n");
        let line = r.to_line();
        assert_eq!(Record::from_line(line.as_bytes()).unwrap(), r);
        // the same value spelled differently is refused
        let alt = line.replace("\\u001f", "\\u001F");
        assert_ne!(alt, line);
        assert!(Record::from_line(alt.as_bytes()).is_err());
        assert_eq!(quick_node(line.as_bytes()), Some(&b"n\\\"1"[..]));
        // the same bytes serde_json writes for the object
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v.to_string(), line);
    }

    #[test]
    fn canonical_covers_every_field() {
        let base = Record::new(Kind::Event, 1);
        let h = base.hash();
        for i in 0..9 {
            let mut r = base.clone();
            r.fields[i] = "x".into();
            assert_ne!(r.hash(), h);
        }
        let mut r = base.clone();
        r.kind = Kind::Gap;
        assert_ne!(r.hash(), h);
        // moving bytes between neighbouring fields changes the encoding
        let mut a = base.clone();
        a.fields[0] = "ab".into();
        let mut b = base.clone();
        b.fields[0] = "a".into();
        b.fields[1] = "b".into();
        assert_ne!(a.hash(), b.hash());
    }
}
