//! OpenAI chat-completions stream chunks → Anthropic Messages stream events.
//!
//! The host frames the upstream SSE; [`StreamTranslator::feed`] gets one event's `data` at a
//! time (`[DONE]` included) and returns the Anthropic events it produces.
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

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::errors::{self, ApiError};
use crate::response::{
    generated_tool_id, message_id, stop_reason, AnthropicUsage, TextOrParts, Usage,
};
use crate::util::{thinking_signature, Fnv, JsonScan, Str};

/// One Anthropic SSE event: `event: <event>` and `data: <data>` (compact JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event name (`message_start`, `content_block_delta`, `error`, ...).
    pub event: &'static str,
    /// The JSON payload; its `type` repeats the event name.
    pub data: Vec<u8>,
}

/// Translates one streamed answer; create one per response.
#[derive(Debug)]
pub struct StreamTranslator {
    model: String,
    phase: Phase,
    message_id: String,
    next_index: usize,
    open: Open,
    tools: Vec<ToolSlot>,
    /// Whether any `tool_use` block was produced (decides `tool_use` vs `end_turn`).
    emitted_tool: bool,
    /// Which call shape this stream uses, decided by the first one seen: `tool_calls`
    /// (`Some(false)`) or the legacy `function_call` (`Some(true)`). The other shape is then
    /// ignored, since servers that send both repeat the same call.
    legacy_calls: Option<bool>,
    finish_reason: Option<String>,
    usage: AnthropicUsage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing received yet: no `message_start` sent.
    Waiting,
    Streaming,
    /// `message_stop` or `error` sent: everything after is ignored.
    Done,
}

#[derive(Debug)]
enum Open {
    None,
    Text {
        index: usize,
    },
    Thinking {
        index: usize,
        hash: Fnv,
    },
    /// Position in `tools`.
    Tool {
        slot: usize,
    },
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
    Open {
        index: usize,
    },
    Closed,
}

impl StreamTranslator {
    /// A translator for an answer from `model` (reported as the message's `model`).
    pub fn new(model: impl Into<String>) -> Self {
        StreamTranslator {
            model: model.into(),
            phase: Phase::Waiting,
            message_id: String::new(),
            next_index: 0,
            open: Open::None,
            tools: Vec::new(),
            emitted_tool: false,
            legacy_calls: None,
            finish_reason: None,
            usage: AnthropicUsage::default(),
        }
    }

