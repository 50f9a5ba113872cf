//! What sign-in may cost: the password-hashing queue and the counting of failed sign-ins.
//!
//! **Hashing.** An argon2 hash takes ~19 MiB and tens of milliseconds of a core, so every
//! hash and verify (sign-in, the dummy verify for an unknown username, new users, password
//! changes and resets, site registration) runs through one [`HashQueue`] per process:
//! `hash_concurrency` at once; up to `hash_queue_len` more wait, each for at most
//! `hash_queue_wait`; anyone else is told at once that the server is busy (503, `Retry-After`).
//! A permit is held by the blocking task itself, so a dropped request cannot free a slot
//! while its hash still runs.
//!
//! **Failures.** An attempt is recorded *before* the password is checked (insert, then
//! count): under a race two attempts may both count each other, never neither, so at most the
//! limit of guesses are ever checked. Within `failure_window` an attempt is refused (429, the
//! row withdrawn: a refusal is not a failure) when the (username, address) pair has
//! `failures_per_account_address`, the address `failures_per_address`, or the username from
//! every address `failures_per_account`. A right password deletes its own attempt and the
//! pair's failures. So one address can guess a few times, then must wait; it cannot lock a
//! user out for people elsewhere (the per-account limit is set far higher and caps guessing
//! spread over many addresses). An unknown username is counted like a known one, so the
//! answers never tell them apart.
//!
//! **Bounds.** Usernames are at most 64 characters before anything is stored; rows older
//! than the window go (an indexed `DELETE … WHERE at <= cutoff`, at most once a minute per
//! process); and the table keeps at most `failure_records` rows, the oldest deleted first
//! (checked whenever this process's running estimate of the count passes the cap, and
//! exactly at each minute's clean-up).
//!
//! The client's address is [`ClientAddr`].

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::{random_hex, ClientAddr};
use crate::api::{now_ms, ApiError};
use crate::settings::Limits;
use crate::store::Store;

/// Said when the hashing queue is full or the wait is over.
pub const BUSY: &str = "The server is busy. Try again in a moment.";
/// The `Retry-After` of a busy answer, in seconds.
const BUSY_RETRY_SECS: u64 = 5;
/// How often a process deletes expired failure records.
const CLEANUP_EVERY_MS: i64 = 60_000;

/// Per-process state of sign-in's limits, kept in the [`Store`].
pub struct SignInGuards {
    hashing: HashQueue,
    /// When this process last deleted expired failure records (Unix ms).
    last_cleanup: AtomicI64,
    /// This process's estimate of the failure records stored (-1: not counted yet).
    rows_estimate: AtomicI64,
}

impl SignInGuards {
    pub fn new(limits: &Limits) -> SignInGuards {
        SignInGuards {
            hashing: HashQueue::new(limits),
            last_cleanup: AtomicI64::new(0),
            rows_estimate: AtomicI64::new(-1),
        }
    }

    pub fn hashing(&self) -> &HashQueue {
        &self.hashing
    }
}

/// The password-hashing queue (see the module's docs).
pub struct HashQueue {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
    gauge: Arc<Gauge>,
}

/// Hashes running now, the most ever at once, and how many finished: for tests and logs.
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicUsize,
}

/// Decrements a counter when dropped (a waiter leaving the queue, however it leaves).
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashQueue {
    fn new(limits: &Limits) -> HashQueue {
        HashQueue {
            permits: Arc::new(Semaphore::new(limits.hash_concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: limits.hash_queue_len,
            wait: limits.hash_queue_wait,
            gauge: Arc::default(),
        }
    }

    /// The most hashes that ever ran at once in this process.
    pub fn peak(&self) -> usize {
        self.gauge.peak.load(Ordering::Acquire)
    }

    /// Hashes and verifies finished in this process.
    pub fn done(&self) -> usize {
        self.gauge.done.load(Ordering::Acquire)
    }

    /// Runs `work` on a blocking thread once a permit is free; 503 when the queue is full or
    /// the wait runs out.
    async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(busy());
                }
                let _leave = Leave(&self.waiting);
                match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(busy()),
                }
            }
        };
        let gauge = self.gauge.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let now = gauge.running.fetch_add(1, Ordering::AcqRel) + 1;
            gauge.peak.fetch_max(now, Ordering::AcqRel);
            let out = work();
            gauge.running.fetch_sub(1, Ordering::AcqRel);
            gauge.done.fetch_add(1, Ordering::AcqRel);
            out
        })
        .await
        .map_err(ApiError::internal)
    }

    /// An argon2 hash of `password` (default parameters, a random salt).
    pub(crate) async fn hash(&self, password: String) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)
            .map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
        self.run(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| e.to_string())
        })
        .await?
        .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
    }

    /// Checks `password` against `hash`; with no user, against a dummy hash of the same cost
    /// (through the same queue), so neither the time nor the answer tells whether the
    /// username exists.
    pub(crate) async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, ApiError> {
        self.run(move || {
            let real = hash.is_some();
            let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
            let ok = PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            ok && real
        })
        .await
    }
}

/// A hash no password matches in practice, made once per process (inside the queue).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"keyward-no-user!").expect("16 bytes");
        Argon2::default()
            .hash_password(b"no such user", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn busy() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, BUSY).retry_after(BUSY_RETRY_SECS)
}

/// A recorded sign-in attempt (see [`begin`]).
pub struct Attempt {
    store: Store,
    id: String,
    username: String,
    address: String,
}

