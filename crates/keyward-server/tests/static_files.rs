//! Serving of the built PWA, driven through the router (and once over a real socket).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use keyward_server::app_files::Files;
use keyward_server::{app, serve, AppFiles, Config, StartError};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

const HASH: &str = "0123456789abcdef";
const INDEX: &str =
    "<!doctype html><html><head><title>Keyward</title></head><body></body></html>\n";
const SW: &str = "self.addEventListener('fetch', (event) => { /* offline cache */ });\n";
const MANIFEST: &str =
    r#"{"name":"Keyward","short_name":"Keyward","start_url":"/","display":"standalone"}"#;
const JS: &str = "export default function init() { return 'keyward'; }\n";
const CSS: &str = "body { margin: 0; font-family: system-ui, sans-serif; }\n";
const SNIPPET: &str = "export function now() { return Date.now(); }\n";

/// 16 KiB that compress well, starting like a real module.
fn wasm_bytes() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend((0..16 * 1024).map(|i| (i % 61) as u8));
    bytes
}

/// A PNG signature plus filler; images must not be compressed again.
fn png_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(std::iter::repeat_n(7u8, 2048));
    bytes
}

struct Dist {
    dir: TempDir,
}

impl Dist {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        };
        write("index.html", INDEX.as_bytes());
        write("sw.js", SW.as_bytes());
        write("manifest.webmanifest", MANIFEST.as_bytes());
        write(&format!("keyward-{HASH}_bg.wasm"), &wasm_bytes());
        write(&format!("keyward-{HASH}.js"), JS.as_bytes());
        write(&format!("style-{HASH}.css"), CSS.as_bytes());
        write("icon-192.png", &png_bytes());
        write(
            "snippets/keyward-core-0a1b2c3d4e5f6789/inline0.js",
            SNIPPET.as_bytes(),
        );
        Dist { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> Config {
        self.config_for(AppFiles::Folder(self.path().to_owned()))
    }

    /// The same files read into memory, as the binary carries them.
    fn memory_config(&self) -> Config {
        let files = Files::read_folder(self.path()).unwrap();
        self.config_for(AppFiles::Memory(Arc::new(files)))
    }

    fn config_for(&self, app: AppFiles) -> Config {
        Config {
            app,
            data: self.path().join("data"),
            database_url: None,
            limits: Default::default(),
        }
    }

    /// The whole app, over a fresh SQLite file in the dist's `data` folder.
    async fn app(&self) -> Router {
        Self::app_of(self.config()).await
    }

    /// The whole app serving `config`'s files.
    async fn app_of(config: Config) -> Router {
        config.prepare().unwrap();
        let store = config.open_store().await.unwrap();
        app(&config, store)
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn content_type(&self) -> Option<&str> {
        self.header(header::CONTENT_TYPE)
    }

    fn cache_control(&self) -> Option<&str> {
        self.header(header::CACHE_CONTROL)
    }

    fn content_encoding(&self) -> Option<&str> {
        self.header(header::CONTENT_ENCODING)
    }

    /// The body as sent before compression (compressed streams may be framed differently).
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.body.is_empty() {
            return out;
        }
        match self.content_encoding() {
            Some("br") => brotli_decompressor::Decompressor::new(&self.body[..], 4096)
                .read_to_end(&mut out)
                .unwrap(),
            Some("gzip") => flate2::read::GzDecoder::new(&self.body[..])
                .read_to_end(&mut out)
                .unwrap(),
            _ => return self.body.clone(),
        };
        out
    }
}

async fn request(app: Router, method: Method, path: &str, accept_encoding: Option<&str>) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(accept) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, accept);
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(dist: &Dist, path: &str) -> Reply {
    request(dist.app().await, Method::GET, path, None).await
}

async fn get_encoded(dist: &Dist, path: &str, accept_encoding: &str) -> Reply {
    request(dist.app().await, Method::GET, path, Some(accept_encoding)).await
}

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=3600";

fn wasm_path() -> String {
    format!("/keyward-{HASH}_bg.wasm")
}

