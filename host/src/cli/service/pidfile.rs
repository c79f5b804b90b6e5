//! The pid file `.claude-code-router.pid` (CCR's: just the pid): who owns it
//! ([`liveness`]), cleaning up a stale one, and holding it while the service runs.

use std::fs::{self, OpenOptions};
use std::io::Write as _;

use anyhow::{bail, Context as _};

use super::process::process_alive;
use super::state::{read_state, ServiceState};
use crate::cli::RuntimePaths;

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

/// Removes the pid and state files when the pid file names no live process.
pub(super) fn clean_stale(paths: &RuntimePaths) {
    let _ = fs::remove_file(&paths.pid_file);
    let _ = fs::remove_file(&paths.state_file);
}

/// The pid file of this process; removes it (and the state file) on drop if they are still
/// this process's.
pub(super) struct PidFile {
    paths: RuntimePaths,
    pid: u32,
}

impl PidFile {
    /// Creates the pid file exclusively, after cleaning up a stale one. Fails if a live
    /// service owns it.
    pub(super) fn create(paths: &RuntimePaths) -> anyhow::Result<Self> {
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

pub(super) fn already_running(pid: u32, state: &Option<ServiceState>) -> String {
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
