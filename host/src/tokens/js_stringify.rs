//! CCR's `JSON.stringify`: the text of a JSON value exactly as JavaScript prints it, which
//! is what CCR tokenizes.

use std::borrow::Cow;
use std::fmt::Write as _;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::json::Json;

/// JavaScript truthiness of a JSON value.
pub(super) fn js_truthy(v: &Json<'_>) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::Str(s) => !s.is_empty(),
        Json::Array(_) | Json::Object(_) => true,
    }
}

/// `JSON.stringify(JSON.parse(body))` of `v` as JavaScript prints it: compact, numbers in JS
/// notation (`1`, not `1.0`; `1e+21`), object keys in document order (a repeated key once,
/// at its first position, with its last value).
pub fn js_stringify(v: &Json<'_>) -> String {
    let mut out = String::new();
    write_js(v, &mut out);
    out
}

fn write_js(v: &Json<'_>, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(n) => {
            const MAX_SAFE: u64 = 1 << 53;
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE) {
                let _ = write!(out, "{u}");
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE) {
                let _ = write!(out, "{i}");
            } else if let Some(f) = n.as_f64() {
                write_js_number(f, out);
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Json::Str(s) => write_js_string(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js(x, out);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            if has_repeated_keys(entries) {
                // `JSON.parse` keeps a repeated key once, where it first appeared, with its
                // last value.
                let mut last: FxHashMap<&str, &Json<'_>> = FxHashMap::default();
                for (k, x) in entries {
                    last.insert(k, x);
                }
                let mut first = true;
                for (k, _) in entries {
                    if let Some(x) = last.remove(k.as_ref()) {
                        write_js_entry(k, x, !first, out);
                        first = false;
                    }
                }
            } else {
                for (i, (k, x)) in entries.iter().enumerate() {
                    write_js_entry(k, x, i > 0, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_js_entry(key: &str, value: &Json<'_>, comma: bool, out: &mut String) {
    if comma {
        out.push(',');
    }
    write_js_string(key, out);
    out.push(':');
    write_js(value, out);
}

/// Whether some key occurs twice in `entries` (rare: JSON allows it, clients do not send it).
fn has_repeated_keys(entries: &[(Cow<'_, str>, Json<'_>)]) -> bool {
    // Pairwise for the usual handful of keys; a set keeps a huge object linear.
    if entries.len() <= 16 {
        return entries
            .iter()
            .enumerate()
            .any(|(i, (k, _))| entries[..i].iter().any(|(p, _)| p == k));
    }
    let mut seen = FxHashSet::default();
    !entries.iter().all(|(k, _)| seen.insert(k.as_ref()))
}

/// JavaScript's `Number.prototype.toString()` for a finite double.
fn write_js_number(f: f64, out: &mut String) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    if f == 0.0 {
        out.push('0');
        return;
    }
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip digits without an exponent, like JS
        // in this range.
        let _ = write!(out, "{f}");
    } else {
        // `1e21` → `1e+21`, `1.5e-7` stays.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mant, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mant}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    }
}

fn write_js_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// `js_stringify` of a `json!` value, read back through the request tree.
    fn js(v: &Value) -> String {
        let text = v.to_string();
        js_stringify(&Json::parse(text.as_bytes()).unwrap())
    }
    #[test]
    fn js_stringify_matches_javascript() {
        assert_eq!(
            js(&json!({"a": [1, 2.5, "x"], "b": null})),
            r#"{"a":[1,2.5,"x"],"b":null}"#
        );
        assert_eq!(js(&json!(1.0)), "1");
        assert_eq!(js(&json!(-0.0)), "0");
        assert_eq!(js(&json!(1e21)), "1e+21");
        assert_eq!(js(&json!(1e20)), "100000000000000000000");
        assert_eq!(js(&json!(1.5e-7)), "1.5e-7");
        assert_eq!(js(&json!(0.000001)), "0.000001");
        assert_eq!(js(&json!(1e-7)), "1e-7");
        assert_eq!(js(&json!(-2.5e-9)), "-2.5e-9");
        assert_eq!(js(&json!(1.5e300)), "1.5e+300");
        assert_eq!(js(&json!(-12)), "-12");
        assert_eq!(js(&json!(u64::MAX)), "18446744073709552000");
        assert_eq!(js(&json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(
            js(&json!(
                "q\"b\\n\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}é🙂\u{2028}"
            )),
            "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f\u{7f}é🙂\u{2028}\""
        );
        // Same as serde_json for ordinary values.
        let v = json!({"command": "ls -la", "n": [true, false, {"x": "y"}], "e": {}, "a": []});
        assert_eq!(js(&v), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn js_stringify_keeps_document_order_and_parses_repeats_like_javascript() {
        let s = |text: &str| js_stringify(&Json::parse(text.as_bytes()).unwrap());
        assert_eq!(
            s(r#"{"z": 1, "a": {"y": 2, "b": 3}}"#),
            r#"{"z":1,"a":{"y":2,"b":3}}"#
        );
        // JSON.stringify(JSON.parse(...)) in JavaScript.
        assert_eq!(s(r#"{"k": 1, "x": 2, "k": 3}"#), r#"{"k":3,"x":2}"#);
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}, \"k0\": \"last\"}}", many.join(","));
        let out = s(&text);
        assert!(out.starts_with(r#"{"k0":"last","k1":1,"#), "{out}");
        assert_eq!(out.matches("k0").count(), 1);
    }
}
