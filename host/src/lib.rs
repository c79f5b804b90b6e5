//! `ccr`: a fast, WebAssembly-extensible router for Claude Code.
//!
//! The module tree follows a request's path through the proxy:
//! [`server`] (HTTP surface, auth, errors) → [`request`] (parse + validate once, into a
//! [`json::Json`] tree borrowing the body) →
//! [`tokens`] and [`routing`] (route context, built-in CCR rules, router plugins) →
//! [`pipeline`] (transformers, provider plugin, upstream call, translation back) →
//! [`upstream`] (pooled HTTP client, stream framing) → [`stream`] (Anthropic SSE to the
//! client, pings) → [`usage`] (tokens and cost per request).
//! [`plugins`] holds the wasmtime runtime, the registry of loaded plugins and hot reload;
//! [`config`] the CCR-compatible configuration; [`cli`] the `ccr` command line.

pub mod cli;
pub mod config;
pub mod error;
pub mod health;
pub mod json;
pub mod logging;
pub mod paths;
pub mod pipeline;
pub mod plugins;
pub mod request;
pub mod routing;
pub mod server;
pub mod state;
pub mod stream;
pub mod tokens;
pub mod upstream;
pub mod usage;
