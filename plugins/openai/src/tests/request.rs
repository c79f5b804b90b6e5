use serde_json::{json, Value};

use super::*;

fn translate_with(req: &Value, opts: &Options) -> Value {
    let body = serde_json::to_vec(req).unwrap();
    let out = translate_request(&body, "gpt-test", opts).expect("translation succeeds");
    serde_json::from_slice(&out).expect("output is JSON")
}

fn translate(req: &Value) -> Value {
    translate_with(req, &Options::default())
}

fn translate_err(body: &str) -> String {
    match translate_request(body.as_bytes(), "m", &Options::default()) {
        Err(PluginError::InvalidRequest(msg)) => msg,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// Keys that must never reach an OpenAI-compatible upstream.
const ANTHROPIC_ONLY: &[&str] = &[
    "cache_control",
    "context_management",
    "output_config",
    "metadata",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "defer_loading",
    "strict",
    "eager_input_streaming",
    "input_examples",
    "top_k",
    "stop_sequences",
    "system",
    "input_schema",
    "signature",
    "is_error",
    "tool_use_id",
];

fn assert_no_anthropic_keys(v: &Value, path: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                // Tool parameter schemas are user data and pass through verbatim.
                if k == "parameters" {
                    continue;
                }
                assert!(
                    !ANTHROPIC_ONLY.contains(&k.as_str()),
                    "Anthropic-only key `{k}` at {path}"
                );
                assert_no_anthropic_keys(child, &format!("{path}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                assert_no_anthropic_keys(child, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

/// A request shaped like the ones Claude Code sends.
fn claude_code_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "stream": true,
        "temperature": 1,
        "top_k": 40,
        "metadata": {"user_id": "user_abc_account__session_123"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "service_tier": "auto",
        "container": "c_1",
        "mcp_servers": [{"type": "url", "url": "https://mcp.example", "name": "x"}],
        "cache_control": {"type": "ephemeral"},
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.300.abc; cc_entrypoint=cli; cch=00000;"},
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "\nYou are an interactive CLI tool.\nUse \"tools\".", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ],
        "tools": [
            {
                "name": "Bash",
                "description": "Run a command",
                "input_schema": {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}}, "required": ["command"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"},
                "cache_control": {"type": "ephemeral"},
                "strict": true,
                "eager_input_streaming": true
            },
            {
                "name": "Read",
                "description": "Read a file",
                "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]},
                "defer_loading": true,
                "input_examples": [{"file_path": "/a"}]
            },
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
            {"type": "bash_20250124", "name": "bash"},
            {
                "type": "custom",
                "name": "mcp__ide__getDiagnostics",
                "input_schema": {"type": "object", "properties": {}}
            }
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                {"type": "text", "text": "list the files", "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should run ls.", "signature": "sig-abc"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {"command": "ls -la"}},
                {"type": "tool_use", "id": "call_2", "name": "Read", "input": {"file_path": "/tmp/shot.png"}, "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "a.txt\nb.txt", "cache_control": {"type": "ephemeral"}},
                {"type": "tool_result", "tool_use_id": "call_2", "content": [
                    {"type": "text", "text": "Read image (10KB)"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ]},
                {"type": "text", "text": "<system-reminder>todo list empty</system-reminder>"}
            ]},
            {"role": "system", "content": [
                {"type": "text", "text": "Mid-conversation note.", "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_3", "name": "Bash", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_3", "is_error": true, "content": [{"type": "text", "text": "<tool_use_error>denied</tool_use_error>"}]}
            ]}
        ]
    })
}

#[test]
fn claude_code_shaped_request() {
    let out = translate(&claude_code_request());
    let expected = json!({
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You are Claude Code, Anthropic's official CLI for Claude.\n\n\nYou are an interactive CLI tool.\nUse \"tools\".\n\nMid-conversation note."},
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                {"type": "text", "text": "list the files"}
            ]},
            {"role": "assistant", "content": "Listing.", "reasoning_content": "I should run ls.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls -la\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/tmp/shot.png\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a.txt\nb.txt"},
            {"role": "tool", "tool_call_id": "call_2", "content": "Read image (10KB)"},
            {"role": "user", "content": [
                {"type": "text", "text": "[attachments from the result of tool call call_2]"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "text", "text": "<system-reminder>todo list empty</system-reminder>"}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_3", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_3", "content": "Error: <tool_use_error>denied</tool_use_error>"}
        ],
        "max_tokens": 32000,
        "temperature": 1.0,
        "stream": true,
        "stream_options": {"include_usage": true},
        "tools": [
            {"type": "function", "function": {"name": "Bash", "description": "Run a command", "parameters": {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}}, "required": ["command"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}}},
            {"type": "function", "function": {"name": "Read", "description": "Read a file", "parameters": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}},
            {"type": "function", "function": {"name": "mcp__ide__getDiagnostics", "parameters": {"type": "object", "properties": {}}}}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "reasoning_effort": "high"
    });
    assert_eq!(out, expected);
    assert_no_anthropic_keys(&out, "$");
}

#[test]
fn system_messages_fold_into_the_leading_system_prompt() {
    // Claude Code 2.1 sends the Agent tool's list of agent types as a system message after
    // the user's turn: upstream, the conversation must still end with the user's turn.
    let out = translate(&json!({
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "run ls"},
            {"role": "system", "content": [{"type": "text", "text": "Agent types: general-purpose"}]}
        ]
    }));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "system", "content": "Be brief.\n\nAgent types: general-purpose"},
            {"role": "user", "content": "run ls"}
        ])
    );
    // Without a top-level system prompt the system message still leads.
    let out = translate(&json!({
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "Note."}
        ]
    }));
    assert_eq!(
        out["messages"],
        json!([{"role": "system", "content": "Note."}, {"role": "user", "content": "hi"}])
    );
}

