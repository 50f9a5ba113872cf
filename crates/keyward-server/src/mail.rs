//! E-mail: what must reach a person who is not looking at the app.
//!
//! - A **lost master key**, to the site's admins, as soon as the push that reports it is
//!   stored ([`alerts`]).
//! - A **daily digest of overdue keys**, to each site's admins and key custodians, at
//!   `--digest-hour` in the server's local time ([`digest`]).
//! - **Password resets**: the one-time link of "Forgot your password?", and a note to a person
//!   whose password an admin set (`api::accounts::reset`).
//!
//! Mail is configured by the operator (`--smtp-url`, `--mail-from`, `--public-url`); without
//! it nothing is queued and the app works as before. Every mail is first a row of the
//! database's outbox, written in the same transaction as what caused it, so a mail server
//! that is down loses nothing; [`outbox`]'s background task sends the rows with retries and
//! a growing wait, and nothing a person does ever waits on SMTP. Several server processes
//! over one PostgreSQL share the outbox: a row is claimed before it is sent.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, Tokio1Executor};
use tokio::sync::Notify;

use crate::api::ApiError;
use crate::store::Store;

pub mod alerts;
pub mod digest;
pub mod outbox;

pub use outbox::{queue, Mail};

/// The operator's mail settings: the `--smtp-url`, `--mail-from`, `--public-url` and
/// `--digest-hour` flags, each with a `KEYWARD_…` environment variable.
#[derive(Clone, Debug, Default, clap::Args)]
#[command(next_help_heading = "E-mail")]
pub struct MailFlags {
    /// The mail server to send through: smtp://USER:PASSWORD@HOST:587 (STARTTLS, required),
    /// smtps://USER:PASSWORD@HOST:465 (TLS from the start), or smtp://HOST:PORT?tls=none
    /// (no encryption: only for a relay on this machine). Without it no mail is sent.
    #[arg(
        long,
        value_name = "URL",
        env = "KEYWARD_SMTP_URL",
        hide_env_values = true,
        requires_all = ["mail_from", "public_url"]
    )]
    pub smtp_url: Option<String>,
    /// The sender of every mail, e.g. "Keyward <keyward@school.example.org>".
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "KEYWARD_MAIL_FROM",
        requires = "smtp_url"
    )]
    pub mail_from: Option<String>,
    /// The address people open Keyward at, e.g. https://keys.school.example.org, for the
    /// links in mails.
    #[arg(long, value_name = "URL", env = "KEYWARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The hour (0-23, the server's local time) the daily digest of overdue keys is sent.
    #[arg(long, value_name = "HOUR", env = "KEYWARD_DIGEST_HOUR", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(0..24))]
    pub digest_hour: u32,
}

impl MailFlags {
    /// The settings, `None` when no `--smtp-url` is given; a sentence when one is wrong.
    pub fn config(&self) -> Result<Option<MailConfig>, String> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let from = self.mail_from.as_deref().unwrap_or_default();
        let public = self.public_url.as_deref().unwrap_or_default();
        let mut config = MailConfig::new(url, from, public)?;
        config.digest_hour = Some(self.digest_hour);
        Ok(Some(config))
    }
}

/// How mail is sent: checked settings, ready for [`start`].
#[derive(Clone, Debug)]
pub struct MailConfig {
    smtp: Smtp,
    pub from: Mailbox,
    /// The public address without a trailing slash, e.g. `https://keys.example.org`.
    pub public_url: String,
    /// The hour of the daily digest; `None`: no digest is scheduled (tests call
    /// [`digest::run`] themselves).
    pub digest_hour: Option<u32>,
    pub limits: MailLimits,
}

