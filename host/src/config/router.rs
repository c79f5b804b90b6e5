//! `Router` (which model serves which scenario) and `fallback` (what to try next).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::provider::ProviderConfig;
use super::reader::{join, Reader};
use super::ConfigError;

/// A `"provider,model"` reference, split at the **first** comma (model ids may contain
/// commas and slashes, provider names may not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    /// The provider's `name`.
    pub provider: String,
    /// The model id sent upstream.
    pub model: String,
}

impl ModelRef {
    /// Splits `"provider,model"` at the first comma, trimming spaces around both halves.
    /// `None` if there is no comma or either half is empty.
    pub fn parse(s: &str) -> Option<ModelRef> {
        let (p, m) = s.split_once(',')?;
        let (p, m) = (p.trim(), m.trim());
        if p.is_empty() || m.is_empty() {
            return None;
        }
        Some(ModelRef {
            provider: p.to_owned(),
            model: m.to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    /// Formats as `provider,model`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.provider, self.model)
    }
}

/// The default `Router.longContextThreshold` (tokens).
pub const DEFAULT_LONG_CONTEXT_THRESHOLD: u32 = 60_000;

/// `Router`: the model for each built-in scenario. Every slot is optional except that
/// routing fails without `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterConfig {
    /// `default`: used when no other rule matches.
    pub default: Option<ModelRef>,
    /// `background`: requests for a Claude Haiku model (Claude Code's background work).
    pub background: Option<ModelRef>,
    /// `think`: requests with extended thinking enabled.
    pub think: Option<ModelRef>,
    /// `longContext`: requests above [`long_context_threshold`](Self::long_context_threshold).
    pub long_context: Option<ModelRef>,
    /// `longContextThreshold`: token count above which `longContext` is used
    /// (default 60000; `0` also means the default, as in CCR).
    pub long_context_threshold: u32,
    /// `webSearch`: requests offering a `web_search_*` server tool (beats `think`).
    pub web_search: Option<ModelRef>,
    /// `image`: requests whose last user message carries an image.
    pub image: Option<ModelRef>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            default: None,
            background: None,
            think: None,
            long_context: None,
            long_context_threshold: DEFAULT_LONG_CONTEXT_THRESHOLD,
            web_search: None,
            image: None,
        }
    }
}

impl RouterConfig {
    /// The slot for a CCR scenario name (`default`, `background`, `think`, `longContext`,
    /// `webSearch`, `image`).
    pub fn scenario(&self, name: &str) -> Option<&ModelRef> {
        match name {
            "default" => self.default.as_ref(),
            "background" => self.background.as_ref(),
            "think" => self.think.as_ref(),
            "longContext" => self.long_context.as_ref(),
            "webSearch" => self.web_search.as_ref(),
            "image" => self.image.as_ref(),
            _ => None,
        }
    }
}

/// The scenario names CCR knows, used by `Router` and `fallback`.
pub const SCENARIOS: &[&str] = &[
    "default",
    "background",
    "think",
    "longContext",
    "webSearch",
    "image",
];

/// `fallback` (CCR v2): for each scenario name, the `"provider,model"` targets tried in order
/// when the routed upstream answers with an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FallbackConfig {
    /// Scenario name (`default`, `think`, ...) → targets, in order.
    pub scenarios: BTreeMap<String, Vec<ModelRef>>,
}

