//! THE status → Anthropic error table every provider (and the host's fallback) uses, and the
//! provider-generic parts of reading an upstream error: the message of an unknown JSON or HTML
//! error body, an in-band error object, and context-window overflow.
//!
//! ```
//! use ccr_plugin_sdk::provider::{error_from_body, map_status};
//!
//! assert_eq!(map_status(503), (529, "overloaded_error"));
//! let e = error_from_body(429, br#"{"error":{"message":"slow down"}}"#);
//! assert_eq!((e.status, e.error_type.as_str()), (429, "rate_limit_error"));
//! assert_eq!(e.message, "slow down");
//! ```

use serde_json::Value;

use crate::ApiError;

/// Maps an upstream HTTP status to the status and Anthropic error type the client sees.
///
/// 400 and 422 become 400 `invalid_request_error`; 401 `authentication_error`, 402
/// `billing_error`, 403 `permission_error`, 404 `not_found_error`, 413 `request_too_large`,
/// 429 `rate_limit_error` and 500 `api_error` keep their status. 502/503 become 529
/// `overloaded_error` (Claude Code retries those); 408 and 504 keep their status as
/// `timeout_error`; other 4xx keep their status as `invalid_request_error`; other 5xx keep
/// their status as `api_error`. Anything outside 4xx/5xx is an upstream protocol failure: 500
/// `api_error`. This is the one table: [`ApiError::for_status`], every provider and the
/// host's fallback use it.
pub fn map_status(upstream_status: u16) -> (u16, &'static str) {
    match upstream_status {
        400 | 422 => (400, "invalid_request_error"),
        401 => (401, "authentication_error"),
        402 => (402, "billing_error"),
        403 => (403, "permission_error"),
        404 => (404, "not_found_error"),
        408 | 504 => (upstream_status, "timeout_error"),
        413 => (413, "request_too_large"),
        429 => (429, "rate_limit_error"),
        500 => (500, "api_error"),
        502 | 503 | 529 => (529, "overloaded_error"),
        405..=499 => (upstream_status, "invalid_request_error"),
        501..=599 => (upstream_status, "api_error"),
        _ => (500, "api_error"),
    }
}

/// Does an upstream error message say the prompt did not fit the model's context window?
/// Covers OpenAI/vLLM/DeepSeek/OpenRouter ("maximum context length"), llama.cpp ("context
/// size"), Groq ("reduce the length of the messages") and similar wordings.
pub fn is_context_overflow(message: &str) -> bool {
    const NEEDLES: &[&str] = &[
        "context length",
        "context_length",
        "maximum context",
        "context window",
        "context size",
        "too many tokens",
        "prompt is too long",
        "prompt too long",
        "reduce the length of the messages",
        "input is too long",
        "exceeds the context",
    ];
    let lower = message.to_ascii_lowercase();
    NEEDLES.iter().any(|n| lower.contains(n))
}

/// The Anthropic error for an upstream answer of HTTP `status` saying `message`: the status
/// mapped with [`map_status`], and a context-window overflow (see [`is_context_overflow`])
/// turned into the 400 `invalid_request_error` "prompt is too long" that makes Claude Code
/// compact the conversation. Keep the upstream's wording in `message`.
pub fn upstream_error(status: u16, message: impl Into<String>) -> ApiError {
    let mut error = ApiError::for_status(status, message);
    if is_context_overflow(&error.message) {
        error.status = 400;
        error.error_type = "invalid_request_error".to_owned();
        if !error
            .message
            .to_ascii_lowercase()
            .contains("prompt is too long")
        {
            error.message = format!("prompt is too long: {}", error.message);
        }
    }
    error
}

/// Maps a non-2xx upstream answer to an Anthropic error.
///
/// Understands OpenAI `{"error":{"message","type","code"}}`, OpenRouter
/// `{"error":{"code":int,"message","metadata":{"raw"}}}`, Ollama `{"error":"msg"}`, vLLM/FastAPI
/// `{"message"}` / `{"detail"}` and plain text.
pub fn error_from_body(status: u16, body: &[u8]) -> ApiError {
    let message = error_body_message(body);
    let message = if message.is_empty() {
        format!("upstream returned HTTP {status}")
    } else {
        message
    };
    upstream_error(status, message)
}

