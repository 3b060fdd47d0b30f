//! Message (`$!`), local (`$.`) and global (`$/`) variables with rsyslog 8.2302's semantics
//! (msg.c: `msgAddJSON`, `msgDelJSON`, `jsonFind`, `getJSONPropVal`). A variable name keeps
//! its root character (`!a!b`, `.x`, `/g`); path members are separated by `!`; the leaf may
//! carry an array index (`!a[2]`). Message and local variables live for one message; global
//! ones for the daemon's life (one rules thread owns them, so no lock is needed).

use crate::json::{Json, Obj};

/// Which tree a variable lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Msg,
    Local,
    Global,
}

/// A parsed variable name.
#[derive(Debug, Clone, PartialEq)]
pub struct VarRef {
    pub root: Root,
    /// Path members before the leaf (empty members dropped, as rsyslog's walk does).
    pub parents: Vec<Vec<u8>>,
    /// The leaf; `None` names the whole tree (`$!`, `$.`, `$/`).
    pub leaf: Option<Vec<u8>>,
}

impl VarRef {
    /// Parses a name as the config loader keeps it (`!a!b`, `.x`, `/g`, also with a `$`).
    pub fn parse(name: &str) -> Option<VarRef> {
        let n = name.strip_prefix('$').unwrap_or(name).as_bytes();
        let root = match n.first()? {
            b'!' => Root::Msg,
            b'.' => Root::Local,
            b'/' => Root::Global,
            _ => return None,
        };
        let rest = &n[1..];
        if rest.is_empty() {
            return Some(VarRef {
                root,
                parents: Vec::new(),
                leaf: None,
            });
        }
        // jsonPathGetLeaf: after the last '!' (the root character itself does not count)
        let (path, leaf) = match rest.iter().rposition(|&c| c == b'!') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&rest[..0], rest),
        };
        Some(VarRef {
            root,
            parents: path
                .split(|&c| c == b'!')
                .filter(|s| !s.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            leaf: Some(leaf.to_vec()),
        })
    }
}

/// The variable trees of the message being processed, and the global tree.
#[derive(Debug, Default)]
pub struct Vars {
    pub msg: Option<Json>,
    pub local: Option<Json>,
    pub global: Option<Json>,
}

impl Vars {
    /// Starts a new message: its own variables (from the input, if any), no local ones.
    pub fn begin_message(&mut self, msg: Option<&Json>) {
        self.msg = msg.cloned();
        self.local = None;
    }

    pub fn tree(&self, r: Root) -> Option<&Json> {
        match r {
            Root::Msg => self.msg.as_ref(),
            Root::Local => self.local.as_ref(),
            Root::Global => self.global.as_ref(),
        }
    }

    fn tree_mut(&mut self, r: Root) -> &mut Option<Json> {
        match r {
            Root::Msg => &mut self.msg,
            Root::Local => &mut self.local,
            Root::Global => &mut self.global,
        }
    }

    /// The value a variable names (`jsonFind`); `Json::Null` members count as absent.
    pub fn get(&self, v: &VarRef) -> Option<&Json> {
        let mut cur = self.tree(v.root)?;
        let Some(leaf) = &v.leaf else {
            return Some(cur);
        };
        for p in &v.parents {
            cur = cur.member(p)?;
        }
        match cur.member(leaf)? {
            Json::Null => None,
            j => Some(j),
        }
    }

    /// `exists()`.
    pub fn exists(&self, v: &VarRef) -> bool {
        self.get(v).is_some()
    }

    /// Renders a variable as a template property does (`getJSONPropVal`).
    pub fn render(&self, v: &VarRef, out: &mut Vec<u8>) {
        if let Some(j) = self.get(v) {
            j.write_string_value(out);
        }
    }

