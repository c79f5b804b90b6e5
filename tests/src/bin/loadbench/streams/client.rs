//! The client side of `loadbench streams`: N streams opened at once, one HTTP/1.1
//! connection each (hyper's connection API, so connecting, the request and the body are each
//! timed and each failure keeps its own message), every stream read to its end and checked.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use hyper::{HeaderMap, Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use super::Payload;
use crate::*;

/// How many bytes of a body a failure keeps.
const EXCERPT_BYTES: usize = 200;

/// Where the streams go and what they send.
pub(crate) struct StreamTarget {
    addr: SocketAddr,
    uri: Uri,
    headers: HeaderMap,
    wire: Wire,
    /// The streaming body, cut around its request number (before, after) when it has one.
    stream: Bytes,
    cut: Option<(Bytes, Bytes)>,
    /// The warm-up body (no `stream`).
    json: Bytes,
    sources: Vec<IpAddr>,
}

impl StreamTarget {
    /// `payload` to 127.0.0.1:`port`, from `sources` in turn.
    pub(crate) fn new(port: u16, payload: &Payload, sources: Vec<IpAddr>) -> StreamTarget {
        let mut map = HeaderMap::new();
        for (name, value) in &payload.headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        let host = format!("127.0.0.1:{port}");
        map.insert(HOST, HeaderValue::from_str(&host).expect("host header"));
        let cut = payload.marker.map(|at| {
            (
                payload.stream.slice(..at),
                payload.stream.slice(at + MARKER_DIGITS.len()..),
            )
        });
        StreamTarget {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            uri: Uri::from_static(payload.path),
            headers: map,
            wire: payload.wire,
            stream: payload.stream.clone(),
            cut,
            json: payload.json.clone(),
            sources: if sources.is_empty() {
                vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
            } else {
                sources
            },
        }
    }

    /// The streaming request with the next request number, sent in pieces so the 80 KB
    /// body is never copied.
    fn stream_request(&self) -> Request<PiecesBody> {
        let Some((before, after)) = &self.cut else {
            return self.request(vec![self.stream.clone()]);
        };
        let number = REQUEST_NUMBER.fetch_add(1, Ordering::Relaxed) % 10_000_000_000_000_000;
        let digits = Bytes::from(format!("{number:016}"));
        self.request(vec![before.clone(), digits, after.clone()])
    }

    fn request(&self, pieces: Vec<Bytes>) -> Request<PiecesBody> {
        let length: usize = pieces.iter().map(Bytes::len).sum();
        let frames: Vec<Result<Frame<Bytes>, Infallible>> =
            pieces.into_iter().map(|b| Ok(Frame::data(b))).collect();
        let mut request = Request::new(StreamBody::new(futures::stream::iter(frames)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        request
    }

    async fn connect(&self, index: usize) -> std::io::Result<TcpStream> {
        let source = self.sources[index % self.sources.len()];
        let tcp = if self.sources.len() == 1 && source == IpAddr::V4(Ipv4Addr::LOCALHOST) {
            TcpStream::connect(self.addr).await?
        } else {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::new(source, 0))?;
            socket.connect(self.addr).await?
        };
        let _ = tcp.set_nodelay(true);
        Ok(tcp)
    }
}

type PiecesBody =
    StreamBody<futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// Why a stream did not end well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The response status, when a response head came.
    pub(crate) status: Option<u16>,
    /// What went wrong, e.g. `HTTP 500`, `connect: Connection refused (os error 111)`,
    /// `the stream ended after 3 events without message_stop`.
    pub(crate) reason: String,
    /// The first [`EXCERPT_BYTES`] bytes of the body (newlines as `\n`), if any came.
    pub(crate) excerpt: String,
}

impl Failure {
    fn new(status: Option<u16>, reason: impl Into<String>, body: &[u8]) -> Failure {
        Failure {
            status,
            reason: reason.into(),
            excerpt: if body.is_empty() {
                String::new()
            } else {
                excerpt(body)
            },
        }
    }