#[test]
fn schemas_and_inputs_pass_through_verbatim() {
    let body = r#"{"max_tokens":5,"tools":[{"name":"t","input_schema":{"type":"object","properties":{"x":{"type":"number","default":1.50}}}}],
        "messages":[{"role":"assistant","content":[{"type":"tool_use","id":"c","name":"t","input":{"x": 1.50, "s":"\u00e9\n"}}]}]}"#;
    let out = translate_request(body.as_bytes(), "m", &Options::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The schema's bytes are copied as they were (no number reformatting).
    assert!(
        text.contains(
            r#""parameters":{"type":"object","properties":{"x":{"type":"number","default":1.50}}}"#
        ),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["messages"][0]["tool_calls"][0]["function"]["arguments"],
        json!(r#"{"x": 1.50, "s":"\u00e9\n"}"#)
    );
}

#[test]
fn system_variants() {
    let out =
        translate(&json!({"system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(
        out["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    );
    // Only the attribution block: no system message at all.
    let out = translate(&json!({
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"}],
        "messages": [{"role": "user", "content": "hi"}]
    }));
    assert_eq!(out["messages"], json!([{"role": "user", "content": "hi"}]));
    let out = translate(&json!({"system": "", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(out["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn user_content_shapes() {
    let out = translate(&json!({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "one block"}]},
        {"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
            {"type": "text", "text": "what is this?"}
        ]},
        {"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}, "title": "spec.pdf"},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain doc"}},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "nested"}]}},
            {"type": "document", "source": {"type": "url", "url": "https://x/doc.pdf"}}
        ]},
        {"role": "user", "content": []}
    ]}));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "one block"},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                {"type": "text", "text": "what is this?"}
            ]},
            {"role": "user", "content": [
                {"type": "file", "file": {"filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
                {"type": "text", "text": "plain doc"},
                {"type": "text", "text": "nested"},
                {"type": "text", "text": "[document: https://x/doc.pdf]"}
            ]}
        ])
    );
}

