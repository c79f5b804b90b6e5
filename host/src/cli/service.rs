//! Service control: `start` (foreground or `--daemon`), `stop`, `restart`, `status`, `health`.
//!
//! The service announces itself with two files in `~/.claude-code-router`:
//! - `.claude-code-router.pid`, CCR's pid file (just the pid), created exclusively before
//!   the server starts, so two `ccr start` cannot both run;
//! - `.ccr-state.json` ([`ServiceState`]), written once the server listens: the bound
//!   address, the config and the options the service was started with (`restart` reuses
//!   them).
//!
//! Both are removed when the service exits (also on SIGTERM/Ctrl-C, which make the server
//! return). A pid file whose process is gone is stale and cleaned up by the next command.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use super::health::{self, Health, PluginRow};
use super::{ConfigFlag, RuntimePaths, StartArgs};
use crate::config::{self, ConfigSource};
use crate::logging::{self, LogOptions};
use crate::server::{self, ServeOptions};

/// How long `start --daemon` (and `ccr code`) wait for a new service to answer `/health`
/// before saying it is slow.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long they wait at most while the new process is alive: the very first start compiles
/// the bundled plugins, which can take longer than [`START_TIMEOUT`] on a slow machine.
pub const START_LIMIT: Duration = Duration::from_secs(60);
/// How long `stop` waits after SIGTERM before sending SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Exit status of `ccr status` when the service is not running (LSB convention).
pub const EXIT_NOT_RUNNING: u8 = 3;
/// Exit status of `ccr status` when the process runs but `/health` does not answer (LSB
/// "status unknown").
pub const EXIT_UNKNOWN: u8 = 4;

/// The contents of `.ccr-state.json`: what a running service is and how it was started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service's process id.
    pub pid: u32,
    /// Its version.
    pub version: String,
    /// The bound address, e.g. `127.0.0.1:3456`.
    pub listen: String,
    /// The config file it loaded.
    pub config_path: PathBuf,
    /// How that path was chosen (`--config`, `CCR_CONFIG`, `default`).
    pub config_origin: String,
    /// Unix time (seconds) at which it became ready.
    pub started_at: u64,
    /// The log folder, when file logging is on.
    pub log_dir: Option<PathBuf>,
    /// The command-line options it was started with (reused by `ccr restart`).
    pub options: StoredOptions,
    /// The secret that opens its `/health/detailed` to the CLI (the file is the owner's
    /// only: mode 0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_token: Option<String>,
}

impl ServiceState {
    /// `http://127.0.0.1:3456`: where clients reach the service.
    pub fn base_url(&self) -> String {
        health::base_url(&self.listen)
    }

    /// Its `/health/detailed` report, opened with its control token (and the config's
    /// `APIKEY` when the config loads, for a service that has no token).
    pub fn fetch_health(&self) -> anyhow::Result<(Health, serde_json::Value)> {
        let api_key = match &self.control_token {
            Some(_) => None,
            None => api_key_of(&self.config_source()),
        };
        health::fetch(
            &self.base_url(),
            api_key.as_deref(),
            self.control_token.as_deref(),
        )
    }

    /// The config source it serves, as it was chosen (a default path that does not exist
    /// means the embedded default).
    pub fn config_source(&self) -> ConfigSource {
        let path = self.config_path.clone();
        match self.config_origin.as_str() {
            "default" => ConfigSource::Default(path),
            "CCR_CONFIG" => ConfigSource::Env(path),
            _ => ConfigSource::Flag(path),
        }
    }
}

