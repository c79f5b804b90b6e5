//! The gateway's config hot reload and its request log, end to end through the real binary.

use crate::gateway_common::*;
use ccr_tests::mock::TEXT_ANSWER;
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};
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
    // The detail is behind the new key too.
    let detailed = get(
        &proxy,
        "/health/detailed",
        &[("x-api-key", "now-locked-3e1b")],
    )
    .await;
    assert_eq!(detailed.status, 200, "{}", detailed.text);
    assert!(detailed.json()["config_error"].is_null());
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

/// Puts `good` back (and waits until it serves), then writes `broken` and returns the
/// reload error the proxy reports for it.
async fn break_config(proxy: &Proxy, good: &Value, broken: &str, what: &str) -> String {
    proxy.write_config(good);
    eventually("the good config back", || async {
        health(proxy).await["config_error"].is_null().then_some(())
    })
    .await;
    proxy.write_config_text(broken);
    eventually(&format!("config_error for {what}"), || async {
        health(proxy).await["config_error"]
            .as_str()
            .map(str::to_string)
    })
    .await
}

/// A rejected config is reported on `/health/detailed` and in the log; the
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
        let error = break_config(&proxy, &good, text, what).await;
        if error.contains(secret) {
            leaks.push(format!("/health config_error, {what}: {error}"));
        }
        if proxy.logs().contains(secret) {
            leaks.push(format!("the log, {what}"));
        }
    }
    assert!(leaks.is_empty(), "secrets echoed:\n{}", leaks.join("\n"));
}

/// The mock config listening on every interface (0.0.0.0) behind `APIKEY` `key`.
fn exposed_config(mock: &MockUpstream, key: &str) -> Value {
    let mut config = fixtures::mock_provider_config(mock, "text");
    config["HOST"] = json!("0.0.0.0");
    config["APIKEY"] = json!(key);
    config
}

/// A request without any key, as an attacker on the network would send it.
async fn keyless_status(proxy: &Proxy) -> u16 {
    let body = serde_json::to_vec(&request("mock,text", false)).unwrap();
    post_raw(
        proxy,
        "/v1/messages",
        body,
        &[("content-type", "application/json")],
    )
    .await
    .status
}