/// What the outbox may cost and how it retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailLimits {
    /// How often the sender looks for mail that is due (it is also woken when mail is queued).
    pub poll: Duration,
    /// The wait after a first failed attempt; it doubles with each further one…
    pub retry_first: Duration,
    /// …up to this.
    pub retry_max: Duration,
    /// Attempts before a mail is given up (and logged).
    pub max_attempts: u32,
    /// Mails waiting at most; more are refused (and logged), never the app's request.
    pub max_queued: u32,
    /// Time allowed for one mail's whole SMTP conversation.
    pub send_timeout: Duration,
    /// How long a process holds a mail it is sending before another may take it.
    pub claim: Duration,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits {
            poll: Duration::from_secs(15),
            retry_first: Duration::from_secs(30),
            retry_max: Duration::from_secs(60 * 60),
            // 30 s doubling to an hour, 30 times: about a day of trying.
            max_attempts: 30,
            max_queued: 10_000,
            send_timeout: Duration::from_secs(60),
            claim: Duration::from_secs(5 * 60),
        }
    }
}

/// The mail server, as lettre's connection URL, and the same without its password.
#[derive(Clone)]
struct Smtp {
    url: String,
    shown: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.write_str(&self.shown)
    }
}

impl MailConfig {
    /// Checks the three settings; the digest is not scheduled and the limits are the
    /// defaults.
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> Result<MailConfig, String> {
        let smtp = smtp(smtp_url)?;
        let from = Mailbox::from_str(from.trim()).map_err(|e| {
            format!(
                "--mail-from {from:?} is not an e-mail address ({e}): give one such as \
                 \"Keyward <keyward@school.example.org>\""
            )
        })?;
        Ok(MailConfig {
            smtp,
            from,
            public_url: public(public_url)?,
            digest_hour: None,
            limits: MailLimits::default(),
        })
    }

    /// The mail server's URL with any password replaced by `***`.
    pub fn smtp_shown(&self) -> &str {
        &self.smtp.shown
    }
}

