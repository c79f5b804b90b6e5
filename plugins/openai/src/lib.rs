//! The bundled `openai` provider plugin: Anthropic Messages ⇄ OpenAI chat completions, for
//! every OpenAI-compatible server (OpenAI, DeepSeek, OpenRouter, Groq, vLLM, llama.cpp,
//! Ollama's `/v1`, ...).
//!
//! The translation lives in plain modules that depend only on serde, so it is tested natively:
//! - [`request`]: Anthropic request → OpenAI request ([`request::translate_request`]);
//! - [`response`]: OpenAI answer → Anthropic message ([`response::translate_response`]);
//! - [`stream`]: OpenAI stream chunks → Anthropic stream events
//!   ([`stream::StreamTranslator`]).
//!
//! What every provider needs (the borrowed request view, the stream writer, the status →
//! Anthropic error table) is the SDK's provider kit, [`ccr_plugin_sdk::provider`]; this crate
//! holds only OpenAI's wire types and the mapping. This file glues them to the SDK's
//! [`Provider`] trait.
//!
//! Provider options (`target.options`, all optional): `max_tokens_field`
//! (`"max_tokens"` | `"max_completion_tokens"`), `reasoning_effort` (`false` or a fixed
//! value) and `reasoning_content` (`false` to stop sending prior thinking back); see
//! [`request::Options`].

#![warn(missing_docs)]

mod json_scan;
pub mod request;
pub mod response;
pub mod stream;

use ccr_plugin_sdk::{
    PluginError, PluginInfo, Provider, ProviderStream, ProviderTarget, SseEvent, UpstreamEvent,
    UpstreamRequest,
};

/// The provider: the URL is the configured `api_base_url` as-is (for OpenAI-compatible
/// providers it is the full chat-completions endpoint, as in claude-code-router).
pub struct OpenAi;

impl Provider for OpenAi {
    type Stream = OpenAiStream;

    fn info() -> PluginInfo {
        PluginInfo::provider(
            "openai",
            env!("CARGO_PKG_VERSION"),
            "OpenAI-compatible chat completions (OpenAI, DeepSeek, OpenRouter, Ollama /v1, vLLM, ...)",
        )
    }

    fn build_request(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
        let opts = request::Options::from_json(&target.target.options)?;
        let body = request::translate_request(body, &target.target.model, &opts)?;
        let mut req = UpstreamRequest::post_json(target.target.base_url.clone(), body);
        // Local servers (Ollama, llama.cpp) need no key; send no empty `Bearer`.
        if !target.api_key.is_empty() {
            req.head
                .set_header("authorization", &format!("Bearer {}", target.api_key));
        }
        Ok(req)
    }

    fn parse_response(
        target: &ProviderTarget,
        status: u16,
        body: &[u8],
    ) -> Result<Vec<u8>, PluginError> {
        response::translate_response(status, body, &target.target.model)
    }
}

/// One streamed answer, backed by [`stream::StreamTranslator`].
pub struct OpenAiStream(stream::StreamTranslator);

impl ProviderStream for OpenAiStream {
    fn new(target: ProviderTarget) -> Self {
        OpenAiStream(stream::StreamTranslator::new(target.target.model))
    }

    fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
        Ok(self.0.feed(event.event.as_deref(), &event.data))
    }

    fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError> {
        Ok(self.0.finish())
    }
}

ccr_plugin_sdk::export_provider!(OpenAi);

#[cfg(test)]
mod tests {
    use super::*;
    use ccr_plugin_sdk::{StreamFraming, Target};

    fn target(api_key: &str, options: &str) -> ProviderTarget {
        ProviderTarget {
            target: Target {
                provider: "deepseek".into(),
                base_url: "https://api.deepseek.com/chat/completions".into(),
                model: "deepseek-chat".into(),
                options: options.into(),
            },
            api_key: api_key.into(),
        }
    }

    #[test]
    fn info() {
        let info = OpenAi::info();
        assert_eq!(info.name, "openai");
        assert!(matches!(info.kind, ccr_plugin_sdk::PluginKind::Provider));
    }

    #[test]
    fn build_request_head() {
        let body = br#"{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let req = OpenAi::build_request(&target("sk-1", "{}"), body).unwrap();
        assert_eq!(req.head.method, "POST");
        assert_eq!(req.head.url, "https://api.deepseek.com/chat/completions");
        assert_eq!(req.head.header("content-type"), Some("application/json"));
        assert_eq!(req.head.header("authorization"), Some("Bearer sk-1"));
        assert!(matches!(req.framing, StreamFraming::Sse));
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(v["model"], "deepseek-chat");
        assert_eq!(v["stream_options"]["include_usage"], true);

        let req = OpenAi::build_request(&target("", ""), body).unwrap();
        assert_eq!(req.head.header("authorization"), None);
    }

    #[test]
    fn errors_become_plugin_errors() {
        let bad = OpenAi::build_request(&target("k", "{}"), b"{}").unwrap_err();
        assert!(matches!(bad, PluginError::InvalidRequest(m) if m.contains("messages")));
        let bad = OpenAi::build_request(&target("k", "[]"), br#"{"messages":[]}"#).unwrap_err();
        assert!(matches!(bad, PluginError::Internal(_)));
        let err = OpenAi::parse_response(&target("k", "{}"), 503, b"busy").unwrap_err();
        match err {
            PluginError::Upstream(e) => {
                assert_eq!(
                    (e.status, e.error_type.as_str(), e.message.as_str()),
                    (529, "overloaded_error", "busy")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stream_glue() {
        let mut s = OpenAiStream::new(target("k", "{}"));
        let ev = |data: &str| UpstreamEvent {
            event: None,
            data: data.as_bytes().to_vec(),
        };
        let out = s
            .feed(ev(
                r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}"#,
            ))
            .unwrap();
        let names: Vec<_> = out.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta"
            ]
        );
        let out = s.feed(ev("[DONE]")).unwrap();
        let names: Vec<_> = out.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            ["content_block_stop", "message_delta", "message_stop"]
        );
        assert!(s.finish().unwrap().is_empty());
    }
}
