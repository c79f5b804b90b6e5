//! Contract versioning with checked-in builds: `tests/data/contract-0.1.0/` holds the
//! `rust-transformer` example built against `ccr:plugin@0.1.0` (before the host added
//! `host.log-enabled` in 0.1.1), `tests/data/contract-0.2.0/` the same plugin built against
//! an incompatible `0.2.0` snapshot. The first keeps loading and working; the second is
//! rejected with a message naming both versions.

use std::process::Command;

use ccr_tests::proxy::{ccr_binary, workspace_root};
use ccr_tests::{MockUpstream, Proxy, ProxyOptions};
use serde_json::{json, Value};

fn data(version: &str) -> std::path::PathBuf {
    workspace_root()
        .join("tests/data")
        .join(format!("contract-{version}"))
        .join("rust-transformer.wasm")
}

/// The contract version the host implements: the `package` line of `wit/worlds.wit`.
fn host_contract() -> String {
    let wit = std::fs::read_to_string(workspace_root().join("wit/worlds.wit")).unwrap();
    wit.lines()
        .find_map(|l| l.trim().strip_prefix("package ccr:plugin@"))
        .map(|v| v.trim_end_matches(';').to_string())
        .expect("package line")
}

fn check(path: &std::path::Path) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(ccr_binary())
        .args(["plugin", "check"])
        .arg(path)
        .env("HOME", home.path())
        .output()
        .expect("running ccr plugin check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn an_older_compatible_build_still_loads() {
    let (code, out) = check(&data("0.1.0"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ccr:plugin@0.1.0"), "{out}");
    assert!(out.contains("rust-transformer"), "{out}");
}

#[test]
fn an_incompatible_build_is_rejected_naming_both_versions() {
    let (code, out) = check(&data("0.2.0"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ccr:plugin@0.2.0"), "{out}");
    assert!(
        out.contains(&format!("ccr:plugin@{}", host_contract())),
        "{out}"
    );
}

#[tokio::test]
async fn an_older_build_works_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("0.1.0"), dir.path().join("old.wasm")).unwrap();
    let mock = MockUpstream::start();
    let mut options = ProxyOptions::new(json!({
        "LOG": false,
        "Providers": [{
            "name": "m", "api_base_url": mock.chat_url(), "api_key": "k", "models": ["echo"],
            "transformer": {"use": [["rust-transformer", {"max_tokens": 77}]]}
        }],
        "Router": {"default": "m,echo"},
    }));
    options.plugins_dir = Some(dir.path().to_path_buf());
    let proxy = Proxy::start(options);
    let response = proxy
        .post_messages(&json!({
            "model": "claude-sonnet-4-5", "max_tokens": 5000,
            "messages": [{"role": "user", "content": "hi"}]
        }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let upstream: Value =
        serde_json::from_str(body["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(upstream["max_tokens"], 77);
    let recorded = mock.last_request().unwrap();
    assert_eq!(recorded.header("x-ccr-example"), Some("clamped"));
}
