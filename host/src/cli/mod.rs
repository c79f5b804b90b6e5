//! The `ccr` command line: service control (`start`, `stop`, `restart`, `status`,
//! `health`), running Claude Code through the proxy (`code`, `activate`), the config
//! (`config path|validate|show`), the log (`logs`) and plugins (`plugin list|check|new|build`).
//!
//! Every command is a function returning `anyhow::Result<ExitCode>`; [`main`] prints a failure
//! as one `error: …` line and exits with status 1. A panic is reported the same way (no
//! backtrace), so a user never sees Rust internals. Commands are described for users in
//! `docs/cli.md`.

mod code;
mod config_cmd;
mod health;
mod logs;
mod plugin;
mod service;
mod templates;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use crate::paths::RuntimePaths;

/// `ccr`: a fast, WebAssembly-extensible router for Claude Code.
#[derive(Debug, Parser)]
#[command(
    name = "ccr",
    version,
    disable_version_flag = true,
    about = "A fast, WebAssembly-extensible router for Claude Code (compatible with claude-code-router configs)",
    after_help = "Run `ccr code` to start Claude Code through the router (the service starts if needed).\nConfig: ~/.claude-code-router/config.json (override with --config or CCR_CONFIG)."
)]
pub struct Cli {
    /// `-v` / `--version` (CCR's spelling; clap's default is `-V`).
    #[arg(short = 'v', long = "version", action = ArgAction::Version, help = "Print the version")]
    pub version: (),
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The `--config PATH` flag shared by the commands that read the config.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigFlag {
    /// Config file (default: $CCR_CONFIG, else ~/.claude-code-router/config.json).
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
}

/// Options of `ccr start` (and `ccr restart`, which overrides the stored ones with them).
#[derive(Debug, Clone, Default, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Address to listen on (overrides HOST).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Port to listen on (overrides PORT and SERVICE_PORT; 0 picks a free port).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Folder of plugin `.wasm` files (overrides PLUGINS_DIR).
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
}

/// The `ccr` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (in the foreground unless --daemon).
    Start {
        #[command(flatten)]
        args: StartArgs,
        /// Run in the background and return once the service answers.
        #[arg(long, short = 'd')]
        daemon: bool,
        /// Internal: set by `--daemon` on the background process.
        #[arg(long, hide = true)]
        detached: bool,
    },
    /// Stop the running service (SIGTERM, then SIGKILL after 5 s).
    Stop,
    /// Stop the service and start it again in the background, with the options it was
    /// started with unless given here.
    Restart {
        #[command(flatten)]
        args: StartArgs,
    },
    /// Show whether the service runs, its address, uptime, config and plugins (exit 0 if
    /// running, 3 if not).
    Status {
        #[command(flatten)]
        config: ConfigFlag,
    },
    /// Print the running service's /health JSON (non-zero exit if it does not answer).
    Health {
        #[command(flatten)]
        config: ConfigFlag,
    },
    /// Run Claude Code through the router, passing every argument to `claude` (starts the
    /// service in the background if needed). The config comes from $CCR_CONFIG or the default
    /// path, or from the running service.
    #[command(disable_help_flag = true)]
    Code {
        /// Arguments for `claude`, passed through verbatim.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
    /// Print `export` lines that point Claude Code at the router: eval "$(ccr activate)".
    #[command(visible_alias = "env")]
    Activate {
        #[command(flatten)]
        config: ConfigFlag,
    },
    /// Show, locate or validate the config (default: show).
    Config {
        #[command(flatten)]
        config: ConfigFlag,
        #[command(subcommand)]
        action: Option<ConfigAction>,
    },
    /// Print the latest service log file.
    Logs {
        /// Keep printing lines as they are written.
        #[arg(long, short = 'f')]
        follow: bool,
        /// How many lines from the end to print first.
        #[arg(long, short = 'n', default_value_t = 100, value_name = "N")]
        lines: usize,
    },
    /// List, check, create and build plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Print the version.
    Version,
}

