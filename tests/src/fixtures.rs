//! Claude Code-shaped requests and headers, and a `ccr` config pointing at a mock.
//!
//! [`claude_code_request`] builds what Claude Code sends to `POST /v1/messages` in a long
//! session: the attribution block, the identity block and long instructions as `system`
//! text blocks with `cache_control`, 24 tools with long descriptions and strict JSON schemas,
//! adaptive thinking, `output_config.effort`, `context_management`, a `metadata.user_id`
//! session fingerprint, and a multi-turn history (thinking + text + `tool_use`, then
//! `tool_result`s) with a `role:"system"` reminder mid-conversation, grown until the
//! serialized request reaches the requested size. Output is deterministic: the same input
//! gives byte-identical JSON.

use serde_json::{json, Value};

use crate::mock::{self, MockUpstream, Wire};

/// The model Claude Code asks for in these fixtures.
pub const CLAUDE_MODEL: &str = "claude-sonnet-4-5-20250929";

/// The session id used in `metadata.user_id` and the `x-claude-code-session-id` header.
pub const SESSION_ID: &str = "4f1c2a9e-7b3d-4e8a-9c6f-2d5b8e1a0c73";

/// The `system[0]` attribution block text.
pub const ATTRIBUTION_BLOCK: &str =
    "x-anthropic-billing-header: cc_version=2.0.14; cc_entrypoint=cli; cch=abc;";

/// The `system[1]` identity block text.
pub const IDENTITY_BLOCK: &str = "You are Claude Code, Anthropic's official CLI for Claude.";

/// The names of the 24 tools, in request order.
pub const TOOL_NAMES: [&str; 24] = [
    "Task",
    "Bash",
    "Glob",
    "Grep",
    "ExitPlanMode",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "TodoWrite",
    "WebSearch",
    "BashOutput",
    "KillShell",
    "SlashCommand",
    "Skill",
    "AskUserQuestion",
    "ListMcpResourcesTool",
    "ReadMcpResourceTool",
    "mcp__ide__getDiagnostics",
    "mcp__ide__executeCode",
    "mcp__github__create_issue",
    "mcp__github__search_code",
];

/// Builder for a Claude Code-shaped request; [`claude_code_request`] is the common case.
#[derive(Debug, Clone)]
pub struct ClaudeCodeRequest {
    /// Grow the history until the compact JSON is at least this many bytes (see
    /// [`ClaudeCodeRequest::build`]).
    pub target_bytes: usize,
    /// How many of the 24 tools to include (in [`TOOL_NAMES`] order). None (the default):
    /// all 24 when they fit in `target_bytes` with one exchange of history (about 38 KB),
    /// else tools are dropped from the end (MCP tools first) until the request fits, down to 4.
    pub tool_count: Option<usize>,
    /// The `stream` field.
    pub stream: bool,
    /// The `model` field (default [`CLAUDE_MODEL`]).
    pub model: String,
    /// The `max_tokens` field (default 32000).
    pub max_tokens: u64,
    /// The `thinking` field; default `{"type":"adaptive"}`, None leaves it out.
    pub thinking: Option<Value>,
    /// `output_config.effort`; default `"high"`, None leaves `output_config` out.
    pub effort: Option<String>,
    /// Include `context_management` (default true).
    pub context_management: bool,
}

impl ClaudeCodeRequest {
    /// Defaults for a request of about `target_bytes`.
    pub fn new(target_bytes: usize) -> ClaudeCodeRequest {
        ClaudeCodeRequest {
            target_bytes,
            stream: true,
            model: CLAUDE_MODEL.to_string(),
            max_tokens: 32000,
            thinking: Some(json!({"type": "adaptive"})),
            effort: Some("high".to_string()),
            context_management: true,
            tool_count: None,
        }
    }

    /// Forces the number of tools (1..=24) instead of choosing it from the target size.
    pub fn tool_count(mut self, count: usize) -> Self {
        self.tool_count = Some(count.clamp(1, TOOL_NAMES.len()));
        self
    }

    /// Sets `stream`.
    pub fn stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }

    /// Sets `model`.
    pub fn model(mut self, model: &str) -> Self {
        self.model = model.to_string();
        self
    }

    /// Sets `max_tokens`.
    pub fn max_tokens(mut self, max_tokens: u64) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Sets or removes `thinking`.
    pub fn thinking(mut self, thinking: Option<Value>) -> Self {
        self.thinking = thinking;
        self
    }

    /// Sets or removes `output_config.effort`.
    pub fn effort(mut self, effort: Option<&str>) -> Self {
        self.effort = effort.map(str::to_string);
        self
    }

    /// Includes or leaves out `context_management`.
    pub fn context_management(mut self, on: bool) -> Self {
        self.context_management = on;
        self
    }

    /// Builds the request. Its compact serialization (`serde_json::to_string`) is between
    /// `target_bytes` and `target_bytes + 8` bytes, unless the target is below the minimum:
    /// system, the tools and one exchange of history (about 38 KB with 24 tools, 16 KB with
    /// the 4 tools automatic sizing keeps at least).
    pub fn build(&self) -> Value {
        let mut request = json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": [
                {"type": "text", "text": ATTRIBUTION_BLOCK},
                {"type": "text", "text": IDENTITY_BLOCK, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": instructions(), "cache_control": {"type": "ephemeral"}}
            ],
            "tools": tools(),
            "metadata": {"user_id": format!(
                "user_3c5e8a1f0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e_account__session_{SESSION_ID}"
            )},
            "messages": [],
            "stream": self.stream,
        });
        if let Some(thinking) = &self.thinking {
            request["thinking"] = thinking.clone();
        }
        if let Some(effort) = &self.effort {
            request["output_config"] = json!({"effort": effort});
        }
        if self.context_management {
            request["context_management"] =
                json!({"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]});
        }

        // Size bookkeeping without reserializing everything per turn: the empty request plus
        // each message plus one comma between messages. The mid-conversation system reminder
        // is inserted at the end but counted from the start.
        let reminder = system_reminder();
        let reminder_len = serialized_len(&reminder) + 1;
        let mut messages = vec![first_user_message()];
        let mut size = serialized_len(&request) + serialized_len(&messages[0]) + reminder_len;
        let tool_count = self.tool_count.unwrap_or_else(|| {
            const CACHE_CONTROL_LEN: usize = r#","cache_control":{"type":"ephemeral"}"#.len();
            let (assistant, user) = exchange(0);
            let mut minimum =
                size + serialized_len(&assistant) + serialized_len(&user) + 2 + CACHE_CONTROL_LEN;
            let tools = request["tools"].as_array().expect("tools");
            let mut count = tools.len();
            while minimum > self.target_bytes && count > 4 {
                count -= 1;
                minimum -= serialized_len(&tools[count]) + 1;
            }
            count
        });
        let tools = request["tools"].as_array_mut().expect("tools");
        for tool in tools.drain(tool_count.min(tools.len())..) {
            size -= serialized_len(&tool) + 1;
        }
        let mut exchanges = 0;
        while size < self.target_bytes || exchanges == 0 {
            let (assistant, user) = exchange(exchanges);
            size += serialized_len(&assistant) + serialized_len(&user) + 2;
            messages.push(assistant);
            messages.push(user);
            exchanges += 1;
        }
        request["messages"] = Value::Array(messages);
        fit_to_size(
            &mut request,
            self.target_bytes.saturating_sub(reminder_len),
            exchanges,
        );
        // After the first tool result when there are two exchanges or more, else right after
        // the first user message; never last.
        let messages = request["messages"].as_array_mut().expect("messages");
        let at = if messages.len() >= 5 { 3 } else { 1 };
        messages.insert(at, reminder);
        request
    }
}

