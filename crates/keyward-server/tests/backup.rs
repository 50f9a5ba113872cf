//! Backups taken under load and restored, on both databases, over real sockets and with the
//! real binary (`keyward-server backup`, `restore`, `check`): every change acknowledged
//! before the backup started is in the restored database, nothing acknowledged after it
//! finished is, and each site's head equals its log. And `restore` refuses a damaged or a
//! foreign file, or a data folder a server is serving from, and then changes nothing.

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use keyward_core::sync::{Logged, Numbered, Outcome, PullResponse, PushRequest, PushResponse};
use keyward_core::{EventId, Role, SiteId};
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::backup::ServeLock;
use keyward_server::{serve, Config, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server over real sockets, on a data folder and (PostgreSQL) a database URL.
struct Running {
    addr: SocketAddr,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(data: &Path, database_url: Option<&str>) -> Running {
        let dist = data.with_extension("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
        let config = Config {
            app: keyward_server::AppFiles::Folder(dist),
            data: data.to_path_buf(),
            database_url: database_url.map(str::to_string),
            limits: Default::default(),
        };
        config.prepare().unwrap();
        let store = config.open_store().await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = store.clone();
        let task = tokio::spawn(async move {
            serve(listener, &config, served, async {
                let _ = stopped.await;
            })
            .await
        });
        Running {
            addr,
            store,
            stop: Some(stop),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn shut_down(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops in time")
            .unwrap()
            .unwrap();
        self.store.close().await;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn push(
    http: &reqwest::Client,
    server: &str,
    token: &str,
    device: keyward_core::DeviceId,
    changes: Vec<Numbered>,
) -> PushResponse {
    let res = http
        .post(format!("{server}/api/push"))
        .bearer_auth(token)
        .json(&PushRequest { device, changes })
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

/// Every event of the token's site, page by page.
async fn pull_all(http: &reqwest::Client, server: &str, token: &str) -> (Vec<Logged>, u64) {
    let mut all: Vec<Logged> = Vec::new();
    loop {
        let after = all.last().map_or(0, |l| l.pos);
        let page: PullResponse = http
            .get(format!("{server}/api/pull?after={after}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let done = page.events.is_empty() || page.events.last().unwrap().pos >= page.head;
        all.extend(page.events);
        if done {
            return (all, page.head);
        }
    }
}

/// Runs the binary with `args`; its output.
async fn binary(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_keyward-server"))
            .args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("KEYWARD_DATA")
            .env("RUST_LOG", "info")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `--data DIR [--database-url URL]` as strings.
fn db_args(data: &Path, url: Option<&str>) -> Vec<String> {
    let mut args = vec!["--data".to_string(), data.display().to_string()];
    if let Some(url) = url {
        args.extend(["--database-url".to_string(), url.to_string()]);
    }
    args
}

/// A change acknowledged by the server: its id, position and when the answer arrived.
struct Acked {
    id: EventId,
    pos: u64,
    at: Instant,
}

/// One client pushing new people to the site, a few at a time, until told to stop.
async fn keep_pushing(
    server: String,
    token: String,
    mut device: Device,
    site: SiteId,
    stop: Arc<AtomicBool>,
) -> (Vec<Acked>, u64) {
    let http = client();
    let mut acked = Vec::new();
    let mut cursor = 0;
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..3 {
            i += 1;
            device.person(site, &format!("Pupil {i} of {}", device.id));
        }
        let changes = device.take();
        let response = push(&http, &server, &token, device.id, changes).await;
        let at = Instant::now();
        for receipt in response.receipts {
            match receipt.outcome {
                Outcome::Applied { pos } => {
                    cursor = cursor.max(pos);
                    acked.push(Acked {
                        id: receipt.event,
                        pos,
                        at,
                    });
                }
                other => panic!("{other:?}"),
            }
        }
    }
    (acked, cursor)
}

/// The site, its admin's token and the clients' (token, device) pairs, over HTTP.
async fn set_up_site(server: &Running, clients: usize) -> (SiteId, String, Vec<(String, Device)>) {
    let http = client();
    let base = server.url("");
    let mut admin = Device::new(1);
    let site = admin.create_site("Northgate");
    let created = http
        .post(server.url("/api/sites"))
        .json(&json!({
            "site": site,
            "site_name": "Northgate",
            "username": username("admin"),
            "name": "Pat Caretaker",
            "password": PASSWORD,
            "device": admin.id,
            "setup_code": issue_setup_code(&server.store, None).await.unwrap(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let session: keyward_core::sync::Session = created.json().await.unwrap();
    let token = session.token.clone();
    let area = admin.area(site, "Block A");
    admin.lockers(site, area, "1", "20");
    push(&http, &base, &token, admin.id, admin.take()).await;
    let (log, _) = pull_all(&http, &base, &token).await;
    let mut out = Vec::new();
    for c in 0..clients {
        let name = username(&format!("custodian{c}"));
        let added = http
            .post(server.url("/api/users"))
            .bearer_auth(&token)
            .json(&json!({"username": name, "name": format!("Custodian {c}"), "role": Role::Custodian, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
        let mut device = Device::new(100 + c as u64);
        device.actor = format!("Custodian {c}");
        let login = http
            .post(server.url("/api/login"))
            .json(&json!({"username": name, "password": PASSWORD, "device": device.id}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let session: keyward_core::sync::Session = login.json().await.unwrap();
        device.learn(&log);
        out.push((session.token, device));
    }
    (site, token, out)
}

/// Several clients push while `keyward-server backup` runs; the backup is restored into a
/// fresh data folder (and, on PostgreSQL, a second database) and served again.
async fn a_backup_under_load_restores_every_acknowledged_change(backend: Backend) {
    let source_db = TestDb::new(backend).await;
    let target_db = TestDb::new(backend).await;
    let pg = |db: &TestDb| (backend == Backend::Postgres).then(|| db.url.clone());
    let (source_url, target_url) = (pg(&source_db), pg(&target_db));
    let source_data = source_db.dir.path().join("data");
    let target_data = target_db.dir.path().join("data");

    let server = Running::start(&source_data, source_url.as_deref()).await;
    let (site, admin_token, clients) = set_up_site(&server, 4).await;
    let stop = Arc::new(AtomicBool::new(false));
    let pushers: Vec<_> = clients
        .into_iter()
        .map(|(token, device)| {
            tokio::spawn(keep_pushing(
                server.url(""),
                token,
                device,
                site,
                stop.clone(),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(800)).await;
    let backup_file = source_db.dir.path().join(match backend {
        Backend::Sqlite => "mid.db",
        Backend::Postgres => "mid.dump",
    });
    let mut args = vec!["backup".to_string()];
    args.extend(db_args(&source_data, source_url.as_deref()));
    args.extend(["--to".to_string(), backup_file.display().to_string()]);
    let started = Instant::now();
    let out = binary(args).await;
    let finished = Instant::now();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Backed up"),
        "{}",
        text(&out)
    );
    println!("backup took {:?}", finished - started);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    let mut cursors = Vec::new();
    for pusher in pushers {
        let (a, cursor) = pusher.await.unwrap();
        acked.extend(a);
        cursors.push(cursor);
    }
    server.shut_down().await;
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < started).collect();
    let after: Vec<&Acked> = acked.iter().filter(|a| a.at > finished).collect();
    println!(
        "{} changes acknowledged: {} before the backup started, {} after it finished",
        acked.len(),
        before.len(),
        after.len()
    );
    assert!(before.len() >= 10 && after.len() >= 10, "too little load");

    // Restored into a fresh folder (and database), then served.
    let mut args = vec!["restore".to_string()];
    args.extend(db_args(&target_data, target_url.as_deref()));
    args.push(backup_file.display().to_string());
    let out = binary(args).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Restored"),
        "{}",
        text(&out)
    );

    let restored = Running::start(&target_data, target_url.as_deref()).await;
    let http = client();
    let health = http.get(restored.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // The admin signed in before the backup: the session came back with it.
    let (log, head) = pull_all(&http, &restored.url(""), &admin_token).await;
    let ids: std::collections::HashMap<EventId, u64> =
        log.iter().map(|l| (l.event.id, l.pos)).collect();
    for a in &before {
        assert_eq!(
            ids.get(&a.id),
            Some(&a.pos),
            "a change acknowledged before the backup"
        );
    }
    for a in &after {
        assert!(
            !ids.contains_key(&a.id),
            "a change acknowledged after the backup"
        );
    }
    assert_eq!(log.len() as u64, head);
    assert!(log.iter().enumerate().all(|(i, l)| l.pos == i as u64 + 1));

    // What a device that synced after the backup now meets: its cursor is past the head, a
    // pull brings nothing, and the next change stored takes a position it already holds.
    let ahead = *cursors.iter().max().unwrap();
    assert!(ahead > head, "{ahead} {head}");
    let page: PullResponse = http
        .get(restored.url(&format!("/api/pull?after={ahead}")))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.events.is_empty());
    assert_eq!(page.head, head);
    restored.shut_down().await;

    // The database is consistent: the binary's own check, and each site's head is its log.
    let mut args = vec!["check".to_string()];
    args.extend(db_args(&target_data, target_url.as_deref()));
    let out = binary(args).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("All is well."), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "site {site} (\"Northgate\"): events {head} (head {head})"
        )),
        "{stdout}"
    );
    let store = Store::open(&match &target_url {
        Some(url) => url.clone(),
        None => keyward_server::store::sqlite_url(&target_data.join("keyward.db")),
    })
    .await
    .unwrap();
    let (db_head, count, max): (i64, i64, i64) = (
        sqlx::query_scalar("SELECT head FROM sites WHERE id = $1")
            .bind(site.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE site = $1")
            .bind(site.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT MAX(pos) FROM events WHERE site = $1")
            .bind(site.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap(),
    );
    assert_eq!(
        (db_head, count, max),
        (head as i64, head as i64, head as i64)
    );
    store.close().await;
}

fn digest(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// The names in `dir`, sorted (but the lock file a restore makes).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "keyward.lock")
        .collect();
    names.sort();
    names
}

/// `restore` of a damaged file, a foreign SQLite file, and into a data folder a server holds:
/// refused with a plain message, the current database untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_what_is_not_a_keyward_backup_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&data, None).await;
    let (_, _, _) = set_up_site(&server, 0).await;
    server.shut_down().await;
    let current = data.join("keyward.db");

    let good = dir.path().join("good.db");
    let out = binary(
        [
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--to",
            good.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    // Damaged: random bytes; a real backup with a page overwritten; a truncated one.
    let random = dir.path().join("random.db");
    std::fs::write(
        &random,
        (0..20_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let overwritten = dir.path().join("overwritten.db");
    let mut bytes = std::fs::read(&good).unwrap();
    assert!(bytes.len() > 3 * 4096, "{}", bytes.len());
    for b in &mut bytes[4096 + 100..2 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&overwritten, &bytes).unwrap();
    let truncated = dir.path().join("truncated.db");
    std::fs::write(&truncated, &std::fs::read(&good).unwrap()[..4096 + 512]).unwrap();
    // Foreign: a SQLite database of something else.
    let foreign = dir.path().join("foreign.db");
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&keyward_server::store::sqlite_url(&foreign))
                .await
                .unwrap();
        sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO notes (body) VALUES ('hello')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    let before = digest(&current);
    let listed = names(&data);
    for (file, says) in [
        (&random, "is not a SQLite database"),
        (&overwritten, "damaged"),
        (&truncated, ""),
        (&foreign, "is not a Keyward database"),
    ] {
        let out = binary(
            [
                "restore",
                "--data",
                data.to_str().unwrap(),
                file.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec(),
        )
        .await;
        let all = text(&out);
        assert!(!out.status.success(), "{all}");
        assert!(all.contains("nothing was changed"), "{all}");
        assert!(all.contains(says), "{all}");
        assert_eq!(digest(&current), before, "{all}");
        assert_eq!(names(&data), listed, "{all}");
    }

    // While a server holds the data folder, even a good backup is refused.
    let lock = ServeLock::serving(&data).unwrap();
    let out = binary(
        [
            "restore",
            "--data",
            data.to_str().unwrap(),
            good.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("stop it first"), "{}", text(&out));
    assert_eq!(digest(&current), before);
    drop(lock);

    // Then it goes in, and what it replaced is kept.
    let out = binary(
        [
            "restore",
            "--data",
            data.to_str().unwrap(),
            good.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let kept: Vec<String> = names(&data)
        .into_iter()
        .filter(|n| n.starts_with("keyward.db.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", names(&data));
    assert_eq!(digest(&data.join(&kept[0])), before);
    assert_eq!(digest(&current), digest(&good));
}

/// On PostgreSQL: a file that is not a dump, and a dump of another database, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restore_refuses_what_is_not_a_keyward_dump() {
    let db = TestDb::new(Backend::Postgres).await;
    let data = db.dir.path().join("data");
    let server = Running::start(&data, Some(&db.url)).await;
    set_up_site(&server, 0).await;
    server.shut_down().await;
    let count = async || -> i64 {
        let store = Store::open(&db.url).await.unwrap();
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        n
    };
    let events = count().await;
    assert!(events > 0);

    let random = db.dir.path().join("random.dump");
    std::fs::write(&random, b"PGDMP this is not really a dump").unwrap();
    // A real dump, of a database that is not Keyward's.
    let other = TestDb::new(Backend::Postgres).await;
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&other.url).await.unwrap();
        sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let foreign = db.dir.path().join("foreign.dump");
    let out = binary(
        [
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--database-url",
            &other.url,
            "--to",
            foreign.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    for (file, says) in [
        (&random, "cannot be read"),
        (&foreign, "is not a backup of a Keyward database"),
    ] {
        let out = binary(
            [
                "restore",
                "--data",
                data.to_str().unwrap(),
                "--database-url",
                &db.url,
                file.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec(),
        )
        .await;
        let all = text(&out);
        assert!(!out.status.success(), "{all}");
        assert!(
            all.contains(says) && all.contains("nothing was changed"),
            "{all}"
        );
        assert_eq!(count().await, events);
    }
    let _: PathBuf = data;
}

/// `check` passes a sound database and names each thing wrong in a damaged one: a gap in a
/// site's log, an event that does not parse, one that fails the content checks, a head that
/// is not the log's end; it exits 1 and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&data, None).await;
    let (site, _, _) = set_up_site(&server, 0).await;
    server.shut_down().await;
    let check = || {
        binary(
            ["check", "--data", data.to_str().unwrap()]
                .map(String::from)
                .to_vec(),
        )
    };
    let out = check().await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains(&format!(
            "site {site} (\"Northgate\"): events 3 (head 3), areas 1, lockers 20, keys 0, people 0, users 1, open conflicts 0"
        )),
        "{stdout}"
    );

    let store = Store::open(&keyward_server::store::sqlite_url(&data.join("keyward.db")))
        .await
        .unwrap();
    let site_text = site.to_string();
    // Event 2 (the area) with a name far too long; event 3 unreadable; a head beyond the log.
    let body: String = sqlx::query_scalar("SELECT body FROM events WHERE site = $1 AND pos = 2")
        .bind(&site_text)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let long = body.replace(
        "Block A",
        &"Block A ".repeat(40).trim_end().replace(' ', "-"),
    );
    assert_ne!(long, body);
    for (sql, value) in [
        (
            "UPDATE events SET body = $2 WHERE site = $1 AND pos = 2",
            long,
        ),
        (
            "UPDATE events SET body = $2 WHERE site = $1 AND pos = 3",
            "{not json".to_string(),
        ),
    ] {
        sqlx::query(sql)
            .bind(&site_text)
            .bind(value)
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE sites SET head = 5 WHERE id = $1")
        .bind(&site_text)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let before = digest(&data.join("keyward.db"));
    let out = check().await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    for says in [
        format!("PROBLEM: site {site}: event 2 does not fold: "),
        format!("PROBLEM: site {site}: event 3 does not parse"),
        format!("PROBLEM: site {site}: its head is 5 but its log ends at 3"),
        "the check found 3 problem(s)".to_string(),
    ] {
        assert!(all.contains(&says), "{says}\n{all}");
    }
    assert_eq!(digest(&data.join("keyward.db")), before);
}

on_both_backends!(a_backup_under_load_restores_every_acknowledged_change);
