//! The real Claude Code CLI through the real `ccr` binary to the mock OpenAI upstream:
//! a plain answer, a full Bash tool round trip, and `ccr code`.
//!
//! Claude Code comes from `tests/setup/install-clients.sh` (pinned, into
//! `.tools/clients/node`), or `$CLAUDE_BIN`. Without it every test here prints why on stderr
//! and passes without running (the README's test command runs the install script first).
//!
//! Claude Code runs headless: `claude -p PROMPT` with a throwaway `HOME` and working folder,
//! `ANTHROPIC_BASE_URL` at the proxy, any `ANTHROPIC_API_KEY`,
//! `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, in its own process group, killed (with its
//! children) after [`CLAUDE_TIMEOUT`] or when the test panics.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ccr_tests::mock::{message_text, BASH_TOOL_MARKER};
use ccr_tests::proxy::{ccr_binary, workspace_root};
use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions, RecordedRequest};
use serde_json::Value;

/// How long one Claude Code run may take before it is killed.
const CLAUDE_TIMEOUT: Duration = Duration::from_secs(120);

/// `$CLAUDE_BIN`, else `.tools/clients/node/node_modules/.bin/claude`; `None` (with a message
/// on stderr saying how to install it) when it is not there.
fn claude_bin(test: &str) -> Option<PathBuf> {
    let path = match std::env::var_os("CLAUDE_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => workspace_root().join(".tools/clients/node/node_modules/.bin/claude"),
    };
    if path.is_file() {
        return Some(path);
    }
    eprintln!(
        "SKIPPED {test}: Claude Code not found at {} (set CLAUDE_BIN, or install it with \
         tests/setup/install-clients.sh)",
        path.display()
    );
    None
}

/// What a finished child printed.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// A child in its own process group, killed with the whole group on drop (a timeout, or a
/// panicking test), so Claude Code's shells never outlive the test.
struct GroupGuard(Child);

impl GroupGuard {
    fn kill_group(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            // The group id is the child's pid (process_group(0)).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.0.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// A throwaway home and working folder for one Claude Code run.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("ccr-claude-code-")
            .tempdir()
            .expect("temp dir");
        fs::create_dir_all(dir.path().join("home")).unwrap();
        fs::create_dir_all(dir.path().join("work")).unwrap();
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
}

/// A command with the developer's Anthropic/Claude/proxy settings removed and the headless
/// essentials set: `HOME` (and the XDG folders) at `home`, no update checks or telemetry.
fn headless_command(program: &Path, home: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let upper = key.to_string_lossy().to_ascii_uppercase();
        if upper.starts_with("ANTHROPIC_")
            || upper.starts_with("CLAUDE_")
            || upper.starts_with("CCR_")
            || matches!(
                upper.as_str(),
                "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY" | "CI"
            )
        {
            command.env_remove(&key);
        }
    }
    command
        .current_dir(cwd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("NO_COLOR", "1");
    command
}

/// Runs `command` (stdin closed, output to files in `log_dir`) until it exits or
/// [`CLAUDE_TIMEOUT`] passes; panics on a timeout, after killing its process group.
fn run(mut command: Command, log_dir: &Path, what: &str) -> Run {
    use std::os::unix::process::CommandExt as _;
    let stdout_path = log_dir.join(format!("{what}.stdout"));
    let stderr_path = log_dir.join(format!("{what}.stderr"));
    command
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).unwrap())
        .stderr(fs::File::create(&stderr_path).unwrap())
        .process_group(0);
    let started = Instant::now();
    let mut child = GroupGuard(
        command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {what}: {e}")),
    );
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("polling the child") {
            break Some(status);
        }
        if started.elapsed() >= CLAUDE_TIMEOUT {
            child.kill_group();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Reap anything the child left in its group (a backgrounded shell...).
    child.kill_group();
    let stdout = fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    let Some(status) = status else {
        panic!(
            "{what} did not finish within {CLAUDE_TIMEOUT:?}; killed\n--- stdout ---\n{stdout}\n\
             --- stderr ---\n{stderr}"
        );
    };
    Run {
        status,
        stdout,
        stderr,
        elapsed: started.elapsed(),
    }
}