    /// `set` (`reset` when `force`): rsyslog's `msgAddJSON`. Returns false where rsyslog
    /// refuses the operation (a path through a non-object, a container replaced by a leaf).
    pub fn set(&mut self, v: &VarRef, value: Json, force: bool) -> bool {
        let tree = self.tree_mut(v.root);
        let Some(leaf) = &v.leaf else {
            match tree {
                None => *tree = Some(value),
                Some(root) => return merge(root, value),
            }
            return true;
        };
        let root = tree.get_or_insert_with(|| Json::Obj(Obj::new()));
        {
            let Some(parent) = walk(root, &v.parents, true) else {
                return false;
            };
            let Json::Obj(o) = parent else {
                return false;
            };
            let leafnode = Json::member_of(o, leaf);
            let exists = !matches!(leafnode, None | Some(Json::Null));
            if force || !exists {
                o.insert(leaf, value);
                return true;
            }
            if !matches!(value, Json::Obj(_)) {
                if matches!(leafnode, Some(Json::Obj(_))) {
                    return false; // a container may not be replaced by a leaf
                }
                o.insert(leaf, value);
                return true;
            }
        }
        // an object given to an existing member is merged into the *root* (8.2302's
        // `jsonMerge(*jroot, json)`)
        merge(root, value)
    }

    /// `unset`: rsyslog's `msgDelJSON`.
    pub fn unset(&mut self, v: &VarRef) {
        let tree = self.tree_mut(v.root);
        let Some(leaf) = &v.leaf else {
            *tree = None;
            return;
        };
        let Some(root) = tree.as_mut() else { return };
        let Some(parent) = walk(root, &v.parents, false) else {
            return;
        };
        if matches!(parent.member(leaf), None | Some(Json::Null)) {
            return;
        }
        if let Json::Obj(o) = parent {
            o.remove(leaf);
        }
    }
}

/// `jsonMerge`: every member of `value` (an object) added to `into`.
fn merge(into: &mut Json, value: Json) -> bool {
    match (into, value) {
        (Json::Obj(dst), Json::Obj(src)) => {
            for (k, v) in src.iter() {
                dst.insert(k, v.clone());
            }
            true
        }
        _ => false,
    }
}

/// `jsonPathFindParent`: follows `parents` from `root`; with `create`, missing members of
/// objects are created as empty objects. A member that exists is followed whatever its type.
fn walk<'a>(root: &'a mut Json, parents: &[Vec<u8>], create: bool) -> Option<&'a mut Json> {
    let mut cur = root;
    for p in parents {
        let found = cur.member(p).is_some();
        if !found {
            if !create {
                return None;
            }
            let Json::Obj(o) = cur else { return None };
            o.insert(p, Json::Obj(Obj::new()));
        }
        cur = member_mut(cur, p)?;
    }
    Some(cur)
}

/// Mutable twin of `Json::member` (same `name[N]` rule).
fn member_mut<'a>(j: &'a mut Json, key: &[u8]) -> Option<&'a mut Json> {
    let Json::Obj(o) = j else { return None };
    if let Some((name, idx)) = crate::json::split_index(key) {
        if o.get(name).is_some() {
            return match o.get_mut(name)? {
                Json::Arr(a) => a.get_mut(idx),
                _ => None,
            };
        }
    }
    o.get_mut(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Vars, r: Root) -> String {
        let mut o = Vec::new();
        if let Some(j) = v.tree(r) {
            j.write(true, &mut o);
        }
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn set_semantics_of_8_2302() {
        let mut v = Vars::default();
        let r = |s: &str| VarRef::parse(s).unwrap();
        assert!(v.set(&r("!a"), Json::Int(1), false));
        assert!(
            !v.set(&r("!a!deep"), Json::Int(1), false),
            "path through a number"
        );
        assert!(v.set(&r("!obj!x"), Json::Str(b"1".to_vec()), false));
        let mut o = Obj::new();
        o.insert(b"E", Json::Bool(true));
        assert!(v.set(&r("!obj"), Json::Obj(o), false));
        assert_eq!(
            text(&v, Root::Msg),
            r#"{ "a": 1, "obj": { "x": "1" }, "E": true }"#,
            "an object given to an existing member merges into the root"
        );
        assert!(
            !v.set(&r("!obj"), Json::Int(3), false),
            "container replaced by a leaf"
        );
        assert!(v.set(&r("!obj"), Json::Int(3), true), "reset may");
        v.unset(&r("!a"));
        assert!(!v.exists(&r("!a")) && v.exists(&r("!OBJ")));
        assert_eq!(
            VarRef::parse(".a.b").unwrap().leaf.as_deref(),
            Some(&b"a.b"[..])
        );
    }
}
