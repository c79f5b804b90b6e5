//! [`AnthropicStreamWriter`]: the Anthropic side of every provider's stream translator.
//!
//! A provider parses its upstream's chunks and tells the writer what they said (text,
//! thinking, a tool call and its argument fragments, the end); the writer emits the Anthropic
//! events in their exact wire shape (built with [`crate::sse`]) and keeps the rules clients
//! rely on:
//! - `message_start` comes first, once ([`AnthropicStreamWriter::start`]); anything said
//!   before it is dropped, as is anything after the message ended;
//! - blocks never interleave: a delta of another kind closes the open block and opens a new
//!   one at the next index, so indices count up from 0 without gaps;
//! - a thinking block closes with one `signature_delta`: the upstream's
//!   ([`AnthropicStreamWriter::signature`]) or, with
//!   [`AnthropicStreamWriter::with_generated_signatures`], a stable hash of its text;
//! - [`AnthropicStreamWriter::finish`] closes the open block and sends `message_delta` and
//!   `message_stop`; [`AnthropicStreamWriter::error`] sends one `error` event instead. Either
//!   ends the message: later calls emit nothing.
//!
//! ```
//! use ccr_plugin_sdk::anthropic::{MessageDeltaUsage, Usage};
//! use ccr_plugin_sdk::provider::AnthropicStreamWriter;
//!
//! let mut writer = AnthropicStreamWriter::new("gpt-5");
//! let mut out = Vec::new();
//! writer.start("msg_1", Usage::new(12, 1), &mut out);
//! writer.text("Let me check.", &mut out);
//! writer.tool_use_start("toolu_1", "get_weather", &mut out);
//! writer.tool_input(r#"{"city":"Paris"}"#, &mut out);
//! writer.finish("tool_use", MessageDeltaUsage::output(9), &mut out);
//! let names: Vec<&str> = out.iter().map(|e| e.event.as_str()).collect();
//! assert_eq!(
//!     names,
//!     [
//!         "message_start",
//!         "content_block_start", // 0: text
//!         "content_block_delta",
//!         "content_block_stop",
//!         "content_block_start", // 1: tool_use
//!         "content_block_delta",
//!         "content_block_stop",
//!         "message_delta",
//!         "message_stop",
//!     ]
//! );
//! ```

use crate::anthropic::{MessageDeltaUsage, StopReason, Usage};
use crate::provider::ids::{thinking_signature, Fnv};
use crate::{sse, ApiError, SseEvent};

/// The kind of a content block the writer has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A `text` block.
    Text,
    /// A `thinking` block.
    Thinking,
    /// A `tool_use` block.
    ToolUse,
}

/// Writes one Anthropic message stream; create one per response.
///
/// Every method appends the events it produces to `out`, so a provider collects one upstream
/// chunk's events in one vector.
#[derive(Debug)]
pub struct AnthropicStreamWriter {
    model: String,
    phase: Phase,
    next_index: usize,
    open: Option<OpenBlock>,
    /// The prefix of generated thinking signatures; `None` sends only upstream ones.
    signature_prefix: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No `message_start` sent yet.
    Waiting,
    Streaming,
    /// `message_stop` or `error` sent: everything after is ignored.
    Done,
}

#[derive(Debug)]
struct OpenBlock {
    kind: BlockKind,
    index: usize,
    /// Hash of a thinking block's text so far, for a generated signature.
    thinking_hash: Fnv,
    /// A `signature_delta` was already sent for this (thinking) block.
    signed: bool,
}

impl AnthropicStreamWriter {
    /// A writer for an answer from `model` (reported as the message's `model`).
    pub fn new(model: impl Into<String>) -> Self {
        AnthropicStreamWriter {
            model: model.into(),
            phase: Phase::Waiting,
            next_index: 0,
            open: None,
            signature_prefix: None,
        }
    }

    /// Closes every thinking block the upstream did not sign with a generated signature,
    /// `{prefix}-{hash of the block's text}` (see [`thinking_signature`]): Anthropic clients
    /// require one, and upstreams other than Anthropic have none.
    pub fn with_generated_signatures(mut self, prefix: &'static str) -> Self {
        self.signature_prefix = Some(prefix);
        self
    }

