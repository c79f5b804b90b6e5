//! `ccr start` in the foreground (also the process `--daemon` spawns): holds the pid file,
//! writes the state file once the server listens, and serves until SIGINT/SIGTERM.

use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use super::pidfile::PidFile;
use super::state::{new_control_token, write_state, ServiceState, StoredOptions};
use super::{absolute, resolve_config};
use crate::cli::{RuntimePaths, StartArgs};
use crate::config::{self, ConfigSource};
use crate::logging::{self, LogOptions};
use crate::server::{self, ServeOptions};

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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