    /// What failures are grouped by: status, reason and excerpt with every word that holds
    /// a digit (ids, counts, numbers) replaced by `#`, so the same error from many streams
    /// is one group.
    pub(crate) fn group_key(&self) -> String {
        let status = self.status.map_or("-".to_string(), |s| s.to_string());
        normalize(&format!("{status} {} {}", self.reason, self.excerpt))
    }
}

/// Replaces every run of `[A-Za-z0-9_-]` that contains a digit with `#`.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.bytes().any(|b| b.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The failures of `samples` grouped ([`Failure::group_key`]), largest group first: count
/// and first example.
pub(crate) fn group_failures(samples: &[StreamSample]) -> Vec<(usize, &Failure)> {
    let mut groups: Vec<(String, usize, &Failure)> = Vec::new();
    for failure in samples.iter().filter_map(|s| s.failure.as_ref()) {
        let key = failure.group_key();
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some(group) => group.1 += 1,
            None => groups.push((key, 1, failure)),
        }
    }
    groups.sort_by_key(|group| std::cmp::Reverse(group.1));
    groups.into_iter().map(|(_, n, f)| (n, f)).collect()
}

/// One stream, from connecting to its end.
#[derive(Debug, Clone)]
pub(crate) struct StreamSample {
    /// Time to connect (TCP handshake, accept queue included).
    pub(crate) connect_us: Option<u64>,
    /// From sending the request to the first body byte.
    pub(crate) ttfb_us: Option<u64>,
    /// From sending the request to the end of the body.
    pub(crate) total_us: Option<u64>,
    /// SSE events received (of a 200 stream).
    pub(crate) events: usize,
    pub(crate) failure: Option<Failure>,
}

/// Where a stream got to, kept outside its future so a timeout still knows.
struct Progress {
    connect_us: Option<u64>,
    sent: Option<Instant>,
    status: Option<u16>,
    ttfb_us: Option<u64>,
    total_us: Option<u64>,
    head: Vec<u8>,
    check: SseCheck,
}

impl Progress {
    fn timeout(&self, timeout: Duration) -> Failure {
        let after = format!("timed out after {} s", timeout.as_secs());
        match (self.connect_us, self.status) {
            (None, _) => Failure::new(None, format!("{after} connecting"), &[]),
            (Some(_), None) => {
                Failure::new(None, format!("{after} waiting for the response head"), &[])
            }
            (Some(_), Some(status)) => Failure::new(
                Some(status),
                format!("{after} in the body (HTTP {status})"),
                &self.head,
            ),
        }
    }
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros() as u64
}

/// An error and its sources, `a: b: c` (hyper's own messages are terse).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}

/// Opens `n` streams, all at once (`ramp` zero) or evenly spread over `ramp`, and reads
/// each to its end; streams not finished `timeout` after the last one was opened are
/// failures. Ctrl-C aborts them all.
pub(crate) async fn open_streams(
    target: &Arc<StreamTarget>,
    n: usize,
    ramp: Duration,
    timeout: Duration,
) -> Result<Vec<StreamSample>> {
    let start = tokio::time::Instant::now();
    let deadline = start + ramp + timeout;
    let mut set = JoinSet::new();
    for index in 0..n {
        let target = target.clone();
        let opens = start + ramp.mul_f64(index as f64 / n as f64);
        set.spawn(async move {
            if !ramp.is_zero() {
                tokio::time::sleep_until(opens).await;
            }
            one_stream(target, index, deadline, timeout).await
        });
    }
    let mut samples = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok(sample)) => samples.push(sample),
                Some(Err(e)) => samples.push(StreamSample {
                    connect_us: None,
                    ttfb_us: None,
                    total_us: None,
                    events: 0,
                    failure: Some(Failure::new(None, format!("client task: {e}"), &[])),
                }),
                None => break,
            },
            _ = tick.tick() => {
                if INTERRUPTED.load(Ordering::Relaxed) {
                    set.abort_all();
                    bail!("interrupted");
                }
            }
        }
    }
    Ok(samples)
}

