//! The serving loop over real sockets on 127.0.0.1, with small limits: timeouts for headers,
//! idle connections, bodies, whole requests and unread answers; the cap on connections;
//! graceful shutdown; the security headers and redirects as a browser sees them.
//!
//! Self-contained: a temporary build folder and SQLite file; routes that need a slow or
//! endless handler use stand-ins wrapped in the app's own layers (`with_layers`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery};
use axum::routing::get;
use axum::Router;
use futures_util::stream;
use keyward_server::serve::{ANSWER_TOO_SLOW, BODY_TOO_SLOW};
use keyward_server::{serve, with_layers, Config, Limits};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

const INDEX: &str = "<!doctype html><html><head><title>Keyward</title></head><body>\
<script type=\"module\">import init from '/keyward-0123456789abcdef.js'; await init();</script>\
</body></html>\n";

/// Limits small enough for a test to see each one act (the whole-request deadline is left
/// long enough for a sign-in's password hash on a busy machine; one test shortens it).
fn small_limits() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_secs(10),
        send_timeout: Duration::from_millis(300),
        max_connections: 8,
        ..Limits::default()
    }
}

/// A build folder and a data folder for one server.
struct Site {
    dir: TempDir,
    limits: Limits,
}

impl Site {
    fn new(limits: Limits) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(dist.join("snippets/inner")).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        std::fs::write(dist.join("small-0123456789abcdef.bin"), [7u8; 100]).unwrap();
        std::fs::create_dir_all(dist.join("x")).unwrap();
        Site { dir, limits }
    }

    fn config(&self) -> Config {
        Config {
            app: keyward_server::AppFiles::Folder(self.dir.path().join("dist")),
            data: self.dir.path().join("data"),
            database_url: None,
            limits: self.limits.clone(),
        }
    }
}

/// A running server: its address, the switch that shuts it down, and its task.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Shuts down and waits (at most `within`) for the serving loop to return.
    async fn shut_down(mut self, within: Duration) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(within, self.task)
            .await
            .expect("the server stops in time")
            .unwrap()
            .unwrap();
    }
}

