//! OpenAI chat-completions response (whole, non-streamed) → Anthropic Messages response, and
//! the pieces the stream translator shares: usage and finish-reason mapping.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use ccr_plugin_sdk::provider::{
    error_from_body, error_from_value, generated_tool_id, message_id, thinking_signature, Fnv, Str,
};
use ccr_plugin_sdk::{ApiError, PluginError};

use crate::json_scan::JsonScan;

/// The prefix of the signatures of thinking blocks this plugin produces (OpenAI-compatible
/// upstreams send none; the request side ignores them when they come back).
pub const SIGNATURE_PREFIX: &str = "ccr-openai";

/// Translates a whole upstream answer. A non-2xx `status` becomes
/// [`PluginError::Upstream`] (see [`error_from_body`]); so does a 2xx body that carries an
/// `error` object, has no choices, or is not JSON.
pub fn translate_response(status: u16, body: &[u8], model: &str) -> Result<Vec<u8>, PluginError> {
    if !(200..300).contains(&status) {
        return Err(PluginError::Upstream(error_from_body(status, body)));
    }
    let resp: Completion = serde_json::from_slice(body).map_err(|e| {
        PluginError::Upstream(ApiError {
            status: 500,
            error_type: "api_error".to_owned(),
            message: format!("upstream returned a malformed response: {e}"),
        })
    })?;
    if let Some(err) = &resp.error {
        return Err(PluginError::Upstream(error_from_value(err)));
    }
    let choice = resp.choices.into_iter().flatten().next().ok_or_else(|| {
        PluginError::Upstream(ApiError {
            status: 500,
            error_type: "api_error".to_owned(),
            message: "upstream returned a response without choices".to_owned(),
        })
    })?;
    let finish = choice.finish_reason.as_deref();
    if finish == Some("error") {
        return Err(PluginError::Upstream(ApiError {
            status: 500,
            error_type: "api_error".to_owned(),
            message: "upstream finished the response with an error".to_owned(),
        }));
    }

    let body_hash = Fnv::hash(body);
    let message = choice.message.unwrap_or_default();
    let mut content = Vec::new();

    // Thinking first, as Anthropic orders blocks. Prefer `reasoning_content` (DeepSeek, vLLM)
    // and fall back to `reasoning` (OpenRouter, Ollama); some servers send both, identical.
    let reasoning = message
        .reasoning_content
        .filter(|r| !r.is_empty())
        .or(message.reasoning.filter(|r| !r.is_empty()));
    if let Some(r) = reasoning {
        let signature = thinking_signature(SIGNATURE_PREFIX, Fnv::hash(r.as_bytes()));
        content.push(Block::Thinking {
            thinking: r.0,
            signature,
        });
    }

    let text = message.content.map(|t| t.0).filter(|t| !t.is_empty());
    let refusal = message.refusal.filter(|r| !r.is_empty());
    let refused = text.is_none() && refusal.is_some();
    if let Some(text) = text.or(refusal.map(|r| r.0)) {
        content.push(Block::Text { text });
    }

    let mut calls = message.tool_calls.unwrap_or_default();
    // The legacy `function_call` (the deprecated `functions` API) is one call without an id.
    // Servers that send it alongside `tool_calls` repeat the same call, so it only counts when
    // there are no `tool_calls`.
    if calls.is_empty() {
        if let Some(function) = message.function_call {
            calls.push(RespToolCall {
                id: None,
                function: Some(function),
            });
        }
    }
    let has_tool_calls = !calls.is_empty();
    for (k, call) in calls.into_iter().enumerate() {
        let function = call.function.unwrap_or_default();
        let id = match call.id {
            Some(id) if !id.is_empty() => id.0,
            _ => Cow::Owned(generated_tool_id(body_hash, k)),
        };
        content.push(Block::ToolUse {
            id,
            name: function.name.map(|n| n.0).unwrap_or_default(),
            input: tool_input(function.arguments),
        });
    }

    let stop_reason = if refused && !has_tool_calls {
        "refusal"
    } else {
        stop_reason(finish, has_tool_calls)
    };
    let out = Message {
        id: message_id(resp.id.as_deref(), body_hash),
        kind: "message",
        role: "assistant",
        model,
        content,
        stop_reason,
        stop_sequence: None,
        usage: resp.usage.unwrap_or_default().anthropic(),
    };
    serde_json::to_vec(&out)
        .map_err(|e| PluginError::Internal(format!("failed to serialize the response: {e}")))
}

/// Maps an OpenAI `finish_reason` to an Anthropic `stop_reason`: `stop` → `end_turn`,
/// `length` → `max_tokens`, `tool_calls`/`function_call` → `tool_use`, `content_filter` →
/// `refusal`, anything else (or none) → `end_turn`. When tool calls were produced, every
/// reason but `length` and `content_filter` becomes `tool_use` (Ollama and others say `stop`).
pub fn stop_reason(finish_reason: Option<&str>, has_tool_calls: bool) -> &'static str {
    match finish_reason {
        Some("length" | "max_tokens") => "max_tokens",
        Some("content_filter") => "refusal",
        _ if has_tool_calls => "tool_use",
        Some("tool_calls" | "function_call" | "tool_use") => "tool_use",
        _ => "end_turn",
    }
}

