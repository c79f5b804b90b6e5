//! `ccr config path|validate|show`.

use std::process::ExitCode;

use crate::config::{self, ConfigSource};

use super::service::resolve_config;
use super::{ConfigAction, ConfigFlag, RuntimePaths};

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
    // Chain entries are checked against the plugins the service would load (bundled and
    // the plugin folder), loaded here as `ccr plugin list` does.
    let dir = config.effective_plugins_dir();
    let registry = super::plugin::load_locally(&config, &dir, &RuntimePaths::current())?;
    let mut warnings = config.warnings.clone();
    let chain = crate::plugins::chain::chain_warnings(&config, &registry.snapshot());
    warnings.extend(chain.into_iter().map(|(_, sentence)| sentence));
    for failure in registry.snapshot().failures() {
        warnings.push(format!(
            "plugin file {} cannot be used: {}",
            failure.path.display(),
            failure.error
        ));
    }
    for warning in &warnings {
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
        warnings.len(),
        plural(warnings.len())
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
