//! `ccr code` (run Claude Code through the router) and `ccr activate` (print the same
//! environment as `export` lines).
//!
//! Unlike CCR, `ccr code` never stops the service when Claude Code exits. CCR counts the
//! running `ccr code` sessions in a file and kills the service when the count drops to zero,
//! even when the user started that service with `ccr start` for other clients; a crashed
//! session also leaves the count wrong. The service is cheap to keep running (idle it uses
//! no CPU), so it stays up until `ccr stop`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode, Stdio};

use anyhow::{bail, Context as _};

use super::service::{self, Liveness};
use super::{health, ConfigFlag, RuntimePaths};
use crate::config::{self, Config};

/// One variable Claude Code gets: set to a value, or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Its name.
    pub key: &'static str,
    /// `Some(value)` to set it, `None` to remove it.
    pub value: Option<String>,
}

fn set(key: &'static str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        key,
        value: Some(value.into()),
    }
}

fn unset(key: &'static str) -> EnvVar {
    EnvVar { key, value: None }
}

/// The environment that points Claude Code at the router at `base_url` (CCR's list).
/// `non_interactive` adds CCR's `NON_INTERACTIVE_MODE` variables (only for `ccr code`: they
/// would spoil an interactive shell).
pub fn claude_env(config: &Config, base_url: &str, non_interactive: bool) -> Vec<EnvVar> {
    let mut no_proxy = String::from("127.0.0.1");
    if let Some(host) = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.rsplit_once(':'))
        .map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']'))
    {
        if host != "127.0.0.1" {
            no_proxy.push(',');
            no_proxy.push_str(host);
        }
    }
    let mut vars = vec![
        set("ANTHROPIC_BASE_URL", base_url),
        set(
            "ANTHROPIC_AUTH_TOKEN",
            config.api_key.clone().unwrap_or_else(|| "test".into()),
        ),
        unset("ANTHROPIC_API_KEY"),
        set("API_TIMEOUT_MS", config.api_timeout_ms.to_string()),
        set("NO_PROXY", no_proxy),
        set("DISABLE_TELEMETRY", "true"),
        set("DISABLE_COST_WARNINGS", "true"),
        unset("CLAUDE_CODE_USE_BEDROCK"),
    ];
    if non_interactive {
        vars.extend([
            set("CI", "true"),
            set("FORCE_COLOR", "0"),
            set("NODE_NO_READLINE", "1"),
            set("TERM", "dumb"),
        ]);
    }
    vars
}

/// `ccr code [args…]`: make sure the service runs, then run `claude` with every argument
/// verbatim and the router's environment. On Unix the process becomes `claude` (exec), so
/// signals, the terminal and the exit status are Claude Code's own.
pub fn code(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    // The running service's config, else the one it would be started with.
    let source = match service::liveness(&paths) {
        Liveness::Running { state: Some(s), .. } => s.config_source(),
        _ => service::resolve_config(&ConfigFlag::default()),
    };
    let config = config::load_from(&source)?;
    // Look for claude first: a missing claude should not start the service for nothing.
    let claude = find_claude(config.claude_path.as_deref())?;

    let (state, started) = service::ensure_running(&paths)?;
    if started {
        eprintln!(
            "ccr: started the router in the background (pid {}, {}); `ccr stop` stops it",
            state.pid,
            state.base_url()
        );
    }
    mark_onboarding_done();

    let mut cmd = Process::new(&claude.program);
    cmd.args(&claude.args).args(&args);
    for var in claude_env(&config, &state.base_url(), config.non_interactive_mode) {
        match var.value {
            Some(v) => cmd.env(var.key, v),
            None => cmd.env_remove(var.key),
        };
    }
    if config.non_interactive_mode {
        cmd.stdin(Stdio::null());
    }
    run_replacing_self(cmd, &claude.program)
}

#[cfg(unix)]
fn run_replacing_self(mut cmd: Process, program: &Path) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt as _;
    let err = cmd.exec();
    Err(err).with_context(|| format!("running {}", program.display()))
}

#[cfg(not(unix))]
fn run_replacing_self(mut cmd: Process, program: &Path) -> anyhow::Result<ExitCode> {
    let status = cmd
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
}

/// CCR writes `~/.claude.json` with `hasCompletedOnboarding: true` when it is missing, so
/// Claude Code does not start with its Anthropic login/onboarding flow.
fn mark_onboarding_done() {
    let path = crate::paths::user_home().join(".claude.json");
    if !path.exists() {
        let _ = std::fs::write(&path, "{\n  \"hasCompletedOnboarding\": true\n}\n");
    }
}

/// The Claude Code command: a program and the arguments `CLAUDE_PATH` put before the user's.
#[derive(Debug)]
struct ClaudeCommand {
    program: PathBuf,
    args: Vec<String>,
}

