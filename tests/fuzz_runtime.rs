//! Bounded fuzzing of the runtime's input path with proptest: the TCP framer (any chunking of
//! a stream gives the same messages and events as feeding it at once; no panic; the decoder's
//! buffer never grows past the maximum message size), both parsers through `push_message`
//! (arbitrary bytes and mutations of the message corpus; no panic; every span inside the
//! arena, earlier arena bytes untouched), and the property replacer (random templates over
//! random messages; no panic).
//!
//! Every test is bounded in cases and shrinking; failing cases are not persisted
//! (`failure_persistence: None`).

use oxsyslog::input::framing::{Decoder, FramingEvent, FramingOptions};
use oxsyslog::message::{Batch, Span};
use oxsyslog::parse::{local_time, push_message, InputFlags, ParseOptions, Received};
use oxsyslog::template::{RenderEnv, Template};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

fn bounded(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_iters: 200,
        max_shrink_time: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------------------
// framing
// ------------------------------------------------------------------------------------------

fn framing_options() -> impl Strategy<Value = FramingOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop_oneof![Just(0u8), Just(b'|'), any::<u8>()]),
        1usize..300,
        any::<bool>(),
        1usize..600,
    )
        .prop_map(
            |(oct, spfix, nolf, addtl, max_msg, discard, max_frame)| FramingOptions {
                support_octet_counting: oct,
                sp_framing_fix: spfix,
                disable_lf: nolf,
                addtl_delimiter: addtl,
                max_msg,
                discard_truncated: discard,
                max_frame,
            },
        )
}

/// A stream: well-formed frames of both kinds mixed with arbitrary bytes.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let frame = prop_oneof![
        // LF-framed
        prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..80).prop_map(
            |mut v| {
                v.push(b'\n');
                v
            }
        ),
        // octet-counted (sometimes with a wrong count)
        (prop::collection::vec(any::<u8>(), 0..120), -3i64..3).prop_map(|(v, skew)| {
            let n = (v.len() as i64 + skew).max(0);
            let mut f = format!("{n} ").into_bytes();
            f.extend_from_slice(&v);
            f
        }),
        // garbage
        prop::collection::vec(any::<u8>(), 0..60),
        // digits
        "[0-9]{1,12}[ x]?".prop_map(String::into_bytes),
    ];
    prop::collection::vec(frame, 0..12).prop_map(|v| v.concat())
}

type Decoded = (Vec<Vec<u8>>, Vec<FramingEvent>);

/// Feeds `data` in the given chunks, checking the buffer bound after every feed.
fn decode(opts: &FramingOptions, data: &[u8], cuts: &[usize]) -> Result<Decoded, TestCaseError> {
    let mut d = Decoder::new(opts.clone());
    let mut msgs = Vec::new();
    let mut events = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    points.dedup();
    for w in points.windows(2) {
        d.feed(
            &data[w[0]..w[1]],
            &mut |m: &[u8]| msgs.push(m.to_vec()),
            &mut |e| events.push(e),
        );
        prop_assert!(
            d.buffered() <= opts.max_msg,
            "buffer {} above max {}",
            d.buffered(),
            opts.max_msg
        );
    }
    d.close(&mut |m: &[u8]| msgs.push(m.to_vec()), &mut |e| {
        events.push(e)
    });
    for m in &msgs {
        prop_assert!(m.len() <= opts.max_msg, "message above max size");
    }
    Ok((msgs, events))
}

proptest! {
    #![proptest_config(bounded(2000))]

    #[test]
    fn framer_chunking_is_invisible(
        opts in framing_options(),
        data in stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let whole = decode(&opts, &data, &[])?;
        let chunked = decode(&opts, &data, &cuts)?;
        prop_assert_eq!(&whole, &chunked);
        // byte by byte
        let all: Vec<usize> = (0..data.len()).collect();
        let bytes = decode(&opts, &data, &all)?;
        prop_assert_eq!(&whole, &bytes);
    }

    #[test]
    fn framer_survives_arbitrary_bytes(
        opts in framing_options(),
        data in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = decode(&opts, &data, &[])?;
        let chunked = decode(&opts, &data, &cuts)?;
        prop_assert_eq!(whole, chunked);
    }
}

// ------------------------------------------------------------------------------------------
// parsers
// ------------------------------------------------------------------------------------------

/// Corpus lines (comments dropped, markers filled in).
fn corpus() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/compat-tests/messages/corpus");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        let text = std::fs::read(&f).unwrap_or_default();
        for line in text.split(|&b| b == b'\n') {
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let s = String::from_utf8_lossy(line).replace("@M@", "oxm-0001t");
            out.push(s.into_bytes());
        }
    }
    assert!(out.len() > 100, "corpus not found in {dir}");
    out
}

