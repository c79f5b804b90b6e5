//! Driving load at one system and timing every request: phases, samples, validation of
//! each answer, RSS sampling.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::*;

/// What a system under test speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    /// `/v1/messages` in, Anthropic out (the proxies).
    Anthropic,
    /// `/v1/chat/completions` in, OpenAI out (the upstream directly).
    OpenAi,
}

/// Where and how to send the mix.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) wire: Wire,
    pub(crate) bodies: Vec<Bytes>,
    /// Where each body's request number goes ([`numbered`]).
    pub(crate) markers: Vec<Option<usize>>,
    pub(crate) streams: Vec<bool>,
}

/// One finished request.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) kind: usize,
    pub(crate) latency_us: u64,
    /// Time to the first body byte (streams only).
    pub(crate) ttfb_us: Option<u64>,
    pub(crate) error: Option<String>,
}

/// One measured phase at one concurrency.
#[derive(Debug, Clone)]
pub(crate) struct Phase {
    pub(crate) concurrency: usize,
    pub(crate) elapsed: Duration,
    pub(crate) samples: Vec<Sample>,
    /// CPU time of the system under test, of the upstream mock and of this load generator.
    pub(crate) cpu_ms: f64,
    pub(crate) upstream_cpu_ms: f64,
    pub(crate) client_cpu_ms: f64,
    pub(crate) rss_peak_kib: u64,
}

impl Phase {
    pub(crate) fn ok(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| s.error.is_none())
    }
    pub(crate) fn ok_count(&self) -> usize {
        self.ok().count()
    }
    pub(crate) fn errors(&self) -> usize {
        self.samples.len() - self.ok_count()
    }
    pub(crate) fn throughput(&self) -> f64 {
        self.ok_count() as f64 / self.elapsed.as_secs_f64()
    }
    pub(crate) fn latencies(&self, kind: Option<usize>) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .ok()
            .filter(|s| kind.is_none_or(|k| s.kind == k))
            .map(|s| s.latency_us)
            .collect();
        v.sort_unstable();
        v
    }
    pub(crate) fn ttfbs(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.ok().filter_map(|s| s.ttfb_us).collect();
        v.sort_unstable();
        v
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
pub(crate) fn percentile_ms(sorted: &[u64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0)
}

pub(crate) async fn one_request(
    client: &reqwest::Client,
    target: &Target,
    kind: usize,
    timeout: Duration,
) -> Sample {
    // Numbering copies the body: done before the clock starts.
    let body = numbered(&target.bodies[kind], target.markers[kind]);
    let start = Instant::now();
    let stream = target.streams[kind];
    let outcome = tokio::time::timeout(timeout, async {
        let mut response = client
            .post(&target.url)
            .headers(target.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status();
        let mut ttfb = None;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
        {
            if ttfb.is_none() && !chunk.is_empty() {
                ttfb = Some(start.elapsed());
            }
            body.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(format!("HTTP {status}: {}", excerpt(&body)));
        }
        validate(target.wire, stream, &body)?;
        Ok(ttfb)
    })
    .await;
    let latency_us = start.elapsed().as_micros() as u64;
    match outcome {
        Ok(Ok(ttfb)) => Sample {
            kind,
            latency_us,
            ttfb_us: if stream {
                ttfb.map(|t| t.as_micros() as u64)
            } else {
                None
            },
            error: None,
        },
        Ok(Err(error)) => Sample {
            kind,
            latency_us,
            ttfb_us: None,
            error: Some(error),
        },
        Err(_) => Sample {
            kind,
            latency_us,
            ttfb_us: None,
            error: Some(format!("timed out after {timeout:?}")),
        },
    }
}

/// A complete, well-formed answer in the expected format, or why not.
pub(crate) fn validate(wire: Wire, stream: bool, body: &[u8]) -> Result<(), String> {
    let has = |needle: &[u8]| memchr::memmem::find(body, needle).is_some();
    match (wire, stream) {
        (Wire::Anthropic, true) => {
            if has(b"event: error") {
                return Err(format!("error event in stream: {}", excerpt(body)));
            }
            if !has(b"event: message_start") || !has(b"event: message_stop") {
                return Err(format!("incomplete stream: {}", excerpt(body)));
            }
        }
        (Wire::OpenAi, true) => {
            if !has(b"data: [DONE]") {
                return Err(format!("incomplete stream: {}", excerpt(body)));
            }
        }
        (Wire::Anthropic, false) => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("invalid JSON ({e}): {}", excerpt(body)))?;
            if value["type"] != "message" || !value["content"].is_array() {
                return Err(format!("not an Anthropic message: {}", excerpt(body)));
            }
        }
        (Wire::OpenAi, false) => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("invalid JSON ({e}): {}", excerpt(body)))?;
            if !value["choices"].is_array() {
                return Err(format!("not a chat completion: {}", excerpt(body)));
            }
        }
    }
    Ok(())
}

pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).replace('\n', "\\n");
    if body.len() > 200 {
        format!("{text}…")
    } else {
        text
    }
}

/// Runs `concurrency` closed-loop workers until `duration` has passed (requests in flight
/// then are finished and counted), sending the mix round-robin from one shared counter.
pub(crate) async fn drive(
    client: &reqwest::Client,
    target: &Arc<Target>,
    concurrency: usize,
    duration: Duration,
    timeout: Duration,
) -> (Vec<Sample>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, target, next) = (client.clone(), target.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline && !INTERRUPTED.load(Ordering::Relaxed) {
                let kind = next.fetch_add(1, Ordering::Relaxed) % target.bodies.len();
                samples.push(one_request(&client, &target, kind, timeout).await);
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.await.unwrap_or_default());
    }
    (samples, start.elapsed())
}

/// Samples the RSS of `pids` every 50 ms until dropped; `peak()` is the largest seen.
pub(crate) struct RssSampler {
    pub(crate) peak: Arc<AtomicU64>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start(pids: Arc<Vec<u32>>) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(rss_kib(&pids)));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    peak.fetch_max(rss_kib(&pids), Ordering::Relaxed);
                }
            }
        });
        RssSampler { peak, task }
    }
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The measurements of one system.
pub(crate) struct SystemRun {
    pub(crate) rss_idle_kib: u64,
    pub(crate) rss_peak_kib: u64,
    pub(crate) phases: Vec<Phase>,
}

/// Idle RSS, warm-up, then one phase per concurrency.
pub(crate) fn measure(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    target: Target,
    pid: u32,
    upstream_pid: u32,
) -> Result<SystemRun> {
    let tick_ms = ms_per_tick();
    // Let start-up work (plugin compilation, JIT, GC) settle before reading the idle RSS.
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    // The process and whatever it spawned, looked up once: scanning /proc per sample would
    // cost the load generator CPU.
    let tree = Arc::new(process_tree(pid));
    let upstream = [upstream_pid];
    let rss_idle_kib = rss_kib(&tree);
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .build()?;
    let target = Arc::new(target);
    runtime.block_on(async {
        if !args.warmup.is_zero() {
            eprintln!("loadbench: {name}: warm-up {:?}", args.warmup);
            let warm = args.concurrency.iter().copied().max().unwrap_or(1).min(4);
            drive(&client, &target, warm, args.warmup, args.timeout).await;
        }
        let mut phases = Vec::new();
        for &concurrency in &args.concurrency {
            check_interrupted()?;
            eprintln!(
                "loadbench: {name}: concurrency {concurrency} for {:?}",
                args.duration
            );
            let sampler = RssSampler::start(tree.clone());
            let (cpu0, up0, own0) = (cpu_ticks(&tree), cpu_ticks(&upstream), own_cpu_ticks());
            let (samples, elapsed) =
                drive(&client, &target, concurrency, args.duration, args.timeout).await;
            let (cpu1, up1, own1) = (cpu_ticks(&tree), cpu_ticks(&upstream), own_cpu_ticks());
            let phase = Phase {
                concurrency,
                elapsed,
                samples,
                cpu_ms: cpu1.saturating_sub(cpu0) as f64 * tick_ms,
                upstream_cpu_ms: up1.saturating_sub(up0) as f64 * tick_ms,
                client_cpu_ms: own1.saturating_sub(own0) as f64 * tick_ms,
                rss_peak_kib: sampler.peak().max(rss_kib(&tree)),
            };
            eprintln!(
                "loadbench: {name}: {} requests, {:.1} req/s, {} errors",
                phase.samples.len(),
                phase.throughput(),
                phase.errors()
            );
            phases.push(phase);
        }
        check_interrupted()?;
        Ok(SystemRun {
            rss_idle_kib,
            rss_peak_kib: phases.iter().map(|p| p.rss_peak_kib).max().unwrap_or(0),
            phases,
        })
    })
}

pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}
