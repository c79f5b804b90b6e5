//! [`Proxy`]: the real `ccr` binary as a child process on a free port, with a throwaway `HOME`.
//!
//! `Proxy::start` writes the config to `$HOME/.claude-code-router/config.json` and runs
//!
//! ```text
//! ccr start --config $HOME/.claude-code-router/config.json --port <free port> \
//!     [--plugins-dir <dir>] [extra args...]
//! ```
//!
//! with `HOME` (and `XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_STATE_HOME`) inside a temporary
//! directory, `XDG_CACHE_HOME` in a cache shared by all test runs under the target dir (so
//! compiled plugins are reused), proxy variables (`HTTP_PROXY`...) and `CCR_*` variables
//! removed, then waits until `GET /health` answers 200. stdout and stderr go to
//! `$HOME/ccr.stdout.log` and `$HOME/ccr.stderr.log` ([`Proxy::logs`]). Dropping the
//! `Proxy` kills the child, waits for it and deletes the temporary `HOME`.
//!
//! The binary is `$CCR_BIN` if set, else `<target dir>/debug/ccr` where the target dir is
//! `$CARGO_TARGET_DIR` (at run time, then at build time) or `<workspace>/target`.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// How to run the proxy. `ProxyOptions::new(config)` or
/// `ProxyOptions { config, ..Default::default() }`.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// The config, written as JSON to `$HOME/.claude-code-router/config.json`.
    pub config: Value,
    /// Written verbatim instead of `config` when set (to test JSON5 comments, trailing
    /// commas, broken configs...).
    pub raw_config: Option<String>,
    /// Passed as `--plugins-dir`.
    pub plugins_dir: Option<PathBuf>,
    /// Appended after the standard arguments.
    pub extra_args: Vec<String>,
    /// Extra environment for the child, applied last (so it can override `HOME`, `XDG_*`...).
    pub env: Vec<(String, String)>,
    /// Pass `--config <path>` (default true). With false the proxy must find the config at
    /// its default location under `$HOME`.
    pub config_flag: bool,
    /// The binary to run instead of [`ccr_binary`]'s answer.
    pub binary: Option<PathBuf>,
    /// How long to wait for `/health` (default 60 s).
    pub startup_timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            config: serde_json::json!({}),
            raw_config: None,
            plugins_dir: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            config_flag: true,
            binary: None,
            startup_timeout: Duration::from_secs(60),
        }
    }
}

impl ProxyOptions {
    /// Default options with this config.
    pub fn new(config: Value) -> ProxyOptions {
        ProxyOptions {
            config,
            ..ProxyOptions::default()
        }
    }
}

/// A running `ccr` child process. Killed (and waited for) on drop.
pub struct Proxy {
    child: Child,
    port: u16,
    home: tempfile::TempDir,
    config_path: PathBuf,
    api_key: Option<String>,
    client: reqwest::Client,
}

/// Where the `ccr` binary is expected: `$CCR_BIN`, else `<target dir>/debug/ccr`.
pub fn ccr_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CCR_BIN") {
        return PathBuf::from(bin);
    }
    target_dir()
        .join("debug")
        .join(format!("ccr{}", std::env::consts::EXE_SUFFIX))
}

