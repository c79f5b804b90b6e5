use serde_json::{json, Value};

use super::*;

const MODEL: &str = "deepseek-chat";

/// A chat.completion.chunk with one choice.
fn chunk(delta: Value, finish: Value) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "up",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null
    })
    .to_string()
}

fn d(delta: Value) -> String {
    chunk(delta, Value::Null)
}

fn usage_chunk(prompt: u64, completion: u64, cached: u64) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": cached}}
    })
    .to_string()
}

fn tool(index: u64, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut function = json!({"arguments": args});
    if let Some(n) = name {
        function["name"] = json!(n);
    }
    let mut call = json!({"index": index, "function": function});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    json!({"tool_calls": [call]})
}

/// Decodes events, checking each payload's `type` repeats the event name.
fn decode(events: Vec<SseEvent>) -> Vec<(String, Value)> {
    events
        .into_iter()
        .map(|e| {
            let v: Value = serde_json::from_slice(&e.data).expect("event data is JSON");
            assert_eq!(v["type"], json!(e.event), "type must repeat the event name");
            (e.event.to_owned(), v)
        })
        .collect()
}

/// Feeds every payload, then `finish()`; returns all events.
fn run(payloads: &[String]) -> Vec<(String, Value)> {
    let mut t = StreamTranslator::new(MODEL);
    let mut all = Vec::new();
    for p in payloads {
        all.extend(t.feed(None, p.as_bytes()));
    }
    all.extend(t.finish());
    // Finishing twice (or feeding after the end) never emits anything.
    assert!(t.finish().is_empty());
    assert!(t
        .feed(None, d(json!({"content": "late"})).as_bytes())
        .is_empty());
    decode(all)
}

fn e(event: &str, data: Value) -> (String, Value) {
    (event.to_owned(), data)
}

fn message_start(input: u64, cached: u64) -> (String, Value) {
    e(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": "msg_chatcmpl-1", "type": "message", "role": "assistant", "model": MODEL,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": input, "cache_creation_input_tokens": 0, "cache_read_input_tokens": cached, "output_tokens": 1}
        }}),
    )
}

fn text_start(i: usize) -> (String, Value) {
    e(
        "content_block_start",
        json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}),
    )
}

