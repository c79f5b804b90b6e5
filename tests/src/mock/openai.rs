//! The OpenAI Chat Completions wire format as the mock writes it: completion objects, stream
//! chunks, error bodies.

use bytes::Bytes;
use serde_json::{json, Value};

/// `usage.prompt_tokens` of every mock answer (includes the cached tokens).
pub const PROMPT_TOKENS: u64 = 120;
/// `usage.prompt_tokens_details.cached_tokens` of every mock answer.
pub const CACHED_TOKENS: u64 = 80;
/// `usage.completion_tokens` of every mock answer without reasoning.
pub const COMPLETION_TOKENS: u64 = 5;
/// `usage.completion_tokens_details.reasoning_tokens` of the reasoning answers (added to
/// [`COMPLETION_TOKENS`] in `completion_tokens`).
pub const REASONING_TOKENS: u64 = 12;
/// The text of the `text`, `stop` and `static` answers (and of the reasoning answers after
/// their reasoning).
pub const TEXT_ANSWER: &str = "Hello from mock";
/// The reasoning text of the `reasoning` and `reasoning-or` answers.
pub const REASONING_TEXT: &str = "Let me think about this.";
/// The signature on the last OpenRouter `reasoning_details` item of `reasoning-or`.
pub const REASONING_SIGNATURE: &str = "EqQBCkgIBhABGAIiQMockSignatureForTests0123456789abcdef";
/// The `system_fingerprint` of every mock answer.
const FINGERPRINT: &str = "fp_ccr_mock";

/// Where the reasoning text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// `reasoning_content` (DeepSeek, vLLM, many OpenAI-compatible servers).
    DeepSeek,
    /// `reasoning` + `reasoning_details` (OpenRouter).
    OpenRouter,
}

/// One tool call of an answer, with its `arguments` split into stream fragments.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub fragments: Vec<String>,
}

impl ToolCall {
    fn arguments(&self) -> String {
        self.fragments.concat()
    }
}

/// One answer, rendered either as a `chat.completion` object or as stream chunks.
#[derive(Debug, Clone)]
pub struct Answer {
    pub reasoning: Vec<String>,
    pub reasoning_style: ReasoningStyle,
    /// Text fragments; empty means `content: null`.
    pub content: Vec<String>,
    /// Parallel tool calls; their fragments are interleaved by index when streamed.
    pub tool_calls: Vec<ToolCall>,
    /// Legacy `function_call` (name, argument fragments).
    pub function_call: Option<(String, Vec<String>)>,
    pub finish_reason: &'static str,
}

/// Per-response identity shared by all chunks of one answer.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub created: u64,
    pub model: String,
    /// `stream_options.include_usage` was true: chunks carry `usage: null` and a final
    /// `choices: []` chunk carries the usage.
    pub include_usage: bool,
}

impl Answer {
    /// A plain text answer split into `pieces`.
    pub fn text(pieces: &[&str], finish_reason: &'static str) -> Answer {
        Answer {
            reasoning: Vec::new(),
            reasoning_style: ReasoningStyle::DeepSeek,
            content: pieces.iter().map(|s| s.to_string()).collect(),
            tool_calls: Vec::new(),
            function_call: None,
            finish_reason,
        }
    }

