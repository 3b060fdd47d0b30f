//! The per-node chain of the writer: the next sequence number and the hash of the last
//! record (the chain head), found at start by reading the node's last record in the existing
//! audit file, and the sealing of new records (sequence number, link, signature).

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::keys::Signer;
use super::record::{genesis, quick_node, to_hex, Record};

/// Where a node's chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub next_seq: u64,
    pub hash: [u8; 32],
}

impl Head {
    pub fn genesis(node: &str) -> Head {
        Head {
            next_seq: 0,
            hash: genesis(node),
        }
    }
}

/// What the start-up scan of an existing audit file found.
#[derive(Debug, Clone)]
pub struct Found {
    pub head: Head,
    /// The file does not end with a newline (a torn last write): the writer starts a new line.
    pub torn_tail: bool,
    /// Lines of this node that could not be parsed (reported, then skipped).
    pub bad_lines: u64,
}

/// Reads `path` (if it exists) and returns the head of `node`'s chain: the last well-formed
/// record of that node in the file. The file is read once, line by line.
pub fn scan(path: &Path, node: &str) -> std::io::Result<Found> {
    let mut found = Found {
        head: Head::genesis(node),
        torn_tail: false,
        bad_lines: 0,
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    let want = serde_json::to_string(node).unwrap_or_default();
    let want = &want.as_bytes()[1..want.len() - 1];
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        found.torn_tail = !complete;
        let body = if complete {
            &line[..line.len() - 1]
        } else {
            &line[..]
        };
        if quick_node(body) != Some(want) {
            continue;
        }
        match Record::from_line(body) {
            Ok(rec) if rec.node_id == node => {
                found.head = Head {
                    next_seq: rec.sequence_number + 1,
                    hash: rec.hash(),
                };
            }
            _ => found.bad_lines += 1,
        }
    }
    Ok(found)
}

/// The writer's chain of one node.
pub struct Chain {
    pub node: String,
    pub head: Head,
    signer: Signer,
    /// Why the last record that should have been signed was not (a failing token); such
    /// records stay chained and are sealed by the next signed record.
    pub sign_error: Option<String>,
}

impl Chain {
    pub fn new(node: String, head: Head, signer: Signer) -> Chain {
        Chain {
            node,
            head,
            signer,
            sign_error: None,
        }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Replaces the key (key rollover); returns the old one.
    pub fn set_signer(&mut self, signer: Signer) -> Signer {
        std::mem::replace(&mut self.signer, signer)
    }

    /// Gives `rec` the node, the next sequence number and the link to the head; signs it
    /// when `sign`; advances the head. Returns the line (with its newline).
    pub fn seal(&mut self, rec: &mut Record, sign: bool) -> String {
        rec.node_id.clone_from(&self.node);
        rec.sequence_number = self.head.next_seq;
        rec.prev = self.head.hash;
        let canonical = rec.canonical();
        rec.row_protection = if sign {
            match self.signer.try_protect(&canonical) {
                Ok(p) => {
                    self.sign_error = None;
                    p
                }
                Err(e) => {
                    self.sign_error = Some(e);
                    "-".into()
                }
            }
        } else {
            "-".into()
        };
        use sha2::Digest;
        self.head = Head {
            next_seq: rec.sequence_number + 1,
            hash: sha2::Sha256::digest(&canonical).into(),
        };
        let mut line = rec.to_line();
        line.push('\n');
        line
    }

    /// A description of the head for start and checkpoint records.
    pub fn head_json(h: &Head) -> String {
        format!(
            "{{\"previousSequenceNumber\":{},\"previousHash\":\"{}\"}}",
            h.next_seq as i128 - 1,
            to_hex(&h.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::keys::{Alg, Signer};
    use crate::audit::record::Kind;

    #[test]
    fn scan_finds_the_node_head_and_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        assert_eq!(scan(&p, "a").unwrap().head, Head::genesis("a"));
        let mut a = Chain::new(
            "a".into(),
            Head::genesis("a"),
            Signer::generate(Alg::Ed25519).unwrap(),
        );
        let mut b = Chain::new(
            "b".into(),
            Head::genesis("b"),
            Signer::generate(Alg::Ed25519).unwrap(),
        );
        let mut text = String::new();
        for _ in 0..3 {
            text += &a.seal(&mut Record::new(Kind::Event, 1), true);
            text += &b.seal(&mut Record::new(Kind::Event, 1), false);
        }
        std::fs::write(&p, &text).unwrap();
        let f = scan(&p, "a").unwrap();
        assert_eq!(f.head, a.head);
        assert!(!f.torn_tail);
        assert_eq!(scan(&p, "b").unwrap().head, b.head);
        // a crash in the middle of a write: the torn line is skipped, the head stays
        let torn = a.clone_line_for_test();
        std::fs::write(&p, text + &torn[..torn.len() / 2]).unwrap();
        let f = scan(&p, "a").unwrap();
        assert!(f.torn_tail);
        assert_eq!(f.head.next_seq, 3);
        assert_eq!(f.bad_lines, 1);
    }

    impl Chain {
        fn clone_line_for_test(&mut self) -> String {
            self.seal(&mut Record::new(Kind::Event, 2), true)
        }
    }
}
