//! The daily digest of overdue keys: once a day, from `--digest-hour` (server local time, the
//! site time the app uses too), each site whose admins or key custodians have an address gets
//! the list of its overdue keys, as keyward-core's overdue query reads the site's register
//! (folded from the database into the process's cache, as a push does). Nothing is sent
//! when nothing is overdue.
//!
//! The day is recorded in `digests_sent` in the transaction that queues the mails, with
//! `ON CONFLICT DO NOTHING`: of several server processes over one PostgreSQL, or one process
//! restarted, only the first to record the day queues the digest.

use std::time::Duration;

use chrono::{DateTime, Local, Timelike};
use keyward_core::format::uk_date;
use keyward_core::{Role, SiteId};

use super::alerts::{recipients, MAX_LINES};
use super::{queue, Mail, Mailer};
use crate::api::accounts::parse_site;
use crate::api::sync::{catch_up, site_head};
use crate::api::{now_ms, ApiError};
use crate::store::Store;

/// How often the schedule looks at the clock.
const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Who gets the digest.
const ROLES: [Role; 2] = [Role::Admin, Role::Custodian];

/// Runs [`run`] every minute from `hour` on, until the store closes.
pub(crate) async fn daily(store: Store, hour: u32) {
    let mut closing = store.closing();
    loop {
        let now = Local::now();
        if now.hour() >= hour {
            if let Err(e) = run(&store, now).await {
                tracing::error!("the overdue digest: {}", e.message);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(CHECK_EVERY) => {}
            _ = closing.changed() => return,
        }
    }
}

/// Sends the digest of `now`'s day (`now` in site time) to each site that has not had it;
/// returns how many mails were queued. Needs mail set up ([`super::start`]).
pub async fn run(store: &Store, now: DateTime<Local>) -> Result<usize, ApiError> {
    let Some(mailer) = store.mail().cloned() else {
        return Ok(0);
    };
    let day = now.date_naive().to_string();
    let marks: Vec<String> = (0..ROLES.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT DISTINCT site FROM users u WHERE email IS NOT NULL AND role IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM digests_sent d WHERE d.site = u.site AND d.day = $1)",
        marks.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(&day);
    for role in ROLES {
        query = query.bind(role.as_str());
    }
    let sites = query.fetch_all(store.pool()).await?;
    let mut queued = 0;
    for site in sites {
        queued += site_digest(store, &mailer, parse_site(&site)?, now, &day).await?;
    }
    if queued > 0 {
        mailer.wake();
    }
    Ok(queued)
}

async fn site_digest(
    store: &Store,
    mailer: &Mailer,
    site: SiteId,
    now: DateTime<Local>,
    day: &str,
) -> Result<usize, ApiError> {
    let (subject, body) = {
        let cache = store.register(site);
        let mut cached = cache.lock().await;
        let head = site_head(store.pool(), site).await?;
        catch_up(store.pool(), site, &mut cached, head).await?;
        let words = words(mailer, &cached.register, site, now);
        let bytes = cached.bytes;
        drop(cached);
        drop(cache);
        store.settle(site, bytes);
        (words.0, words.1)
    };
    let mut tx = store.pool().begin().await?;
    let first = sqlx::query(
        "INSERT INTO digests_sent (site, day, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (site, day) DO NOTHING",
    )
    .bind(site.to_string())
    .bind(day)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if first.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut queued = 0;
    if let Some(body) = body {
        let people = recipients(&mut tx, &site.to_string(), &ROLES).await?;
        let mails: Vec<Mail> = people
            .into_iter()
            .map(|(to, _)| Mail {
                to,
                subject: subject.clone(),
                body: body.clone(),
            })
            .collect();
        queued = queue(&mut tx, mailer, &mails).await?;
    }
    tx.commit().await?;
    Ok(queued)
}

/// The subject, and the text when anything is overdue.
fn words(
    mailer: &Mailer,
    register: &keyward_core::Register,
    site: SiteId,
    now: DateTime<Local>,
) -> (String, Option<String>) {
    let name = register
        .site(site)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let overdue = register.overdue(site, None, now.naive_local());
    let today = uk_date(now.date_naive());
    let subject = match overdue.len() {
        1 => format!("1 overdue key at {name} on {today}"),
        n => format!("{n} overdue keys at {name} on {today}"),
    };
    if overdue.is_empty() {
        return (subject, None);
    }
    let mut body = format!(
        "{} at {name}, as the register stood at {}:\n",
        match overdue.len() {
            1 => "1 key is overdue".to_string(),
            n => format!("{n} keys are overdue"),
        },
        now.format("%H:%M"),
    );
    let mut area = None;
    for o in overdue.iter().take(MAX_LINES) {
        if area.as_deref() != Some(o.area_name.as_str()) {
            body.push_str(&format!("\n{}\n", o.area_name));
            area = Some(o.area_name.clone());
        }
        body.push_str(&format!(
            "  - locker {}, key {}: {}, due back {} ({})\n",
            o.locker.number,
            o.key.tag,
            o.holder,
            o.due_words(),
            o.late_words()
        ));
    }
    if overdue.len() > MAX_LINES {
        body.push_str(&format!(
            "\n… and {} more: the app lists them all.\n",
            overdue.len() - MAX_LINES
        ));
    }
    body.push_str(&format!(
        "\nThe overdue list, by area, is here:\n{}\n\n\
         You get this mail each morning there are overdue keys, because you are an admin or \
         key custodian of {name} on Keyward.\n",
        mailer.link("/overdue")
    ));
    (subject, Some(body))
}