    /// Translates one upstream event. `event` is the SSE `event:` name, if any (only `error`
    /// means something); `data` is its payload.
    pub fn feed(&mut self, event: Option<&str>, data: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        if self.phase == Phase::Done {
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
                Ok(v) => errors::from_error_value(v.get("error").unwrap_or(&v)),
                Err(_) => ApiError::from_status(500, String::from_utf8_lossy(data)),
            };
            self.fail(err, &mut out);
            return out;
        }
        let chunk: Chunk = match serde_json::from_slice(data) {
            Ok(c) => c,
            Err(e) => {
                let err = ApiError {
                    status: 500,
                    error_type: "api_error".to_owned(),
                    message: format!("upstream sent a malformed stream chunk: {e}"),
                };
                self.fail(err, &mut out);
                return out;
            }
        };
        if let Some(err) = &chunk.error {
            self.fail(errors::from_error_value(err), &mut out);
            return out;
        }
        if self.phase == Phase::Waiting {
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
                    let err = ApiError::from_status(500, "upstream stream ended with an error");
                    self.fail(err, &mut out);
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
    pub fn finish(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.end(&mut out);
        out
    }

    fn end(&mut self, out: &mut Vec<Event>) {
        match self.phase {
            Phase::Done => {}
            Phase::Waiting => self.fail(
                ApiError {
                    status: 500,
                    error_type: "api_error".to_owned(),
                    message: "upstream closed the stream without a response".to_owned(),
                },
                out,
            ),
            Phase::Streaming => {
                self.close_all(out);
                let stop = stop_reason(self.finish_reason.as_deref(), self.emitted_tool);
                out.push(ev(
                    "message_delta",
                    &MessageDelta {
                        kind: "message_delta",
                        delta: StopDelta {
                            stop_reason: stop,
                            stop_sequence: None,
                        },
                        usage: DeltaUsage::from(self.usage),
                    },
                ));
                out.push(ev(
                    "message_stop",
                    &TypeOnly {
                        kind: "message_stop",
                    },
                ));
                self.phase = Phase::Done;
            }
        }
    }

    fn fail(&mut self, err: ApiError, out: &mut Vec<Event>) {
        out.push(Event {
            event: "error",
            data: err.to_event_json(),
        });
        self.phase = Phase::Done;
    }

    fn start(&mut self, id: Option<&str>, usage: Option<&Usage>, raw: &[u8], out: &mut Vec<Event>) {
        self.message_id = message_id(id, Fnv::hash(raw));
        let mut usage = usage.map(Usage::anthropic).unwrap_or_default();
        // Anthropic's message_start reports input counts and a token of output so far.
        usage.output_tokens = 1;
        out.push(ev(
            "message_start",
            &MessageStart {
                kind: "message_start",
                message: StartMessage {
                    id: &self.message_id,
                    kind: "message",
                    role: "assistant",
                    model: &self.model,
                    content: [],
                    stop_reason: None,
                    stop_sequence: None,
                    usage,
                },
            },
        ));
        self.phase = Phase::Streaming;
    }

    fn delta(&mut self, delta: Delta<'_>, out: &mut Vec<Event>) {
        // Some servers send the same text as both `reasoning_content` and `reasoning`.
        let reasoning = delta
            .reasoning_content
            .filter(|r| !r.is_empty())
            .or(delta.reasoning.filter(|r| !r.is_empty()));
        if let Some(r) = reasoning {
            self.thinking(&r, out);
        }
        if let Some(text) = delta.content.filter(|t| !t.0.is_empty()) {
            self.text(&text.0, out);
        }
        if let Some(refusal) = delta.refusal.filter(|r| !r.is_empty()) {
            self.text(&refusal, out);
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

    fn text(&mut self, text: &str, out: &mut Vec<Event>) {
        let index = match self.open {
            Open::Text { index } => index,
            _ => {
                self.close_all(out);
                let index = self.open_block(BlockStart::Text { text: "" }, out);
                self.open = Open::Text { index };
                index
            }
        };
        out.push(block_delta(index, DeltaBody::TextDelta { text }));
    }

    fn thinking(&mut self, thinking: &str, out: &mut Vec<Event>) {
        let index = match &mut self.open {
            Open::Thinking { index, hash } => {
                hash.write(thinking.as_bytes());
                *index
            }
            _ => {
                self.close_all(out);
                let index = self.open_block(
                    BlockStart::Thinking {
                        thinking: "",
                        signature: "",
                    },
                    out,
                );
                let mut hash = Fnv::default();
                hash.write(thinking.as_bytes());
                self.open = Open::Thinking { index, hash };
                index
            }
        };
        out.push(block_delta(index, DeltaBody::ThinkingDelta { thinking }));
    }

    fn tool_fragment(&mut self, call: ToolCallDelta<'_>, out: &mut Vec<Event>) {
        let function = call.function.unwrap_or_default();
        let args = function.arguments.map(arguments_text).unwrap_or_default();
        let slot = self.slot_for(call.index, call.id.as_deref());
        let t = &mut self.tools[slot];
        if let ToolState::Pending { buf } = &mut t.state {
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
        } else if let ToolState::Open { index } = t.state {
            if !args.is_empty() {
                t.scan.feed(&args);
                out.push(block_delta(
                    index,
                    DeltaBody::InputJsonDelta {
                        partial_json: &args,
                    },
                ));
            }
        }
        // Closed: the block cannot be reopened; late fragments are dropped.
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
    fn promote(&mut self, out: &mut Vec<Event>) {
        loop {
            if let Open::Tool { slot } = self.open {
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

    fn open_tool(&mut self, slot: usize, out: &mut Vec<Event>) {
        let index = self.next_index;
        self.next_index += 1;
        let t = &mut self.tools[slot];
        out.push(ev(
            "content_block_start",
            &BlockStartEvent {
                kind: "content_block_start",
                index,
                content_block: BlockStart::ToolUse {
                    id: &t.id,
                    name: &t.name,
                    input: EmptyObject {},
                },
            },
        ));
        let buf = match std::mem::replace(&mut t.state, ToolState::Open { index }) {
            ToolState::Pending { buf } => buf,
            _ => String::new(),
        };
        if !buf.is_empty() {
            out.push(block_delta(
                index,
                DeltaBody::InputJsonDelta { partial_json: &buf },
            ));
        }
        self.emitted_tool = true;
        self.open = Open::Tool { slot };
    }

    /// Closes the open block, whatever it is.
    fn close_open(&mut self, out: &mut Vec<Event>) {
        let index = match std::mem::replace(&mut self.open, Open::None) {
            Open::None => return,
            Open::Text { index } => index,
            Open::Thinking { index, hash } => {
                let signature = thinking_signature(hash.finish());
                out.push(block_delta(
                    index,
                    DeltaBody::SignatureDelta {
                        signature: &signature,
                    },
                ));
                index
            }
            Open::Tool { slot } => {
                let ToolState::Open { index } = self.tools[slot].state else {
                    unreachable!("the open tool slot is in the Open state");
                };
                self.tools[slot].state = ToolState::Closed;
                index
            }
        };
        out.push(ev(
            "content_block_stop",
            &BlockStop {
                kind: "content_block_stop",
                index,
            },
        ));
    }

    /// Closes the open block and emits every pending call (each opened, flushed, closed), so
    /// that another kind of block can follow or the message can end.
    fn close_all(&mut self, out: &mut Vec<Event>) {
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

    fn open_block(&mut self, block: BlockStart<'_>, out: &mut Vec<Event>) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        out.push(ev(
            "content_block_start",
            &BlockStartEvent {
                kind: "content_block_start",
                index,
                content_block: block,
            },
        ));
        index
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

fn ev<T: Serialize>(event: &'static str, payload: &T) -> Event {
    Event {
        event,
        data: serde_json::to_vec(payload).expect("stream events always serialize"),
    }
}

fn block_delta(index: usize, delta: DeltaBody<'_>) -> Event {
    ev(
        "content_block_delta",
        &BlockDelta {
            kind: "content_block_delta",
            index,
            delta,
        },
    )
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

// ---------------------------------------------------------------------------------------------
// Anthropic events
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct MessageStart<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: StartMessage<'a>,
}

#[derive(Serialize)]
struct StartMessage<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Option<()>,
    stop_sequence: Option<()>,
    usage: AnthropicUsage,
}

#[derive(Serialize)]
struct BlockStartEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
    content_block: BlockStart<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockStart<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: EmptyObject,
    },
}

#[derive(Serialize)]
struct EmptyObject {}

#[derive(Serialize)]
struct BlockDelta<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
    delta: DeltaBody<'a>,
}

// Variant names are the wire `type`s (`text_delta`, ...).
#[allow(clippy::enum_variant_names)]
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DeltaBody<'a> {
    TextDelta { text: &'a str },
    ThinkingDelta { thinking: &'a str },
    SignatureDelta { signature: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

#[derive(Serialize)]
struct BlockStop {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
}

#[derive(Serialize)]
struct MessageDelta {
    #[serde(rename = "type")]
    kind: &'static str,
    delta: StopDelta,
    usage: DeltaUsage,
}

#[derive(Serialize)]
struct StopDelta {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

/// Cumulative usage in `message_delta`; cache writes only when the upstream reports them.
#[derive(Serialize)]
struct DeltaUsage {
    input_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<AnthropicUsage> for DeltaUsage {
    fn from(u: AnthropicUsage) -> Self {
        DeltaUsage {
            input_tokens: u.input_tokens,
            cache_creation_input_tokens: u.cache_creation_input_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
            output_tokens: u.output_tokens,
        }
    }
}

#[cfg(test)]
#[path = "tests/stream.rs"]
mod tests;