#[tokio::test]
async fn wasm_has_wasm_type_and_is_immutable() {
    let dist = Dist::new();
    let reply = get(&dist, &wasm_path()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), Some("application/wasm"));
    assert_eq!(reply.cache_control(), Some(IMMUTABLE));
    assert_eq!(reply.content_encoding(), None, "nothing was accepted");
    assert_eq!(reply.body, wasm_bytes());
}

#[tokio::test]
async fn types_of_js_css_and_manifest() {
    let dist = Dist::new();
    let js = get(&dist, &format!("/keyward-{HASH}.js")).await;
    assert_eq!(js.content_type(), Some("text/javascript"));
    assert_eq!(js.cache_control(), Some(IMMUTABLE));
    assert_eq!(js.body, JS.as_bytes());

    let css = get(&dist, &format!("/style-{HASH}.css")).await;
    assert_eq!(css.content_type(), Some("text/css"));
    assert_eq!(css.cache_control(), Some(IMMUTABLE));

    let manifest = get(&dist, "/manifest.webmanifest").await;
    assert_eq!(manifest.status, StatusCode::OK);
    assert_eq!(manifest.content_type(), Some("application/manifest+json"));
    assert_eq!(manifest.cache_control(), Some(NO_CACHE));
}

#[tokio::test]
async fn wasm_is_brotli_compressed_when_accepted() {
    let dist = Dist::new();
    let reply = get_encoded(&dist, &wasm_path(), "br").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_encoding(), Some("br"));
    assert_eq!(reply.content_type(), Some("application/wasm"));
    assert_eq!(reply.cache_control(), Some(IMMUTABLE));
    assert!(reply
        .header(header::VARY)
        .unwrap()
        .contains("accept-encoding"));
    assert!(
        reply.body.len() < wasm_bytes().len() / 4,
        "{} bytes",
        reply.body.len()
    );

    let mut plain = Vec::new();
    brotli_decompressor::Decompressor::new(&reply.body[..], 4096)
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, wasm_bytes());
}

#[tokio::test]
async fn wasm_is_gzip_compressed_when_accepted() {
    let dist = Dist::new();
    let reply = get_encoded(&dist, &wasm_path(), "gzip").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_encoding(), Some("gzip"));
    assert_eq!(reply.content_type(), Some("application/wasm"));
    assert!(
        reply.body.len() < wasm_bytes().len() / 4,
        "{} bytes",
        reply.body.len()
    );

    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&reply.body[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, wasm_bytes());
}

#[tokio::test]
async fn brotli_is_preferred_with_a_browsers_accept_encoding() {
    let dist = Dist::new();
    // What Chrome sends; zstd is not enabled, so it must not be picked.
    let reply = get_encoded(
        &dist,
        &format!("/keyward-{HASH}.js"),
        "gzip, deflate, br, zstd",
    )
    .await;
    assert_eq!(reply.content_encoding(), Some("br"));
    assert_eq!(reply.content_type(), Some("text/javascript"));

    // The SPA fallback is compressed too.
    let reply = get_encoded(&dist, "/lockers/abc", "gzip").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_encoding(), Some("gzip"));
}

#[tokio::test]
async fn images_are_not_compressed_and_cached_for_an_hour() {
    let dist = Dist::new();
    let reply = get_encoded(&dist, "/icon-192.png", "gzip, br").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), Some("image/png"));
    assert_eq!(reply.content_encoding(), None);
    assert_eq!(reply.cache_control(), Some(SHORT));
    assert_eq!(reply.body, png_bytes());
}

#[tokio::test]
async fn entry_points_must_be_revalidated() {
    let dist = Dist::new();
    for path in ["/", "/index.html"] {
        let reply = get(&dist, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.content_type(), Some("text/html"), "{path}");
        assert_eq!(reply.cache_control(), Some(NO_CACHE), "{path}");
        assert_eq!(reply.body, INDEX.as_bytes(), "{path}");
    }
    let sw = get(&dist, "/sw.js").await;
    assert_eq!(sw.status, StatusCode::OK);
    assert_eq!(sw.content_type(), Some("text/javascript"));
    assert_eq!(sw.cache_control(), Some(NO_CACHE));
    assert_eq!(sw.body, SW.as_bytes());
}

