//! Keyward's server: serves the built PWA (trunk's `dist/` folder) and the sync
//! API under `/api`.
//!
//! - [`static_files`] delivers the app's files with the right types and cache
//!   rules, so that the service worker and the browser cache behave.
//! - [`api`] is the JSON API: sites (tenants), users and sessions, and the sync
//!   protocol of `keyward_core::sync` (push, pull, a stream of the site's head).
//!   Every pushed change is judged with the same rules the app applied.
//! - [`store`] keeps it all in embedded SQLite (`keyward.db` in the data
//!   folder) or in PostgreSQL when a database URL is given; one `sqlx::Any`
//!   code path serves both, and several server processes may share one
//!   PostgreSQL database.
//! - [`serve`](mod@serve) is the serving loop: timeouts for headers, bodies,
//!   idle connections, whole requests and unread answers, and a cap on open
//!   connections; [`headers`] the security headers of every answer.
//! - [`tls`] is HTTPS: a certificate from files (read again when they change) or from a
//!   certificate authority of the server's own ([`tls::local`]) with its `/ca` page; the
//!   plain-HTTP listener that only redirects; certificates over ACME ([`tls::acme`]).
//! - [`proxy`] finds the client's address behind a trusted reverse proxy.
//! - [`health`] is `/healthz`; [`backup`] and [`check`] the operator's `backup`, `restore`
//!   and `check` ([`cli`]); [`logs`] the `tracing` set-up.
//! - [`mail`] is e-mail over SMTP, when the operator configures it: lost master keys, the
//!   daily digest of overdue keys, password resets; queued in the database, sent in the
//!   background.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use axum::middleware::from_fn_with_state;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

pub mod api;
pub mod app_files;
pub mod backup;
pub mod check;
pub mod cli;
pub mod headers;
pub mod health;
pub mod logs;
pub mod mail;
pub mod proxy;
pub mod serve;
pub mod settings;
pub mod static_files;
pub mod store;
pub mod tls;

pub use app_files::AppFiles;
pub use settings::Limits;
pub use store::Store;

/// The SQLite file's name in the data folder.
pub const SQLITE_FILE: &str = "keyward.db";

/// Where the server finds its files and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The app's files: trunk's output folder, or those built into the binary; there must
    /// be an `index.html`.
    pub app: AppFiles,
    /// Folder for server-side state: the SQLite file [`SQLITE_FILE`] unless
    /// `database_url` names another database.
    pub data: PathBuf,
    /// `postgres://…` (or `sqlite://…`); `None` for the SQLite file in `data`.
    pub database_url: Option<String>,
    /// What any client may cost the server.
    pub limits: Limits,
}

impl Config {
    /// Checks that the PWA has been built and creates the data folder.
    ///
    /// Done before binding so that a missing build is reported as a clear
    /// message instead of a server that answers every request with 404.
    pub fn prepare(&self) -> Result<(), StartError> {
        if !self.app.has_index() {
            return Err(StartError::PwaNotBuilt {
                app: self.app.describe(),
            });
        }
        std::fs::create_dir_all(&self.data).map_err(|source| StartError::DataDir {
            data: self.data.clone(),
            source,
        })
    }

    /// The database to use: `database_url`, else the SQLite file in `data`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => store::sqlite_url(&self.data.join(SQLITE_FILE)),
        }
    }

    /// Opens the database (creating the SQLite file on first run) and brings
    /// its schema up to date.
    pub async fn open_store(&self) -> Result<Store, StartError> {
        let url = self.database_url();
        Store::open_with(&url, self.limits.clone())
            .await
            .map_err(|source| StartError::Database {
                url: store::redact(&url),
                source,
            })
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// There is no `index.html`: the PWA was not built (or `--dist` is wrong).
    PwaNotBuilt { app: String },
    /// The data folder could not be created.
    DataDir { data: PathBuf, source: io::Error },
    /// The database could not be opened or migrated.
    Database { url: String, source: sqlx::Error },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PwaNotBuilt { app } => write!(
                f,
                "no index.html in {app}: build the PWA first (`cargo xtask run` builds it), \
                 or point --dist at trunk's output folder"
            ),
            StartError::DataDir { data, source } => {
                write!(f, "cannot create the data folder {}: {source}", show(data))
            }
            StartError::Database { url, source } => {
                write!(f, "cannot open the database {url}: {source}")
            }
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::PwaNotBuilt { .. } => None,
            StartError::DataDir { source, .. } => Some(source),
            StartError::Database { source, .. } => Some(source),
        }
    }
}