/// `--smtp-url` checked and turned into lettre's form: `smtp://` without `tls` means STARTTLS
/// required (lettre's own default there is no encryption at all), `tls=none` means none,
/// which is refused with a password for a host beyond this machine.
fn smtp(text: &str) -> Result<Smtp, String> {
    let text = text.trim();
    let shown = crate::store::redact(text);
    let mut url = url::Url::parse(text).map_err(|e| {
        format!("--smtp-url {shown} is not a URL ({e}): give one such as smtp://user:password@mail.example.org:587")
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(format!(
            "--smtp-url {shown} has no mail server: give one such as smtp://user:password@mail.example.org:587"
        ));
    }
    let tls: Option<String> = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let scheme = url.scheme().to_string();
    let tls = match (scheme.as_str(), tls.as_deref()) {
        ("smtps", None) => None,
        ("smtp", None) => Some("required"),
        ("smtp", Some(t @ ("required" | "opportunistic" | "none"))) => Some(t),
        ("smtp" | "smtps", Some(other)) => {
            return Err(format!(
                "--smtp-url {shown}: tls={other} is not known; use tls=required (the default), tls=opportunistic or tls=none"
            ))
        }
        _ => {
            return Err(format!(
                "--smtp-url {shown} must start with smtp:// (STARTTLS) or smtps:// (TLS)"
            ))
        }
    };
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if tls == Some("none") && url.password().is_some() && !loopback {
        return Err(format!(
            "--smtp-url {shown}: tls=none would send the password unencrypted across the network; drop tls=none (STARTTLS) or use smtps://"
        ));
    }
    // lettre's form: plain is `smtp://` with no `tls`; the rest as given.
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "tls")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        for (k, v) in &others {
            query.append_pair(k, v);
        }
        if let Some(t) = tls.filter(|t| *t != "none") {
            if scheme == "smtp" {
                query.append_pair("tls", t);
            }
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    let url = url.to_string();
    // Checked now, so a mistake is reported at start rather than at the first mail.
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .map_err(|e| format!("--smtp-url {shown}: {e}"))?;
    Ok(Smtp { url, shown })
}

/// `--public-url` checked: http(s), a host, nothing after the path.
fn public(text: &str) -> Result<String, String> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| {
        format!("--public-url {text:?} is not a URL ({e}): give the address people open, such as https://keys.school.example.org")
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!(
            "--public-url {text:?} must be an https:// address people open, such as https://keys.school.example.org"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("--public-url {text:?} must not have a ? or # part"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The mail settings and sender of a running server, kept in the [`Store`].
pub struct Mailer {
    pub config: MailConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// Wakes the sender when a mail is queued.
    wake: Notify,
}

impl Mailer {
    /// Tells this process's sender that mail is waiting (after the queuing transaction
    /// commits; other processes find it at their next poll).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A link into the app: the public address and `path` (starting with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url)
    }
}

/// Keeps `config` in the store (so requests queue mail) and starts the sender and, when an
/// hour is set, the daily digest. Call once, within the Tokio runtime, before serving.
pub fn start(store: &Store, config: MailConfig) -> Result<(), String> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp.url)
        .map_err(|e| format!("--smtp-url {}: {e}", config.smtp.shown))?
        .timeout(Some(config.limits.send_timeout))
        .build();
    let hour = config.digest_hour;
    let mailer = Arc::new(Mailer {
        config,
        transport,
        wake: Notify::new(),
    });
    if !store.set_mail(mailer) {
        return Err("mail is already set up for this server".into());
    }
    tokio::spawn(outbox::send_loop(store.clone()));
    if let Some(hour) = hour {
        tokio::spawn(digest::daily(store.clone(), hour));
    }
    Ok(())
}

/// An e-mail address as a person typed it, checked: `None` when empty (no address), else
/// the trimmed address; 400 with what is wrong.
pub fn checked_email(text: &str) -> Result<Option<String>, ApiError> {
    use keyward_core::sync::EMAIL_MAX_CHARS;
    use lettre::address::AddressError;
    const LIKE: &str = "like name@school.example.org";
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > EMAIL_MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "That e-mail address is too long: an address has at most {EMAIL_MAX_CHARS} characters."
        )));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "An e-mail address has no spaces in it. Check it and enter just the address, {LIKE}."
        )));
    }
    if text.contains(['<', '>', ',', ';']) {
        return Err(ApiError::bad_request(format!(
            "That is not one e-mail address. Enter just the address, without < > , or ;, {LIKE}."
        )));
    }
    let parts = text.rsplit_once('@');
    let missing = parts.is_none_or(|(user, domain)| user.is_empty() || domain.is_empty());
    match Address::from_str(text) {
        Ok(address) => Ok(Some(address.to_string())),
        Err(_) if missing => Err(ApiError::bad_request(format!(
            "Enter the whole e-mail address, with an @ and the part after it, {LIKE}."
        ))),
        Err(AddressError::MissingParts) => Err(ApiError::bad_request(format!(
            "Enter the whole e-mail address, with an @ and the part after it, {LIKE}."
        ))),
        Err(AddressError::InvalidUser) => Err(ApiError::bad_request(format!(
            "The part before the @ cannot be part of an e-mail address. Check it, {LIKE}."
        ))),
        Err(AddressError::InvalidDomain) => Err(ApiError::bad_request(format!(
            "The part after the @ is not a mail domain. Check it, {LIKE}."
        ))),
        Err(_) => Err(ApiError::bad_request(format!(
            "That is not an e-mail address. Enter just the address, {LIKE}."
        ))),
    }
}

