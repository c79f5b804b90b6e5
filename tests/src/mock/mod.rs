//! [`MockUpstream`]: a real HTTP server on 127.0.0.1 that speaks the OpenAI Chat Completions
//! and the Anthropic Messages wire formats ([`Wire`], chosen by the request path) and picks
//! its behaviour per request from the `model` name (TensorZero style), so one mock serves
//! every test. The table below describes the OpenAI rendering; the Anthropic wire renders
//! the same scenarios as Messages objects, stream events and `{"type":"error"}` bodies (see
//! [`wire`]).
//!
//! # Endpoints
//!
//! - `POST …/chat/completions` (any path ending so; `/v1/chat/completions` is the canonical
//!   one, see [`MockUpstream::chat_url`]): JSON, or `text/event-stream` when `"stream": true`
//!   (`data: {chunk}\n\n` … `data: [DONE]\n\n`; with `stream_options.include_usage` every
//!   chunk carries `"usage": null` and a final `"choices": []` chunk carries the usage).
//! - `POST …/v1/messages`: the Anthropic Messages wire (`x-api-key`, `anthropic-version`
//!   checked; whole `message` objects or `message_start` … `message_stop` streams).
//! - `GET …/models`: `{"object":"list","data":[{"id", "object":"model", ...}]}` listing
//!   [`MODEL_NAMES`].
//! - `GET /health`: `{"status":"ok"}` (handy when the mock binary stands in for a process).
//! - `GET /mock/stats`: what the mock has served so far ([`MockStats`] as JSON), e.g. to check
//!   which HTTP version a proxy really used upstream.
//! - anything else: 404 with an OpenAI error body.
//!
//! Every port speaks HTTP/1.1 and HTTP/2 with prior knowledge (h2c, no upgrade): the first
//! bytes of a connection decide.
//!
//! Chat requests are checked as strict chat templates check them: a `system` message
//! anywhere but first, or a conversation whose last message is not a `user` or `tool`
//! message, gets 400 `invalid_request_error` (whatever the model name).
//!
//! Every request, whatever its path, is recorded ([`MockUpstream::requests`]) before it is
//! answered.
//!
//! # Model names
//!
//! The name is lower-cased and searched with `contains`, in the order below, so a provider
//! prefix or suffix does not matter (`openrouter/tools`, `models/error-503`, `mock-echo-v2`
//! all work). Unknown names answer like `text`.
//!
//! | name | answer |
//! |---|---|
//! | `text` (default) | `"Hello from mock"` ([`TEXT_ANSWER`]), streamed as `"Hello"`, `" from"`, `" mock"`; finish `stop`; usage [`PROMPT_TOKENS`] (of which [`CACHED_TOKENS`] in `prompt_tokens_details.cached_tokens`) and [`COMPLETION_TOKENS`] |
//! | `stop` | same as `text` |
//! | `stop-sequence` | `"Hello from"`, ended by the request's first stop sequence (` mock` without one): finish `stop` (Anthropic: `stop_reason` `stop_sequence` and `stop_sequence` set) |
//! | `static` | same answer, precomputed (see also [`MockOptions::static_responses`]) |
//! | `tools` | content `null`, two parallel tool calls: `call_mock_weather` `get_weather` `{"city":"Paris"}` and `call_mock_time` `get_time` `{"tz":"UTC"}`; streamed as two opening fragments (id, type, name, `""`) then argument fragments interleaved by `index`; finish `tool_calls` |
//! | `reasoning` | `reasoning_content` [`REASONING_TEXT`] (two deltas, each with `content: null`), then the text; `reasoning_tokens` [`REASONING_TOKENS`] |
//! | `reasoning-or` / `reasoning-openrouter` | the same through OpenRouter's `reasoning` + `reasoning_details` (`reasoning.text`; a last detail carries `signature` [`REASONING_SIGNATURE`]) |
//! | `length` | `"Hello from"`, finish `length` |
//! | `content-filter` | `"Hello"`, finish `content_filter` |
//! | `function-call` | legacy `function_call` `get_weather` `{"city":"Paris"}`, finish `function_call` |
//! | `error-NNN` (any 400..=599, e.g. `error-400`, `error-401`, `error-404`, `error-413`, `error-429`, `error-500`, `error-503`) | that status with OpenAI's body `{"error":{"message","type","param":null,"code"}}`; 429 also sends `retry-after: 1` |
//! | `context-length` | 400 `{"error":{…,"type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}` |
//! | `midstream-error` | stream: role chunk, `"Hello"`, `" from"`, then `data: {"error":{"message","type":"server_error","param":null,"code":"internal_server_error"}}` and the stream ends (no finish chunk, no `[DONE]`). Non-streaming: **200** whose body is that error object (as OpenRouter does) |
//! | `malformed` | non-streaming: 200 `application/json` whose body is truncated JSON. Stream: role chunk, `"Hello"`, then `data: {"id":"chatcmpl-…` (invalid JSON), then `data: [DONE]` |
//! | `drop` | stream: role chunk and two text chunks, then the connection is cut. Non-streaming: `content-length` of the full body, half of it sent, then the connection is cut |
//! | `drop-early` | the request is read, then the connection is closed without any response byte |
//! | `echo` | text = the compact JSON of the request body as received (parse it to assert what the proxy sent); streamed in three pieces. Headers are in [`MockUpstream::requests`] |
//! | `bash-tool` | Claude Code CLI round trip. If no `role:"tool"` message follows the last `assistant` message: one tool call `call_mock_bash` to `Bash` with `{"command":"echo ccr-roundtrip-$((6*7))","description":"Print a marker"}` ([`BASH_TOOL_ARGUMENTS`]), finish `tool_calls`. Otherwise: text `"The command printed: <tool content, trimmed>"`, finish `stop` |
//!
//! Timing modifiers combine with any of the above (`slow-stream-50`, `tools-slow-stream-50`):
//!
//! - `slow-first-byte-<ms>`: waits `<ms>` before sending the response head.
//! - `slow-stream-<ms>`: streams only; the role chunk goes out at once, then `<ms>` passes
//!   before every later event (including `[DONE]`), for ping tests.
//!
//! # Slow static streams
//!
//! With [`MockOptions::static_responses`] and [`MockOptions::slow_stream`] set, every
//! streamed OpenAI chat completion is answered with exactly [`SlowStream::events`]
//! `chat.completion.chunk` events, [`SlowStream::interval`] apart, the way a model thinks: a
//! role chunk (sent with the response head), text deltas (`" tok"`), a finish chunk
//! (`finish_reason` `stop`) and, with `stream_options.include_usage`, a usage chunk
//! (`choices: []`); `data: [DONE]` follows the last one at once. The bytes are computed once
//! and each stream costs one timer, so one thread serves 10 000 of them.

