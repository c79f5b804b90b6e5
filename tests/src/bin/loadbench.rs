//! `loadbench`: proxy overhead side by side: the upstream directly (the floor), `ccr`, and
//! claude-code-router 2.x, in one run, on the same request mix.
//!
//! ```text
//! loadbench [--duration-ms N] [--warmup-ms N] [--concurrency 1,32] [--sizes 20000,80000,300000]
//!           [--ccr-bin PATH] [--mock-bin PATH] [--claude-code-router PATH] [--skip-ccr]
//!           [--mock-threads N] [--client-threads N] [--timeout-ms N]
//!           [--out PATH] [--markdown PATH] [--dump-requests DIR]
//! ```
//!
//! What it does, in order:
//!
//! 1. Builds the request mix: for every size, a Claude Code-shaped `/v1/messages` body
//!    ([`fixtures::ClaudeCodeRequest`]), streaming and not, sent round-robin. Every request
//!    sent carries a new number in its last tool result, so none repeats (see [`numbered`]).
//! 2. Captures the OpenAI body `ccr` sends upstream for each of them (a throwaway `ccr` in
//!    front of an in-process recording mock): that is what the floor sends to the upstream
//!    directly, so all three systems do the same work seen from the upstream.
//! 3. Starts the static upstream (`mock-upstream --static`, a separate process), then for each
//!    system in turn (direct, `ccr`, claude-code-router): starts it, reads its idle RSS,
//!    warms it up, and runs one fixed-duration phase per concurrency, sampling its RSS and
//!    reading its CPU time (`/proc/<pid>/stat`, the process and its descendants) around
//!    every phase; then stops it.
//! 4. Prints a markdown report on stdout (and to `--out`, and between the
//!    `<!-- loadbench:begin -->` / `<!-- loadbench:end -->` markers of `--markdown`): the
//!    machine and versions, one row per system, ratios against claude-code-router, latency by
//!    request kind and per-phase details.
//!
//! Every request must come back 200 with a complete, well-formed body (an Anthropic message or
//! a stream ending in `message_stop`; for the floor, an OpenAI completion or a stream ending
//! in `[DONE]`); anything else counts as an error and is reported. Every process started is
//! killed when the run ends, fails or is interrupted (Ctrl-C, SIGTERM).
//!
//! claude-code-router is `<workspace>/.tools/ccr/node_modules/.bin/ccr` unless
//! `--claude-code-router` says otherwise (`tests/bench/run.sh` installs it there with npm); if
//! it is missing or does not start, its row says why and the run goes on.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use ccr_tests::fixtures::{self, ClaudeCodeRequest};
use ccr_tests::proxy::workspace_root;
use ccr_tests::{MockOptions, MockUpstream, Proxy, ProxyOptions};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

/// Set by the Ctrl-C / SIGTERM watcher; every wait and every load loop checks it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const USAGE: &str = "\
usage: loadbench [options]

  --duration-ms N          length of each measured phase (default 15000)
  --warmup-ms N            warm-up before measuring each system (default 3000)
  --concurrency A,B        concurrencies measured (default 1,32); latency figures come from
                           the first, the headline throughput from the first and the last
  --sizes A,B,...          request sizes in bytes (default 20000,80000,300000); each size is
                           sent streaming and non-streaming, round-robin
  --ccr-bin PATH           the ccr binary (default: `ccr` next to this executable)
  --mock-bin PATH          the mock-upstream binary (default: next to this executable)
  --claude-code-router P   claude-code-router's `ccr` script
                           (default <workspace>/.tools/ccr/node_modules/.bin/ccr)
  --skip-ccr               do not run claude-code-router
  --mock-threads N         worker threads of the upstream mock (default 1)
  --client-threads N       worker threads of the load generator (default 2)
  --timeout-ms N           per-request timeout (default 60000)
  --out PATH               also write the report there
  --markdown PATH          replace the text between <!-- loadbench:begin --> and
                           <!-- loadbench:end --> in that file with the report
  --dump-requests DIR      write the mix (Anthropic and upstream OpenAI bodies) as JSON
                           files into DIR and exit, e.g. for other load tools or profilers
";

// ---------------------------------------------------------------------------------------------
// Arguments

/// Parsed command line.
#[derive(Debug, Clone)]
struct Args {
    duration: Duration,
    warmup: Duration,
    concurrency: Vec<usize>,
    sizes: Vec<usize>,
    ccr_bin: PathBuf,
    mock_bin: PathBuf,
    claude_code_router: PathBuf,
    skip_ccr: bool,
    mock_threads: usize,
    client_threads: usize,
    timeout: Duration,
    out: Option<PathBuf>,
    markdown: Option<PathBuf>,
    dump_requests: Option<PathBuf>,
}