/// `claude -p PROMPT [extra...]` against `proxy`.
fn run_claude(
    claude: &Path,
    proxy: &Proxy,
    sandbox: &Sandbox,
    prompt: &str,
    extra: &[&str],
) -> Run {
    let mut command = headless_command(claude, &sandbox.home(), &sandbox.work());
    command
        .env("ANTHROPIC_BASE_URL", proxy.base_url())
        .env("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key")
        .arg("-p")
        .arg(prompt)
        .args(extra);
    run(command, sandbox.dir.path(), "claude")
}

/// The chat completions the mock received.
fn chat_requests(mock: &MockUpstream) -> Vec<RecordedRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/chat/completions"))
        .collect()
}

/// A short listing of recorded requests for failure messages.
fn describe_requests(requests: &[RecordedRequest]) -> String {
    requests
        .iter()
        .map(|r| {
            let messages: Vec<String> = r.body["messages"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .map(|m| {
                            let content = m["content"].to_string();
                            let cut: String = content.chars().take(160).collect();
                            format!("    {}: {cut}", m["role"])
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "  {} {} model={} stream={} tools={}\n{}",
                r.method,
                r.path,
                r.body["model"],
                r.body["stream"],
                r.body["tools"].as_array().map_or(0, Vec::len),
                messages.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn tool_names(request: &RecordedRequest) -> Vec<String> {
    request.body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The main-conversation request: the one that carries the user's prompt and the tools
/// (Claude Code may also send small side requests, e.g. for a title).
fn main_request<'a>(requests: &'a [RecordedRequest], prompt: &str) -> Option<&'a RecordedRequest> {
    requests.iter().find(|r| {
        !tool_names(r).is_empty()
            && r.body["messages"].as_array().is_some_and(|messages| {
                messages
                    .iter()
                    .any(|m| m["role"] == "user" && message_text(&m["content"]).contains(prompt))
            })
    })
}

#[test]
fn claude_code_plain_answer() {
    let Some(claude) = claude_bin("claude_code_plain_answer") else {
        return;
    };
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(
        &mock, "text",
    )));
    let sandbox = Sandbox::new();

    let run = run_claude(&claude, &proxy, &sandbox, "say hi", &[]);
    let requests = chat_requests(&mock);
    let context = format!(
        "{}\n--- upstream requests ---\n{}\n{}",
        run.describe(),
        describe_requests(&requests),
        proxy.logs()
    );
    assert!(run.status.success(), "claude failed\n{context}");
    assert!(
        run.stdout.contains("Hello from mock"),
        "claude did not print the mock's answer\n{context}"
    );

    // The translated Claude Code request reached the upstream in OpenAI form.
    let request = main_request(&requests, "say hi")
        .unwrap_or_else(|| panic!("no upstream request with the prompt and tools\n{context}"));
    assert_eq!(request.body["model"], "text", "{context}");
    assert_eq!(
        request.body["stream"], true,
        "Claude Code streams\n{context}"
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-mock"),
        "the provider key, not Claude Code's\n{context}"
    );
    let tools = tool_names(request);
    assert!(
        tools.iter().any(|t| t == "Bash") && tools.len() >= 5,
        "Claude Code's tools as OpenAI functions: {tools:?}\n{context}"
    );
    for tool in request.body["tools"].as_array().unwrap() {
        assert_eq!(tool["type"], "function", "{tool}");
        assert!(tool["function"]["parameters"].is_object(), "{tool}");
    }
    let messages = request.body["messages"].as_array().unwrap();
    assert_eq!(
        messages[0]["role"], "system",
        "Claude Code's system prompt comes first\n{context}"
    );
    let system = message_text(&messages[0]["content"]);
    assert!(system.contains("Claude"), "system prompt: {system:.300}");
    assert!(
        !system.contains("x-anthropic-billing-header"),
        "the attribution block must not reach a non-Anthropic upstream: {system:.300}"
    );
    eprintln!(
        "claude_code_plain_answer: claude ran in {:?}, {} upstream request(s), {} tools",
        run.elapsed,
        requests.len(),
        tools.len()
    );
}

#[test]
fn claude_code_bash_tool_round_trip() {
    let Some(claude) = claude_bin("claude_code_bash_tool_round_trip") else {
        return;
    };
    let mock = MockUpstream::start();
    let proxy = Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(
        &mock,
        "bash-tool",
    )));
    let sandbox = Sandbox::new();

    let prompt = "Print the marker with the Bash tool";
    let run = run_claude(
        &claude,
        &proxy,
        &sandbox,
        prompt,
        &["--allowedTools", "Bash"],
    );
    let requests = chat_requests(&mock);
    let context = format!(
        "{}\n--- upstream requests ---\n{}\n{}",
        run.describe(),
        describe_requests(&requests),
        proxy.logs()
    );
    assert!(run.status.success(), "claude failed\n{context}");

    // First turn: the prompt, answered by the mock with a Bash tool call.
    let first = requests
        .iter()
        .position(|r| main_request(std::slice::from_ref(r), prompt).is_some())
        .unwrap_or_else(|| panic!("no upstream request with the prompt\n{context}"));
    // A later turn carries Claude Code's tool result as an OpenAI `role:"tool"` message.
    let followup = requests[first + 1..]
        .iter()
        .find(|r| {
            r.body["messages"].as_array().is_some_and(|messages| {
                messages.iter().any(|m| {
                    m["role"] == "tool" && message_text(&m["content"]).contains(BASH_TOOL_MARKER)
                })
            })
        })
        .unwrap_or_else(|| {
            panic!("no later request carries a tool message with {BASH_TOOL_MARKER}\n{context}")
        });
    let messages = followup.body["messages"].as_array().unwrap();
    let tool_index = messages.iter().position(|m| m["role"] == "tool").unwrap();
    let assistant = &messages[tool_index - 1];
    assert_eq!(assistant["role"], "assistant", "{context}");
    let call = &assistant["tool_calls"][0];
    assert_eq!(call["type"], "function", "{assistant}");
    assert_eq!(call["function"]["name"], "Bash", "{assistant}");
    let arguments: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("tool call arguments are not JSON ({e}): {assistant}"));
    assert_eq!(
        arguments["command"], "echo ccr-roundtrip-$((6*7))",
        "{assistant}"
    );
    assert_eq!(
        messages[tool_index]["tool_call_id"], call["id"],
        "the tool result answers the call\n{context}"
    );

    assert!(
        run.stdout.contains(BASH_TOOL_MARKER),
        "claude's final answer should quote the command output\n{context}"
    );
    // Claude Code puts `role: "system"` messages after the user's turn; upstream, the
    // system text leads and every conversation ends with the user's or the tool's turn (the
    // mock answers the last message, and refuses what strict chat templates refuse).
    for request in &requests {
        let messages = request.body["messages"].as_array().unwrap();
        assert!(
            messages.iter().skip(1).all(|m| m["role"] != "system"),
            "a system message after the first\n{context}"
        );
        let last = messages.last().and_then(|m| m["role"].as_str());
        assert!(
            matches!(last, Some("user" | "tool")),
            "the conversation ends with {last:?}\n{context}"
        );
    }
    eprintln!(
        "claude_code_bash_tool_round_trip: claude ran in {:?}, {} upstream request(s)",
        run.elapsed,
        requests.len()
    );
}