/// Whose failures a limit counts.
#[derive(Clone, Copy)]
enum Scope {
    /// One username from one address.
    Pair,
    /// One address, any usernames.
    Address,
    /// One username, from every address.
    Account,
}

impl Scope {
    /// The filter and its bound values (`$1`, `$2`, …); the next parameter's number.
    fn filter(self, attempt: &Attempt) -> (&'static str, Vec<&str>, usize) {
        match self {
            Scope::Pair => (
                "username = $1 AND address = $2",
                vec![attempt.username.as_str(), attempt.address.as_str()],
                3,
            ),
            Scope::Address => ("address = $1", vec![attempt.address.as_str()], 2),
            Scope::Account => ("username = $1", vec![attempt.username.as_str()], 2),
        }
    }
}

/// Records an attempt for `username` from `address` and counts; 429 (and the record
/// withdrawn) when a limit is reached. Call before checking the password.
pub async fn begin(
    store: &Store,
    username: &str,
    address: &ClientAddr,
) -> Result<Attempt, ApiError> {
    let limits = store.limits();
    let now = now_ms();
    let window = ms(limits.failure_window);
    let cutoff = now - window;
    let attempt = Attempt {
        store: store.clone(),
        id: random_hex(16)?,
        username: username.to_string(),
        address: address.0.clone(),
    };
    sqlx::query("INSERT INTO login_failures (id, username, address, at) VALUES ($1, $2, $3, $4)")
        .bind(&attempt.id)
        .bind(&attempt.username)
        .bind(&attempt.address)
        .bind(now)
        .execute(store.pool())
        .await?;
    upkeep(store, now, cutoff).await?;

    let checks = [
        (
            Scope::Pair,
            limits.failures_per_account_address,
            "Too many wrong passwords for this username. Wait {wait}, then try again, or ask your site's admin.",
        ),
        (
            Scope::Address,
            limits.failures_per_address,
            "Too many wrong passwords from this network. Wait {wait}, then try again.",
        ),
        (
            Scope::Account,
            limits.failures_per_account,
            "Too many wrong passwords for this username from many places. Wait {wait}, then try again, or ask your site's admin.",
        ),
    ];
    for (scope, limit, message) in checks {
        let limit = i64::from(limit.max(1));
        let (filter, values, next) = scope.filter(&attempt);
        // The count includes this attempt: refused when the earlier ones reach the limit.
        let sql = format!("SELECT COUNT(*) FROM login_failures WHERE {filter} AND at > ${next}");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for value in &values {
            query = query.bind(*value);
        }
        let n = query.bind(cutoff).fetch_one(store.pool()).await?;
        if n <= limit {
            continue;
        }
        // The earlier failures must fall to limit - 1: the (n - limit)th oldest must go.
        let sql = format!(
            "SELECT at FROM login_failures WHERE {filter} AND at > ${next} AND id <> ${} \
             ORDER BY at LIMIT 1 OFFSET {}",
            next + 1,
            n - limit - 1
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for value in &values {
            query = query.bind(*value);
        }
        let oldest = query
            .bind(cutoff)
            .bind(&attempt.id)
            .fetch_optional(store.pool())
            .await?
            .unwrap_or(now);
        attempt.withdraw().await;
        let wait = (oldest + window - now).max(1_000);
        let minutes = (wait + 59_999) / 60_000;
        let words = if minutes == 1 {
            "1 minute".to_string()
        } else {
            format!("{minutes} minutes")
        };
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            message.replace("{wait}", &words),
        )
        .retry_after(u64::try_from(wait / 1000).unwrap_or(1)));
    }
    Ok(attempt)
}

impl Attempt {
    /// Takes the record back: the attempt was not judged (busy) or was refused outright.
    pub async fn withdraw(self) {
        let deleted = sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(&self.id)
            .execute(self.store.pool())
            .await;
        if let Err(e) = deleted {
            // Left in place it only counts once too often, which is safe.
            tracing::warn!(error = %e, "cannot withdraw a sign-in attempt");
        }
    }

    /// The password was right: this attempt and the pair's earlier failures are forgotten.
    pub async fn succeeded(self) -> Result<(), ApiError> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
            .bind(&self.username)
            .bind(&self.address)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// The password was wrong: the record stays as a failure.
    pub fn failed(self) {}
}

/// Deletes expired failure records at most once a minute per process, and keeps the table
/// within `failure_records` rows (the oldest go first).
async fn upkeep(store: &Store, now: i64, cutoff: i64) -> Result<(), ApiError> {
    let guards = store.sign_in_guards();
    let cap = i64::from(store.limits().failure_records.max(1));
    let last = guards.last_cleanup.load(Ordering::Acquire);
    let due = now - last >= CLEANUP_EVERY_MS
        && guards
            .last_cleanup
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
    if due {
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(cutoff)
            .execute(store.pool())
            .await?;
    }
    let estimate = guards.rows_estimate.fetch_add(1, Ordering::AcqRel) + 1;
    if !due && estimate > 0 && estimate <= cap {
        return Ok(());
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
        .fetch_one(store.pool())
        .await?;
    if rows > cap {
        sqlx::query(&format!(
            "DELETE FROM login_failures WHERE id IN \
             (SELECT id FROM login_failures ORDER BY at, id LIMIT {})",
            rows - cap
        ))
        .execute(store.pool())
        .await?;
    }
    guards.rows_estimate.store(rows.min(cap), Ordering::Release);
    Ok(())
}

/// A duration in milliseconds, as the database stores times.
pub(crate) fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}
