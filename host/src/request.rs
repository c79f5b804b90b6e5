//! Parsing and validating an incoming Messages request, once.
//!
//! The body is read with a hard size limit, parsed into a JSON tree (serde_json bounds the
//! nesting depth at 128, so a deeply nested body fails fast with a clear error) and checked
//! for the fields every later stage relies on. The original bytes are kept: plugins get
//! them untouched unless the host had to change the request.

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

use crate::server::error::ProxyError;

/// Largest request body accepted, as Anthropic's own limit for Messages (32 MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A Messages (or count_tokens) request that passed validation.
#[derive(Debug, Clone)]
pub struct ParsedRequest {
    /// The body as received.
    pub raw: Bytes,
    /// The parsed body (always a JSON object).
    pub json: Value,
}

impl ParsedRequest {
    /// The `model` field.
    pub fn model(&self) -> &str {
        self.json.get("model").and_then(Value::as_str).unwrap_or("")
    }

    /// Whether the client asked for a stream.
    pub fn stream(&self) -> bool {
        self.json
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The body to hand to plugins: the original bytes, or a re-encoding of `json` when the
    /// host changed it (`changed`).
    pub fn body_for_plugins(&self, changed: bool) -> Vec<u8> {
        if changed {
            serde_json::to_vec(&self.json).unwrap_or_else(|_| self.raw.to_vec())
        } else {
            self.raw.to_vec()
        }
    }
}

/// What kind of request is being validated (count_tokens has no `max_tokens`/`stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
}

/// After the limit is hit, keep reading (and discarding) up to this much more so the client
/// is done sending and actually reads the 413 instead of a connection reset.
const DRAIN_BYTES: usize = 128 * 1024 * 1024;

/// Read the whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body) -> Result<Bytes, ProxyError> {
    let too_large = || {
        ProxyError::TooLarge(format!(
            "request body is larger than the {} MB limit",
            MAX_BODY_BYTES >> 20
        ))
    };
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut drained = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            ProxyError::InvalidRequest(format!("could not read the request body: {err}"))
        })?;
        if drained > 0 || buf.len() + chunk.len() > MAX_BODY_BYTES {
            drained += chunk.len();
            if drained > DRAIN_BYTES {
                break;
            }
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    if drained > 0 {
        return Err(too_large());
    }
    Ok(Bytes::from(buf))
}

