//! The input tokens each session's previous answer reported, for the `longContext` rule.

use std::num::NonZeroUsize;

use lru::LruCache;
use parking_lot::Mutex;

/// A bounded, thread-safe map from Claude Code session id to the `input_tokens` the last
/// answer in that session reported. CCR fills it from the final `message_delta` usage of a
/// stream (or `usage` of a JSON answer) and keeps 100 sessions; we keep
/// [`SessionUsage::DEFAULT_CAPACITY`] by default. The least recently used session is
/// forgotten first.
#[derive(Debug)]
pub struct SessionUsage {
    inner: Mutex<LruCache<String, u32>>,
}

impl SessionUsage {
    /// Sessions remembered by [`SessionUsage::default`].
    pub const DEFAULT_CAPACITY: usize = 1000;

    /// Remembers up to `capacity` sessions (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        SessionUsage {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    /// Records the input tokens an answer in `session` reported.
    pub fn record(&self, session: &str, input_tokens: u32) {
        let mut map = self.inner.lock();
        if let Some(v) = map.get_mut(session) {
            *v = input_tokens;
        } else {
            map.put(session.to_owned(), input_tokens);
        }
    }

    /// The input tokens last recorded for `session`, if it is remembered.
    pub fn get(&self, session: &str) -> Option<u32> {
        self.inner.lock().get(session).copied()
    }

    /// Number of sessions remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// True if no session is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SessionUsage {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_updates_and_evicts_least_recent() {
        let s = SessionUsage::new(2);
        assert!(s.is_empty());
        assert_eq!(s.get("a"), None);
        s.record("a", 10);
        s.record("b", 20);
        s.record("a", 11);
        assert_eq!(s.get("a"), Some(11));
        assert_eq!(s.len(), 2);
        // "b" is now the least recently used.
        s.record("c", 30);
        assert_eq!(s.get("b"), None);
        assert_eq!(s.get("a"), Some(11));
        assert_eq!(s.get("c"), Some(30));
        assert_eq!(SessionUsage::new(0).len(), 0);
        assert_eq!(SessionUsage::default().len(), 0);
    }

    #[test]
    fn shared_between_threads() {
        let s = SessionUsage::default();
        std::thread::scope(|sc| {
            for t in 0..4u32 {
                let s = &s;
                sc.spawn(move || {
                    for i in 0..500u32 {
                        s.record(&format!("{t}-{i}"), i);
                    }
                });
            }
        });
        assert_eq!(s.len(), 1000);
    }
}
