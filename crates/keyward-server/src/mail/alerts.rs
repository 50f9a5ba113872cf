//! The lost-master-key mail: to every admin of the site who has an address, queued in the
//! transaction that stores the push reporting the loss, so it goes exactly when the loss is
//! on the server.

use keyward_core::{EscalationId, Register, Role};
use sqlx::Row;

use super::{local, queue, Mail, Mailer};
use crate::api::accounts::Auth;

/// Lines of locks a mail lists at most; the rest are counted.
pub const MAX_LINES: usize = 500;

/// The site's members of `roles` who have an address: (address, name).
pub(crate) async fn recipients(
    tx: &mut sqlx::AnyConnection,
    site: &str,
    roles: &[Role],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let marks: Vec<String> = (0..roles.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT email, name FROM users WHERE site = $1 AND email IS NOT NULL AND role IN ({}) \
         ORDER BY username",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(site);
    for role in roles {
        query = query.bind(role.as_str());
    }
    let mut out = Vec::new();
    for row in query.fetch_all(&mut *tx).await? {
        out.push((row.try_get("email")?, row.try_get("name")?));
    }
    Ok(out)
}

/// Queues the mail of each escalation in `lost` (as folded in `register`) to the site's
/// admins; returns whether any was queued (then wake the sender after committing). A second
/// report of a loss already escalated has no escalation of its own and sends nothing.
pub(crate) async fn lost_master(
    tx: &mut sqlx::AnyConnection,
    mailer: &Mailer,
    auth: &Auth,
    register: &Register,
    lost: &[EscalationId],
) -> Result<bool, sqlx::Error> {
    if lost.is_empty() {
        return Ok(false);
    }
    let admins = recipients(tx, &auth.site.to_string(), &[Role::Admin]).await?;
    if admins.is_empty() {
        return Ok(false);
    }
    let mut mails = Vec::new();
    for id in lost {
        let Some((subject, body)) = words(mailer, auth, register, *id) else {
            continue;
        };
        for (to, _) in &admins {
            mails.push(Mail {
                to: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
            });
        }
    }
    Ok(queue(tx, mailer, &mails).await? > 0)
}

/// The subject and text of a lost master key's mail.
fn words(
    mailer: &Mailer,
    auth: &Auth,
    register: &Register,
    id: EscalationId,
) -> Option<(String, String)> {
    let e = register.escalation(id)?;
    let tag = register.key(e.key).map(|k| k.tag.to_string())?;
    let suite = register
        .suite(e.suite)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let site = register
        .site(e.site)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| auth.site_name.clone());
    let subject = format!("Master key {tag} reported lost at {site}");
    let mut body = format!(
        "Master key {tag} of the suite \"{suite}\" at {site} has been reported lost.\n\n\
         Reported by: {}\nWhen: {}\n",
        e.reported_by,
        local(e.at),
    );
    if auth.name.trim() != e.reported_by.trim() {
        body.push_str(&format!("Sent from the sign-in of: {}\n", auth.name));
    }
    if !e.notes.trim().is_empty() {
        body.push_str(&format!("Notes: {}\n", e.notes.trim()));
    }
    let at_risk = register.at_risk(id);
    if at_risk.is_empty() {
        body.push_str("\nNo lock of this suite is fitted to a locker now.\n");
    } else {
        body.push_str(&format!(
            "\nIt opens {} lock{} of the suite:\n",
            at_risk.len(),
            if at_risk.len() == 1 { "" } else { "s" }
        ));
        for risk in at_risk.iter().take(MAX_LINES) {
            let area = register
                .locker(risk.locker)
                .and_then(|l| register.area(l.area))
                .map(|a| a.name.clone())
                .unwrap_or_default();
            body.push_str(&format!("  - locker {} ({area})\n", risk.number));
        }
        if at_risk.len() > MAX_LINES {
            body.push_str(&format!(
                "  … and {} more: the app lists them all.\n",
                at_risk.len() - MAX_LINES
            ));
        }
    }
    body.push_str(&format!(
        "\nKeyward shows the case, with what to do next, on every screen of the site's \
         devices; it is here:\n{}\n\n\
         You get this mail because you are an admin of {site} on Keyward.\n",
        mailer.link(&format!("/master/escalations/{id}"))
    ));
    Some((subject, body))
}
