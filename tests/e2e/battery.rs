//! One battery of end-to-end scenarios written once and run against every provider wire the
//! mock speaks (TensorZero's `tests/e2e/providers/common.rs` + `generate_provider_tests!`):
//! a scenario takes the [`Wire`], starts the mock and a `ccr` whose only provider reaches the
//! mock over that wire, and asserts what Claude Code receives. [`generate_provider_tests!`]
//! instantiates the scenarios a provider supports (see `providers.rs`).
//!
//! Where providers legitimately differ (OpenAI cannot say which stop sequence ended the text,
//! the Anthropic pass-through keeps Anthropic's own error status and type) the expectation is
//! spelled out per wire below.

use ccr_tests::mock::{
    CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_TEXT, REASONING_TOKENS, TEXT_ANSWER,
};
use ccr_tests::{mock_provider_config, MockUpstream, Proxy, ProxyOptions, Wire};
use serde_json::{json, Value};

use crate::gateway_common::*;

/// Instantiates battery scenarios for one provider: `generate_provider_tests!(openai,
/// Wire::OpenAi, [text, text_stream, ...])` makes `openai::text` etc., each a tokio test
/// calling `battery::<scenario>(wire)`.
macro_rules! generate_provider_tests {
    ($provider:ident, $wire:expr, [$($scenario:ident),* $(,)?]) => {
        mod $provider {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    $crate::battery::$scenario($wire).await;
                }
            )*
        }
    };
}
pub(crate) use generate_provider_tests;

/// The mock and a proxy routing `mock,<name>` to it over `wire`.
fn start(wire: Wire) -> (MockUpstream, Proxy) {
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(json!({
        "LOG": false,
        "Providers": [mock_provider_config(&mock, wire, "text")],
        "Router": {"default": "mock,text"},
    })));
    (mock, proxy)
}

/// The message a call returns: the JSON body, or the message rebuilt from a checked stream.
async fn message(proxy: &Proxy, model: &str, stream: bool) -> Value {
    message_for(proxy, &request(&format!("mock,{model}"), stream)).await
}

async fn message_for(proxy: &Proxy, body: &Value) -> Value {
    let stream = body["stream"] == true;
    if stream {
        let (status, _, events) = post_stream(proxy, body).await;
        assert_eq!(status, 200, "{body}");
        let checked = check_stream(&events);
        assert!(checked.error.is_none(), "{:?}", checked.error);
        checked.message
    } else {
        let answer = post(proxy, body).await;
        assert_eq!(answer.status, 200, "{body}: {}", answer.text);
        answer.json()
    }
}

fn blocks_of<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"]
        .as_array()
        .map(|blocks| blocks.iter().filter(|b| b["type"] == kind).collect())
        .unwrap_or_default()
}

/// Plain text, whole and streamed.
pub async fn text(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        let message = message(&proxy, "text", stream).await;
        assert_eq!(text_of(&message), TEXT_ANSWER, "stream={stream}: {message}");
        assert_eq!(message["role"], "assistant", "{message}");
        assert_eq!(message["stop_reason"], "end_turn", "{message}");
    }
}

/// Two parallel tool calls become two `tool_use` blocks with parsed inputs.
pub async fn parallel_tools(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        let message = message(&proxy, "tools", stream).await;
        let tools = blocks_of(&message, "tool_use");
        let calls: Vec<(&Value, &Value)> =
            tools.iter().map(|b| (&b["name"], &b["input"])).collect();
        assert_eq!(
            calls,
            vec![
                (&json!("get_weather"), &json!({"city": "Paris"})),
                (&json!("get_time"), &json!({"tz": "UTC"})),
            ],
            "stream={stream}: {message}"
        );
        let ids: Vec<&str> = tools.iter().filter_map(|b| b["id"].as_str()).collect();
        assert_eq!(ids.len(), 2, "{message}");
        assert_ne!(ids[0], ids[1], "{message}");
        assert!(ids.iter().all(|id| !id.is_empty()), "{message}");
        assert_eq!(message["stop_reason"], "tool_use", "{message}");
    }
}

/// Reasoning becomes a `thinking` block before the text.
pub async fn reasoning(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        let message = message(&proxy, "reasoning", stream).await;
        let kinds: Vec<&str> = message["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["type"].as_str())
            .collect();
        assert_eq!(kinds, ["thinking", "text"], "stream={stream}: {message}");
        assert_eq!(
            message["content"][0]["thinking"], REASONING_TEXT,
            "{message}"
        );
        assert_eq!(text_of(&message), TEXT_ANSWER, "{message}");
    }
}

