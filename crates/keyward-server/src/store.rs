//! The server's storage: one `sqlx::Any` pool over embedded SQLite (the default, a file
//! `keyward.db` in the data folder) or PostgreSQL (`DATABASE_URL`). Every query is written once,
//! in the SQL both understand (`$1` parameters, `BIGINT` Unix milliseconds, `TEXT` ids), so one
//! code path serves both.
//!
//! Besides the pool a [`Store`] keeps what one server process may keep in memory without
//! harm: each site's folded [`Register`] (always caught up from the database inside the push's
//! lock, so several processes over one PostgreSQL stay correct) and the channels that tell open
//! `/api/stream`s about a new head.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use keyward_core::{Register, SiteId};

use crate::settings::Limits;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use tokio::sync::watch;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How often open streams look at the database for pushes made through another process.
pub const HEAD_POLL: Duration = Duration::from_secs(2);
/// How long a SQLite writer waits for another's lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// Which database the store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// From a database URL's scheme.
    pub fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}

/// The URL of the SQLite file `path`, created on first use.
pub fn sqlite_url(path: &std::path::Path) -> String {
    let mut text = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => text.push_str("%25"),
            '?' => text.push_str("%3F"),
            '#' => text.push_str("%23"),
            c => text.push(c),
        }
    }
    format!("sqlite://{text}?mode=rwc")
}

/// A URL safe to print: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                url.to_string()
            }
        }
        None => url.to_string(),
    }
}

/// A site's register as folded from its events `1..=pos`.
#[derive(Default)]
pub(crate) struct Cached {
    pub pos: u64,
    pub register: Register,
    /// Set while a push changes `register`; a push that did not commit (an error, or a
    /// dropped request) leaves it set, and the next push folds the site afresh.
    pub dirty: bool,
}

/// The database pool plus the per-process caches; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    limits: Limits,
    /// Sign-in's hashing queue and failure-record upkeep (per process).
    sign_in: crate::api::accounts::SignInGuards,
    backend: Backend,
    registers: Mutex<HashMap<SiteId, Arc<tokio::sync::Mutex<Cached>>>>,
    heads: Mutex<HashMap<SiteId, watch::Sender<u64>>>,
    poller: AtomicBool,
    closing: watch::Sender<bool>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and brings its schema up to date,
    /// with the default [`Limits`].
    pub async fn open(url: &str) -> Result<Store, sqlx::Error> {
        Store::open_with(url, Limits::default()).await
    }

    /// Connects to `url` and brings its schema up to date, enforcing `limits`.
    pub async fn open_with(url: &str, limits: Limits) -> Result<Store, sqlx::Error> {
        let backend = Backend::of_url(url).ok_or_else(|| {
            sqlx::Error::Configuration(
                "the database URL must start with sqlite:// or postgres://".into(),
            )
        })?;
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions = url.parse()?;
        // One connection first: its error ("connection refused", "database does not exist")
        // says more than the pool's timeout would.
        sqlx::AnyConnection::connect_with(&options)
            .await?
            .close()
            .await?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 10,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(&*format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Store {
            inner: Arc::new(Inner {
                pool,
                sign_in: crate::api::accounts::SignInGuards::new(&limits),
                limits,
                backend,
                registers: Mutex::new(HashMap::new()),
                heads: Mutex::new(HashMap::new()),
                poller: AtomicBool::new(false),
                closing: watch::Sender::new(false),
            }),
        })
    }

    /// The pool, for tools and tests that look at the tables directly.
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// The limits this server enforces.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Sign-in's hashing queue and failure-record upkeep.
    pub fn sign_in_guards(&self) -> &crate::api::accounts::SignInGuards {
        &self.inner.sign_in
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Ends every open `/api/stream`, so a graceful shutdown does not wait for them.
    pub fn close_streams(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.close_streams();
        self.inner.pool.close().await;
    }

    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// The site's cached register; lock it for the whole of a push.
    pub(crate) fn register(&self, site: SiteId) -> Arc<tokio::sync::Mutex<Cached>> {
        let mut map = self
            .inner
            .registers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(site).or_default().clone()
    }

    /// Tells this process's streams of the site about a head (heads only grow).
    pub(crate) fn announce(&self, site: SiteId, head: u64) {
        let map = self.inner.heads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = map.get(&site) {
            sender.send_if_modified(|h| {
                let newer = head > *h;
                if newer {
                    *h = head;
                }
                newer
            });
        }
    }

    /// A receiver of the site's head, starting at `head` (or later); starts the poller that
    /// notices pushes made through other processes.
    pub(crate) fn subscribe(&self, site: SiteId, head: u64) -> watch::Receiver<u64> {
        let receiver = {
            let mut map = self.inner.heads.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(site)
                .or_insert_with(|| watch::Sender::new(head))
                .subscribe()
        };
        self.announce(site, head);
        if !self.inner.poller.swap(true, Ordering::AcqRel) {
            tokio::spawn(poll_heads(Arc::downgrade(&self.inner)));
        }
        receiver
    }
}

/// Every [`HEAD_POLL`], reads the heads of the sites that have open streams; stops when the
/// store is dropped.
async fn poll_heads(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(HEAD_POLL).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let store = Store { inner };
        let sites: Vec<SiteId> = {
            let mut map = store.inner.heads.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, sender| sender.receiver_count() > 0);
            map.keys().copied().collect()
        };
        for site in sites {
            if let Ok(head) = crate::api::sync::site_head(store.pool(), site).await {
                store.announce(site, head);
            }
        }
    }
}
