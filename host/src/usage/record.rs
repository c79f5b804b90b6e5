//! The record of one finished Messages request and the one [`Recorder`] every record goes
//! to.
//!
//! Both ends of a request (the non-streamed answer in the pipeline, the end of a stream,
//! and a failure before or during an attempt) build a [`RequestRecord`] and hand it to
//! [`Recorder::record`]. That is the seam where per-request consumers plug in: today the
//! process counters ([`Metrics`]), the session usage long-context routing reads
//! ([`SessionUsage`]) and the `ccr::request` log line; next the usage store (SQLite) and
//! Prometheus metrics, without touching the request path.

use std::time::Instant;

use crate::error::ProxyError;
use crate::routing::{Route, SessionUsage};

use super::{Metrics, Usage};

/// Everything known about a request when it ends.
#[derive(Debug, Clone, Copy)]
pub struct RequestRecord<'a> {
    /// The route it took; `None` when it failed before one was chosen.
    pub route: Option<&'a Route>,
    /// The Claude Code session id, when the request carried one.
    pub session: Option<&'a str>,
    /// When the request arrived.
    pub started: Instant,
    /// The HTTP status the client got (499: the client went away mid-stream).
    pub status: u16,
    /// Tokens the answer used.
    pub usage: &'a Usage,
    /// The answer's `stop_reason`, once known.
    pub stop_reason: Option<&'a str>,
    /// Whether the answer was streamed.
    pub stream: bool,
    /// Why the request failed before an answer started (`None`: an answer went out, even if
    /// its stream later ended with an error event).
    pub error: Option<&'a ProxyError>,
}

/// Receives every [`RequestRecord`] (owned by [`crate::state::AppState`]).
#[derive(Debug)]
pub struct Recorder {
    metrics: Metrics,
    sessions: SessionUsage,
}

impl Recorder {
    /// A recorder remembering the usage of up to `sessions` sessions.
    pub fn new(sessions: usize) -> Self {
        Self {
            metrics: Metrics::default(),
            sessions: SessionUsage::new(sessions),
        }
    }

    /// The process-wide counters (shown by `/health`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Input tokens of the previous answer per session (read by long-context routing).
    pub fn sessions(&self) -> &SessionUsage {
        &self.sessions
    }

    /// Record a finished request: counters, session usage, one log line.
    pub fn record(&self, rec: &RequestRecord<'_>) {
        let latency_ms = rec.started.elapsed().as_millis() as u64;
        if let Some(err) = rec.error {
            self.metrics.record(false, &Usage::default());
            let (label, provider, model) = route_fields(rec.route);
            tracing::info!(
                target: "ccr::request",
                route = label,
                provider,
                model,
                status = rec.status,
                latency_ms,
                error = %err,
                "request failed"
            );
            return;
        }
        let usage = rec.usage;
        self.metrics.record((200..300).contains(&rec.status), usage);
        if let Some(session) = rec.session {
            if usage.total_input() > 0 {
                self.sessions
                    .record(session, usage.total_input().min(u32::MAX as u64) as u32);
            }
        }
        let (label, provider, model) = route_fields(rec.route);
        tracing::info!(
            target: "ccr::request",
            route = %label,
            provider = %provider,
            model = %model,
            status = rec.status,
            stream = rec.stream,
            latency_ms,
            input_tokens = usage.total_input(),
            output_tokens = usage.output_tokens,
            stop_reason = rec.stop_reason.unwrap_or("-"),
            "request done"
        );
    }
}

/// The route's label, provider and model for the log line (`-` before a route was chosen).
fn route_fields(route: Option<&Route>) -> (&str, &str, &str) {
    match route {
        Some(r) => (&r.label, &r.decision.provider, &r.decision.model),
        None => ("-", "-", "-"),
    }
}