mod answer;
mod behaviour;
mod server;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub use answer::{
    CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_SIGNATURE, REASONING_TEXT,
    REASONING_TOKENS, TEXT_ANSWER,
};
pub use behaviour::{Behaviour, Plan};
pub use server::MockStats;
pub use wire::{message_text, mock_provider_config, Wire};

/// The arguments (a JSON string) of the `Bash` tool call of the `bash-tool` model.
pub const BASH_TOOL_ARGUMENTS: &str =
    r#"{"command":"echo ccr-roundtrip-$((6*7))","description":"Print a marker"}"#;

/// What `echo ccr-roundtrip-$((6*7))` prints, i.e. the marker a `bash-tool` round trip ends on.
pub const BASH_TOOL_MARKER: &str = "ccr-roundtrip-42";

/// One name per behaviour (parameterised ones with an example value); also what
/// `GET /v1/models` lists.
pub const MODEL_NAMES: &[&str] = &[
    "text",
    "stop",
    "stop-sequence",
    "static",
    "tools",
    "reasoning",
    "reasoning-or",
    "length",
    "content-filter",
    "function-call",
    "error-400",
    "error-401",
    "error-404",
    "error-413",
    "error-429",
    "error-500",
    "error-503",
    "context-length",
    "midstream-error",
    "malformed",
    "drop",
    "drop-early",
    "echo",
    "bash-tool",
    "slow-first-byte-200",
    "slow-stream-200",
];