impl FallbackConfig {
    /// The fallback targets for `scenario` (empty if none are configured).
    pub fn for_scenario(&self, scenario: &str) -> &[ModelRef] {
        self.scenarios
            .get(scenario)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True if no scenario has a fallback.
    pub fn is_empty(&self) -> bool {
        self.scenarios.values().all(Vec::is_empty)
    }
}

const ROUTER_KEYS: &[&str] = &[
    "default",
    "background",
    "think",
    "longContext",
    "longContextThreshold",
    "webSearch",
    "image",
];

/// Reads `Router`.
pub(crate) fn read_router(
    r: &mut Reader<'_>,
    key: &str,
    v: &Value,
    providers: &[ProviderConfig],
) -> Result<RouterConfig, ConfigError> {
    let obj = r.object(key, v)?;
    r.warn_typos(key, obj, ROUTER_KEYS);
    let mut slot = |name: &str| -> Result<Option<ModelRef>, ConfigError> {
        match obj.get(name) {
            None => Ok(None),
            Some(v) => read_model_ref(r, &join(key, name), v, providers),
        }
    };
    let default = slot("default")?;
    let background = slot("background")?;
    let think = slot("think")?;
    let long_context = slot("longContext")?;
    let web_search = slot("webSearch")?;
    let image = slot("image")?;
    let threshold_key = join(key, "longContextThreshold");
    let long_context_threshold = match obj.get("longContextThreshold") {
        None | Some(Value::Null) => DEFAULT_LONG_CONTEXT_THRESHOLD,
        Some(Value::String(s)) if s.trim().is_empty() => DEFAULT_LONG_CONTEXT_THRESHOLD,
        Some(v) => match r.uint(&threshold_key, v)? {
            0 => DEFAULT_LONG_CONTEXT_THRESHOLD,
            n => u32::try_from(n)
                .map_err(|_| r.expected(&threshold_key, "a token count below 2^32", v))?,
        },
    };
    Ok(RouterConfig {
        default,
        background,
        think,
        long_context,
        long_context_threshold,
        web_search,
        image,
    })
}

/// Reads `fallback`.
pub(crate) fn read_fallback(
    r: &mut Reader<'_>,
    key: &str,
    v: &Value,
    providers: &[ProviderConfig],
) -> Result<FallbackConfig, ConfigError> {
    let obj = r.object(key, v)?;
    let mut scenarios = BTreeMap::new();
    for (name, list) in obj {
        let skey = join(key, name);
        if !SCENARIOS.contains(&name.as_str()) {
            let hint = super::reader::suggest(name, SCENARIOS)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            r.warn(format!(
                "`{skey}`: {name:?} is not a routing scenario ({}){hint}",
                SCENARIOS.join(", ")
            ));
        }
        let items = match list {
            Value::Null => &[][..],
            other => r.array(&skey, other)?,
        };
        let mut targets = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(m) = read_model_ref(r, &format!("{skey}[{i}]"), item, providers)? {
                targets.push(m);
            }
        }
        scenarios.insert(name.clone(), targets);
    }
    Ok(FallbackConfig { scenarios })
}

/// Reads one `"provider,model"` value; `null` / `""` mean "not set". The provider must exist
/// (exact, case-sensitive name, as CCR's provider lookup is).
pub(crate) fn read_model_ref(
    r: &mut Reader<'_>,
    key: &str,
    v: &Value,
    providers: &[ProviderConfig],
) -> Result<Option<ModelRef>, ConfigError> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s,
        other => return Err(r.expected(key, "a string \"provider,model\"", other)),
    };
    let Some(m) = ModelRef::parse(s) else {
        return Err(r.invalid(
            key,
            format!("expected a string \"provider,model\", found {s:?} (no provider part)"),
        ));
    };
    let Some(provider) = providers.iter().find(|p| p.name == m.provider) else {
        let known: Vec<&str> = providers.iter().map(|p| p.name.as_str()).collect();
        let case_hint = providers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&m.provider))
            .map(|p| format!(" (names are case-sensitive: did you mean {:?}?)", p.name))
            .unwrap_or_default();
        let known = if known.is_empty() {
            "no providers are configured".to_owned()
        } else {
            format!("known providers: {}", known.join(", "))
        };
        return Err(r.invalid(
            key,
            format!(
                "{s:?} names unknown provider {:?}{case_hint}; {known}",
                m.provider
            ),
        ));
    };
    if !provider.models.is_empty() && !provider.models.contains(&m.model) {
        r.warn(format!(
            "`{key}`: model {:?} is not in the `models` list of provider {:?}; it is used as given",
            m.model, provider.name
        ));
    }
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ref_splits_at_first_comma() {
        let m = ModelRef::parse("openrouter,anthropic/claude-sonnet-4").unwrap();
        assert_eq!(m.provider, "openrouter");
        assert_eq!(m.model, "anthropic/claude-sonnet-4");
        let m = ModelRef::parse("p,a,b").unwrap();
        assert_eq!((m.provider.as_str(), m.model.as_str()), ("p", "a,b"));
        let m = ModelRef::parse(" p , m ").unwrap();
        assert_eq!(m.to_string(), "p,m");
        assert_eq!(ModelRef::parse("nocomma"), None);
        assert_eq!(ModelRef::parse(",m"), None);
        assert_eq!(ModelRef::parse("p,"), None);
        assert_eq!(ModelRef::parse(""), None);
    }
}
