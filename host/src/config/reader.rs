//! Reading typed values out of the interpolated JSON document, with key paths in errors.
//!
//! The schema is read by hand rather than with `#[derive(Deserialize)]` so that every error
//! names the exact key (`Providers[2].api_base_url`) and what it expected, and so that CCR's
//! loose conventions (`""` meaning "unset", numbers written as strings) are accepted in one
//! place.

use std::path::Path;

use serde_json::{Map, Value};

use super::ConfigError;

/// Reads values for one file and collects warnings on the way.
pub(crate) struct Reader<'a> {
    pub file: &'a Path,
    pub warnings: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn new(file: &'a Path) -> Self {
        Reader {
            file,
            warnings: Vec::new(),
        }
    }

    /// An [`ConfigError::Invalid`] for `key`.
    /// URL credentials in the message are redacted (messages quote values, and errors reach
    /// the log and `ccr status`).
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.file.to_path_buf(),
            key: key.to_owned(),
            message: super::redact_text(&message.into()),
        }
    }

    /// "expected WHAT, found <description of v>".
    pub fn expected(&self, key: &str, what: &str, found: &Value) -> ConfigError {
        // Never echo what sits under a secret-looking key: errors reach logs and /health.
        let last = key.rsplit('.').next().unwrap_or(key);
        let last = last.split('[').next().unwrap_or(last);
        let found = if crate::config::is_secret_key(last) {
            crate::json::value_type_name(found).to_owned()
        } else {
            describe(found)
        };
        self.invalid(key, format!("expected {what}, found {found}"))
    }

    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }

    pub fn object<'v>(
        &self,
        key: &str,
        v: &'v Value,
    ) -> Result<&'v Map<String, Value>, ConfigError> {
        v.as_object()
            .ok_or_else(|| self.expected(key, "an object", v))
    }

    pub fn array<'v>(&self, key: &str, v: &'v Value) -> Result<&'v [Value], ConfigError> {
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.expected(key, "an array", v))
    }

    pub fn string<'v>(&self, key: &str, v: &'v Value) -> Result<&'v str, ConfigError> {
        v.as_str().ok_or_else(|| self.expected(key, "a string", v))
    }

    /// A string where `null`, a missing key and `""` all mean "not set" (CCR's UI writes `""`).
    pub fn opt_string(&self, key: &str, v: Option<&Value>) -> Result<Option<String>, ConfigError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.expected(key, "a string", other)),
        }
    }

    /// A non-negative integer, also accepted as a string of digits (JS coerces those).
    pub fn uint(&self, key: &str, v: &Value) -> Result<u64, ConfigError> {
        let what = "a non-negative whole number";
        match v {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Ok(u)
                } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0) {
                    if f <= u64::MAX as f64 {
                        Ok(f as u64)
                    } else {
                        Err(self.expected(key, what, v))
                    }
                } else {
                    Err(self.expected(key, what, v))
                }
            }
            Value::String(s) => s
                .trim()
                .parse::<u64>()
                .map_err(|_| self.expected(key, what, v)),
            _ => Err(self.expected(key, what, v)),
        }
    }

    /// A whole number greater than 0 (read as [`Reader::uint`]).
    pub fn positive(&self, key: &str, v: &Value) -> Result<u64, ConfigError> {
        match self.uint(key, v) {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(self.expected(key, "a whole number greater than 0", v)),
        }
    }

    /// `true`/`false`, also accepted as the strings `"true"`/`"false"`.
    pub fn boolean(&self, key: &str, v: &Value) -> Result<bool, ConfigError> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            Value::Null => Ok(false),
            _ => Err(self.expected(key, "true or false", v)),
        }
    }

    /// Warns about keys of `obj` that look like misspellings of `known` ones.
    pub fn warn_typos(&mut self, prefix: &str, obj: &Map<String, Value>, known: &[&str]) {
        for key in obj.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            if let Some(suggestion) = suggest(key, known) {
                let path = join(prefix, key);
                self.warn(format!(
                    "unknown key `{path}` is ignored; did you mean `{}`?",
                    join(prefix, suggestion)
                ));
            }
        }
    }
}

/// `prefix.key`, or `key` at the top level.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// A short description of a JSON value for error messages: `number 3`, `string "abc"`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let mut shown: String = s.chars().take(60).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            format!("string {shown:?}")
        }
        Value::Array(a) => format!("an array of {} item(s)", a.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// The known key `key` was probably meant as, if any: same letters ignoring case, `_` and
/// `-`, or a small edit distance.
pub(crate) fn suggest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let nk = norm(key);
    if nk.is_empty() {
        return None;
    }
    let mut best: Option<(&'k str, usize)> = None;
    for &cand in known {
        let nc = norm(cand);
        let d = if nc == nk { 0 } else { edit_distance(&nk, &nc) };
        // Short keys (LOG, PORT) need a closer match to avoid silly suggestions.
        let limit = if nc.chars().count() <= 4 { 1 } else { 2 };
        if d <= limit && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((cand, d));
        }
    }
    best.map(|(c, _)| c)
}

