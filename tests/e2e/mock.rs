//! Tests of the mock upstream itself: it must speak OpenAI's wire format exactly, because every
//! end-to-end test trusts it. No ccr binary needed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ccr_tests::mock::{
    BASH_TOOL_ARGUMENTS, CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_SIGNATURE,
    REASONING_TEXT, REASONING_TOKENS, TEXT_ANSWER,
};
use ccr_tests::sse::{self, SseEvent};
use ccr_tests::{MockOptions, MockUpstream};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn post(mock: &MockUpstream, body: Value) -> reqwest::Response {
    client()
        .post(mock.chat_url())
        .header("authorization", "Bearer sk-test")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn complete(mock: &MockUpstream, model: &str) -> Value {
    let response = post(
        mock,
        json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status(), 200, "model {model}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "model {model}"
    );
    response.json().await.unwrap()
}

async fn stream(mock: &MockUpstream, model: &str, include_usage: bool) -> Vec<SseEvent> {
    let mut body =
        json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    let response = post(mock, body).await;
    assert_eq!(response.status(), 200, "model {model}");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    sse::read(response).await
}

/// What a client assembles from a chunk stream.
#[derive(Debug, Default)]
struct Assembled {
    content: String,
    reasoning_content: String,
    reasoning: String,
    signature: Option<String>,
    tool_calls: BTreeMap<u64, (String, String, String)>,
    function_call: (String, String),
    finish_reason: Option<String>,
    usage: Option<Value>,
    done: bool,
}

/// Checks every chunk's envelope and assembles the answer.
fn assemble(events: &[SseEvent], model: &str, include_usage: bool) -> Assembled {
    let mut out = Assembled::default();
    let mut id = None;
    for (i, event) in events.iter().enumerate() {
        assert!(event.event.is_none(), "OpenAI streams have no event names");
        if event.data == "[DONE]" {
            assert_eq!(i, events.len() - 1, "[DONE] is last");
            out.done = true;
            continue;
        }
        let chunk = event.json().expect("every chunk is JSON");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], model);
        assert!(chunk["created"].is_u64());
        let chunk_id = chunk["id"].as_str().unwrap().to_string();
        assert!(chunk_id.starts_with("chatcmpl-"));
        assert_eq!(
            id.get_or_insert(chunk_id.clone()),
            &chunk_id,
            "one id per stream"
        );
        assert_eq!(
            chunk.get("usage").is_some(),
            include_usage,
            "usage key only with include_usage"
        );
        let choices = chunk["choices"].as_array().unwrap();
        if choices.is_empty() {
            assert!(include_usage);
            out.usage = Some(chunk["usage"].clone());
            continue;
        }
        if include_usage {
            assert!(chunk["usage"].is_null());
        }
        let choice = &choices[0];
        assert_eq!(choice["index"], 0);
        assert!(choice["logprobs"].is_null());
        let delta = &choice["delta"];
        if i == 0 {
            assert_eq!(delta["role"], "assistant", "role in the first delta");
        } else {
            assert!(delta.get("role").is_none());
        }
        if let Some(text) = delta["content"].as_str() {
            out.content.push_str(text);
        }
        if let Some(text) = delta["reasoning_content"].as_str() {
            out.reasoning_content.push_str(text);
        }
        if let Some(text) = delta["reasoning"].as_str() {
            out.reasoning.push_str(text);
        }
        if let Some(details) = delta["reasoning_details"].as_array() {
            for detail in details {
                assert_eq!(detail["type"], "reasoning.text");
                if let Some(signature) = detail["signature"].as_str() {
                    out.signature = Some(signature.to_string());
                }
            }
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().expect("tool call index");
            let entry = out.tool_calls.entry(index).or_default();
            if let Some(id) = call["id"].as_str() {
                assert_eq!(call["type"], "function");
                entry.0 = id.to_string();
                entry.1 = call["function"]["name"].as_str().unwrap().to_string();
            }
            if let Some(arguments) = call["function"]["arguments"].as_str() {
                entry.2.push_str(arguments);
            }
        }
        if let Some(name) = delta["function_call"]["name"].as_str() {
            out.function_call.0 = name.to_string();
        }
        if let Some(arguments) = delta["function_call"]["arguments"].as_str() {
            out.function_call.1.push_str(arguments);
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            assert!(out.finish_reason.is_none(), "one finish chunk");
            assert_eq!(delta, &json!({}), "the finish chunk has an empty delta");
            out.finish_reason = Some(reason.to_string());
        }
    }
    out
}

