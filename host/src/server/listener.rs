//! Accepting connections: what a client may hold open, and for how long.
//!
//! `axum::serve` offers no header timeout and no per-client cap, so connections are served
//! here with hyper-util directly:
//! - **header read timeout** (`HEADER_READ_TIMEOUT_SECS`): a client that has not sent a whole
//!   request head in time is disconnected (slowloris; auth only runs once headers are in);
//! - **connections per client address** (`MAX_CONNECTIONS_PER_CLIENT`): past the cap a new
//!   connection gets one Anthropic-shaped `429 rate_limit_error` and is closed;
//! - **hyper's own error answers** (a head over hyper's size limit, a malformed head) carry
//!   an Anthropic-shaped JSON body instead of an empty one ([`ShapedParseErrors`]).
//!
//! Graceful shutdown waits for the open connections (streams finish), as `axum::serve` did.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::error::error_body;
use crate::state::AppState;

/// The most a connection's read buffer holds, and so the largest request head accepted
/// (Node's default, so what claude-code-router accepts too; Claude Code sends ~2 KB). hyper
/// grows the buffer to what arrives at once (a whole 80 KB body) and keeps it for the
/// connection's life, that is for a whole stream: capped, an idle or streaming connection
/// holds 16 KB instead of ~64 KB. A body is read in 16 KB slices.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// Serve `app` on `listener` until `shutdown` resolves, then wait for open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(ClientSlots::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning; the listener stays.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Streams are many small writes: without TCP_NODELAY, Nagle's algorithm and the
        // client's delayed ACKs hold each one back for ~40 ms.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        let (header_timeout, max_per_client) = {
            let live = state.live.load();
            (
                Duration::from_secs(live.config.header_read_timeout_secs),
                live.config.max_connections_per_client,
            )
        };
        let Some(slot) = slots.acquire(peer.ip(), max_per_client) else {
            tracing::warn!(
                client = %peer.ip(),
                "connection refused: {max_per_client} connections from this address are open \
                 (MAX_CONNECTIONS_PER_CLIENT)"
            );
            tokio::spawn(refuse_over_cap(tcp, max_per_client));
            continue;
        };
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .max_buf_size(READ_BUFFER_BYTES)
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        let io = TokioIo::new(ShapedParseErrors::new(tcp));
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(
            builder
                .serve_connection_with_upgrades(io, service)
                .into_owned(),
        );
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(client = %peer, "connection ended: {err}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Open connections per client address.
#[derive(Default)]
struct ClientSlots {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of `ip`; released on drop.
struct Slot {
    slots: Arc<ClientSlots>,
    ip: IpAddr,
}

impl ClientSlots {
    /// A slot for `ip` unless it already holds `max` (0: no cap).
    fn acquire(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.open.lock();
        let count = open.entry(ip).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock();
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Answer a connection over the per-client cap with one 429 and close it.
async fn refuse_over_cap(mut tcp: TcpStream, max: usize) {
    let body = error_body(
        "rate_limit_error",
        &format!(
            "too many connections from your address: {max} are already open \
             (MAX_CONNECTIONS_PER_CLIENT); close some or raise the limit"
        ),
    )
    .to_string();
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await?;
        // Read what the client sent until it closes: closing with unread data would reset
        // the connection, and the client might lose the answer.
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), answer).await;
}

/// An I/O wrapper that gives hyper's automatic error answers (sent when a request head
/// cannot be parsed: 400, 414, 431; always the last answer on the connection) an
/// Anthropic-shaped JSON body. hyper writes those heads with `content-length: 0` and no
/// `content-type`; every answer of ours has a `content-type`, so they cannot be confused.
pub struct ShapedParseErrors<T> {
    inner: T,
    /// A replacement answer still to be written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ShapedParseErrors<T> {
    /// Wrap a connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// The shaped answer for hyper's automatic error head `buf`, if it is one.
fn shaped_replacement(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = memchr::memmem::find(buf, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    let status: u16 = parts.next()?.parse().ok()?;
    let headers: Vec<&str> = lines.collect();
    let has = |name: &str| {
        headers
            .iter()
            .any(|h| h.len() > name.len() && h[..name.len()].eq_ignore_ascii_case(name))
    };
    let empty = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !(version.starts_with("HTTP/1.") && empty && !has("content-type:")) {
        return None;
    }
    let (error_type, message) = match status {
        431 => (
            "request_too_large",
            "request headers are too large (or too many): send smaller headers",
        ),
        414 => ("request_too_large", "the request URI is too long"),
        400 => (
            "invalid_request_error",
            "malformed HTTP request head (method, URI, version or a header)",
        ),
        _ => return None,
    };
    let body = error_body(error_type, message).to_string();
    let mut out = String::from(status_line);
    out.push_str("\r\n");
    for h in &headers {
        if !h.eq_ignore_ascii_case("content-length: 0") {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nx-should-retry: false\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    // Anything hyper put after the head (nothing, for these answers) follows unchanged.
    bytes.extend_from_slice(&buf[head_end + 4..]);
    Some(bytes)
}

impl<T: AsyncWrite + Unpin> ShapedParseErrors<T> {
    /// Write what is left of a replacement; Ready(Ok) once it is all written.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ShapedParseErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ShapedParseErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        // hyper's automatic answers start with the status line of a 4xx.
        if buf.starts_with(b"HTTP/1.") && buf.get(9) == Some(&b'4') {
            if let Some(replacement) = shaped_replacement(buf) {
                this.pending = Some((replacement, 0));
                // The replacement stands for all of `buf`; it is written by this and later
                // calls (flush and shutdown finish it).
                let _ = this.poll_pending(cx)?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.poll_pending(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_error_heads_get_a_json_body() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                     date: Tue, 01 Dec 2026 00:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(shaped_replacement(head).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(out.contains("date: Tue"));
        assert!(out.contains("content-type: application/json"));
        let body = out.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["type"], "request_too_large");
        assert!(out.contains(&format!("content-length: {}", body.len())));
    }

    #[test]
    fn our_own_answers_pass_untouched() {
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                     content-length: 0\r\n\r\n";
        assert!(shaped_replacement(ours).is_none());
        let with_body = b"HTTP/1.1 431 X\r\ncontent-length: 12\r\n\r\n";
        assert!(shaped_replacement(with_body).is_none());
        assert!(shaped_replacement(b"HTTP/1.1 431 X\r\ncontent-length: 0\r\n").is_none());
    }

    #[test]
    fn client_slots_cap_and_release() {
        let slots = Arc::new(ClientSlots::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = slots.acquire(ip, 2).unwrap();
        let _b = slots.acquire(ip, 2).unwrap();
        assert!(slots.acquire(ip, 2).is_none());
        assert!(slots.acquire("10.0.0.2".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(slots.acquire(ip, 2).is_some());
        assert!(slots.acquire(ip, 0).is_some(), "0 means no cap");
    }
}