/// `CLAUDE_PATH` from the config, else from the environment, else `claude` on `PATH`. Like
/// CCR (which runs it through a shell), a value with spaces that is not a file is split into
/// a program and arguments (`npx @anthropic-ai/claude-code`).
fn find_claude(config_path: Option<&str>) -> anyhow::Result<ClaudeCommand> {
    let env_path = std::env::var("CLAUDE_PATH")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (value, origin) = match (config_path, env_path) {
        (Some(c), _) if !c.trim().is_empty() => (c.trim().to_owned(), "CLAUDE_PATH in the config"),
        (_, Some(e)) => (e.trim().to_owned(), "the CLAUDE_PATH environment variable"),
        _ => ("claude".to_owned(), ""),
    };
    let expanded = expand_tilde(&value);
    if expanded.is_file() {
        return Ok(ClaudeCommand {
            program: expanded,
            args: Vec::new(),
        });
    }
    let mut words = value.split_whitespace().map(str::to_owned);
    let first = words.next().unwrap_or_default();
    let rest: Vec<String> = words.collect();
    let first_path = expand_tilde(&first);
    let program = if first.contains('/') {
        first_path.is_file().then_some(first_path)
    } else {
        search_path(&first)
    };
    match program {
        Some(program) => Ok(ClaudeCommand {
            program,
            args: rest,
        }),
        None if origin.is_empty() => bail!(
            "Claude Code (`claude`) was not found on PATH; install it with \
             `npm install -g @anthropic-ai/claude-code` or set CLAUDE_PATH to its path"
        ),
        None => bail!(
            "Claude Code was not found at {value:?} (from {origin}); install it with \
             `npm install -g @anthropic-ai/claude-code` or fix CLAUDE_PATH"
        ),
    }
}

fn expand_tilde(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => crate::paths::user_home().join(rest),
        None => PathBuf::from(p),
    }
}

/// The first executable file called `name` in `$PATH`.
fn search_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// `ccr activate` / `ccr env`: `export`/`unset` lines for `eval "$(ccr activate)"`. Uses the
/// running service's address, else the config's (and says on stderr that it is not running).
pub fn activate(flag: &ConfigFlag) -> anyhow::Result<ExitCode> {
    let paths = RuntimePaths::current();
    let (base, config) = match service::liveness(&paths) {
        Liveness::Running { state: Some(s), .. } if flag.config.is_none() => {
            (s.base_url(), config::load_from(&s.config_source())?)
        }
        _ => {
            let config = config::load_from(&service::resolve_config(flag))?;
            let base = health::base_url(&health::join_host_port(config.bind_host(), config.port));
            eprintln!("# note: the router is not running; start it with `ccr start --daemon`");
            (base, config)
        }
    };
    for var in claude_env(&config, &base, false) {
        match var.value {
            Some(v) => println!("export {}=\"{}\"", var.key, shell_escape(&v)),
            None => println!("unset {}", var.key),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Escapes a value for a double-quoted POSIX shell string.
fn shell_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        config::parse(text, Path::new("/t/config.json"), |_| None).unwrap()
    }

    #[test]
    fn env_matches_ccr() {
        let c = config(r#"{"APIKEY":"sk-1","API_TIMEOUT_MS":1234}"#);
        let env = claude_env(&c, "http://127.0.0.1:3456", false);
        let get = |k: &str| env.iter().find(|v| v.key == k).map(|v| v.value.clone());
        assert_eq!(
            get("ANTHROPIC_BASE_URL"),
            Some(Some("http://127.0.0.1:3456".into()))
        );
        assert_eq!(get("ANTHROPIC_AUTH_TOKEN"), Some(Some("sk-1".into())));
        assert_eq!(get("ANTHROPIC_API_KEY"), Some(None));
        assert_eq!(get("CLAUDE_CODE_USE_BEDROCK"), Some(None));
        assert_eq!(get("API_TIMEOUT_MS"), Some(Some("1234".into())));
        assert_eq!(get("NO_PROXY"), Some(Some("127.0.0.1".into())));
        assert_eq!(get("CI"), None);

        let c = config("{}");
        let env = claude_env(&c, "http://10.0.0.2:9", true);
        let get = |k: &str| env.iter().find(|v| v.key == k).map(|v| v.value.clone());
        assert_eq!(get("ANTHROPIC_AUTH_TOKEN"), Some(Some("test".into())));
        assert_eq!(get("API_TIMEOUT_MS"), Some(Some("600000".into())));
        assert_eq!(get("NO_PROXY"), Some(Some("127.0.0.1,10.0.0.2".into())));
        assert_eq!(get("TERM"), Some(Some("dumb".into())));
    }

    #[test]
    fn shell_values_are_escaped() {
        assert_eq!(shell_escape(r#"a"b$c`d\e"#), r#"a\"b\$c\`d\\e"#);
    }
}