fn flags() -> impl Strategy<Value = InputFlags> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ph, ign, special, sys, tz)| InputFlags {
            parse_hostname: ph,
            ignore_timestamp: ign,
            local_special_parser: special,
            use_sys_timestamp: sys,
            default_tz: if tz { Some((b'-', 5, 30)) } else { None },
        })
}

fn parse_options() -> impl Strategy<Value = ParseOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        128usize..600,
    )
        .prop_map(|(esc, tab, splf, e8, cst, slash, r5424, max)| {
            let mut o = ParseOptions::default();
            o.sanitize.escape_control_chars = esc;
            o.sanitize.escape_tab = tab;
            o.sanitize.space_lf = splf;
            o.sanitize.escape_8bit = e8;
            o.sanitize.escape_cstyle = cst;
            o.sanitize.max_msg_size = max;
            o.permit_slash_in_programname = slash;
            o.rfc5424 = r5424;
            o
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Splice(usize, Vec<u8>),
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let m = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                Just(b' '),
                Just(b'<'),
                Just(b'>'),
                Just(b'['),
                Just(b']'),
                Just(b':'),
                Just(b'-'),
                Just(0u8),
                Just(b'\n'),
                any::<u8>()
            ]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![
                Just(b"1 ".to_vec()),
                Just(b"<13>".to_vec()),
                Just(b"2024-02-30T25:61:61.1234567+14:00 ".to_vec()),
                Just(b"Feb 29 24:00:00 ".to_vec()),
                Just(b"[a b=\"\\\"]\" c=\"\\".to_vec()),
                Just(b"\xef\xbb\xbf".to_vec()),
                Just(vec![b'x'; 700]),
            ]
        )
            .prop_map(|(i, v)| Mutation::Splice(i, v)),
    ];
    prop::collection::vec(m, 0..6)
}

fn mutate(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let n = v.len();
        match m {
            Mutation::Flip(i, b) if n > 0 => v[i % n] ^= b,
            Mutation::Insert(i, b) => v.insert(i % (n + 1), *b),
            Mutation::Delete(i) if n > 0 => {
                v.remove(i % n);
            }
            Mutation::Truncate(i) => v.truncate(i % (n + 1)),
            Mutation::Splice(i, s) => {
                let at = i % (n + 1);
                v.splice(at..at, s.iter().copied());
            }
            _ => {}
        }
    }
    v
}

fn rx() -> Received {
    Received {
        peer: 0,
        input: 1,
        time: local_time(1_700_000_000, 123_456),
        unix: 1_700_000_000,
    }
}

fn span_ok(s: Span, len: usize) -> bool {
    s == Span::EMPTY || (s.start <= s.end && s.end as usize <= len)
}

/// Pushes `raw` after some earlier bytes and checks the message's invariants.
fn check_push(
    raw: &[u8],
    f: &InputFlags,
    o: &ParseOptions,
) -> Result<Option<Batch>, TestCaseError> {
    let mut b = Batch::default();
    let prefix = b"earlier message bytes\0".to_vec();
    b.data.extend_from_slice(&prefix);
    b.peers.push(Default::default());
    let ok = push_message(&mut b, raw, &rx(), f, o);
    prop_assert!(b.data.starts_with(&prefix), "earlier arena bytes changed");
    if !ok {
        prop_assert_eq!(b.len(), 0);
        return Ok(None);
    }
    prop_assert_eq!(b.len(), 1);
    let len = b.data.len();
    let m = &b.msgs[0];
    for (name, s) in [
        ("raw", m.raw),
        ("hostname", m.hostname),
        ("tag", m.tag),
        ("msg", m.msg),
        ("app_name", m.app_name),
        ("procid", m.procid),
        ("msgid", m.msgid),
        ("structured_data", m.structured_data),
    ] {
        prop_assert!(
            span_ok(s, len),
            "{} span {:?} outside arena of {}",
            name,
            s,
            len
        );
    }
    prop_assert!(
        m.raw.start as usize >= prefix.len(),
        "raw span starts in earlier bytes"
    );
    prop_assert!(
        m.raw.len() <= o.sanitize.max_msg_size.max(1) * 4 + 4,
        "raw far above max"
    );
    prop_assert!(m.severity < 8);
    let r = b.get(0);
    let _ = (r.raw_after_pri(), r.hostname(), r.pri(), r.time_reported());
    Ok(Some(b))
}

