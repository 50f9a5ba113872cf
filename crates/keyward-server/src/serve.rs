//! The serving loop and what bounds a client's cost in time and connections.
//!
//! `axum::serve` has no timeouts: a client that sends half a header, half a body, or nothing
//! at all on a kept-alive connection holds a connection (and a file descriptor) for ever, and
//! about a thousand of them made the server unreachable. Here:
//!
//! - **Connections** are capped at [`Limits::max_connections`], and at what the open-file
//!   limit allows (raised to its hard limit at start, a margin kept for the database and
//!   files). At the cap the loop stops accepting, so new clients wait in the kernel's queue
//!   until a connection closes, instead of the process running out of descriptors.
//! - **Headers** must arrive within [`Limits::header_timeout`]; hyper's header timer also runs
//!   while a kept-alive connection waits for its next request, so idle connections close too.
//! - **Bodies** must arrive within [`Limits::body_timeout`] of the handler starting to read
//!   them ([`body_deadline`]): the answer is a 408 in the API's JSON style, and the connection
//!   closes.
//! - **Whole requests** must be answered, the answer's body sent too, within
//!   [`Limits::request_timeout`] ([`request_deadline`]), but the event stream
//!   (`/api/stream`), which lives for hours.
//! - **Answers** must be read: a write that makes no progress for [`Limits::send_timeout`]
//!   ends the connection (a client that stops reading a large file or the stream).
//!
//! Each connection's requests carry `axum::extract::ConnectInfo<SocketAddr>`, the client's
//! address, in their extensions: the connection's peer, or behind a proxy named in
//! [`Limits::trusted_proxies`] the address it forwarded ([`crate::proxy`]).
//!
//! Over HTTPS ([`run_with`] given a [`Tls`]) each accepted connection is wrapped in the TLS
//! handshake inside the same loop, so the cap and every timeout still apply: the handshake
//! must finish within [`Limits::header_timeout`] (a client that opens a socket and never
//! completes it is dropped), and its requests carry [`Secure`] as well. The handshake's ALPN
//! chooses HTTP/2 or HTTP/1.1 (plain HTTP is HTTP/1.1 only). HTTP/2 has no header timer to
//! close a quiet connection, so one with no request open for [`Limits::header_timeout`] is
//! asked to finish (GOAWAY), and dropped if it has not after as long again; it carries at most
//! [`H2_STREAMS`] requests at once, headers bounded as HTTP/1.1's are. Shutting down asks
//! every connection to finish and waits for their requests, either way.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{HeaderValue, CONNECTION};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use hyper_util::service::TowerToHyperService;
use rustls_acme::acme::ACME_TLS_ALPN_NAME;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::api::ApiError;
use crate::proxy;
use crate::settings::Limits;
use crate::tls::{Secure, Tls, H2};

/// Paths whose answers may last as long as the client listens: never cut by
/// [`Limits::request_timeout`].
pub const LONG_LIVED: &[&str] = &["/api/stream"];

/// A quarter of the open-file limit, and at least this many descriptors, are kept for the
/// database, the files being sent, the listener and the standard streams.
const RESERVED_FDS: u64 = 64;

/// The soft open-file limit asked for at start (up to the hard limit). Linux refuses more
/// than `fs.nr_open` (1,048,576 by default) even when the hard limit says "unlimited".
const WANTED_FDS: u64 = 1 << 20;

/// The most a connection buffers (the request head must fit).
const READ_BUFFER: usize = 64 * 1024;

/// How long to wait after `accept` fails for want of resources (e.g. descriptors) before
/// trying again, rather than spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The sentence a client gets when its request's body did not arrive in time.
pub const BODY_TOO_SLOW: &str =
    "The request took too long to reach the server. Check the connection, then try again.";
/// The sentence a client gets when the server did not answer in time.
pub const ANSWER_TOO_SLOW: &str =
    "The server took too long to answer. Nothing was saved from this request: try again in a moment.";