    /// The model reported in `message_start`.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// True once `message_start` was sent.
    pub fn is_started(&self) -> bool {
        self.phase != Phase::Waiting
    }

    /// True once the message ended ([`finish`](Self::finish) or [`error`](Self::error)).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The kind and index of the open block, if any.
    pub fn open_block(&self) -> Option<(BlockKind, usize)> {
        self.open.as_ref().map(|b| (b.kind, b.index))
    }

    /// `message_start` with message id `id` and the initial `usage` (input counts and, as
    /// Anthropic sends, one output token). Only the first call does anything.
    pub fn start(&mut self, id: &str, usage: Usage, out: &mut Vec<SseEvent>) {
        if self.phase != Phase::Waiting {
            return;
        }
        out.push(sse::message_start(id, &self.model, usage));
        self.phase = Phase::Streaming;
    }

    /// A piece of text, in the open text block or a new one.
    pub fn text(&mut self, text: &str, out: &mut Vec<SseEvent>) {
        if let Some(index) = self.block(BlockKind::Text, out) {
            out.push(sse::text_delta(index, text));
        }
    }

    /// A piece of thinking, in the open thinking block or a new one.
    pub fn thinking(&mut self, thinking: &str, out: &mut Vec<SseEvent>) {
        if let Some(index) = self.block(BlockKind::Thinking, out) {
            if let Some(open) = &mut self.open {
                open.thinking_hash.write(thinking.as_bytes());
            }
            out.push(sse::thinking_delta(index, thinking));
        }
    }

    /// The upstream's signature of the open thinking block (sent once; ignored when no
    /// thinking block is open or it is already signed).
    pub fn signature(&mut self, signature: &str, out: &mut Vec<SseEvent>) {
        if let Some(open) = &mut self.open {
            if open.kind == BlockKind::Thinking && !open.signed {
                open.signed = true;
                out.push(sse::signature_delta(open.index, signature));
            }
        }
    }

    /// Opens a `tool_use` block for call `id` of tool `name` (closing the open block, even
    /// another call's) and returns its index; stream its arguments with
    /// [`tool_input`](Self::tool_input). `None` before `start` or after the end.
    pub fn tool_use_start(
        &mut self,
        id: &str,
        name: &str,
        out: &mut Vec<SseEvent>,
    ) -> Option<usize> {
        if self.phase != Phase::Streaming {
            return None;
        }
        self.close_block(out);
        let index = self.open_new(BlockKind::ToolUse);
        out.push(sse::tool_use_block_start(index, id, name));
        Some(index)
    }

    /// A fragment of the open tool call's arguments (JSON text), as an `input_json_delta`.
    /// Ignored when no `tool_use` block is open or the fragment is empty.
    pub fn tool_input(&mut self, partial_json: &str, out: &mut Vec<SseEvent>) {
        if partial_json.is_empty() {
            return;
        }
        if let Some(open) = &self.open {
            if open.kind == BlockKind::ToolUse {
                out.push(sse::input_json_delta(open.index, partial_json));
            }
        }
    }

    /// Closes the open block, if any (a thinking block gets its signature first).
    pub fn close_block(&mut self, out: &mut Vec<SseEvent>) {
        let Some(open) = self.open.take() else {
            return;
        };
        if open.kind == BlockKind::Thinking && !open.signed {
            if let Some(prefix) = self.signature_prefix {
                let signature = thinking_signature(prefix, open.thinking_hash.finish());
                out.push(sse::signature_delta(open.index, &signature));
            }
        }
        out.push(sse::content_block_stop(open.index));
    }

