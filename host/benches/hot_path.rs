//! Micro-benchmarks of the request path's pieces on a realistic ~80 KB Claude Code request
//! (24 tools, long system prompt, multi-turn history with tool use):
//!
//! - body parse + validation,
//! - token counting, cold (fresh cache) and cached (Claude Code resends the same prefix),
//! - the routing decision,
//! - instantiate + call a transformer plugin (bundled `maxtoken`) on the 80 KB body,
//! - instantiate + `build-request` of the bundled `openai` provider,
//! - translating one upstream stream event (OpenAI chunk → Anthropic events).
//!
//! `cargo bench -p ccr --bench hot_path`

mod common;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use ccr::config;
use ccr::plugins::bindings::{ProviderTarget, TransformContext, UpstreamEvent};
use ccr::plugins::{
    PluginEngine, PluginLimits, PluginRegistry, ProviderInstance, StreamTranslatorInstance,
    TransformerInstance,
};
use ccr::request::{self, RequestKind};
use ccr::routing::{self, RouteFacts};
use ccr::tokens::TokenCounter;
use common::{route_context, target};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CONFIG: &str = r#"{
  "Providers": [
    {"name": "main", "api_base_url": "http://127.0.0.1:9/v1/chat/completions", "api_key": "k",
     "models": ["big", "small", "thinker", "long"]}
  ],
  "Router": {"default": "main,big", "background": "main,small", "think": "main,thinker",
             "longContext": "main,long", "longContextThreshold": 60000}
}"#;

fn body() -> Bytes {
    let json = ccr_tests::fixtures::claude_code_request(80_000, true);
    Bytes::from(serde_json::to_vec(&json).unwrap())
}

fn registry() -> Arc<PluginRegistry> {
    let cache = tempfile::tempdir().unwrap().keep();
    let engine = Arc::new(PluginEngine::new(Some(cache)).unwrap());
    Arc::new(PluginRegistry::new(
        engine,
        None,
        Arc::new(|_: &str| PluginLimits::default()),
    ))
}

fn benches(c: &mut Criterion) {
    let raw = body();
    let parsed = request::parse(&raw, RequestKind::Messages).unwrap();
    let cfg = config::parse(CONFIG, Path::new("bench.json"), |_| None).unwrap();

    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("parse_validate_80kb", |b| {
        b.iter(|| request::parse(&raw, RequestKind::Messages).unwrap())
    });
    g.bench_function("tokens_cold_80kb", |b| {
        b.iter_batched(
            || TokenCounter::new(4096),
            |counter| counter.count_request(&parsed.json),
            BatchSize::SmallInput,
        )
    });
    let warm = TokenCounter::default();
    warm.count_request(&parsed.json);
    g.bench_function("tokens_cached_80kb", |b| {
        b.iter(|| warm.count_request(&parsed.json))
    });
    g.bench_function("route_decision", |b| {
        b.iter(|| {
            let facts = RouteFacts::from_request(&parsed.json, None);
            routing::builtin_route(&facts, 20_000, None, &cfg).unwrap()
        })
    });
    g.finish();

    let registry = registry();
    let plugins = registry.snapshot();
    let engine = registry.engine().clone();
    let maxtoken = plugins.get("maxtoken").expect("bundled maxtoken").clone();
    let openai = plugins.get("openai").expect("bundled openai").clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let mut g = c.benchmark_group("plugin");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    let ctx = TransformContext {
        target: target(r#"{"max_tokens":16384}"#),
        route: route_context(),
    };
    g.bench_function("transformer_instantiate_call_80kb", |b| {
        b.to_async(&rt).iter(|| async {
            let mut t = TransformerInstance::new(&engine, maxtoken.clone())
                .await
                .unwrap();
            t.transform_request(&ctx, raw.to_vec()).await.unwrap()
        })
    });
    let provider_target = ProviderTarget {
        target: target("{}"),
        api_key: "sk-bench".into(),
    };
    g.bench_function("provider_instantiate_build_request_80kb", |b| {
        b.to_async(&rt).iter(|| async {
            let mut p = ProviderInstance::new(&engine, openai.clone())
                .await
                .unwrap();
            p.build_request(&provider_target, &raw).await.unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(1));
    let mut translator = rt.block_on(async {
        let mut t = StreamTranslatorInstance::open(&engine, &openai, &provider_target)
            .await
            .unwrap();
        let first = br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"big","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
        t.feed(&UpstreamEvent { event: None, data: first.to_vec() }).await.unwrap();
        t
    });
    let chunk = UpstreamEvent {
        event: None,
        data: br#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"big","choices":[{"index":0,"delta":{"content":"Hello, world"},"finish_reason":null}]}"#.to_vec(),
    };
    g.bench_function("translate_text_delta_event", |b| {
        b.iter(|| rt.block_on(translator.feed(&chunk)).unwrap())
    });
    g.finish();
}

criterion_group!(hot_path, benches);
criterion_main!(hot_path);