/// Adjusts the last tool result so the request is within a few bytes above `target`: drops
/// the last exchange if trimming cannot absorb the excess, marks the last block with
/// `cache_control` (as Claude Code does), pads the result when short, then trims it.
fn fit_to_size(request: &mut Value, target: usize, exchanges: usize) {
    let last_result_len = |request: &Value| {
        let messages = request["messages"].as_array().expect("messages");
        messages[messages.len() - 1]["content"][0]["content"]
            .as_str()
            .map_or(0, str::len)
    };
    let size = serialized_len(request);
    if size > target && exchanges > 1 && size - target + 128 > last_result_len(request) {
        let messages = request["messages"].as_array_mut().expect("messages");
        messages.truncate(messages.len() - 2);
    }
    let messages = request["messages"].as_array_mut().expect("messages");
    let last = messages.len() - 1;
    if let Some(block) = messages[last]["content"]
        .as_array_mut()
        .and_then(|blocks| blocks.last_mut())
    {
        block["cache_control"] = json!({"type": "ephemeral"});
    }
    let mut size = serialized_len(request);
    let messages = request["messages"].as_array_mut().expect("messages");
    if size < target {
        let content = &mut messages[last]["content"][0]["content"];
        let mut text = content.as_str().unwrap_or_default().to_string();
        text.push_str(&filler(target - size + 16));
        *content = Value::String(text);
        size = serialized_len(request);
    }
    let messages = request["messages"].as_array_mut().expect("messages");
    if size > target {
        trim_tool_result(&mut messages[last], size - target);
    }
}

/// Plain ASCII log lines, `len` bytes or a little more.
fn filler(len: usize) -> String {
    let mut out = String::with_capacity(len + 128);
    let mut line = 0;
    while out.len() < len {
        out.push_str(&format!(
            "[{line:05}] stream: framed event of {} bytes; pending buffer {} bytes; upstream still open\n",
            64 + (line * 37) % 900,
            (line * 53) % 4096
        ));
        line += 1;
    }
    out
}

/// A Claude Code-shaped request of about `target_bytes` (compact JSON; see
/// [`ClaudeCodeRequest::build`] for the exact bound).
pub fn claude_code_request(target_bytes: usize, stream: bool) -> Value {
    ClaudeCodeRequest::new(target_bytes).stream(stream).build()
}

/// The headers Claude Code 2.0.14 sends to a custom `ANTHROPIC_BASE_URL` (no credentials:
/// add `x-api-key` or `authorization` yourself).
pub fn claude_code_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("anthropic-version", "2023-06-01"),
        (
            "anthropic-beta",
            "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,fine-grained-tool-streaming-2025-05-14",
        ),
        ("anthropic-dangerous-direct-browser-access", "true"),
        ("x-app", "cli"),
        ("user-agent", "claude-cli/2.0.14 (external, cli)"),
        ("x-claude-code-session-id", SESSION_ID),
        ("x-client-request-id", "8d2f6a4c-1e3b-4d5f-a7c9-0b2e4f6a8c1d"),
        ("x-stainless-lang", "js"),
        ("x-stainless-package-version", "0.60.0"),
        ("x-stainless-os", "Linux"),
        ("x-stainless-arch", "x64"),
        ("x-stainless-runtime", "node"),
        ("x-stainless-runtime-version", "v22.19.0"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-timeout", "600"),
    ]
}

/// A CCR config with one provider `mock` at `mock.chat_url()` (api key `sk-mock`, every name
/// of [`MODEL_NAMES`](crate::mock::MODEL_NAMES) as a model) and `Router.default = "mock,<default_model>"`. Add other
/// keys (`APIKEY`, `Router.background`, transformers...) to the returned value as needed.
pub fn mock_provider_config(mock: &MockUpstream, default_model: &str) -> Value {
    json!({
        "LOG": false,
        "Providers": [mock::mock_provider_config(mock, Wire::OpenAi, default_model)],
        "Router": {"default": format!("mock,{default_model}")}
    })
}

/// Length of the compact JSON of `value`.
fn serialized_len(value: &Value) -> usize {
    serde_json::to_string(value).expect("serializable").len()
}

/// Length of a string's JSON encoding without the quotes, char by char as serde_json writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Shortens the first tool result of `message` by at most `excess` serialized bytes (keeping
/// at least 64 chars), so the request lands just above its target.
fn trim_tool_result(message: &mut Value, excess: usize) {
    let Some(content) = message["content"][0]["content"].as_str() else {
        return;
    };
    let total: usize = content.chars().map(escaped_len).sum();
    let keep_at_least = total.saturating_sub(excess);
    let mut kept = 0;
    let mut end = 0;
    for (index, c) in content.char_indices() {
        if kept >= keep_at_least && index >= 64 {
            break;
        }
        kept += escaped_len(c);
        end = index + c.len_utf8();
    }
    let trimmed = content[..end].to_string();
    message["content"][0]["content"] = Value::String(trimmed);
}