/// The whole app, as `keyward-server` serves it.
async fn start_app(site: &Site) -> Running {
    let config = site.config();
    config.prepare().unwrap();
    let store = config.open_store().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve(listener, &config, store, async {
            let _ = stopped.await;
        })
        .await
    });
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Stand-in routes in the app's layers, through the same serving loop; `on_shutdown` runs
/// when it shuts down.
async fn start_routes(
    site: &Site,
    routes: Router,
    on_shutdown: impl FnOnce() + Send + 'static,
) -> Running {
    let config = site.config();
    let router = with_layers(routes, &config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = config.limits.clone();
    let task = tokio::spawn(async move {
        keyward_server::serve::run(
            listener,
            router,
            &limits,
            async {
                let _ = stopped.await;
            },
            on_shutdown,
        )
        .await
    });
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Reads until the server closes the connection (or `within` passes: a failure); returns
/// what was read and how long it took.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let read = tokio::time::timeout_at((started + within).into(), stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the server kept the connection open for {within:?}; it sent {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            });
        match read {
            Ok(0) | Err(_) => return (bytes, started.elapsed()),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One whole answer read off a kept-alive connection (its length from `Content-Length`).
async fn read_answer(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed before answering");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
    let length: usize = header(&head, "content-length")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed in the body");
        bytes.extend_from_slice(&chunk[..n]);
    }
    (head, bytes[head_end..head_end + length].to_vec())
}

/// A header's value in a raw answer's head (names compared without case).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn status(head: &str) -> u16 {
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: keyward.test\r\n\r\n")
}

/// A request after which the server closes the connection.
fn last_request(method: &str, path: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: keyward.test\r\nConnection: close\r\n\r\n")
}

/// Sends `request` on a new connection, closes the writing side, reads the whole answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_half_sent_header_is_closed_after_the_timeout() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: keyward.test\r\nX-Slow: ")
        .await
        .unwrap();
    let (bytes, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(" 200 "), "{text}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Dripping the header a byte at a time does not reset the clock.
    let mut drip = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let closed = async {
        for byte in b"GET / HTTP/1.1\r\nHost: keyward.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa" {
            if drip.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut rest = Vec::new();
        let _ = drip.read_to_end(&mut rest).await;
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("closed while dripping");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;

    // Connected, then silent.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let (bytes, took) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!String::from_utf8_lossy(&bytes).contains(" 200 "));

    // Kept alive after an answer, then silent.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(get_request("/people").as_bytes())
        .await
        .unwrap();
    let (head, body) = read_answer(&mut kept).await;
    assert_eq!(status(&head), 200, "{head}");
    assert_eq!(body, INDEX.as_bytes());
    assert_eq!(header(&head, "connection"), None, "kept alive: {head}");
    let (rest, took) = read_until_closed(&mut kept, Duration::from_secs(5)).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_half_sent_body_gets_its_timeout_answer() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/login HTTP/1.1\r\nHost: keyward.test\r\nContent-Type: application/json\r\n\
              Content-Length: 200\r\n\r\n{\"username\": \"pat\", ",
        )
        .await
        .unwrap();
    let (bytes, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(header(head, "connection"), Some("close"), "{head}");
    assert_eq!(header(head, "content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"], BODY_TOO_SLOW);
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_body_in_time_is_read_whole() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;
    // A body in two parts, 100 ms apart: well within the limit. It reaches the handler
    // (an unknown user is a 401, not a 408).
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let body = br#"{"username": "nobody-here", "password": "not the one", "device": "018f2c3e-7b1a-7c44-9d2e-5f0a1b2c3d4e"}"#;
    let head = format!(
        "POST /api/login HTTP/1.1\r\nHost: keyward.test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(&body[10..]).await.unwrap();
    let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.starts_with("HTTP/1.1 4"), "{text}");
    server.shut_down(Duration::from_secs(5)).await;
}

/// A stand-in for the event stream: one line every 100 ms, for `lines` lines, or until
/// `closing` turns true.
fn endless(lines: usize, closing: watch::Receiver<bool>) -> Body {
    let ticks = stream::unfold((0, closing), move |(n, mut closing)| async move {
        if n == lines || *closing.borrow() {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = closing.changed() => return None,
        }
        Some((
            Ok::<_, Infallible>(format!("data: {n}\n\n")),
            (n + 1, closing),
        ))
    });
    Body::from_stream(ticks)
}

/// Stand-in routes: `/api/stream` sends 15 lines (`?forever`: lines for minutes) until
/// `closing`; `/api/slow-answer` the same 15 lines; `/api/slow` answers after 5 s;
/// `/api/in-flight` after 700 ms, raising `finished` first; `/api/who` the client's address.
fn stand_ins(closing: watch::Receiver<bool>, finished: Arc<AtomicBool>) -> Router {
    let for_stream = closing.clone();
    let for_slow_answer = closing;
    Router::new()
        .route(
            "/api/stream",
            get(move |RawQuery(query): RawQuery| {
                let closing = for_stream.clone();
                let lines = if query.as_deref() == Some("forever") {
                    10_000
                } else {
                    15
                };
                async move { endless(lines, closing) }
            }),
        )
        .route(
            "/api/slow-answer",
            get(move || {
                let closing = for_slow_answer.clone();
                async move { endless(15, closing) }
            }),
        )
        .route(
            "/api/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "done"
            }),
        )
        .route(
            "/api/in-flight",
            get(move || async move {
                tokio::time::sleep(Duration::from_millis(700)).await;
                finished.store(true, Ordering::SeqCst);
                "finished"
            }),
        )
        .route(
            "/api/who",
            get(|ConnectInfo(addr): ConnectInfo<SocketAddr>| async move { addr.to_string() }),
        )
}

#[tokio::test]
async fn whole_requests_have_a_deadline_but_the_stream_does_not() {
    let site = Site::new(Limits {
        request_timeout: Duration::from_millis(600),
        ..small_limits()
    });
    let (_closing, closed) = watch::channel(false);
    let server = start_routes(&site, stand_ins(closed, Arc::default()), || {}).await;

    // An answer not begun in time: a 503 in the API's words.
    let started = Instant::now();
    let text = exchange(server.addr, last_request("GET", "/api/slow").as_bytes()).await;
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    assert!(text.contains(ANSWER_TOO_SLOW), "{text}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // An answer still being sent at the deadline is cut off (1.5 s of lines, 0.6 s allowed).
    let text = exchange(
        server.addr,
        last_request("GET", "/api/slow-answer").as_bytes(),
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("data: 2\n"), "{text}");
    assert!(!text.contains("data: 14\n"), "{text}");

    // The stream lives past the deadline: all 15 lines, 1.5 s.
    let started = Instant::now();
    let text = exchange(server.addr, last_request("GET", "/api/stream").as_bytes()).await;
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(text.contains("data: 14\n"), "{text}");
    assert!(started.elapsed() >= Duration::from_millis(1400));
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn requests_carry_the_clients_address() {
    let site = Site::new(small_limits());
    let (_closing, closed) = watch::channel(false);
    let server = start_routes(&site, stand_ins(closed, Arc::default()), || {}).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    stream
        .write_all(get_request("/api/who").as_bytes())
        .await
        .unwrap();
    let (_, body) = read_answer(&mut stream).await;
    assert_eq!(String::from_utf8(body).unwrap(), local.to_string());
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    const BIG: usize = 16 << 20;
    let site = Site::new(small_limits());
    // 16 MiB that do not compress: far more than the socket buffers hold.
    let big: Vec<u8> = (0..BIG as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(
        site.dir
            .path()
            .join("dist")
            .join("big-0123456789abcdef.bin"),
        big,
    )
    .unwrap();
    let server = start_app(&site).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    stream
        .write_all(get_request("/big-0123456789abcdef.bin").as_bytes())
        .await
        .unwrap();
    // Read nothing for a while: the server's writes stall, then it gives up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        bytes.len() < BIG,
        "the whole file came: {} bytes",
        bytes.len()
    );
    // A reader in good faith gets it all.
    let mut reader = TcpStream::connect(server.addr).await.unwrap();
    reader
        .write_all(get_request("/big-0123456789abcdef.bin").as_bytes())
        .await
        .unwrap();
    let (head, body) = read_answer(&mut reader).await;
    assert_eq!(status(&head), 200, "{head}");
    assert_eq!(body.len(), BIG);
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn at_the_cap_new_connections_wait_and_are_then_served() {
    let limits = Limits {
        header_timeout: Duration::from_millis(1500),
        ..small_limits()
    };
    let cap = limits.max_connections;
    let site = Site::new(limits);
    let server = start_app(&site).await;

    let mut idle = Vec::new();
    for _ in 0..cap {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The kernel takes the connection, the server does not: no answer yet.
    let mut waiting = TcpStream::connect(server.addr).await.unwrap();
    waiting
        .write_all(get_request("/people").as_bytes())
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut byte)).await;
    assert!(early.is_err(), "answered beyond the cap: {early:?}");

    // One closes: the waiting one is served at once.
    let started = Instant::now();
    drop(idle.pop());
    let (head, body) = read_answer(&mut waiting).await;
    assert_eq!(status(&head), 200, "{head}");
    assert_eq!(body, INDEX.as_bytes());
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    drop(waiting);

    // Full again, and nobody lets go: the idle ones time out and the server is reachable.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while idle.len() < cap {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let started = Instant::now();
    let text = exchange(server.addr, last_request("GET", "/people").as_bytes()).await;
    assert!(text.starts_with("HTTP/1.1 200 "), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn shutting_down_ends_streams_and_finishes_requests_in_flight() {
    // Idle connections wait longer than the test: shutting down must close them.
    let site = Site::new(Limits {
        header_timeout: Duration::from_secs(10),
        ..small_limits()
    });
    let (closing, closed) = watch::channel(false);
    let finished = Arc::new(AtomicBool::new(false));
    let server = start_routes(&site, stand_ins(closed, finished.clone()), move || {
        closing.send_replace(true);
    })
    .await;
    let addr = server.addr;

    // A stream for minutes, a request in flight, an idle kept-alive connection.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(get_request("/api/stream?forever").as_bytes())
        .await
        .unwrap();
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(get_request("/api/in-flight").as_bytes())
        .await
        .unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(get_request("/api/who").as_bytes())
        .await
        .unwrap();
    read_answer(&mut idle).await;
    tokio::time::sleep(Duration::from_millis(250)).await;

    let started = Instant::now();
    let stopping = tokio::spawn(server.shut_down(Duration::from_secs(5)));
    let (streamed, _) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    let streamed = String::from_utf8_lossy(&streamed);
    assert!(streamed.contains("data: 0"), "{streamed}");
    let (rest, _) = read_until_closed(&mut idle, Duration::from_secs(3)).await;
    assert!(rest.is_empty());
    // The serving loop returns only once the request in flight has been answered.
    stopping.await.unwrap();
    assert!(
        finished.load(Ordering::SeqCst),
        "returned before the answer"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let (head, body) = read_answer(&mut in_flight).await;
    assert_eq!(status(&head), 200, "{head}");
    assert_eq!(body, b"finished");
    // Nobody listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn security_headers_as_a_browser_gets_them() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;
    let script = "import init from '/keyward-0123456789abcdef.js'; await init();";
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script))
    };
    for path in [
        "/",
        "/lockers/abc",
        "/small-0123456789abcdef.bin",
        "/api/me",
    ] {
        let text = exchange(server.addr, last_request("HEAD", path).as_bytes()).await;
        let policy = header(&text, "content-security-policy").unwrap_or_else(|| panic!("{text}"));
        assert!(
            policy.starts_with(&format!(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'; style-src 'self'; "
            )),
            "{path}: {policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert_eq!(header(&text, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(header(&text, "referrer-policy"), Some("no-referrer"));
        assert_eq!(
            header(&text, "cross-origin-opener-policy"),
            Some("same-origin")
        );
        assert_eq!(
            header(&text, "permissions-policy"),
            Some("camera=(self), microphone=(), geolocation=(), payment=()")
        );
        assert_eq!(header(&text, "x-content-type-options"), Some("nosniff"));
    }
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn no_answer_sends_a_browser_to_another_host() {
    let site = Site::new(small_limits());
    let server = start_app(&site).await;
    for path in [
        "//x",
        "///x",
        "//evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "//snippets",
        "/snippets",
        "/x",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
    ] {
        let text = exchange(server.addr, last_request("GET", path).as_bytes()).await;
        let code = status(&text);
        assert!(!(300..400).contains(&code), "{path}: {text}");
        assert_eq!(header(&text, "location"), None, "{path}: {text}");
    }
    server.shut_down(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_huge_header_is_refused() {
    let site = Site::new(Limits {
        header_timeout: Duration::from_secs(10),
        ..small_limits()
    });
    let server = start_app(&site).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // One header of 200 KiB: more than a connection may buffer.
    let request = format!(
        "GET / HTTP/1.1\r\nHost: keyward.test\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let _ =
        tokio::time::timeout(Duration::from_secs(5), stream.write_all(request.as_bytes())).await;
    let (bytes, took) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431 "),
        "{text}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.shut_down(Duration::from_secs(5)).await;
}
