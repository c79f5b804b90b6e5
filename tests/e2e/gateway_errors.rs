//! The gateway when things go wrong, end to end through the real binary: upstream HTTP
//! errors and broken streams, fallback, pings and client disconnects, bad input, and auth.
//! Every failure must reach the client as an Anthropic-shaped error (a JSON body, or an
//! `error` event once a stream has started), and the server must keep serving.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::gateway_common::*;
use ccr_tests::mock::TEXT_ANSWER;
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};
use futures::StreamExt;
use serde_json::{json, Value};

fn start(mock: &MockUpstream) -> Proxy {
    Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(
        mock, "text",
    )))
}

/// A plain request still works.
async fn still_serving(proxy: &Proxy) {
    let answer = post(proxy, &request("mock,text", false)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(text_of(&answer.json()), TEXT_ANSWER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_http_errors_map_to_anthropic_errors() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let cases = [
        ("error-400", 400, "invalid_request_error"),
        ("error-401", 401, "authentication_error"),
        ("error-404", 404, "not_found_error"),
        ("error-413", 413, "request_too_large"),
        ("error-429", 429, "rate_limit_error"),
        ("error-500", 500, "api_error"),
        ("error-503", 529, "overloaded_error"),
    ];
    for stream in [false, true] {
        for (model, status, error_type) in cases {
            let what = format!("{model} stream={stream}");
            let answer = post(&proxy, &request(&format!("mock,{model}"), stream)).await;
            // A streaming request whose upstream fails before answering gets a plain HTTP
            // error, not a 200 stream (so the client can retry).
            assert_eq!(
                answer.header("content-type"),
                Some("application/json"),
                "{what}: {}",
                answer.text
            );
            let message = assert_error(&answer, status, error_type);
            assert!(!message.is_empty(), "{what}");
            match status {
                429 => {
                    assert_eq!(answer.header("retry-after"), Some("1"), "{what}");
                    assert_ne!(answer.header("x-should-retry"), Some("false"), "{what}");
                }
                400..=499 => {
                    assert_eq!(answer.header("x-should-retry"), Some("false"), "{what}")
                }
                _ => assert_ne!(answer.header("x-should-retry"), Some("false"), "{what}"),
            }
        }
        // The upstream's wording is kept.
        let answer = post(&proxy, &request("mock,error-401", stream)).await;
        let message = assert_error(&answer, 401, "authentication_error");
        assert!(message.contains("Incorrect API key"), "{message}");

        // Context overflow becomes the message Claude Code compacts on.
        let answer = post(&proxy, &request("mock,context-length", stream)).await;
        let message = assert_error(&answer, 400, "invalid_request_error");
        assert!(
            message.contains("prompt is too long"),
            "stream={stream}: {message}"
        );
    }
    still_serving(&proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_upstreams_end_in_anthropic_errors() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);

    // An error event in the middle of the stream: 200, the text so far, then one `error`
    // event and nothing after it.
    let (status, _, events) = post_stream(&proxy, &request("mock,midstream-error", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    let error = s.error.expect("an error event");
    assert_eq!(error["error"]["type"], "api_error", "{error}");
    assert_eq!(events.last().unwrap().event.as_deref(), Some("error"));
    assert_eq!(text_of(&s.message), "Hello from");
    // Non-streaming, the same upstream answers 200 with an error object (OpenRouter does).
    let answer = post(&proxy, &request("mock,midstream-error", false)).await;
    assert_error(&answer, 500, "api_error");

    // The connection is cut mid-stream: an error event ends the stream.
    let (status, _, events) = post_stream(&proxy, &request("mock,drop", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    let error = s.error.expect("an error event after the cut");
    assert_eq!(error["error"]["type"], "api_error", "{error}");
    assert_eq!(text_of(&s.message), "Hello from");
    // ...and cut in the middle of a JSON body: 502.
    let answer = post(&proxy, &request("mock,drop", false)).await;
    assert_error(&answer, 502, "api_error");

    // Malformed JSON / a malformed chunk.
    let answer = post(&proxy, &request("mock,malformed", false)).await;
    assert!(
        [500, 502].contains(&answer.status),
        "malformed body: {} {}",
        answer.status,
        answer.text
    );
    assert_error_body(&answer.json(), "api_error");
    let (status, _, events) = post_stream(&proxy, &request("mock,malformed", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    let error = s.error.expect("an error event for the malformed chunk");
    assert_eq!(error["error"]["type"], "api_error", "{error}");

    // The upstream closes without answering: 502 before any event.
    for stream in [false, true] {
        let answer = post(&proxy, &request("mock,drop-early", stream)).await;
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_error(&answer, 502, "api_error");
    }

    // A provider nobody listens on.
    let mut config = fixtures::mock_provider_config(&mock, "text");
    let dead_port = ccr_tests::free_port();
    config["Providers"].as_array_mut().unwrap().push(json!({
        "name": "dead",
        "api_base_url": format!("http://127.0.0.1:{dead_port}/v1/chat/completions"),
        "api_key": "sk-dead",
        "models": ["text"]
    }));
    let proxy2 = Proxy::start(ProxyOptions::new(config));
    for stream in [false, true] {
        let answer = post(&proxy2, &request("dead,text", stream)).await;
        assert_error(&answer, 502, "api_error");
    }
    still_serving(&proxy2).await;
    still_serving(&proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_flow_while_the_upstream_is_silent() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    config["PING_INTERVAL_MS"] = json!(100);
    let proxy = Proxy::start(ProxyOptions::new(config));

    let (status, _, events) = post_stream(&proxy, &request("mock,slow-stream-400", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    assert!(s.error.is_none());
    assert_eq!(text_of(&s.message), TEXT_ANSWER);
    assert!(
        s.pings >= 2,
        "expected pings during 400 ms silences: {events:?}"
    );
    // The first silence is between the role chunk (message_start) and the first text.
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    let first_delta = names
        .iter()
        .position(|n| *n == "content_block_delta")
        .unwrap();
    assert!(
        names[..first_delta].contains(&"ping"),
        "a ping before the first text: {names:?}"
    );
    for e in events.iter().filter(|e| e.event.as_deref() == Some("ping")) {
        assert_eq!(e.json().unwrap(), json!({"type": "ping"}));
    }
    // Tool streams too.
    let (status, _, events) =
        post_stream(&proxy, &request("mock,tools-slow-stream-300", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    assert!(s.pings >= 1);
    assert_eq!(s.message["stop_reason"], "tool_use");
    assert_eq!(s.message["content"][1]["input"], json!({"tz": "UTC"}));
}

/// A hand-rolled upstream on a raw socket, so the test can see its connection close: it
/// answers one chat completion with a stream that sends a chunk every 100 ms for 30 s, and
/// reports on `closed` when the proxy hangs up.
fn endless_upstream() -> (u16, mpsc::Receiver<&'static str>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        let _ = tx.send("connected");
        // Read the request: head, then content-length bytes.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        let head_end = loop {
            let n = socket.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let n = socket.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let send_chunk = |socket: &mut TcpStream, data: &str| {
            let event = format!("data: {data}\n\n");
            let framed = format!("{:x}\r\n{event}\r\n", event.len());
            socket
                .write_all(framed.as_bytes())
                .and_then(|_| socket.flush())
        };
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).is_err() {
            return;
        }
        let first = r#"{"id":"chatcmpl-raw","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}"#;
        let more = r#"{"id":"chatcmpl-raw","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" again"},"finish_reason":null}]}"#;
        if send_chunk(&mut socket, first).is_err() {
            return;
        }
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            // EOF on read: the proxy closed its side.
            match socket.read(&mut chunk) {
                Ok(0) => {
                    let _ = tx.send("closed");
                    return;
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    let _ = tx.send("closed");
                    return;
                }
            }
            if send_chunk(&mut socket, more).is_err() {
                let _ = tx.send("closed");
                return;
            }
        }
        let _ = tx.send("still open after 30 s");
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_mid_stream_cancels_the_upstream_call() {
    let mock = MockUpstream::start();
    let (raw_port, upstream) = endless_upstream();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    config["Providers"].as_array_mut().unwrap().push(json!({
        "name": "raw",
        "api_base_url": format!("http://127.0.0.1:{raw_port}/v1/chat/completions"),
        "api_key": "sk-raw",
        "models": ["endless"]
    }));
    let proxy = Proxy::start(ProxyOptions::new(config));

    // Through the mock: read the first bytes of a slow stream, then hang up.
    let response = proxy
        .post_messages(&request("mock,slow-stream-300", true))
        .await;
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(PATIENCE, body.next())
        .await
        .expect("a first event in time")
        .expect("a first chunk")
        .expect("readable");
    assert!(
        String::from_utf8_lossy(&first).starts_with("event: message_start"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    drop(body);
    still_serving(&proxy).await;

    // Through the raw upstream: the proxy must hang up on the upstream once the client is
    // gone, or an abandoned answer keeps generating (and billing) upstream.
    let response = proxy.post_messages(&request("raw,endless", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        upstream.recv_timeout(PATIENCE).expect("upstream contacted"),
        "connected"
    );
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("again") {
        let chunk = tokio::time::timeout(PATIENCE, body.next())
            .await
            .expect("events in time")
            .expect("stream open")
            .expect("readable");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(body);
    let verdict = tokio::task::spawn_blocking(move || upstream.recv_timeout(PATIENCE))
        .await
        .unwrap();
    assert_eq!(
        verdict,
        Ok("closed"),
        "the upstream connection should be closed after the client left"
    );
    still_serving(&proxy).await;
    // The request is logged as abandoned by the client.
    eventually("a status=499 log line", || async {
        proxy.logs().contains("status=499").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_answers_when_the_primary_fails() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "error-503");
    let models = config["Providers"][0]["models"].clone();
    config["Providers"].as_array_mut().unwrap().push(json!({
        "name": "mock2",
        "api_base_url": mock.chat_url(),
        "api_key": "sk-mock2",
        "models": models
    }));
    config["Router"]["think"] = json!("mock,error-500");
    config["fallback"] = json!({
        "default": ["mock2,text"],
        "think": ["mock2,error-503"]
    });
    let proxy = Proxy::start(ProxyOptions::new(config));

    let upstream_calls = |mock: &MockUpstream| -> Vec<(String, String)> {
        mock.requests()
            .iter()
            .map(|r| {
                (
                    r.body["model"].as_str().unwrap_or("").to_string(),
                    r.header("authorization").unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let expected = vec![
        ("error-503".to_string(), "Bearer sk-mock".to_string()),
        ("text".to_string(), "Bearer sk-mock2".to_string()),
    ];

    // Router.default fails with 503: the fallback answers.
    mock.clear_requests();
    let answer = post(&proxy, &request("claude-sonnet-4-5", false)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(text_of(&answer.json()), TEXT_ANSWER);
    assert_eq!(upstream_calls(&mock), expected);

    mock.clear_requests();
    let (status, _, events) = post_stream(&proxy, &request("claude-sonnet-4-5", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    assert!(s.error.is_none());
    assert_eq!(text_of(&s.message), TEXT_ANSWER);
    assert_eq!(upstream_calls(&mock), expected);

    // Explicit routes use the default fallback list: 429 and unreachable fall back...
    for model in ["error-429", "drop-early"] {
        mock.clear_requests();
        let answer = post(&proxy, &request(&format!("mock,{model}"), false)).await;
        assert_eq!(answer.status, 200, "{model}: {}", answer.text);
        assert_eq!(mock.request_count(), 2, "{model}");
        assert_eq!(last_upstream_model(&mock).as_deref(), Some("text"));
    }
    // ...a client error does not (another provider would refuse it too).
    mock.clear_requests();
    let answer = post(&proxy, &request("mock,error-400", false)).await;
    assert_error(&answer, 400, "invalid_request_error");
    assert_eq!(mock.request_count(), 1);

    // When the fallback fails too, the client gets the last error.
    mock.clear_requests();
    let mut body = request("claude-sonnet-4-5", false);
    body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    let answer = post(&proxy, &body).await;
    assert_error(&answer, 529, "overloaded_error");
    let models: Vec<String> = upstream_calls(&mock).into_iter().map(|(m, _)| m).collect();
    assert_eq!(models, ["error-500", "error-503"]);
    // The log names what failed and what is tried next.
    let logs = proxy.logs();
    assert!(
        logs.contains("mock,error-503 failed") && logs.contains("trying mock2,text"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_anthropic_4xx_and_the_server_keeps_serving() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let json_headers = [
        ("content-type", "application/json"),
        ("anthropic-version", "2023-06-01"),
    ];

    let nested = format!(
        r#"{{"model":"mock,text","max_tokens":5,"messages":[{{"role":"user","content":"hi"}}],"x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut invalid_utf8 =
        br#"{"model":"mock,text","max_tokens":5,"messages":[{"role":"user","content":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#""}]}"#);

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("invalid JSON", b"{\"model\": \"mock,text\", ".to_vec(), "JSON"),
        ("empty body", Vec::new(), "empty"),
        ("not an object", b"[1, 2]".to_vec(), "object"),
        ("null", b"null".to_vec(), "object"),
        (
            "model is a number",
            br#"{"model":3,"max_tokens":5,"messages":[]}"#.to_vec(),
            "model",
        ),
        (
            "messages is an object",
            br#"{"model":"mock,text","max_tokens":5,"messages":{}}"#.to_vec(),
            "messages",
        ),
        (
            "missing model",
            br#"{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#.to_vec(),
            "model",
        ),
        (
            "missing messages",
            br#"{"model":"mock,text","max_tokens":5}"#.to_vec(),
            "messages",
        ),
        (
            "bad role",
            br#"{"model":"mock,text","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}"#
                .to_vec(),
            "role",
        ),
        (
            "max_tokens is a string",
            br#"{"model":"mock,text","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}"#
                .to_vec(),
            "max_tokens",
        ),
        (
            "stream is a string",
            br#"{"model":"mock,text","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"hi"}]}"#
                .to_vec(),
            "stream",
        ),
        (
            "no messages",
            br#"{"model":"mock,text","max_tokens":5,"messages":[]}"#.to_vec(),
            "messages: at least one message is required",
        ),
        ("nested 100000 deep", nested.into_bytes(), "nested too deeply"),
        ("invalid UTF-8", invalid_utf8, ""),
    ];
    let calls = mock.request_count();
    for (what, body, needle) in &cases {
        let answer = post_raw(&proxy, "/v1/messages", body.clone(), &json_headers).await;
        let message = assert_error(&answer, 400, "invalid_request_error");
        assert!(
            message.contains(needle),
            "{what}: message should mention {needle:?}: {message}"
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{what}"
        );
        assert_eq!(answer.header("x-should-retry"), Some("false"), "{what}");
        let answer = post_raw(
            &proxy,
            "/v1/messages/count_tokens",
            body.clone(),
            &json_headers,
        )
        .await;
        if *what == "max_tokens is a string" || *what == "stream is a string" {
            // count_tokens has no max_tokens/stream: those fields are not validated there.
            continue;
        }
        assert_error(&answer, 400, "invalid_request_error");
    }
    assert_eq!(
        mock.request_count(),
        calls,
        "nothing bad reached the upstream"
    );
    still_serving(&proxy).await;

    // Unknown paths and methods.
    for path in [
        "/v1/nope",
        "/v2/messages",
        "/api/hello",
        "/v1/messages/batches",
    ] {
        let answer = get(&proxy, path, &[]).await;
        assert_error(&answer, 404, "not_found_error");
        let answer = post_raw(&proxy, path, b"{}".to_vec(), &json_headers).await;
        assert_error(&answer, 404, "not_found_error");
    }
    still_serving(&proxy).await;
}

/// A body over the 32 MB limit must get a 413 `request_too_large` the client can read, with
/// or without a content-length, on both endpoints that take a body. Each shape is sent
/// several times on fresh connections: a server that answers and then closes with the
/// rest of the upload unread makes the kernel reset the connection, and the client then
/// sees "connection reset" instead of the 413 some of the time, not every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_readable_413() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let huge = {
        let mut body =
            br#"{"model":"mock,text","max_tokens":5,"messages":[{"role":"user","content":""#
                .to_vec();
        body.resize(body.len() + 40 * 1024 * 1024, b'a');
        body.extend_from_slice(br#""}]}"#);
        bytes::Bytes::from(body)
    };
    const ATTEMPTS: usize = 20;
    let mut outcomes = Vec::new();
    for attempt in 0..ATTEMPTS {
        for (what, path, chunked) in [
            ("messages, content-length", "/v1/messages", false),
            ("messages, chunked", "/v1/messages", true),
            (
                "count_tokens, content-length",
                "/v1/messages/count_tokens",
                false,
            ),
        ] {
            let body = if chunked {
                let pieces: Vec<Result<bytes::Bytes, std::io::Error>> = (0..huge.len())
                    .step_by(1 << 20)
                    .map(|i| Ok(huge.slice(i..(i + (1 << 20)).min(huge.len()))))
                    .collect();
                reqwest::Body::wrap_stream(futures::stream::iter(pieces))
            } else {
                reqwest::Body::from(huge.clone())
            };
            // A fresh client: no connection reuse between attempts.
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let result = client
                .post(format!("{}{path}", proxy.base_url()))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let outcome = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    match response.text().await {
                        Ok(text) => {
                            let ok = status == 413
                                && serde_json::from_str::<Value>(&text).is_ok_and(|v| {
                                    v["type"] == "error"
                                        && v["error"]["type"] == "request_too_large"
                                });
                            if ok {
                                continue;
                            }
                            format!("{status} {text}")
                        }
                        Err(e) => format!("{status}, then the body failed: {e:?}"),
                    }
                }
                Err(e) => format!("no response: {e:?}"),
            };
            outcomes.push(format!("attempt {attempt}, {what}: {outcome}"));
        }
    }
    assert!(
        outcomes.is_empty(),
        "{} of {} oversized uploads did not get a readable 413 request_too_large:\n{}",
        outcomes.len(),
        ATTEMPTS * 3,
        outcomes.join("\n")
    );
    still_serving(&proxy).await;
}

/// Claude Code never does this, but any client that does (a browser, a probe, a misconfigured
/// SDK) should get the same Anthropic-shaped error body as every other failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_on_a_known_path_is_an_anthropic_error() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let json_headers = [("content-type", "application/json")];
    for (method, path) in [
        ("GET", "/v1/messages"),
        ("PUT", "/v1/messages"),
        ("GET", "/v1/messages/count_tokens"),
        ("DELETE", "/v1/models"),
        ("POST", "/health"),
    ] {
        let response = proxy
            .client()
            .request(
                method.parse().unwrap(),
                format!("{}{path}", proxy.base_url()),
            )
            .headers({
                let mut h = reqwest::header::HeaderMap::new();
                for &(k, v) in &json_headers {
                    h.insert(k, v.parse().unwrap());
                }
                h
            })
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 405, "{method} {path}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!("{method} {path} answered {status} with a non-JSON body {text:?}")
        });
        assert_error_body(&body, "invalid_request_error");
        let expected = if path == "/v1/models" || path == "/health" {
            "GET"
        } else {
            "POST"
        };
        assert!(allow.contains(expected), "{method} {path}: Allow {allow:?}");
    }
    still_serving(&proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apikey_guards_the_api_but_not_health() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    config["APIKEY"] = json!("inbound-secret-9f3a");
    let proxy = Proxy::start(ProxyOptions::new(config));
    let body = serde_json::to_vec(&request("mock,text", false)).unwrap();
    let json = ("content-type", "application/json");

    let calls = mock.request_count();
    for headers in [
        vec![json],
        vec![json, ("x-api-key", "wrong")],
        vec![json, ("authorization", "Bearer wrong")],
        vec![json, ("x-api-key", "")],
        vec![
            json,
            ("authorization", "Basic aW5ib3VuZC1zZWNyZXQtOWYzYQ=="),
        ],
    ] {
        let answer = post_raw(&proxy, "/v1/messages", body.clone(), &headers).await;
        assert_error(&answer, 401, "authentication_error");
        let answer = post_raw(&proxy, "/v1/messages/count_tokens", body.clone(), &headers).await;
        assert_error(&answer, 401, "authentication_error");
        let answer = get(&proxy, "/v1/models", &headers[1..]).await;
        assert_error(&answer, 401, "authentication_error");
    }
    assert_eq!(
        mock.request_count(),
        calls,
        "no upstream call without the key"
    );

    // Either header may carry the key, whatever the other holds: Claude Code with
    // ANTHROPIC_AUTH_TOKEN=<key> and a stale ANTHROPIC_API_KEY sends both (CCR reads
    // Authorization first).
    for headers in [
        [
            json,
            ("x-api-key", "stale-key"),
            ("authorization", "Bearer inbound-secret-9f3a"),
        ],
        [
            json,
            ("x-api-key", "inbound-secret-9f3a"),
            ("authorization", "Bearer stale"),
        ],
    ] {
        let answer = post_raw(&proxy, "/v1/messages", body.clone(), &headers).await;
        assert_eq!(answer.status, 200, "{headers:?}: {}", answer.text);
    }

    for key_header in [
        ("x-api-key", "inbound-secret-9f3a"),
        ("authorization", "Bearer inbound-secret-9f3a"),
    ] {
        let answer = post_raw(&proxy, "/v1/messages", body.clone(), &[json, key_header]).await;
        assert_eq!(answer.status, 200, "{key_header:?}: {}", answer.text);
        assert_eq!(text_of(&answer.json()), TEXT_ANSWER);
        let up = mock.last_request().unwrap();
        assert_eq!(up.header("authorization"), Some("Bearer sk-mock"));
        assert_eq!(up.header("x-api-key"), None);
        assert_eq!(get(&proxy, "/v1/models", &[key_header]).await.status, 200);
        let answer = post_raw(
            &proxy,
            "/v1/messages/count_tokens",
            body.clone(),
            &[json, key_header],
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // The harness adds x-api-key itself.
    let (status, _, events) = post_stream(&proxy, &request("mock,text", true)).await;
    assert_eq!(status, 200);
    check_stream(&events);

    // No key needed for / and /health.
    assert_eq!(get(&proxy, "/", &[]).await.status, 200);
    let h = get(&proxy, "/health", &[]).await;
    assert_eq!(h.status, 200);
    assert!(
        !h.text.contains("inbound-secret-9f3a") && !h.text.contains("sk-mock\""),
        "/health must not show secrets: {}",
        h.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_apikey_browser_origins_are_refused() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let body = serde_json::to_vec(&request("mock,text", false)).unwrap();
    let json = ("content-type", "application/json");

    let calls = mock.request_count();
    for origin in ["https://evil.example", "http://localhost:1", "null"] {
        let headers = [json, ("origin", origin)];
        let answer = post_raw(&proxy, "/v1/messages", body.clone(), &headers).await;
        let message = assert_error(&answer, 403, "permission_error");
        assert!(message.contains(origin), "{message}");
        let answer = post_raw(&proxy, "/v1/messages/count_tokens", body.clone(), &headers).await;
        assert_error(&answer, 403, "permission_error");
        let answer = get(&proxy, "/v1/models", &headers[1..]).await;
        assert_error(&answer, 403, "permission_error");
    }
    assert_eq!(mock.request_count(), calls);

    let own = [
        format!("http://127.0.0.1:{}", proxy.port()),
        format!("http://localhost:{}", proxy.port()),
    ];
    for origin in &own {
        let answer = post_raw(
            &proxy,
            "/v1/messages",
            body.clone(),
            &[json, ("origin", origin)],
        )
        .await;
        assert_eq!(answer.status, 200, "{origin}: {}", answer.text);
    }
    // No Origin (Claude Code, curl): allowed.
    let answer = post_raw(&proxy, "/v1/messages", body, &[json]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

/// hyper answers a request head it cannot take (over its size limit) by itself; the answer
/// still has Anthropic's shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_an_anthropic_431() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let mut tcp = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    // The server may answer and close before the whole head is written.
    let _ = tcp.write_all(head.as_bytes());
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{text}"
    );
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_error_body(&body, "request_too_large");
    still_serving(&proxy).await;
}

/// A request head of 12 KB (big `anthropic-beta` lists, cookies from a gateway in front) is
/// served: the limit is 16 KB, as Node's (and so claude-code-router's).
#[tokio::test]
async fn a_12_kb_request_head_is_served() {
    let mock = MockUpstream::start();
    let proxy = start(&mock);
    let response = proxy
        .client()
        .post(proxy.messages_url())
        .header("x-big", "a".repeat(12 * 1024))
        .json(&request("text", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Nothing listens where the provider points (Ollama not started, a typo in the port): the
/// answer says which provider, what to check, and tells Claude Code not to retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstreams_are_final_and_say_what_to_check() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = json!({
        "Providers": [
            {"name": "ollama", "api_base_url": format!("http://127.0.0.1:{port}/v1/chat/completions"),
             "api_key": "ollama", "models": ["qwen"]},
            {"name": "work", "api_base_url": format!("http://127.0.0.1:{port}/v1/chat/completions"),
             "api_key": "k", "models": ["m"]},
        ],
        "Router": {"default": "ollama,qwen"},
    });
    let proxy = Proxy::start(ProxyOptions::new(config));
    for stream in [false, true] {
        let answer = post(&proxy, &request("ollama,qwen", stream)).await;
        let message = assert_error(&answer, 502, "api_error");
        assert_eq!(
            answer.header("x-should-retry"),
            Some("false"),
            "stream={stream}"
        );
        assert!(
            message.contains(&format!("no Ollama at 127.0.0.1:{port}"))
                && message.contains("ollama serve"),
            "{message}"
        );
        let answer = post(&proxy, &request("work,m", stream)).await;
        let message = assert_error(&answer, 502, "api_error");
        assert_eq!(answer.header("x-should-retry"), Some("false"));
        assert!(
            message.contains("provider 'work'") && message.contains("api_base_url"),
            "{message}"
        );
    }
}

/// The upstream says nothing for longer than a ping interval before its answer's head: the
/// client's stream starts at once with pings (Claude Code must not sit on a silent socket),
/// and a failure that comes later arrives as an `error` event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_flow_before_the_upstream_answers() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    config["PING_INTERVAL_MS"] = json!(100);
    let proxy = Proxy::start(ProxyOptions::new(config));

    let (status, _, events) = post_stream(&proxy, &request("mock,slow-first-byte-600", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    assert!(s.error.is_none(), "{events:?}");
    assert_eq!(text_of(&s.message), TEXT_ANSWER);
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    let start = names.iter().position(|n| *n == "message_start").unwrap();
    assert!(
        start >= 2,
        "pings before the upstream's first byte: {names:?}"
    );
    assert!(names[..start].iter().all(|n| *n == "ping"), "{names:?}");

    let (status, _, events) =
        post_stream(&proxy, &request("mock,error-503-slow-first-byte-600", true)).await;
    assert_eq!(status, 200);
    let s = check_stream(&events);
    let error = s.error.expect("an error event");
    assert_eq!(error["error"]["type"], "overloaded_error", "{events:?}");

    // A quick failure keeps its HTTP status (and so stays retryable by the client).
    let answer = post(&proxy, &request("mock,error-503", true)).await;
    assert_error(&answer, 529, "overloaded_error");
    still_serving(&proxy).await;
}

/// Slow clients cannot hold the proxy: half-sent heads are cut after
/// HEADER_READ_TIMEOUT_SECS, half-sent bodies get 408 after BODY_READ_TIMEOUT_SECS, and one
/// address holds at most MAX_CONNECTIONS_PER_CLIENT connections (the next gets a 429).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_capped_per_address() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    // Long enough for the held connections below to still be open when the fifth comes.
    config["HEADER_READ_TIMEOUT_SECS"] = json!(2);
    config["BODY_READ_TIMEOUT_SECS"] = json!(1);
    config["MAX_CONNECTIONS_PER_CLIENT"] = json!(4);
    let proxy = Proxy::start(ProxyOptions::new(config));
    let connect = || {
        let tcp = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        tcp.set_read_timeout(Some(PATIENCE)).unwrap();
        tcp
    };
    let read_all = |tcp: &mut TcpStream| {
        let mut out = Vec::new();
        let _ = tcp.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };

    // Half a head: the connection is closed without an answer.
    let mut half = connect();
    half.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ")
        .unwrap();
    let started = Instant::now();
    assert_eq!(read_all(&mut half), "");
    assert!(started.elapsed() < PATIENCE, "the half-sent head was held");

    // Half a body: 408, Anthropic-shaped.
    let mut slow_body = connect();
    slow_body
        .write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 100\r\n\r\n{\"model\":")
        .unwrap();
    let text = read_all(&mut slow_body);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    let message = assert_error_body(&body, "timeout_error");
    assert!(message.contains("BODY_READ_TIMEOUT_SECS"), "{message}");

    // Four open connections from this address; the fifth is told why and closed.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut tcp = connect();
            tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .unwrap();
            tcp
        })
        .collect();
    // The proxy counts a connection once it has accepted it.
    let text = eventually("the fifth connection refused", || async {
        let mut fifth = connect();
        let _ = fifth
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let text = read_all(&mut fifth);
        text.starts_with("HTTP/1.1 429 ").then_some(text)
    })
    .await;
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    let message = assert_error_body(&body, "rate_limit_error");
    assert!(message.contains("MAX_CONNECTIONS_PER_CLIENT"), "{message}");
    drop(held);
    // Their slots come back once the proxy sees them closed.
    eventually("serving again", || async {
        let mut tcp = connect();
        let _ =
            tcp.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        read_all(&mut tcp)
            .starts_with("HTTP/1.1 200 ")
            .then_some(())
    })
    .await;
    still_serving(&proxy).await;
}
