//! Service control: `start` (foreground or `--daemon`), `stop`, `restart`, `status`, `health`.
//!
//! The service announces itself with two files in `~/.claude-code-router`:
//! - `.claude-code-router.pid`, CCR's pid file (just the pid), created exclusively before
//!   the server starts, so two `ccr start` cannot both run;
//! - `.ccr-state.json` ([`ServiceState`](state::ServiceState)), written once the server listens: the bound
//!   address, the config and the options the service was started with (`restart` reuses
//!   them).
//!
//! Both are removed when the service exits (also on SIGTERM/Ctrl-C, which make the server
//! return). A pid file whose process is gone is stale and cleaned up by the next command.

mod daemon;
mod foreground;
mod pidfile;
mod process;
mod state;
mod status;
mod stop;

use std::path::{Path, PathBuf};

use super::ConfigFlag;
use crate::config::{self, ConfigSource};

pub(crate) use daemon::ensure_running;
pub use daemon::start_daemon;
pub use foreground::start_foreground;
pub use pidfile::{liveness, Liveness};
pub use status::{health, status};
pub use stop::{restart, stop};

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

/// The API key of the config at `path`, if it loads (sent to `/health` in case it is
/// protected).
fn api_key_of(source: &ConfigSource) -> Option<String> {
    config::load_from(source).ok().and_then(|c| c.api_key)
}