#[test]
fn ccr_code_runs_claude_through_the_running_service() {
    let Some(claude) = claude_bin("ccr_code_runs_claude_through_the_running_service") else {
        return;
    };
    let mock = MockUpstream::start();
    let mut config = fixtures::mock_provider_config(&mock, "text");
    // With an APIKEY the proxy rejects requests without it: `ccr code` must hand it to
    // Claude Code (as ANTHROPIC_AUTH_TOKEN).
    config["APIKEY"] = "sk-ccr-code-test".into();
    let proxy = Proxy::start(ProxyOptions::new(config));
    let pid_file = proxy
        .home()
        .join(".claude-code-router/.claude-code-router.pid");
    assert_eq!(
        fs::read_to_string(&pid_file)
            .ok()
            .map(|s| s.trim().to_string()),
        Some(proxy.pid().to_string()),
        "the harness' service announces itself in {}",
        pid_file.display()
    );

    // `ccr code` finds the service through the pid/state files under $HOME, so it runs with
    // the service's HOME; Claude Code (exec'd by it) shares that HOME.
    let work = tempfile::tempdir().unwrap();
    let mut command = headless_command(&ccr_binary(), proxy.home(), work.path());
    command
        .env("CLAUDE_PATH", &claude)
        .args(["code", "-p", "say hi"]);
    let run = run(command, proxy.home(), "ccr-code");

    // A `ccr code` that missed the running service would have started a second one: stop it.
    let pid_now = fs::read_to_string(&pid_file).unwrap_or_default();
    let stray = pid_now
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|pid| *pid != proxy.pid());
    if let Some(pid) = stray {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }

    let requests = chat_requests(&mock);
    let context = format!(
        "{}\n--- upstream requests ---\n{}\n{}",
        run.describe(),
        describe_requests(&requests),
        proxy.logs()
    );
    assert_eq!(stray, None, "ccr code started another service\n{context}");
    assert!(
        !run.stderr.contains("started the router"),
        "ccr code should use the running service\n{context}"
    );
    assert!(run.status.success(), "ccr code failed\n{context}");
    assert!(
        run.stdout.contains("Hello from mock"),
        "claude (through ccr code) did not print the mock's answer\n{context}"
    );
    assert!(
        main_request(&requests, "say hi").is_some(),
        "no upstream request with the prompt\n{context}"
    );
    assert!(
        proxy.home().join(".claude.json").is_file(),
        "ccr code marks Claude Code's onboarding done"
    );
    eprintln!(
        "ccr_code_runs_claude_through_the_running_service: ccr code ran in {:?}",
        run.elapsed
    );
}

