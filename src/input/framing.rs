//! TCP framing as rsyslog's `tcps_sess.c` does it (RFC 6587): the framing is decided at the
//! start of each frame — a digit starts an octet-counted frame (`LEN SP MSG`), anything else an
//! LF-delimited one ("octet stuffing"). Oversize frames are split or truncated at the maximum
//! message size; an octet count is never trusted for allocation (the buffer never grows past
//! the maximum message size, whatever count a peer announces).

use memchr::memchr2;

/// Framing settings of one listener.
#[derive(Debug, Clone)]
pub struct FramingOptions {
    pub support_octet_counting: bool,
    /// `framingfix.cisco.asa`: ignore a SP at the start of a frame.
    pub sp_framing_fix: bool,
    pub disable_lf: bool,
    /// `AddtlFrameDelimiter`.
    pub addtl_delimiter: Option<u8>,
    /// Maximum message size: longer frames are split (or truncated, see below).
    pub max_msg: usize,
    /// `discardTruncatedMsg`: drop the rest of an oversize frame instead of splitting it.
    pub discard_truncated: bool,
    /// `maxFrameSize`: octet counts above it switch the frame to LF stuffing.
    pub max_frame: usize,
}

impl Default for FramingOptions {
    fn default() -> Self {
        FramingOptions {
            support_octet_counting: true,
            sp_framing_fix: false,
            disable_lf: false,
            addtl_delimiter: None,
            max_msg: 8096,
            discard_truncated: false,
            max_frame: 200_000,
        }
    }
}

/// Something worth telling the operator about, as rsyslog logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingEvent {
    DelimiterNotSp(u8),
    InvalidOctetCount(u64),
    Oversize { announced: u64, max: usize },
    FrameTooLarge(u64),
    IncompleteFrameAtClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AtFrameStart,
    InOctetCount,
    InMsg,
    Truncating,
}

/// Per-connection decoder state.
#[derive(Debug)]
pub struct Decoder {
    opts: FramingOptions,
    state: State,
    octet_counting: bool,
    remain: u64,
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new(opts: FramingOptions) -> Decoder {
        let cap = opts.max_msg.min(64 * 1024);
        Decoder {
            opts,
            state: State::AtFrameStart,
            octet_counting: false,
            remain: 0,
            buf: Vec::with_capacity(cap),
        }
    }

