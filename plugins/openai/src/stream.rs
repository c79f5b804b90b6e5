//! OpenAI chat-completions stream chunks → Anthropic Messages stream events.
//!
//! The host frames the upstream SSE; [`StreamTranslator::feed`] gets one event's `data` at a
//! time (`[DONE]` included) and returns the Anthropic events it produces. This module only
//! reads OpenAI chunks; the kit's [`AnthropicStreamWriter`] writes the Anthropic events (block
//! indices, `message_start`/`message_stop`, ordering).
//!
//! Block rules (Anthropic blocks never interleave, and a closed block cannot be reopened):
//! - text (`content`, `refusal`) opens a `text` block; reasoning (`reasoning_content`, else
//!   `reasoning`) opens a `thinking` block, closed with one generated `signature_delta`;
//! - each tool call (by `index`) becomes a `tool_use` block whose `arguments` fragments stream as
//!   `input_json_delta`s. A call that starts while another call's arguments are still an
//!   unfinished JSON text is buffered, and opened (its buffer flushed as one delta) as soon as
//!   the earlier call's JSON is complete, so interleaved parallel calls still produce whole,
//!   separate inputs. Fragments for a call whose block is already closed (only possible when the
//!   upstream sends text between fragments of one call) are dropped. A legacy `function_call`
//!   delta is the same as tool call 0 without an id (one is generated).
//! - the stream ends at `[DONE]` or [`StreamTranslator::finish`], whichever comes first: open
//!   blocks close, then `message_delta` (stop reason, cumulative usage) and `message_stop`.
//! - an upstream error (an `error` member, OpenRouter's `finish_reason:"error"`, an `error`
//!   event, a malformed chunk, or a stream that ends before any chunk) becomes one Anthropic
//!   `error` event, after which nothing more is emitted.

