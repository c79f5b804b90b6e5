//! The gateway end to end, through the real `ccr` binary, the bundled `openai` provider
//! plugin and the OpenAI-wire-format mock: every answer shape (JSON and SSE), what reaches
//! the upstream, routing, and the small endpoints.
//!
//! Upstream errors, fallback, bad input and auth are in `gateway_errors.rs`; hot reload and
//! logs in `gateway_config.rs`.

use std::collections::BTreeSet;

use crate::gateway_common::*;
use ccr_tests::fixtures::{self, ATTRIBUTION_BLOCK, IDENTITY_BLOCK};
use ccr_tests::mock::{
    CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_TEXT, REASONING_TOKENS, TEXT_ANSWER,
};
use ccr_tests::{MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

fn start(mock: &MockUpstream, default_model: &str) -> Proxy {
    Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(
        mock,
        default_model,
    )))
}

/// Non-streaming call that must succeed; returns the message.
async fn message(proxy: &Proxy, model: &str) -> Value {
    let answer = post(proxy, &request(model, false)).await;
    assert_eq!(answer.status, 200, "{model}: {}", answer.text);
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{model}"
    );
    let m = answer.json();
    assert_message_envelope(&m, model);
    m
}

/// Streaming call that must succeed; returns the checked stream.
async fn streamed(proxy: &Proxy, model: &str) -> Stream {
    let (status, headers, events) = post_stream(proxy, &request(model, true)).await;
    assert_eq!(status, 200, "{model}: {events:?}");
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("text/event-stream"),
        "{model}: content-type {content_type}"
    );
    let stream = check_stream(&events);
    assert!(stream.error.is_none(), "{model}: {:?}", stream.error);
    stream
}

#[track_caller]
fn assert_message_envelope(m: &Value, model: &str) {
    assert_eq!(m["type"], "message", "{model}: {m}");
    assert_eq!(m["role"], "assistant", "{model}: {m}");
    assert!(
        m["id"].as_str().is_some_and(|id| id.starts_with("msg_")),
        "{model}: {m}"
    );
    assert!(
        m["model"].as_str().is_some_and(|s| !s.is_empty()),
        "{model}: {m}"
    );
    assert!(m["stop_reason"].is_string(), "{model}: {m}");
    assert!(m["stop_sequence"].is_null(), "{model}: {m}");
    assert!(m["content"].is_array(), "{model}: {m}");
}

/// `usage` as Anthropic counts it from the mock's OpenAI usage: `input_tokens` excludes the
/// cached tokens, which are reported as cache reads.
#[track_caller]
fn assert_usage(usage: &Value, output_tokens: u64, what: &str) {
    assert_eq!(
        usage["input_tokens"],
        PROMPT_TOKENS - CACHED_TOKENS,
        "{what}: {usage}"
    );
    assert_eq!(
        usage["cache_read_input_tokens"], CACHED_TOKENS,
        "{what}: {usage}"
    );
    assert_eq!(usage["output_tokens"], output_tokens, "{what}: {usage}");
    if let Some(created) = usage.get("cache_creation_input_tokens") {
        assert_eq!(created, 0, "{what}: {usage}");
    }
}

