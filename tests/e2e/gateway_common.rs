//! Helpers shared by the `gateway*` end-to-end tests: small requests, raw HTTP calls,
//! Anthropic error-shape checks, and a validator of Anthropic SSE streams that checks the
//! event grammar and rebuilds the message it carries.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ccr_tests::sse::{self, SseEvent};
use ccr_tests::{MockUpstream, Proxy};
use serde_json::{json, Map, Value};

/// Upper bound for anything we poll for (never a speed claim; only against hangs).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A minimal Messages request for `model`.
pub fn request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello"}],
    })
}

/// What came back from a non-streaming call.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON (panics with the text if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn collect(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        text,
    }
}

/// `POST /v1/messages` through the harness (adds the config's `APIKEY`, if any).
pub async fn post(proxy: &Proxy, body: &Value) -> Answer {
    collect(proxy.post_messages(body).await).await
}

/// `POST {path}` with raw bytes and exactly these headers (no API key added).
pub async fn post_raw(
    proxy: &Proxy,
    path: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = proxy
        .client()
        .post(format!("{}{path}", proxy.base_url()))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path} failed: {e}\n{}", proxy.logs()));
    collect(response).await
}

/// `GET {path}` with these headers.
pub async fn get(proxy: &Proxy, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = proxy.client().get(format!("{}{path}", proxy.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}\n{}", proxy.logs()));
    collect(response).await
}

/// `GET /health/detailed` as JSON (with the config's key).
pub async fn health(proxy: &Proxy) -> Value {
    proxy.health().await
}

/// A streaming `POST /v1/messages`: status, headers and the parsed events.
pub async fn post_stream(
    proxy: &Proxy,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Vec<SseEvent>) {
    let response = proxy.post_messages(body).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    (status, headers, sse::parse(&text))
}

/// Asserts `answer` is an Anthropic error with this status and `error.type`, and returns its
/// message.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, error_type: &str) -> String {
    assert_eq!(
        answer.status, status,
        "expected {status} {error_type}, got {} {}",
        answer.status, answer.text
    );
    let body = answer.json();
    assert_error_body(&body, error_type)
}

/// Asserts `body` is exactly `{"type":"error","error":{"type":error_type,"message":<non-empty>}}`
/// (extra top-level fields such as `request_id` are allowed) and returns the message.
#[track_caller]
pub fn assert_error_body(body: &Value, error_type: &str) -> String {
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], error_type, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error.message is not a string: {body}"));
    assert!(!message.is_empty(), "{body}");
    message.to_string()
}