/// Turns a call's `arguments` into the `tool_use.input` object.
///
/// `arguments` is normally a string holding a JSON object, kept verbatim. Also handled: an
/// object instead of a string (used as-is), an empty string or `null` (`{}`), a doubly encoded
/// object (decoded), and truncated JSON (closed up, which salvages output cut off at
/// `max_tokens`). Anything else (invalid JSON, a non-object) becomes `{}`: Anthropic's
/// `input` must be an object, and an empty one makes the tool report the missing parameters
/// to the model, which can then retry.
fn tool_input(arguments: Option<&RawValue>) -> Box<RawValue> {
    let empty = || RawValue::from_string("{}".to_owned()).expect("valid JSON");
    let Some(raw) = arguments else {
        return empty();
    };
    let text = raw.get();
    if text.starts_with('{') {
        return raw.to_owned();
    }
    let Ok(Str(args)) = serde_json::from_str::<Str>(text) else {
        return empty();
    };
    object_from_text(&args, 2).unwrap_or_else(empty)
}

fn object_from_text(text: &str, depth: u8) -> Option<Box<RawValue>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str::<&RawValue>(text) {
        let inner = v.get();
        if inner.starts_with('{') {
            return Some(v.to_owned());
        }
        if inner.starts_with('"') && depth > 0 {
            let Str(s) = serde_json::from_str(inner).ok()?;
            return object_from_text(&s, depth - 1);
        }
        return None;
    }
    if text.starts_with('{') {
        let mut scan = JsonScan::default();
        scan.feed(text);
        let repaired = format!("{text}{}", scan.closing());
        if let Ok(v) = serde_json::from_str::<&RawValue>(&repaired) {
            return Some(v.to_owned());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

/// OpenAI `usage` (plus DeepSeek's and OpenRouter's cache fields).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    /// DeepSeek reports cache hits here instead of `prompt_tokens_details`.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

/// Usage in Anthropic terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct AnthropicUsage {
    /// Uncached input tokens (Anthropic's `input_tokens` excludes cache reads and writes).
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub(crate) fn anthropic(&self) -> AnthropicUsage {
        let details = self.prompt_tokens_details.unwrap_or_default();
        let read = details
            .cached_tokens
            .or(self.prompt_cache_hit_tokens)
            .unwrap_or(0);
        let write = details.cache_write_tokens.unwrap_or(0);
        AnthropicUsage {
            input_tokens: self
                .prompt_tokens
                .unwrap_or(0)
                .saturating_sub(read)
                .saturating_sub(write),
            cache_creation_input_tokens: write,
            cache_read_input_tokens: read,
            output_tokens: self.completion_tokens.unwrap_or(0),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    message: Option<RespMessage<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Str<'a>>,
}

#[derive(Default, Deserialize)]
struct RespMessage<'a> {
    #[serde(borrow, default)]
    content: Option<TextOrParts<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning: Option<Str<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<RespToolCall<'a>>>,
    /// Legacy single call: `{name, arguments}`, finish reason `function_call`.
    #[serde(borrow, default)]
    function_call: Option<RespFunction<'a>>,
    #[serde(borrow, default)]
    refusal: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct RespToolCall<'a> {
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    function: Option<RespFunction<'a>>,
}

#[derive(Default, Deserialize)]
struct RespFunction<'a> {
    #[serde(borrow, default)]
    name: Option<Str<'a>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

/// Message `content`: a string, or (some servers) an array of parts whose texts are joined.
pub(crate) struct TextOrParts<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for TextOrParts<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextOrParts<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(TextOrParts(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOrParts(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TextOrParts(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                #[derive(Deserialize)]
                struct Part<'a> {
                    #[serde(rename = "type", borrow, default)]
                    kind: Option<Str<'a>>,
                    #[serde(borrow, default)]
                    text: Option<Str<'a>>,
                }
                let mut out = String::new();
                while let Some(p) = seq.next_element::<Part>()? {
                    if matches!(p.kind.as_deref(), None | Some("text" | "output_text")) {
                        out.push_str(p.text.as_deref().unwrap_or(""));
                    }
                }
                Ok(TextOrParts(Cow::Owned(out)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Serialize)]
struct Message<'b> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'b str,
    content: Vec<Block<'b>>,
    stop_reason: &'static str,
    stop_sequence: Option<()>,
    usage: AnthropicUsage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'b> {
    Thinking {
        thinking: Cow<'b, str>,
        signature: String,
    },
    Text {
        text: Cow<'b, str>,
    },
    ToolUse {
        id: Cow<'b, str>,
        name: Cow<'b, str>,
        input: Box<RawValue>,
    },
}

#[cfg(test)]
#[path = "tests/response.rs"]
mod tests;
