//! Streaming an answer to the client as Anthropic SSE, end to end and never buffered.
//!
//! A task reads the upstream body chunk by chunk, splits it into events
//! ([`crate::upstream::framing`]), feeds each to the provider's `stream-translator`, passes
//! the resulting Anthropic events through the transformers (last first) and writes them to
//! the client. While the upstream is silent it sends `ping` events (Claude Code gives up
//! after 300 s of silence). When the client goes away the task ends, which drops the
//! upstream response and so cancels the upstream call.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::ProxyError;
use crate::plugins::bindings::{SseEvent, StreamFraming, UpstreamEvent};
use crate::plugins::chain::ActiveTransformer;
use crate::plugins::{PluginCallError, StreamTranslatorInstance};
use crate::routing::Route;
use crate::state::AppState;
use crate::upstream::framing::EventSplitter;
use crate::usage::{RequestRecord, StreamUsage};

/// The bytes of a `ping` event.
pub const PING: &[u8] = b"event: ping\ndata: {\"type\":\"ping\"}\n\n";

/// What a streaming response needs besides the upstream response and the plugins.
pub struct StreamJob {
    /// Shared state (metrics, sessions).
    pub state: Arc<AppState>,
    /// The route taken (for the log line).
    pub route: Route,
    /// Session id, for long-context bookkeeping.
    pub session: Option<String>,
    /// When the request arrived.
    pub started: Instant,
    /// How the upstream frames its stream.
    pub framing: StreamFraming,
    /// Silence after which a ping goes out.
    pub ping_interval: Duration,
    /// Silence after which the upstream is given up on.
    pub idle_timeout: Duration,
    /// Our own count of the request's input tokens, shown in `message_start` when the
    /// upstream reports none there (OpenAI-style streams only report usage at the end, and
    /// Claude Code's context display reads the start).
    pub estimated_input_tokens: u32,
    /// Held until the stream ends: its place under `MAX_CONCURRENT_STREAMS`.
    pub permit: Option<Arc<crate::state::StreamPermit>>,
}

/// Append one SSE record (`event:` + `data:` lines + blank line) to `out`.
pub fn encode_event(event: &str, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.as_bytes());
    out.push(b'\n');
    // A data payload with line breaks must be split into several `data:` lines.
    for line in data.split(|b| *b == b'\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        out.push(b'\n');
    }
    out.push(b'\n');
}

/// An Anthropic `error` event for `err`.
pub fn error_event(err: &ProxyError) -> Vec<u8> {
    let mut out = Vec::new();
    let data = serde_json::to_vec(&err.to_json()).unwrap_or_default();
    encode_event("error", &data, &mut out);
    out
}