fn assert_usage(usage: &Value, reasoning: u64) {
    assert_eq!(usage["prompt_tokens"], PROMPT_TOKENS);
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        CACHED_TOKENS
    );
    assert_eq!(usage["completion_tokens"], COMPLETION_TOKENS + reasoning);
    assert_eq!(
        usage["total_tokens"],
        PROMPT_TOKENS + COMPLETION_TOKENS + reasoning
    );
    assert_eq!(
        usage["completion_tokens_details"]["reasoning_tokens"],
        reasoning
    );
}

#[tokio::test]
async fn text_non_streaming() {
    let mock = MockUpstream::start();
    let body = complete(&mock, "text").await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "text");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], TEXT_ANSWER);
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["logprobs"].is_null());
    assert_usage(&body["usage"], 0);
    // Unknown names answer like `text`.
    let body = complete(&mock, "gpt-4o-mini").await;
    assert_eq!(body["choices"][0]["message"]["content"], TEXT_ANSWER);
}

#[tokio::test]
async fn text_streaming_with_and_without_usage() {
    let mock = MockUpstream::start();
    let events = stream(&mock, "text", true).await;
    assert!(events.len() >= 6, "several deltas: {events:?}");
    let out = assemble(&events, "text", true);
    assert_eq!(out.content, TEXT_ANSWER);
    assert_eq!(out.finish_reason.as_deref(), Some("stop"));
    assert!(out.done);
    assert_usage(out.usage.as_ref().expect("usage chunk"), 0);
    // The usage chunk comes right before [DONE].
    assert_eq!(
        events[events.len() - 2].json().unwrap()["choices"],
        json!([])
    );

    let events = stream(&mock, "text", false).await;
    let out = assemble(&events, "text", false);
    assert_eq!(out.content, TEXT_ANSWER);
    assert!(out.usage.is_none());
    assert!(out.done);
}

