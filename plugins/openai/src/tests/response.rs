use serde_json::{json, Value};

use super::*;

fn ok(body: &Value) -> Value {
    let bytes = serde_json::to_vec(body).unwrap();
    let out = translate_response(200, &bytes, "glm-4.6").expect("translation succeeds");
    serde_json::from_slice(&out).unwrap()
}

fn upstream_err(status: u16, body: &str) -> ApiError {
    match translate_response(status, body.as_bytes(), "m") {
        Err(PluginError::Upstream(e)) => e,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

fn completion(message: Value, finish: Value) -> Value {
    json!({
        "id": "chatcmpl-123", "object": "chat.completion", "created": 1, "model": "upstream-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    })
}

#[test]
fn plain_text_answer() {
    let out = ok(&completion(
        json!({"role": "assistant", "content": "Hello!"}),
        json!("stop"),
    ));
    assert_eq!(
        out,
        json!({
            "id": "msg_chatcmpl-123", "type": "message", "role": "assistant", "model": "glm-4.6",
            "content": [{"type": "text", "text": "Hello!"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 20}
        })
    );
}

#[test]
fn thinking_text_and_tools_in_anthropic_order() {
    let out = ok(&json!({
        "id": "msg_already",
        "choices": [{"message": {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/a\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\": \"ls\"}"}}
            ],
            "content": "Let me look.",
            "reasoning_content": "The user wants files."
        }, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 50,
                  "prompt_tokens_details": {"cached_tokens": 800, "cache_write_tokens": 150}}
    }));
    let signature = thinking_signature(SIGNATURE_PREFIX, Fnv::hash(b"The user wants files."));
    assert_eq!(
        out,
        json!({
            "id": "msg_already", "type": "message", "role": "assistant", "model": "glm-4.6",
            "content": [
                {"type": "thinking", "thinking": "The user wants files.", "signature": signature},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_a", "name": "Read", "input": {"file_path": "/a"}},
                {"type": "tool_use", "id": "call_b", "name": "Bash", "input": {"command": "ls"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 50, "cache_creation_input_tokens": 150, "cache_read_input_tokens": 800, "output_tokens": 50}
        })
    );
    assert!(signature.starts_with("ccr-openai-"));
}

#[test]
fn reasoning_field_variants() {
    // OpenRouter / Ollama name it `reasoning`.
    let out = ok(&completion(
        json!({"content": "x", "reasoning": "r1"}),
        json!("stop"),
    ));
    assert_eq!(out["content"][0]["thinking"], json!("r1"));
    // Both present (some proxies duplicate): one thinking block.
    let out = ok(&completion(
        json!({"content": "x", "reasoning_content": "r2", "reasoning": "r2"}),
        json!("stop"),
    ));
    assert_eq!(out["content"].as_array().unwrap().len(), 2);
    // Empty strings and nulls produce no blocks.
    let out = ok(&completion(
        json!({"content": "", "reasoning_content": "", "reasoning": null, "tool_calls": null, "refusal": null}),
        json!("stop"),
    ));
    assert_eq!(out["content"], json!([]));
}

#[test]
fn content_as_parts_array() {
    let out = ok(&completion(
        json!({"content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]}),
        json!("stop"),
    ));
    assert_eq!(out["content"], json!([{"type": "text", "text": "ab"}]));
}

#[test]
fn refusal() {
    let out = ok(&completion(
        json!({"content": null, "refusal": "I can't help with that."}),
        json!("stop"),
    ));
    assert_eq!(
        out["content"],
        json!([{"type": "text", "text": "I can't help with that."}])
    );
    assert_eq!(out["stop_reason"], json!("refusal"));
}

#[test]
fn finish_reasons() {
    let cases = [
        (json!("stop"), false, "end_turn"),
        (json!("stop"), true, "tool_use"),
        (json!("length"), false, "max_tokens"),
        (json!("length"), true, "max_tokens"),
        (json!("tool_calls"), true, "tool_use"),
        (json!("tool_calls"), false, "tool_use"),
        (json!("function_call"), true, "tool_use"),
        (json!("content_filter"), false, "refusal"),
        (json!("eos"), false, "end_turn"),
        (Value::Null, false, "end_turn"),
        (Value::Null, true, "tool_use"),
    ];
    for (finish, tools, expected) in cases {
        let mut message = json!({"content": "x"});
        if tools {
            message["tool_calls"] = json!([{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]);
        }
        let out = ok(&completion(message, finish.clone()));
        assert_eq!(
            out["stop_reason"],
            json!(expected),
            "{finish} tools={tools}"
        );
    }
}

#[test]
fn tool_arguments_are_made_objects() {
    let cases = [
        (json!("{\"a\":1}"), json!({"a": 1})),
        (json!("  {\"a\":1}  "), json!({"a": 1})),
        (json!(""), json!({})),
        (Value::Null, json!({})),
        (json!({"already": "object"}), json!({"already": "object"})),
        (json!("\"{\\\"double\\\":true}\""), json!({"double": true})),
        (
            json!("{\"path\":\"/a\",\"content\":\"trunc"),
            json!({"path": "/a", "content": "trunc"}),
        ),
        (json!("{\"a\":[1,2"), json!({"a": [1, 2]})),
        (json!("not json at all"), json!({})),
        (json!("[1,2]"), json!({})),
        (json!("42"), json!({})),
        (json!("{\"a\":"), json!({})),
    ];
    for (args, expected) in cases {
        let msg =
            json!({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": args}}]});
        let out = ok(&completion(msg, json!("tool_calls")));
        assert_eq!(out["content"][0]["input"], expected, "arguments {args}");
    }
}

#[test]
fn missing_ids_are_generated() {
    let body = json!({"choices": [{"message": {"tool_calls": [
        {"function": {"name": "a", "arguments": "{}"}},
        {"id": "", "function": {"name": "b", "arguments": "{}"}}
    ]}, "finish_reason": "tool_calls"}]});
    let out = ok(&body);
    let id = out["id"].as_str().unwrap();
    assert!(id.starts_with("msg_") && id.len() > 10, "{id}");
    let a = out["content"][0]["id"].as_str().unwrap();
    let b = out["content"][1]["id"].as_str().unwrap();
    assert!(a.starts_with("toolu_") && b.starts_with("toolu_") && a != b);
    // No usage at all: zeros.
    assert_eq!(
        out["usage"],
        json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

#[test]
fn legacy_function_call_is_a_tool_use_block() {
    let out = ok(&completion(
        json!({"role": "assistant", "content": null,
               "function_call": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}),
        json!("function_call"),
    ));
    assert_eq!(out["stop_reason"], "tool_use");
    let content = out["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "{out}");
    let id = content[0]["id"].as_str().unwrap();
    assert!(id.starts_with("toolu_") && id.len() > 6, "{id}");
    assert_eq!(
        content[0],
        json!({"type": "tool_use", "id": id, "name": "get_weather", "input": {"city": "Paris"}})
    );

    // Alongside text, and with empty arguments: text first, then the call with `{}`.
    let out = ok(&completion(
        json!({"content": "Checking.", "function_call": {"name": "now", "arguments": ""}}),
        json!("function_call"),
    ));
    assert_eq!(out["stop_reason"], "tool_use");
    assert_eq!(
        out["content"][0],
        json!({"type": "text", "text": "Checking."})
    );
    assert_eq!(out["content"][1]["name"], "now");
    assert_eq!(out["content"][1]["input"], json!({}));

    // Sent together with `tool_calls` (a repeat of the same call): only `tool_calls` count.
    let out = ok(&completion(
        json!({"tool_calls": [{"id": "call_1", "type": "function",
                               "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
               "function_call": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}),
        json!("tool_calls"),
    ));
    let content = out["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "{out}");
    assert_eq!(content[0]["id"], "call_1");

    // `function_call: null` is no call.
    let out = ok(&completion(
        json!({"content": "hi", "function_call": null}),
        json!("stop"),
    ));
    assert_eq!(out["stop_reason"], "end_turn");
    assert_eq!(out["content"].as_array().unwrap().len(), 1);
}

#[test]
fn deepseek_cache_usage() {
    let mut body = completion(json!({"content": "x"}), json!("stop"));
    body["usage"] = json!({"prompt_tokens": 500, "completion_tokens": 7, "prompt_cache_hit_tokens": 300, "prompt_cache_miss_tokens": 200});
    let out = ok(&body);
    assert_eq!(
        out["usage"],
        json!({"input_tokens": 200, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 300, "output_tokens": 7})
    );
}

#[test]
fn upstream_errors() {
    let e = upstream_err(
        401,
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    );
    assert_eq!(
        e,
        ApiError {
            status: 401,
            error_type: "authentication_error".into(),
            message: "Incorrect API key provided".into()
        }
    );
    let e = upstream_err(503, "upstream connect error");
    assert_eq!((e.status, e.error_type.as_str()), (529, "overloaded_error"));
    let e = upstream_err(
        400,
        r#"{"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}}"#,
    );
    assert!(e.message.starts_with("prompt is too long"));
}

#[test]
fn bad_success_bodies() {
    // A 200 that carries an error object (OpenRouter does this).
    let e = upstream_err(
        200,
        r#"{"error":{"code":429,"message":"Rate limited upstream"}}"#,
    );
    assert_eq!(
        (e.status, e.error_type.as_str(), e.message.as_str()),
        (429, "rate_limit_error", "Rate limited upstream")
    );
    let e = upstream_err(200, r#"{"id":"x","choices":[]}"#);
    assert_eq!((e.status, e.error_type.as_str()), (500, "api_error"));
    let e = upstream_err(200, r#"{"id":"x"}"#);
    assert!(e.message.contains("without choices"));
    let e = upstream_err(200, "<html>oops</html>");
    assert!(e.message.contains("malformed"), "{}", e.message);
    let e = upstream_err(
        200,
        r#"{"choices":[{"message":{"content":""},"finish_reason":"error"}]}"#,
    );
    assert_eq!(e.error_type, "api_error");
}
