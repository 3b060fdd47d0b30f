//! rsyslog's reception sanitising (runtime/parser.c `SanitizeMsg`), byte for byte.
//!
//! Order of operations, as in rsyslog 8.2302:
//! 1. drop one trailing NUL; then drop one trailing LF (`parser.dropTrailingLFOnReception`,
//!    on by default). There is no CR handling: a CR before the LF stays and is escaped (`#015`);
//! 2. scan for bytes that need escaping (control characters when
//!    `parser.escapeControlCharactersOnReceive` is on — the default —, NUL always, bytes above
//!    127 when `parser.escape8BitCharactersOnReceive` is on). With `parser.spaceLFOnReceive`
//!    the scan turns every LF into SP and does *not* stop at control characters (it stops
//!    only at an 8-bit byte);
//! 3. if nothing needs escaping the message is kept as is — **not** truncated (the inputs
//!    already cut it at maxMessageSize);
//! 4. otherwise everything before the first byte that needs escaping is copied unchanged, and
//!    the rest is rewritten into a buffer of `min(4 * len, maxMessageSize)` bytes, stopping as
//!    soon as fewer than 4 bytes of room remain (so a message of exactly maxMessageSize bytes
//!    that needs escaping loses its last 3 to 4 bytes). Control characters become
//!    `<prefix>ooo` (3 octal digits; the prefix is `parser.controlCharacterEscapePrefix`,
//!    `#` by default) or, with `parser.escapeControlCharactersCStyle`, `\n`, `\t`, `\xHH`…;
//!    a TAB is copied unchanged when `parser.escapeControlCharacterTab` is off; a control
//!    character other than NUL is *dropped* when control-character escaping is off but the
//!    message is rewritten anyway (because it contains a NUL).
//!
//! Surprising consequence mirrored here: with `parser.spaceLFOnReceive` on, the scan runs to
//! the end, so the "unchanged prefix" is the whole message but its last byte — control
//! characters (even NUL) before the last byte are then kept raw, unescaped.

/// The sanitising settings (all `parser.*` globals plus maxMessageSize).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizeOptions {
    pub drop_trailing_lf: bool,
    pub escape_control_chars: bool,
    pub escape_tab: bool,
    pub escape_prefix: u8,
    pub space_lf: bool,
    pub escape_8bit: bool,
    pub escape_cstyle: bool,
    pub max_msg_size: usize,
}