/// `ccr config …`.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ConfigAction {
    /// Print the config file's path and where that choice came from.
    Path,
    /// Load the config and report errors (exit 1) or "ok" and warnings.
    Validate,
    /// Print the config as JSON with secrets replaced by "***".
    Show,
}

/// `ccr plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List plugins: the running service's view, or loaded locally when it is not running.
    List {
        #[command(flatten)]
        config: ConfigFlag,
        /// Plugin folder to load from when the service is not running (overrides PLUGINS_DIR).
        #[arg(long, value_name = "DIR")]
        plugins_dir: Option<PathBuf>,
    },
    /// Load a .wasm file the way the service would and describe it (exit 1 if it is not a
    /// valid plugin).
    Check {
        /// The plugin file.
        file: PathBuf,
    },
    /// Create a plugin project from a template.
    New {
        /// Plugin name (letters, digits and '-'; also the project folder's name).
        name: String,
        /// What the plugin does.
        #[arg(long, value_enum)]
        kind: PluginKindArg,
        /// Language of the project.
        #[arg(long, value_enum)]
        lang: PluginLang,
        /// Folder the project folder is created in (default: the current folder).
        #[arg(long, value_name = "PARENT")]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project into a .wasm component.
    Build {
        /// The project folder (default: the current folder).
        dir: Option<PathBuf>,
        /// Never fetch a missing toolchain (`npm install`, the componentize-py venv).
        #[arg(long)]
        offline: bool,
    },
}

/// `--kind` of `ccr plugin new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PluginKindArg {
    /// Talks to an upstream API (the `provider` world).
    Provider,
    /// Rewrites requests and responses (the `transformer` world).
    Transformer,
    /// Picks the model for a request (the `router` world).
    Router,
}

impl PluginKindArg {
    /// The WIT world name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKindArg::Provider => "provider",
            PluginKindArg::Transformer => "transformer",
            PluginKindArg::Router => "router",
        }
    }
}

/// `--lang` of `ccr plugin new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PluginLang {
    /// Rust, with the ccr-plugin-sdk crate.
    Rust,
    /// JavaScript, with componentize-js.
    Js,
    /// Python, with componentize-py.
    Python,
}

impl PluginLang {
    /// The template folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginLang::Rust => "rust",
            PluginLang::Js => "js",
            PluginLang::Python => "python",
        }
    }
}

