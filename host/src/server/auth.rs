//! Inbound authentication, as claude-code-router does it, done safely.
//!
//! With `APIKEY` set, every protected route needs the key in `x-api-key` or
//! `Authorization: Bearer`, compared in constant time. Without `APIKEY` the proxy only
//! listens on loopback, and a request a browser sends from another origin is refused (a
//! web page must not be able to drive a local proxy that spends the user's API credit).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ProxyError;
use crate::state::AppState;

/// The header `ccr status` sends its control token in.
pub const CONTROL_TOKEN_HEADER: &str = "x-ccr-control-token";

/// Middleware enforcing the rules above.
pub async fn require_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match check_state(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// [`require_key`], or the service's control token in [`CONTROL_TOKEN_HEADER`] (how
/// `ccr status` reads `/health/detailed` even when the config on disk is broken).
pub async fn require_key_or_control_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let token_ok = match (
        &state.control_token,
        request.headers().get(CONTROL_TOKEN_HEADER),
    ) {
        (Some(expected), Some(presented)) => {
            bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    };
    if token_ok {
        return next.run(request).await;
    }
    require_key(State(state), request, next).await
}

fn check_state(state: &AppState, headers: &HeaderMap) -> Result<(), ProxyError> {
    let live = state.live.load();
    let listen = state.listen.get();
    // Reloads refuse to drop the key of a non-loopback listener; this holds even if one
    // ever did.
    if let (Some(addr), None) = (listen, &live.config.api_key) {
        if !addr.ip().is_loopback() {
            return Err(ProxyError::Authentication(format!(
                "ccr listens on {addr} without an APIKEY; every request is refused until the \
                 config has one"
            )));
        }
    }
    let port = listen.map(|a| a.port()).unwrap_or(live.config.port);
    check(headers, live.config.api_key.as_deref(), port)
}

/// Decide whether a request with `headers` may pass. With a key configured, the request
/// passes when either header carries it: `x-api-key`, or `Authorization: Bearer` (Claude
/// Code sends `ANTHROPIC_AUTH_TOKEN` there, maybe beside a stale `ANTHROPIC_API_KEY`).
pub fn check(headers: &HeaderMap, api_key: Option<&str>, port: u16) -> Result<(), ProxyError> {
    let Some(expected) = api_key else {
        return check_origin(headers, port);
    };
    let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
        });
    let presented = [x_api_key, bearer].map(|k| k.map(str::trim).filter(|k| !k.is_empty()));
    if presented.iter().all(Option::is_none) {
        return Err(ProxyError::Authentication(
            "APIKEY is missing: send it in the x-api-key header or as Authorization: Bearer".into(),
        ));
    }
    // Compare every presented key (no early exit on the first) in constant time.
    let valid = presented.iter().flatten().fold(0u8, |acc, key| {
        acc | key.as_bytes().ct_eq(expected.as_bytes()).unwrap_u8()
    });
    if valid == 1 {
        Ok(())
    } else {
        Err(ProxyError::Authentication("Invalid API key".into()))
    }
}

fn check_origin(headers: &HeaderMap, port: u16) -> Result<(), ProxyError> {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let allowed = [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ];
    if allowed.iter().any(|a| a == origin) {
        Ok(())
    } else {
        Err(ProxyError::Permission(format!(
            "requests from origin {origin} are not allowed; set APIKEY to accept remote clients"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn key_in_either_header() {
        assert!(check(&headers(&[("x-api-key", "s3")]), Some("s3"), 1).is_ok());
        assert!(check(&headers(&[("authorization", "Bearer s3")]), Some("s3"), 1).is_ok());
        let missing = check(&headers(&[]), Some("s3"), 1).unwrap_err();
        assert_eq!(missing.status(), 401);
        let wrong = check(&headers(&[("x-api-key", "nope")]), Some("s3"), 1).unwrap_err();
        assert_eq!(wrong.to_string(), "Invalid API key");
    }

    #[test]
    fn either_header_may_carry_the_valid_key() {
        // Claude Code with ANTHROPIC_AUTH_TOKEN=<key> and a stale ANTHROPIC_API_KEY.
        let stale_x = headers(&[("x-api-key", "stale"), ("authorization", "Bearer s3")]);
        assert!(check(&stale_x, Some("s3"), 1).is_ok());
        let stale_bearer = headers(&[("x-api-key", "s3"), ("authorization", "Bearer stale")]);
        assert!(check(&stale_bearer, Some("s3"), 1).is_ok());
        let both_wrong = headers(&[("x-api-key", "a"), ("authorization", "Bearer b")]);
        assert_eq!(check(&both_wrong, Some("s3"), 1).unwrap_err().status(), 401);
        let empty_x = headers(&[("x-api-key", " "), ("authorization", "Bearer s3")]);
        assert!(check(&empty_x, Some("s3"), 1).is_ok());
    }

    #[test]
    fn without_key_only_local_origins() {
        assert!(check(&headers(&[]), None, 3456).is_ok());
        assert!(check(&headers(&[("origin", "http://localhost:3456")]), None, 3456).is_ok());
        let err = check(&headers(&[("origin", "https://evil.example")]), None, 3456).unwrap_err();
        assert_eq!(err.status(), 403);
    }
}
