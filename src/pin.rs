//! The PIN that switches between people on a shared device, and what it protects.
//!
//! **Threat model.** A ward tablet is shared: several people sign in on it and switch between
//! them with a PIN, offline too. The PIN stops a colleague who picks up the tablet from
//! reading or using another person's sign-in: an account with a PIN keeps its session token
//! only encrypted (AES-GCM under a key derived from the PIN by PBKDF2-SHA-256, 600,000
//! iterations, a random salt; a random IV each time), never the PIN or a fast hash of it. Only
//! the account in use has its token decrypted, in memory (`AppState::unlocked`); an account
//! without a PIN keeps its token in clear in localStorage. Five wrong PINs in the app wipe the
//! encrypted token: that person signs in again with their password, and the changes they
//! recorded wait in the outbox until then. The PIN does **not** protect against someone who
//! copies the browser profile and has unlimited time: they can try every PIN offline against
//! the stored ciphertext (a 4–6 digit PIN falls within minutes on a graphics card; the wrong-PIN
//! count is in the same profile and can be reset), nor the register itself, which is not encrypted on the device.
//! A device passcode, and signing out on devices one does not control, cover those. The
//! server is the second line: an admin can end a lost device's session, and idle sessions end.

use crate::settings::Sealed;
use crate::state::AppState;
use js_sys::{Array, Reflect, Uint8Array};
use leptos::prelude::{untrack, Set, Update, With, WithUntracked};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesDerivedKeyParams, AesGcmParams, CryptoKey, Pbkdf2Params, SubtleCrypto};

/// Which token can be used now: the only way the app reads one.
impl AppState {
    /// The token of the account in use, when it can be used now: in clear (no PIN), or
    /// decrypted with its PIN in this tab. `None` while its PIN has not been entered here,
    /// or once its session has ended.
    pub fn token(&self) -> Option<String> {
        let account = self.settings.with(|s| s.active.clone())?;
        self.token_of(&account)
    }

    pub fn token_untracked(&self) -> Option<String> {
        untrack(|| self.token())
    }

    /// The token that sends `username`'s changes now, if any (tracked).
    pub fn token_of(&self, username: &str) -> Option<String> {
        let account = self
            .settings
            .with(|s| s.accounts.iter().find(|a| a.username == username).cloned())?;
        let sealed = account.has_pin();
        account.token.or_else(|| {
            self.unlocked.with(|u| {
                u.as_ref()
                    .filter(|(who, _)| *who == username && sealed)
                    .map(|(_, token)| token.clone())
            })
        })
    }

    /// Whether the account in use has a PIN that has not been entered in this tab yet.
    pub fn locked(&self) -> bool {
        self.account()
            .is_some_and(|a| a.has_pin() && self.token().is_none())
    }

    /// Holds `username`'s decrypted token in memory (they are the person using the device).
    pub fn unlock_in_memory(&self, username: String, token: String) {
        self.unlocked.set(Some((username, token)));
    }

    /// Forgets the decrypted token.
    pub fn lock(&self) {
        self.unlocked.set(None);
    }
}

/// PBKDF2-SHA-256 iterations for a new seal (OWASP's figure for 2023).
pub const ITERATIONS: u32 = 600_000;
/// Wrong PINs in a row that wipe an account's sealed token.
pub const MAX_FAILURES: u32 = 5;

/// A PIN is 4 to 8 digits.
pub fn check(pin: &str) -> Result<(), String> {
    if (4..=8).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("A PIN is 4 to 8 digits.".into())
    }
}

/// Sets or changes the PIN of the account in use: its token (which must be usable now) is
/// sealed under `pin` and taken out of clear storage; it stays decrypted in memory.
pub async fn set(state: AppState, pin: &str) -> Result<(), String> {
    check(pin)?;
    let Some(account) = state.account_untracked() else {
        return Err("Sign in first.".into());
    };
    let Some(token) = state.token_untracked() else {
        return Err(if account.has_pin() {
            "Enter your current PIN first (above), then choose a new one.".into()
        } else {
            "Your sign-in has ended. Sign in again, then set a PIN.".into()
        });
    };
    let sealed = seal(pin, &token, &account.username).await?;
    let username = account.username.clone();
    state.settings.update(|s| {
        if let Some(a) = s.account_mut(&username) {
            a.sealed = Some(sealed);
            a.token = None;
        }
    });
    state.unlock_in_memory(username, token);
    Ok(())
}