#[test]
fn tool_results_come_first_and_keep_block_order() {
    let out = translate(&json!({"messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "before"},
            {"type": "tool_result", "tool_use_id": "a", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "AAA"}}]},
            {"type": "tool_result", "tool_use_id": "b"},
            {"type": "tool_result", "tool_use_id": "c", "content": [{"type": "text", "text": "l1"}, {"type": "text", "text": "l2"}]},
            {"type": "tool_result", "tool_use_id": "d", "is_error": true}
        ]}
    ]}));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "tool", "tool_call_id": "a", "content": "[the result's attachments follow in the next user message]"},
            {"role": "tool", "tool_call_id": "b", "content": ""},
            {"role": "tool", "tool_call_id": "c", "content": "l1\nl2"},
            {"role": "tool", "tool_call_id": "d", "content": "Error"},
            {"role": "user", "content": [
                {"type": "text", "text": "before"},
                {"type": "text", "text": "[attachments from the result of tool call a]"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAA"}}
            ]}
        ])
    );
}

#[test]
fn assistant_shapes() {
    let out = translate(&json!({"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "plain answer"},
        {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"}]},
        {"role": "assistant", "content": [{"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {"query": "x"}},
                                          {"type": "web_search_tool_result", "tool_use_id": "srv", "content": {"type": "web_search_tool_result_error", "error_code": "unavailable"}}]}
    ]}));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "plain answer"},
            {"role": "assistant", "content": "a\nb"},
            {"role": "assistant", "content": "", "reasoning_content": "hmm"},
            {"role": "assistant", "content": ""}
        ])
    );
}

