//! Cheap edits of a JSON object's top-level fields without parsing what is below them.
//!
//! A Claude Code request is 20-300 KB of tools, system prompt and history; a transformer
//! that only changes `max_tokens` or `temperature` should not pay for decoding all of it.
//! [`TopLevel`] keeps every value as raw JSON text (validated, not decoded) in the original
//! key order, so a round trip is byte-for-byte except for the fields you change.
//!
//! ```
//! use ccr_plugin_sdk::json::TopLevel;
//! let mut req = TopLevel::parse(br#"{"model":"m","max_tokens":32000,"messages":[]}"#).unwrap();
//! assert_eq!(req.get_u64("max_tokens"), Some(32000));
//! req.set("max_tokens", &8192).unwrap();
//! assert_eq!(req.to_vec(), br#"{"model":"m","max_tokens":8192,"messages":[]}"#);
//! ```

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::PluginError;

/// A JSON object whose fields are kept as raw JSON, in order.
#[derive(Debug, Clone)]
pub struct TopLevel {
    fields: Vec<(String, Box<RawValue>)>,
}

impl TopLevel {
    /// Split `body` (a JSON object) into its top-level fields. A body that is not a JSON
    /// object is an [`PluginError::InvalidRequest`].
    pub fn parse(body: &[u8]) -> Result<Self, PluginError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let fields = de
            .deserialize_map(FieldsVisitor)
            .and_then(|f| de.end().map(|_| f))
            .map_err(|e| {
                PluginError::InvalidRequest(format!("request is not a JSON object: {e}"))
            })?;
        Ok(Self { fields })
    }

    /// The raw JSON text of `key`, if present.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.get())
    }

    /// `key` as an unsigned integer, if it is one.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.raw(key).and_then(|r| r.trim().parse().ok())
    }

    /// `key` decoded into `T`, if present and of that shape.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.raw(key).and_then(|r| serde_json::from_str(r).ok())
    }

    /// Set `key` to `value` (replacing it in place, or appending it).
    pub fn set(&mut self, key: &str, value: &impl Serialize) -> Result<(), PluginError> {
        let raw = serde_json::value::to_raw_value(value)
            .map_err(|e| PluginError::Internal(format!("cannot encode `{key}`: {e}")))?;
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = raw,
            None => self.fields.push((key.to_string(), raw)),
        }
        Ok(())
    }

    /// Remove `key`; true if it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|(k, _)| k != key);
        self.fields.len() != before
    }

    /// The object as compact JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let len = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum::<usize>();
        let mut out = Vec::with_capacity(len + 2);
        out.push(b'{');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Keys came from a JSON document, so re-encoding them cannot fail.
            serde_json::to_writer(&mut out, k).expect("a string key encodes");
            out.push(b':');
            out.extend_from_slice(v.get().as_bytes());
        }
        out.push(b'}');
        out
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(String, Box<RawValue>)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
            fields.push((k, v));
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_order_and_untouched_bytes() {
        let body = br#"{"z":1,"a":{"nested": [1, 2]},"model":"m"}"#;
        let t = TopLevel::parse(body).unwrap();
        assert_eq!(t.to_vec(), br#"{"z":1,"a":{"nested": [1, 2]},"model":"m"}"#);
    }

    #[test]
    fn set_get_remove() {
        let mut t = TopLevel::parse(br#"{"max_tokens":5,"x":"y"}"#).unwrap();
        assert_eq!(t.get_u64("max_tokens"), Some(5));
        assert_eq!(t.get::<String>("x").as_deref(), Some("y"));
        t.set("max_tokens", &9).unwrap();
        t.set("temperature", &0.5).unwrap();
        assert!(t.remove("x"));
        assert_eq!(t.to_vec(), br#"{"max_tokens":9,"temperature":0.5}"#);
    }

    #[test]
    fn non_objects_are_invalid_requests() {
        for bad in [&b"[]"[..], b"nope", b"{\"a\":1} trailing", b""] {
            assert!(matches!(
                TopLevel::parse(bad),
                Err(PluginError::InvalidRequest(_))
            ));
        }
    }
}
