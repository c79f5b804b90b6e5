//! Removing secrets from a config document before it is logged, shown or given to a router
//! plugin.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "***";

/// A copy of `doc` with secrets replaced by [`REDACTED`]:
/// - every non-empty string under a key whose name contains `key`, `token`, `secret`,
///   `password`, `authorization` or `credential` (case-insensitive: `APIKEY`, `api_key`,
///   `x-api-key`, `apiKey`...). Numbers and booleans are kept, so `max_tokens` survives;
///   objects and arrays under such keys are searched recursively;
/// - the `user:password@` part of any URL-looking string (`PROXY_URL`).
pub fn redact(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_secret_key(k) && !s.is_empty() => {
                            Value::String(REDACTED.to_owned())
                        }
                        other => redact(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_url_userinfo(s)),
        other => other.clone(),
    }
}

/// True for key names that hold secrets.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "password",
        "authorization",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// `scheme://user:pw@host/...?key=s` → `scheme://***@host/...?key=***`; other strings
/// unchanged.
fn redact_url_userinfo(s: &str) -> String {
    if !s.contains("://") {
        return s.to_owned();
    }
    redact_text(s)
}

/// Every URL in free text (an error message, a quoted config line) with its `user:pw@` part
/// and the values of secret-looking query parameters (`?key=`, `&token=`) replaced by
/// [`REDACTED`]. Text without `://` is returned as is.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(idx) = rest.find("://") {
        let (before, after) = rest.split_at(idx + 3);
        out.push_str(before);
        // The URL runs to the next character that cannot be part of one in a config line.
        let end = after
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ')' | ']' | '}')
            })
            .unwrap_or(after.len());
        out.push_str(&redact_url_tail(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The part of a URL after `scheme://`, redacted.
fn redact_url_tail(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, path) = url.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("{REDACTED}{}", &authority[at..]),
        None => authority.to_owned(),
    };
    let Some(q) = path.find('?') else {
        return authority + path;
    };
    let (path, query) = path.split_at(q + 1);
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if is_secret_key(name) && !value.is_empty() => {
                format!("{name}={REDACTED}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{authority}{path}{}", query.join("&"))
}

/// A config source line that is safe to quote in an error message (errors reach the log,
/// `ccr status` and `/health/detailed`), or `None` when it must not be quoted at all: the
/// line, or the line before it (`"api_key":` on one line, its value on the next), names a
/// secret-looking key. URLs in a quoted line have their credentials redacted.
pub fn quotable_line(line: &str, previous: Option<&str>) -> Option<String> {
    if is_secret_key(line) || previous.is_some_and(is_secret_key) {
        return None;
    }
    Some(redact_text(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_replaced_and_the_rest_kept() {
        let doc = json!({
            "APIKEY": "top",
            "HOST": "127.0.0.1",
            "PROXY_URL": "http://bob:hunter2@proxy:8080/x",
            "Providers": [{
                "name": "a", "api_key": "sk-1", "api_base_url": "https://a/v1",
                "transformer": {"use": [["maxtoken", {"max_tokens": 16384}]]},
                "tokenizer": {"default": {"apiKey": "k", "headers": {"Authorization": "Bearer x"}}},
            }],
            "empty_key": "",
            "my_password": 12,
        });
        let r = redact(&doc);
        assert_eq!(r["APIKEY"], "***");
        assert_eq!(r["HOST"], "127.0.0.1");
        assert_eq!(r["PROXY_URL"], "http://***@proxy:8080/x");
        assert_eq!(r["Providers"][0]["api_key"], "***");
        assert_eq!(r["Providers"][0]["api_base_url"], "https://a/v1");
        assert_eq!(
            r["Providers"][0]["transformer"]["use"][0][1]["max_tokens"],
            16384
        );
        assert_eq!(r["Providers"][0]["tokenizer"]["default"]["apiKey"], "***");
        assert_eq!(
            r["Providers"][0]["tokenizer"]["default"]["headers"]["Authorization"],
            "***"
        );
        assert_eq!(r["empty_key"], "");
        assert_eq!(r["my_password"], 12);
        assert!(!r.to_string().contains("hunter2"));
        assert!(!r.to_string().contains("sk-1"));
    }

    #[test]
    fn url_userinfo() {
        assert_eq!(redact_url_userinfo("http://h/x@y"), "http://h/x@y");
        assert_eq!(redact_url_userinfo("no url"), "no url");
        assert_eq!(redact_url_userinfo("socks5://u@h"), "socks5://***@h");
        assert_eq!(
            redact_url_userinfo("https://g/v1?alt=sse&key=AIza123"),
            "https://g/v1?alt=sse&key=***"
        );
    }

    #[test]
    fn urls_in_text_lose_their_credentials() {
        let line = r#"PROXY_URL: "http://bob:hunter2@proxy:8080", x: 'https://a:b@h/p' ,"#;
        let shown = redact_text(line);
        assert_eq!(
            shown,
            r#"PROXY_URL: "http://***@proxy:8080", x: 'https://***@h/p' ,"#
        );
        assert_eq!(redact_text("no url here"), "no url here");
    }

    #[test]
    fn lines_near_a_secret_key_are_never_quoted() {
        assert_eq!(quotable_line(r#""api_key": "sk-1" x"#, None), None);
        assert_eq!(
            quotable_line(r#""sk-live-123" oops"#, Some(r#""api_key":"#)),
            None
        );
        assert_eq!(
            quotable_line(r#""api_base_url": "https://u:p@h/v1" !"#, Some("{")).as_deref(),
            Some(r#""api_base_url": "https://***@h/v1" !"#)
        );
    }
}