/// Asserts the same content / stop reason / usage both ways.
async fn both_ways(proxy: &Proxy, model: &str, check: impl Fn(&Value, &str)) {
    let m = message(proxy, model).await;
    check(&m, &format!("{model} (JSON)"));
    let s = streamed(proxy, model).await;
    check(&s.message, &format!("{model} (stream)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_tools_and_stop_reasons_both_ways() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "text");

    both_ways(&proxy, "mock,text", |m, what| {
        assert_eq!(
            m["content"],
            json!([{"type": "text", "text": TEXT_ANSWER}]),
            "{what}: {m}"
        );
        assert_eq!(m["stop_reason"], "end_turn", "{what}");
        assert_usage(&m["usage"], COMPLETION_TOKENS, what);
    })
    .await;

    both_ways(&proxy, "mock,tools", |m, what| {
        assert_eq!(
            m["content"],
            json!([
                {"type": "tool_use", "id": "call_mock_weather", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_mock_time", "name": "get_time", "input": {"tz": "UTC"}}
            ]),
            "{what}: {m}"
        );
        assert_eq!(m["stop_reason"], "tool_use", "{what}");
        assert_usage(&m["usage"], COMPLETION_TOKENS, what);
    })
    .await;

    // The tool arguments really stream as fragments (not one blob at the end).
    let s = streamed(&proxy, "mock,tools").await;
    let weather = &s.json_fragments[0].1;
    assert!(
        weather.len() >= 2,
        "get_weather arguments should arrive in several input_json_delta: {weather:?}"
    );
    assert_eq!(weather.concat(), r#"{"city":"Paris"}"#);

    both_ways(&proxy, "mock,length", |m, what| {
        assert_eq!(
            m["content"],
            json!([{"type": "text", "text": "Hello from"}]),
            "{what}: {m}"
        );
        assert_eq!(m["stop_reason"], "max_tokens", "{what}");
    })
    .await;

    both_ways(&proxy, "mock,content-filter", |m, what| {
        assert_eq!(
            m["content"],
            json!([{"type": "text", "text": "Hello"}]),
            "{what}: {m}"
        );
        assert_eq!(m["stop_reason"], "refusal", "{what}");
    })
    .await;

    // The streamed text arrives as several text_delta events, in order.
    let (_, _, events) = post_stream(&proxy, &request("mock,text", true)).await;
    let deltas: Vec<String> = events
        .iter()
        .filter_map(|e| e.json())
        .filter(|d| d["type"] == "content_block_delta")
        .filter_map(|d| d["delta"]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(deltas, ["Hello", " from", " mock"]);
    // message_start already names the message; the stream's envelope is complete.
    let start = events[0].json().unwrap();
    assert_eq!(start["message"]["stop_sequence"], Value::Null);
    assert!(start["message"]["model"].is_string(), "{start}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_becomes_signed_thinking_blocks_both_ways() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "text");
    for model in ["mock,reasoning", "mock,reasoning-or"] {
        both_ways(&proxy, model, |m, what| {
            let content = m["content"].as_array().expect("content");
            assert_eq!(content.len(), 2, "{what}: {m}");
            assert_eq!(content[0]["type"], "thinking", "{what}: {m}");
            assert_eq!(content[0]["thinking"], REASONING_TEXT, "{what}: {m}");
            assert!(
                content[0]["signature"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{what}: thinking needs a non-empty signature: {m}"
            );
            assert_eq!(
                content[1],
                json!({"type": "text", "text": TEXT_ANSWER}),
                "{what}: {m}"
            );
            assert_eq!(m["stop_reason"], "end_turn", "{what}");
            assert_usage(&m["usage"], COMPLETION_TOKENS + REASONING_TOKENS, what);
        })
        .await;
    }
    // The thinking text streams as thinking_delta events before the text block opens.
    let (_, _, events) = post_stream(&proxy, &request("mock,reasoning", true)).await;
    let kinds: Vec<String> = events
        .iter()
        .filter_map(|e| e.json())
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| d["delta"]["type"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "thinking_delta",
            "thinking_delta",
            "signature_delta",
            "text_delta",
            "text_delta",
            "text_delta"
        ]
    );
}

/// The mock's `function-call` model answers with the legacy `function_call` field (finish
/// `function_call`), as older OpenAI-compatible servers do. Claude Code needs a `tool_use`
/// block: a `tool_use` stop reason with no tool_use block leaves it waiting for a tool call
/// that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_function_call_becomes_a_tool_use_block() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "text");
    // Both shapes are collected first so a failure shows both.
    let json_answer = message(&proxy, "mock,function-call").await;
    let stream_answer = streamed(&proxy, "mock,function-call").await.message;
    for (m, what) in [(&json_answer, "JSON"), (&stream_answer, "stream")] {
        let both = format!("\n  JSON:   {json_answer}\n  stream: {stream_answer}");
        assert_eq!(m["stop_reason"], "tool_use", "{what}: {both}");
        let content = m["content"].as_array().expect("content");
        assert_eq!(
            content.len(),
            1,
            "{what}: expected one tool_use block for the legacy function_call: {both}"
        );
        assert_eq!(content[0]["type"], "tool_use", "{what}: {both}");
        assert_eq!(content[0]["name"], "get_weather", "{what}: {both}");
        assert_eq!(
            content[0]["input"],
            json!({"city": "Paris"}),
            "{what}: {both}"
        );
        assert!(
            content[0]["id"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: {both}"
        );
    }
}

/// Every key that appears anywhere in `v` (objects at any depth).
fn all_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                all_keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_keys(v, out)),
        _ => {}
    }
}

/// The OpenAI request the mock received must carry nothing Anthropic-only.
#[track_caller]
fn assert_clean_openai_request(up: &Value, original: &Value) {
    const ALLOWED_TOP: &[&str] = &[
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning_effort",
    ];
    for key in up.as_object().expect("upstream body is an object").keys() {
        assert!(
            ALLOWED_TOP.contains(&key.as_str()),
            "unexpected top-level key {key:?} sent upstream"
        );
    }
    let mut keys = BTreeSet::new();
    all_keys(up, &mut keys);
    for banned in [
        "cache_control",
        "context_management",
        "metadata",
        "user_id",
        "output_config",
        "thinking",
        "signature",
        "input_schema",
        "tool_use_id",
    ] {
        assert!(
            !keys.contains(banned),
            "{banned:?} reached the upstream (keys: {keys:?})"
        );
    }
    let text = up.to_string();
    assert!(
        !text.contains("x-anthropic-billing-header"),
        "the attribution block reached the upstream"
    );

    let messages = up["messages"].as_array().expect("messages");
    // System: one leading system message, identity first, attribution dropped.
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().expect("system is a string");
    assert!(system.starts_with(IDENTITY_BLOCK), "{}", &system[..80]);
    assert!(!system.contains(ATTRIBUTION_BLOCK));

    // Tools are OpenAI functions, same names, same order, schemas as parameters.
    let tools = up["tools"].as_array().expect("tools");
    let originals = original["tools"].as_array().expect("original tools");
    assert_eq!(tools.len(), originals.len());
    for (tool, orig) in tools.iter().zip(originals) {
        assert_eq!(tool["type"], "function", "{tool}");
        assert_eq!(tool["function"]["name"], orig["name"], "{tool}");
        assert_eq!(
            tool["function"]["description"], orig["description"],
            "{}",
            orig["name"]
        );
        assert_eq!(
            tool["function"]["parameters"]["type"], "object",
            "{}",
            orig["name"]
        );
        assert_eq!(
            tool["function"]["parameters"]["properties"], orig["input_schema"]["properties"],
            "{}",
            orig["name"]
        );
    }

    // Every assistant tool call is answered by `tool` messages (matching ids) right after it,
    // before any user text; no user message carries a tool_result.
    for (i, m) in messages.iter().enumerate() {
        assert!(
            ["system", "user", "assistant", "tool"].contains(&m["role"].as_str().unwrap_or("")),
            "{m}"
        );
        let Some(calls) = m["tool_calls"].as_array() else {
            continue;
        };
        assert_eq!(m["role"], "assistant");
        for (k, call) in calls.iter().enumerate() {
            assert_eq!(call["type"], "function", "{call}");
            let args = call["function"]["arguments"].as_str().expect("arguments");
            assert!(
                serde_json::from_str::<Value>(args).is_ok_and(|v| v.is_object()),
                "{args}"
            );
            let answer = &messages[i + 1 + k];
            assert_eq!(
                answer["role"],
                "tool",
                "message {} after call {k}",
                i + 1 + k
            );
            assert_eq!(answer["tool_call_id"], call["id"]);
            assert!(answer["content"].is_string(), "{answer}");
        }
    }
    let tool_messages = messages.iter().filter(|m| m["role"] == "tool").count();
    let tool_results = original["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["type"] == "tool_result")
        .count();
    assert_eq!(tool_messages, tool_results);
    assert!(tool_results >= 4, "the fixture should have a real history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_requests_reach_the_upstream_as_clean_openai() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "echo");
    let mut headers = fixtures::claude_code_headers();
    headers.push(("x-api-key", "sk-ant-inbound-should-not-leak"));

    for stream in [false, true] {
        let original = fixtures::claude_code_request(80_000, stream);
        assert_eq!(original["tools"].as_array().unwrap().len(), 24);
        let bytes = serde_json::to_vec(&original).unwrap();
        mock.clear_requests();
        // Claude Code posts to `/v1/messages?beta=true`: the query must not matter.
        let response = proxy
            .client()
            .post(format!("{}/v1/messages?beta=true", proxy.base_url()))
            .headers({
                let mut map = reqwest::header::HeaderMap::new();
                for &(k, v) in &headers {
                    map.insert(
                        reqwest::header::HeaderName::from_static(k),
                        v.parse().unwrap(),
                    );
                }
                map
            })
            .body(bytes)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "stream={stream}");
        let answer = if stream {
            let text = response.text().await.unwrap();
            let s = check_stream(&ccr_tests::sse::parse(&text));
            assert!(s.error.is_none(), "{:?}", s.error);
            s.message
        } else {
            response.json::<Value>().await.unwrap()
        };

        assert_eq!(mock.request_count(), 1, "one upstream call per request");
        let up = mock.last_request().unwrap();
        assert_eq!(up.method, "POST");
        assert_eq!(
            up.path, "/v1/chat/completions",
            "the query is not forwarded"
        );
        assert_eq!(up.header("authorization"), Some("Bearer sk-mock"));
        assert_eq!(
            up.header("x-api-key"),
            None,
            "the client's key must not leak"
        );
        assert!(
            !up.headers
                .iter()
                .any(|(_, v)| v.contains("sk-ant-inbound-should-not-leak")),
            "the client's key must not leak: {:?}",
            up.headers
        );
        let body = &up.body;
        assert_eq!(body["model"], "echo");
        assert_eq!(body["max_tokens"], 32000);
        assert_eq!(body["reasoning_effort"], "high", "adaptive + effort high");
        if stream {
            assert_eq!(body["stream"], true);
            assert_eq!(body["stream_options"]["include_usage"], true);
        } else {
            assert_ne!(body["stream"], true);
            assert!(body.get("stream_options").is_none());
        }
        assert_clean_openai_request(body, &original);
        // The echo (the upstream body as the mock parsed it) comes back intact, ~80 KB of
        // text through the translation (and, streamed, through the SSE relay).
        assert_eq!(&echoed(&answer), body, "stream={stream}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_requests_translate_exactly() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "echo");

    // tool_result → `tool` messages first, then the user's text, in one turn.
    let req = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "system": [
            {"type": "text", "text": ATTRIBUTION_BLOCK},
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [{
            "name": "Bash",
            "description": "Run a command",
            "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
            "cache_control": {"type": "ephemeral"}
        }],
        "messages": [
            {"role": "user", "content": "List files"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "toolu_A", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_B", "name": "Bash", "input": {"command": "pwd"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_A", "content": "a.txt"},
                {"type": "tool_result", "tool_use_id": "toolu_B", "content": [{"type": "text", "text": "/home"}]},
                {"type": "text", "text": "Now explain.", "cache_control": {"type": "ephemeral"}}
            ]}
        ],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "low"},
        "metadata": {"user_id": "user_x_account__session_abc"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
    });
    let m = message_with(&proxy, &req).await;
    let up = echoed(&m);
    assert_eq!(&up, &mock.last_request().unwrap().body);
    assert_eq!(up["reasoning_effort"], "low");
    assert_eq!(
        up["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(up["messages"][1]["role"], "user");
    let assistant = &up["messages"][2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["content"], "Listing.");
    let calls = assistant["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "toolu_A");
    assert_eq!(calls[0]["function"]["name"], "Bash");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"command": "ls"}));
    assert_eq!(
        up["messages"][3],
        json!({"role": "tool", "tool_call_id": "toolu_A", "content": "a.txt"})
    );
    assert_eq!(
        up["messages"][4],
        json!({"role": "tool", "tool_call_id": "toolu_B", "content": "/home"})
    );
    let user = &up["messages"][5];
    assert_eq!(user["role"], "user");
    let user_text = match &user["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        other => panic!("user content {other}"),
    };
    assert_eq!(user_text, "Now explain.");
    assert_eq!(up["messages"].as_array().unwrap().len(), 6);
    assert_eq!(
        up["tools"],
        json!([{"type": "function", "function": {
            "name": "Bash",
            "description": "Run a command",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
        }}])
    );
    assert_clean_keys(&up);

    // Thinking mappings: enabled budgets, disabled, absent.
    for (thinking, expected) in [
        (
            json!({"type": "enabled", "budget_tokens": 1024}),
            json!("low"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 4000}),
            json!("medium"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 20000}),
            json!("high"),
        ),
        (json!({"type": "adaptive"}), json!("medium")),
        (json!({"type": "disabled"}), Value::Null),
        (Value::Null, Value::Null),
    ] {
        let mut req = request("claude-sonnet-4-5", false);
        if !thinking.is_null() {
            req["thinking"] = thinking.clone();
        }
        let up = echoed(&message_with(&proxy, &req).await);
        assert_eq!(up["reasoning_effort"], expected, "thinking {thinking}");
        assert_clean_keys(&up);
    }

    // A web search server tool cannot run on an OpenAI upstream: it is not sent as a function.
    let mut req = request("claude-sonnet-4-5", false);
    req["tools"] = json!([
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Read", "description": "Read a file", "input_schema": {"type": "object", "properties": {}}}
    ]);
    let up = echoed(&message_with(&proxy, &req).await);
    let names: Vec<&str> = up["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Read"]);
}

