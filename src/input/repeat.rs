//! `$RepeatedMsgReduction on`: rsyslog 8.2302's "message repeated n times" reduction
//! (`runtime/ratelimit.c`, `doLastMessageRepeatedNTimes`), kept per input rate limiter as
//! rsyslog does: per imtcp listener (shared by its sessions), per imudp socket, per imuxsock
//! socket or per sending process (when imuxsock keeps per-PID limiters), per file open in
//! imfile (imfile.c act_obj_add; a file dropped after rotation or deletion gives its pending
//! summary then) and one for imklog (imklog.c activateCnf, flushed in afterRun).
//!
//! Semantics kept: a message equals the held one when MSG, HOSTNAME, PROCID and APP-NAME are
//! byte-equal (severity, facility, tag and timestamps are not compared). The first of a run
//! goes through at once; the following identical ones are swallowed, each replacing the held
//! copy (so the latest one's timestamps are used). Only when a *different* message arrives on
//! the same limiter (or the input stops) is the run reported, just before that message: a run
//! of two gives the second message unchanged, a longer run a copy of the last one whose MSG is
//! `" message repeated N times: [<first 800 bytes of MSG>]"` (rawmsg keeps its part before
//! MSG). rsyslog has no timer: a run's summary waits for the next different message or the
//! end. At the end (SIGTERM) the pending summary is emitted, as rsyslog's `ratelimitDestruct`
//! does. Nothing but that summary is ever held back.

use crate::message::{Batch, Message, MsgRef, Peer, Span};
use crate::template::props;

/// Flag in `Message::input` of a "message repeated n times" summary: rsyslog's `MsgDup` does
/// not copy the ruleset, so such a summary goes to the default ruleset whatever the input is
/// bound to (while `inputname` stays the input's). A run of two gives the original message,
/// which keeps its ruleset.
pub const DEFAULT_RULESET: u16 = 0x8000;

/// Whether `$RepeatedMsgReduction on` is in force (a global: the last setting wins).
pub fn enabled(cfg: &crate::config::model::Config) -> bool {
    cfg.legacy_only
        .iter()
        .rev()
        .find(|l| l.directive.eq_ignore_ascii_case("RepeatedMsgReduction"))
        .is_some_and(|l| l.value == "on")
}

/// A copy of the last message of a run, spans relative to `data` (which starts with one pad
/// byte so that no real span collides with `Span::EMPTY`).
#[derive(Debug, Clone)]
struct Held {
    data: Vec<u8>,
    m: Message,
    peer: Peer,
    nsupp: u32,
}

impl Held {
    fn get(&self) -> MsgRef<'_> {
        MsgRef {
            m: &self.m,
            data: &self.data,
            peer: Some(&self.peer),
            vars: None,
        }
    }
}

fn shift(s: Span, from: usize, to: usize) -> Span {
    if s == Span::EMPTY || (s.start as usize) < from {
        return Span::EMPTY;
    }
    Span::new(s.start as usize - from + to..s.end as usize - from + to)
}

fn shift_all(m: &mut Message, from: usize, to: usize) {
    for s in [
        &mut m.raw,
        &mut m.hostname,
        &mut m.tag,
        &mut m.msg,
        &mut m.app_name,
        &mut m.procid,
        &mut m.msgid,
        &mut m.structured_data,
    ] {
        *s = shift(*s, from, to);
    }
    m.after_pri = (m.after_pri as usize).saturating_sub(from) as u32 + to as u32;
}

/// One limiter's repeated-message state.
#[derive(Debug, Default, Clone)]
pub struct Repeat {
    held: Option<Held>,
}

