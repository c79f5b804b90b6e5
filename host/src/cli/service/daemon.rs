//! `ccr start --daemon`: the service started in the background, in its own session, and
//! waited for until it answers `/health`; also [`ensure_running`] for `ccr code`.

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::pidfile::{already_running, liveness, Liveness};
use super::state::{read_state, ServiceState};
use super::{absolute, resolve_config};
use crate::cli::{RuntimePaths, StartArgs};
use crate::config::ConfigSource;

/// How long `start --daemon` (and `ccr code`) wait for a new service to answer `/health`
/// before saying it is slow.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long they wait at most while the new process is alive: the very first start compiles
/// the bundled plugins, which can take longer than [`START_TIMEOUT`] on a slow machine.
pub const START_LIMIT: Duration = Duration::from_secs(60);

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
