//! `ccr config path|validate|show`.

use std::process::ExitCode;

use crate::config::{self, ConfigSource};

use super::service::resolve_config;
use super::{ConfigAction, ConfigFlag};

/// Runs one `ccr config` action.
pub fn run(flag: &ConfigFlag, action: ConfigAction) -> anyhow::Result<ExitCode> {
    let source = resolve_config(flag);
    match action {
        ConfigAction::Path => path(&source),
        ConfigAction::Validate => validate(&source),
        ConfigAction::Show => show(&source),
    }
}

/// The path on the first line (for scripts), where it came from on the second.
fn path(source: &ConfigSource) -> anyhow::Result<ExitCode> {
    println!("{}", source.path().display());
    let origin = match source {
        ConfigSource::Flag(_) => "--config",
        ConfigSource::Env(_) => "CCR_CONFIG environment variable",
        ConfigSource::Default(_) => "default",
    };
    let missing = if source.path().exists() {
        ""
    } else if matches!(source, ConfigSource::Default(_)) {
        " (missing: the embedded default is used)"
    } else {
        " (missing: ccr cannot start with it)"
    };
    println!("source: {origin}{missing}");
    Ok(ExitCode::SUCCESS)
}

/// Loads the config: `ok` plus warnings, or the error (file, key path, what was expected)
/// and exit status 1.
fn validate(source: &ConfigSource) -> anyhow::Result<ExitCode> {
    let config = config::load_from(source)?;
    for warning in &config.warnings {
        println!("warning: {warning}");
    }
    let what = if config.is_embedded_default() {
        "the embedded default config".to_owned()
    } else {
        source.path().display().to_string()
    };
    println!(
        "ok: {what} ({} provider{}, {} warning{})",
        config.providers.len(),
        plural(config.providers.len()),
        config.warnings.len(),
        plural(config.warnings.len())
    );
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The config after `$VAR` interpolation, secrets replaced by `***`, as pretty JSON.
fn show(source: &ConfigSource) -> anyhow::Result<ExitCode> {
    let config = config::load_from(source)?;
    if config.is_embedded_default() {
        eprintln!(
            "# {} does not exist; this is the embedded default",
            source.path().display()
        );
    }
    println!("{}", serde_json::to_string_pretty(&config.redacted())?);
    Ok(ExitCode::SUCCESS)
}
