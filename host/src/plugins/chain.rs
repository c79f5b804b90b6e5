//! A provider's transformer chain (`transformer.use`) resolved against the loaded plugins:
//! which provider plugin builds the upstream request, which transformers wrap it, and the
//! warnings for chain entries no plugin provides.

use std::sync::Arc;

use crate::config::{Config, ProviderConfig};
use crate::error::ProxyError;
use crate::plugins::bindings::{PluginKind, TransformContext};
use crate::plugins::{LoadedPlugin, PluginSet, TransformerInstance};

/// The provider plugin used when a provider's `transformer.use` chain names none (CCR's
/// default path: an OpenAI-compatible endpoint).
pub const DEFAULT_PROVIDER_PLUGIN: &str = "openai";

/// The provider plugin and transformers a provider's chain resolves to.
pub struct Chain {
    /// The provider plugin (the chain's, or [`DEFAULT_PROVIDER_PLUGIN`]).
    pub provider: Arc<LoadedPlugin>,
    /// Its options, as JSON text.
    pub provider_options: String,
    /// The transformers in chain order, each with its options as JSON text.
    pub transformers: Vec<(Arc<LoadedPlugin>, String)>,
}

/// A transformer instance with the context it is called with.
pub struct ActiveTransformer {
    /// The instance (kept for the whole response).
    pub instance: TransformerInstance,
    /// Its context (target with its own options, route).
    pub ctx: TransformContext,
}

/// Resolve `provider`'s chain for `model`. An entry no provider or transformer plugin
/// provides is skipped and reported to `warn_once` (its [`chain_warning_key`] and the
/// sentence to log), so the caller decides how often it is logged.
pub fn resolve_chain(
    plugins: &PluginSet,
    provider: &ProviderConfig,
    model: &str,
    mut warn_once: impl FnMut(&str, &dyn Fn() -> String),
) -> Result<Chain, ProxyError> {
    let mut chosen: Option<(Arc<LoadedPlugin>, String)> = None;
    let mut transformers = Vec::new();
    for used in provider.chain_for(model) {
        let options = used.options.to_string();
        let found = plugins.get_ignore_case(&used.name);
        match found {
            Some(p) if p.info.kind == PluginKind::Provider => chosen = Some((p.clone(), options)),
            Some(p) if p.info.kind == PluginKind::Transformer => {
                transformers.push((p.clone(), options))
            }
            _ => warn_once(&chain_warning_key(&provider.name, &used.name), &|| {
                chain_entry_problem(&provider.name, &used.name, found.map(|p| &**p))
                    .unwrap_or_default()
            }),
        }
    }
    let (provider_plugin, provider_options) = match chosen {
        Some(c) => c,
        None => match plugins.get(DEFAULT_PROVIDER_PLUGIN) {
            Some(p) => (p.clone(), "{}".to_string()),
            None => {
                return Err(ProxyError::Misconfigured(format!(
                    "no provider plugin for provider '{}' (the default '{DEFAULT_PROVIDER_PLUGIN}' \
                     plugin is not loaded)",
                    provider.name
                )))
            }
        },
    };
    Ok(Chain {
        provider: provider_plugin,
        provider_options,
        transformers,
    })
}

/// Why chain entry `name` of provider `provider` does nothing, given the plugin of that
/// name (`None`: there is none); `None` when it is a provider or transformer plugin.
fn chain_entry_problem(
    provider: &str,
    name: &str,
    plugin: Option<&LoadedPlugin>,
) -> Option<String> {
    match plugin {
        Some(p) if matches!(p.info.kind, PluginKind::Provider | PluginKind::Transformer) => None,
        Some(_) => Some(format!(
            "provider '{provider}': '{name}' is a router plugin and cannot be used in a \
             transformer chain"
        )),
        None => Some(format!(
            "provider '{provider}': transformer '{name}' is not available (no bundled or folder \
             plugin has that name); it is skipped"
        )),
    }
}

/// The `warn_once` key of a chain entry's warning: once per provider and name.
pub fn chain_warning_key(provider: &str, name: &str) -> String {
    format!("chain:{provider}:{name}")
}

/// Every transformer chain entry of `config` that no plugin of `plugins` provides, as
/// (its [`chain_warning_key`], one sentence), for `ccr config validate` and the log at start and reload: a
/// provider whose chain names a missing plugin would otherwise pass validation and only
/// misbehave at request time.
pub fn chain_warnings(config: &Config, plugins: &PluginSet) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for provider in &config.providers {
        let per_model = provider.transformer.per_model.values().flatten();
        for used in provider.transformer.chain.iter().chain(per_model) {
            let found = plugins.get_ignore_case(&used.name).map(|p| &**p);
            if let Some(problem) = chain_entry_problem(&provider.name, &used.name, found) {
                let key = chain_warning_key(&provider.name, &used.name);
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, problem));
                }
            }
        }
    }
    out
}