    /// Bytes held for the message being decoded (never more than the maximum message size).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn submit(&mut self, out: &mut impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            out(&self.buf);
            self.buf.clear();
        }
    }

    /// Feeds received bytes; calls `out` for each complete message and `event` for problems.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        out: &mut impl FnMut(&[u8]),
        event: &mut impl FnMut(FramingEvent),
    ) {
        while !data.is_empty() {
            let c = data[0];
            match self.state {
                State::AtFrameStart => {
                    if c.is_ascii_digit() && self.opts.support_octet_counting {
                        self.state = State::InOctetCount;
                        self.remain = 0;
                        self.octet_counting = true;
                    } else if c == b' ' && self.opts.sp_framing_fix {
                        data = &data[1..];
                    } else {
                        self.state = State::InMsg;
                        self.octet_counting = false;
                    }
                }
                State::InOctetCount => {
                    if c.is_ascii_digit() {
                        if self.remain <= 200_000_000 {
                            self.remain = self.remain * 10 + (c - b'0') as u64;
                        }
                        if self.buf.len() < self.opts.max_msg {
                            self.buf.push(c);
                        }
                    } else {
                        if c != b' ' {
                            event(FramingEvent::DelimiterNotSp(c));
                        }
                        if self.remain < 1 {
                            event(FramingEvent::InvalidOctetCount(self.remain));
                            self.octet_counting = false;
                        } else if self.remain > self.opts.max_msg as u64 {
                            event(FramingEvent::Oversize {
                                announced: self.remain,
                                max: self.opts.max_msg,
                            });
                        }
                        if self.remain > self.opts.max_frame as u64 {
                            event(FramingEvent::FrameTooLarge(self.remain));
                            self.octet_counting = false;
                        } else if self.octet_counting {
                            self.buf.clear();
                        }
                        self.state = State::InMsg;
                    }
                    data = &data[1..];
                }
                State::InMsg => {
                    if self.octet_counting {
                        // Copy up to the frame end or the size limit in one go.
                        let room = self.opts.max_msg.saturating_sub(self.buf.len());
                        if room == 0 {
                            // rsyslog submits what it has and drops the byte that did not fit.
                            self.oversize(out);
                            data = &data[1..];
                            self.remain -= 1;
                            if self.remain == 0 {
                                self.state = State::AtFrameStart;
                            }
                            continue;
                        }
                        let take = (self.remain as usize).min(data.len()).min(room);
                        self.buf.extend_from_slice(&data[..take]);
                        self.remain -= take as u64;
                        data = &data[take..];
                        if self.remain == 0 {
                            self.submit(out);
                            self.state = State::AtFrameStart;
                        }
                    } else {
                        let delim_pos = self.find_delim(data);
                        let chunk_end = delim_pos.unwrap_or(data.len());
                        let room = self.opts.max_msg.saturating_sub(self.buf.len());
                        if chunk_end > room {
                            // Fill up, submit, and drop the byte that did not fit (as rsyslog).
                            self.buf.extend_from_slice(&data[..room]);
                            data = &data[room + 1..];
                            self.oversize(out);
                            continue;
                        }
                        self.buf.extend_from_slice(&data[..chunk_end]);
                        if delim_pos.is_some() {
                            data = &data[chunk_end + 1..];
                            self.submit(out);
                            self.state = State::AtFrameStart;
                        } else {
                            data = &[];
                        }
                    }
                }
                State::Truncating => {
                    if self.octet_counting {
                        let take = (self.remain as usize).min(data.len());
                        self.remain -= take as u64;
                        data = &data[take..];
                        if self.remain == 0 {
                            self.state = State::AtFrameStart;
                        }
                    } else {
                        match self.find_delim(data) {
                            Some(p) => {
                                data = &data[p + 1..];
                                self.state = State::AtFrameStart;
                            }
                            None => data = &[],
                        }
                    }
                }
            }
        }
    }

    /// The buffer is full (maximum message size) but the frame goes on: submit what we have,
    /// then split (the rest becomes the next message) or truncate (drop the rest).
    fn oversize(&mut self, out: &mut impl FnMut(&[u8])) {
        self.submit(out);
        if self.opts.discard_truncated {
            self.state = State::Truncating;
        }
    }

    fn find_delim(&self, data: &[u8]) -> Option<usize> {
        let lf = if self.opts.disable_lf { 0 } else { b'\n' };
        match (self.opts.disable_lf, self.opts.addtl_delimiter) {
            (false, Some(d)) => memchr2(lf, d, data),
            (false, None) => memchr::memchr(b'\n', data),
            (true, Some(d)) => memchr::memchr(d, data),
            (true, None) => None,
        }
    }

    /// The peer closed the connection: an unterminated LF frame is still a message; a partial
    /// octet-counted frame is dropped and reported.
    pub fn close(&mut self, out: &mut impl FnMut(&[u8]), event: &mut impl FnMut(FramingEvent)) {
        match self.state {
            State::AtFrameStart => {}
            _ if self.octet_counting && self.state != State::Truncating => {
                event(FramingEvent::IncompleteFrameAtClose);
                self.buf.clear();
            }
            State::InMsg | State::InOctetCount => self.submit(out),
            State::Truncating => {}
        }
        self.state = State::AtFrameStart;
    }

    /// Whether the decoder holds part of a frame.
    pub fn is_idle(&self) -> bool {
        self.state == State::AtFrameStart
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(opts: FramingOptions, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<FramingEvent>) {
        let mut d = Decoder::new(opts);
        let mut msgs = Vec::new();
        let mut evs = Vec::new();
        for c in chunks {
            d.feed(c, &mut |m| msgs.push(m.to_vec()), &mut |e| evs.push(e));
        }
        d.close(&mut |m| msgs.push(m.to_vec()), &mut |e| evs.push(e));
        (msgs, evs)
    }

    #[test]
    fn lf_and_octet_counted_mixed_per_frame() {
        let (m, e) = decode(
            FramingOptions::default(),
            &[b"<13>a\n9 <13>b\nc x\n<13>d", b"\n3 abc<1>last"],
        );
        assert_eq!(
            m,
            vec![
                b"<13>a".to_vec(),
                b"<13>b\nc x".to_vec(),
                b"<13>d".to_vec(),
                b"abc".to_vec(),
                b"<1>last".to_vec()
            ]
        );
        assert!(e.is_empty());
    }

    #[test]
    fn split_across_reads_byte_by_byte() {
        let input = b"5 hello6 world!<13>lf\n";
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        let (m, _) = decode(FramingOptions::default(), &chunks);
        assert_eq!(
            m,
            vec![b"hello".to_vec(), b"world!".to_vec(), b"<13>lf".to_vec()]
        );
    }

    #[test]
    fn huge_octet_count_does_not_allocate_it() {
        let opts = FramingOptions {
            max_msg: 16,
            ..Default::default()
        };
        let mut d = Decoder::new(opts);
        let mut msgs = Vec::new();
        let mut evs = Vec::new();
        d.feed(
            b"99999999999 abc",
            &mut |m| msgs.push(m.to_vec()),
            &mut |e| evs.push(e),
        );
        assert!(d.buf.capacity() <= 64 * 1024);
        assert!(evs
            .iter()
            .any(|e| matches!(e, FramingEvent::FrameTooLarge(_))));
        d.close(&mut |m| msgs.push(m.to_vec()), &mut |e| evs.push(e));
        // switched to stuffing: digits stay, the text is delivered at close
        assert_eq!(msgs, vec![b"99999999999abc".to_vec()]);
    }

    #[test]
    fn oversize_split_and_truncate() {
        let opts = FramingOptions {
            max_msg: 4,
            ..Default::default()
        };
        // rsyslog drops the byte at each split point ('e' and 'j' here)
        let (m, _) = decode(opts.clone(), &[b"abcdefghij\nxy\n"]);
        assert_eq!(m, vec![b"abcd".to_vec(), b"fghi".to_vec(), b"xy".to_vec()]);
        let (m, _) = decode(
            FramingOptions {
                discard_truncated: true,
                ..opts.clone()
            },
            &[b"abcdefghij\nxy\n"],
        );
        assert_eq!(m, vec![b"abcd".to_vec(), b"xy".to_vec()]);
        let (m, e) = decode(
            FramingOptions {
                discard_truncated: true,
                ..opts
            },
            &[b"10 abcdefghij3 xyz"],
        );
        assert_eq!(m, vec![b"abcd".to_vec(), b"xyz".to_vec()]);
        assert!(e.iter().any(|x| matches!(x, FramingEvent::Oversize { .. })));
    }

    #[test]
    fn incomplete_octet_frame_at_close_is_dropped_and_reported() {
        let (m, e) = decode(FramingOptions::default(), &[b"10 abc"]);
        assert!(m.is_empty());
        assert_eq!(e, vec![FramingEvent::IncompleteFrameAtClose]);
    }

    #[test]
    fn options() {
        let o = FramingOptions {
            support_octet_counting: false,
            ..Default::default()
        };
        let (m, _) = decode(o, &[b"12 abc\n"]);
        assert_eq!(m, vec![b"12 abc".to_vec()]);
        let o = FramingOptions {
            addtl_delimiter: Some(0),
            ..Default::default()
        };
        let (m, _) = decode(o, &[b"a\0b\nc"]);
        assert_eq!(m, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let o = FramingOptions {
            sp_framing_fix: true,
            ..Default::default()
        };
        let (m, _) = decode(o, &[b"a\n b\n"]);
        assert_eq!(m, vec![b"a".to_vec(), b"b".to_vec()]);
        let (m, e) = decode(FramingOptions::default(), &[b"0 abc\n"]);
        assert_eq!(m, vec![b"0abc".to_vec()]);
        assert!(e.contains(&FramingEvent::InvalidOctetCount(0)));
    }
}