#[tokio::test]
async fn sse_framing_is_exact() {
    let mock = MockUpstream::start();
    let text = post(
        &mock,
        json!({"model": "text", "stream": true, "messages": []}),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(text.starts_with("data: {"));
    assert!(text.ends_with("\n\ndata: [DONE]\n\n"));
    for event in text.split_terminator("\n\n") {
        assert!(
            event.starts_with("data: ") && !event.contains('\n'),
            "{event:?}"
        );
    }
}

#[tokio::test]
async fn tools_streaming_assembles_two_parallel_calls() {
    let mock = MockUpstream::start();
    let events = stream(&mock, "tools", true).await;
    let out = assemble(&events, "tools", true);
    assert_eq!(out.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(out.content, "");
    assert_eq!(out.tool_calls.len(), 2);
    let (id0, name0, args0) = &out.tool_calls[&0];
    let (id1, name1, args1) = &out.tool_calls[&1];
    assert_eq!(
        (id0.as_str(), name0.as_str()),
        ("call_mock_weather", "get_weather")
    );
    assert_eq!(
        (id1.as_str(), name1.as_str()),
        ("call_mock_time", "get_time")
    );
    assert_eq!(
        serde_json::from_str::<Value>(args0).unwrap(),
        json!({"city": "Paris"})
    );
    assert_eq!(
        serde_json::from_str::<Value>(args1).unwrap(),
        json!({"tz": "UTC"})
    );

    // Fragments really are interleaved: index 1 appears before index 0's last fragment.
    let indexes: Vec<u64> = events
        .iter()
        .filter_map(|e| e.json())
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["index"].as_u64())
        .collect();
    let first_one = indexes.iter().position(|&i| i == 1).unwrap();
    let last_zero = indexes.iter().rposition(|&i| i == 0).unwrap();
    assert!(first_one < last_zero, "{indexes:?}");
}

#[tokio::test]
async fn tools_non_streaming() {
    let mock = MockUpstream::start();
    let body = complete(&mock, "tools").await;
    let message = &body["choices"][0]["message"];
    assert!(message["content"].is_null());
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let calls = message["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(calls[0]["function"]["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(calls[1]["function"]["name"], "get_time");
    assert_eq!(calls[1]["function"]["arguments"], r#"{"tz":"UTC"}"#);
}

#[tokio::test]
async fn reasoning_both_styles() {
    let mock = MockUpstream::start();
    let out = assemble(&stream(&mock, "reasoning", true).await, "reasoning", true);
    assert_eq!(out.reasoning_content, REASONING_TEXT);
    assert_eq!(out.content, TEXT_ANSWER);
    assert_usage(out.usage.as_ref().unwrap(), REASONING_TOKENS);
    let body = complete(&mock, "reasoning").await;
    assert_eq!(
        body["choices"][0]["message"]["reasoning_content"],
        REASONING_TEXT
    );
    assert_eq!(body["choices"][0]["message"]["content"], TEXT_ANSWER);

    let out = assemble(
        &stream(&mock, "reasoning-or", false).await,
        "reasoning-or",
        false,
    );
    assert_eq!(out.reasoning, REASONING_TEXT);
    assert_eq!(out.reasoning_content, "");
    assert_eq!(out.signature.as_deref(), Some(REASONING_SIGNATURE));
    assert_eq!(out.content, TEXT_ANSWER);
    let body = complete(&mock, "reasoning-or").await;
    let message = &body["choices"][0]["message"];
    assert_eq!(message["reasoning"], REASONING_TEXT);
    assert_eq!(
        message["reasoning_details"][0]["signature"],
        REASONING_SIGNATURE
    );
}

#[tokio::test]
async fn finish_reasons() {
    let mock = MockUpstream::start();
    for (model, reason, text) in [
        ("length", "length", "Hello from"),
        ("content-filter", "content_filter", "Hello"),
        ("stop", "stop", TEXT_ANSWER),
    ] {
        let out = assemble(&stream(&mock, model, false).await, model, false);
        assert_eq!(out.finish_reason.as_deref(), Some(reason));
        assert_eq!(out.content, text);
        let body = complete(&mock, model).await;
        assert_eq!(body["choices"][0]["finish_reason"], reason);
        assert_eq!(body["choices"][0]["message"]["content"], text);
    }
    let out = assemble(
        &stream(&mock, "function-call", false).await,
        "function-call",
        false,
    );
    assert_eq!(out.finish_reason.as_deref(), Some("function_call"));
    assert_eq!(out.function_call.0, "get_weather");
    assert_eq!(out.function_call.1, r#"{"city":"Paris"}"#);
    let body = complete(&mock, "function-call").await;
    assert_eq!(
        body["choices"][0]["message"]["function_call"]["name"],
        "get_weather"
    );
}

#[tokio::test]
async fn http_errors_have_openai_bodies() {
    let mock = MockUpstream::start();
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "invalid_request_error"),
        (404, "invalid_request_error"),
        (413, "invalid_request_error"),
        (429, "requests"),
        (500, "server_error"),
        (503, "server_error"),
    ] {
        let model = format!("error-{status}");
        for streaming in [false, true] {
            let response = post(
                &mock,
                json!({"model": model, "stream": streaming, "messages": []}),
            )
            .await;
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()["content-type"], "application/json");
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            assert_eq!(retry_after.as_deref(), (status == 429).then_some("1"));
            let body: Value = response.json().await.unwrap();
            let error = body["error"].as_object().expect("error object");
            assert_eq!(error.len(), 4, "{body}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert_eq!(error["type"], kind, "{body}");
            assert!(error["param"].is_null());
            assert!(error.contains_key("code"));
        }
    }
    let response = post(&mock, json!({"model": "context-length", "messages": []})).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
}

#[tokio::test]
async fn midstream_error_event_ends_the_stream() {
    let mock = MockUpstream::start();
    let events = stream(&mock, "midstream-error", true).await;
    let last = events.last().unwrap().json().unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    assert!(last["error"]["message"].is_string());
    assert!(last.get("choices").is_none());
    assert!(events.iter().all(|e| e.data != "[DONE]"));
    let text: String = events
        .iter()
        .filter_map(|e| e.json())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(text, "Hello from");
    // Non-streaming: 200 with an error body.
    let body = complete(&mock, "midstream-error").await;
    assert_eq!(body["error"]["type"], "server_error");
}

#[tokio::test]
async fn malformed_json_and_chunk() {
    let mock = MockUpstream::start();
    let response = post(&mock, json!({"model": "malformed", "messages": []})).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    let events = stream(&mock, "malformed", false).await;
    assert!(events[0].json().is_some());
    assert!(events
        .iter()
        .any(|e| e.data != "[DONE]" && e.json().is_none()));
    assert_eq!(events.last().unwrap().data, "[DONE]");
}

#[tokio::test]
async fn drop_cuts_the_connection() {
    let mock = MockUpstream::start();
    let response = post(
        &mock,
        json!({"model": "drop", "stream": true, "messages": []}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.is_err(), "the stream is cut");

    let response = post(&mock, json!({"model": "drop", "messages": []})).await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body is cut");

    let result = client()
        .post(mock.chat_url())
        .json(&json!({"model": "drop-early", "messages": []}))
        .send()
        .await;
    assert!(result.is_err(), "no response at all: {result:?}");
    // The mock still serves after all that.
    assert_eq!(
        complete(&mock, "text").await["choices"][0]["message"]["content"],
        TEXT_ANSWER
    );
}

#[tokio::test]
async fn echo_returns_the_request_and_records_headers() {
    let mock = MockUpstream::start();
    let request = json!({
        "model": "mock/echo",
        "max_tokens": 1234,
        "messages": [{"role": "user", "content": "héllo \"quoted\""}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    });
    let body = complete_body(&mock, request.clone()).await;
    let echoed: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(echoed, request);

    let mut streaming = request.clone();
    streaming["stream"] = json!(true);
    let events = sse::read(post(&mock, streaming.clone()).await).await;
    let out = assemble(&events, "mock/echo", false);
    assert_eq!(
        serde_json::from_str::<Value>(&out.content).unwrap(),
        streaming
    );

    let recorded = mock.last_request().unwrap();
    assert_eq!(recorded.method, "POST");
    assert_eq!(recorded.path, "/v1/chat/completions");
    assert_eq!(recorded.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(recorded.body, streaming);
    assert_eq!(mock.request_count(), 2);
    mock.clear_requests();
    assert!(mock.requests().is_empty());
}

async fn complete_body(mock: &MockUpstream, request: Value) -> Value {
    let response = post(mock, request).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn bash_tool_round_trip() {
    let mock = MockUpstream::start();
    let first = json!({"model": "bash-tool", "messages": [
        {"role": "system", "content": "You are Claude Code"},
        {"role": "user", "content": "run it"}
    ]});
    let body = complete_body(&mock, first).await;
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(call["function"]["name"], "Bash");
    assert_eq!(call["function"]["arguments"], BASH_TOOL_ARGUMENTS);
    let args: Value = serde_json::from_str(BASH_TOOL_ARGUMENTS).unwrap();
    assert_eq!(args["command"], "echo ccr-roundtrip-$((6*7))");

    let second = json!({"model": "bash-tool", "stream": true, "messages": [
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_mock_bash", "content": [{"type": "text", "text": "ccr-roundtrip-42\n"}]},
        {"role": "user", "content": "<system-reminder>note</system-reminder>"}
    ]});
    let out = assemble(
        &sse::read(post(&mock, second).await).await,
        "bash-tool",
        false,
    );
    assert_eq!(out.content, "The command printed: ccr-roundtrip-42");
    assert_eq!(out.finish_reason.as_deref(), Some("stop"));
}

#[tokio::test]
async fn slow_first_byte_and_slow_stream() {
    let mock = MockUpstream::start();
    let start = Instant::now();
    let body = complete(&mock, "slow-first-byte-150").await;
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(body["choices"][0]["message"]["content"], TEXT_ANSWER);

    // The head and role chunk arrive at once; then every event waits.
    let start = Instant::now();
    let mut response = post(
        &mock,
        json!({"model": "slow-stream-40", "stream": true, "messages": []}),
    )
    .await;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"role\":\"assistant\""));
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    // 3 text chunks + finish + [DONE] after the role chunk.
    assert!(start.elapsed() >= Duration::from_millis(5 * 40));
    let mut all = first.to_vec();
    all.extend_from_slice(&rest);
    let out = assemble(
        &sse::parse(&String::from_utf8(all).unwrap()),
        "slow-stream-40",
        false,
    );
    assert_eq!(out.content, TEXT_ANSWER);
}

#[tokio::test]
async fn models_not_found_and_bad_json() {
    let mock = MockUpstream::start();
    let models: Value = client()
        .get(format!("{}/v1/models", mock.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    assert!(models["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "tools"));

    let response = client()
        .post(format!("{}/v1/embeddings", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].is_string());

    let response = client()
        .post(mock.chat_url())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        mock.last_request().unwrap().body,
        Value::String("{not json".into())
    );
}

#[tokio::test]
async fn static_mode_answers_without_recording() {
    let mock = MockUpstream::start_with(MockOptions {
        static_responses: true,
        record: false,
        worker_threads: 2,
        ..MockOptions::default()
    });
    let body = complete_body(&mock, json!({"model": "tools", "messages": []})).await;
    assert_eq!(body["choices"][0]["message"]["content"], TEXT_ANSWER);
    let events = sse::read(
        post(
            &mock,
            json!({"model": "x", "stream": true, "stream_options": {"include_usage": true}, "messages": []}),
        )
        .await,
    )
    .await;
    let out = assemble(&events, "static", true);
    assert_eq!(out.content, TEXT_ANSWER);
    assert!(out.usage.is_some());
    assert_eq!(mock.request_count(), 0);

    // The `static` model on a normal mock gives the same answer.
    let mock = MockUpstream::start();
    assert_eq!(
        complete(&mock, "static").await["choices"][0]["message"]["content"],
        TEXT_ANSWER
    );
}

#[test]
fn works_from_sync_code_and_shuts_down_on_drop() {
    let mock = MockUpstream::start();
    let addr = format!("127.0.0.1:{}", mock.port());
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    drop(mock);
    // Shutdown is asynchronous: give the runtime a moment to close the listener.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(Instant::now() < deadline, "still listening after drop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A `POST /v1/messages` to the mock's Anthropic wire with `headers`.
async fn post_anthropic(
    mock: &MockUpstream,
    headers: &[(&str, &str)],
    body: Value,
) -> reqwest::Response {
    let mut request = client().post(mock.messages_url()).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

const ANTHROPIC_HEADERS: &[(&str, &str)] = &[
    ("x-api-key", "sk-mock"),
    ("anthropic-version", "2023-06-01"),
];

fn anthropic_request(model: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn anthropic_wire_is_strict_like_the_real_api() {
    let mock = MockUpstream::start();
    let refused = |status: u16, kind: &'static str| {
        move |(got, body): (u16, Value)| {
            assert_eq!(got, status, "{body}");
            assert_eq!(body["type"], "error", "{body}");
            assert_eq!(body["error"]["type"], kind, "{body}");
        }
    };
    let call = |headers: &'static [(&'static str, &'static str)], body: Value| {
        let mock = &mock;
        async move {
            let r = post_anthropic(mock, headers, body).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    refused(401, "authentication_error")(
        call(
            &[("anthropic-version", "2023-06-01")],
            anthropic_request("text", false),
        )
        .await,
    );
    refused(400, "invalid_request_error")(
        call(
            &[("x-api-key", "sk-mock")],
            anthropic_request("text", false),
        )
        .await,
    );
    let mut no_max_tokens = anthropic_request("text", false);
    no_max_tokens.as_object_mut().unwrap().remove("max_tokens");
    refused(400, "invalid_request_error")(call(ANTHROPIC_HEADERS, no_max_tokens).await);
    let mut no_messages = anthropic_request("text", false);
    no_messages["messages"] = json!([]);
    refused(400, "invalid_request_error")(call(ANTHROPIC_HEADERS, no_messages).await);
    let mut system_role = anthropic_request("text", false);
    system_role["messages"] = json!([{"role": "system", "content": "be brief"},
                                     {"role": "user", "content": "hi"}]);
    refused(400, "invalid_request_error")(call(ANTHROPIC_HEADERS, system_role).await);
    let mut orphan_result = anthropic_request("text", false);
    orphan_result["messages"] = json!([
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_b", "content": "x"}]},
    ]);
    refused(400, "invalid_request_error")(call(ANTHROPIC_HEADERS, orphan_result.clone()).await);
    orphan_result["messages"][2]["content"][0]["tool_use_id"] = json!("toolu_a");
    let (status, body) = call(ANTHROPIC_HEADERS, orphan_result).await;
    assert_eq!(status, 200, "{body}");
    refused(429, "rate_limit_error")(
        call(ANTHROPIC_HEADERS, anthropic_request("error-429", false)).await,
    );
    refused(529, "overloaded_error")(
        call(ANTHROPIC_HEADERS, anthropic_request("error-529", false)).await,
    );
}

#[tokio::test]
async fn anthropic_wire_whole_answers_and_streams() {
    let mock = MockUpstream::start();
    let r = post_anthropic(&mock, ANTHROPIC_HEADERS, anthropic_request("tools", false)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(body["stop_sequence"], Value::Null);
    assert_eq!(body["content"][0]["type"], "tool_use");
    assert_eq!(body["content"][0]["input"], json!({"city": "Paris"}));
    assert_eq!(body["content"][1]["input"], json!({"tz": "UTC"}));
    assert_eq!(body["usage"]["input_tokens"], PROMPT_TOKENS - CACHED_TOKENS);
    assert_eq!(body["usage"]["cache_read_input_tokens"], CACHED_TOKENS);

    let r = post_anthropic(
        &mock,
        ANTHROPIC_HEADERS,
        anthropic_request("reasoning", true),
    )
    .await;
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let events = sse::read(r).await;
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let deltas: Vec<String> = events
        .iter()
        .filter_map(|e| e.json())
        .filter(|v| v["type"] == "content_block_delta")
        .map(|v| v["delta"]["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        deltas,
        [
            "thinking_delta",
            "thinking_delta",
            "signature_delta",
            "text_delta",
            "text_delta",
            "text_delta"
        ]
    );
    let end = events[12].json().unwrap();
    assert_eq!(end["delta"]["stop_reason"], "end_turn");
    assert_eq!(
        end["usage"]["output_tokens"],
        COMPLETION_TOKENS + REASONING_TOKENS
    );

    let r = post_anthropic(
        &mock,
        ANTHROPIC_HEADERS,
        anthropic_request("midstream-error", true),
    )
    .await;
    let events = sse::read(r).await;
    let last = events.last().unwrap();
    assert_eq!(last.event.as_deref(), Some("error"));
    assert_eq!(last.json().unwrap()["error"]["type"], "overloaded_error");
}
