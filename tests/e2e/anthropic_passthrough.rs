//! The bundled `anthropic` provider (CCR's `"use": ["Anthropic"]`) against a real Anthropic
//! Messages API upstream: a second `ccr`, which itself translates to the OpenAI mock.
//! client → ccr A (anthropic provider) → ccr B (openai provider) → mock.

use ccr_tests::{sse, MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

#[tokio::test]
async fn anthropic_upstreams_pass_through_both_ways() {
    let mock = MockUpstream::start();
    let inner = Proxy::start(ProxyOptions::new(json!({
        "LOG": false,
        "APIKEY": "inner-key",
        "Providers": [{"name": "mock", "api_base_url": mock.chat_url(), "api_key": "sk-mock",
                       "models": ["text", "tools", "error-429"]}],
        "Router": {"default": "mock,text"},
    })));
    let outer = Proxy::start(ProxyOptions::new(json!({
        "LOG": false,
        "Providers": [{
            "name": "claude", "api_base_url": format!("{}/v1/messages", inner.base_url()),
            "api_key": "inner-key", "models": ["mock,text", "mock,tools", "mock,error-429"],
            "transformer": {"use": ["Anthropic"]}
        }],
        "Router": {"default": "claude,mock,text"},
    })));

    let request = |model: &str, stream: bool| {
        json!({
            "model": model, "max_tokens": 50, "stream": stream,
            "context_management": {"edits": []},
            "messages": [{"role": "user", "content": "hi"}],
        })
    };
    // Whole answer.
    let r = outer
        .post_messages(&request("claude-sonnet-4-5", false))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "Hello from mock", "{body}");
    // The inner proxy got the routed model (with its own `provider,model` form) and no beta
    // field it was not configured for.
    let upstream = mock.last_request().unwrap();
    assert_eq!(upstream.body["model"], "text");

    // Streamed tool calls pass through event by event.
    let r = outer
        .post_messages(&request("claude,mock,tools", true))
        .await;
    assert_eq!(r.status(), 200);
    let events = sse::read(r).await;
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "content_block_start")
            .count(),
        2
    );

    // Upstream errors keep their status and type.
    let r = outer
        .post_messages(&request("claude,mock,error-429", false))
        .await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
}
