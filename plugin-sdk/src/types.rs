//! Conveniences on the contract's types (which are generated from the WIT).

use crate::{
    ApiError, HttpHead, Options, PluginError, PluginInfo, PluginKind, ProviderTarget, RouteContext,
    RouteDecision, SseEvent, StreamFraming, Target, TransformContext, UpstreamRequest,
};

impl PluginInfo {
    /// Info for a provider plugin.
    pub fn provider(name: &str, version: &str, description: &str) -> Self {
        Self::new(PluginKind::Provider, name, version, description)
    }

    /// Info for a transformer plugin.
    pub fn transformer(name: &str, version: &str, description: &str) -> Self {
        Self::new(PluginKind::Transformer, name, version, description)
    }

    /// Info for a router plugin.
    pub fn router(name: &str, version: &str, description: &str) -> Self {
        Self::new(PluginKind::Router, name, version, description)
    }

    fn new(kind: PluginKind, name: &str, version: &str, description: &str) -> Self {
        PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            kind,
            description: description.to_owned(),
        }
    }
}

impl PluginError {
    /// The request cannot be served as asked (the host answers 400 `invalid_request_error`).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        PluginError::InvalidRequest(message.into())
    }

    /// The plugin failed on its own (the host answers 500 `api_error`).
    pub fn internal(message: impl Into<String>) -> Self {
        PluginError::Internal(message.into())
    }
}

/// JSON the plugin could not read or write is the plugin's failure: [`PluginError::Internal`].
/// (Request bodies parsed with
/// [`MessagesRequest::from_slice`](crate::anthropic::MessagesRequest::from_slice) give
/// [`PluginError::InvalidRequest`] instead.)
impl From<serde_json::Error> for PluginError {
    fn from(e: serde_json::Error) -> Self {
        PluginError::Internal(format!("JSON error: {e}"))
    }
}

/// An upstream error is passed on as it is: [`PluginError::Upstream`].
impl From<ApiError> for PluginError {
    fn from(e: ApiError) -> Self {
        PluginError::Upstream(e)
    }
}

impl ApiError {
    /// An error with an explicit Anthropic error type.
    pub fn new(status: u16, error_type: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error_type: error_type.to_owned(),
            message: message.into(),
        }
    }

    /// The error a client sees for an upstream answer of HTTP `status`, mapped with the one
    /// status table, [`map_status`](crate::provider::map_status): 400/422 → 400
    /// `invalid_request_error` (other 4xx keep their status), 401 `authentication_error`, 402
    /// `billing_error`, 403 `permission_error`, 404 `not_found_error`, 408/504
    /// `timeout_error`, 413 `request_too_large`, 429 `rate_limit_error`, 502/503/529 → 529
    /// `overloaded_error` (Claude Code retries it), other 5xx `api_error`, anything else 500
    /// `api_error`. Keep the upstream's wording in `message`: Claude Code matches on it (and
    /// see [`upstream_error`](crate::provider::upstream_error), which also spots context
    /// overflow).
    pub fn for_status(status: u16, message: impl Into<String>) -> Self {
        let (status, error_type) = crate::provider::map_status(status);
        Self::new(status, error_type, message)
    }
}

impl HttpHead {
    /// The first value of header `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets header `name` to `value`, replacing every existing value of it.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// Removes every value of header `name`.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

impl UpstreamRequest {
    /// A `POST` of a JSON body (`content-type: application/json`) whose streamed answer is
    /// server-sent events. Add credentials with `request.head.set_header(..)`.
    pub fn post_json(url: impl Into<String>, body: Vec<u8>) -> Self {
        UpstreamRequest {
            head: HttpHead {
                method: "POST".to_owned(),
                url: url.into(),
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            },
            body,
            framing: StreamFraming::Sse,
        }
    }
}

impl SseEvent {
    /// An event named `event` carrying `data`.
    pub fn new(event: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }
}

impl RouteDecision {
    /// Send the request to `provider` (its config `name`), asking for `model`.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        RouteDecision {
            provider: provider.into(),
            model: model.into(),
        }
    }
}

impl Target {
    /// This plugin's options (see [`Options::parse`]).
    pub fn options(&self) -> Result<Options, PluginError> {
        Options::parse(&self.options)
    }
}

impl ProviderTarget {
    /// This plugin's options (see [`Options::parse`]).
    pub fn options(&self) -> Result<Options, PluginError> {
        self.target.options()
    }
}

impl TransformContext {
    /// This transformer's options from the `use` chain (see [`Options::parse`]).
    pub fn options(&self) -> Result<Options, PluginError> {
        self.target.options()
    }
}

/// An empty target with options `{}`; handy in tests.
impl Default for Target {
    fn default() -> Self {
        Target {
            provider: String::new(),
            base_url: String::new(),
            model: String::new(),
            options: "{}".to_owned(),
        }
    }
}

/// An empty, non-streaming context on the `default` route; handy in tests.
impl Default for RouteContext {
    fn default() -> Self {
        RouteContext {
            model: String::new(),
            token_count: 0,
            thinking: false,
            stream: false,
            tool_names: Vec::new(),
            has_web_search: false,
            has_images: false,
            message_count: 0,
            session_id: None,
            previous_input_tokens: None,
            builtin_route: "default".to_owned(),
        }
    }
}

/// A default target and route; handy in tests.
impl Default for TransformContext {
    fn default() -> Self {
        TransformContext {
            target: Target::default(),
            route: RouteContext::default(),
        }
    }
}

/// A default target and an empty API key; handy in tests.
impl Default for ProviderTarget {
    fn default() -> Self {
        ProviderTarget {
            target: Target::default(),
            api_key: String::new(),
        }
    }
}
