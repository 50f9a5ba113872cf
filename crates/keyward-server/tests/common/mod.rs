//! Shared by the API tests: a fresh database per test on either backend, a client over the
//! router, and devices that record events the way the app does (execute, apply, queue).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use keyward_core::sync::{Logged, Numbered, PullResponse, PushRequest, PushResponse, Session};
use keyward_core::*;
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::{app, Config, Limits, Store};
use serde_json::{json, Value};
use sqlx::Connection;
use tempfile::TempDir;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test: a SQLite file in a temp folder, or a PostgreSQL
/// database `keyward_t_<random>` made on the server named by `KEYWARD_TEST_PG` and dropped
/// when the test ends. A PostgreSQL test fails (never skips) when the server is down.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: TempDir,
    pg: Option<(String, String)>,
}

pub fn pg_admin_url() -> String {
    std::env::var("KEYWARD_TEST_PG")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..host_end])
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => TestDb {
                backend,
                url: keyward_server::store::sqlite_url(&dir.path().join("keyward.db")),
                dir,
                pg: None,
            },
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).unwrap();
                let name = format!("keyward_t_{}", hex::encode(bytes));
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL at {admin} (KEYWARD_TEST_PG) is needed: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.ok();
                TestDb {
                    backend,
                    url: with_database(&admin, &name),
                    dir,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }

    pub async fn store_with(&self, limits: Limits) -> Store {
        Store::open_with(&self.url, limits).await.unwrap()
    }

    pub fn config(&self) -> Config {
        Config {
            app: keyward_server::AppFiles::Folder(self.dir.path().join("dist")),
            data: self.dir.path().join("data"),
            database_url: Some(self.url.clone()),
            limits: Default::default(),
        }
    }

    /// An app (one "server process") over this database.
    pub async fn server(&self) -> Server {
        self.server_with(Limits::default()).await
    }

    /// An app over this database enforcing `limits`.
    pub async fn server_with(&self, limits: Limits) -> Server {
        let store = self.store_with(limits.clone()).await;
        let dist: PathBuf = self.dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
        let config = Config {
            limits,
            ..self.config()
        };
        Server {
            app: app(&config, store.clone()),
            store,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Dropped inside the test's runtime: a thread of its own may block on another.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

/// One server process: its router and its store.
#[derive(Clone)]
pub struct Server {
    pub app: Router,
    pub store: Store,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{:?}", self.body))
    }
    pub fn ok<T: serde::de::DeserializeOwned>(self) -> T {
        assert!(self.status.is_success(), "{} {}", self.status, self.body);
        serde_json::from_value(self.body).unwrap()
    }
}

impl Server {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_from(None, method, path, token, body).await
    }

    /// A request as if from the client address `from` (as `ConnectInfo` gives it when the
    /// server is served with connect info); `None` is a request without it.
    pub async fn call_from(
        &self,
        from: Option<SocketAddr>,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(addr) = from {
            req = req.extension(ConnectInfo(addr));
        }
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match body {
            Some(body) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let retry_after = res
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        Reply {
            status,
            body,
            retry_after,
        }
    }

    /// The answer's head only (the body is dropped unread): for the event stream.
    pub async fn open(&self, path: &str, token: Option<&str>) -> axum::response::Response {
        let mut req = Request::builder().uri(path);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, username: &str, password: &str, device: DeviceId) -> Reply {
        self.post(
            "/api/login",
            None,
            json!({"username": username, "password": password, "device": device}),
        )
        .await
    }

    /// Signs in as if from the client address `from`.
    pub async fn login_from(
        &self,
        from: SocketAddr,
        username: &str,
        password: &str,
        device: DeviceId,
    ) -> Reply {
        self.call_from(
            Some(from),
            Method::POST,
            "/api/login",
            None,
            Some(json!({"username": username, "password": password, "device": device})),
        )
        .await
    }

    /// A fresh set-up code for a new site.
    pub async fn setup_code(&self) -> String {
        issue_setup_code(&self.store, None).await.unwrap()
    }

    /// Rows in `table`.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    pub async fn push_raw(&self, token: &str, device: DeviceId, changes: &[Numbered]) -> Reply {
        let request = PushRequest {
            device,
            changes: changes.to_vec(),
        };
        self.post(
            "/api/push",
            Some(token),
            serde_json::to_value(request).unwrap(),
        )
        .await
    }

    pub async fn push(&self, token: &str, device: DeviceId, changes: &[Numbered]) -> PushResponse {
        self.push_raw(token, device, changes).await.ok()
    }

    pub async fn pull(
        &self,
        token: &str,
        after: u64,
        since: u64,
        device: DeviceId,
    ) -> PullResponse {
        self.get(
            &format!("/api/pull?after={after}&since={since}&device={device}"),
            token,
        )
        .await
        .ok()
    }

    /// Every event of the token's site, page by page.
    pub async fn pull_all(&self, token: &str) -> Vec<Logged> {
        let mut all: Vec<Logged> = Vec::new();
        loop {
            let after = all.last().map_or(0, |l| l.pos);
            let page: PullResponse = self
                .get(&format!("/api/pull?after={after}"), token)
                .await
                .ok();
            let done = page.events.is_empty() || page.events.last().unwrap().pos >= page.head;
            all.extend(page.events);
            if done {
                return all;
            }
        }
    }

    /// Adds a user to the admin's site and signs them in on `device`.
    pub async fn user(&self, admin: &str, username: &str, role: Role, device: DeviceId) -> Session {
        let added = self
            .post(
                "/api/users",
                Some(admin),
                json!({"username": username, "name": format!("{username} person"), "role": role, "password": PASSWORD}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        self.login(username, PASSWORD, device).await.ok()
    }
}

/// A device as the app runs it: its own register, its clock and entropy, and an outbox of
/// numbered changes.
pub struct Device {
    pub id: DeviceId,
    pub register: Register,
    pub entropy: SplitMix,
    pub now: DateTime<Utc>,
    pub actor: String,
    pub next_n: u64,
    pub outbox: Vec<Numbered>,
}

impl Device {
    pub fn new(seed: u64) -> Device {
        let mut entropy = SplitMix(seed);
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let id = DeviceId::generate(now, &mut entropy);
        Device {
            id,
            register: Register::new(),
            entropy,
            now,
            actor: "Pat Caretaker".into(),
            next_n: 1,
            outbox: Vec::new(),
        }
    }

    /// Executes, applies and queues a command; panics if refused.
    pub fn run(&mut self, command: Command) -> Event {
        self.now += Duration::seconds(1);
        let mut ctx = Context {
            actor: self.actor.clone(),
            device: self.id,
            now: self.now,
            entropy: &mut self.entropy,
        };
        let event = self
            .register
            .execute(command.clone(), &mut ctx)
            .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        self.register.apply(&event);
        self.outbox.push(Numbered {
            n: self.next_n,
            event: event.clone(),
        });
        self.next_n += 1;
        event
    }

    /// Queues an event made elsewhere (e.g. one naming another device) under the next n.
    pub fn queue(&mut self, event: Event) {
        self.outbox.push(Numbered {
            n: self.next_n,
            event,
        });
        self.next_n += 1;
    }

    pub fn take(&mut self) -> Vec<Numbered> {
        std::mem::take(&mut self.outbox)
    }

    /// Folds pulled events in.
    pub fn learn(&mut self, events: &[Logged]) {
        for logged in events {
            self.register.apply(&logged.event);
        }
    }

    pub fn create_site(&mut self, name: &str) -> SiteId {
        match self.run(Command::CreateSite { name: name.into() }).change {
            Change::SiteCreated { site, .. } => site,
            c => panic!("{c:?}"),
        }
    }

    pub fn area(&mut self, site: SiteId, name: &str) -> AreaId {
        match self
            .run(Command::AddArea {
                site,
                name: name.into(),
            })
            .change
        {
            Change::AreaAdded { area, .. } => area,
            c => panic!("{c:?}"),
        }
    }

    pub fn lockers(&mut self, site: SiteId, area: AreaId, from: &str, to: &str) -> Vec<LockerId> {
        match self
            .run(Command::AddLockerRange {
                site,
                area,
                from: from.into(),
                to: to.into(),
                allow_similar: false,
            })
            .change
        {
            Change::LockersAdded { lockers, .. } => lockers.into_iter().map(|l| l.id).collect(),
            c => panic!("{c:?}"),
        }
    }

    /// Fits a keyed lock and adds `count` user keys.
    pub fn lock_with_keys(&mut self, locker: LockerId, count: u32) -> Vec<KeyId> {
        let lock = match self
            .run(Command::FitLock {
                locker,
                kind: LockKind::Keyed,
                code: "k 101".into(),
                suite: String::new(),
            })
            .change
        {
            Change::LockFitted { lock, .. } => lock,
            c => panic!("{c:?}"),
        };
        match self
            .run(Command::AddKeys {
                lock,
                kind: KeyKind::User,
                count,
                storage: "Cabinet 1".into(),
            })
            .change
        {
            Change::KeysAdded { keys, .. } => keys.into_iter().map(|k| k.id).collect(),
            c => panic!("{c:?}"),
        }
    }

    pub fn person(&mut self, site: SiteId, name: &str) -> PersonId {
        match self
            .run(Command::AddPerson {
                site,
                details: PersonDetails {
                    name: name.into(),
                    kind: PersonKind::Pupil,
                    reference: String::new(),
                    department: "Year 9".into(),
                },
            })
            .change
        {
            Change::PersonAdded { person, .. } => person,
            c => panic!("{c:?}"),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    pub fn issue(&mut self, key: KeyId, locker: LockerId, person: PersonId) -> Event {
        let date = self.today();
        self.run(Command::IssueKey {
            key,
            locker,
            holder: Holder::Person(person),
            date,
            expected_return: None,
            confirmation: Confirmation::TypedName("Sam Jones".into()),
            notes: String::new(),
            due_time: None,
        })
    }

    pub fn give_back(&mut self, key: KeyId) -> Event {
        self.run(Command::ReturnKey {
            key,
            brought_by: String::new(),
            received_by: "Pat Caretaker".into(),
            condition: Condition::Fine,
            notes: String::new(),
        })
    }
}

/// The SHA-256 of a token, as the server stores it (`sessions.token_hash`).
pub fn stored_token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.to_ascii_lowercase().as_bytes()))
}

/// Makes the session of `token` look unused for `ms` milliseconds more.
pub async fn age_session(server: &Server, token: &str, ms: i64) {
    sqlx::query("UPDATE sessions SET last_used_at = last_used_at - $1 WHERE token_hash = $2")
        .bind(ms)
        .bind(stored_token_hash(token))
        .execute(server.store.pool())
        .await
        .unwrap();
}

/// A unique username for a test (usernames are unique across the server).
pub fn username(prefix: &str) -> String {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).unwrap();
    format!("{prefix}-{}", hex::encode(bytes))
}

/// Registers a site the device created, with an admin signed in on the device; the device's
/// SiteCreated is still in its outbox.
pub async fn register_site(server: &Server, device: &mut Device, name: &str) -> (SiteId, Session) {
    let site = device.create_site(name);
    let reply = server
        .post(
            "/api/sites",
            None,
            json!({
                "site": site,
                "site_name": name,
                "username": username("admin"),
                "name": "Pat Caretaker",
                "password": PASSWORD,
                "device": device.id,
                "setup_code": server.setup_code().await,
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (site, reply.ok())
}

/// Runs each named `async fn(Backend)` as two tests, `sqlite::name` and `postgres::name`.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}
