//! `PROXY_URL`: upstream calls go through the configured outbound HTTP proxy. The "proxy"
//! here is a second mock: a plain-HTTP proxy receives absolute-form requests, which the
//! mock answers like any other, so a provider URL nobody listens on still gets an answer,
//! and only through the proxy.

use ccr_tests::{free_port, MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

#[tokio::test]
async fn upstream_calls_go_through_proxy_url() {
    let proxy_mock = MockUpstream::start();
    let nowhere = format!("http://127.0.0.1:{}/v1/chat/completions", free_port());
    let ccr = Proxy::start(ProxyOptions::new(json!({
        "LOG": false,
        "PROXY_URL": proxy_mock.base_url(),
        "Providers": [{"name": "p", "api_base_url": nowhere, "api_key": "k", "models": ["text"]}],
        "Router": {"default": "p,text"},
    })));
    let r = ccr
        .post_messages(&json!({"model": "m", "max_tokens": 5,
                               "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "Hello from mock", "{body}");
    assert_eq!(
        proxy_mock.request_count(),
        1,
        "the request went through PROXY_URL"
    );
}
