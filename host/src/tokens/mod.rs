//! Input-token counting the way claude-code-router does it (`cl100k_base`), made cheap for
//! Claude Code's traffic.
//!
//! CCR counts, with tiktoken's `cl100k_base`:
//! - message content given as a string, `text` blocks, `JSON.stringify(tool_use.input)`,
//!   and `tool_result.content` (as is if a string, else `JSON.stringify`ed);
//! - `system` as a string, or its `text` blocks;
//! - for each tool, `name + description` (when there is a description) and
//!   `JSON.stringify(input_schema)`.
//!
//! Images, documents and thinking blocks are not counted. The count decides the
//! `longContext` route and is what router plugins see.
//!
//! Claude Code resends the same ~24 tools, the same system prompt and a growing history on
//! every turn, so each piece's count is cached under a 64-bit hash of the piece: a repeated
//! request costs a hash walk, not a tokenization. The cache is a sharded LRU, bounded in
//! entries.

mod js_stringify;
mod tokenizer;

use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;

use lru::LruCache;
use parking_lot::Mutex;
use rustc_hash::FxHasher;

use crate::json::Json;

pub use js_stringify::js_stringify;
use js_stringify::js_truthy;
pub use tokenizer::{count_uncached, load_in_background};

/// Entries cached by [`TokenCounter::default`] (≈1.5 MB at most). A Claude Code session
/// uses roughly one entry per tool, system block and message piece.
pub const DEFAULT_CAPACITY: usize = 32_768;

/// Shards of the cache; requests counted concurrently rarely contend on one lock.
const SHARDS: usize = 16;
/// A token counter with a bounded, thread-safe cache of per-piece counts.
///
/// Cheap to share (`&self` methods); one instance per process is the intent.
pub struct TokenCounter {
    shards: Box<[Mutex<LruCache<u64, u32>>]>,
}

impl Default for TokenCounter {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter")
            .field("cached", &self.cached_entries())
            .finish()
    }
}

/// Tags keep hashes of different kinds of piece apart (`"x"` as text vs. as JSON).
#[derive(Hash)]
enum Kind {
    Text,
    Json,
    Tool,
}

