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

use std::borrow::Cow;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use lru::LruCache;
use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use tiktoken_rs::CoreBPE;

use crate::json::Json;

/// Entries cached by [`TokenCounter::default`] (≈1.5 MB at most). A Claude Code session
/// uses roughly one entry per tool, system block and message piece.
pub const DEFAULT_CAPACITY: usize = 32_768;

/// Shards of the cache; requests counted concurrently rarely contend on one lock.
const SHARDS: usize = 16;

/// Longest text handed to the tokenizer in one call. Text is split at pre-token boundaries
/// that do not change the count (see [`chunks`]).
const MAX_CHUNK: usize = 8 * 1024;

/// Longest stretch without a known pre-token boundary that is tokenized as one piece.
/// tiktoken's BPE is quadratic in the length of one pre-token and its regex can overflow
/// the stack on megabytes of one character class (`"^^^^…"`, openai/tiktoken#15), so such a
/// stretch is cut every this many bytes, which may shift the count by about one token per
/// cut. Real text rarely has such stretches (long runs of `─`, padding).
const MAX_SEGMENT: usize = 128;

/// The shared `cl100k_base` encoder, built on first use (~100 ms). `None` only if the
/// embedded vocabulary failed to load, in which case counts are estimated.
fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| match tiktoken_rs::cl100k_base() {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::error!("cannot load the cl100k_base tokenizer, estimating token counts: {e}");
            None
        }
    })
    .as_ref()
}

/// Counts `cl100k_base` tokens of `text` with no caching.
pub fn count_uncached(text: &str) -> u32 {
    let Some(bpe) = bpe() else {
        // ~4 bytes per token is the usual estimate for English and code.
        return u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX);
    };
    let mut total: usize = 0;
    for chunk in chunks(text) {
        total += bpe.encode_ordinary(chunk).len();
    }
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// Splits `text` into pieces of at most [`MAX_CHUNK`] bytes, cutting at positions where
/// `cl100k_base`'s pre-tokenizer would start a new pre-token anyway (so the count does not
/// change), and cutting anywhere inside a stretch of more than [`MAX_SEGMENT`] bytes with no
/// such position.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut last_boundary = 0;
        let mut prev: Option<char> = None;
        let mut cut = rest.len();
        for (i, c) in rest.char_indices() {
            if let Some(p) = prev {
                if is_pretoken_boundary(p, c) {
                    last_boundary = i;
                } else if i - last_boundary >= MAX_SEGMENT {
                    cut = i;
                    break;
                }
            }
            if i >= MAX_CHUNK {
                cut = if last_boundary > 0 { last_boundary } else { i };
                break;
            }
            prev = Some(c);
        }
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

/// True if `cl100k_base` always starts a new pre-token between `p` and `n`, whatever comes
/// before or after. Its pattern is
/// `'s|'t|'re|'ve|'m|'ll|'d | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+`:
/// - a run of letters or digits ends where the run ends (nothing can extend it past a
///   character of another class);
/// - a space is only ever the *first* character of a pre-token unless whitespace precedes it.
fn is_pretoken_boundary(p: char, n: char) -> bool {
    n.is_ascii()
        && ((n == ' ' && !p.is_whitespace())
            || (p.is_alphabetic() && !n.is_ascii_alphabetic())
            || (p.is_ascii_digit() && !n.is_ascii_digit()))
}

/// Starts loading the tokenizer on a background thread, once. Its vocabulary takes about
/// 26 MB and 100 ms to build, so an idle proxy does not load it at startup: the server calls
/// this when a client shows up (Claude Code sends `HEAD /` before its first message), and a
/// count that comes first simply loads it on demand.
pub fn load_in_background() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.load(Ordering::Relaxed) || STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("tokenizer-load".into())
        .spawn(|| {
            let _ = bpe();
        });
    if let Err(err) = spawned {
        tracing::debug!("tokenizer preload thread not started ({err}); it loads on first use");
    }
}

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