/// Site time, as the app reads it: the server's local time.
pub(crate) fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    keyward_core::format::uk_date_time(&at.with_timezone(&chrono::Local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_become_lettres_with_starttls_by_default() {
        let url = |t: &str| smtp(t).map(|s| s.url);
        assert_eq!(
            url("smtp://u:p@mail.example.org:587").unwrap(),
            "smtp://u:p@mail.example.org:587?tls=required"
        );
        assert_eq!(
            url("smtps://u:p@mail.example.org").unwrap(),
            "smtps://u:p@mail.example.org"
        );
        assert_eq!(
            url("smtp://127.0.0.1:2525?tls=none").unwrap(),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            url("smtp://mail.example.org?tls=opportunistic").unwrap(),
            "smtp://mail.example.org?tls=opportunistic"
        );
        // A password in clear across the network; unknown forms; no host.
        let refused = url("smtp://u:secret@mail.example.org:25?tls=none").unwrap_err();
        assert!(refused.contains("unencrypted"), "{refused}");
        assert!(!refused.contains("secret"), "{refused}");
        assert!(url("smtp://u:p@127.0.0.1:25?tls=none").is_ok());
        assert!(url("http://mail.example.org").is_err());
        assert!(url("smtp://mail.example.org?tls=maybe").is_err());
        assert!(url("smtp://").is_err());
        // The password never shows.
        let config = MailConfig::new(
            "smtp://u:secret@mail.example.org:587",
            "Keyward <k@example.org>",
            "https://keys.example.org/",
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("secret"));
        assert_eq!(config.smtp_shown(), "smtp://u:***@mail.example.org:587");
        assert_eq!(config.public_url, "https://keys.example.org");
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        mail: MailFlags,
    }

    /// The flags parsed, the `KEYWARD_…` variables ignored.
    fn parse(args: &[&str]) -> Result<Option<MailConfig>, String> {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(std::iter::once("keyward-server").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        cli.mail.config()
    }

    #[test]
    fn flags_go_together() {
        assert!(parse(&[]).unwrap().is_none(), "no SMTP, no mail");
        let full = [
            "--smtp-url=smtps://u:p@mail.example.org",
            "--mail-from=Keyward <k@example.org>",
            "--public-url=https://keys.example.org",
        ];
        let config = parse(&full).unwrap().unwrap();
        assert_eq!(config.digest_hour, Some(7));
        let config = parse(&[&full[..], &["--digest-hour", "18"]].concat())
            .unwrap()
            .unwrap();
        assert_eq!(config.digest_hour, Some(18));
        assert!(parse(&[&full[..], &["--digest-hour", "24"]].concat()).is_err());
        assert!(parse(&full[..2]).is_err(), "no public address");
        assert!(parse(&full[1..]).is_err(), "an address but no server");
        let help = {
            use clap::CommandFactory;
            Cli::command().render_long_help().to_string()
        };
        for env in [
            "KEYWARD_SMTP_URL",
            "KEYWARD_MAIL_FROM",
            "KEYWARD_PUBLIC_URL",
            "KEYWARD_DIGEST_HOUR",
        ] {
            assert!(help.contains(env), "{env}: {help}");
        }
    }

    #[test]
    fn public_and_from_are_checked() {
        let new = |from: &str, public: &str| MailConfig::new("smtp://m.example.org", from, public);
        assert!(new("k@example.org", "https://keys.example.org").is_ok());
        assert!(new("not an address", "https://keys.example.org").is_err());
        assert!(new("k@example.org", "keys.example.org").is_err());
        assert!(new("k@example.org", "ftp://keys.example.org").is_err());
        assert!(new("k@example.org", "https://keys.example.org/?x=1").is_err());
    }

    #[test]
    fn addresses_are_checked_in_words() {
        assert_eq!(checked_email("  ").unwrap(), None);
        assert_eq!(
            checked_email(" pat@school.example.org ")
                .unwrap()
                .as_deref(),
            Some("pat@school.example.org")
        );
        for (bad, says) in [
            ("pat", "whole e-mail address"),
            ("pat@", "whole e-mail address"),
            ("pat smith@school.org", "no spaces"),
            ("pat@@school.org", "before the @"),
            ("pat@school..org", "after the @"),
            ("<pat@school.org", "just the address"),
            ("pat@school.org, jo@school.org", "just the address"),
        ] {
            let e = checked_email(bad).expect_err(bad);
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(checked_email(&long)
            .unwrap_err()
            .message
            .contains("too long"));
    }
}