fn first_user_message() -> Value {
    json!({"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# claudeMd\nCodebase and user instructions are shown below. Be sure to adhere to these instructions.\n\nContents of /home/dev/project/CLAUDE.md (project instructions, checked into the codebase):\n\n# Project notes\n- Build with `cargo build --workspace`; run `cargo test --workspace` before committing.\n- Keep modules small and named after what they do.\n- Errors carry context all the way to the user.\n</system-reminder>"},
        {"type": "text", "text": "The request router drops the last SSE event when the upstream closes the stream without a trailing newline. Find where the stream is framed, fix it, and add a regression test."}
    ]})
}

fn system_reminder() -> Value {
    json!({"role": "system", "content": [{
        "type": "text",
        "text": "<system-reminder>\nThe TodoWrite tool hasn't been used recently. If you're working on tasks that would benefit from tracking progress, consider using the TodoWrite tool to track progress. Only use it if it's relevant to the current work. This is just a gentle reminder - ignore if not applicable.\n</system-reminder>",
        "cache_control": {"type": "ephemeral"}
    }]})
}

/// A deterministic pseudo-random stream (xorshift) so turns differ without any real
/// randomness.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

const MODULES: &[&str] = &[
    "stream/sse",
    "server/handler",
    "upstream/client",
    "routing/rules",
    "config/load",
    "plugins/registry",
    "tokens/count",
    "usage/ledger",
    "stream/ping",
    "server/auth",
];

/// One assistant turn (thinking, text, tool_use) and the user turn with its result.
fn exchange(turn: usize) -> (Value, Value) {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ (turn as u64 + 1).wrapping_mul(0x1000_0000_01B3));
    let module = MODULES[turn % MODULES.len()];
    let file = format!("/home/dev/project/host/src/{module}.rs");
    let tool_id = format!("toolu_01{}", noise.token(22));
    let (thinking, text, name, input, result): (String, String, &str, Value, String) = match turn % 6 {
        0 => (
            format!("The bug is about SSE framing, so the place to look first is the module that splits the upstream byte stream into events. {module} looks like the right candidate; I should read it before changing anything, and keep an eye on how a trailing partial line is handled at end of stream."),
            format!("Let me read `{module}.rs` to see how events are framed."),
            "Read",
            json!({"file_path": file}),
            rust_listing(turn, &mut noise),
        ),
        1 => (
            "The framing code buffers until it sees a blank line. At end of stream the leftover buffer is dropped instead of flushed. I want to know every caller of the framer before changing its contract.".to_string(),
            "I'll search for the callers of the framer.".to_string(),
            "Grep",
            json!({"pattern": "fn (frame|split)_events", "path": "host/src", "output_mode": "content", "-n": true, "-C": 2}),
            grep_output(turn, &mut noise),
        ),
        2 => (
            format!("Two call sites. The fix belongs in the framer itself: on end of input, emit whatever complete `data:` lines remain. Let me run the existing tests of {module} first to have a baseline."),
            "Running the existing stream tests for a baseline.".to_string(),
            "Bash",
            json!({"command": format!("cargo test -p ccr --lib {} 2>&1 | tail -40", module.replace('/', "::")), "description": "Run stream module tests", "timeout": 120000}),
            test_output(turn, &mut noise),
        ),
        3 => (
            "Baseline is green, which means no test covers the unterminated final event. I'll change the end-of-stream branch to flush the pending buffer through the same parser used for complete events.".to_string(),
            "Now the fix: flush the pending buffer at end of stream.".to_string(),
            "Edit",
            json!({
                "file_path": file,
                "old_string": "        None => return Ok(None),\n",
                "new_string": "        None if !self.pending.is_empty() => return self.flush_pending(),\n        None => return Ok(None),\n",
                "replace_all": false
            }),
            format!("The file {file} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{}", rust_listing(turn, &mut noise).lines().take(14).collect::<Vec<_>>().join("\n")),
        ),
        4 => (
            "I should check whether there are fixture files for truncated streams elsewhere in the tree that I could reuse for the regression test.".to_string(),
            "Looking for existing stream fixtures.".to_string(),
            "Glob",
            json!({"pattern": "**/fixtures/**/*.sse", "path": "/home/dev/project"}),
            (0..24)
                .map(|i| format!("/home/dev/project/tests/fixtures/streams/{}-{}.sse", module.replace('/', "-"), i * 7 + turn))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => (
            "Time to record progress: the framing fix is in, the regression test is next, then the full suite.".to_string(),
            "Updating the task list.".to_string(),
            "TodoWrite",
            json!({"todos": [
                {"content": "Find where SSE events are framed", "status": "completed", "activeForm": "Finding where SSE events are framed"},
                {"content": "Flush the pending buffer at end of stream", "status": "completed", "activeForm": "Flushing the pending buffer at end of stream"},
                {"content": format!("Add a regression test in {module}"), "status": "in_progress", "activeForm": "Adding a regression test"},
                {"content": "Run the full test suite", "status": "pending", "activeForm": "Running the full test suite"}
            ]}),
            "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable".to_string(),
        ),
    };
    let signature = format!("Eq{}", noise.token(340));
    let assistant = json!({"role": "assistant", "content": [
        {"type": "thinking", "thinking": thinking, "signature": signature},
        {"type": "text", "text": text},
        {"type": "tool_use", "id": tool_id, "name": name, "input": input}
    ]});
    let mut blocks =
        vec![json!({"type": "tool_result", "tool_use_id": tool_id, "content": result})];
    if turn % 4 == 3 {
        blocks.push(json!({"type": "text", "text": "<system-reminder>\nWhenever you read a file, you should consider whether it looks malicious. If it does, you MUST refuse to improve or augment the code.\n</system-reminder>"}));
    }
    (assistant, json!({"role": "user", "content": blocks}))
}

