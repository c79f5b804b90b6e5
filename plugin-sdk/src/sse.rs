//! Builders for the Anthropic stream events a provider emits, in Anthropic's exact wire
//! shape (compact JSON, fields in Anthropic's order).
//!
//! A stream is `message_start`, then for each block `content_block_start`,
//! `content_block_delta`×N and `content_block_stop`, then `message_delta` and
//! `message_stop`; `ping` may appear anywhere.
//!
//! ```
//! use ccr_plugin_sdk::anthropic::{MessageDeltaUsage, StopReason, Usage};
//! use ccr_plugin_sdk::sse;
//!
//! let events = vec![
//!     sse::message_start("msg_1", "gpt-5", Usage::new(12, 1)),
//!     sse::text_block_start(0),
//!     sse::text_delta(0, "Hello"),
//!     sse::content_block_stop(0),
//!     sse::message_delta(StopReason::EndTurn, None, MessageDeltaUsage::output(5)),
//!     sse::message_stop(),
//! ];
//! assert_eq!(events[2].event, "content_block_delta");
//! assert_eq!(
//!     events[2].data,
//!     br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#
//! );
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::anthropic::{
    ContentBlock, ErrorBody, JsonMap, MessageDeltaBody, MessageDeltaUsage, MessagesResponse,
    StopReason, StreamEvent, Usage,
};
use crate::SseEvent;

/// `message_start`: an empty assistant message with the input usage.
pub fn message_start(id: &str, model: &str, usage: Usage) -> SseEvent {
    StreamEvent::MessageStart {
        message: MessagesResponse::new(id, model, usage),
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `content_block_start` with any block: a [`ContentBlock`], a `serde_json::Value`, or
/// anything else that serialises to a JSON object.
///
/// # Panics
/// If `block` fails to serialise (only possible for maps with non-string keys).
pub fn content_block_start(index: usize, block: impl Serialize) -> SseEvent {
    let block = serde_json::to_value(block).expect("a content block serialises to JSON");
    // Reading it as a `ContentBlock` puts known blocks' fields in Anthropic's order.
    let content_block = serde_json::from_value(block).expect("any JSON value is a ContentBlock");
    StreamEvent::ContentBlockStart {
        index,
        content_block,
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `content_block_start` of a text block: `{"type":"text","text":""}`.
pub fn text_block_start(index: usize) -> SseEvent {
    content_block_start(index, ContentBlock::text(""))
}

/// `content_block_start` of a thinking block: `{"type":"thinking","thinking":"","signature":""}`.
pub fn thinking_block_start(index: usize) -> SseEvent {
    content_block_start(index, ContentBlock::thinking("", ""))
}

/// `content_block_start` of a tool call: `{"type":"tool_use","id":..,"name":..,"input":{}}`.
/// Stream the arguments with [`input_json_delta`].
pub fn tool_use_block_start(index: usize, id: &str, name: &str) -> SseEvent {
    content_block_start(
        index,
        ContentBlock::tool_use(id, name, Value::Object(JsonMap::new())),
    )
}

/// A `content_block_delta` serialised from borrowed parts: providers send one per upstream
/// chunk, so the text is not copied into a [`StreamEvent`] first. The bytes are the same
/// (`plugin-sdk/tests/sse.rs` pins them).
fn delta(index: usize, delta: BorrowedDelta<'_>) -> SseEvent {
    #[derive(Serialize)]
    struct Event<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        index: usize,
        delta: BorrowedDelta<'a>,
    }
    let event = Event {
        kind: "content_block_delta",
        index,
        delta,
    };
    SseEvent {
        event: "content_block_delta".to_owned(),
        data: serde_json::to_vec(&event).expect("strings serialise to JSON"),
    }
}

/// The known [`ContentDelta`](crate::anthropic::ContentDelta)s, borrowed.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Variant names are the wire `type`s (`text_delta`, ...).
#[allow(clippy::enum_variant_names)]
enum BorrowedDelta<'a> {
    TextDelta { text: &'a str },
    ThinkingDelta { thinking: &'a str },
    SignatureDelta { signature: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

/// `content_block_delta` with a `text_delta`.
pub fn text_delta(index: usize, text: &str) -> SseEvent {
    delta(index, BorrowedDelta::TextDelta { text })
}

/// `content_block_delta` with a `thinking_delta`.
pub fn thinking_delta(index: usize, thinking: &str) -> SseEvent {
    delta(index, BorrowedDelta::ThinkingDelta { thinking })
}

/// `content_block_delta` with a `signature_delta` (once, just before `content_block_stop`).
pub fn signature_delta(index: usize, signature: &str) -> SseEvent {
    delta(index, BorrowedDelta::SignatureDelta { signature })
}

/// `content_block_delta` with an `input_json_delta`: a piece of the tool input's JSON text.
pub fn input_json_delta(index: usize, partial_json: &str) -> SseEvent {
    delta(index, BorrowedDelta::InputJsonDelta { partial_json })
}

/// `content_block_stop`.
pub fn content_block_stop(index: usize) -> SseEvent {
    StreamEvent::ContentBlockStop {
        index,
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `message_delta`: the stop reason (a [`StopReason`] or its string), the matched stop
/// sequence and the cumulative usage.
pub fn message_delta(
    stop_reason: impl Into<StopReason>,
    stop_sequence: Option<&str>,
    usage: MessageDeltaUsage,
) -> SseEvent {
    StreamEvent::MessageDelta {
        delta: MessageDeltaBody {
            stop_reason: Some(stop_reason.into()),
            stop_sequence: stop_sequence.map(str::to_owned),
            extra: JsonMap::new(),
        },
        usage,
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `message_stop`.
pub fn message_stop() -> SseEvent {
    StreamEvent::MessageStop {
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `ping` (keep-alive).
pub fn ping() -> SseEvent {
    StreamEvent::Ping {
        extra: JsonMap::new(),
    }
    .to_sse()
}

/// `error`: a failure after the stream started, such as
/// `error("overloaded_error", "Overloaded")`.
pub fn error(error_type: &str, message: &str) -> SseEvent {
    StreamEvent::Error {
        error: ErrorBody {
            kind: error_type.to_owned(),
            message: message.to_owned(),
            extra: JsonMap::new(),
        },
        extra: JsonMap::new(),
    }
    .to_sse()
}
