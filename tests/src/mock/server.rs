//! The HTTP side of the mock: accept loop, routing, recording, and turning a [`Plan`] into a
//! response. Plain hyper rather than axum because some faults (closing the connection before
//! any response byte, cutting a body short) need control a framework hides.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::Stream;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::behaviour::{Behaviour, Plan};
use super::openai::{self, Answer, Envelope, ReasoningStyle, ToolCall, SSE_DONE, TEXT_ANSWER};
use super::{MockOptions, RecordedRequest, BASH_TOOL_ARGUMENTS, MODEL_NAMES};

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Returned by the handler to make hyper close the connection without answering.
#[derive(Debug)]
struct HangUp;

impl std::fmt::Display for HangUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mock upstream: connection dropped on purpose")
    }
}

impl std::error::Error for HangUp {}

/// Shared by every connection of one mock.
pub(super) struct State {
    record: bool,
    static_responses: bool,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    counter: AtomicU64,
    /// Precomputed answers of the static fast path.
    static_json: Bytes,
    static_sse: Bytes,
    static_sse_usage: Bytes,
}

impl State {
    pub(super) fn new(options: &MockOptions, requests: Arc<Mutex<Vec<RecordedRequest>>>) -> State {
        let answer = text_answer();
        let env = |include_usage| Envelope {
            id: "chatcmpl-mock-static".into(),
            created: now(),
            model: "static".into(),
            include_usage,
        };
        let sse = |include_usage| {
            let mut out = Vec::new();
            for chunk in answer.chunks(&env(include_usage)) {
                out.extend_from_slice(&openai::sse_data(&chunk));
            }
            out.extend_from_slice(SSE_DONE);
            Bytes::from(out)
        };
        State {
            record: options.record,
            static_responses: options.static_responses,
            requests,
            counter: AtomicU64::new(0),
            static_json: Bytes::from(answer.completion(&env(false)).to_string()),
            static_sse: sse(false),
            static_sse_usage: sse(true),
        }
    }
}

/// Accepts connections until `shutdown` fires or its sender is dropped.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut shutdown: tokio::sync::watch::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { handle(&state, request).await }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Result<Response<Body>, HangUp> {
    let (parts, body) = request.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(HangUp),
    };
    let path = parts.uri.path().to_string();
    let is_chat = parts.method == Method::POST && path.ends_with("/chat/completions");

    if is_chat && state.static_responses && !state.record {
        return Ok(static_response(state, &bytes));
    }

    let body_json = parse_body(&bytes);
    if state.record {
        let recorded = RecordedRequest {
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or(path.clone()),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body_json.clone(),
        };
        state.requests.lock().unwrap().push(recorded);
    }

    if is_chat {
        if state.static_responses {
            return Ok(static_response(state, &bytes));
        }
        return chat_completion(state, body_json).await;
    }
    if parts.method == Method::GET && path.ends_with("/models") {
        let data: Vec<Value> = MODEL_NAMES
            .iter()
            .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "ccr-mock"}))
            .collect();
        return Ok(json_response(
            StatusCode::OK,
            &json!({"object": "list", "data": data}),
        ));
    }
    if parts.method == Method::GET && path == "/health" {
        return Ok(json_response(StatusCode::OK, &json!({"status": "ok"})));
    }
    Ok(json_response(
        StatusCode::NOT_FOUND,
        &openai::error_body(
            &format!("Unknown request URL: {} {path}.", parts.method),
            "invalid_request_error",
            json!("unknown_url"),
        ),
    ))
}

