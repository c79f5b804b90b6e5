//! A JSON tree that borrows from the bytes it was parsed from and keeps object keys in
//! document order.
//!
//! Every request body is parsed once and read a few times (validation, routing facts,
//! token counting). An owned `serde_json::Value` allocates every string and key and builds
//! a sorted map per object; [`Json`] borrows each string that has no escape sequence
//! straight from the body and stores an object as a `Vec` of its entries, which makes
//! parsing and walking the tree several times cheaper. Document order also makes
//! `JSON.stringify`-style output (see [`crate::tokens`]) follow the client's key order, as
//! JavaScript does.
//!
//! Parsing goes through serde_json's own deserializer, so syntax errors, UTF-8 checks and
//! the nesting limit (128) are exactly serde_json's.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Number, Value};

/// A parsed JSON value borrowing its strings from the source where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it (so it prints back exactly as `Value` would).
    Number(Number),
    /// A string: borrowed from the source, or owned when it had escape sequences (or was
    /// changed).
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object's entries in document order. A repeated key appears once per occurrence;
    /// [`Json::get`] sees the last one, like serde_json and JavaScript.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses `bytes` (one JSON value, surrounding whitespace allowed), borrowing from them.
    pub fn parse(bytes: &'a [u8]) -> Result<Json<'a>, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The value of `key` if this is an object that has it (the last occurrence if the key
    /// is repeated, as with `serde_json::Value`).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        let Json::Object(entries) = self else {
            return None;
        };
        entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// Mutable access to the value [`Json::get`] would return.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        let Json::Object(entries) = self else {
            return None;
        };
        entries
            .iter_mut()
            .rev()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The entries in document order (repeated keys included), if this is an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Json<'a>)]> {
        match self {
            Json::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// Whether this is a boolean.
    pub fn is_boolean(&self) -> bool {
        matches!(self, Json::Bool(_))
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Json::Number(_))
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Json::Str(_))
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// The JSON type for error messages (`a number`, `an array`...), without the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => type_names::NULL,
            Json::Bool(_) => type_names::BOOL,
            Json::Number(_) => type_names::NUMBER,
            Json::Str(_) => type_names::STRING,
            Json::Array(_) => type_names::ARRAY,
            Json::Object(_) => type_names::OBJECT,
        }
    }
}

/// The type name of a `serde_json::Value` in the same words as [`Json::type_name`] (for
/// configuration errors, which are about owned values).
pub fn value_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => type_names::NULL,
        Value::Bool(_) => type_names::BOOL,
        Value::Number(_) => type_names::NUMBER,
        Value::String(_) => type_names::STRING,
        Value::Array(_) => type_names::ARRAY,
        Value::Object(_) => type_names::OBJECT,
    }
}

/// The words naming each JSON type in error messages, in one place for both trees.
mod type_names {
    pub const NULL: &str = "null";
    pub const BOOL: &str = "a boolean";
    pub const NUMBER: &str = "a number";
    pub const STRING: &str = "a string";
    pub const ARRAY: &str = "an array";
    pub const OBJECT: &str = "an object";
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any` is where serde_json counts nesting depth, so the limit holds.
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Json<'de>, E> {
        // Like `Value`: a non-finite float (never produced by the parser) becomes null.
        Ok(Number::from_f64(f).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(Key(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(Json::Object(entries))
    }
}

/// An object key, borrowed when it has no escapes (`Cow`'s own `Deserialize` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl Serialize for Json<'_> {
    /// Entries are written in their order, repeated keys included.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::Str(s) => serializer.serialize_str(s),
            Json::Array(items) => serializer.collect_seq(items),
            Json::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_keys_and_keeps_order() {
        let src = br#"{"z": "plain", "a": "esc\naped", "m": [1, -2, 2.5, true, null]}"#;
        let j = Json::parse(src).unwrap();
        let entries = j.as_object().unwrap();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert!(entries.iter().all(|(k, _)| matches!(k, Cow::Borrowed(_))));
        assert!(matches!(
            j.get("z"),
            Some(Json::Str(Cow::Borrowed("plain")))
        ));
        assert!(matches!(j.get("a"), Some(Json::Str(Cow::Owned(s))) if s == "esc\naped"));
        assert_eq!(
            serde_json::to_string(&j).unwrap(),
            r#"{"z":"plain","a":"esc\naped","m":[1,-2,2.5,true,null]}"#
        );
    }

    #[test]
    fn repeated_keys_read_like_serde_json() {
        let src = br#"{"k": 1, "other": 2, "k": "last"}"#;
        let j = Json::parse(src).unwrap();
        let v: Value = serde_json::from_slice(src).unwrap();
        assert_eq!(j.get("k").and_then(Json::as_str), v["k"].as_str());
        assert_eq!(j.as_object().unwrap().len(), 3);
        assert_eq!(j.get("missing"), None);
        assert_eq!(Json::Null.get("k"), None);
    }

    #[test]
    fn numbers_print_like_value() {
        for text in [
            "0",
            "-0.0",
            "1.0",
            "1e21",
            "18446744073709551615",
            "-9223372036854775808",
            "1.5e-7",
        ] {
            let j = Json::parse(text.as_bytes()).unwrap();
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&j).unwrap(), v.to_string(), "{text}");
        }
    }

    #[test]
    fn errors_are_serde_jsons() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "{1: 2}", "[] x", "\"\\q\""] {
            let ours = Json::parse(text.as_bytes()).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(text).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{text}");
        }
        let deep = "[".repeat(100_000);
        let err = Json::parse(deep.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        assert!(Json::parse(b"\"\xff\"").is_err());
    }

    #[test]
    fn type_names_agree() {
        for text in ["null", "true", "1", "\"s\"", "[]", "{}"] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Json::parse(text.as_bytes()).unwrap().type_name(),
                value_type_name(&v)
            );
        }
    }
}
