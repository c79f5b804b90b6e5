//! Small helpers shared by the translation modules: a borrowing string type, a cheap
//! deterministic hash for generated ids, and an incremental JSON nesting scanner.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// A string that borrows from the input buffer when the JSON text has no escapes.
///
/// `Cow<str>` only borrows as a direct `#[serde(borrow)]` field; inside `Option` or `Vec` it
/// always allocates. This wrapper borrows wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'a> Str<'a> {
    /// The string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Str<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// 64-bit FNV-1a, used to derive stable opaque ids and signatures: plugins have no clock or
/// randomness, and a content hash keeps generated values distinct across messages.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    /// Mixes `bytes` into the hash.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The current hash value.
    pub fn finish(&self) -> u64 {
        self.0
    }

    /// Hash of one byte string.
    pub fn hash(bytes: &[u8]) -> u64 {
        let mut h = Fnv::default();
        h.write(bytes);
        h.finish()
    }
}

/// The opaque signature attached to thinking blocks this plugin produces. Anthropic clients
/// require one; OpenAI-compatible upstreams have none, and the request side ignores it.
pub fn thinking_signature(hash: u64) -> String {
    format!("ccr-openai-{hash:016x}")
}

/// Tracks the bracket nesting of a JSON text fed in fragments, to tell when a streamed tool
/// argument object is complete and to close a truncated one.
#[derive(Debug, Clone, Default)]
pub struct JsonScan {
    stack: Vec<u8>,
    in_string: bool,
    escape: bool,
    started: bool,
}

impl JsonScan {
    /// Feeds the next fragment.
    pub fn feed(&mut self, s: &str) {
        for b in s.bytes() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' => {
                    self.started = true;
                    self.stack.push(b'}');
                }
                b'[' => {
                    self.started = true;
                    self.stack.push(b']');
                }
                b'}' | b']' => {
                    self.stack.pop();
                }
                _ => {}
            }
        }
    }

    /// True once a top-level object or array has been opened and closed again.
    pub fn complete(&self) -> bool {
        self.started && self.stack.is_empty() && !self.in_string
    }

    /// The text that would close everything still open (used to repair truncated output).
    pub fn closing(&self) -> String {
        let mut out = String::with_capacity(self.stack.len() + 2);
        if self.in_string {
            if self.escape {
                out.push('\\');
            }
            out.push('"');
        }
        out.extend(self.stack.iter().rev().map(|&b| b as char));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_borrows_without_escapes() {
        let s: Vec<Str> = serde_json::from_str(r#"["plain","with\nescape"]"#).unwrap();
        assert!(matches!(s[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&s[1].0, Cow::Owned(o) if o == "with\nescape"));
        let o: Option<Str> = serde_json::from_str(r#""x""#).unwrap();
        assert!(matches!(o, Some(Str(Cow::Borrowed("x")))));
    }

    #[test]
    fn scan_tracks_completion_across_fragments() {
        let mut s = JsonScan::default();
        assert!(!s.complete());
        s.feed(r#"{"a": "}{\""#);
        assert!(!s.complete());
        assert_eq!(s.closing(), "\"}");
        s.feed(r#"", "b": [1, {"c": 2"#);
        assert_eq!(s.closing(), "}]}");
        s.feed("}]}");
        assert!(s.complete());
    }

    #[test]
    fn scan_closes_dangling_escape() {
        let mut s = JsonScan::default();
        s.feed(r#"{"a": "x\"#);
        assert_eq!(s.closing(), "\\\"}");
        let repaired = format!(r#"{{"a": "x\{}"#, s.closing());
        assert!(serde_json::from_str::<serde_json::Value>(&repaired).is_ok());
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(Fnv::hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(Fnv::hash(b"a"), Fnv::hash(b"b"));
    }
}
