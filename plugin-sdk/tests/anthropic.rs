//! The Anthropic models keep every field and value through a parse/serialise round trip.

use ccr_plugin_sdk::anthropic::{
    ContentBlock, ContentDelta, MessageContent, MessagesRequest, MessagesResponse, Role,
    StopReason, StreamEvent, SystemPrompt,
};
use ccr_plugin_sdk::PluginError;
use serde_json::{json, Value};

const CLAUDE_CODE_REQUEST: &str = include_str!("fixtures/claude_code_request.json");

fn as_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn claude_code_request_round_trips_losslessly() {
    let req = MessagesRequest::from_slice(CLAUDE_CODE_REQUEST.as_bytes()).unwrap();
    let out = req.to_vec().unwrap();
    assert_eq!(as_value(&out), as_value(CLAUDE_CODE_REQUEST.as_bytes()));

    // A second trip through the typed model is byte-for-byte stable.
    assert_eq!(
        MessagesRequest::from_slice(&out).unwrap().to_vec().unwrap(),
        out
    );
}

#[test]
fn claude_code_request_is_typed_where_it_matters() {
    let req = MessagesRequest::from_slice(CLAUDE_CODE_REQUEST.as_bytes()).unwrap();

    assert_eq!(req.max_tokens, Some(32000));
    assert!(req.is_stream());
    assert_eq!(req.temperature, Some(1.0));
    assert!(req.thinking.as_ref().unwrap().is_on());
    assert_eq!(
        req.output_config.as_ref().unwrap().effort.as_deref(),
        Some("high")
    );
    assert!(req.metadata.as_ref().unwrap().user_id.is_some());
    assert!(req.extra.contains_key("context_management"));
    assert!(req.extra.contains_key("cache_control"));

    let Some(SystemPrompt::Blocks(system)) = &req.system else {
        panic!("system should be blocks")
    };
    let ContentBlock::Text(cached) = &system[2] else {
        panic!("system[2] should be text")
    };
    assert_eq!(
        cached.cache_control.as_ref().unwrap().ttl.as_deref(),
        Some("1h")
    );

    let tools = req.tools.as_ref().unwrap();
    assert!(!tools[0].is_server_tool());
    assert_eq!(tools[1].extra.get("strict"), Some(&json!(true)));
    assert!(tools[2].is_server_tool());
    assert_eq!(req.tool_choice.as_ref().unwrap().kind, "auto");

    let kinds = |i: usize| match &req.messages[i].content {
        MessageContent::Blocks(blocks) => blocks.iter().map(|b| b.kind().to_owned()).collect(),
        MessageContent::Text(_) => vec!["string".to_owned()],
    };
    assert_eq!(kinds(0), ["text", "text", "image"]);
    assert_eq!(
        kinds(1),
        [
            "thinking",
            "redacted_thinking",
            "text",
            "tool_use",
            "server_tool_use",
            "web_search_tool_result"
        ]
    );
    assert_eq!(kinds(2), ["tool_result", "tool_result", "document"]);
    assert_eq!(req.messages[3].role, Role::System);
    assert_eq!(kinds(4), ["string"]);

    // Unknown block types are kept whole.
    let MessageContent::Blocks(blocks) = &req.messages[1].content else {
        unreachable!()
    };
    assert!(
        matches!(&blocks[4], ContentBlock::Other(v) if v["input"]["query"] == "wit-bindgen 0.61")
    );
    let ContentBlock::Text(text) = &blocks[2] else {
        unreachable!()
    };
    assert_eq!(text.extra.get("citations"), Some(&Value::Null));

    // The tool result carries text and an image with its own cache_control.
    let MessageContent::Blocks(blocks) = &req.messages[2].content else {
        unreachable!()
    };
    let ContentBlock::ToolResult(result) = &blocks[0] else {
        panic!("tool_result expected")
    };
    let Some(MessageContent::Blocks(inner)) = &result.content else {
        panic!("tool_result content should be blocks")
    };
    let ContentBlock::Image(image) = &inner[1] else {
        panic!("image expected")
    };
    assert_eq!(image.source.kind, "url");
    assert!(image.cache_control.is_some());
    let ContentBlock::ToolResult(failed) = &blocks[1] else {
        panic!("tool_result expected")
    };
    assert_eq!(failed.is_error, Some(true));
}

#[test]
fn edits_keep_everything_else() {
    let mut req = MessagesRequest::from_slice(CLAUDE_CODE_REQUEST.as_bytes()).unwrap();
    req.max_tokens = req.max_tokens.map(|n| n.min(8192));
    let mut expected = as_value(CLAUDE_CODE_REQUEST.as_bytes());
    expected["max_tokens"] = json!(8192);
    assert_eq!(as_value(&req.to_vec().unwrap()), expected);
}