/// `cat -n`-style Rust source as the Read tool returns it.
fn rust_listing(turn: usize, noise: &mut Noise) -> String {
    let body = [
        "use bytes::{Bytes, BytesMut};",
        "use memchr::memmem;",
        "",
        "/// Splits an upstream byte stream into SSE events.",
        "pub struct EventFramer {",
        "    pending: BytesMut,",
        "    max_event_bytes: usize,",
        "}",
        "",
        "impl EventFramer {",
        "    pub fn new(max_event_bytes: usize) -> Self {",
        "        Self { pending: BytesMut::new(), max_event_bytes }",
        "    }",
        "",
        "    /// Feeds bytes; returns every complete event they finish.",
        "    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Bytes>, FrameError> {",
        "        self.pending.extend_from_slice(chunk);",
        "        let mut events = Vec::new();",
        "        while let Some(end) = memmem::find(&self.pending, b\"\\n\\n\") {",
        "            let event = self.pending.split_to(end + 2).freeze();",
        "            events.push(event);",
        "        }",
        "        if self.pending.len() > self.max_event_bytes {",
        "            return Err(FrameError::TooLarge(self.pending.len()));",
        "        }",
        "        Ok(events)",
        "    }",
        "",
        "    pub fn finish(&mut self) -> Result<Option<Bytes>, FrameError> {",
        "        match self.next_line() {",
        "            Some(line) => Ok(Some(line)),",
        "        None => return Ok(None),",
        "        }",
        "    }",
        "}",
    ];
    let mut out = String::new();
    for (i, line) in body.iter().enumerate() {
        out.push_str(&format!("{:>6}\u{2192}{line}\n", i + 1 + turn * 3));
    }
    out.push_str(&format!(
        "{:>6}\u{2192}// build id {}\n",
        body.len() + 1 + turn * 3,
        noise.token(24)
    ));
    out.push_str("\n<system-reminder>\nWhenever you read a file, you should consider whether it looks malicious. If it does, you MUST refuse to improve or augment the code. You can still analyze existing code, write reports, or answer high-level questions about the code behavior.\n</system-reminder>\n");
    out
}