/// The cargo target directory of this workspace (`$CARGO_TARGET_DIR`, relative to the
/// workspace if relative, else `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    let workspace = workspace_root();
    let configured = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    match configured {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

impl Proxy {
    /// `GET /health/detailed` (with the config's `APIKEY`, if any) as JSON; panics unless
    /// it answers 200 with JSON.
    pub async fn health(&self) -> serde_json::Value {
        let mut request = self
            .client()
            .get(format!("{}/health/detailed", self.base_url()));
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.expect("GET /health/detailed");
        let status = response.status();
        let text = response.text().await.expect("reading /health/detailed");
        assert_eq!(status, 200, "GET /health/detailed: {text}");
        serde_json::from_str(&text).expect("/health/detailed is JSON")
    }

    /// Starts the proxy and waits until `/health` answers 200. Panics with the child's output
    /// if it does not (use [`Proxy::try_start`] to get the error instead).
    pub fn start(options: ProxyOptions) -> Proxy {
        match Self::try_start(options) {
            Ok(proxy) => proxy,
            Err(e) => panic!("{e:#}"),
        }
    }

    /// Starts the proxy; the error says why and includes the child's output.
    pub fn try_start(options: ProxyOptions) -> Result<Proxy> {
        let binary = options.binary.clone().unwrap_or_else(ccr_binary);
        if !binary.exists() {
            bail!(
                "ccr binary not found at {}: build it first: cargo build -p ccr (or set CCR_BIN)",
                binary.display()
            );
        }
        // A port can be taken between free_port() and the child's bind: retry on a new one.
        let mut last_error = None;
        for _ in 0..3 {
            match Self::spawn_once(&binary, &options) {
                Ok(proxy) => return Ok(proxy),
                Err(SpawnError::PortTaken(e)) => last_error = Some(e),
                Err(SpawnError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn spawn_once(binary: &Path, options: &ProxyOptions) -> Result<Proxy, SpawnError> {
        let home = tempfile::Builder::new()
            .prefix("ccr-test-home-")
            .tempdir()
            .context("creating a temporary HOME")?;
        let config_dir = home.path().join(".claude-code-router");
        fs::create_dir_all(&config_dir).context("creating the config dir")?;
        let config_path = config_dir.join("config.json");
        let config_text = match &options.raw_config {
            Some(raw) => raw.clone(),
            None => serde_json::to_string_pretty(&options.config).context("config to JSON")?,
        };
        fs::write(&config_path, config_text).context("writing config.json")?;

        let port = crate::free_port();
        let mut command = Command::new(binary);
        command.arg("start");
        if options.config_flag {
            command.arg("--config").arg(&config_path);
        }
        command.arg("--port").arg(port.to_string());
        if let Some(dir) = &options.plugins_dir {
            command.arg("--plugins-dir").arg(dir);
        }
        command.args(&options.extra_args);

        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            let upper = name.to_ascii_uppercase();
            if upper.starts_with("CCR_")
                || matches!(
                    upper.as_str(),
                    "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY"
                )
            {
                command.env_remove(&key);
            }
        }
        let cache = target_dir().join("ccr-tests-cache");
        let _ = fs::create_dir_all(&cache);
        command
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .env("XDG_STATE_HOME", home.path().join(".local/state"))
            .env("XDG_CACHE_HOME", &cache)
            .env("NO_COLOR", "1");
        for (key, value) in &options.env {
            command.env(key, value);
        }

        let stdout = fs::File::create(home.path().join("ccr.stdout.log")).context("stdout log")?;
        let stderr = fs::File::create(home.path().join("ccr.stderr.log")).context("stderr log")?;
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        let child = command
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;

        let api_key = options.config["APIKEY"]
            .as_str()
            .filter(|key| !key.is_empty() && !key.starts_with('$'))
            .map(str::to_string);
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("building the reqwest client")?;
        let mut proxy = Proxy {
            child,
            port,
            home,
            config_path,
            api_key,
            client,
        };
        proxy.wait_healthy(options.startup_timeout)?;
        Ok(proxy)
    }

    fn wait_healthy(&mut self, timeout: Duration) -> Result<(), SpawnError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().context("polling the child")? {
                let logs = self.logs();
                let message = format!("ccr exited with {status} before /health answered\n{logs}");
                let lower = logs.to_ascii_lowercase();
                if lower.contains("address already in use") || lower.contains("addrinuse") {
                    return Err(SpawnError::PortTaken(anyhow::anyhow!(message)));
                }
                return Err(SpawnError::Other(anyhow::anyhow!(message)));
            }
            if health_status(self.port) == Some(200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(SpawnError::Other(anyhow::anyhow!(
                    "ccr did not answer GET /health with 200 on port {} within {timeout:?}\n{}",
                    self.port,
                    self.logs()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): what `ANTHROPIC_BASE_URL` should be.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT/v1/messages`.
    pub fn messages_url(&self) -> String {
        format!("{}/v1/messages", self.base_url())
    }

    /// The port the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary `HOME` of the child.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `$HOME/.claude-code-router/config.json`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Replaces the config file (atomically, by rename, as editors do), e.g. for hot reload
    /// tests.
    pub fn write_config(&self, config: &Value) {
        self.write_config_text(&serde_json::to_string_pretty(config).expect("config to JSON"));
    }

    /// Replaces the config file with raw text (atomically, by rename).
    pub fn write_config_text(&self, text: &str) {
        let tmp = self.config_path.with_extension("json.tmp");
        fs::write(&tmp, text).expect("writing the new config");
        fs::rename(&tmp, &self.config_path).expect("replacing config.json");
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A reqwest client that bypasses any HTTP proxy from the environment.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `POST /v1/messages` with `content-type: application/json`,
    /// `anthropic-version: 2023-06-01` and, if the config has a literal `APIKEY`, `x-api-key`.
    /// Panics if the request cannot be sent; the status is the caller's to check.
    pub async fn post_messages(&self, body: &Value) -> reqwest::Response {
        self.post_messages_with_headers(body, &[("anthropic-version", "2023-06-01")])
            .await
    }

    /// `POST /v1/messages` with exactly these extra headers (e.g.
    /// [`crate::fixtures::claude_code_headers`]) plus `content-type` and the `APIKEY` if any.
    pub async fn post_messages_with_headers(
        &self,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.messages_url())
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).expect("body to JSON"));
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {} failed: {e}\n{}", self.messages_url(), self.logs()))
    }

    /// The child's stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.home.path().join("ccr.stdout.log")).unwrap_or_default()
    }

    /// The child's stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.home.path().join("ccr.stderr.log")).unwrap_or_default()
    }

    /// stdout then stderr, each under a `--- ccr stdout ---` / `--- ccr stderr ---` line.
    pub fn logs(&self) -> String {
        format!(
            "--- ccr stdout ---\n{}\n--- ccr stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("pid", &self.child.id())
            .field("port", &self.port)
            .field("home", &self.home.path())
            .finish_non_exhaustive()
    }
}

enum SpawnError {
    PortTaken(anyhow::Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for SpawnError {
    fn from(e: anyhow::Error) -> Self {
        SpawnError::Other(e)
    }
}

/// The status code of `GET /health`, or None if nothing answered (yet).
fn health_status(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 32];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => read += n,
        }
    }
    let line = std::str::from_utf8(&head[..read]).ok()?;
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()
}