impl Default for SanitizeOptions {
    fn default() -> Self {
        SanitizeOptions {
            drop_trailing_lf: true,
            escape_control_chars: true,
            escape_tab: true,
            escape_prefix: b'#',
            space_lf: false,
            escape_8bit: false,
            escape_cstyle: false,
            max_msg_size: 8096,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the sanitised form of `raw` to `out` and returns the number of bytes appended.
/// `raw` must not be empty (rsyslog drops empty messages before sanitising).
pub fn sanitize_into(raw: &[u8], o: &SanitizeOptions, out: &mut Vec<u8>) -> usize {
    sanitize_impl(raw, o, out, true)
}

/// `sanitize_into`; without `word_scan` every byte goes through the byte loop (the reference
/// the word scan is tested against).
fn sanitize_impl(raw: &[u8], o: &SanitizeOptions, out: &mut Vec<u8>, word_scan: bool) -> usize {
    let mut len = raw.len();
    if len > 0 && raw[len - 1] == 0 {
        len -= 1;
    }
    if o.drop_trailing_lf && len > 0 && raw[len - 1] == b'\n' {
        len -= 1;
    }
    let raw = &raw[..len];

    // The detection scan; `scan_end` is where it stopped. With spaceLF, LFs before that point
    // have been turned into SP (in place, in rsyslog).
    let mut need = false;
    let mut scan_end = len;
    // Bytes before `clean` can neither be escaped nor stop the scan (the byte loop below
    // would pass over them): skipped 8 at a time.
    let clean = if word_scan {
        clean_prefix(raw, o.escape_8bit)
    } else {
        0
    };
    for (i, &c) in raw.iter().enumerate().skip(clean) {
        if c < 32 {
            if o.space_lf && c == b'\n' {
                // converted in place
            } else if c == 0 || o.escape_control_chars {
                need = true;
                if !o.space_lf {
                    scan_end = i;
                    break;
                }
            }
        } else if c > 127 && o.escape_8bit {
            need = true;
            scan_end = i;
            break;
        }
    }
    let src = |i: usize| -> u8 {
        let c = raw[i];
        if o.space_lf && c == b'\n' && i < scan_end {
            b' '
        } else {
            c
        }
    };

    let start = out.len();
    if !need {
        if o.space_lf {
            out.extend(raw.iter().map(|&c| if c == b'\n' { b' ' } else { c }));
        } else {
            out.extend_from_slice(raw);
        }
        return len;
    }

    let max_dest = len.saturating_mul(4).min(o.max_msg_size.max(4));
    let mut i_src = scan_end;
    if i_src > 0 {
        i_src -= 1; // rsyslog steps back one byte before the rewriting loop
        if i_src > max_dest {
            i_src = max_dest;
        }
        out.extend((0..i_src).map(src));
    }
    let limit = start + max_dest - 3;
    while i_src < len && out.len() < limit {
        let c = src(i_src);
        if c < 32 && (c != b'\t' || o.escape_tab) {
            if c == 0 || o.escape_control_chars {
                if o.escape_cstyle {
                    out.push(b'\\');
                    match c {
                        0 => out.push(b'0'),
                        0x07 => out.push(b'a'),
                        0x08 => out.push(b'b'),
                        0x1b => out.push(b'e'),
                        0x0c => out.push(b'f'),
                        b'\n' => out.push(b'n'),
                        b'\r' => out.push(b'r'),
                        b'\t' => out.push(b't'),
                        0x0b => out.push(b'v'),
                        _ => out.extend_from_slice(&[
                            b'x',
                            HEX[(c >> 4) as usize],
                            HEX[(c & 15) as usize],
                        ]),
                    }
                } else {
                    out.extend_from_slice(&octal(o.escape_prefix, c));
                }
            }
            // else: dropped (escaping is off, but the message is rewritten because of a NUL)
        } else if c > 127 && o.escape_8bit {
            if o.escape_cstyle {
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[(c >> 4) as usize],
                    HEX[(c & 15) as usize],
                ]);
            } else {
                out.extend_from_slice(&octal(o.escape_prefix, c));
            }
        } else {
            out.push(c);
        }
        i_src += 1;
    }
    out.len() - start
}

/// The length of a prefix of `raw` (a multiple of 8) whose bytes are all >= 32 and, with
/// `eight_bit`, <= 127: whole 8-byte words tested at once (the message text is almost always
/// printable ASCII, and the byte loop alone was a tenth of the forwarding daemon's CPU).
fn clean_prefix(raw: &[u8], eight_bit: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    for w in raw.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b);
        // "has a byte < 32" (exact as a yes/no answer for bounds up to 128), or a byte > 127
        let low = x.wrapping_sub(ONES * 32) & !x & HIGH;
        let high = if eight_bit { x & HIGH } else { 0 };
        if low | high != 0 {
            break;
        }
        n += 8;
    }
    n
}

