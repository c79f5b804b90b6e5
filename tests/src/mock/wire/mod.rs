//! The provider wires the mock speaks. One [`WireProtocol`] implementation per provider API
//! turns the shared [`Answer`]s and faults into that API's bytes, so every [`Behaviour`]
//! scenario exists on every wire; the server picks the wire from the request path.
//!
//! [`Behaviour`]: super::Behaviour

mod anthropic;
mod openai;

use bytes::Bytes;
use hyper::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use super::answer::{Answer, Envelope};
use super::{MockUpstream, MODEL_NAMES};

pub use anthropic::error_type as anthropic_error_type;
pub use openai::message_text;

/// A provider API the mock can answer on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI Chat Completions: `POST …/chat/completions`.
    OpenAi,
    /// Anthropic Messages: `POST …/v1/messages`.
    Anthropic,
}

impl Wire {
    /// The wire a request path is for, if any.
    pub fn for_path(path: &str) -> Option<Wire> {
        if path.ends_with("/chat/completions") {
            Some(Wire::OpenAi)
        } else if path.ends_with("/v1/messages") {
            Some(Wire::Anthropic)
        } else {
            None
        }
    }

    /// The full endpoint URL of this wire on `mock` (what a provider's `api_base_url` is).
    pub fn url(self, mock: &MockUpstream) -> String {
        match self {
            Wire::OpenAi => mock.chat_url(),
            Wire::Anthropic => mock.messages_url(),
        }
    }

    pub(super) fn protocol(self) -> &'static dyn WireProtocol {
        match self {
            Wire::OpenAi => &openai::OpenAi,
            Wire::Anthropic => &anthropic::Anthropic,
        }
    }
}

/// The `Providers` entry for a provider named `mock` that reaches `mock` over `wire`: every
/// mock model name (plus `model`) listed, and for Anthropic the bundled pass-through
/// (`"transformer": {"use": ["Anthropic"]}`). Route to it with `"mock,<model>"`.
pub fn mock_provider_config(mock: &MockUpstream, wire: Wire, model: &str) -> Value {
    let mut models: Vec<&str> = MODEL_NAMES.to_vec();
    if !models.contains(&model) {
        models.push(model);
    }
    let mut provider = json!({
        "name": "mock",
        "api_base_url": wire.url(mock),
        "api_key": "sk-mock",
        "models": models,
    });
    if wire == Wire::Anthropic {
        provider["transformer"] = json!({"use": ["Anthropic"]});
    }
    provider
}

/// A request refused before any answer: status and the wire's error body.
pub(super) type Rejection = (StatusCode, Value);

/// How one provider API reads requests and writes answers, streams and errors.
pub(super) trait WireProtocol: Sync {
    /// Checks a request as the real API does (headers, required fields, conversation shape).
    fn validate(&self, headers: &HeaderMap, body: &Value) -> Result<(), Rejection>;

    /// The output of the latest tool result after the last assistant turn, if any (what the
    /// `bash-tool` model quotes).
    fn tool_output(&self, body: &Value) -> Option<String>;

    /// Whether the request asks for a stream.
    fn wants_stream(&self, body: &Value) -> bool {
        body["stream"] == Value::Bool(true)
    }

    /// Per-response id prefix (`chatcmpl-mock`, `msg_mock`).
    fn id_prefix(&self) -> &'static str;

    /// The whole (non-streaming) answer.
    fn message(&self, answer: &Answer, env: &Envelope) -> Value;

    /// Every stream event of the answer, terminator included, each a complete SSE frame.
    fn events(&self, answer: &Answer, env: &Envelope) -> Vec<Bytes>;

    /// The events of a text `answer` up to and including its `pieces`-th text delta (the
    /// prefix a broken stream sends before it breaks).
    fn events_until_text(&self, answer: &Answer, env: &Envelope, pieces: usize) -> Vec<Bytes>;

    /// What a `malformed` stream sends after its prefix: an event that is not valid JSON,
    /// and whatever the wire sends after it.
    fn malformed_events(&self, env: &Envelope) -> Vec<Bytes>;

    /// The error body this API sends with `status`.
    fn error(&self, status: u16, model: &str) -> Value;

    /// The body for a request that is not JSON (sent with 400).
    fn not_json_error(&self) -> Value;

    /// The context-window error (sent with 400).
    fn context_length_error(&self) -> Value;

    /// The error event a `midstream-error` stream ends with.
    fn midstream_error_event(&self) -> Bytes;

    /// What `midstream-error` answers without a stream.
    fn midstream_error_whole(&self) -> Rejection;
}