/// `message_start` data with `usage.input_tokens` set to `estimate` when the plugin left it
/// at 0; `None` when nothing needs changing.
fn with_estimated_input(data: &[u8], estimate: u32) -> Option<Vec<u8>> {
    if estimate == 0 {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_slice(data).ok()?;
    let usage = v.pointer_mut("/message/usage")?.as_object_mut()?;
    if usage
        .get("input_tokens")
        .and_then(serde_json::Value::as_u64)
        != Some(0)
    {
        return None;
    }
    usage.insert("input_tokens".into(), estimate.into());
    serde_json::to_vec(&v).ok()
}

type Sender = mpsc::Sender<Result<Bytes, Infallible>>;

/// Start relaying and return the SSE response (headers go out at once).
pub fn respond(
    job: StreamJob,
    upstream: reqwest::Response,
    translator: StreamTranslatorInstance,
    transformers: Vec<ActiveTransformer>,
) -> Response {
    let (tx, response) = sse_response();
    tokio::spawn(relay(job, upstream, translator, transformers, tx));
    response
}

/// The upstream has been silent for a whole ping interval before its answer's head: start
/// the client's stream now, ping it while `opening` (the upstream head, its status check
/// and the stream translator) completes, then relay as [`respond`] does. A failure from
/// here on is an `event: error` (the client already has its 200).
pub fn respond_when_open<F>(
    job: StreamJob,
    opening: F,
    transformers: Vec<ActiveTransformer>,
) -> Response
where
    F: Future<Output = Result<(reqwest::Response, StreamTranslatorInstance), ProxyError>>
        + Send
        + 'static,
{
    let (tx, response) = sse_response();
    tokio::spawn(async move {
        match ping_until(&job, opening, &tx).await {
            Some(Ok((upstream, translator))) => {
                relay(job, upstream, translator, transformers, tx).await
            }
            Some(Err(err)) => {
                let _ = tx.send(Ok(Bytes::from(error_event(&err)))).await;
                tracing::warn!(route = %job.route.label, "stream ended with an error: {err}");
                job.finish(err.status().as_u16(), &StreamUsage::default());
            }
            None => job.finish(499, &StreamUsage::default()),
        }
    });
    response
}

/// Await `opening`, sending a ping now and every interval; `None` if the client left.
async fn ping_until<T>(
    job: &StreamJob,
    opening: impl Future<Output = T>,
    tx: &Sender,
) -> Option<T> {
    tokio::pin!(opening);
    let mut ping = tokio::time::interval(job.ping_interval);
    loop {
        tokio::select! {
            done = &mut opening => return Some(done),
            _ = ping.tick() => {
                if tx.send(Ok(Bytes::from_static(PING))).await.is_err() {
                    return None;
                }
            }
            _ = tx.closed() => return None,
        }
    }
}

impl StreamJob {
    /// Record the finished stream (metrics, session usage, the log line).
    fn finish(&self, status: u16, usage: &StreamUsage) {
        self.state.recorder.record(&RequestRecord {
            route: Some(&self.route),
            session: self.session.as_deref(),
            started: self.started,
            status,
            usage: &usage.usage,
            stop_reason: usage.stop_reason.as_deref(),
            stream: true,
            error: None,
        });
    }
}

/// A `200 text/event-stream` response and the channel that feeds its body. The buffer is
/// small: back-pressure from a slow client reaches the upstream read.
fn sse_response() -> (Sender, Response) {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    let body = Body::from_stream(tokio_stream_from(rx));
    let response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        body,
    )
        .into_response();
    (tx, response)
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, Infallible>>,
) -> impl futures::Stream<Item = Result<Bytes, Infallible>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// How the relay loop ended.
enum End {
    /// The upstream finished and the message was completed.
    Done,
    /// An error event was sent.
    Failed(ProxyError),
    /// The client went away.
    ClientGone,
}

struct Relay {
    estimated_input_tokens: u32,
    translator: StreamTranslatorInstance,
    transformers: Vec<ActiveTransformer>,
    tx: Sender,
    usage: StreamUsage,
    out: Vec<u8>,
}

impl Relay {
    /// Run plugin output through the transformers (last in the chain first), check it,
    /// and append it to the outgoing buffer.
    async fn emit(&mut self, events: Vec<SseEvent>) -> Result<(), ProxyError> {
        let mut events = events;
        for t in self.transformers.iter_mut().rev() {
            if events.is_empty() {
                break;
            }
            let mut next = Vec::with_capacity(events.len());
            for event in events {
                next.extend(t.instance.transform_stream_event(&t.ctx, event).await?);
            }
            events = next;
        }
        for event in events {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&event.data).is_err()
                || event.event.is_empty()
                || event.event.contains(['\n', '\r'])
            {
                return Err(PluginCallError::invalid_output(
                    self.translator.plugin(),
                    "stream-translator.feed",
                    format!("event {:?} does not carry a JSON payload", event.event),
                )
                .into());
            }
            let data = if event.event == "message_start" {
                with_estimated_input(&event.data, self.estimated_input_tokens)
            } else {
                None
            };
            let data = data.as_deref().unwrap_or(&event.data);
            self.usage.observe(&event.event, data);
            encode_event(&event.event, data, &mut self.out);
        }
        Ok(())
    }

    /// Send what is buffered. `false` if the client is gone.
    async fn flush(&mut self) -> bool {
        if self.out.is_empty() {
            return true;
        }
        let bytes = Bytes::from(std::mem::take(&mut self.out));
        self.tx.send(Ok(bytes)).await.is_ok()
    }

    async fn feed(&mut self, events: Vec<UpstreamEvent>) -> Result<(), ProxyError> {
        for event in events {
            let out = self.translator.feed(&event).await?;
            self.emit(out).await?;
            if self.usage.errored {
                break;
            }
        }
        Ok(())
    }
}

