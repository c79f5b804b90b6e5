//! The SSE builders produce Anthropic's exact wire shape.

use ccr_plugin_sdk::anthropic::{ContentBlock, MessageDeltaUsage, StopReason, Usage};
use ccr_plugin_sdk::{sse, SseEvent};
use serde_json::json;

fn check(event: SseEvent, name: &str, data: &str) {
    assert_eq!(event.event, name);
    assert_eq!(String::from_utf8(event.data).unwrap(), data);
}

#[test]
fn message_start() {
    check(
        sse::message_start("msg_019Q", "claude-opus-4-8", Usage::new(377, 1)),
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_019Q","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
    );
    let cached = Usage {
        cache_read_input_tokens: Some(1200),
        ..Usage::new(3, 1)
    };
    check(
        sse::message_start("msg_2", "gpt-5", cached),
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"gpt-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":1200,"output_tokens":1}}}"#,
    );
}

#[test]
fn content_block_starts() {
    let text =
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
    check(sse::text_block_start(0), "content_block_start", text);
    check(
        sse::content_block_start(0, ContentBlock::text("")),
        "content_block_start",
        text,
    );
    check(
        sse::content_block_start(0, json!({"type": "text", "text": ""})),
        "content_block_start",
        text,
    );
    check(
        sse::tool_use_block_start(1, "toolu_01NR", "get_weather"),
        "content_block_start",
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NR","name":"get_weather","input":{}}}"#,
    );
    check(
        sse::thinking_block_start(2),
        "content_block_start",
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
    );
    check(
        sse::content_block_start(3, json!({"type": "redacted_thinking", "data": "EmwK"})),
        "content_block_start",
        r#"{"type":"content_block_start","index":3,"content_block":{"type":"redacted_thinking","data":"EmwK"}}"#,
    );
}

#[test]
fn deltas() {
    check(
        sse::text_delta(0, "I'll check"),
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check"}}"#,
    );
    check(
        sse::thinking_delta(2, "Hmm \"quoted\"\n"),
        "content_block_delta",
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"Hmm \"quoted\"\n"}}"#,
    );
    check(
        sse::signature_delta(2, "EqQB"),
        "content_block_delta",
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
    );
    check(
        sse::input_json_delta(1, "{\"locati"),
        "content_block_delta",
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}}"#,
    );
}

#[test]
fn block_and_message_ends() {
    check(
        sse::content_block_stop(1),
        "content_block_stop",
        r#"{"type":"content_block_stop","index":1}"#,
    );
    check(
        sse::message_delta(StopReason::ToolUse, None, MessageDeltaUsage::output(65)),
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}"#,
    );
    let usage = MessageDeltaUsage {
        input_tokens: Some(10),
        ..MessageDeltaUsage::output(3)
    };
    check(
        sse::message_delta("stop_sequence", Some("\n\nHuman:"), usage),
        "message_delta",
        r#"{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"\n\nHuman:"},"usage":{"input_tokens":10,"output_tokens":3}}"#,
    );
    check(
        sse::message_stop(),
        "message_stop",
        r#"{"type":"message_stop"}"#,
    );
}

#[test]
fn ping_and_error() {
    check(sse::ping(), "ping", r#"{"type":"ping"}"#);
    check(
        sse::error("overloaded_error", "Overloaded"),
        "error",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
}