use ccr_plugin_sdk::anthropic::{MessageDeltaUsage, Usage as MessageUsage};
use ccr_plugin_sdk::provider::{
    error_from_value, generated_tool_id, message_id, upstream_error, AnthropicStreamWriter,
    BlockKind, Fnv, Str,
};
use ccr_plugin_sdk::{ApiError, SseEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::json_scan::JsonScan;
use crate::response::{stop_reason, AnthropicUsage, TextOrParts, Usage, SIGNATURE_PREFIX};

/// Translates one streamed answer; create one per response.
#[derive(Debug)]
pub struct StreamTranslator {
    writer: AnthropicStreamWriter,
    /// The message id, also the seed of generated tool ids.
    message_id: String,
    tools: Vec<ToolSlot>,
    /// The slot whose `tool_use` block is the writer's open block.
    open_tool: Option<usize>,
    /// Whether any `tool_use` block was produced (decides `tool_use` vs `end_turn`).
    emitted_tool: bool,
    /// Which call shape this stream uses, decided by the first one seen: `tool_calls`
    /// (`Some(false)`) or the legacy `function_call` (`Some(true)`). The other shape is then
    /// ignored, since servers that send both repeat the same call.
    legacy_calls: Option<bool>,
    finish_reason: Option<String>,
    usage: AnthropicUsage,
}

#[derive(Debug)]
struct ToolSlot {
    /// The upstream `index` (absent on some servers).
    upstream_index: Option<u64>,
    id: String,
    /// The id was generated here (the upstream may still send one before the block opens).
    generated_id: bool,
    name: String,
    state: ToolState,
    scan: JsonScan,
}

#[derive(Debug)]
enum ToolState {
    /// Waiting for an earlier call to finish (or for its name); arguments so far.
    Pending {
        buf: String,
    },
    Open,
    Closed,
}

impl StreamTranslator {
    /// A translator for an answer from `model` (reported as the message's `model`).
    pub fn new(model: impl Into<String>) -> Self {
        StreamTranslator {
            writer: AnthropicStreamWriter::new(model).with_generated_signatures(SIGNATURE_PREFIX),
            message_id: String::new(),
            tools: Vec::new(),
            open_tool: None,
            emitted_tool: false,
            legacy_calls: None,
            finish_reason: None,
            usage: AnthropicUsage::default(),
        }
    }

    /// Translates one upstream event. `event` is the SSE `event:` name, if any (only `error`
    /// means something); `data` is its payload.
    pub fn feed(&mut self, event: Option<&str>, data: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.writer.is_done() {
            return out;
        }
        let data = data.trim_ascii();
        if data.is_empty() || data.starts_with(b":") {
            return out;
        }
        if data == b"[DONE]" {
            self.end(&mut out);
            return out;
        }
        if event == Some("error") {
            let err = match serde_json::from_slice::<Value>(data) {
                Ok(v) => error_from_value(v.get("error").unwrap_or(&v)),
                Err(_) => upstream_error(500, String::from_utf8_lossy(data)),
            };
            self.writer.error(&err, &mut out);
            return out;
        }
        let chunk: Chunk = match serde_json::from_slice(data) {
            Ok(c) => c,
            Err(e) => {
                let err = ApiError::new(
                    500,
                    "api_error",
                    format!("upstream sent a malformed stream chunk: {e}"),
                );
                self.writer.error(&err, &mut out);
                return out;
            }
        };
        if let Some(err) = &chunk.error {
            self.writer.error(&error_from_value(err), &mut out);
            return out;
        }
        if !self.writer.is_started() {
            self.start(chunk.id.as_deref(), chunk.usage.as_ref(), data, &mut out);
        }
        if let Some(usage) = &chunk.usage {
            self.usage = usage.anthropic();
        }
        for choice in chunk.choices.into_iter().flatten() {
            // `n` is never set, so only the first choice is meaningful.
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                self.delta(delta, &mut out);
            }
            if let Some(reason) = choice.finish_reason {
                if reason.as_str() == "error" {
                    let err = upstream_error(500, "upstream stream ended with an error");
                    self.writer.error(&err, &mut out);
                    return out;
                }
                self.finish_reason = Some(reason.0.into_owned());
            }
        }
        out
    }

    /// The upstream stream ended. Finishes the message if `[DONE]` did not already; a stream
    /// that ended before any chunk becomes an `error` event (an empty 200 answer would
    /// otherwise look like a successful empty reply).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.end(&mut out);
        out
    }

    fn end(&mut self, out: &mut Vec<SseEvent>) {
        if self.writer.is_done() {
            return;
        }
        if self.writer.is_started() {
            self.close_all(out);
        }
        let stop = stop_reason(self.finish_reason.as_deref(), self.emitted_tool);
        let u = self.usage;
        // Cumulative usage; cache writes only when the upstream reports them.
        let usage = MessageDeltaUsage {
            input_tokens: Some(u.input_tokens),
            cache_creation_input_tokens: (u.cache_creation_input_tokens != 0)
                .then_some(u.cache_creation_input_tokens),
            cache_read_input_tokens: Some(u.cache_read_input_tokens),
            ..MessageDeltaUsage::output(u.output_tokens)
        };
        self.writer.finish(stop, usage, out);
    }

    fn start(
        &mut self,
        id: Option<&str>,
        usage: Option<&Usage>,
        raw: &[u8],
        out: &mut Vec<SseEvent>,
    ) {
        self.message_id = message_id(id, Fnv::hash(raw));
        let u = usage.map(Usage::anthropic).unwrap_or_default();
        // Anthropic's message_start reports input counts and a token of output so far.
        let usage = MessageUsage {
            cache_creation_input_tokens: Some(u.cache_creation_input_tokens),
            cache_read_input_tokens: Some(u.cache_read_input_tokens),
            ..MessageUsage::new(u.input_tokens, 1)
        };
        self.writer.start(&self.message_id, usage, out);
    }

    fn delta(&mut self, delta: Delta<'_>, out: &mut Vec<SseEvent>) {
        // Some servers send the same text as both `reasoning_content` and `reasoning`.
        let reasoning = delta
            .reasoning_content
            .filter(|r| !r.is_empty())
            .or(delta.reasoning.filter(|r| !r.is_empty()));
        if let Some(r) = reasoning {
            self.before_block(BlockKind::Thinking, out);
            self.writer.thinking(&r, out);
        }
        if let Some(text) = delta.content.filter(|t| !t.0.is_empty()) {
            self.before_block(BlockKind::Text, out);
            self.writer.text(&text.0, out);
        }
        if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
            self.before_block(BlockKind::Text, out);
            self.writer.text(&refusal, out);
        }
        let calls = delta.tool_calls.filter(|c| !c.is_empty());
        if calls.is_some() && self.legacy_calls != Some(true) {
            self.legacy_calls = Some(false);
            for call in calls.into_iter().flatten() {
                self.tool_fragment(call, out);
            }
        } else if let Some(function) = delta.function_call {
            // Legacy `function_call` fragments: one call, fed as tool call 0 without an id.
            if self.legacy_calls != Some(false) {
                self.legacy_calls = Some(true);
                let call = ToolCallDelta {
                    index: Some(0),
                    id: None,
                    function: Some(function),
                };
                self.tool_fragment(call, out);
            }
        }
    }

    /// Before a text or thinking delta: unless a block of that kind is open, close the open
    /// block and emit every pending call first, so no call is lost behind the new block.
    fn before_block(&mut self, kind: BlockKind, out: &mut Vec<SseEvent>) {
        if !matches!(self.writer.open_block(), Some((open, _)) if open == kind) {
            self.close_all(out);
        }
    }

    fn tool_fragment(&mut self, call: ToolCallDelta<'_>, out: &mut Vec<SseEvent>) {
        let function = call.function.unwrap_or_default();
        let args = function.arguments.map(arguments_text).unwrap_or_default();
        let slot = self.slot_for(call.index, call.id.as_deref());
        let t = &mut self.tools[slot];
        match &mut t.state {
            ToolState::Pending { buf } => {
                if let Some(id) = call.id.filter(|id| !id.is_empty()) {
                    if t.generated_id {
                        t.id = id.0.into_owned();
                        t.generated_id = false;
                    }
                }
                if let Some(name) = function.name.filter(|n| !n.is_empty()) {
                    if t.name.is_empty() {
                        t.name = name.0.into_owned();
                    }
                }
                buf.push_str(&args);
                t.scan.feed(&args);
            }
            // An open call's block is the writer's open block.
            ToolState::Open => {
                t.scan.feed(&args);
                self.writer.tool_input(&args, out);
            }
            // The block cannot be reopened; late fragments are dropped.
            ToolState::Closed => {}
        }
        self.promote(out);
    }
    /// Finds (or creates) the slot a fragment belongs to: by upstream `index` (and `id` when
    /// both are given); without an index, by `id`, else the latest call (a continuation).
    fn slot_for(&mut self, index: Option<u64>, id: Option<&str>) -> usize {
        let id = id.filter(|id| !id.is_empty());
        let found = match index {
            // Some servers give every call index 0 but distinct ids: a new id under a known
            // index is a new call.
            Some(i) => self
                .tools
                .iter()
                .rposition(|t| t.upstream_index == Some(i))
                .filter(|&s| {
                    let t = &self.tools[s];
                    id.is_none_or(|id| t.generated_id || t.id == id)
                }),
            None => match id {
                Some(id) => self.tools.iter().position(|t| t.id == id),
                None => self.tools.len().checked_sub(1),
            },
        };
        if let Some(slot) = found {
            return slot;
        }
        let slot = self.tools.len();
        let (id, generated_id) = match id {
            Some(id) => (id.to_owned(), false),
            None => (
                generated_tool_id(Fnv::hash(self.message_id.as_bytes()), slot),
                true,
            ),
        };
        self.tools.push(ToolSlot {
            upstream_index: index,
            id,
            generated_id,
            name: String::new(),
            state: ToolState::Pending { buf: String::new() },
            scan: JsonScan::default(),
        });
        slot
    }

    /// Opens the first pending call (that has a name) whenever the open block may be closed:
    /// it is text or thinking, or a call whose arguments are complete JSON.
    fn promote(&mut self, out: &mut Vec<SseEvent>) {
        loop {
            if let Some(slot) = self.open_tool {
                if !self.tools[slot].scan.complete() {
                    return;
                }
            }
            let Some(slot) = self
                .tools
                .iter()
                .position(|t| matches!(t.state, ToolState::Pending { .. }) && !t.name.is_empty())
            else {
                return;
            };
            self.close_open(out);
            self.open_tool(slot, out);
        }
    }

    /// Opens call `slot`'s `tool_use` block and flushes its buffered arguments.
    fn open_tool(&mut self, slot: usize, out: &mut Vec<SseEvent>) {
        let t = &mut self.tools[slot];
        if self.writer.tool_use_start(&t.id, &t.name, out).is_none() {
            return;
        }
        if let ToolState::Pending { buf } = std::mem::replace(&mut t.state, ToolState::Open) {
            self.writer.tool_input(&buf, out);
        }
        self.emitted_tool = true;
        self.open_tool = Some(slot);
    }

    /// Closes the writer's open block, whatever it is (an open call can then take no more
    /// fragments).
    fn close_open(&mut self, out: &mut Vec<SseEvent>) {
        if let Some(slot) = self.open_tool.take() {
            self.tools[slot].state = ToolState::Closed;
        }
        self.writer.close_block(out);
    }

    /// Closes the open block and emits every pending call (each opened, flushed, closed), so
    /// that another kind of block can follow or the message can end.
    fn close_all(&mut self, out: &mut Vec<SseEvent>) {
        self.close_open(out);
        while let Some(slot) = self
            .tools
            .iter()
            .position(|t| matches!(t.state, ToolState::Pending { .. }))
        {
            self.open_tool(slot, out);
            self.close_open(out);
        }
    }
}

/// A tool call's `arguments` fragment: normally a string; an object (whole call at once) is
/// passed on as its JSON text.
fn arguments_text(raw: &RawValue) -> String {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str::<Str>(text)
            .map(|s| s.0.into_owned())
            .unwrap_or_default()
    } else if text == "null" {
        String::new()
    } else {
        text.to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Upstream chunks
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    choices: Option<Vec<ChunkChoice<'a>>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<TextOrParts<'a>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Str<'a>>,
    #[serde(borrow, default)]
    reasoning: Option<Str<'a>>,
    #[serde(borrow, default)]
    refusal: Option<Str<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
    /// Legacy single call: `{name?, arguments?}` fragments.
    #[serde(borrow, default)]
    function_call: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Default, Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Str<'a>>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

#[cfg(test)]
#[path = "tests/stream.rs"]
mod tests;
