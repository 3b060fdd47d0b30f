//! Lookup tables (`lookup_table()` objects, the `lookup()` function, the
//! `reload_lookup_table()` statement and reload on HUP) as rsyslog 8.2302 implements them in
//! runtime/lookup.c and grammar/rainerscript.c.
//!
//! The table file is JSON read by libfastjson (`crate::json`): member names match
//! case-insensitively unless `variables.casesensitive="on"` (rsyslog sets that switch for the
//! whole library, so `"Version"`, `"TYPE"`, `"Index"` work), text after the top-level object
//! is ignored, a repeated member name keeps its last value. A table file has
//! `"version"` (only 1; a missing one is a warning and means 1), `"nomatch"` (missing: the
//! empty string), `"type"` (`"string"` when missing, else exactly `"array"`, `"sparseArray"`
//! or `"string"`) and `"table"`, an array of `{"index": …, "value": …}` records; a record
//! without `value` or `index` makes the whole table invalid.
//!
//! Values and string indexes are `json_object_get_string` of what is written: a number keeps
//! its text (`1.0e3`), `true` is `true`, an object or array is libfastjson's spaced JSON
//! (`{ "a": "\/x" }`); all are C strings (cut at a NUL byte).
//!
//! * `string` tables: records sorted with glibc's (stable merge) `qsort` by `strcmp` of the
//!   index, looked up with glibc's `bsearch`, so of duplicate indexes the one the binary
//!   search meets first wins (not the first or last written). The key is the value as a
//!   C string (`es_str2cstr`: NUL bytes dropped).
//! * `array` tables: the index is `json_object_get_int` (a string `"4x"` is 4, a double is
//!   truncated, out of range saturates, `true` is 1) cast to `uint32`; the records are sorted,
//!   so their order does not matter, but they must be contiguous (a duplicate or a gap is an
//!   error). A key below the first index or past the last is no match.
//! * `sparseArray` tables: the same indexes; a key gets the value of the greatest index ≤ key
//!   (no match below the first). Duplicates are kept; which one wins follows the binary search.
//! * Keys of `array`/`sparseArray` tables are `var2Number` of the value (`str2num`: optional
//!   `-`, then leading decimal digits, so `"abc"` and `""` are 0 and `"03"` is 3), cast to
//!   `uint32` (so `-1` is 4294967295 and 4294967298 is 2).
//! * rsyslog compares the `uint32` indexes by returning their difference as an `int`, so with
//!   indexes or keys ≥ 2^31 apart the sort and the search go wrong; reproduced as it is
//!   (e.g. key 4294967295 finds nothing in a sparse table that starts at 5).
//!
//! A table that cannot be loaded at start-up does not stop rsyslogd: it logs the error
//! (`-N1` fails), and `lookup()` on that table gives the empty string until a reload works.
//! [`LookupTables::load`] refuses such a config instead; [`LookupTables::load_like_rsyslogd`]
//! keeps rsyslogd's behaviour. A reload that fails keeps the old table; with the stub value of
//! `reload_lookup_table("name", "stub")` the table is instead replaced by a stub that answers
//! every key with that value (until a later reload from the file works). A HUP reloads every
//! table whose `reloadOnHUP` is on (the default), without a stub. (rsyslogd 8.2302 crashes,
//! SIGSEGV, when a reload with a stub value fails on a table that never loaded; here the
//! table is stubbed.)

use crate::config::model::Config;
use crate::json::Json;

/// All lookup tables of a configuration, in the order they were defined.
#[derive(Debug, Clone, Default)]
pub struct LookupTables {
    tables: Vec<Table>,
    warnings: Vec<String>,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    file: String,
    reload_on_hup: bool,
    /// `None`: the table could not be loaded at start-up (rsyslog's `self == NULL`).
    data: Option<Data>,
}

#[derive(Debug, Clone, PartialEq)]
struct Data {
    /// `None`: no `nomatch` (the empty string).
    nomatch: Option<Vec<u8>>,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Sorted by key (strcmp order).
    Str(Vec<(Vec<u8>, Vec<u8>)>),
    Array {
        first: u32,
        values: Vec<Vec<u8>>,
    },
    /// Sorted by key (rsyslog's comparator).
    Sparse(Vec<(u32, Vec<u8>)>),
    /// A stubbed table: every key gives `nomatch`.
    Stub,
}

