//! Keyward's server: serves the built PWA (trunk's `dist/` folder) and, in a
//! later issue, the sync API under `/api`.
//!
//! The PWA works offline on its own; this server only has to deliver its files
//! with the right types and cache rules (see [`static_files`]) so that the
//! service worker and the browser cache behave.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use axum::http::header::{HeaderValue, X_CONTENT_TYPE_OPTIONS};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub mod static_files;

/// Where the server finds its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Trunk's output folder; must contain `index.html`.
    pub dist: PathBuf,
    /// Folder for server-side state. Only created for now; the sync issue puts
    /// the SQLite file here.
    pub data: PathBuf,
}

impl Config {
    /// Checks that the PWA has been built and creates the data folder.
    ///
    /// Done before binding so that a missing build is reported as a clear
    /// message instead of a server that answers every request with 404.
    pub fn prepare(&self) -> Result<(), StartError> {
        if !self.dist.join("index.html").is_file() {
            return Err(StartError::PwaNotBuilt {
                dist: self.dist.clone(),
            });
        }
        std::fs::create_dir_all(&self.data).map_err(|source| StartError::DataDir {
            data: self.data.clone(),
            source,
        })
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// `dist` has no `index.html`: the PWA was not built (or `--dist` is wrong).
    PwaNotBuilt { dist: PathBuf },
    /// The data folder could not be created.
    DataDir { data: PathBuf, source: io::Error },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PwaNotBuilt { dist } => write!(
                f,
                "no index.html in {}: build the PWA first (`cargo xtask run` builds it), \
                 or point --dist at trunk's output folder",
                show(dist)
            ),
            StartError::DataDir { data, source } => {
                write!(f, "cannot create the data folder {}: {source}", show(data))
            }
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::PwaNotBuilt { .. } => None,
            StartError::DataDir { source, .. } => Some(source),
        }
    }
}

/// Quotes a path for messages; an absolute path helps when the relative default
/// (`dist`) was resolved against an unexpected working directory.
fn show(path: &Path) -> String {
    match std::path::absolute(path) {
        Ok(abs) => format!("`{}`", abs.display()),
        Err(_) => format!("`{}`", path.display()),
    }
}

/// The whole HTTP application.
///
/// Static files are the router's *fallback*, so API routes can be added in
/// front of them without touching the static side. The sync API goes here,
/// before the layers so that it is compressed and gets `nosniff` too:
///
/// ```text
/// Router::new()
///     .nest("/api", api::router(config))
///     .fallback_service(static_files::service(&config.dist))
/// ```
///
/// Unmatched `/api/...` paths reach the fallback, which answers 404 for them
/// (never the SPA's `index.html`, which would confuse API clients).
pub fn app(config: &Config) -> Router {
    Router::new()
        .fallback_service(static_files::service(&config.dist))
        // Default predicate: compresses everything above 32 bytes except images
        // (already compressed), gRPC and SSE; `application/wasm` is included.
        // Brotli is chosen over gzip when the client accepts both.
        .layer(CompressionLayer::new())
        // Stops browsers from guessing a type other than the one we send (e.g.
        // running an uploaded-looking file as script).
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish.
///
/// Takes a bound listener (rather than an address) so callers can bind port 0
/// and learn the real port before serving.
pub async fn serve<F>(listener: TcpListener, config: &Config, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, app(config))
        .with_graceful_shutdown(shutdown)
        .await
}
