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
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use keyward_core::sync::Times;
use keyward_core::{Change, DeviceId, Event};

use keyward_core::{Register, SiteId};

use crate::settings::Limits;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor};
use tokio::sync::watch;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// This server's migrations for `backend` (what `backup` and `check` compare a database with).
pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

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

/// A site's register as folded from its events `1..=pos`, with what the server needs to judge
/// the times of new events.
#[derive(Default)]
pub(crate) struct Cached {
    pub pos: u64,
    pub register: Register,
    /// Set while a push changes `register`; a push that did not commit (an error, a dropped
    /// request, or another process storing first) leaves it set, and the next push folds the
    /// site afresh.
    pub dirty: bool,
    /// The site's creation time and each device's latest event time.
    pub site_since: Option<DateTime<Utc>>,
    pub device_last: HashMap<DeviceId, DateTime<Utc>>,
    /// The bytes of the events folded: the estimate of this register's memory.
    pub bytes: usize,
}

impl Cached {
    /// Folds one stored event in.
    pub fn fold(&mut self, event: &Event, body_len: usize) {
        self.register.apply(event);
        if matches!(event.change, Change::SiteCreated { .. }) {
            self.site_since.get_or_insert(event.at);
        }
        let last = self.device_last.entry(event.device).or_insert(event.at);
        *last = (*last).max(event.at);
        self.bytes += body_len + EVENT_OVERHEAD;
    }

    /// What [`check_time`](keyward_core::sync::check_time) needs for an event of `device`.
    pub fn times(&self, device: DeviceId) -> Times {
        Times {
            site_since: self.site_since,
            device_last: self.device_last.get(&device).copied(),
        }
    }
}

/// Memory a folded event costs beyond its JSON, in the cache's estimate.
const EVENT_OVERHEAD: usize = 256;

/// A site's slot in the cache: its register and when and how big it was last seen.
struct Slot {
    cached: Arc<tokio::sync::Mutex<Cached>>,
    bytes: usize,
    used: Instant,
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
    registers: Mutex<HashMap<SiteId, Slot>>,
    heads: Mutex<HashMap<SiteId, watch::Sender<u64>>>,
    poller: AtomicBool,
    closing: watch::Sender<bool>,
    /// The mail settings and sender, when the operator configured SMTP.
    mail: std::sync::OnceLock<Arc<crate::mail::Mailer>>,
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
                mail: std::sync::OnceLock::new(),
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

    /// The mail settings and sender, `None` when no SMTP server is configured.
    pub fn mail(&self) -> Option<&Arc<crate::mail::Mailer>> {
        self.inner.mail.get()
    }

    /// Keeps the mail settings ([`crate::mail::start`]); `false` when set already.
    pub(crate) fn set_mail(&self, mailer: Arc<crate::mail::Mailer>) -> bool {
        self.inner.mail.set(mailer).is_ok()
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
        let slot = map.entry(site).or_insert_with(|| Slot {
            cached: Arc::default(),
            bytes: 0,
            used: Instant::now(),
        });
        slot.used = Instant::now();
        slot.cached.clone()
    }

    /// Records the size of a site's register after a push, then drops idle sites' registers
    /// (unused for [`Limits::cache_idle`]) and, while all of them together are estimated above
    /// [`Limits::cache_bytes`], the least recently used ones. A register in use is never
    /// dropped; a dropped one is folded again from the database by the next push.
    pub(crate) fn settle(&self, site: SiteId, bytes: usize) {
        let limits = &self.inner.limits;
        let mut map = self
            .inner
            .registers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = map.get_mut(&site) {
            slot.bytes = bytes;
            slot.used = Instant::now();
        }
        let idle = |slot: &Slot| Arc::strong_count(&slot.cached) == 1;
        map.retain(|_, slot| !(idle(slot) && slot.used.elapsed() > limits.cache_idle));
        let mut total: usize = map.values().map(|slot| slot.bytes).sum();
        if total <= limits.cache_bytes {
            return;
        }
        let mut by_age: Vec<(Instant, SiteId)> = map
            .iter()
            .filter(|(_, slot)| idle(slot))
            .map(|(id, slot)| (slot.used, *id))
            .collect();
        by_age.sort();
        for (_, id) in by_age {
            if total <= limits.cache_bytes {
                break;
            }
            if let Some(slot) = map.remove(&id) {
                total -= slot.bytes;
            }
        }
    }

    /// The sites whose registers this process holds in memory (for tests and diagnostics).
    pub fn cached_sites(&self) -> Vec<SiteId> {
        let map = self
            .inner
            .registers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.keys().copied().collect()
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