/// The `start` options worth repeating on `restart` (paths absolute).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredOptions {
    /// `--config` (or `CCR_CONFIG`) as an absolute path; `None` for the default path.
    pub config: Option<PathBuf>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--plugins-dir`.
    pub plugins_dir: Option<PathBuf>,
}

/// What the pid file says.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, one per command
pub enum Liveness {
    /// No live service: no pid file, or a stale one (whose pid is given).
    NotRunning {
        /// The pid of a stale pid file.
        stale: Option<u32>,
    },
    /// A live process owns the pid file. `state` is `None` while it is still starting
    /// (or for a service that writes no state file, such as CCR itself).
    Running {
        /// Its pid.
        pid: u32,
        /// Its state file, if written and matching the pid.
        state: Option<ServiceState>,
    },
}

/// Reads the pid file and checks the process.
pub fn liveness(paths: &RuntimePaths) -> Liveness {
    let Ok(text) = fs::read_to_string(&paths.pid_file) else {
        return Liveness::NotRunning { stale: None };
    };
    let pid = match text.trim().parse::<u32>() {
        Ok(pid) if pid > 0 && pid != std::process::id() && process_alive(pid) => pid,
        Ok(pid) => return Liveness::NotRunning { stale: Some(pid) },
        Err(_) => return Liveness::NotRunning { stale: Some(0) },
    };
    let state = read_state(paths).filter(|s| s.pid == pid);
    Liveness::Running { pid, state }
}

fn read_state(paths: &RuntimePaths) -> Option<ServiceState> {
    let text = fs::read_to_string(&paths.state_file).ok()?;
    serde_json::from_str(&text).ok()
}

/// Removes the pid and state files when the pid file names no live process.
fn clean_stale(paths: &RuntimePaths) {
    let _ = fs::remove_file(&paths.pid_file);
    let _ = fs::remove_file(&paths.state_file);
}

/// `--config` (or `$CCR_CONFIG`) made absolute, so it survives a change of directory.
pub fn resolve_config(flag: &ConfigFlag) -> ConfigSource {
    match config::resolve_path(flag.config.as_deref()) {
        ConfigSource::Flag(p) => ConfigSource::Flag(absolute(&p)),
        ConfigSource::Env(p) => ConfigSource::Env(absolute(&p)),
        d @ ConfigSource::Default(_) => d,
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// start

/// `ccr start` without `--daemon`: runs the server in this process until SIGINT/SIGTERM.
/// `detached` is set on the process `--daemon` spawns (its stderr is a file).
pub fn start_foreground(args: &StartArgs, detached: bool) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    let source = resolve_config(&args.config);
    fs::create_dir_all(&paths.home)
        .with_context(|| format!("creating {}", paths.home.display()))?;
    let pid_file = PidFile::create(&paths)?;

    // The server reports config errors itself; here the config only decides how to log.
    let (level, file_log) = match config::load_from(&source) {
        Ok(c) => (c.log_level, c.log),
        Err(_) => (config::DEFAULT_LOG_LEVEL.to_owned(), true),
    };
    let log_guard = logging::init_with(LogOptions {
        level: &level,
        file: file_log,
        dir: Some(&paths.log_dir),
        stderr: !(detached && file_log),
    })?;

    let state = ServiceState {
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        listen: String::new(),
        config_path: source.path().to_path_buf(),
        config_origin: source.origin().to_owned(),
        started_at: 0,
        log_dir: log_guard.file_dir().map(Path::to_path_buf),
        options: StoredOptions {
            config: match &source {
                ConfigSource::Default(_) => None,
                other => Some(other.path().to_path_buf()),
            },
            host: args.host.clone(),
            port: args.port,
            plugins_dir: args.plugins_dir.as_deref().map(absolute),
        },
        control_token: Some(new_control_token()),
    };
    let control_token = state.control_token.clone();
    let state_file = paths.state_file.clone();
    let ready = Arc::new(AtomicBool::new(false));
    let ready_flag = ready.clone();
    let on_ready = Box::new(move |addr: std::net::SocketAddr| {
        ready_flag.store(true, Ordering::SeqCst);
        let state = ServiceState {
            listen: addr.to_string(),
            started_at: unix_now(),
            ..state
        };
        if let Err(err) = write_state(&state_file, &state) {
            tracing::error!("cannot write {}: {err:#}", state_file.display());
        }
        if !detached {
            eprintln!(
                "ccr {} listening on {} (pid {}); Ctrl-C stops it",
                state.version,
                state.base_url(),
                state.pid
            );
        }
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ccr")
        .build()
        .context("starting the async runtime")?;
    let opts = ServeOptions {
        config: source,
        host: args.host.clone(),
        port: args.port,
        plugins_dir: args.plugins_dir.as_deref().map(absolute),
        control_token,
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = server::serve(opts, on_ready) => result,
            () = signal_before_ready(ready) => {
                tracing::info!("stopped by a signal during start-up");
                Ok(())
            }
        }
    });
    // Blocking tasks (file watchers, plugin loads) must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(pid_file);
    // In the foreground `main` prints the error; a detached service has only its log.
    if let (Err(err), true) = (&result, detached) {
        tracing::error!("{err:#}");
    }
    drop(log_guard);
    result.map(|()| ExitCode::SUCCESS)
}

/// Resolves on SIGINT/SIGTERM received before the server is ready (the server handles
/// them itself, gracefully, once it listens). Without this a signal during start-up, such
/// as the first plugin compilation, would kill the process and leave the pid file behind.
async fn signal_before_ready(ready: Arc<AtomicBool>) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        #[cfg(unix)]
        let term_recv = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term_recv = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term_recv => {}
        }
        if !ready.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// The pid file of this process; removes it (and the state file) on drop if they are still
/// this process's.
struct PidFile {
    paths: RuntimePaths,
    pid: u32,
}

impl PidFile {
    /// Creates the pid file exclusively, after cleaning up a stale one. Fails if a live
    /// service owns it.
    fn create(paths: &RuntimePaths) -> anyhow::Result<Self> {
        let pid = std::process::id();
        for _ in 0..2 {
            match liveness(paths) {
                Liveness::Running { pid: other, state } => bail!(already_running(other, &state)),
                Liveness::NotRunning { stale: Some(_) } => clean_stale(paths),
                Liveness::NotRunning { stale: None } => {}
            }
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&paths.pid_file)
            {
                Ok(mut f) => {
                    writeln!(f, "{pid}")
                        .with_context(|| format!("writing {}", paths.pid_file.display()))?;
                    return Ok(PidFile {
                        paths: paths.clone(),
                        pid,
                    });
                }
                // Another `ccr start` won the race, or left a file between our check and
                // create: look again.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("creating the pid file {}", paths.pid_file.display())
                    })
                }
            }
        }
        bail!(
            "cannot create the pid file {}: it keeps reappearing (another ccr is starting?)",
            paths.pid_file.display()
        )
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if read_state(&self.paths).is_some_and(|s| s.pid == self.pid) {
            let _ = fs::remove_file(&self.paths.state_file);
        }
        let ours = fs::read_to_string(&self.paths.pid_file)
            .is_ok_and(|t| t.trim().parse::<u32>().ok() == Some(self.pid));
        if ours {
            let _ = fs::remove_file(&self.paths.pid_file);
        }
    }
}

fn already_running(pid: u32, state: &Option<ServiceState>) -> String {
    match state {
        Some(s) => format!(
            "ccr is already running (pid {pid}, {}); stop it with `ccr stop` or use `ccr restart`",
            s.base_url()
        ),
        None => format!(
            "a service is already running (pid {pid}, from the pid file); stop it with `ccr stop`"
        ),
    }
}

/// A fresh random control token (two v4 UUIDs: 244 random bits from the OS).
fn new_control_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Writes the state file atomically (temp file + rename), readable by its owner only (it
/// holds the control token).
fn write_state(path: &Path, state: &ServiceState) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(state)?;
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, &json)
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))?;
    Ok(())
}

/// `ccr start --daemon`.
pub fn start_daemon(args: &StartArgs) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    if let Liveness::Running { pid, state } = liveness(&paths) {
        bail!(already_running(pid, &state));
    }
    let state = spawn_daemon(&paths, args)?;
    println!(
        "ccr started in the background (pid {}), listening on {}",
        state.pid,
        state.base_url()
    );
    println!("config: {}", state.config_path.display());
    match &state.log_dir {
        Some(dir) => println!("logs:   {} (`ccr logs -f`)", dir.display()),
        None => println!("logs:   {} (LOG is false)", paths.daemon_output.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts `ccr start --detached …` in a new session with its output in
/// `logs/daemon.out`, and waits until it answers `/health`.
pub(crate) fn spawn_daemon(paths: &RuntimePaths, args: &StartArgs) -> anyhow::Result<ServiceState> {
    let source = resolve_config(&args.config);
    fs::create_dir_all(&paths.log_dir)
        .with_context(|| format!("creating {}", paths.log_dir.display()))?;
    let output = File::create(&paths.daemon_output)
        .with_context(|| format!("creating {}", paths.daemon_output.display()))?;
    let exe = std::env::current_exe().context("finding the ccr executable")?;

    let mut cmd = Process::new(&exe);
    cmd.args(["start", "--detached"]);
    match &source {
        ConfigSource::Flag(p) => {
            cmd.arg("--config").arg(p);
        }
        ConfigSource::Env(p) => {
            cmd.env("CCR_CONFIG", p);
        }
        ConfigSource::Default(_) => {}
    }
    if let Some(host) = &args.host {
        cmd.arg("--host").arg(host);
    }
    if let Some(port) = args.port {
        cmd.arg("--port").arg(port.to_string());
    }
    if let Some(dir) = &args.plugins_dir {
        cmd.arg("--plugins-dir").arg(absolute(dir));
    }
    cmd.current_dir(&paths.home)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it
        // detaches the service from our terminal and process group (Ctrl-C in the shell
        // that ran `ccr code` must not reach it).
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {} in the background", exe.display()))?;
    let pid = child.id();

    let started = Instant::now();
    let mut told_slow = false;
    loop {
        if let Some(status) = child.try_wait()? {
            let tail = last_lines(&paths.daemon_output, 5);
            let tail = tail.strip_prefix("error: ").unwrap_or(&tail);
            bail!(
                "the service exited during start-up ({status}){}{}",
                if tail.is_empty() { "" } else { ": " },
                tail.trim()
            );
        }
        if let Some(state) = read_state(paths).filter(|s| s.pid == pid) {
            if state.fetch_health().is_ok() {
                return Ok(state);
            }
        }
        let waited = started.elapsed();
        if waited >= START_TIMEOUT && !told_slow {
            eprintln!(
                "ccr: the service (pid {pid}) is still starting (the first start compiles the \
                 plugins); waiting up to {} s",
                START_LIMIT.as_secs()
            );
            told_slow = true;
        }
        if waited >= START_LIMIT {
            bail!(
                "the service (pid {pid}) did not answer within {} s; it may still be starting \
                 (check `ccr status`, `ccr logs` and {})",
                START_LIMIT.as_secs(),
                paths.daemon_output.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last `n` non-empty lines of a (small) file, joined with " | ".
fn last_lines(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// The running service, starting it in the background if needed (for `ccr code`). The
/// second value is true if this call started it.
pub(crate) fn ensure_running(paths: &RuntimePaths) -> anyhow::Result<(ServiceState, bool)> {
    let deadline = Instant::now() + START_LIMIT;
    loop {
        match liveness(paths) {
            Liveness::Running {
                state: Some(state), ..
            } => return Ok((state, false)),
            // Starting (pid file but no state file yet): wait for it.
            Liveness::Running { pid, state: None } => {
                if Instant::now() >= deadline {
                    bail!(
                        "a service (pid {pid}) holds {} but is not ready after {} s; check \
                         `ccr status` or stop it with `ccr stop`",
                        paths.pid_file.display(),
                        START_LIMIT.as_secs()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Liveness::NotRunning { .. } => {
                let state = spawn_daemon(paths, &StartArgs::default())?;
                return Ok((state, true));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// stop / restart

/// `ccr stop`.
pub fn stop() -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    match liveness(&paths) {
        Liveness::NotRunning { stale } => {
            if stale.is_some() {
                clean_stale(&paths);
            }
            println!("ccr is not running");
        }
        Liveness::Running { pid, .. } => {
            let how = terminate(pid)?;
            clean_stale(&paths);
            println!("ccr stopped (pid {pid}){how}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL. Returns a note for the user.
fn terminate(pid: u32) -> anyhow::Result<&'static str> {
    send_signal(pid, libc::SIGTERM)?;
    if wait_exit(pid, STOP_TIMEOUT) {
        return Ok("");
    }
    send_signal(pid, libc::SIGKILL)?;
    if wait_exit(pid, Duration::from_secs(2)) {
        return Ok(" after SIGKILL (it did not exit within 5 s of SIGTERM)");
    }
    bail!("process {pid} did not exit even after SIGKILL")
}

fn send_signal(pid: u32, signal: libc::c_int) -> anyhow::Result<()> {
    let pid_t = libc::pid_t::try_from(pid).context("pid out of range")?;
    // SAFETY: kill has no memory effects; pid_t is > 0 (checked when the pid file was read),
    // so this never signals a process group.
    let rc = unsafe { libc::kill(pid_t, signal) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        return Ok(()); // already gone
    }
    Err(err).with_context(|| format!("sending a signal to process {pid}"))
}

fn wait_exit(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !process_alive(pid)
}

/// True if `pid` is a live process (not a zombie) that looks like a ccr or CCR service.
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid_t <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission.
    let rc = unsafe { libc::kill(pid_t, 0) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    linux_process_check(pid)
}

/// On Linux, rule out zombies and pids reused by unrelated programs (the pid file outlived
/// a reboot): the command line must mention `ccr` or `claude-code-router` (CCR's own
/// service, which writes the same pid file). Elsewhere, existence is all we know.
fn linux_process_check(pid: u32) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !Path::new("/proc/self").exists() {
        return true;
    }
    if let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) {
        // Format: pid (comm) S ...; comm may contain spaces and parentheses.
        if let Some(state) = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
        {
            if state == "Z" || state == "X" {
                return false;
            }
        }
    }
    match fs::read(proc_dir.join("cmdline")) {
        Ok(cmdline) if !cmdline.is_empty() => {
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let argv0 = Path::new(&args[0])
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            argv0.contains("ccr") || args.iter().any(|a| a.contains("claude-code-router"))
        }
        Ok(_) => false, // kernel thread or exiting process
        Err(_) => true, // not readable (hidepid): trust kill(0)
    }
}

/// `ccr restart`: stop if running, then start in the background with the stored options,
/// each overridden by the flags given here.
pub fn restart(args: &StartArgs) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    let mut stored = StoredOptions::default();
    match liveness(&paths) {
        Liveness::Running { pid, state } => {
            if let Some(s) = state {
                stored = s.options;
            }
            let how = terminate(pid)?;
            clean_stale(&paths);
            println!("ccr stopped (pid {pid}){how}");
        }
        Liveness::NotRunning { stale } => {
            if stale.is_some() {
                clean_stale(&paths);
            }
            println!("ccr was not running");
        }
    }
    let merged = StartArgs {
        config: ConfigFlag {
            config: args.config.config.clone().or(stored.config),
        },
        host: args.host.clone().or(stored.host),
        port: args.port.or(stored.port),
        plugins_dir: args.plugins_dir.clone().or(stored.plugins_dir),
    };
    start_daemon(&merged)
}

// ---------------------------------------------------------------------------------------
// status / health

/// The API key of the config at `path`, if it loads (sent to `/health` in case it is
/// protected).
fn api_key_of(source: &ConfigSource) -> Option<String> {
    config::load_from(source).ok().and_then(|c| c.api_key)
}

/// Where to reach a service that holds the pid file but wrote no state file (still
/// starting, or CCR's own service): the config's HOST/PORT.
fn endpoint(flag: &ConfigFlag) -> (String, ConfigSource) {
    let source = resolve_config(flag);
    let (host, port) = match config::load_from(&source) {
        Ok(c) => (c.bind_host().to_owned(), c.port),
        Err(_) => (config::DEFAULT_HOST.to_owned(), config::DEFAULT_PORT),
    };
    (
        health::base_url(&health::join_host_port(&host, port)),
        source,
    )
}

/// A running service and what its `/health/detailed` said.
struct Queried {
    pid: u32,
    /// Where this machine reaches it.
    base: String,
    /// Its state file, once written.
    state: Option<ServiceState>,
    report: Health,
    raw: serde_json::Value,
}

/// The service the pid file names and its `/health/detailed`, as `ccr status` and
/// `ccr health` both report it: `Err(exit code)` once the reason was printed (3: not
/// running, 4: running but not answering).
fn query_service(paths: &RuntimePaths, flag: &ConfigFlag) -> Result<Queried, ExitCode> {
    let (pid, state) = match liveness(paths) {
        Liveness::NotRunning { stale } => {
            println!("ccr is not running");
            if let Some(pid) = stale {
                clean_stale(paths);
                if pid > 0 {
                    println!("(removed a stale pid file left by process {pid})");
                }
            }
            return Err(ExitCode::from(EXIT_NOT_RUNNING));
        }
        Liveness::Running { pid, state } => (pid, state),
    };
    let answer = match &state {
        Some(s) => s.fetch_health().map(|r| (s.base_url(), r)),
        None => {
            let (base, source) = endpoint(flag);
            health::fetch(&base, api_key_of(&source).as_deref(), None).map(|r| (base, r))
        }
    };
    match answer {
        Ok((base, (report, raw))) => Ok(Queried {
            pid,
            base,
            state,
            report,
            raw,
        }),
        Err(err) => {
            println!("ccr is running (pid {pid}) but does not answer: {err:#}");
            if state.is_none() {
                println!("(it may still be starting; try again in a moment)");
            }
            Err(ExitCode::from(EXIT_UNKNOWN))
        }
    }
}

/// `ccr status`: exit 0 if running and answering, 3 if not running, 4 if the process runs
/// but `/health/detailed` does not answer.
pub fn status(flag: &ConfigFlag) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    match query_service(&paths, flag) {
        Ok(q) => {
            print_status(q.pid, &q.base, q.state.as_ref(), &q.report, &paths);
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn print_status(
    pid: u32,
    base: &str,
    state: Option<&ServiceState>,
    report: &Health,
    paths: &RuntimePaths,
) {
    println!("ccr is running");
    println!("  pid:      {}", report.pid.unwrap_or(pid));
    println!("  version:  {}", report.version);
    let listen = report.listen.as_deref().unwrap_or_default();
    if listen.is_empty() || health::base_url(listen) == base {
        println!("  listen:   {base}");
    } else {
        // The address really bound (0.0.0.0 is reachable from other machines), and where
        // this machine reaches it.
        println!("  listen:   {listen} (reach it at {base})");
    }
    if let Some(up) = report.uptime_secs {
        println!("  uptime:   {}", health::format_uptime(up));
    }
    let config_path = report
        .config_path
        .clone()
        .or_else(|| state.map(|s| s.config_path.display().to_string()))
        .unwrap_or_default();
    let origin = report.config_source.as_deref().unwrap_or("?");
    if report.config_embedded_default {
        println!("  config:   {config_path} ({origin}; missing: the embedded default is used)");
    } else {
        println!("  config:   {config_path} ({origin})");
    }
    if let Some(err) = &report.config_error {
        println!("  config error (the previous config keeps serving): {err}");
    }
    if let Some(dir) = &report.plugins_dir {
        println!("  plugins:  {dir}");
    }
    println!("  pid file: {}", paths.pid_file.display());
    if let Some(dir) = state.and_then(|s| s.log_dir.as_ref()) {
        println!("  logs:     {}", dir.display());
    }
    println!();
    println!("plugins:");
    health::print_plugin_table(&report.plugins, "  ");
    // Errors not already shown under a plugin row (the server may report them separately).
    let shown = |e: &PluginRow| {
        report
            .plugins
            .iter()
            .any(|p| p.error.is_some() && e.error == p.error)
    };
    let extra: Vec<&PluginRow> = report.plugin_errors.iter().filter(|e| !shown(e)).collect();
    if !extra.is_empty() {
        println!();
        println!("plugin load errors:");
        for e in extra {
            let file = e.path.as_deref().unwrap_or("?");
            let msg = e.error.as_deref().unwrap_or("");
            println!("  {file}: {msg}");
        }
    }
}

/// `ccr health`: the running service's `/health/detailed` JSON, found the same way as
/// `ccr status` (same exit codes).
pub fn health(flag: &ConfigFlag) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    match query_service(&paths, flag) {
        Ok(q) => {
            println!("{}", serde_json::to_string_pretty(&q.raw)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}