#[tokio::test]
async fn snippets_are_immutable() {
    let dist = Dist::new();
    let reply = get(&dist, "/snippets/keyward-core-0a1b2c3d4e5f6789/inline0.js").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), Some("text/javascript"));
    assert_eq!(reply.cache_control(), Some(IMMUTABLE));
    assert_eq!(reply.body, SNIPPET.as_bytes());
}

#[tokio::test]
async fn client_routes_get_index_html() {
    let dist = Dist::new();
    for path in [
        "/lockers/abc",
        "/lockers/018f2c3e-7b1a-7c44-9d2e-5f0a1b2c3d4e/issue",
        "/people",
        "/people/",
        // Label URLs as a phone's camera opens them: in capitals, as printed in the QR code.
        "/L/ABCDEFGHJK",
        "/K/K7M2P9Q",
        "/l/abcdefghjk",
    ] {
        let reply = get(&dist, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.content_type(), Some("text/html"), "{path}");
        assert_eq!(reply.cache_control(), Some(NO_CACHE), "{path}");
        assert_eq!(reply.body, INDEX.as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn missing_files_are_404() {
    let dist = Dist::new();
    for path in [
        "/missing.js",
        "/lockers/missing.wasm",
        "/snippets/nope/inline0.js",
    ] {
        let reply = get(&dist, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_ne!(reply.body, INDEX.as_bytes(), "{path}");
        assert_eq!(reply.cache_control(), Some(NO_CACHE), "{path}");
    }
}

#[tokio::test]
async fn api_paths_never_fall_back_to_index_html() {
    let dist = Dist::new();
    for path in ["/api", "/api/", "/api/anything", "/api/events/since/42"] {
        let reply = get(&dist, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.content_type(), Some("application/json"), "{path}");
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert!(body["error"].as_str().unwrap().ends_with('.'), "{path}");
    }
    let post = request(dist.app().await, Method::POST, "/api/events", None).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(post.content_type(), Some("application/json"));
}

#[tokio::test]
async fn head_works() {
    let dist = Dist::new();
    let reply = request(dist.app().await, Method::HEAD, &wasm_path(), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), Some("application/wasm"));
    assert_eq!(reply.cache_control(), Some(IMMUTABLE));
    let length = wasm_bytes().len().to_string();
    assert_eq!(reply.header(header::CONTENT_LENGTH), Some(length.as_str()));
    assert!(reply.body.is_empty());

    let route = request(dist.app().await, Method::HEAD, "/lockers/abc", None).await;
    assert_eq!(route.status, StatusCode::OK);
    assert_eq!(route.content_type(), Some("text/html"));
    assert_eq!(route.cache_control(), Some(NO_CACHE));
    assert!(route.body.is_empty());
}

#[tokio::test]
async fn nosniff_everywhere() {
    let dist = Dist::new();
    for path in [
        "/",
        &wasm_path(),
        "/icon-192.png",
        "/lockers/abc",
        "/missing.js",
        "/api/x",
    ] {
        let reply = get(&dist, path).await;
        assert_eq!(
            reply.header(header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn api_routes_can_sit_beside_the_static_files() {
    let dist = Dist::new();
    let api = Router::new().route("/api/ping", axum::routing::get(|| async { "pong" }));
    let app = api.merge(dist.app().await);

    let ping = request(app.clone(), Method::GET, "/api/ping", None).await;
    assert_eq!(ping.status, StatusCode::OK);
    assert_eq!(ping.body, b"pong");
    let other = request(app.clone(), Method::GET, "/api/other", None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let route = request(app, Method::GET, "/people", None).await;
    assert_eq!(route.body, INDEX.as_bytes());
}

#[tokio::test]
async fn other_methods_are_not_allowed() {
    let dist = Dist::new();
    let reply = request(dist.app().await, Method::POST, "/index.html", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn prepare_requires_a_built_pwa_and_creates_the_data_folder() {
    let empty = tempfile::tempdir().unwrap();
    let config = Config {
        app: AppFiles::Folder(empty.path().join("dist")),
        data: empty.path().join("data"),
        database_url: None,
        limits: Default::default(),
    };
    let err = config.prepare().unwrap_err();
    assert!(matches!(err, StartError::PwaNotBuilt { .. }));
    let message = err.to_string();
    assert!(message.contains("index.html"), "{message}");
    assert!(message.contains("cargo xtask run"), "{message}");
    assert!(
        !config.data.exists(),
        "nothing is created when refusing to start"
    );

    let dist = Dist::new();
    let config = Config {
        app: AppFiles::Folder(dist.path().to_owned()),
        data: dist.path().join("state/data"),
        database_url: None,
        limits: Default::default(),
    };
    config.prepare().unwrap();
    assert!(config.data.is_dir());
}

#[tokio::test]
async fn serves_over_a_real_socket_and_shuts_down() {
    let dist = Dist::new();
    let config = dist.config();
    config.prepare().unwrap();
    let store = config.open_store().await.unwrap();
    assert!(config.data.join(keyward_server::SQLITE_FILE).is_file());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve(listener, &config, store, async {
            let _ = stopped.await;
        })
        .await
    });

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /lockers/abc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("\r\ncache-control: no-cache\r\n"),
        "{response}"
    );
    assert!(
        lower.contains("\r\nx-content-type-options: nosniff\r\n"),
        "{response}"
    );
    assert!(response.ends_with(INDEX), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown in time")
        .unwrap()
        .unwrap();
}

/// Folders in the build (wasm-bindgen's `snippets/` is one) made ServeDir redirect
/// `//x` to `//x/`, which a browser reads as the host `x`.
#[tokio::test]
async fn no_redirect_leaves_the_site() {
    let dist = Dist::new();
    for folder in ["x", "evil.example", "snippets/inner"] {
        std::fs::create_dir_all(dist.path().join(folder)).unwrap();
    }
    for path in [
        "//x",
        "///x",
        "//evil.example",
        "//evil.example/",
        "///evil.example",
        "//snippets",
        "/x",
        "/snippets",
        "/snippets/inner",
        "/x?next=//evil.example",
    ] {
        for method in [Method::GET, Method::HEAD] {
            let reply = request(dist.app().await, method.clone(), path, None).await;
            assert!(
                !reply.status.is_redirection(),
                "{method} {path}: {}",
                reply.status
            );
            assert_eq!(reply.header(header::LOCATION), None, "{method} {path}");
        }
    }
    // A folder is a path of the app like any other: the page, to be routed by the app.
    let folder = get(&dist, "//x").await;
    assert_eq!(folder.status, StatusCode::OK);
    assert_eq!(folder.body, INDEX.as_bytes());
    // Leading slashes are one: the same files as without.
    let wasm = get(&dist, &format!("//{}", &wasm_path()[1..])).await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.content_type(), Some("application/wasm"));
    assert_eq!(wasm.cache_control(), Some(IMMUTABLE));
}

const SECURITY: [(&str, &str); 5] = [
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "camera=(self), microphone=(), geolocation=(), payment=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
];

/// The policy the app runs under, with `scripts` the `'sha256-…'` sources of its page.
fn expected_policy(scripts: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{scripts}; style-src 'self'; \
         img-src 'self' data: blob:; connect-src 'self'; \
         worker-src 'self' blob:; media-src 'self' blob:; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
}

#[tokio::test]
async fn security_headers_on_every_answer() {
    let dist = Dist::new();
    for path in [
        "/",
        "/lockers/abc",
        &wasm_path(),
        &format!("/style-{HASH}.css"),
        "/missing.js",
        "/api/me",
        "/api/nothing-here",
    ] {
        let reply = get(&dist, path).await;
        for (name, value) in SECURITY {
            assert_eq!(
                reply.headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name} on {path}"
            );
        }
        assert_eq!(
            reply.header(header::CONTENT_SECURITY_POLICY),
            Some(expected_policy("").as_str()),
            "{path}"
        );
    }
}

/// Trunk loads the app with an inline module script: the policy allows exactly that
/// script, by hash, and follows a new build of `index.html` without a restart.
#[tokio::test]
async fn policy_allows_the_pages_inline_script_by_hash() {
    use sha2::Digest;
    let hash = |text: &str| {
        use base64::Engine;
        let digest = sha2::Sha256::digest(text.as_bytes());
        format!(
            " 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    let page = |script: &str| {
        format!(
            "<!DOCTYPE html><html><head><link rel=\"modulepreload\" href=\"/keyward-{HASH}.js\">\
             </head><body><p id=\"boot\">Opening Keyward…</p>\n<script type=\"module\">{script}</script>\
             </body></html>"
        )
    };
    let first = format!(
        "\nimport init, * as bindings from '/keyward-{HASH}.js';\n\
         const wasm = await init({{ module_or_path: '/keyward-{HASH}_bg.wasm' }});\n"
    );
    let dist = Dist::new();
    std::fs::write(dist.path().join("index.html"), page(&first)).unwrap();
    let app = dist.app().await;
    for path in ["/", "/people", &wasm_path(), "/api/me"] {
        let reply = request(app.clone(), Method::GET, path, None).await;
        assert_eq!(
            reply.header(header::CONTENT_SECURITY_POLICY),
            Some(expected_policy(&hash(&first)).as_str()),
            "{path}"
        );
    }

    // A new build while the server runs: the next page sent carries the new hash.
    let second = first.replace("bindings", "exports");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dist.path().join("index.html"), page(&second) + "\n").unwrap();
    let reply = request(app.clone(), Method::GET, "/", None).await;
    assert_eq!(
        reply.header(header::CONTENT_SECURITY_POLICY),
        Some(expected_policy(&hash(&second)).as_str())
    );
}

/// The files built into the binary are served exactly as the same files in a folder: every
/// path (files, a folder, client routes, missing files, the API), method and encoding gives
/// the same status, headers that matter and body.
#[tokio::test]
async fn files_in_memory_are_served_as_the_folder_serves_them() {
    let dist = Dist::new();
    std::fs::create_dir_all(dist.path().join("x")).unwrap();
    std::fs::write(dist.path().join("icon-192.png"), png_bytes()).unwrap();
    let folder = Dist::app_of(dist.config()).await;
    let memory = Dist::app_of(dist.memory_config()).await;
    let paths = [
        "/".to_string(),
        "/index.html".to_string(),
        "/sw.js".to_string(),
        "/manifest.webmanifest".to_string(),
        wasm_path(),
        format!("/keyward-{HASH}.js"),
        format!("/style-{HASH}.css"),
        "/snippets/keyward-core-0a1b2c3d4e5f6789/inline0.js".to_string(),
        "/icon-192.png".to_string(),
        "/lockers/abc/issue".to_string(),
        "/people/".to_string(),
        "/x".to_string(),
        "//evil.example/".to_string(),
        "/missing.js".to_string(),
        "/api/nothing-here".to_string(),
        "/%6Banifest.webmanifest".to_string(),
    ];
    let compared = [
        header::CONTENT_TYPE,
        header::CACHE_CONTROL,
        header::CONTENT_ENCODING,
        header::CONTENT_SECURITY_POLICY,
        header::X_CONTENT_TYPE_OPTIONS,
        header::LOCATION,
    ];
    for path in &paths {
        for method in [Method::GET, Method::HEAD, Method::POST] {
            for accept in [None, Some("br"), Some("gzip, deflate, br, zstd")] {
                let a = request(folder.clone(), method.clone(), path, accept).await;
                let b = request(memory.clone(), method.clone(), path, accept).await;
                let what = format!("{method} {path} accepting {accept:?}");
                assert_eq!(a.status, b.status, "{what}");
                for name in &compared {
                    assert_eq!(
                        a.header(name.clone()),
                        b.header(name.clone()),
                        "{name} of {what}"
                    );
                }
                assert_eq!(a.decoded(), b.decoded(), "body of {what}");
            }
        }
    }
}

/// Files in memory carry a strong `ETag`: a browser revalidating `sw.js` or the page gets
/// a 304 with no body while nothing changed.
#[tokio::test]
async fn files_in_memory_answer_revalidation_with_304() {
    let dist = Dist::new();
    let memory = Dist::app_of(dist.memory_config()).await;
    let first = request(memory.clone(), Method::GET, "/sw.js", None).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header(header::ETAG).unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    let again = |tag: &str| {
        Request::builder()
            .uri("/sw.js")
            .header(header::IF_NONE_MATCH, tag)
            .body(Body::empty())
            .unwrap()
    };
    let res = memory.clone().oneshot(again(&etag)).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[header::CACHE_CONTROL], NO_CACHE);
    assert!(res
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .is_empty());
    let res = memory.oneshot(again("\"0000\"")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