fn octal(prefix: u8, c: u8) -> [u8; 4] {
    [
        prefix,
        b'0' + ((c >> 6) & 7),
        b'0' + ((c >> 3) & 7),
        b'0' + (c & 7),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn san(raw: &[u8], o: &SanitizeOptions) -> Vec<u8> {
        let mut out = b"prev".to_vec();
        let n = sanitize_into(raw, o, &mut out);
        assert_eq!(n, out.len() - 4);
        out.split_off(4)
    }

    fn d(raw: &[u8]) -> Vec<u8> {
        san(raw, &SanitizeOptions::default())
    }

    #[test]
    fn word_scan_matches_the_byte_scan() {
        // every special byte at every position of messages around the 8-byte word size
        let opts = [
            SanitizeOptions::default(),
            SanitizeOptions {
                escape_8bit: true,
                ..SanitizeOptions::default()
            },
            SanitizeOptions {
                space_lf: true,
                ..SanitizeOptions::default()
            },
            SanitizeOptions {
                escape_control_chars: false,
                ..SanitizeOptions::default()
            },
        ];
        for o in &opts {
            for len in 1..26 {
                for pos in 0..len {
                    for special in [0u8, 1, 9, 10, 13, 31, 32, 127, 128, 200, 255] {
                        let mut raw: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                        raw[pos] = special;
                        let (mut fast, mut slow) = (Vec::new(), Vec::new());
                        let n = sanitize_impl(&raw, o, &mut fast, true);
                        let m = sanitize_impl(&raw, o, &mut slow, false);
                        assert_eq!(
                            (fast, n),
                            (slow, m),
                            "len {len} pos {pos} byte {special} {o:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn trailing_nul_and_lf() {
        assert_eq!(d(b"abc\n"), b"abc");
        assert_eq!(d(b"abc\n\0"), b"abc");
        assert_eq!(d(b"abc\0\n"), b"abc#000");
        assert_eq!(d(b"abc\n\n"), b"abc#012");
        assert_eq!(d(b"abc\r\n"), b"abc#015");
        assert_eq!(d(b"\0"), b"");
        assert_eq!(d(b"\n"), b"");
        let o = SanitizeOptions {
            drop_trailing_lf: false,
            ..Default::default()
        };
        assert_eq!(san(b"abc\n", &o), b"abc#012");
    }

    #[test]
    fn default_escaping() {
        assert_eq!(
            d(b"a\tb\x01c\x00d\x7fe\xc3\xa9f\xff"),
            b"a#011b#001c#000d\x7fe\xc3\xa9f\xff"
        );
        assert_eq!(d(b"\x1b[1m"), b"#033[1m");
        assert_eq!(d(b"plain text"), b"plain text");
    }

    #[test]
    fn options() {
        let raw = b"a\tb\x01c\x00d\ne\xc3\xa9f\x1bg";
        let o = SanitizeOptions {
            escape_tab: false,
            ..Default::default()
        };
        assert_eq!(san(raw, &o), b"a\tb#001c#000d#012e\xc3\xa9f#033g");
        let o = SanitizeOptions {
            escape_8bit: true,
            ..Default::default()
        };
        assert_eq!(san(raw, &o), b"a#011b#001c#000d#012e#303#251f#033g");
        let o = SanitizeOptions {
            escape_cstyle: true,
            ..Default::default()
        };
        assert_eq!(san(raw, &o), b"a\\tb\\x01c\\0d\\ne\xc3\xa9f\\eg");
        let o = SanitizeOptions {
            escape_cstyle: true,
            escape_8bit: true,
            ..Default::default()
        };
        assert_eq!(san(raw, &o), b"a\\tb\\x01c\\0d\\ne\\xC3\\xA9f\\eg");
        let o = SanitizeOptions {
            escape_prefix: b'~',
            ..Default::default()
        };
        assert_eq!(san(b"a\tb\x01", &o), b"a~011b~001");
    }

    #[test]
    fn escaping_off_drops_controls_when_a_nul_forces_rewriting() {
        let o = SanitizeOptions {
            escape_control_chars: false,
            ..Default::default()
        };
        assert_eq!(
            san(b"a\tb\x01c\x00d\ne\xc3\xa9f\x1bg", &o),
            b"a\tb\x01c#000de\xc3\xa9fg"
        );
        assert_eq!(san(b"a\nb\x01c", &o), b"a\nb\x01c");
    }

    #[test]
    fn space_lf_quirk() {
        let o = SanitizeOptions {
            space_lf: true,
            ..Default::default()
        };
        assert_eq!(
            san(b"a\tb\x01c\x00d\ne\xc3\xa9f\x1bg", &o),
            b"a\tb\x01c\x00d e\xc3\xa9f\x1bg"
        );
        assert_eq!(san(b"a\nb\x01c", &o), b"a b\x01c");
        assert_eq!(san(b"abc\x01", &o), b"abc#001");
        assert_eq!(san(b"a\nb", &o), b"a b");
        let o = SanitizeOptions {
            space_lf: true,
            escape_8bit: true,
            ..Default::default()
        };
        assert_eq!(san(b"a\nb\xc3c\x01d", &o), b"a b#303c#001d");
    }

    #[test]
    fn truncation_only_when_rewriting() {
        let o = SanitizeOptions::default();
        let long = vec![b'x'; 9000];
        assert_eq!(san(&long, &o).len(), 9000);
        let mut m = vec![b'\t'];
        m.extend(std::iter::repeat_n(b'x', 8095));
        assert_eq!(san(&m, &o).len(), 8093);
        let mut m = vec![b'x'; 8095];
        m.push(b'\t');
        assert_eq!(san(&m, &o).len(), 8094);
        let mut m = vec![b'x'; 8092];
        m.push(b'\t');
        let out = san(&m, &o);
        assert_eq!(out.len(), 8096);
        assert!(out.ends_with(b"x#011"));
    }
}
