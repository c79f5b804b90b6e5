//! The real Anthropic Python SDK against the real `ccr` binary, with the mock OpenAI
//! upstream behind it: `tests/python/sdk_check.py` parses every kind of answer (text, tools,
//! reasoning; whole and streamed through the SDK's `messages.stream` helpers), the error
//! classes the SDK raises for upstream failures, and `count_tokens`.
//!
//! The SDK comes from `tests/setup/install-clients.sh` (pinned, into `.tools/venv`), or
//! `$CCR_TEST_PYTHON` (a Python with `anthropic` installed). Without it the test prints why
//! on stderr and passes without running.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccr_tests::proxy::workspace_root;
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};

/// How long the whole script may take before it is killed.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A Python that can `import anthropic`, or `None` with a message on stderr.
fn python_with_sdk() -> Option<PathBuf> {
    let python = match std::env::var_os("CCR_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".tools/venv/bin/python"),
    };
    let importable = python.is_file()
        && Command::new(&python)
            // find_spec, not import: importing the SDK takes over a second.
            .args([
                "-c",
                "import importlib.util, sys; sys.exit(importlib.util.find_spec('anthropic') is None)",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if importable {
        return Some(python);
    }
    eprintln!(
        "SKIPPED python_sdk: no Python with the anthropic SDK at {} (set CCR_TEST_PYTHON, or \
         install it with tests/setup/install-clients.sh)",
        python.display()
    );
    None
}

#[test]
fn anthropic_python_sdk_against_the_proxy() {
    let Some(python) = python_with_sdk() else {
        return;
    };
    let script = workspace_root().join("tests/python/sdk_check.py");
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(
        &mock, "text",
    )));

    let out_dir = tempfile::tempdir().unwrap();
    let stdout_path = out_dir.path().join("stdout");
    let stderr_path = out_dir.path().join("stderr");
    let mut command = Command::new(&python);
    for (key, _) in std::env::vars_os() {
        let upper = key.to_string_lossy().to_ascii_uppercase();
        if upper.starts_with("ANTHROPIC_")
            || matches!(
                upper.as_str(),
                "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY"
            )
        {
            command.env_remove(&key);
        }
    }
    let started = Instant::now();
    let mut child = command
        .arg(&script)
        .arg(proxy.base_url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("spawning python");
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling python") {
            break Some(status);
        }
        if started.elapsed() >= SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let report = format!(
        "--- sdk_check.py stdout ---\n{stdout}\n--- sdk_check.py stderr ---\n{stderr}\n{}",
        proxy.logs()
    );
    let Some(status) = status else {
        panic!("sdk_check.py did not finish within {SCRIPT_TIMEOUT:?}; killed\n{report}");
    };
    assert!(status.success(), "sdk_check.py failed ({status})\n{report}");

    // The summary is the last line; every check ran and passed.
    let summary: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no JSON summary on the last line\n{report}"));
    assert_eq!(summary["failed"], serde_json::json!({}), "{report}");
    let passed = summary["passed"].as_array().map_or(0, Vec::len);
    assert!(passed >= 15, "only {passed} checks ran\n{report}");

    // The SDK's calls reached the mock through the proxy (count_tokens is answered locally).
    let models: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.body["model"].as_str().map(str::to_string))
        .collect();
    for model in [
        "text",
        "tools",
        "reasoning",
        "error-429",
        "error-500",
        "midstream-error",
    ] {
        assert!(
            models.iter().any(|m| m == model),
            "the mock never saw model {model}: {models:?}"
        );
    }
    eprintln!(
        "anthropic_python_sdk_against_the_proxy: {passed} checks passed in {elapsed:?} (sdk {})",
        summary["sdk"]
    );
}
