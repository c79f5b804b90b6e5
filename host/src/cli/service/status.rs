//! `ccr status` and `ccr health`: the service the pid file names and what its
//! `/health/detailed` says, with LSB exit codes when it is not running or not answering.

use std::process::ExitCode;

use super::pidfile::{clean_stale, liveness, Liveness};
use super::state::ServiceState;
use super::{api_key_of, resolve_config};
use crate::cli::health::{self, Health, PluginRow};
use crate::cli::{ConfigFlag, RuntimePaths};
use crate::config::{self, ConfigSource};

/// Exit status of `ccr status` when the service is not running (LSB convention).
pub const EXIT_NOT_RUNNING: u8 = 3;

/// Exit status of `ccr status` when the process runs but `/health` does not answer (LSB
/// "status unknown").
pub const EXIT_UNKNOWN: u8 = 4;

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
