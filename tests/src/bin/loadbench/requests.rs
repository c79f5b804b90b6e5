//! The request mix: Claude Code-shaped bodies, the number that makes each request unique,
//! and what `ccr` sends upstream for each (what the floor sends directly).

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use ccr_tests::fixtures::{self, ClaudeCodeRequest};
use ccr_tests::{MockOptions, MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

/// One kind of request of the mix, in both wire formats.
pub(crate) struct RequestKind {
    /// e.g. `80 KB stream`.
    pub(crate) label: String,
    pub(crate) stream: bool,
    pub(crate) tools: usize,
    pub(crate) messages: usize,
    /// The Claude Code-shaped `/v1/messages` body sent to the proxies.
    pub(crate) anthropic: Bytes,
    /// The chat-completions body `ccr` sends upstream for it, sent to the upstream directly.
    pub(crate) openai: Bytes,
}

/// Put at the start of the last tool result of every request; its 16 zeros are replaced by a
/// request counter when the request is sent.
pub(crate) const MARKER: &str = "[loadbench request 0000000000000000] ";
pub(crate) const MARKER_DIGITS: std::ops::Range<usize> = 19..35;

/// Numbers the requests of the whole run, so that no two are the same.
pub(crate) static REQUEST_NUMBER: AtomicU64 = AtomicU64::new(1);

/// Where the marker's digits are in a serialized body, if it is there exactly once.
pub(crate) fn marker_digits(body: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(body, MARKER.as_bytes())?;
    let again = memchr::memmem::find(&body[at + 1..], MARKER.as_bytes());
    again.is_none().then_some(at + MARKER_DIGITS.start)
}

/// `body` with the next request number in its marker: each request carries a new last tool
/// result (as each turn of a real session does) while the history before it repeats, so no
/// cache (ccr caches token counts per piece) can answer a whole request from memory.
pub(crate) fn numbered(body: &Bytes, digits_at: Option<usize>) -> Bytes {
    let Some(at) = digits_at else {
        return body.clone();
    };
    let number = REQUEST_NUMBER.fetch_add(1, Ordering::Relaxed) % 10_000_000_000_000_000;
    let mut bytes = body.to_vec();
    bytes[at..at + MARKER_DIGITS.len()].copy_from_slice(format!("{number:016}").as_bytes());
    Bytes::from(bytes)
}

pub(crate) fn build_kinds(sizes: &[usize]) -> Vec<(String, bool, Value)> {
    let mut kinds = Vec::new();
    for &size in sizes {
        for stream in [false, true] {
            let mut request = ClaudeCodeRequest::new(size).stream(stream).build();
            // The fixture's last message is the user's turn of tool results.
            if let Some(last) = request["messages"]
                .as_array_mut()
                .and_then(|m| m.last_mut())
            {
                if let Some(text) = last["content"][0]["content"].as_str() {
                    last["content"][0]["content"] = Value::String(format!("{MARKER}{text}"));
                }
            }
            let label = format!(
                "{} KB {}",
                (size + 500) / 1000,
                if stream { "stream" } else { "JSON" }
            );
            kinds.push((label, stream, request));
        }
    }
    kinds
}

/// The bench config for both proxies: one OpenAI-compatible provider at `chat_url`, no file
/// logging, everything routed to it; `PORT` for claude-code-router (ccr gets `--port`).
pub(crate) fn bench_config(chat_url: &str, port: Option<u16>) -> Value {
    let mut config = json!({
        "LOG": false,
        "Providers": [{
            "name": "mock",
            "api_base_url": chat_url,
            "api_key": "sk-mock",
            "models": ["static"]
        }],
        "Router": {"default": "mock,static"}
    });
    if let Some(port) = port {
        config["PORT"] = json!(port);
    }
    config
}

/// Sends every request once through a throwaway `ccr` in front of a recording mock and
/// returns the chat-completions bodies it sent upstream, in `requests` order.
pub(crate) fn capture_upstream_bodies(
    ccr_bin: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
    requests: &[(String, bool, Value)],
) -> Result<Vec<Bytes>> {
    let mock = MockUpstream::start_with(MockOptions {
        record: true,
        static_responses: true,
        ..MockOptions::default()
    });
    let proxy = Proxy::try_start(ProxyOptions {
        binary: Some(ccr_bin.to_path_buf()),
        ..ProxyOptions::new(bench_config(&mock.chat_url(), None))
    })
    .context("starting ccr to capture the upstream bodies")?;
    let headers = fixtures::claude_code_headers();
    let mut bodies = Vec::new();
    for (label, _, request) in requests {
        mock.clear_requests();
        let response = runtime.block_on(async {
            let response = proxy.post_messages_with_headers(request, &headers).await;
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            (status, body)
        });
        if response.0 != 200 {
            bail!(
                "capture: ccr answered {} to the {label} request: {}\n{}",
                response.0,
                String::from_utf8_lossy(&response.1),
                proxy.logs()
            );
        }
        let sent = mock
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.path.ends_with("/chat/completions"))
            .ok_or_else(|| anyhow!("capture: ccr sent nothing upstream for {label}"))?;
        bodies.push(Bytes::from(serde_json::to_vec(&sent.body)?));
    }
    Ok(bodies)
}