proptest! {
    #![proptest_config(bounded(4000))]

    #[test]
    fn parsers_take_arbitrary_bytes(
        raw in prop::collection::vec(any::<u8>(), 0..900),
        f in flags(),
        o in parse_options(),
    ) {
        check_push(&raw, &f, &o)?;
    }

    #[test]
    fn parsers_take_mutated_corpus_messages(
        pick in any::<prop::sample::Index>(),
        ms in mutations(),
        f in flags(),
        o in parse_options(),
    ) {
        let corpus = CORPUS.with(|c| c.clone());
        let base = corpus[pick.index(corpus.len())].clone();
        check_push(&mutate(base, &ms), &f, &o)?;
    }
}

thread_local! {
    static CORPUS: std::rc::Rc<Vec<Vec<u8>>> = std::rc::Rc::new(corpus());
}

// ------------------------------------------------------------------------------------------
// property replacer
// ------------------------------------------------------------------------------------------

const PROPS: &[&str] = &[
    "msg",
    "rawmsg",
    "rawmsg-after-pri",
    "hostname",
    "source",
    "fromhost",
    "fromhost-ip",
    "syslogtag",
    "programname",
    "pri",
    "pri-text",
    "iut",
    "syslogfacility",
    "syslogfacility-text",
    "syslogseverity",
    "syslogseverity-text",
    "timegenerated",
    "timereported",
    "timestamp",
    "protocol-version",
    "structured-data",
    "app-name",
    "procid",
    "msgid",
    "inputname",
    "$now",
    "$year",
    "$hour",
    "$minute",
    "$now-utc",
    "$myhostname",
    "nosuchprop",
];

const OPTIONS: &[&str] = &[
    "",
    "lowercase",
    "uppercase",
    "escape-cc",
    "drop-cc",
    "space-cc",
    "drop-last-lf",
    "sp-if-no-1st-sp",
    "date-mysql",
    "date-rfc3164",
    "date-rfc3164-buggyday",
    "date-rfc3339",
    "date-pgsql",
    "date-subseconds",
    "date-unixtimestamp",
    "date-year",
    "date-utc",
    "csv",
    "json",
    "jsonf",
    "fixed-width",
    "secpath-drop",
    "secpath-replace",
    "pos-end-relative",
    "compressspace",
    "bogus",
];

fn from_to() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0u32..40, 0u32..60).prop_map(|(a, b)| format!("{a}:{b}")),
        (0u32..3, 0u32..3).prop_map(|(a, b)| format!("{a}:{b}")),
        Just("R:[a-z]+--end".to_string()),
        Just("R,ERE,1,DFLT:([0-9]+)--end".to_string()),
        Just("R,BRE,0,BLANK,0:\\(x*\\)--end".to_string()),
        Just("R:(--end".to_string()),
        Just("F,58:2".to_string()),
        Just("F,32:1".to_string()),
        Just("F:3".to_string()),
        "[0-9RF,:a-z]{0,12}".prop_map(|s| s),
    ]
}

fn template_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[ -~]{0,10}".prop_map(|s| s.replace('%', "")),
        (
            prop::sample::select(PROPS),
            from_to(),
            prop::collection::vec(prop::sample::select(OPTIONS), 0..3)
        )
            .prop_map(|(p, ft, opts)| {
                if ft.is_empty() && opts.is_empty() {
                    format!("%{p}%")
                } else {
                    format!("%{p}:{ft}:{}%", opts.join(","))
                }
            }),
        // arbitrary text with percent signs
        "[%:a-z0-9,\\\\-]{0,16}".prop_map(|s| s),
    ];
    prop::collection::vec(part, 0..6).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(bounded(2000))]

    #[test]
    fn property_replacer_renders_random_templates(
        text in template_text(),
        legacy in any::<bool>(),
        raws in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..200),
                any::<prop::sample::Index>().prop_map(|i| {
                    let c = CORPUS.with(|c| c.clone());
                    c[i.index(c.len())].clone()
                }),
            ],
            1..4,
        ),
        f in flags(),
    ) {
        let mut warnings = Vec::new();
        let Ok(t) = Template::compile_string("fuzz", text.as_bytes(), legacy, &mut warnings) else {
            return Ok(());
        };
        let mut b = Batch::default();
        b.peers.push(oxsyslog::message::Peer {
            host: "fuzzhost".into(),
            ip: "192.0.2.1".into(),
            port: "514".into(),
        });
        let o = ParseOptions::default();
        for raw in &raws {
            push_message(&mut b, raw, &rx(), &f, &o);
        }
        let mut env = RenderEnv::new("localhost");
        env.input_names = vec!["rsyslogd".into(), "imtcp".into()];
        let mut out = Vec::new();
        for i in 0..b.len() {
            out.clear();
            t.render(b.get(i), &env, &mut out);
        }
    }
}