impl LookupTables {
    /// Loads every `lookup_table()` of `cfg`. The first table that cannot be loaded is an
    /// error naming its file and the cause (rsyslogd would log it and start anyway).
    pub fn load(cfg: &Config) -> Result<LookupTables, String> {
        let (t, errors) = LookupTables::load_like_rsyslogd(cfg);
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(t),
        }
    }

    /// Loads every `lookup_table()` of `cfg` as rsyslogd does: a table that cannot be loaded
    /// is kept, answers every lookup with the empty string, and can be reloaded later; the
    /// errors are returned (one per such table).
    pub fn load_like_rsyslogd(cfg: &Config) -> (LookupTables, Vec<String>) {
        let mut tables = LookupTables::default();
        let mut errors = Vec::new();
        for o in cfg.objects.iter().filter(|o| o.kind == "lookup_table") {
            let name = o.params.str("name").unwrap_or_default().to_string();
            let file = o.params.str("file").unwrap_or_default().to_string();
            let reload_on_hup = !matches!(
                o.params.get("reloadOnHUP"),
                Some(crate::config::model::PValue::Bool(false))
            );
            let data = match read_file(&name, &file, &mut tables.warnings) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            tables.tables.push(Table {
                name,
                file,
                reload_on_hup,
                data,
            });
        }
        (tables, errors)
    }

    /// A table by name (`lookupFindTable`: exact name, the first of that name).
    pub fn index(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// A table's name.
    pub fn name(&self, table: usize) -> &str {
        &self.tables[table].name
    }

    /// Warnings from loading and reloading (a table file without `"version"`), taken.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether `lookup()` on this table converts its key to a number (`array` and
    /// `sparseArray` tables): then [`LookupTables::lookup_num`] with the key's `var2Number`
    /// is exact also for keys that are numbers or JSON values.
    pub fn wants_number(&self, table: usize) -> bool {
        matches!(
            self.tables[table].data,
            Some(Data {
                kind: Kind::Array { .. } | Kind::Sparse(_),
                ..
            })
        )
    }

    /// `lookup(table, key)` with the key as a string (`var2CString` of the value): appends
    /// the value, or `nomatch`, to `out`.
    pub fn lookup(&self, table: usize, key: &[u8], out: &mut Vec<u8>) {
        let Some(d) = &self.tables[table].data else {
            return;
        };
        match &d.kind {
            Kind::Str(entries) => {
                let k: Vec<u8>;
                let key = if key.contains(&0) {
                    k = key.iter().copied().filter(|&c| c != 0).collect();
                    &k[..]
                } else {
                    key
                };
                d.str_lookup(entries, key, out)
            }
            Kind::Stub => d.nomatch(out),
            _ => d.num_lookup(str2num(key) as u32, out),
        }
    }

    /// `lookup(table, key)` with the key as a number (`var2Number` of the value, for keys
    /// that are numbers or JSON values): string tables look up its decimal text.
    pub fn lookup_num(&self, table: usize, key: i64, out: &mut Vec<u8>) {
        let Some(d) = &self.tables[table].data else {
            return;
        };
        match &d.kind {
            Kind::Str(entries) => d.str_lookup(entries, key.to_string().as_bytes(), out),
            Kind::Stub => d.nomatch(out),
            _ => d.num_lookup(key as u32, out),
        }
    }

    /// Reloads a table from its file; when that fails the old table stays (the error says
    /// why).
    pub fn reload(&mut self, table: usize) -> Result<(), String> {
        self.reload_with_stub(table, None)
    }

    /// `reload_lookup_table(name[, stub])`: reloads a table from its file; when that fails and
    /// `stub` is given, the table becomes a stub answering every key with `stub` (unless it
    /// already is a stub with that value), else the old table stays. `Err` when the reload
    /// from the file failed (whether or not the table was stubbed).
    pub fn reload_with_stub(&mut self, table: usize, stub: Option<&[u8]>) -> Result<(), String> {
        let t = &mut self.tables[table];
        match read_file(&t.name, &t.file, &mut self.warnings) {
            Ok(d) => {
                t.data = Some(d);
                Ok(())
            }
            Err(e) => {
                let mut msg = format!(
                    "lookup table '{}' could not be reloaded from file '{}': {e}",
                    t.name, t.file
                );
                if let Some(stub) = stub {
                    let stub = cstr(stub).to_vec();
                    let already = matches!(&t.data, Some(Data { kind: Kind::Stub, nomatch: Some(v) }) if *v == stub);
                    msg.push_str(&format!(
                        "; {} with value '{}'",
                        if already {
                            "already stubbed"
                        } else {
                            "stubbed"
                        },
                        String::from_utf8_lossy(&stub)
                    ));
                    t.data = Some(Data {
                        nomatch: Some(stub),
                        kind: Kind::Stub,
                    });
                }
                Err(msg)
            }
        }
    }

    /// SIGHUP: reloads every table with `reloadOnHUP="on"` (the default); returns the errors of
    /// the tables that could not be reloaded (they keep their old contents).
    pub fn hup(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        for i in 0..self.tables.len() {
            if self.tables[i].reload_on_hup {
                if let Err(e) = self.reload(i) {
                    errors.push(e);
                }
            }
        }
        errors
    }
}

