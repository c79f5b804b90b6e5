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
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::answer::{answer_for, text_answer, Envelope};
use super::behaviour::{Behaviour, Plan};
use super::wire::{Wire, WireProtocol};
use super::{MockOptions, RecordedRequest, MODEL_NAMES};

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
        let openai = Wire::OpenAi.protocol();
        let sse = |include_usage| Bytes::from(openai.events(&answer, &env(include_usage)).concat());
        State {
            record: options.record,
            static_responses: options.static_responses,
            requests,
            counter: AtomicU64::new(0),
            static_json: Bytes::from(openai.message(&answer, &env(false)).to_string()),
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
    let wire = match parts.method {
        Method::POST => Wire::for_path(&path),
        _ => None,
    };
    let is_openai = wire == Some(Wire::OpenAi);

    if is_openai && state.static_responses && !state.record {
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

    if is_openai && state.static_responses {
        return Ok(static_response(state, &bytes));
    }
    if let Some(wire) = wire {
        return answer_request(state, wire.protocol(), &parts.headers, body_json).await;
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
        &json!({"error": {
            "message": format!("Unknown request URL: {} {path}.", parts.method),
            "type": "invalid_request_error",
            "param": null,
            "code": "unknown_url"
        }}),
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

/// Answers one chat request on `wire` as its model name's [`Plan`] says.
async fn answer_request(
    state: &State,
    wire: &dyn WireProtocol,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response<Body>, HangUp> {
    if !body.is_object() {
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            &wire.not_json_error(),
        ));
    }
    if let Err((status, error)) = wire.validate(headers, &body) {
        return Ok(json_response(status, &error));
    }
    let model = body["model"].as_str().unwrap_or("text").to_string();
    let plan = Plan::from_model(&model);
    let stream = wire.wants_stream(&body);
    let env = Envelope {
        id: format!(
            "{}{:08}",
            wire.id_prefix(),
            state.counter.fetch_add(1, Ordering::Relaxed)
        ),
        created: now(),
        model,
        include_usage: body["stream_options"]["include_usage"] == Value::Bool(true),
    };

    if let Some(delay) = plan.first_byte_delay {
        tokio::time::sleep(delay).await;
    }

    let data = |events: Vec<Bytes>| events.into_iter().map(Event::Data).collect::<Vec<_>>();
    match plan.behaviour {
        Behaviour::HttpError(status) => {
            let mut response = json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &wire.error(status, &env.model),
            );
            if status == 429 {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static("1"));
            }
            Ok(response)
        }
        Behaviour::ContextLength => Ok(json_response(
            StatusCode::BAD_REQUEST,
            &wire.context_length_error(),
        )),
        Behaviour::DropEarly => Err(HangUp),
        Behaviour::MidstreamError if !stream => {
            let (status, error) = wire.midstream_error_whole();
            Ok(json_response(status, &error))
        }
        Behaviour::MidstreamError => {
            let mut events = data(wire.events_until_text(&text_answer(), &env, 2));
            events.push(Event::Data(wire.midstream_error_event()));
            Ok(sse_response(events, plan.chunk_delay))
        }
        Behaviour::Malformed if !stream => {
            let full = Bytes::from(wire.message(&text_answer(), &env).to_string());
            let cut = full.slice(..full.len() / 2);
            Ok(bytes_response(StatusCode::OK, "application/json", cut))
        }
        Behaviour::Malformed => {
            let mut events = data(wire.events_until_text(&text_answer(), &env, 1));
            events.extend(data(wire.malformed_events(&env)));
            Ok(sse_response(events, plan.chunk_delay))
        }
        Behaviour::Drop if !stream => {
            let full = Bytes::from(wire.message(&text_answer(), &env).to_string());
            let half = full.slice(..full.len() / 2);
            let mut response = Response::new(body_of(vec![Event::Data(half), Event::Cut], None));
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(full.len()));
            Ok(response)
        }
        Behaviour::Drop => {
            let mut events = data(wire.events_until_text(&text_answer(), &env, 2));
            events.push(Event::Cut);
            Ok(sse_response(events, plan.chunk_delay))
        }
        _ => {
            let answer = answer_for(&plan, &body, wire.tool_output(&body));
            if !stream {
                return Ok(json_response(StatusCode::OK, &wire.message(&answer, &env)));
            }
            Ok(sse_response(
                data(wire.events(&answer, &env)),
                plan.chunk_delay,
            ))
        }
    }
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