/// Parses the command line, runs the command and turns any failure into one `error: …` line
/// and exit status 1. This is the whole of `ccr`'s `main`.
pub fn main() -> ExitCode {
    install_panic_hook();
    if let Some(advice) = std::env::args()
        .nth(1)
        .as_deref()
        .and_then(ccr_only_command)
    {
        eprintln!("error: {advice}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Start { .. }) {
        restore_sigpipe();
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Start {
            args,
            daemon,
            detached,
        } => {
            if daemon {
                service::start_daemon(&args)
            } else {
                service::start_foreground(&args, detached)
            }
        }
        Command::Stop => service::stop(),
        Command::Restart { args } => service::restart(&args),
        Command::Status { config } => service::status(&config),
        Command::Health { config } => service::health(&config),
        Command::Code { args } => code::code(args),
        Command::Activate { config } => code::activate(&config),
        Command::Config { config, action } => {
            config_cmd::run(&config, action.unwrap_or(ConfigAction::Show))
        }
        Command::Logs { follow, lines } => logs::logs(lines, follow),
        Command::Plugin(cmd) => match cmd {
            PluginCommand::List {
                config,
                plugins_dir,
            } => plugin::list(&config, plugins_dir),
            PluginCommand::Check { file } => plugin::check(&file),
            PluginCommand::New {
                name,
                kind,
                lang,
                dir,
            } => plugin::new(&name, kind, lang, dir),
            PluginCommand::Build { dir, offline } => plugin::build(dir, offline),
        },
        Command::Version => {
            println!("ccr {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An error chain on one line: `outer: inner: root`, newlines folded.
/// claude-code-router commands ccr does not have (yet), with what to use instead: clap
/// would only say "unrecognized subcommand" (and suggest `code` for `model`).
const CCR_ONLY_COMMANDS: &[(&str, &str)] = &[
    (
        "ui",
        "`ccr ui` (claude-code-router's web UI) is not available in ccr yet. Edit \
         ~/.claude-code-router/config.json instead (ccr applies it on save), check it with \
         `ccr config validate`, and see the running service with `ccr status`.",
    ),
    (
        "model",
        "`ccr model` (claude-code-router's interactive model picker) is not available in ccr \
         yet. Set the models in the config's `Router` block (applied on save; \
         `ccr config validate` checks it), or switch inside Claude Code with \
         `/model provider,model`.",
    ),
    (
        "statusline",
        "`ccr statusline` is not available in ccr yet; `ccr status` shows the service and \
         `ccr logs --follow` every request with its route, model and tokens.",
    ),
    (
        "preset",
        "`ccr preset` (claude-code-router's config presets) is not available in ccr; copy the \
         preset's `Providers` and `Router` into ~/.claude-code-router/config.json, then run \
         `ccr config validate`.",
    ),
    (
        "install",
        "`ccr install` (claude-code-router's preset installer) is not available in ccr; add the \
         provider to `Providers` in ~/.claude-code-router/config.json (see docs/config.md), and \
         put plugins (.wasm) in ~/.claude-code-router/plugins.",
    ),
];

/// What to say for `ccr <command>` when it is one of [`CCR_ONLY_COMMANDS`].
fn ccr_only_command(command: &str) -> Option<&'static str> {
    CCR_ONLY_COMMANDS
        .iter()
        .find(|(name, _)| *name == command)
        .map(|(_, advice)| *advice)
}

fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

/// Rust ignores SIGPIPE, so `ccr status | head -1` would fail writing to a closed pipe;
/// short-lived commands die quietly instead, like other command-line tools. (Not for the
/// service, which must survive a client hanging up.)
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: resetting a signal disposition to its default at start-up, before any thread
    // is spawned.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Report a panic as one `error:` line instead of a message plus backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error, please report it: {msg}{at}");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ccr_only_commands_say_what_to_use_instead() {
        for (name, _) in CCR_ONLY_COMMANDS {
            assert!(
                Cli::try_parse_from(["ccr", name]).is_err(),
                "`{name}` became a real command: drop it from CCR_ONLY_COMMANDS"
            );
            assert!(ccr_only_command(name)
                .unwrap()
                .contains(&format!("`ccr {name}`")));
        }
        assert!(ccr_only_command("status").is_none());
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn code_passes_every_argument_through() {
        let cli = Cli::try_parse_from([
            "ccr",
            "code",
            "-p",
            "hi there",
            "--allowedTools",
            "Bash",
            "--help",
            "-v",
        ])
        .unwrap();
        let Command::Code { args } = cli.command else {
            panic!("not code");
        };
        let args: Vec<_> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            ["-p", "hi there", "--allowedTools", "Bash", "--help", "-v"]
        );
    }

    #[test]
    fn config_flag_goes_before_or_after_the_action() {
        for argv in [
            &["ccr", "config", "--config", "/x.json", "validate"][..],
            &["ccr", "config", "validate", "--config", "/x.json"][..],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            let Command::Config { config, action } = cli.command else {
                panic!("not config");
            };
            assert_eq!(
                config.config.as_deref(),
                Some(std::path::Path::new("/x.json"))
            );
            assert!(matches!(action, Some(ConfigAction::Validate)));
        }
    }

    #[test]
    fn config_defaults_to_show() {
        let cli = Cli::try_parse_from(["ccr", "config", "--config", "/x.json"]).unwrap();
        assert!(matches!(cli.command, Command::Config { action: None, .. }));
    }
}
