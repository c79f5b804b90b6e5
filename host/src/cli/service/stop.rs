//! `ccr stop` and `ccr restart` (which starts again with the options the service was
//! started with).

use std::process::ExitCode;

use super::daemon::start_daemon;
use super::pidfile::{clean_stale, liveness, Liveness};
use super::process::terminate;
use super::state::StoredOptions;
use crate::cli::{ConfigFlag, RuntimePaths, StartArgs};

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
