//! How long the sync server takes to acknowledge 10,000 queued changes from one device, against
//! the same rows written straight into the same kind of database.
//!
//! ```text
//! cargo run --release -p keyward-server --example sync_bench [-- EVENTS]
//! ```
//!
//! Starts the server on 127.0.0.1:0 over a temporary SQLite file (and over a fresh PostgreSQL
//! database when `KEYWARD_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/test`, is
//! reachable), registers a site, records the changes on one device with keyward-core (the site,
//! areas, lockers, locks and keys, people, issues and returns), pushes them in
//! `BATCH`-sized pushes over loopback HTTP and times until every one is acknowledged. Then it
//! inserts the same event and receipt rows with plain INSERTs, one transaction per batch, into
//! another fresh database of the same kind, and prints both times and their ratio.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use keyward_core::sync::{Numbered, Outcome, PushRequest, PushResponse, Session, BATCH};
use keyward_core::{
    Change, Command, Condition, Confirmation, Context, DeviceId, Event, Holder, KeyKind, LockKind,
    PersonDetails, PersonKind, Register, SiteId, SplitMix,
};
use keyward_server::{serve, Config, Store};
use serde_json::json;
use sqlx::Connection;

const DEFAULT_EVENTS: usize = 10_000;

/// One device's queued changes.
struct Recorded {
    site: SiteId,
    site_name: String,
    device: DeviceId,
    changes: Vec<Numbered>,
}

/// Records `total` valid changes on one device, as the app would offline.
fn record(total: usize) -> Recorded {
    let mut entropy = SplitMix(2026);
    let mut now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let device = DeviceId::generate(now, &mut entropy);
    // About three hours of changes: all on the first day.
    let today = now.date_naive();
    let mut register = Register::new();
    let mut changes: Vec<Numbered> = Vec::with_capacity(total);
    let mut run = |command: Command, register: &mut Register, changes: &mut Vec<Numbered>| {
        now += chrono::Duration::seconds(1);
        let mut ctx = Context {
            actor: "Pat Caretaker".into(),
            device,
            now,
            entropy: &mut entropy,
        };
        let event: Event = register
            .execute(command.clone(), &mut ctx)
            .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        register.apply(&event);
        changes.push(Numbered {
            n: changes.len() as u64 + 1,
            event: event.clone(),
        });
        event.change
    };

    let site_name = "Northgate School".to_string();
    let site = match run(
        Command::CreateSite {
            name: site_name.clone(),
        },
        &mut register,
        &mut changes,
    ) {
        Change::SiteCreated { site, .. } => site,
        c => panic!("{c:?}"),
    };
    // A tenth of the changes set the site up, a tenth add people, the rest issue and return.
    let lockers_wanted = (total / 20).max(1);
    let mut lockers = Vec::new();
    let mut area_no = 0;
    while lockers.len() < lockers_wanted {
        area_no += 1;
        let area = match run(
            Command::AddArea {
                site,
                name: format!("Block {area_no}"),
            },
            &mut register,
            &mut changes,
        ) {
            Change::AreaAdded { area, .. } => area,
            c => panic!("{c:?}"),
        };
        let count = (lockers_wanted - lockers.len()).min(100);
        match run(
            Command::AddLockerRange {
                site,
                area,
                from: format!("B{area_no}-001"),
                to: format!("B{area_no}-{count:03}"),
                allow_similar: false,
            },
            &mut register,
            &mut changes,
        ) {
            Change::LockersAdded { lockers: new, .. } => {
                lockers.extend(new.into_iter().map(|l| l.id))
            }
            c => panic!("{c:?}"),
        }
    }
    let mut keys = Vec::new();
    for &locker in &lockers {
        let lock = match run(
            Command::FitLock {
                locker,
                kind: LockKind::Keyed,
                code: format!("K{}", keys.len()),
                suite: String::new(),
            },
            &mut register,
            &mut changes,
        ) {
            Change::LockFitted { lock, .. } => lock,
            c => panic!("{c:?}"),
        };
        match run(
            Command::AddKeys {
                lock,
                kind: KeyKind::User,
                count: 2,
                storage: "Cabinet 1".into(),
            },
            &mut register,
            &mut changes,
        ) {
            Change::KeysAdded { keys: new, .. } => keys.push((locker, new[0].id)),
            c => panic!("{c:?}"),
        }
    }
    let mut people = Vec::new();
    for i in 0..(total / 10).max(1) {
        match run(
            Command::AddPerson {
                site,
                details: PersonDetails {
                    name: format!("Pupil {i}"),
                    kind: PersonKind::Pupil,
                    reference: format!("P{i:05}"),
                    department: format!("Year {}", 7 + i % 5),
                },
            },
            &mut register,
            &mut changes,
        ) {
            Change::PersonAdded { person, .. } => people.push(person),
            c => panic!("{c:?}"),
        }
    }
    let mut turn = 0usize;
    while changes.len() < total {
        let (locker, key) = keys[turn % keys.len()];
        let person = people[turn % people.len()];
        run(
            Command::IssueKey {
                key,
                locker,
                holder: Holder::Person(person),
                date: today,
                expected_return: None,
                confirmation: Confirmation::TypedName(format!("Pupil {turn}")),
                notes: String::new(),
                due_time: None,
            },
            &mut register,
            &mut changes,
        );
        if changes.len() < total {
            run(
                Command::ReturnKey {
                    key,
                    brought_by: String::new(),
                    received_by: "Pat Caretaker".into(),
                    condition: Condition::Fine,
                    notes: String::new(),
                },
                &mut register,
                &mut changes,
            );
        }
        turn += 1;
    }
    Recorded {
        site,
        site_name,
        device,
        changes,
    }
}