/// Nothing listens where the provider points (the embedded default's Ollama, not started):
/// the proxy's 502 says so with `x-should-retry: false`, so the real Claude Code prints the
/// reason after one request instead of retrying silently for minutes.
#[test]
fn claude_code_reports_an_unreachable_upstream_without_retrying() {
    let Some(claude) = claude_bin("claude_code_reports_an_unreachable_upstream_without_retrying")
    else {
        return;
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let proxy = Proxy::start(ProxyOptions::new(serde_json::json!({
        "Providers": [{"name": "ollama",
            "api_base_url": format!("http://127.0.0.1:{port}/v1/chat/completions"),
            "api_key": "ollama", "models": ["qwen2.5-coder:latest"]}],
        "Router": {"default": "ollama,qwen2.5-coder:latest"},
    })));
    let sandbox = Sandbox::new();
    let run = run_claude(&claude, &proxy, &sandbox, "hi", &[]);
    let context = format!("{}\n{}", run.describe(), proxy.logs());
    assert!(!run.status.success(), "claude should fail\n{context}");
    let printed = format!("{}{}", run.stdout, run.stderr);
    assert!(
        printed.contains(&format!("no Ollama at 127.0.0.1:{port}")),
        "claude prints the proxy's reason\n{context}"
    );
    let attempts = proxy
        .logs()
        .lines()
        .filter(|l| l.contains("request failed") && l.contains("qwen2.5-coder"))
        .count();
    // Claude Code retries a retryable 5xx ten times; without retries it sends its main
    // request (and at most one side request) once.
    assert!(
        (1..=2).contains(&attempts),
        "Claude Code sent {attempts} requests: it retried\n{context}"
    );
}
