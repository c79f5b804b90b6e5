//! One Messages request from parsed body to answer: route, transformers, provider plugin,
//! upstream call, translation back, usage. The HTTP handler in `server` is a thin wrapper.
//! This module is the handler flow; [`route`] chooses where the request goes (router
//! plugins, built-in rules, the `fallback` list) and [`attempt`] is one try of one provider.
//!
//! ```text
//! parse ─► facts + tokens ─► route (router plugins, built-in rules)
//!   └► for the route and then each `fallback` entry, until one answers:
//!        transformers.transform-request ─► provider.build-request
//!        ─► transformers.transform-upstream ─► upstream call
//!        ─► provider.parse-response / stream-translator ─► transformers (reverse order)
//! ```

mod attempt;
mod route;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use crate::error::ProxyError;
use crate::request::{self, RequestKind};
use crate::routing::{self, Route, RouteFacts};
use crate::state::AppState;
use crate::usage::{RequestRecord, Usage};

use attempt::Attempt;

/// How long a request body may take to arrive while its request holds a turn to be
/// prepared; after that it is read without one.
const BODY_IN_TURN: std::time::Duration = std::time::Duration::from_millis(20);

/// Handle `POST /v1/messages`.
pub async fn messages(state: Arc<AppState>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    match serve(&state, &headers, body, started).await {
        Ok(response) => response,
        Err((err, route)) => {
            state.recorder.record(&RequestRecord {
                route: route.as_ref(),
                session: None,
                started,
                status: err.status().as_u16(),
                usage: &Usage::default(),
                stop_reason: None,
                stream: false,
                error: Some(&err),
            });
            err.into_response()
        }
    }
}

type Failure = (ProxyError, Option<Route>);

async fn serve(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: Body,
    started: Instant,
) -> Result<Response, Failure> {
    let live = state.live.load_full();
    let plugins = state.plugins.snapshot();
    // Prepared in turn (see `Admission`), from the body's first byte to the upstream call.
    // A body still arriving after a moment gives its turn back while it trickles in, so a
    // slow client never holds up the others.
    let mut turn = state.admission.acquire().await;
    let read = request::read_body(body, live.body_read_timeout);
    tokio::pin!(read);
    let raw = match tokio::time::timeout(BODY_IN_TURN, &mut read).await {
        Ok(raw) => raw,
        Err(_) => {
            drop(turn.take());
            let raw = read.await;
            turn = state.admission.acquire().await;
            raw
        }
    }
    .map_err(|e| (e, None))?;
    let turn = Mutex::new(turn);
    // The parsed tree borrows from `raw`, which lives as long as this call.
    let mut req = request::parse(&raw, RequestKind::Messages).map_err(|e| (e, None))?;
    // Counted from here to the stream's last byte; refused before anything goes upstream.
    let stream_permit = if req.stream() {
        let limit = live.config.max_concurrent_streams;
        let permit = state.streams.try_open(limit).ok_or_else(|| {
            let err = ProxyError::Overloaded(format!(
                "ccr is serving its limit of {limit} concurrent streams \
                 (MAX_CONCURRENT_STREAMS); retry shortly"
            ));
            (err, None)
        })?;
        Some(Arc::new(permit))
    } else {
        None
    };

    let session_header = headers
        .get("x-claude-code-session-id")
        .and_then(|v| v.to_str().ok());
    let facts = RouteFacts::from_request(&req.json, session_header);
    let token_count = state.tokens.count_request(&req.json);
    let previous = facts
        .session_id
        .as_deref()
        .and_then(|s| state.recorder.sessions().get(s));
    let changed = facts.subagent_model.is_some() && routing::strip_subagent_tag(&mut req.json);

    let builtin = routing::builtin_route(&facts, token_count, previous, &live.config);
    let route_ctx = route::route_context(&facts, token_count, previous, &builtin);
    let route = route::choose_route(state, &live, &plugins, &route_ctx, &req, builtin)
        .await
        .map_err(|e| (e, None))?;

    let mut body = req.body_for_plugins(changed);
    let stream = req.stream();
    // The tree is not needed during the upstream calls.
    drop(req);
    let candidates = route::candidates(&live, &route);
    let mut last_err = None;
    for (i, candidate) in candidates.iter().enumerate() {
        let attempt = Attempt {
            state,
            live: &live,
            plugins: &plugins,
            route: candidate,
            route_ctx: &route_ctx,
            session: facts.session_id.clone(),
            stream,
            stream_permit: stream_permit.clone(),
            turn: &turn,
            started,
        };
        // Only a fallback needs the body again: the last candidate takes it without a copy.
        let attempt_body = if i + 1 < candidates.len() {
            body.clone()
        } else {
            std::mem::take(&mut body)
        };
        match attempt.run(attempt_body).await {
            Ok(response) => return Ok(response),
            Err(err) if err.is_retryable_elsewhere() && i + 1 < candidates.len() => {
                let next = &candidates[i + 1];
                tracing::warn!(
                    provider = %candidate.decision.provider,
                    model = %candidate.decision.model,
                    "{},{} failed ({err}); trying {},{} ({})",
                    candidate.decision.provider,
                    candidate.decision.model,
                    next.decision.provider,
                    next.decision.model,
                    next.label
                );
                last_err = Some(err);
            }
            Err(err) => return Err((err, Some(candidate.clone()))),
        }
    }
    Err((
        last_err.unwrap_or_else(|| ProxyError::Internal("no route to try".into())),
        Some(route),
    ))
}
