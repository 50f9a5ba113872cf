//! Set-up codes: registration of a new site is closed to anyone without one.
//!
//! The server prints a fresh code at every start (`keyward-server setup-code` prints one and
//! exits); whoever runs the server gives it to the person putting a site on it. A code is 12
//! characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
//! `XXXX-XXXX-XXXX`: 31¹² (about 2⁵⁹) codes, far beyond online guessing. Only the SHA-256 of its normal form
//! (trimmed, upper case, no dashes or spaces) is stored, with an expiry
//! (`setup_code_valid`); a registration deletes it in the same transaction that stores the
//! site, so each code puts at most one site on the server. The code is checked before
//! anything else, so without one nobody learns whether a site or username exists.

use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use super::limits::ms;
use crate::api::{now_ms, ApiError};
use crate::store::Store;

/// Characters of a generated code: digits and capitals without 0, 1, I, L and O.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a code (and the fewest a chosen one may have).
pub const CODE_LEN: usize = 12;

/// Said when a registration's code is missing, wrong, used or expired.
pub const WRONG_CODE: &str = "That set-up code is not right or has expired. The person who runs the server sees a new one each time it starts.";

/// Why a set-up code could not be issued.
#[derive(Debug)]
pub enum SetupCodeError {
    /// A chosen code shorter than [`CODE_LEN`] after normalising.
    TooShort,
    /// A chosen code with a control character.
    Unreadable,
    Randomness(String),
    Database(sqlx::Error),
}

impl std::fmt::Display for SetupCodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupCodeError::TooShort => write!(
                f,
                "a set-up code needs at least {CODE_LEN} letters or digits (dashes and spaces do not count)"
            ),
            SetupCodeError::Unreadable => write!(f, "a set-up code cannot hold control characters"),
            SetupCodeError::Randomness(e) => write!(f, "no randomness for a set-up code: {e}"),
            SetupCodeError::Database(e) => write!(f, "cannot store a set-up code: {e}"),
        }
    }
}

impl std::error::Error for SetupCodeError {}

impl From<sqlx::Error> for SetupCodeError {
    fn from(e: sqlx::Error) -> Self {
        SetupCodeError::Database(e)
    }
}

/// A code's normal form: trimmed, upper case, without dashes and whitespace.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn code_hash(normal: &str) -> String {
    hex::encode(Sha256::digest(normal.as_bytes()))
}

/// `XXXXXXXXXXXX` as `XXXX-XXXX-XXXX`.
fn grouped(normal: &str) -> String {
    let chars: Vec<char> = normal.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Makes a set-up code valid for `setup_code_valid` and single use: `chosen` (at least 12
/// characters after normalising; tests and automation pass one) or a random one. Returns it
/// as people should type it, `XXXX-XXXX-XXXX`. Expired codes are deleted.
pub async fn issue_setup_code(
    store: &Store,
    chosen: Option<&str>,
) -> Result<String, SetupCodeError> {
    let normal = match chosen {
        Some(code) => {
            let normal = normalise_code(code);
            if normal.chars().any(char::is_control) {
                return Err(SetupCodeError::Unreadable);
            }
            if normal.chars().count() < CODE_LEN {
                return Err(SetupCodeError::TooShort);
            }
            normal
        }
        None => {
            let mut bytes = [0u8; CODE_LEN];
            getrandom::fill(&mut bytes).map_err(|e| SetupCodeError::Randomness(e.to_string()))?;
            // 31 symbols: reject bytes ≥ 248 (8 × 31) so every symbol is equally likely.
            let mut code = String::with_capacity(CODE_LEN);
            let mut pool = bytes.to_vec();
            while code.len() < CODE_LEN {
                let Some(b) = pool.pop() else {
                    let mut more = [0u8; CODE_LEN];
                    getrandom::fill(&mut more)
                        .map_err(|e| SetupCodeError::Randomness(e.to_string()))?;
                    pool.extend_from_slice(&more);
                    continue;
                };
                if usize::from(b) < 256 - 256 % ALPHABET.len() {
                    code.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
                }
            }
            code
        }
    };
    let now = now_ms();
    sqlx::query("DELETE FROM setup_codes WHERE expires_at <= $1")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query(
        "INSERT INTO setup_codes (code_hash, created_at, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (code_hash) DO UPDATE SET created_at = $2, expires_at = $3",
    )
    .bind(code_hash(&normal))
    .bind(now)
    .bind(now.saturating_add(ms(store.limits().setup_code_valid)))
    .execute(store.pool())
    .await?;
    Ok(grouped(&normal))
}

fn wrong_code() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, WRONG_CODE)
}

/// The stored hash of `code` if it is valid now; 403 otherwise. Checked first; the code is
/// used up by [`use_up`] inside the registration's transaction.
pub(crate) async fn check(store: &Store, code: &str) -> Result<String, ApiError> {
    let normal = normalise_code(code);
    if normal.chars().count() < CODE_LEN || normal.chars().count() > 200 {
        return Err(wrong_code());
    }
    let hash = code_hash(&normal);
    sqlx::query("SELECT 1 FROM setup_codes WHERE code_hash = $1 AND expires_at > $2")
        .bind(&hash)
        .bind(now_ms())
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(wrong_code)?;
    Ok(hash)
}

/// Deletes the code (by hash) inside `tx`; 403 if another registration used it first or it
/// expired meanwhile.
pub(crate) async fn use_up(tx: &mut sqlx::AnyConnection, hash: &str) -> Result<(), ApiError> {
    let used = sqlx::query("DELETE FROM setup_codes WHERE code_hash = $1 AND expires_at > $2")
        .bind(hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    if used.rows_affected() == 1 {
        Ok(())
    } else {
        Err(wrong_code())
    }
}
