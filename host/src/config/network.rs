//! The network settings: where the proxy listens (`HOST`, `PORT`, `SERVICE_PORT`), how it
//! treats client connections (read timeouts, a cap per client, a cap on open streams, pings
//! on quiet streams) and
//! the outbound proxy for upstream calls (`PROXY_URL`).

use serde_json::{Map, Value};

use super::reader::Reader;
use super::ConfigError;

/// Default `HOST`.
pub const DEFAULT_HOST: &str = "127.0.0.1";
/// Default `PORT`.
pub const DEFAULT_PORT: u16 = 3456;

/// Default of `PING_INTERVAL_MS`: Claude Code gives up after 300 s of silence; Anthropic's
/// own streams ping more often than this.
pub const DEFAULT_PING_INTERVAL_MS: u64 = 10_000;

/// Default of `HEADER_READ_TIMEOUT_SECS`: real clients send their headers in one packet.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Default of `BODY_READ_TIMEOUT_SECS`: a 32 MB body at 1 MB/s still arrives.
pub const DEFAULT_BODY_READ_TIMEOUT_SECS: u64 = 60;
/// Default of `MAX_CONNECTIONS_PER_CLIENT`: one developer's Claude Code with subagents
/// holds tens; a team behind one NAT address may need more.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;

/// Default of `MAX_CONCURRENT_STREAMS`: generous (a stream costs tens of kilobytes); the
/// limit exists so that a flood is answered 529 instead of exhausting memory or sockets.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 20_000;

/// `HOST`, trimmed ([`DEFAULT_HOST`] when unset).
pub(super) fn read_host(r: &Reader<'_>, top: &Map<String, Value>) -> Result<String, ConfigError> {
    Ok(r.opt_string("HOST", top.get("HOST"))?
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|| DEFAULT_HOST.to_owned()))
}

/// `PORT` ([`DEFAULT_PORT`] when unset), replaced by the `SERVICE_PORT` environment variable
/// when that is a port (else a warning says it is ignored).
pub(super) fn read_port(
    r: &mut Reader<'_>,
    top: &Map<String, Value>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<u16, ConfigError> {
    let mut port = match top.get("PORT") {
        None | Some(Value::Null) => DEFAULT_PORT,
        Some(v) => port_number(r, "PORT", v)?,
    };
    if let Some(sp) = env("SERVICE_PORT").filter(|s| !s.trim().is_empty()) {
        match sp.trim().parse::<u16>() {
            Ok(p) if p > 0 => port = p,
            _ => r.warn(format!(
                "environment variable SERVICE_PORT={sp:?} is not a port (1-65535); using {port}"
            )),
        }
    }
    Ok(port)
}

fn port_number(r: &Reader<'_>, key: &str, v: &Value) -> Result<u16, ConfigError> {
    let n = r
        .uint(key, v)
        .map_err(|_| r.expected(key, "a port number 1-65535", v))?;
    match u16::try_from(n) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(r.expected(key, "a port number 1-65535", v)),
    }
}

/// The first of `PROXY_URL`, `HTTPS_PROXY`, `https_proxy` and `httpsProxy` that is set.
pub(super) fn read_proxy_url(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<Option<String>, ConfigError> {
    for key in ["PROXY_URL", "HTTPS_PROXY", "https_proxy", "httpsProxy"] {
        if let Some(u) = r.opt_string(key, top.get(key))? {
            if !u.contains("://") {
                // Never echo it: `user:password@host` is a credential even without a scheme.
                return Err(r.invalid(
                    key,
                    "expected a proxy URL with a scheme, such as \"http://127.0.0.1:7890\" or \
                     \"http://user:password@proxy:8080\"",
                ));
            }
            return Ok(Some(u.trim().to_owned()));
        }
    }
    Ok(None)
}

/// `PING_INTERVAL_MS` ([`DEFAULT_PING_INTERVAL_MS`] when unset; 0 is refused).
pub(super) fn read_ping_interval_ms(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<u64, ConfigError> {
    Ok(match top.get("PING_INTERVAL_MS") {
        None | Some(Value::Null) => DEFAULT_PING_INTERVAL_MS,
        Some(v) => match r.uint("PING_INTERVAL_MS", v)? {
            0 => return Err(r.invalid("PING_INTERVAL_MS", "must be at least 1 (milliseconds)")),
            ms => ms,
        },
    })
}

/// `HEADER_READ_TIMEOUT_SECS` ([`DEFAULT_HEADER_READ_TIMEOUT_SECS`] when unset).
pub(super) fn read_header_read_timeout_secs(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<u64, ConfigError> {
    match top.get("HEADER_READ_TIMEOUT_SECS") {
        None | Some(Value::Null) => Ok(DEFAULT_HEADER_READ_TIMEOUT_SECS),
        Some(v) => r.positive("HEADER_READ_TIMEOUT_SECS", v),
    }
}

/// `BODY_READ_TIMEOUT_SECS` ([`DEFAULT_BODY_READ_TIMEOUT_SECS`] when unset).
pub(super) fn read_body_read_timeout_secs(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<u64, ConfigError> {
    match top.get("BODY_READ_TIMEOUT_SECS") {
        None | Some(Value::Null) => Ok(DEFAULT_BODY_READ_TIMEOUT_SECS),
        Some(v) => r.positive("BODY_READ_TIMEOUT_SECS", v),
    }
}

/// `MAX_CONNECTIONS_PER_CLIENT` ([`DEFAULT_MAX_CONNECTIONS_PER_CLIENT`] when unset).
pub(super) fn read_max_connections_per_client(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<usize, ConfigError> {
    Ok(match top.get("MAX_CONNECTIONS_PER_CLIENT") {
        None | Some(Value::Null) => DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
        Some(v) => usize::try_from(r.uint("MAX_CONNECTIONS_PER_CLIENT", v)?).unwrap_or(usize::MAX),
    })
}

/// `MAX_CONCURRENT_STREAMS` ([`DEFAULT_MAX_CONCURRENT_STREAMS`] when unset; 0 is refused).
pub(super) fn read_max_concurrent_streams(
    r: &Reader<'_>,
    top: &Map<String, Value>,
) -> Result<usize, ConfigError> {
    Ok(match top.get("MAX_CONCURRENT_STREAMS") {
        None | Some(Value::Null) => DEFAULT_MAX_CONCURRENT_STREAMS,
        Some(v) => {
            let n = r.positive("MAX_CONCURRENT_STREAMS", v)?;
            usize::try_from(n).unwrap_or(usize::MAX)
        }
    })
}

/// Warns that a non-loopback `HOST` without an `APIKEY` is replaced by loopback (see
/// [`Config::bind_host`](super::Config::bind_host)).
pub(super) fn warn_open_without_key(r: &mut Reader<'_>, api_key: Option<&str>, host: &str) {
    if api_key.is_none() && !is_loopback(host) {
        r.warn(format!(
            "HOST is {host:?} but APIKEY is not set; listening on {DEFAULT_HOST} only (set APIKEY \
             to accept connections from other machines)"
        ));
    }
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub(super) fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}