/// JavaScript truthiness of a JSON value.
fn js_truthy(v: &Json<'_>) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::Str(s) => !s.is_empty(),
        Json::Array(_) | Json::Object(_) => true,
    }
}

/// `JSON.stringify(JSON.parse(body))` of `v` as JavaScript prints it: compact, numbers in JS
/// notation (`1`, not `1.0`; `1e+21`), object keys in document order (a repeated key once,
/// at its first position, with its last value).
pub fn js_stringify(v: &Json<'_>) -> String {
    let mut out = String::new();
    write_js(v, &mut out);
    out
}

fn write_js(v: &Json<'_>, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(true) => out.push_str("true"),
        Json::Bool(false) => out.push_str("false"),
        Json::Number(n) => {
            const MAX_SAFE: u64 = 1 << 53;
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE) {
                let _ = write!(out, "{u}");
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE) {
                let _ = write!(out, "{i}");
            } else if let Some(f) = n.as_f64() {
                write_js_number(f, out);
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Json::Str(s) => write_js_string(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_js(x, out);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            if has_repeated_keys(entries) {
                // `JSON.parse` keeps a repeated key once, where it first appeared, with its
                // last value.
                let mut last: FxHashMap<&str, &Json<'_>> = FxHashMap::default();
                for (k, x) in entries {
                    last.insert(k, x);
                }
                let mut first = true;
                for (k, _) in entries {
                    if let Some(x) = last.remove(k.as_ref()) {
                        write_js_entry(k, x, !first, out);
                        first = false;
                    }
                }
            } else {
                for (i, (k, x)) in entries.iter().enumerate() {
                    write_js_entry(k, x, i > 0, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_js_entry(key: &str, value: &Json<'_>, comma: bool, out: &mut String) {
    if comma {
        out.push(',');
    }
    write_js_string(key, out);
    out.push(':');
    write_js(value, out);
}

/// Whether some key occurs twice in `entries` (rare: JSON allows it, clients do not send it).
fn has_repeated_keys(entries: &[(Cow<'_, str>, Json<'_>)]) -> bool {
    // Pairwise for the usual handful of keys; a set keeps a huge object linear.
    if entries.len() <= 16 {
        return entries
            .iter()
            .enumerate()
            .any(|(i, (k, _))| entries[..i].iter().any(|(p, _)| p == k));
    }
    let mut seen = FxHashSet::default();
    !entries.iter().all(|(k, _)| seen.insert(k.as_ref()))
}

/// JavaScript's `Number.prototype.toString()` for a finite double.
fn write_js_number(f: f64, out: &mut String) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    if f == 0.0 {
        out.push('0');
        return;
    }
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip digits without an exponent, like JS
        // in this range.
        let _ = write!(out, "{f}");
    } else {
        // `1e21` → `1e+21`, `1.5e-7` stays.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mant, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mant}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    }
}

fn write_js_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// `js_stringify` of a `json!` value, read back through the request tree.
    fn js(v: &Value) -> String {
        let text = v.to_string();
        js_stringify(&Json::parse(text.as_bytes()).unwrap())
    }

    /// `count_request` of a `json!` body, read through the request tree as a real one is.
    fn count(c: &TokenCounter, body: &Value) -> u32 {
        let text = body.to_string();
        c.count_request(&Json::parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn known_cl100k_counts() {
        assert_eq!(count_uncached(""), 0);
        assert_eq!(count_uncached("hello world"), 2);
        assert_eq!(count_uncached("Hello, world!"), 4);
        assert_eq!(count_uncached("tiktoken is great!"), 6);
        // Special-token text is counted as ordinary text, never rejected.
        assert!(count_uncached("<|endoftext|>") > 1);
        let c = TokenCounter::default();
        assert_eq!(c.count_text("hello world"), 2);
    }

    #[test]
    fn long_text_is_chunked_without_changing_the_count() {
        let sentence = "The quick brown fox jumps over the lazy dog. ";
        let text = sentence.repeat(2_000); // ~90 KB, several chunks
        assert!(text.len() > 4 * MAX_CHUNK);
        let direct = bpe().map(|b| b.encode_ordinary(&text).len()).unwrap_or(0);
        assert_eq!(count_uncached(&text) as usize, direct);
        let rejoined: String = chunks(&text).collect();
        assert_eq!(rejoined, text);
        assert!(chunks(&text).all(|c| c.len() <= MAX_CHUNK + 4));
        assert!(chunks(&text).count() > 4);
    }

    #[test]
    fn chunked_code_counts_like_the_whole() {
        let code =
            "fn main() {\n    println!(\"hi {}\", x);\n}\n\n// 日本語 comment   with  spaces\n"
                .repeat(2_000);
        assert!(code.len() > 4 * MAX_CHUNK);
        let direct = bpe().map(|b| b.encode_ordinary(&code).len()).unwrap_or(0);
        assert_eq!(count_uncached(&code) as usize, direct);
    }

    #[test]
    fn pathological_text_does_not_crash() {
        // A megabyte with no break at all, and multi-byte characters at chunk edges.
        let t = std::time::Instant::now();
        assert!(count_uncached(&"^".repeat(1 << 18)) > 0);
        assert!(count_uncached(&"é".repeat(100_000)) > 0);
        assert!(count_uncached(&" ".repeat(100_000)) > 0);
        assert!(count_uncached(&"\n".repeat(100_000)) > 0);
        assert!(count_uncached(&"─".repeat(100_000)) > 0);
        eprintln!("pathological inputs took {:?}", t.elapsed());
        let text = "🙂".repeat(50_000);
        assert_eq!(chunks(&text).collect::<String>(), text);
    }

    #[test]
    fn js_stringify_matches_javascript() {
        assert_eq!(
            js(&json!({"a": [1, 2.5, "x"], "b": null})),
            r#"{"a":[1,2.5,"x"],"b":null}"#
        );
        assert_eq!(js(&json!(1.0)), "1");
        assert_eq!(js(&json!(-0.0)), "0");
        assert_eq!(js(&json!(1e21)), "1e+21");
        assert_eq!(js(&json!(1e20)), "100000000000000000000");
        assert_eq!(js(&json!(1.5e-7)), "1.5e-7");
        assert_eq!(js(&json!(0.000001)), "0.000001");
        assert_eq!(js(&json!(1e-7)), "1e-7");
        assert_eq!(js(&json!(-2.5e-9)), "-2.5e-9");
        assert_eq!(js(&json!(1.5e300)), "1.5e+300");
        assert_eq!(js(&json!(-12)), "-12");
        assert_eq!(js(&json!(u64::MAX)), "18446744073709552000");
        assert_eq!(js(&json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(
            js(&json!(
                "q\"b\\n\n\t\r\u{8}\u{c}\u{1}\u{1f}\u{7f}é🙂\u{2028}"
            )),
            "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f\u{7f}é🙂\u{2028}\""
        );
        // Same as serde_json for ordinary values.
        let v = json!({"command": "ls -la", "n": [true, false, {"x": "y"}], "e": {}, "a": []});
        assert_eq!(js(&v), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn js_stringify_keeps_document_order_and_parses_repeats_like_javascript() {
        let s = |text: &str| js_stringify(&Json::parse(text.as_bytes()).unwrap());
        assert_eq!(
            s(r#"{"z": 1, "a": {"y": 2, "b": 3}}"#),
            r#"{"z":1,"a":{"y":2,"b":3}}"#
        );
        // JSON.stringify(JSON.parse(...)) in JavaScript.
        assert_eq!(s(r#"{"k": 1, "x": 2, "k": 3}"#), r#"{"k":3,"x":2}"#);
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}, \"k0\": \"last\"}}", many.join(","));
        let out = s(&text);
        assert!(out.starts_with(r#"{"k0":"last","k1":1,"#), "{out}");
        assert_eq!(out.matches("k0").count(), 1);
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