impl Args {
    fn parse() -> Result<Args> {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        let exe = |name: &str| exe_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let mut args = Args {
            duration: Duration::from_millis(15_000),
            warmup: Duration::from_millis(3_000),
            concurrency: vec![1, 32],
            sizes: vec![20_000, 80_000, 300_000],
            ccr_bin: exe("ccr"),
            mock_bin: exe("mock-upstream"),
            claude_code_router: workspace_root().join(".tools/ccr/node_modules/.bin/ccr"),
            skip_ccr: false,
            mock_threads: 1,
            client_threads: 2,
            timeout: Duration::from_millis(60_000),
            out: None,
            markdown: None,
            dump_requests: None,
        };
        let mut argv = std::env::args().skip(1);
        while let Some(flag) = argv.next() {
            let mut value = || {
                argv.next()
                    .ok_or_else(|| anyhow!("{flag} needs a value (try --help)"))
            };
            match flag.as_str() {
                "--duration-ms" => args.duration = Duration::from_millis(number(&value()?)?),
                "--warmup-ms" => args.warmup = Duration::from_millis(number(&value()?)?),
                "--concurrency" => args.concurrency = list(&value()?)?,
                "--sizes" => args.sizes = list(&value()?)?,
                "--ccr-bin" => args.ccr_bin = value()?.into(),
                "--mock-bin" => args.mock_bin = value()?.into(),
                "--claude-code-router" => args.claude_code_router = value()?.into(),
                "--skip-ccr" => args.skip_ccr = true,
                "--mock-threads" => args.mock_threads = number(&value()?)?,
                "--client-threads" => args.client_threads = number(&value()?)?,
                "--timeout-ms" => args.timeout = Duration::from_millis(number(&value()?)?),
                "--out" => args.out = Some(value()?.into()),
                "--markdown" => args.markdown = Some(value()?.into()),
                "--dump-requests" => args.dump_requests = Some(value()?.into()),
                "-h" | "--help" => {
                    print!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            }
        }
        if args.concurrency.is_empty() || args.concurrency.contains(&0) {
            bail!("--concurrency needs positive numbers");
        }
        if args.sizes.is_empty() {
            bail!("--sizes needs at least one size");
        }
        Ok(args)
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.trim()
        .replace('_', "")
        .parse()
        .map_err(|_| anyhow!("not a number: {text:?}"))
}

fn list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(number)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The request mix

/// One kind of request of the mix, in both wire formats.
struct RequestKind {
    /// e.g. `80 KB stream`.
    label: String,
    stream: bool,
    tools: usize,
    messages: usize,
    /// The Claude Code-shaped `/v1/messages` body sent to the proxies.
    anthropic: Bytes,
    /// The chat-completions body `ccr` sends upstream for it, sent to the upstream directly.
    openai: Bytes,
}

/// Put at the start of the last tool result of every request; its 16 zeros are replaced by a
/// request counter when the request is sent.
const MARKER: &str = "[loadbench request 0000000000000000] ";
const MARKER_DIGITS: std::ops::Range<usize> = 19..35;

/// Numbers the requests of the whole run, so that no two are the same.
static REQUEST_NUMBER: AtomicU64 = AtomicU64::new(1);

/// Where the marker's digits are in a serialized body, if it is there exactly once.
fn marker_digits(body: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(body, MARKER.as_bytes())?;
    let again = memchr::memmem::find(&body[at + 1..], MARKER.as_bytes());
    again.is_none().then_some(at + MARKER_DIGITS.start)
}

/// `body` with the next request number in its marker: each request carries a new last tool
/// result (as each turn of a real session does) while the history before it repeats, so no
/// cache (ccr caches token counts per piece) can answer a whole request from memory.
fn numbered(body: &Bytes, digits_at: Option<usize>) -> Bytes {
    let Some(at) = digits_at else {
        return body.clone();
    };
    let number = REQUEST_NUMBER.fetch_add(1, Ordering::Relaxed) % 10_000_000_000_000_000;
    let mut bytes = body.to_vec();
    bytes[at..at + MARKER_DIGITS.len()].copy_from_slice(format!("{number:016}").as_bytes());
    Bytes::from(bytes)
}

fn build_kinds(sizes: &[usize]) -> Vec<(String, bool, Value)> {
    let mut kinds = Vec::new();
    for &size in sizes {
        for stream in [false, true] {
            let mut request = ClaudeCodeRequest::new(size).stream(stream).build();
            // The fixture's last message is the user's turn of tool results.
            if let Some(last) = request["messages"]
                .as_array_mut()
                .and_then(|m| m.last_mut())
            {
                if let Some(text) = last["content"][0]["content"].as_str() {
                    last["content"][0]["content"] = Value::String(format!("{MARKER}{text}"));
                }
            }
            let label = format!(
                "{} KB {}",
                (size + 500) / 1000,
                if stream { "stream" } else { "JSON" }
            );
            kinds.push((label, stream, request));
        }
    }
    kinds
}

/// The bench config for both proxies: one OpenAI-compatible provider at `chat_url`, no file
/// logging, everything routed to it; `PORT` for claude-code-router (ccr gets `--port`).
fn bench_config(chat_url: &str, port: Option<u16>) -> Value {
    let mut config = json!({
        "LOG": false,
        "Providers": [{
            "name": "mock",
            "api_base_url": chat_url,
            "api_key": "sk-mock",
            "models": ["static"]
        }],
        "Router": {"default": "mock,static"}
    });
    if let Some(port) = port {
        config["PORT"] = json!(port);
    }
    config
}

/// Sends every request once through a throwaway `ccr` in front of a recording mock and
/// returns the chat-completions bodies it sent upstream, in `requests` order.
fn capture_upstream_bodies(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    requests: &[(String, bool, Value)],
) -> Result<Vec<Bytes>> {
    let mock = MockUpstream::start_with(MockOptions {
        record: true,
        static_responses: true,
        ..MockOptions::default()
    });
    let proxy = Proxy::try_start(ProxyOptions {
        binary: Some(args.ccr_bin.clone()),
        ..ProxyOptions::new(bench_config(&mock.chat_url(), None))
    })
    .context("starting ccr to capture the upstream bodies")?;
    let headers = fixtures::claude_code_headers();
    let mut bodies = Vec::new();
    for (label, _, request) in requests {
        mock.clear_requests();
        let response = runtime.block_on(async {
            let response = proxy.post_messages_with_headers(request, &headers).await;
            let status = response.status();
            let body = response.bytes().await.unwrap_or_default();
            (status, body)
        });
        if response.0 != 200 {
            bail!(
                "capture: ccr answered {} to the {label} request: {}\n{}",
                response.0,
                String::from_utf8_lossy(&response.1),
                proxy.logs()
            );
        }
        let sent = mock
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.path.ends_with("/chat/completions"))
            .ok_or_else(|| anyhow!("capture: ccr sent nothing upstream for {label}"))?;
        bodies.push(Bytes::from(serde_json::to_vec(&sent.body)?));
    }
    Ok(bodies)
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process killed (with its descendants) and reaped on drop.
struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_tree(&mut self.child);
    }
}

