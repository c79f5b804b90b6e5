//! Token usage per request, read from the Anthropic-shaped answers the client receives,
//! process-wide counters shown by `/health`, and the [`record`] of each finished request.

pub mod record;

pub use record::{Recorder, RequestRecord};

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Tokens one answer used (Anthropic's accounting: `input_tokens` excludes cached tokens).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the provider's cache.
    pub cache_read_input_tokens: u64,
    /// Input tokens written to the provider's cache.
    pub cache_creation_input_tokens: u64,
}

impl Usage {
    /// Overwrite the counts present in an Anthropic `usage` object (stream usage is
    /// cumulative, so the latest value wins).
    pub fn update_from(&mut self, usage: &Value) {
        let get = |k: &str| usage.get(k).and_then(Value::as_u64);
        if let Some(v) = get("input_tokens") {
            self.input_tokens = v;
        }
        if let Some(v) = get("output_tokens") {
            self.output_tokens = v;
        }
        if let Some(v) = get("cache_read_input_tokens") {
            self.cache_read_input_tokens = v;
        }
        if let Some(v) = get("cache_creation_input_tokens") {
            self.cache_creation_input_tokens = v;
        }
    }

    /// All input tokens, cached or not (what long-context routing compares).
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens
    }
}

/// Follows a streamed answer's usage and stop reason from its Anthropic events.
#[derive(Debug, Default, Clone)]
pub struct StreamUsage {
    /// Usage so far.
    pub usage: Usage,
    /// The `stop_reason` from `message_delta`, once seen.
    pub stop_reason: Option<String>,
    /// Whether `message_stop` went out.
    pub stopped: bool,
    /// Whether an `error` event went out.
    pub errored: bool,
}

impl StreamUsage {
    /// Look at one outgoing event (only the few that carry usage are parsed).
    pub fn observe(&mut self, event: &str, data: &[u8]) {
        match event {
            "message_start" => {
                if let Ok(v) = serde_json::from_slice::<Value>(data) {
                    if let Some(u) = v.pointer("/message/usage") {
                        self.usage.update_from(u);
                    }
                }
            }
            "message_delta" => {
                if let Ok(v) = serde_json::from_slice::<Value>(data) {
                    if let Some(u) = v.get("usage") {
                        self.usage.update_from(u);
                    }
                    if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                        self.stop_reason = Some(r.to_string());
                    }
                }
            }
            "message_stop" => self.stopped = true,
            "error" => self.errored = true,
            _ => {}
        }
    }
}

/// Usage and stop reason of a whole (non-streamed) Anthropic response.
pub fn from_response(body: &Value) -> (Usage, Option<String>) {
    let mut usage = Usage::default();
    if let Some(u) = body.get("usage") {
        usage.update_from(u);
    }
    let stop = body
        .get("stop_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    (usage, stop)
}

/// Process-wide counters (lock-free; shown by `/health`).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    failed: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
}

/// A snapshot of [`Metrics`].
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// Messages requests served (including failed ones).
    pub requests: u64,
    /// Requests that ended in an error.
    pub failed: u64,
    /// Input tokens (cached included) over all answers.
    pub input_tokens: u64,
    /// Output tokens over all answers.
    pub output_tokens: u64,
}

impl Metrics {
    /// Count one finished request.
    pub fn record(&self, ok: bool, usage: &Usage) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.input_tokens
            .fetch_add(usage.total_input(), Ordering::Relaxed);
        self.output_tokens
            .fetch_add(usage.output_tokens, Ordering::Relaxed);
    }

    /// Current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            input_tokens: self.input_tokens.load(Ordering::Relaxed),
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_usage_is_cumulative() {
        let mut s = StreamUsage::default();
        s.observe(
            "message_start",
            br#"{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}"#,
        );
        s.observe(
            "message_delta",
            br#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7,"cache_read_input_tokens":5}}"#,
        );
        s.observe("message_stop", br#"{"type":"message_stop"}"#);
        assert_eq!(s.usage.input_tokens, 10);
        assert_eq!(s.usage.output_tokens, 7);
        assert_eq!(s.usage.total_input(), 15);
        assert_eq!(s.stop_reason.as_deref(), Some("end_turn"));
        assert!(s.stopped && !s.errored);
    }
}