/// A database for one run: a SQLite file in a temp folder or a fresh PostgreSQL database.
struct Db {
    url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            url: keyward_server::store::sqlite_url(&dir.path().join("keyward.db")),
            _dir: dir,
            pg: None,
        }
    }

    async fn postgres(admin: &str) -> Result<Db, sqlx::Error> {
        let mut conn = sqlx::PgConnection::connect(admin).await?;
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name = format!("keyward_bench_{}", hex::encode(bytes));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(Db {
            url: format!("{base}/{name}"),
            _dir: tempfile::tempdir().unwrap(),
            pg: Some((admin.to_string(), name)),
        })
    }

    async fn drop_pg(self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// Pushes every change through the server over HTTP; the time until all are acknowledged.
async fn through_server(db: &Db, recorded: &Recorded) -> Duration {
    let store = Store::open(&db.url).await.expect("open the database");
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html>").unwrap();
    let config = Config {
        app: keyward_server::AppFiles::Folder(dist.path().to_owned()),
        data: dist.path().join("data"),
        database_url: Some(db.url.clone()),
        limits: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn({
        let store = store.clone();
        async move {
            serve(listener, &config, store, async {
                let _ = stopped.await;
            })
            .await
        }
    });

    let client = reqwest::Client::new();
    let setup_code = keyward_server::api::accounts::issue_setup_code(&store, None)
        .await
        .expect("a set-up code");
    let session: Session = client
        .post(format!("{base}/api/sites"))
        .json(&json!({
            "site": recorded.site, "site_name": recorded.site_name, "username": "bench-admin",
            "name": "Pat Caretaker", "password": "violet harbour tractor",
            "device": recorded.device, "setup_code": setup_code,
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();

    let started = Instant::now();
    let mut acknowledged = 0;
    for batch in recorded.changes.chunks(BATCH) {
        let response: PushResponse = client
            .post(format!("{base}/api/push"))
            .bearer_auth(&session.token)
            .json(&PushRequest {
                device: recorded.device,
                changes: batch.to_vec(),
            })
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        for receipt in &response.receipts {
            assert!(
                matches!(receipt.outcome, Outcome::Applied { .. }),
                "{receipt:?}"
            );
        }
        acknowledged += response.receipts.len();
    }
    let elapsed = started.elapsed();
    assert_eq!(acknowledged, recorded.changes.len());

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    store.close().await;
    elapsed
}

/// The same rows with plain INSERTs, one transaction per batch.
async fn plain_inserts(db: &Db, recorded: &Recorded) -> Duration {
    let store = Store::open(&db.url).await.expect("open the database");
    let pool = store.pool();
    let site = recorded.site.to_string();
    let device = recorded.device.to_string();
    sqlx::query("INSERT INTO sites (id, name, head, created_at) VALUES ($1, $2, 0, 0)")
        .bind(&site)
        .bind(&recorded.site_name)
        .execute(pool)
        .await
        .unwrap();
    let started = Instant::now();
    for batch in recorded.changes.chunks(BATCH) {
        let mut tx = pool.begin().await.unwrap();
        for change in batch {
            let pos = change.n as i64;
            let id = change.event.id.to_string();
            sqlx::query(
                "INSERT INTO events (site, pos, id, device, n, body, conflict) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&site)
            .bind(pos)
            .bind(&id)
            .bind(&device)
            .bind(change.n as i64)
            .bind(serde_json::to_string(&change.event).unwrap())
            .bind(false)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO receipts (site, device, n, event, outcome, pos, reason) \
                 VALUES ($1, $2, $3, $4, 'applied', $5, NULL)",
            )
            .bind(&site)
            .bind(&device)
            .bind(change.n as i64)
            .bind(&id)
            .bind(pos)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE sites SET head = $2 WHERE id = $1")
            .bind(&site)
            .bind(batch.last().unwrap().n as i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let elapsed = started.elapsed();
    store.close().await;
    elapsed
}

async fn bench(kind: &str, server_db: Db, plain_db: Db, recorded: &Recorded) {
    let served = through_server(&server_db, recorded).await;
    let plain = plain_inserts(&plain_db, recorded).await;
    let n = recorded.changes.len();
    let pushes = n.div_ceil(BATCH);
    println!(
        "{kind:<10} server: {n} changes in {pushes} pushes acknowledged in {:>7.1} ms ({:>6.0} changes/s)",
        served.as_secs_f64() * 1000.0,
        n as f64 / served.as_secs_f64()
    );
    println!(
        "{kind:<10} plain INSERTs, one transaction per batch: {:>7.1} ms; server/plain = {:.2}",
        plain.as_secs_f64() * 1000.0,
        served.as_secs_f64() / plain.as_secs_f64()
    );
    server_db.drop_pg().await;
    plain_db.drop_pg().await;
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the number of changes"))
        .unwrap_or(DEFAULT_EVENTS);
    let started = Instant::now();
    let recorded = record(total);
    println!(
        "sync bench: {} changes recorded on one device in {:.0} ms",
        recorded.changes.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    bench("SQLite", Db::sqlite().await, Db::sqlite().await, &recorded).await;

    let admin = std::env::var("KEYWARD_TEST_PG")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    match (Db::postgres(&admin).await, Db::postgres(&admin).await) {
        (Ok(server_db), Ok(plain_db)) => bench("PostgreSQL", server_db, plain_db, &recorded).await,
        (Err(e), _) | (_, Err(e)) => {
            println!(
                "PostgreSQL skipped: {} is not reachable ({e})",
                store_redact(&admin)
            )
        }
    }
}

fn store_redact(url: &str) -> String {
    keyward_server::store::redact(url)
}