fn thinking_start(i: usize) -> (String, Value) {
    e(
        "content_block_start",
        json!({"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    )
}

fn tool_start(i: usize, id: &str, name: &str) -> (String, Value) {
    e(
        "content_block_start",
        json!({"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
    )
}

fn delta(i: usize, delta: Value) -> (String, Value) {
    e(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": i, "delta": delta}),
    )
}

fn text(i: usize, t: &str) -> (String, Value) {
    delta(i, json!({"type": "text_delta", "text": t}))
}

fn thinking(i: usize, t: &str) -> (String, Value) {
    delta(i, json!({"type": "thinking_delta", "thinking": t}))
}

/// The signature delta for a thinking block whose whole text was `all`.
fn signature(i: usize, all: &str) -> (String, Value) {
    delta(
        i,
        json!({"type": "signature_delta", "signature": ccr_plugin_sdk::provider::thinking_signature(SIGNATURE_PREFIX, Fnv::hash(all.as_bytes()))}),
    )
}

fn json_delta(i: usize, partial: &str) -> (String, Value) {
    delta(
        i,
        json!({"type": "input_json_delta", "partial_json": partial}),
    )
}

fn block_stop(i: usize) -> (String, Value) {
    e(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": i}),
    )
}

fn message_delta(reason: &str, input: u64, output: u64, cached: u64) -> (String, Value) {
    e(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null},
               "usage": {"input_tokens": input, "cache_read_input_tokens": cached, "output_tokens": output}}),
    )
}

fn message_stop() -> (String, Value) {
    e("message_stop", json!({"type": "message_stop"}))
}

fn error(kind: &str, message: &str) -> (String, Value) {
    e(
        "error",
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn done() -> String {
    "[DONE]".to_owned()
}

#[test]
fn plain_text_stream_is_byte_exact() {
    let mut t = StreamTranslator::new(MODEL);
    let mut out = Vec::new();
    for p in [
        d(json!({"role": "assistant", "content": ""})),
        d(json!({"content": "Hel"})),
        d(json!({"content": "lo \"you\"\n"})),
        chunk(json!({}), json!("stop")),
        usage_chunk(12, 3, 0),
        done(),
    ] {
        out.extend(t.feed(None, p.as_bytes()));
    }
    assert!(t.finish().is_empty(), "[DONE] already ended the message");
    let text: Vec<String> = out
        .iter()
        .map(|e| format!("{}|{}", e.event, String::from_utf8(e.data.clone()).unwrap()))
        .collect();
    assert_eq!(
        text,
        [
            r#"message_start|{"type":"message_start","message":{"id":"msg_chatcmpl-1","type":"message","role":"assistant","model":"deepseek-chat","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
            r#"content_block_start|{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            r#"content_block_delta|{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo \"you\"\n"}}"#,
            r#"content_block_stop|{"type":"content_block_stop","index":0}"#,
            r#"message_delta|{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"cache_read_input_tokens":0,"output_tokens":3}}"#,
            r#"message_stop|{"type":"message_stop"}"#,
        ]
    );
}

#[test]
fn reasoning_then_text_then_tools() {
    let events = run(&[
        d(json!({"role": "assistant", "content": null, "reasoning_content": ""})),
        d(json!({"reasoning_content": "Let me "})),
        d(json!({"reasoning_content": "think."})),
        d(json!({"content": "I'll read it."})),
        d(tool(0, Some("call_r"), Some("Read"), "")),
        d(tool(0, None, None, "{\"file_path\":")),
        d(tool(0, None, None, "\"/a\"}")),
        chunk(json!({}), json!("tool_calls")),
        usage_chunk(2000, 80, 1500),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            thinking_start(0),
            thinking(0, "Let me "),
            thinking(0, "think."),
            signature(0, "Let me think."),
            block_stop(0),
            text_start(1),
            text(1, "I'll read it."),
            block_stop(1),
            tool_start(2, "call_r", "Read"),
            json_delta(2, "{\"file_path\":"),
            json_delta(2, "\"/a\"}"),
            block_stop(2),
            message_delta("tool_use", 500, 80, 1500),
            message_stop(),
        ]
    );
}

#[test]
fn openrouter_reasoning_field_and_duplicates() {
    let events = run(&[
        d(json!({"reasoning": "a"})),
        // Both fields carrying the same text: taken once.
        d(json!({"reasoning_content": "b", "reasoning": "b"})),
        d(json!({"content": "x"})),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            thinking_start(0),
            thinking(0, "a"),
            thinking(0, "b"),
            signature(0, "ab"),
            block_stop(0),
            text_start(1),
            text(1, "x"),
            block_stop(1),
            message_delta("end_turn", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn thinking_after_text_opens_a_new_block() {
    let events = run(&[
        d(json!({"content": "a"})),
        d(json!({"reasoning_content": "r"})),
        d(json!({"content": "b"})),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "a"),
            block_stop(0),
            thinking_start(1),
            thinking(1, "r"),
            signature(1, "r"),
            block_stop(1),
            text_start(2),
            text(2, "b"),
            block_stop(2),
            message_delta("end_turn", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn sequential_parallel_tool_calls() {
    // OpenAI's shape: each call's fragments in a row.
    let events = run(&[
        d(tool(0, Some("call_a"), Some("Glob"), "")),
        d(tool(0, None, None, "{\"pattern\":\"*.rs\"}")),
        d(tool(1, Some("call_b"), Some("Grep"), "")),
        d(tool(1, None, None, "{\"pattern\":")),
        d(tool(1, None, None, "\"fn\"}")),
        chunk(json!({}), json!("tool_calls")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "call_a", "Glob"),
            json_delta(0, "{\"pattern\":\"*.rs\"}"),
            block_stop(0),
            tool_start(1, "call_b", "Grep"),
            json_delta(1, "{\"pattern\":"),
            json_delta(1, "\"fn\"}"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn interleaved_parallel_tool_calls() {
    // Call 1 starts while call 0's JSON is unfinished: call 1 is held back and flushed
    // once call 0 completes, then streams live.
    let events = run(&[
        d(tool(0, Some("call_a"), Some("Read"), "{\"file_path\":")),
        d(tool(1, Some("call_b"), Some("Bash"), "{\"comm")),
        d(tool(0, None, None, "\"/x\"")),
        d(tool(1, None, None, "and\":")),
        d(tool(0, None, None, "}")),
        d(tool(1, None, None, "\"ls\"}")),
        chunk(json!({}), json!("tool_calls")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "call_a", "Read"),
            json_delta(0, "{\"file_path\":"),
            json_delta(0, "\"/x\""),
            json_delta(0, "}"),
            block_stop(0),
            tool_start(1, "call_b", "Bash"),
            json_delta(1, "{\"command\":"),
            json_delta(1, "\"ls\"}"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn interleaved_calls_that_never_complete_are_flushed_at_the_end() {
    let events = run(&[
        d(tool(0, Some("a"), Some("A"), "{\"x\":")),
        d(tool(1, Some("b"), Some("B"), "{\"y\":1}")),
        d(tool(2, Some("c"), Some("C"), "{}")),
        chunk(json!({}), json!("length")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "a", "A"),
            json_delta(0, "{\"x\":"),
            block_stop(0),
            tool_start(1, "b", "B"),
            json_delta(1, "{\"y\":1}"),
            block_stop(1),
            tool_start(2, "c", "C"),
            json_delta(2, "{}"),
            block_stop(2),
            message_delta("max_tokens", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn whole_calls_in_one_chunk() {
    // Gemini/Ollama-style servers send complete calls, sometimes several per chunk, some with
    // object arguments and without `index`.
    let events = run(&[
        d(json!({"tool_calls": [
            {"index": 0, "id": "c1", "type": "function", "function": {"name": "A", "arguments": "{\"q\":1}"}},
            {"index": 1, "id": "c2", "type": "function", "function": {"name": "B", "arguments": {"r": 2}}}
        ]})),
        d(json!({"tool_calls": [{"id": "c3", "function": {"name": "C", "arguments": "{}"}}]})),
        chunk(json!({}), json!("stop")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "c1", "A"),
            json_delta(0, "{\"q\":1}"),
            block_stop(0),
            tool_start(1, "c2", "B"),
            json_delta(1, "{\"r\":2}"),
            block_stop(1),
            tool_start(2, "c3", "C"),
            json_delta(2, "{}"),
            block_stop(2),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn legacy_function_call_fragments_become_a_tool_use_block() {
    let mut t = StreamTranslator::new(MODEL);
    let mut all = Vec::new();
    for p in [
        d(json!({"role": "assistant", "content": null,
                 "function_call": {"name": "get_weather", "arguments": ""}})),
        d(json!({"function_call": {"arguments": "{\"city\""}})),
        d(json!({"function_call": {"arguments": ":\"Paris\"}"}})),
        chunk(json!({}), json!("function_call")),
        done(),
    ] {
        all.extend(t.feed(None, p.as_bytes()));
    }
    let events = decode(all);
    let id = events[1].1["content_block"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("toolu_"), "{id}");
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, &id, "get_weather"),
            json_delta(0, "{\"city\""),
            json_delta(0, ":\"Paris\"}"),
            block_stop(0),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn legacy_function_call_after_text_and_with_a_late_name() {
    let mut t = StreamTranslator::new(MODEL);
    let mut all = Vec::new();
    for p in [
        d(json!({"content": "x"})),
        // Arguments before the name: buffered until the name comes.
        d(json!({"function_call": {"arguments": "{\"a\""}})),
        d(json!({"function_call": {"name": "Late", "arguments": ":1}"}})),
        done(),
    ] {
        all.extend(t.feed(None, p.as_bytes()));
    }
    let events = decode(all);
    let id = events[4].1["content_block"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("toolu_"), "{id}");
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "x"),
            block_stop(0),
            tool_start(1, &id, "Late"),
            json_delta(1, "{\"a\":1}"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn legacy_function_call_repeating_tool_calls_is_ignored() {
    // A server that sends both shapes for the same call: the first shape seen wins.
    let both = |name: Option<&str>, id: Option<&str>, args: &str| {
        let mut delta = tool(0, id, name, args);
        let mut function = json!({"arguments": args});
        if let Some(n) = name {
            function["name"] = json!(n);
        }
        delta["function_call"] = function;
        d(delta)
    };
    let events = run(&[
        both(Some("A"), Some("c1"), "{\"q\""),
        both(None, None, ":1}"),
        // Later `function_call`-only fragments are ignored too.
        d(json!({"function_call": {"arguments": "junk"}})),
        chunk(json!({}), json!("tool_calls")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "c1", "A"),
            json_delta(0, "{\"q\""),
            json_delta(0, ":1}"),
            block_stop(0),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn missing_tool_id_is_generated_and_name_may_come_late() {
    let mut t = StreamTranslator::new(MODEL);
    let mut all = Vec::new();
    all.extend(t.feed(None, d(json!({"content": "x"})).as_bytes()));
    // First fragment: neither id nor name yet; nothing opens.
    all.extend(t.feed(None, d(tool(0, None, None, "{\"a\"")).as_bytes()));
    all.extend(t.feed(None, d(tool(0, None, Some("Late"), ":1}")).as_bytes()));
    all.extend(t.feed(None, b"[DONE]"));
    let events = decode(all);
    let id = events[4].1["content_block"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("toolu_"), "{id}");
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "x"),
            block_stop(0),
            tool_start(1, &id, "Late"),
            json_delta(1, "{\"a\":1}"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn text_after_a_tool_call_closes_it_and_late_fragments_are_dropped() {
    let events = run(&[
        d(tool(0, Some("a"), Some("A"), "{\"x\":")),
        d(json!({"content": "oops"})),
        d(tool(0, None, None, "1}")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "a", "A"),
            json_delta(0, "{\"x\":"),
            block_stop(0),
            text_start(1),
            text(1, "oops"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn every_finish_reason() {
    let cases = [
        ("stop", false, "end_turn"),
        ("stop", true, "tool_use"),
        ("length", false, "max_tokens"),
        ("tool_calls", true, "tool_use"),
        ("function_call", true, "tool_use"),
        ("content_filter", false, "refusal"),
        ("something_new", false, "end_turn"),
    ];
    for (finish, with_tool, expected) in cases {
        let mut payloads = vec![d(json!({"content": "x"}))];
        if with_tool {
            payloads.push(d(tool(0, Some("c"), Some("T"), "{}")));
        }
        payloads.push(chunk(json!({}), json!(finish)));
        payloads.push(done());
        let events = run(&payloads);
        let (name, last_delta) = &events[events.len() - 2];
        assert_eq!(name, "message_delta");
        assert_eq!(
            last_delta["delta"]["stop_reason"],
            json!(expected),
            "{finish}"
        );
    }
}

#[test]
fn done_without_finish_reason() {
    let events = run(&[d(json!({"content": "hi"})), done()]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "hi"),
            block_stop(0),
            message_delta("end_turn", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn finish_without_done_ends_the_message() {
    let events = run(&[
        d(json!({"content": "hi"})),
        chunk(json!({}), json!("length")),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "hi"),
            block_stop(0),
            message_delta("max_tokens", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn usage_in_the_finish_chunk_and_in_the_first_chunk() {
    // Some servers put usage on the finish chunk itself; the last one seen wins.
    let mut last = json!({
        "id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 5}}
    });
    let mut first = json!({
        "id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "a"}}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 0}
    });
    let events = run(&[first.to_string(), last.to_string(), done()]);
    assert_eq!(events[0], message_start(40, 0));
    assert_eq!(
        events[events.len() - 2],
        e(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"input_tokens": 25, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 10, "output_tokens": 9}})
        )
    );
    // Null usage fields are tolerated.
    first["usage"] = Value::Null;
    last["usage"] = json!({"prompt_tokens": null, "completion_tokens": 3});
    let events = run(&[first.to_string(), last.to_string()]);
    assert_eq!(events[events.len() - 2], message_delta("end_turn", 0, 3, 0));
}

#[test]
fn usage_chunk_with_cached_tokens() {
    let events = run(&[
        d(json!({"content": "a"})),
        chunk(json!({}), json!("stop")),
        usage_chunk(100, 5, 60),
        done(),
    ]);
    assert_eq!(
        events[events.len() - 2],
        message_delta("end_turn", 40, 5, 60)
    );
}

#[test]
fn mid_stream_error_object() {
    let err = json!({"error": {"message": "Internal server error", "type": "server_error", "code": null}}).to_string();
    let events = run(&[
        d(json!({"content": "par"})),
        err,
        d(json!({"content": "tial"})),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "par"),
            error("api_error", "Internal server error"),
        ]
    );
}

#[test]
fn openrouter_mid_stream_error_with_finish_reason_error() {
    let err = json!({
        "id": "gen-1", "object": "chat.completion.chunk",
        "error": {"code": 502, "message": "Provider disconnected"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]
    })
    .to_string();
    let events = run(&[d(json!({"content": "a"})), err]);
    assert_eq!(
        events.last().unwrap(),
        &error("overloaded_error", "Provider disconnected")
    );
    assert_eq!(events.len(), 4);
    // finish_reason "error" without an error object.
    let events = run(&[d(json!({"content": "a"})), chunk(json!({}), json!("error"))]);
    assert_eq!(
        events.last().unwrap(),
        &error("api_error", "upstream stream ended with an error")
    );
}

#[test]
fn error_before_anything_else() {
    let events =
        run(&[json!({"error": {"message": "Rate limit exceeded", "code": 429}}).to_string()]);
    assert_eq!(
        events,
        vec![error("rate_limit_error", "Rate limit exceeded")]
    );
    // A context overflow reported in-stream still reads "prompt is too long".
    let events = run(&[json!({"error": {"message": "maximum context length is 4096 tokens", "type": "invalid_request_error"}}).to_string()]);
    assert_eq!(
        events,
        vec![error(
            "invalid_request_error",
            "prompt is too long: maximum context length is 4096 tokens"
        )]
    );
}

#[test]
fn error_event_name() {
    let mut t = StreamTranslator::new(MODEL);
    let events = decode(t.feed(Some("error"), br#"{"message":"bad things"}"#));
    assert_eq!(events, vec![error("api_error", "bad things")]);
    assert!(t.finish().is_empty());
}

#[test]
fn malformed_chunk() {
    let events = run(&[d(json!({"content": "a"})), "{\"choices\": [".to_owned()]);
    assert_eq!(events.len(), 4);
    let (name, v) = &events[3];
    assert_eq!(name, "error");
    assert_eq!(v["error"]["type"], json!("api_error"));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("upstream sent a malformed stream chunk"));
}

#[test]
fn empty_streams_are_errors() {
    let expected = vec![error(
        "api_error",
        "upstream closed the stream without a response",
    )];
    assert_eq!(run(&[]), expected);
    assert_eq!(run(&[done()]), expected);
    assert_eq!(
        run(&["".to_owned(), ": OPENROUTER PROCESSING".to_owned()]),
        expected
    );
}

#[test]
fn comments_and_blank_payloads_are_ignored() {
    let events = run(&[
        ": OPENROUTER PROCESSING".to_owned(),
        d(json!({"content": "a"})),
        "  \n".to_owned(),
        ": keepalive".to_owned(),
        d(json!({"content": "b"})),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "a"),
            text(0, "b"),
            block_stop(0),
            message_delta("end_turn", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn refusal_deltas_are_text_and_other_choices_ignored() {
    let other_choice =
        json!({"id": "chatcmpl-1", "choices": [{"index": 1, "delta": {"content": "nope"}}]})
            .to_string();
    let events = run(&[
        d(json!({"refusal": "I can't."})),
        other_choice,
        chunk(json!({}), json!("content_filter")),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            text_start(0),
            text(0, "I can't."),
            block_stop(0),
            message_delta("refusal", 0, 0, 0),
            message_stop(),
        ]
    );
}

#[test]
fn ids_keep_or_get_the_msg_prefix() {
    let mut t = StreamTranslator::new(MODEL);
    let events = decode(t.feed(None, br#"{"id":"msg_abc","choices":[]}"#));
    assert_eq!(events[0].1["message"]["id"], json!("msg_abc"));
    let mut t = StreamTranslator::new(MODEL);
    let events = decode(t.feed(None, br#"{"choices":[]}"#));
    let id = events[0].1["message"]["id"].as_str().unwrap();
    assert!(id.starts_with("msg_") && id.len() == 20, "{id}");
}

#[test]
fn same_index_with_new_ids_are_separate_calls() {
    let events = run(&[
        d(tool(0, Some("c1"), Some("A"), "{}")),
        d(tool(0, Some("c2"), Some("B"), "{\"k\":")),
        // Repeating the same id on later fragments is a continuation.
        d(tool(0, Some("c2"), None, "2}")),
        done(),
    ]);
    assert_eq!(
        events,
        vec![
            message_start(0, 0),
            tool_start(0, "c1", "A"),
            json_delta(0, "{}"),
            block_stop(0),
            tool_start(1, "c2", "B"),
            json_delta(1, "{\"k\":"),
            json_delta(1, "2}"),
            block_stop(1),
            message_delta("tool_use", 0, 0, 0),
            message_stop(),
        ]
    );
}
