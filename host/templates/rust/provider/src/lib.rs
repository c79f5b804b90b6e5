//! {{name}}: a ccr provider plugin for an upstream that already speaks the Anthropic
//! Messages API. It posts the request as-is (with the model replaced) to the provider's
//! `api_base_url` and returns the answer as-is. Translate the body in `build_request`,
//! `parse_response` and `Stream` to support another wire format.

use ccr_plugin_sdk::anthropic::MessagesRequest;
use ccr_plugin_sdk::{
    ApiError, PluginError, PluginInfo, Provider, ProviderStream, ProviderTarget, SseEvent,
    UpstreamEvent, UpstreamRequest,
};

pub struct Plugin;

impl Provider for Plugin {
    type Stream = Stream;

    fn info() -> PluginInfo {
        PluginInfo::provider("{{name}}", env!("CARGO_PKG_VERSION"), "A ccr provider")
    }

    fn build_request(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
        let mut request = MessagesRequest::from_slice(body)?;
        request.model = target.target.model.clone();
        let mut upstream = UpstreamRequest::post_json(target.target.base_url.clone(), request.to_vec()?);
        upstream.head.set_header("anthropic-version", "2023-06-01");
        if !target.api_key.is_empty() {
            upstream.head.set_header("x-api-key", &target.api_key);
        }
        Ok(upstream)
    }

    fn parse_response(_target: &ProviderTarget, status: u16, body: &[u8]) -> Result<Vec<u8>, PluginError> {
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        // Keep the upstream's own error type and wording when it sent an Anthropic error.
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let message = error
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        let api_error = match error.and_then(|e| e.get("type")).and_then(|t| t.as_str()) {
            Some(error_type) => ApiError::new(status, error_type, message),
            None => ApiError::for_status(status, message),
        };
        Err(PluginError::Upstream(api_error))
    }
}

/// One streamed answer: an Anthropic upstream already sends Anthropic events.
pub struct Stream;

impl ProviderStream for Stream {
    fn new(_target: ProviderTarget) -> Self {
        Stream
    }

    fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
        let name = event.event.unwrap_or_else(|| "message".to_owned());
        Ok(vec![SseEvent::new(name, event.data)])
    }

    fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError> {
        Ok(Vec::new())
    }
}

ccr_plugin_sdk::export_provider!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ProviderTarget {
        let mut target = ProviderTarget::default();
        target.target.base_url = "https://api.example.com/v1/messages".into();
        target.target.model = "upstream-model".into();
        target.api_key = "sk-test".into();
        target
    }

    #[test]
    fn posts_the_request_with_the_target_model() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[]}"#;
        let request = Plugin::build_request(&target(), body).unwrap();
        assert_eq!(request.head.method, "POST");
        assert_eq!(request.head.url, "https://api.example.com/v1/messages");
        assert_eq!(request.head.header("x-api-key"), Some("sk-test"));
        let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(sent["model"], "upstream-model");
    }

    #[test]
    fn maps_an_upstream_error() {
        let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
        match Plugin::parse_response(&target(), 429, body) {
            Err(PluginError::Upstream(e)) => {
                assert_eq!((e.status, e.error_type.as_str(), e.message.as_str()), (429, "rate_limit_error", "slow down"));
            }
            other => panic!("expected an upstream error, got {other:?}"),
        }
    }
}
