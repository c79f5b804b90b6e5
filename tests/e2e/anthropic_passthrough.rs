//! The bundled `anthropic` provider (CCR's `"use": ["Anthropic"]`) against the mock's
//! Anthropic Messages wire: client → ccr (anthropic provider) → mock `/v1/messages`.

use ccr_tests::{mock_provider_config, sse, MockUpstream, Proxy, ProxyOptions, Wire};
use serde_json::{json, Value};

#[tokio::test]
async fn anthropic_upstreams_pass_through_both_ways() {
    let mock = MockUpstream::start();
    let mut provider = mock_provider_config(&mock, Wire::Anthropic, "text");
    provider["name"] = json!("claude");
    let outer = Proxy::start(ProxyOptions::new(json!({
        "LOG": false,
        "Providers": [provider],
        "Router": {"default": "claude,text"},
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
    // The upstream got the routed model, the Anthropic headers and no beta field it was not
    // configured for.
    let upstream = mock.last_request().unwrap();
    assert_eq!(upstream.path, "/v1/messages");
    assert_eq!(upstream.body["model"], "text");
    assert_eq!(upstream.header("x-api-key"), Some("sk-mock"));
    assert!(upstream.header("anthropic-version").is_some());
    assert!(
        upstream.body.get("context_management").is_none(),
        "{}",
        upstream.body
    );

    // Streamed tool calls pass through event by event.
    let r = outer.post_messages(&request("claude,tools", true)).await;
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
        .post_messages(&request("claude,error-429", false))
        .await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
}
