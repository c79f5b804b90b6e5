//! Every failure that reaches a client, as one enum that knows its HTTP status and its
//! Anthropic error type. Converted to the Anthropic error shape once, at the edge
//! (`{"type":"error","error":{"type":…,"message":…}}`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::plugins::bindings::PluginError;
use crate::plugins::PluginCallError;
use crate::routing::RouteError;

/// A failure to serve a request.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The request is malformed (400 `invalid_request_error`).
    #[error("{0}")]
    InvalidRequest(String),
    /// Missing or wrong API key (401 `authentication_error`).
    #[error("{0}")]
    Authentication(String),
    /// Forbidden, e.g. a cross-origin browser request (403 `permission_error`).
    #[error("{0}")]
    Permission(String),
    /// Unknown path or provider (404 `not_found_error`).
    #[error("{0}")]
    NotFound(String),
    /// A known path with the wrong method (405 `invalid_request_error`; the router adds
    /// the `Allow` header).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is over the size limit (413 `request_too_large`).
    #[error("{0}")]
    TooLarge(String),
    /// The client did not send its request in time (408 `timeout_error`).
    #[error("{0}")]
    ClientTimeout(String),
    /// No route could be chosen for the request.
    #[error(transparent)]
    Route(#[from] RouteError),
    /// A plugin failed (trap, timeout, invalid output) or refused the request.
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
    /// The upstream answered with an error, already mapped to Anthropic's vocabulary.
    #[error("{message}")]
    Upstream {
        /// Status for the client.
        status: u16,
        /// Anthropic error type.
        error_type: String,
        /// Message (upstream wording kept).
        message: String,
        /// The upstream's `retry-after`, passed on for 429s.
        retry_after: Option<String>,
    },
    /// The upstream could not be reached or broke the connection (502 `api_error`).
    #[error("{0}")]
    UpstreamUnreachable(String),
    /// Nothing accepts connections at the upstream's address, or its name does not resolve
    /// (502 `api_error`, `x-should-retry: false`: the client retrying the same request
    /// within seconds will not start the server). A `fallback` entry is still tried.
    #[error("{0}")]
    UpstreamDown(String),
    /// The provider is set up so that no request can succeed: no provider plugin, or a
    /// plugin that builds an invalid URL or header (500 `api_error`, `x-should-retry: false`).
    #[error("{0}")]
    Misconfigured(String),
    /// The upstream did not answer in time (504 `timeout_error`).
    #[error("{0}")]
    Timeout(String),
    /// The proxy is at a configured limit (concurrent streams) or out of resources; nothing
    /// was sent upstream (529 `overloaded_error`, as Anthropic answers when overloaded:
    /// clients retry it with back-off).
    #[error("{0}")]
    Overloaded(String),
    /// A bug or an unexpected condition in the proxy (500 `api_error`).
    #[error("{0}")]
    Internal(String),
}

impl ProxyError {
    /// The HTTP status the client sees.
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            ProxyError::Authentication(_) => StatusCode::UNAUTHORIZED,
            ProxyError::Permission(_) => StatusCode::FORBIDDEN,
            ProxyError::NotFound(_) => StatusCode::NOT_FOUND,
            ProxyError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::ClientTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ProxyError::Route(RouteError::UnknownProvider { .. }) => StatusCode::NOT_FOUND,
            ProxyError::Route(_) => StatusCode::BAD_REQUEST,
            ProxyError::Plugin(PluginCallError::Returned { error, .. }) => match error {
                PluginError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
                PluginError::Upstream(e) => {
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_GATEWAY)
                }
                PluginError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ProxyError::Plugin(PluginCallError::Unavailable { .. }) | ProxyError::Overloaded(_) => {
                overloaded()
            }
            ProxyError::Plugin(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ProxyError::Upstream { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            ProxyError::UpstreamUnreachable(_) | ProxyError::UpstreamDown(_) => {
                StatusCode::BAD_GATEWAY
            }
            ProxyError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::Internal(_) | ProxyError::Misconfigured(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The Anthropic `error.type`.
    pub fn error_type(&self) -> &str {
        match self {
            ProxyError::Route(RouteError::UnknownProvider { .. }) => "not_found_error",
            ProxyError::InvalidRequest(_)
            | ProxyError::MethodNotAllowed(_)
            | ProxyError::Route(_) => "invalid_request_error",
            ProxyError::Authentication(_) => "authentication_error",
            ProxyError::Permission(_) => "permission_error",
            ProxyError::NotFound(_) => "not_found_error",
            ProxyError::TooLarge(_) => "request_too_large",
            ProxyError::Plugin(PluginCallError::Returned { error, .. }) => match error {
                PluginError::InvalidRequest(_) => "invalid_request_error",
                PluginError::Upstream(e) => &e.error_type,
                PluginError::Internal(_) => "api_error",
            },
            ProxyError::Plugin(PluginCallError::Unavailable { .. }) | ProxyError::Overloaded(_) => {
                "overloaded_error"
            }
            ProxyError::Plugin(_) => "api_error",
            ProxyError::Upstream { error_type, .. } => error_type,
            ProxyError::UpstreamUnreachable(_)
            | ProxyError::UpstreamDown(_)
            | ProxyError::Misconfigured(_)
            | ProxyError::Internal(_) => "api_error",
            ProxyError::Timeout(_) | ProxyError::ClientTimeout(_) => "timeout_error",
        }
    }

    /// The message the client sees. Upstream errors keep the upstream's wording (Claude Code
    /// matches on it, e.g. "prompt is too long").
    pub fn message(&self) -> String {
        match self {
            ProxyError::Plugin(PluginCallError::Returned {
                error: PluginError::Upstream(e),
                ..
            }) => e.message.clone(),
            other => other.to_string(),
        }
    }

    /// Whether trying another provider (the `fallback` list) could help.
    pub fn is_retryable_elsewhere(&self) -> bool {
        match self {
            ProxyError::Upstream { status, .. } => *status == 429 || *status >= 500,
            ProxyError::Plugin(PluginCallError::Returned {
                error: PluginError::Upstream(e),
                ..
            }) => e.status == 429 || e.status >= 500 || e.status == 401 || e.status == 402,
            ProxyError::UpstreamUnreachable(_)
            | ProxyError::UpstreamDown(_)
            | ProxyError::Timeout(_) => true,
            _ => false,
        }
    }

    /// The error as an Anthropic error object (`{"type":"error","error":{…}}`).
    pub fn to_json(&self) -> serde_json::Value {
        error_body(self.error_type(), &self.message())
    }
}

/// 529, Anthropic's "overloaded" status.
fn overloaded() -> StatusCode {
    StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

/// `{"type":"error","error":{"type":error_type,"message":message}}`.
pub fn error_body(error_type: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "error",
        "error": { "type": error_type, "message": message },
    })
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let ProxyError::Upstream {
            retry_after: Some(v),
            ..
        } = &self
        {
            if let Ok(v) = HeaderValue::from_str(v) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        // Tell Anthropic SDKs (and so Claude Code) not to retry what cannot succeed: 4xx
        // (but 408/429) and the 5xx that only a person can fix. Claude Code otherwise
        // retries ten times over minutes, silently.
        let permanent = matches!(
            self,
            ProxyError::UpstreamDown(_) | ProxyError::Misconfigured(_)
        );
        if permanent
            || (status.is_client_error()
                && status != StatusCode::TOO_MANY_REQUESTS
                && status != StatusCode::REQUEST_TIMEOUT)
        {
            response
                .headers_mut()
                .insert("x-should-retry", HeaderValue::from_static("false"));
        }
        response
    }
}