/// Options for [`MockUpstream::start_with`].
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Record every request (default true). Turn off for long benchmarks: recording parses
    /// and keeps every body.
    pub record: bool,
    /// Answer every OpenAI chat completion with the precomputed `static` answer whatever the model,
    /// without parsing the body unless `record` is on (the request is only scanned for
    /// `"stream":true` and `"include_usage":true`). For load benchmarks, so the upstream is
    /// not the bottleneck. Default false.
    pub static_responses: bool,
    /// Tokio worker threads serving connections (default 1).
    pub worker_threads: usize,
    /// With `static_responses`: answer every streamed chat completion slowly, event by event
    /// (see [Slow static streams](self#slow-static-streams)). Default `None`: the static
    /// stream goes out in one piece.
    pub slow_stream: Option<SlowStream>,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            port: 0,
            record: true,
            static_responses: false,
            worker_threads: 1,
            slow_stream: None,
        }
    }
}

/// The pace of the slow static streams ([`MockOptions::slow_stream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowStream {
    /// How many `chat.completion.chunk` events each stream has, role, finish and usage chunks
    /// included (at least 3; smaller values are raised to 3).
    pub events: usize,
    /// The time between two events (the first goes out with the response head).
    pub interval: std::time::Duration,
}

impl SlowStream {
    /// Reads `EVENTS,INTERVAL_MS` (e.g. `50,200`), the `mock-upstream --slow-stream` syntax.
    pub fn parse(text: &str) -> Option<SlowStream> {
        let (events, interval) = text.split_once(',')?;
        Some(SlowStream {
            events: events.trim().parse().ok()?,
            interval: std::time::Duration::from_millis(interval.trim().parse().ok()?),
        })
    }
}

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Header names (lower case) and values, in arrival order; repeated names repeat.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; `Value::Null` for an empty body, `Value::String` holding the
    /// raw text (lossy UTF-8) when it is not JSON.
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running mock upstream (OpenAI and Anthropic wires). Starts on its own tokio runtime (so it works
/// from sync tests and from any async runtime) and shuts down when dropped.
pub struct MockUpstream {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    state: Arc<server::State>,
    shutdown: Option<tokio::sync::watch::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl MockUpstream {
    /// Starts a mock with default options on a free port. Panics if it cannot bind.
    pub fn start() -> MockUpstream {
        Self::start_with(MockOptions::default())
    }

    /// Starts a mock with `options`. Panics if the port cannot be bound.
    pub fn start_with(options: MockOptions) -> MockUpstream {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.worker_threads.max(1))
            .thread_name("mock-upstream")
            .enable_all()
            .build()
            .expect("mock upstream: tokio runtime");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(());
        let state = Arc::new(server::State::new(&options, requests.clone()));
        let addr = {
            let _guard = runtime.enter();
            let listener = listen(options.port)
                .unwrap_or_else(|e| panic!("mock upstream: bind 127.0.0.1:{}: {e}", options.port));
            let addr = listener.local_addr().expect("mock upstream: local_addr");
            runtime.spawn(server::serve(listener, state.clone(), shutdown_rx));
            addr
        };
        MockUpstream {
            addr,
            requests,
            state,
            shutdown: Some(shutdown),
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT/v1/messages`, the Anthropic Messages endpoint.
    pub fn messages_url(&self) -> String {
        format!("{}/v1/messages", self.base_url())
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1/chat/completions`, the full endpoint URL CCR configs want in
    /// `api_base_url`.
    pub fn chat_url(&self) -> String {
        format!("{}/v1/chat/completions", self.base_url())
    }

    /// The port the mock listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.requests.lock().unwrap().last().cloned()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// Connections, requests by HTTP version and slow streams served so far (also
    /// `GET /mock/stats`).
    pub fn stats(&self) -> MockStats {
        self.state.stats()
    }
}

/// A listener on 127.0.0.1:`port` whose accept queue holds thousands of connections (the
/// default of 128 drops the SYNs of a load test that connects all at once, and each dropped
/// SYN costs its client a 1 s retransmission). Needs a runtime context.
fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    // The kernel caps it at net.core.somaxconn.
    socket.listen(65_535)
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        // Closing the channel stops the accept loop and every connection task; then the
        // runtime is torn down without blocking (this may run inside another runtime).
        drop(self.shutdown.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for MockUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockUpstream")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}
