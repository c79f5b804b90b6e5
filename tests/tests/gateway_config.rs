//! The gateway's config hot reload and its request log, end to end through the real binary.

mod gateway_common;

use ccr_tests::mock::TEXT_ANSWER;
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};
use gateway_common::*;
use serde_json::{json, Value};

/// The mock config with extra model names (all answer like `text`) and this default.
fn config_with_default(mock: &MockUpstream, default_model: &str) -> Value {
    let mut config = fixtures::mock_provider_config(mock, default_model);
    let models = config["Providers"][0]["models"].as_array_mut().unwrap();
    for m in ["reload-a", "reload-b", "reload-c"] {
        if !models.contains(&json!(m)) {
            models.push(json!(m));
        }
    }
    config
}

/// Sends a routed (non-explicit) request and returns the model the upstream got.
async fn routed_model(proxy: &Proxy, mock: &MockUpstream) -> String {
    let answer = post(proxy, &request("claude-sonnet-4-5", false)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(text_of(&answer.json()), TEXT_ANSWER);
    last_upstream_model(mock).expect("an upstream call")
}

async fn wait_for_model(proxy: &Proxy, mock: &MockUpstream, model: &str) {
    eventually(&format!("requests routed to {model}"), || async {
        (routed_model(proxy, mock).await == model).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_hot_reload_applies_good_configs_and_keeps_serving_through_bad_ones() {
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(config_with_default(&mock, "reload-a")));
    assert_eq!(routed_model(&proxy, &mock).await, "reload-a");

    // A new Router.default goes live without a restart.
    proxy.write_config(&config_with_default(&mock, "reload-b"));
    wait_for_model(&proxy, &mock, "reload-b").await;
    assert!(health(&proxy).await["config_error"].is_null());

    // A syntax error: rejected, reported on /health with the file's path, old config serves.
    proxy.write_config_text("{\n  \"Providers\": [ {\"name\": \"mock\",\n  oops\n");
    let error = eventually("config_error on /health", || async {
        health(&proxy).await["config_error"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert!(
        error.contains(&proxy.config_path().display().to_string()),
        "config_error should name the file: {error}"
    );
    let h = health(&proxy).await;
    assert_eq!(h["status"], "ok");
    for _ in 0..3 {
        assert_eq!(routed_model(&proxy, &mock).await, "reload-b");
    }
    let (status, _, events) = post_stream(&proxy, &request("claude-sonnet-4-5", true)).await;
    assert_eq!(status, 200);
    assert!(check_stream(&events).error.is_none());
    assert_eq!(last_upstream_model(&mock).as_deref(), Some("reload-b"));

    // Fixing it clears the error and applies the new config.
    proxy.write_config(&config_with_default(&mock, "reload-c"));
    wait_for_model(&proxy, &mock, "reload-c").await;
    eventually("config_error cleared", || async {
        health(&proxy).await["config_error"].is_null().then_some(())
    })
    .await;

    // Valid JSON that fails validation (a route to an unknown provider) is rejected the same
    // way.
    let mut bad = config_with_default(&mock, "reload-a");
    bad["Router"]["default"] = json!("ghost,reload-a");
    proxy.write_config(&bad);
    let error = eventually("config_error for an unknown provider", || async {
        health(&proxy).await["config_error"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert!(error.contains("ghost"), "{error}");
    assert!(error.contains("Router"), "{error}");
    assert_eq!(routed_model(&proxy, &mock).await, "reload-c");

    // APIKEY is live too: adding one locks the API.
    let mut locked = config_with_default(&mock, "reload-c");
    locked["APIKEY"] = json!("now-locked-3e1b");
    proxy.write_config(&locked);
    eventually("APIKEY enforced after reload", || async {
        let answer = post(&proxy, &request("mock,text", false)).await;
        (answer.status == 401).then_some(())
    })
    .await;
    let answer = post_raw(
        &proxy,
        "/v1/messages",
        serde_json::to_vec(&request("mock,text", false)).unwrap(),
        &[
            ("content-type", "application/json"),
            ("x-api-key", "now-locked-3e1b"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(health(&proxy).await["config_error"].is_null());
}

/// Lines of the proxy's output that record a finished `/v1/messages` request.
fn request_lines(proxy: &Proxy) -> Vec<String> {
    proxy
        .logs()
        .lines()
        .filter(|l| l.contains("latency_ms="))
        .map(str::to_string)
        .collect()
}

const PROVIDER_KEY: &str = "sk-provider-secret-7c1d";
const INBOUND_KEY: &str = "inbound-secret-55aa";

fn secret_config(mock: &MockUpstream, log_file: bool) -> Value {
    let mut config = fixtures::mock_provider_config(mock, "text");
    config["Providers"][0]["api_key"] = json!(PROVIDER_KEY);
    config["APIKEY"] = json!(INBOUND_KEY);
    config["LOG"] = json!(log_file);
    config["LOG_LEVEL"] = json!("info");
    config
}

/// Sends the mix of requests both log tests use; returns how many reached the handler.
async fn request_mix(proxy: &Proxy) -> usize {
    assert_eq!(post(proxy, &request("mock,text", false)).await.status, 200);
    let (status, _, events) = post_stream(proxy, &request("mock,text", true)).await;
    assert_eq!(status, 200);
    check_stream(&events);
    assert_eq!(
        post(proxy, &request("mock,error-429", false)).await.status,
        429
    );
    assert_eq!(post(proxy, &request("nope,text", false)).await.status, 404);
    let answer = post_raw(
        proxy,
        "/v1/messages",
        b"{not json".to_vec(),
        &[
            ("content-type", "application/json"),
            ("x-api-key", INBOUND_KEY),
        ],
    )
    .await;
    assert_eq!(answer.status, 400);
    let (status, _, events) = post_stream(proxy, &request("mock,midstream-error", true)).await;
    assert_eq!(status, 200);
    assert!(check_stream(&events).error.is_some());
    assert_eq!(
        post(proxy, &request("claude-sonnet-4-5", false))
            .await
            .status,
        200
    );
    // Rejected by auth (never reaches the handler), still must not log the key it carried.
    let answer = post_raw(
        proxy,
        "/v1/messages",
        serde_json::to_vec(&request("mock,text", false)).unwrap(),
        &[
            ("content-type", "application/json"),
            ("x-api-key", "wrong-key-0000"),
        ],
    )
    .await;
    assert_eq!(answer.status, 401);
    7
}

#[track_caller]
fn assert_no_secrets(text: &str, what: &str) {
    for secret in [PROVIDER_KEY, INBOUND_KEY] {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_log_line_per_request_and_no_secrets() {
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(secret_config(&mock, false)));
    let sent = request_mix(&proxy).await;

    let lines = eventually("one log line per request", || async {
        let lines = request_lines(&proxy);
        (lines.len() >= sent).then_some(lines)
    })
    .await;
    // Give a late duplicate a moment to show up before counting exactly.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines = if request_lines(&proxy).len() != lines.len() {
        request_lines(&proxy)
    } else {
        lines
    };
    assert_eq!(
        lines.len(),
        sent,
        "one line per request:\n{}",
        lines.join("\n")
    );
    for line in &lines {
        for field in ["route=", "status=", "latency_ms="] {
            assert!(line.contains(field), "{field} missing in {line}");
        }
        assert!(
            line.contains("INFO"),
            "request lines are info level: {line}"
        );
    }
    // `key=value` or `key="value"` (tracing quotes plain `&str` fields).
    let count = |key: &str, value: &str| {
        let bare = format!("{key}={value} ");
        let quoted = format!("{key}=\"{value}\"");
        lines
            .iter()
            .filter(|l| format!("{l} ").contains(&bare) || l.contains(&quoted))
            .count()
    };
    assert_eq!(count("status", "200"), 3, "{lines:#?}");
    assert_eq!(count("status", "429"), 1, "{lines:#?}");
    assert_eq!(count("status", "400"), 1, "{lines:#?}");
    assert_eq!(count("status", "404"), 1, "{lines:#?}");
    // The midstream error is recorded as a failed (502) stream.
    assert_eq!(count("status", "502"), 1, "{lines:#?}");
    assert_eq!(count("route", "explicit"), 4, "{lines:#?}");
    assert_eq!(count("route", "default"), 1, "{lines:#?}");
    // Requests refused before routing (bad JSON, unknown provider) have no route.
    assert_eq!(count("route", "-"), 2, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("stream=true") && l.contains("status=200")),
        "{lines:#?}"
    );

    assert_no_secrets(&proxy.logs(), "the proxy's output");
    // LOG: false turns the log file off (only the file: stderr still logs, see above).
    let log_dir = proxy.home().join(".claude-code-router").join("logs");
    let files: Vec<_> = std::fs::read_dir(&log_dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        files.is_empty(),
        "LOG: false, yet log files exist: {files:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_file_has_the_same_lines_and_no_secrets() {
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(secret_config(&mock, true)));
    let sent = request_mix(&proxy).await;
    let log_dir = proxy.home().join(".claude-code-router").join("logs");
    let text = eventually("request lines in the log file", || async {
        let text: String = std::fs::read_dir(&log_dir)
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("ccr.log"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        (text.lines().filter(|l| l.contains("latency_ms=")).count() >= sent).then_some(text)
    })
    .await;
    assert_no_secrets(&text, "the log file");
    assert_no_secrets(&proxy.logs(), "the proxy's output");
    // No secret in the config either way it is echoed (startup lines, warnings).
    assert!(!text.contains("APIKEY\":"), "{text}");
}

/// A rejected config is reported on `/health` (which needs no key) and in the log; the
/// report must not echo the secrets written next to (or as) the mistake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_never_echo_secrets() {
    let mock = MockUpstream::start();
    let mut good = fixtures::mock_provider_config(&mock, "text");
    good["APIKEY"] = json!("inbound-good-key-0001");
    let proxy = Proxy::start(ProxyOptions::new(good.clone()));
    let url = mock.chat_url();

    let cases = [
        (
            "a syntax error right after a provider key",
            format!(
                r#"{{"APIKEY": "inbound-good-key-0001", "Providers": [{{"name": "mock", "api_base_url": "{url}", "api_key": "sk-leak-syntax-1111" "models": ["text"]}}], "Router": {{"default": "mock,text"}}}}"#
            ),
            "sk-leak-syntax-1111",
        ),
        (
            "an APIKEY of the wrong type",
            format!(
                r#"{{"APIKEY": 98765432109876, "Providers": [{{"name": "mock", "api_base_url": "{url}", "api_key": "sk-mock", "models": ["text"]}}], "Router": {{"default": "mock,text"}}}}"#
            ),
            "98765432109876",
        ),
        (
            "a provider api_key of the wrong type",
            format!(
                r#"{{"APIKEY": "inbound-good-key-0001", "Providers": [{{"name": "mock", "api_base_url": "{url}", "api_key": 5555444433332222, "models": ["text"]}}], "Router": {{"default": "mock,text"}}}}"#
            ),
            "5555444433332222",
        ),
    ];
    let mut leaks = Vec::new();
    for (what, text, secret) in &cases {
        // Reset to the good config, then break it.
        proxy.write_config(&good);
        eventually("the good config back", || async {
            health(&proxy).await["config_error"].is_null().then_some(())
        })
        .await;
        proxy.write_config_text(text);
        let error = eventually(&format!("config_error for {what}"), || async {
            health(&proxy).await["config_error"]
                .as_str()
                .map(str::to_string)
        })
        .await;
        if error.contains(secret) {
            leaks.push(format!("/health config_error, {what}: {error}"));
        }
        if proxy.logs().contains(secret) {
            leaks.push(format!("the log, {what}"));
        }
    }
    assert!(leaks.is_empty(), "secrets echoed:\n{}", leaks.join("\n"));
}
