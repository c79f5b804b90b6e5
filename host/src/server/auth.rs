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

use super::error::ProxyError;
use crate::state::AppState;

/// Middleware enforcing the rules above.
pub async fn require_key(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let live = state.live.load();
    let port = state
        .listen
        .get()
        .map(|a| a.port())
        .unwrap_or(live.config.port);
    let verdict = check(request.headers(), live.config.api_key.as_deref(), port);
    drop(live);
    match verdict {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// Decide whether a request with `headers` may pass.
pub fn check(headers: &HeaderMap, api_key: Option<&str>, port: u16) -> Result<(), ProxyError> {
    let Some(expected) = api_key else {
        return check_origin(headers, port);
    };
    let presented = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                        .unwrap_or(v)
                })
        })
        .map(str::trim);
    match presented {
        None | Some("") => Err(ProxyError::Authentication(
            "APIKEY is missing: send it in the x-api-key header or as Authorization: Bearer".into(),
        )),
        Some(key) if bool::from(key.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        Some(_) => Err(ProxyError::Authentication("Invalid API key".into())),
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
    fn without_key_only_local_origins() {
        assert!(check(&headers(&[]), None, 3456).is_ok());
        assert!(check(&headers(&[("origin", "http://localhost:3456")]), None, 3456).is_ok());
        let err = check(&headers(&[("origin", "https://evil.example")]), None, 3456).unwrap_err();
        assert_eq!(err.status(), 403);
    }
}