fn grep_output(turn: usize, noise: &mut Noise) -> String {
    (0..14)
        .map(|i| {
            let module = MODULES[(turn + i) % MODULES.len()];
            format!(
                "host/src/{module}.rs:{}:    let events = framer.split_events(&chunk)?; // {}",
                40 + i * 11,
                noise.token(10)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn test_output(turn: usize, noise: &mut Noise) -> String {
    let mut out = String::from("   Compiling ccr v0.1.0 (/home/dev/project/host)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 7.42s\n     Running unittests src/lib.rs (target/debug/deps/ccr-3f2a9c1d7e5b8a60)\n\n");
    let count = 18;
    out.push_str(&format!("running {count} tests\n"));
    for i in 0..count {
        let module = MODULES[(turn + i) % MODULES.len()].replace('/', "::");
        out.push_str(&format!(
            "test {module}::tests::case_{}_{} ... ok\n",
            i,
            noise.token(6).to_lowercase()
        ));
    }
    out.push_str(&format!(
        "\ntest result: ok. {count} passed; 0 failed; 0 ignored; 0 measured; 212 filtered out; finished in 0.0{}s\n",
        turn % 10
    ));
    out
}

/// The long `system[2]` block: Claude Code-style operating instructions plus an `<env>`.
fn instructions() -> String {
    let mut text = String::from(
        "\nYou are an interactive CLI tool that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user.\n\n\
IMPORTANT: Assist with defensive security tasks only. Refuse to create, modify, or improve code that may be used maliciously. Allow security analysis, detection rules, vulnerability explanations, defensive tools, and security documentation.\n\
IMPORTANT: You must NEVER generate or guess URLs for the user unless you are confident that the URLs are for helping the user with programming.\n\n\
If the user asks for help or wants to give feedback inform them of the following:\n\
- /help: Get help with using Claude Code\n\
- To give feedback, users should report the issue on the project's issue tracker\n\n\
# Tone and style\n\
You should be concise, direct, and to the point, while providing complete information and matching the level of detail you provide in your response with the level of complexity of the user's query or the work you have completed.\n\
A concise response is generally less than 4 lines, not including tool calls or code generated. You should provide more detail when the task is complex or when the user asks you to.\n\
IMPORTANT: You should minimize output tokens as much as possible while maintaining helpfulness, quality, and accuracy. Only address the specific task at hand, avoiding tangential information unless absolutely critical for completing the request.\n\
Do not add additional code explanation summary unless requested by the user. After working on a file, briefly confirm that you have completed the task, rather than providing an explanation of what you did.\n\
Your output will be displayed on a command line interface. Your responses can use Github-flavored markdown for formatting, and will be rendered in a monospace font using the CommonMark specification.\n\n\
# Proactiveness\n\
You are allowed to be proactive, but only when the user asks you to do something. You should strive to strike a balance between doing the right thing when asked, including taking actions and follow-up actions, and not surprising the user with actions you take without asking.\n\n\
# Professional objectivity\n\
Prioritize technical accuracy and truthfulness over validating the user's beliefs. Focus on facts and problem-solving, providing direct, objective technical info without any unnecessary superlatives, praise, or emotional validation.\n\n\
# Task Management\n\
You have access to the TodoWrite tools to help you manage and plan tasks. Use these tools VERY frequently to ensure that you are tracking your tasks and giving the user visibility into your progress. These tools are also EXTREMELY helpful for planning tasks, and for breaking down larger complex tasks into smaller steps. If you do not use this tool when planning, you may forget to do important tasks - and that is unacceptable.\n\
It is critical that you mark todos as completed as soon as you are done with a task. Do not batch up multiple tasks before marking them as completed.\n\n\
# Doing tasks\n\
The user will primarily request you perform software engineering tasks. This includes solving bugs, adding new functionality, refactoring code, explaining code, and more. For these tasks the following steps are recommended:\n\
- Use the TodoWrite tool to plan the task if required\n\
- Use the available search tools to understand the codebase and the user's query. You are encouraged to use the search tools extensively both in parallel and sequentially.\n\
- Implement the solution using all tools available to you\n\
- Verify the solution if possible with tests. NEVER assume specific test framework or test script. Check the README or search codebase to determine the testing approach.\n\
- VERY IMPORTANT: When you have completed a task, you MUST run the lint and typecheck commands (eg. npm run lint, npm run typecheck, ruff, cargo clippy, etc.) if they were provided to you to ensure your code is correct.\n\
NEVER commit changes unless the user explicitly asks you to. It is VERY IMPORTANT to only commit when explicitly asked, otherwise the user will feel that you are being too proactive.\n\n\
- Tool results and user messages may include <system-reminder> tags. <system-reminder> tags contain useful information and reminders. They are automatically added by the system, and bear no direct relation to the specific tool results or user messages in which they appear.\n\n\
# Tool usage policy\n\
- When doing file search, prefer to use the Task tool in order to reduce context usage.\n\
- You should proactively use the Task tool with specialized agents when the task at hand matches the agent's description.\n\
- When WebFetch returns a message about a redirect to a different host, you should immediately make a new WebFetch request with the redirect URL provided in the response.\n\
- You can call multiple tools in a single response. If you intend to call multiple tools and there are no dependencies between them, make all independent tool calls in parallel.\n\
- Use specialized tools instead of bash commands when possible, as this provides a better user experience. For file operations, use dedicated tools: Read for reading files instead of cat/head/tail, Edit for editing instead of sed/awk, and Write for creating files instead of cat with heredoc or echo redirection.\n\n\
# Code References\n\n\
When referencing specific functions or pieces of code include the pattern `file_path:line_number` to allow the user to easily navigate to the source code location.\n\n",
    );
    text.push_str(
        "Here is useful information about the environment you are running in:\n<env>\n\
Working directory: /home/dev/project\n\
Is directory a git repo: Yes\n\
Platform: linux\n\
OS Version: Linux 6.8.0-45-generic\n\
Today's date: 2025-10-14\n\
</env>\n\
You are powered by the model named Sonnet 4.5. The exact model ID is claude-sonnet-4-5-20250929.\n\n\
Assistant knowledge cutoff is January 2025.\n\n\
gitStatus: This is the git status at the start of the conversation. Note that this status is a snapshot in time, and will not update during the conversation.\n\
Current branch: fix/sse-trailing-event\n\n\
Main branch (you will usually use this for PRs): main\n\n\
Status:\n M host/src/stream/sse.rs\n?? host/tests/fixtures/truncated.sse\n\n\
Recent commits:\n\
a41c9e2 stream: emit ping events during upstream silence\n\
7d03b5f upstream: retry 429 with retry-after\n\
0e8a6c1 config: report the key path on type errors\n\
c52f9d4 routing: long-context threshold from config\n\
91be7a3 plugins: cache compiled components on disk",
    );
    text
}

/// The 24 tool definitions.
fn tools() -> Value {
    let schema = |properties: Value, required: &[&str]| {
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
            "$schema": "http://json-schema.org/draft-07/schema#"
        })
    };
    let tool = |name: &str, description: &str, input_schema: Value| json!({"name": name, "description": description, "input_schema": input_schema});
    let string = |description: &str| json!({"type": "string", "description": description});
    let list = vec![
        tool("Task", "Launch a new agent to handle complex, multi-step tasks autonomously. The Task tool launches specialized agents (subprocesses) that autonomously handle complex tasks. Each agent type has specific capabilities and tools available to it.\n\nAvailable agent types and the tools they have access to:\n- general-purpose: General-purpose agent for researching complex questions, searching for code, and executing multi-step tasks. (Tools: *)\n- Explore: Fast agent specialized for exploring codebases. (Tools: Glob, Grep, Read, Bash)\n\nWhen NOT to use the Agent tool: if you want to read a specific file path, use the Read or Glob tool instead, to find the match more quickly.",
            schema(json!({
                "description": string("A short (3-5 word) description of the task"),
                "prompt": string("The task for the agent to perform"),
                "subagent_type": string("The type of specialized agent to use for this task")
            }), &["description", "prompt", "subagent_type"])),
        tool("Bash", "Executes a given bash command in a persistent shell session with optional timeout, ensuring proper handling and security measures.\n\nIMPORTANT: This tool is for terminal operations like git, npm, docker, etc. DO NOT use it for file operations (reading, writing, editing, searching, finding files) - use the specialized tools for this instead.\n\nBefore executing the command, please follow these steps:\n1. Directory Verification: if the command will create new directories or files, first use `ls` to verify the parent directory exists and is the correct location.\n2. Command Execution: always quote file paths that contain spaces with double quotes.\n\nUsage notes:\n - The command argument is required.\n - You can specify an optional timeout in milliseconds (up to 600000ms / 10 minutes). If not specified, commands will timeout after 120000ms (2 minutes).\n - It is very helpful if you write a clear, concise description of what this command does in 5-10 words.\n - If the output exceeds 30000 characters, output will be truncated before being returned to you.\n - You can use the `run_in_background` parameter to run the command in the background, which allows you to continue working while the command runs.",
            schema(json!({
                "command": string("The command to execute"),
                "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
                "description": string("Clear, concise description of what this command does in 5-10 words, in active voice."),
                "run_in_background": {"type": "boolean", "description": "Set to true to run this command in the background. Use BashOutput to read the output later."},
                "dangerouslyDisableSandbox": {"type": "boolean", "description": "Set this to true to dangerously override sandbox mode and run commands without sandboxing."}
            }), &["command"])),
        tool("Glob", "- Fast file pattern matching tool that works with any codebase size\n- Supports glob patterns like \"**/*.js\" or \"src/**/*.ts\"\n- Returns matching file paths sorted by modification time\n- Use this tool when you need to find files by name patterns\n- When you are doing an open ended search that may require multiple rounds of globbing and grepping, use the Agent tool instead\n- You can call multiple tools in a single response. It is always better to speculatively perform multiple searches in parallel if they are potentially useful.",
            schema(json!({
                "pattern": string("The glob pattern to match files against"),
                "path": string("The directory to search in. If not specified, the current working directory will be used. IMPORTANT: Omit this field to use the default directory. DO NOT enter \"undefined\" or \"null\" - simply omit it for the default behavior.")
            }), &["pattern"])),
        tool("Grep", "A powerful search tool built on ripgrep\n\n  Usage:\n  - ALWAYS use Grep for search tasks. NEVER invoke `grep` or `rg` as a Bash command. The Grep tool has been optimized for correct permissions and access.\n  - Supports full regex syntax (e.g., \"log.*Error\", \"function\\s+\\w+\")\n  - Filter files with glob parameter (e.g., \"*.js\", \"**/*.tsx\") or type parameter (e.g., \"js\", \"py\", \"rust\")\n  - Output modes: \"content\" shows matching lines, \"files_with_matches\" shows only file paths (default), \"count\" shows match counts\n  - Pattern syntax: Uses ripgrep (not grep) - literal braces need escaping\n  - Multiline matching: By default patterns match within single lines only. For cross-line patterns, use `multiline: true`",
            schema(json!({
                "pattern": string("The regular expression pattern to search for in file contents"),
                "path": string("File or directory to search in (rg PATH). Defaults to current working directory."),
                "glob": string("Glob pattern to filter files (e.g. \"*.js\", \"*.{ts,tsx}\") - maps to rg --glob"),
                "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"], "description": "Output mode. Defaults to \"files_with_matches\"."},
                "-B": {"type": "number", "description": "Number of lines to show before each match (rg -B). Requires output_mode: \"content\"."},
                "-A": {"type": "number", "description": "Number of lines to show after each match (rg -A). Requires output_mode: \"content\"."},
                "-C": {"type": "number", "description": "Number of lines to show before and after each match (rg -C)."},
                "-n": {"type": "boolean", "description": "Show line numbers in output (rg -n). Requires output_mode: \"content\"."},
                "-i": {"type": "boolean", "description": "Case insensitive search (rg -i)"},
                "type": string("File type to search (rg --type). Common types: js, py, rust, go, java, etc."),
                "head_limit": {"type": "number", "description": "Limit output to first N lines/entries."},
                "multiline": {"type": "boolean", "description": "Enable multiline mode where . matches newlines and patterns can span lines (rg -U --multiline-dotall). Default: false."}
            }), &["pattern"])),
        tool("ExitPlanMode", "Use this tool when you are in plan mode and have finished presenting your plan and are ready to code. This will prompt the user to exit plan mode.\nIMPORTANT: Only use this tool when the task requires planning the implementation steps of a task that requires writing code. For research tasks where you're gathering information, searching files, reading files or in general trying to understand the codebase - do NOT use this tool.\n\nEg.\n1. Initial task: \"Search for and understand the implementation of vim mode in the codebase\" - Do not use the exit plan mode tool because you are not planning the implementation steps of a task.\n2. Initial task: \"Help me implement yank mode for vim\" - Use the exit plan mode tool after you have finished planning the implementation steps of the task.",
            schema(json!({"plan": string("The plan you came up with, that you want to run by the user for approval. Supports markdown. The plan should be pretty concise.")}), &["plan"])),
        tool("Read", "Reads a file from the local filesystem. You can access any file directly by using this tool.\nAssume this tool is able to read all files on the machine. If the User provides a path to a file assume that path is valid. It is okay to read a file that does not exist; an error will be returned.\n\nUsage:\n- The file_path parameter must be an absolute path, not a relative path\n- By default, it reads up to 2000 lines starting from the beginning of the file\n- You can optionally specify a line offset and limit (especially handy for long files), but it's recommended to read the whole file by not providing these parameters\n- Any lines longer than 2000 characters will be truncated\n- Results are returned using cat -n format, with line numbers starting at 1\n- This tool allows Claude Code to read images (eg PNG, JPG, etc). When reading an image file the contents are presented visually as Claude Code is a multimodal LLM.\n- This tool can read PDF files (.pdf) and Jupyter notebooks (.ipynb files).",
            schema(json!({
                "file_path": string("The absolute path to the file to read"),
                "offset": {"type": "number", "description": "The line number to start reading from. Only provide if the file is too large to read at once"},
                "limit": {"type": "number", "description": "The number of lines to read. Only provide if the file is too large to read at once."}
            }), &["file_path"])),
        tool("Edit", "Performs exact string replacements in files.\n\nUsage:\n- You must use your `Read` tool at least once in the conversation before editing. This tool will error if you attempt an edit without reading the file.\n- When editing text from Read tool output, ensure you preserve the exact indentation (tabs/spaces) as it appears AFTER the line number prefix. The line number prefix format is: spaces + line number + tab. Everything after that tab is the actual file content to match.\n- ALWAYS prefer editing existing files in the codebase. NEVER write new files unless explicitly required.\n- The edit will FAIL if `old_string` is not unique in the file. Either provide a larger string with more surrounding context to make it unique or use `replace_all` to change every instance of `old_string`.\n- Use `replace_all` for replacing and renaming strings across the file.",
            schema(json!({
                "file_path": string("The absolute path to the file to modify"),
                "old_string": string("The text to replace"),
                "new_string": string("The text to replace it with (must be different from old_string)"),
                "replace_all": {"type": "boolean", "default": false, "description": "Replace all occurences of old_string (default false)"}
            }), &["file_path", "old_string", "new_string"])),
        tool("MultiEdit", "This is a tool for making multiple edits to a single file in one operation. It is built on top of the Edit tool and allows you to perform multiple find-and-replace operations efficiently. Prefer this tool over the Edit tool when you need to make multiple edits to the same file.\n\nIMPORTANT:\n- All edits are applied in sequence, in the order they are provided\n- Each edit operates on the result of the previous edit\n- All edits must be valid for the operation to succeed - if any edit fails, none will be applied\n- This tool is ideal when you need to make several changes to different parts of the same file",
            schema(json!({
                "file_path": string("The absolute path to the file to modify"),
                "edits": {"type": "array", "minItems": 1, "description": "Array of edit operations to perform sequentially on the file", "items": {
                    "type": "object",
                    "properties": {
                        "old_string": string("The text to replace"),
                        "new_string": string("The text to replace it with"),
                        "replace_all": {"type": "boolean", "default": false, "description": "Replace all occurences of old_string (default false)."}
                    },
                    "required": ["old_string", "new_string"],
                    "additionalProperties": false
                }}
            }), &["file_path", "edits"])),
        tool("Write", "Writes a file to the local filesystem.\n\nUsage:\n- This tool will overwrite the existing file if there is one at the provided path.\n- If this is an existing file, you MUST use the Read tool first to read the file's contents. This tool will fail if you did not read the file first.\n- ALWAYS prefer editing existing files in the codebase. NEVER write new files unless explicitly required.\n- NEVER proactively create documentation files (*.md) or README files. Only create documentation files if explicitly requested by the User.\n- Only use emojis if the user explicitly requests it. Avoid writing emojis to files unless asked.",
            schema(json!({
                "file_path": string("The absolute path to the file to write (must be absolute, not relative)"),
                "content": string("The content to write to the file")
            }), &["file_path", "content"])),
        tool("NotebookEdit", "Completely replaces the contents of a specific cell in a Jupyter notebook (.ipynb file) with new source. Jupyter notebooks are interactive documents that combine code, text, and visualizations, commonly used for data analysis and scientific computing. The notebook_path parameter must be an absolute path, not a relative path. The cell_number is 0-indexed. Use edit_mode=insert to add a new cell at the index specified by cell_number. Use edit_mode=delete to delete the cell at the index specified by cell_number.",
            schema(json!({
                "notebook_path": string("The absolute path to the Jupyter notebook file to edit (must be absolute, not relative)"),
                "cell_id": string("The ID of the cell to edit. When inserting a new cell, the new cell will be inserted after the cell with this ID, or at the beginning if not specified."),
                "new_source": string("The new source for the cell"),
                "cell_type": {"type": "string", "enum": ["code", "markdown"], "description": "The type of the cell (code or markdown). If not specified, it defaults to the current cell type."},
                "edit_mode": {"type": "string", "enum": ["replace", "insert", "delete"], "description": "The type of edit to make (replace, insert, delete). Defaults to replace."}
            }), &["notebook_path", "new_source"])),
        tool("WebFetch", "- Fetches content from a specified URL and processes it using an AI model\n- Takes a URL and a prompt as input\n- Fetches the URL content, converts HTML to markdown\n- Processes the content with the prompt using a small, fast model\n- Returns the model's response about the content\n- Use this tool when you need to retrieve and analyze web content\n\nUsage notes:\n  - The URL must be a fully-formed valid URL\n  - HTTP URLs will be automatically upgraded to HTTPS\n  - The prompt should describe what information you want to extract from the page\n  - This tool is read-only and does not modify any files\n  - Includes a self-cleaning 15-minute cache for faster responses when repeatedly accessing the same URL",
            schema(json!({
                "url": {"type": "string", "format": "uri", "description": "The URL to fetch content from"},
                "prompt": string("The prompt to run on the fetched content")
            }), &["url", "prompt"])),
        tool("TodoWrite", "Use this tool to create and manage a structured task list for your current coding session. This helps you track progress, organize complex tasks, and demonstrate thoroughness to the user.\nIt also helps the user understand the progress of the task and overall progress of their requests.\n\n## When to Use This Tool\nUse this tool proactively in these scenarios:\n1. Complex multi-step tasks - When a task requires 3 or more distinct steps or actions\n2. Non-trivial and complex tasks - Tasks that require careful planning or multiple operations\n3. User explicitly requests todo list - When the user directly asks you to use the todo list\n4. User provides multiple tasks - When users provide a list of things to be done\n5. After receiving new instructions - Immediately capture user requirements as todos",
            schema(json!({"todos": {"type": "array", "description": "The updated todo list", "items": {
                "type": "object",
                "properties": {
                    "content": {"type": "string", "minLength": 1},
                    "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                    "activeForm": {"type": "string", "minLength": 1}
                },
                "required": ["content", "status", "activeForm"],
                "additionalProperties": false
            }}}), &["todos"])),
        tool("WebSearch", "\n- Allows Claude to search the web and use the results to inform responses\n- Provides up-to-date information for current events and recent data\n- Returns search result information formatted as search result blocks\n- Use this tool for accessing information beyond Claude's knowledge cutoff\n- Searches are performed automatically within a single API call\n\nUsage notes:\n  - Domain filtering is supported to include or block specific websites\n  - Web search is only available in the US\n  - Account for \"Today's date\" in <env>. For example, if <env> says \"Today's date: 2025-07-01\", and the user wants the latest docs, do not use 2024 in the search query.",
            schema(json!({
                "query": {"type": "string", "minLength": 2, "description": "The search query to use"},
                "allowed_domains": {"type": "array", "items": {"type": "string"}, "description": "Only include search results from these domains"},
                "blocked_domains": {"type": "array", "items": {"type": "string"}, "description": "Never include search results from these domains"}
            }), &["query"])),
        tool("BashOutput", "\n- Retrieves output from a running or completed background bash shell\n- Takes a shell_id parameter identifying the shell\n- Always returns only new output since the last check\n- Returns stdout and stderr output along with shell status\n- Supports optional regex filtering to show only lines matching a pattern\n- Use this tool when you need to monitor or check the output of a long-running shell\n- Shell IDs can be found using the /bashes command",
            schema(json!({
                "bash_id": string("The ID of the background shell to retrieve output from"),
                "filter": string("Optional regular expression to filter the output lines. Only lines matching this regular expression will be included in the result. Any lines that do not match will no longer be available to read.")
            }), &["bash_id"])),
        tool("KillShell", "\n- Kills a running background bash shell by its ID\n- Takes a shell_id parameter identifying the shell to kill\n- Returns a success or failure status \n- Use this tool when you need to terminate a long-running shell\n- Shell IDs can be found using the /bashes command. Killing a shell that already finished is harmless and reports that the shell was not running.",
            schema(json!({"shell_id": string("The ID of the background shell to kill")}), &["shell_id"])),
        tool("SlashCommand", "Execute a slash command within the main conversation\nUsage:\n- `command` (required): The slash command to execute, including any arguments\n- Example: `command: \"/review-pr 123\"`\nImportant Notes:\n- Only available slash commands can be executed.\n- Some commands may require arguments as shown in the command list above\n- If command validation fails, list up to 5 available commands, not all of them.\n- Do not use this tool if you are already processing a slash command with the same name as indicated by <command-message>{name_of_command} is running…</command-message>",
            schema(json!({"command": string("The slash command to execute with its arguments, e.g., \"/review-pr 123\"")}), &["command"])),
        tool("Skill", "Execute a skill within the main conversation.\n\nWhen users ask you to perform tasks, check if any of the available skills below can help complete the task more effectively. Skills provide specialized capabilities and domain knowledge.\n\nHow to use skills:\n- Invoke skills using this tool with the skill name only (no arguments)\n- When you invoke a skill, you will see <command-message>The \"{name}\" skill is loading</command-message>\n- The skill's prompt will expand and provide detailed instructions on how to complete the task\n\nImportant:\n- Only use skills listed in <available_skills> below\n- Do not invoke a skill that is already running",
            schema(json!({"command": string("The skill name (no arguments). E.g., \"pdf\" or \"xlsx\"")}), &["command"])),
        tool("AskUserQuestion", "Use this tool when you need to ask the user questions during execution. This allows you to:\n1. Gather user preferences or requirements\n2. Clarify ambiguous instructions\n3. Get decisions on implementation choices as you work\n4. Offer choices to the user about what direction to take.\n\nUsage notes:\n- Users will always be able to select \"Other\" to provide custom text input\n- Use multiSelect: true to allow multiple answers to be selected for a question",
            schema(json!({"questions": {"type": "array", "minItems": 1, "maxItems": 4, "description": "Questions to ask the user (1-4 questions)", "items": {
                "type": "object",
                "properties": {
                    "question": string("The complete question to ask the user. Should be clear, specific, and end with a question mark."),
                    "header": string("Very short label displayed as a chip/tag (max 12 chars)."),
                    "options": {"type": "array", "minItems": 2, "maxItems": 4, "items": {
                        "type": "object",
                        "properties": {
                            "label": string("The display text for this option that the user will see and select."),
                            "description": string("Explanation of what this option means or what will happen if chosen.")
                        },
                        "required": ["label", "description"],
                        "additionalProperties": false
                    }},
                    "multiSelect": {"type": "boolean", "description": "Set to true to allow the user to select multiple options instead of just one."}
                },
                "required": ["question", "header", "options", "multiSelect"],
                "additionalProperties": false
            }}}), &["questions"])),
        tool("ListMcpResourcesTool", "List available resources from configured MCP servers.\nEach returned resource will include all standard MCP resource fields plus a 'server' field indicating which server the resource belongs to.\n\nParameters:\n- server (optional): The name of a specific MCP server to get resources from. If not provided, resources from all servers will be returned.\nUse this before ReadMcpResourceTool to discover the URIs a server exposes; resources can be large, so list first and read only what the task needs.",
            schema(json!({"server": string("Optional server name to filter resources by")}), &[])),
        tool("ReadMcpResourceTool", "Reads a specific resource from an MCP server, identified by server name and resource URI.\n\nParameters:\n- server (required): The name of the MCP server from which to read the resource\n- uri (required): The URI of the resource to read\n\nThe resource contents are returned as text or as a blob reference. Binary resources larger than the context budget are summarized instead of returned whole.",
            schema(json!({
                "server": string("The MCP server name"),
                "uri": string("The resource URI to read")
            }), &["server", "uri"])),
        tool("mcp__ide__getDiagnostics", "Get language diagnostics from VS Code. Returns errors, warnings, information and hints reported by the language servers running in the connected editor, for one file or for every open file. Use it after an edit to check that the change compiles and type-checks without running a full build, and before committing to make sure no new warnings were introduced.",
            schema(json!({"uri": string("Optional file URI to get diagnostics for. If not provided, gets diagnostics for all files.")}), &[])),
        tool("mcp__ide__executeCode", "Execute python code in the Jupyter kernel for the current notebook file.\n\nAll code will be executed in the current Jupyter kernel.\n\nAvoid declaring variables or modifying the state of the kernel unless the user explicitly asks for it.\n\nAny code executed will persist across calls to this tool, unless the kernel has been restarted. Long-running cells block the kernel; prefer small, incremental snippets and print only what you need to inspect.",
            schema(json!({"code": string("The code to be executed on the kernel.")}), &["code"])),
        tool("mcp__github__create_issue", "Create a new issue in a GitHub repository. Requires write access to the repository. The body supports GitHub-flavored markdown, task lists and mentions. Labels, assignees and the milestone must already exist in the repository; unknown labels are rejected by the API rather than created. Returns the created issue with its number and URL.",
            schema(json!({
                "owner": string("Repository owner (user or organization)"),
                "repo": string("Repository name"),
                "title": string("Issue title"),
                "body": string("Issue body content"),
                "assignees": {"type": "array", "items": {"type": "string"}, "description": "Usernames to assign to this issue"},
                "labels": {"type": "array", "items": {"type": "string"}, "description": "Labels to apply to this issue"},
                "milestone": {"type": "number", "description": "Milestone number to associate with this issue"}
            }), &["owner", "repo", "title"])),
        tool("mcp__github__search_code", "Search for code across GitHub repositories using GitHub's code search syntax. Supports qualifiers such as repo:, org:, language:, path: and extension:, boolean operators and exact phrases in quotes. Results are paginated and sorted by best match; each result includes the repository, the file path and the matching fragments with their line numbers.",
            schema(json!({
                "q": string("Search query using GitHub code search syntax"),
                "sort": {"type": "string", "enum": ["indexed"], "description": "Sort field (only 'indexed' is supported)"},
                "order": {"type": "string", "enum": ["asc", "desc"], "description": "Sort order"},
                "per_page": {"type": "number", "minimum": 1, "maximum": 100, "description": "Results per page (max 100)"},
                "page": {"type": "number", "minimum": 1, "description": "Page number"}
            }), &["q"])),
    ];
    debug_assert_eq!(list.len(), TOOL_NAMES.len());
    Value::Array(list)
}
