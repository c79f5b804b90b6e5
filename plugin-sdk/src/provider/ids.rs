//! Stable generated ids and signatures. Plugins have no clock or randomness, so ids the
//! upstream did not send are derived from a content hash ([`Fnv`]), which keeps them distinct
//! across messages and the same across retries of one answer.

/// 64-bit FNV-1a: cheap, deterministic, and the same natively and in WebAssembly.
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

/// The Anthropic message id for an upstream id: kept when it already starts with `msg_`,
/// prefixed otherwise, derived from `fallback_hash` when missing.
pub fn message_id(upstream: Option<&str>, fallback_hash: u64) -> String {
    match upstream {
        Some(id) if id.starts_with("msg_") => id.to_owned(),
        Some(id) if !id.is_empty() => format!("msg_{id}"),
        _ => format!("msg_{fallback_hash:016x}"),
    }
}

/// A `tool_use` id for the `index`-th upstream call that came without one.
pub fn generated_tool_id(hash: u64, index: usize) -> String {
    format!("toolu_{hash:016x}{index:02}")
}

/// The opaque signature of a thinking block whose upstream has none: `{prefix}-{hash}`.
/// Anthropic clients require one; the provider's request side ignores it when it comes back.
pub fn thinking_signature(prefix: &str, hash: u64) -> String {
    format!("{prefix}-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(Fnv::hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(Fnv::hash(b"a"), Fnv::hash(b"b"));
        let mut h = Fnv::default();
        h.write(b"ab");
        let mut split = Fnv::default();
        split.write(b"a");
        split.write(b"b");
        assert_eq!(h.finish(), split.finish());
    }

    #[test]
    fn ids_and_signatures() {
        assert_eq!(message_id(Some("msg_1"), 0), "msg_1");
        assert_eq!(message_id(Some("chatcmpl-1"), 0), "msg_chatcmpl-1");
        assert_eq!(message_id(None, 0xab), "msg_00000000000000ab");
        assert_eq!(message_id(Some(""), 1), "msg_0000000000000001");
        assert_eq!(generated_tool_id(0xff, 3), "toolu_00000000000000ff03");
        assert_eq!(
            thinking_signature("ccr-openai", 0x10),
            "ccr-openai-0000000000000010"
        );
    }
}