/// Kills the descendants of `child` (by pid), then `child`, and waits for it.
fn kill_tree(child: &mut Child) {
    let descendants: Vec<u32> = process_tree(child.id()).into_iter().skip(1).collect();
    let _ = child.kill();
    for pid in descendants {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.wait();
}

/// The static upstream: `mock-upstream --static --print-port`.
fn start_mock(args: &Args) -> Result<(ChildGuard, u16)> {
    if !args.mock_bin.exists() {
        bail!(
            "mock-upstream not found at {}: build it (cargo build --release -p ccr-tests) or pass --mock-bin",
            args.mock_bin.display()
        );
    }
    let mut child = Command::new(&args.mock_bin)
        .args(["--static", "--print-port", "--threads"])
        .arg(args.mock_threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", args.mock_bin.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = ChildGuard { child };
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .context("reading the mock's port")?;
    let port = line
        .trim()
        .parse()
        .map_err(|_| anyhow!("mock-upstream printed {line:?} instead of its port"))?;
    wait_healthy(port, Duration::from_secs(10), || Ok(()))?;
    Ok((guard, port))
}

/// A running claude-code-router (`ccr start` with a throwaway HOME).
struct ClaudeCodeRouter {
    guard: ChildGuard,
    home: tempfile::TempDir,
    port: u16,
    version: String,
}

impl ClaudeCodeRouter {
    fn logs(&self) -> String {
        let read = |name| fs::read_to_string(self.home.path().join(name)).unwrap_or_default();
        format!(
            "--- claude-code-router stdout ---\n{}\n--- claude-code-router stderr ---\n{}",
            read("stdout.log"),
            read("stderr.log")
        )
    }
}

/// claude-code-router's version, from the package.json next to its script.
fn claude_code_router_version(script: &Path) -> Option<String> {
    // node_modules/.bin/ccr -> ../@musistudio/claude-code-router/dist/cli.js
    let real = fs::canonicalize(script).ok()?;
    let package = real.parent()?.parent()?.join("package.json");
    let value: Value = serde_json::from_slice(&fs::read(package).ok()?).ok()?;
    value["version"].as_str().map(str::to_string)
}

fn start_claude_code_router(args: &Args, chat_url: &str) -> Result<ClaudeCodeRouter> {
    let script = &args.claude_code_router;
    if !script.exists() {
        bail!(
            "not installed at {} (tests/bench/run.sh installs it: npm install --prefix .tools/ccr @musistudio/claude-code-router@2.0.0)",
            script.display()
        );
    }
    let version = claude_code_router_version(script).unwrap_or_else(|| "unknown".into());
    let home = tempfile::Builder::new()
        .prefix("loadbench-ccr-home-")
        .tempdir()?;
    let config_dir = home.path().join(".claude-code-router");
    fs::create_dir_all(&config_dir)?;
    let port = ccr_tests::free_port();
    fs::write(
        config_dir.join("config.json"),
        serde_json::to_string_pretty(&bench_config(chat_url, Some(port)))?,
    )?;
    let mut command = Command::new(script);
    command.arg("start").current_dir(home.path());
    for (key, _) in std::env::vars_os() {
        let upper = key.to_string_lossy().to_ascii_uppercase();
        if upper.ends_with("_PROXY") || upper == "SERVICE_PORT" {
            command.env_remove(&key);
        }
    }
    command
        .env("HOME", home.path())
        .env("TMPDIR", home.path())
        .env("NO_COLOR", "1")
        .env("NODE_ENV", "production")
        .stdin(Stdio::null())
        .stdout(fs::File::create(home.path().join("stdout.log"))?)
        .stderr(fs::File::create(home.path().join("stderr.log"))?);
    let child = command
        .spawn()
        .with_context(|| format!("spawning {}", script.display()))?;
    let mut router = ClaudeCodeRouter {
        guard: ChildGuard { child },
        home,
        port,
        version,
    };
    let started = {
        let child = &mut router.guard.child;
        wait_healthy(port, Duration::from_secs(60), || {
            match child.try_wait()? {
                Some(status) => bail!("exited with {status} before GET /health answered"),
                None => Ok(()),
            }
        })
    };
    if let Err(e) = started {
        bail!("{e:#}\n{}", router.logs());
    }
    Ok(router)
}

/// Polls `GET /health` on `port` until it answers 200; `alive` fails if the process died.
fn wait_healthy(port: u16, timeout: Duration, mut alive: impl FnMut() -> Result<()>) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        check_interrupted()?;
        alive()?;
        if health_ok(port) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("GET /health on port {port} did not answer 200 within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// /proc

/// `pid` and all its descendants (from the ppid field of `/proc/*/stat`), `pid` first.
fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(fields) = stat_fields(child) {
                if let Some(ppid) = fields.get(1).and_then(|p| p.parse::<u32>().ok()) {
                    parents.push((child, ppid));
                }
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// The fields of `/proc/<pid>/stat` after the command name (state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// CPU time (user + system, threads included) of these processes, in clock ticks.
fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|&pid| stat_fields(pid))
        .map(|f| {
            // utime and stime are fields 14 and 15 of stat, 11 and 12 after the name.
            let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            field(11) + field(12)
        })
        .sum()
}

/// This process alone (its children are the systems under test).
fn own_cpu_ticks() -> u64 {
    cpu_ticks(&[std::process::id()])
}

/// Resident set size of these processes, in KiB.
fn rss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

/// Milliseconds per clock tick (`getconf CLK_TCK`, 100 Hz if that fails).
fn ms_per_tick() -> f64 {
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|hz| *hz > 0.0)
        .unwrap_or(100.0);
    1000.0 / hz
}

// ---------------------------------------------------------------------------------------------
// Load

/// What a system under test speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// `/v1/messages` in, Anthropic out (the proxies).
    Anthropic,
    /// `/v1/chat/completions` in, OpenAI out (the upstream directly).
    OpenAi,
}

