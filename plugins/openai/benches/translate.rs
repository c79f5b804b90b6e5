//! `translate_request` on a realistic ~80 KB Claude Code request: 24 tools with JSON schemas
//! and long descriptions, `system` text blocks with `cache_control`, and a multi-turn history
//! of thinking, text, `tool_use` and multi-line `tool_result` text (full of `\n` and `\"`).
//!
//! The fixture is what `ccr-tests`' `ClaudeCodeRequest` generates for 80 KB (written with
//! `loadbench --dump-requests`); it is checked in because this crate must not depend on the
//! test crate. A second variant sends every tool result as an array of text blocks, the other
//! shape Claude Code uses.
//!
//! `cargo bench -p ccr-plugin-openai --bench translate`

use ccr_plugin_openai::request::{translate_request, Options};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

const FIXTURE: &[u8] = include_bytes!("claude_code_80kb.json");

/// The fixture with every string `tool_result` content turned into one text block.
fn with_block_results() -> Vec<u8> {
    let mut req: Value = serde_json::from_slice(FIXTURE).expect("fixture is JSON");
    for msg in req["messages"].as_array_mut().expect("messages") {
        let Some(blocks) = msg["content"].as_array_mut() else {
            continue;
        };
        for block in blocks {
            if block["type"] == "tool_result" {
                if let Some(text) = block["content"].as_str() {
                    block["content"] = json!([{"type": "text", "text": text}]);
                }
            }
        }
    }
    serde_json::to_vec(&req).expect("serializable")
}

fn translate(c: &mut Criterion) {
    let opts = Options::default();
    let blocks = with_block_results();
    let mut g = c.benchmark_group("translate_request");
    for (name, body) in [
        ("claude_code_80kb", FIXTURE),
        ("block_results_80kb", &blocks[..]),
    ] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| translate_request(body, "gpt-4.1", &opts).expect("translates"))
        });
    }
    g.finish();
}

criterion_group!(benches, translate);
criterion_main!(benches);
