//! RELP, the Reliable Event Logging Protocol, as librelp speaks it: the frame codec
//! (`frame.rs`), transaction numbers and the session offers (this file), TLS settings
//! (`tls.rs`). Used by imrelp
//! (src/input/relp.rs) and omrelp (src/output/relp.rs).
//!
//! A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. The client opens a session with
//! `open` (offers `relp_version`, `relp_software`, `commands=syslog`), sends `syslog`
//! frames, each answered by `rsp` with `200 OK` (or `500 …`), and ends with `close`; a
//! server that goes away first sends the hint `0 serverclose 0`.

pub mod frame;
pub mod tls;

/// The largest transaction number (9 digits; librelp refuses a tenth digit).
pub const MAX_TXNR: u32 = 999_999_999;

/// The transaction number after `t`: 1 follows 999999999. (librelp's own macro goes on to
/// 1000000000 first, a number its frame parser refuses — after a billion frames in one
/// session; we wrap one step earlier, within what every peer parses.)
pub fn next_txnr(t: u32) -> u32 {
    if t >= MAX_TXNR {
        1
    } else {
        t + 1
    }
}

/// librelp's default maximum data size of a frame a client accepts (128 KiB).
pub const CLIENT_MAX_DATA: usize = 128 * 1024;

/// librelp's default window: unacknowledged frames a client keeps in flight.
pub const DEFAULT_WINDOW: usize = 128;

/// Our `relp_software` offer value.
pub fn software() -> String {
    format!(
        "oxsyslog,{},https://github.com/oxsyslog",
        env!("CARGO_PKG_VERSION")
    )
}

/// The offers of a client's `open` frame.
pub fn client_offers() -> String {
    format!(
        "relp_version=0\nrelp_software={}\ncommands=syslog",
        software()
    )
}

/// The offers a client sent in its `open` frame, as librelp's server reads them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Offers {
    /// `relp_version`'s value, when it is a number.
    pub version: Option<i64>,
    /// Whether `relp_version` was offered at all.
    pub has_version: bool,
    /// Whether `commands` names `syslog`.
    pub syslog: bool,
}

/// Parses offers: `name[=value[,value…]]` lines.
pub fn parse_offers(data: &[u8]) -> Offers {
    let mut o = Offers::default();
    for line in data.split(|b| *b == b'\n') {
        let (name, value) = match line.iter().position(|b| *b == b'=') {
            Some(i) => (&line[..i], Some(&line[i + 1..])),
            None => (line, None),
        };
        match name {
            b"relp_version" => {
                o.has_version = true;
                o.version = value
                    .and_then(|v| std::str::from_utf8(v).ok())
                    .and_then(|v| v.split(',').next())
                    .and_then(|v| v.trim().parse().ok());
            }
            b"commands" => {
                o.syslog = value.is_some_and(|v| v.split(|b| *b == b',').any(|c| c == b"syslog"))
            }
            _ => {}
        }
    }
    o
}

/// The data of a server's answer to `open`: `200 OK` and its own offers.
pub fn server_open_reply() -> String {
    format!(
        "200 OK\nrelp_version=0\nrelp_software={}\ncommands=syslog",
        software()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txnr_wraps_to_one() {
        assert_eq!(next_txnr(1), 2);
        assert_eq!(next_txnr(MAX_TXNR - 1), MAX_TXNR);
        assert_eq!(next_txnr(MAX_TXNR), 1);
    }

    #[test]
    fn offers_of_librelp() {
        let o = parse_offers(
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog",
        );
        assert_eq!(
            o,
            Offers {
                version: Some(0),
                has_version: true,
                syslog: true
            }
        );
        assert!(!parse_offers(b"relp_version=0\ncommands=foo").syslog);
        assert_eq!(parse_offers(b"relp_version").version, None);
    }
}