/// Where and how to send the mix.
struct Target {
    url: String,
    headers: HeaderMap,
    wire: Wire,
    bodies: Vec<Bytes>,
    /// Where each body's request number goes ([`numbered`]).
    markers: Vec<Option<usize>>,
    streams: Vec<bool>,
}

/// One finished request.
#[derive(Debug, Clone)]
struct Sample {
    kind: usize,
    latency_us: u64,
    /// Time to the first body byte (streams only).
    ttfb_us: Option<u64>,
    error: Option<String>,
}

/// One measured phase at one concurrency.
#[derive(Debug, Clone)]
struct Phase {
    concurrency: usize,
    elapsed: Duration,
    samples: Vec<Sample>,
    /// CPU time of the system under test, of the upstream mock and of this load generator.
    cpu_ms: f64,
    upstream_cpu_ms: f64,
    client_cpu_ms: f64,
    rss_peak_kib: u64,
}

impl Phase {
    fn ok(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| s.error.is_none())
    }
    fn ok_count(&self) -> usize {
        self.ok().count()
    }
    fn errors(&self) -> usize {
        self.samples.len() - self.ok_count()
    }
    fn throughput(&self) -> f64 {
        self.ok_count() as f64 / self.elapsed.as_secs_f64()
    }
    fn latencies(&self, kind: Option<usize>) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .ok()
            .filter(|s| kind.is_none_or(|k| s.kind == k))
            .map(|s| s.latency_us)
            .collect();
        v.sort_unstable();
        v
    }
    fn ttfbs(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.ok().filter_map(|s| s.ttfb_us).collect();
        v.sort_unstable();
        v
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted: &[u64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0)
}

async fn one_request(
    client: &reqwest::Client,
    target: &Target,
    kind: usize,
    timeout: Duration,
) -> Sample {
    // Numbering copies the body: done before the clock starts.
    let body = numbered(&target.bodies[kind], target.markers[kind]);
    let start = Instant::now();
    let stream = target.streams[kind];
    let outcome = tokio::time::timeout(timeout, async {
        let mut response = client
            .post(&target.url)
            .headers(target.headers.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status();
        let mut ttfb = None;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
        {
            if ttfb.is_none() && !chunk.is_empty() {
                ttfb = Some(start.elapsed());
            }
            body.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(format!("HTTP {status}: {}", excerpt(&body)));
        }
        validate(target.wire, stream, &body)?;
        Ok(ttfb)
    })
    .await;
    let latency_us = start.elapsed().as_micros() as u64;
    match outcome {
        Ok(Ok(ttfb)) => Sample {
            kind,
            latency_us,
            ttfb_us: if stream {
                ttfb.map(|t| t.as_micros() as u64)
            } else {
                None
            },
            error: None,
        },
        Ok(Err(error)) => Sample {
            kind,
            latency_us,
            ttfb_us: None,
            error: Some(error),
        },
        Err(_) => Sample {
            kind,
            latency_us,
            ttfb_us: None,
            error: Some(format!("timed out after {timeout:?}")),
        },
    }
}

/// A complete, well-formed answer in the expected format, or why not.
fn validate(wire: Wire, stream: bool, body: &[u8]) -> Result<(), String> {
    let has = |needle: &[u8]| memchr::memmem::find(body, needle).is_some();
    match (wire, stream) {
        (Wire::Anthropic, true) => {
            if has(b"event: error") {
                return Err(format!("error event in stream: {}", excerpt(body)));
            }
            if !has(b"event: message_start") || !has(b"event: message_stop") {
                return Err(format!("incomplete stream: {}", excerpt(body)));
            }
        }
        (Wire::OpenAi, true) => {
            if !has(b"data: [DONE]") {
                return Err(format!("incomplete stream: {}", excerpt(body)));
            }
        }
        (Wire::Anthropic, false) => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("invalid JSON ({e}): {}", excerpt(body)))?;
            if value["type"] != "message" || !value["content"].is_array() {
                return Err(format!("not an Anthropic message: {}", excerpt(body)));
            }
        }
        (Wire::OpenAi, false) => {
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| format!("invalid JSON ({e}): {}", excerpt(body)))?;
            if !value["choices"].is_array() {
                return Err(format!("not a chat completion: {}", excerpt(body)));
            }
        }
    }
    Ok(())
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).replace('\n', "\\n");
    if body.len() > 200 {
        format!("{text}…")
    } else {
        text
    }
}

/// Runs `concurrency` closed-loop workers until `duration` has passed (requests in flight
/// then are finished and counted), sending the mix round-robin from one shared counter.
async fn drive(
    client: &reqwest::Client,
    target: &Arc<Target>,
    concurrency: usize,
    duration: Duration,
    timeout: Duration,
) -> (Vec<Sample>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, target, next) = (client.clone(), target.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline && !INTERRUPTED.load(Ordering::Relaxed) {
                let kind = next.fetch_add(1, Ordering::Relaxed) % target.bodies.len();
                samples.push(one_request(&client, &target, kind, timeout).await);
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for worker in workers {
        samples.extend(worker.await.unwrap_or_default());
    }
    (samples, start.elapsed())
}

/// Samples the RSS of `pids` every 50 ms until dropped; `peak()` is the largest seen.
struct RssSampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pids: Arc<Vec<u32>>) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(rss_kib(&pids)));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    peak.fetch_max(rss_kib(&pids), Ordering::Relaxed);
                }
            }
        });
        RssSampler { peak, task }
    }
    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The measurements of one system.
struct SystemRun {
    rss_idle_kib: u64,
    rss_peak_kib: u64,
    phases: Vec<Phase>,
}

