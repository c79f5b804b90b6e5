//! The `anthropic` provider: for upstreams that speak the Anthropic Messages API themselves
//! (api.anthropic.com, Ollama's `/v1/messages`, gateways). claude-code-router configures this
//! with `"transformer": {"use": ["Anthropic"]}`; plugin names match case-insensitively.
//!
//! The request goes through unchanged except for `model` (the routed one) and, unless the
//! provider options name the beta that allows it, `context_management` (a beta field an
//! upstream rejects without its `anthropic-beta` header). Answers and stream events pass
//! through as they are.
//!
//! Options: `{"anthropic_version": "2023-06-01", "anthropic_beta": "context-management-2025-06-27,..."}`.

use ccr_plugin_sdk::json::TopLevel;
use ccr_plugin_sdk::{
    ApiError, PluginError, PluginInfo, Provider, ProviderStream, ProviderTarget, SseEvent,
    UpstreamEvent, UpstreamRequest,
};
use serde_json::Value;

/// Sent when the options name no `anthropic_version`.
pub const DEFAULT_VERSION: &str = "2023-06-01";

/// The provider.
pub struct Anthropic;

/// Build the upstream request for `body` (an Anthropic Messages request).
pub fn build(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
    let options = target.options()?;
    let mut req = TopLevel::parse(body)?;
    req.set("model", &target.target.model)?;
    let beta = options.get_str("anthropic_beta").unwrap_or_default();
    if !beta.contains("context-management") {
        req.remove("context_management");
    }
    let mut up = UpstreamRequest::post_json(&target.target.base_url, req.to_vec());
    let version = options
        .get_str("anthropic_version")
        .unwrap_or(DEFAULT_VERSION);
    up.head.set_header("anthropic-version", version);
    if !beta.is_empty() {
        up.head.set_header("anthropic-beta", beta);
    }
    if !target.api_key.is_empty() {
        up.head.set_header("x-api-key", &target.api_key);
    }
    Ok(up)
}

/// An upstream error body (`{"type":"error","error":{"type","message"}}`, or anything else)
/// as a plugin error keeping the upstream's wording. An Anthropic error body is already in
/// Anthropic's vocabulary and keeps its status and type; any other body (a gateway's 502 page,
/// ...) gets them from the kit's one table ([`ccr_plugin_sdk::provider::map_status`]).
pub fn upstream_error(status: u16, body: &[u8]) -> PluginError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned());
    let api = match error.and_then(|e| e.get("type")).and_then(Value::as_str) {
        Some(kind) => ApiError::new(status, kind, message),
        None => ApiError::for_status(status, message),
    };
    PluginError::Upstream(api)
}

impl Provider for Anthropic {
    fn info() -> PluginInfo {
        PluginInfo::provider(
            "anthropic",
            env!("CARGO_PKG_VERSION"),
            "Anthropic Messages API upstreams (passthrough; CCR's `Anthropic`)",
        )
    }

    fn build_request(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
        build(target, body)
    }

    fn parse_response(
        _target: &ProviderTarget,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, PluginError> {
        if (200..300).contains(&status) {
            Ok(body.to_vec())
        } else {
            Err(upstream_error(status, body))
        }
    }

    type Stream = Passthrough;
}

/// Passes Anthropic stream events through unchanged.
pub struct Passthrough;

impl ProviderStream for Passthrough {
    fn new(_target: ProviderTarget) -> Self {
        Passthrough
    }

    fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
        // The `event:` line is optional in SSE; Anthropic repeats the name in `type`.
        let name = match event.event {
            Some(name) => name,
            None => serde_json::from_slice::<Value>(&event.data)
                .ok()
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_string))
                .ok_or_else(|| PluginError::internal("upstream stream event without a type"))?,
        };
        Ok(vec![SseEvent::new(name, event.data)])
    }

    fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError> {
        Ok(Vec::new())
    }
}

ccr_plugin_sdk::export_provider!(Anthropic);

#[cfg(test)]
mod tests {
    use super::*;

    fn target(options: &str) -> ProviderTarget {
        let mut t = ProviderTarget::default();
        t.target.base_url = "https://api.anthropic.com/v1/messages".into();
        t.target.model = "claude-sonnet-4-5".into();
        t.target.options = options.into();
        t.api_key = "sk-ant".into();
        t
    }

    #[test]
    fn forwards_with_the_routed_model_and_credentials() {
        let body = br#"{"model":"anthropic,claude-sonnet-4-5","max_tokens":5,"messages":[],"context_management":{"edits":[]}}"#;
        let up = build(&target("{}"), body).unwrap();
        assert_eq!(up.head.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(up.head.header("x-api-key"), Some("sk-ant"));
        assert_eq!(up.head.header("anthropic-version"), Some(DEFAULT_VERSION));
        assert_eq!(
            up.body,
            br#"{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}"#
        );
    }

    #[test]
    fn keeps_context_management_when_its_beta_is_configured() {
        let body = br#"{"model":"m","messages":[],"context_management":{"edits":[]}}"#;
        let up = build(
            &target(r#"{"anthropic_beta":"context-management-2025-06-27"}"#),
            body,
        )
        .unwrap();
        assert_eq!(
            up.head.header("anthropic-beta"),
            Some("context-management-2025-06-27")
        );
        assert!(String::from_utf8(up.body)
            .unwrap()
            .contains("context_management"));
    }

    #[test]
    fn errors_keep_the_upstream_type_and_wording() {
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        match upstream_error(529, body) {
            PluginError::Upstream(e) => {
                assert_eq!(
                    (e.status, e.error_type.as_str(), e.message.as_str()),
                    (529, "overloaded_error", "Overloaded")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(upstream_error(500, b"oops"), PluginError::Upstream(e) if e.message == "oops")
        );
        // An Anthropic error keeps its status and type; anything else follows the one table.
        let body = br#"{"type":"error","error":{"type":"api_error","message":"bad gateway"}}"#;
        match upstream_error(502, body) {
            PluginError::Upstream(e) => {
                assert_eq!((e.status, e.error_type.as_str()), (502, "api_error"))
            }
            other => panic!("{other:?}"),
        }
        match upstream_error(503, b"<html>unavailable</html>") {
            PluginError::Upstream(e) => {
                assert_eq!((e.status, e.error_type.as_str()), (529, "overloaded_error"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stream_events_pass_through_named() {
        let mut s = Passthrough::new(target("{}"));
        let out = s
            .feed(UpstreamEvent {
                event: None,
                data: br#"{"type":"message_stop"}"#.to_vec(),
            })
            .unwrap();
        assert_eq!(out[0].event, "message_stop");
        assert!(s
            .feed(UpstreamEvent {
                event: None,
                data: b"{}".to_vec()
            })
            .is_err());
    }
}