/// Parse and validate a request body.
pub fn parse(raw: Bytes, kind: RequestKind) -> Result<ParsedRequest, ProxyError> {
    if raw.is_empty() {
        return Err(ProxyError::InvalidRequest(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let json: Value = serde_json::from_slice(&raw).map_err(|e| {
        let what = if e.to_string().contains("recursion limit") {
            "JSON is nested too deeply".to_string()
        } else {
            format!("invalid JSON: {e}")
        };
        ProxyError::InvalidRequest(what)
    })?;
    validate(&json, kind)?;
    Ok(ParsedRequest { raw, json })
}

fn invalid(msg: impl Into<String>) -> ProxyError {
    ProxyError::InvalidRequest(msg.into())
}

/// The JSON type of `v` for error messages (`a number`, `an array`...), without its value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn validate(json: &Value, kind: RequestKind) -> Result<(), ProxyError> {
    let Some(obj) = json.as_object() else {
        return Err(invalid(format!(
            "request body must be a JSON object, found {}",
            type_name(json)
        )));
    };
    match obj.get("model") {
        None => return Err(invalid("model: field required")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Err(invalid("model: must not be empty"))
        }
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err(invalid(format!(
                "model: expected a string, found {}",
                type_name(other)
            )))
        }
    }
    let messages = match obj.get("messages") {
        None => return Err(invalid("messages: field required")),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(invalid(format!(
                "messages: expected an array, found {}",
                type_name(other)
            )))
        }
    };
    for (i, message) in messages.iter().enumerate() {
        let Some(m) = message.as_object() else {
            return Err(invalid(format!(
                "messages.{i}: expected an object, found {}",
                type_name(message)
            )));
        };
        match m.get("role") {
            Some(Value::String(role))
                if matches!(role.as_str(), "user" | "assistant" | "system") => {}
            Some(Value::String(role)) => {
                return Err(invalid(format!(
                    "messages.{i}.role: expected \"user\" or \"assistant\", found {role:?}"
                )))
            }
            Some(other) => {
                return Err(invalid(format!(
                    "messages.{i}.role: expected a string, found {}",
                    type_name(other)
                )))
            }
            None => return Err(invalid(format!("messages.{i}.role: field required"))),
        }
        match m.get("content") {
            Some(Value::String(_)) => {}
            Some(Value::Array(blocks)) => {
                for (j, block) in blocks.iter().enumerate() {
                    if !block.get("type").is_some_and(Value::is_string) {
                        return Err(invalid(format!(
                            "messages.{i}.content.{j}: expected a content block object with a string `type`"
                        )));
                    }
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                "messages.{i}.content: expected a string or an array of content blocks, found {}",
                type_name(other)
            )))
            }
            None => return Err(invalid(format!("messages.{i}.content: field required"))),
        }
    }
    if let Some(system) = obj.get("system") {
        match system {
            Value::String(_) | Value::Null => {}
            Value::Array(blocks) => {
                for (j, block) in blocks.iter().enumerate() {
                    if !block.is_object() {
                        return Err(invalid(format!(
                            "system.{j}: expected a text block object, found {}",
                            type_name(block)
                        )));
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "system: expected a string or an array of text blocks, found {}",
                    type_name(other)
                )))
            }
        }
    }
    if let Some(tools) = obj.get("tools") {
        match tools {
            Value::Array(list) => {
                for (j, tool) in list.iter().enumerate() {
                    if !tool.get("name").is_some_and(Value::is_string) {
                        return Err(invalid(format!(
                            "tools.{j}: expected an object with a string `name`"
                        )));
                    }
                }
            }
            Value::Null => {}
            other => {
                return Err(invalid(format!(
                    "tools: expected an array, found {}",
                    type_name(other)
                )))
            }
        }
    }
    if kind == RequestKind::Messages {
        if let Some(v) = obj.get("max_tokens") {
            if v.as_u64().is_none() {
                return Err(invalid(format!(
                    "max_tokens: expected a non-negative integer, found {}",
                    type_name(v)
                )));
            }
        }
        if let Some(v) = obj.get("stream") {
            if !v.is_boolean() && !v.is_null() {
                return Err(invalid(format!(
                    "stream: expected a boolean, found {}",
                    type_name(v)
                )));
            }
        }
    }
    for field in ["temperature", "top_p", "top_k"] {
        if let Some(v) = obj.get(field) {
            if !v.is_number() && !v.is_null() {
                return Err(invalid(format!(
                    "{field}: expected a number, found {}",
                    type_name(v)
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<ParsedRequest, ProxyError> {
        parse(Bytes::from(s.to_string()), RequestKind::Messages)
    }

    #[test]
    fn accepts_a_minimal_request() {
        let r = parse_str(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .unwrap();
        assert_eq!(r.model(), "m");
        assert!(!r.stream());
    }

    #[test]
    fn rejects_bad_shapes_with_field_names() {
        let cases = [
            ("", "empty"),
            ("{", "invalid JSON"),
            ("[]", "must be a JSON object"),
            (r#"{"messages":[]}"#, "model: field required"),
            (r#"{"model":"m"}"#, "messages: field required"),
            (r#"{"model":3,"messages":[]}"#, "model: expected a string"),
            (
                r#"{"model":"m","messages":{}}"#,
                "messages: expected an array",
            ),
            (
                r#"{"model":"m","messages":[{"role":"user"}]}"#,
                "messages.0.content",
            ),
            (
                r#"{"model":"m","messages":[{"role":"bot","content":"x"}]}"#,
                "messages.0.role",
            ),
            (
                r#"{"model":"m","messages":[],"max_tokens":"9"}"#,
                "max_tokens",
            ),
            (r#"{"model":"m","messages":[],"stream":"yes"}"#, "stream"),
            (r#"{"model":"m","messages":[],"tools":[{}]}"#, "tools.0"),
        ];
        for (body, expected) in cases {
            let err = parse_str(body).unwrap_err();
            assert!(matches!(err, ProxyError::InvalidRequest(_)), "{body}");
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn deep_nesting_fails_fast() {
        let body = format!(
            r#"{{"model":"m","messages":[],"x":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = parse_str(&body).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let mut body = br#"{"model":"m","messages":[{"role":"user","content":""#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#""}]}"#);
        let err = parse(Bytes::from(body), RequestKind::Messages).unwrap_err();
        assert!(matches!(err, ProxyError::InvalidRequest(_)));
    }
}
