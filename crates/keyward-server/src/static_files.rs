//! Serving trunk's `dist/` folder.
//!
//! Three things matter for an offline-first PWA beyond "send the file":
//!
//! - **Cache rules.** Trunk puts a content hash in the names of the app's JS,
//!   wasm and CSS, so those can be cached forever. The files that *name* them
//!   (`index.html`) and the service worker and manifest (which the browser
//!   checks for updates) must always be revalidated, or a new release would
//!   never be seen. Everything else (icons…) gets a short lifetime.
//! - **SPA fallback.** Client-side routes such as `/lockers/<id>/issue` are not
//!   files; a reload or a shared link must still get `index.html`. Only paths
//!   without a file extension fall back, so a missing asset is a real 404
//!   instead of HTML that the browser would try to run as JS or wasm.
//! - **Types.** `ServeDir` guesses from the extension (`application/wasm`,
//!   `text/javascript`, `application/manifest+json`); wasm streaming
//!   compilation requires the exact wasm type.
//! - **No redirects.** `ServeDir` answers a folder without a trailing slash
//!   with a redirect to the same path plus `/`; for `//host` that `Location`
//!   (`//host/`) is another site to a browser. Leading slashes are collapsed
//!   to one before serving, and a folder is answered as any path that is not a
//!   file (the SPA's `index.html` or a 404), so no answer here has a `Location`.

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use tower::{Service, ServiceExt};
use tower_http::services::{ServeDir, ServeFile};

use crate::app_files::{AppFiles, File, Files};

/// Must be revalidated on every use (a cheap 304 thanks to `Last-Modified`).
pub const NO_CACHE: &str = "no-cache";
/// For content-hashed files: a new build gives them a new name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For unhashed, rarely changing files such as icons.
pub const SHORT: &str = "public, max-age=3600";

/// The static-file service, meant as the app router's fallback.
///
/// Answers every method: `GET`/`HEAD` are served, others get 405; anything under
/// `/api` gets 404 without touching the disk.
pub fn service(app: &AppFiles) -> MethodRouter {
    match app {
        AppFiles::Folder(dist) => folder_service(dist),
        AppFiles::Memory(files) => {
            let files = files.clone();
            any(move |req: Request| serve_memory(files.clone(), req))
        }
    }
}

/// Files from a folder, through `ServeDir`.
fn folder_service(dist: &Path) -> MethodRouter {
    let fallback = SpaFallback {
        index: ServeFile::new(dist.join("index.html")),
    };
    let files = ServeDir::new(dist)
        .append_index_html_on_directories(true)
        .fallback(fallback.clone());
    any(move |req: Request| serve(files.clone(), fallback.clone(), req))
}