/// Opens `username`'s sealed token with `pin` and makes them the person using the device.
/// A wrong PIN counts; the fifth in a row wipes the sealed token.
pub async fn unlock(state: AppState, username: &str, pin: &str) -> Result<(), String> {
    let Some(account) = state
        .settings
        .with_untracked(|s| s.accounts.iter().find(|a| a.username == username).cloned())
    else {
        return Err("That person is no longer signed in on this device.".into());
    };
    let Some(sealed) = account.sealed.clone() else {
        return Err(format!(
            "{} has no PIN on this device. They sign in with their password below.",
            account.name
        ));
    };
    match open(&sealed, pin.trim(), username).await {
        Ok(token) => {
            state.settings.update(|s| {
                if let Some(a) = s.account_mut(username) {
                    if let Some(sealed) = a.sealed.as_mut() {
                        sealed.failures = 0;
                    }
                }
                s.active = Some(username.to_string());
            });
            state.unlock_in_memory(username.to_string(), token);
            Ok(())
        }
        Err(Opened::Wrong) => {
            let failures = sealed.failures + 1;
            state.settings.update(|s| {
                if let Some(a) = s.account_mut(username) {
                    if failures >= MAX_FAILURES {
                        a.sealed = None;
                        a.token = None;
                    } else if let Some(sealed) = a.sealed.as_mut() {
                        sealed.failures = failures;
                    }
                }
            });
            Err(if failures >= MAX_FAILURES {
                format!(
                    "Wrong PIN {MAX_FAILURES} times, so {name}'s sign-in on this device was wiped. {name} signs in again with their password; changes they recorded here are kept and sent once they do.",
                    name = account.name
                )
            } else {
                let left = MAX_FAILURES - failures;
                format!(
                    "That PIN is not right. {left} {} left before {}'s sign-in on this device is wiped.",
                    if left == 1 { "try" } else { "tries" },
                    account.name
                )
            })
        }
        Err(Opened::Broken(message)) => Err(message),
    }
}

enum Opened {
    Wrong,
    Broken(String),
}

fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(|| {
            "This browser has no cryptography: a PIN cannot be used here.".to_string()
        })?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).unwrap_or(JsValue::UNDEFINED);
    if subtle.is_undefined() {
        return Err("A PIN needs a secure connection (https) to the Keyward server. Ask whoever runs it to set up https.".into());
    }
    Ok(subtle.unchecked_into())
}

fn random(n: usize) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0; n];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .ok_or_else(|| "This browser gave no random numbers. Try again.".to_string())?;
    Ok(bytes)
}

fn failed(what: &str) -> impl Fn(JsValue) -> String + '_ {
    move |e| {
        web_sys::console::warn_2(&what.into(), &e);
        format!(
            "This browser could not {what}. Try again; if it keeps happening, use another browser."
        )
    }
}

/// The AES-GCM key derived from `pin` and `salt`.
async fn derive(
    subtle: &SubtleCrypto,
    pin: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey, String> {
    let usages = |names: &[&str]| {
        names
            .iter()
            .map(|n| JsValue::from_str(n))
            .collect::<Array>()
    };
    let raw = Uint8Array::from(pin.as_bytes());
    let base = subtle
        .import_key_with_str("raw", &raw, "PBKDF2", false, &usages(&["deriveKey"]))
        .map_err(failed("prepare the PIN"))?;
    let base: CryptoKey = JsFuture::from(base)
        .await
        .map_err(failed("prepare the PIN"))?
        .unchecked_into();
    let params =
        Pbkdf2Params::new_with_str("PBKDF2", "SHA-256", iterations, &Uint8Array::from(salt));
    let key = subtle
        .derive_key_with_object_and_object(
            &params,
            &base,
            &AesDerivedKeyParams::new("AES-GCM", 256),
            false,
            &usages(&["encrypt", "decrypt"]),
        )
        .map_err(failed("derive a key from the PIN"))?;
    Ok(JsFuture::from(key)
        .await
        .map_err(failed("derive a key from the PIN"))?
        .unchecked_into())
}

/// AES-GCM parameters: the IV, and the username as associated data (so a sealed token
/// cannot be moved to another account).
fn gcm(iv: &[u8], username: &str) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    params.set_additional_data(&Uint8Array::from(username.as_bytes()));
    params
}

async fn seal(pin: &str, token: &str, username: &str) -> Result<Sealed, String> {
    let subtle = subtle()?;
    let (salt, iv) = (random(16)?, random(12)?);
    let key = derive(&subtle, pin, &salt, ITERATIONS).await?;
    let sealed = subtle
        .encrypt_with_object_and_u8_array(&gcm(&iv, username), &key, token.as_bytes())
        .map_err(failed("encrypt the sign-in"))?;
    let sealed = JsFuture::from(sealed)
        .await
        .map_err(failed("encrypt the sign-in"))?;
    Ok(Sealed {
        salt: hex(&salt),
        iv: hex(&iv),
        ciphertext: hex(&Uint8Array::new(&sealed).to_vec()),
        iterations: ITERATIONS,
        failures: 0,
    })
}

async fn open(sealed: &Sealed, pin: &str, username: &str) -> Result<String, Opened> {
    let subtle = subtle().map_err(Opened::Broken)?;
    let broken = || {
        Opened::Broken(
            "The PIN data on this device is damaged. Sign in again with your password.".into(),
        )
    };
    let (salt, iv, data) = (
        unhex(&sealed.salt).ok_or_else(broken)?,
        unhex(&sealed.iv).ok_or_else(broken)?,
        unhex(&sealed.ciphertext).ok_or_else(broken)?,
    );
    let key = derive(&subtle, pin, &salt, sealed.iterations)
        .await
        .map_err(Opened::Broken)?;
    let opened = subtle
        .decrypt_with_object_and_u8_array(&gcm(&iv, username), &key, &data)
        .map_err(|e| Opened::Broken(failed("decrypt the sign-in")(e)))?;
    // A wrong key fails AES-GCM's authentication: the only way decrypting fails here.
    let opened = JsFuture::from(opened).await.map_err(|_| Opened::Wrong)?;
    String::from_utf8(Uint8Array::new(&opened).to_vec()).map_err(|_| broken())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