/// Serves `router` on `listener` under `limits` until `shutdown` resolves; then stops
/// accepting, runs `on_shutdown` (which ends the event streams), closes idle connections
/// and waits for in-flight requests to finish.
pub async fn run<F>(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: F,
    on_shutdown: impl FnOnce(),
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    run_with(listener, router, None, limits, shutdown, on_shutdown).await
}

/// As [`run`], over HTTPS when `tls` is given: each connection's TLS handshake must finish
/// within [`Limits::header_timeout`], and the certificate files are checked for a change
/// (at most once a second) as connections arrive.
pub async fn run_with<F>(
    listener: TcpListener,
    router: Router,
    tls: Option<Tls>,
    limits: &Limits,
    shutdown: F,
    on_shutdown: impl FnOnce(),
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let cap = connection_cap(limits.max_connections);
    let permits = Arc::new(Semaphore::new(cap));
    let (closing, closed) = watch::channel(false);
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        // A connection's buffer (hyper's default grows to about 400 KiB of headers):
        // the app's requests carry a token, not cookies, and this bounds what thousands of
        // connections sending endless headers hold.
        .max_buf_size(READ_BUFFER);
    http.http2()
        .timer(TokioTimer::new())
        // A client's requests at once on one connection, and the headers of each, bounded
        // as HTTP/1.1's are; a peer that stops answering pings is dropped.
        .max_concurrent_streams(H2_STREAMS)
        .max_header_list_size(READ_BUFFER as u32)
        .keep_alive_interval(Some(H2_PING_EVERY))
        .keep_alive_timeout(limits.header_timeout);
    let http1 = http.clone().http1_only();
    let http2 = http.http2_only();
    let send_timeout = limits.send_timeout;
    let header_timeout = limits.header_timeout;
    let trusted: Arc<[IpAddr]> = limits.trusted_proxies.clone().into();
    let acceptor = tls
        .as_ref()
        .map(|tls| tokio_rustls::TlsAcceptor::from(tls.config.clone()));

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the cap, wait here: new connections queue in the kernel, not in this process.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let secure = tls.is_some();
        let trusted = trusted.clone();
        let activity = Arc::new(Activity::new());
        let tracked = activity.clone();
        let service = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                let client = proxy::client(remote, req.headers(), &trusted);
                req.extensions_mut().insert(ConnectInfo(client.addr));
                if secure || client.https {
                    req.extensions_mut().insert(Secure);
                }
                req
            })
            .map_future(move |answer| {
                let open = Open::start(tracked.clone());
                async move {
                    let res: Response = answer.await?;
                    Ok::<_, Infallible>(res.map(|body| {
                        Body::new(OpenBody {
                            inner: body,
                            _open: open,
                        })
                    }))
                }
            });
        let service = TowerToHyperService::new(service);
        let stream = SendDeadline::new(stream, send_timeout);
        let closed = closed.clone();
        let (Some(tls), Some(acceptor)) = (&tls, &acceptor) else {
            let http1 = http1.clone();
            tokio::spawn(async move {
                // Errors are the client's doing (timeouts, resets, bad requests): nothing to log.
                drive(
                    http1.serve_connection(TokioIo::new(stream), service),
                    closed,
                    None,
                )
                .await;
                drop(permit);
            });
            continue;
        };
        let certificates = tls.certificates.clone();
        let acceptor = acceptor.clone();
        let (http1, http2) = (http1.clone(), http2.clone());
        tokio::spawn(async move {
            if let Some(certificates) = certificates {
                certificates.check();
            }
            let handshake = tokio::time::timeout(header_timeout, acceptor.accept(stream)).await;
            // A handshake too slow or failed (a client that does not trust the certificate
            // says so here): the client's doing, nothing to log.
            if let Ok(Ok(stream)) = handshake {
                match stream.get_ref().1.alpn_protocol() {
                    // ACME's TLS-ALPN-01 validation: the handshake was all it wanted.
                    Some(ACME_TLS_ALPN_NAME) => {}
                    Some(H2) => {
                        let idle = Some((activity, header_timeout));
                        drive(
                            http2.serve_connection(TokioIo::new(stream), service),
                            closed,
                            idle,
                        )
                        .await
                    }
                    _ => {
                        drive(
                            http1.serve_connection(TokioIo::new(stream), service),
                            closed,
                            None,
                        )
                        .await
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    on_shutdown();
    let _ = closing.send(true);
    // Every connection holds a permit until it has finished.
    let _ = permits
        .acquire_many(u32::try_from(cap).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// An HTTP/2 connection is pinged this often when quiet, to find a peer that has gone.
const H2_PING_EVERY: Duration = Duration::from_secs(20);

/// Requests open at once on one HTTP/2 connection.
pub const H2_STREAMS: u32 = 100;

/// Serves `connection` until it ends. When the server shuts down (`closed` turns true), or,
/// given `idle`, when the connection has had no request open for that long (HTTP/2, which
/// has no header timeout of its own to close a quiet connection), it is asked to finish:
/// requests under way end first. A connection asked to finish because it was idle that has
/// not within the same time again is dropped.
async fn drive<C: GracefulConnection>(
    connection: C,
    mut closed: watch::Receiver<bool>,
    idle: Option<(Arc<Activity>, Duration)>,
) {
    let mut connection = std::pin::pin!(connection);
    let quiet = async {
        match &idle {
            Some((activity, limit)) => activity.idle_for(*limit).await,
            None => std::future::pending().await,
        }
    };
    let mut quiet = std::pin::pin!(quiet);
    let mut asked = false;
    let mut deadline: Option<Pin<Box<Sleep>>> = None;
    loop {
        tokio::select! {
            // Errors are the client's doing (timeouts, resets, bad requests): nothing to log.
            _ = connection.as_mut() => return,
            _ = closed.wait_for(|closed| *closed), if !asked => {
                asked = true;
                connection.as_mut().graceful_shutdown();
            }
            () = &mut quiet, if !asked => {
                asked = true;
                connection.as_mut().graceful_shutdown();
                let limit = idle.as_ref().map_or(Duration::ZERO, |(_, limit)| *limit);
                deadline = Some(Box::pin(tokio::time::sleep(limit)));
            }
            () = async { deadline.as_mut().expect("set").await }, if deadline.is_some() => return,
        }
    }
}

/// The requests open on one connection, and since when none has been.
struct Activity {
    state: Mutex<(usize, Instant)>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new((0, Instant::now())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Instant)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves once no request has been open for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let (open, since) = *self.lock();
            if open > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let deadline = since + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// One request open on a connection, from the moment it reaches the app until its answer's
/// body is sent (or dropped).
struct Open(Arc<Activity>);

impl Open {
    fn start(activity: Arc<Activity>) -> Open {
        activity.lock().0 += 1;
        Open(activity)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.0 = state.0.saturating_sub(1);
        state.1 = Instant::now();
    }
}

/// An answer's body that keeps its request counted as open.
struct OpenBody {
    inner: Body,
    _open: Open,
}

impl http_body::Body for OpenBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Errors of one connection that `accept` reports (it was reset before being accepted):
/// the next `accept` is fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Raises the soft open-file limit to the hard limit and returns how many connections may be
/// open at once: `wanted`, or fewer if the descriptors would run out first (logged).
pub fn connection_cap(wanted: usize) -> usize {
    let Some(files) = open_file_limit() else {
        return wanted.max(1);
    };
    let cap = fd_cap(files, wanted);
    if cap < wanted {
        tracing::warn!(
            open_files = files,
            cap,
            wanted,
            "the open-file limit is too low for the connections wanted: serving fewer at once \
             (raise `ulimit -n`, or LimitNOFILE= in the systemd unit, to allow more)"
        );
    }
    cap
}

/// The connections that fit in `files` descriptors with the margin kept.
pub fn fd_cap(files: u64, wanted: usize) -> usize {
    let reserved = (files / 4).max(RESERVED_FDS);
    let fit = usize::try_from(files.saturating_sub(reserved)).unwrap_or(usize::MAX);
    wanted.min(fit).max(1)
}

/// The soft open-file limit after raising it as far as allowed; `None` where there is none.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(WANTED_FDS) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
        }
    }
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Middleware: every request but [`LONG_LIVED`] ones is answered, body included, within
/// `limit`. An answer not begun by then is a 503 (worth retrying) in the API's style; one
/// whose body is still being sent is cut off.
pub async fn request_deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if LONG_LIVED.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let deadline = Instant::now() + limit;
    match tokio::time::timeout_at(deadline, next.run(req)).await {
        Ok(res) if res.body().is_end_stream() => res,
        Ok(res) => res.map(|body| Body::new(DeadlineBody::until(body, deadline))),
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ANSWER_TOO_SLOW).into_response(),
    }
}

/// Middleware: a request's body must arrive within `limit` of the handler starting to read
/// it. If it does not, the handler sees a body error, and whatever it answers is replaced
/// by a 408 in the API's style that closes the connection (the rest of the body is not
/// worth waiting for).
pub async fn body_deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let flag = expired.clone();
    let req = req.map(|body| Body::new(DeadlineBody::after_first_read(body, limit, flag)));
    let res = next.run(req).await;
    if !expired.load(Ordering::Acquire) {
        return res;
    }
    let mut res = ApiError::new(StatusCode::REQUEST_TIMEOUT, BODY_TOO_SLOW).into_response();
    res.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    res
}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    /// Set on the first read when it is `None`.
    deadline: Option<Pin<Box<Sleep>>>,
    limit: Duration,
    /// Raised when the deadline passed, for whoever waits to know.
    expired: Arc<AtomicBool>,
}

impl DeadlineBody {
    /// Fails `limit` after it is first read.
    fn after_first_read(inner: Body, limit: Duration, expired: Arc<AtomicBool>) -> Self {
        DeadlineBody {
            inner,
            deadline: None,
            limit,
            expired,
        }
    }

    /// Fails at `deadline`.
    fn until(inner: Body, deadline: Instant) -> Self {
        DeadlineBody {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep_until(deadline))),
            limit: Duration::ZERO,
            expired: Arc::default(),
        }
    }
}

