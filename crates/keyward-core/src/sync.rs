//! The sync protocol, shared word for word by the app and the server.
//!
//! - Each device numbers the events it records 1, 2, 3 … (`n`). A **push** sends a batch of
//!   them; the server answers each with a [`Receipt`]: applied or conflict (with its place in
//!   the site's one global order, `pos`) or rejected with a reason. A change already seen is
//!   answered again with the same receipt, never applied twice.
//! - A **pull** returns the site's events after the device's cursor, in global order, plus the
//!   receipts of the device's own changes. The device shows the fold of those events with its
//!   still-pending changes replayed on top.
//! - Conflicts are not a separate record to ship: the fold of the one global order derives the
//!   same [`Conflict`](crate::Conflict)s on every device.

use crate::event::Event;
use crate::ids::{DeviceId, EventId, SiteId};
use crate::register::{Fit, Register};
use crate::role::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most changes one push may carry, and one pull page returns.
pub const BATCH: usize = 500;

/// The most characters a username may have (it is trimmed first).
pub const USERNAME_MAX_CHARS: usize = 64;
/// The fewest characters a new password may have…
pub const PASSWORD_MIN_CHARS: usize = 10;
/// …of which at least this many are not spaces.
pub const PASSWORD_MIN_NON_SPACE: usize = 8;
/// The most characters a password may have.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The strength a new password needs on zxcvbn's 0–4 scale (3: more than 10⁸ guesses),
/// judged by the server with the username, the person's name and the site's name as words
/// an attacker would try first.
pub const PASSWORD_MIN_SCORE: u8 = 3;
/// The password rule in words, for the app to show beside a new-password field (NCSC:
/// length over complexity, no forced symbols, no common passwords).
pub const PASSWORD_RULE: &str = "Use at least 10 characters that are hard to guess: three or four random words work well, like \u{2018}orange cloud ladder\u{2019}. Avoid common passwords and your name, username or site\u{2019}s name.";

/// One of a device's changes, numbered by that device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbered {
    pub n: u64,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub device: DeviceId,
    pub changes: Vec<Numbered>,
}

/// What became of one pushed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied {
        pos: u64,
    },
    /// Kept, at `pos`, but it broke a rule against what others did first: the fold records a
    /// conflict for a person to decide.
    Conflict {
        pos: u64,
    },
    /// Not kept: the reason says why, in plain words.
    Rejected {
        reason: String,
    },
}

impl Outcome {
    pub fn pos(&self) -> Option<u64> {
        match self {
            Outcome::Applied { pos } | Outcome::Conflict { pos } => Some(*pos),
            Outcome::Rejected { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub n: u64,
    pub event: EventId,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub receipts: Vec<Receipt>,
    /// The site's last position after this push.
    pub head: u64,
}

/// An event in the site's global order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logged {
    pub pos: u64,
    pub event: Event,
    /// What the server vouches for: whose sign-in sent it and when it arrived. The event's
    /// own `actor` and `at` are what the recording device claimed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Sent>,
}

/// The server's record of how an event reached it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The username whose session pushed it.
    pub by: String,
    /// That account's name when it pushed.
    pub name: String,
    /// When the server stored it, by the server's clock.
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Events after the cursor, in order; at most [`BATCH`].
    pub events: Vec<Logged>,
    /// The site's last position: more to pull while the last event's `pos` is below it.
    pub head: u64,
    /// Receipts of this device's changes numbered above the `since` it asked with.
    pub receipts: Vec<Receipt>,
}

impl Sent {
    /// An arrival this much later than the event's own time is shown in the history.
    pub const LATE_AFTER: chrono::Duration = chrono::Duration::hours(1);

    /// The account name to show beside the event's actor, when another sign-in sent it.
    pub fn other_sender(&self, actor: &str) -> Option<&str> {
        (self.name.trim() != actor.trim()).then_some(self.name.as_str())
    }

    /// When it reached the server, when that was much later than the device's claimed time
    /// (offline work, or a device clock that is wrong).
    pub fn late_arrival(&self, claimed: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let gap = self.at - claimed;
        (gap > Self::LATE_AFTER || gap < -Self::LATE_AFTER).then_some(self.at)
    }

    /// Whether the history has anything to say about it; devices keep only these.
    pub fn worth_showing(&self, event: &Event) -> bool {
        self.other_sender(&event.actor).is_some() || self.late_arrival(event.at).is_some()
    }
}

/// What a person signed in as: returned at sign-in and by `/api/me`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub site: SiteId,
    pub site_name: String,
}

/// `POST /api/sites`: a new site on the server with its first admin, signed in on `device`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSite {
    pub site: SiteId,
    pub site_name: String,
    pub username: String,
    pub name: String,
    pub password: String,
    pub device: DeviceId,
    /// The code the server's operator was given (printed at start, or by
    /// `keyward-server setup-code`): without it nobody can put a site on the server.
    #[serde(default)]
    pub setup_code: String,
}

