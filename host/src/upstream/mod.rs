//! Upstream I/O: one pooled HTTP client per config generation, with the timeouts and the
//! outbound proxy the config asks for. Provider plugins never do I/O; they describe the
//! request ([`UpstreamRequest`]) and the host sends it here.

pub mod framing;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::plugins::bindings::UpstreamRequest;
use crate::server::error::ProxyError;

/// Connecting to an upstream may take at most this long (the rest of the budget is
/// `API_TIMEOUT_MS`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A whole (non-streamed) upstream answer may not exceed this.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The HTTP client for upstream calls.
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    http: reqwest::Client,
    /// Budget for the first byte of an answer and for each silence within a stream
    /// (`API_TIMEOUT_MS`).
    timeout: Duration,
}

impl UpstreamClient {
    /// Build a pooled client. `proxy_url` is the config's `PROXY_URL`.
    pub fn new(proxy_url: Option<&str>, timeout: Duration) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .user_agent(concat!("ccr/", env!("CARGO_PKG_VERSION")));
        match proxy_url {
            Some(url) => {
                let proxy = reqwest::Proxy::all(url).map_err(|e| {
                    anyhow::anyhow!("PROXY_URL {url:?} is not a valid proxy URL: {e}")
                })?;
                builder = builder.proxy(proxy);
            }
            // CCR ignores the environment's proxy variables; so do we, for the same config
            // to behave the same.
            None => builder = builder.no_proxy(),
        }
        Ok(Self {
            http: builder.build()?,
            timeout,
        })
    }

    /// The first-byte / idle budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Send `req` and wait for the response head (bounded by the timeout). The body is moved
    /// out of `req` (no copy of a 100 KB body per request).
    pub async fn send(&self, req: &mut UpstreamRequest) -> Result<reqwest::Response, ProxyError> {
        let method = reqwest::Method::from_bytes(req.head.method.as_bytes()).map_err(|_| {
            ProxyError::Internal(format!(
                "provider built an invalid method {:?}",
                req.head.method
            ))
        })?;
        let url = reqwest::Url::parse(&req.head.url).map_err(|e| {
            ProxyError::Internal(format!(
                "provider built an invalid URL {:?}: {e}",
                req.head.url
            ))
        })?;
        let mut headers = HeaderMap::with_capacity(req.head.headers.len());
        for (name, value) in &req.head.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ProxyError::Internal(format!("invalid upstream header name {name:?}"))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                ProxyError::Internal(format!("invalid value for upstream header {name}"))
            })?;
            headers.append(name, value);
        }
        let host = url.host_str().unwrap_or("").to_string();
        let fut = self
            .http
            .request(method, url)
            .headers(headers)
            .body(std::mem::take(&mut req.body))
            .send();
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(ProxyError::Timeout(format!(
                "upstream {host} did not answer within {} ms",
                self.timeout.as_millis()
            ))),
            Ok(Err(err)) => Err(ProxyError::UpstreamUnreachable(describe_send_error(
                &host, &err,
            ))),
            Ok(Ok(response)) => Ok(response),
        }
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