/// The error a [`DeadlineBody`] ends with.
#[derive(Debug)]
struct TimedOut;

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the body was not sent in time")
    }
}

impl std::error::Error for TimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.expired.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(axum::Error::new(TimedOut))));
        }
        let limit = this.limit;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        ready!(deadline.as_mut().poll(cx));
        this.expired.store(true, Ordering::Release);
        Poll::Ready(Some(Err(axum::Error::new(TimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail once they have made no progress for `limit`: a client
/// that stops reading cannot hold its connection (and a descriptor) for ever.
struct SendDeadline {
    stream: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl SendDeadline {
    fn new(stream: TcpStream, limit: Duration) -> Self {
        SendDeadline {
            stream,
            limit,
            stalled: None,
        }
    }

    /// Passes a write's outcome on; while it is pending, fails once `limit` has passed since
    /// the last write that made progress.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let limit = self.limit;
                let stalled = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                ready!(stalled.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
        }
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_bound_the_connections() {
        // The usual soft limit: a quarter kept back.
        assert_eq!(fd_cap(1024, 4096), 768);
        // A small limit keeps at least the fixed margin.
        assert_eq!(fd_cap(200, 4096), 136);
        assert_eq!(fd_cap(10, 4096), 1);
        // A raised limit leaves the setting in charge.
        assert_eq!(fd_cap(1 << 20, 4096), 4096);
        assert_eq!(fd_cap(20_000, 8), 8);
    }
}