/// Levenshtein distance over chars (inputs are short config keys).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Checks that `s` is an absolute `http://` or `https://` URL with a host.
pub(crate) fn check_http_url(s: &str) -> Result<(), String> {
    let hint = if s.contains('$') {
        " (it contains `$`: is the environment variable set?)"
    } else {
        ""
    };
    if s.trim() != s {
        return Err(format!(
            "expected an http(s) URL, found {s:?} with surrounding whitespace"
        ));
    }
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        r
    } else {
        return Err(format!(
            "expected an http(s) URL such as \"https://api.example.com/v1/chat/completions\", found {s:?}{hint}"
        ));
    };
    if s.chars().any(char::is_whitespace) {
        return Err(format!(
            "expected an http(s) URL, found {s:?} containing whitespace"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => {
                return Err(format!(
                    "expected an http(s) URL, found {s:?} (unclosed `[`)"
                ))
            }
        }
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(format!(
            "expected an http(s) URL with a host, found {s:?}{hint}"
        ));
    }
    if let Some(p) = port {
        if !p.is_empty() && p.parse::<u16>().is_err() {
            return Err(format!(
                "expected an http(s) URL, found {s:?} (bad port {p:?})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls() {
        for ok in [
            "http://127.0.0.1:11434/v1/chat/completions",
            "https://api.deepseek.com/chat/completions",
            "HTTPS://Example.com",
            "https://generativelanguage.googleapis.com/v1beta/models/",
            "http://[::1]:8080/x",
            "http://user:pw@host:1/x?y#z",
            "http://host:/x",
        ] {
            assert!(check_http_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "api.deepseek.com",
            "ftp://x",
            "https://",
            "https:///path",
            " https://x",
            "https://x y",
            "http://host:99999/",
            "http://[::1/x",
            "$OPENAI_BASE_URL",
        ] {
            assert!(check_http_url(bad).is_err(), "{bad}");
        }
        assert!(check_http_url("$URL")
            .unwrap_err()
            .contains("environment variable"));
    }

    #[test]
    fn suggestions() {
        let known = [
            "Providers",
            "Router",
            "APIKEY",
            "LOG",
            "PORT",
            "LOG_LEVEL",
            "PLUGINS_DIR",
        ];
        assert_eq!(suggest("Provders", &known), Some("Providers"));
        assert_eq!(suggest("router", &known), Some("Router"));
        assert_eq!(suggest("apiKey", &known), Some("APIKEY"));
        assert_eq!(suggest("api_key", &known), Some("APIKEY"));
        assert_eq!(suggest("LOGS", &known), Some("LOG"));
        assert_eq!(suggest("logLevel", &known), Some("LOG_LEVEL"));
        assert_eq!(suggest("pluginsDir", &known), Some("PLUGINS_DIR"));
        assert_eq!(suggest("StatusLine", &known), None);
        assert_eq!(suggest("plugins", &known), None);
        assert_eq!(suggest("HOSTNAME", &known), None);
        assert_eq!(suggest("", &known), None);
        assert_eq!(suggest("__", &known), None);
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(&json!(3)), "number 3");
        assert_eq!(describe(&json!("a")), "string \"a\"");
        assert_eq!(describe(&json!(null)), "null");
        assert_eq!(describe(&json!(false)), "boolean false");
        assert_eq!(describe(&json!([1, 2])), "an array of 2 item(s)");
        assert_eq!(describe(&json!({})), "an object");
        assert!(describe(&json!("x".repeat(100))).ends_with("…\""));
    }

    #[test]
    fn uints() {
        let r = Reader::new(Path::new("c.json"));
        assert_eq!(r.uint("k", &json!(5)).unwrap(), 5);
        assert_eq!(r.uint("k", &json!(5.0)).unwrap(), 5);
        assert_eq!(r.uint("k", &json!("42")).unwrap(), 42);
        assert!(r.uint("k", &json!(-1)).is_err());
        assert!(r.uint("k", &json!(1.5)).is_err());
        assert!(r.uint("k", &json!("x")).is_err());
        assert!(r.uint("k", &json!(1e300)).is_err());
        let e = r.uint("A.b", &json!(true)).unwrap_err().to_string();
        assert_eq!(
            e,
            "c.json: `A.b`: expected a non-negative whole number, found boolean true"
        );
    }
}
