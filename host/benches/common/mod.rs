//! Inputs shared by the benchmarks: a target and a route context like a real request's.

use ccr::plugins::bindings::{RouteContext, Target};

/// A target at an address nobody listens on (benchmarks never call the upstream).
pub fn target(options: &str) -> Target {
    Target {
        provider: "main".into(),
        base_url: "http://127.0.0.1:9/v1/chat/completions".into(),
        model: "big".into(),
        options: options.into(),
    }
}

/// The route context of a mid-session Claude Code request.
pub fn route_context() -> RouteContext {
    RouteContext {
        model: "claude-sonnet-4-5".into(),
        token_count: 20_000,
        thinking: false,
        stream: true,
        tool_names: vec![],
        has_web_search: false,
        has_images: false,
        message_count: 10,
        session_id: None,
        previous_input_tokens: None,
        builtin_route: "default".into(),
    }
}