async fn relay(
    job: StreamJob,
    upstream: reqwest::Response,
    translator: StreamTranslatorInstance,
    transformers: Vec<ActiveTransformer>,
    tx: Sender,
) {
    let mut relay = Relay {
        estimated_input_tokens: job.estimated_input_tokens,
        translator,
        transformers,
        tx,
        usage: StreamUsage::default(),
        out: Vec::with_capacity(4096),
    };
    let end = pump(&job, upstream, &mut relay).await;
    let status = match &end {
        End::Done => 200,
        End::ClientGone => 499,
        End::Failed(err) => {
            if !relay.usage.errored {
                relay.out.extend_from_slice(&error_event(err));
                relay.flush().await;
            }
            tracing::warn!(route = %job.route.label, "stream ended with an error: {err}");
            err.status().as_u16()
        }
    };
    let status = if relay.usage.errored && status == 200 {
        502
    } else {
        status
    };
    job.finish(status, &relay.usage);
}

async fn pump(job: &StreamJob, upstream: reqwest::Response, relay: &mut Relay) -> End {
    let mut splitter = EventSplitter::new(&job.framing);
    let mut body = upstream.bytes_stream();
    let mut events = Vec::new();
    let mut last_upstream = Instant::now();
    // Start the first period now instead of awaiting `interval`'s immediate first tick: a
    // timer due "now" only fires at the timer wheel's next millisecond, which delayed every
    // stream by ~1 ms.
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + job.ping_interval,
        job.ping_interval,
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            chunk = body.next() => {
                last_upstream = Instant::now();
                match chunk {
                    Some(Ok(bytes)) => {
                        if let Err(e) = splitter.push(&bytes, &mut events) {
                            return End::Failed(ProxyError::UpstreamUnreachable(e.to_string()));
                        }
                        let batch = std::mem::take(&mut events);
                        if let Err(err) = relay.feed(batch).await {
                            return End::Failed(err);
                        }
                    }
                    Some(Err(err)) => {
                        return End::Failed(ProxyError::UpstreamUnreachable(format!(
                            "upstream connection broke mid-stream: {err}"
                        )));
                    }
                    None => {
                        splitter.finish(&mut events);
                        let batch = std::mem::take(&mut events);
                        if let Err(err) = relay.feed(batch).await {
                            return End::Failed(err);
                        }
                        if !relay.usage.errored {
                            match relay.translator.finish().await {
                                Ok(out) => {
                                    if let Err(err) = relay.emit(out).await {
                                        return End::Failed(err);
                                    }
                                }
                                Err(err) => return End::Failed(err.into()),
                            }
                        }
                        if !relay.flush().await {
                            return End::ClientGone;
                        }
                        return End::Done;
                    }
                }
                if !relay.flush().await {
                    return End::ClientGone;
                }
                if relay.usage.errored {
                    return End::Done;
                }
            }
            _ = ping.tick() => {
                if last_upstream.elapsed() >= job.idle_timeout {
                    return End::Failed(ProxyError::Timeout(format!(
                        "upstream went silent for {} ms mid-stream",
                        job.idle_timeout.as_millis()
                    )));
                }
                if last_upstream.elapsed() >= job.ping_interval {
                    relay.out.extend_from_slice(PING);
                    if !relay.flush().await {
                        return End::ClientGone;
                    }
                }
            }
            _ = relay.tx.closed() => return End::ClientGone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_start_gets_the_estimate_only_when_empty() {
        let start = br#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":0,"output_tokens":1}}}"#;
        let patched = with_estimated_input(start, 1234).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&patched).unwrap();
        assert_eq!(v["message"]["usage"]["input_tokens"], 1234);
        let real = br#"{"type":"message_start","message":{"usage":{"input_tokens":7}}}"#;
        assert!(with_estimated_input(real, 1234).is_none());
        assert!(with_estimated_input(start, 0).is_none());
    }

    #[test]
    fn encodes_events_with_multiline_data() {
        let mut out = Vec::new();
        encode_event("message_stop", br#"{"type":"message_stop"}"#, &mut out);
        assert_eq!(
            out,
            b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_vec()
        );
        let mut out = Vec::new();
        encode_event("x", b"a\nb", &mut out);
        assert_eq!(out, b"event: x\ndata: a\ndata: b\n\n".to_vec());
    }
}
