//! Streams share translator instances: 32 to an instance, each its own resource, the
//! instances given back as their streams end.

use std::sync::Arc;
use std::time::Duration;

use ccr::plugins::bindings::{ProviderTarget, Target, UpstreamEvent};
use ccr::plugins::stream_host::STREAMS_PER_INSTANCE;
use ccr::plugins::{PluginEngine, PluginLimits, PluginRegistry, StreamTranslatorInstance};

fn chunk(content: &str) -> UpstreamEvent {
    let data = serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
    });
    UpstreamEvent {
        event: None,
        data: serde_json::to_vec(&data).unwrap(),
    }
}

#[test]
fn streams_share_instances_and_keep_their_own_state() {
    // Loading compiles (blocking): outside the runtime.
    let engine = Arc::new(PluginEngine::new(None).unwrap());
    let registry = PluginRegistry::new(engine, None, Arc::new(|_: &str| PluginLimits::default()));
    let openai = registry.snapshot().get("openai").unwrap().clone();
    let engine = registry.engine().clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let target = ProviderTarget {
            target: Target {
                provider: "p".into(),
                base_url: "http://127.0.0.1:9/v1/chat/completions".into(),
                model: "m".into(),
                options: "{}".into(),
            },
            api_key: "k".into(),
        };

        let n = STREAMS_PER_INSTANCE + 8;
        let mut streams = Vec::new();
        for _ in 0..n {
            streams.push(
                StreamTranslatorInstance::open(&engine, &openai, &target)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(openai.streams.usage(), (2, n));

        // Interleaved feeds: every stream starts its own message and carries its own text.
        for (i, stream) in streams.iter_mut().enumerate() {
            let events = stream.feed(&chunk(&format!("stream {i}"))).await.unwrap();
            let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
            assert_eq!(names.first(), Some(&"message_start"), "{names:?}");
            let text: String = events
                .iter()
                .map(|e| String::from_utf8_lossy(&e.data).into_owned())
                .collect();
            assert!(text.contains(&format!("stream {i}")), "{text}");
        }
        for stream in streams.iter_mut().take(3) {
            let events = stream.feed(&chunk("more")).await.unwrap();
            assert!(events.iter().all(|e| e.event != "message_start"));
        }

        // Ended streams give their places back; one idle instance stays warm.
        drop(streams);
        let mut usage = openai.streams.usage();
        for _ in 0..200 {
            if usage == (1, 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            usage = openai.streams.usage();
        }
        assert_eq!(usage, (1, 0));
    });
}