impl Repeat {
    /// Applies the reduction to the message just pushed, the batch's last one, whose bytes
    /// start at `mark` in the arena: swallows it when it repeats the held one, else puts the
    /// pending summary (if any) just before it and holds it.
    pub fn check_last(&mut self, batch: &mut Batch, mark: usize, permit_slash: bool) {
        let Some(i) = batch.len().checked_sub(1) else {
            return;
        };
        let same = match &self.held {
            Some(h) => {
                let a = h.get();
                let b = batch.get(i);
                a.msg() == b.msg()
                    && a.hostname() == b.hostname()
                    && props::procid(a) == props::procid(b)
                    && props::app_name(a, permit_slash) == props::app_name(b, permit_slash)
            }
            None => false,
        };
        let (nsupp, mut data) = match self.held.take() {
            Some(h) if same => (h.nsupp + 1, h.data),
            Some(h) => {
                if h.nsupp > 0 {
                    let rep = summary(batch, &h);
                    batch.msgs.insert(i, rep);
                }
                (0, h.data)
            }
            None => (0, Vec::new()),
        };
        // hold a copy of the new message (still the batch's last one), reusing the buffer
        let mut m = batch.msgs[batch.msgs.len() - 1].clone();
        let peer = batch
            .peers
            .get(m.peer as usize)
            .cloned()
            .unwrap_or_default();
        data.clear();
        data.push(0);
        data.extend_from_slice(&batch.data[mark..]);
        shift_all(&mut m, mark, 1);
        m.ts3164_style = std::cell::Cell::new(0);
        self.held = Some(Held {
            data,
            m,
            peer,
            nsupp,
        });
        if same {
            let last = batch.msgs.len() - 1;
            batch.msgs.remove(last);
            batch.data.truncate(mark);
        }
    }

    /// At the end: the pending summary, if any, into the batch.
    pub fn flush(&mut self, batch: &mut Batch) {
        if let Some(h) = self.held.take() {
            if h.nsupp > 0 {
                let rep = summary(batch, &h);
                batch.msgs.push(rep);
            }
        }
    }
}

/// rsyslog's `ratelimitGenRepMsg`: the held message itself after a run of two, else a copy
/// with MSG replaced. Its bytes are appended to the batch's arena.
fn summary(batch: &mut Batch, h: &Held) -> Message {
    if batch.data.is_empty() {
        batch.data.push(0);
    }
    let base = batch.data.len();
    batch.data.extend_from_slice(&h.data[1..]);
    let mut m = h.m.clone();
    shift_all(&mut m, 1, base);
    m.peer = crate::input::Ctx::peer_index(batch, &h.peer);
    if h.nsupp == 1 {
        return m;
    }
    let r = h.get();
    let orig = r.msg();
    let mut text = format!(" message repeated {} times: [", h.nsupp).into_bytes();
    text.extend_from_slice(&orig[..orig.len().min(800)]);
    text.push(b']');
    let raw = r.raw();
    let (ms, rs) = (h.m.msg.start as usize, h.m.raw.start as usize);
    let off = if h.m.msg != Span::EMPTY && ms >= rs && ms <= h.m.raw.end as usize {
        ms - rs
    } else {
        raw.len()
    };
    let after_pri = (h.m.after_pri as usize).saturating_sub(rs).min(off);
    let start = batch.data.len();
    batch.data.extend_from_slice(&raw[..off]);
    batch.data.extend_from_slice(&text);
    m.raw = Span::new(start..batch.data.len());
    m.msg = Span::new(start + off..batch.data.len());
    m.after_pri = (start + after_pri) as u32;
    m.input |= DEFAULT_RULESET;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{InputFlags, ParseOptions, Received};

    fn push(b: &mut Batch, r: &mut Repeat, raw: &str) {
        let opts = ParseOptions::default();
        let rx = Received {
            peer: 0,
            input: 1,
            time: crate::parse::now_local().0,
            unix: 0,
        };
        let mark = b.data.len();
        crate::parse::push_message(b, raw.as_bytes(), &rx, &InputFlags::default(), &opts);
        r.check_last(b, mark, false);
    }

    fn msgs(b: &Batch) -> Vec<String> {
        (0..b.len())
            .map(|i| String::from_utf8_lossy(b.get(i).msg()).into_owned())
            .collect()
    }

    #[test]
    fn runs() {
        let mut b = Batch::default();
        b.peers.push(Peer::default());
        let mut r = Repeat::default();
        for s in ["a", "a", "b", "a", "a", "a", "a", "c", "c"] {
            push(&mut b, &mut r, &format!("<13>Jan  1 00:00:00 h t[1]: {s}"));
        }
        push(&mut b, &mut r, "<13>Jan  1 00:00:00 h t[2]: c");
        r.flush(&mut b);
        assert_eq!(
            msgs(&b),
            [
                " a",
                " a",
                " b",
                " a",
                " message repeated 3 times: [ a]",
                " c",
                " c",
                " c"
            ]
        );
    }
}