async fn one_stream(
    target: Arc<StreamTarget>,
    index: usize,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> StreamSample {
    let mut progress = Progress {
        connect_us: None,
        sent: None,
        status: None,
        ttfb_us: None,
        total_us: None,
        head: Vec::new(),
        check: SseCheck::new(target.wire),
    };
    let outcome = tokio::time::timeout_at(deadline, exchange(&target, index, &mut progress)).await;
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(_) => Some(progress.timeout(timeout)),
    };
    StreamSample {
        connect_us: progress.connect_us,
        ttfb_us: progress.ttfb_us,
        total_us: progress.total_us,
        events: progress.check.events,
        failure,
    }
}

/// Connect, send, read and check one stream, noting each step in `p`.
async fn exchange(target: &StreamTarget, index: usize, p: &mut Progress) -> Result<(), Failure> {
    let started = Instant::now();
    let tcp = target
        .connect(index)
        .await
        .map_err(|e| Failure::new(None, format!("connect: {e}"), &[]))?;
    p.connect_us = Some(micros(started));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| Failure::new(None, format!("HTTP handshake: {}", chain(&e)), &[]))?;
    let request = target.stream_request();
    let talk = async {
        let sent = Instant::now();
        p.sent = Some(sent);
        let mut response = sender
            .send_request(request)
            .await
            .map_err(|e| Failure::new(None, format!("no response: {}", chain(&e)), &[]))?;
        let status = response.status().as_u16();
        p.status = Some(status);
        while let Some(frame) = response.body_mut().frame().await {
            let frame = frame.map_err(|e| {
                Failure::new(
                    Some(status),
                    format!("reading the body: {}", chain(&e)),
                    &p.head,
                )
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if data.is_empty() {
                continue;
            }
            if p.ttfb_us.is_none() {
                p.ttfb_us = Some(micros(sent));
            }
            if p.head.len() < EXCERPT_BYTES + 1 {
                let room = EXCERPT_BYTES + 1 - p.head.len();
                p.head.extend_from_slice(&data[..data.len().min(room)]);
            }
            if status == 200 {
                p.check.push(&data);
            }
        }
        p.total_us = Some(micros(sent));
        if status != 200 {
            return Err(Failure::new(
                Some(status),
                format!("HTTP {status}"),
                &p.head,
            ));
        }
        p.check
            .finish()
            .map_err(|reason| Failure::new(Some(status), reason, &p.head))
    };
    let mut talk = pin!(talk);
    let mut conn = pin!(conn);
    tokio::select! {
        biased;
        result = &mut talk => result,
        _ = &mut conn => {
            // The connection is done; what it received is still readable, and an error of
            // the connection ends the body with that error.
            talk.await
        }
    }
}

/// One non-streaming request, which must come back 200 with an Anthropic message: loads
/// what a first request loads (tokenizer, plugins, the upstream connection).
pub(crate) async fn warm_up(target: &StreamTarget, timeout: Duration) -> Result<(), String> {
    let work = async {
        let tcp = target
            .connect(0)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("HTTP handshake: {}", chain(&e)))?;
        tokio::spawn(conn);
        let response = sender
            .send_request(target.request(vec![target.json.clone()]))
            .await
            .map_err(|e| format!("no response: {}", chain(&e)))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the body: {}", chain(&e)))?
            .to_bytes();
        if status != 200 {
            return Err(format!("HTTP {status}: {}", excerpt(&body)));
        }
        validate(target.wire, false, &body)
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Err(format!("timed out after {} s", timeout.as_secs())))
}

/// Checks an SSE stream as it arrives, keeping only the unfinished event.
///
/// - Anthropic (the proxies): every event is JSON with a `type` (equal to its `event:` name
///   when it has one), the first is `message_start`, the last `message_stop`, and none is an
///   `error`.
/// - OpenAI (the floor): every event is a `chat.completion.chunk` object, none an error, and
///   the last is `data: [DONE]`.
#[derive(Debug)]
pub(crate) struct SseCheck {
    wire: Wire,
    buf: Vec<u8>,
    /// Where to look for the next blank line in `buf`.
    scanned: usize,
    /// Events seen so far.
    pub(crate) events: usize,
    /// The last event was `message_stop` (Anthropic) or `[DONE]` (OpenAI).
    stopped: bool,
    problem: Option<String>,
}