#[test]
fn reasoning_content_can_be_disabled() {
    let req = json!({"messages": [{"role": "assistant", "content": [
        {"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "text", "text": "x"}]}]});
    let opts = Options::from_json(r#"{"reasoning_content": false}"#).unwrap();
    let out = translate_with(&req, &opts);
    assert_eq!(
        out["messages"],
        json!([{"role": "assistant", "content": "x"}])
    );
}

#[test]
fn tool_choice_mapping() {
    let tools = json!([{"name": "get", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "web_search"}]);
    let cases = [
        (json!({"type": "auto"}), json!("auto"), Value::Null),
        (json!({"type": "any"}), json!("required"), Value::Null),
        (json!({"type": "none"}), json!("none"), Value::Null),
        (
            json!({"type": "tool", "name": "get", "disable_parallel_tool_use": true}),
            json!({"type": "function", "function": {"name": "get"}}),
            json!(false),
        ),
        (
            json!({"type": "any", "disable_parallel_tool_use": false}),
            json!("required"),
            Value::Null,
        ),
        // Forcing a dropped server tool falls back to the default.
        (
            json!({"type": "tool", "name": "web_search"}),
            Value::Null,
            Value::Null,
        ),
    ];
    for (choice, expected, parallel) in cases {
        let out = translate(&json!({"messages": [], "tools": tools, "tool_choice": choice}));
        assert_eq!(out["tool_choice"], expected, "{choice}");
        assert_eq!(out["parallel_tool_calls"], parallel, "{choice}");
    }
    // No tools left: neither tool_choice nor parallel_tool_calls may be sent.
    let out = translate(&json!({
        "messages": [],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true}
    }));
    let obj = out.as_object().unwrap();
    assert!(
        !obj.contains_key("tools")
            && !obj.contains_key("tool_choice")
            && !obj.contains_key("parallel_tool_calls")
    );
}

#[test]
fn thinking_to_reasoning_effort() {
    let cases = [
        (
            json!({"type": "enabled", "budget_tokens": 1024}),
            None,
            json!("low"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 1025}),
            None,
            json!("medium"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 8192}),
            None,
            json!("medium"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 8193}),
            None,
            json!("high"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 31999}),
            Some("low"),
            json!("high"),
        ),
        (json!({"type": "adaptive"}), None, json!("medium")),
        (json!({"type": "adaptive"}), Some("low"), json!("low")),
        (json!({"type": "adaptive"}), Some("medium"), json!("medium")),
        (json!({"type": "adaptive"}), Some("high"), json!("high")),
        (json!({"type": "adaptive"}), Some("xhigh"), json!("high")),
        (json!({"type": "adaptive"}), Some("max"), json!("high")),
        (json!({"type": "disabled"}), Some("high"), Value::Null),
    ];
    for (thinking, effort, expected) in cases {
        let mut req = json!({"messages": [], "thinking": thinking});
        if let Some(e) = effort {
            req["output_config"] = json!({"effort": e});
        }
        assert_eq!(translate(&req)["reasoning_effort"], expected, "{req}");
    }
    assert_eq!(
        translate(&json!({"messages": []}))["reasoning_effort"],
        Value::Null
    );
    // Effort without thinking means nothing to an OpenAI upstream.
    let out = translate(&json!({"messages": [], "output_config": {"effort": "high"}}));
    assert_eq!(out["reasoning_effort"], Value::Null);
}

#[test]
fn reasoning_effort_options() {
    let req = json!({"messages": [], "thinking": {"type": "adaptive"}});
    let off = Options::from_json(r#"{"reasoning_effort": false}"#).unwrap();
    assert_eq!(translate_with(&req, &off)["reasoning_effort"], Value::Null);
    let on = Options::from_json(r#"{"reasoning_effort": true}"#).unwrap();
    assert_eq!(
        translate_with(&req, &on)["reasoning_effort"],
        json!("medium")
    );
    let fixed = Options::from_json(r#"{"reasoning_effort": "minimal"}"#).unwrap();
    assert_eq!(
        translate_with(&json!({"messages": []}), &fixed)["reasoning_effort"],
        json!("minimal")
    );
}

#[test]
fn sampling_and_limits() {
    let req = json!({"messages": [], "max_tokens": 100, "temperature": 0.7, "top_p": 0.9, "top_k": 5,
                     "stop_sequences": ["END", "\n\nHuman:"], "stream": false});
    let out = translate(&req);
    assert_eq!(
        out,
        json!({"model": "gpt-test", "messages": [], "max_tokens": 100, "temperature": 0.7, "top_p": 0.9,
               "stop": ["END", "\n\nHuman:"], "stream": false})
    );
    let opts = Options::from_json(r#"{"max_tokens_field": "max_completion_tokens"}"#).unwrap();
    let out = translate_with(&req, &opts);
    assert_eq!(out["max_completion_tokens"], json!(100));
    assert!(out.get("max_tokens").is_none());
    // Empty stop list: omitted.
    let out = translate(&json!({"messages": [], "stop_sequences": []}));
    assert!(out.get("stop").is_none() && out.get("stream").is_none());
}

#[test]
fn options_parsing() {
    assert!(Options::from_json("").is_ok());
    assert!(Options::from_json("{}").is_ok());
    assert!(Options::from_json("null").is_ok());
    assert!(Options::from_json(r#"{"unknown": 1}"#).is_ok());
    assert!(matches!(
        Options::from_json("[1]"),
        Err(PluginError::Internal(_))
    ));
    assert!(matches!(
        Options::from_json("[]"),
        Err(PluginError::Internal(_))
    ));
    assert!(matches!(
        Options::from_json(r#"{"reasoning_content": "no"}"#),
        Err(PluginError::Internal(_))
    ));
    let e = Options::from_json(r#"{"max_tokens_field": "limit"}"#).unwrap_err();
    assert!(matches!(e, PluginError::Internal(m) if m.contains("max_tokens_field")));
}

#[test]
fn invalid_requests_name_the_field() {
    let cases = [
        ("not json", "not valid JSON"),
        ("{}", "missing field `messages`"),
        (r#"{"messages": {}}"#, "`messages`"),
        (
            r#"{"messages": [{"role": "user", "content": 5}]}"#,
            "`messages[0].content`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}"#,
            "`messages[0].content[0].text`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"text": "x"}]}]}"#,
            "`messages[0].content[0]`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "text"}]}]}"#,
            "`messages[0].content[0].text`: missing",
        ),
        (r#"{"messages": [], "temperature": "hot"}"#, "`temperature`"),
        (r#"{"messages": [], "max_tokens": -1}"#, "`max_tokens`"),
        (
            r#"{"messages": [], "tools": [{"input_schema": {}}]}"#,
            "`tools[0].name`",
        ),
        (
            r#"{"messages": [], "tools": [{"name": "x"}]}"#,
            "`tools[0].input_schema`",
        ),
        (
            r#"{"messages": [], "tool_choice": {"type": "sometimes"}}"#,
            "`tool_choice.type`",
        ),
        (
            r#"{"messages": [], "tools": [{"name": "x", "input_schema": {}}], "tool_choice": {"type": "tool"}}"#,
            "`tool_choice.name`",
        ),
        (
            r#"{"messages": [{"role": "robot", "content": "x"}]}"#,
            "`messages[0].role`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]}"#,
            "`messages[0].content[0].tool_use_id`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": 3}]}]}"#,
            "`messages[0].content[0].content`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": [{"type": "text"}]}]}]}"#,
            "`messages[0].content[0].content[0].text`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "image"}]}]}"#,
            "`messages[0].content[0].source`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]}"#,
            "`messages[0].content[0].source.type`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]}]}"#,
            "`messages[0].content[0].source.media_type`",
        ),
        (
            r#"{"messages": [{"role": "assistant", "content": [{"type": "tool_use", "name": "x", "input": {}}]}]}"#,
            "`messages[0].content[0].id`",
        ),
    ];
    for (body, needle) in cases {
        let msg = translate_err(body);
        assert!(
            msg.contains(needle),
            "{body}: {msg:?} should contain {needle:?}"
        );
    }
}

#[test]
fn nothing_anthropic_only_leaks_from_a_maximal_request() {
    let out = translate(&claude_code_request());
    assert_no_anthropic_keys(&out, "$");
}
#[test]
fn path_tracking_survives_raw_values() {
    let msg = translate_err(
        r#"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"b","input":{"x":1}}]}],
            "tools":[{"name":"b","input_schema":{"type":"object"}}],"temperature":"hot"}"#,
    );
    assert!(
        msg.starts_with("`temperature`: invalid type: string"),
        "{msg}"
    );
    let msg = translate_err(
        r#"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":3}]}]}"#,
    );
    assert_eq!(
        msg,
        "`messages[0].content[0].content`: invalid type: integer `3`, expected a \
         string or an array of content blocks at line 1 column 90"
    );
}

#[test]
fn unread_block_fields_of_other_shapes_are_tolerated() {
    // Server-tool results carry object `content`, search results a string `source`.
    let out = translate(&json!({"messages": [
        {"role": "assistant", "content": [
            {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {"query": "q"}},
            {"type": "web_search_tool_result", "tool_use_id": "s", "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
            {"type": "web_search_tool_result", "tool_use_id": "s", "content": [{"type": "web_search_result", "url": "https://a", "title": "A", "encrypted_content": "x", "page_age": null}]},
            {"type": "text", "text": "done"}
        ]},
        {"role": "user", "content": [
            {"type": "search_result", "source": "https://a", "title": "A", "content": [{"type": "text", "text": "snippet"}]},
            {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "search_result", "source": "https://b", "title": "B", "content": []}, {"type": "text", "text": "ok"}]}
        ]}
    ]}));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "assistant", "content": "done"},
            {"role": "tool", "tool_call_id": "t", "content": "ok"}
        ])
    );
    // But a tool result's content must still be a string or blocks.
    let msg = translate_err(
        r#"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":{"x":1}}]}]}"#,
    );
    assert!(msg.contains("`messages[0].content[0].content`"), "{msg}");
}