impl Data {
    fn nomatch(&self, out: &mut Vec<u8>) {
        if let Some(n) = &self.nomatch {
            out.extend_from_slice(n);
        }
    }

    fn str_lookup(&self, entries: &[(Vec<u8>, Vec<u8>)], key: &[u8], out: &mut Vec<u8>) {
        match bsearch(entries, |e| key.cmp(&e.0[..]) as i32) {
            Some(i) => out.extend_from_slice(&entries[i].1),
            None => self.nomatch(out),
        }
    }

    fn num_lookup(&self, key: u32, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Array { first, values } => {
                if key < *first {
                    return self.nomatch(out);
                }
                match values.get((key - first) as usize) {
                    Some(v) => out.extend_from_slice(v),
                    None => self.nomatch(out),
                }
            }
            Kind::Sparse(entries) => match bsearch_lte(entries, |e| cmp_u32(key, e.0)) {
                Some(i) => out.extend_from_slice(&entries[i].1),
                None => self.nomatch(out),
            },
            _ => self.nomatch(out),
        }
    }
}

/// rsyslog's comparator for `uint32` indexes: `a < b` is -1, else the difference as an `int`
/// (negative when it is 2^31 or more).
fn cmp_u32(a: u32, b: u32) -> i32 {
    if a < b {
        -1
    } else {
        a.wrapping_sub(b) as i32
    }
}

/// glibc 2.36's `bsearch`: the element the binary search meets first.
fn bsearch<T>(v: &[T], cmp: impl Fn(&T) -> i32) -> Option<usize> {
    let (mut l, mut u) = (0, v.len());
    while l < u {
        let idx = (l + u) / 2;
        let c = cmp(&v[idx]);
        if c < 0 {
            u = idx;
        } else if c > 0 {
            l = idx + 1;
        } else {
            return Some(idx);
        }
    }
    None
}

/// lookup.c's `bsearch_lte`: an exact hit, else the element before where the search ended.
fn bsearch_lte<T>(v: &[T], cmp: impl Fn(&T) -> i32) -> Option<usize> {
    let (mut l, mut u) = (0, v.len());
    if l == u {
        return None;
    }
    let (mut idx, mut c) = (0, 0);
    while l < u {
        idx = (l + u) / 2;
        c = cmp(&v[idx]);
        if c < 0 {
            u = idx;
        } else if c > 0 {
            l = idx + 1;
        } else {
            return Some(idx);
        }
    }
    if c < 0 {
        if idx == 0 {
            return None;
        }
        idx -= 1;
    }
    Some(idx)
}

/// glibc 2.36's `qsort` (a stable top-down merge sort: halves `n/2` and `n - n/2`, the left
/// element first unless the comparator says it is greater), so an inconsistent comparator
/// gives the same order as in rsyslogd.
fn msort<T: Clone>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut v[..n1], cmp);
    msort(&mut v[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..]);
    v.clone_from_slice(&merged);
}

