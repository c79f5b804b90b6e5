//! Parsing and validating an incoming Messages request, once.
//!
//! The body is read with a hard size limit, parsed into a [`Json`] tree that borrows from
//! the body's bytes (serde_json bounds the nesting depth at 128, so a deeply nested body
//! fails fast with a clear error) and checked for the fields every later stage relies on.
//! The original bytes are kept: plugins get them untouched unless the host had to change
//! the request.

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;

use crate::error::ProxyError;
use crate::json::Json;

/// Largest request body accepted, as Anthropic's own limit for Messages (32 MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A Messages (or count_tokens) request that passed validation, borrowing the body bytes
/// the caller keeps.
#[derive(Debug, Clone)]
pub struct ParsedRequest<'a> {
    /// The body as received.
    pub raw: &'a [u8],
    /// The parsed body (always a JSON object), borrowing strings from `raw`.
    pub json: Json<'a>,
}

impl ParsedRequest<'_> {
    /// The `model` field.
    pub fn model(&self) -> &str {
        self.json.get("model").and_then(Json::as_str).unwrap_or("")
    }

    /// Whether the client asked for a stream.
    pub fn stream(&self) -> bool {
        self.json
            .get("stream")
            .and_then(Json::as_bool)
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

/// Read the whole body within `timeout` (`BODY_READ_TIMEOUT_SECS`), refusing more than
/// [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body, timeout: std::time::Duration) -> Result<Bytes, ProxyError> {
    tokio::time::timeout(timeout, read_body_unbounded(body))
        .await
        .unwrap_or_else(|_| {
            Err(ProxyError::ClientTimeout(format!(
                "the request body did not arrive within {} s (BODY_READ_TIMEOUT_SECS)",
                timeout.as_secs()
            )))
        })
}

async fn read_body_unbounded(body: Body) -> Result<Bytes, ProxyError> {
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

/// Parse and validate a request body. The result borrows from `raw`.
pub fn parse(raw: &[u8], kind: RequestKind) -> Result<ParsedRequest<'_>, ProxyError> {
    if raw.is_empty() {
        return Err(ProxyError::InvalidRequest(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let json = Json::parse(raw).map_err(|e| {
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

fn validate(json: &Json<'_>, kind: RequestKind) -> Result<(), ProxyError> {
    if !json.is_object() {
        return Err(invalid(format!(
            "request body must be a JSON object, found {}",
            json.type_name()
        )));
    }
    match json.get("model") {
        None => return Err(invalid("model: field required")),
        Some(Json::Str(s)) if s.trim().is_empty() => {
            return Err(invalid("model: must not be empty"))
        }
        Some(Json::Str(_)) => {}
        Some(other) => {
            return Err(invalid(format!(
                "model: expected a string, found {}",
                other.type_name()
            )))
        }
    }
    let messages = match json.get("messages") {
        None => return Err(invalid("messages: field required")),
        Some(Json::Array(a)) => a,
        Some(other) => {
            return Err(invalid(format!(
                "messages: expected an array, found {}",
                other.type_name()
            )))
        }
    };
    for (i, message) in messages.iter().enumerate() {
        if !message.is_object() {
            return Err(invalid(format!(
                "messages.{i}: expected an object, found {}",
                message.type_name()
            )));
        }
        match message.get("role") {
            Some(Json::Str(role)) if matches!(role.as_ref(), "user" | "assistant" | "system") => {}
            Some(Json::Str(role)) => {
                return Err(invalid(format!(
                    "messages.{i}.role: expected \"user\" or \"assistant\", found {role:?}"
                )))
            }
            Some(other) => {
                return Err(invalid(format!(
                    "messages.{i}.role: expected a string, found {}",
                    other.type_name()
                )))
            }
            None => return Err(invalid(format!("messages.{i}.role: field required"))),
        }
        match message.get("content") {
            Some(Json::Str(_)) => {}
            Some(Json::Array(blocks)) => {
                for (j, block) in blocks.iter().enumerate() {
                    if !block.get("type").is_some_and(Json::is_string) {
                        return Err(invalid(format!(
                            "messages.{i}.content.{j}: expected a content block object with a string `type`"
                        )));
                    }
                }
            }
            Some(other) => {
                return Err(invalid(format!(
                "messages.{i}.content: expected a string or an array of content blocks, found {}",
                other.type_name()
            )))
            }
            None => return Err(invalid(format!("messages.{i}.content: field required"))),
        }
    }
    if let Some(system) = json.get("system") {
        match system {
            Json::Str(_) | Json::Null => {}
            Json::Array(blocks) => {
                for (j, block) in blocks.iter().enumerate() {
                    if !block.is_object() {
                        return Err(invalid(format!(
                            "system.{j}: expected a text block object, found {}",
                            block.type_name()
                        )));
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "system: expected a string or an array of text blocks, found {}",
                    other.type_name()
                )))
            }
        }
    }
    if let Some(tools) = json.get("tools") {
        match tools {
            Json::Array(list) => {
                for (j, tool) in list.iter().enumerate() {
                    if !tool.get("name").is_some_and(Json::is_string) {
                        return Err(invalid(format!(
                            "tools.{j}: expected an object with a string `name`"
                        )));
                    }
                }
            }
            Json::Null => {}
            other => {
                return Err(invalid(format!(
                    "tools: expected an array, found {}",
                    other.type_name()
                )))
            }
        }
    }
    if kind == RequestKind::Messages {
        if let Some(v) = json.get("max_tokens") {
            if v.as_u64().is_none() {
                return Err(invalid(format!(
                    "max_tokens: expected a non-negative integer, found {}",
                    v.type_name()
                )));
            }
        }
        if let Some(v) = json.get("stream") {
            if !v.is_boolean() && !v.is_null() {
                return Err(invalid(format!(
                    "stream: expected a boolean, found {}",
                    v.type_name()
                )));
            }
        }
    }
    for field in ["temperature", "top_p", "top_k"] {
        if let Some(v) = json.get(field) {
            if !v.is_number() && !v.is_null() {
                return Err(invalid(format!(
                    "{field}: expected a number, found {}",
                    v.type_name()
                )));
            }
        }
    }
    if messages.is_empty() {
        // Anthropic's own answer; no upstream accepts an empty conversation.
        return Err(invalid("messages: at least one message is required"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<ParsedRequest<'_>, ProxyError> {
        parse(s.as_bytes(), RequestKind::Messages)
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
            (
                r#"{"model":"m","max_tokens":5,"messages":[]}"#,
                "messages: at least one message is required",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_str(body).unwrap_err();
            assert!(matches!(err, ProxyError::InvalidRequest(_)), "{body}");
            assert!(err.to_string().contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn plugins_get_the_raw_body_or_the_changed_tree_in_document_order() {
        let text = r#"{"model":"m","system":[{"type":"text","text":"<CCR-SUBAGENT-MODEL>p,m</CCR-SUBAGENT-MODEL>Agent \u00e9"}],"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#;
        let mut r = parse_str(text).unwrap();
        assert_eq!(r.body_for_plugins(false), text.as_bytes());
        assert!(crate::routing::strip_subagent_tag(&mut r.json));
        assert_eq!(
            String::from_utf8(r.body_for_plugins(true)).unwrap(),
            r#"{"model":"m","system":[{"type":"text","text":"Agent é"}],"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#
        );
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
        let err = parse(&body, RequestKind::Messages).unwrap_err();
        assert!(matches!(err, ProxyError::InvalidRequest(_)));
    }
}