/// The message of an error body of unknown shape: the JSON shapes [`error_from_body`] lists,
/// else the body as text, trimmed and capped (HTML error pages can be huge). Empty when the
/// body is.
pub fn error_body_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => message_of(&v),
        Err(_) => None,
    }
    .unwrap_or_else(|| plain_text_message(body))
}

/// Maps an error object that arrived inside a 200 answer (a stream chunk or a JSON body):
/// the `error` member's value. The status comes from a numeric `code` when it is an HTTP
/// status, else from the error's `type`/`code` strings.
pub fn error_from_value(error: &Value) -> ApiError {
    let message = message_of_error(error).unwrap_or_default();
    let message = if message.is_empty() {
        "upstream reported an error".to_owned()
    } else {
        message
    };
    let numeric = error
        .get("code")
        .and_then(Value::as_u64)
        .or_else(|| error.get("status").and_then(Value::as_u64))
        .filter(|c| (400..=599).contains(c));
    let status = match numeric {
        Some(c) => c as u16,
        None => status_from_words(error),
    };
    upstream_error(status, message)
}

/// Guesses an HTTP status from error `type`/`code`/`status` strings (OpenAI's
/// `rate_limit_exceeded`, Google's `RESOURCE_EXHAUSTED`, ...).
fn status_from_words(error: &Value) -> u16 {
    let words = ["type", "code", "status"]
        .iter()
        .filter_map(|k| error.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    if words.contains("rate_limit") || words.contains("resource_exhausted") {
        429
    } else if words.contains("insufficient_quota") || words.contains("billing") {
        402
    } else if words.contains("auth") || words.contains("api_key") {
        401
    } else if words.contains("permission") {
        403
    } else if words.contains("not_found") {
        404
    } else if words.contains("invalid_request")
        || words.contains("context_length")
        || words.contains("bad_request")
    {
        400
    } else if words.contains("overload") || words.contains("unavailable") {
        503
    } else if words.contains("timeout") {
        504
    } else {
        500
    }
}

/// The message of a whole error body.
fn message_of(v: &Value) -> Option<String> {
    if let Some(e) = v.get("error") {
        if let Some(m) = message_of_error(e) {
            return Some(m);
        }
    }
    for key in ["message", "detail", "error_message"] {
        match v.get(key) {
            Some(Value::String(s)) => return Some(s.clone()),
            Some(d @ (Value::Array(_) | Value::Object(_))) => return Some(d.to_string()),
            _ => {}
        }
    }
    None
}

/// The message of an `error` member: a string, or an object with `message` (plus OpenRouter's
/// `metadata.raw`, which holds the real provider's wording).
fn message_of_error(e: &Value) -> Option<String> {
    match e {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let mut msg = o.get("message").and_then(Value::as_str)?.to_owned();
            if let Some(raw) = o.get("metadata").and_then(|m| m.get("raw")) {
                let raw = match raw {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                if !raw.is_empty() && !msg.contains(&raw) {
                    msg = format!("{msg}: {raw}");
                }
            }
            Some(msg)
        }
        _ => None,
    }
}

/// A non-JSON body as a message, trimmed and capped (HTML error pages can be huge).
fn plain_text_message(body: &[u8]) -> String {
    const MAX: usize = 2000;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> ApiError {
        error_from_body(status, body.as_bytes())
    }

    #[test]
    fn status_table() {
        let cases = [
            (400, 400, "invalid_request_error"),
            (422, 400, "invalid_request_error"),
            (401, 401, "authentication_error"),
            (402, 402, "billing_error"),
            (403, 403, "permission_error"),
            (404, 404, "not_found_error"),
            (408, 408, "timeout_error"),
            (504, 504, "timeout_error"),
            (409, 409, "invalid_request_error"),
            (413, 413, "request_too_large"),
            (429, 429, "rate_limit_error"),
            (500, 500, "api_error"),
            (502, 529, "overloaded_error"),
            (503, 529, "overloaded_error"),
            (529, 529, "overloaded_error"),
            (520, 520, "api_error"),
            (302, 500, "api_error"),
        ];
        for (input, status, kind) in cases {
            assert_eq!(map_status(input), (status, kind), "status {input}");
        }
    }

    #[test]
    fn openai_error_body() {
        let e = err(
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(
            e,
            ApiError {
                status: 429,
                error_type: "rate_limit_error".into(),
                message: "Rate limit reached for gpt-4o".into()
            }
        );
    }

    #[test]
    fn openrouter_error_body_with_raw_metadata() {
        let e = err(
            502,
            r#"{"error":{"code":502,"message":"Provider returned error","metadata":{"raw":"upstream down","provider_name":"X"}}}"#,
        );
        assert_eq!(e.status, 529);
        assert_eq!(e.error_type, "overloaded_error");
        assert_eq!(e.message, "Provider returned error: upstream down");
    }

    #[test]
    fn ollama_and_text_bodies() {
        let e = err(
            404,
            r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        );
        assert_eq!(e.error_type, "not_found_error");
        assert_eq!(
            e.message,
            "model \"llama9\" not found, try pulling it first"
        );
        let e = err(503, "  <html>Service Unavailable</html>\n");
        assert_eq!(
            (e.status, e.message.as_str()),
            (529, "<html>Service Unavailable</html>")
        );
        let e = err(500, "");
        assert_eq!(e.message, "upstream returned HTTP 500");
        let e = err(
            400,
            r#"{"object":"error","message":"bad temperature","code":400}"#,
        );
        assert_eq!(e.message, "bad temperature");
        let e = err(
            422,
            r#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#,
        );
        assert_eq!(e.status, 400);
        assert!(e.message.contains("field required"));
    }

    #[test]
    fn long_text_body_is_capped() {
        let body = "é".repeat(3000);
        let e = err(500, &body);
        assert!(e.message.len() <= 2004);
        assert!(e.message.ends_with('…'));
    }

    #[test]
    fn context_overflow_becomes_prompt_too_long() {
        let e = err(
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
        );
        assert_eq!(e.status, 400);
        assert_eq!(e.error_type, "invalid_request_error");
        assert!(e
            .message
            .starts_with("prompt is too long: This model's maximum context"));
        // llama.cpp wording, and a 413 that is really about context.
        let e = err(
            413,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
        );
        assert_eq!(
            (e.status, e.error_type.as_str()),
            (400, "invalid_request_error")
        );
        assert!(e.message.starts_with("prompt is too long: "));
        assert!(!is_context_overflow("Rate limit reached"));
    }

    #[test]
    fn error_values_in_streams() {
        let v: Value =
            serde_json::from_str(r#"{"code":429,"message":"slow down","metadata":null}"#).unwrap();
        let e = error_from_value(&v);
        assert_eq!((e.status, e.error_type.as_str()), (429, "rate_limit_error"));
        let v: Value =
            serde_json::from_str(r#"{"message":"boom","type":"server_error","code":null}"#)
                .unwrap();
        assert_eq!(error_from_value(&v).error_type, "api_error");
        let v: Value = serde_json::from_str(r#"{"message":"busy","code":"overloaded"}"#).unwrap();
        assert_eq!(error_from_value(&v).error_type, "overloaded_error");
        let v = Value::String("ollama failed".into());
        let e = error_from_value(&v);
        assert_eq!((e.status, e.message.as_str()), (500, "ollama failed"));
        let v: Value = serde_json::from_str(r#"{"type":"invalid_request_error"}"#).unwrap();
        let e = error_from_value(&v);
        assert_eq!(
            (e.status, e.message.as_str()),
            (400, "upstream reported an error")
        );
    }
}