fn parse_body(bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// The benchmark path: no JSON parsing, a byte scan decides JSON vs SSE.
fn static_response(state: &State, request: &[u8]) -> Response<Body> {
    let stream = contains(request, b"\"stream\":true") || contains(request, b"\"stream\": true");
    if !stream {
        return bytes_response(
            StatusCode::OK,
            "application/json",
            state.static_json.clone(),
        );
    }
    let usage = contains(request, b"\"include_usage\":true")
        || contains(request, b"\"include_usage\": true");
    let body = if usage {
        state.static_sse_usage.clone()
    } else {
        state.static_sse.clone()
    };
    let mut response = bytes_response(StatusCode::OK, "text/event-stream", body);
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-cache"));
    response
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

async fn chat_completion(state: &State, body: Value) -> Result<Response<Body>, HangUp> {
    if !body.is_object() {
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            &openai::error_body(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
                "invalid_request_error",
                Value::Null,
            ),
        ));
    }
    if let Some(message) = conversation_error(&body) {
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            &openai::error_body(&message, "invalid_request_error", Value::Null),
        ));
    }
    let model = body["model"].as_str().unwrap_or("text").to_string();
    let plan = Plan::from_model(&model);
    let stream = body["stream"] == Value::Bool(true);
    let env = Envelope {
        id: format!(
            "chatcmpl-mock{:08}",
            state.counter.fetch_add(1, Ordering::Relaxed)
        ),
        created: now(),
        model,
        include_usage: body["stream_options"]["include_usage"] == Value::Bool(true),
    };

    if let Some(delay) = plan.first_byte_delay {
        tokio::time::sleep(delay).await;
    }

    let answer = match plan.behaviour {
        Behaviour::Text | Behaviour::Stop | Behaviour::Static => text_answer(),
        Behaviour::Length => Answer::text(&["Hello", " from"], "length"),
        Behaviour::ContentFilter => Answer::text(&["Hello"], "content_filter"),
        Behaviour::Tools => tools_answer(),
        Behaviour::Reasoning | Behaviour::ReasoningOpenRouter => Answer {
            reasoning: vec!["Let me think".into(), " about this.".into()],
            reasoning_style: if plan.behaviour == Behaviour::Reasoning {
                ReasoningStyle::DeepSeek
            } else {
                ReasoningStyle::OpenRouter
            },
            ..text_answer()
        },
        Behaviour::FunctionCall => Answer {
            function_call: Some((
                "get_weather".into(),
                vec![r#"{"city":"#.into(), r#""Paris"}"#.into()],
            )),
            ..Answer::text(&[], "function_call")
        },
        Behaviour::Echo => {
            let text = body.to_string();
            Answer {
                content: split_in(&text, 3),
                ..text_answer()
            }
        }
        Behaviour::BashTool => bash_tool_answer(&body),
        Behaviour::HttpError(status) => {
            let mut response = json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &openai::error_for_status(status, &env.model),
            );
            if status == 429 {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
            }
            return Ok(response);
        }
        Behaviour::ContextLength => {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                &openai::context_length_error(),
            ))
        }
        Behaviour::DropEarly => return Err(HangUp),
        Behaviour::MidstreamError => {
            if !stream {
                return Ok(json_response(StatusCode::OK, &openai::midstream_error()));
            }
            let answer = text_answer();
            let mut events: Vec<Event> = answer.chunks(&env)[..3]
                .iter()
                .map(|c| Event::Data(openai::sse_data(c)))
                .collect();
            events.push(Event::Data(openai::sse_data(&openai::midstream_error())));
            return Ok(sse_response(events, plan.chunk_delay));
        }
        Behaviour::Malformed => {
            if !stream {
                let full = Bytes::from(text_answer().completion(&env).to_string());
                let cut = full.slice(..full.len() / 2);
                return Ok(bytes_response(StatusCode::OK, "application/json", cut));
            }
            let answer = text_answer();
            let chunks = answer.chunks(&env);
            let events = vec![
                Event::Data(openai::sse_data(&chunks[0])),
                Event::Data(openai::sse_data(&chunks[1])),
                Event::Data(Bytes::from(format!(
                    "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\n\n",
                    env.id
                ))),
                Event::Data(Bytes::from_static(SSE_DONE)),
            ];
            return Ok(sse_response(events, plan.chunk_delay));
        }
        Behaviour::Drop => {
            if !stream {
                let full = Bytes::from(text_answer().completion(&env).to_string());
                let half = full.slice(..full.len() / 2);
                let mut response =
                    Response::new(body_of(vec![Event::Data(half), Event::Cut], None));
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(CONTENT_LENGTH, HeaderValue::from(full.len()));
                return Ok(response);
            }
            let chunks = text_answer().chunks(&env);
            let mut events: Vec<Event> = chunks[..3]
                .iter()
                .map(|c| Event::Data(openai::sse_data(c)))
                .collect();
            events.push(Event::Cut);
            return Ok(sse_response(events, plan.chunk_delay));
        }
    };

    if !stream {
        return Ok(json_response(StatusCode::OK, &answer.completion(&env)));
    }
    let mut events: Vec<Event> = answer
        .chunks(&env)
        .iter()
        .map(|c| Event::Data(openai::sse_data(c)))
        .collect();
    events.push(Event::Data(Bytes::from_static(SSE_DONE)));
    Ok(sse_response(events, plan.chunk_delay))
}