#[test]
fn numbers_are_written_like_javascript() {
    let body = br#"{"model":"m","max_tokens":1,"messages":[],"temperature":1,"top_p":0.95}"#;
    let out = MessagesRequest::from_slice(body).unwrap().to_vec().unwrap();
    assert_eq!(out, body);
}

#[test]
fn a_known_block_with_an_unexpected_shape_is_kept_whole() {
    let body = br#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","value":"no text field"}]}]}"#;
    let req = MessagesRequest::from_slice(body).unwrap();
    let MessageContent::Blocks(blocks) = &req.messages[0].content else {
        panic!("blocks expected")
    };
    assert!(matches!(&blocks[0], ContentBlock::Other(_)));
    assert_eq!(blocks[0].kind(), "text");
    assert_eq!(as_value(&req.to_vec().unwrap()), as_value(body));
}

#[test]
fn invalid_requests_are_the_clients_fault() {
    let err = MessagesRequest::from_slice(b"{\"messages\":[]}").unwrap_err();
    assert!(matches!(err, PluginError::InvalidRequest(m) if m.contains("model")));
}

#[test]
fn response_round_trips_and_keeps_nulls() {
    let body = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-opus-4-8",
        "content": [
            {"type": "thinking", "thinking": "Let me check.", "signature": "sig"},
            {"type": "text", "text": "Checking the weather.", "citations": null},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null, "stop_details": null, "container": null,
        "usage": {
            "input_tokens": 377, "output_tokens": 65,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "server_tool_use": null, "service_tier": "standard"
        }
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    let resp = MessagesResponse::from_slice(&bytes).unwrap();
    assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(resp.usage.input_tokens, 377);
    assert_eq!(resp.content.len(), 3);
    assert_eq!(as_value(&resp.to_vec().unwrap()), body);
}

#[test]
fn stop_reasons_convert_from_and_to_strings() {
    assert_eq!(StopReason::from("end_turn"), StopReason::EndTurn);
    assert_eq!(
        StopReason::from("brand_new"),
        StopReason::Other("brand_new".into())
    );
    assert_eq!(
        StopReason::ModelContextWindowExceeded.as_str(),
        "model_context_window_exceeded"
    );
    let parsed: StopReason = serde_json::from_str("\"brand_new\"").unwrap();
    assert_eq!(parsed.to_string(), "brand_new");
}

/// The `data:` lines of Anthropic's own streaming example (protocols reference §3).
const ANTHROPIC_STREAM: &[&str] = &[
    r#"{"type":"message_start","message":{"id":"msg_019Q","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}"#,
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    r#"{"type":"ping"}"#,
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll check"}}"#,
    r#"{"type":"content_block_stop","index":0}"#,
    r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NR","name":"get_weather","input":{}}}"#,
    r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}}"#,
    r#"{"type":"content_block_stop","index":1}"#,
    r#"{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"Hmm"}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}"#,
    r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}"#,
    r#"{"type":"message_stop"}"#,
    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    r#"{"type":"brand_new_event","payload":[1,2,3],"a_first":true}"#,
];

/// Unknown events and deltas keep their values; they are written `type` first and then in
/// key order.
#[test]
fn stream_events_round_trip_byte_for_byte() {
    for data in ANTHROPIC_STREAM {
        let event = StreamEvent::from_slice(data.as_bytes()).unwrap();
        let sse = event.to_sse();
        assert_eq!(sse.event, as_value(data.as_bytes())["type"]);
        if sse.event == "brand_new_event" {
            let out = r#"{"type":"brand_new_event","a_first":true,"payload":[1,2,3]}"#;
            assert_eq!(String::from_utf8(sse.data).unwrap(), out);
        } else {
            assert_eq!(String::from_utf8(sse.data).unwrap(), *data);
        }
    }
}

#[test]
fn stream_events_are_typed() {
    let parse = |i: usize| StreamEvent::from_slice(ANTHROPIC_STREAM[i].as_bytes()).unwrap();
    assert!(
        matches!(parse(0), StreamEvent::MessageStart { message, .. } if message.usage.input_tokens == 377)
    );
    assert!(matches!(
        parse(3),
        StreamEvent::ContentBlockDelta { index: 0, delta: ContentDelta::TextDelta { text, .. }, .. } if text == "I'll check"
    ));
    assert!(matches!(
        parse(12),
        StreamEvent::ContentBlockDelta {
            delta: ContentDelta::Other(_),
            ..
        }
    ));
    assert!(matches!(
        parse(13),
        StreamEvent::MessageDelta { delta, usage, .. }
            if delta.stop_reason == Some(StopReason::ToolUse) && usage.output_tokens == 65
    ));
    assert!(
        matches!(parse(15), StreamEvent::Error { error, .. } if error.kind == "overloaded_error")
    );
    assert_eq!(parse(16).name(), "brand_new_event");
}
