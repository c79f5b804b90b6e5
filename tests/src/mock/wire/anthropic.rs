//! The Anthropic Messages wire as the mock writes it, strict where the real API is strict:
//! `x-api-key` and `anthropic-version` required, `model` and `max_tokens` required,
//! non-empty `messages` of roles `user`/`assistant` only (`system` is top-level), every
//! `tool_result` answering a `tool_use` of the assistant turn just before it.

use bytes::Bytes;
use hyper::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::super::answer::{Answer, Envelope, CACHED_TOKENS, PROMPT_TOKENS, REASONING_SIGNATURE};
use super::{Rejection, WireProtocol};

/// The Anthropic Messages wire.
pub struct Anthropic;

impl WireProtocol for Anthropic {
    fn validate(&self, headers: &HeaderMap, body: &Value) -> Result<(), Rejection> {
        if headers.get("x-api-key").is_none_or(|v| v.is_empty()) {
            return Err((
                StatusCode::UNAUTHORIZED,
                error_body("authentication_error", "x-api-key header is required"),
            ));
        }
        if headers.get("anthropic-version").is_none() {
            return Err(invalid("anthropic-version: header is required"));
        }
        request_error(body).map_or(Ok(()), |message| Err(invalid(&message)))
    }

    fn tool_output(&self, body: &Value) -> Option<String> {
        let last = body["messages"].as_array()?.last()?;
        if last["role"] != "user" {
            return None;
        }
        last["content"]
            .as_array()?
            .iter()
            .rev()
            .find(|block| block["type"] == "tool_result")
            .map(|block| match &block["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
                _ => String::new(),
            })
    }

    fn id_prefix(&self) -> &'static str {
        "msg_mock"
    }

    fn message(&self, answer: &Answer, env: &Envelope) -> Value {
        json!({
            "id": env.id,
            "type": "message",
            "role": "assistant",
            "content": content_blocks(answer),
            "model": env.model,
            "stop_reason": stop_reason(answer),
            "stop_sequence": answer.stop_sequence,
            "usage": usage(answer.output_tokens()),
        })
    }

    fn events(&self, answer: &Answer, env: &Envelope) -> Vec<Bytes> {
        let mut events = message_start(env);
        for (index, block) in stream_blocks(answer).into_iter().enumerate() {
            events.push(event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": index, "content_block": block.start}),
            ));
            if index == 0 {
                events.push(ping());
            }
            for delta in block.deltas {
                events.push(event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ));
            }
            events.push(event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
        events.push(event(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(answer), "stop_sequence": answer.stop_sequence},
                "usage": usage(answer.output_tokens()),
            }),
        ));
        events.push(event("message_stop", &json!({"type": "message_stop"})));
        events
    }

    fn events_until_text(&self, answer: &Answer, env: &Envelope, pieces: usize) -> Vec<Bytes> {
        let mut events = message_start(env);
        events.push(event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ));
        events.push(ping());
        for piece in answer.content.iter().take(pieces) {
            events.push(event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        events
    }

    fn malformed_events(&self, _env: &Envelope) -> Vec<Bytes> {
        vec![Bytes::from_static(
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\n\n",
        )]
    }

    fn error(&self, status: u16, model: &str) -> Value {
        let kind = error_type(status);
        let message = match kind {
            "authentication_error" => "invalid x-api-key".to_string(),
            "permission_error" => {
                "Your API key does not have permission to use the specified resource.".to_string()
            }
            "not_found_error" => format!("model: {model}"),
            "request_too_large" => {
                "Request exceeds the maximum allowed number of bytes.".to_string()
            }
            "rate_limit_error" => {
                "Number of request tokens has exceeded your per-minute rate limit.".to_string()
            }
            "overloaded_error" => "Overloaded".to_string(),
            "api_error" => "Internal server error".to_string(),
            _ => format!("Invalid request to mock model '{model}'."),
        };
        error_body(kind, &message)
    }

    fn not_json_error(&self) -> Value {
        error_body(
            "invalid_request_error",
            "There was an error parsing the body of your request.",
        )
    }

    fn context_length_error(&self) -> Value {
        error_body(
            "invalid_request_error",
            "prompt is too long: 230000 tokens > 200000 maximum",
        )
    }

    fn midstream_error_event(&self) -> Bytes {
        event("error", &error_body("overloaded_error", "Overloaded"))
    }

    fn midstream_error_whole(&self) -> Rejection {
        // Without a stream the failure can only be a status.
        (StatusCode::INTERNAL_SERVER_ERROR, self.error(500, ""))
    }
}

/// The error `type` Anthropic sends with each status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 | 504 => "timeout_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        502 | 503 | 529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// `{"type":"error","error":{"type","message"}}`.
fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

fn invalid(message: &str) -> Rejection {
    (
        StatusCode::BAD_REQUEST,
        error_body("invalid_request_error", message),
    )
}

