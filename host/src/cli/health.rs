//! The CLI side of `GET /health/detailed`: where to reach the service and what it answers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context as _};
use serde_json::Value;

pub use crate::health::{Health, PluginRow};

/// How long `status`, `health` and `plugin list` wait for the service.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// The base URL clients use to reach a service bound to `listen` (`host:port`): a wildcard
/// address (`0.0.0.0`, `::`) is reached on loopback.
pub fn base_url(listen: &str) -> String {
    match listen.parse::<SocketAddr>() {
        Ok(addr) => {
            let ip = match addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            format!("http://{}", SocketAddr::new(ip, addr.port()))
        }
        Err(_) => format!("http://{listen}"),
    }
}

/// `host:port` for a configured host and port (IPv6 literals bracketed).
pub fn join_host_port(host: &str, port: u16) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `GET <base>/health/detailed`: the parsed report and the raw JSON. The service lets in
/// its own `control_token` (from its state file) or `api_key`; either may be absent.
pub fn fetch(
    base: &str,
    api_key: Option<&str>,
    control_token: Option<&str>,
) -> anyhow::Result<(Health, Value)> {
    let url = format!("{base}/health/detailed");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP client")?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(HEALTH_TIMEOUT)
            .connect_timeout(Duration::from_secs(1))
            .build()
            .context("building the HTTP client")?;
        let mut req = client.get(&url);
        if let Some(key) = api_key {
            req = req.header("x-api-key", key);
        }
        if let Some(token) = control_token {
            req = req.header(crate::server::auth::CONTROL_TOKEN_HEADER, token);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("no answer from {url}: {}", describe_reqwest_error(&e)))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .with_context(|| format!("reading the answer of {url}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            bail!(
                "{url} answered HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        let raw: Value =
            serde_json::from_slice(&body).with_context(|| format!("{url} did not answer JSON"))?;
        let report: Health = serde_json::from_value(raw.clone())
            .with_context(|| format!("{url} answered an unexpected JSON shape"))?;
        Ok((report, raw))
    })
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", HEALTH_TIMEOUT.as_secs());
    }
    // The innermost cause says "Connection refused" rather than "error sending request".
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

/// `1h 02m 03s`, `4m 05s`, `6s`.
pub fn format_uptime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Prints plugin rows as a table (name, kind, version, source, hash, tier, status), each
/// failure's reason on the line below its row.
pub fn print_plugin_table(rows: &[PluginRow], indent: &str) {
    if rows.is_empty() {
        println!("{indent}(no plugins)");
        return;
    }
    let header = [
        "NAME", "KIND", "VERSION", "SOURCE", "HASH", "TIER", "STATUS",
    ];
    let cells: Vec<[&str; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.as_str(),
                r.kind.as_str(),
                r.version.as_str(),
                r.source.as_str(),
                r.hash.as_str(),
                // A service from before tiers reports none: its code was optimized.
                if r.tier.is_empty() {
                    "optimized"
                } else {
                    r.tier.as_str()
                },
                r.status.as_str(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[&str; 7]| {
        let mut out = String::from(indent);
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        out
    };
    println!("{}", line(&header));
    for (row, cells) in rows.iter().zip(&cells) {
        println!("{}", line(cells));
        if let Some(err) = &row.error {
            let file = row.path.as_deref().unwrap_or(&row.name);
            println!("{indent}  └ {file}: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_reached_on_loopback() {
        assert_eq!(base_url("0.0.0.0:3456"), "http://127.0.0.1:3456");
        assert_eq!(base_url("[::]:3456"), "http://[::1]:3456");
        assert_eq!(base_url("127.0.0.1:80"), "http://127.0.0.1:80");
        assert_eq!(base_url("10.1.2.3:9"), "http://10.1.2.3:9");
        assert_eq!(base_url("localhost:3456"), "http://localhost:3456");
        assert_eq!(join_host_port("::1", 5), "[::1]:5");
        assert_eq!(join_host_port("127.0.0.1", 5), "127.0.0.1:5");
    }

    #[test]
    fn uptime_is_short_and_readable() {
        assert_eq!(format_uptime(5), "5s");
        assert_eq!(format_uptime(65), "1m 05s");
        assert_eq!(format_uptime(3723), "1h 02m 03s");
        assert_eq!(format_uptime(90000), "1d 1h 00m");
    }

    #[test]
    fn partial_health_json_still_parses() {
        let r: Health =
            serde_json::from_str(r#"{"status":"ok","plugins":[{"name":"x"}]}"#).unwrap();
        assert_eq!(r.plugins[0].name, "x");
        assert!(r.config_error.is_none());
    }
}
