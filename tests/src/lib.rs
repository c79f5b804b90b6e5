//! End-to-end test harness for `ccr`.
//!
//! Three pieces, each usable on its own:
//!
//! - [`mock`]: [`MockUpstream`], a real HTTP server speaking the OpenAI Chat Completions and
//!   Anthropic Messages wire formats ([`Wire`]; [`mock_provider_config`] points a provider at
//!   either) whose behaviour (text, tools, reasoning, errors, slow or broken streams, echo...)
//!   is chosen per request by the `model` name, so one mock serves every test.
//! - [`proxy`]: [`Proxy`], the real `ccr` binary run as a child process on a free port with a
//!   throwaway `HOME`, killed on drop.
//! - [`fixtures`]: realistic Claude Code-shaped `/v1/messages` requests and headers of a chosen
//!   size, plus a ready-made `ccr` config pointing at a mock.
//! - [`sse`]: a small SSE parser for assertions on streamed responses.
//! - [`registry`]: whether an npm/pip install failed only because the registry is offline.
//!
//! Everything here is synchronous to start and owns its own threads or processes, so it works
//! from plain `#[test]` functions as well as from any tokio runtime flavour, and everything it
//! starts is shut down when the handle is dropped.
//!
//! ```no_run
//! use ccr_tests::{fixtures, MockUpstream, Proxy, ProxyOptions};
//!
//! # async fn demo() {
//! let mock = MockUpstream::start();
//! let proxy = Proxy::start(ProxyOptions::new(fixtures::mock_provider_config(&mock, "tools")));
//! let response = proxy
//!     .post_messages(&fixtures::claude_code_request(20_000, true))
//!     .await;
//! assert_eq!(response.status(), 200);
//! assert_eq!(mock.last_request().unwrap().body["model"], "tools");
//! # }
//! ```

#![warn(missing_docs)]

pub mod fixtures;
pub mod mock;
pub mod proxy;
pub mod registry;
pub mod sse;
pub mod wasm;

pub use mock::{mock_provider_config, MockOptions, MockUpstream, RecordedRequest, Wire};
pub use proxy::{Proxy, ProxyOptions};

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// It binds port 0, reads the port the OS chose and closes the socket again, so another
/// process may in principle grab it before the caller binds it; [`Proxy::start`] retries on a
/// new port when that happens.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}