/// Idle RSS, warm-up, then one phase per concurrency.
fn measure(
    args: &Args,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    target: Target,
    pid: u32,
    upstream_pid: u32,
) -> Result<SystemRun> {
    let tick_ms = ms_per_tick();
    // Let start-up work (plugin compilation, JIT, GC) settle before reading the idle RSS.
    std::thread::sleep(Duration::from_millis(1000));
    check_interrupted()?;
    // The process and whatever it spawned, looked up once: scanning /proc per sample would
    // cost the load generator CPU.
    let tree = Arc::new(process_tree(pid));
    let upstream = [upstream_pid];
    let rss_idle_kib = rss_kib(&tree);
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .build()?;
    let target = Arc::new(target);
    runtime.block_on(async {
        if !args.warmup.is_zero() {
            eprintln!("loadbench: {name}: warm-up {:?}", args.warmup);
            let warm = args.concurrency.iter().copied().max().unwrap_or(1).min(4);
            drive(&client, &target, warm, args.warmup, args.timeout).await;
        }
        let mut phases = Vec::new();
        for &concurrency in &args.concurrency {
            check_interrupted()?;
            eprintln!(
                "loadbench: {name}: concurrency {concurrency} for {:?}",
                args.duration
            );
            let sampler = RssSampler::start(tree.clone());
            let (cpu0, up0, own0) = (cpu_ticks(&tree), cpu_ticks(&upstream), own_cpu_ticks());
            let (samples, elapsed) =
                drive(&client, &target, concurrency, args.duration, args.timeout).await;
            let (cpu1, up1, own1) = (cpu_ticks(&tree), cpu_ticks(&upstream), own_cpu_ticks());
            let phase = Phase {
                concurrency,
                elapsed,
                samples,
                cpu_ms: cpu1.saturating_sub(cpu0) as f64 * tick_ms,
                upstream_cpu_ms: up1.saturating_sub(up0) as f64 * tick_ms,
                client_cpu_ms: own1.saturating_sub(own0) as f64 * tick_ms,
                rss_peak_kib: sampler.peak().max(rss_kib(&tree)),
            };
            eprintln!(
                "loadbench: {name}: {} requests, {:.1} req/s, {} errors",
                phase.samples.len(),
                phase.throughput(),
                phase.errors()
            );
            phases.push(phase);
        }
        check_interrupted()?;
        Ok(SystemRun {
            rss_idle_kib,
            rss_peak_kib: phases.iter().map(|p| p.rss_peak_kib).max().unwrap_or(0),
            phases,
        })
    })
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

// ---------------------------------------------------------------------------------------------
// Report

/// One row of the report.
struct SystemReport {
    name: String,
    outcome: Result<SystemRun, String>,
}

struct Environment {
    date: String,
    /// `/proc/loadavg` at the start and at the end: other work on the machine skews results.
    load: String,
    machine: String,
    os: String,
    ccr: String,
    claude_code_router: String,
}

fn environment(args: &Args, ccr_version: Option<&str>, load_before: &str) -> Environment {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let os = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown OS".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    let root = workspace_root();
    let git = command_output(
        "git",
        &[
            "-C",
            &root.to_string_lossy(),
            "rev-parse",
            "--short=10",
            "HEAD",
        ],
    );
    let dirty = command_output(
        "git",
        &[
            "-C",
            &root.to_string_lossy(),
            "status",
            "--porcelain",
            "--untracked-files=no",
        ],
    )
    .is_some_and(|s| !s.is_empty());
    let profile = args
        .ccr_bin
        .parent()
        .and_then(|p| p.file_name())
        .map_or("?".into(), |p| p.to_string_lossy().into_owned());
    let ccr = format!(
        "{} (git {}{}, {profile} build)",
        ccr_version.unwrap_or("ccr"),
        git.unwrap_or_else(|| "?".into()),
        if dirty { " + uncommitted changes" } else { "" }
    );
    let claude_code_router = if args.skip_ccr {
        "not run (--skip-ccr)".to_string()
    } else {
        match claude_code_router_version(&args.claude_code_router) {
            Some(version) => format!(
                "@musistudio/claude-code-router {version} on Node.js {}",
                command_output("node", &["--version"]).unwrap_or_else(|| "?".into())
            ),
            None => "not installed".to_string(),
        }
    };
    Environment {
        date: utc_now(),
        load: format!(
            "load average (1/5/15 min) {load_before} at the start, {} at the end",
            load_average()
        ),
        machine: format!("{cores} CPUs ({model}), {mem_gib:.1} GiB RAM"),
        os: format!("{os}, Linux {kernel}"),
        ccr,
        claude_code_router,
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Milliseconds with a precision that suits their magnitude.
fn ms(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if v.abs() < 10.0 => format!("{v:.3}"),
        Some(v) if v.abs() < 100.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// `a / b` as `N×`, or `n/a` when it means nothing.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            let r = a / b;
            if r >= 100.0 {
                format!("{r:.0}×")
            } else if r >= 10.0 {
                format!("{r:.1}×")
            } else {
                format!("{r:.2}×")
            }
        }
        _ => "n/a".into(),
    }
}

/// The headline figures of one system, `None` where not measured.
struct Headline {
    rps_low: Option<f64>,
    rps_high: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
    added_p50: Option<f64>,
    added_p99: Option<f64>,
    ttfb_p50: Option<f64>,
    rss_idle_mib: Option<f64>,
    rss_load_mib: Option<f64>,
    cpu_ms_per_request: Option<f64>,
    errors: usize,
}

fn headline(run: &SystemRun, floor: Option<&SystemRun>) -> Headline {
    let first = run.phases.first();
    let last = run.phases.last();
    let lat = first.map(|p| p.latencies(None)).unwrap_or_default();
    let floor_lat = floor
        .and_then(|f| f.phases.first())
        .map(|p| p.latencies(None));
    let p50 = percentile_ms(&lat, 50.0);
    let p99 = percentile_ms(&lat, 99.0);
    let added = |p: f64, own: Option<f64>| {
        let floor = percentile_ms(floor_lat.as_deref()?, p)?;
        Some(own? - floor)
    };
    let requests: usize = run.phases.iter().map(Phase::ok_count).sum();
    let cpu: f64 = run.phases.iter().map(|p| p.cpu_ms).sum();
    Headline {
        rps_low: first.map(Phase::throughput),
        rps_high: (run.phases.len() > 1)
            .then(|| last.map(Phase::throughput))
            .flatten(),
        p50,
        p99,
        added_p50: added(50.0, p50),
        added_p99: added(99.0, p99),
        ttfb_p50: first.and_then(|p| percentile_ms(&p.ttfbs(), 50.0)),
        rss_idle_mib: Some(run.rss_idle_kib as f64 / 1024.0),
        rss_load_mib: Some(run.rss_peak_kib as f64 / 1024.0),
        cpu_ms_per_request: (requests > 0).then(|| cpu / requests as f64),
        errors: run.phases.iter().map(Phase::errors).sum(),
    }
}

fn report(
    args: &Args,
    env: &Environment,
    kinds: &[RequestKind],
    systems: &[SystemReport],
) -> String {
    let mut out = String::new();
    let low = args.concurrency[0];
    let high = *args.concurrency.last().expect("non-empty");
    let w = &mut out;
    let _ = writeln!(w, "Run: {} on {}, {}.", env.date, env.machine, env.os);
    let _ = writeln!(w);
    let _ = writeln!(w, "- machine: {}", env.load);
    let _ = writeln!(w, "- ccr: {}, bundled `openai` provider plugin", env.ccr);
    let _ = writeln!(w, "- claude-code-router: {}", env.claude_code_router);
    let _ = writeln!(
        w,
        "- upstream: `mock-upstream --static --threads {}` (same process for every system); \
         load generator: `loadbench` (HTTP/1.1 keep-alive, {} threads)",
        args.mock_threads, args.client_threads
    );
    let total: usize = kinds.iter().map(|k| k.anthropic.len()).sum();
    let mix: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{} ({} B, {} tools, {} messages; upstream body {} B)",
                k.label,
                k.anthropic.len(),
                k.tools,
                k.messages,
                k.openai.len()
            )
        })
        .collect();
    let _ = writeln!(
        w,
        "- request mix, round-robin (mean {} KB; every request numbered in its last tool result, so none repeats): {}",
        total / kinds.len() / 1000,
        mix.join("; ")
    );
    let _ = writeln!(
        w,
        "- each system: {} s warm-up, then {} s at each concurrency ({})",
        args.warmup.as_secs_f64(),
        args.duration.as_secs_f64(),
        args.concurrency
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(w);

    let floor = systems.first().and_then(|s| s.outcome.as_ref().ok());
    let _ = writeln!(
        w,
        "| system | req/s c={low} | req/s c={high} | p50 ms c={low} | p99 ms c={low} | added p50 ms | added p99 ms | stream TTFB p50 ms | RSS idle MB | RSS under load MB | CPU ms/request | errors |"
    );
    let _ = writeln!(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let mut headlines = Vec::new();
    for (i, system) in systems.iter().enumerate() {
        match &system.outcome {
            Ok(run) => {
                let h = headline(run, if i == 0 { None } else { floor });
                let added = |v: Option<f64>| if i == 0 { "0 (floor)".into() } else { ms(v) };
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    system.name,
                    h.rps_low.map_or("–".into(), rate),
                    h.rps_high.map_or("–".into(), rate),
                    ms(h.p50),
                    ms(h.p99),
                    added(h.added_p50),
                    added(h.added_p99),
                    ms(h.ttfb_p50),
                    mib(run.rss_idle_kib),
                    mib(run.rss_peak_kib),
                    ms(h.cpu_ms_per_request),
                    h.errors
                );
                headlines.push(Some(h));
            }
            Err(reason) => {
                let _ = writeln!(
                    w,
                    "| {} | skipped: {} |{}",
                    system.name,
                    first_line(reason),
                    " – |".repeat(10)
                );
                headlines.push(None);
            }
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Added latency is the system's percentile minus the direct upstream's, same mix. \
         For the direct row, RSS and CPU are the upstream mock's own. CPU is user + system \
         time of the process (all threads, any children) over all measured requests."
    );
    let _ = writeln!(w);

    // Ratios against claude-code-router.
    if let (Some(Some(ours)), Some(Some(theirs))) = (headlines.get(1), headlines.get(2)) {
        let _ = writeln!(w, "**ccr against claude-code-router**:");
        let _ = writeln!(w);
        let _ = writeln!(w, "| figure | ccr | claude-code-router | ccr is |");
        let _ = writeln!(w, "|---|--:|--:|--:|");
        let msf: fn(f64) -> String = |v| ms(Some(v));
        let mbf: fn(f64) -> String = |v| format!("{v:.1}");
        // (figure, ccr, claude-code-router, format, word: "more" when higher is better)
        type Row = (
            String,
            Option<f64>,
            Option<f64>,
            fn(f64) -> String,
            &'static str,
        );
        let rows: Vec<Row> = vec![
            (
                format!("throughput c={low} (req/s)"),
                ours.rps_low,
                theirs.rps_low,
                rate,
                "more",
            ),
            (
                format!("throughput c={high} (req/s)"),
                ours.rps_high,
                theirs.rps_high,
                rate,
                "more",
            ),
            (
                format!("latency p50 c={low} (ms)"),
                ours.p50,
                theirs.p50,
                msf,
                "lower",
            ),
            (
                format!("latency p99 c={low} (ms)"),
                ours.p99,
                theirs.p99,
                msf,
                "lower",
            ),
            (
                "added latency p50 (ms)".into(),
                ours.added_p50,
                theirs.added_p50,
                msf,
                "lower",
            ),
            (
                "added latency p99 (ms)".into(),
                ours.added_p99,
                theirs.added_p99,
                msf,
                "lower",
            ),
            (
                "stream TTFB p50 (ms)".into(),
                ours.ttfb_p50,
                theirs.ttfb_p50,
                msf,
                "lower",
            ),
            (
                "RSS idle (MB)".into(),
                ours.rss_idle_mib,
                theirs.rss_idle_mib,
                mbf,
                "less",
            ),
            (
                "RSS under load (MB)".into(),
                ours.rss_load_mib,
                theirs.rss_load_mib,
                mbf,
                "less",
            ),
            (
                "CPU per request (ms)".into(),
                ours.cpu_ms_per_request,
                theirs.cpu_ms_per_request,
                msf,
                "less",
            ),
        ];
        for (figure, a, b, fmt, word) in rows {
            // "how many times better", turned round when ccr is the worse one.
            let (better, worse) = if word == "more" { (a, b) } else { (b, a) };
            let opposite = match word {
                "more" => "less",
                "lower" => "higher",
                _ => "more",
            };
            let verdict = match (better, worse) {
                (Some(x), Some(y)) if x < y => format!("{} {opposite}", ratio(worse, better)),
                _ => format!("{} {word}", ratio(better, worse)),
            };
            let _ = writeln!(
                w,
                "| {figure} | {} | {} | {verdict} |",
                a.map_or("–".into(), fmt),
                b.map_or("–".into(), fmt),
            );
        }
        let _ = writeln!(w);
    }

    // Latency by request kind at the first concurrency.
    let _ = writeln!(w, "Latency by request kind, concurrency {low}, p50 / p99 ms (added: minus the direct upstream):");
    let _ = writeln!(w);
    let mut head = String::from("| request |");
    let mut rule = String::from("|---|");
    for (i, system) in systems.iter().enumerate() {
        if system.outcome.is_err() {
            continue;
        }
        head.push_str(&format!(" {} |", system.name));
        rule.push_str("--:|");
        if i > 0 {
            head.push_str(&format!(" {} added |", system.name));
            rule.push_str("--:|");
        }
    }
    let _ = writeln!(w, "{head}");
    let _ = writeln!(w, "{rule}");
    for (k, kind) in kinds.iter().enumerate() {
        let mut row = format!("| {} |", kind.label);
        let floor_lat = floor
            .and_then(|f| f.phases.first())
            .map(|p| p.latencies(Some(k)));
        for (i, system) in systems.iter().enumerate() {
            let Ok(run) = &system.outcome else { continue };
            let lat = run
                .phases
                .first()
                .map(|p| p.latencies(Some(k)))
                .unwrap_or_default();
            let (p50, p99) = (percentile_ms(&lat, 50.0), percentile_ms(&lat, 99.0));
            row.push_str(&format!(" {} / {} |", ms(p50), ms(p99)));
            if i > 0 {
                let f = |p| percentile_ms(floor_lat.as_deref()?, p);
                let sub = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
                row.push_str(&format!(
                    " {} / {} |",
                    ms(sub(p50, f(50.0))),
                    ms(sub(p99, f(99.0)))
                ));
            }
        }
        let _ = writeln!(w, "{row}");
    }
    let _ = writeln!(w);

    // Per-phase details.
    let _ = writeln!(
        w,
        "Per phase (CPU % is of one core; the upstream is the mock, the client is loadbench):"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| system | concurrency | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | stream TTFB p50 ms | system CPU % | upstream CPU % | client CPU % | RSS peak MB | errors |"
    );
    let _ = writeln!(
        w,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for system in systems {
        let Ok(run) = &system.outcome else { continue };
        for phase in &run.phases {
            let lat = phase.latencies(None);
            let pct = |cpu: f64| format!("{:.0}", cpu / phase.elapsed.as_secs_f64() / 10.0);
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                system.name,
                phase.concurrency,
                phase.ok_count(),
                rate(phase.throughput()),
                ms(percentile_ms(&lat, 50.0)),
                ms(percentile_ms(&lat, 90.0)),
                ms(percentile_ms(&lat, 99.0)),
                ms(percentile_ms(&lat, 100.0)),
                ms(percentile_ms(&phase.ttfbs(), 50.0)),
                pct(phase.cpu_ms),
                pct(phase.upstream_cpu_ms),
                pct(phase.client_cpu_ms),
                mib(phase.rss_peak_kib),
                phase.errors()
            );
        }
    }

    // Errors and skips, spelled out.
    let mut notes = Vec::new();
    for system in systems {
        match &system.outcome {
            Err(reason) => notes.push(format!(
                "- {} skipped: {}",
                system.name,
                tail(reason.trim(), 2000)
            )),
            Ok(run) => {
                let mut seen: Vec<(usize, &str)> = Vec::new();
                for sample in run.phases.iter().flat_map(|p| &p.samples) {
                    if let Some(error) = &sample.error {
                        if !seen.iter().any(|(_, e)| *e == error.as_str()) && seen.len() < 3 {
                            seen.push((sample.kind, error));
                        }
                    }
                }
                for (kind, error) in seen {
                    notes.push(format!(
                        "- {} error ({}): {error}",
                        system.name, kinds[kind].label
                    ));
                }
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(w);
        for note in notes {
            // Keep long child logs out of the table area but readable.
            let _ = writeln!(w, "{}", note.replace('\n', "\n  "));
        }
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// The first line and the last `max` bytes of a long text (child logs end with the reason).
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!(
        "{}
[…]
{}",
        first_line(text),
        &text[start..]
    )
}

/// Replaces the text between the loadbench markers of a markdown file.
fn update_markdown(path: &Path, section: &str) -> Result<()> {
    const BEGIN: &str = "<!-- loadbench:begin -->";
    const END: &str = "<!-- loadbench:end -->";
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!("{} has no {BEGIN} … {END} section", path.display());
    };
    if end < begin {
        bail!("{}: {END} comes before {BEGIN}", path.display());
    }
    let updated = format!(
        "{}{BEGIN}\n{}\n{}",
        &text[..begin],
        section.trim_end(),
        &text[end..]
    );
    fs::write(path, updated).with_context(|| format!("writing {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Main

fn main() {
    let code = match run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("loadbench: {e:#}");
            if INTERRUPTED.load(Ordering::Relaxed) {
                130
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

fn run() -> Result<()> {
    let args = Args::parse()?;
    let load_before = load_average();
    if !args.ccr_bin.exists() {
        bail!(
            "ccr not found at {}: build it (cargo build --release -p ccr) or pass --ccr-bin",
            args.ccr_bin.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .thread_name("loadbench")
        .enable_all()
        .build()?;
    // Ctrl-C / SIGTERM: stop the load loops, unwind, and let the guards kill the children.
    runtime.spawn(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        eprintln!("loadbench: interrupted, stopping");
        INTERRUPTED.store(true, Ordering::Relaxed);
    });

    eprintln!("loadbench: building the request mix");
    let requests = build_kinds(&args.sizes);
    eprintln!("loadbench: capturing what ccr sends upstream");
    let upstream_bodies = capture_upstream_bodies(&args, &runtime, &requests)?;
    let kinds: Vec<RequestKind> = requests
        .iter()
        .zip(upstream_bodies)
        .map(|((label, stream, request), openai)| RequestKind {
            label: label.clone(),
            stream: *stream,
            tools: request["tools"].as_array().map_or(0, Vec::len),
            messages: request["messages"].as_array().map_or(0, Vec::len),
            anthropic: Bytes::from(serde_json::to_vec(request).expect("request to JSON")),
            openai,
        })
        .collect();
    drop(requests);
    check_interrupted()?;
    for kind in &kinds {
        if marker_digits(&kind.anthropic).is_none() {
            bail!("the {} request has no request-number marker", kind.label);
        }
        if marker_digits(&kind.openai).is_none() {
            eprintln!(
                "loadbench: warning: ccr's upstream body for {} lost the request-number marker: the floor sends it unnumbered",
                kind.label
            );
        }
    }
    if let Some(dir) = &args.dump_requests {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for kind in &kinds {
            let stem = kind.label.to_lowercase().replace(' ', "-");
            fs::write(dir.join(format!("{stem}.anthropic.json")), &kind.anthropic)?;
            fs::write(dir.join(format!("{stem}.openai.json")), &kind.openai)?;
        }
        eprintln!(
            "loadbench: wrote {} requests to {}",
            kinds.len() * 2,
            dir.display()
        );
        return Ok(());
    }

    let (mock, mock_port) = start_mock(&args)?;
    let chat_url = format!("http://127.0.0.1:{mock_port}/v1/chat/completions");
    let streams: Vec<bool> = kinds.iter().map(|k| k.stream).collect();
    let anthropic_target = |port: u16| Target {
        url: format!("http://127.0.0.1:{port}/v1/messages"),
        headers: headers(&fixtures::claude_code_headers()),
        wire: Wire::Anthropic,
        bodies: kinds.iter().map(|k| k.anthropic.clone()).collect(),
        markers: kinds.iter().map(|k| marker_digits(&k.anthropic)).collect(),
        streams: streams.clone(),
    };
    let mut systems = Vec::new();

    // 1. The floor: the upstream directly, with the bodies ccr would send it.
    eprintln!("loadbench: direct upstream");
    let direct = Target {
        url: chat_url.clone(),
        headers: headers(&[
            ("content-type", "application/json"),
            ("authorization", "Bearer sk-mock"),
        ]),
        wire: Wire::OpenAi,
        bodies: kinds.iter().map(|k| k.openai.clone()).collect(),
        markers: kinds.iter().map(|k| marker_digits(&k.openai)).collect(),
        streams: streams.clone(),
    };
    let run = measure(&args, &runtime, "direct", direct, mock.pid(), mock.pid())?;
    systems.push(SystemReport {
        name: "direct upstream (floor)".into(),
        outcome: Ok(run),
    });

    // 2. ccr.
    eprintln!("loadbench: ccr ({})", args.ccr_bin.display());
    let proxy = Proxy::try_start(ProxyOptions {
        binary: Some(args.ccr_bin.clone()),
        ..ProxyOptions::new(bench_config(&chat_url, None))
    })
    .context("starting ccr")?;
    let ccr_version = command_output(&args.ccr_bin.to_string_lossy(), &["--version"]);
    let run = measure(
        &args,
        &runtime,
        "ccr",
        anthropic_target(proxy.port()),
        proxy.pid(),
        mock.pid(),
    );
    if run.is_err() && !INTERRUPTED.load(Ordering::Relaxed) {
        eprintln!("{}", proxy.logs());
    }
    systems.push(SystemReport {
        name: "ccr".into(),
        outcome: Ok(run?),
    });
    drop(proxy);

    // 3. claude-code-router.
    if args.skip_ccr {
        eprintln!("loadbench: claude-code-router skipped (--skip-ccr)");
        systems.push(SystemReport {
            name: "claude-code-router".into(),
            outcome: Err("--skip-ccr".into()),
        });
    } else {
        eprintln!(
            "loadbench: claude-code-router ({})",
            args.claude_code_router.display()
        );
        let outcome = match start_claude_code_router(&args, &chat_url) {
            Ok(router) => {
                eprintln!("loadbench: claude-code-router {} ready", router.version);
                let run = measure(
                    &args,
                    &runtime,
                    "claude-code-router",
                    anthropic_target(router.port),
                    router.guard.pid(),
                    mock.pid(),
                );
                match run {
                    Ok(run) => Ok(run),
                    Err(e) => {
                        check_interrupted()?;
                        Err(format!("{e:#}\n{}", router.logs()))
                    }
                }
            }
            Err(e) => {
                check_interrupted()?;
                Err(format!("could not start: {e:#}"))
            }
        };
        if let Err(reason) = &outcome {
            eprintln!("loadbench: claude-code-router skipped: {reason}");
        }
        systems.push(SystemReport {
            name: "claude-code-router".into(),
            outcome,
        });
    }
    drop(mock);

    let env = environment(&args, ccr_version.as_deref(), &load_before);
    let text = report(&args, &env, &kinds, &systems);
    print!("{text}");
    if let Some(path) = &args.out {
        fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        update_markdown(path, &text)?;
    }
    runtime.shutdown_background();
    Ok(())
}
