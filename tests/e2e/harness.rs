//! Tests of the fixtures and of the `Proxy` process wrapper (run against a stand-in binary,
//! so no ccr build is needed).

use std::path::PathBuf;

use ccr_tests::fixtures::{
    self, claude_code_headers, claude_code_request, ClaudeCodeRequest, ATTRIBUTION_BLOCK,
    IDENTITY_BLOCK, SESSION_ID, TOOL_NAMES,
};
use ccr_tests::{MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

fn size(value: &Value) -> usize {
    serde_json::to_string(value).unwrap().len()
}

#[test]
fn request_sizes_hit_their_target() {
    for target in [20_000, 24_000, 38_000, 50_000, 77_000, 150_000, 300_000] {
        for stream in [false, true] {
            let request = claude_code_request(target, stream);
            let got = size(&request);
            assert!(
                (target..=target + 8).contains(&got),
                "target {target}, got {got}"
            );
        }
    }
    let tools = |target| {
        claude_code_request(target, true)["tools"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(tools(77_000), 24);
    assert!(tools(20_000) < 24);
    // Below the minimum the request is the minimum: system, 4 tools and one exchange.
    let small = claude_code_request(1_000, false);
    assert_eq!(small["tools"].as_array().unwrap().len(), 4);
    assert!(
        (10_000..=20_000).contains(&size(&small)),
        "{}",
        size(&small)
    );
    let forced = ClaudeCodeRequest::new(1_000).tool_count(24).build();
    assert_eq!(forced["tools"].as_array().unwrap().len(), 24);
}

#[test]
fn request_is_deterministic() {
    let a = serde_json::to_string(&claude_code_request(77_000, true)).unwrap();
    let b = serde_json::to_string(&claude_code_request(77_000, true)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn request_is_claude_code_shaped() {
    let request = claude_code_request(77_000, true);
    assert_eq!(size(&request), 77_000);
    assert_eq!(request["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(request["max_tokens"], 32000);
    assert_eq!(request["stream"], true);
    assert_eq!(request["thinking"], json!({"type": "adaptive"}));
    assert_eq!(request["output_config"]["effort"], "high");
    assert!(request["context_management"]["edits"].is_array());
    assert!(request["metadata"]["user_id"]
        .as_str()
        .unwrap()
        .ends_with(&format!("_account__session_{SESSION_ID}")));

    let system = request["system"].as_array().unwrap();
    assert_eq!(system.len(), 3);
    assert_eq!(system[0]["text"], ATTRIBUTION_BLOCK);
    assert!(system[0].get("cache_control").is_none());
    assert_eq!(system[1]["text"], IDENTITY_BLOCK);
    assert_eq!(system[2]["cache_control"], json!({"type": "ephemeral"}));
    assert!(system[2]["text"].as_str().unwrap().len() > 5_000);

    let tools = request["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOL_NAMES);
    for tool in tools {
        let description = tool["description"].as_str().unwrap();
        assert!(
            description.len() >= 300,
            "{}: {}",
            tool["name"],
            description.len()
        );
        let schema = &tool["input_schema"];
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["$schema"].is_string());
    }

    let messages = request["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "user");
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["type"], "tool_result");
    assert_eq!(
        last["content"].as_array().unwrap().last().unwrap()["cache_control"],
        json!({"type": "ephemeral"})
    );
    let system_at = messages.iter().position(|m| m["role"] == "system").unwrap();
    assert!(system_at > 0 && system_at < messages.len() - 1);
    // Every tool_use is answered by the next user message.
    for (i, message) in messages.iter().enumerate() {
        if message["role"] != "assistant" {
            continue;
        }
        let blocks = message["content"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "thinking");
        assert!(blocks[0]["signature"].is_string());
        let tool_use = blocks.iter().find(|b| b["type"] == "tool_use").unwrap();
        assert!(TOOL_NAMES.contains(&tool_use["name"].as_str().unwrap()));
        let answer = messages[i + 1..]
            .iter()
            .find(|m| m["role"] == "user")
            .unwrap();
        assert_eq!(answer["content"][0]["tool_use_id"], tool_use["id"]);
    }
}

#[test]
fn builder_options() {
    let request = ClaudeCodeRequest::new(30_000)
        .stream(false)
        .model("claude-haiku-4-5")
        .thinking(None)
        .effort(None)
        .context_management(false)
        .max_tokens(512)
        .build();
    assert_eq!(request["stream"], false);
    assert_eq!(request["model"], "claude-haiku-4-5");
    assert_eq!(request["max_tokens"], 512);
    for key in ["thinking", "output_config", "context_management"] {
        assert!(request.get(key).is_none(), "{key}");
    }
    let headers = claude_code_headers();
    let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    assert_eq!(get("anthropic-version"), Some("2023-06-01"));
    assert_eq!(get("x-claude-code-session-id"), Some(SESSION_ID));
    assert!(get("anthropic-beta")
        .unwrap()
        .contains("claude-code-20250219"));
}

/// A stand-in for `ccr`: a shell script that checks its arguments and environment, then
/// execs the mock upstream (which answers `GET /health`) on the requested port.
fn fake_ccr(dir: &std::path::Path) -> PathBuf {
    let script = dir.join("fake-ccr");
    let mock = env!("CARGO_BIN_EXE_mock-upstream");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
[ "$1" = start ] || {{ echo "expected start, got $1" >&2; exit 3; }}
shift
port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift ;;
    --config) test -f "$2" || {{ echo "no config at $2" >&2; exit 4; }} ;;
    --fail) echo "fake ccr failing on purpose" >&2; exit 5 ;;
  esac
  shift
done
echo "fake ccr: HOME=$HOME port=$port"
exec "{mock}" --port "$port"
"#
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

#[tokio::test]
async fn proxy_wrapper_runs_waits_and_cleans_up() {
    let scripts = tempfile::tempdir().unwrap();
    let mock = MockUpstream::start();
    let config = fixtures::mock_provider_config(&mock, "tools");
    assert_eq!(config["Providers"][0]["api_base_url"], mock.chat_url());
    let proxy = Proxy::start(ProxyOptions {
        binary: Some(fake_ccr(scripts.path())),
        ..ProxyOptions::new(config.clone())
    });
    let home = proxy.home().to_path_buf();
    assert!(home.starts_with(std::env::temp_dir()));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(proxy.config_path()).unwrap()).unwrap();
    assert_eq!(written, config);
    assert_eq!(
        proxy.config_path(),
        home.join(".claude-code-router/config.json")
    );

    let health = proxy
        .client()
        .get(format!("{}/health", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let logs = proxy.logs();
    assert!(
        logs.contains(&format!("HOME={} port={}", home.display(), proxy.port())),
        "{logs}"
    );

    proxy.write_config(&json!({"Router": {}}));
    assert!(std::fs::read_to_string(proxy.config_path())
        .unwrap()
        .contains("Router"));

    let pid = proxy.pid();
    drop(proxy);
    assert!(!home.exists(), "temporary HOME removed");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true),
        "child is gone"
    );
}

#[test]
fn proxy_wrapper_reports_failures() {
    let scripts = tempfile::tempdir().unwrap();
    let error = Proxy::try_start(ProxyOptions {
        binary: Some(fake_ccr(scripts.path())),
        extra_args: vec!["--fail".into()],
        ..ProxyOptions::default()
    })
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("fake ccr failing on purpose"), "{message}");

    let error = Proxy::try_start(ProxyOptions {
        binary: Some(scripts.path().join("missing")),
        ..ProxyOptions::default()
    })
    .unwrap_err();
    assert!(format!("{error:#}").contains("build it first: cargo build -p ccr"));
}