/// `POST /api/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
    pub device: DeviceId,
}

/// A user as the admin's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub name: String,
    pub role: Role,
    /// Where mail for them goes (lost master keys, the overdue digest, password resets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/users`: a user the admin adds, with a first password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    /// Their e-mail address, if the admin knows it; empty or absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One signed-in device of an account: `GET /api/sessions` (one's own) and
/// `GET /api/users/{username}/sessions` (an admin's view of a user's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSession {
    /// Names the session for `DELETE /api/sessions/{id}`; not the token.
    pub id: String,
    pub device: DeviceId,
    pub signed_in: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    /// The session making this request.
    pub current: bool,
}

/// `PUT /api/password`: a person changes their own password; their other sessions end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// `PUT /api/users/{username}/password`: an admin sets a user's password; all of that
/// user's sessions end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub password: String,
}

/// `POST /api/stream-ticket`: a single-use ticket, valid for a minute, that opens
/// `GET /api/stream?ticket=` (an `EventSource` cannot send a header, and a token never goes
/// in a URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTicket {
    pub ticket: String,
}

/// `PUT /api/users/{username}`: a user's new role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub role: Role,
}

/// The most characters an e-mail address may have (RFC 5321's limit on a path).
pub const EMAIL_MAX_CHARS: usize = 254;

/// `GET /api/email` and the answer of `PUT /api/email` or `PUT /api/users/{username}/email`:
/// an account's e-mail address, if it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub email: Option<String>,
}

/// `PUT /api/email` (one's own) and `PUT /api/users/{username}/email` (an admin's): the new
/// address; empty removes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChange {
    pub email: String,
}

/// `GET /api/mail`: whether the server sends e-mail (the sign-in form offers "Forgot your
/// password?" only then).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailStatus {
    pub configured: bool,
}

/// `POST /api/password-reset`: "Forgot your password?". The answer is the same whether or not
/// the account exists or has an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequest {
    pub username: String,
}

/// `POST /api/password-reset/complete`: the one-time token from the mailed link and the new
/// password; every session of the account ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetComplete {
    pub token: String,
    pub password: String,
}

/// The server's judgement of a pushed change, before it is stored: the same rules the app
/// applied, checked against the site's register as it now stands.
pub fn judge(
    register: &Register,
    site: SiteId,
    device: DeviceId,
    role: Role,
    event: &Event,
) -> Result<bool, String> {
    if event.device != device {
        return Err("It was recorded on another device, so only that device can send it.".into());
    }
    role.check(event.change.action())?;
    event.check().map_err(|e| e.to_string())?;
    if let crate::event::Change::SiteCreated { site: created, .. } = &event.change {
        if *created != site || register.site(site).is_some() {
            return Err(
                "A site is created only once, by the device that registered it on the server."
                    .into(),
            );
        }
    } else if register.site(site).is_none() {
        return Err(
            "The site is not on the server yet: its admin's device must sync first. Try again later."
                .into(),
        );
    }
    match register.assess(&event.change) {
        Fit::Fits => Ok(false),
        Fit::Conflicts(_) => Ok(true),
        Fit::Unknown(why) => Err(format!("The server could not record it: {why}.")),
    }
}

/// What the server knows of a site's times when it judges a pushed event's claimed time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Times {
    /// When the site was created, as its `SiteCreated` event says.
    pub site_since: Option<DateTime<Utc>>,
    /// The latest time among the device's events already stored.
    pub device_last: Option<DateTime<Utc>>,
}

/// Checks the time a device claims for an event against sense. Work done offline reaches the
/// server later than it happened, so a claimed time is kept, but it may not be in the future
/// (beyond `skew` of the server's clock `now`), before the site was created, or before the
/// same device's earlier events (each less `skew`, for a clock nudged back a little).
pub fn check_time(
    event: &Event,
    now: DateTime<Utc>,
    skew: chrono::Duration,
    times: &Times,
) -> Result<(), String> {
    use crate::format::uk_date_time;
    let at = event.at;
    let fix = "Set the device's date and time correctly, then record it again.";
    if at > now + skew {
        return Err(format!(
            "Its device's clock dated it {}, which is in the future. {fix}",
            uk_date_time(&at)
        ));
    }
    if matches!(event.change, crate::event::Change::SiteCreated { .. }) {
        return Ok(());
    }
    if let Some(since) = times.site_since.filter(|since| at + skew < *since) {
        return Err(format!(
            "Its device's clock dated it {}, before the site was set up ({}). {fix}",
            uk_date_time(&at),
            uk_date_time(&since)
        ));
    }
    if let Some(last) = times.device_last.filter(|last| at + skew < *last) {
        return Err(format!(
            "Its device's clock dated it {}, before that device's earlier changes ({}). {fix}",
            uk_date_time(&at),
            uk_date_time(&last)
        ));
    }
    Ok(())
}
