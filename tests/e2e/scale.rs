//! Limits under concurrency, with small numbers: the configured stream limit answers 529
//! `overloaded_error` before anything goes upstream, and a full plugin-instance pool is
//! never a 500 (instances come from the on-demand allocator instead). How far it scales is
//! measured by `loadbench streams`, not here.

use crate::gateway_common::*;
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};
use serde_json::json;

/// A stream the mock answers slowly (300 ms between events), so that it stays open.
const SLOW_STREAM: &str = "slow-stream-300";

#[tokio::test]
async fn the_stream_limit_answers_529_before_any_upstream_call() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, SLOW_STREAM);
    config["MAX_CONCURRENT_STREAMS"] = json!(2);
    let proxy = Proxy::start(ProxyOptions::new(config));

    // Two streams open (their heads arrived: both are counted) and stay open.
    let mut open = Vec::new();
    for _ in 0..2 {
        let response = proxy.post_messages(&request(SLOW_STREAM, true)).await;
        assert_eq!(response.status(), 200);
        open.push(response);
    }
    let upstream_calls = mock.request_count();
    assert_eq!(upstream_calls, 2);
    let streams = health(&proxy).await["streams"].clone();
    assert_eq!(
        (streams["open"].as_u64(), streams["limit"].as_u64()),
        (Some(2), Some(2)),
        "{streams}"
    );
    // Both are translated in one shared provider instance.
    assert_eq!(streams["translator_instances"], 1, "{streams}");

    // A third is refused at once, in Anthropic's shape, and never reaches the upstream.
    let refused = post(&proxy, &request(SLOW_STREAM, true)).await;
    let message = assert_error(&refused, 529, "overloaded_error");
    assert!(message.contains("MAX_CONCURRENT_STREAMS"), "{message}");
    assert!(message.contains('2'), "{message}");
    assert_eq!(mock.request_count(), upstream_calls);

    // Whole answers are not streams: they still go through.
    let whole = post(&proxy, &request("text", false)).await;
    assert_eq!(whole.status, 200, "{}", whole.text);

    // The open streams complete normally, and their places are given back.
    for response in open {
        let text = response.text().await.unwrap();
        let stream = check_stream(&ccr_tests::sse::parse(&text));
        assert!(stream.error.is_none(), "{:?}", stream.error);
    }
    let again = eventually("a stream is accepted again", || async {
        let (status, _, events) = post_stream(&proxy, &request("text", true)).await;
        (status == 200).then_some(events)
    })
    .await;
    assert!(check_stream(&again).error.is_none());
}

#[tokio::test]
async fn a_full_plugin_pool_is_never_a_500() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    // Every request also runs a transformer (two instances per request).
    config["Providers"][0]["transformer"] = json!({"use": [["maxtoken", {"max_tokens": 64}]]});
    let mut options = ProxyOptions::new(config);
    // Two pooled slots for 24 concurrent requests (and their transformers) holding them.
    options
        .env
        .push(("CCR_PLUGIN_POOL_INSTANCES".into(), "2".into()));
    let proxy = Proxy::start(options);

    let (whole_body, stream_body) = (
        request("mock,slow-first-byte-400", false),
        request("mock,slow-stream-100", true),
    );
    let whole = (0..12).map(|_| post(&proxy, &whole_body));
    let streams = (0..12).map(|_| post_stream(&proxy, &stream_body));
    let (whole, streams) = tokio::join!(
        futures::future::join_all(whole),
        futures::future::join_all(streams)
    );
    for answer in whole {
        assert_eq!(answer.status, 200, "{}\n{}", answer.text, proxy.logs());
        assert_eq!(answer.json()["type"], "message");
    }
    for (status, _, events) in streams {
        assert_eq!(status, 200, "{events:?}\n{}", proxy.logs());
        let stream = check_stream(&events);
        assert!(
            stream.error.is_none(),
            "{:?}\n{}",
            stream.error,
            proxy.logs()
        );
    }
    let logs = proxy.logs();
    assert!(logs.contains("instance pool is full"), "{logs}");
    assert!(!logs.contains("crashed"), "{logs}");
}