async fn serve(files: ServeDir<SpaFallback>, fallback: SpaFallback, mut req: Request) -> Response {
    if let Some(uri) = single_leading_slash(req.uri()) {
        *req.uri_mut() = uri;
    }
    let path = req.uri().path().to_owned();
    if is_api(&path) {
        return not_found();
    }
    // Kept to answer a folder as a missing file (only GET and HEAD reach the disk).
    let mut copy = Request::new(Body::empty());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.headers_mut() = req.headers().clone();
    let Ok(res) = files.oneshot(req).await;
    let mut res = res.map(Body::new);
    if res.status().is_redirection() {
        // ServeDir only redirects a folder to add a slash: not a page of the app.
        let Ok(answer) = fallback.oneshot(copy).await;
        res = answer;
    }
    // The SPA fallback sets its own header; its request path says nothing about
    // the file actually sent.
    if !res.headers().contains_key(CACHE_CONTROL) {
        let value = cache_control(&path, res.status());
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Files held in memory, by the same rules as a folder: a file, a folder's `index.html`,
/// the SPA's `index.html` for a client route, else 404; `If-None-Match` answered with 304.
async fn serve_memory(files: Arc<Files>, req: Request) -> Response {
    let mut res = memory_response(&files, &req);
    if !res.headers().contains_key(CACHE_CONTROL) {
        let value = cache_control(req.uri().path(), res.status());
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

fn memory_response(files: &Files, req: &Request) -> Response {
    let uri = single_leading_slash(req.uri()).unwrap_or_else(|| req.uri().clone());
    let path = uri.path();
    if is_api(path) {
        return not_found();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut res = StatusCode::METHOD_NOT_ALLOWED.into_response();
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET,HEAD"));
        return res;
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut name = decoded.trim_start_matches('/').to_string();
    if name.is_empty() || name.ends_with('/') {
        name.push_str("index.html");
    }
    let (file, cache) = match files.get(&name) {
        Some(file) => (file, cache_control(path, StatusCode::OK)),
        None if is_client_route(path) => match files.get("index.html") {
            Some(index) => (index, NO_CACHE),
            None => return not_found(),
        },
        None => return not_found(),
    };
    memory_answer(file, cache, req)
}

fn memory_answer(file: &File, cache: &'static str, req: &Request) -> Response {
    let fresh = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| matches!(tag.trim(), "*") || tag.trim() == file.etag);
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else if req.method() == Method::HEAD {
        (StatusCode::OK, Body::empty())
    } else {
        (StatusCode::OK, Body::from(file.data.clone()))
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        headers.insert(ETAG, etag);
    }
    if status == StatusCode::OK {
        if let Ok(mime) = HeaderValue::from_str(&file.mime) {
            headers.insert(CONTENT_TYPE, mime);
        }
        headers.insert(CONTENT_LENGTH, HeaderValue::from(file.data.len()));
    }
    res
}

/// The `Cache-Control` value for a response to `path` with `status`.
///
/// `304 Not Modified` gets the same value as the `200` would, as HTTP asks.
/// Errors and redirects are never cached for long: the file may appear (a
/// build in progress) or the redirect may change.
pub fn cache_control(path: &str, status: StatusCode) -> &'static str {
    if !(status.is_success() || status == StatusCode::NOT_MODIFIED) {
        return NO_CACHE;
    }
    let name = file_name(path);
    // A path ending in `/` was answered with that folder's index.html.
    if name.is_empty()
        || matches!(path, "/sw.js" | "/manifest.webmanifest")
        || name.ends_with(".html")
    {
        NO_CACHE
    } else if path.starts_with("/snippets/") || is_hashed_file_name(name) {
        // wasm-bindgen's inline JS snippets live in folders named after a hash
        // of their crate, so their URLs change whenever they do.
        IMMUTABLE
    } else {
        SHORT
    }
}

/// Whether `name` carries trunk's content hash: `<stem>-<hash>.<ext>` or
/// `<stem>-<hash>_bg.wasm`, e.g. `keyward-3f2a9c1b0e7d4a55_bg.wasm`,
/// `style-0123456789abcdef.css`.
///
/// Trunk formats the 64-bit hash with `{:x}`, which drops leading zeros, so
/// about one build in sixteen gets 15 digits; 12 to 16 lowercase hex digits are
/// accepted. The lower bound keeps names like `icon-192.png` out.
pub fn is_hashed_file_name(name: &str) -> bool {
    // Everything before the first dot, so `.js.map`-style double extensions work.
    let Some((stem, _ext)) = name.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((base, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    !base.is_empty()
        && (12..=16).contains(&hash.len())
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether a missing `path` is a client-side route that should get `index.html`.
///
/// Only extension-less paths: `/lockers/018f…/issue` is a route, `/missing.js`
/// is a missing file. `/api` is never a route of the PWA.
pub fn is_client_route(path: &str) -> bool {
    !is_api(path) && !file_name(path).contains('.')
}

/// `uri` with its leading run of slashes (and backslashes, which browsers read as
/// slashes) made one `/`, if it has such a run; `None` when it is already fine.
fn single_leading_slash(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let rest = path.trim_start_matches(['/', '\\']);
    if path.len() - rest.len() <= 1 && !path.starts_with('\\') {
        return None;
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("/{rest}?{query}"),
        None => format!("/{rest}"),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The last path segment (empty for a path ending in `/`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// `ServeDir`'s fallback for missing files: `index.html` for client-side
/// routes, 404 for everything else.
#[derive(Clone, Debug)]
struct SpaFallback {
    index: ServeFile,
}

impl Service<Request> for SpaFallback {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let index = self.index.clone();
        Box::pin(async move {
            if !is_client_route(req.uri().path()) {
                return Ok(not_found());
            }
            let Ok(mut res) = index.oneshot(req).await;
            // The same URL must pick up a new index.html after a release.
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
            Ok(res.map(Body::new))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        for name in [
            "keyward-3f2a9c1b0e7d4a55.js",
            "keyward-3f2a9c1b0e7d4a55_bg.wasm",
            "style-0123456789abcdef.css",
            "keyward-f2a9c1b0e7d4a55.js", // 15 digits: leading zero dropped
            "my-app-0123456789abcdef.js",
        ] {
            assert!(is_hashed_file_name(name), "{name}");
        }
        for name in [
            "icon-192.png",
            "index.html",
            "sw.js",
            "keyward.js",
            "keyward-0123456789ABCDEF.js",
            "keyward-0123456789abcdef",
            "-0123456789abcdef.js",
            "keyward-0123456789abcdefa.js",
            "keyward-0123456789abcdeg.js",
        ] {
            assert!(!is_hashed_file_name(name), "{name}");
        }
    }

    #[test]
    fn cache_classes() {
        let ok = StatusCode::OK;
        assert_eq!(cache_control("/", ok), NO_CACHE);
        assert_eq!(cache_control("/index.html", ok), NO_CACHE);
        assert_eq!(cache_control("/sw.js", ok), NO_CACHE);
        assert_eq!(cache_control("/manifest.webmanifest", ok), NO_CACHE);
        assert_eq!(cache_control("/snippets/x-1/inline0.js", ok), IMMUTABLE);
        assert_eq!(cache_control("/keyward-0123456789abcdef.js", ok), IMMUTABLE);
        assert_eq!(
            cache_control("/keyward-0123456789abcdef.js", StatusCode::NOT_MODIFIED),
            IMMUTABLE
        );
        assert_eq!(cache_control("/icon-192.png", ok), SHORT);
        assert_eq!(
            cache_control("/missing.js", StatusCode::NOT_FOUND),
            NO_CACHE
        );
    }

    #[test]
    fn leading_slashes_collapse() {
        let fix = |uri: &str| single_leading_slash(&uri.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(fix("//evil.example/").as_deref(), Some("/evil.example/"));
        assert_eq!(fix("///x?a=1").as_deref(), Some("/x?a=1"));
        assert_eq!(
            fix("/%5Cevil").as_deref(),
            None,
            "an encoded backslash is a name"
        );
        assert_eq!(fix("/x//y").as_deref(), None);
        assert_eq!(fix("/").as_deref(), None);
        assert_eq!(fix("/lockers/1").as_deref(), None);
    }

    #[test]
    fn client_routes() {
        assert!(is_client_route("/lockers/018f2c/issue"));
        assert!(is_client_route("/people"));
        assert!(is_client_route("/people/"));
        assert!(!is_client_route("/missing.js"));
        assert!(!is_client_route("/api"));
        assert!(!is_client_route("/api/events"));
        assert!(is_client_route("/apiary"));
    }
}
