//! {{name}}: a ccr provider plugin, written on the SDK's provider kit
//! (`ccr_plugin_sdk::provider`, see docs/provider-kit.md).
//!
//! It speaks a small example wire format; replace the `Upstream*` types and the three
//! translations with your upstream's:
//! - request: `{"model", "max_tokens", "stream", "system", "messages": [{"role", "text"}]}`;
//! - answer: `{"id", "text", "stop", "usage": {"input", "output"}}` (whole, or streamed as one
//!   such JSON object per SSE event, each carrying the next piece of `text`).
//!
//! The kit does the Anthropic side: the borrowed request view (`provider::request`), the
//! stream events with their block indices (`AnthropicStreamWriter`) and the one status →
//! Anthropic error table (`map_status`, used by `error_from_body`).

use ccr_plugin_sdk::anthropic::{
    ContentBlock, MessageDeltaUsage, MessagesResponse, StopReason, Usage,
};
use ccr_plugin_sdk::provider::request::{self, Content};
use ccr_plugin_sdk::provider::{error_from_body, message_id, AnthropicStreamWriter, Fnv};
use ccr_plugin_sdk::{
    PluginError, PluginInfo, Provider, ProviderStream, ProviderTarget, SseEvent, UpstreamEvent,
    UpstreamRequest,
};
use serde::{Deserialize, Serialize};

pub struct Plugin;

impl Provider for Plugin {
    type Stream = Stream;

    fn info() -> PluginInfo {
        PluginInfo::provider("{{name}}", env!("CARGO_PKG_VERSION"), "A ccr provider")
    }

    fn build_request(target: &ProviderTarget, body: &[u8]) -> Result<UpstreamRequest, PluginError> {
        let req = request::parse(body)?;
        let mut messages = Vec::with_capacity(req.messages.len());
        for message in &req.messages {
            messages.push(UpstreamMessage { role: message.role.as_str(), text: plain_text(&message.content)? });
        }
        let system = req.system.as_ref().map(plain_text).transpose()?;
        let upstream = UpstreamRequestBody {
            model: &target.target.model,
            max_tokens: req.max_tokens,
            stream: req.stream.unwrap_or(false),
            system,
            messages,
        };
        let mut out = UpstreamRequest::post_json(target.target.base_url.clone(), serde_json::to_vec(&upstream)?);
        if !target.api_key.is_empty() {
            out.head.set_header("authorization", &format!("Bearer {}", target.api_key));
        }
        Ok(out)
    }

    fn parse_response(target: &ProviderTarget, status: u16, body: &[u8]) -> Result<Vec<u8>, PluginError> {
        if !(200..300).contains(&status) {
            // The kit's table maps the status; the message comes from whatever the body is.
            return Err(error_from_body(status, body).into());
        }
        let answer: UpstreamAnswer = serde_json::from_slice(body)?;
        let usage = answer.usage.unwrap_or_default();
        let mut response = MessagesResponse::new(
            message_id(answer.id.as_deref(), Fnv::hash(body)),
            target.target.model.clone(),
            Usage::new(usage.input, usage.output),
        );
        if let Some(text) = answer.text.filter(|t| !t.is_empty()) {
            response.content.push(ContentBlock::text(text));
        }
        response.stop_reason = Some(stop_reason(answer.stop.as_deref()));
        response.to_vec()
    }
}

/// One streamed answer: each upstream event is an [`UpstreamAnswer`] with the next piece of
/// text; the kit's writer turns them into Anthropic events.
pub struct Stream {
    writer: AnthropicStreamWriter,
    stop: Option<String>,
    usage: UpstreamUsage,
}

impl ProviderStream for Stream {
    fn new(target: ProviderTarget) -> Self {
        Stream {
            // Upstreams other than Anthropic send no thinking signatures; generate stable ones.
            writer: AnthropicStreamWriter::new(target.target.model).with_generated_signatures("{{name}}"),
            stop: None,
            usage: UpstreamUsage::default(),
        }
    }