/// Quotes a path for messages; an absolute path helps when the relative default
/// (`dist`) was resolved against an unexpected working directory.
pub(crate) fn show(path: &Path) -> String {
    match std::path::absolute(path) {
        Ok(abs) => format!("`{}`", abs.display()),
        Err(_) => format!("`{}`", path.display()),
    }
}

/// The whole HTTP application: the API routes of [`api::router`] in front,
/// the static files as the router's *fallback*.
///
/// Unknown `/api/...` paths get a JSON 404 from the API router (never the SPA's
/// `index.html`, which would confuse API clients). The layers apply to both:
/// answers are compressed (but not the event stream), every request is timed
/// ([`serve::request_deadline`], [`serve::body_deadline`], from
/// `config.limits`) and every answer gets the security headers of [`headers`].
pub fn app(config: &Config, store: Store) -> Router {
    app_with(config, store, None)
}

/// [`app`], with `extra` routes (the local CA's page) before the static files.
pub fn app_with(config: &Config, store: Store, extra: Option<Router>) -> Router {
    let routes = api::router(store.clone()).merge(health::router(store));
    let routes = match extra {
        Some(extra) => routes.merge(extra),
        None => routes,
    };
    with_layers(
        routes.fallback_service(static_files::service(&config.app)),
        config,
    )
}

/// `routes` wrapped in the layers [`app`] has: deadlines, compression and security
/// headers (the policy from `config.app`'s `index.html`).
pub fn with_layers(routes: Router, config: &Config) -> Router {
    let limits = &config.limits;
    routes
        .layer(from_fn_with_state(
            limits.body_timeout,
            serve::body_deadline,
        ))
        .layer(from_fn_with_state(
            limits.request_timeout,
            serve::request_deadline,
        ))
        // Default predicate: compresses everything above 32 bytes except images
        // (already compressed), gRPC and SSE; `application/wasm` is included.
        // Brotli is chosen over gzip when the client accepts both.
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(
            headers::SecurityHeaders::new(&config.app),
            headers::set,
        ))
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then ends the open
/// event streams and lets in-flight requests finish.
///
/// Takes a bound listener (rather than an address) so callers can bind port 0
/// and learn the real port before serving. Connections are bounded as
/// [`serve`](mod@serve) describes, under `config.limits`; each request carries the
/// client's address as `axum::extract::ConnectInfo<SocketAddr>`.
pub async fn serve<F>(
    listener: TcpListener,
    config: &Config,
    store: Store,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let closer = store.clone();
    serve::run(
        listener,
        app(config, store),
        &config.limits,
        shutdown,
        move || closer.close_streams(),
    )
    .await
}

/// How [`serve_https`] serves.
#[derive(Debug, Clone)]
pub struct Https {
    /// The certificate and rustls's configuration.
    pub tls: tls::Tls,
    /// The local CA's page (`/ca`, `/ca.pem`), when the certificate is the local CA's.
    pub ca_page: Option<std::sync::Arc<tls::page::CaPage>>,
}

/// Serves [`app`] over HTTPS on `listener` and, when `redirect` is given, plain HTTP on it
/// that answers every request with a 308 to the HTTPS address (but the local CA's page),
/// until `shutdown` resolves; then as [`serve()`].
pub async fn serve_https<F>(
    listener: TcpListener,
    redirect: Option<TcpListener>,
    https: Https,
    config: &Config,
    store: Store,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    use futures_util::FutureExt;
    let https_port = listener.local_addr()?.port();
    let shutdown = shutdown.shared();
    let page = https.ca_page.clone().map(tls::page::routes);
    let closer = store.clone();
    let secure = serve::run_with(
        listener,
        app_with(config, store, page.clone()),
        Some(https.tls),
        &config.limits,
        shutdown.clone(),
        move || closer.close_streams(),
    );
    let Some(redirect) = redirect else {
        return secure.await;
    };
    let plain = serve::run_with(
        redirect,
        with_layers(tls::redirect_router(https_port, page), config),
        None,
        &config.limits,
        shutdown,
        || {},
    );
    let (secure, plain) = tokio::join!(secure, plain);
    secure.and(plain)
}