fn text_answer() -> Answer {
    debug_assert_eq!(TEXT_ANSWER, "Hello from mock");
    Answer::text(&["Hello", " from", " mock"], "stop")
}

fn tools_answer() -> Answer {
    Answer {
        tool_calls: vec![
            ToolCall {
                id: "call_mock_weather".into(),
                name: "get_weather".into(),
                fragments: vec![r#"{"ci"#.into(), r#"ty":"Pa"#.into(), r#"ris"}"#.into()],
            },
            ToolCall {
                id: "call_mock_time".into(),
                name: "get_time".into(),
                fragments: vec![r#"{"tz"#.into(), r#"":"UTC"}"#.into()],
            },
        ],
        ..Answer::text(&[], "tool_calls")
    }
}

/// A tool call to `Bash` unless the conversation already has its result (a `tool` message
/// after the last assistant message), then a text quoting that result.
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

/// A model answering the conversation's last turn: the messages after the last assistant
/// message. Tool results there get an answer that quotes them; otherwise (a new request
/// from the user) the model calls Bash.
fn bash_tool_answer(body: &Value) -> Answer {
    let empty = Vec::new();
    let messages = body["messages"].as_array().unwrap_or(&empty);
    let after_assistant = messages
        .iter()
        .rposition(|m| m["role"] == "assistant")
        .map(|i| &messages[i + 1..])
        .unwrap_or(&[]);
    let tool_result = after_assistant
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .map(|m| message_text(&m["content"]));
    match tool_result {
        Some(output) => {
            let text = format!("The command printed: {}", output.trim());
            Answer {
                content: split_in(&text, 2),
                ..text_answer()
            }
        }
        None => Answer {
            tool_calls: vec![ToolCall {
                id: "call_mock_bash".into(),
                name: "Bash".into(),
                fragments: split_in(BASH_TOOL_ARGUMENTS, 3),
            }],
            ..Answer::text(&[], "tool_calls")
        },
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

/// Splits `text` into at most `n` non-empty pieces at char boundaries.
fn split_in(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let size = chars.len().div_ceil(n).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A piece of a streamed body.
enum Event {
    Data(Bytes),
    /// Abort the connection here.
    Cut,
}

type FrameStream = Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send>>;

/// A body that sends `events` in order, waiting `delay` before every event but the first.
fn body_of(events: Vec<Event>, delay: Option<Duration>) -> Body {
    let stream: FrameStream = Box::pin(futures::stream::unfold(
        (events.into_iter(), true),
        move |(mut events, first)| async move {
            let event = events.next()?;
            if let (false, Some(delay)) = (first, delay) {
                tokio::time::sleep(delay).await;
            }
            let item = match event {
                Event::Data(bytes) => Ok(Frame::data(bytes)),
                Event::Cut => {
                    // Let hyper flush what was sent so far, so the client really sees a
                    // response cut in the middle rather than no response.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("mock upstream: connection cut"))
                }
            };
            Some((item, (events, false)))
        },
    ));
    BodyExt::boxed_unsync(StreamBody::new(stream))
}

fn sse_response(events: Vec<Event>, delay: Option<Duration>) -> Response<Body> {
    let mut response = Response::new(body_of(events, delay));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    response
}

fn bytes_response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut response = Response::new(
        Full::new(body)
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    bytes_response(status, "application/json", Bytes::from(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_text() {
        assert_eq!(split_in("abcdefg", 3).concat(), "abcdefg");
        assert_eq!(split_in("abcdefg", 3).len(), 3);
        assert_eq!(split_in("é", 3), vec!["é".to_string()]);
    }
}
