//! The processes a run starts and watches: the mock upstream, claude-code-router, health
//! polling, and CPU/RSS read from `/proc`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::*;

/// A child process killed (with its descendants) and reaped on drop.
pub(crate) struct ChildGuard {
    pub(crate) child: Child,
}

impl ChildGuard {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_tree(&mut self.child);
    }
}

/// Kills the descendants of `child` (by pid), then `child`, and waits for it.
pub(crate) fn kill_tree(child: &mut Child) {
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
pub(crate) fn start_mock(args: &Args) -> Result<(ChildGuard, u16)> {
    let threads = args.mock_threads.to_string();
    spawn_mock(&args.mock_bin, &["--static", "--threads", &threads])
}

/// `mock-upstream --print-port` with `mock_args`, once `GET /health` answers: the process
/// and its port.
pub(crate) fn spawn_mock(mock_bin: &Path, mock_args: &[&str]) -> Result<(ChildGuard, u16)> {
    if !mock_bin.exists() {
        bail!(
            "mock-upstream not found at {}: build it (cargo build --release -p ccr-tests) or pass --mock-bin",
            mock_bin.display()
        );
    }
    let mut child = Command::new(mock_bin)
        .arg("--print-port")
        .args(mock_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", mock_bin.display()))?;
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
pub(crate) struct ClaudeCodeRouter {
    pub(crate) guard: ChildGuard,
    pub(crate) home: tempfile::TempDir,
    pub(crate) port: u16,
    pub(crate) version: String,
}

impl ClaudeCodeRouter {
    pub(crate) fn logs(&self) -> String {
        let read = |name| fs::read_to_string(self.home.path().join(name)).unwrap_or_default();
        format!(
            "--- claude-code-router stdout ---\n{}\n--- claude-code-router stderr ---\n{}",
            read("stdout.log"),
            read("stderr.log")
        )
    }
}

/// claude-code-router's version, from the package.json next to its script.
pub(crate) fn claude_code_router_version(script: &Path) -> Option<String> {
    // node_modules/.bin/ccr -> ../@musistudio/claude-code-router/dist/cli.js
    let real = fs::canonicalize(script).ok()?;
    let package = real.parent()?.parent()?.join("package.json");
    let value: Value = serde_json::from_slice(&fs::read(package).ok()?).ok()?;
    value["version"].as_str().map(str::to_string)
}

/// Starts claude-code-router's `script` with the config `config(port)` returns for the port
/// it will listen on, and waits until it answers `GET /health`.
pub(crate) fn start_claude_code_router(
    script: &Path,
    config: impl FnOnce(u16) -> Value,
) -> Result<ClaudeCodeRouter> {
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
        serde_json::to_string_pretty(&config(port))?,
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
pub(crate) fn wait_healthy(
    port: u16,
    timeout: Duration,
    mut alive: impl FnMut() -> Result<()>,
) -> Result<()> {
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

pub(crate) fn health_ok(port: u16) -> bool {
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

pub(crate) fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

/// What a system's row shows: its figures, or why there are none (it could not start, or
/// the measurement failed: the reason and the system's logs). An interruption ends the run
/// instead of becoming a row.
pub(crate) fn row_outcome<S, T>(
    started: Result<S>,
    measure: impl FnOnce(&S) -> Result<T>,
    logs: impl FnOnce(&S) -> String,
) -> Result<std::result::Result<T, String>> {
    let system = match started {
        Ok(system) => system,
        Err(e) => {
            check_interrupted()?;
            return Ok(Err(format!("could not start: {e:#}")));
        }
    };
    match measure(&system) {
        Ok(figures) => Ok(Ok(figures)),
        Err(e) => {
            check_interrupted()?;
            Ok(Err(format!("{e:#}\n{}", logs(&system))))
        }
    }
}

// /proc

/// `pid` and all its descendants (from the ppid field of `/proc/*/stat`), `pid` first.
pub(crate) fn process_tree(pid: u32) -> Vec<u32> {
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
pub(crate) fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// CPU time (user + system, threads included) of these processes, in clock ticks.
pub(crate) fn cpu_ticks(pids: &[u32]) -> u64 {
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
pub(crate) fn own_cpu_ticks() -> u64 {
    cpu_ticks(&[std::process::id()])
}

/// Resident set size of these processes, in KiB.
pub(crate) fn rss_kib(pids: &[u32]) -> u64 {
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

/// Open file descriptors of these processes (entries of `/proc/<pid>/fd`).
pub(crate) fn open_fds(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| fs::read_dir(format!("/proc/{pid}/fd")).ok())
        .map(|entries| entries.count() as u64)
        .sum()
}

/// `GET path` on 127.0.0.1:`port` (HTTP/1.1, `Connection: close`), its body as JSON if it
/// answered 200 with JSON.
pub(crate) fn get_json(port: u16, path: &str) -> Option<Value> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let head_end = memchr::memmem::find(&response, b"\r\n\r\n")?;
    if !response.starts_with(b"HTTP/1.1 200") {
        return None;
    }
    serde_json::from_slice(&response[head_end + 4..]).ok()
}

/// Milliseconds per clock tick (`getconf CLK_TCK`, 100 Hz if that fails).
pub(crate) fn ms_per_tick() -> f64 {
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