    /// Ends the message: closes the open block, then `message_delta` (the stop reason and
    /// the cumulative usage) and `message_stop`. A stream that never started gets an `error`
    /// event instead (an empty 200 answer would otherwise look like an empty reply); after the
    /// end, nothing.
    pub fn finish(
        &mut self,
        stop_reason: impl Into<StopReason>,
        usage: MessageDeltaUsage,
        out: &mut Vec<SseEvent>,
    ) {
        match self.phase {
            Phase::Done => {}
            Phase::Waiting => self.error(
                &ApiError::new(
                    500,
                    "api_error",
                    "upstream closed the stream without a response",
                ),
                out,
            ),
            Phase::Streaming => {
                self.close_block(out);
                out.push(sse::message_delta(stop_reason, None, usage));
                out.push(sse::message_stop());
                self.phase = Phase::Done;
            }
        }
    }

    /// Fails the message with one `error` event (its `status` is not sent: the stream's HTTP
    /// status is already 200). Nothing is emitted afterwards; after the end, nothing at all.
    pub fn error(&mut self, error: &ApiError, out: &mut Vec<SseEvent>) {
        if self.phase == Phase::Done {
            return;
        }
        out.push(sse::error(&error.error_type, &error.message));
        self.open = None;
        self.phase = Phase::Done;
    }

    /// The index of an open block of `kind`, opening one (after closing the open block) when
    /// the open block is of another kind. `None` before `start` or after the end.
    fn block(&mut self, kind: BlockKind, out: &mut Vec<SseEvent>) -> Option<usize> {
        if self.phase != Phase::Streaming {
            return None;
        }
        if let Some(open) = &self.open {
            if open.kind == kind {
                return Some(open.index);
            }
        }
        self.close_block(out);
        let index = self.open_new(kind);
        out.push(match kind {
            BlockKind::Text => sse::text_block_start(index),
            BlockKind::Thinking => sse::thinking_block_start(index),
            BlockKind::ToolUse => unreachable!("tool_use blocks open in tool_use_start"),
        });
        Some(index)
    }

    fn open_new(&mut self, kind: BlockKind) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some(OpenBlock {
            kind,
            index,
            thinking_hash: Fnv::default(),
            signed: false,
        });
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `event|data` lines.
    fn lines(events: &[SseEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| format!("{}|{}", e.event, String::from_utf8_lossy(&e.data)))
            .collect()
    }

    fn started() -> (AnthropicStreamWriter, Vec<SseEvent>) {
        let mut w = AnthropicStreamWriter::new("m");
        let mut out = Vec::new();
        w.start("msg_1", Usage::new(5, 1), &mut out);
        (w, out)
    }

    #[test]
    fn message_start_is_exact_and_sent_once() {
        let (mut w, mut out) = started();
        w.start("msg_2", Usage::new(9, 1), &mut out);
        assert_eq!(
            lines(&out),
            [
                r#"message_start|{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#
            ]
        );
        assert!(w.is_started() && !w.is_done());
    }

    #[test]
    fn a_new_kind_closes_the_open_block_and_indices_count_up() {
        let (mut w, mut out) = started();
        w.text("a", &mut out);
        w.text("b", &mut out);
        assert_eq!(w.open_block(), Some((BlockKind::Text, 0)));
        w.thinking("t", &mut out);
        w.text("c", &mut out);
        assert_eq!(
            lines(&out[1..]),
            [
                r#"content_block_start|{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"b"}}"#,
                r#"content_block_stop|{"type":"content_block_stop","index":0}"#,
                r#"content_block_start|{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"t"}}"#,
                r#"content_block_stop|{"type":"content_block_stop","index":1}"#,
                r#"content_block_start|{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"c"}}"#,
            ]
        );
    }

    #[test]
    fn tool_then_text() {
        let (mut w, mut out) = started();
        assert_eq!(w.tool_use_start("toolu_1", "ls", &mut out), Some(0));
        w.tool_input("{\"p\":", &mut out);
        w.tool_input("", &mut out);
        w.tool_input("1}", &mut out);
        // A second call closes the first, even though both are tool_use blocks.
        assert_eq!(w.tool_use_start("toolu_2", "cat", &mut out), Some(1));
        w.text("done", &mut out);
        assert_eq!(
            lines(&out[1..]),
            [
                r#"content_block_start|{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"ls","input":{}}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"p\":"}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
                r#"content_block_stop|{"type":"content_block_stop","index":0}"#,
                r#"content_block_start|{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"cat","input":{}}}"#,
                r#"content_block_stop|{"type":"content_block_stop","index":1}"#,
                r#"content_block_start|{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"done"}}"#,
            ]
        );
        // Arguments with no tool block open go nowhere.
        let before = out.len();
        w.tool_input("{}", &mut out);
        assert_eq!(out.len(), before);
    }