#[test]
fn escaped_text_is_copied_verbatim() {
    // Block text, thinking, system text, tool descriptions and tool results keep the input's
    // escapes byte for byte (no decoding, no re-escaping); joins are made on escaped forms.
    let body = r#"{"system":[{"type":"text","text":"\nx-anthropic-billing-header: cch=1;"},{"type":"text","text":"S\u00e9\n"},{"type":"text","text":"\"two\""}],
        "tools":[{"name":"t","description":"d\/\n","input_schema":{}}],
        "messages":[{"role":"user","content":[{"type":"text","text":"a\u0041\t"},
            {"type":"tool_result","tool_use_id":"x","content":"r\u00e9\n"},
            {"type":"tool_result","tool_use_id":"y","is_error":true,"content":[{"type":"text","text":"l1\\"},{"type":"text","text":"l2"}]}]},
        {"role":"assistant","content":[{"type":"thinking","thinking":"th\ud83d\ude00"},{"type":"text","text":"ok\r"}]}]}"#;
    let out = translate_request(body.as_bytes(), "m", &Options::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    for escaped in [
        r#""content":"S\u00e9\n\n\n\"two\"""#,
        r#""description":"d\/\n""#,
        r#""content":"r\u00e9\n""#,
        r#""content":"Error: l1\\\nl2""#,
        r#""content":"a\u0041\t""#,
        r#""content":"ok\r""#,
        r#""reasoning_content":"th\ud83d\ude00""#,
    ] {
        assert!(text.contains(escaped), "{escaped} in {text}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["messages"][0]["content"], json!("Sé\n\n\n\"two\""));
    assert_eq!(v["messages"][2]["content"], json!("Error: l1\\\nl2"));
    assert_eq!(v["messages"][3]["content"], json!("aA\t"));
    assert_eq!(v["messages"][4]["reasoning_content"], json!("th😀"));
}

