//! Choosing the provider and model for a request: claude-code-router's built-in rules.
//!
//! The rules are pure functions of the request's [`RouteFacts`], its token count, the
//! previous answer's input tokens in the same session ([`SessionUsage`]) and the [`Config`].
//! Router *plugins* run before these rules and are wired elsewhere; [`builtin_route`] is what
//! they fall back to, and its [`RouteKind`] is the `builtin-route` they are shown.
//!
//! Precedence (first match wins), as in CCR:
//! 1. **explicit**: `model` is `provider,model` (what `/model provider,model` sends);
//! 2. **image**: `Router.image` is set and the last user message carries an image;
//! 3. **longContext**: tokens > `longContextThreshold`, or the previous answer in this
//!    session used more than the threshold and this request has > 20000 tokens;
//! 4. **subagent**: a `<CCR-SUBAGENT-MODEL>provider,model</CCR-SUBAGENT-MODEL>` tag starts a
//!    system text block;
//! 5. **background**: `model` contains `claude` and `haiku`, and `Router.background` is set;
//! 6. **webSearch**: a `web_search_*` tool is offered and `Router.webSearch` is set;
//! 7. **think**: thinking is on and `Router.think` is set;
//! 8. **default**: `Router.default`.

mod facts;
mod session;

use std::fmt;

pub use facts::{
    session_from_user_id, strip_subagent_tag, RouteFacts, SUBAGENT_CLOSE, SUBAGENT_OPEN,
};
pub use session::SessionUsage;

use crate::config::{Config, ModelRef};

/// Above `longContextThreshold` in the previous answer, a request needs more than this many
/// tokens to stay on the long-context model (CCR's constant).
pub const LONG_CONTEXT_CARRYOVER_MIN: u32 = 20_000;

/// Which rule picked the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// `model` named `provider,model` itself.
    Explicit,
    /// `Router.longContext`.
    LongContext,
    /// A `<CCR-SUBAGENT-MODEL>` tag in the system prompt.
    Subagent,
    /// `Router.background` (a Claude Haiku request).
    Background,
    /// `Router.webSearch`.
    WebSearch,
    /// `Router.think`.
    Think,
    /// `Router.image`.
    Image,
    /// `Router.default`.
    Default,
}

impl RouteKind {
    /// The name used in logs, metrics and the WIT `route-context.builtin-route`: CCR's
    /// scenario names (`default`, `background`, `think`, `longContext`, `webSearch`,
    /// `image`) plus `explicit` and `subagent`.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Explicit => "explicit",
            RouteKind::LongContext => "longContext",
            RouteKind::Subagent => "subagent",
            RouteKind::Background => "background",
            RouteKind::WebSearch => "webSearch",
            RouteKind::Think => "think",
            RouteKind::Image => "image",
            RouteKind::Default => "default",
        }
    }

    /// The `fallback` list that applies: the scenario's own, except that explicit,
    /// subagent and image routes count as `default` (as in CCR v2).
    pub fn fallback_scenario(self) -> &'static str {
        match self {
            RouteKind::Explicit | RouteKind::Subagent | RouteKind::Image => "default",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a request goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDecision {
    /// The provider's `name` as written in the config.
    pub provider: String,
    /// The model id to send upstream.
    pub model: String,
    /// The rule that chose it.
    pub kind: RouteKind,
}

impl RouteDecision {
    fn from_ref(r: &ModelRef, kind: RouteKind) -> Self {
        RouteDecision {
            provider: r.provider.clone(),
            model: r.model.clone(),
            kind,
        }
    }
}

/// Why no route could be chosen. Both are the client's or the config's fault, never a
/// server bug: the server answers with an Anthropic-shaped 4xx error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The request (its `model` or a subagent tag) names a provider the config does not
    /// have.
    #[error("unknown provider {provider:?}; {}", known_list(.known))]
    UnknownProvider {
        /// The provider name as the request wrote it.
        provider: String,
        /// The configured provider names.
        known: Vec<String>,
    },
    /// A `provider,model` value from the request has an empty half, or a subagent tag has
    /// no comma.
    #[error("{origin} {value:?} is not \"provider,model\"")]
    MalformedModel {
        /// The value as sent.
        value: String,
        /// Where it came from: `model` or `subagent tag`.
        origin: &'static str,
    },
    /// No rule matched and `Router.default` is not configured.
    #[error("no route for this request: Router.default is not configured")]
    NoDefault,
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "no providers are configured".to_owned()
    } else {
        format!("known providers: {}", known.join(", "))
    }
}