    #[test]
    fn thinking_with_upstream_and_generated_signatures() {
        let (mut w, mut out) = started();
        w.thinking("hm", &mut out);
        w.signature("sig-up", &mut out);
        w.signature("twice", &mut out);
        w.close_block(&mut out);
        assert_eq!(
            lines(&out[2..]),
            [
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
                r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig-up"}}"#,
                r#"content_block_stop|{"type":"content_block_stop","index":0}"#,
            ]
        );

        let mut w = AnthropicStreamWriter::new("m").with_generated_signatures("ccr-x");
        let mut out = Vec::new();
        w.start("msg_1", Usage::new(0, 1), &mut out);
        w.thinking("h", &mut out);
        w.thinking("m", &mut out);
        w.text("t", &mut out);
        let expected = thinking_signature("ccr-x", Fnv::hash(b"hm"));
        assert_eq!(
            lines(&out[4..6]),
            [
                format!(
                    r#"content_block_delta|{{"type":"content_block_delta","index":0,"delta":{{"type":"signature_delta","signature":"{expected}"}}}}"#
                ),
                r#"content_block_stop|{"type":"content_block_stop","index":0}"#.to_owned(),
            ]
        );
    }

    #[test]
    fn finish_closes_and_reports_usage() {
        let (mut w, mut out) = started();
        w.text("x", &mut out);
        let usage = MessageDeltaUsage {
            input_tokens: Some(5),
            cache_read_input_tokens: Some(2),
            ..MessageDeltaUsage::output(7)
        };
        w.finish(StopReason::MaxTokens, usage, &mut out);
        assert_eq!(
            lines(&out[3..]),
            [
                r#"content_block_stop|{"type":"content_block_stop","index":0}"#,
                r#"message_delta|{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"input_tokens":5,"cache_read_input_tokens":2,"output_tokens":7}}"#,
                r#"message_stop|{"type":"message_stop"}"#,
            ]
        );
        assert!(w.is_done());
    }

    #[test]
    fn finish_twice_and_deltas_after_the_end_emit_nothing() {
        let (mut w, mut out) = started();
        w.finish("end_turn", MessageDeltaUsage::output(1), &mut out);
        let n = out.len();
        w.finish("end_turn", MessageDeltaUsage::output(1), &mut out);
        w.text("late", &mut out);
        w.thinking("late", &mut out);
        assert_eq!(w.tool_use_start("t", "n", &mut out), None);
        w.error(&ApiError::new(500, "api_error", "late"), &mut out);
        w.start("msg_3", Usage::new(0, 1), &mut out);
        assert_eq!(out.len(), n);
        assert_eq!(w.open_block(), None);
    }

    #[test]
    fn nothing_before_start_and_an_empty_stream_is_an_error() {
        let mut w = AnthropicStreamWriter::new("m");
        let mut out = Vec::new();
        w.text("early", &mut out);
        assert!(out.is_empty());
        w.finish("end_turn", MessageDeltaUsage::output(0), &mut out);
        assert_eq!(
            lines(&out),
            [
                r#"error|{"type":"error","error":{"type":"api_error","message":"upstream closed the stream without a response"}}"#
            ]
        );
        assert!(w.is_done());
    }

    #[test]
    fn error_is_anthropic_shaped_and_ends_the_message() {
        let (mut w, mut out) = started();
        w.text("x", &mut out);
        w.error(
            &ApiError::new(529, "overloaded_error", "Overloaded \"now\""),
            &mut out,
        );
        w.finish("end_turn", MessageDeltaUsage::output(1), &mut out);
        assert_eq!(
            lines(&out[3..]),
            [
                r#"error|{"type":"error","error":{"type":"overloaded_error","message":"Overloaded \"now\""}}"#
            ]
        );
    }
}