/// `ccr <args>` in the proxy's HOME: (exit code, stdout, stderr).
fn ccr_in(proxy: &Proxy, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(ccr_tests::proxy::ccr_binary())
        .args(args)
        .env("HOME", proxy.home())
        .env("NO_COLOR", "1")
        .env_remove("CCR_CONFIG")
        .output()
        .expect("running ccr");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A hot reload must never leave a non-loopback listener without a key: the config that
/// drops APIKEY is refused (reported, the old config keeps serving, keys still required).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_drops_the_key_of_an_exposed_listener_is_refused() {
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(exposed_config(&mock, "k-exposed-1")));
    assert_eq!(
        health(&proxy).await["listen"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("0.0.0.0")
    );
    assert_eq!(keyless_status(&proxy).await, 401);

    let mut keyless = exposed_config(&mock, "k-exposed-1");
    keyless.as_object_mut().unwrap().remove("APIKEY");
    proxy.write_config(&keyless);
    let error = eventually("the keyless reload reported", || async {
        health(&proxy).await["config_error"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert!(
        error.contains("APIKEY") && error.contains("0.0.0.0"),
        "{error}"
    );
    assert_eq!(keyless_status(&proxy).await, 401, "still protected");
    let answer = post(&proxy, &request("mock,text", false)).await;
    assert_eq!(answer.status, 200, "the key still works: {}", answer.text);
    assert!(
        !proxy.logs().contains("listening on 127.0.0.1 only"),
        "the log must not claim a loopback listener:\n{}",
        proxy.logs()
    );

    // `ccr status` (with the service's control token: it needs no key) tells the truth.
    let (code, out, err) = ccr_in(&proxy, &["status"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("0.0.0.0:"),
        "ccr status shows the real address:\n{out}"
    );
    assert!(
        out.contains("APIKEY is missing"),
        "and why the reload was refused:\n{out}"
    );

    // Putting the key back is accepted again.
    proxy.write_config(&exposed_config(&mock, "k-exposed-1"));
    eventually("the good config back", || async {
        health(&proxy).await["config_error"].is_null().then_some(())
    })
    .await;
}

/// A config file that disappears from under a running proxy is a failed load: the last good
/// config (and its key) keeps serving; the embedded default is for start-up only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_config_file_keeps_the_last_good_config() {
    let mock = MockUpstream::start();
    let config = exposed_config(&mock, "k-delete-2");
    // Found at the default location (no --config), as a CCR user runs it.
    let proxy = Proxy::start(ProxyOptions {
        config_flag: false,
        ..ProxyOptions::new(config.clone())
    });
    std::fs::remove_file(proxy.config_path()).unwrap();
    let error = eventually("the removal reported", || async {
        health(&proxy).await["config_error"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert!(error.contains("does not exist"), "{error}");
    let h = health(&proxy).await;
    assert_eq!(h["config_embedded_default"], false, "{h}");
    assert_eq!(
        keyless_status(&proxy).await,
        401,
        "the key is still required"
    );
    let answer = post(&proxy, &request("mock,text", false)).await;
    assert_eq!(
        answer.status, 200,
        "the last good config serves: {}",
        answer.text
    );

    // The file coming back is a normal reload.
    proxy.write_config(&config);
    eventually("the file back", || async {
        health(&proxy).await["config_error"].is_null().then_some(())
    })
    .await;
}

/// Syntax errors quote the broken line, but never a secret on it (or on the line before, where
/// its key is), and `/health` tells an unauthenticated caller nothing but liveness.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_lines_holding_secrets_are_not_quoted_anywhere() {
    let mock = MockUpstream::start();
    let good = exposed_config(&mock, "k-lines-3");
    let proxy = Proxy::start(ProxyOptions::new(good.clone()));
    let url = mock.chat_url();
    let cases = [
        (
            "PROXY_URL with user:password@ on a broken line",
            "{\n  \"APIKEY\": \"k-lines-3\",\n  \"HOST\": \"0.0.0.0\",\n  \"PROXY_URL\": \"http://bob:hunter2-proxy@proxy:8080\" oops\n}\n".to_string(),
            "hunter2-proxy",
        ),
        (
            "an api_base_url with credentials on a broken line",
            "{\n  \"APIKEY\": \"k-lines-3\",\n  \"HOST\": \"0.0.0.0\",\n  \"Providers\": [{\n    \"name\": \"mock\",\n    \"api_base_url\": \"http://alice:pw-in-url-7@127.0.0.1:9/v1\" \"models\": [\"text\"]\n  }]\n}\n".to_string(),
            "pw-in-url-7",
        ),
        (
            "an api_key value on the line after its key",
            format!(
                "{{\n  \"APIKEY\": \"k-lines-3\",\n  \"HOST\": \"0.0.0.0\",\n  \"Providers\": [{{\n    \"name\": \"mock\", \"api_base_url\": \"{url}\",\n    \"api_key\":\n      \"sk-next-line-8\" \"models\": [\"text\"]\n  }}]\n}}\n"
            ),
            "sk-next-line-8",
        ),
    ];
    for (what, text, secret) in &cases {
        let error = break_config(&proxy, &good, text, what).await;
        assert!(error.contains("invalid JSON5"), "{what}: {error}");
        assert!(
            !error.contains(secret),
            "{what}: /health/detailed echoes it: {error}"
        );
        let (_, status_out, _) = ccr_in(&proxy, &["status"]);
        assert!(status_out.contains("invalid JSON5"), "{what}: {status_out}");
        assert!(
            !status_out.contains(secret),
            "{what}: ccr status echoes it: {status_out}"
        );
        let path = proxy.config_path().display().to_string();
        let (code, out, err) = ccr_in(&proxy, &["config", "validate", "--config", &path]);
        assert_eq!(code, 1, "{what}: {out}{err}");
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{what}: validate echoes it: {err}"
        );
        assert!(!proxy.logs().contains(secret), "{what}: the log echoes it");
    }

    // Anyone may ask whether it is alive, and learn nothing else.
    let h = get(&proxy, "/health", &[]).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json(), json!({"status": "ok"}));
    let detailed = get(&proxy, "/health/detailed", &[]).await;
    assert_error(&detailed, 401, "authentication_error");
    assert!(
        !detailed.text.contains(".claude-code-router"),
        "{}",
        detailed.text
    );
}

/// The foreground log written to a file (stderr is not a terminal) has no colour codes, and
/// `HOST: 0.0.0.0` without a key is warned about once, saying what really happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_log_is_plain_text_and_warns_once() {
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    config["HOST"] = json!("0.0.0.0");
    let mut options = ProxyOptions::new(config);
    // An empty NO_COLOR means "not set" (no-color.org): only the terminal check is left.
    options.env.push(("NO_COLOR".into(), String::new()));
    let proxy = Proxy::start(options);
    assert_eq!(post(&proxy, &request("mock,text", false)).await.status, 200);
    let stderr = proxy.stderr();
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a log file:\n{stderr:?}"
    );
    let warnings = stderr
        .lines()
        .filter(|l| l.contains("APIKEY is not set") || l.contains("only listens on 127.0.0.1"))
        .count();
    assert_eq!(
        warnings, 1,
        "one warning about HOST without a key:\n{stderr}"
    );
    assert!(health(&proxy).await["listen"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
}