    fn feed(&mut self, event: UpstreamEvent) -> Result<Vec<SseEvent>, PluginError> {
        let mut out = Vec::new();
        let chunk: UpstreamAnswer = serde_json::from_slice(&event.data)?;
        if !self.writer.is_started() {
            let id = message_id(chunk.id.as_deref(), Fnv::hash(&event.data));
            let input = chunk.usage.map_or(0, |u| u.input);
            self.writer.start(&id, Usage::new(input, 1), &mut out);
        }
        if let Some(text) = chunk.text.filter(|t| !t.is_empty()) {
            self.writer.text(&text, &mut out);
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage;
        }
        if chunk.stop.is_some() {
            self.stop = chunk.stop;
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<SseEvent>, PluginError> {
        let mut out = Vec::new();
        let usage = MessageDeltaUsage { input_tokens: Some(self.usage.input), ..MessageDeltaUsage::output(self.usage.output) };
        // Closes the open block, then message_delta and message_stop (an error event if the
        // upstream sent nothing at all).
        self.writer.finish(stop_reason(self.stop.as_deref()), usage, &mut out);
        Ok(out)
    }
}

/// The upstream's stop reason in Anthropic's words.
fn stop_reason(stop: Option<&str>) -> StopReason {
    match stop {
        Some("length") => StopReason::MaxTokens,
        _ => StopReason::EndTurn,
    }
}

/// The text of a message (or system prompt): a string, or its text blocks joined. This
/// example upstream takes only text; say so rather than drop other blocks.
fn plain_text(content: &Content<'_>) -> Result<String, PluginError> {
    match content {
        Content::Text(text) => Ok(text.to_plain().into_owned()),
        Content::Blocks(blocks) => {
            let mut out = String::new();
            for block in blocks {
                match (block.kind.as_str(), &block.text) {
                    ("text", Some(text)) => out.push_str(&text.to_plain()),
                    (kind, _) => return Err(PluginError::invalid_request(format!("{{name}} accepts text only, not `{kind}` blocks"))),
                }
            }
            Ok(out)
        }
    }
}

#[derive(Serialize)]
struct UpstreamRequestBody<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<UpstreamMessage<'a>>,
}

#[derive(Serialize)]
struct UpstreamMessage<'a> {
    role: &'a str,
    text: String,
}

#[derive(Deserialize)]
struct UpstreamAnswer {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    stop: Option<String>,
    #[serde(default)]
    usage: Option<UpstreamUsage>,
}

#[derive(Clone, Copy, Default, Deserialize)]
struct UpstreamUsage {
    #[serde(default)]
    input: u64,
    #[serde(default)]
    output: u64,
}

ccr_plugin_sdk::export_provider!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ProviderTarget {
        let mut target = ProviderTarget::default();
        target.target.base_url = "https://api.example.com/v1/generate".into();
        target.target.model = "upstream-model".into();
        target.api_key = "sk-test".into();
        target
    }

    #[test]
    fn translates_the_request() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":10,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"hi\nthere"}]}]}"#;
        let request = Plugin::build_request(&target(), body).unwrap();
        assert_eq!(request.head.url, "https://api.example.com/v1/generate");
        assert_eq!(request.head.header("authorization"), Some("Bearer sk-test"));
        let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(sent["model"], "upstream-model");
        assert_eq!(sent["system"], "be brief");
        assert_eq!(sent["messages"][0]["text"], "hi\nthere");
        let image = br#"{"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}"#;
        assert!(matches!(Plugin::build_request(&target(), image), Err(PluginError::InvalidRequest(_))));
    }

    #[test]
    fn maps_upstream_errors_with_the_kit_table() {
        match Plugin::parse_response(&target(), 503, br#"{"error":{"message":"busy"}}"#) {
            Err(PluginError::Upstream(e)) => {
                assert_eq!((e.status, e.error_type.as_str(), e.message.as_str()), (529, "overloaded_error", "busy"));
            }
            other => panic!("expected an upstream error, got {other:?}"),
        }
    }

    #[test]
    fn streams_text_then_finishes() {
        let mut stream = Stream::new(target());
        let event = |data: &str| UpstreamEvent { event: None, data: data.as_bytes().to_vec() };
        let mut out = stream.feed(event(r#"{"id":"a1","text":"Hel","usage":{"input":3}}"#)).unwrap();
        out.extend(stream.feed(event(r#"{"text":"lo","stop":"length","usage":{"input":3,"output":2}}"#)).unwrap());
        out.extend(stream.finish().unwrap());
        let names: Vec<&str> = out.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
        );
        let delta: serde_json::Value = serde_json::from_slice(&out[5].data).unwrap();
        assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
        assert_eq!(delta["usage"]["output_tokens"], 2);
        // Finishing twice sends nothing more.
        assert!(stream.finish().unwrap().is_empty());
    }
}