/// What the real API refuses in a body, worded like it.
fn request_error(body: &Value) -> Option<String> {
    if !body["model"].is_string() {
        return Some("model: Field required".into());
    }
    if !body["max_tokens"].is_u64() {
        return Some("max_tokens: Field required".into());
    }
    let messages = match body["messages"].as_array() {
        Some(messages) if !messages.is_empty() => messages,
        Some(_) => return Some("messages: at least one message is required".into()),
        None => return Some("messages: Field required".into()),
    };
    let mut previous_tool_uses: Vec<&str> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message["role"].as_str().unwrap_or("");
        if role != "user" && role != "assistant" {
            return Some(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            ));
        }
        let blocks = message["content"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if role == "user" {
            for block in blocks.iter().filter(|b| b["type"] == "tool_result") {
                let id = block["tool_use_id"].as_str().unwrap_or("");
                if !previous_tool_uses.contains(&id) {
                    return Some(format!(
                        "messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    ));
                }
            }
        }
        previous_tool_uses = blocks
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .filter_map(|b| b["id"].as_str())
            .collect();
    }
    None
}

/// `usage` with the same numbers the OpenAI wire reports: `input_tokens` excludes the cache
/// reads, as Anthropic counts them.
fn usage(output_tokens: u64) -> Value {
    json!({
        "input_tokens": PROMPT_TOKENS - CACHED_TOKENS,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": CACHED_TOKENS,
        "output_tokens": output_tokens,
    })
}

/// OpenAI's finish reason, as Anthropic names it.
fn stop_reason(answer: &Answer) -> &'static str {
    if answer.stop_sequence.is_some() {
        return "stop_sequence";
    }
    match answer.finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// `call_x` ids as Anthropic spells tool ids (`toolu_x`).
fn tool_use_id(id: &str) -> String {
    format!("toolu_{}", id.strip_prefix("call_").unwrap_or(id))
}

/// Every tool call of the answer (name, argument fragments), legacy function call included.
fn tool_calls(answer: &Answer) -> Vec<(String, String, &[String])> {
    let mut calls: Vec<(String, String, &[String])> = answer
        .tool_calls
        .iter()
        .map(|c| (tool_use_id(&c.id), c.name.clone(), c.fragments.as_slice()))
        .collect();
    if let Some((name, fragments)) = &answer.function_call {
        calls.push((tool_use_id("call_mock_function"), name.clone(), fragments));
    }
    calls
}

/// The `content` array of a whole answer.
fn content_blocks(answer: &Answer) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !answer.reasoning.is_empty() {
        blocks.push(json!({"type": "thinking", "thinking": answer.reasoning.concat(), "signature": REASONING_SIGNATURE}));
    }
    if !answer.content.is_empty() {
        blocks.push(json!({"type": "text", "text": answer.content.concat()}));
    }
    for (id, name, fragments) in tool_calls(answer) {
        let input: Value = serde_json::from_str(&fragments.concat()).unwrap_or(json!({}));
        blocks.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
    }
    blocks
}

/// One content block of a stream: its `content_block_start` payload and its deltas.
struct StreamBlock {
    start: Value,
    deltas: Vec<Value>,
}

fn stream_blocks(answer: &Answer) -> Vec<StreamBlock> {
    let mut blocks = Vec::new();
    if !answer.reasoning.is_empty() {
        let mut deltas: Vec<Value> = answer
            .reasoning
            .iter()
            .map(|piece| json!({"type": "thinking_delta", "thinking": piece}))
            .collect();
        deltas.push(json!({"type": "signature_delta", "signature": REASONING_SIGNATURE}));
        blocks.push(StreamBlock {
            start: json!({"type": "thinking", "thinking": "", "signature": ""}),
            deltas,
        });
    }
    if !answer.content.is_empty() {
        blocks.push(StreamBlock {
            start: json!({"type": "text", "text": ""}),
            deltas: answer
                .content
                .iter()
                .map(|piece| json!({"type": "text_delta", "text": piece}))
                .collect(),
        });
    }
    for (id, name, fragments) in tool_calls(answer) {
        blocks.push(StreamBlock {
            start: json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
            deltas: fragments
                .iter()
                .map(|f| json!({"type": "input_json_delta", "partial_json": f}))
                .collect(),
        });
    }
    blocks
}

fn message_start(env: &Envelope) -> Vec<Bytes> {
    vec![event(
        "message_start",
        &json!({"type": "message_start", "message": {
            "id": env.id, "type": "message", "role": "assistant", "content": [],
            "model": env.model, "stop_reason": null, "stop_sequence": null,
            "usage": usage(1),
        }}),
    )]
}

fn ping() -> Bytes {
    event("ping", &json!({"type": "ping"}))
}

/// One SSE frame `event: <name>\ndata: <json>\n\n`.
fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}