/// The client sees the upstream's token counts: uncached input, cache reads, output.
pub async fn usage(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        for (model, output) in [
            ("text", COMPLETION_TOKENS),
            ("reasoning", COMPLETION_TOKENS + REASONING_TOKENS),
        ] {
            let message = message(&proxy, model, stream).await;
            let usage = &message["usage"];
            let what = format!("{model} stream={stream}: {usage}");
            assert_eq!(
                usage["input_tokens"],
                PROMPT_TOKENS - CACHED_TOKENS,
                "{what}"
            );
            assert_eq!(usage["cache_read_input_tokens"], CACHED_TOKENS, "{what}");
            assert_eq!(usage["output_tokens"], output, "{what}");
        }
    }
}

/// Each stop reason Claude Code acts on: `end_turn`, `max_tokens`, `tool_use`,
/// `stop_sequence` (OpenAI only says `stop`, so there it is `end_turn`).
pub async fn stop_reasons(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        for (model, reason, text) in [
            ("stop", "end_turn", TEXT_ANSWER),
            ("length", "max_tokens", "Hello from"),
            ("tools", "tool_use", ""),
        ] {
            let message = message(&proxy, model, stream).await;
            assert_eq!(
                message["stop_reason"], reason,
                "{model} stream={stream}: {message}"
            );
            assert_eq!(
                text_of(&message),
                text,
                "{model} stream={stream}: {message}"
            );
        }
        let mut body = request("mock,stop-sequence", stream);
        body["stop_sequences"] = json!([" mock", "END"]);
        let message = message_for(&proxy, &body).await;
        assert_eq!(text_of(&message), "Hello from", "{message}");
        let (reason, sequence) = match wire {
            Wire::OpenAi => ("end_turn", Value::Null),
            Wire::Anthropic => ("stop_sequence", json!(" mock")),
        };
        assert_eq!(message["stop_reason"], reason, "stream={stream}: {message}");
        if !stream {
            assert_eq!(message["stop_sequence"], sequence, "{message}");
        }
    }
}

/// What the client gets for an upstream error status on `wire`: the error type Anthropic
/// names for the status (the translated providers map to the same types); the status kept,
/// except where the proxy's table folds it (OpenAI 422 -> 400, 502/503 -> 529).
fn expected_error(wire: Wire, status: u16) -> (u16, &'static str) {
    let kind = ccr_tests::mock::wire::anthropic_error_type(status);
    let status = match (wire, status) {
        (Wire::Anthropic, _) => status,
        (Wire::OpenAi, 422) => 400,
        (Wire::OpenAi, 502 | 503) => 529,
        (Wire::OpenAi, _) => status,
    };
    (status, kind)
}

/// Upstream errors before any answer byte: a plain Anthropic error with the mapped status
/// (never a 200 stream), `retry-after` kept on 429.
pub async fn errors_before_the_stream(wire: Wire) {
    let (_mock, proxy) = start(wire);
    for stream in [false, true] {
        for upstream in [400, 401, 403, 404, 413, 422, 429, 500, 503, 504, 529] {
            let (status, kind) = expected_error(wire, upstream);
            let what = format!("error-{upstream} stream={stream}");
            let answer = post(&proxy, &request(&format!("mock,error-{upstream}"), stream)).await;
            assert_eq!(
                answer.header("content-type"),
                Some("application/json"),
                "{what}: {}",
                answer.text
            );
            assert_error(&answer, status, kind);
            if upstream == 429 {
                assert_eq!(answer.header("retry-after"), Some("1"), "{what}");
            }
        }
    }
}

/// An error event after the text started: 200, the text so far, one `error` event last.
pub async fn error_mid_stream(wire: Wire) {
    let (_mock, proxy) = start(wire);
    let (status, _, events) = post_stream(&proxy, &request("mock,midstream-error", true)).await;
    assert_eq!(status, 200);
    let checked = check_stream(&events);
    let error = checked.error.expect("an error event");
    let kind = match wire {
        Wire::OpenAi => "api_error",
        // The pass-through forwards Anthropic's own event.
        Wire::Anthropic => "overloaded_error",
    };
    assert_eq!(error["error"]["type"], kind, "{error}");
    assert_eq!(events.last().unwrap().event.as_deref(), Some("error"));
    assert_eq!(text_of(&checked.message), "Hello from");
}
