//! The connection loop: HTTP/1.1 through hyper with a header read timeout and header limits,
//! and graceful shutdown. hyper answers a request it cannot parse (too large, malformed) itself,
//! with an empty body and no hook to change it; [`Rewriting`] swaps that answer for an
//! Appwrite-shaped error so every client sees `{message, code, type, version}`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::http::reply::transport_error_body;

/// Largest header section the dispatcher accepts: room for a user agent far past Appwrite's
/// 16,384 bytes, which is cut rather than refused.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// hyper's read buffer: past it hyper refuses the request itself (rewritten below).
const HYPER_BUFFER_BYTES: usize = 2 * MAX_HEADER_BYTES;
/// How long shutdown waits for open connections to finish their requests.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 100;

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
/// `read_timeout` bounds how long a client may take to send its headers (slow clients are
/// disconnected; idle keep-alive connections too).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .max_buf_size(HYPER_BUFFER_BYTES)
        .max_headers(MAX_HEADERS);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .oneshot(req.map(Body::new))
                        .await
                        .unwrap_or_else(|e| match e {}),
                )
            }
        });
        let conn = http.serve_connection(TokioIo::new(Rewriting::new(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // A client that never reads its answer must not keep the process alive.
    if tokio::time::timeout(DRAIN_LIMIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 30 s; closing them");
    }
    Ok(())
}

/// hyper's own answers to unparseable requests: `HTTP/1.1 <status> …` with `content-length: 0`.
/// Every answer of ours to these statuses has a JSON body, so the pair cannot be ours.
fn hyper_error_status(buf: &[u8]) -> Option<u16> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
    let status = match rest.get(..4)? {
        b"400 " => 400,
        b"414 " => 414,
        b"431 " => 431,
        _ => return None,
    };
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &buf[..head_end + 2];
    head.windows(21)
        .any(|w| w.eq_ignore_ascii_case(b"\r\ncontent-length: 0\r\n"))
        .then_some(status)
}

/// The message of a 431, from hyper or from the dispatcher.
pub fn headers_too_large() -> String {
    format!(
        "Request headers are too large: at most {MAX_HEADER_BYTES} bytes and {MAX_HEADERS} header lines are accepted."
    )
}

fn replacement(status: u16) -> Vec<u8> {
    let (reason, message) = match status {
        431 => ("Request Header Fields Too Large", headers_too_large()),
        414 => ("URI Too Long", "The request URI is too long.".to_owned()),
        _ => (
            "Bad Request",
            "The request could not be parsed as HTTP/1.1.".to_owned(),
        ),
    };
    let body = transport_error_body(status, &message);
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A TCP stream that replaces hyper's bodiless parse-error answers on the way out.
struct Rewriting {
    inner: TcpStream,
    /// Bytes of a replacement answer not yet written.
    pending: Vec<u8>,
    written: usize,
}

impl Rewriting {
    fn new(inner: TcpStream) -> Self {
        Rewriting {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }

    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Rewriting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewriting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(status) = hyper_error_status(buf) {
            self.pending = replacement(status);
            // What is left goes out on the next write, flush or shutdown.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bodiless_parse_errors_are_replaced() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(hyper_error_status(hyper_431), Some(431));
        let hyper_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(hyper_400), Some(400));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\n\r\n{\"message\":";
        assert_eq!(hyper_error_status(ours), None);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_error_status(ok), None);
        // A body that happens to mention the header does not count: only the head is read.
        let body =
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 30\r\n\r\nx\r\ncontent-length: 0\r\n";
        assert_eq!(hyper_error_status(body), None);
        let text = String::from_utf8(replacement(431)).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], 431);
        assert_eq!(v["type"], "general_bad_request");
    }
}