/// rainerscript.c `str2num`: optional `-`, then leading decimal digits.
fn str2num(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

/// A C string's view of bytes: up to the first NUL.
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

/// `json_object_get_string`, as the C string rsyslog copies.
fn get_string(j: &Json) -> Vec<u8> {
    let mut v = Vec::new();
    j.write_string_value(&mut v);
    v.truncate(cstr(&v).len());
    v
}

/// `strtoll(s, &end, 10)`: leading white space, sign, digits; saturating; `None` when there
/// are no digits.
fn strtoll(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut n: i128 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = (n * 10 + (s[i] - b'0') as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    if i == start {
        return None;
    }
    let n = if neg { -n } else { n };
    Some(n.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// libfastjson's `json_object_get_int`.
fn get_int(j: &Json) -> i32 {
    let clamp = |n: i64| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    match j {
        Json::Int(n) => clamp(*n),
        Json::Bool(b) => *b as i32,
        Json::Str(s) => strtoll(s).map_or(0, clamp),
        // an integer too big for int64 is parsed as int64 (saturated) by libfastjson
        Json::Double(_, Some(text)) if !text.contains(['.', 'e', 'E']) => {
            strtoll(text.as_bytes()).map_or(0, clamp)
        }
        Json::Double(d, _) => {
            // (int32_t) on x86-64: out of range and NaN give INT32_MIN
            if *d > i32::MIN as f64 - 1.0 && *d < i32::MAX as f64 + 1.0 {
                *d as i32
            } else {
                i32::MIN
            }
        }
        _ => 0,
    }
}

/// `json_object_object_get`: a member, `None` when missing or null (libfastjson keeps a null
/// member as a NULL object).
fn member<'a>(j: &'a Json, key: &str) -> Option<&'a Json> {
    match j {
        Json::Obj(o) => o.get(key.as_bytes()).filter(|v| !matches!(v, Json::Null)),
        _ => None,
    }
}

/// `lookupReadFile`: reads and builds a table; the error names the file and the cause.
fn read_file(name: &str, file: &str, warnings: &mut Vec<String>) -> Result<Data, String> {
    let bytes = std::fs::read(file).map_err(|e| {
        let e = std::io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0));
        format!("lookup table file '{file}' could not be opened: {e}")
    })?;
    let root = crate::json::parse(&bytes)
        .ok_or_else(|| format!("lookup table file '{file}' json parsing error"))?;
    build(name, &root, warnings).map_err(|e| format!("lookup table file '{file}': {e}"))
}