#[test]
fn string_errors_are_those_of_decoded_strings() {
    // Text kept escaped is checked as serde_json checks a decoded string, with the same
    // messages and positions.
    let cases = [
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a\ud800b"}]}]}"#,
            "request body is not valid JSON: unexpected end of hex escape at line 1 column 70",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":"a\udc00"}]}]}"#,
            "request body is not valid JSON: lone leading surrogate in hex escape at line 1 column 97",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":-1.5e3}]}]}"#,
            "`messages[0].content[0].text`: invalid type: floating point `-1500.0`, expected a \
             string at line 1 column 67",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":{"a":1}  }  ]}]}"#,
            "`messages[0].content[0].text`: invalid type: map, expected a string at line 1 column 61",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":7}]}]}]}"#,
            "`messages[0].content[0].content[0].text`: invalid type: integer `7`, expected a \
             string at line 1 column 113",
        ),
        (
            r#"{"system":[{"type":"text","text":5}],"messages":[]}"#,
            "`system[0].text`: invalid type: integer `5`, expected a string at line 1 column 34",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(translate_err(body), expected, "{body}");
    }
    let mut body = br#"{"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":"a"#.to_vec();
    body.extend_from_slice(b"\xc3b\"}]}]}");
    match translate_request(&body, "m", &Options::default()) {
        Err(PluginError::InvalidRequest(m)) => assert_eq!(
            m,
            "request body is not valid JSON: invalid unicode code point at line 1 column 92"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nested_tool_result_content_falls_back_and_keeps_the_depth_limit() {
    // A document with nested content inside a tool result is read on the decoding path.
    let out = translate(&json!({"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": [
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "inner\n"}]}},
            {"type": "text", "text": "outer"}
        ]}
    ]}]}));
    assert_eq!(
        out["messages"],
        json!([{"role": "tool", "tool_call_id": "t", "content": "inner\n\nouter"}])
    );
    // Nesting deeper than serde_json allows fails as it did in one parse (no stack overflow).
    let depth = 100;
    let mut body = String::from(r#"{"messages":[{"role":"user","content":"#);
    for _ in 0..depth {
        body.push_str(r#"[{"type":"tool_result","tool_use_id":"t","content":"#);
    }
    body.push_str(r#""x""#);
    for _ in 0..depth {
        body.push_str("}]");
    }
    body.push_str("}]}");
    assert!(translate_err(&body).contains("recursion limit exceeded"));
}
