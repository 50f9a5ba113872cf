//! `keyward-server check`: whether the database is sound and this server's to use, and what
//! each site holds.
//!
//! It reads; it changes nothing (the migrations are compared, not applied). Checked: SQLite's
//! integrity check; Keyward's tables; the migrations (all of this server's applied, none
//! unknown); orphan events; and for every site its log as the server would replay it: the
//! positions run 1, 2, 3 … up to the site's head without a gap, each stored event parses,
//! carries the id it is stored under, passes keyward-core's content checks and folds into the
//! register (the same judgement a push gets, as an admin, so a role changed since does not
//! count), and its conflict mark agrees with what the fold finds. One site's register is held
//! in memory at a time.

use futures_util::TryStreamExt;
use keyward_core::sync::judge;
use keyward_core::{Change, Event, Register, Role, SiteId};
use sqlx::{AnyConnection, Connection, Row};

use crate::backup::{integrity_problems, migration_problems, missing_tables, Database};
use crate::store::Backend;

/// Problems listed per site at most (the rest are counted).
const LISTED_PER_SITE: usize = 20;

/// What one site holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteCounts {
    pub id: String,
    pub name: String,
    pub head: u64,
    pub events: u64,
    pub conflicts_open: usize,
    pub areas: usize,
    pub lockers: usize,
    pub keys: usize,
    pub people: usize,
    pub users: i64,
}

/// The outcome of a check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub sites: Vec<SiteCounts>,
    /// What is wrong, one sentence each; empty when all is well.
    pub problems: Vec<String>,
}

impl Report {
    /// The report as printed: a line per site, then the problems.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .sites
            .iter()
            .map(|s| {
                format!(
                    "site {} ({:?}): events {} (head {}), areas {}, lockers {}, keys {}, people {}, users {}, open conflicts {}",
                    s.id, s.name, s.events, s.head, s.areas, s.lockers, s.keys, s.people, s.users,
                    s.conflicts_open
                )
            })
            .collect();
        lines.push(format!("sites {}", self.sites.len()));
        lines.extend(self.problems.iter().map(|p| format!("PROBLEM: {p}")));
        lines
    }
}

/// Checks `db`. `Err` only when it cannot be opened or read at all.
pub async fn check(db: &Database) -> Result<Report, String> {
    let mut conn = db.connect().await?;
    let report = check_open(&mut conn, db.backend()).await;
    let _ = conn.close().await;
    report
}

async fn check_open(conn: &mut AnyConnection, backend: Backend) -> Result<Report, String> {
    let mut report = Report::default();
    if backend == Backend::Sqlite {
        for problem in integrity_problems(conn).await? {
            report
                .problems
                .push(format!("SQLite's integrity check: {problem}"));
        }
    }
    let missing = missing_tables(conn, backend).await?;
    if !missing.is_empty() {
        report.problems.push(format!(
            "this is not a Keyward database, or its schema is incomplete: no {} table",
            missing.join(", ")
        ));
        return Ok(report);
    }
    let migrations = migration_problems(conn, backend).await?;
    if let Some(newer) = migrations.newer {
        report.problems.push(format!("the database {newer}"));
    }
    if !migrations.pending.is_empty() {
        report.problems.push(format!(
            "migrations {:?} are not applied yet: start keyward-server once to apply them",
            migrations.pending
        ));
    }
    let orphans: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE site NOT IN (SELECT id FROM sites)")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| format!("cannot read the events: {e}"))?;
    if orphans > 0 {
        report
            .problems
            .push(format!("{orphans} event(s) belong to no site"));
    }
    let sites = sqlx::query("SELECT id, name, head FROM sites ORDER BY created_at, id")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("cannot read the sites: {e}"))?;
    for row in &sites {
        let id: String = row.try_get("id").map_err(|e| e.to_string())?;
        let name: String = row.try_get("name").map_err(|e| e.to_string())?;
        let head: i64 = row.try_get("head").map_err(|e| e.to_string())?;
        let (counts, problems) = check_site(conn, id, name, head).await?;
        let listed = problems.len().min(LISTED_PER_SITE);
        report
            .problems
            .extend(problems.iter().take(listed).cloned());
        if problems.len() > listed {
            report.problems.push(format!(
                "site {}: and {} more problem(s)",
                counts.id,
                problems.len() - listed
            ));
        }
        report.sites.push(counts);
    }
    Ok(report)
}

async fn check_site(
    conn: &mut AnyConnection,
    id: String,
    name: String,
    head: i64,
) -> Result<(SiteCounts, Vec<String>), String> {
    let mut problems = Vec::new();
    let mut counts = SiteCounts {
        head: u64::try_from(head).unwrap_or(0),
        ..SiteCounts::default()
    };
    let site = match SiteId::parse(&id) {
        Some(site) => Some(site),
        None => {
            problems.push(format!("site {id:?}: its id is not a site id"));
            None
        }
    };
    counts.users = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE site = $1")
        .bind(&id)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| format!("cannot read the users: {e}"))?;
    let mut register = Register::new();
    {
        let mut rows = sqlx::query(
            "SELECT pos, id, body, CASE WHEN conflict THEN 1 ELSE 0 END AS conflict \
             FROM events WHERE site = $1 ORDER BY pos",
        )
        .bind(&id)
        .fetch(&mut *conn);
        let mut expected: i64 = 1;
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| format!("cannot read site {id}'s events: {e}"))?
        {
            let pos: i64 = row.try_get("pos").map_err(|e| e.to_string())?;
            let event_id: String = row.try_get("id").map_err(|e| e.to_string())?;
            let body: String = row.try_get("body").map_err(|e| e.to_string())?;
            let marked: i64 = row.try_get("conflict").map_err(|e| e.to_string())?;
            counts.events += 1;
            if pos != expected {
                problems.push(format!(
                    "site {id}: event {pos} follows {} (a gap or a repeat in the log)",
                    expected - 1
                ));
            }
            expected = pos + 1;
            let event: Event = match serde_json::from_str(&body) {
                Ok(event) => event,
                Err(e) => {
                    problems.push(format!("site {id}: event {pos} does not parse: {e}"));
                    continue;
                }
            };
            if event.id.to_string() != event_id {
                problems.push(format!(
                    "site {id}: event {pos} is stored as {event_id} but is {}",
                    event.id
                ));
            }
            let Some(site) = site else { continue };
            if pos == 1 && !matches!(event.change, Change::SiteCreated { site: s, .. } if s == site)
            {
                problems.push(format!(
                    "site {id}: its log does not start with its creation"
                ));
            }
            match judge(&register, site, event.device, Role::Admin, &event) {
                Ok(conflict) if conflict != (marked != 0) => problems.push(format!(
                    "site {id}: event {pos} is marked {} but folds {}",
                    if marked != 0 { "a conflict" } else { "clean" },
                    if conflict { "as a conflict" } else { "cleanly" }
                )),
                Ok(_) => {}
                Err(reason) => {
                    problems.push(format!("site {id}: event {pos} does not fold: {reason}"))
                }
            }
            register.apply(&event);
        }
        if expected - 1 != head {
            problems.push(format!(
                "site {id}: its head is {head} but its log ends at {}",
                expected - 1
            ));
        }
    }
    if let Some(site) = site {
        counts.conflicts_open = register.open_conflicts(site).len();
        counts.lockers = register.locker_count(site);
        counts.keys = register.keys().count();
        counts.people = register.people_of(site).len();
        counts.areas = register.areas_of(site).len();
    }
    counts.id = id;
    counts.name = name;
    Ok((counts, problems))
}