/// `lookupBuildTable` and `lookupBuildTable_v1`.
fn build(name: &str, root: &Json, warnings: &mut Vec<String>) -> Result<Data, String> {
    let version = match member(root, "version") {
        Some(v) => get_int(v),
        None => {
            warnings.push(format!(
                "lookup table named: '{name}' doesn't specify version (will use default value: 1)"
            ));
            1
        }
    };
    if version != 1 {
        return Err(format!(
            "lookup table named: '{name}' uses unsupported version: {version}"
        ));
    }
    let rows = match member(root, "table") {
        Some(Json::Arr(a)) => a,
        _ => {
            return Err(format!(
                "lookup table named: '{name}' has invalid table definition"
            ))
        }
    };
    let ty = member(root, "type").map_or_else(|| b"string".to_vec(), get_string);
    let ty_text = String::from_utf8_lossy(&ty).into_owned();
    let mut values = Vec::with_capacity(rows.len());
    for r in rows {
        match member(r, "value") {
            Some(v) => values.push(get_string(v)),
            None => {
                return Err(format!(
                    "'{ty_text}' lookup table named: '{name}' has record(s) without 'value' field"
                ))
            }
        }
    }
    let nomatch = member(root, "nomatch").map(get_string);
    let label = match &ty[..] {
        b"array" => "array",
        b"sparseArray" => "sparseArray",
        b"string" => "string",
        _ => {
            return Err(format!(
                "lookup table named: '{name}' uses unupported type: '{ty_text}'"
            ))
        }
    };
    let mut indexes = Vec::with_capacity(rows.len());
    for r in rows {
        match member(r, "index") {
            Some(i) => indexes.push(i),
            None => {
                return Err(format!(
                    "'{label}' lookup table named: '{name}' has record(s) without 'index' field"
                ))
            }
        }
    }
    let kind = match label {
        "string" => {
            let mut e: Vec<(Vec<u8>, Vec<u8>)> =
                indexes.iter().map(|i| get_string(i)).zip(values).collect();
            msort(&mut e, &|a, b| a.0.cmp(&b.0) as i32);
            Kind::Str(e)
        }
        "sparseArray" => {
            let mut e: Vec<(u32, Vec<u8>)> = indexes
                .iter()
                .map(|i| get_int(i) as u32)
                .zip(values)
                .collect();
            msort(&mut e, &|a, b| cmp_u32(a.0, b.0));
            Kind::Sparse(e)
        }
        _ => {
            let mut e: Vec<(u32, Vec<u8>)> = indexes
                .iter()
                .map(|i| get_int(i) as u32)
                .zip(values)
                .collect();
            msort(&mut e, &|a, b| cmp_u32(a.0, b.0));
            let first = e.first().map_or(0, |x| x.0);
            let mut prev = first;
            for x in e.iter().skip(1) {
                prev = prev.wrapping_add(1);
                if x.0 != prev {
                    return Err(format!(
                        "'array' lookup table name: '{name}' has non-contiguous members between index '{}' and '{}'",
                        prev as i32, x.0 as i32
                    ));
                }
            }
            Kind::Array {
                first,
                values: e.into_iter().map(|x| x.1).collect(),
            }
        }
    };
    Ok(Data { nomatch, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> Result<Data, String> {
        let root = crate::json::parse(json.as_bytes()).ok_or("parse")?;
        build("t", &root, &mut Vec::new())
    }

    fn tables(json: &str) -> LookupTables {
        LookupTables {
            tables: vec![Table {
                name: "t".into(),
                file: String::new(),
                reload_on_hup: true,
                data: Some(table(json).unwrap()),
            }],
            warnings: Vec::new(),
        }
    }

    fn get(t: &LookupTables, key: &str) -> String {
        let mut v = Vec::new();
        t.lookup(0, key.as_bytes(), &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn string_table_hits_misses_and_nomatch() {
        let t = tables(
            r#"{"version":1,"nomatch":"nm","table":[{"index":"b","value":"B"},{"index":"a","value":"A"},{"index":1.50,"value":"num"},{"index":"x","value":1.0e3},{"index":"o","value":{"a":"/x"}}]}"#,
        );
        assert!(!t.wants_number(0));
        assert_eq!(get(&t, "a"), "A");
        assert_eq!(get(&t, "b"), "B");
        assert_eq!(get(&t, "1.50"), "num");
        assert_eq!(get(&t, "1.5"), "nm");
        assert_eq!(get(&t, "x"), "1.0e3");
        assert_eq!(get(&t, "o"), r#"{ "a": "\/x" }"#);
        assert_eq!(get(&t, ""), "nm");
        assert_eq!(get(&t, "A"), "nm");
    }

    #[test]
    fn missing_nomatch_is_empty() {
        let t = tables(r#"{"version":1,"table":[{"index":"a","value":"A"}]}"#);
        assert_eq!(get(&t, "zz"), "");
    }

    #[test]
    fn duplicate_string_indexes_follow_the_binary_search() {
        // sorted: "", "1.50", "a", b1, b2, b3, "true", "w", "x", "y", "z": the search hits b3
        let t = tables(
            r#"{"version":1,"table":[{"index":"b","value":"b1"},{"index":"a","value":"a1"},{"index":"b","value":"b2"},{"index":"b","value":"b3"},{"index":1.50,"value":"num"},{"index":true,"value":"bool"},{"index":"","value":"empty"},{"index":"x","value":12},{"index":"y","value":1},{"index":"z","value":2},{"index":"w","value":false}]}"#,
        );
        assert_eq!(get(&t, "b"), "b3");
        assert_eq!(get(&t, "true"), "bool");
        assert_eq!(get(&t, ""), "empty");
        assert_eq!(get(&t, "w"), "false");
        let t = tables(
            r#"{"version":1,"table":[{"index":"b","value":"b1"},{"index":"b","value":"b2"}]}"#,
        );
        assert_eq!(get(&t, "b"), "b2");
    }

    #[test]
    fn array_tables_sort_and_need_contiguous_indexes() {
        let t = tables(
            r#"{"Version":1,"NOMATCH":"nm","Type":"array","table":[{"index":3,"value":"three"},{"Index":2,"VALUE":"two"},{"index":"4x","value":"four"}]}"#,
        );
        assert!(t.wants_number(0));
        for (k, v) in [
            ("1", "nm"),
            ("2", "two"),
            ("3", "three"),
            ("4", "four"),
            ("5", "nm"),
            ("abc", "nm"),
            ("03", "three"),
            ("-1", "nm"),
            ("4294967298", "two"),
            ("3abc", "three"),
            ("", "nm"),
        ] {
            assert_eq!(get(&t, k), v, "key {k}");
        }
        let mut v = Vec::new();
        t.lookup_num(0, 4, &mut v);
        assert_eq!(v, b"four");
        let gap = table(
            r#"{"version":1,"type":"array","table":[{"index":1,"value":"a"},{"index":3,"value":"b"}]}"#,
        );
        assert_eq!(
            gap.unwrap_err(),
            "'array' lookup table name: 't' has non-contiguous members between index '2' and '3'"
        );
        let dup = table(
            r#"{"version":1,"type":"array","table":[{"index":1,"value":"a"},{"index":1,"value":"b"}]}"#,
        );
        assert!(dup.unwrap_err().contains("between index '2' and '1'"));
        // an array of -1 (4294967295) and 0 wraps around and is "contiguous"
        let t = tables(
            r#"{"version":1,"type":"array","table":[{"index":-1,"value":"m"},{"index":0,"value":"z"}]}"#,
        );
        assert_eq!(get(&t, "-1"), "m");
        assert_eq!(get(&t, "0"), "");
    }

    #[test]
    fn sparse_tables_take_the_greatest_index_not_above_the_key() {
        let t = tables(
            r#"{"version":1,"type":"sparseArray","table":[{"index":10,"value":"ten"},{"index":5,"value":"five"},{"index":20,"value":"t1"},{"index":20,"value":"t2"},{"index":20,"value":"t3"},{"index":1e10,"value":"big"},{"index":-1,"value":"neg"}]}"#,
        );
        for (k, v) in [
            ("0", ""),
            ("4", ""),
            ("5", "five"),
            ("7", "five"),
            ("10", "ten"),
            ("15", "ten"),
            ("20", "t2"),
            ("25", "t3"),
            ("2147483647", "t3"),
            ("2147483648", "big"),
            ("4294967295", ""),
            ("-1", ""),
            ("abc", ""),
            ("", ""),
        ] {
            assert_eq!(get(&t, k), v, "key {k}");
        }
    }

    #[test]
    fn bad_files_are_errors() {
        let e = |j: &str| table(j).unwrap_err();
        assert_eq!(
            e(r#"{"version":2,"table":[]}"#),
            "lookup table named: 't' uses unsupported version: 2"
        );
        assert_eq!(
            e(r#"{"version":1}"#),
            "lookup table named: 't' has invalid table definition"
        );
        assert_eq!(
            e(r#"{"version":1,"table":{}}"#),
            "lookup table named: 't' has invalid table definition"
        );
        assert_eq!(
            e(r#"{"version":1,"type":"hash","table":[]}"#),
            "lookup table named: 't' uses unupported type: 'hash'"
        );
        assert_eq!(
            e(r#"{"version":1,"type":"Array","table":[]}"#),
            "lookup table named: 't' uses unupported type: 'Array'"
        );
        assert_eq!(
            e(r#"{"version":1,"type":"hash","table":[{"index":1}]}"#),
            "'hash' lookup table named: 't' has record(s) without 'value' field"
        );
        assert_eq!(
            e(r#"{"version":1,"type":"sparseArray","table":[{"value":1}]}"#),
            "'sparseArray' lookup table named: 't' has record(s) without 'index' field"
        );
        assert_eq!(
            e(r#"{"version":1,"table":[{"index":null,"value":1}]}"#),
            "'string' lookup table named: 't' has record(s) without 'index' field"
        );
        let mut w = Vec::new();
        let root = crate::json::parse(br#"{"table":[]} trailing"#).unwrap();
        assert!(build("t", &root, &mut w).is_ok());
        assert_eq!(w.len(), 1, "a missing version is a warning");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.json");
        std::fs::write(&f, "{\"version\":1,").unwrap();
        let err = read_file("t", f.to_str().unwrap(), &mut w).unwrap_err();
        assert!(
            err.contains("json parsing error") && err.contains("t.json"),
            "{err}"
        );
        let err = read_file("t", "/nonexistent/x.json", &mut w).unwrap_err();
        assert!(err.contains("could not be opened") && err.contains("/nonexistent/x.json"));
    }

    fn config_with(dir: &std::path::Path, json: &str, extra: &str) -> (Config, std::path::PathBuf) {
        let f = dir.join("t.json");
        std::fs::write(&f, json).unwrap();
        let text = format!(
            "lookup_table(name=\"t\" file=\"{}\"{extra})\nlookup_table(name=\"u\" file=\"{}\" reloadOnHUP=\"off\")\naction(type=\"omfile\" file=\"/dev/null\")\n",
            f.display(),
            f.display()
        );
        let l = crate::config::load_text("x.conf", &text);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
        (l.config, f)
    }

    #[test]
    fn load_reload_stub_and_hup() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, f) = config_with(
            dir.path(),
            r#"{"version":1,"table":[{"index":"a","value":"A1"}]}"#,
            "",
        );
        let mut t = LookupTables::load(&cfg).unwrap();
        let (i, u) = (t.index("t").unwrap(), t.index("u").unwrap());
        assert_eq!(t.index("T"), None);
        assert_eq!(get(&t, "a"), "A1");
        std::fs::write(&f, r#"{"version":1,"table":[{"index":"a","value":"A2"}]}"#).unwrap();
        assert!(t.hup().is_empty());
        let mut v = Vec::new();
        t.lookup(i, b"a", &mut v);
        t.lookup(u, b"a", &mut v);
        assert_eq!(v, b"A2A1", "reloadOnHUP=off keeps the old table");
        // a bad file: the old table stays
        std::fs::write(&f, "{").unwrap();
        let errs = t.hup();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("could not be reloaded"), "{}", errs[0]);
        assert_eq!(get(&t, "a"), "A2");
        // with a stub value the table answers everything with the stub
        assert!(t.reload_with_stub(i, Some(b"STUB")).is_err());
        assert_eq!(get(&t, "a"), "STUB");
        assert_eq!(get(&t, "zzz"), "STUB");
        let e = t.reload_with_stub(i, Some(b"STUB")).unwrap_err();
        assert!(e.contains("already stubbed"), "{e}");
        std::fs::write(&f, r#"{"version":1,"table":[{"index":"a","value":"A3"}]}"#).unwrap();
        t.reload(i).unwrap();
        assert_eq!(get(&t, "a"), "A3");
        assert_eq!(get(&t, "zzz"), "");
    }

    #[test]
    fn a_bad_table_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, f) = config_with(dir.path(), r#"{"version":2,"table":[]}"#, "");
        let e = LookupTables::load(&cfg).unwrap_err();
        assert!(
            e.contains("t.json") && e.contains("unsupported version: 2"),
            "{e}"
        );
        let (mut t, errs) = LookupTables::load_like_rsyslogd(&cfg);
        assert_eq!(errs.len(), 2);
        assert_eq!(get(&t, "a"), "");
        // rsyslogd segfaults here; we stub
        assert!(t.reload_with_stub(0, Some(b"S\0cut")).is_err());
        assert_eq!(get(&t, "a"), "S");
        std::fs::write(&f, r#"{"version":1,"table":[{"index":"a","value":"A"}]}"#).unwrap();
        assert!(t.hup().is_empty());
        assert_eq!(get(&t, "a"), "A");
    }

    #[test]
    fn helpers() {
        assert_eq!(str2num(b"-12x"), -12);
        assert_eq!(str2num(b" 1"), 0);
        assert_eq!(strtoll(b"  +7z"), Some(7));
        assert_eq!(strtoll(b"x"), None);
        assert_eq!(strtoll(b"99999999999999999999"), Some(i64::MAX));
        assert_eq!(get_int(&Json::Double(1.9, None)), 1);
        assert_eq!(get_int(&Json::Double(-3e9, None)), i32::MIN);
        assert_eq!(get_int(&Json::Int(1 << 40)), i32::MAX);
        assert_eq!(cmp_u32(u32::MAX, 5), -6);
        let mut v = vec![3, 1, 2, 1];
        msort(&mut v, &|a: &i32, b: &i32| a - b);
        assert_eq!(v, [1, 1, 2, 3]);
    }
}
