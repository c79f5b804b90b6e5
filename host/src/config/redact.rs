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

/// `scheme://user:pw@host/...` → `scheme://***@host/...`; other strings unchanged.
fn redact_url_userinfo(s: &str) -> String {
    let Some(idx) = s.find("://") else {
        return s.to_owned();
    };
    let rest = &s[idx + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://{REDACTED}{}", &s[..idx], &rest[at..]),
        None => s.to_owned(),
    }
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
    }
}
