//! Every end-to-end test of `ccr` in one test binary (one link instead of one per file).
//! Each module is what used to be its own `tests/tests/<name>.rs`, so a module path selects
//! the same tests a binary name did: `cargo test -p ccr-tests --test e2e gateway::`.

mod anthropic_passthrough;
mod battery;
mod claude_code;
mod contract_versions;
mod gateway;
mod gateway_common;
mod gateway_config;
mod gateway_errors;
mod harness;
mod loadbench;
mod mock;
mod plugin_live;
mod plugin_platform;
mod plugins_any_language;
mod providers;
mod proxy_url;
mod python_sdk;
mod scaffolding;
mod scale;
