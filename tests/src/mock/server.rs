//! The HTTP side of the mock: accept loop, routing, recording, and turning a [`Plan`] into a
//! response. Plain hyper rather than axum because some faults (closing the connection before
//! any response byte, cutting a body short) need control a framework hides.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::Stream;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{json, Value};

use super::answer::{answer_for, text_answer, Answer, Envelope};
use super::behaviour::{Behaviour, Plan};
use super::wire::{Wire, WireProtocol};
use super::{MockOptions, RecordedRequest, SlowStream, MODEL_NAMES};

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
    /// The slow static streams, when on: the events without and with the usage chunk.
    slow: Option<SlowEvents>,
    stats: Arc<Counters>,
}

/// The precomputed events of the slow static streams ([`MockOptions::slow_stream`]).
struct SlowEvents {
    plain: Arc<[Bytes]>,
    usage: Arc<[Bytes]>,
    interval: Duration,
}

/// Counts a connection as open from its first `POST` to its end.
struct OpenConnection {
    counters: Arc<Counters>,
    posted: std::sync::atomic::AtomicBool,
}

impl OpenConnection {
    fn new(counters: Arc<Counters>) -> OpenConnection {
        OpenConnection {
            counters,
            posted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn carried_a_post(&self) {
        if !self.posted.swap(true, Ordering::Relaxed) {
            let c = &self.counters;
            let open = c.open_post_connections.fetch_add(1, Ordering::Relaxed) + 1;
            c.max_open_post_connections
                .fetch_max(open, Ordering::Relaxed);
        }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        if self.posted.load(Ordering::Relaxed) {
            let open = &self.counters.open_post_connections;
            open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What [`MockStats`] reports, counted as it happens.
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    open_post_connections: AtomicU64,
    max_open_post_connections: AtomicU64,
    http1_requests: AtomicU64,
    http2_requests: AtomicU64,
    slow_streams: AtomicU64,
    slow_streams_finished: AtomicU64,
    open_slow_streams: AtomicU64,
    max_open_slow_streams: AtomicU64,
}

/// What a mock has served so far ([`MockUpstream::stats`](super::MockUpstream::stats), or
/// `GET /mock/stats` as JSON with these field names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections that carried a `POST` (a chat request; not `/health` or these stats) and
    /// are open right now.
    pub open_post_connections: u64,
    /// The most such connections that were open at the same time.
    pub max_open_post_connections: u64,
    /// Requests received over HTTP/1.x.
    pub http1_requests: u64,
    /// Requests received over HTTP/2.
    pub http2_requests: u64,
    /// Slow static streams started.
    pub slow_streams: u64,
    /// Slow static streams whose last event was handed to the connection.
    pub slow_streams_finished: u64,
    /// Slow static streams open right now.
    pub open_slow_streams: u64,
    /// The most slow static streams that were open at the same time.
    pub max_open_slow_streams: u64,
}

impl MockStats {
    /// The JSON object `GET /mock/stats` answers.
    pub fn to_json(&self) -> Value {
        json!({
            "connections": self.connections,
            "open_post_connections": self.open_post_connections,
            "max_open_post_connections": self.max_open_post_connections,
            "http1_requests": self.http1_requests,
            "http2_requests": self.http2_requests,
            "slow_streams": self.slow_streams,
            "slow_streams_finished": self.slow_streams_finished,
            "open_slow_streams": self.open_slow_streams,
            "max_open_slow_streams": self.max_open_slow_streams,
        })
    }

    /// Reads what [`MockStats::to_json`] wrote (missing fields are 0).
    pub fn from_json(value: &Value) -> MockStats {
        let field = |name: &str| value[name].as_u64().unwrap_or(0);
        MockStats {
            connections: field("connections"),
            open_post_connections: field("open_post_connections"),
            max_open_post_connections: field("max_open_post_connections"),
            http1_requests: field("http1_requests"),
            http2_requests: field("http2_requests"),
            slow_streams: field("slow_streams"),
            slow_streams_finished: field("slow_streams_finished"),
            open_slow_streams: field("open_slow_streams"),
            max_open_slow_streams: field("max_open_slow_streams"),
        }
    }
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
        let slow = options.slow_stream.map(|pace| {
            let events = |include_usage| slow_events(openai, pace, &env(include_usage));
            SlowEvents {
                plain: events(false),
                usage: events(true),
                interval: pace.interval,
            }
        });
        State {
            record: options.record,
            static_responses: options.static_responses,
            requests,
            counter: AtomicU64::new(0),
            static_json: Bytes::from(openai.message(&answer, &env(false)).to_string()),
            static_sse: sse(false),
            static_sse_usage: sse(true),
            slow,
            stats: Arc::default(),
        }
    }

    /// The counters as they are now.
    pub(super) fn stats(&self) -> MockStats {
        let c = &self.stats;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MockStats {
            connections: get(&c.connections),
            open_post_connections: get(&c.open_post_connections),
            max_open_post_connections: get(&c.max_open_post_connections),
            http1_requests: get(&c.http1_requests),
            http2_requests: get(&c.http2_requests),
            slow_streams: get(&c.slow_streams),
            slow_streams_finished: get(&c.slow_streams_finished),
            open_slow_streams: get(&c.open_slow_streams),
            max_open_slow_streams: get(&c.max_open_slow_streams),
        }
    }
}

/// Exactly `pace.events` chunk events (role, `" tok"` deltas, finish, usage if asked for),
/// `[DONE]` glued to the last one so that it leaves with it.
fn slow_events(openai: &dyn WireProtocol, pace: SlowStream, env: &Envelope) -> Arc<[Bytes]> {
    let events = pace.events.max(3);
    let fixed = if env.include_usage { 3 } else { 2 };
    let pieces = vec![" tok"; events - fixed];
    let answer = Answer::text(&pieces, "stop");
    let mut out = openai.events(&answer, env);
    let done = out.pop().expect("[DONE]");
    let last = out.pop().expect("a last chunk");
    out.push(Bytes::from([last, done].concat()));
    debug_assert_eq!(out.len(), events);
    out.into()
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
        state.stats.connections.fetch_add(1, Ordering::Relaxed);
        let open = OpenConnection::new(state.stats.clone());
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let open = Arc::new(open);
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let state = state.clone();
                if request.method() == Method::POST {
                    open.carried_a_post();
                }
                async move { handle(&state, request).await }
            });
            // HTTP/1.1, or HTTP/2 with prior knowledge (h2c) when the connection opens with
            // the HTTP/2 preface; either way one connection per task.
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().keep_alive(true);
            builder
                .http2()
                // A proxy may multiplex every stream of a load test on one connection.
                .max_concurrent_streams(Some(1_000_000))
                .initial_connection_window_size(Some(16 << 20))
                .initial_stream_window_size(Some(1 << 20));
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Result<Response<Body>, HangUp> {
    let version = match request.version() {
        Version::HTTP_2 => &state.stats.http2_requests,
        _ => &state.stats.http1_requests,
    };
    version.fetch_add(1, Ordering::Relaxed);
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
    if parts.method == Method::GET && path == "/mock/stats" {
        return Ok(json_response(StatusCode::OK, &state.stats().to_json()));
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
    if let Some(slow) = &state.slow {
        let events = if usage { &slow.usage } else { &slow.plain };
        let body = PacedBody::new(events.clone(), slow.interval, state);
        let mut response = Response::new(BodyExt::boxed_unsync(body));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert("cache-control", HeaderValue::from_static("no-cache"));
        return response;
    }
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

/// A slow static stream: precomputed events, the first at once, then one every `interval`
/// on a fixed cadence. One timer per stream and no task of its own: the connection polls it.
struct PacedBody {
    events: Arc<[Bytes]>,
    next: usize,
    interval: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    counters: Arc<Counters>,
}

impl PacedBody {
    fn new(events: Arc<[Bytes]>, interval: Duration, state: &State) -> PacedBody {
        let counters = state.stats.clone();
        counters.slow_streams.fetch_add(1, Ordering::Relaxed);
        let open = counters.open_slow_streams.fetch_add(1, Ordering::Relaxed) + 1;
        counters
            .max_open_slow_streams
            .fetch_max(open, Ordering::Relaxed);
        PacedBody {
            events,
            next: 0,
            interval,
            timer: Box::pin(tokio::time::sleep(interval)),
            counters,
        }
    }
}

impl hyper::body::Body for PacedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        let Some(event) = this.events.get(this.next).cloned() else {
            return Poll::Ready(None);
        };
        if this.next == 0 {
            // The first event leaves with the head; the second is due one interval later.
            let due = tokio::time::Instant::now() + this.interval;
            this.timer.as_mut().reset(due);
        } else {
            if this.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = this.timer.deadline() + this.interval;
            this.timer.as_mut().reset(due);
        }
        this.next += 1;
        if this.next == this.events.len() {
            let finished = &this.counters.slow_streams_finished;
            finished.fetch_add(1, Ordering::Relaxed);
        }
        Poll::Ready(Some(Ok(Frame::data(event))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.events.len()
    }
}

impl Drop for PacedBody {
    fn drop(&mut self) {
        self.counters
            .open_slow_streams
            .fetch_sub(1, Ordering::Relaxed);
    }
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
    use std::time::Duration;

    use serde_json::{json, Value};

    use crate::mock::{MockOptions, MockUpstream, SlowStream};
    use crate::sse;

    fn slow_mock(events: usize) -> MockUpstream {
        MockUpstream::start_with(MockOptions {
            record: false,
            static_responses: true,
            slow_stream: Some(SlowStream {
                events,
                interval: Duration::from_millis(5),
            }),
            ..MockOptions::default()
        })
    }

    async fn chunks(client: &reqwest::Client, mock: &MockUpstream, body: Value) -> Vec<Value> {
        let response = client
            .post(mock.chat_url())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let text = response.text().await.unwrap();
        let events = sse::parse(&text);
        assert_eq!(events.last().unwrap().data, "[DONE]", "{text}");
        events[..events.len() - 1]
            .iter()
            .map(|e| e.json().expect("a JSON chunk"))
            .collect()
    }

    #[tokio::test]
    async fn slow_streams_have_exactly_the_events_asked_for_over_http1_and_h2c() {
        let mock = slow_mock(6);
        let http1 = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .build()
            .unwrap();
        let h2c = reqwest::Client::builder()
            .no_proxy()
            .http2_prior_knowledge()
            .build()
            .unwrap();

        let plain = json!({"model": "x", "stream": true, "messages": []});
        let with_usage = json!({"model": "x", "stream": true,
            "stream_options": {"include_usage": true}, "messages": []});
        for client in [&http1, &h2c] {
            let events = chunks(client, &mock, plain.clone()).await;
            assert_eq!(events.len(), 6);
            assert_eq!(events[0]["choices"][0]["delta"]["role"], "assistant");
            for event in &events[1..5] {
                assert_eq!(event["object"], "chat.completion.chunk");
                assert_eq!(event["choices"][0]["delta"]["content"], " tok");
            }
            assert_eq!(events[5]["choices"][0]["finish_reason"], "stop");

            let events = chunks(client, &mock, with_usage.clone()).await;
            assert_eq!(events.len(), 6);
            assert_eq!(events[4]["choices"][0]["finish_reason"], "stop");
            assert_eq!(events[5]["choices"], json!([]));
            assert!(events[5]["usage"]["completion_tokens"].is_u64());
        }

        // Non-streaming requests keep the static JSON answer.
        let response = http1
            .post(mock.chat_url())
            .json(&json!({"model": "x", "messages": []}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["object"], "chat.completion");

        let stats = mock.stats();
        assert_eq!(stats.http1_requests, 3);
        assert_eq!(stats.http2_requests, 2);
        assert_eq!(stats.slow_streams, 4);
        assert_eq!(stats.slow_streams_finished, 4);
        assert_eq!(stats.open_slow_streams, 0);
        assert!(stats.max_open_slow_streams >= 1);

        // The same counters over HTTP.
        let served: Value = http1
            .get(format!("{}/mock/stats", mock.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(crate::mock::MockStats::from_json(&served).slow_streams, 4);
    }

    #[tokio::test]
    async fn many_slow_streams_share_one_h2c_connection() {
        let mock = slow_mock(3);
        let h2c = reqwest::Client::builder()
            .no_proxy()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        let body = json!({"model": "x", "stream": true, "messages": []});
        let streams = (0..300).map(|_| chunks(&h2c, &mock, body.clone()));
        for events in futures::future::join_all(streams).await {
            assert_eq!(events.len(), 3);
        }
        let stats = mock.stats();
        assert_eq!(stats.connections, 1, "{stats:?}");
        assert_eq!(stats.max_open_post_connections, 1, "{stats:?}");
        assert_eq!(stats.http2_requests, 300);
        assert_eq!(stats.slow_streams_finished, 300);
    }

    #[test]
    fn slow_stream_syntax() {
        assert_eq!(
            SlowStream::parse("50,200"),
            Some(SlowStream {
                events: 50,
                interval: Duration::from_millis(200)
            })
        );
        assert_eq!(SlowStream::parse("50"), None);
        assert_eq!(SlowStream::parse("x,1"), None);
    }
}