    /// The `usage` object of this answer.
    pub fn usage(&self) -> Value {
        let reasoning = if self.reasoning.is_empty() {
            0
        } else {
            REASONING_TOKENS
        };
        let completion = COMPLETION_TOKENS + reasoning;
        json!({
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": completion,
            "total_tokens": PROMPT_TOKENS + completion,
            "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0
            }
        })
    }

    /// The non-streaming `chat.completion` object.
    pub fn completion(&self, env: &Envelope) -> Value {
        let content = if self.content.is_empty() {
            Value::Null
        } else {
            Value::String(self.content.concat())
        };
        let mut message = json!({
            "role": "assistant",
            "content": content,
            "refusal": null,
            "annotations": []
        });
        if !self.reasoning.is_empty() {
            let reasoning = self.reasoning.concat();
            match self.reasoning_style {
                ReasoningStyle::DeepSeek => message["reasoning_content"] = json!(reasoning),
                ReasoningStyle::OpenRouter => {
                    message["reasoning"] = json!(reasoning);
                    message["reasoning_details"] = json!([{
                        "type": "reasoning.text",
                        "text": reasoning,
                        "signature": REASONING_SIGNATURE,
                        "format": "anthropic-claude-v1",
                        "index": 0
                    }]);
                }
            }
        }
        if !self.tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(
                self.tool_calls
                    .iter()
                    .map(|call| {
                        json!({
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments()}
                        })
                    })
                    .collect(),
            );
        }
        if let Some((name, fragments)) = &self.function_call {
            message["function_call"] = json!({"name": name, "arguments": fragments.concat()});
        }
        json!({
            "id": env.id,
            "object": "chat.completion",
            "created": env.created,
            "model": env.model,
            "system_fingerprint": FINGERPRINT,
            "service_tier": "default",
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": self.finish_reason
            }],
            "usage": self.usage()
        })
    }

    /// Every stream chunk in order (without `[DONE]`): role, reasoning, content, tool call
    /// fragments, the finish chunk and, if requested, the usage chunk.
    pub fn chunks(&self, env: &Envelope) -> Vec<Value> {
        let mut out = Vec::new();
        let opening_content = if self.content.is_empty() && self.reasoning.is_empty() {
            Value::Null
        } else {
            json!("")
        };
        out.push(chunk(
            env,
            json!({"role": "assistant", "content": opening_content, "refusal": null}),
            None,
        ));
        for piece in &self.reasoning {
            let delta = match self.reasoning_style {
                ReasoningStyle::DeepSeek => json!({"content": null, "reasoning_content": piece}),
                ReasoningStyle::OpenRouter => json!({
                    "content": "",
                    "reasoning": piece,
                    "reasoning_details": [{
                        "type": "reasoning.text", "text": piece,
                        "format": "anthropic-claude-v1", "index": 0
                    }]
                }),
            };
            out.push(chunk(env, delta, None));
        }
        if !self.reasoning.is_empty() && self.reasoning_style == ReasoningStyle::OpenRouter {
            out.push(chunk(
                env,
                json!({
                    "content": "",
                    "reasoning": "",
                    "reasoning_details": [{
                        "type": "reasoning.text", "text": "", "signature": REASONING_SIGNATURE,
                        "format": "anthropic-claude-v1", "index": 0
                    }]
                }),
                None,
            ));
        }
        for piece in &self.content {
            out.push(chunk(env, json!({"content": piece}), None));
        }
        // Every call opens (id, type, name, empty arguments), then argument fragments go
        // round-robin by index, so a translator must accumulate by `index`.
        for (index, call) in self.tool_calls.iter().enumerate() {
            out.push(chunk(
                env,
                json!({"tool_calls": [{
                    "index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}
                }]}),
                None,
            ));
        }
        let rounds = self
            .tool_calls
            .iter()
            .map(|c| c.fragments.len())
            .max()
            .unwrap_or(0);
        for round in 0..rounds {
            for (index, call) in self.tool_calls.iter().enumerate() {
                if let Some(fragment) = call.fragments.get(round) {
                    out.push(chunk(
                        env,
                        json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                        None,
                    ));
                }
            }
        }
        if let Some((name, fragments)) = &self.function_call {
            out.push(chunk(
                env,
                json!({"function_call": {"name": name, "arguments": ""}}),
                None,
            ));
            for fragment in fragments {
                out.push(chunk(
                    env,
                    json!({"function_call": {"arguments": fragment}}),
                    None,
                ));
            }
        }
        out.push(chunk(env, json!({}), Some(self.finish_reason)));
        if env.include_usage {
            out.push(json!({
                "id": env.id,
                "object": "chat.completion.chunk",
                "created": env.created,
                "model": env.model,
                "system_fingerprint": FINGERPRINT,
                "choices": [],
                "usage": self.usage()
            }));
        }
        out
    }
}

/// One `chat.completion.chunk` with a single choice.
pub fn chunk(env: &Envelope, delta: Value, finish_reason: Option<&str>) -> Value {
    let mut value = json!({
        "id": env.id,
        "object": "chat.completion.chunk",
        "created": env.created,
        "model": env.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
    });
    if env.include_usage {
        value["usage"] = Value::Null;
    }
    value
}

/// One SSE event: `data: <json>\n\n`.
pub fn sse_data(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// The stream terminator `data: [DONE]\n\n`.
pub const SSE_DONE: &[u8] = b"data: [DONE]\n\n";

/// OpenAI's error body `{"error":{"message","type","param","code"}}`.
pub fn error_body(message: &str, kind: &str, code: Value) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// The error body OpenAI sends for a status (wording and types as the real API uses them).
pub fn error_for_status(status: u16, model: &str) -> Value {
    match status {
        400 => error_body(
            &format!("Invalid request to mock model '{model}': unsupported parameter."),
            "invalid_request_error",
            json!("invalid_request"),
        ),
        401 => error_body(
            "Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        403 => error_body(
            "You are not allowed to access this model.",
            "invalid_request_error",
            json!("unsupported_country_region_territory"),
        ),
        404 => error_body(
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            json!("model_not_found"),
        ),
        413 => error_body(
            "Request too large: the request body exceeds the maximum allowed size.",
            "invalid_request_error",
            json!("request_too_large"),
        ),
        429 => error_body(
            &format!("Rate limit reached for {model} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s."),
            "requests",
            json!("rate_limit_exceeded"),
        ),
        500 => error_body(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            Value::Null,
        ),
        502 => error_body("Bad gateway.", "server_error", Value::Null),
        503 => error_body(
            "The engine is currently overloaded, please try again later.",
            "server_error",
            Value::Null,
        ),
        _ if status >= 500 => error_body(
            &format!("Upstream error {status}."),
            "server_error",
            Value::Null,
        ),
        _ => error_body(
            &format!("Request failed with status {status}."),
            "invalid_request_error",
            Value::Null,
        ),
    }
}

/// 400 `context_length_exceeded`, worded like OpenAI's.
pub fn context_length_error() -> Value {
    json!({"error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded"
    }})
}

/// The mid-stream error event payload of `midstream-error`.
pub fn midstream_error() -> Value {
    error_body(
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        json!("internal_server_error"),
    )
}
