//! Upstream I/O: one pooled HTTP client per config generation, with the timeouts and the
//! outbound proxy the config asks for. Provider plugins never do I/O; they describe the
//! request ([`UpstreamRequest`]) and the host sends it here.

pub mod framing;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::ProviderConfig;
use crate::error::ProxyError;
use crate::plugins::bindings::UpstreamRequest;

/// Connecting to an upstream may take at most this long (the rest of the budget is
/// `API_TIMEOUT_MS`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A whole (non-streamed) upstream answer may not exceed this.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// An upstream call under way: resolves to the response head.
pub type PendingResponse =
    Pin<Box<dyn Future<Output = Result<reqwest::Response, ProxyError>> + Send + 'static>>;

/// The HTTP client for upstream calls.
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    /// The same, speaking HTTP/2 with prior knowledge (providers with `http2PriorKnowledge`).
    h2c: reqwest::Client,
    /// Budget for the first byte of an answer and for each silence within a stream
    /// (`API_TIMEOUT_MS`).
    timeout: Duration,
}

impl UpstreamClient {
    /// Build a pooled client. `proxy_url` is the config's `PROXY_URL`.
    pub fn new(proxy_url: Option<&str>, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            http: client_builder(proxy_url)?.build()?,
            h2c: client_builder(proxy_url)?.http2_prior_knowledge().build()?,
            timeout,
        })
    }

    /// The first-byte / idle budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A pooled client builder with the timeouts and `PROXY_URL` of the config.
fn client_builder(proxy_url: Option<&str>) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .user_agent(concat!("ccr/", env!("CARGO_PKG_VERSION")));
    match proxy_url {
        Some(url) => {
            let proxy = reqwest::Proxy::all(url)
                .map_err(|e| anyhow::anyhow!("PROXY_URL {url:?} is not a valid proxy URL: {e}"))?;
            builder = builder.proxy(proxy);
        }
        // CCR ignores the environment's proxy variables; so do we, for the same config
        // to behave the same.
        None => builder = builder.no_proxy(),
    }
    Ok(builder)
}

impl UpstreamClient {
    /// Start sending `req` for `provider`: a future that resolves to the response head
    /// (bounded by the timeout) and owns everything it needs, so a stream can keep waiting
    /// for the head after the client's answer has started (pings go out meanwhile). The
    /// body is moved out of `req` (no copy of a 100 KB body per request). Errors in what the
    /// plugin built are reported at once.
    pub fn request(
        &self,
        req: &mut UpstreamRequest,
        provider: &ProviderConfig,
    ) -> Result<PendingResponse, ProxyError> {
        let http = if provider.http2_prior_knowledge {
            &self.h2c
        } else {
            &self.http
        };
        let provider = provider.name.as_str();
        let misconfigured = |what: String| {
            ProxyError::Misconfigured(format!(
                "provider '{provider}': its plugin built {what}; check the provider's \
                 api_base_url and transformer options"
            ))
        };
        let method = reqwest::Method::from_bytes(req.head.method.as_bytes())
            .map_err(|_| misconfigured(format!("an invalid method {:?}", req.head.method)))?;
        let url = reqwest::Url::parse(&req.head.url)
            .map_err(|e| misconfigured(format!("an invalid URL {:?} ({e})", req.head.url)))?;
        let mut headers = HeaderMap::with_capacity(req.head.headers.len());
        for (name, value) in &req.head.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| misconfigured(format!("an invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| misconfigured(format!("an invalid value for header {name}")))?;
            headers.append(name, value);
        }
        let address = match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => req.head.url.clone(),
        };
        let fut = http
            .request(method, url)
            .headers(headers)
            .body(std::mem::take(&mut req.body))
            .send();
        let timeout = self.timeout;
        let provider = provider.to_owned();
        Ok(Box::pin(async move {
            match tokio::time::timeout(timeout, fut).await {
                Err(_) => Err(ProxyError::Timeout(format!(
                    "provider '{provider}': upstream {address} did not answer within {} ms \
                     (API_TIMEOUT_MS)",
                    timeout.as_millis()
                ))),
                Ok(Err(err)) if err.is_connect() => Err(ProxyError::UpstreamDown(describe_down(
                    &provider, &address, &err,
                ))),
                Ok(Err(err)) => Err(ProxyError::UpstreamUnreachable(format!(
                    "provider '{provider}': {}",
                    describe_send_error(&address, &err)
                ))),
                Ok(Ok(response)) => Ok(response),
            }
        }))
    }

    /// Read a whole response body, bounded in size and by the idle timeout.
    pub async fn read_body(&self, response: reqwest::Response) -> Result<Bytes, ProxyError> {
        let mut stream = response.bytes_stream();
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout(self.timeout, stream.next()).await {
                Err(_) => {
                    return Err(ProxyError::Timeout(format!(
                        "upstream went silent for {} ms while sending its answer",
                        self.timeout.as_millis()
                    )))
                }
                Ok(None) => break,
                Ok(Some(Err(err))) => {
                    return Err(ProxyError::UpstreamUnreachable(format!(
                        "upstream connection broke while reading the answer: {err}"
                    )))
                }
                Ok(Some(Ok(chunk))) => {
                    if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(ProxyError::UpstreamUnreachable(format!(
                            "upstream answer exceeds {} MB",
                            MAX_RESPONSE_BYTES >> 20
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Bytes::from(body))
    }
}

/// "no Ollama at 127.0.0.1:11434 (connection refused): is it running? ...": what failed,
/// the innermost cause, and what to check.
fn describe_down(provider: &str, address: &str, err: &reqwest::Error) -> String {
    let mut cause = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let cause = cause.to_lowercase();
    let ollama = provider.to_ascii_lowercase().contains("ollama") || address.ends_with(":11434");
    if ollama {
        format!(
            "no Ollama at {address} for provider '{provider}' ({cause}): is it running? Start \
             it with `ollama serve`, or point the provider's api_base_url at where it runs"
        )
    } else {
        format!(
            "cannot connect to provider '{provider}' at {address} ({cause}): is the server \
             running, and is the provider's api_base_url right?"
        )
    }
}

fn describe_send_error(host: &str, err: &reqwest::Error) -> String {
    let mut msg = format!("cannot reach upstream {host}: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
