//! A main-queue message as a disk record: the message's bytes (the part of the batch arena
//! its fields point into) with every field the rules and templates read — spans, facility,
//! severity, protocol version, both timestamps, the reception time, the input (and with it
//! `inputname` and the ruleset binding), `parsesuccess`, the RFC 3164 timestamp style
//! already chosen, the peer (`fromhost`, `fromhost-ip`, `fromhost-port`) and the `$!` and
//! `$.` variables. Decoding appends the message to a batch, so a message read back from disk
//! is the same message, not a re-parse.
//!
//! Layout (little endian): version 1, flags, facility, severity, protocol version, input
//! (u16), reception time (i64), two timestamps (15 bytes each), `after_pri` and eight spans
//! (u32 pairs relative to the stored bytes; `u32::MAX` marks `Span::EMPTY`), three peer
//! strings (u16 length + bytes), the `$!` and `$.` JSON texts when present (u32 length +
//! bytes) and the message bytes (u32 length + bytes).

use crate::message::{Batch, Message, Peer, Span, SyslogTime};

const VERSION: u8 = 1;
const F_PARSED: u8 = 1;
const F_JSON: u8 = 2;
const F_LOCAL: u8 = 4;
const EMPTY: u32 = u32::MAX;

fn spans(m: &Message) -> [Span; 8] {
    [
        m.raw,
        m.hostname,
        m.tag,
        m.msg,
        m.app_name,
        m.procid,
        m.msgid,
        m.structured_data,
    ]
}

fn put_time(out: &mut Vec<u8>, t: &SyslogTime) {
    out.push(t.time_type);
    out.extend_from_slice(&t.year.to_le_bytes());
    out.extend_from_slice(&[t.month, t.day, t.hour, t.minute, t.second]);
    out.extend_from_slice(&t.secfrac.to_le_bytes());
    out.extend_from_slice(&[
        t.secfrac_precision,
        t.offset_mode,
        t.offset_hour,
        t.offset_minute,
    ]);
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let s = &s[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s);
}

fn put_blob(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s);
}

/// Appends message `i` of `b` as one record to `out`.
pub fn encode(b: &Batch, i: usize, out: &mut Vec<u8>) {
    let m = &b.msgs[i];
    let sp = spans(m);
    // the stored bytes: from the lowest to the highest offset any field uses
    let (mut lo, mut hi) = (m.raw.start.min(m.after_pri), m.raw.end.max(m.after_pri));
    for s in sp.iter().filter(|s| **s != Span::EMPTY) {
        lo = lo.min(s.start);
        hi = hi.max(s.end.max(s.start));
    }
    let hi = (hi as usize).min(b.data.len());
    let lo = (lo as usize).min(hi);
    let local = b.locals.get(i).and_then(Option::as_ref);
    let mut flags = 0;
    if m.parsed {
        flags |= F_PARSED;
    }
    if m.json.is_some() {
        flags |= F_JSON;
    }
    if local.is_some() {
        flags |= F_LOCAL;
    }
    out.extend_from_slice(&[
        VERSION,
        flags,
        m.facility,
        m.severity,
        m.protocol_version,
        m.ts3164_style.get(),
    ]);
    out.extend_from_slice(&m.input.to_le_bytes());
    out.extend_from_slice(&m.time_generated_unix.to_le_bytes());
    put_time(out, &m.time_reported);
    put_time(out, &m.time_generated);
    let rel = |v: u32| (v as usize).saturating_sub(lo) as u32;
    out.extend_from_slice(&rel(m.after_pri).to_le_bytes());
    for s in sp {
        let (a, z) = if s == Span::EMPTY {
            (EMPTY, EMPTY)
        } else {
            (rel(s.start), rel(s.end))
        };
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&z.to_le_bytes());
    }
    let peer = b.peers.get(m.peer as usize);
    put_str(out, peer.map_or(b"", |p| p.host.as_bytes()));
    put_str(out, peer.map_or(b"", |p| p.ip.as_bytes()));
    put_str(out, peer.map_or(b"", |p| p.port.as_bytes()));
    let mut j = Vec::new();
    for v in [m.json.as_deref(), local].into_iter().flatten() {
        j.clear();
        v.write(false, &mut j);
        put_blob(out, &j);
    }
    put_blob(out, &b.data[lo..hi]);
}

struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_le_bytes(a))
    }
    fn time(&mut self) -> Option<SyslogTime> {
        let time_type = self.u8()?;
        let year = self.u16()? as i16;
        let f = self.take(5)?;
        let secfrac = self.u32()?;
        let g = self.take(4)?;
        Some(SyslogTime {
            time_type,
            year,
            month: f[0],
            day: f[1],
            hour: f[2],
            minute: f[3],
            second: f[4],
            secfrac,
            secfrac_precision: g[0],
            offset_mode: g[1],
            offset_hour: g[2],
            offset_minute: g[3],
        })
    }
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn blob(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Appends the message of record `rec` to `b` (its `locals` filled only when some message
/// carries `$.` variables); `Err` names what is wrong with a record that is not one of ours.
pub fn decode(rec: &[u8], b: &mut Batch) -> Result<(), &'static str> {
    let mut r = Rd(rec);
    let bad = "truncated message record";
    if r.u8().ok_or(bad)? != VERSION {
        return Err("unknown message record version");
    }
    let h = r.take(5).ok_or(bad)?;
    let (flags, facility, severity, protocol_version, ts_style) = (h[0], h[1], h[2], h[3], h[4]);
    let input = r.u16().ok_or(bad)?;
    let time_generated_unix = r.i64().ok_or(bad)?;
    let time_reported = r.time().ok_or(bad)?;
    let time_generated = r.time().ok_or(bad)?;
    let after_pri = r.u32().ok_or(bad)?;
    let mut sp = [Span::EMPTY; 8];
    for s in sp.iter_mut() {
        let (a, z) = (r.u32().ok_or(bad)?, r.u32().ok_or(bad)?);
        if a != EMPTY {
            *s = Span { start: a, end: z };
        }
    }
    let host = r.str().ok_or(bad)?;
    let ip = r.str().ok_or(bad)?;
    let port = r.str().ok_or(bad)?;
    let json = if flags & F_JSON != 0 {
        Some(r.blob().ok_or(bad)?)
    } else {
        None
    };
    let local = if flags & F_LOCAL != 0 {
        Some(r.blob().ok_or(bad)?)
    } else {
        None
    };
    let data = r.blob().ok_or(bad)?;
    // a leading byte keeps a zero-length field at offset 0 distinct from `Span::EMPTY`
    if b.data.is_empty() {
        b.data.push(0);
    }
    let base = b.data.len() as u32;
    let n = data.len() as u32;
    let shift = |v: u32| base + v.min(n);
    for s in sp.iter_mut().filter(|s| **s != Span::EMPTY) {
        *s = Span {
            start: shift(s.start),
            end: shift(s.end),
        };
    }
    b.data.extend_from_slice(data);
    let same_peer = b.peers.last().is_some_and(|p| {
        p.host.as_bytes() == host && p.ip.as_bytes() == ip && p.port.as_bytes() == port
    });
    if !same_peer {
        let s = |v: &[u8]| -> std::sync::Arc<str> { String::from_utf8_lossy(v).into() };
        b.peers.push(Peer {
            host: s(host),
            ip: s(ip),
            port: s(port),
        });
    }
    let peer = (b.peers.len() - 1) as u32;
    let m = Message {
        raw: sp[0],
        after_pri: shift(after_pri),
        facility,
        severity,
        protocol_version,
        hostname: sp[1],
        tag: sp[2],
        msg: sp[3],
        app_name: sp[4],
        procid: sp[5],
        msgid: sp[6],
        structured_data: sp[7],
        time_reported,
        time_generated,
        time_generated_unix,
        peer,
        input,
        parsed: flags & F_PARSED != 0,
        ts3164_style: std::cell::Cell::new(ts_style),
        json: json.and_then(crate::json::parse).map(Box::new),
    };
    if local.is_some() || !b.locals.is_empty() {
        b.locals.resize_with(b.msgs.len(), || None);
        b.locals.push(local.and_then(crate::json::parse));
    }
    b.msgs.push(m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_round_trip() {
        let mut b = Batch::default();
        b.data
            .extend_from_slice(b"xx<13>Jan  1 00:00:00 host tag: hello");
        b.peers.push(Peer::default());
        b.peers.push(Peer {
            host: "h".into(),
            ip: "127.0.0.1".into(),
            port: "514".into(),
        });
        let m = Message {
            raw: Span::new(2..37),
            after_pri: 6,
            facility: 1,
            severity: 5,
            hostname: Span::new(22..26),
            tag: Span::new(27..31),
            msg: Span::new(32..37),
            app_name: Span::new(10..10),
            peer: 1,
            input: 3,
            parsed: true,
            time_generated_unix: 42,
            time_reported: SyslogTime {
                time_type: 1,
                year: 2026,
                ..Default::default()
            },
            json: crate::json::parse(b"{\"a\":1}").map(Box::new),
            ..Default::default()
        };
        m.ts3164_style.set(2);
        b.msgs.push(m);
        let mut rec = Vec::new();
        encode(&b, 0, &mut rec);
        let mut out = Batch::default();
        decode(&rec, &mut out).unwrap();
        let (x, y) = (b.get(0), out.get(0));
        assert_eq!(x.raw(), y.raw());
        assert_eq!(x.raw_after_pri(), y.raw_after_pri());
        assert_eq!(x.hostname(), y.hostname());
        assert_eq!((x.tag(), x.msg()), (y.tag(), y.msg()));
        // a zero-length field stays a zero-length field, not "unset"
        assert!(y.m.app_name.is_empty() && y.m.app_name != Span::EMPTY);
        assert_eq!(y.m.procid, Span::EMPTY);
        assert_eq!(x.peer, y.peer);
        assert_eq!(
            (y.m.input, y.m.parsed, y.m.ts3164_style.get()),
            (3, true, 2)
        );
        assert_eq!(x.m.time_reported, y.m.time_reported);
        assert_eq!(x.m.json, y.m.json);
        assert!(out.locals.is_empty());
        assert!(decode(&rec[..rec.len() - 1], &mut out).is_err());
    }
}
