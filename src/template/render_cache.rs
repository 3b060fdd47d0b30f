//! Renderings of the message the rules thread is working on, so that several actions that
//! write the same message with the same template render it once (the 50-rule benchmark
//! writes each message 2.8 times, all with one template). Only the rules thread's
//! [`RenderEnv`](super::RenderEnv) has it switched on; it starts each message with
//! [`RenderCache::next_message`], and only templates whose output depends on nothing but
//! the message (no variables, no per-call values) are kept.

/// At most this many templates are kept per message (a config with more writes the rest
/// uncached).
const SLOTS: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct RenderCache {
    on: bool,
    /// The templates rendered for the current message: (template address, bytes); the
    /// first `used` are valid, the rest are buffers kept for reuse.
    entries: Vec<(usize, Vec<u8>)>,
    used: usize,
}

impl RenderCache {
    /// Switches the cache on (the rules thread, which calls `next_message`).
    pub fn enable(&mut self) {
        self.on = true;
    }

    /// A new message: what was kept belongs to the previous one.
    #[inline]
    pub fn next_message(&mut self) {
        self.used = 0;
    }

    /// The kept rendering of template `key` for the current message.
    #[inline]
    pub fn get(&self, key: usize) -> Option<&[u8]> {
        if !self.on {
            return None;
        }
        self.entries[..self.used]
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| b.as_slice())
    }

    /// Whether a rendering would be kept now.
    #[inline]
    pub fn wants(&self) -> bool {
        self.on && self.used < SLOTS
    }

    /// Keeps `bytes` as the rendering of template `key` for the current message.
    pub fn put(&mut self, key: usize, bytes: &[u8]) {
        if !self.wants() {
            return;
        }
        if self.used == self.entries.len() {
            self.entries.push((key, Vec::with_capacity(bytes.len())));
        }
        let e = &mut self.entries[self.used];
        e.0 = key;
        e.1.clear();
        e.1.extend_from_slice(bytes);
        self.used += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_per_message_and_only_when_on() {
        let mut c = RenderCache::default();
        c.put(1, b"x");
        assert_eq!(c.get(1), None, "off: nothing kept");
        c.enable();
        c.put(1, b"one");
        c.put(2, b"two");
        assert_eq!(c.get(1), Some(&b"one"[..]));
        assert_eq!(c.get(2), Some(&b"two"[..]));
        assert_eq!(c.get(3), None);
        c.next_message();
        assert_eq!(c.get(1), None, "a new message forgets the old renderings");
        c.put(2, b"2");
        assert_eq!(c.get(2), Some(&b"2"[..]));
        for k in 10..20 {
            c.put(k, b"k");
        }
        assert!(c.get(10).is_some() && c.get(12).is_some());
        assert_eq!(c.get(13), None, "at most {SLOTS} templates per message");
    }
}