impl TokenCounter {
    /// A counter caching up to `capacity` piece counts (at least one per shard).
    pub fn new(capacity: usize) -> Self {
        let per_shard =
            NonZeroUsize::new(capacity.div_ceil(SHARDS).max(1)).unwrap_or(NonZeroUsize::MIN);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(LruCache::new(per_shard)))
            .collect();
        TokenCounter { shards }
    }

    /// Number of piece counts currently cached.
    pub fn cached_entries(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    fn cached(&self, hash: u64, compute: impl FnOnce() -> u32) -> u32 {
        // The low bits pick the shard; the LRU hashes the full key again internally.
        let shard = &self.shards[(hash as usize) % SHARDS];
        if let Some(n) = shard.lock().get(&hash) {
            return *n;
        }
        // Tokenize outside the lock: two threads may both compute a new piece, which is
        // harmless, and nobody waits behind a long tokenization.
        let n = compute();
        shard.lock().put(hash, n);
        n
    }

    /// `cl100k_base` token count of `s`, cached.
    pub fn count_text(&self, s: &str) -> u32 {
        // Even short pieces are worth caching: a hash and a lock cost ~50 ns, a tokenizer
        // call microseconds.
        if s.is_empty() {
            return 0;
        }
        let mut h = FxHasher::default();
        Kind::Text.hash(&mut h);
        s.hash(&mut h);
        self.cached(h.finish(), || count_uncached(s))
    }

    /// Token count of `JSON.stringify(v)`, cached by the value's structure.
    fn count_json(&self, v: &Json<'_>) -> u32 {
        let mut h = FxHasher::default();
        Kind::Json.hash(&mut h);
        hash_value(v, &mut h);
        self.cached(h.finish(), || count_uncached(&js_stringify(v)))
    }

    /// One tool definition: `name + description` (if the description is non-empty) plus
    /// `JSON.stringify(input_schema)` (if present), cached as one piece.
    fn count_tool(&self, tool: &Json<'_>) -> u32 {
        let mut h = FxHasher::default();
        Kind::Tool.hash(&mut h);
        hash_value(tool, &mut h);
        self.cached(h.finish(), || {
            let mut n = 0u32;
            if let Some(desc) = tool
                .get("description")
                .and_then(Json::as_str)
                .filter(|d| !d.is_empty())
            {
                let name = tool.get("name").and_then(Json::as_str).unwrap_or("");
                n = n.saturating_add(count_uncached(&format!("{name}{desc}")));
            }
            if let Some(schema) = tool.get("input_schema").filter(|s| js_truthy(s)) {
                n = n.saturating_add(count_uncached(&js_stringify(schema)));
            }
            n
        })
    }

    /// CCR's input-token count for an Anthropic Messages request body. Unexpected shapes
    /// are skipped, never an error.
    pub fn count_request(&self, body: &Json<'_>) -> u32 {
        let mut total = 0u32;
        let mut add = |n: u32| total = total.saturating_add(n);

        if let Some(messages) = body.get("messages").and_then(Json::as_array) {
            for message in messages {
                match message.get("content") {
                    Some(Json::Str(s)) => add(self.count_text(s)),
                    Some(Json::Array(blocks)) => {
                        for block in blocks {
                            add(self.count_block(block));
                        }
                    }
                    _ => {}
                }
            }
        }

        match body.get("system") {
            Some(Json::Str(s)) => add(self.count_text(s)),
            Some(Json::Array(blocks)) => {
                for block in blocks {
                    if block.get("type").and_then(Json::as_str) != Some("text") {
                        continue;
                    }
                    match block.get("text") {
                        Some(Json::Str(s)) => add(self.count_text(s)),
                        Some(Json::Array(parts)) => {
                            for part in parts {
                                if let Some(s) = part.as_str() {
                                    add(self.count_text(s));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }

        if let Some(tools) = body.get("tools").and_then(Json::as_array) {
            for tool in tools {
                add(self.count_tool(tool));
            }
        }
        total
    }

    fn count_block(&self, block: &Json<'_>) -> u32 {
        match block.get("type").and_then(Json::as_str) {
            Some("text") => block
                .get("text")
                .and_then(Json::as_str)
                .map_or(0, |s| self.count_text(s)),
            Some("tool_use") => match block.get("input") {
                // JSON.stringify(undefined) is undefined: nothing to count.
                None => 0,
                Some(input) => self.count_json(input),
            },
            Some("tool_result") => match block.get("content") {
                None => 0,
                Some(Json::Str(s)) => self.count_text(s),
                Some(other) => self.count_json(other),
            },
            _ => 0,
        }
    }
}

/// Feeds `v`'s structure into `h` without serializing it.
fn hash_value(v: &Json<'_>, h: &mut FxHasher) {
    match v {
        Json::Null => h.write_u8(0),
        Json::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Json::Number(n) => {
            h.write_u8(2);
            // The printed form distinguishes 1 from 1.0 exactly like serialization would.
            if let Some(i) = n.as_i64() {
                i.hash(h);
            } else if let Some(u) = n.as_u64() {
                u.hash(h);
            } else if let Some(f) = n.as_f64() {
                f.to_bits().hash(h);
            }
        }
        Json::Str(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Json::Array(a) => {
            h.write_u8(4);
            h.write_usize(a.len());
            for x in a {
                hash_value(x, h);
            }
        }
        Json::Object(m) => {
            h.write_u8(5);
            h.write_usize(m.len());
            for (k, x) in m {
                k.hash(h);
                hash_value(x, h);
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// `count_request` of a `json!` body, read through the request tree as a real one is.
    fn count(c: &TokenCounter, body: &Value) -> u32 {
        let text = body.to_string();
        c.count_request(&Json::parse(text.as_bytes()).unwrap())
    }
    fn claude_code_like_request(turns: usize) -> Value {
        let tools: Vec<Value> = (0..24)
            .map(|i| {
                json!({
                    "name": format!("Tool{i}"),
                    "description": format!("Tool number {i}. ").repeat(40),
                    "input_schema": {"type": "object", "properties": {"path": {"type": "string", "description": "A path"}}, "required": ["path"], "$schema": "http://json-schema.org/draft-07/schema#"}
                })
            })
            .collect();
        let mut messages = Vec::new();
        for t in 0..turns {
            messages.push(json!({"role": "user", "content": [{"type": "text", "text": format!("Please do step {t} of the plan.")}]}));
            messages.push(json!({"role": "assistant", "content": [
                {"type": "thinking", "thinking": "secret reasoning that is not counted", "signature": "x"},
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": format!("toolu_{t}"), "name": "Bash", "input": {"command": format!("echo {t}")}}
            ]}));
            messages.push(json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": format!("toolu_{t}"), "content": format!("{t}\n")},
                {"type": "tool_result", "tool_use_id": "x", "content": [{"type": "text", "text": "structured"}]},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
            ]}));
        }
        json!({
            "model": "claude-sonnet-4-5",
            "system": [
                {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
                {"type": "text", "text": "You are an interactive CLI tool. ".repeat(100), "cache_control": {"type": "ephemeral"}}
            ],
            "messages": messages,
            "tools": tools,
            "max_tokens": 32000,
            "stream": true
        })
    }

    #[test]
    fn request_count_matches_a_direct_computation() {
        let body = json!({
            "system": "sys prompt",
            "messages": [
                {"role": "user", "content": "hello world"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "hi there"},
                    {"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "ls", "timeout": 1.0}},
                    {"type": "thinking", "thinking": "not counted"},
                    {"type": "redacted_thinking", "data": "zzz"}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t", "content": "a.txt"},
                    {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "b"}]},
                    {"type": "tool_result", "tool_use_id": "t"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                ]}
            ],
            "tools": [
                {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object"}},
                {"name": "NoDesc", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
            ]
        });
        let expected = count_uncached("hello world")
            + count_uncached("hi there")
            + count_uncached(r#"{"command":"ls","timeout":1}"#)
            + count_uncached("a.txt")
            + count_uncached(r#"[{"type":"text","text":"b"}]"#)
            + count_uncached("sys prompt")
            + count_uncached("BashRun a command")
            + count_uncached(r#"{"type":"object"}"#)
            + count_uncached(r#"{"type":"object"}"#);
        let c = TokenCounter::default();
        assert_eq!(count(&c, &body), expected);
        assert_eq!(count(&c, &body), expected);
    }

    #[test]
    fn system_blocks_only_text_and_text_arrays() {
        let c = TokenCounter::new(16);
        let body = json!({"system": [
            {"type": "text", "text": "hello world"},
            {"type": "image", "text": "not counted"},
            {"type": "text", "text": ["hello world", null, "hello world"]},
            {"type": "text"},
            "bare string is not a block"
        ]});
        assert_eq!(count(&c, &body), 6);
    }

    #[test]
    fn caching_gives_identical_results_and_is_bounded() {
        let body = claude_code_like_request(20);
        let cold = TokenCounter::default();
        let first = count(&cold, &body);
        assert!(first > 5_000, "{first}");
        let cached_after_first = cold.cached_entries();
        assert!(cached_after_first > 24);
        assert_eq!(count(&cold, &body), first);
        assert_eq!(cold.cached_entries(), cached_after_first);
        // A tiny cache evicts constantly but still counts the same.
        let tiny = TokenCounter::new(1);
        assert_eq!(count(&tiny, &body), first);
        assert_eq!(count(&tiny, &body), first);
        assert!(tiny.cached_entries() <= SHARDS);
        // The next turn reuses everything already counted.
        let longer = claude_code_like_request(21);
        let n = count(&cold, &longer);
        assert!(n > first);
        assert_eq!(n, count(&TokenCounter::new(0), &longer));
    }

    #[test]
    fn concurrent_use_agrees() {
        let text = claude_code_like_request(5).to_string();
        let body = Json::parse(text.as_bytes()).unwrap();
        let c = TokenCounter::new(64);
        let expected = TokenCounter::default().count_request(&body);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(c.count_request(&body), expected);
                    }
                });
            }
        });
    }

    #[test]
    fn weird_shapes_do_not_panic() {
        let c = TokenCounter::default();
        for body in [
            json!(null),
            json!(3),
            json!("text"),
            json!([]),
            json!({}),
            json!({"messages": "x", "system": 3, "tools": {}}),
            json!({"messages": [null, 1, "s", {"content": 5}, {"content": [null, 1, {"type": 2}, {"type": "text", "text": 5}]}]}),
            json!({"messages": [{"content": [{"type": "tool_use"}, {"type": "tool_result", "content": null}]}]}),
            json!({"system": [null, {"type": "text", "text": {"a": 1}}], "tools": [null, 1, {"description": 5}, {"name": 1, "description": "d"}]}),
            json!({"tools": [{"input_schema": 0}, {"input_schema": ""}, {"input_schema": false}, {"input_schema": 1.5e300}]}),
        ] {
            let _ = count(&c, &body);
        }
        assert_eq!(count(&c, &json!({"tools": [{"input_schema": null}]})), 0);
    }
}
