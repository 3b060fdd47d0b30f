//! Permitted-peer matching as rsyslog's net.c does it: a plain entry must equal the name
//! exactly (case-sensitive); an entry with `*` is compared domain component by component,
//! where a component may be `*` (anything), `*suffix`, `prefix*`, or literal, and the number
//! of components must agree (`*.example.net` matches `host.example.net`, not
//! `a.host.example.net`). Fingerprints (`SHA1:…`, `SHA256:…`) compare case-insensitively.

/// Whether `name` matches the permitted-peer entry `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let mut pats: Vec<&str> = pattern.split('.').collect();
    // "a.b." has an empty last component (net.c `PermittedPeerWildcardCompile`)
    if pattern.ends_with('.') {
        pats.pop();
        pats.push("");
    }
    let mut comps: Vec<&str> = name.split('.').collect();
    if name.ends_with('.') {
        // net.c skips the final '.', so "host." has one component
        comps.pop();
    }
    if name.is_empty() {
        comps.clear();
    }
    if pats.len() != comps.len() {
        return false;
    }
    pats.iter().zip(&comps).all(|(p, c)| component(p, c))
}

fn component(p: &str, c: &str) -> bool {
    if p.is_empty() {
        return c.is_empty();
    }
    if p == "*" {
        return true;
    }
    match (p.strip_prefix('*'), p.strip_suffix('*')) {
        (Some(suffix), _) if !suffix.contains('*') => c.ends_with(suffix),
        (None, Some(prefix)) if !prefix.contains('*') => c.starts_with(prefix),
        (None, None) => p == c,
        // an asterisk in the middle or at both ends: an invalid wildcard, never matches
        _ => false,
    }
}

/// Whether a permitted-peer entry is a valid wildcard (rsyslog reports others at start).
pub fn valid(pattern: &str) -> bool {
    pattern.split('.').all(|p| {
        let inner = p.strip_prefix('*').unwrap_or(p);
        let inner = if p.starts_with('*') {
            inner
        } else {
            inner.strip_suffix('*').unwrap_or(inner)
        };
        !inner.contains('*')
    })
}

/// Whether one of the fingerprints is in the list (case-insensitively, as printed by
/// rsyslog).
pub fn fingerprint_permitted(peers: &[String], sha1: &str, sha256: &str) -> bool {
    peers
        .iter()
        .any(|p| p.eq_ignore_ascii_case(sha1) || p.eq_ignore_ascii_case(sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_as_net_c() {
        assert!(matches("host.example.net", "host.example.net"));
        assert!(!matches("host.example.net", "Host.example.net"));
        assert!(matches("*.example.net", "host.example.net"));
        assert!(!matches("*.example.net", "a.host.example.net"));
        assert!(!matches("*.example.net", "example.net"));
        assert!(matches("*st.example.net", "host.example.net"));
        assert!(!matches("*xt.example.net", "host.example.net"));
        assert!(matches("ho*.example.net", "host.example.net"));
        assert!(!matches("hx*.example.net", "host.example.net"));
        assert!(matches("*.*.net", "a.b.net"));
        // net.c skips a name's final '.', the pattern keeps an empty last component
        assert!(!matches("*.example.", "a.example."));
        assert!(!matches("*.example.", "a.example"));
        assert!(!matches("h*t.example.net", "host.example.net"));
        assert!(valid("*.example.net") && valid("ho*.x") && !valid("h*t.x") && !valid("*h*.x"));
    }

    #[test]
    fn fingerprints_case_insensitive() {
        let p = vec!["sha1:aa:bb".to_string()];
        assert!(fingerprint_permitted(&p, "SHA1:AA:BB", "SHA256:CC"));
        assert!(!fingerprint_permitted(&p, "SHA1:AA:BC", "SHA256:AA:BB"));
        let p = vec!["SHA256:CC".to_string()];
        assert!(fingerprint_permitted(&p, "SHA1:AA:BB", "SHA256:cc"));
    }
}