#[track_caller]
fn assert_clean_keys(up: &Value) {
    let mut keys = BTreeSet::new();
    all_keys(up, &mut keys);
    for banned in [
        "cache_control",
        "context_management",
        "metadata",
        "output_config",
        "thinking",
    ] {
        assert!(
            !keys.contains(banned),
            "{banned} reached the upstream: {up}"
        );
    }
}

async fn message_with(proxy: &Proxy, body: &Value) -> Value {
    let answer = post(proxy, body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_picks_the_configured_model_per_scenario() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "route-default");
    let models = config["Providers"][0]["models"].as_array_mut().unwrap();
    for m in [
        "route-background",
        "route-think",
        "route-long",
        "route-websearch",
    ] {
        models.push(json!(m));
    }
    config["Router"] = json!({
        "default": "mock,route-default",
        "background": "mock,route-background",
        "think": "mock,route-think",
        "longContext": "mock,route-long",
        "longContextThreshold": 1000,
        "webSearch": "mock,route-websearch"
    });
    let proxy = Proxy::start(ProxyOptions::new(config));

    async fn routed(proxy: &Proxy, mock: &MockUpstream, body: &Value) -> String {
        let answer = post(proxy, body).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(text_of(&answer.json()), TEXT_ANSWER);
        last_upstream_model(mock).expect("an upstream call")
    }

    // default
    let body = request("claude-sonnet-4-5-20250929", false);
    assert_eq!(routed(&proxy, &mock, &body).await, "route-default");
    // background: a Claude Haiku model
    let body = request("claude-3-5-haiku-20241022", false);
    assert_eq!(routed(&proxy, &mock, &body).await, "route-background");
    let body = request("claude-haiku-4-5", true);
    let (status, _, events) = post_stream(&proxy, &body).await;
    assert_eq!(status, 200);
    check_stream(&events);
    assert_eq!(last_upstream_model(&mock).unwrap(), "route-background");
    // think: thinking enabled (or adaptive)
    let mut body = request("claude-sonnet-4-5", false);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    assert_eq!(routed(&proxy, &mock, &body).await, "route-think");
    body["thinking"] = json!({"type": "adaptive"});
    assert_eq!(routed(&proxy, &mock, &body).await, "route-think");
    body["thinking"] = json!({"type": "disabled"});
    assert_eq!(routed(&proxy, &mock, &body).await, "route-default");
    // webSearch: a web_search server tool
    let mut body = request("claude-sonnet-4-5", false);
    body["tools"] = json!([{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]);
    assert_eq!(routed(&proxy, &mock, &body).await, "route-websearch");
    // longContext: above the threshold (1000 tokens); beats think and background.
    let big = fixtures::claude_code_request(20_000, false);
    assert_eq!(routed(&proxy, &mock, &big).await, "route-long");
    let mut big_haiku = big.clone();
    big_haiku["model"] = json!("claude-3-5-haiku-20241022");
    assert_eq!(routed(&proxy, &mock, &big_haiku).await, "route-long");
    // explicit provider,model wins over everything and is used as given
    let mut body = big.clone();
    body["model"] = json!("mock,tools");
    let answer = post(&proxy, &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["stop_reason"], "tool_use");
    assert_eq!(last_upstream_model(&mock).unwrap(), "tools");
    let body = request("MOCK,text", false);
    assert_eq!(
        routed(&proxy, &mock, &body).await,
        "text",
        "provider names ignore case"
    );

    // subagent: a <CCR-SUBAGENT-MODEL> tag at the start of a system text block picks the
    // model, and the tag itself never reaches the upstream (the host re-encodes the body).
    let mut body = request("claude-sonnet-4-5", false);
    body["system"] = json!([
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "<CCR-SUBAGENT-MODEL>mock,route-websearch</CCR-SUBAGENT-MODEL>You are a \"sub-agent\".\nBe brief."}
    ]);
    assert_eq!(routed(&proxy, &mock, &body).await, "route-websearch");
    let upstream = mock.last_request().expect("an upstream call").body;
    let sent = serde_json::to_string(&upstream["messages"]).unwrap();
    assert!(!sent.contains("CCR-SUBAGENT-MODEL"), "{sent}");
    assert!(
        sent.contains(r#"You are a \"sub-agent\".\nBe brief."#),
        "{sent}"
    );
    assert!(sent.contains("You are Claude Code."), "{sent}");

    // An unknown provider: an Anthropic-shaped 404 not_found_error (host/src/server/error.rs
    // maps RouteError::UnknownProvider so) naming it and the known ones; no upstream call.
    let calls = mock.request_count();
    for stream in [false, true] {
        let answer = post(&proxy, &request("nope,text", stream)).await;
        let message = assert_error(&answer, 404, "not_found_error");
        assert!(message.contains("nope"), "{message}");
        assert!(message.contains("mock"), "{message}");
        assert_eq!(answer.header("x-should-retry"), Some("false"));
    }
    let answer = post(&proxy, &request(",text", false)).await;
    assert_error(&answer, 400, "invalid_request_error");
    assert_eq!(mock.request_count(), calls, "nothing was sent upstream");
    // ...and the server keeps serving.
    let body = request("claude-sonnet-4-5", false);
    assert_eq!(routed(&proxy, &mock, &body).await, "route-default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_endpoints() {
    let mock = MockUpstream::start();
    let proxy = start(&mock, "text");

    // GET / and HEAD /
    let root = get(&proxy, "/", &[]).await;
    assert_eq!(root.status, 200, "{}", root.text);
    assert!(root.json().is_object());
    let head = proxy
        .client()
        .head(format!("{}/", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap().is_empty());

    // /health
    let h = health(&proxy).await;
    assert_eq!(h["status"], "ok");
    assert!(h["config_error"].is_null(), "{h}");
    let plugins = h["plugins"].as_array().expect("plugins list");
    let openai = plugins
        .iter()
        .find(|p| p["name"] == "openai")
        .unwrap_or_else(|| panic!("the bundled openai plugin is listed: {h}"));
    assert_eq!(openai["kind"], "provider");
    assert_eq!(openai["source"], "bundled");
    assert_eq!(openai["status"], "ok");
    assert!(
        h["plugin_errors"].as_array().is_some_and(|e| e.is_empty()),
        "{h}"
    );

    // /v1/models
    let models = get(&proxy, "/v1/models", &[]).await;
    assert_eq!(models.status, 200, "{}", models.text);
    let models = models.json();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"mock,text"), "{ids:?}");
    assert!(ids.contains(&"mock,tools"), "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("mock,")), "{ids:?}");
    for m in models["data"].as_array().unwrap() {
        assert_eq!(m["type"], "model", "{m}");
        assert!(m["display_name"].is_string(), "{m}");
        assert!(m["created_at"].is_string(), "{m}");
    }
    assert_eq!(models["has_more"], false);
    assert_eq!(models["first_id"], json!(ids[0]));
    assert_eq!(models["last_id"], json!(ids[ids.len() - 1]));
    let with_query = get(&proxy, "/v1/models?limit=1000", &[]).await;
    assert_eq!(with_query.status, 200);

    // count_tokens: positive, deterministic, growing with the request; never calls upstream.
    let calls = mock.request_count();
    let count = |body: Value| {
        let proxy = &proxy;
        async move {
            let answer = post_raw(
                proxy,
                "/v1/messages/count_tokens?beta=true",
                serde_json::to_vec(&body).unwrap(),
                &[
                    ("content-type", "application/json"),
                    ("anthropic-version", "2023-06-01"),
                ],
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            let v = answer.json();
            assert_eq!(v.as_object().unwrap().len(), 1, "only input_tokens: {v}");
            v["input_tokens"].as_u64().expect("input_tokens")
        }
    };
    let small = json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hello there"}]});
    let a = count(small.clone()).await;
    let b = count(small.clone()).await;
    assert!(a > 0);
    assert_eq!(a, b, "identical bodies, identical counts");
    let mut longer = small.clone();
    longer["messages"][0]["content"] = json!("Hello there. ".repeat(200));
    let c = count(longer).await;
    assert!(c > a, "{c} > {a}");
    let mut big = fixtures::claude_code_request(80_000, false);
    big.as_object_mut().unwrap().remove("max_tokens");
    big.as_object_mut().unwrap().remove("stream");
    let d = count(big.clone()).await;
    assert!(d > c, "{d} > {c}");
    assert!(d > 10_000, "an 80 KB request is well over 10k tokens: {d}");
    assert_eq!(count(big).await, d);
    assert_eq!(
        mock.request_count(),
        calls,
        "count_tokens never calls the upstream"
    );
}

/// The stream validator itself: it accepts Anthropic's documented example and rejects
/// streams that break the grammar, so the tests above are not vacuous.
mod validator {
    use crate::gateway_common::check_stream;
    use ccr_tests::sse;

    const GOOD: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: ping\ndata: {\"type\": \"ping\"}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"f\",\"input\":{}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n\
event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    #[test]
    fn accepts_a_valid_stream() {
        let s = check_stream(&sse::parse(GOOD));
        assert_eq!(s.pings, 1);
        assert_eq!(s.message["content"][0]["text"], "Hi");
        assert_eq!(
            s.message["content"][1]["input"],
            serde_json::json!({"a": 1})
        );
        assert_eq!(s.message["stop_reason"], "tool_use");
        assert_eq!(s.message["usage"]["output_tokens"], 9);
    }

    fn broken(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    }

    #[test]
    #[should_panic(expected = "did not end with message_stop")]
    fn rejects_a_missing_message_stop() {
        check_stream(&sse::parse(&broken(
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            "",
        )));
    }

    #[test]
    #[should_panic(expected = "block index 2, expected 1")]
    fn rejects_skipped_indexes() {
        check_stream(&sse::parse(&broken(
            "\"index\":1,\"content_block\"",
            "\"index\":2,\"content_block\"",
        )));
    }

    #[test]
    #[should_panic(expected = "is not JSON")]
    fn rejects_unparsable_tool_input() {
        check_stream(&sse::parse(&broken(
            "\"partial_json\":\"1}\"",
            "\"partial_json\":\"1\"",
        )));
    }

    #[test]
    #[should_panic(expected = "message_delta while block 1 is open")]
    fn rejects_unclosed_blocks() {
        check_stream(&sse::parse(&broken(
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
            "",
        )));
    }

    #[test]
    #[should_panic(expected = "after an error event")]
    fn rejects_events_after_an_error() {
        check_stream(&sse::parse(&broken(
            "event: message_delta",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}\n\nevent: message_delta",
        )));
    }
}