/// The whole text of a message's `text` blocks.
pub fn text_of(message: &Value) -> String {
    message["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// The upstream request body the mock's `echo` model sent back as text.
pub fn echoed(message: &Value) -> Value {
    let text = text_of(message);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("echo text is not JSON ({e}): {text}"))
}

/// How a stream ended.
#[derive(Debug)]
pub struct Stream {
    /// The message rebuilt from the events: `id`, `model`, `role`, `content` (blocks as in a
    /// non-streaming answer, tool inputs parsed), `stop_reason`, `usage` (message_start's,
    /// updated by message_delta's).
    pub message: Value,
    /// The `error` event's payload, when the stream ended with one.
    pub error: Option<Value>,
    /// How many `ping` events were seen.
    pub pings: usize,
    /// The raw `partial_json` fragments per block index (tool_use blocks).
    pub json_fragments: Vec<(usize, Vec<String>)>,
}

/// Checks Anthropic's stream grammar and rebuilds the message. Panics (with all events) on
/// any violation:
/// - every event is named, its data is JSON whose `type` is the name;
/// - `message_start` first (pings aside), with an empty `content` and a null `stop_reason`;
/// - blocks are started with indexes 0, 1, 2... one at a time, deltas and the stop carry the
///   open block's index, delta types match the block type, a thinking block's
///   `signature_delta` comes once and last;
/// - then one `message_delta` (no block open) with a `stop_reason`, then `message_stop`, and
///   nothing after it;
/// - or, at any point after the response started, one `error` event that is the last event.
#[track_caller]
pub fn check_stream(events: &[SseEvent]) -> Stream {
    let dump = || {
        events
            .iter()
            .map(|e| format!("{:?}: {}", e.event, e.data))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let fail = |why: String| -> ! {
        panic!(
            "invalid Anthropic stream: {why}\n--- events ---\n{}",
            dump()
        )
    };

    let mut message: Option<Map<String, Value>> = None;
    let mut blocks: Vec<Value> = Vec::new();
    let mut partial: Vec<String> = Vec::new();
    let mut fragments: Vec<(usize, Vec<String>)> = Vec::new();
    let mut open: Option<usize> = None;
    let mut signed = false;
    let mut delta_seen = false;
    let mut stopped = false;
    let mut error = None;
    let mut pings = 0;

    for (n, event) in events.iter().enumerate() {
        let name = event
            .event
            .as_deref()
            .unwrap_or_else(|| fail(format!("event {n} has no `event:` name")));
        let data = event
            .json()
            .unwrap_or_else(|| fail(format!("event {n} ({name}) data is not JSON")));
        if data["type"] != name {
            fail(format!(
                "event {n}: data.type {} != event name {name}",
                data["type"]
            ));
        }
        if stopped {
            fail(format!("event {n} ({name}) after message_stop"));
        }
        if error.is_some() {
            fail(format!("event {n} ({name}) after an error event"));
        }
        if name == "ping" {
            pings += 1;
            continue;
        }
        if name == "error" {
            assert_error_body(&data, data["error"]["type"].as_str().unwrap_or("?"));
            error = Some(data);
            continue;
        }
        if message.is_none() {
            if name != "message_start" {
                fail(format!("first event is {name}, not message_start"));
            }
            let m = data["message"].clone();
            if m["type"] != "message" || m["role"] != "assistant" {
                fail(format!(
                    "message_start.message is not an assistant message: {m}"
                ));
            }
            if m["content"] != json!([]) || !m["stop_reason"].is_null() {
                fail(format!(
                    "message_start.message must have content [] and stop_reason null: {m}"
                ));
            }
            if !m["id"].as_str().is_some_and(|id| id.starts_with("msg_")) {
                fail(format!("message id should start with msg_: {m}"));
            }
            if !m["usage"].is_object() {
                fail(format!("message_start without usage: {m}"));
            }
            message = Some(m.as_object().cloned().unwrap_or_default());
            continue;
        }
        match name {
            "message_start" => fail(format!("event {n}: a second message_start")),
            "content_block_start" => {
                if delta_seen {
                    fail(format!(
                        "event {n}: content_block_start after message_delta"
                    ));
                }
                if let Some(i) = open {
                    fail(format!("event {n}: block {i} is still open"));
                }
                let index = data["index"].as_u64().unwrap_or(u64::MAX) as usize;
                if index != blocks.len() {
                    fail(format!(
                        "event {n}: block index {index}, expected {}",
                        blocks.len()
                    ));
                }
                let block = data["content_block"].clone();
                match block["type"].as_str() {
                    Some("text") => {
                        if block["text"] != "" {
                            fail(format!("text block must start empty: {block}"));
                        }
                    }
                    Some("thinking") => {
                        if block["thinking"] != "" {
                            fail(format!("thinking block must start empty: {block}"));
                        }
                    }
                    Some("tool_use") => {
                        if block["input"] != json!({}) {
                            fail(format!("tool_use must start with input {{}}: {block}"));
                        }
                        let named = |key: &str| block[key].as_str().is_some_and(|s| !s.is_empty());
                        if !named("id") || !named("name") {
                            fail(format!("tool_use without id or name: {block}"));
                        }
                    }
                    Some("redacted_thinking") => {}
                    _ => fail(format!("unknown content block type: {block}")),
                }
                blocks.push(block);
                partial.push(String::new());
                fragments.push((index, Vec::new()));
                open = Some(index);
                signed = false;
            }
            "content_block_delta" => {
                let index = data["index"].as_u64().unwrap_or(u64::MAX) as usize;
                if open != Some(index) {
                    fail(format!(
                        "event {n}: delta for block {index}, open is {open:?}"
                    ));
                }
                let block = &mut blocks[index];
                let delta = &data["delta"];
                let block_type = block["type"].as_str().unwrap_or("").to_string();
                let delta_type = delta["type"].as_str().unwrap_or("").to_string();
                match (block_type.as_str(), delta_type.as_str()) {
                    ("text", "text_delta") => {
                        let text = delta["text"]
                            .as_str()
                            .unwrap_or_else(|| fail(format!("text_delta without text: {delta}")));
                        let joined = format!("{}{text}", block["text"].as_str().unwrap_or(""));
                        block["text"] = json!(joined);
                    }
                    ("thinking", "thinking_delta") => {
                        if signed {
                            fail(format!("event {n}: thinking_delta after signature_delta"));
                        }
                        let text = delta["thinking"].as_str().unwrap_or_else(|| {
                            fail(format!("thinking_delta without thinking: {delta}"))
                        });
                        let joined = format!("{}{text}", block["thinking"].as_str().unwrap_or(""));
                        block["thinking"] = json!(joined);
                    }
                    ("thinking", "signature_delta") => {
                        if signed {
                            fail(format!("event {n}: a second signature_delta"));
                        }
                        signed = true;
                        block["signature"] = delta["signature"].clone();
                    }
                    ("tool_use", "input_json_delta") => {
                        let piece = delta["partial_json"].as_str().unwrap_or_else(|| {
                            fail(format!("input_json_delta without partial_json: {delta}"))
                        });
                        partial[index].push_str(piece);
                        fragments[index].1.push(piece.to_string());
                    }
                    (block_type, delta_type) => fail(format!(
                        "event {n}: {delta_type} delta in a {block_type} block"
                    )),
                }
            }
            "content_block_stop" => {
                let index = data["index"].as_u64().unwrap_or(u64::MAX) as usize;
                if open != Some(index) {
                    fail(format!(
                        "event {n}: stop for block {index}, open is {open:?}"
                    ));
                }
                let block = &mut blocks[index];
                if block["type"] == "tool_use" {
                    let text = if partial[index].is_empty() {
                        "{}"
                    } else {
                        &partial[index]
                    };
                    let input: Value = serde_json::from_str(text).unwrap_or_else(|e| {
                        fail(format!(
                            "tool input of block {index} is not JSON ({e}): {text:?}"
                        ))
                    });
                    if !input.is_object() {
                        fail(format!(
                            "tool input of block {index} is not an object: {input}"
                        ));
                    }
                    block["input"] = input;
                }
                if block["type"] == "thinking" && !signed {
                    fail(format!(
                        "thinking block {index} closed without a signature_delta"
                    ));
                }
                open = None;
            }
            "message_delta" => {
                if let Some(i) = open {
                    fail(format!("event {n}: message_delta while block {i} is open"));
                }
                if delta_seen {
                    fail(format!("event {n}: a second message_delta"));
                }
                delta_seen = true;
                let m = message.as_mut().expect("message_start seen");
                let stop = &data["delta"]["stop_reason"];
                if !stop.is_string() {
                    fail(format!("message_delta without a stop_reason: {data}"));
                }
                m.insert("stop_reason".into(), stop.clone());
                m.insert(
                    "stop_sequence".into(),
                    data["delta"]["stop_sequence"].clone(),
                );
                let usage = data["usage"]
                    .as_object()
                    .unwrap_or_else(|| fail(format!("message_delta without usage: {data}")));
                if !usage.get("output_tokens").is_some_and(Value::is_u64) {
                    fail(format!("message_delta usage without output_tokens: {data}"));
                }
                let merged = m
                    .entry("usage")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("usage object");
                for (k, v) in usage {
                    merged.insert(k.clone(), v.clone());
                }
            }
            "message_stop" => {
                if !delta_seen {
                    fail(format!("event {n}: message_stop without message_delta"));
                }
                stopped = true;
            }
            other => fail(format!("event {n}: unexpected event {other}")),
        }
    }
    if error.is_none() {
        if message.is_none() {
            fail("no message_start".into());
        }
        if !stopped {
            fail("the stream did not end with message_stop".into());
        }
    }
    let mut message = message.map(Value::Object).unwrap_or_else(|| json!({}));
    message["content"] = Value::Array(blocks);
    Stream {
        message,
        error,
        pings,
        json_fragments: fragments,
    }
}

/// Polls `check` every 50 ms until it returns Some, or panics after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `model` of the most recent chat completion the mock received.
pub fn last_upstream_model(mock: &MockUpstream) -> Option<String> {
    mock.requests()
        .iter()
        .rev()
        .find(|r| r.path.ends_with("/chat/completions"))
        .and_then(|r| r.body["model"].as_str().map(str::to_string))
}