/// Resolves a `provider,model` the request itself chose (via `/model` or a subagent tag):
/// the provider is matched ignoring case and returned with its canonical name; the model
/// is matched ignoring case against the provider's `models` and returned canonically, or
/// used as given when it is not listed.
pub fn resolve_requested(
    config: &Config,
    value: &str,
    origin: &'static str,
    kind: RouteKind,
) -> Result<RouteDecision, RouteError> {
    let malformed = || RouteError::MalformedModel {
        value: value.to_owned(),
        origin,
    };
    let (provider, model) = value.split_once(',').ok_or_else(malformed)?;
    resolve_target(config, provider, model, kind).ok_or_else(malformed)?
}

/// Resolves a provider and model a router plugin chose, as [`resolve_requested`] does for
/// the text form (the plugin's decision arrives typed, so nothing is split).
pub fn resolve_chosen(
    config: &Config,
    provider: &str,
    model: &str,
    origin: &'static str,
    kind: RouteKind,
) -> Result<RouteDecision, RouteError> {
    resolve_target(config, provider, model, kind).unwrap_or_else(|| {
        Err(RouteError::MalformedModel {
            value: format!("{provider},{model}"),
            origin,
        })
    })
}

/// The shared matching of [`resolve_requested`] and [`resolve_chosen`]; `None` when the
/// provider or the model is empty.
fn resolve_target(
    config: &Config,
    provider: &str,
    model: &str,
    kind: RouteKind,
) -> Option<Result<RouteDecision, RouteError>> {
    let (provider, model) = (provider.trim(), model.trim());
    if provider.is_empty() || model.is_empty() {
        return None;
    }
    let Some(p) = config.find_provider_ci(provider) else {
        return Some(Err(RouteError::UnknownProvider {
            provider: provider.to_owned(),
            known: config.provider_names(),
        }));
    };
    let model = p.find_model_ci(model).unwrap_or(model);
    Some(Ok(RouteDecision {
        provider: p.name.clone(),
        model: model.to_owned(),
        kind,
    }))
}

/// Where a request goes, with the label logs show (`default`, `think`, `plugin:NAME`, ...).
#[derive(Debug, Clone)]
pub struct Route {
    /// Provider and model.
    pub decision: RouteDecision,
    /// What chose it.
    pub label: String,
}

/// Applies CCR's built-in routing rules (see the [module docs](self) for the order).
///
/// `token_count` is the request's [`crate::tokens`] count; `previous_input_tokens` is what
/// the previous answer in the same session reported ([`SessionUsage::get`]).
pub fn builtin_route(
    facts: &RouteFacts,
    token_count: u32,
    previous_input_tokens: Option<u32>,
    config: &Config,
) -> Result<RouteDecision, RouteError> {
    let router = &config.router;

    if facts.model.contains(',') {
        return resolve_requested(config, &facts.model, "model", RouteKind::Explicit);
    }

    if let Some(image) = &router.image {
        if facts.last_user_has_image {
            return Ok(RouteDecision::from_ref(image, RouteKind::Image));
        }
    }

    if let Some(long) = &router.long_context {
        let threshold = router.long_context_threshold;
        let carried_over = previous_input_tokens.is_some_and(|p| p > threshold)
            && token_count > LONG_CONTEXT_CARRYOVER_MIN;
        if token_count > threshold || carried_over {
            return Ok(RouteDecision::from_ref(long, RouteKind::LongContext));
        }
    }

    if let Some(tag) = &facts.subagent_model {
        return resolve_requested(config, tag, "subagent tag", RouteKind::Subagent);
    }

    if let Some(bg) = &router.background {
        if facts.model.contains("claude") && facts.model.contains("haiku") {
            return Ok(RouteDecision::from_ref(bg, RouteKind::Background));
        }
    }

    if let Some(ws) = &router.web_search {
        if facts.has_web_search {
            return Ok(RouteDecision::from_ref(ws, RouteKind::WebSearch));
        }
    }

    if let Some(think) = &router.think {
        if facts.thinking {
            return Ok(RouteDecision::from_ref(think, RouteKind::Think));
        }
    }

    router
        .default
        .as_ref()
        .map(|d| RouteDecision::from_ref(d, RouteKind::Default))
        .ok_or(RouteError::NoDefault)
}

#[cfg(test)]
mod tests;
