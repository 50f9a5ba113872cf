//! The outbox: mails as rows of `mail_outbox`, and the background task that sends them.
//!
//! [`queue`] inserts a mail inside the caller's transaction (so the mail exists exactly when
//! what caused it does); at most [`MailLimits::max_queued`](super::MailLimits) wait, and a
//! mail beyond that is dropped with a log line, never the request that made it.
//!
//! [`send_loop`] looks every `poll` (and whenever this process queued mail) for rows due,
//! claims each by moving `claimed_until` forward with a conditional `UPDATE` (so of several
//! server processes only one sends it), sends it, and deletes it. A failure sets the next
//! attempt after a wait that doubles from `retry_first` to `retry_max`; after
//! `max_attempts` the mail is given up and logged. A mail server that is down costs one
//! connection attempt per round: the round stops at the first failure.

use std::str::FromStr;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Address, AsyncTransport, Message};
use sqlx::Row;

use super::Mailer;
use crate::api::accounts::{limits::ms, random_hex};
use crate::api::now_ms;
use crate::store::Store;

/// Mails one round of the sender takes at most.
const ROUND: i64 = 50;
/// The longest stored error of a failed attempt, in characters.
const ERROR_CHARS: usize = 500;

/// One mail: to one address, plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues `mails` inside `tx` (the caller commits, then calls [`Mailer::wake`]). Returns how
/// many were queued: fewer when the outbox is full (logged).
pub async fn queue(
    tx: &mut sqlx::AnyConnection,
    mailer: &Mailer,
    mails: &[Mail],
) -> Result<usize, sqlx::Error> {
    if mails.is_empty() {
        return Ok(0);
    }
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&mut *tx)
        .await?;
    let room = usize::try_from(i64::from(mailer.config.limits.max_queued) - waiting).unwrap_or(0);
    if room < mails.len() {
        tracing::error!(
            "the mail outbox is full ({waiting} waiting): {} mail(s) dropped; is the mail server reachable?",
            mails.len() - room
        );
    }
    let now = now_ms();
    for mail in mails.iter().take(room) {
        let id = random_hex(16).map_err(|e| sqlx::Error::Protocol(e.message.into()))?;
        sqlx::query(
            "INSERT INTO mail_outbox (id, recipient, subject, body, created_at, attempts, next_at, claimed_until) \
             VALUES ($1, $2, $3, $4, $5, 0, $5, 0)",
        )
        .bind(id)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(room.min(mails.len()))
}

/// Sends queued mail until the store closes.
pub(crate) async fn send_loop(store: Store) {
    let Some(mailer) = store.mail().cloned() else {
        return;
    };
    let mut closing = store.closing();
    loop {
        if *closing.borrow() {
            return;
        }
        if let Err(e) = send_due(&store, &mailer).await {
            tracing::warn!("sending mail: {e}");
        }
        tokio::select! {
            _ = mailer.wake.notified() => {}
            _ = tokio::time::sleep(mailer.config.limits.poll) => {}
            _ = closing.changed() => return,
        }
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failures (at least one).
fn backoff(mailer: &Mailer, attempts: u32) -> i64 {
    let limits = &mailer.config.limits;
    let first = ms(limits.retry_first).max(1);
    let doubled = first.saturating_mul(1i64 << attempts.saturating_sub(1).min(30));
    doubled.min(ms(limits.retry_max).max(first))
}

/// One round: every mail due now, oldest first, until one fails.
async fn send_due(store: &Store, mailer: &Mailer) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let rows = sqlx::query(&format!(
        "SELECT id, recipient, subject, body, attempts FROM mail_outbox \
         WHERE next_at <= $1 AND claimed_until <= $1 ORDER BY next_at, created_at LIMIT {ROUND}"
    ))
    .bind(now)
    .fetch_all(store.pool())
    .await?;
    let limits = &mailer.config.limits;
    for row in rows {
        let id: String = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let now = now_ms();
        let claimed = sqlx::query(
            "UPDATE mail_outbox SET claimed_until = $1 WHERE id = $2 AND claimed_until <= $3",
        )
        .bind(now + ms(limits.claim))
        .bind(&id)
        .bind(now)
        .execute(store.pool())
        .await?;
        if claimed.rows_affected() != 1 {
            continue; // another process has it
        }
        let mail = Mail {
            to: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            body: row.try_get("body")?,
        };
        let sent = match message(mailer, &mail) {
            Ok(message) => {
                match tokio::time::timeout(limits.send_timeout, mailer.transport.send(message))
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("the mail server took too long to answer".into()),
                }
            }
            Err(e) => {
                // A mail that can never be made (a stored address that does not read).
                tracing::error!("a queued mail cannot be sent and is dropped: {e}");
                Ok(())
            }
        };
        match sent {
            Ok(()) => {
                sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
                    .bind(&id)
                    .execute(store.pool())
                    .await?;
            }
            Err(error) => {
                let attempts = u32::try_from(attempts)
                    .unwrap_or(u32::MAX)
                    .saturating_add(1);
                if attempts >= limits.max_attempts {
                    tracing::error!(
                        "gave up a mail \u{201c}{}\u{201d} after {attempts} attempts: {error}",
                        mail.subject
                    );
                    sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
                        .bind(&id)
                        .execute(store.pool())
                        .await?;
                } else {
                    let error: String = error.chars().take(ERROR_CHARS).collect();
                    if attempts == 1 {
                        tracing::warn!("a mail could not be sent yet, will retry: {error}");
                    }
                    sqlx::query(
                        "UPDATE mail_outbox SET attempts = $1, next_at = $2, claimed_until = 0, \
                         last_error = $3 WHERE id = $4",
                    )
                    .bind(i64::from(attempts))
                    .bind(now_ms() + backoff(mailer, attempts))
                    .bind(error)
                    .bind(&id)
                    .execute(store.pool())
                    .await?;
                }
                return Ok(());
            }
        }
    }
    Ok(())
}

fn message(mailer: &Mailer, mail: &Mail) -> Result<Message, String> {
    let to = Address::from_str(&mail.to).map_err(|e| format!("{:?}: {e}", mail.to))?;
    Message::builder()
        .from(mailer.config.from.clone())
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())
}
