//! The OpenAI Chat Completions wire format as the mock writes it: completion objects, stream
//! chunks, error bodies.

use bytes::Bytes;
use hyper::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::super::answer::{
    Answer, Envelope, ReasoningStyle, CACHED_TOKENS, PROMPT_TOKENS, REASONING_SIGNATURE,
};
use super::{Rejection, WireProtocol};

/// The `system_fingerprint` of every mock answer.
const FINGERPRINT: &str = "fp_ccr_mock";

/// The OpenAI Chat Completions wire.
pub struct OpenAi;

impl WireProtocol for OpenAi {
    fn validate(&self, _headers: &HeaderMap, body: &Value) -> Result<(), Rejection> {
        match conversation_error(body) {
            Some(message) => Err((
                StatusCode::BAD_REQUEST,
                error_body(&message, "invalid_request_error", Value::Null),
            )),
            None => Ok(()),
        }
    }

    fn tool_output(&self, body: &Value) -> Option<String> {
        let messages = body["messages"].as_array()?;
        let after_assistant = messages
            .iter()
            .rposition(|m| m["role"] == "assistant")
            .map(|i| &messages[i + 1..])
            .unwrap_or(&[]);
        after_assistant
            .iter()
            .rev()
            .find(|m| m["role"] == "tool")
            .map(|m| message_text(&m["content"]))
    }

    fn id_prefix(&self) -> &'static str {
        "chatcmpl-mock"
    }

    fn message(&self, answer: &Answer, env: &Envelope) -> Value {
        completion(answer, env)
    }

    fn events(&self, answer: &Answer, env: &Envelope) -> Vec<Bytes> {
        let mut events: Vec<Bytes> = chunks(answer, env).iter().map(sse_data).collect();
        events.push(Bytes::from_static(SSE_DONE));
        events
    }

    fn events_until_text(&self, answer: &Answer, env: &Envelope, pieces: usize) -> Vec<Bytes> {
        // The role chunk, then one chunk per text piece.
        chunks(answer, env)[..1 + pieces]
            .iter()
            .map(sse_data)
            .collect()
    }

    fn malformed_events(&self, env: &Envelope) -> Vec<Bytes> {
        vec![
            Bytes::from(format!(
                "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\n\n",
                env.id
            )),
            Bytes::from_static(SSE_DONE),
        ]
    }

    fn error(&self, status: u16, model: &str) -> Value {
        error_for_status(status, model)
    }

    fn not_json_error(&self) -> Value {
        error_body(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            "invalid_request_error",
            Value::Null,
        )
    }

    fn context_length_error(&self) -> Value {
        context_length_error()
    }

    fn midstream_error_event(&self) -> Bytes {
        sse_data(&midstream_error())
    }

    fn midstream_error_whole(&self) -> Rejection {
        // OpenRouter answers 200 with the error object as the body.
        (StatusCode::OK, midstream_error())
    }
}

/// What a strict chat template (Qwen's, Llama's) refuses, as a model server answers it: a
/// system message anywhere but first, or a conversation that does not end with a user or
/// tool turn (the model would answer nothing the user asked).
fn conversation_error(body: &Value) -> Option<String> {
    let messages = body["messages"].as_array()?;
    if let Some(i) = messages.iter().skip(1).position(|m| m["role"] == "system") {
        return Some(format!(
            "System message must be at the beginning (messages[{}] is a system message).",
            i + 1
        ));
    }
    match messages.last().and_then(|m| m["role"].as_str()) {
        None | Some("user" | "tool") => None,
        Some(role) => Some(format!(
            "The conversation must end with a user or tool message; the last one is {role:?}."
        )),
    }
}

/// The text of an OpenAI message `content`: a string or an array of text parts (what the
/// mock and the tests read out of recorded upstream requests).
pub fn message_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// OpenAI's `usage` object of an answer.
fn usage(answer: &Answer) -> Value {
    let completion = answer.output_tokens();
    json!({
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion,
        "total_tokens": PROMPT_TOKENS + completion,
        "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": answer.reasoning_tokens(),
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

/// The non-streaming `chat.completion` object.
pub fn completion(answer: &Answer, env: &Envelope) -> Value {
    let content = if answer.content.is_empty() {
        Value::Null
    } else {
        Value::String(answer.content.concat())
    };
    let mut message = json!({
        "role": "assistant",
        "content": content,
        "refusal": null,
        "annotations": []
    });
    if !answer.reasoning.is_empty() {
        let reasoning = answer.reasoning.concat();
        match answer.reasoning_style {
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
    if !answer.tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(
            answer
                .tool_calls
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
    if let Some((name, fragments)) = &answer.function_call {
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
            "finish_reason": answer.finish_reason
        }],
        "usage": usage(answer)
    })
}

/// Every stream chunk in order (without `[DONE]`): role, reasoning, content, tool call
/// fragments, the finish chunk and, if requested, the usage chunk.
pub fn chunks(answer: &Answer, env: &Envelope) -> Vec<Value> {
    let mut out = Vec::new();
    let opening_content = if answer.content.is_empty() && answer.reasoning.is_empty() {
        Value::Null
    } else {
        json!("")
    };
    out.push(chunk(
        env,
        json!({"role": "assistant", "content": opening_content, "refusal": null}),
        None,
    ));
    for piece in &answer.reasoning {
        let delta = match answer.reasoning_style {
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
    if !answer.reasoning.is_empty() && answer.reasoning_style == ReasoningStyle::OpenRouter {
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
    for piece in &answer.content {
        out.push(chunk(env, json!({"content": piece}), None));
    }
    // Every call opens (id, type, name, empty arguments), then argument fragments go
    // round-robin by index, so a translator must accumulate by `index`.
    for (index, call) in answer.tool_calls.iter().enumerate() {
        out.push(chunk(
            env,
            json!({"tool_calls": [{
                "index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}
            }]}),
            None,
        ));
    }
    let rounds = answer
        .tool_calls
        .iter()
        .map(|c| c.fragments.len())
        .max()
        .unwrap_or(0);
    for round in 0..rounds {
        for (index, call) in answer.tool_calls.iter().enumerate() {
            if let Some(fragment) = call.fragments.get(round) {
                out.push(chunk(
                    env,
                    json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                    None,
                ));
            }
        }
    }
    if let Some((name, fragments)) = &answer.function_call {
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
    out.push(chunk(env, json!({}), Some(answer.finish_reason)));
    if env.include_usage {
        out.push(json!({
            "id": env.id,
            "object": "chat.completion.chunk",
            "created": env.created,
            "model": env.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [],
            "usage": usage(answer)
        }));
    }
    out
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