#[derive(serde::Deserialize)]
struct Typed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    object: Option<Cow<'a, str>>,
    error: Option<serde::de::IgnoredAny>,
}

impl SseCheck {
    /// A check for a stream of `wire`.
    pub(crate) fn new(wire: Wire) -> SseCheck {
        SseCheck {
            wire,
            buf: Vec::new(),
            scanned: 0,
            events: 0,
            stopped: false,
            problem: None,
        }
    }

    /// Feeds the next piece of the body.
    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.problem.is_some() {
            return;
        }
        self.buf
            .extend(data.iter().copied().filter(|&b| b != b'\r'));
        let mut buf = std::mem::take(&mut self.buf);
        let mut start = 0;
        while let Some(i) = memchr::memmem::find(&buf[self.scanned.max(start)..], b"\n\n") {
            let end = self.scanned.max(start) + i;
            self.event(&buf[start..end]);
            start = end + 2;
        }
        buf.drain(..start);
        self.scanned = buf.len().saturating_sub(1);
        self.buf = buf;
    }

    fn fail(&mut self, problem: String) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    fn event(&mut self, block: &[u8]) {
        let Ok(text) = std::str::from_utf8(block) else {
            return self.fail(format!("event {} is not UTF-8", self.events + 1));
        };
        let mut name = None;
        let mut data: Vec<&str> = Vec::new();
        for line in text.split('\n') {
            if line.is_empty() || line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => name = Some(value),
                "data" => data.push(value),
                _ => {}
            }
        }
        if data.is_empty() {
            if let Some(name) = name {
                self.fail(format!("event {name} has no data"));
            }
            return; // comments only
        }
        let data: Cow<str> = if data.len() == 1 {
            Cow::Borrowed(data[0])
        } else {
            Cow::Owned(data.join("\n"))
        };
        if self.stopped {
            return self.fail("an event after the end of the stream".into());
        }
        match self.wire {
            Wire::Anthropic => self.anthropic_event(name, &data),
            Wire::OpenAi => self.openai_event(&data),
        }
        self.events += 1;
    }

    fn anthropic_event(&mut self, name: Option<&str>, data: &str) {
        let kind = match serde_json::from_str::<Typed>(data) {
            Ok(typed) => typed.kind,
            Err(e) => {
                return self.fail(format!(
                    "event {} is not a JSON object with a type ({e})",
                    self.events + 1
                ))
            }
        };
        if let Some(name) = name {
            if name != kind {
                return self.fail(format!("event: {name} carries a {kind} object"));
            }
        }
        if kind == "error" {
            return self.fail(format!("error event: {}", excerpt(data.as_bytes())));
        }
        if self.events == 0 && kind != "message_start" {
            return self.fail(format!("the stream starts with {kind}, not message_start"));
        }
        self.stopped = kind == "message_stop";
    }

    fn openai_event(&mut self, data: &str) {
        if data == "[DONE]" {
            self.stopped = true;
            return;
        }
        match serde_json::from_str::<Chunk>(data) {
            Ok(chunk) if chunk.error.is_some() => {
                self.fail(format!("error event: {}", excerpt(data.as_bytes())))
            }
            Ok(chunk) if chunk.object.as_deref() == Some("chat.completion.chunk") => {}
            Ok(_) => self.fail(format!(
                "event {} is not a chat.completion.chunk",
                self.events + 1
            )),
            Err(e) => self.fail(format!("event {} is not JSON ({e})", self.events + 1)),
        }
    }

    /// The verdict once the body has ended.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        if self.buf.iter().any(|b| !b.is_ascii_whitespace()) {
            return Err("the stream ended in the middle of an event".into());
        }
        if self.events == 0 {
            return Err("no SSE event in a 200 response".into());
        }
        if !self.stopped {
            let end = match self.wire {
                Wire::Anthropic => "message_stop",
                Wire::OpenAi => "[DONE]",
            };
            return Err(format!(
                "the stream ended after {} events without {end}",
                self.events
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n\
        event: ping\ndata: {\"type\": \"ping\"}\n\n\
        : a comment\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"a\\n\\nb\"}}\n\n\
        event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    fn check(pieces: &[&[u8]]) -> (Result<(), String>, usize) {
        let mut check = SseCheck::new(Wire::Anthropic);
        for piece in pieces {
            check.push(piece);
        }
        (check.finish(), check.events)
    }

    #[test]
    fn a_whole_stream_passes_however_it_is_cut() {
        let bytes = GOOD.as_bytes();
        assert_eq!(check(&[bytes]), (Ok(()), 4));
        for cut in 1..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(check(&[a, b]), (Ok(()), 4), "cut at {cut}");
        }
        let byte_by_byte: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(check(&byte_by_byte), (Ok(()), 4));
        let crlf = GOOD.replace('\n', "\r\n");
        assert_eq!(check(&[crlf.as_bytes()]), (Ok(()), 4));
    }

    #[test]
    fn broken_streams_fail_with_their_reason() {
        let cut = &GOOD[..GOOD.find("event: message_stop").unwrap()];
        let (result, events) = check(&[cut.as_bytes()]);
        assert_eq!(events, 3);
        assert!(result.unwrap_err().contains("without message_stop"));

        let partial = &GOOD[..GOOD.len() - 3];
        assert!(check(&[partial.as_bytes()])
            .0
            .unwrap_err()
            .contains("middle of an event"));

        let error = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n\
            event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\n\n";
        assert!(check(&[error.as_bytes()])
            .0
            .unwrap_err()
            .starts_with("error event: {\"type\":\"error\""));

        let late = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
        assert!(check(&[late.as_bytes()])
            .0
            .unwrap_err()
            .contains("starts with ping"));

        let mismatch = "event: message_start\ndata: {\"type\":\"message_stop\"}\n\n";
        assert!(check(&[mismatch.as_bytes()])
            .0
            .unwrap_err()
            .contains("carries a message_stop"));

        let not_json = "event: message_start\ndata: {\"type\":\n\n";
        assert!(check(&[not_json.as_bytes()])
            .0
            .unwrap_err()
            .contains("not a JSON object"));

        assert!(check(&[b""]).0.unwrap_err().contains("no SSE event"));
    }

    #[test]
    fn openai_streams_end_in_done() {
        let openai = |text: &str| {
            let mut check = SseCheck::new(Wire::OpenAi);
            check.push(text.as_bytes());
            (check.finish(), check.events)
        };
        let chunk = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n";
        assert_eq!(
            openai(&format!("{chunk}{chunk}data: [DONE]\n\n")),
            (Ok(()), 3)
        );
        assert!(openai(chunk).0.unwrap_err().contains("without [DONE]"));
        assert!(openai(&format!(
            "{chunk}data: {{\"error\":{{\"message\":\"x\"}}}}\n\n"
        ))
        .0
        .unwrap_err()
        .starts_with("error event"));
        assert!(openai(&format!("data: [DONE]\n\n{chunk}"))
            .0
            .unwrap_err()
            .contains("after the end"));
    }

    #[test]
    fn failures_group_by_status_and_message_without_ids() {
        let sample = |failure: Failure| StreamSample {
            connect_us: None,
            ttfb_us: None,
            total_us: None,
            events: 0,
            failure: Some(failure),
        };
        let pool = |id: &str| {
            Failure::new(
                Some(500),
                "HTTP 500",
                format!("{{\"type\":\"error\",\"request_id\":\"req_{id}\",\"message\":\"pool exhausted\"}}")
                    .as_bytes(),
            )
        };
        let refused = Failure::new(None, "connect: Connection refused (os error 111)", &[]);
        let samples = vec![
            sample(pool("01ab")),
            sample(refused.clone()),
            sample(pool("02cd")),
            sample(pool("03ef")),
        ];
        let groups = group_failures(&samples);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, 3);
        assert!(groups[0].1.excerpt.contains("req_01ab"));
        assert_eq!((groups[1].0, groups[1].1), (1, &refused));
        assert_eq!(
            normalize("HTTP 500 after 12 events, id msg_9x"),
            "HTTP # after # events, id #"
        );
    }
}
